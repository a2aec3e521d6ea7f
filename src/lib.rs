//! tenantc compiles tenant specs into the files that onboard a tenant onto
//! shared z/OS and Kubernetes infrastructure.
//!
//! Data flows one way through the stages, one module each:
//!
//! 1. [`syntax`]: `.tenant` text to a syntax tree with spans (pest grammar in
//!    `grammar/tenant.pest`).
//! 2. [`resolve`]: load imports and the stdlib prelude, resolve names, check
//!    fields against the schema, and build the typed [`ir::Site`].
//! 3. [`plan`]: every name the bundle will contain that a check judges
//!    (Kubernetes object names, job names and files, PAGENT statement names,
//!    the JCL layout of subject DNs, secret placeholders), computed once from
//!    the IR; then [`check`]: every cross-object check, on the IR and the plan.
//! 4. [`lower`]: the IR to PAGENT policy, RACF JCL, haproxy.cfg, the Purity
//!    setup script, pure.json and Kubernetes YAML, with the plan's names.
//! 5. [`bundle`]: manifest.json and the atomic write.
//!
//! [`diagnostics`] is shared by all stages, and so are the value rules in
//! [`rules`] and the tool's one error type, [`error::Error`]; [`cli`]
//! drives them, and [`lsp`] serves them to editors.
//!
//! A check relates two tenants only through the plan's claims
//! ([`plan::claims`]): adding a claim kind is the only way to add such a
//! relation, and the isolation report and the editor's slices read the same
//! claims. `ARCHITECTURE.md` lists the other invariants.
//! [`fmt`] prints a syntax tree back in the canonical layout (`tenantc fmt`,
//! and the server's formatting).

pub mod bundle;
pub mod change;
pub mod check;
pub mod cli;
pub mod confine;
pub mod diagnostics;
pub mod error;
pub mod fix;
pub mod fmt;
pub mod ir;
pub mod lower;
pub mod lsp;
mod par;
pub mod plan;
pub mod resolve;
pub mod review;
pub mod rules;
pub mod source;
pub mod syntax;

use camino::Utf8PathBuf;
use diagnostics::Diagnostic;
use source::SourceMap;

/// Settings shared by `check` and `compile`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Replaces the embedded stdlib (`std/*.tenant` and `templates/*.j2`).
    pub stdlib_dir: Option<Utf8PathBuf>,
    /// Write secret values (from the environment or files) into the bundle,
    /// in files of mode 0600, instead of placeholders.
    pub materialize_secrets: bool,
    /// Compile only these tenants (`--tenant`); checks still cover the site.
    pub only: Option<std::collections::BTreeSet<String>>,
    /// Texts read instead of the files at these paths (editor buffers).
    pub overlay: Option<std::sync::Arc<resolve::load::Overlay>>,
    /// Parse results reused across analyses of the same files (editors).
    pub parse_cache: Option<std::sync::Arc<resolve::load::ParseCache>>,
    /// Record [`Analysis::index`] (editors); a compile leaves it empty.
    pub index: bool,
    /// The site root (`--root DIR`): imports and `file()` paths stay inside
    /// it. `None`: the common directory of the inputs.
    pub root: Option<Utf8PathBuf>,
    /// Directories `file()` may read outside the root (`--allowed-resources`).
    pub allowed_resources: Vec<Utf8PathBuf>,
    /// Stops an analysis that a newer edit has made useless (editors).
    pub cancel: Option<Cancel>,
    /// Files outside these inputs have errors (an editor analysing part of
    /// a site, `src/lsp/slice.rs`): the cross-object checks, which run only
    /// on a site without errors, are skipped; the plan is still derived.
    pub errors_elsewhere: bool,
}

/// A newer-edit check for a running analysis: the editor bumps a shared
/// generation on every change, and an analysis started at an older
/// generation gives up at the next stage boundary (after parse, after resolve)
/// instead of finishing work whose result nobody will read.
#[derive(Debug, Clone)]
pub struct Cancel {
    latest: std::sync::Arc<std::sync::atomic::AtomicU64>,
    at: u64,
}

