//! `tenantc lsp` at the protocol level: the real binary, JSON-RPC messages
//! with Content-Length framing over its stdin and stdout, every wait bounded.

use crate::common;

use camino::Utf8Path;
use common::lsp::{example, uri, Lsp, WAIT};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

/// The LSP position (UTF-16) of the first `needle` in `text`, plus `delta` bytes.
fn pos(text: &str, needle: &str, delta: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the text"))
        + delta;
    let before = &text[..at];
    let line = before.matches('\n').count();
    let col: usize = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .map(char::len_utf16)
        .sum();
    json!({ "line": line, "character": col })
}

fn at(u: &str, text: &str, needle: &str, delta: usize) -> Value {
    json!({ "textDocument": { "uri": u }, "position": pos(text, needle, delta) })
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn hover_text(v: &Value) -> String {
    v["contents"]["value"].as_str().unwrap_or("").to_string()
}

fn labels(v: &Value) -> Vec<String> {
    let items = if v.is_array() { v } else { &v["items"] };
    items
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["label"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Applies the edits of a WorkspaceEdit for `u` to `text` (last first).
fn apply(text: &str, edit: &Value, u: &str) -> String {
    let mut edits: Vec<Value> = edit["changes"][u].as_array().cloned().unwrap_or_default();
    let offset = |p: &Value| -> usize {
        let line = p["line"].as_u64().expect("line") as usize;
        let ch = p["character"].as_u64().expect("character") as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= ch || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    edits.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    let mut out = text.to_string();
    for e in edits {
        let (s, t) = (offset(&e["range"]["start"]), offset(&e["range"]["end"]));
        out.replace_range(s..t, e["newText"].as_str().expect("newText"));
    }
    out
}

#[test]
fn requests_before_initialize_and_a_second_initialize_are_refused() {
    let (dir, root) = example("zcx-nfs");
    let mut lsp = Lsp::start(Some(dir), &root);
    let again = lsp.request("initialize", json!({ "capabilities": {} }));
    assert_eq!(again["error"]["code"], -32600, "{again}");
    // Still serving after the refusal.
    let s = lsp.call("workspace/symbol", json!({ "query": "fios" }));
    assert!(s.as_array().is_some_and(|a| !a.is_empty()), "{s}");
}

#[test]
fn capabilities_cover_every_feature() {
    let (dir, root) = example("zcx-nfs");
    let mut child = common::lsp::spawn();
    let mut stdin = child.stdin.take().expect("stdin");
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "processId": null, "rootUri": uri(&root), "capabilities": {} } })
    .to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
    stdin.flush().expect("flush");
    let mut r = BufReader::new(child.stdout.take().expect("stdout"));
    let mut header = String::new();
    r.read_line(&mut header).expect("header");
    let len: usize = header
        .trim()
        .trim_start_matches("Content-Length:")
        .trim()
        .parse()
        .expect("length");
    let mut blank = String::new();
    r.read_line(&mut blank).expect("blank");
    let mut body = vec![0; len];
    r.read_exact(&mut body).expect("body");
    let _ = child.kill();
    let _ = child.wait();
    drop(dir);
    let v: Value = serde_json::from_slice(&body).expect("json");
    let c = &v["result"]["capabilities"];
    assert_eq!(c["textDocumentSync"]["change"], 2, "incremental sync: {c}");
    assert_eq!(c["positionEncoding"], "utf-16");
    for cap in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "completionProvider",
        "documentSymbolProvider",
        "workspaceSymbolProvider",
        "renameProvider",
        "documentFormattingProvider",
        "codeActionProvider",
        "semanticTokensProvider",
        "inlayHintProvider",
    ] {
        assert!(!c[cap].is_null(), "{cap} missing: {c}");
    }
    assert_eq!(c["renameProvider"]["prepareProvider"], true);
    // The legend tests/lsp_editor.rs decodes semantic tokens with.
    assert_eq!(
        c["semanticTokensProvider"]["legend"]["tokenTypes"],
        json!([
            "keyword", "type", "property", "variable", "function", "string", "number", "comment"
        ])
    );
    assert_eq!(v["result"]["serverInfo"]["name"], "tenantc");
}

#[test]
fn diagnostics_on_open_carry_code_help_and_related_information() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant").replace(", 10.1.1.3]", "]");
    let u = lsp.open("site.tenant", &text);
    let d = lsp.diagnostics(&u, |d| !d.is_empty());
    assert_eq!(codes(&d), ["E0401"], "{d:?}");
    let d = &d[0];
    assert_eq!(d["source"], "tenantc");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["range"]["start"], pos(&text, "10.1.1.3 }", 0));
    let message = d["message"].as_str().expect("message");
    assert!(
        message.starts_with("node `worker3` of cluster `ocp1` (10.1.1.3) is missing"),
        "{message}"
    );
    assert!(
        message.contains("\nhelp: add 10.1.1.3 to `clients` of `MVSNFS8`"),
        "{message}"
    );
    let related = d["relatedInformation"].as_array().expect("related");
    assert_eq!(related.len(), 2, "{related:?}");
    assert_eq!(related[0]["location"]["uri"], json!(u));
    assert_eq!(
        related[0]["location"]["range"]["start"],
        pos(&text, "[10.1.1.1", 0)
    );
    assert!(d["data"]["fix"]["text"] == ", 10.1.1.3", "{d}");
}

