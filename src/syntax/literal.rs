//! The checks and conversions of literal values (numbers, strings, addresses,
//! durations), shared by the two ways a file is parsed: the pest grammar
//! (which reports syntax errors) and the hand-written fast path in
//! [`super::fast`]. Both hand them the text the grammar matched and its span,
//! so that a literal error is reported once, with one wording, whichever
//! parser read the file.
//!
//! Each function trusts that the text has the shape its grammar rule gives
//! it (`octet ~ "." ~ ...`, `"\"" ~ string_inner ~ "\""`): they convert and
//! check ranges, they do not re-parse.

use crate::diagnostics::{registry, Diagnostic};
use crate::source::Span;
use std::net::Ipv4Addr;

fn bad_literal(diags: &mut Vec<Diagnostic>, span: Span, message: String, help: &str) {
    diags.push(Diagnostic::new(registry::BAD_LITERAL, span, message, "invalid literal").help(help));
}

/// `digits` (or a whole `integer`) as a number; 0 and a diagnostic when it
/// does not fit in 64 bits.
pub(crate) fn number(diags: &mut Vec<Diagnostic>, text: &str, span: Span) -> u64 {
    match text.parse::<u64>() {
        Ok(n) => n,
        Err(_) => {
            bad_literal(
                diags,
                span,
                format!("number `{text}` is too large"),
                "numbers must fit in 64 bits",
            );
            0
        }
    }
}

/// A `string` with its quotes, unescaped. A `\u{..}` that is no Unicode
/// scalar value (a surrogate, above 10FFFF) is left out, with a diagnostic on
/// the whole string.
pub(crate) fn string(diags: &mut Vec<Diagnostic>, raw: &str, span: Span) -> String {
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    // Most strings hold no escape: one copy.
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'u')) => {
                let rest = &raw[i + 2..];
                let hex: String = rest
                    .trim_start_matches('{')
                    .chars()
                    .take_while(|c| *c != '}')
                    .collect();
                // Skip `{hex}`.
                for _ in 0..hex.len() + 2 {
                    chars.next();
                }
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => bad_literal(
                        diags,
                        span,
                        format!("`\\u{{{hex}}}` is not a Unicode scalar value"),
                        "use a code point between 0 and 10FFFF that is not a surrogate",
                    ),
                }
            }
            _ => {}
        }
    }
    out
}

/// The four octets of `text` (`a.b.c.d`); the diagnostic, on `span`, names
/// the first octet above 255.
pub(crate) fn octets(diags: &mut Vec<Diagnostic>, text: &str, span: Span) -> Ipv4Addr {
    let mut octets = [0u8; 4];
    for (i, part) in text.split('.').take(4).enumerate() {
        match part.parse::<u8>() {
            Ok(o) => octets[i] = o,
            Err(_) => {
                bad_literal(
                    diags,
                    span,
                    format!("`{text}` is not an IPv4 address: octet `{part}` is above 255"),
                    "each of the four parts is 0..255",
                );
                break;
            }
        }
    }
    Ipv4Addr::from(octets)
}

/// A `cidr` (`a.b.c.d/nn`): its octets, then its prefix length.
pub(crate) fn cidr(diags: &mut Vec<Diagnostic>, text: &str, span: Span) -> ipnet::Ipv4Net {
    let (addr, prefix) = text.split_once('/').unwrap_or((text, "32"));
    let ip = octets(diags, addr, span);
    let prefix: u8 = prefix.parse().unwrap_or(255);
    match ipnet::Ipv4Net::new(ip, prefix) {
        Ok(net) => net,
        Err(_) => {
            bad_literal(
                diags,
                span,
                format!("`{text}` is not a CIDR: the prefix length is above 32"),
                "write the prefix length as 0..32, e.g. 172.30.0.0/16",
            );
            ipnet::Ipv4Net::default()
        }
    }
}

/// A `duration` in milliseconds: `n` (already read from its digits) times
/// the unit's length. `text` and `span` are the whole literal (`5000ms`).
pub(crate) fn duration(
    diags: &mut Vec<Diagnostic>,
    n: u64,
    unit: &str,
    text: &str,
    span: Span,
) -> u64 {
    let factor: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => 86_400_000,
    };
    n.checked_mul(factor).unwrap_or_else(|| {
        bad_literal(
            diags,
            span,
            format!("duration `{text}` is too long"),
            "use a smaller duration",
        );
        0
    })
}
