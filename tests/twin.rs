//! The twins of the target systems (tests/twin/): each twin's failure
//! semantics, one test a rule, and the day-0 property on every example:
//! the APPLY.md sequence, replayed from the bundle's own files on empty
//! twins, runs with no failing command (or with exactly the failures
//! recorded below as known, each with the issue that fixes it).

mod common;
#[path = "twin/mod.rs"]
mod twin;

use camino::Utf8PathBuf;
use common::{examples, root};
use std::collections::{BTreeMap, BTreeSet};
use twin::array::Array;
use twin::k8s::Cluster;
use twin::racf::{systsin, Racf};
use twin::runbook::walk;
use twin::uss::Uss;
use twin::{Files, World};

fn compile(dir: &Utf8PathBuf) -> tenantc::bundle::Bundle {
    let rel = dir
        .strip_prefix(root())
        .expect("inside the crate")
        .to_path_buf();
    let cwd_inputs = tenantc::find_inputs(&[root().join(&rel)]).expect("inputs");
    let inputs: Vec<Utf8PathBuf> = cwd_inputs
        .iter()
        .map(|p| p.strip_prefix(root()).expect("relative").to_path_buf())
        .collect();
    std::env::set_current_dir(root()).expect("cd");
    let opts = tenantc::Options::default();
    let a = tenantc::analyze(&inputs, &opts).expect("analysis runs");
    assert!(
        a.diagnostics.is_empty(),
        "{dir} has diagnostics: {:#?}",
        a.diagnostics
    );
    tenantc::build_bundle(&a, &opts).expect("lowering succeeds")
}

fn job(cmds: &[&str]) -> String {
    let mut s =
        String::from("//J JOB\n//S EXEC PGM=IKJEFT1B\n//SYSTSPRT DD SYSOUT=*\n//SYSTSIN  DD *\n");
    for c in cmds {
        s.push_str("  ");
        s.push_str(c);
        s.push('\n');
    }
    s.push_str("/*\n");
    s
}

/// A database with a user, a CA and a user certificate signed by it.
fn racf_with_ca() -> Racf {
    let mut r = Racf::default();
    r.exec("ADDUSER NFSPRD OMVS(UID(1001) HOME('/u/nfsprd'))")
        .expect("adduser");
    r.exec("RACDCERT CERTAUTH GENCERT SUBJECTSDN(CN('CA')) WITHLABEL('CA') KEYUSAGE(CERTSIGN)")
        .expect("ca");
    r.exec("RACDCERT ID(NFSPRD) GENCERT SUBJECTSDN(CN('S')) WITHLABEL('S') SIGNWITH(CERTAUTH LABEL('CA'))")
        .expect("server cert");
    r
}

// ------------------------------------------------------------------ RACF

#[test]
fn systsin_joins_plus_and_minus_continuations_as_tso_does() {
    let jcl = "//X JOB\n//SYSTSIN  DD *\n  RACDCERT ID(A) +\n    ADDRING(R1)\n  RACDCERT ID(A) GENCERT WITHLABEL('ab-\n  cd')\n/*\n//NEXT DD *\n";
    let cmds = systsin(jcl).expect("parses");
    // `+` drops the next line's leading blanks; `-` keeps them.
    assert_eq!(
        cmds,
        vec![
            "RACDCERT ID(A) ADDRING(R1)",
            "RACDCERT ID(A) GENCERT WITHLABEL('ab  cd')"
        ]
    );
    assert!(
        systsin("//SYSTSIN DD *\n  X +\n/*\n").is_err(),
        "continued into nothing"
    );
    assert!(systsin("//SYSTSIN DD *\n  X\n").is_err(), "no /* delimiter");
}

#[test]
fn quoted_values_double_their_quotes() {
    let mut r = Racf::default();
    r.exec("RACDCERT CERTAUTH GENCERT WITHLABEL('O''Brien CA')")
        .expect("gencert");
    assert!(r
        .certs
        .contains_key(&("CERTAUTH".into(), "O'Brien CA".into())));
}

#[test]
fn gencert_with_a_label_in_use_fails() {
    let mut r = racf_with_ca();
    let e = r
        .exec("RACDCERT CERTAUTH GENCERT SUBJECTSDN(CN('X')) WITHLABEL('CA')")
        .expect_err("must fail");
    assert!(e.contains("already in use"), "{e}");
    // The same label under another owner is another certificate.
    r.exec("RACDCERT ID(NFSPRD) GENCERT WITHLABEL('CA')")
        .expect("another owner");
}

#[test]
fn gencert_for_a_user_needs_the_user() {
    let mut r = Racf::default();
    let e = r
        .exec("RACDCERT ID(NOSUCH) GENCERT WITHLABEL('X')")
        .expect_err("must fail");
    assert!(e.contains("not defined"), "{e}");
}

#[test]
fn signwith_needs_the_signer_with_its_private_key() {
    let mut r = racf_with_ca();
    let e = r
        .exec("RACDCERT ID(NFSPRD) GENCERT WITHLABEL('T') SIGNWITH(CERTAUTH LABEL('NOCA'))")
        .expect_err("must fail");
    assert!(e.contains("no certificate"), "{e}");
    r.certs
        .get_mut(&("CERTAUTH".into(), "CA".into()))
        .expect("ca")
        .has_key = false;
    let e = r
        .exec("RACDCERT ID(NFSPRD) GENCERT WITHLABEL('T') SIGNWITH(CERTAUTH LABEL('CA'))")
        .expect_err("must fail");
    assert!(e.contains("private key"), "{e}");
}

#[test]
fn delete_of_a_missing_certificate_fails_and_delete_takes_it_off_its_rings() {
    let mut r = racf_with_ca();
    assert!(r.exec("RACDCERT ID(NFSPRD) DELETE(LABEL('NOPE'))").is_err());
    r.exec("RACDCERT ID(NFSPRD) ADDRING(RING)").expect("ring");
    r.exec("RACDCERT ID(NFSPRD) CONNECT(LABEL('S') RING(RING) DEFAULT)")
        .expect("connect");
    r.exec("RACDCERT ID(NFSPRD) DELETE(LABEL('S'))")
        .expect("delete");
    assert!(r.rings[&("NFSPRD".into(), "RING".into())].certs.is_empty());
}

#[test]
fn connect_needs_the_ring_and_the_certificate() {
    let mut r = racf_with_ca();
    let e = r
        .exec("RACDCERT ID(NFSPRD) CONNECT(LABEL('S') RING(RING))")
        .expect_err("must fail");
    assert!(e.contains("ring"), "{e}");
    r.exec("RACDCERT ID(NFSPRD) ADDRING(RING)").expect("ring");
    let e = r
        .exec("RACDCERT ID(NFSPRD) CONNECT(CERTAUTH LABEL('NOCA') RING(RING))")
        .expect_err("must fail");
    assert!(e.contains("no certificate"), "{e}");
    r.exec("RACDCERT ID(NFSPRD) CONNECT(CERTAUTH LABEL('CA') RING(RING))")
        .expect("ca");
    r.exec("RACDCERT ID(NFSPRD) CONNECT(LABEL('S') RING(RING) DEFAULT)")
        .expect("own");
    let ring = &r.rings[&("NFSPRD".into(), "RING".into())];
    assert!(ring.certs[&("NFSPRD".into(), "S".into())].default);
    assert_eq!(ring.certs.len(), 2);
}

#[test]
fn remove_needs_the_certificate_on_the_ring() {
    let mut r = racf_with_ca();
    r.exec("RACDCERT ID(NFSPRD) ADDRING(RING)").expect("ring");
    assert!(r
        .exec("RACDCERT ID(NFSPRD) REMOVE(LABEL('S') RING(RING))")
        .is_err());
    r.exec("RACDCERT ID(NFSPRD) CONNECT(LABEL('S') RING(RING))")
        .expect("connect");
    r.exec("RACDCERT ID(NFSPRD) REMOVE(LABEL('S') RING(RING))")
        .expect("remove");
}

#[test]
fn delring_of_a_missing_ring_fails() {
    let mut r = racf_with_ca();
    assert!(r.exec("RACDCERT ID(NFSPRD) DELRING(RING)").is_err());
    r.exec("RACDCERT ID(NFSPRD) ADDRING(RING)").expect("ring");
    r.exec("RACDCERT ID(NFSPRD) DELRING(RING)")
        .expect("delring");
    assert!(r.rings.is_empty());
}

#[test]
fn adduser_of_an_existing_user_fails_and_altuser_needs_one() {
    let mut r = racf_with_ca();
    assert!(r.exec("ADDUSER NFSPRD").is_err());
    assert!(r.exec("ALTUSER NOSUCH OMVS(UID(1))").is_err());
    r.exec("ALTUSER NFSPRD OMVS(UID(7) HOME('/x'))")
        .expect("altuser");
    assert_eq!(r.users["NFSPRD"].uid.as_deref(), Some("7"));
}

#[test]
fn deluser_takes_the_users_certificates_and_rings() {
    let mut r = racf_with_ca();
    r.exec("RACDCERT ID(NFSPRD) ADDRING(RING)").expect("ring");
    r.exec("DELUSER NFSPRD").expect("deluser");
    assert!(r.rings.is_empty());
    assert_eq!(r.certs.len(), 1, "only the CA is left");
    assert!(r.exec("DELUSER NFSPRD").is_err());
}

