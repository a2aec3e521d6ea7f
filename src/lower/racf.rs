//! RACF RACDCERT jobs (batch TSO, IKJEFT01), in submission order:
//! `zos/<system>/jcl/1-authority-<name>.jcl` (GENCERT CERTSIGN, EXPORT CERTB64),
//! `2-server-<jobname>.jcl` (server certificate, key ring, CONNECTs),
//! `3-client-<tenant>.jcl` (client certificate, PKCS#12 export).
//!
//! Every command is laid out here, not in the template, by the rules of
//! [`crate::plan::jcl`] (the ones the checks decide with): one keyword per
//! line, `+` continuations, quoted values with `'` doubled, long quoted values
//! split between two non-blank characters, and every line within column 71.
//! Job names, file names, subject DNs and placeholders come from the plan.

use super::{Error, Templates};
use crate::bundle::{inventory, Bundle};
use crate::ir::*;
use crate::plan::jcl::{layout, quote, MAX_COLUMN};
use crate::plan::Plan;
use serde::Serialize;
use std::collections::BTreeSet;

/// What every job says about reruns.
const RERUN: &str = "Not rerunnable as is: IKJEFT1B ends the step at the first command with a nonzero return code, and a rerun's GENCERT finds its label in use. To redo a job, first RACDCERT DELETE its certificates (and DELRING the ring), or resubmit only the commands after the one that failed.";

/// READ access for the server's user ID to its own key ring, under which
/// AT-TLS opens it, and the refresh of the class's in-storage profiles.
/// R_datalib "RACF authorization": the ring-specific RDATALIB resource
/// `<ringOwner>.<ringName>.LST` (owner in upper case, ring name folded to
/// upper case; the class must be RACLISTed); READ "enables retrieving one's
/// own private key"; without a matching profile the FACILITY resource
/// IRR.DIGTCERT.LISTRING is checked:
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.4.0/com.ibm.zos.v2r4.ichd100/dlibauth.htm
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.4.0/com.ibm.zos.v2r4.ichd100/usgntrdata.htm
fn ring_access(s: &NfsServer) -> (Vec<Command>, Command) {
    let user = &s.user.value;
    match s.ring_access {
        RingAccess::Rdatalib => {
            let profile = format!("{user}.{}.LST", s.keyring.value.to_ascii_uppercase());
            (
                vec![
                    Command::new(format!("RDEFINE RDATALIB {profile}"))
                        .op("UACC(NONE)")
                        .makes("profile", format!("RDATALIB {profile}")),
                    Command::new(format!("PERMIT {profile}"))
                        .op("CLASS(RDATALIB)")
                        .op(format!("ID({user})"))
                        .op("ACCESS(READ)")
                        .makes("permit", format!("RDATALIB {profile} {user}")),
                ],
                Command::new("SETROPTS RACLIST(RDATALIB) REFRESH"),
            )
        }
        RingAccess::Facility => (
            vec![Command::new("PERMIT IRR.DIGTCERT.LISTRING")
                .op("CLASS(FACILITY)")
                .op(format!("ID({user})"))
                .op("ACCESS(READ)")
                .makes("permit", format!("FACILITY IRR.DIGTCERT.LISTRING {user}"))],
            Command::new("SETROPTS RACLIST(FACILITY) REFRESH"),
        ),
    }
}

/// One TSO command: its first line and its operands, one per line.
pub(crate) struct Command {
    words: Vec<String>,
    /// The object the command creates, for the inventory.
    object: Option<Made>,
}

/// What a command makes: an object of the inventory, and the commands that
/// must run again when it is made on a deployed system.
struct Made {
    kind: &'static str,
    name: String,
    role: Option<String>,
    signer: Option<String>,
    validity: Option<(String, String)>,
    /// Commands that complete the object (a user ID's OMVS segment): part
    /// of its definition, run right after the one that makes it.
    more: Vec<Command>,
    then: Vec<Command>,
}

impl Command {
    pub(crate) fn new(first: impl Into<String>) -> Command {
        Command {
            words: vec![first.into()],
            object: None,
        }
    }
    pub(crate) fn op(mut self, operand: impl Into<String>) -> Command {
        self.words.push(operand.into());
        self
    }

    /// Marks the command as the one that makes an object of `kind` and `name`.
    fn makes(mut self, kind: &'static str, name: impl Into<String>) -> Command {
        self.object = Some(Made {
            kind,
            name: name.into(),
            role: None,
            signer: None,
            validity: None,
            more: Vec::new(),
            then: Vec::new(),
        });
        self
    }

    /// A certificate: its role for the site, its NOTAFTER, and what must run
    /// again once it is made (its exports).
    fn certificate(
        self,
        name: String,
        role: String,
        signer: Option<&Authority>,
        validity: Option<(String, String)>,
        then: Vec<Command>,
    ) -> Command {
        let mut c = self.makes("certificate", name);
        if let Some(m) = &mut c.object {
            m.role = Some(role);
            m.signer = signer.map(|a| format!("CERTAUTH/{}", a.label.value));
            m.validity = validity;
            m.then = then;
        }
        c
    }

    /// Lays the command out in lines of at most [`MAX_COLUMN`] columns.
    fn lines(&self) -> Result<Vec<String>, Error> {
        layout(&self.words).map_err(Error::Internal)
    }
}

fn key_ops(cmd: Command, key: &Key) -> Command {
    let cmd = cmd.op(format!("SIZE({})", key.bits.value));
    match key.alg {
        KeyAlg::Rsa => cmd.op("RSA"),
        KeyAlg::Nistecc => cmd.op("NISTECC"),
    }
}

