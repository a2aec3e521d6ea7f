//! Diagnostics as the product: ten mistakes in one run, SARIF that
//! validates against the SARIF 2.1.0 schema, JSON lines with a stable shape,
//! and human output without colour when there is no terminal or NO_COLOR.

mod common;

use common::{root, tenantc};
use std::collections::BTreeSet;
use std::process::Command;

const TEN: &str = "tests/fixtures/ten_mistakes.tenant";

fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn ten_mistakes_give_ten_coded_diagnostics_in_one_run() {
    // The fixture marks each mistake with a `# mistake N` comment.
    let text = std::fs::read_to_string(root().join(TEN)).expect("fixture");
    let marked: BTreeSet<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("# mistake "))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(marked.len(), 10);

    let o = tenantc(&["check", "--diagnostics-format", "json", TEN]);
    assert_eq!(o.status.code(), Some(1));
    let diags = json_lines(&o.stdout);
    let lines: BTreeSet<u64> = diags
        .iter()
        .map(|d| d["start"]["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(diags.len(), 10, "{diags:#?}");
    assert_eq!(lines, marked, "one diagnostic on each marked line");
    let codes: BTreeSet<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(codes.len() >= 8, "{codes:?}");
    for d in &diags {
        assert!(
            d["help"].as_str().is_some_and(|h| !h.is_empty()),
            "no help: {d}"
        );
    }
    // Typos get the nearest name.
    for (typo, name) in [
        ("secuirty", "security"),
        ("zcx_cs", "zcx_ca"),
        ("workloads", "workload"),
    ] {
        let line = text
            .lines()
            .position(|l| l.contains(typo))
            .expect("typo in fixture") as u64
            + 1;
        let d = diags
            .iter()
            .find(|d| d["start"]["line"] == line)
            .unwrap_or_else(|| panic!("nothing on line {line}"));
        assert!(
            d["help"]
                .as_str()
                .is_some_and(|h| h.contains(&format!("`{name}`"))),
            "{d}"
        );
    }

    // The same run for people, reviewed as a snapshot.
    let o = tenantc(&["check", TEN]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        stderr.matches("\n  × ").count() + usize::from(stderr.starts_with("  × ")),
        10,
        "{stderr}"
    );
    insta::with_settings!({ snapshot_path => root().join("snapshots/diagnostics"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("ten_mistakes", stderr);
    });
}

/// Validates a SARIF log against schemas/sarif-2.1.0.schema.json.
fn assert_valid_sarif(log: &[u8], name: &str) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_slice(log).expect("SARIF is JSON");
    let Some(python) = common::python_with_jsonschema() else {
        return value;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let path = camino::Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .join(format!("{name}.sarif.json"));
    std::fs::write(&path, log).expect("write");
    let (ok, out) = common::schema_check(&python, "sarif-2.1.0.schema.json", &[path]);
    assert!(ok, "{name}: {out}");
    value
}

#[test]
fn sarif_validates_against_the_sarif_schema() {
    // Ten mistakes, related labels across files, and a clean site.
    let cases: [(&str, &[&str], i32); 3] = [
        ("ten", &[TEN], 1),
        ("cross_file", &["tests/fixtures/cross_file"], 1),
        ("clean", &["examples/px-pure-saw"], 0),
    ];
    for (name, specs, exit) in cases {
        let mut args = vec!["check", "--diagnostics-format", "sarif"];
        args.extend_from_slice(specs);
        let o = tenantc(&args);
        assert_eq!(o.status.code(), Some(exit), "{name}");
        let log = assert_valid_sarif(&o.stdout, name);
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), tenantc::diagnostics::registry::all().len());
        let results = run["results"].as_array().expect("results");
        // Fixes carry their replacement and whether they are safe.
        let fixes: Vec<&serde_json::Value> =
            results.iter().filter_map(|r| r.get("fixes")).collect();
        if name == "ten" {
            assert!(!fixes.is_empty(), "no result with a fix");
        }
        for f in fixes {
            let a = &f[0]["properties"]["applicability"];
            assert!(a == "safe" || a == "guess", "{f}");
            assert!(
                f[0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"]
                    .is_string(),
                "{f}"
            );
        }
        match name {
            "ten" => assert_eq!(results.len(), 10),
            "clean" => assert!(results.is_empty()),
            _ => assert!(!results.is_empty()),
        }
        for r in results {
            let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules[index]["id"], r["ruleId"], "ruleIndex names the rule");
            let loc = &r["locations"][0]["physicalLocation"];
            assert!(loc["region"]["startLine"].as_u64().is_some_and(|l| l > 0));
            assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        }
        if name == "cross_file" {
            // A relation across files names both ends.
            let related: Vec<&str> = results
                .iter()
                .flat_map(|r| r["relatedLocations"].as_array().into_iter().flatten())
                .filter_map(|l| l["physicalLocation"]["artifactLocation"]["uri"].as_str())
                .collect();
            // Errors: a warning elsewhere (E0506) is not a relation.
            let primary: BTreeSet<&str> = results
                .iter()
                .filter(|r| r["level"] != "warning")
                .filter_map(|r| {
                    r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str()
                })
                .collect();
            assert!(
                related.iter().any(|u| !primary.contains(u)),
                "no related location in another file: {related:?} vs {primary:?}"
            );
        }
    }
    // compile speaks SARIF too, and a log that breaks the schema is caught.
    let out = tempfile::tempdir().expect("tmp");
    let target = out.path().join("b");
    let o = tenantc(&[
        "compile",
        "--diagnostics-format",
        "sarif",
        TEN,
        "--out",
        target.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let mut log = assert_valid_sarif(&o.stdout, "compile");
    if let Some(python) = common::python_with_jsonschema() {
        log["runs"][0]["results"][0]["level"] = "fatal".into();
        let path = camino::Utf8PathBuf::from_path_buf(out.path().join("broken.sarif.json"))
            .expect("utf-8");
        std::fs::write(&path, serde_json::to_vec(&log).expect("json")).expect("write");
        let (ok, _) = common::schema_check(&python, "sarif-2.1.0.schema.json", &[path]);
        assert!(!ok, "the schema check accepts an invalid level");
    }
}

#[test]
fn json_lines_have_a_stable_shape() {
    let o = tenantc(&["check", "--diagnostics-format", "json", TEN]);
    let lines = json_lines(&o.stdout);
    assert_eq!(lines.len(), 10);
    assert!(
        lines.iter().any(|d| d.get("fix").is_some()),
        "no line with a fix"
    );
    for d in lines {
        let keys: Vec<&str> = d
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let base = [
            "code", "severity", "message", "file", "start", "end", "label", "help", "related",
        ];
        // `fix` (a machine-applicable replacement) comes last, when there is one.
        assert!(
            keys == base || (keys[..base.len()] == base && keys[base.len()..] == ["fix"]),
            "{keys:?}"
        );
        if let Some(fix) = d.get("fix") {
            let keys: Vec<&str> = fix
                .as_object()
                .expect("fix object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                ["title", "file", "start", "end", "text", "applicability"]
            );
            assert!(
                ["safe", "guess"].contains(&fix["applicability"].as_str().unwrap_or("")),
                "{fix}"
            );
        }
        for pos in ["start", "end"] {
            let p = d[pos].as_object().expect("position");
            assert_eq!(
                p.keys().map(String::as_str).collect::<Vec<_>>(),
                ["line", "column"]
            );
        }
    }
}

#[test]
fn human_output_has_no_colour_without_a_terminal() {
    // Tests run without a terminal; with and without NO_COLOR the output
    // must carry no escape sequences.
    for no_color in [true, false] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tenantc"));
        cmd.args(["check", TEN]).current_dir(root());
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let o = cmd.output().expect("runs");
        assert_eq!(o.status.code(), Some(1));
        assert!(
            !o.stderr.contains(&0x1b),
            "escape codes with NO_COLOR={no_color}"
        );
        assert!(String::from_utf8_lossy(&o.stderr).contains("E0301"));
    }
}

/// Codes of `tenantc::analyze` on one spec.
fn codes_of(text: &str) -> Vec<String> {
    let (_d, path) = common::spec_in_tmp(text);
    let a = tenantc::analyze(&[path], &tenantc::Options::default()).expect("analysis");
    a.diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}@{}",
                d.code,
                a.sources
                    .line_col(d.primary.span.file, d.primary.span.start)
                    .0
            )
        })
        .collect()
}

