//! Secret sources, checked before anything reads them: a `file("...")` path
//! stays inside the site root (or a directory `--allowed-resources` names),
//! and every source belongs to one owner (a tenant, a registry, an
//! authority), so no tenant's spec can name another's token.

use crate::diagnostics::{registry, Diagnostic};
use crate::ir::{self, SecretRef, SecretSource};
use crate::resolve::load::{canonical, normalize, within};
use crate::source::SourceMap;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeMap;

/// The largest secret file read; larger ones are refused (`/dev/zero`).
pub const MAX_SECRET: u64 = 64 << 10;

/// Where `file()` paths may lead: the site root and the directories allowed
/// explicitly, all canonical.
#[derive(Debug, Clone)]
pub struct Confinement {
    pub root: Utf8PathBuf,
    pub allowed: Vec<Utf8PathBuf>,
}

impl Confinement {
    pub fn new(root: &Utf8Path, allowed: &[Utf8PathBuf]) -> Confinement {
        Confinement {
            root: canonical(root),
            allowed: allowed.iter().map(|d| canonical(d)).collect(),
        }
    }

    fn allows(&self, path: &Utf8Path) -> bool {
        self.allowed.iter().any(|d| within(path, d))
    }

    /// The path a `file()` reference reads, or why it may not: judged on the
    /// text first (absolute, `..` out of the root), then with symbolic links
    /// resolved.
    pub fn resolve(&self, sources: &SourceMap, r: &SecretRef) -> Result<Utf8PathBuf, String> {
        let base = spec_dir(sources, r);
        let name = Utf8Path::new(&r.name);
        let path = normalize(&base.join(name));
        let explicit = self.allows(&canonical(&path)) && self.allows(&normalize(&path));
        if name.is_absolute() && !explicit {
            return Err("is an absolute path".into());
        }
        let inside = within(&path, &self.root) && within(&canonical(&path), &self.root);
        if !explicit && !inside {
            return Err("leads outside the site root".into());
        }
        Ok(path)
    }
}

/// The directory of the spec naming `r`, canonical (relative paths resolve
/// from it).
fn spec_dir(sources: &SourceMap, r: &SecretRef) -> Utf8PathBuf {
    let dir = sources
        .get(r.span.file)
        .path
        .as_ref()
        .and_then(|p| p.parent().map(Utf8Path::to_path_buf))
        .unwrap_or_default();
    canonical(&dir)
}

/// Every secret reference of the site with its owner, in declaration order.
pub fn owned_refs(site: &ir::Site) -> Vec<(String, &SecretRef)> {
    owned(site).into_iter().map(|(o, _, r)| (o, r)).collect()
}

/// What [`check`] compares the sources of tenant `t` by: two tenants with a
/// key in common are related by it (an editor re-checking one tenant
/// re-checks those with it, `src/lsp/slice.rs`).
pub fn tenant_keys(
    site: &ir::Site,
    sources: &SourceMap,
    bounds: &Confinement,
) -> Vec<(usize, String)> {
    owned(site)
        .into_iter()
        .filter_map(|(_, t, r)| Some((t?, key(sources, bounds, r).ok()?)))
        .collect()
}

/// The source a reference reads, as [`check`] compares them; the error
/// says why a `file()` path may not be read.
fn key(sources: &SourceMap, bounds: &Confinement, r: &SecretRef) -> Result<String, String> {
    Ok(match r.source {
        SecretSource::Env => format!("env:{}", r.name),
        SecretSource::File => format!("file:{}", canonical(&bounds.resolve(sources, r)?)),
    })
}

/// [`owned_refs`], with the index of the tenant owning each.
fn owned(site: &ir::Site) -> Vec<(String, Option<usize>, &SecretRef)> {
    let mut out = Vec::new();
    for sys in &site.systems {
        for a in &sys.authorities {
            if let Some(p) = &a.export.password {
                out.push((
                    format!(
                        "authority `{}` of system `{}`",
                        a.name.value, sys.name.value
                    ),
                    None,
                    p,
                ));
            }
        }
    }
    for c in &site.clusters {
        for r in &c.registries {
            out.push((
                format!("registry `{}` of cluster `{}`", r.name.value, c.name.value),
                None,
                &r.credentials,
            ));
        }
    }
    for (i, t) in site.tenants.iter().enumerate() {
        let owner = format!("tenant `{}`", t.name.value);
        if let Some(p) = t
            .nfs
            .as_ref()
            .and_then(|n| n.identity.export.password.as_ref())
        {
            out.push((owner.clone(), Some(i), p));
        }
        if let Some(p) = &t.pure {
            out.push((owner.clone(), Some(i), &p.token));
        }
        for w in &t.workloads {
            for (_, v) in &w.env {
                if let ir::EnvValue::Secret(r) = &v.value {
                    out.push((owner.clone(), Some(i), r));
                }
            }
        }
    }
    out
}

