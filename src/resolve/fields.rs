//! Checking a block's fields against its schema and turning each value into a
//! typed value: unknown, duplicate and missing fields, wrong types, values
//! outside their set, and reference resolution.

use super::schema::{Dflt, FieldSchema, Ty, Word};
use super::scope::{header_span, SymId, Symbols};
use crate::diagnostics::{registry, suggest, Code, Diagnostic};
use crate::ir::{
    EnvValue, ExportFormat, Key, KeyAlg, PortRange, SecretRef, SecretSource, Size, Sp, Version,
};
use crate::source::Span;
use crate::syntax::ast::{self, Entry, Value, ValueKind};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::rc::Rc;

/// A value that passed its type check.
#[derive(Debug, Clone)]
pub enum Typed {
    Str(String),
    Int(u64),
    Bool(bool),
    Ipv4(Ipv4Addr),
    Cidr(ipnet::Ipv4Net),
    Ports(PortRange),
    Size(Size),
    /// Milliseconds.
    Duration(u64),
    Enum(&'static str),
    Ref(SymId),
    List(Vec<Sp<Typed>>),
    Secret(SecretRef),
    Object(Vec<(String, Sp<String>)>),
    Env(Vec<(String, Sp<EnvValue>)>),
    Version(Version),
    Key(Key),
    Dataset {
        dsn: Sp<String>,
        format: Sp<ExportFormat>,
        password: Option<SecretRef>,
    },
}

/// A block's checked values by field name. A block has a handful of fields,
/// so a vector searched in order is smaller and faster than a tree (a site
/// holds hundreds of thousands of blocks).
#[derive(Debug, Default)]
pub struct FieldMap(Vec<(&'static str, Sp<Typed>)>);

impl FieldMap {
    pub fn get(&self, name: &str) -> Option<&Sp<Typed>> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
    /// Adds a field; the caller has already refused duplicates.
    pub fn insert(&mut self, name: &'static str, value: Sp<Typed>) {
        self.0.push((name, value));
    }
}

/// The checked fields of one block.
#[derive(Debug, Default)]
pub struct Fields {
    pub map: FieldMap,
    /// `kind name` of the block, where defaults point.
    pub header: Option<Span>,
}

pub struct Checker<'s, 'a> {
    pub syms: &'s Symbols<'a>,
    pub diags: Vec<Diagnostic>,
    /// Unknown fields are built up to a per-file budget, then counted
    /// (red team N16: one diagnostic per field of a 31 MB block).
    pub budget: crate::diagnostics::Budget,
    /// Every name of every reference and what it resolved to, when
    /// `record_refs` (editors want them; a compile does not).
    pub refs: Vec<super::index::Ref>,
    pub record_refs: bool,
    cache: Vec<Option<Rc<Fields>>>,
    /// Blocks checked at least once (their diagnostics are reported).
    checked: Vec<bool>,
    in_progress: Vec<bool>,
}

impl<'s, 'a> Checker<'s, 'a> {
    pub fn new(syms: &'s Symbols<'a>) -> Self {
        Checker {
            syms,
            diags: Vec::new(),
            budget: crate::diagnostics::Budget::default(),
            refs: Vec::new(),
            record_refs: true,
            cache: vec![None; syms.syms.len()],
            checked: vec![false; syms.syms.len()],
            in_progress: vec![false; syms.syms.len()],
        }
    }

    /// The checked fields of a block, computed once.
    pub fn fields(&mut self, id: SymId) -> Rc<Fields> {
        if let Some(f) = &self.cache[id.0] {
            return f.clone();
        }
        if self.in_progress[id.0] {
            let sym = self.syms.get(id);
            self.diags.push(
                Diagnostic::new(
                    registry::REFERENCE_CYCLE,
                    sym.name_span,
                    format!("`{}` refers back to itself", self.syms.path_of(id)),
                    "part of a reference cycle",
                )
                .help("give one declaration in the cycle a literal value"),
            );
            return Rc::new(Fields::default());
        }
        self.in_progress[id.0] = true;
        let f = Rc::new(self.check_block(id));
        self.in_progress[id.0] = false;
        self.checked[id.0] = true;
        self.cache[id.0] = Some(f.clone());
        f
    }

    /// Checks a block unless it was checked before.
    pub fn check(&mut self, id: SymId) {
        if !self.checked[id.0] {
            self.fields(id);
        }
    }

    /// Forgets the checked fields of a block and the blocks nested in it,
    /// once the IR holds what it needs of them: at 10,000 tenants they are a
    /// fifth of the analysis' memory. Asked for again, they are checked
    /// again; the diagnostics that repeats are identical, and
    /// `diagnostics::normalize` drops them. Editors keep everything, so
    /// that the references they navigate are recorded once.
    pub fn release(&mut self, id: SymId) {
        if self.record_refs {
            return;
        }
        let mut stack = vec![id];
        while let Some(s) = stack.pop() {
            if let Some(slot) = self.cache.get_mut(s.0) {
                *slot = None;
            }
            stack.extend(self.syms.get(s).nested.iter().copied());
        }
    }

    fn check_block(&mut self, id: SymId) -> Fields {
        let sym = self.syms.get(id);
        let schema = sym.kind;
        let block = sym.block;
        let mut out = Fields {
            map: FieldMap::default(),
            header: Some(header_span(block)),
        };
        let mut first_seen: BTreeMap<&str, Span> = BTreeMap::new();
        for entry in &block.entries {
            let Entry::Field(field) = entry else { continue };
            let Some(fs) = schema.field(&field.key.name) else {
                if self.budget.admit(field.key.span, registry::UNKNOWN_FIELD) {
                    self.diags.push(unknown_field(schema, &field.key));
                }
                continue;
            };
            if let Some(first) = first_seen.get(fs.name) {
                self.diags.push(set_twice(fs.name, field.key.span, *first));
                continue;
            }
            first_seen.insert(fs.name, field.key.span);
            if let Some(tv) = self.value(id, fs, &fs.ty, &field.value) {
                out.map.insert(fs.name, Sp::new(tv, field.value.span));
            }
        }
        for fs in schema.fields.iter().filter(|f| f.required) {
            if !first_seen.contains_key(fs.name) {
                self.diags.push(
                    Diagnostic::new(
                        registry::MISSING_FIELD,
                        header_span(block),
                        format!(
                            "`{}` is missing the required field `{}`",
                            describe_block(sym),
                            fs.name
                        ),
                        format!("needs `{}`", fs.name),
                    )
                    .help(format!(
                        "add `{} = ...`, {}: {}",
                        fs.name,
                        fs.ty.describe(),
                        fs.doc()
                    ))
                    .about(fs.name),
                );
            }
        }
        out
    }

    /// A secret written as a literal: the spec would carry it into version
    /// control, so it is an error of its own (never echoed back).
    fn secret_literal(&mut self, what: &str, v: &Value) {
        self.diags.push(
            Diagnostic::new(
                registry::SECRET_LITERAL,
                v.span,
                format!("{what} is written into the spec"),
                "a literal secret",
            )
            .help("secrets are never written into a spec: use env(\"NAME\") or file(\"path\"), and rotate the value if it was committed"),
        );
    }

    fn wrong_type(&mut self, field: &FieldSchema, ty: &Ty, v: &Value) {
        let mut quoted = None;
        let help = match (ty, &v.kind) {
            (Ty::Ipv4, ValueKind::Str(s)) if s.contains(',') => {
                "write the bare address; mount options are derived from the NFS server's versions"
                    .to_string()
            }
            (Ty::Ipv4 | Ty::Cidr | Ty::Ports | Ty::Size | Ty::Duration, ValueKind::Str(_)) => {
                format!(
                    "typed literals are written without quotes: {}",
                    ty.describe()
                )
            }
            (Ty::Str, ValueKind::Path(p)) if p.len() == 1 => {
                format!(
                    "put the text in quotes: `{} = \"{}\"`",
                    field.name, p[0].name
                )
            }
            (Ty::Str, ValueKind::Duration(..) | ValueKind::Size(..) | ValueKind::Int(_)) => {
                // `cpu = 100m` as in Kubernetes YAML: the same text in quotes.
                let text = quantity_text(&v.kind);
                quoted = Some(format!("\"{text}\""));
                format!(
                    "quote it: `{} = \"{text}\"` (a Kubernetes quantity such as a CPU request is a string here)",
                    field.name
                )
            }
            _ => format!("`{}` takes {}", field.name, ty.describe()),
        };
        let mut d = Diagnostic::new(
            registry::WRONG_TYPE,
            v.span,
            format!(
                "`{}` takes {}, found {}",
                field.name,
                ty.describe(),
                v.kind.describe()
            ),
            format!("{} here", v.kind.describe()),
        )
        .help(help);
        if let Some(q) = quoted {
            // Safe: the same characters, which the field reads as a string.
            d = d.fix(
                crate::diagnostics::Applicability::Safe,
                format!("write it as the string {q}"),
                v.span,
                q,
            );
        }
        self.diags.push(d);
    }

    /// A value of the right type that breaks a rule of its field.
    fn bad_value(&mut self, code: Code, span: Span, message: String, help: String) {
        self.diags
            .push(Diagnostic::new(code, span, message, "not allowed").help(help));
    }

    fn value(&mut self, scope: SymId, field: &FieldSchema, ty: &Ty, v: &Value) -> Option<Typed> {
        let tv = match (ty, &v.kind) {
            (Ty::Str, ValueKind::Str(s)) => Typed::Str(s.clone()),
            (Ty::Name, ValueKind::Str(s)) => Typed::Str(s.clone()),
            (Ty::Name, ValueKind::Path(p)) if p.len() == 1 => Typed::Str(p[0].name.clone()),
            (Ty::Int(lo, hi), ValueKind::Int(n)) => {
                if n < lo || n > hi {
                    self.bad_value(
                        registry::VALUE_RANGE,
                        v.span,
                        format!("`{}` must be in {lo}..{hi}, found {n}", field.name),
                        field.doc().into_owned(),
                    );
                    return None;
                }
                Typed::Int(*n)
            }
            (Ty::Bool, ValueKind::Bool(b)) => Typed::Bool(*b),
            (Ty::Ipv4, ValueKind::Ipv4(a)) => Typed::Ipv4(*a),
            (Ty::Cidr, ValueKind::Cidr(n)) => {
                if n.network() != n.addr() {
                    self.bad_value(
                        registry::BAD_HOST,
                        v.span,
                        format!("`{n}` has host bits set"),
                        format!("write the network address: `{}`", n.trunc()),
                    );
                    return None;
                }
                Typed::Cidr(*n)
            }
            (Ty::Ports, ValueKind::PortRange(lo, hi)) => {
                if *lo == 0 || *hi > 65535 || lo > hi {
                    self.diags.push(
                        Diagnostic::new(
                            registry::PORT_RANGE_INVALID,
                            v.span,
                            format!("`{lo}..{hi}` is not a valid port range"),
                            if lo > hi {
                                "low end above high end"
                            } else {
                                "outside 1..65535"
                            },
                        )
                        .help(if lo > hi {
                            format!("write it low to high: `{hi}..{lo}`")
                        } else {
                            "ports are 1..65535".to_string()
                        }),
                    );
                    if lo > hi && *lo <= 65535 && *hi > 0 {
                        if let Some(d) = self.diags.last_mut() {
                            d.fix = Some(crate::diagnostics::Fix {
                                title: format!("write it low to high: `{hi}..{lo}`"),
                                span: v.span,
                                text: format!("{hi}..{lo}"),
                                // A reversed range has one reading.
                                applicability: crate::diagnostics::Applicability::Safe,
                            });
                        }
                    }
                    return None;
                }
                Typed::Ports(PortRange {
                    low: *lo as u16,
                    high: *hi as u16,
                })
            }
            (Ty::Ports, ValueKind::Path(p)) => {
                let target = self.reference(scope, field, &["port_set"], p, v.span)?;
                let fields = self.fields(target);
                match fields.map.get("range").map(|s| &s.value) {
                    Some(Typed::Ports(r)) => Typed::Ports(*r),
                    _ => return None,
                }
            }
            (Ty::Size, ValueKind::Size(n, unit)) => {
                let factor: u128 = match unit.as_str() {
                    "Ki" => 1 << 10,
                    "Mi" => 1 << 20,
                    "Gi" => 1 << 30,
                    "Ti" => 1 << 40,
                    "Pi" => 1 << 50,
                    "K" => 1_000,
                    "M" => 1_000_000,
                    "G" => 1_000_000_000,
                    "T" => 1_000_000_000_000,
                    _ => 1_000_000_000_000_000,
                };
                if *n == 0 {
                    self.bad_value(
                        registry::VALUE_RANGE,
                        v.span,
                        "a size of zero".into(),
                        "give the capacity, e.g. 2Gi".into(),
                    );
                    return None;
                }
                // Kubernetes writes the decimal kilo as `k`.
                let unit = if unit == "K" { "k" } else { unit.as_str() };
                Typed::Size(Size {
                    text: format!("{n}{unit}"),
                    bytes: u128::from(*n) * factor,
                })
            }
            (Ty::Duration, ValueKind::Duration(ms, _)) => Typed::Duration(*ms),
            (Ty::Enum(set), ValueKind::Path(p)) if p.len() == 1 => {
                self.enum_value(field, set, &p[0].name, v.span)?
            }
            (Ty::Enum(set), ValueKind::Str(s)) => self.enum_value(field, set, s, v.span)?,
            (Ty::Ref(kinds), ValueKind::Path(p)) => {
                Typed::Ref(self.reference(scope, field, kinds, p, v.span)?)
            }
            (Ty::List(inner), ValueKind::List(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(tv) = self.value(scope, field, inner, item) {
                        out.push(Sp::new(tv, item.span));
                    }
                }
                Typed::List(out)
            }
            (Ty::Secret, ValueKind::Secret(src, name)) => {
                Typed::Secret(self.secret(*src, name, v.span)?)
            }
            (Ty::Secret, ValueKind::Str(_)) => {
                self.secret_literal(&format!("the secret `{}`", field.name), v);
                return None;
            }
            (Ty::Host, ValueKind::Ipv4(a)) => Typed::Str(a.to_string()),
            (Ty::Host, ValueKind::Str(h)) => {
                if !host_ok(h) {
                    self.bad_value(
 registry::BAD_HOST,
                        v.span,
                        format!("`{}` is not a host name or address", h.escape_debug()),
                        "write the bare address or DNS name, without protocol, port or path (e.g. 10.0.1.231 or \"fa1.example.com\")".into(),
                    );
                    return None;
                }
                Typed::Str(h.clone())
            }
            (Ty::Version, ValueKind::Str(t)) => match Version::parse(t) {
                Some(ver) => Typed::Version(ver),
                None => {
                    self.bad_value(
                        registry::BAD_FORMAT,
                        v.span,
                        format!("`{}` is not a version number", t.escape_debug()),
                        "write dotted numbers, e.g. \"3.2.0\"".into(),
                    );
                    return None;
                }
            },
            (Ty::Env, ValueKind::Object(fields)) => Typed::Env(self.env(field, fields)?),
            (Ty::Object(keys), ValueKind::Object(fields)) => {
                let mut out: Vec<(String, Sp<String>)> = Vec::new();
                for f in fields {
                    if !keys.is_empty() && !keys.contains(&f.key.name.as_str()) {
                        let suggestion = suggest(&f.key.name, keys.iter().copied());
                        let help = match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("allowed keys: {}", keys.join(", ")),
                        };
                        let mut d = Diagnostic::new(
                            registry::UNKNOWN_FIELD,
                            f.key.span,
                            format!("`{}` is not a key of `{}`", f.key.name, field.name),
                            "unknown key",
                        )
                        .help(help);
                        if let Some(s) = suggestion {
                            d = d.replace_with(f.key.span, &f.key.name, s);
                        }
                        self.diags.push(d);
                        continue;
                    }
                    if let Some((_, first)) = out.iter().find(|(k, _)| *k == f.key.name) {
                        self.diags
                            .push(set_twice(&f.key.name, f.key.span, first.span));
                        continue;
                    }
                    match &f.value.kind {
                        ValueKind::Str(s) => {
                            out.push((f.key.name.clone(), Sp::new(s.clone(), f.value.span)))
                        }
                        _ => self.wrong_type(field, &Ty::Str, &f.value),
                    }
                }
                Typed::Object(out)
            }
            (Ty::Key, ValueKind::Call(name, args)) => {
                let alg = match KeyAlg::from_word(&name.name) {
                    Some(alg) => alg,
                    None => {
                        let other = name.name.as_str();
                        let help = match suggest(other, KeyAlg::WORDS.iter().copied()) {
                            Some(s) => format!("did you mean `{s}(...)`?"),
                            None => "write rsa(2048) or nistecc(256)".into(),
                        };
                        self.diags.push(
                            Diagnostic::new(
                                registry::BAD_ENUM,
                                name.span,
                                format!("unknown key algorithm `{other}`"),
                                "unknown algorithm",
                            )
                            .help(help),
                        );
                        return None;
                    }
                };
                match args.as_slice() {
                    [ast::Arg { name: None, value }] => match value.kind {
                        ValueKind::Int(bits) if bits <= 16384 => Typed::Key(Key {
                            alg,
                            bits: Sp::new(bits, value.span),
                        }),
                        _ => {
                            self.bad_value(
                                registry::VALUE_RANGE,
                                value.span,
                                "key size must be a number of bits up to 16384".into(),
                                "e.g. rsa(2048)".into(),
                            );
                            return None;
                        }
                    },
                    _ => {
                        self.bad_value(
                            registry::BAD_ARGUMENTS,
                            v.span,
                            format!("`{}` takes one argument, the key size", name.name),
                            "e.g. rsa(2048)".into(),
                        );
                        return None;
                    }
                }
            }
            (Ty::Dataset(formats), ValueKind::Call(name, args)) if name.name == "dataset" => {
                self.dataset(field, formats, args, v.span)?
            }
            _ => {
                self.wrong_type(field, ty, v);
                return None;
            }
        };
        Some(tv)
    }

    fn enum_value(
        &mut self,
        field: &FieldSchema,
        set: &'static [&'static str],
        s: &str,
        span: Span,
    ) -> Option<Typed> {
        if let Some(v) = set.iter().find(|c| c.eq_ignore_ascii_case(s)) {
            return Some(Typed::Enum(v));
        }
        let suggestion = suggest(s, set.iter().copied());
        let help = match suggestion {
            Some(x) => format!("did you mean `{x}`? allowed: {}", set.join(", ")),
            None => format!("allowed: {}", set.join(", ")),
        };
        let mut d = Diagnostic::new(
            registry::BAD_ENUM,
            span,
            format!("`{s}` is not a valid value for `{}`", field.name),
            "not in the set",
        )
        .help(help);
        if let Some(x) = suggestion {
            d = d.replace_with(span, s, x);
        }
        self.diags.push(d);
        None
    }

    fn secret(&mut self, source: ast::SecretSource, name: &str, span: Span) -> Option<SecretRef> {
        let source = match source {
            ast::SecretSource::Env => SecretSource::Env,
            ast::SecretSource::File => SecretSource::File,
        };
        let ok = match source {
            SecretSource::Env => {
                !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit())
            }
            SecretSource::File => !name.is_empty() && !name.chars().any(char::is_control),
        };
        if !ok {
            self.bad_value(
 registry::BAD_FORMAT,
                span,
                format!(
                    "`{name}` is not a valid {}",
                    if source == SecretSource::Env {
                        "environment variable name"
                    } else {
                        "file path"
                    }
                ),
                "env(\"NAME\") takes letters, digits and _; file(\"path\") a non-empty path without control characters".into(),
            );
            return None;
        }
        Some(SecretRef {
            source,
            name: name.to_string(),
            span,
        })
    }

