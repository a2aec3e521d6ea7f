//! `tenantc fmt`: the formatter's promises, checked over every spec in the
//! repository (examples, fixtures, the stdlib, the bad-input corpus) and over
//! mutated variants of the examples, and the `fmt` command's behaviour.
//!
//! For every text that parses: (a) formatting is idempotent; (b) the
//! formatted text parses to the same syntax tree (spans aside), analyzes to
//! the same diagnostics and compiles to the same bundle (manifest.json aside,
//! it records the inputs' hashes); (c) every comment is still there, in the
//! same order. A text that does not parse is refused with its parse
//! diagnostics.

use crate::common;

use camino::{Utf8Path, Utf8PathBuf};
use common::{root, tenantc};
use std::collections::BTreeMap;
use tenantc::fmt::format_source;
use tenantc::source::FileId;
use tenantc::syntax::parse;

/// The syntax tree without its spans: its Debug form with every
/// `Span { .. }` cut down to `Span`. `None` if the text has diagnostics.
fn shape(text: &str) -> Option<String> {
    let (tree, diags) = parse(FileId(0), text);
    if !diags.is_empty() {
        return None;
    }
    let debug = format!("{:?}", tree?);
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(i) = rest.find("Span { file: ") {
        out.push_str(&rest[..i]);
        out.push_str("Span");
        let end = rest[i..].find(" }").expect("a span ends") + 2;
        rest = &rest[i + end..];
    }
    out.push_str(rest);
    Some(out)
}

/// The comments of a text that parses, in order, each line less its trailing
/// whitespace, found with the grammar's lexical rules independently of the
/// formatter: strings, identifiers (where `#` is an ordinary character) and
/// numbers are skipped. A keyword glued to a comment (`true#c`) would be read
/// as an identifier; [`ambiguous`] texts are left out of the mutations.
fn comments(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let ident_start = |c: u8| c.is_ascii_alphabetic() || b"_$@".contains(&c);
    let ident_char = |c: u8| c.is_ascii_alphanumeric() || b"_-$#@".contains(&c);
    let tidy = |s: &str| {
        s.split('\n')
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if ident_start(c) {
            while i < b.len() && ident_char(b[i]) {
                i += 1;
            }
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b"_.".contains(&b[i])) {
                i += 1;
            }
            if b.get(i) == Some(&b'/') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
        } else if c == b'#' || (c == b'/' && next == Some(b'/')) {
            let end = text[i..].find('\n').map_or(b.len(), |k| i + k);
            out.push(tidy(&text[i..end]));
            i = end;
        } else if c == b'/' && next == Some(b'*') {
            let end = text[i + 2..].find("*/").map_or(b.len(), |k| i + 2 + k + 2);
            out.push(tidy(&text[i..end]));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// A keyword glued to a `#` comment, which [`comments`] cannot tell from an
/// identifier without parsing.
fn ambiguous(text: &str) -> bool {
    ["true#", "false#", "env#", "file#", "import#", "as#"]
        .iter()
        .any(|k| text.contains(k))
}

#[derive(Debug, Default)]
struct Tally {
    formatted: usize,
    changed: usize,
    refused: usize,
    comments: usize,
    analyses: usize,
    bundles: usize,
}

/// Properties (a) and (c), the tree half of (b), and the basic layout
/// promises; returns the formatted text, `None` if the text does not parse.
fn check_text(label: &str, text: &str, t: &mut Tally) -> Option<String> {
    let (tree, diags) = parse(FileId(0), text);
    let out = match format_source(FileId(0), text) {
        Ok(out) => out,
        Err(refused) => {
            assert_eq!(
                refused, diags,
                "{label}: refused with the parse diagnostics"
            );
            assert!(
                tree.is_none() || diags.iter().any(|d| d.is_error()),
                "{label}: a clean file was refused"
            );
            t.refused += 1;
            return None;
        }
    };
    assert!(
        tree.is_some() && diags.is_empty(),
        "{label}: formatted despite {diags:?}"
    );
    assert_eq!(
        format_source(FileId(0), &out).as_deref(),
        Ok(out.as_str()),
        "{label}: formatting again changes the text; once:\n{out}"
    );
    assert_eq!(
        shape(&out),
        shape(text),
        "{label}: the syntax tree changed; formatted:\n{out}"
    );
    let before = comments(text);
    assert_eq!(
        comments(&out),
        before,
        "{label}: comments lost or moved out of order; formatted:\n{out}"
    );
    for (n, line) in out.lines().enumerate() {
        assert_eq!(
            line.trim_end(),
            line,
            "{label}: trailing whitespace on line {}",
            n + 1
        );
    }
    assert!(
        out.is_empty() || (out.ends_with('\n') && !out.ends_with("\n\n")),
        "{label}: the text ends with one newline"
    );
    t.formatted += 1;
    t.changed += usize::from(out != text);
    t.comments += before.len();
    Some(out)
}

/// A copy of a directory of specs, to analyze a file as written and
/// formatted under the same path.
struct Site {
    _tmp: tempfile::TempDir,
    dir: Utf8PathBuf,
}

/// Diagnostics (code and message) and, if clean, the bundle's files but
/// manifest.json.
type Meaning = (Vec<(String, String)>, Option<BTreeMap<String, Vec<u8>>>);

impl Site {
    fn copy_of(src: &Utf8Path) -> Site {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = Utf8Path::from_path(tmp.path()).expect("utf-8").join("site");
        for file in common::walk(src.as_std_path()) {
            let rel = file.strip_prefix(src).expect("inside");
            let to = dir.as_std_path().join(rel);
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&file, &to).expect("copy");
        }
        Site { _tmp: tmp, dir }
    }

    fn meaning(&self, inputs: &[Utf8PathBuf], stdlib: Option<&Utf8Path>) -> Meaning {
        let opts = tenantc::Options {
            stdlib_dir: stdlib.map(Utf8Path::to_path_buf),
            ..tenantc::Options::default()
        };
        let a = tenantc::analyze(inputs, &opts).expect("analysis runs");
        let diags = a
            .diagnostics
            .iter()
            .map(|d| (d.code.to_string(), d.message.clone()))
            .collect();
        let bundle = (!a.has_errors()).then(|| {
            let b = tenantc::build_bundle(&a, &opts).expect("lowering succeeds");
            b.files
                .into_iter()
                .filter(|(path, _)| path != "manifest.json")
                .map(|(path, f)| (path, f.bytes))
                .collect()
        });
        (diags, bundle)
    }

    /// The rest of (b): `file` (inside the copy) written as `original` and
    /// as `formatted` analyzes and compiles alike.
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &self,
        label: &str,
        inputs: &[Utf8PathBuf],
        stdlib: Option<&Utf8Path>,
        file: &Utf8Path,
        original: &str,
        formatted: &str,
        t: &mut Tally,
    ) {
        std::fs::write(file, original).expect("write");
        let before = self.meaning(inputs, stdlib);
        std::fs::write(file, formatted).expect("write");
        let after = self.meaning(inputs, stdlib);
        std::fs::write(file, original).expect("restore");
        assert_eq!(after.0, before.0, "{label}: the diagnostics changed");
        match (&before.1, &after.1) {
            (Some(b), Some(a)) => {
                assert_eq!(
                    a.keys().collect::<Vec<_>>(),
                    b.keys().collect::<Vec<_>>(),
                    "{label}: the bundle's files changed"
                );
                for (path, bytes) in b {
                    assert!(
                        a.get(path) == Some(bytes),
                        "{label}: {path} changed:\n{}",
                        String::from_utf8_lossy(&a[path])
                    );
                }
                t.bundles += 1;
            }
            (None, None) => {}
            _ => panic!("{label}: one version compiles, the other does not"),
        }
        t.analyses += 1;
    }
}

