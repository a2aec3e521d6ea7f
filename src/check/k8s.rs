//! Kubernetes and OpenShift checks: names, the proxy's ClusterIP, and objects
//! that two declarations would both produce.

use crate::diagnostics::{registry, Diagnostic};
use crate::ir::*;
use crate::plan::Plan;
use crate::rules::{dns_label_ok, dns_subdomain_ok, reserved_namespace, rfc1035_label_ok};
use crate::source::Span;
use std::collections::BTreeMap;

pub fn run(site: &Site, plan: &Plan, out: &mut Vec<Diagnostic>) {
    registries(site, out);
    cluster_ips(site, out);
    names(site, plan, out);
    collisions(site, plan, out);
    tenant_objects(site, plan, out);
    openshift_ids(site, out);
    reserved(site, out);
    workload_users(site, out);
    control_plane(site, out);
}

/// The control plane's networks (`control_plane`): required on plain
/// Kubernetes where Portworx runs Stork, whose mutating webhook the API
/// server calls through the Portworx namespace's default-deny
/// (`lower/k8s/isolation.rs`, `allow-control-plane`); refused on OpenShift,
/// where the API server is on the host network and is admitted by its
/// policy group instead.
fn control_plane(site: &Site, out: &mut Vec<Diagnostic>) {
    for c in &site.clusters {
        match c.kind.value {
            ClusterKind::Kubernetes => {
                let Some(px) = &c.portworx else { continue };
                if !px.stork || !c.control_plane.value.is_empty() {
                    continue;
                }
                let (span, what) = if c.control_plane_given {
                    (c.control_plane.span, "an empty `control_plane`")
                } else {
                    (c.name.span, "no `control_plane`")
                };
                out.push(
                    Diagnostic::new(
                        registry::CONTROL_PLANE_MISSING,
                        span,
                        format!(
                            "cluster `{}` runs Stork, whose webhook the API server calls, but has {what}: the Portworx namespace denies ingress, so every pod create would wait for the webhook's timeout",
                            c.name.value
                        ),
                        "needs `control_plane`",
                    )
                    .related(px.span, "Portworx, with Stork on")
                    .help("add `control_plane = [10.0.0.0/24]`, the networks the API servers connect from (or `stork = false` in `portworx`)"),
                );
            }
            ClusterKind::Openshift => {
                if c.control_plane_given {
                    out.push(
                        Diagnostic::new(
                            registry::CONTROL_PLANE_ON_OPENSHIFT,
                            c.control_plane.span,
                            format!(
                                "cluster `{}` is OpenShift, whose API server is on the host network: `control_plane` would have no effect",
                                c.name.value
                            ),
                            "not used on OpenShift",
                        )
                        .help("remove it; the Portworx namespace admits the host network by its policy group"),
                    );
                }
            }
        }
    }
}

/// The ClusterIPs the cluster gives its own Services: the first address of
/// the service network is the `kubernetes` Service (the API server), and on
/// OpenShift the DNS operator gives the DNS Service the tenth; on plain
/// Kubernetes the tenth is kubeadm's convention, not fixed, so it is allowed
/// (https://kubernetes.io/docs/concepts/services-networking/cluster-ip-allocation/).
fn reserved_ips(
    cidr: ipnet::Ipv4Net,
    kind: ClusterKind,
) -> Vec<(std::net::Ipv4Addr, &'static str)> {
    let base = u32::from(cidr.network());
    let mut out = vec![(
        std::net::Ipv4Addr::from(base.wrapping_add(1)),
        "the `kubernetes` Service (the API server)",
    )];
    if kind == ClusterKind::Openshift {
        out.push((
            std::net::Ipv4Addr::from(base.wrapping_add(10)),
            "OpenShift's cluster DNS Service",
        ));
    }
    out
}

/// The most ports one NFS proxy forwards: each becomes a container port, a
/// Service port and a NetworkPolicy port, and `1..65535` made a 5 MB
/// Deployment, above etcd's request limit.
const MAX_PROXY_PORTS: usize = 64;

