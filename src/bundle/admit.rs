//! What a deployed inventory may say. `tenantc plan` writes the names of a
//! deployed bundle's objects into JCL (`DELUSER`, `RACDCERT ... DELETE`),
//! scripts, exports files, paths and CHANGE.md, and a committed bundle is
//! untrusted input like a spec: a name with a line break, a blank or a
//! parenthesis where the target spells none would add a JCL card, a RACF
//! operand or an export line nobody wrote. So every key, owner and field of
//! a deployed object is judged here, by the same rules the checks apply to
//! the spec values it was lowered from ([`crate::rules`]), before any stage
//! reads it; an inventory that fails is not one tenantc wrote, and the plan
//! refuses it whole (exit 2) without quoting it back.

use super::inventory::Entry;
use crate::rules::{
    cert_label_ok, dns_label_ok, dns_subdomain_ok, export_path, export_path_not_normal, keyring_ok,
    pagent_name_ok, purity_name_ok, racf_name_ok, reserved_namespace,
};

/// A name the grammar reads as an identifier (`grammar/tenant.pest`,
/// `ident`): a system, cluster, array, tenant, server or authority name.
pub fn ident_ok(s: &str) -> bool {
    let mut cs = s.chars();
    (1..=255).contains(&s.len())
        && cs
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || "_$@".contains(c))
        && cs.all(|c| c.is_ascii_alphanumeric() || "_-$#@".contains(c))
}

/// A RACF general resource profile as the bundle writes it, unquoted, in
/// `RDEFINE`, `PERMIT` and `RDELETE` (`EZB.INITSTACK.<sys>.<stack>`,
/// `<owner>.<ring>.LST`, ...): no blank, parenthesis, comma, quote or
/// semicolon, which would end or add an operand.
/// https://www.ibm.com/docs/en/zos/3.1.0?topic=syntax-permit-maintain-resource-access-lists
fn profile_ok(s: &str) -> bool {
    (1..=246).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@#$._*%&-".contains(c))
}

/// A certificate's name in an inventory: `CERTAUTH/<label>` or
/// `<USERID>/<label>`.
fn certificate_ok(s: &str) -> bool {
    s.split_once('/')
        .is_some_and(|(o, label)| (o == "CERTAUTH" || racf_name_ok(o)) && cert_label_ok(label))
}

/// The Kubernetes kinds the bundle creates, and so the only ones a plan
/// deletes (`tests/twin.rs::every_inventory_the_compiler_writes_is_admitted`
/// holds every example's objects to it). A forged `ClusterRoleBinding` or
/// `CustomResourceDefinition` is never deleted by name.
pub const KUBERNETES_KINDS: [&str; 15] = [
    "ConfigMap",
    "Deployment",
    "MachineConfig",
    "Namespace",
    "NetworkPolicy",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ResourceQuota",
    "Secret",
    "Service",
    "StatefulSet",
    "StorageClass",
    "StorageCluster",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

/// A bundle file's path: relative, of segments a bundle writes (no `.` or
/// `..`, no blank or shell or Markdown syntax).
fn bundle_path_ok(s: &str) -> bool {
    (1..=1024).contains(&s.len())
        && s.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-@#$".contains(c))
        })
}

