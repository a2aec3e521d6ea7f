//! `APPLY.md` at the bundle root: the runbook, generated from the IR, every
//! step in order across z/OS, the FlashArrays and each cluster, naming the
//! site's data sets, user IDs, jobs, files and commands. Deterministic: it
//! follows the declaration order of the spec and reads no clock.

use super::{zos, Error, Selection};
use crate::bundle::Bundle;
use crate::ir::*;
use crate::plan::{Plan, TenantNames};
use std::collections::BTreeSet;
use std::fmt::Write;

/// The runbook's file name.
pub const APPLY: &str = "APPLY.md";

/// The index of an array.
fn site_array_id(site: &Site, a: &FlashArray) -> ArrayId {
    ArrayId(
        site.arrays
            .iter()
            .position(|x| std::ptr::eq(x, a))
            .unwrap_or(usize::MAX),
    )
}

pub fn lower(
    site: &Site,
    plan: &Plan,
    headers: &super::Headers,
    header: &str,
    sel: &Selection,
    bundle: &mut Bundle,
) -> Result<(), Error> {
    // Written whole, like the other shared files, when any selected tenant
    // is in the site: the runbook covers the whole site.
    // A site with no tenant yet still has its day 0 (the authorities and
    // servers the first tenant's plan builds on); a partial compile has
    // none of its own.
    let partial = sel.names().is_some();
    if partial && !sel.any(site.tenants.iter().map(|t| t.name.value.as_str())) {
        return Ok(());
    }
    if site.tenants.is_empty() && site.systems.is_empty() {
        return Ok(()); // nothing to apply anywhere
    }
    // The files written beside the runbook follow the compile's selection.
    let only = sel;
    let sel = &Selection::default();
    let tenants: BTreeSet<String> = site.tenants.iter().map(|t| t.name.value.clone()).collect();
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "<!-- {header} -->\n# Applying this bundle\n");
    let _ = writeln!(
        w,
        "Every step in order: z/OS first (certificates, key rings, AT-TLS, the NFS \
         server), then the certificate exports to the workstation, then the FlashArrays, \
         then each cluster. Paths are relative to the bundle root.\n"
    );
    // Steps are in order but not numbered: a number would change in every
    // later heading when a tenant adds a step (a new array's script), and a
    // one-tenant change must stay a one-tenant diff.
    let next = |w: &mut String, title: String| {
        let _ = writeln!(w, "\n### {title}\n");
    };
    // By tenant name, not declaration order: moving a tenant to another file
    // moves nothing here.
    let mut by_name: Vec<(&Tenant, &TenantNames)> =
        site.tenants.iter().zip(&plan.tenants).collect();
    by_name.sort_by(|a, b| a.0.name.value.cmp(&b.0.name.value));
    let nfs_tenants: Vec<(&Tenant, &TenantNfs)> = by_name
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| sel.has(&t.name.value))
        .filter_map(|t| t.nfs.as_ref().map(|n| (t, n)))
        .collect();

    // Issue 26: every server the specs declare is deployed, with or without
    // tenants (its user ID, certificate, key ring and AT-TLS rule, as the
    // inventory records them), so that the first tenant's plan finds them
    // and the last one leaving removes only what is the tenant's. Its NFS
    // files (exports, attributes, services) are written with its first
    // tenant: a server with nothing to export is not started.
    if !nfs_tenants.is_empty() || site.systems.iter().any(|s| !s.servers.is_empty()) {
        let _ = writeln!(w, "## z/OS");
    }
    for (si, (sys, names)) in site.systems.iter().zip(&plan.systems).enumerate() {
        let sid = SystemId(si);
        let here: Vec<ServerId> = site
            .server_ids()
            .filter(|s| site.server(*s).lpars(s.0).contains(&sid))
            .collect();
        if here.is_empty() {
            continue;
        }
        let name = &sys.name.value;
        let home: Vec<(usize, &NfsServer)> = sys
            .servers
            .iter()
            .enumerate()
            .filter(|(i, _)| here.contains(&ServerId(sid, *i)))
            .collect();
        let _ = writeln!(w, "\n## System {name} (stack {})", sys.stack.value);
        let stack = &sys.stack.value;
        next(w, format!("RACF prerequisites and user IDs on {name}"));
        let _ = writeln!(
            w,
            "Before anything else on {name}, by the security administrator. Each job's \
             last step must end with RC 0 (its first step tolerates what exists).\n"
        );
        let permitted: Vec<&str> = std::iter::once(&sys.pagent_user)
            .chain(&sys.initstack)
            .map(|u| u.value.as_str())
            .collect();
        let _ = writeln!(
            w,
            "- `{}` (job {}): SERVAUTH{} active and RACLISTed, and SERVAUTH {} with READ \
             for {}: without that profile, once `TCPCONFIG TTLS` is in the initial profile \
             every socket request fails at the stack's next start, Policy Agent's included. \
             If other started tasks must open sockets before the AT-TLS policy is in (the \
             resolver, syslogd, OMPROUTE), name them in the spec's `initstack`.",
            names.prereq.file,
            names.prereq.job,
            // As job 0 does (lower/racf.rs): on every LPAR a server may
            // run on, standby LPARs included.
            if here
                .iter()
                .any(|s| site.server(*s).ring_access == RingAccess::Rdatalib)
            {
                " and RDATALIB"
            } else {
                " and FACILITY"
            },
            super::racf::initstack(sys),
            permitted.join(", ")
        );
        let users = super::racf::users_on(site, sid);
        // One line per user ID: adding a tenant adds lines, changes none.
        if users.iter().any(|(_, o, _)| o.uid.is_some()) {
            let _ = writeln!(
                w,
                "- `{}` (job {}): these user IDs with their OMVS segments:",
                names.users.file, names.users.job,
            );
            for (u, o, owner) in &users {
                if let Some(uid) = &o.uid {
                    let _ = writeln!(
                        w,
                        "  - {} of {owner} (UID {}, HOME {})",
                        u.value, uid.value, o.home.value
                    );
                }
            }
            let _ = writeln!(
                w,
                "- In the z/OS UNIX shell, as a superuser: `sh zos/{name}/uss/homes-{name}.sh` \
                 (makes each user ID's home directory, owned by it, mode 700). Transfer it as text."
            );
        }
        for (u, o, owner) in &users {
            if o.uid.is_none() {
                let _ = writeln!(
                    w,
                    "- User ID {} of {owner} (no `uid` in the spec) must already exist on {name} \
                     with an OMVS segment (UID and HOME) before the next jobs.",
                    u.value
                );
            }
        }
        if !home.is_empty() {
            next(w, format!("RACF jobs on {name}"));
            let _ = writeln!(
                w,
                "Submit in this order; each must end with RC 0 (IKJEFT1B stops at the \
                 first failing command: read SYSTSPRT, fix, and resubmit only what did \
                 not run).\n"
            );
            for (a, an) in sys.authorities.iter().zip(&names.authorities) {
                let _ = writeln!(
                    w,
                    "- `{}` (job {}): CERTAUTH certificate '{}', exported to `{}` ({}).",
                    an.file,
                    an.job,
                    a.label.value,
                    a.export.dsn.value,
                    a.export.format.value.racf()
                );
            }
            for (i, s) in &home {
                let sn = &names.servers[*i];
                let _ = writeln!(
                    w,
                    "- `{}` (job {}): certificate '{}' of {} (ALTNAME {} and {}), key ring \
                     {}, READ for {} to the ring ({}).",
                    sn.file,
                    sn.job,
                    s.certificate.label.value,
                    s.user.value,
                    s.certificate.hostname.value,
                    s.address.value,
                    s.keyring.value,
                    s.user.value,
                    match s.ring_access {
                        RingAccess::Rdatalib => format!(
                            "RDATALIB {}.{}.LST",
                            s.user.value,
                            s.keyring.value.to_ascii_uppercase()
                        ),
                        RingAccess::Facility => "FACILITY IRR.DIGTCERT.LISTRING".into(),
                    }
                );
            }
            for (t, tn) in &by_name {
                let (Some(nfs), Some(client)) = (&t.nfs, &tn.client) else {
                    continue;
                };
                if nfs.server.value.0 != sid {
                    continue;
                }
                if sel.has(&t.name.value) {
                    // The password is in the job's instream SYSTSIN (spooled
                    // input) as well as its SYSTSPRT, so the job itself is
                    // purged, not only its output. JES2 "$P Job - Purge a
                    // job": "including purging the job's output, and
                    // removing all traces of it from the system":
                    // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.4.0/com.ibm.zos.v2r4.hasa200/sj.htm
                    let pw = client
                        .password
                        .as_ref()
                        .map(|p| {
                            format!(
                                " Submit it from a copy you do not save, with `{p}` replaced \
                                 by the export password; the password is then in the job's \
                                 SYSTSIN and SYSTSPRT on the spool: once the job ended RC 0, \
                                 purge the job, input and output (SDSF: line command `P` \
                                 against job {} on the ST panel; JES2: `$P J<job number>`).",
                                client.job
                            )
                        })
                        .unwrap_or_default();
                    let _ = writeln!(
                        w,
                        "- `{}` (job {}): client certificate '{}' of {}, exported to `{}` \
                         ({}).{pw}",
                        client.file,
                        client.job,
                        nfs.identity.label.value,
                        nfs.identity.user.value,
                        nfs.identity.export.dsn.value,
                        nfs.identity.export.format.value.racf()
                    );
                }
            }
            let exported: Vec<&(usize, &NfsServer)> = home
                .iter()
                .filter(|(i, _)| site.tenants_of(ServerId(sid, *i)).next().is_some())
                .collect();
            if !exported.is_empty() {
                next(w, format!("Exported directories on {name}"));
            }
            for (_, s) in exported {
                let _ = writeln!(
                    w,
                    "- In the z/OS UNIX shell, as a superuser: `sh {}` (makes each directory, \
                     owned by its tenant's user ID, mode 700; refuses a symbolic link). \
                     Transfer it as text.",
                    zos::dirs_file(name, &s.jobname.value)
                );
            }
        }
        next(w, format!("AT-TLS on stack {stack} of {name}"));
        let _ = writeln!(
            w,
            "- After job `{}` ended RC 0: add `zos/{name}/tcpip/tcpconfig.txt` (`TCPCONFIG \
             TTLS`) to the stack's PROFILE.TCPIP, and activate it now with `V \
             TCPIP,{stack},OBEYFILE,DSN=<data set>`.",
            names.prereq.job
        );
        let _ = writeln!(
            w,
            "- Put the policies in the Policy Agent's AT-TLS file as \
             `zos/{name}/pagent/image.conf` says (`TTLSConfig {} FLUSH PURGE` when the \
             image has none):",
            zos::ttls_file(stack)
        );
        for sv in &here {
            let s = site.server(*sv);
            let _ = writeln!(w, "  - `zos/{name}/pagent/{}.policy`", s.jobname.value);
        }
        // MODIFY PAGENT,REFRESH rereads the configuration files:
        // https://www.ibm.com/docs/en/zos/3.1.0?topic=agent-modify-command-policy
        let refresh = console_file(name, "pagent-refresh");
        let owners: BTreeSet<String> = here
            .iter()
            .flat_map(|s| super::tenants_of_server(site, *s))
            .collect();
        if only.any(owners.iter().map(String::as_str)) {
            bundle.add_text(refresh.clone(), "F PAGENT,REFRESH\n".to_string(), owners)?;
        }
        let _ = writeln!(
            w,
            "- The console commands of `{refresh}`, then in the z/OS UNIX shell `pasearch -t -p \
             {stack}`: success is each rule below listed with its Priority and LocalPortRange, \
             and no EZZ8434I (policy errors) on the console."
        );
        for sv in &here {
            let s = site.server(*sv);
            let _ = writeln!(
                w,
                "  - `{}_rule` (Jobname {}, ports {}..{}, Priority {})",
                s.name.value,
                s.jobname.value,
                s.ports.value.low,
                s.ports.value.high,
                s.priority.value
            );
        }
        for sv in &here {
            let s = site.server(*sv);
            let job = &s.jobname.value;
            let hs = &site.system(sv.0).name.value;
            if sv.0 == sid && site.tenants_of(*sv).next().is_none() {
                // No exports file yet (lower/zos.rs writes it with the first
                // tenant): the first tenant's plan places it and starts the
                // server.
                next(w, format!("NFS server {job} on {name}"));
                let _ = writeln!(
                    w,
                    "- `zos/{name}/nfs/{job}.attributes` into the attributes data set (NFSATTR DD).\n\
                     - `zos/{name}/nfs/{job}.services` into `/etc/services` and hlq.ETC.SERVICES.\n\
                     - No tenant is exported by {job} yet: do not start it (it has nothing to \
                     export). The plan that adds its first tenant places its exports and starts it."
                );
            } else if sv.0 == sid {
                next(w, format!("NFS server {job} on {name}"));
                // STOP and START of the server's started task (z/OS NFS
                // Guide, "Starting and stopping the NFS server"):
                // https://www.ibm.com/docs/en/zos/3.1.0?topic=server-starting-stopping-nfs
                let restart = console_file(name, &format!("{job}-restart"));
                let owners = super::tenants_of_server(site, *sv);
                if only.any(owners.iter().map(String::as_str)) {
                    bundle.add_text(restart.clone(), format!("P {job}\nS {job}\n"), owners)?;
                }
                // The seed (IBM's write-up): "This support requires APAR
                // OA62357 to make the z/OS NFS server an AT-TLS-aware
                // application. The AT-TLS support for the z/OS NFS server
                // supports only the NFSv4 protocol."
                let _ = writeln!(
                    w,
                    "- Check that APAR OA62357 (which makes the z/OS NFS server AT-TLS aware) \
                     is installed on {name}: without it the server does not use the policy. \
                     AT-TLS covers NFSv4 only; the PersistentVolumes mount with `nfsvers=4`.\n\
                     - `zos/{name}/nfs/{job}.exports` into the exports data set (EXPORTS DD).\n\
                     - `zos/{name}/nfs/{job}.attributes` into the attributes data set (NFSATTR DD).\n\
                     - `zos/{name}/nfs/{job}.services` into `/etc/services` and hlq.ETC.SERVICES.\n\
                     - Restart: the console commands of `{restart}` (after later exports \
                     changes, F {job},EXPORTFS instead)."
                );
            } else {
                next(w, format!("NFS server {job} (of {hs}) on {name}"));
                let _ = writeln!(
                    w,
                    "- `zos/{hs}/nfs/{job}.services` into `/etc/services` and hlq.ETC.SERVICES \
                     on {name} too: after a restart here the server's ports must be the ones \
                     its AT-TLS rule covers.\n\
                     - Its procedure on {name} names the same exports and attributes data sets \
                     as on {hs}, and {name} shares {hs}'s RACF database (the key ring and \
                     certificates of the jobs on {hs}).\n\
                     - `zos/{name}/tcpip/{job}-vipabackup.txt` (VIPABACKUP of the server's \
                     dynamic VIPA {addr}) into stack {stack}'s PROFILE.TCPIP on {name}, and \
                     activated like TCPCONFIG TTLS above: without it the server restarted here \
                     listens on an address this stack does not own.",
                    addr = s.address.value
                );
            }
        }
        for (i, s) in &home {
            let sn = &names.servers[*i];
            next(w, format!("Verify {} on {name}", s.jobname.value));
            let _ = writeln!(
                w,
                "- `{}` (job {}): lists the user IDs' OMVS segments, the ring and the \
                 client certificates; RC 0, every OMVS section with a UID and HOME, the \
                 ring holding the authority and the server certificate (DEFAULT).",
                sn.verify_file, sn.verify_job,
            );
        }
    }

    if !nfs_tenants.is_empty() {
        let _ = writeln!(w, "\n## Certificates to the clusters");
        next(w, "Transfer the exports".into());
        let _ = writeln!(
            w,
            "On a workstation with kubectl access to the clusters, in a private directory \
             outside this bundle (made with mkdir -m 700; EXPORTS_DIR below names it): log in to \
             each system's FTP server and enter the subcommands of each tenant's file (they \
             fetch the tenant's exports, the authority's as text, a PKCS#12 in binary):\n"
        );
        for (t, nfs) in &nfs_tenants {
            let c = &site.cluster(t.cluster.value).name.value;
            let _ = writeln!(
                w,
                "- tenant {}: `k8s/{c}/{}/{}.ftp` (on {})",
                t.name.value,
                super::k8s::TLS_DIR,
                t.name.value,
                site.system(nfs.server.value.0).name.value
            );
        }
    }

    let mut arrays: Vec<&FlashArray> = site
        .arrays
        .iter()
        .enumerate()
        .filter(|(ai, _)| {
            site.pure_tenants()
                .any(|(t, p)| p.array.value == ArrayId(*ai) && sel.has(&t.name.value))
        })
        .map(|(_, a)| a)
        .collect();
    // By name: an array may be declared in a tenant's file, which can move.
    arrays.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    if !arrays.is_empty() {
        let _ = writeln!(w, "\n## FlashArrays");
        for a in arrays {
            next(w, format!("FlashArray {}", a.name.value));
            let files = site.pure_tenants().any(|(_, p)| {
                p.array.value == site_array_id(site, a) && p.token.source == SecretSource::File
            });
            // bash, not sh: the script uses `set -o pipefail` and `printf %q`,
            // which dash (Debian's /bin/sh) refuses.
            let _ = writeln!(
                w,
                "- `{}bash pure/{}/setup.sh` (idempotent; asks for each new user's password \
                 and prints each new API token once).",
                if files {
                    "TENANTC_SITE=<the site root> "
                } else {
                    ""
                },
                a.name.value
            );
            let mut by_name: Vec<(&Tenant, &TenantPure)> = site
                .pure_tenants()
                .filter(|(_, p)| p.array.value == site_array_id(site, a))
                .collect();
            by_name.sort_by(|x, y| x.0.name.value.cmp(&y.0.name.value));
            for (t, p) in by_name {
                let at = match p.token.source {
                    SecretSource::Env => format!("the environment variable `{}`", p.token.name),
                    SecretSource::File => format!(
                        "the file `{}` under the site root (mode 0600, never committed)",
                        headers.site_path(p.token.span.file, &p.token.name)
                    ),
                };
                let _ = writeln!(
                    w,
                    "- Put tenant {}'s token (user {}) in {at}: pure.json is built from there.",
                    t.name.value, p.user.value
                );
            }
        }
    }

    let _ = writeln!(w, "\n## Clusters");
    for (ci, c) in site.clusters.iter().enumerate() {
        let on: Vec<&Tenant> = by_name
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| t.cluster.value == ClusterId(ci) && sel.has(&t.name.value))
            .collect();
        if on.is_empty() {
            continue;
        }
        let name = &c.name.value;
        next(w, format!("Cluster {name}"));
        if site
            .pure_tenants()
            .any(|(t, _)| t.cluster.value == ClusterId(ci))
        {
            // The StorageCluster kind comes with the operator's CRDs.
            let _ = writeln!(
                w,
                "- The Portworx operator and its CRDs are installed (Portworx's install page for \
                 the spec's version): `kubectl get crd storageclusters.core.libopenstorage.org` \
                 succeeds. Without them `kubectl apply -k` fails at the StorageCluster."
            );
            if c.kind.value == ClusterKind::Openshift {
                // The Machine Config Operator cordons, drains and reboots each
                // node of the pool to apply a new machine config; the pool is
                // done when UPDATED is True ("Checking machine config pool
                // status"):
                // https://docs.redhat.com/en/documentation/openshift_container_platform/4.21/html/machine_configuration/checking-mco-node-status_machine-config-overview
                let _ = writeln!(
                    w,
                    "- `oc apply -f k8s/{name}/cluster/machineconfig-{mc}.yaml`: the Machine Config \
                     Operator writes `/etc/multipath.conf` and the udev rule on every worker \
                     (do not copy them by hand), cordoning, draining and **rebooting each worker** \
                     in turn. Wait for the pool before Portworx starts: `oc wait mcp/worker \
                     --for=condition=Updated --timeout=90m`.",
                    mc = super::pure::MULTIPATH_MACHINE_CONFIG
                );
            } else {
                let _ = writeln!(
                    w,
                    "- Put `k8s/{name}/nodes/multipath.conf` on every worker node as \
                     `/etc/multipath.conf`, then `systemctl restart multipathd` there."
                );
            }
        }
        let _ = writeln!(
            w,
            "- `kubectl apply -k k8s/{name}`: everything but the Secrets (committed bundles \
             build with `kustomize build k8s/{name}` as they are; see the README's GitOps \
             section)."
        );
        // The overlay exists only for a cluster with generated Secrets: a
        // step naming a missing directory would fail.
        let overlay = super::k8s::has_secret_overlay(
            site,
            ClusterId(ci),
            site.tenants.iter().filter(|t| sel.has(&t.name.value)),
        );
        if overlay {
            let _ = writeln!(
            w,
            "- The Secrets: either the site's secret store (GitOps), or from this workstation: \
             from the site root, `tenantc compile --materialize-secrets` into this bundle \
             writes the secret files (mode 0600, ignored by the bundle's `.gitignore`) from \
             the env()/file() sources; `grep -rlE --exclude='*.placeholder' '[$][{{](ENV|FILE):' \
             k8s/{name}/secrets` must print nothing (a placeholder is not a secret), then `kubectl apply -k \
             k8s/{name}/secrets`."
        );
        }
        for t in &on {
            if t.nfs.is_none() {
                continue;
            }
            let _ = writeln!(
                w,
                "- tenant {}: `EXPORTS_DIR=<the private directory> bash k8s/{name}/{}/{}.sh`: the \
                 proxy's TLS Secrets from the exports (openssl asks for the export password; the \
                 private key goes through a pipe, never into a file), then the copies deleted.",
                t.name.value,
                super::k8s::TLS_DIR,
                t.name.value
            );
        }
        for t in on {
            if let Some(nfs) = &t.nfs {
                let _ = writeln!(
                    w,
                    "- tenant {}: `kubectl -n {} rollout status deployment/haproxy`, then the \
                     workloads in namespace {} bind their PVCs (`kubectl -n {} get pvc`).",
                    t.name.value, nfs.proxy.namespace.value, t.namespace.value, t.namespace.value
                );
            }
        }
    }

    // The systems whose certificate exports job 5 deletes: those of the
    // NFS tenants, and the authorities' of a system whose jobs APPLY.md
    // lists (a server with no tenant yet included).
    let cleaned: Vec<usize> = (0..plan.systems.len())
        .filter(|si| {
            nfs_tenants
                .iter()
                .any(|(_, n)| n.server.value.0 == SystemId(*si))
                || (!site.systems[*si].authorities.is_empty()
                    && !site.systems[*si].servers.is_empty())
        })
        .collect();
    if !cleaned.is_empty() {
        next(w, "Delete the exports".into());
        let _ = writeln!(
            w,
            "The exports hold private keys. Each tenant's script above deleted its workstation \
             copies once its Secrets were in place; once every proxy's are, delete the data sets:\n"
        );
        for (si, names) in plan.systems.iter().enumerate() {
            if cleaned.contains(&si) {
                let _ = writeln!(
                    w,
                    "- `{}` (job {}) on {}.",
                    names.cleanup.file, names.cleanup.job, site.systems[si].name.value
                );
            }
        }
    }

    if !nfs_tenants.is_empty() {
        let _ = writeln!(w, "\n## Renewals\n");
        let _ = writeln!(
            w,
            "The certificates' dates are in `zos/<system>/certificates.json`; renew each \
             before its not_after (the authority outlives every certificate it signs)."
        );
    }
    bundle.add_text(APPLY.to_string(), md, tenants)
}

/// A file of console commands for the operator of `system`, one a line.
fn console_file(system: &str, what: &str) -> String {
    format!("zos/{system}/console/{what}.txt")
}
