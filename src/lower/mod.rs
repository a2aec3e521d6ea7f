//! Stage 4: the IR to files. One module per target format; text formats go
//! through minijinja templates from `stdlib/templates/` (embedded, or taken from
//! `--stdlib DIR/templates/`), YAML and JSON through serde types. Lowering runs
//! only on a site that passed every check; a problem found here is a bug and
//! is reported as an internal error, never written. Every name a check
//! judged is taken from the site's [`crate::plan::Plan`], never derived again.

pub mod apply;
pub mod graph;
pub mod haproxy;
pub mod isolation;
pub mod k8s;
pub mod pagent;
pub mod pure;
pub mod racf;
pub mod zos;

use crate::bundle::Bundle;
pub use crate::error::Error;
use crate::ir::{SecretRef, SecretSource, Site};
use crate::source::FileId;
use camino::Utf8PathBuf;
use std::collections::{BTreeMap, BTreeSet};

const EMBEDDED_TEMPLATES: &[(&str, &str)] = &[
    (
        "pagent.policy.j2",
        include_str!("../../stdlib/templates/pagent.policy.j2"),
    ),
    (
        "racf.jcl.j2",
        include_str!("../../stdlib/templates/racf.jcl.j2"),
    ),
    (
        "haproxy.cfg.j2",
        include_str!("../../stdlib/templates/haproxy.cfg.j2"),
    ),
    (
        "purity-setup.sh.j2",
        include_str!("../../stdlib/templates/purity-setup.sh.j2"),
    ),
    (
        "multipath.conf.j2",
        include_str!("../../stdlib/templates/multipath.conf.j2"),
    ),
];

/// The tenants a compile writes (`--tenant`): shared files (a server's
/// policy and jobs, a cluster's StorageCluster and pure.json) are written
/// whole when any selected tenant uses them; tenant files only for these.
#[derive(Debug, Clone, Default)]
pub struct Selection(Option<BTreeSet<String>>);

impl Selection {
    pub fn only(names: BTreeSet<String>) -> Selection {
        Selection(Some(names))
    }
    pub fn has(&self, tenant: &str) -> bool {
        self.0.as_ref().is_none_or(|s| s.contains(tenant))
    }
    /// Whether a shared file used by `tenants` is written.
    pub fn any<'a>(&self, mut tenants: impl Iterator<Item = &'a str>) -> bool {
        self.0.is_none() || tenants.any(|t| self.has(t))
    }
    pub fn names(&self) -> Option<&BTreeSet<String>> {
        self.0.as_ref()
    }
}

/// Secret values read for `--materialize-secrets`, by reference (a `file()`
/// path is relative to the spec that names it, so the spec is part of the key).
#[derive(Debug, Clone, Default)]
pub struct SecretValues(BTreeMap<(SecretSource, String, FileId), String>);

impl SecretValues {
    pub fn insert(&mut self, r: &SecretRef, value: String) {
        self.0
            .insert((r.source, r.name.clone(), r.span.file), value);
    }
    pub fn get(&self, r: &SecretRef) -> Option<&str> {
        self.0
            .get(&(r.source, r.name.clone(), r.span.file))
            .map(String::as_str)
    }
    /// Every value, for tests that prove none leaks.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str)
    }
}

/// A word for a POSIX shell: single-quoted, with `'` written as `'\''`, so
/// that no value can end the quoting or expand anything.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The bundle's `.gitignore`: teams commit the bundle, never its secrets.
pub const GITIGNORE: &str = ".gitignore";
const GITIGNORE_BODY: &str =
    "# Teams commit this bundle; secret material never goes with it: the files\n\
# `tenantc compile --materialize-secrets` writes (mode 0600) and placeholders\n\
# under each cluster's secrets/ directory. Only the secrets overlay's\n\
# kustomization.yaml and the placeholder versions (*.placeholder) are\n\
# committed, so a fresh clone passes `tenantc compile --check`. Private\n\
# keys are never written here at all (the TLS scripts pipe them into the\n\
# cluster). Directories are re-included so the files below them can be.\n\
/k8s/*/secrets/**\n\
!/k8s/*/secrets/\n\
!/k8s/*/secrets/**/\n\
!/k8s/*/secrets/kustomization.yaml\n\
!/k8s/*/secrets/**/*.placeholder\n";

