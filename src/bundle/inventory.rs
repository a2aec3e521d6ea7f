//! The inventory: every object the bundle asks a target system to hold, one
//! entry each, recorded by lowering at the one place that writes the object's
//! definition (the RACF command, the Purity command, the export line, the
//! AT-TLS rule, the Kubernetes document). `inventory.json` is this ledger
//! written out; `tenantc plan` diffs the deployed bundle's inventory against
//! the specs' ([`crate::change`]).
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
//! The entries are sorted by key and written one per line, so a change to one
//! tenant changes that tenant's lines only.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The file an inventory is written to, at the bundle root.
pub const INVENTORY: &str = "inventory.json";

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

/// The ledger of objects a bundle asks its target systems to hold.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub entries: BTreeMap<Key, Entry>,
    pub recipes: BTreeMap<Key, Recipe>,
}

#[derive(Serialize, Deserialize)]
struct Document {
    tool: String,
    version: String,
    objects: Vec<Entry>,
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

    /// `inventory.json`: one object a line, sorted by key.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.entries.len() * 200 + 100);
        out.push_str("{\n  \"tool\": \"tenantc\",\n  \"version\": ");
        out.push_str(&serde_json::Value::from(env!("CARGO_PKG_VERSION")).to_string());
        out.push_str(",\n  \"objects\": [");
        for (i, e) in self.entries.values().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            // An Entry holds only strings: serializing it cannot fail.
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
        }
        out.push_str(if self.entries.is_empty() {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        });
        out
    }

    /// Reads an inventory written by [`Inventory::to_json`].
    pub fn from_json(text: &str) -> Result<Inventory, String> {
        let doc: Document = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if doc.tool != "tenantc" {
            return Err(format!("written by `{}`, not tenantc", doc.tool));
        }
        let mut inv = Inventory::default();
        for e in doc.objects {
            if inv.entries.insert(e.key.clone(), e).is_some() {
                return Err("an object is listed twice".into());
            }
        }
        Ok(inv)
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
        let json = inv.to_json();
        assert_eq!(json.lines().count(), 8, "{json}");
        assert!(json
            .lines()
            .nth(4)
            .is_some_and(|l| l.contains("certificate")));
        let back = Inventory::from_json(&json).expect("parses");
        assert_eq!(back.entries, inv.entries);
        assert_eq!(
            Inventory::from_json(&Inventory::default().to_json()).map(|i| i.entries.len()),
            Ok(0)
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
