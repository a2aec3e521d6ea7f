//! The RACF twin: a model of a RACF database (users with their OMVS
//! segments, digital certificates, key rings and their connections,
//! general-resource profiles and their access lists) and of the data sets
//! TSO commands create and delete, driven by the TSO commands of a
//! generated job's SYSTSIN, run as IKJEFT1B runs them.
//!
//! Each rule names the page of the z/OS Security Server RACF Command
//! Language Reference (or TSO/E reference) it follows. Where the pages
//! found do not say what the command does in a case, the twin takes the
//! stricter reading only when the runbook could not go on otherwise, and
//! says so beside the rule.

use super::{digest, Obj};
use std::collections::{BTreeMap, BTreeSet};

/// What a data set GENREQ wrote holds: this, then the owner, the key pair's
/// number and the label.
const REQUEST: &str = "PKCS10 request of ";

/// A certificate's owner: CERTAUTH, SITE, or a user ID.
pub type Owner = String;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct User {
    pub uid: Option<String>,
    pub home: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cert {
    /// The GENCERT operands that shape the certificate (subject, key
    /// usage, alternate names, key size and type), as written.
    pub shape: String,
    pub notbefore: String,
    pub notafter: String,
    /// (owner, label) of the signer; `None` for self-signed.
    pub signer: Option<(Owner, String)>,
    pub has_key: bool,
    /// Bumped each time the key pair is replaced (REKEY makes a new one).
    pub key: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    pub default: bool,
    pub usage: Option<String>,
}

/// A key ring: its connections by (certificate owner, label).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ring {
    pub certs: BTreeMap<(Owner, String), Connection>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub uacc: Option<String>,
    /// The access list: ID -> access.
    pub permits: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Racf {
    pub users: BTreeMap<String, User>,
    pub certs: BTreeMap<(Owner, String), Cert>,
    pub rings: BTreeMap<(String, String), Ring>,
    /// General-resource profiles by (class, profile).
    pub profiles: BTreeMap<(String, String), Profile>,
    /// Data sets by name, with what wrote them.
    pub datasets: BTreeMap<String, String>,
    /// The SETROPTS commands run, in order (no state of their own here).
    pub setropts: Vec<String>,
    /// Commands that failed in an IKJEFT01 step, which goes on after them.
    pub tolerated: Vec<String>,
    /// User IDs the system had before the site (Policy Agent's): not the
    /// bundle's objects, so not in the state.
    pub preexisting: BTreeSet<String>,
}

/// A job that stopped: the 0-based index of the failing command, the
/// command (continuations joined) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobFailure {
    pub index: usize,
    pub command: String,
    pub reason: String,
}

// ---------------------------------------------------------------- parsing

/// The TSO commands of a job's `//SYSTSIN DD *` stream, continuations
/// joined. The stream ends at `/*` or at the next JCL statement (`//`).
///
/// TSO/E continuation: "Use either a hyphen (minus sign) or a plus sign as
/// the last character on the line you wish to continue ... The plus sign
/// causes TSO/E to delete leading delimiters (blanks, commas, tabs, and
/// comments) on the continuation line."
/// https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.ikjc400/ikjc40013.htm
pub fn systsin(jcl: &str) -> Result<Vec<String>, String> {
    let mut lines = jcl.lines();
    let mut found = false;
    for l in lines.by_ref() {
        let mut words = l.split_whitespace();
        if words.next() == Some("//SYSTSIN") && words.next() == Some("DD") {
            if words.next() != Some("*") {
                return Err("SYSTSIN is not an in-stream (DD *) data set".into());
            }
            found = true;
            break;
        }
    }
    if !found {
        return Err("no //SYSTSIN DD * statement".into());
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut continued: Option<char> = None;
    let mut ended = false;
    for l in lines {
        if l.starts_with("/*") || l.starts_with("//") {
            ended = true;
            break;
        }
        // Columns 73-80 are sequence numbers in a fixed-length record;
        // the generator never writes past 71 (src/plan/jcl.rs).
        if l.chars().count() > 72 {
            return Err(format!("SYSTSIN line past column 72: {l:?}"));
        }
        let l = l.trim_end();
        let body = match continued {
            Some('+') => l.trim_start_matches([' ', ',', '\t']),
            Some(_) => l,
            None => l.trim_start(),
        };
        if continued.is_none() && body.is_empty() {
            continue;
        }
        match body.chars().last() {
            Some(c @ ('+' | '-')) => {
                cur.push_str(&body[..body.len() - 1]);
                continued = Some(c);
            }
            _ => {
                cur.push_str(body);
                out.push(std::mem::take(&mut cur));
                continued = None;
            }
        }
    }
    if continued.is_some() {
        return Err("the last SYSTSIN command is continued into nothing".into());
    }
    if !ended {
        return Err("SYSTSIN has no /* delimiter".into());
    }
    Ok(out)
}

/// The steps of a job: each `EXEC PGM=IKJEFT01|IKJEFT1B` with the TSO
/// commands of its SYSTSIN. A job without EXEC statements is one IKJEFT1B
/// step (the tests' short jobs).
pub fn steps(jcl: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let lines: Vec<&str> = jcl.lines().collect();
    let execs: Vec<(usize, String)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let mut w = l.split_whitespace();
            let (_, op, operands) = (w.next()?, w.next()?, w.next().unwrap_or(""));
            (l.starts_with("//") && op == "EXEC").then(|| {
                let pgm = operands
                    .split(',')
                    .find_map(|o| o.strip_prefix("PGM="))
                    .unwrap_or("")
                    .to_string();
                (i, pgm)
            })
        })
        .collect();
    if execs.is_empty() {
        return Ok(vec![("IKJEFT1B".into(), systsin(jcl)?)]);
    }
    let mut out = Vec::new();
    for (n, (start, pgm)) in execs.iter().enumerate() {
        if !matches!(pgm.as_str(), "IKJEFT01" | "IKJEFT1B") {
            return Err(format!("step program {pgm} outside the twin"));
        }
        let end = execs.get(n + 1).map_or(lines.len(), |(e, _)| *e);
        let mut text = lines[*start..end].join("\n");
        text.push('\n');
        out.push((pgm.clone(), systsin(&text)?));
    }
    Ok(out)
}

