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
fn with_quotas_each_tenant_namespace_is_closed_to_the_other_tenants_fada_classes() {
    // An older cluster (`storage_fence = quota`); the default fence is
    // checked by the_files_do_what_the_report_says.
    let text = std::fs::read_to_string(root().join("examples/mixed-site/site.tenant"))
        .expect("example")
        .replace(
            "  kind         = openshift\n",
            "  kind         = openshift\n  storage_fence = quota\n",
        );
    let (_s, spec) = spec_in_tmp(&text);
    let (_d, out) = compiled(&spec);
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
    // The report names the tenant's own fence and classes, never the other
    // tenants' (a tenant added elsewhere changes nothing here).
    assert_eq!(ledger["resource_quotas"], serde_json::json!([]));
    assert_eq!(
        ledger["admission_policies"][0]["name"],
        "tenantc-storage-fence-ledger"
    );
    assert_eq!(
        ledger["admission_policies"][0]["classes"],
        serde_json::json!(["ledger-db"])
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

/// The files of `text`'s bundle that hold tenant ledger's objects on its
/// cluster: its namespaces' and its cluster-scoped objects'.
fn ledger_files(text: &str) -> BTreeMap<String, String> {
    let (_s, spec) = spec_in_tmp(text);
    let (_d, out) = compiled(&spec);
    let mut files = BTreeMap::new();
    for f in common::walk(out.as_std_path()) {
        let rel = f
            .strip_prefix(out.as_std_path())
            .expect("inside")
            .to_string_lossy()
            .to_string();
        let ours = rel.starts_with("k8s/ocp_prod/ledger/")
            || rel.starts_with("k8s/ocp_prod/ledger-nfs-proxy/")
            || (rel.starts_with("k8s/ocp_prod/cluster/") && rel.contains("ledger"));
        if ours {
            files.insert(rel, std::fs::read_to_string(&f).expect("read"));
        }
    }
    assert!(!files.is_empty());
    files
}

/// Issue 28: the storage fence of a tenant names its own classes only, so
/// adding (or removing) another tenant of its cluster changes none of its
/// files. The quotas older clusters get (`storage_fence = quota`) list the
/// other tenants' classes: the same change rewrites ledger's quota, which
/// shows the comparison can fail.
#[test]
fn adding_a_tenant_changes_no_file_of_another_tenant() {
    let text =
        std::fs::read_to_string(root().join("examples/mixed-site/site.tenant")).expect("example");
    // Without analytics, its cloud drives' pod goes too.
    let without = text[..text.find("tenant analytics {").expect("analytics")].replace(
        "[\"ledger-drives\", \"analytics-drives\"]",
        "[\"ledger-drives\"]",
    );
    assert!(!without.contains("analytics-drives"));
    let without = without.as_str();
    let (before, after) = (ledger_files(without), ledger_files(&text));
    assert_eq!(
        before, after,
        "ledger's files changed when analytics was added"
    );
    assert!(
        after
            .keys()
            .any(|p| p.contains("validatingadmissionpolicy-tenantc-storage-fence-ledger")),
        "{:?}",
        after.keys()
    );
    let quota = |t: &str| {
        t.replace(
            "  kind         = openshift\n",
            "  kind         = openshift\n  storage_fence = quota\n",
        )
    };
    assert_ne!(quota(&text), text);
    let (before, after) = (ledger_files(&quota(without)), ledger_files(&quota(&text)));
    let changed: Vec<&String> = after
        .iter()
        .filter(|(p, t)| before.get(*p) != Some(*t))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        changed,
        [
            "k8s/ocp_prod/ledger-nfs-proxy/resourcequota-other-tenants-storage-classes.yaml",
            "k8s/ocp_prod/ledger/resourcequota-other-tenants-storage-classes.yaml"
        ],
        "with quotas, analytics rewrites ledger's quotas"
    );
}

// ---------------------------------------------------------------------
// The report checked against the files (issue 28): the generated
// NetworkPolicies, Services and storage fences evaluated with Kubernetes'
// documented semantics, compared with what isolation.json says.
//
// NetworkPolicy
// (https://kubernetes.io/docs/concepts/services-networking/network-policies/):
// a pod selected by some Ingress policy of its namespace is isolated and
// accepts a connection only if a rule of such a policy admits it: its
// `ports` (empty: every port) hold the port and its `from` (empty: every
// source) has a peer matching the source; a peer with `podSelector` alone
// selects pods of the policy's namespace, with `namespaceSelector` pods of
// the matching namespaces (and, with both, the pods matching both), an
// `ipBlock` addresses. OpenShift's host network is the namespace labelled
// `policy-group.network.openshift.io/host-network`. A Service forwards its
// `targetPort` to the pods its selector matches in its namespace.
// ValidatingAdmissionPolicy
// (https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/):
// a policy acts only through a binding naming it; with `Deny` a request
// whose validation is false is refused. ResourceQuota: a class whose
// `persistentvolumeclaims` is 0 in a namespace cannot be claimed there.

type Labels = BTreeMap<String, String>;

#[derive(Debug)]
struct Pod {
    ns: String,
    workload: String,
    labels: Labels,
    ports: BTreeSet<u64>,
}

fn labels_of(v: &serde_yaml::Value) -> Labels {
    v.as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.as_str().expect("key").to_string(),
                        v.as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A label selector (matchLabels only; the bundle writes nothing else).
fn selects(sel: &serde_yaml::Value, labels: &Labels) -> bool {
    assert!(sel.get("matchExpressions").is_none(), "{sel:?}");
    labels_of(&sel["matchLabels"])
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
}

/// Where a connection comes from: a pod (no labels) of a namespace, the
/// host network, or an address outside the pod network (a plain Kubernetes
/// control plane's). A pod has an address of [`POD_NETWORK`]: a CNI may
/// match pod addresses against an `ipBlock` (the Kubernetes documentation
/// leaves it to the implementation), so the model does.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Pod(String),
    Host,
    Addr(std::net::Ipv4Addr),
}

/// The address every modelled pod connects from.
const POD_NETWORK_ADDR: std::net::Ipv4Addr = std::net::Ipv4Addr::new(10, 244, 0, 7);

/// An address of each plain Kubernetes example cluster's `control_plane`
/// (examples/px-pure-saw); OpenShift's control plane is the host network.
fn control_plane_of(cluster: &str) -> Source {
    match cluster {
        "k8s1" => Source::Addr(std::net::Ipv4Addr::new(10, 0, 0, 10)),
        "k8s2" => Source::Addr(std::net::Ipv4Addr::new(10, 0, 16, 10)),
        _ => Source::Host,
    }
}

struct Cluster {
    namespaces: BTreeMap<String, Labels>,
    /// The namespaces of the StorageClusters (Portworx's).
    portworx: BTreeSet<String>,
    pods: Vec<Pod>,
    policies: Vec<serde_yaml::Value>,
    services: Vec<serde_yaml::Value>,
    fences: Vec<serde_yaml::Value>,
    bindings: Vec<serde_yaml::Value>,
    quotas: Vec<serde_yaml::Value>,
}

const HOST_NETWORK: &str = "policy-group.network.openshift.io/host-network";
/// A namespace the bundle never creates (a project anyone may make).
const INTRUDER: &str = "intruder";

fn cluster_of(dir: &Utf8Path) -> Cluster {
    let mut c = Cluster {
        namespaces: BTreeMap::from([(INTRUDER.to_string(), Labels::new())]),
        portworx: BTreeSet::new(),
        pods: Vec::new(),
        policies: Vec::new(),
        services: Vec::new(),
        fences: Vec::new(),
        bindings: Vec::new(),
        quotas: Vec::new(),
    };
    for f in common::walk(dir.as_std_path()) {
        let f = Utf8PathBuf::from_path_buf(f).expect("utf-8");
        if f.extension() != Some("yaml") || f.file_name() == Some("kustomization.yaml") {
            continue;
        }
        let v = yaml(&f);
        let ns = v["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match v["kind"].as_str().unwrap_or_default() {
            "Namespace" => {
                let name = v["metadata"]["name"].as_str().expect("name").to_string();
                c.namespaces
                    .insert(name, labels_of(&v["metadata"]["labels"]));
            }
            "Deployment" | "StatefulSet" => {
                let t = &v["spec"]["template"];
                let ports = t["spec"]["containers"]
                    .as_sequence()
                    .expect("containers")
                    .iter()
                    .flat_map(|k| k["ports"].as_sequence().cloned().unwrap_or_default())
                    .map(|p| p["containerPort"].as_u64().expect("port"))
                    .collect();
                c.pods.push(Pod {
                    ns,
                    workload: v["metadata"]["name"].as_str().expect("name").to_string(),
                    labels: labels_of(&t["metadata"]["labels"]),
                    ports,
                });
            }
            "NetworkPolicy" => c.policies.push(v),
            "StorageCluster" => {
                c.portworx.insert(ns);
            }
            "Service" => c.services.push(v),
            "ValidatingAdmissionPolicy" => c.fences.push(v),
            "ValidatingAdmissionPolicyBinding" => c.bindings.push(v),
            "ResourceQuota" => c.quotas.push(v),
            _ => {}
        }
    }
    c
}

impl Cluster {
    fn peer_admits(&self, peer: &serde_yaml::Value, policy_ns: &str, src: &Source) -> bool {
        if let Some(block) = peer.get("ipBlock") {
            assert!(block.get("except").is_none(), "{block:?}");
            let net: ipnet::Ipv4Net = block["cidr"]
                .as_str()
                .expect("cidr")
                .parse()
                .expect("a CIDR");
            return match src {
                Source::Addr(a) => net.contains(a),
                Source::Pod(_) => net.contains(&POD_NETWORK_ADDR),
                // No host address is modelled on OpenShift.
                Source::Host => false,
            };
        }
        let (src_ns_labels, src_ns) = match src {
            Source::Host => (
                Labels::from([(HOST_NETWORK.to_string(), String::new())]),
                None,
            ),
            Source::Pod(ns) => (self.namespaces[ns].clone(), Some(ns.as_str())),
            // Outside the cluster: no namespace selects it.
            Source::Addr(_) => return false,
        };
        let pod_ok = peer
            .get("podSelector")
            .is_none_or(|s| selects(s, &Labels::new()));
        match peer.get("namespaceSelector") {
            Some(sel) => selects(sel, &src_ns_labels) && pod_ok,
            None => src_ns == Some(policy_ns) && pod_ok,
        }
    }

    fn admits(&self, src: &Source, dst: &Pod, port: u64) -> bool {
        let selecting: Vec<&serde_yaml::Value> = self
            .policies
            .iter()
            .filter(|p| p["metadata"]["namespace"].as_str() == Some(dst.ns.as_str()))
            .filter(|p| selects(&p["spec"]["podSelector"], &dst.labels))
            .filter(|p| {
                p["spec"]["policyTypes"]
                    .as_sequence()
                    .is_none_or(|t| t.iter().any(|x| x.as_str() == Some("Ingress")))
            })
            .collect();
        if selecting.is_empty() {
            return true;
        }
        selecting.iter().any(|p| {
            p["spec"]["ingress"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
                .iter()
                .any(|rule| {
                    let ports = rule["ports"].as_sequence().cloned().unwrap_or_default();
                    let from = rule["from"].as_sequence().cloned().unwrap_or_default();
                    (ports.is_empty() || ports.iter().any(|p| p["port"].as_u64() == Some(port)))
                        && (from.is_empty()
                            || from.iter().any(|peer| self.peer_admits(peer, &dst.ns, src)))
                })
        })
    }

    /// Whether a claim naming `class` in `ns` passes every bound fence and
    /// quota.
    fn may_claim(&self, ns: &str, class: &str) -> bool {
        let labels = &self.namespaces[ns];
        let bound = |name: &str| {
            self.bindings.iter().any(|b| {
                b["spec"]["policyName"].as_str() == Some(name)
                    && b["spec"].get("matchResources").is_none()
                    && b["spec"]["validationActions"]
                        .as_sequence()
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("Deny")))
            })
        };
        for f in &self.fences {
            if !bound(f["metadata"]["name"].as_str().expect("name")) {
                continue;
            }
            let var = |n: &str| -> String {
                f["spec"]["variables"]
                    .as_sequence()
                    .expect("variables")
                    .iter()
                    .find(|v| v["name"].as_str() == Some(n))
                    .and_then(|v| v["expression"].as_str())
                    .unwrap_or_else(|| panic!("no variable {n}"))
                    .to_string()
            };
            assert_eq!(
                f["spec"]["validations"][0]["expression"].as_str(),
                Some("!variables.fenced || variables.allowed")
            );
            // The fenced classes: the list `classes`, which `fenced` tests
            // the field and the beta annotation against, as generated (a
            // line break is a blank to CEL).
            let flat = |e: String| e.split_whitespace().collect::<Vec<_>>().join(" ");
            let classes: Vec<String> = var("classes")
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|x| x.trim().trim_matches('\'').to_string())
                .collect();
            assert_eq!(
                flat(var("fenced")),
                "(has(object.spec.storageClassName) && object.spec.storageClassName in variables.classes) || (has(object.metadata.annotations) && 'volume.beta.kubernetes.io/storage-class' in object.metadata.annotations && object.metadata.annotations['volume.beta.kubernetes.io/storage-class'] in variables.classes)"
            );
            let allowed = flat(var("allowed"));
            let has = "has(namespaceObject.metadata.labels) && 'tenantc.io/tenant' in namespaceObject.metadata.labels";
            let ok = if let Some(rest) = allowed.strip_prefix(&format!(
                "{has} && namespaceObject.metadata.labels['tenantc.io/tenant'] == "
            )) {
                labels.get("tenantc.io/tenant").map(String::as_str) == Some(rest.trim_matches('\''))
            } else if allowed == format!("!({has})") {
                !labels.contains_key("tenantc.io/tenant")
            } else {
                panic!("an `allowed` this model does not read: {allowed}")
            };
            if classes.iter().any(|c| c == class) && !ok {
                return false;
            }
        }
        !self.quotas.iter().any(|q| {
            q["metadata"]["namespace"].as_str() == Some(ns)
                && q["spec"]["hard"]
                    [format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims").as_str()]
                .as_str()
                    == Some("0")
        })
    }
}

