//! The typed, resolved model of a site: what the resolver produces and every
//! later stage (checks, lowering) reads. Nothing here refers to syntax: names
//! are resolved to indices, defaults are filled in, profiles are merged, and
//! every value keeps the span it came from (for a default, the span of the
//! declaration that supplied it), so checks can point at source text.

use crate::source::Span;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Sp<T> {
        Sp { value, span }
    }
}

impl<T> std::ops::Deref for Sp<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SystemId(pub usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthorityId(pub SystemId, pub usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId(pub SystemId, pub usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterId(pub usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistryId(pub ClusterId, pub usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArrayId(pub usize);
/// A tenant, by its position in `Site::tenants`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub usize);

/// The whole site: every system, cluster and tenant of every input file.
#[derive(Debug, Clone, Default)]
pub struct Site {
    pub systems: Vec<ZosSystem>,
    pub clusters: Vec<Cluster>,
    pub arrays: Vec<FlashArray>,
    pub tenants: Vec<Tenant>,
}

impl Site {
    pub fn system(&self, id: SystemId) -> &ZosSystem {
        &self.systems[id.0]
    }
    pub fn authority(&self, id: AuthorityId) -> &Authority {
        &self.systems[id.0 .0].authorities[id.1]
    }
    pub fn server(&self, id: ServerId) -> &NfsServer {
        &self.systems[id.0 .0].servers[id.1]
    }
    pub fn cluster(&self, id: ClusterId) -> &Cluster {
        &self.clusters[id.0]
    }
    pub fn registry(&self, id: RegistryId) -> &Registry {
        &self.clusters[id.0 .0].registries[id.1]
    }
    pub fn array(&self, id: ArrayId) -> &FlashArray {
        &self.arrays[id.0]
    }
    pub fn tenant(&self, id: TenantId) -> &Tenant {
        &self.tenants[id.0]
    }
    /// Tenants with a Pure workspace, with it.
    pub fn pure_tenants(&self) -> impl Iterator<Item = (&Tenant, &TenantPure)> + '_ {
        self.tenants
            .iter()
            .filter_map(|t| t.pure.as_ref().map(|p| (t, p)))
    }
    /// The tenants with Pure storage on `cluster`, in declaration order.
    pub fn pure_tenants_on(
        &self,
        cluster: ClusterId,
    ) -> impl Iterator<Item = (&Tenant, &TenantPure)> + '_ {
        self.pure_tenants()
            .filter(move |(t, _)| t.cluster.value == cluster)
    }
    /// The names of [`Site::pure_tenants_on`], sorted: the owners of what a
    /// cluster's Portworx holds for all of them.
    pub fn pure_tenant_names_on(&self, cluster: ClusterId) -> std::collections::BTreeSet<String> {
        self.pure_tenants_on(cluster)
            .map(|(t, _)| t.name.value.clone())
            .collect()
    }
    /// Every server id, in declaration order.
    pub fn server_ids(&self) -> impl Iterator<Item = ServerId> + '_ {
        self.systems
            .iter()
            .enumerate()
            .flat_map(|(s, sys)| (0..sys.servers.len()).map(move |i| ServerId(SystemId(s), i)))
    }
    /// Tenants whose NFS storage is served by `server`.
    /// The tenants on an NFS server, by name: every file that lists them
    /// (exports, certificates, jobs, the runbook) lists them in an order that
    /// moving a tenant to another spec file does not change.
    pub fn tenants_of(&self, server: ServerId) -> impl Iterator<Item = (&Tenant, &TenantNfs)> + '_ {
        let mut on: Vec<(&Tenant, &TenantNfs)> = self
            .tenants
            .iter()
            .filter_map(move |t| {
                t.nfs
                    .as_ref()
                    .filter(|n| n.server.value == server)
                    .map(|n| (t, n))
            })
            .collect();
        on.sort_by(|a, b| a.0.name.value.cmp(&b.0.name.value));
        on.into_iter()
    }
}

#[derive(Debug, Clone)]
pub struct JclSettings {
    pub account: Sp<String>,
    pub class: Sp<String>,
    pub msgclass: Sp<String>,
    pub notify: Sp<String>,
    pub job_prefix: Sp<String>,
}

/// What a generated RACF job does; part of what its name is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum JobKind {
    Authority,
    Server,
    Client,
    /// A server's read-only verification job.
    Verify,
    /// A job of a day-2 change (`tenantc plan`).
    Change,
    /// A system's prerequisites: class activation, EZB.INITSTACK.
    Prereq,
    /// A system's user IDs and their OMVS segments.
    Users,
    /// A system's clean-up after day 0: the certificate exports deleted.
    Cleanup,
}