impl Cancel {
    /// A token for an analysis of the state at the current generation.
    pub fn now(latest: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Cancel {
        let at = latest.load(std::sync::atomic::Ordering::SeqCst);
        Cancel { latest, at }
    }

    /// A token for an analysis of the state after `applied` changes (the
    /// editor counts those it has applied; `latest` counts those received,
    /// so a change received but not yet applied cancels it at once).
    pub fn at(latest: std::sync::Arc<std::sync::atomic::AtomicU64>, applied: u64) -> Cancel {
        Cancel {
            latest,
            at: applied,
        }
    }

    pub fn cancelled(&self) -> bool {
        self.latest.load(std::sync::atomic::Ordering::SeqCst) != self.at
    }
}

impl Options {
    /// Where `file()` secrets may be read from, for these inputs.
    pub fn confinement(&self, inputs: &[Utf8PathBuf]) -> resolve::secrets::Confinement {
        let root = self
            .root
            .clone()
            .unwrap_or_else(|| resolve::load::site_root(inputs));
        resolve::secrets::Confinement::new(&root, &self.allowed_resources)
    }
}

/// The result of the front half of the pipeline.
pub struct Analysis {
    pub sources: SourceMap,
    pub site: ir::Site,
    /// Declarations and what every reference resolved to, for editors;
    /// empty unless [`Options::index`].
    pub index: resolve::index::Index,
    /// Sorted; empty when the spec is clean.
    pub diagnostics: Vec<Diagnostic>,
    /// Where `file()` secrets may be read from.
    pub bounds: resolve::secrets::Confinement,
    /// The site's derived names, when it resolved without errors (the checks
    /// ran on it, and lowering writes it).
    pub plan: Option<plan::Plan>,
    /// The files with an error found before the checks (loading, resolving,
    /// secrets): while there is one, the checks do not run. Sorted.
    pub failing: Vec<source::FileId>,
    /// The files that parsed whole (a tree, nothing skipped to recover
    /// from a syntax error), sorted: read from the trees before they are
    /// dropped, so no one infers it from the diagnostics.
    pub parsed: Vec<source::FileId>,
    /// Names files declare that no declaration of the index holds, sorted:
    /// top-level blocks of an unknown kind (references to them are dropped
    /// silently) and blocks a syntax error made the parser skip (references
    /// to them are not reported, [`skipped_declaration`]). What a file says
    /// about these names depends on the files declaring them.
    pub undeclared: Vec<(source::FileId, String)>,
    /// With [`Options::index`] (an editor), each file's syntax tree by
    /// [`source::FileId`], as loading parsed it (shared with the parse
    /// cache): what answers requests about the text, never parsed again.
    /// Empty otherwise, the trees' memory going to the later stages.
    pub trees: Vec<Option<std::sync::Arc<syntax::ast::SyntaxFile>>>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The site, if no error was found: what lowering takes.
    pub fn checked(&self) -> Option<check::CheckedSite<'_>> {
        let plan = self.plan.as_ref().filter(|_| !self.has_errors())?;
        Some(check::CheckedSite {
            site: &self.site,
            plan,
        })
    }
}

/// An error that is not the spec's fault: unreadable input, I/O, a bug, or
/// an analysis superseded by a newer edit.
pub use error::Error;

/// Expands directories into the `*.tenant` files below them (hidden
/// directories skipped), sorted, so the same tree always gives the same input
/// order.
///
/// A link to a directory is not followed. One that leads out of the
/// directory walked is kept as an input of its own, so that loading reports
/// it (E0211, like an import leaving the site) instead of its tenants
/// dropping out of the compile without a word; one that stays inside is
/// skipped, its files are read where they are.
pub fn find_inputs(specs: &[Utf8PathBuf]) -> Result<Vec<Utf8PathBuf>, Error> {
    let mut out = Vec::new();
    for spec in specs {
        if let Some(bad) = spec.as_str().chars().find(|c| !path_char_ok(*c)) {
            return Err(Error::Input(format!(
                "{}: the path holds U+{:04X}, which the bundle's file headers (YAML, JCL, shell comments) cannot carry; rename it",
                spec.as_str().escape_debug(),
                bad as u32
            )));
        }
        if spec.is_dir() {
            // The language server lists a workspace by the same walk.
            let walked = resolve::load::walk_specs(spec, true, usize::MAX);
            if let Some(e) = walked.errors.into_iter().next() {
                return Err(Error::Input(e));
            }
            if walked.files.is_empty() && walked.links_out.is_empty() {
                return Err(Error::Input(format!("no .tenant files in {spec}")));
            }
            let mut found = walked.files;
            found.extend(walked.links_out);
            found.sort();
            out.extend(found);
        } else if spec.exists() {
            out.push(spec.clone());
        } else {
            return Err(Error::Input(format!("{spec}: no such file or directory")));
        }
    }
    if let Some(p) = out.iter().find(|p| !p.as_str().chars().all(path_char_ok)) {
        return Err(Error::Input(format!(
            "{}: the path holds characters the bundle's file headers (YAML, JCL, shell comments) cannot carry (control characters, U+FFFE, U+FFFF); rename it",
            p.as_str().escape_debug()
        )));
    }
    // The same file named twice (`dir` and `./dir/x.tenant`) is read once.
    resolve::load::read_once(&mut out, &mut Default::default());
    Ok(out)
}

