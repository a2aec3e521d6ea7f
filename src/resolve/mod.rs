//! Stage 2: syntax trees to the typed IR.
//!
//! [`load`] reads the inputs and their imports, [`scope`] builds the symbol
//! table, [`fields`] checks each block against the [`schema`], and this module
//! assembles the [`ir::Site`], filling every absent field with the schema's
//! default (which names a prelude profile for `tls`, `ports` and `haproxy`).
//! After this stage nothing looks at syntax again.

pub mod fields;
pub mod index;
pub mod load;
pub mod schema;
pub mod scope;
pub mod secrets;
pub mod siblings;

use crate::diagnostics::{registry, Diagnostic};
use crate::ir::*;
use crate::source::Span;
use fields::{Checker, Fields, Typed};
use load::Loaded;
use schema::{BlockSchema, Dflt, Word};
use scope::{SymId, Symbols};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::rc::Rc;

/// Resolves loaded modules into a site. Diagnostics go to `diags`; the site is
/// complete enough for checks even when there were errors (bad values are
/// left out or defaulted), but must not be lowered then.
pub fn resolve(loaded: &Loaded, diags: &mut Vec<Diagnostic>) -> Site {
    resolve_with(loaded, diags, false, &|| false).0
}

/// [`resolve`], also returning the [`index::Index`] of declarations and
/// resolved references that editors navigate with.
pub fn resolve_indexed(loaded: &Loaded, diags: &mut Vec<Diagnostic>) -> (Site, index::Index) {
    resolve_with(loaded, diags, true, &|| false)
}

/// [`resolve`], with the index when `with_index` (empty otherwise: at
/// 10,000 tenants it is a tenth of the memory a compile needs). Once `stop`
/// says so (an editor's newer edit), it gives up at the next tenant: what it
/// returns then is incomplete, and thrown away.
pub fn resolve_with(
    loaded: &Loaded,
    diags: &mut Vec<Diagnostic>,
    with_index: bool,
    stop: &dyn Fn() -> bool,
) -> (Site, index::Index) {
    let syms = Symbols::build(loaded, diags);
    let prelude_root = loaded.prelude.map(|m| syms.module_root[m]);
    let mut b = Builder {
        checker: Checker::new(&syms),
        syms: &syms,
        prelude_root,
        ids: Ids::default(),
        bugs: Rc::default(),
        stop,
    };
    b.checker.record_refs = with_index;
    let site = b.site();
    // Blocks the IR did not reach (unused profiles, parts of a tenant whose
    // cluster did not resolve) are still checked, so one bad reference does
    // not hide the rest.
    for i in 0..syms.syms.len() {
        if i % 1024 == 0 && stop() {
            break;
        }
        b.checker.check(SymId(i));
    }
    diags.extend(b.checker.diags);
    diags.extend(std::mem::take(&mut b.checker.budget).summaries());
    diags.extend(b.bugs.take());
    let mut index = match with_index {
        true => build_index(loaded, &syms, b.checker.refs),
        false => index::Index::default(),
    };
    let (asked, wide, poisoned) = syms.site_wide();
    index.suggestions = index::Suggestions {
        asked,
        wide,
        poisoned,
    };
    (site, index)
}

fn build_index(loaded: &Loaded, syms: &Symbols<'_>, mut refs: Vec<index::Ref>) -> index::Index {
    let decls = syms
        .syms
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let first = match s.parent {
                Some(p) => syms.get(p).children.get(s.name),
                None => syms.roots[s.root].symbols.get(s.name),
            };
            index::Decl {
                kind: s.kind.kind,
                name_span: s.name_span,
                span: s.block.span,
                parent: s.parent.map(|p| p.0),
                root: s.root,
                named: s.block.name.is_some(),
                referable: first == Some(&SymId(i)),
            }
        })
        .collect();
    let mut roots: Vec<index::Root> = vec![index::Root::default(); syms.roots.len()];
    let mut file_roots = Vec::with_capacity(loaded.modules.len());
    for (mi, m) in loaded.modules.iter().enumerate() {
        let root = syms.module_root[mi];
        file_roots.push((m.file, root));
        if !m.is_input {
            roots[root].file = Some(m.file);
        }
        for imp in &m.tree.imports {
            let (alias, span) = load::import_alias(imp);
            // Only imports that loaded, bound under this alias by this import.
            let Some((target, bound_at)) = m.imports.get(&alias) else {
                continue;
            };
            let target = syms.module_root[*target];
            refs.push(index::Ref {
                span: imp.path_span,
                target: index::Target::Module(target),
            });
            if *bound_at == span {
                roots[root].aliases.push(index::Alias {
                    name: alias,
                    span,
                    target,
                });
            }
        }
    }
    index::Index {
        decls,
        refs,
        roots,
        file_roots,
        suggestions: index::Suggestions::default(),
    }
}

#[derive(Default)]
struct Ids {
    systems: HashMap<SymId, SystemId>,
    authorities: HashMap<SymId, AuthorityId>,
    servers: HashMap<SymId, ServerId>,
    clusters: HashMap<SymId, ClusterId>,
    registries: HashMap<SymId, RegistryId>,
    arrays: HashMap<SymId, ArrayId>,
    volumes: HashMap<SymId, usize>,
    classes: HashMap<SymId, usize>,
}

