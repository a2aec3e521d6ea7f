//! Stage 3, first half: the plan. Every name the bundle will contain that a
//! check judges, computed once from the IR before any check runs:
//!
//! - Kubernetes objects: PersistentVolumes `<tenant>-<volume>` and their
//!   claims, workloads, the `<workload>-env` Secrets, pull Secrets,
//!   StorageClasses, and the PVCs `<claim>-<workload>-<i>` a StatefulSet
//!   creates ([`Plan::objects`] lists them with their owner and span);
//! - on z/OS: the RACF job names and job files, the subject DN operands and
//!   whether each can be laid out within the JCL columns ([`jcl`]), the
//!   PAGENT statement names, and the secret placeholders the jobs carry.
//!
//! The checks (`src/check`) judge these names and lowering (`src/lower`)
//! writes the same values, from the same [`Plan`], so a renamed object cannot
//! be checked under its old name. [`build`] runs once per analysis
//! ([`crate::analyze`]); a [`crate::check::CheckedSite`] carries the plan to
//! lowering.

pub mod claims;
pub mod jcl;

use crate::ir::*;
use crate::source::Span;

/// The Secret of a tenant's proxy holding its client certificate and key.
pub const CLIENT_SECRET: &str = "nfs-client-cert";
/// The Secret of a tenant's proxy holding the authority's certificate.
pub const CA_SECRET: &str = "nfs-ca";
/// The Deployment of a tenant's NFS proxy.
pub const PROXY_DEPLOYMENT: &str = "haproxy";

/// The derived names of a site, by the index of what they derive from.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// In `site.tenants` order.
    pub tenants: Vec<TenantNames>,
    /// The pull Secret of each registry, by cluster, in declaration order.
    pub registries: Vec<Vec<String>>,
    /// In `site.systems` order.
    pub systems: Vec<SystemNames>,
    /// The ledger of claims ([`claims`]): the only source of what two
    /// holders may not share.
    pub claims: Vec<claims::Claim>,
    /// The security domain of each z/OS system.
    pub domains: claims::Domains,
}

#[derive(Debug, Clone, Default)]
pub struct SystemNames {
    pub authorities: Vec<AuthorityNames>,
    pub servers: Vec<ServerNames>,
    /// `zos/<system>/jcl/0-prereq-<system>.jcl`: class activation and the
    /// EZB.INITSTACK profile, on a system a server may run on.
    pub prereq: JobNames,
    /// `zos/<system>/jcl/0-users-<system>.jcl`: the user IDs with a `uid`
    /// and their OMVS segments.
    pub users: JobNames,
    /// `zos/<system>/jcl/5-delete-exports-<system>.jcl`: the certificate
    /// exports (private keys among them) deleted once the proxies hold them.
    pub cleanup: JobNames,
}

/// A generated job and its file.
#[derive(Debug, Clone, Default)]
pub struct JobNames {
    pub job: String,
    pub file: String,
}

/// A certificate's subject as the RACDCERT operand, and the layout decision.
#[derive(Debug, Clone)]
pub struct Dn {
    /// `SUBJECTSDN(CN('...') ...)`.
    pub operand: String,
    /// Whether the operand can be laid out within JCL column 71.
    pub fits: bool,
}

impl Dn {
    fn of(subject: &Subject) -> Dn {
        let operand = jcl::dn(subject);
        let fits = jcl::operand_fits(&operand);
        Dn { operand, fits }
    }
}

#[derive(Debug, Clone)]
pub struct AuthorityNames {
    /// The job that makes the certificate.
    pub job: String,
    /// `zos/<system>/jcl/1-authority-<name>.jcl`.
    pub file: String,
    pub dn: Dn,
}

#[derive(Debug, Clone)]
pub struct ServerNames {
    /// The job that makes the certificate and key ring.
    pub job: String,
    /// `zos/<system>/jcl/2-server-<jobname>.jcl`.
    pub file: String,
    /// The job that verifies the RACF setup.
    pub verify_job: String,
    /// `zos/<system>/jcl/4-verify-<jobname>.jcl`.
    pub verify_file: String,
    /// `zos/<system>/uss/<jobname>-dirs.sh`: makes the exported directories,
    /// owned by their tenants' user IDs, mode 700.
    pub dirs_file: String,
    pub dn: Dn,
    pub statements: Statements,
}

