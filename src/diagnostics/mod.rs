//! Diagnostics: what every stage reports, and how it is shown.
//!
//! Stages never print and never stop at the first problem: they push
//! [`Diagnostic`]s into a list, and the CLI renders them all at the end, as
//! miette reports for people, as JSON lines for scripts, or as a SARIF log
//! for code-scanning tools. Every diagnostic
//! has a stable code from [`registry`], a primary span, related labels that may
//! point into other files, and a help line.

mod ci;
pub mod registry;
mod render;
mod sarif;

pub use ci::{render_github, render_gitlab};
pub use registry::Code;
pub use render::{render_human, render_json, HumanStyle};
pub use sarif::render_sarif;

use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A labelled span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A machine-applicable fix that a diagnostic suggests: replace the text at
/// `span` with `text` (an empty span inserts). Editors offer it as a quick
/// fix; `--diagnostics-format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, in words: "replace `x` with `y`".
    pub title: String,
    pub span: Span,
    pub text: String,
    pub applicability: Applicability,
}

/// Whether a fix may be applied without a person looking at it, as rustc's
/// `Applicability` and ruff's safe/unsafe fixes say: in JSON and SARIF as
/// `"safe"` or `"guess"`; in the editor only a safe fix is the preferred
/// quick fix (the one "fix all" and fix-on-save apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// The edit is what the spec must say: applying it cannot change what
    /// the author meant (a proxy's ports aligned to its server's).
    Safe,
    /// A likely edit that a person should confirm (a misspelt name's
    /// nearest match; granting a node's address AT-TLS access).
    Guess,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub related: Vec<Label>,
    pub help: String,
    /// The edit the help line describes, where it is mechanical.
    pub fix: Option<Fix>,
    /// The field or block a missing-field diagnostic is about, for the
    /// analysis to recognise follow-on errors by structure, not by reading
    /// the message. Not rendered.
    pub subject: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity; `label` explains the
    /// primary span.
    pub fn new(
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Diagnostic {
            code,
            severity: code.info().severity,
            message: clean(message.into(), false),
            primary: Label {
                span,
                message: clean(label.into(), false),
            },
            related: Vec::new(),
            help: String::new(),
            fix: None,
            subject: None,
        }
    }

    /// Points at the other end of the relation.
    pub fn related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Label {
            span,
            message: clean(message.into(), false),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = clean(help.into(), true);
        self
    }

    /// Names the field or block the diagnostic is about (see `subject`).
    pub fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Attaches the mechanical edit the help line describes.
    pub fn fix(
        mut self,
        applicability: Applicability,
        title: impl Into<String>,
        span: Span,
        text: impl Into<String>,
    ) -> Self {
        self.fix = Some(Fix {
            title: clean(title.into(), false),
            span,
            text: text.into(),
            applicability,
        });
        self
    }

    /// The usual "did you mean" fix: replace the name at `span`.
    pub fn replace_with(self, span: Span, found: &str, suggestion: &str) -> Self {
        self.fix(
            Applicability::Guess,
            format!("replace `{found}` with `{suggestion}`"),
            span,
            suggestion,
        )
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Longest message, label or help text; hostile values (a 10 MB string) are
/// cut in the middle rather than echoed.
const MAX_TEXT: usize = 300;

/// A message, label, help or title as every output (terminal, JSON, SARIF,
/// the editor) shows it: control characters escaped (see
/// [`printable_with`]; newlines kept only where `keep_newlines`), and
/// capped at [`MAX_TEXT`].
fn clean(s: String, keep_newlines: bool) -> String {
    let s = match printable_with(&s, keep_newlines) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(o) => o,
    };
    if s.len() <= MAX_TEXT {
        return s;
    }
    let head: String = s.chars().take(MAX_TEXT / 2).collect();
    let tail: String = s
        .chars()
        .rev()
        .take(MAX_TEXT / 4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{head}…{tail}")
}

/// `s` with control characters (and the Unicode line and bidirectional
/// controls) written as `\u{..}` escapes, newlines and tabs kept: text a
/// spec supplies, made safe for a terminal, a comment or a log.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    printable_with(s, true)
}

