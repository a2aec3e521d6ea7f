//! A client of `tenantc lsp` for the tests: the real binary, JSON-RPC
//! messages with Content-Length framing over its stdin and stdout, every wait
//! bounded.

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(20);

/// A running server; killed when dropped.
pub struct Lsp {
    pub child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Value>,
    /// Messages received and not yet taken, oldest first.
    pub pending: VecDeque<Value>,
    next_id: i64,
    _dir: Option<tempfile::TempDir>,
    pub root: Utf8PathBuf,
}

impl Drop for Lsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn uri(path: &Utf8Path) -> String {
    format!("file://{}", tenantc::source::uri_path(path.as_str()))
}

/// A copy of an example directory in a fresh temporary directory.
pub fn example(name: &str) -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Utf8Path::from_path(dir.path()).expect("utf-8").join(name);
    std::fs::create_dir_all(&root).expect("mkdir");
    for f in super::entries(&format!("examples/{name}"), |p| p.is_file()) {
        std::fs::copy(&f, root.join(f.file_name().expect("name"))).expect("copy");
    }
    (dir, root)
}

/// `tenantc lsp` with piped stdin and stdout, not yet initialized.
pub fn spawn() -> Child {
    spawn_logging(None)
}

/// [`spawn`], with the server's log (and its timings) written to `log`.
fn spawn_logging(log: Option<&Utf8Path>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tenantc"));
    cmd.arg("lsp").stdin(Stdio::piped()).stdout(Stdio::piped());
    match log {
        Some(p) => {
            cmd.env("TENANTC_TIMINGS", "1")
                .stderr(std::fs::File::create(p).expect("log file"));
        }
        None => {
            cmd.stderr(Stdio::null());
        }
    }
    cmd.spawn().expect("tenantc lsp starts")
}

impl Lsp {
    /// Starts the server on `root` and initializes it.
    pub fn start(dir: Option<tempfile::TempDir>, root: &Utf8Path) -> Lsp {
        Lsp::start_logging(dir, root, None)
    }

    /// [`Lsp::start`], with the server's log written to `log`.
    pub fn start_logging(
        dir: Option<tempfile::TempDir>,
        root: &Utf8Path,
        log: Option<&Utf8Path>,
    ) -> Lsp {
        let mut child = spawn_logging(log);
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length:") {
                        len = v.trim().parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("Content-Length")];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let v: Value = serde_json::from_slice(&body).expect("the server sends JSON");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let mut lsp = Lsp {
            child,
            stdin,
            rx,
            pending: VecDeque::new(),
            next_id: 0,
            _dir: dir,
            root: root.to_path_buf(),
        };
        let init = lsp.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "workspaceFolders": [{ "uri": uri(root), "name": "site" }],
                "capabilities": {},
            }),
        );
        assert!(init["result"]["capabilities"].is_object(), "{init}");
        lsp.notify("initialized", json!({}));
        lsp
    }

    pub fn example(name: &str) -> Lsp {
        let (dir, root) = example(name);
        Lsp::start(Some(dir), &root)
    }

    /// The server's process id (for its memory in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write to the server");
        self.stdin.flush().expect("flush");
    }

    pub fn send(&mut self, mut msg: Value) {
        msg["jsonrpc"] = json!("2.0");
        let body = msg.to_string();
        let framed = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.write_raw(framed.as_bytes());
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "method": method, "params": params }));
    }

    /// The next message that satisfies `want`; others are kept for later.
    pub fn wait_for(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&want) {
            return self.pending.remove(i).expect("present");
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) if want(&v) => return v,
                Ok(v) => self.pending.push_back(v),
                Err(_) => panic!(
                    "timed out waiting for {what}; received meanwhile: {:?}",
                    self.pending
                ),
            }
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "id": id, "method": method, "params": params }));
        self.wait_for(method, |v| {
            v["id"] == json!(id) && v.get("method").is_none()
        })
    }

    /// Asks for every workspace symbol and returns the answer with every
    /// message received before it: the server checks the changes sent before
    /// a request and publishes what changed before answering it.
    pub fn sync(&mut self) -> (Value, Vec<Value>) {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "id": id, "method": "workspace/symbol", "params": { "query": "" } }));
        let mut before: Vec<Value> = self.pending.drain(..).collect();
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) if v["id"] == json!(id) && v.get("method").is_none() => {
                    assert!(v.get("error").is_none(), "workspace/symbol: {v}");
                    return (v["result"].clone(), before);
                }
                Ok(v) => before.push(v),
                Err(_) => panic!("timed out waiting for workspace/symbol; received: {before:?}"),
            }
        }
    }

    /// The result of a request that must succeed.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    pub fn path(&self, name: &str) -> Utf8PathBuf {
        self.root.join(name)
    }

    pub fn open(&mut self, name: &str, text: &str) -> String {
        let u = uri(&self.path(name));
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": u, "languageId": "tenant", "version": 1, "text": text } }),
        );
        u
    }

    /// Replaces a document's whole text.
    pub fn change(&mut self, u: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// The next diagnostics published for `u` that satisfy `want`.
    pub fn diagnostics(&mut self, u: &str, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let u = u.to_string();
        let v = self.wait_for(&format!("diagnostics for {u}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == json!(u)
                && want(m["params"]["diagnostics"].as_array().map_or(&[], |a| a))
        });
        v["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).expect("read example")
    }
}
