//! The fast path: a hand-written parser for exactly the language of
//! `grammar/tenant.pest`, building the same [`SyntaxFile`] directly from the
//! bytes.
//!
//! pest stays the reference: it reports every syntax error and recovers from
//! it. This parser only decides whether a text is in the language and, when it
//! is, builds the tree pest's builder would build, spans and literal
//! diagnostics included (both call [`super::literal`]). A text it refuses goes
//! to pest unchanged, so a refusal is never wrong, only slower; accepting a
//! text pest refuses, or building a different tree, is a bug, which the
//! differential test (`tests/parse_differential.rs`) looks for.
//!
//! Every function mirrors one grammar rule with pest's semantics: ordered
//! choice (the first alternative that matches wins; a failing alternative
//! leaves nothing behind), greedy repetition without backtracking, and the
//! implicit `WHITESPACE`/`COMMENT` skip between the tokens of non-atomic rules
//! only. A rule that fails returns `None` and may leave the position and the
//! diagnostics anywhere: the caller that tries something else resets them to
//! a [`Mark`] it took before. Alternatives are chosen by their first byte
//! where the grammar allows only one of them to start with it, which is what
//! makes this parser fast; where several can (`env(` is a secret or a call,
//! a digit starts six kinds of literal), they are tried in the grammar's
//! order.

use super::ast::*;
use super::lex::{self, ident_start, word};
use super::literal;
use super::MAX_NESTING;
use crate::diagnostics::Diagnostic;
use crate::source::{FileId, Span};

/// Parses `text` if it is in the language: the tree and the literal
/// diagnostics, exactly as the pest path would give them. `None` when pest
/// would report a syntax error, and when brackets nest deeper than
/// [`MAX_NESTING`]: this parser counts them as it goes (every `{`, `[` and
/// `(` it enters), so a text it accepts needs no separate nesting guard.
pub(super) fn parse(file: FileId, text: &str) -> Option<(SyntaxFile, Vec<Diagnostic>)> {
    let mut p = Parser {
        file,
        text,
        b: text.as_bytes(),
        pos: 0,
        depth: 0,
        too_deep: false,
        diags: Vec::new(),
    };
    let tree = p.file()?;
    (!p.too_deep).then_some((tree, p.diags))
}

/// Where to come back to when an alternative fails: the position and how
/// many literal diagnostics had been reported (a failed alternative's
/// diagnostics are dropped; pest's builder never sees that alternative).
#[derive(Clone, Copy)]
struct Mark {
    pos: usize,
    diags: usize,
    depth: usize,
}

struct Parser<'t> {
    file: FileId,
    text: &'t str,
    b: &'t [u8],
    pos: usize,
    /// The brackets open at the position.
    depth: usize,
    /// A bracket was refused for nesting deeper than [`MAX_NESTING`].
    too_deep: bool,
    diags: Vec<Diagnostic>,
}

/// What may not follow a boolean or a port range: a byte that would go on
/// as a name (`#` aside, which starts a comment after a number).
fn glued(c: u8) -> bool {
    word(c) || matches!(c, b'-' | b'$' | b'@')
}

