//! How tenantc fits CI and scripts: the GitHub and GitLab diagnostic
//! formats checked against their documented syntax, `tenantc fix`, and a
//! reader that goes away (`| head`).

use crate::common;

use camino::Utf8PathBuf;
use common::{root, tenantc};
use std::process::{Command, Stdio};

/// The zcx-nfs example with a reversed port range (a safe fix) and a
/// misspelt field (a guess), in a fresh directory named `dir`.
fn broken_site(dir: &str) -> (tempfile::TempDir, Utf8PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = Utf8PathBuf::from_path_buf(tmp.path().join(dir)).expect("utf-8");
    std::fs::create_dir_all(&d).expect("mkdir");
    let text = std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant"))
        .expect("example")
        .replace(
            "ports    = profiles.zos_nfs  # 2043..2049",
            "ports    = 2049..2043",
        )
        .replace("  namespace = \"fios\"", "  namspace = \"fios\"");
    let path = d.join("site.tenant");
    std::fs::write(&path, text).expect("write");
    (tmp, path)
}

/// GitHub's workflow command syntax for annotations
/// (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands):
/// `::error file={name},line={line},col={col},endLine={endLine},endColumn={endColumn},title={title}::{message}`,
/// one a line; property values escape `%`, CR, LF, `:` and `,`; the
/// message escapes `%`, CR and LF (the toolkit's escapeProperty/escapeData).
#[test]
fn github_annotations_follow_the_workflow_command_syntax() {
    // A directory name with the characters a property must escape.
    let (_tmp, path) = broken_site("a,b:c%d");
    let o = tenantc(&["check", path.as_str(), "--diagnostics-format", "github"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one command per diagnostic: {stdout}");
    let unescape = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let mut titles = Vec::new();
    for line in &lines {
        let rest = line
            .strip_prefix("::error ")
            .or_else(|| line.strip_prefix("::warning "))
            .unwrap_or_else(|| panic!("not a workflow command: {line}"));
        let (props, message) = rest.split_once("::").expect("`::` before the message");
        let props: Vec<(&str, &str)> = props
            .split(',')
            .map(|p| p.split_once('=').expect("key=value"))
            .collect();
        let keys: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            ["file", "line", "col", "endLine", "endColumn", "title"],
            "{line}"
        );
        for (k, v) in &props {
            assert!(!v.contains([':', ',', '\n', '\r']), "{k}={v}");
            if matches!(*k, "line" | "col" | "endLine" | "endColumn") {
                assert!(v.parse::<u32>().is_ok_and(|n| n >= 1), "{k}={v}");
            }
        }
        let file = unescape(props[0].1);
        assert_eq!(file, path.as_str(), "the file decodes to the path");
        assert!(!message.contains(['\n', '\r']), "{message}");
        let message = unescape(message);
        assert!(message.contains("\nhelp: "), "{message}");
        titles.push(unescape(props[5].1));
    }
    titles.sort();
    assert_eq!(titles, ["tenantc E0301", "tenantc E0405"]);
    // The typo is at columns 3..11 of its line.
    let text = std::fs::read_to_string(&path).expect("spec");
    let line = 1 + text
        .lines()
        .position(|l| l.contains("namspace"))
        .expect("the typo");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!(",line={line},col=3,endLine={line},endColumn=11,"))),
        "{stdout}"
    );
    // A clean site prints nothing.
    let o = tenantc(&[
        "check",
        "examples/zcx-nfs",
        "--diagnostics-format",
        "github",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty(), "{o:?}");
}

