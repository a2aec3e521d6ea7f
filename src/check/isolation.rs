//! What keeps tenants apart that no other check covers: NFS export subtrees
//! (E0701, E0702) and the ports a workload opens to other namespaces
//! (E0703); and [`shared`], the list of everything the
//! isolation report would have to show as shared between tenants, which a
//! clean site keeps empty (the report refuses to be written otherwise).

use crate::diagnostics::{registry, Diagnostic};
use crate::ir::*;
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};

pub fn run(site: &Site, out: &mut Vec<Diagnostic>) {
    export_paths(site, out);
    export_overlaps(site, out);
    exposed_ports(site, out);
}

/// Why `path` is not an export path in normal form, if it is not: absolute,
/// one `/` between segments, no trailing `/`, no `.` or `..` segment. The
/// root `/` alone is in normal form.
pub fn not_normal(path: &str) -> Option<&'static str> {
    let Some(rest) = path.strip_prefix('/') else {
        return Some("it does not start with `/`");
    };
    if rest.is_empty() {
        return None;
    }
    if rest.contains("//") || rest.starts_with('/') {
        return Some("it holds `//`");
    }
    if rest.ends_with('/') {
        return Some("it ends with `/`");
    }
    for seg in rest.split('/') {
        match seg {
            "." => return Some("it holds a `.` segment"),
            ".." => return Some("it holds a `..` segment"),
            _ => {}
        }
    }
    None
}

/// The segments of a path in normal form (none for `/`).
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Whether `a` is `b` or a directory above it, compared on `/` boundaries.
pub fn contains(a: &[&str], b: &[&str]) -> bool {
    a.len() <= b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

fn export_paths(site: &Site, out: &mut Vec<Diagnostic>) {
    for t in &site.tenants {
        for v in t.nfs.iter().flat_map(|n| &n.volumes) {
            // Paths that are not absolute are E0322's already.
            if !v.export.value.starts_with('/') {
                continue;
            }
            if let Some(why) = not_normal(&v.export.value) {
                out.push(
                    Diagnostic::new(
                        registry::EXPORT_PATH,
                        v.export.span,
                        format!(
                            "export path `{}` of volume `{}` is not in normal form: {why}",
                            v.export.value.escape_debug(),
                            v.name.value
                        ),
                        "export path",
                    )
                    .help(
                        "write the path with single `/` between names, without a trailing `/` and without `.` or `..`; tenantc compares and mounts it as written",
                    ),
                );
            }
        }
    }
}

/// One tenant volume's export, for the overlap check.
#[derive(Clone)]
pub struct Export<'a> {
    pub tenant: &'a Tenant,
    pub volume: &'a Volume,
    pub server: ServerId,
    segs: Vec<&'a str>,
}

/// Pairs of volumes of different tenants whose exports are the same
/// directory or one inside the other, on servers that see one file system
/// (the same server, or servers that can run on a common LPAR), each pair
/// once: (the enclosing or equal export, the other).
///
/// Tenants related here: `Path` reaches (scope `lpar:SYSTEM`) in
/// [`super::reach::reach`]; keep them in step.
pub fn overlapping(site: &Site) -> Vec<(Export<'_>, Export<'_>)> {
    let mut by_lpar: BTreeMap<SystemId, Vec<Export<'_>>> = BTreeMap::new();
    for t in &site.tenants {
        let Some(nfs) = &t.nfs else { continue };
        for v in &nfs.volumes {
            if not_normal(&v.export.value).is_some() {
                continue;
            }
            let sid = nfs.server.value;
            for sys in site.server(sid).lpars(sid.0) {
                by_lpar.entry(sys).or_default().push(Export {
                    tenant: t,
                    volume: v,
                    server: sid,
                    segs: segments(&v.export.value),
                });
            }
        }
    }
    let mut seen: BTreeSet<(Span, Span)> = BTreeSet::new();
    let mut pairs = Vec::new();
    for (_, mut exports) in by_lpar {
        // Sorted by segments, a directory comes right before what it holds:
        // a stack of the directories that hold the current one finds every
        // enclosing export in one pass.
        exports.sort_by(|a, b| {
            a.segs
                .cmp(&b.segs)
                .then_with(|| a.volume.export.span.cmp(&b.volume.export.span))
        });
        let mut stack: Vec<usize> = Vec::new();
        for i in 0..exports.len() {
            while let Some(&top) = stack.last() {
                if contains(&exports[top].segs, &exports[i].segs) {
                    break;
                }
                stack.pop();
            }
            let cur = &exports[i];
            if let Some(&j) = stack
                .iter()
                .rev()
                .find(|&&j| exports[j].tenant.name.value != cur.tenant.name.value)
            {
                let key = (exports[j].volume.export.span, cur.volume.export.span);
                if seen.insert(key) {
                    pairs.push((exports[j].clone(), cur.clone()));
                }
            }
            stack.push(i);
        }
    }
    pairs
}

/// Tenants related here: see [`overlapping`] and [`super::reach::reach`].
fn export_overlaps(site: &Site, out: &mut Vec<Diagnostic>) {
    for (outer, inner) in overlapping(site) {
        let same = outer.volume.export.value == inner.volume.export.value;
        let server = |e: &Export<'_>| {
            let sid = e.server;
            format!(
                "{}.{}",
                site.system(sid.0).name.value,
                site.server(sid).name.value
            )
        };
        let how = if same {
            "the same directory".to_string()
        } else {
            format!(
                "`{}` inside `{}`",
                inner.volume.export.value, outer.volume.export.value
            )
        };
        let where_ = if outer.server == inner.server {
            format!("on NFS server `{}`", server(&inner))
        } else {
            format!(
                "on NFS servers `{}` and `{}`, which can run on one LPAR",
                server(&outer),
                server(&inner)
            )
        };
        out.push(
            Diagnostic::new(
                registry::EXPORT_OVERLAP,
                inner.volume.export.span,
                format!(
                    "volume `{}` of tenant `{}` and volume `{}` of tenant `{}` export {how} {where_}",
                    inner.volume.name.value,
                    inner.tenant.name.value,
                    outer.volume.name.value,
                    outer.tenant.name.value
                ),
                format!("export of tenant `{}`", inner.tenant.name.value),
            )
            .related(
                outer.volume.export.span,
                format!("export of tenant `{}`", outer.tenant.name.value),
            )
            .help("give each tenant a subtree of its own: no export may equal, hold or lie inside another tenant's"),
        );
    }
}