impl JobKind {
    fn tag(self) -> &'static str {
        match self {
            JobKind::Authority => "authority",
            JobKind::Server => "server",
            JobKind::Client => "client",
            JobKind::Verify => "verify",
            JobKind::Change => "change",
            JobKind::Prereq => "prereq",
            JobKind::Users => "users",
            JobKind::Cleanup => "cleanup",
        }
    }
}

impl JclSettings {
    /// The name of a generated job: the prefix, then base-36 digits of a
    /// stable hash (FNV-1a, 64 bits) of the kind and the object's name, up
    /// to 8 characters. It depends on nothing else, so adding, removing or
    /// reordering tenants renames no other tenant's job; two objects whose
    /// names hash alike are diagnosed (E0440), never renamed silently.
    /// A job name is 1-8 of A-Z 0-9 # $ @, not starting with a digit; the
    /// prefix (checked, E0410) starts it. Duplicate batch job names are
    /// delayed behind each other by JES, hence the diagnostic:
    /// https://ibm.com/support/knowledgecenter/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.ieab600/iea3b6_Name_field6.htm
    pub fn job_name(&self, kind: JobKind, name: &str) -> String {
        job_name(&self.job_prefix.value, kind, name)
    }
}

/// See [`JclSettings::job_name`].
pub fn job_name(prefix: &str, kind: JobKind, name: &str) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in kind.tag().bytes().chain([0]).chain(name.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out: String = prefix.chars().take(5).collect();
    while out.len() < 8 {
        out.push(DIGITS[(h % 36) as usize] as char);
        h /= 36;
    }
    out
}

#[derive(Debug, Clone)]
pub struct ZosSystem {
    pub name: Sp<String>,
    pub address: Sp<Ipv4Addr>,
    pub stack: Sp<String>,
    pub jcl: JclSettings,
    pub authorities: Vec<Authority>,
    pub servers: Vec<NfsServer>,
    /// The first day of every certificate made on this system
    /// (`valid_from = "2027-01-01"`); without it RACF's defaults apply.
    pub valid_from: Option<Sp<String>>,
    /// Policy Agent's user ID, first of those with READ to
    /// EZB.INITSTACK.<system>.<stack>.
    pub pagent_user: Sp<String>,
    /// Further user IDs that may use the stack before the AT-TLS policy is in.
    pub initstack: Vec<Sp<String>>,
    /// The security domain (RACF database) it shares with the systems naming
    /// the same one; none: the site's default domain
    /// ([`crate::plan::claims::Domains`]).
    pub security_domain: Option<Sp<String>>,
}

/// Subject distinguished name, attributes in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(pub Vec<(String, Sp<String>)>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    Rsa,
    Nistecc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub alg: KeyAlg,
    pub bits: Sp<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    CertB64,
    CertDer,
    Pkcs12Der,
    Pkcs12B64,
}

