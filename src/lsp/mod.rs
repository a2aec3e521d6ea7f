//! `tenantc lsp`: a language server (LSP 3.17 over stdio) for editors.
//!
//! It is one more consumer of the pipeline, like [`crate::cli`]: every answer
//! comes from the compiler's own parser, resolver, schema and checks. The
//! workspace is the `*.tenant` files under each workspace folder (one site
//! per folder, as `tenantc check DIR`), with open documents read from the
//! editor's buffers through [`crate::Options::overlay`].
//!
//! One thread does the work, in message order; two more move bytes. Changes
//! that arrive together are applied together and checked once, so a burst
//! of keystrokes costs one re-check. An edit to a file of tenants is checked
//! on a slice of the site (the infrastructure, the file and the files it
//! shares names or check keys with, [`slice`]) when that gives the whole
//! site's answer for it, and the file's requests are answered from that
//! slice; the whole site is analysed once typing pauses ([`DEBOUNCE`]) and
//! before a workspace-wide answer ([`WORKSPACE_WIDE`]). Requests on a file that no longer
//! parses are answered from the last analysis in which it did, with
//! positions mapped across the edit ([`text::map_offset`]); one that has not
//! parsed since it was opened, from what recovery made of it (the blocks it
//! leaves open closed at its end). Completion reads the cursor's context
//! from the text alone ([`context`]).
//!
//! Nothing is printed to stdout but protocol messages; logs go to stderr.

pub mod context;
mod features;
mod hints;
mod slice;
pub mod text;
mod tokens;

use crate::diagnostics::Severity;
use crate::source::{FileId, Span};
use crate::{Analysis, Options};
use camino::{Utf8Path, Utf8PathBuf};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lt;
use serde_json::Value;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Write};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime};
use text::LineIndex;

/// Logs a line to stderr (stdout carries the protocol).
macro_rules! log {
    ($($t:tt)*) => {
        eprintln!("tenantc lsp: {}", format_args!($($t)*))
    };
}
pub(crate) use log;

/// Notifications that change the texts an analysis reads.
const CHANGES: [&str; 5] = [
    "textDocument/didChange",
    "textDocument/didOpen",
    "textDocument/didClose",
    "textDocument/didSave",
    "workspace/didChangeWatchedFiles",
];

/// Largest message body accepted (a document of this size is refused).
const MAX_BODY: usize = 256 << 20;

/// Serves LSP on stdin and stdout until `exit`. Returns the process exit
/// code: 0 after `shutdown` and `exit`, 1 when the client goes away first.
pub fn run(stdlib: Option<Utf8PathBuf>) -> u8 {
    let (in_tx, in_rx) = mpsc::channel::<Incoming>();
    let generation = Arc::new(AtomicU64::new(0));
    let bump = generation.clone();
    let (out_tx, out_rx) = mpsc::channel::<String>();
    std::thread::Builder::new()
        .name("lsp-reader".into())
        .spawn(move || read_loop(std::io::stdin().lock(), in_tx, &bump))
        .map_err(|e| log!("cannot start the reader: {e}"))
        .ok();
    let writer = std::thread::Builder::new()
        .name("lsp-writer".into())
        .spawn(move || {
            let mut out = std::io::stdout().lock();
            for body in out_rx {
                let framed = format!("Content-Length: {}\r\n\r\n{body}", body.len());
                if out
                    .write_all(framed.as_bytes())
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    break;
                }
            }
        })
        .ok();
    let mut server = Server::new(stdlib, out_tx);
    server.generation = generation;
    let code = server.main_loop(&in_rx);
    drop(server);
    if let Some(w) = writer {
        let _ = w.join();
    }
    code
}

/// What the reader hands the main loop.
enum Incoming {
    Msg(Message),
    /// A body that is not a JSON-RPC message; answered with this error.
    Invalid(Value, ErrorCode, String),
}

/// The longest header line kept (`Content-Length: ...`, `Content-Type: ...`).
const MAX_HEADER_LINE: usize = 8 << 10;

/// Reads past the rest of a line without keeping it; false at the end of
/// the stream.
fn skip_line(input: &mut impl BufRead) -> bool {
    loop {
        let (done, n) = match input.fill_buf() {
            Ok([]) | Err(_) => return false,
            Ok(buf) => match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (true, i + 1),
                None => (false, buf.len()),
            },
        };
        input.consume(n);
        if done {
            return true;
        }
    }
}