#[test]
fn diagnostics_follow_changes_and_clear_when_fixed() {
    let mut lsp = Lsp::example("zcx-nfs");
    let good = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &good);
    assert!(lsp.diagnostics(&u, |_| true).is_empty());
    let bad = good.replace(
        "registry = ocp1.my_registry\n    env",
        "registry = ocp1.my_regsitry\n    env",
    );
    lsp.change(&u, 2, &bad);
    let d = lsp.diagnostics(&u, |d| !d.is_empty());
    assert_eq!(codes(&d), ["E0201"]);
    assert!(d[0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("did you mean `my_registry`?"));
    // An incremental edit that puts the name right clears them.
    let fix_at = pos(&bad, "my_regsitry", 0);
    let end = json!({ "line": fix_at["line"], "character": fix_at["character"].as_u64().unwrap_or(0) + 11 });
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 3 },
                "contentChanges": [{ "range": { "start": fix_at, "end": end }, "text": "my_registry" }] }),
    );
    let m = lsp.wait_for("cleared diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 3
    });
    assert_eq!(m["params"]["diagnostics"], json!([]), "{m}");
}

#[test]
fn diagnostics_reach_files_that_are_not_open() {
    let mut lsp = Lsp::example("px-pure-saw");
    let site = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &site);
    assert!(lsp.diagnostics(&u, |_| true).is_empty());
    // Renaming the array in site.tenant breaks both tenants' files.
    lsp.change(&u, 2, &site.replace("flasharray fa1 {", "flasharray fa9 {"));
    for f in ["customer1.tenant", "customer2.tenant"] {
        let other = uri(&lsp.path(f));
        let d = lsp.diagnostics(&other, |d| !d.is_empty());
        assert_eq!(codes(&d), ["E0201"], "{f}: {d:?}");
        assert!(d[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("did you mean `fa9`?"));
    }
    // A file deleted on disk (and not open) loses its diagnostics.
    std::fs::remove_file(lsp.path("customer2.tenant")).expect("rm");
    let gone = uri(&lsp.path("customer2.tenant"));
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": gone, "type": 3 }] }),
    );
    assert!(lsp.diagnostics(&gone, |d| d.is_empty()).is_empty());
}

#[test]
fn hover_shows_a_field_type_and_documentation() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &text);
    lsp.diagnostics(&u, |_| true);
    let h = lsp.call("textDocument/hover", at(&u, &text, "dvipa = 10.1.1.1", 2));
    let md = hover_text(&h);
    assert!(
        md.contains("**dvipa**") && md.contains("an IPv4 address"),
        "{md}"
    );
    assert!(md.contains("The node's dynamic VIPA"), "{md}");
    let h = lsp.call("textDocument/hover", at(&u, &text, "tenant fios", 1));
    assert!(hover_text(&h).contains("The unit of isolation"), "{h}");
    // An address: whose it is.
    let h = lsp.call("textDocument/hover", at(&u, &text, "10.1.1.2,", 3));
    let md = hover_text(&h);
    assert!(md.contains("node `worker2` of cluster `ocp1`"), "{md}");
}

#[test]
fn hover_on_a_reference_shows_its_resolved_value() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &text);
    lsp.diagnostics(&u, |_| true);
    // A port range through a port_set of the stdlib.
    let h = lsp.call("textDocument/hover", at(&u, &text, "profiles.zos_nfs", 10));
    let md = hover_text(&h);
    assert!(
        md.contains("**port_set** `zos_nfs`") && md.contains("range = 2043..2049"),
        "{md}"
    );
    // The server a tenant uses, with its resolved address and ports.
    let h = lsp.call("textDocument/hover", at(&u, &text, "NP8.MVSNFS8", 6));
    let md = hover_text(&h);
    assert!(md.contains("**nfs_server** `NP8.MVSNFS8`"), "{md}");
    assert!(md.contains("listens on 10.1.1.9:2043..2049"), "{md}");
    assert!(
        md.contains("clients = [10.1.1.1, 10.1.1.2, 10.1.1.3]"),
        "{md}"
    );
    // The hover range is the name under the cursor.
    assert_eq!(h["range"]["start"], pos(&text, "MVSNFS8\n    storage", 0));
}

