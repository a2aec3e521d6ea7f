//! The bad-input corpus: every `tests/bad/*.tenant` is refused with exit 1
//! (spec errors) or 2 (unreadable input), never a panic, never a bundle; its
//! diagnostics are reviewed as snapshots under `snapshots/bad/`.

mod common;

use common::{root, tenantc};

#[test]
fn every_bad_input_is_refused_with_its_diagnostic() {
    let cases = common::entries("tests/bad", |p| p.extension() == Some("tenant"));
    assert!(cases.len() >= 50, "the corpus has {} cases", cases.len());
    let out = tempfile::tempdir().expect("tmp");
    for case in cases {
        let rel = case.strip_prefix(root()).expect("relative").to_string();
        let name = case.file_stem().expect("stem").to_string();
        let target = out.path().join(&name);
        let o = tenantc(&["compile", &rel, "--out", target.to_str().expect("utf-8")]);
        let code = o.status.code();
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(
            matches!(code, Some(1) | Some(2)),
            "{rel}: exit {code:?}\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{rel} panicked:\n{stderr}");
        assert!(!target.exists(), "{rel} left a bundle behind");
        let report = format!("exit: {}\n\n{stderr}", code.unwrap_or(-1));
        insta::with_settings!({ snapshot_path => root().join("snapshots/bad"), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(name, report);
        });
    }
}

#[test]
fn a_ten_megabyte_string_is_handled() {
    let big = "x".repeat(10 * 1024 * 1024);
    let text = format!("zos SYS1 {{ address = 10.2.0.9 authority ca {{ label = \"{big}\" subject = {{ CN = \"a\" }} export = dataset(\"A.B\") }} }}\n");
    let (_d, path) = common::spec_in_tmp(&text);
    let o = tenantc(&["check", path.as_str()]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("E0411"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(
        stderr.len() < 1_000_000,
        "the diagnostic does not echo the whole value"
    );
}

#[test]
fn random_bytes_never_panic() {
    // A small deterministic generator: no dependency, same inputs every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let examples = [
        std::fs::read(root().join("examples/zcx-nfs/site.tenant")).expect("example"),
        std::fs::read(root().join("examples/mixed-site/site.tenant")).expect("example"),
    ];
    for round in 0..400 {
        let mut bytes = examples[round % 2].clone();
        for _ in 0..(next() % 8 + 1) {
            let i = (next() as usize) % bytes.len();
            match next() % 3 {
                0 => bytes[i] = (next() % 128) as u8,
                1 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, b"{}[]()\"=.,#0"[(next() % 12) as usize]),
            }
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let (_d, path) = common::spec_in_tmp(&text);
        // Through the library: a panic here fails the test.
        let a = tenantc::analyze(&[path], &tenantc::Options::default()).expect("analysis runs");
        if !a.has_errors() {
            tenantc::build_bundle(&a, &tenantc::Options::default())
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
}

#[test]
fn quotes_in_values_are_doubled_not_executed() {
    // A label that tries to close the quote and smuggle a command in stays
    // one quoted RACF value.
    let text = std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant"))
        .expect("example")
        .replace(
            "label     = \"NFSTST Private Cert\"",
            "label     = \"x') SETROPTS NOGENERIC\"",
        );
    let (_d, path) = common::spec_in_tmp(&text);
    let opts = tenantc::Options::default();
    let a = tenantc::analyze(&[path], &opts).expect("analysis");
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    let b = tenantc::build_bundle(&a, &opts).expect("bundle");
    let jcl = String::from_utf8_lossy(&b.files["zos/NP8/jcl/3-client-fios.jcl"].bytes).to_string();
    assert!(
        jcl.contains("WITHLABEL('x'') SETROPTS NOGENERIC')"),
        "{jcl}"
    );
    assert_eq!(
        jcl.matches("SETROPTS").count(),
        3,
        "the smuggled SETROPTS stays inside two quoted labels: {jcl}"
    );
}

#[test]
fn an_empty_spec_compiles_to_an_empty_bundle() {
    let (_d, path) = common::spec_in_tmp("# nothing declared yet\n");
    let out = tempfile::tempdir().expect("tmp");
    let target = out.path().join("b");
    let o = tenantc(&[
        "compile",
        path.as_str(),
        "--out",
        target.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let names: Vec<_> = std::fs::read_dir(&target)
        .expect("bundle")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, ["manifest.json"]);
}