/// An object's key: its target, kind and name, each as the target spells it.
pub fn key(target: &str, kind: &str, name: &str) -> Result<(), &'static str> {
    let (system, of) = target
        .split_once('/')
        .ok_or("a target is not `<kind>/<name>`")?;
    if !ident_ok(of) {
        return Err("a target's name is not an identifier");
    }
    let ok = match (system, kind) {
        ("zos", "racf-user") => racf_name_ok(name),
        ("zos", "certificate") => certificate_ok(name),
        ("zos", "keyring") => name
            .split_once('/')
            .is_some_and(|(u, ring)| racf_name_ok(u) && keyring_ok(ring)),
        ("zos", "ring-connection") => {
            let mut parts = name.splitn(3, '/');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(u), Some(ring), Some(cert)) => {
                    racf_name_ok(u) && keyring_ok(ring) && certificate_ok(cert)
                }
                _ => false,
            }
        }
        ("zos", "profile") => name
            .split_once(' ')
            .is_some_and(|(class, p)| racf_name_ok(class) && profile_ok(p)),
        ("zos", "permit") => {
            let mut parts = name.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(class), Some(p), Some(user)) => {
                    racf_name_ok(class) && profile_ok(p) && racf_name_ok(user)
                }
                _ => false,
            }
        }
        ("zos", "export") => name
            .split_once(' ')
            .is_some_and(|(job, path)| racf_name_ok(job) && export_path(path).is_ok()),
        // A home or an exported directory: absolute, in normal form, printable
        // ASCII without blanks; never a system directory (a plan may remove
        // it with `rm -r`), as the checks refuse one in a spec.
        ("zos", "directory") => {
            crate::rules::system_directory(name).is_none()
                && export_path_not_normal(name).is_none()
                && name.is_ascii()
                && !name.chars().any(|c| c.is_control() || c.is_whitespace())
        }
        ("zos", "attls-rule") => pagent_name_ok(name),
        ("array", "realm" | "policy" | "user" | "api-token") => purity_name_ok(name),
        ("array", "pod") => name
            .split_once("::")
            .is_some_and(|(realm, pod)| purity_name_ok(realm) && purity_name_ok(pod)),
        // Never in, or of, a namespace the cluster keeps for itself, which
        // the checks refuse a tenant.
        ("cluster", kind) if KUBERNETES_KINDS.contains(&kind) => match name.split_once('/') {
            Some((ns, n)) => dns_label_ok(ns) && !reserved_namespace(ns) && dns_subdomain_ok(n),
            None => dns_subdomain_ok(name) && !(kind == "Namespace" && reserved_namespace(name)),
        },
        ("zos" | "array" | "cluster", _) => return Err("an object of a kind tenantc never writes"),
        _ => return Err("a target that is not a z/OS system, an array or a cluster"),
    };
    if ok {
        Ok(())
    } else {
        Err("an object's name is not one its target system can spell")
    }
}

/// A tenant's name, as an owner or an input line names it.
pub fn tenant(name: &str) -> Result<(), &'static str> {
    if ident_ok(name) {
        Ok(())
    } else {
        Err("a tenant's name is not an identifier")
    }
}