/// One operand of a TSO command: a word, a quoted string, or a keyword
/// with a parenthesized list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    Word(String),
    Quoted(String),
    Call(String, Vec<Tok>),
}

impl Tok {
    /// The keyword (upper case) of a word or call.
    pub fn key(&self) -> Option<String> {
        match self {
            Tok::Word(w) | Tok::Call(w, _) => Some(w.to_ascii_uppercase()),
            Tok::Quoted(_) => None,
        }
    }
    /// The value of a word or quoted string.
    pub fn value(&self) -> Option<&str> {
        match self {
            Tok::Word(w) | Tok::Quoted(w) => Some(w),
            Tok::Call(..) => None,
        }
    }
    fn render(&self) -> String {
        match self {
            Tok::Word(w) => w.clone(),
            Tok::Quoted(q) => format!("'{}'", q.replace('\'', "''")),
            Tok::Call(k, args) => format!(
                "{k}({})",
                args.iter().map(Tok::render).collect::<Vec<_>>().join(" ")
            ),
        }
    }
}

/// Tokenizes one TSO command: blanks and commas delimit, `'...'` quotes
/// with `''` for a quote, `KEYWORD(...)` nests.
pub fn tokens(cmd: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = cmd.chars().collect();
    let mut i = 0;
    let out = list(&chars, &mut i, false)?;
    if i != chars.len() {
        return Err(format!("unbalanced `)` in {cmd:?}"));
    }
    Ok(out)
}

fn list(chars: &[char], i: &mut usize, nested: bool) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    loop {
        while *i < chars.len() && matches!(chars[*i], ' ' | ',' | '\t') {
            *i += 1;
        }
        match chars.get(*i) {
            None if nested => return Err("unbalanced `(`".into()),
            None => return Ok(out),
            Some(')') if nested => {
                *i += 1;
                return Ok(out);
            }
            Some(')') => return Ok(out),
            Some('\'') => {
                *i += 1;
                let mut s = String::new();
                loop {
                    match chars.get(*i) {
                        None => return Err("unbalanced quote".into()),
                        Some('\'') if chars.get(*i + 1) == Some(&'\'') => {
                            s.push('\'');
                            *i += 2;
                        }
                        Some('\'') => {
                            *i += 1;
                            break;
                        }
                        Some(c) => {
                            s.push(*c);
                            *i += 1;
                        }
                    }
                }
                out.push(Tok::Quoted(s));
            }
            Some('(') => {
                // `ADDUSER (U1 U2)`: a list without a keyword.
                *i += 1;
                let args = list(chars, i, true)?;
                out.push(Tok::Call(String::new(), args));
            }
            Some(_) => {
                let start = *i;
                while *i < chars.len() && !matches!(chars[*i], ' ' | ',' | '\t' | '(' | ')' | '\'')
                {
                    *i += 1;
                }
                let w: String = chars[start..*i].iter().collect();
                if chars.get(*i) == Some(&'(') {
                    *i += 1;
                    let args = list(chars, i, true)?;
                    out.push(Tok::Call(w, args));
                } else if chars.get(*i) == Some(&'\'') {
                    return Err(format!("a quote inside the word {w:?}"));
                } else {
                    out.push(Tok::Word(w));
                }
            }
        }
    }
}

/// The operands of a command by keyword (the first of each).
struct Ops<'a>(&'a [Tok]);

impl<'a> Ops<'a> {
    fn get(&self, key: &str) -> Option<&'a Tok> {
        self.0.iter().find(|t| t.key().as_deref() == Some(key))
    }
    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    fn args(&self, key: &str) -> Option<&'a [Tok]> {
        match self.get(key) {
            Some(Tok::Call(_, a)) => Some(a),
            _ => None,
        }
    }
    /// The single value of `KEY(value)`.
    fn value(&self, key: &str) -> Option<String> {
        match self.args(key) {
            Some([v]) => v.value().map(str::to_string),
            _ => None,
        }
    }
}

/// `LABEL('x')` inside a list.
fn label_in(args: &[Tok]) -> Option<String> {
    Ops(args).value("LABEL")
}

/// The certificate owner named inside a list (`CERTAUTH`, `SITE`,
/// `ID(u)`), or `default` when none is.
fn owner_in(args: &[Tok], default: &str) -> Owner {
    let ops = Ops(args);
    if ops.has("CERTAUTH") {
        "CERTAUTH".into()
    } else if ops.has("SITE") {
        "SITE".into()
    } else if let Some(id) = ops.value("ID") {
        id.to_ascii_uppercase()
    } else {
        default.to_string()
    }
}

