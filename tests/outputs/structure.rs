//! Structural checkers for the formats no public validator exists for,
//! written from IBM's documented syntax and run on every generated file.
//!
//! PAGENT AT-TLS policy (z/OS Communications Server IP Configuration
//! Reference, "AT-TLS policy statements": TTLSRule, TTLSGroupAction,
//! TTLSEnvironmentAction, TTLSConnectionAction, TTLSKeyringParms, ...;
//! "Policy Agent configuration file structure": `Statement name { ... }`,
//! braces on their own lines, statement and parameter names not case
//! sensitive, `...Ref name` naming a globally defined statement, names of
//! 1-32 characters).
//!
//! JCL (z/OS MVS JCL Reference, "JCL statement fields" and "Continuing JCL
//! statements": `//` in columns 1-2, name field 1-8 characters starting with
//! a letter or national character, content within column 71, a continued
//! statement ends with a comma and continues in columns 4-16) and TSO/E
//! command continuation in SYSTSIN (TSO/E Command Reference: a line ending in
//! `+` or `-` continues the command; apostrophes inside a quoted string are
//! doubled).

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

/// Statements and the parameters tenantc may use in them; a `*` parameter
/// value means "a nested block".
const PAGENT: &[(&str, &[&str])] = &[
    (
        "TTLSRule",
        &[
            "Jobname",
            "Userid",
            "Direction",
            "Priority",
            "LocalPortRange",
            "RemotePortRange",
            "LocalAddr",
            "RemoteAddr",
            "RemoteAddrGroupRef",
            "LocalAddrGroupRef",
            "TTLSGroupActionRef",
            "TTLSEnvironmentActionRef",
            "TTLSConnectionActionRef",
        ],
    ),
    ("IpAddrGroup", &["IpAddr"]),
    ("IpAddr", &["Addr", "Prefix"]),
    (
        "TTLSGroupAction",
        &["TTLSEnabled", "Trace", "FIPS140", "CtraceClearText"],
    ),
    (
        "TTLSEnvironmentAction",
        &[
            "HandshakeRole",
            "TTLSKeyringParmsRef",
            "TTLSCipherParmsRef",
            "TTLSEnvironmentAdvancedParms",
            "Trace",
        ],
    ),
    (
        "TTLSEnvironmentAdvancedParms",
        &[
            "ApplicationControlled",
            "HandshakeTimeout",
            "ClientAuthType",
            "SSLv2",
            "SSLv3",
            "TLSv1",
            "TLSv1.1",
            "TLSv1.2",
            "TLSv1.3",
            "SecondaryMap",
        ],
    ),
    (
        "TTLSConnectionAction",
        &[
            "HandshakeRole",
            "TTLSCipherParmsRef",
            "TTLSConnectionAdvancedParmsRef",
        ],
    ),
    (
        "TTLSConnectionAdvancedParms",
        &[
            "SSLv2",
            "SSLv3",
            "TLSv1",
            "TLSv1.1",
            "TLSv1.2",
            "TLSv1.3",
            "SecondaryMap",
            "ApplicationControlled",
            "HandshakeTimeout",
        ],
    ),
    (
        "TTLSCipherParms",
        &["V3CipherSuites", "V3CipherSuites4Char"],
    ),
    ("TTLSKeyringParms", &["Keyring"]),
];

/// Parameter values that must be one of a set (case-insensitive).
const ENUMS: &[(&str, &[&str])] = &[
    ("Direction", &["Inbound", "Outbound", "Both"]),
    ("TTLSEnabled", &["On", "Off"]),
    (
        "HandshakeRole",
        &["Client", "Server", "ServerWithClientAuth"],
    ),
    (
        "ClientAuthType",
        &["PassThru", "Full", "Required", "SAFCheck"],
    ),
    ("ApplicationControlled", &["On", "Off"]),
    ("SecondaryMap", &["On", "Off"]),
    ("SSLv2", &["On", "Off"]),
    ("SSLv3", &["On", "Off"]),
    ("TLSv1", &["On", "Off"]),
    ("TLSv1.1", &["On", "Off"]),
    ("TLSv1.2", &["On", "Off"]),
    ("TLSv1.3", &["On", "Off"]),
];

