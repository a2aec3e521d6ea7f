//! Golden-file review: a one-tenant change is a one-tenant diff (issue 17).
//!
//! A property test on generated sites of several shapes (a file per tenant,
//! several tenants per file, all in one file): a random single-tenant edit,
//! addition, removal or move, and the bundles before and after differ only
//! in files manifest.json attributes to that tenant, and in aggregates (files
//! of several tenants, manifest.json) only in lines about it. The seed is
//! fixed, so a failure reproduces; `GOLDEN_CASES` raises the budget.

use crate::common;

use camino::Utf8PathBuf;
use common::mutate::XorShift;
use common::site::GenSite;
use std::collections::{BTreeMap, BTreeSet};

struct Compiled {
    files: BTreeMap<String, (Vec<u8>, Vec<String>)>,
}

fn compile(dir: &camino::Utf8Path) -> Compiled {
    let inputs = tenantc::find_inputs(&[dir.to_path_buf()]).expect("inputs");
    let opts = tenantc::Options::default();
    let a = tenantc::analyze(&inputs, &opts).expect("analysis runs");
    let errors: Vec<String> = a
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(
        errors.is_empty(),
        "the generated site has errors: {errors:#?}"
    );
    let b = tenantc::build_bundle(&a, &opts).expect("bundle");
    Compiled {
        files: b
            .files
            .into_iter()
            .map(|(p, f)| (p, (f.bytes, f.tenants)))
            .collect(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Change {
    Edit,
    Add,
    Remove,
    Move,
}

/// Applies a random change of `kind` to one tenant; returns its id.
fn change(site: &mut GenSite, kind: Change, per_file: usize, rng: &mut XorShift) -> usize {
    let ids = site.ids();
    let pick = ids[rng.below(ids.len())];
    let find = |site: &GenSite, id: usize| {
        site.files
            .iter()
            .find_map(|(f, ts)| {
                ts.iter()
                    .position(|(i, _)| *i == id)
                    .map(|p| (f.clone(), p))
            })
            .expect("tenant is in a file")
    };
    match kind {
        Change::Edit => {
            let (f, p) = find(site, pick);
            site.files.get_mut(&f).expect("file")[p].1 += 1;
            pick
        }
        Change::Remove => {
            let (f, p) = find(site, pick);
            let ts = site.files.get_mut(&f).expect("file");
            ts.remove(p);
            if ts.is_empty() {
                site.files.remove(&f);
            }
            pick
        }
        Change::Add => {
            let id = site.next_id;
            site.next_id += 1;
            if per_file == 1 {
                site.files.insert(format!("t{id:05}.tenant"), vec![(id, 0)]);
            } else {
                let names: Vec<String> = site.files.keys().cloned().collect();
                let f = &names[rng.below(names.len())];
                let ts = site.files.get_mut(f).expect("file");
                let at = rng.below(ts.len() + 1);
                ts.insert(at, (id, 0));
            }
            id
        }
        Change::Move => {
            let (f, p) = find(site, pick);
            let entry = site.files.get_mut(&f).expect("file").remove(p);
            if site.files[&f].is_empty() {
                site.files.remove(&f);
            }
            if per_file == 1 {
                // Another file name: another place in the load order.
                site.files
                    .insert(format!("a-moved-{pick:05}.tenant"), vec![entry]);
            } else {
                let names: Vec<String> = site.files.keys().cloned().collect();
                let to = if names.is_empty() {
                    f
                } else {
                    names[rng.below(names.len())].clone()
                };
                let ts = site.files.entry(to).or_default();
                let at = rng.below(ts.len() + 1);
                ts.insert(at, entry);
            }
            pick
        }
    }
}

/// A line that says nothing about any tenant: punctuation and the shell's
/// block words, which a diff may align either way.
fn structural(line: &str) -> bool {
    let t = line.trim();
    !t.chars().any(char::is_alphanumeric) || matches!(t, "fi" | "then" | "else" | "done")
}

/// Checks the property; returns the problems found.
fn problems(old: &Compiled, new: &Compiled, tenant: &str, kind: Change) -> Vec<String> {
    let mut out = Vec::new();
    let paths: BTreeSet<&String> = old.files.keys().chain(new.files.keys()).collect();
    let none: (Vec<u8>, Vec<String>) = (Vec::new(), Vec::new());
    for path in paths {
        let (ob, ot) = old.files.get(path).unwrap_or(&none);
        let (nb, nt) = new.files.get(path).unwrap_or(&none);
        let (in_old, in_new) = (old.files.contains_key(path), new.files.contains_key(path));
        if in_old && in_new && ob == nb {
            continue;
        }
        let mine = |ts: &Vec<String>| ts.len() == 1 && ts[0] == tenant;
        let others = |ts: &Vec<String>| -> Vec<String> {
            ts.iter().filter(|t| *t != tenant).cloned().collect()
        };
        // The tenant's own files may change in any way.
        if (!in_old || mine(ot)) && (!in_new || mine(nt)) {
            continue;
        }
        // A file added or removed with the tenant is attributed to it: alone,
        // or with the tenants it names (a quota closing their classes).
        let with = |ts: &Vec<String>| ts.iter().any(|t| t == tenant);
        if (!in_old || with(ot)) && (!in_new || with(nt)) && in_old != in_new {
            continue;
        }
        if !in_old || !in_new {
            out.push(format!(
                "{path}: added or removed, but not the tenant's alone ({ot:?} -> {nt:?})"
            ));
            continue;
        }
        if others(ot) != others(nt) {
            out.push(format!(
                "{path}: its other tenants changed: {ot:?} -> {nt:?}"
            ));
            continue;
        }
        let (os, ns) = (String::from_utf8_lossy(ob), String::from_utf8_lossy(nb));
        if path == "manifest.json" {
            out.extend(manifest_problems(&os, &ns, tenant));
            continue;
        }
        if path == "inventory.jsonl" {
            out.extend(inventory_problems(&os, &ns, tenant));
            continue;
        }
        if !ot.iter().chain(nt).any(|t| t == tenant) && !ot.is_empty() {
            out.push(format!("{path}: a file of other tenants changed"));
            continue;
        }
        // An aggregate: every run of changed lines is about the tenant (a
        // YAML list entry spans lines, only one of which names it), and an
        // addition only adds lines, a removal only removes them.
        let diff = similar::TextDiff::from_lines(os.as_ref(), ns.as_ref());
        let mut hunk: Vec<(similar::ChangeTag, String)> = Vec::new();
        let check = |hunk: &mut Vec<(similar::ChangeTag, String)>, out: &mut Vec<String>| {
            if hunk.is_empty() {
                return;
            }
            // A header names the spec files of the file's tenants: when the
            // tenant is one of them, its header line is about the tenant.
            let owned = ot.iter().chain(nt).any(|t| t == tenant);
            let about = hunk.iter().any(|(_, l)| {
                l.to_lowercase().contains(tenant) || (owned && l.contains("Generated by tenantc"))
            });
            let all_structural = hunk.iter().all(|(_, l)| structural(l));
            if !about && !all_structural {
                out.push(format!(
                    "{path}: changed lines not about {tenant}: {hunk:?}"
                ));
            }
            let wrong = match kind {
                Change::Add => Some(similar::ChangeTag::Delete),
                Change::Remove => Some(similar::ChangeTag::Insert),
                _ => None,
            };
            if let Some(w) = wrong {
                if hunk.iter().any(|(t, l)| *t == w && !structural(l)) {
                    out.push(format!("{path}: a {kind:?} also {w:?}s lines: {hunk:?}"));
                }
            }
            hunk.clear();
        };
        for c in diff.iter_all_changes() {
            if c.tag() == similar::ChangeTag::Equal {
                check(&mut hunk, &mut out);
            } else {
                hunk.push((c.tag(), c.value().to_string()));
            }
        }
        check(&mut hunk, &mut out);
    }
    if matches!(kind, Change::Add | Change::Remove) {
        let (from, to) = if kind == Change::Add {
            (old, new)
        } else {
            (new, old)
        };
        let own: BTreeSet<&String> = to
            .files
            .iter()
            .filter(|(_, (_, t))| t.len() == 1 && t[0] == tenant)
            .map(|(p, _)| p)
            .collect();
        if own.is_empty() {
            out.push(format!("{tenant} has no files of its own"));
        }
        for p in own {
            if from.files.contains_key(p) {
                out.push(format!("{p}: of {tenant} alone, but also there without it"));
            }
        }
    }
    out
}

/// inventory.jsonl: the objects of other tenants are the same, apart from
/// the tenant's name in the owners of the objects it shares.
fn inventory_problems(old: &str, new: &str, tenant: &str) -> Vec<String> {
    let lines = |s: &str| -> BTreeMap<String, serde_json::Value> {
        s.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
                let key = if v.get("tool").is_some() {
                    "header".to_string()
                } else if let Some(t) = v.get("tenant") {
                    format!("tenant {t}")
                } else {
                    format!("{} {} {}", v["target"], v["kind"], v["name"])
                };
                (key, v)
            })
            .collect()
    };
    let (o, n) = (lines(old), lines(new));
    let mut out = Vec::new();
    for key in o.keys().chain(n.keys()).collect::<BTreeSet<_>>() {
        let (a, b) = (o.get(key), n.get(key));
        // The digests of the inputs, like the manifest's inputs, follow
        // the spec files; the objects are what must stay the tenant's.
        if a == b || key == "header" || key.starts_with("tenant ") {
            continue;
        }
        let about = |e: Option<&serde_json::Value>| {
            e.is_some_and(|e| {
                e["tenant"] == tenant
                    || e["owners"]
                        .as_array()
                        .is_some_and(|ts| ts.iter().any(|t| t == tenant))
            })
        };
        if !(about(a) || about(b)) {
            out.push(format!("inventory.jsonl: `{key}` changed, not {tenant}'s"));
        }
    }
    out
}

/// manifest.json: entries of other tenants' files are the same, apart from
/// the tenant's name in the tenant lists; inputs other than spec files that
/// declare the tenant are the same.
fn manifest_problems(old: &str, new: &str, tenant: &str) -> Vec<String> {
    let parse = |s: &str| -> serde_json::Value { serde_json::from_str(s).expect("manifest") };
    let (o, n) = (parse(old), parse(new));
    let mut out = Vec::new();
    let files = |v: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        v["files"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    f["path"].as_str().unwrap_or_default().to_string(),
                    f.clone(),
                )
            })
            .collect()
    };
    let (of, nf) = (files(&o), files(&n));
    for p in of.keys().chain(nf.keys()).collect::<BTreeSet<_>>() {
        let (a, b) = (of.get(p), nf.get(p));
        if a == b {
            continue;
        }
        let about = |e: Option<&serde_json::Value>| {
            e.is_none_or(|e| {
                e["tenants"]
                    .as_array()
                    .is_some_and(|ts| ts.iter().any(|t| t == tenant))
            })
        };
        if !(about(a) || about(b)) {
            out.push(format!(
                "manifest.json: the entry of {p} changed, not {tenant}'s"
            ));
        }
    }
    for key in ["tool", "version", "only_tenants", "secrets"] {
        if o[key] != n[key] && key != "secrets" {
            out.push(format!("manifest.json: `{key}` changed"));
        }
    }
    out
}

