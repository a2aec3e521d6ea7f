//! The command line: `check`, `compile`, `graph`, `fmt`, `lsp`, `explain`.
//!
//! Exit codes: 0 ok, 1 the spec has errors, 2 usage, I/O or internal errors.
//! Diagnostics go to stderr (human) or stdout (`--diagnostics-format json`);
//! a successful run prints one summary line to stderr.

use crate::diagnostics::{self, registry, HumanStyle};
use crate::source::SourceMap;
use crate::{analyze, build_bundle, find_inputs, Analysis, Options, ToolError};
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
    Human,
    Json,
    Sarif,
}

#[derive(clap::Args)]
struct Common {
    /// Spec files, or directories searched for *.tenant files.
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<Utf8PathBuf>,
    /// How to print diagnostics: human (stderr), json (one object per line,
    /// stdout) or sarif (one SARIF 2.1.0 log on stdout, also when clean).
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
        /// (stderr) or json (one object per line, stdout).
        #[arg(long, value_enum, default_value = "human")]
        diagnostics_format: Format,
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

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
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
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let warnings = diags.len() - errors;
            if errors > 0 {
                eprintln!("error: {errors} error(s), {warnings} warning(s); {outcome}");
            }
        }
        Format::Json => {
            let text = diagnostics::render_json(sources, diags);
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
        Format::Sarif if clean_log || has_errors => {
            let text = diagnostics::render_sarif(sources, diags);
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
        Format::Sarif => {}
    }
    has_errors
}

/// Prints a `--check` diff: on stdout, unless machine-readable diagnostics
/// own it, then on stderr.
fn print_diff(diff: &str, format: Format) {
    let _ = if format == Format::Human {
        std::io::stdout().write_all(diff.as_bytes())
    } else {
        std::io::stderr().write_all(diff.as_bytes())
    };
}

fn analyze_common(
    c: &Common,
    materialize: bool,
    tenants: &[String],
) -> Result<(Analysis, usize, Options), ToolError> {
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
    let a = analyze(&inputs, &opts)?;
    Ok((a, inputs.len(), opts))
}

/// Leaves a large value for the process exit to free: the site, the sources
/// and the bundle's index of a 1,000-tenant compile take 15-30 ms to drop
/// piece by piece, and nothing runs after them. (`run` returns to `main`,
/// which exits.)
fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

