//! The contract of the ledger of claims (`tenantc::plan::claims`), executed:
//! for every tenant `T` of a site, the sub-site of the infrastructure, `T`
//! and its partners (the tenants whose claims meet `T`'s,
//! [`tenantc::plan::claims::partners`], as the editor's slices take them)
//! gives `T` exactly the diagnostics (primary span inside `T`'s block) and
//! the plan entry that the whole site gives it. Sites: every example, every
//! fixture and bad input the resolver accepts, generated sites where tenants
//! collide on every kind of claim, and the benchmark's sites, where no
//! tenant has a partner. `every_claim_kind_is_produced_detected_and_needed`
//! shows the test can fail: leave out any one kind of claim from the
//! partners and some generated tenant's diagnostics differ.

use crate::common;

use camino::{Utf8Path, Utf8PathBuf};
use common::mutate::XorShift;
use common::root;
use std::collections::BTreeSet;
use tenantc::diagnostics::Diagnostic;
use tenantc::plan::claims::{conflicts, partners, Claim, ClaimKind};
use tenantc::source::Span;

fn analyze(inputs: &[Utf8PathBuf]) -> Option<tenantc::Analysis> {
    let opts = tenantc::Options {
        index: true,
        ..tenantc::Options::default()
    };
    tenantc::analyze(inputs, &opts).ok()
}

fn inside(s: Span, outer: Span) -> bool {
    s.file == outer.file && outer.start <= s.start && s.end <= outer.end
}

/// What the contract found on one site.
#[derive(Debug, Default)]
struct Outcome {
    tenants: usize,
    /// Partners of each tenant, in site order.
    partners: Vec<usize>,
    /// Diagnostics on tenants that the sub-sites reproduced.
    tenant_diagnostics: usize,
    /// Codes of every diagnostic of the whole site.
    codes: BTreeSet<String>,
}

/// Holds the contract on one analysed site, for every tenant; panics with
/// the first difference.
fn contract(what: &str, a: &tenantc::Analysis) -> Outcome {
    contract_with(what, a, &|_| true).unwrap_or_else(|e| panic!("{e}"))
}

/// `site` with only the tenants at `keep` (ascending indices), its
/// infrastructure as it is: the sub-site a tenant is re-checked on.
fn sub_site(site: &tenantc::ir::Site, keep: &[usize]) -> tenantc::ir::Site {
    tenantc::ir::Site {
        systems: site.systems.clone(),
        clusters: site.clusters.clone(),
        arrays: site.arrays.clone(),
        tenants: keep.iter().map(|&i| site.tenants[i].clone()).collect(),
    }
}

/// The contract with partners taken from the claims of the kinds `kinds`
/// selects: the first difference.
fn contract_with(
    what: &str,
    a: &tenantc::Analysis,
    kinds: &dyn Fn(ClaimKind) -> bool,
) -> Result<Outcome, String> {
    let site = &a.site;
    let plan = tenantc::plan::build(site);
    let all = tenantc::check::run(site, &plan);
    let kept: Vec<Claim> = plan
        .claims
        .iter()
        .filter(|c| kinds(c.kind))
        .cloned()
        .collect();
    let partners = partners(&kept, site.tenants.len());
    let block = |t: &tenantc::ir::Tenant| -> Span {
        a.index
            .decls
            .iter()
            .find(|d| d.kind == "tenant" && d.name_span == t.name.span)
            .unwrap_or_else(|| panic!("{what}: no block for tenant `{}`", t.name.value))
            .span
    };
    let mut out = Outcome {
        tenants: site.tenants.len(),
        codes: all.iter().map(|d| d.code.to_string()).collect(),
        ..Outcome::default()
    };
    for (t, tenant) in site.tenants.iter().enumerate() {
        let span = block(tenant);
        let mine = |ds: &[Diagnostic]| -> Vec<Diagnostic> {
            ds.iter()
                .filter(|d| inside(d.primary.span, span))
                .cloned()
                .collect()
        };
        let others = partners[t].clone();
        let mut keep = others.clone();
        keep.push(t);
        keep.sort_unstable();
        let sub = sub_site(site, &keep);
        let sub_plan = tenantc::plan::build(&sub);
        let sub_diags = tenantc::check::run(&sub, &sub_plan);
        let at = keep.binary_search(&t).expect("kept");
        if format!("{:?}", plan.tenants[t]) != format!("{:?}", sub_plan.tenants[at]) {
            return Err(format!(
                "{what}: tenant `{}`'s plan entry differs on its sub-site",
                tenant.name.value
            ));
        }
        let (whole, part) = (mine(&all), mine(&sub_diags));
        if whole != part {
            return Err(format!(
                "{what}: tenant `{}` (partners {:?}) gets other diagnostics on its sub-site\n\
                 whole site: {whole:#?}\nsub-site: {part:#?}",
                tenant.name.value,
                others
                    .iter()
                    .map(|&u| site.tenants[u].name.value.as_str())
                    .collect::<Vec<_>>(),
            ));
        }
        out.tenant_diagnostics += whole.len();
        out.partners.push(others.len());
    }
    Ok(out)
}

