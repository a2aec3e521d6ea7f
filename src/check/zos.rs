//! z/OS, RACF and AT-TLS checks: DVIPA coverage, port ranges, certificate
//! chains, and the naming rules of RACF, JCL and PAGENT.

use crate::diagnostics::{registry, Diagnostic};
use crate::ir::*;
use crate::plan::{Dn, Plan};
use crate::rules::{
    cert_label_ok, dataset_ok, hostname_ok, keyring_ok, pagent_name_ok, racf_name_ok,
};
use std::collections::BTreeMap;

pub fn run(site: &Site, plan: &Plan, out: &mut Vec<Diagnostic>) {
    server_jobnames(site, out);
    dvipa_coverage(site, out);
    node_addresses(site, out);
    ports(site, out);
    certificate_chains(site, out);
    names(site, plan, out);
    tls_and_nfs(site, out);
    high_availability(site, out);
    standby_domains(site, plan, out);
    subject_names(site, out);
    validity(site, out);
    nested_exports(site, out);
    unique_uids(site, out);
}

/// One tenant's volumes whose exports nest (E0429); other tenants' are
/// E0701's. z/OS NFS Guide and Reference, "Exports data set": "You cannot
/// specify exporting a "parent directory" or a subdirectory of an exported
/// directory":
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/nfsexp.htm
fn nested_exports(site: &Site, out: &mut Vec<Diagnostic>) {
    use crate::rules::{export_path_not_normal as not_normal, export_segments as segments};
    let contains = |outer: &[&str], inner: &[&str]| inner.starts_with(outer);
    for t in &site.tenants {
        let Some(nfs) = &t.nfs else { continue };
        let mut vols: Vec<(Vec<&str>, &Volume)> = nfs
            .volumes
            .iter()
            .filter(|v| not_normal(&v.export.value).is_none())
            .map(|v| (segments(&v.export.value), v))
            .collect();
        vols.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.export.span.cmp(&b.1.export.span)));
        // Sorted, a directory comes right before what it holds.
        let mut stack: Vec<usize> = Vec::new();
        for i in 0..vols.len() {
            while let Some(&top) = stack.last() {
                if contains(&vols[top].0, &vols[i].0) {
                    break;
                }
                stack.pop();
            }
            if let Some(&j) = stack.last() {
                let (outer, inner) = (vols[j].1, vols[i].1);
                out.push(
                    Diagnostic::new(
                        registry::NESTED_EXPORT,
                        inner.export.span,
                        format!(
                            "volumes `{}` and `{}` of tenant `{}` export `{}` and `{}`, inside it: z/OS NFS does not export a subdirectory of an exported directory",
                            outer.name.value, inner.name.value, t.name.value, outer.export.value, inner.export.value
                        ),
                        "exported inside another volume",
                    )
                    .related(outer.export.span, "the enclosing export")
                    .help("keep the enclosing volume and mount the subdirectory with a workload mount's subPath, or export two sibling directories"),
                );
            } else {
                stack.push(i);
            }
        }
    }
}

/// No two user IDs share a UID (E0430), a tenant's user ID is not UID 0
/// (E0431), and a home is an absolute path (E0432). UIDs are a site-wide
/// namespace: z/OS NFS "recommends that the RACF installation preserve a
/// unique network UID and GID that each user is associated with":
/// https://www.ibm.com/docs/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/cpn2co257.htm
/// A small pass of its own, to be folded into the site's claims.
pub fn unique_uids(site: &Site, out: &mut Vec<Diagnostic>) {
    let mut users: Vec<(&Sp<String>, &Omvs, bool)> = Vec::new();
    for sys in &site.systems {
        for s in &sys.servers {
            users.push((&s.user, &s.omvs, false));
        }
    }
    for t in &site.tenants {
        if let Some(nfs) = &t.nfs {
            users.push((&nfs.identity.user, &nfs.identity.omvs, true));
        }
    }
    let mut by_uid: BTreeMap<u64, &Sp<String>> = BTreeMap::new();
    let mut by_user: BTreeMap<&str, &Sp<u64>> = BTreeMap::new();
    for (user, o, tenant) in users {
        let system = (o.home.value != "/")
            .then(|| crate::rules::system_directory(&o.home.value))
            .flatten();
        if let (Some(why), true) = (system, crate::rules::export_path(&o.home.value).is_ok()) {
            out.push(
                Diagnostic::new(
                    registry::OMVS_HOME,
                    o.home.span,
                    format!(
                        "home `{}` of user ID `{}` is {why}",
                        o.home.value, user.value
                    ),
                    "a system directory",
                )
                .help("the homes script gives a home to its user ID (chown, chmod 700): write a directory of its own, such as \"/u/nfsa\""),
            );
        } else if o.home.span != user.span && crate::rules::export_path(&o.home.value).is_err() {
            out.push(
                Diagnostic::new(
                    registry::OMVS_HOME,
                    o.home.span,
                    format!(
                        "home `{}` of user ID `{}` is not an absolute path without blanks",
                        o.home.value, user.value
                    ),
                    "not a z/OS UNIX path",
                )
                .help("write an absolute path such as \"/u/nfsa\""),
            );
        }
        let Some(uid) = &o.uid else { continue };
        if tenant && uid.value == 0 {
            out.push(
                Diagnostic::new(
                    registry::TENANT_SUPERUSER,
                    uid.span,
                    format!("tenant user ID `{}` with UID 0 would be a z/OS UNIX superuser and pass every other tenant's mode 700", user.value),
                    "UID 0",
                )
                .help("give the tenant's user ID a UID of its own, not 0"),
            );
            continue;
        }
        match by_user.get(user.value.as_str()) {
            Some(first) if first.value != uid.value => {
                out.push(
                    Diagnostic::new(
                        registry::SHARED_UID,
                        uid.span,
                        format!(
                            "user ID `{}` is given UID {} here and UID {} before",
                            user.value, uid.value, first.value
                        ),
                        "another UID",
                    )
                    .related(first.span, "the first UID")
                    .help("a user ID has one OMVS segment: state the same uid everywhere"),
                );
                continue;
            }
            Some(_) => continue,
            None => {
                by_user.insert(&user.value, uid);
            }
        }
        if uid.value == 0 {
            continue;
        }
        if let Some(other) = by_uid.get(&uid.value) {
            out.push(
                Diagnostic::new(
                    registry::SHARED_UID,
                    uid.span,
                    format!(
                        "user IDs `{}` and `{}` would share UID {}",
                        other.value, user.value, uid.value
                    ),
                    format!("UID {} again", uid.value),
                )
                .related(other.span, format!("UID of `{}`", other.value))
                .help("give every user ID a UID of its own: to z/OS UNIX one UID is one owner"),
            );
        } else {
            by_uid.insert(uid.value, user);
        }
    }
}

