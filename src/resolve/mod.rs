//! Stage 2: syntax trees to the typed IR.
//!
//! [`load`] reads the inputs and their imports, [`scope`] builds the symbol
//! table, [`fields`] checks each block against the [`schema`], and this module
//! assembles the [`ir::Site`], filling defaults from the stdlib prelude. After
//! this stage nothing looks at syntax again.

pub mod fields;
pub mod index;
pub mod load;
pub mod schema;
pub mod scope;
pub mod secrets;

use crate::diagnostics::{registry, Diagnostic};
use crate::ir::*;
use crate::source::Span;
use fields::{Checker, Fields, TV};
use load::Loaded;
use scope::{SymId, Symbols};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::rc::Rc;

/// Resolves loaded modules into a site. Diagnostics go to `diags`; the site is
/// complete enough for checks even when there were errors (bad values are
/// left out or defaulted), but must not be lowered then.
pub fn resolve(loaded: &Loaded, diags: &mut Vec<Diagnostic>) -> Site {
    resolve_with(loaded, diags, false).0
}

/// [`resolve`], also returning the [`index::Index`] of declarations and
/// resolved references that editors navigate with.
pub fn resolve_indexed(loaded: &Loaded, diags: &mut Vec<Diagnostic>) -> (Site, index::Index) {
    resolve_with(loaded, diags, true)
}