fn exposed_ports(site: &Site, out: &mut Vec<Diagnostic>) {
    for t in &site.tenants {
        for w in &t.workloads {
            let mut seen = BTreeSet::new();
            for p in &w.expose {
                if !w.ports.iter().any(|q| q.value == p.value) {
                    out.push(
                        Diagnostic::new(
                            registry::EXPOSE_PORT,
                            p.span,
                            format!(
                                "workload `{}` exposes port {} but does not list it in `ports`",
                                w.name.value, p.value
                            ),
                            "not a port of the workload",
                        )
                        .help(format!(
                            "add {} to `ports`, or remove it from `expose`",
                            p.value
                        )),
                    );
                } else if !seen.insert(p.value) {
                    out.push(
                        Diagnostic::new(
                            registry::EXPOSE_PORT,
                            p.span,
                            format!("workload `{}` exposes port {} twice", w.name.value, p.value),
                            "listed again",
                        )
                        .help("list each exposed port once"),
                    );
                }
            }
        }
    }
}

/// One thing the isolation report would list as shared between tenants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Shared {
    pub what: &'static str,
    pub value: String,
    pub tenants: Vec<String>,
}

/// Everything two or more tenants share that separates tenants in the
/// isolation report: namespaces, RACF user IDs and client certificate data
/// sets, export subtrees, ClusterIPs, StorageClasses, realms, access
/// policies, array users and API token sources. The checks refuse each of
/// these (E0504, E0417, E0701, E0501/E0503, E0602), so a site that passes
/// them has none; `isolation.json` is written only when this is empty.
pub fn shared(site: &Site) -> Vec<Shared> {
    let mut owners: BTreeMap<(&'static str, String), BTreeSet<String>> = BTreeMap::new();
    let mut own = |what: &'static str, value: String, t: &Tenant| {
        owners
            .entry((what, value))
            .or_default()
            .insert(t.name.value.clone());
    };
    for t in &site.tenants {
        let c = &site.cluster(t.cluster.value).name.value;
        own("namespace", format!("{c}/{}", t.namespace.value), t);
        if let Some(nfs) = &t.nfs {
            let sid = nfs.server.value;
            let sys = &site.system(sid.0).name.value;
            own("namespace", format!("{c}/{}", nfs.proxy.namespace.value), t);
            own(
                "RACF user ID",
                format!("{sys}/{}", nfs.identity.user.value),
                t,
            );
            own(
                "client certificate data set",
                format!("{sys}/{}", nfs.identity.export.dsn.value),
                t,
            );
            own(
                "ClusterIP",
                format!("{c}/{}", nfs.proxy.cluster_ip.value),
                t,
            );
            own(
                "StorageClass",
                format!("{c}/{}", nfs.storage_class.value),
                t,
            );
        }
        if let Some(p) = &t.pure {
            let a = &site.array(p.array.value).name.value;
            own("realm", format!("{a}/{}", p.realm.value), t);
            own("access policy", format!("{a}/{}", p.policy.value), t);
            own("array user", format!("{a}/{}", p.user.value), t);
            own("API token source", p.token.to_string(), t);
            for class in &p.classes {
                own(
                    "StorageClass",
                    format!("{c}/{}", crate::plan::class_name(class)),
                    t,
                );
            }
        }
    }
    let mut out: Vec<Shared> = owners
        .into_iter()
        .filter(|(_, ts)| ts.len() > 1)
        .map(|((what, value), ts)| Shared {
            what,
            value,
            tenants: ts.into_iter().collect(),
        })
        .collect();
    for (a, b) in overlapping(site) {
        let mut tenants = vec![a.tenant.name.value.clone(), b.tenant.name.value.clone()];
        tenants.sort();
        out.push(Shared {
            what: "export subtree",
            value: format!("{} / {}", a.volume.export.value, b.volume.export.value),
            tenants,
        });
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_is_refused_not_repaired() {
        assert_eq!(not_normal("/hfs/a/b"), None);
        assert_eq!(not_normal("/"), None);
        assert!(not_normal("/hfs/a/")
            .expect("refused")
            .contains("ends with"));
        assert!(not_normal("/hfs//a").expect("refused").contains("//"));
        assert!(not_normal("/hfs/./a").expect("refused").contains("`.`"));
        assert!(not_normal("/hfs/a/..").expect("refused").contains("`..`"));
        assert!(not_normal("hfs/a").is_some());
    }

    #[test]
    fn containment_is_on_slash_boundaries() {
        let s = segments;
        assert!(contains(&s("/u/nfs/a"), &s("/u/nfs/a/b")));
        assert!(contains(&s("/u/nfs/a"), &s("/u/nfs/a")));
        assert!(!contains(&s("/u/nfs/a"), &s("/u/nfs/ab")));
        assert!(!contains(&s("/u/nfs/a/b"), &s("/u/nfs/a")));
        assert!(contains(&s("/"), &s("/u")));
    }
}