/// [`printable`], with newlines escaped too unless `keep_newlines`: a
/// one-line message or label stays one line.
pub fn printable_with(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && !(keep_newlines && c == '\n') && c != '\t')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            // Invisible: a zero-width space in a name must show.
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
            || crate::confine::is_noncharacter(c)
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Diagnostics this process has built ([`Diagnostic::new`]): a structural
/// measure for the hostile tests (a count, not a time).
static BUILT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many diagnostics this process has built so far.
pub fn built() -> usize {
    BUILT.load(std::sync::atomic::Ordering::Relaxed)
}

/// How many diagnostics of one file a pass that reports one per input item
/// (an unknown field, an AT-TLS client no node has) builds; past it, it
/// only counts them ([`Budget`]). More than [`MAX_PER_FILE`], so the cap
/// still has diagnostics of other passes to choose the first from.
pub const BUILD_PER_FILE: usize = 2 * MAX_PER_FILE;

/// A pass's per-file budget of diagnostics built: red team 2026-12b N16,
/// 31 MB of unknown fields built 2.5 million diagnostics (2.4 GB) before
/// the cap kept 100. Past [`BUILD_PER_FILE`] of a file the pass counts
/// instead of formatting; [`Budget::summaries`] gives one diagnostic per
/// file with the counts, which [`normalize`] folds into its "not shown"
/// summary and [`totals`] into the totals.
#[derive(Debug, Default)]
pub struct Budget {
    per_file: std::collections::HashMap<crate::source::FileId, Spent>,
}

#[derive(Debug)]
struct Spent {
    built: usize,
    errors: usize,
    warnings: usize,
    first: Span,
}

impl Budget {
    /// Whether the pass may build a diagnostic at `span` (of this code's
    /// severity); when not, it is counted.
    pub fn admit(&mut self, span: Span, code: Code) -> bool {
        let spent = self.per_file.entry(span.file).or_insert(Spent {
            built: 0,
            errors: 0,
            warnings: 0,
            first: span,
        });
        if spent.built < BUILD_PER_FILE {
            spent.built += 1;
            return true;
        }
        if spent.errors + spent.warnings == 0 {
            spent.first = span;
        }
        match code.info().severity {
            Severity::Error => spent.errors += 1,
            _ => spent.warnings += 1,
        }
        false
    }

    /// One diagnostic per file with uncounted ones: a [`registry::TOO_MANY`]
    /// whose subject is `counted:<errors>:<warnings>`.
    pub fn summaries(self) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = self
            .per_file
            .into_values()
            .filter(|s| s.errors + s.warnings > 0)
            .map(|s| {
                let mut d = Diagnostic::new(registry::TOO_MANY, s.first, "counted, not built", "");
                if s.errors == 0 {
                    d.severity = Severity::Warning;
                }
                d.subject = Some(format!("counted:{}:{}", s.errors, s.warnings));
                d
            })
            .collect();
        out.sort_by_key(|d| d.primary.span);
        out
    }
}

/// The counts of a [`Budget::summaries`] diagnostic.
fn counted(d: &Diagnostic) -> Option<(usize, usize)> {
    d.subject
        .as_deref()
        .filter(|_| d.code == registry::TOO_MANY)
        .and_then(|s| s.strip_prefix("counted:"))
        .and_then(|s| s.split_once(':'))
        .and_then(|(e, w)| Some((e.parse().ok()?, w.parse().ok()?)))
}

/// Diagnostics reported for one file; the rest are counted in one
/// [`registry::TOO_MANY`] (a hostile spec can produce hundreds of thousands,
/// and nobody reads past the first screen of them).
pub const MAX_PER_FILE: usize = 100;

/// Sorts diagnostics into a stable order (file, position, code), drops
/// exact duplicates, so output never depends on the order checks ran in,
/// and keeps the first [`MAX_PER_FILE`] of each file (by primary span).
pub fn normalize(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        (a.primary.span, a.code.as_str(), &a.message).cmp(&(
            b.primary.span,
            b.code.as_str(),
            &b.message,
        ))
    });
    diags.dedup();
    drop_literal_cascades(diags);
    cap_per_file(diags);
}

/// Drops what follows from a literal already reported as invalid (E0102): a
/// number too large for 64 bits reads as 0, and `99999999999999999999..1`
/// then also gave "`0..1` is not a valid port range". A diagnostic whose span
/// holds an invalid literal's says nothing new.
fn drop_literal_cascades(diags: &mut Vec<Diagnostic>) {
    let literals: Vec<crate::source::Span> = diags
        .iter()
        .filter(|d| d.code == registry::BAD_LITERAL)
        .map(|d| d.primary.span)
        .collect();
    if literals.is_empty() {
        return;
    }
    diags.retain(|d| {
        if d.code == registry::BAD_LITERAL {
            return true;
        }
        let s = d.primary.span;
        let from = literals.partition_point(|l| (l.file, l.start) < (s.file, s.start));
        !literals[from..]
            .iter()
            .take_while(|l| l.file == s.file && l.start <= s.end)
            .any(|l| l.end <= s.end)
    });
}

