//! `isolation.json` and `isolation.md`: for every tenant, what separates it
//! from every other, generated from the IR: its namespaces, RACF user ID and
//! client certificate, NFS export subtrees, proxy ClusterIP, NetworkPolicies,
//! FlashArray realm, pods, policy, user and token source, StorageClasses and
//! the ResourceQuotas that close the other tenants' classes. Each of these is
//! the tenant's own: the checks refuse a site where two tenants share one
//! (the ledger's conflicts, [`crate::plan::claims::shared`]), and this file is not written if
//! anything is shared, so `"shared": []` is a statement the compiler checked.
//!
//! Tenants are sorted by name and each is one self-contained entry, so a
//! change to one tenant changes only its lines (and, for a StorageClass, the
//! quota lines of the tenants of its cluster that close it).

use super::k8s::isolation::{summary, FenceSummary, PolicySummary, QuotaSummary};
use super::Error;
use crate::bundle::Bundle;
use crate::ir::*;
use crate::plan::claims::{shared, Shared};
use crate::plan::{Plan, TenantNames};
use crate::rules::export_segments as segments;
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::Write;

#[derive(Serialize)]
struct Report<'a, 'm> {
    /// Everything two tenants share; always empty in a written bundle.
    shared: &'a [Shared],
    /// Each security domain's systems and the RACF identities held in it.
    security_domains: &'a [DomainEntry],
    tenants: Tenants<'a, 'm>,
}

/// A security domain: systems sharing one RACF database, and every identity
/// held in it (the ledger's claims of the domain): a tenant's has no other
/// holder; the site's own may be shared by its systems and servers.
#[derive(Debug, Serialize)]
struct DomainEntry {
    /// As the systems write it; `null` for the site's default domain.
    name: Option<String>,
    systems: Vec<String>,
    identities: Vec<IdentityEntry>,
}

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct IdentityEntry {
    /// The claim kind's noun: RACF user ID, certificate, data set.
    what: &'static str,
    value: String,
    holder: String,
}

/// The domains of the site from the ledger: the default one first.
fn domains(site: &Site, plan: &Plan) -> Vec<DomainEntry> {
    use crate::plan::claims::Scope;
    let d = &plan.domains;
    d.all()
        .map(|dom| {
            let mut identities: Vec<IdentityEntry> = (plan.claims.iter())
                .filter(|c| c.scope == Scope::Domain(dom))
                .map(|c| IdentityEntry {
                    what: c.kind.info().noun,
                    value: c.shown().to_string(),
                    holder: c.holder.label(site, true),
                })
                .collect();
            identities.sort();
            identities.dedup();
            DomainEntry {
                name: d.name(dom).map(str::to_string),
                systems: d
                    .systems(dom)
                    .map(|s| site.system(s).name.value.clone())
                    .collect(),
                identities,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct TenantEntry<'a> {
    name: &'a str,
    cluster: &'a str,
    namespaces: Vec<&'a str>,
    nfs: Option<NfsEntry<'a>>,
    pure: Option<PureEntry<'a>>,
    network_policies: Vec<PolicySummary>,
    resource_quotas: Vec<QuotaSummary>,
    /// The ValidatingAdmissionPolicies that keep its FADA classes to its
    /// namespaces, cluster-wide (`storage_fence = admission_policy`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    admission_policies: Vec<FenceSummary>,
    /// Workload ports open to other namespaces (`expose`).
    exposed_ports: Vec<Exposed<'a>>,
}

#[derive(Serialize)]
struct NfsEntry<'a> {
    /// `system.server`, and every LPAR it may run on.
    server: String,
    lpars: Vec<&'a str>,
    racf_user: &'a str,
    client_certificate: Certificate<'a>,
    cluster_ip: String,
    proxy_namespace: &'a str,
    storage_class: &'a str,
    /// Export subtrees: no other tenant's export equals, holds or lies in one.
    exports: Vec<ExportEntry<'a>>,
}

#[derive(Serialize)]
struct Certificate<'a> {
    label: &'a str,
    subject: String,
    signed_by: &'a str,
    data_set: &'a str,
}

#[derive(Serialize)]
struct ExportEntry<'a> {
    volume: &'a str,
    path: &'a str,
}

#[derive(Serialize)]
struct PureEntry<'a> {
    array: &'a str,
    realm: &'a str,
    pods: Vec<String>,
    policy: &'a str,
    user: &'a str,
    token_source: String,
    storage_classes: Vec<String>,
}

#[derive(Serialize)]
struct Exposed<'a> {
    workload: &'a str,
    ports: Vec<u16>,
}

