//! Portworx and Pure FlashArray checks: realms (one per array per cluster,
//! never shared), pods named by storage classes and cloud drives, versions,
//! SAN types, Purity names, FADA access modes, and Portworx being there.

use crate::diagnostics::{registry, suggest, Diagnostic};
use crate::ir::*;
use crate::rules::purity_name_ok;
use std::collections::BTreeMap;

pub fn run(site: &Site, out: &mut Vec<Diagnostic>) {
    endpoints(site, out);
    policies_and_users(site, out);
    pods(site, out);
    versions(site, out);
    san_types(site, out);
    names(site, out);
    portworx(site, out);
    claims(site, out);
}

/// One endpoint, one array.
fn endpoints(site: &Site, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, &FlashArray> = BTreeMap::new();
    for a in &site.arrays {
        match seen.get(&a.endpoint.value.to_ascii_lowercase()) {
            Some(first) => out.push(
                Diagnostic::new(
                    registry::AMBIGUOUS_ARRAY,
                    a.endpoint.span,
                    format!(
                        "FlashArrays `{}` and `{}` have the same endpoint {}",
                        first.name.value, a.name.value, a.endpoint.value
                    ),
                    "the same array again",
                )
                .related(
                    first.endpoint.span,
                    format!("endpoint of `{}`", first.name.value),
                )
                .help("declare each array once and let tenants refer to it"),
            ),
            None => {
                seen.insert(a.endpoint.value.to_ascii_lowercase(), a);
            }
        }
    }
}

/// A tenant's user is not the array's administrator. Its access policy,
/// user and token source being its own is the ledger's
/// ([`super::claims`]).
fn policies_and_users(site: &Site, out: &mut Vec<Diagnostic>) {
    for (t, p) in site.pure_tenants() {
        let array = site.array(p.array.value);
        if p.user.value.eq_ignore_ascii_case(&array.admin.value) {
            out.push(
                Diagnostic::new(
                    registry::SHARED_REALM,
                    p.user.span,
                    format!(
                        "tenant `{}` would provision as `{}`, the administrator of FlashArray `{}`",
                        t.name.value, p.user.value, array.name.value
                    ),
                    "the array administrator",
                )
                .related(array.admin.span, "the administrator")
                .help("give the tenant a user of its own, bound to its realm's policy"),
            );
        }
    }
}

/// Pods of FADA classes are the tenant's; cloud drive pods are a realm's of
/// the cluster.
///
/// A pod name in the realms of two arrays on one cluster is the ledger's
/// ([`super::claims`]). The cloud-drive pods are judged on the cluster,
/// against its tenants' realms.
fn pods(site: &Site, out: &mut Vec<Diagnostic>) {
    for (t, p) in site.pure_tenants() {
        let mut seen: BTreeMap<String, &Sp<String>> = BTreeMap::new();
        for pod in p.pods.iter() {
            if let Some(first) = seen.insert(pod.value.to_ascii_lowercase(), pod) {
                out.push(
                    Diagnostic::new(
                        registry::LISTED_TWICE,
                        pod.span,
                        format!("pod `{}` is listed twice", pod.value),
                        "listed again",
                    )
                    .related(first.span, "first listed here")
                    .help("list each pod once"),
                );
            }
        }
        for class in &p.classes {
            if let Some(bw) = &class.max_bandwidth {
                if !(1_000_000..=512_000_000_000).contains(&bw.value.bytes) {
                    out.push(
                        Diagnostic::new(
                            registry::VALUE_RANGE,
                            bw.span,
                            "a FADA bandwidth limit lies between 1M and 512G (bytes per second)",
                            "out of range",
                        )
                        .help("e.g. max_bandwidth = 1G"),
                    );
                }
            }
            if !has_pod(p, &class.pod.value) {
                out.push(pod_missing(
                    &class.pod,
                    &format!(
                        "FADA StorageClass `{}` of tenant `{}`",
                        class.name.value, t.name.value
                    ),
                    p,
                ));
            }
        }
    }
    for (ci, cluster) in site.clusters.iter().enumerate() {
        let Some(px) = &cluster.portworx else {
            continue;
        };
        let users: Vec<&TenantPure> = site
            .pure_tenants()
            .filter(|(t, _)| t.cluster.value == ClusterId(ci))
            .map(|(_, p)| p)
            .collect();
        if users.is_empty() {
            continue; // reported by `portworx`
        }
        if px.pods.is_empty() {
            out.push(
                Diagnostic::new(
                    registry::EMPTY_VALUE,
                    px.pods.span,
                    "Portworx needs at least one pod for its cloud drives",
                    "no pods",
                )
                .help("name a pod of the cluster's realm, e.g. pods = [\"pod\"]"),
            );
        }
        for pod in px.pods.iter() {
            if !users.iter().any(|p| has_pod(p, &pod.value)) {
                // Name the realm the pod most likely belongs to.
                let owner = users
                    .iter()
                    .find(|p| {
                        suggest(&pod.value, p.pods.iter().map(|x| x.value.as_str())).is_some()
                    })
                    .unwrap_or(&users[0]);
                out.push(pod_missing(
                    pod,
                    &format!("the cloud drives of cluster `{}`", cluster.name.value),
                    owner,
                ));
            }
        }
    }
}

