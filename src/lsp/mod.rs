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
//!
//! Layers, each reading only the one below:
//! - [`transport`]: framing on stdin and stdout, the reader and writer
//!   threads;
//! - the server state (this module): open documents, sites, the main loop
//!   that applies changes and dispatches requests;
//! - [`site`]: each site's files (the compiler's walk,
//!   [`crate::resolve::load::walk_specs`]), their analysis whole or on a
//!   [`slice`], kept as an [`Analysed`] (the analysis with its trees, which
//!   says which files parsed), and the diagnostics published from it;
//! - the handlers ([`features`], [`tokens`], [`hints`]): each request is
//!   given a [`Snapshot`] (the texts and the analyses, frozen for the
//!   request; nothing in it changes the server), reads one file's analysis
//!   through a [`View`], parses nothing an analysis parsed, and resolves
//!   names by the compiler's scope rules ([`crate::resolve::index::Scopes`]).

pub mod context;
mod features;
mod hints;
mod site;
mod slice;
pub mod text;
mod tokens;
mod transport;

use crate::source::{FileId, Span};
use crate::{Analysis, Options};
use camino::{Utf8Path, Utf8PathBuf};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lt;
use serde_json::Value;
use site::Site;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::{mpsc, Arc};
use std::time::{Duration, SystemTime};
use text::LineIndex;
use transport::{request_id, Incoming, CHANGES};

/// Logs a line to stderr (stdout carries the protocol).
macro_rules! log {
    ($($t:tt)*) => {
        eprintln!("tenantc lsp: {}", format_args!($($t)*))
    };
}
pub(crate) use log;

/// Serves LSP on stdin and stdout until `exit`. Returns the process exit
/// code: 0 after `shutdown` and `exit`, 1 when the client goes away first.
pub fn run(stdlib: Option<Utf8PathBuf>) -> u8 {
    let wire = transport::start();
    let mut server = Server::new(stdlib, wire.out);
    server.generation = wire.generation;
    let code = server.main_loop(&wire.incoming);
    drop(server);
    if let Some(w) = wire.writer {
        let _ = w.join();
    }
    code
}

/// An analysis with what the server needs to answer from it.
pub(crate) struct Analysed {
    pub analysis: Analysis,
    /// The absolute, normalized path of each file (`None` for the embedded stdlib).
    pub paths: Vec<Option<Utf8PathBuf>>,
    pub by_path: HashMap<Utf8PathBuf, FileId>,
    lines: Vec<OnceCell<LineIndex>>,
}

impl Analysed {
    fn new(analysis: Analysis) -> Analysed {
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
        Analysed {
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
    good: Option<(Arc<str>, Rc<Analysed>)>,
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
    graveyard: mpsc::Sender<Analysed>,
    /// Bumped by the reader on every change ([`CHANGES`]); an analysis
    /// started before the latest change stops early ([`crate::Cancel`]).
    generation: Arc<AtomicU64>,
    /// The changes the main loop has taken in (it lags `generation` while
    /// one waits in the channel: an analysis started then is already stale).
    applied: u64,
    /// See [`Snapshot::unanalysed`].
    unanalysed: crate::resolve::load::ParseCache,
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
                let (tx, rx) = mpsc::channel::<Analysed>();
                let _ = std::thread::Builder::new()
                    .name("lsp-free".into())
                    .spawn(move || rx.into_iter().for_each(drop));
                tx
            },
            generation: Arc::new(AtomicU64::new(0)),
            applied: 0,
            unanalysed: Default::default(),
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
        let answer = features::dispatch(&self.snapshot(), &r.method, r.params);
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
}

/// What a request reads: the server's texts (open documents and the files
/// read from disk) and the analyses of its sites (whole, and the last
/// slice), frozen for the request. The handlers ([`features`], [`tokens`],
/// [`hints`]) are given a `&Snapshot` and nothing else of the server: only
/// the main loop and the site layer change it.
pub(crate) struct Snapshot<'s> {
    docs: &'s BTreeMap<Utf8PathBuf, Doc>,
    disk: &'s HashMap<Utf8PathBuf, (Option<SystemTime>, Arc<str>)>,
    sites: &'s [Site],
    pub opts: &'s Options,
    /// Trees of texts no analysis has read (a memo: the one thing a request
    /// adds to, never read by the analyses).
    pub unanalysed: &'s crate::resolve::load::ParseCache,
}

impl Server {
    /// The snapshot requests read.
    fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            docs: &self.docs,
            disk: &self.disk,
            sites: &self.sites,
            opts: &self.opts,
            unanalysed: &self.unanalysed,
        }
    }
}

