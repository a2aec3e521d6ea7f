//! Loading: input files and everything they import, parsed, with import
//! cycles and missing files reported. The standard library is embedded in the
//! binary and can be replaced with `--stdlib DIR`.

use crate::diagnostics::{registry, Diagnostic};
use crate::error::Error;
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{self, ast::SyntaxFile};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Texts that stand in for files on disk (an editor's unsaved buffers, or
/// specs built in memory), keyed by the path they would be read from.
pub type Overlay = BTreeMap<Utf8PathBuf, Arc<str>>;

/// The stdlib module every site sees: the prelude of default profiles.
pub const PRELUDE: &str = "std/profiles";

const EMBEDDED: &[(&str, &str)] = &[(
    "std/profiles",
    include_str!("../../stdlib/std/profiles.tenant"),
)];

/// Where `std/...` modules come from.
#[derive(Debug, Clone, Default)]
pub struct Stdlib {
    /// A directory that replaces the embedded stdlib (`--stdlib DIR`).
    pub dir: Option<Utf8PathBuf>,
}

impl Stdlib {
    fn read(&self, module: &str) -> Result<(String, Option<Utf8PathBuf>, String), String> {
        match &self.dir {
            Some(dir) => {
                // `std/` and one or more lowercase names: never `..`, never
                // a path that leaves the stdlib directory.
                let plain = module.strip_prefix("std/").is_some_and(|rest| {
                    rest.split('/').all(|seg| {
                        !seg.is_empty()
                            && seg
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    })
                });
                if !plain {
                    return Err(
                        "a standard library module is `std/` and names of a-z, 0-9 and `_` separated by `/`; not read"
                            .to_string(),
                    );
                }
                let path = dir.join(format!("{module}.tenant"));
                crate::confine::read_text(dir, &path, crate::confine::Links::Beneath, MAX_INPUT)
                    .map(|t| (path.to_string(), Some(path.clone()), t))
                    .map_err(|e| format!("{path}: {e}; not read"))
            }
            None => EMBEDDED
                .iter()
                .find(|(n, _)| *n == module)
                .map(|(n, t)| (format!("<stdlib>/{n}.tenant"), None, (*t).to_string()))
                .ok_or_else(|| format!("the standard library has no module `{module}`")),
        }
    }

    /// Names of the embedded modules, for suggestions.
    pub fn embedded_names() -> impl Iterator<Item = &'static str> {
        EMBEDDED.iter().map(|(n, _)| *n)
    }
}

/// A parsed file and the modules its imports bind.
#[derive(Debug)]
pub struct Module {
    pub file: FileId,
    /// Shared with a [`ParseCache`] when there is one.
    pub tree: Arc<SyntaxFile>,
    /// Alias -> module index, for this file's imports that loaded.
    pub imports: BTreeMap<String, (usize, Span)>,
    /// True for the files given on the command line (they share one namespace).
    pub is_input: bool,
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub modules: Vec<Module>,
    /// Module index of the prelude, if it loaded.
    pub prelude: Option<usize>,
}

/// The name an import binds and where it is written: `as name`, or the last
/// part of the path (`"lib/profiles"` binds `profiles`).
pub fn import_alias(imp: &crate::syntax::ast::Import) -> (String, Span) {
    match &imp.alias {
        Some(a) => (a.name.clone(), a.span),
        None => (
            imp.path
                .rsplit('/')
                .next()
                .unwrap_or(&imp.path)
                .trim_end_matches(".tenant")
                .to_string(),
            imp.path_span,
        ),
    }
}

