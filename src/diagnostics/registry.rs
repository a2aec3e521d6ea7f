//! The registry of diagnostic codes: the one place that lists every code,
//! its severity, a one-line summary and the long explanation that
//! `tenantc explain CODE` prints. Codes are never reused or renumbered.
//!
//! Ranges: E01xx syntax and literals, E02xx names and imports, E03xx fields
//! and types, E04xx z/OS, RACF and AT-TLS, E05xx Kubernetes and OpenShift,
//! E06xx Portworx and Pure FlashArray, E07xx isolation between tenants.

use super::Severity;

/// A stable diagnostic code such as `E0401`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code(&'static str);

impl Code {
    pub fn as_str(self) -> &'static str {
        self.0
    }

    pub fn info(self) -> &'static CodeInfo {
        lookup(self.0).unwrap_or(&CODES[0])
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

pub struct CodeInfo {
    pub code: Code,
    pub severity: Severity,
    pub summary: &'static str,
    pub explanation: &'static str,
}

pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    let code = code.trim().to_ascii_uppercase();
    CODES.iter().find(|c| c.code.0 == code)
}

pub fn all() -> &'static [CodeInfo] {
    CODES
}

/// Every code as Markdown: the page `docs/diagnostics.md`, generated from this
/// registry (a test keeps the checked-in page equal to it).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Diagnostics\n\n<!-- Generated from src/diagnostics/registry.rs by `UPDATE_DOCS=1 cargo test --test docs`; do not edit. -->\n\nEvery diagnostic tenantc reports, with its stable code. `tenantc explain CODE` prints the same text.\n\n| code | severity | summary |\n|---|---|---|\n",
    );
    for c in CODES {
        let severity = match c.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "| [{0}](#{1}) | {severity} | {2} |\n",
            c.code,
            c.code.as_str().to_ascii_lowercase(),
            c.summary
        ));
    }
    for c in CODES {
        out.push_str(&format!(
            "\n## {}\n\n**{}**\n\n```text\n{}\n```\n",
            c.code, c.summary, c.explanation
        ));
    }
    out
}

macro_rules! codes {
    ($( $konst:ident = $code:literal, $sev:ident, $summary:literal, $expl:literal; )*) => {
        $( pub const $konst: Code = Code($code); )*
        static CODES: &[CodeInfo] = &[
            $( CodeInfo { code: $konst, severity: Severity::$sev, summary: $summary, explanation: $expl }, )*
        ];
    };
}