impl ExportFormat {
    pub fn racf(self) -> &'static str {
        match self {
            ExportFormat::CertB64 => "CERTB64",
            ExportFormat::CertDer => "CERTDER",
            ExportFormat::Pkcs12Der => "PKCS12DER",
            ExportFormat::Pkcs12B64 => "PKCS12B64",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    Env,
    File,
}

/// Where a secret comes from; never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub source: SecretSource,
    pub name: String,
    pub span: Span,
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.source {
            SecretSource::Env => write!(f, "env({:?})", self.name),
            SecretSource::File => write!(f, "file({:?})", self.name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub dsn: Sp<String>,
    pub format: Sp<ExportFormat>,
    pub password: Option<SecretRef>,
}

#[derive(Debug, Clone)]
pub struct Authority {
    pub name: Sp<String>,
    pub label: Sp<String>,
    pub subject: Subject,
    pub key: Key,
    pub export: Dataset,
    /// Years of validity from the system's `valid_from`.
    pub valid_years: Sp<u64>,
    /// Its first day, when not the system's `valid_from`.
    pub valid_from: Option<Sp<String>>,
}

#[derive(Debug, Clone)]
pub struct ServerCertificate {
    pub label: Sp<String>,
    pub subject: Subject,
    pub key: Key,
    pub signed_by: Sp<AuthorityId>,
    /// The DNS name in the certificate's subject alternative name, which
    /// haproxy checks (`verifyhost`); written, or `<jobname>.<system>` in
    /// lower case.
    pub hostname: Sp<String>,
    pub valid_years: Sp<u64>,
    /// Its first day, when not the system's `valid_from`.
    pub valid_from: Option<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortRange {
    pub low: u16,
    pub high: u16,
}

impl PortRange {
    pub fn ports(self) -> impl Iterator<Item = u16> {
        self.low..=self.high
    }
    pub fn overlaps(self, other: PortRange) -> bool {
        self.low <= other.high && other.low <= self.high
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.low, self.high)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeRole {
    Server,
    ServerWithClientAuth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    PassThru,
    Full,
    Required,
    SafCheck,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    pub const ALL: [TlsVersion; 5] = [
        TlsVersion::Ssl3,
        TlsVersion::Tls10,
        TlsVersion::Tls11,
        TlsVersion::Tls12,
        TlsVersion::Tls13,
    ];
    /// The PAGENT keyword.
    pub fn pagent(self) -> &'static str {
        match self {
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls10 => "TLSv1",
            TlsVersion::Tls11 => "TLSv1.1",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }
}

/// AT-TLS settings after merging the profile.
#[derive(Debug, Clone)]
pub struct Tls {
    /// The profile's name, and where it was declared.
    pub profile: Sp<String>,
    pub handshake_role: Sp<HandshakeRole>,
    pub client_auth: Sp<ClientAuth>,
    pub versions: Sp<Vec<TlsVersion>>,
    pub handshake_timeout_s: Sp<u64>,
    pub trace: Sp<u64>,
    pub ciphers: Vec<Sp<String>>,
    pub secondary_map: bool,
    pub application_controlled: bool,
}

/// How a `ciphers` entry is written into a TTLSCipherParms statement.
/// IBM's TTLSCipherParms page: `V3CipherSuites` takes "a single cipher
/// constant, or a string of one or more 2-hexadecimal character ciphers",
/// `V3CipherSuites4Char` takes 4-character ones.
/// https://www.ibm.com/docs/SSLTBW_3.2.0/com.ibm.zos.v3r2.halz001/ttlscipherparmspolicyagent.htm
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherForm {
    /// A cipher constant (IANA name) from [`CIPHER_SUITES`], with its
    /// 4-character code.
    Name(&'static str),
    /// Two hexadecimal characters: an SSL V3 / TLS 1.0-1.2 code `00xx`.
    Hex2,
    /// Four hexadecimal characters (TLS 1.3 suites and the ECDHE ones have
    /// no 2-character code).
    Hex4,
}

impl CipherForm {
    /// The cipher's form, or `None` when it is neither a known cipher
    /// constant nor a 2- or 4-character hexadecimal code.
    pub fn of(c: &str) -> Option<CipherForm> {
        let hex = !c.is_empty() && c.chars().all(|ch| ch.is_ascii_hexdigit());
        match c.len() {
            2 if hex => Some(CipherForm::Hex2),
            4 if hex => Some(CipherForm::Hex4),
            _ => CIPHER_SUITES
                .iter()
                .find(|(name, _)| *name == c)
                .map(|(_, code)| CipherForm::Name(code)),
        }
    }

    /// The TTLSCipherParms parameter that carries it.
    pub fn keyword(self) -> &'static str {
        match self {
            CipherForm::Name(_) | CipherForm::Hex2 => "V3CipherSuites",
            CipherForm::Hex4 => "V3CipherSuites4Char",
        }
    }

    /// Whether it is a TLS 1.3 suite (code `13xx`), which negotiates only
    /// with TLS 1.3 switched on.
    pub fn tls13(self, c: &str) -> bool {
        match self {
            CipherForm::Name(code) => code.starts_with("13"),
            CipherForm::Hex4 => c.starts_with("13"),
            CipherForm::Hex2 => false,
        }
    }
}

/// Cipher constants a TLS profile may name, with their IANA codes (the IANA
/// TLS Cipher Suites registry,
/// https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-4):
/// the TLS 1.2 RSA, DHE and ECDHE suites with AES or ChaCha20 and the TLS 1.3
/// suites, the ones IBM's AT-TLS examples configure. Any other suite System
/// SSL supports is written as its 4-character code.
pub const CIPHER_SUITES: &[(&str, &str)] = &[
    ("TLS_RSA_WITH_AES_128_CBC_SHA", "002F"),
    ("TLS_RSA_WITH_AES_256_CBC_SHA", "0035"),
    ("TLS_RSA_WITH_AES_128_CBC_SHA256", "003C"),
    ("TLS_RSA_WITH_AES_256_CBC_SHA256", "003D"),
    ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "0067"),
    ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "006B"),
    ("TLS_RSA_WITH_AES_128_GCM_SHA256", "009C"),
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", "009D"),
    ("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "009E"),
    ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "009F"),
    ("TLS_AES_128_GCM_SHA256", "1301"),
    ("TLS_AES_256_GCM_SHA384", "1302"),
    ("TLS_CHACHA20_POLY1305_SHA256", "1303"),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "C009"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "C00A"),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "C013"),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "C014"),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "C023"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "C024"),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "C027"),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "C028"),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "C02B"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "C02C"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "C02F"),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "C030"),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "CCA8"),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "CCA9"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NfsSecurity {
    Safexp,
    Saf,
    Exp,
    Krb5,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NfsVersion {
    V2,
    V3,
    V4,
}

#[derive(Debug, Clone)]
pub struct NfsServer {
    pub name: Sp<String>,
    pub jobname: Sp<String>,
    pub user: Sp<String>,
    pub ports: Sp<PortRange>,
    pub security: Sp<NfsSecurity>,
    pub versions: Sp<Vec<NfsVersion>>,
    pub keyring: Sp<String>,
    pub certificate: ServerCertificate,
    pub tls: Tls,
    /// The AT-TLS remote address group, as written.
    pub clients: Sp<Vec<Sp<Ipv4Addr>>>,
    /// Where proxies connect: the server's own DVIPA, or its system's address.
    pub address: Sp<Ipv4Addr>,
    /// Whether `address` was written (a server of its own address).
    pub own_address: bool,
    /// Other LPARs the server may run on.
    pub standby: Vec<Sp<SystemId>>,
    /// The TTLSRule's Priority (1-2000000000), for merging into a site policy.
    pub priority: Sp<u64>,
    /// How the server's user ID is allowed to read its own key ring.
    pub ring_access: RingAccess,
    /// The server user ID's z/OS UNIX identity.
    pub omvs: Omvs,
}

/// RACF authority checking for R_datalib on the server's key ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingAccess {
    /// READ to the ring-specific RDATALIB profile `<owner>.<ring>.LST`.
    Rdatalib,
    /// READ to FACILITY IRR.DIGTCERT.LISTRING (every ring of the user).
    Facility,
}

