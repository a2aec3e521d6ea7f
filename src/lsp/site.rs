//! The site: the files of a workspace folder as `tenantc check` reads them
//! (the compiler's walk), the texts the editor has for them, and their
//! analysis, whole or on a slice ([`super::slice`]), published as
//! diagnostics. Requests read the analyses this leaves through a
//! [`Snapshot`](super::Snapshot); nothing here answers one.

use super::{log, slice, text, Analysed, Gathered, Server};
use crate::diagnostics::Severity;
use camino::{Utf8Path, Utf8PathBuf};
use lsp_types as lt;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// One site: a workspace folder, or the directory of a file opened outside
/// every folder.
pub(super) struct Site {
    pub(super) root: Utf8PathBuf,
    pub(super) folder: bool,
    pub(super) files: Vec<Utf8PathBuf>,
    /// The identity of each file of `files` ([`crate::resolve::load::Walked`]).
    pub(super) identities: std::collections::HashSet<std::path::PathBuf>,
    pub(super) scanned: Option<Instant>,
    pub(super) snap: Option<Rc<Analysed>>,
    /// What was last published per file, to send only what changed.
    pub(super) published: HashMap<Utf8PathBuf, Value>,
    /// Trees of unchanged files, reused by the next check.
    pub(super) cache: Arc<crate::resolve::load::ParseCache>,
    /// What the files share, from the last whole analysis and the slices
    /// since ([`slice`]); `None` until the first whole analysis.
    pub(super) basis: Option<slice::Basis>,
    /// Trees for slices (whose files have other ids than in the site).
    pub(super) slice_cache: Arc<crate::resolve::load::ParseCache>,
    /// An edit was checked on a slice only: the whole site is analysed once
    /// typing pauses ([`DEBOUNCE`]), or before a workspace-wide answer.
    pub(super) stale: bool,
    /// The inputs and texts of the last check, updated in place for edits
    /// to open documents (a site of 10,000 files is not listed again on
    /// every keystroke).
    pub(super) gathered: Option<Gathered>,
    /// The last file checked on a slice and that analysis: the file's
    /// requests are answered from it while the site is [`Site::stale`].
    pub(super) sliced: Option<(Utf8PathBuf, Rc<Analysed>)>,
}

impl Site {
    pub(super) fn new(root: Utf8PathBuf, folder: bool) -> Site {
        Site {
            root,
            folder,
            files: Vec::new(),
            identities: Default::default(),
            scanned: None,
            snap: None,
            published: HashMap::new(),
            cache: Arc::default(),
            basis: None,
            slice_cache: Arc::default(),
            stale: false,
            gathered: None,
            sliced: None,
        }
    }
}

impl Server {
    /// A file opened outside every folder makes its directory a site: the
    /// files directly in it (its subdirectories are not searched, so a file
    /// in `/` or `$HOME` does not make the server walk a whole tree).
    pub(super) fn ensure_site_for(&mut self, path: &Utf8Path) {
        if self.sites.iter().any(|s| path.starts_with(&s.root)) {
            return;
        }
        let Some(dir) = path.parent() else { return };
        self.sites.push(Site::new(dir.to_path_buf(), false));
    }

    pub(super) fn rescan_site_of(&mut self, path: &Utf8Path) {
        for s in &mut self.sites {
            if path.starts_with(&s.root) {
                s.scanned = None;
            }
        }
    }

    /// Re-checks every site and publishes what changed.
    pub(super) fn check_and_publish(&mut self) {
        self.dirty = false;
        let touched = std::mem::take(&mut self.touched);
        for i in 0..self.sites.len() {
            if !self.check_site(i, &touched, true) {
                // A newer change is waiting: check again once it is applied,
                // republishing what this round would have.
                self.dirty = true;
                self.touched.extend(touched);
                return;
            }
        }
    }

    /// Analyses whole the sites whose last edits were checked on slices.
    pub(super) fn refresh(&mut self) {
        for i in 0..self.sites.len() {
            if self.sites[i].stale && !self.check_site(i, &BTreeSet::new(), false) {
                return; // superseded: the change that did it is on its way
            }
        }
    }

