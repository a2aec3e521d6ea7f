//! `tenantc lsp` after any sequence of edits says what a server started from
//! scratch on the same texts says: random steps on a small generated site
//! (tenants added and removed, in buffers and on disk; names of clusters,
//! servers and registries changed where they are declared or used; braces
//! deleted and put back; files opened, saved and closed), and after each
//! step the diagnostics last published for every file (open or not), every
//! workspace symbol and the document symbols of each open file that parses
//! are compared with those of a new server given the same texts.
//!
//! The server checks an edit to a tenant file on a slice of the site when
//! that gives the site's answer (`src/lsp/slice.rs`) and the whole site
//! once typing pauses; these tests are its safety net. The first diagnostics
//! published after a single edit must already be the site's, and the second
//! test makes single edits to tenant files that collide with other tenants
//! on what the cross-tenant checks compare.
//!
//! `LSP_EQUIV_CASES` sets the number of steps (default 40), `LSP_EQUIV_SEED`
//! the sequence.

use crate::common;

use camino::{Utf8Path, Utf8PathBuf};
use common::lsp::{uri, Lsp};
use common::mutate::XorShift;
use common::site::{tenant, GenSite};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Names swapped for another of the same length (so that offsets recorded
/// for a deleted brace stay valid), declarations and references alike.
const SWAPS: [(&str, &str); 6] = [
    ("ocp0", "ocpz"),
    ("ocp1", "ocpy"),
    ("NFS0", "NFSz"),
    ("quay", "quax"),
    ("SYS0", "SYSz"),
    // Tenants t00000 and t00002 on one service address: a check across files.
    ("172.30.10.2", "172.30.10.4"),
];

/// The client's side: what is on disk, what is open, and the server.
struct World {
    lsp: Lsp,
    /// Files on disk, by path relative to the root.
    disk: BTreeMap<String, String>,
    /// Open documents: text and version.
    open: BTreeMap<String, (String, i64)>,
    /// Deleted braces not yet put back, last deleted last: (file, offset).
    broken: Vec<(String, usize)>,
    next_id: usize,
    /// The diagnostics last published, by URI.
    published: BTreeMap<String, Value>,
    /// Each file's text when it was made.
    pristine: BTreeMap<String, String>,
    /// The first diagnostics published for each open document's latest
    /// version since the last [`World::settle`]: a server that checked an
    /// edit on a slice of the site and then corrected itself from the whole
    /// site would publish twice.
    first: BTreeMap<String, (i64, Value)>,
    /// Changes sent to the server so far.
    sent: usize,
}

/// The LSP position of a byte offset in an ASCII text.
fn position(text: &str, at: usize) -> Value {
    let before = &text[..at];
    let line = before.matches('\n').count();
    let col = at - before.rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": col })
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The offsets of `word` in `text` as a whole word.
fn occurrences(text: &str, word: &str) -> Vec<usize> {
    let b = text.as_bytes();
    text.match_indices(word)
        .map(|(i, _)| i)
        .filter(|&i| {
            (i == 0 || !is_word(b[i - 1])) && b.get(i + word.len()).is_none_or(|&c| !is_word(c))
        })
        .collect()
}

impl World {
    fn path(&self, rel: &str) -> Utf8PathBuf {
        self.lsp.root.join(rel)
    }

    fn uri(&self, rel: &str) -> String {
        uri(&self.path(rel))
    }

    /// The texts the server analyzes: the disk's, with the open buffers.
    fn texts(&self) -> BTreeMap<String, String> {
        let mut t = self.disk.clone();
        for (f, (text, _)) in &self.open {
            t.insert(f.clone(), text.clone());
        }
        t
    }

    fn open(&mut self, rel: &str, text: String) {
        let u = self.uri(rel);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": u, "languageId": "tenant", "version": 1, "text": text } }),
        );
        self.open.insert(rel.to_string(), (text, 1));
    }

    /// Sends a change to the server.
    fn notify(&mut self, method: &str, params: Value) {
        self.sent += 1;
        self.lsp.notify(method, params);
    }

    /// Replaces `len` bytes at `at` of an open document with `new`.
    fn edit(&mut self, rel: &str, at: usize, len: usize, new: &str) {
        let u = self.uri(rel);
        let (text, version) = self.open.get_mut(rel).expect("open");
        let range = json!({ "start": position(text, at), "end": position(text, at + len) });
        text.replace_range(at..at + len, new);
        *version += 1;
        let v = *version;
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": v },
                    "contentChanges": [{ "range": range, "text": new }] }),
        );
    }

    /// Writes a file to disk and tells the server (as a file watcher would).
    fn write_disk(&mut self, rel: &str, text: Option<String>) {
        let p = self.path(rel);
        let kind = match &text {
            Some(t) => {
                std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                std::fs::write(&p, t).expect("write");
                if self.disk.insert(rel.to_string(), t.clone()).is_some() {
                    2
                } else {
                    1
                }
            }
            None => {
                std::fs::remove_file(&p).expect("rm");
                self.disk.remove(rel);
                3
            }
        };
        self.notify(
            "workspace/didChangeWatchedFiles",
            json!({ "changes": [{ "uri": uri(&p), "type": kind }] }),
        );
    }

    /// One random step; returns what it did, for the failure message.
    fn step(&mut self, rng: &mut XorShift) -> String {
        let closed: Vec<String> = self
            .disk
            .keys()
            .filter(|f| !self.open.contains_key(*f))
            .cloned()
            .collect();
        let open: Vec<String> = self.open.keys().cloned().collect();
        match rng.below(14) {
            0 if !closed.is_empty() => {
                let f = closed[rng.below(closed.len())].clone();
                let text = self.disk[&f].clone();
                self.open(&f, text);
                format!("open {f}")
            }
            1 if open.len() > 1 => {
                let f = open[rng.below(open.len())].clone();
                self.notify(
                    "textDocument/didClose",
                    json!({ "textDocument": { "uri": self.uri(&f) } }),
                );
                self.open.remove(&f);
                self.broken.retain(|(g, _)| *g != f);
                format!("close {f}")
            }
            2 => {
                // A new tenant, or one more file declaring an existing one.
                let id = if rng.chance(5) {
                    rng.below(self.next_id)
                } else {
                    self.next_id += 1;
                    self.next_id - 1
                };
                let f = format!("tenants/new{}.tenant", self.next_id * 10 + rng.below(10));
                if self.disk.contains_key(&f) || self.open.contains_key(&f) {
                    return "nothing".into();
                }
                // Sometimes on the service address of t00000: a check
                // across files.
                let mut text = tenant(id, 0);
                let clash = rng.chance(3);
                if clash {
                    let ip = format!("172.30.{}.{}", id / 250 + 10, id % 250 + 2);
                    text = text.replace(&ip, "172.30.10.2");
                }
                let what = format!(
                    "add {}{} in {f}",
                    GenSite::name(id),
                    if clash { " at 172.30.10.2" } else { "" }
                );
                self.pristine.insert(f.clone(), text.clone());
                if rng.chance(2) {
                    self.open(&f, text);
                    format!("{what} (a buffer)")
                } else {
                    self.write_disk(&f, Some(text));
                    format!("{what} (on disk)")
                }
            }
            3 if closed.iter().any(|f| f.starts_with("tenants/")) => {
                let tenants: Vec<&String> = closed
                    .iter()
                    .filter(|f| f.starts_with("tenants/"))
                    .collect();
                let f = tenants[rng.below(tenants.len())].clone();
                self.write_disk(&f, None);
                format!("delete {f}")
            }
            4 if !open.is_empty() => {
                let f = open[rng.below(open.len())].clone();
                // What is saved parses: a file closed with its braces put
                // back in no buffer must not stay broken on disk.
                if self.broken.iter().any(|(g, _)| *g == f) {
                    return format!("not saving {f}");
                }
                let text = self.open[&f].0.clone();
                let p = self.path(&f);
                std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                std::fs::write(&p, &text).expect("write");
                self.disk.insert(f.clone(), text);
                self.notify(
                    "textDocument/didSave",
                    json!({ "textDocument": { "uri": self.uri(&f) } }),
                );
                format!("save {f}")
            }
            // At most two braces missing at a time, so that many steps see a
            // site that parses and is checked across files.
            5 | 6 if !self.broken.is_empty() && (self.broken.len() > 1 || rng.chance(2)) => {
                let (f, at) = self.broken.pop().expect("a deleted brace");
                self.edit(&f, at, 0, "}");
                format!("put back the `}}` at {at} of {f}")
            }
            5 | 6 if !open.is_empty() => {
                let f = open[rng.below(open.len())].clone();
                let text = &self.open[&f].0;
                let braces: Vec<usize> = text.match_indices('}').map(|(i, _)| i).collect();
                if braces.is_empty() {
                    return "nothing".into();
                }
                // Often the last one: the file ends with a block open.
                let at = if rng.chance(2) {
                    braces[braces.len() - 1]
                } else {
                    braces[rng.below(braces.len())]
                };
                self.edit(&f, at, 1, "");
                self.broken.push((f.clone(), at));
                format!("delete the `}}` at {at} of {f}")
            }
            9 => {
                // Every file as it was made, and half the added ones gone:
                // a site that is whole again (errors pile up otherwise).
                self.broken.clear();
                for (f, text) in self.pristine.clone() {
                    let added = f.contains("/new");
                    let gone = added && rng.chance(2);
                    if let Some((old, version)) = self.open.get_mut(&f) {
                        if gone {
                            self.notify(
                                "textDocument/didClose",
                                json!({ "textDocument": { "uri": uri(&self.lsp.root.join(&f)) } }),
                            );
                            self.open.remove(&f);
                        } else if *old != text {
                            *old = text.clone();
                            *version += 1;
                            let v = *version;
                            self.notify(
                                "textDocument/didChange",
                                json!({ "textDocument": { "uri": uri(&self.lsp.root.join(&f)), "version": v },
                                        "contentChanges": [{ "text": text }] }),
                            );
                        }
                    }
                    match self.disk.get(&f) {
                        Some(_) if gone => self.write_disk(&f, None),
                        Some(d) if *d != text => self.write_disk(&f, Some(text.clone())),
                        _ => {}
                    }
                    if gone {
                        self.pristine.remove(&f);
                    }
                }
                "heal".into()
            }
            7 | 8 if !open.is_empty() => {
                // Back to the disk's text, as one change of the whole text.
                let f = open[rng.below(open.len())].clone();
                let Some(text) = self.disk.get(&f).cloned() else {
                    return format!("not reverting {f}");
                };
                let (old, version) = self.open.get_mut(&f).expect("open");
                *old = text.clone();
                *version += 1;
                let v = *version;
                self.notify(
                    "textDocument/didChange",
                    json!({ "textDocument": { "uri": self.uri(&f), "version": v },
                            "contentChanges": [{ "text": text }] }),
                );
                self.broken.retain(|(g, _)| *g != f);
                format!("revert {f}")
            }
            _ => {
                // Swap a name where it occurs, the site file most often.
                let f = if rng.chance(2) || open.is_empty() {
                    "site.tenant".to_string()
                } else {
                    open[rng.below(open.len())].clone()
                };
                if !self.open.contains_key(&f) {
                    let Some(text) = self.disk.get(&f).cloned() else {
                        return "nothing".into();
                    };
                    self.open(&f, text);
                }
                // Every occurrence in the file at once: a rename in the site
                // file breaks the files that use the name, and the same swap
                // again mends them. One swapped is more often swapped back
                // than another swapped, so that the site is often whole.
                let text = &self.open[&f].0;
                let swapped: Vec<_> = SWAPS
                    .iter()
                    .filter(|(_, b)| !occurrences(text, b).is_empty())
                    .collect();
                let (from, to) = if !swapped.is_empty() && !rng.chance(3) {
                    let (a, b) = swapped[rng.below(swapped.len())];
                    (*b, *a)
                } else {
                    SWAPS[rng.below(SWAPS.len())]
                };
                let at = occurrences(text, from);
                if at.is_empty() {
                    return format!("no `{from}` in {f}");
                }
                for &i in &at {
                    self.edit(&f, i, from.len(), to);
                }
                format!("`{from}` to `{to}` in {f} ({} times)", at.len())
            }
        }
    }

    /// Lets the server catch up; returns the workspace symbols.
    fn settle(&mut self) -> Value {
        let (symbols, before) = self.lsp.sync();
        record(&mut self.published, &before);
        self.first.clear();
        for m in &before {
            let p = &m["params"];
            if m["method"] != "textDocument/publishDiagnostics" || !p["version"].is_i64() {
                continue;
            }
            let u = p["uri"].as_str().unwrap_or("").to_string();
            let v = p["version"].as_i64().unwrap_or(0);
            if self.first.get(&u).is_none_or(|(at, _)| *at != v) {
                self.first.insert(u, (v, p["diagnostics"].clone()));
            }
        }
        symbols
    }
}