/// A tenant's vectors in allocations of their length: the IR is held
/// through lowering ([`crate::fitted`]).
fn fit_tenant(mut t: Tenant) -> Tenant {
    fn fit<T>(v: &mut Vec<T>) {
        *v = crate::fitted(std::mem::take(v));
    }
    if let Some(n) = &mut t.nfs {
        fit(&mut n.volumes);
        for v in &mut n.volumes {
            fit(&mut v.attributes);
        }
        fit(&mut n.identity.subject.0);
    }
    if let Some(p) = &mut t.pure {
        fit(&mut p.classes);
        fit(&mut p.pods.value);
    }
    fit(&mut t.workloads);
    for w in &mut t.workloads {
        fit(&mut w.env);
        fit(&mut w.args);
        fit(&mut w.ports);
        fit(&mut w.expose);
        fit(&mut w.mounts);
        fit(&mut w.claims);
    }
    t
}

struct Builder<'s, 'a> {
    checker: Checker<'s, 'a>,
    syms: &'s Symbols<'a>,
    prelude_root: Option<usize>,
    ids: Ids,
    /// Defaults the schema declares unfit for their field (E0001).
    bugs: Bugs,
    /// A newer edit made the result useless ([`resolve_with`]).
    stop: &'s dyn Fn() -> bool,
}

type Bugs = Rc<RefCell<Vec<Diagnostic>>>;

/// Typed getters over checked fields. An absent field takes its schema
/// default (the `*_d` getters, [`BlockFields::word`], [`BlockFields::words`], [`BlockFields::key`]); a
/// required one that is absent was reported (E0302), and the `required_*`
/// getters give a placeholder that keeps the checks quiet (nothing is
/// lowered from a site with errors).
struct BlockFields {
    f: Rc<Fields>,
    /// Where defaults point: the block header.
    at: Span,
    schema: &'static BlockSchema,
    bugs: Bugs,
}