#[test]
fn a_one_tenant_change_is_a_one_tenant_diff() {
    let cases: usize = std::env::var("GOLDEN_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    // (tenants, tenants per file): a file per tenant, a few files, one file.
    let shapes = [(9, 1), (20, 6), (12, 12)];
    let kinds = [Change::Edit, Change::Add, Change::Remove, Change::Move];
    let tmp = tempfile::tempdir().expect("tmp");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut failures = Vec::new();
    for (si, (n, per_file)) in shapes.into_iter().enumerate() {
        let dir = Utf8PathBuf::from_path_buf(tmp.path().join(format!("shape{si}"))).expect("utf-8");
        let mut site = GenSite::new(n, per_file);
        site.write(&dir);
        std::fs::write(
            dir.join("site.tenant"),
            site.texts()["site.tenant"].as_str(),
        )
        .expect("site");
        let mut before = compile(&dir);
        for case in 0..cases {
            // Every kind in every shape, then at random.
            let kind = if case < kinds.len() {
                kinds[case]
            } else {
                kinds[rng.below(kinds.len())]
            };
            let id = change(&mut site, kind, per_file, &mut rng);
            site.write(&dir);
            let after = compile(&dir);
            let name = GenSite::name(id);
            for p in problems(&before, &after, &name, kind) {
                failures.push(format!("shape {si} ({n} tenants, {per_file} per file), case {case}: {kind:?} {name}: {p}"));
            }
            before = after;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The property fails on what it is meant to catch: a header naming every
/// spec file (as before issue 17) changes other tenants' files.
#[test]
fn the_property_catches_a_site_wide_header() {
    let mut old = Compiled {
        files: BTreeMap::new(),
    };
    old.files.insert(
        "k8s/c/t00002/namespace.yaml".into(),
        (b"# from 3 spec files\n".to_vec(), vec!["t00002".into()]),
    );
    let mut new = Compiled {
        files: old.files.clone(),
    };
    new.files.insert(
        "k8s/c/t00002/namespace.yaml".into(),
        (b"# from 4 spec files\n".to_vec(), vec!["t00002".into()]),
    );
    new.files.insert(
        "k8s/c/t00003/namespace.yaml".into(),
        (b"# from 4 spec files\n".to_vec(), vec!["t00003".into()]),
    );
    let p = problems(&old, &new, "t00003", Change::Add);
    assert!(
        p.iter().any(|p| p.contains("t00002/namespace.yaml")),
        "{p:?}"
    );
}
