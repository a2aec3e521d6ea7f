//! A real editor: Debian's headless Neovim with a small Lua config
//! (tests/nvim/init.lua) starts `tenantc lsp`, opens a broken copy of the
//! z/OS NFS example, and asks for diagnostics, hover, definition, completion
//! and rename. Neovim writes what it got to a JSON file; this test checks it.

use crate::common;

use camino::Utf8Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn neovim_gets_diagnostics_hover_and_definition() {
    let Some(nvim) = common::require_tool("nvim") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let tmp_path = Utf8Path::from_path(tmp.path()).expect("utf-8");
    let root = tmp_path.join("site");
    std::fs::create_dir_all(&root).expect("mkdir");
    // The example with worker3's DVIPA missing from the AT-TLS clients.
    let text = common::mutated_example(", 10.1.1.3]", "]");
    let file = root.join("site.tenant");
    std::fs::write(&file, &text).expect("write");
    let out = tmp_path.join("result.json");
    let xdg = tmp_path.join("xdg");
    let mut cmd = Command::new(&nvim);
    cmd.args(["--headless", "-n", "-i", "NONE", "--noplugin", "-u"])
        .arg(common::root().join("tests/nvim/init.lua"))
        .env("TENANTC_BIN", env!("CARGO_BIN_EXE_tenantc"))
        .env("TENANTC_ROOT", &root)
        .env("TENANTC_FILE", &file)
        .env("TENANTC_OUT", &out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for v in [
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    ] {
        cmd.env(v, xdg.join(v));
    }
    cmd.env_remove("VIMINIT").env_remove("NVIM_LISTEN_ADDRESS");
    let mut child = cmd.spawn().expect("nvim starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nvim did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let result = std::fs::read_to_string(&out).expect("nvim wrote its result");
    let v: serde_json::Value = serde_json::from_str(&result).expect("json");
    assert_eq!(v["errors"], serde_json::json!([]), "{v}");
    assert_eq!(v["filetype"], "tenant", "{v}");
    assert_eq!(v["diagnostics_arrived"], true, "{v}");
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E0401", "{v}");
    assert_eq!(d["source"], "tenantc");
    assert!(
        d["message"].as_str().is_some_and(|m| m.contains("worker3")),
        "{v}"
    );
    // 0-based line of worker3's DVIPA.
    let line = text[..text.find("10.1.1.3 }").expect("worker3")]
        .matches('\n')
        .count();
    assert_eq!(d["line"], line);
    let hover = v["hover"].as_str().unwrap_or("");
    assert!(hover.contains("**nfs_server** `NP8.MVSNFS8`"), "{v}");
    assert!(hover.contains("listens on 10.1.1.9:2043..2049"), "{v}");
    let def_line = text[..text.find("cluster ocp1 {").expect("cluster")]
        .matches('\n')
        .count();
    assert_eq!(v["definition"]["line"], def_line, "{v}");
    assert!(
        v["definition"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("/site/site.tenant")),
        "{v}"
    );
    assert_eq!(v["completion"], serde_json::json!(["NP8.zcx_ca"]), "{v}");
    // `tenant fios` once, no references to a tenant: one edit.
    assert_eq!(v["rename_edits"], 1, "{v}");
}
