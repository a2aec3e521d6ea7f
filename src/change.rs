//! Stage 6, day 2: `tenantc plan`. The change that takes the target systems
//! from what the deployed bundle put on them (its `inventory.jsonl`) to what
//! the specs ask for (the new bundle's inventory): the difference of two
//! ledgers ([`diff`]), written as a change bundle ([`bundle`]) that holds only
//! what the change needs, in an order where nothing runs before what it
//! depends on and nothing is removed before its replacement serves:
//!
//! 1. z/OS: a job per system creating what is absent (certificates, rings,
//!    connections, profiles, permits) and renewing certificates replaced
//!    under a new label (GENCERT, then ROLLOVER), then the exports
//!    of the new certificates;
//! 2. the new certificates transferred and converted for the new proxies;
//! 3. z/OS files: the exports (with lines still needed kept until phase 6),
//!    reloaded without a restart, and the AT-TLS policies, refreshed;
//! 4. arrays: the Purity objects to create;
//! 5. clusters: the objects to create or change, applied;
//! 6. then removal, consumers first: the clusters' objects by kind,
//!    namespace and name, the arrays' objects, the exports' final files and
//!    the RACF objects.
//!
//! Nothing is created that the deployed inventory holds, so no GENCERT,
//! ADDRING or realm create meets an object that exists.

use crate::bundle::inventory::{Deployed, Entry, Inputs, Inventory, Key};
use crate::bundle::Bundle;
use crate::ir::Site;
use crate::lower::{racf, shell_quote, Error, Templates};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

/// What `tenantc plan` is asked beyond the specs.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Today, yyyy-mm-dd: with `renew_within`, certificates whose NOTAFTER
    /// falls within the window are reported as due.
    pub today: Option<String>,
    /// Days.
    pub renew_within: Option<u32>,
    /// Remove the exported directories of removed volumes (never silently:
    /// without it, CHANGE.md says they are kept).
    pub remove_directories: bool,
    /// Eradicate destroyed Purity pods and realms (their data) at once;
    /// without it they stay recoverable for the array's eradication delay.
    pub eradicate: bool,
    /// Lower every tenant, not only those whose specs changed.
    pub full: bool,
}

/// A certificate replaced under a new label, for the same role.
#[derive(Debug, Clone, Serialize)]
pub struct Renewal {
    pub old: Entry,
    pub new: Entry,
}

/// The difference between a deployed inventory and the specs'.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Change {
    pub create: Vec<Entry>,
    pub update: Vec<Entry>,
    pub delete: Vec<Entry>,
    pub renew: Vec<Renewal>,
    /// Certificates whose NOTAFTER falls within the renewal window.
    pub due: Vec<Entry>,
    /// Changes no command can make in place: why, for each.
    pub refused: Vec<String>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.update.is_empty()
            && self.delete.is_empty()
            && self.renew.is_empty()
    }
}