impl Parser<'_> {
    /// The byte at `i`; 0 past the end. No rule gives 0 a meaning (it is no
    /// token's first byte, no blank, not in any lookahead's set), so the end
    /// of the text and a NUL byte are both "none of the expected bytes", as
    /// they are to pest. Strings, where a NUL is content, check the end
    /// themselves.
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            diags: self.diags.len(),
            depth: self.depth,
        }
    }

    fn reset(&mut self, m: Mark) {
        self.pos = m.pos;
        self.diags.truncate(m.diags);
        self.depth = m.depth;
    }

    /// An opening bracket, one level deeper; refused (and the whole text
    /// with it) past [`MAX_NESTING`] levels, which keeps the recursion
    /// bounded. A rule that fails after it leaves the depth to the caller's
    /// [`Mark`], like the position.
    fn open(&mut self, c: u8) -> bool {
        if self.peek() != c {
            return false;
        }
        if self.depth == MAX_NESTING {
            self.too_deep = true;
            return false;
        }
        self.depth += 1;
        self.pos += 1;
        true
    }

    /// The closing bracket of the innermost [`open`](Self::open).
    fn close(&mut self, c: u8) -> bool {
        let hit = self.eat(c);
        if hit {
            self.depth -= 1;
        }
        hit
    }

    fn span(&self, s: usize, e: usize) -> Span {
        Span::new(self.file, s, e)
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == c;
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn looking_at(&self, s: &[u8]) -> bool {
        self.b[self.pos..].starts_with(s)
    }

    fn eat_str(&mut self, s: &[u8]) -> bool {
        let hit = self.looking_at(s);
        if hit {
            self.pos += s.len();
        }
        hit
    }

    /// pest's implicit skip: `(WHITESPACE | COMMENT)*`, by the lexer's rules.
    /// A `/*` without its `*/` is no comment: the skip stops before it, and
    /// since no token starts with `/`, whatever comes next fails there, as in
    /// pest.
    fn skip(&mut self) {
        self.pos = lex::skip_trivia(self.b, self.pos);
    }

    /// Where the `ident` starting at `s` ends, if one does.
    fn ident_end(&self, s: usize) -> Option<usize> {
        lex::ident_end(self.b, s)
    }

    fn ident_at(&self, s: usize, e: usize) -> Ident {
        Ident {
            name: self.text[s..e].to_string(),
            span: self.span(s, e),
        }
    }

    /// `ident`, read at the position.
    fn ident(&mut self) -> Option<Ident> {
        let s = self.pos;
        let e = self.ident_end(s)?;
        self.pos = e;
        Some(self.ident_at(s, e))
    }

    /// Where the `ASCII_DIGIT{lo,hi}` at `s` ends, if at least `lo` digits
    /// are there (greedy: at most `hi`, never giving any back).
    fn digits_end(&self, s: usize, lo: usize, hi: usize) -> Option<usize> {
        let mut e = s;
        while e - s < hi && self.at(e).is_ascii_digit() {
            e += 1;
        }
        (e - s >= lo).then_some(e)
    }

    /// `file = { SOI ~ "\u{FEFF}"? ~ item* ~ EOI }`, with `item = _{ import
    /// | block }`. The skip between `SOI` and the mark means blanks and
    /// comments may come before it.
    fn file(&mut self) -> Option<SyntaxFile> {
        self.skip();
        self.eat_str("\u{FEFF}".as_bytes());
        let mut imports = Vec::new();
        let mut blocks = Vec::new();
        loop {
            self.skip();
            if self.pos == self.b.len() {
                break;
            }
            // An item that fails leaves `EOI` to match here, which it
            // cannot: there is a byte. So any failure refuses the file.
            let s = self.pos;
            if self.looking_at(b"import") {
                let m = self.mark();
                if let Some(i) = self.import() {
                    imports.push(i);
                    continue;
                }
                // Not an import after all (`import { ... }`): a block kind.
                self.reset(m);
            }
            let e = self.ident_end(s)?;
            self.pos = e;
            blocks.push(self.block_after_kind(s, e)?);
        }
        Some(SyntaxFile {
            file: self.file,
            imports: crate::fitted(imports),
            blocks: crate::fitted(blocks),
            skipped: Vec::new(),
        })
    }

    /// `import = { "import" ~ string ~ (!as_glued ~ "as" ~ ident)? }`.
    /// Without an alias the import's span takes in the blanks and comments
    /// after the path: pest skips them before trying the optional part and
    /// does not give them back when it fails.
    fn import(&mut self) -> Option<Import> {
        let s = self.pos;
        if !self.eat_str(b"import") {
            return None;
        }
        self.skip();
        let (path, path_span) = self.string()?;
        self.skip();
        let m = self.mark();
        let alias = self.alias();
        if alias.is_none() {
            self.reset(m);
        }
        Some(Import {
            path,
            path_span,
            alias,
            span: self.span(s, self.pos),
        })
    }

    /// `!as_glued ~ "as" ~ ident`, where `as_glued = @{ "as" ~
    /// (ASCII_ALPHANUMERIC | "_") }`: `assoc` is the next block's kind.
    fn alias(&mut self) -> Option<Ident> {
        if !self.eat_str(b"as") || word(self.peek()) {
            return None;
        }
        self.skip();
        self.ident()
    }

    /// `block = { ident ~ ident? ~ lbrace ~ entries ~ rbrace }`, its kind
    /// (`s..e`) already read.
    fn block_after_kind(&mut self, s: usize, e: usize) -> Option<Block> {
        let kind = self.ident_at(s, e);
        self.skip();
        // `ident?`: fails without reading anything.
        let name = self.ident();
        self.skip();
        if !self.open(b'{') {
            return None;
        }
        let entries = self.entries()?;
        if !self.close(b'}') {
            return None;
        }
        Some(Block {
            kind,
            name,
            entries,
            span: self.span(s, self.pos),
        })
    }

    /// `entries = { (entry ~ ","?)* }` with `entry = _{ field | block }`,
    /// and the skip before the `rbrace` that follows. An entry that fails
    /// leaves `}` to match where it started, which it cannot (no entry starts
    /// with `}`): any failure refuses the block.
    fn entries(&mut self) -> Option<Vec<Entry>> {
        let mut entries = Vec::new();
        loop {
            self.skip();
            if self.peek() == b'}' {
                return Some(crate::fitted(entries));
            }
            // `field = { ident ~ equals ~ value }` and a block both start with
            // an ident; after it and the skip, `=` makes it a field (a block
            // cannot go on with `=`, so a field whose value fails is no block
            // either).
            let s = self.pos;
            let e = self.ident_end(s)?;
            self.pos = e;
            self.skip();
            if self.eat(b'=') {
                self.skip();
                let value = self.value()?;
                entries.push(Entry::Field(Field {
                    key: self.ident_at(s, e),
                    span: self.span(s, value.span.end as usize),
                    value,
                }));
            } else {
                self.pos = e;
                entries.push(Entry::Block(self.block_after_kind(s, e)?));
            }
            self.skip();
            self.eat(b',');
        }
    }

    /// `field = { ident ~ equals ~ value }`.
    fn field(&mut self) -> Option<Field> {
        let s = self.pos;
        let key = self.ident()?;
        self.skip();
        if !self.eat(b'=') {
            return None;
        }
        self.skip();
        let value = self.value()?;
        Some(Field {
            key,
            span: self.span(s, value.span.end as usize),
            value,
        })
    }

    /// `value`: the grammar's ordered choice, decided by the first byte where
    /// only one alternative can start with it.
    fn value(&mut self) -> Option<Value> {
        let s = self.pos;
        match self.peek() {
            b'"' => {
                let (text, span) = self.string()?;
                Some(Value {
                    kind: ValueKind::Str(text),
                    span,
                })
            }
            b'[' => self.list(),
            b'{' => self.object(),
            b'0'..=b'9' => self.number_value(),
            c if ident_start(c) => self.word_value(s),
            _ => None,
        }
    }

    /// `string = ${ "\"" ~ string_inner ~ "\"" }`: no line break, and only
    /// the escapes `\" \\ \n \t \u{1-6 hex digits}`.
    fn string(&mut self) -> Option<(String, Span)> {
        let s = self.pos;
        if !self.eat(b'"') {
            return None;
        }
        loop {
            match *self.b.get(self.pos)? {
                b'"' => break,
                b'\n' => return None,
                b'\\' => match self.at(self.pos + 1) {
                    b'"' | b'\\' | b'n' | b't' => self.pos += 2,
                    b'u' if self.at(self.pos + 2) == b'{' => {
                        let hex = self.pos + 3;
                        let mut e = hex;
                        while e - hex < 6 && self.at(e).is_ascii_hexdigit() {
                            e += 1;
                        }
                        if e == hex || self.at(e) != b'}' {
                            return None;
                        }
                        self.pos = e + 1;
                    }
                    _ => return None,
                },
                _ => self.pos += 1,
            }
        }
        self.pos += 1;
        let span = self.span(s, self.pos);
        let text = literal::string(&mut self.diags, &self.text[s..self.pos], span);
        Some((text, span))
    }

    /// `list = { "[" ~ (value ~ (comma ~ value)*)? ~ comma? ~ rbracket }`.
    fn list(&mut self) -> Option<Value> {
        let s = self.pos;
        if !self.open(b'[') {
            return None;
        }
        self.skip();
        let values = self.separated(Self::value);
        self.skip();
        self.eat(b',');
        self.skip();
        if !self.close(b']') {
            return None;
        }
        Some(Value {
            kind: ValueKind::List(values),
            span: self.span(s, self.pos),
        })
    }

    /// `(x ~ (comma ~ x)*)?`: as many as there are; a comma whose `x` fails
    /// is given back (it may be the trailing `comma?`).
    fn separated<T>(&mut self, mut x: impl FnMut(&mut Self) -> Option<T>) -> Vec<T> {
        let mut out = Vec::new();
        let m = self.mark();
        match x(self) {
            Some(v) => out.push(v),
            None => {
                self.reset(m);
                return crate::fitted(out);
            }
        }
        loop {
            let m = self.mark();
            self.skip();
            if !self.eat(b',') {
                self.reset(m);
                return crate::fitted(out);
            }
            self.skip();
            match x(self) {
                Some(v) => out.push(v),
                None => {
                    self.reset(m);
                    return crate::fitted(out);
                }
            }
        }
    }

    /// `object = { lbrace ~ (field ~ ","?)* ~ rbrace }`.
    fn object(&mut self) -> Option<Value> {
        let s = self.pos;
        if !self.open(b'{') {
            return None;
        }
        let mut fields = Vec::new();
        loop {
            self.skip();
            let m = self.mark();
            match self.field() {
                Some(f) => fields.push(f),
                None => {
                    self.reset(m);
                    break;
                }
            }
            self.skip();
            self.eat(b',');
        }
        if !self.close(b'}') {
            return None;
        }
        Some(Value {
            kind: ValueKind::Object(crate::fitted(fields)),
            span: self.span(s, self.pos),
        })
    }

    /// The alternatives that start with an ident character, in the grammar's
    /// order: `secret`, `boolean`, `call`, `path`.
    fn word_value(&mut self, s: usize) -> Option<Value> {
        if self.looking_at(b"env") || self.looking_at(b"file") {
            let m = self.mark();
            if let Some(v) = self.secret() {
                return Some(v);
            }
            // `env(X)`, `environment`: a call or a path.
            self.reset(m);
        }
        // `boolean = @{ ("true" | "false") ~ !(ASCII_ALPHANUMERIC | "_" | "-"
        // | "$" | "@") }`: `true-x` and `true@y` are names.
        for (w, b) in [(&b"true"[..], true), (&b"false"[..], false)] {
            if self.looking_at(w) && !glued(self.at(s + w.len())) {
                self.pos = s + w.len();
                return Some(Value {
                    kind: ValueKind::Bool(b),
                    span: self.span(s, self.pos),
                });
            }
        }
        let e = self.ident_end(s)?;
        self.pos = e;
        let m = self.mark();
        self.skip();
        if self.peek() == b'(' {
            if let Some(v) = self.call_after_name(s, e) {
                return Some(v);
            }
            self.reset(m);
        }
        self.pos = e;
        self.path(s, e)
    }

    /// `secret = { secret_kind ~ "(" ~ string ~ ")" }`.
    fn secret(&mut self) -> Option<Value> {
        let s = self.pos;
        let source = if self.eat_str(b"env") {
            SecretSource::Env
        } else if self.eat_str(b"file") {
            SecretSource::File
        } else {
            return None;
        };
        self.skip();
        if !self.open(b'(') {
            return None;
        }
        self.skip();
        let (arg, _) = self.string()?;
        self.skip();
        if !self.close(b')') {
            return None;
        }
        Some(Value {
            kind: ValueKind::Secret(source, arg),
            span: self.span(s, self.pos),
        })
    }

    /// `call = { ident ~ "(" ~ (arg ~ (comma ~ arg)*)? ~ comma? ~ rparen }`,
    /// its name (`s..e`) read and the position at the `(`.
    fn call_after_name(&mut self, s: usize, e: usize) -> Option<Value> {
        if !self.open(b'(') {
            return None;
        }
        self.skip();
        let args = self.separated(Self::arg);
        self.skip();
        self.eat(b',');
        self.skip();
        if !self.close(b')') {
            return None;
        }
        Some(Value {
            kind: ValueKind::Call(Box::new(self.ident_at(s, e)), args),
            span: self.span(s, self.pos),
        })
    }

    /// `arg = _{ named_arg | value }`, `named_arg = { ident ~ equals ~ value }`.
    fn arg(&mut self) -> Option<Arg> {
        let m = self.mark();
        if let Some(name) = self.ident() {
            self.skip();
            if self.eat(b'=') {
                self.skip();
                if let Some(value) = self.value() {
                    return Some(Arg {
                        name: Some(name),
                        value,
                    });
                }
            }
        }
        self.reset(m);
        let value = self.value()?;
        Some(Arg { name: None, value })
    }

    /// `path = ${ ident ~ ("." ~ ident)* }`, its first ident (`s..e`) read:
    /// no blanks around the dots, and a dot not followed by an ident is
    /// left for what comes next.
    fn path(&mut self, s: usize, e: usize) -> Option<Value> {
        let mut idents = vec![self.ident_at(s, e)];
        let mut end = e;
        while self.at(end) == b'.' {
            let Some(next) = self.ident_end(end + 1) else {
                break;
            };
            idents.push(self.ident_at(end + 1, next));
            end = next;
        }
        self.pos = end;
        Some(Value {
            kind: ValueKind::Path(crate::fitted(idents)),
            span: self.span(s, end),
        })
    }

    /// The literals that start with a digit, in the grammar's order: `cidr`,
    /// `ipv4`, `port_range`, `size`, `duration`, `integer`. Each is atomic
    /// (no blanks inside) and most end with a negative lookahead.
    fn number_value(&mut self) -> Option<Value> {
        let s = self.pos;
        if let Some(q) = self.dotted_quad(s) {
            // `cidr = @{ octet ~ "." ~ octet ~ "." ~ octet ~ "." ~ octet ~ "/"
            // ~ ASCII_DIGIT{1,2} ~ !(ASCII_ALPHANUMERIC | "_") }`
            if self.at(q) == b'/' {
                if let Some(e) = self.digits_end(q + 1, 1, 2) {
                    if !word(self.at(e)) {
                        self.pos = e;
                        let span = self.span(s, e);
                        let net = literal::cidr(&mut self.diags, &self.text[s..e], span);
                        return Some(Value {
                            kind: ValueKind::Cidr(net),
                            span,
                        });
                    }
                }
            }
            // `ipv4 = @{ octet ~ "." ~ octet ~ "." ~ octet ~ "." ~ octet ~
            // !(ASCII_ALPHANUMERIC | "_" | "." | "/") }`
            let c = self.at(q);
            if !(word(c) || c == b'.' || c == b'/') {
                self.pos = q;
                let span = self.span(s, q);
                let ip = literal::octets(&mut self.diags, &self.text[s..q], span);
                return Some(Value {
                    kind: ValueKind::Ipv4(ip),
                    span,
                });
            }
        }
        // `digits = @{ ASCII_DIGIT+ }` starts each of the rest.
        let d = self.digits_end(s, 1, usize::MAX)?;
        // `port_range = ${ digits ~ ".." ~ digits ~ !(ASCII_ALPHANUMERIC | "_"
        // | "-" | "$" | "@" | ".") }`.
        if self.at(d) == b'.' && self.at(d + 1) == b'.' {
            if let Some(e) = self
                .digits_end(d + 2, 1, usize::MAX)
                .filter(|&e| !glued(self.at(e)) && self.at(e) != b'.')
            {
                let lo = self.number(s, d);
                let hi = self.number(d + 2, e);
                self.pos = e;
                return Some(Value {
                    kind: ValueKind::PortRange(lo, hi),
                    span: self.span(s, e),
                });
            }
        }
        // `size = ${ digits ~ size_unit ~ !(ASCII_ALPHANUMERIC | "_") }` with
        // `size_unit = @{ "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "K" | ... }`:
        // the first unit that matches is kept even if the lookahead then
        // fails.
        if matches!(self.at(d), b'K' | b'M' | b'G' | b'T' | b'P') {
            let u = if self.at(d + 1) == b'i' { d + 2 } else { d + 1 };
            if !word(self.at(u)) {
                let n = self.number(s, d);
                self.pos = u;
                return Some(Value {
                    kind: ValueKind::Size(n, self.text[d..u].to_string()),
                    span: self.span(s, u),
                });
            }
        }
        // `duration = ${ digits ~ duration_unit ~ !(ASCII_ALPHANUMERIC | "_") }`
        // with `duration_unit = @{ "ms" | "s" | "m" | "h" | "d" }`.
        let u = match (self.at(d), self.at(d + 1)) {
            (b'm', b's') => Some(d + 2),
            (b's' | b'm' | b'h' | b'd', _) => Some(d + 1),
            _ => None,
        };
        if let Some(u) = u.filter(|&u| !word(self.at(u))) {
            let n = self.number(s, d);
            let span = self.span(s, u);
            let text = &self.text[s..u];
            let ms = literal::duration(&mut self.diags, n, &self.text[d..u], text, span);
            self.pos = u;
            return Some(Value {
                kind: ValueKind::Duration(ms, text.to_string()),
                span,
            });
        }
        // `integer = @{ ASCII_DIGIT+ ~ !(ASCII_ALPHANUMERIC | "_" | ".") }`
        let c = self.at(d);
        if word(c) || c == b'.' {
            return None;
        }
        let n = self.number(s, d);
        self.pos = d;
        Some(Value {
            kind: ValueKind::Int(n),
            span: self.span(s, d),
        })
    }

    /// `octet ~ "." ~ octet ~ "." ~ octet ~ "." ~ octet` at `s`, with
    /// `octet = @{ ASCII_DIGIT{1,3} }`: where it ends.
    fn dotted_quad(&self, s: usize) -> Option<usize> {
        let mut e = self.digits_end(s, 1, 3)?;
        for _ in 0..3 {
            if self.at(e) != b'.' {
                return None;
            }
            e = self.digits_end(e + 1, 1, 3)?;
        }
        Some(e)
    }

    /// The `digits` at `s..e` as a number, through the shared check.
    fn number(&mut self, s: usize, e: usize) -> u64 {
        let span = self.span(s, e);
        literal::number(&mut self.diags, &self.text[s..e], span)
    }
}