#[test]
fn definition_goes_across_files() {
    let mut lsp = Lsp::example("px-pure-saw");
    let text = lsp.read("customer1.tenant");
    let u = lsp.open("customer1.tenant", &text);
    lsp.diagnostics(&u, |_| true);
    let site = lsp.read("site.tenant");
    let d = lsp.call("textDocument/definition", at(&u, &text, "= k8s1", 3));
    assert_eq!(d["uri"], json!(uri(&lsp.path("site.tenant"))), "{d}");
    assert_eq!(d["range"]["start"], pos(&site, "k8s1 {", 0));
    let d = lsp.call(
        "textDocument/definition",
        at(&u, &text, "pure.fada_pod_sc", 6),
    );
    assert_eq!(d["uri"], json!(u));
    assert_eq!(d["range"]["start"], pos(&text, "fada_pod_sc {", 0));
}

#[test]
fn definition_of_an_import_opens_the_module() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .to_path_buf();
    std::fs::create_dir_all(root.join("lib")).expect("mkdir");
    std::fs::write(
        root.join("lib/ports.tenant"),
        "port_set nfs { range = 2043..2049 }\n",
    )
    .expect("write");
    let site = common::mutated_example(
        "import \"std/profiles\"",
        "import \"std/profiles\"\nimport \"lib/ports\" as p",
    )
    .replace("ports    = profiles.zos_nfs", "ports    = p.nfs");
    std::fs::write(root.join("site.tenant"), &site).expect("write");
    let mut lsp = Lsp::start(Some(dir), &root);
    let u = lsp.open("site.tenant", &site);
    assert!(lsp.diagnostics(&u, |_| true).is_empty());
    let lib = uri(&root.join("lib/ports.tenant"));
    let d = lsp.call("textDocument/definition", at(&u, &site, "p.nfs", 3));
    assert_eq!(d["uri"], json!(lib), "{d}");
    let d = lsp.call("textDocument/definition", at(&u, &site, "p.nfs", 0));
    assert_eq!(d["uri"], json!(lib), "{d}");
    let d = lsp.call("textDocument/definition", at(&u, &site, "\"lib/ports\"", 2));
    assert_eq!(d["uri"], json!(lib), "{d}");
}

#[test]
fn references_are_found_across_files() {
    let mut lsp = Lsp::example("px-pure-saw");
    let site = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &site);
    lsp.diagnostics(&u, |_| true);
    let mut params = at(&u, &site, "fa1 {", 1);
    params["context"] = json!({ "includeDeclaration": true });
    let refs = lsp.call("textDocument/references", params.clone());
    let files: Vec<&str> = refs
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| l["uri"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(files.len(), 3, "{refs}");
    for f in ["customer1.tenant", "customer2.tenant", "site.tenant"] {
        assert!(files.iter().any(|u| u.ends_with(f)), "{f} in {files:?}");
    }
    params["context"] = json!({ "includeDeclaration": false });
    let refs = lsp.call("textDocument/references", params);
    assert_eq!(refs.as_array().map(Vec::len), Some(2), "{refs}");
}

#[test]
fn completion_offers_fields_enum_values_and_references() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &text);
    lsp.diagnostics(&u, |_| true);
    // Fields of `proxy` not yet set.
    let edited = text.replace(
        "      haproxy    = profiles.haproxy_defaults\n",
        "      haproxy    = profiles.haproxy_defaults\n      re\n",
    );
    lsp.change(&u, 2, &edited);
    let c = lsp.call("textDocument/completion", at(&u, &edited, "      re\n", 8));
    let l = labels(&c);
    for want in ["replicas", "ports", "trust"] {
        assert!(l.contains(&want.to_string()), "{want} in {l:?}");
    }
    for set in ["namespace", "cluster_ip", "image", "haproxy"] {
        assert!(!l.contains(&set.to_string()), "{set} is already set: {l:?}");
    }
    // Enum values of the field at the cursor.
    let edited = text.replace(
        "      access     = read_write_many\n",
        "      access     = read_write_many\n      reclaim = \n",
    );
    lsp.change(&u, 3, &edited);
    let c = lsp.call("textDocument/completion", at(&u, &edited, "reclaim = ", 10));
    assert_eq!(labels(&c), ["retain", "delete"]);
    // References of the kind the field takes, spelled as they resolve from here.
    let edited = text.replace(
        "      haproxy    = profiles.haproxy_defaults\n",
        "      haproxy    = profiles.haproxy_defaults\n      trust = \n",
    );
    lsp.change(&u, 4, &edited);
    let c = lsp.call("textDocument/completion", at(&u, &edited, "trust = ", 8));
    assert_eq!(labels(&c), ["NP8.zcx_ca"], "{c}");
    let c = lsp.call(
        "textDocument/completion",
        at(&u, &edited, "registry   = ocp1.my_registry", 13),
    );
    assert_eq!(labels(&c), ["ocp1.my_registry"], "{c}");
    let c = lsp.call(
        "textDocument/completion",
        at(&u, &edited, "server        = NP8", 16),
    );
    assert_eq!(labels(&c), ["NP8.MVSNFS8"], "{c}");
}

