//! Semantic tokens and the outline of a file that does not parse.
//!
//! Semantic tokens colour a spec in every LSP editor (Neovim 0.9+, Helix,
//! VS Code, Emacs' eglot): block kinds, the names they declare, field keys,
//! references, calls, literals and comments. They come from the lexer and a
//! token of lookahead, not from the analysis, so a file colours the same
//! while it is half-typed or does not parse.
//! https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#textDocument_semanticTokens

use super::text::{self, LineIndex};
use super::Snapshot;
use crate::syntax::lex::{self, Kind, Token};
use lsp_types as lt;

/// The legend's token types; a token's type is its index here.
pub const TYPES: [lt::SemanticTokenType; 8] = [
    lt::SemanticTokenType::KEYWORD,
    lt::SemanticTokenType::TYPE,
    lt::SemanticTokenType::PROPERTY,
    lt::SemanticTokenType::VARIABLE,
    lt::SemanticTokenType::FUNCTION,
    lt::SemanticTokenType::STRING,
    lt::SemanticTokenType::NUMBER,
    lt::SemanticTokenType::COMMENT,
];
const KEYWORD: u32 = 0;
const NAME: u32 = 1;
const PROPERTY: u32 = 2;
const VARIABLE: u32 = 3;
const FUNCTION: u32 = 4;
const STRING: u32 = 5;
const NUMBER: u32 = 6;
const COMMENT: u32 = 7;
/// The legend's modifiers: bit 0 marks a declaration (a block's name).
pub const MODIFIERS: [lt::SemanticTokenModifier; 1] = [lt::SemanticTokenModifier::DECLARATION];

pub fn legend() -> lt::SemanticTokensLegend {
    lt::SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: MODIFIERS.to_vec(),
    }
}

/// `textDocument/semanticTokens/full`: the current text's tokens.
pub fn full(s: &Snapshot, p: lt::SemanticTokensParams) -> Option<lt::SemanticTokensResult> {
    let path = text::uri_to_path(&p.text_document.uri)?;
    let text = s.text_of(&path)?;
    Some(lt::SemanticTokensResult::Tokens(lt::SemanticTokens {
        result_id: None,
        data: encode(&text, &classify(&text)),
    }))
}

/// Each token worth a colour: (start, end, type, modifiers).
pub fn classify(text: &str) -> Vec<(usize, usize, u32, u32)> {
    let tokens: Vec<Token> = lex::tokens(text)
        .filter(|t| !t.kind.is_trivia() || t.kind.is_comment())
        .collect();
    let code: Vec<&Token> = tokens.iter().filter(|t| !t.kind.is_comment()).collect();
    let word = |t: Option<&&Token>| t.map(|t| &text[t.start..t.end]);
    let mut out = Vec::with_capacity(tokens.len());
    let mut kinds_before_name = std::collections::HashSet::new();
    for (i, t) in code.iter().enumerate() {
        let class = match t.kind {
            Kind::Str | Kind::UnclosedStr => Some((STRING, 0)),
            Kind::Number => Some((NUMBER, 0)),
            Kind::Ident => {
                let prev = i.checked_sub(1).and_then(|p| code.get(p));
                let next = word(code.get(i + 1));
                let after = word(code.get(i + 2));
                let this = &text[t.start..t.end];
                let next_is_ident = code.get(i + 1).is_some_and(|n| n.kind == Kind::Ident);
                Some(match next {
                    Some("=") => (PROPERTY, 0),
                    Some("(") => (FUNCTION, 0),
                    Some("{") if prev.is_some_and(|p| kinds_before_name.contains(&p.start)) => {
                        (NAME, 1)
                    }
                    Some("{") => (KEYWORD, 0),
                    _ if next_is_ident && after == Some("{") => {
                        kinds_before_name.insert(t.start);
                        (KEYWORD, 0)
                    }
                    _ if this == "import"
                        && word(prev).is_none_or(|p| p == "}" || p.starts_with('"')) =>
                    {
                        (KEYWORD, 0)
                    }
                    _ if matches!(this, "true" | "false") => (KEYWORD, 0),
                    _ => (VARIABLE, 0),
                })
            }
            _ => None,
        };
        if let Some((ty, mods)) = class {
            out.push((t.start, t.end, ty, mods));
        }
    }
    out.extend(
        tokens
            .iter()
            .filter(|t| t.kind.is_comment())
            .map(|t| (t.start, t.end, COMMENT, 0)),
    );
    out.sort_unstable();
    out
}