fn dirs_and_files() -> Vec<(String, Vec<Utf8PathBuf>)> {
    let mut sites = Vec::new();
    for dir in common::examples() {
        sites.push((
            dir.to_string(),
            tenantc::find_inputs(&[dir]).expect("inputs"),
        ));
    }
    for dir in common::entries("tests/fixtures", |p| p.is_dir()) {
        sites.push((
            dir.to_string(),
            tenantc::find_inputs(&[dir]).expect("inputs"),
        ));
    }
    for f in common::entries("tests/fixtures", |p| p.extension() == Some("tenant"))
        .into_iter()
        .chain(common::entries("tests/bad", |p| {
            p.extension() == Some("tenant")
        }))
    {
        sites.push((f.to_string(), vec![f]));
    }
    sites
}

/// Every example, fixture and bad input whose checks run (the resolver found
/// no error, as when `tenantc check` and the editor run them).
#[test]
fn examples_fixtures_and_bad_inputs_keep_the_contract() {
    let mut checked = 0;
    let mut tenants = 0;
    let mut on_tenants = 0;
    for (what, inputs) in dirs_and_files() {
        let Some(a) = analyze(&inputs) else { continue };
        if a.plan.is_none() {
            // The resolver refused it: no check runs (and the checks assume
            // a site without errors, so the contract is about those).
            continue;
        }
        let o = contract(&what, &a);
        checked += 1;
        tenants += o.tenants;
        on_tenants += o.tenant_diagnostics;
    }
    eprintln!("{checked} sites, {tenants} tenants, {on_tenants} diagnostics on tenants");
    assert!(checked >= 60, "only {checked} sites reached the checks");
    assert!(tenants >= 120, "only {tenants} tenants");
    assert!(
        on_tenants >= 40,
        "only {on_tenants} check diagnostics on tenants"
    );
}

