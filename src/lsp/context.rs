//! Where the cursor is, read from the text alone: the enclosing blocks, and
//! whether a field name, a value or something else is being typed. It uses
//! the grammar's lexical rules but needs no parse, so completion and hover
//! keep working on a half-typed file that does not parse.

use crate::syntax::lex::{self, Kind};

/// What is being typed at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The start of an entry: a field (`key = ...`) or a nested block
    /// (`kind name { ... }`); at the top level, a block or an import.
    Entry,
    /// A value of `key` (after `key =`, or inside its list).
    Value { key: String },
    /// A key of the object value of `field` (`subject = { CN = ... }`).
    ObjectKey { field: String },
    /// A string, a comment, a block's name: nothing to offer.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The enclosing blocks, outermost first: kind and name.
    pub blocks: Vec<(String, Option<String>)>,
    pub place: Place,
    /// Where the word under the cursor starts (it ends at the cursor).
    pub word_start: usize,
    /// Field keys set in the innermost block, anywhere in it.
    pub keys: Vec<String>,
    /// Kinds of the blocks nested in the innermost block, anywhere in it.
    pub children: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'t> {
    Ident(&'t str),
    Lit,
    /// A string; `true` when it is closed.
    Str(bool),
    /// A comment; `true` when it runs to the end of its line or is unclosed.
    Comment(bool),
    Punct(u8),
}

/// The text's tokens, by the lexer, as the cursor context reads them:
/// blanks and stray characters dropped, and a name or a literal taken with
/// the dots and parts glued to it (`NP8.`, `NP8.MVSNFS8`, `1.a`: the word
/// being typed).
fn tokens(text: &str) -> Vec<(usize, usize, Tok<'_>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut lx = lex::tokens(text).peekable();
    while let Some(t) = lx.next() {
        let tok = match t.kind {
            Kind::Space | Kind::Newline | Kind::Other => continue,
            Kind::LineComment | Kind::UnclosedComment => Tok::Comment(true),
            Kind::BlockComment => Tok::Comment(false),
            Kind::Str => Tok::Str(true),
            Kind::UnclosedStr => Tok::Str(false),
            Kind::Punct if b[t.start] == b'.' => continue,
            Kind::Punct => Tok::Punct(b[t.start]),
            Kind::Ident | Kind::Number => {
                let mut end = t.end;
                let mut after_dot = false;
                while let Some(n) = lx.peek().copied().filter(|n| {
                    n.start == end
                        && match n.kind {
                            Kind::Punct => b[n.start] == b'.',
                            Kind::Ident | Kind::Number => after_dot,
                            _ => false,
                        }
                }) {
                    after_dot = n.kind == Kind::Punct;
                    end = n.end;
                    lx.next();
                }
                out.push((
                    t.start,
                    end,
                    if t.kind == Kind::Ident {
                        Tok::Ident(&text[t.start..end])
                    } else {
                        Tok::Lit
                    },
                ));
                continue;
            }
        };
        out.push((t.start, t.end, tok));
    }
    out
}

#[derive(Debug, Clone)]
enum State {
    Start,
    Key(String),
    Named(String, String),
    Eq(String),
    /// An identifier value: `(` may follow (`rsa(2048)`).
    ValIdent(String),
    ValDone,
    Import,
    ImportAs,
}

#[derive(Debug, Clone)]
enum FrameKind {
    Top,
    Block(String, Option<String>),
    Object(String),
    List(String),
    Paren(String),
}

#[derive(Debug, Clone)]
struct Frame {
    id: usize,
    kind: FrameKind,
    state: State,
    keys: Vec<String>,
    children: Vec<String>,
}

struct Machine {
    stack: Vec<Frame>,
    next_id: usize,
}

impl Machine {
    fn push(&mut self, kind: FrameKind) {
        self.next_id += 1;
        self.stack.push(Frame {
            id: self.next_id,
            kind,
            state: State::Start,
            keys: Vec::new(),
            children: Vec::new(),
        });
    }

    /// Pops the innermost frame (never the top level); the value it held is done.
    fn pop(&mut self) -> Option<Frame> {
        if self.stack.len() < 2 {
            return None;
        }
        let f = self.stack.pop();
        if let Some(top) = self.stack.last_mut() {
            top.state = State::ValDone;
            if let (
                Some(Frame {
                    kind: FrameKind::Block(..),
                    ..
                }),
                FrameKind::Block(..) | FrameKind::Top,
            ) = (&f, &top.kind)
            {
                top.state = State::Start;
            }
        }
        f
    }