#[test]
fn rdefine_of_an_existing_profile_fails_and_permit_needs_the_profile() {
    let mut r = racf_with_ca();
    let permit = "PERMIT NFSPRD.RING.LST CLASS(RDATALIB) ID(NFSPRD) ACCESS(READ)";
    assert!(r.exec(permit).is_err(), "no profile yet");
    r.exec("RDEFINE RDATALIB NFSPRD.RING.LST UACC(NONE)")
        .expect("rdefine");
    assert!(r
        .exec("RDEFINE RDATALIB NFSPRD.RING.LST UACC(NONE)")
        .is_err());
    assert!(r
        .exec("PERMIT NFSPRD.RING.LST CLASS(RDATALIB) ID(NOSUCH) ACCESS(READ)")
        .is_err());
    r.exec(permit).expect("permit");
    r.exec("PERMIT NFSPRD.RING.LST CLASS(RDATALIB) ID(NFSPRD) DELETE")
        .expect("delete");
    assert!(r
        .exec("PERMIT NFSPRD.RING.LST CLASS(RDATALIB) ID(NFSPRD) DELETE")
        .is_err());
    r.exec("RDELETE RDATALIB NFSPRD.RING.LST").expect("rdelete");
    assert!(r.exec("RDELETE RDATALIB NFSPRD.RING.LST").is_err());
}

#[test]
fn export_makes_a_data_set_and_pkcs12_needs_the_private_key() {
    let mut r = racf_with_ca();
    r.exec("RACDCERT CERTAUTH EXPORT(LABEL('CA')) DSN('SYS1.CA') FORMAT(CERTB64)")
        .expect("export");
    assert!(r.datasets.contains_key("SYS1.CA"));
    // Exporting again replaces the data set.
    r.exec("RACDCERT CERTAUTH EXPORT(LABEL('CA')) DSN('SYS1.CA') FORMAT(CERTDER)")
        .expect("again");
    assert!(r
        .exec("RACDCERT CERTAUTH EXPORT(LABEL('NOCA')) DSN('SYS1.X')")
        .is_err());
    assert!(
        r.exec("RACDCERT ID(NFSPRD) EXPORT(LABEL('S')) DSN('SYS1.P12') FORMAT(PKCS12DER)")
            .is_err(),
        "PKCS #12 without PASSWORD"
    );
    r.certs
        .get_mut(&("NFSPRD".into(), "S".into()))
        .expect("s")
        .has_key = false;
    let e = r
        .exec("RACDCERT ID(NFSPRD) EXPORT(LABEL('S')) DSN('SYS1.P12') FORMAT(PKCS12DER) PASSWORD('x')")
        .expect_err("must fail");
    assert!(e.contains("private key"), "{e}");
    // TSO DELETE of the data set, then of a missing one.
    r.exec("DELETE 'SYS1.CA'").expect("delete");
    assert!(r.exec("DELETE 'SYS1.CA'").is_err());
}

#[test]
fn lists_are_read_only_and_fail_on_what_is_missing() {
    let mut r = racf_with_ca();
    let before = r.clone();
    r.exec("LISTUSER NFSPRD OMVS").expect("listuser");
    r.exec("RACDCERT ID(NFSPRD) LIST(LABEL('S'))")
        .expect("list");
    assert!(r.exec("LISTUSER NOSUCH OMVS").is_err());
    assert!(r.exec("RACDCERT ID(NFSPRD) LIST(LABEL('NOPE'))").is_err());
    assert!(r.exec("RACDCERT ID(NFSPRD) LISTRING(RING)").is_err());
    assert_eq!(r, before);
}

#[test]
fn rekey_gencert_and_rollover_move_the_rings_to_the_new_key() {
    let mut r = racf_with_ca();
    r.exec("RACDCERT ID(NFSPRD) ADDRING(RING)").expect("ring");
    r.exec("RACDCERT ID(NFSPRD) CONNECT(LABEL('S') RING(RING) DEFAULT)")
        .expect("connect");
    assert!(
        r.exec("RACDCERT ID(NFSPRD) REKEY(LABEL('S')) WITHLABEL('CA')")
            .is_ok(),
        "another owner's label"
    );
    assert!(
        r.exec("RACDCERT ID(NFSPRD) REKEY(LABEL('S')) WITHLABEL('CA')")
            .is_err(),
        "label in use"
    );
    r.exec("RACDCERT ID(NFSPRD) REKEY(LABEL('S')) WITHLABEL('S2')")
        .expect("rekey");
    r.exec("RACDCERT ID(NFSPRD) GENCERT(LABEL('S2')) SIGNWITH(CERTAUTH LABEL('CA')) NOTAFTER(DATE(2031-01-01))")
        .expect("sign the new key");
    assert!(r
        .exec("RACDCERT ID(NFSPRD) GENCERT(LABEL('S9')) SIGNWITH(CERTAUTH LABEL('CA'))")
        .is_err());
    r.exec("RACDCERT ID(NFSPRD) ROLLOVER(LABEL('S')) NEWLABEL('S2')")
        .expect("rollover");
    let ring = &r.rings[&("NFSPRD".into(), "RING".into())];
    assert!(ring.certs[&("NFSPRD".into(), "S2".into())].default);
    assert!(!ring.certs.contains_key(&("NFSPRD".into(), "S".into())));
    assert!(
        !r.certs[&("NFSPRD".into(), "S".into())].has_key,
        "the old key is retired"
    );
    assert!(r
        .exec("RACDCERT ID(NFSPRD) ROLLOVER(LABEL('S')) NEWLABEL('S2')")
        .is_err());
}

#[test]
fn genreq_writes_a_request_that_gencert_signs_and_rollover_needs_it_signed() {
    let mut r = racf_with_ca();
    r.exec("RACDCERT ID(NFSPRD) ADDRING(RING)").expect("ring");
    r.exec("RACDCERT ID(NFSPRD) CONNECT(LABEL('S') RING(RING) DEFAULT)")
        .expect("connect");
    r.exec("RACDCERT ID(NFSPRD) REKEY(LABEL('S')) WITHLABEL('S2')")
        .expect("rekey");
    // The REKEY copy is self-signed: rolling over to it is refused.
    let e = r
        .exec("RACDCERT ID(NFSPRD) ROLLOVER(LABEL('S')) NEWLABEL('S2')")
        .expect_err("not signed yet");
    assert!(e.contains("self-signed"), "{e}");
    assert!(
        r.exec("RACDCERT ID(NFSPRD) GENCERT('NFSPRD.CSR') SIGNWITH(CERTAUTH LABEL('CA'))")
            .is_err(),
        "no request data set yet"
    );
    assert!(
        r.exec("RACDCERT ID(NFSPRD) GENREQ(LABEL('S9')) DSN('NFSPRD.CSR')")
            .is_err(),
        "no such certificate"
    );
    r.exec("RACDCERT ID(NFSPRD) GENREQ(LABEL('S2')) DSN('NFSPRD.CSR')")
        .expect("request");
    assert!(r.datasets.contains_key("NFSPRD.CSR"));
    assert!(
        r.exec("RACDCERT CERTAUTH GENCERT('NFSPRD.CSR') SIGNWITH(CERTAUTH LABEL('CA'))")
            .is_err(),
        "another owner's request"
    );
    r.exec("RACDCERT ID(NFSPRD) GENCERT('NFSPRD.CSR') SIGNWITH(CERTAUTH LABEL('CA')) NOTAFTER(DATE(2031-01-01))")
        .expect("signed from the request");
    let c = &r.certs[&("NFSPRD".into(), "S2".into())];
    assert_eq!(c.signer, Some(("CERTAUTH".into(), "CA".into())));
    assert!(c.notafter.contains("2031-01-01"), "{c:?}");
    r.exec("RACDCERT ID(NFSPRD) ROLLOVER(LABEL('S')) NEWLABEL('S2')")
        .expect("rollover once signed");
    // The old certificate's key is retired: no request from it any more.
    assert!(r
        .exec("RACDCERT ID(NFSPRD) GENREQ(LABEL('S')) DSN('NFSPRD.CSR2')")
        .is_err());
    r.exec("DELETE 'NFSPRD.CSR'")
        .expect("the request data set goes");
}

#[test]
fn ikjeft1b_stops_at_the_first_failing_command() {
    let mut r = Racf::default();
    let jcl = job(&["ADDUSER A", "ADDUSER A", "ADDUSER B"]);
    let f = r.run_job(&jcl).expect_err("must fail");
    assert_eq!((f.index, f.command.as_str()), (1, "ADDUSER A"));
    assert!(
        r.users.contains_key("A"),
        "commands before the failure keep their effect"
    );
    assert!(!r.users.contains_key("B"), "commands after it do not run");
}

#[test]
fn unknown_commands_fail_loudly() {
    let mut r = Racf::default();
    assert!(r.exec("CONNECT A GROUP(B)").is_err());
    assert!(r
        .exec("RACDCERT CERTAUTH ALTER(LABEL('X')) NOTRUST")
        .is_err());
    assert!(
        r.exec("RACDCERT GENCERT WITHLABEL('X')").is_err(),
        "no owner"
    );
}

// ------------------------------------------------------------- z/OS UNIX

#[test]
fn placing_exports_replaces_the_servers_entries() {
    let mut u = Uss::default();
    u.place_exports(
        "NFS",
        "# c\n/hfs/a -access=1.2.3.4\n/hfs/b -access=1.2.3.5\n",
    )
    .expect("place");
    u.place_exports("NFS", "/hfs/b -access=1.2.3.6\n")
        .expect("again");
    let state = u.state("zos/S");
    let names: Vec<&str> = state.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, vec!["NFS /hfs/b"]);
    assert!(
        u.place_exports("NFS", "/hfs/b x\n/hfs/b y\n").is_err(),
        "twice"
    );
}