/// Every file of a site (a directory compiled as a whole), formatted in
/// place of the original.
fn check_site(src: &Utf8Path, stdlib: Option<&Utf8Path>, t: &mut Tally) {
    let site = Site::copy_of(src);
    let inputs = tenantc::find_inputs(std::slice::from_ref(&site.dir)).expect("inputs");
    for file in &inputs {
        let label = file.strip_prefix(&site.dir).expect("inside").to_string();
        let label = format!("{src}/{label}");
        let text = std::fs::read_to_string(file).expect("read");
        if let Some(out) = check_text(&label, &text, t) {
            site.compare(&label, &inputs, stdlib, file, &text, &out, t);
        }
    }
}

#[test]
fn every_spec_in_the_repository_formats_idempotently_and_keeps_its_meaning() {
    let mut t = Tally::default();
    let mut sites = common::examples();
    sites.push(root().join("tests/fixtures/multi"));
    for dir in &sites {
        check_site(dir, None, &mut t);
    }
    let site_files = t.formatted;
    assert!(site_files >= 8, "{t:?}");

    // The stdlib, through --stdlib, under an example that uses its profiles.
    let stdlib = Site::copy_of(&root().join("stdlib"));
    let example = vec![root().join("examples/zcx-nfs/site.tenant")];
    for file in tenantc::find_inputs(&[stdlib.dir.join("std")]).expect("std") {
        let text = std::fs::read_to_string(&file).expect("read");
        let label = format!("stdlib/std/{}", file.file_name().expect("name"));
        if let Some(out) = check_text(&label, &text, &mut t) {
            stdlib.compare(
                &label,
                &example,
                Some(&stdlib.dir),
                &file,
                &text,
                &out,
                &mut t,
            );
        }
    }

    // The bad-input corpus, one file at a time, as the corpus test runs it.
    let corpus = Site::copy_of(&root().join("tests/bad"));
    let mut unreadable = 0;
    for file in tenantc::find_inputs(std::slice::from_ref(&corpus.dir)).expect("corpus") {
        let label = format!(
            "tests/bad/{}",
            file.strip_prefix(&corpus.dir).expect("inside")
        );
        let Ok(text) = std::fs::read_to_string(&file) else {
            unreadable += 1;
            continue;
        };
        if let Some(out) = check_text(&label, &text, &mut t) {
            let inputs = [file.clone()];
            corpus.compare(&label, &inputs, None, &file, &text, &out, &mut t);
        }
    }
    assert!(unreadable <= 2, "{unreadable} unreadable corpus files");
    assert!(t.formatted >= 100, "{t:?}");
    assert!(
        t.refused >= 3,
        "the corpus has files that do not parse: {t:?}"
    );
    assert!(t.comments >= 100, "{t:?}");
    assert!(t.analyses >= 100, "{t:?}");
    assert!(t.bundles >= site_files, "every example compiles: {t:?}");
    eprintln!("{t:?}");
}

