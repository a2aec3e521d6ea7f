//! Hostile trees: symbolic links, special files and secret files a spec
//! from a pull request might point at (issue 14). Each test fails without
//! the guard it names.

mod common;

use camino::{Utf8Path, Utf8PathBuf};
use common::root;
use std::process::Output;

/// A copy of examples/px-pure-saw in a temporary directory, with `customer1`'s
/// token taken from `token` (a spec expression) instead of the environment.
fn site(token: &str) -> (tempfile::TempDir, Utf8PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(tmp.path()).expect("utf-8").join("site");
    std::fs::create_dir(&dir).expect("mkdir");
    for f in ["site.tenant", "customer1.tenant", "customer2.tenant"] {
        let text =
            std::fs::read_to_string(root().join("examples/px-pure-saw").join(f)).expect("example");
        let text = text.replace("env(\"CUSTOMER1_PURE_TOKEN\")", token);
        std::fs::write(dir.join(f), text).expect("write");
    }
    (tmp, dir)
}

/// tenantc in `dir`, with the examples' secrets in its environment.
fn command(dir: &Utf8Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tenantc"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env(
            "CUSTOMER1_PURE_TOKEN",
            "19ead418-bec7-09cb-83bb-e679a9307788",
        )
        .env(
            "CUSTOMER2_PURE_TOKEN",
            "29ead418-bec7-09cb-83bb-e679a9307788",
        )
        .env("CUSTOMER1_MONGO_PASSWORD", "mongo-pw-123")
        .env("CUSTOMER2_POSTGRES_PASSWORD", "pg-pw-456");
    c
}