/// A certificate of the site, for the date rules: what it is, the system it
/// is made on, its own `valid_from`, its validity and the authority that
/// signs it (none for an authority).
type SiteCert<'s> = (
    String,
    &'s ZosSystem,
    Option<&'s Sp<String>>,
    &'s Sp<u64>,
    Option<AuthorityId>,
);

/// Every certificate of a site.
fn certificates(site: &Site) -> Vec<SiteCert<'_>> {
    let mut out = Vec::new();
    for sys in &site.systems {
        for a in &sys.authorities {
            let what = format!("the certificate of authority `{}`", a.name.value);
            out.push((what, sys, a.valid_from.as_ref(), &a.valid_years, None));
        }
    }
    for sid in site.server_ids() {
        let s = site.server(sid);
        let c = &s.certificate;
        out.push((
            format!("the certificate of NFS server `{}`", s.name.value),
            site.system(sid.0),
            c.valid_from.as_ref(),
            &c.valid_years,
            Some(c.signed_by.value),
        ));
    }
    for t in &site.tenants {
        if let Some(nfs) = &t.nfs {
            let idn = &nfs.identity;
            out.push((
                format!("the client certificate of tenant `{}`", t.name.value),
                site.system(nfs.server.value.0),
                idn.valid_from.as_ref(),
                &idn.valid_years,
                Some(idn.signed_by.value),
            ));
        }
    }
    out
}

/// Dates of the certificates: well-formed `valid_from`s, and no certificate
/// valid longer than its signer (compared by NOTAFTER when both are dated,
/// since each certificate may start on its own day; by years otherwise).
fn validity(site: &Site, out: &mut Vec<Diagnostic>) {
    let own = site
        .systems
        .iter()
        .filter_map(|s| s.valid_from.as_ref())
        .chain(certificates(site).into_iter().filter_map(|c| c.2));
    for from in own {
        if crate::plan::jcl::add_years(&from.value, 0).is_none() {
            out.push(
                Diagnostic::new(
                    registry::BAD_FORMAT,
                    from.span,
                    format!("`{}` is not a date", from.value.escape_debug()),
                    "valid_from",
                )
                .help("write the first day of the certificates as YYYY-MM-DD, e.g. valid_from = \"2027-01-01\""),
            );
        }
    }
    for (what, sys, from, years, signer) in certificates(site) {
        let Some(signer) = signer else { continue };
        let ca = site.authority(signer);
        let ca_sys = site.system(signer.0);
        let dates = crate::plan::validity(sys, from, years.value).zip(crate::plan::validity(
            ca_sys,
            ca.valid_from.as_ref(),
            ca.valid_years.value,
        ));
        let outlives = match &dates {
            Some(((_, to), (_, ca_to))) => to > ca_to,
            None => years.value > ca.valid_years.value,
        };
        if !outlives {
            continue;
        }
        let (message, help) = match &dates {
            Some(((_, to), (_, ca_to))) => (
                format!("{what} ends on {to}, after its authority `{}` ({ca_to})", ca.name.value),
                format!("end it by {ca_to}: a shorter valid_years or an earlier valid_from, or renew the authority first"),
            ),
            None => (
                format!(
                    "{what} is valid for {} years, longer than its authority `{}` ({} years)",
                    years.value, ca.name.value, ca.valid_years.value
                ),
                format!(
                    "set valid_years to at most {}, or give the authority a longer validity",
                    ca.valid_years.value
                ),
            ),
        };
        out.push(
            Diagnostic::new(
                registry::CERT_OUTLIVES_SIGNER,
                years.span,
                message,
                "outlives its signer",
            )
            .related(ca.valid_years.span, "the authority's validity")
            .help(help),
        );
    }
}

/// Certificates whose NOTAFTER falls within `days` of `today` (flags, so
/// the output depends on the inputs alone): a warning each, at its validity.
pub fn due(site: &Site, today: &str, days: u32) -> Vec<Diagnostic> {
    let Some(limit) = crate::plan::jcl::add_days(today, days) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (what, sys, from, years, _) in certificates(site) {
        let Some((_, to)) = crate::plan::validity(sys, from, years.value) else {
            continue;
        };
        if to > limit {
            continue;
        }
        let span = from.map_or(years.span, |f| f.span);
        out.push(
            Diagnostic::new(
                registry::CERT_DUE,
                span,
                format!("{what} ends on {to}, within {days} days of {today}"),
                "renew it",
            )
            .help("renew it under a new label with its own valid_from (e.g. label = \"... 2\", valid_from = today), then `tenantc plan`: RACF's GENCERT and ROLLOVER replace it in its ring"),
        );
    }
    out
}