/// What the files let happen, as facts: connections admitted to tenants'
/// pods, and claims of tenants' classes.
fn evaluated(
    c: &Cluster,
    control_plane: &Source,
    tenant_ns: &BTreeSet<String>,
    classes: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut sources: Vec<Source> = c
        .namespaces
        .keys()
        .map(|n| Source::Pod(n.clone()))
        .chain([Source::Host])
        .collect();
    if *control_plane != Source::Host {
        sources.push(control_plane.clone());
    }
    for dst in c.pods.iter().filter(|p| tenant_ns.contains(&p.ns)) {
        for port in &dst.ports {
            for src in &sources {
                if c.admits(src, dst, *port) {
                    out.insert(format!("{src:?} -> {}/{}:{port}", dst.ns, dst.workload));
                }
            }
        }
    }
    for s in &c.services {
        let ns = s["metadata"]["namespace"].as_str().expect("ns");
        for p in s["spec"]["ports"].as_sequence().expect("ports") {
            let target = p["targetPort"]
                .as_u64()
                .or(p["port"].as_u64())
                .expect("port");
            let selector = labels_of(&s["spec"]["selector"]);
            assert!(!selector.is_empty(), "a Service without a selector");
            let backed = c.pods.iter().any(|pod| {
                pod.ns == ns
                    && selector.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
                    && pod.ports.contains(&target)
            });
            assert!(
                backed,
                "Service {ns}/{} port {target} reaches no pod",
                s["metadata"]["name"].as_str().unwrap_or_default()
            );
        }
    }
    for ns in c.namespaces.keys() {
        for class in classes {
            if c.may_claim(ns, class) {
                out.insert(format!("claim {class} in {ns}"));
            }
        }
    }
    out
}

