//! The ledger of claims: everything a tenant, an NFS server, an authority,
//! a registry or Portworx holds that nobody else may hold (a namespace, a
//! RACF user ID in a security domain, a data set, an export subtree, a
//! ClusterIP, a realm, a pod, a secret source by file identity, ...).
//!
//! Built once, by [`crate::plan::build`] ([`of_site`]; secret sources by
//! `resolve::secrets::claims`, which needs the site root), and read by every
//! stage that relates two holders:
//!
//! - the checks: `check::claims` reports every [`conflicts`] pair;
//! - the isolation report (`lower/isolation.rs`) lists the same pairs as
//!   `shared`, so it cannot disagree with the checks;
//! - the editor's slices (`lsp/slice.rs`) and the sub-site contract
//!   (`tests/reach.rs`) take a tenant's partners from [`Claim::keys`].
//!
//! **Adding a [`ClaimKind`] is the only way to relate two tenants.** Its row
//! in [`ClaimKind::info`] says how two claims compare (the [`Norm`] of their
//! text, the [`Relation`], which pairs of holders may share, [`Sharing`]),
//! and `check::claims` how a conflict reads; nothing else needs to know.
//!
//! **Security domains.** RACF user IDs, certificate owners and labels and
//! data sets are compared per security domain: the z/OS systems that share
//! one RACF database (and so one catalog). A system states its domain with
//! `security_domain = NAME`; every system naming none is in the site's
//! default domain, so a site that says nothing is one domain and two tenants
//! on two systems may not have one user ID. That is the safe default
//! (red-team N11): it refuses sites that separate RACF databases without
//! saying so, never accepts one that shares them. [`Domains::of_site`] is
//! the one place that reads the field; `check::zos` refuses an NFS server
//! whose standby LPAR is in another domain than its home (E0333), since the
//! server's user ID, key ring and exports must be the same on both.

use crate::ir::*;
use crate::source::Span;

/// A security domain: systems sharing one RACF database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainId(pub usize);

/// The security domain of each system.
#[derive(Debug, Clone, Default)]
pub struct Domains {
    /// By `SystemId`.
    of: Vec<DomainId>,
    /// By `DomainId`: the name as first written, `None` for the default
    /// domain (`DomainId(0)`, the systems naming none).
    names: Vec<Option<String>>,
}

impl Domains {
    /// The systems' `security_domain` fields: names compared without case
    /// (RACF and sysplex names are upper case), the default domain first,
    /// then each named one in the order it is first written.
    pub fn of_site(site: &Site) -> Domains {
        let mut names: Vec<Option<String>> = vec![None];
        let of = (site.systems.iter())
            .map(|s| match &s.security_domain {
                None => DomainId(0),
                Some(n) => {
                    let at = names.iter().position(|x| {
                        x.as_deref()
                            .is_some_and(|x| x.eq_ignore_ascii_case(&n.value))
                    });
                    DomainId(at.unwrap_or_else(|| {
                        names.push(Some(n.value.clone()));
                        names.len() - 1
                    }))
                }
            })
            .collect();
        Domains { of, names }
    }

    pub fn of(&self, s: SystemId) -> DomainId {
        self.of.get(s.0).copied().unwrap_or(DomainId(0))
    }

    /// A domain's name as written; `None` for the site's default domain.
    pub fn name(&self, d: DomainId) -> Option<&str> {
        self.names.get(d.0).and_then(|n| n.as_deref())
    }

    /// The domains that hold at least one system, default first.
    pub fn all(&self) -> impl Iterator<Item = DomainId> + '_ {
        (0..self.names.len())
            .map(DomainId)
            .filter(|d| self.of.contains(d))
    }

    /// The systems of a domain, in site order.
    pub fn systems(&self, d: DomainId) -> impl Iterator<Item = SystemId> + '_ {
        (self.of.iter().enumerate())
            .filter(move |(_, x)| **x == d)
            .map(|(i, _)| SystemId(i))
    }
}

/// Where two claims of a kind are compared: claims in different scopes never
/// meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Site,
    /// A security domain ([`Domains`]).
    Domain(DomainId),
    /// One z/OS system's JES (job names).
    System(SystemId),
    /// One LPAR's file systems: every server that can run on it sees them.
    Lpar(SystemId),
    Cluster(ClusterId),
    Array(ArrayId),
}