/// GitLab's Code Quality report
/// (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format):
/// a JSON array of issues with `description`, `check_name`, `fingerprint`
/// (unique), `severity` (info, minor, major, critical, blocker),
/// `location.path` (relative to the repository) and `location.lines.begin`.
#[test]
fn gitlab_code_quality_has_the_documented_fields() {
    let (tmp, _path) = broken_site("specs");
    let o = Command::new(env!("CARGO_BIN_EXE_tenantc"))
        .args(["check", "specs", "--diagnostics-format", "gitlab"])
        .current_dir(tmp.path())
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    let issues = v.as_array().expect("an array");
    assert_eq!(issues.len(), 2, "{v}");
    let mut prints = std::collections::BTreeSet::new();
    for i in issues {
        assert!(
            i["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{i}"
        );
        assert!(
            i["check_name"].as_str().is_some_and(|c| c.starts_with('E')),
            "{i}"
        );
        assert!(prints.insert(i["fingerprint"].as_str().expect("fingerprint").to_string()));
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&i["severity"].as_str().expect("severity")),
            "{i}"
        );
        assert_eq!(i["location"]["path"], "specs/site.tenant", "{i}");
        assert!(
            i["location"]["lines"]["begin"]
                .as_u64()
                .is_some_and(|n| n >= 1),
            "{i}"
        );
    }
    // The same input gives the same fingerprints (GitLab compares them
    // between the base and the head of a merge request).
    let again = Command::new(env!("CARGO_BIN_EXE_tenantc"))
        .args(["check", "specs", "--diagnostics-format", "gitlab"])
        .current_dir(tmp.path())
        .output()
        .expect("runs");
    assert_eq!(again.stdout, o.stdout);
    // Clean: an empty report, which closes the issues of the base.
    let o = tenantc(&[
        "check",
        "examples/zcx-nfs",
        "--diagnostics-format",
        "gitlab",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "[]");
}

#[test]
fn fix_applies_safe_fixes_and_guesses_only_when_asked() {
    let (_tmp, path) = broken_site("site");
    let before = std::fs::read_to_string(&path).expect("read");

    // --diff writes nothing.
    let o = tenantc(&["fix", "--diff", path.as_str()]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(diff.contains("+    ports    = 2043..2049"), "{diff}");
    assert!(
        !diff.contains("+  namespace"),
        "no guess without --guess: {diff}"
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);

    // The safe fix only; the typo stays and is reported.
    let o = tenantc(&["fix", path.as_str()]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let after = std::fs::read_to_string(&path).expect("read");
    assert!(after.contains("ports    = 2043..2049"), "{after}");
    assert!(after.contains("namspace"), "{after}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("E0301") && stderr.contains("--guess"),
        "{stderr}"
    );

    // With --guess, the nearest name too: the site is clean, and the file
    // is in the canonical layout.
    let o = tenantc(&["fix", "--guess", path.as_str()]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let after = std::fs::read_to_string(&path).expect("read");
    assert!(after.contains("  namespace = \"fios\""), "{after}");
    let o = tenantc(&["fmt", "--check", path.as_str()]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

#[cfg(unix)]
#[test]
fn fix_never_writes_through_a_symbolic_link() {
    let (tmp, path) = broken_site("real");
    let link = Utf8PathBuf::from_path_buf(tmp.path().join("link.tenant")).expect("utf-8");
    std::os::unix::fs::symlink(&path, &link).expect("symlink");
    let before = std::fs::read_to_string(&path).expect("read");
    let o = tenantc(&["fix", link.as_str()]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("symbolic link"),
        "{o:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
}

/// Every subcommand that writes to stdout, run with its stdout a pipe whose
/// reader closed before it started: it ends quietly with 141 (128 +
/// SIGPIPE, what the shell reports for `ls | head` cut short), no panic, no
/// message.
#[cfg(target_os = "linux")]
#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let (_bad, bad) = broken_site("bad");
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("bundle");
    let out = out.to_str().expect("utf-8");
    assert_eq!(
        tenantc(&["compile", "examples/zcx-nfs", "--out", out])
            .status
            .code(),
        Some(0)
    );
    let runs: Vec<Vec<&str>> = vec![
        vec!["explain", "all"],
        vec!["explain", "E0306"],
        vec!["--help"],
        vec!["check", "--help"],
        vec!["completions", "bash"],
        vec!["graph", "examples/zcx-nfs"],
        vec!["check", "examples/zcx-nfs", "--diagnostics-format", "sarif"],
        vec![
            "check",
            "examples/zcx-nfs",
            "--diagnostics-format",
            "gitlab",
        ],
        vec!["check", bad.as_str(), "--diagnostics-format", "json"],
        vec!["check", bad.as_str(), "--diagnostics-format", "github"],
        vec!["fmt", "--check", bad.as_str()],
        vec!["fix", "--diff", bad.as_str()],
        vec!["compile", "examples/px-pure-saw", "--out", out, "--check"],
    ];
    for args in runs {
        let (reader, writer) = rustix::pipe::pipe().expect("pipe");
        drop(reader);
        let o = Command::new(env!("CARGO_BIN_EXE_tenantc"))
            .args(&args)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(141), "{args:?}: {o:?}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
    }
}