/// No tenant, proxy or Portworx in a namespace the cluster keeps, and no
/// proxy on a ClusterIP the cluster's own Services hold.
fn reserved(site: &Site, out: &mut Vec<Diagnostic>) {
    let refuse = |ns: &Sp<String>, owner: String, out: &mut Vec<Diagnostic>| {
        if reserved_namespace(&ns.value) {
            out.push(
                Diagnostic::new(
                    registry::RESERVED_NAMESPACE,
                    ns.span,
                    format!(
                        "{owner} may not use namespace `{}`: the cluster keeps it for its own components",
                        ns.value.escape_debug()
                    ),
                    "a system namespace",
                )
                .help("give it a namespace of its own; `default`, `kube-*`, `openshift` and `openshift-*` belong to the cluster"),
            );
        }
    };
    for c in &site.clusters {
        if let Some(px) = &c.portworx {
            refuse(
                &px.namespace,
                format!("Portworx on cluster `{}`", c.name.value),
                out,
            );
        }
    }
    for t in &site.tenants {
        refuse(&t.namespace, format!("tenant `{}`", t.name.value), out);
        let cluster = site.cluster(t.cluster.value);
        let Some(nfs) = &t.nfs else { continue };
        refuse(
            &nfs.proxy.namespace,
            format!("the NFS proxy of tenant `{}`", t.name.value),
            out,
        );
        let ports = &nfs.proxy.ports;
        let count = usize::from(ports.value.high.saturating_sub(ports.value.low)) + 1;
        if count > MAX_PROXY_PORTS {
            out.push(
                Diagnostic::new(
                    registry::PORT_RANGE_TOO_WIDE,
                    ports.span,
                    format!(
                        "the NFS proxy of tenant `{}` would forward {count} ports ({}): every port is an entry of its Deployment, Service and NetworkPolicy",
                        t.name.value, ports.value
                    ),
                    "too many ports",
                )
                .help(format!("an NFS server listens on a few ports (z/OS NFS: 2043..2049); forward at most {MAX_PROXY_PORTS}")),
            );
        }
        if !cluster.service_cidr_given {
            continue;
        }
        let ip = &nfs.proxy.cluster_ip;
        if let Some((_, what)) = reserved_ips(cluster.service_cidr.value, cluster.kind.value)
            .into_iter()
            .find(|(a, _)| *a == ip.value)
        {
            out.push(
                Diagnostic::new(
                    registry::RESERVED_CLUSTER_IP,
                    ip.span,
                    format!(
                        "ClusterIP {} of tenant `{}` is the address of {what} on cluster `{}`",
                        ip.value, t.name.value, cluster.name.value
                    ),
                    "kept by the cluster",
                )
                .related(cluster.service_cidr.span, "the cluster's service network")
                .help("pick another free address inside the service network"),
            );
        }
    }
}

/// A workload without `user` on plain Kubernetes gets `runAsNonRoot: true`
/// and no `runAsUser`: the kubelet then refuses an image whose USER is root
/// ("container has runAsNonRoot and image will run as root") or a name it
/// cannot verify ("image has non-numeric user ..., cannot verify user is
/// non-root"), CreateContainerConfigError. PodSecurityContext runAsNonRoot:
/// "the Kubelet will validate the image at runtime to ensure that it does
/// not run as UID 0 (root) and fail to start the container if it does":
/// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#security-context
/// OpenShift assigns a UID of the namespace's range, so it is not asked.
fn workload_users(site: &Site, out: &mut Vec<Diagnostic>) {
    for t in &site.tenants {
        if site.cluster(t.cluster.value).kind.value != ClusterKind::Kubernetes {
            continue;
        }
        for w in &t.workloads {
            if w.user.is_some() {
                continue;
            }
            out.push(
                Diagnostic::new(
                    registry::WORKLOAD_WITHOUT_USER,
                    w.name.span,
                    format!(
                        "workload `{}` of tenant `{}` runs on plain Kubernetes with runAsNonRoot and no UID: the kubelet refuses an image whose USER is root or a name",
                        w.name.value, t.name.value
                    ),
                    "no `user`",
                )
                .help("give the workload `user = <the image's numeric UID>` (and `group`), as its image documents"),
            );
        }
    }
}