pub use crate::plan::validity;

/// NOTBEFORE/NOTAFTER operands of a dated certificate. RACDCERT GENCERT
/// NOTBEFORE(DATE(yyyy-mm-dd)) NOTAFTER(DATE(yyyy-mm-dd)):
/// https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/le-gencert.htm
fn dated(cmd: Command, v: &Option<(String, String)>) -> Command {
    match v {
        Some((from, to)) => cmd
            .op(format!("NOTBEFORE(DATE({from}))"))
            .op(format!("NOTAFTER(DATE({to}))")),
        None => cmd,
    }
}

/// The export of an authority's certificate for the proxies' ca-file.
fn ca_export(a: &Authority) -> Command {
    Command::new("RACDCERT CERTAUTH")
        .op(format!("EXPORT(LABEL({}))", quote(&a.label.value)))
        .op(format!("DSN({})", quote(&a.export.dsn.value)))
        .op(format!("FORMAT({})", a.export.format.value.racf()))
}

fn refresh() -> Command {
    Command::new("SETROPTS RACLIST(DIGTCERT DIGTRING) REFRESH")
}

#[derive(Serialize)]
struct Job {
    name: String,
    account: String,
    programmer: &'static str,
    class: String,
    msgclass: String,
    notify: String,
    comments: Vec<String>,
    steps: Vec<StepOut>,
}

#[derive(Serialize)]
struct StepOut {
    name: &'static str,
    program: &'static str,
    comments: Vec<String>,
    commands: Vec<Vec<String>>,
}

/// One job step of batch TSO.
struct Step {
    /// The step name (1-8 characters).
    name: &'static str,
    /// Whether a failing command ends the step (IKJEFT1B) or the step goes
    /// on to the next command (IKJEFT01): for commands whose failure means
    /// "already there" (ADDUSER of an existing user ID, RDEFINE of an
    /// existing profile), followed by a strict step that must end RC 0.
    tolerant: bool,
    commands: Vec<Command>,
}

/// IKJEFT1B: a command ending with a nonzero return code ends the step
/// with that code; IKJEFT01 goes on to the next command (TSO/E, "EXEC
/// statement"): https://ibm.com/docs/en/zos/2.1.0?topic=execution-exec-statement
const STRICT: [&str; 3] = [
    "IKJEFT1B: a command ending with a nonzero return code ends the",
    "step with that code (IKJEFT01 would go on to the next command).",
    "https://ibm.com/docs/en/zos/2.1.0?topic=execution-exec-statement",
];
const TOLERANT: &str = "IKJEFT01 goes on after a failing command: here a failure means the object exists already, which the next step relies on and checks. https://ibm.com/docs/en/zos/2.1.0?topic=execution-exec-statement";