    fn dataset(
        &mut self,
        field: &FieldSchema,
        formats: &'static [&'static str],
        args: &[ast::Arg],
        span: Span,
    ) -> Option<Typed> {
        let mut dsn = None;
        let mut format = None;
        let mut password = None;
        let mut password_given = false;
        for a in args {
            match (&a.name, &a.value.kind) {
                (None, ValueKind::Str(s)) if dsn.is_none() => {
                    dsn = Some(Sp::new(s.clone(), a.value.span))
                }
                (Some(n), _) if n.name == "format" => {
                    let fs = FieldSchema {
                        name: "format",
                        ty: Ty::Enum(formats),
                        required: false,
                        default: Dflt::None,
                        doc_template: "",
                    };
                    if let Some(Typed::Enum(f)) = self.value_standalone(&fs, &a.value) {
                        // `formats` are words of ExportFormat (schema.rs).
                        if let Some(f) = ExportFormat::from_word(f) {
                            format = Some(Sp::new(f, a.value.span));
                        }
                    }
                }
                (Some(n), ValueKind::Secret(src, name)) if n.name == "password" => {
                    password_given = true;
                    password = self.secret(*src, name, a.value.span);
                }
                (Some(n), ValueKind::Str(_)) if n.name == "password" => {
                    password_given = true;
                    self.secret_literal("the PKCS#12 password", &a.value);
                }
                (Some(n), _) if n.name == "password" => {
                    password_given = true;
                    let fs = FieldSchema {
                        name: "password",
                        ty: Ty::Secret,
                        required: false,
                        default: Dflt::None,
                        doc_template: "",
                    };
                    self.wrong_type(&fs, &Ty::Secret, &a.value);
                }
                (Some(n), _) => {
                    let help = match suggest(&n.name, ["format", "password"]) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => {
                            "dataset() takes the name, `format = ...` and `password = ...`".into()
                        }
                    };
                    self.diags.push(
                        Diagnostic::new(
                            registry::UNKNOWN_FIELD,
                            n.span,
                            format!("dataset() has no argument `{}`", n.name),
                            "unknown argument",
                        )
                        .help(help),
                    );
                }
                (None, _) => self.bad_value(
                    registry::BAD_ARGUMENTS,
                    a.value.span,
                    "dataset() takes the data set name as a string, then named arguments".into(),
                    "e.g. dataset(\"HLQ.ZCX.CERTAUTH\", format = certb64)".into(),
                ),
            }
        }
        let Some(dsn) = dsn else {
            self.bad_value(
                registry::BAD_ARGUMENTS,
                span,
                format!("`{}` needs the data set name", field.name),
                "e.g. dataset(\"HLQ.ZCX.CERTAUTH\")".into(),
            );
            return None;
        };
        // Without `format`, the first of the field's formats.
        let format = match format {
            Some(f) => f,
            None => Sp::new(
                formats
                    .first()
                    .and_then(|f| ExportFormat::from_word(f))
                    .unwrap_or(ExportFormat::FIRST),
                span,
            ),
        };
        let pkcs12 = matches!(
            format.value,
            ExportFormat::Pkcs12Der | ExportFormat::Pkcs12B64
        );
        if pkcs12 && password.is_none() {
            if password_given {
                return None;
            }
            self.diags.push(
                Diagnostic::new(registry::MISSING_FIELD, span, "a PKCS#12 export needs a password", "no `password = ...`")
                    .help("add `password = env(\"NAME\")` or `password = file(\"path\")`; the value never enters the bundle"),
            );
            return None;
        }
        if !pkcs12 && password.is_some() {
            self.bad_value(
                registry::CONFLICT,
                span,
                "only PKCS#12 exports take a password".into(),
                "remove `password = ...`".into(),
            );
        }
        Some(Typed::Dataset {
            dsn,
            format,
            password,
        })
    }

    /// `{ NAME = "text", KEY = env("X") }`: names are unique; a literal whose
    /// name says it is a secret (password, token, key) is an error.
    fn env(
        &mut self,
        field: &FieldSchema,
        fields: &[ast::Field],
    ) -> Option<Vec<(String, Sp<EnvValue>)>> {
        let mut out: Vec<(String, Sp<EnvValue>)> = Vec::new();
        for f in fields {
            if let Some((_, first)) = out.iter().find(|(k, _)| *k == f.key.name) {
                self.diags
                    .push(set_twice(&f.key.name, f.key.span, first.span));
                continue;
            }
            let value = match &f.value.kind {
                ValueKind::Str(_) if crate::rules::looks_secret(&f.key.name) => {
                    self.secret_literal(&format!("the secret variable `{}`", f.key.name), &f.value);
                    continue;
                }
                ValueKind::Str(s) => EnvValue::Literal(s.clone()),
                ValueKind::Secret(src, name) => {
                    let Some(r) = self.secret(*src, name, f.value.span) else {
                        continue;
                    };
                    EnvValue::Secret(r)
                }
                _ => {
                    self.wrong_type(field, &Ty::Str, &f.value);
                    continue;
                }
            };
            out.push((f.key.name.clone(), Sp::new(value, f.value.span)));
        }
        Some(out)
    }

    /// Checks a value that does not need a scope (no references).
    fn value_standalone(&mut self, field: &FieldSchema, v: &Value) -> Option<Typed> {
        match (&field.ty, &v.kind) {
            (Ty::Enum(set), ValueKind::Path(p)) if p.len() == 1 => {
                self.enum_value(field, set, &p[0].name, v.span)
            }
            (Ty::Enum(set), ValueKind::Str(s)) => self.enum_value(field, set, s, v.span),
            _ => {
                self.wrong_type(field, &field.ty, v);
                None
            }
        }
    }

    fn reference(
        &mut self,
        scope: SymId,
        field: &FieldSchema,
        kinds: &[&str],
        path: &[ast::Ident],
        span: Span,
    ) -> Option<SymId> {
        let found = self.syms.lookup_traced(scope, path, kinds, &mut self.refs);
        if !self.record_refs {
            self.refs.clear();
        }
        match found {
            Ok(id) => {
                let target = self.syms.get(id);
                if kinds.contains(&target.kind.kind) {
                    Some(id)
                } else if let Some(outer) = path
                    .first()
                    .filter(|_| path.len() == 1)
                    .and_then(|p| self.syms.shadowed(scope, &p.name, kinds))
                {
                    self.diags.push(self.shadowing(id, outer, span));
                    None
                } else {
                    self.diags.push(
                        Diagnostic::new(
                            registry::WRONG_KIND,
                            span,
                            format!(
                                "`{}` takes a {}, but `{}` is a {}",
                                field.name,
                                kinds.join(" or "),
                                self.syms.path_of(id),
                                target.kind.kind
                            ),
                            format!("a {}", target.kind.kind),
                        )
                        .related(
                            target.name_span,
                            format!("`{}` is declared here", target.name),
                        )
                        .help(format!("name a {} here", kinds.join(" or "))),
                    );
                    None
                }
            }
            Err(d) => {
                // `ocp1.my_registry` where an inner `ocp1` captures the first
                // segment: say so rather than "`ocp1` has no `my_registry`".
                // Only when the hidden declaration has what the path names.
                let captured = match path {
                    [first, second, ..] => match self.syms.same_named(scope, &first.name)[..] {
                        [inner, outer, ..]
                            if self
                                .syms
                                .get(outer)
                                .children
                                .contains_key(second.name.as_str())
                                && !self
                                    .syms
                                    .get(inner)
                                    .children
                                    .contains_key(second.name.as_str()) =>
                        {
                            Some(self.shadowing(inner, outer, first.span))
                        }
                        _ => None,
                    },
                    _ => None,
                };
                self.diags.extend(captured.or(d.map(|d| *d)));
                None
            }
        }
    }

    /// E0210: `inner` captures a reference at `span` meant for `outer`.
    fn shadowing(&self, inner: SymId, outer: SymId, span: Span) -> Diagnostic {
        let target = self.syms.get(inner);
        let qualified = self.syms.path_of(outer);
        let outer = self.syms.get(outer);
        // An unnamed block (`nfs { }`) is named by its kind and cannot be
        // renamed; then the outer declaration is the one to rename.
        let inner_named = target.block.name.is_some();
        let help = match (outer.parent.is_some(), inner_named) {
            (true, _) => {
                format!("write the reference in full, `{qualified}`, or rename one of the two")
            }
            (false, true) => format!("rename the {} `{}`", target.kind.kind, target.name),
            (false, false) => format!(
                "rename the {} `{}`: the `{}` block is always named by its kind",
                outer.kind.kind, outer.name, target.kind.kind
            ),
        };
        Diagnostic::new(
            registry::SHADOWED,
            span,
            format!(
                "`{}` names the {} `{}`, which shadows the {} of that name",
                target.name,
                target.kind.kind,
                self.syms.path_of(inner),
                outer.kind.kind
            ),
            format!("the {} is found first", target.kind.kind),
        )
        .related(
            target.name_span,
            format!("this {} shadows", target.kind.kind),
        )
        .related(
            outer.name_span,
            format!("the {} `{}` it hides", outer.kind.kind, outer.name),
        )
        .help(help)
    }
}