/// Which part of a tenant holds a claim, where it says more than "the
/// tenant".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Whole,
    /// Its namespace of workloads.
    Workloads,
    /// Its NFS proxy.
    Proxy,
    /// Its NFS volume (index into `nfs.volumes`).
    Volume(usize),
    /// A pod of its realm on this array.
    Pod(ArrayId),
}

/// Who holds a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Holder {
    Tenant(TenantId, Part),
    Authority(AuthorityId),
    Server(ServerId),
    Registry(RegistryId),
    Portworx(ClusterId),
    /// A z/OS system's own jobs (prerequisites, user IDs).
    System(SystemId),
}

impl Holder {
    /// The holder itself, whatever part of it holds the claim.
    pub fn owner(self) -> Holder {
        match self {
            Holder::Tenant(t, _) => Holder::Tenant(t, Part::Whole),
            other => other,
        }
    }

    pub fn tenant(self) -> Option<TenantId> {
        match self {
            Holder::Tenant(t, _) => Some(t),
            _ => None,
        }
    }

    /// The z/OS system the holder's RACF work runs on, if any.
    pub fn system(self, site: &Site) -> Option<SystemId> {
        match self {
            Holder::Tenant(t, _) => Some(site.tenant(t).nfs.as_ref()?.server.value.0),
            Holder::Authority(a) => Some(a.0),
            Holder::Server(s) => Some(s.0),
            Holder::System(s) => Some(s),
            Holder::Registry(_) | Holder::Portworx(_) => None,
        }
    }

    /// How every message names the holder: `tenant `a``, `NFS server `s``;
    /// with `place`, where it is declared (for a claim compared site-wide).
    pub fn label(self, site: &Site, place: bool) -> String {
        let base = match self {
            Holder::Tenant(t, _) => format!("tenant `{}`", site.tenant(t).name.value),
            Holder::Authority(a) => format!("authority `{}`", site.authority(a).name.value),
            Holder::Server(s) => format!("NFS server `{}`", site.server(s).name.value),
            Holder::Registry(r) => format!("registry `{}`", site.registry(r).name.value),
            Holder::Portworx(_) => "Portworx".to_string(),
            Holder::System(s) => format!("system `{}`", site.system(s).name.value),
        };
        let at = match self {
            Holder::Authority(a) if place => Some(("system", &site.system(a.0).name.value)),
            Holder::Server(s) if place => Some(("system", &site.system(s.0).name.value)),
            Holder::Registry(r) if place => Some(("cluster", &site.cluster(r.0).name.value)),
            Holder::Portworx(c) => Some(("cluster", &site.cluster(c).name.value)),
            _ => None,
        };
        let base = match at {
            Some((what, name)) if matches!(self, Holder::Portworx(_)) => {
                format!("{base} on {what} `{name}`")
            }
            Some((what, name)) => format!("{base} of {what} `{name}`"),
            None => base,
        };
        match self {
            Holder::Tenant(_, Part::Workloads) => format!("the workloads of {base}"),
            Holder::Tenant(_, Part::Proxy) => format!("the NFS proxy of {base}"),
            _ => base,
        }
    }
}

/// How a claim's text is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// As written.
    Exact,
    /// Without case (Purity names; RACF and MVS names, which RACF and the
    /// catalog fold to upper case).
    Fold,
}

/// When two claims of one kind and scope meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Their normalised texts are equal.
    Equal,
    /// Export subtrees ([`export_views`]): one path equals or lies under the
    /// other, on `/` segments; and for MVS data-set exports, without case,
    /// one is the other or a qualifier prefix of it (red-team N10).
    Subtree,
}

/// Which two holders of one key conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Any two claims, even of one holder (a tenant defining one
    /// StorageClass twice).
    Never,
    /// Claims of two different holders (one holder's own duplicates are
    /// another check's).
    OwnOnly,
    /// Two different holders unless both are the site's infrastructure
    /// (registries and authorities may share the site's credentials; two
    /// NFS servers may run under one user ID).
    SiteMayShare,
    /// Pods of realms of two different arrays (Portworx could create a
    /// volume in either).
    OtherArray,
    /// Names a proxy trusts ([`ClaimKind::HostName`]): claims of two
    /// different holders, unless both are certificate subjects (two
    /// tenants' common names) or both addresses (judged by E0419).
    Names,
}