/// Keeps the first [`MAX_PER_FILE`] diagnostics of each file of a sorted
/// list (sorted by span, so a file's diagnostics are contiguous), followed
/// by one [`too_many`] that counts the rest.
fn cap_per_file(diags: &mut Vec<Diagnostic>) {
    let same_file = |a: &Diagnostic, b: &Diagnostic| a.primary.span.file == b.primary.span.file;
    // What passes counted instead of building ([`Budget`]), by file.
    let mut extra: std::collections::HashMap<crate::source::FileId, (usize, usize, Span)> =
        std::collections::HashMap::new();
    if diags.iter().any(|d| counted(d).is_some()) {
        diags.retain(|d| match counted(d) {
            Some((e, w)) => {
                let x = extra
                    .entry(d.primary.span.file)
                    .or_insert((0, 0, d.primary.span));
                x.0 += e;
                x.1 += w;
                false
            }
            None => true,
        });
    }
    if extra.is_empty() && !diags.chunk_by(same_file).any(|c| c.len() > MAX_PER_FILE) {
        return;
    }
    let mut out = Vec::with_capacity(diags.len());
    let mut it = std::mem::take(diags).into_iter().peekable();
    while let Some(first) = it.next() {
        let mut group = vec![first];
        while let Some(d) = it.next_if(|d| same_file(d, &group[0])) {
            group.push(d);
        }
        let more = extra.remove(&group[0].primary.span.file);
        if group.len() > MAX_PER_FILE || more.is_some() {
            let hidden = group.split_off(group.len().min(MAX_PER_FILE));
            group.push(too_many(&hidden, more));
        }
        out.extend(group);
    }
    // A file whose only diagnostics were counted.
    let mut rest: Vec<_> = extra.into_values().collect();
    rest.sort_by_key(|x| x.2);
    for more in rest {
        out.push(too_many(&[], Some(more)));
    }
    *diags = out;
}

/// The summary of the diagnostics [`cap_per_file`] leaves out, at the first
/// of them: an error when any of them is one, so a capped list still fails.
fn too_many(hidden: &[Diagnostic], counted: Option<(usize, usize, Span)>) -> Diagnostic {
    let (more_errors, more_warnings) = counted.map_or((0, 0), |c| (c.0, c.1));
    let errors = hidden.iter().filter(|d| d.is_error()).count() + more_errors;
    let total = hidden.len() + more_errors + more_warnings;
    let what = match errors {
        0 => "all warnings".to_string(),
        n if n == total => format!("{n} errors"),
        n => format!("{n} errors, {} warnings", total - n),
    };
    // Callers give hidden diagnostics, counted ones, or both.
    let at = match (hidden.first(), counted) {
        (Some(d), _) => d.primary.span,
        (None, Some(c)) => c.2,
        (None, None) => Span::new(crate::source::FileId(0), 0, 0),
    };
    let mut d = Diagnostic::new(
        registry::TOO_MANY,
        at,
        format!("{total} more diagnostics in this file are not shown ({what})"),
        "the first one not shown is here",
    )
    .help(format!(
        "only the first {MAX_PER_FILE} diagnostics of a file are reported, and they often share one cause: fix those and check again"
    ));
    if errors == 0 {
        d.severity = Severity::Warning;
    }
    d.subject = Some(format!("hidden:{errors}:{}", total - errors));
    d
}

/// The errors and warnings `diags` stand for: each one, but a [`too_many`]
/// summary counts the diagnostics it hides (so the total says 501 errors,
/// not 101, when E0002 hides 400).
pub fn totals(diags: &[Diagnostic]) -> (usize, usize) {
    let (mut errors, mut warnings) = (0, 0);
    for d in diags {
        let hidden = d
            .subject
            .as_deref()
            .filter(|_| d.code == registry::TOO_MANY)
            .and_then(|s| s.strip_prefix("hidden:"))
            .and_then(|s| s.split_once(':'))
            .and_then(|(e, w)| Some((e.parse::<usize>().ok()?, w.parse::<usize>().ok()?)));
        match hidden {
            Some((e, w)) => {
                errors += e;
                warnings += w;
            }
            None if d.is_error() => errors += 1,
            None => warnings += 1,
        }
    }
    (errors, warnings)
}