/// A small deterministic generator: no dependency, same inputs every run.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// Some mutations of `text`: bytes replaced, deleted or inserted, comments,
/// line breaks and trailing commas inserted at random places.
fn mutate(text: &str, next: &mut impl FnMut() -> u64) -> Option<String> {
    const BYTES: &[u8] = b"{}[]()\"=.,#0a \n/*";
    const INSERTS: &[&str] = &[
        " # c\n",
        " // c\n",
        " /* c */ ",
        "\n/* c\n   d */\n",
        "\n",
        "\n\n",
        "  ",
        ",",
    ];
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..(next() % 4 + 1) {
        let i = (next() as usize) % bytes.len();
        match next() % 9 {
            0 => bytes[i] = BYTES[(next() as usize) % BYTES.len()],
            1 => {
                bytes.remove(i);
            }
            2 => bytes.insert(i, BYTES[(next() as usize) % BYTES.len()]),
            // A comment at the end of a line, or on a line of its own.
            k @ (3 | 4) => {
                let lines: Vec<usize> = (0..bytes.len()).filter(|&j| bytes[j] == b'\n').collect();
                let at = lines[(next() as usize) % lines.len()];
                let s = if k == 3 { " # c" } else { "\n// c" };
                let s = s.replace('c', &format!("c{}", next() % 1000));
                bytes.splice(at..at, s.bytes());
            }
            // A trailing comma, optional in most places but not all.
            5 => {
                let closers: Vec<usize> = (0..bytes.len())
                    .filter(|&j| b")]}".contains(&bytes[j]))
                    .collect();
                let at = closers[(next() as usize) % closers.len()];
                bytes.insert(at, b',');
            }
            _ => {
                let s = INSERTS[(next() as usize) % INSERTS.len()];
                let s = s.replace('c', &format!("c{}", next() % 1000));
                bytes.splice(i..i, s.bytes());
            }
        }
    }
    String::from_utf8(bytes).ok().filter(|t| !ambiguous(t))
}

#[test]
fn mutated_examples_format_idempotently_and_keep_their_meaning() {
    let mut t = Tally::default();
    // TENANTC_FMT_ROUNDS=N TENANTC_FMT_SEED=S: a longer or another run.
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let rounds = env("TENANTC_FMT_ROUNDS").unwrap_or(1200) as usize;
    let mut next = xorshift(env("TENANTC_FMT_SEED").unwrap_or(0x9e37_79b9_7f4a_7c15));
    // (site, the file mutated, whether the site is a stdlib): each variant
    // is compiled with the rest of its site, a stdlib under the zcx example.
    let bases = [
        ("examples/zcx-nfs", "site.tenant", false),
        ("examples/mixed-site", "site.tenant", false),
        ("examples/px-pure-saw", "customer1.tenant", false),
        ("stdlib", "std/profiles.tenant", true),
    ];
    let sites: Vec<_> = bases
        .iter()
        .map(|(dir, name, is_stdlib)| {
            let site = Site::copy_of(&root().join(dir));
            let file = site.dir.join(name);
            let text = std::fs::read_to_string(&file).expect("read");
            let inputs = if *is_stdlib {
                vec![root().join("examples/zcx-nfs/site.tenant")]
            } else {
                tenantc::find_inputs(std::slice::from_ref(&site.dir)).expect("inputs")
            };
            let stdlib = is_stdlib.then(|| site.dir.clone());
            (site, file, text, inputs, stdlib)
        })
        .collect();
    for round in 0..rounds {
        let (site, file, base, inputs, stdlib) = &sites[round % sites.len()];
        let Some(text) = mutate(base, &mut next) else {
            continue;
        };
        let label = format!("round {round} of {file}");
        let Some(out) = check_text(&label, &text, &mut t) else {
            continue;
        };
        site.compare(&label, inputs, stdlib.as_deref(), file, &text, &out, &mut t);
    }
    assert!(t.formatted >= rounds / 4, "{t:?}");
    assert!(
        t.changed >= rounds / 8,
        "many mutations change the layout: {t:?}"
    );
    assert!(t.bundles >= rounds / 20, "{t:?}");
    eprintln!("{t:?}");
}