/// Every kind of claim, in the order the pass judges them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClaimKind {
    TenantName,
    Namespace,
    PersistentVolume,
    StorageClass,
    ClusterIp,
    Job,
    RacfUser,
    Certificate,
    DataSet,
    ExportSubtree,
    RealmSlot,
    Realm,
    AccessPolicy,
    ArrayUser,
    TokenSource,
    Pod,
    SecretSource,
    /// A name a proxy trusts: an NFS server's host name (its certificate's
    /// DNS alternative name, which `verifyhost` checks), its own address, its
    /// system's address, and every certificate's subject common name
    /// (`verifyhost` checks it after the alternative names).
    HostName,
}

/// A [`ClaimKind`]'s row of the table.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    /// The diagnostic code of a conflict.
    pub code: crate::diagnostics::registry::Code,
    /// What is held, as messages and the isolation report name it.
    pub noun: &'static str,
    /// The diagnostic's help line.
    pub help: &'static str,
    pub norm: Norm,
    pub relation: Relation,
    pub sharing: Sharing,
    /// In words, the scope its claims are compared in.
    pub scope: &'static str,
}

impl ClaimKind {
    pub const ALL: [ClaimKind; 18] = [
        ClaimKind::TenantName,
        ClaimKind::Namespace,
        ClaimKind::PersistentVolume,
        ClaimKind::StorageClass,
        ClaimKind::ClusterIp,
        ClaimKind::Job,
        ClaimKind::RacfUser,
        ClaimKind::Certificate,
        ClaimKind::DataSet,
        ClaimKind::ExportSubtree,
        ClaimKind::RealmSlot,
        ClaimKind::Realm,
        ClaimKind::AccessPolicy,
        ClaimKind::ArrayUser,
        ClaimKind::TokenSource,
        ClaimKind::Pod,
        ClaimKind::SecretSource,
        ClaimKind::HostName,
    ];

    pub fn info(self) -> KindInfo {
        use crate::diagnostics::registry;
        use ClaimKind as K;
        use Norm::*;
        use Relation::*;
        use Sharing::*;
        let row = |code, noun, help, norm, relation, sharing, scope| KindInfo {
            code,
            noun,
            help,
            norm,
            relation,
            sharing,
            scope,
        };
        match self {
            K::TenantName => row(registry::DUPLICATE, "tenant name",
                "tenant names are unique across the whole site, imported modules included",
                Exact, Equal, Never, "the site"),
            K::Namespace => row(registry::SHARED_NAMESPACE, "namespace",
                "give each tenant, and each tenant's proxy, a namespace of its own",
                Exact, Equal, Never, "a cluster"),
            K::PersistentVolume => row(registry::OBJECT_COLLISION, "PersistentVolume",
                "PersistentVolumes are named <tenant>-<volume>; rename one volume",
                Exact, Equal, OwnOnly, "a cluster"),
            K::StorageClass => row(registry::OBJECT_COLLISION, "StorageClass",
                "StorageClasses are cluster-wide; give each its own name",
                Exact, Equal, Never, "a cluster"),
            K::ClusterIp => row(registry::OBJECT_COLLISION, "ClusterIP",
                "each proxy Service needs its own ClusterIP",
                Exact, Equal, Never, "a cluster"),
            K::Job => row(registry::JOB_NAME_COLLISION, "RACF job name",
                "job names are the system's `jcl.job_prefix` plus a hash of the name; rename one of the two, or shorten `jcl.job_prefix` to leave more characters to the hash",
                Exact, Equal, Never, "a z/OS system"),
            K::RacfUser => row(registry::SHARED_RACF, "RACF user ID",
                "each tenant needs its own RACF user ID, or one tenant could read the other's files",
                Fold, Equal, SiteMayShare, "a security domain"),
            K::Certificate => row(registry::SHARED_RACF, "certificate (owner and label)",
                "RACDCERT refuses a second certificate of one owner under one label; give each its own label",
                Exact, Equal, Never, "a security domain"),
            K::DataSet => row(registry::SHARED_RACF, "export data set",
                "give each export its own data set",
                Fold, Equal, Never, "a security domain"),
            K::ExportSubtree => row(registry::EXPORT_OVERLAP, "export subtree",
                "give each tenant a subtree of its own: no export may equal, hold or lie inside another tenant's",
                Exact, Subtree, OwnOnly, "an LPAR"),
            K::RealmSlot => row(registry::REALM_PER_CLUSTER, "realm of a FlashArray on a cluster",
                "Portworx supports one realm per FlashArray per cluster: move one tenant to another cluster or another array",
                Exact, Equal, OwnOnly, "a cluster"),
            K::Realm => row(registry::SHARED_REALM, "realm",
                "give each tenant a realm of its own; a realm is its isolation boundary on the array",
                Fold, Equal, OwnOnly, "a FlashArray"),
            K::AccessPolicy => row(registry::SHARED_REALM, "access policy",
                "give each tenant its own policy; it carries the tenant's rights on the array",
                Fold, Equal, OwnOnly, "a FlashArray"),
            K::ArrayUser => row(registry::SHARED_REALM, "array user",
                "give each tenant its own user; it carries the tenant's rights on the array",
                Fold, Equal, OwnOnly, "a FlashArray"),
            K::TokenSource => row(registry::SHARED_REALM, "API token source",
                "each tenant's user has a token of its own; name a separate env() or file()",
                Exact, Equal, OwnOnly, "the site"),
            K::Pod => row(registry::AMBIGUOUS_ARRAY, "pod",
                "Portworx may create a volume in either pod; give pods unique names on a cluster",
                Fold, Equal, OtherArray, "a cluster"),
            K::SecretSource => row(registry::SHARED_SECRET, "secret source",
                "a tenant's secret source is the tenant's alone (registries and authorities may share the site's): give each its own env(\"...\") or file(\"...\")",
                Exact, Equal, SiteMayShare, "the site (a file by its identity: device and inode)"),
            // haproxy's verifyhost: the certificate's DNS alternative names,
            // then its subject CN, wildcards allowed; names without case:
            // https://docs.haproxy.org/2.8/configuration.html#5.2-verifyhost
            K::HostName => row(registry::HOST_NAME_CLAIMED, "name a proxy trusts",
                "a server's host name and addresses are its own across the site: no other server's certificate and no tenant's client certificate may carry them",
                Fold, Equal, Names, "the site"),
        }
    }

