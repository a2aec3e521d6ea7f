//! The inventory: every object the bundle asks a target system to hold, one
//! entry each, recorded by lowering at the one place that writes the object's
//! definition (the RACF command, the Purity command, the export line, the
//! AT-TLS rule, the Kubernetes document). `inventory.json` is this ledger
//! written out (`inventory.jsonl`, JSON Lines); `tenantc plan` diffs the
//! deployed bundle's inventory against the specs' ([`crate::change`]).
//!
//! An object's identity is its [`Key`]: the target system (`zos/<system>`,
//! `array/<array>`, `cluster/<cluster>`), a kind and a name unique within
//! both. Names are spelt as the target system spells them:
//!
//! | target | kind | name |
//! |---|---|---|
//! | z/OS | `racf-user` | `USERID` |
//! | z/OS | `certificate` | `CERTAUTH/<label>` or `<USERID>/<label>` |
//! | z/OS | `keyring` | `<USERID>/<RING>` |
//! | z/OS | `ring-connection` | `<USERID>/<RING>/<CERTAUTH or USERID>/<label>` |
//! | z/OS | `profile` | `<CLASS> <PROFILE>` |
//! | z/OS | `permit` | `<CLASS> <PROFILE> <USERID>` |
//! | z/OS | `export` | `<server> <path>` |
//! | z/OS | `attls-rule` | `<rule>` |
//! | array | `realm`, `policy`, `user` | the Purity name |
//! | array | `pod` | `<realm>::<pod>` |
//! | array | `api-token` | the user it belongs to |
//! | cluster | the Kubernetes kind | `<namespace>/<name>`, or `<name>` when cluster-scoped |
//!
//! Each entry has its owners (the tenants it serves; none for a platform
//! object), the bundle file that creates it and a digest of its definition,
//! so a plan can tell an object that must change from one that is untouched.
//! The file is JSON Lines: a header line, a line per tenant's input digest,
//! then the objects sorted by key, one a line, so a change to one tenant
//! changes the lines about that tenant only (no separator moves between
//! lines).

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The file an inventory is written to, at the bundle root.
pub const INVENTORY: &str = "inventory.jsonl";

/// An object's identity on its target system.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub target: String,
    pub kind: String,
    pub name: String,
}

impl Key {
    pub fn new(target: impl Into<String>, kind: &str, name: impl Into<String>) -> Key {
        Key {
            target: target.into(),
            kind: kind.to_string(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.target, self.kind, self.name)
    }
}

/// What an inventory says of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub key: Key,
    /// The tenants it serves, sorted; empty for a platform object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// The bundle file that creates it.
    pub file: String,
    /// The sha256 of its definition, in hex.
    pub digest: String,
    /// For a certificate: what it is to the site (`authority:<name>`,
    /// `server:<name>`, `client:<tenant>`), so that a plan recognises a
    /// certificate replaced under a new label as a renewal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// For a certificate: the certificate that signs it (`CERTAUTH/<label>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// For a certificate: its NOTBEFORE date (yyyy-mm-dd), when the spec dates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// For a certificate: its NOTAFTER date (yyyy-mm-dd), when the spec dates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// For an export line: the line itself (no secret: a path and options),
    /// so that a plan can keep it served until its consumers are gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Entry {
    /// An object served by `owners`, created by `file`.
    pub fn new<'a>(
        key: Key,
        owners: impl IntoIterator<Item = &'a String>,
        file: &str,
        digest: String,
    ) -> Entry {
        Entry {
            key,
            owners: owners.into_iter().cloned().collect(),
            file: file.to_string(),
            digest,
            role: None,
            signer: None,
            not_before: None,
            not_after: None,
            text: None,
        }
    }
}

/// The commands that create an object, as the bundle writes them: the laid
/// out lines of a TSO command (z/OS), or a Purity command's words (arrays).
/// Kept in memory for a plan; never written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipe {
    /// Each command, as the lines it is written in.
    pub create: Vec<Vec<String>>,
    /// What must run again after the object is made (the certificate
    /// exports a new proxy needs), each command as its lines.
    pub then: Vec<Vec<String>>,
}

/// What the objects were made from: a digest of everything in the specs but
/// the tenant blocks (the infrastructure, imports, comments outside tenants)
/// and one of each tenant's block, with the name of its file. A plan lowers
/// again only the tenants whose digest changed, when the rest did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    pub site: String,
    pub tenants: BTreeMap<String, String>,
}

/// The ledger of objects a bundle asks its target systems to hold.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub entries: BTreeMap<Key, Entry>,
    pub recipes: BTreeMap<Key, Recipe>,
    pub inputs: Inputs,
    /// Objects of a deployed inventory carried through unchanged, as their
    /// lines (a plan that lowered some tenants only keeps the others'
    /// objects without parsing them). Their keys are not in `entries`.
    pub kept: Option<Kept>,
    /// The objects of a streamed compile, held small ([`Compact`]); their
    /// keys are not in `entries`.
    pub compact: Compact,
}

