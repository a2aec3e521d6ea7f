//! The fast parser against pest, the reference grammar: for every input, if
//! pest accepts it the fast parser must accept it too and build the same tree
//! (spans included) with the same literal diagnostics; if pest refuses it the
//! fast parser must refuse it (and `parse` then hands it to pest, which
//! reports the error).
//!
//! The inputs: every `*.tenant` file of the repository, many mutated variants
//! of them (the mutations of `tests/bad_inputs.rs`, plus blanks, comments,
//! byte-order marks and tokens inserted where they test the grammar's
//! boundaries) and small generated specs built from near-miss literals
//! (`2Kix`, `1.2.3.4/123`, `true-x`, `env("a",)`). The generator is
//! deterministic, so a failure reproduces; `TENANTC_PARSE_VARIANTS` sets how
//! many variants run.

use crate::common;

use common::mutate::{line_deleted_or_duplicated, word_swapped, XorShift};

use tenantc::source::FileId;
use tenantc::syntax::{parse_fast_only, parse_with_pest_only};

/// Variants compared: `TENANTC_PARSE_VARIANTS` or 40,000.
fn budget() -> usize {
    std::env::var("TENANTC_PARSE_VARIANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40_000)
}

/// Every `*.tenant` file under the directories that hold specs.
fn corpus() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "tenant") {
                // Invalid UTF-8 is refused before parsing.
                if let Ok(text) = std::fs::read_to_string(&p) {
                    out.push((p.display().to_string(), text));
                }
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["examples", "tests/bad", "tests/fixtures", "stdlib"] {
        walk(&root.join(dir), &mut out);
    }
    out
}

/// How an input fared.
#[derive(Default)]
struct Tally {
    inputs: usize,
    accepted: usize,
    rejected: usize,
    /// Accepted with a literal diagnostic (the shared checks ran on both).
    with_literal_errors: usize,
    diverged: usize,
    /// The first few, in full.
    divergences: Vec<String>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.inputs += other.inputs;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.with_literal_errors += other.with_literal_errors;
        self.diverged += other.diverged;
        self.divergences.extend(other.divergences);
    }
}

/// Compares both parsers on one text.
fn compare(text: &str, origin: &str, tally: &mut Tally) {
    let file = FileId(3);
    let pest = parse_with_pest_only(file, text);
    let fast = parse_fast_only(file, text);
    tally.inputs += 1;
    match &pest {
        Some((tree, diags)) => {
            tally.accepted += 1;
            if !diags.is_empty() {
                tally.with_literal_errors += 1;
            }
            // What the compiler calls gives the same (a refused text goes
            // through pest's recovery there, too slow to run on every one).
            assert_eq!(
                tenantc::syntax::parse(file, text),
                (Some(tree.clone()), diags.clone()),
                "{origin}: `parse` differs from pest on {text:?}"
            );
        }
        None => tally.rejected += 1,
    }
    if pest == fast {
        return;
    }
    tally.diverged += 1;
    if tally.divergences.len() < 3 {
        let shown: String = text.chars().take(3_000).collect();
        let mut report = format!("{origin}: input {shown:?}\n");
        match (&pest, &fast) {
            (Some(_), None) => report.push_str("pest accepts it, the fast parser refuses it\n"),
            (None, Some(_)) => report.push_str("pest refuses it, the fast parser accepts it\n"),
            _ => report.push_str("both accept it, with different results\n"),
        }
        if let (Some(p), Some(f)) = (&pest, &fast) {
            report.push_str(&first_difference(&format!("{p:#?}"), &format!("{f:#?}")));
        }
        tally.divergences.push(report);
    }
}

/// Where two results (as `{:#?}`) first differ, with a few lines around.
fn first_difference(pest: &str, fast: &str) -> String {
    let (p, f): (Vec<&str>, Vec<&str>) = (pest.lines().collect(), fast.lines().collect());
    let at = p
        .iter()
        .zip(&f)
        .position(|(a, b)| a != b)
        .unwrap_or(p.len().min(f.len()));
    let from = at.saturating_sub(8);
    let window =
        |lines: &[&str]| lines[from.min(lines.len())..(at + 4).min(lines.len())].join("\n");
    format!(
        "pest, at line {at} of its tree:\n{}\nfast:\n{}\n",
        window(&p),
        window(&f)
    )
}