impl Snapshot<'_> {
    /// The current text of a file: the editor's buffer, else the disk's.
    pub fn text_of(&self, path: &Utf8Path) -> Option<Arc<str>> {
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
    pub fn view(&self, path: &Utf8Path) -> Option<View> {
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
    pub fn snapshots(&self) -> Vec<Rc<Analysed>> {
        self.sites.iter().filter_map(|s| s.snap.clone()).collect()
    }

    /// An analysis (of the whole site, or the last slice) that read `text`
    /// as the file `path`, and the file's id in it.
    pub fn analysis_of_text(&self, path: &Utf8Path, text: &str) -> Option<(Rc<Analysed>, FileId)> {
        let whole = self.sites.iter().filter_map(|s| s.snap.as_ref());
        let sliced = self
            .sites
            .iter()
            .filter_map(|s| s.sliced.as_ref().map(|(_, a)| a));
        whole.chain(sliced).find_map(|a| {
            let f = *a.by_path.get(path)?;
            (*a.text(f) == *text).then(|| (a.clone(), f))
        })
    }

    /// The parse cache an analysis read its trees from (its site's, or its
    /// site's slices'), for an analysis of texts that differ from it in a
    /// few files.
    pub fn parse_cache_of(
        &self,
        a: &Rc<Analysed>,
    ) -> Option<Arc<crate::resolve::load::ParseCache>> {
        self.sites.iter().find_map(|s| {
            if s.snap.as_ref().is_some_and(|x| Rc::ptr_eq(x, a)) {
                Some(s.cache.clone())
            } else if s.sliced.as_ref().is_some_and(|(_, x)| Rc::ptr_eq(x, a)) {
                Some(s.slice_cache.clone())
            } else {
                None
            }
        })
    }

    pub fn uri_of(&self, path: &Utf8Path) -> lt::Uri {
        self.docs
            .get(path)
            .map_or_else(|| text::path_to_uri(path), |d| d.uri.clone())
    }
}

/// An analysis seen from one file's current text.
pub(crate) struct View {
    pub snap: Rc<Analysed>,
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

    /// [`View::to_then`], or where the analysed text was edited when the
    /// offset is in text typed since: the place a reference typed there
    /// is read from until the text is analysed.
    pub fn to_then_near(&self, offset: usize) -> u32 {
        if self.fresh() {
            return offset as u32;
        }
        (match &self.edits {
            Some(e) => text::map_back_near(e, offset),
            None => text::map_offset_near(&self.now, &self.then, offset),
        }) as u32
    }
}

/// A file's text now, its lines, its path, and whether it is the analyzed text.
type Current = (Arc<str>, LineIndex, Utf8PathBuf, bool);

/// Maps spans of a snapshot to locations in the texts the editor has now.
pub(crate) struct Locator<'s> {
    server: &'s Snapshot<'s>,
    snap: &'s Analysed,
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
    pub fn new(server: &'s Snapshot<'s>, snap: &'s Analysed) -> Locator<'s> {
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
        let snap = Analysed::new(analysis);
        let (tx, _rx) = mpsc::channel();
        let server = Server::new(None, tx);
        let shot = server.snapshot();
        let mut loc = Locator::new(&shot, &snap);
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

    /// The outline of a file that does not parse reads the tree an
    /// analysis of its text kept, the last slice's included; a text no
    /// analysis read is parsed once, by the loader's entry.
    #[test]
    fn the_recovered_outline_parses_only_what_no_analysis_read() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8");
        let path = root.join("a.tenant");
        let text = "tenant a {\n  nfs {\n    volume v {\n}\n";
        std::fs::write(&path, text).expect("write");
        let opts = Options {
            index: true,
            ..Options::default()
        };
        let analysis = crate::analyze(std::slice::from_ref(&path), &opts).expect("analysis");
        let (tx, _rx) = mpsc::channel();
        let mut server = Server::new(None, tx);
        let uri = text::path_to_uri(&path);
        server.docs.insert(
            path.clone(),
            Doc {
                uri: uri.clone(),
                version: 1,
                text: text.to_string(),
                good: None,
                edits: Vec::new(),
            },
        );
        let mut site = Site::new(root.clone(), true);
        site.sliced = Some((path.clone(), Rc::new(Analysed::new(analysis))));
        server.sites.push(site);
        let p = lt::DocumentSymbolParams {
            text_document: lt::TextDocumentIdentifier { uri },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        };
        let outline = |server: &Server| {
            let shot = server.snapshot();
            let Some(lt::DocumentSymbolResponse::Nested(top)) =
                tokens::recovered_outline(&shot, &p)
            else {
                panic!("an outline");
            };
            top.iter().map(|s| s.name.clone()).collect::<Vec<_>>()
        };
        // Checked on a slice: its tree, nothing parsed.
        assert_eq!(outline(&server), ["a"]);
        assert_eq!(server.unanalysed.len(), 0);
        // A text no analysis has read: parsed once for two requests.
        if let Some(d) = server.docs.get_mut(&path) {
            d.text.push_str("tenant b {\n");
        }
        assert_eq!(outline(&server), ["a"]);
        assert_eq!(outline(&server), ["a"]);
        assert_eq!(server.unanalysed.len(), 1);
    }
}
