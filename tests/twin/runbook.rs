//! The runbook walker: reads APPLY.md (or a CHANGE.md in the same style)
//! in document order and replays each step on the twin it addresses. It is
//! keyed on bundle paths and commands, never on prose headings:
//!
//! - a backticked bundle file: `zos/<SYS>/jcl/*.jcl` is a job for the RACF
//!   twin of SYS; `zos/<SYS>/nfs/<server>.exports|.attributes|.services`,
//!   `zos/<SYS>/pagent/*.policy|image.conf`, `zos/<SYS>/tcpip/*` are
//!   placed on the z/OS UNIX twin of SYS; `zos/<SYS>/**/*.sh` runs there;
//!   `pure/<array>/*.sh` runs on the array twin; `k8s/<cluster>/**/*.sh`
//!   runs its kubectl lines on the cluster twin, and its workstation lines
//!   (`cd` to EXPORTS_DIR, `rm` of transferred exports, the `openssl |
//!   kubectl create secret ... | kubectl apply -f -` pipelines that make a
//!   proxy's TLS Secrets); `*.ftp` holds FTP subcommands (`ascii`,
//!   `binary`, `get 'DSN' local`, `quit`); `zos/<SYS>/console/*.txt` holds
//!   console commands (MODIFY, STOP, START, VARY: checked, no twin). A
//!   bundle file runs at its first mention; later mentions are references.
//! - a backticked command: `sh|bash <bundle script>`, `kubectl ...` (the
//!   cluster from `--context NAME`, else from its `k8s/<cluster>` path,
//!   else the cluster last named),
//!   `get 'DSN' local` (an FTP transfer: the data set must exist on a z/OS
//!   twin; the local file appears on the workstation).
//! - a fenced block: `sh` lines (`kubectl`, scripts, the workstation's
//!   `mkdir`/`openssl`/`cp`/`rm` on relative paths, z/OS UNIX
//!   `mkdir`/`chown`/`chmod` on absolute paths on the system last named);
//!   a block without a language holds TSO commands (`DELETE 'DSN'` on the
//!   system holding the data set, others on the system last named).
//!
//! Anything else with a blank in it, and any other bundle file, is a step
//! the walker cannot map: it goes to [`Walk::unhandled`], never dropped.

use super::{shell_words, Failure, Files, World};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default)]
pub struct Walk {
    /// Each step the twins refused. A failing job or script stops there
    /// (the walker goes on with the next step, so one walk reports every
    /// finding).
    pub failures: Vec<Failure>,
    /// Steps no twin models (operator commands, node files, prose
    /// templates).
    pub unhandled: Vec<String>,
    /// Steps run, in order.
    pub ran: Vec<String>,
    /// Single-word spans that are not bundle files (data set names,
    /// labels, rule names), and later mentions of a file already run.
    pub references: Vec<String>,
}

impl Walk {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

struct Walker<'a> {
    world: &'a mut World,
    files: &'a Files,
    doc: String,
    walk: Walk,
    done: BTreeSet<String>,
    system: Option<String>,
    cluster: Option<String>,
}

/// Walks `doc` (a bundle path, e.g. `APPLY.md`) of `files` on `world`.
pub fn walk(world: &mut World, files: &Files, doc: &str) -> Walk {
    let text = match files
        .get(doc)
        .map(|b| String::from_utf8_lossy(b).into_owned())
    {
        Some(t) => t,
        None => {
            let mut w = Walk::default();
            w.failures.push(Failure {
                step: doc.into(),
                command: String::new(),
                reason: "no such file in the bundle".into(),
            });
            return w;
        }
    };
    let mut w = Walker {
        world,
        files,
        doc: doc.to_string(),
        walk: Walk::default(),
        done: BTreeSet::new(),
        system: None,
        cluster: None,
    };
    let mut fence: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("```") {
            match fence.take() {
                Some((lang, body)) => w.block(&lang, &body),
                None => fence = Some((rest.trim().to_string(), Vec::new())),
            }
            continue;
        }
        if let Some((_, body)) = fence.as_mut() {
            body.push(line.to_string());
            continue;
        }
        if t.starts_with("<!--") {
            continue;
        }
        // A cluster's section names the cluster its kubectl lines address.
        if let Some(name) = t
            .strip_prefix("### Cluster ")
            .and_then(|r| r.split_whitespace().next())
        {
            w.cluster = Some(name.to_string());
        }
        for span in spans(line) {
            w.span(&span);
        }
    }
    if let Some((lang, _)) = fence {
        w.fail(doc, "", &format!("unterminated ```{lang} block"));
    }
    w.walk
}

