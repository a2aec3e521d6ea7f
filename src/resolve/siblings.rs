//! "Declared in a file beside it": when a name cannot be found and a
//! `.tenant` file in the same directory as the file that uses it declares
//! it, but that file is not among the inputs (`tenantc check
//! customer1.tenant` with the cluster in `site.tenant`), the diagnostic
//! says so and how to include it.
//!
//! Confined like every other read: only regular files (never a symbolic
//! link) directly inside the directory of an input, ending in `.tenant`, at
//! most [`MAX_SIBLING`] bytes each and [`MAX_SIBLINGS`] files per directory;
//! their text is never quoted, only the names of their top-level blocks are
//! read.

use crate::diagnostics::{registry, Diagnostic};
use crate::source::SourceMap;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::{BTreeMap, BTreeSet};

/// Larger sibling files are not read for a hint.
pub const MAX_SIBLING: u64 = 1 << 20;
/// Sibling files read per directory, in name order.
pub const MAX_SIBLINGS: usize = 256;

/// Adds "declared in `X.tenant` beside it" to each unresolved-name error
/// whose name a sibling file that is not an input declares at top level.
pub fn annotate(sources: &SourceMap, diags: &mut [Diagnostic]) {
    let inputs: BTreeSet<Utf8PathBuf> = sources
        .files()
        .filter_map(|(_, f)| f.path.as_deref().map(super::load::canonical))
        .collect();
    let mut declared: BTreeMap<Utf8PathBuf, Vec<(String, BTreeSet<String>)>> = BTreeMap::new();
    for d in diags.iter_mut() {
        // A near name in scope ("did you mean") is the likelier intent; the
        // hint is for a name nothing in the inputs resembles.
        if d.code != registry::UNRESOLVED
            || !d.message.starts_with("cannot find `")
            || d.fix.is_some()
        {
            continue;
        }
        let name = sources.snippet(d.primary.span).to_string();
        let Some(dir) = sources
            .get(d.primary.span.file)
            .path
            .as_deref()
            .and_then(Utf8Path::parent)
        else {
            continue;
        };
        let dir = if dir.as_str().is_empty() {
            Utf8Path::new(".")
        } else {
            dir
        };
        let files = declared
            .entry(dir.to_path_buf())
            .or_insert_with(|| siblings(dir, &inputs));
        let Some((file, _)) = files.iter().find(|(_, names)| names.contains(&name)) else {
            continue;
        };
        let shown = crate::diagnostics::printable(dir.join(file).as_str()).into_owned();
        let dir = crate::diagnostics::printable(dir.as_str()).into_owned();
        d.help = format!(
            "`{name}` is declared in {shown} beside this file, which is not an input: check the whole directory (`tenantc check {dir}`) or name both files"
        );
    }
}

/// The top-level names each sibling `.tenant` file declares, by file name.
fn siblings(dir: &Utf8Path, inputs: &BTreeSet<Utf8PathBuf>) -> Vec<(String, BTreeSet<String>)> {
    let Ok(entries) = dir.read_dir_utf8() else {
        return Vec::new();
    };
    let mut names: Vec<Utf8PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension() == Some("tenant"))
        // Not a link, a directory or a device: file_type does not follow links.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path().to_path_buf())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for path in names.into_iter().take(MAX_SIBLINGS) {
        if inputs.contains(&super::load::canonical(&path)) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_SIBLING {
            continue;
        }
        let dir = path.parent().unwrap_or(camino::Utf8Path::new("."));
        let Ok(text) = super::load::read_input(dir, &path) else {
            continue;
        };
        let mut map = SourceMap::new();
        let id = map.add(path.to_string(), None, text.as_str());
        let (Some(tree), _) = crate::syntax::parse(id, &text) else {
            continue;
        };
        let declared: BTreeSet<String> = tree
            .blocks
            .iter()
            .filter_map(|b| b.name.as_ref().map(|n| n.name.clone()))
            .collect();
        if let Some(file) = path.file_name() {
            out.push((file.to_string(), declared));
        }
    }
    out
}
