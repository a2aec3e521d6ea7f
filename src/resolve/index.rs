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

    /// The declaration a reference written at `offset` of `file` is
    /// resolved from: the innermost block whose body holds the offset (past
    /// its name, before its closing `}`; a block that recovery closed at the
    /// end of the text holds its end too). `text` is the file's analysed
    /// text. `None` at the top level.
    pub fn scope_at(&self, file: FileId, text: &str, offset: u32) -> Option<usize> {
        self.decls
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                let closed = d.span.end > d.span.start
                    && text.as_bytes().get(d.span.end as usize - 1) == Some(&b'}');
                d.span.file == file
                    && d.name_span.end <= offset
                    && (offset < d.span.end || (!closed && offset == d.span.end))
            })
            .min_by_key(|(_, d)| d.span.len())
            .map(|(i, _)| i)
    }

    /// The namespace of a reference written inside `scope`, or at the top
    /// level of `file`.
    pub fn root_at(&self, file: FileId, scope: Option<usize>) -> usize {
        scope
            .map(|d| self.decls[d].root)
            .or_else(|| self.root_of_file(file))
            .unwrap_or(0)
    }
}

/// The scope table of an [`Index`]: what [`super::scope::Symbols`] holds
/// while the compiler resolves, rebuilt from the declarations it recorded,
/// so that the scope rules ([`super::scope::Table`]) run on it unchanged.
pub struct Scopes<'a> {
    index: &'a Index,
    sources: &'a SourceMap,
    /// Per declaration, the children reachable by name, sorted by name.
    children: Vec<Vec<(&'a str, usize)>>,
    /// Per namespace, its top-level declarations reachable by name.
    tops: Vec<std::collections::HashMap<&'a str, usize>>,
    /// Per namespace, its top-level declarations in order.
    top_order: Vec<Vec<usize>>,
    /// Per namespace, each alias's first binding (as the resolver binds:
    /// a second binding of one name is E0213 and ignored).
    aliases: Vec<Vec<(&'a str, usize)>>,
}

impl<'a> Scopes<'a> {
    pub fn new(index: &'a Index, sources: &'a SourceMap) -> Scopes<'a> {
        let roots = index
            .roots
            .len()
            .max(index.decls.iter().map(|d| d.root + 1).max().unwrap_or(0));
        let mut children: Vec<Vec<(&str, usize)>> = vec![Vec::new(); index.decls.len()];
        let mut tops: Vec<std::collections::HashMap<&str, usize>> = vec![Default::default(); roots];
        let mut top_order: Vec<Vec<usize>> = vec![Vec::new(); roots];
        for (i, d) in index.decls.iter().enumerate() {
            // `referable`: the resolver put it in its parent's (or its
            // namespace's) table under its name.
            if !d.referable {
                continue;
            }
            let name = index.name(sources, i);
            match d.parent {
                Some(p) => children[p].push((name, i)),
                None => {
                    tops[d.root].insert(name, i);
                    top_order[d.root].push(i);
                }
            }
        }
        for c in &mut children {
            c.sort_unstable();
        }
        let aliases = index
            .roots
            .iter()
            .map(|r| {
                let mut out: Vec<(&str, usize)> = Vec::new();
                for a in &r.aliases {
                    if !out.iter().any(|(n, _)| *n == a.name) {
                        out.push((a.name.as_str(), a.target));
                    }
                }
                out
            })
            .collect();
        Scopes {
            index,
            sources,
            children,
            tops,
            top_order,
            aliases,
        }
    }

    /// What a dotted reference written inside `scope` (at the top level of
    /// `root` when `None`) would resolve to.
    pub fn resolve(&self, scope: Option<usize>, root: usize, path: &[&str]) -> Option<usize> {
        super::scope::resolve_path(self, scope, root, path)
    }

    /// The declaration beside `id` (a sibling, or a top-level declaration
    /// of its namespace) that a reference would reach by `name`.
    pub fn beside(&self, id: usize, name: &str) -> Option<usize> {
        let d = &self.index.decls[id];
        match d.parent {
            Some(p) => super::scope::Table::child(self, p, name),
            None => super::scope::Table::top(self, d.root, name),
        }
    }

    /// The name a declaration is reached by.
    pub fn name(&self, id: usize) -> &'a str {
        self.index.name(self.sources, id)
    }
}