/// Reads and parses the input files and, transitively, their imports.
///
/// An input file that another input imports is a module, not part of the
/// site's shared namespace: `tenantc check site/` works when `site/lib/`
/// holds imported libraries.
pub fn load(
    map: &mut SourceMap,
    inputs: &[Utf8PathBuf],
    stdlib: &Stdlib,
    overlay: Option<&Overlay>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Loaded, Error> {
    load_cached(map, inputs, stdlib, overlay, None, diags)
}

/// The site root of a set of inputs: the deepest directory holding all of
/// them, after resolving symbolic links in their directories.
pub fn site_root(inputs: &[Utf8PathBuf]) -> Utf8PathBuf {
    let mut root: Option<Utf8PathBuf> = None;
    for p in inputs {
        // The directory as written, its links resolved; not the file's own
        // link, which is what the root guards against.
        let abs = absolute(p);
        let dir = canonical(abs.parent().unwrap_or(Utf8Path::new("/")));
        root = Some(match root {
            None => dir,
            Some(r) => {
                let mut common = Utf8PathBuf::new();
                for (a, b) in r.components().zip(dir.components()) {
                    if a != b {
                        break;
                    }
                    common.push(a.as_str());
                }
                common
            }
        });
    }
    root.unwrap_or_else(|| canonical(&absolute(Utf8Path::new("."))))
}

fn absolute(p: &Utf8Path) -> Utf8PathBuf {
    std::path::absolute(p)
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .map_or_else(|| p.to_path_buf(), |p| normalize(&p))
}

/// `path` with every symbolic link resolved: the file's, or, for a file that
/// does not exist (an editor's unsaved buffer), its directory's.
pub fn canonical(path: &Utf8Path) -> Utf8PathBuf {
    let real = |p: &Utf8Path| {
        std::fs::canonicalize(p)
            .ok()
            .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
    };
    let path = absolute(path);
    if let Some(p) = real(&path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => canonical(dir).join(name),
        _ => path,
    }
}

/// True when `path` (canonical) is `root` or below it.
pub fn within(path: &Utf8Path, root: &Utf8Path) -> bool {
    path.starts_with(root)
}

/// [`load`], reusing the parse results of unchanged files from `cache`.
pub fn load_cached(
    map: &mut SourceMap,
    inputs: &[Utf8PathBuf],
    stdlib: &Stdlib,
    overlay: Option<&Overlay>,
    cache: Option<&ParseCache>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Loaded, Error> {
    load_in(map, inputs, stdlib, None, overlay, cache, diags, &|| false)
}

/// [`load_cached`] with the site root given (`--root DIR`); `None` takes the
/// common directory of the inputs. Imports resolve only to `*.tenant` files
/// inside the root (or the stdlib); an input that is a symbolic link out of
/// the root is refused. Nothing outside it is read. Once `stop` says so (an
/// editor's newer edit), it gives up between files: what it returns then is
/// incomplete, and thrown away.
#[allow(clippy::too_many_arguments)] // each a setting of its own; one caller
pub fn load_in(
    map: &mut SourceMap,
    inputs: &[Utf8PathBuf],
    stdlib: &Stdlib,
    root: Option<&Utf8Path>,
    overlay: Option<&Overlay>,
    cache: Option<&ParseCache>,
    diags: &mut Vec<Diagnostic>,
    stop: &dyn Fn() -> bool,
) -> Result<Loaded, Error> {
    let root = root.map_or_else(|| site_root(inputs), canonical);
    let mut loader = Loader {
        root,
        map,
        stdlib,
        overlay,
        diags,
        loaded: Loaded::default(),
        by_key: BTreeMap::new(),
        stack: Vec::new(),
        pending: BTreeMap::new(),
        cache,
        keys: Keys::default(),
    };
    let mut files = Vec::with_capacity(inputs.len());
    let mut refused = Vec::new();
    for path in inputs {
        let in_overlay = overlay.is_some_and(|o| overlay_get(o, path).is_some());
        // A link to a directory out of the directory walked
        // (`crate::find_inputs`): not followed, and said so.
        let dir_link = !in_overlay && path.is_symlink() && path.is_dir();
        let outside = !in_overlay && !within(&canonical(path), &loader.root);
        if outside || dir_link {
            // Not read: its text must not reach a diagnostic.
            let file = loader.map.add(path.to_string(), Some(path.clone()), "");
            refused.push(file);
            let (message, label) = match (dir_link, outside) {
                (true, true) => (
                    format!("`{path}` is a link to a directory outside the site root"),
                    "a directory link out of the site; its *.tenant files are not read",
                ),
                (true, false) => (
                    format!(
                        "`{path}` is a link to `{}`, outside the directories named as inputs",
                        canonical(path)
                    ),
                    "a directory link is not followed; its *.tenant files are not read",
                ),
                _ => (
                    format!("`{path}` leads outside the site root"),
                    "a symbolic link out of the site; not read",
                ),
            };
            loader.diags.push(
                Diagnostic::new(registry::OUTSIDE_SITE, Span::new(file, 0, 0), message, label)
                .help(if dir_link {
                    "a directory link is never followed: name the directory it leads to as an input (inside the site root; --root DIR widens the root)"
                } else {
                    "spec files are read only inside the site root (the common directory of the inputs); pass --root DIR to widen it"
                }),
            );
            files.push(file);
            continue;
        }
        let text = read_text(overlay, &loader.root, path)?;
        files.push(loader.map.add(path.to_string(), Some(path.clone()), text));
    }
    // Files parse independently: on every core, results kept in input order.
    let trees = parse_all(loader.map, &files, cache);
    let mut parsed = Vec::new();
    for (n, ((path, file), (tree, diags))) in inputs.iter().zip(files).zip(trees).enumerate() {
        if n % 256 == 0 && stop() {
            return Ok(loader.loaded);
        }
        if refused.contains(&file) {
            continue;
        }
        loader.diags.extend(diags);
        let dir = path.parent().map(Utf8Path::to_path_buf);
        parsed.push((loader.keys.of(path), file, tree, dir));
    }
    let mut imported = std::collections::BTreeSet::new();
    for (_, _, tree, dir) in &parsed {
        let Some(tree) = tree else { continue };
        for i in tree.imports.iter().filter(|i| !i.path.starts_with("std/")) {
            imported.insert(
                loader
                    .keys
                    .of(&resolve_import(overlay, dir.as_deref(), &i.path)),
            );
        }
    }
    let mut inputs_here = Vec::new();
    for (key, file, tree, dir) in parsed {
        if imported.contains(&key) {
            loader.pending.insert(key, (file, tree, dir));
        } else {
            loader.by_key.insert(key.clone(), Slot::Input);
            inputs_here.push((key, file, tree, dir));
        }
    }
    for (n, (key, file, tree, dir)) in inputs_here.into_iter().enumerate() {
        if n % 256 == 0 && stop() {
            return Ok(loader.loaded);
        }
        loader.stack.push(key);
        loader.finish(file, tree, true, dir);
        loader.stack.pop();
    }
    // Inputs imported only from each other in a cycle: load them as modules so
    // the cycle is reported rather than the files silently dropped.
    while let Some((key, (file, tree, dir))) = loader.pending.pop_first() {
        loader.stack.push(key.clone());
        let idx = loader.finish(file, tree, false, dir);
        loader.stack.pop();
        loader.by_key.insert(key, slot(idx));
    }
    loader.loaded.prelude = loader.import_std(PRELUDE, None);
    Ok(loader.loaded)
}

type Parsed = (Option<Arc<SyntaxFile>>, Vec<Diagnostic>);

/// Parse results kept from one analysis to the next (an editor re-checking
/// after a keystroke): a file whose id and text are unchanged is not parsed
/// again. The CLI analyzes once and does without.
#[derive(Default)]
pub struct ParseCache {
    files: std::sync::Mutex<std::collections::HashMap<FileId, (Arc<str>, Parsed)>>,
}

impl std::fmt::Debug for ParseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParseCache")
    }
}

