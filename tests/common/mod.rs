//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod lsp;
pub mod mutate;
pub mod site;

use camino::{Utf8Path, Utf8PathBuf};
use std::process::{Command, Output};
use tenantc::diagnostics::{render_human, HumanStyle};

/// Runs the real binary with arguments, from the crate root.
pub fn tenantc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenantc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the tenantc binary runs")
}

pub fn root() -> Utf8PathBuf {
    Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `text` as `<dir>/site.tenant` in a fresh temporary directory.
pub fn spec_in_tmp(text: &str) -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .join("site.tenant");
    std::fs::write(&path, text).expect("write spec");
    (dir, path)
}

/// The zcx-nfs example with `from` replaced by `to` (which must occur once).
pub fn mutated_example(from: &str, to: &str) -> String {
    let text =
        std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant")).expect("example");
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` must occur exactly once in the example"
    );
    text.replace(from, to)
}

/// Analyzes a spec text; returns the codes and the rendered diagnostics, with
/// the temporary path replaced by `site.tenant`.
pub fn diagnose(text: &str) -> (Vec<String>, String) {
    let (_dir, path) = spec_in_tmp(text);
    let a = tenantc::analyze(std::slice::from_ref(&path), &tenantc::Options::default())
        .expect("analysis runs");
    let codes = a.diagnostics.iter().map(|d| d.code.to_string()).collect();
    let rendered = render_human(&a.sources, &a.diagnostics, HumanStyle::Plain)
        .replace(path.as_str(), "site.tenant");
    (codes, rendered)
}

/// The entries of a directory under the crate root that pass `keep`, sorted.
pub fn entries(dir: &str, keep: impl Fn(&Utf8Path) -> bool) -> Vec<Utf8PathBuf> {
    let mut out: Vec<Utf8PathBuf> = root()
        .join(dir)
        .read_dir_utf8()
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path().to_path_buf())
        .filter(|p| keep(p))
        .collect();
    out.sort();
    out
}

/// The example directories, sorted.
pub fn examples() -> Vec<Utf8PathBuf> {
    entries("examples", |p| p.is_dir())
}

/// A program the tests hand generated files to. Missing: `None` (the test
/// skips) outside CI, a failure when `CI` is set, since `.ci/run` installs it.
pub fn require_tool(name: &str) -> Option<Utf8PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/local/bin"])
        .map(|d| Utf8Path::new(d).join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed; .ci/run installs it"
        );
        eprintln!("skipping: {name} is not installed (run .ci/run to install it)");
    }
    found
}

/// The subject of the example tenant's client certificate.
pub const CLIENT_CN: &str = "NFSTST Private Cert";

/// The example server certificate's ALTNAME DOMAIN (its default,
/// `<jobname>.<system>`), which the generated haproxy.cfg verifies.
pub const SERVER_HOST: &str = "mvsnfs8.np8";

/// Certificates made as the RACF jobs make them, in `dir`.
pub struct Pki {
    pub dir: Utf8PathBuf,
}

impl Pki {
    /// An authority, a server certificate (HANDSHAKE DATAENCRYPT: digital
    /// signature, key encipherment; ALTNAME DOMAIN and IP) and the tenant's
    /// client certificate (HANDSHAKE only), as the RACF jobs would create
    /// them; plus an unrelated authority and an impostor: a server
    /// certificate of the same authority with another name.
    pub fn new(openssl: &Utf8Path, dir: &Utf8Path) -> Pki {
        let run = |args: &[&str]| {
            let o = Command::new(openssl)
                .args(args)
                .current_dir(dir)
                .output()
                .expect("openssl runs");
            assert!(
                o.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        };
        std::fs::write(
            dir.join("ext.cnf"),
            format!("[server]\nkeyUsage = critical, digitalSignature, keyEncipherment\nsubjectAltName = DNS:{SERVER_HOST}, IP:10.1.1.9\n\
             [impostor]\nkeyUsage = critical, digitalSignature, keyEncipherment\nsubjectAltName = DNS:other.np8, IP:10.1.1.9\n\
             [client]\nkeyUsage = critical, digitalSignature\n"),
        )
        .expect("write");
        for (key, cert, cn) in [
            ("ca.key", "cert-auth.pem", "CA Cert for zCX HAPROXY"),
            ("other.key", "other-ca.pem", "Other CA"),
        ] {
            run(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                key,
                "-out",
                cert,
                "-days",
                "2",
                "-subj",
                &format!("/CN={cn}"),
            ]);
        }
        for (name, cn, ext) in [
            ("server", "NFS Server Cert", "server"),
            ("client", CLIENT_CN, "client"),
            ("impostor", "NFS Server Cert", "impostor"),
        ] {
            run(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ]);
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "cert-auth.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.crt"),
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
                "-extensions",
                ext,
            ]);
        }
        let pem = [
            std::fs::read(dir.join("client.crt")).expect("crt"),
            std::fs::read(dir.join("client.key")).expect("key"),
        ]
        .concat();
        std::fs::write(dir.join("client-cert.pem"), pem).expect("write");
        Pki {
            dir: dir.to_path_buf(),
        }
    }
}

/// Every file below `dir`, sorted.
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every file below `dir` with its bytes, by path relative to `dir`.
pub fn read_tree(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p.strip_prefix(dir).expect("inside").to_path_buf(), bytes)
        })
        .collect()
}

/// `tenantc compile SPEC --out OUT EXTRA...`, from the crate root.
pub fn compile(spec: &str, out: &str, extra: &[&str]) -> Output {
    let mut args = vec!["compile", spec, "--out", out];
    args.extend_from_slice(extra);
    tenantc(&args)
}

/// Runs tests/tools/jsonschema_check.py (Python's jsonschema) on `docs`.
pub fn schema_check(python: &Utf8Path, schema: &str, docs: &[Utf8PathBuf]) -> (bool, String) {
    let o = Command::new(python)
        .arg(root().join("tests/tools/jsonschema_check.py"))
        .arg(root().join("schemas").join(schema))
        .args(docs.iter().map(|d| d.as_str()))
        .output()
        .expect("python runs");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// python3 with the jsonschema and yaml modules, as `.ci/run` installs them.
pub fn python_with_jsonschema() -> Option<Utf8PathBuf> {
    let python = require_tool("python3")?;
    let ok = Command::new(&python)
        .args(["-c", "import jsonschema, yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 lacks jsonschema or PyYAML; .ci/run installs them"
        );
        eprintln!("skipping: python3 lacks jsonschema or PyYAML (run .ci/run)");
        return None;
    }
    Some(python)
}

/// A clean spec compiled into `dir/<its name>`: the bundle's directory and
/// the analysis it came from.
pub fn compile_into(spec: &Utf8Path, dir: &Utf8Path) -> (Utf8PathBuf, tenantc::Analysis) {
    let inputs = tenantc::find_inputs(&[spec.to_path_buf()]).expect("inputs");
    let opts = tenantc::Options::default();
    let a = tenantc::analyze(&inputs, &opts).expect("analysis");
    assert!(!a.has_errors(), "{spec}");
    let b = tenantc::build_bundle(&a, &opts).expect("bundle");
    let target = dir.join(spec.file_name().expect("name"));
    tenantc::bundle::write(&b, &target).expect("write");
    (target, a)
}

/// The files under `dir` that `pred` keeps.
pub fn files(dir: &Utf8Path, pred: &dyn Fn(&Utf8Path) -> bool) -> Vec<Utf8PathBuf> {
    walk(dir.as_std_path())
        .into_iter()
        .map(|p| Utf8PathBuf::from_path_buf(p).expect("utf-8"))
        .filter(|p| pred(p))
        .collect()
}