/// A parsed object line: its key, owners and every field a plan reads.
pub fn entry(e: &Entry) -> Result<(), &'static str> {
    key(&e.key.target, &e.key.kind, &e.key.name)?;
    for o in &e.owners {
        tenant(o)?;
    }
    if !bundle_path_ok(&e.file) {
        return Err("an object's file is not a path in a bundle");
    }
    let hex = |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !hex(&e.digest) {
        return Err("an object's digest is not a sha256 in hex");
    }
    if let Some(role) = &e.role {
        let ok = role.split_once(':').is_some_and(|(what, name)| {
            matches!(what, "authority" | "server" | "client") && ident_ok(name)
        });
        if !ok || e.key.kind != "certificate" {
            return Err("a certificate's role is not `authority:`, `server:` or `client:` a name");
        }
        // An authority's certificate is a CERTAUTH one, a server's and a
        // client's a user ID's; a client's serves its tenant alone.
        let authority = e.key.name.starts_with("CERTAUTH/");
        let fits = match role.split_once(':') {
            Some(("authority", _)) => authority,
            Some(("server", _)) => !authority,
            Some(("client", t)) => !authority && e.owners.len() == 1 && e.owners[0] == t,
            _ => false,
        };
        if !fits {
            return Err("a certificate's role does not fit its owner or its tenants");
        }
    }
    if e.signer.as_deref().is_some_and(|s| !certificate_ok(s)) {
        return Err("a certificate's signer is not a certificate's name");
    }
    let date = |d: &str| {
        let b = d.as_bytes();
        b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    for d in [&e.not_before, &e.not_after].into_iter().flatten() {
        if !date(d) {
            return Err("a certificate's date is not yyyy-mm-dd");
        }
    }
    if let Some(text) = &e.text {
        // The export line `lower::zos::export_line` writes, for this
        // object's path: `<path> -access=<address>|...[,ro]`.
        let path = e.key.name.split_once(' ').map(|(_, p)| p);
        let ok = e.key.kind == "export"
            && text
                .strip_prefix(path.unwrap_or("\u{0}"))
                .and_then(|rest| rest.strip_prefix(" -access="))
                .is_some_and(|rest| {
                    let rest = rest.strip_suffix(",ro").unwrap_or(rest);
                    !rest.is_empty()
                        && rest
                            .split('|')
                            .all(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
                });
        if !ok {
            return Err("an export's line is not the line tenantc writes for its path");
        }
    }
    if e.key.kind == "attls-rule" {
        // Its policy file is one of its own system's: a plan writes that
        // path, emptied, when the server is gone.
        let system = e.key.target.strip_prefix("zos/").unwrap_or_default();
        let ok = e
            .file
            .strip_prefix(&format!("zos/{system}/pagent/"))
            .and_then(|f| f.strip_suffix(".policy"))
            .is_some_and(|n| !n.is_empty() && !n.contains('/'));
        if !ok {
            return Err("an AT-TLS rule's file is not a policy file of its system");
        }
    }
    if e.key.kind == "export" {
        // Its exports file is the one of its own system and server.
        let (system, job) = (
            e.key.target.strip_prefix("zos/").unwrap_or_default(),
            e.key.name.split_once(' ').map_or("", |(j, _)| j),
        );
        if e.file != format!("zos/{system}/nfs/{job}.exports") {
            return Err("an export's file is not its server's exports file");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::inventory::Key;

    fn entry_of(target: &str, kind: &str, name: &str) -> Entry {
        Entry::new(
            Key::new(target, kind, name),
            [&"fios".to_string()],
            "zos/NP8/jcl/0-users-NP8.jcl",
            "0".repeat(64),
        )
    }

    #[test]
    fn what_tenantc_writes_is_admitted() {
        for (t, k, n) in [
            ("zos/NP8", "racf-user", "NFSTST"),
            ("zos/NP8", "certificate", "NFSTST/NFSTST Private Cert"),
            ("zos/NP8", "certificate", "CERTAUTH/CA Cert for zCX HAPROXY"),
            ("zos/NP8", "keyring", "MVSNFS8/ZCX-HAPROXY-RING"),
            (
                "zos/NP8",
                "ring-connection",
                "MVSNFS8/ZCX-HAPROXY-RING/CERTAUTH/CA x",
            ),
            ("zos/NP8", "profile", "SERVAUTH EZB.INITSTACK.NP8.TCPIP"),
            (
                "zos/NP8",
                "permit",
                "SERVAUTH EZB.INITSTACK.NP8.TCPIP PAGENT",
            ),
            ("zos/NP8", "export", "MVSNFS8 /hfs/oc4z/nfs/x"),
            ("zos/NP8", "directory", "/u/nfstst"),
            ("zos/NP8", "directory", "/u/nfs#1"),
            ("zos/NP8", "attls-rule", "MVSNFS8_rule"),
            ("array/fa1", "pod", "analytics::analytics-drives"),
            ("array/fa1", "api-token", "analytics-px"),
            ("cluster/ocp1", "Deployment", "haproxy/haproxy"),
            ("cluster/ocp1", "MachineConfig", "99-worker-pure-multipath"),
        ] {
            assert_eq!(key(t, k, n), Ok(()), "{t} {k} {n}");
        }
    }

    #[test]
    fn names_that_break_out_of_their_format_are_refused() {
        for (t, k, n) in [
            ("zos/NP8", "racf-user", "EVIL\n//STEP2 EXEC PGM=IEFBR14"),
            ("zos/NP8", "racf-user", "A B"),
            ("zos/NP8", "permit", "FACILITY BPX.SUPERUSER) ALTER ID(EVIL"),
            ("zos/NP8", "profile", "FACILITY A B"),
            ("zos/NP8", "keyring", "U/R) ADDRING(X"),
            ("zos/NP8", "certificate", "U/label /* comment"),
            ("zos/NP8", "export", "MVSNFS8 /hfs/a -rw"),
            ("zos/NP8", "directory", "/"),
            ("zos/NP8", "directory", "/u/../etc"),
            ("zos/NP8", "directory", "/u/a b"),
            ("zos/NP8", "directory", "/etc"),
            ("zos/NP8", "directory", "/usr/lib"),
            ("zos/NP8", "attls-rule", "a rule"),
            ("zos/NP8", "dataset", "A.B"),
            ("zos/../../x", "racf-user", "A"),
            ("zos", "racf-user", "A"),
            ("host/x", "racf-user", "A"),
            ("array/fa1", "pod", "r::p;rm"),
            ("cluster/ocp1", "Deployment", "ns/name\n---"),
            ("cluster/ocp1", "deployment", "ns/name"),
            ("cluster/ocp1", "ClusterRoleBinding", "cluster-admin"),
            ("cluster/ocp1", "Namespace", "kube-system"),
            ("cluster/ocp1", "Namespace", "openshift-etcd"),
            ("cluster/ocp1", "Secret", "kube-system/x"),
            ("cluster/ocp1", "Secret", "../x"),
        ] {
            assert!(key(t, k, n).is_err(), "{t} {k} {n:?}");
        }
    }

    #[test]
    fn fields_a_plan_writes_are_judged() {
        let mut e = entry_of("zos/NP8", "export", "MVSNFS8 /hfs/a");
        e.file = "zos/NP8/nfs/MVSNFS8.exports".into();
        e.text = Some("/hfs/a -access=10.1.1.1|10.1.1.2,ro".into());
        assert_eq!(entry(&e), Ok(()));
        for bad in [
            "/hfs/a -access=10.1.1.1\n/ -rw",
            "/hfs/b -access=10.1.1.1",
            "/hfs/a -access=",
            "/hfs/a -access=everyone",
        ] {
            e.text = Some(bad.into());
            assert!(entry(&e).is_err(), "{bad:?}");
        }
        e.text = Some("/hfs/a -access=10.1.1.1".into());
        e.file = "zos/NP9/nfs/MVSNFS8.exports".into();
        assert!(entry(&e).is_err(), "another system's file");
        let mut e = entry_of("zos/NP8", "racf-user", "NFSTST");
        assert_eq!(entry(&e), Ok(()));
        e.owners = vec!["a b".into()];
        assert!(entry(&e).is_err(), "owner");
        let mut e = entry_of("zos/NP8", "racf-user", "NFSTST");
        e.file = "../x".into();
        assert!(entry(&e).is_err(), "file");
        let mut e = entry_of("zos/NP8", "racf-user", "NFSTST");
        e.digest = "00".into();
        assert!(entry(&e).is_err(), "digest");
        let mut e = entry_of("zos/NP8", "certificate", "U/l");
        e.role = Some("client:a\nb".into());
        assert!(entry(&e).is_err(), "role");
        e.role = Some("client:fios".into());
        e.not_after = Some("2029-01-04\n".into());
        assert!(entry(&e).is_err(), "date");
        e.not_after = Some("2029-01-04".into());
        e.signer = Some("CERTAUTH/x) DELETE(".into());
        assert_eq!(
            entry(&e),
            Ok(()),
            "a label may hold parentheses: it is quoted"
        );
        e.signer = Some("CERT AUTH/x".into());
        assert!(entry(&e).is_err(), "signer");
        let mut e = entry_of("zos/NP8", "attls-rule", "MVSNFS8_rule");
        e.file = "zos/NP8/pagent/MVSNFS8.policy".into();
        assert_eq!(entry(&e), Ok(()));
        for bad in [
            "zos/NP9/pagent/MVSNFS8.policy",
            "zos/NP8/nfs/MVSNFS8.exports",
            "zos/NP8/pagent/.policy",
        ] {
            e.file = bad.into();
            assert!(entry(&e).is_err(), "{bad}");
        }
    }
}