// -------------------------------------------------------------- execution

impl Racf {
    /// Runs a generated job: its SYSTSIN commands in order, as IKJEFT1B
    /// does: "a command ending with a nonzero return code ends the step
    /// with that code" (the generated JCL's own comment, after
    /// https://ibm.com/docs/en/zos/2.1.0?topic=execution-exec-statement).
    /// The commands before the failing one keep their effect.
    pub fn run_job(&mut self, jcl: &str) -> Result<usize, JobFailure> {
        let steps = steps(jcl).map_err(|reason| JobFailure {
            index: 0,
            command: String::new(),
            reason,
        })?;
        let mut total = 0;
        let mut failed = None;
        for (pgm, cmds) in steps {
            for (i, c) in cmds.iter().enumerate() {
                if let Err(reason) = self.exec(c) {
                    if pgm == "IKJEFT01" {
                        // IKJEFT01 goes on to the next command: a step
                        // that "tolerates what exists".
                        self.tolerated.push(format!("{c}: {reason}"));
                        continue;
                    }
                    failed.get_or_insert(JobFailure {
                        index: total + i,
                        command: c.clone(),
                        reason,
                    });
                    break;
                }
            }
            // A step ending with a nonzero return code does not stop the
            // job's later steps (no COND= in the generated JCL).
            total += cmds.len();
        }
        match failed {
            Some(f) => Err(f),
            None => Ok(total),
        }
    }

    /// Runs one TSO command; `Err` is a nonzero return code, with why.
    pub fn exec(&mut self, cmd: &str) -> Result<(), String> {
        let toks = tokens(cmd)?;
        let Some(verb) = toks.first().and_then(Tok::key) else {
            return Err("empty command".into());
        };
        let rest = &toks[1..];
        match verb.as_str() {
            "ADDUSER" | "AU" => self.adduser(rest),
            "ALTUSER" | "ALU" => self.altuser(rest),
            "DELUSER" | "DU" => self.deluser(rest),
            "LISTUSER" | "LU" => {
                let id = first_value(rest, "LISTUSER")?;
                self.need_user(&id)
            }
            "RDEFINE" | "RDEF" => self.rdefine(rest),
            "RALTER" | "RALT" => {
                let (class, profile) = class_profile(rest)?;
                self.need_profile(&class, &profile)?;
                if let Some(u) = Ops(rest).value("UACC") {
                    self.profiles
                        .get_mut(&(class, profile))
                        .expect("checked")
                        .uacc = Some(u);
                }
                Ok(())
            }
            "RDELETE" | "RDEL" => self.rdelete(rest),
            "RLIST" | "RL" => {
                let (class, profile) = class_profile(rest)?;
                self.need_profile(&class, &profile)
            }
            "PERMIT" | "PE" => self.permit(rest),
            "SETROPTS" | "SETR" => {
                self.setropts
                    .push(rest.iter().map(Tok::render).collect::<Vec<_>>().join(" "));
                Ok(())
            }
            "RACDCERT" | "RACDCRT" => self.racdcert(rest),
            "DELETE" | "DEL" => self.delete_dataset(rest),
            other => Err(format!("the twin does not know the command {other}")),
        }
    }

    fn need_user(&self, id: &str) -> Result<(), String> {
        if self.users.contains_key(id) {
            Ok(())
        } else {
            Err(format!("user {id} is not defined to RACF"))
        }
    }

    fn need_profile(&self, class: &str, profile: &str) -> Result<(), String> {
        if self
            .profiles
            .contains_key(&(class.to_string(), profile.to_string()))
        {
            Ok(())
        } else {
            Err(format!("no profile {profile} in class {class}"))
        }
    }

    // ADDUSER: "Use the ADDUSER command to define a new user to RACF": a
    // user ID already defined is not added (ICH01010I userid NOT ADDED).
    // https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/adduser.htm
    // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha600/adduser.htm
    fn adduser(&mut self, rest: &[Tok]) -> Result<(), String> {
        let ids = user_ids(rest)?;
        for id in &ids {
            if self.users.contains_key(id) {
                return Err(format!("user {id} is already defined"));
            }
        }
        for id in ids {
            let mut u = User::default();
            omvs(rest, &mut u);
            self.users.insert(id, u);
        }
        Ok(())
    }

    // ALTUSER changes an existing user's profile; an undefined ID fails.
    // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha600/cmdmsg.htm
    // (ICH21xxx, the ALTUSER messages)
    fn altuser(&mut self, rest: &[Tok]) -> Result<(), String> {
        let ids = user_ids(rest)?;
        for id in &ids {
            self.need_user(id)?;
        }
        for id in ids {
            let u = self.users.get_mut(&id).expect("checked");
            if Ops(rest).has("NOOMVS") {
                *u = User::default();
            }
            omvs(rest, u);
        }
        Ok(())
    }

    // DELUSER: "related DIGTCERT, DIGTRING, and DIGTNMAP profiles are
    // deleted as a part of DELUSER processing" (RACDCERT DELETE page).
    // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/le-delete.htm
    // Access-list entries naming the user stay (residual, as IRRRID00
    // finds them).
    fn deluser(&mut self, rest: &[Tok]) -> Result<(), String> {
        let ids = user_ids(rest)?;
        for id in &ids {
            self.need_user(id)?;
        }
        for id in ids {
            self.users.remove(&id);
            let gone: Vec<_> = self
                .certs
                .keys()
                .filter(|(o, _)| *o == id)
                .cloned()
                .collect();
            for k in gone {
                self.drop_cert(&k);
            }
            self.rings.retain(|(u, _), _| *u != id);
        }
        Ok(())
    }

