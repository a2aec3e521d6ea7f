//! Every example compiles; its whole bundle is reviewed as snapshots under
//! `snapshots/examples/`, and compiling twice gives identical bytes.

mod common;

use camino::Utf8PathBuf;
use common::{examples, root};

fn compile(dir: &Utf8PathBuf) -> tenantc::bundle::Bundle {
    let rel = dir
        .strip_prefix(root())
        .expect("inside the crate")
        .to_path_buf();
    // Relative paths, as a user would type them, so headers are stable.
    let cwd_inputs = tenantc::find_inputs(&[root().join(&rel)]).expect("inputs");
    let inputs: Vec<Utf8PathBuf> = cwd_inputs
        .iter()
        .map(|p| p.strip_prefix(root()).expect("relative").to_path_buf())
        .collect();
    std::env::set_current_dir(root()).expect("cd");
    let opts = tenantc::Options::default();
    let a = tenantc::analyze(&inputs, &opts).expect("analysis runs");
    assert!(
        a.diagnostics.is_empty(),
        "{dir} has diagnostics: {:#?}",
        a.diagnostics
    );
    tenantc::build_bundle(&a, &opts).expect("lowering succeeds")
}

#[test]
fn example_bundles_match_their_snapshots() {
    let all = examples();
    assert!(
        all.iter().any(|d| d.ends_with("zcx-nfs")),
        "the seed example exists"
    );
    for dir in all {
        let name = dir.file_name().expect("name").to_string();
        let bundle = compile(&dir);
        let listing: Vec<&str> = bundle.files.keys().map(String::as_str).collect();
        insta::with_settings!({ snapshot_path => root().join("snapshots/examples").join(&name), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("files", listing.join("\n"));
            for (path, file) in &bundle.files {
                let text = String::from_utf8(file.bytes.clone()).expect("text output");
                insta::assert_snapshot!(path.replace('/', "__"), text);
            }
        });
    }
}

#[test]
fn compiling_twice_gives_identical_bytes() {
    for dir in examples() {
        let a = compile(&dir);
        let b = compile(&dir);
        assert_eq!(a.files.len(), b.files.len());
        for (path, fa) in &a.files {
            assert_eq!(
                Some(&fa.bytes),
                b.files.get(path).map(|f| &f.bytes),
                "{path} differs between runs"
            );
        }
    }
}

#[test]
fn the_cli_writes_identical_bundles_on_disk() {
    let out = tempfile::tempdir().expect("tmp");
    let one = out.path().join("one");
    let two = out.path().join("two");
    for target in [&one, &two] {
        let o = common::tenantc(&[
            "compile",
            "examples/zcx-nfs",
            "--out",
            target.to_str().expect("utf-8"),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.stdout.is_empty(), "compile is quiet on stdout");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(stderr.lines().count(), 1, "one summary line: {stderr}");
    }
    let a = common::read_tree(&one);
    assert!(a.contains_key(std::path::Path::new("manifest.json")));
    assert_eq!(a, common::read_tree(&two));
}

#[test]
fn manifest_hashes_every_file() {
    let bundle = compile(&root().join("examples/zcx-nfs"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&bundle.files["manifest.json"].bytes).expect("manifest is JSON");
    let files = manifest["files"].as_array().expect("files");
    assert_eq!(
        files.len(),
        bundle.files.len() - 1,
        "every file but the manifest is listed"
    );
    for f in files {
        let path = f["path"].as_str().expect("path");
        assert_eq!(
            f["sha256"].as_str(),
            Some(tenantc::bundle::sha256(&bundle.files[path].bytes).as_str())
        );
    }
}

#[test]
fn no_secret_value_reaches_the_bundle() {
    // The example's secrets are env() references; even when set, their
    // values never appear: compiling does not read them at all.
    let secret = "s3cr3t-value-that-must-not-leak";
    let out = tempfile::tempdir().expect("tmp");
    let target = out.path().join("b");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tenantc"))
        .args([
            "compile",
            "examples/zcx-nfs",
            "--out",
            target.to_str().expect("utf-8"),
        ])
        .current_dir(root())
        .env("NFSTST_P12_PASSWORD", secret)
        .env("MY_REGISTRY_DOCKERCONFIGJSON", secret)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&o.stderr).contains(secret));
    assert!(!String::from_utf8_lossy(&o.stdout).contains(secret));
    // Every file the CLI wrote, while the secrets were in its environment.
    let mut files = 0;
    for p in common::walk(&target) {
        files += 1;
        let text = String::from_utf8_lossy(&std::fs::read(&p).expect("read")).to_string();
        assert!(!text.contains(secret), "{} holds the secret", p.display());
    }
    assert!(files > 10, "the bundle was written ({files} files)");
    let jcl =
        std::fs::read_to_string(target.join("zos/NP8/jcl/3-client-fios.jcl")).expect("client job");
    assert!(
        jcl.contains("PASSWORD('${ENV:NFSTST_P12_PASSWORD}')"),
        "{jcl}"
    );
}