#[cfg(test)]
mod tests {
    //! Each construct and each boundary of the grammar where pest's
    //! behaviour is subtle, checked against pest itself: the expected
    //! outcomes below were found by running pest, and the trees must match
    //! its trees exactly.

    use super::super::{parse_fast_only, parse_with_pest_only};
    use super::*;
    use crate::diagnostics::registry;

    fn parse_both(text: &str) -> Option<(SyntaxFile, Vec<Diagnostic>)> {
        let pest = parse_with_pest_only(FileId(1), text);
        let fast = parse_fast_only(FileId(1), text);
        assert_eq!(fast, pest, "{text:?}: the fast path differs from pest");
        fast
    }

    /// In the language: the tree, identical on both paths.
    #[track_caller]
    fn accepts(text: &str) -> SyntaxFile {
        match parse_both(text) {
            Some((tree, diags)) => {
                assert!(diags.is_empty(), "{text:?}: {diags:#?}");
                tree
            }
            None => panic!("{text:?} is refused"),
        }
    }

    /// In the language, with literal errors: their messages.
    #[track_caller]
    fn literal_errors(text: &str) -> Vec<String> {
        match parse_both(text) {
            Some((_, diags)) => {
                assert!(diags.iter().all(|d| d.code == registry::BAD_LITERAL));
                diags.into_iter().map(|d| d.message).collect()
            }
            None => panic!("{text:?} is refused"),
        }
    }