/// The change from `old` (deployed) to `new` (the specs').
pub fn diff(old: &Inventory, new: &Inventory) -> Change {
    let mut c = Change::default();
    for (k, e) in &new.entries {
        match old.entries.get(k) {
            None => c.create.push(e.clone()),
            Some(o) if o.digest != e.digest => {
                if k.target.starts_with("array/") {
                    c.refused.push(format!(
                        "{k}: its definition changed (its realm or policy) but its name did not; Purity moves no {} to another realm or policy, so give it a new name (the plan then creates it and removes the old one)",
                        k.kind
                    ));
                } else if k.kind == "certificate" {
                    c.refused.push(format!(
                        "{k}: its definition changed but its label did not; RACF cannot make a certificate under a label in use, so give the renewed certificate a new label (the plan then generates it and rolls the old one over to it)"
                    ));
                } else {
                    c.update.push(e.clone());
                }
            }
            Some(_) => {}
        }
    }
    for (k, e) in &old.entries {
        if !new.entries.contains_key(k) {
            c.delete.push(e.clone());
        }
    }
    // A certificate deleted and one created for the same role on the same
    // system is a renewal; ROLLOVER moves the ring connections itself.
    let role = |e: &Entry| (e.key.target.clone(), e.role.clone());
    let mut created: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    for (i, e) in c.create.iter().enumerate() {
        if e.key.kind == "certificate" && e.role.is_some() {
            created.insert(role(e), i);
        }
    }
    let mut renewed_new = BTreeSet::new();
    let mut renewed_old = BTreeSet::new();
    // An inventory tenantc wrote holds one certificate per role and system:
    // two deleted under one role are refused, not paired (a forged line
    // would otherwise have its certificate rolled over in the creation
    // phase). A renewal keeps its owner: a certificate moved to another
    // user ID is created and deleted, not rolled over.
    let mut per_role: BTreeMap<(String, Option<String>), Vec<&Key>> = BTreeMap::new();
    for e in c
        .delete
        .iter()
        .filter(|e| e.key.kind == "certificate" && e.role.is_some())
    {
        per_role.entry(role(e)).or_default().push(&e.key);
    }
    let mut twice = Vec::new();
    for ((target, r), keys) in &per_role {
        if keys.len() > 1 {
            twice.push(format!(
                "{target}: the deployed inventory holds {} certificates of role {} ({}); an inventory tenantc wrote holds one",
                keys.len(),
                r.as_deref().unwrap_or_default(),
                keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let owner = |k: &Key| k.name.split_once('/').map(|(o, _)| o.to_string());
    for e in &c.delete {
        if e.key.kind != "certificate" || e.role.is_none() {
            continue;
        }
        if per_role.get(&role(e)).is_some_and(|k| k.len() > 1) {
            continue;
        }
        if let Some(&i) = created
            .get(&role(e))
            .filter(|&&i| owner(&c.create[i].key) == owner(&e.key))
        {
            let new = c.create[i].clone();
            renewed_new.insert(new.key.clone());
            renewed_old.insert(e.key.clone());
            c.renew.push(Renewal {
                old: e.clone(),
                new,
            });
        }
    }
    let connection_of = |k: &Key, certs: &BTreeSet<Key>, authorities: bool| {
        k.kind == "ring-connection"
            && certs.iter().any(|cert| {
                cert.target == k.target
                    && k.name.ends_with(&format!("/{}", cert.name))
                    && (authorities || !cert.name.starts_with("CERTAUTH/"))
            })
    };
    // A renewed certificate reaches the proxies through their Secrets, whose
    // definition (the generator) did not change: apply them again.
    for r in &c.renew {
        let role = r.new.role.as_deref().unwrap_or_default();
        let secret = match role.split_once(':') {
            Some(("client", tenant)) => Some((crate::plan::CLIENT_SECRET, Some(tenant))),
            Some(("authority", _)) => Some((crate::plan::CA_SECRET, None)),
            _ => None,
        };
        let Some((name, tenant)) = secret else {
            continue;
        };
        for e in new.entries.values() {
            let holds = e.key.kind == "Secret"
                && e.key.name.ends_with(&format!("/{name}"))
                && tenant.is_none_or(|t| e.owners.iter().any(|o| o == t));
            if holds && !c.update.iter().any(|u| u.key == e.key) {
                c.update.push(e.clone());
            }
        }
    }
    // ROLLOVER connects the new certificate to every ring the old one is in.
    // It replaces a personal certificate's connection; an authority's old
    // certificate stays connected (trusted) until the removal phase, after
    // every certificate it signed was renewed. The old certificates, their
    // private keys retired, are deleted in that phase too.
    c.create
        .retain(|e| !renewed_new.contains(&e.key) && !connection_of(&e.key, &renewed_new, true));
    c.delete
        .retain(|e| !connection_of(&e.key, &renewed_old, false));
    c.refused.extend(twice);
    c
}

/// Certificates of `inv` whose NOTAFTER is within `days` of `today`.
pub fn due(inv: &Inventory, today: &str, days: u32) -> Result<Vec<Entry>, String> {
    let limit = crate::plan::jcl::add_days(today, days)
        .ok_or_else(|| format!("--today {today}: not a date (yyyy-mm-dd)"))?;
    let mut certs: Vec<Entry> = inv
        .entries
        .values()
        .filter(|e| e.key.kind == "certificate")
        .cloned()
        .collect();
    // And those of the tenants a plan did not lower.
    certs.extend(inv.kept_entries(|k| k[1] == "certificate")?);
    certs.retain(|e| e.not_after.as_deref().is_some_and(|d| d <= limit.as_str()));
    certs.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(certs)
}

/// The digests of a site's inputs ([`Inputs`]), from their tokens (blanks
/// and comments change no output): each tenant block with its file's name
/// (the headers name it) and, for a file of only tenants and imports, that
/// file's imports; and everything else: the other files with their tenant
/// blocks cut out, and the set of the tenant files' imports. So adding,
/// editing, moving or removing a tenant changes its own digest and no other.
/// With a stdlib directory (its templates are no input of the analysis) the
/// site digest is empty: every plan then lowers the whole site.
pub fn inputs(analysis: &crate::Analysis, stdlib: Option<&camino::Utf8Path>) -> Inputs {
    use crate::syntax::lex::{tokens, Kind};
    use sha2::{Digest, Sha256};
    let hex = |h: Sha256| crate::bundle::hex(&h.finalize().into());
    let mut site = Sha256::new();
    site.update(env!("CARGO_PKG_VERSION"));
    site.update([0]);
    let mut blocks: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut imports_of: BTreeMap<String, String> = BTreeMap::new();
    let mut tenant_imports: BTreeSet<String> = BTreeSet::new();
    let mut files: Vec<(String, &str)> = analysis
        .sources
        .files()
        .map(|(_, f)| (crate::site_name(analysis, f), &*f.text))
        .collect();
    files.sort();
    for (name, text) in &files {
        // Commas too are layout: the formatter may add or drop one.
        let toks: Vec<_> = tokens(text)
            .filter(|t| !t.kind.is_trivia() && &text[t.start..t.end] != ",")
            .collect();
        let word = |i: usize| toks.get(i).map(|t| &text[t.start..t.end]);
        let mut depth = 0usize;
        // The token ranges of the tenant blocks.
        let mut blocks_at: Vec<(usize, usize)> = Vec::new();
        let mut imports = Vec::new();
        let mut only_tenants = true;
        let mut i = 0;
        while i < toks.len() {
            let t = toks[i];
            if depth == 0
                && t.kind == Kind::Ident
                && word(i) == Some("tenant")
                && word(i + 2) == Some("{")
            {
                let tenant = word(i + 1).unwrap_or_default().to_string();
                let mut d = 0usize;
                let mut j = i + 2;
                while j < toks.len() {
                    match word(j) {
                        Some("{") => d += 1,
                        Some("}") => {
                            d -= 1;
                            if d == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let j = j.min(toks.len() - 1);
                let words: Vec<&str> = toks[i..=j].iter().map(|t| &text[t.start..t.end]).collect();
                blocks.insert((tenant, name.clone()), words.join("\u{2}"));
                blocks_at.push((i, j));
                i = j + 1;
                continue;
            }
            if depth == 0 && word(i) == Some("import") {
                // `import "path"`, then `as alias`.
                let end = if word(i + 2) == Some("as") {
                    i + 3
                } else {
                    i + 1
                };
                let end = end.min(toks.len() - 1);
                let words: Vec<&str> = toks[i..=end]
                    .iter()
                    .map(|t| &text[t.start..t.end])
                    .collect();
                imports.push(words.join(" "));
                i = end + 1;
                continue;
            }
            match word(i) {
                Some("{") => depth += 1,
                Some("}") => depth = depth.saturating_sub(1),
                _ => {}
            }
            only_tenants = false;
            i += 1;
        }
        if only_tenants {
            tenant_imports.extend(imports.iter().cloned());
            imports_of.insert(name.clone(), imports.join("\u{2}"));
            continue;
        }
        // Everything but the tenant blocks (imports here are everyone's).
        site.update(name.as_bytes());
        site.update([0]);
        let mut next = blocks_at.iter().peekable();
        for (k, t) in toks.iter().enumerate() {
            while next.peek().is_some_and(|(_, to)| *to < k) {
                next.next();
            }
            if next.peek().is_some_and(|(from, _)| *from <= k) {
                continue;
            }
            site.update(&text[t.start..t.end]);
            site.update([2]);
        }
        site.update([0]);
    }
    for i in &tenant_imports {
        site.update(i.as_bytes());
        site.update([3]);
    }
    let mut tenants = BTreeMap::new();
    for t in &analysis.site.tenants {
        let file = crate::site_name(analysis, analysis.sources.get(t.name.span.file));
        let mut h = Sha256::new();
        h.update(file.as_bytes());
        h.update([0]);
        if let Some(i) = imports_of.get(&file) {
            h.update(i.as_bytes());
            h.update([0]);
        }
        match blocks.get(&(t.name.value.clone(), file)) {
            Some(b) => h.update(b),
            // Not found as a block of its own: it changes with the site.
            None => return Inputs::default(),
        }
        tenants.insert(t.name.value.clone(), hex(h));
    }
    Inputs {
        site: if stdlib.is_some() {
            String::new()
        } else {
            hex(site)
        },
        tenants,
    }
}

/// The tenants a plan must lower again, or `None` when it must lower them
/// all: the infrastructure changed (or the deployed inventory does not say
/// what it was made from). Otherwise the tenants whose block changed or is
/// new, the removed ones' partners (below), and, since each namespace's
/// storage-class quota names every other tenant's FlashArray classes on its
/// cluster, every tenant of a cluster where a tenant with FlashArray classes
/// is added, changed or removed.
pub fn scope(
    site: &Site,
    old: &Deployed,
    now: &Inputs,
) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
    if old.inputs.site.is_empty()
        || old.inputs.site != now.site
        || now.tenants.len() != site.tenants.len()
    {
        return None;
    }
    let changed: BTreeSet<String> = now
        .tenants
        .iter()
        .filter(|(t, d)| old.inputs.tenants.get(*t) != Some(*d))
        .map(|(t, _)| t.clone())
        .collect();
    let removed: BTreeSet<String> = old
        .inputs
        .tenants
        .keys()
        .filter(|t| !now.tenants.contains_key(*t))
        .cloned()
        .collect();
    // Issue 26: a server whose last tenant leaves (removed, or moved to
    // another server) keeps its own objects, which the deployed inventory
    // lists as its tenants'; lowering some tenants does not write the
    // files of a server with none, so the whole site is lowered to record
    // them anew (without owners).
    let emptied = (0..old.len()).any(|i| {
        let [target, kind, name] = old.key(i);
        kind == "export"
            && old
                .owners(i)
                .any(|o| removed.contains(o) || changed.contains(o))
            && site.server_ids().any(|s| {
                site.server(s).jobname.value == name.split(' ').next().unwrap_or_default()
                    && target.strip_prefix("zos/") == Some(site.system(s.0).name.value.as_str())
                    && site.tenants_of(s).next().is_none()
            })
    });
    if emptied {
        return None;
    }
    // Clusters where a tenant with FlashArray classes comes, goes or changes.
    let mut clusters: BTreeSet<String> = BTreeSet::new();
    for t in &site.tenants {
        if changed.contains(&t.name.value) && t.pure.as_ref().is_some_and(|p| !p.classes.is_empty())
        {
            clusters.insert(format!(
                "cluster/{}",
                site.cluster(t.cluster.value).name.value
            ));
        }
    }
    // The deployed objects' keys and owners are enough here: no line is
    // parsed.
    let touched = old.ids(changed.iter().chain(&removed));
    let mut with_realm: BTreeSet<&str> = BTreeSet::new();
    for i in 0..old.len() {
        if old.key(i)[1] == "realm" {
            with_realm.extend(old.owners(i));
        }
    }
    for i in 0..old.len() {
        let [target, kind, _] = old.key(i);
        if kind == "StorageClass" && target.starts_with("cluster/") && old.owned_by(i, &touched) {
            // An old FlashArray class: its one tenant held a realm.
            let owners: Vec<&str> = old.owners(i).collect();
            if let [owner] = owners[..] {
                if with_realm.contains(owner) {
                    clusters.insert(target.to_string());
                }
            }
        }
    }
    let mut lower = changed;
    for t in &site.tenants {
        let c = format!("cluster/{}", site.cluster(t.cluster.value).name.value);
        if clusters.contains(&c) {
            lower.insert(t.name.value.clone());
        }
    }
    Some((lower, removed))
}

/// What [`merge`] gives.
pub enum Merged {
    /// The inventory after the change (the deployed lines of untouched
    /// objects kept as they are), and the deployed objects it differs from
    /// the specs' in, parsed: those lowering recorded anew and those of the
    /// affected tenants. [`diff`] of the two is the change.
    Done {
        inventory: Box<Inventory>,
        old: Box<Inventory>,
    },
    /// More tenants to lower (below).
    More(BTreeSet<String>),
}

/// The inventory after a change that lowered only `lowered` (their files,
/// and the shared files they use, written whole): the objects it recorded,
/// and the deployed ones of the tenants it did not touch. Returns the
/// tenants to lower as well when a shared object of a removed tenant lives
/// in a file this lowering did not write (their objects must be recorded
/// anew), else the inventory.
pub fn merge(
    old: &Arc<Deployed>,
    lowered: &Bundle,
    affected: &BTreeSet<String>,
) -> Result<Merged, String> {
    let mut inv = lowered.inventory.clone();
    let mut part = Inventory {
        inputs: old.inputs.clone(),
        ..Default::default()
    };
    let mut anew = vec![false; old.len()];
    for k in inv.entries.keys() {
        if let Some(i) = old.find(k) {
            anew[i] = true;
        }
    }
    let touched = old.ids(affected);
    let mut kept = Vec::new();
    let mut more = BTreeSet::new();
    for (i, anew) in anew.into_iter().enumerate() {
        if anew {
            let e = old.entry(i)?;
            part.entries.insert(e.key.clone(), e);
        } else if old.owned_by(i, &touched) {
            let e = old.entry(i)?;
            if e.owners.iter().any(|o| !affected.contains(o))
                && !lowered.files.contains_key(&e.file)
            {
                more.extend(e.owners.iter().filter(|o| !affected.contains(*o)).cloned());
            }
            part.entries.insert(e.key.clone(), e);
        } else {
            kept.push(i);
        }
    }
    if !more.is_empty() {
        return Ok(Merged::More(more));
    }
    inv.kept = Some(old.keep(kept));
    Ok(Merged::Done {
        inventory: Box::new(inv),
        old: Box::new(part),
    })
}

/// The kinds a RACF command makes, run by a change job.
const RACF_KINDS: [&str; 6] = [
    "racf-user",
    "certificate",
    "keyring",
    "ring-connection",
    "profile",
    "permit",
];

/// The order objects are made in on a system: what each needs exists first.
fn create_rank(e: &Entry) -> u8 {
    match (e.key.kind.as_str(), e.key.name.starts_with("CERTAUTH/")) {
        ("racf-user", _) => 0,
        ("certificate", true) => 1,
        ("certificate", false) => 2,
        ("keyring", _) => 3,
        ("ring-connection", _) if e.key.name.contains("/CERTAUTH/") => 4,
        ("ring-connection", _) => 5,
        ("profile", _) => 6,
        ("permit", _) => 7,
        ("realm", _) => 10,
        ("pod", _) => 11,
        ("policy", _) => 12,
        ("user", _) => 13,
        ("api-token", _) => 14,
        ("Namespace", _) => 20,
        _ => 30,
    }
}

/// The order objects are removed in: consumers first, what they need last.
fn delete_rank(e: &Entry) -> u8 {
    match e.key.kind.as_str() {
        "Deployment" | "StatefulSet" => 0,
        "Service" | "PersistentVolumeClaim" | "ConfigMap" | "Secret" => 1,
        "PersistentVolume" | "NetworkPolicy" | "ResourceQuota" => 2,
        "StorageClass" | "StorageCluster" | "MachineConfig" => 3,
        // The storage fence stays until the claims it guards are gone.
        "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding" => 3,
        "Namespace" => 4,
        "api-token" => 10,
        "user" => 11,
        "policy" => 12,
        "pod" => 13,
        "realm" => 14,
        "ring-connection" => 20,
        "keyring" => 21,
        "certificate" if e.key.name.starts_with("CERTAUTH/") => 23,
        "certificate" => 22,
        "permit" => 24,
        "profile" => 25,
        "racf-user" => 26,
        _ => 5,
    }
}

/// The kubectl resource of an inventory kind: the API group for the kinds
/// outside the core and well-known groups the bundle writes.
fn kubectl_resource(kind: &str) -> String {
    match kind {
        "StorageCluster" => "storagecluster.core.libopenstorage.org".into(),
        "MachineConfig" => "machineconfig.machineconfiguration.openshift.io".into(),
        k => k.to_ascii_lowercase(),
    }
}

/// What a target's part of the change holds, by phase.
#[derive(Default)]
struct Targets<'c> {
    create: BTreeMap<&'c str, Vec<&'c Entry>>,
    update: BTreeMap<&'c str, Vec<&'c Entry>>,
    delete: BTreeMap<&'c str, Vec<&'c Entry>>,
    renew: BTreeMap<&'c str, Vec<&'c Renewal>>,
}

impl<'c> Targets<'c> {
    fn of(c: &'c Change) -> Targets<'c> {
        let mut t = Targets::default();
        for e in &c.create {
            t.create.entry(&e.key.target).or_default().push(e);
        }
        for e in &c.update {
            t.update.entry(&e.key.target).or_default().push(e);
        }
        for e in &c.delete {
            t.delete.entry(&e.key.target).or_default().push(e);
        }
        for r in &c.renew {
            t.renew.entry(&r.new.key.target).or_default().push(r);
        }
        for v in t.create.values_mut() {
            v.sort_by_key(|e| (create_rank(e), &e.key));
        }
        for v in t.delete.values_mut() {
            v.sort_by_key(|e| (delete_rank(e), &e.key));
        }
        t
    }

    fn targets(&self) -> BTreeSet<&'c str> {
        self.create
            .keys()
            .chain(self.update.keys())
            .chain(self.delete.keys())
            .chain(self.renew.keys())
            .copied()
            .collect()
    }
}

/// The one-screen summary, per target, like `terraform plan`.
pub fn summary(c: &Change) -> String {
    let t = Targets::of(c);
    let mut out = String::new();
    if c.is_empty() {
        out.push_str("No changes: the deployed systems hold what the specs ask for.\n");
    }
    for target in t.targets() {
        let n = |m: &BTreeMap<&str, Vec<&Entry>>| m.get(target).map_or(0, Vec::len);
        let renew = t.renew.get(target).map_or(0, Vec::len);
        let _ = writeln!(
            out,
            "{target}: {} to create, {} to change, {} to renew, {} to destroy",
            n(&t.create),
            n(&t.update),
            renew,
            n(&t.delete)
        );
        for e in t.create.get(target).into_iter().flatten() {
            let _ = writeln!(out, "  + {} {}", e.key.kind, e.key.name);
        }
        for e in t.update.get(target).into_iter().flatten() {
            let _ = writeln!(out, "  ~ {} {}", e.key.kind, e.key.name);
        }
        for r in t.renew.get(target).into_iter().flatten() {
            let _ = writeln!(
                out,
                "  ↻ certificate {} -> {}",
                r.old.key.name, r.new.key.name
            );
        }
        for e in t.delete.get(target).into_iter().flatten() {
            let _ = writeln!(out, "  - {} {}", e.key.kind, e.key.name);
        }
    }
    for e in &c.due {
        let _ = writeln!(
            out,
            "due for renewal: {} {} (NOTAFTER {})",
            e.key.target,
            e.key.name,
            e.not_after.as_deref().unwrap_or("?")
        );
    }
    for r in &c.refused {
        let _ = writeln!(out, "refused: {r}");
    }
    out
}

/// The change as JSON, for pipelines.
pub fn to_json(c: &Change) -> String {
    let mut s = serde_json::to_string_pretty(c).unwrap_or_default();
    s.push('\n');
    s
}

/// Export lines a removal keeps served until their consumers go come from
/// the deployed inventory, which is untrusted: a line is kept only when it
/// opens its path to no address but nodes of the site's clusters and the
/// server's clients (the addresses tenantc's export lines name), and does
/// not nest with another line of the file (an exports data set refuses a
/// parent or a subdirectory of an exported directory, z/OS NFS Guide and
/// Reference, "Exports data set":
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/nfsexp.htm).
/// Any other is not kept, and the file says so: dropping a line only ends a
/// removed tenant's access early, where a forged `/hfs -access=<elsewhere>`
/// would open every tenant's directory from the creation step on. Returns
/// the lines to keep, and a comment for each dropped one.
fn kept_lines<'e>(
    site: &Site,
    target: &str,
    job: &str,
    base: &str,
    kept: &[&'e &'e Entry],
) -> (Vec<&'e Entry>, String) {
    let here = site
        .systems
        .iter()
        .position(|s| Some(s.name.value.as_str()) == target.strip_prefix("zos/"));
    let mut allowed: BTreeSet<String> = site
        .clusters
        .iter()
        .flat_map(|c| &c.nodes)
        .map(|n| n.dvipa.value.to_string())
        .collect();
    for id in site.server_ids() {
        let s = site.server(id);
        if s.jobname.value == job
            && here.is_some_and(|h| s.lpars(id.0).contains(&crate::ir::SystemId(h)))
        {
            allowed.extend(s.clients.value.iter().map(|a| a.value.to_string()));
        }
    }
    let mut paths: Vec<String> = base
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let (mut keep, mut dropped) = (Vec::new(), String::new());
    for e in kept {
        let text = e.text.as_deref().unwrap_or_default();
        let (path, options) = text.split_once(' ').unwrap_or((text, ""));
        let addresses = options
            .trim_start_matches("-access=")
            .trim_end_matches(",ro");
        let under = |a: &str, b: &str| {
            a == b || a == "/" || b.strip_prefix(a).is_some_and(|r| r.starts_with('/'))
        };
        let why = if !addresses.split('|').all(|a| allowed.contains(a)) {
            Some("it names addresses that are no node of the site and no client of the server")
        } else if paths.iter().any(|o| under(path, o) || under(o, path)) {
            Some("it would nest with another export of this file")
        } else {
            None
        };
        match why {
            Some(why) => {
                let _ = writeln!(
                    dropped,
                    "# the deployed export of {path} is not kept: {why}"
                );
            }
            None => {
                paths.push(path.to_string());
                keep.push(**e);
            }
        }
    }
    (keep, dropped)
}

/// The z/OS system a `zos/<name>` target names.
fn system<'s>(site: &'s Site, target: &str) -> Option<&'s crate::ir::ZosSystem> {
    let name = target.strip_prefix("zos/")?;
    site.systems.iter().find(|s| s.name.value == name)
}

/// Writes the change bundle: CHANGE.md, `plan.json`, the inventory the
/// systems will hold after it, and the files its steps run.
pub fn bundle(
    site: &Site,
    templates: &Templates,
    c: &Change,
    new: &Bundle,
    inventory: Inventory,
    opts: &PlanOptions,
) -> Result<Bundle, Error> {
    let mut out = Bundle::default();
    let none = BTreeSet::new;
    let t = Targets::of(c);
    let header = format!(
        "Generated by tenantc {} plan: the change from the deployed bundle's inventory to the specs. Do not edit.",
        env!("CARGO_PKG_VERSION")
    );
    let mut md = String::new();
    let _ = writeln!(md, "<!-- {header} -->\n# Changing the deployed site\n");
    md.push_str("```text\n");
    md.push_str(&summary(c));
    md.push_str("```\n\n");
    if c.is_empty() {
        md.push_str("Nothing to run. The deployed bundle stays the deployed one.\n");
        out.add_text("CHANGE.md".into(), md, none())?;
        out.add_text("plan.json".into(), to_json(c), none())?;
        out.inventory = inventory;
        return Ok(out);
    }
    md.push_str(
        "Every step in order; paths are relative to this directory. Creation comes first (z/OS, then the arrays, then the clusters), removal last and in the reverse order, so nothing is removed before what replaces it serves. When every step is done, the new bundle (`tenantc compile` of the same specs) is the deployed one: commit it; its `inventory.jsonl` equals this directory's.\n",
    );

    // 1. z/OS creation and renewal.
    let mut step = 0;
    let mut heading = |md: &mut String, title: &str| {
        step += 1;
        let _ = writeln!(md, "\n## {step}. {title}\n");
    };
    let zos: Vec<&str> = t
        .targets()
        .into_iter()
        .filter(|x| x.starts_with("zos/"))
        .collect();
    let mut exports_needed: Vec<&Entry> = Vec::new();
    // A proxy made anew (a new tenant, or one moved to another cluster)
    // needs its client certificate and its authority's, exported again when
    // the certificate exists already (the runbook deleted the exports).
    let client_secret = format!("/{}", crate::plan::CLIENT_SECRET);
    let new_proxies: BTreeSet<&str> = c
        .create
        .iter()
        .chain(&c.update)
        .filter(|e| e.key.kind == "Secret" && e.key.name.ends_with(&client_secret))
        .flat_map(|e| e.owners.iter().map(String::as_str))
        .collect();
    let made: BTreeSet<&Key> = c
        .create
        .iter()
        .map(|e| &e.key)
        .chain(c.renew.iter().map(|r| &r.new.key))
        .collect();
    // By the new bundle's roles: a renamed tenant's certificate, unchanged
    // under its old role in the deployed inventory, serves the new proxy.
    let reexport: Vec<&Entry> = new
        .inventory
        .entries
        .values()
        .filter(|e| e.key.kind == "certificate" && !made.contains(&e.key))
        .filter(|e| {
            e.role
                .as_deref()
                .and_then(|r| r.strip_prefix("client:"))
                .is_some_and(|t| new_proxies.contains(t))
        })
        .collect();
    let mut first = true;
    // A system with nothing to create still exports again for a new proxy
    // (a renamed tenant's, whose certificate stays).
    let mut job_targets: Vec<&str> = zos.clone();
    for e in &reexport {
        if !job_targets.contains(&e.key.target.as_str()) {
            job_targets.push(e.key.target.as_str());
        }
    }
    job_targets.sort_unstable();
    for target in &job_targets {
        let Some(sys) = system(site, target) else {
            continue;
        };
        let mut cmds: Vec<Vec<String>> = Vec::new();
        let mut then: Vec<Vec<String>> = Vec::new();
        let mut what = Vec::new();
        for e in reexport.iter().filter(|e| e.key.target == *target) {
            if let Some(r) = new.inventory.recipes.get(&e.key) {
                then.extend(r.then.iter().cloned());
                exports_needed.push(e);
                what.push(format!(
                    "the exports of certificate {} for its new proxy",
                    e.key.name
                ));
            }
        }
        for e in t.create.get(target).into_iter().flatten() {
            if !RACF_KINDS.contains(&e.key.kind.as_str()) {
                continue;
            }
            let Some(r) = new.inventory.recipes.get(&e.key) else {
                continue;
            };
            cmds.extend(r.create.iter().cloned());
            then.extend(r.then.iter().cloned());
            if e.key.kind == "certificate" {
                exports_needed.push(e);
            }
            what.push(format!("{} {}", e.key.kind, e.key.name));
        }
        let mut renewals: Vec<&&Renewal> = t.renew.get(target).into_iter().flatten().collect();
        renewals.sort_by_key(|r| !r.new.key.name.starts_with("CERTAUTH/"));
        for r in renewals {
            // The new certificate is generated as a fresh deployment would
            // (its own subject, key, dates and signer), then ROLLOVER
            // supersedes the old one in every ring and retires its key.
            let Some(rec) = new.inventory.recipes.get(&r.new.key) else {
                continue;
            };
            if let Some(rollover) = racf::rollover_lines(&r.old.key.name, &r.new.key.name) {
                cmds.extend(rec.create.iter().cloned());
                cmds.push(rollover?);
            }
            then.extend(rec.then.iter().cloned());
            exports_needed.push(&r.new);
            what.push(format!(
                "renewal of {} as {}",
                r.old.key.name, r.new.key.name
            ));
        }
        if cmds.is_empty() && then.is_empty() {
            continue;
        }
        if first {
            heading(&mut md, "z/OS: create and renew");
            first = false;
        }
        // Each export once, after everything it exports was made.
        let mut seen = BTreeSet::new();
        cmds.extend(then.into_iter().filter(|c| seen.insert(c.clone())));
        let path = format!("{}/jcl/C1-create.jcl", target);
        let text = racf::change_job(
            templates,
            sys,
            &header,
            &format!("{target} create"),
            &[
                "Makes only what the deployed inventory lacks, in dependency order, renews certificates replaced under a new label (GENCERT, then ROLLOVER), then exports the new certificates. IKJEFT1B stops at the first failing command.",
            ],
            cmds,
        )?;
        let _ = writeln!(
            md,
            "- Submit `{path}` on {}: RC 0. It makes: {}.",
            sys.name.value,
            what.join("; ")
        );
        out.add_text(path, text, none())?;
    }
    // The exported directories of new volumes, once their owners exist.
    for target in &zos {
        let made: Vec<&&Entry> = t
            .create
            .get(target)
            .into_iter()
            .flatten()
            .filter(|e| e.key.kind == "directory")
            .collect();
        if made.is_empty() {
            continue;
        }
        let mut script = format!(
            "#!/bin/sh\n# {header}\n# The exported directories of new volumes, each its tenant's with mode 700.\nset -eu\n{}",
            crate::lower::zos::DIR_FUNCTION
        );
        for e in &made {
            for line in new
                .inventory
                .recipes
                .get(&e.key)
                .into_iter()
                .flat_map(|r| &r.create)
            {
                let _ = writeln!(script, "{}", line.join(" "));
            }
        }
        let path = format!("{target}/uss/C2-dirs.sh");
        if first {
            heading(&mut md, "z/OS: create and renew");
            first = false;
        }
        let _ = writeln!(md, "- In the z/OS UNIX shell, as a superuser: `sh {path}` (the new volumes' directories, after the user IDs that own them).");
        out.add_text(path, script, none())?;
    }
    // 2. The new certificates to the clusters.
    let clients: Vec<&&Entry> = exports_needed
        .iter()
        .filter(|e| e.role.as_deref().is_some_and(|r| r.starts_with("client:")))
        .collect();
    if !clients.is_empty() {
        heading(&mut md, "Certificates to the new proxies");
        md.push_str("The job above exported each new client certificate and its authority's certificate. From a private directory of the workstation (mode 0700, outside the bundles; EXPORTS_DIR below), log in to the z/OS FTP server and enter the subcommands of each tenant's file (they fetch its exports; issue 27):\n\n");
        for e in clients {
            let _ = writeln!(
                md,
                "- {} ({})",
                e.key.name,
                e.role.as_deref().unwrap_or_default()
            );
            // The tenant's TLS script (the file of its proxy's client
            // Secret in the new inventory) has its FTP file beside it.
            let tenant = e.role.as_deref().and_then(|r| r.strip_prefix("client:"));
            if let Some(ftp) = tls_script_of(new, tenant).map(|f| f.replace(".sh", ".ftp")) {
                if let Some(f) = new.files.get(&ftp) {
                    out.add_text(
                        ftp.clone(),
                        String::from_utf8_lossy(&f.bytes).into_owned(),
                        none(),
                    )?;
                    let _ = writeln!(md, "  - `{ftp}`");
                }
            }
        }
    }
    // The exports hold private keys: once transferred, they go (as in
    // APPLY.md).
    let mut datasets: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for e in &exports_needed {
        let lines = new
            .inventory
            .recipes
            .get(&e.key)
            .map(|r| r.then.concat())
            .unwrap_or_default();
        for l in lines {
            if let Some(dsn) = l.split("DSN('").nth(1).and_then(|r| r.split("')").next()) {
                datasets
                    .entry(e.key.target.as_str())
                    .or_default()
                    .insert(dsn.replace("''", "'"));
            }
        }
    }
    if !datasets.is_empty() {
        md.push_str("\nOnce the PEM files are in place, delete the exports (they hold private keys), in TSO:\n\n```\n");
        for dsns in datasets.values() {
            for d in dsns {
                let _ = writeln!(md, "DELETE '{d}'");
            }
        }
        md.push_str("```\n");
    }
    // 3. z/OS files: exports and AT-TLS policies.
    let mut files_step = false;
    // The final exports files, each with whether its server then stops.
    let mut final_exports: Vec<(String, String, bool)> = Vec::new();
    for target in &zos {
        let touched = |kind: &str| -> BTreeSet<String> {
            [&t.create, &t.update, &t.delete]
                .iter()
                .flat_map(|m| m.get(target).into_iter().flatten())
                .filter(|e| e.key.kind == kind)
                .map(|e| e.file.clone())
                .collect()
        };
        for file in touched("export") {
            let job = file
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .trim_end_matches(".exports");
            let kept: Vec<&&Entry> = t
                .delete
                .get(target)
                .into_iter()
                .flatten()
                .filter(|e| e.key.kind == "export" && e.file == file)
                .collect();
            let base = new
                .files
                .get(&file)
                .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
                .unwrap_or_else(|| {
                    format!("# {header}\n# No tenant is exported by {job} any more.\n")
                });
            // Issue 26: a server is started with its first tenant and
            // stopped when its last one leaves (APPLY.md deploys a server with
            // no tenant, but does not start it: it has nothing to export).
            // First: every export line of its new file is created here, and
            // none was there to change or remove.
            let exported_here = |m: &BTreeMap<&str, Vec<&Entry>>| {
                m.get(target)
                    .into_iter()
                    .flatten()
                    .filter(|e| e.key.kind == "export" && e.file == file)
                    .count()
            };
            let created = exported_here(&t.create);
            let starts = new.files.get(&file).is_some_and(|f| {
                String::from_utf8_lossy(&f.bytes)
                    .lines()
                    .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                    .count()
                    == created
            }) && created > 0
                && exported_here(&t.update) == 0
                && kept.is_empty();
            let stops = !new.files.contains_key(&file);
            let mut staged = base.clone();
            let (kept, dropped) = kept_lines(site, target, job, &base, &kept);
            staged.push_str(&dropped);
            for e in &kept {
                let _ = writeln!(
                    staged,
                    "# kept until its consumers are removed (step \"remove\")\n{}",
                    e.text.as_deref().unwrap_or_default()
                );
            }
            if !files_step {
                heading(&mut md, "z/OS: exports and AT-TLS policies");
                files_step = true;
            }
            let path = format!("{target}/nfs/{job}.exports");
            if starts {
                // STOP and START of the server's started task (z/OS NFS
                // Guide, "Starting and stopping the NFS server"):
                // https://www.ibm.com/docs/en/zos/3.1.0?topic=server-starting-stopping-nfs
                let mut placed = Vec::new();
                for (ext, dd) in [
                    ("attributes", "into its attributes data set (NFSATTR DD)"),
                    (
                        "services",
                        "into `/etc/services` and hlq.ETC.SERVICES on every LPAR it runs on",
                    ),
                ] {
                    let f = format!("{target}/nfs/{job}.{ext}");
                    if let Some(text) = new.files.get(&f) {
                        out.add_text(
                            f.clone(),
                            String::from_utf8_lossy(&text.bytes).into_owned(),
                            none(),
                        )?;
                        placed.push(format!("`{f}` {dd}"));
                    }
                }
                placed.push(format!("`{path}` into its exports data set (EXPORTS DD)"));
                let _ = writeln!(
                    md,
                    "- {job} exports its first tenant: {}, then start it: `S {job}` (z/OS Network File System Guide and Reference, \"Starting and stopping the NFS server\"; it was not started while it had nothing to export).",
                    placed.join(", ")
                );
            } else {
                let _ = writeln!(
                    md,
                    "- Replace the exports data set of {job} with `{path}`, then `F {job},EXPORTFS`: the server reloads its exports without a restart, so mounts in use stay (z/OS Network File System Guide and Reference, \"exportfs\" operand of MODIFY).",
                );
            }
            out.add_text(path, staged, none())?;
            if !kept.is_empty() {
                final_exports.push((format!("{target}/nfs/final/{job}.exports"), base, stops));
            }
        }
        for file in touched("attls-rule") {
            if let Some(f) = new.files.get(&file) {
                if !files_step {
                    heading(&mut md, "z/OS: exports and AT-TLS policies");
                    files_step = true;
                }
                let path = file.clone();
                let _ = writeln!(
                    md,
                    "- Replace the policy in the Policy Agent's AT-TLS file with `{path}`, then `F PAGENT,REFRESH` (connections in progress keep their session).",
                );
                out.add_text(path, String::from_utf8_lossy(&f.bytes).into_owned(), none())?;
            }
        }
    }
    // 4. Arrays: create.
    let arrays: Vec<&str> = t
        .targets()
        .into_iter()
        .filter(|x| x.starts_with("array/"))
        .collect();
    let mut array_step = false;
    for target in &arrays {
        let Some(list) = t.create.get(target) else {
            continue;
        };
        let name = target.trim_start_matches("array/");
        let Some(array) = site.arrays.iter().find(|a| a.name.value == name) else {
            continue;
        };
        let mut script = purity_preamble(&header, Some(&array.endpoint.value), &array.admin.value);
        for e in list {
            let Some(r) = new.inventory.recipes.get(&e.key) else {
                continue;
            };
            for words in &r.create {
                let quoted: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
                let line = match e.key.kind.as_str() {
                    "user" => format!("purity_tty {}", quoted.join(" ")),
                    // Made by the user, over its own session; printed once.
                    "api-token" => format!(
                        "printf '%s\\n' {} >&2\nssh -t -- {}\"@${{ARRAY}}\" {}",
                        shell_quote(&format!(
                            "Creating an API token for {}; store it where the spec's token source names.",
                            e.key.name
                        )),
                        shell_quote(&e.key.name),
                        quoted.join(" ")
                    ),
                    _ => format!("purity {}", quoted.join(" ")),
                };
                let _ = writeln!(script, "{line}");
            }
        }
        if !array_step {
            heading(&mut md, "FlashArrays: create");
            array_step = true;
        }
        let path = format!("pure/{name}/C4-create.sh");
        let _ = writeln!(md, "- `bash {path}` (asks for each new user's password and prints each new API token once: store it where the spec's token source names, before the next step).");
        out.add_text(path, script, none())?;
    }
    // 5. Clusters: create and change.
    let clusters: Vec<&str> = t
        .targets()
        .into_iter()
        .filter(|x| x.starts_with("cluster/"))
        .collect();
    let mut cluster_step = false;
    for target in &clusters {
        let name = target.trim_start_matches("cluster/");
        let dir = format!("k8s/{name}");
        let apply: Vec<&&Entry> = t
            .create
            .get(target)
            .into_iter()
            .flatten()
            .chain(t.update.get(target).into_iter().flatten())
            .collect();
        if apply.is_empty() {
            continue;
        }
        let mut resources = BTreeSet::new();
        let mut generators = String::new();
        for e in &apply {
            if e.key.kind == "Secret" {
                if let Some(g) = new
                    .inventory
                    .recipes
                    .get(&e.key)
                    .and_then(|r| r.create.first())
                {
                    let _ = writeln!(
                        generators,
                        "- name: {}\n  namespace: {}\n  type: {}\n  files:",
                        g[0], g[1], g[2]
                    );
                    for f in &g[3..] {
                        let _ = writeln!(generators, "  - {f}");
                        // The file the operator provides, listed in the
                        // manifest as the new bundle lists its own copy
                        // (`<key>=secrets/<path>` here, `secrets/<path>`
                        // beside the new bundle's cluster directory).
                        let rel = f.split_once('=').map_or(f.as_str(), |(_, r)| r);
                        let day0 = format!("{dir}/{rel}");
                        let note = new.secrets.get(&day0).cloned().unwrap_or_else(|| {
                            crate::bundle::SecretNote {
                                source: format!("as {day0} of the new bundle"),
                                tenants: e.owners.iter().cloned().collect(),
                            }
                        });
                        out.note_secret(format!("{dir}/apply/{rel}"), note);
                    }
                }
                continue;
            }
            let Some(rel) = e.file.strip_prefix(&format!("{dir}/")) else {
                continue;
            };
            if let Some(f) = new.files.get(&e.file) {
                resources.insert(rel.to_string());
                out.add_text(
                    format!("{dir}/apply/{rel}"),
                    String::from_utf8_lossy(&f.bytes).into_owned(),
                    none(),
                )?;
            }
        }
        let mut k = format!(
            "# {header}\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        );
        if !resources.is_empty() {
            k.push_str("resources:\n");
            for r in &resources {
                let _ = writeln!(k, "- {r}");
            }
        }
        if !generators.is_empty() {
            k.push_str("secretGenerator:\n");
            k.push_str(&generators);
            k.push_str("generatorOptions:\n  disableNameSuffixHash: true\n");
        }
        if !cluster_step {
            heading(&mut md, "Clusters: create and change");
            cluster_step = true;
        }
        // haproxy reads its certificates only when it starts.
        let rolled: BTreeSet<&str> = apply
            .iter()
            .filter(|e| e.key.kind == "Deployment")
            .map(|e| e.key.name.as_str())
            .collect();
        let mut restarts = BTreeSet::new();
        for e in &apply {
            let Some((ns, secret)) = e.key.name.split_once('/') else {
                continue;
            };
            let proxy = format!("{ns}/{}", crate::plan::PROXY_DEPLOYMENT);
            if e.key.kind == "Secret"
                && [crate::plan::CLIENT_SECRET, crate::plan::CA_SECRET].contains(&secret)
                && !rolled.contains(proxy.as_str())
            {
                restarts.insert(ns.to_string());
            }
        }
        let path = format!("{dir}/apply/kustomization.yaml");
        // Nothing for kubectl apply -k when only the TLS Secrets change (a
        // renewal): kubectl refuses a kustomization with no object.
        let kustomized = !(resources.is_empty() && generators.is_empty());
        if kustomized {
            let _ = writeln!(
                md,
                "- Cluster {name}: put the new secret files this kustomization generates from under `{dir}/apply/secrets/` (the new bundle's `manifest.json` says where each comes from), then `kubectl apply -k {dir}/apply`. Only the objects listed above change; the others are not touched."
            );
        }
        // The proxies' TLS Secrets, made from the exports by each tenant's
        // script (issue 27: never from a file of the bundle).
        let scripts: BTreeSet<&str> = apply
            .iter()
            .filter(|e| e.key.kind == "Secret" && e.file.ends_with(".sh"))
            .map(|e| e.file.as_str())
            .collect();
        for script in scripts {
            if let Some(f) = new.files.get(script) {
                out.add_text(
                    script.to_string(),
                    String::from_utf8_lossy(&f.bytes).into_owned(),
                    none(),
                )?;
                let _ = writeln!(
                    md,
                    "- `EXPORTS_DIR=<the private directory> bash {script}`: the proxy's TLS Secrets from the exports (openssl asks for the export password), then the workstation copies deleted."
                );
            }
        }
        for ns in restarts {
            let _ = writeln!(
                md,
                "- `kubectl -n {ns} rollout restart deployment/{}`: the proxy reads its renewed certificates when it starts; `kubectl -n {ns} rollout status deployment/{}` waits for it.",
                crate::plan::PROXY_DEPLOYMENT,
                crate::plan::PROXY_DEPLOYMENT
            );
        }
        if kustomized {
            out.add_text(path, k, none())?;
        }
    }
    // 6. Removal: clusters, arrays, z/OS.
    let mut removal = false;
    let mut removal_heading = |md: &mut String| {
        if !removal {
            removal = true;
            step += 1;
            let _ = writeln!(md, "\n## {step}. Remove what no spec needs any more\n");
        }
    };
    for target in &clusters {
        let Some(list) = t.delete.get(target) else {
            continue;
        };
        let name = target.trim_start_matches("cluster/");
        let mut script = format!("#!/usr/bin/env bash\n# {header}\n# Deletes each object by kind, namespace and name; a missing one is an error.\nset -euo pipefail\n");
        for e in list {
            let (ns, obj) = match e.key.name.split_once('/') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, e.key.name.as_str()),
            };
            let ns = ns
                .map(|n| format!(" -n {}", shell_quote(n)))
                .unwrap_or_default();
            let _ = writeln!(
                script,
                "kubectl delete{ns} {} {}",
                kubectl_resource(&e.key.kind),
                shell_quote(obj)
            );
        }
        let path = format!("k8s/{name}/C6-delete.sh");
        removal_heading(&mut md);
        let _ = writeln!(
            md,
            "- Cluster {name}: `bash {path}` (workloads first, namespaces last)."
        );
        out.add_text(path, script, none())?;
    }
    for target in &arrays {
        let Some(list) = t.delete.get(target) else {
            continue;
        };
        let name = target.trim_start_matches("array/");
        // An array gone from the specs: the operator names it.
        let array = site.arrays.iter().find(|a| a.name.value == name);
        let mut script = purity_preamble(
            &header,
            array.map(|a| a.endpoint.value.as_str()),
            array.map_or("pureuser", |a| a.admin.value.as_str()),
        );
        for e in list {
            for line in purity_delete(e, opts.eradicate) {
                let _ = writeln!(script, "{line}");
            }
        }
        let path = format!("pure/{name}/C7-delete.sh");
        removal_heading(&mut md);
        let _ = writeln!(
            md,
            "- `bash {path}`: {}",
            if opts.eradicate {
                "destroys and eradicates the removed pods and realms (their data is gone at once)."
            } else {
                "destroys the removed pods and realms; they stay recoverable for the array's eradication delay (plan with --eradicate to eradicate them at once)."
            }
        );
        out.add_text(path, script, none())?;
    }
    for (path, text, stops) in final_exports {
        removal_heading(&mut md);
        let job = path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".exports")
            .to_string();
        let _ = writeln!(
            md,
            "- Replace the exports data set of {job} with `{path}`, then `F {job},EXPORTFS`."
        );
        if stops {
            // STOP of the server's started task (z/OS NFS Guide, "Starting
            // and stopping the NFS server"):
            // https://www.ibm.com/docs/en/zos/3.1.0?topic=server-starting-stopping-nfs
            let _ = writeln!(
                md,
                "- No tenant is exported by {job} any more: stop it, `P {job}` (z/OS Network File System Guide and Reference, \"Starting and stopping the NFS server\"). A server still in the specs keeps its certificate, key ring and AT-TLS rule; the plan that adds its next tenant starts it again."
            );
        }
        out.add_text(path, text, none())?;
    }
    // The exported directories of removed volumes: a flag decides, never
    // silently.
    for target in &zos {
        let gone: Vec<&&Entry> = t
            .delete
            .get(target)
            .into_iter()
            .flatten()
            .filter(|e| e.key.kind == "directory")
            .collect();
        if gone.is_empty() {
            continue;
        }
        removal_heading(&mut md);
        if opts.remove_directories {
            let mut script = format!("#!/bin/sh\n# {header}\n# Removes the exported directories of removed volumes, with their files.\nset -eu\n");
            for e in &gone {
                let _ = writeln!(script, "rm -r {}", shell_quote(&e.key.name));
            }
            let path = format!("{target}/uss/C8-rmdirs.sh");
            let _ = writeln!(md, "- In the z/OS UNIX shell, as a superuser: `sh {path}` (the directories of the removed volumes go, with their files).");
            out.add_text(path, script, none())?;
        } else {
            let _ = write!(md, "- {target}: the directories of the removed volumes are kept, with their files (plan with --remove-directories to remove them):");
            for e in &gone {
                let _ = write!(md, " `{}`", e.key.name);
            }
            md.push('\n');
        }
    }
    for target in &zos {
        let Some(list) = t.delete.get(target) else {
            continue;
        };
        let mut cmds = Vec::new();
        let mut what = Vec::new();
        for e in list {
            if let Some(lines) = racf::delete_lines(&e.key.kind, &e.key.name) {
                cmds.push(lines?);
                what.push(format!("{} {}", e.key.kind, e.key.name));
            }
        }
        let rules: Vec<&&Entry> = list.iter().filter(|e| e.key.kind == "attls-rule").collect();
        for r in rules {
            removal_heading(&mut md);
            // A server no spec declares any more: its policy file is gone
            // from the new bundle. The change holds it emptied, so the step
            // is a file like every other (the statements that file placed
            // are replaced by none); `bundle::admit` holds the deployed
            // `file` to `zos/<system>/pagent/<name>.policy`.
            // TTLSRule and the Policy Agent's refresh:
            // https://www.ibm.com/docs/en/zos/latest?topic=statements-ttlsrule-statement
            // https://www.ibm.com/docs/en/zos/3.1.0?topic=agent-modify-command-policy-address-space
            if !new.files.contains_key(&r.file) && !out.files.contains_key(&r.file) {
                out.add_text(
                    r.file.clone(),
                    format!(
                        "# {header}\n\
                         # The AT-TLS policy of an NFS server no spec declares any more\n\
                         # (rule {}): no statement. Delete the statements this file placed\n\
                         # in the Policy Agent's AT-TLS file, then F PAGENT,REFRESH.\n",
                        r.key.name
                    ),
                    none(),
                )?;
                let _ = writeln!(md, "- {target}: `{}` holds no statement any more (the rule `{}` of a removed server): delete the statements it placed from the Policy Agent's AT-TLS file, then `F PAGENT,REFRESH`.", r.file, r.key.name);
                // What the site set up for the server beyond the bundle's
                // objects is not in the inventory: said, not planned.
                let _ = writeln!(md, "- {target}: the NFS server of that policy is no longer in the specs: stop it if it still runs, then retire what the site set up for it (its procedure, its attributes data set from the deployed bundle's `nfs/*.attributes`, and its `/etc/services` lines where no other server of the system lists the same ones).");
            } else {
                let _ = writeln!(md, "- {target}: remove the policy of rule `{}` (`{}`) from the Policy Agent's AT-TLS file, then `F PAGENT,REFRESH`.", r.key.name, r.file);
            }
        }
        if cmds.is_empty() {
            continue;
        }
        let Some(sys) = system(site, target) else {
            removal_heading(&mut md);
            let _ = writeln!(
                md,
                "- {target} is no longer in the specs: remove by hand: {}.",
                what.join("; ")
            );
            continue;
        };
        let path = format!("{target}/jcl/C9-delete.jcl");
        let text = racf::change_job(
            templates,
            sys,
            &header,
            &format!("{target} delete"),
            &["Removes what no spec needs any more: ring connections, rings, certificates, permits and profiles, in that order."],
            cmds,
        )?;
        removal_heading(&mut md);
        let _ = writeln!(
            md,
            "- Submit `{path}` on {}: RC 0. It removes: {}.",
            sys.name.value,
            what.join("; ")
        );
        out.add_text(path, text, none())?;
    }
    if !c.due.is_empty() || !c.refused.is_empty() {
        md.push_str("\n## Not planned\n\n");
        for e in &c.due {
            let _ = writeln!(md, "- {} {}: NOTAFTER {} falls within the renewal window: give it a new label and dates in the spec, and plan again.", e.key.target, e.key.name, e.not_after.as_deref().unwrap_or("?"));
        }
        for r in &c.refused {
            let _ = writeln!(md, "- {r}");
        }
    }
    out.add_text("CHANGE.md".into(), md, none())?;
    out.add_text("plan.json".into(), to_json(c), none())?;
    // What the systems hold once it is done: written with the manifest.
    out.inventory = inventory;
    Ok(out)
}