/// The names of a server's AT-TLS policy statements, derived from its name.
#[derive(Debug, Clone)]
pub struct Statements {
    pub rule: String,
    pub addr_group: String,
    pub group_action: String,
    pub env_action: String,
    pub conn_action: String,
    pub conn_parms: String,
    pub keyring_parms: String,
    pub cipher_parms: String,
}

impl Statements {
    pub fn of(server: &str) -> Statements {
        Statements {
            rule: format!("{server}_rule"),
            addr_group: format!("{server}_clients"),
            group_action: format!("{server}_group"),
            env_action: format!("{server}_env"),
            conn_action: format!("{server}_conn"),
            conn_parms: format!("{server}_connparms"),
            keyring_parms: format!("{server}_keyring"),
            cipher_parms: format!("{server}_ciphers"),
        }
    }

    /// Every name, in the order the checks report the first invalid one.
    pub fn all(&self) -> [&str; 8] {
        [
            &self.rule,
            &self.addr_group,
            &self.group_action,
            &self.env_action,
            &self.conn_action,
            &self.conn_parms,
            &self.keyring_parms,
            &self.cipher_parms,
        ]
    }
}

#[derive(Debug, Clone, Default)]
pub struct TenantNames {
    /// Of the NFS volumes, in declaration order.
    pub volumes: Vec<VolumeNames>,
    /// Of the FADA StorageClasses, in declaration order.
    pub classes: Vec<String>,
    /// In declaration order.
    pub workloads: Vec<WorkloadNames>,
    /// The RACF job of a tenant with NFS storage.
    pub client: Option<ClientNames>,
}

#[derive(Debug, Clone)]
pub struct VolumeNames {
    /// The PersistentVolumeClaim, and the pod volume of a workload that mounts it.
    pub claim: String,
    /// The PersistentVolume, `<tenant>-<volume>`.
    pub pv: String,
}

#[derive(Debug, Clone)]
pub struct WorkloadNames {
    /// The Deployment or StatefulSet (and its headless Service, its
    /// container, its `app` label).
    pub name: String,
    /// The Secret its secret variables come from, `<workload>-env`
    /// (written when it has one).
    pub env_secret: String,
    /// Of its volume claim templates, in declaration order.
    pub claims: Vec<String>,
}

impl WorkloadNames {
    /// The PVC a StatefulSet creates for replica `ordinal` from the claim
    /// template `claim`: `<claim>-<workload>-<ordinal>`.
    /// https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#stable-storage
    pub fn pvc(&self, claim: &str, ordinal: u64) -> String {
        format!("{claim}-{}-{ordinal}", self.name)
    }
}

#[derive(Debug, Clone)]
pub struct ClientNames {
    pub job: String,
    /// `zos/<system>/jcl/3-client-<tenant>.jcl`.
    pub file: String,
    pub dn: Dn,
    /// What the job carries instead of the export password.
    pub password: Option<String>,
}

/// The StorageClass of a FADA class.
pub fn class_name(c: &FadaClass) -> String {
    k8s_name(&c.name.value)
}

/// Where a secret's value goes until it is materialized.
pub fn placeholder(r: &SecretRef) -> String {
    match r.source {
        SecretSource::Env => format!("${{ENV:{}}}", r.name),
        SecretSource::File => format!("${{FILE:{}}}", r.name),
    }
}

/// A certificate's NOTBEFORE and NOTAFTER: from its own `valid_from`, else
/// the system's, for `years`; `None` when neither dates it (RACF's defaults
/// then apply) or the date is not one (E0301 reports it).
pub fn validity(sys: &ZosSystem, own: Option<&Sp<String>>, years: u64) -> Option<(String, String)> {
    let from = &own.or(sys.valid_from.as_ref())?.value;
    Some((from.clone(), jcl::add_years(from, years)?))
}

/// Computes every derived name of a resolved site (one without errors),
/// and its claims but for secret sources.
pub fn build(site: &Site) -> Plan {
    build_with(site, Vec::new())
}