/// Lines of a [`Deployed`] inventory kept as they are.
#[derive(Debug, Clone)]
pub struct Kept {
    deployed: Arc<Deployed>,
    /// Indexes into the deployed inventory's lines, in key order.
    lines: Vec<usize>,
}

/// The first line of `inventory.jsonl`.
#[derive(Serialize, Deserialize)]
struct Header {
    tool: String,
    version: String,
    site: String,
}

/// A tenant's input digest, one line each.
#[derive(Serialize, Deserialize)]
struct TenantInput {
    tenant: String,
    digest: String,
}

impl Inventory {
    /// Records an object; one object recorded twice with two definitions is
    /// a bug in lowering.
    pub fn record(&mut self, entry: Entry, recipe: Recipe) -> Result<(), String> {
        use std::collections::btree_map::Entry as E;
        match self.entries.entry(entry.key.clone()) {
            E::Occupied(mut o) => {
                let have = o.get_mut();
                if have.digest != entry.digest || have.file != entry.file {
                    return Err(format!("two definitions of {}", entry.key));
                }
                have.owners.extend(entry.owners);
                have.owners.sort();
                have.owners.dedup();
            }
            E::Vacant(v) => {
                if !recipe.create.is_empty() || !recipe.then.is_empty() {
                    self.recipes.insert(entry.key.clone(), recipe);
                }
                v.insert(entry);
            }
        }
        Ok(())
    }

    pub fn absorb(&mut self, other: Inventory) -> Result<(), String> {
        let mut recipes = other.recipes;
        for (k, e) in other.entries {
            let r = recipes.remove(&k).unwrap_or_default();
            self.record(e, r)?;
        }
        self.compact.absorb(other.compact);
        Ok(())
    }

    /// Sorts and merges the [`Compact`] objects (an object recorded twice
    /// with two definitions is refused here), before the inventory is
    /// written.
    pub fn settle(&mut self) -> Result<(), String> {
        self.compact.settle()
    }