    fn feed(&mut self, tok: &Tok<'_>) -> Option<Frame> {
        let top = self.stack.last_mut()?;
        let container = matches!(top.kind, FrameKind::List(_) | FrameKind::Paren(_));
        if container {
            // Inside a list or a call: only nesting matters.
            let key = match &top.kind {
                FrameKind::List(k) | FrameKind::Paren(k) => k.clone(),
                _ => String::new(),
            };
            match tok {
                Tok::Punct(b'[') => self.push(FrameKind::List(key)),
                Tok::Punct(b'(') => self.push(FrameKind::Paren(key)),
                Tok::Punct(b'{') => self.push(FrameKind::Object(key)),
                Tok::Punct(b']' | b')') => return self.pop(),
                Tok::Punct(b'}') => {
                    // A list left open by a half-typed value: close up to the block.
                    while matches!(
                        self.stack.last().map(|f| &f.kind),
                        Some(FrameKind::List(_) | FrameKind::Paren(_))
                    ) {
                        self.pop();
                    }
                    return self.feed(tok);
                }
                _ => {}
            }
            return None;
        }
        let state = std::mem::replace(&mut top.state, State::Start);
        let is_top = matches!(top.kind, FrameKind::Top);
        let next = match (state, tok) {
            (state, Tok::Comment(_)) => state,
            (State::Eq(k), Tok::Ident(_)) => State::ValIdent(k),
            (State::Eq(_), Tok::Lit | Tok::Str(_)) => State::ValDone,
            (State::Eq(k), Tok::Punct(b'[')) => {
                self.push(FrameKind::List(k));
                return None;
            }
            (State::Eq(k), Tok::Punct(b'{')) => {
                self.push(FrameKind::Object(k));
                return None;
            }
            (State::ValIdent(k), Tok::Punct(b'(')) => {
                self.push(FrameKind::Paren(k));
                return None;
            }
            (State::Key(k), Tok::Str(_)) if k == "import" && is_top => State::Import,
            (State::Import, Tok::Ident("as")) => State::ImportAs,
            (State::ImportAs, Tok::Ident(_)) => State::Start,
            (State::Key(k), Tok::Punct(b'=')) => {
                top.keys.push(k.clone());
                State::Eq(k)
            }
            (State::Key(k), Tok::Ident(n)) => State::Named(k, (*n).to_string()),
            (State::Key(k), Tok::Punct(b'{')) => {
                top.children.push(k.clone());
                self.push(FrameKind::Block(k, None));
                return None;
            }
            (State::Named(k, n), Tok::Punct(b'{')) => {
                top.children.push(k.clone());
                self.push(FrameKind::Block(k, Some(n)));
                return None;
            }
            (_, Tok::Punct(b'}')) => return self.pop(),
            (_, Tok::Punct(b',')) => State::Start,
            (_, Tok::Ident(k)) => State::Key((*k).to_string()),
            _ => State::Start,
        };
        if let Some(top) = self.stack.last_mut() {
            top.state = next;
        }
        None
    }
}