/// What isolation.json says about the tenants of `cluster`, as the same
/// facts.
fn reported(
    c: &Cluster,
    cluster: &str,
    control_plane: &Source,
    report: &serde_json::Value,
) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let mut out = BTreeSet::new();
    let (mut tenant_ns, mut classes) = (BTreeSet::new(), BTreeSet::new());
    for t in report["tenants"].as_array().expect("tenants") {
        if t["cluster"].as_str() != Some(cluster) {
            continue;
        }
        let own: Vec<String> = t["namespaces"]
            .as_array()
            .expect("namespaces")
            .iter()
            .map(|n| n.as_str().expect("ns").to_string())
            .collect();
        tenant_ns.extend(own.iter().cloned());
        let proxy_ns = t["nfs"]["proxy_namespace"].as_str();
        let exposed: BTreeSet<(String, u64)> = t["exposed_ports"]
            .as_array()
            .expect("exposed")
            .iter()
            .flat_map(|e| {
                let w = e["workload"].as_str().expect("w").replace('_', "-");
                e["ports"]
                    .as_array()
                    .expect("ports")
                    .iter()
                    .map(move |p| (w.clone(), p.as_u64().expect("port")))
            })
            .collect();
        for dst in c.pods.iter().filter(|p| own.contains(&p.ns)) {
            for port in &dst.ports {
                let open = exposed.contains(&(dst.workload.clone(), *port));
                for ns in c.namespaces.keys() {
                    if *ns == dst.ns || open {
                        out.insert(format!(
                            "{:?} -> {}/{}:{port}",
                            Source::Pod(ns.clone()),
                            dst.ns,
                            dst.workload
                        ));
                    }
                }
                if open || proxy_ns == Some(dst.ns.as_str()) {
                    out.insert(format!(
                        "{:?} -> {}/{}:{port}",
                        Source::Host,
                        dst.ns,
                        dst.workload
                    ));
                }
                // A plain Kubernetes control plane is admitted to no
                // tenant's pod but through an exposed port.
                if open && *control_plane != Source::Host {
                    out.insert(format!(
                        "{control_plane:?} -> {}/{}:{port}",
                        dst.ns, dst.workload
                    ));
                }
            }
        }
        for class in t["pure"]["storage_classes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let class = class.as_str().expect("class").to_string();
            for ns in &own {
                out.insert(format!("claim {class} in {ns}"));
            }
            classes.insert(class);
        }
    }
    (out, tenant_ns, classes)
}

