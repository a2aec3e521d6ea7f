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
