//! The lexical layer: the one place that says where the language's tokens,
//! strings, comments and blanks begin and end.
//!
//! [`tokens`] splits a text into [`Token`]s with byte spans, trivia included:
//! the tokens cover the text without gaps or overlaps, so concatenating their
//! texts gives the input back. Every tool that reads spec text without
//! parsing it uses this (the formatter's comments, the editor's cursor
//! context, the nesting guard and the recovery's scans in [`super`]), and the
//! fast parser shares its character classes and its blank-and-comment skip,
//! so a lexical rule of `grammar/tenant.pest` is written once in Rust.
//!
//! The rules are the grammar's:
//! - blanks are `" " | "\t" | "\r" | "\n"`;
//! - a comment is `#` or `//` up to the line break, or `/* .. */`; a `/*`
//!   without its `*/` is no comment to pest, and a [`Kind::UnclosedComment`]
//!   here (it runs to the end of the text);
//! - a string ends at its closing quote, a line break (which it does not
//!   take) or the end of the text; `\` escapes the character after it (which
//!   escapes are allowed is the parser's business);
//! - a name is `ASCII_ALPHA | "_" | "$" | "@"`, then also digits, `-` and
//!   `#` (so `#` inside a name is no comment);
//! - a number literal starts with a digit and takes letters, digits and `_`,
//!   and `.`, `..` or `/` when a digit follows: `10.1.1.9`, `1.2.3.4/24`,
//!   `2043..2049`, `2Gi`, `5ms` are one token each, and `1#c`, `1//c` a number
//!   and a comment;
//! - punctuation is one of `{ } [ ] ( ) = , .`; any other character is a
//!   token of its own ([`Kind::Other`]).
//!
//! On every text pest accepts, its tokens (names, literals, punctuation,
//! keywords) start and end at these tokens' boundaries, with one exception
//! that no context-free lexer can avoid: a keyword the grammar matches as a
//! literal (`import`, `as`, `env`, `file`, `true`, `false`) directly followed
//! by `#` is a keyword and a comment where the grammar expects the keyword
//! (`x = true#c`), and a name elsewhere (`true#c = 1`); so is `as` followed
//! by `$` or `@` (`import "a" as$x` is the alias `$x`). A name is the
//! reading that hides nothing (a bracket after the `#` still counts for the
//! nesting guard), so [`tokens`] gives a name; a consumer that knows where
//! the parser ended a keyword lexes on from there ([`tokens_from`]). The
//! test `the_lexer_agrees_with_pest` in `tests/parse_differential.rs` holds
//! this on the repository's specs and mutations of them.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A run of `" "`, `"\t"` and `"\r"`.
    Space,
    /// One `"\n"`.
    Newline,
    /// `#` or `//` up to the line break, which it does not take.
    LineComment,
    /// `/* .. */`.
    BlockComment,
    /// `/*` without its `*/`: the rest of the text.
    UnclosedComment,
    /// A string with its quotes.
    Str,
    /// A string without its closing quote: up to the line break or the end.
    UnclosedStr,
    /// A name (an identifier, a keyword, a block kind, one part of a path).
    Ident,
    /// A literal that starts with a digit.
    Number,
    /// One of `{ } [ ] ( ) = , .`.
    Punct,
    /// Any other character.
    Other,
}

impl Kind {
    /// Blanks and comments: what the grammar skips between tokens.
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            Kind::Space | Kind::Newline | Kind::LineComment | Kind::BlockComment
        )
    }

    pub fn is_comment(self) -> bool {
        matches!(
            self,
            Kind::LineComment | Kind::BlockComment | Kind::UnclosedComment
        )
    }
}

/// A token: its kind and its byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// Character classes, one table look-up each.
const IDENT_START: u8 = 1;
const IDENT_CONTINUE: u8 = 2;
/// `ASCII_ALPHANUMERIC | "_"`.
const WORD: u8 = 4;

