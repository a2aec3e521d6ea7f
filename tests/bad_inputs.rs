//! The bad-input corpus: every `tests/bad/*.tenant` is refused with exit 1
//! (spec errors) or 2 (unreadable input), never a panic, never a bundle; its
//! diagnostics are reviewed as snapshots under `snapshots/bad/`.

mod common;

use common::mutate::{line_deleted_or_duplicated, word_swapped, XorShift};

use camino::Utf8PathBuf;
use common::{root, tenantc};

#[test]
fn every_bad_input_is_refused_with_its_diagnostic() {
    let cases = common::entries("tests/bad", |p| p.extension() == Some("tenant"));
    assert!(cases.len() >= 50, "the corpus has {} cases", cases.len());
    let out = tempfile::tempdir().expect("tmp");
    for case in cases {
        let rel = case.strip_prefix(root()).expect("relative").to_string();
        let name = case.file_stem().expect("stem").to_string();
        let target = out.path().join(&name);
        let o = tenantc(&["compile", &rel, "--out", target.to_str().expect("utf-8")]);
        let code = o.status.code();
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(
            matches!(code, Some(1) | Some(2)),
            "{rel}: exit {code:?}\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{rel} panicked:\n{stderr}");
        assert!(!target.exists(), "{rel} left a bundle behind");
        let report = format!("exit: {}\n\n{stderr}", code.unwrap_or(-1));
        insta::with_settings!({ snapshot_path => root().join("snapshots/bad"), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(name, report);
        });
    }
}

/// Mistakes that take more than one file (`tests/bad/sites/<case>/`): the
/// case's `input.tenant` is compiled alone when there is one (its siblings
/// are files the user did not name), else the whole directory. Snapshots:
/// `snapshots/bad/sites_<case>.snap`.
#[test]
fn every_bad_site_is_refused_with_its_diagnostic() {
    let cases = common::entries("tests/bad/sites", |p| p.is_dir());
    assert!(
        cases.len() >= 2,
        "the site corpus has {} cases",
        cases.len()
    );
    let out = tempfile::tempdir().expect("tmp");
    for case in cases {
        let name = case.file_name().expect("name").to_string();
        let input = case.join("input.tenant");
        let spec = if input.is_file() { input } else { case.clone() };
        let rel = spec.strip_prefix(root()).expect("relative").to_string();
        let target = out.path().join(&name);
        let o = tenantc(&["compile", &rel, "--out", target.to_str().expect("utf-8")]);
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{rel}:\n{stderr}");
        assert!(!target.exists(), "{rel} left a bundle behind");
        let report = format!("exit: 1\n\n{stderr}");
        insta::with_settings!({ snapshot_path => root().join("snapshots/bad"), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("sites_{name}"), report);
        });
    }
}

