//! The command line: `check`, `compile`, `graph`, `fmt`, `lsp`, `explain`.
//!
//! Exit codes: 0 ok, 1 the spec has errors, 2 usage, I/O or internal errors.
//! Diagnostics go to stderr (human) or stdout (`--diagnostics-format json`);
//! a successful run prints one summary line to stderr.

use crate::diagnostics::{self, registry, HumanStyle};
use crate::source::SourceMap;
use crate::{analyze, build_bundle, find_inputs, Analysis, Error, Options};
use camino::{Utf8Path, Utf8PathBuf};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "tenantc",
    version,
    about = "Compile tenant specs into PAGENT policy, RACF JCL, haproxy.cfg and Kubernetes YAML"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum GraphFormat {
    Dot,
    Svg,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Text with the source lines, on stderr.
    Human,
    /// One JSON object per diagnostic and line, on stdout (fixes included).
    Json,
    /// One SARIF 2.1.0 log on stdout, also when clean (code scanning).
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...::message`), one a
    /// line on stdout: annotations on the change.
    Github,
    /// A GitLab Code Quality report (a JSON array) on stdout, also when clean.
    Gitlab,
}

#[derive(clap::Args)]
struct Common {
    /// Spec files, or directories searched for *.tenant files.
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<Utf8PathBuf>,
    /// How to print diagnostics: human (stderr), json (one object per line,
    /// stdout), sarif (one SARIF 2.1.0 log on stdout, also when clean),
    /// github (GitHub Actions workflow commands on stdout) or gitlab (a
    /// GitLab Code Quality report on stdout, also when clean).
    #[arg(long, value_enum, default_value = "human")]
    diagnostics_format: Format,
    /// Use this directory instead of the embedded stdlib (std/*.tenant, templates/*.j2).
    #[arg(long, value_name = "DIR")]
    stdlib: Option<Utf8PathBuf>,
    /// The site root: imports and file("...") secrets resolve only inside it
    /// (symbolic links resolved). Default: the common directory of the inputs.
    #[arg(long, value_name = "DIR")]
    root: Option<Utf8PathBuf>,
    /// A directory file("...") secrets may also be read from, outside the
    /// site root, by absolute or relative path (repeatable).
    #[arg(long = "allowed-resources", value_name = "DIR")]
    allowed_resources: Vec<Utf8PathBuf>,
    /// Today's date (yyyy-mm-dd), for the renewal window: tenantc never reads
    /// the clock, so the output depends on the inputs alone.
    #[arg(long, value_name = "DATE", requires = "renew_within")]
    today: Option<String>,
    /// Warn (E0441) about certificates whose NOTAFTER falls within this many
    /// days of --today.
    #[arg(long, value_name = "DAYS", requires = "today")]
    renew_within: Option<u32>,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, resolve and check specs; write nothing.
    Check(Common),
    /// Check specs and, if they are clean, write the bundle.
    Compile {
        #[command(flatten)]
        common: Common,
        /// Directory the bundle is written to (replaced atomically).
        #[arg(long, short, value_name = "DIR")]
        out: Utf8PathBuf,
        /// Write secret values (API tokens, registry credentials, workload
        /// secrets) from the environment or files into the bundle, in files of
        /// mode 0600; without it the bundle holds placeholders only.
        #[arg(long)]
        materialize_secrets: bool,
        /// Write nothing; print a unified diff and exit 1 when the bundle at
        /// --out differs from what the specs produce (drift check for CI).
        #[arg(long)]
        check: bool,
        /// Write only this tenant's files and the shared files it uses
        /// (repeatable); every check still covers the whole site.
        #[arg(long = "tenant", value_name = "NAME")]
        tenants: Vec<String>,
    },
    /// Plan a day-2 change: compare the specs with the bundle that is
    /// deployed (its inventory.jsonl) and write a change bundle holding only
    /// what the change needs (CHANGE.md, jobs, scripts, manifests), ordered
    /// so nothing runs before what it needs and nothing is removed before its
    /// replacement serves. Prints a summary per target system on stdout.
    Plan {
        #[command(flatten)]
        common: Common,
        /// The bundle deployed on the systems (a directory tenantc compiled).
        #[arg(long, value_name = "DIR")]
        deployed: Utf8PathBuf,
        /// Directory the change bundle is written to (replaced atomically).
        #[arg(long, short, value_name = "DIR")]
        out: Utf8PathBuf,
        /// Remove the exported directories of removed volumes (kept otherwise).
        #[arg(long)]
        remove_directories: bool,
        /// Eradicate destroyed Purity pods and realms at once (their data is
        /// recoverable for the array's eradication delay otherwise).
        #[arg(long)]
        eradicate: bool,
        /// Lower every tenant again, not only those whose specs changed (the
        /// change is the same; this is slower on a large site).
        #[arg(long)]
        full: bool,
    },
    /// Draw the site's topology (Graphviz DOT, or SVG through graphviz's `dot`).
    Graph {
        #[command(flatten)]
        common: Common,
        /// dot (text, always available) or svg (needs graphviz installed).
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<Utf8PathBuf>,
    },
    /// Serve the Language Server Protocol on stdin/stdout, for editors.
    Lsp {
        /// Use this directory instead of the embedded stdlib.
        #[arg(long, value_name = "DIR")]
        stdlib: Option<Utf8PathBuf>,
        /// Accepted for editors that pass it; stdio is the only transport.
        #[arg(long, hide = true)]
        stdio: bool,
    },
    /// Rewrite spec files in the canonical layout (comments kept); with
    /// --check, write nothing and report the files that would change.
    Fmt {
        /// Spec files, or directories searched for *.tenant files; `-` formats
        /// standard input to standard output.
        #[arg(required = true, value_name = "SPEC")]
        specs: Vec<Utf8PathBuf>,
        /// Write nothing; print a unified diff of every file that is not in
        /// the canonical layout, and exit 1 if there is one (for CI).
        #[arg(long)]
        check: bool,
        /// How to print the diagnostics of files that do not parse: human
        /// (stderr), json (one object per line, stdout), sarif, github or
        /// gitlab (on stdout).
        #[arg(long, value_enum, default_value = "human")]
        diagnostics_format: Format,
    },
    /// Apply the fixes diagnostics suggest ("safe" ones; "guess" ones too
    /// with --guess), formatting each fixed file; a file whose fixed text
    /// would not parse is left as it is. Then reports what remains.
    Fix {
        #[command(flatten)]
        common: Common,
        /// Also apply fixes a person should confirm (a misspelt name's
        /// nearest match, an address granted access).
        #[arg(long)]
        guess: bool,
        /// Write nothing; print the unified diff the fixes would make, and
        /// exit 1 if there is one.
        #[arg(long)]
        diff: bool,
    },
    /// Print a completion script for a shell, e.g.
    /// `tenantc completions bash > /etc/bash_completion.d/tenantc`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the long explanation of a diagnostic code, e.g. `tenantc explain E0401`.
    Explain {
        /// The code; `all` lists every code.
        code: String,
    },
}

/// The command-line definition, for generated documentation (the man page).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
}

/// The status of a process ended by SIGPIPE, as the shell reports it
/// (128 + 13): `tenantc ... | head` ends as `ls | head` does.
pub const BROKEN_PIPE_STATUS: u8 = 141;

/// Writes to standard output. A reader that went away (`| head`) ends the
/// process quietly with [`BROKEN_PIPE_STATUS`]; the Rust runtime ignores
/// SIGPIPE, so without this the write fails with EPIPE and `println!`
/// panics. (Resetting SIGPIPE to its default would need `unsafe`, which the
/// crate forbids.) Other write errors are left to the exit status.
pub fn out(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(i32::from(BROKEN_PIPE_STATUS));
        }
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            if let Err(io) = e.print() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitCode::from(BROKEN_PIPE_STATUS);
                }
            }
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn style() -> HumanStyle {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if !no_color && std::io::stderr().is_terminal() {
        HumanStyle::Color
    } else {
        HumanStyle::Plain
    }
}

/// Prints the diagnostics; true when there are errors. A SARIF log is
/// printed also for a clean spec (code scanning then closes old alerts),
/// except where stdout carries the command's own output (`graph`).
fn report(a: &Analysis, format: Format) -> bool {
    report_to(a, format, true)
}

fn report_to(a: &Analysis, format: Format, clean_log: bool) -> bool {
    report_diagnostics(
        &a.sources,
        &a.diagnostics,
        format,
        "nothing written",
        clean_log,
    )
}

/// Prints diagnostics, with a summary line ending in `outcome` (human format,
/// if there are errors); returns true if any is an error. `clean_log`: print
/// a SARIF log also when there is nothing to report.
fn report_diagnostics(
    sources: &SourceMap,
    diags: &[diagnostics::Diagnostic],
    format: Format,
    outcome: &str,
    clean_log: bool,
) -> bool {
    let has_errors = diags.iter().any(diagnostics::Diagnostic::is_error);
    match format {
        Format::Human => {
            let text = diagnostics::render_human(sources, diags, style());
            let _ = std::io::stderr().write_all(text.as_bytes());
            let (errors, warnings) = diagnostics::totals(diags);
            if errors > 0 {
                eprintln!("error: {errors} error(s), {warnings} warning(s); {outcome}");
            }
        }
        Format::Json => out(diagnostics::render_json(sources, diags).as_bytes()),
        Format::Github => out(diagnostics::render_github(sources, diags).as_bytes()),
        Format::Sarif if clean_log || has_errors => {
            out(diagnostics::render_sarif(sources, diags).as_bytes());
        }
        Format::Gitlab if clean_log || has_errors => {
            out(diagnostics::render_gitlab(sources, diags).as_bytes());
        }
        Format::Sarif | Format::Gitlab => {}
    }
    has_errors
}

/// Prints a `--check` diff: on stdout, unless machine-readable diagnostics
/// own it, then on stderr.
fn print_diff(diff: &str, format: Format) {
    if format == Format::Human {
        out(diff.as_bytes());
    } else {
        let _ = std::io::stderr().write_all(diff.as_bytes());
    }
}

fn analyze_common(
    c: &Common,
    materialize: bool,
    tenants: &[String],
) -> Result<(Analysis, usize, Options), Error> {
    let inputs = find_inputs(&c.specs)?;
    let opts = Options {
        stdlib_dir: c.stdlib.clone(),
        materialize_secrets: materialize,
        only: (!tenants.is_empty()).then(|| tenants.iter().cloned().collect()),
        overlay: None,
        parse_cache: None,
        index: false,
        root: c.root.clone(),
        allowed_resources: c.allowed_resources.clone(),
        cancel: None,
        errors_elsewhere: false,
    };
    let mut a = analyze(&inputs, &opts)?;
    crate::resolve::siblings::annotate(&a.sources, &mut a.diagnostics);
    if let (Some(today), Some(days)) = (&c.today, c.renew_within) {
        if crate::plan::jcl::add_days(today, days).is_none() {
            return Err(Error::Input(format!(
                "--today {today}: not a date (yyyy-mm-dd)"
            )));
        }
        if !a.has_errors() {
            a.diagnostics
                .extend(crate::check::zos::due(&a.site, today, days));
        }
    }
    Ok((a, inputs.len(), opts))
}

/// Leaves a large value for the process exit to free: the site, the sources
/// and the bundle's index of a 1,000-tenant compile take 15-30 ms to drop
/// piece by piece, and nothing runs after them. (`run` returns to `main`,
/// which exits.)
fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Check(c) => {
            let (a, n, _) = analyze_common(&c, false, &[])?;
            if report(&a, c.diagnostics_format) {
                return Ok(ExitCode::from(1));
            }
            if c.diagnostics_format == Format::Human {
                eprintln!(
                    "ok: {n} file(s), {} tenant(s), no errors",
                    a.site.tenants.len()
                );
            }
            leave_to_exit(a);
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan {
            common,
            deployed,
            out,
            remove_directories,
            eradicate,
            full,
        } => {
            let (a, _, opts) = analyze_common(&common, false, &[])?;
            if report(&a, common.diagnostics_format) {
                return Ok(ExitCode::from(1));
            }
            let plan_opts = crate::change::PlanOptions {
                today: common.today.clone(),
                renew_within: common.renew_within,
                remove_directories,
                eradicate,
                full,
            };
            // The change replaces `--out` whole: it may neither be the
            // deployed bundle, lie inside it, nor hold it.
            if let (Some(o), Some(d)) = (resolved(&out), resolved(&deployed)) {
                if o.starts_with(&d) || d.starts_with(&o) {
                    return Err(Error::Input(format!(
                        "--out {out} and --deployed {deployed} overlap; write the change elsewhere"
                    )));
                }
            }
            let (change, bundle) = crate::plan(&a, &opts, &deployed, &plan_opts)?;
            if let Some(inside) = input_inside(&a, common.stdlib.as_ref(), &out) {
                return Err(Error::Input(format!(
                    "--out {out} contains {inside}, an input of this plan; write the change elsewhere"
                )));
            }
            let text = match common.diagnostics_format {
                Format::Json => crate::change::to_json(&change),
                _ => crate::change::summary(&change),
            };
            let _ = std::io::stdout().write_all(text.as_bytes());
            // A change with a refused part is not written: applying the rest
            // alone (a new authority without the certificates it signs) can
            // break what runs.
            if !change.refused.is_empty() {
                eprintln!(
                    "error: {} change(s) cannot be planned (see above); nothing written",
                    change.refused.len()
                );
                return Ok(ExitCode::from(1));
            }
            crate::bundle::write(&bundle, &out)?;
            leave_to_exit((a, bundle));
            Ok(ExitCode::SUCCESS)
        }
        Command::Compile {
            common,
            out,
            materialize_secrets,
            check,
            tenants,
        } => {
            let t0 = std::time::Instant::now();
            let (mut a, n, opts) = analyze_common(&common, materialize_secrets, &tenants)?;
            let t1 = std::time::Instant::now();
            if report(&a, common.diagnostics_format) {
                return Ok(ExitCode::from(1));
            }
            if check {
                let bundle = build_bundle(&a, &opts)?;
                let d = crate::bundle::drift(&bundle, &out)?;
                if d.is_empty() {
                    if common.diagnostics_format == Format::Human {
                        eprintln!("ok: {out} is up to date ({} files)", bundle.file_count());
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                // The blast radius first (on stderr, with the other words
                // for people), then the diff (on stdout, as `git diff` and
                // `terraform plan` print theirs: `> drift.patch` keeps it).
                let summary = crate::review::summarize(&d, &bundle, &out);
                match common.diagnostics_format {
                    Format::Json => self::out(summary.json().as_bytes()),
                    _ => eprint!("{}", summary.human()),
                }
                print_diff(&d.diff, common.diagnostics_format);
                eprintln!(
                    "drift: {out} differs from the specs: {} changed, {} missing, {} stale file(s)",
                    d.changed, d.missing, d.stale
                );
                return Ok(ExitCode::from(1));
            }
            if let Some(inside) = input_inside(&a, common.stdlib.as_ref(), &out) {
                return Err(Error::Input(format!(
                    "--out {out} contains {inside}, an input of this compile; replacing the bundle would delete it. Write the bundle elsewhere"
                )));
            }
            crate::memory_note("the analysis");
            let bundle = crate::compile_to(&mut a, &opts, &out)?;
            crate::memory_note("the commit");
            if std::env::var_os("TENANTC_TIMINGS").is_some() {
                eprintln!(
                    "timings: analyze {:?}, lower and write {:?}",
                    t1 - t0,
                    t1.elapsed()
                );
            }
            if common.diagnostics_format == Format::Human {
                eprintln!(
                    "ok: {n} file(s), {} tenant(s) -> {out} ({} files)",
                    opts.only.as_ref().map_or(a.site.tenants.len(), |o| o.len()),
                    bundle.file_count()
                );
            }
            leave_to_exit((a, bundle));
            Ok(ExitCode::SUCCESS)
        }
        Command::Graph {
            common,
            format,
            output,
        } => {
            let (a, _, _) = analyze_common(&common, false, &[])?;
            if report_to(&a, common.diagnostics_format, false) {
                return Ok(ExitCode::from(1));
            }
            let dot = crate::lower::graph::dot(&a.site);
            let bytes = match format {
                GraphFormat::Dot => dot.into_bytes(),
                GraphFormat::Svg => svg(&dot)?,
            };
            match output {
                Some(path) => {
                    // Never over an input (a spec read by this run), and
                    // atomically: a temporary file beside it, renamed.
                    let target = crate::resolve::load::canonical(&path);
                    let input = a.sources.files().any(|(_, f)| {
                        f.path
                            .as_ref()
                            .is_some_and(|p| crate::resolve::load::canonical(p) == target)
                    });
                    if input {
                        return Err(Error::Input(format!(
                            "{path} is one of the input specs; refusing to overwrite it with the graph"
                        )));
                    }
                    if path.extension() == Some("tenant") {
                        return Err(Error::Input(format!(
                            "{path} names a spec file (`*.tenant`); refusing to overwrite it with the graph"
                        )));
                    }
                    // Only a regular file (or a new one) is replaced: a
                    // link, a device (`/dev/null`) or a FIFO is refused,
                    // never replaced or written through.
                    let dir = match path.parent() {
                        Some(d) if !d.as_str().is_empty() => d.to_path_buf(),
                        _ => Utf8PathBuf::from("."),
                    };
                    crate::confine::write(&dir, &path, &bytes, crate::confine::Mode::Ordinary)
                        .map_err(|e| Error::Input(format!("cannot write {path}: {e}; graph --output writes only regular files (without --output the graph goes to standard output)")))?;
                }
                None => out(&bytes),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lsp { stdlib, stdio: _ } => Ok(ExitCode::from(crate::lsp::run(stdlib))),
        Command::Fmt {
            specs,
            check,
            diagnostics_format,
        } => fmt(&specs, check, diagnostics_format),
        Command::Fix {
            common,
            guess,
            diff,
        } => fix(&common, guess, diff),
        Command::Completions { shell } => {
            // clap_complete writes the script from the same definition that
            // parses the arguments, so it cannot miss a flag.
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "tenantc", &mut script);
            out(&script);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { code } => {
            if code.eq_ignore_ascii_case("all") {
                let mut text = String::new();
                for c in registry::all() {
                    text.push_str(&format!("{}  {}\n", c.code, c.summary));
                }
                out(text.as_bytes());
                return Ok(ExitCode::SUCCESS);
            }
            match registry::lookup(&code) {
                Some(c) => {
                    out(format!("{}: {}\n\n{}\n", c.code, c.summary, c.explanation).as_bytes());
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    // The argument is the operator's, maybe pasted from a
                    // log: never echo its control bytes to the terminal.
                    eprintln!(
                        "error: unknown diagnostic code `{}`; `tenantc explain all` lists them",
                        crate::diagnostics::printable_with(&code, false)
                    );
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}

/// `tenantc fix`: checks the specs, applies the allowed fixes file by file
/// (see [`crate::fix`]), then checks again and reports what remains. A file
/// changed on disk since it was read is not written.
fn fix(c: &Common, guesses: bool, diff_only: bool) -> Result<ExitCode, Error> {
    let (a, _, _) = analyze_common(c, false, &[])?;
    let by_file = crate::fix::fixes_by_file(&a.sources, &a.diagnostics, guesses);
    let mut fixed = 0usize;
    let mut files = 0usize;
    let mut differs = false;
    for (id, fixes) in &by_file {
        let f = a.sources.get(*id);
        let Some(path) = f.path.as_ref() else {
            continue;
        };
        match crate::fix::apply(*id, &f.text, fixes) {
            crate::fix::Outcome::Fixed { text, applied } if text != *f.text => {
                differs = true;
                if diff_only {
                    let d = crate::bundle::unified(&f.text, &text, &f.name, &f.name);
                    print_diff(&d, c.diagnostics_format);
                    continue;
                }
                let dir = path
                    .parent()
                    .filter(|d| !d.as_str().is_empty())
                    .unwrap_or(Utf8Path::new("."));
                let now = crate::resolve::load::read_input(dir, path)?;
                if now != *f.text {
                    eprintln!("fix: {path} changed while it was checked; left as it is");
                    continue;
                }
                crate::fix::write_spec(path, &text).map_err(Error::Input)?;
                fixed += applied;
                files += 1;
            }
            crate::fix::Outcome::Fixed { .. } => {}
            crate::fix::Outcome::WouldNotParse { applied } => eprintln!(
                "fix: {path}: the {applied} fix(es) would leave it unparsable; left as it is"
            ),
        }
    }
    if diff_only {
        report(&a, c.diagnostics_format);
        return Ok(ExitCode::from(u8::from(differs)));
    }
    leave_to_exit(a);
    if c.diagnostics_format == Format::Human {
        eprintln!("fix: applied {fixed} fix(es) in {files} file(s)");
    }
    let (after, n, _) = analyze_common(c, false, &[])?;
    if report_to(&after, c.diagnostics_format, true) {
        if c.diagnostics_format == Format::Human && !guesses {
            let left = crate::fix::fixes_by_file(&after.sources, &after.diagnostics, true);
            if !left.is_empty() {
                eprintln!("fix: some remaining diagnostics have fixes to confirm; `tenantc fix --guess` applies them");
            }
        }
        return Ok(ExitCode::from(1));
    }
    if c.diagnostics_format == Format::Human {
        eprintln!(
            "ok: {n} file(s), {} tenant(s), no errors",
            after.site.tenants.len()
        );
    }
    leave_to_exit(after);
    Ok(ExitCode::SUCCESS)
}

/// Renders DOT as SVG with graphviz's `dot`.
fn svg(dot: &str) -> Result<Vec<u8>, Error> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::Input(format!(
                "--format svg needs graphviz's `dot` ({e}); install graphviz, or use --format dot"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| Error::Input(format!("dot: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Input(format!("dot: {e}")))?;
    if !out.status.success() {
        return Err(Error::Input(format!(
            "dot failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// An input file or the stdlib directory that lies inside `out`, which a
/// compile replaces as a whole.
/// `p` as an absolute path with its links resolved as far as it exists:
/// the canonical form of its nearest existing ancestor, with the rest of it
/// appended (a `--out` that does not exist yet).
fn resolved(p: &camino::Utf8Path) -> Option<std::path::PathBuf> {
    let abs = std::path::absolute(p).ok()?;
    let mut rest = Vec::new();
    let mut at = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(at) {
            return Some(rest.iter().rev().fold(c, |acc, n| acc.join(n)));
        }
        rest.push(at.file_name()?.to_os_string());
        at = at.parent()?;
    }
}

fn input_inside(
    a: &Analysis,
    stdlib: Option<&Utf8PathBuf>,
    out: &camino::Utf8Path,
) -> Option<String> {
    let out = std::fs::canonicalize(out).ok()?;
    a.sources
        .files()
        .filter_map(|(_, f)| f.path.clone())
        .chain(stdlib.cloned())
        .find(|p| std::fs::canonicalize(p).is_ok_and(|c| c.starts_with(&out)))
        .map(|p| p.to_string())
}

/// `tenantc fmt`: formats every file that parses, leaves the others untouched
/// and reports their diagnostics. Every file is read before any is written,
/// so an unreadable one (exit 2) stops the run with nothing rewritten.
fn fmt(specs: &[Utf8PathBuf], check: bool, format: Format) -> Result<ExitCode, Error> {
    let mut sources = SourceMap::new();
    if specs.iter().any(|s| s == "-") {
        if specs.len() > 1 {
            return Err(Error::Input(
                "`-` (standard input) cannot be combined with other paths".to_string(),
            ));
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::Input(format!("cannot read standard input: {e}")))?;
        let id = sources.add("<stdin>".to_string(), None, text.as_str());
        return Ok(match crate::fmt::format_source(id, &text) {
            Ok(new) if check && new != text => {
                let diff = crate::bundle::unified(&text, &new, "<stdin>", "<stdin>");
                print_diff(&diff, format);
                ExitCode::from(1)
            }
            Ok(_) if check => ExitCode::SUCCESS,
            Ok(new) => {
                out(new.as_bytes());
                ExitCode::SUCCESS
            }
            Err(diags) => {
                report_diagnostics(&sources, &diags, format, "not formatted", false);
                ExitCode::from(1)
            }
        });
    }
    // Each file is read, and written, only beneath the directory it was
    // found in (`fmt DIR`) or named in (`fmt FILE`): a link out of it is
    // refused, never read, quoted or rewritten.
    let mut inputs = Vec::new();
    let mut roots = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for spec in specs {
        let root = crate::resolve::load::canonical(if spec.is_dir() {
            spec
        } else {
            spec.parent()
                .filter(|p| !p.as_str().is_empty())
                .unwrap_or(Utf8Path::new("."))
        });
        for p in find_inputs(std::slice::from_ref(spec))? {
            // A directory link out of the site is an input only for the
            // compile to report it (E0211); fmt leaves it alone.
            if p.is_dir() {
                continue;
            }
            if seen.insert(crate::resolve::load::canonical(&p)) {
                inputs.push(p);
                roots.push(root.clone());
            }
        }
    }
    let mut texts = Vec::with_capacity(inputs.len());
    for (path, root) in inputs.iter().zip(&roots) {
        texts.push(crate::resolve::load::read_input(root, path)?);
    }
    let mut diags = Vec::new();
    let mut changed = Vec::new();
    for ((path, text), root) in inputs.iter().zip(texts).zip(&roots) {
        let id = sources.add(path.to_string(), Some(path.clone()), text.as_str());
        match crate::fmt::format_source(id, &text) {
            Ok(out) if out == text => {}
            Ok(out) => changed.push((path, text, out, root)),
            Err(d) => diags.extend(d),
        }
    }
    if check {
        for (path, old, new, _) in &changed {
            let diff = crate::bundle::unified(old, new, path.as_str(), path.as_str());
            print_diff(&diff, format);
        }
        if !changed.is_empty() && format == Format::Human {
            eprintln!(
                "fmt: {} file(s) not in the canonical layout; `tenantc fmt` rewrites them",
                changed.len()
            );
        }
    } else {
        for (path, _, new, root) in &changed {
            write_in_place(root, path, new)?;
        }
    }
    let failed = report_diagnostics(
        &sources,
        &diags,
        format,
        "those files left as they are",
        false,
    );
    Ok(if failed || (check && !changed.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Replaces a file's text atomically (a temporary file in the same
/// directory, renamed over it), keeping its permissions, and only beneath
/// `root` (see [`crate::confine::write`]); a link inside the tree is
/// resolved once, and the file it names rewritten.
fn write_in_place(root: &Utf8Path, path: &Utf8Path, text: &str) -> Result<(), Error> {
    let target = crate::resolve::load::canonical(path);
    crate::confine::write(
        root,
        &target,
        text.as_bytes(),
        crate::confine::Mode::Ordinary,
    )
    .map_err(|e| Error::Input(format!("cannot write {path}: {e}")))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// `--help` is the manual: every subcommand and every flag and
    /// argument of each says what it does.
    #[test]
    fn help_covers_every_subcommand_and_flag() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let builtin = matches!(a.get_id().as_str(), "help" | "version");
                if !builtin && a.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let cmd = super::Cli::command();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        walk(&cmd, "tenantc", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:?}");
        assert!(cmd.get_subcommands().count() >= 7);
    }
}