    #[track_caller]
    fn refuses(text: &str) {
        assert!(parse_both(text).is_none(), "{text:?} is accepted");
    }

    /// The value of `b { x = <text> }`.
    #[track_caller]
    fn value(text: &str) -> ValueKind {
        let f = accepts(&format!("b {{ x = {text} }}"));
        match &f.blocks[0].entries[..] {
            [Entry::Field(f)] => f.value.kind.clone(),
            other => panic!("{text:?}: {other:#?}"),
        }
    }

    #[track_caller]
    fn refuses_value(text: &str) {
        refuses(&format!("b {{ x = {text} }}"));
    }

    fn names(p: &[Ident]) -> Vec<&str> {
        p.iter().map(|i| i.name.as_str()).collect()
    }

    #[test]
    fn empty_files_blanks_and_comments() {
        for text in [
            "",
            " \t\r\n",
            "# a comment",
            "// a comment",
            "/* a comment */",
            "/**/",
            "/* a /* b */",
            "#\n//\n/* */ # x",
            "b{}",
            "b { } # c",
        ] {
            accepts(text);
        }
        // A `/*` without its `*/` is no comment, wherever it is.
        for text in ["/*", "b { } /*", "b { x = 1 /* }", "/* */ */", "/*/"] {
            refuses(text);
        }
        // Only ASCII blanks.
        refuses("b {\u{a0}}");
        refuses("b {\u{c}}");
    }

