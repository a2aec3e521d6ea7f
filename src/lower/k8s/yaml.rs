//! YAML output that means the same to every Kubernetes client.
//!
//! The printer exists because serde_yaml follows YAML 1.2 and leaves `on`,
//! `yes`, `no`, `y`, `12:30` or `1_000` unquoted, while kubectl and client-go
//! read YAML 1.1 (sigs.k8s.io/yaml), where those are booleans and integers:
//! an env value `on` would fail to decode, a namespace `no` would become
//! `false`. No serde YAML crate quotes them, so this printer quotes every
//! string that any YAML version could read as something else. Layout follows
//! kubectl: two-space indentation, sequences at their key's indentation,
//! multi-line strings as literal blocks.
//!
//! Objects go through a `serde::Serializer` that writes the text in one pass,
//! with no tree in between: building a `serde_json::Value` (an IndexMap per
//! object) only to print it cost more than the printing did. The serializer
//! keeps the JSON data model Kubernetes uses, exactly as `serde_json::Value`
//! would hold it (unit and `None` are `null`, a unit variant is its name, a
//! newtype variant a map of one key, bytes a sequence of numbers, numbers
//! print as `serde_json::Number` prints them), so the output is the same as
//! printing that `Value` (but for a repeated key, see `Writer::keys`); the
//! tests keep the old printer and compare the two. One thing a single pass
//! cannot know up front is whether a map or sequence is empty (`key: {}` on
//! one line, or the entries on the next ones), so a container writes its
//! opening on its first entry, and `{}`/`[]` at its end if there was none.

use serde::ser::{self, Impossible, Serialize};
use serde_json::Error;

/// Serializes a value as a YAML document.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let mut out = String::with_capacity(1024);
    append(&mut out, value)?;
    Ok(out)
}

/// Appends a value's YAML document to `out`, so that a file with a header
/// comment is built in one buffer. After an error `out` holds part of it.
pub fn append<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Error> {
    let mut w = Writer {
        out: std::mem::take(out),
        keys: Vec::new(),
    };
    let result = value.serialize(Ser {
        w: &mut w,
        place: Place::Top,
    });
    *out = w.out;
    result
}

struct Writer {
    out: String,
    /// Where the keys of the maps being written are in `out`, innermost map
    /// last. A map that repeats a key, which only a hand-written `Serialize`
    /// or colliding `#[serde(flatten)]` fields can produce (none in
    /// types.rs), is an error here: a `Value` kept one entry per key, the
    /// last value at the first key's place, and so dropped the other value
    /// without a word.
    keys: Vec<(usize, usize)>,
}

/// Where a value is written: what precedes it decides how it starts.
#[derive(Clone, Copy)]
enum Place {
    /// The document itself.
    Top,
    /// After `key:`, the key at this indentation.
    Value(usize),
    /// After `-`, the dash at this indentation.
    Item(usize),
}

/// How a map or sequence starts, written on its first entry.
#[derive(Clone, Copy)]
struct Open {
    /// The indentation of the entries.
    indent: usize,
    /// What goes before the first entry.
    prefix: &'static str,
    /// Whether the first entry is indented (not for a map's first key on a
    /// sequence's dash line).
    pad_first: bool,
    /// The whole container when it has no entries.
    empty: &'static str,
}

impl Place {
    fn map(self) -> Open {
        match self {
            Place::Top => Open {
                indent: 0,
                prefix: "",
                pad_first: true,
                empty: "{}\n",
            },
            Place::Value(i) => Open {
                indent: i + 2,
                prefix: "\n",
                pad_first: true,
                empty: " {}\n",
            },
            // The first key goes on the dash's line.
            Place::Item(i) => Open {
                indent: i + 2,
                prefix: " ",
                pad_first: false,
                empty: " {}\n",
            },
        }
    }

    fn seq(self) -> Open {
        let (indent, prefix, empty) = match self {
            Place::Top => (0, "", "[]\n"),
            // kubectl style: a map's sequence sits at the key's indentation.
            Place::Value(i) => (i, "\n", " []\n"),
            Place::Item(i) => (i + 2, "\n", " []\n"),
        };
        Open {
            indent,
            prefix,
            pad_first: true,
            empty,
        }
    }
}

/// The serializer for one value at one place.
struct Ser<'a> {
    w: &'a mut Writer,
    place: Place,
}

impl<'a> Ser<'a> {
    /// A scalar: after a key or dash on the same line, ending it.
    fn scalar(self, f: impl FnOnce(&mut String, usize)) -> Result<(), Error> {
        let out = &mut self.w.out;
        match self.place {
            Place::Top => f(out, 0),
            Place::Value(i) | Place::Item(i) => {
                out.push(' ');
                f(out, i);
            }
        }
        out.push('\n');
        Ok(())
    }

    fn str(self, s: &str) -> Result<(), Error> {
        self.scalar(|out, indent| string(out, s, indent, true))
    }

    fn u64(self, v: u64) -> Result<(), Error> {
        self.scalar(|out, _| push_u64(out, v))
    }

    fn i64(self, v: i64) -> Result<(), Error> {
        self.scalar(|out, _| {
            if v < 0 {
                out.push('-');
            }
            push_u64(out, v.unsigned_abs());
        })
    }

    /// A number outside `serde_json::Number`'s fast paths (128-bit integers,
    /// floats), printed by serde_json: NaN and infinities become `null`, as
    /// `Value` has no place for them.
    fn number(self, v: serde_json::Value) -> Result<(), Error> {
        self.scalar(|out, _| match v {
            serde_json::Value::Number(n) => out.push_str(&n.to_string()),
            _ => out.push_str("null"),
        })
    }