#[test]
fn a_skipped_statement_hides_only_what_it_declared() {
    // The skipped `cluster = c1 c2` explains nothing about tenant b, whose
    // missing cluster is reported.
    let text = "cluster c1 { kind = kubernetes }\n\ntenant a {\n  cluster = c1 c2\n  namespace = \"a\"\n}\n\ntenant b {\n  namespace = \"b\"\n}\n";
    let codes = codes_of(text);
    assert!(codes.contains(&"E0302@8".to_string()), "{codes:?}");
    // A label lost to a syntax error is not reported missing as well.
    let text = "zos S {\n  address = 10.1.1.1\n  authority ca {\n    owner = CERTAUTH\n    label  \"x\"\n    subject = { CN = \"a\" }\n    key = rsa(2048)\n    export = dataset(\"A.B\", format = certb64)\n  }\n}\n";
    assert_eq!(codes_of(text), ["E0101@5"]);
}

#[test]
fn machine_readable_stdout_carries_only_diagnostics() {
    // `fmt --check` with JSON diagnostics: the diff goes to stderr, so
    // stdout stays JSON lines for scripts.
    let dir = tempfile::tempdir().expect("tmp");
    let messy = dir.path().join("messy.tenant");
    let broken = dir.path().join("broken.tenant");
    std::fs::write(&messy, "cluster c {kind=kubernetes}\n").expect("write");
    std::fs::write(&broken, "cluster c { kind =\n").expect("write");
    let o = tenantc(&[
        "fmt",
        "--check",
        "--diagnostics-format",
        "json",
        messy.to_str().expect("utf-8"),
        broken.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let diags = json_lines(&o.stdout);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "E0101");
    assert!(String::from_utf8_lossy(&o.stderr).contains("+cluster c { kind = kubernetes }"));
}

/// With a date and a window (flags: tenantc never reads the clock), the
/// certificates ending within the window are warned about, and only those:
/// zcx-nfs dates its certificates from 2027-01-04, the client and server
/// ones for 2 years, the authority for 10.
#[test]
fn certificates_ending_within_the_renewal_window_are_warned_about() {
    let o = tenantc(&[
        "check",
        "examples/zcx-nfs",
        "--today",
        "2028-12-01",
        "--renew-within",
        "60",
    ]);
    assert_eq!(o.status.code(), Some(0), "warnings do not fail a check");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(codes_of_output(&stderr), ["E0441", "E0441"], "{stderr}");
    assert!(!stderr.contains("authority"), "{stderr}");
    insta::with_settings!({ snapshot_path => root().join("snapshots/diagnostics"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("renewal_window", stderr);
    });
    // A day before the window reaches them: nothing.
    let early = tenantc(&[
        "check",
        "examples/zcx-nfs",
        "--today",
        "2028-11-04",
        "--renew-within",
        "60",
    ]);
    assert!(!String::from_utf8_lossy(&early.stderr).contains("E0441"));
    // The flags go together, and the date must be one.
    let alone = tenantc(&["check", "examples/zcx-nfs", "--today", "2028-12-01"]);
    assert_eq!(alone.status.code(), Some(2));
    let bad = tenantc(&[
        "check",
        "examples/zcx-nfs",
        "--today",
        "soon",
        "--renew-within",
        "1",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

fn codes_of_output(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| {
            l.len() == 5 && l.starts_with('E') && l[1..].chars().all(|c| c.is_ascii_digit())
        })
        .collect()
}

/// N7: a workload without `user` on plain Kubernetes gets runAsNonRoot and no
/// UID, which the kubelet refuses for an image whose USER is root or a name:
/// the check warns (E0506), with the reason, and the compile goes on.
#[test]
fn a_workload_without_user_on_plain_kubernetes_is_warned_about() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    for f in ["site.tenant", "customer1.tenant", "customer2.tenant"] {
        let text =
            std::fs::read_to_string(root().join("examples/px-pure-saw").join(f)).expect("read");
        let text = if f == "customer1.tenant" {
            let t = text.replace("    user     = 999\n", "");
            assert_ne!(t, text);
            t
        } else {
            text
        };
        std::fs::write(dir.join(f), text).expect("write");
    }
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tenantc"))
        .args(["check", "."])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        o.status.code(),
        Some(0),
        "a warning, not an error: {stderr}"
    );
    assert!(stderr.contains("E0506"), "{stderr}");
    insta::with_settings!({ snapshot_path => root().join("snapshots/diagnostics"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("workload_without_user", stderr);
    });
}