/// Reads `Content-Length` framed messages. A malformed header is skipped up
/// to the next blank line, a body that is not JSON-RPC is reported to the
/// client, so no input stops the server short of the stream closing.
fn read_loop(mut input: impl BufRead, tx: mpsc::Sender<Incoming>, generation: &AtomicU64) {
    const HEADER: &str = "content-length:";
    loop {
        // `Some(None)`: a Content-Length header whose value is unusable.
        let mut length: Option<Option<usize>> = None;
        let mut line = Vec::new();
        loop {
            line.clear();
            // A header line is bounded: a peer sending bytes without a
            // newline must not make the server hold them all.
            match std::io::Read::take(&mut input, MAX_HEADER_LINE as u64)
                .read_until(b'\n', &mut line)
            {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if !line.ends_with(b"\n") && line.len() >= MAX_HEADER_LINE {
                log!("ignoring a header line longer than {MAX_HEADER_LINE} bytes");
                if !skip_line(&mut input) {
                    return;
                }
                continue;
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                if length.is_some() {
                    break;
                }
                continue;
            }
            // Found anywhere on the line: after a message whose length was
            // unusable, its body runs into the next header, and that header
            // is where reading resumes.
            match text.to_ascii_lowercase().find(HEADER) {
                Some(at) => length = Some(text[at + HEADER.len()..].trim().parse().ok()),
                None if text.contains(':') => {} // another header (Content-Type)
                None => log!("ignoring a malformed header line"),
            }
        }
        let Some(length) = length.flatten() else {
            log!("ignoring a message without a usable Content-Length");
            continue;
        };
        if length > MAX_BODY {
            log!("ignoring a message of {length} bytes (at most {MAX_BODY})");
            let mut rest = std::io::Read::take(&mut input, length as u64);
            if std::io::copy(&mut rest, &mut std::io::sink()).is_err() {
                return;
            }
            continue;
        }
        let mut body = vec![0u8; length];
        if input.read_exact(&mut body).is_err() {
            return;
        }
        let incoming = match serde_json::from_slice::<Value>(&body) {
            Err(e) => {
                Incoming::Invalid(Value::Null, ErrorCode::ParseError, format!("not JSON: {e}"))
            }
            Ok(v) => {
                let id = v.get("id").cloned().unwrap_or(Value::Null);
                // An id lsp-server cannot hold (1.5, 2^40) would make the
                // request parse as a notification and go unanswered.
                let unusable_id = !id.is_null() && request_id(&id).is_none();
                match serde_json::from_value::<Message>(v) {
                    Ok(_) if unusable_id => Incoming::Invalid(
                        id,
                        ErrorCode::InvalidRequest,
                        "a request id must be a string or an integer of at most 32 bits".into(),
                    ),
                    Ok(m) => Incoming::Msg(m),
                    Err(e) => Incoming::Invalid(
                        id,
                        ErrorCode::InvalidRequest,
                        format!("not a JSON-RPC message: {e}"),
                    ),
                }
            }
        };
        let exit =
            matches!(&incoming, Incoming::Msg(Message::Notification(n)) if n.method == "exit");
        // A change to what is analyzed makes a running analysis stale
        // before the main loop even sees the message.
        if matches!(&incoming, Incoming::Msg(Message::Notification(n)) if CHANGES.contains(&n.method.as_str()))
        {
            generation.fetch_add(1, Ordering::SeqCst);
        }
        if tx.send(incoming).is_err() || exit {
            return;
        }
    }
}

/// An analysis with what the server needs to answer from it.
pub(crate) struct Snapshot {
    pub analysis: Analysis,
    /// The absolute, normalized path of each file (`None` for the embedded stdlib).
    pub paths: Vec<Option<Utf8PathBuf>>,
    pub by_path: HashMap<Utf8PathBuf, FileId>,
    lines: Vec<OnceCell<LineIndex>>,
}

impl Snapshot {
    fn new(analysis: Analysis) -> Snapshot {
        let paths: Vec<Option<Utf8PathBuf>> = analysis
            .sources
            .files()
            .map(|(_, f)| f.path.as_ref().map(|p| absolute(p)))
            .collect();
        let by_path = paths
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((p.clone()?, FileId(i as u32))))
            .collect();
        let n = paths.len();
        Snapshot {
            analysis,
            paths,
            by_path,
            lines: (0..n).map(|_| OnceCell::new()).collect(),
        }
    }

    pub fn text(&self, f: FileId) -> &str {
        &self.analysis.sources.get(f).text
    }

    pub fn lines(&self, f: FileId) -> &LineIndex {
        self.lines[f.0 as usize].get_or_init(|| LineIndex::new(self.text(f)))
    }

    /// The file's syntax tree, as the analysis parsed it.
    pub fn tree(&self, f: FileId) -> Option<&crate::syntax::ast::SyntaxFile> {
        self.analysis.trees.get(f.0 as usize)?.as_deref()
    }

    pub fn range(&self, span: Span) -> lt::Range {
        self.lines(span.file)
            .range(self.text(span.file), span.start as usize, span.end as usize)
    }

    /// Whether the file parsed whole in this analysis (as its parse said,
    /// [`Analysis::parsed`], not inferred from a diagnostic's code).
    fn parsed(&self, f: FileId) -> bool {
        self.analysis.parsed.binary_search(&f).is_ok()
    }
}

/// A path made absolute against the working directory, without `.` or `..`.
fn absolute(p: &Utf8Path) -> Utf8PathBuf {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .ok()
            .and_then(|d| Utf8PathBuf::from_path_buf(d).ok())
            .unwrap_or_default()
            .join(p)
    };
    crate::resolve::load::normalize(&p)
}

/// An open document.
struct Doc {
    uri: lt::Uri,
    version: i32,
    text: String,
    /// The text and analysis of the last check in which this document parsed.
    good: Option<(Arc<str>, Rc<Snapshot>)>,
    /// The edits made since that text, in order.
    edits: Vec<text::Edit>,
}

impl Doc {
    /// Maps an offset of an analyzed text `then` to the current text: through
    /// the edits since the good text, else by comparing the two.
    fn forward(&self, then: &str, offset: usize) -> Option<usize> {
        match &self.good {
            Some((good, _)) if **good == *then => text::map_forward(&self.edits, offset),
            _ => text::map_offset(then, &self.text, offset),
        }
    }
}

/// One site: a workspace folder, or the directory of a file opened outside
/// every folder.
struct Site {
    root: Utf8PathBuf,
    folder: bool,
    files: Vec<Utf8PathBuf>,
    /// The identity of each file of `files` ([`crate::resolve::load::Walked`]).
    identities: std::collections::HashSet<std::path::PathBuf>,
    scanned: Option<Instant>,
    snap: Option<Rc<Snapshot>>,
    /// What was last published per file, to send only what changed.
    published: HashMap<Utf8PathBuf, Value>,
    /// Trees of unchanged files, reused by the next check.
    cache: Arc<crate::resolve::load::ParseCache>,
    /// What the files share, from the last whole analysis and the slices
    /// since ([`slice`]); `None` until the first whole analysis.
    basis: Option<slice::Basis>,
    /// Trees for slices (whose files have other ids than in the site).
    slice_cache: Arc<crate::resolve::load::ParseCache>,
    /// An edit was checked on a slice only: the whole site is analysed once
    /// typing pauses ([`DEBOUNCE`]), or before a workspace-wide answer.
    stale: bool,
    /// The inputs and texts of the last check, updated in place for edits
    /// to open documents (a site of 10,000 files is not listed again on
    /// every keystroke).
    gathered: Option<Gathered>,
    /// The last file checked on a slice and that analysis: the file's
    /// requests are answered from it while the site is [`Site::stale`].
    sliced: Option<(Utf8PathBuf, Rc<Snapshot>)>,
}

/// A site's inputs, in order, and the texts to read them from.
#[derive(Clone)]
pub(crate) struct Gathered {
    pub readable: Arc<Vec<Utf8PathBuf>>,
    /// The text of each of `readable`.
    pub texts: Arc<Vec<Arc<str>>>,
    pub overlay: Arc<crate::resolve::load::Overlay>,
    /// Changes whenever `readable` does.
    pub list: u64,
}

impl Site {
    fn new(root: Utf8PathBuf, folder: bool) -> Site {
        Site {
            root,
            folder,
            files: Vec::new(),
            identities: Default::default(),
            scanned: None,
            snap: None,
            published: HashMap::new(),
            cache: Arc::default(),
            basis: None,
            slice_cache: Arc::default(),
            stale: false,
            gathered: None,
            sliced: None,
        }
    }
}

