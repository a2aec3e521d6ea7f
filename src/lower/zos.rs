//! The z/OS files besides the jobs and policies, each headed by the data set
//! or file it belongs in: per system the stack's `TCPCONFIG TTLS`, the Policy
//! Agent image's `TTLSConfig` line and the certificates' dates
//! (`certificates.json`); per NFS server its EXPORTS entries, site attributes
//! and `/etc/services` lines.

use super::{racf, Error, Selection};
use crate::bundle::{inventory, Bundle};
use crate::ir::*;
use serde::Serialize;
use std::collections::BTreeSet;

/// Where the Policy Agent image of `stack` reads its AT-TLS policy, when the
/// site has no TTLSConfig file yet.
pub fn ttls_file(stack: &str) -> String {
    format!("/etc/pagent/{stack}.ttls.policy")
}

/// The NFS server's services on its ports, in IBM's order: status, nlockmgr,
/// mountd, mvsmount, showattr, pcnfsd on consecutive ports and nfsd on 2049
/// (z/OS NFS Guide and Reference, "Setting up a user-specified port range"):
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.4.0/com.ibm.zos.v2r4.idan400/expanded.htm
pub const NFS_SERVICES: [&str; 6] = [
    "status", "nlockmgr", "mountd", "mvsmount", "showattr", "pcnfsd",
];

/// The DVIPAs an NFS volume's exports are limited to: the nodes of the
/// tenant's cluster, from which its proxy connects.
pub fn export_clients(site: &Site, tenant: &Tenant) -> Vec<String> {
    site.cluster(tenant.cluster.value)
        .nodes
        .iter()
        .map(|n| n.dvipa.value.to_string())
        .collect()
}

/// An EXPORTS entry: the directory, read/write only for the tenant's nodes
/// (`-access=client|client`, read-only with `,ro` for ReadOnlyMany).
/// Exports data set syntax: `directory -access=client|client,ro`:
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/dirstat.htm
pub fn export_line(site: &Site, tenant: &Tenant, v: &Volume) -> Result<String, Error> {
    let path = &v.export.value;
    if crate::rules::export_path(path).is_err() {
        return Err(Error::Internal(format!(
            "export path {path:?} cannot be written into an exports data set"
        )));
    }
    let ro = if v.access.value == AccessMode::ReadOnlyMany {
        ",ro"
    } else {
        ""
    };
    Ok(format!(
        "{path} -access={}{ro}",
        export_clients(site, tenant).join("|")
    ))
}

pub use crate::rules::unix_path;

/// The script that makes a server's exported directories.
pub fn dirs_file(system: &str, job: &str) -> String {
    format!("zos/{system}/uss/{job}-dirs.sh")
}

/// The exported directories of a server's tenants, each made (`mkdir -p`),
/// given to its tenant's user ID (`chown`) and closed to everyone else
/// (`chmod 700`): every tenant's export is open to the same node addresses,
/// and with security(safexp) the server checks the owner and the mode bits
/// against the client's mapped user ID (z/OS NFS, "security(saf)"):
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/attt.htm
/// A path that is a symbolic link is refused, not followed. Run in the
/// z/OS UNIX shell as a superuser; rerunnable.
fn dirs_script(site: &Site, server: ServerId, header: &str) -> (String, Vec<DirLine>) {
    let s = site.server(server);
    let mut out = format!(
        "#!/bin/sh\n\
         # {header}\n\
         # Exported directories of z/OS NFS server {job}: run in the z/OS UNIX shell\n\
         # as a superuser, after the user IDs exist (job 0-users) and before the\n\
         # server exports them. Rerunnable. Each directory belongs to its tenant's\n\
         # user ID with mode 700: every export is open to the same node addresses,\n\
         # so the owner and the mode are what keep tenants out of each other's files.\n\
         set -eu\n",
        job = s.jobname.value
    );
    out.push_str(DIR_FUNCTION);
    let mut dirs = Vec::new();
    for (t, nfs) in site.tenants_of(server) {
        for v in &nfs.volumes {
            let path = unix_path(&v.export.value).to_string();
            let line = format!(
                "dir {} {}",
                super::shell_quote(&path),
                super::shell_quote(&nfs.identity.user.value)
            );
            out.push_str(&format!(
                "# tenant {}, volume {}\n{line}\n",
                t.name.value, v.name.value,
            ));
            dirs.push(DirLine {
                tenant: t.name.value.clone(),
                path,
                owner: nfs.identity.user.value.clone(),
                line,
            });
        }
    }
    (out, dirs)
}