    /// Judged with the secrets, before the checks (E0309 stops them).
    pub fn early(self) -> bool {
        self == ClaimKind::SecretSource
    }
}

/// One claim: `holder` holds `text` (as written) of `kind` in `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub kind: ClaimKind,
    pub scope: Scope,
    /// The value as written; for a secret source, its identity (`env:X`,
    /// `file:DEV:INODE` or `file:PATH`) after `\0` and the reference as
    /// written before.
    pub text: String,
    pub holder: Holder,
    pub span: Span,
}

impl Claim {
    /// A certificate's subject common name among the names a proxy trusts
    /// ([`ClaimKind::HostName`]): its text is `CN=<name>\0<name>`.
    pub fn is_subject(&self) -> bool {
        self.kind == ClaimKind::HostName && self.text.starts_with("CN=") && self.text.contains('\0')
    }

    /// The value as written.
    pub fn shown(&self) -> &str {
        self.text.split('\0').next().unwrap_or_default()
    }

    /// The value compared (after [`Norm`]).
    pub fn key(&self) -> String {
        let raw = match self.text.split_once('\0') {
            Some((_, id)) => id,
            None => &self.text,
        };
        match self.kind.info().norm {
            Norm::Exact => raw.to_string(),
            Norm::Fold => raw.to_ascii_uppercase(),
        }
    }

    /// Keys two claims meet on exactly when they are related: a claim
    /// *holds* some and *asks* for some, and two claims are related when
    /// one asks for a key the other holds. An equal value is held and asked
    /// for; an export subtree holds itself and "below" each directory above
    /// it, and asks for each directory above it, itself and "below" itself.
    /// Used by the editor's slices (hashed) and the sub-site contract.
    pub fn keys(&self, holds: &mut Vec<String>, asks: &mut Vec<String>) {
        self.keys_in(&format!("{:?}", self.scope), holds, asks);
    }