/// One mutation of a spec: the mutations of `tests/bad_inputs.rs` (a byte,
/// a token or a line changed), and insertions of what the grammar treats
/// specially between or inside tokens.
fn mutate(rng: &mut XorShift, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let len = bytes.len().max(1);
        let i = rng.below(len).min(bytes.len());
        match rng.below(12) {
            0 => {
                if i < bytes.len() {
                    // Mostly ASCII: a random byte is mostly invalid UTF-8.
                    bytes[i] = (rng.next() % if rng.chance(4) { 256 } else { 128 }) as u8;
                }
            }
            1 => {
                if i < bytes.len() {
                    bytes.remove(i);
                }
            }
            2 => bytes.insert(i, b"{}[]()\"=.,#0/*\n\\@$-_:"[rng.below(21)]),
            // A line deleted or duplicated.
            3 | 4 => bytes = line_deleted_or_duplicated(rng, &bytes),
            5 => {
                // A word replaced by another word of the file.
                if let Some(b) = word_swapped(rng, &bytes) {
                    bytes = b;
                }
            }
            6 => {
                // A digit replaced: limits, and literals of other kinds.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let digits: Vec<usize> = text
                    .char_indices()
                    .filter(|(_, c)| c.is_ascii_digit())
                    .map(|(i, _)| i)
                    .collect();
                if !digits.is_empty() {
                    let at = digits[rng.below(digits.len())];
                    let repl = rng.pick(&[
                        "0",
                        "9",
                        "99999",
                        "256",
                        "18446744073709551616",
                        "1",
                        "1.2.3.4",
                        "1..2",
                        "2Ki",
                        "5ms",
                        "1.2.3.4/33",
                        "7d",
                    ]);
                    bytes = format!("{}{}{}", &text[..at], repl, &text[at + 1..]).into_bytes();
                }
            }
            7 => {
                // Hostile text inside a string value.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
                if !quotes.is_empty() {
                    let at = (quotes[rng.below(quotes.len())] + 1).min(text.len());
                    let repl = rng.pick(&[
                        "\\n",
                        "/*",
                        "'",
                        "\\\"",
                        "%",
                        "&",
                        " ",
                        "\\u{0}",
                        "é",
                        "\\u{D800}",
                        "\\u{110000}",
                        "\\u{10FFFF}",
                        "\\u{1234567}",
                        "\\u{}",
                        "\\x",
                        "\r",
                        "#",
                        "\\",
                    ]);
                    bytes = format!("{}{}{}", &text[..at], repl, &text[at..]).into_bytes();
                }
            }
            8 => {
                // Blanks, comments and marks, anywhere (inside a token they
                // split it; inside a string or a comment they are text).
                let what = rng.pick(&[
                    " ", "\t", "\r\n", "\n", "# c\n", "#", "// c\n", "//", "/* c */", "/**/", "/*",
                    "*/", "/* \" */", "\u{FEFF}", "\u{a0}",
                ]);
                insert(&mut bytes, i, what);
            }
            9 => {
                // A token that meets a boundary of the grammar.
                let what = rng.pick(&[
                    "as",
                    "as ",
                    "import",
                    "import \"a\" ",
                    "env",
                    "env(",
                    "file",
                    "(",
                    ")",
                    "true",
                    "false",
                    "..",
                    "Ki",
                    "K",
                    "i",
                    "ms",
                    "m",
                    "s",
                    "/",
                    ".",
                    ",",
                    ",,",
                    "\"x\"",
                    "=",
                    "x = 1",
                    "b { }",
                    "@",
                    "$",
                    "-",
                    "_",
                    "é",
                    "1",
                    "x",
                    "assoc",
                    "as-",
                    "as$",
                    "as#",
                ]);
                insert(&mut bytes, i, what);
            }
            10 => {
                // Two tokens glued: the blanks after a token removed.
                let mut j = i;
                while j < bytes.len() && !bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                let mut k = j;
                while k < bytes.len() && bytes[k].is_ascii_whitespace() {
                    k += 1;
                }
                bytes.drain(j..k);
            }
            _ => {
                // Before the first item: a mark, after blanks or a comment.
                let what = rng.pick(&[
                    "\u{FEFF}",
                    " \u{FEFF}",
                    "# c\n\u{FEFF}",
                    "/* c */\u{FEFF}",
                    "\u{FEFF}\u{FEFF}",
                    "\u{FEFF}# c\n",
                    "\n",
                ]);
                insert(&mut bytes, 0, what);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn insert(bytes: &mut Vec<u8>, at: usize, what: &str) {
    let at = at.min(bytes.len());
    bytes.splice(at..at, what.bytes());
}

/// Literals and near-misses: each kind at its limits, and text that one
/// rule's lookahead refuses and another may take.
const LITERALS: &[&str] = &[
    "1",
    "0",
    "007",
    "42",
    "18446744073709551615",
    "18446744073709551616",
    "1.2.3.4",
    "255.255.255.255",
    "256.1.1.1",
    "1.2.3.999",
    "1.2.3.4/32",
    "1.2.3.4/33",
    "1.2.3.4/0",
    "1.2.3.4/99",
    "1.2.3.4/123",
    "1.2.3.4/",
    "300.2.3.4/40",
    "1.2.3",
    "1.2.3.4.5",
    "1234.1.1.1",
    "1..2",
    "1..",
    "65535..1",
    "1..2..3",
    "99999999999999999999..1",
    "2Ki",
    "2K",
    "2Kix",
    "2Mi",
    "2P",
    "2Pi",
    "2k",
    "2Gi_",
    "99999999999999999999Gi",
    "5ms",
    "5m",
    "5s",
    "5h",
    "5d",
    "5msx",
    "5mx",
    "5mss",
    "18446744073709551615ms",
    "18446744073709551615d",
    "99999999999999999999s",
    "true",
    "false",
    "true-x",
    "truex",
    "true_",
    "false.x",
    "true#c\n",
    "true@x",
    "x",
    "a.b",
    "a.b.",
    "a..b",
    "a.1",
    "_x",
    "$x",
    "@x",
    "a#b",
    "a-b",
    "env",
    "environment",
    "file",
    "env.x",
    "\"s\"",
    "\"\"",
    "\"a\\\"b\"",
    "\"\\u{e9}\"",
    "\"\\u{D800}\"",
    "\"\\u{110000}\"",
    "\"\\u{00000041}\"",
    "\"\\u{1234567}\"",
    "\"\\u{}\"",
    "\"\\x\"",
    "\"\\t\\n\\\\\"",
    "\"é\"",
    "\"a\rb\"",
    "\"unterminated",
    "1.5",
    "1e5",
    "-1",
    "1_000",
    "0x10",
];

/// What may follow a literal with no blank in between.
const GLUE: &[&str] = &[
    "x", "_", ".", "/", "-", "#", "@", "$", "(", "..", "1", "i", "s", ":", "é",
];

/// Where blanks may go between tokens: none, blanks, comments.
const SEPS: &[&str] = &[
    "",
    " ",
    " ",
    "\n",
    "\t",
    "\r\n",
    " /* c */ ",
    "/**/",
    "# c\n",
    "// c\n",
    "  ",
];

fn sep(rng: &mut XorShift) -> &'static str {
    rng.pick(SEPS)
}

fn gen_value(rng: &mut XorShift, depth: usize, out: &mut String) {
    let choice = if depth > 3 { 0 } else { rng.below(10) };
    match choice {
        0..=4 => {
            out.push_str(rng.pick(LITERALS));
            if rng.chance(6) {
                out.push_str(rng.pick(GLUE));
            }
        }
        5 => {
            out.push('[');
            gen_separated(rng, depth, out, gen_value);
            out.push(']');
        }
        6 => {
            out.push('{');
            for _ in 0..rng.below(3) {
                out.push_str(sep(rng));
                gen_field(rng, depth + 1, out);
                if rng.chance(2) {
                    out.push_str(sep(rng));
                    out.push(',');
                }
            }
            out.push_str(sep(rng));
            out.push('}');
        }
        7 => {
            // A secret, or a call that looks like one.
            out.push_str(rng.pick(&["env", "file", "env", "envx", "fil"]));
            out.push_str(sep(rng));
            out.push('(');
            out.push_str(sep(rng));
            if rng.chance(4) {
                gen_value(rng, depth + 1, out);
            } else {
                out.push_str(rng.pick(&["\"A\"", "\"\\u{D800}\"", "\"a b\""]));
            }
            out.push_str(sep(rng));
            if rng.chance(3) {
                out.push(',');
                out.push_str(sep(rng));
            }
            out.push(')');
        }
        _ => {
            out.push_str(rng.pick(&["rsa", "dataset", "f", "true", "a.b", "x"]));
            out.push_str(sep(rng));
            out.push('(');
            gen_separated(rng, depth, out, |rng, depth, out| {
                if rng.chance(3) {
                    out.push_str(rng.pick(&["format", "n", "as"]));
                    out.push_str(sep(rng));
                    out.push('=');
                    out.push_str(sep(rng));
                }
                gen_value(rng, depth, out);
            });
            out.push(')');
        }
    }
}

/// `(x ~ ("," ~ x)*)? ~ ","?` with blanks around, sometimes broken.
fn gen_separated(
    rng: &mut XorShift,
    depth: usize,
    out: &mut String,
    x: impl Fn(&mut XorShift, usize, &mut String),
) {
    let n = rng.below(4);
    for k in 0..n {
        out.push_str(sep(rng));
        x(rng, depth + 1, out);
        out.push_str(sep(rng));
        if k + 1 < n || rng.chance(3) {
            out.push_str(if rng.chance(30) { ",," } else { "," });
        }
    }
    if n == 0 && rng.chance(4) {
        out.push(',');
    }
    out.push_str(sep(rng));
}

fn gen_field(rng: &mut XorShift, depth: usize, out: &mut String) {
    out.push_str(rng.pick(&["x", "port", "a-b", "_k", "$k", "@k", "import", "true", "as"]));
    out.push_str(sep(rng));
    out.push('=');
    out.push_str(sep(rng));
    gen_value(rng, depth, out);
}

fn gen_block(rng: &mut XorShift, depth: usize, out: &mut String) {
    out.push_str(rng.pick(&["zos", "b", "import", "as", "assoc", "true", "env", "t-1"]));
    if rng.chance(2) {
        out.push_str(sep(rng));
        out.push_str(rng.pick(&["NP8", "n", "as", "x#y", "import"]));
    }
    out.push_str(sep(rng));
    out.push('{');
    for _ in 0..rng.below(4) {
        out.push_str(sep(rng));
        if depth < 2 && rng.chance(4) {
            gen_block(rng, depth + 1, out);
        } else {
            gen_field(rng, depth + 1, out);
        }
        if rng.chance(3) {
            out.push_str(sep(rng));
            out.push(',');
        }
    }
    out.push_str(sep(rng));
    out.push('}');
}

/// A small spec: a mark, imports (with and without aliases, and words that
/// look like them) and blocks.
fn generate(rng: &mut XorShift) -> String {
    let mut out = String::new();
    if rng.chance(5) {
        out.push_str(rng.pick(&["\u{FEFF}", " \u{FEFF}", "# c\n\u{FEFF}", "\u{FEFF}\u{FEFF}"]));
    }
    for _ in 0..rng.below(3) {
        out.push_str(sep(rng));
        if rng.chance(2) {
            out.push_str("import");
            out.push_str(sep(rng));
            out.push_str(rng.pick(&["\"lib\"", "\"a\\u{D800}\"", "lib", "{ }"]));
            if rng.chance(2) {
                out.push_str(sep(rng));
                out.push_str(rng.pick(&[
                    "as", "as", "assoc", "as-x", "as$x", "as#x\n", "as_", "as@x", "as1",
                ]));
                out.push_str(sep(rng));
                out.push_str(rng.pick(&["a", "b", "", "{ }", "x { }"]));
            }
        } else {
            gen_block(rng, 0, &mut out);
        }
    }
    out.push_str(sep(rng));
    out
}

#[test]
fn the_fast_parser_agrees_with_pest() {
    let files = corpus();
    assert!(files.len() >= 100, "only {} spec files found", files.len());
    let mut total = Tally::default();

    // The files as they are.
    let mut as_is = Tally::default();
    for (path, text) in &files {
        compare(text, path, &mut as_is);
    }
    // The examples, the stdlib and the fixtures are valid: the fast path
    // must have read them (the bad corpus is mostly refused).
    assert!(as_is.accepted >= 20, "{} files accepted", as_is.accepted);
    eprintln!(
        "files: {} ({} accepted by pest, {} refused)",
        as_is.inputs, as_is.accepted, as_is.rejected
    );
    total.add(as_is);

    let budget = budget();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let started = std::time::Instant::now();
    // Mostly small inputs: pest parses every one of them, at some hundred
    // instructions per byte. The big generated files are mutated too, less
    // often.
    let small: Vec<&(String, String)> = files.iter().filter(|f| f.1.len() < 8_000).collect();
    let big: Vec<&(String, String)> = files.iter().filter(|f| f.1.len() >= 8_000).collect();
    let (mutated, generated): (Tally, Tally) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (small, big) = (&small, &big);
                scope.spawn(move || {
                    let mut rng =
                        XorShift(0x9e37_79b9_7f4a_7c15 ^ ((t as u64 + 1) * 0x2545_f491_4f6c_dd1d));
                    let (mut mutated, mut generated) = (Tally::default(), Tally::default());
                    let mut n = t;
                    while n < budget {
                        if n % 3 == 2 {
                            let text = generate(&mut rng);
                            compare(&text, &format!("generated input {n}"), &mut generated);
                        } else {
                            let (path, text) = if n % 500 == 0 && !big.is_empty() {
                                big[rng.below(big.len())]
                            } else {
                                small[rng.below(small.len())]
                            };
                            let text = mutate(&mut rng, text);
                            compare(&text, &format!("variant {n} of {path}"), &mut mutated);
                        }
                        n += threads;
                    }
                    (mutated, generated)
                })
            })
            .collect();
        let mut mutated = Tally::default();
        let mut generated = Tally::default();
        for w in workers {
            let (m, g) = w.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            mutated.add(m);
            generated.add(g);
        }
        (mutated, generated)
    });
    eprintln!(
        "mutated variants: {} ({} accepted by pest, {} of them with literal errors; {} refused)",
        mutated.inputs, mutated.accepted, mutated.with_literal_errors, mutated.rejected
    );
    eprintln!(
        "generated specs: {} ({} accepted by pest, {} of them with literal errors; {} refused)",
        generated.inputs, generated.accepted, generated.with_literal_errors, generated.rejected
    );
    eprintln!("in {:?}", started.elapsed());
    // Both kinds of input must reach both outcomes, or the comparison proves
    // little.
    for (what, t) in [("mutated", &mutated), ("generated", &generated)] {
        assert!(
            t.accepted * 10 > t.inputs && t.rejected * 10 > t.inputs,
            "{what}: {} accepted, {} refused of {}",
            t.accepted,
            t.rejected,
            t.inputs
        );
        assert!(
            t.with_literal_errors > 0,
            "{what}: no literal error reached"
        );
    }
    total.add(mutated);
    total.add(generated);
    assert!(
        total.diverged == 0,
        "{} divergences; the first:\n{}",
        total.diverged,
        total.divergences.join("\n")
    );
}

