//! The command line as a pipeline sees it: exit codes, quiet success,
//! machine-readable diagnostics, refusing to clobber, `explain`.

use crate::common;

use common::{compile, root, tenantc};

fn code(args: &[&str]) -> Option<i32> {
    tenantc(args).status.code()
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&[]), Some(2));
    assert_eq!(
        code(&["compile", "examples/zcx-nfs"]),
        Some(2),
        "--out is required"
    );
    assert_eq!(code(&["frobnicate"]), Some(2));
    assert_eq!(
        code(&["check", "--diagnostics-format", "xml", "examples/zcx-nfs"]),
        Some(2)
    );
}

#[test]
fn io_errors_exit_2() {
    assert_eq!(code(&["check", "does/not/exist.tenant"]), Some(2));
    let empty = tempfile::tempdir().expect("tmp");
    assert_eq!(
        code(&["check", empty.path().to_str().expect("utf-8")]),
        Some(2),
        "a directory without specs"
    );
}

#[test]
fn check_is_quiet_and_succeeds_on_the_examples() {
    let o = tenantc(&["check", "examples"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.is_empty());
    assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1);
}

#[test]
fn json_diagnostics_are_one_object_per_line() {
    let o = tenantc(&[
        "check",
        "--diagnostics-format",
        "json",
        "tests/bad/dvipa_not_covered.tenant",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let d = &lines[0];
    assert_eq!(d["code"], "E0401");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "tests/bad/dvipa_not_covered.tenant");
    assert_eq!(d["start"]["line"], 19);
    assert!(d["help"].as_str().is_some_and(|h| h.contains("10.2.0.2")));
    assert!(d["related"].as_array().is_some_and(|r| r.len() == 2));
}

#[test]
fn explain_knows_every_code() {
    for info in tenantc::diagnostics::registry::all() {
        let o = tenantc(&["explain", info.code.as_str()]);
        assert_eq!(o.status.code(), Some(0));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.starts_with(info.code.as_str()) && text.contains(info.summary),
            "{text}"
        );
    }
    assert_eq!(code(&["explain", "E9999"]), Some(2));
    let all = tenantc(&["explain", "all"]);
    assert_eq!(
        String::from_utf8_lossy(&all.stdout).lines().count(),
        tenantc::diagnostics::registry::all().len()
    );
}

#[test]
fn every_code_used_in_the_source_is_registered() {
    // Codes are referenced as `registry::NAME`; each must exist (the compiler
    // checks that) and each registered code should be used somewhere.
    let mut sources = String::new();
    for dir in [
        "src/syntax",
        "src/resolve",
        "src/plan",
        "src/check",
        "src/lower",
        "src/bundle",
        // `normalize` reports TOO_MANY.
        "src/diagnostics",
    ] {
        for e in root()
            .join(dir)
            .read_dir_utf8()
            .expect("src dir")
            .filter_map(Result::ok)
        {
            if e.path().extension() == Some("rs") && e.file_name() != "registry.rs" {
                sources.push_str(&std::fs::read_to_string(e.path()).expect("read"));
            }
        }
    }
    let registry =
        std::fs::read_to_string(root().join("src/diagnostics/registry.rs")).expect("registry");
    for line in registry.lines() {
        let Some((name, _)) = line.trim().split_once(" = \"E") else {
            continue;
        };
        // A retired code stays registered so that `explain` answers it.
        if name == "INTERNAL" || name.starts_with("RETIRED_") {
            continue;
        }
        assert!(
            sources.contains(&format!("registry::{name}")),
            "code {name} is registered but never reported"
        );
    }
}

#[test]
fn compile_refuses_to_replace_an_unrelated_directory() {
    let dir = tempfile::tempdir().expect("tmp");
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "keep me").expect("write");
    let o = compile("examples/zcx-nfs", dir.path().to_str().expect("utf-8"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&precious).expect("still there"),
        "keep me"
    );
}

