//! Generated files handed to the programs that consume them: haproxy checks
//! every haproxy.cfg (with certificates made by openssl in place of the
//! mounted secrets), kubernetes-validate checks every manifest against the
//! Kubernetes 1.30 schemas, yamllint checks every YAML file with the
//! repository's `.yamllint.yaml`, kustomize builds every cluster directory,
//! bash and shellcheck check the Purity setup scripts, and Python's
//! jsonschema checks pure.json and the StorageCluster against `schemas/`.
//! Each has a negative case, so the check is known to be able to fail.
//!
//! `.ci/run` installs these tools. When one is missing the test fails if `CI`
//! is set and is skipped (with a note on stderr) otherwise.

use crate::common;

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
    // NetworkPolicies of plain Kubernetes (ipBlocks of the nodes) and `expose`.
    specs.push(root().join("tests/fixtures/k8s-nfs"));
    for spec in specs {
        out.push(common::compile_into(&spec, dir).0);
    }
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
        for cfg in common::files(&bundle, &|p| p.file_name() == Some("haproxy.cfg")) {
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
        manifests.extend(common::files(&bundle, &|p| {
            p.extension() == Some("yaml") && p.file_name() != Some("kustomization.yaml")
        }));
    }
    // Custom resources have no Kubernetes schema: the StorageCluster is
    // validated against Portworx's (storage_cluster_matches_its_schema).
    manifests.retain(|p| !is_custom_resource(p));
    // So has OpenShift's MachineConfig: it is checked against the vendored
    // schema (tests/scanners.rs, machine_config_matches_its_schema).
    manifests.retain(|p| {
        !std::fs::read_to_string(p)
            .expect("read")
            .contains("apiVersion: machineconfiguration.openshift.io/")
    });
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
        for k in common::files(&bundle, &|p| p.file_name() == Some("kustomization.yaml")) {
            let kdir = k.parent().expect("dir");
            let doc: serde_yaml::Value =
                serde_yaml::from_str(&std::fs::read_to_string(&k).expect("read")).expect("yaml");
            let mut listed: Vec<String> = doc["resources"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect();
            listed.sort();
            let mut present: Vec<String> = common::files(kdir, &|p| {
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

#[test]
fn purity_setup_scripts_pass_bash_and_shellcheck() {
    let (Some(bash), Some(shellcheck)) = (
        common::require_tool("bash"),
        common::require_tool("shellcheck"),
    ) else {
        return;
    };
    let (_t, dir) = tmp();
    let mut checked = 0;
    for bundle in bundles(&dir) {
        for script in common::files(&bundle, &|p| p.extension() == Some("sh")) {
            let (ok, out) = run(Command::new(&bash).args(["-n", script.as_str()]));
            assert!(ok, "{script}: {out}");
            let (ok, out) = run(Command::new(&shellcheck).args(["-s", "bash", script.as_str()]));
            assert!(ok, "{script}: {out}");
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} setup scripts were checked");

    // Negative cases: a syntax error for bash, an unquoted expansion for shellcheck.
    let bad = dir.join("bad.sh");
    std::fs::write(&bad, "#!/usr/bin/env bash\nif true; then\n").expect("write");
    assert!(!run(Command::new(&bash).args(["-n", bad.as_str()])).0);
    std::fs::write(&bad, "#!/usr/bin/env bash\nrm -rf $1/data\n").expect("write");
    assert!(!run(Command::new(&shellcheck).args(["-s", "bash", bad.as_str()])).0);
}

#[test]
fn purity_setup_scripts_quote_every_name() {
    // Run a generated script with `ssh` replaced by a recorder: every Purity
    // command arrives as the words the spec named, whatever they contain.
    let Some(bash) = common::require_tool("bash") else {
        return;
    };
    let (_t, dir) = tmp();
    let bundle = bundles(&dir)
        .into_iter()
        .find(|b| b.as_str().ends_with("px-pure-saw"))
        .expect("px example");
    let script = bundle.join("pure/fa1/setup.sh");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let log = dir.join("ssh.log");
    // The fake ssh: `list` fails (nothing exists yet), everything is logged.
    let fake = format!(
        "#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >> {log}\ncase \"$*\" in *' list '*) exit 1;; esac\nexit 0\n"
    );
    std::fs::write(bin.join("ssh"), fake).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("ssh"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    let o = Command::new(&bash)
        .arg(script.as_str())
        .env("PATH", path)
        .env_remove("CUSTOMER1_PURE_TOKEN")
        .env("CUSTOMER2_PURE_TOKEN", "set")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{o:?}");
    let calls = std::fs::read_to_string(&log).expect("log");
    for expected in [
        "-o BatchMode=yes -- pureuser@10.0.1.231 purerealm create customer1 ",
        "-o BatchMode=yes -- pureuser@10.0.1.231 purepod create customer1::pod ",
        "-o BatchMode=yes -- pureuser@10.0.1.231 purepolicy management-access create --realm customer1 --role storage --aggregation-strategy all-permissions pxrole ",
        "-t -- pureuser@10.0.1.231 pureadmin create --access-policy pxrole user1 ",
        "-t -- user1@10.0.1.231 pureadmin create --api-token",
        "-o BatchMode=yes -- pureuser@10.0.1.231 purerealm create customer2 ",
    ] {
        assert!(calls.contains(expected), "missing `{expected}` in:\n{calls}");
    }
    // customer2's token variable is set: no token is created for user2.
    assert!(!calls.contains("user2@10.0.1.231"), "{calls}");
}

#[test]
fn pure_json_matches_its_schema() {
    let Some(python) = common::python_with_jsonschema() else {
        return;
    };
    let (_t, dir) = tmp();
    let mut docs = Vec::new();
    for bundle in bundles(&dir) {
        docs.extend(common::files(&bundle, &|p| {
            // The committed placeholder version (issue 27), or a
            // materialized pure.json.
            matches!(p.file_name(), Some("pure.json" | "pure.json.placeholder"))
        }));
    }
    assert!(docs.len() >= 3, "{docs:?}");
    // A materialized one, with a real token's shape.
    let text = std::fs::read_to_string(&docs[0]).expect("read");
    let real = dir.join("real.json");
    let with_token = text.replace(
        "\"${ENV:LEDGER_PURE_TOKEN}\"",
        "\"19ead418-bec7-09cb-83bb-e679a9307788\"",
    );
    assert_ne!(with_token, text, "the first pure.json is mixed-site's");
    std::fs::write(&real, with_token).expect("write");
    docs.push(real);
    let (ok, out) = common::schema_check(&python, "pure.schema.json", &docs);
    assert!(ok, "{out}");

    // Negative cases: a token that is neither a UUID nor a placeholder, an
    // endpoint with a protocol, a key Portworx does not know.
    for (from, to) in [
        ("\"${ENV:LEDGER_PURE_TOKEN}\"", "\"hunter2\""),
        (
            "\"fa-east.mgmt.example.com\"",
            "\"https://fa-east.mgmt.example.com\"",
        ),
        ("\"Realm\"", "\"Realms\""),
    ] {
        let bad = dir.join("bad.json");
        std::fs::write(&bad, text.replacen(from, to, 1)).expect("write");
        assert!(
            !common::schema_check(&python, "pure.schema.json", &[bad]).0,
            "{from} -> {to} must fail"
        );
    }
}

#[test]
fn storage_cluster_matches_its_schema() {
    let Some(python) = common::python_with_jsonschema() else {
        return;
    };
    let (_t, dir) = tmp();
    let mut docs = Vec::new();
    for bundle in bundles(&dir) {
        docs.extend(common::files(&bundle, &|p| {
            p.extension() == Some("yaml") && is_custom_resource(p)
        }));
    }
    assert!(docs.len() >= 3, "{docs:?}");
    let (ok, out) = common::schema_check(&python, "storagecluster.schema.json", &docs);
    assert!(ok, "{out}");

    // Negative cases: a misspelt field, a device spec without a size, a
    // policy Kubernetes does not know.
    let text = std::fs::read_to_string(&docs[0]).expect("read");
    for (from, to) in [
        ("deviceSpecs:", "deviceSpec:"),
        ("- size=100,pod=ledger-drives", "- pod=ledger-drives"),
        ("imagePullPolicy: Always", "imagePullPolicy: always"),
    ] {
        assert!(text.contains(from), "{from} in {text}");
        let bad = dir.join("bad.yaml");
        std::fs::write(&bad, text.replacen(from, to, 1)).expect("write");
        assert!(
            !common::schema_check(&python, "storagecluster.schema.json", &[bad]).0,
            "{from} -> {to} must fail"
        );
    }
}

#[test]
fn kustomize_builds_every_cluster() {
    let Some(kustomize) = common::require_tool("kustomize") else {
        return;
    };
    let (_t, dir) = tmp();
    let mut built = 0;
    for bundle in bundles(&dir) {
        // GitOps: a freshly compiled bundle, no secret materialized and no
        // stand-in, builds in every cluster directory (the Secrets are the
        // separate `secrets/` overlay).
        let clusters = common::files(&bundle, &|p| p.file_name() == Some("kustomization.yaml"));
        let mut plain = 0;
        for k in clusters
            .iter()
            .filter(|k| !k.as_str().contains("/secrets/"))
        {
            let kdir = k.parent().expect("dir");
            let (ok, out) = run(Command::new(&kustomize).args(["build", kdir.as_str()]));
            assert!(ok, "{kdir} must build without secret files: {out}");
            assert!(!out.contains("\nkind: Secret\n"), "{kdir}: {out}");
            plain += 1;
        }
        assert!(plain >= 1, "{bundle}: no cluster directory");
        // Stand-ins for the files the operator provides at the secret paths.
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(bundle.join("manifest.json")).expect("manifest"),
        )
        .expect("json");
        for s in manifest["secrets"].as_array().expect("secrets") {
            let path = bundle.join(s["path"].as_str().expect("path"));
            if !path.exists() {
                std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
                std::fs::write(&path, "stand-in\n").expect("write");
            }
        }
        for k in common::files(&bundle, &|p| p.file_name() == Some("kustomization.yaml")) {
            let kdir = k.parent().expect("dir");
            let (ok, out) = run(Command::new(&kustomize).args(["build", kdir.as_str()]));
            assert!(ok, "{kdir}: {out}");
            let doc: serde_yaml::Value =
                serde_yaml::from_str(&std::fs::read_to_string(&k).expect("read")).expect("yaml");
            let resources = doc["resources"].as_sequence().map_or(0, Vec::len);
            let generators = doc["secretGenerator"].as_sequence().map_or(0, Vec::len);
            assert_eq!(
                out.matches("\nkind: ").count() + usize::from(out.starts_with("kind: ")),
                resources + generators,
                "{kdir}: every resource and generated Secret, once:\n{out}"
            );
            if kdir.ends_with("secrets") && kdir.join("portworx").is_dir() {
                assert!(
                    out.contains("  name: px-pure-secret\n  namespace: portworx\n"),
                    "{out}"
                );
                assert!(out.contains("  pure.json: "), "{out}");
            }
            built += 1;
        }
        // Negative case: a listed resource that is missing breaks the build.
        if let Some(k) = common::files(&bundle, &|p| p.file_name() == Some("kustomization.yaml"))
            .iter()
            .find(|k| !k.as_str().contains("/secrets/"))
        {
            let kdir = k.parent().expect("dir");
            let victim = common::files(kdir, &|p| p.file_name() == Some("namespace.yaml"))
                .into_iter()
                .next()
                .expect("a namespace");
            std::fs::remove_file(&victim).expect("rm");
            assert!(
                !run(Command::new(&kustomize).args(["build", kdir.as_str()])).0,
                "a missing resource must fail"
            );
        }
    }
    assert!(built >= 4, "{built} kustomizations built");
}

/// An edit of a spec file's text.
type Edit<'a> = (&'a str, &'a dyn Fn(&str) -> String);

/// A copy of example `example` under `dir/name`, each edit applied to the
/// text of the file it names.
fn edited_example(dir: &Utf8Path, name: &str, example: &str, edits: &[Edit]) -> Utf8PathBuf {
    let from = root().join("examples").join(example);
    let to = dir.join(name);
    std::fs::create_dir_all(&to).expect("mkdir");
    for e in from.read_dir_utf8().expect("dir") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
    for (file, edit) in edits {
        let p = to.join(file);
        let text = std::fs::read_to_string(&p).expect("read");
        let new = edit(&text);
        assert_ne!(new, text, "{name}: the edit of {file} changed nothing");
        std::fs::write(&p, new).expect("write");
    }
    to
}

/// `tenantc plan` from the bundle of `deployed` (a spec directory) to the
/// specs in `specs`, written under `dir/change-<name>`.
fn change_bundle(dir: &Utf8Path, name: &str, deployed: &Utf8Path, specs: &Utf8Path) -> Utf8PathBuf {
    let (dep, _) = common::compile_into(deployed, &dir.join(format!("deployed-{name}")));
    let inputs = tenantc::find_inputs(&[specs.to_path_buf()]).expect("inputs");
    let opts = tenantc::Options::default();
    let a = tenantc::analyze(&inputs, &opts).expect("analysis");
    assert!(!a.has_errors(), "{name}: {:#?}", a.diagnostics);
    let plan = tenantc::change::PlanOptions {
        remove_directories: true,
        ..Default::default()
    };
    let (c, b) = tenantc::plan(&a, &opts, &dep, &plan).expect("plan");
    assert!(c.refused.is_empty(), "{name}: {:?}", c.refused);
    assert!(!c.is_empty(), "{name}: an empty change");
    let out = dir.join(format!("change-{name}"));
    tenantc::bundle::write(&b, &out).expect("write");
    out
}

/// The second tenant of README's onboarding example: the zcx-nfs tenant
/// `fios` copied under new names.
fn payroll(site: &str) -> String {
    let block = &site[site.find("tenant fios {").expect("fios")..];
    let mut block = block.to_string();
    for (a, b) in [
        ("tenant fios", "tenant payroll"),
        ("namespace = \"fios\"", "namespace = \"payroll\""),
        ("NFSTST", "NFSPAY"),
        ("uid       = 2001", "uid       = 2002"),
        ("DNAPH.ZCX.DNAP4.P12DER", "DNAPH.ZCX.PAYROLL.P12DER"),
        ("namespace  = \"haproxy\"", "namespace  = \"payroll-proxy\""),
        ("172.30.226.71", "172.30.226.72"),
        ("OCPTSTB/fios-test", "OCPTSTB/payroll"),
        ("\"nfs-saf\"", "\"nfs-saf-payroll\""),
    ] {
        assert!(block.contains(a), "{a}");
        block = block.replace(a, b);
    }
    format!("{site}\n{block}")
}

/// The change bundles of plans that add, remove, move and renew on the
/// examples: z/OS and NFS tenants, Purity objects, cluster moves.
fn change_bundles(dir: &Utf8Path) -> Vec<Utf8PathBuf> {
    std::env::set_current_dir(root()).expect("cd");
    let ex = |n: &str| root().join("examples").join(n);
    let with_payroll = edited_example(dir, "zcx-payroll", "zcx-nfs", &[("site.tenant", &payroll)]);
    let renewed = edited_example(
        dir,
        "zcx-renewed",
        "zcx-nfs",
        &[("site.tenant", &|t: &str| {
            t.replacen(
                "label     = \"NFSTST Private Cert\"",
                "label     = \"NFSTST Private Cert 2\"\n      valid_from = \"2028-01-04\"",
                1,
            )
        })],
    );
    let pod_added = edited_example(
        dir,
        "saw-pod-added",
        "px-pure-saw",
        &[("customer1.tenant", &|t: &str| {
            t.replacen("pods   = [\"pod\"]", "pods   = [\"pod\", \"pod2\"]", 1)
        })],
    );
    let moved = edited_example(
        dir,
        "saw-moved",
        "px-pure-saw",
        &[
            ("customer1.tenant", &|t: &str| {
                t.replacen("cluster   = k8s1", "cluster   = k8s2", 1)
            }),
            ("customer2.tenant", &|t: &str| {
                t.replacen("cluster   = k8s2", "cluster   = k8s1", 1)
            }),
        ],
    );
    let analytics_removed = edited_example(
        dir,
        "mixed-no-analytics",
        "mixed-site",
        &[("site.tenant", &|t: &str| {
            let t = t.replacen(
                "pods             = [\"ledger-drives\", \"analytics-drives\"]",
                "pods             = [\"ledger-drives\"]",
                1,
            );
            t[..t.find("tenant analytics {").expect("analytics")].to_string()
        })],
    );
    vec![
        change_bundle(dir, "add", &ex("zcx-nfs"), &with_payroll),
        change_bundle(dir, "remove", &with_payroll, &ex("zcx-nfs")),
        change_bundle(dir, "renew", &ex("zcx-nfs"), &renewed),
        change_bundle(dir, "add-pod", &ex("px-pure-saw"), &pod_added),
        change_bundle(dir, "move", &ex("px-pure-saw"), &moved),
        change_bundle(dir, "remove-pure", &ex("mixed-site"), &analytics_removed),
    ]
}

/// Issue 26: every file of a change bundle passes the consumers the bundle's
/// own files pass: its scripts bash and shellcheck, its kustomizations
/// kustomize build, its manifests kubernetes-validate, its YAML yamllint,
/// its jobs the JCL rules (tests/outputs/structure.rs).
#[test]
fn change_bundles_pass_the_same_consumers() {
    let tools: Vec<Option<Utf8PathBuf>> = [
        "bash",
        "shellcheck",
        "kustomize",
        "kubernetes-validate",
        "yamllint",
    ]
    .iter()
    .map(|t| common::require_tool(t))
    .collect();
    let [Some(bash), Some(shellcheck), Some(kustomize), Some(validate), Some(yamllint)] =
        &tools[..]
    else {
        return;
    };
    let (_t, dir) = tmp();
    let changes = change_bundles(&dir);
    let all = |pred: &dyn Fn(&Utf8Path) -> bool| -> Vec<Utf8PathBuf> {
        changes
            .iter()
            .flat_map(|c| common::files(c, pred))
            .collect()
    };
    // Every kind of change file the plans write, at least once.
    for (what, tail) in [
        ("z/OS create job", "/jcl/C1-create.jcl"),
        ("directories", "/uss/C2-dirs.sh"),
        ("Purity create", "/C4-create.sh"),
        ("cluster deletes", "/C6-delete.sh"),
        ("Purity delete", "/C7-delete.sh"),
        ("directory removal", "/uss/C8-rmdirs.sh"),
        ("z/OS delete job", "/jcl/C9-delete.jcl"),
        ("cluster apply", "/apply/kustomization.yaml"),
    ] {
        assert!(
            !all(&|p: &Utf8Path| p.as_str().ends_with(tail)).is_empty(),
            "no plan wrote a {what} file (*{tail})"
        );
    }

    let scripts = all(&|p: &Utf8Path| p.extension() == Some("sh"));
    for script in &scripts {
        let (ok, out) = run(Command::new(bash).args(["-n", script.as_str()]));
        assert!(ok, "{script}: {out}");
        // The shell named by each script's #! line.
        let (ok, out) = run(Command::new(shellcheck).arg(script.as_str()));
        assert!(ok, "{script}: {out}");
    }

    let jobs = all(&|p: &Utf8Path| p.extension() == Some("jcl"));
    for job in &jobs {
        let text = std::fs::read_to_string(job).expect("read");
        assert_eq!(
            crate::structure::check_jcl(&text),
            Vec::<String>::new(),
            "{job}\n{text}"
        );
    }

    // The files the operator provides (CHANGE.md: "put the new secret
    // files this kustomization generates from under ..."), each listed in
    // the change bundle's manifest: stand-ins there, as for day 0.
    for c in &changes {
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(c.join("manifest.json")).expect("manifest"),
        )
        .expect("json");
        for s in manifest["secrets"].as_array().expect("secrets") {
            let path = c.join(s["path"].as_str().expect("path"));
            assert!(!path.exists(), "{path}: a secret written into the change");
            std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
            std::fs::write(&path, "stand-in\n").expect("write");
        }
    }
    let mut built = 0;
    for k in all(&|p: &Utf8Path| p.file_name() == Some("kustomization.yaml")) {
        let kdir = k.parent().expect("dir");
        let (ok, out) = run(Command::new(kustomize).args(["build", kdir.as_str()]));
        assert!(ok, "{kdir}: {out}");
        built += 1;
    }
    assert!(built >= 5, "{built} kustomizations built");

    let mut manifests = all(&|p: &Utf8Path| {
        p.extension() == Some("yaml") && p.file_name() != Some("kustomization.yaml")
    });
    manifests.retain(|p| {
        let text = std::fs::read_to_string(p).expect("read");
        !text.contains("apiVersion: core.libopenstorage.org/")
            && !text.contains("apiVersion: machineconfiguration.openshift.io/")
    });
    assert!(!manifests.is_empty());
    let (ok, out) = run(Command::new(validate)
        .args(["-k", K8S_VERSION, "--strict"])
        .args(manifests.iter().map(|p| p.as_str())));
    assert!(ok, "{out}");
    assert_eq!(
        out.matches(" passed for resource ").count(),
        manifests.len(),
        "{out}"
    );

    let config = root().join(".yamllint.yaml");
    for c in &changes {
        let (ok, out) = run(Command::new(yamllint).args(["-s", "-c", config.as_str(), c.as_str()]));
        assert!(ok, "{c}: {out}");
    }
}
