//! Stage 3: checks on the IR. Each check relates objects that the generated
//! files must agree on, and reports every problem it finds with both ends of
//! the relation labelled. Checks never stop early and never look at syntax.

mod k8s;
mod zos;

use crate::diagnostics::Diagnostic;
use crate::ir::Site;

/// Runs every check over the site.
pub fn run(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    zos::run(site, &mut out);
    k8s::run(site, &mut out);
    out
}
