//! The objects that keep a cluster's tenants apart: NetworkPolicies in every
//! namespace the bundle creates, and ResourceQuotas that keep each tenant's
//! namespaces off the other tenants' Portworx StorageClasses.
//!
//! NetworkPolicy (networking.k8s.io/v1):
//! https://kubernetes.io/docs/concepts/services-networking/network-policies/
//! (a pod selected by a policy of type Ingress accepts only what some policy
//! allows; `podSelector: {}` selects every pod of the namespace; a peer
//! without `from` admits every source). Every namespace gets:
//!
//! - `default-deny-ingress`: every pod, type Ingress, no rule
//!   (https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-traffic);
//! - `allow-same-namespace`: from every pod of the same namespace
//!   (`from: [{podSelector: {}}]`);
//! - in an NFS proxy's namespace, `allow-nfs-from-nodes`: the proxy's ports
//!   from where the mounts come from, the kubelet on the host network. On
//!   OpenShift with OVN-Kubernetes that is the namespace selector
//!   `policy-group.network.openshift.io/host-network: ""` alone, without a
//!   `podSelector`: OVN-Kubernetes adds the nodes' host-network addresses
//!   to the address set of the host-network namespace
//!   (`config.Kubernetes.HostNetworkNamespace`, in
//!   ovn-org/ovn-kubernetes `go-controller/pkg/ovn/ovn.go`), and a peer
//!   uses that namespace address set only when it has no pod selector: the
//!   releases of `go-controller/pkg/ovn/policy.go` send a peer with both
//!   selectors, `podSelector: {}` included, to
//!   `handlePeerNamespaceAndPodSelector`, which collects pod IPs only (no
//!   host addresses); current ones (`setupGressPolicy` in
//!   `base_network_controller_policy.go`) treat an empty pod selector as
//!   absent. Without one the rule works on both, and for Kubernetes a peer
//!   with a namespace selector alone selects every pod of those namespaces,
//!   the same as with `podSelector: {}`:
//!   https://docs.redhat.com/en/documentation/openshift_container_platform/4.18/html/network_security/network-policy
//!   (section "About network policy", and the 4.6 release note "Network
//!   policy supports selecting host network traffic":
//!   https://docs.redhat.com/zh-cn/documentation/openshift_container_platform/4.6/html/release_notes/ocp-4-6-network-policy-host-network-policy-group).
//!   On plain Kubernetes there is no such selector: host-network traffic
//!   reaches a pod from the node's address, so the rule admits `ipBlock`s of
//!   the cluster's nodes (each node's `dvipa`, /32);
//! - in the Portworx namespace, `allow-from-nodes`: every port from the same
//!   sources (the kubelet's CSI traffic), where nodes are declared;
//! - in the Portworx namespace, `allow-control-plane`: the API server's
//!   calls, on Stork's webhook port (443, when Stork is on) and Portworx's
//!   API ports (9001, 9020, 9021) only, from the host network on OpenShift
//!   (where the API server runs) and from the cluster's `control_plane`
//!   networks (`ipBlock`s) on plain Kubernetes, which declares no address
//!   of its API servers otherwise (required with Stork: E0336). Without
//!   it the API server cannot reach Stork's mutating webhook through the
//!   default-deny, and every pod create waits for the webhook's timeout.
//!   Tenants' namespaces get nothing from it;
//! - for each workload port listed in `expose`, `expose-<workload>`: those
//!   ports of that workload's pods from every source.
//!
//! The storage fence, per cluster (`storage_fence`). StorageClasses are
//! cluster-wide and Portworx holds every tenant's realm token, so a claim
//! in any namespace naming tenant A's FADA class would get a volume in A's
//! realm. With `admission_policy` (the default; Kubernetes 1.30 or later,
//! OpenShift 4.17 or later, where admissionregistration.k8s.io/v1
//! ValidatingAdmissionPolicy is stable:
//! https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/,
//! https://docs.redhat.com/en/documentation/openshift_container_platform_api/4.17/html/extension_apis/validatingadmissionpolicy-admissionregistration-k8s-io-v1)
//! each Pure tenant gets a policy and a binding of its own,
//! `tenantc-storage-fence-<namespace>`: a PersistentVolumeClaim created or
//! updated in ANY namespace of the cluster, ones the bundle never creates
//! included, that names one of the tenant's classes (by `storageClassName`,
//! or by the `volume.beta.kubernetes.io/storage-class` annotation Kubernetes
//! still honours: https://kubernetes.io/docs/concepts/storage/persistent-volumes/#class)
//! is refused unless its namespace carries the label
//! `tenantc.io/tenant: <tenant>` (the policy reads it from
//! `namespaceObject`). The policy names the tenant's classes only, so a
//! tenant added or removed changes no other tenant's file. Portworx's pool
//! classes get one policy of the cluster, refusing them in every namespace
//! labelled as a tenant's. The label is the fence: it holds as long as a
//! tenant cannot label a namespace itself. Kubernetes' user-facing `admin`
//! and `edit` roles may not update namespaces
//! (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles),
//! and on OpenShift a project's requester gets the project from the
//! cluster's project template, and its `admin` role may not update the
//! Namespace; whoever may (cluster admins, a GitOps service account) is
//! trusted with every tenant's storage.
//!
//! With `quota` (older clusters) the fence is per namespace the bundle
//! creates: ResourceQuota (v1), per storage class:
//! https://kubernetes.io/docs/concepts/policy/resource-quotas/#storage-resource-quota
//! (`<class>.storageclass.storage.k8s.io/requests.storage` and
//! `<class>.storageclass.storage.k8s.io/persistentvolumeclaims`). StorageClasses
//! are cluster-wide and Portworx holds every tenant's realm token, so a claim
//! in tenant B's namespace naming tenant A's FADA class would get a volume in
//! A's realm. Each namespace of a tenant on a cluster with Portworx tenants
//! gets `other-tenants-storage-classes`, both resources 0 for every FADA
//! class of every other tenant of the cluster, and for Portworx's own
//! pool-backed classes (`px-csi-db`, ...), whose drives sit in one tenant's
//! realm pod. (NFS classes need none: their
//! PersistentVolumes are static and bound by `claimRef` to their tenant's
//! claim.)