/// How long typing must pause before a site checked on slices only is
/// analysed whole (for the other files' diagnostics and the index).
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Requests answered from the whole site's analysis: they wait for it when
/// the last edits were checked on slices only.
const WORKSPACE_WIDE: [&str; 4] = [
    "workspace/symbol",
    "textDocument/references",
    "textDocument/prepareRename",
    "textDocument/rename",
];

pub(crate) struct Server {
    out: mpsc::Sender<String>,
    opts: Options,
    initialized: bool,
    shutdown: bool,
    sites: Vec<Site>,
    docs: BTreeMap<Utf8PathBuf, Doc>,
    /// Texts of workspace files read from disk, with their modification time.
    disk: HashMap<Utf8PathBuf, (Option<SystemTime>, Arc<str>)>,
    /// Documents changed since the last check (always republished).
    touched: BTreeSet<Utf8PathBuf>,
    dirty: bool,
    cancelled: BTreeSet<RequestId>,
    next_request: i32,
    watch_files: bool,
    /// A thread that frees replaced analyses, so that freeing a large
    /// site's IR does not delay the next answer.
    graveyard: mpsc::Sender<Snapshot>,
    /// Bumped by the reader on every change ([`CHANGES`]); an analysis
    /// started before the latest change stops early ([`crate::Cancel`]).
    generation: Arc<AtomicU64>,
    /// The changes the main loop has taken in (it lags `generation` while
    /// one waits in the channel: an analysis started then is already stale).
    applied: u64,
}

/// A request that cannot be answered, with the JSON-RPC error to send.
pub(crate) struct Failure(pub ErrorCode, pub String);

type Answer = Result<Value, Failure>;

impl Server {
    fn new(stdlib: Option<Utf8PathBuf>, out: mpsc::Sender<String>) -> Server {
        Server {
            out,
            opts: Options {
                stdlib_dir: stdlib,
                index: true,
                ..Options::default()
            },
            initialized: false,
            shutdown: false,
            sites: Vec::new(),
            docs: BTreeMap::new(),
            disk: HashMap::new(),
            touched: BTreeSet::new(),
            dirty: false,
            cancelled: BTreeSet::new(),
            next_request: 0,
            watch_files: false,
            graveyard: {
                let (tx, rx) = mpsc::channel::<Snapshot>();
                let _ = std::thread::Builder::new()
                    .name("lsp-free".into())
                    .spawn(move || rx.into_iter().for_each(drop));
                tx
            },
            generation: Arc::new(AtomicU64::new(0)),
            applied: 0,
        }
    }