    /// The site's inputs, in order, and the texts to read them from: listed
    /// again after a rescan, else the last list with the open documents'
    /// texts brought up to date. Files are listed again when a change asked
    /// for it (open, close, save, a watched file) and, with `poll`, when the
    /// last listing is over 2 s old (changes no client told of): at 10,000
    /// files that costs 60 ms, so a keystroke checked on a slice does not
    /// poll; the whole-site analysis after it does.
    pub(super) fn gather(&mut self, i: usize, poll: bool) -> Gathered {
        let stale_scan = self.sites[i]
            .scanned
            .is_none_or(|t| poll && t.elapsed() > Duration::from_secs(2));
        match self.sites[i].gathered.take() {
            Some(g) if !stale_scan => {
                let g = self.refreshed(g);
                self.sites[i].gathered = Some(g.clone());
                g
            }
            old => {
                let g = self.listed(i, old);
                self.sites[i].gathered = Some(g.clone());
                g
            }
        }
    }

    /// `g` with the open documents' current texts.
    pub(super) fn refreshed(&self, mut g: Gathered) -> Gathered {
        for (p, d) in &self.docs {
            let Some(now) = g.overlay.get(p) else {
                continue;
            };
            if **now == *d.text {
                continue;
            }
            let text: Arc<str> = Arc::from(d.text.as_str());
            if let Ok(at) = g.readable.binary_search(p) {
                Arc::make_mut(&mut g.texts)[at] = text.clone();
            }
            Arc::make_mut(&mut g.overlay).insert(p.clone(), text);
        }
        g
    }

    /// Lists the site's files again (`old`: the last list).
    pub(super) fn listed(&mut self, i: usize, old: Option<Gathered>) -> Gathered {
        {
            let root = self.sites[i].root.clone();
            let walked = scan(&root, self.sites[i].folder);
            self.sites[i].files = walked.files;
            self.sites[i].identities = walked.identities;
            self.sites[i].scanned = Some(Instant::now());
            // Drop cached texts that changed on disk.
            let files = self.sites[i].files.clone();
            for f in &files {
                let mtime = std::fs::metadata(f).and_then(|m| m.modified()).ok();
                if self.disk.get(f).is_some_and(|(t, _)| *t != mtime) {
                    self.disk.remove(f);
                }
            }
        }
        let root = self.sites[i].root.clone();
        let mut inputs: BTreeSet<Utf8PathBuf> = self.sites[i].files.iter().cloned().collect();
        // An open document is an input when `tenantc check` would read it:
        // not a copy in a hidden directory, nor another path of a file read
        // (a link to a spec, or its target), which would be "declared twice".
        let (folder, ids) = (self.sites[i].folder, &self.sites[i].identities);
        let opened: Vec<Utf8PathBuf> = (self.docs.keys())
            .filter(|p| !inputs.contains(*p))
            .filter(|p| crate::resolve::load::walk_reaches(&root, p, folder, ids))
            .cloned()
            .collect();
        inputs.extend(opened);
        let mut overlay = crate::resolve::load::Overlay::new();
        let mut readable = Vec::with_capacity(inputs.len());
        for p in &inputs {
            if let Some(d) = self.docs.get(p) {
                overlay.insert(p.clone(), Arc::from(d.text.as_str()));
                readable.push(p.clone());
                continue;
            }
            if !self.disk.contains_key(p) {
                let mtime = std::fs::metadata(p).and_then(|m| m.modified()).ok();
                // Only beneath the site: a link out of the workspace is
                // never read, and its text never published.
                match crate::resolve::load::read_input(&root, p) {
                    Ok(t) => {
                        self.disk.insert(p.clone(), (mtime, Arc::from(t)));
                    }
                    Err(e) => {
                        log!("{e}");
                        continue;
                    }
                }
            }
            if let Some((_, t)) = self.disk.get(p) {
                overlay.insert(p.clone(), t.clone());
                readable.push(p.clone());
            }
        }
        // Open documents outside the site may be imported by it.
        for (p, d) in &self.docs {
            overlay
                .entry(p.clone())
                .or_insert_with(|| Arc::from(d.text.as_str()));
        }
        let texts = readable
            .iter()
            .map(|p| overlay.get(p).cloned().unwrap_or_else(|| Arc::from("")))
            .collect();
        let list = match old {
            Some(o) if *o.readable == readable => o.list,
            Some(o) => o.list + 1,
            None => 0,
        };
        Gathered {
            readable: Arc::new(readable),
            texts: Arc::new(texts),
            overlay: Arc::new(overlay),
            list,
        }
    }