/// Within a tenant's namespace: pod volumes, Secrets and claims that two
/// declarations would give one name.
fn tenant_objects(site: &Site, plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (t, names) in site.tenants.iter().zip(&plan.tenants) {
        let nfs_claims: BTreeMap<&str, &Sp<String>> = t
            .nfs
            .iter()
            .flat_map(|n| &n.volumes)
            .zip(&names.volumes)
            .map(|(v, vn)| (vn.claim.as_str(), &v.name))
            .collect();
        // Secrets in the tenant's namespace: pull secrets and `<workload>-env`.
        let mut secrets: BTreeMap<String, (String, Span)> = BTreeMap::new();
        let mut secret =
            |name: String, what: String, span: Span, out: &mut Vec<Diagnostic>| match secrets
                .get(&name)
            {
                Some((first, first_span)) if *first != what => out.push(
                    Diagnostic::new(
                        registry::OBJECT_COLLISION,
                        span,
                        format!(
                            "{what} and {first} both become Secret `{name}` in namespace `{}`",
                            t.namespace.value
                        ),
                        "the same Secret",
                    )
                    .related(*first_span, first.clone())
                    .help("rename the registry or the workload"),
                ),
                Some(_) => {}
                None => {
                    secrets.insert(name, (what, span));
                }
            };
        for (w, wn) in t.workloads.iter().zip(&names.workloads) {
            if let Some(r) = &w.registry {
                let reg = site.registry(r.value);
                secret(
                    plan.pull_secret(r.value).to_string(),
                    format!("the pull secret of registry `{}`", reg.name.value),
                    r.span,
                    out,
                );
            }
            if w.env
                .iter()
                .any(|(_, v)| matches!(v.value, EnvValue::Secret(_)))
            {
                secret(
                    wn.env_secret.clone(),
                    format!("the secret variables of workload `{}`", w.name.value),
                    w.name.span,
                    out,
                );
            }
            // A claim template named like a mounted volume replaces it in the pod.
            let mounted: BTreeMap<&str, &Sp<usize>> = w
                .mounts
                .iter()
                .filter_map(|m| {
                    let v = names.volumes.get(m.volume.value)?;
                    Some((v.claim.as_str(), &m.volume))
                })
                .collect();
            for (c, cn) in w.claims.iter().zip(&wn.claims) {
                if let Some(m) = mounted.get(cn.as_str()) {
                    out.push(
                        Diagnostic::new(
                            registry::OBJECT_COLLISION,
                            c.name.span,
                            format!(
                                "claim `{}` of workload `{}` has the name of a mounted volume, `{cn}`",
                                c.name.value, w.name.value
                            ),
                            "the same pod volume name",
                        )
                        .related(m.span, "the mounted volume")
                        .help("a StatefulSet's claim template replaces a pod volume of its name; rename the claim"),
                    );
                }
                // The PVCs a StatefulSet creates: <claim>-<workload>-<ordinal>.
                for i in 0..w.replicas.value {
                    let pvc = wn.pvc(cn, i);
                    if let Some(v) = nfs_claims.get(pvc.as_str()) {
                        out.push(
                            Diagnostic::new(
                                registry::OBJECT_COLLISION,
                                c.name.span,
                                format!(
                                    "replica {i} of workload `{}` claims PVC `{pvc}`, which is NFS volume `{}`'s claim",
                                    w.name.value, v.value
                                ),
                                "claims an existing PVC",
                            )
                            .related(v.span, "this volume's PVC")
                            .help("rename the volume or the claim"),
                        );
                        break;
                    }
                }
            }
        }
    }
}

/// Registries used by a tenant are declared in the tenant's cluster.
fn registries(site: &Site, out: &mut Vec<Diagnostic>) {
    for t in &site.tenants {
        let proxy = t.nfs.as_ref().and_then(|n| n.proxy.registry.as_ref());
        let used = proxy
            .into_iter()
            .chain(t.workloads.iter().filter_map(|w| w.registry.as_ref()));
        for r in used {
            if r.value.0 != t.cluster.value {
                let reg = site.registry(r.value);
                let own = site.cluster(t.cluster.value);
                out.push(
                    Diagnostic::new(
                        registry::FOREIGN_REGISTRY,
                        r.span,
                        format!(
                            "tenant `{}` runs on cluster `{}` but pulls with registry `{}` of cluster `{}`",
                            t.name.value,
                            own.name.value,
                            reg.name.value,
                            site.cluster(r.value.0).name.value
                        ),
                        "registry of another cluster",
                    )
                    .related(t.cluster.span, "the tenant's cluster")
                    .help(format!("declare the registry in cluster `{}` and use it from there", own.name.value)),
                );
            }
        }
    }
}