/// Servers with standby LPARs: a moving address, declared once, standby
/// systems other than home and each named once.
fn high_availability(site: &Site, out: &mut Vec<Diagnostic>) {
    // A server's own address belongs to it alone.
    let mut owners: BTreeMap<std::net::Ipv4Addr, &NfsServer> = BTreeMap::new();
    for sid in site.server_ids() {
        let s = site.server(sid);
        if !s.own_address {
            continue;
        }
        if let Some(other) = site
            .systems
            .iter()
            .enumerate()
            .find(|(i, sys)| *i != sid.0 .0 && sys.address.value == s.address.value)
            .map(|(_, sys)| sys)
        {
            out.push(
                Diagnostic::new(
                    registry::HA_SERVER,
                    s.address.span,
                    format!(
                        "NFS server `{}` claims {}, the address of system `{}`",
                        s.name.value, s.address.value, other.name.value
                    ),
                    "another system's address",
                )
                .related(
                    other.address.span,
                    format!("address of `{}`", other.name.value),
                )
                .help(
                    "proxies would reach the other LPAR; give the server a dynamic VIPA of its own",
                ),
            );
        }
        if let Some(first) = owners.insert(s.address.value, s) {
            out.push(
                Diagnostic::new(
                    registry::HA_SERVER,
                    s.address.span,
                    format!(
                        "NFS servers `{}` and `{}` both claim the address {}",
                        first.name.value, s.name.value, s.address.value
                    ),
                    "claimed again",
                )
                .related(
                    first.address.span,
                    format!("address of `{}`", first.name.value),
                )
                .help("give each server a dynamic VIPA of its own"),
            );
        }
    }
    for sid in site.server_ids() {
        let s = site.server(sid);
        if s.standby.is_empty() {
            continue;
        }
        let home = site.system(sid.0);
        let mut seen = vec![sid.0];
        for sb in &s.standby {
            if seen.contains(&sb.value) {
                out.push(
                    Diagnostic::new(
                        registry::LISTED_TWICE,
                        sb.span,
                        format!(
                            "`{}` is already one of the systems of NFS server `{}`",
                            site.system(sb.value).name.value,
                            s.name.value
                        ),
                        "named again",
                    )
                    .related(home.name.span, "its home system")
                    .help("name each standby LPAR once, and not the home system"),
                );
                continue;
            }
            seen.push(sb.value);
            let other = site.system(sb.value);
            if let Some(twin) = other
                .servers
                .iter()
                .find(|o| o.jobname.value == s.jobname.value)
            {
                out.push(
                    Diagnostic::new(
                        registry::HA_SERVER,
                        twin.jobname.span,
                        format!(
                            "NFS server `{}` is declared on `{}` and also runs there as a standby of `{}`",
                            twin.jobname.value, other.name.value, home.name.value
                        ),
                        "declared again",
                    )
                    .related(sb.span, "standby LPAR")
                    .help("declare the server once, on its home system, with `standby`"),
                );
            }
        }
        let shared_address = site
            .systems
            .iter()
            .any(|sys| sys.address.value == s.address.value);
        if !s.own_address || shared_address {
            out.push(
                Diagnostic::new(
                    registry::HA_SERVER,
                    s.address.span,
                    format!(
                        "NFS server `{}` may move to {} but proxies reach it at {}, a system's address",
                        s.name.value,
                        s.standby
                            .iter()
                            .map(|x| site.system(x.value).name.value.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        s.address.value
                    ),
                    "does not move with the server",
                )
                .related(s.standby[0].span, "standby LPARs")
                .help("give the server a dynamic VIPA of its own: `address = ...`"),
            );
        }
    }
}

/// E0333: an NFS server's standby LPARs are in its home's security domain.
/// The server runs there under the same user ID with the same key ring and
/// exports, which only one RACF database (and one catalog) can give it.
fn standby_domains(site: &Site, plan: &Plan, out: &mut Vec<Diagnostic>) {
    let d = &plan.domains;
    let named = |sid: SystemId| match d.name(d.of(sid)) {
        Some(n) => format!("security domain `{n}`"),
        None => "the site's default security domain".to_string(),
    };
    for sid in site.server_ids() {
        let s = site.server(sid);
        let home = site.system(sid.0);
        for sb in &s.standby {
            if d.of(sb.value) == d.of(sid.0) {
                continue;
            }
            let other = site.system(sb.value);
            let mut diag = Diagnostic::new(
                registry::STANDBY_DOMAIN,
                sb.span,
                format!(
                    "NFS server `{}` of system `{}` ({}) may restart on `{}`, which is in {}",
                    s.name.value,
                    home.name.value,
                    named(sid.0),
                    other.name.value,
                    named(sb.value)
                ),
                "standby LPAR in another security domain",
            );
            for sys in [home, other] {
                if let Some(n) = &sys.security_domain {
                    diag = diag.related(n.span, format!("domain of `{}`", sys.name.value));
                }
            }
            out.push(diag.help(
                "a server moves with its user ID, key ring and exports, which need one RACF database: \
                 put the standby LPAR in the home system's `security_domain`, or name another standby",
            ));
        }
    }
}

/// E0335: a tenant's client certificate names no host by a wildcard.
/// haproxy's `verifyhost` accepts wildcards in the names of the
/// certificate it checks (configuration manual, section 5.2:
/// https://docs.haproxy.org/2.8/configuration.html#5.2-verifyhost), so a
/// tenant's certificate with `CN = "*.np8"`, signed by the authority the
/// proxies trust, would pass as every server of that domain. Exact names
/// are the ledger's ([`crate::plan::claims::ClaimKind::HostName`]).
fn subject_names(site: &Site, out: &mut Vec<Diagnostic>) {
    for t in &site.tenants {
        let Some(nfs) = &t.nfs else { continue };
        for (k, v) in &nfs.identity.subject.0 {
            if k.eq_ignore_ascii_case("CN") && v.value.contains('*') {
                out.push(
                    Diagnostic::new(
                        registry::WILDCARD_SUBJECT,
                        v.span,
                        format!(
                            "the client certificate of tenant `{}` has the wildcard common name `{}`",
                            t.name.value, v.value
                        ),
                        "a wildcard name",
                    )
                    .help(
                        "haproxy's verifyhost matches wildcards, so the certificate could pass as an NFS server's; \
                         give it a name of its own, such as the tenant's user ID",
                    ),
                );
            }
        }
    }
}

/// Every node of every cluster with a tenant on a server is in its client
/// list, and every client address is such a node.
///
/// Reported on infrastructure (nodes, a server's clients) but depending on
/// the tenants: an editor slice whose infrastructure errors change is not
/// used ([`crate::lsp::slice`]).
fn dvipa_coverage(site: &Site, out: &mut Vec<Diagnostic>) {
    let mut budget = crate::diagnostics::Budget::default();
    for sid in site.server_ids() {
        let server = site.server(sid);
        // A node missing from `clients` and a client no node has: kept
        // apart until the end, where two that look alike (one address
        // mistyped on one side) become one error.
        let mut uncovered: Vec<(&Node, Diagnostic)> = Vec::new();
        let mut unknown: Vec<(&Sp<std::net::Ipv4Addr>, Diagnostic)> = Vec::new();
        let mut clusters: Vec<ClusterId> =
            site.tenants_of(sid).map(|(t, _)| t.cluster.value).collect();
        clusters.sort();
        clusters.dedup();
        let mut node_addrs = BTreeMap::new();
        for cid in &clusters {
            let cluster = site.cluster(*cid);
            for node in &cluster.nodes {
                node_addrs.entry(node.dvipa.value).or_insert(node);
                if !server.clients.iter().any(|c| c.value == node.dvipa.value) {
                    let Some((tenant, nfs)) =
                        site.tenants_of(sid).find(|(t, _)| t.cluster.value == *cid)
                    else {
                        continue;
                    };
                    let mut d = Diagnostic::new(
                        registry::DVIPA_NOT_COVERED,
                        node.dvipa.span,
                        format!(
                            "node `{}` of cluster `{}` ({}) is missing from the AT-TLS clients of NFS server `{}`",
                            node.name.value, cluster.name.value, node.dvipa.value, server.name.value
                        ),
                        "this node's DVIPA",
                    )
                    .related(server.clients.span, "the AT-TLS remote address group, without it")
                    .related(nfs.server.span, format!("tenant `{}` uses the server from this cluster", tenant.name.value))
                    .help(format!("add {} to `clients` of `{}`", node.dvipa.value, server.name.value));
                    // Appended after the last address of the written list.
                    if let Some(last) = server.clients.last() {
                        // A guess: the node may be in the wrong cluster
                        // instead, and the edit grants AT-TLS access.
                        d = d.fix(
                            crate::diagnostics::Applicability::Guess,
                            format!(
                                "add {} to `clients` of `{}`",
                                node.dvipa.value, server.name.value
                            ),
                            crate::source::Span {
                                start: last.span.end,
                                ..last.span
                            },
                            format!(", {}", node.dvipa.value),
                        );
                    }
                    uncovered.push((node, d));
                }
            }
        }
        if clusters.is_empty() {
            out.extend(uncovered.into_iter().map(|(_, d)| d));
            continue;
        }
        let mut seen = BTreeMap::new();
        for client in server.clients.iter() {
            if let Some(first) = seen.insert(client.value, client.span) {
                if !budget.admit(client.span, registry::DVIPA_DUPLICATE) {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        registry::DVIPA_DUPLICATE,
                        client.span,
                        format!("{} is listed twice in the AT-TLS clients", client.value),
                        "listed again",
                    )
                    .related(first, "first listed here")
                    .help("remove the duplicate"),
                );
                continue;
            }
            if !node_addrs.contains_key(&client.value) {
                // Counted past the budget, not built (red team N16: a
                // million clients no node has).
                if !budget.admit(client.span, registry::DVIPA_UNKNOWN) {
                    continue;
                }
                let names: Vec<String> = clusters
                    .iter()
                    .map(|c| format!("`{}`", site.cluster(*c).name.value))
                    .collect();
                let mut d = Diagnostic::new(
                    registry::DVIPA_UNKNOWN,
                    client.span,
                    format!(
                        "{} is allowed through the AT-TLS rule of `{}`, but no compute node has this DVIPA",
                        client.value, server.name.value
                    ),
                    "no node has this address",
                )
                .help(format!(
                    "remove it, or declare the node in cluster {} with `dvipa = {}`",
                    names.join(" or "),
                    client.value
                ));
                if let Some(c) = clusters.first() {
                    d = d.related(
                        site.cluster(*c).name.span,
                        "the cluster whose nodes use this server",
                    );
                }
                unknown.push((client, d));
            }
        }
        for (node, mut d) in uncovered {
            let twin = unknown
                .iter()
                .enumerate()
                .filter_map(|(i, (c, _))| {
                    one_octet_apart(node.dvipa.value, c.value).map(|dist| (dist, i))
                })
                .min();
            if let Some((_, i)) = twin {
                let (client, _) = unknown.remove(i);
                d = mistyped_dvipa(d, node, client, &server.name.value);
            }
            out.push(d);
        }
        out.extend(unknown.into_iter().map(|(_, d)| d));
    }
    out.extend(budget.summaries());
}