    // RDEFINE "adds a profile for the resource to the RACF database"; a
    // profile that exists is not defined again (ICH10102I).
    // https://ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/rdefine.htm
    fn rdefine(&mut self, rest: &[Tok]) -> Result<(), String> {
        let (class, profile) = class_profile(rest)?;
        let key = (class.clone(), profile.clone());
        if self.profiles.contains_key(&key) {
            return Err(format!(
                "profile {profile} in class {class} is already defined"
            ));
        }
        self.profiles.insert(
            key,
            Profile {
                uacc: Ops(rest).value("UACC"),
                permits: BTreeMap::new(),
            },
        );
        Ok(())
    }

    // RDELETE removes a profile and its access list; a profile not
    // defined fails ("profile-name NOT DEFINED TO RACF", as for PERMIT).
    // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha600/cmdmsg.htm
    fn rdelete(&mut self, rest: &[Tok]) -> Result<(), String> {
        let (class, profile) = class_profile(rest)?;
        self.need_profile(&class, &profile)?;
        self.profiles.remove(&(class, profile));
        Ok(())
    }

    // PERMIT maintains "the lists of users and groups authorized to access
    // a particular resource": the profile must exist (ICH06004I
    // profile-name NOT DEFINED TO RACF: "Command processing stops"), as
    // must the ID given access (ICH06007I name NOT DEFINED TO RACF; the
    // twin models users, not groups). PERMIT ... DELETE of an ID not on
    // the list is ICH06002I (name NOT AUTHORIZED, DELETE IGNORED); the
    // pages found do not give its return code: the twin takes it as
    // nonzero, which ends an IKJEFT1B step.
    // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/permit.htm
    // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha600/permit.htm
    fn permit(&mut self, rest: &[Tok]) -> Result<(), String> {
        // Profile names as written (RDATALIB ring profiles keep the
        // ring's case).
        let profile = match rest.first() {
            Some(Tok::Word(w) | Tok::Quoted(w)) => w.clone(),
            Some(Tok::Call(k, a)) if k.is_empty() && a.len() == 1 => {
                a[0].value().ok_or("PERMIT without a profile")?.to_string()
            }
            _ => return Err("PERMIT without a profile".into()),
        };
        let ops = Ops(rest);
        let class = ops
            .value("CLASS")
            .ok_or("PERMIT without CLASS (the twin models general resources only)")?
            .to_ascii_uppercase();
        let ids: Vec<String> = match ops.args("ID") {
            Some(a) => a
                .iter()
                .filter_map(Tok::value)
                .map(str::to_ascii_uppercase)
                .collect(),
            None => return Err("PERMIT without ID".into()),
        };
        self.need_profile(&class, &profile)?;
        let p = self
            .profiles
            .get_mut(&(class.clone(), profile.clone()))
            .expect("checked");
        if ops.has("DELETE") {
            for id in &ids {
                if p.permits.remove(id).is_none() {
                    return Err(format!(
                        "{id} is not on the access list of {profile} ({class})"
                    ));
                }
            }
            return Ok(());
        }
        for id in &ids {
            if !self.users.contains_key(id) {
                return Err(format!("{id} is not defined to RACF"));
            }
        }
        let access = ops.value("ACCESS").unwrap_or_else(|| "READ".into());
        let p = self.profiles.get_mut(&(class, profile)).expect("checked");
        for id in ids {
            p.permits.insert(id, access.to_ascii_uppercase());
        }
        Ok(())
    }

    // DELETE of a data set: the catalog search ends in "a no-entry-found
    // error" when no catalog has it (Access Method Services Commands).
    // https://www.ibm.com/docs/SSLTBW_2.1.0/com.ibm.zos.v2r1.idai200/expdisc.htm
    fn delete_dataset(&mut self, rest: &[Tok]) -> Result<(), String> {
        let dsn = first_value(rest, "DELETE")?;
        if self.datasets.remove(&dsn).is_none() {
            return Err(format!("data set {dsn} not found"));
        }
        Ok(())
    }

    fn drop_cert(&mut self, key: &(Owner, String)) {
        self.certs.remove(key);
        // "When you delete a certificate that is connected to a key ring,
        // the certificate is automatically removed from the key ring."
        // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/le-delete.htm
        for r in self.rings.values_mut() {
            r.certs.remove(key);
        }
    }

    fn need_cert(&self, key: &(Owner, String)) -> Result<&Cert, String> {
        self.certs
            .get(key)
            .ok_or_else(|| format!("no certificate labeled '{}' for {}", key.1, key.0))
    }

