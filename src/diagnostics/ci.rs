//! Diagnostics in the formats CI systems show inline on a change:
//! GitHub Actions workflow commands and GitLab Code Quality reports.

use super::{Diagnostic, Severity};
use crate::source::SourceMap;
use sha2::{Digest, Sha256};

/// `%`, CR and LF in a workflow command's message, as the Actions toolkit's
/// `escapeData` writes them
/// (https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts);
/// the runner decodes them back.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value additionally escapes `:` and `,`, which delimit the
/// properties (`escapeProperty` in the same file).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command per diagnostic, as documented in "Workflow commands
/// for GitHub Actions" (setting an error / warning message,
/// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands):
/// `::error file={name},line={line},col={col},endLine={endLine},endColumn={endColumn},title={title}::{message}`.
/// The runner turns each into an annotation on the file and lines in the
/// change; the title carries the code, so a log search for it finds the line.
pub fn render_github(map: &SourceMap, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let span = d.primary.span;
        let (line, col) = map.line_col(span.file, span.start);
        let (end_line, end_col) = map.line_col(span.file, span.end.max(span.start));
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let file = map.get(span.file).name.as_str();
        let file = file.strip_prefix("./").unwrap_or(file);
        let mut message = d.message.clone();
        if !d.primary.message.is_empty() {
            message.push_str(&format!(" ({})", d.primary.message));
        }
        if !d.help.is_empty() {
            message.push_str(&format!("\nhelp: {}", d.help));
        }
        message.push_str(&format!("\n`tenantc explain {}` says more", d.code));
        out.push_str(&format!(
            "::{command} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}\n",
            escape_property(file),
            escape_property(&format!("tenantc {}", d.code)),
            escape_data(&message),
        ));
    }
    out
}

/// GitLab's Code Quality report: one JSON array of issues with the fields
/// GitLab documents as required (`description`, `check_name`,
/// `fingerprint`, `severity`, `location.path`, `location.lines.begin`;
/// https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format).
/// The fingerprint is stable across runs and edits elsewhere in the file
/// (code, file, message and how many identical ones came before, not the
/// line), so a merge request shows only the issues it adds or fixes.
pub fn render_gitlab(map: &SourceMap, diags: &[Diagnostic]) -> String {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let issues: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let span = d.primary.span;
            let (line, _) = map.line_col(span.file, span.start);
            let (end_line, _) = map.line_col(span.file, span.end.max(span.start));
            let name = map.get(span.file).name.as_str();
            let path = name.strip_prefix("./").unwrap_or(name);
            let key = format!("{}\u{0}{path}\u{0}{}", d.code, d.message);
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            let fingerprint = Sha256::digest(format!("{key}\u{0}{n}").as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>();
            let mut description = format!("{}: {}", d.code, d.message);
            if !d.help.is_empty() {
                description.push_str(&format!(" (help: {})", d.help));
            }
            serde_json::json!({
                "description": description,
                "check_name": d.code.as_str(),
                "fingerprint": fingerprint,
                // GitLab's scale is info, minor, major, critical, blocker:
                // an error stops the compile of the whole site.
                "severity": match d.severity {
                    Severity::Error => "critical",
                    Severity::Warning => "minor",
                },
                "location": {
                    "path": path,
                    "lines": { "begin": line, "end": end_line },
                },
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_escape_as_the_toolkit_does() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(
            escape_property("a:b,c%\n"),
            "a%3Ab%2Cc%25%0A",
            "':' and ',' delimit properties"
        );
    }
}