impl NfsServer {
    /// The systems whose policy files hold this server's policy: home first.
    pub fn lpars(&self, home: SystemId) -> Vec<SystemId> {
        std::iter::once(home)
            .chain(self.standby.iter().map(|s| s.value))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterKind {
    Openshift,
    Kubernetes,
}

/// How a cluster keeps each tenant's FADA StorageClasses to the tenant's
/// namespaces (`lower/k8s/isolation.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFence {
    /// A ValidatingAdmissionPolicy per tenant, for every namespace of the
    /// cluster (Kubernetes 1.30+, OpenShift 4.17+).
    AdmissionPolicy,
    /// ResourceQuotas in the namespaces the bundle creates (older clusters).
    Quota,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: Sp<String>,
    pub kind: Sp<ClusterKind>,
    pub service_cidr: Sp<Ipv4Net>,
    /// Required only where a proxy's ClusterIP must lie inside it.
    pub service_cidr_given: bool,
    pub storage_fence: Sp<StorageFence>,
    /// Plain Kubernetes: the networks the API servers connect from
    /// (`control_plane`), admitted to the Portworx namespace's webhook and
    /// API ports; the span is the list's, when given.
    pub control_plane: Sp<Vec<Sp<Ipv4Net>>>,
    pub control_plane_given: bool,
    pub nodes: Vec<Node>,
    pub registries: Vec<Registry>,
    pub portworx: Option<Portworx>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: Sp<String>,
    pub dvipa: Sp<Ipv4Addr>,
}

#[derive(Debug, Clone)]
pub struct Registry {
    pub name: Sp<String>,
    pub server: Sp<String>,
    pub credentials: SecretRef,
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: Sp<String>,
    pub cluster: Sp<ClusterId>,
    pub namespace: Sp<String>,
    pub nfs: Option<TenantNfs>,
    pub pure: Option<TenantPure>,
    pub workloads: Vec<Workload>,
}

#[derive(Debug, Clone)]
pub struct Identity {
    pub user: Sp<String>,
    pub label: Sp<String>,
    pub subject: Subject,
    pub key: Key,
    pub signed_by: Sp<AuthorityId>,
    pub export: Dataset,
    pub valid_years: Sp<u64>,
    /// Its first day, when not the system's `valid_from`.
    pub valid_from: Option<Sp<String>>,
    /// The user ID's z/OS UNIX identity, when the spec states it.
    pub omvs: Omvs,
}

/// A RACF user ID's z/OS UNIX identity (its OMVS segment): with a `uid`
/// the bundle creates the user ID (ADDUSER) and sets the segment (ALTUSER
/// OMVS); without one the user ID must exist with its segment.
#[derive(Debug, Clone)]
pub struct Omvs {
    pub uid: Option<Sp<u64>>,
    /// HOME of the OMVS segment.
    pub home: Sp<String>,
    /// DFLTGRP of the ADDUSER command; the issuer's connect group without it.
    pub group: Option<Sp<String>>,
}

#[derive(Debug, Clone)]
pub struct HaproxySettings {
    pub profile: Sp<String>,
    pub timeout_connect_ms: Sp<u64>,
    pub timeout_client_ms: Sp<u64>,
    pub timeout_server_ms: Sp<u64>,
    pub maxconn: Sp<u64>,
}

#[derive(Debug, Clone)]
pub struct Proxy {
    pub namespace: Sp<String>,
    pub service: Sp<String>,
    pub cluster_ip: Sp<Ipv4Addr>,
    pub image: Sp<String>,
    pub registry: Option<Sp<RegistryId>>,
    pub replicas: Sp<u64>,
    /// The forwarded ports; the server's range unless written.
    pub ports: Sp<PortRange>,
    /// The authority whose export haproxy verifies the server with.
    pub trust: Sp<AuthorityId>,
    pub haproxy: HaproxySettings,
    /// On plain Kubernetes, the UID/GID haproxy runs as (the schema's
    /// default unless written).
    pub user: Sp<u64>,
    /// Whether `user` was written (OpenShift refuses it).
    pub user_given: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    ReadWriteMany,
    ReadWriteOnce,
    ReadOnlyMany,
}

impl AccessMode {
    pub fn k8s(self) -> &'static str {
        match self {
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reclaim {
    Retain,
    Delete,
}

/// A Kubernetes quantity as written (`2Gi`) and its value in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Size {
    pub text: String,
    pub bytes: u128,
}

#[derive(Debug, Clone)]
pub struct Volume {
    pub name: Sp<String>,
    pub export: Sp<String>,
    pub attributes: Vec<Sp<String>>,
    pub size: Sp<Size>,
    pub access: Sp<AccessMode>,
    pub reclaim: Reclaim,
}

#[derive(Debug, Clone)]
pub struct TenantNfs {
    pub span: Span,
    pub server: Sp<ServerId>,
    pub storage_class: Sp<String>,
    pub identity: Identity,
    pub proxy: Proxy,
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Clone)]
pub struct Mount {
    /// Index into the tenant's `nfs.volumes`.
    pub volume: Sp<usize>,
    pub path: Sp<String>,
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
}

/// An environment variable's value: text, or a secret the bundle references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    Secret(SecretRef),
}