/// A site whose tenants draw their names, namespaces, ClusterIPs, RACF
/// users, data sets, storage classes, exports, realms, pods, policies,
/// users and tokens from small pools, so that they collide on every key
/// the checks compare, across two input files and an imported module.
fn colliding_site(seed: u64, n: usize, pool: usize) -> Vec<(String, String)> {
    let mut rng = XorShift(seed);
    let mut site = String::from(
        r#"
zos SYS0 {
  address = 10.20.0.9
  jcl { job_prefix = T }
  authority ca {
    label   = "SYS0 CA"
    subject = { CN = "SYS0 CA" }
    export  = dataset("SYS0.CA")
  }
  nfs_server NFS0 {
    keyring = NFS-RING
    clients = [10.20.0.11, 10.20.0.12, 10.20.1.11]
    address = 10.20.0.20
    standby = [SYS1]
    certificate { label = "NFS0", subject = { CN = "nfs0.example.com" }, signed_by = ca }
  }
}

zos SYS1 {
  address = 10.20.0.10
  jcl { job_prefix = TTTTT }
  authority ca1 {
    label   = "SYS1 CA"
    subject = { CN = "SYS1 CA" }
    export  = dataset("SYS1.CA")
  }
  nfs_server NFS1 {
    user    = NFSSRV
    keyring = NFS-RING
    ports   = 2143..2149
    clients = [10.20.0.11, 10.20.0.12, 10.20.1.11]
    certificate { label = "NFS1", subject = { CN = "nfs1.example.com" }, signed_by = ca1 }
  }
  nfs_server NFS2 {
    user    = NFSSRV
    keyring = NFS-RING2
    ports   = 2243..2249
    clients = [10.20.0.11, 10.20.0.12, 10.20.1.11]
    # One owner (NFSSRV, which servers may share), one label: RACDCERT would
    # refuse the second (E0417, a claim of the infrastructure alone).
    certificate { label = "NFS1", subject = { CN = "nfs2.example.com" }, signed_by = ca1 }
  }
}

flasharray fa0 { endpoint = "fa0.example.com", purity = "6.6.11", san = iscsi }
flasharray fa1 { endpoint = "fa1.example.com", purity = "6.6.11", san = iscsi }
flasharray fa2 { endpoint = "fa2.example.com", purity = "6.6.11", san = fc }
flasharray fa3 { endpoint = "fa3.example.com", purity = "6.6.11", san = iscsi }
flasharray fa4 { endpoint = "fa4.example.com", purity = "6.6.11", san = iscsi }

cluster c0 {
  kind         = openshift
  service_cidr = 172.30.0.0/16
  node n1 { dvipa = 10.20.0.11 }
  node n2 { dvipa = 10.20.0.12 }
  registry quay { server = "quay.example.com", credentials = env("QUAY") }
  portworx { version = "3.2.0", device_size = 50Gi, pods = ["p0"] }
}

cluster c1 {
  kind          = kubernetes
  service_cidr  = 172.30.0.0/16
  control_plane = [10.0.0.0/24]
  node n1 { dvipa = 10.20.1.11 }
  portworx { version = "3.2.0", device_size = 50Gi, pods = ["p1"] }
}
"#,
    );
    site.push('\n');
    let mut files = vec![String::new(), String::new()];
    let mut roots = BTreeSet::new();
    let mut by_index = Vec::new();
    let exports = [
        "/hfs",
        "/hfs/a",
        "/hfs/a/b",
        "/hfs/a/b/c",
        "/hfs/ab",
        "/hfs/d/e",
        "/hfs/a/",
        "/hfs//a/b",
    ];
    let p = |rng: &mut XorShift, what: &str| format!("{what}{}", rng.below(pool));
    for i in 0..n {
        // A few tenants `t3_x` against `t3`'s volume `x_data` (both give
        // PersistentVolume `t3-x-data`).
        let mut name = format!("t{i}");
        if i > 3 && rng.chance(6) {
            let x = format!("t{}_x", rng.below(i));
            if !roots.contains(&x) {
                name = x;
            }
        }
        roots.insert(name.clone());
        by_index.push(name.clone());
        let file = i % 2;
        let cluster = rng.below(2);
        let mut t = format!("tenant {name} {{\n  cluster = c{cluster}\n");
        if rng.chance(4) {
            let ns = if rng.chance(2) {
                p(&mut rng, "ns")
            } else {
                format!("t{}", rng.below(n))
            };
            t += &format!("  namespace = \"{ns}\"\n");
        }
        let mut volumes = Vec::new();
        if !rng.chance(5) {
            let server = rng.pick(&["SYS0.NFS0", "SYS1.NFS1", "SYS1.NFS2"]);
            t += &format!("  nfs {{\n    server = {server}\n");
            if rng.chance(4) {
                t += &format!("    storage_class = \"{}\"\n", p(&mut rng, "sc"));
            }
            let user = if rng.chance(3) {
                p(&mut rng, "U")
            } else {
                format!("V{i}")
            };
            let dsn = if rng.chance(3) {
                p(&mut rng, "SYS.D")
            } else {
                format!("SYS.T{i}.P12")
            };
            // A secret source belongs to one tenant (E0309, the resolver's).
            // Now and then a client certificate named as NFS1 (E0334),
            // without a draw, so the sites are otherwise as they were.
            let cn = if i % 11 == 5 {
                ", subject = { CN = \"nfs1.sys1\" }"
            } else {
                ""
            };
            t += &format!(
                "    identity {{ user = {user}, label = \"{name} client\"{cn}, export = dataset(\"{dsn}\", password = env(\"PW_{i}\")) }}\n",
            );
            let ip = if rng.chance(3) {
                format!("172.30.0.{}", rng.below(pool) + 1)
            } else {
                format!("172.30.1.{}", i + 1)
            };
            let ns = if rng.chance(5) {
                format!(", namespace = \"{}\"", p(&mut rng, "ns"))
            } else {
                String::new()
            };
            t += &format!("    proxy {{ cluster_ip = {ip}{ns} }}\n");
            for v in 0..1 + rng.below(3) {
                let vname = rng.pick(&["data", "logs", "x_data"]);
                if volumes.contains(&vname) {
                    continue;
                }
                volumes.push(vname);
                let export = if rng.chance(2) {
                    rng.pick(&exports).to_string()
                } else {
                    format!("/hfs/own/t{i}/v{v}")
                };
                t += &format!("    volume {vname} {{ export = \"{export}\", size = 1Gi }}\n");
            }
            t += "  }\n";
        }
        let mut class = None;
        if rng.chance(2) {
            let array = rng.below(5);
            let pods: Vec<String> = (0..1 + rng.below(2)).map(|_| p(&mut rng, "p")).collect();
            let quoted: Vec<String> = pods.iter().map(|x| format!("\"{x}\"")).collect();
            let cname = format!("sc{}", rng.below(pool));
            t += &format!(
                "  pure {{\n    array  = fa{array}\n    realm  = {}\n    pods   = [{}]\n    policy = {}\n    user   = {}\n    token  = {}\n    storage_class {cname} {{ pod = \"{}\" }}\n  }}\n",
                if !rng.chance(3) { p(&mut rng, "realm") } else { format!("r{i}") },
                quoted.join(", "),
                if rng.chance(3) { p(&mut rng, "Pol") } else { format!("pol{i}") },
                if rng.chance(3) { p(&mut rng, "user") } else { format!("user{i}") },
                if rng.chance(2) { format!("env(\"TOK_{i}\")") } else { format!("file(\"tok{i}\")") },
                pods[0],
            );
            class = Some(cname);
        }
        t += "  workload app {\n    image = \"quay.example.com/app:1\"\n";
        if let Some(v) = volumes.first() {
            t += &format!("    mount {{ volume = nfs.{v}, path = \"/data\" }}\n");
        }
        if let Some(c) = &class {
            t += &format!(
                "    kind = stateful_set\n    claim db {{ storage_class = pure.{c}, size = 1Gi, path = \"/db\" }}\n"
            );
        }
        t += "  }\n}\n\n";
        files[file] += &t;
    }
    // Client jobs `TTTTT` + 3 characters of a hash of the tenant's name: these
    // two names hash alike (E0440).
    for (k, name) in ["j1588", "j2736"].into_iter().enumerate() {
        files[k] += &format!(
            "tenant {name} {{\n  cluster = c1\n  nfs {{\n    server = SYS1.NFS1\n    identity {{ user = J{k}, label = \"{name}\", export = dataset(\"SYS.{}.P12\", password = env(\"PW_{name}\")) }}\n    proxy {{ cluster_ip = 172.30.2.{} }}\n  }}\n}}\n\n",
            name.to_uppercase(),
            k + 1
        );
    }
    // Tenants of an imported module may take the names of the input files'
    // tenants (E0202, the checks'; within one scope it is the resolver's).
    // A secret source belongs to its owner by name, so such a tenant can
    // also take the API token of its namesake (E0602, the checks').
    let mut module = String::from(
        "flasharray fm { endpoint = \"fm.example.com\", purity = \"6.6.11\", san = iscsi }\n\n\
         cluster cm {\n  kind = kubernetes\n  service_cidr = 10.96.0.0/12\n  control_plane = [10.0.0.0/24]\n  \
         portworx { version = \"3.2.0\", device_size = 50Gi, pods = [\"pm\"] }\n}\n\n",
    );
    let mut named = BTreeSet::new();
    for _ in 0..1 + n / 10 {
        let k = rng.below(n);
        // The namesake of a tenant of the input files, or a tenant whose
        // token `file("tok<k>")` is another file than the input files'
        // `file("tok<k>")` (E0602 compares the sources as written).
        let (name, token) = if rng.chance(2) {
            (by_index[k].clone(), format!("env(\"TOK_{k}\")"))
        } else {
            (format!("m{k}"), format!("file(\"tok{k}\")"))
        };
        if named.insert(name.clone()) {
            module += &format!(
                "tenant {name} {{\n  cluster = cm\n  namespace = \"{}\"\n  \
                 pure {{\n    array = fm\n    realm = m{k}\n    pods = [\"pm\"]\n    policy = m{k}\n    user = m{k}\n    token = {token}\n  }}\n  \
                 workload app {{ image = \"nginx:1\" }}\n}}\n\n",
                p(&mut rng, "ns")
            );
        }
    }
    vec![
        (
            "site.tenant".into(),
            format!("import \"lib/more\" as more\n{site}"),
        ),
        ("a.tenant".into(), files.remove(0)),
        ("b.tenant".into(), files.remove(0)),
        ("lib/more.tenant".into(), module),
    ]
}