impl ParseCache {
    /// How many files it holds a parse of.
    pub fn len(&self) -> usize {
        self.files.lock().map_or(0, |f| f.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, file: FileId, text: &Arc<str>) -> Option<Parsed> {
        let files = self.files.lock().ok()?;
        let (t, parsed) = files.get(&file)?;
        (Arc::ptr_eq(t, text) || **t == **text).then(|| parsed.clone())
    }

    fn put(&self, file: FileId, text: &Arc<str>, parsed: &Parsed) {
        if let Ok(mut files) = self.files.lock() {
            files.insert(file, (text.clone(), parsed.clone()));
        }
    }
}

fn parse_shared(file: FileId, text: &str) -> Parsed {
    let (tree, diags) = syntax::parse(file, text);
    (tree.map(Arc::new), diags)
}

fn parse_cached(cache: Option<&ParseCache>, file: FileId, text: &Arc<str>) -> Parsed {
    if let Some(hit) = cache.and_then(|c| c.get(file, text)) {
        return hit;
    }
    let parsed = parse_shared(file, text);
    if let Some(c) = cache {
        c.put(file, text, &parsed);
    }
    parsed
}

/// The tree loading makes of an input's text, through `cache` (a text
/// parsed once is not parsed again): for an editor asked about a text that
/// no analysis has read.
pub fn parse_input(
    cache: Option<&ParseCache>,
    file: FileId,
    text: &Arc<str>,
) -> Option<Arc<SyntaxFile>> {
    parse_cached(cache, file, text).0
}

/// Parses files on up to as many threads as there are cores; with a cache,
/// only those whose text changed.
fn parse_all(map: &SourceMap, files: &[FileId], cache: Option<&ParseCache>) -> Vec<Parsed> {
    if let Some(c) = cache {
        let mut out: Vec<Option<Parsed>> =
            files.iter().map(|f| c.get(*f, &map.get(*f).text)).collect();
        let missing: Vec<FileId> = files
            .iter()
            .zip(&out)
            .filter(|(_, p)| p.is_none())
            .map(|(f, _)| *f)
            .collect();
        let mut fresh = parse_all(map, &missing, None).into_iter();
        for (f, slot) in files.iter().zip(out.iter_mut()) {
            if slot.is_none() {
                let parsed = fresh.next().unwrap_or_default();
                c.put(*f, &map.get(*f).text, &parsed);
                *slot = Some(parsed);
            }
        }
        return out.into_iter().map(Option::unwrap_or_default).collect();
    }
    crate::par::map(files.to_vec(), |f| parse_shared(f, &map.get(f).text))
}

fn resolve_import(overlay: Option<&Overlay>, dir: Option<&Utf8Path>, rel: &str) -> Utf8PathBuf {
    let base = dir.unwrap_or(Utf8Path::new("."));
    let path = base.join(rel);
    let exists = overlay.is_some_and(|o| overlay_get(o, &path).is_some()) || path.exists();
    if path.extension() != Some("tenant") && !exists {
        base.join(format!("{rel}.tenant"))
    } else {
        path
    }
}

/// The overlay's text for `path`, or the file's (read only inside `root`).
fn read_text(
    overlay: Option<&Overlay>,
    root: &Utf8Path,
    path: &Utf8Path,
) -> Result<Arc<str>, Error> {
    match overlay.and_then(|o| overlay_get(o, path)) {
        Some(text) => Ok(text.clone()),
        None => read_input(root, path).map(Arc::from),
    }
}

/// The overlay's text for a path, also when an import spells it with `..`
/// or `.` parts (`tenants/../lib/profiles.tenant`).
fn overlay_get<'o>(overlay: &'o Overlay, path: &Utf8Path) -> Option<&'o Arc<str>> {
    overlay.get(path).or_else(|| {
        let normal = normalize(path);
        (normal != path).then(|| overlay.get(&normal)).flatten()
    })
}