    fn compound(self, open: Open) -> Compound<'a> {
        Compound {
            keys: self.w.keys.len(),
            w: self.w,
            open,
            started: false,
        }
    }

    /// The start of a variant's map of one key (the variant's name); returns
    /// where its value goes.
    fn variant(self, variant: &str) -> (&'a mut Writer, Place) {
        let open = self.place.map();
        let out = &mut self.w.out;
        out.push_str(open.prefix);
        if open.pad_first {
            pad(out, open.indent);
        }
        string(out, variant, open.indent, false);
        out.push(':');
        (self.w, Place::Value(open.indent))
    }
}

impl<'a> ser::Serializer for Ser<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar(|out, _| out.push_str(if v { "true" } else { "false" }))
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.i64(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.i64(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.i64(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.i64(v)
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.number(serde_json::value::Serializer.serialize_i128(v)?)
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.u64(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.u64(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.u64(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.u64(v)
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.number(serde_json::value::Serializer.serialize_u128(v)?)
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.number(serde_json::Value::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.number(serde_json::Value::from(v))
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.str(v)
    }

    /// A sequence of numbers, as in `Value`.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar(|out, _| out.push_str("null"))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let (w, place) = self.variant(variant);
        value.serialize(Ser { w, place })
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, Error> {
        let open = self.place.seq();
        Ok(self.compound(open))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(None)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Error> {
        self.serialize_seq(None)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Error> {
        let (w, place) = self.variant(variant);
        Ser { w, place }.serialize_seq(None)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, Error> {
        let open = self.place.map();
        Ok(self.compound(open))
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_map(None)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Error> {
        let (w, place) = self.variant(variant);
        Ser { w, place }.serialize_map(None)
    }
}

/// A map or sequence being written.
struct Compound<'a> {
    w: &'a mut Writer,
    open: Open,
    /// Whether an entry was written (and with it the opening).
    started: bool,
    /// Where this map's keys start in `Writer::keys`.
    keys: usize,
}

impl Compound<'_> {
    /// Indents the next entry, after the opening on the first.
    fn entry(&mut self) {
        let out = &mut self.w.out;
        if self.started {
            pad(out, self.open.indent);
        } else {
            self.started = true;
            out.push_str(self.open.prefix);
            if self.open.pad_first {
                pad(out, self.open.indent);
            }
        }
    }

    fn key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), Error> {
        self.entry();
        let start = self.w.out.len();
        key.serialize(KeySer {
            out: &mut self.w.out,
        })?;
        let end = self.w.out.len();
        let text = &self.w.out[start..end];
        if self.w.keys[self.keys..]
            .iter()
            .any(|&(a, b)| &self.w.out[a..b] == text)
        {
            return Err(ser::Error::custom(format_args!("duplicate key {text}")));
        }
        self.w.keys.push((start, end));
        self.w.out.push(':');
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(Ser {
            w: self.w,
            place: Place::Value(self.open.indent),
        })
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.entry();
        self.w.out.push('-');
        value.serialize(Ser {
            w: self.w,
            place: Place::Item(self.open.indent),
        })
    }

    fn end(self) -> Result<(), Error> {
        if !self.started {
            self.w.out.push_str(self.open.empty);
        }
        self.w.keys.truncate(self.keys);
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.value(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.key(key)?;
        self.value(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.key(key)?;
        self.value(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

/// A map key: a string, quoted like values but never as a block. Keys that
/// are no string (numbers, booleans...) take the text serde_json gives them,
/// and those it refuses (sequences, maps, unit, `None`...) fail as there.
struct KeySer<'a> {
    out: &'a mut String,
}

impl KeySer<'_> {
    fn str(self, s: &str) -> Result<(), Error> {
        string(self.out, s, 0, false);
        Ok(())
    }

    /// The key as serde_json's `Value` serializer makes it, or its error.
    fn json<T: Serialize + ?Sized>(self, key: &T) -> Result<(), Error> {
        use ser::{SerializeMap, Serializer};
        let mut map = serde_json::value::Serializer.serialize_map(Some(1))?;
        map.serialize_key(key)?;
        map.serialize_value(&())?;
        if let serde_json::Value::Object(m) = map.end()? {
            for k in m.keys() {
                string(self.out, k, 0, false);
            }
        }
        Ok(())
    }

    fn refuse<T>(self) -> Result<T, Error> {
        // What serde_json says to a key that is no string.
        self.json(&())
            .and(Err(ser::Error::custom("key must be a string")))
    }
}

impl ser::Serializer for KeySer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.str(v)
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.json(&v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        self.refuse()
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.refuse()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        self.refuse()
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.refuse()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.refuse()
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        self.refuse()
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        self.refuse()
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        self.refuse()
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        self.refuse()
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        self.refuse()
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        self.refuse()
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        self.refuse()
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        self.refuse()
    }
}

fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

/// An unsigned integer in decimal, as serde_json prints it.
fn push_u64(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// A string as a plain, literal-block (values only), single- or
/// double-quoted scalar.
fn string(out: &mut String, s: &str, indent: usize, block_ok: bool) {
    if plain_ok(s) {
        out.push_str(s);
    } else if block_ok && literal_block(out, s, indent) {
    } else if s.bytes().all(|c| (b' '..=b'~').contains(&c)) {
        out.push('\'');
        let mut rest = s;
        while let Some(i) = rest.find('\'') {
            out.push_str(&rest[..=i]);
            out.push('\'');
            rest = &rest[i + 1..];
        }
        out.push_str(rest);
        out.push('\'');
    } else {
        double_quoted(out, s);
    }
}

/// Double-quoted style, escaping everything YAML does not count as printable
/// (and the Unicode line separators YAML 1.1 breaks lines at).
fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c < ' '
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `|` with the lines indented one level deeper, when the text allows it;
/// returns whether it wrote one.
fn literal_block(out: &mut String, s: &str, indent: usize) -> bool {
    let Some(body) = s.strip_suffix('\n') else {
        return false;
    };
    let printable = |l: &str| l.bytes().all(|c| c == b'\t' || (b' '..=b'~').contains(&c));
    // A block's indentation is taken from its first line, so that line
    // starts with a non-blank (later lines may be indented further).
    let ok = !body.is_empty()
        && !body.starts_with([' ', '\t', '\n'])
        && !body.ends_with('\n')
        && body
            .split('\n')
            .all(|l| printable(l) && !l.ends_with([' ', '\t']));
    if !ok {
        return false;
    }
    out.push('|');
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent + 2);
            out.push_str(line);
        }
    }
    true
}

/// Byte classes for `plain_ok`: a byte a plain scalar may hold (the first
/// one is further restricted), a digit, a colon.
const PLAIN: u8 = 1;
const DIGIT: u8 = 2;
const COLON: u8 = 4;
const CLASS: [u8; 256] = {
    let mut t = [0; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b' ' | b'.' | b'_' | b'/' | b'=' | b':' | b'@' | b'+' | b'-' | b','
            )
        {
            t[c] = PLAIN;
        }
        if b.is_ascii_digit() {
            t[c] |= DIGIT;
        }
        if b == b':' {
            t[c] |= COLON;
        }
        c += 1;
    }
    t
};

/// Whether a string can be written without quotes and read back as that same
/// string by YAML 1.1 and 1.2 parsers alike: no indicator at the start, no
/// `: ` or ` #` (`#` is no plain byte at all), no blank or `:` at the end,
/// and not a word or number. Every key and most values come through here,
/// and most are plain: one pass gathers the byte classes with no branch per
/// byte, and the rarer checks look only at strings that need them.
fn plain_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || matches!(first, b'/' | b'_' | b'.'))
        || matches!(last, b' ' | b':')
    {
        return false;
    }
    let (mut all, mut any) = (PLAIN, 0);
    for &c in b {
        let class = CLASS[usize::from(c)];
        all &= class;
        any |= class;
    }
    if all & PLAIN == 0 || (any & COLON != 0 && b.windows(2).any(|w| w == b": ")) {
        return false;
    }
    // The words have no digit; a number has one, or is `.inf` or `.nan`
    // (a sign cannot start a plain scalar).
    let ambiguous = if any & DIGIT != 0 {
        numeric(s)
    } else {
        (first == b'.' && numeric(s)) || (s.len() <= 5 && ambiguous(s))
    };
    !ambiguous
}

/// Words YAML 1.1 or 1.2 resolve to booleans, null or numbers.
fn ambiguous(s: &str) -> bool {
    // By length, so that most strings are compared with no word at all.
    let word = match s.len() {
        1 => matches!(s, "y" | "Y" | "n" | "N" | "~"),
        2 => matches!(s, "no" | "No" | "NO" | "on" | "On" | "ON"),
        3 => matches!(s, "yes" | "Yes" | "YES" | "off" | "Off" | "OFF"),
        4 => matches!(s, "true" | "True" | "TRUE" | "null" | "Null" | "NULL"),
        5 => matches!(s, "false" | "False" | "FALSE"),
        _ => false,
    };
    word || numeric(s)
}

/// Whether YAML 1.1 or 1.2 could read the text as an int, float or
/// timestamp: decimal with `_` and `:` (sexagesimal), exponents, 0x/0o/0b,
/// `.inf`/`.nan`, `2024-01-31...`. Errs on the side of quoting.
fn numeric(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    if matches!(t, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    if let Some(r) = t
        .strip_prefix('0')
        .and_then(|r| r.strip_prefix(['x', 'X', 'o', 'O', 'b', 'B']))
    {
        return !r.is_empty() && r.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    let b = t.as_bytes();
    if b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        return true; // a date or timestamp
    }
    // The mantissa: digits, `_`, `:` and at most one dot (more, as in an
    // address or a version, is no number in any resolver), up to an
    // exponent. Most names fail on their first letter.
    let (mut digit, mut dots) = (false, 0);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => digit = true,
            b'.' => dots += 1,
            b'_' | b':' => {}
            b'e' | b'E' => {
                let e = &b[i + 1..];
                let e = e.strip_prefix(b"+").or(e.strip_prefix(b"-")).unwrap_or(e);
                return digit && dots <= 1 && !e.is_empty() && e.iter().all(u8::is_ascii_digit);
            }
            _ => return false,
        }
    }
    digit && dots <= 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::{json, Value};

    /// Parses with serde_yaml (YAML 1.2) and compares with the input.
    fn roundtrip(v: &Value) {
        let text = to_string(v).expect("serializes");
        let back: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(&back, v, "\n{text}");
    }
    #[test]
    fn blanks_and_non_characters_survive() {
        for v in [
            "\n   two\n",
            "  lead\nx\n",
            "a\u{fffe}b",
            "\u{ffff}",
            "x\u{2028}y",
        ] {
            roundtrip(&json!({ "v": v }));
            let text = to_string(&json!({ "v": v })).expect("yaml");
            assert!(
                !text.contains('\u{fffe}') && !text.contains('\u{ffff}'),
                "{text}"
            );
        }
    }

    #[test]
    fn yaml_1_1_words_are_quoted() {
        for w in [
            "on",
            "off",
            "yes",
            "no",
            "y",
            "N",
            "Off",
            "~",
            "null",
            "12:30",
            "1_000",
            "0x1F",
            "-1",
            ".5",
            "+1",
            "true",
            "1e3",
            "2043",
            "1.5",
            "2024-01-31",
            "-.inf",
            "0o17",
        ] {
            let text = to_string(&json!({ "v": w })).expect("serializes");
            assert!(text.contains(&format!("v: '{w}'")), "{w}: {text}");
            roundtrip(&json!({ "v": w }));
        }
    }

    #[test]
    fn quantities_and_names_stay_plain() {
        for w in [
            "10.96.0.50",
            "1.2.3",
            "5Gi",
            "500k",
            "nfs-2043",
            "fios",
            "my-repo.com/x:1",
            "ReadWriteMany",
            "1a",
        ] {
            assert_eq!(
                to_string(&json!({ "v": w })).expect("ok"),
                format!("v: {w}\n")
            );
        }
    }

    #[test]
    fn layout_matches_kubectl() {
        let v = json!({"a": {"b": [1, {"c": "x", "d": []}], "e": {}}, "f": "two\nlines\n"});
        assert_eq!(
            to_string(&v).expect("ok"),
            "a:\n  b:\n  - 1\n  - c: x\n    d: []\n  e: {}\nf: |\n  two\n  lines\n"
        );
        roundtrip(&v);
    }

    #[test]
    fn awkward_strings_survive() {
        for s in [
            "",
            // Lines ending in CR cannot be a literal block: YAML would drop the CR.
            "x\r\ny\n",
            "a\r\n",
            " lead",
            "trail ",
            "a: b",
            "a #b",
            "#x",
            "'q'",
            "\"dq\"",
            "tab\there",
            "é",
            "line\n",
            "\n\n",
            "a\n b\n",
            "x\r\ny",
            "{x}",
            "[x]",
            "*x",
            "&x",
            "!x",
            "|x",
            ">x",
            "%x",
            "@x",
            "`x",
            "- x",
            "? x",
            "a,b",
            "my-repo.com/x:1",
            "nfsvers=4",
            "/hfs/a,mvsmnt",
            "2Gi",
            ".dockerconfigjson=secrets/a",
            "ends:",
            "trailing\n  ",
            "\u{7f}",
            "\u{0}",
        ] {
            roundtrip(&json!({ s: [s, { s: s }] }));
        }
    }

    #[test]
    fn random_strings_roundtrip() {
        let alphabet: Vec<char> = " \n\t:#-'\"{}[],&*!|>%@`?=/.aZ09~yesnoé\\"
            .chars()
            .collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 9) as usize;
            let s: String = (0..len)
                .map(|i| alphabet[((state >> (i * 5)) % alphabet.len() as u64) as usize])
                .collect();
            roundtrip(&json!({ "k": s, s.clone(): ["x", s] }));
        }
    }

    /// The printer this serializer replaced, as it was: serde_json's `Value`
    /// first, then text. The differential tests hold the serializer to it.
    mod oracle {
        use serde_json::Value;

        /// Serializes a value as a YAML document.
        pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
            let v = serde_json::to_value(value)?;
            let mut out = String::with_capacity(1024);
            match &v {
                Value::Object(m) if !m.is_empty() => map(&mut out, m, 0, false),
                Value::Array(a) if !a.is_empty() => seq(&mut out, a, 0),
                other => {
                    scalar(&mut out, other, 0);
                    out.push('\n');
                }
            }
            Ok(out)
        }

        fn pad(out: &mut String, n: usize) {
            out.extend(std::iter::repeat_n(' ', n));
        }

        /// A map at `indent`; with `inline_first` its first key continues the
        /// current line (after a sequence's dash).
        fn map(
            out: &mut String,
            m: &serde_json::Map<String, Value>,
            indent: usize,
            inline_first: bool,
        ) {
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 || !inline_first {
                    pad(out, indent);
                }
                string(out, k, indent, false);
                out.push(':');
                child(out, v, indent, true);
            }
        }

        fn seq(out: &mut String, a: &[Value], indent: usize) {
            for v in a {
                pad(out, indent);
                out.push('-');
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        // The first key goes on the dash's line.
                        out.push(' ');
                        map(out, m, indent + 2, true);
                    }
                    _ => child(out, v, indent, false),
                }
            }
        }

        /// What follows `key:` or `-`.
        fn child(out: &mut String, v: &Value, indent: usize, in_map: bool) {
            match v {
                Value::Object(m) if !m.is_empty() => {
                    out.push('\n');
                    map(out, m, indent + 2, false);
                }
                Value::Array(a) if !a.is_empty() => {
                    out.push('\n');
                    // kubectl style: a map's sequence sits at the key's indentation.
                    seq(out, a, if in_map { indent } else { indent + 2 });
                }
                _ => {
                    out.push(' ');
                    scalar(out, v, indent);
                    out.push('\n');
                }
            }
        }

        fn scalar(out: &mut String, v: &Value, indent: usize) {
            match v {
                Value::Null => out.push_str("null"),
                Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Value::Number(n) => out.push_str(&n.to_string()),
                Value::String(s) => string(out, s, indent, true),
                Value::Array(_) => out.push_str("[]"),
                Value::Object(_) => out.push_str("{}"),
            }
        }

        /// A string as a plain, literal-block (values only), single- or
        /// double-quoted scalar.
        fn string(out: &mut String, s: &str, indent: usize, block_ok: bool) {
            if plain_ok(s) {
                out.push_str(s);
            } else if block_ok && literal_block(out, s, indent) {
            } else if s.bytes().all(|c| (b' '..=b'~').contains(&c)) {
                out.push('\'');
                out.push_str(&s.replace('\'', "''"));
                out.push('\'');
            } else {
                out.push_str(&double_quoted(s));
            }
        }

        /// Double-quoted style, escaping everything YAML does not count as printable
        /// (and the Unicode line separators YAML 1.1 breaks lines at).
        fn double_quoted(s: &str) -> String {
            let mut out = String::with_capacity(s.len() + 2);
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c < ' '
                        || ('\u{7f}'..='\u{9f}').contains(&c)
                        || matches!(
                            c,
                            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                        ) =>
                    {
                        out.push_str(&format!("\\u{:04x}", c as u32));
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        /// `|` with the lines indented one level deeper, when the text allows it;
        /// returns whether it wrote one.
        fn literal_block(out: &mut String, s: &str, indent: usize) -> bool {
            let Some(body) = s.strip_suffix('\n') else {
                return false;
            };
            let printable = |l: &str| l.bytes().all(|c| c == b'\t' || (b' '..=b'~').contains(&c));
            // A block's indentation is taken from its first line, so that line
            // starts with a non-blank (later lines may be indented further).
            let ok = !body.is_empty()
                && !body.starts_with([' ', '\t', '\n'])
                && !body.ends_with('\n')
                && body
                    .split('\n')
                    .all(|l| printable(l) && !l.ends_with([' ', '\t']));
            if !ok {
                return false;
            }
            out.push('|');
            for line in body.split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    pad(out, indent + 2);
                    out.push_str(line);
                }
            }
            true
        }

        /// Whether a string can be written without quotes and read back as that same
        /// string by YAML 1.1 and 1.2 parsers alike.
        fn plain_ok(s: &str) -> bool {
            let b = s.as_bytes();
            let Some(&first) = b.first() else {
                return false;
            };
            (first.is_ascii_alphanumeric() || matches!(first, b'/' | b'_' | b'.'))
                && !s.ends_with([' ', ':'])
                && b.iter().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(
                            c,
                            b' ' | b'.' | b'_' | b'/' | b'=' | b':' | b'@' | b'+' | b'-' | b','
                        )
                })
                && !s.contains(": ")
                && !s.contains(" #")
                && !ambiguous(s)
        }

        /// Words YAML 1.1 or 1.2 resolve to booleans, null or numbers.
        fn ambiguous(s: &str) -> bool {
            const WORDS: &[&str] = &[
                "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
                "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null",
                "NULL", "~",
            ];
            WORDS.contains(&s) || numeric(s)
        }

        /// Whether YAML 1.1 or 1.2 could read the text as an int, float or
        /// timestamp: decimal with `_` and `:` (sexagesimal), exponents, 0x/0o/0b,
        /// `.inf`/`.nan`, `2024-01-31...`. Errs on the side of quoting.
        fn numeric(s: &str) -> bool {
            let t = s.strip_prefix(['+', '-']).unwrap_or(s);
            if matches!(t, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
                return true;
            }
            if let Some(r) = t
                .strip_prefix('0')
                .and_then(|r| r.strip_prefix(['x', 'X', 'o', 'O', 'b', 'B']))
            {
                return !r.is_empty() && r.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
            }
            let b = t.as_bytes();
            if b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
                return true; // a date or timestamp
            }
            let (mantissa, exponent) = match t.find(['e', 'E']) {
                Some(i) => (&t[..i], Some(&t[i + 1..])),
                None => (t, None),
            };
            // More than one dot (an address, a version) is no number in any resolver.
            let mantissa_ok = mantissa.chars().any(|c| c.is_ascii_digit())
                && mantissa.matches('.').count() <= 1
                && mantissa
                    .chars()
                    .all(|c| c.is_ascii_digit() || "._:".contains(c));
            let exponent_ok = exponent.is_none_or(|e| {
                let e = e.strip_prefix(['+', '-']).unwrap_or(e);
                !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
            });
            mantissa_ok && exponent_ok
        }
    }

    /// The serializer's text, after checking that the old printer writes the
    /// same (or fails the same way); returns its length.
    fn same<T: Serialize>(v: &T) -> usize {
        match (to_string(v), oracle::to_string(v)) {
            (Ok(new), Ok(old)) => {
                if new != old {
                    let line = new.lines().zip(old.lines()).position(|(a, b)| a != b);
                    panic!(
                        "the serializer and the Value printer differ (first at line {}):\n\
                         --- serializer\n{new}--- Value printer\n{old}",
                        line.unwrap_or(new.lines().count().min(old.lines().count())) + 1
                    );
                }
                new.len()
            }
            (Err(new), Err(old)) => {
                assert_eq!(new.to_string(), old.to_string());
                0
            }
            (new, old) => panic!("serializer: {new:?}\nValue printer: {old:?}"),
        }
    }

    /// xorshift64: the same cases on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn coin(&mut self) -> bool {
            self.next() & 1 == 1
        }

        fn pick<T: Copy>(&mut self, from: &[T]) -> T {
            from[self.below(from.len())]
        }

        /// A string that is hard to print: from the awkward alphabet, from
        /// number-like characters, a YAML word with a bit around it, or lines
        /// (a literal block, when they allow one).
        fn string(&mut self) -> String {
            const AWKWARD: &[char] = &[
                ' ', '\n', '\t', ':', '#', '-', '\'', '"', '{', '}', '[', ']', ',', '&', '*', '!',
                '|', '>', '%', '@', '`', '?', '=', '/', '.', 'a', 'Z', '0', '9', '~', 'y', 'e',
                's', 'n', 'o', 'é', '\\', '\r', '\u{0}', '\u{85}', '\u{2028}', '\u{fffe}', '_',
                '+',
            ];
            const NUMERIC: &[char] = &[
                '0', '1', '7', '9', '.', '_', ':', '+', '-', 'e', 'E', 'x', 'o', 'b', 'B', 'i',
                'n', 'f', 'a', 'N', 'I', 'F',
            ];
            const WORDS: &[&str] = &[
                "y",
                "Yes",
                "NO",
                "on",
                "Off",
                "true",
                "FALSE",
                "null",
                "~",
                ".inf",
                "-.Inf",
                ".NaN",
                "0x1F",
                "0o17",
                "0b1",
                "2024-01-31",
                "12:30",
                "1_000",
                "1e3",
                "1.5e-3",
                "v1",
                "5Gi",
                "10.96.0.50",
                "a: b",
                "a #b",
                "nfsvers=4",
                "x:",
                "ReadWriteMany",
            ];
            match self.below(8) {
                0..=2 => {
                    let len = self.below(9);
                    (0..len).map(|_| self.pick(AWKWARD)).collect()
                }
                3 | 4 => {
                    let len = 1 + self.below(7);
                    (0..len).map(|_| self.pick(NUMERIC)).collect()
                }
                5 => {
                    let mut s = String::new();
                    if self.below(4) == 0 {
                        s.push(self.pick(AWKWARD));
                    }
                    s.push_str(self.pick(WORDS));
                    if self.below(4) == 0 {
                        s.push(self.pick(AWKWARD));
                    }
                    s
                }
                _ => {
                    let mut s = String::new();
                    for _ in 0..1 + self.below(4) {
                        let line = self.pick(&["a", "  b", "", "c\t", "d ", "x: y", "é", "t\tu"]);
                        s.push_str(line);
                        s.push('\n');
                    }
                    if self.below(4) == 0 {
                        s.pop();
                    }
                    s
                }
            }
        }

        fn number(&mut self) -> Value {
            match self.below(6) {
                0 => json!(self.below(100)),
                1 => json!(self.next()),
                2 => json!(-(self.below(1000) as i64)),
                3 => json!(self.next() as i64),
                4 => json!(self.pick(&[
                    0.5,
                    -0.0,
                    1e300,
                    1.0 / 3.0,
                    f64::MIN_POSITIVE,
                    1e-7,
                    123456789.0,
                    -2.5e21
                ])),
                _ => {
                    let f = f64::from_bits(self.next());
                    if f.is_finite() {
                        json!(f)
                    } else {
                        json!(1.0)
                    }
                }
            }
        }

        /// A tree of nested maps and sequences (empty and not) and scalars.
        fn value(&mut self, depth: usize) -> Value {
            match self.below(if depth == 0 { 5 } else { 9 }) {
                0 => Value::Null,
                1 => Value::Bool(self.coin()),
                2 => self.number(),
                3 | 4 => Value::String(self.string()),
                5 | 6 => {
                    let len = self.below(4);
                    Value::Array((0..len).map(|_| self.value(depth - 1)).collect())
                }
                _ => {
                    let len = self.below(4);
                    Value::Object(
                        (0..len)
                            .map(|_| (self.string(), self.value(depth - 1)))
                            .collect(),
                    )
                }
            }
        }
    }

    #[test]
    fn random_strings_print_as_before() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let (mut cases, mut bytes) = (0, 0);
        for _ in 0..20_000 {
            let s = rng.string();
            bytes += same(&s);
            bytes += same(&json!({ "k": s, s.clone(): ["x", s, [s], { s.clone(): s }] }));
            bytes += same(&json!([{ s.clone(): [[s]] }, [s]]));
            cases += 3;
        }
        eprintln!("random strings: {cases} documents, {bytes} bytes the same");
    }

    #[test]
    fn random_trees_print_as_before() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut cases, mut bytes) = (0, 0);
        for _ in 0..20_000 {
            // Half of them a map or sequence at the top, with entries.
            let v = match rng.below(4) {
                0 => Value::Array((0..1 + rng.below(4)).map(|_| rng.value(4)).collect()),
                1 => Value::Object(
                    (0..1 + rng.below(4))
                        .map(|_| (rng.string(), rng.value(4)))
                        .collect(),
                ),
                _ => rng.value(5),
            };
            bytes += same(&v);
            cases += 1;
        }
        eprintln!("random trees: {cases} documents, {bytes} bytes the same");
    }

    /// Every Kubernetes and kustomize type tenantc emits, filled with
    /// awkward strings, with optional fields and collections empty or not.
    mod objects {
        use super::super::super::types::*;
        use super::{same, Rng};
        use std::collections::BTreeMap;

        const STATIC: &[&str] = &["v1", "on", "", "a: b", "Retain", "x\ny\n", "1.5", "é"];

        struct Gen(Rng);

        impl Gen {
            fn s(&mut self) -> String {
                self.0.string()
            }

            fn st(&mut self) -> &'static str {
                self.0.pick(STATIC)
            }

            fn n(&mut self) -> u64 {
                self.0.next() >> self.0.below(64)
            }

            fn b(&mut self) -> bool {
                self.0.coin()
            }

            fn vec<T>(&mut self, mut f: impl FnMut(&mut Self) -> T) -> Vec<T> {
                let len = self.0.below(4);
                (0..len).map(|_| f(self)).collect()
            }

            fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
                self.b().then(|| f(self))
            }

            fn map(&mut self) -> BTreeMap<String, String> {
                let len = self.0.below(4);
                (0..len).map(|_| (self.s(), self.s())).collect()
            }

            fn static_map(&mut self) -> BTreeMap<&'static str, String> {
                let len = self.0.below(4);
                (0..len).map(|_| (self.st(), self.s())).collect()
            }

            fn meta(&mut self) -> ObjectMeta {
                ObjectMeta {
                    name: self.s(),
                    namespace: self.opt(Self::s),
                    labels: self.map(),
                    annotations: self.map(),
                }
            }

            fn object<B: serde::Serialize>(&mut self, body: B) -> Object<B> {
                Object {
                    api_version: self.st(),
                    kind: self.st(),
                    metadata: self.meta(),
                    body,
                }
            }

            fn name_ref(&mut self) -> NameRef {
                NameRef { name: self.s() }
            }

            fn selector(&mut self) -> LabelSelector {
                LabelSelector {
                    match_labels: self.map(),
                    match_expressions: self.vec(|g| LabelSelectorRequirement {
                        key: g.s(),
                        operator: g.st(),
                        values: g.vec(Self::s),
                    }),
                }
            }

            fn resources(&mut self) -> Resources {
                Resources {
                    requests: self.static_map(),
                }
            }

            fn env(&mut self) -> EnvVar {
                EnvVar {
                    name: self.s(),
                    value: self.opt(Self::s),
                    value_from: self.opt(|g| EnvVarSource {
                        secret_key_ref: SecretKeyRef {
                            name: g.s(),
                            key: g.s(),
                        },
                    }),
                }
            }

            fn container(&mut self) -> Container {
                Container {
                    name: self.s(),
                    image: self.s(),
                    image_pull_policy: self.st(),
                    args: self.vec(Self::s),
                    env: self.vec(Self::env),
                    resources: self.opt(|g| ContainerResources {
                        limits: g.static_map(),
                        requests: g.static_map(),
                    }),
                    ports: self.vec(|g| ContainerPort {
                        name: g.s(),
                        container_port: g.n() as u16,
                        protocol: g.st(),
                    }),
                    volume_mounts: self.vec(|g| VolumeMount {
                        name: g.s(),
                        mount_path: g.s(),
                        sub_path: g.opt(Self::s),
                        read_only: g.b(),
                    }),
                    liveness_probe: self.opt(|g| Probe {
                        exec: ExecAction {
                            command: g.vec(Self::s),
                        },
                        initial_delay_seconds: g.n(),
                        timeout_seconds: g.n(),
                        period_seconds: g.n(),
                        failure_threshold: g.n(),
                    }),
                    readiness_probe: self.opt(|g| Probe {
                        exec: ExecAction {
                            command: g.vec(Self::s),
                        },
                        initial_delay_seconds: g.n(),
                        timeout_seconds: g.n(),
                        period_seconds: g.n(),
                        failure_threshold: g.n(),
                    }),
                    security_context: SecurityContext {
                        allow_privilege_escalation: self.b(),
                        capabilities: Capabilities {
                            drop: self.vec(Self::st),
                        },
                        read_only_root_filesystem: self.b(),
                    },
                }
            }

            fn template(&mut self) -> PodTemplate {
                PodTemplate {
                    metadata: PodMeta {
                        labels: self.map(),
                        annotations: self.map(),
                    },
                    spec: PodSpec {
                        affinity: self.opt(|g| Affinity {
                            pod_affinity: PodAffinity {
                                required_during_scheduling_ignored_during_execution: g.vec(|g| {
                                    PodAffinityTerm {
                                        label_selector: g.selector(),
                                        namespaces: g.vec(Self::s),
                                        topology_key: g.st(),
                                    }
                                }),
                            },
                        }),
                        automount_service_account_token: self.b(),
                        containers: self.vec(Self::container),
                        image_pull_secrets: self.vec(Self::name_ref),
                        security_context: PodSecurityContext {
                            fs_group: self.opt(Self::n),
                            run_as_group: self.opt(Self::n),
                            run_as_non_root: self.b(),
                            run_as_user: self.opt(Self::n),
                            seccomp_profile: SeccompProfile { type_: self.st() },
                        },
                        volumes: self.vec(|g| PodVolume {
                            name: g.s(),
                            projected: g.opt(|g| Projected {
                                sources: g.vec(|g| ProjectedSource {
                                    secret: g.name_ref(),
                                }),
                            }),
                            config_map: g.opt(Self::name_ref),
                            persistent_volume_claim: g.opt(|g| ClaimRef { claim_name: g.s() }),
                            empty_dir: g.opt(|_| EmptyDir {}),
                        }),
                    },
                }
            }

            /// Each kind of document once; returns the bytes compared.
            fn documents(&mut self) -> usize {
                let mut bytes = 0;
                let o = self.object(Empty {});
                bytes += same(&o);
                let data = self.map();
                let o = self.object(ConfigMapBody { data });
                bytes += same(&o);
                let spec = DeploymentSpec {
                    replicas: self.n(),
                    selector: self.selector(),
                    template: self.template(),
                };
                let o = self.object(Spec { spec });
                bytes += same(&o);
                let spec = StatefulSetSpec {
                    service_name: self.s(),
                    replicas: self.n(),
                    selector: self.selector(),
                    template: self.template(),
                    volume_claim_templates: self.vec(|g| ClaimTemplate {
                        metadata: g.name_ref(),
                        spec: ClaimTemplateSpec {
                            access_modes: g.vec(Self::st),
                            resources: g.resources(),
                            storage_class_name: g.s(),
                        },
                    }),
                };
                let o = self.object(Spec { spec });
                bytes += same(&o);
                let spec = ServiceSpec {
                    type_: self.st(),
                    cluster_ip: self.s(),
                    ports: self.vec(|g| ServicePort {
                        name: g.s(),
                        port: g.n() as u16,
                        protocol: g.st(),
                        target_port: g.n() as u16,
                    }),
                    selector: self.map(),
                    internal_traffic_policy: self.opt(Self::st),
                };
                let o = self.object(Spec { spec });
                bytes += same(&o);
                let body = StorageClassBody {
                    provisioner: self.st(),
                    parameters: self.static_map(),
                    reclaim_policy: self.st(),
                    volume_binding_mode: self.st(),
                    allow_volume_expansion: self.opt(Self::b),
                };
                let o = self.object(body);
                bytes += same(&o);
                let enabled = |g: &mut Self| Enabled { enabled: g.b() };
                let spec = StorageClusterSpec {
                    image: self.s(),
                    image_pull_policy: self.st(),
                    kvdb: Kvdb { internal: self.b() },
                    cloud_storage: CloudStorage {
                        device_specs: self.vec(Self::s),
                        kvdb_device_spec: self.opt(Self::s),
                    },
                    secrets_provider: self.st(),
                    stork: Stork {
                        enabled: self.b(),
                        args: self.static_map(),
                    },
                    autopilot: enabled(self),
                    runtime_options: self.map(),
                    csi: enabled(self),
                    monitoring: Monitoring {
                        telemetry: enabled(self),
                        prometheus: Prometheus {
                            enabled: self.b(),
                            export_metrics: self.b(),
                        },
                    },
                    env: self.vec(Self::env),
                };
                let o = self.object(Spec { spec });
                bytes += same(&o);
                let spec = PvSpec {
                    capacity: self.static_map(),
                    access_modes: self.vec(Self::st),
                    persistent_volume_reclaim_policy: self.st(),
                    storage_class_name: self.s(),
                    volume_mode: self.st(),
                    mount_options: self.vec(Self::s),
                    nfs: NfsSource {
                        server: self.s(),
                        path: self.s(),
                        read_only: self.b(),
                    },
                    claim_ref: PvClaimRef {
                        namespace: self.s(),
                        name: self.s(),
                    },
                };
                let o = self.object(Spec { spec });
                bytes += same(&o);
                let spec = PvcSpec {
                    access_modes: self.vec(Self::st),
                    resources: self.resources(),
                    storage_class_name: self.s(),
                    volume_mode: self.st(),
                    volume_name: self.s(),
                };
                let o = self.object(Spec { spec });
                bytes += same(&o);
                let k = Kustomization {
                    api_version: self.st(),
                    kind: self.st(),
                    resources: self.vec(Self::s),
                    secret_generator: self.vec(|g| SecretGenerator {
                        name: g.s(),
                        namespace: g.s(),
                        type_: g.st(),
                        files: g.vec(Self::s),
                    }),
                    generator_options: Some(GeneratorOptions {
                        disable_name_suffix_hash: self.b(),
                    }),
                };
                bytes += same(&k);
                bytes
            }
        }

        #[test]
        fn kubernetes_objects_print_as_before() {
            let mut g = Gen(Rng(0xd1b5_4a32_d192_ed03));
            let rounds = 2_000;
            let bytes: usize = (0..rounds).map(|_| g.documents()).sum();
            eprintln!(
                "Kubernetes objects: {} documents of 10 kinds, {bytes} bytes the same",
                rounds * 10
            );
        }
    }

    /// The rest of serde's data model, as `serde_json::Value` has it.
    #[test]
    fn data_model_corners_print_as_before() {
        use serde::ser::SerializeMap;
        use std::collections::BTreeMap;

        #[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
        enum E {
            Unit,
            #[serde(rename = "on")]
            Renamed,
            Newtype(u8),
            Tuple(u8, String),
            Empty(),
            Struct {
                a: Option<u8>,
                b: Vec<u8>,
            },
            NoFields {},
        }
        #[derive(Serialize)]
        struct Unit;
        #[derive(Serialize)]
        struct Newtype(String);
        #[derive(Serialize)]
        struct Tuple(u8, Unit, Vec<E>);
        struct Bytes(&'static [u8]);
        impl Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        /// A map with keys of any type.
        struct Keyed<K>(Vec<K>);
        impl<K: Serialize> Serialize for Keyed<K> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(None)?;
                for k in &self.0 {
                    m.serialize_entry(k, &1)?;
                }
                m.end()
            }
        }
        let variants = [
            E::Unit,
            E::Renamed,
            E::Newtype(7),
            E::Tuple(1, "no".into()),
            E::Empty(),
            E::Struct { a: None, b: vec![] },
            E::Struct {
                a: Some(1),
                b: vec![2, 3],
            },
            E::NoFields {},
        ];
        for v in &variants {
            same(v);
            same(&[v]);
            same(&BTreeMap::from([("k", v)]));
            same(&[[v]]);
        }
        same(&variants);
        same(&BTreeMap::from([(E::Unit, 1), (E::Renamed, 2)]));
        same(&Keyed(vec![E::Newtype(1)]));
        same(&Keyed(vec![E::Struct { a: None, b: vec![] }]));
        same(&Unit);
        same(&());
        same(&None::<u8>);
        same(&Some("yes"));
        same(&Newtype("x\ny\n".into()));
        same(&Tuple(1, Unit, variants.to_vec()));
        same(&(1, "a", ['b', '\n']));
        same(&Bytes(b""));
        same(&Bytes(b"ab"));
        same(&BTreeMap::from([("b", Bytes(b"\n"))]));
        same(&'~');
        same(&[i8::MIN.into(), i64::MIN, i64::MAX, 0, -1]);
        same(&[u8::MAX.into(), u16::MAX.into(), u32::MAX.into(), u64::MAX]);
        same(&[i128::MIN, -1, i64::MIN.into(), u64::MAX.into()]);
        same(&[u128::MAX]);
        same(&(u128::from(u64::MAX) + 1));
        same(&(i128::from(i64::MIN) - 1));
        same(&[f32::NAN, f32::INFINITY, 0.1, -0.0, 3e38, f32::MIN_POSITIVE]);
        same(&[f64::NAN, f64::NEG_INFINITY, 0.1, -0.0, 1e-300, 2.0]);
        same(&Keyed(vec![1, -2, 300]));
        same(&Keyed(vec![i128::MAX]));
        same(&Keyed(vec![u128::MAX]));
        same(&Keyed(vec![true, false]));
        same(&Keyed(vec!['y', '#']));
        same(&Keyed(vec![0.1f32, 1e30, -0.0]));
        same(&Keyed(vec![0.1f64, 1e300]));
        same(&Keyed(vec![f64::NAN]));
        same(&Keyed(vec![Newtype("no".into())]));
        same(&Keyed(vec![Unit]));
        same(&Keyed(vec![()]));
        same(&Keyed(vec![None::<u8>]));
        same(&Keyed(vec![Some(1)]));
        same(&Keyed(vec![vec![1]]));
        same(&Keyed(vec![(1, 2)]));
        same(&Keyed(vec![Bytes(b"k")]));
        same(&Keyed(vec![BTreeMap::from([(1, 2)])]));
        same(&Keyed(vec![Tuple(1, Unit, vec![])]));
        same(&Keyed(vec![E::Tuple(1, String::new())]));
    }

    #[test]
    fn a_repeated_key_is_an_error() {
        #[derive(Serialize)]
        struct Outer {
            a: u8,
            #[serde(flatten)]
            inner: Inner,
        }
        #[derive(Serialize)]
        struct Inner {
            a: u8,
            b: u8,
        }
        let v = Outer {
            a: 1,
            inner: Inner { a: 2, b: 3 },
        };
        let e = to_string(&v).expect_err("a repeated key");
        assert_eq!(e.to_string(), "duplicate key a");
        // The same key in different maps is no repetition.
        assert_eq!(
            to_string(&json!({"a": {"a": {"a": 1}}, "b": [{"a": 2}, {"a": 3}]})).expect("ok"),
            "a:\n  a:\n    a: 1\nb:\n- a: 2\n- a: 3\n"
        );
    }

    #[test]
    fn appends_after_a_header() {
        let mut out = String::from("# header\n");
        append(&mut out, &json!({"a": []})).expect("ok");
        assert_eq!(out, "# header\na: []\n");
    }
}
