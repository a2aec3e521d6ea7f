//! The syntax tree: what a file says, with a span on every node. It knows
//! nothing of what the blocks mean; that is the resolver's job.

use crate::source::{FileId, Span};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxFile {
    pub file: FileId,
    pub imports: Vec<Import>,
    pub blocks: Vec<Block>,
    /// Regions skipped to recover from syntax errors (already reported).
    /// Empty for a file that parsed cleanly. An empty region at the end of
    /// the text marks a file that ends with blocks still open: they were
    /// closed there ([`SyntaxFile::closed_at_end`]).
    pub skipped: Vec<Span>,
}

impl SyntaxFile {
    /// Whether the file ended with blocks (or lists, objects, calls) still
    /// open, read as if closed at the end. Where the missing `}` belongs is
    /// a guess, and so is what the blocks hold: an editor can still list and
    /// complete them, but what they mean is not reported on.
    pub fn closed_at_end(&self) -> bool {
        self.skipped.iter().any(|s| s.start == s.end)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub path: String,
    pub path_span: Span,
    pub alias: Option<Ident>,
    pub span: Span,
}

/// `kind name? { entries }`
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: Ident,
    pub name: Option<Ident>,
    pub entries: Vec<Entry>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Field(Field),
    Block(Block),
}

/// `key = value`
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub key: Ident,
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    Env,
    File,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    Str(String),
    Int(u64),
    Bool(bool),
    Ipv4(Ipv4Addr),
    Cidr(ipnet::Ipv4Net),
    /// Low and high end as written; the resolver checks the range.
    PortRange(u64, u64),
    /// A quantity such as `2Gi`: the number and its unit as written.
    Size(u64, String),
    /// A duration in milliseconds, with the text as written.
    Duration(u64, String),
    List(Vec<Value>),
    Object(Vec<Field>),
    /// An identifier or dotted reference.
    Path(Vec<Ident>),
    Secret(SecretSource, String),
    /// The name is boxed: calls are few, values many, and a value is as
    /// large as its largest kind.
    Call(Box<Ident>, Vec<Arg>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Value,
}

impl ValueKind {
    /// What the value is, in words, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            ValueKind::Str(_) => "a string",
            ValueKind::Int(_) => "an integer",
            ValueKind::Bool(_) => "a boolean",
            ValueKind::Ipv4(_) => "an IPv4 address",
            ValueKind::Cidr(_) => "a CIDR",
            ValueKind::PortRange(..) => "a port range",
            ValueKind::Size(..) => "a size",
            ValueKind::Duration(..) => "a duration",
            ValueKind::List(_) => "a list",
            ValueKind::Object(_) => "an object",
            ValueKind::Path(p) if p.len() == 1 => "a name",
            ValueKind::Path(_) => "a dotted reference",
            ValueKind::Secret(..) => "a secret reference",
            ValueKind::Call(..) => "a constructor call",
        }
    }
}
