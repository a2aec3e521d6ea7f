//! Diagnostics: what every stage reports, and how it is shown.
//!
//! Stages never print and never stop at the first problem: they push
//! [`Diagnostic`]s into a list, and the CLI renders them all at the end, as
//! miette reports for people, as JSON lines for scripts, or as a SARIF log
//! for code-scanning tools. Every diagnostic
//! has a stable code from [`registry`], a primary span, related labels that may
//! point into other files, and a help line.

pub mod registry;
mod render;
mod sarif;

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
        Diagnostic {
            code,
            severity: code.info().severity,
            message: cap(message.into()),
            primary: Label {
                span,
                message: cap(label.into()),
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
            message: cap(message.into()),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = cap(help.into());
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
            title: cap(title.into()),
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

fn cap(s: String) -> String {
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
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FFFE}' | '\u{FFFF}')
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

/// Sorts diagnostics into a stable order (file, position, code) and drops
/// exact duplicates, so output never depends on the order checks ran in.
pub fn normalize(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        (a.primary.span, a.code.as_str(), &a.message).cmp(&(
            b.primary.span,
            b.code.as_str(),
            &b.message,
        ))
    });
    diags.dedup();
}

/// Edit distance based suggestion: the closest candidate within a third of
/// the name's length, for "did you mean" help lines.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (levenshtein(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn levenshtein_basics() {
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }
}
