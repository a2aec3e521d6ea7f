//! Rules about names that more than one stage applies (the resolver warns
//! about a literal secret in a workload's `env`, the checks in a Portworx
//! `env`): pure functions of their arguments, with no stage of their own.

/// Whether a variable's name says it holds a secret: one of its `_`-separated
/// words is or ends with PASSWORD, PASSWD, PASS, PWD, SECRET, TOKEN, APIKEY or
/// KEY after PRIVATE or API. Names of files or paths that hold one
/// (`*_FILE`, `*_PATH`, `*_DIR`) are not secrets themselves.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    let words: Vec<&str> = n.split(['_', '-', '.']).filter(|w| !w.is_empty()).collect();
    if matches!(words.last(), Some(&("FILE" | "PATH" | "DIR"))) {
        return false;
    }
    let secret_word = |w: &str| {
        [
            "PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "TOKEN", "APIKEY",
        ]
        .iter()
        .any(|s| w.ends_with(s))
    };
    words.iter().any(|w| secret_word(w))
        || words
            .windows(2)
            .any(|p| matches!(p, ["PRIVATE" | "API" | "ACCESS", "KEY"]))
}

/// Why `path` is not an export path in normal form, if it is not: absolute,
/// one `/` between segments, no trailing `/`, no `.` or `..` segment. The
/// root `/` alone is in normal form. Exports are compared and mounted as
/// written, so a path not in normal form is refused, never repaired.
pub fn export_path_not_normal(path: &str) -> Option<&'static str> {
    let Some(rest) = path.strip_prefix('/') else {
        return Some("it does not start with `/`");
    };
    if rest.is_empty() {
        return None;
    }
    if rest.contains("//") || rest.starts_with('/') {
        return Some("it holds `//`");
    }
    if rest.ends_with('/') {
        return Some("it ends with `/`");
    }
    for seg in rest.split('/') {
        match seg {
            "." => return Some("it holds a `.` segment"),
            ".." => return Some("it holds a `..` segment"),
            _ => {}
        }
    }
    None
}

/// Why an export path cannot be exported as written, if it cannot: the one
/// rule for export paths (E0702), which the checks report and lowering
/// relies on. The path is written into the z/OS NFS server's exports data
/// set, where the directory ends at a blank, `#` starts a comment and `,`
/// separates options (z/OS NFS Guide and Reference, "Exports data set":
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/dirstat.htm),
/// and into the PersistentVolume's `nfs.path`; and it is compared with the
/// other tenants' exports as written, so it is in normal form
/// ([`export_path_not_normal`]).
pub fn export_path(path: &str) -> Result<(), ExportPathError> {
    if !path.starts_with('/') {
        return Err(ExportPathError::NotNormal("it does not start with `/`"));
    }
    let why = if path.chars().any(|c| c.is_control()) {
        Some("it holds a control character")
    } else if path.chars().any(char::is_whitespace) {
        Some("it holds a blank, where the directory would end")
    } else if !path.is_ascii() {
        Some("it holds a character that is not ASCII")
    } else if path.contains('#') {
        Some("it holds `#`, which starts a comment")
    } else if path.contains(',') {
        Some("it holds `,`, which separates options (write them in `attributes`)")
    } else {
        None
    };
    if let Some(why) = why {
        return Err(ExportPathError::Unwritable(why));
    }
    match export_path_not_normal(path) {
        Some(why) => Err(ExportPathError::NotNormal(why)),
        None => Ok(()),
    }
}