/// The node's DVIPA and an address of `clients` that no node has differ in
/// one octet: likely one address mistyped on one side. Some(how far apart
/// the two octets are as text), for the closest pair first.
fn one_octet_apart(a: std::net::Ipv4Addr, b: std::net::Ipv4Addr) -> Option<usize> {
    let (a, b) = (a.octets(), b.octets());
    let differing: Vec<usize> = (0..4).filter(|i| a[*i] != b[*i]).collect();
    let [i] = differing.as_slice() else {
        return None;
    };
    let (x, y) = (a[*i].to_string(), b[*i].to_string());
    crate::diagnostics::edit_distance(&x, &y)
}

/// One error for a DVIPA typo (E0401 at the node, the lookalike client
/// address related), instead of an E0401 and an E0402 that never mention
/// each other. Its fix, a guess, writes the client's address as the node's
/// DVIPA: it never grants AT-TLS access to a new address, where "add the
/// node's DVIPA to `clients`" would copy a mistyped address into the rule.
fn mistyped_dvipa(
    d: Diagnostic,
    node: &Node,
    client: &Sp<std::net::Ipv4Addr>,
    server: &str,
) -> Diagnostic {
    let mut connected = Diagnostic::new(
        registry::DVIPA_NOT_COVERED,
        node.dvipa.span,
        format!(
            "node `{}` has the DVIPA {}, which is not in the AT-TLS clients of NFS server `{}`; they list {}, which no node has: one of the two is likely mistyped",
            node.name.value, node.dvipa.value, server, client.value
        ),
        "this node's DVIPA",
    )
    .related(client.span, format!("{} in `clients`: no node has it", client.value));
    for r in d.related {
        connected = connected.related(r.span, r.message);
    }
    connected
        .help(format!(
            "if the node's DVIPA is {c}, correct it here; if it is {n}, replace {c} in `clients` of `{server}` with {n}",
            c = client.value,
            n = node.dvipa.value
        ))
        .fix(
            crate::diagnostics::Applicability::Guess,
            format!("write {} as the DVIPA of `{}`", client.value, node.name.value),
            node.dvipa.span,
            client.value.to_string(),
        )
}