/// [`build`], with the secret sources' claims (`resolve::secrets::claims`,
/// which alone can tell a file's identity) added to the ledger.
pub fn build_with(site: &Site, secrets: Vec<claims::Claim>) -> Plan {
    let mut plan = names(site);
    plan.domains = claims::Domains::of_site(site);
    plan.claims = claims::of_site(site, &plan, &plan.domains);
    plan.claims.extend(secrets);
    plan
}

fn names(site: &Site) -> Plan {
    Plan {
        tenants: site.tenants.iter().map(|t| tenant(site, t)).collect(),
        registries: site
            .clusters
            .iter()
            .map(|c| {
                c.registries
                    .iter()
                    .map(|r| k8s_name(&r.name.value))
                    .collect()
            })
            .collect(),
        systems: site.systems.iter().map(system).collect(),
        ..Plan::default()
    }
}

/// A system's job directory.
fn jcl_dir(sys: &ZosSystem) -> String {
    format!("zos/{}/jcl", sys.name.value)
}

fn system(sys: &ZosSystem) -> SystemNames {
    let dir = jcl_dir(sys);
    let sname = &sys.name.value;
    SystemNames {
        prereq: JobNames {
            job: sys.jcl.job_name(JobKind::Prereq, sname),
            file: format!("{dir}/0-prereq-{sname}.jcl"),
        },
        users: JobNames {
            job: sys.jcl.job_name(JobKind::Users, sname),
            file: format!("{dir}/0-users-{sname}.jcl"),
        },
        cleanup: JobNames {
            job: sys.jcl.job_name(JobKind::Cleanup, sname),
            file: format!("{dir}/5-delete-exports-{sname}.jcl"),
        },
        authorities: sys
            .authorities
            .iter()
            .map(|a| AuthorityNames {
                job: sys.jcl.job_name(JobKind::Authority, &a.name.value),
                file: format!("{dir}/1-authority-{}.jcl", a.name.value),
                dn: Dn::of(&a.subject),
            })
            .collect(),
        servers: sys
            .servers
            .iter()
            .map(|s| ServerNames {
                job: sys.jcl.job_name(JobKind::Server, &s.name.value),
                file: format!("{dir}/2-server-{}.jcl", s.jobname.value),
                verify_job: sys.jcl.job_name(JobKind::Verify, &s.name.value),
                verify_file: format!("{dir}/4-verify-{}.jcl", s.jobname.value),
                dirs_file: format!("zos/{sname}/uss/{}-dirs.sh", s.jobname.value),
                dn: Dn::of(&s.certificate.subject),
                statements: Statements::of(&s.name.value),
            })
            .collect(),
    }
}

fn tenant(site: &Site, t: &Tenant) -> TenantNames {
    let tn = k8s_name(&t.name.value);
    let volumes = t
        .nfs
        .iter()
        .flat_map(|n| &n.volumes)
        .map(|v| {
            let claim = k8s_name(&v.name.value);
            VolumeNames {
                pv: format!("{tn}-{claim}"),
                claim,
            }
        })
        .collect();
    let classes = t
        .pure
        .iter()
        .flat_map(|p| &p.classes)
        .map(class_name)
        .collect();
    let workloads = t
        .workloads
        .iter()
        .map(|w| {
            let name = k8s_name(&w.name.value);
            WorkloadNames {
                env_secret: format!("{name}-env"),
                claims: w.claims.iter().map(|c| k8s_name(&c.name.value)).collect(),
                name,
            }
        })
        .collect();
    let client = t.nfs.as_ref().map(|nfs| {
        let sys = site.system(nfs.server.value.0);
        let idn = &nfs.identity;
        ClientNames {
            job: sys.jcl.job_name(JobKind::Client, &t.name.value),
            file: format!("{}/3-client-{}.jcl", jcl_dir(sys), t.name.value),
            dn: Dn::of(&idn.subject),
            password: idn.export.password.as_ref().map(placeholder),
        }
    });
    TenantNames {
        volumes,
        classes,
        workloads,
        client,
    }
}