/// A character a spec's path may hold: it is recorded in the manifest and
/// in generated files' header comments. YAML allows no C0/C1 controls but
/// tab, and neither U+FFFE nor U+FFFF (YAML 1.2, 5.1 Character Set:
/// https://yaml.org/spec/1.2.2/#51-character-set).
fn path_char_ok(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{2028}' | '\u{2029}')
}

/// Parses, resolves and checks. Checks that relate objects run once every
/// object resolved cleanly, so a typo does not cascade into false alarms.
pub fn analyze(inputs: &[Utf8PathBuf], opts: &Options) -> Result<Analysis, Error> {
    let stop = || {
        opts.cancel
            .as_ref()
            .is_some_and(Cancel::cancelled)
            .then_some(Error::Superseded)
            .map_or(Ok(()), Err)
    };
    let cancelled = || opts.cancel.as_ref().is_some_and(Cancel::cancelled);
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let stdlib = resolve::load::Stdlib {
        dir: opts.stdlib_dir.clone(),
    };
    let bounds = opts.confinement(inputs);
    let loaded = resolve::load::load_in(
        &mut sources,
        inputs,
        &stdlib,
        Some(&bounds.root),
        opts.overlay.as_deref(),
        opts.parse_cache.as_deref(),
        &mut diags,
        &cancelled,
    )?;
    stop()?;
    let skipped: Vec<Skipped> = loaded
        .modules
        .iter()
        .flat_map(|m| {
            m.tree
                .skipped
                .iter()
                .map(|span| Skipped::new(&m.tree, *span, &sources))
        })
        .collect();
    // Files read with their open blocks closed at the end: what the later
    // stages say about them rests on a guess (a `}` missing mid-file nests
    // the rest of it), so only what loading them found (syntax, literals,
    // imports) is reported. Their declarations still resolve the other
    // files' references and fill the index.
    let guessed: Vec<source::FileId> = loaded
        .modules
        .iter()
        .filter(|m| m.tree.closed_at_end())
        .map(|m| m.tree.file)
        .collect();
    let mut parsed: Vec<source::FileId> = (loaded.modules.iter())
        .filter(|m| m.tree.skipped.is_empty())
        .map(|m| m.tree.file)
        .collect();
    parsed.sort();
    parsed.dedup();
    let mut undeclared: Vec<(source::FileId, String)> = Vec::new();
    for m in &loaded.modules {
        for b in &m.tree.blocks {
            if let (None, Some(name)) = (resolve::scope::top_level_kind(b), &b.name) {
                undeclared.push((m.tree.file, name.name.clone()));
            }
        }
        for span in &m.tree.skipped {
            if let Some(name) = skipped_declaration(sources.snippet(*span)) {
                undeclared.push((m.tree.file, name.to_string()));
            }
        }
    }
    undeclared.sort();
    undeclared.dedup();
    let mut later = Vec::new();
    let (site, index) = resolve::resolve_with(&loaded, &mut later, opts.index, &cancelled);
    if !skipped.is_empty() {
        later.retain(|d| !skipped.iter().any(|s| s.explains(d, &sources)));
    }
    drop(skipped);
    let mut trees = Vec::new();
    if opts.index {
        trees.resize(sources.files().count(), None);
        for m in &loaded.modules {
            trees[m.file.0 as usize] = Some(m.tree.clone());
        }
    }
    // The syntax trees are done with: their memory serves the later stages.
    drop(loaded);
    stop()?;
    // Secret sources are claims too, judged now: a shared one (E0309) stops
    // the checks, as an unreadable one (E0308) does.
    let (secret_claims, unreadable) = resolve::secrets::claims(&site, &sources, &bounds);
    later.extend(unreadable);
    later.extend(check::claims::diagnostics(&site, &secret_claims, &|k| {
        k.early()
    }));
    later.retain(|d| !guessed.contains(&d.primary.span.file));
    diags.extend(later);
    let mut failing: Vec<source::FileId> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.primary.span.file)
        .collect();
    failing.sort();
    failing.dedup();
    let mut plan = None;
    if failing.is_empty() {
        let names = plan::build_with(&site, secret_claims);
        if !opts.errors_elsewhere {
            diags.extend(check::run_until(&site, &names, &cancelled));
        }
        stop()?;
        plan = Some(names);
    }
    diagnostics::normalize(&mut diags);
    Ok(Analysis {
        sources,
        site,
        index,
        diagnostics: diags,
        bounds,
        plan,
        failing,
        parsed,
        undeclared,
        trees,
    })
}

