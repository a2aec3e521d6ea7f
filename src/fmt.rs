//! `tenantc fmt`: the canonical layout of a spec file.
// STUB: replaced by the fmt branch

use crate::diagnostics::Diagnostic;
use crate::source::FileId;

/// Formats one file's text. Stub: returns the text unchanged until the
/// formatter lands.
pub fn format_source(file: FileId, text: &str) -> Result<String, Vec<Diagnostic>> {
    let _ = file;
    Ok(text.to_string())
}