impl BlockFields {
    fn get(&self, k: &str) -> Option<&Sp<Typed>> {
        self.f.map.get(k)
    }
    fn str(&self, k: &str) -> Option<Sp<String>> {
        match self.get(k)? {
            Sp {
                value: Typed::Str(s),
                span,
            } => Some(Sp::new(s.clone(), *span)),
            _ => None,
        }
    }
    /// A required field, or `placeholder` when it is missing.
    fn required_str(&self, k: &str, placeholder: &str) -> Sp<String> {
        self.str(k)
            .unwrap_or_else(|| Sp::new(placeholder.to_string(), self.at))
    }
    /// The schema's default of `k`.
    fn dflt(&self, k: &str) -> Dflt {
        self.schema.field(k).map_or(Dflt::None, |f| f.default)
    }
    /// The schema declares no default of the getter's type for `k`: a bug
    /// of tenantc, reported (E0001) so that nothing is lowered from it.
    fn bug(&self, k: &str) {
        self.bugs.borrow_mut().push(
            Diagnostic::new(
                registry::INTERNAL,
                self.at,
                format!(
                    "the schema has no usable default for `{}.{k}`",
                    self.schema.kind
                ),
                "this block",
            )
            .help("this is a bug in tenantc; write the field to work around it"),
        );
    }
    fn str_d(&self, k: &str) -> Sp<String> {
        self.str(k).unwrap_or_else(|| match self.dflt(k) {
            Dflt::Str(s) => Sp::new(s.to_string(), self.at),
            _ => {
                self.bug(k);
                Sp::new(String::new(), self.at)
            }
        })
    }
    fn int_d(&self, k: &str) -> Sp<u64> {
        self.int(k).unwrap_or_else(|| match self.dflt(k) {
            Dflt::Int(n) => Sp::new(n, self.at),
            _ => {
                self.bug(k);
                Sp::new(0, self.at)
            }
        })
    }
    fn duration_d(&self, k: &str) -> Sp<u64> {
        self.duration(k).unwrap_or_else(|| match self.dflt(k) {
            Dflt::Duration(ms) => Sp::new(ms, self.at),
            _ => {
                self.bug(k);
                Sp::new(0, self.at)
            }
        })
    }
    /// A word's value; `None` for a word that is no value of `T`.
    fn value_of<T: Word>(&self, k: &str, w: &str) -> Option<T> {
        let v = T::from_word(w);
        if v.is_none() {
            self.bug(k);
        }
        v
    }
    /// An enum field's value as written, if it was.
    fn word_given<T: Word>(&self, k: &str) -> Option<Sp<T>> {
        let e = self.enum_(k)?;
        Some(Sp::new(self.value_of(k, e.value)?, e.span))
    }
    /// An enum field's value, or its default.
    fn word<T: Word>(&self, k: &str) -> Sp<T> {
        if let Some(v) = self.word_given(k) {
            return v;
        }
        let v = match self.dflt(k) {
            Dflt::Word(w) => self.value_of(k, w),
            _ => {
                self.bug(k);
                None
            }
        };
        Sp::new(v.unwrap_or(T::FIRST), self.at)
    }
    /// A required enum field, or the first of its words when it is missing.
    fn required_word<T: Word>(&self, k: &str) -> Sp<T> {
        self.word_given(k)
            .unwrap_or_else(|| Sp::new(T::FIRST, self.at))
    }
    /// A list of words, or its default.
    fn words<T: Word>(&self, k: &str) -> Sp<Vec<T>> {
        match self.list(k) {
            Some(l) => Sp::new(
                l.iter()
                    .filter_map(|v| match v.value {
                        Typed::Enum(w) => self.value_of(k, w),
                        _ => None,
                    })
                    .collect(),
                l.span,
            ),
            None => match self.dflt(k) {
                Dflt::Words(ws) => Sp::new(
                    ws.iter().filter_map(|w| self.value_of(k, w)).collect(),
                    self.at,
                ),
                _ => {
                    self.bug(k);
                    Sp::new(Vec::new(), self.at)
                }
            },
        }
    }
    /// The prelude profile the schema names as the default of `k`.
    fn default_profile(&self, k: &str) -> Option<&'static str> {
        match self.dflt(k) {
            Dflt::Profile(p) => Some(p),
            _ => {
                self.bug(k);
                None
            }
        }
    }
    fn int(&self, k: &str) -> Option<Sp<u64>> {
        match self.get(k)? {
            Sp {
                value: Typed::Int(n),
                span,
            } => Some(Sp::new(*n, *span)),
            _ => None,
        }
    }
    fn ipv4(&self, k: &str) -> Sp<Ipv4Addr> {
        match self.get(k) {
            Some(Sp {
                value: Typed::Ipv4(a),
                span,
            }) => Sp::new(*a, *span),
            _ => Sp::new(Ipv4Addr::UNSPECIFIED, self.at),
        }
    }
    fn enum_(&self, k: &str) -> Option<Sp<&'static str>> {
        match self.get(k)? {
            Sp {
                value: Typed::Enum(e),
                span,
            } => Some(Sp::new(*e, *span)),
            _ => None,
        }
    }
    fn duration(&self, k: &str) -> Option<Sp<u64>> {
        match self.get(k)? {
            Sp {
                value: Typed::Duration(ms),
                span,
            } => Some(Sp::new(*ms, *span)),
            _ => None,
        }
    }
    fn reference(&self, k: &str) -> Option<Sp<SymId>> {
        match self.get(k)? {
            Sp {
                value: Typed::Ref(id),
                span,
            } => Some(Sp::new(*id, *span)),
            _ => None,
        }
    }
    fn list(&self, k: &str) -> Option<Sp<&[Sp<Typed>]>> {
        match self.get(k)? {
            Sp {
                value: Typed::List(v),
                span,
            } => Some(Sp::new(v.as_slice(), *span)),
            _ => None,
        }
    }
    fn ports(&self, k: &str) -> Option<Sp<PortRange>> {
        match self.get(k)? {
            Sp {
                value: Typed::Ports(p),
                span,
            } => Some(Sp::new(*p, *span)),
            _ => None,
        }
    }
    fn size(&self, k: &str) -> Option<Sp<Size>> {
        match self.get(k)? {
            Sp {
                value: Typed::Size(s),
                span,
            } => Some(Sp::new(s.clone(), *span)),
            _ => None,
        }
    }
    /// A required version, or `0` when it is missing.
    fn required_version(&self, k: &str) -> Sp<Version> {
        match self.get(k) {
            Some(Sp {
                value: Typed::Version(v),
                span,
            }) => Sp::new(v.clone(), *span),
            _ => Sp::new(
                Version {
                    text: "0".into(),
                    parts: vec![0],
                },
                self.at,
            ),
        }
    }
    fn bool_d(&self, k: &str) -> Sp<bool> {
        match self.get(k) {
            Some(Sp {
                value: Typed::Bool(b),
                span,
            }) => Sp::new(*b, *span),
            _ => match self.dflt(k) {
                Dflt::Bool(b) => Sp::new(b, self.at),
                _ => {
                    self.bug(k);
                    Sp::new(false, self.at)
                }
            },
        }
    }
    /// A list of names or strings, each with its span.
    fn strings(&self, k: &str) -> Sp<Vec<Sp<String>>> {
        match self.list(k) {
            Some(l) => Sp::new(
                l.iter()
                    .filter_map(|v| match &v.value {
                        Typed::Str(s) => Some(Sp::new(s.clone(), v.span)),
                        _ => None,
                    })
                    .collect(),
                l.span,
            ),
            None => Sp::new(Vec::new(), self.at),
        }
    }
    fn object(&self, k: &str) -> Vec<(String, Sp<String>)> {
        match self.get(k) {
            Some(Sp {
                value: Typed::Object(o),
                ..
            }) => o.clone(),
            _ => Vec::new(),
        }
    }
    fn subject(&self, k: &str) -> Option<Subject> {
        match self.get(k)? {
            Sp {
                value: Typed::Object(o),
                ..
            } => Some(Subject(o.clone())),
            _ => None,
        }
    }
    fn key(&self, k: &str) -> Key {
        match self.get(k) {
            Some(Sp {
                value: Typed::Key(key),
                ..
            }) => key.clone(),
            _ => {
                let (alg, bits) = match self.dflt(k) {
                    Dflt::Key(alg, bits) => (alg, bits),
                    _ => {
                        self.bug(k);
                        (KeyAlg::FIRST, 0)
                    }
                };
                Key {
                    alg,
                    bits: Sp::new(bits, self.at),
                }
            }
        }
    }
    fn secret(&self, k: &str) -> Option<SecretRef> {
        match self.get(k)? {
            Sp {
                value: Typed::Secret(s),
                ..
            } => Some(s.clone()),
            _ => None,
        }
    }
    fn dataset(&self, k: &str) -> Dataset {
        match self.get(k) {
            Some(Sp {
                value:
                    Typed::Dataset {
                        dsn,
                        format,
                        password,
                    },
                ..
            }) => Dataset {
                dsn: dsn.clone(),
                format: format.clone(),
                password: password.clone(),
            },
            _ => Dataset {
                dsn: Sp::new(String::new(), self.at),
                format: Sp::new(ExportFormat::CertB64, self.at),
                password: None,
            },
        }
    }
}