/// What lowering needs besides the site.
#[derive(Debug, Clone, Default)]
pub struct LowerOptions {
    /// A stdlib directory whose `templates/` replace the embedded ones.
    pub stdlib_dir: Option<Utf8PathBuf>,
    /// Names of the input files, for the "generated from" headers.
    pub inputs: Vec<(FileId, String)>,
    /// Secret values to write into the bundle (mode 0600); `None` keeps
    /// placeholders and operator-provided files.
    pub secrets: Option<SecretValues>,
    /// The tenants to write (all by default).
    pub only: Selection,
    /// Where to write the files as they are lowered; `None` keeps the
    /// bundle in memory.
    pub staging: Option<std::sync::Arc<crate::bundle::Staging>>,
    /// Leave out the files about the whole site that record no object (the
    /// runbook, the isolation report): a plan does not use them, and at
    /// 10,000 tenants they cost it most of its time.
    pub skip_site_reports: bool,
    /// The isolation report's part of the plan's claims, when taken before
    /// lowering ([`isolation::prepare`]); taken here otherwise.
    pub isolation: Option<std::sync::Arc<isolation::Prepared>>,
}

pub struct Templates {
    env: minijinja::Environment<'static>,
}

impl Templates {
    pub(crate) fn load(opts: &LowerOptions) -> Result<Templates, Error> {
        let mut env = minijinja::Environment::new();
        env.set_keep_trailing_newline(true);
        env.add_filter("sh", |s: String| shell_quote(&s));
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, text) in EMBEDDED_TEMPLATES {
            let text = match &opts.stdlib_dir {
                Some(dir) => {
                    let path = dir.join("templates").join(name);
                    if path.exists() {
                        std::fs::read_to_string(&path).map_err(|e| {
                            Error::Internal(format!("cannot read template {path}: {e}"))
                        })?
                    } else {
                        (*text).to_string()
                    }
                }
                None => (*text).to_string(),
            };
            env.add_template_owned(*name, text)
                .map_err(|e| Error::Internal(format!("template {name}: {e}")))?;
        }
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, ctx: impl serde::Serialize) -> Result<String, Error> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| Error::Internal(format!("template {name}: {e:#}")))
    }
}
/// The spec files' names, by file, for the headers.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    names: BTreeMap<FileId, String>,
}

impl Headers {
    pub fn new(inputs: &[(FileId, String)]) -> Headers {
        Headers {
            names: inputs.iter().cloned().collect(),
        }
    }

    /// The header of a file made from what these spec files declare: it
    /// names them (sorted, once each), and nothing else, so that a change
    /// elsewhere in the site never touches it. A tenant's files name the
    /// tenant's file; a shared file (a server's policy and jobs, an array's
    /// script, a cluster's kustomization) the file declaring its owner.
    /// A `file("...")` name as a path relative to the site root: the
    /// spec file's directory (relative to the root) joined with it; an
    /// absolute name as it is.
    pub fn site_path(&self, file: FileId, name: &str) -> String {
        if name.starts_with('/') {
            return name.to_string();
        }
        match self.names.get(&file).and_then(|n| n.rsplit_once('/')) {
            Some((dir, _)) => format!("{dir}/{name}"),
            None => name.to_string(),
        }
    }

    pub fn of(&self, files: impl IntoIterator<Item = FileId>) -> String {
        let names: BTreeSet<&str> = files
            .into_iter()
            .filter_map(|f| self.names.get(&f).map(String::as_str))
            .collect();
        header(names.into_iter())
    }
}