#[test]
fn recompiling_replaces_the_bundle_and_drops_stale_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("bundle");
    let out_s = out.to_str().expect("utf-8");
    assert_eq!(
        code(&["compile", "examples/zcx-nfs", "--out", out_s]),
        Some(0)
    );
    std::fs::write(out.join("stale.yaml"), "old").expect("write");
    assert_eq!(
        code(&["compile", "examples/zcx-nfs", "--out", out_s]),
        Some(0)
    );
    assert!(!out.join("stale.yaml").exists());
    assert!(out.join("manifest.json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["bundle"],
        "no temporary directories left behind"
    );
}

#[test]
fn a_site_over_several_files_with_an_aliased_import() {
    let o = tenantc(&["check", "tests/fixtures/multi"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let inputs = tenantc::find_inputs(&[root().join("tests/fixtures/multi")]).expect("inputs");
    assert_eq!(inputs.len(), 3, "lib/ is searched too");
    let a = tenantc::analyze(&inputs, &tenantc::Options::default()).expect("analysis");
    let server = &a.site.systems[0].servers[0];
    assert_eq!(
        server.tls.profile.value, "strict",
        "resolved through the alias"
    );
    assert_eq!(server.tls.versions.len(), 2);
    assert_eq!(server.ports.value.high, 2049);
    let b = tenantc::build_bundle(&a, &tenantc::Options::default()).expect("bundle");
    let policy = String::from_utf8_lossy(&b.files["zos/SYS2/pagent/NFS2.policy"].bytes).to_string();
    assert!(
        policy.contains("TLSv1.3                       On"),
        "{policy}"
    );
    let pv =
        String::from_utf8_lossy(&b.files["k8s/k1/cluster/persistentvolume-shop-orders.yaml"].bytes)
            .to_string();
    assert!(
        pv.contains("- ReadWriteOnce") && pv.contains("server: 10.96.0.50"),
        "{pv}"
    );
}

#[test]
fn a_stdlib_directory_overrides_templates() {
    let dir = tempfile::tempdir().expect("tmp");
    let stdlib = dir.path().join("stdlib");
    std::fs::create_dir_all(stdlib.join("std")).expect("mkdir");
    std::fs::create_dir_all(stdlib.join("templates")).expect("mkdir");
    std::fs::copy(
        root().join("stdlib/std/profiles.tenant"),
        stdlib.join("std/profiles.tenant"),
    )
    .expect("copy");
    std::fs::write(
        stdlib.join("templates/haproxy.cfg.j2"),
        "# custom for {{ tenant }}\n",
    )
    .expect("write");
    let out = dir.path().join("b");
    let o = tenantc(&[
        "compile",
        "examples/zcx-nfs",
        "--stdlib",
        stdlib.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("k8s/ocp1/haproxy/haproxy.cfg")).expect("cfg"),
        "# custom for fios\n"
    );
}

/// A spec that names no profile: its server's `tls` and `ports` and its
/// proxy's `haproxy` take the schema's defaults, which name prelude profiles.
const NO_PROFILES: &str = r#"zos SYS0 {
  address = 10.99.0.1
  authority ca {
    label   = "Site CA"
    subject = { CN = "Site CA" }
    export  = dataset("SYS0.SITE.CA")
  }
  nfs_server NFS0 {
    keyring = NFS-RING
    clients = [10.100.0.1]
    PORTS
    certificate { label = "NFS Server", subject = { CN = "nfs0.example.com" }, signed_by = ca }
  }
}
cluster ocp0 {
  kind         = openshift
  service_cidr = 172.30.0.0/16
  node w0 { dvipa = 10.100.0.1 }
}
tenant t {
  cluster = ocp0
  nfs {
    server = SYS0.NFS0
    identity {
      user   = TUSER
      label  = "T client"
      export = dataset("SYS0.T.P12", password = env("T_P12"))
    }
    proxy { cluster_ip = 172.30.0.20 }
    volume data { export = "/hfs/t", size = 2Gi }
  }
}
"#;

/// The bundle's files but the manifest (which hashes the prelude), or the
/// diagnostics' codes and messages, of `spec` written to `path`.
fn bundle_of(
    path: &camino::Utf8Path,
    spec: &str,
    stdlib: Option<&camino::Utf8Path>,
) -> Result<Vec<(String, String)>, Vec<String>> {
    std::fs::write(path, spec).expect("write");
    let opts = tenantc::Options {
        stdlib_dir: stdlib.map(camino::Utf8Path::to_path_buf),
        ..Default::default()
    };
    let a = tenantc::analyze(&[path.to_path_buf()], &opts).expect("analysis");
    if a.has_errors() {
        return Err(a
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.code, d.message))
            .collect());
    }
    let b = tenantc::build_bundle(&a, &opts).expect("bundle");
    Ok(b.files
        .into_iter()
        // Both record the inputs (the stdlib differs): compared apart.
        .filter(|(p, _)| p != "manifest.json" && p != "inventory.jsonl")
        .map(|(p, f)| (p, String::from_utf8_lossy(&f.bytes).into_owned()))
        .collect())
}