/// DVIPAs are unique across all nodes of the site.
fn node_addresses(site: &Site, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<std::net::Ipv4Addr, &Node> = BTreeMap::new();
    for cluster in &site.clusters {
        for node in &cluster.nodes {
            if node.dvipa.value.is_unspecified() {
                continue;
            }
            if let Some(first) = seen.get(&node.dvipa.value) {
                out.push(
                    Diagnostic::new(
                        registry::DVIPA_DUPLICATE,
                        node.dvipa.span,
                        format!(
                            "nodes `{}` and `{}` share the DVIPA {}",
                            first.name.value, node.name.value, node.dvipa.value
                        ),
                        "used again here",
                    )
                    .related(first.dvipa.span, format!("`{}` has it", first.name.value))
                    .help("a DVIPA identifies one node; give each node its own"),
                );
            } else {
                seen.insert(node.dvipa.value, node);
            }
        }
    }
}

/// The proxy forwards exactly the server's range; servers on one system do
/// not overlap.
fn ports(site: &Site, out: &mut Vec<Diagnostic>) {
    for tenant in &site.tenants {
        let Some(nfs) = &tenant.nfs else { continue };
        let server = site.server(nfs.server.value);
        if nfs.proxy.ports.value != server.ports.value {
            out.push(
                Diagnostic::new(
                    registry::PORT_MISMATCH,
                    nfs.proxy.ports.span,
                    format!(
                        "the proxy of tenant `{}` forwards {}, but NFS server `{}` listens on {}",
                        tenant.name.value,
                        nfs.proxy.ports.value,
                        server.name.value,
                        server.ports.value
                    ),
                    format!("proxy ports {}", nfs.proxy.ports.value),
                )
                .related(
                    server.ports.span,
                    format!(
                        "the server's range {} (the TTLSRule LocalPortRange)",
                        server.ports.value
                    ),
                )
                .help(format!(
                    "remove `ports` from the proxy to inherit {}, or write `ports = {}`",
                    server.ports.value, server.ports.value
                ))
                // Safe: the proxy must forward exactly the server's range.
                .fix(
                    crate::diagnostics::Applicability::Safe,
                    format!(
                        "align the proxy's ports to the server's {}",
                        server.ports.value
                    ),
                    nfs.proxy.ports.span,
                    server.ports.value.to_string(),
                ),
            );
        }
    }
    // Every server that may run on a system: its own and standbys of others.
    for (si, sys) in site.systems.iter().enumerate() {
        let ids: Vec<ServerId> = site
            .server_ids()
            .filter(|id| site.server(*id).lpars(id.0).contains(&SystemId(si)))
            .collect();
        let running: Vec<&NfsServer> = ids.iter().map(|id| site.server(*id)).collect();
        for (i, a) in running.iter().enumerate() {
            for (j, b) in running.iter().enumerate().skip(i + 1) {
                // Servers of this system among themselves are checked by
                // job name elsewhere; a standby must not clash with anyone.
                let standby_here = ids[i].0 != SystemId(si) || ids[j].0 != SystemId(si);
                let same_job = a.jobname.value == b.jobname.value;
                let same_name = a.name.value == b.name.value;
                if standby_here && (same_job || same_name) {
                    out.push(
                        Diagnostic::new(
                            registry::HA_SERVER,
                            b.name.span,
                            format!(
                                "NFS servers `{}` and `{}` may both run on `{}` with the same {}",
                                a.name.value,
                                b.name.value,
                                sys.name.value,
                                if same_job {
                                    format!("job name {}", b.jobname.value)
                                } else {
                                    "policy statement names".to_string()
                                }
                            ),
                            "clashes on a shared LPAR",
                        )
                        .related(a.name.span, "the other server")
                        .help("servers that may run on one LPAR need distinct names and job names"),
                    );
                }
                if a.ports.value.overlaps(b.ports.value) {
                    out.push(
                        Diagnostic::new(
                            registry::PORT_COLLISION,
                            b.ports.span,
                            format!(
                                "NFS servers `{}` ({}) and `{}` ({}) on system `{}` share ports",
                                a.name.value,
                                a.ports.value,
                                b.name.value,
                                b.ports.value,
                                sys.name.value
                            ),
                            format!("`{}` listens here", b.name.value),
                        )
                        .related(a.ports.span, format!("`{}` listens here", a.name.value))
                        .help("give each server on one system its own port range"),
                    );
                }
            }
        }
    }
}

