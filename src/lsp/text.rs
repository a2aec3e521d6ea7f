//! Positions and URIs: LSP counts lines and UTF-16 code units, the compiler
//! byte offsets; editors name files by `file://` URI, the compiler by path.

use camino::{Utf8Path, Utf8PathBuf};
use lsp_types::{Position, Range, Uri};
use std::str::FromStr;

/// Line starts of one text, for converting offsets and positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The LSP position of a byte offset (clamped to the text, and to a
    /// character boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position {
            line: line as u32,
            character: character as u32,
        }
    }

    /// The byte offset of an LSP position. A line past the end gives the end
    /// of the text; a character past the end of its line gives the line's end
    /// (before its newline), as the protocol asks.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let Some(start) = self.starts.get(pos.line as usize).copied() else {
            return text.len();
        };
        let end = self
            .starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |n| n - 1);
        let line = &text[start..end];
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut units = 0usize;
        for (i, c) in line.char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range {
            start: self.position(text, start),
            end: self.position(text, end),
        }
    }
}

/// One edit in byte offsets: `start..end` of the text before it became
/// `inserted` bytes long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub inserted: usize,
}

impl Edit {
    /// An offset after the edit, before it; `None` inside the new text.
    fn back(&self, o: usize) -> Option<usize> {
        if o <= self.start {
            Some(o)
        } else if o >= self.start + self.inserted {
            Some(o - self.inserted + (self.end - self.start))
        } else {
            None
        }
    }

    /// An offset before the edit, after it; `None` inside the replaced text.
    fn forward(&self, o: usize) -> Option<usize> {
        if o <= self.start {
            Some(o)
        } else if o >= self.end {
            Some(o + self.inserted - (self.end - self.start))
        } else {
            None
        }
    }
}

/// Maps an offset in the text after `edits` to the text before them.
pub fn map_back(edits: &[Edit], offset: usize) -> Option<usize> {
    edits.iter().rev().try_fold(offset, |o, e| e.back(o))
}

/// [`map_back`], an offset inside an edit's new text taken to where the
/// edit began.
pub fn map_back_near(edits: &[Edit], offset: usize) -> usize {
    edits
        .iter()
        .rev()
        .fold(offset, |o, e| e.back(o).unwrap_or(e.start))
}

/// Maps an offset in the text before `edits` to the text after them.
pub fn map_forward(edits: &[Edit], offset: usize) -> Option<usize> {
    edits.iter().try_fold(offset, |o, e| e.forward(o))
}

/// Applies one `didChange` content change to `text`; returns the edit.
pub fn apply_change(text: &mut String, range: Option<Range>, new: &str) -> Edit {
    match range {
        None => {
            let (prefix, suffix) = common_ends(text, new);
            let edit = Edit {
                start: prefix,
                end: text.len() - suffix,
                inserted: new.len() - suffix - prefix,
            };
            *text = new.to_string();
            edit
        }
        Some(r) => {
            let index = LineIndex::new(text);
            let start = index.offset(text, r.start);
            let end = index.offset(text, r.end).max(start);
            text.replace_range(start..end, new);
            Edit {
                start,
                end,
                inserted: new.len(),
            }
        }
    }
}

