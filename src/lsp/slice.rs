//! Re-checking the file being typed into on a slice of its site.
//!
//! What the site says about one tenant file can change with a keystroke in
//! it only through what the file shares with other files: the site's
//! infrastructure (every file that declares more than tenants), the names
//! it mentions or declares, the files whose references resolve into it, and
//! the claims its tenants hold in the plan's ledger
//! ([`crate::plan::claims`], secret sources included), which are all the
//! cross-tenant checks compare.
//! [`Basis`], taken from the last analysis of the whole site and kept up to
//! date by every slice since, knows these for every file.
//!
//! [`Basis::slice`] picks the files an edited tenant file depends on: the
//! infrastructure, the file, and its partners. The server runs the ordinary
//! pipeline ([`crate::analyze`]) on them, told whether files outside have
//! errors (then the cross-object checks do not run, as on the whole site),
//! and [`Basis::judge`] accepts the edited file's diagnostics only when
//! nothing outside the slice can change them:
//!
//! - no partner has an error, and the infrastructure has the errors it had
//!   (a partner's own dependencies may be missing from the slice);
//! - the file's unresolved names, if any, got suggestions of the kinds
//!   they want (declared only by the infrastructure and the file's own
//!   blocks), not names of any kind from the whole site, and suggestions did
//!   not run out ([`crate::resolve::index::Suggestions`]);
//! - the file's imports are as they were (every input file sees them);
//! - the file still declares only tenants, under names no infrastructure
//!   file declares and no file outside the slice imports a module as (the
//!   input files share their import aliases);
//! - every file holding one of the file's keys, as they are now, is in the
//!   slice (else the slice is widened and analysed again), and the keys of
//!   every other tenant file are known (they are not while the site has
//!   errors: the checks, and so the plan, need a clean site).
//!
//! Otherwise the server analyses the whole site. The result is the same as
//! a whole analysis by construction, and `tests/lsp_equivalence.rs` checks
//! it after every step of random edit sequences.

use super::{Analysed, Gathered};
use crate::diagnostics::registry;
use crate::resolve::scope::MAX_SUGGESTED;
use crate::source::FileId;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// A file of the basis, by its position in the site's sorted input list.
type BasisFile = u32;