/// The protocol's relative encoding, one token per line: a token that spans
/// lines (a block comment) is split at each line break, since a client need
/// not support multiline tokens.
pub fn encode(text: &str, tokens: &[(usize, usize, u32, u32)]) -> Vec<lt::SemanticToken> {
    let lines = LineIndex::new(text);
    let mut data = Vec::with_capacity(tokens.len());
    let (mut last_line, mut last_char) = (0u32, 0u32);
    for &(start, end, ty, mods) in tokens {
        let mut from = start;
        while from < end {
            let line_end = text[from..end].find('\n').map_or(end, |i| from + i);
            let a = lines.position(text, from);
            let b = lines.position(text, line_end);
            if b.character > a.character {
                let delta_line = a.line - last_line;
                let delta_start = if delta_line == 0 {
                    a.character - last_char
                } else {
                    a.character
                };
                data.push(lt::SemanticToken {
                    delta_line,
                    delta_start,
                    length: b.character - a.character,
                    token_type: ty,
                    token_modifiers_bitset: mods,
                });
                (last_line, last_char) = (a.line, a.character);
            }
            from = line_end + 1;
        }
    }
    data
}

/// The outline of a file whose text does not parse as a whole, from the
/// tree the parser recovers (the statements around each syntax error),
/// with positions in the current text; `None` when the text parses (the
/// analysis's outline is then current) or nothing could be recovered.
#[allow(deprecated)] // `deprecated` is a required field of DocumentSymbol
pub fn recovered_outline(
    s: &Snapshot,
    p: &lt::DocumentSymbolParams,
) -> Option<lt::DocumentSymbolResponse> {
    let path = text::uri_to_path(&p.text_document.uri)?;
    let text = s.text_of(&path)?;
    // The tree an analysis of this very text parsed (the whole site's or
    // the last slice's), and whether it parsed whole, as that analysis says.
    let analysed = s.analysis_of_text(&path, &text);
    let parsed;
    let (tree, clean) = match &analysed {
        Some((snap, f)) => (snap.tree(*f), snap.parsed(*f)),
        None => {
            // No analysis has read this text: a document that no site reads
            // (in a hidden directory, or another path of a file it reads,
            // which `tenantc check` would not read either), or one whose
            // check a newer change superseded. So it is parsed here, by
            // loading's own entry and through the server's cache (once per
            // text), and judged whole as an analysis judges it.
            parsed = crate::resolve::load::parse_input(
                Some(s.unanalysed),
                crate::source::FileId(0),
                &text,
            );
            let clean = parsed.as_ref().is_some_and(|t| t.skipped.is_empty());
            (parsed.as_deref(), clean)
        }
    };
    let lines = LineIndex::new(&text);
    let Some(tree) = tree else {
        // Nothing recovered (a stray `}`, brackets that do not nest): the
        // blocks as the braces delimit them.
        return Some(lt::DocumentSymbolResponse::Nested(lexical_outline(
            &text, &lines,
        )));
    };
    if clean {
        return None;
    }
    fn build(b: &crate::syntax::ast::Block, text: &str, lines: &LineIndex) -> lt::DocumentSymbol {
        use crate::syntax::ast::Entry;
        let kids: Vec<lt::DocumentSymbol> = b
            .entries
            .iter()
            .filter_map(|e| match e {
                Entry::Block(inner) => Some(build(inner, text, lines)),
                Entry::Field(_) => None,
            })
            .collect();
        let name = b.name.as_ref().unwrap_or(&b.kind);
        lt::DocumentSymbol {
            name: name.name.clone(),
            detail: Some(b.kind.name.clone()),
            kind: super::features::symbol_kind(&b.kind.name),
            tags: None,
            deprecated: None,
            range: lines.range(text, b.span.start as usize, b.span.end as usize),
            selection_range: lines.range(text, name.span.start as usize, name.span.end as usize),
            children: (!kids.is_empty()).then_some(kids),
        }
    }
    let top: Vec<lt::DocumentSymbol> = tree
        .blocks
        .iter()
        .map(|b| build(b, &text, &lines))
        .collect();
    Some(lt::DocumentSymbolResponse::Nested(top))
}