#[test]
fn a_ten_megabyte_string_is_handled() {
    let big = "x".repeat(10 * 1024 * 1024);
    let text = format!("zos SYS1 {{ address = 10.2.0.9 authority ca {{ label = \"{big}\" subject = {{ CN = \"a\" }} export = dataset(\"A.B\") }} }}\n");
    let (_d, path) = common::spec_in_tmp(&text);
    let o = tenantc(&["check", path.as_str()]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("E0411"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(
        stderr.len() < 1_000_000,
        "the diagnostic does not echo the whole value"
    );
}

/// Inputs the mutation test runs: `TENANTC_MUTATIONS` or 100,000.
fn mutation_budget() -> usize {
    std::env::var("TENANTC_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// One mutation of a spec: a byte, a token or a line changed, so that the
/// inputs range from near-valid specs (which reach checks and lowering) to
/// garbage (which exercises parse-error recovery).
fn mutate(rng: &mut XorShift, text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let len = bytes.len().max(1);
        let i = rng.below(len).min(bytes.len());
        match rng.below(8) {
            0 => {
                if i < bytes.len() {
                    bytes[i] = (rng.next() % 256) as u8;
                }
            }
            1 => {
                if i < bytes.len() {
                    bytes.remove(i);
                }
            }
            2 => bytes.insert(i, b"{}[]()\"=.,#0/*\n\\"[rng.below(15)]),
            // A line deleted or duplicated.
            3 | 4 => bytes = line_deleted_or_duplicated(rng, &bytes),
            5 => {
                // A word replaced by another word of the file.
                if let Some(b) = word_swapped(rng, &bytes) {
                    bytes = b;
                }
            }
            6 => {
                // A number changed: limits, ranges and collisions.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let digits: Vec<usize> = text
                    .char_indices()
                    .filter(|(_, c)| c.is_ascii_digit())
                    .map(|(i, _)| i)
                    .collect();
                if !digits.is_empty() {
                    let at = digits[rng.below(digits.len())];
                    let repl =
                        ["0", "9", "99999", "256", "18446744073709551616", "1"][rng.below(6)];
                    bytes = format!("{}{}{}", &text[..at], repl, &text[at + 1..]).into_bytes();
                }
            }
            _ => {
                // Hostile text inside a string value.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
                if !quotes.is_empty() {
                    let at = quotes[rng.below(quotes.len())] + 1;
                    let repl =
                        ["\\n", "/*", "'", "\\\"", "%", "&", " ", "\\u{0}", "é"][rng.below(9)];
                    bytes = format!(
                        "{}{}{}",
                        &text[..at.min(text.len())],
                        repl,
                        &text[at.min(text.len())..]
                    )
                    .into_bytes();
                }
            }
        }
    }
    bytes
}

/// Mutated versions of every example, analyzed in memory (through the
/// loader's overlay, so no file is written per input) and, every fourth
/// clean one, lowered into a bundle: no panic, no error other than the spec's, and
/// no input that takes long. Runs `mutation_budget()` inputs on all cores.
#[test]
fn mutated_examples_never_panic() {
    let budget = mutation_budget();
    let mut sites: Vec<Vec<(Utf8PathBuf, String)>> = Vec::new();
    for dir in common::examples() {
        let files = common::entries(dir.strip_prefix(root()).expect("relative").as_str(), |p| {
            p.extension() == Some("tenant")
        });
        sites.push(
            files
                .into_iter()
                .map(|p| {
                    let text = std::fs::read_to_string(&p).expect("example");
                    (p, text)
                })
                .collect(),
        );
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let started = std::time::Instant::now();
    let results: Vec<(usize, usize, usize, usize, usize)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let sites = &sites;
                scope.spawn(move || {
                    let mut rng =
                        XorShift(0x9e37_79b9_7f4a_7c15 ^ ((t as u64 + 1) * 0x2545_f491_4f6c_dd1d));
                    let (mut ran, mut analyzed, mut clean, mut lowered, mut recovered) =
                        (0, 0, 0, 0, 0);
                    // The files a mutation leaves alone (and the stdlib) are
                    // parsed once per thread, as the language server does.
                    let caches: Vec<_> = sites
                        .iter()
                        .map(|_| std::sync::Arc::new(tenantc::resolve::load::ParseCache::default()))
                        .collect();
                    let mut n = t;
                    while n < budget {
                        let which = n % sites.len();
                        let site = &sites[which];
                        let victim = rng.below(site.len());
                        let bytes = mutate(&mut rng, &site[victim].1);
                        n += threads;
                        ran += 1;
                        // Invalid UTF-8 is refused before parsing (exit 2,
                        // tested by the corpus); mutate again instead.
                        let Ok(text) = String::from_utf8(bytes) else {
                            continue;
                        };
                        let overlay: tenantc::resolve::load::Overlay = site
                            .iter()
                            .enumerate()
                            .map(|(i, (p, t))| {
                                let t: std::sync::Arc<str> = if i == victim {
                                    text.as_str().into()
                                } else {
                                    t.as_str().into()
                                };
                                (p.clone(), t)
                            })
                            .collect();
                        let inputs: Vec<Utf8PathBuf> =
                            site.iter().map(|(p, _)| p.clone()).collect();
                        let opts = tenantc::Options {
                            overlay: Some(std::sync::Arc::new(overlay)),
                            parse_cache: Some(caches[which].clone()),
                            ..Default::default()
                        };
                        analyzed += 1;
                        let a = tenantc::analyze(&inputs, &opts)
                            .unwrap_or_else(|e| panic!("analysis fails on input {n}: {e}\n{text}"));
                        if a.diagnostics
                            .iter()
                            .filter(|d| d.code == tenantc::diagnostics::registry::SYNTAX)
                            .count()
                            > 1
                        {
                            recovered += 1;
                        }
                        if !a.has_errors() {
                            clean += 1;
                        }
                        // Every fourth clean input is lowered too: lowering
                        // costs as much as analysis, and most clean mutants
                        // differ only in comments or names.
                        if !a.has_errors() && clean % 4 == 1 {
                            lowered += 1;
                            tenantc::build_bundle(&a, &opts).unwrap_or_else(|e| {
                                panic!("a clean input does not lower: {e}\n{text}")
                            });
                        }
                        // Work is bounded by structure, not a clock (a clock
                        // flakes on a busy machine): no input may produce
                        // more diagnostics than the per-file syntax cap and
                        // one finding per line allow; a hang is caught by the
                        // harness's timeout.
                        let cap = 20 * site.len() + text.lines().count() + 200;
                        assert!(
                            a.diagnostics.len() <= cap,
                            "{} diagnostics (cap {cap}) for:\n{text}",
                            a.diagnostics.len()
                        );
                    }
                    (ran, analyzed, clean, lowered, recovered)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let ran: usize = results.iter().map(|r| r.0).sum();
    let analyzed: usize = results.iter().map(|r| r.1).sum();
    let clean: usize = results.iter().map(|r| r.2).sum();
    let lowered: usize = results.iter().map(|r| r.3).sum();
    let recovered: usize = results.iter().map(|r| r.4).sum();
    eprintln!(
        "mutation test: {ran} inputs in {:?} ({clean} clean, {lowered} of them lowered, {recovered} with several syntax errors recovered)",
        started.elapsed()
    );
    // Most mutants are valid UTF-8 and reach the analysis (the rest are
    // refused before parsing): a generator that broke every input's encoding
    // would test nothing past the reader.
    assert!(
        analyzed * 10 > ran * 8,
        "only {analyzed} of {ran} inputs were analysed"
    );
    // The mix reaches every stage: clean specs get lowered, broken ones recovered.
    assert!(clean * 50 > ran, "only {clean} of {ran} inputs were clean");
    assert!(
        lowered * 5 > clean,
        "{lowered} of {clean} clean inputs lowered"
    );
    assert!(recovered > 0, "no input exercised parse-error recovery");
}

#[test]
fn quotes_in_values_are_doubled_not_executed() {
    // A label that tries to close the quote and smuggle a command in stays
    // one quoted RACF value.
    let text = std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant"))
        .expect("example")
        .replace(
            "label     = \"NFSTST Private Cert\"",
            "label     = \"x') SETROPTS NOGENERIC\"",
        );
    let (_d, path) = common::spec_in_tmp(&text);
    let opts = tenantc::Options::default();
    let a = tenantc::analyze(&[path], &opts).expect("analysis");
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    let b = tenantc::build_bundle(&a, &opts).expect("bundle");
    let jcl = String::from_utf8_lossy(&b.files["zos/NP8/jcl/3-client-fios.jcl"].bytes).to_string();
    assert!(
        jcl.contains("WITHLABEL('x'') SETROPTS NOGENERIC')"),
        "{jcl}"
    );
    assert_eq!(
        jcl.matches("SETROPTS").count(),
        3,
        "the smuggled SETROPTS stays inside two quoted labels: {jcl}"
    );
}

#[test]
fn an_empty_spec_compiles_to_an_empty_bundle() {
    let (_d, path) = common::spec_in_tmp("# nothing declared yet\n");
    let out = tempfile::tempdir().expect("tmp");
    let target = out.path().join("b");
    let o = tenantc(&[
        "compile",
        path.as_str(),
        "--out",
        target.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let mut names: Vec<_> = std::fs::read_dir(&target)
        .expect("bundle")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    names.sort();
    // The manifest, and the inventory of the objects: none.
    assert_eq!(names, ["inventory.jsonl", "manifest.json"]);
    let inventory = std::fs::read_to_string(target.join("inventory.jsonl")).expect("inventory");
    assert_eq!(
        inventory.lines().count(),
        1,
        "a header and no object: {inventory}"
    );
}