/// A proxy's ClusterIP lies in its cluster's service network (two tenants
/// claiming one are the ledger's, [`super::claims`]). The missing
/// `service_cidr` is reported on the cluster, once per NFS tenant.
fn cluster_ips(site: &Site, out: &mut Vec<Diagnostic>) {
    for tenant in &site.tenants {
        let Some(nfs) = &tenant.nfs else { continue };
        let cluster = site.cluster(tenant.cluster.value);
        let ip = &nfs.proxy.cluster_ip;
        if !cluster.service_cidr_given {
            out.push(
                Diagnostic::new(
                    registry::MISSING_FIELD,
                    cluster.name.span,
                    format!(
                        "cluster `{}` has no `service_cidr`, which the NFS proxy of tenant `{}` needs",
                        cluster.name.value, tenant.name.value
                    ),
                    "needs `service_cidr`",
                )
                .related(ip.span, "a static ClusterIP that must lie inside it")
                .help("add `service_cidr = 172.30.0.0/16` (the cluster's service network)"),
            );
            continue;
        }
        let cidr = cluster.service_cidr.value;
        if !cidr.contains(&ip.value) || ip.value == cidr.network() || ip.value == cidr.broadcast() {
            out.push(
                Diagnostic::new(
                    registry::CLUSTER_IP_RANGE,
                    ip.span,
                    format!("ClusterIP {} of tenant `{}` is outside the service network {cidr} of cluster `{}`", ip.value, tenant.name.value, cluster.name.value),
                    "ClusterIP",
                )
                .related(cluster.service_cidr.span, "the cluster's service network")
                .help(format!("pick a free address inside {cidr}")),
            );
        }
    }
}

fn name(ok: bool, what: &str, v: &str, span: Span, rule: &str, out: &mut Vec<Diagnostic>) {
    if ok {
        return;
    }
    let fixed: String = v
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let fixed = fixed.trim_matches('-');
    let help = if !fixed.is_empty() && fixed.len() <= 63 && fixed != v {
        format!("{rule}; for example `{fixed}`")
    } else {
        rule.to_string()
    };
    out.push(
        Diagnostic::new(
            registry::K8S_NAME,
            span,
            format!(
                "{what} `{}` is not a valid Kubernetes name",
                v.escape_debug()
            ),
            "invalid name",
        )
        .help(help),
    );
}

const LABEL_RULE: &str =
    "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit";

