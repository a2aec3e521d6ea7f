//! Secret sources, checked before anything reads them: a `file("...")` path
//! stays inside the site root (or a directory `--allowed-resources` names),
//! and every source belongs to one owner (a tenant, a registry, an
//! authority), so no tenant's spec can name another's token.

use crate::diagnostics::{registry, Diagnostic};
use crate::ir::{self, SecretRef, SecretSource};
use crate::plan::claims::{Claim, ClaimKind, Holder, Part, Scope};
use crate::resolve::load::{canonical, normalize, within};
use crate::source::SourceMap;
use camino::{Utf8Path, Utf8PathBuf};

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
    owned(site)
        .into_iter()
        .map(|(o, r)| (o.label(site, true), r))
        .collect()
}

/// The source a reference reads, as its claims compare them: an
/// environment variable by name, a file by its identity (device and inode,
/// so that two hard links, or two spellings, of one file are one source;
/// red-team N6), or by its canonical path while it does not exist. The
/// error says why a `file()` path may not be read.
fn identity(sources: &SourceMap, bounds: &Confinement, r: &SecretRef) -> Result<String, String> {
    Ok(match r.source {
        SecretSource::Env => format!("env:{}", r.name),
        SecretSource::File => {
            let path = canonical(&bounds.resolve(sources, r)?);
            match std::fs::metadata(&path) {
                Ok(m) => {
                    use std::os::unix::fs::MetadataExt;
                    format!("file:{}:{}", m.dev(), m.ino())
                }
                Err(_) => format!("file:{path}"),
            }
        }
    })
}

/// Every secret reference with its holder.
fn owned(site: &ir::Site) -> Vec<(Holder, &SecretRef)> {
    let mut out = Vec::new();
    for (si, sys) in site.systems.iter().enumerate() {
        for (ai, a) in sys.authorities.iter().enumerate() {
            if let Some(p) = &a.export.password {
                out.push((Holder::Authority(ir::AuthorityId(ir::SystemId(si), ai)), p));
            }
        }
    }
    for (ci, c) in site.clusters.iter().enumerate() {
        for (ri, r) in c.registries.iter().enumerate() {
            out.push((
                Holder::Registry(ir::RegistryId(ir::ClusterId(ci), ri)),
                &r.credentials,
            ));
        }
    }
    // A tenant is known by its name: a second declaration of one (E0202,
    // which the checks report) is not a second owner.
    let mut by_name: std::collections::HashMap<&str, usize> = Default::default();
    for (i, t) in site.tenants.iter().enumerate() {
        let i = *by_name.entry(t.name.value.as_str()).or_insert(i);
        let owner = Holder::Tenant(ir::TenantId(i), Part::Whole);
        if let Some(p) = t
            .nfs
            .as_ref()
            .and_then(|n| n.identity.export.password.as_ref())
        {
            out.push((owner, p));
        }
        if let Some(p) = &t.pure {
            out.push((owner, &p.token));
        }
        for w in &t.workloads {
            for (_, v) in &w.env {
                if let ir::EnvValue::Secret(r) = &v.value {
                    out.push((owner, r));
                }
            }
        }
    }
    out
}

/// The ledger's claims of every secret source, site-wide, by identity; and
/// diagnostics for `file()` paths out of bounds (E0308), which claim
/// nothing. Two holders of one source are judged by the claims pass
/// (E0309): the site's own credentials (registries, authorities) may serve
/// several of its objects, e.g. one registry account on every cluster; a
/// tenant's source is the tenant's alone.
pub fn claims(
    site: &ir::Site,
    sources: &SourceMap,
    bounds: &Confinement,
) -> (Vec<Claim>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut out = Vec::new();
    for (holder, r) in owned(site) {
        match identity(sources, bounds, r) {
            Ok(id) => out.push(Claim {
                kind: ClaimKind::SecretSource,
                scope: Scope::Site,
                text: format!("{r}\0{id}"),
                holder,
                span: r.span,
            }),
            Err(why) => diags.push(
                Diagnostic::new(
                    registry::SECRET_PATH,
                    r.span,
                    format!("{r} {why}"),
                    "not read",
                )
                .help("file(\"path\") names a file relative to the spec, inside the site root; to read a secret from elsewhere, name its directory with --allowed-resources DIR"),
            ),
        }
    }
    (out, diags)
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