fn subject(s: &Subject) -> String {
    s.0.iter()
        .map(|(k, v)| format!("{k}={}", v.value))
        .collect::<Vec<_>>()
        .join(", ")
}

fn entry<'a>(site: &'a Site, plan: &Plan, t: &'a Tenant, names: &TenantNames) -> TenantEntry<'a> {
    let mut namespaces = vec![t.namespace.value.as_str()];
    let nfs = t.nfs.as_ref().map(|n| {
        let sid = n.server.value;
        let server = site.server(sid);
        namespaces.push(n.proxy.namespace.value.as_str());
        let mut exports: Vec<ExportEntry<'a>> = n
            .volumes
            .iter()
            .map(|v| ExportEntry {
                volume: &v.name.value,
                path: &v.export.value,
            })
            .collect();
        exports.sort_by(|a, b| {
            segments(a.path)
                .cmp(&segments(b.path))
                .then(a.volume.cmp(b.volume))
        });
        NfsEntry {
            server: format!("{}.{}", site.system(sid.0).name.value, server.name.value),
            lpars: server
                .lpars(sid.0)
                .into_iter()
                .map(|s| site.system(s).name.value.as_str())
                .collect(),
            racf_user: &n.identity.user.value,
            client_certificate: Certificate {
                label: &n.identity.label.value,
                subject: subject(&n.identity.subject),
                signed_by: &site.authority(n.identity.signed_by.value).name.value,
                data_set: &n.identity.export.dsn.value,
            },
            cluster_ip: n.proxy.cluster_ip.value.to_string(),
            proxy_namespace: &n.proxy.namespace.value,
            storage_class: &n.storage_class.value,
            exports,
        }
    });
    let pure = t.pure.as_ref().map(|p| {
        let mut pods: Vec<String> = p
            .pods
            .iter()
            .map(|pod| format!("{}::{}", p.realm.value, pod.value))
            .collect();
        pods.sort();
        let mut classes: Vec<String> = names.classes.clone();
        classes.sort();
        PureEntry {
            array: &site.array(p.array.value).name.value,
            realm: &p.realm.value,
            pods,
            policy: &p.policy.value,
            user: &p.user.value,
            token_source: p.token.to_string(),
            storage_classes: classes,
        }
    });
    let (network_policies, resource_quotas, admission_policies) = summary(site, plan, t, names);
    let mut exposed_ports: Vec<Exposed<'a>> = t
        .workloads
        .iter()
        .filter(|w| !w.expose.is_empty())
        .map(|w| {
            let mut ports: Vec<u16> = w.expose.iter().map(|p| p.value).collect();
            ports.sort();
            ports.dedup();
            Exposed {
                workload: &w.name.value,
                ports,
            }
        })
        .collect();
    exposed_ports.sort_by(|a, b| a.workload.cmp(b.workload));
    TenantEntry {
        name: &t.name.value,
        cluster: &site.cluster(t.cluster.value).name.value,
        namespaces,
        nfs,
        pure,
        network_policies,
        resource_quotas,
        admission_policies,
        exposed_ports,
    }
}