/// Writes the files; the inputs are those outside `lib/` (imported only).
fn write(dir: &Utf8Path, files: &[(String, String)]) -> Vec<Utf8PathBuf> {
    std::fs::create_dir_all(dir.join("lib")).expect("mkdir");
    let mut inputs = Vec::new();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
        if !name.starts_with("lib/") {
            inputs.push(dir.join(name));
        }
    }
    inputs
}

/// The generated sites, analysed: twelve seeds, small and large pools.
fn generated_sites() -> Vec<(String, tenantc::Analysis)> {
    let tmp = tempfile::tempdir().expect("tmp");
    (1..=12u64)
        .map(|seed| {
            let (n, pool) = if seed % 3 == 0 { (60, 12) } else { (30, 4) };
            let dir = Utf8Path::from_path(tmp.path())
                .expect("utf-8")
                .join(format!("s{seed}"));
            let inputs = write(&dir, &colliding_site(seed * 7919, n, pool));
            let a = analyze(&inputs).expect("analysis runs");
            assert!(
                a.plan.is_some(),
                "seed {seed}: the generated site must reach the checks: {:#?}",
                a.diagnostics.iter().take(5).collect::<Vec<_>>()
            );
            (format!("generated site {seed}"), a)
        })
        .collect()
}

#[test]
fn colliding_sites_keep_the_contract() {
    let mut codes = BTreeSet::new();
    let (mut tenants, mut on_tenants, mut smaller, mut tokens) = (0, 0, 0, 0);
    let sites = generated_sites();
    for (what, a) in &sites {
        let o = contract(what, a);
        tenants += o.tenants;
        on_tenants += o.tenant_diagnostics;
        smaller += o.partners.iter().filter(|&&p| p + 1 < o.tenants).count();
        codes.extend(o.codes);
        let plan = tenantc::plan::build(&a.site);
        tokens += tenantc::check::run(&a.site, &plan)
            .iter()
            .filter(|d| d.message.contains("take their API token from the same"))
            .count();
    }
    eprintln!(
        "{} generated sites, {tenants} tenants, {on_tenants} diagnostics on tenants, \
         {smaller} sub-sites smaller than their site, {tokens} shared tokens; codes {codes:?}",
        sites.len()
    );
    // Every relation the keys mirror was exercised.
    for code in [
        "E0202", "E0417", "E0440", "E0503", "E0504", "E0601", "E0602", "E0609", "E0701",
    ] {
        assert!(
            codes.contains(code),
            "no generated site reported {code}: {codes:?}"
        );
    }
    assert!(tokens > 0, "no generated site shares an API token source");
    assert!(on_tenants > 200, "{on_tenants} diagnostics on tenants");
    // The sub-sites are not the whole site, or the test would prove nothing.
    assert!(
        smaller * 2 > tenants,
        "{smaller} of {tenants} tenants have a smaller sub-site"
    );
}

