//! Twins of the target systems, for tests: models of a RACF database and
//! its TSO batch job (racf.rs), of z/OS UNIX and the NFS server's and
//! Policy Agent's files (uss.rs), of a FlashArray's Purity CLI (array.rs)
//! and of a Kubernetes API server behind kubectl (k8s.rs), and a walker
//! (runbook.rs) that reads APPLY.md (or a CHANGE.md in the same style) in
//! document order and replays each step on the right twin.
//!
//! The twins replay the FILES tenantc wrote (the JCL's SYSTSIN, the Purity
//! scripts, the kustomizations and manifests), not its IR, with the
//! failure semantics of each command as its vendor documents it: a command
//! the real system would refuse fails here too, so a runbook that would
//! stop half-way on a real system stops here.
//!
//! Each twin exports its state as a sorted set of [`Obj`] (target, kind,
//! name, digest) with the keys of the bundle's inventory (`inventory.jsonl`).
#![allow(dead_code)]

pub mod array;
pub mod k8s;
pub mod racf;
pub mod runbook;
pub mod sites;
pub mod uss;

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// A bundle's files by their path relative to the bundle root.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The files of an in-memory bundle.
pub fn files_of(bundle: &tenantc::bundle::Bundle) -> Files {
    bundle
        .files
        .iter()
        .map(|(p, f)| (p.clone(), f.bytes.clone()))
        .collect()
}

/// The files of a bundle on disk (e.g. a `tenantc plan` change bundle).
pub fn files_on_disk(root: &std::path::Path) -> Files {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Files) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            let ft = e.file_type().expect("file type");
            if ft.is_dir() {
                walk(root, &p, out);
            } else if ft.is_file() {
                let rel = p
                    .strip_prefix(root)
                    .expect("inside")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = Files::new();
    walk(root, root, &mut out);
    out
}

/// `base` with `overlay`'s files over it: a change bundle's files read
/// with the full bundle they change (CHANGE.md names both).
pub fn overlay(base: &Files, overlay: &Files) -> Files {
    let mut out = base.clone();
    out.extend(overlay.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// Walks a bundle's APPLY.md on empty twins: the day-0 deployment.
pub fn day0(files: &Files) -> (World, runbook::Walk) {
    let mut world = World::empty_systems();
    let walk = runbook::walk(&mut world, files, "APPLY.md");
    (world, walk)
}

/// One object a target system holds: the inventory's key, with a digest of
/// its content where the twin knows one (empty otherwise).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Obj {
    pub target: String,
    pub kind: String,
    pub name: String,
    pub digest: String,
}

impl Obj {
    pub fn new(
        target: &str,
        kind: &str,
        name: impl Into<String>,
        digest: impl Into<String>,
    ) -> Obj {
        Obj {
            target: target.to_string(),
            kind: kind.to_string(),
            name: name.into(),
            digest: digest.into(),
        }
    }
}

impl std::fmt::Display for Obj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.target, self.kind, self.name)?;
        if !self.digest.is_empty() {
            write!(f, " #{}", self.digest)?;
        }
        Ok(())
    }
}

/// The same objects with their digests dropped: identity only.
pub fn identities(state: &BTreeSet<Obj>) -> BTreeSet<Obj> {
    state
        .iter()
        .map(|o| Obj {
            digest: String::new(),
            ..o.clone()
        })
        .collect()
}

/// A short, stable digest of a canonical text.
pub fn digest(text: &str) -> String {
    let h = Sha256::digest(text.as_bytes());
    h.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A command a twin refused: where, what, and why (the rule, with the
/// vendor's page in the twin's source beside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The runbook step or file the command came from.
    pub step: String,
    /// The command as the twin read it (continuations joined).
    pub command: String,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: `{}`: {}", self.step, self.command, self.reason)
    }
}

/// All the twins of a site, keyed as the inventory keys targets: z/OS
/// systems by name, arrays by name, clusters by name. A twin is created
/// empty the first time a step addresses it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct World {
    pub zos: BTreeMap<String, Zos>,
    pub arrays: BTreeMap<String, array::Array>,
    pub clusters: BTreeMap<String, k8s::Cluster>,
    /// The operator's workstation: files transferred, converted, copied.
    pub workstation: BTreeSet<String>,
    /// Environment variables the scripts read (e.g. the spec's token
    /// sources); empty on day 0.
    pub env: BTreeMap<String, String>,
}