fn has_pod(p: &TenantPure, pod: &str) -> bool {
    p.pods.iter().any(|x| x.value.eq_ignore_ascii_case(pod))
}

fn pod_missing(pod: &Sp<String>, user: &str, realm: &TenantPure) -> Diagnostic {
    let names: Vec<&str> = realm.pods.iter().map(|x| x.value.as_str()).collect();
    let help = match suggest(&pod.value, names.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? the realm's pods: {}", names.join(", ")),
        None => format!(
            "use one of the realm's pods ({}), or add `{}` to the tenant's `pods`",
            names.join(", "),
            pod.value
        ),
    };
    Diagnostic::new(
        registry::POD_NOT_IN_REALM,
        pod.span,
        format!(
            "pod `{}` of {user} is not a pod of realm `{}`",
            pod.value, realm.realm.value
        ),
        "no such pod in the realm",
    )
    .related(
        realm.pods.span,
        format!("the pods of realm `{}`", realm.realm.value),
    )
    .help(help)
}

fn versions(site: &Site, out: &mut Vec<Diagnostic>) {
    for a in &site.arrays {
        if !a.purity.value.at_least(&[6, 6, 11]) {
            out.push(
                Diagnostic::new(
                    registry::VERSION_TOO_OLD,
                    a.purity.span,
                    format!(
                        "FlashArray `{}` runs Purity {}; Secure Application Workspaces need 6.6.11 or newer",
                        a.name.value, a.purity.value.text
                    ),
                    "too old",
                )
                .help("upgrade Purity//FA to 6.6.11 or newer, then set purity = \"6.6.11\""),
            );
        }
    }
    for c in &site.clusters {
        let Some(px) = &c.portworx else { continue };
        if !px.version.value.at_least(&[3, 2]) {
            out.push(
                Diagnostic::new(
                    registry::VERSION_TOO_OLD,
                    px.version.span,
                    format!(
                        "cluster `{}` runs Portworx {}; Secure Application Workspaces need 3.2 or newer",
                        c.name.value, px.version.value.text
                    ),
                    "too old",
                )
                .help("install Portworx 3.2 or newer, e.g. version = \"3.2.0\""),
            );
        }
    }
}