/// Every claim kind is produced by some generated site (secret sources by
/// its analysis, the others by the plan), detected by the one pass there,
/// and needed: with its claims left out of the partners, some tenant of
/// some generated site gets other diagnostics on its sub-site (the test can
/// fail, and no kind is dead weight). A kind added to `ClaimKind::ALL` and
/// produced nowhere, or relating no tenants, fails here.
#[test]
fn every_claim_kind_is_produced_detected_and_needed() {
    let sites = generated_sites();
    let mut produced: BTreeSet<ClaimKind> = BTreeSet::new();
    let mut detected: BTreeSet<ClaimKind> = BTreeSet::new();
    for (_, a) in &sites {
        let plan = a.plan.as_ref().expect("a plan");
        produced.extend(plan.claims.iter().map(|c| c.kind));
        for c in conflicts(&plan.claims, &|_| true) {
            detected.insert(plan.claims[c.later].kind);
        }
    }
    // Secret sources shared are E0309, which stops the checks: a site of
    // its own shows the pass detects them.
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = Utf8Path::from_path(tmp.path()).expect("utf-8");
    let mut files = colliding_site(1, 4, 4);
    for name in ["s1", "s2"] {
        files[1].1 += &format!(
            "tenant {name} {{\n  cluster = c0\n  workload app {{\n    image = \"quay.example.com/app:1\"\n    env = {{ PASSWORD = env(\"SHARED\") }}\n  }}\n}}\n"
        );
    }
    let inputs = write(dir, &files);
    let a = analyze(&inputs).expect("analysis runs");
    if a.diagnostics.iter().any(|d| d.code.as_str() == "E0309") {
        detected.insert(ClaimKind::SecretSource);
    }
    for kind in ClaimKind::ALL {
        assert!(
            produced.contains(&kind),
            "no generated site claims {kind:?}"
        );
        assert!(
            detected.contains(&kind),
            "no generated site has two holders of one {kind:?}"
        );
    }
    let tenants_hold: BTreeSet<ClaimKind> = sites
        .iter()
        .flat_map(|(_, a)| &a.plan.as_ref().expect("a plan").claims)
        .filter(|c| c.holder.tenant().is_some())
        .map(|c| c.kind)
        .collect();
    for kind in ClaimKind::ALL {
        let implied = [ClaimKind::HostName, ClaimKind::Certificate];
        if kind.early() || !tenants_hold.contains(&kind) || implied.contains(&kind) {
            // Judged before the checks (no sub-site sees it), or held by
            // the infrastructure alone (every sub-site has all of it), or
            // never relating two tenants: names a proxy trusts relate a
            // tenant to servers and systems only (two tenants' common names
            // never clash), and a tenant's certificate is owned by its user
            // ID, so two tenants' certificates meet only where their user
            // IDs do (RacfUser).
            continue;
        }
        let failed = sites
            .iter()
            .find_map(|(what, a)| contract_with(what, a, &|k| k != kind).err());
        assert!(
            failed.is_some(),
            "without {kind:?} claims every generated site still keeps the contract"
        );
    }
}