    #[test]
    fn comments_inside_and_after_tokens() {
        let f = accepts("b{x=1/*c*/y=2#c\nz=3//c\n}");
        assert_eq!(f.blocks[0].entries.len(), 3);
        // `#` continues a name but ends a number or a boolean.
        assert!(matches!(value("a#b"), ValueKind::Path(p) if names(&p) == ["a#b"]));
        assert_eq!(value("1#c\n"), ValueKind::Int(1));
        assert_eq!(value("true#c\n"), ValueKind::Bool(true));
        assert_eq!(value("2Gi#c\n"), ValueKind::Size(2, "Gi".into()));
        // Inside a string a comment is text.
        assert_eq!(value("\"# /* //\""), ValueKind::Str("# /* //".into()));
        // Comments between the tokens of non-atomic rules only.
        assert!(matches!(
            value("f/*c*/(/*c*/1/*c*/,/*c*/)"),
            ValueKind::Call(..)
        ));
        refuses_value("a/*c*/.b");
        refuses_value("1/*c*/..2");
    }

    #[test]
    fn a_byte_order_mark_only_before_the_first_item() {
        accepts("\u{FEFF}b {}");
        accepts("\u{FEFF}");
        // pest skips blanks and comments between SOI and the mark.
        accepts(" \u{FEFF}b {}");
        accepts("# c\n\u{FEFF}b {}");
        accepts("\u{FEFF}# c\nb {}");
        refuses("\u{FEFF}\u{FEFF}b {}");
        refuses("b {} \u{FEFF}");
        refuses("b { \u{FEFF} }");
    }

