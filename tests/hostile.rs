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

/// Issue 28: a directory link out of the site is reported (E0211), not
/// skipped without a word while the tenants in it drop out of the compile;
/// a directory link that stays inside is skipped (its files are read where
/// they are).
#[cfg(unix)]
#[test]
fn a_directory_linked_out_of_the_site_is_reported() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let outside = dir.parent().expect("parent").join("elsewhere");
    std::fs::create_dir(&outside).expect("mkdir");
    std::fs::rename(
        dir.join("customer2.tenant"),
        outside.join("customer2.tenant"),
    )
    .expect("mv");
    std::os::unix::fs::symlink(&outside, dir.join("more")).expect("symlink");
    std::fs::create_dir(dir.join("real")).expect("mkdir");
    std::os::unix::fs::symlink("real", dir.join("inner")).expect("symlink");
    let o = run(&dir, &["check", "."]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("E0211"), "{all}");
    assert!(
        all.contains("more` is a link to a directory outside the site root"),
        "{all}"
    );
    assert!(!all.contains("inner"), "{all}");
    // fmt has nothing to say about it.
    let o = run(&dir, &["fmt", "--check", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
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
    // `up` leads out of the site: reported (E0211), so nothing was written.
    let o = run_bounded(&dir, &["check", "."]);
    assert!(text(&o).contains("E0211"), "{}", text(&o));
    std::fs::remove_file(dir.join("up")).expect("rm");
    let o = run_bounded(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
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

// ---------------------------------------------------------------------
// Second round (issue 29): every read and write is confined.

/// A file outside the site holding a canary, for links to point at.
fn canary(dir: &Utf8Path, name: &str) -> Utf8PathBuf {
    let p = dir.parent().expect("parent").join(name);
    std::fs::write(&p, "CANARY_OUTSIDE_SECRET=hunter2\n").expect("write");
    p
}

fn mkfifo(path: &Utf8Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path.as_str())
        .status()
        .expect("mkfifo runs");
    assert!(ok.success());
}

/// N1: `compile --check` compares a committed bundle without following its
/// links, and a link, FIFO or device there never blocks a compile.
#[cfg(unix)]
#[test]
fn the_bundle_at_out_is_read_without_following_links() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let out = dir.parent().expect("parent").join("bundle");
    let o = run(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let secret = canary(&dir, "environ");
    let ns = out.join("k8s/k8s1/customer1/namespace.yaml");
    assert!(ns.is_file(), "{ns}");
    std::fs::remove_file(&ns).expect("rm");
    std::os::unix::fs::symlink(&secret, &ns).expect("symlink");
    for format in ["human", "json"] {
        let o = run_bounded(
            &dir,
            &[
                "compile",
                ".",
                "--out",
                out.as_str(),
                "--check",
                "--diagnostics-format",
                format,
            ],
        );
        let all = text(&o);
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(!all.contains("hunter2"), "{all}");
        assert!(all.contains("k8s/k8s1/customer1/namespace.yaml"), "{all}");
    }
    // A link to a device or a FIFO at a generated path: drift, not a hang.
    std::fs::remove_file(&ns).expect("rm");
    std::os::unix::fs::symlink("/dev/zero", &ns).expect("symlink");
    let o = run_bounded(&dir, &["compile", ".", "--out", out.as_str(), "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    std::fs::remove_file(&ns).expect("rm");
    mkfifo(&ns);
    let o = run_bounded(&dir, &["compile", ".", "--out", out.as_str(), "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // The old manifest as a FIFO: a plain compile neither blocks on it nor
    // (holding the lock) makes every later compile wait.
    let manifest = out.join("manifest.json");
    std::fs::remove_file(&manifest).expect("rm");
    mkfifo(&manifest);
    let o = run_bounded(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run_bounded(&dir, &["compile", ".", "--out", out.as_str(), "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

/// N20: the `--check` diff escapes terminal controls from bundle files.
#[test]
fn the_check_diff_carries_no_terminal_controls() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let out = dir.parent().expect("parent").join("bundle");
    let o = run(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let ns = out.join("k8s/k8s1/customer1/namespace.yaml");
    let mut t = std::fs::read_to_string(&ns).expect("read");
    t.push_str("# evil\u{1b}[2K\r\u{1b}[1A\u{1b}[2K\rreplicas: 99\u{9b}2J\n");
    std::fs::write(&ns, t).expect("write");
    let o = run(&dir, &["compile", ".", "--out", out.as_str(), "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let all = text(&o);
    assert!(all.contains("replicas: 99"), "{all}");
    assert!(
        !all.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{all:?}"
    );
}

/// N2: `import "std/.."` with `--stdlib` never leaves the stdlib directory.
#[cfg(unix)]
#[test]
fn stdlib_imports_stay_inside_the_stdlib_directory() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let base = dir.parent().expect("parent").to_path_buf();
    let stdlib = base.join("stdlib");
    std::fs::create_dir_all(stdlib.join("std")).expect("mkdir");
    std::fs::copy(
        root().join("stdlib/std/profiles.tenant"),
        stdlib.join("std/profiles.tenant"),
    )
    .expect("copy");
    std::fs::create_dir_all(dir.join(".hid")).expect("mkdir");
    let secret = canary(&dir, "environ.tenant");
    std::os::unix::fs::symlink(&secret, dir.join(".hid/evil.tenant")).expect("symlink");
    mkfifo(&dir.join(".hid/fifo.tenant"));
    for module in [
        "std/../../site/.hid/evil",
        "std/../../site/.hid/fifo",
        "std/../../environ",
    ] {
        std::fs::write(dir.join("b.tenant"), format!("import \"{module}\" as e\n")).expect("w");
        let o = run_bounded(&dir, &["check", ".", "--stdlib", stdlib.as_str()]);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(!all.contains("hunter2"), "{all}");
        assert!(all.contains("not read"), "{all}");
    }
    // A link inside the stdlib to a file outside it is refused too.
    std::os::unix::fs::symlink(&secret, stdlib.join("std/leak.tenant")).expect("symlink");
    std::fs::write(dir.join("b.tenant"), "import \"std/leak\" as e\n").expect("w");
    let o = run_bounded(&dir, &["check", ".", "--stdlib", stdlib.as_str()]);
    assert!(!text(&o).contains("hunter2"), "{}", text(&o));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

/// N3: `fmt --check DIR` never reads a link out of DIR.
#[cfg(unix)]
#[test]
fn fmt_never_reads_a_link_out_of_its_tree() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let secret = canary(&dir, "environ");
    std::os::unix::fs::symlink(&secret, dir.join("zz.tenant")).expect("symlink");
    for args in [
        vec!["fmt", "--check", ".", "--diagnostics-format", "json"],
        vec!["fmt", "--check", "."],
        vec!["fmt", "."],
        vec!["fmt", "zz.tenant"],
    ] {
        let o = run_bounded(&dir, &args);
        let all = text(&o);
        assert_ne!(o.status.code(), Some(0), "{args:?}: {all}");
        assert!(!all.contains("hunter2"), "{args:?}: {all}");
        assert!(all.contains("outside"), "{args:?}: {all}");
    }
}

/// N13: `fmt DIR` never rewrites a file outside DIR through a link.
#[cfg(unix)]
#[test]
fn fmt_never_rewrites_a_file_outside_its_tree() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let victim = dir.parent().expect("parent").join("victim.tenant");
    let before = "tenant   victim_site_file   {   cluster=k8s1   }\n";
    std::fs::write(&victim, before).expect("write");
    std::os::unix::fs::symlink(&victim, dir.join("y.tenant")).expect("symlink");
    let o = run_bounded(&dir, &["fmt", "."]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), before);
    assert!(dir.join("y.tenant").is_symlink());
}

/// N12: `graph --output` replaces only a regular file: a link, a FIFO or a
/// device stays what it is.
#[cfg(unix)]
#[test]
fn graph_output_replaces_only_regular_files() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let target = canary(&dir, "precious.txt");
    std::os::unix::fs::symlink(&target, dir.join("link.dot")).expect("symlink");
    let o = run_bounded(&dir, &["graph", ".", "--output", "link.dot"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(dir.join("link.dot").is_symlink());
    assert!(std::fs::read_to_string(&target)
        .expect("read")
        .contains("hunter2"));
    mkfifo(&dir.join("fifo.dot"));
    let o = run_bounded(&dir, &["graph", ".", "--output", "fifo.dot"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(dir.join("fifo.dot"))
        .expect("meta")
        .file_type()
        .is_fifo());
    // A spec file that is not an input is not replaced either.
    std::fs::create_dir(dir.join("other")).expect("mkdir");
    std::fs::write(dir.join("other/x.tenant"), "// mine\n").expect("w");
    let o = run_bounded(
        &dir,
        &[
            "graph",
            "site.tenant",
            "customer1.tenant",
            "customer2.tenant",
            "--output",
            "other/x.tenant",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("other/x.tenant")).expect("r"),
        "// mine\n"
    );
    // A new regular file is created with the umask's mode, not 0600.
    let o = run_bounded(&dir, &["graph", ".", "--output", "new.dot"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("new.dot"))
        .expect("m")
        .permissions()
        .mode();
    assert_ne!(mode & 0o777, 0o600, "{mode:o}");
}

/// A copy of one example in a temporary directory, with `from` replaced by `to`.
fn example_with(name: &str, edits: &[(&str, &str)]) -> (tempfile::TempDir, Utf8PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(tmp.path()).expect("utf-8").join("site");
    std::fs::create_dir(&dir).expect("mkdir");
    for e in std::fs::read_dir(root().join("examples").join(name))
        .expect("ls")
        .flatten()
    {
        let p = Utf8PathBuf::from_path_buf(e.path()).expect("utf-8");
        if p.extension() == Some("tenant") {
            let mut text = std::fs::read_to_string(&p).expect("read");
            for (from, to) in edits {
                if text.contains(from) {
                    text = text.replacen(from, to, 1);
                }
            }
            std::fs::write(dir.join(p.file_name().expect("name")), text).expect("write");
        }
    }
    (tmp, dir)
}

/// N8: no tenant, proxy or Portworx in a namespace the cluster keeps, and
/// no proxy on the `kubernetes` Service's (or OpenShift DNS's) ClusterIP.
#[test]
fn system_namespaces_and_addresses_are_not_a_tenants() {
    for ns in [
        "kube-system",
        "default",
        "kube-public",
        "kube-node-lease",
        "openshift",
        "openshift-monitoring",
    ] {
        let (_t, dir) = example_with(
            "zcx-nfs",
            &[("namespace = \"fios\"", &format!("namespace = \"{ns}\""))],
        );
        let o = run(&dir, &["check", "."]);
        assert_eq!(o.status.code(), Some(1), "{ns}: {}", text(&o));
        assert!(text(&o).contains("E0330"), "{ns}: {}", text(&o));
    }
    let (_t, dir) = example_with(
        "zcx-nfs",
        &[("namespace  = \"haproxy\"", "namespace  = \"kube-system\"")],
    );
    let o = run(&dir, &["check", "."]);
    assert!(text(&o).contains("E0330"), "{}", text(&o));
    let (_t, dir) = example_with(
        "px-pure-saw",
        &[(
            "namespace   = \"portworx\"",
            "namespace   = \"kube-system\"",
        )],
    );
    let o = run(&dir, &["check", "."]);
    assert!(text(&o).contains("E0330"), "{}", text(&o));
    for ip in ["172.30.0.1", "172.30.0.10"] {
        let (_t, dir) = example_with(
            "zcx-nfs",
            &[("cluster_ip = 172.30.226.71", &format!("cluster_ip = {ip}"))],
        );
        let o = run(&dir, &["check", "."]);
        assert_eq!(o.status.code(), Some(1), "{ip}: {}", text(&o));
        assert!(text(&o).contains("E0331"), "{ip}: {}", text(&o));
    }
}

/// N14: a chain of 12,000 imports is cut at a bounded depth with E0212,
/// instead of overflowing the stack (SIGABRT).
#[test]
fn a_deep_chain_of_imports_is_refused_not_a_stack_overflow() {
    let t = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(t.path()).expect("utf-8");
    std::fs::create_dir(dir.join("lib")).expect("mkdir");
    std::fs::write(dir.join("main.tenant"), "import \"lib/m0\" as m\n").expect("w");
    let n = 12_000;
    for i in 0..n {
        let text = if i + 1 < n {
            format!("import \"m{}\" as x\n", i + 1)
        } else {
            String::new()
        };
        std::fs::write(dir.join(format!("lib/m{i}.tenant")), text).expect("w");
    }
    let o = run_bounded(
        dir,
        &["check", "main.tenant", "--diagnostics-format", "json"],
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert_eq!(all.matches("E0212").count(), 1, "{all}");
    let line = all.lines().find(|l| l.contains("E0212")).expect("E0212");
    let v: serde_json::Value = serde_json::from_str(line).expect("json");
    let report = format!(
        "{}\n{}",
        v["code"].as_str().unwrap_or(""),
        v["message"].as_str().unwrap_or("")
    );
    insta::with_settings!({ snapshot_path => root().join("snapshots/hostile"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("import_chain_too_deep", report);
    });
}

/// N5: `--tenant A --materialize-secrets` writes A's secrets and the
/// shared ones A needs, never another tenant's token.
#[test]
fn a_partial_materialized_bundle_carries_no_other_tenants_token() {
    let (_t, dir) = example_with("mixed-site", &[]);
    std::fs::create_dir_all(dir.join("secrets")).expect("mkdir");
    std::fs::write(
        dir.join("secrets/analytics-pure-token"),
        "ANALYTICS_TOKEN_CANARY\n",
    )
    .expect("w");
    std::fs::write(
        dir.join("secrets/quay.dockerconfigjson"),
        "{\"auths\":{}}\n",
    )
    .expect("w");
    let out = dir.parent().expect("parent").join("out");
    let o = command(
        &dir,
        &[
            "compile",
            ".",
            "--out",
            out.as_str(),
            "--tenant",
            "analytics",
            "--materialize-secrets",
        ],
    )
    .env("LEDGER_PURE_TOKEN", "LEDGER_TOKEN_CANARY")
    .env("LEDGER_DB_PASSWORD", "LEDGER_DB_CANARY")
    .output()
    .expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut seen_analytics = false;
    for p in common::walk(out.as_std_path()) {
        let bytes = std::fs::read(&p).unwrap_or_default();
        let t = String::from_utf8_lossy(&bytes);
        assert!(!t.contains("LEDGER_TOKEN_CANARY"), "{}", p.display());
        assert!(!t.contains("LEDGER_DB_CANARY"), "{}", p.display());
        seen_analytics |= t.contains("ANALYTICS_TOKEN_CANARY");
    }
    assert!(seen_analytics, "the selected tenant's token is written");
}

/// Issue 29 (first round #17): under `umask 000` nothing in the bundle is
/// writable by others: not `secrets/`'s parent, `setup.sh` or a
/// `kustomization.yaml`.
#[cfg(unix)]
#[test]
fn the_bundle_is_not_writable_by_others_under_umask_000() {
    use std::os::unix::fs::PermissionsExt;
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let out = dir.parent().expect("parent").join("out");
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000 && exec '{}' compile . --out '{out}' --materialize-secrets",
            env!("CARGO_BIN_EXE_tenantc")
        ))
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
    let mut stack = vec![out.clone().into_std_path_buf()];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("ls").flatten() {
            let m = std::fs::symlink_metadata(e.path()).expect("meta");
            if m.file_type().is_symlink() {
                continue;
            }
            seen += 1;
            let mode = m.permissions().mode() & 0o777;
            assert_eq!(mode & 0o022, 0, "{} is {mode:o}", e.path().display());
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    assert!(seen > 20, "{seen}");
}

/// N22: the summary counts what E0002 hides.
#[test]
fn the_summary_counts_hidden_diagnostics() {
    let fields: String = (0..501).map(|i| format!("  f{i} = 1\n")).collect();
    let (_t, dir) = example_with(
        "zcx-nfs",
        &[(
            "  namespace = \"fios\"",
            &format!("  namespace = \"fios\"\n{fields}"),
        )],
    );
    let o = run(&dir, &["check", "."]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("E0002"), "{all}");
    let summary = all
        .lines()
        .rev()
        .find(|l| l.contains(" error(s)"))
        .expect("summary");
    let n: usize = summary
        .trim_start_matches("error: ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(n >= 501, "{summary}");
}

/// N19: cipher codes are checked against the table (no NULL or export
/// suites), and duplicates compared by code, not spelling.
#[test]
fn cipher_codes_are_checked_against_the_table_and_compared_by_value() {
    let check = |ciphers: &str| {
        let text = common::mutated_example("tls      = profiles.tls12_saf", "tls      = strong")
            + &format!("\ntls_profile strong {{\n  versions = [tls1_2, tls1_3]\n  ciphers  = [{ciphers}]\n}}\n");
        let (_d, path) = common::spec_in_tmp(&text);
        let o = common::tenantc(&["check", path.as_str()]);
        (o.status.code(), text_of(&o))
    };
    for bad in ["\"00\"", "\"0000\"", "\"03\"", "\"0A\"", "C010", "\"3B\""] {
        let (code, all) = check(&format!("C02F, {bad}"));
        assert_eq!(code, Some(1), "{bad}: {all}");
        assert!(all.contains("E0413"), "{bad}: {all}");
    }
    let (code, all) = check("C02F, c02f, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, \"2F\", \"002F\"");
    assert_eq!(code, Some(1), "{all}");
    assert_eq!(all.matches("E0324").count(), 3, "{all}");
    let (code, all) = check("C02F, \"35\", TLS_AES_256_GCM_SHA384");
    assert_eq!(code, Some(0), "{all}");
}

fn text_of(o: &Output) -> String {
    text(o)
}

/// First round #13: U+FFFE and U+FFFF (noncharacters) are refused where
/// control characters are: go-yaml in kustomize rejects them.
#[test]
fn noncharacters_are_refused_where_control_characters_are() {
    for nc in ["\\u{fffe}", "\\u{ffff}", "\\u{fdd0}", "\\u{1fffe}"] {
        let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
        let spec = dir.join("customer1.tenant");
        let t = std::fs::read_to_string(&spec).expect("read");
        let edited = t.replacen("\"--bind_ip\"", &format!("\"a{nc}b\""), 1);
        assert_ne!(edited, t);
        std::fs::write(&spec, edited).expect("w");
        let o = run(&dir, &["check", "."]);
        assert_eq!(o.status.code(), Some(1), "{nc}: {}", text(&o));
        assert!(text(&o).contains("E0323"), "{nc}: {}", text(&o));
    }
}

/// The first round's five poor messages (#16) say what is wrong.
#[test]
fn the_first_rounds_poor_messages_say_what_is_wrong() {
    // A Cyrillic `р` in a name.
    let (_t, dir) = example_with("zcx-nfs", &[("cluster   = ocp1", "cluster   = oc\u{440}1")]);
    let o = run(&dir, &["check", "."]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("U+0440") && all.contains("looks like `p`"),
        "{all}"
    );
    // `--out .`, `--out ..`, `--out ''` and `--out afile/sub`, run from a
    // directory that holds no input.
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let work = dir.parent().expect("parent").join("work");
    std::fs::create_dir_all(work.join("deeper")).expect("mkdir");
    std::fs::write(work.join("afile"), "x").expect("w");
    for (out, says) in [
        (".", "of its own"),
        ("..", "of its own"),
        ("", "--out is empty"),
        ("afile/sub", "afile is a file"),
    ] {
        let o = run(
            &work.join("deeper"),
            &[
                "compile",
                "../../site",
                "--out",
                &if out == "afile/sub" {
                    "../afile/sub".to_string()
                } else {
                    out.to_string()
                },
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{out:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{out:?}: {}", text(&o));
        assert!(!text(&o).contains("os error"), "{out:?}: {}", text(&o));
    }
    // An overflowing number is one error, not a cascade.
    let text_spec = common::mutated_example("ports", "ports")
        + "\nport_set wide { range = 99999999999999999999..1 }\n";
    let (_d, path) = common::spec_in_tmp(&text_spec);
    let o = common::tenantc(&["check", path.as_str()]);
    let all = text(&o);
    assert!(all.contains("is too large"), "{all}");
    assert!(!all.contains("not a valid port range"), "{all}");
    // Stray `}`.
    let stray = format!(
        "{}\n{}",
        std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant")).expect("r"),
        "}".repeat(1000)
    );
    let (_d, path) = common::spec_in_tmp(&stray);
    let o = common::tenantc(&["check", path.as_str()]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("closes no open block") || all.contains("closes nothing"),
        "{all}"
    );
}

/// N18: a port range that would give megabyte objects is refused (E0332).
#[test]
fn a_wide_port_range_is_refused_before_it_becomes_objects() {
    let text = common::mutated_example("ports    = profiles.zos_nfs", "ports    = wide")
        + "\nport_set wide { range = 1..65535 }\n";
    let (_d, path) = common::spec_in_tmp(&text);
    let o = common::tenantc(&["check", path.as_str()]);
    let all = text_of(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("E0332"), "{all}");
}

/// N9: Portworx's own pool classes (`px-csi-db`, ...) are closed to every
/// tenant's namespace on a cluster with Portworx: by the cluster's pool
/// fence (a ValidatingAdmissionPolicy refusing them in namespaces labelled
/// as a tenant's), or, with `storage_fence = quota`, in every tenant's quota.
#[test]
fn portworx_pool_classes_are_closed_to_tenants() {
    let (_t, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let out = dir.parent().expect("parent").join("out");
    let o = run(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut fences = 0;
    for p in common::walk(out.as_std_path()) {
        let t = std::fs::read_to_string(&p).unwrap_or_default();
        if t.contains("kind: ValidatingAdmissionPolicy\n") && t.contains("portworx-pool") {
            fences += 1;
            for class in ["'px-csi-db'", "'px-csi-replicated'"] {
                assert!(t.contains(class), "{}", p.display());
            }
            assert!(
                t.contains("!(has(namespaceObject.metadata.labels)"),
                "{}",
                p.display()
            );
        }
        assert!(!t.contains("kind: ResourceQuota"), "{}", p.display());
    }
    assert!(fences >= 2, "{fences}");
    // With quotas, every tenant namespace's quota closes them.
    let site_file = dir.join("site.tenant");
    let text0 = std::fs::read_to_string(&site_file).expect("read");
    let quota = text0.replace(
        "  kind          = kubernetes\n",
        "  kind          = kubernetes\n  storage_fence = quota\n",
    );
    assert_ne!(quota, text0);
    std::fs::write(&site_file, quota).expect("write");
    let out = dir.parent().expect("parent").join("out-quota");
    let o = run(&dir, &["compile", ".", "--out", out.as_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut quotas = 0;
    for p in common::walk(out.as_std_path()) {
        let t = std::fs::read_to_string(&p).unwrap_or_default();
        if t.contains("kind: ResourceQuota") {
            quotas += 1;
            assert!(
                t.contains("px-csi-db.storageclass.storage.k8s.io/requests.storage"),
                "{}",
                p.display()
            );
            assert!(
                t.contains("px-csi-replicated.storageclass.storage.k8s.io/persistentvolumeclaims"),
                "{}",
                p.display()
            );
        }
        assert!(
            !t.contains("kind: ValidatingAdmissionPolicy"),
            "{}",
            p.display()
        );
    }
    assert!(quotas >= 2, "{quotas}");
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

/// N17: the compile lock lives where only the bundle's owner can hold it.
/// Another process holding `flock` on the parent directory of `--out` (which
/// anyone who can open it may do) no longer stalls a compile; a lock
/// directory that is not the operator's alone is refused with the reason
/// (exit 2), never waited on; and a compile that waits for the real lock
/// says so, then finishes once it is released. TMPDIR names where the lock
/// directory is.
#[cfg(target_os = "linux")]
#[test]
fn the_compile_lock_is_the_owners_alone_and_a_wait_is_announced() {
    use rustix::fs::{flock, FlockOperation};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (_tmp, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let parent = dir.join("out");
    std::fs::create_dir(&parent).expect("mkdir");
    let locks = dir.join("tmp");
    std::fs::create_dir(&locks).expect("mkdir");
    let bounded = |tmpdir: &Utf8Path, out: &str| {
        let mut child = command(&dir, &["compile", ".", "--out", out])
            .env("TMPDIR", tmpdir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while child.try_wait().expect("wait").is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("the compile into {out} hangs");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().expect("output")
    };
    // The parent held by someone else: the compile does not wait.
    let held = std::fs::File::open(&parent).expect("open parent");
    flock(&held, FlockOperation::LockExclusive).expect("flock parent");
    let o = bounded(&locks, "out/bundle");
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("waiting"), "{}", text(&o));
    drop(held);
    assert_eq!(
        std::fs::read_dir(&parent).expect("dir").count(),
        1,
        "nothing but the bundle beside it"
    );

    // The lock directory open to others: refused, with the reason.
    let me = std::fs::metadata(&parent).expect("meta").uid();
    let open_tmp = dir.join("open-tmp");
    let lock_dir = open_tmp.join(format!("tenantc-{me}"));
    std::fs::create_dir_all(&lock_dir).expect("mkdir");
    std::fs::set_permissions(&lock_dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let o = bounded(&open_tmp, "out/other");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not yours alone"), "{}", text(&o));
    assert!(!parent.join("other").exists());

    // The operator's own lock held: the compile says it waits, then runs.
    let lock_dir = locks.join(format!("tenantc-{me}"));
    let files: Vec<_> = std::fs::read_dir(&lock_dir)
        .expect("the lock directory")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        std::fs::metadata(&lock_dir)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let mine = std::fs::File::open(&files[0]).expect("the lock");
    flock(&mine, FlockOperation::LockExclusive).expect("flock lock");
    let mut child = command(&dir, &["compile", ".", "--out", "out/bundle"])
        .env("TMPDIR", &locks)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).map(|_| s)
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the compile did not wait for the lock"
    );
    drop(mine);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the compile hangs");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let stderr = reader.join().expect("reader").expect("read");
    assert!(
        stderr.contains("waiting for another compile into out/bundle"),
        "{stderr}"
    );
}

/// N22: `tenantc explain` never echoes the control bytes of its argument.
#[test]
fn explain_never_echoes_control_bytes() {
    let (_tmp, dir) = site("env(\"CUSTOMER1_PURE_TOKEN\")");
    let o = run(&dir, &["explain", "\u{1b}[2J\u{7}E9\r"]);
    assert_eq!(o.status.code(), Some(2));
    let all = text(&o);
    assert!(!all.chars().any(|c| c.is_control() && c != '\n'), "{all:?}");
    assert!(all.contains("\\u{1b}[2J"), "{all}");
}

/// N16: a file with one diagnostic per item (here 60,000 unknown fields,
/// and 20,000 AT-TLS clients no node has) builds a bounded number of
/// diagnostics: past the per-file budget they are counted, not formatted;
/// the summary still counts every one. A count, not a time.
#[test]
fn diagnostics_past_the_cap_are_counted_not_built() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(tmp.path()).expect("utf-8").join("site");
    std::fs::create_dir(&dir).expect("mkdir");
    let n = 60_000;
    let mut text = String::from("tenant a {\n");
    for i in 0..n {
        text.push_str(&format!("  f{i} = 1\n"));
    }
    text.push_str("}\n");
    std::fs::write(dir.join("a.tenant"), text).expect("write");
    let inputs = tenantc::find_inputs(std::slice::from_ref(&dir)).expect("inputs");
    let before = tenantc::diagnostics::built();
    let a = tenantc::analyze(&inputs, &tenantc::Options::default()).expect("analysis");
    let built = tenantc::diagnostics::built() - before;
    eprintln!("{built} diagnostics built for {n} unknown fields");
    // Other tests of this binary run beside this one: a generous bound, far
    // below one per field.
    assert!(built < n / 10, "{built} diagnostics built for {n} fields");
    let (errors, _) = tenantc::diagnostics::totals(&a.diagnostics);
    assert!(errors >= n, "the summary counts {errors} of {n}");
    assert!(a.diagnostics.len() <= tenantc::diagnostics::MAX_PER_FILE + 5);

    // The same for E0402 in zcx-nfs: 20,000 clients no node has.
    let site = dir.join("zcx");
    std::fs::create_dir(&site).expect("mkdir");
    let spec =
        std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant")).expect("example");
    let extra: Vec<String> = (0..20_000u32)
        .map(|i| format!("10.{}.{}.{}", 100 + i / 65536, (i / 256) % 256, i % 256))
        .collect();
    let at = spec.find("clients").expect("clients in the example");
    let open = at + spec[at..].find('[').expect("[");
    let spec = format!(
        "{}{}, {}",
        &spec[..=open],
        extra.join(", "),
        &spec[open + 1..]
    );
    std::fs::write(site.join("site.tenant"), spec).expect("write");
    let inputs = tenantc::find_inputs(std::slice::from_ref(&site)).expect("inputs");
    let before = tenantc::diagnostics::built();
    let a = tenantc::analyze(&inputs, &tenantc::Options::default()).expect("analysis");
    let built = tenantc::diagnostics::built() - before;
    eprintln!("{built} diagnostics built for 20,000 unknown clients");
    assert!(
        built < 2_000,
        "{built} diagnostics built for 20,000 clients"
    );
    let (errors, _) = tenantc::diagnostics::totals(&a.diagnostics);
    assert!(errors >= 20_000, "the summary counts {errors}");
}

/// A committed bundle is untrusted input like a spec: a deployed inventory
/// whose object names, owners or export lines would break out of the JCL,
/// the exports file, a path or CHANGE.md a plan writes them into is refused
/// whole (exit 2, nothing written, the text not quoted back), and the names
/// never reach a change file. Without `bundle::admit` the first case wrote
/// `//STEP2 EXEC PGM=IEFBR14` as a card of the delete job.
#[test]
fn a_tampered_deployed_inventory_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(tmp.path()).expect("utf-8");
    let site = dir.join("site");
    std::fs::create_dir(&site).expect("mkdir");
    let text = std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant")).expect("spec");
    std::fs::write(site.join("site.tenant"), &text).expect("write");
    let o = run(dir, &["compile", "site", "--out", "deployed"]);
    assert!(o.status.success(), "{}", text_of(&o));
    // The tenant `fios` is removed, so a plan deletes what it owned.
    let start = text.find("tenant fios {").expect("tenant fios");
    let mut depth = 0;
    let end = start
        + text[start..]
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                c == '}' && depth == 0
            })
            .expect("block end")
            .0;
    std::fs::write(
        site.join("site.tenant"),
        format!("{}{}", &text[..start], &text[end + 1..]),
    )
    .expect("write");
    let deployed =
        std::fs::read_to_string(dir.join("deployed/inventory.jsonl")).expect("inventory");
    let user = deployed
        .lines()
        .find(|l| l.contains("\"kind\":\"racf-user\"") && l.contains("\"NFSTST\""))
        .expect("NFSTST line")
        .to_string();
    let export = deployed
        .lines()
        .find(|l| l.contains("\"kind\":\"export\""))
        .expect("export line")
        .to_string();
    // The untampered inventory plans (the test can fail only by its cases).
    let o = run(
        dir,
        &["plan", "site", "--deployed", "deployed", "--out", "change"],
    );
    assert!(o.status.success(), "{}", text_of(&o));
    assert!(text_of(&o).contains("racf-user NFSTST"), "{}", text_of(&o));
    std::fs::remove_dir_all(dir.join("change")).expect("rm");
    let cases = [
        (
            user.clone(),
            user.replace("\"NFSTST\"", "\"EVIL\\n//STEP2 EXEC PGM=IEFBR14\""),
        ),
        (user.clone(), user.replace("\"fios\"", "\"fios\\n## done\"")),
        (
            user.clone(),
            user.replace(
                "\"racf-user\",\"name\":\"NFSTST\"",
                "\"permit\",\"name\":\"FACILITY BPX.SUPERUSER) ALTER ID(EVIL\"",
            ),
        ),
        (
            export.clone(),
            export.replace("|10.1.1.3\"", "|10.1.1.3\\n/ -rw\""),
        ),
        (
            export.clone(),
            export.replace("\"file\":\"zos/NP8/nfs/", "\"file\":\"zos/NP8/../../"),
        ),
        (user.clone(), user.replace("\"zos/NP8\"", "\"zos/../../x\"")),
    ];
    for (from, to) in cases {
        assert_ne!(from, to, "the case changes the line");
        std::fs::write(
            dir.join("deployed/inventory.jsonl"),
            deployed.replace(&from, &to),
        )
        .expect("tamper");
        let o = run(
            dir,
            &["plan", "site", "--deployed", "deployed", "--out", "change"],
        );
        let said = text_of(&o);
        assert_eq!(o.status.code(), Some(2), "{to}\n{said}");
        assert!(
            said.contains("not an inventory tenantc wrote (line "),
            "{said}"
        );
        for quoted in ["EVIL", "IEFBR14", "## done", "/ -rw", "../"] {
            assert!(!said.contains(quoted), "{quoted} quoted back: {said}");
        }
        assert!(
            !dir.join("change").exists(),
            "a change was written for {to}"
        );
    }
}

/// zcx-nfs compiled into `dir/deployed`, its spec copied to `dir/site` with
/// `edits` (from, to) applied: the deployed inventory's text.
fn deployed_zcx(dir: &Utf8Path, edits: &[(&str, &str)]) -> String {
    let site = dir.join("site");
    std::fs::create_dir_all(&site).expect("mkdir");
    let text = std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant")).expect("spec");
    std::fs::write(site.join("site.tenant"), &text).expect("write");
    let o = run(dir, &["compile", "site", "--out", "deployed"]);
    assert!(o.status.success(), "{}", text_of(&o));
    let mut edited = text;
    for (from, to) in edits {
        assert!(edited.contains(from), "{from}");
        edited = edited.replace(from, to);
    }
    std::fs::write(site.join("site.tenant"), edited).expect("write");
    std::fs::read_to_string(dir.join("deployed/inventory.jsonl")).expect("inventory")
}

fn append(dir: &Utf8Path, lines: &[&str]) {
    let inv = dir.join("deployed/inventory.jsonl");
    let mut text = std::fs::read_to_string(&inv).expect("inventory");
    for l in lines {
        text.push_str(&l.replace("$D", &"a".repeat(64)));
        text.push('\n');
    }
    std::fs::write(inv, text).expect("append");
}

/// A forged export line kept open while a tenant changes is not kept: its
/// addresses are no node of the site, or it nests with the tenant's own
/// export (red team H1: `/hfs -access=203.0.113.66` was written into the
/// exports file of the creation step). The plan still runs.
#[test]
fn a_forged_export_is_not_kept_open() {
    for (forged, why) in [
        ("/hfs -access=203.0.113.66", "no node of the site"),
        ("/hfs -access=10.1.1.1", "nest with another export"),
    ] {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = Utf8Path::from_path(tmp.path()).expect("utf-8");
        deployed_zcx(dir, &[("replicas = 1", "replicas = 2")]);
        append(dir, &[&format!(
            "{{\"target\":\"zos/NP8\",\"kind\":\"export\",\"name\":\"MVSNFS8 /hfs\",\"owners\":[\"fios\"],\"file\":\"zos/NP8/nfs/MVSNFS8.exports\",\"digest\":\"$D\",\"text\":\"{forged}\"}}"
        )]);
        let o = run(
            dir,
            &["plan", "site", "--deployed", "deployed", "--out", "change"],
        );
        assert!(o.status.success(), "{}", text_of(&o));
        let exports = std::fs::read_to_string(dir.join("change/zos/NP8/nfs/MVSNFS8.exports"))
            .expect("the exports file of the change");
        assert!(
            !exports.lines().any(|l| l == forged),
            "{forged} kept open:\n{exports}"
        );
        assert!(
            exports.contains("the deployed export of /hfs is not kept"),
            "{exports}"
        );
        assert!(exports.contains(why), "{exports}");
    }
}

/// Forged lines that pass the spelling rules but name what tenantc never
/// creates (a cluster role binding, a system namespace, a system directory)
/// or put a live object of one tenant under another are refused whole
/// (red team H2), not deleted with a removed tenant.
#[test]
fn forged_objects_a_plan_would_delete_are_refused() {
    let cases = [
        r#"{"target":"cluster/ocp1","kind":"ClusterRoleBinding","name":"cluster-admin","owners":["fios"],"file":"k8s/ocp1/fios/namespace.yaml","digest":"$D"}"#,
        r#"{"target":"cluster/ocp1","kind":"Namespace","name":"kube-system","owners":["fios"],"file":"k8s/ocp1/fios/namespace.yaml","digest":"$D"}"#,
        r#"{"target":"cluster/ocp1","kind":"Secret","name":"openshift-etcd/x","owners":["fios"],"file":"k8s/ocp1/fios/namespace.yaml","digest":"$D"}"#,
        r#"{"target":"zos/NP8","kind":"directory","name":"/etc","owners":["fios"],"file":"zos/NP8/uss/homes-NP8.sh","digest":"$D"}"#,
        r#"{"target":"cluster/ocp1","kind":"PersistentVolumeClaim","name":"fios/data-0","owners":["ghost"],"file":"k8s/ocp1/fios/namespace.yaml","digest":"$D"}"#,
    ];
    for forged in cases {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = Utf8Path::from_path(tmp.path()).expect("utf-8");
        deployed_zcx(dir, &[("replicas = 1", "replicas = 2")]);
        append(dir, &[r#"{"tenant":"ghost","digest":"$D"}"#, forged]);
        let o = run(
            dir,
            &[
                "plan",
                "site",
                "--deployed",
                "deployed",
                "--out",
                "change",
                "--remove-directories",
            ],
        );
        let said = text_of(&o);
        assert_eq!(o.status.code(), Some(2), "{forged}\n{said}");
        assert!(
            said.contains("not an inventory tenantc wrote (line "),
            "{said}"
        );
        assert!(
            !dir.join("change").exists(),
            "a change was written for {forged}"
        );
    }
}

/// Two deployed certificates claiming one role are refused, not paired as
/// a renewal (red team H3: a forged CERTAUTH certificate with the
/// authority's role was rolled over in the creation job), and a refused
/// plan writes nothing (M3). A certificate moved to another user ID is
/// created and deleted, not rolled over (M1).
#[test]
fn renewals_pair_one_certificate_of_one_owner() {
    let relabel = [
        (
            "label   = \"CA Cert for zCX HAPROXY\"",
            "label   = \"CA Cert 2029\"",
        ),
        (
            "label     = \"NFS Server Cert\"",
            "label     = \"NFS Server Cert 2029\"",
        ),
        (
            "label     = \"NFSTST Private Cert\"",
            "label     = \"NFSTST Cert 2029\"",
        ),
    ];
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(tmp.path()).expect("utf-8");
    deployed_zcx(dir, &relabel);
    let o = run(
        dir,
        &["plan", "site", "--deployed", "deployed", "--out", "change"],
    );
    assert!(
        o.status.success(),
        "the renewal alone plans: {}",
        text_of(&o)
    );
    std::fs::remove_dir_all(dir.join("change")).expect("rm");
    append(
        dir,
        &[
            r#"{"target":"zos/NP8","kind":"certificate","name":"CERTAUTH/A Site Root CA","file":"zos/NP8/jcl/1-authority-zcx_ca.jcl","digest":"$D","role":"authority:zcx_ca"}"#,
        ],
    );
    let o = run(
        dir,
        &["plan", "site", "--deployed", "deployed", "--out", "change"],
    );
    let said = text_of(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("certificates of role authority:zcx_ca"),
        "{said}"
    );
    assert!(said.contains("nothing written"), "{said}");
    assert!(
        !dir.join("change").exists(),
        "a refused plan wrote its change"
    );

    let tmp = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(tmp.path()).expect("utf-8");
    deployed_zcx(dir, &[("user      = NFSTST", "user      = NFSNEW")]);
    let o = run(
        dir,
        &["plan", "site", "--deployed", "deployed", "--out", "change"],
    );
    assert!(o.status.success(), "{}", text_of(&o));
    let create = std::fs::read_to_string(dir.join("change/zos/NP8/jcl/C1-create.jcl")).expect("C1");
    assert!(!create.contains(" ROLLOVER("), "{create}");
    assert!(
        create.contains("GENCERT"),
        "the moved certificate is made: {create}"
    );
}

/// `--out` may not be the deployed bundle, lie inside it, or hold it: the
/// change replaces `--out` whole (red team L1).
#[test]
fn a_change_is_not_written_over_the_deployed_bundle() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(tmp.path()).expect("utf-8");
    deployed_zcx(dir, &[("replicas = 1", "replicas = 2")]);
    let before = std::fs::read(dir.join("deployed/APPLY.md")).expect("APPLY.md");
    for out in ["deployed", "deployed/change", "./deployed/../deployed", "."] {
        let o = run(
            dir,
            &["plan", "site", "--deployed", "deployed", "--out", out],
        );
        let said = text_of(&o);
        assert_eq!(o.status.code(), Some(2), "--out {out}: {said}");
        assert!(said.contains("overlap"), "{said}");
    }
    assert_eq!(
        std::fs::read(dir.join("deployed/APPLY.md")).expect("APPLY.md"),
        before
    );
    assert!(!dir.join("deployed/change").exists());
}