    fn send(&self, msg: Message) {
        let mut v = serde_json::to_value(&msg).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("jsonrpc".into(), Value::from("2.0"));
        }
        let _ = self.out.send(v.to_string());
    }

    fn notify(&self, method: &str, params: impl serde::Serialize) {
        self.send(Message::Notification(Notification::new(
            method.to_string(),
            params,
        )));
    }

    fn reply(&self, id: RequestId, answer: Answer) {
        let resp = match answer {
            Ok(v) => Response::new_ok(id, v),
            Err(Failure(code, message)) => Response::new_err(id, code as i32, message),
        };
        self.send(Message::Response(resp));
    }

    fn main_loop(&mut self, rx: &mpsc::Receiver<Incoming>) -> u8 {
        loop {
            let first = if self.sites.iter().any(|s| s.stale) {
                match rx.recv_timeout(DEBOUNCE) {
                    Ok(m) => Ok(m),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.refresh();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => Err(()),
                }
            } else {
                rx.recv().map_err(|_| ())
            };
            let Ok(first) = first else {
                log!("the client closed the connection without `exit`");
                return 1;
            };
            // Everything that has arrived is handled before the next check.
            let mut batch = vec![first];
            while let Ok(m) = rx.try_recv() {
                batch.push(m);
            }
            for m in &batch {
                if let Incoming::Msg(Message::Notification(n)) = m {
                    if n.method == "$/cancelRequest" {
                        if let Some(id) = n.params.get("id").and_then(request_id) {
                            self.cancelled.insert(id);
                        }
                    }
                }
            }
            for m in batch {
                if matches!(&m, Incoming::Msg(Message::Notification(n)) if CHANGES.contains(&n.method.as_str()))
                {
                    self.applied += 1;
                }
                match m {
                    Incoming::Invalid(id, code, message) => {
                        let v = serde_json::json!({
                            "jsonrpc": "2.0",
                            "id": id,
                            "error": { "code": code as i32, "message": message },
                        });
                        let _ = self.out.send(v.to_string());
                    }
                    Incoming::Msg(Message::Notification(n)) if n.method == "exit" => {
                        return if self.shutdown { 0 } else { 1 };
                    }
                    Incoming::Msg(m) => self.guarded(m),
                }
            }
            self.cancelled.clear();
            if self.dirty {
                self.check_and_publish();
            }
        }
    }

    /// Handles one message; a panic is logged and answered, never fatal.
    fn guarded(&mut self, m: Message) {
        let id = match &m {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        let method = match &m {
            Message::Request(r) => r.method.clone(),
            Message::Notification(n) => n.method.clone(),
            Message::Response(_) => String::new(),
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(m)));
        if result.is_err() {
            log!("internal error while handling {method}; continuing");
            if let Some(id) = id {
                self.reply(
                    id,
                    Err(Failure(
                        ErrorCode::InternalError,
                        format!("internal error while handling {method}"),
                    )),
                );
            }
        }
    }

    fn handle(&mut self, m: Message) {
        match m {
            Message::Request(r) => self.request(r),
            Message::Notification(n) => self.notification(n),
            Message::Response(_) => {}
        }
    }

    fn request(&mut self, r: Request) {
        if self.cancelled.remove(&r.id) {
            return self.reply(
                r.id,
                Err(Failure(ErrorCode::RequestCanceled, "cancelled".into())),
            );
        }
        if r.method == "initialize" {
            let answer = if self.initialized {
                Err(Failure(
                    ErrorCode::InvalidRequest,
                    "initialize was already sent".into(),
                ))
            } else {
                self.initialize(r.params)
            };
            return self.reply(r.id, answer);
        }
        if !self.initialized {
            return self.reply(
                r.id,
                Err(Failure(
                    ErrorCode::ServerNotInitialized,
                    "initialize first".into(),
                )),
            );
        }
        if self.shutdown {
            return self.reply(
                r.id,
                Err(Failure(
                    ErrorCode::InvalidRequest,
                    "the server is shutting down".into(),
                )),
            );
        }
        if r.method == "shutdown" {
            self.shutdown = true;
            return self.reply(r.id, Ok(Value::Null));
        }
        // Answers reflect every change received before the request.
        if self.dirty {
            self.check_and_publish();
        }
        if WORKSPACE_WIDE.contains(&r.method.as_str()) {
            self.refresh();
        }
        let answer = features::dispatch(self, &r.method, r.params);
        self.reply(r.id, answer);
    }

    fn initialize(&mut self, params: Value) -> Answer {
        let params: lt::InitializeParams = serde_json::from_value(params)
            .map_err(|e| Failure(ErrorCode::InvalidParams, e.to_string()))?;
        let mut roots: Vec<Utf8PathBuf> = Vec::new();
        if let Some(folders) = &params.workspace_folders {
            roots.extend(folders.iter().filter_map(|f| text::uri_to_path(&f.uri)));
        }
        #[allow(deprecated)] // rootUri and rootPath: older clients send only these
        if roots.is_empty() {
            if let Some(uri) = &params.root_uri {
                roots.extend(text::uri_to_path(uri));
            } else if let Some(p) = &params.root_path {
                roots.push(absolute(Utf8Path::new(p)));
            }
        }
        for r in roots {
            self.add_folder(r);
        }
        self.watch_files = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.initialized = true;
        let result = lt::InitializeResult {
            capabilities: features::capabilities(),
            server_info: Some(lt::ServerInfo {
                name: "tenantc".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        };
        self.dirty = true;
        serde_json::to_value(result).map_err(|e| Failure(ErrorCode::InternalError, e.to_string()))
    }

    fn add_folder(&mut self, root: Utf8PathBuf) {
        if self.sites.iter().any(|s| s.root == root && s.folder) {
            return;
        }
        // A folder replaces the ad-hoc site of a directory inside it.
        let removed: Vec<Site> = {
            let (gone, keep) = std::mem::take(&mut self.sites)
                .into_iter()
                .partition(|s: &Site| !s.folder && s.root.starts_with(&root));
            self.sites = keep;
            gone
        };
        for s in removed {
            self.clear_site(s);
        }
        self.sites.push(Site::new(root, true));
    }

    fn clear_site(&self, site: Site) {
        for path in site.published.keys() {
            self.publish(path, Vec::new(), None);
        }
    }

    fn notification(&mut self, n: Notification) {
        if !self.initialized {
            return; // notifications before initialize are dropped, as the spec says
        }
        let params = n.params;
        match n.method.as_str() {
            "initialized" => {
                if self.watch_files {
                    self.register_watcher();
                }
            }
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<lt::DidOpenTextDocumentParams>(params) {
                    let Some(path) = text::uri_to_path(&p.text_document.uri) else {
                        return;
                    };
                    self.ensure_site_for(&path);
                    self.docs.insert(
                        path.clone(),
                        Doc {
                            uri: p.text_document.uri,
                            version: p.text_document.version,
                            text: p.text_document.text,
                            good: None,
                            edits: Vec::new(),
                        },
                    );
                    self.rescan_site_of(&path);
                    self.touched.insert(path);
                    self.dirty = true;
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeTextDocumentParams>(params) {
                    let Some(path) = text::uri_to_path(&p.text_document.uri) else {
                        return;
                    };
                    let Some(doc) = self.docs.get_mut(&path) else {
                        log!("didChange for a document that is not open: {path}");
                        return;
                    };
                    for c in p.content_changes {
                        let e = text::apply_change(&mut doc.text, c.range, &c.text);
                        if doc.good.is_some() && doc.edits.len() < 10_000 {
                            doc.edits.push(e);
                        } else {
                            // Too long a history: map by common ends instead.
                            doc.good = None;
                            doc.edits.clear();
                        }
                    }
                    doc.version = p.text_document.version;
                    self.touched.insert(path);
                    self.dirty = true;
                }
            }
            "textDocument/didSave" => {
                if let Ok(p) = serde_json::from_value::<lt::DidSaveTextDocumentParams>(params) {
                    if let Some(path) = text::uri_to_path(&p.text_document.uri) {
                        if let (Some(t), Some(doc)) = (p.text, self.docs.get_mut(&path)) {
                            let e = text::apply_change(&mut doc.text, None, &t);
                            doc.edits.push(e);
                        }
                        self.disk.remove(&path);
                        self.rescan_site_of(&path);
                        self.touched.insert(path);
                        self.dirty = true;
                    }
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<lt::DidCloseTextDocumentParams>(params) {
                    if let Some(path) = text::uri_to_path(&p.text_document.uri) {
                        self.docs.remove(&path);
                        self.disk.remove(&path);
                        // An ad-hoc site lives as long as one of its files is open.
                        let (gone, keep): (Vec<Site>, Vec<Site>) =
                            std::mem::take(&mut self.sites).into_iter().partition(|s| {
                                !s.folder && !self.docs.keys().any(|d| d.starts_with(&s.root))
                            });
                        self.sites = keep;
                        for s in gone {
                            self.clear_site(s);
                        }
                        self.rescan_site_of(&path);
                        self.dirty = true;
                    }
                }
            }
            "workspace/didChangeWatchedFiles" => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeWatchedFilesParams>(params) {
                    for c in p.changes {
                        if let Some(path) = text::uri_to_path(&c.uri) {
                            self.disk.remove(&path);
                            self.rescan_site_of(&path);
                        }
                    }
                    self.dirty = true;
                }
            }
            "workspace/didChangeWorkspaceFolders" => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeWorkspaceFoldersParams>(params)
                {
                    for f in p.event.removed {
                        if let Some(root) = text::uri_to_path(&f.uri) {
                            let (gone, keep): (Vec<Site>, Vec<Site>) =
                                std::mem::take(&mut self.sites)
                                    .into_iter()
                                    .partition(|s| s.folder && s.root == root);
                            self.sites = keep;
                            for s in gone {
                                self.clear_site(s);
                            }
                        }
                    }
                    for f in p.event.added {
                        if let Some(root) = text::uri_to_path(&f.uri) {
                            self.add_folder(root);
                        }
                    }
                    let open: Vec<Utf8PathBuf> = self.docs.keys().cloned().collect();
                    for d in open {
                        self.ensure_site_for(&d);
                    }
                    self.dirty = true;
                }
            }
            "$/cancelRequest" | "$/setTrace" | "workspace/didChangeConfiguration" => {}
            m if m.starts_with("$/") => {}
            m => log!("ignoring notification {m}"),
        }
    }

    /// Asks the client to tell about `*.tenant` files changed outside the editor.
    fn register_watcher(&mut self) {
        self.next_request += 1;
        let params = lt::RegistrationParams {
            registrations: vec![lt::Registration {
                id: "tenantc-watch".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(
                    lt::DidChangeWatchedFilesRegistrationOptions {
                        watchers: vec![lt::FileSystemWatcher {
                            glob_pattern: lt::GlobPattern::String("**/*.tenant".into()),
                            kind: None,
                        }],
                    },
                )
                .ok(),
            }],
        };
        self.send(Message::Request(Request::new(
            RequestId::from(format!("tenantc-{}", self.next_request)),
            "client/registerCapability".into(),
            params,
        )));
    }

    /// A file opened outside every folder makes its directory a site: the
    /// files directly in it (its subdirectories are not searched, so a file
    /// in `/` or `$HOME` does not make the server walk a whole tree).
    fn ensure_site_for(&mut self, path: &Utf8Path) {
        if self.sites.iter().any(|s| path.starts_with(&s.root)) {
            return;
        }
        let Some(dir) = path.parent() else { return };
        self.sites.push(Site::new(dir.to_path_buf(), false));
    }

    fn rescan_site_of(&mut self, path: &Utf8Path) {
        for s in &mut self.sites {
            if path.starts_with(&s.root) {
                s.scanned = None;
            }
        }
    }

    /// Re-checks every site and publishes what changed.
    fn check_and_publish(&mut self) {
        self.dirty = false;
        let touched = std::mem::take(&mut self.touched);
        for i in 0..self.sites.len() {
            if !self.check_site(i, &touched, true) {
                // A newer change is waiting: check again once it is applied,
                // republishing what this round would have.
                self.dirty = true;
                self.touched.extend(touched);
                return;
            }
        }
    }

    /// Analyses whole the sites whose last edits were checked on slices.
    fn refresh(&mut self) {
        for i in 0..self.sites.len() {
            if self.sites[i].stale && !self.check_site(i, &BTreeSet::new(), false) {
                return; // superseded: the change that did it is on its way
            }
        }
    }

    /// The site's inputs, in order, and the texts to read them from: listed
    /// again after a rescan, else the last list with the open documents'
    /// texts brought up to date. Files are listed again when a change asked
    /// for it (open, close, save, a watched file) and, with `poll`, when the
    /// last listing is over 2 s old (changes no client told of): at 10,000
    /// files that costs 60 ms, so a keystroke checked on a slice does not
    /// poll; the whole-site analysis after it does.
    fn gather(&mut self, i: usize, poll: bool) -> Gathered {
        let stale_scan = self.sites[i]
            .scanned
            .is_none_or(|t| poll && t.elapsed() > Duration::from_secs(2));
        match self.sites[i].gathered.take() {
            Some(g) if !stale_scan => {
                let g = self.refreshed(g);
                self.sites[i].gathered = Some(g.clone());
                g
            }
            old => {
                let g = self.listed(i, old);
                self.sites[i].gathered = Some(g.clone());
                g
            }
        }
    }

    /// `g` with the open documents' current texts.
    fn refreshed(&self, mut g: Gathered) -> Gathered {
        for (p, d) in &self.docs {
            let Some(now) = g.overlay.get(p) else {
                continue;
            };
            if **now == *d.text {
                continue;
            }
            let text: Arc<str> = Arc::from(d.text.as_str());
            if let Ok(at) = g.readable.binary_search(p) {
                Arc::make_mut(&mut g.texts)[at] = text.clone();
            }
            Arc::make_mut(&mut g.overlay).insert(p.clone(), text);
        }
        g
    }

    /// Lists the site's files again (`old`: the last list).
    fn listed(&mut self, i: usize, old: Option<Gathered>) -> Gathered {
        {
            let root = self.sites[i].root.clone();
            let walked = scan(&root, self.sites[i].folder);
            self.sites[i].files = walked.files;
            self.sites[i].identities = walked.identities;
            self.sites[i].scanned = Some(Instant::now());
            // Drop cached texts that changed on disk.
            let files = self.sites[i].files.clone();
            for f in &files {
                let mtime = std::fs::metadata(f).and_then(|m| m.modified()).ok();
                if self.disk.get(f).is_some_and(|(t, _)| *t != mtime) {
                    self.disk.remove(f);
                }
            }
        }
        let root = self.sites[i].root.clone();
        let mut inputs: BTreeSet<Utf8PathBuf> = self.sites[i].files.iter().cloned().collect();
        // An open document is an input when `tenantc check` would read it:
        // not a copy in a hidden directory, nor another path of a file read
        // (a link to a spec, or its target), which would be "declared twice".
        let (folder, ids) = (self.sites[i].folder, &self.sites[i].identities);
        let opened: Vec<Utf8PathBuf> = (self.docs.keys())
            .filter(|p| !inputs.contains(*p))
            .filter(|p| crate::resolve::load::walk_reaches(&root, p, folder, ids))
            .cloned()
            .collect();
        inputs.extend(opened);
        let mut overlay = crate::resolve::load::Overlay::new();
        let mut readable = Vec::with_capacity(inputs.len());
        for p in &inputs {
            if let Some(d) = self.docs.get(p) {
                overlay.insert(p.clone(), Arc::from(d.text.as_str()));
                readable.push(p.clone());
                continue;
            }
            if !self.disk.contains_key(p) {
                let mtime = std::fs::metadata(p).and_then(|m| m.modified()).ok();
                // Only beneath the site: a link out of the workspace is
                // never read, and its text never published.
                match crate::resolve::load::read_input(&root, p) {
                    Ok(t) => {
                        self.disk.insert(p.clone(), (mtime, Arc::from(t)));
                    }
                    Err(e) => {
                        log!("{e}");
                        continue;
                    }
                }
            }
            if let Some((_, t)) = self.disk.get(p) {
                overlay.insert(p.clone(), t.clone());
                readable.push(p.clone());
            }
        }
        // Open documents outside the site may be imported by it.
        for (p, d) in &self.docs {
            overlay
                .entry(p.clone())
                .or_insert_with(|| Arc::from(d.text.as_str()));
        }
        let texts = readable
            .iter()
            .map(|p| overlay.get(p).cloned().unwrap_or_else(|| Arc::from("")))
            .collect();
        let list = match old {
            Some(o) if *o.readable == readable => o.list,
            Some(o) => o.list + 1,
            None => 0,
        };
        Gathered {
            readable: Arc::new(readable),
            texts: Arc::new(texts),
            overlay: Arc::new(overlay),
            list,
        }
    }

    /// Checks one site and publishes; `false` when a newer change
    /// superseded the analysis (nothing published). With `slices`, one
    /// edited tenant file is checked on a slice of the site when that gives
    /// the whole site's answer ([`slice`]).
    fn check_site(&mut self, i: usize, touched: &BTreeSet<Utf8PathBuf>, slices: bool) -> bool {
        let t0 = Instant::now();
        let root = self.sites[i].root.clone();
        let mut gathered = self.gather(i, !slices);
        if slices {
            if let Some(done) = self.check_slice(i, touched, &gathered) {
                if std::env::var_os("TENANTC_TIMINGS").is_some() {
                    log!("checked {root} on a slice in {:?}", t0.elapsed());
                }
                return done;
            }
            // The whole site after all: with what changed unannounced.
            gathered = self.gather(i, true);
        }
        let readable = gathered.readable.clone();
        let overlay = gathered.overlay.clone();
        let mut opts = self.opts.clone();
        opts.overlay = Some(overlay);
        opts.parse_cache = Some(self.sites[i].cache.clone());
        opts.cancel = Some(crate::Cancel::at(self.generation.clone(), self.applied));
        drop(gathered);
        let analyzed = std::panic::catch_unwind(|| crate::analyze(&readable, &opts));
        let analysis = match analyzed {
            Ok(Ok(a)) => a,
            Ok(Err(e)) if e.is_superseded() => return false,
            Ok(Err(e)) => {
                log!("cannot check {root}: {e}");
                return true;
            }
            Err(_) => {
                log!("internal error while checking {root}; keeping the last results");
                return true;
            }
        };
        let t1 = Instant::now();
        let mut snap = Snapshot::new(analysis);
        self.sites[i].basis = None;
        if let Some(g) = &self.sites[i].gathered {
            self.sites[i].basis = Some(slice::Basis::new(&snap, g));
        }
        // The server never lowers: the derived names were for the basis
        // (a tenth of an analysis at 10,000 tenants).
        snap.analysis.plan = None;
        let snap = Rc::new(snap);
        // Replaced analyses are freed after publishing, off this thread.
        let mut retired = Vec::new();
        for (path, doc) in self.docs.iter_mut() {
            if let Some(f) = snap.by_path.get(path) {
                if snap.parsed(*f) && snap.text(*f) == doc.text {
                    let text = snap.analysis.sources.get(*f).text.clone();
                    retired.extend(doc.good.replace((text, snap.clone())).map(|(_, s)| s));
                    doc.edits.clear();
                }
            }
        }
        retired.extend(self.sites[i].snap.replace(snap.clone()));
        self.sites[i].stale = false;
        if let Some(old) = self.sites[i].sliced.take() {
            retired.push(old.1);
        }
        self.publish_site(i, &snap, touched);
        for old in retired {
            if let Ok(old) = Rc::try_unwrap(old) {
                if let Err(mpsc::SendError(old)) = self.graveyard.send(old) {
                    drop(old);
                }
            }
        }

        if std::env::var_os("TENANTC_TIMINGS").is_some() {
            log!(
                "checked {root}: {} file(s) in {:?}, published in {:?}",
                readable.len(),
                t1 - t0,
                t1.elapsed()
            );
        }
        true
    }

    /// Checks the one edited file of `touched` on a slice of site `i`;
    /// `None` when only the whole site gives its diagnostics.
    fn check_slice(
        &mut self,
        i: usize,
        touched: &BTreeSet<Utf8PathBuf>,
        gathered: &Gathered,
    ) -> Option<bool> {
        let edited = match touched.iter().collect::<Vec<_>>()[..] {
            [one] if self.docs.contains_key(one) => one.clone(),
            _ => return None,
        };
        let timings = std::env::var_os("TENANTC_TIMINGS").is_some();
        let whole = |why: &str| {
            if timings {
                log!("{edited}: checking the whole site: {why}");
            }
            None
        };
        let site = &self.sites[i];
        let Some(basis) = site.basis.as_ref() else {
            return whole("no analysis of it yet");
        };
        if !basis.same_site(gathered, &edited) {
            return whole("other files changed");
        }
        let Some(mut slice) = basis.slice(&edited, &self.docs[&edited].text) else {
            return whole("not a file of tenants only");
        };
        let root = basis.root.clone();
        for _ in 0..3 {
            let basis = self.sites[i].basis.as_ref()?;
            let inputs = basis.paths(&slice);
            let mut opts = self.opts.clone();
            opts.overlay = Some(gathered.overlay.clone());
            opts.parse_cache = Some(self.sites[i].slice_cache.clone());
            opts.cancel = Some(crate::Cancel::at(self.generation.clone(), self.applied));
            opts.root = Some(root.clone());
            opts.errors_elsewhere = slice.errors_elsewhere;
            let analysis = match std::panic::catch_unwind(|| crate::analyze(&inputs, &opts)) {
                Ok(Ok(a)) => a,
                Ok(Err(e)) if e.is_superseded() => return Some(false),
                _ => return None,
            };
            let snap = Snapshot::new(analysis);
            let basis = self.sites[i].basis.as_mut()?;
            match basis.judge(&edited, &slice, &snap) {
                slice::Verdict::Exact => {
                    self.publish_slice(i, &edited, &snap);
                    self.sites[i].stale = true;
                    let old = self.sites[i].sliced.replace((edited, Rc::new(snap)));
                    if let Some(old) = old.and_then(|(_, s)| Rc::try_unwrap(s).ok()) {
                        let _ = self.graveyard.send(old);
                    }
                    return Some(true);
                }
                slice::Verdict::Widen(more) => basis.widen(&mut slice, more),
                slice::Verdict::Whole(why) => return whole(why),
            }
        }
        whole("its partners keep growing")
    }

    /// Publishes the diagnostics a slice's analysis gives the edited file.
    fn publish_slice(&mut self, i: usize, edited: &Utf8Path, snap: &Snapshot) {
        let Some(&file) = snap.by_path.get(edited) else {
            return;
        };
        let diags: Vec<lt::Diagnostic> = snap
            .analysis
            .diagnostics
            .iter()
            .filter(|d| d.primary.span.file == file)
            .map(|d| self.to_lsp(snap, d))
            .collect();
        let value = serde_json::to_value(&diags).unwrap_or(Value::Null);
        let version = self.docs.get(edited).map(|d| d.version);
        self.publish(edited, diags, version);
        self.remember(i, edited, value);
    }

    /// Records what was published for a file, to send only what changes.
    fn remember(&mut self, i: usize, path: &Utf8Path, published: Value) {
        if published.as_array().is_some_and(|a| a.is_empty()) {
            self.sites[i].published.remove(path);
        } else {
            self.sites[i]
                .published
                .insert(path.to_path_buf(), published);
        }
    }

    fn publish_site(&mut self, i: usize, snap: &Snapshot, touched: &BTreeSet<Utf8PathBuf>) {
        let mut by_file: BTreeMap<Utf8PathBuf, Vec<lt::Diagnostic>> = BTreeMap::new();
        for d in &snap.analysis.diagnostics {
            let Some(path) = snap.paths[d.primary.span.file.0 as usize].clone() else {
                continue;
            };
            by_file.entry(path).or_default().push(self.to_lsp(snap, d));
        }
        let root = self.sites[i].root.clone();
        // Files of this site: published ones, ones with diagnostics, open ones.
        let mut paths: BTreeSet<Utf8PathBuf> = self.sites[i].published.keys().cloned().collect();
        paths.extend(by_file.keys().cloned());
        paths.extend(
            self.docs
                .keys()
                .filter(|p| p.starts_with(&root) || snap.by_path.contains_key(*p))
                .cloned(),
        );
        for path in paths {
            let diags = by_file.remove(&path).unwrap_or_default();
            let value = serde_json::to_value(&diags).unwrap_or(Value::Null);
            let unchanged = self.sites[i].published.get(&path) == Some(&value)
                || (diags.is_empty() && !self.sites[i].published.contains_key(&path));
            if unchanged && !touched.contains(&path) {
                continue;
            }
            let version = self.docs.get(&path).map(|d| d.version);
            self.publish(&path, diags, version);
            self.remember(i, &path, value);
        }
    }

    fn publish(&self, path: &Utf8Path, diagnostics: Vec<lt::Diagnostic>, version: Option<i32>) {
        let uri = self
            .docs
            .get(path)
            .map_or_else(|| text::path_to_uri(path), |d| d.uri.clone());
        self.notify(
            "textDocument/publishDiagnostics",
            lt::PublishDiagnosticsParams {
                uri,
                diagnostics,
                version,
            },
        );
    }

    fn uri_of(&self, path: &Utf8Path) -> lt::Uri {
        self.docs
            .get(path)
            .map_or_else(|| text::path_to_uri(path), |d| d.uri.clone())
    }

    fn to_lsp(&self, snap: &Snapshot, d: &crate::diagnostics::Diagnostic) -> lt::Diagnostic {
        let related: Vec<lt::DiagnosticRelatedInformation> = d
            .related
            .iter()
            .filter_map(|l| {
                let path = snap.paths[l.span.file.0 as usize].as_ref()?;
                Some(lt::DiagnosticRelatedInformation {
                    location: lt::Location {
                        uri: self.uri_of(path),
                        range: snap.range(l.span),
                    },
                    message: l.message.clone(),
                })
            })
            .collect();
        let message = if d.help.is_empty() {
            d.message.clone()
        } else {
            format!("{}\nhelp: {}", d.message, d.help)
        };
        let data = d.fix.as_ref().and_then(|f| {
            let path = snap.paths[f.span.file.0 as usize].as_ref()?;
            Some(serde_json::json!({
                "fix": {
                    "title": f.title,
                    "uri": self.uri_of(path),
                    "range": snap.range(f.span),
                    "text": f.text,
                }
            }))
        });
        lt::Diagnostic {
            range: snap.range(d.primary.span),
            severity: Some(match d.severity {
                Severity::Error => lt::DiagnosticSeverity::ERROR,
                Severity::Warning => lt::DiagnosticSeverity::WARNING,
            }),
            code: Some(lt::NumberOrString::String(d.code.as_str().to_string())),
            code_description: None,
            source: Some("tenantc".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data,
        }
    }

    /// The current text of a file: the editor's buffer, else the disk's.
    fn text_of(&mut self, path: &Utf8Path) -> Option<Arc<str>> {
        if let Some(d) = self.docs.get(path) {
            return Some(Arc::from(d.text.as_str()));
        }
        if let Some((_, t)) = self.disk.get(path) {
            return Some(t.clone());
        }
        // A file on disk is read only inside a site of the workspace.
        let root = self
            .sites
            .iter()
            .map(|s| s.root.clone())
            .find(|r| path.starts_with(r))?;
        crate::resolve::load::read_input(&root, path)
            .ok()
            .map(Arc::from)
    }

    /// The analysis to answer about `path` from: the latest one if the file
    /// parsed in it, else the last one in which it did, else (a file that
    /// has not parsed since it was opened) the latest one after all, which
    /// read what syntax error recovery made of the file.
    ///
    /// The last clean analysis goes first: mapped across the edits, it is
    /// exact everywhere but in the edited text, while a recovered tree can be
    /// wrong far from the error (a `}` missing mid-file is supplied at the
    /// end, nesting everything after it).
    fn view(&mut self, path: &Utf8Path) -> Option<View> {
        let now = self.text_of(path)?;
        // Checked on a slice since the last whole analysis, and parsed:
        // the slice knows the file as it is now.
        let sliced = self
            .sites
            .iter()
            .filter(|s| s.stale)
            .filter_map(|s| s.sliced.as_ref())
            .find(|(p, snap)| {
                p == path
                    && snap
                        .by_path
                        .get(path)
                        .is_some_and(|f| snap.parsed(*f) && *snap.text(*f) == *now)
            });
        if let Some((_, snap)) = sliced {
            let file = snap.by_path[path];
            return Some(View {
                snap: snap.clone(),
                file,
                then: now.clone(),
                now,
                edits: Some(Vec::new()),
                clean: true,
            });
        }
        let latest = self
            .sites
            .iter()
            .filter(|s| {
                s.snap
                    .as_ref()
                    .is_some_and(|x| x.by_path.contains_key(path))
            })
            .max_by_key(|s| path.starts_with(&s.root))
            .and_then(|s| s.snap.clone());
        let edits = |then: &Arc<str>| -> Option<Vec<text::Edit>> {
            let doc = self.docs.get(path)?;
            let (good, _) = doc.good.as_ref()?;
            (**good == **then).then(|| doc.edits.clone())
        };
        let good = self.docs.get(path).and_then(|d| d.good.clone());
        let (snap, clean) = match (latest, good) {
            (Some(snap), _) if snap.parsed(snap.by_path[path]) => (snap, true),
            (_, Some((_, snap))) => (snap, true),
            (Some(snap), None) => (snap, false),
            (None, None) => return None,
        };
        let file = *snap.by_path.get(path)?;
        let then = snap.analysis.sources.get(file).text.clone();
        let edits = edits(&then);
        Some(View {
            snap,
            file,
            now,
            then,
            edits,
            clean,
        })
    }

    /// Every snapshot, for workspace-wide questions.
    fn snapshots(&self) -> Vec<Rc<Snapshot>> {
        self.sites.iter().filter_map(|s| s.snap.clone()).collect()
    }
}

/// An analysis seen from one file's current text.
pub(crate) struct View {
    pub snap: Rc<Snapshot>,
    pub file: FileId,
    /// The file's text now, and when it was analyzed.
    pub now: Arc<str>,
    pub then: Arc<str>,
    /// The edits from `then` to `now`, when known.
    edits: Option<Vec<text::Edit>>,
    /// Whether the file parsed without syntax errors in the analysis (else
    /// the analysis read what recovery made of it).
    pub clean: bool,
}

impl View {
    pub fn fresh(&self) -> bool {
        self.now == self.then
    }

    /// An offset in the current text, in the analyzed text.
    pub fn to_then(&self, offset: usize) -> Option<u32> {
        if self.fresh() {
            return Some(offset as u32);
        }
        match &self.edits {
            Some(e) => text::map_back(e, offset),
            None => text::map_offset(&self.now, &self.then, offset),
        }
        .map(|o| o as u32)
    }
}

/// A file's text now, its lines, its path, and whether it is the analyzed text.
type Current = (Arc<str>, LineIndex, Utf8PathBuf, bool);

/// Maps spans of a snapshot to locations in the texts the editor has now.
pub(crate) struct Locator<'s> {
    server: &'s Server,
    snap: &'s Snapshot,
    /// Per file: its current text, lines, path, and whether the text is
    /// the analyzed one (compared once per file, not once per span: at
    /// 80,000 symbols in a 4 MB file that comparison made documentSymbol
    /// quadratic).
    cache: HashMap<FileId, Option<Current>>,
    /// Whole texts compared so far (once per file): the structural bound
    /// the test of issue 29's N15 checks.
    texts_compared: usize,
}