/// One z/OS system: its RACF database (with the data sets TSO commands
/// create and delete) and its z/OS UNIX / configuration files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Zos {
    pub racf: racf::Racf,
    pub uss: uss::Uss,
}

impl World {
    /// Systems as the bundle finds them: nothing of the site's, on z/OS
    /// systems that run Policy Agent already (its started task's user ID,
    /// PAGENT, exists: the bundle permits it, never defines it), and
    /// scripts that run with TENANTC_SITE, the site root the token files
    /// are found under (APPLY.md says to set it).
    pub fn empty_systems() -> World {
        let mut w = World::default();
        w.env.insert("TENANTC_SITE".into(), "/site".into());
        w
    }

    pub fn zos(&mut self, sys: &str) -> &mut Zos {
        self.zos.entry(sys.to_string()).or_insert_with(|| {
            let mut z = Zos::default();
            // Policy Agent's user ID, there before the site (see empty_systems).
            let _ = z.racf.exec("ADDUSER PAGENT");
            z.racf.preexisting.insert("PAGENT".to_string());
            z
        })
    }
    pub fn array(&mut self, name: &str) -> &mut array::Array {
        self.arrays.entry(name.to_string()).or_default()
    }
    pub fn cluster(&mut self, name: &str) -> &mut k8s::Cluster {
        self.clusters.entry(name.to_string()).or_default()
    }

    /// Every object of every twin, with the inventory's keys.
    pub fn state(&self) -> BTreeSet<Obj> {
        let mut out = BTreeSet::new();
        for (sys, z) in &self.zos {
            let t = format!("zos/{sys}");
            out.extend(z.racf.state(&t));
            out.extend(z.uss.state(&t));
        }
        for (name, a) in &self.arrays {
            out.extend(a.state(&format!("array/{name}")));
        }
        for (name, c) in &self.clusters {
            out.extend(c.state(&format!("cluster/{name}")));
        }
        out
    }

    /// [`World::state`] plus what no inventory kind covers (the placed
    /// configuration files: NFS attributes and services, the Policy Agent
    /// image line, the TCP/IP profile line), as kind `file`.
    pub fn full_state(&self) -> BTreeSet<Obj> {
        let mut out = self.state();
        for (sys, z) in &self.zos {
            out.extend(z.uss.files_state(&format!("zos/{sys}")));
        }
        out
    }
}