#[test]
fn jcl_lines_stay_within_column_71() {
    let bundle = compile(&root().join("examples/zcx-nfs"));
    let mut jobs = 0;
    for (path, f) in bundle.files.iter().filter(|(p, _)| p.ends_with(".jcl")) {
        jobs += 1;
        let text = String::from_utf8_lossy(&f.bytes);
        assert!(text.starts_with("//"), "{path} starts with a job card");
        for line in text.lines() {
            assert!(line.len() <= 71, "{path}: {line}");
        }
        assert!(
            text.trim_end().ends_with("/*"),
            "{path} ends the in-stream data"
        );
    }
    assert_eq!(
        jobs, 7,
        "prerequisites, users, authority, server, client, verification and clean-up jobs"
    );
}

#[test]
fn a_server_on_two_lpars_gets_the_same_policy_on_each() {
    let bundle = compile(&root().join("examples/mixed-site"));
    let statements = |path: &str| -> String {
        String::from_utf8_lossy(&bundle.files[path].bytes)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let home = statements("zos/PRD1/pagent/NFSPRD.policy");
    assert!(home.contains("TTLSRule"), "{home}");
    assert_eq!(home, statements("zos/PRD2/pagent/NFSPRD.policy"));
    // The proxies follow the server's own dynamic VIPA, not PRD1's address.
    let cfg =
        String::from_utf8_lossy(&bundle.files["k8s/ocp_prod/ledger-nfs-proxy/haproxy.cfg"].bytes)
            .to_string();
    assert!(cfg.contains("server nfsServer 10.20.0.20 "), "{cfg}");
}

/// The day-0 runbook in order: every file APPLY.md names in backticks is in
/// the bundle, and on z/OS each step comes after what it needs — the user
/// IDs and class activation (job 0) before the RACDCERT ID(...) jobs, the
/// INITSTACK profile before TCPCONFIG TTLS, the directories before the
/// exports, and the verify job after everything it verifies; a standby LPAR
/// gets the server's services lines, user IDs and prerequisites too.
#[test]
fn the_runbook_orders_every_zos_step_after_what_it_needs() {
    for (example, sys, server, standby) in [
        ("zcx-nfs", "NP8", "MVSNFS8", None),
        ("mixed-site", "PRD1", "NFSPRD", Some("PRD2")),
    ] {
        let bundle = compile(&root().join("examples").join(example));
        let apply = String::from_utf8_lossy(&bundle.files["APPLY.md"].bytes).to_string();
        for (i, part) in apply.split('`').enumerate() {
            let named = i % 2 == 1
                && (part.starts_with("zos/") || part.starts_with("pure/"))
                && !part.contains(' ')
                && !part.contains('<');
            if named {
                assert!(
                    bundle.files.contains_key(part),
                    "{example}: APPLY.md names {part}"
                );
            }
        }
        let at = |needle: &str| -> usize {
            apply
                .find(needle)
                .unwrap_or_else(|| panic!("{example}: APPLY.md lacks {needle}\n{apply}"))
        };
        let order = [
            format!("zos/{sys}/jcl/0-prereq-{sys}.jcl"),
            format!("zos/{sys}/jcl/0-users-{sys}.jcl"),
            format!("zos/{sys}/jcl/1-authority-"),
            format!("zos/{sys}/jcl/2-server-{server}.jcl"),
            format!("zos/{sys}/jcl/3-client-"),
            format!("zos/{sys}/uss/{server}-dirs.sh"),
            format!("zos/{sys}/tcpip/tcpconfig.txt"),
            format!("zos/{sys}/nfs/{server}.exports"),
            format!("zos/{sys}/jcl/4-verify-{server}.jcl"),
        ];
        for pair in order.windows(2) {
            assert!(
                at(&pair[0]) < at(&pair[1]),
                "{example}: {} before {}",
                pair[0],
                pair[1]
            );
        }
        let dirs = String::from_utf8_lossy(&bundle.files[&order[5]].bytes).to_string();
        assert!(dirs.contains("chmod 700"), "{dirs}");
        if let Some(sb) = standby {
            let section = &apply[at(&format!("## System {sb}"))..];
            for needle in [
                format!("zos/{sb}/jcl/0-prereq-{sb}.jcl"),
                format!("zos/{sb}/jcl/0-users-{sb}.jcl"),
                format!("zos/{sys}/nfs/{server}.services"),
            ] {
                assert!(section.contains(&needle), "{example}: {sb} lacks {needle}");
            }
        }
        let users = String::from_utf8_lossy(&bundle.files[&order[1]].bytes).to_string();
        assert!(
            users.contains("ADDUSER") && users.contains("OMVS(UID("),
            "{users}"
        );
        let prereq = String::from_utf8_lossy(&bundle.files[&order[0]].bytes).to_string();
        assert!(
            prereq.contains(&format!("EZB.INITSTACK.{sys}.TCPIP")),
            "{prereq}"
        );
    }
}

/// Changes reach running proxies: the proxy's pod template carries a digest
/// of its haproxy.cfg and of its certificates' identities, so a changed
/// profile or a renewed certificate changes `.spec.template` and rolls the
/// Deployment; an unrelated change (a workload's env) leaves it as it is.
#[test]
fn a_changed_profile_or_certificate_rolls_the_proxy() {
    let spec = std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant")).expect("read");
    let digest = |text: &str| -> String {
        let (_d, path) = common::spec_in_tmp(text);
        let opts = tenantc::Options::default();
        let a = tenantc::analyze(&[path], &opts).expect("analysis");
        assert!(a.diagnostics.is_empty(), "{:#?}", a.diagnostics);
        let b = tenantc::build_bundle(&a, &opts).expect("bundle");
        let d = String::from_utf8_lossy(&b.files["k8s/ocp1/haproxy/deployment-haproxy.yaml"].bytes)
            .to_string();
        d.lines()
            .find(|l| l.contains("tenantc.io/config-digest:"))
            .unwrap_or_else(|| panic!("no digest annotation:\n{d}"))
            .to_string()
    };
    let base = digest(&spec);
    assert_eq!(base, digest(&spec), "deterministic");
    let renewed = spec.replace("\"2027-01-04\"", "\"2029-01-01\"");
    assert_ne!(renewed, spec);
    assert_ne!(
        base,
        digest(&renewed),
        "a renewed certificate rolls the proxy"
    );
    let profile = spec.replace(
        "haproxy    = profiles.haproxy_defaults",
        "haproxy    = tuned\n      replicas   = 1",
    ) + "\nhaproxy_profile tuned { maxconn = 64 }\n";
    assert_ne!(base, digest(&profile), "a changed profile rolls the proxy");
    let unrelated = spec.replace("numFiles = \"5\"", "numFiles = \"6\"");
    assert_ne!(unrelated, spec);
    assert_eq!(
        base,
        digest(&unrelated),
        "a workload change leaves the proxy alone"
    );
}
