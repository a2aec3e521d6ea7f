//! What keeps tenants apart that no other check covers: export paths, by
//! the one rule [`crate::rules::export_path`] (E0702; overlapping subtrees, E0701, are claims,
//! [`super::claims`]) and the ports a workload opens to other namespaces
//! (E0703).

use crate::diagnostics::{registry, Diagnostic};
use crate::ir::*;
use std::collections::BTreeSet;

pub fn run(site: &Site, out: &mut Vec<Diagnostic>) {
    export_paths(site, out);
    exposed_ports(site, out);
}

fn export_paths(site: &Site, out: &mut Vec<Diagnostic>) {
    for t in &site.tenants {
        for v in t.nfs.iter().flat_map(|n| &n.volumes) {
            use crate::rules::ExportPathError as Why;
            let (what, why, help) = match crate::rules::export_path(&v.export.value) {
                Ok(()) => match crate::rules::system_directory(crate::rules::unix_path(&v.export.value)) {
                    None => continue,
                    Some(why) => (
                        "would give the tenant a system directory",
                        why,
                        "export a directory of the tenant's own, e.g. \"/hfs/u/nfs/<tenant>\": the directory script gives the exported directory to the tenant's user ID (chown, chmod 700)",
                    ),
                },
                Err(Why::Unwritable(why)) => (
                    "cannot be written into the NFS server's exports data set",
                    why,
                    "an absolute path of printable ASCII without blanks, `#` or `,`, e.g. \"/hfs/u/nfs/tenant\"; write z/OS processing attributes in `attributes = [mvsmnt]`",
                ),
                Err(Why::NotNormal(why)) => (
                    "is not in normal form",
                    why,
                    "write the path with single `/` between names, without a trailing `/` and without `.` or `..`; tenantc compares and mounts it as written",
                ),
            };
            out.push(
                Diagnostic::new(
                    registry::EXPORT_PATH,
                    v.export.span,
                    format!(
                        "export path `{}` of volume `{}` {what}: {why}",
                        v.export.value.escape_debug(),
                        v.name.value
                    ),
                    "export path",
                )
                .help(help),
            );
        }
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