#[test]
fn policy_rules_are_replaced_by_file_and_unique_across_files() {
    let p =
        "TTLSRule R1\n{\n  TTLSGroupActionRef G\n}\nTTLSGroupAction G\n{\n  TTLSEnabled On\n}\n";
    let mut u = Uss::default();
    u.place_policy("a.policy", p).expect("place");
    u.place_policy("a.policy", p)
        .expect("replace from the same file");
    assert!(
        u.place_policy("b.policy", p).is_err(),
        "R1 from another file"
    );
    let dangling = "TTLSRule R2\n{\n  TTLSGroupActionRef NOPE\n}\n";
    assert!(u.place_policy("c.policy", dangling).is_err());
}

#[test]
fn mkdir_chown_chmod_fail_as_the_shell_does() {
    let mut u = Uss::default();
    let uid = |n: &str| (n == "LEDGER").then(|| "5".to_string());
    assert!(
        u.run_line("mkdir '/a/b'", &uid).is_err(),
        "no parent without -p"
    );
    u.run_line("mkdir -p '/a/b'", &uid).expect("-p");
    assert!(u.run_line("mkdir '/a/b'", &uid).is_err(), "exists");
    u.run_line("mkdir -p '/a/b'", &uid)
        .expect("-p on an existing one");
    assert!(u.run_line("chown NOUID '/a/b'", &uid).is_err(), "no UID");
    assert!(
        u.run_line("chown LEDGER '/a/c'", &uid).is_err(),
        "no such path"
    );
    u.run_line("chown LEDGER '/a/b'", &uid).expect("chown");
    u.run_line("chmod 750 '/a/b'", &uid).expect("chmod");
    assert!(u.run_line("rm -rf /", &uid).is_err(), "outside the subset");
    let names: Vec<String> = u.state("t").iter().map(|o| o.name.clone()).collect();
    assert_eq!(names, vec!["/a/b"], "only named directories are objects");
}

// ------------------------------------------------------------ FlashArray

fn w(s: &str) -> Vec<String> {
    twin::shell_words(s, &BTreeMap::new()).expect("words")
}

#[test]
fn array_creates_once_and_needs_parents() {
    let mut a = Array::default();
    assert!(
        a.purity(&w("purepod create 'r::p'"), None).is_err(),
        "pod without its realm"
    );
    a.purity(&w("purerealm create 'r'"), None).expect("realm");
    assert!(
        a.purity(&w("purerealm create 'r'"), None).is_err(),
        "realm twice"
    );
    a.purity(&w("purepod create 'r::p'"), None).expect("pod");
    assert!(
        a.purity(&w("purepod create 'r::p'"), None).is_err(),
        "pod twice"
    );
    let pol = "purepolicy management-access create --realm 'r' --role storage --aggregation-strategy all-permissions 'pol'";
    assert!(
        a.purity(&w("pureadmin create --access-policy 'pol' 'u'"), None)
            .is_err(),
        "user without policy"
    );
    a.purity(&w(pol), None).expect("policy");
    assert!(a.purity(&w(pol), None).is_err(), "policy twice");
    a.purity(&w("pureadmin create --access-policy 'pol' 'u'"), None)
        .expect("user");
    assert!(a
        .purity(&w("pureadmin create --access-policy 'pol' 'u'"), None)
        .is_err());
    a.purity(&w("pureadmin create --api-token"), Some("u"))
        .expect("token");
    assert!(
        a.purity(&w("pureadmin create --api-token"), Some("u"))
            .is_err(),
        "one token a user"
    );
}

#[test]
fn array_deletes_what_exists_and_a_realm_with_pods_stays() {
    let mut a = Array::default();
    for c in [
        "purerealm create 'r'",
        "purepod create 'r::p'",
        "purepolicy management-access create --realm 'r' --role storage --aggregation-strategy all-permissions 'pol'",
        "pureadmin create --access-policy 'pol' 'u'",
    ] {
        a.purity(&w(c), None).expect(c);
    }
    assert!(
        a.purity(&w("purerealm destroy 'r'"), None).is_err(),
        "realm with a pod"
    );
    assert!(
        a.purity(&w("purepolicy management-access delete 'pol'"), None)
            .is_err(),
        "policy of a user"
    );
    assert!(
        a.purity(&w("pureadmin delete --api-token 'u'"), None)
            .is_err(),
        "no token"
    );
    a.purity(&w("pureadmin delete 'u'"), None).expect("user");
    assert!(a.purity(&w("pureadmin delete 'u'"), None).is_err());
    a.purity(&w("purepolicy management-access delete 'pol'"), None)
        .expect("policy");
    assert!(
        a.purity(&w("purepod eradicate 'r::p'"), None).is_err(),
        "not destroyed"
    );
    a.purity(&w("purepod destroy 'r::p'"), None)
        .expect("destroy pod");
    assert!(
        a.purity(&w("purerealm destroy 'r'"), None).is_err(),
        "a destroyed pod is still in it"
    );
    a.purity(&w("purepod eradicate 'r::p'"), None)
        .expect("eradicate pod");
    a.purity(&w("purerealm destroy 'r'"), None)
        .expect("destroy realm");
    assert!(
        a.purity(&w("purerealm create 'r'"), None).is_err(),
        "a destroyed realm keeps its name"
    );
    a.purity(&w("purerealm eradicate 'r'"), None)
        .expect("eradicate");
    assert!(a.state("array/x").is_empty());
}

#[test]
fn array_script_subset_is_strict() {
    let mut a = Array::default();
    let mut env = BTreeMap::new();
    assert!(a.run_script("rm -rf /\n", &mut env).is_err());
    assert!(a.run_script("evil() {\n}\n", &mut env).is_err());
    assert!(a
        .run_script("purity purerealm create \"$(id)\"\n", &mut env)
        .is_err());
    assert!(
        a.run_script("if ! exists purerealm list 'r'; then\n", &mut env)
            .is_err(),
        "no fi"
    );
}

// ------------------------------------------------------------ Kubernetes

fn files(entries: &[(&str, &str)]) -> Files {
    entries
        .iter()
        .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
        .collect()
}

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n";
const DEPLOY: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: app\nspec:\n  replicas: 1\n";

#[test]
fn apply_k_orders_namespaces_first_and_generates_secrets() {
    let f = files(&[
        (
            "k/kustomization.yaml",
            "resources:\n- app/deploy.yaml\n- app/ns.yaml\nsecretGenerator:\n- name: s\n  namespace: app\n  files:\n  - k=secrets/app/s/k\ngeneratorOptions:\n  disableNameSuffixHash: true\n",
        ),
        ("k/app/deploy.yaml", DEPLOY),
        ("k/app/ns.yaml", NS),
    ]);
    let mut c = Cluster::default();
    c.apply_k(&f, "k")
        .expect("namespace first, as kustomize orders it");
    let names: Vec<String> = c
        .state("cluster/c")
        .iter()
        .map(|o| format!("{} {}", o.kind, o.name))
        .collect();
    assert_eq!(
        names,
        vec!["Deployment app/web", "Namespace app", "Secret app/s"]
    );
}

#[test]
fn a_namespaced_object_needs_its_namespace() {
    let f = files(&[("d.yaml", DEPLOY)]);
    let mut c = Cluster::default();
    let e = c
        .kubectl(&w("kubectl apply -f d.yaml"), &f)
        .expect_err("must fail");
    assert!(e.contains("not found"), "{e}");
}

#[test]
fn apply_updates_by_identity_and_delete_fails_on_what_is_missing() {
    let f = files(&[
        ("ns.yaml", NS),
        ("d.yaml", DEPLOY),
        ("d2.yaml", &DEPLOY.replace("replicas: 1", "replicas: 2")),
    ]);
    let mut c = Cluster::default();
    c.kubectl(&w("kubectl apply -f ns.yaml"), &f).expect("ns");
    c.kubectl(&w("kubectl apply -f d.yaml"), &f).expect("d");
    let before = c.state("c");
    c.kubectl(&w("kubectl apply -f d2.yaml"), &f).expect("d2");
    let after = c.state("c");
    assert_eq!(before.len(), after.len(), "same identity");
    assert_ne!(before, after, "new digest");
    c.kubectl(&w("kubectl -n app rollout status deployment/web"), &f)
        .expect("read-only");
    c.kubectl(&w("kubectl delete deployment web -n app"), &f)
        .expect("delete");
    assert!(
        c.kubectl(&w("kubectl delete deployment web -n app"), &f)
            .is_err(),
        "NotFound"
    );
    c.kubectl(
        &w("kubectl delete deployment web -n app --ignore-not-found"),
        &f,
    )
    .expect("ignored");
    assert!(c
        .kubectl(&w("kubectl -n app rollout status deployment/web"), &f)
        .is_err());
}

#[test]
fn deleting_a_namespace_deletes_what_is_in_it() {
    let f = files(&[("ns.yaml", NS), ("d.yaml", DEPLOY)]);
    let mut c = Cluster::default();
    c.kubectl(&w("kubectl apply -f ns.yaml"), &f).expect("ns");
    c.kubectl(&w("kubectl apply -f d.yaml"), &f).expect("d");
    c.kubectl(&w("kubectl delete -f ns.yaml"), &f)
        .expect("delete ns");
    assert!(c.objects.is_empty());
}

// --------------------------------------------------------------- walker

