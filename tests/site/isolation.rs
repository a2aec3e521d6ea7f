//! Tenant isolation: what the bundle does to keep tenants apart, read back
//! from the generated files. NetworkPolicies in every namespace, the NFS
//! ports admitted only from the host network (or the nodes), ResourceQuotas
//! that close other tenants' FADA classes, and an isolation report that
//! lists nothing shared, which `tenantc check` guarantees.

use crate::common;

use camino::{Utf8Path, Utf8PathBuf};
use common::{compile, root, spec_in_tmp};
use std::collections::{BTreeMap, BTreeSet};

fn compiled(spec: &Utf8Path) -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Utf8PathBuf::from_path_buf(dir.path().join("out")).expect("utf-8");
    let o = compile(spec.as_str(), out.as_str(), &[]);
    assert!(
        o.status.success(),
        "{spec}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (dir, out)
}

fn yaml(path: &Utf8Path) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `<cluster>/<namespace>` directory that holds a namespace.yaml.
fn namespace_dirs(bundle: &Utf8Path) -> Vec<Utf8PathBuf> {
    let mut out = Vec::new();
    for f in common::walk(bundle.as_std_path()) {
        if f.file_name().is_some_and(|n| n == "namespace.yaml") {
            out.push(
                Utf8PathBuf::from_path_buf(f.parent().expect("dir").to_path_buf()).expect("utf-8"),
            );
        }
    }
    out.sort();
    out
}

