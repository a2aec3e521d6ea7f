//! The Portworx on Pure FlashArray scenario (`examples/px-pure-saw`): the
//! generated StorageCluster, StorageClass and pure.json carry the seed's
//! fields; tokens stay placeholders unless materialized, and materialized
//! values land only in files of mode 0600; realms are never shared.

use crate::common;

use common::{root, tenantc};
use std::collections::BTreeMap;
use std::path::Path;

fn compile(args: &[&str], env: &[(&str, &str)]) -> (std::process::Output, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("tmp");
    let target = out.path().join("bundle");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenantc"));
    cmd.arg("compile")
        .args(args)
        .args(["--out", target.to_str().expect("utf-8")])
        .current_dir(root())
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd.output().expect("runs"), out)
}

fn yaml(path: &Path) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("read")).expect("yaml")
}

#[test]
fn storage_cluster_and_class_carry_the_seeds_fields() {
    let (o, dir) = compile(&["examples/px-pure-saw"], &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let b = dir.path().join("bundle/k8s/k8s1");
    let stc = yaml(
        &b.join("portworx/storagecluster-px-cluster-8651b065-4e6e-4cd6-921e-9f0ad69ba9b1.yaml"),
    );
    // The seed's StorageCluster.yaml, field by field.
    let seed: serde_yaml::Value = serde_yaml::from_str(
        r#"
kind: StorageCluster
apiVersion: core.libopenstorage.org/v1
metadata:
  name: px-cluster-8651b065-4e6e-4cd6-921e-9f0ad69ba9b1
  namespace: portworx
spec:
  image: portworx/oci-monitor:3.2.0
  imagePullPolicy: Always
  kvdb:
    internal: true
  cloudStorage:
    deviceSpecs:
    - size=50,pod=pod
  secretsProvider: k8s
  stork:
    enabled: true
    args:
      webhook-controller: "true"
  autopilot:
    enabled: true
  runtimeOptions:
    default-io-profile: "6"
  csi:
    enabled: true
  monitoring:
    telemetry:
      enabled: true
    prometheus:
      enabled: true
      exportMetrics: true
  env:
  # The seed spells it PURE_FlashArray_SAN_TYPE; Portworx documents
  # PURE_FLASHARRAY_SAN_TYPE (reference/pure-reference/spec-env-vars).
  - name: PURE_FLASHARRAY_SAN_TYPE
    value: "ISCSI"
"#,
    )
    .expect("seed yaml");
    assert_eq!(stc["spec"], seed["spec"]);
    for k in ["kind", "apiVersion"] {
        assert_eq!(stc[k], seed[k]);
    }
    for k in ["name", "namespace"] {
        assert_eq!(stc["metadata"][k], seed["metadata"][k]);
    }

    let sc = yaml(&b.join("cluster/storageclass-fada-pod-sc.yaml"));
    let seed_sc: serde_yaml::Value = serde_yaml::from_str(
        r#"
kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: fada-pod-sc
provisioner: pxd.portworx.com
volumeBindingMode: Immediate
allowVolumeExpansion: true
parameters:
  backend: "pure_block"
  pure_fa_pod_name: "pod"
"#,
    )
    .expect("seed yaml");
    for k in [
        "kind",
        "apiVersion",
        "provisioner",
        "volumeBindingMode",
        "allowVolumeExpansion",
        "parameters",
    ] {
        assert_eq!(sc[k], seed_sc[k], "{k}");
    }
    assert_eq!(sc["metadata"]["name"], seed_sc["metadata"]["name"]);

    // The secret Portworx reads: px-pure-secret, key pure.json, in the
    // StorageCluster's namespace, generated from the bundle's pure.json by
    // the Secrets overlay (the cluster's own kustomization has no generator,
    // so a committed bundle builds without secret files).
    assert!(yaml(&b.join("kustomization.yaml"))["secretGenerator"].is_null());
    let k = yaml(&b.join("secrets/kustomization.yaml"));
    let generator = k["secretGenerator"]
        .as_sequence()
        .expect("generators")
        .iter()
        .find(|g| g["name"] == "px-pure-secret")
        .expect("px-pure-secret");
    assert_eq!(generator["namespace"], "portworx");
    assert_eq!(
        generator["files"][0],
        "pure.json=portworx/px-pure-secret/pure.json"
    );

    // mongo: a StatefulSet with the FADA claim, governed by its headless Service.
    let sts = yaml(&b.join("customer1/statefulset-mongo.yaml"));
    let claim = &sts["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["metadata"]["name"], "mongo-data-dir");
    assert_eq!(claim["spec"]["storageClassName"], "fada-pod-sc");
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteOnce");
    assert_eq!(sts["spec"]["serviceName"], "mongo");
    let svc = yaml(&b.join("customer1/service-mongo.yaml"));
    assert_eq!(svc["spec"]["clusterIP"], "None");
}

#[test]
fn pure_json_parses_and_holds_no_token_unless_asked() {
    let token = "19ead418-bec7-09cb-83bb-e679a9307788";
    // The token is in the environment, but not asked for.
    let (o, dir) = compile(
        &["examples/px-pure-saw"],
        &[("CUSTOMER1_PURE_TOKEN", token)],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let path = dir
        .path()
        .join("bundle/k8s/k8s1/secrets/portworx/px-pure-secret/pure.json.placeholder");
    // Without --materialize-secrets, pure.json itself is not written: only
    // its committed placeholder version (issue 27).
    assert!(!path.with_extension("").exists());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let arrays = json["FlashArrays"].as_array().expect("FlashArrays");
    assert_eq!(arrays.len(), 1);
    assert_eq!(arrays[0]["MgmtEndPoint"], "10.0.1.231");
    assert_eq!(arrays[0]["Realm"], "customer1");
    assert_eq!(arrays[0]["APIToken"], "${ENV:CUSTOMER1_PURE_TOKEN}");
    for f in common::walk(&dir.path().join("bundle")) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).expect("read")).to_string();
        assert!(!text.contains(token), "{} holds the token", f.display());
    }
    // The other cluster's pure.json holds the other tenant's realm only.
    let other = dir
        .path()
        .join("bundle/k8s/k8s2/secrets/portworx/px-pure-secret/pure.json.placeholder");
    let text = std::fs::read_to_string(other).expect("read");
    assert!(
        text.contains("customer2") && !text.contains("customer1"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn materialized_secrets_land_only_in_files_of_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let values: BTreeMap<&str, &str> = BTreeMap::from([
        (
            "CUSTOMER1_PURE_TOKEN",
            "19ead418-bec7-09cb-83bb-e679a9307788",
        ),
        (
            "CUSTOMER2_PURE_TOKEN",
            "29ead418-bec7-09cb-83bb-e679a9307788",
        ),
        ("CUSTOMER1_MONGO_PASSWORD", "mongo-s3cr3t-0123"),
        ("CUSTOMER2_POSTGRES_PASSWORD", "pg-s3cr3t-4567"),
    ]);
    let env: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, *v)).collect();
    let (o, dir) = compile(&["examples/px-pure-saw", "--materialize-secrets"], &env);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let bundle = dir.path().join("bundle");
    let mut secret_files = 0;
    for f in common::walk(&bundle) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).expect("read")).to_string();
        let holds: Vec<&str> = values
            .values()
            .copied()
            .filter(|v| text.contains(v))
            .collect();
        let mode = std::fs::metadata(&f).expect("meta").permissions().mode() & 0o777;
        if holds.is_empty() {
            assert_ne!(
                mode,
                0o600,
                "{} is private but holds no secret",
                f.display()
            );
        } else {
            secret_files += 1;
            assert_eq!(
                mode,
                0o600,
                "{} holds a secret with mode {mode:o}",
                f.display()
            );
            let rel = f.strip_prefix(&bundle).expect("inside");
            assert!(
                rel.starts_with("k8s/k8s1/secrets") || rel.starts_with("k8s/k8s2/secrets"),
                "{} holds a secret outside secrets/",
                rel.display()
            );
        }
    }
    assert_eq!(secret_files, 4, "two pure.json files and two variables");
    for v in values.values() {
        assert!(!logs.contains(v), "the log shows a secret");
    }
    let pure =
        std::fs::read_to_string(bundle.join("k8s/k8s1/secrets/portworx/px-pure-secret/pure.json"))
            .expect("read");
    let json: serde_json::Value = serde_json::from_str(&pure).expect("json");
    assert_eq!(
        json["FlashArrays"][0]["APIToken"],
        values["CUSTOMER1_PURE_TOKEN"]
    );
    // The manifest names the secret files but carries no digest of them.
    let manifest = std::fs::read_to_string(bundle.join("manifest.json")).expect("manifest");
    let m: serde_json::Value = serde_json::from_str(&manifest).expect("json");
    let entry = m["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == "k8s/k8s1/secrets/portworx/px-pure-secret/pure.json")
        .expect("listed");
    assert_eq!(entry["secret"], true);
    assert!(entry.get("sha256").is_none());
}