/// The head of a Purity change script: the same helpers as setup.sh.
fn purity_preamble(header: &str, endpoint: Option<&str>, admin: &str) -> String {
    let array = match endpoint {
        Some(e) => format!("ARRAY={}", shell_quote(e)),
        None => "ARRAY=${PURE_ARRAY:?the array is gone from the specs: set PURE_ARRAY to its management address}".into(),
    };
    format!(
        "#!/usr/bin/env bash\n# {header}\n# Runs each Purity//FA command once; a command that fails stops the script.\nset -euo pipefail\n\n{array}\nADMIN=${{PURE_ADMIN:-{}}}\n\npurity() {{\n    ssh -o BatchMode=yes -- \"${{ADMIN}}@${{ARRAY}}\" \"$(printf '%q ' \"$@\")\"\n}}\n\npurity_tty() {{\n    ssh -t -- \"${{ADMIN}}@${{ARRAY}}\" \"$(printf '%q ' \"$@\")\"\n}}\n\n",
        shell_quote(admin)
    )
}

/// The Purity commands that remove an object: `pureadmin delete`,
/// `purepolicy management-access delete`, `purepod destroy` and
/// `purerealm destroy` (with `eradicate` when asked).
fn purity_delete(e: &Entry, eradicate: bool) -> Vec<String> {
    let q = shell_quote(&e.key.name);
    match e.key.kind.as_str() {
        "api-token" => vec![format!("purity pureadmin delete --api-token {q}")],
        "user" => vec![format!("purity pureadmin delete {q}")],
        "policy" => vec![format!("purity purepolicy management-access delete {q}")],
        "pod" | "realm" => {
            let cmd = if e.key.kind == "pod" {
                "purepod"
            } else {
                "purerealm"
            };
            let mut v = vec![format!("purity {cmd} destroy {q}")];
            if eradicate {
                v.push(format!("purity {cmd} eradicate {q}"));
            }
            v
        }
        _ => Vec::new(),
    }
}