/// Free text (a label, a subject) inside a Markdown code span: no backtick
/// can end the span and no control character can start a new line.
fn inline(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '`' || c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// The start of `isolation.md`: its title and the security domains.
fn markdown_head(
    header: &str,
    domains: &[DomainEntry],
    md: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    write!(md, "<!-- {header} -->\n# Tenant isolation\n\n")?;
    md.write_all(
        "What separates each tenant from every other. Every item below is the tenant's own: \
         `tenantc check` refuses a site where two tenants share one, and nothing is shared here.\n"
            .as_bytes(),
    )?;
    for d in domains {
        let name = match &d.name {
            Some(n) => format!("Security domain `{n}`"),
            None => "The site's default security domain".to_string(),
        };
        write!(
            md,
            "\n## {name}\n\nThe RACF database of {}. No tenant shares an identity below with any other holder; only the site's own (its systems, servers and authorities) may share one.\n\n",
            d.systems
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        for i in &d.identities {
            writeln!(md, "- {} `{}`: {}", i.what, inline(&i.value), i.holder)?;
        }
    }
    Ok(())
}

/// A tenant's section of `isolation.md`.
fn markdown_tenant(t: &TenantEntry<'_>, md: &mut dyn std::io::Write) -> std::io::Result<()> {
    write!(md, "\n## {}\n\n", t.name)?;
    writeln!(
        md,
        "- cluster `{}`, namespaces {}",
        t.cluster,
        t.namespaces
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    if let Some(n) = &t.nfs {
        writeln!(
            md,
            "- NFS server `{}` (LPARs {}): RACF user ID `{}`, client certificate `{}` (`{}`, signed by `{}`, data set `{}`)",
            n.server,
            n.lpars.join(", "),
            n.racf_user,
            inline(n.client_certificate.label),
            inline(&n.client_certificate.subject),
            n.client_certificate.signed_by,
            n.client_certificate.data_set
        )?;
        writeln!(
            md,
            "- proxy ClusterIP `{}` in `{}`, StorageClass `{}`",
            n.cluster_ip, n.proxy_namespace, n.storage_class
        )?;
        for e in &n.exports {
            writeln!(md, "- export subtree `{}` (volume `{}`)", e.path, e.volume)?;
        }
    }
    if let Some(p) = &t.pure {
        writeln!(
            md,
            "- FlashArray `{}`: realm `{}`, pods {}, policy `{}`, user `{}`, token from {}; StorageClasses {}",
            p.array,
            p.realm,
            p.pods.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", "),
            p.policy,
            p.user,
            p.token_source,
            p.storage_classes
                .iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    for p in &t.network_policies {
        writeln!(
            md,
            "- NetworkPolicy `{}/{}` admits {}",
            p.namespace, p.name, p.admits
        )?;
    }
    for q in &t.resource_quotas {
        writeln!(
            md,
            "- ResourceQuota `{}/{}` closes {}",
            q.namespace, q.name, q.closes
        )?;
    }
    for f in &t.admission_policies {
        writeln!(
            md,
            "- ValidatingAdmissionPolicy `{}` keeps {} to {}",
            f.name,
            f.classes
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            f.admits
        )?;
    }
    for e in &t.exposed_ports {
        writeln!(
            md,
            "- workload `{}` exposes TCP {} to other namespaces",
            e.workload,
            e.ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(())
}

/// The report's tenants, each made when it is serialized and written to
/// `isolation.md` at the same time: the report is never held whole.
struct Tenants<'a, 'm> {
    site: &'a Site,
    plan: &'a Plan,
    list: &'a [(&'a Tenant, &'a TenantNames)],
    md: std::cell::RefCell<&'m mut dyn std::io::Write>,
}

impl Serialize for Tenants<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(Some(self.list.len()))?;
        let mut md = self.md.borrow_mut();
        for (t, names) in self.list {
            let e = entry(self.site, self.plan, t, names);
            markdown_tenant(&e, &mut **md).map_err(S::Error::custom)?;
            seq.serialize_element(&e)?;
        }
        seq.end()
    }
}

/// What the isolation report takes from the plan's claims: taken before
/// lowering, so that a compile need not hold the claims (some 23 MB at
/// 10,000 tenants) nor compare them all again (as much again, for a
/// moment) while its bundle is at its largest.
#[derive(Debug)]
pub struct Prepared {
    shared: Vec<Shared>,
    domains: Vec<DomainEntry>,
}

/// [`Prepared`]; an error if two holders share anything (the checks refuse
/// such a site, so it is a bug).
pub fn prepare(site: &Site, plan: &Plan) -> Result<Prepared, Error> {
    let shared = shared(site, &plan.claims);
    if !shared.is_empty() {
        return Err(Error::Internal(format!(
            "the isolation report would list shared {} `{}`; the checks should have refused it",
            shared[0].what, shared[0].value
        )));
    }
    Ok(Prepared {
        shared,
        domains: domains(site, plan),
    })
}

/// Writes `isolation.json` and `isolation.md`. They describe the whole site
/// (a statement about every pair of tenants), so a `--tenant` compile writes
/// them whole, byte-identical to a full compile's, like the other shared files.
pub fn lower(
    site: &Site,
    plan: &Plan,
    prepared: &Prepared,
    header: &str,
    bundle: &mut Bundle,
) -> Result<(), Error> {
    let mut tenants: Vec<(&Tenant, &TenantNames)> =
        site.tenants.iter().zip(&plan.tenants).collect();
    if tenants.is_empty() {
        return Ok(());
    }
    tenants.sort_by(|a, b| a.0.name.value.cmp(&b.0.name.value));
    let names: BTreeSet<String> = tenants.iter().map(|(t, _)| t.name.value.clone()).collect();
    let security_domains = &prepared.domains;
    // Both files at once, a tenant at a time.
    bundle.add_written(["isolation.json", "isolation.md"], &names, |[json, md]| {
        markdown_head(header, security_domains, &mut **md)?;
        let report = Report {
            shared: &prepared.shared,
            security_domains,
            tenants: Tenants {
                site,
                plan,
                list: &tenants,
                md: std::cell::RefCell::new(&mut **md),
            },
        };
        serde_json::to_writer_pretty(&mut **json, &report)?;
        json.write_all(b"\n")
    })
}