/// Why [`export_path`] refuses a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportPathError {
    /// The exports data set cannot carry it.
    Unwritable(&'static str),
    /// Not in normal form.
    NotNormal(&'static str),
}

/// A z/OS UNIX path from an export path written with the server's default
/// `/hfs` prefix (z/OS NFS hfsprefix site attribute, default `/hfs`); `/hfs`
/// alone is the root:
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/attt.htm
pub fn unix_path(export: &str) -> &str {
    if export == "/hfs" {
        return "/";
    }
    export
        .strip_prefix("/hfs/")
        .map_or(export, |rest| &export[export.len() - rest.len() - 1..])
}

/// Why the z/OS UNIX directory `dir` (in normal form) is the system's and
/// not one to give a tenant or a user ID, if it is: the root, the root of
/// the home directories, or one of the directories z/OS installs and
/// customises (`/bin`, `/dev`, `/etc`, `/lib`, `/opt`, `/samples`,
/// `/SYSTEM`, `/tmp`, `/usr`, `/var`) or a directory under one. The bundle
/// gives an exported directory to its tenant's user ID (`chown`, `chmod
/// 700`) and a home to its user ID, as a superuser, and a plan may remove a
/// directory with `rm -r`: a spec exporting `/hfs/etc` would hand `/etc` to
/// a tenant. z/OS UNIX System Services User's Guide, "The root file system
/// and mountable file systems"; Planning, "Structure of the z/OS UNIX file
/// system":
/// https://www-01.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.bpxa400/rootmou.htm
/// https://www-01.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.bpxb200/fs1.htm
pub fn system_directory(dir: &str) -> Option<&'static str> {
    const SYSTEM: [&str; 10] = [
        "bin", "dev", "etc", "lib", "opt", "samples", "SYSTEM", "tmp", "usr", "var",
    ];
    let mut segments = dir.split('/').filter(|s| !s.is_empty());
    match (segments.next(), segments.next()) {
        (None, _) => Some("the root directory"),
        (Some("u"), None) => Some("the root of the home directories"),
        (Some(top), _) if SYSTEM.contains(&top) => {
            Some("a directory z/OS installs or customises, or one under it")
        }
        _ => None,
    }
}

/// The `/` segments of an export path in normal form (none for `/`).
pub fn export_segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// The `.` qualifiers of an export path that can only name an MVS data set
/// or a qualifier prefix of some: not under the z/OS NFS server's `/hfs`
/// prefix (its hfsprefix site attribute) and without a second `/`. The
/// server maps the names to upper case (maplower), so two such paths that
/// differ in case name one data set:
/// https://www.ibm.com/docs/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/fnxmap.htm
pub fn mvs_qualifiers(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix('/')?;
    if rest.is_empty() || rest.contains('/') || rest == "hfs" {
        return None;
    }
    Some(rest.split('.').collect())
}

// ------------------------------------------------------------- names
//
// The names a target system spells, each judged by one predicate: the
// checks report a spec value that fails one (with its own code and help),
// and `tenantc plan` refuses a deployed inventory whose objects fail them
// (`bundle::admit`), since a committed bundle is untrusted input too.

/// A RACF user ID, job name, class or TCP/IP stack name: 1-8 of A-Z 0-9 #
/// $ @, not starting with a digit.
pub fn racf_name_ok(s: &str) -> bool {
    (1..=8).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "#$@".contains(c))
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// A RACF certificate label: 1-32 printable ASCII characters, without `/*`
/// (a TSO comment).
pub fn cert_label_ok(s: &str) -> bool {
    let n = s.chars().count();
    (1..=32).contains(&n) && s.is_ascii() && !s.chars().any(|c| c.is_control()) && !s.contains("/*")
}

/// A key ring name as written unquoted in RACDCERT ADDRING/CONNECT operands
/// and in PAGENT's Keyring, where `( ) , ; '` and blanks would end or add
/// operands: 1-237 of A-Z a-z 0-9 . _ - # $ @.
/// https://ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha400/le-addring.htm
pub fn keyring_ok(s: &str) -> bool {
    (1..=237).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-#$@".contains(c))
}

/// An MVS data set name: qualifiers of 1-8 characters (A-Z # $ @ first,
/// then also 0-9 and -), separated by periods, 44 characters at most.
pub fn dataset_ok(s: &str) -> bool {
    s.len() <= 44
        && s.split('.').all(|q| {
            (1..=8).contains(&q.len())
                && q.starts_with(|c: char| c.is_ascii_uppercase() || "#$@".contains(c))
                && q.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "#$@-".contains(c))
        })
}

/// A Policy Agent statement name.
pub fn pagent_name_ok(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@#$-".contains(c))
}