/// Edit distance based suggestion: the closest candidate within a third of
/// the name's length, for "did you mean" help lines. Candidates whose length
/// alone puts them out of reach are skipped unread, and the distance stops
/// as soon as it exceeds the limit, so a site of thousands of names costs a
/// pass over their lengths per unresolved name.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let a: Vec<char> = name.to_lowercase().chars().collect();
    let (mut b, mut rows) = (Vec::new(), (Vec::new(), Vec::new()));
    let mut best: Option<(usize, &str)> = None;
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    // Two or more names of the series `name` belongs to: the wrong index
    // names none of them more than another.
    let series = candidates
        .iter()
        .filter(|c| **c != name && other_of_a_series(name, c))
        .take(2)
        .count()
        == 2;
    for c in candidates {
        if c == name || (series && other_of_a_series(name, c)) {
            continue;
        }
        b.clear();
        b.extend(c.chars().flat_map(char::to_lowercase));
        if b.len().abs_diff(a.len()) > limit {
            continue;
        }
        if let Some(d) = levenshtein_within(&a, &b, limit, &mut rows) {
            if best.is_none_or(|(bd, bc)| (d, c) < (bd, bc)) {
                best = Some((d, c));
            }
        }
    }
    best.map(|(_, c)| c)
}

/// Whether two names are members of one numbered series that differ only in
/// their trailing index of one or two digits (`nfs5` and `nfs2`, `worker4`
/// and `worker3`). Where the candidates hold two or more of the series, a
/// wrong index is not a misspelling of any one of them, and "did you mean
/// `nfs2`?" for `nfs5` sends the author to another version or node than
/// the one they meant: no suggestion (the help's list of allowed values, or
/// of the names in scope, still shows the series). A series of one (`fa9`
/// for a renamed `fa1`) is still suggested, and so is a longer number, a
/// constant whose digits can be mistyped (`SHA348` for `SHA384`).
fn other_of_a_series(name: &str, candidate: &str) -> bool {
    let split = |s: &str| {
        let stem = s.trim_end_matches(|c: char| c.is_ascii_digit());
        (stem.to_lowercase(), s.len() - stem.len())
    };
    let (stem_a, digits_a) = split(name);
    let (stem_b, digits_b) = split(candidate);
    (1..=2).contains(&digits_a)
        && (1..=2).contains(&digits_b)
        && !stem_a.is_empty()
        && stem_a == stem_b
}

/// The edit distance between two short texts, if it is at most a third of
/// the longer one's length (at least 1).
pub fn edit_distance(a: &str, b: &str) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let limit = (a.len().max(b.len()) / 3).max(1);
    levenshtein_within(&a, &b, limit, &mut (Vec::new(), Vec::new()))
}