/// A statement parse-error recovery skipped (its error is reported): what
/// it would have declared must not be reported a second time as missing.
struct Skipped<'t> {
    /// Where the header (`kind name`) of the block holding it starts.
    block: Option<source::Span>,
    /// Its first two words: a field's name, or a block's kind and name.
    words: [&'t str; 2],
    /// The name it could declare ([`skipped_declaration`]).
    declares: Option<&'t str>,
}

/// The name a statement skipped by parse-error recovery could declare: a
/// block, `kind name {`, declares its second word. A field, or a broken line
/// of any other shape, declares nothing, so it silences no reference (it
/// once silenced every reference to its second word, in every file of the
/// site). The language server's slices read the same names
/// ([`Analysis::undeclared`]), so both agree on what a broken file hides.
pub fn skipped_declaration(snippet: &str) -> Option<&str> {
    let word = |c: char| c.is_alphanumeric() || "_-$#@".contains(c);
    let rest = snippet.trim_start();
    let kind_len = rest.find(|c: char| !word(c))?;
    let rest = rest[kind_len..].trim_start();
    let name_len = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
    let (name, after) = rest.split_at(name_len);
    (kind_len > 0 && !name.is_empty() && after.trim_start().starts_with('{')).then_some(name)
}

impl<'t> Skipped<'t> {
    fn new(tree: &syntax::ast::SyntaxFile, span: source::Span, sources: &'t SourceMap) -> Self {
        fn inner(
            blocks: &mut dyn Iterator<Item = &syntax::ast::Block>,
            span: source::Span,
        ) -> Option<source::Span> {
            let b = loop {
                let b = blocks.next()?;
                if b.span.start <= span.start && span.end <= b.span.end {
                    break b;
                }
            };
            let mut nested = b.entries.iter().filter_map(|e| match e {
                syntax::ast::Entry::Block(b) => Some(b),
                syntax::ast::Entry::Field(_) => None,
            });
            inner(&mut nested, span).or(Some(b.kind.span))
        }
        let snippet = sources.snippet(span);
        let mut words = snippet
            .split(|c: char| !(c.is_alphanumeric() || "_-$#@".contains(c)))
            .filter(|w| !w.is_empty());
        Skipped {
            block: inner(&mut tree.blocks.iter(), span),
            words: [words.next().unwrap_or(""), words.next().unwrap_or("")],
            declares: skipped_declaration(snippet),
        }
    }

    /// A missing field or block of the block that held the statement, when
    /// the statement set it; a reference to the name it declared.
    fn explains(&self, d: &Diagnostic, sources: &SourceMap) -> bool {
        use diagnostics::registry::{MISSING_FIELD, UNRESOLVED};
        if d.code == MISSING_FIELD {
            self.block
                .is_some_and(|b| b.file == d.primary.span.file && b.start == d.primary.span.start)
                && !self.words[0].is_empty()
                && d.subject.as_deref() == Some(self.words[0])
        } else if d.code == UNRESOLVED {
            let reference = sources.snippet(d.primary.span);
            self.declares
                .is_some_and(|name| reference.split('.').any(|seg| seg == name))
        } else {
            false
        }
    }
}

/// `v` in an allocation of its length. The syntax trees are held until the
/// whole site is resolved, and the IR until the bundle is written (each
/// some 50-100 MB at 10,000 tenants); a vector grown a push at a time holds
/// room for up to twice its elements (four for one or two), and a
/// shrinking `realloc` may keep the larger block, so the elements are moved
/// to a new one.
pub(crate) fn fitted<T>(v: Vec<T>) -> Vec<T> {
    if v.capacity() == v.len() {
        return v;
    }
    let mut out = Vec::with_capacity(v.len());
    out.extend(v);
    out
}