use super::types::*;
use super::{labels, meta, shared_meta, ClusterOut, TENANT_LABEL};
use crate::ir::*;
use crate::lower::Error;
use crate::plan::{Plan, TenantNames};
use std::collections::{BTreeMap, BTreeSet};

pub const DEFAULT_DENY: &str = "default-deny-ingress";
pub const SAME_NAMESPACE: &str = "allow-same-namespace";
pub const NFS_FROM_NODES: &str = "allow-nfs-from-nodes";
pub const FROM_NODES: &str = "allow-from-nodes";
pub const FROM_CONTROL_PLANE: &str = "allow-control-plane";
/// The port Stork's admission webhook listens on in its pod, and the port of
/// `stork-service` the API server calls: Stork's webhook controller serves
/// `/mutate` with `http.Server{Addr: ":443"}` and registers the
/// MutatingWebhookConfiguration `stork-webhooks-cfg` naming the Service
/// `stork-service` in its namespace without a port, which Kubernetes reads
/// as 443 (libopenstorage/stork `pkg/webhookadmission/webhook.go` and
/// `utils.go`; "ServiceReference ... port ... Defaults to 443":
/// https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#service-reference).
/// The StorageCluster's `stork.args.webhook-controller: "true"` switches it
/// on (`portworx.rs`).
pub const STORK_WEBHOOK_PORT: u16 = 443;
/// Portworx's API ports: the REST API (`portworx-api`/`portworx-service`
/// port `px-api`, 9001, which Kubernetes' Portworx volume plugin calls from
/// the controller manager: https://github.com/kubernetes/kubernetes/pull/70392),
/// and the OpenStorage SDK's gRPC (9020) and REST gateway (9021) ports
/// ("OpenStorage SDK Ports on Portworx systems":
/// https://docs.portworx.com/reference/developer-sdk/; the range 9001-9022
/// of "Securing Portworx API endpoints with Kubernetes Network Policies":
/// https://docs.portworx.com/portworx-enterprise/3.1/shared/hidden/running-in-production/restrict-network-access).
/// Portworx's own pods run on the host network, which NetworkPolicies do not
/// govern; the rule matters where a CNI puts them behind one (and says what
/// the control plane may reach).
pub const PORTWORX_API_PORTS: [u16; 3] = [9001, 9020, 9021];
pub const QUOTA: &str = "other-tenants-storage-classes";
/// The name of a storage fence's policy and binding, before its holder.
pub const FENCE: &str = "tenantc-storage-fence";
/// The annotation that names a claim's class, before `storageClassName`.
const BETA_CLASS: &str = "volume.beta.kubernetes.io/storage-class";
/// The label OVN-Kubernetes gives host-network traffic's namespace.
pub const HOST_NETWORK: &str = "policy-group.network.openshift.io/host-network";

