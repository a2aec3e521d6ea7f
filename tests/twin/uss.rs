//! The z/OS UNIX twin of one system: the NFS server's exports (placing a
//! generated `zos/<sys>/nfs/<server>.exports` replaces that server's export
//! data set), its attributes and services, the Policy Agent's AT-TLS rules
//! (placing `zos/<sys>/pagent/<server>.policy` replaces that file's
//! rules), and directories made by shell scripts (mkdir/chown/chmod).

use super::{digest, shell_words, Obj};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dir {
    pub owner: Option<String>,
    pub mode: Option<String>,
    /// Named by a command (not only made as a parent by `mkdir -p`).
    pub named: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Uss {
    /// server -> path -> options.
    pub exports: BTreeMap<String, BTreeMap<String, String>>,
    /// AT-TLS rule name -> (the policy file it came from, digest of its
    /// statement).
    pub rules: BTreeMap<String, (String, String)>,
    pub dirs: BTreeMap<String, Dir>,
    /// Other placed files (attributes, services, the Policy Agent image
    /// line, the TCP/IP profile line) by bundle path -> digest.
    pub files: BTreeMap<String, String>,
}

impl Uss {
    /// Places `<server>.exports`: the EXPORTS data set of the server
    /// becomes this content. One entry a line, `path options`; `#` starts
    /// a comment line. z/OS Network File System Guide and Reference,
    /// "Exports data set": "You cannot specify exporting a 'parent
    /// directory' or a subdirectory of an exported directory": nested
    /// entries are refused.
    /// https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/nfsexp.htm
    /// https://www.ibm.com/docs/SSLTBW_2.1.0/com.ibm.zos.v2r1.idan400/cpn2co140.htm
    pub fn place_exports(&mut self, server: &str, text: &str) -> Result<(), String> {
        let mut entries = BTreeMap::new();
        for line in text.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (path, options) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            if !path.starts_with('/') {
                return Err(format!("exports entry without an absolute path: {l:?}"));
            }
            if l.ends_with('-') || l.ends_with('+') {
                return Err(format!(
                    "continued exports entry (not in the twin's subset): {l:?}"
                ));
            }
            if entries
                .insert(path.to_string(), options.trim().to_string())
                .is_some()
            {
                return Err(format!("{path} is exported twice"));
            }
        }
        let paths: Vec<&String> = entries.keys().collect();
        for a in &paths {
            for b in &paths {
                if b.len() > a.len() && b.starts_with(a.as_str()) && b.as_bytes()[a.len()] == b'/' {
                    return Err(format!("{b} is a subdirectory of the exported {a}"));
                }
            }
        }
        self.exports.insert(server.to_string(), entries);
        Ok(())
    }

    /// Places `<server>.attributes`, `<server>.services`, `image.conf` or
    /// `tcpconfig.txt`: recorded by bundle path with a digest of the lines
    /// that are not comments (`#`, or `;` in a TCP/IP profile).
    pub fn place_file(&mut self, path: &str, text: &str) -> Result<(), String> {
        let body: Vec<&str> = text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
            .collect();
        if path.ends_with(".services") {
            for l in &body {
                let w: Vec<&str> = l.split_whitespace().collect();
                let ok = w.len() >= 2
                    && w[1].split_once('/').is_some_and(|(p, proto)| {
                        p.parse::<u16>().is_ok() && (proto == "tcp" || proto == "udp")
                    });
                if !ok {
                    return Err(format!("not a services line: {l:?}"));
                }
            }
        }
        self.files
            .insert(path.to_string(), digest(&body.join("\n")));
        Ok(())
    }

    /// Places an AT-TLS policy file: its TTLSRule statements replace the
    /// ones the same file placed before. A rule name another file already
    /// uses, a statement defined twice, or a `...Ref` to a statement the
    /// file does not define is refused, as the Policy Agent refuses the
    /// policy (EZZ8434I). TTLSRule statement:
    /// https://www.ibm.com/docs/en/zos/latest?topic=statements-ttlsrule-statement
    pub fn place_policy(&mut self, source: &str, text: &str) -> Result<(), String> {
        let stmts = policy_statements(text)?;
        let defined: BTreeSet<&str> = stmts.iter().map(|(_, n, _)| n.as_str()).collect();
        if defined.len() != stmts.len() {
            return Err(format!("{source}: a statement name is defined twice"));
        }
        let mut rules = BTreeMap::new();
        for (kind, name, body) in &stmts {
            for l in body.lines() {
                let w: Vec<&str> = l.split_whitespace().collect();
                if w.len() == 2 && w[0].ends_with("Ref") && !defined.contains(w[1]) {
                    return Err(format!(
                        "{source}: {name} refers to {} {}, not defined",
                        w[0], w[1]
                    ));
                }
            }
            if kind == "TTLSRule" {
                rules.insert(name.clone(), digest(body));
            }
        }
        for name in rules.keys() {
            if let Some((other, _)) = self.rules.get(name) {
                if other != source {
                    return Err(format!("rule {name} is already defined by {other}"));
                }
            }
        }
        self.rules.retain(|_, (s, _)| s != source);
        for (name, d) in rules {
            self.rules.insert(name, (source.to_string(), d));
        }
        Ok(())
    }

    /// Runs a z/OS UNIX shell script of the subset the bundle writes:
    /// `mkdir [-p] [-m MODE] DIR...`, `chown OWNER[:GROUP] PATH...`,
    /// `chmod MODE PATH...`, `set -e`/`-eu`, comments. `uid_of` says
    /// whether a user name maps to a UID (an OMVS segment): chown of a
    /// name without one fails, as the name does not resolve.
    pub fn run_script(
        &mut self,
        text: &str,
        uid_of: &dyn Fn(&str) -> Option<String>,
    ) -> Result<usize, (usize, String, String)> {
        let lines: Vec<&str> = text.lines().collect();
        // Shell functions (`name() {` ... `}`), called with positional
        // parameters.
        let mut funcs: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
        let mut n = 0;
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i].trim();
            i += 1;
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            if let Some(name) = l.strip_suffix("() {") {
                let start = i;
                while i < lines.len() && lines[i].trim() != "}" {
                    i += 1;
                }
                if i == lines.len() {
                    return Err((start, l.to_string(), "unterminated function".into()));
                }
                let body = (start..i)
                    .map(|k| (k + 1, lines[k].trim().to_string()))
                    .collect();
                funcs.insert(name.to_string(), body);
                i += 1;
                continue;
            }
            let words = shell_words(l, &BTreeMap::new()).map_err(|e| (i, l.to_string(), e))?;
            if let Some(body) = words.first().and_then(|w| funcs.get(w)) {
                let env: BTreeMap<String, String> = words[1..]
                    .iter()
                    .enumerate()
                    .map(|(k, a)| ((k + 1).to_string(), a.clone()))
                    .collect();
                for (line, b) in body {
                    self.run_line_env(b, &env, uid_of)
                        .map_err(|e| (*line, format!("{l}: {b}"), e))?;
                }
            } else {
                self.run_line(l, uid_of)
                    .map_err(|e| (i, l.to_string(), e))?;
            }
            n += 1;
        }
        Ok(n)
    }

    pub fn run_line(
        &mut self,
        line: &str,
        uid_of: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        self.run_line_env(line, &BTreeMap::new(), uid_of)
    }

    /// One line with `env` for its `$1`... parameters. Besides the commands
    /// of [`Uss::run_script`]: `ls -ld PATH` (the path must exist), `echo`,
    /// and the one-line guard `if [ -L "$1" ]; then ...; fi` (the twin
    /// has no symbolic links: the guard does not fire).
    pub fn run_line_env(
        &mut self,
        line: &str,
        env: &BTreeMap<String, String>,
        uid_of: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        if let Some(rest) = line.strip_prefix("if [ -L ") {
            let (path, tail) = rest
                .split_once(" ]; then ")
                .ok_or("an if outside the subset")?;
            if !tail.ends_with("; fi") {
                return Err("an if outside the subset".into());
            }
            shell_words(path, env)?;
            return Ok(());
        }
        let words = shell_words(line, env)?;
        let Some((cmd, args)) = words.split_first() else {
            return Ok(());
        };
        match cmd.as_str() {
            "set" if args.iter().all(|a| a.starts_with('-')) => Ok(()),
            "echo" => Ok(()),
            "ls" => {
                for p in args.iter().filter(|a| !a.starts_with('-')) {
                    let p = normalize(p)?;
                    if !self.exists(&p) {
                        return Err(format!("ls: {p} does not exist"));
                    }
                }
                Ok(())
            }
            // mkdir (POSIX, as the z/OS shell's): an existing directory or
            // a missing parent fails, unless -p, which makes the missing
            // parents and takes an existing directory as done.
            // https://www.ibm.com/docs/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.bpxa400/bpxug301.htm
            // https://www.ibm.com/docs/en/SSLTBW_2.2.0/com.ibm.zos.v2r2.bpxa500/toc.htm
            "mkdir" => {
                let mut parents = false;
                let mut mode = None;
                let mut dirs = Vec::new();
                let mut it = args.iter();
                while let Some(a) = it.next() {
                    match a.as_str() {
                        "-p" => parents = true,
                        "-m" => mode = Some(it.next().ok_or("mkdir -m without a mode")?.clone()),
                        s if s.starts_with('-') => {
                            return Err(format!("mkdir option {s} outside the subset"))
                        }
                        s => dirs.push(normalize(s)?),
                    }
                }
                for d in dirs {
                    if self.exists(&d) {
                        if parents {
                            self.dirs.entry(d).or_default().named = true;
                            continue;
                        }
                        return Err(format!("{d} already exists"));
                    }
                    let parent = parent_of(&d);
                    if !self.exists(&parent) {
                        if !parents {
                            return Err(format!("{parent} does not exist"));
                        }
                        let mut p = String::new();
                        for part in parent.split('/').filter(|s| !s.is_empty()) {
                            p = format!("{p}/{part}");
                            self.dirs.entry(p.clone()).or_default();
                        }
                    }
                    self.dirs.insert(
                        d,
                        Dir {
                            owner: None,
                            mode: mode.clone(),
                            named: true,
                        },
                    );
                }
                Ok(())
            }
            // chown OWNER[:GROUP] PATH: the path must exist, the owner
            // must resolve to a UID (the OMVS segment of the RACF user).
            // https://www.ibm.com/support/knowledgecenter/SSLTBW_2.1.0/com.ibm.zos.v2r1.bpxb200/cusrp.htm
            "chown" => {
                let [owner, paths @ ..] = args else {
                    return Err("chown without an owner".into());
                };
                if owner.starts_with('-') {
                    return Err(format!("chown option {owner} outside the subset"));
                }
                let user = owner.split(':').next().unwrap_or_default();
                if user.parse::<u32>().is_err() && uid_of(user).is_none() {
                    return Err(format!(
                        "chown: {user} is not a user with a UID (no OMVS segment)"
                    ));
                }
                for p in paths {
                    let p = normalize(p)?;
                    if !self.exists(&p) {
                        return Err(format!("chown: {p} does not exist"));
                    }
                    let d = self.dirs.entry(p).or_default();
                    d.owner = Some(owner.clone());
                    d.named = true;
                }
                Ok(())
            }
            // https://www.ibm.com/docs/en/SSLTBW_2.2.0/com.ibm.zos.v2r2.bpxa500/toc.htm
            "chmod" => {
                let [mode, paths @ ..] = args else {
                    return Err("chmod without a mode".into());
                };
                for p in paths {
                    let p = normalize(p)?;
                    if !self.exists(&p) {
                        return Err(format!("chmod: {p} does not exist"));
                    }
                    let d = self.dirs.entry(p).or_default();
                    d.mode = Some(mode.clone());
                    d.named = true;
                }
                Ok(())
            }
            // rm -r PATH: the path must exist (POSIX rm: "a diagnostic
            // message shall be written ... if file does not exist"); it goes
            // with everything beneath it.
            // https://pubs.opengroup.org/onlinepubs/9699919799/utilities/rm.html
            "rm" => {
                let [flag, paths @ ..] = args else {
                    return Err("rm without arguments".into());
                };
                if flag != "-r" || paths.is_empty() {
                    return Err("only `rm -r PATH` is in the twin's subset".into());
                }
                for p in paths {
                    let p = normalize(p)?;
                    if !self.exists(&p) {
                        return Err(format!("rm: {p} does not exist"));
                    }
                    let below = format!("{p}/");
                    self.dirs.retain(|d, _| *d != p && !d.starts_with(&below));
                }
                Ok(())
            }
            other => Err(format!("`{other}` is outside the twin's z/OS UNIX subset")),
        }
    }

    fn exists(&self, d: &str) -> bool {
        d == "/" || self.dirs.contains_key(d)
    }

    /// The objects with the inventory's keys: exports, AT-TLS rules,
    /// directories named by a command.
    pub fn state(&self, target: &str) -> BTreeSet<Obj> {
        let mut out = BTreeSet::new();
        for (server, entries) in &self.exports {
            for (path, options) in entries {
                out.insert(Obj::new(
                    target,
                    "export",
                    format!("{server} {path}"),
                    digest(options),
                ));
            }
        }
        for (name, (_, d)) in &self.rules {
            out.insert(Obj::new(target, "attls-rule", name.clone(), d.clone()));
        }
        for (path, d) in &self.dirs {
            if d.named {
                let dg = format!(
                    "owner={} mode={}",
                    d.owner.as_deref().unwrap_or(""),
                    d.mode.as_deref().unwrap_or("")
                );
                out.insert(Obj::new(target, "directory", path.clone(), digest(&dg)));
            }
        }
        out
    }

    /// The placed files no inventory kind covers, as kind `file`.
    pub fn files_state(&self, target: &str) -> BTreeSet<Obj> {
        self.files
            .iter()
            .map(|(p, d)| Obj::new(target, "file", p.clone(), d.clone()))
            .collect()
    }
}

