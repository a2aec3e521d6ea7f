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

/// The man pages, generated from the command-line definition with
/// clap_mangen: `tenantc.1` and one `tenantc-<subcommand>.1` per subcommand
/// (as git's are), with every flag, so none can describe a flag the binary
/// lacks.
fn man_pages() -> Vec<(String, String)> {
    let mut cmd = tenantc::cli::command();
    cmd.build();
    let mut pages = Vec::new();
    let mut render = |name: String, c: clap::Command| {
        let mut bytes = Vec::new();
        clap_mangen::Man::new(c)
            .render(&mut bytes)
            .expect("render a man page");
        pages.push((name, String::from_utf8(bytes).expect("utf-8")));
    };
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        render(format!("tenantc-{}.1", sub.get_name()), sub.clone());
    }
    render("tenantc.1".to_string(), cmd);
    pages
}

/// `man/` holds the generated pages; this test fails when they drift from
/// the command line. Regenerate with `UPDATE_MAN=1 cargo test --test docs`.
#[test]
fn the_man_pages_match_the_command_line() {
    let dir = common::root().join("man");
    let pages = man_pages();
    if std::env::var_os("UPDATE_MAN").is_some() {
        std::fs::create_dir_all(&dir).expect("man/");
        for (name, text) in &pages {
            std::fs::write(dir.join(name), text).expect("write a man page");
        }
    }
    let mut stale = Vec::new();
    for (name, want) in &pages {
        let have = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        if have != *want {
            stale.push(name.clone());
        }
    }
    let mut on_disk: Vec<String> = common::entries("man", |p| p.extension() == Some("1"))
        .iter()
        .filter_map(|p| p.file_name().map(str::to_string))
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = pages.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    assert!(
        stale.is_empty() && on_disk == names,
        "man/ is out of date ({stale:?}; on disk {on_disk:?}): run UPDATE_MAN=1 cargo test --test docs"
    );
    let top = &pages.last().expect("tenantc.1").1;
    for sub in ["check", "compile", "fix", "fmt", "explain", "lsp"] {
        assert!(top.contains(sub), "tenantc.1 names `{sub}`");
    }
    let check = &pages
        .iter()
        .find(|(n, _)| n == "tenantc-check.1")
        .expect("check")
        .1;
    assert!(check.contains("github"), "and each page its flags' values");
}