/// `path` with `.` and `name/..` parts removed, without touching the file
/// system (symbolic links are not followed).
pub fn normalize(path: &Utf8Path) -> Utf8PathBuf {
    use camino::Utf8Component;
    let mut out = Utf8PathBuf::new();
    for c in path.components() {
        match c {
            Utf8Component::CurDir => {}
            Utf8Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Utf8Component::Normal(_))) {
                    out.pop();
                } else if !matches!(
                    out.components().next_back(),
                    Some(Utf8Component::RootDir | Utf8Component::Prefix(_))
                ) {
                    out.push("..");
                }
            }
            other => out.push(other.as_str()),
        }
    }
    out
}

/// The `*.tenant` files of a directory as `tenantc check DIR` reads them,
/// and as the language server lists a workspace: the one walk of both.
#[derive(Debug, Default)]
pub struct Walked {
    /// In walk order (each directory's entries sorted, depth first, which
    /// is the order of [`Utf8PathBuf`]'s components), each file once.
    pub files: Vec<Utf8PathBuf>,
    /// The identity (canonical path) of each file read.
    pub identities: std::collections::HashSet<std::path::PathBuf>,
    /// Directories that could not be read, with the reason.
    pub errors: Vec<String>,
    /// More than the bound of entries: the walk stopped there.
    pub truncated: bool,
    /// Links to directories outside the directory walked (not followed):
    /// `crate::find_inputs` passes them on, so that loading reports them
    /// (E0211) instead of their tenants dropping out without a word.
    pub links_out: Vec<Utf8PathBuf>,
}

