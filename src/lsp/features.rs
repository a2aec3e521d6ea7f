//! The requests: hover, definition, references, completion, symbols,
//! rename, formatting and code actions.

use super::context::{self, Place};
use super::text::{self, LineIndex};
use super::{Analysed, Failure, Locator, Snapshot, View};
use crate::resolve::index::{Index, Scopes, Target};
use crate::resolve::schema::{self, Arity, BlockSchema, FieldSchema, Ty};
use crate::source::{FileId, Span};
use camino::Utf8PathBuf;
use lsp_server::ErrorCode;
use lsp_types as lt;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;

pub(super) fn capabilities() -> lt::ServerCapabilities {
    lt::ServerCapabilities {
        position_encoding: Some(lt::PositionEncodingKind::UTF16),
        text_document_sync: Some(lt::TextDocumentSyncCapability::Options(
            lt::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lt::TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(lt::TextDocumentSyncSaveOptions::SaveOptions(
                    lt::SaveOptions {
                        include_text: Some(false),
                    },
                )),
            },
        )),
        hover_provider: Some(lt::HoverProviderCapability::Simple(true)),
        completion_provider: Some(lt::CompletionOptions {
            trigger_characters: Some(vec![".".into(), "=".into()]),
            ..Default::default()
        }),
        definition_provider: Some(lt::OneOf::Left(true)),
        references_provider: Some(lt::OneOf::Left(true)),
        document_symbol_provider: Some(lt::OneOf::Left(true)),
        workspace_symbol_provider: Some(lt::OneOf::Left(true)),
        rename_provider: Some(lt::OneOf::Right(lt::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        document_formatting_provider: Some(lt::OneOf::Left(true)),
        code_action_provider: Some(lt::CodeActionProviderCapability::Options(
            lt::CodeActionOptions {
                code_action_kinds: Some(vec![lt::CodeActionKind::QUICKFIX]),
                ..Default::default()
            },
        )),
        semantic_tokens_provider: Some(
            lt::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lt::SemanticTokensOptions {
                    legend: super::tokens::legend(),
                    full: Some(lt::SemanticTokensFullOptions::Bool(true)),
                    range: None,
                    work_done_progress_options: Default::default(),
                },
            ),
        ),
        inlay_hint_provider: Some(lt::OneOf::Left(true)),
        workspace: Some(lt::WorkspaceServerCapabilities {
            workspace_folders: Some(lt::WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(lt::OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..Default::default()
    }
}

type Answer = Result<Value, Failure>;

fn parse<P: serde::de::DeserializeOwned>(params: Value) -> Result<P, Failure> {
    serde_json::from_value(params).map_err(|e| Failure(ErrorCode::InvalidParams, e.to_string()))
}

fn json(v: impl serde::Serialize) -> Answer {
    serde_json::to_value(v).map_err(|e| Failure(ErrorCode::InternalError, e.to_string()))
}

pub(super) fn dispatch(s: &Snapshot, method: &str, params: Value) -> Answer {
    match method {
        "textDocument/hover" => json(hover(s, parse(params)?)),
        "textDocument/definition" => json(definition(s, parse(params)?)),
        "textDocument/references" => json(references(s, parse(params)?)),
        "textDocument/completion" => json(completion(s, parse(params)?)),
        "textDocument/documentSymbol" => {
            let p = parse(params)?;
            match super::tokens::recovered_outline(s, &p) {
                Some(outline) => json(outline),
                None => json(document_symbols(s, p)),
            }
        }
        "workspace/symbol" => json(workspace_symbols(s, parse(params)?)),
        "textDocument/prepareRename" => json(prepare_rename(s, parse(params)?)?),
        "textDocument/rename" => json(rename(s, parse(params)?)?),
        "textDocument/formatting" => json(formatting(s, parse(params)?)),
        "textDocument/codeAction" => json(code_actions(s, parse(params)?)),
        "textDocument/semanticTokens/full" => json(super::tokens::full(s, parse(params)?)),
        "textDocument/inlayHint" => json(super::hints::inlay_hints(s, parse(params)?)),
        _ => Err(Failure(
            ErrorCode::MethodNotFound,
            format!("tenantc does not handle {method}"),
        )),
    }
}

/// The file and byte offset of a position in the file's current text.
fn locate(s: &Snapshot, pos: &lt::TextDocumentPositionParams) -> Option<(Utf8PathBuf, usize)> {
    let path = text::uri_to_path(&pos.text_document.uri)?;
    let now = s.text_of(&path)?;
    let offset = LineIndex::new(&now).offset(&now, pos.position);
    Some((path, offset))
}

/// The declaration a name at the cursor stands for (a reference to it, or
/// its own name), and the span of that name in the analyzed text.
fn target_at(view: &View, offset: usize) -> Option<(Target, Span)> {
    let o = view.to_then(offset)?;
    let index = &view.snap.analysis.index;
    if let Some(r) = index.ref_at(view.file, o) {
        return Some((r.target, r.span));
    }
    let d = index.decl_named_at(view.file, o)?;
    Some((Target::Decl(d), index.decls[d].name_span))
}

// ---------------------------------------------------------------- hover

fn hover(s: &Snapshot, p: lt::HoverParams) -> Option<lt::Hover> {
    let (path, offset) = locate(s, &p.text_document_position_params)?;
    let now = s.text_of(&path)?;
    let view = s.view(&path);
    // A declaration or a reference to one.
    if let Some(view) = &view {
        if let Some((target, span)) = target_at(view, offset) {
            let md = describe_target(&view.snap, target);
            let mut loc = Locator::new(s, &view.snap);
            return Some(markdown(md, loc.range(span)));
        }
    }
    // A field name, a block kind or a value, read from the text.
    let (ws, we) = context::word_at(&now, offset)?;
    let word = &now[ws..we];
    let cx = context::at(&now, ws);
    let inner = cx.blocks.last().map(|(k, _)| k.as_str());
    let range = LineIndex::new(&now).range(&now, ws, we);
    let md = match &cx.place {
        Place::Entry => {
            if context::next_char(&now, we) == Some('=') {
                let field = inner.and_then(schema::block)?.field(word)?;
                let mut md = describe_field(inner.unwrap_or(""), field);
                if let Some(view) = &view {
                    value_note(view, offset, &mut md);
                }
                md
            } else {
                describe_kind(schema::block(word)?)
            }
        }
        Place::Value { key } => {
            let field = inner.and_then(schema::block)?.field(key)?;
            let mut md = describe_field(inner.unwrap_or(""), field);
            if let Ok(ip) = word.parse::<std::net::Ipv4Addr>() {
                if let Some(view) = &view {
                    let owners = address_owners(&view.snap, ip);
                    if !owners.is_empty() {
                        let _ = write!(md, "\n\n`{ip}` is {}", owners.join("; "));
                    }
                }
            }
            md
        }
        Place::ObjectKey { field } => {
            let f = inner.and_then(schema::block)?.field(field)?;
            describe_field(inner.unwrap_or(""), f)
        }
        Place::Other => return None,
    };
    Some(markdown(md, Some(range)))
}

fn markdown(value: String, range: Option<lt::Range>) -> lt::Hover {
    lt::Hover {
        contents: lt::HoverContents::Markup(lt::MarkupContent {
            kind: lt::MarkupKind::Markdown,
            value,
        }),
        range,
    }
}

fn describe_kind(b: &BlockSchema) -> String {
    let mut md = format!("**{}** block\n\n{}", b.kind, b.doc);
    if !b.fields.is_empty() {
        let names: Vec<String> = b
            .fields
            .iter()
            .map(|f| {
                if f.required {
                    format!("`{}`", f.name)
                } else {
                    format!("`{}`?", f.name)
                }
            })
            .collect();
        let _ = write!(md, "\n\nfields: {}", names.join(", "));
    }
    if !b.children.is_empty() {
        let _ = write!(md, "\n\nblocks: {}", b.children.join(", "));
    }
    md
}

fn describe_field(kind: &str, f: &FieldSchema) -> String {
    format!(
        "**{}**{} of `{kind}`: {}\n\n{}",
        f.name,
        if f.required { "" } else { " (optional)" },
        f.ty.describe(),
        f.doc()
    )
}

/// For a field whose value is a reference: what it resolves to.
fn value_note(view: &View, offset: usize, md: &mut String) {
    let Some(o) = view.to_then(offset) else {
        return;
    };
    let Some(tree) = view.snap.tree(view.file) else {
        return;
    };
    let Some(field) = field_at(&tree.blocks, o) else {
        return;
    };
    let v = field.value.span;
    let index = &view.snap.analysis.index;
    // The last resolved name of the value is what it names.
    let last = index
        .refs
        .iter()
        .filter(|r| r.span.file == v.file && r.span.start >= v.start && r.span.end <= v.end)
        .max_by_key(|r| r.span.start);
    if let Some(r) = last {
        let _ = write!(md, "\n\n---\n\n{}", describe_target(&view.snap, r.target));
    }
}

/// The field whose key or value holds `offset`, at any depth.
fn field_at(
    blocks: &[crate::syntax::ast::Block],
    offset: u32,
) -> Option<&crate::syntax::ast::Field> {
    use crate::syntax::ast::Entry;
    for b in blocks {
        if !(b.span.start <= offset && offset <= b.span.end) {
            continue;
        }
        for e in &b.entries {
            match e {
                Entry::Field(f) if f.span.start <= offset && offset <= f.span.end => {
                    return Some(f)
                }
                Entry::Block(inner) => {
                    if let Some(f) = field_at(std::slice::from_ref(inner), offset) {
                        return Some(f);
                    }
                }
                Entry::Field(_) => {}
            }
        }
    }
    None
}

/// What a name resolves to, in markdown: the declaration, its documentation
/// and its values (as written, and as the compiler resolved them).
fn describe_target(snap: &Analysed, target: Target) -> String {
    let index = &snap.analysis.index;
    let sources = &snap.analysis.sources;
    match target {
        Target::Module(root) => {
            let file = index.roots.get(root).and_then(|r| r.file);
            match file {
                Some(f) => format!("module `{}`", sources.get(f).name),
                None => "module".to_string(),
            }
        }
        Target::Decl(id) => {
            let d = &index.decls[id];
            let mut md = format!("**{}** `{}`", d.kind, index.path(sources, id));
            if let Some(b) = schema::block(d.kind) {
                let _ = write!(md, "\n\n{}", b.doc);
            }
            let values = written_values(snap, id);
            let resolved = resolved_values(snap, id);
            if !values.is_empty() || !resolved.is_empty() {
                md.push_str("\n\n```tenant\n");
                for l in values.iter().chain(&resolved) {
                    md.push_str(l);
                    md.push('\n');
                }
                md.push_str("```");
            }
            let file = d.name_span.file;
            let (line, _) = sources.line_col(file, d.name_span.start);
            let _ = write!(
                md,
                "\n\ndeclared in {}:{line}",
                short_name(&sources.get(file).name)
            );
            md
        }
    }
}

fn short_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The fields of a declaration as written, one line each, and its nested
/// blocks in one line each.
fn written_values(snap: &Analysed, id: usize) -> Vec<String> {
    use crate::syntax::ast::{Block, Entry};
    let d = &snap.analysis.index.decls[id];
    let Some(tree) = snap.tree(d.span.file) else {
        return Vec::new();
    };
    fn find(blocks: &[Block], span: Span) -> Option<&Block> {
        for b in blocks {
            if b.span == span {
                return Some(b);
            }
            if b.span.start <= span.start && span.end <= b.span.end {
                let inner: Vec<Block> = Vec::new();
                let _ = inner;
                for e in &b.entries {
                    if let Entry::Block(c) = e {
                        if let Some(x) = find(std::slice::from_ref(c), span) {
                            return Some(x);
                        }
                    }
                }
            }
        }
        None
    }
    let Some(block) = find(&tree.blocks, d.span) else {
        return Vec::new();
    };
    let sources = &snap.analysis.sources;
    let one_line = |span: Span| -> String {
        let t = sources.snippet(span);
        let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
        if t.chars().count() > 100 {
            let cut: String = t.chars().take(97).collect();
            format!("{cut}...")
        } else {
            t
        }
    };
    let mut out = Vec::new();
    for e in block.entries.iter().take(30) {
        match e {
            Entry::Field(f) => out.push(format!("{} = {}", f.key.name, one_line(f.value.span))),
            Entry::Block(b) => out.push(one_line(b.span)),
        }
    }
    out
}

/// Values the compiler derived that the block does not spell out.
fn resolved_values(snap: &Analysed, id: usize) -> Vec<String> {
    let d = &snap.analysis.index.decls[id];
    let site = &snap.analysis.site;
    let mut out = Vec::new();
    match d.kind {
        "nfs_server" => {
            if let Some(s) = site
                .server_ids()
                .map(|i| site.server(i))
                .find(|s| s.name.span == d.name_span)
            {
                out.push(format!(
                    "# resolved: listens on {}:{}",
                    s.address.value, s.ports.value
                ));
            }
        }
        "tenant" => {
            if let Some(t) = site.tenants.iter().find(|t| t.name.span == d.name_span) {
                out.push(format!(
                    "# resolved: namespace {}, cluster {}",
                    t.namespace.value,
                    site.cluster(t.cluster.value).name.value
                ));
                if let Some(n) = &t.nfs {
                    out.push(format!(
                        "# resolved: proxy {} forwards {}",
                        n.proxy.cluster_ip.value, n.proxy.ports.value
                    ));
                }
            }
        }
        _ => {}
    }
    out
}

/// What holds an address: nodes (DVIPAs), systems, servers, proxies.
fn address_owners(snap: &Analysed, ip: std::net::Ipv4Addr) -> Vec<String> {
    let site = &snap.analysis.site;
    let mut out = Vec::new();
    for c in &site.clusters {
        for n in &c.nodes {
            if n.dvipa.value == ip {
                out.push(format!(
                    "the DVIPA of node `{}` of cluster `{}`",
                    n.name.value, c.name.value
                ));
            }
        }
    }
    for sys in &site.systems {
        if sys.address.value == ip {
            out.push(format!("the address of system `{}`", sys.name.value));
        }
        for s in &sys.servers {
            if s.own_address && s.address.value == ip {
                out.push(format!("the address of NFS server `{}`", s.name.value));
            }
        }
    }
    for t in &site.tenants {
        if let Some(n) = &t.nfs {
            if n.proxy.cluster_ip.value == ip {
                out.push(format!(
                    "the ClusterIP of tenant `{}`'s proxy",
                    t.name.value
                ));
            }
        }
    }
    if out.is_empty() {
        out.push("no node's DVIPA and no system's address".into());
    }
    out
}

// ------------------------------------------------ definition, references

fn definition(s: &Snapshot, p: lt::GotoDefinitionParams) -> Option<lt::GotoDefinitionResponse> {
    let (path, offset) = locate(s, &p.text_document_position_params)?;
    let view = s.view(&path)?;
    let (target, _) = target_at(&view, offset)?;
    let mut loc = Locator::new(s, &view.snap);
    let location = match target {
        Target::Decl(id) => loc.location(view.snap.analysis.index.decls[id].name_span)?,
        Target::Module(root) => {
            let file = view.snap.analysis.index.roots.get(root)?.file?;
            lt::Location {
                uri: loc.uri(file)?,
                range: lt::Range::default(),
            }
        }
    };
    Some(lt::GotoDefinitionResponse::Scalar(location))
}

fn references(s: &Snapshot, p: lt::ReferenceParams) -> Option<Vec<lt::Location>> {
    let (path, offset) = locate(s, &p.text_document_position)?;
    let view = s.view(&path)?;
    let (target, _) = target_at(&view, offset)?;
    let index = &view.snap.analysis.index;
    let mut spans: Vec<Span> = Vec::new();
    if p.context.include_declaration {
        if let Target::Decl(id) = target {
            spans.push(index.decls[id].name_span);
        }
    }
    spans.extend(index.refs_to(target).map(|r| r.span));
    let mut loc = Locator::new(s, &view.snap);
    let mut out: Vec<lt::Location> = spans
        .into_iter()
        .filter_map(|sp| loc.location(sp))
        .collect();
    out.sort_by(|a, b| {
        (a.uri.as_str(), a.range.start.line, a.range.start.character).cmp(&(
            b.uri.as_str(),
            b.range.start.line,
            b.range.start.character,
        ))
    });
    out.dedup();
    Some(out)
}

// ------------------------------------------------------------ completion

fn completion(s: &Snapshot, p: lt::CompletionParams) -> Option<lt::CompletionResponse> {
    let (path, offset) = locate(s, &p.text_document_position)?;
    let now = s.text_of(&path)?;
    let cx = context::at(&now, offset);
    let lines = LineIndex::new(&now);
    let replace = lines.range(&now, cx.word_start, offset);
    let inner = cx.blocks.last().map(|(k, _)| k.as_str());
    let mut items: Vec<lt::CompletionItem> = Vec::new();
    let edit = |_label: &str, insert: &str| {
        Some(lt::CompletionTextEdit::Edit(lt::TextEdit {
            range: replace,
            new_text: insert.to_string(),
        }))
    };
    match &cx.place {
        Place::Entry => match inner {
            None => {
                for k in schema::TOP_LEVEL {
                    if let Some(b) = schema::block(k) {
                        items.push(kind_item(b, edit(k, &format!("{k} "))));
                    }
                }
                items.push(lt::CompletionItem {
                    label: "import".into(),
                    kind: Some(lt::CompletionItemKind::KEYWORD),
                    detail: Some("import \"path\" as name".into()),
                    text_edit: edit("import", "import "),
                    ..Default::default()
                });
            }
            Some(kind) => {
                let b = schema::block(kind)?;
                for f in b.fields {
                    if cx.keys.iter().any(|k| k == f.name) {
                        continue;
                    }
                    items.push(lt::CompletionItem {
                        label: f.name.into(),
                        kind: Some(lt::CompletionItemKind::FIELD),
                        detail: Some(format!(
                            "{}{}",
                            f.ty.describe(),
                            if f.required { " (required)" } else { "" }
                        )),
                        documentation: Some(lt::Documentation::String(f.doc().into_owned())),
                        text_edit: edit(f.name, &format!("{} = ", f.name)),
                        filter_text: Some(f.name.into()),
                        sort_text: Some(format!("{}{}", u8::from(!f.required), f.name)),
                        ..Default::default()
                    });
                }
                for c in b.children {
                    let Some(cb) = schema::block(c) else { continue };
                    let single = matches!(cb.arity, Arity::Single | Arity::SingleRequired);
                    if single && cx.children.iter().any(|k| k == c) {
                        continue;
                    }
                    let insert = if cb.arity == Arity::Named {
                        format!("{c} ")
                    } else {
                        format!("{c} {{")
                    };
                    items.push(kind_item(cb, edit(c, &insert)));
                }
            }
        },
        Place::Value { key } => {
            let field = inner.and_then(schema::block)?.field(key)?;
            let ty = match field.ty {
                Ty::List(inner) => *inner,
                t => t,
            };
            value_items(s, &path, ty, offset, &mut items, &edit);
        }
        Place::ObjectKey { field } => {
            let f = inner.and_then(schema::block)?.field(field)?;
            if let Ty::Object(keys) = f.ty {
                for k in keys {
                    items.push(lt::CompletionItem {
                        label: (*k).into(),
                        kind: Some(lt::CompletionItemKind::PROPERTY),
                        text_edit: edit(k, &format!("{k} = ")),
                        filter_text: Some((*k).into()),
                        ..Default::default()
                    });
                }
            }
        }
        Place::Other => {}
    }
    Some(lt::CompletionResponse::Array(items))
}

fn kind_item(b: &BlockSchema, text_edit: Option<lt::CompletionTextEdit>) -> lt::CompletionItem {
    lt::CompletionItem {
        label: b.kind.into(),
        kind: Some(lt::CompletionItemKind::STRUCT),
        detail: Some(match b.arity {
            Arity::Named => format!("{} name {{ ... }}", b.kind),
            _ => format!("{} {{ ... }}", b.kind),
        }),
        documentation: Some(lt::Documentation::String(b.doc.into())),
        filter_text: Some(b.kind.into()),
        sort_text: Some(format!("2{}", b.kind)),
        text_edit,
        ..Default::default()
    }
}

fn value_items(
    s: &Snapshot,
    path: &camino::Utf8Path,
    ty: Ty,
    offset: usize,
    items: &mut Vec<lt::CompletionItem>,
    edit: &dyn Fn(&str, &str) -> Option<lt::CompletionTextEdit>,
) {
    let simple = |label: &str, kind: lt::CompletionItemKind, detail: &str| lt::CompletionItem {
        label: label.into(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        text_edit: edit(label, label),
        filter_text: Some(label.into()),
        ..Default::default()
    };
    match ty {
        Ty::Enum(set) => {
            for v in set {
                items.push(simple(v, lt::CompletionItemKind::ENUM_MEMBER, ""));
            }
        }
        Ty::Bool => {
            for v in ["true", "false"] {
                items.push(simple(v, lt::CompletionItemKind::VALUE, ""));
            }
        }
        Ty::Secret => {
            items.push(simple(
                "env(\"\")",
                lt::CompletionItemKind::FUNCTION,
                "from the environment",
            ));
            items.push(simple(
                "file(\"\")",
                lt::CompletionItemKind::FUNCTION,
                "from a file",
            ));
        }
        Ty::Key => {
            items.push(simple("rsa(2048)", lt::CompletionItemKind::FUNCTION, ""));
            items.push(simple("nistecc(256)", lt::CompletionItemKind::FUNCTION, ""));
        }
        Ty::Ref(kinds) => reference_items(s, path, kinds, offset, items, edit),
        Ty::Ports => reference_items(s, path, &["port_set"], offset, items, edit),
        _ => {}
    }
}

/// The names a reference written here can use, of the kinds the field takes.
fn reference_items(
    s: &Snapshot,
    path: &camino::Utf8Path,
    kinds: &[&str],
    offset: usize,
    items: &mut Vec<lt::CompletionItem>,
    edit: &dyn Fn(&str, &str) -> Option<lt::CompletionTextEdit>,
) {
    let Some(view) = s.view(path) else { return };
    let snap = &view.snap;
    let index = &snap.analysis.index;
    let sources = &snap.analysis.sources;
    // The scope a reference written here resolves from: the block of the
    // analysed text that holds the cursor (mapped across the edits since),
    // as the compiler numbers it; then the compiler's rule of what a name
    // written there reaches ([`crate::resolve::scope::visible`]).
    let scope = index.scope_at(view.file, &view.then, view.to_then_near(offset));
    let root = index.root_at(view.file, scope);
    let table = Scopes::new(index, sources);
    let names = crate::resolve::scope::visible(&table, scope, root, &|k| kinds.contains(&k));
    for (name, id) in names {
        let d = &index.decls[id];
        items.push(lt::CompletionItem {
            label: name.clone(),
            kind: Some(lt::CompletionItemKind::REFERENCE),
            detail: Some(format!("{} {}", d.kind, index.path(sources, id))),
            documentation: Some(lt::Documentation::MarkupContent(lt::MarkupContent {
                kind: lt::MarkupKind::Markdown,
                value: describe_target(snap, Target::Decl(id)),
            })),
            text_edit: edit(&name, &name),
            filter_text: Some(name),
            ..Default::default()
        });
    }
}

// ------------------------------------------------------------- symbols

pub(super) fn symbol_kind(kind: &str) -> lt::SymbolKind {
    match kind {
        "zos" | "cluster" | "flasharray" => lt::SymbolKind::NAMESPACE,
        "tenant" => lt::SymbolKind::MODULE,
        "nfs_server" | "portworx" | "registry" => lt::SymbolKind::CLASS,
        "node" | "authority" => lt::SymbolKind::OBJECT,
        "volume" | "storage_class" | "claim" => lt::SymbolKind::PROPERTY,
        "workload" => lt::SymbolKind::FUNCTION,
        "tls_profile" | "haproxy_profile" | "port_set" => lt::SymbolKind::CONSTANT,
        _ => lt::SymbolKind::STRUCT,
    }
}

fn document_symbols(
    s: &Snapshot,
    p: lt::DocumentSymbolParams,
) -> Option<lt::DocumentSymbolResponse> {
    let path = text::uri_to_path(&p.text_document.uri)?;
    let view = s.view(&path)?;
    let index = &view.snap.analysis.index;
    let sources = &view.snap.analysis.sources;
    let mut loc = Locator::new(s, &view.snap);
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, d) in index.decls.iter().enumerate() {
        if d.span.file == view.file {
            children.entry(d.parent).or_default().push(i);
        }
    }
    #[allow(deprecated)] // `deprecated` is a required field of the type
    fn build(
        id: usize,
        index: &Index,
        sources: &crate::source::SourceMap,
        children: &HashMap<Option<usize>, Vec<usize>>,
        loc: &mut Locator<'_>,
    ) -> Option<lt::DocumentSymbol> {
        let d = &index.decls[id];
        let range = loc.range(d.span)?;
        let selection_range = loc.range(d.name_span)?;
        let kids: Vec<lt::DocumentSymbol> = children
            .get(&Some(id))
            .into_iter()
            .flatten()
            .filter_map(|c| build(*c, index, sources, children, loc))
            .collect();
        Some(lt::DocumentSymbol {
            name: index.name(sources, id).to_string(),
            detail: Some(d.kind.to_string()),
            kind: symbol_kind(d.kind),
            tags: None,
            deprecated: None,
            range,
            selection_range,
            children: (!kids.is_empty()).then_some(kids),
        })
    }
    let top: Vec<lt::DocumentSymbol> = children
        .get(&None)
        .into_iter()
        .flatten()
        .filter_map(|id| build(*id, index, sources, &children, &mut loc))
        .collect();
    Some(lt::DocumentSymbolResponse::Nested(top))
}

/// Whether all characters of `query` appear in `name` in order (ignoring case).
fn fuzzy(query: &str, name: &str) -> bool {
    let mut chars = name.chars().flat_map(char::to_lowercase);
    query
        .chars()
        .flat_map(char::to_lowercase)
        .all(|q| chars.any(|c| c == q))
}

fn workspace_symbols(
    s: &Snapshot,
    p: lt::WorkspaceSymbolParams,
) -> Option<lt::WorkspaceSymbolResponse> {
    const LIMIT: usize = 1000;
    let mut out: Vec<lt::SymbolInformation> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for snap in s.snapshots() {
        let index = &snap.analysis.index;
        let sources = &snap.analysis.sources;
        let mut loc = Locator::new(s, &snap);
        for (i, d) in index.decls.iter().enumerate() {
            if !d.named || !fuzzy(&p.query, index.name(sources, i)) {
                continue;
            }
            let Some(location) = loc.location(d.name_span) else {
                continue;
            };
            if !seen.insert((location.uri.as_str().to_string(), location.range.start)) {
                continue;
            }
            #[allow(deprecated)] // `deprecated` is a required field of the type
            out.push(lt::SymbolInformation {
                name: index.name(sources, i).to_string(),
                kind: symbol_kind(d.kind),
                tags: None,
                deprecated: None,
                location,
                container_name: d.parent.map(|p| index.path(sources, p)),
            });
            if out.len() >= LIMIT {
                return Some(lt::WorkspaceSymbolResponse::Flat(out));
            }
        }
    }
    Some(lt::WorkspaceSymbolResponse::Flat(out))
}

// -------------------------------------------------------------- rename

/// The declaration to rename at the cursor, refused where a rename would
/// not be safe.
fn rename_target(
    s: &Snapshot,
    pos: &lt::TextDocumentPositionParams,
) -> Result<Option<(View, usize, Span)>, Failure> {
    let Some((path, offset)) = locate(s, pos) else {
        return Ok(None);
    };
    let Some(view) = s.view(&path) else {
        return Ok(None);
    };
    let Some((target, span)) = target_at(&view, offset) else {
        return Ok(None);
    };
    if !view.fresh() || !view.clean {
        return Err(Failure(
            ErrorCode::RequestFailed,
            "this file does not parse; fix the syntax error before renaming".into(),
        ));
    }
    let Target::Decl(id) = target else {
        return Err(Failure(
            ErrorCode::RequestFailed,
            "this names an imported module; rename it with `import \"...\" as name`".into(),
        ));
    };
    let d = &view.snap.analysis.index.decls[id];
    if !d.named {
        return Err(Failure(
            ErrorCode::RequestFailed,
            format!("`{}` is a block kind, not a name", d.kind),
        ));
    }
    if view.snap.paths[d.name_span.file.0 as usize].is_none() {
        return Err(Failure(
            ErrorCode::RequestFailed,
            "this is declared in the standard library".into(),
        ));
    }
    Ok(Some((view, id, span)))
}

fn prepare_rename(
    s: &Snapshot,
    p: lt::TextDocumentPositionParams,
) -> Result<Option<lt::PrepareRenameResponse>, Failure> {
    let Some((view, id, span)) = rename_target(s, &p)? else {
        return Ok(None);
    };
    let mut loc = Locator::new(s, &view.snap);
    let Some(range) = loc.range(span) else {
        return Ok(None);
    };
    Ok(Some(lt::PrepareRenameResponse::RangeWithPlaceholder {
        range,
        placeholder: view
            .snap
            .analysis
            .index
            .name(&view.snap.analysis.sources, id)
            .to_string(),
    }))
}

/// Whether `name` is an identifier of the grammar that is not a literal:
/// one name to the lexer, and the compiler's own parser reads `x = NAME`
/// back as a reference to exactly that name (so `true`, `false#1`, which
/// reads as a boolean and a comment, or `a.b` are refused).
fn valid_name(name: &str) -> bool {
    use crate::syntax::ast::{Entry, ValueKind};
    use crate::syntax::lex::{self, Kind};
    let mut tokens = lex::tokens(name);
    let one_name = matches!(
        (tokens.next(), tokens.next()),
        (Some(t), None) if t.kind == Kind::Ident
    );
    if !one_name || name == "import" || name.len() > 256 {
        return false;
    }
    let (tree, diags) = crate::syntax::parse(FileId(0), &format!("b {{ x = {name} }}"));
    let Some(tree) = tree.filter(|_| diags.is_empty()) else {
        return false;
    };
    matches!(
        tree.blocks.first().and_then(|b| b.entries.first()),
        Some(Entry::Field(f)) if matches!(&f.value.kind, ValueKind::Path(p) if p.len() == 1 && p[0].name == name)
    )
}

// lsp-types keys WorkspaceEdit changes by Uri, whose hash never changes.
#[allow(clippy::mutable_key_type)]
fn rename(s: &Snapshot, p: lt::RenameParams) -> Result<Option<lt::WorkspaceEdit>, Failure> {
    let Some((view, id, _)) = rename_target(s, &p.text_document_position)? else {
        return Ok(None);
    };
    let new = p.new_name.trim();
    if !valid_name(new) {
        return Err(Failure(
            ErrorCode::InvalidParams,
            format!("`{new}` is not a valid name: start with a letter, `_`, `$` or `@`, then letters, digits, `_`, `-`, `$`, `#`, `@`"),
        ));
    }
    let index = &view.snap.analysis.index;
    let sources = &view.snap.analysis.sources;
    let d = &index.decls[id];
    // A sibling of that name would take the references.
    let clash = Scopes::new(index, sources)
        .beside(id, new)
        .is_some_and(|o| o != id);
    if clash {
        return Err(Failure(
            ErrorCode::RequestFailed,
            format!(
                "`{new}` is already declared beside `{}`",
                index.name(sources, id)
            ),
        ));
    }
    let spans: Vec<Span> = std::iter::once(d.name_span)
        .chain(index.refs_to(Target::Decl(id)).map(|r| r.span))
        .collect();
    if let Some(problem) = rename_breaks(s, &view.snap, &spans, new) {
        return Err(Failure(
            ErrorCode::RequestFailed,
            format!("renaming to `{new}` would break the site: {problem}"),
        ));
    }
    let mut changes: HashMap<lt::Uri, Vec<lt::TextEdit>> = HashMap::new();
    let mut loc = Locator::new(s, &view.snap);
    for span in spans {
        let (Some(uri), Some(range)) = (loc.uri(span.file), loc.range(span)) else {
            continue;
        };
        let edits = changes.entry(uri).or_default();
        if !edits.iter().any(|e| e.range == range) {
            edits.push(lt::TextEdit {
                range,
                new_text: new.to_string(),
            });
        }
    }
    Ok(Some(lt::WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }))
}

/// What a rename would break, found by analyzing the renamed site: a new
/// name can be captured by an inner declaration, clash with an import
/// alias, or stop being unique. `None` when it adds no error.
fn rename_breaks(
    s: &Snapshot,
    snap: &std::rc::Rc<Analysed>,
    spans: &[Span],
    new: &str,
) -> Option<String> {
    let analysis = &snap.analysis;
    let sources = &analysis.sources;
    let mut overlay = crate::resolve::load::Overlay::new();
    let mut inputs = Vec::new();
    for (id, f) in sources.files() {
        let Some(path) = &f.path else { continue };
        let mut here: Vec<&Span> = spans.iter().filter(|sp| sp.file == id).collect();
        // A file the rename leaves alone keeps its text, and so its tree.
        let text = if here.is_empty() {
            f.text.clone()
        } else {
            let mut text = f.text.to_string();
            here.sort_by_key(|sp| std::cmp::Reverse(sp.start));
            here.dedup();
            for sp in here {
                text.replace_range(sp.start as usize..sp.end as usize, new);
            }
            std::sync::Arc::from(text)
        };
        overlay.insert(path.clone(), text);
        inputs.push(path.clone());
    }
    let mut opts = s.opts.clone();
    opts.overlay = Some(std::sync::Arc::new(overlay));
    // The trees the analysis parsed: only the renamed files are parsed again.
    opts.parse_cache = s.parse_cache_of(snap);
    let after = crate::analyze(&inputs, &opts).ok()?;
    let before: Vec<(&str, &str)> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code.as_str(), d.message.as_str()))
        .collect();
    after
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .find(|d| !before.contains(&(d.code.as_str(), d.message.as_str())))
        .map(|d| format!("{} {}", d.code, d.message))
}

// ---------------------------------------------------------- formatting

fn formatting(s: &Snapshot, p: lt::DocumentFormattingParams) -> Option<Vec<lt::TextEdit>> {
    let path = text::uri_to_path(&p.text_document.uri)?;
    let now = s.text_of(&path)?;
    // `tenantc fmt`'s own entry, which parses: it refuses a text whose parse
    // reported any error (a bad literal too, where the tree is whole), and
    // those diagnostics are the parse's, not kept with an analysis's trees.
    match crate::fmt::format_source(FileId(0), &now) {
        Ok(formatted) if formatted == *now => Some(Vec::new()),
        Ok(formatted) => {
            let end = LineIndex::new(&now).position(&now, now.len());
            Some(vec![lt::TextEdit {
                range: lt::Range::new(lt::Position::new(0, 0), end),
                new_text: formatted,
            }])
        }
        Err(_) => {
            super::log!("not formatting {path}: it does not parse");
            None
        }
    }
}

// -------------------------------------------------------- code actions

#[allow(clippy::mutable_key_type)] // as in `rename`
fn code_actions(s: &Snapshot, p: lt::CodeActionParams) -> Option<lt::CodeActionResponse> {
    let path = text::uri_to_path(&p.text_document.uri)?;
    let view = s.view(&path)?;
    let now = view.now.clone();
    let lines = LineIndex::new(&now);
    let start = view.to_then(lines.offset(&now, p.range.start))?;
    let end = view.to_then(lines.offset(&now, p.range.end))?.max(start);
    let mut out: lt::CodeActionResponse = Vec::new();
    let snap = view.snap.clone();
    let mut loc = Locator::new(s, &snap);
    for d in &snap.analysis.diagnostics {
        let sp = d.primary.span;
        if sp.file != view.file || sp.end < start || sp.start > end {
            continue;
        }
        let Some(fix) = &d.fix else { continue };
        let (Some(uri), Some(range)) = (loc.uri(fix.span.file), loc.range(fix.span)) else {
            continue;
        };
        let diag = loc.range(sp).map(|r| lt::Diagnostic {
            range: r,
            severity: Some(lt::DiagnosticSeverity::ERROR),
            code: Some(lt::NumberOrString::String(d.code.as_str().to_string())),
            source: Some("tenantc".into()),
            message: d.message.clone(),
            ..Default::default()
        });
        let mut changes = HashMap::new();
        changes.insert(
            uri,
            vec![lt::TextEdit {
                range,
                new_text: fix.text.clone(),
            }],
        );
        out.push(lt::CodeActionOrCommand::CodeAction(lt::CodeAction {
            title: fix.title.clone(),
            kind: Some(lt::CodeActionKind::QUICKFIX),
            diagnostics: diag.map(|d| vec![d]),
            edit: Some(lt::WorkspaceEdit {
                changes: Some(changes),
                ..Default::default()
            }),
            // Editors apply the preferred fix unasked (fix-all, on save):
            // only a safe one is.
            is_preferred: Some(fix.applicability == crate::diagnostics::Applicability::Safe),
            ..Default::default()
        }));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn new_names_must_read_back_as_themselves() {
        // `true-x` and `true@x` are names since a boolean ends at a token
        // boundary; `false#1` is still `false` and a comment.
        for ok in [
            "fa_main", "NP9", "zcx-ca", "$SYS", "a#1", "true-x", "true@x",
        ] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "", "1st", "true", "false", "false#1", "a.b", "a b", "import", "x # c",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