fn run(dir: &Utf8Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs with a time limit: a FIFO, a device or a link loop must not hang
/// the command. A command still running at the limit is killed.
fn run_bounded(dir: &Utf8Path, args: &[&str]) -> Output {
    let mut child = command(dir, args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tenantc {args:?} did not finish within 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn an_input_symlinked_out_of_the_site_is_not_read() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let outside = dir.parent().expect("parent").join("secret.txt");
    std::fs::write(&outside, "CI_SECRET=hunter2-very-secret\n").expect("write");
    std::os::unix::fs::symlink(&outside, dir.join("leak.tenant")).expect("symlink");
    let o = run(&dir, &["check", ".", "--diagnostics-format", "json"]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("E0211"), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
    let o = run(&dir, &["check", "."]);
    assert!(!text(&o).contains("hunter2"), "{}", text(&o));
    // With the file's directory as the root, it is read (and fails to parse).
    let o = run(&dir, &["check", ".", "--root", ".."]);
    assert!(text(&o).contains("E0101"), "{}", text(&o));
}

#[test]
fn an_import_of_an_outside_file_is_not_read() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let outside = dir.parent().expect("parent").join("lib.tenant");
    std::fs::write(&outside, "hunter2 is the password {\n").expect("write");
    let spec = dir.join("customer2.tenant");
    let t = std::fs::read_to_string(&spec).expect("read");
    std::fs::write(&spec, format!("import \"../lib.tenant\"\n{t}")).expect("write");
    let o = run(&dir, &["check", "."]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("E0211"), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
}

#[cfg(unix)]
#[test]
fn file_secrets_stay_inside_the_site_and_are_regular_files() {
    // A symlink inside the site to a file outside it.
    let (_t, dir) = site("file(\"tok\")");
    let outside = dir.parent().expect("parent").join("passwd");
    std::fs::write(&outside, "root:x:0:0:root:/root:/bin/bash\n").expect("write");
    std::os::unix::fs::symlink(&outside, dir.join("tok")).expect("symlink");
    let o = run(&dir, &["check", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("E0308"), "{}", text(&o));

    // /dev/zero through an allowed directory: refused, not read to exhaustion.
    let (_t, dir) = site("file(\"/dev/zero\")");
    let o = run(&dir, &["check", "."]);
    assert!(text(&o).contains("E0308"), "{}", text(&o));
    let out = dir.join("out");
    let o = run_bounded(
        &dir,
        &[
            "compile",
            ".",
            "--out",
            out.as_str(),
            "--materialize-secrets",
            "--allowed-resources",
            "/dev",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not a regular file"), "{}", text(&o));

    // A FIFO does not block.
    let (_t, dir) = site("file(\"fifo\")");
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("fifo"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let o = run_bounded(
        &dir,
        &[
            "compile",
            ".",
            "--out",
            out.as_str(),
            "--materialize-secrets",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not a regular file"), "{}", text(&o));

    // A big file, and a file that is no token.
    let (_t, dir) = site("file(\"tok\")");
    std::fs::write(dir.join("tok"), "a".repeat(1 << 20)).expect("write");
    let o = run_bounded(
        &dir,
        &[
            "compile",
            ".",
            "--out",
            out.as_str(),
            "--materialize-secrets",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    std::fs::write(
        dir.join("tok"),
        "root:x:0:0:root:/root:/bin/bash\nline two\n",
    )
    .expect("w");
    let o = run(
        &dir,
        &[
            "compile",
            ".",
            "--out",
            out.as_str(),
            "--materialize-secrets",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("does not look like an API token"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("root:x"), "{}", text(&o));
    // A real token in a file inside the site is fine.
    std::fs::write(dir.join("tok"), "39ead418-bec7-09cb-83bb-e679a9307788\n").expect("w");
    let o = run(
        &dir,
        &[
            "compile",
            ".",
            "--out",
            out.as_str(),
            "--materialize-secrets",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_secret_literal_is_never_repeated() {
    let (_t, dir) = site("\"77aa3c11-0d4e-4f1b-9a2e-5bd0c6e1f00d\"");
    for format in ["human", "json", "sarif"] {
        let o = run(&dir, &["check", ".", "--diagnostics-format", format]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("E0307"), "{}", text(&o));
        assert!(!text(&o).contains("5bd0c6e1f00d"), "{format}: {}", text(&o));
    }
}

#[test]
fn control_characters_never_reach_the_terminal() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let spec = dir.join("customer2.tenant");
    let t = std::fs::read_to_string(&spec).expect("read");
    std::fs::write(
        &spec,
        format!("{t}\n\u{1b}]0;owned\u{7}\u{1b}[2J\r oops {{\n"),
    )
    .expect("w");
    let o = run(&dir, &["check", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains(['\u{1b}', '\u{7}', '\r']), "{stderr:?}");
}

/// JSON and SARIF escape control characters for their own format, but the
/// texts they carry (which a CI log, a code-scanning page or an editor
/// shows) must not hold them: a string escape puts one in a value, and the
/// diagnostic about the value quotes it.
#[test]
fn machine_readable_texts_carry_no_control_characters() {
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(m) => m.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let t = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(t.path()).expect("utf-8");
    std::fs::write(
        dir.join("zos.tenant"),
        "zos SYS1 {\n  address = 10.2.0.9\n  stack = \"TCP\\u{1b}[2J\\u{7}IP\"\n}\n",
    )
    .expect("w");
    for format in ["json", "sarif"] {
        let o = run(dir, &["check", ".", "--diagnostics-format", format]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        let mut texts = Vec::new();
        if format == "sarif" {
            strings(&serde_json::from_str(&out).expect("sarif"), &mut texts);
        } else {
            for line in out.lines() {
                strings(&serde_json::from_str(line).expect("json"), &mut texts);
            }
        }
        assert!(
            texts.iter().any(|t| t.contains("TCP\\u{1b}[2J\\u{7}IP")),
            "{format}: the characters are named: {texts:?}"
        );
        for t in texts {
            assert!(!t.contains(['\u{1b}', '\u{7}']), "{format}: {t:?}");
        }
    }
}

#[test]
fn spec_names_no_yaml_header_can_carry_are_refused() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    std::fs::rename(
        dir.join("customer2.tenant"),
        dir.join("cust\u{FFFF}omer2.tenant"),
    )
    .expect("rename");
    let out = dir.join("out");
    let o = run(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("rename it"), "{}", text(&o));
    assert!(!out.exists());
}

#[cfg(unix)]
#[test]
fn walks_do_not_follow_directory_links() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    std::os::unix::fs::symlink("b", dir.join("a")).expect("symlink");
    std::os::unix::fs::symlink("a", dir.join("b")).expect("symlink");
    std::os::unix::fs::symlink("..", dir.join("up")).expect("symlink");
    let out = dir.parent().expect("parent").join("out");
    for args in [
        vec!["check", "."],
        vec!["fmt", "--check", "."],
        vec!["compile", ".", "--out", out.as_str()],
        vec!["compile", ".", "--out", out.as_str(), "--check"],
    ] {
        let o = run_bounded(&dir, &args);
        assert!(
            matches!(o.status.code(), Some(0) | Some(1)),
            "{args:?}: {}",
            text(&o)
        );
    }
    // A link to `/` inside a bundle is one stale entry, not the file system.
    std::os::unix::fs::symlink("/", out.join("k8s/root")).expect("symlink");
    let o = run_bounded(&dir, &["compile", ".", "--out", out.as_str(), "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(text(&o).matches("stale k8s").count(), 1, "{}", text(&o));
}

#[cfg(unix)]
#[test]
fn operator_secret_links_stay_links_and_secret_dirs_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let out = dir.parent().expect("parent").join("out");
    // Under umask 000, with materialized secrets.
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000 && exec \"$0\" compile . --out {} --materialize-secrets",
            out
        ))
        .arg(env!("CARGO_BIN_EXE_tenantc"))
        .current_dir(&dir)
        .env(
            "CUSTOMER1_PURE_TOKEN",
            "19ead418-bec7-09cb-83bb-e679a9307788",
        )
        .env(
            "CUSTOMER2_PURE_TOKEN",
            "29ead418-bec7-09cb-83bb-e679a9307788",
        )
        .env("CUSTOMER1_MONGO_PASSWORD", "mongo-pw-123")
        .env("CUSTOMER2_POSTGRES_PASSWORD", "pg-pw-456")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for d in ["k8s/k8s1/secrets", "k8s/k8s1/secrets/customer1/mongo-env"] {
        let mode = std::fs::metadata(out.join(d))
            .expect("dir")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{d}: {mode:o}");
    }
    // A materialized bundle without pure.json, recompiled without the flag:
    // the passwords it materialized are not kept as if the operator wrote them.
    let manifest_path = out.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest")).expect("json");
    manifest["files"]
        .as_array_mut()
        .expect("files")
        .retain(|f| !f["path"].as_str().unwrap_or("").ends_with("pure.json"));
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).expect("json"),
    )
    .expect("write");
    for k in ["k8s1", "k8s2"] {
        std::fs::remove_file(
            out.join(format!("k8s/{k}/secrets/portworx/px-pure-secret/pure.json")),
        )
        .expect("rm");
    }
    let o = run(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("holds materialized secrets"),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(&out).expect("rm");

    // The operator's link at a secret path is carried over as a link, also dangling.
    let o = run(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let secret = out.join("k8s/k8s1/secrets/customer1/mongo-env/MONGO_INITDB_ROOT_PASSWORD");
    std::fs::create_dir_all(secret.parent().expect("dir")).expect("mkdir");
    std::os::unix::fs::symlink("/run/vault/mongo", &secret).expect("symlink");
    let o = run(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(secret.is_symlink(), "the link was dropped or copied");
    assert_eq!(
        std::fs::read_link(&secret).expect("link"),
        std::path::Path::new("/run/vault/mongo")
    );
}

#[test]
fn graph_output_never_overwrites_an_input() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let before = std::fs::read(dir.join("site.tenant")).expect("read");
    let o = run(&dir, &["graph", ".", "--output", "./site.tenant"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(
        std::fs::read(dir.join("site.tenant")).expect("read"),
        before
    );
    let o = run(&dir, &["graph", ".", "--output", "site.dot"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(std::fs::read_to_string(dir.join("site.dot"))
        .expect("dot")
        .contains("digraph"));
}

/// A file of thousands of tenants all naming a missing cluster: each
/// unresolved name used to be compared with every name of the site (about
/// 200 s for a 1 MiB file); suggestions now stop after the first few
/// hundred, so the work grows with the file, not with its square.
#[test]
fn thousands_of_unresolved_names_do_not_take_quadratic_time() {
    let t = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(t.path()).expect("utf-8");
    let spec: String = (0..30_000)
        .map(|i| format!("tenant t{i} {{ cluster = nope }}\n"))
        .collect();
    std::fs::write(dir.join("many.tenant"), spec).expect("w");
    let o = run_bounded(dir, &["check", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("E0002"));
}

/// Red-team N6: a hard link to another tenant's secret file is the same
/// source (a file is known by its device and inode, not its path), so the
/// second owner is refused (E0309) instead of getting the token materialized.
#[cfg(unix)]
#[test]
fn a_hard_link_to_another_tenants_secret_is_the_same_source() {
    let (_t, dir) = site("file(\"secrets/c1.token\")");
    std::fs::create_dir(dir.join("secrets")).expect("mkdir");
    std::fs::write(dir.join("secrets/c1.token"), "SECRET_CANARY_HL_TOKEN\n").expect("write");
    std::fs::hard_link(dir.join("secrets/c1.token"), dir.join("secrets/mine.txt")).expect("link");
    let c2 = dir.join("customer2.tenant");
    let text2 = std::fs::read_to_string(&c2).expect("read");
    let stolen = text2.replace(
        "env(\"CUSTOMER2_POSTGRES_PASSWORD\")",
        "file(\"secrets/mine.txt\")",
    );
    assert_ne!(stolen, text2, "the example names the variable");
    std::fs::write(&c2, stolen).expect("write");
    let out = dir.join("out");
    let o = run(
        &dir,
        &[
            "compile",
            ".",
            "--out",
            out.as_str(),
            "--materialize-secrets",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("E0309"), "{}", text(&o));
    assert!(!out.exists(), "nothing is written");
}