/// The script that makes `tenant`'s proxy TLS Secrets in the bundle `new`
/// (the file of its client Secret's inventory entry), if it has a proxy.
fn tls_script_of<'a>(new: &'a Bundle, tenant: Option<&str>) -> Option<&'a str> {
    let tenant = tenant?;
    let client = format!("/{}", crate::plan::CLIENT_SECRET);
    new.inventory
        .entries
        .values()
        .find(|e| {
            e.key.kind == "Secret"
                && e.key.name.ends_with(&client)
                && e.file.ends_with(".sh")
                && e.owners.iter().any(|o| o == tenant)
        })
        .map(|e| e.file.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::inventory::Recipe;

    fn inv(entries: &[(&str, &str, &str, Option<&str>)]) -> Inventory {
        let mut i = Inventory::default();
        for (kind, name, digest, role) in entries {
            let mut e = Entry::new(
                Key::new("zos/S", kind, *name),
                &[String::from("t")],
                "f",
                digest.to_string(),
            );
            e.role = role.map(str::to_string);
            i.record(e, Recipe::default()).expect("one definition");
        }
        i
    }

    fn names(v: &[Entry]) -> Vec<String> {
        v.iter()
            .map(|e| format!("{} {}", e.key.kind, e.key.name))
            .collect()
    }

    #[test]
    fn only_what_is_absent_is_created_and_what_is_gone_removed() {
        let old = inv(&[("keyring", "U/R", "1", None), ("permit", "P", "1", None)]);
        let new = inv(&[("keyring", "U/R", "1", None), ("profile", "Q", "1", None)]);
        let c = diff(&old, &new);
        assert_eq!(names(&c.create), ["profile Q"]);
        assert_eq!(names(&c.delete), ["permit P"]);
        assert!(c.update.is_empty() && c.renew.is_empty() && c.refused.is_empty());
        assert!(diff(&new, &new).is_empty());
    }

    #[test]
    fn a_certificate_under_a_new_label_for_the_same_role_is_a_renewal() {
        let old = inv(&[
            ("certificate", "U/old", "1", Some("client:t")),
            ("ring-connection", "S/R/U/old", "1", None),
        ]);
        let new = inv(&[
            ("certificate", "U/new", "2", Some("client:t")),
            ("ring-connection", "S/R/U/new", "1", None),
        ]);
        let c = diff(&old, &new);
        assert_eq!(c.renew.len(), 1);
        assert_eq!(c.renew[0].old.key.name, "U/old");
        // ROLLOVER moves the connection; the old certificate goes last.
        assert!(c.create.is_empty(), "{:?}", names(&c.create));
        assert_eq!(names(&c.delete), ["certificate U/old"]);
    }

    #[test]
    fn an_authority_renewed_stays_connected_until_the_removal_phase() {
        let old = inv(&[
            ("certificate", "CERTAUTH/ca1", "1", Some("authority:ca")),
            ("ring-connection", "S/R/CERTAUTH/ca1", "1", None),
        ]);
        let new = inv(&[
            ("certificate", "CERTAUTH/ca2", "2", Some("authority:ca")),
            ("ring-connection", "S/R/CERTAUTH/ca2", "1", None),
        ]);
        let c = diff(&old, &new);
        assert_eq!(c.renew.len(), 1);
        assert!(c.create.is_empty());
        assert_eq!(
            names(&c.delete),
            [
                "certificate CERTAUTH/ca1",
                "ring-connection S/R/CERTAUTH/ca1"
            ]
        );
    }

    #[test]
    fn an_array_object_changed_under_its_name_is_refused() {
        let mut old = Inventory::default();
        let mut new = Inventory::default();
        for (inv, digest) in [(&mut old, "1"), (&mut new, "2")] {
            let e = Entry::new(
                Key::new("array/fa1", "policy", "px"),
                &[String::from("t")],
                "f",
                digest.into(),
            );
            inv.record(e, Recipe::default()).expect("one definition");
        }
        let c = diff(&old, &new);
        assert_eq!(c.refused.len(), 1, "{:?}", c.refused);
        assert!(c.update.is_empty());
    }

    #[test]
    fn a_certificate_changed_under_its_label_is_refused_and_others_are_updated() {
        let old = inv(&[
            ("certificate", "U/l", "1", Some("client:t")),
            ("export", "N /p", "1", None),
        ]);
        let new = inv(&[
            ("certificate", "U/l", "2", Some("client:t")),
            ("export", "N /p", "2", None),
        ]);
        let c = diff(&old, &new);
        assert_eq!(c.refused.len(), 1, "{:?}", c.refused);
        assert_eq!(names(&c.update), ["export N /p"]);
    }

    #[test]
    fn adds_days_across_months_and_leap_years() {
        use crate::plan::jcl::add_days;
        assert_eq!(add_days("2026-12-06", 30).as_deref(), Some("2027-01-05"));
        assert_eq!(add_days("2028-02-28", 1).as_deref(), Some("2028-02-29"));
        assert_eq!(add_days("2027-02-28", 1).as_deref(), Some("2027-03-01"));
        assert_eq!(add_days("2026-12-31", 366).as_deref(), Some("2028-01-01"));
        assert_eq!(add_days("2027-13-01", 1), None);
        assert_eq!(add_days("soon", 1), None);
    }
}