fn names(site: &Site, plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (cluster, pulls) in site.clusters.iter().zip(&plan.registries) {
        if let Some(px) = &cluster.portworx {
            name(
                dns_label_ok(&px.namespace.value),
                "Portworx namespace",
                &px.namespace.value,
                px.namespace.span,
                LABEL_RULE,
                out,
            );
            name(
                dns_subdomain_ok(&px.name.value),
                "StorageCluster",
                &px.name.value,
                px.name.span,
                LABEL_RULE,
                out,
            );
            image(&px.image, out);
            for (k, v) in &px.env {
                env_name(k, v.span, out);
                no_controls(&format!("the value of `{k}`"), v, out);
            }
        }
        for (r, n) in cluster.registries.iter().zip(pulls) {
            name(
                dns_subdomain_ok(n),
                "registry secret",
                n,
                r.name.span,
                LABEL_RULE,
                out,
            );
            if let Some(n) = long_label(&r.server.value) {
                out.push(
                    Diagnostic::new(
                        registry::BAD_HOST,
                        r.server.span,
                        format!(
                            "the registry host has a label of {n} characters; a DNS label has at most 63 (RFC 1035, 2.3.4), a name at most 253"
                        ),
                        "label too long",
                    )
                    .help("name the registry by its DNS name, each dot-separated label at most 63 characters"),
                );
            } else if !registry_server_ok(&r.server.value) {
                out.push(
                    Diagnostic::new(
                        registry::BAD_HOST,
                        r.server.span,
                        format!(
                            "`{}` is not a registry host: host[:port], optionally with a /path, and no scheme",
                            r.server.value.escape_debug()
                        ),
                        "invalid server",
                    )
                    .help("write the registry as an image reference starts, e.g. server = \"my-repo.com\" or \"registry.example:5000\""),
                );
            }
        }
    }
    for (t, names) in site.tenants.iter().zip(&plan.tenants) {
        let label_ok = t.name.value.len() <= 63
            && t.name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && t.name
                .value
                .starts_with(|c: char| c.is_ascii_alphanumeric())
            && t.name.value.ends_with(|c: char| c.is_ascii_alphanumeric());
        name(
            label_ok,
            "tenant name (a label value)",
            &t.name.value,
            t.name.span,
            "tenant names are at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
            out,
        );
        name(
            dns_label_ok(&t.namespace.value),
            "namespace",
            &t.namespace.value,
            t.namespace.span,
            LABEL_RULE,
            out,
        );
        if let Some(nfs) = &t.nfs {
            let p = &nfs.proxy;
            name(
                dns_label_ok(&p.namespace.value),
                "proxy namespace",
                &p.namespace.value,
                p.namespace.span,
                LABEL_RULE,
                out,
            );
            name(rfc1035_label_ok(&p.service.value), "Service name", &p.service.value, p.service.span, "a Service name starts with a letter and has at most 63 lower-case letters, digits and '-'", out);
            name(
                dns_subdomain_ok(&nfs.storage_class.value),
                "StorageClass",
                &nfs.storage_class.value,
                nfs.storage_class.span,
                LABEL_RULE,
                out,
            );
            image(&p.image, out);
            let timeouts = [
                ("timeout_connect", &p.haproxy.timeout_connect_ms),
                ("timeout_client", &p.haproxy.timeout_client_ms),
                ("timeout_server", &p.haproxy.timeout_server_ms),
            ];
            for (what, d) in timeouts {
                if d.value > i32::MAX as u64 {
                    out.push(
                        Diagnostic::new(
                            registry::DURATION_RANGE,
                            d.span,
                            format!("haproxy's {what} is at most 2147483647ms (about 24 days)"),
                            "too long",
                        )
                        .related(p.haproxy.profile.span, "in this haproxy profile")
                        .help("use a timeout of at most 24d"),
                    );
                }
            }
            for (v, vn) in nfs.volumes.iter().zip(&names.volumes) {
                let n = &vn.claim;
                name(dns_label_ok(n), "volume", n, v.name.span, LABEL_RULE, out);
                let pv = &vn.pv;
                name(
                    dns_subdomain_ok(pv),
                    "PersistentVolume",
                    pv,
                    v.name.span,
                    "the PersistentVolume is named <tenant>-<volume>; shorten or rename them",
                    out,
                );
                // The export path is judged once, by `rules::export_path`
                // (E0702, check/isolation.rs).
                for a in &v.attributes {
                    if a.value.is_empty()
                        || !a
                            .value
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "()_".contains(c))
                    {
                        out.push(
                            Diagnostic::new(
                                registry::BAD_FORMAT,
                                a.span,
                                format!(
                                    "`{}` is not a z/OS NFS processing attribute",
                                    a.value.escape_debug()
                                ),
                                "attribute",
                            )
                            .help("e.g. mvsmnt, binary, text"),
                        );
                    }
                }
            }
        }
        if let Some(p) = &t.pure {
            for (c, cn) in p.classes.iter().zip(&names.classes) {
                name(
                    dns_subdomain_ok(cn),
                    "StorageClass",
                    cn,
                    c.name.span,
                    LABEL_RULE,
                    out,
                );
            }
        }
        for (w, wn) in t.workloads.iter().zip(&names.workloads) {
            let n = &wn.name;
            name(dns_label_ok(n), "workload", n, w.name.span, LABEL_RULE, out);
            image(&w.image, out);
            if w.kind.value == WorkloadKind::StatefulSet && n.len() > 52 {
                name(
                    false,
                    "StatefulSet",
                    n,
                    w.name.span,
                    "a StatefulSet's name is at most 52 characters (its pods carry it in a 63-character label with a hash)",
                    out,
                );
            }
            let mut paths: BTreeMap<&str, Span> = BTreeMap::new();
            for (c, cn) in w.claims.iter().zip(&wn.claims) {
                name(dns_label_ok(cn), "claim", cn, c.name.span, LABEL_RULE, out);
                if let Some(first) = paths.insert(&c.path.value, c.path.span) {
                    out.push(
                        Diagnostic::new(
                            registry::LISTED_TWICE,
                            c.path.span,
                            format!(
                                "two volumes of workload `{}` are mounted at `{}`",
                                w.name.value, c.path.value
                            ),
                            "mounted again here",
                        )
                        .related(first, "first mounted here")
                        .help("give each mount its own path"),
                    );
                }
                if !c.path.value.starts_with('/') || c.path.value.contains(':') {
                    out.push(
                        Diagnostic::new(
                            registry::BAD_FORMAT,
                            c.path.span,
                            "a mount path is absolute and has no ':'",
                            "mount path",
                        )
                        .help("e.g. path = \"/data\""),
                    );
                }
            }
            same_k8s_name(
                w.claims.iter().map(|c| &c.name).zip(&wn.claims),
                &t.name.value,
                "claim",
                "volume claim template",
                out,
            );
            let mut ports: BTreeMap<u16, Span> = BTreeMap::new();
            for p in &w.ports {
                if let Some(first) = ports.insert(p.value, p.span) {
                    out.push(
                        Diagnostic::new(
                            registry::LISTED_TWICE,
                            p.span,
                            format!("port {} is listed twice", p.value),
                            "listed again",
                        )
                        .related(first, "first listed here")
                        .help("list each port once"),
                    );
                }
            }
            for (which, probe) in [("liveness", &w.liveness), ("readiness", &w.readiness)] {
                let Some(l) = probe else { continue };
                if l.command.is_empty() {
                    out.push(
                        Diagnostic::new(
                            registry::EMPTY_VALUE,
                            w.name.span,
                            format!("the {which} probe of workload `{}` has an empty command", w.name.value),
                            "empty probe command",
                        )
                        .help("e.g. command = [\"mongosh\", \"--eval\", \"db.adminCommand({ping: 1})\"]"),
                    );
                }
                for c in &l.command {
                    no_controls("the probe command word", c, out);
                }
            }
            for (cpu, what) in [(&w.cpu, "CPU request"), (&w.cpu_limit, "CPU limit")] {
                let Some(cpu) = cpu else { continue };
                if !cpu_quantity_ok(&cpu.value) {
                    out.push(
                        Diagnostic::new(
                            registry::BAD_FORMAT,
                            cpu.span,
                            format!("`{}` is not a CPU quantity", cpu.value.escape_debug()),
                            what,
                        )
                        .help("cores or millicores, e.g. \"0.5\" or \"100m\""),
                    );
                }
            }
            for m in &w.mounts {
                if let Some(first) = paths.insert(&m.path.value, m.path.span) {
                    out.push(
                        Diagnostic::new(
                            registry::LISTED_TWICE,
                            m.path.span,
                            format!(
                                "two mounts of workload `{}` use the path `{}`",
                                w.name.value, m.path.value
                            ),
                            "mounted again here",
                        )
                        .related(first, "first mounted here")
                        .help("give each mount its own path"),
                    );
                }
                if !m.path.value.starts_with('/') || m.path.value.contains(':') {
                    out.push(
                        Diagnostic::new(
                            registry::BAD_FORMAT,
                            m.path.span,
                            "a mount path is absolute and has no ':'",
                            "mount path",
                        )
                        .help("e.g. path = \"/data\""),
                    );
                }
            }
            for (k, v) in &w.env {
                env_name(k, v.span, out);
                if let crate::ir::EnvValue::Literal(text) = &v.value {
                    no_controls(
                        &format!("the value of `{k}`"),
                        &Sp::new(text.clone(), v.span),
                        out,
                    );
                }
            }
            for a in &w.args {
                no_controls("the argument", a, out);
            }
            for m in &w.mounts {
                no_controls("the mount path", &m.path, out);
            }
            for c in &w.claims {
                no_controls("the mount path", &c.path, out);
            }
        }
    }
}