/// With `TENANTC_TIMINGS` set, prints the resident set now and at its peak
/// (Linux's `/proc/self/status`), after `what`: where a compile's memory goes.
pub fn memory_note(what: &str) {
    if std::env::var_os("TENANTC_TIMINGS").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        (status.lines())
            .find_map(|l| l.strip_prefix(name))
            .map_or("?", |v| v.trim())
            .to_string()
    };
    eprintln!(
        "memory: after {what}: resident {}, peak {}",
        field("VmRSS:"),
        field("VmHWM:")
    );
}

/// Lowers a clean analysis into a sealed bundle (manifest included), in memory.
pub fn build_bundle(analysis: &Analysis, opts: &Options) -> Result<bundle::Bundle, Error> {
    lower_sealed(analysis, checked(analysis)?, opts, None, None)
}

/// Lowers a clean analysis straight into a bundle at `out`, replacing the
/// one there atomically: files are written as they are lowered, on every
/// core, and nothing at `out` changes unless the whole bundle was written.
/// Returns the bundle's index (its files' contents are on disk only).
///
/// The analysis' plan loses its claims: what the isolation report needs of
/// them is taken first, and the rest (some 23 MB at 10,000 tenants) is not
/// held through lowering.
pub fn compile_to(
    analysis: &mut Analysis,
    opts: &Options,
    out: &camino::Utf8Path,
) -> Result<bundle::Bundle, Error> {
    checked(analysis)?;
    selection(analysis, opts.only.as_ref())?;
    let internal = |e: lower::Error| Error::Internal(format!("internal error while lowering: {e}"));
    let mut isolation = None;
    if let Some(plan) = analysis.plan.as_mut() {
        isolation = Some(std::sync::Arc::new(
            lower::isolation::prepare(&analysis.site, plan).map_err(internal)?,
        ));
        plan.claims = Vec::new();
    }
    let site = checked(analysis)?;
    let staging = std::sync::Arc::new(bundle::Staging::begin(out, opts.only.as_ref())?);
    let b = lower_sealed(analysis, site, opts, Some(staging.clone()), isolation)?;
    staging.commit(&b)?;
    Ok(b)
}

/// The tenants `--tenant` names, each checked to exist.
fn selection(
    analysis: &Analysis,
    only: Option<&std::collections::BTreeSet<String>>,
) -> Result<lower::Selection, Error> {
    let Some(names) = only else {
        return Ok(lower::Selection::default());
    };
    let known: Vec<&str> = analysis
        .site
        .tenants
        .iter()
        .map(|t| t.name.value.as_str())
        .collect();
    for n in names {
        if !known.contains(&n.as_str()) {
            let hint = diagnostics::suggest(n, known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(Error::Input(format!("--tenant {n}: no such tenant{hint}")));
        }
    }
    Ok(lower::Selection::only(names.clone()))
}

/// The checked site of a clean analysis; an analysis with errors is never
/// lowered (the CLI stops before, and so does every other caller).
fn checked(analysis: &Analysis) -> Result<check::CheckedSite<'_>, Error> {
    analysis.checked().ok_or_else(|| {
        Error::Input("the spec has errors: nothing is lowered (`tenantc check` lists them)".into())
    })
}

/// A spec file's name as the bundle records it (headers, manifest.json):
/// its path relative to the site root, `/`-separated, whatever working
/// directory or spelling (relative, absolute, `./`, a linked directory) the
/// command line used, so that the same specs give the same bundle from
/// anywhere. A file outside the root (or without a path: the stdlib) keeps
/// its name.
pub(crate) fn site_name(analysis: &Analysis, f: &source::SourceFile) -> String {
    let Some(path) = &f.path else {
        return f.name.clone();
    };
    let abs = std::path::absolute(path.as_std_path()).unwrap_or_else(|_| path.clone().into());
    // The directory with its links resolved, like the root; not the file's
    // own link.
    let dir = abs
        .parent()
        .and_then(|d| std::fs::canonicalize(d).ok())
        .unwrap_or_else(|| abs.parent().map(Into::into).unwrap_or_default());
    let full = match abs.file_name() {
        Some(n) => dir.join(n),
        None => return f.name.clone(),
    };
    match full.strip_prefix(analysis.bounds.root.as_std_path()) {
        Ok(rel) => {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.is_empty() {
                f.name.clone()
            } else {
                parts.join("/")
            }
        }
        Err(_) => f.name.clone(),
    }
}