    #[test]
    fn imports() {
        let f = accepts("import \"lib/a\" as lib\nb {}");
        let i = &f.imports[0];
        assert_eq!(i.path, "lib/a");
        assert_eq!(i.alias.as_ref().map(|a| a.name.as_str()), Some("lib"));
        assert_eq!((i.span.start, i.span.end), (0, 21));
        assert_eq!((i.path_span.start, i.path_span.end), (7, 14));
        accepts("import\"a\"as b");
        accepts("import /* c */ \"a\" /* c */ as /* c */ b");
        // Without an alias, the span takes in the blanks and comments pest
        // skipped looking for one.
        let f = accepts("import \"a\"  # c\n  b {}");
        assert_eq!((f.imports[0].span.start, f.imports[0].span.end), (0, 18));
        let f = accepts("import \"a\"");
        assert_eq!(f.imports[0].span.end, 10);
    }

    #[test]
    fn what_follows_an_import_path() {
        // `assoc` is a block kind, not `as soc`.
        let f = accepts("import \"a\" assoc x { }");
        assert!(f.imports[0].alias.is_none());
        assert_eq!(f.blocks[0].kind.name, "assoc");
        refuses("import \"a\" as1");
        // `as` with no name after it: a block kind too.
        let f = accepts("import \"a\" as { }");
        assert!(f.imports[0].alias.is_none());
        assert_eq!(f.blocks[0].kind.name, "as");
        let f = accepts("import \"a\" as-x { }");
        assert_eq!(f.blocks[0].kind.name, "as-x");
        // Characters a name may start with but `as_glued` does not refuse.
        let f = accepts("import \"a\" as$x");
        assert_eq!(
            f.imports[0].alias.as_ref().map(|a| a.name.as_str()),
            Some("$x")
        );
        let f = accepts("import \"a\" as@x");
        assert_eq!(
            f.imports[0].alias.as_ref().map(|a| a.name.as_str()),
            Some("@x")
        );
        // `#` after `as` starts a comment: the alias is on the next line.
        let f = accepts("import \"a\" as#x\nb");
        assert_eq!(
            f.imports[0].alias.as_ref().map(|a| a.name.as_str()),
            Some("b")
        );
        refuses("import \"a\" as b { }");
        refuses("import \"a\" { }");
    }

    #[test]
    fn import_is_no_reserved_word() {
        let f = accepts("import { x = 1 }\nimport x { }");
        assert!(f.imports.is_empty());
        assert_eq!(f.blocks.len(), 2);
        let f = accepts("importx { }");
        assert_eq!(f.blocks[0].kind.name, "importx");
        let f = accepts("b { import = 1, true { }, env { } }");
        assert_eq!(f.blocks[0].entries.len(), 3);
        accepts("true { } false n { } env { } file { }");
        refuses("import = 1");
        refuses("import \"a\\u{}\"");
    }