const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic();
        let alnum = b.is_ascii_alphanumeric();
        if alpha || b == b'_' || b == b'$' || b == b'@' {
            t[c] |= IDENT_START;
        }
        if alnum || b == b'_' || b == b'-' || b == b'$' || b == b'#' || b == b'@' {
            t[c] |= IDENT_CONTINUE;
        }
        if alnum || b == b'_' {
            t[c] |= WORD;
        }
        c += 1;
    }
    t
};

/// `ASCII_ALPHA | "_" | "$" | "@"`: the first character of a name.
#[inline]
pub fn ident_start(c: u8) -> bool {
    CLASSES[c as usize] & IDENT_START != 0
}

/// `ASCII_ALPHANUMERIC | "_" | "-" | "$" | "#" | "@"`: the rest of a name.
#[inline]
pub fn ident_continue(c: u8) -> bool {
    CLASSES[c as usize] & IDENT_CONTINUE != 0
}

/// `ASCII_ALPHANUMERIC | "_"`: what the literals' lookaheads refuse to be
/// followed by (so `2Gix` is not `2Gi` then `x`).
#[inline]
pub fn word(c: u8) -> bool {
    CLASSES[c as usize] & WORD != 0
}

/// Where the name starting at `i` ends, if one starts there.
#[inline]
pub fn ident_end(b: &[u8], i: usize) -> Option<usize> {
    if !ident_start(*b.get(i)?) {
        return None;
    }
    let mut e = i + 1;
    while e < b.len() && ident_continue(b[e]) {
        e += 1;
    }
    Some(e)
}

/// Where the `#`/`//` comment starting at `i` ends: at the line break.
#[inline]
pub fn line_comment_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |n| i + n)
}

/// Where the `/* .. */` comment starting at `i` ends, if it is closed.
#[inline]
pub fn block_comment_end(b: &[u8], i: usize) -> Option<usize> {
    let body = i + 2;
    b.get(body..)?
        .windows(2)
        .position(|w| w == b"*/")
        .map(|n| body + n + 2)
}

/// pest's implicit skip between the tokens of a non-atomic rule, `(WHITESPACE
/// | COMMENT)*`, from `i`: where the next token starts. A `/*` without its
/// `*/` is no comment: the skip stops before it.
#[inline]
pub fn skip_trivia(b: &[u8], mut i: usize) -> usize {
    loop {
        match b.get(i) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
            Some(b'#') => i = line_comment_end(b, i),
            Some(b'/') => match b.get(i + 1) {
                Some(b'/') => i = line_comment_end(b, i),
                Some(b'*') => match block_comment_end(b, i) {
                    Some(e) => i = e,
                    None => return i,
                },
                _ => return i,
            },
            _ => return i,
        }
    }
}

/// The tokens of `text`, from its start.
pub fn tokens(text: &str) -> Lexer<'_> {
    Lexer::new(text.as_bytes(), 0)
}

/// The tokens of `text` from byte `at`, which should be a token boundary (a
/// parser's node ends at one).
pub fn tokens_from(text: &str, at: usize) -> Lexer<'_> {
    Lexer::new(text.as_bytes(), at)
}

/// An iterator over the tokens of a text. It also reads bytes that are not
/// all UTF-8 (the recovery's working copy): a byte that starts no character
/// is an [`Kind::Other`] token of its own.
#[derive(Debug, Clone)]
pub struct Lexer<'t> {
    b: &'t [u8],
    pos: usize,
}