/// A CPU quantity as the spec takes it: cores or millicores, a decimal
/// number with an optional `m` suffix. The Kubernetes quantity grammar
/// (`<signedNumber><suffix>`,
/// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/)
/// allows more (exponents, SI suffixes), none of which means anything for
/// CPU that these two forms cannot say.
fn cpu_quantity_ok(v: &str) -> bool {
    let n = v.strip_suffix('m').unwrap_or(v);
    !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit() || c == '.')
        && n.chars().filter(|c| *c == '.').count() <= 1
        && n.chars().any(|c| c.is_ascii_digit())
}

fn env_name(k: &str, span: Span, out: &mut Vec<Diagnostic>) {
    if k.is_empty()
        || k.starts_with(|c: char| c.is_ascii_digit())
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        out.push(
            Diagnostic::new(
                registry::BAD_FORMAT,
                span,
                format!("`{k}` is not a valid environment variable name"),
                "the value of this variable",
            )
            .help("letters, digits, '_', '-' and '.', not starting with a digit"),
        );
    }
}

fn image(v: &Sp<String>, out: &mut Vec<Diagnostic>) {
    if !image_ref_ok(&v.value) {
        out.push(
            Diagnostic::new(
                registry::BAD_FORMAT,
                v.span,
                format!("`{}` is not an image reference", v.value.escape_debug()),
                "image",
            )
            .help("[registry[:port]/]path[:tag][@algorithm:hex], path in lower case, e.g. \"icr.io/ibmz/haproxy:3.0.0-bookworm\""),
        );
    }
}