/// haproxy trusts the server certificate's signer; the client certificate is
/// signed by an authority on the server's ring; that authority lives on the
/// server's system.
fn certificate_chains(site: &Site, out: &mut Vec<Diagnostic>) {
    for sid in site.server_ids() {
        let server = site.server(sid);
        let signer = &server.certificate.signed_by;
        if signer.value.0 != sid.0 {
            let ca = site.authority(signer.value);
            out.push(
                Diagnostic::new(
                    registry::FOREIGN_AUTHORITY,
                    signer.span,
                    format!(
                        "the certificate of `{}` on system `{}` is signed by `{}` of system `{}`",
                        server.name.value,
                        site.system(sid.0).name.value,
                        ca.name.value,
                        site.system(signer.value.0).name.value
                    ),
                    "authority of another system",
                )
                .related(ca.name.span, "declared here")
                .help(format!(
                    "declare the authority in `zos {}`",
                    site.system(sid.0).name.value
                )),
            );
        }
    }
    for tenant in &site.tenants {
        let Some(nfs) = &tenant.nfs else { continue };
        let server = site.server(nfs.server.value);
        let signer = &server.certificate.signed_by;
        if nfs.proxy.trust.value != signer.value {
            let trusted = site.authority(nfs.proxy.trust.value);
            let real = site.authority(signer.value);
            out.push(
                Diagnostic::new(
                    registry::CA_MISMATCH,
                    nfs.proxy.trust.span,
                    format!(
                        "the proxy of tenant `{}` verifies the server with `{}`, but the certificate of `{}` is signed by `{}`",
                        tenant.name.value, trusted.name.value, server.name.value, real.name.value
                    ),
                    format!("haproxy's ca-file would be the export of `{}`", trusted.name.value),
                )
                .related(signer.span, format!("the server certificate is signed by `{}`", real.name.value))
                .help("remove `trust` to use the server certificate's signer"),
            );
        }
        if nfs.identity.signed_by.value != signer.value {
            let client_ca = site.authority(nfs.identity.signed_by.value);
            out.push(
                Diagnostic::new(
                    registry::CLIENT_CA_MISMATCH,
                    nfs.identity.signed_by.span,
                    format!(
                        "the client certificate of tenant `{}` is signed by `{}`, which is not on the key ring of `{}`",
                        tenant.name.value, client_ca.name.value, server.name.value
                    ),
                    "client certificate signer",
                )
                .related(signer.span, "the key ring holds this authority")
                .help("sign the client certificate with the authority that signed the server certificate"),
            );
        }
    }
}

/// A TLS profile's `ciphers`, each a cipher constant AT-TLS knows or a 2-
/// or 4-character code ([`CipherForm`]), each once, TLS 1.3 suites only
/// with TLS 1.3 on: otherwise the Policy Agent refuses the policy or the
/// suite can never be negotiated.
fn ciphers(tls: &crate::ir::Tls, out: &mut Vec<Diagnostic>) {
    use crate::ir::{CipherForm, TlsVersion, CIPHER_SUITES};
    let mut seen: std::collections::HashMap<&str, crate::source::Span> =
        std::collections::HashMap::new();
    for c in &tls.ciphers {
        let Some(form) = CipherForm::of(&c.value) else {
            let mut d = Diagnostic::new(
                registry::TLS_POLICY,
                c.span,
                if c.value.is_empty() {
                    "a cipher suite is empty".to_string()
                } else {
                    format!(
                        "`{}` is not a cipher suite AT-TLS takes",
                        c.value.escape_debug()
                    )
                },
                "unknown cipher suite",
            );
            d = match crate::diagnostics::suggest(&c.value, CIPHER_SUITES.iter().map(|(n, _)| *n)) {
                Some(near) => d.replace_with(c.span, &c.value, &format!("\"{near}\"")).help(format!("did you mean `{near}`?")),
                None => d.help("name an IANA TLS 1.2 or 1.3 suite, e.g. TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, or write its 4-character code, e.g. C030"),
            };
            out.push(d);
            continue;
        };
        // The suite's 4-character code: `2F`, `002F` and
        // TLS_RSA_WITH_AES_128_CBC_SHA are one suite.
        let code = match form {
            CipherForm::Name(code) => code.to_string(),
            CipherForm::Hex2 => format!("00{}", c.value.to_ascii_uppercase()),
            CipherForm::Hex4 => c.value.to_ascii_uppercase(),
        };
        // Only the suites of the table: a code System SSL knows may still
        // be a NULL (no encryption), export-grade, RC4, DES or 3DES suite
        // (System SSL's cipher suite definitions, and those it allows in FIPS
        // mode: https://www-01.ibm.com/docs/SSLTBW_2.1.0/com.ibm.zos.v2r1.gska100/gsk2aa00_SSL_TLS_protocol.htm;
        // codes from the IANA registry,
        // https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-4).
        let Some((name, _)) = CIPHER_SUITES.iter().find(|(_, k)| *k == code) else {
            out.push(
                Diagnostic::new(
                    registry::TLS_POLICY,
                    c.span,
                    format!(
                        "cipher suite code `{}` ({code}) is not one of the suites a TLS profile may use",
                        c.value.escape_debug()
                    ),
                    "not allowed",
                )
                .help("AES-GCM, AES-CBC and ChaCha20 suites with RSA, DHE or ECDHE, and the TLS 1.3 suites (1301, 1302, 1303) are allowed; NULL, export-grade, RC4, DES and 3DES suites never are. Name the suite, e.g. TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, or write its code, e.g. C030"),
            );
            continue;
        };
        if let Some(first) = seen.insert(name, c.span) {
            out.push(
                Diagnostic::new(
                    registry::LISTED_TWICE,
                    c.span,
                    format!("cipher suite `{}` is listed twice (it is {name})", c.value),
                    "listed again",
                )
                .related(first, "first listed here")
                .help("list each cipher suite once, in order of preference"),
            );
        }
        if form.tls13(&c.value) && !tls.versions.value.contains(&TlsVersion::Tls13) {
            out.push(
                Diagnostic::new(
                    registry::TLS_POLICY,
                    c.span,
                    format!(
                        "`{}` is a TLS 1.3 suite, but profile `{}` does not switch TLS 1.3 on",
                        c.value, tls.profile.value
                    ),
                    "TLS 1.3 suite",
                )
                .related(tls.versions.span, "the profile's versions")
                .help("add tls1_3 to the profile's versions, or list TLS 1.2 suites only"),
            );
        }
    }
}
fn racf_name(what: &str, v: &Sp<String>, out: &mut Vec<Diagnostic>) {
    if racf_name_ok(&v.value) {
        return;
    }
    let upper = v.value.to_ascii_uppercase();
    let help = if upper != v.value && racf_name_ok(&upper) {
        format!("RACF names are upper case: write `{upper}`")
    } else {
        "1-8 characters A-Z, 0-9, #, $, @, not starting with a digit".to_string()
    };
    out.push(
        Diagnostic::new(
            registry::RACF_NAME,
            v.span,
            format!("`{}` is not a valid {what}", v.value),
            "invalid name",
        )
        .help(help),
    );
}