/// Completion offers the names the compiler's resolver reaches, not a
/// resolver of the editor's own: two input files binding one import name to
/// two modules (E0213) reach the first binding's module only, as
/// `tenantc check` resolves them, so the second module's cluster is not
/// offered under that name.
#[test]
fn completion_offers_what_the_compilers_resolver_reaches() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .to_path_buf();
    let files = [
        ("a.tenant", "import \"m/m1.tenant\" as k\n"),
        ("b.tenant", "import \"m/m2.tenant\" as k\n\ntenant u {\n  cluster   = k.c2\n  namespace = \"u\"\n}\n"),
        ("m/m1.tenant", "cluster c2 {\n  kind = openshift\n}\n"),
        ("m/m2.tenant", "cluster c3 {\n  kind = openshift\n}\n"),
    ];
    std::fs::create_dir_all(root.join("m")).expect("mkdir");
    for (name, text) in files {
        std::fs::write(root.join(name), text).expect("write");
    }
    let mut lsp = Lsp::start(Some(dir), &root);
    let text = files[1].1;
    let u = lsp.open("b.tenant", text);
    assert!(
        codes(&lsp.diagnostics(&u, |d| !d.is_empty())).contains(&"E0213".to_string()),
        "the second binding is refused"
    );
    let c = lsp.call("textDocument/completion", at(&u, text, "= k.c2", 2));
    let l = labels(&c);
    assert!(l.contains(&"k.c2".to_string()), "{l:?}");
    assert!(!l.contains(&"k.c3".to_string()), "{l:?}");
    // And definition goes where the compiler resolved the name.
    let d = lsp.call("textDocument/definition", at(&u, text, "k.c2", 3));
    assert!(
        d["uri"].as_str().is_some_and(|s| s.ends_with("m1.tenant")),
        "{d}"
    );
}

/// Completion reads the cursor's scope from the analysis (the block that
/// holds it, as the compiler numbers it), not by matching the enclosing
/// blocks' kinds and names: in the second of two tenants named alike (a
/// copy not yet renamed), a reference reaches that tenant's own volume, as
/// `tenantc check` resolves it.
#[test]
fn completion_in_a_duplicate_block_reads_that_block() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Utf8Path::from_path(dir.path())
        .expect("utf-8")
        .to_path_buf();
    let text = "tenant t {\n  nfs {\n    volume a { size = 1Gi }\n  }\n}\n\ntenant t {\n  nfs {\n    volume b { size = 1Gi }\n  }\n  workload w {\n    mount {\n      volume = nfs.b\n    }\n  }\n}\n";
    std::fs::write(root.join("t.tenant"), text).expect("write");
    let mut lsp = Lsp::start(Some(dir), &root);
    let u = lsp.open("t.tenant", text);
    let diags = lsp.diagnostics(&u, |d| !d.is_empty());
    assert!(!codes(&diags).contains(&"E0201".to_string()), "{diags:?}");
    // `nfs.b` from here; the first tenant's volume only as `t.nfs.a` (the
    // top-level `t` is the first one), never as `nfs.a`.
    let c = lsp.call("textDocument/completion", at(&u, text, "= nfs.b", 2));
    assert_eq!(labels(&c), ["nfs.b", "t.nfs.a"], "{c}");
}

#[test]
fn document_symbols_are_hierarchical() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &text);
    lsp.diagnostics(&u, |_| true);
    let s = lsp.call(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": u } }),
    );
    let top: Vec<&str> = s
        .as_array()
        .expect("symbols")
        .iter()
        .map(|x| x["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(top, ["NP8", "ocp1", "fios"]);
    let np8 = &s[0];
    assert_eq!(np8["detail"], "zos");
    assert_eq!(np8["selectionRange"]["start"], pos(&text, "NP8 {", 0));
    let kids: Vec<&str> = np8["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|x| x["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kids, ["jcl", "zcx_ca", "MVSNFS8"]);
}

#[test]
fn workspace_symbols_search_every_file() {
    let mut lsp = Lsp::example("px-pure-saw");
    let site = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &site);
    lsp.diagnostics(&u, |_| true);
    let s = lsp.call("workspace/symbol", json!({ "query": "custmr" }));
    let mut found: Vec<(String, String)> = s
        .as_array()
        .expect("symbols")
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap_or("").to_string(),
                x["location"]["uri"]
                    .as_str()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("customer1".to_string(), "customer1.tenant".to_string()),
            ("customer2".to_string(), "customer2.tenant".to_string())
        ]
    );
    let s = lsp.call("workspace/symbol", json!({ "query": "fada" }));
    assert!(
        s.as_array()
            .is_some_and(|a| a.iter().all(|x| x["containerName"]
                .as_str()
                .is_some_and(|c| c.ends_with(".pure")))),
        "{s}"
    );
}