fn allowed(statement: &str) -> Option<&'static [&'static str]> {
    PAGENT
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(statement))
        .map(|(_, p)| *p)
}

fn name_ok(n: &str) -> bool {
    (1..=32).contains(&n.len())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@#$-".contains(c))
}

/// Checks one policy file; returns the problems found.
fn check_pagent(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut defined: BTreeMap<String, String> = BTreeMap::new(); // name -> statement type
    let mut refs: Vec<(String, String, usize)> = Vec::new(); // (type, name, line)
    let mut stack: Vec<String> = Vec::new(); // open statements
    let mut pending: Option<String> = None; // statement waiting for its `{`
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["{"] => match pending.take() {
                Some(s) => stack.push(s),
                None => problems.push(format!("line {line_no}: `{{` without a statement")),
            },
            ["}"] => {
                if stack.pop().is_none() {
                    problems.push(format!("line {line_no}: unbalanced `}}`"));
                }
            }
            [word, rest @ ..] => {
                if pending.is_some() {
                    problems.push(format!("line {line_no}: statement not followed by `{{`"));
                }
                match stack.last() {
                    None => {
                        // A top-level statement: `Type name`.
                        if allowed(word).is_none() {
                            problems.push(format!("line {line_no}: unknown statement `{word}`"));
                        }
                        match rest {
                            [name] if name_ok(name) => {
                                if defined.insert(name.to_string(), word.to_string()).is_some() {
                                    problems
                                        .push(format!("line {line_no}: `{name}` defined twice"));
                                }
                            }
                            _ => problems.push(format!(
                                "line {line_no}: `{word}` needs one name of 1-32 characters"
                            )),
                        }
                        pending = Some(word.to_string());
                    }
                    Some(parent) => {
                        let params = allowed(parent).unwrap_or(&[]);
                        if !params.iter().any(|p| p.eq_ignore_ascii_case(word)) {
                            problems.push(format!(
                                "line {line_no}: `{word}` is not a parameter of `{parent}`"
                            ));
                        }
                        if rest.is_empty() {
                            // An inline nested statement.
                            if allowed(word).is_none() {
                                problems.push(format!("line {line_no}: `{word}` needs a value"));
                            }
                            pending = Some(word.to_string());
                            continue;
                        }
                        // LocalPortRange n m: IBM's TTLSRule syntax diagram.
                        let most = if *word == "LocalPortRange" { 2 } else { 1 };
                        if rest.is_empty() || rest.len() > most {
                            problems.push(format!(
                                "line {line_no}: `{word}` takes {most} value(s) at most, found {}",
                                rest.len()
                            ));
                        }
                        let value = rest[0];
                        if let Some(target) = word.strip_suffix("Ref") {
                            // Address group references name an IpAddrGroup.
                            let target = if target.ends_with("AddrGroup") {
                                "IpAddrGroup"
                            } else {
                                target
                            };
                            refs.push((target.to_string(), value.to_string(), line_no));
                        }
                        if let Some((_, set)) =
                            ENUMS.iter().find(|(k, _)| k.eq_ignore_ascii_case(word))
                        {
                            if !set.iter().any(|v| v.eq_ignore_ascii_case(value)) {
                                problems.push(format!(
                                    "line {line_no}: `{word} {value}` is not one of {set:?}"
                                ));
                            }
                        }
                        match *word {
                            "Jobname" | "Userid" if !(1..=8).contains(&value.len()) => {
                                problems.push(format!("line {line_no}: {word} is 1-8 characters"))
                            }
                            "Addr" if value.parse::<std::net::Ipv4Addr>().is_err() => problems
                                .push(format!("line {line_no}: `{value}` is not an address")),
                            "LocalPortRange" => {
                                // `n` or `n m` (low <= high), as IBM documents it.
                                let ok = rest
                                    .iter()
                                    .map(|p| p.parse::<u16>().ok().filter(|p| *p > 0))
                                    .collect::<Option<Vec<_>>>();
                                let ordered = match ok.as_deref() {
                                    Some([_]) => true,
                                    Some([lo, hi]) => lo <= hi,
                                    _ => false,
                                };
                                if !ordered {
                                    problems.push(format!(
                                        "line {line_no}: `{value}` is not a port or port range"
                                    ));
                                }
                            }
                            "HandshakeTimeout"
                                if value.parse::<u32>().map_or(true, |t| t > 600) =>
                            {
                                problems.push(format!("line {line_no}: HandshakeTimeout is 0-600"))
                            }
                            "Trace" if value.parse::<u32>().map_or(true, |t| t > 255) => {
                                problems.push(format!("line {line_no}: Trace is 0-255"))
                            }
                            "Keyring" if !(1..=1023).contains(&value.len()) => problems
                                .push(format!("line {line_no}: Keyring is 1-1023 characters")),
                            _ => {}
                        }
                    }
                }
            }
            [] => {}
        }
    }
    if !stack.is_empty() || pending.is_some() {
        problems.push("unclosed statement at end of file".into());
    }
    for (ty, name, line) in refs {
        match defined.get(&name) {
            Some(t) if t.eq_ignore_ascii_case(&ty) => {}
            Some(t) => problems.push(format!("line {line}: `{name}` is a {t}, not a {ty}")),
            None => problems.push(format!("line {line}: `{ty}Ref {name}` names no statement")),
        }
    }
    for required in [
        "TTLSRule",
        "TTLSGroupAction",
        "TTLSEnvironmentAction",
        "TTLSKeyringParms",
    ] {
        if !defined.values().any(|t| t == required) {
            problems.push(format!("no {required} statement"));
        }
    }
    problems
}

