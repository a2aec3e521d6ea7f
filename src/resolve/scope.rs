//! Declarations and lexical scopes: every block becomes a symbol; named and
//! singleton blocks are reachable from their parent by name, top-level blocks
//! from their module's root, imported modules through their alias.

use super::index::{Ref, Target};
use super::load::Loaded;
use super::schema::{self, Arity};
use crate::diagnostics::{registry, suggest, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Block, Entry, Ident};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymId(pub usize);

#[derive(Debug)]
pub struct Symbol<'a> {
    pub kind: &'static schema::BlockSchema,
    /// Borrowed from the syntax tree (or the kind's name): a site has
    /// hundreds of thousands of blocks.
    pub name: &'a str,
    /// The name's span, or the kind's for unnamed blocks.
    pub name_span: Span,
    pub block: &'a Block,
    pub parent: Option<SymId>,
    pub root: usize,
    /// Named and singleton children, by name (or kind).
    pub children: Children<'a>,
    /// All child blocks in order, including repeated ones.
    pub nested: Vec<SymId>,
}

/// A block's named children: a handful each, so a sorted vector. (A B-tree
/// node per block was a tenth of the memory of a 10,000-tenant analysis.)
#[derive(Debug, Default)]
pub struct Children<'a>(Vec<(&'a str, SymId)>);

impl<'a> Children<'a> {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| (*k).cmp(name))
    }
    pub fn get(&self, name: &str) -> Option<&SymId> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }
    pub fn insert(&mut self, name: &'a str, id: SymId) {
        match self.find(name) {
            Ok(i) => self.0[i].1 = id,
            Err(i) => self.0.insert(i, (name, id)),
        }
    }
    /// In name order, as a map's would be.
    pub fn iter(&self) -> impl Iterator<Item = (&&'a str, &SymId)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// The schema of a top-level block, `None` for a kind that may not stand
/// at the top level (its name is [`Root::poisoned`]).
pub fn top_level_kind(block: &Block) -> Option<&'static schema::BlockSchema> {
    schema::block(&block.kind.name)
        .filter(|_| schema::TOP_LEVEL.contains(&block.kind.name.as_str()))
}

/// What the first segment of a dotted name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A declaration (a [`SymId`]'s number, an index of
    /// [`super::index::Index::decls`]: the two are numbered alike).
    Decl(usize),
    /// An imported module, by its namespace (root).
    Module(usize),
}

/// A table of declarations that the scope rules read: the compiler's
/// [`Symbols`] while it resolves, and [`super::index::Scopes`] (built from
/// the index an analysis keeps) when an editor asks what a name written
/// somewhere resolves to or could be. The rules themselves
/// ([`resolve_first`], [`resolve_path`], [`visible`]) are written once, over
/// this trait, so the editor's answers and `tenantc check`'s cannot differ.
pub trait Table {
    fn parent(&self, id: usize) -> Option<usize>;
    fn kind(&self, id: usize) -> &str;
    /// The name a declaration is reached by (its kind when unnamed).
    fn name(&self, id: usize) -> &str;
    /// The child of `id` that a reference reaches by `name`: a named or
    /// singleton child, the first of its name.
    fn child(&self, id: usize, name: &str) -> Option<usize>;
    /// The top-level declaration of namespace `root` named `name`.
    fn top(&self, root: usize, name: &str) -> Option<usize>;
    /// The namespace that `name` is bound to by an import in `root`.
    fn alias(&self, root: usize, name: &str) -> Option<usize>;
    /// Each child of `id` that may be reachable by name, with its name.
    fn each_child(&self, id: usize, f: &mut dyn FnMut(&str, usize));
    /// Each top-level declaration of `root`, with its name.
    fn each_top(&self, root: usize, f: &mut dyn FnMut(&str, usize));
    /// Each import binding of `root`: its name and namespace.
    fn each_alias(&self, root: usize, f: &mut dyn FnMut(&str, usize));
}

/// What the first segment `name` of a reference written inside `from` (at
/// the top level of `root` when `None`) resolves to: a child of `from` or
/// of one of its ancestors (the nearest wins), else a top-level declaration
/// of the namespace, else an import alias.
pub fn resolve_first<T: Table + ?Sized>(
    t: &T,
    from: Option<usize>,
    root: usize,
    name: &str,
) -> Option<Found> {
    let mut cur = from;
    while let Some(c) = cur {
        if let Some(id) = t.child(c, name) {
            return Some(Found::Decl(id));
        }
        cur = t.parent(c);
    }
    if let Some(id) = t.top(root, name) {
        return Some(Found::Decl(id));
    }
    t.alias(root, name).map(Found::Module)
}

