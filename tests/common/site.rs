//! A generated site for the golden-file tests: a site file with one z/OS
//! system, two clusters (one with Portworx on a FlashArray) and an anchor
//! tenant that holds the cloud drives' pod, and N tenants of three kinds
//! (NFS on ocp0; Pure on ocp1, with a FlashArray of its own declared beside it;
//! NFS and a workload on ocp1), spread either one
//! file per tenant or many tenants per file. Every name a tenant declares
//! holds its id (`t00042`), and nothing in the site file lists tenants, so a
//! single-tenant edit, addition, removal or move touches one tenant's text.
//! (The same scenario as bench/gensite.py, smaller and in-process.)

use std::collections::BTreeMap;

const SITE: &str = r#"zos SYS0 {
  address = 10.99.0.1
  authority ca {
    label   = "Site CA"
    subject = { CN = "Site CA", O = "Golden" }
    export  = dataset("SYS0.SITE.CA", format = certb64)
  }
  nfs_server NFS0 {
    keyring = NFS-RING
    clients = [10.100.0.1, 10.100.0.2, 10.100.1.1, 10.100.1.2]
    certificate { label = "NFS Server", subject = { CN = "nfs0.example.com" }, signed_by = ca }
  }
}

cluster ocp0 {
  kind         = openshift
  service_cidr = 172.30.0.0/16
  node w0 { dvipa = 10.100.0.1 }
  node w1 { dvipa = 10.100.0.2 }
  registry quay { server = "quay.example.com", credentials = env("QUAY_DOCKERCONFIGJSON") }
}

cluster ocp1 {
  kind         = openshift
  service_cidr = 172.30.0.0/16
  node w0 { dvipa = 10.100.1.1 }
  node w1 { dvipa = 10.100.1.2 }
  registry quay { server = "quay.example.com", credentials = env("QUAY_DOCKERCONFIGJSON") }
  portworx { version = "3.2.0", device_size = 50Gi, pods = ["anchor-drives"] }
}

flasharray fa0 { endpoint = "fa0.example.com", purity = "6.6.11", san = iscsi }

tenant anchor {
  cluster = ocp1
  pure {
    array  = fa0
    realm  = anchor
    pods   = ["anchor-drives"]
    policy = anchor-px
    user   = anchor-px
    token  = env("ANCHOR_PURE_TOKEN")
  }
}
"#;

/// One generated tenant's text; `rev` is what an edit bumps.
pub fn tenant(id: usize, rev: usize) -> String {
    let n = format!("t{id:05}");
    let ip = format!("172.30.{}.{}", id / 250 + 10, id % 250 + 2);
    let nfs = |cluster: &str| {
        format!(
            r#"  cluster = {cluster}
  nfs {{
    server = SYS0.NFS0
    identity {{
      user   = U{id:07}
      label  = "T{id:05} client"
      export = dataset("SYS0.T{id:05}.P12", format = pkcs12der, password = env("T{id:05}_P12"))
    }}
    proxy {{ cluster_ip = {ip}, registry = {cluster}.quay }}
    volume data {{ export = "/hfs/tenants/{n}", size = 2Gi }}
  }}
"#
        )
    };
    let body = match id % 3 {
        0 => format!(
            "{}  workload app {{\n    image = \"quay.example.com/{n}/app:{rev}\"\n    registry = ocp0.quay\n    mount {{ volume = nfs.data, path = \"/data\" }}\n  }}\n",
            nfs("ocp0")
        ),
        1 => format!(
            r#"  cluster = ocp1
  pure {{
    array  = fa_{n}
    realm  = {n}
    pods   = ["{n}-db"]
    policy = {n}-px
    user   = {n}-px
    token  = env("T{id:05}_PURE_TOKEN")
    storage_class {n}_db {{ pod = "{n}-db" }}
  }}
  workload db {{
    image = "postgres:16.{rev}"
    env   = {{ TENANT = "{n}" }}
    claim data {{ storage_class = pure.{n}_db, size = 10Gi, path = "/db" }}
  }}
"#
        ),
        _ => format!(
            "{}  workload app {{\n    image = \"quay.example.com/{n}/app:{rev}\"\n    registry = ocp1.quay\n    env = {{ TENANT = \"{n}\" }}\n    mount {{ volume = nfs.data, path = \"/data\" }}\n  }}\n",
            nfs("ocp1")
        ),
    };
    // A Pure tenant brings its array (one realm per array per cluster).
    let array = if id % 3 == 1 {
        format!("flasharray fa_{n} {{ endpoint = \"fa-{n}.example.com\", purity = \"6.6.11\", san = iscsi }}\n\n")
    } else {
        String::new()
    };
    format!("{array}tenant {n} {{\n{body}}}\n")
}

/// The site: which tenants, in which file, in which order.
#[derive(Debug, Clone)]
pub struct GenSite {
    /// File name (under `tenants/`) to its tenants (id, rev), in order.
    pub files: BTreeMap<String, Vec<(usize, usize)>>,
    pub next_id: usize,
}

impl GenSite {
    /// `n` tenants, `per_file` to a file (1: a file per tenant).
    pub fn new(n: usize, per_file: usize) -> GenSite {
        let mut files = BTreeMap::new();
        for id in 0..n {
            let name = if per_file == 1 {
                format!("t{id:05}.tenant")
            } else {
                format!("g{:03}.tenant", id / per_file)
            };
            files.entry(name).or_insert_with(Vec::new).push((id, 0));
        }
        GenSite { files, next_id: n }
    }

    pub fn name(id: usize) -> String {
        format!("t{id:05}")
    }

    pub fn ids(&self) -> Vec<usize> {
        self.files.values().flatten().map(|(id, _)| *id).collect()
    }

    /// The spec files, by path relative to the site directory.
    pub fn texts(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::from([("site.tenant".to_string(), SITE.to_string())]);
        for (f, tenants) in &self.files {
            let text: Vec<String> = tenants.iter().map(|(id, rev)| tenant(*id, *rev)).collect();
            out.insert(format!("tenants/{f}"), text.join("\n"));
        }
        out
    }

    /// Writes the site into `dir`, replacing what a previous write left.
    pub fn write(&self, dir: &camino::Utf8Path) {
        let _ = std::fs::remove_dir_all(dir.join("tenants"));
        std::fs::create_dir_all(dir.join("tenants")).expect("mkdir");
        for (path, text) in self.texts() {
            std::fs::write(dir.join(path), text).expect("write spec");
        }
    }
}