/// Keeps the last diagnostics published for each URI.
fn record(published: &mut BTreeMap<String, Value>, messages: &[Value]) {
    for m in messages {
        if m["method"] == "textDocument/publishDiagnostics" {
            let u = m["params"]["uri"].as_str().unwrap_or("").to_string();
            published.insert(u, m["params"]["diagnostics"].clone());
        }
    }
}

/// A JSON value with the site's root URI replaced by `ROOT`.
fn rooted(v: &Value, root: &Utf8Path) -> String {
    v.to_string().replace(&uri(root), "ROOT")
}

/// What a server sees of the site: diagnostics by file (none left out),
/// every workspace symbol, and the document symbols of open files that parse.
#[derive(Debug, PartialEq)]
struct Seen {
    diagnostics: BTreeMap<String, String>,
    symbols: BTreeSet<String>,
    documents: BTreeMap<String, String>,
}

fn seen(
    lsp: &mut Lsp,
    published: &BTreeMap<String, Value>,
    symbols: &Value,
    open: &[String],
    files: &BTreeSet<String>,
) -> Seen {
    let root = lsp.root.clone();
    let mut diagnostics = BTreeMap::new();
    for (u, d) in published {
        if d.as_array().is_some_and(|a| !a.is_empty()) {
            diagnostics.insert(u.replace(&uri(&root), "ROOT"), rooted(d, &root));
        }
    }
    let symbols = symbols
        .as_array()
        .expect("symbols")
        .iter()
        .map(|s| rooted(s, &root))
        .collect();
    let mut documents = BTreeMap::new();
    for f in open {
        let u = uri(&root.join(f));
        let syntax = published
            .get(&u)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|d| d["code"] == "E0101"));
        if syntax || !files.contains(f) {
            continue;
        }
        let s = lsp.call(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": u } }),
        );
        documents.insert(f.clone(), rooted(&s, &root));
    }
    Seen {
        diagnostics,
        symbols,
        documents,
    }
}