fn label(what: &str, v: &Sp<String>, out: &mut Vec<Diagnostic>) {
    let n = v.value.chars().count();
    if !cert_label_ok(&v.value) {
        out.push(
            Diagnostic::new(
                registry::CERT_LABEL,
                v.span,
                format!(
                    "{what} `{}` cannot be a RACF certificate label",
                    v.value.escape_debug()
                ),
                format!("{n} characters"),
            )
            .help("labels are 1-32 printable ASCII characters, without `/*` (a TSO comment)"),
        );
    }
}

/// The values of a subject, whose operand (as the plan laid it out) is `dn`.
fn dn_values(subject: &Subject, dn: &Dn, out: &mut Vec<Diagnostic>) {
    if let Some((_, first)) = subject.0.first() {
        if !dn.fits {
            out.push(
                Diagnostic::new(registry::UNWRITABLE, first.span, "this subject cannot be laid out within JCL column 71", "subject DN")
                    .help("shorten the subject's values, or avoid runs of single-letter words separated by blanks"),
            );
        }
    }
    for (k, v) in &subject.0 {
        let n = v.value.chars().count();
        let max = if k == "C" { 2 } else { 64 };
        if n == 0
            || n > max
            || !v.value.is_ascii()
            || v.value.chars().any(|c| c.is_control())
            || v.value.contains("/*")
        {
            out.push(
                Diagnostic::new(
                    registry::UNWRITABLE,
                    v.span,
                    format!(
                        "subject {k} `{}` cannot be written into a RACDCERT command",
                        v.value.escape_debug()
                    ),
                    "invalid DN value",
                )
                .help(format!(
                    "{k} takes 1-{max} printable ASCII characters, without `/*` (a TSO comment)"
                )),
            );
        }
    }
}

fn dataset(v: &Sp<String>, out: &mut Vec<Diagnostic>) {
    if !dataset_ok(&v.value) {
        out.push(
            Diagnostic::new(registry::DATASET_NAME, v.span, format!("`{}` is not a valid data set name", v.value.escape_debug()), "invalid data set name")
                .help("qualifiers of 1-8 characters (A-Z # $ @ first, then also 0-9 and -), separated by periods, 44 characters at most"),
        );
    }
}

fn names(site: &Site, plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (sys, names) in site.systems.iter().zip(&plan.systems) {
        let p = &sys.jcl.job_prefix;
        if !(1..=5).contains(&p.value.len()) || !racf_name_ok(&p.value) {
            out.push(
                Diagnostic::new(registry::RACF_NAME, p.span, format!("job prefix `{}` is not 1-5 characters of a job name", p.value), "invalid job prefix")
                    .help("job names are the prefix plus 3 characters; use 1-5 of A-Z 0-9 # $ @, not starting with a digit"),
            );
        }
        for (what, v) in [
            ("job class", &sys.jcl.class),
            ("message class", &sys.jcl.msgclass),
        ] {
            if v.value.len() != 1
                || !v
                    .value
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                out.push(
                    Diagnostic::new(
                        registry::UNWRITABLE,
                        v.span,
                        format!("{what} `{}` is not one character A-Z or 0-9", v.value),
                        "invalid class",
                    )
                    .help("e.g. class = A"),
                );
            }
        }
        let account = &sys.jcl.account.value;
        let account_ok = (1..=35).contains(&account.len())
            && account
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ",.#$@-".contains(c));
        if !account_ok {
            out.push(
                Diagnostic::new(
                    registry::UNWRITABLE,
                    sys.jcl.account.span,
                    "accounting information holds characters a job card cannot carry",
                    "invalid account",
                )
                .help(
                    "use 1-35 of A-Z 0-9 , . # $ @ - (a blank would end the job card's operands)",
                ),
            );
        }
        // The stack is the TCP/IP procedure's job name; it is written into
        // the policy's header comment and names the PAGENT image.
        racf_name("TCP/IP stack name", &sys.stack, out);
        let notify = &sys.jcl.notify.value;
        if notify != "&SYSUID" && !racf_name_ok(notify) {
            racf_name("NOTIFY user ID", &sys.jcl.notify, out);
        }
        for (a, an) in sys.authorities.iter().zip(&names.authorities) {
            label("authority label", &a.label, out);
            dn_values(&a.subject, &an.dn, out);
            dataset(&a.export.dsn, out);
            key_size(&a.key, out);
        }
        for (s, sn) in sys.servers.iter().zip(&names.servers) {
            racf_name("job name", &s.jobname, out);
            racf_name("RACF user ID", &s.user, out);
            label("server certificate label", &s.certificate.label, out);
            dn_values(&s.certificate.subject, &sn.dn, out);
            key_size(&s.certificate.key, out);
            let ring = &s.keyring.value;
            if !keyring_ok(ring) {
                out.push(
                    Diagnostic::new(
                        registry::CERT_LABEL,
                        s.keyring.span,
                        format!("`{}` is not a valid key ring name", ring.escape_debug()),
                        "invalid key ring",
                    )
                    .help("1-237 characters of A-Z a-z 0-9 . _ - # $ @ (the name is written unquoted in RACDCERT and PAGENT)"),
                );
            }
            for derived in sn.statements.all() {
                if !pagent_name_ok(derived) {
                    out.push(
                        Diagnostic::new(
                            registry::PAGENT_NAME,
                            s.name.span,
                            format!("the policy statement name `{derived}` derived from `{}` is not a valid PAGENT name", s.name.value),
                            "server name",
                        )
                        .help("PAGENT names are 1-32 characters of A-Z a-z 0-9 _ . @ # $ -; shorten the server's name"),
                    );
                    break;
                }
            }
            ciphers(&s.tls, out);
        }
    }
    for (tenant, names) in site.tenants.iter().zip(&plan.tenants) {
        let (Some(nfs), Some(client)) = (&tenant.nfs, &names.client) else {
            continue;
        };
        racf_name("RACF user ID", &nfs.identity.user, out);
        if let (Some(pw), Some(p)) = (&nfs.identity.export.password, &client.password) {
            if p.len() > 64
                || !p.chars().all(|c| c.is_ascii_graphic())
                || p.contains('\'')
                || p.contains("/*")
            {
                out.push(
                    Diagnostic::new(registry::UNWRITABLE, pw.span, "this secret reference cannot be written as a placeholder into the RACF job", "password reference")
                        .help("use env(\"NAME\"), or a file path of printable ASCII without quotes or `/*`, at most 54 characters"),
                );
            }
        }
        label("client certificate label", &nfs.identity.label, out);
        dn_values(&nfs.identity.subject, &client.dn, out);
        dataset(&nfs.identity.export.dsn, out);
        key_size(&nfs.identity.key, out);
    }
}