/// The edit distance between `a` and `b`, or `None` as soon as it must
/// exceed `limit` (every entry of a row is over it); `rows` are buffers
/// reused across calls.
fn levenshtein_within(
    a: &[char],
    b: &[char],
    limit: usize,
    rows: &mut (Vec<usize>, Vec<usize>),
) -> Option<usize> {
    let (prev, cur) = rows;
    prev.clear();
    prev.extend(0..=b.len());
    for (i, ca) in a.iter().enumerate() {
        cur.clear();
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let v = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            cur.push(v);
        }
        if cur.iter().all(|v| *v > limit) {
            return None;
        }
        std::mem::swap(prev, cur);
    }
    let d = prev[b.len()];
    (d <= limit).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_number_is_not_a_misspelling() {
        assert_eq!(suggest("nfs5", ["nfs2", "nfs3", "nfs4"]), None);
        assert_eq!(suggest("worker4", ["worker1", "worker3"]), None);
        // A misspelt stem still gets its name.
        assert_eq!(suggest("nfx4", ["nfs2", "nfs3", "nfs4"]), Some("nfs4"));
        assert_eq!(suggest("wroker3", ["worker1", "worker3"]), Some("worker3"));
        assert_eq!(suggest("SHA348", ["SHA256", "SHA384"]), Some("SHA384"));
        // The only one of its series: a renamed declaration.
        assert_eq!(suggest("fa1", ["fa9", "k8s1"]), Some("fa9"));
    }

    #[test]
    fn suggests_the_nearest_name() {
        let names = ["my_registry", "other", "zcx_ca"];
        assert_eq!(suggest("my_regsitry", names), Some("my_registry"));
        assert_eq!(suggest("zcx_CA", names), Some("zcx_ca"));
        assert_eq!(suggest("completely_different", names), None);
    }

    #[test]
    fn long_texts_are_capped() {
        let d = Diagnostic::new(
            registry::SYNTAX,
            crate::source::Span::new(crate::source::FileId(0), 0, 1),
            "x".repeat(1_000_000),
            "y".repeat(5000),
        );
        assert!(d.message.len() < 2 * MAX_TEXT && d.primary.message.len() < 2 * MAX_TEXT);
    }

    #[test]
    fn texts_carry_no_control_characters() {
        let d = Diagnostic::new(
            registry::SYNTAX,
            crate::source::Span::new(crate::source::FileId(0), 0, 1),
            "name `a\u{1b}[2Jb` is\nunknown",
            "label\r\u{7f}",
        )
        .related(
            crate::source::Span::new(crate::source::FileId(0), 0, 1),
            "x\u{0}y",
        )
        .help("line one\nline two\u{9b}")
        .fix(
            Applicability::Guess,
            "t\u{1b}",
            crate::source::Span::new(crate::source::FileId(0), 0, 1),
            "keep\u{1b}",
        );
        let texts = [
            &d.message,
            &d.primary.message,
            &d.related[0].message,
            &d.help,
            &d.fix.as_ref().expect("fix").title,
        ];
        for t in texts {
            assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        }
        assert!(!d.message.contains('\n') && d.help.contains('\n'));
        assert_eq!(d.message, "name `a\\u{1b}[2Jb` is\\u{a}unknown");
        // The fix's replacement text is spec text, applied as it is.
        assert_eq!(d.fix.expect("fix").text, "keep\u{1b}");
    }

    fn at(file: u32, start: usize) -> crate::source::Span {
        crate::source::Span::new(crate::source::FileId(file), start, start + 1)
    }

    #[test]
    fn each_file_reports_at_most_the_cap_and_a_count() {
        let mut diags = Vec::new();
        for i in 0..MAX_PER_FILE + 50 {
            // Warnings first, then errors: the hidden tail holds errors.
            let mut d = Diagnostic::new(registry::SYNTAX, at(1, i), "m", "l");
            if i < MAX_PER_FILE + 10 {
                d.severity = Severity::Warning;
            }
            diags.push(d);
        }
        for i in 0..3 {
            diags.push(Diagnostic::new(registry::SYNTAX, at(0, i), "m", "l"));
        }
        diags.reverse();
        normalize(&mut diags);
        assert_eq!(diags.len(), 3 + MAX_PER_FILE + 1);
        let last = diags.last().expect("summary");
        assert_eq!(last.code, registry::TOO_MANY);
        assert!(last.is_error(), "hidden errors keep the list failing");
        assert_eq!(last.primary.span, at(1, MAX_PER_FILE));
        assert_eq!(
            last.message,
            "50 more diagnostics in this file are not shown (40 errors, 10 warnings)"
        );
        // Under the cap, nothing changes.
        let mut few: Vec<_> = (0..MAX_PER_FILE)
            .map(|i| Diagnostic::new(registry::SYNTAX, at(0, i), "m", "l"))
            .collect();
        let before = few.clone();
        normalize(&mut few);
        assert_eq!(few, before);
        // Only warnings hidden: the summary is a warning.
        let mut warn: Vec<_> = (0..MAX_PER_FILE + 1)
            .map(|i| Diagnostic {
                severity: Severity::Warning,
                ..Diagnostic::new(registry::SYNTAX, at(0, i), "m", "l")
            })
            .collect();
        normalize(&mut warn);
        assert!(!warn.last().expect("summary").is_error());
    }

    #[test]
    fn levenshtein_basics() {
        let d = |a: &str, b: &str, limit| {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            levenshtein_within(&a, &b, limit, &mut (Vec::new(), Vec::new()))
        };
        assert_eq!(d("", "abc", 9), Some(3));
        assert_eq!(d("kitten", "sitting", 9), Some(3));
        assert_eq!(d("kitten", "sitting", 2), None);
        assert_eq!(d("same", "same", 0), Some(0));
    }
}
