//! YAML output that means the same to every Kubernetes client.
//!
//! Objects are serialized with serde into a `serde_json::Value` (the JSON data
//! model Kubernetes uses) and printed here. The printer exists because
//! serde_yaml follows YAML 1.2 and leaves `on`, `yes`, `no`, `y`, `12:30` or
//! `1_000` unquoted, while kubectl and client-go read YAML 1.1
//! (sigs.k8s.io/yaml), where those are booleans and integers: an env value
//! `on` would fail to decode, a namespace `no` would become `false`. No serde
//! YAML crate quotes them, so this printer quotes every string that any YAML
//! version could read as something else. Layout follows kubectl: two-space
//! indentation, sequences at their key's indentation, multi-line strings as
//! literal blocks.

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
fn map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize, inline_first: bool) {
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
            .lines()
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
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
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
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
