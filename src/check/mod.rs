//! Stage 3: checks on the IR. Each check relates objects that the generated
//! files must agree on, and reports every problem it finds with both ends of
//! the relation labelled. Checks never stop early and never look at syntax.
//! A name the bundle will contain is judged as the [`Plan`] derived it, the
//! value lowering writes; checks never derive one themselves.

pub mod claims;
pub mod isolation;
mod k8s;
mod pure;
pub mod zos;

use crate::diagnostics::{registry, Diagnostic};
use crate::ir::{Site, Sp};
use crate::plan::Plan;
use std::collections::BTreeMap;

/// Runs every check over the site, whose derived names are `plan`.
///
/// A check relates two tenants only through the plan's claims
/// ([`crate::plan::claims`]), judged by [`claims`]: add a claim kind for a
/// new relation, never a comparison here.
pub fn run(site: &Site, plan: &Plan) -> Vec<Diagnostic> {
    run_until(site, plan, &|| false)
}

/// [`run`], giving up between groups of checks once `stop` says so (an
/// editor's newer edit): what it returns then is incomplete, and thrown away.
pub fn run_until(site: &Site, plan: &Plan, stop: &dyn Fn() -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    type Group<'g> = &'g dyn Fn(&mut Vec<Diagnostic>);
    let groups: [Group; 6] = [
        &|o| unique_names(site, o),
        &|o| claims::run(site, &plan.claims, o),
        &|o| zos::run(site, plan, o),
        &|o| k8s::run(site, plan, o),
        &|o| pure::run(site, o),
        &|o| isolation::run(site, o),
    ];
    for g in groups {
        if stop() {
            break;
        }
        g(&mut out);
    }
    out
}

/// Systems, clusters and arrays name bundle directories and files, so their
/// names are unique across all files and modules of a site (tenants' names
/// are claims, [`claims`]).
fn unique_names(site: &Site, out: &mut Vec<Diagnostic>) {
    let kinds: [(&str, Vec<&Sp<String>>); 3] = [
        ("system", site.systems.iter().map(|s| &s.name).collect()),
        ("cluster", site.clusters.iter().map(|c| &c.name).collect()),
        ("flasharray", site.arrays.iter().map(|a| &a.name).collect()),
    ];
    for (kind, names) in kinds {
        let mut seen: BTreeMap<&str, &Sp<String>> = BTreeMap::new();
        for n in names {
            if let Some(first) = seen.insert(&n.value, n) {
                out.push(
                    Diagnostic::new(
                        registry::DUPLICATE,
                        n.span,
                        format!("two {kind}s are named `{}`", n.value),
                        "declared again here",
                    )
                    .related(first.span, "first declared here")
                    .help(format!(
                        "{kind} names are unique across the whole site, imported modules included"
                    )),
                );
            }
        }
    }
}

/// A site whose analysis found no error, with the names the checks judged:
/// the only input lowering takes, so that no caller can lower a site that
/// checks have refused, or with names other than those they saw. Outside the
/// crate it is made only by [`crate::Analysis::checked`].
#[derive(Clone, Copy)]
pub struct CheckedSite<'a> {
    pub(crate) site: &'a Site,
    pub(crate) plan: &'a Plan,
}

impl<'a> CheckedSite<'a> {
    pub fn site(self) -> &'a Site {
        self.site
    }

    pub fn plan(self) -> &'a Plan {
        self.plan
    }
}