/// A field or key given a second time.
fn set_twice(name: &str, again: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        registry::DUPLICATE_FIELD,
        again,
        format!("`{name}` is set twice"),
        "set again here",
    )
    .related(first, "first set here")
    .help("remove one of the two")
}

/// A DNS name or address as a management endpoint: no protocol, port, path
/// or blanks.
fn host_ok(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn describe_block(sym: &super::scope::Symbol<'_>) -> String {
    if sym.block.name.is_some() {
        format!("{} {}", sym.kind.kind, sym.name)
    } else {
        sym.kind.kind.to_string()
    }
}

fn unknown_field(schema: &super::schema::BlockSchema, key: &ast::Ident) -> Diagnostic {
    let names = schema.fields.iter().map(|f| f.name);
    let mut suggestion = None;
    let help = if schema.children.contains(&key.name.as_str()) {
        format!("`{}` is a block: write `{} {{ ... }}`", key.name, key.name)
    } else {
        suggestion = suggest(&key.name, names);
        match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "`{}` takes: {}",
                schema.kind,
                schema
                    .fields
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    };
    let d = Diagnostic::new(
        registry::UNKNOWN_FIELD,
        key.span,
        format!("`{}` has no field `{}`", schema.kind, key.name),
        "unknown field",
    )
    .help(help);
    match suggestion {
        Some(s) => d.replace_with(key.span, &key.name, s),
        None => d,
    }
}

/// A number, size or duration as written (`100m`, `2Gi`, `3`).
fn quantity_text(v: &ValueKind) -> String {
    match v {
        ValueKind::Duration(_, text) => text.clone(),
        ValueKind::Size(n, unit) => format!("{n}{unit}"),
        ValueKind::Int(n) => n.to_string(),
        _ => String::new(),
    }
}
