//! The one check of what two holders may not share: every conflict the
//! ledger's pass finds ([`crate::plan::claims::conflicts`]) becomes one
//! diagnostic, with the kind's code and help, the later claim as the primary
//! span and the first (or, for export subtrees, the enclosing) claim as the
//! related one, both holders named by [`Holder::label`].

use crate::diagnostics::Diagnostic;
use crate::ir::*;
use crate::plan::claims::{conflicts, Claim, ClaimKind, Holder, Part, Scope};

/// Diagnostics for every conflict among `claims` of the kinds `kinds`
/// selects.
pub fn diagnostics(
    site: &Site,
    claims: &[Claim],
    kinds: &dyn Fn(ClaimKind) -> bool,
) -> Vec<Diagnostic> {
    conflicts(claims, kinds)
        .into_iter()
        .map(|c| render(site, &claims[c.first], &claims[c.later]))
        .collect()
}

/// Every conflict of the checks' kinds (secret sources are judged before
/// the checks, with the secrets).
pub fn run(site: &Site, claims: &[Claim], out: &mut Vec<Diagnostic>) {
    out.extend(diagnostics(site, claims, &|k| !k.early()));
}

/// "tenants `a` and `b`", or each holder's label.
fn both(site: &Site, first: Holder, later: Holder) -> String {
    match (first.tenant(), later.tenant()) {
        (Some(a), Some(b)) => format!(
            "tenants `{}` and `{}`",
            site.tenant(a).name.value,
            site.tenant(b).name.value
        ),
        _ => format!(
            "{} and {}",
            first.label(site, false),
            later.label(site, false)
        ),
    }
}

/// Where two RACF claims of one security domain are.
fn on_systems(site: &Site, first: &Claim, later: &Claim) -> String {
    let sys = |c: &Claim| c.holder.system(site);
    match (sys(first), sys(later)) {
        (Some(a), Some(b)) if a != b => format!(
            "on systems `{}` and `{}`, which share one RACF database",
            site.system(a).name.value,
            site.system(b).name.value
        ),
        (_, Some(s)) | (Some(s), None) => format!("on system `{}`", site.system(s).name.value),
        (None, None) => String::new(),
    }
}