    /// Checks one site and publishes; `false` when a newer change
    /// superseded the analysis (nothing published). With `slices`, one
    /// edited tenant file is checked on a slice of the site when that gives
    /// the whole site's answer ([`slice`]).
    pub(super) fn check_site(
        &mut self,
        i: usize,
        touched: &BTreeSet<Utf8PathBuf>,
        slices: bool,
    ) -> bool {
        let t0 = Instant::now();
        let root = self.sites[i].root.clone();
        let mut gathered = self.gather(i, !slices);
        if slices {
            if let Some(done) = self.check_slice(i, touched, &gathered) {
                if std::env::var_os("TENANTC_TIMINGS").is_some() {
                    log!("checked {root} on a slice in {:?}", t0.elapsed());
                }
                return done;
            }
            // The whole site after all: with what changed unannounced.
            gathered = self.gather(i, true);
        }
        let readable = gathered.readable.clone();
        let overlay = gathered.overlay.clone();
        let mut opts = self.opts.clone();
        opts.overlay = Some(overlay);
        opts.parse_cache = Some(self.sites[i].cache.clone());
        opts.cancel = Some(crate::Cancel::at(self.generation.clone(), self.applied));
        drop(gathered);
        let analyzed = std::panic::catch_unwind(|| crate::analyze(&readable, &opts));
        let analysis = match analyzed {
            Ok(Ok(a)) => a,
            Ok(Err(e)) if e.is_superseded() => return false,
            Ok(Err(e)) => {
                log!("cannot check {root}: {e}");
                return true;
            }
            Err(_) => {
                log!("internal error while checking {root}; keeping the last results");
                return true;
            }
        };
        let t1 = Instant::now();
        let mut snap = Analysed::new(analysis);
        self.sites[i].basis = None;
        if let Some(g) = &self.sites[i].gathered {
            self.sites[i].basis = Some(slice::Basis::new(&snap, g));
        }
        // The server never lowers: the derived names were for the basis
        // (a tenth of an analysis at 10,000 tenants).
        snap.analysis.plan = None;
        let snap = Rc::new(snap);
        // Replaced analyses are freed after publishing, off this thread.
        let mut retired = Vec::new();
        for (path, doc) in self.docs.iter_mut() {
            if let Some(f) = snap.by_path.get(path) {
                if snap.parsed(*f) && snap.text(*f) == doc.text {
                    let text = snap.analysis.sources.get(*f).text.clone();
                    retired.extend(doc.good.replace((text, snap.clone())).map(|(_, s)| s));
                    doc.edits.clear();
                }
            }
        }
        retired.extend(self.sites[i].snap.replace(snap.clone()));
        self.sites[i].stale = false;
        if let Some(old) = self.sites[i].sliced.take() {
            retired.push(old.1);
        }
        self.publish_site(i, &snap, touched);
        for old in retired {
            if let Ok(old) = Rc::try_unwrap(old) {
                if let Err(mpsc::SendError(old)) = self.graveyard.send(old) {
                    drop(old);
                }
            }
        }

        if std::env::var_os("TENANTC_TIMINGS").is_some() {
            log!(
                "checked {root}: {} file(s) in {:?}, published in {:?}",
                readable.len(),
                t1 - t0,
                t1.elapsed()
            );
        }
        true
    }