#[test]
fn the_walker_runs_files_once_in_document_order_and_lists_what_it_cannot_map() {
    let f = files(&[
        ("APPLY.md", "- `zos/S/jcl/1.jcl` then `F PAGENT,REFRESH`\n- again `zos/S/jcl/1.jcl` on `SYS1.X`\n\n```\nDELETE 'SYS1.X'\n```\n\n```sh\nkubectl apply -k k8s/c\n```\n"),
        ("zos/S/jcl/1.jcl", &job(&["ADDUSER A", "RACDCERT CERTAUTH GENCERT WITHLABEL('C')", "RACDCERT CERTAUTH EXPORT(LABEL('C')) DSN('SYS1.X')"])),
        ("k8s/c/kustomization.yaml", "resources:\n- ns.yaml\n"),
        ("k8s/c/ns.yaml", NS),
    ]);
    let mut world = World::default();
    let walk = walk(&mut world, &f, "APPLY.md");
    assert!(walk.ok(), "{:#?}", walk.failures);
    assert_eq!(walk.unhandled, vec!["F PAGENT,REFRESH"]);
    assert_eq!(walk.references, vec!["zos/S/jcl/1.jcl", "SYS1.X"]);
    let zos = &world.zos["S"].racf;
    assert!(zos.users.contains_key("A") && zos.datasets.is_empty());
    assert_eq!(world.clusters["c"].objects.len(), 1);
}

// ------------------------------------------------------------ day 0

/// What the day-0 walk of an example's APPLY.md found: the failures (as
/// `step: reason`), the steps no twin models, and the twins after it.
fn day0(name: &str) -> (Vec<String>, Vec<String>, World, Files) {
    let dir = root().join("examples").join(name);
    let bundle = compile(&dir);
    let files = twin::files_of(&bundle);
    let mut world = World::empty_systems();
    let walk = walk(&mut world, &files, "APPLY.md");
    let failures = walk
        .failures
        .iter()
        .map(|f| format!("{}: {}", f.step, f.reason))
        .collect();
    (failures, walk.unhandled, world, files)
}

/// The failures today's day-0 runbooks meet on empty twins. Each is a
/// defect of the bundle, recorded so the property holds today and is
/// tightened as the fixes land: when one is fixed, this test fails and the
/// entry goes.
fn known_day0_failures(name: &str) -> Vec<&'static str> {
    // Issue 27's day 0 (user IDs with their OMVS segments before the jobs
    // that need them, the exported directories made) left none.
    let _ = name;
    vec![]
}

/// Steps of a runbook no twin models, and why each may stay so. Issue 27
/// turned the inline steps into files the walker runs (console command
/// lists, FTP subcommands, the TLS Secrets' scripts, the clean-up job):
/// console commands, openssl and `kubectl create secret` pipelines are no
/// longer allowed here (CHANGE.md still names console commands inline).
fn allowed_unhandled(step: &str) -> bool {
    let words: Vec<&str> = step.split_whitespace().collect();
    // A USS read-back of the Policy Agent (no twin of pasearch output).
    step.starts_with("pasearch ")
        // Lines quoted for the operator to add to a profile or image file
        // they own (the bundle's own files are placed as files).
        || step == "TCPCONFIG TTLS"
        || step.starts_with("TTLSConfig ")
        // A command template with <placeholders> (the OBEYFILE data set the
        // operator chooses), not a command.
        || (step.contains('<') && step.contains('>'))
        // Node files: no twin of a worker node's /etc.
        || step.ends_with("/nodes/multipath.conf")
        // The manifest is read by the operator to check secret files.
        || step == "manifest.json"
        // Checks and local commands with no target system (kustomize
        // build, grep for placeholders, the compile that materializes
        // secrets, the bundle's .gitignore), the OpenShift MachineConfig
        // and the wait for its pool (no twin of a node pool), a plain
        // Kubernetes node's multipathd restart.
        || matches!(words.first(), Some(&("kustomize" | "grep" | "tenantc" | "oc" | "systemctl")))
        || step == ".gitignore"
}

#[test]
fn day0_runbooks_run_on_empty_twins_with_only_the_known_failures() {
    let all = examples();
    assert!(all.len() >= 3, "the examples are there");
    for dir in all {
        let name = dir.file_name().expect("name").to_string();
        let (failures, unhandled, world, _) = day0(&name);
        assert_eq!(
            failures,
            known_day0_failures(&name),
            "{name}: the day-0 walk's failures changed (a fixed defect: drop it from the known list)"
        );
        let bad: Vec<&String> = unhandled.iter().filter(|s| !allowed_unhandled(s)).collect();
        assert!(bad.is_empty(), "{name}: steps no twin maps: {bad:#?}");
        assert!(!world.state().is_empty(), "{name}: the walk did something");
    }
}

#[test]
fn day0_builds_every_array_and_cluster_object_the_bundle_names() {
    // px-pure-saw has no z/OS part and no known failure: its twins after
    // day 0 hold every realm, pod, policy, user and token its setup.sh
    // names and every object of its kustomizations.
    let (failures, _, world, files) = day0("px-pure-saw");
    assert!(failures.is_empty(), "{failures:#?}");
    let state: Vec<String> = world
        .state()
        .iter()
        .map(|o| format!("{} {} {}", o.target, o.kind, o.name))
        .collect();
    for want in [
        "array/fa1 realm customer1",
        "array/fa1 pod customer1::pod",
        "array/fa1 policy pxrole",
        "array/fa1 user user1",
        "array/fa1 api-token user1",
        "array/fa1 api-token user2",
        "cluster/k8s1 Namespace customer1",
        "cluster/k8s1 Secret portworx/px-pure-secret",
        "cluster/k8s2 StorageCluster portworx/px-k8s2",
    ] {
        assert!(
            state.iter().any(|s| s == want),
            "{want} missing from {state:#?}"
        );
    }
    let k8s_docs = files
        .keys()
        .filter(|p| {
            p.starts_with("k8s/") && p.ends_with(".yaml") && !p.ends_with("kustomization.yaml")
        })
        .count();
    let secrets = 4; // px-pure-secret and one env secret per cluster
    let objects = world
        .clusters
        .values()
        .map(|c| c.objects.len())
        .sum::<usize>();
    assert_eq!(
        objects,
        k8s_docs + secrets,
        "one object a manifest, plus the generated Secrets"
    );
}

#[test]
fn setup_scripts_are_idempotent_on_their_twin() {
    // The scripts say so: a rerun leaves every object as it is (and makes
    // no second API token once the first is stored).
    for name in ["px-pure-saw", "mixed-site"] {
        let (_, _, mut world, files) = day0(name);
        let before = world.state();
        for (path, text) in &files {
            if let Some(array) = path
                .strip_prefix("pure/")
                .and_then(|p| p.strip_suffix("/setup.sh"))
            {
                let mut env = world.env.clone();
                let text = String::from_utf8_lossy(text);
                world
                    .array(array)
                    .run_script(&text, &mut env)
                    .expect("rerun");
                world.env = env;
            }
        }
        assert_eq!(world.state(), before, "{name}");
    }
}

#[test]
fn twins_equal_after_two_day0_walks_from_scratch() {
    // Determinism of the twins themselves: the property "each twin equals
    // a fresh day-0 deployment" compares states, so equal walks must give
    // equal states, digests included.
    for dir in examples() {
        let name = dir.file_name().expect("name").to_string();
        let (_, _, a, _) = day0(&name);
        let (_, _, b, _) = day0(&name);
        assert_eq!(a.full_state(), b.full_state(), "{name}");
    }
}

#[test]
fn with_the_user_ids_defined_the_jobs_run_and_in_the_wrong_order_they_do_not() {
    // What the day-0 walk meets once issue 27 defines the user IDs (with
    // OMVS segments) and makes the exported directory: nothing. And the
    // property catches a runbook out of order: the server's job before
    // the authority's finds no signer.
    let files = twin::files_of(&compile(&root().join("examples/mixed-site")));
    let prepared = || {
        let mut w = World::empty_systems();
        for u in ["NFSPRD", "LEDGER"] {
            w.zos("PRD1")
                .racf
                .exec(&format!("ADDUSER {u} OMVS(UID(100) HOME('/u/{u}'))"))
                .expect("adduser");
        }
        w.zos("PRD1")
            .uss
            .run_line("mkdir -p '/ledger/reports'", &|_| None)
            .expect("mkdir");
        w
    };
    let mut world = prepared();
    let ok = walk(&mut world, &files, "APPLY.md");
    assert!(ok.ok(), "{:#?}", ok.failures);
    let state: Vec<String> = world
        .state()
        .iter()
        .map(|o| format!("{} {} {}", o.target, o.kind, o.name))
        .collect();
    for want in [
        "zos/PRD1 certificate NFSPRD/NFSPRD Server",
        "zos/PRD1 keyring NFSPRD/ZCX-NFS-RING",
        "zos/PRD1 ring-connection NFSPRD/ZCX-NFS-RING/CERTAUTH/PRD1 zCX CA",
        "zos/PRD1 ring-connection NFSPRD/ZCX-NFS-RING/NFSPRD/NFSPRD Server",
        "zos/PRD1 profile RDATALIB NFSPRD.ZCX-NFS-RING.LST",
        "zos/PRD1 permit RDATALIB NFSPRD.ZCX-NFS-RING.LST NFSPRD",
        "zos/PRD1 directory /ledger/reports",
    ] {
        assert!(
            state.iter().any(|s| s == want),
            "{want} missing from {state:#?}"
        );
    }
    // The exports were deleted at the end of the runbook.
    assert!(
        !state.iter().any(|s| s.contains(" data-set ")),
        "{state:#?}"
    );

    let mut swapped = files.clone();
    let apply = String::from_utf8(swapped["APPLY.md"].clone()).expect("utf-8");
    let (a, b) = (
        "`zos/PRD1/jcl/1-authority-prd_ca.jcl`",
        "`zos/PRD1/jcl/2-server-NFSPRD.jcl`",
    );
    assert!(apply.contains(a) && apply.contains(b));
    let apply = apply.replace(a, "\u{0}").replace(b, a).replace('\u{0}', b);
    swapped.insert("APPLY.md".into(), apply.into_bytes());
    let mut world = prepared();
    let bad = walk(&mut world, &swapped, "APPLY.md");
    let reasons: Vec<String> = bad
        .failures
        .iter()
        .map(|f| format!("{}: {}", f.step, f.reason))
        .collect();
    assert_eq!(
        reasons.first().map(String::as_str),
        Some("zos/PRD1/jcl/2-server-NFSPRD.jcl: command 1 fails: no certificate labeled 'PRD1 zCX CA' for CERTAUTH"),
        "{reasons:#?}"
    );
}