/// The context at byte `offset` of `text`.
pub fn at(text: &str, offset: usize) -> Context {
    let offset = offset.min(text.len());
    let toks = tokens(text);
    let mut m = Machine {
        stack: Vec::new(),
        next_id: 0,
    };
    m.push(FrameKind::Top);
    let mut word_start = offset;
    let mut cursor: Option<(Vec<Frame>, bool)> = None;
    let mut finished: Option<Frame> = None;
    for (start, end, tok) in &toks {
        if cursor.is_none() {
            let (start, end) = (*start, *end);
            // Whether the cursor is inside this token, or just after a word.
            let inside = match tok {
                Tok::Ident(_) | Tok::Lit => start < offset && offset <= end,
                Tok::Str(closed) => start < offset && (offset < end || (offset == end && !closed)),
                Tok::Comment(open) => start < offset && (offset < end || (offset == end && *open)),
                Tok::Punct(_) => false,
            };
            if inside || start >= offset {
                let opaque = inside && matches!(tok, Tok::Str(_) | Tok::Comment(_));
                cursor = Some((m.stack.clone(), opaque));
                if inside {
                    if matches!(tok, Tok::Ident(_) | Tok::Lit) {
                        word_start = start;
                    }
                    // The word being typed is not fed: it is incomplete.
                    continue;
                }
            }
        }
        if let Some(f) = m.feed(tok) {
            if let Some((stack, _)) = &cursor {
                if stack.last().is_some_and(|c| c.id == f.id) {
                    finished = Some(f);
                }
            }
        }
    }
    let (stack, opaque) = cursor.unwrap_or_else(|| (m.stack.clone(), false));
    // The innermost frame's keys, complete if it closed after the cursor.
    let live = |id: usize| -> Option<Frame> {
        finished
            .clone()
            .filter(|f| f.id == id)
            .or_else(|| m.stack.iter().find(|f| f.id == id).cloned())
    };
    let blocks: Vec<(String, Option<String>)> = stack
        .iter()
        .filter_map(|f| match &f.kind {
            FrameKind::Block(k, n) => Some((k.clone(), n.clone())),
            _ => None,
        })
        .collect();
    let inner = stack.last();
    let place = match inner {
        _ if opaque => Place::Other,
        None => Place::Entry,
        Some(f) => match (&f.kind, &f.state) {
            (FrameKind::List(k) | FrameKind::Paren(k), _) => Place::Value { key: k.clone() },
            (FrameKind::Object(field), State::Start | State::ValDone | State::ValIdent(_)) => {
                Place::ObjectKey {
                    field: field.clone(),
                }
            }
            (FrameKind::Object(_), _) => Place::Other,
            (_, State::Start | State::ValDone | State::ValIdent(_)) => Place::Entry,
            (_, State::Eq(k)) => Place::Value { key: k.clone() },
            _ => Place::Other,
        },
    };
    let (keys, children) = inner
        .and_then(|f| live(f.id))
        .or_else(|| inner.cloned())
        .map(|f| (f.keys, f.children))
        .unwrap_or_default();
    Context {
        blocks,
        place,
        word_start,
        keys,
        children,
    }
}

/// The identifier or dotted path (or literal) around `offset`: its byte
/// range. None inside a string or a comment.
pub fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let offset = offset.min(text.len());
    tokens(text)
        .into_iter()
        .take_while(|(s, _, _)| *s <= offset)
        .filter(|(_, e, tok)| offset <= *e && matches!(tok, Tok::Ident(_) | Tok::Lit))
        .last()
        .map(|(s, e, _)| (s, e))
}

/// The first character after `offset` that is not blank.
pub fn next_char(text: &str, offset: usize) -> Option<char> {
    text.get(offset..)?.chars().find(|c| !c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(marked: &str) -> Context {
        let offset = marked.find('|').expect("a cursor mark");
        let text = marked.replace('|', "");
        at(&text, offset)
    }

    #[test]
    fn field_names_in_a_block() {
        let c = ctx("cluster c {\n  kind = openshift\n  ser|\n  node w { dvipa = 1.2.3.4 }\n}\n");
        assert_eq!(
            c.blocks,
            vec![("cluster".to_string(), Some("c".to_string()))]
        );
        assert_eq!(c.place, Place::Entry);
        assert_eq!(c.keys, vec!["kind".to_string()]);
        assert_eq!(c.children, vec!["node".to_string()]);
    }

    #[test]
    fn values_references_and_lists() {
        let c = ctx("tenant t {\n  cluster = oc|\n}");
        assert_eq!(
            c.place,
            Place::Value {
                key: "cluster".into()
            }
        );
        let c = ctx("zos z { nfs_server n { versions = [nfs4, |] } }");
        assert_eq!(
            c.place,
            Place::Value {
                key: "versions".into()
            }
        );
        assert_eq!(c.blocks.len(), 2);
        let c = ctx("tenant t { nfs { server = NP8.|");
        assert_eq!(
            c.place,
            Place::Value {
                key: "server".into()
            }
        );
        assert_eq!(c.blocks.len(), 2);
        let c = ctx("tenant t { cluster = x\n  |\n}");
        assert_eq!(c.place, Place::Entry);
        assert_eq!(c.keys, vec!["cluster".to_string()]);
    }

    #[test]
    fn strings_objects_and_half_typed_text() {
        assert_eq!(ctx("t x { label = \"ab|c\" }").place, Place::Other);
        assert_eq!(ctx("# com|ment").place, Place::Other);
        let c = ctx("zos z { authority a { subject = { C|");
        assert_eq!(
            c.place,
            Place::ObjectKey {
                field: "subject".into()
            }
        );
        let c = ctx("import \"std/profiles\"\nzos z {\n  address = \n  st|");
        assert_eq!(c.blocks.len(), 1);
        let c = ctx("import \"std/profiles\" as p\n|");
        assert_eq!((c.blocks.len(), c.place), (0, Place::Entry));
        let c = ctx("zos z { jcl { class = A } | }");
        assert_eq!(c.children, vec!["jcl".to_string()]);
    }
}
