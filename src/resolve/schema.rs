//! The language's schema: which block kinds exist where, which fields each
//! takes, of which type, with which allowed words and which default.
//! Resolution validates every block against this table (unknown, missing,
//! duplicate fields, wrong types, words outside their set) and takes the
//! default of every absent field from it, so the rules live in one place
//! that the README, `explain` and an editor can read too.
//!
//! Each word a field accepts is declared once, with the IR value it stands
//! for (`words!`); the field's allowed set, the resolver's conversion and
//! the editor's completion all come from that list. Each default is declared
//! once, beside its field ([`Dflt`]); the field's documentation shows it
//! through the `{default}` placeholder, and the resolver reads it from here.
//! The prelude (`stdlib/std/profiles.tenant`) holds named profiles, which are
//! values like any other declaration: three defaults name one of them
//! ([`Dflt::Profile`]).

use crate::ir::{
    AccessMode, Binding, ClientAuth, ClusterKind, ExportFormat, HandshakeRole, KeyAlg, NfsSecurity,
    NfsVersion, PullPolicy, Reclaim, RingAccess, SanType, StorageFence, TlsVersion, WorkloadKind,
};
use std::borrow::Cow;

/// The type a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A quoted string.
    Str,
    /// A name written bare or quoted (`ZCX-HAPROXY-RING`, `"ring"`).
    Name,
    /// An integer within bounds.
    Int(u64, u64),
    Bool,
    Ipv4,
    Cidr,
    /// `2043..2049`, or a reference to a `port_set`.
    Ports,
    Size,
    Duration,
    /// One of a fixed set of identifiers (compared case-insensitively).
    Enum(&'static [&'static str]),
    /// A reference to a declaration of one of these kinds.
    Ref(&'static [&'static str]),
    /// A list whose elements have the inner type.
    List(&'static Ty),
    /// `env("NAME")` or `file("path")`.
    Secret,
    /// `{ KEY = "value", ... }` with string values; keys from the set (empty: any).
    Object(&'static [&'static str]),
    /// `rsa(2048)`
    Key,
    /// `dataset("HLQ.NAME", format = f, password = env("X"))`
    Dataset(&'static [&'static str]),
    /// A host: an IPv4 address or a DNS name in quotes.
    Host,
    /// Environment variables: `{ NAME = "value", KEY = env("X") }`, each
    /// value a string or a secret reference.
    Env,
    /// A dotted version in quotes: `"6.6.11"`.
    Version,
}

impl Ty {
    /// The type in words, for "expected X" messages.
    pub fn describe(&self) -> String {
        match self {
            Ty::Str => "a string".into(),
            Ty::Name => "a name".into(),
            Ty::Int(lo, hi) => format!("an integer in {lo}..{hi}"),
            Ty::Bool => "true or false".into(),
            Ty::Ipv4 => "an IPv4 address (10.1.1.9)".into(),
            Ty::Cidr => "a CIDR (172.30.0.0/16)".into(),
            Ty::Ports => "a port range (2043..2049) or a port_set".into(),
            Ty::Size => "a size (2Gi)".into(),
            Ty::Duration => "a duration (5s, 24h)".into(),
            Ty::Enum(v) => format!("one of {}", v.join(", ")),
            Ty::Ref(k) => format!("a reference to a {}", k.join(" or ")),
            Ty::List(t) => format!("a list of {}", t.describe()),
            Ty::Secret => "env(\"NAME\") or file(\"path\")".into(),
            Ty::Object(_) => "an object ({ KEY = \"value\" })".into(),
            Ty::Key => "a key such as rsa(2048)".into(),
            Ty::Dataset(_) => "dataset(\"HLQ.NAME\", format = ...)".into(),
            Ty::Host => "an IPv4 address or a host name in quotes".into(),
            Ty::Env => "an object of variables ({ NAME = \"value\", KEY = env(\"X\") })".into(),
            Ty::Version => "a version in quotes (\"3.2.0\")".into(),
        }
    }
}

/// A word of the language that stands for an IR value (`safexp` for
/// [`NfsSecurity::Safexp`]).
pub trait Word: Copy + 'static {
    /// Every word, in the order of the declaration.
    const WORDS: &'static [&'static str];
    /// The first word's value.
    const FIRST: Self;
    fn from_word(word: &str) -> Option<Self>;
}

/// Declares the words of an IR enum once: `WORDS` (the set a field accepts),
/// `word` (exhaustive over the variants, so a new variant without a word
/// does not compile) and `from_word` (its inverse; `None` for a word that is
/// no variant's, which the field check has refused already).
macro_rules! words {
    ($($ty:ident { $first:ident = $fw:literal $(, $variant:ident = $word:literal)* $(,)? })*) => {$(
        impl $ty {
            pub const WORDS: &'static [&'static str] = &[$fw $(, $word)*];
            /// The word of the language for this value.
            pub const fn word(self) -> &'static str {
                match self {
                    $ty::$first => $fw,
                    $($ty::$variant => $word,)*
                }
            }
        }
        impl Word for $ty {
            const WORDS: &'static [&'static str] = $ty::WORDS;
            const FIRST: Self = $ty::$first;
            fn from_word(word: &str) -> Option<Self> {
                match word {
                    $fw => Some($ty::$first),
                    $($word => Some($ty::$variant),)*
                    _ => None,
                }
            }
        }
    )*};
}