/// Recovery re-parses in windows (from the last top-level block before an
/// error); it must report exactly what re-parsing the whole text reports.
/// Inputs with several errors: two to five mutations of a file, or of a few
/// files joined, so that errors fall in different top-level blocks.
#[test]
fn windowed_recovery_equals_whole_recovery() {
    let files = corpus();
    let small: Vec<&(String, String)> = files.iter().filter(|f| f.1.len() < 8_000).collect();
    let mut rng = XorShift(0x5851_f42d_4c95_7f2d);
    let budget = (budget() / 20).max(200);
    let (mut broken, mut several) = (0, 0);
    for n in 0..budget {
        let mut text = String::new();
        for _ in 0..1 + rng.below(3) {
            text.push_str(&small[rng.below(small.len())].1);
            text.push('\n');
        }
        for _ in 0..2 + rng.below(4) {
            text = mutate(&mut rng, &text);
        }
        let file = FileId(3);
        let windowed = tenantc::syntax::parse_recovering(file, &text, true);
        let whole = tenantc::syntax::parse_recovering(file, &text, false);
        let errors = windowed
            .1
            .iter()
            .filter(|d| d.code == tenantc::diagnostics::registry::SYNTAX)
            .count();
        broken += usize::from(errors > 0);
        several += usize::from(errors > 1);
        assert!(
            windowed == whole,
            "input {n}: windowed recovery differs:\n{text}\n--- windowed\n{:#?}\n--- whole\n{:#?}",
            windowed.1,
            whole.1
        );
    }
    eprintln!("recovery: {budget} inputs, {broken} with syntax errors, {several} with several");
    assert!(
        several * 10 > budget,
        "only {several} of {budget} inputs had several errors"
    );
}