/// A volume claim template of a StatefulSet.
#[derive(Debug, Clone)]
pub struct Claim {
    pub name: Sp<String>,
    /// Index into the tenant's `pure.classes`.
    pub class: Sp<usize>,
    pub size: Sp<Size>,
    pub path: Sp<String>,
    pub access: Sp<AccessMode>,
}

#[derive(Debug, Clone)]
pub struct Liveness {
    pub command: Vec<Sp<String>>,
    pub initial_delay_s: u64,
    pub timeout_s: u64,
    pub period_s: u64,
    pub failures: u64,
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub name: Sp<String>,
    pub kind: Sp<WorkloadKind>,
    pub image: Sp<String>,
    pub replicas: Sp<u64>,
    pub registry: Option<Sp<RegistryId>>,
    pub env: Vec<(String, Sp<EnvValue>)>,
    pub args: Vec<Sp<String>>,
    pub ports: Vec<Sp<u16>>,
    /// Ports open to other namespaces (a NetworkPolicy); the rest admit
    /// only the tenant's own namespace.
    pub expose: Vec<Sp<u16>>,
    pub cpu: Option<Sp<String>>,
    pub memory: Option<Sp<Size>>,
    pub cpu_limit: Option<Sp<String>>,
    pub memory_limit: Option<Sp<Size>>,
    /// On plain Kubernetes: runAsUser, and runAsGroup/fsGroup unless `group`.
    pub user: Option<Sp<u64>>,
    pub group: Option<Sp<u64>>,
    pub read_only_root: bool,
    /// automountServiceAccountToken (false unless asked).
    pub service_account_token: bool,
    pub mounts: Vec<Mount>,
    pub claims: Vec<Claim>,
    pub liveness: Option<Liveness>,
    pub readiness: Option<Liveness>,
}