/// A NetworkPolicy of the bundle: its namespace, name and what it admits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicySummary {
    pub namespace: String,
    pub name: String,
    pub admits: String,
}

/// A storage fence (ValidatingAdmissionPolicy) of the bundle: its name, the
/// classes it keeps and the namespaces that may claim them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FenceSummary {
    pub name: String,
    pub classes: Vec<String>,
    pub admits: String,
}

/// A ResourceQuota of the bundle: its namespace, name and what it closes.
/// The report says "every other tenant's FADA class of the cluster" rather
/// than listing them: a list would put other tenants' lines into this
/// tenant's entry, and a tenant added elsewhere would change it (the quota
/// file itself lists them, and the manifest attributes it to their owners).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QuotaSummary {
    pub namespace: String,
    pub name: String,
    pub closes: String,
}

fn policy(
    ns: &str,
    name: &str,
    tenant: Option<&str>,
    spec: NetworkPolicySpec,
) -> Object<Spec<NetworkPolicySpec>> {
    Object {
        api_version: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: match tenant {
            Some(t) => meta(name, Some(ns), t),
            None => shared_meta(name, Some(ns)),
        },
        body: Spec { spec },
    }
}

fn all_pods() -> LabelSelector {
    LabelSelector::default()
}

/// Where the kubelet's (and the API server's) connections come from.
fn node_peers(site: &Site, cluster: ClusterId) -> Vec<PolicyPeer> {
    let c = site.cluster(cluster);
    match c.kind.value {
        ClusterKind::Openshift => vec![PolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: labels(&[(HOST_NETWORK, "")]),
                ..Default::default()
            }),
            // Absent, not `{}`: see the module doc (OVN-Kubernetes).
            pod_selector: None,
            ip_block: None,
        }],
        ClusterKind::Kubernetes => {
            let mut addrs: Vec<std::net::Ipv4Addr> =
                c.nodes.iter().map(|n| n.dvipa.value).collect();
            addrs.sort();
            addrs.dedup();
            addrs
                .into_iter()
                .map(|a| PolicyPeer {
                    ip_block: Some(IpBlock {
                        cidr: format!("{a}/32"),
                    }),
                    ..Default::default()
                })
                .collect()
        }
    }
}

fn node_source(site: &Site, cluster: ClusterId) -> String {
    let c = site.cluster(cluster);
    match c.kind.value {
        ClusterKind::Openshift => format!("the host network ({HOST_NETWORK})"),
        ClusterKind::Kubernetes => {
            let mut addrs: Vec<String> = c
                .nodes
                .iter()
                .map(|n| format!("{}/32", n.dvipa.value))
                .collect();
            addrs.sort();
            addrs.dedup();
            format!("the nodes [{}]", addrs.join(", "))
        }
    }
}

/// The two policies of every namespace: deny, then admit the namespace itself.
fn base(ns: &str, tenant: Option<&str>) -> [Object<Spec<NetworkPolicySpec>>; 2] {
    [
        policy(
            ns,
            DEFAULT_DENY,
            tenant,
            NetworkPolicySpec {
                pod_selector: all_pods(),
                policy_types: vec!["Ingress"],
                ingress: Vec::new(),
            },
        ),
        policy(
            ns,
            SAME_NAMESPACE,
            tenant,
            NetworkPolicySpec {
                pod_selector: all_pods(),
                policy_types: vec!["Ingress"],
                ingress: vec![IngressRule {
                    from: vec![PolicyPeer {
                        pod_selector: Some(all_pods()),
                        ..Default::default()
                    }],
                    ports: Vec::new(),
                }],
            },
        ),
    ]
}

fn tcp(ports: impl IntoIterator<Item = u16>) -> Vec<PolicyPort> {
    ports
        .into_iter()
        .map(|port| PolicyPort {
            protocol: "TCP",
            port,
        })
        .collect()
}

