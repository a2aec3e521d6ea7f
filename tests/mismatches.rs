//! The seed write-up's five mismatches, and the two relations the compiler
//! exists to check (DVIPA coverage, port ranges), each written back into a
//! copy of the example where the language lets a user write it.

mod common;

use common::{diagnose, mutated_example};

fn snapshot(name: &str, text: &str, expected_codes: &[&str]) {
    let (codes, rendered) = diagnose(text);
    assert_eq!(codes, expected_codes, "{rendered}");
    insta::with_settings!({ snapshot_path => common::root().join("snapshots/mismatches"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, rendered);
    });
}

/// Seed mismatch 1: the PVC is created as `fio-pvc1` but mounted as `fio-pvc`.
/// Not writable: a workload mounts a volume by reference, and the PVC name and
/// the claimName are both derived from that one declaration. The nearest
/// mistake a user can make, naming a volume that does not exist, is caught.
#[test]
fn seed_1_mounting_a_claim_that_does_not_exist() {
    snapshot(
        "seed_1_unknown_volume",
        &mutated_example("volume = nfs.fio_test", "volume = nfs.fio_pvc"),
        &["E0201"],
    );
}

/// Seed mismatch 2: the proxy runs in project `haproxy`, the manifests and the
/// workload's pod affinity say `haproxy1`. Not writable: the affinity's
/// namespace is the proxy's namespace, taken from the IR. Shown on the bundle.
#[test]
fn seed_2_affinity_targets_the_proxy_namespace() {
    let (_d, path) = common::spec_in_tmp(&mutated_example(
        "namespace  = \"haproxy\"",
        "namespace  = \"haproxy1\"",
    ));
    let opts = tenantc::Options::default();
    let a = tenantc::analyze(&[path], &opts).expect("analysis");
    assert!(a.diagnostics.is_empty());
    let b = tenantc::build_bundle(&a, &opts).expect("bundle");
    let workload =
        String::from_utf8_lossy(&b.files["k8s/ocp1/fios/deployment-fios.yaml"].bytes).to_string();
    assert!(
        workload.contains("namespaces:\n            - haproxy1\n"),
        "{workload}"
    );
    assert!(b.files.contains_key("k8s/ocp1/haproxy1/namespace.yaml"));
    assert!(b
        .files
        .contains_key("k8s/ocp1/haproxy1/deployment-haproxy.yaml"));
}

/// Seed mismatch 3: pods pull with `sys-ztest-artifactory`/`sys-loz-artifactory`
/// but the secret created is `my-registry`. Writable as a reference to a
/// registry that is not declared.
#[test]
fn seed_3_pull_secret_of_an_undeclared_registry() {
    snapshot(
        "seed_3_unknown_registry",
        &mutated_example(
            "    registry = ocp1.my_registry\n    env",
            "    registry = ocp1.sys_loz_artifactory\n    env",
        ),
        &["E0201"],
    );
}

/// Seed mismatch 4: haproxy's ca-file points at `server-cert.pem`, the CA is
/// mounted as `cert-auth.pem`. The file names are derived, so that part is
/// not writable; what is writable is trusting another authority than the one
/// that signed the server certificate.
#[test]
fn seed_4_proxy_trusts_the_wrong_authority() {
    let text = mutated_example(
        "  nfs_server MVSNFS8 {",
        "  authority other_ca {\n    label  = \"Other CA\"\n    subject = { CN = \"Other CA\" }\n    export = dataset(\"DNAPH.ZCX.OTHER.CERTAUTH\")\n  }\n\n  nfs_server MVSNFS8 {",
    )
    .replace("      haproxy    = profiles.haproxy_defaults", "      haproxy    = profiles.haproxy_defaults\n      trust      = NP8.other_ca");
    snapshot("seed_4_wrong_ca", &text, &["E0407"]);
}

/// Seed mismatch 5: `server: '172.30.226.71,rw,nfsvers=4'` puts mount options
/// into the PV's server field. The PV server is the proxy's ClusterIP, typed
/// as an IPv4 address; writing the seed's string there is a type error.
#[test]
fn seed_5_mount_options_in_the_server_address() {
    snapshot(
        "seed_5_options_in_server",
        &mutated_example(
            "cluster_ip = 172.30.226.71",
            "cluster_ip = \"172.30.226.71,rw,nfsvers=4\"",
        ),
        &["E0303"],
    );
}

#[test]
fn compute_node_missing_from_the_dvipa_list() {
    snapshot(
        "dvipa_missing",
        &mutated_example(
            "clients  = [10.1.1.1, 10.1.1.2, 10.1.1.3]",
            "clients  = [10.1.1.1, 10.1.1.2]",
        ),
        &["E0401"],
    );
}

#[test]
fn dvipa_list_holds_an_unknown_address() {
    snapshot(
        "dvipa_unknown",
        &mutated_example(
            "clients  = [10.1.1.1, 10.1.1.2, 10.1.1.3]",
            "clients  = [10.1.1.1, 10.1.1.2, 10.1.1.3, 10.1.1.4]",
        ),
        &["E0402"],
    );
}

#[test]
fn proxy_port_range_differs_from_the_server() {
    snapshot(
        "ports_mismatch",
        &mutated_example(
            "      haproxy    = profiles.haproxy_defaults",
            "      haproxy    = profiles.haproxy_defaults\n      ports      = 2043..2048",
        ),
        &["E0404"],
    );
}

#[test]
fn the_cli_exits_1_and_writes_nothing() {
    let (_d, path) = common::spec_in_tmp(&mutated_example(
        "clients  = [10.1.1.1, 10.1.1.2, 10.1.1.3]",
        "clients  = [10.1.1.1, 10.1.1.2]",
    ));
    let out = tempfile::tempdir().expect("tmp");
    let target = out.path().join("bundle");
    let o = common::tenantc(&[
        "compile",
        path.as_str(),
        "--out",
        target.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!target.exists(), "no bundle on errors");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("E0401"), "{stderr}");
    assert!(stderr.contains("10.1.1.3"), "{stderr}");
}