impl<'s> Locator<'s> {
    pub fn new(server: &'s Server, snap: &'s Snapshot) -> Locator<'s> {
        Locator {
            server,
            snap,
            cache: HashMap::new(),
            texts_compared: 0,
        }
    }

    pub fn uri(&self, file: FileId) -> Option<lt::Uri> {
        let path = self.snap.paths[file.0 as usize].as_ref()?;
        Some(self.server.uri_of(path))
    }

    /// The range of a span in the file's current text; `None` for the
    /// embedded stdlib or when the text under the span has been edited.
    pub fn range(&mut self, span: Span) -> Option<lt::Range> {
        let snap = self.snap;
        let server = self.server;
        let compared = &mut self.texts_compared;
        let entry = self.cache.entry(span.file).or_insert_with(|| {
            *compared += 1;
            let path = snap.paths[span.file.0 as usize].as_ref()?;
            let then = snap.text(span.file);
            let now: Arc<str> = match server.docs.get(path) {
                Some(d) if d.text != then => Arc::from(d.text.as_str()),
                _ => snap.analysis.sources.get(span.file).text.clone(),
            };
            let lines = LineIndex::new(&now);
            let same = *now == *then;
            Some((now, lines, path.clone(), same))
        });
        let (now, lines, path, same) = entry.as_ref()?;
        let then = snap.text(span.file);
        let (start, end) = if *same {
            (span.start as usize, span.end as usize)
        } else {
            let doc = server.docs.get(path)?;
            (
                doc.forward(then, span.start as usize)?,
                doc.forward(then, span.end as usize)?,
            )
        };
        Some(lines.range(now, start, end.max(start)))
    }

    pub fn location(&mut self, span: Span) -> Option<lt::Location> {
        Some(lt::Location {
            uri: self.uri(span.file)?,
            range: self.range(span)?,
        })
    }
}

