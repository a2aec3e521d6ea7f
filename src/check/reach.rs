//! Which other tenants can change what the checks report on a tenant: the
//! basis for re-checking one edited tenant on a *sub-site* (every system,
//! cluster, array and registry, the tenant, and its partners) instead of the
//! whole site.
//!
//! The contract, held by `tests/reach.rs` over every example, every bad
//! input and generated sites built to collide: let `sub` be `site` with its
//! tenants filtered to a subsequence that keeps tenant `T` and every `U` with
//! `partners(&reach(T), &reach(U))`, infrastructure untouched. Then every
//! diagnostic of [`plan::build`](crate::plan::build) +
//! [`check::run`](crate::check::run) whose primary span lies inside `T`'s
//! block is identical on `sub` and on `site`, and so is `T`'s
//! [`plan.tenants`](crate::plan::Plan::tenants) entry (the plan derives a
//! tenant's names from the tenant and its infrastructure alone).
//!
//! Each [`Reach`] below mirrors one relation a check draws between tenants,
//! and names that check; each such check points back here. A check that
//! starts comparing tenants on something new needs a key here, or the
//! editor's re-check silently misses the diagnostic. Checks that judge one
//! tenant against its infrastructure only (names, formats, ports against
//! the server, certificate chains, registries of the cluster, OpenShift
//! IDs, probes, claims, exposed ports) need none.
//!
//! Out of scope, because their primary span is on infrastructure, but
//! depending on the tenants: `zos::dvipa_coverage` (E0401 on a node, naming
//! the first tenant on the cluster; E0402/E0403 on a server's clients, only
//! when it has tenants, naming their clusters), `k8s::cluster_ips` (E0302 on
//! a cluster without `service_cidr`, once per NFS tenant, naming it),
//! `pure::pods` (a cluster's cloud-drive pods, judged against its tenants'
//! realms), `pure::san_types` (E0605 on an array's `san`, by the order of
//! the cluster's Pure tenants), and `pure::portworx` (CSI off, reported on
//! the cluster once per Pure tenant; Portworx serving no tenant).

use crate::check::isolation::{contains, not_normal, segments};
use crate::ir::Site;
use crate::plan::Plan;

/// What a tenant shares with other tenants that some check relates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reach {
    /// Tenants holding an equal key are partners.
    Key(String),
    /// Tenants with paths in the same scope where one path equals or is an
    /// ancestor (by `/` segments) of the other are partners.
    Path { scope: String, path: String },
}

/// Everything tenant `t` (index into `site.tenants`) reaches, sorted, each
/// once. The keys (numbers are indices into `site.systems`, `site.clusters`
/// and `site.arrays`; the text after the last of them is the value compared,
/// as the check compares it):
///
/// - `tenant:NAME`: `check::unique_names` (E0202, a tenant name declared
///   again names the first declaration).
/// - `ns:CLUSTER:NAME`, for the tenant's namespace and its proxy's:
///   `k8s::collisions` (E0504, a namespace used again names its first user).
/// - `pv:CLUSTER:PV`: `k8s::collisions` (E0503, a PersistentVolume produced
///   again, `<tenant>-<volume>`, names its first producer).
/// - `storageclass:CLUSTER:CLASS`, for the NFS class and every FADA class:
///   `k8s::collisions` (E0503, a StorageClass defined again).
/// - `clusterip:CLUSTER:IP`: `k8s::cluster_ips` (E0503, a ClusterIP claimed
///   again names its first claimant).
/// - `job:SYSTEM:JOB`, the client job on the server's home system:
///   `zos::shared_racf` (E0440, a generated job name again; authorities and
///   servers come first and are always in the sub-site).
/// - `dsn:SYSTEM:DSN`: `zos::shared_racf` (E0417, a client certificate data
///   set exported again).
/// - `racf-user:SYSTEM:USER`: `zos::shared_racf` (E0417, a RACF user ID used
///   again names the previous user).
/// - `Path { scope: "lpar:SYSTEM", path }`, per volume export in normal form
///   and per LPAR its server may run on: `isolation::export_overlaps` /
///   `isolation::overlapping` (E0701, an export equal to or inside another
///   tenant's on one LPAR names the deepest such export).
/// - `realm-slot:CLUSTER:ARRAY`: `pure::realms` (E0601, a second Pure tenant
///   of an array on one cluster names the first).
/// - `realm:ARRAY:REALM` (lower case): `pure::realms` (E0602, a realm of an
///   array shared, naming its first holder).
/// - `token:SOURCE` (`env("X")`, `file("p")`): `pure::policies_and_users`
///   (E0602, an API token source taken again, site-wide).
/// - `pure-policy:ARRAY:POLICY`, `pure-user:ARRAY:USER` (lower case):
///   `pure::policies_and_users` (E0602, an access policy or array user
///   shared).
/// - `pod:CLUSTER:POD` (lower case): `pure::pods` (E0609, a pod name of a
///   realm of another array on the cluster, judged against its first holder).
pub fn reach(site: &Site, plan: &Plan, t: usize) -> Vec<Reach> {
    let tenant = &site.tenants[t];
    let names = &plan.tenants[t];
    let c = tenant.cluster.value.0;
    let mut keys: Vec<String> = vec![
        format!("tenant:{}", tenant.name.value),
        format!("ns:{c}:{}", tenant.namespace.value),
    ];
    let mut out = Vec::new();
    if let Some(nfs) = &tenant.nfs {
        let sid = nfs.server.value;
        let sys = sid.0 .0;
        keys.push(format!("ns:{c}:{}", nfs.proxy.namespace.value));
        keys.push(format!("clusterip:{c}:{}", nfs.proxy.cluster_ip.value));
        keys.push(format!("storageclass:{c}:{}", nfs.storage_class.value));
        keys.extend(names.volumes.iter().map(|vn| format!("pv:{c}:{}", vn.pv)));
        if let Some(client) = &names.client {
            keys.push(format!("job:{sys}:{}", client.job));
        }
        keys.push(format!("dsn:{sys}:{}", nfs.identity.export.dsn.value));
        keys.push(format!("racf-user:{sys}:{}", nfs.identity.user.value));
        let lpars = site.server(sid).lpars(sid.0);
        for v in &nfs.volumes {
            if not_normal(&v.export.value).is_some() {
                continue; // not compared by `overlapping`
            }
            for lpar in &lpars {
                out.push(Reach::Path {
                    scope: format!("lpar:{}", lpar.0),
                    path: v.export.value.clone(),
                });
            }
        }
    }
    if let Some(p) = &tenant.pure {
        let a = p.array.value.0;
        keys.extend(
            names
                .classes
                .iter()
                .map(|cn| format!("storageclass:{c}:{cn}")),
        );
        keys.push(format!("realm-slot:{c}:{a}"));
        keys.push(format!("realm:{a}:{}", p.realm.value.to_ascii_lowercase()));
        keys.push(format!("token:{}", p.token));
        keys.push(format!(
            "pure-policy:{a}:{}",
            p.policy.value.to_ascii_lowercase()
        ));
        keys.push(format!(
            "pure-user:{a}:{}",
            p.user.value.to_ascii_lowercase()
        ));
        keys.extend(
            p.pods
                .iter()
                .map(|pod| format!("pod:{c}:{}", pod.value.to_ascii_lowercase())),
        );
    }
    out.extend(keys.into_iter().map(Reach::Key));
    out.sort();
    out.dedup();
    out
}