/// Diagnostics for `file()` paths out of bounds and sources shared by owners.
pub fn check(site: &ir::Site, sources: &SourceMap, bounds: &Confinement) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut first: BTreeMap<String, (String, &SecretRef)> = BTreeMap::new();
    for (owner, _, r) in owned(site) {
        let key = match key(sources, bounds, r) {
            Ok(k) => k,
            Err(why) => {
                diags.push(
                        Diagnostic::new(
                            registry::SECRET_PATH,
                            r.span,
                            format!("{r} {why}"),
                            "not read",
                        )
                        .help("file(\"path\") names a file relative to the spec, inside the site root; to read a secret from elsewhere, name its directory with --allowed-resources DIR"),
                    );
                continue;
            }
        };
        // The site's own credentials (registries, authorities) may serve
        // several of its objects, e.g. one registry account on every
        // cluster; a tenant's source is the tenant's alone.
        let site_owned = |o: &str| !o.starts_with("tenant ");
        match first.get(&key) {
            Some((o, prev)) if *o != owner && !(site_owned(o) && site_owned(&owner)) => {
                diags.push(
                    Diagnostic::new(
                        registry::SHARED_SECRET,
                        r.span,
                        format!("{r} of {owner} is already the secret of {o}"),
                        format!("used by {owner}"),
                    )
                    .related(prev.span, format!("belongs to {o}"))
                    .help("a tenant's secret source is the tenant's alone (registries and authorities may share the site's): give each its own env(\"...\") or file(\"...\")"),
                );
            }
            Some(_) => {}
            None => {
                first.insert(key, (owner, r));
            }
        }
    }
    diags
}

/// Reads a secret file `bounds` allows: a regular file (not a FIFO or a
/// device), at most [`MAX_SECRET`] bytes, opened by the one confinement rule
/// ([`crate::confine`]): resolved once, then opened from its root without
/// following a link swapped in after the check. Errors name the reference only.
pub fn read_file(
    sources: &SourceMap,
    bounds: &Confinement,
    r: &SecretRef,
) -> Result<String, String> {
    use crate::confine::{read_text, Links, Refused};
    let path = bounds
        .resolve(sources, r)
        .map_err(|why| format!("{r} {why}"))?;
    let real = canonical(&path);
    let root = bounds
        .allowed
        .iter()
        .find(|d| within(&real, d))
        .unwrap_or(&bounds.root);
    read_text(root, &path, Links::Beneath, MAX_SECRET).map_err(|e| match e {
        Refused::NotRegular(_) => format!("{r}: {path} is not a regular file"),
        Refused::TooLarge(_) => {
            format!("{r}: {path} holds more than a secret may ({MAX_SECRET} bytes)")
        }
        Refused::NotUtf8(_) => format!("{r}: {path} is not UTF-8 text"),
        Refused::Outside | Refused::Link | Refused::Changed => {
            format!("{r} leads outside the site root ({e}); not read")
        }
        e => format!("{r}: cannot read {path}: {e}"),
    })
}

/// Why a value read for an API token does not look like one: tokens are one
/// line of printable ASCII (a file's final newline is stripped before).
pub fn token_problem(value: &str) -> Option<&'static str> {
    if value.contains(['\n', '\r']) {
        Some("holds more than one line")
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        Some("holds characters no API token has (spaces, control or non-ASCII characters)")
    } else if value.len() > 4096 {
        Some("is longer than an API token")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_one_printable_line() {
        assert_eq!(token_problem("19ead418-bec7-09cb-83bb-e679a9307788"), None);
        assert!(token_problem("a\nb").is_some());
        assert!(token_problem("root:x:0:0:root:/root:/bin/bash daemon").is_some());
        assert!(token_problem("a\u{1b}[2J").is_some());
    }
}
