//! What the resolver learned about names, kept for editors (`tenantc lsp`):
//! every declaration, every import, and for each name written in a reference
//! the declaration or module it resolved to. It is recorded by the resolver
//! while it resolves, so go-to-definition, references and rename agree with
//! the compiler by construction.
//!
//! Small and flat on purpose: spans and indices, no copies of names (a name
//! is the source text under its span), so building it costs the CLI next to
//! nothing.

use crate::source::{FileId, SourceMap, Span};

/// A block: `kind name { ... }`, or an unnamed `kind { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decl {
    pub kind: &'static str,
    /// The name's span, or the kind's for unnamed blocks.
    pub name_span: Span,
    /// The whole block.
    pub span: Span,
    /// Index of the enclosing declaration.
    pub parent: Option<usize>,
    /// The namespace it lives in: 0 for the input files, one per imported module.
    pub root: usize,
    /// Whether the block has a name of its own (`kind name { }`).
    pub named: bool,
    /// Whether references can reach it: the first of its name among its
    /// siblings, and not of a repeated kind (`mount`).
    pub referable: bool,
}

/// What a name in a reference stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Index into [`Index::decls`].
    Decl(usize),
    /// An imported module (index into [`Index::roots`]).
    Module(usize),
}

/// One resolved name: a segment of a dotted reference, an import alias used
/// in a reference, or an import's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ref {
    pub span: Span,
    pub target: Target,
}

/// An import binding in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub name: String,
    /// The `as name`, or the import's path when it has no alias.
    pub span: Span,
    /// The namespace of the imported module.
    pub target: usize,
}

/// A namespace: the input files share root 0, each imported module has one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Root {
    /// The module's file (`None` for root 0, which spans the input files).
    pub file: Option<FileId>,
    pub aliases: Vec<Alias>,
}

#[derive(Debug, Clone, Default)]
pub struct Index {
    pub decls: Vec<Decl>,
    /// In the order the resolver met them.
    pub refs: Vec<Ref>,
    pub roots: Vec<Root>,
    /// The namespace of each loaded file.
    pub file_roots: Vec<(FileId, usize)>,
    /// What [`crate::resolve::scope::Symbols::site_wide`] says of the
    /// suggestions for unresolved references.
    pub suggestions: Suggestions,
}

/// How the suggestions for unresolved references were drawn.
#[derive(Debug, Clone, Default)]
pub struct Suggestions {
    /// References that asked for suggestions.
    pub asked: usize,
    /// Files given names of any kind from the whole site.
    pub wide: Vec<FileId>,
    /// Some name is declared by a block of unknown kind (references to it
    /// are dropped silently).
    pub poisoned: bool,
}