/// Wraps comment text to fit `//* ` lines.
fn wrap(text: &str) -> Vec<String> {
    let width = MAX_COLUMN - 4;
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let word: String = word.chars().filter(|c| c.is_ascii_graphic()).collect();
        for chunk in word.as_bytes().chunks(width) {
            let chunk = String::from_utf8_lossy(chunk);
            if !cur.is_empty() && cur.len() + 1 + chunk.len() > width {
                lines.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(&chunk);
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

struct JobBuilder<'a> {
    t: &'a Templates,
    headers: &'a super::Headers,
    sys: &'a ZosSystem,
}

impl JobBuilder<'_> {
    fn render(
        &self,
        from: crate::source::FileId,
        name: String,
        comments: &[&str],
        commands: Vec<Command>,
    ) -> Result<Rendered, Error> {
        self.render_steps(
            from,
            name,
            comments,
            vec![Step {
                name: "RACDCERT",
                tolerant: false,
                commands,
            }],
        )
    }

    fn render_steps(
        &self,
        from: crate::source::FileId,
        name: String,
        comments: &[&str],
        steps: Vec<Step>,
    ) -> Result<Rendered, Error> {
        let header = self.headers.of([from]);
        let mut lines = wrap(&header);
        for c in comments {
            lines.extend(wrap(c));
        }
        let jcl = &self.sys.jcl;
        let job = Job {
            name,
            account: format!("({})", jcl.account.value),
            programmer: "TENANTC",
            class: jcl.class.value.clone(),
            msgclass: jcl.msgclass.value.clone(),
            notify: jcl.notify.value.clone(),
            comments: lines,
            steps: steps
                .iter()
                .map(|st| {
                    Ok(StepOut {
                        name: st.name,
                        program: if st.tolerant { "IKJEFT01" } else { "IKJEFT1B" },
                        comments: if st.tolerant {
                            wrap(TOLERANT)
                        } else {
                            STRICT.map(String::from).to_vec()
                        },
                        commands: st
                            .commands
                            .iter()
                            .map(Command::lines)
                            .collect::<Result<_, _>>()?,
                    })
                })
                .collect::<Result<_, Error>>()?,
        };
        let mut made = Vec::new();
        let commands = steps.into_iter().flat_map(|st| st.commands);
        let laid_out = job.steps.iter().flat_map(|st| &st.commands);
        for (c, lines) in commands.zip(laid_out) {
            if let Some(m) = c.object {
                let then = m
                    .then
                    .iter()
                    .map(Command::lines)
                    .collect::<Result<_, _>>()?;
                let mut create = vec![lines.clone()];
                for c in &m.more {
                    create.push(c.lines()?);
                }
                made.push((m, create, then));
            }
        }
        let text = self
            .t
            .render("racf.jcl.j2", minijinja::context! { header, job })?;
        validate(&text)?;
        Ok(Rendered { text, made })
    }
}

/// An object a job makes, the commands (as lines) that make it, and those
/// to run again after it is made.
type MadeLines = (Made, Vec<Vec<String>>, Vec<Vec<String>>);

/// A job's text, and the objects its commands make with the lines that make
/// them (and the lines to run again after).
pub(crate) struct Rendered {
    text: String,
    made: Vec<MadeLines>,
}

impl Rendered {
    /// Adds the job to the bundle and its objects to the inventory of `sys`.
    fn add(
        self,
        sys: &ZosSystem,
        path: String,
        tenants: BTreeSet<String>,
        bundle: &mut Bundle,
    ) -> Result<(), Error> {
        for (m, create, then) in self.made {
            bundle.record(
                inventory::Entry {
                    key: inventory::Key::new(format!("zos/{}", sys.name.value), m.kind, m.name),
                    owners: tenants.iter().cloned().collect(),
                    file: path.clone(),
                    digest: inventory::digest_lines(&create.concat()),
                    role: m.role,
                    signer: m.signer,
                    not_before: m.validity.as_ref().map(|v| v.0.clone()),
                    not_after: m.validity.map(|v| v.1),
                    text: None,
                },
                inventory::Recipe { create, then },
            )?;
        }
        bundle.add_text(path, self.text, tenants)
    }
}

/// The structural rules every generated job must meet; a violation is a bug.
pub fn validate(text: &str) -> Result<(), Error> {
    for (i, line) in text.lines().enumerate() {
        if line.chars().count() > MAX_COLUMN {
            return Err(Error::Internal(format!(
                "JCL line {} is longer than {MAX_COLUMN} columns: {line}",
                i + 1
            )));
        }
        if !line.is_ascii() || line.chars().any(|c| c.is_control()) {
            return Err(Error::Internal(format!(
                "JCL line {} holds a character JCL cannot carry",
                i + 1
            )));
        }
    }
    Ok(())
}

/// The servers that may run on a system (home or standby).
pub(crate) fn servers_on(site: &Site, sid: SystemId) -> Vec<ServerId> {
    site.server_ids()
        .filter(|s| site.server(*s).lpars(s.0).contains(&sid))
        .collect()
}

/// The user IDs a server needs on every LPAR it may run on: its own and
/// its tenants', with their OMVS identity, by user ID (one entry each).
/// Each with its owner: `NFS server <name>` or `tenant <name>`.
pub(crate) fn users_on(site: &Site, sid: SystemId) -> Vec<(&Sp<String>, &Omvs, String)> {
    let mut users: std::collections::BTreeMap<&str, (&Sp<String>, &Omvs, String)> =
        std::collections::BTreeMap::new();
    for sv in servers_on(site, sid) {
        let s = site.server(sv);
        users
            .entry(&s.user.value)
            .or_insert_with(|| (&s.user, &s.omvs, format!("NFS server {}", s.name.value)));
        for (t, nfs) in site.tenants_of(sv) {
            let id = &nfs.identity;
            users
                .entry(&id.user.value)
                .or_insert_with(|| (&id.user, &id.omvs, format!("tenant {}", t.name.value)));
        }
    }
    users.into_values().collect()
}

/// The SERVAUTH resource that guards a stack while it waits for its AT-TLS
/// policy ("TCP/IP stack initialization access control"):
/// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.2.0/com.ibm.zos.v2r2.halz002/security_tcpip_resrcs_stack_init.htm
pub fn initstack(sys: &ZosSystem) -> String {
    format!("EZB.INITSTACK.{}.{}", sys.name.value, sys.stack.value)
}

/// Job 0 of a system a server may run on: the prerequisites the later jobs
/// and the stack's next start rely on, and job 0 of its user IDs.
fn system_jobs(
    site: &Site,
    plan: &Plan,
    jb: &JobBuilder<'_>,
    sid: SystemId,
    bundle: &mut Bundle,
) -> Result<(), Error> {
    let sys = site.system(sid);
    let names = &plan.systems[sid.0];
    let here = servers_on(site, sid);
    let Some(first) = here.first() else {
        return Ok(());
    };
    let from = site.server(*first).name.span.file;
    let tenants: BTreeSet<String> = here
        .iter()
        .flat_map(|s| super::tenants_of_server(site, *s))
        .collect();
    let profile = initstack(sys);
    // SETROPTS CLASSACT/RACLIST: RACF Command Language Reference, SETROPTS:
    // https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/setropt.htm
    // SERVAUTH must be active for AT-TLS ("If AT-TLS is enabled, you must
    // activate the SERVAUTH class, and define the EZB.INITSTACK..."):
    // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.2.0/com.ibm.zos.v2r2.halz002/security_tcpip_resrcs_stack_init.htm
    let mut define = vec![Command::new("SETROPTS CLASSACT(SERVAUTH)").op("RACLIST(SERVAUTH)")];
    // On every LPAR a server may run on, its standby LPARs included, not
    // only its home system: the server opens its ring wherever it runs.
    // With a shared RACF database, CLASSACT is kept in the shared ICB, but
    // RACLIST and RACLIST REFRESH reach the other systems only "when RACF
    // is enabled for sysplex communication" (by XCF), which the bundle
    // cannot know ("Commands that are propagated for RACF sysplex
    // communication", RACF System Programmer's Guide):
    // https://www.ibm.com/docs/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha200/icha200447.htm
    // So each LPAR's job 0 activates and RACLISTs the classes itself; on a
    // system that has them already (propagated) the commands change nothing.
    let home: Vec<&NfsServer> = here.iter().map(|s| site.server(*s)).collect();
    // The ring profiles of job 2 are checked only in an active, RACLISTed
    // RDATALIB class (R_datalib, "RACF authorization"):
    // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.4.0/com.ibm.zos.v2r4.ichd100/dlibauth.htm
    if home.iter().any(|s| s.ring_access == RingAccess::Rdatalib) {
        define.push(Command::new("SETROPTS CLASSACT(RDATALIB)").op("RACLIST(RDATALIB)"));
    }
    if home.iter().any(|s| s.ring_access == RingAccess::Facility) {
        define.push(Command::new("SETROPTS CLASSACT(FACILITY)").op("RACLIST(FACILITY)"));
    }
    // RDEFINE/PERMIT: the stack's resource, READ for Policy Agent (IBM,
    // "Define security authorization for Policy Agent"):
    // https://www.ibm.com/docs/en/SSAUBV/secure_comm_auth_pa.html
    define.push(
        Command::new(format!("RDEFINE SERVAUTH {profile}"))
            .op("UACC(NONE)")
            .makes("profile", format!("SERVAUTH {profile}")),
    );
    let mut permit = Vec::new();
    for user in std::iter::once(&sys.pagent_user).chain(&sys.initstack) {
        permit.push(
            Command::new(format!("PERMIT {profile}"))
                .op("CLASS(SERVAUTH)")
                .op(format!("ID({})", user.value))
                .op("ACCESS(READ)")
                .makes("permit", format!("SERVAUTH {profile} {}", user.value)),
        );
    }
    permit.push(Command::new("SETROPTS RACLIST(SERVAUTH) REFRESH"));
    let text = jb.render_steps(
        from,
        names.prereq.job.clone(),
        &[
            &format!(
                "System {}: prerequisites before the other jobs and before TCPCONFIG TTLS goes into the initial profile of stack {}. While the stack waits for the AT-TLS policy, only user IDs with READ to {profile} may open sockets; without that profile every socket request fails, Policy Agent's included.",
                sys.name.value, sys.stack.value
            ),
            "Rerunnable: step DEFINE tolerates what exists; step PERMIT must end RC 0.",
        ],
        vec![
            Step {
                name: "DEFINE",
                tolerant: true,
                commands: define,
            },
            Step {
                name: "PERMIT",
                tolerant: false,
                commands: permit,
            },
        ],
    )?;
    text.add(sys, names.prereq.file.clone(), tenants.clone(), bundle)?;

    let users: Vec<_> = users_on(site, sid)
        .into_iter()
        .filter(|(_, o, _)| o.uid.is_some())
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    // ADDUSER ... DFLTGRP NOPASSWORD (a protected user ID, no logon):
    // https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/adduser.htm
    // ALTUSER ... OMVS(UID(n) HOME(path)), the UID of the spec:
    // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha700/pwprepr.htm
    let mut add = Vec::new();
    let mut omvs = Vec::new();
    for (user, o, _) in &users {
        let mut c = Command::new(format!("ADDUSER {}", user.value));
        if let Some(g) = &o.group {
            c = c.op(format!("DFLTGRP({})", g.value));
        }
        let mut c = c.op("NOPASSWORD").makes("racf-user", user.value.clone());
        if let Some(uid) = &o.uid {
            let alter = || {
                Command::new(format!("ALTUSER {}", user.value))
                    .op(format!("OMVS(UID({})", uid.value))
                    .op(format!("HOME({}))", quote(&o.home.value)))
            };
            omvs.push(alter());
            // The user ID is made whole by its OMVS segment.
            if let Some(m) = &mut c.object {
                m.more.push(alter());
            }
        }
        add.push(c);
    }
    let text = jb.render_steps(
        from,
        names.users.job.clone(),
        &[
            &format!(
                "System {}: the user IDs of the NFS servers that may run here and of their tenants, with the UIDs and home directories of the spec, before the jobs that give them certificates. UIDs must be unique: the exported directories' owners are what keeps tenants apart.",
                sys.name.value
            ),
            "Rerunnable: step ADD tolerates user IDs that exist; step OMVS must end RC 0.",
        ],
        vec![
            Step {
                name: "ADD",
                tolerant: true,
                commands: add,
            },
            Step {
                name: "OMVS",
                tolerant: false,
                commands: omvs,
            },
        ],
    )?;
    text.add(sys, names.users.file.clone(), tenants.clone(), bundle)?;
    homes(site, sid, &users, jb.headers.of([from]), &tenants, bundle)
}

/// `zos/<system>/uss/homes-<system>.sh`: the HOME directory of each user ID
/// job 0-users gives an OMVS segment, made (`mkdir -p`), given to its user
/// ID and closed to others (mode 700), as the exported directories are. IBM:
/// "Make sure the HOME directory in the OMVS segment matches the home
/// directory that is defined for that user in the file system" (Defining
/// z/OS UNIX users to RACF):
/// https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.bpxb200/secuid.htm
/// Left out, and said so in the script: `/` (a superuser's home, never
/// given away), a home two user IDs share, and a home that is an exported
/// directory (the server's directory script makes it). Each home is a
/// `directory` object of the inventory, of the tenants its user serves.
fn homes(
    site: &Site,
    sid: SystemId,
    users: &[(&Sp<String>, &Omvs, String)],
    header: String,
    tenants: &BTreeSet<String>,
    bundle: &mut Bundle,
) -> Result<(), Error> {
    let sys = site.system(sid);
    let name = &sys.name.value;
    let path = format!("zos/{name}/uss/homes-{name}.sh");
    let exported: BTreeSet<&str> = servers_on(site, sid)
        .into_iter()
        .flat_map(|s| site.tenants_of(s))
        .flat_map(|(_, n)| n.volumes.iter())
        .map(|v| super::zos::unix_path(&v.export.value))
        .collect();
    let mut count: std::collections::BTreeMap<&str, usize> = Default::default();
    for (_, o, _) in users {
        *count.entry(o.home.value.as_str()).or_default() += 1;
    }
    let mut script = format!(
        "#!/bin/sh\n\
         # {header}\n\
         # Home directories of the user IDs job 0-users gives OMVS segments on {name}:\n\
         # run in the z/OS UNIX shell as a superuser, after that job. Rerunnable.\n\
         # Each belongs to its user ID with mode 700. IBM: make sure the HOME\n\
         # directory in the OMVS segment matches the home directory defined for\n\
         # that user in the file system:\n\
         # https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.bpxb200/secuid.htm\n\
         set -eu\n",
        header = crate::diagnostics::printable_with(&header, false)
    );
    script.push_str(super::zos::DIR_FUNCTION);
    for (user, o, owner) in users {
        let home = o.home.value.as_str();
        let why = if home == "/" {
            Some("the root directory is never given away")
        } else if count.get(home).copied().unwrap_or(0) > 1 {
            Some("two user IDs share it: give each a home of its own")
        } else if exported.contains(home) {
            Some("an exported directory: the server's directory script makes it")
        } else {
            None
        };
        if let Some(why) = why {
            script.push_str(&format!(
                "# {} ({owner}): HOME {} left as it is ({why}).\n",
                user.value,
                super::shell_quote(home)
            ));
            continue;
        }
        let line = format!(
            "dir {} {}",
            super::shell_quote(home),
            super::shell_quote(&user.value)
        );
        script.push_str(&format!("# {} ({owner})\n{line}\n", user.value));
        // Of the tenants this user ID serves: its own tenants', or every
        // tenant here for a server's user ID.
        let owners: BTreeSet<String> = match owner.strip_prefix("tenant ") {
            Some(_) => site
                .tenants
                .iter()
                .filter(|t| {
                    t.nfs
                        .as_ref()
                        .is_some_and(|n| n.identity.user.value == user.value)
                        && tenants.contains(&t.name.value)
                })
                .map(|t| t.name.value.clone())
                .collect(),
            None => tenants.clone(),
        };
        bundle.record(
            inventory::Entry::new(
                inventory::Key::new(format!("zos/{name}"), "directory", home.to_string()),
                owners.iter(),
                &path,
                inventory::digest_lines(&[format!("owner={} mode=700", user.value)]),
            ),
            inventory::Recipe {
                create: vec![vec![line]],
                then: Vec::new(),
            },
        )?;
    }
    bundle.add_text(path, script, tenants.clone())
}

pub fn lower(
    site: &Site,
    plan: &Plan,
    t: &Templates,
    headers: &super::Headers,
    sel: &super::Selection,
    bundle: &mut Bundle,
) -> Result<(), Error> {
    for (si, sys) in site.systems.iter().enumerate() {
        let sid = SystemId(si);
        let running: Vec<&str> = servers_on(site, sid)
            .into_iter()
            .flat_map(|s| site.tenants_of(s).map(|(t, _)| t.name.value.as_str()))
            .collect();
        if sel.any(running.into_iter()) {
            let jb = JobBuilder { t, headers, sys };
            system_jobs(site, plan, &jb, sid, bundle)?;
        }
    }
    for (si, (sys, names)) in site.systems.iter().zip(&plan.systems).enumerate() {
        let on_system = site
            .tenants
            .iter()
            .filter(|t| {
                t.nfs
                    .as_ref()
                    .is_some_and(|n| n.server.value.0 == SystemId(si))
            })
            .map(|t| t.name.value.as_str());
        if !sel.any(on_system) {
            continue;
        }
        let jb = JobBuilder { t, headers, sys };
        let sid = SystemId(si);
        for (ai, (a, an)) in sys.authorities.iter().zip(&names.authorities).enumerate() {
            let aid = AuthorityId(sid, ai);
            let gencert = key_ops(
                Command::new("RACDCERT CERTAUTH GENCERT").op(an.dn.operand.clone()),
                &a.key,
            )
            .op(format!("WITHLABEL({})", quote(&a.label.value)))
            .op("KEYUSAGE(CERTSIGN)");
            let v = validity(sys, a.valid_from.as_ref(), a.valid_years.value);
            let gencert = dated(gencert, &v).certificate(
                format!("CERTAUTH/{}", a.label.value),
                format!("authority:{}", a.name.value),
                None,
                v,
                vec![ca_export(a)],
            );
            let export = ca_export(a);
            let text = jb.render(
                a.name.span.file,
                an.job.clone(),
                &[
                    &format!(
                        "Certificate authority {}: generate, export to {} for the proxies' ca-file.",
                        a.name.value, a.export.dsn.value
                    ),
                    RERUN,
                ],
                vec![gencert, export, refresh()],
            )?;
            let tenants: BTreeSet<String> = site
                .tenants
                .iter()
                .filter(|t| {
                    t.nfs.as_ref().is_some_and(|n| {
                        n.proxy.trust.value == aid || n.identity.signed_by.value == aid
                    })
                })
                .map(|t| t.name.value.clone())
                .collect();
            text.add(sys, an.file.clone(), tenants, bundle)?;
        }
        for (i, (s, sn)) in sys.servers.iter().zip(&names.servers).enumerate() {
            let ca = site.authority(s.certificate.signed_by.value);
            let id = format!("RACDCERT ID({})", s.user.value);
            let c = &s.certificate;
            let gencert = key_ops(
                Command::new(format!("{id} GENCERT")).op(sn.dn.operand.clone()),
                &c.key,
            )
            .op(format!("WITHLABEL({})", quote(&c.label.value)))
            // The server's identity for the proxies' `verifyhost`: the DNS
            // name and the address they connect to. RACDCERT GENCERT
            // ALTNAME(IP(numeric-IP-address) DOMAIN('internet-domain-name')):
            // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/le-gencert.htm
            .op(format!(
                "ALTNAME(IP({}) DOMAIN({}))",
                s.address.value,
                quote(&c.hostname.value)
            ))
            .op("KEYUSAGE(HANDSHAKE DATAENCRYPT)")
            .op(format!(
                "SIGNWITH(CERTAUTH LABEL({}))",
                quote(&ca.label.value)
            ));
            let v = validity(sys, c.valid_from.as_ref(), c.valid_years.value);
            let gencert = dated(gencert, &v).certificate(
                format!("{}/{}", s.user.value, c.label.value),
                format!("server:{}", s.name.value),
                Some(ca),
                v,
                Vec::new(),
            );
            let ring = format!("{}/{}", s.user.value, s.keyring.value);
            let addring = Command::new(format!("{id} ADDRING({})", s.keyring.value))
                .makes("keyring", ring.clone());
            let connect_ca = Command::new(id.clone())
                .op(format!(
                    "CONNECT(CERTAUTH LABEL({})",
                    quote(&ca.label.value)
                ))
                .op(format!("RING({}))", s.keyring.value))
                .makes(
                    "ring-connection",
                    format!("{ring}/CERTAUTH/{}", ca.label.value),
                );
            let connect_own = Command::new(id.clone())
                .op(format!("CONNECT(LABEL({})", quote(&c.label.value)))
                .op(format!("RING({})", s.keyring.value))
                .op("DEFAULT)")
                .makes(
                    "ring-connection",
                    format!("{ring}/{}/{}", s.user.value, c.label.value),
                );
            let text = jb.render(
                s.name.span.file,
                sn.job.clone(),
                &[
                    &format!(
                        "NFS server {}: certificate signed by {}, key ring {} with the authority and the server certificate (DEFAULT), and READ access to the ring for {}, under which AT-TLS opens it.",
                        s.jobname.value, ca.name.value, s.keyring.value, s.user.value
                    ),
                    match s.ring_access {
                        RingAccess::Rdatalib => "The RDATALIB class must be active and RACLISTed for the ring profile to be checked: job 0-prereq of this system does that (SETROPTS CLASSACT(RDATALIB) RACLIST(RDATALIB)).",
                        RingAccess::Facility => "FACILITY IRR.DIGTCERT.LISTRING READ lets the user read every ring it owns with its own private keys; the RDATALIB profile (ring_access = rdatalib) is narrower.",
                    },
                    RERUN,
                ],
                {
                    // The refreshes last, so that every definition is in before them.
                    let mut cmds = vec![gencert, addring, connect_ca, connect_own];
                    let (grant, class_refresh) = ring_access(s);
                    cmds.extend(grant);
                    cmds.push(refresh());
                    cmds.push(class_refresh);
                    cmds
                },
            )?;
            text.add(
                sys,
                sn.file.clone(),
                super::tenants_of_server(site, ServerId(sid, i)),
                bundle,
            )?;
            // The site owns the OMVS segments and the exported directories:
            // a job that lists what the scenario relies on. LISTUSER
            // ... OMVS (RACF Command Language Reference, LISTUSER):
            // https://www.ibm.com/docs/SSLTBW_2.5.0/com.ibm.zos.v2r5.icha400/listusr.htm
            // and RACDCERT LISTRING / LIST:
            // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/radcertg.htm
            let mut checks = vec![
                Command::new(format!("LISTUSER {} OMVS", s.user.value)),
                Command::new(format!("RACDCERT ID({})", s.user.value))
                    .op(format!("LISTRING({})", s.keyring.value)),
            ];
            for (_, nfs) in site.tenants_of(ServerId(sid, i)) {
                let u = &nfs.identity.user.value;
                checks.push(Command::new(format!("LISTUSER {u} OMVS")));
                checks.push(
                    Command::new(format!("RACDCERT ID({u})"))
                        .op(format!("LIST(LABEL({}))", quote(&nfs.identity.label.value))),
                );
            }
            let verify = jb.render(
                s.name.span.file,
                sn.verify_job.clone(),
                &[
                    &format!(
                        "NFS server {}: verification, after everything before it in APPLY.md (jobs 0-3, the exported directories, AT-TLS, the server). Reads only; rerunnable.",
                        s.jobname.value
                    ),
                    "IKJEFT1B fails the step at the first missing user ID, ring or certificate (nonzero return code). Also read the output: each user's OMVS section must show a UID and a HOME (NO OMVS INFORMATION means the segment is missing: give the user a uid in the spec and run job 0-users), the ring must list the authority and the server certificate (DEFAULT), each client certificate must be TRUST.",
                ],
                checks,
            )?;
            verify.add(
                sys,
                sn.verify_file.clone(),
                super::tenants_of_server(site, ServerId(sid, i)),
                bundle,
            )?;
        }
        for (tenant, tn) in site.tenants.iter().zip(&plan.tenants) {
            let (Some(nfs), Some(client)) = (&tenant.nfs, &tn.client) else {
                continue;
            };
            if nfs.server.value.0 != sid {
                continue;
            }
            if !sel.has(&tenant.name.value) {
                continue;
            }
            let idn = &nfs.identity;
            let ca = site.authority(idn.signed_by.value);
            let id = format!("RACDCERT ID({})", idn.user.value);
            let gencert = key_ops(
                Command::new(format!("{id} GENCERT")).op(client.dn.operand.clone()),
                &idn.key,
            )
            .op(format!("WITHLABEL({})", quote(&idn.label.value)))
            // Client use only: HANDSHAKE (digital signature, for the TLS
            // client authentication), no DATAENCRYPT and no ALTNAME, so the
            // certificate never carries the server's name and cannot pass a
            // proxy's `verifyhost`. KEYUSAGE values: HANDSHAKE, DATAENCRYPT,
            // DOCSIGN, CERTSIGN:
            // https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.3.0/com.ibm.zos.v2r3.icha400/le-gencert.htm
            .op("KEYUSAGE(HANDSHAKE)")
            .op(format!(
                "SIGNWITH(CERTAUTH LABEL({}))",
                quote(&ca.label.value)
            ));
            let mut export = Command::new(id.clone())
                .op(format!("EXPORT(LABEL({}))", quote(&idn.label.value)))
                .op(format!("DSN({})", quote(&idn.export.dsn.value)))
                .op(format!("FORMAT({})", idn.export.format.value.racf()));
            if let Some(pw) = &client.password {
                export = export.op(format!("PASSWORD({})", quote(pw)));
            }
            // A new proxy needs the client certificate and its authority's.
            let proxy_ca = site.authority(nfs.proxy.trust.value);
            let v = validity(sys, idn.valid_from.as_ref(), idn.valid_years.value);
            let gencert = dated(gencert, &v).certificate(
                format!("{}/{}", idn.user.value, idn.label.value),
                format!("client:{}", tenant.name.value),
                Some(ca),
                v,
                vec![
                    Command {
                        words: export.words.clone(),
                        object: None,
                    },
                    ca_export(proxy_ca),
                ],
            );
            let text = jb.render(
                tenant.name.span.file,
                client.job.clone(),
                &[
                    &format!(
                        "Tenant {}: client certificate of {} signed by {}, exported to {} for the proxy's crt file.",
                        tenant.name.value, idn.user.value, ca.name.value, idn.export.dsn.value
                    ),
                    "Replace the ${ENV:...} placeholder with the export password before submitting, in a copy you do not save; the password is then on the spool (SYSTSIN, SYSTSPRT): once the job ended RC 0, purge the job ($P J<job number>).",
                    RERUN,
                ],
                vec![gencert, export, refresh()],
            )?;
            text.add(
                sys,
                client.file.clone(),
                BTreeSet::from([tenant.name.value.clone()]),
                bundle,
            )?;
        }
        cleanup_job(site, names, &jb, sid, bundle)?;
    }
    Ok(())
}

/// `5-delete-exports-<system>.jcl`: deletes the certificate exports of the
/// system's NFS tenants (their client certificates with private keys, and
/// the authorities' certificates their proxies trust) once every proxy's
/// TLS Secrets are made from them. TSO/E DELETE of a cataloged data set in
/// batch TSO; IKJEFT1B ends the step at a data set that is not there:
/// https://www.ibm.com/docs/en/zos/3.1.0?topic=commands-delete-command
fn cleanup_job(
    site: &Site,
    names: &crate::plan::SystemNames,
    jb: &JobBuilder<'_>,
    sid: SystemId,
    bundle: &mut Bundle,
) -> Result<(), Error> {
    let mut dsns: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut tenants = BTreeSet::new();
    for t in &site.tenants {
        let Some(nfs) = &t.nfs else { continue };
        if nfs.server.value.0 != sid {
            continue;
        }
        tenants.insert(t.name.value.clone());
        let ca = site.authority(nfs.proxy.trust.value);
        for d in [&ca.export.dsn.value, &nfs.identity.export.dsn.value] {
            if seen.insert(d.as_str()) {
                dsns.push(d.clone());
            }
        }
    }
    // Job 1 exports every authority of the system, a tenantless server's
    // included (issue 26): nothing reads an export no tenant trusts.
    for a in &jb.sys.authorities {
        if seen.insert(a.export.dsn.value.as_str()) {
            dsns.push(a.export.dsn.value.clone());
        }
    }
    if dsns.is_empty() {
        return Ok(());
    }
    // Each data set once, in spec order; the header names the system's file.
    let text = jb.render_steps(
        jb.sys.name.span.file,
        names.cleanup.job.clone(),
        &[
            "After every proxy's TLS Secrets are made (APPLY.md): the certificate exports hold private keys, and nothing reads them again.",
        ],
        vec![Step {
            name: "DELETE",
            tolerant: false,
            commands: dsns
                .iter()
                .map(|d| Command::new(format!("DELETE {}", quote(d))))
                .collect(),
        }],
    )?;
    text.add(jb.sys, names.cleanup.file.clone(), tenants, bundle)
}

/// A day-2 change job of a system (`tenantc plan`): the given commands,
/// already laid out, then the refreshes.
pub(crate) fn change_job(
    t: &Templates,
    sys: &ZosSystem,
    header: &str,
    what: &str,
    comments: &[&str],
    commands: Vec<Vec<String>>,
) -> Result<String, Error> {
    let mut lines = wrap(header);
    for c in comments {
        lines.extend(wrap(c));
    }
    let mut commands = commands;
    for c in [
        refresh(),
        Command::new("SETROPTS RACLIST(RDATALIB) REFRESH"),
    ] {
        commands.push(c.lines()?);
    }
    let jcl = &sys.jcl;
    let job = Job {
        name: jcl.job_name(JobKind::Change, what),
        account: format!("({})", jcl.account.value),
        programmer: "TENANTC",
        class: jcl.class.value.clone(),
        msgclass: jcl.msgclass.value.clone(),
        notify: jcl.notify.value.clone(),
        comments: lines,
        steps: vec![StepOut {
            name: "CHANGE",
            program: "IKJEFT1B",
            comments: STRICT.map(String::from).to_vec(),
            commands,
        }],
    };
    let text = t.render("racf.jcl.j2", minijinja::context! { header, job })?;
    validate(&text)?;
    Ok(text)
}

/// The command that removes an inventory object of a z/OS system, by its
/// kind and name (see [`crate::bundle::inventory`] for how names are spelt):
/// RACDCERT REMOVE, DELRING and DELETE, PERMIT ... DELETE and RDELETE.
/// https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/le-remove.htm
/// https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/le-delring.htm
/// https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/le-delete.htm
/// https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/permit.htm
/// https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/rdelete.htm
pub(crate) fn delete_lines(kind: &str, name: &str) -> Option<Result<Vec<String>, Error>> {
    let owner = |o: &str| {
        if o == "CERTAUTH" {
            "RACDCERT CERTAUTH".to_string()
        } else {
            format!("RACDCERT ID({o})")
        }
    };
    let cmd = match kind {
        "certificate" => {
            let (o, label) = name.split_once('/')?;
            Command::new(owner(o)).op(format!("DELETE(LABEL({}))", quote(label)))
        }
        "keyring" => {
            let (u, ring) = name.split_once('/')?;
            Command::new(format!("RACDCERT ID({u}) DELRING({ring})"))
        }
        "ring-connection" => {
            let mut parts = name.splitn(4, '/');
            let (u, ring, o, label) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let whose = match o {
                "CERTAUTH" => "CERTAUTH ".to_string(),
                o if o == u => String::new(),
                o => format!("ID({o}) "),
            };
            Command::new(format!("RACDCERT ID({u})"))
                .op(format!("REMOVE({whose}LABEL({})", quote(label)))
                .op(format!("RING({ring}))"))
        }
        "permit" => {
            let mut parts = name.splitn(3, ' ');
            let (class, profile, user) = (parts.next()?, parts.next()?, parts.next()?);
            Command::new(format!("PERMIT {profile}"))
                .op(format!("CLASS({class})"))
                .op(format!("ID({user})"))
                .op("DELETE")
        }
        "profile" => {
            let (class, profile) = name.split_once(' ')?;
            Command::new(format!("RDELETE {class} {profile}"))
        }
        // https://www.ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.icha400/deluser.htm
        "racf-user" => Command::new(format!("DELUSER {name}")),
        _ => return None,
    };
    Some(cmd.lines())
}

/// The ROLLOVER that ends the renewal of certificate `old` (`<owner>/<label>`)
/// as `new`, once `new` was generated: it "supersede[s] one certificate
/// (the source certificate) with another certificate (the target
/// certificate)", deletes the source's private key and adds the target to
/// every ring holding the source (replacing a PERSONAL connection, beside a
/// CERTAUTH or SITE one).
/// https://www.ibm.com/support/knowledgecenter/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.icha400/le-rollover.htm
///
/// The new certificate is made by GENCERT, not by REKEY (then GENREQ and
/// GENCERT from the request data set): REKEY copies "the subject's
/// distinguished name, key usage, and subject alternate name" from the
/// original, and IBM says to "Use the RACDCERT GENCERT command instead of
/// REKEY when you want to change the subject's distinguished name". A
/// client's subject defaults to its label, which a renewal changes, and the
/// deployed inventory does not say what the old subject was; the RACF twin
/// found the REKEY path leaving the old subject on the renewed certificate.
/// https://www.ibm.com/docs/SSLTBW_2.2.0/com.ibm.zos.v2r2.icha400/le-rekey.htm
pub(crate) fn rollover_lines(old: &str, new: &str) -> Option<Result<Vec<String>, Error>> {
    let (o, old_label) = old.split_once('/')?;
    let (n, new_label) = new.split_once('/')?;
    if o != n {
        return None;
    }
    let id = if o == "CERTAUTH" {
        "RACDCERT CERTAUTH".to_string()
    } else {
        format!("RACDCERT ID({o})")
    };
    Some(
        Command::new(id)
            .op(format!("ROLLOVER(LABEL({}))", quote(old_label)))
            .op(format!("NEWLABEL({})", quote(new_label)))
            .lines(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_fit_eight_characters_and_depend_only_on_their_object() {
        let re = |n: &str| {
            n.len() == 8
                && n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && n.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        };
        for prefix in ["T", "TNC", "TENAN"] {
            for i in 0..2000 {
                let n = job_name(prefix, JobKind::Client, &format!("tenant{i}"));
                assert!(re(&n) && n.starts_with(prefix), "{n}");
            }
        }
        // Stable across releases: a golden value, not just self-consistency.
        assert_eq!(job_name("TNC", JobKind::Client, "acme"), "TNC8TIHJ");
        assert_ne!(
            job_name("TNC", JobKind::Client, "acme"),
            job_name("TNC", JobKind::Server, "acme")
        );
        // 1,295 tenants used to wrap around to the first one's name.
        let names: BTreeSet<String> = (0..1300)
            .map(|i| job_name("TNC", JobKind::Client, &format!("t{i}")))
            .collect();
        assert_eq!(names.len(), 1300);
    }

    #[test]
    fn comments_wrap() {
        let lines = wrap(&"word ".repeat(40));
        assert!(lines.iter().all(|l| l.len() <= MAX_COLUMN - 4));
        assert_eq!(lines.join(" "), "word ".repeat(40).trim());
    }
}