fn lower_sealed(
    analysis: &Analysis,
    checked: check::CheckedSite<'_>,
    opts: &Options,
    staging: Option<std::sync::Arc<bundle::Staging>>,
    isolation: Option<std::sync::Arc<lower::isolation::Prepared>>,
) -> Result<bundle::Bundle, Error> {
    // Sorted by name, not load order: manifest.json lists them, and adding
    // one spec file must add one entry, not shift the others.
    // Borrowed: a copy of the specs' text (40 MB at 10,000 tenants) stayed
    // alive through the whole lowering.
    let mut inputs: Vec<(String, &[u8])> = analysis
        .sources
        .files()
        .map(|(_, f)| (site_name(analysis, f), f.text.as_bytes()))
        .collect();
    inputs.sort_by(|a, b| a.0.cmp(&b.0));
    let names = input_names(analysis);
    // What the objects were made from, for the next plan (a partial bundle
    // says nothing of the tenants it left out, so a plan from it lowers
    // all): worked out before lowering, whose peak it would add to.
    let made_from = opts
        .only
        .is_none()
        .then(|| change::inputs(analysis, opts.stdlib_dir.as_deref()));
    let secrets = if opts.materialize_secrets {
        Some(read_secrets(analysis, opts.only.as_ref())?)
    } else {
        None
    };
    let opts = lower::LowerOptions {
        stdlib_dir: opts.stdlib_dir.clone(),
        inputs: names,
        secrets,
        only: selection(analysis, opts.only.as_ref())?,
        staging,
        skip_site_reports: false,
        isolation,
    };
    // A failed write is an I/O error; anything else here is a bug.
    let failed = |e: lower::Error| match opts.staging.as_ref().and_then(|s| s.failure()) {
        Some(io) => Error::Io(format!("cannot write the bundle: {io}")),
        None => Error::Internal(format!("internal error while lowering: {e}")),
    };
    let mut b = lower::lower(checked, &opts).map_err(failed)?;
    memory_note("lowering");
    b.only = opts.only.names().cloned();
    if let Some(made_from) = made_from {
        b.inventory.inputs = made_from;
    }
    b.seal(&inputs).map_err(failed)?;
    memory_note("the inventory and the manifest");
    Ok(b)
}

/// The day-2 plan: the change from the bundle deployed at `deployed` (its
/// `inventory.jsonl`) to the specs of a clean analysis, and the change
/// bundle that makes it.
pub fn plan(
    analysis: &Analysis,
    opts: &Options,
    deployed: &camino::Utf8Path,
    plan: &change::PlanOptions,
) -> Result<(change::Change, bundle::Bundle), Error> {
    let timings = std::env::var_os("TENANTC_TIMINGS").is_some();
    let started = std::time::Instant::now();
    let old = std::sync::Arc::new(read_inventory(deployed)?);
    let read = started.elapsed();
    // An object is judged when it is first parsed; the reasons name it by
    // its number and never quote it (`Deployed::entry`).
    let refuse = |why: String| {
        Error::Input(format!(
            "--deployed {deployed}: inventory.jsonl is not an inventory tenantc wrote ({why})"
        ))
    };
    let checked = checked(analysis)?;
    let inputs = change::inputs(analysis, opts.stdlib_dir.as_deref());
    let scope = if plan.full {
        None
    } else {
        change::scope(&analysis.site, &old, &inputs)
    };
    // Only the tenants whose specs changed, and what they share, are
    // lowered again, until every shared object a removed tenant held was
    // recorded anew; everything else is as deployed, its lines copied.
    let (new, mut inventory, old) = match scope {
        None => {
            let b = lower_unsealed(analysis, checked, opts, None)?;
            let inv = b.inventory.clone();
            (b, inv, old.to_inventory().map_err(refuse)?)
        }
        Some((mut lower, removed)) => loop {
            let b = lower_unsealed(analysis, checked, opts, Some(&lower))?;
            let affected: std::collections::BTreeSet<String> =
                lower.union(&removed).cloned().collect();
            match change::merge(&old, &b, &affected).map_err(refuse)? {
                change::Merged::Done { inventory, old } => {
                    if timings {
                        eprintln!(
                            "plan: lowered {} of {} tenants again",
                            lower.len(),
                            analysis.site.tenants.len()
                        );
                    }
                    break (b, *inventory, *old);
                }
                change::Merged::More(more) => lower.extend(more),
            }
        },
    };
    inventory.inputs = inputs;
    let mut c = change::diff(&old, &inventory);
    if let (Some(today), Some(days)) = (&plan.today, plan.renew_within) {
        c.due = change::due(&inventory, today, days).map_err(Error::Input)?;
    }
    let merged = started.elapsed();
    let templates = lower::Templates::load(&lower::LowerOptions {
        stdlib_dir: opts.stdlib_dir.clone(),
        ..Default::default()
    })?;
    let internal = |e: lower::Error| Error::Input(format!("internal error while planning: {e}"));
    let mut b =
        change::bundle(&analysis.site, &templates, &c, &new, inventory, plan).map_err(internal)?;
    b.seal(&[]).map_err(internal)?;
    if timings {
        eprintln!(
            "plan: read the deployed inventory {read:?}, lowered and compared {:?}, change bundle {:?}",
            merged - read,
            started.elapsed() - merged
        );
    }
    Ok((c, b))
}