impl Index {
    /// A declaration's name as written (its kind for unnamed blocks).
    pub fn name<'m>(&self, sources: &'m SourceMap, id: usize) -> &'m str {
        let d = &self.decls[id];
        if d.named {
            sources.snippet(d.name_span)
        } else {
            d.kind
        }
    }

    /// The dotted path of a declaration from its namespace (`NP8.MVSNFS8`).
    pub fn path(&self, sources: &SourceMap, id: usize) -> String {
        let mut parts = vec![self.name(sources, id)];
        let mut cur = self.decls[id].parent;
        while let Some(p) = cur {
            parts.push(self.name(sources, p));
            cur = self.decls[p].parent;
        }
        parts.reverse();
        parts.join(".")
    }

    /// The namespace a file's top-level declarations live in.
    pub fn root_of_file(&self, file: FileId) -> Option<usize> {
        self.file_roots
            .iter()
            .find(|(f, _)| *f == file)
            .map(|(_, r)| *r)
    }

    /// The innermost declaration whose block contains `offset` of `file`.
    pub fn decl_at(&self, file: FileId, offset: u32) -> Option<usize> {
        self.decls
            .iter()
            .enumerate()
            .filter(|(_, d)| d.span.file == file && d.span.start <= offset && offset <= d.span.end)
            .min_by_key(|(_, d)| d.span.len())
            .map(|(i, _)| i)
    }

    /// The references that resolved to `target`.
    pub fn refs_to(&self, target: Target) -> impl Iterator<Item = &Ref> + '_ {
        self.refs.iter().filter(move |r| r.target == target)
    }

    /// The reference written at `offset` of `file` (ends inclusive, so a
    /// cursor just after a name still finds it).
    pub fn ref_at(&self, file: FileId, offset: u32) -> Option<&Ref> {
        self.refs
            .iter()
            .find(|r| r.span.file == file && r.span.start <= offset && offset <= r.span.end)
    }

    /// The declaration whose name is written at `offset` of `file`.
    pub fn decl_named_at(&self, file: FileId, offset: u32) -> Option<usize> {
        self.decls.iter().position(|d| {
            d.name_span.file == file && d.name_span.start <= offset && offset <= d.name_span.end
        })
    }

    /// Every dotted path that a reference written inside declaration `scope`
    /// (or at the top level of namespace `root` when `scope` is `None`) can
    /// use to name a declaration of one of `kinds`, with that declaration.
    ///
    /// Follows [`super::scope::Symbols::lookup`]: a first segment is a child
    /// of the scope or of one of its ancestors (the nearest wins), else a
    /// top-level declaration of the namespace, else an import alias; later
    /// segments are children. The nearest, shortest spelling of each target
    /// is given.
    pub fn visible(
        &self,
        sources: &SourceMap,
        scope: Option<usize>,
        root: usize,
        kinds: &[&str],
    ) -> Vec<(String, usize)> {
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); self.decls.len()];
        let mut top: Vec<Vec<usize>> = vec![Vec::new(); self.roots.len().max(root + 1)];
        for (i, d) in self.decls.iter().enumerate() {
            if !d.referable {
                continue;
            }
            match d.parent {
                Some(p) => children[p].push(i),
                None => {
                    if let Some(t) = top.get_mut(d.root) {
                        t.push(i);
                    }
                }
            }
        }
        let mut out: Vec<(String, usize)> = Vec::new();
        let mut taken: std::collections::BTreeSet<String> = Default::default();
        let mut seen_targets: std::collections::BTreeSet<usize> = Default::default();
        // Walks `start` and its referable descendants, spelled from `prefix`.
        let walk = |prefix: String,
                    start: usize,
                    out: &mut Vec<(String, usize)>,
                    seen: &mut std::collections::BTreeSet<usize>| {
            let mut stack = vec![(prefix, start)];
            while let Some((path, id)) = stack.pop() {
                if kinds.contains(&self.decls[id].kind) && seen.insert(id) {
                    out.push((path.clone(), id));
                }
                for c in &children[id] {
                    stack.push((format!("{path}.{}", self.name(sources, *c)), *c));
                }
            }
        };
        // Children of the scope and its ancestors; a nearer name shadows.
        let mut cur = scope;
        while let Some(c) = cur {
            for ch in &children[c] {
                let name = self.name(sources, *ch).to_string();
                if taken.insert(name.clone()) {
                    walk(name, *ch, &mut out, &mut seen_targets);
                }
            }
            cur = self.decls[c].parent;
        }
        for t in top.get(root).into_iter().flatten() {
            let name = self.name(sources, *t).to_string();
            if taken.insert(name.clone()) {
                walk(name, *t, &mut out, &mut seen_targets);
            }
        }
        if let Some(r) = self.roots.get(root) {
            for a in &r.aliases {
                if taken.contains(&a.name) {
                    continue;
                }
                for t in top.get(a.target).into_iter().flatten() {
                    let name = format!("{}.{}", a.name, self.name(sources, *t));
                    walk(name, *t, &mut out, &mut seen_targets);
                }
            }
        }
        out
    }
}