/// What a new server says of the same texts, with the same files open.
fn from_scratch(texts: &BTreeMap<String, String>, open: &[String]) -> Seen {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .to_path_buf();
    for (f, t) in texts {
        let p = root.join(f);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, t).expect("write");
    }
    let mut lsp = Lsp::start(Some(dir), &root);
    for f in open {
        lsp.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri(&root.join(f)), "languageId": "tenant",
                                      "version": 1, "text": texts[f] } }),
        );
    }
    let (symbols, before) = lsp.sync();
    let mut published = BTreeMap::new();
    record(&mut published, &before);
    let files = texts.keys().cloned().collect();
    seen(&mut lsp, &published, &symbols, open, &files)
}

/// A server on a new copy of `site`, logging to a file (its timings say
/// which edits were checked on slices).
fn start(site: &GenSite) -> (World, tempfile::NamedTempFile) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .to_path_buf();
    site.write(&root);
    let log = tempfile::NamedTempFile::new().expect("log file");
    let log_path = Utf8Path::from_path(log.path()).expect("utf-8");
    let lsp = Lsp::start_logging(Some(dir), &root, Some(log_path));
    let mut w = World {
        lsp,
        disk: site.texts(),
        open: BTreeMap::new(),
        broken: Vec::new(),
        pristine: site.texts(),
        next_id: site.next_id,
        published: BTreeMap::new(),
        first: BTreeMap::new(),
        sent: 0,
    };
    w.settle();
    (w, log)
}