    #[test]
    fn blocks_and_entries() {
        let f = accepts("zos NP8 {\n  x = 1\n  inner { y = 2 }\n}\nb{}");
        let b = &f.blocks[0];
        assert_eq!(b.kind.name, "zos");
        assert_eq!(b.name.as_ref().map(|n| n.name.as_str()), Some("NP8"));
        assert_eq!((b.span.start, b.span.end), (0, 37));
        assert_eq!(b.entries.len(), 2);
        accepts("b n{}");
        accepts("b { x = 1, y = 2, }");
        accepts("b { c { }, d { } , }");
        accepts("b { x = 1 y = 2 }");
        refuses("b n m { }");
        refuses("b { x = 1,, }");
        refuses("b { , }");
        refuses("b { x }");
        refuses("b { x = }");
        refuses("b { x = 1 ");
        refuses("b ");
        refuses("{ }");
        refuses("b { } }");
        // Names: a letter, `_`, `$` or `@`, then also digits, `-` and `#`.
        let f = accepts("_a-1$#@ $b { @c = 1 }");
        assert_eq!(f.blocks[0].kind.name, "_a-1$#@");
        refuses("-a { }");
        refuses("1a { }");
        refuses("é { }");
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(value(r#""""#), ValueKind::Str(String::new()));
        assert_eq!(
            value(r#""a\"b\\c\nd\te\u{e9}\u{1F600}\u{00041}""#),
            ValueKind::Str("a\"b\\c\nd\te\u{e9}\u{1F600}A".into())
        );
        assert_eq!(value("\"a\rb\u{0}é\""), ValueKind::Str("a\rb\u{0}é".into()));
        for bad in [
            r#""\x""#,
            r#""\u{}""#,
            r#""\u{1234567}""#,
            r#""\u{12""#,
            r#""\u12""#,
            "\"\\\"",
            "\"a\nb\"",
            "\"open",
        ] {
            refuses_value(bad);
        }
        assert_eq!(
            literal_errors(r#"b { x = "a\u{D800}b\u{110000}" }"#),
            [
                "`\\u{D800}` is not a Unicode scalar value",
                "`\\u{110000}` is not a Unicode scalar value"
            ]
        );
    }

    #[test]
    fn lists_objects_and_calls() {
        assert!(matches!(value("[]"), ValueKind::List(v) if v.is_empty()));
        assert!(matches!(value("[,]"), ValueKind::List(v) if v.is_empty()));
        assert!(matches!(value("[1, 2,]"), ValueKind::List(v) if v.len() == 2));
        assert!(matches!(value("[ [1] , [ ] ]"), ValueKind::List(v) if v.len() == 2));
        refuses_value("[1,,]");
        refuses_value("[1 2]");
        refuses_value("[,1]");
        assert!(matches!(value("{}"), ValueKind::Object(v) if v.is_empty()));
        assert!(matches!(value("{ a = 1, b = 2 c = 3, }"), ValueKind::Object(v) if v.len() == 3));
        refuses_value("{ a { } }");
        refuses_value("{ , }");
        assert!(matches!(value("f()"), ValueKind::Call(_, a) if a.is_empty()));
        assert!(matches!(value("f(,)"), ValueKind::Call(_, a) if a.is_empty()));
        assert!(matches!(value("f (1)"), ValueKind::Call(_, a) if a.len() == 1));
        let ValueKind::Call(name, args) = value("dataset(\"A.B\", format = certb64, n=1,)") else {
            panic!("a call")
        };
        assert_eq!(name.name, "dataset");
        assert_eq!(args.len(), 3);
        assert!(args[0].name.is_none());
        assert_eq!(
            args[1].name.as_ref().map(|n| n.name.as_str()),
            Some("format")
        );
        refuses_value("f(a =)");
        refuses_value("f(1 2)");
        refuses_value("f(,,)");
        refuses_value("a.b(1)");
        refuses_value("f(1)(2)");
    }

    #[test]
    fn secrets_and_the_calls_that_look_like_them() {
        assert_eq!(
            value("env(\"A\")"),
            ValueKind::Secret(SecretSource::Env, "A".into())
        );
        assert_eq!(
            value("file /* c */ ( \"p\" )"),
            ValueKind::Secret(SecretSource::File, "p".into())
        );
        // Not `secret_kind ( string )`: a call or a path.
        assert!(
            matches!(value("env(\"A\",)"), ValueKind::Call(n, a) if n.name == "env" && a.len() == 1)
        );
        assert!(matches!(value("env(X)"), ValueKind::Call(..)));
        assert!(matches!(value("env()"), ValueKind::Call(..)));
        assert!(matches!(value("envx(\"A\")"), ValueKind::Call(n, _) if n.name == "envx"));
        assert!(matches!(value("env"), ValueKind::Path(p) if names(&p) == ["env"]));
        assert!(matches!(value("environment.x"), ValueKind::Path(p) if p.len() == 2));
        // The secret's string is read, refused with the secret, and read
        // again as the call's argument: its error is reported once.
        assert_eq!(
            literal_errors(r#"b { x = env("\u{D800}",) }"#),
            ["`\\u{D800}` is not a Unicode scalar value"]
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(value("10.1.1.9"), ValueKind::Ipv4([10, 1, 1, 9].into()));
        assert_eq!(value("010.001.1.9"), ValueKind::Ipv4([10, 1, 1, 9].into()));
        assert!(matches!(value("172.30.0.0/16"), ValueKind::Cidr(n) if n.prefix_len() == 16));
        assert!(matches!(value("1.2.3.4/0"), ValueKind::Cidr(n) if n.prefix_len() == 0));
        assert!(matches!(value("1.2.3.4/24#c\n"), ValueKind::Cidr(..)));
        for bad in [
            "1.2.3.4/123",
            "1.2.3.4/",
            "1.2.3.4/24x",
            "1.2.3.4/24-",
            "1.2.3.4x",
            "1.2.3.4_",
            "1.2.3.4.5",
            "1.2.3.4/ 8",
            "1.2.3.4-x",
            "1.2.3",
            "1234.1.1.1",
            "1.2.3.4444",
            "1 .2.3.4",
        ] {
            refuses_value(bad);
        }
        assert_eq!(
            literal_errors("b { x = 1.2.3.4/33, y = 300.2.3.999, z = 300.1.1.1/40 }"),
            [
                "`1.2.3.4/33` is not a CIDR: the prefix length is above 32",
                "`300.2.3.999` is not an IPv4 address: octet `300` is above 255",
                "`300.1.1.1` is not an IPv4 address: octet `300` is above 255",
                "`300.1.1.1/40` is not a CIDR: the prefix length is above 32",
            ]
        );
    }

    #[test]
    fn port_ranges_sizes_durations_integers() {
        assert_eq!(value("2043..2049"), ValueKind::PortRange(2043, 2049));
        // A port range ends at a token boundary: `1..2abc` is no range
        // followed by a field.
        refuses_value("1..2abc");
        refuses_value("1..2-x");
        refuses_value("1..2.5");
        refuses_value("1..");
        refuses_value("1..2..3");
        refuses_value("1 ..2");
        assert_eq!(value("2Ki"), ValueKind::Size(2, "Ki".into()));
        assert_eq!(value("2K"), ValueKind::Size(2, "K".into()));
        assert_eq!(value("50Gi"), ValueKind::Size(50, "Gi".into()));
        assert_eq!(value("1P"), ValueKind::Size(1, "P".into()));
        for bad in ["2Kix", "2Kib", "2k", "2Gi_", "2 Gi", "2Ei"] {
            refuses_value(bad);
        }
        assert_eq!(value("5000ms"), ValueKind::Duration(5000, "5000ms".into()));
        assert_eq!(value("5m"), ValueKind::Duration(300_000, "5m".into()));
        assert_eq!(value("2d"), ValueKind::Duration(172_800_000, "2d".into()));
        for bad in ["5msx", "5mss", "5mx", "5S", "5 s"] {
            refuses_value(bad);
        }
        assert_eq!(value("42"), ValueKind::Int(42));
        assert_eq!(value("007"), ValueKind::Int(7));
        for bad in ["1.5", "1e5", "1_000", "0x10", "-1", "1-", "1.", "1$"] {
            refuses_value(bad);
        }
        assert_eq!(
            literal_errors(
                "b { a = 99999999999999999999, b = 99999999999999999999..1, \
                 c = 99999999999999999999Gi, d = 18446744073709551615d, \
                 e = 99999999999999999999ms }"
            ),
            [
                "number `99999999999999999999` is too large",
                "number `99999999999999999999` is too large",
                "number `99999999999999999999` is too large",
                "duration `18446744073709551615d` is too long",
                "number `99999999999999999999` is too large",
            ]
        );
    }

    #[test]
    fn booleans_and_paths() {
        assert_eq!(value("true"), ValueKind::Bool(true));
        assert_eq!(value("false"), ValueKind::Bool(false));
        assert!(matches!(value("truex"), ValueKind::Path(p) if names(&p) == ["truex"]));
        assert!(matches!(value("true_"), ValueKind::Path(..)));
        assert!(matches!(value("true1"), ValueKind::Path(..)));
        // `.` and `(` end a boolean, and then do not fit.
        for bad in ["false.x", "true(1)"] {
            refuses_value(bad);
        }
        // A boolean ends at a token boundary: `true@y` and `true-x` are
        // names, as anything else spelt so is.
        assert!(matches!(value("true@y"), ValueKind::Path(p) if p.len() == 1));
        assert!(matches!(value("true-x"), ValueKind::Path(p) if p.len() == 1));
        assert!(matches!(value("true$"), ValueKind::Path(p) if p.len() == 1));
        assert!(matches!(value("NP8.zcx_ca.x-1"), ValueKind::Path(p) if p.len() == 3));
        assert!(matches!(value("a.true"), ValueKind::Path(p) if p.len() == 2));
        for bad in ["a.b.", "a..b", "a.1", "a. b", "a .b", "a.-b"] {
            refuses_value(bad);
        }
    }

    #[test]
    fn spans_of_every_node() {
        let text = "b n {\n  f = g(k = [1, \"s\"], { o = 2 })\n}";
        let tree = accepts(text);
        let at = |s: Span| &text[s.start as usize..s.end as usize];
        let Entry::Field(f) = &tree.blocks[0].entries[0] else {
            panic!("a field")
        };
        assert_eq!(at(f.span), "f = g(k = [1, \"s\"], { o = 2 })");
        assert_eq!(at(f.value.span), "g(k = [1, \"s\"], { o = 2 })");
        let ValueKind::Call(_, args) = &f.value.kind else {
            panic!("a call")
        };
        assert_eq!(at(args[0].value.span), "[1, \"s\"]");
        assert_eq!(at(args[1].value.span), "{ o = 2 }");
    }
}
