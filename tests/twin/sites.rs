//! Sites for the day-2 properties: a model of a site's tenants, edited at
//! random (add, remove, move, rename, renew), written out as spec text.
//!
//! The infrastructure is fixed: one z/OS system with an authority and an NFS
//! server whose AT-TLS clients are the nodes of the clusters it serves, an
//! OpenShift cluster and a plain Kubernetes one, and a FlashArray per Pure
//! tenant (Portworx takes one realm per array and cluster). Tenants come and go; each has a stable
//! number from which its identities (RACF user, data set, addresses) derive,
//! so two tenants never collide, and a certificate generation that a renewal
//! raises (a new label and its own valid_from).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A deterministic generator (xorshift64*): the same seed, the same edits.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Stable: identities derive from it.
    pub id: u32,
    /// 0: the OpenShift cluster, 1: the Kubernetes one.
    pub cluster: usize,
    pub nfs: bool,
    pub pure: bool,
    /// Raised by each renewal of its client certificate.
    pub generation: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    /// By tenant name.
    pub tenants: BTreeMap<String, Tenant>,
    next: u32,
    /// Two NFS tenants that are never edited, one on each cluster, so the
    /// server's AT-TLS clients stay the same and most edits leave the
    /// infrastructure alone (a plan then lowers only the edited tenants).
    pub anchored: bool,
    /// No renewals among the edits.
    pub no_renewals: bool,
}

/// The anchors of an anchored model.
const ANCHORS: [(&str, Tenant); 2] = [
    (
        "anchor0",
        Tenant {
            id: 9000,
            cluster: 0,
            nfs: true,
            pure: false,
            generation: 0,
        },
    ),
    (
        "anchor1",
        Tenant {
            id: 9001,
            cluster: 1,
            nfs: true,
            pure: false,
            generation: 0,
        },
    ),
];

/// One edit of a site, as a deployer would make it.
#[derive(Debug, Clone)]
pub enum Edit {
    Add(String),
    Remove(String),
    Move(String),
    Rename(String, String),
    Renew(String),
}

impl Model {
    /// A model whose two anchors are never edited ([`Model::anchored`]).
    pub fn anchored() -> Model {
        Model {
            anchored: true,
            ..Model::default()
        }
    }

    /// Applies a random edit (an add when there is nothing to edit).
    pub fn edit(&mut self, rng: &mut Rng) -> Edit {
        let names: Vec<String> = self.tenants.keys().cloned().collect();
        let kinds = if self.no_renewals { 5 } else { 6 };
        let kind = if names.is_empty() {
            0
        } else {
            rng.below(kinds)
        };
        let pick = |rng: &mut Rng| names[rng.below(names.len())].clone();
        match kind {
            0 | 1 => {
                let id = self.next;
                self.next += 1;
                let name = format!("t{id}");
                let (nfs, pure) = match rng.below(3) {
                    0 => (true, false),
                    1 => (false, true),
                    _ => (true, true),
                };
                self.tenants.insert(
                    name.clone(),
                    Tenant {
                        id,
                        cluster: rng.below(2),
                        nfs,
                        pure,
                        generation: 0,
                    },
                );
                Edit::Add(name)
            }
            2 => {
                let name = pick(rng);
                self.tenants.remove(&name);
                Edit::Remove(name)
            }
            3 => {
                let name = pick(rng);
                if let Some(t) = self.tenants.get_mut(&name) {
                    t.cluster = 1 - t.cluster;
                }
                Edit::Move(name)
            }
            4 => {
                let name = pick(rng);
                let t = self.tenants.remove(&name).expect("picked");
                let new = format!("{name}r");
                self.tenants.insert(new.clone(), t);
                Edit::Rename(name, new)
            }
            _ => {
                let name = pick(rng);
                match self.tenants.get_mut(&name) {
                    Some(t) if t.nfs => {
                        t.generation += 1;
                        Edit::Renew(name)
                    }
                    _ => {
                        let id = self.next;
                        self.next += 1;
                        let name = format!("t{id}");
                        self.tenants.insert(
                            name.clone(),
                            Tenant {
                                id,
                                cluster: 0,
                                nfs: true,
                                pure: false,
                                generation: 0,
                            },
                        );
                        Edit::Add(name)
                    }
                }
            }
        }
    }

    /// The site as spec files: the infrastructure in `site.tenant`, each
    /// tenant in `tenants/t<id>.tenant` (its file keeps its number through
    /// renames).
    pub fn files(&self) -> Vec<(String, String)> {
        let mut out = vec![("site.tenant".to_string(), self.infra())];
        for (name, t) in self.all() {
            out.push((format!("tenants/t{}.tenant", t.id), tenant(name, t)));
        }
        out
    }

    /// The site as one spec file.
    pub fn spec(&self) -> String {
        let mut s = self.infra();
        for (name, t) in self.all() {
            s.push_str(&tenant(name, t));
        }
        s
    }

    /// The tenants, anchors included.
    fn all(&self) -> Vec<(&str, &Tenant)> {
        let anchors = ANCHORS
            .iter()
            .filter(|_| self.anchored)
            .map(|(n, t)| (*n, t));
        anchors
            .chain(self.tenants.iter().map(|(n, t)| (n.as_str(), t)))
            .collect()
    }