/// Lets the server catch up after step `n` and compares it with a fresh
/// server. `versions`: the open documents' versions before the step;
/// `changes`: the notifications it sent.
fn compare(
    w: &mut World,
    n: u64,
    log: &[String],
    versions: &BTreeMap<String, i64>,
    changes: usize,
) -> Seen {
    let symbols = w.settle();
    let open: Vec<String> = w.open.keys().cloned().collect();
    let texts = w.texts();
    let files: BTreeSet<String> = texts.keys().cloned().collect();
    let here = seen(&mut w.lsp, &w.published.clone(), &symbols, &open, &files);
    let fresh = from_scratch(&texts, &open);
    assert!(
        here == fresh,
        "after step {n} the server differs from a fresh one.\nsteps:\n{}\n\
         --- the server\n{here:#?}\n--- a fresh server\n{fresh:#?}",
        log.join("\n")
    );
    // After a single edit to an open document, the first diagnostics
    // published for its new version are the site's (later ones may
    // differ only when a later change caused them).
    for (f, (_, version)) in w.open.iter().filter(|_| changes == 1) {
        if versions.get(f) == Some(version) {
            continue;
        }
        let u = w.uri(f);
        let Some((v, first)) = w.first.get(&u) else {
            continue;
        };
        if v != version {
            continue;
        }
        let first = Some(rooted(first, &w.lsp.root)).filter(|d| d != "[]");
        let key = u.replace(&uri(&w.lsp.root), "ROOT");
        assert!(
            first.as_ref() == fresh.diagnostics.get(&key),
            "after step {n} the first diagnostics published for {f} were not the site's.\n\
             steps:\n{}\n--- first published\n{first:#?}\n--- a fresh server\n{:#?}",
            log.join("\n"),
            fresh.diagnostics.get(&key)
        );
    }
    here
}

/// Edits the server checked on a slice of the site, and why others needed
/// all of it.
fn slices(log: &tempfile::NamedTempFile) -> (usize, BTreeMap<String, usize>) {
    let server_log = std::fs::read_to_string(log.path()).unwrap_or_default();
    let sliced = server_log.matches(" on a slice in ").count();
    let mut why: BTreeMap<String, usize> = BTreeMap::new();
    for l in server_log.lines() {
        if let Some((_, w)) = l.split_once(": checking the whole site: ") {
            *why.entry(w.to_string()).or_default() += 1;
        }
    }
    (sliced, why)
}

#[test]
fn edits_leave_the_server_where_a_fresh_one_would_be() {
    let steps = env_or("LSP_EQUIV_CASES", 40);
    let seed = env_or("LSP_EQUIV_SEED", 0x2545_f491_4f6c_dd1d);
    let mut rng = XorShift(seed.max(1));
    let (mut w, server_log) = start(&GenSite::new(5, 1));
    for f in ["site.tenant", "tenants/t00001.tenant"] {
        let text = w.disk[f].clone();
        w.open(f, text);
    }
    let (mut cross, mut syntax, mut checked) = (0, 0, 0);
    let mut log = Vec::new();
    for n in 0..steps {
        let before = w.published.clone();
        let versions: BTreeMap<String, i64> =
            w.open.iter().map(|(f, (_, v))| (f.clone(), *v)).collect();
        let sent = w.sent;
        for _ in 0..1 + rng.below(2) {
            log.push(format!("{n}: {}", w.step(&mut rng)));
        }
        let changes = w.sent - sent;
        let here = compare(&mut w, n, &log, &versions, changes);
        let open: Vec<String> = w.open.keys().cloned().collect();
        if std::env::var_os("LSP_EQUIV_TRACE").is_some() {
            let codes: BTreeSet<String> = here
                .diagnostics
                .values()
                .flat_map(|d| {
                    serde_json::from_str::<Value>(d)
                        .ok()
                        .and_then(|v| v.as_array().cloned())
                        .unwrap_or_default()
                })
                .map(|d| d["code"].as_str().unwrap_or("").to_string())
                .collect();
            eprintln!("{n}: {codes:?}, braces missing: {:?}", w.broken);
        }
        // Files not open whose diagnostics the step changed, and syntax errors.
        cross += w
            .published
            .iter()
            .filter(|(u, d)| before.get(*u) != Some(d) && !open.iter().any(|f| w.uri(f) == **u))
            .count();
        syntax += usize::from(here.diagnostics.values().any(|d| d.contains("E0101")));
        // A check across objects (run only on a site that resolved).
        checked += usize::from(
            here.diagnostics
                .values()
                .any(|d| d.contains("\"E04") || d.contains("\"E05")),
        );
    }
    let (sliced, why) = slices(&server_log);
    eprintln!(
        "{steps} steps: {cross} diagnostics changed in files not open; \
         {syntax} steps with a syntax error, {checked} with a cross-object check failing; \
         {sliced} edits checked on a slice, others on the whole site: {why:?}"
    );
    // The sequence reached what the comparison is for.
    if steps >= 40 {
        assert!(
            cross > 0 && syntax > 0 && (syntax as u64) < steps && checked > 0 && sliced > 0,
            "{cross} {syntax} {checked} {sliced}\n{}",
            log.join("\n")
        );
    }
}

