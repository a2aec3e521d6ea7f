//! Generated files handed to the programs that consume them: haproxy checks
//! every haproxy.cfg (with certificates made by openssl in place of the
//! mounted secrets), kubernetes-validate checks every manifest against the
//! Kubernetes 1.30 schemas, yamllint checks every YAML file with the
//! repository's `.yamllint.yaml`. Each has a negative case, so the check is
//! known to be able to fail.
//!
//! `.ci/run` installs these tools. When one is missing the test fails if `CI`
//! is set and is skipped (with a note on stderr) otherwise.

mod common;

use camino::{Utf8Path, Utf8PathBuf};
use common::root;
use std::process::Command;

const K8S_VERSION: &str = "1.30.0";

fn run(cmd: &mut Command) -> (bool, String) {
    let o = cmd.output().expect("tool runs");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Every example compiled into its own directory under `dir`.
fn bundles(dir: &Utf8Path) -> Vec<Utf8PathBuf> {
    std::env::set_current_dir(root()).expect("cd");
    let mut out = Vec::new();
    let mut specs = common::examples();
    // A multi-file site whose env values YAML 1.1 would misread if unquoted.
    specs.push(root().join("tests/fixtures/multi"));
    for spec in specs {
        let inputs = tenantc::find_inputs(std::slice::from_ref(&spec)).expect("inputs");
        let opts = tenantc::Options::default();
        let a = tenantc::analyze(&inputs, &opts).expect("analysis");
        assert!(!a.has_errors(), "{spec}");
        let b = tenantc::build_bundle(&a, &opts).expect("bundle");
        let target = dir.join(spec.file_name().expect("name"));
        tenantc::bundle::write(&b, &target).expect("write");
        out.push(target);
    }
    out
}

fn files(dir: &Utf8Path, pred: &dyn Fn(&Utf8Path) -> bool) -> Vec<Utf8PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in d.read_dir_utf8().expect("dir").filter_map(Result::ok) {
            let p = e.path().to_path_buf();
            if p.is_dir() {
                stack.push(p);
            } else if pred(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A manifest of a CRD's kind (Portworx's StorageCluster).
fn is_custom_resource(p: &Utf8Path) -> bool {
    std::fs::read_to_string(p)
        .expect("read")
        .contains("apiVersion: core.libopenstorage.org/")
}

fn tmp() -> (tempfile::TempDir, Utf8PathBuf) {
    let t = tempfile::tempdir().expect("tmp");
    let p = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).expect("utf-8");
    (t, p)
}

#[test]
fn haproxy_accepts_every_generated_config() {
    let (Some(haproxy), Some(openssl)) = (
        common::require_tool("haproxy"),
        common::require_tool("openssl"),
    ) else {
        return;
    };
    let (_t, dir) = tmp();
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).expect("mkdir");
    common::Pki::new(&openssl, &certs);
    let mut checked = 0;
    for bundle in bundles(&dir.join("bundles")) {
        for cfg in files(&bundle, &|p| p.file_name() == Some("haproxy.cfg")) {
            // Only the mount point of the secrets changes.
            let text = std::fs::read_to_string(&cfg)
                .expect("cfg")
                .replace("/var/lib/haproxy/", &format!("{certs}/"));
            let local = dir.join("haproxy.cfg");
            std::fs::write(&local, &text).expect("write");
            let (ok, out) = run(Command::new(&haproxy).args(["-c", "-f", local.as_str()]));
            assert!(ok, "{cfg}: {out}");
            assert!(!out.contains("[WARNING]"), "{cfg} has warnings: {out}");
            checked += 1;

            // Negative cases: a CA file that is not there, a broken keyword.
            std::fs::write(&local, text.replace("cert-auth.pem", "missing-ca.pem")).expect("write");
            assert!(
                !run(Command::new(&haproxy).args(["-c", "-f", local.as_str()])).0,
                "a missing ca-file must fail"
            );
            std::fs::write(&local, text.replace("verify required", "verify sometimes"))
                .expect("write");
            assert!(
                !run(Command::new(&haproxy).args(["-c", "-f", local.as_str()])).0,
                "a broken config must fail"
            );
        }
    }
    assert!(checked > 0, "no haproxy.cfg was generated");
}