/// The Portworx namespace's pods, as the operator runs them (the bundle
/// writes only their StorageCluster): Stork, with its admission webhook
/// (443) and scheduler extender (8099) ports. The control plane reaches
/// the webhook port, and on plain Kubernetes nothing else of it; no pod of
/// a tenant's namespace or of a namespace the bundle never made (a project
/// anyone may create) reaches any of its ports.
fn control_plane_reaches_portworx(
    c: &Cluster,
    control_plane: &Source,
    tenant_ns: &BTreeSet<String>,
) -> Result<(), String> {
    let mut wrong = Vec::new();
    for ns in &c.portworx {
        let stork = Pod {
            ns: ns.clone(),
            workload: "stork".into(),
            labels: Labels::from([
                ("name".to_string(), "stork".to_string()),
                ("tier".to_string(), "control-plane".to_string()),
            ]),
            ports: BTreeSet::from([443, 8099]),
        };
        if !c.admits(control_plane, &stork, 443) {
            wrong.push(format!(
                "{control_plane:?} may not call Stork's webhook in {ns}"
            ));
        }
        if *control_plane != Source::Host && c.admits(control_plane, &stork, 8099) {
            wrong.push(format!(
                "{control_plane:?} reaches Stork's port 8099 in {ns}"
            ));
        }
        for src in tenant_ns.iter().chain([&INTRUDER.to_string()]) {
            for port in &stork.ports {
                if c.admits(&Source::Pod(src.clone()), &stork, *port) {
                    wrong.push(format!("pods of {src} reach {ns}/stork:{port}"));
                }
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("\n"))
    }
}

fn check_against_report(bundle: &Utf8Path, cluster: &str) -> Result<(), String> {
    let c = cluster_of(&bundle.join("k8s").join(cluster));
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(bundle.join("isolation.json")).expect("report"),
    )
    .expect("json");
    let control_plane = control_plane_of(cluster);
    let (expected, tenant_ns, classes) = reported(&c, cluster, &control_plane, &report);
    assert!(!tenant_ns.is_empty(), "{cluster}: no tenant");
    let got = evaluated(&c, &control_plane, &tenant_ns, &classes);
    if got == expected {
        return control_plane_reaches_portworx(&c, &control_plane, &tenant_ns);
    }
    Err(format!(
        "the files admit, the report does not: {:#?}\nthe report says, the files do not: {:#?}",
        got.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&got).collect::<Vec<_>>()
    ))
}