/// `text` with the value after the first `key` (up to a blank, `,`, `"`
/// or `}`) replaced by `value`; `None` when `key` does not occur.
fn set_value(text: &str, key: &str, value: &str) -> Option<String> {
    let at = text.find(key)? + key.len();
    let len = text[at..]
        .find(|c: char| c.is_whitespace() || ",\"})".contains(c))
        .unwrap_or(text.len() - at);
    Some(format!("{}{value}{}", &text[..at], &text[at + len..]))
}

/// Single edits to tenant files, each one change of the whole text, that
/// make tenants collide on what the cross-tenant checks compare (ClusterIPs,
/// RACF users, exports equal or nested, realms, pods, secret sources, tenant
/// names), refer to another tenant, misspell a reference (suggestions
/// drawn from the infrastructure, a block's names, or names of any kind),
/// lose a brace, or
/// go back to how the file was made: what an editor checks on a slice of
/// the site (`src/lsp/slice.rs`). After each, the server must say what a
/// fresh one says, and the first diagnostics it published for the edit
/// must be the site's.
#[test]
fn edits_to_tenant_files_checked_on_slices_are_the_sites() {
    let steps = env_or("LSP_EQUIV_CASES", 40);
    let seed = env_or("LSP_EQUIV_SEED", 0x9e37_79b9_7f4a_7c15);
    let mut rng = XorShift(seed.max(1));
    let site = GenSite::new(9, 1);
    let ids = site.ids();
    let (mut w, server_log) = start(&site);
    let files: Vec<String> = w
        .disk
        .keys()
        .filter(|f| f.starts_with("tenants/"))
        .cloned()
        .collect();
    for f in &files {
        let text = w.disk[f].clone();
        w.open(f, text);
    }
    w.settle();
    let mut log = Vec::new();
    let mut collided = 0;
    for n in 0..steps {
        // At most two files away from how they were made, so that the site
        // is often whole and checked across tenants.
        let changed: Vec<String> = files
            .iter()
            .filter(|f| w.open[*f].0 != w.pristine[*f])
            .cloned()
            .collect();
        let mend = changed.len() >= 2;
        let f = if mend {
            changed[rng.below(changed.len())].clone()
        } else {
            files[rng.below(files.len())].clone()
        };
        let text = w.open[&f].0.clone();
        let other = ids[rng.below(ids.len())];
        let on = GenSite::name(other);
        let (what, new) = match if mend { 0 } else { 1 + rng.below(13) } {
            0 | 1 => ("back as made".to_string(), Some(w.pristine[&f].clone())),
            2 => {
                let ip = format!("172.30.{}.{}", other / 250 + 10, other % 250 + 2);
                (
                    format!("ClusterIP of {on}"),
                    set_value(&text, "cluster_ip = ", &ip),
                )
            }
            3 => (
                format!("RACF user of {on}"),
                set_value(&text, "user   = ", &format!("U{other:07}")),
            ),
            4 => {
                let under = if rng.chance(2) { "/sub" } else { "" };
                let p = format!("/hfs/tenants/{on}{under}");
                (format!("export {p}"), set_value(&text, "export = \"", &p))
            }
            5 => (format!("realm {on}"), set_value(&text, "realm  = ", &on)),
            6 => (
                format!("pod of {on}"),
                set_value(&text, "pods   = [\"", &format!("{on}-db")),
            ),
            7 => {
                let env = format!("T{other:05}_PURE_TOKEN");
                (
                    format!("token of {on}"),
                    set_value(&text, "token  = env(\"", &env),
                )
            }
            8 => (format!("named {on}"), set_value(&text, "tenant ", &on)),
            9 => {
                let r = format!("{on}.nfs.data");
                (format!("mounts {r}"), set_value(&text, "volume = ", &r))
            }
            10 => (
                "cluster misspelt".to_string(),
                set_value(&text, "cluster = ", "ocq1"),
            ),
            11 => {
                // Misspelt where suggestions come from the infrastructure,
                // from a block's own names, or from names of any kind.
                let (key, to) = [
                    ("registry = ", "ocp0.quax"),
                    ("volume = ", "nfs.dta"),
                    ("server = ", "SYSq.NFS0"),
                    ("array  = ", "fa_t0000q"),
                ][rng.below(4)];
                (format!("{key}{to}"), set_value(&text, key, to))
            }
            12 => ("nothing".to_string(), None),
            _ => {
                let mut t = text.clone();
                match t.rfind('}') {
                    Some(i) => {
                        t.remove(i);
                        ("a `}` gone".to_string(), Some(t))
                    }
                    None => ("nothing".to_string(), None),
                }
            }
        };
        let versions: BTreeMap<String, i64> =
            w.open.iter().map(|(f, (_, v))| (f.clone(), *v)).collect();
        let sent = w.sent;
        match new.filter(|t| *t != text) {
            Some(t) => {
                log.push(format!("{n}: {f}: {what}"));
                let (old, version) = w.open.get_mut(&f).expect("open");
                *old = t.clone();
                *version += 1;
                let v = *version;
                let u = w.uri(&f);
                w.notify(
                    "textDocument/didChange",
                    json!({ "textDocument": { "uri": u, "version": v },
                            "contentChanges": [{ "text": t }] }),
                );
            }
            None => continue,
        }
        let changes = w.sent - sent;
        // Asked before the whole site is analysed again: answered from the
        // slice the edit was checked on (or the last whole analysis).
        let u = w.uri(&f);
        let early = w.lsp.call(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": u } }),
        );
        let early = rooted(&early, &w.lsp.root);
        let here = compare(&mut w, n, &log, &versions, changes);
        if let Some(settled) = here.documents.get(&f) {
            assert!(
                early == *settled,
                "after step {n} the document symbols of {f} before the whole site was \
                 analysed again were not the site's.\nsteps:\n{}\n--- before\n{early}\n\
                 --- the site's\n{settled}",
                log.join("\n")
            );
        }
        collided += usize::from(here.diagnostics.values().any(|d| {
            d.contains("\"E04") || d.contains("\"E05") || d.contains("\"E06") || d.contains("\"E07")
        }));
    }
    let (sliced, why) = slices(&server_log);
    eprintln!(
        "{steps} steps: {collided} with a cross-tenant check failing; \
         {sliced} edits checked on a slice, others on the whole site: {why:?}"
    );
    if steps >= 40 {
        assert!(
            collided > 0 && sliced as u64 >= steps / 8,
            "{collided} {sliced}\n{}",
            log.join("\n")
        );
    }
}

