//! The YAML printer against an oracle that shares no code with it: PyYAML,
//! a YAML 1.1 reader (kubectl's and most operators' YAML libraries resolve
//! 1.1's `on`, `yes`, `0o17`, `1_000`, `12:30` and friends, so 1.1 is the
//! reading that matters). Random documents are printed by tenantc, read back
//! by PyYAML and compared with the values they were printed from.

use crate::common;

use common::mutate::XorShift;
use serde_json::{json, Value};

/// Words and shapes that YAML 1.1 or 1.2 reads as something other than a
/// string when left plain.
const TRICKY: &[&str] = &[
    "on",
    "off",
    "yes",
    "no",
    "y",
    "n",
    "Y",
    "N",
    "true",
    "False",
    "NULL",
    "~",
    "null",
    "",
    "-",
    "0o17",
    "017",
    "0x1F",
    "1_000",
    "12:30",
    "1:20:30",
    "190:20:30",
    ".inf",
    "-.Inf",
    ".NaN",
    "1e3",
    "1.5",
    "+1",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "<<",
    "=",
    "!tag",
    "&a",
    "*a",
    "? k",
    "- x",
    "a: b",
    "a #b",
    "#c",
    "|",
    ">",
    "%YAML",
    "---",
    "...",
    "'q'",
    "\"d\"",
    "@x",
    "`x",
    "{a}",
    "[a]",
    " lead",
    "trail ",
    "tab\there",
    "two\nlines",
    "crlf\r\nend",
    "\u{feff}bom",
    "é",
    "\u{2028}",
    "\u{85}",
    "back\\slash",
    "1Gi",
    "500m",
    "10.1.1.1",
];

fn scalar(rng: &mut XorShift) -> Value {
    match rng.below(6) {
        0 => json!(rng.next() as i64 >> rng.below(60)),
        1 => json!(rng.below(2) == 0),
        2 | 3 => json!(TRICKY[rng.below(TRICKY.len())]),
        _ => {
            let alphabet: Vec<char> = " \n\t:#-'\"{}[],&*!|>%@`?=/.aZ09~yesnoé\\\r"
                .chars()
                .collect();
            let len = rng.below(10);
            json!((0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect::<String>())
        }
    }
}

fn value(rng: &mut XorShift, depth: usize) -> Value {
    if depth == 0 || rng.below(3) == 0 {
        return scalar(rng);
    }
    let n = rng.below(4);
    if rng.below(2) == 0 {
        Value::Array((0..n).map(|_| value(rng, depth - 1)).collect())
    } else {
        let mut m = serde_json::Map::new();
        for _ in 0..n {
            let k = match scalar(rng) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            m.insert(k, value(rng, depth - 1));
        }
        Value::Object(m)
    }
}

#[test]
fn pyyaml_reads_back_what_the_printer_wrote() {
    let Some(python) = common::python_with_jsonschema() else {
        return;
    };
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut stream = String::new();
    let mut want = Vec::new();
    for _ in 0..5000 {
        // Documents are maps, as every Kubernetes object is.
        let mut m = serde_json::Map::new();
        for _ in 0..1 + rng.below(4) {
            let k = match scalar(&mut rng) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            m.insert(k, value(&mut rng, 3));
        }
        let doc = Value::Object(m);
        stream.push_str("---\n");
        stream.push_str(&tenantc::lower::k8s::yaml::to_string(&doc).expect("prints"));
        want.push(doc);
    }
    let dir = tempfile::tempdir().expect("tmp");
    let yaml = dir.path().join("stream.yaml");
    let expected = dir.path().join("expected.json");
    std::fs::write(&yaml, &stream).expect("write");
    std::fs::write(&expected, serde_json::to_string(&want).expect("json")).expect("write");
    let o = std::process::Command::new(python.as_str())
        .arg(common::root().join("tests/tools/yaml11_compare.py"))
        .arg(&yaml)
        .arg(&expected)
        .output()
        .expect("python runs");
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