/// A claim without a class gets the cluster's default StorageClass
/// (https://kubernetes.io/docs/concepts/storage/storage-classes/#default-storageclass):
/// no class the bundle writes is marked default, so none lands in a
/// tenant's realm unnamed.
#[test]
fn no_storage_class_of_the_bundle_is_the_default() {
    let (_d, px) = compiled(&root().join("examples/px-pure-saw"));
    let mut classes = 0;
    for f in common::walk(px.as_std_path()) {
        let f = Utf8PathBuf::from_path_buf(f).expect("utf-8");
        if f.extension() != Some("yaml") || f.file_name() == Some("kustomization.yaml") {
            continue;
        }
        let v = yaml(&f);
        if v["kind"].as_str() != Some("StorageClass") {
            continue;
        }
        classes += 1;
        let ann = &v["metadata"]["annotations"];
        for key in [
            "storageclass.kubernetes.io/is-default-class",
            "storageclass.beta.kubernetes.io/is-default-class",
        ] {
            assert!(ann.get(key).is_none(), "{f}: {key}");
        }
    }
    assert!(classes > 0, "no StorageClass in the bundle");
}

#[test]
fn the_files_do_what_the_report_says() {
    let (_d, out) = compiled(&root().join("examples/mixed-site"));
    check_against_report(&out, "ocp_prod").unwrap_or_else(|e| panic!("{e}"));
    let (_d2, px) = compiled(&root().join("examples/px-pure-saw"));
    for c in ["k8s1", "k8s2"] {
        check_against_report(&px, c).unwrap_or_else(|e| panic!("{c}: {e}"));
    }
    // Each mutation of a generated file, a policy removed or widened, is
    // caught.
    let k8s = out.join("k8s/ocp_prod");
    let mutate = |path: &str, edit: &dyn Fn(&str) -> Option<String>| {
        let p = k8s.join(path);
        let before = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
        match edit(&before) {
            Some(t) => std::fs::write(&p, t).expect("write"),
            None => std::fs::remove_file(&p).expect("rm"),
        }
        let r = check_against_report(&out, "ocp_prod");
        std::fs::write(&p, &before).expect("restore");
        assert!(r.is_err(), "{path}: the mutation went unnoticed");
    };
    // Removed: ledger's pods no longer admit each other.
    mutate("ledger/networkpolicy-allow-same-namespace.yaml", &|_| None);
    // Widened: the proxy's NFS ports from every source.
    mutate(
        "ledger-nfs-proxy/networkpolicy-allow-nfs-from-nodes.yaml",
        &|t| {
            let cut = t.find("  - from:").expect("from");
            let end = t.find("    ports:").expect("ports");
            Some(format!(
                "{}  - ports:{}",
                &t[..cut],
                &t[end + "    ports:".len()..]
            ))
        },
    );
    // Widened: ledger's pods admit every namespace's.
    mutate("ledger/networkpolicy-allow-same-namespace.yaml", &|t| {
        Some(t.replace("    - podSelector: {}", "    - namespaceSelector: {}"))
    });
    // Removed: Spark's UI port no longer exposed.
    mutate("analytics/networkpolicy-expose-spark.yaml", &|_| None);
    // Removed: ledger's storage fence no longer bound.
    mutate(
        "cluster/validatingadmissionpolicybinding-tenantc-storage-fence-ledger.yaml",
        &|_| None,
    );
    // Widened: the fence lists no class of ledger's.
    mutate(
        "cluster/validatingadmissionpolicy-tenantc-storage-fence-ledger.yaml",
        &|t| Some(t.replace("  'ledger-db'", "  'nothing'")),
    );
    // (Removing it changes nothing on OpenShift, where `allow-from-nodes`
    // admits the host network on every port; plain Kubernetes below.)
    // Widened: the control plane's ports from every source.
    mutate("portworx/networkpolicy-allow-control-plane.yaml", &|t| {
        let cut = t.find("  - from:").expect("from");
        let end = t.find("    ports:").expect("ports");
        Some(format!(
            "{}  - ports:{}",
            &t[..cut],
            &t[end + "    ports:".len()..]
        ))
    });
    // On plain Kubernetes: the control plane's network removed, or widened
    // to every address (pods' included).
    let k8s1 = px.join("k8s/k8s1/portworx/networkpolicy-allow-control-plane.yaml");
    let before = std::fs::read_to_string(&k8s1).expect("read");
    for edited in [
        None,
        Some(before.replace("cidr: 10.0.0.0/24", "cidr: 0.0.0.0/0")),
        Some(before.replace("port: 443", "port: 8099")),
    ] {
        match &edited {
            Some(t) => {
                assert_ne!(*t, before, "the mutation changed nothing");
                std::fs::write(&k8s1, t).expect("write")
            }
            None => std::fs::remove_file(&k8s1).expect("rm"),
        }
        let r = check_against_report(&px, "k8s1");
        std::fs::write(&k8s1, &before).expect("restore");
        assert!(r.is_err(), "k8s1 {edited:?}: the mutation went unnoticed");
    }
}
