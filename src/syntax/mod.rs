//! Stage 1: text to syntax tree.
//!
//! The pest grammar lives in `grammar/tenant.pest` and is the reference for
//! the language. This module turns pest's pairs into the [`ast`] types and
//! reports parse errors as diagnostics with the expected tokens in words. A
//! file without syntax errors takes a faster road: [`fast`] parses exactly
//! the same language by hand. Both check literal values (octets, prefixes,
//! number overflow, escapes) through [`literal`], so a bad literal reads the
//! same whichever road the file took.

pub mod ast;
mod fast;
pub mod lex;
mod literal;

use crate::diagnostics::{registry, Diagnostic};
use crate::source::{FileId, Span};
use ast::*;
use lex::Kind;
use pest::iterators::Pair;
use pest::Parser;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/tenant.pest"]
struct TenantParser;

/// Nesting deeper than this is refused before pest sees the text, so that
/// hostile input cannot exhaust the stack.
pub const MAX_NESTING: usize = 64;

/// Parses one file. Literal errors leave a tree with the bad value replaced
/// and a diagnostic. Syntax errors are recovered from by skipping the
/// statement at fault (see [`recover`]), so that one run reports every
/// independent syntax error; the tree then covers the rest of the file and
/// lists what it skipped. Blocks still open at the end of the file are
/// closed there ([`SyntaxFile::closed_at_end`]). The tree is `None` only when
/// nothing sensible remains (mismatched brackets left open, hostile nesting).
///
/// A file without syntax errors, the common case (an editor re-checks on
/// every keystroke), is read by the hand-written parser in [`fast`], which
/// builds the same tree an order of magnitude faster; any other goes to
/// pest, which names what it expected and recovers.
pub fn parse(file: FileId, text: &str) -> (Option<SyntaxFile>, Vec<Diagnostic>) {
    // The fast parser refuses nesting deeper than `MAX_NESTING` itself; pest,
    // which does not, only reads a text the guard has measured.
    if let Some((tree, diags)) = fast::parse(file, text) {
        return (Some(tree), diags);
    }
    if let Some(d) = check_nesting(file, text) {
        return (None, vec![d]);
    }
    parse_with_pest(file, text, true)
}

/// Recovery with (`windowed`, as [`parse`] does) or without re-parsing in
/// windows: the differential test holds the two to the same results.
#[doc(hidden)]
pub fn parse_recovering(
    file: FileId,
    text: &str,
    windowed: bool,
) -> (Option<SyntaxFile>, Vec<Diagnostic>) {
    if let Some(d) = check_nesting(file, text) {
        return (None, vec![d]);
    }
    parse_with_pest(file, text, windowed)
}

/// What pest alone makes of a text: the tree and literal diagnostics if it is
/// in the language, `None` if it is not (or its nesting is refused), without
/// the recovery. The reference the differential test compares
/// [`parse_fast_only`] with; recovery re-parses a file many times, which
/// would make tens of thousands of broken inputs slow to compare.
#[doc(hidden)]
pub fn parse_with_pest_only(file: FileId, text: &str) -> Option<(SyntaxFile, Vec<Diagnostic>)> {
    if check_nesting(file, text).is_some() {
        return None;
    }
    match build(
        file,
        TenantParser::parse(Rule::file, text).ok()?,
        Vec::new(),
        Vec::new(),
    ) {
        (Some(tree), diags) => Some((tree, diags)),
        (None, _) => None,
    }
}

/// The fast path alone: `None` where [`parse`] would hand the text to pest
/// (or refuse its nesting).
#[doc(hidden)]
pub fn parse_fast_only(file: FileId, text: &str) -> Option<(SyntaxFile, Vec<Diagnostic>)> {
    fast::parse(file, text)
}

/// The pest path: the tree, or the syntax errors with recovery.
fn parse_with_pest(
    file: FileId,
    text: &str,
    windowed: bool,
) -> (Option<SyntaxFile>, Vec<Diagnostic>) {
    let e = match TenantParser::parse(Rule::file, text) {
        Ok(pairs) => return build(file, pairs, Vec::new(), Vec::new()),
        Err(e) => e,
    };
    let mut diags = vec![syntax_error(file, text, &e)];
    if text.len() > MAX_RECOVERY_TEXT {
        return (None, diags);
    }
    // Recovery re-parses only from the last top-level block before the
    // error: the text before it parsed and no repair changes it (see
    // [`item_boundaries`]). A byte-order mark after the start would parse at
    // a boundary but not mid-file, so such a text is re-parsed whole.
    let windowed = windowed
        && !text
            .strip_prefix('\u{feff}')
            .unwrap_or(text)
            .contains('\u{feff}');
    let mut work = text.as_bytes().to_vec();
    let mut skipped = Vec::new();
    let mut at = error_pos(&e);
    // Whether the error at `at` was reported: one in the closers appended
    // after the text (see [`closers_at_end`]) is not, the end-of-file error
    // before them says it all; such errors are recovered from a bounded
    // number of times.
    let mut reported = true;
    let mut unreported = 0;
    loop {
        let bounds = if windowed {
            item_boundaries(&work)
        } else {
            Vec::new()
        };
        let Some(repair) = recover(&work, at, &bounds) else {
            return (None, diags);
        };
        // Closers are appended once: a second time, recovery skipped some.
        if !repair.append.is_empty() && work.len() > text.len() {
            return (None, diags);
        }
        let changed_from = repair
            .blanked
            .iter()
            .map(|b| b.0)
            .chain(repair.closer.map(|c| c.0))
            .fold(at, usize::min);
        let base = boundary_at_or_before(&bounds, changed_from);
        if let Some(before) = repair.culprit.filter(|_| reported) {
            // The statement before the reported token is the one at fault
            // (`ports =` with its value missing): point at it too.
            if let Some(d) = diags.last_mut() {
                *d = if let Some(eq) = trailing_equals(&work[before.0..before.1]) {
                    Diagnostic::new(
                        registry::SYNTAX,
                        Span::new(file, before.0 + eq, before.0 + eq + 1),
                        "expected a value after `=`",
                        "no value",
                    )
                    .related(
                        first_word(file, &work, d.primary.span.start as usize),
                        "read as its value",
                    )
                    .help("write the value on the same line as its field: `name = value`")
                } else {
                    d.clone().related(
                        Span::new(file, before.0, before.1),
                        "the statement before is incomplete",
                    )
                };
            }
        }
        for &(s, e) in &repair.blanked {
            blank(&mut work, s, e);
            skipped.push(Span::new(file, s, e.min(text.len())));
        }
        if let Some((i, b)) = repair.closer {
            work[i] = b;
            if let (Some(d), true) = (diags.last_mut(), reported) {
                d.help = format!(
                    "write `{}` here: it closes the `{}` opened before",
                    b as char,
                    match b {
                        b'}' => '{',
                        b']' => '[',
                        _ => '(',
                    }
                );
            }
        }
        work.extend_from_slice(&repair.append);
        // Blanking replaces whole characters by spaces: still UTF-8.
        let Ok(w) = std::str::from_utf8(&work) else {
            return (None, diags);
        };
        match parse_window(w, base, w.len()) {
            // The whole text parses: its tree, by the fast parser when it
            // takes it (the differential test holds the two parsers to the
            // same trees and diagnostics), else by pest.
            Ok(()) => {
                let (tree, diags) = match fast::parse(file, w) {
                    Some((tree, literal)) => {
                        diags.extend(literal);
                        (Some(tree), diags)
                    }
                    None => match TenantParser::parse(Rule::file, w) {
                        Ok(pairs) => build(file, pairs, Vec::new(), diags),
                        Err(_) => return (None, diags),
                    },
                };
                return (
                    tree.map(|mut tree| {
                        tree.skipped = skipped;
                        if w.len() > text.len() {
                            closed_at_end(&mut tree, text.len());
                        }
                        tree
                    }),
                    diags,
                );
            }
            Err(e) => {
                at = error_pos(&e);
                // At the end of the real text before any closers were
                // appended, the error is the file's own (`}` missing).
                reported = at < text.len() || work.len() == text.len();
                if !reported {
                    unreported += 1;
                    if unreported > MAX_SYNTAX_ERRORS {
                        return (None, diags);
                    }
                    continue;
                }
                if diags.len() >= MAX_SYNTAX_ERRORS {
                    return (None, diags);
                }
                diags.push(syntax_error(file, w, &e));
            }
        }
    }
}