/// Lowers some tenants (all with `None`) into memory, unsealed: for a plan,
/// which needs their files and objects, not a bundle to write.
fn lower_unsealed(
    analysis: &Analysis,
    checked: check::CheckedSite<'_>,
    opts: &Options,
    only: Option<&std::collections::BTreeSet<String>>,
) -> Result<bundle::Bundle, Error> {
    let lopts = lower::LowerOptions {
        stdlib_dir: opts.stdlib_dir.clone(),
        inputs: input_names(analysis),
        secrets: None,
        only: only.map_or_else(lower::Selection::default, |o| {
            lower::Selection::only(o.clone())
        }),
        staging: None,
        skip_site_reports: true,
        isolation: None,
    };
    lower::lower(checked, &lopts)
        .map_err(|e| Error::Input(format!("internal error while lowering: {e}")))
}

/// The spec files' names, for the "generated from" headers.
fn input_names(analysis: &Analysis) -> Vec<(source::FileId, String)> {
    analysis
        .sources
        .files()
        .filter(|(_, f)| f.path.is_some())
        .map(|(id, f)| (id, site_name(analysis, f)))
        .collect()
}

/// Reads the inventory of a deployed bundle. The bundle is data the user may
/// not have written: the file is opened without following a link, must be a
/// regular file of bounded size, every object in it is judged by the rules of
/// its kind ([`bundle::admit`]) before a plan writes its name anywhere, and
/// none of its text is quoted back.
fn read_inventory(dir: &camino::Utf8Path) -> Result<bundle::inventory::Deployed, Error> {
    use std::io::Read;
    const LIMIT: u64 = 512 << 20;
    let path = dir.join(bundle::inventory::INVENTORY);
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(
            (rustix::fs::OFlags::NOFOLLOW
                | rustix::fs::OFlags::NONBLOCK
                | rustix::fs::OFlags::NOCTTY)
                .bits() as i32,
        );
    }
    let refuse = |why: &str| Error::Input(format!("--deployed {dir}: {why}"));
    let f = o.open(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            refuse("holds no inventory.jsonl (is it a bundle tenantc compiled?)")
        }
        _ => refuse(&format!(
            "cannot open inventory.jsonl ({e}); a link is not followed"
        )),
    })?;
    let meta = f.metadata().map_err(|e| refuse(&e.to_string()))?;
    if !meta.is_file() {
        return Err(refuse("inventory.jsonl is not a regular file"));
    }
    if meta.len() > LIMIT {
        return Err(refuse(
            "inventory.jsonl is larger than any inventory tenantc writes",
        ));
    }
    let mut text = String::new();
    f.take(LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|_| refuse("inventory.jsonl is not UTF-8 text"))?;
    // The reasons name a line and never quote it (`Deployed::read`).
    bundle::inventory::Deployed::read(text).map_err(|why| {
        refuse(&format!(
            "inventory.jsonl is not an inventory tenantc wrote ({why})"
        ))
    })
}