    /// [`Claim::keys`], with the scope named by `scope`: a name of the
    /// scope's declaration that does not depend on which files were read
    /// (its file and name; an editor's slice numbers clusters, systems and
    /// arrays as it reads them, not as the whole site does).
    pub fn keys_in(&self, scope: &str, holds: &mut Vec<String>, asks: &mut Vec<String>) {
        let head = format!("{:?}\0{scope}", self.kind);
        match self.kind.info().relation {
            // A certificate's common name meets host names and addresses,
            // not another common name ([`Sharing::Names`]).
            Relation::Equal if self.kind == ClaimKind::HostName => {
                let (name, subject) = (
                    format!("{head}\0name={}", self.key()),
                    format!("{head}\0subject={}", self.key()),
                );
                if self.is_subject() {
                    holds.push(subject);
                    asks.push(name);
                } else {
                    holds.push(name.clone());
                    asks.push(name);
                    asks.push(subject);
                }
            }
            Relation::Equal => {
                let k = format!("{head}\0={}", self.key());
                holds.push(k.clone());
                asks.push(k);
            }
            Relation::Subtree => {
                for segs in export_views(&self.text) {
                    let at = |n: usize| format!("{head}\0/{}", segs[..n].join("/"));
                    for n in 0..segs.len() {
                        holds.push(format!("below{}", at(n)));
                        asks.push(format!("path{}", at(n)));
                    }
                    holds.push(format!("path{}", at(segs.len())));
                    asks.push(format!("path{}", at(segs.len())));
                    asks.push(format!("below{}", at(segs.len())));
                }
            }
        }
    }
}

/// The ways an export path names a subtree, as segments: on `/` as written
/// (`/` itself has none); and for a path that can only be an MVS data set
/// or qualifier prefix (not under the `/hfs` prefix, no further `/`), its
/// `.` qualifiers upper-cased, after a marker segment no path has. Two
/// exports overlap when, in a view both have, one's segments begin the
/// other's.
pub fn export_views(path: &str) -> Vec<Vec<String>> {
    let mut out = vec![crate::rules::export_segments(path)
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()];
    if let Some(quals) = crate::rules::mvs_qualifiers(path) {
        out.push(
            std::iter::once("\0mvs".to_string())
                .chain(quals.iter().map(|q| q.to_ascii_uppercase()))
                .collect(),
        );
    }
    out
}

/// Two claims of one key that may not both stand: `later` is reported
/// against `first` (for equal keys the first holder in site order; for
/// export subtrees the deepest enclosing export of another holder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Conflict {
    pub first: usize,
    pub later: usize,
}

/// Whether two claims of one key conflict, by the kind's [`Sharing`].
fn clash(a: &Claim, b: &Claim) -> bool {
    let infra = |c: &Claim| c.holder.tenant().is_none();
    match a.kind.info().sharing {
        Sharing::Never => true,
        Sharing::OwnOnly => a.holder.owner() != b.holder.owner(),
        Sharing::SiteMayShare => a.holder.owner() != b.holder.owner() && !(infra(a) && infra(b)),
        Sharing::OtherArray => match (a.holder, b.holder) {
            (Holder::Tenant(_, Part::Pod(x)), Holder::Tenant(_, Part::Pod(y))) => x != y,
            _ => true,
        },
        Sharing::Names => {
            let address = |c: &Claim| c.key().parse::<std::net::Ipv4Addr>().is_ok();
            a.holder.owner() != b.holder.owner()
                && !(a.is_subject() && b.is_subject())
                && !(address(a) && address(b))
        }
    }
}

/// The one pass over the ledger: every conflict among `claims`, each once,
/// in the order of the claims reported (`later`). Claims of kinds not in
/// `kinds` are left out.
pub fn conflicts(claims: &[Claim], kinds: &dyn Fn(ClaimKind) -> bool) -> Vec<Conflict> {
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    let mut out = Vec::new();
    let mut first: HashMap<(ClaimKind, Scope, String), usize> = HashMap::new();
    let mut subtrees: BTreeMap<Scope, Vec<usize>> = BTreeMap::new();
    for (i, c) in claims.iter().enumerate() {
        if !kinds(c.kind) {
            continue;
        }
        match c.kind.info().relation {
            Relation::Equal => match first.get(&(c.kind, c.scope, c.key())) {
                Some(&f) => {
                    if clash(&claims[f], c) {
                        out.push(Conflict { first: f, later: i });
                    }
                }
                None => {
                    first.insert((c.kind, c.scope, c.key()), i);
                }
            },
            Relation::Subtree => subtrees.entry(c.scope).or_default().push(i),
        }
    }
    // Export subtrees: sorted by segments, a directory comes right before
    // what it holds, so a stack of the directories holding the current one
    // finds every enclosing export in one pass. One pair is reported once,
    // whatever LPAR or view meets it.
    let mut seen: BTreeSet<(Span, Span)> = BTreeSet::new();
    for (_, members) in subtrees {
        let mut entries: Vec<(Vec<String>, usize)> = members
            .iter()
            .flat_map(|&i| {
                export_views(&claims[i].text)
                    .into_iter()
                    .map(move |v| (v, i))
            })
            .collect();
        entries.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| claims[a.1].span.cmp(&claims[b.1].span))
        });
        let mut stack: Vec<usize> = Vec::new();
        for e in 0..entries.len() {
            while let Some(&top) = stack.last() {
                let (outer, inner) = (&entries[top].0, &entries[e].0);
                if outer.len() <= inner.len() && inner.starts_with(outer) {
                    break;
                }
                stack.pop();
            }
            let cur = entries[e].1;
            let enclosing = stack
                .iter()
                .rev()
                .map(|&s| entries[s].1)
                .find(|&j| clash(&claims[j], &claims[cur]));
            if let Some(j) = enclosing {
                if seen.insert((claims[j].span, claims[cur].span)) {
                    out.push(Conflict {
                        first: j,
                        later: cur,
                    });
                }
            }
            stack.push(e);
        }
    }
    // A tenant told its realm cannot share the cluster with another's
    // (E0601) is not told again that the realm is shared (E0602).
    let slot_clash: BTreeSet<Holder> = out
        .iter()
        .filter(|c| claims[c.later].kind == ClaimKind::RealmSlot)
        .map(|c| claims[c.later].holder.owner())
        .collect();
    out.retain(|c| {
        let l = &claims[c.later];
        !(l.kind == ClaimKind::Realm && slot_clash.contains(&l.holder.owner()))
    });
    out.sort_by_key(|c| (claims[c.later].kind, c.later, c.first));
    out
}

