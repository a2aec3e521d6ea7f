//! Source files and spans.
//!
//! Every file the compiler reads (spec files, imported modules, the embedded
//! stdlib) gets a [`FileId`] in one [`SourceMap`]; every syntax node, IR value
//! and diagnostic label points back into it through a [`Span`].

use camino::Utf8PathBuf;
use std::sync::Arc;

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both (they must be in the same file).
    pub fn to(self, other: Span) -> Span {
        debug_assert_eq!(self.file, other.file);
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics and recorded in the bundle manifest:
    /// the path as the user gave it, or `<stdlib>/std/profiles.tenant`.
    pub name: String,
    /// Where it was read from; `None` for embedded stdlib files.
    pub path: Option<Utf8PathBuf>,
    pub text: Arc<str>,
    /// Byte offsets where lines start, built on first use: positions are
    /// found by binary search, not by scanning from the file start for
    /// every diagnostic (200,000 diagnostics took over 20 s).
    lines: std::sync::OnceLock<Vec<u32>>,
}

impl SourceFile {
    fn line_starts(&self) -> &[u32] {
        self.lines.get_or_init(|| {
            std::iter::once(0)
                .chain(
                    self.text
                        .bytes()
                        .enumerate()
                        .filter(|(_, b)| *b == b'\n')
                        .map(|(i, _)| i as u32 + 1),
                )
                .collect()
        })
    }
}

/// All files of one compilation.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(
        &mut self,
        name: String,
        path: Option<Utf8PathBuf>,
        text: impl Into<Arc<str>>,
    ) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            name,
            path,
            text: text.into(),
            lines: std::sync::OnceLock::new(),
        });
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        let text = &self.get(span.file).text;
        text.get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: u32) -> (usize, usize) {
        let f = self.get(file);
        let text = &f.text;
        let offset = floor_char_boundary(text, (offset as usize).min(text.len()));
        let starts = f.line_starts();
        // The last line start at or before the offset.
        let line = starts.partition_point(|s| *s as usize <= offset);
        let line_start = starts[line - 1] as usize;
        let col = text[line_start..offset].chars().count() + 1;
        (line, col)
    }
}

/// A path as the path of a URI: every byte but RFC 3986's unreserved
/// characters and `/` percent-encoded (SARIF locations, LSP document URIs).
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let mut map = SourceMap::new();
        let f = map.add("a".into(), None, "ab\ncdé\nx");
        assert_eq!(map.line_col(f, 0), (1, 1));
        assert_eq!(map.line_col(f, 3), (2, 1));
        assert_eq!(map.line_col(f, 7), (2, 4));
        assert_eq!(map.line_col(f, 8), (3, 1));
        assert_eq!(map.line_col(f, 99), (3, 2));
    }

    #[test]
    fn positions_come_from_a_line_index() {
        // 100,000 lookups in a 100,000-line file: a scan from the file start
        // per lookup takes minutes, the index milliseconds.
        let text = "x = 1\n".repeat(100_000);
        let mut map = SourceMap::new();
        let f = map.add("a".into(), None, text.as_str());
        let t0 = std::time::Instant::now();
        for i in (0..100_000u32).rev() {
            assert_eq!(map.line_col(f, i * 6 + 4), (i as usize + 1, 5));
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t0.elapsed()
        );
    }
}