impl super::scope::Table for Scopes<'_> {
    fn parent(&self, id: usize) -> Option<usize> {
        self.index.decls[id].parent
    }
    fn kind(&self, id: usize) -> &str {
        self.index.decls[id].kind
    }
    fn name(&self, id: usize) -> &str {
        self.index.name(self.sources, id)
    }
    fn child(&self, id: usize, name: &str) -> Option<usize> {
        let c = self.children.get(id)?;
        c.binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| c[i].1)
    }
    fn top(&self, root: usize, name: &str) -> Option<usize> {
        self.tops.get(root)?.get(name).copied()
    }
    fn alias(&self, root: usize, name: &str) -> Option<usize> {
        let a = self.aliases.get(root)?;
        a.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }
    fn each_child(&self, id: usize, f: &mut dyn FnMut(&str, usize)) {
        for (n, c) in self.children.get(id).into_iter().flatten() {
            f(n, *c);
        }
    }
    fn each_top(&self, root: usize, f: &mut dyn FnMut(&str, usize)) {
        for id in self.top_order.get(root).into_iter().flatten() {
            f(self.index.name(self.sources, *id), *id);
        }
    }
    fn each_alias(&self, root: usize, f: &mut dyn FnMut(&str, usize)) {
        for (n, m) in self.aliases.get(root).into_iter().flatten() {
            f(n, *m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::{self, Stdlib};
    use super::super::scope::{self, SymId, Symbols, Table};
    use super::*;
    use camino::Utf8PathBuf;

    /// Loads `files` (name, text) from a temporary directory, the first
    /// `inputs` of them as inputs (the rest reached by import only).
    fn loaded(
        files: &[(&str, &str)],
        inputs: usize,
    ) -> (tempfile::TempDir, SourceMap, load::Loaded) {
        let dir = tempfile::tempdir().expect("tmp");
        let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8");
        let mut paths = Vec::new();
        for (name, text) in files {
            std::fs::write(root.join(name), text).expect("write");
            paths.push(root.join(name));
        }
        paths.truncate(inputs);
        let mut map = SourceMap::new();
        let mut diags = Vec::new();
        let loaded =
            load::load(&mut map, &paths, &Stdlib::default(), None, &mut diags).expect("loads");
        (dir, map, loaded)
    }

    /// Every name the editor offers from a scope ([`scope::visible`] over
    /// the index's table) is one the compiler's resolver
    /// ([`Symbols::lookup`]) resolves to the same declaration from that
    /// scope, and the two tables resolve every name alike: shadowing, an
    /// alias bound twice (E0213: the first binding stands), duplicates,
    /// unnamed and repeated blocks.
    #[test]
    fn the_index_resolves_as_the_compiler_does() {
        let files = [
            (
                "a.tenant",
                "import \"m1.tenant\" as k\nimport \"std/profiles\"\n\
                 cluster ocp1 { kind = openshift\n  node w1 { dvipa = 10.1.1.1 }\n  registry quay { host = \"q\" }\n}\n\
                 zos NP8 { address = 10.1.1.9\n  authority ocp1 { owner = CERTAUTH }\n  nfs_server S { jobname = S\n    certificate { label = \"x\" }\n  }\n}\n\
                 tenant t { cluster = ocp1\n  nfs { server = NP8.S\n    volume ocp1 { size = 1Gi }\n    volume v { size = 1Gi }\n  }\n  workload w { image = \"i\"\n    mount { volume = v }\n    mount { volume = ocp1 }\n    claim w1 { size = 1Gi }\n  }\n}\n\
                 tenant t { cluster = k.c2 }\n",
            ),
            (
                "b.tenant",
                "import \"m2.tenant\" as k\n\
                 tenant u { cluster = k.c3\n  workload ocp1 { image = \"i\"\n    claim quay { size = 1Gi }\n  }\n}\n",
            ),
            ("m1.tenant", "cluster c2 { kind = openshift }\n"),
            ("m2.tenant", "cluster c3 { kind = openshift }\n"),
        ];
        let (_dir, map, loaded) = loaded(&files, 2);
        let mut diags = Vec::new();
        let syms = Symbols::build(&loaded, &mut diags);
        let (_, index) = super::super::resolve_indexed(&loaded, &mut Vec::new());
        assert!(
            diags.iter().any(|d| d.code.as_str() == "E0213"),
            "{diags:?}"
        );
        let table = Scopes::new(&index, &map);
        assert_eq!(index.decls.len(), syms.syms.len());
        // Every name of the site, and every alias, one to three segments.
        let mut words: Vec<&str> = (0..index.decls.len()).map(|i| table.name(i)).collect();
        words.extend(["k", "profiles", "nope"]);
        words.sort_unstable();
        words.dedup();
        let mut paths: Vec<Vec<&str>> = Vec::new();
        for &a in &words {
            paths.push(vec![a]);
            for &b in &words {
                paths.push(vec![a, b]);
                for c in ["S", "w1", "quay", "certificate", "c2", "c3"] {
                    paths.push(vec![a, b, c]);
                }
            }
        }
        let ident = |n: &str| crate::syntax::ast::Ident {
            name: n.to_string(),
            span: Span {
                file: FileId(0),
                start: 0,
                end: 0,
            },
        };
        let mut offered = 0;
        for from in 0..syms.syms.len() {
            let root = syms.get(SymId(from)).root;
            for p in &paths {
                let compiler = syms
                    .lookup(
                        SymId(from),
                        &p.iter().map(|n| ident(n)).collect::<Vec<_>>(),
                        &[],
                    )
                    .ok()
                    .map(|s| s.0);
                assert_eq!(
                    table.resolve(Some(from), root, p),
                    compiler,
                    "`{}` from {}",
                    p.join("."),
                    syms.path_of(SymId(from))
                );
                assert_eq!(scope::resolve_path(&syms, Some(from), root, p), compiler);
            }
            for (name, id) in scope::visible(&table, Some(from), root, &|_| true) {
                let p: Vec<_> = name.split('.').map(ident).collect();
                let got = syms.lookup(SymId(from), &p, &[]).ok().map(|s| s.0);
                assert_eq!(
                    got,
                    Some(id),
                    "offered `{name}` from {}",
                    syms.path_of(SymId(from))
                );
                offered += 1;
            }
        }
        assert!(offered > 100, "{offered}");
        // Inside tenant `u`'s workload `ocp1`: the alias bound twice reaches
        // the first module only, and the cluster `ocp1` is not offered under
        // the name that means the workload there.
        let w = (0..index.decls.len())
            .find(|i| index.decls[*i].kind == "workload" && table.name(*i) == "ocp1")
            .expect("workload ocp1");
        let names: Vec<String> = scope::visible(&table, Some(w), 0, &|k| k == "cluster")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["k.c2"]);
        assert_eq!(
            table.child(w, "quay").map(|c| index.decls[c].kind),
            Some("claim")
        );
    }
}