/// The declaration a dotted reference written inside `from` names, by the
/// rules of [`Symbols::lookup`] (which reports why when there is none):
/// [`resolve_first`], then a module's top-level declaration after an
/// alias, then children.
pub fn resolve_path<T: Table + ?Sized>(
    t: &T,
    from: Option<usize>,
    root: usize,
    path: &[&str],
) -> Option<usize> {
    let (first, mut rest) = path.split_first()?;
    let mut id = match resolve_first(t, from, root, first)? {
        Found::Decl(id) => id,
        Found::Module(m) => {
            let (second, tail) = rest.split_first()?;
            rest = tail;
            t.top(m, second)?
        }
    };
    for seg in rest {
        id = t.child(id, seg)?;
    }
    Some(id)
}

/// Every dotted name that a reference written inside `from` (at the top
/// level of `root` when `None`) can use to name a declaration `wanted`
/// accepts, with that declaration: exactly the names [`resolve_path`]
/// resolves back to it (a shadowed declaration is not offered under the
/// name that now means another), the nearest and shortest spelling of each
/// declaration once.
pub fn visible<T: Table + ?Sized>(
    t: &T,
    from: Option<usize>,
    root: usize,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<(String, usize)> {
    let mut firsts: Vec<(String, Found)> = Vec::new();
    let mut cur = from;
    while let Some(c) = cur {
        t.each_child(c, &mut |n, id| {
            firsts.push((n.to_string(), Found::Decl(id)))
        });
        cur = t.parent(c);
    }
    t.each_top(root, &mut |n, id| {
        firsts.push((n.to_string(), Found::Decl(id)))
    });
    t.each_alias(root, &mut |n, m| {
        firsts.push((n.to_string(), Found::Module(m)))
    });
    let mut out: Vec<(String, usize)> = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    let mut seen = std::collections::BTreeSet::new();
    // Walks `start` and its descendants reachable by name, spelled from
    // `prefix`; a path is spelled only for a declaration that is wanted
    // (at 10,000 tenants, a few dozen of 300,000).
    let mut walk = |prefix: String, start: usize, out: &mut Vec<(String, usize)>| {
        let mut stack = vec![start];
        while let Some(id) = stack.pop() {
            if wanted(t.kind(id)) && seen.insert(id) {
                let mut parts = Vec::new();
                let mut cur = id;
                while cur != start {
                    parts.push(t.name(cur));
                    match t.parent(cur) {
                        Some(p) => cur = p,
                        None => break,
                    }
                }
                let mut path = prefix.clone();
                for part in parts.iter().rev() {
                    path.push('.');
                    path.push_str(part);
                }
                out.push((path, id));
            }
            let at = stack.len();
            t.each_child(id, &mut |n, c| {
                if t.child(id, n) == Some(c) {
                    stack.push(c);
                }
            });
            stack[at..].reverse();
        }
    };
    for (name, found) in firsts {
        if !names.insert(name.clone()) || resolve_first(t, from, root, &name) != Some(found) {
            continue;
        }
        match found {
            Found::Decl(id) => walk(name, id, &mut out),
            Found::Module(m) => {
                let mut tops = Vec::new();
                t.each_top(m, &mut |n, id| {
                    if t.top(m, n) == Some(id) {
                        tops.push((format!("{name}.{n}"), id));
                    }
                });
                for (path, id) in tops {
                    walk(path, id, &mut out);
                }
            }
        }
    }
    out
}

impl Table for Symbols<'_> {
    fn parent(&self, id: usize) -> Option<usize> {
        self.syms[id].parent.map(|p| p.0)
    }
    fn kind(&self, id: usize) -> &str {
        self.syms[id].kind.kind
    }
    fn name(&self, id: usize) -> &str {
        self.syms[id].name
    }
    fn child(&self, id: usize, name: &str) -> Option<usize> {
        self.syms[id].children.get(name).map(|c| c.0)
    }
    fn top(&self, root: usize, name: &str) -> Option<usize> {
        self.roots.get(root)?.symbols.get(name).map(|s| s.0)
    }
    fn alias(&self, root: usize, name: &str) -> Option<usize> {
        self.roots.get(root)?.aliases.get(name).copied()
    }
    fn each_child(&self, id: usize, f: &mut dyn FnMut(&str, usize)) {
        for (n, c) in self.syms[id].children.iter() {
            f(n, c.0);
        }
    }
    fn each_top(&self, root: usize, f: &mut dyn FnMut(&str, usize)) {
        for (n, s) in self
            .roots
            .iter()
            .skip(root)
            .take(1)
            .flat_map(|r| &r.symbols)
        {
            f(n, s.0);
        }
    }
    fn each_alias(&self, root: usize, f: &mut dyn FnMut(&str, usize)) {
        for (n, m) in self
            .roots
            .iter()
            .skip(root)
            .take(1)
            .flat_map(|r| &r.aliases)
        {
            f(n, *m);
        }
    }
}