/// Every claim of the site that the IR alone decides (secret sources come
/// from `resolve::secrets::claims`), infrastructure first, then tenants in
/// site order: the order that makes "first" mean first declared.
pub fn of_site(site: &Site, names: &super::Plan, domains: &Domains) -> Vec<Claim> {
    let mut out = Vec::new();
    let mut add = |kind, scope, text: &str, holder, span| {
        out.push(Claim {
            kind,
            scope,
            text: text.to_string(),
            holder,
            span,
        })
    };
    use ClaimKind as K;
    // A certificate's subject common name, as `verifyhost` would read it.
    let cn = |subject: &Subject| {
        (subject.0.iter())
            .find(|(k, _)| k.eq_ignore_ascii_case("CN"))
            .map(|(_, v)| (format!("CN={}\0{}", v.value, v.value), v.span))
    };
    for (si, (sys, sn)) in site.systems.iter().zip(&names.systems).enumerate() {
        let sid = SystemId(si);
        let dom = Scope::Domain(domains.of(sid));
        let me = Holder::System(sid);
        add(
            K::HostName,
            Scope::Site,
            &sys.address.value.to_string(),
            me,
            sys.address.span,
        );
        // Users the site gives a role of their own (Policy Agent and the
        // stack's early users): no tenant may be one of them.
        for u in std::iter::once(&sys.pagent_user).chain(&sys.initstack) {
            add(K::RacfUser, dom, &u.value, me, u.span);
        }
        for job in [&sn.prereq.job, &sn.users.job, &sn.cleanup.job] {
            add(
                K::Job,
                Scope::System(sid),
                job,
                Holder::System(sid),
                sys.name.span,
            );
        }
        for (ai, (a, an)) in sys.authorities.iter().zip(&sn.authorities).enumerate() {
            let h = Holder::Authority(AuthorityId(sid, ai));
            add(K::Job, Scope::System(sid), &an.job, h, a.name.span);
            add(K::DataSet, dom, &a.export.dsn.value, h, a.export.dsn.span);
        }
        for (vi, (s, svn)) in sys.servers.iter().zip(&sn.servers).enumerate() {
            let h = Holder::Server(ServerId(sid, vi));
            add(K::Job, Scope::System(sid), &svn.job, h, s.name.span);
            add(K::Job, Scope::System(sid), &svn.verify_job, h, s.name.span);
            add(K::RacfUser, dom, &s.user.value, h, s.user.span);
            let owned = format!(
                "{}/{}",
                s.user.value.to_ascii_uppercase(),
                s.certificate.label.value
            );
            add(K::Certificate, dom, &owned, h, s.certificate.label.span);
            let sc = &s.certificate;
            // Two servers of one job name (E0503) would have one default
            // host name: that is one mistake, reported once.
            let twin = (sys.servers[..vi].iter()).any(|o| o.jobname.value == s.jobname.value);
            if !twin {
                let n = &sc.hostname;
                add(K::HostName, Scope::Site, &n.value, h, n.span);
            }
            if s.own_address {
                let a = &s.address;
                add(K::HostName, Scope::Site, &a.value.to_string(), h, a.span);
            }
            if let Some((text, span)) = cn(&sc.subject) {
                add(K::HostName, Scope::Site, &text, h, span);
            }
        }
    }
    for (ci, c) in site.clusters.iter().enumerate() {
        if let Some(px) = &c.portworx {
            let h = Holder::Portworx(ClusterId(ci));
            add(
                K::Namespace,
                Scope::Cluster(ClusterId(ci)),
                &px.namespace.value,
                h,
                px.namespace.span,
            );
        }
    }
    for (ti, (t, tn)) in site.tenants.iter().zip(&names.tenants).enumerate() {
        let id = TenantId(ti);
        let whole = Holder::Tenant(id, Part::Whole);
        let cl = Scope::Cluster(t.cluster.value);
        add(
            K::TenantName,
            Scope::Site,
            &t.name.value,
            whole,
            t.name.span,
        );
        add(
            K::Namespace,
            cl,
            &t.namespace.value,
            Holder::Tenant(id, Part::Workloads),
            t.namespace.span,
        );
        if let Some(nfs) = &t.nfs {
            let sid = nfs.server.value;
            let sys = sid.0;
            let dom = Scope::Domain(domains.of(sys));
            let p = &nfs.proxy;
            add(
                K::Namespace,
                cl,
                &p.namespace.value,
                Holder::Tenant(id, Part::Proxy),
                p.namespace.span,
            );
            // Without a service network the ClusterIP is reported missing
            // its network (E0301) and compared with no other.
            if site.cluster(t.cluster.value).service_cidr_given {
                add(
                    K::ClusterIp,
                    cl,
                    &p.cluster_ip.value.to_string(),
                    whole,
                    p.cluster_ip.span,
                );
            }
            add(
                K::StorageClass,
                cl,
                &nfs.storage_class.value,
                whole,
                nfs.storage_class.span,
            );
            for (vi, (v, vn)) in nfs.volumes.iter().zip(&tn.volumes).enumerate() {
                add(K::PersistentVolume, cl, &vn.pv, whole, v.name.span);
                if crate::rules::export_path(&v.export.value).is_err() {
                    continue; // E0702 already
                }
                for lpar in site.server(sid).lpars(sys) {
                    add(
                        K::ExportSubtree,
                        Scope::Lpar(lpar),
                        &v.export.value,
                        Holder::Tenant(id, Part::Volume(vi)),
                        v.export.span,
                    );
                }
            }
            if let Some(client) = &tn.client {
                add(K::Job, Scope::System(sys), &client.job, whole, t.name.span);
            }
            let idn = &nfs.identity;
            add(K::RacfUser, dom, &idn.user.value, whole, idn.user.span);
            let owned = format!(
                "{}/{}",
                idn.user.value.to_ascii_uppercase(),
                idn.label.value
            );
            add(K::Certificate, dom, &owned, whole, idn.label.span);
            if let Some((text, span)) = cn(&idn.subject) {
                add(K::HostName, Scope::Site, &text, whole, span);
            }
            add(
                K::DataSet,
                dom,
                &idn.export.dsn.value,
                whole,
                idn.export.dsn.span,
            );
        }
        if let Some(p) = &t.pure {
            let arr = Scope::Array(p.array.value);
            for (c, cn) in p.classes.iter().zip(&tn.classes) {
                add(K::StorageClass, cl, cn, whole, c.name.span);
            }
            let slot = site.array(p.array.value).name.value.as_str();
            add(K::RealmSlot, cl, slot, whole, p.realm.span);
            add(K::Realm, arr, &p.realm.value, whole, p.realm.span);
            add(K::AccessPolicy, arr, &p.policy.value, whole, p.policy.span);
            add(K::ArrayUser, arr, &p.user.value, whole, p.user.span);
            add(
                K::TokenSource,
                Scope::Site,
                &p.token.to_string(),
                whole,
                p.token.span,
            );
            for pod in p.pods.value.iter() {
                add(
                    K::Pod,
                    cl,
                    &pod.value,
                    Holder::Tenant(id, Part::Pod(p.array.value)),
                    pod.span,
                );
            }
        }
    }
    out
}