/// Whether two reach lists make their tenants partners: an equal key, or
/// two paths of one scope, one equal to or above the other.
pub fn partners(a: &[Reach], b: &[Reach]) -> bool {
    a.iter().any(|x| b.iter().any(|y| related(x, y)))
}

fn related(x: &Reach, y: &Reach) -> bool {
    match (x, y) {
        (Reach::Key(a), Reach::Key(b)) => a == b,
        (
            Reach::Path {
                scope: sa,
                path: pa,
            },
            Reach::Path {
                scope: sb,
                path: pb,
            },
        ) => {
            if sa != sb {
                return false;
            }
            let (a, b) = (segments(pa), segments(pb));
            contains(&a, &b) || contains(&b, &a)
        }
        _ => false,
    }
}

/// The partners of tenant `t` (indices into `site.tenants`, ascending,
/// without `t`), from every tenant's reach list `all` (`all[i]` is
/// `reach(site, plan, i)`).
pub fn partners_of(all: &[Vec<Reach>], t: usize) -> Vec<usize> {
    (0..all.len())
        .filter(|&u| u != t && partners(&all[t], &all[u]))
        .collect()
}

/// `site` with only the tenants at `keep` (ascending indices), its
/// infrastructure as it is: the sub-site a tenant is re-checked on.
pub fn sub_site(site: &Site, keep: &[usize]) -> Site {
    debug_assert!(keep.windows(2).all(|w| w[0] < w[1]), "ascending");
    Site {
        systems: site.systems.clone(),
        clusters: site.clusters.clone(),
        arrays: site.arrays.clone(),
        tenants: keep.iter().map(|&i| site.tenants[i].clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(scope: &str, path: &str) -> Reach {
        Reach::Path {
            scope: scope.into(),
            path: path.into(),
        }
    }

    #[test]
    fn keys_match_by_equality_paths_by_containment() {
        let k = |s: &str| Reach::Key(s.into());
        assert!(partners(&[k("a"), k("b")], &[k("c"), k("b")]));
        assert!(!partners(&[k("a")], &[k("b")]));
        assert!(partners(&[path("s", "/u/a")], &[path("s", "/u/a/b")]));
        assert!(partners(&[path("s", "/u/a/b")], &[path("s", "/u/a")]));
        assert!(partners(&[path("s", "/u/a")], &[path("s", "/u/a")]));
        assert!(partners(&[path("s", "/")], &[path("s", "/u")]));
        assert!(!partners(&[path("s", "/u/a")], &[path("s", "/u/ab")]));
        assert!(!partners(&[path("s", "/u/a")], &[path("t", "/u/a")]));
        assert!(!partners(&[k("/u/a")], &[path("s", "/u/a")]));
    }
}
