//! Killing a compile never corrupts a bundle: real compiles are killed with
//! SIGKILL at moments spread over their run, and the bundle on disk is always
//! one complete bundle, the old or the new, never a mix or a partial one.

use crate::common;

use common::{read_tree, root};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

fn generate(n: usize, dir: &Path) {
    let python = common::require_tool("python3").expect("python3 runs the site generator");
    let o = Command::new(python.as_str())
        .arg(root().join("bench/gensite.py"))
        .arg(n.to_string())
        .arg(dir)
        .output()
        .expect("generator runs");
    assert!(o.status.success(), "{o:?}");
}

fn compile_cmd(site: &Path, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tenantc"));
    c.arg("compile")
        .arg(site)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

#[test]
fn a_killed_compile_leaves_the_old_or_the_new_bundle_whole() {
    if common::require_tool("python3").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let (old_site, new_site) = (tmp.path().join("old"), tmp.path().join("new"));
    generate(60, &old_site);
    generate(80, &new_site);
    let out = tmp.path().join("bundle");

    // The two complete bundles every observed state must equal.
    assert!(compile_cmd(&old_site, &out)
        .status()
        .expect("runs")
        .success());
    let old_tree = read_tree(&out);
    // How long replacing the old bundle by the new one takes.
    let start = Instant::now();
    assert!(compile_cmd(&new_site, &out)
        .status()
        .expect("runs")
        .success());
    let took = start.elapsed();
    let new_tree = read_tree(&out);
    assert!(compile_cmd(&old_site, &out)
        .status()
        .expect("runs")
        .success());
    assert_ne!(old_tree, new_tree);

    let mut states = BTreeMap::from([("old", 0), ("new", 0)]);
    let kills = 10;
    for i in 0..kills {
        // Spread over the whole run and a little past its end.
        let delay = took.mul_f64(2.0 * i as f64 / kills as f64);
        let mut child = compile_cmd(&new_site, &out).spawn().expect("spawn");
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let tree = read_tree(&out);
        if tree == old_tree {
            *states.get_mut("old").expect("old") += 1;
        } else if tree == new_tree {
            *states.get_mut("new").expect("new") += 1;
            // Start the next round from the old bundle again.
            assert!(compile_cmd(&old_site, &out)
                .status()
                .expect("runs")
                .success());
        } else {
            panic!(
                "after a kill at {delay:?} the bundle is neither the old nor the new one ({} files)",
                tree.len()
            );
        }
    }
    assert!(
        states["old"] > 0,
        "no kill landed before the swap: {states:?}"
    );
    // Kills right after the swap, while the old bundle is being deleted.
    let old_manifest = old_tree[Path::new("manifest.json")].clone();
    for _ in 0..4 {
        let mut child = compile_cmd(&new_site, &out).spawn().expect("spawn");
        let deadline = Instant::now() + took * 20;
        while std::fs::read(out.join("manifest.json")).ok().as_ref() == Some(&old_manifest)
            && Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(read_tree(&out), new_tree, "a kill after the swap");
        *states.get_mut("new").expect("new") += 1;
        assert!(compile_cmd(&old_site, &out)
            .status()
            .expect("runs")
            .success());
    }
    // A compile after the kills succeeds and clears what the killed ones left.
    assert!(compile_cmd(&new_site, &out)
        .status()
        .expect("runs")
        .success());
    assert_eq!(read_tree(&out), new_tree);
    let leftovers: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".bundle."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    eprintln!("kills: {states:?}, compile {took:?}");
}

/// Two compiles racing on one `--out` (two pipelines sharing a workspace):
/// both succeed, one after the other (a lock on the directory holding the
/// bundle), and the bundle left holds every file its manifest lists.
#[test]
fn two_compiles_racing_on_one_out_leave_a_whole_bundle() {
    if common::require_tool("python3").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    generate(60, &a);
    generate(40, &b);
    let out = tmp.path().join("bundle");
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    for round in 0..5 {
        assert!(Instant::now() < deadline, "the races take too long");
        let mut first = compile_cmd(&a, &out).spawn().expect("spawn");
        let mut second = compile_cmd(&b, &out).spawn().expect("spawn");
        let (s1, s2) = (first.wait().expect("wait"), second.wait().expect("wait"));
        assert!(s1.success() && s2.success(), "round {round}: {s1:?} {s2:?}");
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
                .expect("json");
        let files = manifest["files"].as_array().expect("files");
        assert!(files.len() > 50);
        let missing: Vec<&str> = files
            .iter()
            .filter_map(|f| f["path"].as_str())
            .filter(|p| !out.join(p).is_file())
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} listed files missing, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(3)]
        );
        let leftovers: Vec<String> = std::fs::read_dir(tmp.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(".bundle."))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
    }
}
