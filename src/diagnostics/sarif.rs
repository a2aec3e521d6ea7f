//! SARIF 2.1.0 output, the format GitHub code scanning and other CI systems
//! read. One log with one run; the run's rules are every code of the
//! registry, so a result's `ruleIndex` is stable across runs.

use super::{registry, Diagnostic, Label, Severity};
use crate::source::{uri_path, SourceMap};
use serde_json::{json, Value};

/// Where a file is: an absolute path as a `file://` URI; a path relative
/// to where tenantc ran against `%SRCROOT%` (how code scanning matches
/// results to the repository); the embedded stdlib against `TENANTC_STDLIB`.
fn artifact(name: &str) -> Value {
    if let Some(rest) = name.strip_prefix("<stdlib>/") {
        json!({ "uri": uri_path(rest), "uriBaseId": "TENANTC_STDLIB" })
    } else if name.starts_with('/') {
        json!({ "uri": format!("file://{}", uri_path(name)) })
    } else {
        let rel = name.strip_prefix("./").unwrap_or(name);
        json!({ "uri": uri_path(rel), "uriBaseId": "%SRCROOT%" })
    }
}

fn location(map: &SourceMap, l: &Label) -> Value {
    let (sl, sc) = map.line_col(l.span.file, l.span.start);
    let (el, ec) = map.line_col(l.span.file, l.span.end.max(l.span.start));
    json!({
        "physicalLocation": {
            "artifactLocation": artifact(&map.get(l.span.file).name),
            "region": {
                "startLine": sl,
                "startColumn": sc,
                "endLine": el,
                // An empty span (end of file) still covers one column.
                "endColumn": if (el, ec) == (sl, sc) { ec + 1 } else { ec },
            }
        }
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The whole SARIF log, pretty-printed, ending with a newline.
pub fn render_sarif(map: &SourceMap, diags: &[Diagnostic]) -> String {
    let codes = registry::all();
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c.code.as_str(),
                "name": rule_name(c.summary),
                "shortDescription": { "text": c.summary },
                "fullDescription": { "text": first_paragraph(c.explanation) },
                "help": { "text": format!("{}\n\n{}\n\n`tenantc explain {}` prints this text.", c.summary, c.explanation, c.code) },
                "defaultConfiguration": { "level": level(c.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let index = codes.iter().position(|c| c.code == d.code).unwrap_or(0);
            let mut text = d.message.clone();
            if !d.primary.message.is_empty() {
                text.push_str(&format!(" ({})", d.primary.message));
            }
            if !d.help.is_empty() {
                text.push_str(&format!("\nhelp: {}", d.help));
            }
            let related: Vec<Value> = d
                .related
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut loc = location(map, l);
                    loc["id"] = json!(i);
                    loc["message"] = json!({ "text": l.message });
                    loc
                })
                .collect();
            let mut r = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": index,
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [location(map, &d.primary)],
            });
            if !related.is_empty() {
                r["relatedLocations"] = json!(related);
            }
            // SARIF 2.1.0 §3.55 (fix) and §3.57 (replacement): the region is
            // the exact one replaced (an empty region inserts). SARIF has no
            // word for a fix's safety; it goes into the fix's property bag
            // (§3.8).
            if let Some(f) = &d.fix {
                let (sl, sc) = map.line_col(f.span.file, f.span.start);
                let (el, ec) = map.line_col(f.span.file, f.span.end.max(f.span.start));
                r["fixes"] = json!([{
                    "description": { "text": f.title },
                    "artifactChanges": [{
                        "artifactLocation": artifact(&map.get(f.span.file).name),
                        "replacements": [{
                            "deletedRegion": {
                                "startLine": sl, "startColumn": sc,
                                "endLine": el, "endColumn": ec,
                            },
                            "insertedContent": { "text": f.text },
                        }],
                    }],
                    "properties": { "applicability": f.applicability },
                }]);
            }
            r
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tenantc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    // A tree of strings and numbers always serializes.
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn first_paragraph(text: &str) -> String {
    text.split("\n\n").next().unwrap_or(text).replace('\n', " ")
}

/// A rule name in the PascalCase SARIF viewers show: "duplicate declaration"
/// becomes `DuplicateDeclaration`.
fn rule_name(summary: &str) -> String {
    summary
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        assert_eq!(
            artifact("examples/a b.tenant")["uri"],
            "examples/a%20b.tenant"
        );
        assert_eq!(artifact("./x.tenant")["uriBaseId"], "%SRCROOT%");
        assert_eq!(artifact("/tmp/x.tenant")["uri"], "file:///tmp/x.tenant");
        assert_eq!(
            artifact("<stdlib>/std/profiles.tenant")["uriBaseId"],
            "TENANTC_STDLIB"
        );
    }

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(
            rule_name("reference to an undeclared name"),
            "ReferenceToAnUndeclaredName"
        );
        assert_eq!(rule_name("RACF/JCL limit"), "RACFJCLLimit");
    }
}