    /// Checks the one edited file of `touched` on a slice of site `i`;
    /// `None` when only the whole site gives its diagnostics.
    pub(super) fn check_slice(
        &mut self,
        i: usize,
        touched: &BTreeSet<Utf8PathBuf>,
        gathered: &Gathered,
    ) -> Option<bool> {
        let edited = match touched.iter().collect::<Vec<_>>()[..] {
            [one] if self.docs.contains_key(one) => one.clone(),
            _ => return None,
        };
        let timings = std::env::var_os("TENANTC_TIMINGS").is_some();
        let whole = |why: &str| {
            if timings {
                log!("{edited}: checking the whole site: {why}");
            }
            None
        };
        let site = &self.sites[i];
        let Some(basis) = site.basis.as_ref() else {
            return whole("no analysis of it yet");
        };
        if !basis.same_site(gathered, &edited) {
            return whole("other files changed");
        }
        let Some(mut slice) = basis.slice(&edited, &self.docs[&edited].text) else {
            return whole("not a file of tenants only");
        };
        let root = basis.root.clone();
        for _ in 0..3 {
            let basis = self.sites[i].basis.as_ref()?;
            let inputs = basis.paths(&slice);
            let mut opts = self.opts.clone();
            opts.overlay = Some(gathered.overlay.clone());
            opts.parse_cache = Some(self.sites[i].slice_cache.clone());
            opts.cancel = Some(crate::Cancel::at(self.generation.clone(), self.applied));
            opts.root = Some(root.clone());
            opts.errors_elsewhere = slice.errors_elsewhere;
            let analysis = match std::panic::catch_unwind(|| crate::analyze(&inputs, &opts)) {
                Ok(Ok(a)) => a,
                Ok(Err(e)) if e.is_superseded() => return Some(false),
                _ => return None,
            };
            let snap = Analysed::new(analysis);
            let basis = self.sites[i].basis.as_mut()?;
            match basis.judge(&edited, &slice, &snap) {
                slice::Verdict::Exact => {
                    self.publish_slice(i, &edited, &snap);
                    self.sites[i].stale = true;
                    let old = self.sites[i].sliced.replace((edited, Rc::new(snap)));
                    if let Some(old) = old.and_then(|(_, s)| Rc::try_unwrap(s).ok()) {
                        let _ = self.graveyard.send(old);
                    }
                    return Some(true);
                }
                slice::Verdict::Widen(more) => basis.widen(&mut slice, more),
                slice::Verdict::Whole(why) => return whole(why),
            }
        }
        whole("its partners keep growing")
    }

    /// Publishes the diagnostics a slice's analysis gives the edited file.
    pub(super) fn publish_slice(&mut self, i: usize, edited: &Utf8Path, snap: &Analysed) {
        let Some(&file) = snap.by_path.get(edited) else {
            return;
        };
        let diags: Vec<lt::Diagnostic> = snap
            .analysis
            .diagnostics
            .iter()
            .filter(|d| d.primary.span.file == file)
            .map(|d| self.to_lsp(snap, d))
            .collect();
        let value = serde_json::to_value(&diags).unwrap_or(Value::Null);
        let version = self.docs.get(edited).map(|d| d.version);
        self.publish(edited, diags, version);
        self.remember(i, edited, value);
    }

    /// Records what was published for a file, to send only what changes.
    pub(super) fn remember(&mut self, i: usize, path: &Utf8Path, published: Value) {
        if published.as_array().is_some_and(|a| a.is_empty()) {
            self.sites[i].published.remove(path);
        } else {
            self.sites[i]
                .published
                .insert(path.to_path_buf(), published);
        }
    }