fn key_size(key: &Key, out: &mut Vec<Diagnostic>) {
    let min = match key.alg {
        KeyAlg::Rsa => 2048,
        KeyAlg::Nistecc => 256,
    };
    if key.bits.value < min {
        out.push(
            Diagnostic::new(
                registry::KEY_SIZE,
                key.bits.span,
                format!("a {}-bit key is too weak", key.bits.value),
                "key size",
            )
            .help(format!("use at least {min} bits")),
        );
    }
}

fn tls_and_nfs(site: &Site, out: &mut Vec<Diagnostic>) {
    for sid in site.server_ids() {
        let s = site.server(sid);
        let tls = &s.tls;
        if tls.handshake_role.value != HandshakeRole::ServerWithClientAuth {
            out.push(
                Diagnostic::new(
                    registry::TLS_POLICY,
                    tls.handshake_role.span,
                    "the NFS server must authenticate clients (ServerWithClientAuth)",
                    "handshake role",
                )
                .related(
                    s.name.span,
                    format!("used by NFS server `{}`", s.name.value),
                )
                .help("set `handshake_role = server_with_client_auth`"),
            );
        }
        if tls.client_auth.value != ClientAuth::SafCheck {
            out.push(
                Diagnostic::new(registry::TLS_POLICY, tls.client_auth.span, "the NFS server maps client certificates to RACF user IDs: ClientAuthType must be SAFCheck", "client auth type")
                    .related(s.name.span, format!("used by NFS server `{}`", s.name.value))
                    .help("set `client_auth = saf_check`"),
            );
        }
        let weak: Vec<&str> = tls
            .versions
            .iter()
            .filter(|v| **v < TlsVersion::Tls12)
            .map(|v| v.pagent())
            .collect();
        if !weak.is_empty() || tls.versions.is_empty() {
            out.push(
                Diagnostic::new(
                    registry::TLS_POLICY,
                    tls.versions.span,
                    if weak.is_empty() {
                        "no TLS version is switched on".to_string()
                    } else {
                        format!("{} must be off", weak.join(", "))
                    },
                    "protocol versions",
                )
                .related(
                    s.name.span,
                    format!("used by NFS server `{}`", s.name.value),
                )
                .help("switch on TLS 1.2 and/or 1.3 only: `versions = [tls1_2]`"),
            );
        }
        if tls.handshake_timeout_s.value > 600 {
            out.push(
                Diagnostic::new(
                    registry::DURATION_RANGE,
                    tls.handshake_timeout_s.span,
                    "HandshakeTimeout is at most 600 seconds",
                    "too long",
                )
                .help("e.g. handshake_timeout = 60s"),
            );
        }
        if s.security.value != NfsSecurity::Safexp {
            out.push(
                Diagnostic::new(
                    registry::NFS_SECURITY,
                    s.security.span,
                    "AT-TLS clients of the z/OS NFS server need security `safexp`",
                    "security attribute",
                )
                .help("set `security = safexp`"),
            );
        }
        if !hostname_ok(&s.certificate.hostname.value) {
            out.push(
                Diagnostic::new(
                    registry::BAD_HOST,
                    s.certificate.hostname.span,
                    format!(
                        "`{}` is not a DNS name for the certificate's ALTNAME and haproxy's verifyhost",
                        s.certificate.hostname.value.escape_debug()
                    ),
                    "server host name",
                )
                .help("labels of 1-63 characters a-z, 0-9 and `-` (not first or last), separated by `.`, 253 characters at most, e.g. hostname = \"mvsnfs8.np8.example.com\""),
            );
        }
        if s.versions.value != [NfsVersion::V4] {
            out.push(
                Diagnostic::new(
                    registry::NFS_SECURITY,
                    s.versions.span,
                    "the AT-TLS aware z/OS NFS server supports NFSv4 only",
                    "NFS versions",
                )
                .help("set `versions = [nfs4]`"),
            );
        }
    }
}

/// NFS servers on one system have their own job name (an AT-TLS rule
/// selects its server by it). The RACF identities, data sets and generated
/// job names that two holders may not share are the ledger's
/// ([`super::claims`]).
fn server_jobnames(site: &Site, out: &mut Vec<Diagnostic>) {
    for sys in &site.systems {
        let mut jobs: BTreeMap<&str, &NfsServer> = BTreeMap::new();
        for s in &sys.servers {
            if let Some(first) = jobs.insert(&s.jobname.value, s) {
                out.push(
                    Diagnostic::new(
                        registry::OBJECT_COLLISION,
                        s.jobname.span,
                        format!(
                            "NFS servers `{}` and `{}` on system `{}` both have job name `{}`",
                            first.name.value, s.name.value, sys.name.value, s.jobname.value
                        ),
                        "same job name",
                    )
                    .related(
                        first.jobname.span,
                        format!("job name of `{}`", first.name.value),
                    )
                    .help(
                        "an AT-TLS rule selects its server by job name; give each server its own",
                    ),
                );
            }
        }
    }
}