/// One thing two holders share, as the isolation report lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Shared {
    /// The kind's noun.
    pub what: &'static str,
    /// The value as the later holder writes it.
    pub value: String,
    /// Both holders, the first (or enclosing) one first.
    pub holders: Vec<String>,
}

/// Everything two holders share: the [`conflicts`] the checks refuse, so a
/// site that passes them has none (the isolation report is written only
/// when this is empty).
pub fn shared(site: &Site, claims: &[Claim]) -> Vec<Shared> {
    let mut out: Vec<Shared> = conflicts(claims, &|_| true)
        .into_iter()
        .map(|c| {
            let (first, later) = (&claims[c.first], &claims[c.later]);
            Shared {
                what: later.kind.info().noun,
                value: later.shown().to_string(),
                holders: vec![
                    first.holder.label(site, true),
                    later.holder.label(site, true),
                ],
            }
        })
        .collect();
    out.sort();
    out
}

/// The tenants related to each tenant through the claims (ascending, itself
/// left out): what a sub-site of one tenant must keep.
pub fn partners(claims: &[Claim], tenants: usize) -> Vec<Vec<usize>> {
    use std::collections::{BTreeSet, HashMap};
    let mut holders: HashMap<String, BTreeSet<usize>> = HashMap::new();
    let mut asks: Vec<Vec<String>> = vec![Vec::new(); tenants];
    for c in claims {
        let Some(t) = c.holder.tenant() else { continue };
        let (mut h, mut a) = (Vec::new(), Vec::new());
        c.keys(&mut h, &mut a);
        for k in h {
            holders.entry(k).or_default().insert(t.0);
        }
        asks[t.0].extend(a);
    }
    asks.iter()
        .enumerate()
        .map(|(t, ks)| {
            let set: BTreeSet<usize> = ks
                .iter()
                .flat_map(|k| holders.get(k).into_iter().flatten().copied())
                .filter(|&u| u != t)
                .collect();
            set.into_iter().collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(path: &str, t: usize, file: u32) -> Claim {
        Claim {
            kind: ClaimKind::ExportSubtree,
            scope: Scope::Lpar(SystemId(0)),
            text: path.into(),
            holder: Holder::Tenant(TenantId(t), Part::Volume(0)),
            span: Span::new(crate::source::FileId(file), 0, 0),
        }
    }

    fn related(a: &str, b: &str) -> bool {
        !conflicts(&[export(a, 0, 0), export(b, 1, 1)], &|_| true).is_empty()
    }

    /// Paths nest on `/` boundaries; MVS data sets and qualifier prefixes
    /// meet without case; a data set and a z/OS UNIX path never do.
    #[test]
    fn export_subtrees() {
        assert!(related("/u/a", "/u/a/b"));
        assert!(related("/u/a/b", "/u/a"));
        assert!(related("/u/a", "/u/a"));
        assert!(related("/", "/u"));
        assert!(!related("/u/a", "/u/ab"));
        assert!(related("/TENANTA.DATA", "/tenanta.data"));
        assert!(related("/TENANTA", "/TENANTA.DATA"));
        assert!(!related("/TENANTA", "/TENANTAB.DATA"));
        assert!(!related("/hfs/A", "/hfs/a"));
        assert!(!related("/hfs/TENANTA", "/TENANTA.DATA"));
    }

    /// The keys meet exactly when the pass relates two claims.
    #[test]
    fn keys_meet_exactly_when_related() {
        let paths = [
            "/", "/a", "/a/b", "/ab", "/a/bc", "/b", "/b/a", "/A.B", "/a", "/a.b.c", "/hfs/a",
            "/hfs", "/A.BC",
        ];
        for a in paths {
            for b in paths {
                let (x, y) = (export(a, 0, 0), export(b, 1, 1));
                let (mut hx, mut ax, mut hy, mut ay) = (vec![], vec![], vec![], vec![]);
                x.keys(&mut hx, &mut ax);
                y.keys(&mut hy, &mut ay);
                let meet = ax.iter().any(|k| hy.contains(k));
                assert_eq!(meet, related(a, b), "{a} {b}");
                assert_eq!(meet, hx.iter().any(|k| ay.contains(k)), "{a} {b}");
            }
        }
    }

    #[test]
    fn every_kind_has_a_row() {
        for k in ClaimKind::ALL {
            let i = k.info();
            assert!(!i.noun.is_empty() && !i.help.is_empty() && !i.scope.is_empty());
        }
    }
}