#[test]
fn rename_edits_every_file() {
    let mut lsp = Lsp::example("px-pure-saw");
    let site = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &site);
    lsp.diagnostics(&u, |_| true);
    let p = at(&u, &site, "fa1 {", 1);
    let prep = lsp.call("textDocument/prepareRename", p.clone());
    assert_eq!(prep["placeholder"], "fa1");
    assert_eq!(prep["range"]["start"], pos(&site, "fa1 {", 0));
    // Not a name.
    let mut bad = p.clone();
    bad["newName"] = json!("1st array");
    assert!(lsp.request("textDocument/rename", bad)["error"].is_object());
    // A block kind is no name either.
    let refused = lsp.request("textDocument/prepareRename", at(&u, &site, "portworx {", 2));
    assert!(
        refused["result"].is_null() || refused["error"].is_object(),
        "{refused}"
    );
    let mut params = p;
    params["newName"] = json!("fa_main");
    let edit = lsp.call("textDocument/rename", params);
    let changes = edit["changes"].as_object().expect("changes");
    assert_eq!(changes.len(), 3, "{edit}");
    // Applied, the site is clean and names the new array everywhere.
    let mut version = 2;
    for f in ["site.tenant", "customer1.tenant", "customer2.tenant"] {
        let fu = uri(&lsp.path(f));
        let before = lsp.read(f);
        let after = apply(&before, &edit, &fu);
        assert!(
            after.contains("fa_main") && !after.contains("fa1"),
            "{f}: {after}"
        );
        if f == "site.tenant" {
            lsp.change(&u, version, &after);
            version += 1;
        } else {
            lsp.open(f, &after);
        }
    }
    // Publishes of intermediate states (some files renamed, some not) may
    // come first; the site must end up clean.
    let d = lsp.diagnostics(&uri(&lsp.path("customer2.tenant")), <[Value]>::is_empty);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn rename_refuses_a_name_that_would_break_the_site() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &text);
    lsp.diagnostics(&u, |_| true);
    let p = at(&u, &text, "ocp1 {", 1);
    // `profiles` is an import alias; `nfs` would be captured by the
    // tenant's `nfs` block.
    for new in ["profiles", "nfs"] {
        let mut params = p.clone();
        params["newName"] = json!(new);
        let r = lsp.request("textDocument/rename", params);
        assert!(
            r["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("would break the site")),
            "{new}: {r}"
        );
    }
    let mut params = p;
    params["newName"] = json!("ocp_main");
    let edit = lsp.call("textDocument/rename", params);
    assert!(edit["changes"].is_object(), "{edit}");
}

#[test]
fn formatting_answers_with_text_edits() {
    let mut lsp = Lsp::example("zcx-nfs");
    // The example is in the canonical layout; a messed-up copy formats back to it.
    let text = lsp.read("site.tenant");
    let messy = text
        .replace("  stack   = TCPIP", "  stack=TCPIP")
        .replace("    jobname  = MVSNFS8", "jobname = MVSNFS8")
        .replace("\n\ncluster ocp1", "\n\n\n\ncluster ocp1");
    assert_ne!(messy, text);
    let u = lsp.open("site.tenant", &messy);
    let r = lsp.call(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": u }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let edits = r.as_array().expect("an array of edits");
    assert!(!edits.is_empty());
    let formatted = apply(&messy, &json!({ "changes": { u.clone(): edits } }), &u);
    assert_eq!(formatted, text);
    // A file in the canonical layout needs no edit.
    lsp.change(&u, 2, &text);
    let r = lsp.call(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": u }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert!(r.as_array().is_none_or(Vec::is_empty), "{r}");
}

/// The quick fixes offered at `needle`.
fn quick_fixes(lsp: &mut Lsp, u: &str, text: &str, needle: &str) -> Vec<Value> {
    let p = pos(text, needle, 0);
    let r = lsp.call(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": u }, "range": { "start": p, "end": p }, "context": { "diagnostics": [] } }),
    );
    r.as_array().cloned().unwrap_or_default()
}

/// Applies the one fix offered at `needle` and checks the file is clean.
/// Only a safe fix is preferred (applied unasked by fix-all).
fn fix_and_check(
    lsp: &mut Lsp,
    u: &str,
    text: &str,
    needle: &str,
    title: &str,
    fixed: &str,
    preferred: bool,
) {
    let actions = quick_fixes(lsp, u, text, needle);
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["title"], title);
    assert_eq!(actions[0]["isPreferred"], preferred, "{title}");
    assert_eq!(actions[0]["kind"], "quickfix");
    let after = apply(text, &actions[0]["edit"], u);
    assert!(after.contains(fixed), "{after}");
    lsp.change(u, 9, &after);
    let m = lsp.wait_for("diagnostics after the fix", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 9
    });
    assert_eq!(m["params"]["diagnostics"], json!([]), "{m}");
}