/// What the site's files share, for choosing slices.
#[derive(Default)]
pub(crate) struct Basis {
    /// The site root its analyses confine reads to.
    pub root: Utf8PathBuf,
    /// [`Gathered::list`] of the inputs it was taken from.
    list: u64,
    paths: Vec<Utf8PathBuf>,
    by_path: HashMap<Utf8PathBuf, BasisFile>,
    /// The texts the facts were learnt from.
    texts: Vec<Arc<str>>,
    facts: Vec<Facts>,
    /// Top-level name ([`hash`]ed) to the files declaring it.
    tops: Holders,
    /// Import alias ([`hash`]ed like a name) to the files importing as it:
    /// the input files share their aliases, which no declaration may take.
    imports: Holders,
    /// An import name to the bindings of it (alias and module, [`hash`]ed)
    /// and how many files make each: a name bound to two modules is E0213.
    bindings: HashMap<u64, HashMap<u64, usize>>,
    /// A key ([`hash`]ed: secret sources, check keys) to the files of the
    /// tenants holding it.
    keys: Holders,
    /// Files with an error found before the checks.
    failing: BTreeSet<BasisFile>,
    /// Tenant files whose check keys are unknown (the site had errors).
    unknown: BTreeSet<BasisFile>,
    /// Files with unresolved names, and the words of their text.
    wanting: BTreeMap<BasisFile, HashSet<u64>>,
    /// At least as many unresolved references as asked for suggestions in
    /// the whole site (its last analysis, plus every slice since): below
    /// [`MAX_SUGGESTED`], every one got them, in the site as in a slice.
    asked: usize,
    /// The last whole analysis met a name declared by a block of unknown
    /// kind (references to it are dropped silently).
    poisoned: bool,
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Facts {
    /// Every top-level block is a `tenant`.
    tenant_only: bool,
    /// Its top-level names, [`hash`]ed.
    tops: Vec<u64>,
    /// Its tenants' claims as keys ([`crate::plan::claims::Claim::keys`]):
    /// the keys they hold and the keys whose holders are their partners;
    /// `None` when unknown.
    reach: Option<ReachKeys>,
    /// Its imports (alias and module), [`hash`]ed, sorted.
    aliases: Vec<u64>,
    /// The names they are imported as, [`hash`]ed like [`Facts::tops`].
    alias_names: Vec<u64>,
    /// Each import as (name, alias and module) [`hash`]ed, sorted.
    bound: Vec<(u64, u64)>,
    /// Other tenant files its references resolve into.
    refers_to: BTreeSet<BasisFile>,
    /// Files whose references resolve into it (it being a tenant file).
    referred_by: BTreeSet<BasisFile>,
    failing: bool,
}

/// The files to analyse for one edited file.
#[derive(Debug)]
pub(crate) struct Slice {
    members: BTreeSet<BasisFile>,
    /// Files outside the slice have errors.
    pub errors_elsewhere: bool,
}

pub(crate) enum Verdict {
    /// The slice's diagnostics for the file are the site's.
    Exact,
    /// These files hold keys of the file too: analyse again with them.
    Widen(Vec<BasisFile>),
    /// Only the whole site will do.
    Whole(&'static str),
}

/// A name or word as spec text writes it.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || "_-$#@".contains(c)))
        .filter(|w| !w.is_empty())
}

/// A key or name as the basis keeps it: 64 bits (at 10,000 tenants the
/// keys as text held 30 MB). Two that collide make a file a partner it need
/// not be: a slice larger than needed, never a wrong answer.
fn hash(kind: &str, key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    (kind, key).hash(&mut h);
    h.finish()
}

/// Keys held, and keys whose holders are partners, sorted.
#[derive(Debug, Default, Clone, PartialEq)]
struct ReachKeys {
    holds: Vec<u64>,
    asks: Vec<u64>,
}

/// Files by key; most keys have one holder.
#[derive(Default)]
struct Holders {
    first: HashMap<u64, BasisFile>,
    more: HashMap<u64, Vec<BasisFile>>,
}

impl Holders {
    fn insert(&mut self, k: u64, f: BasisFile) {
        match self.first.entry(k) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(f);
            }
            // A file installs each key once (its keys are deduplicated).
            std::collections::hash_map::Entry::Occupied(e) if *e.get() != f => {
                self.more.entry(k).or_default().push(f);
            }
            std::collections::hash_map::Entry::Occupied(_) => {}
        }
    }

    fn remove(&mut self, k: u64, f: BasisFile) {
        if self.first.get(&k) == Some(&f) {
            let next = self.more.get_mut(&k).and_then(Vec::pop);
            match next {
                Some(n) => {
                    self.first.insert(k, n);
                }
                None => {
                    self.first.remove(&k);
                }
            }
        } else if let Some(more) = self.more.get_mut(&k) {
            more.retain(|x| *x != f);
        }
        if self.more.get(&k).is_some_and(Vec::is_empty) {
            self.more.remove(&k);
        }
    }

    fn get(&self, k: u64) -> impl Iterator<Item = BasisFile> + '_ {
        let more = self.more.get(&k).into_iter().flatten().copied();
        self.first.get(&k).copied().into_iter().chain(more)
    }
}

/// What one analysis says of one file.
struct Learnt<'a> {
    snap: &'a Analysed,
    /// The analysis's file of each basis file, and back.
    to_fid: HashMap<FileId, BasisFile>,
}

