//! Inlay hints: the names the compiler derives and the defaults it fills
//! in, shown where the spec declares what they derive from. They are read
//! from the analysis's plan ([`crate::plan`], which computes every derived
//! name once, for the checks and for lowering alike) and its IR, never
//! recomputed here:
//!
//! - an NFS server's RACF job, and the TLS profile it gets when `tls` is
//!   absent;
//! - an authority's RACF job; a tenant identity's RACF job;
//! - an NFS volume's PersistentVolume and claim;
//! - a StatefulSet claim's first PVC (`<claim>-<workload>-0`);
//! - a registry's pull Secret.
//!
//! https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#textDocument_inlayHint

use super::text;
use super::{Analysed, Snapshot};
use crate::plan::Plan;
use crate::source::Span;
use crate::syntax::ast::{Block, Entry};
use lsp_types as lt;
use std::rc::{Rc, Weak};

/// `textDocument/inlayHint`: the hints of the file in the requested range,
/// when the analysis is of the file's current text (positions of an older
/// text would land beside the wrong words; the next analysis brings them).
pub fn inlay_hints(s: &Snapshot, p: lt::InlayHintParams) -> Option<Vec<lt::InlayHint>> {
    let path = text::uri_to_path(&p.text_document.uri)?;
    let view = s.view(&path)?;
    if !view.fresh() {
        return Some(Vec::new());
    }
    let snap = &view.snap;
    let a = &snap.analysis;
    let mut hints: Vec<(Span, String)> = Vec::new();
    let site = &a.site;
    // The TLS profile a server gets when its block has no `tls` field.
    let tree = snap.tree(view.file);
    for sys in &site.systems {
        for server in &sys.servers {
            if server.name.span.file == view.file
                && tree.is_some_and(|t| !writes_field(&t.blocks, server.name.span, "tls"))
            {
                hints.push((
                    server.name.span,
                    format!("tls = profiles.{} (default)", server.tls.profile.value),
                ));
            }
        }
    }
    if let Some(plan) = plan_of(snap) {
        let plan = &*plan;
        for (sys, names) in site.systems.iter().zip(&plan.systems) {
            for (auth, n) in sys.authorities.iter().zip(&names.authorities) {
                hints.push((auth.name.span, format!("job {}", n.job)));
            }
            for (server, n) in sys.servers.iter().zip(&names.servers) {
                hints.push((server.name.span, format!("job {}", n.job)));
            }
        }
        for (cluster, secrets) in site.clusters.iter().zip(&plan.registries) {
            for (reg, secret) in cluster.registries.iter().zip(secrets) {
                hints.push((reg.name.span, format!("pull Secret {secret}")));
            }
        }
        for (tenant, names) in site.tenants.iter().zip(&plan.tenants) {
            if let (Some(nfs), Some(client)) = (&tenant.nfs, &names.client) {
                hints.push((nfs.identity.user.span, format!("job {}", client.job)));
            }
            if let Some(nfs) = &tenant.nfs {
                for (v, n) in nfs.volumes.iter().zip(&names.volumes) {
                    hints.push((v.name.span, format!("PV {}, PVC {}", n.pv, n.claim)));
                }
            }
            for (w, n) in tenant.workloads.iter().zip(&names.workloads) {
                for (c, claim) in w.claims.iter().zip(&n.claims) {
                    hints.push((c.name.span, format!("PVC {}", n.pvc(claim, 0))));
                }
            }
        }
    }
    let first = p.range.start.line;
    let last = p.range.end.line;
    let mut out: Vec<lt::InlayHint> = hints
        .into_iter()
        .filter(|(span, _)| span.file == view.file)
        .map(|(span, label)| (snap.range(span).end, label))
        .filter(|(pos, _)| first <= pos.line && pos.line <= last)
        .map(|(position, label)| lt::InlayHint {
            position,
            label: lt::InlayHintLabel::String(label),
            kind: None,
            text_edits: None,
            tooltip: None,
            padding_left: Some(true),
            padding_right: None,
            data: None,
        })
        .collect();
    out.sort_by_key(|h| (h.position.line, h.position.character));
    Some(out)
}

thread_local! {
    /// The plan of the last snapshot hints were asked of. The server drops
    /// the analysis's own plan to save memory (it never lowers), so the
    /// plan stage runs again for hints, once per analysis, not per request.
    static PLAN: std::cell::RefCell<Option<(Weak<Analysed>, Rc<Plan>)>> =
        const { std::cell::RefCell::new(None) };
}

/// The derived names of a snapshot's site: its own plan, or the plan stage
/// run on its IR ([`crate::plan::build`], for a site without errors only).
fn plan_of(snap: &Rc<Analysed>) -> Option<Rc<Plan>> {
    let a = &snap.analysis;
    if let Some(plan) = &a.plan {
        return Some(Rc::new(plan.clone()));
    }
    if a.diagnostics
        .iter()
        .any(crate::diagnostics::Diagnostic::is_error)
    {
        return None;
    }
    PLAN.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((of, plan)) = cache.as_ref() {
            if of.ptr_eq(&Rc::downgrade(snap)) {
                return Some(plan.clone());
            }
        }
        let plan = Rc::new(crate::plan::build(&a.site));
        *cache = Some((Rc::downgrade(snap), plan.clone()));
        Some(plan)
    })
}

/// Whether the block whose name is at `name` writes the field `key`; true
/// when the block is not found (no hint rather than a wrong default).
fn writes_field(blocks: &[Block], name: Span, key: &str) -> bool {
    find_block(blocks, name).is_none_or(|b| {
        b.entries
            .iter()
            .any(|e| matches!(e, Entry::Field(f) if f.key.name == key))
    })
}

fn find_block(blocks: &[Block], name: Span) -> Option<&Block> {
    let b = blocks
        .iter()
        .find(|b| b.span.start <= name.start && name.end <= b.span.end)?;
    if b.name.as_ref().is_some_and(|n| n.span == name) {
        return Some(b);
    }
    b.entries.iter().find_map(|e| match e {
        Entry::Block(inner) => find_block(std::slice::from_ref(inner), name),
        Entry::Field(_) => None,
    })
}
