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
use std::collections::BTreeMap;

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
        Ok(())
    }

    /// `inventory.jsonl`: the header, the tenants' input digests, then the
    /// objects, one a line, sorted by key.
    pub fn to_jsonl(&self) -> String {
        let mut out = Vec::with_capacity(self.entries.len() * 200 + 100);
        // Writing to memory cannot fail; the lines are JSON, so UTF-8.
        let _ = self.write_jsonl(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// [`Inventory::to_jsonl`], written to `w` a line at a time: a compile
    /// streams it into its file (66 MB at 10,000 tenants, one file each).
    pub fn write_jsonl(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut line = |v: &dyn erased::Ser| -> std::io::Result<()> {
            w.write_all(v.json().as_bytes())?;
            w.write_all(b"\n")
        };
        line(&Header {
            tool: "tenantc".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            site: self.inputs.site.clone(),
        })?;
        for (t, d) in &self.inputs.tenants {
            line(&TenantInput {
                tenant: t.clone(),
                digest: d.clone(),
            })?;
        }
        for e in self.entries.values() {
            line(e)?;
        }
        Ok(())
    }

    /// The tenants the objects serve, for the manifest.
    pub fn owners(&self) -> std::collections::BTreeSet<String> {
        self.entries
            .values()
            .flat_map(|e| e.owners.iter().cloned())
            .collect()
    }

    /// Reads an inventory written by [`Inventory::to_jsonl`].
    pub fn from_jsonl(text: &str) -> Result<Inventory, String> {
        let mut lines = text.lines();
        let header: Header =
            serde_json::from_str(lines.next().ok_or("empty")?).map_err(|e| e.to_string())?;
        if header.tool != "tenantc" {
            return Err(format!("written by `{}`, not tenantc", header.tool));
        }
        let mut inv = Inventory::default();
        inv.inputs.site = header.site;
        for l in lines {
            if l.starts_with("{\"tenant\":") {
                let t: TenantInput = serde_json::from_str(l).map_err(|e| e.to_string())?;
                inv.inputs.tenants.insert(t.tenant, t.digest);
                continue;
            }
            let e: Entry = serde_json::from_str(l).map_err(|e| e.to_string())?;
            if inv.entries.insert(e.key.clone(), e).is_some() {
                return Err("an object is listed twice".into());
            }
        }
        Ok(inv)
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
            digest: digest.into(),
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