#[test]
fn without_prelude_profiles_the_schema_defaults_apply() {
    // The embedded prelude's profiles hold what the schema's defaults are
    // for a profile of each kind; a stdlib that declares none gives the
    // same bundle, once the ports (a port_set has no default) are written.
    let (dir, path) = common::spec_in_tmp("");
    let stdlib = camino::Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .join("stdlib");
    std::fs::create_dir_all(stdlib.join("std")).expect("mkdir");
    std::fs::write(stdlib.join("std/profiles.tenant"), "# no profiles\n").expect("write");
    let given = NO_PROFILES.replace("PORTS", "ports = 2043..2049");
    let absent = NO_PROFILES.replace("PORTS", "");
    let embedded = bundle_of(&path, &given, None).expect("clean with the embedded stdlib");
    assert!(embedded.iter().any(|(p, _)| p.ends_with("haproxy.cfg")));
    assert_eq!(
        bundle_of(&path, &given, Some(&stdlib)).expect("clean"),
        embedded
    );
    // The header comments name the spec, not its text: the same path.
    assert_eq!(bundle_of(&path, &absent, None).expect("clean"), embedded);
    // Without ports and without the port set their default names: the
    // server must say.
    let errors = bundle_of(&path, &absent, Some(&stdlib)).expect_err("no ports");
    assert_eq!(
        errors,
        ["E0302 `nfs_server NFS0` has no `ports`, and the stdlib declares no port_set `zos_nfs` to take them from"]
    );
}

#[test]
fn compile_check_reports_drift_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("bundle");
    let out_s = out.to_str().expect("utf-8");
    let check = || compile("examples/zcx-nfs", out_s, &["--check"]);

    // No bundle yet: everything is missing, and nothing is created.
    let o = check();
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists(), "--check wrote a bundle");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("43 missing"),
        "{o:?}"
    );

    assert_eq!(
        compile("examples/zcx-nfs", out_s, &[]).status.code(),
        Some(0)
    );
    let o = check();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(o.stdout.is_empty());

    // A hand edit, a deleted file and a stray file are all drift.
    let deployment = out.join("k8s/ocp1/fios/deployment-fios.yaml");
    let text = std::fs::read_to_string(&deployment).expect("read");
    std::fs::write(&deployment, text.replace("replicas: 1", "replicas: 3")).expect("write");
    std::fs::remove_file(out.join("zos/NP8/pagent/MVSNFS8.policy")).expect("rm");
    std::fs::write(out.join("k8s/ocp1/stray.yaml"), "kind: ConfigMap\n").expect("write");
    let before = std::fs::read_to_string(&deployment).expect("read");
    let o = check();
    assert_eq!(o.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(
        diff.contains("--- a/k8s/ocp1/fios/deployment-fios.yaml"),
        "{diff}"
    );
    assert!(diff.contains("-  replicas: 3\n+  replicas: 1\n"), "{diff}");
    assert!(
        diff.contains("+++ b/zos/NP8/pagent/MVSNFS8.policy"),
        "{diff}"
    );
    assert!(diff.contains("stale k8s/ocp1/stray.yaml"), "{diff}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 changed, 1 missing, 1 stale"),
        "{o:?}"
    );
    assert_eq!(std::fs::read_to_string(&deployment).expect("read"), before);
}