// --- the command ---------------------------------------------------------

const UNFORMATTED: &str = "zos NP8 {\naddress=10.1.1.9 # home\n  stack = TCPIP,}\n";
const FORMATTED: &str = "zos NP8 {\n  address = 10.1.1.9  # home\n  stack   = TCPIP\n}\n";

fn spec(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8").to_string()
}

#[test]
fn the_sample_formats_as_expected() {
    assert_eq!(
        format_source(FileId(0), UNFORMATTED).as_deref(),
        Ok(FORMATTED)
    );
}

#[test]
fn check_on_a_formatted_file_is_silent() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = spec(&dir, "a.tenant", FORMATTED);
    let o = tenantc(&["fmt", "--check", &path]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{o:?}");
}

#[test]
fn check_on_an_unformatted_file_prints_a_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = spec(&dir, "a.tenant", UNFORMATTED);
    let o = tenantc(&["fmt", "--check", &path]);
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("--- {path}")), "{stdout}");
    assert!(stdout.contains("-address=10.1.1.9 # home"), "{stdout}");
    assert!(stdout.contains("+  address = 10.1.1.9  # home"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), UNFORMATTED);
}

#[test]
fn fmt_rewrites_in_place_keeping_the_mode() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = spec(&dir, "a.tenant", UNFORMATTED);
    let clean = spec(&dir, "b.tenant", FORMATTED);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    let o = tenantc(&["fmt", dir.path().to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{o:?}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), FORMATTED);
    assert_eq!(std::fs::read_to_string(&clean).expect("read"), FORMATTED);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left.len(), 2, "no temporary file left: {left:?}");
    assert_eq!(tenantc(&["fmt", "--check", &path]).status.code(), Some(0));
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().expect("tmp");
    let broken = "zos NP8 {\n  address 10.1.1.9\n}\n";
    let bad = spec(&dir, "bad.tenant", broken);
    let good = spec(&dir, "good.tenant", UNFORMATTED);
    let o = tenantc(&["fmt", &bad, &good]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("E0101"), "{stderr}");
    assert!(stderr.contains("bad.tenant"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&bad).expect("read"), broken);
    assert_eq!(
        std::fs::read_to_string(&good).expect("read"),
        FORMATTED,
        "the files that parse are still formatted"
    );
    let json = tenantc(&["fmt", "--check", "--diagnostics-format", "json", &bad]);
    assert_eq!(json.status.code(), Some(1));
    let line = String::from_utf8_lossy(&json.stdout).to_string();
    let d: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    assert_eq!(d["severity"], "error");
}

#[test]
fn unreadable_input_exits_2_and_rewrites_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = spec(&dir, "a.tenant", UNFORMATTED);
    let bad = dir.path().join("b.tenant");
    std::fs::write(&bad, b"zos A { x = \xff }\n").expect("write");
    let o = tenantc(&["fmt", dir.path().to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert_eq!(std::fs::read_to_string(&good).expect("read"), UNFORMATTED);
    assert_eq!(
        tenantc(&["fmt", "no/such/file.tenant"]).status.code(),
        Some(2)
    );
}

#[test]
fn stdin_is_formatted_to_stdout() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenantc"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        child.wait_with_output().expect("output")
    };
    let o = run(&["fmt", "-"], UNFORMATTED);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout), FORMATTED);
    assert_eq!(
        run(&["fmt", "--check", "-"], UNFORMATTED).status.code(),
        Some(1)
    );
    assert_eq!(
        run(&["fmt", "--check", "-"], FORMATTED).status.code(),
        Some(0)
    );
    assert_eq!(run(&["fmt", "-"], "zos {").status.code(), Some(1));
}

#[test]
fn the_examples_and_the_stdlib_are_in_the_canonical_layout() {
    let o = tenantc(&["fmt", "--check", "examples", "stdlib/std"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "run `tenantc fmt examples stdlib/std`:\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(o.stdout.is_empty());
}