/// An exported directory the script makes: its tenant, path, owner and the
/// script line that makes it.
struct DirLine {
    tenant: String,
    path: String,
    owner: String,
    line: String,
}

/// The shell function every directory script defines: make the directory,
/// give it to its tenant's user ID, close it to everyone else; a symbolic
/// link is refused, not followed.
pub const DIR_FUNCTION: &str = "dir() {\n  if [ -L \"$1\" ]; then echo \"$1 is a symbolic link: not following it\" >&2; exit 1; fi\n  mkdir -p \"$1\"\n  chown \"$2\" \"$1\"\n  chmod 700 \"$1\"\n  ls -ld \"$1\"\n}\n";

#[derive(Serialize)]
struct CertDates<'a> {
    owner: &'a str,
    label: &'a str,
    kind: &'static str,
    signed_by: &'a str,
    not_before: Option<String>,
    not_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
}

pub fn lower(
    site: &Site,
    headers: &super::Headers,
    sel: &Selection,
    bundle: &mut Bundle,
) -> Result<(), Error> {
    for (si, sys) in site.systems.iter().enumerate() {
        let sid = SystemId(si);
        // Servers whose policy lives on this system (home or standby).
        let here: Vec<ServerId> = site
            .server_ids()
            .filter(|s| site.server(*s).lpars(s.0).contains(&sid))
            .collect();
        let tenants: BTreeSet<String> = here
            .iter()
            .flat_map(|s| site.tenants_of(*s).map(|(t, _)| t.name.value.clone()))
            .collect();
        if here.is_empty() || !sel.any(tenants.iter().map(String::as_str)) {
            continue;
        }
        let name = &sys.name.value;
        let stack = &sys.stack.value;
        // Named after the spec file that declares the system (its servers
        // are declared inside it).
        let header = headers.of([sys.name.span.file]);
        // TCPCONFIG TTLS (IP Configuration Guide, "AT-TLS configuration in
        // PROFILE.TCPIP"):
        // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.2.0/com.ibm.zos.v2r2.halz002/attls_cfg_tcpip_profile.htm
        bundle.add_text(
            format!("zos/{name}/tcpip/tcpconfig.txt"),
            format!(
                "; {header}\n\
                 ; For the TCP/IP profile (PROFILE.TCPIP, the data set of the PROFILE DD\n\
                 ; of stack {stack}'s procedure) on system {name}: AT-TLS on. Add it to the\n\
                 ; profile for restarts, and activate it now with an OBEYFILE data set\n\
                 ; holding this line: V TCPIP,{stack},OBEYFILE,DSN=<data set>\n\
                 TCPCONFIG TTLS\n"
            ),
            tenants.clone(),
        )?;
        // A standby LPAR of a server backs up the server's dynamic VIPA:
        // "VIPABACKUP: Designates one or more dynamic VIPAs (DVIPAs) for
        // which this stack provides automatic backup if the owning stack
        // fails. Another stack is expected, but not required, to have this
        // same DVIPA defined with a VIPADYNAMIC VIPADEFINE statement"; the
        // statements go in a VIPADYNAMIC ... ENDVIPADYNAMIC block (IP
        // Configuration Reference, VIPADYNAMIC block and VIPABACKUP):
        // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.halz001/vdyvipabackupstatement.htm
        // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.halz001/vdynamicstatementsumm.htm
        // Without it, the server restarted here listens on an address no
        // stack here owns, and the proxies' connections go nowhere. Rank
        // 100 (1-254, larger first in the backup chain).
        for sv in here.iter().filter(|s| s.0 != sid) {
            let s = site.server(*sv);
            let job = &s.jobname.value;
            let home = &site.system(sv.0).name.value;
            bundle.add_text(
                format!("zos/{name}/tcpip/{job}-vipabackup.txt"),
                format!(
                    "; {header}\n\
                     ; For the TCP/IP profile of stack {stack} on system {name}, a standby LPAR\n\
                     ; of NFS server {job}: this stack takes over the server's dynamic VIPA\n\
                     ; when {home}'s stack (VIPADEFINE {addr}, the site's) fails. Add it to the\n\
                     ; profile, and activate it now with an OBEYFILE data set holding these\n\
                     ; lines: V TCPIP,{stack},OBEYFILE,DSN=<data set>\n\
                     VIPADYNAMIC\n\
                     \x20 VIPABACKUP 100 {addr}\n\
                     ENDVIPADYNAMIC\n",
                    addr = s.address.value
                ),
                site.tenants_of(*sv)
                    .map(|(t, _)| t.name.value.clone())
                    .collect(),
            )?;
        }
        // The image's TTLSConfig statement (IP Configuration Reference,
        // Policy Agent configuration; FLUSH/PURGE: IP Configuration Guide):
        // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.2.0/com.ibm.zos.v2r2.halz002/attls_cfg_on_pa_role.htm
        // https://www.ibm.com/docs/SSLTBW_2.1.0/com.ibm.zos.v2r1.halz002/pbn_flush_purge.htm
        let policies: Vec<String> = here
            .iter()
            .map(|s| {
                format!(
                    "#   zos/{name}/pagent/{}.policy",
                    site.server(*s).jobname.value
                )
            })
            .collect();
        bundle.add_text(
            format!("zos/{name}/pagent/image.conf"),
            format!(
                "# {header}\n\
                 # For the Policy Agent image configuration file of stack {stack} on {name} (the\n\
                 # file its TcpImage statement names in the main configuration file, e.g.\n\
                 # /etc/pagent.conf). If the image has a TTLSConfig statement already, keep\n\
                 # it and append the policies below to the file it names (each rule has a\n\
                 # Priority for that); otherwise add this line and put them in {}:\n{}\n\
                 TTLSConfig {} FLUSH PURGE\n",
                ttls_file(stack),
                policies.join("\n"),
                ttls_file(stack)
            ),
            tenants.clone(),
        )?;
        // The certificates made on this system, with their dates.
        let mut certs = Vec::new();
        for a in &sys.authorities {
            let v = racf::validity(sys, a.valid_from.as_ref(), a.valid_years.value);
            certs.push(CertDates {
                owner: "CERTAUTH",
                label: &a.label.value,
                kind: "authority",
                signed_by: &a.name.value,
                not_before: v.as_ref().map(|v| v.0.clone()),
                not_after: v.map(|v| v.1),
                tenant: None,
            });
        }
        for (i, s) in sys.servers.iter().enumerate() {
            let v = racf::validity(
                sys,
                s.certificate.valid_from.as_ref(),
                s.certificate.valid_years.value,
            );
            certs.push(CertDates {
                owner: &s.user.value,
                label: &s.certificate.label.value,
                kind: "server",
                signed_by: &site.authority(s.certificate.signed_by.value).name.value,
                not_before: v.as_ref().map(|v| v.0.clone()),
                not_after: v.map(|v| v.1),
                tenant: None,
            });
            for (t, nfs) in site.tenants_of(ServerId(sid, i)) {
                let v = racf::validity(
                    sys,
                    nfs.identity.valid_from.as_ref(),
                    nfs.identity.valid_years.value,
                );
                certs.push(CertDates {
                    owner: &nfs.identity.user.value,
                    label: &nfs.identity.label.value,
                    kind: "client",
                    signed_by: &site.authority(nfs.identity.signed_by.value).name.value,
                    not_before: v.as_ref().map(|v| v.0.clone()),
                    not_after: v.map(|v| v.1),
                    tenant: Some(&t.name.value),
                });
            }
        }
        let mut json = serde_json::to_string_pretty(&serde_json::json!({
            "system": name,
            "note": if sys.valid_from.is_some() {
                "not_before and not_after as the RACDCERT GENCERT commands set them"
            } else {
                "no valid_from in the spec: RACF's defaults apply (dates unknown until the jobs run)"
            },
            "certificates": certs,
        }))
        .map_err(|e| Error::Internal(format!("certificates.json: {e}")))?;
        json.push('\n');
        bundle.add_text(format!("zos/{name}/certificates.json"), json, tenants)?;

        // Per server on its home system: exports, attributes, services.
        for (i, s) in sys.servers.iter().enumerate() {
            let server_id = ServerId(sid, i);
            let on: BTreeSet<String> = site
                .tenants_of(server_id)
                .map(|(t, _)| t.name.value.clone())
                .collect();
            if !sel.any(on.iter().map(String::as_str)) {
                continue;
            }
            let job = &s.jobname.value;
            let standby: Vec<&str> = s
                .standby
                .iter()
                .map(|l| site.system(l.value).name.value.as_str())
                .collect();
            let shared = if standby.is_empty() {
                String::new()
            } else {
                format!(
                    "# The server also starts on {}: its procedure must name the same data set.\n",
                    standby.join(", ")
                )
            };
            let mut exports = format!(
                "# {header}\n\
                 # EXPORTS entries of z/OS NFS server {job} on {name}: add them to the\n\
                 # exports data set (the EXPORTS DD of the {job} procedure), then\n\
                 # F {job},EXPORTFS. Each tenant volume is open only to the DVIPAs of its\n\
                 # cluster's nodes, where its proxy connects from.\n{shared}"
            );
            let path = format!("zos/{name}/nfs/{job}.exports");
            for (t, nfs) in site.tenants_of(server_id) {
                for v in &nfs.volumes {
                    let line = export_line(site, t, v)?;
                    exports.push_str(&format!(
                        "# tenant {}, volume {}\n{line}\n",
                        t.name.value, v.name.value,
                    ));
                    let exported = line.split_whitespace().next().unwrap_or_default();
                    let mut e = inventory::Entry::new(
                        inventory::Key::new(
                            format!("zos/{name}"),
                            "export",
                            format!("{job} {exported}"),
                        ),
                        [&t.name.value],
                        &path,
                        inventory::digest_lines(&[&line]),
                    );
                    e.text = Some(line);
                    bundle.record(e, inventory::Recipe::default())?;
                }
            }
            // A server with no tenant has nothing to export and is not
            // started (issue 26): no exports file, no directories; its
            // attributes and services are written, as its certificate and
            // AT-TLS rule are, so that its first tenant's plan only exports
            // and starts it.
            if !on.is_empty() {
                bundle.add_text(path, exports, on.clone())?;
            }
            // Site attributes: security(safexp) (z/OS NFS Guide and
            // Reference, "Initialization attributes for the z/OS NFS server"):
            // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/attt.htm
            bundle.add_text(
                format!("zos/{name}/nfs/{job}.attributes"),
                format!(
                    "# {header}\n\
                     # Site attributes of z/OS NFS server {job} on {name}: set them in the\n\
                     # attributes data set (the NFSATTR DD of the {job} procedure) and restart\n\
                     # the server. safexp: SAF checking with the exports data set, as the\n\
                     # AT-TLS client authentication requires. The ports {}..{} are not an\n\
                     # attribute: they come from /etc/services ({job}.services).\n{shared}\
                     security(safexp)\n",
                    s.ports.value.low, s.ports.value.high
                ),
                on.clone(),
            )?;
            // /etc/services and hlq.ETC.SERVICES lines ("Setting up a
            // user-specified port range"; the file's format: IP Configuration
            // Reference, "/etc/services and ETC.SERVICES port assignments"):
            // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.4.0/com.ibm.zos.v2r4.idan400/expanded.htm
            // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.2.0/com.ibm.zos.v2r2.halz001/etcser.htm
            let mut services = format!(
                "# {header}\n\
                 # Port assignments of z/OS NFS server {job} on {name}: add them to\n\
                 # /etc/services and to hlq.ETC.SERVICES (kept identical) on every LPAR it\n\
                 # runs on, then restart the server. nfsd is 2049; the six other services\n\
                 # take the consecutive ports below it.\n{shared}"
            );
            let low = s.ports.value.low;
            let fits = s.ports.value.high == 2049 && 2049 - low == 6;
            if !fits {
                services.push_str(&format!(
                    "# The range {}..{} is not 2043..2049-shaped (seven ports ending at 2049):\n\
                     # check the assignments against the server's ports before using them.\n",
                    s.ports.value.low, s.ports.value.high
                ));
            }
            let base = 2049u32.saturating_sub(6);
            for (k, svc) in NFS_SERVICES.iter().enumerate() {
                let port = if fits { low as u32 } else { base } + k as u32;
                for proto in ["tcp", "udp"] {
                    services.push_str(&format!("{svc:<14}{port}/{proto}\n"));
                }
            }
            for proto in ["tcp", "udp"] {
                services.push_str(&format!("{:<14}2049/{proto}\n", "nfsd"));
            }
            bundle.add_text(
                format!("zos/{name}/nfs/{job}.services"),
                services,
                on.clone(),
            )?;
            if on.is_empty() {
                continue;
            }
            let path = dirs_file(name, job);
            let (script, dirs) = dirs_script(site, server_id, &header);
            for d in dirs {
                bundle.record(
                    inventory::Entry::new(
                        inventory::Key::new(format!("zos/{name}"), "directory", d.path),
                        [&d.tenant],
                        &path,
                        inventory::digest_lines(&[format!("owner={} mode=700", d.owner)]),
                    ),
                    inventory::Recipe {
                        create: vec![vec![d.line]],
                        then: Vec::new(),
                    },
                )?;
            }
            bundle.add_text(path, script, on)?;
        }
    }
    Ok(())
}