    /// RACDCERT: one function per command, the owner from `CERTAUTH`,
    /// `SITE` or `ID(u)`.
    /// https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/radcertg.htm
    fn racdcert(&mut self, rest: &[Tok]) -> Result<(), String> {
        let ops = Ops(rest);
        let owner = owner_in(rest, "");
        if owner.is_empty() {
            return Err(
                "RACDCERT without CERTAUTH, SITE or ID(): the twin does not know whose".into(),
            );
        }
        let func = rest
            .iter()
            .filter_map(Tok::key)
            .find(|k| {
                matches!(
                    k.as_str(),
                    "GENCERT"
                        | "GENREQ"
                        | "ADDRING"
                        | "DELRING"
                        | "CONNECT"
                        | "REMOVE"
                        | "DELETE"
                        | "EXPORT"
                        | "LIST"
                        | "LISTRING"
                        | "REKEY"
                        | "ROLLOVER"
                        | "LISTCHAIN"
                )
            })
            .ok_or("RACDCERT function the twin does not model")?;
        // "The DELETE, DELRING and DELMAP keywords for RACDCERT support
        // the specification of a user ID in order to allow residual
        // certificate information related to the user ID to be deleted.
        // However, the other RACDCERT functions require the user ID to be
        // defined to RACF."
        // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/le-delete.htm
        if owner != "CERTAUTH" && owner != "SITE" && !matches!(func.as_str(), "DELETE" | "DELRING")
        {
            self.need_user(&owner)?;
        }
        match func.as_str() {
            "GENCERT" => self.gencert(&owner, &ops),
            "GENREQ" => {
                // GENREQ "create[s] a PKCS #10 Base64-encoded certificate
                // request based on the specified certificate and write[s]
                // the request to a data set. The specified certificate must
                // have a private key associated with it. Otherwise an
                // informational message is issued and processing stops."
                // Syntax: GENREQ(LABEL('label-name')) DSN('output-data-set-name').
                // The request carries the certificate's public key.
                // https://www.ibm.com/docs/SSLTBW_2.2.0/com.ibm.zos.v2r2.icha400/le-genreq.htm
                let label = ops
                    .args("GENREQ")
                    .and_then(label_in)
                    .ok_or("GENREQ without LABEL")?;
                let dsn = ops.value("DSN").ok_or("GENREQ without DSN")?;
                let key = (owner, label);
                let cert = self.need_cert(&key)?;
                if !cert.has_key {
                    return Err(format!("'{}' has no private key: GENREQ stops", key.1));
                }
                // As EXPORT, an existing data set is taken as replaced.
                let what = format!("{REQUEST}{} {} {}", key.0, cert.key, key.1);
                self.datasets.insert(dsn, what);
                Ok(())
            }
            "ADDRING" => {
                let ring = ops.value("ADDRING").ok_or("ADDRING without a ring name")?;
                // ADDRING creates a new key ring; IBM's CICS guide: "If
                // there is a key ring of the same name already in the RACF
                // database, it is replaced with the new key ring" (empty).
                // https://ibm.com/support/knowledgecenter/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha400/le-addring.htm
                // https://ibm.com/support/knowledgecenter/SSGMCP_5.4.0/security/tcpip/dfht5nt.html
                self.rings.insert((owner, ring), Ring::default());
                Ok(())
            }
            "DELRING" => {
                let ring = ops.value("DELRING").ok_or("DELRING without a ring name")?;
                // DELRING deletes a key ring; a ring that does not exist
                // cannot be.
                // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha400/le-delring.htm
                if self.rings.remove(&(owner.clone(), ring.clone())).is_none() {
                    return Err(format!("key ring {ring} of {owner} does not exist"));
                }
                Ok(())
            }
            "CONNECT" => {
                let args = ops.args("CONNECT").ok_or("CONNECT without a list")?;
                let label = label_in(args).ok_or("CONNECT without LABEL")?;
                let ring = Ops(args).value("RING").ok_or("CONNECT without RING")?;
                // The certificate's owner defaults to the ring's owner.
                let cert_owner = owner_in(args, &owner);
                // CONNECT "add[s] a digital certificate to a key ring": the
                // ring must exist and so must the certificate.
                // https://www.ibm.com/docs/SSLTBW_2.2.0/com.ibm.zos.v2r2.icha400/le-connect.htm
                let key = (cert_owner, label);
                self.need_cert(&key)?;
                let r = self
                    .rings
                    .get_mut(&(owner.clone(), ring.clone()))
                    .ok_or_else(|| format!("key ring {ring} of {owner} does not exist"))?;
                let default = Ops(args).has("DEFAULT");
                if default {
                    // One default per ring: DEFAULT moves it.
                    for c in r.certs.values_mut() {
                        c.default = false;
                    }
                }
                // Connecting again updates the connection (USAGE, DEFAULT).
                let usage = Ops(args).value("USAGE");
                let c = r.certs.entry(key).or_default();
                c.default |= default;
                if usage.is_some() {
                    c.usage = usage;
                }
                Ok(())
            }
            "REMOVE" => {
                let args = ops.args("REMOVE").ok_or("REMOVE without a list")?;
                let label = label_in(args).ok_or("REMOVE without LABEL")?;
                let ring = Ops(args).value("RING").ok_or("REMOVE without RING")?;
                let cert_owner = owner_in(args, &owner);
                // REMOVE takes a certificate off a key ring; a label not in
                // the ring fails (IRRD116I Label ... does not exist in ring).
                // https://www.ibm.com/docs/SSLTBW_2.2.0/com.ibm.zos.v2r2.icha400/le-remove.htm
                // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha600/gk01253.htm
                let r = self
                    .rings
                    .get_mut(&(owner.clone(), ring.clone()))
                    .ok_or_else(|| format!("key ring {ring} of {owner} does not exist"))?;
                if r.certs.remove(&(cert_owner, label.clone())).is_none() {
                    return Err(format!("label '{label}' does not exist in ring {ring}"));
                }
                Ok(())
            }
            "DELETE" => {
                let args = ops.args("DELETE").ok_or("DELETE without LABEL")?;
                let label = label_in(args).ok_or("DELETE without LABEL")?;
                // DELETE of a certificate that is not there fails.
                // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/le-delete.htm
                let key = (owner, label);
                self.need_cert(&key)?;
                self.drop_cert(&key);
                Ok(())
            }
            "EXPORT" => {
                let args = ops.args("EXPORT").ok_or("EXPORT without LABEL")?;
                let label = label_in(args).ok_or("EXPORT without LABEL")?;
                // "the RACDCERT EXPORT ... and GENREQ functions require a data
                // set name (using the DSN keyword) and a label name"
                // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha600/gk01267.htm
                let dsn = ops.value("DSN").ok_or("EXPORT without DSN")?;
                let format = ops.value("FORMAT").unwrap_or_else(|| "CERTB64".into());
                let key = (owner, label);
                let cert = self.need_cert(&key)?;
                // The PKCS #12 formats carry the private key: "Export the
                // certificate and the private key (which must exist ...)".
                // https://ibm.com/support/knowledgecenter/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha400/le-export.htm
                if format.starts_with("PKCS12") {
                    if !cert.has_key {
                        return Err(format!("'{}' has no private key to export", key.1));
                    }
                    if !ops.has("PASSWORD") {
                        return Err("a PKCS #12 export needs PASSWORD".into());
                    }
                }
                // EXPORT writes the data set; the twin reads an existing
                // one as replaced (RACF allocates the output data set; the
                // pages found do not say it refuses an existing one).
                self.datasets.insert(
                    dsn,
                    format!("{format} of {}/{} key {}", key.0, key.1, cert.key),
                );
                Ok(())
            }
            "LIST" => {
                // LIST(LABEL()) lists one certificate; a missing one fails
                // (as the generated verify job's comment relies on).
                // https://www.ibm.com/docs/en/csm/6.3.18?topic=validation-racdcert-list-command
                match ops.args("LIST").and_then(label_in) {
                    Some(label) => self.need_cert(&(owner, label)).map(|_| ()),
                    None => Ok(()),
                }
            }
            "LISTRING" => {
                // LISTRING of a ring that does not exist fails.
                // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha400/le-listring.htm
                let ring = ops.value("LISTRING").unwrap_or_else(|| "*".into());
                if ring != "*" && !self.rings.contains_key(&(owner.clone(), ring.clone())) {
                    return Err(format!("key ring {ring} of {owner} does not exist"));
                }
                Ok(())
            }
            "LISTCHAIN" => {
                let label = ops
                    .args("LISTCHAIN")
                    .and_then(label_in)
                    .ok_or("LISTCHAIN without LABEL")?;
                self.need_cert(&(owner, label)).map(|_| ())
            }
            "REKEY" => {
                // REKEY "replicate[s] (rekey) a digital certificate with a
                // new public/private key pair ... The replicated certificate
                // is then self-signed and stored as a new certificate
                // associated with the same user ID, CERTAUTH, or SITE. The
                // original certificate is not changed": the old certificate
                // must exist with a private key, WITHLABEL must be free.
                // https://ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/le-rekey.htm
                let old = ops
                    .args("REKEY")
                    .and_then(label_in)
                    .ok_or("REKEY without LABEL")?;
                let new = ops.value("WITHLABEL").ok_or("REKEY without WITHLABEL")?;
                let c = self.need_cert(&(owner.clone(), old.clone()))?.clone();
                if !c.has_key {
                    return Err(format!("'{old}' has no private key to rekey"));
                }
                if self.certs.contains_key(&(owner.clone(), new.clone())) {
                    return Err(format!("label '{new}' is already in use for {owner}"));
                }
                let key = self.certs.values().map(|c| c.key).max().unwrap_or(0) + 1;
                self.certs.insert(
                    (owner.clone(), new.clone()),
                    Cert {
                        signer: Some((owner, new)),
                        key,
                        ..c
                    },
                );
                Ok(())
            }
            "ROLLOVER" => {
                // ROLLOVER "Deletes the private key of the source
                // certificate" and "Adds the target certificate to any key
                // ring that contains the source certificate": connected
                // with PERSONAL usage the source is replaced by the target
                // (DEFAULT moves with it); with CERTAUTH or SITE usage the
                // target is added beside it.
                // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha400/le-rollover.htm
                let old = ops
                    .args("ROLLOVER")
                    .and_then(label_in)
                    .ok_or("ROLLOVER without LABEL")?;
                let new = ops.value("NEWLABEL").ok_or("ROLLOVER without NEWLABEL")?;
                let ok = (owner.clone(), old.clone());
                let nk = (owner.clone(), new.clone());
                if !self.need_cert(&ok)?.has_key {
                    return Err(format!("'{old}' has no private key to roll over"));
                }
                let target = self.need_cert(&nk)?;
                if !target.has_key {
                    return Err(format!("'{new}' has no private key"));
                }
                // REKEY: "The replicated certificate is then self-signed
                // ... If the rekeyed certificate needs to be signed by
                // another certificate in RACF ... Perform signing (if
                // needed) before issuing the RACDCERT ROLLOVER command."
                // The twin holds a certificate signed by another rolled
                // over to its still self-signed REKEY copy as a failure:
                // every ring holding the old one would serve a certificate
                // its peers do not trust.
                // https://www.ibm.com/docs/SSLTBW_2.2.0/com.ibm.zos.v2r2.icha400/le-rekey.htm
                let source_signer = self.need_cert(&ok)?.signer.clone();
                if source_signer.is_some_and(|s| s != ok) && target.signer.as_ref() == Some(&nk) {
                    return Err(format!(
                        "'{new}' is still self-signed (REKEY's copy) where '{old}' was signed by an authority: sign it (GENREQ, GENCERT) before ROLLOVER"
                    ));
                }
                for r in self.rings.values_mut() {
                    let Some(c) = r.certs.get(&ok).cloned() else {
                        continue;
                    };
                    let usage = c.usage.clone().unwrap_or_else(|| match owner.as_str() {
                        "CERTAUTH" | "SITE" => owner.clone(),
                        _ => "PERSONAL".into(),
                    });
                    if usage == "PERSONAL" {
                        r.certs.remove(&ok);
                        r.certs.insert(nk.clone(), c);
                    } else {
                        r.certs.insert(
                            nk.clone(),
                            Connection {
                                default: false,
                                ..c
                            },
                        );
                    }
                }
                self.certs.get_mut(&ok).expect("checked").has_key = false;
                Ok(())
            }
            _ => unreachable!(),
        }
    }