codes! {
    INTERNAL = "E0001", Error, "internal compiler error",
"The compiler hit a state it did not expect. This is a bug in tenantc, not in
your spec: please report it with the spec that triggered it. No bundle is
written when this happens.";

    TOO_MANY = "E0002", Error, "too many diagnostics in one file",
"A file produced more diagnostics than are shown for one file (100). The
first 100, in the order of their position, are reported; this one counts
the rest and says how many of them are errors. It is an error when any of
the hidden ones is, so the exit code and `--diagnostics-format json` still
say the spec has errors; a warning when all of them are warnings.

Many diagnostics in one file usually share one cause (a misspelt profile or
server that every tenant uses, a missing import): fix the first ones and
check again.

  tenant t1 { cluster = shared-ocp }   # E0201 unresolved name, 500 times
  -> E0002: 400 more diagnostics in this file are not shown (400 errors)";

    SYNTAX = "E0101", Error, "syntax error",
"The file does not follow the tenant-spec grammar at this point. The message
lists what the parser expected instead.

Bad:
    cluster ocp1 {
      service_cidr = 172.30.0.0/16
      node worker1 { dvipa = 10.1.1.1 }
    # the closing brace is missing

Good:
    cluster ocp1 {
      service_cidr = 172.30.0.0/16
      node worker1 { dvipa = 10.1.1.1 }
    }";

    BAD_LITERAL = "E0102", Error, "invalid literal",
"A literal has the right shape but an impossible value: an IPv4 octet above
255, a CIDR prefix above 32, a port above 65535, a number too large to hold,
or an unknown escape in a string.

Bad:
    address = 10.1.1.300
    ports   = 2043..70000

Good:
    address = 10.1.1.30
    ports   = 2043..2049";

    UNRESOLVED = "E0201", Error, "reference to an undeclared name",
"A reference names a declaration that does not exist in the scope it is used
in. References are looked up from the innermost block outwards, then among the
top-level declarations and imported modules; dotted references
(`NP8.MVSNFS8`) walk into named blocks.

Bad:
    workload fios { registry = ocp1.sys_ztest_artifactory }

Good:
    workload fios { registry = ocp1.my_registry }";

    DUPLICATE = "E0202", Error, "duplicate declaration",
"Two declarations of the same kind of scope share one name. Names must be
unique among siblings, so that every reference has exactly one target.

Bad:
    cluster ocp1 {
      node worker1 { dvipa = 10.1.1.1 }
      node worker1 { dvipa = 10.1.1.2 }
    }

Good:
    cluster ocp1 {
      node worker1 { dvipa = 10.1.1.1 }
      node worker2 { dvipa = 10.1.1.2 }
    }";

    WRONG_KIND = "E0203", Error, "reference to the wrong kind of declaration",
"A reference resolves, but to a declaration of another kind than the field
needs, for example a cluster where an NFS server is expected.

Bad:
    nfs { server = ocp1 }

Good:
    nfs { server = NP8.MVSNFS8 }";

    IMPORT_NOT_FOUND = "E0204", Error, "imported file not found",
"An `import` names a file that cannot be read. Paths are relative to the
importing file; `std/...` names a module of the standard library shipped with
tenantc (see `stdlib/std/`). The `.tenant` extension may be left out.

Bad:
    import \"std/profile\"

Good:
    import \"std/profiles\"";

    IMPORT_CYCLE = "E0205", Error, "import cycle",
"Files import each other in a cycle. Move the shared declarations into a
third file that both import.";

    UNKNOWN_BLOCK = "E0206", Error, "unknown block kind",
"A block's kind is not one the language knows at this place. Top-level kinds
are `zos`, `cluster`, `tenant`, `tls_profile`, `haproxy_profile` and
`port_set`; nested kinds depend on the parent (`nfs_server` and `authority`
inside `zos`, `node` and `registry` inside `cluster`, ...).

Bad:
    zos NP8 { nfsserver MVSNFS8 { } }

Good:
    zos NP8 { nfs_server MVSNFS8 { } }";

    DUPLICATE_IMPORT_ALIAS = "E0207", Error, "two imports bind the same name",
"Each import binds a module name (the last part of its path, or the name after
`as`). Two imports binding the same name, or an import alias equal to a
top-level declaration, would make references ambiguous.

Bad:
    import \"std/profiles\"
    import \"lib/profiles\"

Good:
    import \"std/profiles\"
    import \"lib/profiles\" as site_profiles";

    CROSS_TENANT = "E0208", Error, "reference into another tenant",
"A tenant's workloads may only mount that tenant's own volumes. Mounting another
tenant's volume would break the isolation the tenant boundary exists for
(its data, under its RACF identity).

Bad:
    tenant b { workload app { mount { volume = a.nfs.data, path = \"/data\" } } }

Good:
    tenant b { workload app { mount { volume = nfs.data, path = \"/data\" } } }";

    REFERENCE_CYCLE = "E0209", Error, "reference cycle",
"A declaration's value refers back to the declaration itself, directly or
through others, so it has no value.

Bad:
    port_set a { range = b }
    port_set b { range = a }

Good:
    port_set a { range = 2043..2049 }
    port_set b { range = a }";

    SHADOWED = "E0210", Error, "reference captured by a shadowing declaration",
"References are looked up from the innermost block outwards, so a declaration
in an inner block hides every outer declaration of the same name. When the
reference wants an outer declaration of another kind, the inner one captures
it. Shadowing that breaks no reference is allowed (a workload may share its
tenant's name).

Bad:
    tenant fios {
      cluster = ocp1             # finds the workload below
      workload ocp1 { ... }
    }

Good:
    tenant fios {
      cluster = ocp1
      workload fios { ... }
    }";

    OUTSIDE_SITE = "E0211", Error, "file outside the site",
"A spec reads only files inside its site: the site root is the common directory
of the input files, or the directory given with `--root DIR`. An import names a
`*.tenant` file inside the root (after resolving symbolic links) or a module of
the standard library (`std/...`); an input that is a symbolic link out of the
root is refused too. The file is not read, so none of its text can reach a
diagnostic, a log or a SARIF upload.

Bad:
    import \"../../etc/passwd\"
    import \"/proc/self/environ\"

Good:
    import \"lib/profiles\"      # site/lib/profiles.tenant
    import \"std/profiles\"";

    IMPORT_TOO_DEEP = "E0212", Error, "imports nested too deeply",
"A chain of imports (a file importing a file that imports another, and so on)
may be at most 256 files deep. Loading follows each chain to its end; a chain
of thousands of files would exhaust the stack of the compiler or of the
language server. The import that goes past the limit is not loaded.

Bad:
    # m0.tenant imports m1, m1 imports m2, ... m300 imports m301

Good:
    # a site's libraries import each other a few levels deep; a file that
    # needs many modules imports each of them directly";

    ALIAS_TWO_MODULES = "E0213", Error, "one import name bound to two modules across files",
"The input files of a site share one namespace, their imports included: a
module imported by one file is reached under its name from every other file.
Two input files that bind one name to two different modules would make every
reference through that name ambiguous (which module a file reached would depend
on the order the files were read in), so the second binding is an error.
Importing the same module under the same name in several files is fine.

Bad:
    # a.tenant
    import \"lib/gold\" as profiles
    # b.tenant
    import \"lib/silver\" as profiles

Good:
    # a.tenant
    import \"lib/gold\" as gold
    # b.tenant
    import \"lib/silver\" as silver";

    UNKNOWN_FIELD = "E0301", Error, "unknown field",
"The block has no field of this name. The help line suggests the nearest known
field; `tenantc explain` on the block's documentation in the README lists them
all.

Bad:
    nfs_server MVSNFS8 { port = 2043..2049 }

Good:
    nfs_server MVSNFS8 { ports = 2043..2049 }";

    MISSING_FIELD = "E0302", Error, "missing required field",
"A field that has no default was not given. The compiler cannot guess it: it
ends up in generated files that must agree with each other.

Bad:
    node worker1 { }

Good:
    node worker1 { dvipa = 10.1.1.1 }";

    WRONG_TYPE = "E0303", Error, "value of the wrong type",
"The value's type is not the one the field takes, for example a string where an
IPv4 address is expected. Typed literals are written bare: `10.1.1.9`,
`172.30.0.0/16`, `2043..2049`, `2Gi`, `24h`.

Bad:
    proxy { cluster_ip = \"172.30.226.71,rw,nfsvers=4\" }

Good:
    proxy { cluster_ip = 172.30.226.71 }";

    BAD_ENUM = "E0304", Error, "value outside its set",
"The field takes one of a fixed set of values; the message lists them.

Bad:
    security = krb5

Good:
    security = safexp";

    DUPLICATE_FIELD = "E0305", Error, "field given twice",
"A field is set twice in one block. Only one value can win, so the compiler
refuses to pick one.";

    RETIRED_E0306 = "E0306", Error, "retired: value not allowed here",
"Retired: tenantc no longer reports E0306. It stood for every value that has
the right type but breaks a rule of its field, and is now split by mistake:

    E0320  a number or size out of its range
    E0321  a malformed host name, address or network
    E0322  a value not in the form its field needs (version, date, path,
           image reference, variable name, quantity)
    E0323  text the generated file cannot carry (JCL, RACF, YAML)
    E0324  an entry listed twice
    E0325  an empty list or command where an entry is needed
    E0326  a call or block written with the wrong parts
    E0327  settings that contradict each other
    E0418  a duration out of range

Run `tenantc explain` on the code a current tenantc reports.";

    SECRET_LITERAL = "E0307", Error, "secret written into the spec",
"Specs live in version control and are read by many people; a token, password
or key written into one leaks to all of them and into every copy of the
repository. Where a field takes a secret (an API token, registry credentials,
a PKCS#12 password) and where an environment variable's name says it holds one
(PASSWORD, TOKEN, SECRET, PRIVATE_KEY, API_KEY), the spec names where the value
comes from instead: `env(\"NAME\")` or `file(\"path\")`. The bundle then carries a
placeholder or a generated Secret, and the value itself only with
`--materialize-secrets`, into files of mode 0600. The diagnostic never repeats
the value. If a real secret was committed, rotate it.

Bad:
    pure { token = \"19ead418-bec7-09cb-83bb-e679a9307788\" }
    workload db { env = { DB_PASSWORD = \"porxie\" } }

Good:
    pure { token = env(\"CUSTOMER1_PURE_TOKEN\") }
    workload db { env = { DB_PASSWORD = env(\"DB_PASSWORD\") } }";

    SECRET_PATH = "E0308", Error, "secret file outside the site",
"`file(\"path\")` names a file relative to the spec that holds it, inside the
site root (the common directory of the inputs, or `--root DIR`). An absolute
path, or one that leads out of the root (through `..` or a symbolic link), is
refused before anything is read: a spec from a pull request must not copy the
CI runner's files into a bundle. To read secrets kept elsewhere (a mounted
vault directory), name that directory with `--allowed-resources DIR`.
With `--materialize-secrets` the file must also be a regular file (not a FIFO
or a device) of at most 64 KiB, and an API token one line of printable text.

Bad:
    pure { token = file(\"/etc/passwd\") }
    pure { token = file(\"../../other-site/token\") }

Good:
    pure { token = file(\"secrets/analytics-pure-token\") }";

    SHARED_SECRET = "E0309", Error, "secret source shared between owners",
"Every secret source belongs to exactly one owner: a tenant (its API token,
its workloads' secret variables), a registry (its credentials) or an
authority (its export password). When a workload of tenant B names the
`env(\"...\")` or `file(\"...\")` of tenant A, `--materialize-secrets` would copy
A's secret into B's namespace. Both uses are labelled. The site's own
credentials are exempt among themselves: several registries (one per cluster)
or authorities may name one source, never a tenant's.

Bad:
    tenant a { pure { token = env(\"A_TOKEN\") } ... }
    tenant b { workload w { env = { T = env(\"A_TOKEN\") } } ... }

Good:
    tenant b { workload w { env = { T = env(\"B_TOKEN\") } } ... }";

    VALUE_RANGE = "E0320", Error, "number or size out of range",
"The value is a number or a size of the right type, but outside the bounds its
field, or the file it ends up in, allows: an integer outside the range the
message gives, a size of zero, an RSA or ECC key larger than 16384 bits, a
FADA bandwidth limit outside 1M..512G, or a Portworx drive size that is not a
whole number of GiB (deviceSpecs and kvdbDeviceSpec take GiB).

Bad:
    authority zcx_ca { valid_years = 80, ... }
    portworx { device_size = 50G, ... }

Good:
    authority zcx_ca { valid_years = 10, ... }
    portworx { device_size = 50Gi, ... }";

    BAD_HOST = "E0321", Error, "malformed host name, address or network",
"A host name, address or network is not written as one: a FlashArray
`endpoint` with a protocol, port or path (Portworx and the setup script want
the bare address or DNS name), a certificate `hostname` that is not a DNS name
(RACDCERT ALTNAME and haproxy's verifyhost use it), a registry `server` with
blanks, or a CIDR with host bits set (`service_cidr` names the network).

Bad:
    flasharray fa1 { endpoint = \"https://fa1.example.com/\", ... }
    cluster ocp1 { service_cidr = 172.30.1.0/16, ... }

Good:
    flasharray fa1 { endpoint = \"fa1.example.com\", ... }
    cluster ocp1 { service_cidr = 172.30.0.0/16, ... }";

    BAD_FORMAT = "E0322", Error, "value not in the form its field needs",
"A string field holds text that does not have the form the field takes: a
version that is not dotted numbers, a `valid_from` that is not a YYYY-MM-DD
date, a mount or export path that is not absolute, a z/OS NFS processing
attribute with other characters than letters, digits, ( ) and _, a CPU
quantity that is neither cores nor millicores, an environment variable name
or `env(\"NAME\")` that is not letters, digits and _, or an image reference
outside the distribution reference grammar.

Bad:
    flasharray fa1 { purity = \"6.6.x\", ... }
    mount { volume = nfs.data, path = \"data\" }
    workload app { image = \"My-Repo.com/App:1\", cpu = \"half\" }

Good:
    flasharray fa1 { purity = \"6.6.11\", ... }
    mount { volume = nfs.data, path = \"/data\" }
    workload app { image = \"my-repo.com/app:1\", cpu = \"500m\" }";

    UNWRITABLE = "E0323", Error, "text the generated file cannot carry",
"The value would be written into a generated file whose syntax cannot carry
it: a job card's CLASS or MSGCLASS that is not one character A-Z or 0-9, an
accounting field with blanks or other characters than A-Z 0-9 , . # $ @ -, a
certificate subject value longer than its attribute allows, with non-ASCII
characters or `/*` (which starts a TSO comment), a subject that does not fit
JCL's column 71, a password placeholder with quotes, an export path with
blanks or `#` (the exports data set), or any value with a control character
(newline, tab, NUL, DEL), which YAML, JCL and the kubelet refuse.

Bad:
    jcl { class = a, account = \"DEPT 42\" }
    authority ca { subject = { CN = \"CA /* x\" }, ... }

Good:
    jcl { class = A, account = \"DEPT42\" }
    authority ca { subject = { CN = \"CA x\" }, ... }";

    LISTED_TWICE = "E0324", Error, "entry listed twice",
"A list names the same entry twice, where each must be unique: a pod in a
tenant's `pods`, a port in a workload's `ports`, an LPAR in a server's
`standby` (or its home system there), or one container path used by two
mounts or claims of a workload. Both places are labelled; remove one.

Bad:
    workload web { ports = [8080, 8080] }
    zos NP8 { nfs_server MVSNFS8 { standby = [NP8], ... } }

Good:
    workload web { ports = [8080] }
    zos NP8 { nfs_server MVSNFS8 { standby = [NP9], ... } }";

    EMPTY_VALUE = "E0325", Error, "empty where an entry is needed",
"A list or command is empty where the generated files need at least one
entry: Portworx's `pods` (each one gets the cluster's cloud drives) or a
probe's `command` (a liveness probe that runs nothing fails or passes on
nothing).

Bad:
    portworx { pods = [], ... }
    liveness { command = [] }

Good:
    portworx { pods = [\"pod\"], ... }
    liveness { command = [\"pg_isready\"] }";

    BAD_ARGUMENTS = "E0326", Error, "call or block written with the wrong parts",
"A call or a block header has parts its kind does not take: `rsa(...)` and
`nistecc(...)` take one argument, the key size; `dataset(...)` takes the data
set name as a string first, then `format = ...` and `password = ...`; a block
that is written once (`nfs`, `proxy`, `identity`, `jcl`, ...) takes no name.

Bad:
    key    = rsa(2048, 4096)
    export = dataset(format = certb64)
    proxy main { cluster_ip = 172.30.226.71 }

Good:
    key    = rsa(4096)
    export = dataset(\"HLQ.ZCX.CERTAUTH\", format = certb64)
    proxy { cluster_ip = 172.30.226.71 }";

    CONFLICT = "E0327", Error, "settings that contradict each other",
"Two settings of the spec disagree, so one of them would be ignored: a
password on an export that is not PKCS#12, a Portworx `image` whose tag is
another version than `version`, a Portworx `env` entry for a variable tenantc
sets from other fields (PURE_FLASHARRAY_SAN_TYPE, from the arrays' `san`), or
`kind = deployment` on a workload with claims (only a StatefulSet has volume
claim templates). Both are labelled where they are two fields.

Bad:
    portworx { version = \"3.2.0\", image = \"portworx/oci-monitor:3.1.6\", ... }
    workload db { kind = deployment, claim data { ... } }

Good:
    portworx { version = \"3.2.0\", ... }      # image follows version
    workload db { claim data { ... } }          # a StatefulSet";

    RESERVED_NAMESPACE = "E0330", Error, "namespace the cluster keeps for itself",
"A tenant, its NFS proxy or Portworx may not be placed in a namespace the
cluster runs its own components in: `default`, `kube-system`, `kube-public`,
`kube-node-lease` and any other `kube-*` name, and on OpenShift `openshift` and
every `openshift-*` name. The bundle would apply the tenant's default-deny
NetworkPolicy, Pod Security `restricted` label and quota to them (cutting the
cluster DNS off, refusing system pods), and the isolation report would list a
system namespace as one tenant's own. A tenant's namespace may not be the
cluster's Portworx namespace either.

Kubernetes starts with `default`, `kube-node-lease`, `kube-public` and
`kube-system` (https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces);
OpenShift keeps projects starting with `openshift-` and `kube-` for cluster
components (https://docs.redhat.com/en/documentation/openshift_container_platform/4.16/html/building_applications/projects).

Bad:
    tenant analytics { cluster = ocp_prod, namespace = \"kube-system\" }

Good:
    tenant analytics { cluster = ocp_prod, namespace = \"analytics\" }";

    RESERVED_CLUSTER_IP = "E0331", Error, "ClusterIP the cluster keeps for itself",
"The first address of the service network is the `kubernetes` Service in the
`default` namespace (the API server); on OpenShift the DNS operator gives the
cluster DNS Service the tenth. A proxy Service asking for either is refused by
the API server, or, applied first on a new cluster, takes the address the
cluster needs.

Service ClusterIP allocation: https://kubernetes.io/docs/concepts/services-networking/cluster-ip-allocation/

Bad:
    cluster ocp1 { service_cidr = 172.30.0.0/16 }
    proxy { cluster_ip = 172.30.0.1 }

Good:
    proxy { cluster_ip = 172.30.226.71 }";

    PORT_RANGE_TOO_WIDE = "E0332", Error, "port range too wide for the objects it becomes",
"An NFS proxy forwards each port of its range, and each port is an entry of the
proxy's Deployment (a container port), its Service and its NetworkPolicy. A
range such as `1..65535` makes objects of several megabytes, above the size
etcd accepts in one request (about 1.5 MiB) and the 256 KiB annotation that
client-side `kubectl apply` writes. A proxy forwards at most 64 ports; an NFS
server listens on a handful (z/OS NFS: 2043..2049).

Bad:
    port_set wide { range = 1..65535 }

Good:
    port_set zos_nfs { range = 2043..2049 }";

    STANDBY_DOMAIN = "E0333", Error, "NFS server's standby LPAR in another security domain",
"An NFS server with `standby = [...]` restarts on those LPARs under the same
RACF user ID, with the same key ring and certificate and the same export data
sets. Only systems that share one RACF database (and one catalog) give it
those, so a standby LPAR is in its home system's security domain: the systems
whose `security_domain` names the same domain, or, for systems naming none,
the site's default domain.

Bad:
    zos NP8 { security_domain = PLEXA, nfs_server MVSNFS8 { standby = [NP9] } }
    zos NP9 { security_domain = PLEXB }

Good:
    zos NP8 { security_domain = PLEXA, nfs_server MVSNFS8 { standby = [NP9] } }
    zos NP9 { security_domain = PLEXA }";

    HOST_NAME_CLAIMED = "E0334", Error, "name a proxy trusts claimed by another holder",
"A proxy connects to its NFS server's address and accepts the certificate it is
shown only if the certificate names the server's host name (haproxy's
`verifyhost` checks the certificate's DNS alternative names, then its subject
common name: https://docs.haproxy.org/2.8/configuration.html#5.2-verifyhost).
So a server's host name, its own address and its system's address belong to
that server alone across the whole site: a second server certificate with the
same host name, another server's certificate whose common name is that name,
or a tenant's client certificate whose common name is it could be presented
to the proxies as that server, and the holder of the key would read every
tenant's NFS traffic. tenantc compares these names across the whole site, not
only per authority: stricter than needed when two authorities are never
trusted by one proxy, never weaker.

Bad:
    nfs_server MVSNFS8 { certificate { hostname = \"mvsnfs8.np8\" } }
    identity { user = NFSTST, subject = { CN = \"mvsnfs8.np8\" } }

Good:
    identity { user = NFSTST, subject = { CN = \"NFSTST\" } }";

    WILDCARD_SUBJECT = "E0335", Error, "tenant certificate named by a wildcard",
"haproxy's `verifyhost` accepts wildcards in the names of the certificate it
checks (https://docs.haproxy.org/2.8/configuration.html#5.2-verifyhost). A
tenant's client certificate whose common name is a wildcard such as `*.np8`,
signed by the authority the proxies trust, could be presented as any NFS
server whose host name it matches. A client certificate names its tenant.

Bad:
    identity { user = NFSTST, subject = { CN = \"*.np8\" } }

Good:
    identity { user = NFSTST, subject = { CN = \"NFSTST\" } }";

    CONTROL_PLANE_MISSING = "E0336", Error, "Stork's webhook on plain Kubernetes without the control plane's addresses",
"The Portworx namespace denies ingress by default, and Stork (on unless
`stork = false`) registers a mutating webhook that the API server calls, on
the port Stork's pod listens on, for every pod, Deployment and StatefulSet
created. On plain Kubernetes the API server's connections come from the
control plane's addresses, which the cluster does not declare: the policy
cannot admit them, the call times out, and every pod create waits for it.
`control_plane` names those networks (CIDRs); the Portworx namespace then
admits them on Stork's webhook port and Portworx's API ports, and nothing
else. (On OpenShift the API server is on the host network, which the
namespace admits by its policy group.)

Bad:
    cluster k8s1 { kind = kubernetes, portworx { ... } }

Good:
    cluster k8s1 { kind = kubernetes, control_plane = [10.0.0.0/24], portworx { ... } }";

    CONTROL_PLANE_ON_OPENSHIFT = "E0337", Error, "`control_plane` on an OpenShift cluster",
"OpenShift's API server runs on the host network; the Portworx namespace admits
it by the host-network policy group
(`policy-group.network.openshift.io/host-network`), not by address, so
`control_plane` would have no effect there.

Bad:
    cluster ocp1 { kind = openshift, control_plane = [10.0.0.0/24] }

Good:
    cluster ocp1 { kind = openshift }";

    DVIPA_NOT_COVERED = "E0401", Error, "compute node DVIPA missing from the AT-TLS address group",
"A proxy pod of a tenant may be scheduled on every compute node of its cluster,
and it connects to the z/OS NFS server from that node's DVIPA. The AT-TLS rule
of the NFS server only applies to the addresses in its remote address group
(`clients`), so a node whose DVIPA is missing would talk to the NFS server
outside the TLS policy: the connection fails, or is not protected.

Bad:
    nfs_server MVSNFS8 { clients = [10.1.1.1, 10.1.1.2] }
    cluster ocp1 { node worker3 { dvipa = 10.1.1.3 } }

Good:
    nfs_server MVSNFS8 { clients = [10.1.1.1, 10.1.1.2, 10.1.1.3] }";

    DVIPA_UNKNOWN = "E0402", Error, "AT-TLS address group holds an address that is no compute node",
"Every address in an NFS server's `clients` list is allowed through its AT-TLS
rule. An address that belongs to no compute node of a cluster using the
server is either a typo or a stale entry that lets an unknown host in.

Bad:
    clients = [10.1.1.1, 10.1.1.2, 10.1.1.4]   # no node has 10.1.1.4

Good:
    clients = [10.1.1.1, 10.1.1.2, 10.1.1.3]";

    DVIPA_DUPLICATE = "E0403", Error, "address used twice",
"Two compute nodes declare the same DVIPA, or an address appears twice in one
list. A DVIPA identifies one node to the z/OS stack.";

    PORT_MISMATCH = "E0404", Error, "proxy port range differs from the NFS server's",
"The NFS server's port range is the TTLSRule LocalPortRange; the proxy binds the
same range in haproxy.cfg, exposes it as container ports and as Service ports.
If the proxy's range differs, some NFS ports are not forwarded (mounts hang) or
are forwarded outside the AT-TLS rule.

Bad:
    nfs_server MVSNFS8 { ports = 2043..2049 }
    proxy { ports = 2043..2048 }

Good:
    proxy { }          # inherits 2043..2049 from the server";

    PORT_RANGE_INVALID = "E0405", Error, "malformed port range",
"A port range must have its low end at or below its high end, within 1..65535.

Bad:
    ports = 2049..2043

Good:
    ports = 2043..2049";

    PORT_COLLISION = "E0406", Error, "port ranges of two NFS servers overlap on one system",
"Two NFS servers on the same z/OS system cannot listen on the same port, and
two AT-TLS rules for the same local ports would shadow each other.";

    CA_MISMATCH = "E0407", Error, "proxy trusts another authority than the one that signed the server",
"haproxy verifies the NFS server's certificate (`verify required`) against the
CA file it is given. That file must be the export of the authority that
signed the server certificate; otherwise every TLS handshake fails.

Bad:
    certificate { signed_by = zcx_ca }
    proxy { trust = NP8.other_ca }

Good:
    proxy { }          # trusts the server certificate's signer";

    CLIENT_CA_MISMATCH = "E0408", Error, "client certificate signed by an authority the server ring does not hold",
"With ClientAuthType SAFCheck the NFS server validates the tenant's client
certificate against the certificate authorities connected to its key ring,
which is the authority that signed its own certificate. A client certificate
signed by another authority is rejected in the handshake.";

    FOREIGN_AUTHORITY = "E0409", Error, "certificate signed by an authority of another system",
"The server certificate's RACDCERT job runs on the server's system and signs
with `SIGNWITH(CERTAUTH LABEL(...))`, so the authority must be created on that
same system (its RACF database).";

    RACF_NAME = "E0410", Error, "invalid RACF user ID or job name",
"RACF user IDs and z/OS job names are 1 to 8 characters: A-Z, 0-9, #, $ and @,
not starting with a digit.

Bad:
    user = NFSTESTUSER

Good:
    user = NFSTST";

    CERT_LABEL = "E0411", Error, "invalid certificate label or key ring name",
"RACF certificate labels are at most 32 characters; key ring names at most
237. Neither may contain characters that cannot be written into a RACDCERT
command or a PAGENT policy (control characters; key ring names also no
blanks).";

    DATASET_NAME = "E0412", Error, "invalid data set name",
"A data set name has qualifiers of 1 to 8 characters separated by periods, each
starting with A-Z, #, $ or @ and holding A-Z, 0-9, #, $, @ or -, at most 44
characters in all.

Bad:
    dataset(\"DNAPH.ZCX.1HAPROX6.CERTAUTH\")

Good:
    dataset(\"DNAPH.ZCX.HAPROX6.CERTAUTH\")";

    TLS_POLICY = "E0413", Error, "TLS settings the z/OS NFS server does not accept",
"The AT-TLS aware z/OS NFS server authenticates clients with their RACF
identity: HandshakeRole ServerWithClientAuth with ClientAuthType SAFCheck,
TLS 1.2 or newer, SSLv3/TLS 1.0/TLS 1.1 off. A profile that weakens any of
these is refused.

A profile's `ciphers` become TTLSCipherParms lines: each is a cipher
constant (the IANA name of a TLS 1.2 or 1.3 suite, written as
V3CipherSuites) or a 2- or 4-character code (V3CipherSuites and
V3CipherSuites4Char). Another name is refused, with the nearest known one
offered; a TLS 1.3 suite needs tls1_3 in the profile's versions, or it can
never be negotiated.

  tls_profile strong {
    versions = [tls1_2, tls1_3]
    ciphers  = [TLS_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, C02F]
  }";

    NFS_SECURITY = "E0414", Error, "NFS server security or version unsupported with AT-TLS",
"AT-TLS support in the z/OS NFS server (APAR OA62357) works with NFSv4 only and
with the security attribute `safexp`; IBM has not tested other settings.";

    PAGENT_NAME = "E0415", Error, "name cannot be written into a PAGENT policy",
"PAGENT statement names are 1 to 32 characters without blanks; tenantc uses
A-Z, a-z, 0-9 and _ . @ # $ -. A longer name or another character would make
the policy file invalid.";

    KEY_SIZE = "E0416", Error, "key too weak",
"RSA keys for the authority, the server and client certificates must be at
least 2048 bits.";

    SHARED_RACF = "E0417", Error, "RACF identity, certificate or data set shared",
"Each tenant authenticates to the NFS server as its own RACF user ID with its
own client certificate; two tenants with one user ID would read each other's
files. Two exports to one data set would overwrite each other.";

    DURATION_RANGE = "E0418", Error, "duration out of range",
"haproxy timeouts are at most 2147483647 ms (about 24.8 days); a longer value
makes haproxy refuse its configuration. An AT-TLS HandshakeTimeout is at most
600 seconds, and Kubernetes keeps probe timings in 32-bit seconds.

Bad:
    haproxy_profile slow { timeout_client = 30d }
    tls_profile strict { handshake_timeout = 15m }

Good:
    haproxy_profile slow { timeout_client = 24h }
    tls_profile strict { handshake_timeout = 60s }";

    HA_SERVER = "E0419", Error, "NFS server on several LPARs set up inconsistently",
"An NFS server with `standby = [...]` may be restarted on other LPARs. Its
AT-TLS policy is then written into every one of those LPARs' policy files,
identical, and tenantc checks that they agree. The proxies must reach it at an
address that moves with it: a dynamic VIPA of its own (`address`), not the
home system's address. It is declared once, on its home system: a second
declaration of the same job name on a standby LPAR would be a second, possibly
different, policy for the same server.

Bad:
    zos NP8 { nfs_server MVSNFS8 { standby = [NP9], ... } }   # no `address`

Good:
    zos NP8 { nfs_server MVSNFS8 { standby = [NP9], address = 10.1.1.20, ... } }";

    CERT_OUTLIVES_SIGNER = "E0428", Error, "certificate valid longer than the authority that signs it",
"Every certificate made on a z/OS system starts on the system's `valid_from`
and ends `valid_years` later (RACDCERT GENCERT NOTBEFORE/NOTAFTER). A server or
client certificate that ends after its authority cannot be verified in its
last years: the chain breaks when the authority expires, and renewing the
authority then means renewing everything at once. Authorities default to 10
years, server and client certificates to 2. `valid_from` is a date written as
YYYY-MM-DD; tenantc never reads the clock, so the dates in the jobs and in
`zos/<system>/certificates.json` are the same on every compile.

Bad:
    authority zcx_ca { valid_years = 2 ... }
    certificate { valid_years = 5, signed_by = zcx_ca ... }

Good:
    authority zcx_ca { valid_years = 10 ... }
    certificate { valid_years = 2, signed_by = zcx_ca ... }";

    CERT_DUE = "E0441", Warning, "certificate ends within the renewal window",
"With `--today DATE --renew-within DAYS` (check, compile and plan), every
certificate whose NOTAFTER falls within DAYS of DATE is reported. tenantc never
reads the clock: the date is a flag, so the same inputs give the same output.

A certificate is renewed by giving it a new label and its own dates in the
spec; `tenantc plan` then replaces it on the system: GENCERT makes the new
certificate as a fresh deployment would (signed by its authority), ROLLOVER
puts it in the old one's place in every key ring and retires the old private
key; it is exported again and the proxies roll:

    identity {
      label      = \"NFSTST Private Cert 2\"
      valid_from = \"2028-12-01\"
      ...
    }";

    WORKLOAD_WITHOUT_USER = "E0506", Warning, "workload without a user on plain Kubernetes",
"On plain Kubernetes every pod tenantc writes runs with `runAsNonRoot: true`
(the restricted Pod Security Standard). Without a `user`, the pod has no
`runAsUser`, and the kubelet checks the image: an image whose USER is root is
refused (\"container has runAsNonRoot and image will run as root\"), and one
whose USER is a name cannot be verified (\"image has non-numeric user\"); the
pod stays in CreateContainerConfigError. State the image's numeric UID.
OpenShift assigns a UID from the namespace's range and needs none.

Bad:
    cluster k8s1 { kind = kubernetes ... }
    workload web { image = \"nginx:1.27\" }

Good:
    workload web { image = \"nginxinc/nginx-unprivileged:1.27\", user = 101 }";

    NESTED_EXPORT = "E0429", Error, "one tenant's exports nest",
"The z/OS NFS server refuses an exports data set that names a directory and
a subdirectory of it: \"You cannot specify exporting a parent directory or a
subdirectory of an exported directory. For example, if you specify DIR1 in the
exports data set, DIR1 and all its subdirectories are exported.\" (z/OS NFS
Guide and Reference, \"Exports data set\"). Two volumes of one tenant whose
export paths nest would write such a pair. Export the enclosing directory
once; a workload that needs only a subdirectory mounts it with `subPath`.

Bad:
    volume all  { export = \"/hfs/nfs/a\" }
    volume logs { export = \"/hfs/nfs/a/logs\" }

Good:
    volume all  { export = \"/hfs/nfs/a\" }";

    SHARED_UID = "E0430", Error, "two RACF user IDs share a z/OS UNIX UID",
"Each tenant's exported directories are owned by its RACF user ID with mode
700, and the z/OS NFS server checks the owner UID and the mode bits against
the client's mapped user ID. Two user IDs with one UID are one owner to
z/OS UNIX: either could read and change the other's files. No two user IDs
of a site may share a `uid` (UID 0 excepted, for servers); one user ID stated
twice (a server on two LPARs) must state the same UID both times.

Bad:
    identity { user = NFSA, uid = 2001 ... }   # tenant a
    identity { user = NFSB, uid = 2001 ... }   # tenant b

Good:
    identity { user = NFSB, uid = 2002 ... }";

    TENANT_SUPERUSER = "E0431", Error, "a tenant's user ID with UID 0",
"A tenant's NFS traffic runs as its RACF user ID. With UID 0 it would be a
z/OS UNIX superuser, which passes every permission check: the owner and
mode 700 of the other tenants' directories would no longer keep it out.

Bad:
    identity { user = NFSA, uid = 0 ... }

Good:
    identity { user = NFSA, uid = 2001 ... }";

    OMVS_HOME = "E0432", Error, "home directory not an absolute z/OS UNIX path, or a system directory",
"The `home` of a user ID becomes HOME of its OMVS segment (ALTUSER OMVS(HOME)):
an absolute path of printable ASCII without blanks. The homes script gives the
directory to the user ID (chown, chmod 700) as a superuser, so it is not a
system directory: `/u` itself, or `/bin`, `/dev`, `/etc`, `/lib`, `/opt`,
`/samples`, `/SYSTEM`, `/tmp`, `/usr`, `/var` or a directory under one (a
server's started task may keep `/`, which the script never touches).

Bad:
    home = \"u/nfsa\"
    home = \"/etc\"

Good:
    home = \"/u/nfsa\"";

    JOB_NAME_COLLISION = "E0440", Error, "two generated RACF jobs would have the same job name",
"tenantc names the RACF jobs it generates for a system from the system's
`jcl.job_prefix` and a stable hash of the job's kind and object (authority,
server or tenant), so that a job keeps its name whatever other tenants are
added, removed or reordered. Two names that hash alike would be two batch jobs
with one name: JES delays the second until the first ends, and the spool can
no longer tell them apart. The names are never renamed silently; change one.

A shorter prefix leaves more characters to the hash (8 in all): `T` leaves 7,
`TNC` 5, a 5-character prefix only 3 (46,656 names).

Bad:
    zos SYS1 { jcl { job_prefix = TENAN } ... }   # thousands of tenants

Good:
    zos SYS1 { jcl { job_prefix = T } ... }";

    CLUSTER_IP_RANGE = "E0501", Error, "ClusterIP outside the service CIDR",
"A Service's static ClusterIP must lie inside the cluster's service network
(`service_cidr`), or the API server rejects the Service, and the PV that mounts
NFS through it never binds.";

    K8S_NAME = "E0502", Error, "invalid Kubernetes name",
"Namespaces, Services and container names are DNS-1123 labels: at most 63
characters, lower-case letters, digits and '-', starting and ending with a
letter or digit. Other objects are DNS-1123 subdomains (dots allowed, up to
253). Identifiers in the spec are turned into names by replacing '_' with '-';
the result must still be valid.

Bad:
    namespace = \"Fios_Prod\"

Good:
    namespace = \"fios-prod\"";

    OBJECT_COLLISION = "E0503", Error, "two declarations produce the same object",
"Two parts of the spec lower to the same Kubernetes object (same kind,
namespace and name) or the same bundle file. One would silently overwrite the
other, so the compiler refuses.";

    SHARED_NAMESPACE = "E0504", Error, "namespace shared between tenants or roles",
"A namespace belongs to exactly one tenant and one role (its workloads, or its
NFS proxy). Sharing it would let one tenant's pods mount another's volumes or
read its client certificate.";

    FOREIGN_REGISTRY = "E0505", Error, "registry of another cluster",
"Pull secrets are created in the tenant's cluster from its cluster's registry
declarations. A registry declared in another cluster is not set up there.

Bad:
    tenant t { cluster = ocp1, workload app { registry = ocp2.my_registry } }

Good:
    tenant t { cluster = ocp1, workload app { registry = ocp1.my_registry } }";

    OPENSHIFT_UID = "E0520", Error, "user or group set for a pod on OpenShift",
"On OpenShift the restricted-v2 security context constraint assigns each pod a
UID, GID and fsGroup from its namespace's range and rejects pods that ask for
others, so tenantc writes none there. `user` and `group` (runAsUser,
runAsGroup, fsGroup) are for plain Kubernetes clusters, where the image's
documented user must be named.

Bad:
    cluster ocp1 { kind = openshift }
    tenant t { cluster = ocp1, workload db { image = \"postgres:16.4\", user = 999 } }

Good:
    cluster k8s1 { kind = kubernetes }
    tenant t { cluster = k8s1, workload db { image = \"postgres:16.4\", user = 999 } }";

    REALM_PER_CLUSTER = "E0601", Error, "two realms of one FlashArray on one cluster",
"Portworx supports one Secure Multi-Tenancy realm per FlashArray per cluster:
a cluster's pure.json holds one entry per array, with one realm and one API
token. Two tenants on one cluster that use the same array would need two realms
there (or share one, which breaks their isolation).

Bad:
    tenant a { cluster = k8s1, pure { array = fa1, realm = \"a\", ... } }
    tenant b { cluster = k8s1, pure { array = fa1, realm = \"b\", ... } }

Good: put the second tenant on another cluster, or on another array.
    tenant b { cluster = k8s2, pure { array = fa1, realm = \"b\", ... } }";

    SHARED_REALM = "E0602", Error, "realm, policy or user shared between tenants",
"A realm is a tenant's isolation boundary on a FlashArray: its pods, volumes,
policy and user. Two tenants in one realm see and can delete each other's
volumes, so every realm of an array belongs to exactly one tenant. The same
holds for the access policy and the array user (whose API token Portworx
holds): each tenant has its own on each array.

Bad:
    tenant a { ..., pure { array = fa1, realm = \"customer1\", ... } }
    tenant b { ..., pure { array = fa1, realm = \"customer1\", ... } }

Good:
    tenant b { ..., pure { array = fa1, realm = \"customer2\", ... } }";

    POD_NOT_IN_REALM = "E0603", Error, "FlashArray pod outside the tenant's realm",
"Volumes are created in a FlashArray pod named by its short name: the FADA
StorageClass's `pure_fa_pod_name` and the StorageCluster's cloud drives
(`deviceSpecs: size=..,pod=..`). Portworx looks the name up inside the realm of
the cluster's API token, so the pod must be one of the realm's pods (the
tenant's `pods`), or provisioning fails with the pod not found.

Bad:
    pure { realm = \"customer1\", pods = [\"pod\"],
           storage_class fast { pod = \"pod2\" } }

Good:
    pure { realm = \"customer1\", pods = [\"pod\", \"pod2\"],
           storage_class fast { pod = \"pod2\" } }";

    VERSION_TOO_OLD = "E0604", Error, "Portworx or Purity too old for Secure Application Workspaces",
"Secure Application Workspaces (realm-scoped users and pods) need Portworx
3.2 or newer and Purity//FA 6.6.11 or newer. Older versions ignore the realm in
pure.json or cannot place volumes in a realm's pod.

Bad:
    flasharray fa1 { purity = \"6.5.3\", ... }
    portworx { version = \"3.1.6\", ... }

Good:
    flasharray fa1 { purity = \"6.6.11\", ... }
    portworx { version = \"3.2.0\", ... }";

    SAN_TYPE = "E0605", Error, "SAN type not usable for Secure Application Workspaces",
"Secure Application Workspaces attach FlashArray volumes over iSCSI, Fibre
Channel, NVMe-oF over RoCE or NVMe-oF over TCP (`san = iscsi | fc |
nvmeof_rdma | nvmeof_tcp`, emitted as PURE_FLASHARRAY_SAN_TYPE = ISCSI, FC,
NVMEOF-RDMA or NVMEOF-TCP). One StorageCluster has one SAN type, so all
arrays a cluster uses share it.

Bad:
    flasharray fa1 { san = iscsi, ... }
    flasharray fa2 { san = fc, ... }     # both used by tenants of one cluster

Good:
    flasharray fa1 { san = fc, ... }
    flasharray fa2 { san = fc, ... }";

    PURITY_NAME = "E0606", Error, "invalid Purity object name",
"Purity names realms, pods, policies and users with 1 to 63 letters, digits
and '-', starting and ending with a letter or digit and holding at least one
letter (Purity naming conventions). Names also travel through the setup
script's command lines, so nothing else is allowed.

Bad:
    realm = \"customer_1\"

Good:
    realm = \"customer-1\"";

    FADA_ACCESS = "E0607", Error, "FADA volume that is not ReadWriteOnce",
"FlashArray Direct Access volumes are block devices attached to one node:
they support ReadWriteOnce only, with no ReadWriteMany and no Portworx
replication. A claim from a FADA StorageClass with another access mode stays
Pending.

Bad:
    claim data { storage_class = pure.fada_pod_sc, access = read_write_many, ... }

Good:
    claim data { storage_class = pure.fada_pod_sc, access = read_write_once, ... }";

    PORTWORX_SETUP = "E0608", Error, "Portworx missing or not set up for FlashArray",
"A tenant with a Pure workspace needs Portworx on its cluster (`portworx { }`
in the cluster), with CSI enabled: FADA volumes are provisioned by the CSI
driver. A Portworx block needs at least one tenant with a Pure workspace on
its cluster, because its cloud drives live in that tenant's realm.

Bad:
    cluster k8s1 { kind = kubernetes }
    tenant t { cluster = k8s1, pure { ... } }

Good:
    cluster k8s1 { kind = kubernetes, portworx { version = \"3.2.0\", ... } }";

    AMBIGUOUS_ARRAY = "E0609", Error, "FlashArray or pod that Portworx cannot tell apart",
"Portworx finds an array by its management endpoint and a pod by its short
name. Two `flasharray` blocks with one endpoint are one array declared twice,
which would let two realms of one cluster, or two tenants' realms, slip past the
realm checks. A pod name that exists in the realms of two arrays used on one
cluster is ambiguous: Portworx may create a volume on either array, in another
tenant's realm.

Bad:
    tenant a { cluster = k8s1, pure { array = fa1, pods = [\"pod\"], ... } }
    tenant b { cluster = k8s1, pure { array = fa2, pods = [\"pod\"], ... } }

Good:
    tenant b { cluster = k8s1, pure { array = fa2, pods = [\"b-pod\"], ... } }";

    EXPORT_OVERLAP = "E0701", Error, "two tenants export the same or nested directories",
"Each tenant's NFS volumes are its own subtrees of the server's file system.
The z/OS NFS server checks the RACF user ID of the client certificate against
the files, not which tenant a directory was meant for: if tenant B exports
`/u/nfs/a/b` and tenant A exports `/u/nfs/a`, A's pods see and can change B's
files, and the two tenants' RACF users must both be granted the common files.

Paths are compared segment by segment on `/` boundaries (`/u/nfs/a` and
`/u/nfs/ab` do not overlap; `/u/nfs/a` and `/u/nfs/a/b` do). They overlap when
the servers can see one file system: the same server, whichever of its LPARs
(`standby`) it runs on, or servers that can run on a common LPAR.

Within one tenant, nested volumes are E0429: the z/OS NFS server does not
export a subdirectory of an exported directory.

Bad:
    tenant a { nfs { volume data { export = \"/hfs/nfs/a\" } } }
    tenant b { nfs { volume data { export = \"/hfs/nfs/a/b\" } } }

Good:
    tenant b { nfs { volume data { export = \"/hfs/nfs/b\" } } }";

    EXPORT_PATH = "E0702", Error, "export path that cannot be exported as written",
"An export path is judged by one rule. It is written into the z/OS NFS
server's exports data set, where the directory ends at a blank, `#` starts a
comment and `,` separates options, so it is absolute printable ASCII without
blanks, `#` or `,` (z/OS processing attributes go in `attributes`). And it is
in its normal form: segments separated by exactly one `/`, no trailing `/`, no
`.` or `..` segments. tenantc refuses other spellings instead of normalising
them: the path is passed to the NFS server as written (the PersistentVolume's
`nfs.path`), so what is compared for overlaps must be exactly what is
mounted, and a `..` could climb out of the subtree a reviewer reads.

The directory script gives an exported directory to its tenant's user ID
(chown, chmod 700) as a superuser, so its z/OS UNIX directory (the path
without the `/hfs` prefix) is not a system directory: the root, `/u` itself,
or `/bin`, `/dev`, `/etc`, `/lib`, `/opt`, `/samples`, `/SYSTEM`, `/tmp`,
`/usr`, `/var` or a directory under one.

Bad:
    export = \"/hfs/nfs/a/../b/\"
    export = \"/hfs/nfs/a,ro\"
    export = \"/hfs/etc\"

Good:
    export = \"/hfs/nfs/b\"";

    EXPOSE_PORT = "E0703", Error, "exposed port that the workload does not listen on",
"Every namespace tenantc creates denies ingress by default and admits traffic
only from its own namespace. A workload port that pods of other namespaces
(or clients outside the cluster) must reach is listed in `expose`, which opens
exactly those ports of that workload's pods with a NetworkPolicy. Each exposed
port must be one of the workload's `ports`, and is listed once.

Bad:
    workload web { ports = [8080], expose = [8443] }

Good:
    workload web { ports = [8080, 8443], expose = [8443] }";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_documented() {
        let mut seen = HashSet::new();
        for c in all() {
            assert!(seen.insert(c.code.as_str()), "duplicate code {}", c.code);
            assert!(c.code.as_str().len() == 5 && c.code.as_str().starts_with('E'));
            assert!(!c.summary.is_empty() && !c.explanation.is_empty());
        }
    }

    /// A retired code stays so that `explain` answers it, and names the
    /// codes that replaced it, each of them current.
    #[test]
    fn retired_codes_point_to_current_ones() {
        let retired: Vec<&CodeInfo> = all()
            .iter()
            .filter(|c| c.summary.starts_with("retired:"))
            .collect();
        assert_eq!(lookup("E0306").map(|c| c.code), Some(RETIRED_E0306));
        for c in retired {
            assert!(c.explanation.starts_with("Retired:"), "{}", c.code);
            let named: Vec<&str> = c
                .explanation
                .split(|ch: char| !ch.is_ascii_alphanumeric())
                .filter(|w| w.len() == 5 && w.starts_with('E') && *w != c.code.as_str())
                .collect();
            assert!(!named.is_empty(), "{} names no replacement", c.code);
            for n in named {
                let info = lookup(n).unwrap_or_else(|| panic!("{n} is not registered"));
                assert!(!info.summary.starts_with("retired:"), "{n} is retired too");
            }
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(lookup("e0401").map(|c| c.code), Some(DVIPA_NOT_COVERED));
        assert!(lookup("E9999").is_none());
    }
}
