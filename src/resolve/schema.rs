//! The language's schema: which block kinds exist where, which fields each
//! takes, of which type, with which default. Resolution validates every block
//! against this table (unknown, missing, duplicate fields, wrong types), so
//! the rules live in one place that the README, `explain` and an editor can
//! read too.

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

#[derive(Debug)]
pub struct FieldSchema {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
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

macro_rules! f {
    ($name:literal, $ty:expr, req, $doc:literal) => {
        FieldSchema {
            name: $name,
            ty: $ty,
            required: true,
            doc: $doc,
        }
    };
    ($name:literal, $ty:expr, opt, $doc:literal) => {
        FieldSchema {
            name: $name,
            ty: $ty,
            required: false,
            doc: $doc,
        }
    };
}

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

static SCHEMAS: &[BlockSchema] = &[
    BlockSchema {
        kind: "zos",
        arity: Arity::Named,
        doc: "A z/OS system (LPAR) with its TCP/IP stack, certificate authorities and NFS servers.",
        fields: &[
            f!("address", Ty::Ipv4, req, "The z/OS host address that proxies connect to."),
            f!("stack", Ty::Name, opt, "TCP/IP stack name, for the policy header (default TCPIP)."),
            f!("valid_from", Ty::Str, opt, "First day (\"YYYY-MM-DD\") of every certificate made on this system; each certificate is valid for its `valid_years` from it (NOTBEFORE/NOTAFTER). Without it RACF's defaults apply."),
        ],
        children: &["jcl", "authority", "nfs_server"],
    },
    BlockSchema {
        kind: "jcl",
        arity: Arity::Single,
        doc: "Job card settings for the generated RACF jobs.",
        fields: &[
            f!("account", Ty::Str, opt, "Accounting information (default ACCT)."),
            f!("class", Ty::Name, opt, "Job class (default A)."),
            f!("msgclass", Ty::Name, opt, "Message class (default X)."),
            f!("notify", Ty::Name, opt, "NOTIFY user (default &SYSUID)."),
            f!("job_prefix", Ty::Name, opt, "1-5 characters that start every job name (default TNC)."),
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
            f!("key", Ty::Key, opt, "Key algorithm and size (default rsa(2048))."),
            f!("export", Ty::Dataset(&["certb64", "certder"]), req, "Data set the CA certificate is exported to."),
            f!("valid_years", Ty::Int(1, 50), opt, "Years of validity from the system's valid_from (default 10); no certificate it signs may outlive it."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "nfs_server",
        arity: Arity::Named,
        doc: "An AT-TLS aware z/OS NFS server: its AT-TLS policy and key ring.",
        fields: &[
            f!("jobname", Ty::Name, opt, "Job name of the NFS server (default: the block's name)."),
            f!("user", Ty::Name, opt, "RACF user ID of the started task, owner of the key ring (default: jobname)."),
            f!("ports", Ty::Ports, opt, "Local port range (default profiles.zos_nfs, 2043..2049)."),
            f!("security", Ty::Enum(&["safexp", "saf", "exp", "krb5", "none"]), opt, "NFS security attribute (default safexp)."),
            f!("versions", Ty::List(&Ty::Enum(&["nfs2", "nfs3", "nfs4"])), opt, "NFS protocol versions (default [nfs4])."),
            f!("keyring", Ty::Name, req, "RACF key ring owned by the server user."),
            f!("tls", Ty::Ref(&["tls_profile"]), opt, "TLS profile (default profiles.tls12_saf)."),
            f!("clients", Ty::List(&Ty::Ipv4), req, "DVIPAs allowed through the AT-TLS rule: every compute node of every cluster using this server."),
            f!("address", Ty::Ipv4, opt, "The server's own dynamic VIPA that proxies connect to (default: the system's address); required with `standby`."),
            f!("standby", Ty::List(&Ty::Ref(&["zos"])), opt, "Other LPARs the server may be restarted on (high availability); each gets the same AT-TLS policy."),
            f!("priority", Ty::Int(1, 2_000_000_000), opt, "Priority of the TTLSRule when merged into the site's AT-TLS policy (default 1000)."),
            f!("ring_access", Ty::Enum(&["rdatalib", "facility"]), opt, "How the server user may read its key ring: READ to the RDATALIB profile <user>.<ring>.LST (default), or to FACILITY IRR.DIGTCERT.LISTRING."),
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
            f!("key", Ty::Key, opt, "Key algorithm and size (default rsa(2048))."),
            f!("signed_by", Ty::Ref(&["authority"]), req, "The authority that signs it."),
            f!("valid_years", Ty::Int(1, 50), opt, "Years of validity from the system's valid_from (default 2)."),
            f!("hostname", Ty::Str, opt, "DNS name in the certificate's subject alternative name (with the server's address), checked by the proxies' `verifyhost` (default <jobname>.<system>, lower case)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "tls_profile",
        arity: Arity::Named,
        doc: "AT-TLS environment settings shared by NFS servers.",
        fields: &[
            f!("handshake_role", Ty::Enum(&["server", "server_with_client_auth"]), opt, "HandshakeRole (default server_with_client_auth)."),
            f!("client_auth", Ty::Enum(&["pass_thru", "full", "required", "saf_check"]), opt, "ClientAuthType (default saf_check)."),
            f!("versions", Ty::List(&Ty::Enum(&["ssl3", "tls1_0", "tls1_1", "tls1_2", "tls1_3"])), opt, "Protocol versions switched on; all others are switched off (default [tls1_2])."),
            f!("handshake_timeout", Ty::Duration, opt, "HandshakeTimeout, 0s..600s (default 60s)."),
            f!("trace", Ty::Int(0, 255), opt, "AT-TLS trace level (default 1)."),
            f!("ciphers", Ty::List(&Ty::Name), opt, "V3CipherSuites, in order of preference (default: the system's)."),
            f!("secondary_map", Ty::Bool, opt, "SecondaryMap (default false)."),
            f!("application_controlled", Ty::Bool, opt, "ApplicationControlled (default false)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "haproxy_profile",
        arity: Arity::Named,
        doc: "Settings of the TLS-originating haproxy that fronts an NFS server.",
        fields: &[
            f!("image", Ty::Str, opt, "haproxy container image."),
            f!("timeout_connect", Ty::Duration, opt, "timeout connect."),
            f!("timeout_client", Ty::Duration, opt, "timeout client."),
            f!("timeout_server", Ty::Duration, opt, "timeout server."),
            f!("maxconn", Ty::Int(1, 100_000), opt, "maxconn of the server line."),
            f!("replicas", Ty::Int(1, 100), opt, "Deployment replicas."),
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
            f!("kind", Ty::Enum(&["openshift", "kubernetes"]), req, "openshift or kubernetes."),
            f!("service_cidr", Ty::Cidr, opt, "The cluster's service network; static ClusterIPs of NFS proxies lie inside it (required when a tenant has NFS storage)."),
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
            f!("server", Ty::Str, req, "Registry host."),
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
            f!("namespace", Ty::Str, opt, "Kubernetes namespace of the workloads (default: the tenant's name)."),
        ],
        children: &["nfs", "pure", "workload"],
    },
    BlockSchema {
        kind: "nfs",
        arity: Arity::Single,
        doc: "The tenant's z/OS NFS storage: server, identity, proxy and volumes.",
        fields: &[
            f!("server", Ty::Ref(&["nfs_server"]), req, "The NFS server, e.g. NP8.MVSNFS8."),
            f!("storage_class", Ty::Str, opt, "StorageClass of the tenant's PVs (default <tenant>-nfs)."),
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
            f!("subject", Ty::Object(SUBJECT_KEYS), opt, "Subject DN (default CN = label)."),
            f!("key", Ty::Key, opt, "Key algorithm and size (default rsa(2048))."),
            f!("signed_by", Ty::Ref(&["authority"]), opt, "Signing authority (default: the one that signed the server certificate)."),
            f!("export", Ty::Dataset(&["pkcs12der", "pkcs12b64"]), req, "PKCS#12 export data set, with password = env(...) or file(...)."),
            f!("valid_years", Ty::Int(1, 50), opt, "Years of validity from the system's valid_from (default 2)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "proxy",
        arity: Arity::SingleRequired,
        doc: "The haproxy that originates TLS to the NFS server for this tenant.",
        fields: &[
            f!("namespace", Ty::Str, opt, "Namespace of the proxy (default <namespace>-nfs-proxy)."),
            f!("cluster_ip", Ty::Ipv4, req, "Static ClusterIP of the proxy Service; the PVs mount from it."),
            f!("service", Ty::Str, opt, "Service name (default nfs-server)."),
            f!("image", Ty::Str, opt, "haproxy image (default from the haproxy profile)."),
            f!("registry", Ty::Ref(&["registry"]), opt, "Registry to pull the image with."),
            f!("replicas", Ty::Int(1, 100), opt, "Replicas (default from the haproxy profile)."),
            f!("ports", Ty::Ports, opt, "Ports to forward (default: the NFS server's range)."),
            f!("trust", Ty::Ref(&["authority"]), opt, "Authority whose certificate verifies the server (default: the server certificate's signer)."),
            f!("haproxy", Ty::Ref(&["haproxy_profile"]), opt, "haproxy settings (default profiles.haproxy_defaults)."),
            f!("user", Ty::Int(1, 2147483647), opt, "On plain Kubernetes, the UID and GID haproxy runs as (default 99, the haproxy user of the docker-library image); OpenShift assigns its own."),
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
            f!("access", Ty::Enum(&["read_write_many", "read_write_once", "read_only_many"]), opt, "Access mode (default read_write_many)."),
            f!("reclaim", Ty::Enum(&["retain", "delete"]), opt, "PV reclaim policy (default retain)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "workload",
        arity: Arity::Named,
        doc: "A Deployment or StatefulSet of the tenant: its container, NFS mounts and claims.",
        fields: &[
            f!("kind", Ty::Enum(&["deployment", "stateful_set"]), opt, "deployment or stateful_set (default: stateful_set when it has claims, else deployment)."),
            f!("image", Ty::Str, req, "Container image."),
            f!("replicas", Ty::Int(0, 1000), opt, "Replicas (default 1)."),
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
            f!("group", Ty::Int(1, 2147483647), opt, "On plain Kubernetes, runAsGroup and fsGroup (default: user)."),
            f!("read_only_root", Ty::Bool, opt, "readOnlyRootFilesystem, for images that write only to their volumes (default false)."),
            f!("service_account_token", Ty::Bool, opt, "Mount the service account token (automountServiceAccountToken; default false)."),
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
            f!("read_only", Ty::Bool, opt, "Mount read-only (default false)."),
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
            f!("access", Ty::Enum(&["read_write_once", "read_write_many", "read_only_many"]), opt, "Access mode (default read_write_once; FADA volumes allow no other)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "liveness",
        arity: Arity::Single,
        doc: "The container's liveness probe: a command run inside it.",
        fields: &[
            f!("command", Ty::List(&Ty::Str), req, "The command and its arguments."),
            f!("initial_delay", Ty::Duration, opt, "initialDelaySeconds (default 0s)."),
            f!("timeout", Ty::Duration, opt, "timeoutSeconds (default 1s)."),
            f!("period", Ty::Duration, opt, "periodSeconds (default 10s)."),
            f!("failures", Ty::Int(1, 100), opt, "failureThreshold (default 3)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "readiness",
        arity: Arity::Single,
        doc: "The container's readiness probe: a command run inside it.",
        fields: &[
            f!("command", Ty::List(&Ty::Str), req, "The command and its arguments."),
            f!("initial_delay", Ty::Duration, opt, "initialDelaySeconds (default 0s)."),
            f!("timeout", Ty::Duration, opt, "timeoutSeconds (default 1s)."),
            f!("period", Ty::Duration, opt, "periodSeconds (default 10s)."),
            f!("failures", Ty::Int(1, 100), opt, "failureThreshold (default 3)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "flasharray",
        arity: Arity::Named,
        doc: "A Pure Storage FlashArray shared by tenants through Secure Multi-Tenancy realms.",
        fields: &[
            f!("endpoint", Ty::Host, req, "Management endpoint (address or host name, no protocol) that Portworx and the setup script reach."),
            f!("purity", Ty::Version, req, "Purity//FA version, at least 6.6.11 for Secure Application Workspaces."),
            f!("san", Ty::Enum(&["iscsi", "fc", "nvmeof_rdma", "nvmeof_tcp"]), req, "SAN type the nodes attach volumes with: iscsi, fc, nvmeof_rdma or nvmeof_tcp."),
            f!("admin", Ty::Name, opt, "Array administrator the setup script logs in as (default pureuser)."),
        ],
        children: &[],
    },
    BlockSchema {
        kind: "portworx",
        arity: Arity::Single,
        doc: "Portworx Enterprise on the cluster, with cloud drives on FlashArray pods (one StorageCluster).",
        fields: &[
            f!("version", Ty::Version, req, "Portworx version, at least 3.2 for Secure Application Workspaces."),
            f!("namespace", Ty::Str, opt, "Namespace of the StorageCluster and of px-pure-secret (default portworx)."),
            f!("name", Ty::Str, opt, "StorageCluster name (default px-<cluster>)."),
            f!("image", Ty::Str, opt, "Portworx image (default portworx/oci-monitor:<version>)."),
            f!("image_pull_policy", Ty::Enum(&["always", "if_not_present", "never"]), opt, "imagePullPolicy (default always)."),
            f!("kvdb", Ty::Enum(&["internal"]), opt, "Key-value database: internal (built-in) is the only choice."),
            f!("kvdb_device_size", Ty::Size, opt, "Size of the dedicated KVDB drive in GiB (kvdbDeviceSpec); default: Portworx's."),
            f!("device_size", Ty::Size, req, "Size of each node's cloud drive, in whole GiB."),
            f!("pods", Ty::List(&Ty::Name), req, "FlashArray pods the cloud drives are created in, one deviceSpec each; they belong to a realm of a tenant on this cluster."),
            f!("io_profile", Ty::Int(0, 9), opt, "runtimeOptions default-io-profile."),
            f!("stork", Ty::Bool, opt, "Stork scheduler extender (default true)."),
            f!("autopilot", Ty::Bool, opt, "Autopilot (default true)."),
            f!("csi", Ty::Bool, opt, "CSI driver (default true; FlashArray needs it)."),
            f!("telemetry", Ty::Bool, opt, "Pure1 telemetry (default true)."),
            f!("prometheus", Ty::Bool, opt, "Prometheus monitoring and metrics export (default true)."),
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
            f!("binding", Ty::Enum(&["immediate", "wait_for_first_consumer"]), opt, "volumeBindingMode (default immediate)."),
            f!("expansion", Ty::Bool, opt, "allowVolumeExpansion (default true)."),
            f!("reclaim", Ty::Enum(&["delete", "retain"]), opt, "reclaimPolicy (default delete)."),
            f!("fs_type", Ty::Enum(&["ext4", "xfs"]), opt, "File system (csi.storage.k8s.io/fstype); default Portworx's."),
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