    // GENCERT: "create a digital certificate and potentially a
    // public/private key pair". WITHLABEL names it: a label already in use
    // for the owner is refused (the certificate is not added). SIGNWITH
    // names a signer that must
    // exist with a private key. GENCERT(LABEL('x')) signs an existing
    // certificate (the REKEY copy) anew.
    // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/le-gencert.htm
    fn gencert(&mut self, owner: &str, ops: &Ops) -> Result<(), String> {
        let signer = match ops.args("SIGNWITH") {
            Some(a) => {
                let label = label_in(a).ok_or("SIGNWITH without LABEL")?;
                let key = (owner_in(a, owner), label.clone());
                // A SIGNWITH without CERTAUTH or SITE names the issuer's own
                // certificate; the twin takes it as the owner's.
                let s = self.need_cert(&key)?;
                if !s.has_key {
                    return Err(format!("the signer '{label}' has no private key"));
                }
                Some(key)
            }
            None => None,
        };
        let notbefore = ops.args("NOTBEFORE").map(render_all).unwrap_or_default();
        let notafter = ops.args("NOTAFTER").map(render_all).unwrap_or_default();
        if let Some([Tok::Quoted(dsn) | Tok::Word(dsn)]) = ops.args("GENCERT") {
            // GENCERT('request-data-set-name'): GENREQ's requests "can also
            // be imported into and signed by RACF using the GENCERT
            // function with a request-data-set-name"; REKEY: "Use the
            // resulting request as input to RACDCERT GENCERT to sign the
            // replicated certificate with another certificate in RACF".
            // The request names no certificate, only its public key: the
            // twin signs the owner's certificate that holds that key (and
            // fails on a data set no GENREQ wrote, or a key no certificate
            // of the owner holds any more).
            // https://www.ibm.com/docs/SSLTBW_2.2.0/com.ibm.zos.v2r2.icha400/le-genreq.htm
            // https://www.ibm.com/docs/SSLTBW_2.2.0/com.ibm.zos.v2r2.icha400/le-rekey.htm
            // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/le-gencert.htm
            let what = self
                .datasets
                .get(dsn)
                .ok_or_else(|| format!("request data set {dsn} not found"))?;
            let (req_owner, keyno) = what
                .strip_prefix(REQUEST)
                .and_then(|r| {
                    let mut w = r.splitn(3, ' ');
                    Some((w.next()?.to_string(), w.next()?.parse::<u32>().ok()?))
                })
                .ok_or_else(|| format!("{dsn} holds no certificate request"))?;
            let key = self
                .certs
                .iter()
                .find(|((o, _), c)| *o == req_owner && o == owner && c.key == keyno && c.has_key)
                .map(|(k, _)| k.clone())
                .ok_or_else(|| {
                    format!(
                        "no certificate of {owner} holds the public key of the request in {dsn}"
                    )
                })?;
            let c = self.certs.get_mut(&key).expect("found");
            c.signer = signer.or_else(|| Some(key.clone()));
            if !notbefore.is_empty() {
                c.notbefore = notbefore;
            }
            if !notafter.is_empty() {
                c.notafter = notafter;
            }
            return Ok(());
        }
        if let Some(args) = ops.args("GENCERT") {
            // GENCERT(LABEL('x')): the request comes from the certificate x.
            let label = label_in(args).ok_or("GENCERT(...) without LABEL")?;
            let key = (owner.to_string(), label.clone());
            let c = self.certs.get_mut(&key).ok_or_else(|| {
                format!("no certificate labeled '{label}' for {owner} to generate from")
            })?;
            if !c.has_key {
                return Err(format!("'{label}' has no private key"));
            }
            c.signer = signer.or_else(|| Some(key.clone()));
            if !notbefore.is_empty() {
                c.notbefore = notbefore;
            }
            if !notafter.is_empty() {
                c.notafter = notafter;
            }
            return Ok(());
        }
        let label = ops
            .value("WITHLABEL")
            .ok_or("GENCERT without WITHLABEL (the twin needs a label)")?;
        let key = (owner.to_string(), label.clone());
        if self.certs.contains_key(&key) {
            return Err(format!("label '{label}' is already in use for {owner}"));
        }
        let shape = [
            "SUBJECTSDN",
            "SIZE",
            "RSA",
            "NISTECC",
            "BPECC",
            "ALTNAME",
            "KEYUSAGE",
        ]
        .iter()
        .filter_map(|k| ops.get(k).map(Tok::render))
        .collect::<Vec<_>>()
        .join(" ");
        let keyno = self.certs.values().map(|c| c.key).max().unwrap_or(0) + 1;
        self.certs.insert(
            key.clone(),
            Cert {
                shape,
                notbefore,
                notafter,
                signer,
                has_key: true,
                key: keyno,
            },
        );
        Ok(())
    }

