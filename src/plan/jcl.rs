//! How a RACDCERT command is laid out in JCL: the rules the RACF jobs are
//! written with (src/lower/racf.rs) and the checks decide with, in one place.
//!
//! One keyword per line, `+` continuations, quoted values with `'` doubled,
//! long quoted values split between two non-blank characters (a `+`
//! continuation drops the next line's leading blanks), and every line within
//! column 71.

use crate::ir::Subject;

/// JCL and SYSTSIN content must end at column 71.
pub const MAX_COLUMN: usize = 71;

/// `'value'` with embedded quotes doubled.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Lays a TSO command (its first line, then its operands, one per line)
/// out in lines of at most [`MAX_COLUMN`] columns; `Err` names the operand
/// that cannot be split.
pub fn layout(words: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let last = words.len().saturating_sub(1);
    for (i, w) in words.iter().enumerate() {
        let indent = if i == 0 { "  " } else { "    " };
        let cont = if i == last { "" } else { " +" };
        let line = format!("{indent}{w}{cont}");
        if line.len() <= MAX_COLUMN {
            out.push(line);
            continue;
        }
        // Split the operand; each piece ends with `+` and the next
        // starts with a non-blank character, so rejoining is exact.
        let chars: Vec<char> = w.chars().collect();
        let mut start = 0;
        let mut first_piece = true;
        while start < chars.len() {
            let ind = if first_piece { indent } else { "      " };
            let rest: String = chars[start..].iter().collect();
            if ind.len() + rest.len() + cont.len() <= MAX_COLUMN {
                out.push(format!("{ind}{rest}{cont}"));
                break;
            }
            let room = MAX_COLUMN - ind.len() - 1;
            let mut end = (start + room).min(chars.len() - 1);
            while end > start + 1
                && (chars[end - 1] == ' ' || chars[end] == ' ' || chars[end] == ',')
            {
                end -= 1;
            }
            if end <= start + 1 {
                return Err(format!("cannot fit `{w}` into JCL columns"));
            }
            let piece: String = chars[start..end].iter().collect();
            out.push(format!("{ind}{piece}+"));
            start = end;
            first_piece = false;
        }
    }
    Ok(out)
}

/// Whether one operand can be laid out within the JCL columns, between a
/// command's first line and a further operand: a value that cannot be
/// written is a spec error.
pub fn operand_fits(operand: &str) -> bool {
    layout(&["RACDCERT".to_string(), operand.to_string(), "X".to_string()]).is_ok()
}

/// The `SUBJECTSDN(...)` operand of a certificate's subject.
pub fn dn(subject: &Subject) -> String {
    let parts: Vec<String> = subject
        .0
        .iter()
        .map(|(k, v)| format!("{k}({})", quote(&v.value)))
        .collect();
    format!("SUBJECTSDN({})", parts.join(" "))
}

/// `date` (yyyy-mm-dd) plus `days`, in the proleptic Gregorian calendar;
/// `None` when `date` is not a date.
pub fn add_days(date: &str, days: u32) -> Option<String> {
    add_years(date, 0)?;
    let mut parts = date.splitn(3, '-');
    let mut y: u32 = parts.next()?.parse().ok()?;
    let mut m: u32 = parts.next()?.parse().ok()?;
    let mut d: u32 = parts.next()?.parse().ok()?;
    d = d.checked_add(days)?;
    while d > days_in(y, m) {
        d -= days_in(y, m);
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

fn days_in(y: u32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// `YYYY-MM-DD` plus whole years (29 February becomes 28 February in a
/// year that has none); `None` when `date` is not a date. No clock is read.
pub fn add_years(date: &str, years: u64) -> Option<String> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = &date[r];
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = |y: u64, m: u64| match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    // RACDCERT takes dates from 1950 to 9999.
    if !(1950..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days(y, m) {
        return None;
    }
    let ny = y.checked_add(years).filter(|y| *y <= 9999)?;
    Some(format!("{ny:04}-{m:02}-{:02}", d.min(days(ny, m))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joins continued lines the way TSO does: a trailing `+` is dropped and
    /// the next line's leading blanks and commas are deleted.
    fn tso_join(lines: &[String]) -> String {
        let mut out = String::new();
        let mut continued = false;
        for l in lines {
            let l = if continued {
                l.trim_start_matches([' ', ','])
            } else {
                l.trim_start()
            };
            match l.strip_suffix('+') {
                Some(body) => {
                    out.push_str(body);
                    continued = true;
                }
                None => {
                    out.push_str(l);
                    continued = false;
                }
            }
        }
        out
    }

    #[test]
    fn years_are_added_without_a_clock() {
        assert_eq!(add_years("2027-01-04", 10).as_deref(), Some("2037-01-04"));
        assert_eq!(add_years("2028-02-29", 1).as_deref(), Some("2029-02-28"));
        assert_eq!(add_years("2028-02-29", 4).as_deref(), Some("2032-02-29"));
        for bad in [
            "2027-02-30",
            "2027-13-01",
            "27-01-01",
            "2027/01/01",
            "1949-01-01",
            "2027-1-01",
        ] {
            assert_eq!(add_years(bad, 0), None, "{bad}");
        }
        assert_eq!(add_years("9990-01-01", 10), None);
    }

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote("O'Brien"), "'O''Brien'");
        assert_eq!(quote("a') + X"), "'a'') + X'");
    }

    #[test]
    fn long_values_are_split_exactly_within_column_71() {
        let long = "A very long common name that will not fit on one line at all, x";
        for value in [
            long.to_string(),
            "x".repeat(64),
            format!("{} '{}'", "b".repeat(40), "c".repeat(20)),
        ] {
            let words = [
                "RACDCERT ID(NFSTST) GENCERT".to_string(),
                format!("SUBJECTSDN(CN({}) O({}))", quote(&value), quote(&value)),
                "SIZE(2048)".to_string(),
            ];
            let lines = layout(&words).expect("fits");
            assert!(lines.iter().all(|l| l.len() <= MAX_COLUMN), "{lines:#?}");
            let joined = tso_join(&lines);
            let expected = format!(
                "RACDCERT ID(NFSTST) GENCERT SUBJECTSDN(CN({q}) O({q})) SIZE(2048)",
                q = quote(&value)
            );
            assert_eq!(joined, expected);
        }
    }

    #[test]
    fn an_operand_without_a_place_to_split_does_not_fit() {
        assert!(operand_fits(&format!("CN({})", quote(&"x".repeat(64)))));
        // Single letters separated by blanks leave no two non-blank
        // neighbours to split between.
        assert!(!operand_fits(&"a ".repeat(60)));
    }
}
