//! End-to-end mutual TLS on loopback: the generated haproxy.cfg, run by the
//! real haproxy, carries plain TCP from a client to a TLS server that demands
//! a client certificate signed by the authority (a stand-in for the AT-TLS
//! protected z/OS NFS server, `openssl s_server -Verify`). The config is
//! rewritten only in its addresses and file paths. Every port of the range
//! is tried; the server must see the tenant's client certificate and the
//! bytes. A wrong CA file or a missing client certificate must break it, and
//! so must a server presenting a certificate of the same authority with
//! another name (an impostor's, or a tenant's client certificate): the
//! generated `verifyhost` refuses it.
//!
//! Each scenario uses its own pair of loopback addresses (haproxy binds the
//! range on one, the server listens on the other with the same port, as the
//! `server` line has no port), so scenarios can run in parallel. Every wait
//! is bounded and every process is killed when its guard drops.

use crate::common;

use camino::{Utf8Path, Utf8PathBuf};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use common::{Pki, CLIENT_CN, SERVER_HOST};

/// Kills and reaps the process when dropped.
struct Guard {
    child: Child,
    _stdin: Option<ChildStdin>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines of a child's stdout, read on a thread.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = channel();
    let out = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Collects lines until one contains `needle` or `limit` passes.
fn wait_for(rx: &Receiver<String>, needle: &str, limit: Duration, seen: &mut Vec<String>) -> bool {
    let deadline = Instant::now() + limit;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

/// The example's generated haproxy.cfg.
fn generated_cfg() -> String {
    std::env::set_current_dir(common::root()).expect("cd");
    let inputs = tenantc::find_inputs(&["examples/zcx-nfs".into()]).expect("inputs");
    let opts = tenantc::Options::default();
    let a = tenantc::analyze(&inputs, &opts).expect("analysis");
    let b = tenantc::build_bundle(&a, &opts).expect("bundle");
    String::from_utf8(b.files["k8s/ocp1/haproxy/haproxy.cfg"].bytes.clone()).expect("text")
}

/// Runs haproxy with `cfg` and, for each port, a TLS server; returns for
/// each port whether the bytes arrived and whether the server saw the
/// tenant's client certificate.
#[allow(clippy::too_many_arguments)]
fn exchange(
    server_cert: &str,
    haproxy: &Utf8Path,
    openssl: &Utf8Path,
    pki: &Pki,
    cfg: &str,
    front: &str,
    back: &str,
    ports: &[u16],
) -> Vec<(u16, bool, bool)> {
    let cfg_path = pki.dir.join(format!("haproxy-{front}.cfg"));
    std::fs::write(&cfg_path, cfg).expect("write cfg");
    let mut hp = Command::new(haproxy)
        .args(["-f", cfg_path.as_str(), "-db"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("haproxy starts");
    let started = Instant::now();
    let _hp_guard = {
        // Ready when the first port accepts connections.
        let addr: SocketAddr = format!("{front}:{}", ports[0]).parse().expect("addr");
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "haproxy did not start"
            );
            if let Ok(Some(status)) = hp.try_wait() {
                panic!("haproxy exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Guard {
            child: hp,
            _stdin: None,
        }
    };
    let mut results = Vec::new();
    for &port in ports {
        let mut server = Command::new(openssl)
            .args([
                "s_server",
                "-accept",
                &format!("{back}:{port}"),
                "-cert",
                &format!("{server_cert}.crt"),
                "-key",
                &format!("{server_cert}.key"),
                "-CAfile",
                "cert-auth.pem",
                "-Verify",
                "1",
                "-verify_return_error",
                "-naccept",
                "1",
            ])
            .current_dir(&pki.dir)
            .stdin(Stdio::piped()) // kept open: s_server ends a connection at EOF on stdin
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("s_server starts");
        let rx = lines_of(&mut server);
        let stdin = server.stdin.take();
        let _server = Guard {
            child: server,
            _stdin: stdin,
        };
        let mut seen = Vec::new();
        assert!(
            wait_for(&rx, "ACCEPT", Duration::from_secs(10), &mut seen),
            "s_server did not start: {seen:?}"
        );
        let marker = format!("tenantc-through-port-{port}");
        let mut client = TcpStream::connect_timeout(
            &format!("{front}:{port}").parse().expect("addr"),
            Duration::from_secs(5),
        )
        .expect("haproxy accepts on every port of the range");
        client
            .write_all(format!("{marker}\n").as_bytes())
            .expect("send");
        let arrived = wait_for(&rx, &marker, Duration::from_secs(5), &mut seen);
        let subject = seen
            .iter()
            .any(|l| l.starts_with("subject=") && l.contains(CLIENT_CN));
        results.push((port, arrived, subject));
    }
    results
}

fn setup() -> Option<(Utf8PathBuf, Utf8PathBuf, tempfile::TempDir, Pki)> {
    let (haproxy, openssl) = (
        common::require_tool("haproxy")?,
        common::require_tool("openssl")?,
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).expect("utf-8");
    let pki = Pki::new(&openssl, &dir);
    Some((haproxy, openssl, tmp, pki))
}

/// Only addresses and file paths change.
fn rewrite(cfg: &str, pki: &Pki, front: &str, back: &str) -> String {
    cfg.replace("/var/lib/haproxy/", &format!("{}/", pki.dir))
        .replace("bind *:", &format!("bind {front}:"))
        .replace(
            "server nfsServer 10.1.1.9 ",
            &format!("server nfsServer {back} "),
        )
}

#[test]
fn every_port_carries_bytes_with_the_tenants_client_certificate() {
    let Some((haproxy, openssl, _tmp, pki)) = setup() else {
        return;
    };
    let cfg = generated_cfg();
    assert!(
        cfg.contains("bind *:2043-2049") && cfg.contains("server nfsServer 10.1.1.9 "),
        "{cfg}"
    );
    let ports: Vec<u16> = (2043..=2049).collect();
    let results = exchange(
        "server",
        &haproxy,
        &openssl,
        &pki,
        &rewrite(&cfg, &pki, "127.0.0.2", "127.0.0.3"),
        "127.0.0.2",
        "127.0.0.3",
        &ports,
    );
    for (port, arrived, subject) in results {
        assert!(
            arrived,
            "port {port}: the bytes did not reach the TLS server"
        );
        assert!(
            subject,
            "port {port}: the server did not see the client certificate {CLIENT_CN}"
        );
    }
}

#[test]
fn a_wrong_ca_file_breaks_the_connection() {
    let Some((haproxy, openssl, _tmp, pki)) = setup() else {
        return;
    };
    let cfg = rewrite(
        &generated_cfg_checks_the_name(),
        &pki,
        "127.0.0.4",
        "127.0.0.5",
    )
    .replace("cert-auth.pem", "other-ca.pem");
    let results = exchange(
        "server",
        &haproxy,
        &openssl,
        &pki,
        &cfg,
        "127.0.0.4",
        "127.0.0.5",
        &[2044],
    );
    assert!(
        !results[0].1,
        "haproxy must refuse a server its ca-file does not vouch for"
    );
}

#[test]
fn a_missing_client_certificate_breaks_the_connection() {
    let Some((haproxy, openssl, _tmp, pki)) = setup() else {
        return;
    };
    let cfg = rewrite(
        &generated_cfg_checks_the_name(),
        &pki,
        "127.0.0.6",
        "127.0.0.7",
    );
    let without_crt = cfg.replace(&format!(" crt {}/client-cert.pem", pki.dir), "");
    assert_ne!(cfg, without_crt);
    let results = exchange(
        "server",
        &haproxy,
        &openssl,
        &pki,
        &without_crt,
        "127.0.0.6",
        "127.0.0.7",
        &[2047],
    );
    assert!(
        !results[0].1,
        "the server must refuse a client without a certificate"
    );
}

/// The server line names the certificate's ALTNAME DOMAIN.
fn generated_cfg_checks_the_name() -> String {
    let cfg = generated_cfg();
    assert!(
        cfg.lines()
            .any(|l| l.trim().starts_with("server nfsServer ")
                && l.trim_end()
                    .ends_with(&format!(" verifyhost {SERVER_HOST}"))),
        "no verifyhost {SERVER_HOST}: {cfg}"
    );
    cfg
}

#[test]
fn a_server_of_the_same_authority_with_another_name_is_refused() {
    let Some((haproxy, openssl, _tmp, pki)) = setup() else {
        return;
    };
    let cfg = rewrite(
        &generated_cfg_checks_the_name(),
        &pki,
        "127.0.0.8",
        "127.0.0.9",
    );
    for (i, (cert, port)) in [("impostor", 2045), ("client", 2046)]
        .into_iter()
        .enumerate()
    {
        let results = exchange(
            cert,
            &haproxy,
            &openssl,
            &pki,
            &cfg,
            "127.0.0.8",
            "127.0.0.9",
            &[port],
        );
        assert!(
            !results[0].1,
            "case {i}: haproxy must refuse a server presenting the {cert} certificate of the same authority"
        );
    }
    // The real server still passes with the same configuration.
    let results = exchange(
        "server",
        &haproxy,
        &openssl,
        &pki,
        &cfg,
        "127.0.0.8",
        "127.0.0.9",
        &[2048],
    );
    assert!(
        results[0].1 && results[0].2,
        "the real server must be accepted"
    );
}