/// The secret references whose values a materialized bundle carries: API
/// tokens (in pure.json), registry credentials and workload variables (in the
/// kustomizations' secret files). PKCS#12 passwords stay placeholders in the
/// JCL, which is submitted to z/OS and kept in its spool.
///
/// With `only`, just the selected tenants': their variables, pull secrets
/// and API tokens. The pure.json of their cluster is written whole, with
/// placeholders for the other tenants' tokens: a partial bundle never
/// carries another tenant's secret.
pub fn materialized_refs<'s>(
    site: &'s ir::Site,
    only: Option<&std::collections::BTreeSet<String>>,
) -> Vec<&'s ir::SecretRef> {
    let selected = |t: &ir::Tenant| only.is_none_or(|o| o.contains(&t.name.value));
    let mut refs: Vec<&ir::SecretRef> = Vec::new();
    for t in &site.tenants {
        if !selected(t) {
            continue;
        }
        if let Some(p) = &t.pure {
            refs.push(&p.token);
        }
        let proxy = t.nfs.as_ref().and_then(|n| n.proxy.registry.as_ref());
        for r in proxy
            .into_iter()
            .chain(t.workloads.iter().filter_map(|w| w.registry.as_ref()))
        {
            refs.push(&site.registry(r.value).credentials);
        }
        for w in &t.workloads {
            for (_, v) in &w.env {
                if let ir::EnvValue::Secret(r) = &v.value {
                    refs.push(r);
                }
            }
        }
    }
    refs
}

/// Reads every materialized secret: `env("X")` from the environment,
/// `file("p")` relative to the spec that names it. Errors name the reference,
/// never a value.
fn read_secrets(
    analysis: &Analysis,
    only: Option<&std::collections::BTreeSet<String>>,
) -> Result<lower::SecretValues, Error> {
    let mut values = lower::SecretValues::default();
    let mut problems = Vec::new();
    let tokens: Vec<*const ir::SecretRef> = analysis
        .site
        .pure_tenants()
        .map(|(_, p)| std::ptr::from_ref(&p.token))
        .collect();
    for r in materialized_refs(&analysis.site, only) {
        let value = match r.source {
            ir::SecretSource::Env => match std::env::var(&r.name) {
                Ok(v) => v,
                Err(std::env::VarError::NotPresent) => {
                    problems.push(format!("{r} is not set"));
                    continue;
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    problems.push(format!("{r} is not valid UTF-8"));
                    continue;
                }
            },
            ir::SecretSource::File => {
                match resolve::secrets::read_file(&analysis.sources, &analysis.bounds, r) {
                    // A file ends with a newline that is not part of the value.
                    Ok(v) => v
                        .strip_suffix('\n')
                        .map(|v| v.strip_suffix('\r').unwrap_or(v))
                        .unwrap_or(&v)
                        .to_string(),
                    Err(e) => {
                        problems.push(e);
                        continue;
                    }
                }
            }
        };
        if value.trim().is_empty() {
            problems.push(format!("{r} is empty"));
            continue;
        }
        if tokens.contains(&std::ptr::from_ref(r)) {
            if let Some(why) = resolve::secrets::token_problem(&value) {
                problems.push(format!("{r} does not look like an API token: it {why}"));
                continue;
            }
        }
        values.insert(r, value);
    }
    problems.sort();
    problems.dedup();
    if !problems.is_empty() {
        return Err(Error::Input(format!(
            "--materialize-secrets needs every secret the bundle carries; nothing written:\n  {}",
            problems.join("\n  ")
        )));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    /// A skipped block declares its name; a broken field or line declares
    /// nothing (it once silenced its second word everywhere).
    #[test]
    fn only_a_skipped_block_declares() {
        use super::skipped_declaration as d;
        assert_eq!(d("cluster ocq1 { kind = ] }"), Some("ocq1"));
        assert_eq!(d("  tenant t-1\n  {"), Some("t-1"));
        assert_eq!(d("image ocq1 ]"), None);
        assert_eq!(d("cluster = ocq1 ]"), None);
        assert_eq!(d("ocq1 { }"), None);
        assert_eq!(d(""), None);
    }

    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    fn seed() -> Vec<Utf8PathBuf> {
        let dir = camino::Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut specs: Vec<Utf8PathBuf> = find_inputs(&[dir]).expect("the examples are readable");
        specs.truncate(1);
        specs
    }

    #[test]
    fn a_newer_edit_supersedes_the_analysis() {
        let latest = Arc::new(AtomicU64::new(7));
        let opts = Options {
            cancel: Some(Cancel::now(latest.clone())),
            ..Options::default()
        };
        // Not superseded: the analysis runs to its end.
        assert!(analyze(&seed(), &opts).is_ok());
        latest.fetch_add(1, Ordering::SeqCst);
        let e = analyze(&seed(), &opts).err().expect("superseded");
        assert!(e.is_superseded(), "{e}");
        // A token taken after the change is current again.
        let opts = Options {
            cancel: Some(Cancel::now(latest)),
            ..Options::default()
        };
        assert!(analyze(&seed(), &opts).is_ok());
    }
}