fn jcl_name_ok(n: &str) -> bool {
    (1..=8).contains(&n.len())
        && n.starts_with(|c: char| c.is_ascii_uppercase() || "#$@".contains(c))
        && n.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "#$@".contains(c))
}

/// Checks one batch TSO job; returns the problems found.
pub(crate) fn check_jcl(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let Some(card) = lines.first() else {
        return vec!["empty job".into()];
    };
    let fields: Vec<&str> = card.trim_start_matches("//").split_whitespace().collect();
    if !card.starts_with("//")
        || fields.get(1) != Some(&"JOB")
        || !fields.first().is_some_and(|n| jcl_name_ok(n))
    {
        problems.push(format!("line 1 is not a job card: {card}"));
    }
    let mut in_stream = false;
    let mut continued_jcl = false;
    let mut continued_tso = false;
    let mut commands = 0;
    let mut quotes_open = false;
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.len() > 71 {
            problems.push(format!("line {n} passes column 71"));
        }
        if !line.is_ascii() || line.chars().any(|c| c.is_control()) {
            problems.push(format!("line {n} holds characters JCL cannot carry"));
        }
        if in_stream {
            if *line == "/*" {
                in_stream = false;
                if continued_tso || quotes_open {
                    problems.push(format!("line {n}: in-stream data ends inside a command"));
                }
                continue;
            }
            if line.starts_with("//") || line.starts_with("/*") {
                problems.push(format!(
                    "line {n}: `{}` in columns 1-2 would end the in-stream data",
                    &line[..2]
                ));
            }
            if !continued_tso {
                commands += 1;
                // Every command starts with a TSO command name that tenantc uses.
                let verb = line.split_whitespace().next().unwrap_or("");
                if ![
                    "RACDCERT", "SETROPTS", "PERMIT", "RDEFINE", "LISTUSER", "ADDUSER", "ALTUSER",
                    "RDELETE", "DELUSER",
                    // TSO/E DELETE of the certificate exports (job 5).
                    "DELETE",
                ]
                .contains(&verb)
                {
                    problems.push(format!(
                        "line {n}: `{verb}` is not a TSO command (a missing `+` continuation?)"
                    ));
                }
            }
            // Quotes: a doubled apostrophe stays inside the string.
            let body = line.trim_end();
            let mut chars = body.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '\'' {
                    if quotes_open && chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        quotes_open = !quotes_open;
                    }
                }
            }
            continued_tso = body.ends_with('+') || body.ends_with('-');
            if !continued_tso && quotes_open {
                problems.push(format!("line {n}: a quoted string is not closed"));
                quotes_open = false;
            }
            continue;
        }
        if line.starts_with("//*") {
            continue;
        }
        if !line.starts_with("//") {
            problems.push(format!(
                "line {n} is neither a JCL statement nor in-stream data"
            ));
            continue;
        }
        if continued_jcl {
            let indent = line[2..].len() - line[2..].trim_start().len();
            if !(1..=13).contains(&indent) {
                problems.push(format!("line {n}: a continuation starts in columns 4-16"));
            }
        } else {
            let name = line[2..].split_whitespace().next().unwrap_or("");
            if !line[2..].starts_with(' ') && !jcl_name_ok(name) {
                problems.push(format!("line {n}: `{name}` is not a valid name field"));
            }
        }
        // IKJEFT01 goes on after a failing command; IKJEFT1B ends the step
        // with its return code (TSO/E User's Guide, "EXEC statement").
        // A tolerant step (its failures mean "exists already") is allowed
        // only when a strict IKJEFT1B step follows it in the same job.
        if line.contains("PGM=IKJEFT01") && !lines[i..].iter().any(|l| l.contains("PGM=IKJEFT1B")) {
            problems.push(format!(
                "line {n}: IKJEFT01 ignores failing commands; run IKJEFT1B"
            ));
        }
        continued_jcl = line.trim_end().ends_with(',');
        if line.contains(" DD *") {
            in_stream = true;
        }
    }
    if in_stream {
        problems.push("in-stream data is not ended by /*".into());
    }
    if commands == 0 {
        problems.push("no TSO commands".into());
    }
    // Parentheses balance over each whole (continued) command.
    let data: Vec<&str> = lines
        .iter()
        .skip_while(|l| !l.contains(" DD *"))
        .skip(1)
        .take_while(|l| **l != "/*")
        .copied()
        .collect();
    let mut command = String::new();
    for l in data {
        let body = l.trim_end();
        let (part, more) = match body.strip_suffix('+') {
            Some(p) => (p, true),
            None => (body, false),
        };
        command.push_str(part.trim_start());
        if !more {
            let unquoted: String = command.split('\'').step_by(2).collect();
            if unquoted.matches('(').count() != unquoted.matches(')').count() {
                problems.push(format!("unbalanced parentheses in `{command}`"));
            }
            command.clear();
        }
    }
    problems
}

