//! `tenantc fmt`: one canonical layout for `.tenant` files.
//!
//! [`format_source`] is the whole formatter; the `fmt` command and an editor's
//! "format document" both call it. It formats only a file that parses without
//! errors, and it rebuilds the text from the syntax tree, re-emitting every
//! literal exactly as written, so the result means what the input meant.
//! `tests/fmt.rs` checks that over the examples, the stdlib, the bad-input
//! corpus and mutated variants of them: the output parses to the same tree,
//! compiles to the same bundle, keeps every comment in order, and formatting
//! it again changes nothing.
//!
//! # Layout
//!
//! - Two spaces of indentation per level; one field or block per line.
//! - `=` is aligned within a run of consecutive fields of one block or
//!   object; a blank line or a nested block ends the run, a comment line
//!   does not.
//! - Blank lines: one between top-level items (consecutive imports keep the
//!   author's choice); elsewhere at most one is kept where the author left one
//!   or more, never after `{`, `[`, `(` or before the closing bracket.
//! - Items stay in the order written (imports are not hoisted).
//! - A block or object stays on one line, `kind name { a = 1, b = 2 }`, if the
//!   author wrote its first entry on the line of its `{`, it holds only fields
//!   with one-line values, no comments, and the line fits in
//!   [`MAX_WIDTH`] columns; otherwise each entry goes on its own line. This is
//!   the one layout choice the formatter leaves to the author (a short block
//!   such as `node w1 { dvipa = 10.1.1.1 }` reads better on one line, a
//!   `certificate { .. }` with three fields better on three).
//! - A list stays on one line, `[a, b]`, when it fits and holds no comment;
//!   otherwise one element per line with a trailing comma. A broken object
//!   also puts a comma after every field; block bodies have no commas.
//! - A call that does not fit on one line is filled: arguments are packed onto
//!   lines aligned after its `(`. If an argument spans lines or a comment sits
//!   inside, each argument gets its own line instead, with a trailing comma.
//! - Literals (strings with their escapes, numbers, sizes, durations, port
//!   ranges, addresses, references) are written exactly as in the input;
//!   `env ( "X" )` becomes `env("X")`.
//! - No trailing whitespace; the file ends with one newline (an empty file
//!   stays empty); CRLF line ends become LF.
//!
//! # Comments
//!
//! The grammar skips comments, so they are recovered from the text between
//! the tree's tokens by the lexer ([`crate::syntax::lex`]), started where the
//! tree's last token ended (so `true#c` there is a boolean and a comment).
//! Every comment is kept, in its order:
//!
//! - a comment on a line of its own stays on its own line, indented like the
//!   entry it precedes (or the last entry, before a closing bracket);
//! - a comment after code on the same line stays at the end of that line, two
//!   spaces after it; those of consecutive one-line entries are aligned;
//! - a comment between tokens of one entry moves to the end of the entry's
//!   line (between a key and a value that spans lines and holds comments of
//!   its own: onto the line before the entry); one in a block header goes
//!   after the `{`; a comment after a `#` or `//` comment on the same line
//!   moves to the next line.
//!
//! Trailing whitespace inside `/* */` comments is removed.

use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::ast::{
    Arg, Block, Entry, Field, Ident, Import, SecretSource, SyntaxFile, Value, ValueKind,
};
use crate::syntax::lex::{self, Kind as Tok};
use crate::syntax::parse;

/// Lines are kept within this many columns where the layout has a choice.
pub const MAX_WIDTH: usize = 100;

/// Indentation per nesting level.
const STEP: usize = 2;

/// Formats one file: `Ok` with the canonical text, or `Err` with the parse
/// diagnostics if the text does not parse cleanly (a file with a syntax or
/// literal error is never reformatted). `file` is the id the diagnostics'
/// spans should carry.
pub fn format_source(file: FileId, text: &str) -> Result<String, Vec<Diagnostic>> {
    let (tree, diags) = parse(file, text);
    match tree {
        Some(tree) if tree.skipped.is_empty() && !diags.iter().any(Diagnostic::is_error) => {
            Ok(Formatter { text }.file(&tree))
        }
        _ => Err(diags),
    }
}

/// A comment found between tokens.
#[derive(Debug, Clone, PartialEq)]
struct Comment {
    /// As written, less trailing whitespace on each of its lines.
    text: String,
    /// `#` or `//`: nothing may follow it on its line.
    line: bool,
    /// Line breaks between the previous token or comment and this one.
    nl_before: usize,
}

/// The comments between two tokens.
#[derive(Debug, Default)]
struct Gap {
    comments: Vec<Comment>,
    /// Line breaks between the last comment (or the first token) and the next
    /// token.
    nl_after: usize,
}