fn render(site: &Site, first: &Claim, later: &Claim) -> Diagnostic {
    use ClaimKind as K;
    let info = later.kind.info();
    let (f, l) = (first.holder, later.holder);
    let (fl, ll) = (f.label(site, false), l.label(site, false));
    let x = later.shown();
    let cluster = |s: Scope| match s {
        Scope::Cluster(c) => site.cluster(c).name.value.clone(),
        _ => String::new(),
    };
    let array = |s: Scope| match s {
        Scope::Array(a) => site.array(a).name.value.clone(),
        _ => String::new(),
    };
    let new = |message: String, label: String| {
        Diagnostic::new(info.code, later.span, message, label).help(info.help)
    };
    match later.kind {
        K::TenantName => new(
            format!("two tenants are named `{x}`"),
            "declared again here".into(),
        )
        .related(first.span, "first declared here"),
        K::Namespace => new(
            format!("namespace `{x}` is used by {ll} and by {fl}"),
            "used again here".into(),
        )
        .related(first.span, format!("used by {fl}")),
        K::PersistentVolume => new(
            format!("{} both produce PersistentVolume `{x}`", both(site, f, l)),
            "produces it again".into(),
        )
        .related(first.span, format!("produced by {fl}")),
        K::StorageClass => {
            let message = if f.owner() == l.owner() {
                format!("{ll} defines StorageClass `{x}` twice")
            } else {
                format!("{} both define StorageClass `{x}`", both(site, f, l))
            };
            new(message, "defined again".into()).related(first.span, format!("defined by {fl}"))
        }
        K::ClusterIp => new(
            format!(
                "{} both claim ClusterIP {x} on cluster `{}`",
                both(site, f, l),
                cluster(later.scope)
            ),
            "claimed again here".into(),
        )
        .related(first.span, format!("claimed by {fl}")),
        K::Job => {
            let Scope::System(s) = later.scope else {
                unreachable!("job names are per system")
            };
            let sys = site.system(s);
            new(
                format!(
                    "the RACF jobs of {fl} and {ll} on system `{}` would both be named `{x}`",
                    sys.name.value
                ),
                format!("job `{x}` again"),
            )
            .related(first.span, format!("job `{x}` of {fl}"))
            .help(format!(
                "job names are `{}` plus a hash of the name; rename one of the two, or shorten `jcl.job_prefix` to leave more characters to the hash",
                sys.jcl.job_prefix.value
            ))
        }
        K::RacfUser if matches!(f, Holder::System(_)) => new(
            format!(
                "{ll} uses RACF user ID `{x}`, which {fl} gives Policy Agent or the stack's early users (`pagent_user`, `initstack`) {}",
                on_systems(site, first, later)
            ),
            "a user ID with another role".into(),
        )
        .related(first.span, format!("a role on {fl}"))
        .help("a tenant's client certificate is never issued to a user the site gives another role: give the tenant a RACF user ID of its own"),
        K::RacfUser => new(
            format!(
                "{} both use RACF user ID `{x}` {}",
                both(site, f, l),
                on_systems(site, first, later)
            ),
            "used again here".into(),
        )
        .related(first.span, format!("used by {fl}")),
        K::Certificate => {
            let (owner, label) = x.split_once('/').unwrap_or(("", x));
            new(
                format!(
                    "{} both add a certificate labelled `{label}` to RACF ID `{owner}` {}",
                    both(site, f, l),
                    on_systems(site, first, later)
                ),
                "labelled again here".into(),
            )
            .related(first.span, format!("certificate of {fl}"))
        }
        K::DataSet => new(
            format!("{ll} and {fl} both export to `{x}`"),
            "exported again here".into(),
        )
        .related(first.span, format!("{fl} exports here")),
        K::ExportSubtree => export_overlap(site, first, later),
        K::RealmSlot => {
            let (Some(ft), Some(lt)) = (f.tenant(), l.tenant()) else {
                unreachable!("realms are tenants'")
            };
            let (ft, lt) = (site.tenant(ft), site.tenant(lt));
            let (Some(fp), Some(lp)) = (&ft.pure, &lt.pure) else {
                unreachable!("a realm is of a Pure tenant")
            };
            let c = cluster(later.scope);
            let message = if fp.realm.value.eq_ignore_ascii_case(&lp.realm.value) {
                format!(
                    "{} both claim realm `{}` of FlashArray `{x}` on cluster `{c}`",
                    both(site, f, l),
                    lp.realm.value
                )
            } else {
                format!(
                    "{} would need two realms (`{}`, `{}`) of FlashArray `{x}` on cluster `{c}`",
                    both(site, f, l),
                    fp.realm.value,
                    lp.realm.value
                )
            };
            new(message, "claimed again here".into())
                .related(first.span, format!("realm of {fl}"))
                .related(lt.cluster.span, format!("{ll} runs on cluster `{c}`"))
                .related(ft.cluster.span, format!("so does {fl}"))
        }
        K::Realm => new(
            format!(
                "{} share realm `{x}` of FlashArray `{}`",
                both(site, f, l),
                array(later.scope)
            ),
            "shared here".into(),
        )
        .related(first.span, format!("realm of {fl}")),
        K::AccessPolicy | K::ArrayUser => {
            let what = if later.kind == K::AccessPolicy {
                "policy"
            } else {
                "user"
            };
            new(
                format!(
                    "{} share the {what} `{x}` of FlashArray `{}`",
                    both(site, f, l),
                    array(later.scope)
                ),
                "shared here".into(),
            )
            .related(first.span, format!("{what} of {fl}"))
        }
        K::TokenSource => new(
            format!(
                "{} take their API token from the same {x}",
                both(site, f, l)
            ),
            "the same token source".into(),
        )
        .related(first.span, format!("token of {fl}")),
        K::Pod => {
            let arr = |h: Holder| match h {
                Holder::Tenant(_, Part::Pod(a)) => site.array(a).name.value.clone(),
                _ => String::new(),
            };
            new(
                format!(
                    "pod `{x}` of {ll} (FlashArray `{}`) has the name of a pod of {fl} (FlashArray `{}`) on cluster `{}`",
                    arr(l),
                    arr(f),
                    cluster(later.scope)
                ),
                "the same pod name".into(),
            )
            .related(first.span, format!("pod of {fl}"))
        }
        K::HostName => {
            let what = |c: &Claim| {
                if c.is_subject() {
                    "the certificate common name"
                } else if c.key().parse::<std::net::Ipv4Addr>().is_ok() {
                    "the address"
                } else {
                    "the host name"
                }
            };
            let name = later.key();
            let (fl, ll) = (f.label(site, true), l.label(site, true));
            new(
                format!(
                    "{} of {ll} is `{}`, {} of {fl}",
                    what(later),
                    name.to_ascii_lowercase(),
                    what(first)
                ),
                "claimed again here".into(),
            )
            .related(first.span, format!("{} of {fl}", what(first)))
        }
        K::SecretSource => {
            let (fl, ll) = (f.label(site, true), l.label(site, true));
            new(
                format!("{x} of {ll} is already the secret of {fl}"),
                format!("used by {ll}"),
            )
            .related(first.span, format!("belongs to {fl}"))
        }
    }
}

/// E0701: `later`'s export is `first`'s or lies inside it.
fn export_overlap(site: &Site, outer: &Claim, inner: &Claim) -> Diagnostic {
    let volume = |c: &Claim| -> (&Tenant, &Volume, ServerId) {
        let Holder::Tenant(t, Part::Volume(v)) = c.holder else {
            unreachable!("exports are tenants' volumes'")
        };
        let t = site.tenant(t);
        let nfs = t.nfs.as_ref().expect("a volume is of an NFS tenant");
        (t, &nfs.volumes[v], nfs.server.value)
    };
    let ((ot, ov, os), (it, iv, is)) = (volume(outer), volume(inner));
    let server = |sid: ServerId| {
        format!(
            "{}.{}",
            site.system(sid.0).name.value,
            site.server(sid).name.value
        )
    };
    let how = if ov.export.value == iv.export.value {
        "the same directory".to_string()
    } else if crate::rules::mvs_qualifiers(&iv.export.value).is_some()
        && crate::rules::mvs_qualifiers(&ov.export.value).is_some()
    {
        format!(
            "`{}` and `{}`, one MVS data set or one a qualifier prefix of the other,",
            iv.export.value, ov.export.value
        )
    } else {
        format!("`{}` inside `{}`", iv.export.value, ov.export.value)
    };
    let where_ = if os == is {
        format!("on NFS server `{}`", server(is))
    } else {
        format!(
            "on NFS servers `{}` and `{}`, which can run on one LPAR",
            server(os),
            server(is)
        )
    };
    let label = |h: Holder| format!("export of {}", h.label(site, false));
    Diagnostic::new(
        inner.kind.info().code,
        iv.export.span,
        format!(
            "volume `{}` of tenant `{}` and volume `{}` of tenant `{}` export {how} {where_}",
            iv.name.value, it.name.value, ov.name.value, ot.name.value
        ),
        label(inner.holder),
    )
    .related(ov.export.span, label(outer.holder))
    .help(inner.kind.info().help)
}