#[test]
fn a_change_runbook_deletes_on_every_twin() {
    // The walker reads a CHANGE.md as it reads APPLY.md: bundle files and
    // commands, in order. Here a tenant goes: its cluster objects, its
    // array objects, its certificate and ring; a second walk of the same
    // change fails at once (what it deletes is gone).
    let mut base = twin::files_of(&compile(&root().join("examples/px-pure-saw")));
    let (mut world, walk0) = twin::day0(&base);
    assert!(walk0.ok(), "{:#?}", walk0.failures);
    base.insert(
        "CHANGE.md".into(),
        b"# Change\n\n- `kubectl --context k8s2 delete namespace customer2`\n- `kubectl --context k8s2 delete validatingadmissionpolicybinding tenantc-storage-fence-customer2`\n- `kubectl --context k8s2 delete validatingadmissionpolicy tenantc-storage-fence-customer2`\n- `sh pure/fa1/remove-customer2.sh`\n".to_vec(),
    );
    base.insert(
        "pure/fa1/remove-customer2.sh".into(),
        b"#!/usr/bin/env bash\nset -euo pipefail\npurity pureadmin delete 'user2'\npurity purepolicy management-access delete 'pxrole2'\npurity purepod destroy 'customer2::pod'\npurity purepod eradicate 'customer2::pod'\npurity purerealm destroy 'customer2'\npurity purerealm eradicate 'customer2'\n".to_vec(),
    );
    let w1 = walk(&mut world, &base, "CHANGE.md");
    assert!(w1.ok(), "{:#?}", w1.failures);
    let state: Vec<String> = world
        .state()
        .iter()
        .map(|o| format!("{} {} {}", o.target, o.kind, o.name))
        .collect();
    assert!(
        !state
            .iter()
            .any(|s| s.contains("customer2") || s.contains("user2")),
        "{state:#?}"
    );
    assert!(state.iter().any(|s| s == "array/fa1 realm customer1"));
    let w2 = walk(&mut world, &base, "CHANGE.md");
    let steps: Vec<&str> = w2.failures.iter().map(|f| f.step.as_str()).collect();
    assert_eq!(
        steps,
        vec![
            "cluster/k8s2",
            "cluster/k8s2",
            "cluster/k8s2",
            "pure/fa1/remove-customer2.sh:3"
        ],
        "{:#?}",
        w2.failures
    );
}

#[test]
fn inventories_are_read_by_kind_and_name_under_their_target() {
    let v: serde_json::Value = serde_json::from_str(
        r#"{"targets": {"zos/NP8": [{"kind": "racf-user", "name": "NFSTST"}],
            "array/fa1": {"objects": [{"kind": "realm", "name": "customer1", "digest": "x"}]}},
           "flat": [{"target": "cluster/k8s1", "kind": "Namespace", "name": "customer1"}]}"#,
    )
    .expect("json");
    let got: Vec<String> = twin::inventory_objs(&v)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        vec![
            "array/fa1 realm customer1 #x",
            "cluster/k8s1 Namespace customer1",
            "zos/NP8 racf-user NFSTST"
        ]
    );
}

#[test]
fn rollover_adds_beside_a_certificate_authority_and_replaces_a_personal_one() {
    let mut r = racf_with_ca();
    r.exec("RACDCERT ID(NFSPRD) ADDRING(RING)").expect("ring");
    r.exec("RACDCERT ID(NFSPRD) CONNECT(CERTAUTH LABEL('CA') RING(RING))")
        .expect("ca");
    r.exec("RACDCERT CERTAUTH REKEY(LABEL('CA')) WITHLABEL('CA2')")
        .expect("rekey");
    r.exec("RACDCERT CERTAUTH ROLLOVER(LABEL('CA')) NEWLABEL('CA2')")
        .expect("rollover");
    let ring = &r.rings[&("NFSPRD".into(), "RING".into())];
    assert!(
        ring.certs.contains_key(&("CERTAUTH".into(), "CA".into())),
        "the old authority stays"
    );
    assert!(
        ring.certs.contains_key(&("CERTAUTH".into(), "CA2".into())),
        "the new one is added"
    );
}

#[test]
fn nested_exports_are_refused() {
    let mut u = Uss::default();
    let e = u
        .place_exports("NFS", "/hfs/a -access=1.2.3.4\n/hfs/a/b -access=1.2.3.4\n")
        .expect_err("must fail");
    assert!(e.contains("subdirectory"), "{e}");
    u.place_exports("NFS", "/hfs/a -access=1.2.3.4\n/hfs/ab -access=1.2.3.4\n")
        .expect("siblings");
}

#[test]
fn servauth_profiles_in_parentheses_are_one_profile() {
    let mut r = racf_with_ca();
    r.exec("RDEFINE SERVAUTH (EZB.NETACCESS.SYS.TCPIP.ZONE) UACC(NONE)")
        .expect("rdefine");
    r.exec("PERMIT (EZB.NETACCESS.SYS.TCPIP.ZONE) CLASS(SERVAUTH) ID(NFSPRD) ACCESS(READ)")
        .expect("permit");
    assert!(
        r.exec("RDEFINE SERVAUTH EZB.NETACCESS.SYS.TCPIP.ZONE")
            .is_err(),
        "the same profile"
    );
    assert!(
        r.exec("RDEFINE SERVAUTH (A B)").is_err(),
        "several profiles are outside the subset"
    );
}

/// The inventory's objects and the twins' after a day-0 walk, by
/// identity, on the kinds the inventory lists: (only in the inventory,
/// only on the twins).
fn inventory_vs_twins(files: &Files, world: &World) -> (Vec<String>, Vec<String>) {
    // JSON Lines: a line an object (and a header and input digests).
    let text = String::from_utf8_lossy(
        files
            .get("inventory.jsonl")
            .expect("the bundle has inventory.jsonl"),
    )
    .into_owned();
    let inv = serde_json::Value::Array(
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect(),
    );
    let inv = twin::identities(&twin::inventory_objs(&inv));
    let kinds: std::collections::BTreeSet<(String, String)> = inv
        .iter()
        .map(|o| (o.target.clone(), o.kind.clone()))
        .collect();
    let targets: std::collections::BTreeSet<String> =
        inv.iter().map(|o| o.target.clone()).collect();
    let twins: std::collections::BTreeSet<twin::Obj> = twin::identities(&world.state())
        .into_iter()
        .filter(|o| targets.contains(&o.target) && kinds.iter().any(|(_, k)| *k == o.kind))
        .collect();
    (
        inv.difference(&twins).map(ToString::to_string).collect(),
        twins.difference(&inv).map(ToString::to_string).collect(),
    )
}

#[test]
fn day0_twins_hold_what_the_inventory_lists() {
    // px-pure-saw runs clean on empty twins: its arrays and clusters hold
    // exactly the inventory's objects.
    let files = twin::files_of(&compile(&root().join("examples/px-pure-saw")));
    let (world, walk0) = twin::day0(&files);
    assert!(walk0.ok(), "{:#?}", walk0.failures);
    let (missing, extra) = inventory_vs_twins(&files, &world);
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );

    // The z/OS examples, with the user IDs and directories issue 27 will
    // make set up first (known: issue 27), run clean and agree too.
    for (name, sys, users, dir) in [
        (
            "mixed-site",
            "PRD1",
            &["NFSPRD", "LEDGER"][..],
            "/ledger/reports",
        ),
        (
            "zcx-nfs",
            "NP8",
            &["MVSNFS8", "NFSTST"][..],
            "/oc4z/nfs/OCPTSTB/fios-test",
        ),
    ] {
        let files = twin::files_of(&compile(&root().join("examples").join(name)));
        let mut world = World::empty_systems();
        for u in users {
            world
                .zos(sys)
                .racf
                .exec(&format!("ADDUSER {u} OMVS(UID(100) HOME('/u'))"))
                .expect("adduser");
        }
        world
            .zos(sys)
            .uss
            .run_line(&format!("mkdir -p '{dir}'"), &|_| None)
            .expect("mkdir");
        let w = walk(&mut world, &files, "APPLY.md");
        assert!(w.ok(), "{name}: {:#?}", w.failures);
        let (missing, extra) = inventory_vs_twins(&files, &world);
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: missing {missing:#?}\nextra {extra:#?}"
        );
    }
}