    // ------------------------------------------------------------ state

    /// The objects of this database with the inventory's keys.
    pub fn state(&self, target: &str) -> BTreeSet<Obj> {
        let mut out = BTreeSet::new();
        for (id, u) in self
            .users
            .iter()
            .filter(|(id, _)| !self.preexisting.contains(*id))
        {
            let d = match (&u.uid, &u.home) {
                (None, None) => String::new(),
                _ => digest(&format!(
                    "uid={} home={}",
                    u.uid.as_deref().unwrap_or(""),
                    u.home.as_deref().unwrap_or("")
                )),
            };
            out.insert(Obj::new(target, "racf-user", id.clone(), d));
        }
        for ((o, l), c) in &self.certs {
            let signer = c
                .signer
                .as_ref()
                .map(|(so, sl)| format!("{so}/{sl}"))
                .unwrap_or_default();
            out.insert(Obj::new(
                target,
                "certificate",
                format!("{o}/{l}"),
                digest(&format!(
                    "{}|{}|{}|{}|{}",
                    c.shape, c.notbefore, c.notafter, signer, c.has_key
                )),
            ));
        }
        for ((u, r), ring) in &self.rings {
            out.insert(Obj::new(target, "keyring", format!("{u}/{r}"), ""));
            for ((o, l), c) in &ring.certs {
                let d = format!(
                    "default={} usage={}",
                    c.default,
                    c.usage.as_deref().unwrap_or("")
                );
                out.insert(Obj::new(
                    target,
                    "ring-connection",
                    format!("{u}/{r}/{o}/{l}"),
                    digest(&d),
                ));
            }
        }
        for ((class, p), prof) in &self.profiles {
            out.insert(Obj::new(
                target,
                "profile",
                format!("{class} {p}"),
                digest(prof.uacc.as_deref().unwrap_or("")),
            ));
            for (id, access) in &prof.permits {
                out.insert(Obj::new(
                    target,
                    "permit",
                    format!("{class} {p} {id}"),
                    digest(access),
                ));
            }
        }
        for (dsn, what) in &self.datasets {
            out.insert(Obj::new(target, "data-set", dsn.clone(), digest(what)));
        }
        out
    }
}

