//! The command line: `check`, `compile`, `graph`, `lsp`, `explain`.
//!
//! Exit codes: 0 ok, 1 the spec has errors, 2 usage, I/O or internal errors.
//! Diagnostics go to stderr (human) or stdout (`--diagnostics-format json`);
//! a successful run prints one summary line to stderr.

use crate::diagnostics::{self, registry, HumanStyle};
use crate::{analyze, build_bundle, find_inputs, Analysis, Options, ToolError};
use camino::Utf8PathBuf;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
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
        Err(ToolError(msg)) => {
            eprintln!("error: {msg}");
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
    match format {
        Format::Human => {
            let text = diagnostics::render_human(&a.sources, &a.diagnostics, style());
            let _ = std::io::stderr().write_all(text.as_bytes());
            let errors = a.diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = a.diagnostics.len() - errors;
            if errors > 0 {
                eprintln!("error: {errors} error(s), {warnings} warning(s); nothing written");
            }
        }
        Format::Json => {
            let text = diagnostics::render_json(&a.sources, &a.diagnostics);
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
        Format::Sarif if clean_log || a.has_errors() => {
            let text = diagnostics::render_sarif(&a.sources, &a.diagnostics);
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
        Format::Sarif => {}
    }
    a.has_errors()
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
    };
    let a = analyze(&inputs, &opts)?;
    Ok((a, inputs.len(), opts))
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
            let bundle = build_bundle(&a, &opts)?;
            let t2 = std::time::Instant::now();
            if check {
                let d = crate::bundle::drift(&bundle, &out).map_err(|e| ToolError(e.0))?;
                if d.is_empty() {
                    if common.diagnostics_format == Format::Human {
                        eprintln!("ok: {out} is up to date ({} files)", bundle.files.len());
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                // Machine-readable diagnostics own stdout; the diff then goes to stderr.
                if common.diagnostics_format == Format::Human {
                    let _ = std::io::stdout().write_all(d.diff.as_bytes());
                } else {
                    let _ = std::io::stderr().write_all(d.diff.as_bytes());
                }
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
            crate::bundle::write(&bundle, &out).map_err(|e| ToolError(e.0))?;
            if std::env::var_os("TENANTC_TIMINGS").is_some() {
                eprintln!(
                    "timings: analyze {:?}, lower {:?}, write {:?}",
                    t1 - t0,
                    t2 - t1,
                    t2.elapsed()
                );
            }
            if common.diagnostics_format == Format::Human {
                eprintln!(
                    "ok: {n} file(s), {} tenant(s) -> {out} ({} files)",
                    opts.only.as_ref().map_or(a.site.tenants.len(), |o| o.len()),
                    bundle.files.len()
                );
            }
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
                Some(path) => std::fs::write(&path, bytes)
                    .map_err(|e| ToolError(format!("cannot write {path}: {e}")))?,
                None => {
                    let _ = std::io::stdout().write_all(&bytes);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lsp { stdlib, stdio: _ } => Ok(ExitCode::from(crate::lsp::run(stdlib))),
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