/// The analysis of the spec files in `dir` with `edits` (file, from, to;
/// `from` must occur in the file) applied, from a temporary copy.
fn analyze_edited(
    dir: &Utf8PathBuf,
    edits: &[(&str, &str, &str)],
) -> (tempfile::TempDir, tenantc::Analysis) {
    let tmp = tempfile::tempdir().expect("tmp");
    let to = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).expect("utf-8");
    for e in dir.read_dir_utf8().expect("dir") {
        let e = e.expect("entry");
        if e.path().is_file() {
            let mut text = std::fs::read_to_string(e.path()).expect("read");
            for (file, from, to) in edits {
                if *file == e.file_name() {
                    assert!(text.contains(from), "{from} in {file}");
                    text = text.replace(from, to);
                }
            }
            std::fs::write(to.join(e.file_name()), text).expect("write");
        }
    }
    let inputs = tenantc::find_inputs(std::slice::from_ref(&to)).expect("inputs");
    let a = tenantc::analyze(&inputs, &tenantc::Options::default()).expect("analysis");
    assert!(a.diagnostics.is_empty(), "{:#?}", a.diagnostics);
    (tmp, a)
}

/// Plans the change from the bundle `old` (deployed) to the analysis
/// `new`: (the change bundle's files, the new full bundle's files).
fn plan(old: &Files, new: &tenantc::Analysis) -> (Files, Files) {
    let deployed = tempfile::tempdir().expect("tmp");
    std::fs::write(
        deployed.path().join("inventory.jsonl"),
        &old["inventory.jsonl"],
    )
    .expect("write");
    let dep = camino::Utf8Path::from_path(deployed.path()).expect("utf-8");
    let opts = tenantc::Options::default();
    let plan_opts = tenantc::change::PlanOptions {
        today: None,
        renew_within: None,
        // The twins compare with a fresh day 0, which has no directory of
        // a removed volume.
        remove_directories: true,
        eradicate: true,
        full: false,
    };
    let (_, change) = tenantc::plan(new, &opts, dep, &plan_opts).expect("plan");
    let full = tenantc::build_bundle(new, &opts).expect("bundle");
    let (change, full) = (twin::files_of(&change), twin::files_of(&full));
    // CHANGE.md: "its `inventory.jsonl` equals this directory's" (the
    // deployed lines of the tenants not lowered again copied through).
    if change["inventory.jsonl"] != full["inventory.jsonl"] {
        let lines = |f: &Files| -> BTreeSet<String> {
            String::from_utf8_lossy(&f["inventory.jsonl"])
                .lines()
                .map(String::from)
                .collect()
        };
        let (c, f) = (lines(&change), lines(&full));
        panic!(
            "the change bundle's inventory differs from the new bundle's: only in the change: {:#?}; only in the new bundle: {:#?}",
            c.difference(&f).collect::<Vec<_>>(),
            f.difference(&c).collect::<Vec<_>>()
        );
    }
    (change, full)
}

/// Steps of a CHANGE.md no twin models.
fn allowed_unhandled_in_change(step: &str) -> bool {
    let words: Vec<&str> = step.split_whitespace().collect();
    // z/OS console commands (MODIFY, STOP, START, VARY): the operator's.
    let console = matches!(words.first(), Some(&("F" | "P" | "S" | "V"))) && words.len() == 2;
    allowed_unhandled(step)
        || console
        // "the new bundle (`tenantc compile` of the same specs) is the
        // deployed one": bookkeeping, no target system.
        || step == "tenantc compile"
        || step == "inventory.jsonl"
}

/// Property (2) and (3) on one edit of an example: the change bundle's
/// CHANGE.md, walked on the twins of the deployed bundle, runs with no
/// failing command, and leaves the twins equal (digests included) to a
/// fresh day-0 deployment of the edited specs. Returns the objects that
/// differ (`after the change` / `fresh`), for the caller to hold at none.
fn change_vs_fresh_day0(example: &str, edits: &[(&str, &str, &str)]) -> Vec<String> {
    let dir = root().join("examples").join(example);
    let old = twin::files_of(&compile(&dir));
    let (mut world, w0) = twin::day0(&old);
    assert!(w0.ok(), "{example} day 0: {:#?}", w0.failures);
    let (_t, new) = analyze_edited(&dir, edits);
    let (change, full) = plan(&old, &new);
    let w = walk(&mut world, &change, "CHANGE.md");
    assert!(w.ok(), "{example} {edits:?}: {:#?}", w.failures);
    let bad: Vec<&String> = w
        .unhandled
        .iter()
        .filter(|s| !allowed_unhandled_in_change(s))
        .collect();
    assert!(bad.is_empty(), "{example}: steps no twin maps: {bad:#?}");
    let (fresh, wf) = twin::day0(&full);
    assert!(wf.ok(), "{example} fresh day 0: {:#?}", wf.failures);
    let (a, b) = (world.full_state(), fresh.full_state());
    let mut out: Vec<String> = a
        .difference(&b)
        .map(|o| format!("after the change: {o}"))
        .collect();
    out.extend(b.difference(&a).map(|o| format!("fresh: {o}")));
    out
}

#[test]
fn a_planned_change_leaves_the_twins_as_a_fresh_day0_would() {
    // A workload's image changed: the StatefulSet is re-applied.
    assert_eq!(
        change_vs_fresh_day0(
            "px-pure-saw",
            &[("customer2.tenant", "postgres:16.4", "postgres:16.5")]
        ),
        Vec::<String>::new()
    );
    // A realm renamed (its pod destroyed and created in the new realm,
    // the policy scoped to it changed) and a pod added to another tenant.
    // Purity moves no policy to another realm: the plan refuses the
    // changed policy (`tenantc plan` exits 1 and says to rename it), so the
    // policy stays scoped to the old realm; a fresh day 0 scopes it to c2new.
    assert_eq!(
        change_vs_fresh_day0(
            "px-pure-saw",
            &[
                ("customer2.tenant", "realm  = customer2", "realm  = c2new"),
                (
                    "customer1.tenant",
                    "pods   = [\"pod\"]",
                    "pods   = [\"pod\", \"pod2\"]"
                ),
            ],
        ),
        vec![
            "after the change: array/fa1 policy pxrole2 #2a20c44e8e198a8d",
            "fresh: array/fa1 policy pxrole2 #f1d4ba560526a3a5",
        ]
    );
}

/// Walks the day-0 runbooks of bundles rebuilt from another branch's
/// snapshots: `TWIN_SNAPSHOTS=<dir holding snapshots/examples/*> cargo
/// test --test twin walk_snapshots -- --ignored --nocapture`. Prints each
/// example's failures and unhandled steps.
#[test]
#[ignore = "a tool: needs TWIN_SNAPSHOTS"]
fn walk_snapshots() {
    let root = std::env::var_os("TWIN_SNAPSHOTS").expect("TWIN_SNAPSHOTS");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("files.snap").is_file())
        .collect();
    dirs.sort();
    for d in dirs {
        let files = twin::files_from_snapshots(&d);
        let (world, w) = twin::day0(&files);
        eprintln!("== {}: {} steps run", d.display(), w.ran.len());
        for f in &w.failures {
            eprintln!("  FAIL {f}");
        }
        for u in &w.unhandled {
            eprintln!("  unhandled: {u}");
        }
        if files.contains_key("inventory.jsonl") {
            let (missing, extra) = inventory_vs_twins(&files, &world);
            eprintln!("  inventory only: {missing:#?}\n  twins only: {extra:#?}");
        }
    }
}

#[test]
fn an_ikjeft01_step_goes_on_and_later_steps_run() {
    // h27's 0-users job: a tolerant IKJEFT01 step, then an IKJEFT1B one.
    let jcl = "//J JOB\n//ADD EXEC PGM=IKJEFT01,DYNAMNBR=20\n//SYSTSPRT DD SYSOUT=*\n//SYSTSIN  DD *\n  ADDUSER A\n  ADDUSER B\n/*\n//OMVS EXEC PGM=IKJEFT1B,DYNAMNBR=20\n//SYSTSPRT DD SYSOUT=*\n//SYSTSIN  DD *\n  ALTUSER A OMVS(UID(1) HOME('/'))\n/*\n";
    let mut r = Racf::default();
    r.exec("ADDUSER A").expect("a exists already");
    assert_eq!(r.run_job(jcl), Ok(3), "ADDUSER A is tolerated");
    assert!(r.users.contains_key("B"), "the step went on");
    assert_eq!(r.users["A"].uid.as_deref(), Some("1"), "the next step ran");
    assert_eq!(r.tolerated.len(), 1);
    let bad = jcl.replace("ALTUSER A", "ALTUSER NOSUCH");
    assert_eq!(
        r.run_job(&bad).expect_err("must fail").index,
        2,
        "IKJEFT1B still stops"
    );
}

#[test]
fn uss_scripts_call_their_functions_with_parameters() {
    let script = "#!/bin/sh\nset -eu\ndir() {\n  if [ -L \"$1\" ]; then echo \"$1 is a link\" >&2; exit 1; fi\n  mkdir -p \"$1\"\n  chown \"$2\" \"$1\"\n  chmod 700 \"$1\"\n  ls -ld \"$1\"\n}\ndir '/a/b' 'LEDGER'\n";
    let mut u = Uss::default();
    let uid = |n: &str| (n == "LEDGER").then(|| "5".to_string());
    assert_eq!(u.run_script(script, &uid), Ok(2));
    let d = &u.dirs["/a/b"];
    assert_eq!(
        (d.owner.as_deref(), d.mode.as_deref()),
        (Some("LEDGER"), Some("700"))
    );
    let e = u
        .run_script(&script.replace("'LEDGER'", "'NOUID'"), &uid)
        .expect_err("must fail");
    assert!(e.2.contains("no OMVS segment"), "{e:?}");
}