/// The local path of a `file://` URI, percent-decoded; `None` for other
/// schemes or paths that are not UTF-8.
pub fn uri_to_path(uri: &Uri) -> Option<Utf8PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file://host/path`: only the local host is ours.
    let path = match rest.find('/') {
        Some(0) => rest,
        Some(i) if &rest[..i] == "localhost" => &rest[i..],
        _ => return None,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let bytes = percent_decode(path)?;
    let path = String::from_utf8(bytes).ok()?;
    Some(crate::resolve::load::normalize(Utf8Path::new(&path)))
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The `file://` URI of an absolute path.
pub fn path_to_uri(path: &Utf8Path) -> Uri {
    let s = format!("file://{}", crate::source::uri_path(path.as_str()));
    // Every byte outside the unreserved set is escaped: this always parses.
    Uri::from_str(&s).unwrap_or_else(|_| fallback_uri())
}

fn fallback_uri() -> Uri {
    #[allow(clippy::unwrap_used)] // a constant that parses
    Uri::from_str("file:///").unwrap()
}

/// The offsets of the common prefix and suffix of two texts: everything
/// before `prefix` and after `len - suffix` is the same in both.
pub fn common_ends(a: &str, b: &str) -> (usize, usize) {
    let mut prefix = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !a.is_char_boundary(prefix) || !b.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix: usize = a
        .bytes()
        .rev()
        .zip(b.bytes().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    let mut suffix = suffix;
    while !a.is_char_boundary(a.len() - suffix) || !b.is_char_boundary(b.len() - suffix) {
        suffix -= 1;
    }
    (prefix, suffix)
}

/// Maps an offset in `now` to the same place in `then`, for answering from
/// an older analysis while the current text does not parse. `None` when the
/// offset lies inside the text that changed.
pub fn map_offset(now: &str, then: &str, offset: usize) -> Option<usize> {
    let (prefix, suffix) = common_ends(now, then);
    if offset <= prefix {
        return Some(offset);
    }
    let now_tail = now.len() - suffix;
    if offset >= now_tail {
        return Some(then.len() - (now.len() - offset));
    }
    None
}

/// [`map_offset`], an offset inside the changed text taken to where the
/// change begins.
pub fn map_offset_near(now: &str, then: &str, offset: usize) -> usize {
    map_offset(now, then, offset).unwrap_or_else(|| common_ends(now, then).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip() {
        // é is 1 UTF-16 unit (2 bytes), 😀 is 2 units (4 bytes).
        let text = "a é😀b\nx\r\nyz";
        let idx = LineIndex::new(text);
        let b = text.find('b').unwrap_or(0);
        let p = idx.position(text, b);
        assert_eq!((p.line, p.character), (0, 5));
        assert_eq!(idx.offset(text, p), b);
        let y = text.find('y').unwrap_or(0);
        assert_eq!(idx.offset(text, Position::new(2, 0)), y);
        // Past the end of a line: its end, before the newline.
        assert_eq!(
            idx.offset(text, Position::new(1, 99)),
            text.find('\r').unwrap_or(0)
        );
        assert_eq!(idx.offset(text, Position::new(9, 0)), text.len());
    }

    #[test]
    fn incremental_changes() {
        let mut t = "tenant é {\n}\n".to_string();
        apply_change(
            &mut t,
            Some(Range::new(Position::new(0, 10), Position::new(0, 10))),
            " x = 1",
        );
        assert_eq!(t, "tenant é { x = 1\n}\n");
    }

    #[test]
    fn uris() {
        let p = Utf8Path::new("/tmp/a b/ü.tenant");
        let u = path_to_uri(p);
        assert_eq!(u.as_str(), "file:///tmp/a%20b/%C3%BC.tenant");
        assert_eq!(uri_to_path(&u).as_deref(), Some(p));
        let u = Uri::from_str("file:///x/./y/../z.tenant").unwrap_or_else(|_| fallback_uri());
        assert_eq!(
            uri_to_path(&u).as_deref(),
            Some(Utf8Path::new("/x/z.tenant"))
        );
    }

    #[test]
    fn offsets_map_across_several_edits() {
        let then = "aaa bbb ccc ddd";
        let mut now = then.to_string();
        let e1 = apply_change(
            &mut now,
            Some(Range::new(Position::new(0, 4), Position::new(0, 4))),
            "XX",
        );
        let e2 = apply_change(
            &mut now,
            Some(Range::new(Position::new(0, 14), Position::new(0, 17))),
            "",
        );
        assert_eq!(now, "aaa XXbbb ccc ");
        let edits = [e1, e2];
        // `ccc` sits between the two edits.
        assert_eq!(
            map_back(&edits, now.find("ccc").unwrap_or(0)),
            then.find("ccc")
        );
        assert_eq!(
            map_forward(&edits, then.find("ccc").unwrap_or(0)),
            now.find("ccc")
        );
        assert_eq!(map_back(&edits, 5), None);
        assert_eq!(map_forward(&edits, 13), None);
    }

    #[test]
    fn offsets_map_across_an_edit() {
        let then = "abc def ghi";
        let now = "abc dxxef ghi";
        assert_eq!(map_offset(now, then, 2), Some(2));
        assert_eq!(map_offset(now, then, 11), Some(9));
        assert_eq!(map_offset(now, then, 6), None);
    }
}
