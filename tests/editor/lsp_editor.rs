//! `tenantc lsp` features for editors without a grammar of their own:
//! semantic tokens, inlay hints of derived names and defaults, and an
//! outline of a file with a syntax error in its middle.

use crate::common;

use common::lsp::Lsp;
use serde_json::{json, Value};

/// The LSP position (UTF-16 line and character) of the first `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the text"));
    text[..at].matches('\n').count() as u64
}

/// Decodes `semanticTokens` data into (line, start, text, type, modifiers).
fn decode(text: &str, legend: &[String], data: &[u64]) -> Vec<(u64, String, String, u64)> {
    let lines: Vec<&str> = text.split('\n').collect();
    let (mut line, mut ch) = (0u64, 0u64);
    data.chunks(5)
        .map(|t| {
            if t[0] > 0 {
                line += t[0];
                ch = t[1];
            } else {
                ch += t[1];
            }
            let units: Vec<u16> = lines[line as usize].encode_utf16().collect();
            let word = String::from_utf16_lossy(&units[ch as usize..(ch + t[2]) as usize]);
            (line, word, legend[t[3] as usize].clone(), t[4])
        })
        .collect()
}

/// The legend `initialize` announces (src/lsp/tokens.rs; its unit test
/// checks the order).
fn legend() -> Vec<String> {
    [
        "keyword", "type", "property", "variable", "function", "string", "number", "comment",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

#[test]
fn semantic_tokens_colour_kinds_names_keys_and_literals() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &text);
    lsp.diagnostics(&u, |_| true);
    let legend = legend();
    let r = lsp.call(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": u } }),
    );
    let data: Vec<u64> = r["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|v| v.as_u64().expect("u32"))
        .collect();
    assert_eq!(data.len() % 5, 0);
    let tokens = decode(&text, &legend, &data);
    let find = |word: &str| {
        tokens
            .iter()
            .find(|(_, w, _, _)| w == word)
            .unwrap_or_else(|| panic!("no token `{word}`: {tokens:?}"))
            .clone()
    };
    assert_eq!(find("nfs_server").2, "keyword");
    let name = find("MVSNFS8");
    assert_eq!((name.2.as_str(), name.3), ("type", 1), "a declaration");
    assert_eq!(find("jobname").2, "property");
    assert_eq!(find("\"fios\"").2, "string");
    assert_eq!(find("2048").2, "number");
    assert_eq!(find("rsa").2, "function");
    assert!(tokens
        .iter()
        .any(|(_, w, t, _)| t == "comment" && w.starts_with('#')));

    // A file with a syntax error is coloured all the same.
    let broken = text.replace("  namespace = \"fios\"", "  namespace = = \"fios\"");
    lsp.change(&u, 2, &broken);
    let r = lsp.call(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": u } }),
    );
    let data: Vec<u64> = r["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let tokens = decode(&broken, &legend, &data);
    assert!(
        tokens
            .iter()
            .any(|(_, w, t, _)| w == "workload" && t == "keyword"),
        "{tokens:?}"
    );
}

#[test]
fn inlay_hints_show_derived_names_and_defaults() {
    let mut lsp = Lsp::example("zcx-nfs");
    // Without `tls`, the server gets the default profile.
    let text = lsp.read("site.tenant").replace(
        "    tls      = profiles.tls12_saf  # ServerWithClientAuth, SAFCheck, TLS 1.2 only\n",
        "",
    );
    let u = lsp.open("site.tenant", &text);
    lsp.diagnostics(&u, |d| d.is_empty());
    let lines = text.matches('\n').count();
    let hints = lsp.call(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": u },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": lines, "character": 0 } } }),
    );
    let hints: Vec<(u64, String)> = hints
        .as_array()
        .expect("hints")
        .iter()
        .map(|h| {
            (
                h["position"]["line"].as_u64().expect("line"),
                h["label"].as_str().expect("label").to_string(),
            )
        })
        .collect();
    let on = |needle: &str| -> Vec<String> {
        let line = line_of(&text, needle);
        hints
            .iter()
            .filter(|(l, _)| *l == line)
            .map(|(_, h)| h.clone())
            .collect()
    };
    let server = on("nfs_server MVSNFS8");
    assert!(server.iter().any(|h| h.starts_with("job ")), "{hints:?}");
    assert!(
        server
            .iter()
            .any(|h| h.starts_with("tls = profiles.") && h.ends_with("(default)")),
        "{hints:?}"
    );
    assert!(
        on("authority zcx_ca").iter().any(|h| h.starts_with("job ")),
        "{hints:?}"
    );
    assert_eq!(
        on("registry my_registry"),
        ["pull Secret my-registry"],
        "{hints:?}"
    );
    let volume = on("volume fio_test");
    assert!(
        volume
            .iter()
            .any(|h| h.starts_with("PV fios-") && h.contains("PVC ")),
        "{hints:?}"
    );
    assert!(
        on("user      = NFSTST")
            .iter()
            .any(|h| h.starts_with("job ")),
        "{hints:?}"
    );

    // With `tls` written, no default is shown; the job hints stay.
    let written = lsp.read("site.tenant");
    lsp.change(&u, 2, &written);
    lsp.diagnostics(&u, |d| d.is_empty());
    let hints = lsp.call(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": u },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": lines + 1, "character": 0 } } }),
    );
    let labels: Vec<&str> = hints
        .as_array()
        .expect("hints")
        .iter()
        .filter_map(|h| h["label"].as_str())
        .collect();
    assert!(
        !labels.iter().any(|l| l.contains("(default)")),
        "{labels:?}"
    );
    assert!(labels.iter().any(|l| l.starts_with("job ")), "{labels:?}");
}

/// A file that never parsed, with a syntax error in its middle: the
/// outline still lists every block, from the tree the parser recovers
/// around the error, or where it recovers none, from the braces; with
/// positions in the text as it is now.
#[test]
fn a_syntax_error_in_the_middle_keeps_the_outline() {
    let mut lsp = Lsp::example("zcx-nfs");
    // A stray `}` between the tenants: the braces do not nest, so the
    // parser recovers no tree at all.
    let text = "tenant t2 {\n  cluster   = ocp1\n  namespace = \"t2\"\n  workload w { image = \"a:1\" }\n}\n}\ntenant t3 {\n  cluster   = ocp1\n  namespace = \"t3\"\n  workload v { image = \"b:1\" }\n}\n";
    let u = lsp.open("extra.tenant", text);
    assert!(!lsp.diagnostics(&u, |d| !d.is_empty()).is_empty());
    let s = lsp.call(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": u } }),
    );
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["name"].as_str())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names(&s), ["t2", "t3"], "{s}");
    assert_eq!(names(&s[0]["children"]), ["w"], "{s}");
    assert_eq!(names(&s[1]["children"]), ["v"], "{s}");
    assert_eq!(
        s[1]["selectionRange"]["start"]["line"],
        line_of(text, "tenant t3"),
        "{s}"
    );
}