/// The inline code spans of a line, in order.
fn spans(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        match after.find('`') {
            Some(end) => {
                out.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// `zos/<SYS>/...` -> SYS; `k8s/<c>/...` -> c; `pure/<a>/...` -> a.
fn second(path: &str, top: &str) -> Option<String> {
    let mut p = path.split('/');
    (p.next() == Some(top))
        .then(|| p.next().map(str::to_string))
        .flatten()
}

impl Walker<'_> {
    fn fail(&mut self, step: &str, command: &str, reason: &str) {
        self.walk.failures.push(Failure {
            step: step.to_string(),
            command: command.to_string(),
            reason: reason.to_string(),
        });
    }

    fn note_targets(&mut self, path: &str) {
        if let Some(s) = second(path, "zos") {
            self.system = Some(s);
        }
        if let Some(c) = second(path, "k8s") {
            self.cluster = Some(c);
        }
    }

    fn text(&self, path: &str) -> Option<String> {
        self.files
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    fn span(&mut self, s: &str) {
        let mut s = s.trim();
        // `NAME=<what the operator puts> command`: the environment the
        // twins run with has it (World::empty_systems).
        if let Some((assign, rest)) = s.split_once("> ") {
            if assign.contains("=<") && !assign.contains(char::is_whitespace)
                || assign
                    .split_once("=<")
                    .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            {
                s = rest.trim();
            }
        }
        if self.files.contains_key(s) {
            self.file(s, s);
            return;
        }
        let words = match shell_words(s, &BTreeMap::new()) {
            Ok(w) => w,
            Err(_) if !s.contains(char::is_whitespace) => {
                self.walk.references.push(s.to_string());
                return;
            }
            Err(_) => {
                self.walk.unhandled.push(s.to_string());
                return;
            }
        };
        if self.command(s, &words) {
            return;
        }
        if s.contains(char::is_whitespace) {
            self.walk.unhandled.push(s.to_string());
        } else {
            self.walk.references.push(s.to_string());
        }
    }

    /// A command line (a span or a line of an `sh` block); false when it
    /// is none the walker knows.
    fn command(&mut self, line: &str, words: &[String]) -> bool {
        // `VAR=value cmd ...`
        let skip = words
            .iter()
            .take_while(|w| {
                w.split_once('=').is_some_and(|(v, _)| {
                    !v.is_empty() && v.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                })
            })
            .count();
        let words = &words[skip..];
        match words.first().map(String::as_str) {
            Some("sh" | "bash") if words.len() == 2 && self.files.contains_key(&words[1]) => {
                let p = words[1].clone();
                self.file(&p, line);
                true
            }
            // Prose naming the command, not a step: `kubectl apply -k`
            // with no directory.
            Some("kubectl") if words.last().is_some_and(|w| w == "-k") => true,
            Some("kubectl") => {
                // `--context NAME` names the cluster; otherwise a
                // `k8s/<cluster>` path does, or the cluster last named.
                let mut words = words.to_vec();
                let context = match words.iter().position(|w| w == "--context") {
                    Some(i) if i + 1 < words.len() => {
                        let c = words.remove(i + 1);
                        words.remove(i);
                        Some(c)
                    }
                    _ => None,
                };
                let words = &words[..];
                let path_cluster = context.or_else(|| words.iter().find_map(|w| second(w, "k8s")));
                if let Some(c) = &path_cluster {
                    self.cluster = Some(c.clone());
                }
                let Some(cluster) = path_cluster.or_else(|| self.cluster.clone()) else {
                    self.fail(
                        &self.doc.clone(),
                        line,
                        "kubectl before any cluster is named",
                    );
                    return true;
                };
                let files = self.files;
                let r = self.world.cluster(&cluster).kubectl(words, files);
                self.walk.ran.push(format!("cluster/{cluster}: {line}"));
                if let Err(e) = r {
                    self.fail(&format!("cluster/{cluster}"), line, &e);
                }
                true
            }
            // FTP `get 'DSN' local`: the data set must exist somewhere.
            Some("get") if words.len() == 3 => {
                let dsn = &words[1];
                let held = self
                    .world
                    .zos
                    .iter()
                    .any(|(_, z)| z.racf.datasets.contains_key(dsn));
                self.walk.ran.push(format!("workstation: {line}"));
                if held {
                    self.world.workstation.insert(words[2].clone());
                } else {
                    self.fail(
                        "workstation",
                        line,
                        &format!("data set {dsn} does not exist on any system"),
                    );
                }
                true
            }
            _ => false,
        }
    }

    /// A bundle file as a step, by its path.
    fn file(&mut self, path: &str, mention: &str) {
        if !self.done.insert(path.to_string()) {
            self.walk.references.push(mention.to_string());
            return;
        }
        self.note_targets(path);
        let text = self.text(path).unwrap_or_default();
        let parts: Vec<&str> = path.split('/').collect();
        let ext = path.rsplit('.').next().unwrap_or_default();
        match parts.as_slice() {
            ["zos", sys, "jcl", _] if ext == "jcl" => {
                let r = self.world.zos(sys).racf.run_job(&text);
                self.walk.ran.push(format!("zos/{sys}: job {path}"));
                if let Err(f) = r {
                    self.fail(
                        path,
                        &f.command,
                        &format!("command {} fails: {}", f.index + 1, f.reason),
                    );
                }
            }
            // A plan's final exports file sits in a folder of its own.
            ["zos", sys, "nfs", file] | ["zos", sys, "nfs", "final", file] if ext == "exports" => {
                let server = file.trim_end_matches(".exports");
                let r = self.world.zos(sys).uss.place_exports(server, &text);
                self.walk
                    .ran
                    .push(format!("zos/{sys}: exports of {server}"));
                if let Err(e) = r {
                    self.fail(path, "", &e);
                }
            }
            ["zos", sys, "nfs", _]
            | ["zos", sys, "tcpip", _]
            | ["zos", sys, "pagent", "image.conf"] => {
                let r = self.world.zos(sys).uss.place_file(path, &text);
                self.walk.ran.push(format!("zos/{sys}: place {path}"));
                if let Err(e) = r {
                    self.fail(path, "", &e);
                }
            }
            ["zos", sys, "pagent", _] if ext == "policy" => {
                let r = self.world.zos(sys).uss.place_policy(path, &text);
                self.walk.ran.push(format!("zos/{sys}: policy {path}"));
                if let Err(e) = r {
                    self.fail(path, "", &e);
                }
            }
            ["zos", sys, ..] if ext == "sh" => {
                let z = self.world.zos(sys);
                let racf = z.racf.clone();
                let uid_of = |u: &str| {
                    racf.users
                        .get(&u.to_ascii_uppercase())
                        .and_then(|u| u.uid.clone())
                };
                let r = z.uss.run_script(&text, &uid_of);
                self.walk.ran.push(format!("zos/{sys}: script {path}"));
                if let Err((line, cmd, e)) = r {
                    self.fail(&format!("{path}:{line}"), &cmd, &e);
                }
            }
            ["pure", array, ..] if ext == "sh" => {
                let mut env = self.world.env.clone();
                let r = self.world.array(array).run_script(&text, &mut env);
                self.world.env = env;
                self.walk.ran.push(format!("array/{array}: script {path}"));
                if let Err(f) = r {
                    self.fail(&format!("{path}:{}", f.line), &f.command, &f.reason);
                }
            }
            // FTP subcommands after logging in: `ascii`/`binary` set the
            // transfer type, `get 'DSN' local` fetches a data set that must
            // exist on a z/OS twin, `quit` ends the session.
            [.., _] if ext == "ftp" => {
                for l in text.lines() {
                    let t = l.trim();
                    let words = match shell_words(t, &BTreeMap::new()) {
                        Ok(w) => w,
                        Err(e) => {
                            self.fail(path, t, &e);
                            return;
                        }
                    };
                    match words.first().map(String::as_str) {
                        None | Some("ascii" | "binary" | "quit") => {}
                        Some("get") if words.len() == 3 => {
                            self.command(t, &words);
                        }
                        _ => {
                            self.fail(path, t, "not an FTP subcommand the twin knows");
                            return;
                        }
                    }
                }
            }
            // Console commands, one a line: MODIFY, STOP, START, VARY (no
            // twin of the console: the verbs are checked, the step recorded).
            ["zos", sys, "console", _] if ext == "txt" => {
                for l in text.lines() {
                    let verb = l.split_whitespace().next().unwrap_or_default();
                    if !matches!(
                        verb,
                        "F" | "P" | "S" | "V" | "MODIFY" | "STOP" | "START" | "VARY"
                    ) {
                        self.fail(path, l, "not a console command");
                        return;
                    }
                }
                self.walk.ran.push(format!("zos/{sys}: console {path}"));
            }
            ["k8s", cluster, ..] if ext == "sh" => {
                for (i, l) in text.lines().enumerate() {
                    let l = l.trim();
                    if l.is_empty() || l.starts_with('#') || l.starts_with("set -") {
                        continue;
                    }
                    // The workstation's directory of exports (EXPORTS_DIR).
                    if l.starts_with("cd ") {
                        continue;
                    }
                    if let Err(e) = self.workstation_line(cluster, l) {
                        match e {
                            None => {}
                            Some(e) => {
                                self.fail(&format!("{path}:{}", i + 1), l, &e);
                                return;
                            }
                        }
                        continue;
                    }
                    let words = match shell_words(l, &BTreeMap::new()) {
                        Ok(w) if w.first().map(String::as_str) == Some("kubectl") => w,
                        _ => {
                            self.fail(&format!("{path}:{}", i + 1), l, "not a kubectl line");
                            return;
                        }
                    };
                    let files = self.files;
                    if let Err(e) = self.world.cluster(cluster).kubectl(&words, files) {
                        self.fail(&format!("{path}:{}", i + 1), l, &e);
                        return;
                    }
                }
                self.walk
                    .ran
                    .push(format!("cluster/{cluster}: script {path}"));
            }
            _ => self.walk.unhandled.push(mention.to_string()),
        }
    }

    /// A line of a cluster's TLS script that is not a plain kubectl line:
    /// `rm -- FILE...` (workstation copies, which must be there) or a
    /// pipeline `[openssl pkcs12 -in F | base64 -d F | ...] | kubectl -n NS
    /// create secret generic NAME --from-file=K=SRC --dry-run=client -o
    /// yaml | kubectl apply -f -`, which puts the Secret in the cluster (its
    /// namespace must exist; a file source must be on the workstation).
    /// `Ok(())` when the line is a kubectl line for the caller, `Err(None)`
    /// when it ran here, `Err(Some(reason))` when it failed.
    fn workstation_line(&mut self, cluster: &str, l: &str) -> Result<(), Option<String>> {
        // A pipeline's segments split at ` | ` (the shell subset has no `|`).
        let parts: Vec<&str> = l.split(" | ").collect();
        if parts.len() == 1 && !l.starts_with("rm ") {
            return Ok(());
        }
        let parsed: Vec<Vec<String>> = parts
            .iter()
            .map(|p| shell_words(p, &BTreeMap::new()))
            .collect::<Result<_, _>>()
            .map_err(Some)?;
        let words = parsed[0].clone();
        let need = |ws: &BTreeSet<String>, f: &str| -> Result<(), Option<String>> {
            if ws.contains(f) {
                Ok(())
            } else {
                Err(Some(format!("{f}: no such file on the workstation")))
            }
        };
        if words.first().map(String::as_str) == Some("rm") {
            let files: Vec<&String> = words[1..].iter().filter(|w| *w != "--").collect();
            for f in &files {
                need(&self.world.workstation, f)?;
            }
            for f in files {
                self.world.workstation.remove(f);
            }
            self.walk.ran.push(format!("workstation: {l}"));
            return Err(None);
        }
        let segments: Vec<&[String]> = parsed.iter().map(Vec::as_slice).collect();
        let (last, rest) = segments.split_last().expect("one segment");
        if last.join(" ") != "kubectl apply -f -" {
            return Err(Some(
                "a pipeline that does not end in kubectl apply -f -".into(),
            ));
        }
        let (create, sources) = rest
            .split_last()
            .ok_or(Some("an empty pipeline".to_string()))?;
        for seg in sources {
            let input = match seg.first().map(String::as_str) {
                Some("openssl") => seg
                    .iter()
                    .position(|w| w == "-in")
                    .and_then(|i| seg.get(i + 1)),
                Some("base64") => seg.iter().skip(1).find(|w| !w.starts_with('-')),
                _ => return Err(Some(format!("{} outside the twin", seg.join(" ")))),
            };
            if let Some(f) = input {
                need(&self.world.workstation, f)?;
            }
        }
        // kubectl -n NS create secret generic NAME --from-file=K=SRC ...
        let arg = |flag: &str| {
            create
                .iter()
                .position(|w| w == flag)
                .and_then(|i| create.get(i + 1))
                .cloned()
        };
        let ns = arg("-n").ok_or(Some("create secret without -n".to_string()))?;
        let at = create
            .iter()
            .position(|w| w == "generic")
            .ok_or(Some("only generic Secrets are modelled".to_string()))?;
        let name = create
            .get(at + 1)
            .cloned()
            .ok_or(Some("no name".to_string()))?;
        let mut keys = Vec::new();
        for w in create.iter() {
            if let Some(kv) = w.strip_prefix("--from-file=") {
                let (k, src) = kv.split_once('=').unwrap_or((kv, kv));
                if src != "/dev/stdin" {
                    need(&self.world.workstation, src)?;
                } else if sources.is_empty() {
                    return Err(Some("/dev/stdin with nothing piped in".into()));
                }
                keys.push(format!("files:{k}"));
            }
        }
        if !(create.iter().any(|w| w == "--dry-run=client") && arg("-o").as_deref() == Some("yaml"))
        {
            return Err(Some(
                "create secret without --dry-run=client -o yaml".into(),
            ));
        }
        let c = self.world.cluster(cluster);
        let has_ns = c.objects.keys().any(|k| k.1 == "Namespace" && k.3 == ns);
        if !has_ns && ns != "default" {
            return Err(Some(format!("namespace {ns} not found")));
        }
        // The digest a generator with these keys would have (k8s.rs).
        c.objects.insert(
            (String::new(), "Secret".into(), ns, name),
            super::digest(&format!("Opaque|{}", keys.join(","))),
        );
        self.walk.ran.push(format!("cluster/{cluster}: {l}"));
        Err(None)
    }

    fn block(&mut self, lang: &str, body: &[String]) {
        match lang {
            "sh" | "bash" | "shell" => {
                for l in body {
                    let t = l.trim();
                    if t.is_empty() || t.starts_with('#') {
                        continue;
                    }
                    let words = match shell_words(t, &BTreeMap::new()) {
                        Ok(w) => w,
                        Err(_) => {
                            self.walk.unhandled.push(t.to_string());
                            continue;
                        }
                    };
                    if self.command(t, &words) {
                        continue;
                    }
                    if !self.shell(t, &words) {
                        self.walk.unhandled.push(t.to_string());
                    }
                }
            }
            // A block without a language holds TSO commands; a `text`
            // block is a listing (a plan's summary): its TSO command lines
            // run, the rest are references.
            "" | "tso" | "text" => {
                for l in body {
                    let t = l.trim();
                    if t.is_empty() {
                        continue;
                    }
                    if lang == "text" && !is_tso(t) {
                        self.walk.references.push(t.to_string());
                        continue;
                    }
                    self.tso(t);
                }
            }
            _ => {
                for l in body {
                    if !l.trim().is_empty() {
                        self.walk.unhandled.push(l.trim().to_string());
                    }
                }
            }
        }
    }

    /// A TSO command typed in TSO (not in a job).
    fn tso(&mut self, t: &str) {
        let verb = t
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if !is_tso(t) {
            self.walk.unhandled.push(t.to_string());
            return;
        }
        let sys = if verb == "DELETE" {
            let dsn = super::racf::tokens(t)
                .ok()
                .and_then(|toks| toks.get(1).and_then(|x| x.value().map(str::to_string)));
            let holders: Vec<String> = self
                .world
                .zos
                .iter()
                .filter(|(_, z)| {
                    dsn.as_ref()
                        .is_some_and(|d| z.racf.datasets.contains_key(d))
                })
                .map(|(s, _)| s.clone())
                .collect();
            match holders.as_slice() {
                [one] => Some(one.clone()),
                _ => self.system.clone(),
            }
        } else {
            self.system.clone()
        };
        let Some(sys) = sys else {
            self.fail(
                &self.doc.clone(),
                t,
                "a TSO command before any system is named",
            );
            return;
        };
        let r = self.world.zos(&sys).racf.exec(t);
        self.walk.ran.push(format!("zos/{sys}: TSO {t}"));
        if let Err(e) = r {
            self.fail(&format!("zos/{sys} TSO"), t, &e);
        }
    }

    /// A line of an `sh` block that is not a kubectl or script command:
    /// the workstation's file handling, or z/OS UNIX commands on absolute
    /// paths (on the system last named). False when it is neither.
    fn shell(&mut self, line: &str, words: &[String]) -> bool {
        let abs = words.iter().skip(1).any(|w| w.starts_with('/'));
        let cmd = words[0].as_str();
        if abs && matches!(cmd, "mkdir" | "chown" | "chmod") {
            let Some(sys) = self.system.clone() else {
                self.fail(
                    &self.doc.clone(),
                    line,
                    "a z/OS UNIX command before any system is named",
                );
                return true;
            };
            let z = self.world.zos(&sys);
            let racf = z.racf.clone();
            let uid_of = |u: &str| {
                racf.users
                    .get(&u.to_ascii_uppercase())
                    .and_then(|u| u.uid.clone())
            };
            let r = z.uss.run_line(line, &uid_of);
            self.walk.ran.push(format!("zos/{sys}: {line}"));
            if let Err(e) = r {
                self.fail(&format!("zos/{sys} shell"), line, &e);
            }
            return true;
        }
        if abs {
            return false;
        }
        let ws = &mut self.world.workstation;
        let need = |ws: &BTreeSet<String>, f: &str| -> Result<(), String> {
            if ws.contains(f) {
                Ok(())
            } else {
                Err(format!("{f}: no such file on the workstation"))
            }
        };
        let r: Result<(), String> = match cmd {
            "mkdir" => Ok(()),
            "cp" if words.len() == 3 => need(ws, &words[1]).map(|_| {
                ws.insert(words[2].clone());
            }),
            "rm" if words.len() == 2 => need(ws, &words[1]).map(|_| {
                ws.remove(&words[1]);
            }),
            "openssl" => {
                let arg = |flag: &str| {
                    words
                        .iter()
                        .position(|w| w == flag)
                        .and_then(|i| words.get(i + 1))
                        .cloned()
                };
                match (arg("-in"), arg("-out")) {
                    (Some(i), Some(o)) => need(ws, &i).map(|_| {
                        ws.insert(o);
                    }),
                    _ => return false,
                }
            }
            _ => return false,
        };
        self.walk.ran.push(format!("workstation: {line}"));
        if let Err(e) = r {
            self.fail("workstation", line, &e);
        }
        true
    }
}

/// Whether a line starts with a TSO command the RACF twin runs.
fn is_tso(t: &str) -> bool {
    let verb = t
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    [
        "DELETE", "ADDUSER", "ALTUSER", "DELUSER", "LISTUSER", "RACDCERT", "PERMIT", "RDEFINE",
        "RDELETE", "RALTER", "SETROPTS",
    ]
    .contains(&verb.as_str())
}