fn normalize(p: &str) -> Result<String, String> {
    if !p.starts_with('/') {
        return Err(format!("{p}: the twin takes absolute z/OS UNIX paths only"));
    }
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(format!("{p}: `..` outside the subset"));
    }
    Ok(format!("/{}", parts.join("/")))
}

fn parent_of(d: &str) -> String {
    match d.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((p, _)) => p.to_string(),
    }
}

/// The top-level statements of a policy file: (kind, name, body text).
fn policy_statements(text: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur: Option<(String, String, String)> = None;
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l == "{" {
            depth += 1;
            continue;
        }
        if l == "}" {
            depth = depth.checked_sub(1).ok_or("unbalanced `}`")?;
            if depth == 0 {
                out.push(cur.take().ok_or("`}` without a statement")?);
            }
            continue;
        }
        if depth == 0 {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() != 2 {
                return Err(format!("a top-level statement is `Kind name`: {l:?}"));
            }
            if cur.is_some() {
                return Err(format!("statement before the previous one's body: {l:?}"));
            }
            cur = Some((w[0].to_string(), w[1].to_string(), String::new()));
        } else if let Some((_, _, body)) = cur.as_mut() {
            body.push_str(&w_join(l));
            body.push('\n');
        }
    }
    if depth != 0 || cur.is_some() {
        return Err("unbalanced `{`".into());
    }
    Ok(out)
}

fn w_join(l: &str) -> String {
    l.split_whitespace().collect::<Vec<_>>().join(" ")
}