#[derive(Debug, Default)]
pub struct Root<'a> {
    pub symbols: BTreeMap<&'a str, SymId>,
    /// Top-level symbols in declaration order.
    pub order: Vec<SymId>,
    pub aliases: BTreeMap<String, usize>,
    /// Names declared by blocks of an unknown kind: references to them are
    /// dropped silently, the block itself was reported.
    pub poisoned: std::collections::BTreeSet<String>,
}
#[derive(Debug, Default)]
pub struct Symbols<'a> {
    /// Unresolved references given a suggestion so far (see
    /// [`MAX_SUGGESTED`]).
    suggested: std::sync::atomic::AtomicUsize,
    /// Files with an unresolved reference whose suggestions were drawn
    /// from names of the whole site (see [`Symbols::site_wide`]).
    wide: std::sync::Mutex<Vec<crate::source::FileId>>,
    pub syms: Vec<Symbol<'a>>,
    pub roots: Vec<Root<'a>>,
    /// Root index of each module.
    pub module_root: Vec<usize>,
}

impl<'a> Symbols<'a> {
    pub fn get(&self, id: SymId) -> &Symbol<'a> {
        &self.syms[id.0]
    }

    /// Builds the symbol table, reporting unknown kinds, bad arity and duplicates.
    pub fn build(loaded: &'a Loaded, diags: &mut Vec<Diagnostic>) -> Symbols<'a> {
        let mut s = Symbols::default();
        // Input files share root 0; every imported module has its own.
        s.roots.push(Root::default());
        for m in &loaded.modules {
            if m.is_input {
                s.module_root.push(0);
            } else {
                s.module_root.push(s.roots.len());
                s.roots.push(Root::default());
            }
        }
        // The input files share root 0 and so their aliases: one name bound
        // to two modules by two files is an error (E0213), and the first
        // binding in input order stands, whatever subset of the files is
        // read (an editor's slice reads the files that say the name).
        let mut bound_at: BTreeMap<&str, Span> = BTreeMap::new();
        for (mi, m) in loaded.modules.iter().enumerate() {
            let root = s.module_root[mi];
            for (alias, (target, span)) in &m.imports {
                let target_root = s.module_root[*target];
                match s.roots[root].aliases.get(alias) {
                    Some(first) if *first != target_root => {
                        let first_at = bound_at.get(alias.as_str()).copied().unwrap_or(*span);
                        diags.push(
                            Diagnostic::new(
                                registry::ALIAS_TWO_MODULES,
                                *span,
                                format!("`{alias}` is already the name of another module in this site"),
                                "binds it to a second module",
                            )
                            .related(first_at, "bound here, in another input file")
                            .help("the input files share their imports: give one of the modules another name with `as`, or import the same module in both files"),
                        );
                    }
                    Some(_) => {}
                    None => {
                        if root == 0 {
                            bound_at.insert(alias.as_str(), *span);
                        }
                        s.roots[root].aliases.insert(alias.clone(), target_root);
                    }
                }
            }
        }
        // Declarations in input order first, so the IR follows the inputs.
        let order = loaded
            .modules
            .iter()
            .enumerate()
            .filter(|(_, m)| m.is_input)
            .chain(
                loaded
                    .modules
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| !m.is_input),
            );
        // Exactly as many symbols as blocks at most: a growing vector would
        // hold up to twice the room (at 10,000 tenants, 300,000 symbols).
        fn blocks(b: &Block) -> usize {
            1 + b
                .entries
                .iter()
                .map(|e| match e {
                    Entry::Block(c) => blocks(c),
                    Entry::Field(_) => 0,
                })
                .sum::<usize>()
        }
        let total = loaded
            .modules
            .iter()
            .flat_map(|m| &m.tree.blocks)
            .map(blocks)
            .sum();
        s.syms.reserve_exact(total);
        for (mi, m) in order {
            let root = s.module_root[mi];
            for block in &m.tree.blocks {
                let Some(kind) = top_level_kind(block) else {
                    diags.push(unknown_kind(
                        &block.kind,
                        schema::TOP_LEVEL,
                        "at the top level",
                    ));
                    if let Some(name) = &block.name {
                        s.roots[root].poisoned.insert(name.name.clone());
                    }
                    continue;
                };
                let Some(name) = &block.name else {
                    diags.push(missing_name(block));
                    continue;
                };
                let id = s.add(
                    kind,
                    name.name.as_str(),
                    name.span,
                    block,
                    None,
                    root,
                    diags,
                );
                if let Some(first) = s.roots[root].symbols.get(name.name.as_str()) {
                    diags.push(duplicate(&name.name, name.span, s.syms[first.0].name_span));
                } else {
                    s.roots[root].symbols.insert(name.name.as_str(), id);
                    s.roots[root].order.push(id);
                }
                if s.roots[root].aliases.contains_key(&name.name) {
                    diags.push(
                        Diagnostic::new(
                            registry::DUPLICATE_IMPORT_ALIAS,
                            name.span,
                            format!("`{}` is both a declaration and an import alias", name.name),
                            "declared here",
                        )
                        .help("rename the declaration, or import the module `as` another name"),
                    );
                }
            }
        }
        s
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        kind: &'static schema::BlockSchema,
        name: &'a str,
        name_span: Span,
        block: &'a Block,
        parent: Option<SymId>,
        root: usize,
        diags: &mut Vec<Diagnostic>,
    ) -> SymId {
        let id = SymId(self.syms.len());
        self.syms.push(Symbol {
            kind,
            name,
            name_span,
            block,
            parent,
            root,
            children: Children::default(),
            nested: Vec::new(),
        });
        for entry in &block.entries {
            let Entry::Block(child) = entry else { continue };
            let Some(ck) = schema::block(&child.kind.name)
                .filter(|_| kind.children.contains(&child.kind.name.as_str()))
            else {
                diags.push(unknown_kind(
                    &child.kind,
                    kind.children,
                    &format!("inside `{}`", kind.kind),
                ));
                continue;
            };
            let (cname, cspan) = match (ck.arity, &child.name) {
                (Arity::Named, Some(n)) => (n.name.as_str(), n.span),
                (Arity::Named, None) => {
                    diags.push(missing_name(child));
                    continue;
                }
                (_, Some(n)) => {
                    diags.push(
                        Diagnostic::new(
                            registry::BAD_ARGUMENTS,
                            n.span,
                            format!("a `{}` block takes no name", ck.kind),
                            "unexpected name",
                        )
                        .help(format!("write `{} {{ ... }}`", ck.kind)),
                    );
                    (ck.kind, child.kind.span)
                }
                (_, None) => (ck.kind, child.kind.span),
            };
            let cid = self.add(ck, cname, cspan, child, Some(id), root, diags);
            self.syms[id.0].nested.push(cid);
            if ck.arity == Arity::Repeated {
                continue;
            }
            if let Some(first) = self.syms[id.0].children.get(cname) {
                let first_span = self.syms[first.0].name_span;
                diags.push(duplicate(cname, cspan, first_span));
            } else {
                self.syms[id.0].children.insert(cname, cid);
            }
        }
        self.syms[id.0].children.0.shrink_to_fit();
        for ck in kind.children {
            if let Some(cs) = schema::block(ck) {
                if cs.arity == Arity::SingleRequired && !self.syms[id.0].children.contains_key(ck) {
                    diags.push(
                        Diagnostic::new(
                            registry::MISSING_FIELD,
                            header_span(block),
                            format!("`{}` needs a `{ck} {{ ... }}` block", kind.kind),
                            format!("no `{ck}` block"),
                        )
                        .help(missing_block_help(cs))
                        .about(*ck),
                    );
                }
            }
        }
        id
    }

    /// A declaration of one of `kinds` named `name` that the innermost
    /// declaration of that name, seen from `from`, hides: an outer scope's
    /// child or a top-level declaration.
    pub fn shadowed(&self, from: SymId, name: &str, kinds: &[&str]) -> Option<SymId> {
        self.same_named(from, name)
            .into_iter()
            .skip(1)
            .find(|id| kinds.is_empty() || kinds.contains(&self.get(*id).kind.kind))
    }

    /// Every declaration named `name` visible from `from`, innermost first.
    pub fn same_named(&self, from: SymId, name: &str) -> Vec<SymId> {
        let mut cur = Some(from);
        let mut found = Vec::new();
        while let Some(c) = cur {
            found.extend(self.get(c).children.get(name).copied());
            cur = self.get(c).parent;
        }
        found.extend(self.roots[self.get(from).root].symbols.get(name).copied());
        found
    }

    /// Resolves a dotted reference written inside the block `from`.
    /// `kinds` are the kinds the reference may name; they narrow "did you
    /// mean" suggestions for the last segment.
    ///
    /// `Err(None)` means the reference names a block that was already reported
    /// (an unknown kind), so no further diagnostic is due.
    pub fn lookup(
        &self,
        from: SymId,
        path: &[Ident],
        kinds: &[&str],
    ) -> Result<SymId, Option<Box<Diagnostic>>> {
        self.lookup_traced(from, path, kinds, &mut Vec::new())
    }

    /// [`Symbols::lookup`], recording in `trace` what each segment resolved
    /// to (for the editor index), also when a later segment fails.
    pub fn lookup_traced(
        &self,
        from: SymId,
        path: &[Ident],
        kinds: &[&str],
        trace: &mut Vec<Ref>,
    ) -> Result<SymId, Option<Box<Diagnostic>>> {
        self.lookup_inner(from, path, kinds, trace).map_err(|d| {
            let root = &self.roots[self.get(from).root];
            match path.first() {
                Some(first) if root.poisoned.contains(&first.name) => None,
                _ => Some(d),
            }
        })
    }

    fn lookup_inner(
        &self,
        from: SymId,
        path: &[Ident],
        kinds: &[&str],
        trace: &mut Vec<Ref>,
    ) -> Result<SymId, Box<Diagnostic>> {
        let Some((first, rest)) = path.split_first() else {
            return Err(Box::new(Diagnostic::new(
                registry::INTERNAL,
                self.get(from).name_span,
                "empty reference",
                "",
            )));
        };
        let root = &self.roots[self.get(from).root];
        let mut rest = rest;
        // The one rule for a first segment, shared with the editor.
        let first_found = resolve_first(self, Some(from.0), self.get(from).root, &first.name);
        let mut found = None;
        if let Some(Found::Decl(id)) = first_found {
            found = Some(SymId(id));
            trace.push(Ref {
                span: first.span,
                target: Target::Decl(id),
            });
        } else if let Some(Found::Module(target_root)) = first_found {
            let target_root = &target_root;
            trace.push(Ref {
                span: first.span,
                target: Target::Module(*target_root),
            });
            let Some((second, tail)) = rest.split_first() else {
                return Err(Box::new(
                    Diagnostic::new(
                        registry::WRONG_KIND,
                        first.span,
                        format!("`{}` is a module, not a declaration", first.name),
                        "a module",
                    )
                    .help(format!(
                        "name a declaration of the module: `{}.<name>`",
                        first.name
                    )),
                ));
            };
            let target = &self.roots[*target_root];
            let id = *target.symbols.get(second.name.as_str()).ok_or_else(|| {
                self.unresolved(
                    second,
                    &format!("module `{}` declares no `{}`", first.name, second.name),
                    self.may_suggest()
                        .then(|| self.candidates(target.symbols.iter(), kinds, tail.is_empty())),
                )
            })?;
            trace.push(Ref {
                span: second.span,
                target: Target::Decl(id.0),
            });
            found = Some(id);
            rest = tail;
        }
        let Some(mut id) = found else {
            if !self.may_suggest() {
                return Err(self.unresolved(
                    first,
                    &format!("cannot find `{}` in this scope", first.name),
                    None,
                ));
            }
            let mut visible: Vec<(&&str, &SymId)> = Vec::new();
            let mut cur = Some(from);
            while let Some(c) = cur {
                visible.extend(self.get(c).children.iter());
                cur = self.get(c).parent;
            }
            visible.extend(root.symbols.iter());
            let (mut names, any_kind) =
                self.candidates_of(visible.into_iter(), kinds, rest.is_empty());
            if !rest.is_empty() {
                names.extend(root.aliases.keys().map(String::as_str));
            }
            if any_kind || !rest.is_empty() {
                if let Ok(mut wide) = self.wide.lock() {
                    wide.push(first.span.file);
                }
            }
            if let Some(d) = self.in_imported_module(root, first, rest) {
                return Err(d);
            }
            return Err(self.unresolved(
                first,
                &format!("cannot find `{}` in this scope", first.name),
                Some(names),
            ));
        };
        for (i, seg) in rest.iter().enumerate() {
            let sym = self.get(id);
            let last = i + 1 == rest.len();
            id = *sym.children.get(seg.name.as_str()).ok_or_else(|| {
                self.unresolved(
                    seg,
                    &format!("`{}` has no `{}`", sym.name, seg.name),
                    self.may_suggest()
                        .then(|| self.candidates(sym.children.iter(), kinds, last)),
                )
            })?;
            trace.push(Ref {
                span: seg.span,
                target: Target::Decl(id.0),
            });
        }
        Ok(id)
    }

    /// A name the inputs do not declare but a module they import does
    /// (`k8s1` after `import "site"`): a file another input imports is a
    /// module of its own, whose names are reached through its alias only, so
    /// the error names the qualified name, with it as a fix.
    fn in_imported_module(
        &self,
        root: &Root<'a>,
        first: &Ident,
        rest: &[Ident],
    ) -> Option<Box<Diagnostic>> {
        let (alias, decl) = root.aliases.iter().find_map(|(alias, target)| {
            self.roots[*target]
                .symbols
                .get(first.name.as_str())
                .map(|id| (alias, *id))
        })?;
        let qualified = format!("{alias}.{}", first.name);
        let written = std::iter::once(first)
            .chain(rest)
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(".");
        Some(Box::new(
            Diagnostic::new(
                registry::UNRESOLVED,
                first.span,
                format!("cannot find `{}` in this scope", first.name),
                "not declared in the inputs",
            )
            .related(
                self.get(decl).name_span,
                format!("declared here, in the module imported as `{alias}`"),
            )
            .help(format!(
                "a file that an input imports is a module of its own, whose names are reached through its alias: write `{alias}.{written}`"
            ))
            .fix(
                crate::diagnostics::Applicability::Guess,
                format!("write `{qualified}`"),
                first.span,
                qualified,
            ),
        ))
    }

    /// Names to suggest: for the last segment, those of the wanted kinds (if
    /// none has such a kind, the first [`FALLBACK`] names of any kind: a site
    /// of thousands of tenants naming a missing cluster must not compare
    /// every name with every tenant).
    fn candidates<'s>(
        &self,
        names: impl Iterator<Item = (&'s &'s str, &'s SymId)>,
        kinds: &[&str],
        last: bool,
    ) -> Vec<&'s str> {
        self.candidates_of(names, kinds, last).0
    }

    /// [`Symbols::candidates`], and whether they are names of any kind.
    fn candidates_of<'s>(
        &self,
        names: impl Iterator<Item = (&'s &'s str, &'s SymId)>,
        kinds: &[&str],
        last: bool,
    ) -> (Vec<&'s str>, bool) {
        let all: Vec<(&&str, &SymId)> = names.collect();
        if last && !kinds.is_empty() {
            let wanted: Vec<&str> = all
                .iter()
                .filter(|(_, id)| kinds.contains(&self.get(**id).kind.kind))
                .map(|(n, _)| **n)
                .collect();
            if !wanted.is_empty() {
                return (wanted, false);
            }
        }
        (
            all.into_iter().take(FALLBACK).map(|(n, _)| *n).collect(),
            true,
        )
    }

    /// How many unresolved references asked for suggestions (the first
    /// [`MAX_SUGGESTED`] got them), the files where one was given names of
    /// any kind from the whole site (a wanted kind no one declares, or a
    /// dotted name whose first part is unknown), and whether some name is
    /// poisoned (declared by a block of unknown kind): what an editor
    /// checking one file on part of its site needs to know of its
    /// suggestions (`src/lsp/slice.rs`).
    pub fn site_wide(&self) -> (usize, Vec<crate::source::FileId>, bool) {
        let asked = self.suggested.load(std::sync::atomic::Ordering::Relaxed);
        let mut wide = self.wide.lock().map(|w| w.clone()).unwrap_or_default();
        wide.sort();
        wide.dedup();
        let poisoned = self.roots.iter().any(|r| !r.poisoned.is_empty());
        (asked, wide, poisoned)
    }

    /// Whether an unresolved reference still gets the names it could have
    /// meant: each costs a pass over the names in scope, so a site of
    /// thousands of tenants all naming a missing cluster gets suggestions for
    /// the first [`MAX_SUGGESTED`] only (the editor and the terminal show 100
    /// diagnostics a file).
    fn may_suggest(&self) -> bool {
        self.suggested
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            < MAX_SUGGESTED
    }

    /// `candidates`: the names it could have meant, `None` past
    /// [`MAX_SUGGESTED`].
    fn unresolved(
        &self,
        at: &Ident,
        message: &str,
        candidates: Option<Vec<&str>>,
    ) -> Box<Diagnostic> {
        let Some(names) = candidates else {
            return Box::new(
                Diagnostic::new(registry::UNRESOLVED, at.span, message, "not declared")
                    .help("check the name; the first unresolved names of this site list what could be meant"),
            );
        };
        let suggestion = suggest(&at.name, names.iter().copied());
        let help = match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => "nothing is declared there".to_string(),
            None => format!("names declared there: {}", first_few(&names)),
        };
        let mut d =
            Diagnostic::new(registry::UNRESOLVED, at.span, message, "not declared").help(help);
        if let Some(s) = suggestion {
            d = d.replace_with(at.span, &at.name, s);
        }
        Box::new(d)
    }

    /// The dotted path of a symbol from its root, for messages (`NP8.MVSNFS8`).
    pub fn path_of(&self, id: SymId) -> String {
        let mut parts = vec![self.get(id).name];
        let mut cur = self.get(id).parent;
        while let Some(p) = cur {
            parts.push(self.get(p).name);
            cur = self.get(p).parent;
        }
        parts.reverse();
        parts.join(".")
    }
}

