//! `tenantc graph`: the site's topology as Graphviz DOT, for reviewers.
//!
//! z/OS NFS: tenant -> namespace -> proxy (Service ClusterIP) -> compute nodes
//! (DVIPAs) -> NFS server (ports). Pure: tenant -> realm -> pods -> FADA
//! storage classes, and the cluster's Portworx cloud drives -> their pod.
//! Clusters, z/OS systems and FlashArrays are drawn as boxes around their
//! parts. The text is deterministic: declaration order throughout.

use crate::ir::*;
use std::fmt::Write;

/// A DOT string literal.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Dot {
    text: String,
    /// Edges already drawn: many tenants share a node-to-server path.
    edges: std::collections::BTreeSet<(String, String)>,
}

impl Dot {
    fn node(&mut self, indent: &str, id: &str, label: &str, attrs: &str) {
        let _ = writeln!(self.text, "{indent}{} [label={}{attrs}];", q(id), q(label));
    }
    fn edge(&mut self, from: &str, to: &str, label: Option<&str>) {
        if !self.edges.insert((from.to_string(), to.to_string())) {
            return;
        }
        match label {
            Some(l) => {
                let _ = writeln!(self.text, "  {} -> {} [label={}];", q(from), q(to), q(l));
            }
            None => {
                let _ = writeln!(self.text, "  {} -> {};", q(from), q(to));
            }
        }
    }
    fn open(&mut self, id: &str, label: &str) {
        let _ = writeln!(
            self.text,
            "  subgraph {} {{\n    label={};\n    style=rounded;",
            q(&format!("cluster_{id}")),
            q(label)
        );
    }
    fn close(&mut self) {
        self.text.push_str("  }\n");
    }
}

