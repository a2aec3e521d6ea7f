//! `tenantc fix`: applies the edits diagnostics suggest, as `cargo fix` and
//! `ruff check --fix` do. Only "safe" fixes by default (the edit is what the
//! spec must say); "guess" fixes (a misspelt name's nearest match) only when
//! asked. The fixed text goes through the formatter, so a file comes out in
//! the canonical layout, and a file whose fixed text would not parse is left
//! as it was.

use crate::diagnostics::{Applicability, Diagnostic, Fix};
use crate::source::{FileId, SourceMap};
use camino::Utf8Path;
use std::collections::BTreeMap;

/// What a fix run did to one file.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The fixed, formatted text, and how many fixes it applies.
    Fixed { text: String, applied: usize },
    /// The fixed text does not parse: the file stays as it is.
    WouldNotParse { applied: usize },
}

/// The fixes of `diags` that may be applied, grouped by file: safe ones, and
/// guesses when `guesses`. Files without a path (the embedded stdlib) are
/// never edited.
pub fn fixes_by_file<'a>(
    sources: &SourceMap,
    diags: &'a [Diagnostic],
    guesses: bool,
) -> BTreeMap<FileId, Vec<&'a Fix>> {
    let mut by_file: BTreeMap<FileId, Vec<&Fix>> = BTreeMap::new();
    for fix in diags.iter().filter_map(|d| d.fix.as_ref()) {
        let allowed = match fix.applicability {
            Applicability::Safe => true,
            Applicability::Guess => guesses,
        };
        if allowed && sources.get(fix.span.file).path.is_some() {
            by_file.entry(fix.span.file).or_default().push(fix);
        }
    }
    by_file
}

/// Applies `fixes` to `text` (spans in `file`): in order of position, each
/// once; a fix overlapping one already taken is skipped (the next run, after
/// a fresh check, offers it again if it still applies). Then formats.
pub fn apply(file: FileId, text: &str, fixes: &[&Fix]) -> Outcome {
    let mut fixes: Vec<&Fix> = fixes.to_vec();
    fixes.sort_by_key(|f| (f.span.start, f.span.end));
    fixes.dedup_by(|a, b| a.span == b.span && a.text == b.text);
    let mut out = String::with_capacity(text.len());
    let mut at = 0usize;
    let mut applied = 0;
    for f in fixes {
        let (start, end) = (f.span.start as usize, f.span.end as usize);
        if start < at
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&f.text);
        at = end;
        applied += 1;
    }
    out.push_str(&text[at..]);
    match crate::fmt::format_source(file, &out) {
        Ok(formatted) => Outcome::Fixed {
            text: formatted,
            applied,
        },
        Err(_) => Outcome::WouldNotParse { applied },
    }
}

/// Replaces a spec file's text atomically: a temporary file in the same
/// directory, written, synced, given the file's permissions and renamed
/// over it. Refuses a path that is a symbolic link or not a regular file,
/// so a fix never writes through a link to somewhere outside the site.
/// (The one place `tenantc fix` writes; keep it the only one.)
pub fn write_spec(path: &Utf8Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let err = |e: std::io::Error| format!("cannot write {path}: {e}");
    let meta = std::fs::symlink_metadata(path).map_err(err)?;
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{path} is a symbolic link; `tenantc fix` rewrites only regular files (fix the file it points to)"
        ));
    }
    if !meta.is_file() {
        return Err(format!("cannot write {path}: not a regular file"));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_str().is_empty() => d,
        _ => Utf8Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tenantc-fix-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.as_file()
        .set_permissions(meta.permissions())
        .map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn fix(file: FileId, start: u32, end: u32, text: &str) -> Fix {
        Fix {
            title: String::new(),
            span: Span::new(file, start as usize, end as usize),
            text: text.to_string(),
            applicability: Applicability::Safe,
        }
    }

    #[test]
    fn applies_in_order_skips_overlaps_and_formats() {
        let mut map = SourceMap::new();
        let text = "tenant t { namspace = \"a\" }\n";
        let id = map.add("t.tenant".into(), None, text);
        let a = fix(id, 11, 19, "namespace");
        let b = fix(id, 12, 14, "xx");
        match apply(id, text, &[&b, &a]) {
            Outcome::Fixed { text, applied } => {
                assert_eq!(applied, 1);
                assert!(text.contains("namespace = \"a\""), "{text}");
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn a_fix_that_breaks_the_syntax_is_not_written() {
        let mut map = SourceMap::new();
        let text = "tenant t { namespace = \"a\" }\n";
        let id = map.add("t.tenant".into(), None, text);
        let bad = fix(id, 9, 10, "");
        assert_eq!(
            apply(id, text, &[&bad]),
            Outcome::WouldNotParse { applied: 1 }
        );
    }
}