/// How many names of other kinds an unresolved reference is compared with.
const FALLBACK: usize = 64;

/// Unresolved references per analysis that get suggestions.
pub const MAX_SUGGESTED: usize = 500;

fn first_few(names: &[&str]) -> String {
    let mut v: Vec<&str> = names.to_vec();
    v.sort_unstable();
    v.dedup();
    let more = v.len().saturating_sub(8);
    v.truncate(8);
    let mut s = v
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// The span of `kind name` at the start of a block.
pub fn header_span(block: &Block) -> Span {
    match &block.name {
        Some(n) => block.kind.span.to(n.span),
        None => block.kind.span,
    }
}

fn unknown_kind(kind: &Ident, allowed: &[&str], place: &str) -> Diagnostic {
    let suggestion = suggest(&kind.name, allowed.iter().copied());
    let help = match suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None if allowed.is_empty() => format!("no blocks are allowed {place}"),
        None => format!("blocks allowed {place}: {}", allowed.join(", ")),
    };
    let d = Diagnostic::new(
        registry::UNKNOWN_BLOCK,
        kind.span,
        format!("unknown block kind `{}` {place}", kind.name),
        "unknown kind",
    )
    .help(help);
    match suggestion {
        Some(s) => d.replace_with(kind.span, &kind.name, s),
        None => d,
    }
}

