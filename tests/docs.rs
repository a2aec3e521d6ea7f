//! `docs/diagnostics.md` lists every diagnostic code; it is generated from the
//! registry, and this test fails when the two drift apart. Regenerate with
//! `UPDATE_DOCS=1 cargo test --test docs`.

mod common;

#[test]
fn the_diagnostics_page_matches_the_registry() {
    let path = common::root().join("docs/diagnostics.md");
    let want = tenantc::diagnostics::registry::markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).expect("write docs/diagnostics.md");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/diagnostics.md is out of date: run UPDATE_DOCS=1 cargo test --test docs"
    );
    for c in tenantc::diagnostics::registry::all() {
        assert!(have.contains(&format!("\n## {}\n", c.code)), "{}", c.code);
    }
}

/// Every code in the registry is produced by at least one reviewed snapshot
/// (a bad input, a mismatch, a diagnostics test): a code that no test
/// produces is either dead or untested, and both are defects. Snapshots hold
/// the code as rendered (`E0401` on a line of its own, or `"code": "E0401"`).
#[test]
fn every_registry_code_is_produced_by_a_snapshot() {
    // E0001 is the internal-error code: producing it from a spec would be the
    // bug it reports. Its rendering is covered by the registry's unit tests.
    const NOT_PRODUCIBLE: &[&str] = &["E0001"];
    let mut seen = String::new();
    let mut stack = vec![common::root().join("snapshots").into_std_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("snapshots dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "snap") {
                seen.push_str(&std::fs::read_to_string(&path).expect("snapshot"));
            }
        }
    }
    let missing: Vec<&str> = tenantc::diagnostics::registry::all()
        .iter()
        .filter(|c| !NOT_PRODUCIBLE.contains(&c.code.as_str()))
        // A retired code (E0306) is never reported; `explain` still answers it.
        .filter(|c| !c.summary.starts_with("retired:"))
        .map(|c| c.code.as_str())
        .filter(|c| {
            !seen
                .lines()
                .any(|l| l.trim() == *c || l.contains(&format!("\"{c}\"")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "codes no snapshot produces (add a tests/bad case): {missing:?}"
    );
}