#[test]
fn compile_check_never_prints_a_secret() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("bundle");
    let out_s = out.to_str().expect("utf-8");
    let token = "19ead418-bec7-09cb-83bb-e679a9307788";
    let secrets = [
        ("CUSTOMER1_PURE_TOKEN", token),
        (
            "CUSTOMER2_PURE_TOKEN",
            "29ead418-bec7-09cb-83bb-e679a9307788",
        ),
        ("CUSTOMER1_MONGO_PASSWORD", "mongo-pw-123"),
        ("CUSTOMER2_POSTGRES_PASSWORD", "pg-pw-456"),
    ];
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tenantc"))
            .args(args)
            .current_dir(root())
            .envs(secrets)
            .output()
            .expect("runs")
    };
    let o = run(&[
        "compile",
        "examples/px-pure-saw",
        "--out",
        out_s,
        "--materialize-secrets",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = run(&[
        "compile",
        "examples/px-pure-saw",
        "--out",
        out_s,
        "--check",
        "--materialize-secrets",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // Without materializing, pure.json would hold placeholders: drift, but
    // the diff shows neither the token nor the secret files' content.
    let o = run(&["compile", "examples/px-pure-saw", "--out", out_s, "--check"]);
    assert_eq!(o.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for (_, v) in secrets {
        assert!(!all.contains(v), "{all}");
    }
    assert!(!all.contains("pure.json\n+"), "{all}");
}

#[test]
fn compiling_some_tenants_writes_their_files_and_the_shared_ones_whole() {
    let tmp = tempfile::tempdir().expect("tmp");
    let full = tmp.path().join("full");
    let part = tmp.path().join("part");
    let o = compile("examples/mixed-site", full.to_str().expect("utf-8"), &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    for tenant in ["ledger", "analytics"] {
        let _ = std::fs::remove_dir_all(&part);
        let o = compile(
            "examples/mixed-site",
            part.to_str().expect("utf-8"),
            &["--tenant", tenant],
        );
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(part.join("manifest.json")).expect("manifest"),
        )
        .expect("json");
        assert_eq!(manifest["only_tenants"], serde_json::json!([tenant]));
        let mut files = 0;
        for f in manifest["files"].as_array().expect("files") {
            let path = f["path"].as_str().expect("path");
            let tenants: Vec<&str> = f["tenants"]
                .as_array()
                .expect("tenants")
                .iter()
                .filter_map(|t| t.as_str())
                .collect();
            assert!(tenants.contains(&tenant), "{path} belongs to {tenants:?}");
            files += 1;
            if path.ends_with("kustomization.yaml") || path == "inventory.jsonl" {
                continue; // lists this part's resources (objects) only
            }
            // Every other file is exactly the full compile's.
            assert_eq!(
                std::fs::read(part.join(path)).expect("part"),
                std::fs::read(full.join(path)).expect("full"),
                "{path}"
            );
        }
        assert!(files >= 8, "{tenant}: {files} files");
    }
    // The other tenant's own files are not written.
    assert!(!part.join("zos/PRD1/jcl/3-client-ledger.jcl").exists());
    assert!(part.join("pure/fa_west/setup.sh").exists());

    let o = compile(
        "examples/mixed-site",
        part.to_str().expect("utf-8"),
        &["--tenant", "ledgr"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("did you mean `ledger`?"),
        "{o:?}"
    );
}

#[test]
fn graph_draws_the_examples() {
    for (example, must) in [
        (
            "examples/zcx-nfs",
            &[
                "\"tenant/fios\" -> \"proxy/ocp1/haproxy\" [label=\"NFS\"];",
                "\"node/ocp1/worker3\" -> \"nfs/NP8/MVSNFS8\" [label=\"TLS 2043..2049\"];",
                "DVIPA 10.1.1.3",
            ][..],
        ),
        (
            "examples/px-pure-saw",
            &[
                "\"tenant/customer1\" -> \"realm/fa1/customer1\" [label=\"Pure\"];",
                "\"pod/fa1/customer1::pod\" -> \"sc/k8s1/fada-pod-sc\";",
                "\"px/k8s2\" -> \"pod/fa1/customer2::pod\" [label=\"cloud drives\"];",
            ][..],
        ),
        (
            "examples/mixed-site",
            &[
                "\"tenant/ledger\" -> \"realm/fa_east/ledger\"",
                "\"nfs/PRD1/NFSPRD\" -> \"standby/PRD2/NFSPRD\" [label=\"may move\"];",
            ][..],
        ),
    ] {
        let o = tenantc(&["graph", example]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let dot = String::from_utf8_lossy(&o.stdout);
        assert!(dot.starts_with("digraph site {"), "{dot}");
        for m in must {
            assert!(dot.contains(m), "{example}: missing {m}\n{dot}");
        }
        assert_eq!(
            tenantc(&["graph", example]).stdout,
            o.stdout,
            "deterministic"
        );
        let mut edges = std::collections::BTreeSet::new();
        for line in dot.lines().filter(|l| l.contains(" -> ")) {
            assert!(edges.insert(line), "{example}: edge drawn twice: {line}");
        }
        if let Some(graphviz) = common::require_tool("dot") {
            // graphviz parses it, and `--format svg` renders through it.
            let tmp = tempfile::tempdir().expect("tmp");
            let file = tmp.path().join("site.dot");
            std::fs::write(&file, dot.as_bytes()).expect("write");
            let check = std::process::Command::new(graphviz.as_str())
                .args(["-Tcanon", file.to_str().expect("utf-8")])
                .output()
                .expect("dot runs");
            assert!(check.status.success(), "{check:?}");
            let svg = tmp.path().join("site.svg");
            let o = tenantc(&[
                "graph",
                example,
                "--format",
                "svg",
                "--output",
                svg.to_str().expect("utf-8"),
            ]);
            assert_eq!(o.status.code(), Some(0), "{o:?}");
            let text = std::fs::read_to_string(&svg).expect("svg");
            assert!(
                text.contains("<svg") && text.contains("tenant "),
                "{example}"
            );
        }
    }
    // A site with errors draws nothing.
    let o = tenantc(&["graph", "tests/bad/pure_realm_shared.tenant"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
}

#[test]
fn compile_refuses_to_replace_a_bundle_that_holds_its_inputs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("bundle");
    let out_s = out.to_str().expect("utf-8");
    assert_eq!(
        compile("examples/zcx-nfs", out_s, &[]).status.code(),
        Some(0)
    );
    let specs = out.join("specs");
    std::fs::create_dir_all(&specs).expect("mkdir");
    std::fs::copy(
        root().join("examples/zcx-nfs/site.tenant"),
        specs.join("site.tenant"),
    )
    .expect("copy");
    let o = compile(specs.to_str().expect("utf-8"), out_s, &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("an input of this compile"));
    assert!(specs.join("site.tenant").exists(), "the spec survived");
}

#[test]
fn a_partial_compile_never_replaces_a_bundle_of_other_tenants() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("bundle");
    let out_s = out.to_str().expect("utf-8");
    assert_eq!(
        compile("examples/mixed-site", out_s, &[]).status.code(),
        Some(0)
    );
    // The operator's secret file of tenant ledger.
    let ca = out.join("k8s/ocp_prod/secrets/ledger-nfs-proxy/nfs-ca/cert-auth.pem");
    std::fs::create_dir_all(ca.parent().expect("dir")).expect("mkdir");
    std::fs::write(&ca, "operator's CA\n").expect("write");
    let o = compile("examples/mixed-site", out_s, &["--tenant", "analytics"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("a directory of its own"));
    assert_eq!(
        std::fs::read_to_string(&ca).expect("kept"),
        "operator's CA\n"
    );
    // The same selection again is fine.
    let part = tmp.path().join("part");
    let part_s = part.to_str().expect("utf-8");
    for _ in 0..2 {
        let o = compile("examples/mixed-site", part_s, &["--tenant", "analytics"]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
    }
}

#[test]
fn compile_check_never_shows_a_filled_in_placeholder() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("bundle");
    let out_s = out.to_str().expect("utf-8");
    assert_eq!(
        compile("examples/px-pure-saw", out_s, &[]).status.code(),
        Some(0)
    );
    // The committed placeholder version, filled in by mistake (issue 27:
    // pure.json itself is the operator's file, never compared).
    let pure = out.join("k8s/k8s1/secrets/portworx/px-pure-secret/pure.json.placeholder");
    let text = std::fs::read_to_string(&pure).expect("read");
    std::fs::write(
        &pure,
        text.replace("${ENV:CUSTOMER1_PURE_TOKEN}", "real-token-SECRET9"),
    )
    .expect("write");
    let o = compile("examples/px-pure-saw", out_s, &["--check"]);
    assert_eq!(o.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!all.contains("SECRET9"), "{all}");
    assert!(
        all.contains("pure.json.placeholder (it holds secrets; not shown)"),
        "{all}"
    );
}

#[cfg(unix)]
#[test]
fn out_through_a_symlink_replaces_the_bundle_it_names() {
    let tmp = tempfile::tempdir().expect("tmp");
    let real = tmp.path().join("real");
    let link = tmp.path().join("link");
    let lookalike = tmp.path().join(".link.tenantc-notes");
    std::fs::create_dir_all(&lookalike).expect("mkdir");
    assert_eq!(
        compile("examples/zcx-nfs", real.to_str().expect("utf-8"), &[])
            .status
            .code(),
        Some(0)
    );
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let o = compile("examples/mixed-site", link.to_str().expect("utf-8"), &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(link.is_symlink(), "the link stays a link");
    assert!(
        real.join("pure/fa_east/setup.sh").exists(),
        "the target holds the new bundle"
    );
    assert!(!real.join("zos/NP8").exists(), "and nothing of the old one");
    assert!(
        lookalike.is_dir(),
        "a directory tenantc did not make is kept"
    );
}

/// A compile that fails after it began writing (a secret it must
/// materialize has no value) removes its staging directory at once and
/// leaves the previous bundle as it was.
#[test]
fn a_compile_failing_while_writing_leaves_the_old_bundle_and_no_staging() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("bundle");
    let out_s = out.to_str().expect("utf-8");
    let o = compile("examples/px-pure-saw", out_s, &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let manifest = std::fs::read(out.join("manifest.json")).expect("manifest");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tenantc"))
        .args(["compile", "examples/px-pure-saw", "--out", out_s])
        .arg("--materialize-secrets")
        .current_dir(root())
        .env_remove("CUSTOMER1_PURE_TOKEN")
        .env_remove("CUSTOMER2_PURE_TOKEN")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["bundle".to_string()],
        "a staging directory was left"
    );
    assert_eq!(
        std::fs::read(out.join("manifest.json")).expect("manifest"),
        manifest
    );
}

#[test]
fn version_names_the_version() {
    let o = tenantc(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("tenantc {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_cover_every_subcommand_and_flag() {
    let o = tenantc(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let script = String::from_utf8_lossy(&o.stdout);
    for word in [
        "check",
        "compile",
        "graph",
        "fmt",
        "explain",
        "lsp",
        "--materialize-secrets",
        "--diagnostics-format",
        "--tenant",
        "--stdlib",
    ] {
        assert!(script.contains(word), "bash completion lacks {word}");
    }
    assert_eq!(code(&["completions", "tcsh"]), Some(2), "unknown shell");
}

#[test]
fn the_library_never_lowers_a_site_with_errors() {
    // The CLI stops before lowering; a library caller that does not is
    // refused too: lowering takes only a checked site.
    let inputs =
        tenantc::find_inputs(&[root().join("tests/bad/dvipa_not_covered.tenant")]).expect("inputs");
    let mut a = tenantc::analyze(&inputs, &tenantc::Options::default()).expect("analysis");
    assert!(a.has_errors() && a.checked().is_none());
    let Err(e) = tenantc::build_bundle(&a, &tenantc::Options::default()) else {
        panic!("a site with errors was lowered");
    };
    assert!(e.to_string().contains("errors"), "{e}");
    let dir = tempfile::tempdir().expect("tmp");
    let out = camino::Utf8PathBuf::from_path_buf(dir.path().join("out")).expect("utf-8");
    assert!(tenantc::compile_to(&mut a, &tenantc::Options::default(), &out).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "no bundle and no staging directory"
    );
}

#[test]
fn compile_check_reports_drift_per_tenant_before_the_diff() {
    let tmp = tempfile::tempdir().expect("tmp");
    let site = tmp.path().join("site");
    std::fs::create_dir_all(&site).expect("mkdir");
    for f in ["site.tenant", "customer1.tenant", "customer2.tenant"] {
        std::fs::copy(root().join("examples/px-pure-saw").join(f), site.join(f)).expect("copy");
    }
    let site_s = site.to_str().expect("utf-8");
    let out = tmp.path().join("bundle");
    let out_s = out.to_str().expect("utf-8");
    assert_eq!(compile(site_s, out_s, &[]).status.code(), Some(0));
    // A one-tenant change in the specs.
    let spec = site.join("customer2.tenant");
    let text = std::fs::read_to_string(&spec).expect("read");
    std::fs::write(&spec, text.replace("postgres:16.4", "postgres:16.5")).expect("write");

    let o = compile(site_s, out_s, &["--check"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    // The diff alone on stdout (`> drift.patch` is a patch), the summary
    // for people on stderr, before the totals line.
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let summary = "drift by tenant: 1 tenant(s) with files of their own, 2 shared file(s)\n  tenant customer2: 1 file(s) (1 changed)\n  shared inventory.jsonl: changed (2 tenants)\n  shared manifest.json: changed (site-wide)\n";
    assert!(stderr.starts_with(summary), "{stderr}");
    assert!(!stdout.contains("drift by tenant"), "{stdout}");
    assert!(stdout.starts_with("--- a/"), "{stdout}");
    assert!(
        stdout.contains("-        image: postgres:16.4\n+        image: postgres:16.5\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("customer1/"), "{stdout}");

    let o = compile(site_s, out_s, &["--check", "--diagnostics-format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let line = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.starts_with("{\"drift\""))
        .map(str::to_string)
        .expect("a drift line");
    let v: serde_json::Value = serde_json::from_str(&line).expect("json");
    let d = &v["drift"];
    assert_eq!(d["tenants"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(d["tenants"][0]["tenant"], "customer2");
    assert_eq!(d["tenants"][0]["files"], 1);
    assert_eq!(
        d["tenants"][0]["paths"][0],
        "k8s/k8s2/customer2/statefulset-postgres.yaml"
    );
    assert_eq!(d["shared"][0]["path"], "inventory.jsonl");
    assert_eq!(d["shared"][1]["path"], "manifest.json");
    assert_eq!(d["changed"], 3);
}

/// Each cipher reaches the TTLSCipherParms parameter its form needs: a
/// cipher constant and a 2-character code `V3CipherSuites`, a 4-character
/// code `V3CipherSuites4Char` (written as V3CipherSuites it would be read
/// as two 2-character codes).
#[test]
fn ciphers_are_written_with_the_parameter_their_form_needs() {
    let text = common::mutated_example("tls      = profiles.tls12_saf", "tls      = strong")
        + "\ntls_profile strong {\n  versions = [tls1_2, tls1_3]\n  ciphers  = [TLS_AES_256_GCM_SHA384, C02F, \"35\"]\n}\n";
    let (_d, path) = common::spec_in_tmp(&text);
    let a = tenantc::analyze(&[path], &tenantc::Options::default()).expect("analysis");
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let b = tenantc::build_bundle(&a, &tenantc::Options::default()).expect("bundle");
    let policy =
        String::from_utf8_lossy(&b.files["zos/NP8/pagent/MVSNFS8.policy"].bytes).to_string();
    for line in [
        "  V3CipherSuites                  TLS_AES_256_GCM_SHA384\n",
        "  V3CipherSuites4Char             C02F\n",
        "  V3CipherSuites                  35\n",
    ] {
        assert!(policy.contains(line), "{line:?} in\n{policy}");
    }
}

/// The same specs give the same bundle wherever they are compiled from:
/// headers and manifest.json record spec paths relative to the site root,
/// so compiling from the repository, from the spec's directory and with an
/// absolute path writes byte-identical bundles (a re-spelt path alone must
/// not change the MachineConfig and reboot every worker).
#[test]
fn the_bundle_does_not_depend_on_the_working_directory() {
    let out = tempfile::tempdir().expect("tmp");
    let root = common::root();
    let example = root.join("examples/mixed-site");
    let run = |cwd: &camino::Utf8Path, spec: &str, name: &str| -> std::path::PathBuf {
        let target = out.path().join(name);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_tenantc"))
            .args(["compile", spec, "--out", target.to_str().expect("utf-8")])
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .output()
            .expect("runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        target
    };
    let a = run(&root, "examples/mixed-site/site.tenant", "a");
    let b = run(&example, "./site.tenant", "b");
    let c = run(&root.join("src"), example.join("site.tenant").as_str(), "c");
    let files = |dir: &std::path::Path| -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut out = std::collections::BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(dir)
                        .expect("inside")
                        .to_string_lossy()
                        .into_owned();
                    out.insert(rel, std::fs::read(&p).expect("read"));
                }
            }
        }
        out
    };
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert!(fa.len() > 30);
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (k, v) in &fa {
        assert!(v == &fb[k], "{k} differs between working directories");
        assert!(v == &fc[k], "{k} differs with an absolute path");
        let text = String::from_utf8_lossy(v);
        assert!(
            !text.contains(root.as_str()),
            "{k} records the build machine's layout"
        );
    }
}

/// Issue 27: a committed bundle, cloned afresh, passes `compile --check`:
/// the `.gitignore` keeps the secret files out but the placeholder
/// versions (pure.json.placeholder) in, so nothing the check compares is
/// missing from the clone.
#[test]
fn a_fresh_clone_of_a_committed_bundle_passes_compile_check() {
    let Some(git) = common::require_tool("git") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = tmp.path().join("repo");
    let out = repo.join("bundle");
    let o = compile("examples/px-pure-saw", out.to_str().expect("utf-8"), &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let run = |dir: &std::path::Path, args: &[&str]| {
        let o = std::process::Command::new(&git)
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", tmp.path())
            .output()
            .expect("git runs");
        assert!(o.status.success(), "git {args:?}: {o:?}");
    };
    run(&repo, &["init", "-q"]);
    run(&repo, &["add", "-A"]);
    run(
        &repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-qm",
            "bundle",
        ],
    );
    run(tmp.path(), &["clone", "-q", "repo", "clone"]);
    let clone = tmp.path().join("clone/bundle");
    assert!(clone.join("manifest.json").is_file());
    assert!(clone
        .join("k8s/k8s1/secrets/portworx/px-pure-secret/pure.json.placeholder")
        .is_file());
    assert!(
        !clone
            .join("k8s/k8s1/secrets/portworx/px-pure-secret/pure.json")
            .exists(),
        "the secret file itself stays out of git"
    );
    let o = compile(
        "examples/px-pure-saw",
        clone.to_str().expect("utf-8"),
        &["--check"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