/// Edits a hostile review found checked on slices with another answer than
/// the site's: a tenant taking a name another tenant file imports a module
/// as, and a namespace claimed first by a tenant of an infrastructure file
/// that sorts after the edited one.
#[test]
fn slices_keep_the_sites_import_aliases_and_order() {
    let cluster = "cluster ocp0 { kind = openshift  service_cidr = 172.30.0.0/16 }\n";
    // The site's files, the file edited and its new text.
    type Case<'c> = (&'c [(&'c str, &'c str)], &'c str, &'c str);
    let cases: [Case; 2] = [
        (
            &[
                ("site.tenant", cluster),
                (
                    "lib/p.tenant",
                    "tls_profile tls12 { versions = [tls1_2], handshake_timeout = 60s }\n",
                ),
                (
                    "a.tenant",
                    "import \"lib/p\" as zz\ntenant ta { cluster = ocp0 }\n",
                ),
                ("b.tenant", "tenant tb { cluster = ocp0 }\n"),
            ],
            "b.tenant",
            "tenant zz { cluster = ocp0 }\n",
        ),
        (
            &[
                (
                    "z.tenant",
                    "cluster ocp0 { kind = openshift  service_cidr = 172.30.0.0/16 }\n\
                     tenant tz { cluster = ocp0, namespace = \"shared\" }\n",
                ),
                (
                    "a.tenant",
                    "tenant ta { cluster = ocp0, namespace = \"mine\" }\n",
                ),
            ],
            "a.tenant",
            "tenant ta { cluster = ocp0, namespace = \"shared\" }\n",
        ),
    ];
    for (files, edited, new) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Utf8Path::from_path(dir.path())
            .expect("utf-8")
            .to_path_buf();
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        for (f, t) in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, t).expect("write");
            texts.insert(f.to_string(), t.to_string());
        }
        let mut lsp = Lsp::start(Some(dir), &root);
        let u = uri(&root.join(edited));
        lsp.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": u, "languageId": "tenant", "version": 1,
                                      "text": texts[edited] } }),
        );
        lsp.sync();
        lsp.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": 2 },
                    "contentChanges": [{ "text": new }] }),
        );
        let (_, messages) = lsp.sync();
        let first = messages
            .iter()
            .find(|m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == json!(u)
                    && m["params"]["version"] == json!(2)
            })
            .map(|m| rooted(&m["params"]["diagnostics"], &root))
            .filter(|d| d != "[]");
        texts.insert(edited.to_string(), new.to_string());
        let fresh = from_scratch(&texts, &[edited.to_string()]);
        assert_eq!(
            first.as_ref(),
            fresh.diagnostics.get(&format!("ROOT/{edited}")),
            "{edited} after the edit, in {files:?}"
        );
    }
}

/// `tenantc check`'s diagnostics of the site in `dir`, by file (relative to
/// `dir`): line (1-based), code and message with its help, as the editor
/// words them ([`editor_view`]).
fn cli_check(dir: &Utf8Path) -> BTreeMap<String, BTreeSet<(u64, String, String)>> {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tenantc"))
        .args(["check", dir.as_str(), "--diagnostics-format", "json"])
        .env("NO_COLOR", "1")
        .output()
        .expect("tenantc check runs");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "tenantc check {dir}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut out: BTreeMap<String, BTreeSet<(u64, String, String)>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let Ok(d) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let file = d["file"].as_str().unwrap_or("");
        let file = file
            .strip_prefix(&format!("{dir}/"))
            .unwrap_or(file)
            .to_string();
        let help = d["help"].as_str().unwrap_or("");
        let message = match help {
            "" => d["message"].as_str().unwrap_or("").to_string(),
            h => format!("{}\nhelp: {h}", d["message"].as_str().unwrap_or("")),
        };
        out.entry(file).or_default().insert((
            d["start"]["line"].as_u64().unwrap_or(0),
            d["code"].as_str().unwrap_or("").to_string(),
            message,
        ));
    }
    out
}