/// An image reference per the distribution reference grammar:
/// `[domain[:port]/]path-component(/path-component)*[:tag][@digest]`,
/// the name at most 255 characters.
/// https://github.com/distribution/reference/blob/main/reference.go
pub fn image_ref_ok(s: &str) -> bool {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        // digest := algorithm ":" hex; algorithm components [A-Za-z][A-Za-z0-9]*
        // joined by [+._-]; hex [0-9a-fA-F]{32,}.
        let Some((alg, hex)) = d.split_once(':') else {
            return false;
        };
        let alg_ok = alg.split(['+', '.', '_', '-']).all(|c| {
            c.starts_with(|ch: char| ch.is_ascii_alphabetic())
                && c.chars().all(|ch| ch.is_ascii_alphanumeric())
        });
        if !alg_ok || hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return false;
        }
    }
    // A tag follows the last ':' that comes after the last '/'.
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        // tag := [\w][\w.-]{0,127}
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if t.is_empty()
            || t.len() > 128
            || !t.starts_with(word)
            || !t.chars().all(|c| word(c) || c == '.' || c == '-')
        {
            return false;
        }
    }
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let first = parts[0];
    if parts.len() > 1
        && (first.contains(['.', ':'])
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase()))
    {
        if !domain_ok(first) {
            return false;
        }
        parts.remove(0);
    }
    parts.iter().all(|p| path_component_ok(p))
}

/// domain := host [":" port]; host := domain-component ("." domain-component)*
/// or an IPv6 address in brackets.
fn domain_ok(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || d.starts_with('[') => (h, Some(p)),
        _ => (d, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    // RFC 1035, 2.3.4 "Size limits": labels of 63 octets or less, names
    // of 255 octets or less (253 characters in dotted text):
    // https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|c| {
            !c.is_empty()
                && c.len() <= 63
                && !c.starts_with('-')
                && !c.ends_with('-')
                && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        })
}

/// The length of the registry host's first label over 63 characters (or of
/// the whole host over 253), for a message that names the limit.
fn long_label(server: &str) -> Option<usize> {
    let host = server.split('/').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if host.starts_with('[') {
        return None;
    }
    host.split('.')
        .map(str::len)
        .find(|n| *n > 63)
        .or((host.len() > 253).then_some(host.len()))
}

/// A registry `server`: the key of the `.dockerconfigjson` entry it names,
/// which the kubelet matches against an image's registry host (and path
/// prefix): so the `domain` of the distribution reference grammar (see
/// [`image_ref_ok`]), optionally followed by path components; no scheme.
/// https://kubernetes.io/docs/concepts/containers/images/#config-json
fn registry_server_ok(s: &str) -> bool {
    let mut parts = s.split('/');
    let domain = parts.next().unwrap_or_default();
    domain_ok(domain) && parts.all(path_component_ok)
}

/// path-component := [a-z0-9]+ (separator [a-z0-9]+)*; separator := [_.] | __ | -+
fn path_component_ok(p: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = p.as_bytes();
    if b.is_empty() || !alnum(b[0] as char) || !alnum(b[b.len() - 1] as char) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if alnum(c) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i] as char) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.chars().all(|c| c == '-');
        if !ok {
            return false;
        }
    }
    true
}

/// Text a workload carries into YAML and a container: no control
/// characters (DEL, NUL, newlines), which kustomize and the kubelet refuse.
fn no_controls(what: &str, v: &Sp<String>, out: &mut Vec<Diagnostic>) {
    // Noncharacters too: go-yaml (kustomize) refuses U+FFFE and U+FFFF, and
    // one tenant's value would stop `kubectl apply -k` for the whole cluster
    // (YAML 1.2, 5.1 Character Set: https://yaml.org/spec/1.2.2/#51-character-set).
    if v.value
        .chars()
        .any(|c| c.is_control() || crate::confine::is_noncharacter(c))
    {
        out.push(
            Diagnostic::new(
                registry::UNWRITABLE,
                v.span,
                format!(
                    "{what} holds a control character: `{}`",
                    v.value.escape_debug()
                ),
                "control character",
            )
            .help("write the value without control characters (newlines, tabs, NUL, DEL, ESC) or Unicode noncharacters (U+FFFE, U+FFFF)"),
        );
    }
}