impl<'a> Learnt<'a> {
    fn new(snap: &'a Analysed, by_path: &HashMap<Utf8PathBuf, BasisFile>) -> Learnt<'a> {
        let to_fid = snap
            .by_path
            .iter()
            .filter_map(|(p, f)| Some((*f, *by_path.get(p)?)))
            .collect();
        Learnt { snap, to_fid }
    }

    fn fid(&self, f: FileId) -> Option<BasisFile> {
        self.to_fid.get(&f).copied()
    }

    /// The facts of every basis file the analysis read, by file.
    fn facts(&self) -> BTreeMap<BasisFile, Facts> {
        let a = &self.snap.analysis;
        let mut out: BTreeMap<BasisFile, Facts> = self
            .to_fid
            .values()
            .map(|f| {
                (
                    *f,
                    Facts {
                        tenant_only: true,
                        reach: Some(ReachKeys::default()),
                        ..Facts::default()
                    },
                )
            })
            .collect();
        // Names no declaration holds (a block of unknown kind, a block a
        // syntax error skipped) decide what references to them say
        // elsewhere, as declarations do.
        for (f, name) in &a.undeclared {
            if let Some(facts) = self.fid(*f).and_then(|f| out.get_mut(&f)) {
                facts.tops.push(hash("t", name));
            }
        }
        for (i, d) in a.index.decls.iter().enumerate() {
            if d.parent.is_some() {
                continue;
            }
            let Some(facts) = self.fid(d.span.file).and_then(|f| out.get_mut(&f)) else {
                continue;
            };
            facts.tenant_only &= d.kind == "tenant";
            if d.named {
                facts.tops.push(hash("t", a.index.name(&a.sources, i)));
            }
        }
        // A file another input imports is loaded as a module, in a namespace
        // of its own: what it says depends on its importers, so it is
        // analysed with the infrastructure, never alone.
        for (f, root) in &a.index.file_roots {
            if let Some(facts) = self.fid(*f).and_then(|f| out.get_mut(&f)) {
                facts.tenant_only &= *root == 0;
            }
        }
        for r in &a.index.refs {
            let crate::resolve::index::Target::Decl(d) = r.target else {
                continue;
            };
            let (Some(from), Some(to)) =
                (self.fid(r.span.file), self.fid(a.index.decls[d].span.file))
            else {
                continue;
            };
            if from != to && out.get(&to).is_some_and(|f| f.tenant_only) {
                if let Some(f) = out.get_mut(&from) {
                    f.refers_to.insert(to);
                }
            }
        }
        // The input files share one namespace, their imports included: any
        // of them may reach a module through another's `import ... as`.
        for alias in a.index.roots.first().iter().flat_map(|r| &r.aliases) {
            let module = a.index.roots.get(alias.target).and_then(|r| r.file);
            let path = module.and_then(|m| a.sources.get(m).path.as_ref());
            let key = format!("{}\0{}", alias.name, path.map_or("", |p| p.as_str()));
            if let Some(f) = self.fid(alias.span.file).and_then(|f| out.get_mut(&f)) {
                f.aliases.push(hash("import", &key));
                f.alias_names.push(hash("t", &alias.name));
                f.bound.push((hash("t", &alias.name), hash("import", &key)));
            }
        }
        for f in &a.failing {
            if let Some(facts) = self.fid(*f).and_then(|f| out.get_mut(&f)) {
                facts.failing = true;
            }
        }
        let file_of = |t: &crate::ir::Tenant| self.fid(t.name.span.file);
        match &a.plan {
            Some(plan) => {
                let (mut holds, mut asks) = (Vec::new(), Vec::new());
                let mut names: HashMap<crate::plan::claims::Scope, String> = HashMap::new();
                for c in &plan.claims {
                    let Some(t) = c.holder.tenant() else { continue };
                    let Some(facts) = file_of(a.site.tenant(t)).and_then(|f| out.get_mut(&f))
                    else {
                        continue;
                    };
                    let r = facts.reach.get_or_insert_with(ReachKeys::default);
                    let scope = (names.entry(c.scope))
                        .or_insert_with(|| scope_name(&a.site, &a.sources, c.scope));
                    c.keys_in(scope, &mut holds, &mut asks);
                    r.holds.extend(holds.drain(..).map(|k| hash("k", &k)));
                    r.asks.extend(asks.drain(..).map(|k| hash("k", &k)));
                }
            }
            None => out.values_mut().for_each(|f| f.reach = None),
        }
        for f in out.values_mut() {
            if let Some(r) = &mut f.reach {
                r.holds.sort_unstable();
                r.holds.dedup();
                r.asks.sort_unstable();
                r.asks.dedup();
            }
            f.aliases.sort_unstable();
            f.alias_names.sort_unstable();
            f.alias_names.dedup();
            f.bound.sort_unstable();
            f.bound.dedup();
        }
        out
    }

    /// Whether the file has an unresolved name.
    fn unresolved(&self, f: FileId) -> bool {
        self.snap
            .analysis
            .diagnostics
            .iter()
            .any(|d| d.primary.span.file == f && d.code == registry::UNRESOLVED)
    }
}

/// A claim's scope by the file and name of its declaration: the same in
/// every slice and in the whole site, which number their clusters, systems
/// and arrays in the order they read them (a cluster declared by a module
/// that tenant files import is read only with them).
fn scope_name(
    site: &crate::ir::Site,
    sources: &crate::source::SourceMap,
    scope: crate::plan::claims::Scope,
) -> String {
    use crate::plan::claims::Scope;
    let at = |what: &str, name: &crate::ir::Sp<String>| {
        let file = &sources.get(name.span.file).name;
        format!("{what}\0{file}\0{}", name.value)
    };
    match scope {
        Scope::Site => "site".to_string(),
        // Every system is in the site's one domain until domains are
        // declared (then a domain is named by its declaration too).
        Scope::Domain(d) => format!("domain {}", d.0),
        Scope::System(s) => at("system", &site.system(s).name),
        Scope::Lpar(s) => at("lpar", &site.system(s).name),
        Scope::Cluster(c) => at("cluster", &site.cluster(c).name),
        Scope::Array(x) => at("array", &site.array(x).name),
    }
}

impl Basis {
    /// The basis of a whole-site analysis of `gathered`.
    pub fn new(snap: &Analysed, gathered: &Gathered) -> Basis {
        let inputs = gathered.readable.as_slice();
        let by_path: HashMap<Utf8PathBuf, BasisFile> = inputs
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i as BasisFile))
            .collect();
        let mut b = Basis {
            root: snap.analysis.bounds.root.clone(),
            list: gathered.list,
            paths: inputs.to_vec(),
            texts: vec![Arc::from(""); inputs.len()],
            facts: vec![Facts::default(); inputs.len()],
            by_path,
            asked: snap.analysis.index.suggestions.asked,
            poisoned: snap.analysis.index.suggestions.poisoned,
            ..Basis::default()
        };
        let learnt = Learnt::new(snap, &b.by_path);
        let facts = learnt.facts();
        for (f, fid) in &learnt.to_fid {
            b.texts[*fid as usize] = snap.analysis.sources.get(*f).text.clone();
        }
        for (fid, facts) in facts {
            b.install(fid, facts);
        }
        for (f, fid) in &learnt.to_fid {
            if learnt.unresolved(*f) {
                b.want(*fid, true);
            }
        }
        b
    }

    /// Whether the site is the basis's with only `edited` changed.
    pub fn same_site(&self, now: &Gathered, edited: &Utf8Path) -> bool {
        let Some(&fid) = self.by_path.get(edited) else {
            return false;
        };
        now.list == self.list
            && now.texts.len() == self.texts.len()
            && (now.texts.iter().zip(&self.texts).enumerate())
                .all(|(i, (a, b))| i == fid as usize || Arc::ptr_eq(a, b) || a == b)
    }

    pub fn paths(&self, slice: &Slice) -> Vec<Utf8PathBuf> {
        // In the site's order: which of two claimants is "first declared"
        // follows it (an infrastructure file may declare tenants too).
        slice
            .members
            .iter()
            .map(|f| self.paths[*f as usize].clone())
            .collect()
    }

    /// The slice to re-check `edited`, whose text is now `text`; `None`
    /// when it is not a file of tenants only.
    pub fn slice(&self, edited: &Utf8Path, text: &str) -> Option<Slice> {
        let fid = *self.by_path.get(edited)?;
        let facts = &self.facts[fid as usize];
        if !facts.tenant_only {
            return None;
        }
        let mut members: BTreeSet<BasisFile> = (0..self.paths.len() as BasisFile)
            .filter(|f| !self.facts[*f as usize].tenant_only)
            .collect();
        members.insert(fid);
        // The names it mentions or declares, and declared before.
        let said: HashSet<u64> = words(text)
            .map(|w| hash("t", w))
            .chain(facts.tops.iter().copied())
            .collect();
        for w in &said {
            members.extend(self.tops.get(*w));
            // The input files share their imports: where a name this file
            // says is bound to two modules (E0213, reported on the later
            // binding), every file binding it. (A file that changes its
            // own imports is judged on the whole site.)
            if self.bindings.get(w).is_some_and(|b| b.len() > 1) {
                members.extend(self.imports.get(*w));
            }
        }
        members.extend(&facts.referred_by);
        for (g, wants) in &self.wanting {
            if said.iter().any(|w| wants.contains(w)) {
                members.insert(*g);
            }
        }
        members.extend(self.holders(facts));
        let errors_elsewhere = self.failing.iter().any(|g| !members.contains(g));
        Some(Slice {
            members,
            errors_elsewhere,
        })
    }

    /// Adds files found to hold keys of the edited one.
    pub fn widen(&self, slice: &mut Slice, more: Vec<BasisFile>) {
        slice.members.extend(more);
        slice.errors_elsewhere = self.failing.iter().any(|g| !slice.members.contains(g));
    }

    /// The files holding one of these facts' keys.
    fn holders(&self, facts: &Facts) -> BTreeSet<BasisFile> {
        let asks = facts.reach.iter().flat_map(|r| &r.asks);
        asks.flat_map(|k| self.keys.get(*k)).collect()
    }

    /// Judges the analysis `snap` of `slice` for the file `edited`; on
    /// [`Verdict::Exact`] the basis has learnt the file's new facts.
    pub fn judge(&mut self, edited: &Utf8Path, slice: &Slice, snap: &Analysed) -> Verdict {
        let Some(&fid) = self.by_path.get(edited) else {
            return Verdict::Whole("a new file");
        };
        let Some(&file) = snap.by_path.get(edited) else {
            return Verdict::Whole("the file was not read");
        };
        let learnt = Learnt::new(snap, &self.by_path);
        let failing: BTreeSet<BasisFile> = snap
            .analysis
            .failing
            .iter()
            .filter_map(|f| learnt.fid(*f))
            .collect();
        for g in slice.members.iter().filter(|g| **g != fid) {
            let (now, before) = (failing.contains(g), self.failing.contains(g));
            if self.facts[*g as usize].tenant_only && (now || before) {
                return Verdict::Whole("a tenant file it depends on has errors");
            }
            if now != before {
                return Verdict::Whole("the infrastructure's errors changed");
            }
        }
        // An unresolved name's suggestions are the site's when they were
        // drawn from names of the kinds it wants (every one declared by the
        // infrastructure or the file's own blocks), none was dropped for a
        // block of unknown kind elsewhere, and suggestions did not run out.
        let suggestions = &snap.analysis.index.suggestions;
        let unresolved = learnt.unresolved(file);
        if unresolved {
            if suggestions.wide.contains(&file) {
                return Verdict::Whole("an unresolved name given names of any kind");
            }
            if suggestions.poisoned || self.poisoned {
                return Verdict::Whole("a name declared by a block of unknown kind");
            }
            if self.asked + suggestions.asked >= MAX_SUGGESTED {
                return Verdict::Whole("more unresolved names than get suggestions");
            }
        }
        let Some(mut facts) = learnt.facts().remove(&fid) else {
            return Verdict::Whole("the file was not read");
        };
        if !facts.tenant_only {
            return Verdict::Whole("the file declares more than tenants");
        }
        if facts.aliases != self.facts[fid as usize].aliases {
            return Verdict::Whole("its imports changed (every file sees them)");
        }
        let infra_name = facts.tops.iter().any(|n| {
            self.tops
                .get(*n)
                .any(|f| !self.facts[f as usize].tenant_only)
        });
        if infra_name {
            return Verdict::Whole("a tenant named like infrastructure");
        }
        let alias = facts.tops.iter().any(|n| {
            self.imports
                .get(*n)
                .any(|f| f != fid && !slice.members.contains(&f))
        });
        if alias {
            return Verdict::Whole("a name another file imports as");
        }
        let checked = snap.analysis.plan.is_some() && !slice.errors_elsewhere;
        if checked && self.unknown.iter().any(|f| *f != fid) {
            return Verdict::Whole("the keys of other tenants are unknown");
        }
        let more: Vec<BasisFile> = self
            .holders(&facts)
            .into_iter()
            .filter(|f| !slice.members.contains(f))
            .collect();
        if !more.is_empty() {
            return Verdict::Widen(more);
        }
        facts.referred_by = self.facts[fid as usize].referred_by.clone();
        self.uninstall(fid);
        self.install(fid, facts);
        self.texts[fid as usize] = snap.analysis.sources.get(file).text.clone();
        self.want(fid, unresolved);
        self.asked += suggestions.asked;
        self.poisoned |= suggestions.poisoned;
        Verdict::Exact
    }

    fn install(&mut self, fid: BasisFile, facts: Facts) {
        self.index(fid, &facts, true);
        self.facts[fid as usize] = facts;
    }

    fn uninstall(&mut self, fid: BasisFile) {
        let facts = std::mem::take(&mut self.facts[fid as usize]);
        self.index(fid, &facts, false);
    }

    /// Enters the file's facts in the indexes, or with `add` false takes
    /// them out.
    fn index(&mut self, fid: BasisFile, facts: &Facts, add: bool) {
        let put = |h: &mut Holders, k: u64| match add {
            true => h.insert(k, fid),
            false => h.remove(k, fid),
        };
        for n in &facts.tops {
            put(&mut self.tops, *n);
        }
        for n in &facts.alias_names {
            put(&mut self.imports, *n);
        }
        for (name, key) in &facts.bound {
            let by = self.bindings.entry(*name).or_default();
            let n = by.entry(*key).or_default();
            match add {
                true => *n += 1,
                false => *n = n.saturating_sub(1),
            }
            if *n == 0 {
                by.remove(key);
            }
            if by.is_empty() {
                self.bindings.remove(name);
            }
        }
        for k in facts.reach.iter().flat_map(|r| &r.holds) {
            put(&mut self.keys, *k);
        }
        for to in &facts.refers_to {
            let by = &mut self.facts[*to as usize].referred_by;
            match add {
                true => by.insert(fid),
                false => by.remove(&fid),
            };
        }
        let unknown = facts.reach.is_none() && facts.tenant_only;
        for (set, on) in [
            (&mut self.failing, facts.failing),
            (&mut self.unknown, unknown),
        ] {
            match add {
                true if on => set.insert(fid),
                true => false,
                false => set.remove(&fid),
            };
        }
    }

    /// Records whether the file has unresolved names (then the words of its
    /// text: a file declaring one of them may resolve it).
    fn want(&mut self, fid: BasisFile, wants: bool) {
        if wants {
            let text = self.texts[fid as usize].clone();
            self.wanting
                .insert(fid, words(&text).map(|w| hash("t", w)).collect());
        } else {
            self.wanting.remove(&fid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key index finds exactly the partners the ledger's pass relates
    /// (equal keys, nested export paths), and survives holders coming and
    /// going.
    #[test]
    fn holders_are_the_partners_the_claims_relate() {
        use crate::ir::{SystemId, TenantId};
        use crate::plan::claims::{conflicts, Claim, ClaimKind, Holder, Part, Scope};
        let paths = [
            "/", "/a", "/a/", "/a/b", "/a//b/c", "/ab", "/a/bc", "/b", "/b/a", "/a/b/c/d", "/A.B",
            "/a.b.c", "/hfs/a",
        ];
        let n = paths.len() * 2;
        let mut b = Basis {
            facts: vec![Facts::default(); n],
            ..Basis::default()
        };
        let span = |i: usize| crate::source::Span::new(crate::source::FileId(i as u32), 0, 0);
        let claims = |i: usize| {
            let holder = Holder::Tenant(TenantId(i), Part::Volume(0));
            [
                Claim {
                    kind: ClaimKind::TokenSource,
                    scope: Scope::Site,
                    text: format!("{}", i % 3),
                    holder,
                    span: span(i),
                },
                Claim {
                    kind: ClaimKind::ExportSubtree,
                    scope: Scope::Lpar(SystemId(i / paths.len())),
                    text: paths[i % paths.len()].to_string(),
                    holder,
                    span: span(i),
                },
            ]
        };
        let facts = |i: usize| {
            let mut r = ReachKeys::default();
            let (mut holds, mut asks) = (Vec::new(), Vec::new());
            for c in claims(i) {
                c.keys(&mut holds, &mut asks);
            }
            r.holds = holds.iter().map(|k| hash("k", k)).collect();
            r.asks = asks.iter().map(|k| hash("k", k)).collect();
            r.holds.sort_unstable();
            r.holds.dedup();
            r.asks.sort_unstable();
            r.asks.dedup();
            Facts {
                tenant_only: true,
                reach: Some(r),
                ..Facts::default()
            }
        };
        for i in 0..n {
            b.install(i as BasisFile, facts(i));
        }
        for i in 0..n {
            let want: BTreeSet<BasisFile> = (0..n)
                .filter(|&j| {
                    let both: Vec<Claim> = claims(i).into_iter().chain(claims(j)).collect();
                    j == i || !conflicts(&both, &|_| true).is_empty()
                })
                .map(|j| j as BasisFile)
                .collect();
            assert_eq!(b.holders(&facts(i)), want, "{}", paths[i % paths.len()]);
        }
        // Holders leave: a key keeps its other holders.
        for i in (0..n).step_by(2) {
            b.uninstall(i as BasisFile);
        }
        let one = &facts(1).reach.expect("known").holds;
        let left: BTreeSet<BasisFile> = one.iter().flat_map(|k| b.keys.get(*k)).collect();
        assert!(left.iter().all(|j| j % 2 == 1), "{left:?}");
        assert!(left.contains(&1) && left.contains(&7), "{left:?}");
    }

    #[test]
    fn words_are_names() {
        let w: Vec<&str> = words("tenant t-1 { cluster = ocp0.x, image = \"a/b:1\" }").collect();
        assert_eq!(
            w,
            vec!["tenant", "t-1", "cluster", "ocp0", "x", "image", "a", "b", "1"]
        );
    }
}