/// The comments in `text[start..end]`, which holds no token but punctuation
/// and keywords, by the lexer (from `start`, where the tree's last token
/// ended: `true#c` there is a value and a comment); with `stop_at_quote`,
/// stops at the first string and returns its offset (else `end`).
fn scan(text: &str, start: usize, end: usize, stop_at_quote: bool) -> (Gap, usize) {
    let end = end.min(text.len());
    let mut gap = Gap::default();
    let mut nl = 0;
    for t in lex::tokens_from(text, start) {
        if t.start >= end {
            break;
        }
        let body = &text[t.start..t.end.min(end)];
        match t.kind {
            Tok::Newline => nl += 1,
            Tok::Str | Tok::UnclosedStr if stop_at_quote => {
                return (
                    Gap {
                        nl_after: nl,
                        ..gap
                    },
                    t.start,
                )
            }
            Tok::LineComment => {
                gap.comments.push(Comment {
                    text: body.trim_end().to_string(),
                    line: true,
                    nl_before: nl,
                });
                nl = 0;
            }
            Tok::BlockComment | Tok::UnclosedComment => {
                let lines: Vec<&str> = body.split('\n').map(str::trim_end).collect();
                gap.comments.push(Comment {
                    text: lines.join("\n"),
                    line: false,
                    nl_before: nl,
                });
                nl = 0;
            }
            _ => {}
        }
    }
    gap.nl_after = nl;
    (gap, end)
}

fn gap(text: &str, start: usize, end: usize) -> Gap {
    scan(text, start, end, false).0
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

fn start(v: &Value) -> usize {
    v.span.start as usize
}

fn end(v: &Value) -> usize {
    v.span.end as usize
}

/// A node laid out.
#[derive(Debug, Default)]
struct Out {
    /// The first line starts where the caller puts it; later lines carry
    /// their own indentation.
    text: String,
    /// Comments from inside the node its layout had no place for: they go at
    /// the end of its (last) line.
    after: Vec<Comment>,
    /// Comments that go on lines of their own before the node.
    before: Vec<Comment>,
    /// Whether `text` itself holds comments.
    placed: bool,
}

impl Out {
    fn text(text: String) -> Out {
        Out {
            text,
            ..Out::default()
        }
    }
}

/// What an element of a sequence is, for alignment and blank lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A `key = value` (field or named argument) with the key's width.
    Keyed(usize),
    Block,
    Import,
    Value,
}

/// An element of a sequence: its source range and kind.
struct Elem {
    start: usize,
    end: usize,
    kind: Kind,
}

/// A sequence laid out one element per line: a file's items, a block's
/// entries, a broken list's elements.
struct Seq {
    /// Where the text before the first element starts (after `[`, or after a
    /// block's name: the `{` is skipped as punctuation).
    open_end: usize,
    /// Where the closing bracket (or the end of the file) is.
    close_start: usize,
    /// Indentation of the elements.
    indent: usize,
    /// A comma after every element.
    comma: bool,
    /// Align `=` in runs of keyed elements.
    align: bool,
    /// The file's top level: no opening line, a blank line between items.
    top: bool,
}

struct SeqOut {
    /// Comments for the end of the opening line (with their leading spaces).
    open_trailing: String,
    /// The element lines, each indented and ending with a newline.
    body: String,
    placed: bool,
}

/// One output line of a sequence.
enum Row {
    Blank,
    Comments(String),
    Elem { text: String, trailing: String },
}

/// A line of comments.
struct Line {
    blank: bool,
    text: String,
}

/// Comments one line per source line: a comment that followed another on its
/// line stays beside it, except after a line comment, which ends its line.
fn comment_lines(comments: Vec<Comment>) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut after_line_comment = false;
    for c in comments {
        match lines.last_mut() {
            Some(last) if c.nl_before == 0 && !after_line_comment => {
                last.text.push(' ');
                last.text.push_str(&c.text);
            }
            _ => lines.push(Line {
                blank: c.nl_before >= 2,
                text: c.text,
            }),
        }
        after_line_comment = c.line;
    }
    lines
}

/// Comments moved away from where they were written: one line per run of
/// comments, no blank lines.
fn moved_lines(comments: Vec<Comment>) -> Vec<Line> {
    let mut lines = comment_lines(
        comments
            .into_iter()
            .map(|c| Comment { nl_before: 0, ..c })
            .collect(),
    );
    for l in &mut lines {
        l.blank = false;
    }
    lines
}

fn join(comments: &[Comment]) -> String {
    comments
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

struct Formatter<'a> {
    text: &'a str,
}