/// Two declarations of one tenant that would give two of its objects one
/// name. Objects of two holders are the ledger's ([`super::claims`]).
fn collisions(site: &Site, plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (t, names) in site.tenants.iter().zip(&plan.tenants) {
        let workloads = t
            .workloads
            .iter()
            .map(|w| &w.name)
            .zip(names.workloads.iter().map(|w| &w.name));
        let Some(nfs) = &t.nfs else {
            same_k8s_name(workloads, &t.name.value, "workload", "workload", out);
            continue;
        };
        let volumes = nfs
            .volumes
            .iter()
            .map(|v| &v.name)
            .zip(names.volumes.iter().map(|v| &v.claim));
        same_k8s_name(
            volumes,
            &t.name.value,
            "volume",
            "PersistentVolumeClaim",
            out,
        );
        same_k8s_name(workloads, &t.name.value, "workload", "Deployment", out);
    }
}

/// Two declarations of one tenant whose names become the same Kubernetes name
/// (`'_'` turns into `'-'`): each with the name the plan gave it.
fn same_k8s_name<'a>(
    names: impl Iterator<Item = (&'a Sp<String>, &'a String)>,
    tenant: &str,
    what: &str,
    kind: &str,
    out: &mut Vec<Diagnostic>,
) {
    let mut seen: BTreeMap<&str, &Sp<String>> = BTreeMap::new();
    for (name, k) in names {
        if let Some(first) = seen.get(k.as_str()) {
            out.push(
                Diagnostic::new(
                    registry::OBJECT_COLLISION,
                    name.span,
                    format!(
                        "{what}s `{}` and `{}` of tenant `{tenant}` both become {kind} `{k}`",
                        first.value, name.value
                    ),
                    format!("becomes {kind} `{k}`"),
                )
                .related(
                    first.span,
                    format!("`{}` becomes the same name", first.value),
                )
                .help(format!(
                    "'_' becomes '-' in Kubernetes names; rename one {what}"
                )),
            );
        } else {
            seen.insert(k.as_str(), name);
        }
    }
}

/// `user`/`group` on a cluster whose SCC assigns the IDs (podsec.rs).
fn openshift_ids(site: &Site, out: &mut Vec<Diagnostic>) {
    for t in &site.tenants {
        let cluster = site.cluster(t.cluster.value);
        if cluster.kind.value != ClusterKind::Openshift {
            continue;
        }
        let proxy_user = t
            .nfs
            .as_ref()
            .and_then(|n| n.proxy.user_given.then_some(&n.proxy.user));
        let ids = t
            .workloads
            .iter()
            .flat_map(|w| [w.user.as_ref(), w.group.as_ref()])
            .chain([proxy_user])
            .flatten();
        for id in ids {
            out.push(
                Diagnostic::new(
                    registry::OPENSHIFT_UID,
                    id.span,
                    format!(
                        "tenant `{}` runs on OpenShift cluster `{}`, whose restricted-v2 SCC assigns pod UIDs and GIDs",
                        t.name.value, cluster.name.value
                    ),
                    "not used on OpenShift",
                )
                .related(cluster.kind.span, "the cluster is OpenShift")
                .help("remove it; `user` and `group` apply to kind = kubernetes clusters"),
            );
        }
    }
}

#[cfg(test)]
mod image_tests {
    use super::image_ref_ok;

    #[test]
    fn the_distribution_grammar() {
        for ok in [
            "nginx",
            "library/nginx:1.25",
            "icr.io/ibmz/haproxy:3.0.0-bookworm",
            "localhost:5000/a/b_c__d-e.f",
            "registry.example.com/app:1",
            "[::1]:5000/app",
            "a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "quay.io/x/y:v1@sha256:0123456789abcdef0123456789abcdef",
        ] {
            assert!(image_ref_ok(ok), "{ok}");
        }
        for bad in [
            "",
            "App",
            "a b",
            "a\nb",
            "a:",
            "a/-b",
            "a//b",
            "a:tag:tag",
            "a@sha256:short",
            "registry.example.com/",
            "reg.io/a:-x",
            "a\u{7f}",
        ] {
            assert!(!image_ref_ok(bad), "{bad:?}");
        }
    }
}