/// A tenant's NetworkPolicies, with the namespace each goes in.
fn tenant_policies(
    site: &Site,
    t: &Tenant,
    names: &TenantNames,
) -> Vec<(Object<Spec<NetworkPolicySpec>>, String)> {
    let tn = t.name.value.as_str();
    let ns = t.namespace.value.as_str();
    let [deny, same] = base(ns, Some(tn));
    let mut out = vec![
        (
            deny,
            "nothing: every other policy is an exception".to_string(),
        ),
        (same, format!("pods of namespace {ns}")),
    ];
    for (w, wn) in t.workloads.iter().zip(&names.workloads) {
        if w.expose.is_empty() {
            continue;
        }
        let name = &wn.name;
        let mut ports: Vec<u16> = w.expose.iter().map(|p| p.value).collect();
        ports.sort();
        ports.dedup();
        let what = format!(
            "every source on TCP {} of workload {name}",
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push((
            policy(
                ns,
                &format!("expose-{name}"),
                Some(tn),
                NetworkPolicySpec {
                    pod_selector: LabelSelector {
                        match_labels: labels(&[("app", name.as_str()), (TENANT_LABEL, tn)]),
                        ..Default::default()
                    },
                    policy_types: vec!["Ingress"],
                    ingress: vec![IngressRule {
                        from: Vec::new(),
                        ports: tcp(ports),
                    }],
                },
            ),
            what,
        ));
    }
    if let Some(nfs) = &t.nfs {
        let pns = nfs.proxy.namespace.value.as_str();
        let [deny, same] = base(pns, Some(tn));
        out.push((deny, "nothing: every other policy is an exception".into()));
        out.push((same, format!("pods of namespace {pns}")));
        let range = nfs.proxy.ports.value;
        out.push((
            policy(
                pns,
                NFS_FROM_NODES,
                Some(tn),
                NetworkPolicySpec {
                    pod_selector: LabelSelector {
                        match_labels: labels(&[("app", "haproxy")]),
                        ..Default::default()
                    },
                    policy_types: vec!["Ingress"],
                    ingress: vec![IngressRule {
                        from: node_peers(site, t.cluster.value),
                        ports: tcp(range.ports()),
                    }],
                },
            ),
            format!(
                "{} on TCP {range} of the haproxy pods (the NFS mounts)",
                node_source(site, t.cluster.value)
            ),
        ));
    }
    out
}

/// The FADA classes of the cluster's other tenants, sorted.
fn foreign_classes(site: &Site, plan: &Plan, t: &Tenant) -> Vec<String> {
    let mut classes: Vec<String> = site
        .tenants
        .iter()
        .zip(&plan.tenants)
        .filter(|(o, _)| {
            o.pure.is_some() && o.cluster.value == t.cluster.value && o.name.value != t.name.value
        })
        .flat_map(|(_, names)| names.classes.iter().cloned())
        .collect();
    classes.sort();
    classes.dedup();
    classes
}

/// A tenant's namespaces: its workloads' and its proxy's.
fn namespaces(t: &Tenant) -> Vec<&str> {
    let mut ns = vec![t.namespace.value.as_str()];
    if let Some(nfs) = &t.nfs {
        ns.push(nfs.proxy.namespace.value.as_str());
    }
    ns
}

/// The StorageClasses the Portworx operator creates out of the box, backed by
/// the Portworx pool (its cloud drives sit in one tenant's realm pod), so no
/// tenant may claim from them: "CSI enabled storage classes",
/// https://docs.portworx.com/portworx-enterprise/3.2/platform/openshift/ocp-bare-metal/operations/storage-operations/csi/storageclasses
pub const PORTWORX_BUILTIN_CLASSES: &[&str] = &[
    "px-csi-db",
    "px-csi-db-cloud-snapshot",
    "px-csi-db-cloud-snapshot-encrypted",
    "px-csi-db-encrypted",
    "px-csi-db-local-snapshot",
    "px-csi-db-local-snapshot-encrypted",
    "px-csi-replicated",
    "px-csi-replicated-encrypted",
];

fn tenant_quotas(site: &Site, plan: &Plan, t: &Tenant) -> Vec<Object<Spec<ResourceQuotaSpec>>> {
    if site.cluster(t.cluster.value).storage_fence.value != StorageFence::Quota {
        return Vec::new();
    }
    let mut classes = foreign_classes(site, plan, t);
    // On a cluster with Portworx, every tenant's namespaces close the pool
    // classes too (red team N9: they were open to all).
    if site.cluster(t.cluster.value).portworx.is_some() {
        classes.extend(PORTWORX_BUILTIN_CLASSES.iter().map(|c| (*c).to_string()));
        classes.sort();
        classes.dedup();
    }
    if classes.is_empty() {
        return Vec::new();
    }
    let mut hard = BTreeMap::new();
    for c in &classes {
        hard.insert(
            format!("{c}.storageclass.storage.k8s.io/requests.storage"),
            "0".to_string(),
        );
        hard.insert(
            format!("{c}.storageclass.storage.k8s.io/persistentvolumeclaims"),
            "0".to_string(),
        );
    }
    namespaces(t)
        .into_iter()
        .map(|ns| Object {
            api_version: "v1",
            kind: "ResourceQuota",
            metadata: meta(QUOTA, Some(ns), &t.name.value),
            body: Spec {
                spec: ResourceQuotaSpec { hard: hard.clone() },
            },
        })
        .collect()
}

/// A CEL string literal (CEL spec, string literals:
/// https://github.com/google/cel-spec/blob/master/doc/langdef.md#string-and-bytes-values).
fn cel(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A storage fence's ValidatingAdmissionPolicy and its binding.
type Fence = (
    Object<Spec<AdmissionPolicySpec>>,
    Object<Spec<AdmissionBindingSpec>>,
);

/// A storage fence: the policy refusing a claim that names one of
/// `classes` in a namespace where `allowed` (CEL over `namespaceObject`) is
/// false, and its binding (every namespace).
fn fence(
    name: String,
    tenant: Option<&str>,
    classes: &[String],
    allowed: String,
    message: String,
) -> Fence {
    let meta_of = |n: &str| match tenant {
        Some(t) => meta(n, None, t),
        None => shared_meta(n, None),
    };
    // One class a line: YAML writes an expression with line breaks as a
    // block scalar, so no line grows with the number of classes (yamllint's
    // line length); CEL reads a line break as a blank.
    let list = format!(
        "[\n  {}\n]",
        classes
            .iter()
            .map(|c| cel(c))
            .collect::<Vec<_>>()
            .join(",\n  ")
    );
    let beta = cel(BETA_CLASS);
    let policy = Object {
        api_version: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: meta_of(&name),
        body: Spec {
            spec: AdmissionPolicySpec {
                failure_policy: "Fail",
                match_constraints: MatchResources {
                    resource_rules: vec![ResourceRule {
                        api_groups: vec![""],
                        api_versions: vec!["v1"],
                        operations: vec!["CREATE", "UPDATE"],
                        resources: vec!["persistentvolumeclaims"],
                    }],
                },
                // A variable may use the ones before it (the policy
                // document, "Variable composition").
                variables: vec![
                    // Each ends in a line break, so that YAML writes it as
                    // a literal block (`|`), a line of CEL a line.
                    NamedExpression {
                        name: "classes",
                        expression: format!("{list}\n"),
                    },
                    NamedExpression {
                        name: "fenced",
                        expression: format!(
                            "(has(object.spec.storageClassName)\n  && object.spec.storageClassName in variables.classes)\n|| (has(object.metadata.annotations)\n  && {beta} in object.metadata.annotations\n  && object.metadata.annotations[{beta}] in variables.classes)\n"
                        ),
                    },
                    NamedExpression {
                        name: "allowed",
                        expression: format!("{allowed}\n"),
                    },
                ],
                validations: vec![Validation {
                    expression: "!variables.fenced || variables.allowed".into(),
                    message,
                    reason: "Forbidden",
                }],
            },
        },
    };
    let binding = Object {
        api_version: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: meta_of(&name),
        body: Spec {
            spec: AdmissionBindingSpec {
                policy_name: name.clone(),
                validation_actions: vec!["Deny"],
            },
        },
    };
    (policy, binding)
}

/// CEL: the claim's namespace carries the tenant label (with `value`).
fn labelled(value: Option<&str>) -> String {
    let key = cel(TENANT_LABEL);
    let has = format!(
        "has(namespaceObject.metadata.labels)\n&& {key} in namespaceObject.metadata.labels"
    );
    match value {
        Some(v) => format!(
            "{has}\n&& namespaceObject.metadata.labels[{key}] == {}",
            cel(v)
        ),
        None => has,
    }
}

/// A tenant's storage fence, when it has FADA classes on a cluster fenced
/// by admission policy.
fn tenant_fence(site: &Site, t: &Tenant, names: &TenantNames) -> Option<Fence> {
    let c = site.cluster(t.cluster.value);
    if c.storage_fence.value != StorageFence::AdmissionPolicy || names.classes.is_empty() {
        return None;
    }
    let tn = t.name.value.as_str();
    let mut classes = names.classes.clone();
    classes.sort();
    Some(fence(
        format!("{FENCE}-{}", t.namespace.value),
        Some(tn),
        &classes,
        labelled(Some(tn)),
        format!(
            "a StorageClass of tenant {tn}: only namespaces labelled {TENANT_LABEL}={tn} may claim it"
        ),
    ))
}

/// Writes a tenant's NetworkPolicies and ResourceQuotas.
pub(super) fn tenant(
    site: &Site,
    plan: &Plan,
    t: &Tenant,
    names: &TenantNames,
    out: &mut ClusterOut<'_>,
) -> Result<(), Error> {
    let tn = t.name.value.as_str();
    if t.nfs.is_some() && node_peers(site, t.cluster.value).is_empty() {
        return Err(Error::Internal(format!(
            "tenant {tn} mounts NFS on a cluster without nodes: its proxy's policy would admit every source"
        )));
    }
    for (p, _) in tenant_policies(site, t, names) {
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        out.add(&ns, &p, tn)?;
    }
    // A quota names the other tenants' classes: it is theirs too, so that a
    // tenant added or removed changes files attributed to it (its lines).
    let mut owners: BTreeSet<String> = site
        .pure_tenants()
        .filter(|(o, p)| {
            o.cluster.value == t.cluster.value && o.name.value != tn && !p.classes.is_empty()
        })
        .map(|(o, _)| o.name.value.clone())
        .collect();
    owners.insert(tn.to_string());
    for q in tenant_quotas(site, plan, t) {
        let ns = q.metadata.namespace.clone().unwrap_or_default();
        out.add_shared(&ns, &q, owners.clone())?;
    }
    if let Some((policy, binding)) = tenant_fence(site, t, names) {
        out.add("cluster", &policy, tn)?;
        out.add("cluster", &binding, tn)?;
    }
    Ok(())
}

/// Writes the Portworx namespace's NetworkPolicies.
pub(super) fn portworx(
    site: &Site,
    cluster: ClusterId,
    out: &mut ClusterOut<'_>,
) -> Result<(), Error> {
    let Some(px) = &site.cluster(cluster).portworx else {
        return Ok(());
    };
    let ns = px.namespace.value.as_str();
    let tenants: std::collections::BTreeSet<String> = site.pure_tenant_names_on(cluster);
    let [deny, same] = base(ns, None);
    if let Some(p) = control_plane_policy(site, cluster) {
        out.add_shared(ns, &p, tenants.clone())?;
    }
    let peers = node_peers(site, cluster);
    // A rule without peers would admit every source: with no node declared
    // (plain Kubernetes), the namespace keeps to itself.
    if peers.is_empty() {
        for p in [deny, same] {
            out.add_shared(ns, &p, tenants.clone())?;
        }
        return Ok(());
    }
    let nodes = policy(
        ns,
        FROM_NODES,
        None,
        NetworkPolicySpec {
            pod_selector: all_pods(),
            policy_types: vec!["Ingress"],
            ingress: vec![IngressRule {
                from: peers,
                ports: Vec::new(),
            }],
        },
    );
    for p in [deny, same, nodes] {
        out.add_shared(ns, &p, tenants.clone())?;
    }
    Ok(())
}

/// Where the API server's calls to the Portworx namespace come from: on
/// OpenShift the host network: the kube-apiserver runs as a static pod with
/// `hostNetwork: true` on the control-plane nodes (the operator's pod
/// template, openshift/cluster-kube-apiserver-operator
/// `bindata/assets/kube-apiserver/pod.yaml`), and OVN-Kubernetes puts the
/// nodes' host-network addresses in the address set of the host-network
/// namespace, selected by its policy group with no pod selector (see the
/// module doc; "Network policy supports selecting host network traffic",
/// https://docs.redhat.com/zh-cn/documentation/openshift_container_platform/4.6/html/release_notes/ocp-4-6-network-policy-host-network-policy-group).
/// On plain Kubernetes the networks `control_plane` names (`ipBlock`s).
fn control_plane_peers(site: &Site, cluster: ClusterId) -> Vec<PolicyPeer> {
    let c = site.cluster(cluster);
    match c.kind.value {
        ClusterKind::Openshift => node_peers(site, cluster),
        ClusterKind::Kubernetes => {
            let mut nets: Vec<String> = c
                .control_plane
                .value
                .iter()
                .map(|n| n.value.to_string())
                .collect();
            nets.sort();
            nets.dedup();
            nets.into_iter()
                .map(|cidr| PolicyPeer {
                    ip_block: Some(IpBlock { cidr }),
                    ..Default::default()
                })
                .collect()
        }
    }
}

/// `allow-control-plane` in the Portworx namespace: the control plane on
/// Stork's webhook port (when Stork is on) and Portworx's API ports, and
/// nothing else; tenants' namespaces get nothing of it. None without a
/// control plane to admit (plain Kubernetes without `control_plane`, which
/// the checks require when Stork is on: E0336); a rule without peers would
/// admit every source.
fn control_plane_policy(
    site: &Site,
    cluster: ClusterId,
) -> Option<Object<Spec<NetworkPolicySpec>>> {
    let px = site.cluster(cluster).portworx.as_ref()?;
    let peers = control_plane_peers(site, cluster);
    if peers.is_empty() {
        return None;
    }
    let mut ports: Vec<u16> = PORTWORX_API_PORTS.to_vec();
    if px.stork {
        ports.push(STORK_WEBHOOK_PORT);
    }
    ports.sort();
    Some(policy(
        &px.namespace.value,
        FROM_CONTROL_PLANE,
        None,
        NetworkPolicySpec {
            pod_selector: all_pods(),
            policy_types: vec!["Ingress"],
            ingress: vec![IngressRule {
                from: peers,
                ports: tcp(ports),
            }],
        },
    ))
}

/// Writes the fence of Portworx's pool classes, on a cluster fenced by
/// admission policy: refused in every namespace labelled as a tenant's.
pub(super) fn portworx_fence(
    site: &Site,
    cluster: ClusterId,
    out: &mut ClusterOut<'_>,
) -> Result<(), Error> {
    let c = site.cluster(cluster);
    if c.portworx.is_none() || c.storage_fence.value != StorageFence::AdmissionPolicy {
        return Ok(());
    }
    let tenants: BTreeSet<String> = site.pure_tenant_names_on(cluster);
    let classes: Vec<String> = PORTWORX_BUILTIN_CLASSES
        .iter()
        .map(|c| (*c).to_string())
        .collect();
    let (policy, binding) = fence(
        format!("{FENCE}-portworx-pool"),
        None,
        &classes,
        format!("!({})", labelled(None)),
        format!(
            "Portworx's pool StorageClasses: no namespace labelled {TENANT_LABEL} may claim them"
        ),
    );
    out.add_shared("cluster", &policy, tenants.clone())?;
    out.add_shared("cluster", &binding, tenants)
}

/// What the isolation report says about a tenant's policies and quotas.
pub(crate) fn summary(
    site: &Site,
    plan: &Plan,
    t: &Tenant,
    names: &TenantNames,
) -> (Vec<PolicySummary>, Vec<QuotaSummary>, Vec<FenceSummary>) {
    let policies = tenant_policies(site, t, names)
        .into_iter()
        .map(|(p, admits)| PolicySummary {
            namespace: p.metadata.namespace.unwrap_or_default(),
            name: p.metadata.name,
            admits,
        })
        .collect();
    let quotas = tenant_quotas(site, plan, t)
        .into_iter()
        .map(|q| QuotaSummary {
            namespace: q.metadata.namespace.unwrap_or_default(),
            name: q.metadata.name,
            closes: format!(
                "every FADA storage class of the other tenants of cluster {}",
                site.cluster(t.cluster.value).name.value
            ),
        })
        .collect();
    let fences = tenant_fence(site, t, names)
        .map(|(p, _)| {
            let mut classes = names.classes.clone();
            classes.sort();
            FenceSummary {
                name: p.metadata.name,
                classes,
                admits: format!(
                    "claims in namespaces labelled {TENANT_LABEL}={} only, in every namespace of cluster {}",
                    t.name.value,
                    site.cluster(t.cluster.value).name.value
                ),
            }
        })
        .into_iter()
        .collect();
    (policies, quotas, fences)
}