fn run(cli: Cli) -> Result<ExitCode, ToolError> {
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
        Command::Compile {
            common,
            out,
            materialize_secrets,
            check,
            tenants,
        } => {
            let t0 = std::time::Instant::now();
            let (a, n, opts) = analyze_common(&common, materialize_secrets, &tenants)?;
            let t1 = std::time::Instant::now();
            if report(&a, common.diagnostics_format) {
                return Ok(ExitCode::from(1));
            }
            if check {
                let bundle = build_bundle(&a, &opts)?;
                let d = crate::bundle::drift(&bundle, &out)?;
                if d.is_empty() {
                    if common.diagnostics_format == Format::Human {
                        eprintln!("ok: {out} is up to date ({} files)", bundle.files.len());
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                // The blast radius first, then the diff.
                let summary = crate::review::summarize(&d, &bundle, &out);
                match common.diagnostics_format {
                    Format::Json => {
                        let _ = std::io::stdout().write_all(summary.json().as_bytes());
                    }
                    Format::Human => {
                        let _ = std::io::stdout().write_all(summary.human().as_bytes());
                    }
                    Format::Sarif => eprint!("{}", summary.human()),
                }
                print_diff(&d.diff, common.diagnostics_format);
                eprintln!(
                    "drift: {out} differs from the specs: {} changed, {} missing, {} stale file(s)",
                    d.changed, d.missing, d.stale
                );
                return Ok(ExitCode::from(1));
            }
            if let Some(inside) = input_inside(&a, common.stdlib.as_ref(), &out) {
                return Err(ToolError(format!(
                    "--out {out} contains {inside}, an input of this compile; replacing the bundle would delete it. Write the bundle elsewhere"
                )));
            }
            let bundle = crate::compile_to(&a, &opts, &out)?;
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
                    bundle.files.len()
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
                        return Err(ToolError(format!(
                            "{path} is one of the input specs; refusing to overwrite it with the graph"
                        )));
                    }
                    let dir = match path.parent() {
                        Some(d) if !d.as_str().is_empty() => d.to_path_buf(),
                        _ => Utf8PathBuf::from("."),
                    };
                    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
                        .map_err(|e| ToolError(format!("cannot write {path}: {e}")))?;
                    tmp.write_all(&bytes)
                        .and_then(|()| tmp.as_file().sync_all())
                        .map_err(|e| ToolError(format!("cannot write {path}: {e}")))?;
                    tmp.persist(&path)
                        .map_err(|e| ToolError(format!("cannot write {path}: {}", e.error)))?;
                }
                None => {
                    let _ = std::io::stdout().write_all(&bytes);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lsp { stdlib, stdio: _ } => Ok(ExitCode::from(crate::lsp::run(stdlib))),
        Command::Fmt {
            specs,
            check,
            diagnostics_format,
        } => fmt(&specs, check, diagnostics_format),
        Command::Completions { shell } => {
            // clap_complete writes the script from the same definition that
            // parses the arguments, so it cannot miss a flag.
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "tenantc", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { code } => {
            if code.eq_ignore_ascii_case("all") {
                for c in registry::all() {
                    println!("{}  {}", c.code, c.summary);
                }
                return Ok(ExitCode::SUCCESS);
            }
            match registry::lookup(&code) {
                Some(c) => {
                    println!("{}: {}\n\n{}", c.code, c.summary, c.explanation);
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!(
                        "error: unknown diagnostic code `{code}`; `tenantc explain all` lists them"
                    );
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}

/// Renders DOT as SVG with graphviz's `dot`.
fn svg(dot: &str) -> Result<Vec<u8>, ToolError> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            ToolError(format!(
                "--format svg needs graphviz's `dot` ({e}); install graphviz, or use --format dot"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| ToolError(format!("dot: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| ToolError(format!("dot: {e}")))?;
    if !out.status.success() {
        return Err(ToolError(format!(
            "dot failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// An input file or the stdlib directory that lies inside `out`, which a
/// compile replaces as a whole.
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
fn fmt(specs: &[Utf8PathBuf], check: bool, format: Format) -> Result<ExitCode, ToolError> {
    let mut sources = SourceMap::new();
    if specs.iter().any(|s| s == "-") {
        if specs.len() > 1 {
            return Err(ToolError(
                "`-` (standard input) cannot be combined with other paths".to_string(),
            ));
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| ToolError(format!("cannot read standard input: {e}")))?;
        let id = sources.add("<stdin>".to_string(), None, text.as_str());
        return Ok(match crate::fmt::format_source(id, &text) {
            Ok(out) if check && out != text => {
                let diff = crate::bundle::unified(&text, &out, "<stdin>", "<stdin>");
                print_diff(&diff, format);
                ExitCode::from(1)
            }
            Ok(_) if check => ExitCode::SUCCESS,
            Ok(out) => {
                let _ = std::io::stdout().write_all(out.as_bytes());
                ExitCode::SUCCESS
            }
            Err(diags) => {
                report_diagnostics(&sources, &diags, format, "not formatted", false);
                ExitCode::from(1)
            }
        });
    }
    let inputs = find_inputs(specs)?;
    let mut texts = Vec::with_capacity(inputs.len());
    for path in &inputs {
        texts.push(crate::resolve::load::read_input(path)?);
    }
    let mut diags = Vec::new();
    let mut changed = Vec::new();
    for (path, text) in inputs.iter().zip(texts) {
        let id = sources.add(path.to_string(), Some(path.clone()), text.as_str());
        match crate::fmt::format_source(id, &text) {
            Ok(out) if out == text => {}
            Ok(out) => changed.push((path, text, out)),
            Err(d) => diags.extend(d),
        }
    }
    if check {
        for (path, old, new) in &changed {
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
        for (path, _, new) in &changed {
            write_in_place(path, new)?;
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
/// directory, renamed over it), keeping its permissions; a symlink keeps
/// pointing at the file, which is rewritten.
fn write_in_place(path: &Utf8Path, text: &str) -> Result<(), ToolError> {
    let err = |e: std::io::Error| ToolError(format!("cannot write {path}: {e}"));
    let target = std::fs::canonicalize(path).map_err(err)?;
    let dir = target
        .parent()
        .ok_or_else(|| ToolError(format!("cannot write {path}: no parent directory")))?;
    let permissions = std::fs::metadata(&target).map_err(err)?.permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".tenantc-fmt-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.as_file().set_permissions(permissions).map_err(err)?;
    tmp.persist(&target).map_err(|e| err(e.error))?;
    Ok(())
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