/// The line every generated text file starts with (in its comment syntax),
/// naming the spec files it came from. Control characters in file names
/// never reach it.
pub fn header<'a>(inputs: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = inputs
        .map(|n| {
            n.chars()
                .map(|c| {
                    // Also the characters YAML 1.1 breaks lines at.
                    if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') {
                        '?'
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect();
    let from = match names.len() {
        0 => "no input".to_string(),
        _ => names.join(", "),
    };
    format!(
        "Generated by tenantc {} from {from}. Do not edit.",
        env!("CARGO_PKG_VERSION")
    )
}
/// The header of a file about the whole site (the isolation report, the
/// runbook): it names no spec file, since a list of them all would change
/// whenever a tenant's file is added or removed.
fn site_header() -> String {
    format!(
        "Generated by tenantc {} from the whole site (each tenant's part from its own spec). Do not edit.",
        env!("CARGO_PKG_VERSION")
    )
}

/// Lowers a checked site into a bundle.
pub fn lower(checked: crate::check::CheckedSite<'_>, opts: &LowerOptions) -> Result<Bundle, Error> {
    let site = checked.site();
    let plan = checked.plan();
    let templates = Templates::load(opts)?;
    let mut bundle = match &opts.staging {
        Some(s) => Bundle::streamed(s.clone()),
        None => Bundle::default(),
    };
    let header = Headers::new(&opts.inputs);
    let sel = &opts.only;
    // Before the bundle grows: comparing every claim again takes memory.
    let isolation = match (&opts.isolation, opts.skip_site_reports) {
        (_, true) => None,
        (Some(p), false) => Some(p.clone()),
        (None, false) => Some(std::sync::Arc::new(isolation::prepare(site, plan)?)),
    };
    // The z/OS and Purity files on one thread, the clusters' files on all:
    // a streamed bundle is written while it is lowered.
    let mut zos = bundle.part();
    let (zos, k8s) = std::thread::scope(|scope| {
        let zos = scope.spawn(|| -> Result<Bundle, Error> {
            pagent::lower(site, plan, &templates, &header, sel, &mut zos)?;
            racf::lower(site, plan, &templates, &header, sel, &mut zos)?;
            self::zos::lower(site, &header, sel, &mut zos)?;
            pure::lower(site, &templates, &header, sel, &mut zos)?;
            // The runbook covers the whole site: its header names no file.
            if !opts.skip_site_reports {
                apply::lower(site, plan, &header, &site_header(), sel, &mut zos)?;
            }
            Ok(zos)
        });
        let k8s = k8s::lower(
            site,
            plan,
            &templates,
            &header,
            opts.secrets.as_ref(),
            sel,
            &mut bundle,
        );
        let zos = zos.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (zos, k8s)
    });
    bundle.absorb(zos?)?;
    k8s?;
    // The report is about every pair of tenants: its header names no file
    // (a list of every spec file would change with any tenant's added).
    if let Some(prepared) = &isolation {
        isolation::lower(site, plan, prepared, &site_header(), &mut bundle)?;
    }
    if !site.tenants.is_empty() && sel.any(site.tenants.iter().map(|t| t.name.value.as_str())) {
        bundle.add_text(
            GITIGNORE.to_string(),
            format!("# {}\n{GITIGNORE_BODY}", site_header()),
            site.tenants.iter().map(|t| t.name.value.clone()).collect(),
        )?;
    }
    Ok(bundle)
}

/// The tenants on an NFS server, for the manifest.
pub(crate) fn tenants_of_server(site: &Site, sid: crate::ir::ServerId) -> BTreeSet<String> {
    site.tenants_of(sid)
        .map(|(t, _)| t.name.value.clone())
        .collect()
}

/// A duration in haproxy's notation, as short as exact.
pub fn duration(ms: u64) -> String {
    match ms {
        0 => "0ms".into(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn headers_name_only_their_files_and_stay_clean() {
        use crate::source::FileId;
        let h = super::Headers::new(&[
            (FileId(0), "site.tenant".into()),
            (FileId(1), "tenants/b.tenant".into()),
            (FileId(2), "tenants/a.tenant".into()),
            (FileId(3), "evil\n//X JOB".into()),
            (FileId(4), "a\u{2028}b.tenant".into()),
        ]);
        assert_eq!(
            h.of([FileId(1)]),
            format!(
                "Generated by tenantc {} from tenants/b.tenant. Do not edit.",
                env!("CARGO_PKG_VERSION")
            )
        );
        // Sorted and once each, whatever the order asked in.
        assert!(h
            .of([FileId(1), FileId(2), FileId(1)])
            .contains("from tenants/a.tenant, tenants/b.tenant."));
        assert!(!h.of([FileId(3)]).contains('\n'));
        assert!(!h.of([FileId(4)]).contains('\u{2028}'));
        assert!(!h.of([FileId(0)]).contains("spec files"));
    }

    #[test]
    fn shell_quoting_cannot_be_escaped() {
        assert_eq!(super::shell_quote("pod"), "'pod'");
        assert_eq!(super::shell_quote("a'b"), "'a'\\''b'");
        assert_eq!(super::shell_quote("$(x) `y`"), "'$(x) `y`'");
    }

    #[test]
    fn durations_are_exact() {
        assert_eq!(super::duration(5_000), "5s");
        assert_eq!(super::duration(86_400_000), "24h");
        assert_eq!(super::duration(1_500), "1500ms");
        assert_eq!(super::duration(7_200_000), "2h");
    }
}