/// Walks `dir` (and below it when `recursive`): hidden directories (`.git`,
/// an editor's backups) hold no specs and are skipped, directory links are
/// not followed (two links to each other would make the walk endless), and
/// a file reached twice (a link to a spec, and the spec) is read once, at
/// the first path the walk reaches it by. At most `max_entries` directory
/// entries are looked at.
pub fn walk_specs(dir: &Utf8Path, recursive: bool, max_entries: usize) -> Walked {
    fn walk(dir: &Utf8Path, top: &Utf8Path, recursive: bool, budget: &mut usize, w: &mut Walked) {
        let entries = match dir.read_dir_utf8() {
            Ok(e) => e,
            Err(e) => return w.errors.push(format!("cannot read directory {dir}: {e}")),
        };
        let mut paths = Vec::new();
        for e in entries {
            match e {
                Ok(e) => paths.push(e.path().to_path_buf()),
                Err(e) => return w.errors.push(format!("cannot read directory {dir}: {e}")),
            }
        }
        paths.sort();
        for p in paths {
            if *budget == 0 {
                w.truncated = true;
                return;
            }
            *budget -= 1;
            let real_dir = p.symlink_metadata().is_ok_and(|m| m.is_dir());
            let hidden = p.file_name().is_some_and(|n| n.starts_with('.'));
            if real_dir {
                if recursive && !hidden {
                    walk(&p, top, recursive, budget, w);
                }
            } else if p.is_dir() {
                // Directory links are not followed: two links to each other
                // (or to `..`) would make the walk endless.
                if recursive && !hidden && !within(&canonical(&p), top) {
                    w.links_out.push(p);
                }
            } else if p.extension() == Some("tenant") {
                w.files.push(p);
            }
        }
    }
    let mut w = Walked::default();
    let mut budget = max_entries;
    walk(dir, &canonical(dir), recursive, &mut budget, &mut w);
    read_once(&mut w.files, &mut w.identities);
    w
}

/// Keeps the first path of each file (by identity, its canonical path),
/// recording the identities in `seen`.
pub fn read_once(
    paths: &mut Vec<Utf8PathBuf>,
    seen: &mut std::collections::HashSet<std::path::PathBuf>,
) {
    paths.retain(|p| {
        seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone().into_std_path_buf()))
    });
}