/// A tree parsed with closers appended after the text (the blocks the file
/// leaves open end where it ends): every span clamped to the text, and the
/// mark of it in [`SyntaxFile::skipped`] (see [`SyntaxFile::closed_at_end`]).
fn closed_at_end(tree: &mut SyntaxFile, len: usize) {
    let len = len as u32;
    let clamp = |s: &mut Span| {
        s.start = s.start.min(len);
        s.end = s.end.min(len);
    };
    fn value(v: &mut Value, clamp: &dyn Fn(&mut Span)) {
        clamp(&mut v.span);
        match &mut v.kind {
            ValueKind::List(items) => items.iter_mut().for_each(|i| value(i, clamp)),
            ValueKind::Object(fields) => fields.iter_mut().for_each(|f| field(f, clamp)),
            ValueKind::Path(p) => p.iter_mut().for_each(|i| clamp(&mut i.span)),
            ValueKind::Call(name, args) => {
                clamp(&mut name.span);
                for a in args {
                    if let Some(n) = &mut a.name {
                        clamp(&mut n.span);
                    }
                    value(&mut a.value, clamp);
                }
            }
            _ => {}
        }
    }
    fn field(f: &mut Field, clamp: &dyn Fn(&mut Span)) {
        clamp(&mut f.span);
        clamp(&mut f.key.span);
        value(&mut f.value, clamp);
    }
    fn block(b: &mut Block, clamp: &dyn Fn(&mut Span)) {
        clamp(&mut b.span);
        clamp(&mut b.kind.span);
        if let Some(n) = &mut b.name {
            clamp(&mut n.span);
        }
        for e in &mut b.entries {
            match e {
                Entry::Field(f) => field(f, clamp),
                Entry::Block(b) => block(b, clamp),
            }
        }
    }
    for i in &mut tree.imports {
        clamp(&mut i.span);
        clamp(&mut i.path_span);
        if let Some(a) = &mut i.alias {
            clamp(&mut a.span);
        }
    }
    tree.blocks.iter_mut().for_each(|b| block(b, &clamp));
    tree.skipped
        .push(Span::new(tree.file, len as usize, len as usize));
}

/// Parses `text[base..end]` as a file, with the error's position made an
/// offset into `text`. `base` is an item boundary (see [`item_boundaries`]),
/// where a parse of the whole text stands between two top-level items just
/// as a parse of the window does at its start.
fn parse_window(text: &str, base: usize, end: usize) -> Result<(), pest::error::Error<Rule>> {
    use pest::error::InputLocation;
    match TenantParser::parse(Rule::file, &text[base..end]) {
        Ok(_) => Ok(()),
        Err(mut e) => {
            e.location = match e.location {
                InputLocation::Pos(p) => InputLocation::Pos(p + base),
                InputLocation::Span((s, t)) => InputLocation::Span((s + base, t + base)),
            };
            Err(e)
        }
    }
}

/// The offsets just after each `}` that brings the bracket depth back to
/// zero, counting brackets of every kind alike (by the lexer: none inside
/// strings and comments, see [`brackets`]). In a text that parses up to some
/// offset, each such offset before it ends a top-level block: a parse of the
/// window from there reads what the whole parse reads. Past an error the
/// offsets are only guesses, which [`recover`] checks (a window that parses
/// to its end is a sequence of items, so its end is a boundary after all).
fn item_boundaries(work: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for (i, c) in brackets(work) {
        match c {
            b'{' | b'[' | b'(' => depth += 1,
            _ => {
                if depth == 1 && c == b'}' {
                    out.push(i + 1);
                }
                depth = depth.saturating_sub(1);
            }
        }
    }
    out
}

/// The brackets of a text, `{ } [ ] ( )`, with their offsets, by the lexer.
/// A `/*` without its `*/` hides nothing: pest reads no comment there, and
/// recovery may skip the line it is on and parse what follows, so the text
/// after it is read on.
fn brackets(work: &[u8]) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut tokens = lex::Lexer::new(work, 0);
    std::iter::from_fn(move || loop {
        let t = tokens.next()?;
        match t.kind {
            Kind::Punct
                if work[t.start] != b'=' && work[t.start] != b',' && work[t.start] != b'.' =>
            {
                return Some((t.start, work[t.start]))
            }
            Kind::UnclosedComment => tokens = lex::Lexer::new(work, t.start + 1),
            _ => {}
        }
    })
}

/// The last boundary at or before `at`, or the start of the text.
fn boundary_at_or_before(bounds: &[usize], at: usize) -> usize {
    match bounds.binary_search(&at) {
        Ok(i) => bounds[i],
        Err(0) => 0,
        Err(i) => bounds[i - 1],
    }
}

fn build(
    file: FileId,
    mut pairs: pest::iterators::Pairs<Rule>,
    skipped: Vec<Span>,
    diags: Vec<Diagnostic>,
) -> (Option<SyntaxFile>, Vec<Diagnostic>) {
    let mut cx = FileDiags { file, diags };
    let root = pairs.next().map(|p| {
        let mut f = cx.file(p);
        f.skipped = skipped;
        f
    });
    (root, cx.diags)
}

/// Syntax errors reported per file before giving up.
pub const MAX_SYNTAX_ERRORS: usize = 20;

/// Files larger than this report their first syntax error only: recovery
/// re-parses the file a few times per error.
const MAX_RECOVERY_TEXT: usize = 16 << 20;

fn error_pos(e: &pest::error::Error<Rule>) -> usize {
    match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    }
}

/// How to get past one syntax error.
#[derive(Debug, PartialEq)]
struct Repair {
    /// Byte ranges to skip.
    blanked: Vec<(usize, usize)>,
    /// The line before the error, when it is the one at fault.
    culprit: Option<(usize, usize)>,
    /// A closing bracket at this offset replaced by this one (`[1 }`).
    closer: Option<(usize, u8)>,
    /// Text appended at the end: the closers of the brackets still open
    /// there (see [`closers_at_end`]).
    append: Vec<u8>,
}