fn bundle_texts(suffix: &str) -> Vec<(String, String)> {
    std::env::set_current_dir(common::root()).expect("cd");
    let mut out = Vec::new();
    for dir in ["examples/zcx-nfs", "tests/fixtures/multi"] {
        let inputs = tenantc::find_inputs(&[dir.into()]).expect("inputs");
        let opts = tenantc::Options::default();
        let a = tenantc::analyze(&inputs, &opts).expect("analysis");
        let b = tenantc::build_bundle(&a, &opts).expect("bundle");
        for (p, f) in b.files {
            if p.ends_with(suffix) {
                out.push((
                    format!("{dir}: {p}"),
                    String::from_utf8(f.bytes).expect("text"),
                ));
            }
        }
    }
    assert!(!out.is_empty());
    out
}

#[test]
fn every_generated_policy_is_well_formed() {
    for (name, text) in bundle_texts(".policy") {
        assert_eq!(check_pagent(&text), Vec::<String>::new(), "{name}\n{text}");
    }
}

#[test]
fn every_generated_job_is_well_formed() {
    for (name, text) in bundle_texts(".jcl") {
        assert_eq!(check_jcl(&text), Vec::<String>::new(), "{name}\n{text}");
    }
}

#[test]
fn the_policy_checker_catches_the_seeds_mistakes() {
    let (_, good) = bundle_texts(".policy").remove(0);
    assert!(check_pagent(&good).is_empty());
    // The seed's truncated TTLSKeyringParms (no closing brace).
    let truncated = good
        .trim_end()
        .strip_suffix('}')
        .expect("ends with }")
        .to_string();
    assert!(!check_pagent(&truncated).is_empty());
    // A reference to a statement that does not exist, and one of the wrong type.
    assert!(!check_pagent(&good.replacen(
        "TTLSGroupActionRef              MVSNFS8_group",
        "TTLSGroupActionRef              zCX_action1",
        1
    ))
    .is_empty());
    assert!(!check_pagent(&good.replacen(
        "TTLSGroupActionRef              MVSNFS8_group",
        "TTLSGroupActionRef              MVSNFS8_env",
        1
    ))
    .is_empty());
    // Values outside their set, and an unknown parameter.
    assert!(!check_pagent(&good.replace("ServerWithClientAuth", "ServerWithAuth")).is_empty());
    assert!(!check_pagent(&good.replace(
        "Direction                       Inbound",
        "Direction                       Sideways"
    ))
    .is_empty());
    assert!(!check_pagent(&good.replace("SecondaryMap", "SecondaryMapping")).is_empty());
    // IBM writes a range `n m`: the seed's `n:m`, Zowe's `n-m` and a
    // reversed range are refused.
    assert!(good.contains("LocalPortRange                  2043 2049"));
    for bad in ["2043:2049", "2043-2049", "2049 2043", "2043 2049 2050"] {
        assert!(
            !check_pagent(&good.replace("2043 2049", bad)).is_empty(),
            "{bad}"
        );
    }
    let set: BTreeSet<String> =
        check_pagent(&good.replace("MVSNFS8_clients", "a_name_that_is_far_too_long_for_pagent"))
            .into_iter()
            .collect();
    assert!(!set.is_empty());
}

