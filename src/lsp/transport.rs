//! The transport: `Content-Length` framed JSON-RPC on stdin and stdout, a
//! reader thread that hands the main loop whole messages (and makes a
//! running analysis stale as soon as a change arrives) and a writer thread.
//! Nothing here knows what a message means beyond "it changes the texts".

use super::log;
use lsp_server::{ErrorCode, Message, RequestId};
use serde_json::Value;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

/// Notifications that change the texts an analysis reads.
pub(super) const CHANGES: [&str; 5] = [
    "textDocument/didChange",
    "textDocument/didOpen",
    "textDocument/didClose",
    "textDocument/didSave",
    "workspace/didChangeWatchedFiles",
];

/// Largest message body accepted (a document of this size is refused).
const MAX_BODY: usize = 256 << 20;

/// Both ends of the wire, for the server.
pub(super) struct Wire {
    pub incoming: mpsc::Receiver<Incoming>,
    /// Message bodies to frame and write.
    pub out: mpsc::Sender<String>,
    /// Bumped by the reader on every change ([`CHANGES`]).
    pub generation: Arc<AtomicU64>,
    pub writer: Option<std::thread::JoinHandle<()>>,
}

/// Starts the reader (stdin) and the writer (stdout).
pub(super) fn start() -> Wire {
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
    Wire {
        incoming: in_rx,
        out: out_tx,
        generation,
        writer,
    }
}

/// What the reader hands the main loop.
pub(super) enum Incoming {
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

pub(super) fn request_id(v: &Value) -> Option<RequestId> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(RequestId::from),
        Value::String(s) => Some(RequestId::from(s.clone())),
        _ => None,
    }
}