/// A host name that RACDCERT `ALTNAME(DOMAIN('...'))` and haproxy's
/// `verifyhost` both carry verbatim: lower-case LDH labels (RFC 1123).
pub fn hostname_ok(s: &str) -> bool {
    (1..=253).contains(&s.len())
        && s.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// DNS-1123 label: at most 63 of [a-z0-9-], alphanumeric at both ends.
pub fn dns_label_ok(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1035 label (Service names): a DNS-1123 label starting with a letter.
pub fn rfc1035_label_ok(s: &str) -> bool {
    dns_label_ok(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// DNS-1123 subdomain: at most 253, dot-separated labels.
pub fn dns_subdomain_ok(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(dns_label_ok)
}

/// Purity naming: 1-63 letters, digits and '-', alphanumeric at both ends,
/// at least one letter.
pub fn purity_name_ok(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

/// Whether the cluster keeps the namespace `ns` for its own components:
/// Kubernetes' initial namespaces and `kube-*`
/// (https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces),
/// and on OpenShift `openshift` and `openshift-*`, the projects it keeps for
/// cluster components
/// (https://docs.redhat.com/en/documentation/openshift_container_platform/4.16/html/building_applications/projects).
/// Both prefixes are refused on every kind: a plain Kubernetes cluster runs
/// OpenShift's operators under those names too when they are installed.
pub fn reserved_namespace(ns: &str) -> bool {
    ns == "default" || ns == "openshift" || ns.starts_with("kube-") || ns.starts_with("openshift-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_directories_are_nobodys_to_take() {
        for dir in [
            "/",
            "/u",
            "/etc",
            "/etc/ssh",
            "/usr/lpp",
            "/tmp",
            "/SYSTEM/etc",
        ] {
            assert!(system_directory(dir).is_some(), "{dir}");
        }
        for dir in [
            "/u/nfstst",
            "/oc4z/nfs/a",
            "/ledger/reports",
            "/etcetera",
            "/users",
        ] {
            assert_eq!(system_directory(dir), None, "{dir}");
        }
        assert_eq!(unix_path("/hfs/etc"), "/etc");
        assert_eq!(unix_path("/hfs"), "/");
        assert_eq!(unix_path("/hfsx/a"), "/hfsx/a");
    }

    #[test]
    fn export_paths_are_judged_by_one_rule() {
        assert_eq!(export_path("/hfs/u/nfs/a"), Ok(()));
        assert_eq!(export_path("/TENANTA.DATA"), Ok(()));
        for bad in [
            "hfs/a",
            "/hfs/a b",
            "/hfs/a#b",
            "/hfs/a,ro",
            "/hfs/\u{e9}",
            "/hfs/a\n",
            "/hfs/a/",
            "/hfs/../a",
        ] {
            assert!(export_path(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            export_path("/a b/"),
            Err(ExportPathError::Unwritable(_))
        ));
    }

    #[test]
    fn normal_form_is_refused_not_repaired() {
        let not_normal = export_path_not_normal;
        assert_eq!(not_normal("/hfs/a/b"), None);
        assert_eq!(not_normal("/"), None);
        assert!(not_normal("/hfs/a/")
            .expect("refused")
            .contains("ends with"));
        assert!(not_normal("/hfs//a").expect("refused").contains("//"));
        assert!(not_normal("/hfs/./a").expect("refused").contains("`.`"));
        assert!(not_normal("/hfs/a/..").expect("refused").contains("`..`"));
        assert!(not_normal("hfs/a").is_some());
    }

    #[test]
    fn secret_names() {
        for yes in [
            "MONGO_INITDB_ROOT_PASSWORD",
            "DB_PASS",
            "PGPASS",
            "API_TOKEN",
            "aws_secret_access_key",
            "PRIVATE_KEY",
            "STRIPE_API_KEY",
            "PX_APIKEY",
        ] {
            assert!(looks_secret(yes), "{yes}");
        }
        for no in [
            "MONGO_INITDB_ROOT_PASSWORD_FILE",
            "MAX_TOKENS",
            "PGDATA",
            "TENANT",
            "KEYRING",
            "SSH_KEY_PATH",
            "numFiles",
        ] {
            assert!(!looks_secret(no), "{no}");
        }
    }
}