#[test]
fn the_jcl_checker_catches_broken_jobs() {
    let (_, good) = bundle_texts("3-client-fios.jcl").remove(0);
    assert!(check_jcl(&good).is_empty());
    assert!(
        !check_jcl(&good.replace("PGM=IKJEFT1B", "PGM=IKJEFT01")).is_empty(),
        "IKJEFT01 goes on after a failing RACDCERT"
    );
    assert!(
        !check_jcl(&good.replace("'NFSTST Private Cert'", "'NFSTST Private Cert")).is_empty(),
        "open quote"
    );
    assert!(
        !check_jcl(&good.replace("SIZE(2048)", "SIZE(2048")).is_empty(),
        "parenthesis"
    );
    assert!(
        !check_jcl(&good.replacen(" +\n", "\n", 1)).is_empty(),
        "missing continuation"
    );
    assert!(
        !check_jcl(&good.replacen("//SYSTSIN  DD *", "//SYSTSIN  DD *\n/* early end", 1))
            .is_empty(),
        "early /*"
    );
    assert!(
        !check_jcl(&good.replacen("TENANTC", &"X".repeat(80), 1)).is_empty(),
        "column 71"
    );
    assert!(
        !check_jcl(good.trim_end().strip_suffix("/*").expect("ends with /*")).is_empty(),
        "no /*"
    );
    // The job name is a hash of the tenant (see ir::job_name), not a position.
    let job = good
        .lines()
        .find_map(|l| {
            l.strip_prefix("//")?
                .split_once(" JOB")
                .map(|(n, _)| n.to_string())
        })
        .expect("a JOB card");
    assert!(
        !check_jcl(&good.replacen(&format!("//{job} JOB"), &format!("//1{job} JOB"), 1)).is_empty(),
        "job name"
    );
}