/// A user ID's `uid`, `home` and `group` (on `identity` and `nfs_server`).
fn omvs(f: &BlockFields, user: &Sp<String>) -> Omvs {
    Omvs {
        uid: f.int("uid"),
        home: f
            .str("home")
            .unwrap_or_else(|| Sp::new(format!("/u/{}", user.value.to_ascii_lowercase()), f.at)),
        group: f.str("group"),
    }
}

impl Builder<'_, '_> {
    fn f(&mut self, id: SymId) -> BlockFields {
        let f = self.checker.fields(id);
        let sym = self.syms.get(id);
        let at = f.header.unwrap_or(sym.name_span);
        BlockFields {
            f,
            at,
            schema: sym.kind,
            bugs: self.bugs.clone(),
        }
    }

    /// The fields of an absent block of `kind` (every field at its
    /// default), pointing at `at`.
    fn absent(&self, kind: &str, at: Span) -> BlockFields {
        BlockFields {
            f: Rc::new(Fields::default()),
            at,
            schema: schema::block(kind).unwrap_or(&schema::all()[0]),
            bugs: self.bugs.clone(),
        }
    }

    /// The profile field `k` names, else the prelude profile its default
    /// names (none when the stdlib in use does not declare it).
    fn profile(&self, f: &BlockFields, k: &str) -> Option<SymId> {
        match f.reference(k) {
            Some(r) => Some(r.value),
            None => self.prelude(f.default_profile(k)?),
        }
    }

    fn name(&self, id: SymId) -> Sp<String> {
        let s = self.syms.get(id);
        Sp::new(s.name.to_string(), s.name_span)
    }

    fn child(&self, id: SymId, name: &str) -> Option<SymId> {
        self.syms.get(id).children.get(name).copied()
    }

    fn nested_of_kind(&self, id: SymId, kind: &str) -> Vec<SymId> {
        self.syms
            .get(id)
            .nested
            .iter()
            .copied()
            .filter(|c| self.syms.get(*c).kind.kind == kind)
            .collect()
    }

    fn prelude(&self, name: &str) -> Option<SymId> {
        self.syms
            .roots
            .get(self.prelude_root?)?
            .symbols
            .get(name)
            .copied()
    }

    fn top_level(&self, kind: &str) -> Vec<SymId> {
        let mut out = Vec::new();
        // Root 0 (the inputs) first, then imported modules in load order.
        for root in &self.syms.roots {
            out.extend(
                root.order
                    .iter()
                    .copied()
                    .filter(|id| self.syms.get(*id).kind.kind == kind),
            );
        }
        out
    }

    fn site(&mut self) -> Site {
        // Ids first, so that references can be translated in any order.
        for (si, z) in self.top_level("zos").into_iter().enumerate() {
            let sid = SystemId(si);
            self.ids.systems.insert(z, sid);
            for (i, a) in self.nested_of_kind(z, "authority").into_iter().enumerate() {
                self.ids.authorities.insert(a, AuthorityId(sid, i));
            }
            for (i, s) in self.nested_of_kind(z, "nfs_server").into_iter().enumerate() {
                self.ids.servers.insert(s, ServerId(sid, i));
            }
        }
        for (ai, a) in self.top_level("flasharray").into_iter().enumerate() {
            self.ids.arrays.insert(a, ArrayId(ai));
        }
        for (ci, c) in self.top_level("cluster").into_iter().enumerate() {
            self.ids.clusters.insert(c, ClusterId(ci));
            for (i, r) in self.nested_of_kind(c, "registry").into_iter().enumerate() {
                self.ids.registries.insert(r, RegistryId(ClusterId(ci), i));
            }
        }
        let systems = self
            .top_level("zos")
            .into_iter()
            .map(|z| self.system(z))
            .collect();
        let clusters = self
            .top_level("cluster")
            .into_iter()
            .map(|c| self.cluster(c))
            .collect();
        let arrays = self
            .top_level("flasharray")
            .into_iter()
            .map(|a| self.array(a))
            .collect();
        let ids = self.top_level("tenant");
        // Reserved: a tenant is large, and doubling would hold twice the room.
        let mut tenants = Vec::with_capacity(ids.len());
        for (i, t) in ids.into_iter().enumerate() {
            if i % 64 == 0 && (self.stop)() {
                break;
            }
            tenants.extend(self.tenant(t).map(fit_tenant));
            self.checker.release(t);
        }
        Site {
            systems,
            clusters,
            arrays,
            tenants,
        }
    }

    fn array(&mut self, a: SymId) -> FlashArray {
        let f = self.f(a);
        FlashArray {
            name: self.name(a),
            endpoint: f.required_str("endpoint", ""),
            purity: f.required_version("purity"),
            san: f.required_word("san"),
            admin: f.str_d("admin"),
        }
    }