/// One cluster's arrays share one SAN type.
///
/// Reported on an array, by the order of the cluster's Pure tenants: an
/// editor slice whose infrastructure errors change is not used
/// ([`crate::lsp::slice`]).
fn san_types(site: &Site, out: &mut Vec<Diagnostic>) {
    // Every SAN type Portworx documents is usable: the SMT install pages list
    // "FC, iSCSI, NVMe-oF/RoCE, or NVMe-oF/TCP"
    // (https://docs.portworx.com/portworx-enterprise/platform/Kubernetes/FlashArray/install/install-FlashArray/fa-multi-tenancy)
    // and PURE_FLASHARRAY_SAN_TYPE takes ISCSI, NVMEOF-TCP, NVMEOF-RDMA and FC
    // (https://docs.portworx.com/portworx-enterprise/reference/pure-reference/spec-env-vars).
    for (ci, c) in site.clusters.iter().enumerate() {
        let mut first: Option<&FlashArray> = None;
        for (_, p) in site
            .pure_tenants()
            .filter(|(t, _)| t.cluster.value == ClusterId(ci))
        {
            let a = site.array(p.array.value);
            match first {
                None => first = Some(a),
                Some(f) if f.san.value != a.san.value => {
                    out.push(
                        Diagnostic::new(
                            registry::SAN_TYPE,
                            a.san.span,
                            format!(
                                "cluster `{}` uses FlashArrays `{}` ({}) and `{}` ({}); one StorageCluster has one SAN type",
                                c.name.value,
                                f.name.value,
                                f.san.value.portworx(),
                                a.name.value,
                                a.san.value.portworx()
                            ),
                            "another SAN type",
                        )
                        .related(f.san.span, format!("SAN type of `{}`", f.name.value))
                        .related(p.array.span, "used by this tenant")
                        .help("attach every array a cluster uses over the same SAN type"),
                    );
                }
                Some(_) => {}
            }
        }
    }
}

fn names(site: &Site, out: &mut Vec<Diagnostic>) {
    for (t, p) in site.pure_tenants() {
        let named = [
            ("realm", &p.realm),
            ("policy", &p.policy),
            ("user", &p.user),
        ]
        .into_iter()
        .chain(p.pods.iter().map(|x| ("pod", x)))
        .chain(p.classes.iter().map(|c| ("pod", &c.pod)));
        for (what, v) in named {
            if !purity_name_ok(&v.value) {
                let fixed: String = v
                    .value
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                let fixed = fixed.trim_matches('-');
                let mut help = "1 to 63 letters, digits and '-', starting and ending with a letter or digit, with at least one letter".to_string();
                if purity_name_ok(fixed) {
                    help.push_str(&format!("; for example `{fixed}`"));
                }
                out.push(
                    Diagnostic::new(
                        registry::PURITY_NAME,
                        v.span,
                        format!(
                            "{what} name `{}` of tenant `{}` breaks Purity's naming rules",
                            v.value.escape_debug(),
                            t.name.value
                        ),
                        "invalid Purity name",
                    )
                    .help(help),
                );
            }
        }
    }
    for a in &site.arrays {
        if !purity_name_ok(&a.admin.value) {
            out.push(
                Diagnostic::new(
                    registry::PURITY_NAME,
                    a.admin.span,
                    format!(
                        "administrator name `{}` breaks Purity's naming rules",
                        a.admin.value.escape_debug()
                    ),
                    "invalid Purity name",
                )
                .help("e.g. admin = pureuser"),
            );
        }
    }
}