/// Writes a model site's spec files into `dir` (emptied first).
fn write_site(dir: &Utf8PathBuf, model: &twin::sites::Model) {
    let _ = std::fs::remove_dir_all(dir);
    for (path, text) in model.files() {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

fn analyze_site(dir: &Utf8PathBuf) -> tenantc::Analysis {
    let inputs = tenantc::find_inputs(std::slice::from_ref(dir)).expect("inputs");
    tenantc::analyze(&inputs, &tenantc::Options::default()).expect("analysis")
}

/// Properties (1)-(3) of issue 26 over random edit sequences (add, remove,
/// move to the other cluster, rename, renew a client certificate) from a
/// site with no tenant (tests/twin/sites.rs): day 0 on empty twins runs
/// clean; each edit's plan, walked on the twins as deployed, runs clean;
/// after it the twins equal a fresh day 0 of the edited specs, digests
/// included, nothing orphaned and nothing missing. `TENANTC_DAY2_CASES`
/// sequences (default 6) of `TENANTC_DAY2_STEPS` edits (default 6), the
/// first tenant and the last one leaving included.
#[test]
fn random_edit_sequences_leave_the_twins_as_a_fresh_day0_would() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (cases, steps) = (env("TENANTC_DAY2_CASES", 6), env("TENANTC_DAY2_STEPS", 6));
    let mut problems = Vec::new();
    let mut planned = 0;
    for seed in 0..cases {
        let mut rng = twin::sites::Rng::new(seed + 1);
        // From a site with no tenant, and none kept: the first tenant on the
        // server and the last one leaving it are planned (issue 26).
        // `TENANTC_DAY2_ANCHORED=1` keeps two tenants that are never edited
        // (most plans then leave the server's AT-TLS clients alone).
        // Renewals included: the RACF twin replays GENCERT and ROLLOVER
        // (and, in its own tests, REKEY, GENREQ and GENCERT from a request
        // data set).
        let mut model = if std::env::var_os("TENANTC_DAY2_ANCHORED").is_some() {
            twin::sites::Model::anchored()
        } else {
            twin::sites::Model::default()
        };
        model.no_renewals = false;
        let tmp = tempfile::tempdir().expect("tmp");
        let site = Utf8PathBuf::from_path_buf(tmp.path().join("site")).expect("utf-8");
        write_site(&site, &model);
        let a = analyze_site(&site);
        assert!(!a.has_errors(), "seed {seed}: {:#?}", a.diagnostics);
        let mut deployed = twin::files_of(
            &tenantc::build_bundle(&a, &tenantc::Options::default()).expect("bundle"),
        );
        let (mut world, w0) = twin::day0(&deployed);
        if !w0.ok() {
            problems.push(format!("seed {seed} day 0: {:?}", w0.failures));
            continue;
        }
        // A removed array's delete script asks for its address.
        world
            .env
            .insert("PURE_ARRAY".into(), "removed-array".into());
        let mut edits = Vec::new();
        for _ in 0..steps {
            edits.push(model.edit(&mut rng));
            write_site(&site, &model);
            let a = analyze_site(&site);
            assert!(
                !a.has_errors(),
                "seed {seed} {edits:?}: the model wrote {:#?}",
                a.diagnostics
            );
            let (change, full) = plan(&deployed, &a);
            planned += 1;
            let w = walk(&mut world, &change, "CHANGE.md");
            if !w.ok() {
                if std::env::var_os("TWIN_DEBUG").is_some() {
                    eprintln!("{}", String::from_utf8_lossy(&change["CHANGE.md"]));
                }
                problems.push(format!(
                    "seed {seed} {edits:?}: CHANGE.md: {:?}",
                    w.failures
                ));
                break;
            }
            let bad: Vec<&String> = w
                .unhandled
                .iter()
                .filter(|s| !allowed_unhandled_in_change(s))
                .collect();
            if !bad.is_empty() {
                problems.push(format!(
                    "seed {seed} {edits:?}: steps no twin maps: {bad:?}"
                ));
            }
            let (fresh, wf) = twin::day0(&full);
            if !wf.ok() {
                problems.push(format!(
                    "seed {seed} {edits:?}: fresh day 0: {:?}",
                    wf.failures
                ));
                break;
            }
            let (got, want) = (world.full_state(), fresh.full_state());
            if got != want {
                let extra: Vec<String> = got.difference(&want).map(ToString::to_string).collect();
                let missing: Vec<String> = want.difference(&got).map(ToString::to_string).collect();
                problems.push(format!("seed {seed} {edits:?}: after the plan, not in a fresh day 0: {extra:#?}; missing: {missing:#?}"));
                break;
            }
            deployed = full;
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(planned >= cases as usize, "{planned} plans");
}

/// Issue 27: APPLY.md names a cluster's secrets overlay
/// (`kubectl apply -k k8s/<c>/secrets`) only where the bundle writes it:
/// zcx-nfs without its registry references has no generated Secret (and no
/// overlay), the examples' clusters have one.
#[test]
fn apply_md_names_a_secrets_overlay_only_where_it_is_written() {
    let tmp = tempfile::tempdir().expect("tmp");
    let site = Utf8PathBuf::from_path_buf(tmp.path().join("site")).expect("utf-8");
    std::fs::create_dir_all(&site).expect("mkdir");
    let text = std::fs::read_to_string(root().join("examples/zcx-nfs/site.tenant")).expect("read");
    let text: String = text
        .lines()
        .filter(|l| !(l.trim_start().starts_with("registry") && l.contains("= ocp1.my_registry")))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(site.join("site.tenant"), text).expect("write");
    let a = analyze_site(&site);
    assert!(!a.has_errors(), "{:#?}", a.diagnostics);
    let model =
        twin::files_of(&tenantc::build_bundle(&a, &tenantc::Options::default()).expect("bundle"));
    assert!(
        !model.contains_key("k8s/ocp1/secrets/kustomization.yaml"),
        "the case has no overlay"
    );
    let mut named_total = 0;
    let mut bundles = vec![("zcx-nfs without registries".to_string(), model)];
    for dir in examples() {
        let name = dir.file_name().expect("name").to_string();
        bundles.push((name, twin::files_of(&compile(&dir))));
    }
    for (name, files) in &bundles {
        let apply = String::from_utf8_lossy(&files["APPLY.md"]).into_owned();
        let named: BTreeSet<String> = apply
            .split('`')
            .filter_map(|s| s.strip_prefix("kubectl apply -k "))
            .filter(|d| d.ends_with("/secrets"))
            .map(str::to_string)
            .collect();
        let written: BTreeSet<String> = files
            .keys()
            .filter_map(|p| p.strip_suffix("/kustomization.yaml"))
            .filter(|d| d.ends_with("/secrets"))
            .map(str::to_string)
            .collect();
        assert_eq!(named, written, "{name}: overlays named vs written");
        named_total += named.len();
    }
    assert!(named_total > 0, "some example has an overlay");
}

/// Issue 27: the HOME of each user ID job 0-users defines is made on every
/// LPAR the user IDs are defined on, owned by its user, mode 700; a home of
/// `/` (NFSPRD's in mixed-site) is left alone.
#[test]
fn day0_makes_the_home_directories_on_every_lpar() {
    let (failures, _, world, _) = day0("mixed-site");
    assert!(failures.is_empty(), "{failures:#?}");
    for sys in ["PRD1", "PRD2"] {
        let uss = &world.zos[sys].uss;
        let home = uss
            .dirs
            .get("/u/ledger")
            .unwrap_or_else(|| panic!("{sys}: no /u/ledger among {:?}", uss.dirs.keys()));
        assert!(home.named && home.owner.is_some(), "{sys}: {home:?}");
        assert_eq!(home.mode.as_deref(), Some("700"), "{sys}");
        assert!(
            uss.dirs.get("/").is_none_or(|d| d.owner.is_none()),
            "{sys}: / was given away"
        );
    }
}

/// Issue 27: a standby LPAR gets what the server needs there: the
/// VIPABACKUP of the server's dynamic VIPA (named in APPLY.md), and the
/// ring's class (RDATALIB) active and RACLISTed by its own job 0.
#[test]
fn a_standby_lpar_backs_up_the_dvipa_and_activates_the_ring_class() {
    let files = twin::files_of(&compile(&root().join("examples/mixed-site")));
    let text = |p: &str| String::from_utf8_lossy(&files[p]).into_owned();
    let vipa = "zos/PRD2/tcpip/NFSPRD-vipabackup.txt";
    let backup = text(vipa);
    assert!(
        backup.contains("VIPADYNAMIC\n  VIPABACKUP 100 10.20.0.20\nENDVIPADYNAMIC\n"),
        "{backup}"
    );
    assert!(text("APPLY.md").contains(&format!("`{vipa}`")));
    assert!(!files.contains_key("zos/PRD1/tcpip/NFSPRD-vipabackup.txt"));
    let prereq = text("zos/PRD2/jcl/0-prereq-PRD2.jcl");
    assert!(prereq.contains("CLASSACT(RDATALIB)"), "{prereq}");
}

/// Issue 26, property (1) for a server with no tenant: day 0 on empty twins
/// runs clean and leaves them holding exactly what the inventory lists (the
/// server's user ID, authority, certificate, key ring, profiles and AT-TLS
/// rule), so that the first tenant's plan finds them.
#[test]
fn day0_of_a_tenantless_server_deploys_what_the_inventory_lists() {
    let model = twin::sites::Model::default();
    let tmp = tempfile::tempdir().expect("tmp");
    let site = Utf8PathBuf::from_path_buf(tmp.path().join("site")).expect("utf-8");
    write_site(&site, &model);
    let a = analyze_site(&site);
    assert!(!a.has_errors(), "{:#?}", a.diagnostics);
    let files =
        twin::files_of(&tenantc::build_bundle(&a, &tenantc::Options::default()).expect("bundle"));
    let (world, w) = twin::day0(&files);
    assert!(w.ok(), "{:#?}", w.failures);
    let (missing, extra) = inventory_vs_twins(&files, &world);
    assert!(
        missing.is_empty() && extra.is_empty(),
        "inventory only: {missing:#?}\ntwins only: {extra:#?}"
    );
    let apply = String::from_utf8_lossy(&files["APPLY.md"]);
    assert!(
        apply.contains("No tenant is exported by NFS1 yet"),
        "{apply}"
    );
    assert!(!files.contains_key("zos/SYS1/nfs/NFS1.exports"));
}

/// Issue 26, property (2) at its edges: the plan adding the first tenant to
/// a server with none starts the server (after its exports), and the plan
/// removing the last one stops it; each runs clean on the deployed twins and
/// leaves them equal to a fresh day 0 of the edited specs.
#[test]
fn the_first_tenant_of_a_server_and_the_last_one_leaving_are_planned() {
    // On cluster 0 the server's AT-TLS clients stay the same (a site with no
    // NFS tenant lists cluster 0's nodes), so the plans lower only the
    // tenant (the last one leaving must still record the server's objects
    // anew); on cluster 1 they change, and the plans lower everything.
    for cluster in [0, 1] {
        first_and_last_tenant_of_a_server(cluster);
    }
}

fn first_and_last_tenant_of_a_server(cluster: usize) {
    let mut model = twin::sites::Model::default();
    let tmp = tempfile::tempdir().expect("tmp");
    let site = Utf8PathBuf::from_path_buf(tmp.path().join("site")).expect("utf-8");
    write_site(&site, &model);
    let a = analyze_site(&site);
    let mut deployed =
        twin::files_of(&tenantc::build_bundle(&a, &tenantc::Options::default()).expect("bundle"));
    let (mut world, w0) = twin::day0(&deployed);
    assert!(w0.ok(), "day 0: {:#?}", w0.failures);
    let tenant = twin::sites::Tenant {
        id: 7,
        cluster,
        nfs: true,
        pure: false,
        generation: 0,
    };
    for (step, add) in [("add the first", true), ("remove the last", false)] {
        if add {
            model.tenants.insert("t7".into(), tenant.clone());
        } else {
            model.tenants.clear();
        }
        write_site(&site, &model);
        let a = analyze_site(&site);
        assert!(
            !a.has_errors(),
            "cluster {cluster}, {step}: {:#?}",
            a.diagnostics
        );
        let (change, full) = plan(&deployed, &a);
        let md = String::from_utf8_lossy(&change["CHANGE.md"]).into_owned();
        let w = walk(&mut world, &change, "CHANGE.md");
        assert!(w.ok(), "cluster {cluster}, {step}: {:#?}\n{md}", w.failures);
        let console = if add { "`S NFS1`" } else { "`P NFS1`" };
        assert!(
            md.contains(console),
            "cluster {cluster}, {step}: {console} in\n{md}"
        );
        let (fresh, wf) = twin::day0(&full);
        assert!(
            wf.ok(),
            "cluster {cluster}, {step}: fresh day 0: {:#?}",
            wf.failures
        );
        let (got, want) = (world.full_state(), fresh.full_state());
        let extra: Vec<String> = got.difference(&want).map(ToString::to_string).collect();
        let missing: Vec<String> = want.difference(&got).map(ToString::to_string).collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "cluster {cluster}, {step}: not in a fresh day 0: {extra:#?}; missing: {missing:#?}\n{md}"
        );
        deployed = full;
    }
}

/// Every object the compiler writes is one a plan admits when it reads the
/// bundle back as deployed (`bundle::admit`): the rules that refuse a
/// tampered inventory refuse nothing tenantc wrote. Seen to fail with the
/// AT-TLS rule names narrowed to upper case (`MVSNFS8_rule`).
#[test]
fn every_inventory_the_compiler_writes_is_admitted() {
    for name in ["zcx-nfs", "px-pure-saw", "mixed-site"] {
        let b = compile(&root().join("examples").join(name));
        let text = b.inventory.to_jsonl();
        let d = tenantc::bundle::inventory::Deployed::read(text)
            .unwrap_or_else(|why| panic!("{name}: {why}"));
        let inv = d
            .to_inventory()
            .unwrap_or_else(|why| panic!("{name}: {why}"));
        assert_eq!(inv.entries.len(), b.inventory.entries.len(), "{name}");
    }
}

/// A second NFS server on zcx-nfs's NP8, with a tenant of its own: the
/// edits that add it (the server before the cluster, its port set, the
/// tenant at the end).
fn second_server_on_np8() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "site.tenant",
            "\ncluster ocp1 {",
            r#"
port_set nfs9_ports {
  range = 3043..3049
}

cluster ocp1 {"#,
        ),
        (
            "site.tenant",
            "      signed_by = zcx_ca\n    }\n  }\n}\n",
            r#"      signed_by = zcx_ca
    }
  }

  nfs_server MVSNFS9 {
    jobname = MVSNFS9
    user    = MVSNFS9
    uid     = 909
    ports   = nfs9_ports
    keyring = ZCX-NFS9-RING
    clients = [10.1.1.1, 10.1.1.2, 10.1.1.3]

    certificate {
      label     = "NFS9 Server Cert"
      subject   = { CN = "NFS9 Server Cert" }
      signed_by = zcx_ca
    }
  }
}
"#,
        ),
    ]
}