    fn portworx(&mut self, p: SymId, cluster: &Sp<String>) -> Portworx {
        let f = self.f(p);
        let version = f.required_version("version");
        Portworx {
            span: self.syms.get(p).name_span,
            namespace: f.str_d("namespace"),
            name: f
                .str("name")
                .unwrap_or_else(|| Sp::new(format!("px-{}", k8s_name(&cluster.value)), f.at)),
            image: f
                .str("image")
                .unwrap_or_else(|| Sp::new(format!("portworx/oci-monitor:{}", version.text), f.at)),
            version,
            image_pull_policy: f.word("image_pull_policy").value,
            kvdb_device_size: f.size("kvdb_device_size"),
            device_size: f.size("device_size").unwrap_or(Sp::new(
                Size {
                    text: "0Gi".into(),
                    bytes: 0,
                },
                f.at,
            )),
            pods: f.strings("pods"),
            io_profile: f.int("io_profile"),
            stork: f.bool_d("stork").value,
            autopilot: f.bool_d("autopilot").value,
            csi: f.bool_d("csi"),
            telemetry: f.bool_d("telemetry").value,
            prometheus: f.bool_d("prometheus").value,
            env: f.object("env"),
        }
    }

    fn system(&mut self, z: SymId) -> ZosSystem {
        let f = self.f(z);
        let jcl = match self.child(z, "jcl") {
            Some(j) => self.f(j),
            None => self.absent("jcl", f.at),
        };
        let jcl = JclSettings {
            account: jcl.str_d("account"),
            class: jcl.str_d("class"),
            msgclass: jcl.str_d("msgclass"),
            notify: jcl.str_d("notify"),
            job_prefix: jcl.str_d("job_prefix"),
        };
        let authorities = self
            .nested_of_kind(z, "authority")
            .into_iter()
            .map(|a| self.authority(a))
            .collect();
        let sys_name = self.name(z).value;
        let servers = self
            .nested_of_kind(z, "nfs_server")
            .into_iter()
            .filter_map(|s| self.server(s, &f, &sys_name))
            .collect();
        ZosSystem {
            name: self.name(z),
            address: f.ipv4("address"),
            stack: f.str_d("stack"),
            jcl,
            authorities,
            servers,
            valid_from: f.str("valid_from"),
            pagent_user: f.str_d("pagent_user"),
            initstack: f
                .list("initstack")
                .map(|l| {
                    l.iter()
                        .filter_map(|v| match &v.value {
                            Typed::Str(s) => Some(Sp::new(s.clone(), v.span)),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            security_domain: f.str("security_domain"),
        }
    }

    fn authority(&mut self, a: SymId) -> Authority {
        let f = self.f(a);
        let label = f.required_str("label", "");
        Authority {
            name: self.name(a),
            subject: f
                .subject("subject")
                .unwrap_or_else(|| Subject(vec![("CN".into(), label.clone())])),
            label,
            key: f.key("key"),
            export: f.dataset("export"),
            valid_years: f.int_d("valid_years"),
            valid_from: f.str("valid_from"),
        }
    }

    fn authority_ref(&self, r: &Sp<SymId>) -> Option<Sp<AuthorityId>> {
        self.ids
            .authorities
            .get(&r.value)
            .map(|id| Sp::new(*id, r.span))
    }

    fn server(&mut self, s: SymId, system: &BlockFields, system_name: &str) -> Option<NfsServer> {
        let f = self.f(s);
        let own_address = f.get("address").is_some();
        let address = if own_address {
            f.ipv4("address")
        } else {
            system.ipv4("address")
        };
        let standby = f
            .list("standby")
            .map(|l| {
                l.iter()
                    .filter_map(|v| match v.value {
                        Typed::Ref(id) => self.ids.systems.get(&id).map(|s| Sp::new(*s, v.span)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = self.name(s);
        let jobname = f.str("jobname").unwrap_or_else(|| name.clone());
        let user = f.str("user").unwrap_or_else(|| jobname.clone());
        let ports = self.server_ports(s);
        let security = f.word("security");
        let versions = f.words("versions");
        let tls_sym = self.profile(&f, "tls");
        let tls = self.tls(tls_sym, f.at);
        let clients = f.list("clients").map_or(Sp::new(Vec::new(), f.at), |l| {
            Sp::new(
                l.iter()
                    .filter_map(|v| match v.value {
                        Typed::Ipv4(a) => Some(Sp::new(a, v.span)),
                        _ => None,
                    })
                    .collect(),
                l.span,
            )
        });
        let cert_sym = self.child(s, "certificate")?;
        let cf = self.f(cert_sym);
        let signed_by = cf
            .reference("signed_by")
            .and_then(|r| self.authority_ref(&r))?;
        let label = cf.required_str("label", "");
        let certificate = ServerCertificate {
            subject: cf
                .subject("subject")
                .unwrap_or_else(|| Subject(vec![("CN".into(), label.clone())])),
            label,
            key: cf.key("key"),
            signed_by,
            valid_years: cf.int_d("valid_years"),
            valid_from: cf.str("valid_from"),
            hostname: cf.str("hostname").unwrap_or_else(|| {
                Sp::new(
                    format!("{}.{}", jobname.value, system_name).to_ascii_lowercase(),
                    cf.at,
                )
            }),
        };
        let server_omvs = omvs(&f, &user);
        Some(NfsServer {
            omvs: server_omvs,
            name,
            jobname,
            user,
            ports,
            security,
            versions,
            keyring: f.required_str("keyring", ""),
            certificate,
            tls,
            clients,
            address,
            own_address,
            standby,
            priority: f.int_d("priority"),
            ring_access: f.word("ring_access").value,
        })
    }

    /// An NFS server's port range: its `ports`, else the range of the
    /// prelude's port set that the schema names as their default.
    fn server_ports(&mut self, server: SymId) -> Sp<PortRange> {
        let f = self.f(server);
        if let Some(p) = f.ports("ports") {
            return p;
        }
        let profile = f.default_profile("ports");
        let set = profile.and_then(|p| self.prelude(p)).map(|p| self.f(p));
        if let Some(r) = set.and_then(|s| s.ports("range")) {
            return r;
        }
        // A `--stdlib` whose prelude lacks the port set: nothing to take the
        // ports from, so the server has to say them.
        let sym = self.syms.get(server);
        self.checker.diags.push(
            Diagnostic::new(
                registry::MISSING_FIELD,
                f.at,
                format!(
                    "`nfs_server {}` has no `ports`, and the stdlib declares no port_set `{}` to take them from",
                    sym.name,
                    profile.unwrap_or("")
                ),
                "needs `ports`",
            )
            .help("add `ports = LOW..HIGH`, or declare the port set in the stdlib's std/profiles.tenant")
            .about("ports"),
        );
        Sp::new(PortRange { low: 0, high: 0 }, f.at)
    }

    fn tls(&mut self, profile: Option<SymId>, at: Span) -> Tls {
        let (f, name) = match profile {
            Some(p) => (self.f(p), self.name(p)),
            None => (
                self.absent("tls_profile", at),
                Sp::new("builtin".to_string(), at),
            ),
        };
        let role = f.word("handshake_role");
        let client_auth = f.word("client_auth");
        let mut versions = f.words::<TlsVersion>("versions");
        versions.value.sort();
        versions.value.dedup();
        let ciphers = f
            .list("ciphers")
            .map(|l| {
                l.iter()
                    .filter_map(|c| match &c.value {
                        Typed::Str(s) => Some(Sp::new(s.clone(), c.span)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Tls {
            profile: name,
            handshake_role: role,
            client_auth,
            versions,
            handshake_timeout_s: {
                let d = f.duration_d("handshake_timeout");
                Sp::new(d.value / 1000, d.span)
            },
            trace: f.int_d("trace"),
            ciphers,
            secondary_map: f.bool_d("secondary_map").value,
            application_controlled: f.bool_d("application_controlled").value,
        }
    }

    fn cluster(&mut self, c: SymId) -> Cluster {
        let f = self.f(c);
        let kind = f.required_word("kind");
        let service_cidr = match f.get("service_cidr") {
            Some(Sp {
                value: Typed::Cidr(n),
                span,
            }) => Sp::new(*n, *span),
            _ => Sp::new(ipnet::Ipv4Net::default(), f.at),
        };
        let service_cidr_given = f.get("service_cidr").is_some();
        let storage_fence = f.word("storage_fence");
        let control_plane_given = f.get("control_plane").is_some();
        let control_plane = f
            .list("control_plane")
            .map_or(Sp::new(Vec::new(), f.at), |l| {
                Sp::new(
                    l.iter()
                        .filter_map(|v| match v.value {
                            Typed::Cidr(n) => Some(Sp::new(n, v.span)),
                            _ => None,
                        })
                        .collect(),
                    l.span,
                )
            });
        let name = self.name(c);
        let portworx = self.child(c, "portworx").map(|p| self.portworx(p, &name));
        let nodes = self
            .nested_of_kind(c, "node")
            .into_iter()
            .map(|n| {
                let nf = self.f(n);
                Node {
                    name: self.name(n),
                    dvipa: nf.ipv4("dvipa"),
                }
            })
            .collect();
        let registries = self
            .nested_of_kind(c, "registry")
            .into_iter()
            .filter_map(|r| {
                let rf = self.f(r);
                Some(Registry {
                    name: self.name(r),
                    server: rf.required_str("server", ""),
                    credentials: rf.secret("credentials")?,
                })
            })
            .collect();
        Cluster {
            name,
            kind,
            service_cidr,
            service_cidr_given,
            storage_fence,
            control_plane,
            control_plane_given,
            nodes,
            registries,
            portworx,
        }
    }

    fn registry_ref(&self, f: &BlockFields, k: &str) -> Option<Sp<RegistryId>> {
        let r = f.reference(k)?;
        self.ids
            .registries
            .get(&r.value)
            .map(|id| Sp::new(*id, r.span))
    }

    fn tenant(&mut self, t: SymId) -> Option<Tenant> {
        let f = self.f(t);
        let name = self.name(t);
        let cluster = f.reference("cluster")?;
        let cluster = Sp::new(*self.ids.clusters.get(&cluster.value)?, cluster.span);
        let namespace = f
            .str("namespace")
            .unwrap_or_else(|| Sp::new(k8s_name(&name.value), name.span));
        let nfs = match self.child(t, "nfs") {
            Some(n) => self.tenant_nfs(n, &name, &namespace),
            None => None,
        };
        let pure = match self.child(t, "pure") {
            Some(p) => self.tenant_pure(p),
            None => None,
        };
        let workloads = self
            .nested_of_kind(t, "workload")
            .into_iter()
            .filter_map(|w| self.workload(w))
            .collect();
        Some(Tenant {
            name,
            cluster,
            namespace,
            nfs,
            pure,
            workloads,
        })
    }

    fn tenant_pure(&mut self, p: SymId) -> Option<TenantPure> {
        let f = self.f(p);
        let array = f.reference("array")?;
        let array = Sp::new(*self.ids.arrays.get(&array.value)?, array.span);
        let mut classes = Vec::new();
        for (i, c) in self
            .nested_of_kind(p, "storage_class")
            .into_iter()
            .enumerate()
        {
            self.ids.classes.insert(c, i);
            let cf = self.f(c);
            classes.push(FadaClass {
                name: self.name(c),
                pod: cf.required_str("pod", ""),
                binding: cf.word("binding").value,
                expansion: cf.bool_d("expansion").value,
                reclaim: cf.word("reclaim").value,
                fs_type: cf.enum_("fs_type").map(|e| e.value),
                max_iops: cf.int("max_iops").map(|n| n.value),
                max_bandwidth: cf.size("max_bandwidth"),
            });
        }
        Some(TenantPure {
            span: self.syms.get(p).name_span,
            array,
            realm: f.required_str("realm", ""),
            pods: f.strings("pods"),
            policy: f.required_str("policy", ""),
            user: f.required_str("user", ""),
            token: f.secret("token")?,
            classes,
        })
    }

    fn tenant_nfs(
        &mut self,
        n: SymId,
        tenant: &Sp<String>,
        namespace: &Sp<String>,
    ) -> Option<TenantNfs> {
        let f = self.f(n);
        let server_ref = f.reference("server")?;
        let server = Sp::new(*self.ids.servers.get(&server_ref.value)?, server_ref.span);
        // The server's ports and certificate signer, read from its checked fields.
        let server_sym = server_ref.value;
        let (server_ports, server_signer) = {
            let ports = self.server_ports(server_sym);
            let signer = self
                .child(server_sym, "certificate")
                .map(|c| self.f(c))
                .and_then(|cf| cf.reference("signed_by"))
                .and_then(|r| self.authority_ref(&r));
            (ports, signer)
        };

        let idf = self.f(self.child(n, "identity")?);
        let label = idf.required_str("label", "");
        let signed_by = match idf.reference("signed_by") {
            Some(r) => self.authority_ref(&r)?,
            None => server_signer.clone()?,
        };
        let id_user = idf.required_str("user", "");
        let identity = Identity {
            omvs: omvs(&idf, &id_user),
            user: id_user,
            subject: idf
                .subject("subject")
                .unwrap_or_else(|| Subject(vec![("CN".into(), label.clone())])),
            label,
            key: idf.key("key"),
            signed_by,
            export: idf.dataset("export"),
            valid_years: idf.int_d("valid_years"),
            valid_from: idf.str("valid_from"),
        };

        let pf = self.f(self.child(n, "proxy")?);
        let hp_sym = self.profile(&pf, "haproxy");
        let hf = match hp_sym {
            Some(h) => self.f(h),
            None => self.absent("haproxy_profile", pf.at),
        };
        let haproxy = HaproxySettings {
            profile: hp_sym.map_or(Sp::new("builtin".into(), pf.at), |h| self.name(h)),
            timeout_connect_ms: hf.duration_d("timeout_connect"),
            timeout_client_ms: hf.duration_d("timeout_client"),
            timeout_server_ms: hf.duration_d("timeout_server"),
            maxconn: hf.int_d("maxconn"),
        };
        let trust = match pf.reference("trust") {
            Some(r) => self.authority_ref(&r)?,
            None => server_signer?,
        };
        let proxy = Proxy {
            namespace: pf
                .str("namespace")
                .unwrap_or_else(|| Sp::new(format!("{}-nfs-proxy", namespace.value), pf.at)),
            service: pf.str_d("service"),
            cluster_ip: pf.ipv4("cluster_ip"),
            // The proxy's own, else its profile's, else the profile's
            // default (pointing at the proxy, which took it).
            image: pf
                .str("image")
                .or_else(|| hf.str("image"))
                .unwrap_or_else(|| Sp::new(hf.str_d("image").value, pf.at)),
            registry: self.registry_ref(&pf, "registry"),
            replicas: pf
                .int("replicas")
                .or_else(|| hf.int("replicas"))
                .unwrap_or_else(|| Sp::new(hf.int_d("replicas").value, pf.at)),
            ports: pf.ports("ports").unwrap_or(server_ports),
            trust,
            haproxy,
            user: pf.int_d("user"),
            user_given: pf.get("user").is_some(),
        };

        let mut volumes = Vec::new();
        for (i, v) in self.nested_of_kind(n, "volume").into_iter().enumerate() {
            self.ids.volumes.insert(v, i);
            let vf = self.f(v);
            let size = match vf.get("size") {
                Some(Sp {
                    value: Typed::Size(s),
                    span,
                }) => Sp::new(s.clone(), *span),
                _ => Sp::new(
                    Size {
                        text: "1Gi".into(),
                        bytes: 1 << 30,
                    },
                    vf.at,
                ),
            };
            volumes.push(Volume {
                name: self.name(v),
                export: vf.required_str("export", "/"),
                attributes: vf
                    .list("attributes")
                    .map(|l| {
                        l.iter()
                            .filter_map(|a| match &a.value {
                                Typed::Str(s) => Some(Sp::new(s.clone(), a.span)),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                size,
                access: vf.word("access"),
                reclaim: vf.word("reclaim").value,
            });
        }
        Some(TenantNfs {
            span: self.syms.get(n).name_span,
            server,
            storage_class: f
                .str("storage_class")
                .unwrap_or_else(|| Sp::new(format!("{}-nfs", k8s_name(&tenant.value)), f.at)),
            identity,
            proxy,
            volumes,
        })
    }

    /// The tenant a declaration belongs to.
    fn tenant_of(&self, id: SymId) -> Option<SymId> {
        let mut cur = Some(id);
        while let Some(c) = cur {
            if self.syms.get(c).kind.kind == "tenant" {
                return Some(c);
            }
            cur = self.syms.get(c).parent;
        }
        None
    }

    fn workload(&mut self, w: SymId) -> Option<Workload> {
        let f = self.f(w);
        let env = match f.get("env") {
            Some(Sp {
                value: Typed::Env(o),
                ..
            }) => o.clone(),
            _ => Vec::new(),
        };
        let mut mounts = Vec::new();
        for m in self.nested_of_kind(w, "mount") {
            let mf = self.f(m);
            let Some(v) = mf.reference("volume") else {
                continue;
            };
            let owner = self.tenant_of(v.value);
            if owner != self.syms.get(w).parent {
                let vs = self.syms.get(v.value);
                self.checker.diags.push(
                    Diagnostic::new(
                        registry::CROSS_TENANT,
                        v.span,
                        format!("workload `{}` mounts `{}`, a volume of another tenant", self.syms.get(w).name, self.syms.path_of(v.value)),
                        "another tenant's volume",
                    )
                    .related(vs.name_span, "declared in another tenant")
                    .help("mount a volume of this tenant (`nfs.<volume>`), or declare the volume here"),
                );
                continue;
            }
            let Some(idx) = self.ids.volumes.get(&v.value) else {
                continue;
            };
            mounts.push(Mount {
                volume: Sp::new(*idx, v.span),
                path: mf.required_str("path", "/data"),
                read_only: mf.bool_d("read_only").value,
            });
        }
        let mut claims = Vec::new();
        for c in self.nested_of_kind(w, "claim") {
            let cf = self.f(c);
            let Some(class) = cf.reference("storage_class") else {
                continue;
            };
            if self.tenant_of(class.value) != self.syms.get(w).parent {
                let cs = self.syms.get(class.value);
                self.checker.diags.push(
                    Diagnostic::new(
                        registry::CROSS_TENANT,
                        class.span,
                        format!("claim `{}` uses `{}`, a storage class of another tenant", self.syms.get(c).name, self.syms.path_of(class.value)),
                        "another tenant's storage class",
                    )
                    .related(cs.name_span, "declared in another tenant")
                    .help("use a storage class of this tenant (`pure.<class>`), whose pod lies in this tenant's realm"),
                );
                continue;
            }
            let Some(idx) = self.ids.classes.get(&class.value) else {
                continue;
            };
            claims.push(Claim {
                name: self.name(c),
                class: Sp::new(*idx, class.span),
                size: cf.size("size").unwrap_or(Sp::new(
                    Size {
                        text: "1Gi".into(),
                        bytes: 1 << 30,
                    },
                    cf.at,
                )),
                path: cf.required_str("path", "/data"),
                access: cf.word("access"),
            });
        }
        let liveness = self.probe(w, "liveness");
        let readiness = self.probe(w, "readiness");
        let has_claims = !self.nested_of_kind(w, "claim").is_empty();
        // The schema's default of `kind` is a rule: it depends on the claims.
        let kind = match f.word_given("kind") {
            Some(k) => k,
            None if has_claims => Sp::new(WorkloadKind::StatefulSet, f.at),
            None => Sp::new(WorkloadKind::Deployment, f.at),
        };
        let port_list = |k: &str| -> Vec<Sp<u16>> {
            f.list(k)
                .map(|l| {
                    l.iter()
                        .filter_map(|p| match p.value {
                            Typed::Int(n) => u16::try_from(n).ok().map(|n| Sp::new(n, p.span)),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let ports = port_list("ports");
        let expose = port_list("expose");
        Some(Workload {
            name: self.name(w),
            kind,
            image: f.required_str("image", ""),
            replicas: f.int_d("replicas"),
            registry: self.registry_ref(&f, "registry"),
            env,
            args: f.strings("args").value,
            ports,
            expose,
            cpu: f.str("cpu"),
            memory: f.size("memory"),
            cpu_limit: f.str("cpu_limit"),
            memory_limit: f.size("memory_limit"),
            user: f.int("user"),
            group: f.int("group"),
            read_only_root: f.bool_d("read_only_root").value,
            service_account_token: f.bool_d("service_account_token").value,
            mounts,
            claims,
            liveness,
            readiness,
        })
    }

    /// A workload's `liveness` or `readiness` probe.
    fn probe(&mut self, w: SymId, kind: &str) -> Option<Liveness> {
        self.child(w, kind).map(|l| {
            let lf = self.f(l);
            let mut too_long = Vec::new();
            // Whole seconds, rounded up; a value too long for Kubernetes is
            // reported and left at 0 (nothing is lowered then).
            let mut secs = |k: &str| {
                let v = lf.duration_d(k);
                let s = v.value.div_ceil(1000);
                if s > i32::MAX as u64 {
                    too_long.push(v.span);
                    return 0;
                }
                s
            };
            let probe = Liveness {
                command: lf.strings("command").value,
                initial_delay_s: secs("initial_delay"),
                timeout_s: secs("timeout"),
                period_s: secs("period"),
                failures: lf.int_d("failures").value,
            };
            for span in too_long {
                self.checker.diags.push(
                    Diagnostic::new(
                        registry::DURATION_RANGE,
                        span,
                        "a probe duration is at most 2147483647 seconds",
                        "too long",
                    )
                    .help("Kubernetes keeps probe timings in 32-bit seconds"),
                );
            }
            probe
        })
    }
}