#[test]
fn code_action_replaces_a_typo_with_the_nearest_name() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp
        .read("site.tenant")
        .replace("signed_by = NP8.zcx_ca", "signed_by = NP8.zcx_cb");
    let u = lsp.open("site.tenant", &text);
    assert_eq!(codes(&lsp.diagnostics(&u, |d| !d.is_empty())), ["E0201"]);
    fix_and_check(
        &mut lsp,
        &u,
        &text,
        "zcx_cb",
        "replace `zcx_cb` with `zcx_ca`",
        "signed_by = NP8.zcx_ca",
        false,
    );
}

#[test]
fn code_action_adds_a_missing_dvipa() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant").replace(", 10.1.1.3]", "]");
    let u = lsp.open("site.tenant", &text);
    assert_eq!(codes(&lsp.diagnostics(&u, |d| !d.is_empty())), ["E0401"]);
    fix_and_check(
        &mut lsp,
        &u,
        &text,
        "10.1.1.3 }",
        "add 10.1.1.3 to `clients` of `MVSNFS8`",
        "clients  = [10.1.1.1, 10.1.1.2, 10.1.1.3]",
        false,
    );
}

#[test]
fn code_action_aligns_a_port_range() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant").replace(
        "      haproxy    = profiles.haproxy_defaults\n",
        "      haproxy    = profiles.haproxy_defaults\n      ports      = 2043..2048\n",
    );
    let u = lsp.open("site.tenant", &text);
    assert_eq!(codes(&lsp.diagnostics(&u, |d| !d.is_empty())), ["E0404"]);
    fix_and_check(
        &mut lsp,
        &u,
        &text,
        "2043..2048",
        "align the proxy's ports to the server's 2043..2049",
        "ports      = 2043..2049",
        true,
    );
}

#[test]
fn positions_count_utf16_code_units() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant").replace(
        "      service    = \"nfs-server\"\n      cluster_ip",
        "      service    = \"nfs-server\" /* é😀ü */, trust = NP8.zcx_cx\n      cluster_ip",
    );
    let u = lsp.open("site.tenant", &text);
    let d = lsp.diagnostics(&u, |d| !d.is_empty());
    assert_eq!(codes(&d), ["E0201"]);
    assert_eq!(d[0]["range"]["start"], pos(&text, "zcx_cx", 0));
    assert_eq!(d[0]["range"]["end"], pos(&text, "zcx_cx", 6));
    // And a position after them finds the name.
    let h = lsp.call("textDocument/hover", at(&u, &text, "NP8.zcx_cx", 1));
    assert!(hover_text(&h).contains("**zos** `NP8`"), "{h}");
}

#[test]
fn a_half_typed_file_still_answers() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &text);
    assert!(lsp.diagnostics(&u, |_| true).is_empty());
    // Typing a new field in the middle: the file no longer parses.
    let broken = text.replace("cluster ocp1 {\n", "cluster ocp1 {\n  service_\n");
    lsp.change(&u, 2, &broken);
    assert_eq!(codes(&lsp.diagnostics(&u, |d| !d.is_empty())), ["E0101"]);
    // Hover on a reference after the edit: from the last good analysis.
    let h = lsp.call("textDocument/hover", at(&u, &broken, "NP8.MVSNFS8", 6));
    assert!(
        hover_text(&h).contains("listens on 10.1.1.9:2043..2049"),
        "{h}"
    );
    let d = lsp.call("textDocument/definition", at(&u, &broken, "NP8.MVSNFS8", 6));
    assert_eq!(d["range"]["start"], pos(&broken, "MVSNFS8 {", 0));
    // Hover on a field key and completion at the half-typed word.
    let h = lsp.call("textDocument/hover", at(&u, &broken, "dvipa = 10.1.1.2", 1));
    assert!(hover_text(&h).contains("**dvipa**"), "{h}");
    let c = lsp.call("textDocument/completion", at(&u, &broken, "service_\n", 8));
    assert!(labels(&c).contains(&"node".to_string()), "{c}");
    // References still complete while the file is broken.
    let broken = broken.replace(
        "      haproxy    = profiles.haproxy_defaults\n",
        "      haproxy    = profiles.haproxy_defaults\n      trust = NP",
    );
    lsp.change(&u, 3, &broken);
    let c = lsp.call("textDocument/completion", at(&u, &broken, "trust = NP", 10));
    assert_eq!(labels(&c), ["NP8.zcx_ca"], "{c}");
    // Rename is refused until the file parses again.
    let mut p = at(&u, &broken, "fios {", 1);
    p["newName"] = json!("fios2");
    assert!(lsp.request("textDocument/rename", p)["error"].is_object());
}