    pub(super) fn publish_site(
        &mut self,
        i: usize,
        snap: &Analysed,
        touched: &BTreeSet<Utf8PathBuf>,
    ) {
        let mut by_file: BTreeMap<Utf8PathBuf, Vec<lt::Diagnostic>> = BTreeMap::new();
        for d in &snap.analysis.diagnostics {
            let Some(path) = snap.paths[d.primary.span.file.0 as usize].clone() else {
                continue;
            };
            by_file.entry(path).or_default().push(self.to_lsp(snap, d));
        }
        let root = self.sites[i].root.clone();
        // Files of this site: published ones, ones with diagnostics, open ones.
        let mut paths: BTreeSet<Utf8PathBuf> = self.sites[i].published.keys().cloned().collect();
        paths.extend(by_file.keys().cloned());
        paths.extend(
            self.docs
                .keys()
                .filter(|p| p.starts_with(&root) || snap.by_path.contains_key(*p))
                .cloned(),
        );
        for path in paths {
            let diags = by_file.remove(&path).unwrap_or_default();
            let value = serde_json::to_value(&diags).unwrap_or(Value::Null);
            let unchanged = self.sites[i].published.get(&path) == Some(&value)
                || (diags.is_empty() && !self.sites[i].published.contains_key(&path));
            if unchanged && !touched.contains(&path) {
                continue;
            }
            let version = self.docs.get(&path).map(|d| d.version);
            self.publish(&path, diags, version);
            self.remember(i, &path, value);
        }
    }

    pub(super) fn publish(
        &self,
        path: &Utf8Path,
        diagnostics: Vec<lt::Diagnostic>,
        version: Option<i32>,
    ) {
        let uri = self
            .docs
            .get(path)
            .map_or_else(|| text::path_to_uri(path), |d| d.uri.clone());
        self.notify(
            "textDocument/publishDiagnostics",
            lt::PublishDiagnosticsParams {
                uri,
                diagnostics,
                version,
            },
        );
    }

    pub(super) fn uri_of(&self, path: &Utf8Path) -> lt::Uri {
        self.snapshot().uri_of(path)
    }

    pub(super) fn to_lsp(
        &self,
        snap: &Analysed,
        d: &crate::diagnostics::Diagnostic,
    ) -> lt::Diagnostic {
        let related: Vec<lt::DiagnosticRelatedInformation> = d
            .related
            .iter()
            .filter_map(|l| {
                let path = snap.paths[l.span.file.0 as usize].as_ref()?;
                Some(lt::DiagnosticRelatedInformation {
                    location: lt::Location {
                        uri: self.uri_of(path),
                        range: snap.range(l.span),
                    },
                    message: l.message.clone(),
                })
            })
            .collect();
        let message = if d.help.is_empty() {
            d.message.clone()
        } else {
            format!("{}\nhelp: {}", d.message, d.help)
        };
        let data = d.fix.as_ref().and_then(|f| {
            let path = snap.paths[f.span.file.0 as usize].as_ref()?;
            Some(serde_json::json!({
                "fix": {
                    "title": f.title,
                    "uri": self.uri_of(path),
                    "range": snap.range(f.span),
                    "text": f.text,
                }
            }))
        });
        lt::Diagnostic {
            range: snap.range(d.primary.span),
            severity: Some(match d.severity {
                Severity::Error => lt::DiagnosticSeverity::ERROR,
                Severity::Warning => lt::DiagnosticSeverity::WARNING,
            }),
            code: Some(lt::NumberOrString::String(d.code.as_str().to_string())),
            code_description: None,
            source: Some("tenantc".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data,
        }
    }
}

/// The `*.tenant` files in `root` (and below it when `recursive`) by the
/// walk of `tenantc check DIR` ([`crate::resolve::load::walk_specs`]), and
/// bounded so that opening a home directory stays cheap.
fn scan(root: &Utf8Path, recursive: bool) -> crate::resolve::load::Walked {
    const MAX_ENTRIES: usize = 50_000;
    let w = crate::resolve::load::walk_specs(root, recursive, MAX_ENTRIES);
    for e in &w.errors {
        log!("{e}");
    }
    if w.truncated {
        log!("{root} holds more than {MAX_ENTRIES} entries; not all are checked");
    }
    w
}