/// The outline as the braces delimit it, for a text the parser recovers
/// nothing from: `kind name {` and `kind {` open a block (not `= {`, an
/// object value), `}` closes the innermost open brace, a `}` with none open
/// is skipped, and blocks still open at the end close there.
#[allow(deprecated)] // `deprecated` is a required field of DocumentSymbol
pub fn lexical_outline(text: &str, lines: &LineIndex) -> Vec<lt::DocumentSymbol> {
    struct Open {
        /// None for a brace that opens no block (an object value).
        block: Option<(String, usize, usize, usize)>,
        children: Vec<lt::DocumentSymbol>,
    }
    let code: Vec<Token> = lex::tokens(text)
        .filter(|t| !t.kind.is_trivia() && !t.kind.is_comment())
        .collect();
    let word = |i: usize| &text[code[i].start..code[i].end];
    let ident = |i: usize| code[i].kind == Kind::Ident;
    let mut top: Vec<lt::DocumentSymbol> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let close = |open: Open, end: usize| -> Option<lt::DocumentSymbol> {
        let (kind, start, name_start, name_end) = open.block?;
        Some(lt::DocumentSymbol {
            name: text[name_start..name_end].to_string(),
            detail: Some(kind.clone()),
            kind: super::features::symbol_kind(&kind),
            tags: None,
            deprecated: None,
            range: lines.range(text, start, end),
            selection_range: lines.range(text, name_start, name_end),
            children: (!open.children.is_empty()).then_some(open.children),
        })
    };
    for i in 0..code.len() {
        match word(i) {
            "{" => {
                let value = |j: usize| matches!(word(j), "=" | "." | "," | "[" | "(");
                let block = if i >= 2 && ident(i - 1) && ident(i - 2) && (i < 3 || !value(i - 3)) {
                    Some((
                        word(i - 2).to_string(),
                        code[i - 2].start,
                        code[i - 1].start,
                        code[i - 1].end,
                    ))
                } else if i >= 1 && ident(i - 1) && (i < 2 || !value(i - 2)) {
                    Some((
                        word(i - 1).to_string(),
                        code[i - 1].start,
                        code[i - 1].start,
                        code[i - 1].end,
                    ))
                } else {
                    None
                };
                stack.push(Open {
                    block,
                    children: Vec::new(),
                });
            }
            "}" => {
                if let Some(open) = stack.pop() {
                    let done = close(open, code[i].end);
                    let into = stack.last_mut().map_or(&mut top, |o| &mut o.children);
                    into.extend(done);
                }
            }
            _ => {}
        }
    }
    while let Some(open) = stack.pop() {
        let done = close(open, text.len());
        let into = stack.last_mut().map_or(&mut top, |o| &mut o.children);
        into.extend(done);
    }
    top
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_names_keys_references_and_literals() {
        let text = "cluster ocp1 {\n  kind = openshift # c\n  node w1 { dvipa = 10.1.1.1 }\n  registry r { credentials = env(\"X\") }\n}\n";
        let got: Vec<(&str, u32, u32)> = classify(text)
            .into_iter()
            .map(|(s, e, t, m)| (&text[s..e], t, m))
            .collect();
        assert_eq!(
            got,
            [
                ("cluster", KEYWORD, 0),
                ("ocp1", NAME, 1),
                ("kind", PROPERTY, 0),
                ("openshift", VARIABLE, 0),
                ("# c", COMMENT, 0),
                ("node", KEYWORD, 0),
                ("w1", NAME, 1),
                ("dvipa", PROPERTY, 0),
                ("10.1.1.1", NUMBER, 0),
                ("registry", KEYWORD, 0),
                ("r", NAME, 1),
                ("credentials", PROPERTY, 0),
                ("env", FUNCTION, 0),
                ("\"X\"", STRING, 0),
            ]
        );
    }

    #[test]
    fn braces_outline_a_text_that_does_not_nest() {
        let text = "tenant a {\n  subject = { CN = \"x\" }\n  workload w { image = \"i\" }\n}\n}\ntenant b {\n  volume v {\n";
        let lines = LineIndex::new(text);
        let out = lexical_outline(text, &lines);
        let names: Vec<&str> = out.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let kids = |s: &lt::DocumentSymbol| -> Vec<String> {
            s.children
                .iter()
                .flatten()
                .map(|c| c.name.clone())
                .collect()
        };
        assert_eq!(kids(&out[0]), ["w"]);
        assert_eq!(kids(&out[1]), ["v"]);
        assert_eq!(out[1].range.end, lines.position(text, text.len()));
    }

    #[test]
    fn encoding_is_relative_and_splits_multiline_tokens() {
        let text = "a = 1\n/* x\ny */ b = 2\n";
        let data = encode(text, &classify(text));
        let rows: Vec<[u32; 3]> = data
            .iter()
            .map(|t| [t.delta_line, t.delta_start, t.length])
            .collect();
        // a, 1, the comment's two lines, b, 2.
        assert_eq!(
            rows,
            [
                [0, 0, 1],
                [0, 4, 1],
                [1, 0, 4],
                [1, 0, 4],
                [0, 5, 1],
                [0, 4, 1]
            ]
        );
    }
}