/// A dotted version number as written (`"6.6.11"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub text: String,
    pub parts: Vec<u64>,
}

impl Version {
    /// Parses `1`, `3.2` or `6.6.11` (at most four numeric parts).
    pub fn parse(text: &str) -> Option<Version> {
        let parts: Option<Vec<u64>> = text
            .split('.')
            .map(|p| {
                if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    None
                } else {
                    p.parse().ok()
                }
            })
            .collect();
        let parts = parts?;
        (1..=4).contains(&parts.len()).then(|| Version {
            text: text.to_string(),
            parts,
        })
    }

    /// Whether this version is `min` or newer (missing parts count as 0).
    pub fn at_least(&self, min: &[u64]) -> bool {
        let n = self.parts.len().max(min.len());
        let get = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
        for i in 0..n {
            match get(&self.parts, i).cmp(&get(min, i)) {
                std::cmp::Ordering::Less => return false,
                std::cmp::Ordering::Greater => return true,
                std::cmp::Ordering::Equal => {}
            }
        }
        true
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SanType {
    Iscsi,
    Fc,
    NvmeofRdma,
    NvmeofTcp,
}

impl SanType {
    /// The value of `PURE_FlashArray_SAN_TYPE`.
    pub fn portworx(self) -> &'static str {
        match self {
            SanType::Iscsi => "ISCSI",
            SanType::Fc => "FC",
            SanType::NvmeofRdma => "NVMEOF-RDMA",
            SanType::NvmeofTcp => "NVMEOF-TCP",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FlashArray {
    pub name: Sp<String>,
    /// Management endpoint: an address or host name, without protocol.
    pub endpoint: Sp<String>,
    pub purity: Sp<Version>,
    pub san: Sp<SanType>,
    pub admin: Sp<String>,
}

/// Portworx on a cluster: the StorageCluster and its cloud drives.
#[derive(Debug, Clone)]
pub struct Portworx {
    pub span: Span,
    pub version: Sp<Version>,
    pub namespace: Sp<String>,
    pub name: Sp<String>,
    pub image: Sp<String>,
    pub image_pull_policy: PullPolicy,
    pub kvdb_device_size: Option<Sp<Size>>,
    pub device_size: Sp<Size>,
    pub pods: Sp<Vec<Sp<String>>>,
    pub io_profile: Option<Sp<u64>>,
    pub stork: bool,
    pub autopilot: bool,
    pub csi: Sp<bool>,
    pub telemetry: bool,
    pub prometheus: bool,
    pub env: Vec<(String, Sp<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// The container's `imagePullPolicy`
    /// (https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy).
    pub fn k8s(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Immediate,
    WaitForFirstConsumer,
}

/// A FlashArray Direct Access StorageClass of a tenant.
#[derive(Debug, Clone)]
pub struct FadaClass {
    pub name: Sp<String>,
    pub pod: Sp<String>,
    pub binding: Binding,
    pub expansion: bool,
    pub reclaim: Reclaim,
    pub fs_type: Option<&'static str>,
    pub max_iops: Option<u64>,
    pub max_bandwidth: Option<Sp<Size>>,
}

/// A tenant's Secure Application Workspace on a FlashArray.
#[derive(Debug, Clone)]
pub struct TenantPure {
    pub span: Span,
    pub array: Sp<ArrayId>,
    pub realm: Sp<String>,
    pub pods: Sp<Vec<Sp<String>>>,
    pub policy: Sp<String>,
    pub user: Sp<String>,
    pub token: SecretRef,
    pub classes: Vec<FadaClass>,
}

/// Turns a spec identifier into a Kubernetes name (`fio_test` -> `fio-test`).
pub fn k8s_name(ident: &str) -> String {
    ident.replace('_', "-").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_forms() {
        assert_eq!(
            CipherForm::of("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
            Some(CipherForm::Name("C030"))
        );
        assert_eq!(CipherForm::of("c02f"), Some(CipherForm::Hex4));
        assert_eq!(CipherForm::of("35"), Some(CipherForm::Hex2));
        for bad in ["", "3", "355", "C02FX", "TLS_FOO", "tls_aes_256_gcm_sha384"] {
            assert_eq!(CipherForm::of(bad), None, "{bad}");
        }
        assert!(CipherForm::of("1302").is_some_and(|f| f.tls13("1302")));
        assert!(CipherForm::Name("1301").tls13("TLS_AES_128_GCM_SHA256"));
        assert!(!CipherForm::Hex2.tls13("13"));
        let mut codes: Vec<_> = CIPHER_SUITES.iter().map(|(_, c)| c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), CIPHER_SUITES.len(), "one name per code");
        assert!(CIPHER_SUITES
            .iter()
            .all(|(_, c)| CipherForm::of(c) == Some(CipherForm::Hex4)));
    }
}