/// Whether [`walk_specs`] of `root` would reach `path` once it is on disk:
/// a `*.tenant` file below `root` (directly in it unless `recursive`)
/// through no hidden directory and no directory link, and not another path
/// of a file the walk reads (`identities`). For a path the walk did not
/// list: an editor's open document is a file of the site exactly then, as
/// `tenantc check` would read it once saved.
pub fn walk_reaches(
    root: &Utf8Path,
    path: &Utf8Path,
    recursive: bool,
    identities: &std::collections::HashSet<std::path::PathBuf>,
) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    if path.extension() != Some("tenant") {
        return false;
    }
    let dirs: Vec<&str> = rel.parent().map_or(Vec::new(), |p| p.iter().collect());
    if !recursive && !dirs.is_empty() {
        return false;
    }
    let mut at = root.to_path_buf();
    for d in dirs {
        at.push(d);
        let linked = at.symlink_metadata().is_ok_and(|m| !m.is_dir());
        if d.starts_with('.') || d == ".." || linked {
            return false;
        }
    }
    // Not on disk yet (a new buffer): read once saved. On disk: read
    // unless the walk reads it by another path (or it is new since).
    std::fs::canonicalize(path).map_or(true, |id| !identities.contains(&id))
}

/// The deepest chain of imports loaded (E0212): loading recurses once per
/// link of a chain, and 12,000 links overflowed the stack.
pub const MAX_IMPORT_DEPTH: usize = 256;

/// The largest spec file read; larger ones are refused, not loaded.
pub const MAX_INPUT: u64 = 64 << 20;

/// Reads a spec file beneath `root` (see [`crate::confine`]): resolved
/// once and opened without following a link swapped in after; only regular
/// files up to [`MAX_INPUT`] bytes (a FIFO or a device named like a spec
/// would block or never end), and invalid UTF-8 is a clear error. A file that
/// is refused is never read, so none of its text reaches a message.
pub fn read_input(root: &Utf8Path, path: &Utf8Path) -> Result<String, Error> {
    use crate::confine::Refused;
    crate::confine::read_text(root, path, crate::confine::Links::Beneath, MAX_INPUT).map_err(|e| {
        Error::Input(match e {
            Refused::Outside => {
                format!("cannot read {path}: it leads outside the site root ({root}); not read")
            }
            Refused::TooLarge(_) => {
                format!("cannot read {path}: more than a spec file may hold ({MAX_INPUT} bytes)")
            }
            Refused::NotUtf8(at) => {
                format!("{path} is not UTF-8 text (invalid byte at offset {at})")
            }
            Refused::Missing => {
                format!("cannot read {path}: No such file or directory (os error 2)")
            }
            e => format!("cannot read {path}: {e}"),
        })
    })
}

/// [`key_of`] for the files of one load, remembered: at 10,000 files, each
/// importing the same module, resolving every path's links anew took a
/// third of an editor's re-check. A file that is not itself a link has the
/// key of its directory's (resolved once per directory) and its name.
#[derive(Default)]
struct Keys {
    files: std::collections::HashMap<Utf8PathBuf, String>,
    dirs: std::collections::HashMap<Utf8PathBuf, Option<Utf8PathBuf>>,
}

impl Keys {
    fn of(&mut self, path: &Utf8Path) -> String {
        if let Some(k) = self.files.get(path) {
            return k.clone();
        }
        let plain = path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_file());
        let key = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) if plain && !dir.as_str().is_empty() => {
                let real = self.dirs.entry(dir.to_path_buf()).or_insert_with(|| {
                    std::fs::canonicalize(dir)
                        .ok()
                        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
                });
                match real {
                    Some(d) => d.join(name).to_string(),
                    None => key_of(path),
                }
            }
            _ => key_of(path),
        };
        self.files.insert(path.to_path_buf(), key.clone());
        key
    }
}

fn key_of(path: &Utf8Path) -> String {
    std::fs::canonicalize(path)
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .map_or_else(|| path.to_string(), |p| p.to_string())
}

/// What a file key stands for in this load.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// An input file: part of the site namespace, not importable.
    Input,
    /// A loaded module.
    Module(usize),
    /// A module that did not load (its errors are reported already).
    Failed,
}

fn slot(idx: Option<usize>) -> Slot {
    idx.map_or(Slot::Failed, Slot::Module)
}