/// Published LSP diagnostics as [`cli_check`] gives them.
fn editor_view(diagnostics: &Value) -> BTreeSet<(u64, String, String)> {
    diagnostics
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["range"]["start"]["line"].as_u64().unwrap_or(0) + 1,
                d["code"].as_str().unwrap_or("").to_string(),
                d["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Writes `texts` below `root`.
fn write_site(root: &Utf8Path, texts: &BTreeMap<String, String>) {
    for (f, t) in texts {
        let p = root.join(f);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, t).expect("write");
    }
}

/// `tenantc check` on a copy of `texts`.
fn cli_on(texts: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<(u64, String, String)>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .to_path_buf();
    write_site(&root, texts);
    cli_check(&root)
}

/// Sends `edits` (file, whole new text) to a server on the site `files`,
/// one after another without letting the site settle: each waits only for
/// the first diagnostics published for its version (the slice's, when the
/// edit was checked on one), which must be what `tenantc check` and a fresh
/// server say of the file with the texts as they are then.
fn first_published_are_the_clis(case: &str, files: &[(&str, &str)], edits: &[(&str, &str)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .to_path_buf();
    let mut texts: BTreeMap<String, String> = files
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    write_site(&root, &texts);
    let log = tempfile::NamedTempFile::new().expect("log file");
    let log_path = Utf8Path::from_path(log.path()).expect("utf-8");
    let mut lsp = Lsp::start_logging(Some(dir), &root, Some(log_path));
    let server_log = || std::fs::read_to_string(log.path()).unwrap_or_default();
    let mut versions: BTreeMap<String, i64> = BTreeMap::new();
    for (f, _) in edits {
        if versions.insert(f.to_string(), 1).is_none() {
            lsp.open(f, &texts[*f]);
        }
    }
    lsp.sync();
    let open: Vec<String> = versions.keys().cloned().collect();
    for (n, (f, new)) in edits.iter().enumerate() {
        let u = uri(&root.join(f));
        let v = versions.get_mut(*f).expect("open");
        *v += 1;
        let v = *v;
        lsp.change(&u, v, new);
        let m = lsp.wait_for("the edit's diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == json!(u)
                && m["params"]["version"] == json!(v)
        });
        texts.insert(f.to_string(), new.to_string());
        let first = &m["params"]["diagnostics"];
        let cli = cli_on(&texts).remove(*f).unwrap_or_default();
        assert_eq!(
            editor_view(first),
            cli,
            "{case}: after edit {n} of {f}, the first diagnostics the editor published \
             are not tenantc check's\nthe server's log:\n{}",
            server_log()
        );
        if std::env::var_os("LSP_EQUIV_TRACE").is_some() {
            eprintln!("{case}: edit {n} of {f}:\n{}", server_log());
        }
        let fresh = from_scratch(&texts, &open);
        assert_eq!(
            Some(rooted(first, &root)).filter(|d| d != "[]"),
            fresh.diagnostics.get(&format!("ROOT/{f}")).cloned(),
            "{case}: after edit {n} of {f}, not a fresh server's"
        );
    }
    lsp.sync();
}

const CLUSTER: &str = "cluster ocp0 { kind = openshift  service_cidr = 172.30.0.0/16 }\n";

/// Issue 31, exact slices (a): a tenant-only file importing a module that
/// declares a cluster. The slice numbers clusters as it reads them, the
/// site otherwise; claims are keyed by their scope's declaration, so a
/// namespace duplicated with a tenant of another file is still found.
#[test]
fn slices_key_claims_by_declarations_not_numbers() {
    let m = |name: &str, cidr: &str| {
        format!("cluster {name} {{ kind = openshift  service_cidr = {cidr} }}\n")
    };
    let (m1, m2) = (m("ocpx", "172.31.0.0/16"), m("ocpy", "172.32.0.0/16"));
    first_published_are_the_clis(
        "a module's cluster",
        &[
            ("site.tenant", CLUSTER),
            (".lib/m1.tenant", &m1),
            (".lib/m2.tenant", &m2),
            (
                "a.tenant",
                "import \".lib/m1\" as m1\ntenant ta { cluster = m1.ocpx }\n",
            ),
            (
                "b.tenant",
                "import \".lib/m2\" as n2\ntenant tb { cluster = n2.ocpy, namespace = \"shared\" }\n",
            ),
            (
                "d.tenant",
                "import \".lib/m2\" as m2\ntenant td { cluster = m2.ocpy, namespace = \"mine\" }\n",
            ),
        ],
        // The later holder is the one told: the edited file sorts last.
        &[
            (
                "d.tenant",
                "import \".lib/m2\" as m2\ntenant td { cluster = m2.ocpy, namespace = \"shared\" }\n",
            ),
            (
                "d.tenant",
                "import \".lib/m2\" as m2\ntenant td { cluster = m2.ocpy, namespace = \"mine\" }\n",
            ),
        ],
    );
}

/// Issue 31, exact slices (b): a syntax error silences a reference only to
/// the name its skipped block could declare (`kind name {`), in the CLI as
/// in a slice; a broken line that declares nothing silences nothing.
#[test]
fn a_broken_file_hides_only_what_it_could_declare() {
    let b = "tenant tb { cluster = ocp0 }\n";
    for (case, a) in [
        (
            "a broken line",
            "tenant ta {\n  cluster = ocp0\n  image ocq1 ]\n}\n",
        ),
        (
            "a broken block",
            "tenant ta { cluster = ocp0 }\ncluster ocq1 { kind = ] }\n",
        ),
    ] {
        first_published_are_the_clis(
            case,
            &[("site.tenant", CLUSTER), ("a.tenant", a), ("b.tenant", b)],
            &[
                ("b.tenant", "tenant tb { cluster = ocq1 }\n"),
                ("b.tenant", "tenant tb { cluster = ocq2 }\n"),
                ("b.tenant", b),
            ],
        );
    }
}

/// Issue 31, exact slices (c): two input files binding one import name to
/// two modules is an error (E0213) on the second, and a slice of either
/// file reads the other.
#[test]
fn one_import_name_for_two_modules_is_an_error_in_slices_too() {
    let files: &[(&str, &str)] = &[
        ("site.tenant", CLUSTER),
        (
            "lib/p.tenant",
            "tls_profile tls12 { versions = [tls1_2], handshake_timeout = 60s }\n",
        ),
        (
            "lib/q.tenant",
            "tls_profile tls13 { versions = [tls1_3], handshake_timeout = 60s }\n",
        ),
        (
            "a.tenant",
            "import \"lib/p\" as zz\ntenant ta { cluster = ocp0 }\n",
        ),
        ("b.tenant", "tenant tb { cluster = ocp0 }\n"),
    ];
    let q = "import \"lib/q\" as zz\ntenant tb { cluster = ocp0 }\n";
    first_published_are_the_clis(
        "the second binding",
        files,
        &[
            ("b.tenant", q),
            // An error of its own: the slice is not checked across
            // tenants, so no other tenant's keys are needed.
            (
                "b.tenant",
                "import \"lib/q\" as zz\ntenant tb { cluster = ocp0, colour = 1 }\n",
            ),
            ("b.tenant", q),
        ],
    );
    let mut with_q = files.to_vec();
    with_q[4] = ("b.tenant", q);
    first_published_are_the_clis(
        "the first binding",
        &with_q,
        &[
            (
                "a.tenant",
                "import \"lib/p\" as zz\ntenant ta { cluster = ocp0, namespace = \"a2\" }\n",
            ),
            ("a.tenant", files[3].1),
        ],
    );
}

/// Issue 31, exact slices (d): a block of unknown kind added in one file,
/// and its name used in another before typing pauses (references to it are
/// dropped silently, as the block itself is reported).
#[test]
fn a_name_of_unknown_kind_reaches_slices() {
    first_published_are_the_clis(
        "an unknown kind",
        &[
            ("site.tenant", CLUSTER),
            ("a.tenant", "tenant ta { cluster = ocp0 }\n"),
            ("b.tenant", "tenant tb { cluster = ocp0 }\n"),
        ],
        &[
            (
                "a.tenant",
                "tenant ta { cluster = ocp0 }\nwidget w1 { size = 1 }\n",
            ),
            ("b.tenant", "tenant tb { cluster = w1 }\n"),
            ("b.tenant", "tenant tb { cluster = ocp0 }\n"),
        ],
    );
}

/// Issue 31, exact slices (e): the editor's files are the CLI's. A copy of
/// a spec in a hidden directory, or the target of a linked spec, opened in
/// the editor is not a second input ("declared twice"): the editor says of
/// every file what `tenantc check` says.
#[test]
fn the_editors_files_are_the_clis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .to_path_buf();
    let ta = "tenant ta { cluster = ocp0, namespace = \"ta\" }\n";
    let texts: BTreeMap<String, String> = [
        ("site.tenant", CLUSTER),
        ("tenants/ta.tenant", ta),
        (".backup/ta.tenant", ta),
        (
            "real/tb.tenant",
            "tenant tb { cluster = ocp0, namespace = \"tb\" }\n",
        ),
    ]
    .iter()
    .map(|(f, t)| (f.to_string(), t.to_string()))
    .collect();
    write_site(&root, &texts);
    std::os::unix::fs::symlink("real/tb.tenant", root.join("tb.tenant")).expect("symlink");
    let cli = cli_check(&root);
    let mut lsp = Lsp::start(Some(dir), &root);
    lsp.sync();
    // Opened: the copy, the link's target, a new buffer in a hidden
    // directory, and the link itself.
    for f in [
        ".backup/ta.tenant",
        "real/tb.tenant",
        ".new/tc.tenant",
        "tb.tenant",
    ] {
        let text = texts
            .get(f)
            .cloned()
            .unwrap_or_else(|| ta.replace("ta", "tc"));
        lsp.open(f, &text);
        let (_, messages) = lsp.sync();
        let mut published: BTreeMap<String, Value> = BTreeMap::new();
        record(&mut published, &messages);
        for (u, d) in &published {
            let file = u
                .strip_prefix(&format!("{}/", uri(&root)))
                .unwrap_or(u)
                .to_string();
            assert_eq!(
                editor_view(d),
                cli.get(&file).cloned().unwrap_or_default(),
                "after opening {f}, the editor's diagnostics of {file} are not tenantc check's"
            );
        }
    }
}