fn python() -> Option<&'static str> {
    let ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    match (ok, std::env::var_os("CI").is_some()) {
        (true, _) => Some("python3"),
        (false, true) => panic!("python3 is needed for the benchmark sites"),
        (false, false) => None,
    }
}

/// The benchmark's sites of 300 tenants (both layouts): clean, so nothing
/// collides and every tenant has no partner at all; the contract holds.
#[test]
fn bench_tenants_have_no_partners() {
    let Some(py) = python() else {
        eprintln!("skipped: no python3");
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    for layout in [None, Some("--per-tenant")] {
        let dir = Utf8Path::from_path(tmp.path())
            .expect("utf-8")
            .join(layout.unwrap_or("files-of-50").trim_start_matches('-'));
        let mut cmd = std::process::Command::new(py);
        cmd.arg(root().join("bench/gensite.py"))
            .arg("300")
            .arg(&dir);
        cmd.args(layout);
        assert!(cmd.status().expect("gensite runs").success());
        let inputs = tenantc::find_inputs(&[dir]).expect("inputs");
        let a = analyze(&inputs).expect("analysis runs");
        assert!(
            a.diagnostics.is_empty(),
            "{:#?}",
            &a.diagnostics[..3.min(a.diagnostics.len())]
        );
        let o = contract(&format!("bench {layout:?}"), &a);
        assert_eq!(o.tenants, 300);
        let most = o.partners.iter().copied().max().unwrap_or(0);
        let total: usize = o.partners.iter().sum();
        eprintln!("bench {layout:?}: at most {most} partners, {total} in all");
        assert_eq!(most, 0, "bench {layout:?}: {:?}", o.partners);
    }
}
