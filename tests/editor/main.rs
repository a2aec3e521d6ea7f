//! One test binary for: lsp lsp_editor lsp_equivalence nvim.
//! (A binary per file cost a link each on every CI run.)

#[path = "../common/mod.rs"]
mod common;
mod lsp;
mod lsp_editor;
mod lsp_equivalence;
mod nvim;