/// [`resolve`], with the index when `with_index` (empty otherwise: at
/// 10,000 tenants it is a tenth of the memory a compile needs).
pub fn resolve_with(
    loaded: &Loaded,
    diags: &mut Vec<Diagnostic>,
    with_index: bool,
) -> (Site, index::Index) {
    let syms = Symbols::build(loaded, diags);
    let prelude_root = loaded.prelude.map(|m| syms.module_root[m]);
    let mut b = Builder {
        ck: Checker::new(&syms),
        syms: &syms,
        prelude_root,
        ids: Ids::default(),
    };
    b.ck.record_refs = with_index;
    let site = b.site();
    // Blocks the IR did not reach (unused profiles, parts of a tenant whose
    // cluster did not resolve) are still checked, so one bad reference does
    // not hide the rest.
    for i in 0..syms.syms.len() {
        b.ck.check(SymId(i));
    }
    diags.extend(b.ck.diags);
    let index = match with_index {
        true => build_index(loaded, &syms, b.ck.refs),
        false => index::Index::default(),
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

struct Builder<'s, 'a> {
    ck: Checker<'s, 'a>,
    syms: &'s Symbols<'a>,
    prelude_root: Option<usize>,
    ids: Ids,
}

/// Typed getters over checked fields, with defaults.
struct F {
    f: Rc<Fields>,
    /// Where defaults point: the block header.
    at: Span,
}

impl F {
    fn get(&self, k: &str) -> Option<&Sp<TV>> {
        self.f.map.get(k)
    }
    fn str(&self, k: &str) -> Option<Sp<String>> {
        match self.get(k)? {
            Sp {
                value: TV::Str(s),
                span,
            } => Some(Sp::new(s.clone(), *span)),
            _ => None,
        }
    }
    fn str_or(&self, k: &str, default: &str) -> Sp<String> {
        self.str(k)
            .unwrap_or_else(|| Sp::new(default.to_string(), self.at))
    }
    fn int(&self, k: &str) -> Option<Sp<u64>> {
        match self.get(k)? {
            Sp {
                value: TV::Int(n),
                span,
            } => Some(Sp::new(*n, *span)),
            _ => None,
        }
    }
    fn bool_or(&self, k: &str, default: bool) -> bool {
        match self.get(k) {
            Some(Sp {
                value: TV::Bool(b), ..
            }) => *b,
            _ => default,
        }
    }
    fn ipv4(&self, k: &str) -> Sp<Ipv4Addr> {
        match self.get(k) {
            Some(Sp {
                value: TV::Ipv4(a),
                span,
            }) => Sp::new(*a, *span),
            _ => Sp::new(Ipv4Addr::UNSPECIFIED, self.at),
        }
    }
    fn enum_(&self, k: &str) -> Option<Sp<&'static str>> {
        match self.get(k)? {
            Sp {
                value: TV::Enum(e),
                span,
            } => Some(Sp::new(*e, *span)),
            _ => None,
        }
    }
    fn duration(&self, k: &str) -> Option<Sp<u64>> {
        match self.get(k)? {
            Sp {
                value: TV::Duration(ms),
                span,
            } => Some(Sp::new(*ms, *span)),
            _ => None,
        }
    }
    fn reference(&self, k: &str) -> Option<Sp<SymId>> {
        match self.get(k)? {
            Sp {
                value: TV::Ref(id),
                span,
            } => Some(Sp::new(*id, *span)),
            _ => None,
        }
    }
    fn list(&self, k: &str) -> Option<Sp<&[Sp<TV>]>> {
        match self.get(k)? {
            Sp {
                value: TV::List(v),
                span,
            } => Some(Sp::new(v.as_slice(), *span)),
            _ => None,
        }
    }
    fn ports(&self, k: &str) -> Option<Sp<PortRange>> {
        match self.get(k)? {
            Sp {
                value: TV::Ports(p),
                span,
            } => Some(Sp::new(*p, *span)),
            _ => None,
        }
    }
    fn size(&self, k: &str) -> Option<Sp<Size>> {
        match self.get(k)? {
            Sp {
                value: TV::Size(s),
                span,
            } => Some(Sp::new(s.clone(), *span)),
            _ => None,
        }
    }
    fn version(&self, k: &str, default: &str) -> Sp<Version> {
        match self.get(k) {
            Some(Sp {
                value: TV::Version(v),
                span,
            }) => Sp::new(v.clone(), *span),
            _ => Sp::new(
                Version::parse(default).unwrap_or(Version {
                    text: default.into(),
                    parts: vec![0],
                }),
                self.at,
            ),
        }
    }
    fn bool_sp(&self, k: &str, default: bool) -> Sp<bool> {
        match self.get(k) {
            Some(Sp {
                value: TV::Bool(b),
                span,
            }) => Sp::new(*b, *span),
            _ => Sp::new(default, self.at),
        }
    }
    /// A list of names or strings, each with its span.
    fn strings(&self, k: &str) -> Sp<Vec<Sp<String>>> {
        match self.list(k) {
            Some(l) => Sp::new(
                l.iter()
                    .filter_map(|v| match &v.value {
                        TV::Str(s) => Some(Sp::new(s.clone(), v.span)),
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
                value: TV::Object(o),
                ..
            }) => o.clone(),
            _ => Vec::new(),
        }
    }
    fn subject(&self, k: &str) -> Option<Subject> {
        match self.get(k)? {
            Sp {
                value: TV::Object(o),
                ..
            } => Some(Subject(o.clone())),
            _ => None,
        }
    }
    fn key(&self, k: &str) -> Key {
        match self.get(k) {
            Some(Sp {
                value: TV::Key(key),
                ..
            }) => key.clone(),
            _ => Key {
                alg: KeyAlg::Rsa,
                bits: Sp::new(2048, self.at),
            },
        }
    }
    fn secret(&self, k: &str) -> Option<SecretRef> {
        match self.get(k)? {
            Sp {
                value: TV::Secret(s),
                ..
            } => Some(s.clone()),
            _ => None,
        }
    }
    fn dataset(&self, k: &str) -> Dataset {
        match self.get(k) {
            Some(Sp {
                value:
                    TV::Dataset {
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

impl Builder<'_, '_> {
    fn f(&mut self, id: SymId) -> F {
        let f = self.ck.fields(id);
        let at = f.header.unwrap_or(self.syms.get(id).name_span);
        F { f, at }
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
        for t in ids {
            tenants.extend(self.tenant(t));
            self.ck.release(t);
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
            endpoint: f.str_or("endpoint", ""),
            purity: f.version("purity", "0"),
            san: f.enum_("san").map_or(Sp::new(SanType::Iscsi, f.at), |e| {
                Sp::new(
                    match e.value {
                        "fc" => SanType::Fc,
                        "nvmeof_rdma" => SanType::NvmeofRdma,
                        "nvmeof_tcp" => SanType::NvmeofTcp,
                        _ => SanType::Iscsi,
                    },
                    e.span,
                )
            }),
            admin: f.str_or("admin", "pureuser"),
        }
    }

    fn portworx(&mut self, p: SymId, cluster: &Sp<String>) -> Portworx {
        let f = self.f(p);
        let version = f.version("version", "0");
        Portworx {
            span: self.syms.get(p).name_span,
            namespace: f.str_or("namespace", "portworx"),
            name: f
                .str("name")
                .unwrap_or_else(|| Sp::new(format!("px-{}", k8s_name(&cluster.value)), f.at)),
            image: f
                .str("image")
                .unwrap_or_else(|| Sp::new(format!("portworx/oci-monitor:{}", version.text), f.at)),
            version,
            image_pull_policy: match f.enum_("image_pull_policy").map(|e| e.value) {
                Some("if_not_present") => "IfNotPresent",
                Some("never") => "Never",
                _ => "Always",
            },
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
            stork: f.bool_or("stork", true),
            autopilot: f.bool_or("autopilot", true),
            csi: f.bool_sp("csi", true),
            telemetry: f.bool_or("telemetry", true),
            prometheus: f.bool_or("prometheus", true),
            env: f.object("env"),
        }
    }

    fn system(&mut self, z: SymId) -> ZosSystem {
        let f = self.f(z);
        let jcl = match self.child(z, "jcl") {
            Some(j) => self.f(j),
            None => F {
                f: Rc::new(Fields::default()),
                at: f.at,
            },
        };
        let jcl = JclSettings {
            account: jcl.str_or("account", "ACCT"),
            class: jcl.str_or("class", "A"),
            msgclass: jcl.str_or("msgclass", "X"),
            notify: jcl.str_or("notify", "&SYSUID"),
            job_prefix: jcl.str_or("job_prefix", "TNC"),
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
            stack: f.str_or("stack", "TCPIP"),
            jcl,
            authorities,
            servers,
            valid_from: f.str("valid_from"),
        }
    }

    fn authority(&mut self, a: SymId) -> Authority {
        let f = self.f(a);
        let label = f.str_or("label", "");
        Authority {
            name: self.name(a),
            subject: f
                .subject("subject")
                .unwrap_or_else(|| Subject(vec![("CN".into(), label.clone())])),
            label,
            key: f.key("key"),
            export: f.dataset("export"),
            valid_years: f.int("valid_years").unwrap_or(Sp::new(10, f.at)),
        }
    }

    fn authority_ref(&self, r: &Sp<SymId>) -> Option<Sp<AuthorityId>> {
        self.ids
            .authorities
            .get(&r.value)
            .map(|id| Sp::new(*id, r.span))
    }

    fn server(&mut self, s: SymId, system: &F, system_name: &str) -> Option<NfsServer> {
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
                        TV::Ref(id) => self.ids.systems.get(&id).map(|s| Sp::new(*s, v.span)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = self.name(s);
        let jobname = f.str("jobname").unwrap_or_else(|| name.clone());
        let user = f.str("user").unwrap_or_else(|| jobname.clone());
        let ports = self.server_ports(s);
        let security = f
            .enum_("security")
            .map_or(Sp::new(NfsSecurity::Safexp, f.at), |e| {
                Sp::new(
                    match e.value {
                        "safexp" => NfsSecurity::Safexp,
                        "saf" => NfsSecurity::Saf,
                        "exp" => NfsSecurity::Exp,
                        "krb5" => NfsSecurity::Krb5,
                        _ => NfsSecurity::None,
                    },
                    e.span,
                )
            });
        let versions = f
            .list("versions")
            .map_or(Sp::new(vec![NfsVersion::V4], f.at), |l| {
                Sp::new(
                    l.iter()
                        .filter_map(|v| match v.value {
                            TV::Enum("nfs2") => Some(NfsVersion::V2),
                            TV::Enum("nfs3") => Some(NfsVersion::V3),
                            TV::Enum("nfs4") => Some(NfsVersion::V4),
                            _ => None,
                        })
                        .collect(),
                    l.span,
                )
            });
        let tls_sym = f
            .reference("tls")
            .map(|r| r.value)
            .or_else(|| self.prelude("tls12_saf"));
        let tls = self.tls(tls_sym, f.at);
        let clients = f.list("clients").map_or(Sp::new(Vec::new(), f.at), |l| {
            Sp::new(
                l.iter()
                    .filter_map(|v| match v.value {
                        TV::Ipv4(a) => Some(Sp::new(a, v.span)),
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
        let label = cf.str_or("label", "");
        let certificate = ServerCertificate {
            subject: cf
                .subject("subject")
                .unwrap_or_else(|| Subject(vec![("CN".into(), label.clone())])),
            label,
            key: cf.key("key"),
            signed_by,
            valid_years: cf.int("valid_years").unwrap_or(Sp::new(2, cf.at)),
            hostname: cf.str("hostname").unwrap_or_else(|| {
                Sp::new(
                    format!("{}.{}", jobname.value, system_name).to_ascii_lowercase(),
                    cf.at,
                )
            }),
        };
        Some(NfsServer {
            name,
            jobname,
            user,
            ports,
            security,
            versions,
            keyring: f.str_or("keyring", ""),
            certificate,
            tls,
            clients,
            address,
            own_address,
            standby,
            priority: f.int("priority").unwrap_or(Sp::new(1000, f.at)),
            ring_access: match f.enum_("ring_access").map(|e| e.value) {
                Some("facility") => RingAccess::Facility,
                _ => RingAccess::Rdatalib,
            },
        })
    }

    /// An NFS server's port range: its `ports`, else the prelude's `zos_nfs`.
    fn server_ports(&mut self, server: SymId) -> Sp<PortRange> {
        let f = self.f(server);
        if let Some(p) = f.ports("ports") {
            return p;
        }
        let prelude = self.prelude("zos_nfs").map(|p| self.f(p));
        prelude.and_then(|p| p.ports("range")).unwrap_or(Sp::new(
            PortRange {
                low: 2043,
                high: 2049,
            },
            f.at,
        ))
    }

    fn tls(&mut self, profile: Option<SymId>, at: Span) -> Tls {
        let (f, name) = match profile {
            Some(p) => (self.f(p), self.name(p)),
            None => (
                F {
                    f: Rc::new(Fields::default()),
                    at,
                },
                Sp::new("builtin".to_string(), at),
            ),
        };
        let role = f.enum_("handshake_role").map_or(
            Sp::new(HandshakeRole::ServerWithClientAuth, f.at),
            |e| {
                Sp::new(
                    if e.value == "server" {
                        HandshakeRole::Server
                    } else {
                        HandshakeRole::ServerWithClientAuth
                    },
                    e.span,
                )
            },
        );
        let client_auth = f
            .enum_("client_auth")
            .map_or(Sp::new(ClientAuth::SafCheck, f.at), |e| {
                Sp::new(
                    match e.value {
                        "pass_thru" => ClientAuth::PassThru,
                        "full" => ClientAuth::Full,
                        "required" => ClientAuth::Required,
                        _ => ClientAuth::SafCheck,
                    },
                    e.span,
                )
            });
        let versions = f
            .list("versions")
            .map_or(Sp::new(vec![TlsVersion::Tls12], f.at), |l| {
                let mut v: Vec<TlsVersion> = l
                    .iter()
                    .filter_map(|x| match x.value {
                        TV::Enum("ssl3") => Some(TlsVersion::Ssl3),
                        TV::Enum("tls1_0") => Some(TlsVersion::Tls10),
                        TV::Enum("tls1_1") => Some(TlsVersion::Tls11),
                        TV::Enum("tls1_2") => Some(TlsVersion::Tls12),
                        TV::Enum("tls1_3") => Some(TlsVersion::Tls13),
                        _ => None,
                    })
                    .collect();
                v.sort();
                v.dedup();
                Sp::new(v, l.span)
            });
        let ciphers = f
            .list("ciphers")
            .map(|l| {
                l.iter()
                    .filter_map(|c| match &c.value {
                        TV::Str(s) => Some(Sp::new(s.clone(), c.span)),
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
            handshake_timeout_s: f
                .duration("handshake_timeout")
                .map_or(Sp::new(60, f.at), |d| Sp::new(d.value / 1000, d.span)),
            trace: f.int("trace").unwrap_or(Sp::new(1, f.at)),
            ciphers,
            secondary_map: f.bool_or("secondary_map", false),
            application_controlled: f.bool_or("application_controlled", false),
        }
    }

    fn cluster(&mut self, c: SymId) -> Cluster {
        let f = self.f(c);
        let kind = f
            .enum_("kind")
            .map_or(Sp::new(ClusterKind::Openshift, f.at), |e| {
                Sp::new(
                    if e.value == "kubernetes" {
                        ClusterKind::Kubernetes
                    } else {
                        ClusterKind::Openshift
                    },
                    e.span,
                )
            });
        let service_cidr = match f.get("service_cidr") {
            Some(Sp {
                value: TV::Cidr(n),
                span,
            }) => Sp::new(*n, *span),
            _ => Sp::new(ipnet::Ipv4Net::default(), f.at),
        };
        let service_cidr_given = f.get("service_cidr").is_some();
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
                    server: rf.str_or("server", ""),
                    credentials: rf.secret("credentials")?,
                })
            })
            .collect();
        Cluster {
            name,
            kind,
            service_cidr,
            service_cidr_given,
            nodes,
            registries,
            portworx,
        }
    }

    fn registry_ref(&self, f: &F, k: &str) -> Option<Sp<RegistryId>> {
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
                pod: cf.str_or("pod", ""),
                binding: match cf.enum_("binding").map(|e| e.value) {
                    Some("wait_for_first_consumer") => Binding::WaitForFirstConsumer,
                    _ => Binding::Immediate,
                },
                expansion: cf.bool_or("expansion", true),
                reclaim: match cf.enum_("reclaim").map(|e| e.value) {
                    Some("retain") => Reclaim::Retain,
                    _ => Reclaim::Delete,
                },
                fs_type: cf.enum_("fs_type").map(|e| e.value),
                max_iops: cf.int("max_iops").map(|n| n.value),
                max_bandwidth: cf.size("max_bandwidth"),
            });
        }
        Some(TenantPure {
            span: self.syms.get(p).name_span,
            array,
            realm: f.str_or("realm", ""),
            pods: f.strings("pods"),
            policy: f.str_or("policy", ""),
            user: f.str_or("user", ""),
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
        let label = idf.str_or("label", "");
        let signed_by = match idf.reference("signed_by") {
            Some(r) => self.authority_ref(&r)?,
            None => server_signer.clone()?,
        };
        let identity = Identity {
            user: idf.str_or("user", ""),
            subject: idf
                .subject("subject")
                .unwrap_or_else(|| Subject(vec![("CN".into(), label.clone())])),
            label,
            key: idf.key("key"),
            signed_by,
            export: idf.dataset("export"),
            valid_years: idf.int("valid_years").unwrap_or(Sp::new(2, idf.at)),
        };

        let pf = self.f(self.child(n, "proxy")?);
        let hp_sym = pf
            .reference("haproxy")
            .map(|r| r.value)
            .or_else(|| self.prelude("haproxy_defaults"));
        let hf = match hp_sym {
            Some(h) => self.f(h),
            None => F {
                f: Rc::new(Fields::default()),
                at: pf.at,
            },
        };
        let haproxy = HaproxySettings {
            profile: hp_sym.map_or(Sp::new("builtin".into(), pf.at), |h| self.name(h)),
            timeout_connect_ms: hf
                .duration("timeout_connect")
                .unwrap_or(Sp::new(5_000, hf.at)),
            timeout_client_ms: hf
                .duration("timeout_client")
                .unwrap_or(Sp::new(86_400_000, hf.at)),
            timeout_server_ms: hf
                .duration("timeout_server")
                .unwrap_or(Sp::new(86_400_000, hf.at)),
            maxconn: hf.int("maxconn").unwrap_or(Sp::new(32, hf.at)),
        };
        let trust = match pf.reference("trust") {
            Some(r) => self.authority_ref(&r)?,
            None => server_signer?,
        };
        let proxy = Proxy {
            namespace: pf
                .str("namespace")
                .unwrap_or_else(|| Sp::new(format!("{}-nfs-proxy", namespace.value), pf.at)),
            service: pf.str_or("service", "nfs-server"),
            cluster_ip: pf.ipv4("cluster_ip"),
            image: pf
                .str("image")
                .or_else(|| hf.str("image"))
                .unwrap_or_else(|| Sp::new("icr.io/ibmz/haproxy:3.0.0-bookworm".into(), pf.at)),
            registry: self.registry_ref(&pf, "registry"),
            replicas: pf
                .int("replicas")
                .or_else(|| hf.int("replicas"))
                .unwrap_or(Sp::new(1, pf.at)),
            ports: pf.ports("ports").unwrap_or(server_ports),
            trust,
            haproxy,
            user: pf.int("user"),
        };

        let mut volumes = Vec::new();
        for (i, v) in self.nested_of_kind(n, "volume").into_iter().enumerate() {
            self.ids.volumes.insert(v, i);
            let vf = self.f(v);
            let size = match vf.get("size") {
                Some(Sp {
                    value: TV::Size(s),
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
                export: vf.str_or("export", "/"),
                attributes: vf
                    .list("attributes")
                    .map(|l| {
                        l.iter()
                            .filter_map(|a| match &a.value {
                                TV::Str(s) => Some(Sp::new(s.clone(), a.span)),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                size,
                access: vf
                    .enum_("access")
                    .map_or(Sp::new(AccessMode::ReadWriteMany, vf.at), |e| {
                        Sp::new(
                            match e.value {
                                "read_write_once" => AccessMode::ReadWriteOnce,
                                "read_only_many" => AccessMode::ReadOnlyMany,
                                _ => AccessMode::ReadWriteMany,
                            },
                            e.span,
                        )
                    }),
                reclaim: match vf.enum_("reclaim").map(|e| e.value) {
                    Some("delete") => Reclaim::Delete,
                    _ => Reclaim::Retain,
                },
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
                value: TV::Env(o), ..
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
                self.ck.diags.push(
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
                path: mf.str_or("path", "/data"),
                read_only: mf.bool_or("read_only", false),
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
                self.ck.diags.push(
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
                path: cf.str_or("path", "/data"),
                access: cf
                    .enum_("access")
                    .map_or(Sp::new(AccessMode::ReadWriteOnce, cf.at), |e| {
                        Sp::new(
                            match e.value {
                                "read_write_many" => AccessMode::ReadWriteMany,
                                "read_only_many" => AccessMode::ReadOnlyMany,
                                _ => AccessMode::ReadWriteOnce,
                            },
                            e.span,
                        )
                    }),
            });
        }
        let liveness = self.probe(w, "liveness");
        let readiness = self.probe(w, "readiness");
        let has_claims = !self.nested_of_kind(w, "claim").is_empty();
        let kind = match f.enum_("kind") {
            Some(e) => Sp::new(
                if e.value == "stateful_set" {
                    WorkloadKind::StatefulSet
                } else {
                    WorkloadKind::Deployment
                },
                e.span,
            ),
            None if has_claims => Sp::new(WorkloadKind::StatefulSet, f.at),
            None => Sp::new(WorkloadKind::Deployment, f.at),
        };
        let port_list = |k: &str| -> Vec<Sp<u16>> {
            f.list(k)
                .map(|l| {
                    l.iter()
                        .filter_map(|p| match p.value {
                            TV::Int(n) => u16::try_from(n).ok().map(|n| Sp::new(n, p.span)),
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
            image: f.str_or("image", ""),
            replicas: f.int("replicas").unwrap_or(Sp::new(1, f.at)),
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
            read_only_root: f.bool_or("read_only_root", false),
            service_account_token: f.bool_or("service_account_token", false),
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
            let mut secs = |k: &str, d: u64| match lf.duration(k) {
                Some(v) if v.value.div_ceil(1000) > i32::MAX as u64 => {
                    too_long.push(v.span);
                    d
                }
                Some(v) => v.value.div_ceil(1000),
                None => d,
            };
            let probe = Liveness {
                command: lf.strings("command").value,
                initial_delay_s: secs("initial_delay", 0),
                timeout_s: secs("timeout", 1),
                period_s: secs("period", 10),
                failures: lf.int("failures").map_or(3, |n| n.value),
            };
            for span in too_long {
                self.ck.diags.push(
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