/// Portworx exists where Pure tenants run, with CSI, and serves one; drive
/// sizes are whole GiB.
///
/// CSI off and "serves no tenant" are reported on the cluster but depend on
/// its tenants: an editor slice whose infrastructure errors change is not
/// used ([`crate::lsp::slice`]).
fn portworx(site: &Site, out: &mut Vec<Diagnostic>) {
    for (t, p) in site.pure_tenants() {
        let c = site.cluster(t.cluster.value);
        match &c.portworx {
            None => out.push(
                Diagnostic::new(
                    registry::PORTWORX_SETUP,
                    p.span,
                    format!(
                        "tenant `{}` has a Pure workspace, but cluster `{}` runs no Portworx",
                        t.name.value, c.name.value
                    ),
                    "needs Portworx",
                )
                .related(c.name.span, "the tenant's cluster")
                .help("add `portworx { version = \"3.2.0\", device_size = 50Gi, pods = [...] }` to the cluster"),
            ),
            Some(px) if !px.csi.value => out.push(
                Diagnostic::new(
                    registry::PORTWORX_SETUP,
                    px.csi.span,
                    format!(
                        "Portworx on cluster `{}` has CSI off, but FADA volumes of tenant `{}` need it",
                        c.name.value, t.name.value
                    ),
                    "CSI off",
                )
                .related(p.span, "the tenant's Pure workspace")
                .help("remove `csi = false`"),
            ),
            Some(_) => {}
        }
    }
    for (ci, c) in site.clusters.iter().enumerate() {
        let Some(px) = &c.portworx else { continue };
        if !site
            .pure_tenants()
            .any(|(t, _)| t.cluster.value == ClusterId(ci))
        {
            out.push(
                Diagnostic::new(
                    registry::PORTWORX_SETUP,
                    px.span,
                    format!(
                        "Portworx on cluster `{}` serves no tenant with a Pure workspace, so its cloud drives have no realm",
                        c.name.value
                    ),
                    "no realm for its drives",
                )
                .help("give a tenant on this cluster a `pure { }` workspace, or remove the portworx block"),
            );
        }
        for (k, v) in &px.env {
            if k.eq_ignore_ascii_case("PURE_FLASHARRAY_SAN_TYPE") {
                out.push(
                    Diagnostic::new(
                        registry::CONFLICT,
                        v.span,
                        format!("`{k}` is set by tenantc from the arrays' `san`"),
                        "set by tenantc",
                    )
                    .help("remove it here and set `san` on the flasharray"),
                );
            } else if crate::rules::looks_secret(k) {
                out.push(
                    Diagnostic::new(
                        registry::SECRET_LITERAL,
                        v.span,
                        format!("the secret variable `{k}` is written into the spec"),
                        "a literal secret",
                    )
                    .help("these are plain values in the StorageCluster; keep secrets out of it"),
                );
            }
        }
        if let Some((_, tag)) = px.image.value.rsplit_once(':') {
            if let Some(v) = Version::parse(tag) {
                if v.parts != px.version.value.parts {
                    out.push(
                        Diagnostic::new(
                            registry::CONFLICT,
                            px.image.span,
                            format!(
                                "the Portworx image is version {tag}, but `version` says {}",
                                px.version.value.text
                            ),
                            "image version",
                        )
                        .related(px.version.span, "the declared version")
                        .help("leave `image` out so that it follows `version`, or make them agree"),
                    );
                }
            }
        }
        let sizes = [
            ("device_size", Some(&px.device_size)),
            ("kvdb_device_size", px.kvdb_device_size.as_ref()),
        ];
        for (what, size) in sizes {
            let Some(size) = size else { continue };
            if size.value.bytes % (1 << 30) != 0 {
                out.push(
                    Diagnostic::new(
                        registry::VALUE_RANGE,
                        size.span,
                        format!(
                            "`{what}` must be a whole number of GiB (Portworx sizes drives in GiB)"
                        ),
                        "not whole GiB",
                    )
                    .help(format!("e.g. {}Gi", (size.value.bytes >> 30).max(1))),
                );
            }
        }
    }
}

/// Claims come from FADA classes: ReadWriteOnce only, in StatefulSets.
fn claims(site: &Site, out: &mut Vec<Diagnostic>) {
    for t in &site.tenants {
        for w in &t.workloads {
            for c in &w.claims {
                if c.access.value != AccessMode::ReadWriteOnce {
                    let class = t.pure.as_ref().and_then(|p| p.classes.get(c.class.value));
                    let mut d = Diagnostic::new(
                        registry::FADA_ACCESS,
                        c.access.span,
                        format!(
                            "claim `{}` of workload `{}` asks for {}, but FADA volumes are ReadWriteOnce only",
                            c.name.value,
                            w.name.value,
                            c.access.value.k8s()
                        ),
                        "not ReadWriteOnce",
                    )
                    .help("use access = read_write_once (each StatefulSet replica gets its own volume)");
                    if let Some(class) = class {
                        d = d.related(class.name.span, "a FADA storage class");
                    }
                    out.push(d);
                }
            }
            if !w.claims.is_empty() && w.kind.value == WorkloadKind::Deployment {
                out.push(
                    Diagnostic::new(
                        registry::CONFLICT,
                        w.kind.span,
                        format!(
                            "workload `{}` has claims, which only a StatefulSet has",
                            w.name.value
                        ),
                        "a Deployment",
                    )
                    .related(w.claims[0].name.span, "a claim")
                    .help("remove `kind = deployment`, or write kind = stateful_set"),
                );
            }
        }
    }
}