    /// Every object, parsed or compact, in key order (not the kept lines).
    fn objects(&self) -> Result<impl Iterator<Item = Cow<'_, Entry>>, String> {
        if !self.compact.settled && !self.compact.objects.is_empty() {
            return Err("the inventory's compact objects were not settled".into());
        }
        let mut parsed = self.entries.values().peekable();
        let mut compact = self.compact.iter().peekable();
        Ok(std::iter::from_fn(move || {
            let first = match (parsed.peek(), compact.peek()) {
                (Some(e), Some(o)) => key_parts(&e.key) <= self.compact.key(o),
                (p, _) => p.is_some(),
            };
            match first {
                true => parsed.next().map(Cow::Borrowed),
                false => compact.next().map(|o| Cow::Owned(self.compact.entry(o))),
            }
        }))
    }

    /// `inventory.jsonl`: the header, the tenants' input digests, then the
    /// objects, one a line, sorted by key.
    pub fn to_jsonl(&self) -> String {
        let kept_bytes: usize = self.kept.as_ref().map_or(0, |k| {
            k.lines
                .iter()
                .map(|&i| k.deployed.lines[i].len as usize + 1)
                .sum()
        });
        let mut out = Vec::with_capacity(
            (self.entries.len() + self.compact.len() + self.inputs.tenants.len()) * 200
                + kept_bytes
                + 100,
        );
        // Writing to memory cannot fail; the lines are JSON, so UTF-8.
        let _ = self.write_jsonl(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// [`Inventory::to_jsonl`], written to `w` a line at a time: a compile
    /// streams it into its file (66 MB at 10,000 tenants, one file each).
    pub fn write_jsonl(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        // Nothing written from an inventory that cannot be written whole.
        let objects = self
            .objects()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let line = |w: &mut dyn std::io::Write, v: &dyn erased::Ser| -> std::io::Result<()> {
            w.write_all(v.json().as_bytes())?;
            w.write_all(b"\n")
        };
        line(
            w,
            &Header {
                tool: "tenantc".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                site: self.inputs.site.clone(),
            },
        )?;
        for (t, d) in &self.inputs.tenants {
            line(
                w,
                &TenantInput {
                    tenant: t.clone(),
                    digest: d.clone(),
                },
            )?;
        }
        // The parsed objects and the kept lines, merged in key order.
        let kept: &[usize] = self.kept.as_ref().map_or(&[], |k| &k.lines);
        let mut kept = kept.iter().peekable();
        for e in objects {
            if let Some(d) = self.kept.as_ref().map(|k| &k.deployed) {
                while let Some(&&i) = kept.peek() {
                    if d.key(i) > key_parts(&e.key) {
                        break;
                    }
                    w.write_all(d.line(i).as_bytes())?;
                    w.write_all(b"\n")?;
                    kept.next();
                }
            }
            line(w, &*e)?;
        }
        if let Some(d) = self.kept.as_ref().map(|k| &k.deployed) {
            for &i in kept {
                w.write_all(d.line(i).as_bytes())?;
                w.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    /// The tenants the objects serve, for the manifest.
    pub fn owners(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self
            .entries
            .values()
            .flat_map(|e| e.owners.iter().cloned())
            .collect();
        all.extend(self.compact.owners());
        if let Some(k) = &self.kept {
            let mut seen = vec![false; k.deployed.tenants.len()];
            for &i in &k.lines {
                for &o in k.deployed.owner_ids(i) {
                    seen[o as usize] = true;
                }
            }
            for (t, s) in k.deployed.tenants.iter().zip(seen) {
                if s {
                    all.insert(t.clone());
                }
            }
        }
        all
    }

    /// The kept objects whose key `wanted` accepts, parsed.
    pub fn kept_entries(&self, wanted: impl Fn(&[&str; 3]) -> bool) -> Result<Vec<Entry>, String> {
        let Some(k) = &self.kept else {
            return Ok(Vec::new());
        };
        k.lines
            .iter()
            .filter(|&&i| wanted(&k.deployed.key(i)))
            .map(|&i| k.deployed.entry(i))
            .collect()
    }

    /// Reads an inventory written by [`Inventory::to_jsonl`], every object
    /// parsed.
    pub fn from_jsonl(text: &str) -> Result<Inventory, String> {
        Deployed::read(text.to_string())?.to_inventory()
    }
}

/// The objects of a streamed compile (273,581 at 10,000 tenants), each held
/// once and small: its target and kind as indexes into words spelt once,
/// its owners as an index into sets of them, its digest as its 32 bytes,
/// the certificate's and export's fields apart (few objects have them).
/// Recorded in blocks in the order lowering makes them (appending never
/// moves them), then put in key order by an index and merged once
/// ([`Compact::settle`]) where a map would hold each key twice. An
/// [`Entry`] again when written, so the lines are those of
/// [`Inventory::entries`].
#[derive(Debug, Clone, Default)]
pub struct Compact {
    /// Targets, kinds and owners.
    words: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
    /// Sets of owners (words), each sorted by id and once.
    sets: Vec<Box<[u32]>>,
    set_ids: HashMap<Box<[u32]>, u32>,
    objects: super::written::Chunked<Object>,
    /// The objects in key order, each key once, when settled.
    order: Vec<u32>,
    /// Whether `order` is up to date.
    settled: bool,
}

#[derive(Debug, Clone)]
struct Object {
    target: u32,
    kind: u32,
    name: Box<str>,
    /// A set of `sets`.
    owners: u32,
    file: Box<str>,
    digest: Digest,
    extra: Option<Box<Extra>>,
}

/// A digest as its bytes when it is lowercase hex (as [`digest_lines`]
/// writes it), else as given.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Digest {
    Sha([u8; 32]),
    Text(Box<str>),
}

impl Digest {
    fn new(hex: String) -> Digest {
        let b = hex.as_bytes();
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 32];
        if b.len() == 64 {
            let ok = out.iter_mut().enumerate().all(|(i, o)| {
                match (nibble(b[2 * i]), nibble(b[2 * i + 1])) {
                    (Some(h), Some(l)) => {
                        *o = h << 4 | l;
                        true
                    }
                    _ => false,
                }
            });
            if ok {
                return Digest::Sha(out);
            }
        }
        Digest::Text(hex.into_boxed_str())
    }

    fn text(&self) -> String {
        match self {
            Digest::Sha(d) => super::hex(d),
            Digest::Text(t) => t.to_string(),
        }
    }
}

/// An [`Entry`]'s fields only some objects have.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Extra {
    role: Option<String>,
    signer: Option<String>,
    not_before: Option<String>,
    not_after: Option<String>,
    text: Option<String>,
}

impl Compact {
    fn id(&mut self, word: &str) -> u32 {
        if let Some(&i) = self.ids.get(word) {
            return i;
        }
        let w: Arc<str> = Arc::from(word);
        let i = self.words.len() as u32;
        self.words.push(w.clone());
        self.ids.insert(w, i);
        i
    }

    /// The set of these words' ids.
    fn set(&mut self, mut ids: Vec<u32>) -> u32 {
        ids.sort_unstable();
        ids.dedup();
        super::written::intern_set(&mut self.sets, &mut self.set_ids, ids)
    }

    /// Records an object; [`Compact::settle`] merges an object recorded
    /// twice, or refuses its two definitions.
    pub fn record(&mut self, e: Entry) {
        let owners: Vec<u32> = e.owners.iter().map(|o| self.id(o)).collect();
        let owners = self.set(owners);
        let extra = (e.role.is_some()
            || e.signer.is_some()
            || e.not_before.is_some()
            || e.not_after.is_some()
            || e.text.is_some())
        .then(|| {
            Box::new(Extra {
                role: e.role,
                signer: e.signer,
                not_before: e.not_before,
                not_after: e.not_after,
                text: e.text,
            })
        });
        let o = Object {
            target: self.id(&e.key.target),
            kind: self.id(&e.key.kind),
            name: e.key.name.into_boxed_str(),
            owners,
            file: e.file.into_boxed_str(),
            digest: Digest::new(e.digest),
            extra,
        };
        self.objects.push(o);
        self.settled = false;
    }

    /// Moves another's objects into this one, after its own.
    pub fn absorb(&mut self, mut other: Compact) {
        if other.objects.is_empty() {
            return;
        }
        let map: Vec<u32> = other.words.iter().map(|w| self.id(w)).collect();
        let sets: Vec<u32> = std::mem::take(&mut other.sets)
            .iter()
            .map(|s| self.set(s.iter().map(|&w| map[w as usize]).collect()))
            .collect();
        for o in other.objects.iter_mut() {
            o.target = map[o.target as usize];
            o.kind = map[o.kind as usize];
            o.owners = sets[o.owners as usize];
        }
        self.objects.append(other.objects);
        self.settled = false;
    }

    /// Puts the objects in key order, an object recorded twice once with
    /// its owners merged (the first recorded kept, as
    /// [`Inventory::record`] does); two definitions of one object are a
    /// bug in lowering.
    pub fn settle(&mut self) -> Result<(), String> {
        if self.settled {
            return Ok(());
        }
        // The words' ranks in string order, so keys compare as their text.
        let mut order: Vec<u32> = (0..self.words.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.words[a as usize].cmp(&self.words[b as usize]));
        let mut rank = vec![0u32; self.words.len()];
        for (r, &w) in order.iter().enumerate() {
            rank[w as usize] = r as u32;
        }
        // An index in key order (the objects stay where they are): of one
        // key recorded twice, the first stays first.
        let objects = &self.objects;
        let key = |i: u32| {
            let o = objects.get(i as usize);
            (rank[o.target as usize], rank[o.kind as usize], &o.name, i)
        };
        let mut order: Vec<u32> = (0..objects.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)));
        let mut twice = None;
        let mut merged: Vec<(u32, Vec<u32>)> = Vec::new();
        order.dedup_by(|later, first| {
            let (o, have) = (objects.get(*later as usize), objects.get(*first as usize));
            if (have.target, have.kind, &have.name) != (o.target, o.kind, &o.name) {
                return false;
            }
            if have.digest != o.digest || have.file != o.file {
                twice.get_or_insert_with(|| {
                    format!(
                        "two definitions of {} {} {}",
                        self.words[o.target as usize], self.words[o.kind as usize], o.name
                    )
                });
            } else if o.owners != have.owners {
                // Merged once all are known, into the first.
                let more = self.sets[o.owners as usize].iter();
                match merged.last_mut() {
                    Some((at, owners)) if at == first => owners.extend(more),
                    _ => {
                        let mut owners = self.sets[have.owners as usize].to_vec();
                        owners.extend(more);
                        merged.push((*first, owners));
                    }
                }
            }
            true
        });
        if let Some(e) = twice {
            return Err(e);
        }
        for (at, owners) in merged {
            let set = self.set(owners);
            self.objects.get_mut(at as usize).owners = set;
        }
        self.order = order;
        self.settled = true;
        Ok(())
    }

    /// The objects in key order, once settled.
    fn iter(&self) -> impl Iterator<Item = &Object> {
        self.order.iter().map(|&i| self.objects.get(i as usize))
    }

    fn key<'a>(&'a self, o: &'a Object) -> [&'a str; 3] {
        [
            &self.words[o.target as usize],
            &self.words[o.kind as usize],
            &o.name,
        ]
    }

    /// An object as the entry it was recorded from (owners merged).
    fn entry(&self, o: &Object) -> Entry {
        let mut owners: Vec<String> = self.sets[o.owners as usize]
            .iter()
            .map(|&w| self.words[w as usize].to_string())
            .collect();
        owners.sort();
        let extra = o.extra.as_deref().cloned();
        let (role, signer, not_before, not_after, text) = match extra {
            Some(x) => (x.role, x.signer, x.not_before, x.not_after, x.text),
            None => (None, None, None, None, None),
        };
        Entry {
            key: Key::new(
                self.words[o.target as usize].to_string(),
                &self.words[o.kind as usize],
                o.name.to_string(),
            ),
            owners,
            file: o.file.to_string(),
            digest: o.digest.text(),
            role,
            signer,
            not_before,
            not_after,
            text,
        }
    }

    /// The tenants the objects serve.
    fn owners(&self) -> impl Iterator<Item = String> + '_ {
        let mut used = vec![false; self.sets.len()];
        for o in self.iter() {
            used[o.owners as usize] = true;
        }
        let mut seen = vec![false; self.words.len()];
        for (set, _) in self.sets.iter().zip(used).filter(|(_, u)| *u) {
            for &w in set.iter() {
                seen[w as usize] = true;
            }
        }
        (self.words.iter().zip(seen))
            .filter(|(_, s)| *s)
            .map(|(w, _)| w.to_string())
    }

    /// How many objects are held (each key once when settled).
    pub fn len(&self) -> usize {
        match self.settled {
            true => self.order.len(),
            false => self.objects.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// A key as the parts it is ordered by.
fn key_parts(k: &Key) -> [&str; 3] {
    [&k.target, &k.kind, &k.name]
}

/// A deployed bundle's inventory, read lazily: the header and the tenants'
/// input digests are parsed, the objects only indexed (each line's key and
/// owners, read from the line's start), so that a plan which lowers a few
/// tenants parses only the objects it compares and copies the others' lines
/// through unchanged. At 10,000 tenants the file is some 60 MB; parsing
/// every object of it cost a one-tenant plan most of its second.
#[derive(Debug)]
pub struct Deployed {
    text: String,
    pub inputs: Inputs,
    /// The object lines, in key order.
    lines: Vec<Line>,
    /// Keys holding a JSON escape, decoded, by line index.
    decoded: HashMap<usize, [String; 3]>,
    /// The owners of every line, as indexes into `tenants`.
    pool: Vec<u32>,
    /// Every tenant named as an owner.
    tenants: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Line {
    at: u32,
    len: u32,
    /// The raw spans of the key's target, kind and name in `text`.
    key: [(u32, u32); 3],
    /// The owners' range in `pool`.
    owners: (u32, u32),
}

/// A JSON string starting at `s[at]` (its opening quote): its contents' span,
/// whether it holds an escape, and the index after its closing quote.
fn json_string(s: &[u8], at: usize) -> Option<((usize, usize), bool, usize)> {
    if s.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    let mut escaped = false;
    while i < s.len() {
        match s[i] {
            b'"' => return Some(((at + 1, i), escaped, i + 1)),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            c if c < 0x20 => return None,
            _ => i += 1,
        }
    }
    None
}

impl Deployed {
    /// Reads an inventory written by [`Inventory::to_jsonl`].
    pub fn read(text: String) -> Result<Deployed, String> {
        let mut d = Deployed {
            text: String::new(),
            inputs: Inputs::default(),
            lines: Vec::new(),
            decoded: HashMap::new(),
            pool: Vec::new(),
            tenants: Vec::new(),
        };
        let mut ids: HashMap<String, u32> = HashMap::new();
        let bytes = text.as_bytes();
        let mut pos = 0usize;
        let mut first = true;
        // Every reason names a line and says what is wrong without quoting
        // it: the inventory is untrusted text.
        let mut number = 0usize;
        let why = |number: usize, what: &str| format!("line {number}: {what}");
        let bad = |number: usize, what: &str| Err(why(number, what));
        let json = |number: usize| move |_| why(number, "not an inventory line's JSON");
        while pos < text.len() {
            number += 1;
            let end = text[pos..].find('\n').map_or(text.len(), |n| pos + n);
            let l = &text[pos..end];
            let at = pos;
            pos = end + 1;
            // JSON carries no raw control character (RFC 8259: escaped in
            // strings, none elsewhere but blanks tenantc never writes); the
            // lines of untouched objects are copied into a change as they
            // are, so a raw escape or NUL must not reach a terminal or a log.
            if l.bytes().any(|b| b < 0x20) {
                return bad(number, "a line holds a control character");
            }
            if first {
                first = false;
                let header: Header = serde_json::from_str(l).map_err(json(number))?;
                if header.tool != "tenantc" {
                    return bad(number, "the header does not name tenantc");
                }
                d.inputs.site = header.site;
                continue;
            }
            if l.starts_with("{\"tenant\":") {
                let t: TenantInput = serde_json::from_str(l).map_err(json(number))?;
                super::admit::tenant(&t.tenant).map_err(|w| why(number, w))?;
                d.inputs.tenants.insert(t.tenant, t.digest);
                continue;
            }
            // `{"target":"..","kind":"..","name":"..",["owners":[..],]"file":..}`
            let mut i = at;
            let mut key = [(0u32, 0u32); 3];
            let mut escaped = false;
            for (n, field) in ["{\"target\":", ",\"kind\":", ",\"name\":"]
                .iter()
                .enumerate()
            {
                if !text[i..end].starts_with(field) {
                    return bad(number, "an object line does not start with its key");
                }
                let Some((span, esc, next)) = json_string(&bytes[..end], i + field.len()) else {
                    return bad(number, "a key is not a string");
                };
                key[n] = (span.0 as u32, span.1 as u32);
                escaped |= esc;
                i = next;
            }
            let from = d.pool.len() as u32;
            if text[i..end].starts_with(",\"owners\":[") {
                i += ",\"owners\":[".len();
                loop {
                    let Some(((a, b), esc, next)) = json_string(&bytes[..end], i) else {
                        return bad(number, "an owner is not a string");
                    };
                    let name: Cow<str> = if esc {
                        Cow::Owned(
                            serde_json::from_str::<String>(&text[a - 1..=b])
                                .map_err(json(number))?,
                        )
                    } else {
                        Cow::Borrowed(&text[a..b])
                    };
                    let id = match ids.get(name.as_ref()) {
                        Some(&id) => id,
                        None => {
                            super::admit::tenant(&name).map_err(|w| why(number, w))?;
                            let id = d.tenants.len() as u32;
                            ids.insert(name.to_string(), id);
                            d.tenants.push(name.into_owned());
                            id
                        }
                    };
                    d.pool.push(id);
                    match bytes.get(next) {
                        Some(b',') => i = next + 1,
                        Some(b']') => break,
                        _ => return bad(number, "the owners are not a list of strings"),
                    }
                }
            }
            if !l.ends_with('}') {
                return bad(number, "an object line is cut short");
            }
            let index = d.lines.len();
            d.lines.push(Line {
                at: at as u32,
                len: (end - at) as u32,
                key,
                owners: (from, d.pool.len() as u32),
            });
            if escaped {
                let mut k: [String; 3] = Default::default();
                for (n, (a, b)) in key.iter().enumerate() {
                    k[n] = serde_json::from_str(&text[*a as usize - 1..=*b as usize])
                        .map_err(json(number))?;
                }
                super::admit::key(&k[0], &k[1], &k[2]).map_err(|w| why(number, w))?;
                d.decoded.insert(index, k);
            } else {
                let [t, k, n] = key.map(|(a, b)| &text[a as usize..b as usize]);
                super::admit::key(t, k, n).map_err(|w| why(number, w))?;
            }
        }
        if first {
            return Err("the inventory is empty".into());
        }
        d.text = text;
        // Written sorted; an inventory sorted otherwise is put in order.
        let sorted = (1..d.lines.len()).all(|i| d.key(i - 1) < d.key(i));
        if !sorted {
            let mut order: Vec<usize> = (0..d.lines.len()).collect();
            order.sort_by(|&a, &b| d.key(a).cmp(&d.key(b)));
            if order.windows(2).any(|w| d.key(w[0]) == d.key(w[1])) {
                return Err("an object is listed twice".into());
            }
            let decoded = std::mem::take(&mut d.decoded);
            d.decoded = order
                .iter()
                .enumerate()
                .filter_map(|(n, &o)| decoded.get(&o).map(|k| (n, k.clone())))
                .collect();
            d.lines = order.iter().map(|&o| d.lines[o]).collect();
        }
        d.consistent()?;
        Ok(d)
    }

    /// What an inventory tenantc wrote says of its own objects, beyond each
    /// line's spelling ([`super::admit`]): an object in a tenant's namespace
    /// (a namespace with owners) serves only that namespace's tenants, and a
    /// pod only its realm's. A forged line that puts another tenant's
    /// claim, or a live object of a surviving tenant, under a removed
    /// tenant would otherwise be deleted with it.
    fn consistent(&self) -> Result<(), String> {
        for i in 0..self.lines.len() {
            let [target, kind, name] = self.key(i);
            let parent = match (kind, name.split_once('/'), name.split_once("::")) {
                (_, Some((ns, _)), _) if target.starts_with("cluster/") => {
                    Some([target, "Namespace", ns])
                }
                ("pod", _, Some((realm, _))) => Some([target, "realm", realm]),
                _ => None,
            };
            let Some(parent) = parent else { continue };
            let Ok(p) = self.lines_search(&parent) else {
                // A namespace or realm the bundle does not create is the
                // platform's; its objects are judged by their spelling.
                continue;
            };
            let theirs = self.owner_ids(p);
            if !theirs.is_empty() && !self.owner_ids(i).iter().all(|o| theirs.contains(o)) {
                let at = self.lines[i].at as usize;
                return Err(format!(
                    "line {}: an object serves tenants its namespace or realm does not",
                    self.text[..at].matches('\n').count() + 1
                ));
            }
        }
        Ok(())
    }

    /// The number of objects.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Line `i`'s key: target, kind and name.
    pub fn key(&self, i: usize) -> [&str; 3] {
        if let Some(k) = self.decoded.get(&i) {
            return [&k[0], &k[1], &k[2]];
        }
        let l = &self.lines[i];
        l.key.map(|(a, b)| &self.text[a as usize..b as usize])
    }

    fn line(&self, i: usize) -> &str {
        let l = &self.lines[i];
        &self.text[l.at as usize..(l.at + l.len) as usize]
    }

    fn owner_ids(&self, i: usize) -> &[u32] {
        let (a, b) = self.lines[i].owners;
        &self.pool[a as usize..b as usize]
    }

    /// Whether an owner of line `i` is one of `tenants` (by [`Deployed::ids`]).
    pub fn owned_by(&self, i: usize, tenants: &[bool]) -> bool {
        self.owner_ids(i).iter().any(|&o| tenants[o as usize])
    }

    /// The owners of line `i`.
    pub fn owners(&self, i: usize) -> impl Iterator<Item = &str> {
        self.owner_ids(i)
            .iter()
            .map(|&o| self.tenants[o as usize].as_str())
    }

    /// Whether line `i` has owners at all.
    pub fn has_owners(&self, i: usize) -> bool {
        let (a, b) = self.lines[i].owners;
        a != b
    }

    /// `tenants` as a mask over the owners this inventory names.
    pub fn ids<'t>(&self, tenants: impl IntoIterator<Item = &'t String>) -> Vec<bool> {
        let set: BTreeSet<&str> = tenants.into_iter().map(String::as_str).collect();
        self.tenants
            .iter()
            .map(|t| set.contains(t.as_str()))
            .collect()
    }

    /// The line of `key`, if the inventory holds it.
    pub fn find(&self, key: &Key) -> Option<usize> {
        let k = key_parts(key);
        self.lines_search(&k).ok()
    }

    fn lines_search(&self, k: &[&str; 3]) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.lines.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.key(mid).cmp(k) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// Line `i`, parsed.
    pub fn entry(&self, i: usize) -> Result<Entry, String> {
        // Numbered as `read` numbers lines (on an error only: a count of the
        // line breaks before it).
        let why = |what: &str| {
            let at = self.lines[i].at as usize;
            format!("line {}: {what}", self.text[..at].matches('\n').count() + 1)
        };
        let e: Entry =
            serde_json::from_str(self.line(i)).map_err(|_| why("not an object line's JSON"))?;
        if key_parts(&e.key) != self.key(i) {
            return Err(why("an object line names two keys"));
        }
        super::admit::entry(&e).map_err(why)?;
        Ok(e)
    }

    /// Every object, parsed.
    pub fn to_inventory(&self) -> Result<Inventory, String> {
        let mut inv = Inventory {
            inputs: self.inputs.clone(),
            ..Default::default()
        };
        for i in 0..self.lines.len() {
            let e = self.entry(i)?;
            inv.entries.insert(e.key.clone(), e);
        }
        Ok(inv)
    }

    /// `lines` (indexes, in key order) kept as they are in an inventory.
    pub fn keep(self: &Arc<Self>, lines: Vec<usize>) -> Kept {
        Kept {
            deployed: Arc::clone(self),
            lines,
        }
    }
}

/// One JSON line of a serializable value.
mod erased {
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            // Strings and maps of strings only: serializing cannot fail.
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

/// The sha256 of a definition given as lines, in hex.
pub fn digest_lines<S: AsRef<str>>(lines: &[S]) -> String {
    let mut text = String::new();
    for l in lines {
        text.push_str(l.as_ref());
        text.push('\n');
    }
    super::sha256(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, name: &str, digest: &str) -> Entry {
        Entry {
            key: Key::new("zos/SYS1", kind, name),
            owners: vec!["t1".into()],
            file: "f".into(),
            // A sha256 in hex, as `bundle::admit` wants one.
            digest: format!("{digest:0>64}"),
            role: None,
            signer: None,
            not_before: None,
            not_after: None,
            text: None,
        }
    }

    #[test]
    fn round_trips_one_object_a_line() {
        let mut inv = Inventory::default();
        inv.record(entry("keyring", "U/R", "1"), Recipe::default())
            .expect("new");
        inv.record(entry("certificate", "U/l", "2"), Recipe::default())
            .expect("new");
        inv.inputs.site = "s".into();
        inv.inputs.tenants.insert("t1".into(), "d".into());
        let text = inv.to_jsonl();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text
            .lines()
            .nth(2)
            .is_some_and(|l| l.contains("certificate")));
        let back = Inventory::from_jsonl(&text).expect("parses");
        assert_eq!(back.entries, inv.entries);
        assert_eq!(back.inputs, inv.inputs);
        let empty = Inventory::from_jsonl(&Inventory::default().to_jsonl()).expect("parses");
        assert!(empty.entries.is_empty());
        assert!(
            Inventory::from_jsonl("{\"tool\":\"other\",\"version\":\"1\",\"site\":\"\"}").is_err()
        );
    }

    #[test]
    fn a_deployed_inventory_read_lazily_writes_back_its_kept_lines_unchanged() {
        let mut inv = Inventory::default();
        inv.inputs.site = "s".into();
        for (i, name) in ["U/a", "U/b \"quoted\" x", "U/c", "U/d", "U/e"]
            .iter()
            .enumerate()
        {
            let mut e = entry("certificate", name, &i.to_string());
            e.owners = match i {
                0 => vec![],
                1 => vec!["t1".into(), "t2".into()],
                _ => vec![format!("t{i}")],
            };
            e.not_after = Some("2027-01-01".into());
            inv.record(e, Recipe::default()).expect("new");
            inv.inputs.tenants.insert(format!("t{i}"), format!("d{i}"));
        }
        let text = inv.to_jsonl();
        let d = Arc::new(Deployed::read(text.clone()).expect("reads"));
        assert_eq!(d.len(), 5);
        assert_eq!(d.inputs, inv.inputs);
        assert_eq!(d.to_inventory().expect("parses").entries, inv.entries);
        assert_eq!(d.key(1), ["zos/SYS1", "certificate", "U/b \"quoted\" x"]);
        assert_eq!(d.owners(1).collect::<Vec<_>>(), ["t1", "t2"]);
        assert!(d.owned_by(3, &d.ids([&"t3".to_string()])));
        assert!(!d.owned_by(3, &d.ids([&"t2".to_string()])));
        assert!(!d.has_owners(0));
        for (i, e) in inv.entries.values().enumerate() {
            assert_eq!(d.find(&e.key), Some(i));
        }
        assert_eq!(d.find(&Key::new("zos/SYS1", "certificate", "U/bb")), None);
        // Lines 1 and 3 parsed again, the others kept: the same file.
        let mut back = Inventory {
            inputs: inv.inputs.clone(),
            ..Default::default()
        };
        for i in [1, 3] {
            let e = d.entry(i).expect("parses");
            back.entries.insert(e.key.clone(), e);
        }
        back.kept = Some(d.keep(vec![0, 2, 4]));
        assert_eq!(back.to_jsonl(), text);
        assert_eq!(back.owners(), inv.owners());
        let certs = back
            .kept_entries(|k| k[1] == "certificate")
            .expect("parses");
        assert_eq!(certs.len(), 3);
        // Out of order, it is put in order; an object twice is refused.
        let mut lines: Vec<&str> = text.lines().collect();
        lines[6..].reverse();
        let shuffled = Deployed::read(lines.join("\n")).expect("reads");
        assert_eq!(
            shuffled.to_inventory().expect("parses").entries,
            inv.entries
        );
        let twice = format!("{text}{}\n", text.lines().last().expect("a line"));
        assert!(Deployed::read(twice).is_err());
        // Lines that are not objects as tenantc writes them are refused.
        for bad in [
            "{\"kind\":\"x\",\"target\":\"t\",\"name\":\"n\",\"file\":\"f\",\"digest\":\"d\"}",
            "{\"target\":\"t\",\"kind\":\"x\",\"name\":\"n\",\"owners\":[1],\"file\":\"f\"}",
            // A raw control character in the tail a plan copies unparsed.
            "{\"target\":\"zos/S\",\"kind\":\"racf-user\",\"name\":\"N\",\"file\":\"f\",\"x\":\"\u{1b}[2J\"}",
            // An owner no tenant can be named (`bundle::admit`).
            "{\"target\":\"zos/S\",\"kind\":\"racf-user\",\"name\":\"N\",\"owners\":[\"t\\\"1\"],\"file\":\"f\"}",
            "{\"target\":\"t\",\"kind\":\"x\",\"name\":\"n",
            "",
        ] {
            assert!(Deployed::read(format!("{text}{bad}\n")).is_err(), "{bad}");
        }
        // A line whose key differs from its parse is refused when parsed.
        let forged = format!(
            "{text}{}\n",
            "{\"target\":\"zos/ZZ\",\"kind\":\"racf-user\",\"name\":\"N\",\"file\":\"f\",\"digest\":\"d\",\"target\":\"zos/OTHER\"}"
        );
        let d = Deployed::read(forged).expect("indexes");
        assert!(d.to_inventory().is_err());
    }

    #[test]
    fn compact_objects_write_the_lines_of_parsed_ones() {
        let digest = |i: u8| super::super::sha256(&[i]);
        let mut objects = Vec::new();
        for (i, (kind, name, owner)) in [
            ("keyring", "U/R", "t2"),
            ("certificate", "U/l", "t1"),
            ("keyring", "U/R", "t1"),
            ("racf-user", "U", "t\"3"),
            ("keyring", "U/R", "t2"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut e = entry(
                kind,
                name,
                &digest(if kind == "keyring" { 0 } else { i as u8 }),
            );
            e.owners = vec![owner.to_string()];
            if kind == "certificate" {
                e.role = Some("client:t1".into());
                e.not_after = Some("2027-01-01".into());
            }
            objects.push(e);
        }
        // Not a sha256: kept as given.
        let mut odd = entry("export", "S /p", "not hex");
        odd.owners.clear();
        odd.text = Some("/p -(ro)".into());
        objects.push(odd);
        objects.push(Entry {
            key: Key::new("array/A", "pod", "r::p"),
            ..entry("x", "y", &digest(9).to_uppercase())
        });
        let mut parsed = Inventory::default();
        parsed.inputs.site = "s".into();
        let mut compact = Inventory {
            inputs: parsed.inputs.clone(),
            ..Default::default()
        };
        let mut part = Compact::default();
        for (i, e) in objects.into_iter().enumerate() {
            parsed
                .record(e.clone(), Recipe::default())
                .expect("one definition");
            match i % 2 {
                0 => compact.compact.record(e),
                _ => part.record(e),
            }
        }
        compact.compact.absorb(part);
        assert!(compact.to_jsonl().is_empty(), "written before settled");
        compact.settle().expect("one definition each");
        assert_eq!(compact.compact.len(), 5);
        assert_eq!(compact.to_jsonl(), parsed.to_jsonl());
        assert_eq!(compact.owners(), parsed.owners());
        // Both kinds at once, merged in key order.
        let mut both = compact.clone();
        let e = entry("attls-rule", "R", &digest(7));
        parsed.record(e.clone(), Recipe::default()).expect("new");
        both.record(e, Recipe::default()).expect("new");
        assert_eq!(both.to_jsonl(), parsed.to_jsonl());
        // Two definitions of one object are refused when settled.
        compact.compact.record(entry("keyring", "U/R", &digest(1)));
        assert!(compact.settle().is_err());
    }

    #[test]
    fn one_object_with_two_definitions_is_refused() {
        let mut inv = Inventory::default();
        inv.record(entry("keyring", "U/R", "1"), Recipe::default())
            .expect("new");
        assert!(inv
            .record(entry("keyring", "U/R", "1"), Recipe::default())
            .is_ok());
        assert!(inv
            .record(entry("keyring", "U/R", "2"), Recipe::default())
            .is_err());
    }
}