pub fn dot(site: &Site) -> String {
    let mut d = Dot {
        text: String::from(
            "digraph site {\n  rankdir=LR;\n  fontname=\"Helvetica\";\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        ),
        edges: std::collections::BTreeSet::new(),
    };
    // Tenants first, in a column of their own.
    for t in &site.tenants {
        d.node(
            "  ",
            &format!("tenant/{}", t.name.value),
            &format!("tenant {}", t.name.value),
            ", shape=box, style=\"bold,rounded\"",
        );
    }
    for (ci, c) in site.clusters.iter().enumerate() {
        let cid = ClusterId(ci);
        let cn = &c.name.value;
        d.open(
            &format!("k8s/{cn}"),
            &format!("cluster {cn} ({})", kind(c.kind.value)),
        );
        for t in site.tenants.iter().filter(|t| t.cluster.value == cid) {
            d.node(
                "    ",
                &format!("ns/{cn}/{}", t.namespace.value),
                &format!("namespace {}", t.namespace.value),
                ", shape=folder",
            );
            if let Some(nfs) = &t.nfs {
                let p = &nfs.proxy;
                d.node(
                    "    ",
                    &format!("proxy/{cn}/{}", p.namespace.value),
                    &format!(
                        "haproxy in {}\nService {} {}\nports {}",
                        p.namespace.value, p.service.value, p.cluster_ip.value, p.ports.value
                    ),
                    "",
                );
            }
            if let Some(pure) = &t.pure {
                for class in &pure.classes {
                    d.node(
                        "    ",
                        &format!("sc/{cn}/{}", k8s_name(&class.name.value)),
                        &format!("StorageClass {}\n(FADA)", k8s_name(&class.name.value)),
                        ", shape=cylinder",
                    );
                }
            }
        }
        for n in &c.nodes {
            d.node(
                "    ",
                &format!("node/{cn}/{}", n.name.value),
                &format!("node {}\nDVIPA {}", n.name.value, n.dvipa.value),
                ", shape=box3d",
            );
        }
        if let Some(px) = &c.portworx {
            d.node(
                "    ",
                &format!("px/{cn}"),
                &format!(
                    "Portworx {} ({})\ncloud drives {}",
                    px.version.value.text, px.namespace.value, px.device_size.value.text
                ),
                "",
            );
        }
        d.close();
    }
    for sys in &site.systems {
        let sn = &sys.name.value;
        d.open(
            &format!("zos/{sn}"),
            &format!("z/OS {sn} ({})", sys.address.value),
        );
        for s in &sys.servers {
            d.node(
                "    ",
                &format!("nfs/{sn}/{}", s.name.value),
                &format!(
                    "NFS server {}\nAT-TLS ports {}\nkey ring {}\naddress {}",
                    s.jobname.value, s.ports.value, s.keyring.value, s.address.value
                ),
                ", shape=component",
            );
        }
        // Servers of other systems that may be restarted here.
        for sid in site.server_ids() {
            let s = site.server(sid);
            if s.standby
                .iter()
                .any(|x| site.system(x.value).name.value == *sn)
            {
                d.node(
                    "    ",
                    &format!("standby/{sn}/{}", s.name.value),
                    &format!(
                        "standby for NFS server {}\n(same AT-TLS policy)",
                        s.jobname.value
                    ),
                    ", shape=component, style=dashed",
                );
            }
        }
        d.close();
    }
    for a in &site.arrays {
        let an = &a.name.value;
        d.open(
            &format!("fa/{an}"),
            &format!(
                "FlashArray {an} ({}, Purity {}, {})",
                a.endpoint.value,
                a.purity.value.text,
                a.san.value.portworx()
            ),
        );
        for (_, p) in site
            .pure_tenants()
            .filter(|(_, p)| site.array(p.array.value).name.value == *an)
        {
            let realm = format!("realm/{an}/{}", p.realm.value);
            d.node(
                "    ",
                &realm,
                &format!(
                    "realm {}\npolicy {}, user {}",
                    p.realm.value, p.policy.value, p.user.value
                ),
                ", shape=tab",
            );
            for pod in p.pods.iter() {
                d.node(
                    "    ",
                    &format!("pod/{an}/{}::{}", p.realm.value, pod.value),
                    &format!("pod {}::{}", p.realm.value, pod.value),
                    ", shape=cylinder",
                );
            }
        }
        d.close();
    }

    // Edges.
    for sid in site.server_ids() {
        let s = site.server(sid);
        for sb in &s.standby {
            let home = &site.system(sid.0).name.value;
            let other = &site.system(sb.value).name.value;
            d.edge(
                &format!("nfs/{home}/{}", s.name.value),
                &format!("standby/{other}/{}", s.name.value),
                Some("may move"),
            );
        }
    }
    for t in &site.tenants {
        let c = site.cluster(t.cluster.value);
        let cn = &c.name.value;
        let tid = format!("tenant/{}", t.name.value);
        d.edge(&tid, &format!("ns/{cn}/{}", t.namespace.value), None);
        if let Some(nfs) = &t.nfs {
            let proxy = format!("proxy/{cn}/{}", nfs.proxy.namespace.value);
            d.edge(&tid, &proxy, Some("NFS"));
            let sid = nfs.server.value;
            let server = format!(
                "nfs/{}/{}",
                site.system(sid.0).name.value,
                site.server(sid).name.value
            );
            for n in &c.nodes {
                let node = format!("node/{cn}/{}", n.name.value);
                d.edge(&proxy, &node, None);
                d.edge(
                    &node,
                    &server,
                    Some(&format!("TLS {}", nfs.proxy.ports.value)),
                );
            }
        }
        if let Some(p) = &t.pure {
            let an = &site.array(p.array.value).name.value;
            let realm = format!("realm/{an}/{}", p.realm.value);
            d.edge(&tid, &realm, Some("Pure"));
            for pod in p.pods.iter() {
                d.edge(
                    &realm,
                    &format!("pod/{an}/{}::{}", p.realm.value, pod.value),
                    None,
                );
            }
            for class in &p.classes {
                d.edge(
                    &format!("pod/{an}/{}::{}", p.realm.value, class.pod.value),
                    &format!("sc/{cn}/{}", k8s_name(&class.name.value)),
                    None,
                );
            }
            if let Some(px) = &c.portworx {
                for pod in px
                    .pods
                    .iter()
                    .filter(|x| p.pods.iter().any(|y| y.value == x.value))
                {
                    d.edge(
                        &format!("px/{cn}"),
                        &format!("pod/{an}/{}::{}", p.realm.value, pod.value),
                        Some("cloud drives"),
                    );
                }
            }
        }
    }
    d.text.push_str("}\n");
    d.text
}

fn kind(k: ClusterKind) -> &'static str {
    match k {
        ClusterKind::Openshift => "OpenShift",
        ClusterKind::Kubernetes => "Kubernetes",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dot_strings_are_escaped() {
        assert_eq!(super::q("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