fn request_id(v: &Value) -> Option<RequestId> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(RequestId::from),
        Value::String(s) => Some(RequestId::from(s.clone())),
        _ => None,
    }
}

/// The `*.tenant` files in `root` (and below it when `recursive`) by the
/// walk of `tenantc check DIR` ([`crate::resolve::load::walk_specs`]), and
/// bounded so that opening a home directory stays cheap.
fn scan(root: &Utf8Path, recursive: bool) -> crate::resolve::load::Walked {
    const MAX_ENTRIES: usize = 50_000;
    let w = crate::resolve::load::walk_specs(root, recursive, MAX_ENTRIES);
    for e in &w.errors {
        log!("{e}");
    }
    if w.truncated {
        log!("{root} holds more than {MAX_ENTRIES} entries; not all are checked");
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 29, N15: a file's whole text is compared with the analyzed one
    /// once per request, not once per span (80,000 symbols made
    /// documentSymbol quadratic).
    #[test]
    fn spans_of_one_file_compare_its_text_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = Utf8PathBuf::from_path_buf(dir.path().join("many.tenant")).expect("utf-8");
        let text: String = (0..2000)
            .map(|i| format!("tenant t{i} {{ cluster = k }}\n"))
            .collect();
        std::fs::write(&path, text).expect("write");
        let opts = Options {
            index: true,
            ..Options::default()
        };
        let analysis = crate::analyze(std::slice::from_ref(&path), &opts).expect("analysis");
        let snap = Snapshot::new(analysis);
        let (tx, _rx) = mpsc::channel();
        let server = Server::new(None, tx);
        let mut loc = Locator::new(&server, &snap);
        let spans: Vec<Span> = snap
            .analysis
            .index
            .decls
            .iter()
            .map(|d| d.span)
            .filter(|s| snap.paths[s.file.0 as usize].is_some())
            .collect();
        assert!(spans.len() >= 2000, "{}", spans.len());
        for s in &spans {
            assert!(loc.range(*s).is_some());
        }
        assert_eq!(loc.texts_compared, 1);
    }
}