/// The lexer (`src/syntax/lex.rs`) against pest: on every input its tokens
/// cover the text exactly, and where pest accepts the text each of pest's
/// tokens is one of the lexer's, with only blanks, comments and the
/// grammar's unnamed literals between them. Inputs: the spec files, and
/// mutated and generated variants as above (a tenth of the budget).
#[test]
fn the_lexer_agrees_with_pest() {
    fn check(text: &str, origin: &str) -> usize {
        match tenantc::syntax::lex::agrees_with_pest(text) {
            Ok(accepted) => usize::from(accepted),
            Err(e) => panic!("{origin}: {e}\non {text:?}"),
        }
    }
    let files = corpus();
    let mut compared = 0;
    for (path, text) in &files {
        compared += check(text, path);
    }
    assert!(compared >= 20, "{compared} files compared");
    let small: Vec<&(String, String)> = files.iter().filter(|f| f.1.len() < 8_000).collect();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let budget = (budget() / 10).max(1_000);
    for n in 0..budget {
        let text = if n % 3 == 2 {
            generate(&mut rng)
        } else {
            let base = &small[rng.below(small.len())].1;
            mutate(&mut rng, base)
        };
        compared += check(&text, &format!("input {n}"));
    }
    eprintln!(
        "lexer: {} inputs, {compared} accepted by pest",
        files.len() + budget
    );
    assert!(
        compared * 5 > budget,
        "only {compared} inputs accepted by pest"
    );
}