/// Chooses the statement to skip after a syntax error at `at`: the line of
/// the error, the line before it (an incomplete statement often shows up
/// as an error on the next line), or both, whichever lets the parser get
/// furthest. A line that opens a block is skipped with its whole block. At
/// the end of the file (an unclosed block) nothing can be skipped: the
/// brackets still open there are closed instead, after the text.
fn recover(work: &[u8], at: usize, bounds: &[usize]) -> Option<Repair> {
    if at >= work.len() || work[at..].iter().all(u8::is_ascii_whitespace) {
        return closers_at_end(work).map(|append| Repair {
            blanked: Vec::new(),
            culprit: None,
            closer: None,
            append,
        });
    }
    let start = line_start(work, at);
    // The error's line; it cannot be skipped when that would unbalance the
    // braces (`}` closing the block whose last statement is incomplete).
    let line = statement_at(work, start);
    // The line before, unless it opens the block the error is in.
    let prev = previous_line(work, start)
        .and_then(|s| statement_at(work, s))
        .filter(|p| p.1 <= start);
    let mut candidates = Vec::new();
    // A closing bracket of the wrong kind (`{ x = 1 ]`): the right one.
    if matches!(work[at], b'}' | b']' | b')') {
        for c in [b'}', b']', b')'] {
            if c != work[at] {
                candidates.push(Repair {
                    blanked: Vec::new(),
                    culprit: None,
                    closer: Some((at, c)),
                    append: Vec::new(),
                });
            }
        }
    }
    if let Some(l) = line {
        candidates.push(Repair {
            blanked: vec![l],
            culprit: None,
            closer: None,
            append: Vec::new(),
        });
    }
    if let Some(p) = prev {
        let trimmed = trim(work, p);
        candidates.push(Repair {
            blanked: vec![p],
            culprit: Some(trimmed),
            closer: None,
            append: Vec::new(),
        });
        if let Some(l) = line {
            candidates.push(Repair {
                blanked: vec![p, l],
                culprit: Some(trimmed),
                closer: None,
                append: Vec::new(),
            });
        }
    }
    // Every candidate is parsed in one window: from the last top-level block
    // before any change to the first boundary after every change. What a
    // whole parse reaches follows from the window's: an error inside it is
    // the whole parse's error; a window that parses to its end leaves every
    // candidate that does so at one item boundary before the same text,
    // where all reach the same point (one value, `BEYOND`, stands for it). An
    // error at the window's end says nothing: then the candidates are
    // parsed from the window's start to the end of the text.
    const BEYOND: usize = usize::MAX - 1;
    let first = candidates
        .iter()
        .flat_map(|c| c.blanked.iter().map(|b| b.0).chain(c.closer.map(|x| x.0)))
        .fold(at, usize::min);
    let last = candidates
        .iter()
        .flat_map(|c| {
            c.blanked
                .iter()
                .map(|b| b.1)
                .chain(c.closer.map(|x| x.0 + 1))
        })
        .fold(at + 1, usize::max);
    let base = boundary_at_or_before(bounds, first);
    let end = bounds
        .get(bounds.partition_point(|&b| b <= last))
        .copied()
        .unwrap_or(work.len());
    let trials: Vec<Option<String>> = candidates
        .iter()
        .map(|c| {
            let mut trial = work.to_vec();
            for &(s, e) in &c.blanked {
                blank(&mut trial, s, e);
            }
            if let Some((i, b)) = c.closer {
                trial[i] = b;
            }
            String::from_utf8(trial).ok()
        })
        .collect();
    let whole = |t: &str| match parse_window(t, base, t.len()) {
        Ok(()) => usize::MAX,
        Err(e) => error_pos(&e),
    };
    // The window ends at a boundary of the text as it is. A repair that
    // blanks the end of a comment or a string (`/* " */` cut in two) makes
    // the text after it lex differently, possibly past that boundary (the
    // comment now runs on to a later `*/`): then the window says nothing
    // of the repaired text, which is parsed whole. The boundaries from the
    // window's end on are the same exactly when the text from there lexes
    // and nests as before.
    let after_end = &bounds[bounds.partition_point(|&b| b < end)..];
    let same_after = |t: &str| {
        let b = item_boundaries(t.as_bytes());
        b[b.partition_point(|&x| x < end)..] == *after_end
    };
    let mut reach: Vec<usize> = trials
        .iter()
        .map(|t| match t {
            None => 0,
            Some(t) if end == t.len() || !same_after(t) => whole(t),
            Some(t) => match parse_window(t, base, end) {
                Ok(()) => BEYOND,
                Err(e) if error_pos(&e) < end => error_pos(&e),
                Err(_) => whole(t),
            },
        })
        .collect();
    // A candidate's exact reach past the window cannot be ranked against
    // `BEYOND`: then those are parsed whole too.
    if reach.iter().any(|&r| r >= end && r != BEYOND) {
        for (r, t) in reach.iter_mut().zip(&trials) {
            if let (BEYOND, Some(t)) = (*r, t) {
                *r = whole(t);
            }
        }
    }
    let mut best: Option<(usize, Repair)> = None;
    for (c, reached) in candidates.into_iter().zip(reach) {
        // A line ending in `=` whose value the error line became is the
        // statement at fault whenever skipping it gets past the error.
        let dangling = c.blanked.len() == 1
            && c.culprit.is_some()
            && trailing_equals(&work[c.blanked[0].0..c.blanked[0].1]).is_some();
        if reached > at && dangling {
            return Some(c);
        }
        // Only a repair that gets past the error counts; ties go to the
        // smaller repair (earlier in the list).
        if reached > at && best.as_ref().is_none_or(|(b, _)| reached > *b) {
            best = Some((reached, c));
        }
    }
    best.map(|(_, r)| r)
}