#[test]
fn materializing_with_a_missing_secret_writes_nothing() {
    let (o, dir) = compile(
        &["examples/px-pure-saw", "--materialize-secrets"],
        &[(
            "CUSTOMER1_PURE_TOKEN",
            "19ead418-bec7-09cb-83bb-e679a9307788",
        )],
    );
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("env(\"CUSTOMER2_PURE_TOKEN\") is not set"),
        "{stderr}"
    );
    assert!(!stderr.contains("19ead418"), "{stderr}");
    assert!(!dir.path().join("bundle").exists());
}

#[test]
fn two_tenants_claiming_one_realm_on_one_cluster_are_refused_at_both() {
    let o = tenantc(&[
        "check",
        "tests/bad/pure_realm_claimed_twice_on_cluster.tenant",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("E0601"), "{stderr}");
    // Both tenants' realm lines are labelled.
    assert!(stderr.contains("22 │     realm  = customer1"), "{stderr}");
    assert!(stderr.contains("39 │     realm  = customer1"), "{stderr}");
}

#[test]
fn a_site_with_both_kinds_of_tenant_compiles_to_one_bundle() {
    let (o, dir) = compile(&["examples/zcx-nfs", "examples/px-pure-saw"], &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let b = dir.path().join("bundle");
    for f in [
        "zos/NP8/pagent/MVSNFS8.policy",
        "k8s/ocp1/haproxy/haproxy.cfg",
        "pure/fa1/setup.sh",
        "k8s/k8s1/secrets/portworx/px-pure-secret/pure.json.placeholder",
    ] {
        assert!(b.join(f).is_file(), "{f}");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("manifest.json")).expect("read"))
            .expect("json");
    let tenants: std::collections::BTreeSet<&str> = m["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["tenants"].as_array().into_iter().flatten())
        .filter_map(|t| t.as_str())
        .collect();
    assert_eq!(
        tenants.into_iter().collect::<Vec<_>>(),
        ["customer1", "customer2", "fios"]
    );
}

#[test]
fn no_value_in_the_spec_can_run_a_command_in_the_setup_script() {
    let Some(bash) = common::require_tool("bash") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let marker = tmp.path().join("PWNED");
    let text = std::fs::read_to_string(root().join("examples/px-pure-saw/customer1.tenant"))
        .expect("example")
        .replace(
            "token  = env(\"CUSTOMER1_PURE_TOKEN\")",
            &format!(
                "token  = file(\"tok$(touch {m})`touch {m}`'\\\"; touch {m}\")",
                m = marker.display()
            ),
        );
    let spec = tmp.path().join("spec");
    std::fs::create_dir_all(&spec).expect("mkdir");
    std::fs::write(spec.join("customer1.tenant"), text).expect("write");
    for f in ["site.tenant", "customer2.tenant"] {
        std::fs::copy(root().join("examples/px-pure-saw").join(f), spec.join(f)).expect("copy");
    }
    let out = tmp.path().join("bundle");
    let o = tenantc(&[
        "compile",
        spec.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // A stand-in ssh that does nothing; `list` fails so every step runs.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::write(
        bin.join("ssh"),
        "#!/usr/bin/env bash\ncase \"$*\" in *' list '*) exit 1;; esac\nexit 0\n",
    )
    .expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("ssh"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    // As APPLY.md runs it: from the bundle root, the site root in
    // TENANTC_SITE for the file() token.
    let o = std::process::Command::new(bash.as_str())
        .arg("pure/fa1/setup.sh")
        .current_dir(&out)
        .env("TENANTC_SITE", &spec)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("CUSTOMER2_PURE_TOKEN", "set")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{o:?}");
    assert!(!marker.exists(), "a value from the spec ran a command");
    if let Some(shellcheck) = common::require_tool("shellcheck") {
        let o = std::process::Command::new(shellcheck.as_str())
            .arg(out.join("pure/fa1/setup.sh"))
            .output()
            .expect("runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
}

#[test]
fn two_workloads_pulling_with_one_registry_materialize_once() {
    let text = std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant"))
        .expect("example")
        .replace(
            "  workload fios {",
            "  workload other {\n    image = \"my-repo.com/x:1\"\n    registry = ocp1.my_registry\n  }\n\n  workload fios {",
        );
    let (_d, path) = common::spec_in_tmp(&text);
    let (o, dir) = compile(
        &[path.as_str(), "--materialize-secrets"],
        &[("MY_REGISTRY_DOCKERCONFIGJSON", "{\"auths\":{}}")],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let f = dir
        .path()
        .join("bundle/k8s/ocp1/secrets/fios/my-registry/.dockerconfigjson");
    assert_eq!(std::fs::read_to_string(f).expect("read"), "{\"auths\":{}}");
}