fn missing_name(block: &Block) -> Diagnostic {
    Diagnostic::new(
        registry::MISSING_FIELD,
        block.kind.span,
        format!("a `{}` block needs a name", block.kind.name),
        "no name",
    )
    .help(format!("write `{} some_name {{ ... }}`", block.kind.name))
}

fn duplicate(name: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        registry::DUPLICATE,
        span,
        format!("`{name}` is declared twice in the same scope"),
        "declared again here",
    )
    .related(first, "first declared here")
    .help("rename one of them; names are unique among siblings")
}

/// The help of a missing required block: what it is for and what it must
/// hold, as a skeleton to fill in (the required fields with their types, and
/// the required blocks inside it).
fn missing_block_help(cs: &schema::BlockSchema) -> String {
    let fields: Vec<String> = cs
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| format!("{} = ...", f.name))
        .chain(
            cs.children
                .iter()
                .filter(|c| schema::block(c).is_some_and(|b| b.arity == Arity::SingleRequired))
                .map(|c| format!("{c} {{ ... }}")),
        )
        .collect();
    if fields.is_empty() {
        format!("add `{} {{ ... }}`: {}", cs.kind, cs.doc)
    } else {
        format!("add `{} {{ {} }}`: {}", cs.kind, fields.join(", "), cs.doc)
    }
}