/// Splits a shell command line into words: single quotes literal, double
/// quotes with `$VAR`/`${VAR}`/`${VAR:-}` expanded from `env`, a backslash
/// escaping the next character outside single quotes. `Err` on what this
/// subset does not take (command substitution, globs, unbalanced quotes).
pub fn shell_words(line: &str, env: &BTreeMap<String, String>) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let expand = |chars: &[char], i: &mut usize, out: &mut String| -> Result<(), String> {
        // chars[*i] == '$'
        *i += 1;
        if *i < chars.len() && chars[*i] == '{' {
            let start = *i + 1;
            let end = chars[start..]
                .iter()
                .position(|c| *c == '}')
                .map(|p| start + p)
                .ok_or("unterminated ${")?;
            let body: String = chars[start..end].iter().collect();
            // `${NAME:?message}`: the value, or the script stops with the
            // message (POSIX parameter expansion): an unset one fails here.
            if let Some((name, message)) = body.split_once(":?") {
                *i = end + 1;
                return match env.get(name) {
                    Some(v) if !v.is_empty() => {
                        out.push_str(v);
                        Ok(())
                    }
                    _ => Err(format!("{name}: {message}")),
                };
            }
            let name = body.split(":-").next().unwrap_or_default();
            let default = body.split_once(":-").map(|(_, d)| d).unwrap_or_default();
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("unsupported expansion ${{{body}}}"));
            }
            match env.get(name).filter(|v| !v.is_empty()) {
                Some(v) => out.push_str(v),
                None => out.push_str(default),
            }
            *i = end + 1;
        } else if *i < chars.len() && chars[*i] == '(' {
            return Err("command substitution is outside the twin's shell subset".into());
        } else {
            let start = *i;
            while *i < chars.len() && (chars[*i].is_ascii_alphanumeric() || chars[*i] == '_') {
                *i += 1;
            }
            let name: String = chars[start..*i].iter().collect();
            if name.is_empty() {
                out.push('$');
            } else {
                out.push_str(env.get(&name).map(String::as_str).unwrap_or_default());
            }
        }
        Ok(())
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                i += 1;
            }
            '\'' => {
                in_word = true;
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| *c == '\'')
                    .ok_or("unbalanced single quote")?;
                cur.extend(&chars[i + 1..i + 1 + end]);
                i += end + 2;
            }
            '"' => {
                in_word = true;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unbalanced double quote".into()),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('$') => expand(&chars, &mut i, &mut cur)?,
                        Some('\\') => {
                            cur.push(*chars.get(i + 1).ok_or("trailing backslash")?);
                            i += 2;
                        }
                        Some('`') => return Err("backquotes are outside the shell subset".into()),
                        Some(c) => {
                            cur.push(*c);
                            i += 1;
                        }
                    }
                }
            }
            '$' => {
                in_word = true;
                expand(&chars, &mut i, &mut cur)?;
            }
            '\\' => {
                in_word = true;
                cur.push(*chars.get(i + 1).ok_or("trailing backslash")?);
                i += 2;
            }
            '`' | '*' | '?' | '[' | ';' | '|' | '&' | '(' | ')' | '<' | '{' | '}' | '#'
                if !in_word || matches!(c, '`' | ';' | '|' | '&') =>
            {
                // `>&2`, `2>&1` are redirections, handled by the callers
                // as whole words; anything else is outside the subset.
                return Err(format!("`{c}` is outside the twin's shell subset"));
            }
            _ => {
                in_word = true;
                cur.push(c);
                i += 1;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// The objects an inventory (`inventory.jsonl`, its lines as an array) lists, identity and digest
/// as given. Read leniently, since the format is the lead's: every JSON
/// object with `kind` and `name` is one, its `target` its own field or
/// the nearest enclosing key or field named like a target (`zos/...`,
/// `array/...`, `cluster/...`); `digest` when present.
pub fn inventory_objs(v: &serde_json::Value) -> BTreeSet<Obj> {
    fn is_target(s: &str) -> bool {
        ["zos/", "array/", "cluster/"]
            .iter()
            .any(|p| s.starts_with(p))
    }
    fn walk(v: &serde_json::Value, target: Option<&str>, out: &mut BTreeSet<Obj>) {
        match v {
            serde_json::Value::Object(m) => {
                let own = m
                    .get("target")
                    .and_then(|t| t.as_str())
                    .filter(|t| is_target(t));
                let target = own.or(target);
                if let (Some(t), Some(kind), Some(name)) = (
                    target,
                    m.get("kind").and_then(|k| k.as_str()),
                    m.get("name").and_then(|n| n.as_str()),
                ) {
                    let digest = m.get("digest").and_then(|d| d.as_str()).unwrap_or_default();
                    out.insert(Obj::new(t, kind, name, digest));
                }
                for (k, child) in m {
                    let t = if is_target(k) {
                        Some(k.as_str())
                    } else {
                        target
                    };
                    walk(child, t, out);
                }
            }
            serde_json::Value::Array(a) => {
                for child in a {
                    walk(child, target, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(v, None, &mut out);
    out
}

/// A bundle rebuilt from its insta snapshots (`snapshots/examples/<ex>/`:
/// `files.snap` lists the paths, `<path with / as __>.snap` holds each
/// file after insta's header), to walk another branch's bundles without
/// building it.
pub fn files_from_snapshots(dir: &std::path::Path) -> Files {
    fn body(text: &str) -> &str {
        // "---\nsource: ...\nexpression: ...\n---\n"
        let rest = text.strip_prefix("---\n").unwrap_or(text);
        match rest.find("\n---\n") {
            Some(i) => &rest[i + 5..],
            None => text,
        }
    }
    let list = std::fs::read_to_string(dir.join("files.snap")).expect("files.snap");
    let mut out = Files::new();
    for path in body(&list).lines().filter(|l| !l.is_empty()) {
        let snap = dir.join(format!("{}.snap", path.replace('/', "__")));
        if let Ok(text) = std::fs::read_to_string(&snap) {
            let mut b = body(&text).to_string();
            if !b.ends_with('\n') {
                b.push('\n');
            }
            out.insert(path.to_string(), b.into_bytes());
        }
    }
    out
}