/// A file that has never parsed since it was opened, its last block still
/// open (being typed at the end): answered from what recovery made of it.
#[test]
fn a_file_that_never_parsed_still_answers() {
    let mut lsp = Lsp::example("zcx-nfs");
    let text = "tenant t2 {\n  cluster   = ocp1\n  namespace = \"t2\"\n\n  nfs {\n    server = NP8.MVSNFS8\n    volume data {\n      size = 1Gi\n";
    let u = lsp.open("extra.tenant", text);
    // Its syntax error only: what the open blocks lack is not reported.
    assert_eq!(codes(&lsp.diagnostics(&u, |d| !d.is_empty())), ["E0101"]);
    let s = lsp.call(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": u } }),
    );
    assert_eq!(s[0]["name"], "t2", "{s}");
    assert_eq!(s.as_array().map(Vec::len), Some(1), "{s}");
    assert_eq!(s[0]["children"][0]["name"], "nfs", "{s}");
    assert_eq!(s[0]["children"][0]["children"][0]["name"], "data", "{s}");
    // Ranges stay inside the text.
    assert_eq!(s[0]["range"]["end"], pos(text, "1Gi\n", 4), "{s}");
    // Hover on a reference, and completion of one.
    let h = lsp.call("textDocument/hover", at(&u, text, "NP8.MVSNFS8", 6));
    assert!(
        hover_text(&h).contains("**nfs_server** `NP8.MVSNFS8`"),
        "{h}"
    );
    let c = lsp.call("textDocument/completion", at(&u, text, "= NP8", 5));
    assert_eq!(labels(&c), ["NP8.MVSNFS8"], "{c}");
    let c = lsp.call("textDocument/completion", at(&u, text, "size = 1Gi\n", 11));
    assert!(labels(&c).contains(&"export".to_string()), "{c}");
    // The tenant's name resolves in the index, but renaming waits for a
    // file that parses.
    let mut p = at(&u, text, "t2 {", 0);
    p["newName"] = json!("t3");
    assert!(lsp.request("textDocument/rename", p)["error"].is_object());
}

#[test]
fn garbage_never_stops_the_server() {
    let mut lsp = Lsp::example("zcx-nfs");
    // Not JSON; JSON that is no message; a header without a length.
    lsp.write_raw(b"Content-Length: 9\r\n\r\nnot json!");
    let e = lsp.wait_for("a parse error", |m| m["error"]["code"] == -32700);
    assert!(e["id"].is_null());
    lsp.write_raw(b"Content-Length: 12\r\n\r\n{\"id\": true}");
    lsp.wait_for("an invalid request", |m| m["error"]["code"] == -32600);
    // A request whose id does not fit is answered, not taken for a notification.
    let body = r#"{"jsonrpc":"2.0","id":1099511627776,"method":"textDocument/hover","params":{}}"#;
    lsp.write_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    lsp.wait_for("an answer to an oversized id", |m| {
        m["id"] == 1_099_511_627_776u64 && m["error"]["code"] == -32600
    });
    lsp.write_raw(b"X-Nonsense\r\n\r\n");
    // Unusable lengths, their bodies running into the next header, and a
    // length beyond the limit whose body is skipped: the server reads on.
    for header in ["abc", "-5", ""] {
        lsp.write_raw(format!("Content-Length: {header}\r\n\r\n{{}}").as_bytes());
        let r = lsp.request("textDocument/unknownThing", json!({}));
        assert_eq!(
            r["error"]["code"], -32601,
            "after Content-Length: {header}: {r}"
        );
    }
    let big = 300usize << 20;
    lsp.write_raw(format!("Content-Length: {big}\r\n\r\n").as_bytes());
    lsp.write_raw(&vec![b' '; big]);
    let r = lsp.request("textDocument/unknownThing", json!({}));
    assert_eq!(r["error"]["code"], -32601, "after an oversized body: {r}");
    // Unknown methods.
    let r = lsp.request("textDocument/unknownThing", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let r = lsp.request("textDocument/hover", json!({ "nonsense": 1 }));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // Hostile documents: NUL bytes, a huge line, deep nesting, stray bytes.
    let hostile = [
        "tenant \0 { cluster = \0 }\0".to_string(),
        format!("tenant t {{ namespace = \"{}\" }}", "é".repeat(500_000)),
        format!(
            "tenant t {{ x = {}{} }}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
        "}}}{{{ = = = \"\"\" ### /* ".to_string(),
        String::new(),
    ];
    for (i, text) in hostile.iter().enumerate() {
        let name = format!("hostile{i}.tenant");
        let u = lsp.open(&name, text);
        lsp.diagnostics(&u, |_| true);
        for (line, character) in [(0, 0), (0, 5), (0, 1_000_000), (99, 3)] {
            let p = json!({ "textDocument": { "uri": u }, "position": { "line": line, "character": character } });
            for m in [
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/definition",
                "textDocument/documentSymbol",
            ] {
                let r = lsp.request(m, p.clone());
                assert!(
                    r.get("error").is_none() || r["error"]["code"] != -32603,
                    "{m}: {r}"
                );
            }
        }
        // Edits with ranges past the end are clamped.
        lsp.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [
                { "range": { "start": { "line": 500, "character": 0 }, "end": { "line": 900, "character": 9 } }, "text": "\u{0}x" }] }),
        );
        lsp.notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": u } }),
        );
    }
    // Still serving.
    let text = lsp.read("site.tenant");
    let u = lsp.open("site.tenant", &text);
    let h = lsp.call("textDocument/hover", at(&u, &text, "dvipa = 10.1.1.1", 2));
    assert!(hover_text(&h).contains("**dvipa**"));
}