/// A parsed input waiting for the import that makes it a module.
type Pending = (FileId, Option<Arc<SyntaxFile>>, Option<Utf8PathBuf>);

struct Loader<'a> {
    /// The canonical site root: nothing outside it is read.
    root: Utf8PathBuf,
    map: &'a mut SourceMap,
    stdlib: &'a Stdlib,
    overlay: Option<&'a Overlay>,
    diags: &'a mut Vec<Diagnostic>,
    loaded: Loaded,
    /// What each canonical file key is.
    by_key: BTreeMap<String, Slot>,
    /// Keys of the modules being loaded, for cycle detection.
    stack: Vec<String>,
    /// Input files that another input imports, parsed, waiting for that import.
    pending: BTreeMap<String, Pending>,
    cache: Option<&'a ParseCache>,
    keys: Keys,
}

impl Loader<'_> {
    fn parse(&mut self, file: FileId) -> Option<Arc<SyntaxFile>> {
        let (tree, diags) = parse_cached(self.cache, file, &self.map.get(file).text);
        self.diags.extend(diags);
        tree
    }

    fn parse_module(
        &mut self,
        file: FileId,
        is_input: bool,
        dir: Option<Utf8PathBuf>,
    ) -> Option<usize> {
        let tree = self.parse(file);
        self.finish(file, tree, is_input, dir)
    }

    /// Loads a parsed file's imports and records it as a module.
    fn finish(
        &mut self,
        file: FileId,
        tree: Option<Arc<SyntaxFile>>,
        is_input: bool,
        dir: Option<Utf8PathBuf>,
    ) -> Option<usize> {
        let tree = tree?;
        let mut imports = BTreeMap::new();
        for imp in &tree.imports {
            let target = if imp.path.starts_with("std/") {
                self.import_std(&imp.path, Some(imp.path_span))
            } else {
                self.import_file(dir.as_deref(), &imp.path, imp.path_span)
            };
            let (alias, alias_span) = import_alias(imp);
            if let Some(m) = target {
                if imports.get(&alias).is_some_and(|(prev, _)| *prev == m) {
                    continue; // the same module imported twice under one name: harmless
                }
                if let Some((_, first)) = imports.get(&alias) {
                    self.diags.push(
                        Diagnostic::new(
                            registry::DUPLICATE_IMPORT_ALIAS,
                            alias_span,
                            format!("a second import binds the name `{alias}`"),
                            "binds it again",
                        )
                        .related(*first, "first bound here")
                        .help(format!(
                            "give one of them another name: `import \"{}\" as other_name`",
                            imp.path
                        )),
                    );
                } else {
                    imports.insert(alias, (m, alias_span));
                }
            }
        }
        let idx = self.loaded.modules.len();
        self.loaded.modules.push(Module {
            file,
            tree,
            imports,
            is_input,
        });
        Some(idx)
    }

    fn enter(&mut self, key: String, span: Option<Span>, shown: &str) -> Result<Option<usize>, ()> {
        if self.stack.len() > MAX_IMPORT_DEPTH && !self.by_key.contains_key(&key) {
            if let Some(span) = span {
                self.diags.push(
                    Diagnostic::new(
                        registry::IMPORT_TOO_DEEP,
                        span,
                        format!("importing `{shown}` makes a chain of imports more than {MAX_IMPORT_DEPTH} files deep"),
                        "not loaded",
                    )
                    .help("import the modules a file needs directly, instead of through a long chain of files each importing the next"),
                );
            }
            return Err(());
        }
        if self.stack.contains(&key) {
            if let Some(span) = span {
                self.diags.push(
                    Diagnostic::new(
                        registry::IMPORT_CYCLE,
                        span,
                        format!("importing `{shown}` closes an import cycle"),
                        "this import leads back to a file being loaded",
                    )
                    .help("move what both files need into a third file that each imports"),
                );
            }
            return Err(());
        }
        match self.by_key.get(&key) {
            Some(Slot::Module(idx)) => Ok(Some(*idx)),
            Some(Slot::Failed) => Err(()),
            Some(Slot::Input) => {
                if let Some(span) = span {
                    self.diags.push(
                        Diagnostic::new(
                            registry::IMPORT_CYCLE,
                            span,
                            format!("`{shown}` is an input file and cannot also be imported"),
                            "imports an input file",
                        )
                        .help("input files already share one namespace; drop this import, or stop passing the file as an input"),
                    );
                }
                Err(())
            }
            None => Ok(None),
        }
    }

    fn import_std(&mut self, module: &str, span: Option<Span>) -> Option<usize> {
        let key = format!("<stdlib>/{module}");
        match self.enter(key.clone(), span, module) {
            Ok(Some(idx)) => return Some(idx),
            Ok(None) => {}
            Err(()) => return None,
        }
        let (name, path, text) = match self.stdlib.read(module) {
            Ok(x) => x,
            Err(e) => {
                if let Some(span) = span {
                    let help = match crate::diagnostics::suggest(module, Stdlib::embedded_names()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "the standard library has: {}",
                            Stdlib::embedded_names().collect::<Vec<_>>().join(", ")
                        ),
                    };
                    self.diags.push(
                        Diagnostic::new(
                            registry::IMPORT_NOT_FOUND,
                            span,
                            format!("cannot import `{module}`: {e}"),
                            "not found",
                        )
                        .help(help),
                    );
                }
                return None;
            }
        };
        let file = self.map.add(name, path, text);
        self.stack.push(key.clone());
        let idx = self.parse_module(file, false, None);
        self.stack.pop();
        self.by_key.insert(key, slot(idx));
        idx
    }

    fn import_file(&mut self, dir: Option<&Utf8Path>, rel: &str, span: Span) -> Option<usize> {
        let path = resolve_import(self.overlay, dir, rel);
        let in_overlay = self
            .overlay
            .is_some_and(|o| overlay_get(o, &path).is_some());
        let problem = if rel.chars().any(|c| {
            c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{2028}' | '\u{2029}')
        }) {
            Some("holds characters no generated file header can carry")
        } else if path.extension() != Some("tenant") {
            Some("is not a `*.tenant` file")
        } else if !in_overlay && !within(&canonical(&path), &self.root) {
            Some("leads outside the site root")
        } else {
            None
        };
        if let Some(problem) = problem {
            // Refused before reading: no text of the file may reach a diagnostic.
            self.diags.push(
                Diagnostic::new(
                    registry::OUTSIDE_SITE,
                    span,
                    format!("cannot import `{rel}`: it {problem}"),
                    "not read",
                )
                .help("an import names a `*.tenant` file inside the site root (the common directory of the inputs), or `std/...`; pass --root DIR to widen the site"),
            );
            return None;
        }
        let key = self.keys.of(&path);
        match self.enter(key.clone(), Some(span), rel) {
            Ok(Some(idx)) => return Some(idx),
            Ok(None) => {}
            Err(()) => return None,
        }
        if let Some((file, tree, dir)) = self.pending.remove(&key) {
            self.stack.push(key.clone());
            let idx = self.finish(file, tree, false, dir);
            self.stack.pop();
            self.by_key.insert(key, slot(idx));
            return idx;
        }
        let text = match read_text(self.overlay, &self.root, &path) {
            Ok(t) => t,
            Err(e) => {
                self.diags.push(
                    Diagnostic::new(registry::IMPORT_NOT_FOUND, span, format!("cannot import `{rel}`"), e.message())
                        .help("import paths are relative to the importing file; `std/...` names the standard library"),
                );
                return None;
            }
        };
        let file = self.map.add(path.to_string(), Some(path.clone()), text);
        self.stack.push(key.clone());
        let idx = self.parse_module(file, false, path.parent().map(Utf8Path::to_path_buf));
        self.stack.pop();
        self.by_key.insert(key, slot(idx));
        idx
    }
}
