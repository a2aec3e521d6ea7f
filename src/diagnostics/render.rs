//! Rendering diagnostics for people (miette) and for scripts (JSON lines).

use super::{Diagnostic, Label, Severity};
use crate::source::{SourceMap, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::sync::Arc;

/// How human output looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HumanStyle {
    /// Colours and unicode box drawing (an interactive terminal).
    Color,
    /// Unicode without colours (NO_COLOR, pipes, snapshots).
    Plain,
}

/// A miette view of one [`Diagnostic`]: labels in the primary file are drawn
/// on its snippet, labels in other files become related reports.
struct View {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: NamedSource<Arc<str>>,
    labels: Vec<LabeledSpan>,
    related: Vec<View>,
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View {}

impl miette::Diagnostic for View {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// The texts snippets are drawn from, with control characters replaced
/// (offsets kept), one per file.
type Shown = std::collections::HashMap<crate::source::FileId, Arc<str>>;

fn source_of(map: &SourceMap, shown: &mut Shown, span: Span) -> NamedSource<Arc<str>> {
    let file = map.get(span.file);
    let text = shown
        .entry(span.file)
        .or_insert_with(|| match printable_source(&file.text) {
            Some(t) => Arc::from(t),
            None => file.text.clone(),
        })
        .clone();
    NamedSource::new(&*super::printable(&file.name), text)
}

/// `text` with the control characters a terminal acts on (ESC, a lone CR,
/// DEL, the C1 range, ...) replaced byte for byte by `?`, so spans still fit;
/// `None` when there are none.
fn printable_source(text: &str) -> Option<String> {
    let bad = |c: char, next: Option<char>| {
        (c.is_control() && c != '\n' && c != '\t' && !(c == '\r' && next == Some('\n')))
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if bad(c, chars.peek().copied()) {
            any = true;
            break;
        }
    }
    if !any {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if bad(c, chars.peek().copied()) {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The source of a secret-literal diagnostic: the literal's characters
/// masked (its quotes kept), so the value is never repeated.
fn masked(text: &str, span: Span) -> Arc<str> {
    let (start, end) = (span.start as usize, (span.end as usize).min(text.len()));
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    for (i, c) in text[start..end].char_indices() {
        let edge = i == 0 || start + i + c.len_utf8() == end;
        if edge && c == '"' {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n('*', c.len_utf8()));
        }
    }
    out.push_str(&text[end..]);
    Arc::from(out)
}

fn labeled(span: Span, text: &str, primary: bool) -> LabeledSpan {
    let s = SourceSpan::new((span.start as usize).into(), span.len());
    let text = (!text.is_empty()).then(|| text.to_string());
    if primary {
        LabeledSpan::new_primary_with_span(text, s)
    } else {
        LabeledSpan::new_with_span(text, s)
    }
}

/// How far (in lines) a related label may be from the primary one to share its snippet.
const NEAR_LINES: usize = 6;

/// Source lines longer than this are not excerpted (hostile input).
const MAX_LINE: usize = 1000;

fn line_len(map: &SourceMap, span: Span) -> usize {
    let text = &map.get(span.file).text;
    let start = (span.start as usize).min(text.len());
    let before = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let after = text[start..].find('\n').map_or(text.len(), |i| start + i);
    after - before
}

/// A view without a snippet, naming the place in words instead.
fn bare(map: &SourceMap, d: &Diagnostic) -> View {
    let (line, col) = map.line_col(d.primary.span.file, d.primary.span.start);
    let mut message = format!(
        "{} (at {}:{line}:{col}: {})",
        d.message,
        map.get(d.primary.span.file).name,
        d.primary.message
    );
    for l in &d.related {
        let (rl, rc) = map.line_col(l.span.file, l.span.start);
        message.push_str(&format!(
            "; {} at {}:{rl}:{rc}",
            l.message,
            map.get(l.span.file).name
        ));
    }
    // The texts of a diagnostic are escaped where it is made; the file
    // names joined in here are not.
    View {
        message: super::printable_with(&message, false).into_owned(),
        code: d.code.to_string(),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: (!d.help.is_empty()).then(|| d.help.clone()),
        source: NamedSource::new(String::new(), Arc::from("")),
        labels: Vec::new(),
        related: Vec::new(),
    }
}

fn view(map: &SourceMap, shown: &mut Shown, d: &Diagnostic) -> View {
    let file = d.primary.span.file;
    if std::iter::once(&d.primary)
        .chain(&d.related)
        .any(|l| line_len(map, l.span) > MAX_LINE)
    {
        return bare(map, d);
    }
    let mut labels = vec![labeled(d.primary.span, &d.primary.message, true)];
    let mut related = Vec::new();
    let primary_line = map.line_col(file, d.primary.span.start).0;
    for Label { span, message } in &d.related {
        // Labels near the primary share its snippet; distant ones (or in other
        // files) get a snippet of their own instead of one huge excerpt.
        let near = span.file == file
            && map.line_col(file, span.start).0.abs_diff(primary_line) <= NEAR_LINES;
        if near {
            labels.push(labeled(*span, message, false));
        } else {
            related.push(View {
                message: message.clone(),
                code: String::new(),
                severity: miette::Severity::Advice,
                help: None,
                source: source_of(map, shown, *span),
                labels: vec![labeled(*span, message, true)],
                related: Vec::new(),
            });
        }
    }
    View {
        message: d.message.clone(),
        code: d.code.to_string(),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: (!d.help.is_empty()).then(|| d.help.clone()),
        source: if d.code == super::registry::SECRET_LITERAL {
            let src = source_of(map, shown, d.primary.span);
            let name = src.name().to_string();
            let text = shown.get(&file).cloned().unwrap_or_default();
            NamedSource::new(name, masked(&text, d.primary.span))
        } else {
            source_of(map, shown, d.primary.span)
        },
        labels,
        related,
    }
}

/// Renders diagnostics as miette reports, one after the other.
pub fn render_human(map: &SourceMap, diags: &[Diagnostic], style: HumanStyle) -> String {
    let theme = match style {
        HumanStyle::Color => GraphicalTheme::unicode(),
        HumanStyle::Plain => GraphicalTheme::unicode_nocolor(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    let mut shown = Shown::new();
    for d in diags {
        let v = view(map, &mut shown, d);
        if handler.render_report(&mut out, &v).is_err() {
            out.push_str(&format!(
                "{}[{}]: {}\n",
                severity_word(d.severity),
                d.code,
                d.message
            ));
        }
        out.push('\n');
    }
    out
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[derive(serde::Serialize)]
struct JsonPos {
    line: usize,
    column: usize,
}

#[derive(serde::Serialize)]
struct JsonLabel {
    file: String,
    start: JsonPos,
    end: JsonPos,
    message: String,
}

#[derive(serde::Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    file: String,
    start: JsonPos,
    end: JsonPos,
    label: &'a str,
    help: &'a str,
    related: Vec<JsonLabel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix>,
}

/// A suggested edit: replace `start..end` of `file` with `text`.
#[derive(serde::Serialize)]
struct JsonFix {
    title: String,
    file: String,
    start: JsonPos,
    end: JsonPos,
    text: String,
    applicability: super::Applicability,
}

fn json_label(map: &SourceMap, l: &Label) -> JsonLabel {
    let (sl, sc) = map.line_col(l.span.file, l.span.start);
    let (el, ec) = map.line_col(l.span.file, l.span.end);
    JsonLabel {
        file: map.get(l.span.file).name.clone(),
        start: JsonPos {
            line: sl,
            column: sc,
        },
        end: JsonPos {
            line: el,
            column: ec,
        },
        message: l.message.clone(),
    }
}

/// One JSON object per line; fields are stable for scripts.
pub fn render_json(map: &SourceMap, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let p = json_label(map, &d.primary);
        let j = JsonDiagnostic {
            code: d.code.as_str(),
            severity: d.severity,
            message: &d.message,
            file: p.file,
            start: p.start,
            end: p.end,
            label: &d.primary.message,
            help: &d.help,
            related: d.related.iter().map(|l| json_label(map, l)).collect(),
            fix: d.fix.as_ref().map(|f| {
                let at = json_label(
                    map,
                    &Label {
                        span: f.span,
                        message: String::new(),
                    },
                );
                JsonFix {
                    title: f.title.clone(),
                    file: at.file,
                    start: at.start,
                    end: at.end,
                    text: f.text.clone(),
                    applicability: f.applicability,
                }
            }),
        };
        // Serializing plain structs of strings and numbers cannot fail.
        out.push_str(&serde_json::to_string(&j).unwrap_or_default());
        out.push('\n');
    }
    out
}