    fn infra(&self) -> String {
        // The AT-TLS clients: the nodes of the clusters with NFS tenants.
        let mut clients: Vec<&str> = Vec::new();
        for (c, (_, _, _, nodes)) in CLUSTERS.iter().enumerate() {
            if self.all().iter().any(|(_, t)| t.nfs && t.cluster == c) {
                clients.extend(nodes);
            }
        }
        if clients.is_empty() {
            clients.extend(CLUSTERS[0].3);
        }
        let mut s = INFRA.replace("CLIENTS", &clients.join(", "));
        // One realm per array per cluster (Portworx): an array per tenant.
        for t in self.tenants.values().filter(|t| t.pure) {
            let _ = writeln!(
                s,
                "flasharray fa{0} {{\n  endpoint = \"fa{0}.mgmt.example.com\"\n  purity   = \"6.7.2\"\n  san      = fc\n}}\n",
                t.id
            );
        }
        for (c, (name, kind, cidr, nodes)) in CLUSTERS.iter().enumerate() {
            let _ = writeln!(
                s,
                "cluster {name} {{\n  kind         = {kind}\n  service_cidr = {cidr}\n\n  registry images {{\n    server      = \"registry.example.com\"\n    credentials = env(\"REGISTRY_{}\")\n  }}\n",
                name.to_ascii_uppercase()
            );
            // Plain Kubernetes names its API servers' network (E0336).
            if *kind == "kubernetes" {
                s.push_str("  control_plane = [10.0.0.0/24]\n");
            }
            for (i, ip) in nodes.iter().enumerate() {
                let _ = writeln!(s, "  node w{i} {{ dvipa = {ip} }}");
            }
            let drives: Vec<String> = self
                .tenants
                .values()
                .filter(|t| t.pure && t.cluster == c)
                .map(|t| format!("\"r{}-drives\"", t.id))
                .collect();
            if !drives.is_empty() {
                let _ = writeln!(
                    s,
                    "\n  portworx {{\n    version          = \"3.2.1\"\n    device_size      = 100Gi\n    kvdb_device_size = 32Gi\n    pods             = [{}]\n  }}",
                    drives.join(", ")
                );
            }
            s.push_str("}\n\n");
        }
        s
    }
}

const CLUSTERS: [(&str, &str, &str, [&str; 2]); 2] = [
    (
        "ocp",
        "openshift",
        "172.30.0.0/16",
        ["10.1.1.1", "10.1.1.2"],
    ),
    (
        "k8s",
        "kubernetes",
        "10.96.0.0/16",
        ["10.1.2.1", "10.1.2.2"],
    ),
];

const INFRA: &str = r#"import "std/profiles"

zos SYS1 {
  address    = 10.1.0.9
  valid_from = "2027-01-04"

  jcl { job_prefix = TWN }

  authority ca {
    label   = "TWIN CA"
    subject = { CN = "TWIN CA" }
    export  = dataset("TWIN.CA.CERTB64", format = certb64)
  }

  nfs_server NFS1 {
    keyring = TWIN-RING
    uid     = 900
    clients = [CLIENTS]

    certificate {
      label     = "NFS1 Server"
      subject   = { CN = "nfs1.sys1" }
      signed_by = ca
    }
  }
}

"#;

fn tenant(name: &str, t: &Tenant) -> String {
    let id = t.id;
    let (cluster, _, _, _) = CLUSTERS[t.cluster];
    let uid = 1000 + id;
    let mut s = format!("tenant {name} {{\n  cluster = {cluster}\n");
    if t.nfs {
        let ip = match t.cluster {
            0 => format!("172.30.{}.{}", 1 + id / 200, 10 + id % 200),
            _ => format!("10.96.{}.{}", 1 + id / 200, 10 + id % 200),
        };
        let (label, from) = match t.generation {
            0 => (format!("T{id} Client"), String::new()),
            g => (
                format!("T{id} Client {g}"),
                format!("\n      valid_from = \"{}-06-01\"", 2027 + g),
            ),
        };
        let _ = write!(
            s,
            r#"
  nfs {{
    server = SYS1.NFS1

    identity {{
      user   = TNT{id:04}
      uid    = {uid}
      label  = "{label}"{from}
      export = dataset("TWIN.T{id}.P12", format = pkcs12der,
                       password = env("T{id}_P12_PASSWORD"))
    }}

    proxy {{
      cluster_ip = {ip}
      image      = "registry.example.com/haproxy:2.8"
      registry   = {cluster}.images
    }}

    volume data {{
      export = "/hfs/twin/t{id}"
      size   = 1Gi
    }}
  }}
"#
        );
    }
    if t.pure {
        let _ = write!(
            s,
            r#"
  pure {{
    array  = fa{id}
    realm  = r{id}
    pods   = ["r{id}-drives"]
    policy = p{id}
    user   = u{id}
    token  = env("T{id}_PURE_TOKEN")

    storage_class s{id} {{
      pod = "r{id}-drives"
    }}
  }}
"#
        );
    }
    let _ = write!(
        s,
        "\n  workload app {{\n    image = \"registry.example.com/app:1\"\n"
    );
    // OpenShift assigns the UID; plain Kubernetes needs one.
    if t.cluster == 1 {
        s.push_str("    user  = 1000\n");
    }
    if t.nfs {
        s.push_str("    mount { volume = nfs.data, path = \"/data\" }\n");
    }
    if t.pure {
        let _ = write!(s, "    claim scratch {{\n      storage_class = pure.s{id}\n      size          = 1Gi\n      path          = \"/scratch\"\n    }}\n");
    }
    s.push_str("  }\n}\n\n");
    s
}