/// The tenant of the second server.
const T9: &str = r#"
tenant t9 {
  cluster   = ocp1
  namespace = "t9"

  nfs {
    server        = NP8.MVSNFS9
    storage_class = "nfs-t9"

    identity {
      user      = NFST9
      uid       = 2009
      label     = "NFST9 Client Cert"
      signed_by = NP8.zcx_ca
      export    = dataset("DNAPH.ZCX.T9.P12DER", format = pkcs12der,
                          password = env("NFST9_P12_PASSWORD"))
    }

    proxy {
      namespace  = "haproxy9"
      cluster_ip = 172.30.226.79
      image      = "my-repo.com/sys-z/my-haproxy-image:tag"
      registry   = ocp1.my_registry
    }

    volume data {
      export = "/hfs/oc4z/nfs/OCPTSTB/t9"
      size   = 1Gi
    }
  }
}
"#;

/// Issue 26's untested case: a server removed from a system that stays,
/// first with its last tenant, then alone. Each plan, walked on the twins of
/// the deployed bundle, runs clean and leaves them as a fresh day 0 of the
/// specs without it: its user ID, certificate, ring, RDATALIB profile,
/// AT-TLS rule and home go, the other server's objects stay untouched.
#[test]
fn a_server_removed_from_a_system_that_stays() {
    let dir = root().join("examples/zcx-nfs");
    let with = second_server_on_np8();
    let tail = "  }\n}\n";
    let text = std::fs::read_to_string(dir.join("site.tenant")).expect("spec");
    assert!(
        text.ends_with(tail),
        "the example ends with the fios tenant"
    );
    let with_tenant = format!("{text}{T9}");
    for (deployed, what) in [
        (with_tenant.as_str(), "the server and its last tenant"),
        (text.as_str(), "the server alone"),
    ] {
        let (_t0, old) = analyze_edited(&dir, &with_replaced(&with, &text, deployed));
        let old = twin::files_of(
            &tenantc::build_bundle(&old, &tenantc::Options::default()).expect("bundle"),
        );
        assert!(
            old.contains_key("zos/NP8/pagent/MVSNFS9.policy"),
            "{what}: deployed"
        );
        let (mut world, w0) = twin::day0(&old);
        assert!(w0.ok(), "{what} day 0: {:#?}", w0.failures);
        let (_t1, new) = analyze_edited(&dir, &[]);
        let (change, full) = plan(&old, &new);
        let md = String::from_utf8_lossy(&change["CHANGE.md"]).into_owned();
        assert!(md.contains("racf-user MVSNFS9"), "{what}: {md}");
        assert!(
            !md.contains("MVSNFS8 "),
            "{what}: the staying server is untouched: {md}"
        );
        let w = walk(&mut world, &change, "CHANGE.md");
        assert!(w.ok(), "{what}: {:#?}", w.failures);
        let (fresh, wf) = twin::day0(&full);
        assert!(wf.ok(), "{what} fresh day 0: {:#?}", wf.failures);
        // The server's attributes and services lines are the site's to
        // retire (CHANGE.md says so): not inventory objects, so no plan
        // removes them, and they are left out of the comparison by name.
        assert!(
            md.contains("retire what the site set up for it"),
            "{what}: {md}"
        );
        let site_owned = |o: &&twin::Obj| {
            let o = o.to_string();
            o.contains("file zos/NP8/nfs/MVSNFS9.attributes")
                || o.contains("file zos/NP8/nfs/MVSNFS9.services")
        };
        let (a, b) = (world.full_state(), fresh.full_state());
        let mut diff: Vec<String> = a
            .difference(&b)
            .filter(|o| !site_owned(o))
            .map(|o| format!("after the change: {o}"))
            .collect();
        diff.extend(b.difference(&a).map(|o| format!("fresh: {o}")));
        assert_eq!(diff, Vec::<String>::new(), "{what}");
    }
}

/// `edits` with the whole file's text `from` replaced by `to` first.
fn with_replaced<'a>(
    edits: &[(&'a str, &'a str, &'a str)],
    from: &'a str,
    to: &'a str,
) -> Vec<(&'a str, &'a str, &'a str)> {
    let mut all = vec![("site.tenant", from, to)];
    all.extend_from_slice(edits);
    all
}