words! {
    NfsSecurity { Safexp = "safexp", Saf = "saf", Exp = "exp", Krb5 = "krb5", None = "none" }
    NfsVersion { V2 = "nfs2", V3 = "nfs3", V4 = "nfs4" }
    RingAccess { Rdatalib = "rdatalib", Facility = "facility" }
    HandshakeRole { Server = "server", ServerWithClientAuth = "server_with_client_auth" }
    ClientAuth { PassThru = "pass_thru", Full = "full", Required = "required", SafCheck = "saf_check" }
    TlsVersion { Ssl3 = "ssl3", Tls10 = "tls1_0", Tls11 = "tls1_1", Tls12 = "tls1_2", Tls13 = "tls1_3" }
    ClusterKind { Openshift = "openshift", Kubernetes = "kubernetes" }
    StorageFence { AdmissionPolicy = "admission_policy", Quota = "quota" }
    AccessMode { ReadWriteMany = "read_write_many", ReadWriteOnce = "read_write_once", ReadOnlyMany = "read_only_many" }
    Reclaim { Retain = "retain", Delete = "delete" }
    WorkloadKind { Deployment = "deployment", StatefulSet = "stateful_set" }
    SanType { Iscsi = "iscsi", Fc = "fc", NvmeofRdma = "nvmeof_rdma", NvmeofTcp = "nvmeof_tcp" }
    PullPolicy { Always = "always", IfNotPresent = "if_not_present", Never = "never" }
    Binding { Immediate = "immediate", WaitForFirstConsumer = "wait_for_first_consumer" }
    ExportFormat { CertB64 = "certb64", CertDer = "certder", Pkcs12Der = "pkcs12der", Pkcs12B64 = "pkcs12b64" }
    KeyAlg { Rsa = "rsa", Nistecc = "nistecc" }
}