impl Formatter<'_> {
    fn gap(&self, start: usize, end: usize) -> Gap {
        gap(self.text, start, end)
    }

    fn src(&self, start: usize, end: usize) -> &str {
        self.text.get(start..end).unwrap_or("")
    }

    fn file(&self, f: &SyntaxFile) -> String {
        enum Item<'t> {
            Import(&'t Import),
            Block(&'t Block),
        }
        let mut items: Vec<(usize, usize, Item)> = f
            .imports
            .iter()
            .map(|i| {
                // Without an alias, pest's span runs on over the whitespace and
                // comments after the path: end at the last token instead.
                let end = i.alias.as_ref().map_or(i.path_span.end, |a| a.span.end);
                (i.span.start as usize, end as usize, Item::Import(i))
            })
            .chain(
                f.blocks
                    .iter()
                    .map(|b| (b.span.start as usize, b.span.end as usize, Item::Block(b))),
            )
            .collect();
        items.sort_by_key(|(s, _, _)| *s);
        let elems: Vec<Elem> = items
            .iter()
            .map(|(start, end, item)| Elem {
                start: *start,
                end: *end,
                kind: match item {
                    Item::Import(_) => Kind::Import,
                    Item::Block(_) => Kind::Block,
                },
            })
            .collect();
        let seq = Seq {
            open_end: 0,
            close_start: self.text.len(),
            indent: 0,
            comma: false,
            align: false,
            top: true,
        };
        let out = self.seq(&seq, Vec::new(), &elems, &mut |i, _| match &items[i].2 {
            Item::Import(im) => self.import(im),
            Item::Block(b) => self.block(b, 0),
        });
        let body = out.body.trim_end_matches('\n');
        if body.is_empty() {
            String::new()
        } else {
            format!("{body}\n")
        }
    }

    fn import(&self, im: &Import) -> Out {
        let start = im.span.start as usize + "import".len();
        let path = (im.path_span.start as usize, im.path_span.end as usize);
        let mut after = self.gap(start, path.0).comments;
        let mut text = format!("import {}", self.src(path.0, path.1));
        if let Some(alias) = &im.alias {
            // `as` is a keyword: after it the lexer starts afresh (`as#c` is
            // `as` and a comment, not a name).
            let kw = lex::tokens_from(self.text, path.1)
                .find(|t| !t.kind.is_trivia())
                .map_or(path.1, |t| t.start + "as".len());
            after.extend(self.gap(path.1, kw).comments);
            after.extend(self.gap(kw, alias.span.start as usize).comments);
            text.push_str(" as ");
            text.push_str(&alias.name);
        }
        Out {
            text,
            after,
            ..Out::default()
        }
    }

    fn block(&self, b: &Block, indent: usize) -> Out {
        let mut header = b.kind.name.clone();
        let mut head_end = b.kind.span.end as usize;
        let mut head_comments = Vec::new();
        if let Some(name) = &b.name {
            head_comments = self.gap(head_end, name.span.start as usize).comments;
            header.push(' ');
            header.push_str(&name.name);
            head_end = name.span.end as usize;
        }
        let close = (b.span.end as usize).saturating_sub(1);
        let elems: Vec<Elem> = b
            .entries
            .iter()
            .map(|e| match e {
                Entry::Field(f) => Elem {
                    start: f.span.start as usize,
                    end: f.span.end as usize,
                    kind: Kind::Keyed(width(&f.key.name)),
                },
                Entry::Block(b) => Elem {
                    start: b.span.start as usize,
                    end: b.span.end as usize,
                    kind: Kind::Block,
                },
            })
            .collect();
        if head_comments.is_empty() {
            if let Some(line) = self.one_line_block(b, &header, head_end, close, &elems, indent) {
                return Out::text(line);
            }
        }
        let seq = Seq {
            open_end: head_end,
            close_start: close,
            indent: indent + STEP,
            comma: false,
            align: true,
            top: false,
        };
        let inner = indent + STEP;
        let out = self.seq(
            &seq,
            head_comments,
            &elems,
            &mut |i, pad| match &b.entries[i] {
                Entry::Field(f) => self.keyed(&f.key, &f.value, inner, pad, 0),
                Entry::Block(b) => self.block(b, inner),
            },
        );
        Out {
            text: format!(
                "{header} {{{}\n{}{}}}",
                out.open_trailing,
                out.body,
                spaces(indent)
            ),
            placed: out.placed,
            ..Out::default()
        }
    }

    /// `kind name { a = 1, b = 2 }`, if the block may stay on one line.
    fn one_line_block(
        &self,
        b: &Block,
        header: &str,
        head_end: usize,
        close: usize,
        elems: &[Elem],
        indent: usize,
    ) -> Option<String> {
        if !self.clean(head_end, close, elems) {
            return None;
        }
        let Some(first) = elems.first() else {
            return Some(format!("{header} {{}}"));
        };
        let before = self.src(head_end, first.start);
        let brace = before.find('{')?;
        if before[brace + 1..].contains('\n') {
            return None;
        }
        let mut parts = Vec::new();
        for e in &b.entries {
            let Entry::Field(f) = e else { return None };
            parts.push(self.flat_keyed(&f.key, &f.value)?);
        }
        let line = format!("{header} {{ {} }}", parts.join(", "));
        (indent + width(&line) <= MAX_WIDTH).then_some(line)
    }

    /// Whether the text between the elements (and the brackets around them)
    /// holds no comment.
    fn clean(&self, open_end: usize, close_start: usize, elems: &[Elem]) -> bool {
        let mut at = open_end;
        for e in elems {
            if !self.gap(at, e.start).comments.is_empty() {
                return false;
            }
            at = e.end;
        }
        self.gap(at, close_start).comments.is_empty()
    }

    /// `key = value` at `indent`, the key padded to `pad` columns.
    fn keyed(&self, key: &Ident, value: &Value, indent: usize, pad: usize, suffix: usize) -> Out {
        let between = self.gap(key.span.end as usize, start(value)).comments;
        let v = self.value(value, indent + pad + 3, indent, suffix);
        let text = format!("{:<pad$} = {}", key.name, v.text);
        if v.placed {
            // The value's own comments follow these: put these first.
            Out {
                text,
                before: between,
                after: v.after,
                placed: true,
            }
        } else {
            let mut after = between;
            after.extend(v.after);
            Out {
                text,
                after,
                ..Out::default()
            }
        }
    }

    fn flat_keyed(&self, key: &Ident, value: &Value) -> Option<String> {
        if !self
            .gap(key.span.end as usize, start(value))
            .comments
            .is_empty()
        {
            return None;
        }
        Some(format!("{} = {}", key.name, self.flat(value)?))
    }

    fn flat_arg(&self, a: &Arg) -> Option<String> {
        match &a.name {
            Some(name) => self.flat_keyed(name, &a.value),
            None => self.flat(&a.value),
        }
    }

    fn arg_elems(args: &[Arg]) -> Vec<Elem> {
        args.iter()
            .map(|a| Elem {
                start: a
                    .name
                    .as_ref()
                    .map_or(start(&a.value), |n| n.span.start as usize),
                end: end(&a.value),
                kind: a
                    .name
                    .as_ref()
                    .map_or(Kind::Value, |n| Kind::Keyed(width(&n.name))),
            })
            .collect()
    }

    fn value_elems(values: &[Value]) -> Vec<Elem> {
        values
            .iter()
            .map(|v| Elem {
                start: start(v),
                end: end(v),
                kind: Kind::Value,
            })
            .collect()
    }

    fn field_elems(fields: &[Field]) -> Vec<Elem> {
        fields
            .iter()
            .map(|f| Elem {
                start: f.span.start as usize,
                end: f.span.end as usize,
                kind: Kind::Keyed(width(&f.key.name)),
            })
            .collect()
    }

    /// The string literal of `env("..")`/`file("..")` as written, and any
    /// comments around it.
    fn secret_parts(&self, v: &Value, kind: SecretSource) -> (String, Vec<Comment>) {
        let kw = match kind {
            SecretSource::Env => "env".len(),
            SecretSource::File => "file".len(),
        };
        let close = end(v).saturating_sub(1);
        let (before, quote) = scan(self.text, start(v) + kw, close, true);
        let after = lex::tokens_from(self.text, quote)
            .next()
            .map_or(quote, |t| t.end.min(close));
        let literal = self.src(quote, after).to_string();
        let mut comments = before.comments;
        comments.extend(self.gap(after, close).comments);
        (literal, comments)
    }

    fn secret_name(kind: SecretSource) -> &'static str {
        match kind {
            SecretSource::Env => "env",
            SecretSource::File => "file",
        }
    }

    /// The value on one line, if it holds no comment and every part of it
    /// may be written on one line.
    fn flat(&self, v: &Value) -> Option<String> {
        let (open_end, close) = (start(v) + 1, end(v).saturating_sub(1));
        match &v.kind {
            ValueKind::Secret(kind, _) => {
                let (literal, comments) = self.secret_parts(v, *kind);
                comments
                    .is_empty()
                    .then(|| format!("{}({literal})", Self::secret_name(*kind)))
            }
            ValueKind::List(items) => {
                if !self.clean(open_end, close, &Self::value_elems(items)) {
                    return None;
                }
                let parts: Option<Vec<String>> = items.iter().map(|i| self.flat(i)).collect();
                Some(format!("[{}]", parts?.join(", ")))
            }
            ValueKind::Object(fields) => {
                let elems = Self::field_elems(fields);
                if !self.clean(open_end, close, &elems) {
                    return None;
                }
                let Some(first) = elems.first() else {
                    return Some("{}".to_string());
                };
                if self.src(open_end, first.start).contains('\n') {
                    return None;
                }
                let parts: Option<Vec<String>> = fields
                    .iter()
                    .map(|f| self.flat_keyed(&f.key, &f.value))
                    .collect();
                Some(format!("{{ {} }}", parts?.join(", ")))
            }
            ValueKind::Call(name, args) => {
                if !self.clean(name.span.end as usize, close, &Self::arg_elems(args)) {
                    return None;
                }
                let parts: Option<Vec<String>> = args.iter().map(|a| self.flat_arg(a)).collect();
                // `env("X",)` is a call, `env("X")` a secret reference: the
                // comma that made it a call stays.
                let comma = match args.as_slice() {
                    [Arg { name: None, value }] => {
                        matches!(value.kind, ValueKind::Str(_))
                            && matches!(name.name.as_str(), "env" | "file")
                    }
                    _ => false,
                };
                let comma = if comma { "," } else { "" };
                Some(format!("{}({}{comma})", name.name, parts?.join(", ")))
            }
            _ => Some(self.src(start(v), end(v)).to_string()),
        }
    }

    /// Lays out a value that starts at column `col` on a line indented by
    /// `indent`; `suffix` columns (a comma) follow it.
    fn value(&self, v: &Value, col: usize, indent: usize, suffix: usize) -> Out {
        let breakable = match &v.kind {
            ValueKind::List(items) => !items.is_empty(),
            ValueKind::Object(fields) => !fields.is_empty(),
            ValueKind::Call(_, args) => !args.is_empty(),
            _ => false,
        };
        let flat = self.flat(v);
        if let Some(flat) = &flat {
            if !breakable || col + width(flat) + suffix <= MAX_WIDTH {
                return Out::text(flat.clone());
            }
        }
        let inner = indent + STEP;
        let (open_end, close) = (start(v) + 1, end(v).saturating_sub(1));
        match &v.kind {
            ValueKind::Secret(kind, _) => {
                let (literal, comments) = self.secret_parts(v, *kind);
                Out {
                    text: format!("{}({literal})", Self::secret_name(*kind)),
                    after: comments,
                    ..Out::default()
                }
            }
            ValueKind::List(items) => {
                let seq = Seq {
                    open_end,
                    close_start: close,
                    indent: inner,
                    comma: true,
                    align: false,
                    top: false,
                };
                let out = self.seq(&seq, Vec::new(), &Self::value_elems(items), &mut |i, _| {
                    self.value(&items[i], inner, inner, 1)
                });
                Self::bracketed("[", out, indent, "]")
            }
            ValueKind::Object(fields) => {
                let seq = Seq {
                    open_end,
                    close_start: close,
                    indent: inner,
                    comma: true,
                    align: true,
                    top: false,
                };
                let out = self.seq(
                    &seq,
                    Vec::new(),
                    &Self::field_elems(fields),
                    &mut |i, pad| self.keyed(&fields[i].key, &fields[i].value, inner, pad, 1),
                );
                Self::bracketed("{", out, indent, "}")
            }
            ValueKind::Call(name, args) => {
                if let Some(flat) = flat {
                    // One argument: nothing to fill.
                    if args.len() == 1 {
                        return Out::text(flat);
                    }
                    let parts: Vec<String> = args.iter().filter_map(|a| self.flat_arg(a)).collect();
                    return Out::text(Self::fill(&name.name, &parts, col, suffix));
                }
                let seq = Seq {
                    open_end: name.span.end as usize,
                    close_start: close,
                    indent: inner,
                    comma: true,
                    align: false,
                    top: false,
                };
                let out = self.seq(&seq, Vec::new(), &Self::arg_elems(args), &mut |i, pad| {
                    let a = &args[i];
                    match &a.name {
                        Some(n) => self.keyed(n, &a.value, inner, pad, 1),
                        None => self.value(&a.value, inner, inner, 1),
                    }
                });
                Self::bracketed(&format!("{}(", name.name), out, indent, ")")
            }
            _ => Out::text(self.src(start(v), end(v)).to_string()),
        }
    }

    fn bracketed(open: &str, out: SeqOut, indent: usize, close: &str) -> Out {
        Out {
            text: format!(
                "{open}{}\n{}{}{close}",
                out.open_trailing,
                out.body,
                spaces(indent)
            ),
            placed: out.placed,
            ..Out::default()
        }
    }

    /// `name(a, b,` / `     c)`: arguments packed onto lines that start
    /// after the `(`.
    fn fill(name: &str, parts: &[String], col: usize, suffix: usize) -> String {
        let open = col + width(name) + 1;
        let mut s = format!("{name}(");
        let mut cur = open;
        for (k, p) in parts.iter().enumerate() {
            let tail = if k + 1 == parts.len() { 1 + suffix } else { 1 };
            let w = width(p);
            if k > 0 {
                if cur + 1 + w + tail <= MAX_WIDTH {
                    s.push(' ');
                    cur += 1;
                } else {
                    s.push('\n');
                    s.push_str(&spaces(open));
                    cur = open;
                }
            }
            s.push_str(p);
            s.push(if k + 1 == parts.len() { ')' } else { ',' });
            cur += w + 1;
        }
        s
    }

    /// Lays out a sequence one element per line, with the comments between
    /// the elements. `open_after` are comments for the end of the opening
    /// line; `render(i, pad)` lays out element `i` with its key padded to
    /// `pad` columns.
    fn seq(
        &self,
        s: &Seq,
        open_after: Vec<Comment>,
        elems: &[Elem],
        render: &mut dyn FnMut(usize, usize) -> Out,
    ) -> SeqOut {
        let n = elems.len();
        let mut placed = !open_after.is_empty();
        // Each gap: comments on the line of the token before it, the rest.
        let mut gaps: Vec<(Vec<Comment>, Vec<Comment>, usize)> = (0..=n)
            .map(|i| {
                let a = if i == 0 { s.open_end } else { elems[i - 1].end };
                let b = if i == n {
                    s.close_start
                } else {
                    elems[i].start
                };
                let g = self.gap(a, b);
                placed |= !g.comments.is_empty();
                let same = if i == 0 && s.top {
                    0
                } else {
                    g.comments.iter().take_while(|c| c.nl_before == 0).count()
                };
                let mut own = g.comments;
                let same: Vec<Comment> = own.drain(..same).collect();
                (same, own, g.nl_after)
            })
            .collect();

        // `=` alignment: runs of keyed elements without a blank line between.
        let blank_in = |i: usize| -> bool {
            let (_, own, nl_after) = &gaps[i];
            *nl_after >= 2 || own.iter().any(|c| c.nl_before >= 2)
        };
        let mut pads: Vec<usize> = elems
            .iter()
            .map(|e| match e.kind {
                Kind::Keyed(w) => w,
                _ => 0,
            })
            .collect();
        if s.align {
            let mut i = 0;
            while i < n {
                let mut j = i + 1;
                if matches!(elems[i].kind, Kind::Keyed(_)) {
                    while j < n && matches!(elems[j].kind, Kind::Keyed(_)) && !blank_in(j) {
                        j += 1;
                    }
                    let w = pads[i..j].iter().copied().max().unwrap_or(0);
                    pads[i..j].iter_mut().for_each(|p| *p = w);
                }
                i = j;
            }
        }

        let mut outs: Vec<Out> = (0..n).map(|i| render(i, pads[i])).collect();
        placed |= outs
            .iter()
            .any(|o| o.placed || !o.after.is_empty() || !o.before.is_empty());

        let mut rows: Vec<Row> = Vec::new();
        let mut open_trailing = String::new();
        let mut last_elem: Option<usize> = None;
        for (i, (same, own, nl_after)) in gaps.iter_mut().enumerate() {
            // Comments for the end of the previous line, up to the first line
            // comment; the rest move to lines of their own.
            let mut trailing = if i == 0 {
                open_after.clone()
            } else {
                std::mem::take(&mut outs[i - 1].after)
            };
            trailing.append(same);
            let cut = trailing
                .iter()
                .position(|c| c.line)
                .map_or(trailing.len(), |p| p + 1);
            let overflow = trailing.split_off(cut);
            if !trailing.is_empty() {
                let text = join(&trailing);
                match last_elem {
                    Some(r) => {
                        if let Row::Elem { trailing, .. } = &mut rows[r] {
                            *trailing = text;
                        }
                    }
                    None => open_trailing = format!("  {text}"),
                }
            }
            let mut lines = moved_lines(overflow);
            lines.extend(comment_lines(std::mem::take(own)));
            let mut elem_blank = *nl_after >= 2 && i < n;
            if i < n {
                let mut before = moved_lines(std::mem::take(&mut outs[i].before));
                if let Some(first) = before.first_mut() {
                    first.blank = elem_blank;
                    elem_blank = false;
                }
                lines.extend(before);
            }
            let first_blank = match lines.first_mut() {
                Some(l) => &mut l.blank,
                None => &mut elem_blank,
            };
            if i == 0 {
                *first_blank = false;
            } else if s.top && i < n {
                let imports = elems[i - 1].kind == Kind::Import && elems[i].kind == Kind::Import;
                if !imports {
                    *first_blank = true;
                }
            }
            for l in lines {
                if l.blank {
                    rows.push(Row::Blank);
                }
                rows.push(Row::Comments(l.text));
            }
            if i < n {
                if elem_blank {
                    rows.push(Row::Blank);
                }
                let mut text = std::mem::take(&mut outs[i].text);
                if s.comma {
                    text.push(',');
                }
                rows.push(Row::Elem {
                    text,
                    trailing: String::new(),
                });
                last_elem = Some(rows.len() - 1);
            }
        }

        // Trailing comments of consecutive one-line elements share a column.
        let mut cols = vec![0usize; rows.len()];
        let one_line_with_comment = |r: &Row| matches!(r, Row::Elem { text, trailing } if !text.contains('\n') && !trailing.is_empty());
        let mut k = 0;
        while k < rows.len() {
            if !one_line_with_comment(&rows[k]) {
                k += 1;
                continue;
            }
            let mut j = k;
            while j < rows.len() && one_line_with_comment(&rows[j]) {
                j += 1;
            }
            let col = rows[k..j]
                .iter()
                .map(|r| match r {
                    Row::Elem { text, .. } => width(text),
                    _ => 0,
                })
                .max()
                .unwrap_or(0)
                + 2;
            cols[k..j].iter_mut().for_each(|c| *c = col);
            k = j;
        }

        let indent = spaces(s.indent);
        let mut body = String::new();
        for (r, row) in rows.iter().enumerate() {
            match row {
                Row::Blank => body.push('\n'),
                Row::Comments(text) => {
                    body.push_str(&indent);
                    body.push_str(text);
                    body.push('\n');
                }
                Row::Elem { text, trailing } => {
                    body.push_str(&indent);
                    body.push_str(text);
                    if !trailing.is_empty() {
                        let last = text.rsplit('\n').next().unwrap_or("");
                        let pad = if cols[r] > 0 {
                            cols[r] - width(last)
                        } else {
                            2
                        };
                        body.push_str(&spaces(pad));
                        body.push_str(trailing);
                    }
                    body.push('\n');
                }
            }
        }
        SeqOut {
            open_trailing,
            body,
            placed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Formats `text`, checking that formatting the result changes nothing.
    fn fmt(text: &str) -> String {
        let out = format_source(FileId(0), text).expect("parses");
        assert_eq!(
            format_source(FileId(0), &out).expect("output parses"),
            out,
            "not idempotent; once:\n{out}"
        );
        out
    }

    // --- layout ---

    #[test]
    fn two_space_indent_one_entry_per_line_no_commas() {
        assert_eq!(
            fmt("zos A { address = 10.1.1.9, jcl {\nclass = A,} }"),
            "zos A {\n  address = 10.1.1.9\n  jcl {\n    class = A\n  }\n}\n"
        );
    }

    #[test]
    fn equals_align_within_runs() {
        let text = "b {\n  a = 1\n  long_name = 2\n  # a comment line does not end a run\n  c = 3\n\n  d = 4\n  dd = 5\n  x { y = 1 }\n  eee = 6\n}\n";
        assert_eq!(
            fmt(text),
            "b {\n  a         = 1\n  long_name = 2\n  # a comment line does not end a run\n  c         = 3\n\n  d  = 4\n  dd = 5\n  x { y = 1 }\n  eee = 6\n}\n"
        );
    }

    #[test]
    fn blank_lines_collapse_to_one_and_never_open_or_close_a_block() {
        assert_eq!(
            fmt("b {\n\n\n  a = 1\n\n\n\n  b = 2\n\n}\n\n\n"),
            "b {\n  a = 1\n\n  b = 2\n}\n"
        );
    }

    #[test]
    fn one_blank_line_between_top_level_items() {
        assert_eq!(
            fmt("import \"a\"\nimport \"b\"\n\n\nimport \"c\" as c\nx {}\ny {}\n\n\n\nz {}"),
            "import \"a\"\nimport \"b\"\n\nimport \"c\" as c\n\nx {}\n\ny {}\n\nz {}\n"
        );
    }

    #[test]
    fn items_keep_their_order() {
        assert_eq!(fmt("x {}\nimport \"a\""), "x {}\n\nimport \"a\"\n");
    }

    #[test]
    fn a_block_stays_on_one_line_if_written_so_and_it_fits() {
        assert_eq!(
            fmt("node w { dvipa = 10.1.1.1 }"),
            "node w { dvipa = 10.1.1.1 }\n"
        );
        assert_eq!(
            fmt("b { m { a = 1, b = \"x\" } }"),
            "b {\n  m { a = 1, b = \"x\" }\n}\n"
        );
        // Written over lines: stays over lines, however short.
        assert_eq!(fmt("m {\n a = 1 }"), "m {\n  a = 1\n}\n");
        // A nested block, or too long a line, breaks it.
        assert_eq!(fmt("m { n { a = 1 } }"), "m {\n  n { a = 1 }\n}\n");
        let long = format!("m {{ a = \"{}\", b = 1 }}", "x".repeat(90));
        assert_eq!(
            fmt(&long),
            format!("m {{\n  a = \"{}\"\n  b = 1\n}}\n", "x".repeat(90))
        );
        assert_eq!(fmt("m {\n\n}"), "m {}\n");
    }

    #[test]
    fn objects_follow_the_block_rule_with_commas() {
        assert_eq!(
            fmt("b { s = { CN = \"x\" ,O = \"y\" } }"),
            "b { s = { CN = \"x\", O = \"y\" } }\n"
        );
        assert_eq!(
            fmt("b {\n  env = {\n A = \"1\", LONGER = env(\"X\") } }"),
            "b {\n  env = {\n    A      = \"1\",\n    LONGER = env(\"X\"),\n  }\n}\n"
        );
        assert_eq!(fmt("b {\n  e = {\n}\n}"), "b {\n  e = {}\n}\n");
    }

    #[test]
    fn lists_stay_on_one_line_when_they_fit() {
        assert_eq!(
            fmt("b {\n  l = [ 1,2 ,\n 3, ]\n  e = [,]\n}"),
            "b {\n  l = [1, 2, 3]\n  e = []\n}\n"
        );
        let items: Vec<String> = (0..8).map(|i| format!("\"item-number-{i:03}\"")).collect();
        let out = fmt(&format!("b {{\n  l = [{}]\n}}", items.join(", ")));
        let expected: String = items.iter().map(|i| format!("    {i},\n")).collect();
        assert_eq!(out, format!("b {{\n  l = [\n{expected}  ]\n}}\n"));
    }

    #[test]
    fn long_calls_are_filled_after_the_paren() {
        let text = "b {\n  export = dataset(\"SYS1.ZCX.LEDGER.P12.AND.SOME.MORE\", format = pkcs12der, password = env(\"LEDGER_P12_PASSWORD\"))\n}";
        assert_eq!(
            fmt(text),
            "b {\n  export = dataset(\"SYS1.ZCX.LEDGER.P12.AND.SOME.MORE\", format = pkcs12der,\n                   password = env(\"LEDGER_P12_PASSWORD\"))\n}\n"
        );
        assert_eq!(fmt("b { k = rsa ( 2048 , ) }"), "b { k = rsa(2048) }\n");
    }

    #[test]
    fn a_call_with_a_comment_gets_one_argument_per_line() {
        assert_eq!(
            fmt("b {\n  k = f(1, # one\n  name = 2)\n}"),
            "b {\n  k = f(\n    1,  # one\n    name = 2,\n  )\n}\n"
        );
    }

    #[test]
    fn a_call_named_like_a_secret_stays_a_call() {
        assert_eq!(
            fmt("b {\n  t = env(\"X\" ,)\n  f = file ( \"p\", )\n}"),
            "b {\n  t = env(\"X\",)\n  f = file(\"p\",)\n}\n"
        );
        let long = format!("b {{\n  t = env(\"{}\",)\n}}\n", "X".repeat(100));
        assert_eq!(fmt(&long), long);
        assert_eq!(
            fmt("b {\n  t = env(\"X\", # c\n)\n}"),
            "b {\n  t = env(\n    \"X\",  # c\n  )\n}\n"
        );
    }

    #[test]
    fn literals_are_written_as_written() {
        let text = "b {\n  s = \"a\\\"b\\u{e9}\\t\\\\\"\n  n = 007\n  z = 2Gi\n  d = 5000ms\n  p = 2043..2049\n  c = 10.0.0.0/8\n  i = 10.1.1.1\n  r = a.b-c#d\n  t = true\n}\n";
        assert_eq!(fmt(text), text);
    }

    #[test]
    fn secrets_lose_inner_spaces() {
        assert_eq!(
            fmt("b { t = env ( \"X\" ) f = file(\"p\") }"),
            "b { t = env(\"X\"), f = file(\"p\") }\n"
        );
    }

    #[test]
    fn whitespace_line_ends_and_the_final_newline() {
        assert_eq!(fmt("b {\r\n  a = 1   \r\n}"), "b {\n  a = 1\n}\n");
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n\n  \n"), "");
        assert_eq!(fmt("\tb {\ta = 1\t}\t"), "b { a = 1 }\n");
    }

    #[test]
    fn broken_input_is_refused_with_its_diagnostics() {
        for text in ["b { a 1 }", "b { a = 10.1.1.300 }", "b { s = \"x }"] {
            let (_, diags) = parse(FileId(3), text);
            assert!(!diags.is_empty());
            assert_eq!(format_source(FileId(3), text), Err(diags), "{text}");
        }
    }

    // --- comments ---

    #[test]
    fn a_header_block_and_its_blank_line_are_kept() {
        let text = "# Title.\n#\n# More.\n\nimport \"std/profiles\"\n";
        assert_eq!(fmt(text), text);
        assert_eq!(fmt("\n\n# Title.\nb {}"), "# Title.\nb {}\n");
    }

    #[test]
    fn own_line_comments_are_indented_like_the_entry_after_them() {
        assert_eq!(
            fmt("b {\n# about a\n      // and more\n a = 1\n        /* the end */\n}"),
            "b {\n  # about a\n  // and more\n  a = 1\n  /* the end */\n}\n"
        );
    }

    #[test]
    fn trailing_comments_stay_on_their_line_aligned_in_a_run() {
        assert_eq!(
            fmt("b {\n  a = 1 # one\n  bb = [x, y] # two\n  c = 3\n  d = 4    # four\n}"),
            "b {\n  a  = 1       # one\n  bb = [x, y]  # two\n  c  = 3\n  d  = 4  # four\n}\n"
        );
        assert_eq!(
            fmt("b { # after the brace\n  a = 1\n} # after the block\n"),
            "b {  # after the brace\n  a = 1\n}  # after the block\n"
        );
        assert_eq!(
            fmt("n { a = 1 } // short\nm { b = 22 } # shorter\n"),
            "n { a = 1 }  // short\n\nm { b = 22 }  # shorter\n"
        );
    }

    #[test]
    fn comments_before_a_closing_bracket_are_kept_inside() {
        assert_eq!(
            fmt("b {\n  l = [\n    1,\n\n    # more later\n  ]\n  # nothing else\n}"),
            "b {\n  l = [\n    1,\n\n    # more later\n  ]\n  # nothing else\n}\n"
        );
        assert_eq!(fmt("b { /* empty */ }"), "b {  /* empty */\n}\n");
        assert_eq!(fmt("b {\n  // empty\n}"), "b {\n  // empty\n}\n");
    }

    #[test]
    fn comments_in_a_block_header_go_after_the_brace() {
        assert_eq!(
            fmt("zos /* one */ A # two\n{\n  a = 1\n}"),
            "zos A {  /* one */ # two\n  a = 1\n}\n"
        );
    }

    #[test]
    fn comments_between_key_and_value() {
        // A one-line value: the comment goes to the end of the line.
        assert_eq!(
            fmt("b {\n  a = /* why */ 1\n  c = # note\n    [x, y]\n}"),
            "b {\n  a = 1       /* why */\n  c = [x, y]  # note\n}\n"
        );
        // A value with comments of its own: before the entry, to keep the order.
        assert_eq!(
            fmt("b {\n  c = # note\n    [x, # ex\n     y]\n}"),
            "b {\n  # note\n  c = [\n    x,  # ex\n    y,\n  ]\n}\n"
        );
    }

    #[test]
    fn a_comment_inside_a_list_breaks_it() {
        assert_eq!(
            fmt("b { l = [1, /* two */ 2, 3 # three\n] }"),
            "b {\n  l = [\n    1,  /* two */\n    2,\n    3,  # three\n  ]\n}\n"
        );
        assert_eq!(
            fmt("b { l = [ # first\n 1] }"),
            "b {\n  l = [  # first\n    1,\n  ]\n}\n"
        );
    }

    #[test]
    fn comments_inside_a_secret_follow_it() {
        assert_eq!(
            fmt("b {\n  t = env( /* a */ \"X\" // b\n  )\n}"),
            "b {\n  t = env(\"X\")  /* a */ // b\n}\n"
        );
    }

    #[test]
    fn nothing_follows_a_line_comment_on_its_line() {
        assert_eq!(
            fmt("b {\n  a = # one\n  1 /* two */ # three\n  c = 2\n}"),
            "b {\n  a = 1  # one\n  /* two */ # three\n  c = 2\n}\n"
        );
    }

    #[test]
    fn a_hash_after_a_keyword_starts_a_comment() {
        assert_eq!(
            fmt("import#a\n\"x\" as#b\n y\nb { t = true#c\n e = env#d\n(\"X\") }"),
            "import \"x\" as y  #a\n\n#b\nb {\n  t = true      #c\n  e = env(\"X\")  #d\n}\n"
        );
    }

    #[test]
    fn comments_after_an_import_are_kept() {
        // pest's span of an import without alias covers what follows it.
        assert_eq!(
            fmt("import \"a\" # c\n\n// d\nimport \"b\"  /* e */\nimport \"f\" as g # h\n"),
            "import \"a\"  # c\n\n// d\nimport \"b\"       /* e */\nimport \"f\" as g  # h\n"
        );
    }

    #[test]
    fn a_hash_inside_a_name_or_string_is_not_a_comment() {
        let text = "b {\n  r = RING#1\n  s = \"# not a comment\"\n}\n";
        assert_eq!(fmt(text), text);
    }

    #[test]
    fn block_comments_keep_their_lines_less_trailing_spaces() {
        assert_eq!(
            fmt("b {\n    /* one   \n       two */\n  a = 1\n}"),
            "b {\n  /* one\n       two */\n  a = 1\n}\n"
        );
    }

    #[test]
    fn a_file_of_comments_only() {
        assert_eq!(fmt("\n# a\n\n\n/* b */ // c\n"), "# a\n\n/* b */ // c\n");
    }
}