/// The start of the line holding `at`.
fn line_start(work: &[u8], at: usize) -> usize {
    work[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// The start of the last line before `start` that holds more than blanks.
fn previous_line(work: &[u8], start: usize) -> Option<usize> {
    let mut end = start.checked_sub(1)?;
    loop {
        let s = line_start(work, end);
        if !work[s..end].iter().all(u8::is_ascii_whitespace) {
            return Some(s);
        }
        end = s.checked_sub(1)?;
    }
}

/// The statement that starts on the line at `start`: that line, or through
/// the `}` that closes a block it opens. `None` when skipping the line would
/// unbalance the file's braces.
fn statement_at(work: &[u8], start: usize) -> Option<(usize, usize)> {
    let end = work[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(work.len(), |i| start + i);
    // The closers the brackets opened so far expect, innermost last.
    let mut open: Vec<u8> = Vec::new();
    let mut balanced = true;
    for t in lex::Lexer::new(work, start) {
        match (t.kind, work[t.start]) {
            (Kind::UnclosedComment, _) => {
                balanced = false;
                break;
            }
            (Kind::Punct, b'{') => open.push(b'}'),
            (Kind::Punct, b'[') => open.push(b']'),
            (Kind::Punct, b'(') => open.push(b')'),
            (Kind::Punct, c @ (b'}' | b']' | b')')) => {
                // A closer that matches nothing open here ends the scan: the
                // line leaves a bracket open or closes one it did not open.
                if open.pop() != Some(c) {
                    balanced = false;
                    break;
                }
                if open.is_empty() && t.start >= end {
                    return Some((start, t.end));
                }
            }
            (Kind::Newline, _) if t.start >= end && open.is_empty() => {
                return Some((start, t.start))
            }
            _ => {}
        }
    }
    if balanced && open.is_empty() {
        return Some((start, work.len()));
    }
    // Brackets that never close (`[1, 2 }`, `[nfs4`), close what the line
    // did not open (`x = 1 ]`), or a `/*` without its end: the line alone,
    // if its braces pair up.
    let line = &work[start..end];
    let count = |c: u8| line.iter().filter(|b| **b == c).count();
    (count(b'{') == count(b'}')).then_some((start, end))
}

/// The text that closes the brackets still open at the end of `work`, on a
/// line of its own (`"\n]}}"`), innermost first; `None` when none is open,
/// when a closer does not match its opener (appending cannot help), or when
/// the text ends in a `/*` comment (which would swallow the closers).
fn closers_at_end(work: &[u8]) -> Option<Vec<u8>> {
    let mut open: Vec<u8> = Vec::new();
    for t in lex::Lexer::new(work, 0) {
        match (t.kind, work[t.start]) {
            (Kind::UnclosedComment, _) => return None,
            (Kind::Punct, b'{') => open.push(b'}'),
            (Kind::Punct, b'[') => open.push(b']'),
            (Kind::Punct, b'(') => open.push(b')'),
            (Kind::Punct, c @ (b'}' | b']' | b')')) if open.pop() != Some(c) => return None,
            _ => {}
        }
    }
    if open.is_empty() {
        return None;
    }
    open.push(b'\n');
    open.reverse();
    Some(open)
}

/// Where the `=` is when a line's code (its comment aside) ends with one.
fn trailing_equals(line: &[u8]) -> Option<usize> {
    let end = lex::Lexer::new(line, 0)
        .find(|t| t.kind.is_comment())
        .map_or(line.len(), |t| t.start);
    let code = line[..end].trim_ascii_end();
    code.ends_with(b"=").then(|| code.len() - 1)
}

/// The first word on the line holding `at` (at least one character).
fn first_word(file: FileId, work: &[u8], at: usize) -> Span {
    let mut s = line_start(work, at);
    while s < work.len() && (work[s] == b' ' || work[s] == b'\t') {
        s += 1;
    }
    let mut e = s;
    while e < work.len() && lex::ident_continue(work[e]) {
        e += 1;
    }
    if e == s && s < work.len() {
        // Not a name (`é`, a quote): its first character.
        e = s + 1;
        while e < work.len() && (work[e] & 0xC0) == 0x80 {
            e += 1;
        }
    }
    Span::new(file, s, e)
}

fn trim(work: &[u8], (s, e): (usize, usize)) -> (usize, usize) {
    let e = s + work[s..e]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let s = s + work[s..e]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    (s, e)
}

/// Replaces a region by spaces, keeping line breaks (and so every offset).
fn blank(work: &mut [u8], s: usize, e: usize) {
    for b in &mut work[s..e] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
}

/// Measures bracket nesting with the grammar's own lexical rules (by the
/// lexer, see [`brackets`]), so no comment or string can hide deep nesting
/// from it.
fn check_nesting(file: FileId, text: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (i, c) in brackets(text.as_bytes()) {
        if matches!(c, b'{' | b'[' | b'(') {
            depth += 1;
            if depth > MAX_NESTING {
                return Some(
                    Diagnostic::new(
                        registry::SYNTAX,
                        Span::new(file, i, i + 1),
                        format!("nesting deeper than {MAX_NESTING} levels"),
                        "too deep",
                    )
                    .help("specs nest a few levels at most; flatten the structure"),
                );
            }
        } else {
            depth = depth.saturating_sub(1);
        }
    }
    None
}

/// What a grammar rule is, in a user's words.
fn rule_words(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::import => "`import`",
        Rule::block => "a block (`kind name { ... }`)",
        Rule::entries | Rule::field => "a field (`name = value`)",
        Rule::ident | Rule::path => "a name",
        Rule::string | Rule::string_inner => "a string",
        Rule::escape => "an escape (\\\" \\\\ \\n \\t \\u{..})",
        Rule::secret | Rule::secret_kind => "env(\"..\") or file(\"..\")",
        Rule::call | Rule::named_arg => "a constructor such as rsa(2048)",
        Rule::list => "a list `[ ... ]`",
        Rule::object => "an object `{ ... }`",
        Rule::ipv4 | Rule::octet => "an IPv4 address",
        Rule::cidr => "a CIDR",
        Rule::port_range => "a port range (2043..2049)",
        Rule::size | Rule::size_unit => "a size (2Gi)",
        Rule::duration | Rule::duration_unit => "a duration (5s)",
        Rule::integer | Rule::digits => "a number",
        Rule::boolean => "true or false",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::equals => "`=`",
        Rule::comma => "`,`",
        Rule::rbracket => "`]`",
        Rule::rparen => "`)`",
        _ => "a value",
    }
}

fn syntax_error(file: FileId, text: &str, e: &pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    // Point at the offending token (or the end of the file) rather than at nothing.
    // The token: a word (name, number, address) up to its end, anything
    // else up to the next blank.
    let word = text[start..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let found_end = text[start..]
        .char_indices()
        .find(|(_, c)| {
            c.is_whitespace() || (word && !(c.is_ascii_alphanumeric() || "_-$#@./:".contains(*c)))
        })
        .map_or(text.len(), |(i, _)| start + i)
        .max(end);
    let found_end = if found_end == start {
        (start + text[start..].chars().next().map_or(0, char::len_utf8)).min(text.len())
    } else {
        found_end.min(start + 40)
    };
    let found_end = (start..=found_end)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(start);
    let found = if start >= text.len() {
        "end of file".to_string()
    } else if text[start..].starts_with(['\n', '\r']) {
        "the end of the line".to_string()
    } else {
        format!("`{}`", text[start..found_end].escape_debug())
    };
    // A quote that never closes on its line: say so instead of listing tokens.
    if lex::tokens_from(text, start)
        .next()
        .is_some_and(|t| t.kind == Kind::UnclosedStr)
    {
        return Diagnostic::new(
            registry::SYNTAX,
            Span::new(file, start, start + 1),
            "unterminated string",
            "this quote is never closed",
        )
        .help(
            "close the string with `\"` on the same line; write a quote inside a string as `\\\"`",
        );
    }
    // A letter that is not ASCII inside or after a name: most often one that
    // looks like an ASCII letter (Cyrillic `р` for `p`), which "expected `}`
    // or a name" does not explain.
    if let Some(c) = text[start..]
        .chars()
        .next()
        .filter(|c| c.is_alphabetic() && !c.is_ascii())
    {
        let like = confusable(c)
            .map(|a| format!(" It looks like `{a}` but is not that letter;"))
            .unwrap_or_default();
        return Diagnostic::new(
            registry::SYNTAX,
            Span::new(file, start, start + c.len_utf8()),
            format!(
                "`{}` (U+{:04X}) is not an ASCII letter: names are written in ASCII letters, digits and `_`",
                c.escape_debug(),
                c as u32
            ),
            "not ASCII",
        )
        .help(format!(
            "{like} retype it on an ASCII keyboard layout; text that is not a name goes in a string (\"...\")"
        ).trim_start().to_string());
    }
    // A `}` where nothing is open, or where a value is due.
    if text[start..].starts_with('}') {
        let expected_words = match &e.variant {
            ErrorVariant::ParsingError { positives, .. } => {
                let mut w: Vec<&str> = positives.iter().map(|r| rule_words(*r)).collect();
                w.sort_unstable();
                w.dedup();
                w.join(", ")
            }
            ErrorVariant::CustomError { .. } => String::new(),
        };
        return Diagnostic::new(
            registry::SYNTAX,
            Span::new(file, start, start + 1),
            if expected_words.is_empty() {
                "`}` closes no open block here".to_string()
            } else {
                format!("`}}` here closes nothing, or comes too early: expected {expected_words}")
            },
            "unexpected `}`",
        )
        .help("each `}` closes the block whose `{` comes before it: remove the extra `}`, or write what is missing before it (a value after `=`)");
    }
    if let Some(d) = unknown_unit(file, text, start) {
        return d;
    }
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<&str> = positives.iter().map(|r| rule_words(*r)).collect();
            words.sort_unstable();
            words.dedup();
            words
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let expected = match expected.as_slice() {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    };
    Diagnostic::new(
        registry::SYNTAX,
        Span::new(file, start, found_end),
        format!("expected {expected}, found {found}"),
        format!("expected {expected} here"),
    )
    .help("blocks are `kind name { field = value }`; check for a missing `}`, `=` or quote just before this point")
}

/// The ASCII letter a non-ASCII one is most often mistaken for (Cyrillic
/// and Greek look-alikes, Unicode's confusables.txt:
/// https://www.unicode.org/Public/security/latest/confusables.txt).
fn confusable(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'е' => 'e',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'і' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'һ' => 'h',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'ν' => 'v',
        'ι' => 'i',
        'κ' => 'k',
        'τ' => 't',
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'Е' | 'Ε' => 'E',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Н' | 'Η' => 'H',
        'О' | 'Ο' => 'O',
        'Р' | 'Ρ' => 'P',
        'С' => 'C',
        'Т' | 'Τ' => 'T',
        'Х' | 'Χ' => 'X',
        'І' | 'Ι' => 'I',
        'Ѕ' => 'S',
        'Ζ' => 'Z',
        'Ν' => 'N',
        _ => return None,
    })
}

/// A number followed by letters that are no unit of the language, where the
/// parse failed (`size = 2GB`, `memory = 100MB`, `timeout = 10sec`): names
/// the units sizes and durations take and the spelling that was likely
/// meant, instead of listing tokens. Sizes are Kubernetes quantities
/// (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/):
/// K, M, G, T, P are powers of 1000, Ki, Mi, Gi, Ti, Pi powers of 1024.
fn unknown_unit(file: FileId, text: &str, at: usize) -> Option<Diagnostic> {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = text.as_bytes();
    if at >= bytes.len() || !word(bytes[at]) {
        return None;
    }
    let start = (0..at)
        .rev()
        .take_while(|i| word(bytes[*i]))
        .last()
        .unwrap_or(at);
    let end = (at..bytes.len())
        .find(|i| !word(bytes[*i]))
        .unwrap_or(bytes.len());
    if start > 0 && matches!(bytes[start - 1], b'.' | b'"' | b'-') {
        return None;
    }
    let token = &text[start..end];
    let digits = token.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = token.split_at(digits);
    if digits == 0 || unit.is_empty() || !unit.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let span = Span::new(file, start, end);
    let lower = unit.to_ascii_lowercase();
    // A size: a prefix letter, then `i`, `ib`, `b` or nothing (GB, GiB, gi, Gb).
    let prefix = lower.chars().next().map(|c| c.to_ascii_uppercase());
    let rest = &lower[1..];
    let size_prefix = prefix.filter(|p| "KMGTP".contains(*p));
    if let (Some(p), true) = (size_prefix, matches!(rest, "" | "b" | "i" | "ib")) {
        let binary = format!("{number}{p}i");
        let decimal = format!("{number}{p}");
        let power = "KMGTP".find(p).map_or(1, |i| i + 1);
        return Some(
            Diagnostic::new(
                registry::SYNTAX,
                span,
                format!("`{token}` is not a size: `{unit}` is not a unit"),
                "unknown size unit",
            )
            .help(format!(
                "sizes take Ki, Mi, Gi, Ti, Pi (powers of 1024) or K, M, G, T, P (powers of 1000), as Kubernetes quantities do: write `{binary}` ({number} × 2^{} bytes) or `{decimal}` ({number} × 10^{} bytes)", power * 10, power * 3
            ))
            .fix(
                crate::diagnostics::Applicability::Guess,
                format!("write `{binary}`"),
                span,
                binary,
            ),
        );
    }
    let duration = match lower.as_str() {
        "msec" | "msecs" | "millis" | "millisecond" | "milliseconds" => Some("ms"),
        "sec" | "secs" | "second" | "seconds" => Some("s"),
        "min" | "mins" | "minute" | "minutes" => Some("m"),
        "hr" | "hrs" | "hour" | "hours" => Some("h"),
        "day" | "days" => Some("d"),
        _ => None,
    };
    if let Some(u) = duration {
        let fixed = format!("{number}{u}");
        return Some(
            Diagnostic::new(
                registry::SYNTAX,
                span,
                format!("`{token}` is not a duration: `{unit}` is not a unit"),
                "unknown duration unit",
            )
            .help(format!("durations take ms, s, m, h or d: write `{fixed}`"))
            .fix(
                crate::diagnostics::Applicability::Safe,
                format!("write `{fixed}`"),
                span,
                fixed,
            ),
        );
    }
    Some(
        Diagnostic::new(
            registry::SYNTAX,
            span,
            format!("`{token}`: a number with `{unit}`, which is not a unit"),
            "unknown unit",
        )
        .help(
            "sizes take Ki, Mi, Gi, Ti, Pi or K, M, G, T, P (2Gi); durations take ms, s, m, h or d (30s); a name cannot start with a digit",
        ),
    )
}

fn is_punct(r: Rule) -> bool {
    matches!(
        r,
        Rule::lbrace | Rule::rbrace | Rule::equals | Rule::comma | Rule::rbracket | Rule::rparen
    )
}

struct FileDiags {
    file: FileId,
    diags: Vec<Diagnostic>,
}

impl FileDiags {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    fn file(&mut self, p: Pair<Rule>) -> SyntaxFile {
        let mut imports = Vec::new();
        let mut blocks = Vec::new();
        for item in p.into_inner() {
            match item.as_rule() {
                Rule::import => imports.push(self.import(item)),
                Rule::block => blocks.push(self.block(item)),
                _ => {}
            }
        }
        SyntaxFile {
            file: self.file,
            imports,
            blocks,
            skipped: Vec::new(),
        }
    }

    fn import(&mut self, p: Pair<Rule>) -> Import {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let (path, path_span) = match inner.next() {
            Some(s) => (self.string(&s), self.span(&s)),
            None => (String::new(), span),
        };
        let alias = inner.next().map(|a| self.ident(a));
        Import {
            path,
            path_span,
            alias,
            span,
        }
    }

    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    fn block(&mut self, p: Pair<Rule>) -> Block {
        let span = self.span(&p);
        let mut kind = None;
        let mut name = None;
        let mut entries = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident if kind.is_none() => kind = Some(self.ident(c)),
                Rule::ident => name = Some(self.ident(c)),
                Rule::entries => {
                    for e in c.into_inner() {
                        match e.as_rule() {
                            Rule::field => entries.push(Entry::Field(self.field(e))),
                            Rule::block => entries.push(Entry::Block(self.block(e))),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Block {
            kind: kind.unwrap_or(Ident {
                name: String::new(),
                span,
            }),
            name,
            entries,
            span,
        }
    }

    fn field(&mut self, p: Pair<Rule>) -> Field {
        let span = self.span(&p);
        let mut inner = p.into_inner().filter(|c| !is_punct(c.as_rule()));
        let key = inner.next().map(|k| self.ident(k));
        let value = inner.next().map(|v| self.value(v));
        Field {
            key: key.unwrap_or(Ident {
                name: String::new(),
                span,
            }),
            value: value.unwrap_or(Value {
                kind: ValueKind::List(Vec::new()),
                span,
            }),
            span,
        }
    }

    fn number(&mut self, p: &Pair<Rule>) -> u64 {
        let span = self.span(p);
        literal::number(&mut self.diags, p.as_str(), span)
    }

    fn string(&mut self, p: &Pair<Rule>) -> String {
        let span = self.span(p);
        literal::string(&mut self.diags, p.as_str(), span)
    }

    fn value(&mut self, p: Pair<Rule>) -> Value {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::string => ValueKind::Str(self.string(&p)),
            Rule::integer => ValueKind::Int(self.number(&p)),
            Rule::boolean => ValueKind::Bool(p.as_str() == "true"),
            Rule::ipv4 => ValueKind::Ipv4(literal::octets(&mut self.diags, p.as_str(), span)),
            Rule::cidr => ValueKind::Cidr(literal::cidr(&mut self.diags, p.as_str(), span)),
            Rule::port_range => {
                let mut inner = p.clone().into_inner();
                let lo = inner.next().map_or(0, |d| self.number(&d));
                let hi = inner.next().map_or(0, |d| self.number(&d));
                ValueKind::PortRange(lo, hi)
            }
            Rule::size => {
                let mut inner = p.clone().into_inner();
                let n = inner.next().map_or(0, |d| self.number(&d));
                let unit = inner.next().map_or("", |u| u.as_str()).to_string();
                ValueKind::Size(n, unit)
            }
            Rule::duration => {
                let mut inner = p.clone().into_inner();
                let n = inner.next().map_or(0, |d| self.number(&d));
                let unit = inner.next().map_or("", |u| u.as_str());
                let ms = literal::duration(&mut self.diags, n, unit, p.as_str(), span);
                ValueKind::Duration(ms, p.as_str().to_string())
            }
            Rule::list => ValueKind::List(
                p.into_inner()
                    .filter(|c| !is_punct(c.as_rule()))
                    .map(|v| self.value(v))
                    .collect(),
            ),
            Rule::object => ValueKind::Object(
                p.into_inner()
                    .filter(|c| c.as_rule() == Rule::field)
                    .map(|f| self.field(f))
                    .collect(),
            ),
            Rule::path => ValueKind::Path(p.into_inner().map(|i| self.ident(i)).collect()),
            Rule::secret => {
                let mut inner = p.into_inner();
                let kind = match inner.next().map(|k| k.as_str()) {
                    Some("env") => SecretSource::Env,
                    _ => SecretSource::File,
                };
                let arg = inner.next().map(|s| self.string(&s)).unwrap_or_default();
                ValueKind::Secret(kind, arg)
            }
            Rule::call => {
                let mut inner = p.into_inner().filter(|c| !is_punct(c.as_rule()));
                let name = inner.next().map(|n| self.ident(n)).unwrap_or(Ident {
                    name: String::new(),
                    span,
                });
                let args = inner
                    .map(|a| {
                        if a.as_rule() == Rule::named_arg {
                            let mut ai = a.into_inner().filter(|c| !is_punct(c.as_rule()));
                            let name = ai.next().map(|n| self.ident(n));
                            let value = ai.next().map(|v| self.value(v));
                            Arg {
                                name,
                                value: value.unwrap_or(Value {
                                    kind: ValueKind::List(Vec::new()),
                                    span,
                                }),
                            }
                        } else {
                            Arg {
                                name: None,
                                value: self.value(a),
                            }
                        }
                    })
                    .collect();
                ValueKind::Call(Box::new(name), args)
            }
            _ => ValueKind::List(Vec::new()),
        };
        Value { kind, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> SyntaxFile {
        let (tree, diags) = parse(FileId(0), text);
        assert!(diags.is_empty(), "{diags:?}");
        tree.expect("tree")
    }

    fn block_names(f: &SyntaxFile) -> Vec<String> {
        fn walk(b: &Block, out: &mut Vec<String>) {
            out.push(
                b.name
                    .as_ref()
                    .map_or(b.kind.name.clone(), |n| n.name.clone()),
            );
            for e in &b.entries {
                if let Entry::Block(b) = e {
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        for b in &f.blocks {
            walk(b, &mut out);
        }
        out
    }

    #[test]
    fn independent_syntax_errors_are_all_reported() {
        let text = "a one {\n  x = 1 2\n  y = 2\n}\nb two {\n  z \"s\"\n  inner { w = 3 }\n}\nc three { q = [1, 2 }\nd four { ok = true }\n";
        let (tree, diags) = parse(FileId(0), text);
        let lines: Vec<usize> = diags
            .iter()
            .map(|d| text[..d.primary.span.start as usize].matches('\n').count() + 1)
            .collect();
        assert_eq!(lines, [2, 6, 9], "{diags:#?}");
        assert!(diags.iter().all(|d| d.code == registry::SYNTAX));
        let tree = tree.expect("a recovered tree");
        // What parsed is kept; the skipped statements are listed.
        assert_eq!(block_names(&tree), ["one", "two", "inner", "four"]);
        assert_eq!(tree.skipped.len(), 3);
    }

    #[test]
    fn a_missing_value_blames_its_own_line() {
        let text = "a one {\n  x =\n  y = 2\n  z = 3\n}\n";
        let (tree, diags) = parse(FileId(0), text);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].message, "expected a value after `=`");
        assert_eq!(&text[diags[0].primary.span.start as usize..][..1], "=");
        assert_eq!(
            &text[diags[0].related[0].span.start as usize..diags[0].related[0].span.end as usize],
            "y"
        );
        let tree = tree.expect("tree");
        assert_eq!(tree.blocks[0].entries.len(), 2, "y and z are kept");
    }

    #[test]
    fn a_broken_block_header_skips_its_block_only() {
        let text = "a one two three {\n  x = 1\n}\nb four { y = 2 }\n";
        let (tree, diags) = parse(FileId(0), text);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(block_names(&tree.expect("tree")), ["four"]);
    }

    #[test]
    fn an_unclosed_block_is_one_error_and_closed_at_the_end() {
        let text = "a one {\n  x = 1\n  b two {\n    y = [1, 2\n";
        let (tree, diags) = parse(FileId(0), text);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert!(
            diags[0].message.contains("end of file"),
            "{}",
            diags[0].message
        );
        let tree = tree.expect("a tree");
        assert!(tree.closed_at_end());
        assert_eq!(block_names(&tree), ["one", "two"]);
        let one = &tree.blocks[0];
        assert_eq!(one.span.end as usize, text.len(), "clamped to the text");
        let Entry::Block(two) = &one.entries[1] else {
            panic!("b two is a block")
        };
        let Entry::Field(y) = &two.entries[0] else {
            panic!("y is a field")
        };
        assert!(matches!(&y.value.kind, ValueKind::List(v) if v.len() == 2));
        assert_eq!(y.value.span.end as usize, text.len());
        // A file that parses is not marked.
        assert!(!parse_ok("a one { x = 1 }").closed_at_end());
    }

    /// An unclosed block after another error: both are reported, as before
    /// closing at the end was tried.
    #[test]
    fn an_unclosed_block_after_another_error_is_reported_too() {
        let text = "a one {\n  x = = 1\n  y = 2\n";
        let (tree, diags) = parse(FileId(0), text);
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert!(diags[1].message.contains("end of file"), "{diags:#?}");
        let tree = tree.expect("a tree");
        assert!(tree.closed_at_end());
        assert_eq!(tree.blocks[0].entries.len(), 1, "y is kept");
    }

    /// Errors the appended closers run into (a value missing before them)
    /// are recovered from without a report: the end-of-file error says it.
    #[test]
    fn errors_in_the_appended_closers_are_not_reported() {
        let text = "a one {\n  x = 1\n  y =\n";
        let (tree, diags) = parse(FileId(0), text);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert!(diags[0].message.contains("end of file"), "{diags:#?}");
        assert!(diags[0].primary.span.end as usize <= text.len());
        let tree = tree.expect("a tree");
        assert!(tree.closed_at_end());
        assert_eq!(tree.blocks[0].entries.len(), 1, "y is skipped");
        assert!(tree.skipped.iter().all(|s| s.end as usize <= text.len()));
        // A comment left open is skipped with its line, then the block
        // closed: both errors are reported.
        let (tree, diags) = parse(FileId(0), "a one {\n /* x = 1\n");
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert!(tree.is_some_and(|t| t.closed_at_end() && t.blocks.len() == 1));
    }

    #[test]
    fn the_last_statement_of_a_block_is_recovered_too() {
        // The error shows at the `}`, which cannot be skipped; the line
        // before it is the one at fault.
        let text = "a one {\n  x =\n}\nb two {\n  y = 1 z\n}\nc three {\n  w = = 3\n}\n";
        let (tree, diags) = parse(FileId(0), text);
        let lines: Vec<usize> = diags
            .iter()
            .map(|d| text[..d.primary.span.start as usize].matches('\n').count() + 1)
            .collect();
        assert_eq!(lines, [2, 6, 8], "{diags:#?}");
        assert_eq!(diags[0].message, "expected a value after `=`");
        assert_eq!(block_names(&tree.expect("tree")), ["one", "two", "three"]);
    }

    #[test]
    fn an_unclosed_bracket_or_comment_is_one_error() {
        for line in ["  v = [1, 2", "  v = rsa(2048", "  v = 1 /* todo"] {
            let text = format!("a one {{\n{line}\n  w = 2\n}}\nb two {{ x = 1 }}\n");
            let (tree, diags) = parse(FileId(0), &text);
            assert_eq!(diags.len(), 1, "{line}: {diags:#?}");
            assert!(
                !diags[0].message.contains("end of file"),
                "{line}: {}",
                diags[0].message
            );
            assert_eq!(block_names(&tree.expect("tree")), ["one", "two"], "{line}");
        }
    }

    #[test]
    fn a_missing_comma_or_closing_bracket_is_named() {
        for (value, expected, found) in [
            (
                "[10.1.1.1, 10.1.1.2 10.1.1.3]",
                "expected `,` or `]`",
                "`10.1.1.3`",
            ),
            ("[nfs4 nfs3]", "expected `,` or `]`", "`nfs3`"),
            ("rsa(2048 x)", "expected `)` or `,`", "`x`"),
        ] {
            let (_, diags) = parse(FileId(0), &format!("b {{ x = {value} }}"));
            assert_eq!(diags.len(), 1, "{value}: {diags:#?}");
            assert_eq!(
                diags[0].message,
                format!("{expected}, found {found}"),
                "{value}"
            );
        }
    }

    #[test]
    fn a_hash_after_a_number_starts_a_comment_that_hides_brackets() {
        let text = format!("b {{ n = 1#{}\n  m = 2 }}", "[".repeat(70));
        let (tree, diags) = parse(FileId(0), &text);
        assert!(diags.is_empty(), "{diags:#?}");
        assert_eq!(tree.expect("tree").blocks[0].entries.len(), 2);
    }

    #[test]
    fn recovery_stops_after_a_bounded_number_of_errors() {
        let text = "a one {\n".to_string() + &"  x = = 1\n".repeat(100) + "}\n";
        let (_, diags) = parse(FileId(0), &text);
        assert_eq!(diags.len(), MAX_SYNTAX_ERRORS);
    }

    /// A file over a MiB with an error in 20 of its blocks: every error is
    /// reported (recovery re-parses windows, not the whole file, per error).
    #[test]
    fn a_large_file_gets_all_its_errors() {
        let mut text = String::new();
        let (mut n, mut errors) = (0, 0);
        while text.len() < 1_100_000 {
            let broken = n % 400 == 200;
            errors += usize::from(broken);
            text.push_str(&format!(
                "tenant t{n} {{\n  cluster = {}c1\n  note = \"{}\"\n  nfs {{ volume v {{ size = 1Gi }} }}\n}}\n",
                if broken { "= " } else { "" },
                "x".repeat(60)
            ));
            n += 1;
        }
        let (tree, diags) = parse(FileId(0), &text);
        // The statements at fault are skipped and the rest is read.
        assert_eq!(tree.map(|t| t.blocks.len()), Some(n));
        assert_eq!(errors, MAX_SYNTAX_ERRORS);
        assert_eq!(diags.len(), errors, "{n} blocks");
        assert!(diags.iter().all(|d| d.code == registry::SYNTAX));
    }

    fn field_value(text: &str) -> ValueKind {
        let f = parse_ok(&format!("b {{ x = {text} }}"));
        match &f.blocks[0].entries[0] {
            Entry::Field(f) => f.value.kind.clone(),
            Entry::Block(_) => panic!("not a field"),
        }
    }

    #[test]
    fn typed_literals() {
        assert_eq!(
            field_value("10.1.1.9"),
            ValueKind::Ipv4([10, 1, 1, 9].into())
        );
        assert!(matches!(field_value("172.30.0.0/16"), ValueKind::Cidr(n) if n.prefix_len() == 16));
        assert_eq!(field_value("2043..2049"), ValueKind::PortRange(2043, 2049));
        assert_eq!(field_value("2Gi"), ValueKind::Size(2, "Gi".into()));
        assert_eq!(
            field_value("5000ms"),
            ValueKind::Duration(5000, "5000ms".into())
        );
        assert_eq!(
            field_value("24h"),
            ValueKind::Duration(86_400_000, "24h".into())
        );
        assert_eq!(field_value("5m"), ValueKind::Duration(300_000, "5m".into()));
        assert_eq!(field_value("42"), ValueKind::Int(42));
        assert_eq!(field_value("true"), ValueKind::Bool(true));
        assert_eq!(
            field_value(r#""a\"b\u{e9}""#),
            ValueKind::Str("a\"bé".into())
        );
        assert_eq!(
            field_value(r#"env("X")"#),
            ValueKind::Secret(SecretSource::Env, "X".into())
        );
        assert!(matches!(field_value("NP8.MVSNFS8"), ValueKind::Path(p) if p.len() == 2));
        assert!(matches!(field_value("ZCX-HAPROXY-RING"), ValueKind::Path(p) if p.len() == 1));
        assert!(
            matches!(field_value("rsa(2048)"), ValueKind::Call(n, a) if n.name == "rsa" && a.len() == 1)
        );
        assert!(matches!(field_value("[1, 2,]"), ValueKind::List(v) if v.len() == 2));
        assert!(matches!(field_value("{ CN = \"x\" }"), ValueKind::Object(v) if v.len() == 1));
    }

    #[test]
    fn comments_and_spans() {
        let text = "# a comment\nzos NP8 { // another\n  address = 10.1.1.9 /* inline */ }\n";
        let f = parse_ok(text);
        let b = &f.blocks[0];
        assert_eq!(b.kind.name, "zos");
        assert_eq!(b.name.as_ref().map(|n| n.name.as_str()), Some("NP8"));
        let Entry::Field(field) = &b.entries[0] else {
            panic!("field expected")
        };
        assert_eq!(
            &text[field.value.span.start as usize..field.value.span.end as usize],
            "10.1.1.9"
        );
    }

    #[test]
    fn bad_octet_is_a_literal_error() {
        let (_, diags) = parse(FileId(0), "b { x = 10.1.1.300 }");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, registry::BAD_LITERAL);
    }

    #[test]
    fn syntax_error_names_expected_tokens() {
        let (_, diags) = parse(FileId(0), "zos NP8 {\n  address 10.1.1.9\n}");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, registry::SYNTAX);
        assert!(
            diags[0].message.contains("expected"),
            "{}",
            diags[0].message
        );
        assert!(!diags[0].message.contains("Rule"), "{}", diags[0].message);
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let text = format!("b {{ x = {}{} }}", "[".repeat(10_000), "]".repeat(10_000));
        let (tree, diags) = parse(FileId(0), &text);
        assert!(tree.is_none());
        assert_eq!(diags[0].code, registry::SYNTAX);
    }

    #[test]
    fn comments_and_strings_cannot_hide_deep_nesting() {
        let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
        for prefix in [
            "// \"\n",
            "/* \" */\n",
            "# \"\n",
            "b { s = \"x\\\"\" }\n",
            "b { x = [a#, ",
        ] {
            let text = format!("{prefix}b {{ x = {deep} }}");
            let (_, diags) = parse(FileId(0), &text);
            assert!(
                diags.iter().any(|d| d.message.contains("nesting deeper")),
                "{prefix:?}: {diags:?}"
            );
        }
    }

    /// The fast parser, which reads a clean file without the guard, refuses
    /// exactly the nesting the guard refuses: every bracket counts, a
    /// secret's too.
    #[test]
    fn the_fast_parser_counts_nesting_as_the_guard_does() {
        for (open, close, inner) in [
            ("a { ", " }", "x = env(\"a\")"),
            ("x = [", "]", "x"),
            ("x = { y = ", " }", "1"),
            ("x = f(", ")", "1"),
        ] {
            for n in [
                MAX_NESTING - 3,
                MAX_NESTING - 2,
                MAX_NESTING - 1,
                MAX_NESTING,
            ] {
                // After `x = [`, the rest of the levels are `[`.
                let rest = open.trim_start_matches("x = ");
                let text = format!(
                    "b {{ {open}{}{inner}{} }}",
                    rest.repeat(n - 1),
                    close.repeat(n)
                );
                let guard = check_nesting(FileId(0), &text).is_none();
                let fast = fast::parse(FileId(0), &text).is_some();
                assert_eq!(fast, guard, "{n} x {open:?}: {text}");
                let (tree, diags) = parse(FileId(0), &text);
                assert_eq!(tree.is_some(), guard, "{n} x {open:?}: {diags:?}");
            }
        }
        // No recursion to the end of hostile nesting, even without the guard.
        let deep = format!("b {{ x = {}{} }}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(fast::parse(FileId(0), &deep).is_none());
    }

    /// pest reads no comment at a `/*` without its `*/`, and recovery skips
    /// the line it is on and parses what follows: that text is measured too
    /// (it used to overflow the stack).
    #[test]
    fn an_unclosed_comment_cannot_hide_deep_nesting() {
        let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
        let text = format!("b {{\n  x = 1 /*\n  y = {deep}\n}}\n");
        let (tree, diags) = parse(FileId(0), &text);
        assert!(tree.is_none());
        assert!(
            diags[0].message.contains("nesting deeper"),
            "{:?}",
            diags[0].message
        );
        // A closed comment still hides what is in it.
        let text = format!("b {{\n  x = 1 /* {deep} */\n}}\n");
        assert_eq!(parse(FileId(0), &text).1, []);
    }

    /// Recovery blanks a broken line: here the one that opens a comment,
    /// which leaves the comment's end and the deep nesting it hid for the
    /// next parse (found by the lexer work; it overflowed the stack before
    /// the windows were checked as the whole text is).
    #[test]
    fn recovery_cannot_expose_deep_nesting_a_comment_hid() {
        let text = format!(
            "b {{\n  x = = /*\n  y = {}\n  */ ]\n}}\n",
            "[".repeat(20_000)
        );
        let (_, diags) = parse(FileId(0), &text);
        assert!(
            !diags.is_empty() && diags.len() <= MAX_SYNTAX_ERRORS,
            "{diags:?}"
        );
    }

    #[test]
    fn huge_numbers_do_not_panic() {
        let (_, diags) = parse(FileId(0), "b { x = 99999999999999999999999999 }");
        assert_eq!(diags[0].code, registry::BAD_LITERAL);
    }
}
#[cfg(test)]
mod window_tests {
    /// A repair that blanks the `*/` closing a comment opened blocks
    /// before makes the comment run on past the window's end: the windowed
    /// recovery must then reach what a whole parse reaches (found by the
    /// parser differential test, `tests/site/parse_differential.rs`).
    #[test]
    fn a_repair_that_reopens_a_comment_is_judged_on_the_whole_text() {
        let text = "zos A {\n  addres/*s = 10.2.0.9\n  x = 2\n}\n\nzos B {\n  y = 1\n}\n\nzos C {\n  export = dataset(\"D.E\"/* \" */, format = certb64)\n}\n\nzos D {\n  z = 1\n}\n\nzos E {\n  format = pkcs/* c */12der\n}\n";
        let file = crate::source::FileId(3);
        let windowed = super::parse_recovering(file, text, true);
        let whole = super::parse_recovering(file, text, false);
        assert_eq!(windowed, whole);
        assert!(
            whole.1.len() > 1,
            "the repaired text must reach the second error: {:?}",
            whole.1
        );
    }
}