#[test]
fn cancelled_requests_are_answered_and_shutdown_exits_cleanly() {
    let mut lsp = Lsp::example("zcx-nfs");
    // A request and its cancellation sent together: either answered or cancelled.
    let body1 = json!({ "jsonrpc": "2.0", "id": 77, "method": "workspace/symbol", "params": { "query": "" } }).to_string();
    let body2 = json!({ "jsonrpc": "2.0", "method": "$/cancelRequest", "params": { "id": 77 } })
        .to_string();
    let both = format!(
        "Content-Length: {}\r\n\r\n{body1}Content-Length: {}\r\n\r\n{body2}",
        body1.len(),
        body2.len()
    );
    lsp.write_raw(both.as_bytes());
    let r = lsp.wait_for("the cancelled request", |m| m["id"] == 77);
    assert!(
        r["result"].is_array() || r["error"]["code"] == -32800,
        "{r}"
    );
    let r = lsp.request("shutdown", Value::Null);
    assert!(r["result"].is_null() && r.get("error").is_none(), "{r}");
    // After shutdown, requests are refused.
    let r = lsp.request("textDocument/hover", json!({}));
    assert!(r["error"].is_object());
    lsp.notify("exit", Value::Null);
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = lsp.child.try_wait().expect("wait") {
            assert!(status.success(), "exit after shutdown is 0: {status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn exit_without_shutdown_is_an_error_exit() {
    let mut lsp = Lsp::example("zcx-nfs");
    lsp.notify("exit", Value::Null);
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = lsp.child.try_wait().expect("wait") {
            assert_eq!(status.code(), Some(1));
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_textmate_grammar_knows_every_block_kind() {
    let g: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("editors/tenant.tmLanguage.json"))
            .expect("grammar"),
    )
    .expect("json");
    let pattern = g["repository"]["block"]["match"]
        .as_str()
        .expect("block pattern");
    let inner = pattern
        .split_once("\\b(")
        .and_then(|(_, rest)| rest.split_once(")\\b"))
        .map(|(kinds, _)| kinds)
        .expect("an alternation of kinds");
    let mut listed: Vec<&str> = inner.split('|').collect();
    listed.sort_unstable();
    let mut kinds: Vec<&str> = tenantc::resolve::schema::all()
        .iter()
        .map(|b| b.kind)
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        listed, kinds,
        "editors/tenant.tmLanguage.json is out of date"
    );
}

/// The peak memory of a process, in KiB (VmHWM).
#[cfg(target_os = "linux")]
fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Issue 29, N21: a header line without a newline is not buffered whole:
/// 256 MiB of it leave the server's peak memory far below that size, and
/// the next message is answered.
#[cfg(target_os = "linux")]
#[test]
fn a_header_line_without_an_end_is_not_held_in_memory() {
    let mut lsp = Lsp::example("zcx-nfs");
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..256 {
        lsp.write_raw(&chunk);
    }
    lsp.write_raw(b"\r\n\r\n");
    let r = lsp.request("textDocument/unknownThing", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let peak = peak_kib(lsp.pid());
    assert!(peak < 160 * 1024, "peak {peak} KiB");
}

/// Issue 29, N4: a `*.tenant` in the workspace that links out of it is never
/// read, and no request reads a file outside the workspace by its URI.
#[cfg(unix)]
#[test]
fn the_server_reads_nothing_outside_its_workspace() {
    let (dir, root) = common::lsp::example("zcx-nfs");
    let outside = root.parent().expect("parent").join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("environ"), "CANARY=hunter2\n").expect("w");
    std::fs::write(
        outside.join("notes.tenant"),
        "// hunter2 notes\ntenant x { cluster = ocp1 }\n",
    )
    .expect("w");
    std::os::unix::fs::symlink(outside.join("environ"), root.join("zz.tenant")).expect("ln");
    let mut lsp = Lsp::start(Some(dir), &root);
    let text = std::fs::read_to_string(root.join("site.tenant")).expect("read");
    lsp.open("site.tenant", &text);
    let (_, seen) = lsp.sync();
    for m in &seen {
        assert!(!m.to_string().contains("hunter2"), "{m}");
    }
    let notes = common::lsp::uri(&outside.join("notes.tenant"));
    let r = lsp.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": notes }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert!(!r.to_string().contains("hunter2"), "{r}");
}