fn render_all(args: &[Tok]) -> String {
    args.iter().map(Tok::render).collect::<Vec<_>>().join(" ")
}

/// The first operand's value (a name), upper-cased unless quoted.
fn first_value(rest: &[Tok], verb: &str) -> Result<String, String> {
    match rest.first() {
        Some(Tok::Word(w)) => Ok(w.to_ascii_uppercase()),
        Some(Tok::Quoted(q)) => Ok(q.clone()),
        Some(Tok::Call(_, a)) if a.len() == 1 => a[0]
            .value()
            .map(str::to_string)
            .ok_or(format!("{verb} without a name")),
        _ => Err(format!("{verb} without a name")),
    }
}

/// `ADDUSER u` or `ADDUSER (u1 u2)`.
fn user_ids(rest: &[Tok]) -> Result<Vec<String>, String> {
    match rest.first() {
        Some(Tok::Word(w)) => Ok(vec![w.to_ascii_uppercase()]),
        Some(Tok::Call(k, a)) if k.is_empty() => Ok(a
            .iter()
            .filter_map(Tok::value)
            .map(str::to_ascii_uppercase)
            .collect()),
        _ => Err("no user ID".into()),
    }
}

/// `RDEFINE class profile ...`: the class, then the profile name.
fn class_profile(rest: &[Tok]) -> Result<(String, String), String> {
    match rest {
        [Tok::Word(c), p, ..] => {
            let profile = match p {
                Tok::Word(w) => w.clone(),
                Tok::Quoted(q) => q.clone(),
                // `RDEFINE SERVAUTH (name)`: a list of one.
                Tok::Call(k, a) if k.is_empty() && a.len() == 1 => {
                    a[0].value().ok_or("a profile name is a word")?.to_string()
                }
                Tok::Call(..) => return Err("one profile a command (the twin's subset)".into()),
            };
            Ok((c.to_ascii_uppercase(), profile))
        }
        _ => Err("expected CLASS PROFILE".into()),
    }
}

/// OMVS(UID(n) HOME('dir')) onto a user.
fn omvs(rest: &[Tok], u: &mut User) {
    if let Some(a) = Ops(rest).args("OMVS") {
        let o = Ops(a);
        if let Some(uid) = o.value("UID") {
            u.uid = Some(uid);
        }
        if let Some(home) = o.value("HOME") {
            u.home = Some(home);
        }
    }
}