#[test]
fn every_namespace_denies_ingress_and_admits_only_itself() {
    for example in common::examples() {
        let (_d, out) = compiled(&example);
        let dirs = namespace_dirs(&out);
        assert!(!dirs.is_empty());
        for dir in dirs {
            let deny = yaml(&dir.join("networkpolicy-default-deny-ingress.yaml"));
            assert_eq!(deny["spec"]["policyTypes"][0], "Ingress", "{dir}");
            assert!(
                deny["spec"]["ingress"].is_null(),
                "{dir}: the default admits nothing"
            );
            assert_eq!(
                deny["spec"]["podSelector"],
                serde_yaml::Value::Mapping(Default::default()),
                "{dir}: every pod"
            );
            let same = yaml(&dir.join("networkpolicy-allow-same-namespace.yaml"));
            let from = &same["spec"]["ingress"][0]["from"];
            assert_eq!(from.as_sequence().map(Vec::len), Some(1), "{dir}");
            assert!(
                from[0]["namespaceSelector"].is_null(),
                "{dir}: its own namespace only"
            );
            // No rule of any policy admits every source on every port.
            for f in common::walk(dir.as_std_path()) {
                let name = f
                    .file_name()
                    .expect("present")
                    .to_string_lossy()
                    .to_string();
                if !name.starts_with("networkpolicy-") {
                    continue;
                }
                let p = yaml(Utf8Path::from_path(&f).expect("present"));
                for rule in p["spec"]["ingress"].as_sequence().into_iter().flatten() {
                    let open_from = rule["from"].as_sequence().is_none_or(Vec::is_empty);
                    let open_ports = rule["ports"].as_sequence().is_none_or(Vec::is_empty);
                    assert!(!(open_from && open_ports), "{dir}/{name} admits everything");
                    if open_from {
                        assert!(name.starts_with("networkpolicy-expose-"), "{dir}/{name}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_nfs_ports_are_admitted_only_from_the_host_network_on_openshift() {
    let (_d, out) = compiled(&root().join("examples/mixed-site"));
    let ns = out.join("k8s/ocp_prod/ledger-nfs-proxy");
    let p = yaml(&ns.join("networkpolicy-allow-nfs-from-nodes.yaml"));
    let rule = &p["spec"]["ingress"][0];
    let from = rule["from"].as_sequence().expect("from");
    assert_eq!(from.len(), 1);
    assert_eq!(
        from[0]["namespaceSelector"]["matchLabels"]
            ["policy-group.network.openshift.io/host-network"],
        ""
    );
    // No podSelector beside it: OVN-Kubernetes releases that send a peer
    // with both selectors (even `podSelector: {}`) to the pod address sets
    // would leave the nodes' host-network addresses out.
    assert!(from[0].get("podSelector").is_none(), "{:?}", from[0]);
    assert_eq!(p["spec"]["podSelector"]["matchLabels"]["app"], "haproxy");
    let svc = yaml(&ns.join("service-nfs-server.yaml"));
    let svc_ports: BTreeSet<u64> = svc["spec"]["ports"]
        .as_sequence()
        .expect("present")
        .iter()
        .map(|p| p["port"].as_u64().expect("present"))
        .collect();
    let admitted: BTreeSet<u64> = rule["ports"]
        .as_sequence()
        .expect("present")
        .iter()
        .map(|p| p["port"].as_u64().expect("present"))
        .collect();
    assert_eq!(admitted, svc_ports, "exactly the Service's NFS ports");
}

const K8S_NFS: &str = include_str!("../fixtures/k8s-nfs/site.tenant");

#[test]
fn plain_kubernetes_admits_the_nfs_ports_from_the_nodes_addresses() {
    let (_s, spec) = spec_in_tmp(K8S_NFS);
    let (_d, out) = compiled(&spec);
    let p = yaml(&out.join("k8s/k1/t1-nfs-proxy/networkpolicy-allow-nfs-from-nodes.yaml"));
    let cidrs: Vec<&str> = p["spec"]["ingress"][0]["from"]
        .as_sequence()
        .expect("present")
        .iter()
        .map(|f| f["ipBlock"]["cidr"].as_str().expect("present"))
        .collect();
    assert_eq!(cidrs, ["10.2.0.1/32", "10.2.0.2/32"]);
    // The exposed port, and only it, is open to other namespaces.
    let e = yaml(&out.join("k8s/k1/t1/networkpolicy-expose-app.yaml"));
    assert_eq!(e["spec"]["podSelector"]["matchLabels"]["app"], "app");
    let ports: Vec<u64> = e["spec"]["ingress"][0]["ports"]
        .as_sequence()
        .expect("present")
        .iter()
        .map(|p| p["port"].as_u64().expect("present"))
        .collect();
    assert_eq!(ports, [8080]);
    // One tenant on the cluster: no quota to write.
    assert!(!out
        .join("k8s/k1/t1/resourcequota-other-tenants-storage-classes.yaml")
        .exists());
}

#[test]
fn each_tenant_namespace_is_closed_to_the_other_tenants_fada_classes() {
    let (_d, out) = compiled(&root().join("examples/mixed-site"));
    // The FADA classes of each tenant, from the StorageClasses the bundle holds.
    let mut classes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in common::walk(out.join("k8s/ocp_prod/cluster").as_std_path()) {
        let sc = yaml(Utf8Path::from_path(&f).expect("present"));
        if sc["provisioner"] == "pxd.portworx.com" {
            classes
                .entry(
                    sc["metadata"]["labels"]["tenantc.io/tenant"]
                        .as_str()
                        .expect("present")
                        .into(),
                )
                .or_default()
                .insert(sc["metadata"]["name"].as_str().expect("present").into());
        }
    }
    assert_eq!(
        classes.len(),
        2,
        "mixed-site has two Pure tenants on one cluster"
    );
    let namespaces = [
        ("ledger", "ledger"),
        ("ledger", "ledger-nfs-proxy"),
        ("analytics", "analytics"),
    ];
    for (tenant, ns) in namespaces {
        let q = yaml(&out.join(format!(
            "k8s/ocp_prod/{ns}/resourcequota-other-tenants-storage-classes.yaml"
        )));
        let hard = q["spec"]["hard"].as_mapping().expect("hard");
        let mut want = BTreeMap::new();
        // Portworx's own pool classes are closed in every namespace too
        // (issue 29, N9).
        for c in [
            "px-csi-db",
            "px-csi-db-cloud-snapshot",
            "px-csi-db-cloud-snapshot-encrypted",
            "px-csi-db-encrypted",
            "px-csi-db-local-snapshot",
            "px-csi-db-local-snapshot-encrypted",
            "px-csi-replicated",
            "px-csi-replicated-encrypted",
        ] {
            want.insert(
                format!("{c}.storageclass.storage.k8s.io/requests.storage"),
                "0",
            );
            want.insert(
                format!("{c}.storageclass.storage.k8s.io/persistentvolumeclaims"),
                "0",
            );
        }
        for (owner, cs) in &classes {
            if owner != tenant {
                for c in cs {
                    want.insert(
                        format!("{c}.storageclass.storage.k8s.io/requests.storage"),
                        "0",
                    );
                    want.insert(
                        format!("{c}.storageclass.storage.k8s.io/persistentvolumeclaims"),
                        "0",
                    );
                }
            }
        }
        let got: BTreeMap<String, &str> = hard
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().expect("present").to_string(),
                    v.as_str().expect("present"),
                )
            })
            .collect();
        assert_eq!(got, want, "{ns}");
    }
}

/// Every bad input, analyzed: anything the isolation report would list as
/// shared comes with an error, and every kind of shared item is exercised
/// by some bad input.
#[test]
fn check_refuses_whatever_the_report_would_list_as_shared() {
    let mut kinds = BTreeSet::new();
    for case in common::entries("tests/bad", |p| p.extension() == Some("tenant")) {
        let Ok(a) = tenantc::analyze(std::slice::from_ref(&case), &tenantc::Options::default())
        else {
            continue;
        };
        // A site refused before the checks (a shared secret source) has no
        // plan: the ledger of its IR still says what it shares.
        let plan = (a.plan.clone()).unwrap_or_else(|| tenantc::plan::build(&a.site));
        let shared = tenantc::plan::claims::shared(&a.site, &plan.claims);
        if !shared.is_empty() {
            assert!(a.has_errors(), "{case}: shared {shared:?} but no error");
            kinds.extend(shared.iter().map(|s| s.what));
        }
    }
    for example in common::examples() {
        let inputs = tenantc::find_inputs(std::slice::from_ref(&example)).expect("inputs");
        let a = tenantc::analyze(&inputs, &tenantc::Options::default()).expect("analysis");
        let plan = a.plan.as_ref().expect("a clean example has a plan");
        assert!(
            tenantc::plan::claims::shared(&a.site, &plan.claims).is_empty(),
            "{example}"
        );
    }
    for kind in [
        "namespace",
        "RACF user ID",
        "export data set",
        "name a proxy trusts",
        "ClusterIP",
        "realm",
        "array user",
        "API token source",
        "export subtree",
    ] {
        assert!(
            kinds.contains(kind),
            "no bad input shares a {kind}: {kinds:?}"
        );
    }
}

#[test]
fn the_report_lists_each_tenant_and_a_change_to_one_changes_only_its_entry() {
    let site = root().join("examples/mixed-site/site.tenant");
    let text = std::fs::read_to_string(&site).expect("example");
    let report = |text: &str| -> serde_json::Value {
        let (_s, spec) = spec_in_tmp(text);
        let (_d, out) = compiled(&spec);
        serde_json::from_str(&std::fs::read_to_string(out.join("isolation.json")).expect("present"))
            .expect("present")
    };
    let before = report(&text);
    assert_eq!(before["shared"], serde_json::json!([]));
    let names: Vec<&str> = before["tenants"]
        .as_array()
        .expect("present")
        .iter()
        .map(|t| t["name"].as_str().expect("present"))
        .collect();
    assert_eq!(names, ["analytics", "ledger"], "sorted by tenant");
    let ledger = &before["tenants"][1];
    assert_eq!(ledger["nfs"]["racf_user"], "LEDGER");
    assert_eq!(ledger["nfs"]["cluster_ip"], "172.30.40.10");
    assert_eq!(ledger["nfs"]["exports"][0]["path"], "/hfs/ledger/reports");
    assert_eq!(ledger["nfs"]["lpars"], serde_json::json!(["PRD1", "PRD2"]));
    assert_eq!(ledger["pure"]["realm"], "ledger");
    // The report says what the quota closes without listing the other
    // tenants' classes (the quota file lists them).
    assert_eq!(
        ledger["resource_quotas"][0]["closes"],
        "every FADA storage class of the other tenants of cluster ocp_prod"
    );

    let after = report(&text.replace("/hfs/ledger/reports", "/hfs/ledger/monthly"));
    assert_eq!(
        before["tenants"][0], after["tenants"][0],
        "analytics unchanged"
    );
    assert_ne!(before["tenants"][1], after["tenants"][1]);
}

#[test]
fn nested_exports_of_one_tenant_are_refused() {
    let text = K8S_NFS.replace(
        "volume data { export = \"/hfs/t1\", size = 1Gi }",
        "volume data { export = \"/hfs/t1\", size = 1Gi }\n    volume logs { export = \"/hfs/t1/logs\", size = 1Gi }",
    );
    // z/OS NFS does not export a subdirectory of an exported directory.
    let (codes, rendered) = common::diagnose(&text);
    assert!(codes.iter().any(|c| c == "E0429"), "{rendered}");
    assert!(
        codes.iter().all(|c| c == "E0429" || c == "E0506"),
        "{rendered}"
    );
}

/// Security domains: two systems that name different domains have two RACF
/// databases, so two tenants on them may use one RACF user ID, one label
/// and one data set name; the report lists each domain's identities. The
/// same site with one domain (or none named: the default) is refused.
#[test]
fn separate_security_domains_may_reuse_racf_identities() {
    let bad =
        std::fs::read_to_string(root().join("tests/bad/domain_shared_user_in_named_domain.tenant"))
            .expect("bad input");
    // t3 (PAGENT) is another refusal; leave it out.
    let bad = &bad[..bad.find("tenant t3").expect("t3")];
    let (codes, rendered) = common::diagnose(bad);
    assert_eq!(codes, ["E0417"], "one domain: refused\n{rendered}");
    let unnamed = bad
        .replace("security_domain = PLEXA", "")
        .replace("security_domain = plexa", "");
    let (codes, rendered) = common::diagnose(&unnamed);
    assert_eq!(codes, ["E0417"], "the default domain: refused\n{rendered}");

    let split = bad
        .replace("security_domain = plexa", "security_domain = PLEXB")
        .replace("SYS2.T2.P12", "SYS1.T1.P12")
        .replace("\"T2 client\"", "\"T1 client\"");
    assert_ne!(
        split,
        bad.replace("security_domain = plexa", "security_domain = PLEXB")
    );
    let (codes, rendered) = common::diagnose(&split);
    assert!(codes.iter().all(|c| c == "E0506"), "{rendered}");
    let (_s, spec) = spec_in_tmp(&split);
    let (_d, out) = compiled(&spec);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("isolation.json")).expect("present"),
    )
    .expect("json");
    let domains = report["security_domains"].as_array().expect("domains");
    let names: Vec<&str> = domains
        .iter()
        .map(|d| d["name"].as_str().expect("named"))
        .collect();
    assert_eq!(names, ["PLEXA", "PLEXB"]);
    for (d, tenant) in domains.iter().zip(["t1", "t2"]) {
        let holders: Vec<&str> = d["identities"]
            .as_array()
            .expect("identities")
            .iter()
            .filter(|i| i["value"] == "SHARED")
            .map(|i| i["holder"].as_str().expect("holder"))
            .collect();
        assert_eq!(holders, [format!("tenant `{tenant}`")], "{d}");
    }
}