#[test]
fn kubernetes_schemas_accept_every_manifest() {
    let Some(validate) = common::require_tool("kubernetes-validate") else {
        return;
    };
    let (_t, dir) = tmp();
    let mut manifests = Vec::new();
    for bundle in bundles(&dir) {
        manifests.extend(files(&bundle, &|p| {
            p.extension() == Some("yaml") && p.file_name() != Some("kustomization.yaml")
        }));
    }
    // Custom resources have no Kubernetes schema: the StorageCluster is
    // validated against Portworx's (storage_cluster_matches_its_schema).
    manifests.retain(|p| !is_custom_resource(p));
    assert!(!manifests.is_empty());
    let (ok, out) = run(Command::new(&validate)
        .args(["-k", K8S_VERSION, "--strict"])
        .args(manifests.iter().map(|p| p.as_str())));
    assert!(ok, "{out}");
    assert_eq!(
        out.matches(" passed for resource ").count(),
        manifests.len(),
        "{out}"
    );

    // Without the quotes YAML 1.1 (kubectl, and this validator's PyYAML) reads
    // `on` as a boolean, which an env value cannot be.
    let api = manifests
        .iter()
        .find(|p| p.as_str().ends_with("deployment-api.yaml"))
        .expect("the multi fixture's workload");
    let api_text = std::fs::read_to_string(api).expect("read");
    assert!(api_text.contains("value: 'on'"), "{api_text}");
    let unquoted = dir.join("unquoted.yaml");
    std::fs::write(&unquoted, api_text.replace("value: 'on'", "value: on")).expect("write");
    assert!(
        !run(Command::new(&validate).args(["-k", K8S_VERSION, "--strict", unquoted.as_str()])).0,
        "an unquoted YAML 1.1 boolean must fail"
    );

    // Negative cases: a wrong type, and a field that does not exist (--strict).
    let deployment = manifests
        .iter()
        .find(|p| p.as_str().ends_with("deployment-haproxy.yaml"))
        .expect("a proxy deployment");
    let text = std::fs::read_to_string(deployment).expect("read");
    for broken in [
        text.replacen("containerPort: 2043", "containerPort: nfs", 1),
        text.replacen("replicas:", "replica:", 1),
    ] {
        assert_ne!(broken, text);
        let bad = dir.join("broken.yaml");
        std::fs::write(&bad, broken).expect("write");
        assert!(
            !run(Command::new(&validate).args(["-k", K8S_VERSION, "--strict", bad.as_str()])).0,
            "a broken manifest must fail"
        );
    }
}

#[test]
fn yamllint_accepts_every_yaml_file() {
    let Some(yamllint) = common::require_tool("yamllint") else {
        return;
    };
    let (_t, dir) = tmp();
    let config = root().join(".yamllint.yaml");
    for bundle in bundles(&dir) {
        let (ok, out) =
            run(Command::new(&yamllint).args(["-s", "-c", config.as_str(), bundle.as_str()]));
        assert!(ok, "{out}");
    }
    let bad = dir.join("dup.yaml");
    std::fs::write(&bad, "a: 1\na: 2\n").expect("write");
    assert!(
        !run(Command::new(&yamllint).args(["-s", "-c", config.as_str(), bad.as_str()])).0,
        "a duplicate key must fail"
    );
}

#[test]
fn kustomization_lists_exactly_the_bundle_manifests() {
    let (_t, dir) = tmp();
    for bundle in bundles(&dir) {
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(bundle.join("manifest.json")).expect("manifest"),
        )
        .expect("json");
        let secrets: Vec<&str> = manifest["secrets"]
            .as_array()
            .expect("secrets")
            .iter()
            .filter_map(|s| s["path"].as_str())
            .collect();
        for k in files(&bundle, &|p| p.file_name() == Some("kustomization.yaml")) {
            let kdir = k.parent().expect("dir");
            let doc: serde_yaml::Value =
                serde_yaml::from_str(&std::fs::read_to_string(&k).expect("read")).expect("yaml");
            let mut listed: Vec<String> = doc["resources"]
                .as_sequence()
                .expect("resources")
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect();
            listed.sort();
            let mut present: Vec<String> = files(kdir, &|p| {
                p.extension() == Some("yaml") && p.file_name() != Some("kustomization.yaml")
            })
            .iter()
            .map(|p| p.strip_prefix(kdir).expect("inside").to_string())
            .collect();
            present.sort();
            assert_eq!(listed, present, "{k}");
            for generator in doc["secretGenerator"].as_sequence().into_iter().flatten() {
                for f in generator["files"].as_sequence().expect("files") {
                    let (_, path) = f
                        .as_str()
                        .and_then(|s| s.split_once('='))
                        .expect("key=path");
                    let full = kdir.join(path);
                    let rel = full
                        .strip_prefix(&bundle)
                        .expect("inside")
                        .as_str()
                        .to_string();
                    assert!(
                        secrets.contains(&rel.as_str()),
                        "{rel} is generated from but not described in manifest.json"
                    );
                }
            }
        }
    }
}