/// What an absent field takes. Declared once, here; the field's `doc` shows
/// it where it says `{default}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dflt {
    /// No default: the field is required, or its absence means nothing is
    /// set (no `valid_from`, no `registry`).
    None,
    /// For [`Ty::Str`] and [`Ty::Name`].
    Str(&'static str),
    Int(u64),
    Bool(bool),
    /// Milliseconds, for [`Ty::Duration`].
    Duration(u64),
    /// A word of the field's [`Ty::Enum`].
    Word(&'static str),
    /// Words of the field's list of [`Ty::Enum`].
    Words(&'static [&'static str]),
    /// A key: algorithm and size (`rsa(2048)`).
    Key(KeyAlg, u64),
    /// The prelude's declaration of that name (`profiles.NAME`).
    Profile(&'static str),
    /// Derived from other values (or left to the target), as the text says;
    /// the resolver computes it.
    Rule(&'static str),
}

impl Dflt {
    /// The default as the documentation writes it.
    pub fn describe(&self) -> String {
        match self {
            Dflt::None => String::new(),
            Dflt::Str(s) | Dflt::Word(s) | Dflt::Rule(s) => (*s).to_string(),
            Dflt::Int(n) => n.to_string(),
            Dflt::Bool(b) => b.to_string(),
            Dflt::Duration(ms) => duration_text(*ms),
            Dflt::Words(w) => format!("[{}]", w.join(", ")),
            Dflt::Key(alg, bits) => format!("{}({bits})", alg.word()),
            Dflt::Profile(p) => format!("profiles.{p}"),
        }
    }
}

/// A duration as it is written: whole hours, else seconds, else milliseconds.
fn duration_text(ms: u64) -> String {
    const HOUR: u64 = 3_600_000;
    match ms {
        0 => "0s".into(),
        ms if ms % HOUR == 0 => format!("{}h", ms / HOUR),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

#[derive(Debug)]
pub struct FieldSchema {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// What the field takes when absent.
    pub default: Dflt,
    /// The documentation; `{default}` stands for the default. Read it with
    /// [`FieldSchema::doc`].
    pub doc_template: &'static str,
}

impl FieldSchema {
    /// The field's documentation, with its default written in.
    pub fn doc(&self) -> Cow<'static, str> {
        if self.doc_template.contains("{default}") {
            Cow::Owned(
                self.doc_template
                    .replace("{default}", &self.default.describe()),
            )
        } else {
            Cow::Borrowed(self.doc_template)
        }
    }
}

/// How often a nested block may appear and whether it carries a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// `kind name { }`, any number.
    Named,
    /// `kind { }`, at most once; referenced by its kind (`nfs.fio_test`).
    Single,
    /// `kind { }`, exactly once.
    SingleRequired,
    /// `kind { }`, any number, not referable.
    Repeated,
}

#[derive(Debug)]
pub struct BlockSchema {
    pub kind: &'static str,
    pub arity: Arity,
    pub doc: &'static str,
    pub fields: &'static [FieldSchema],
    pub children: &'static [&'static str],
}

impl BlockSchema {
    pub fn field(&self, name: &str) -> Option<&'static FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// `f!(name, type, req, doc)`: required; `f!(name, type, opt, doc)`:
/// optional without a default; `f!(name, type, DEFAULT, doc)`: optional with
/// that [`Dflt`].
macro_rules! f {
    ($name:literal, $ty:expr, req, $doc:literal) => {
        FieldSchema {
            name: $name,
            ty: $ty,
            required: true,
            default: Dflt::None,
            doc_template: $doc,
        }
    };
    ($name:literal, $ty:expr, opt, $doc:literal) => {
        FieldSchema {
            name: $name,
            ty: $ty,
            required: false,
            default: Dflt::None,
            doc_template: $doc,
        }
    };
    ($name:literal, $ty:expr, $default:expr, $doc:literal) => {
        FieldSchema {
            name: $name,
            ty: $ty,
            required: false,
            default: $default,
            doc_template: $doc,
        }
    };
}

/// The default key of every certificate.
const RSA_2048: Dflt = Dflt::Key(KeyAlg::Rsa, 2048);

const SUBJECT_KEYS: &[&str] = &["CN", "T", "OU", "O", "L", "SP", "C"];
pub const TOP_LEVEL: &[&str] = &[
    "zos",
    "cluster",
    "tenant",
    "tls_profile",
    "haproxy_profile",
    "port_set",
    "flasharray",
];

/// The fields of `liveness` and `readiness`.
#[rustfmt::skip]
const PROBE_FIELDS: &[FieldSchema] = &[
    f!("command", Ty::List(&Ty::Str), req, "The command and its arguments."),
    f!("initial_delay", Ty::Duration, Dflt::Duration(0), "initialDelaySeconds (default {default})."),
    f!("timeout", Ty::Duration, Dflt::Duration(1_000), "timeoutSeconds (default {default})."),
    f!("period", Ty::Duration, Dflt::Duration(10_000), "periodSeconds (default {default})."),
    f!("failures", Ty::Int(1, 100), Dflt::Int(3), "failureThreshold (default {default})."),
];

static SCHEMAS: &[BlockSchema] = &[
    BlockSchema {
        kind: "zos",
        arity: Arity::Named,
        doc: "A z/OS system (LPAR) with its TCP/IP stack, certificate authorities and NFS servers.",
        fields: &[
            f!("address", Ty::Ipv4, req, "The z/OS host address that proxies connect to."),
            f!("stack", Ty::Name, Dflt::Str("TCPIP"), "TCP/IP stack name, for the policy header (default {default})."),
            f!("valid_from", Ty::Str, opt, "First day (\"YYYY-MM-DD\") of every certificate made on this system; each certificate is valid for its `valid_years` from it (NOTBEFORE/NOTAFTER). Without it RACF's defaults apply."),
            f!("pagent_user", Ty::Name, Dflt::Str("PAGENT"), "User ID of Policy Agent (PAGENT), given READ to SERVAUTH EZB.INITSTACK.<system>.<stack> so it can install the AT-TLS policy at stack start (default {default})."),
            f!("security_domain", Ty::Name, opt, "The security domain (one RACF database, and so one catalog) the system shares with every system naming the same domain; systems naming none share the site's default domain. RACF user IDs, certificates and data sets are unique within a domain, and an NFS server's standby LPARs are in its home's domain."),
            f!("initstack", Ty::List(&Ty::Name), opt, "User IDs besides PAGENT (Policy Agent) given READ to SERVAUTH EZB.INITSTACK.<system>.<stack>, so they may open sockets while the stack waits for the AT-TLS policy (e.g. the resolver, syslogd, OMPROUTE)."),
        ],
        children: &["jcl", "authority", "nfs_server"],
    },
    BlockSchema {
        kind: "jcl",
        arity: Arity::Single,
        doc: "Job card settings for the generated RACF jobs.",
        fields: &[
            f!("account", Ty::Str, Dflt::Str("ACCT"), "Accounting information (default {default})."),
            f!("class", Ty::Name, Dflt::Str("A"), "Job class (default {default})."),
            f!("msgclass", Ty::Name, Dflt::Str("X"), "Message class (default {default})."),
            f!("notify", Ty::Name, Dflt::Str("&SYSUID"), "NOTIFY user (default {default})."),
            f!("job_prefix", Ty::Name, Dflt::Str("TNC"), "1-5 characters that start every job name (default {default})."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "authority",
        arity: Arity::Named,
        doc: "A RACF certificate authority (CERTAUTH) that signs server and client certificates.",
        fields: &[
            f!("owner", Ty::Enum(&["certauth"]), opt, "Owner of the certificate; only CERTAUTH."),
            f!("label", Ty::Str, req, "RACF certificate label (at most 32 characters)."),
            f!("subject", Ty::Object(SUBJECT_KEYS), req, "Subject DN: { CN = \"...\", O = \"...\" }."),
            f!("key", Ty::Key, RSA_2048, "Key algorithm and size (default {default})."),
            f!("export", Ty::Dataset(&[ExportFormat::CertB64.word(), ExportFormat::CertDer.word()]), req, "Data set the CA certificate is exported to (format: the first of its formats unless given)."),
            f!("valid_years", Ty::Int(1, 50), Dflt::Int(10), "Years of validity from the system's valid_from (default {default}); no certificate it signs may outlive it."),
            f!("valid_from", Ty::Str, opt, "First day (\"YYYY-MM-DD\") of this certificate (default: the system's valid_from)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "nfs_server",
        arity: Arity::Named,
        doc: "An AT-TLS aware z/OS NFS server: its AT-TLS policy and key ring.",
        fields: &[
            f!("jobname", Ty::Name, Dflt::Rule("the block's name"), "Job name of the NFS server (default: {default})."),
            f!("user", Ty::Name, Dflt::Rule("jobname"), "RACF user ID of the started task, owner of the key ring (default: {default})."),
            f!("ports", Ty::Ports, Dflt::Profile("zos_nfs"), "Local port range (default {default})."),
            f!("security", Ty::Enum(NfsSecurity::WORDS), Dflt::Word(NfsSecurity::Safexp.word()), "NFS security attribute (default {default})."),
            f!("versions", Ty::List(&Ty::Enum(NfsVersion::WORDS)), Dflt::Words(&[NfsVersion::V4.word()]), "NFS protocol versions (default {default})."),
            f!("keyring", Ty::Name, req, "RACF key ring owned by the server user."),
            f!("tls", Ty::Ref(&["tls_profile"]), Dflt::Profile("tls12_saf"), "TLS profile (default {default})."),
            f!("clients", Ty::List(&Ty::Ipv4), req, "DVIPAs allowed through the AT-TLS rule: every compute node of every cluster using this server."),
            f!("address", Ty::Ipv4, Dflt::Rule("the system's address"), "The server's own dynamic VIPA that proxies connect to (default: {default}); required with `standby`."),
            f!("standby", Ty::List(&Ty::Ref(&["zos"])), opt, "Other LPARs the server may be restarted on (high availability); each gets the same AT-TLS policy."),
            f!("priority", Ty::Int(1, 2_000_000_000), Dflt::Int(1000), "Priority of the TTLSRule when merged into the site's AT-TLS policy (default {default})."),
            f!("ring_access", Ty::Enum(RingAccess::WORDS), Dflt::Word(RingAccess::Rdatalib.word()), "How the server user may read its key ring (default {default}): `rdatalib`, READ to the RDATALIB profile <user>.<ring>.LST, or `facility`, READ to FACILITY IRR.DIGTCERT.LISTRING."),
            f!("uid", Ty::Int(0, 2147483647), opt, "z/OS UNIX UID of the user ID: with it the bundle creates the user ID (ADDUSER, NOPASSWORD) and its OMVS segment (ALTUSER OMVS(UID HOME PROGRAM)); without it the user ID must already exist with an OMVS segment. No two user IDs of a site may share a UID."),
            f!("home", Ty::Str, Dflt::Rule("/u/<user>, lower case"), "HOME of the user ID's OMVS segment (default: {default})."),
            f!("group", Ty::Name, opt, "Default group (DFLTGRP) of a user ID the bundle creates; it needs an OMVS GID. Without it RACF uses the submitter's current connect group."),
        ],
        children: &["certificate"],
    },
    BlockSchema {
        kind: "certificate",
        arity: Arity::SingleRequired,
        doc: "The NFS server's certificate, connected to its key ring as DEFAULT.",
        fields: &[
            f!("label", Ty::Str, req, "RACF certificate label."),
            f!("subject", Ty::Object(SUBJECT_KEYS), req, "Subject DN."),
            f!("key", Ty::Key, RSA_2048, "Key algorithm and size (default {default})."),
            f!("signed_by", Ty::Ref(&["authority"]), req, "The authority that signs it."),
            f!("valid_years", Ty::Int(1, 50), Dflt::Int(2), "Years of validity from the system's valid_from (default {default})."),
            f!("valid_from", Ty::Str, opt, "First day (\"YYYY-MM-DD\") of this certificate (default: the system's valid_from): a certificate made or renewed later starts on its own day."),
            f!("hostname", Ty::Str, Dflt::Rule("<jobname>.<system>, lower case"), "DNS name in the certificate's subject alternative name (with the server's address), checked by the proxies' `verifyhost` (default {default})."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "tls_profile",
        arity: Arity::Named,
        doc: "AT-TLS environment settings shared by NFS servers.",
        fields: &[
            f!("handshake_role", Ty::Enum(HandshakeRole::WORDS), Dflt::Word(HandshakeRole::ServerWithClientAuth.word()), "HandshakeRole (default {default})."),
            f!("client_auth", Ty::Enum(ClientAuth::WORDS), Dflt::Word(ClientAuth::SafCheck.word()), "ClientAuthType (default {default})."),
            f!("versions", Ty::List(&Ty::Enum(TlsVersion::WORDS)), Dflt::Words(&[TlsVersion::Tls12.word()]), "Protocol versions switched on; all others are switched off (default {default})."),
            f!("handshake_timeout", Ty::Duration, Dflt::Duration(60_000), "HandshakeTimeout, 0s..600s (default {default})."),
            f!("trace", Ty::Int(0, 255), Dflt::Int(1), "AT-TLS trace level (default {default})."),
            f!("ciphers", Ty::List(&Ty::Name), Dflt::Rule("the system's"), "Cipher suites in order of preference: IANA names of TLS 1.2 and 1.3 suites (V3CipherSuites) or 2- and 4-character codes (V3CipherSuites4Char); TLS 1.3 suites need tls1_3 in `versions` (default: {default})."),
            f!("secondary_map", Ty::Bool, Dflt::Bool(false), "SecondaryMap (default {default})."),
            f!("application_controlled", Ty::Bool, Dflt::Bool(false), "ApplicationControlled (default {default})."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "haproxy_profile",
        arity: Arity::Named,
        doc: "Settings of the TLS-originating haproxy that fronts an NFS server.",
        fields: &[
            f!("image", Ty::Str, Dflt::Str("icr.io/ibmz/haproxy:3.0.0-bookworm"), "haproxy container image (default {default})."),
            f!("timeout_connect", Ty::Duration, Dflt::Duration(5_000), "timeout connect (default {default})."),
            f!("timeout_client", Ty::Duration, Dflt::Duration(86_400_000), "timeout client (default {default})."),
            f!("timeout_server", Ty::Duration, Dflt::Duration(86_400_000), "timeout server (default {default})."),
            f!("maxconn", Ty::Int(1, 100_000), Dflt::Int(32), "maxconn of the server line (default {default})."),
            f!("replicas", Ty::Int(1, 100), Dflt::Int(1), "Deployment replicas (default {default})."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "port_set",
        arity: Arity::Named,
        doc: "A named port range.",
        fields: &[f!("range", Ty::Ports, req, "The ports, low..high.")],
        children: &[],
    },
    BlockSchema {
        kind: "cluster",
        arity: Arity::Named,
        doc: "A Kubernetes or OpenShift cluster (zCX for OpenShift) with its compute nodes.",
        fields: &[
            f!("kind", Ty::Enum(ClusterKind::WORDS), req, "openshift or kubernetes."),
            f!("service_cidr", Ty::Cidr, opt, "The cluster's service network; static ClusterIPs of NFS proxies lie inside it (required when a tenant has NFS storage)."),
            f!("control_plane", Ty::List(&Ty::Cidr), opt, "Plain Kubernetes: the networks the control plane (the API servers) connects from, e.g. [10.0.0.0/24]; the Portworx namespace admits them on the ports of Stork's webhook and Portworx's API (required when Portworx runs Stork; OpenShift's API server is on the host network, admitted by its policy group)."),
            f!("storage_fence", Ty::Enum(StorageFence::WORDS), Dflt::Word(StorageFence::AdmissionPolicy.word()), "How each tenant's FADA StorageClasses are kept to its namespaces (default {default}): `admission_policy`, a ValidatingAdmissionPolicy per tenant refusing claims from every other namespace of the cluster (Kubernetes 1.30 or later, OpenShift 4.17 or later); `quota`, for older clusters, ResourceQuotas closing the other tenants' classes in the namespaces the bundle creates only."),
        ],
        children: &["node", "registry", "portworx"],
    },
    BlockSchema {
        kind: "node",
        arity: Arity::Named,
        doc: "A compute node and the DVIPA it reaches z/OS from.",
        fields: &[f!("dvipa", Ty::Ipv4, req, "The node's dynamic VIPA.")],
        children: &[],
    },
    BlockSchema {
        kind: "registry",
        arity: Arity::Named,
        doc: "A container registry and where its pull credentials come from.",
        fields: &[
            f!("server", Ty::Str, req, "Registry host, host[:port] with an optional /path and no scheme: the key of the .dockerconfigjson entry, matched against image names."),
            f!("credentials", Ty::Secret, req, "A .dockerconfigjson for the registry: file(\"...\") or env(\"...\")."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "tenant",
        arity: Arity::Named,
        doc: "The unit of isolation: a namespace, its NFS identity and volumes, its Pure workspace, and workloads.",
        fields: &[
            f!("cluster", Ty::Ref(&["cluster"]), req, "The cluster the tenant runs on."),
            f!("namespace", Ty::Str, Dflt::Rule("the tenant's name"), "Kubernetes namespace of the workloads (default: {default})."),
        ],
        children: &["nfs", "pure", "workload"],
    },
    BlockSchema {
        kind: "nfs",
        arity: Arity::Single,
        doc: "The tenant's z/OS NFS storage: server, identity, proxy and volumes.",
        fields: &[
            f!("server", Ty::Ref(&["nfs_server"]), req, "The NFS server, e.g. NP8.MVSNFS8."),
            f!("storage_class", Ty::Str, Dflt::Rule("<tenant>-nfs"), "StorageClass of the tenant's PVs (default {default})."),
        ],
        children: &["identity", "proxy", "volume"],
    },
    BlockSchema {
        kind: "identity",
        arity: Arity::SingleRequired,
        doc: "The RACF user ID the tenant's NFS traffic runs as, and its client certificate.",
        fields: &[
            f!("user", Ty::Name, req, "RACF user ID owning the client certificate."),
            f!("label", Ty::Str, req, "Label of the client certificate."),
            f!("subject", Ty::Object(SUBJECT_KEYS), Dflt::Rule("CN = label"), "Subject DN (default {default})."),
            f!("key", Ty::Key, RSA_2048, "Key algorithm and size (default {default})."),
            f!("signed_by", Ty::Ref(&["authority"]), Dflt::Rule("the one that signed the server certificate"), "Signing authority (default: {default})."),
            f!("export", Ty::Dataset(&[ExportFormat::Pkcs12Der.word(), ExportFormat::Pkcs12B64.word()]), req, "PKCS#12 export data set, with password = env(...) or file(...) (format: the first of its formats unless given)."),
            f!("valid_years", Ty::Int(1, 50), Dflt::Int(2), "Years of validity from the system's valid_from (default {default})."),
            f!("valid_from", Ty::Str, opt, "First day (\"YYYY-MM-DD\") of this certificate (default: the system's valid_from): a certificate made or renewed later starts on its own day."),
            f!("uid", Ty::Int(0, 2147483647), opt, "z/OS UNIX UID of the user ID: with it the bundle creates the user ID (ADDUSER, NOPASSWORD) and its OMVS segment (ALTUSER OMVS(UID HOME PROGRAM)); without it the user ID must already exist with an OMVS segment. No two user IDs of a site may share a UID."),
            f!("home", Ty::Str, Dflt::Rule("/u/<user>, lower case"), "HOME of the user ID's OMVS segment (default: {default})."),
            f!("group", Ty::Name, opt, "Default group (DFLTGRP) of a user ID the bundle creates; it needs an OMVS GID. Without it RACF uses the submitter's current connect group."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "proxy",
        arity: Arity::SingleRequired,
        doc: "The haproxy that originates TLS to the NFS server for this tenant.",
        fields: &[
            f!("namespace", Ty::Str, Dflt::Rule("<namespace>-nfs-proxy"), "Namespace of the proxy (default {default})."),
            f!("cluster_ip", Ty::Ipv4, req, "Static ClusterIP of the proxy Service; the PVs mount from it."),
            f!("service", Ty::Str, Dflt::Str("nfs-server"), "Service name (default {default})."),
            f!("image", Ty::Str, Dflt::Rule("from the haproxy profile"), "haproxy image (default {default})."),
            f!("registry", Ty::Ref(&["registry"]), opt, "Registry to pull the image with."),
            f!("replicas", Ty::Int(1, 100), Dflt::Rule("from the haproxy profile"), "Replicas (default {default})."),
            f!("ports", Ty::Ports, Dflt::Rule("the NFS server's range"), "Ports to forward (default: {default})."),
            f!("trust", Ty::Ref(&["authority"]), Dflt::Rule("the server certificate's signer"), "Authority whose certificate verifies the server (default: {default})."),
            f!("haproxy", Ty::Ref(&["haproxy_profile"]), Dflt::Profile("haproxy_defaults"), "haproxy settings (default {default})."),
            // The haproxy user and group of the docker-library image: `groupadd --gid 99
            // --system haproxy; useradd ... --uid 99 haproxy`, then `USER haproxy`
            // (https://github.com/docker-library/haproxy/blob/master/3.0/Dockerfile).
            f!("user", Ty::Int(1, 2147483647), Dflt::Int(99), "On plain Kubernetes, the UID and GID haproxy runs as (default {default}, the haproxy user of the docker-library image); OpenShift assigns its own."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "volume",
        arity: Arity::Named,
        doc: "An exported z/OS directory mounted as a PersistentVolume with its claim.",
        fields: &[
            f!("export", Ty::Str, req, "Exported path on z/OS."),
            f!("attributes", Ty::List(&Ty::Name), opt, "z/OS NFS processing attributes appended to the path (mvsmnt, binary, text, ...)."),
            f!("size", Ty::Size, req, "Capacity of the PV and request of the PVC."),
            f!("access", Ty::Enum(AccessMode::WORDS), Dflt::Word(AccessMode::ReadWriteMany.word()), "Access mode (default {default})."),
            f!("reclaim", Ty::Enum(Reclaim::WORDS), Dflt::Word(Reclaim::Retain.word()), "PV reclaim policy (default {default})."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "workload",
        arity: Arity::Named,
        doc: "A Deployment or StatefulSet of the tenant: its container, NFS mounts and claims.",
        fields: &[
            f!("kind", Ty::Enum(WorkloadKind::WORDS), Dflt::Rule("stateful_set when it has claims, else deployment"), "deployment or stateful_set (default: {default})."),
            f!("image", Ty::Str, req, "Container image."),
            f!("replicas", Ty::Int(0, 1000), Dflt::Int(1), "Replicas (default {default})."),
            f!("registry", Ty::Ref(&["registry"]), opt, "Registry to pull the image with."),
            f!("env", Ty::Env, opt, "Environment variables: { NAME = \"value\" }; secrets as env(\"X\") or file(\"path\")."),
            f!("args", Ty::List(&Ty::Str), opt, "Container arguments."),
            f!("ports", Ty::List(&Ty::Int(1, 65535)), opt, "Container ports (TCP); a StatefulSet's headless Service exposes them."),
            f!("expose", Ty::List(&Ty::Int(1, 65535)), opt, "Ports (among `ports`) reachable from other namespaces; by default only the tenant's own namespace reaches the workload."),
            f!("cpu", Ty::Str, opt, "CPU request, e.g. \"100m\"."),
            f!("memory", Ty::Size, opt, "Memory request, e.g. 100Mi."),
            f!("cpu_limit", Ty::Str, opt, "CPU limit, e.g. \"500m\"."),
            f!("memory_limit", Ty::Size, opt, "Memory limit, e.g. 512Mi."),
            f!("user", Ty::Int(1, 2147483647), opt, "On plain Kubernetes, the UID the container runs as (runAsUser; also runAsGroup and fsGroup unless `group` is set), e.g. 999 for the official mongo and postgres images; OpenShift assigns its own."),
            f!("group", Ty::Int(1, 2147483647), Dflt::Rule("user"), "On plain Kubernetes, runAsGroup and fsGroup (default: {default})."),
            f!("read_only_root", Ty::Bool, Dflt::Bool(false), "readOnlyRootFilesystem, for images that write only to their volumes (default {default})."),
            f!("service_account_token", Ty::Bool, Dflt::Bool(false), "Mount the service account token (automountServiceAccountToken; default {default})."),
        ],
        children: &["mount", "claim", "liveness", "readiness"],
    },
    BlockSchema {
        kind: "mount",
        arity: Arity::Repeated,
        doc: "A volume mounted into the workload.",
        fields: &[
            f!("volume", Ty::Ref(&["volume"]), req, "The volume, e.g. nfs.fio_test."),
            f!("path", Ty::Str, req, "Mount path in the container."),
            f!("read_only", Ty::Bool, Dflt::Bool(false), "Mount read-only (default {default})."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "claim",
        arity: Arity::Named,
        doc: "A volume claim template of a StatefulSet, provisioned from a FADA storage class.",
        fields: &[
            f!("storage_class", Ty::Ref(&["storage_class"]), req, "The tenant's FADA storage class, e.g. pure.fada_pod_sc."),
            f!("size", Ty::Size, req, "Requested capacity."),
            f!("path", Ty::Str, req, "Mount path in the container."),
            f!("access", Ty::Enum(&[AccessMode::ReadWriteOnce.word(), AccessMode::ReadWriteMany.word(), AccessMode::ReadOnlyMany.word()]), Dflt::Word(AccessMode::ReadWriteOnce.word()), "Access mode (default {default}; FADA volumes allow no other)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "liveness",
        arity: Arity::Single,
        doc: "The container's liveness probe: a command run inside it.",
        fields: PROBE_FIELDS,
        children: &[],
    },
    BlockSchema {
        kind: "readiness",
        arity: Arity::Single,
        doc: "The container's readiness probe: a command run inside it.",
        fields: PROBE_FIELDS,
        children: &[],
    },
    BlockSchema {
        kind: "flasharray",
        arity: Arity::Named,
        doc: "A Pure Storage FlashArray shared by tenants through Secure Multi-Tenancy realms.",
        fields: &[
            f!("endpoint", Ty::Host, req, "Management endpoint (address or host name, no protocol) that Portworx and the setup script reach."),
            f!("purity", Ty::Version, req, "Purity//FA version, at least 6.6.11 for Secure Application Workspaces."),
            f!("san", Ty::Enum(SanType::WORDS), req, "SAN type the nodes attach volumes with: iscsi, fc, nvmeof_rdma or nvmeof_tcp."),
            f!("admin", Ty::Name, Dflt::Str("pureuser"), "Array administrator the setup script logs in as (default {default})."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "portworx",
        arity: Arity::Single,
        doc: "Portworx Enterprise on the cluster, with cloud drives on FlashArray pods (one StorageCluster).",
        fields: &[
            f!("version", Ty::Version, req, "Portworx version, at least 3.2 for Secure Application Workspaces."),
            f!("namespace", Ty::Str, Dflt::Str("portworx"), "Namespace of the StorageCluster and of px-pure-secret (default {default})."),
            f!("name", Ty::Str, Dflt::Rule("px-<cluster>"), "StorageCluster name (default {default})."),
            f!("image", Ty::Str, Dflt::Rule("portworx/oci-monitor:<version>"), "Portworx image (default {default})."),
            f!("image_pull_policy", Ty::Enum(PullPolicy::WORDS), Dflt::Word(PullPolicy::Always.word()), "imagePullPolicy (default {default})."),
            f!("kvdb", Ty::Enum(&["internal"]), Dflt::Word("internal"), "Key-value database (default {default}, the built-in one, which is the only choice)."),
            f!("kvdb_device_size", Ty::Size, Dflt::Rule("Portworx's"), "Size of the dedicated KVDB drive in GiB (kvdbDeviceSpec); default: {default}."),
            f!("device_size", Ty::Size, req, "Size of each node's cloud drive, in whole GiB."),
            f!("pods", Ty::List(&Ty::Name), req, "FlashArray pods the cloud drives are created in, one deviceSpec each; they belong to a realm of a tenant on this cluster."),
            f!("io_profile", Ty::Int(0, 9), opt, "runtimeOptions default-io-profile."),
            f!("stork", Ty::Bool, Dflt::Bool(true), "Stork scheduler extender (default {default})."),
            f!("autopilot", Ty::Bool, Dflt::Bool(true), "Autopilot (default {default})."),
            f!("csi", Ty::Bool, Dflt::Bool(true), "CSI driver (default {default}; FlashArray needs it)."),
            f!("telemetry", Ty::Bool, Dflt::Bool(true), "Pure1 telemetry (default {default})."),
            f!("prometheus", Ty::Bool, Dflt::Bool(true), "Prometheus monitoring and metrics export (default {default})."),
            f!("env", Ty::Object(&[]), opt, "Further environment variables of the Portworx pods."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "pure",
        arity: Arity::Single,
        doc: "The tenant's Secure Application Workspace on a FlashArray: realm, pods, policy, user, API token and FADA storage classes.",
        fields: &[
            f!("array", Ty::Ref(&["flasharray"]), req, "The FlashArray."),
            f!("realm", Ty::Name, req, "The tenant's realm: one per array per cluster, never shared."),
            f!("pods", Ty::List(&Ty::Name), req, "FlashArray pods of the realm that hold the tenant's volumes."),
            f!("policy", Ty::Name, req, "Management access policy scoped to the realm (role storage)."),
            f!("user", Ty::Name, req, "Array user Portworx provisions as, bound to the policy."),
            f!("token", Ty::Secret, req, "The user's API token: env(\"NAME\") or file(\"path\"), never a literal."),
        ],
        children: &["storage_class"],
    },
    BlockSchema {
        kind: "storage_class",
        arity: Arity::Named,
        doc: "A FlashArray Direct Access (FADA) StorageClass placing volumes in one pod of the realm.",
        fields: &[
            f!("pod", Ty::Name, req, "The realm's pod volumes are created in (pure_fa_pod_name)."),
            f!("binding", Ty::Enum(Binding::WORDS), Dflt::Word(Binding::Immediate.word()), "volumeBindingMode (default {default})."),
            f!("expansion", Ty::Bool, Dflt::Bool(true), "allowVolumeExpansion (default {default})."),
            f!("reclaim", Ty::Enum(&[Reclaim::Delete.word(), Reclaim::Retain.word()]), Dflt::Word(Reclaim::Delete.word()), "reclaimPolicy (default {default})."),
            f!("fs_type", Ty::Enum(&["ext4", "xfs"]), Dflt::Rule("Portworx's"), "File system (csi.storage.k8s.io/fstype); default {default}."),
            f!("max_iops", Ty::Int(100, 100_000_000), opt, "QoS IOPS limit per volume."),
            f!("max_bandwidth", Ty::Size, opt, "QoS bandwidth limit per volume (1M..512G)."),
        ],
        children: &[],
    },
];

pub fn block(kind: &str) -> Option<&'static BlockSchema> {
    SCHEMAS.iter().find(|s| s.kind == kind)
}

pub fn all() -> &'static [BlockSchema] {
    SCHEMAS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_child_and_top_level_kind_has_a_schema() {
        for s in all() {
            for c in s.children {
                assert!(block(c).is_some(), "{} names unknown child {c}", s.kind);
            }
        }
        for k in TOP_LEVEL {
            assert!(block(k).is_some_and(|b| b.arity == Arity::Named));
        }
    }

    /// Every default is a value of its field's type that the field check
    /// would accept, and the documentation shows exactly the defaults.
    #[test]
    fn every_default_fits_its_field() {
        let prelude = include_str!("../../stdlib/std/profiles.tenant");
        for s in all() {
            for f in s.fields {
                let at = format!("{}.{}", s.kind, f.name);
                let fits = match (&f.default, &f.ty) {
                    (Dflt::None, _) => true,
                    (_, _) if f.required => false,
                    (Dflt::Rule(_), _) => true,
                    (Dflt::Str(_), Ty::Str | Ty::Name) => true,
                    (Dflt::Int(n), Ty::Int(lo, hi)) => lo <= n && n <= hi,
                    (Dflt::Bool(_), Ty::Bool) | (Dflt::Duration(_), Ty::Duration) => true,
                    (Dflt::Word(w), Ty::Enum(set)) => set.contains(w),
                    (Dflt::Words(ws), Ty::List(Ty::Enum(set))) => {
                        ws.iter().all(|w| set.contains(w))
                    }
                    (Dflt::Key(_, bits), Ty::Key) => (2048..=16384).contains(bits),
                    (Dflt::Profile(p), Ty::Ref(kinds)) => kinds
                        .iter()
                        .any(|k| prelude.contains(&format!("\n{k} {p} {{"))),
                    (Dflt::Profile(p), Ty::Ports) => {
                        prelude.contains(&format!("\nport_set {p} {{"))
                    }
                    _ => false,
                };
                assert!(fits, "{at}: {:?} does not fit {:?}", f.default, f.ty);
                assert_eq!(
                    f.doc_template.matches("{default}").count(),
                    usize::from(f.default != Dflt::None),
                    "{at}: the doc shows the default once, where it has one"
                );
            }
        }
    }

    fn round_trip<T: Word + PartialEq + std::fmt::Debug>(word: fn(T) -> &'static str) {
        assert!(!T::WORDS.is_empty());
        for w in T::WORDS {
            let v = T::from_word(w).expect("a declared word");
            assert_eq!(word(v), *w);
        }
        assert_eq!(T::from_word(T::WORDS[0]), Some(T::FIRST));
        assert_eq!(T::from_word("no such word"), None);
    }

    #[test]
    fn words_and_values_correspond() {
        round_trip(NfsSecurity::word);
        round_trip(NfsVersion::word);
        round_trip(RingAccess::word);
        round_trip(HandshakeRole::word);
        round_trip(ClientAuth::word);
        round_trip(TlsVersion::word);
        round_trip(ClusterKind::word);
        round_trip(StorageFence::word);
        round_trip(AccessMode::word);
        round_trip(Reclaim::word);
        round_trip(WorkloadKind::word);
        round_trip(SanType::word);
        round_trip(PullPolicy::word);
        round_trip(Binding::word);
        round_trip(ExportFormat::word);
        round_trip(KeyAlg::word);
    }

    /// A data set's formats are export formats; the first is the default.
    #[test]
    fn dataset_formats_are_export_formats() {
        for s in all() {
            for f in s.fields {
                if let Ty::Dataset(formats) = f.ty {
                    assert!(!formats.is_empty(), "{}.{}", s.kind, f.name);
                    for w in formats {
                        assert!(ExportFormat::from_word(w).is_some(), "{w}");
                    }
                }
            }
        }
    }

    #[test]
    fn durations_are_written_as_in_specs() {
        assert_eq!(Dflt::Duration(0).describe(), "0s");
        assert_eq!(Dflt::Duration(60_000).describe(), "60s");
        assert_eq!(Dflt::Duration(86_400_000).describe(), "24h");
        assert_eq!(Dflt::Duration(1_500).describe(), "1500ms");
    }

    #[test]
    fn reference_targets_exist() {
        fn targets(t: &Ty) -> Vec<&'static str> {
            match t {
                Ty::Ref(k) => k.to_vec(),
                Ty::List(i) => targets(i),
                _ => vec![],
            }
        }
        for s in all() {
            for f in s.fields {
                for k in targets(&f.ty) {
                    assert!(
                        block(k).is_some_and(|b| b.arity == Arity::Named),
                        "{}.{}",
                        s.kind,
                        f.name
                    );
                }
            }
        }
    }
}