/// A Kubernetes object a tenant's part of the bundle holds (or, for a
/// Secret, that its kustomization generates).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Object<'p> {
    pub cluster: ClusterId,
    /// `None` for a cluster-scoped object.
    pub namespace: Option<&'p str>,
    pub kind: &'static str,
    pub name: &'p str,
    /// The owner's index in `site.tenants`.
    pub tenant: usize,
    /// What gives the object its name.
    pub span: Span,
}

impl Plan {
    /// The pull Secret of a registry.
    pub fn pull_secret(&self, r: RegistryId) -> &str {
        &self.registries[r.0 .0][r.1]
    }

    pub fn server(&self, id: ServerId) -> &ServerNames {
        &self.systems[id.0 .0].servers[id.1]
    }

    /// The Kubernetes objects of each tenant that lowering names: its
    /// namespaces, its proxy's Deployment, Service and Secrets, StorageClasses,
    /// PersistentVolumes and claims, workloads (a StatefulSet with its
    /// headless Service), and their Secrets.
    pub fn objects<'p>(&'p self, site: &'p Site) -> Vec<Object<'p>> {
        let mut out = Vec::new();
        for (ti, (t, names)) in site.tenants.iter().zip(&self.tenants).enumerate() {
            let ns = t.namespace.value.as_str();
            let mut add = |namespace: Option<&'p str>, kind, name: &'p str, span| {
                out.push(Object {
                    cluster: t.cluster.value,
                    namespace,
                    kind,
                    name,
                    tenant: ti,
                    span,
                });
            };
            let pull = |r: &Sp<RegistryId>| self.pull_secret(r.value);
            add(None, "Namespace", ns, t.namespace.span);
            if let Some(nfs) = &t.nfs {
                let p = &nfs.proxy;
                let pns = p.namespace.value.as_str();
                add(None, "Namespace", pns, p.namespace.span);
                add(Some(pns), "Deployment", PROXY_DEPLOYMENT, p.namespace.span);
                add(Some(pns), "Service", &p.service.value, p.service.span);
                add(Some(pns), "Secret", CLIENT_SECRET, nfs.identity.user.span);
                add(Some(pns), "Secret", CA_SECRET, p.trust.span);
                if let Some(r) = &p.registry {
                    add(Some(pns), "Secret", pull(r), r.span);
                }
                let class = &nfs.storage_class;
                add(None, "StorageClass", &class.value, class.span);
                for (v, vn) in nfs.volumes.iter().zip(&names.volumes) {
                    add(None, "PersistentVolume", &vn.pv, v.name.span);
                    add(Some(ns), "PersistentVolumeClaim", &vn.claim, v.name.span);
                }
            }
            for (c, cn) in t.pure.iter().flat_map(|p| &p.classes).zip(&names.classes) {
                add(None, "StorageClass", cn, c.name.span);
            }
            for (w, wn) in t.workloads.iter().zip(&names.workloads) {
                let span = w.name.span;
                match w.kind.value {
                    WorkloadKind::Deployment => add(Some(ns), "Deployment", &wn.name, span),
                    WorkloadKind::StatefulSet => {
                        add(Some(ns), "Service", &wn.name, span);
                        add(Some(ns), "StatefulSet", &wn.name, span);
                    }
                }
                if w.env
                    .iter()
                    .any(|(_, v)| matches!(v.value, EnvValue::Secret(_)))
                {
                    add(Some(ns), "Secret", &wn.env_secret, span);
                }
                if let Some(r) = &w.registry {
                    add(Some(ns), "Secret", pull(r), r.span);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn analysis(example: &str) -> crate::Analysis {
        let dir = camino::Utf8Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example);
        let inputs = crate::find_inputs(&[dir]).expect("the example is readable");
        let a = crate::analyze(&inputs, &crate::Options::default()).expect("analysis");
        assert!(!a.has_errors(), "{example}: {:?}", a.diagnostics);
        a
    }

    fn bundle(a: &crate::Analysis) -> crate::bundle::Bundle {
        crate::build_bundle(a, &crate::Options::default()).expect("bundle")
    }

    const EXAMPLES: [&str; 3] = ["mixed-site", "px-pure-saw", "zcx-nfs"];

    type Key = (String, Option<String>, String, String);

    /// Every tenant object of a kind the plan names that lowering wrote
    /// (YAML files labelled with a tenant, and the Secrets the
    /// kustomizations generate in the tenants' namespaces) is the plan's,
    /// and every object of the plan was written.
    #[test]
    fn lowering_writes_exactly_the_objects_the_plan_names() {
        for example in EXAMPLES {
            let a = analysis(example);
            let site = &a.site;
            let plan = a.plan.as_ref().expect("a clean analysis has a plan");
            let planned: BTreeSet<Key> = plan
                .objects(site)
                .iter()
                .map(|o| {
                    (
                        site.cluster(o.cluster).name.value.clone(),
                        o.namespace.map(str::to_string),
                        o.kind.to_string(),
                        o.name.to_string(),
                    )
                })
                .collect();
            let kinds: BTreeSet<&str> = planned.iter().map(|k| k.2.as_str()).collect();
            let namespaces: BTreeSet<(String, String)> = planned
                .iter()
                .filter(|k| k.2 == "Namespace")
                .map(|k| (k.0.clone(), k.3.clone()))
                .collect();
            let mut written = BTreeSet::new();
            for (path, file) in &bundle(&a).files {
                let Some(rest) = path.strip_prefix("k8s/") else {
                    continue;
                };
                let Some((cluster, _)) = rest.split_once('/') else {
                    continue;
                };
                if !path.ends_with(".yaml") {
                    continue;
                }
                let doc: serde_yaml::Value =
                    serde_yaml::from_slice(&file.bytes).expect("generated YAML parses");
                let text = |v: &serde_yaml::Value| v.as_str().map(str::to_string);
                if path.ends_with("/kustomization.yaml") {
                    let generators = doc["secretGenerator"].as_sequence().cloned();
                    for g in generators.unwrap_or_default() {
                        let ns = text(&g["namespace"]).expect("namespace");
                        if namespaces.contains(&(cluster.to_string(), ns.clone())) {
                            let name = text(&g["name"]).expect("name");
                            written.insert((cluster.to_string(), Some(ns), "Secret".into(), name));
                        }
                    }
                    continue;
                }
                let kind = text(&doc["kind"]).expect("kind");
                let meta = &doc["metadata"];
                if !kinds.contains(kind.as_str()) || meta["labels"]["tenantc.io/tenant"].is_null() {
                    continue;
                }
                let name = text(&meta["name"]).expect("name");
                written.insert((cluster.to_string(), text(&meta["namespace"]), kind, name));
            }
            // The proxies' certificate Secrets are created by each tenant's
            // TLS script's pipe from the exports (the key never touches a
            // file).
            let b = bundle(&a);
            for t in &a.site.tenants {
                let Some(nfs) = &t.nfs else { continue };
                let cluster = a.site.cluster(t.cluster.value).name.value.clone();
                let ns = nfs.proxy.namespace.value.clone();
                let script = b
                    .files
                    .get(&format!("k8s/{cluster}/tls/{}.sh", t.name.value))
                    .map(|f| String::from_utf8_lossy(&f.bytes).to_string())
                    .unwrap_or_default();
                for name in [CLIENT_SECRET, CA_SECRET] {
                    if script.contains(&format!("kubectl -n {ns} create secret generic {name} ")) {
                        written.insert((
                            cluster.clone(),
                            Some(ns.clone()),
                            "Secret".into(),
                            name.into(),
                        ));
                    }
                }
            }
            assert!(written.len() > 5, "{example}: {written:?}");
            let unplanned: Vec<_> = written.difference(&planned).collect();
            let unwritten: Vec<_> = planned.difference(&written).collect();
            assert!(
                unplanned.is_empty() && unwritten.is_empty(),
                "{example}: written but not in the plan {unplanned:#?}; planned but not written {unwritten:#?}"
            );
        }
    }

    /// The RACF jobs are written under the plan's file and job names, and
    /// the AT-TLS policies use its statement names.
    #[test]
    fn the_zos_files_carry_the_plans_names() {
        let a = analysis("zcx-nfs");
        let plan = a.plan.as_ref().expect("plan");
        let b = bundle(&a);
        let mut jobs: BTreeSet<(String, String)> = BTreeSet::new();
        for sys in &plan.systems {
            jobs.insert((sys.prereq.file.clone(), sys.prereq.job.clone()));
            jobs.insert((sys.users.file.clone(), sys.users.job.clone()));
            jobs.insert((sys.cleanup.file.clone(), sys.cleanup.job.clone()));
            for an in &sys.authorities {
                jobs.insert((an.file.clone(), an.job.clone()));
            }
            for sn in &sys.servers {
                jobs.insert((sn.file.clone(), sn.job.clone()));
                jobs.insert((sn.verify_file.clone(), sn.verify_job.clone()));
            }
        }
        for t in &plan.tenants {
            if let Some(c) = &t.client {
                jobs.insert((c.file.clone(), c.job.clone()));
            }
        }
        let written: BTreeSet<(String, String)> = b
            .files
            .iter()
            .filter(|(p, _)| p.ends_with(".jcl"))
            .map(|(p, f)| {
                let text = String::from_utf8_lossy(&f.bytes);
                let job = text
                    .strip_prefix("//")
                    .and_then(|t| t.split_once(' '))
                    .map(|(j, _)| j.to_string())
                    .unwrap_or_default();
                (p.clone(), job)
            })
            .collect();
        assert!(jobs.len() >= 4, "{jobs:?}");
        assert_eq!(written, jobs);
        let policies: Vec<String> = b
            .files
            .iter()
            .filter(|(p, _)| p.ends_with(".policy"))
            .map(|(_, f)| String::from_utf8_lossy(&f.bytes).into_owned())
            .collect();
        assert!(!policies.is_empty());
        let servers = a.site.systems.iter().flat_map(|s| &s.servers);
        for (s, sn) in servers.zip(plan.systems.iter().flat_map(|s| &s.servers)) {
            // The cipher statement is written only with a cipher list.
            let used = if s.tls.ciphers.is_empty() { 7 } else { 8 };
            for name in &sn.statements.all()[..used] {
                assert!(
                    policies.iter().any(|p| p.contains(name)),
                    "no policy uses {name}"
                );
            }
        }
        // The password placeholder the checks measured is the job's.
        for c in plan.tenants.iter().filter_map(|t| t.client.as_ref()) {
            if let Some(pw) = &c.password {
                let job = String::from_utf8_lossy(&b.files[&c.file].bytes).into_owned();
                assert!(job.contains(pw.as_str()), "{}", c.file);
            }
        }
    }

    /// The checks judge the names in the plan, not names of their own: a
    /// plan whose PersistentVolume name is invalid is refused.
    #[test]
    fn the_checks_judge_the_plans_names() {
        let a = analysis("zcx-nfs");
        let mut plan = a.plan.clone().expect("plan");
        assert!(crate::check::run(&a.site, &plan).is_empty());
        let (ti, _) = plan
            .tenants
            .iter()
            .enumerate()
            .find(|(_, t)| !t.volumes.is_empty())
            .expect("a tenant with NFS volumes");
        plan.tenants[ti].volumes[0].pv = "Not_A_Name".into();
        let diags = crate::check::run(&a.site, &plan);
        assert!(
            diags
                .iter()
                .any(|d| d.code == crate::diagnostics::registry::K8S_NAME
                    && d.message.contains("Not_A_Name")),
            "{diags:?}"
        );
    }

    #[test]
    fn derived_names() {
        let w = WorkloadNames {
            name: "db".into(),
            env_secret: "db-env".into(),
            claims: vec!["data".into()],
        };
        assert_eq!(w.pvc(&w.claims[0], 2), "data-db-2");
        let s = Statements::of("NFSS");
        assert_eq!(s.all()[0], "NFSS_rule");
        assert_eq!(s.all()[7], "NFSS_ciphers");
        let r = SecretRef {
            source: SecretSource::Env,
            name: "PW".into(),
            span: Span::new(crate::source::FileId(0), 0, 0),
        };
        assert_eq!(placeholder(&r), "${ENV:PW}");
    }
}