impl<'t> Lexer<'t> {
    pub fn new(b: &'t [u8], at: usize) -> Lexer<'t> {
        Lexer {
            b,
            pos: at.min(b.len()),
        }
    }

    /// Where the next token starts.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// The kind and end of the token at `i` (not past the end).
    #[inline]
    fn token_at(&self, i: usize) -> (Kind, usize) {
        let b = self.b;
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' => {
                let mut e = i + 1;
                while e < b.len() && matches!(b[e], b' ' | b'\t' | b'\r') {
                    e += 1;
                }
                (Kind::Space, e)
            }
            b'\n' => (Kind::Newline, i + 1),
            b'#' => (Kind::LineComment, line_comment_end(b, i)),
            b'/' => match self.at(i + 1) {
                b'/' => (Kind::LineComment, line_comment_end(b, i)),
                b'*' => match block_comment_end(b, i) {
                    Some(e) => (Kind::BlockComment, e),
                    None => (Kind::UnclosedComment, b.len()),
                },
                _ => (Kind::Other, i + 1),
            },
            b'"' => {
                let mut e = i + 1;
                loop {
                    match b.get(e) {
                        None | Some(b'\n') => return (Kind::UnclosedStr, e),
                        Some(b'"') => return (Kind::Str, e + 1),
                        // An escape takes the character after it, unless
                        // that is the line break that ends the string.
                        Some(b'\\') if !matches!(b.get(e + 1), None | Some(b'\n')) => e += 2,
                        Some(_) => e += 1,
                    }
                }
            }
            b'{' | b'}' | b'[' | b']' | b'(' | b')' | b'=' | b',' | b'.' => (Kind::Punct, i + 1),
            b'0'..=b'9' => {
                let mut e = i + 1;
                loop {
                    while word(self.at(e)) {
                        e += 1;
                    }
                    match (self.at(e), self.at(e + 1), self.at(e + 2)) {
                        (b'.' | b'/', d, _) if d.is_ascii_digit() => e += 1,
                        (b'.', b'.', d) if d.is_ascii_digit() => e += 2,
                        _ => break,
                    }
                }
                (Kind::Number, e)
            }
            _ if ident_start(c) => {
                let mut e = i + 1;
                while e < b.len() && ident_continue(b[e]) {
                    e += 1;
                }
                (Kind::Ident, e)
            }
            _ => {
                // One character: its length from its first byte (a stray
                // continuation byte is one token of its own).
                let len = match c {
                    0xF0..=0xF7 => 4,
                    0xE0..=0xEF => 3,
                    0xC0..=0xDF => 2,
                    _ => 1,
                };
                (Kind::Other, (i + len).min(b.len()))
            }
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    #[inline]
    fn next(&mut self) -> Option<Token> {
        let start = self.pos;
        if start >= self.b.len() {
            return None;
        }
        let (kind, end) = self.token_at(start);
        self.pos = end;
        Some(Token { kind, start, end })
    }
}

/// Whether the tokens of `text` agree with pest's: `Ok(false)` when pest
/// refuses the text (nothing to compare), `Err` with the first disagreement.
/// The tokens must cover the text; each of pest's tokens (names, literals,
/// named punctuation) must be one token here, and the text between them
/// blanks, comments and the grammar's unnamed literals (`import`, `as`, `(`,
/// `)`, `[`, `,`, `.`, the byte-order mark). Where a keyword is directly
/// followed by `#` (see the module's documentation), lexing goes on from the
/// keyword's end.
#[doc(hidden)]
pub fn agrees_with_pest(text: &str) -> Result<bool, String> {
    use super::{Rule, TenantParser};
    use pest::Parser;
    let mut at = 0;
    for t in tokens(text) {
        if t.start != at || t.end <= t.start {
            return Err(format!("the tokens do not cover the text at {at}"));
        }
        at = t.end;
    }
    if at != text.len() {
        return Err(format!("the tokens end at {at}"));
    }
    let Ok(pairs) = TenantParser::parse(Rule::file, text) else {
        return Ok(false);
    };
    let mut theirs: Vec<(usize, usize)> = pairs
        .flatten()
        .filter(|p| {
            matches!(
                p.as_rule(),
                Rule::ident
                    | Rule::string
                    | Rule::integer
                    | Rule::boolean
                    | Rule::ipv4
                    | Rule::cidr
                    | Rule::port_range
                    | Rule::size
                    | Rule::duration
                    | Rule::secret_kind
                    | Rule::lbrace
                    | Rule::rbrace
                    | Rule::equals
                    | Rule::comma
                    | Rule::rbracket
                    | Rule::rparen
            )
        })
        .map(|p| (p.as_span().start(), p.as_span().end()))
        .collect();
    theirs.sort_unstable();
    const KEYWORDS: [&str; 6] = ["import", "as", "env", "file", "true", "false"];
    // A keyword glued to a `#` (or `as` to a name): where the keyword ends.
    let keyword_end = |t: &Token| {
        let s = &text[t.start..t.end];
        KEYWORDS
            .iter()
            .find(|k| {
                s.len() > k.len()
                    && s.starts_with(*k)
                    && (s[k.len()..].starts_with('#')
                        || (**k == "as" && s[k.len()..].starts_with(['$', '@'])))
            })
            .map(|k| t.start + k.len())
    };
    let between = |t: &Token| {
        let s = &text[t.start..t.end];
        t.kind.is_trivia()
            || matches!(
                s,
                "import" | "as" | "(" | ")" | "[" | "," | "." | "\u{FEFF}"
            )
    };
    let show = |t: &Token| format!("{:?} {:?} at {}", t.kind, &text[t.start..t.end], t.start);
    let mut lx = tokens(text);
    let mut next = lx.next();
    for (s, e) in theirs {
        // The tokens before pest's next one.
        while let Some(t) = next.filter(|t| t.start < s) {
            match keyword_end(&t) {
                Some(k) if k <= s => lx = tokens_from(text, k),
                _ if t.end <= s && between(&t) => {}
                _ => return Err(format!("{} is no token of pest's", show(&t))),
            }
            next = lx.next();
        }
        match next {
            Some(t) if t.start == s && t.end == e => {}
            Some(t) if t.start == s && t.kind == Kind::Ident && keyword_end(&t) == Some(e) => {
                lx = tokens_from(text, e);
            }
            Some(t) => {
                return Err(format!(
                    "pest's token {:?} at {s} is {} here",
                    &text[s..e],
                    show(&t)
                ))
            }
            None => return Err(format!("pest's token at {s} is past the last token")),
        }
        next = lx.next();
    }
    while let Some(t) = next {
        if let Some(k) = keyword_end(&t) {
            lx = tokens_from(text, k);
        } else if !between(&t) {
            return Err(format!("{} is no token of pest's", show(&t)));
        }
        next = lx.next();
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokens(text)
            .map(|t| (t.kind, &text[t.start..t.end]))
            .collect()
    }

    fn lossless(text: &str) {
        let mut at = 0;
        for t in tokens(text) {
            assert_eq!(t.start, at, "{text:?}: a gap or an overlap");
            assert!(t.end > t.start, "{text:?}: an empty token");
            at = t.end;
        }
        assert_eq!(at, text.len(), "{text:?}: not covered");
    }

    #[test]
    fn every_kind_of_token() {
        use Kind::*;
        assert_eq!(
            kinds("zos NP8 {\n\t# c\r\n  a-1#b = [10.1.1.9/24, \"s\\\"\", 2Gi] // d\n}/* e */"),
            [
                (Ident, "zos"),
                (Space, " "),
                (Ident, "NP8"),
                (Space, " "),
                (Punct, "{"),
                (Newline, "\n"),
                (Space, "\t"),
                (LineComment, "# c\r"),
                (Newline, "\n"),
                (Space, "  "),
                (Ident, "a-1#b"),
                (Space, " "),
                (Punct, "="),
                (Space, " "),
                (Punct, "["),
                (Number, "10.1.1.9/24"),
                (Punct, ","),
                (Space, " "),
                (Str, "\"s\\\"\""),
                (Punct, ","),
                (Space, " "),
                (Number, "2Gi"),
                (Punct, "]"),
                (Space, " "),
                (LineComment, "// d"),
                (Newline, "\n"),
                (Punct, "}"),
                (BlockComment, "/* e */"),
            ]
        );
    }

    #[test]
    fn numbers_end_where_the_grammar_ends_them() {
        use Kind::*;
        assert_eq!(kinds("1#c"), [(Number, "1"), (LineComment, "#c")]);
        assert_eq!(kinds("1//c"), [(Number, "1"), (LineComment, "//c")]);
        assert_eq!(kinds("1/*c*/"), [(Number, "1"), (BlockComment, "/*c*/")]);
        assert_eq!(kinds("2043..2049"), [(Number, "2043..2049")]);
        assert_eq!(
            kinds("1..x"),
            [(Number, "1"), (Punct, "."), (Punct, "."), (Ident, "x")]
        );
        assert_eq!(kinds("1.a"), [(Number, "1"), (Punct, "."), (Ident, "a")]);
        assert_eq!(kinds("1-x"), [(Number, "1"), (Other, "-"), (Ident, "x")]);
        assert_eq!(
            kinds("a.b.1"),
            [
                (Ident, "a"),
                (Punct, "."),
                (Ident, "b"),
                (Punct, "."),
                (Number, "1")
            ]
        );
    }

    #[test]
    fn strings_and_comments_that_do_not_close() {
        use Kind::*;
        // A string ends at the line break, even after a backslash.
        assert_eq!(
            kinds("\"a\\\n["),
            [(UnclosedStr, "\"a\\"), (Newline, "\n"), (Punct, "[")]
        );
        assert_eq!(kinds("\"a\\"), [(UnclosedStr, "\"a\\")]);
        assert_eq!(kinds("\"a\\\\\"x"), [(Str, "\"a\\\\\""), (Ident, "x")]);
        assert_eq!(kinds("\"# /* //\""), [(Str, "\"# /* //\"")]);
        assert_eq!(kinds("/* a\n[ "), [(UnclosedComment, "/* a\n[ ")]);
        assert_eq!(kinds("/*/"), [(UnclosedComment, "/*/")]);
        assert_eq!(kinds("/**/"), [(BlockComment, "/**/")]);
        assert_eq!(kinds("/ *"), [(Other, "/"), (Space, " "), (Other, "*")]);
    }

    #[test]
    fn other_characters_are_whole() {
        use Kind::*;
        assert_eq!(
            kinds("\u{FEFF}é\u{1F600}\u{c}"),
            [
                (Other, "\u{FEFF}"),
                (Other, "é"),
                (Other, "\u{1F600}"),
                (Other, "\u{c}")
            ]
        );
        // Bytes that are no UTF-8: one token each, still covering them.
        let b = [b'a', 0xC3, b' ', 0x80, 0xF0, 0x9F];
        let toks: Vec<Token> = Lexer::new(&b, 0).collect();
        assert_eq!(toks.last().map(|t| t.end), Some(b.len()));
        assert!(toks.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn the_tokens_cover_the_text() {
        for text in [
            "",
            "b { x = \"open\n y = 1 }",
            "/* never closed",
            "a#b.c..d 1..2..3 1.2.3.4/ x=\"\\u{1F600}\"# c",
            "\u{FEFF}# c\nimport \"a\" as#x\nb",
            "\\\\\"\\",
        ] {
            lossless(text);
        }
    }

    #[test]
    fn skip_trivia_is_the_grammars_skip() {
        assert_eq!(skip_trivia(b" \t\r\n# c\n// d\n/* e */x", 0), 20);
        // An unclosed `/*` is where the skip stops.
        assert_eq!(skip_trivia(b" /* e", 0), 1);
        assert_eq!(skip_trivia(b" / e", 0), 1);
        // Only ASCII blanks.
        assert_eq!(skip_trivia("\u{a0}".as_bytes(), 0), 0);
        assert_eq!(skip_trivia(b"\x0c", 0), 0);
    }
}
