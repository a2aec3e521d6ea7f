//! The blast radius of a drift (`tenantc compile --check`): which tenants'
//! files differ and how many, before the diff itself, so that a reviewer or
//! a pipeline log sees at a glance whether a change touches one tenant.
//!
//! A file belongs to the tenants manifest.json lists for it: of the bundle
//! the specs produce, or for a stale file (one a compile would remove) of the
//! bundle on disk. A file of one tenant counts for that tenant; a file of
//! several tenants or of none (a server's policy, a kustomization,
//! manifest.json) is an aggregate, listed by path.

use crate::bundle::{Bundle, Drift, DriftKind};
use camino::Utf8Path;
use serde::Serialize;
use std::collections::BTreeMap;

/// Drift counted per tenant.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct TenantDrift {
    pub tenant: String,
    pub files: usize,
    pub changed: usize,
    pub missing: usize,
    pub stale: usize,
    pub paths: Vec<String>,
}

/// A differing file of several tenants, or of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedDrift {
    pub path: String,
    pub kind: DriftKind,
    pub tenants: Vec<String>,
}

/// The summary `--check` prints first (and, as JSON, gives as data).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct DriftSummary {
    /// Tenants with files of their own that differ, by name.
    pub tenants: Vec<TenantDrift>,
    /// Aggregates that differ, by path.
    pub shared: Vec<SharedDrift>,
    pub changed: usize,
    pub missing: usize,
    pub stale: usize,
}

/// The tenants of each file of the bundle at `out`, from its manifest
/// (empty when it has none or it cannot be read).
fn on_disk_tenants(out: &Utf8Path) -> BTreeMap<String, Vec<String>> {
    #[derive(serde::Deserialize)]
    struct File {
        path: String,
        #[serde(default)]
        tenants: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct Manifest {
        #[serde(default)]
        files: Vec<File>,
    }
    crate::bundle::read_manifest(out)
        .and_then(|t| serde_json::from_str::<Manifest>(&t).ok())
        .map(|m| m.files.into_iter().map(|f| (f.path, f.tenants)).collect())
        .unwrap_or_default()
}

/// Counts `drift` per tenant.
pub fn summarize(drift: &Drift, bundle: &Bundle, out: &Utf8Path) -> DriftSummary {
    let old = if drift.stale > 0 {
        on_disk_tenants(out)
    } else {
        BTreeMap::new()
    };
    let mut per: BTreeMap<&str, TenantDrift> = BTreeMap::new();
    let mut shared = Vec::new();
    for (path, kind) in &drift.files {
        let tenants: &[String] = match kind {
            DriftKind::Stale => old.get(path).map_or(&[], Vec::as_slice),
            _ => bundle
                .files
                .get(path)
                .map(|f| f.tenants.as_slice())
                .or_else(|| bundle.secrets.get(path).map(|_| &[][..]))
                .unwrap_or(&[]),
        };
        match tenants {
            [one] => {
                let t = per.entry(one.as_str()).or_insert_with(|| TenantDrift {
                    tenant: one.clone(),
                    ..TenantDrift::default()
                });
                t.files += 1;
                match kind {
                    DriftKind::Changed => t.changed += 1,
                    DriftKind::Missing => t.missing += 1,
                    DriftKind::Stale => t.stale += 1,
                }
                t.paths.push(path.clone());
            }
            _ => shared.push(SharedDrift {
                path: path.clone(),
                kind: *kind,
                tenants: tenants.to_vec(),
            }),
        }
    }
    let mut tenants: Vec<TenantDrift> = per.into_values().collect();
    for t in &mut tenants {
        t.paths.sort();
    }
    shared.sort_by(|a, b| a.path.cmp(&b.path));
    DriftSummary {
        tenants,
        shared,
        changed: drift.changed,
        missing: drift.missing,
        stale: drift.stale,
    }
}

fn counts(changed: usize, missing: usize, stale: usize) -> String {
    let parts: Vec<String> = [(changed, "changed"), (missing, "missing"), (stale, "stale")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
    parts.join(", ")
}

impl DriftSummary {
    /// The human summary: a line per tenant, then the aggregates.
    pub fn human(&self) -> String {
        let mut s = format!(
            "drift by tenant: {} tenant(s) with files of their own, {} shared file(s)\n",
            self.tenants.len(),
            self.shared.len()
        );
        for t in &self.tenants {
            s.push_str(&format!(
                "  tenant {}: {} file(s) ({})\n",
                clean(&t.tenant),
                t.files,
                counts(t.changed, t.missing, t.stale)
            ));
        }
        for f in &self.shared {
            let kind = match f.kind {
                DriftKind::Changed => "changed",
                DriftKind::Missing => "missing",
                DriftKind::Stale => "stale",
            };
            let of = match f.tenants.len() {
                0 => "site-wide".to_string(),
                n => format!("{n} tenants"),
            };
            s.push_str(&format!("  shared {}: {kind} ({of})\n", clean(&f.path)));
        }
        s
    }

    /// One JSON line, `{"drift": {...}}`, beside the diagnostics' lines.
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            drift: &'a DriftSummary,
        }
        let mut s = serde_json::to_string(&Line { drift: self }).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Control characters never reach a log through a tenant name or path.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_one_tenant_count_for_it_and_others_are_shared() {
        let mut b = Bundle::default();
        b.add_text(
            "k8s/c/a/ns.yaml".into(),
            "x".into(),
            ["a".to_string()].into(),
        )
        .expect("add");
        b.add_text(
            "k8s/c/a/cm.yaml".into(),
            "x".into(),
            ["a".to_string()].into(),
        )
        .expect("add");
        b.add_text(
            "k8s/c/kustomization.yaml".into(),
            "x".into(),
            ["a".to_string(), "b".to_string()].into(),
        )
        .expect("add");
        let d = Drift {
            diff: String::new(),
            changed: 2,
            missing: 1,
            stale: 0,
            files: vec![
                ("k8s/c/kustomization.yaml".into(), DriftKind::Changed),
                ("k8s/c/a/ns.yaml".into(), DriftKind::Missing),
                ("k8s/c/a/cm.yaml".into(), DriftKind::Changed),
            ],
        };
        let s = summarize(&d, &b, Utf8Path::new("/nonexistent"));
        assert_eq!(s.tenants.len(), 1);
        assert_eq!(s.tenants[0].tenant, "a");
        assert_eq!(
            (
                s.tenants[0].files,
                s.tenants[0].changed,
                s.tenants[0].missing
            ),
            (2, 1, 1)
        );
        assert_eq!(s.tenants[0].paths, ["k8s/c/a/cm.yaml", "k8s/c/a/ns.yaml"]);
        assert_eq!(s.shared.len(), 1);
        assert_eq!(s.shared[0].tenants, ["a", "b"]);
        let h = s.human();
        assert!(
            h.contains("  tenant a: 2 file(s) (1 changed, 1 missing)\n"),
            "{h}"
        );
        assert!(
            h.contains("  shared k8s/c/kustomization.yaml: changed (2 tenants)\n"),
            "{h}"
        );
        assert!(s
            .json()
            .starts_with("{\"drift\":{\"tenants\":[{\"tenant\":\"a\""));
        assert_eq!(clean("a\u{1b}[2J"), "a?[2J");
    }
}
