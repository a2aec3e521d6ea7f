//! The FlashArray twin: realms, pods (`realm::pod`), management-access
//! policies (scoped to a realm), users (with their policy) and API tokens,
//! driven by the generated Purity scripts (`pure/<array>/setup.sh`) and by
//! plain `purity ...` lines of a change script.
//!
//! The commands are the Purity//FA CLI's as the Portworx guide to Secure
//! Multi-Tenancy on FlashArray uses them (purerealm, purepod, purepolicy
//! management-access, pureadmin):
//! https://docs.portworx.com/portworx-enterprise/platform/openshift/ocp-flasharray/install-flasharray/fa-multi-tenancy-px-storev2
//! and the Purity//FA CLI Reference (`purerealm create|destroy|eradicate|
//! list`, `purepod create|destroy|eradicate|list`, `purepolicy
//! management-access create|delete|list`, `pureadmin create|delete|list`,
//! `pureadmin create|delete --api-token`):
//! https://support.purestorage.com/FlashArray/PurityFA/Purity_FA_CLI_Reference
//! Creating a name in use fails; deleting, destroying or listing a name
//! the array does not have fails; a destroyed realm or pod keeps its name
//! (in the array's destroyed state) until it is eradicated.
//!
//! The script reader takes only the shell subset the generator writes and
//! fails loudly on anything else.

use super::{digest, shell_words, Obj};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub realm: String,
    pub role: String,
    pub aggregation: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Array {
    /// realm -> destroyed?
    pub realms: BTreeMap<String, bool>,
    /// `realm::pod` -> destroyed?
    pub pods: BTreeMap<String, bool>,
    pub policies: BTreeMap<String, Policy>,
    /// user -> its management-access policy.
    pub users: BTreeMap<String, String>,
    /// Users holding an API token.
    pub tokens: BTreeSet<String>,
}

/// A script that stopped: the line (1-based), the command and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptFailure {
    pub line: usize,
    pub command: String,
    pub reason: String,
}

impl Array {
    /// Runs one Purity CLI command (its words, from `purerealm` on) as
    /// `as_user` (the administrator when `None`). `Err` is a failing
    /// command, with why.
    pub fn purity(&mut self, words: &[String], as_user: Option<&str>) -> Result<(), String> {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["purerealm", "create", name] => {
                // A realm name is unique among realms and pods.
                if self.realms.contains_key(*name) {
                    return Err(format!("realm {name} already exists"));
                }
                self.realms.insert(name.to_string(), false);
                Ok(())
            }
            ["purerealm", "list", name] => self.live_realm(name),
            ["purerealm", "destroy", name] => {
                self.live_realm(name)?;
                // A realm holding pods cannot be destroyed: its pods
                // (destroyed or not) go first.
                let prefix = format!("{name}::");
                if let Some(p) = self.pods.keys().find(|p| p.starts_with(&prefix)) {
                    return Err(format!("realm {name} still holds pod {p}"));
                }
                self.realms.insert(name.to_string(), true);
                Ok(())
            }
            ["purerealm", "eradicate", name] => match self.realms.get(*name) {
                Some(true) => {
                    self.realms.remove(*name);
                    Ok(())
                }
                Some(false) => Err(format!("realm {name} is not destroyed")),
                None => Err(format!("realm {name} does not exist")),
            },
            ["purepod", "create", name] => {
                let (realm, _) = name
                    .split_once("::")
                    .ok_or_else(|| format!("pod {name} is not realm::pod"))?;
                // A pod in a realm needs the realm.
                self.live_realm(realm)?;
                if self.pods.contains_key(*name) {
                    return Err(format!("pod {name} already exists"));
                }
                self.pods.insert(name.to_string(), false);
                Ok(())
            }
            ["purepod", "list", name] => match self.pods.get(*name) {
                Some(false) => Ok(()),
                Some(true) => Err(format!("pod {name} is destroyed")),
                None => Err(format!("pod {name} does not exist")),
            },
            ["purepod", "destroy", name] => match self.pods.get(*name) {
                Some(false) => {
                    self.pods.insert(name.to_string(), true);
                    Ok(())
                }
                Some(true) => Err(format!("pod {name} is already destroyed")),
                None => Err(format!("pod {name} does not exist")),
            },
            ["purepod", "eradicate", name] => match self.pods.get(*name) {
                Some(true) => {
                    self.pods.remove(*name);
                    Ok(())
                }
                Some(false) => Err(format!("pod {name} is not destroyed")),
                None => Err(format!("pod {name} does not exist")),
            },
            ["purepolicy", "management-access", "create", rest @ ..] => {
                let (opts, name) = options(rest, &["--realm", "--role", "--aggregation-strategy"])?;
                let realm = opts.get("--realm").ok_or("a realm policy needs --realm")?;
                self.live_realm(realm)?;
                if self.policies.contains_key(&name) {
                    return Err(format!("policy {name} already exists"));
                }
                self.policies.insert(
                    name,
                    Policy {
                        realm: realm.clone(),
                        role: opts.get("--role").cloned().unwrap_or_default(),
                        aggregation: opts
                            .get("--aggregation-strategy")
                            .cloned()
                            .unwrap_or_default(),
                    },
                );
                Ok(())
            }
            ["purepolicy", "management-access", "list", name] => self
                .policies
                .get(*name)
                .map(|_| ())
                .ok_or_else(|| format!("policy {name} does not exist")),
            ["purepolicy", "management-access", "delete", name] => {
                if !self.policies.contains_key(*name) {
                    return Err(format!("policy {name} does not exist"));
                }
                // A user needs its policy: one still held is refused.
                if let Some((u, _)) = self.users.iter().find(|(_, p)| p == name) {
                    return Err(format!("policy {name} is still the policy of user {u}"));
                }
                self.policies.remove(*name);
                Ok(())
            }
            ["pureadmin", "create", "--access-policy", policy, name] => {
                if !self.policies.contains_key(*policy) {
                    return Err(format!("policy {policy} does not exist"));
                }
                if self.users.contains_key(*name) {
                    return Err(format!("user {name} already exists"));
                }
                self.users.insert(name.to_string(), policy.to_string());
                Ok(())
            }
            ["pureadmin", "list", name] => self
                .users
                .get(*name)
                .map(|_| ())
                .ok_or_else(|| format!("user {name} does not exist")),
            ["pureadmin", "create", "--api-token", rest @ ..] => {
                let user = self.token_user(rest, as_user)?;
                // A user holds one API token: delete it before making another.
                if !self.tokens.insert(user.clone()) {
                    return Err(format!("user {user} already has an API token"));
                }
                Ok(())
            }
            ["pureadmin", "delete", "--api-token", rest @ ..] => {
                let user = self.token_user(rest, as_user)?;
                if !self.tokens.remove(&user) {
                    return Err(format!("user {user} has no API token"));
                }
                Ok(())
            }
            ["pureadmin", "delete", name] => {
                if self.users.remove(*name).is_none() {
                    return Err(format!("user {name} does not exist"));
                }
                self.tokens.remove(*name);
                Ok(())
            }
            _ => Err(format!(
                "Purity command outside the twin: {}",
                words.join(" ")
            )),
        }
    }

    fn live_realm(&self, name: &str) -> Result<(), String> {
        match self.realms.get(name) {
            Some(false) => Ok(()),
            Some(true) => Err(format!("realm {name} is destroyed")),
            None => Err(format!("realm {name} does not exist")),
        }
    }

    fn token_user(&self, rest: &[&str], as_user: Option<&str>) -> Result<String, String> {
        let user = match (rest, as_user) {
            ([name], _) => name.to_string(),
            ([], Some(u)) => u.to_string(),
            ([], None) => {
                return Err("the administrator's own API token is outside the twin".into())
            }
            _ => return Err(format!("unexpected operands {rest:?}")),
        };
        if !self.users.contains_key(&user) {
            return Err(format!("user {user} does not exist"));
        }
        Ok(user)
    }

    /// Runs a generated Purity script: the function definitions
    /// (`purity`, `purity_tty`, `exists`) are read as the twin's own, the
    /// `if ! exists ...; then ...; fi` and `if [ -z "${VAR:-}" ]; then
    /// ...; fi` blocks are evaluated against the twin and `env`. Anything
    /// outside the subset is an error.
    ///
    /// `env` holds the environment; a token file of the spec (`[ ! -s
    /// FILE ]`) is present when `env` has `file:FILE`. An API token the
    /// script creates inside such a test is taken as stored where the
    /// script tells the operator to store it (the variable or the file
    /// set in `env`), so a rerun finds it.
    pub fn run_script(
        &mut self,
        text: &str,
        env: &mut BTreeMap<String, String>,
    ) -> Result<usize, ScriptFailure> {
        let mut vars = env.clone();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        let mut ran = 0;
        // The condition stack of `if` blocks: whether their body runs, and
        // the token source the condition tests, if any.
        let mut conds: Vec<(bool, Option<String>)> = Vec::new();
        let fail = |line: usize, command: &str, reason: String| ScriptFailure {
            line: line + 1,
            command: command.to_string(),
            reason,
        };
        while i < lines.len() {
            let l = lines[i].trim();
            let active = conds.iter().all(|c| c.0);
            if l.is_empty() || l.starts_with('#') {
                i += 1;
                continue;
            }
            // Function definitions: only the generator's three, whose
            // meaning the twin implements.
            if let Some(name) = l.strip_suffix("() {") {
                if !matches!(name, "purity" | "purity_tty" | "exists") {
                    return Err(fail(i, l, format!("function {name} outside the twin")));
                }
                let end = lines[i..]
                    .iter()
                    .position(|x| x.trim() == "}")
                    .ok_or_else(|| fail(i, l, "unterminated function".into()))?;
                i += end + 1;
                continue;
            }
            if l == "fi" {
                conds
                    .pop()
                    .ok_or_else(|| fail(i, l, "fi without if".into()))?;
                i += 1;
                continue;
            }
            if let Some(cond) = l.strip_prefix("if ").and_then(|c| c.strip_suffix("; then")) {
                let mut source = None;
                let value = if let Some(test) = cond.strip_prefix("! exists ") {
                    let words = shell_words(test, &vars).map_err(|e| fail(i, l, e))?;
                    active && self.purity(&words, None).is_err()
                } else if let Some(var) = cond
                    .strip_prefix("[ -z ")
                    .and_then(|c| c.strip_suffix(" ]"))
                {
                    // `"${NAME:-}"`: the variable, as the token source.
                    let name = var
                        .trim_matches('"')
                        .trim_start_matches("${")
                        .trim_start_matches('$')
                        .trim_end_matches('}')
                        .trim_end_matches(":-");
                    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        source = Some(name.to_string());
                    }
                    let words = shell_words(var, &vars).map_err(|e| fail(i, l, e))?;
                    match words.as_slice() {
                        [] => active,
                        [v] => active && v.is_empty(),
                        _ => return Err(fail(i, l, "test of several words".into())),
                    }
                } else if let Some(file) = cond
                    .strip_prefix("[ ! -s ")
                    .and_then(|c| c.strip_suffix(" ]"))
                {
                    let words = shell_words(file, &vars).map_err(|e| fail(i, l, e))?;
                    let [path] = words.as_slice() else {
                        return Err(fail(i, l, "test of several words".into()));
                    };
                    let key = format!("file:{path}");
                    source = Some(key.clone());
                    active && vars.get(&key).is_none_or(|v| v.is_empty())
                } else {
                    return Err(fail(i, l, "condition outside the twin's subset".into()));
                };
                conds.push((value, source));
                i += 1;
                continue;
            }
            if !active {
                i += 1;
                continue;
            }
            if l == "set -euo pipefail" || l == "set -eu" || l == "set -e" {
                i += 1;
                continue;
            }
            // VAR=value and VAR=${OTHER:-}.
            if let Some((var, value)) = l.split_once('=') {
                if !var.is_empty()
                    && var
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                {
                    let words = shell_words(value, &vars).map_err(|e| fail(i, l, e))?;
                    vars.insert(var.to_string(), words.concat());
                    i += 1;
                    continue;
                }
            }
            if l.starts_with("printf ") && l.ends_with(" >&2") {
                shell_words(l.trim_end_matches(" >&2"), &vars).map_err(|e| fail(i, l, e))?;
                i += 1;
                continue;
            }
            let words = shell_words(l, &vars).map_err(|e| fail(i, l, e))?;
            let w: Vec<&str> = words.iter().map(String::as_str).collect();
            let result = match w.as_slice() {
                ["purity" | "purity_tty", rest @ ..] => {
                    self.purity(&words[words.len() - rest.len()..], None)
                }
                // `ssh -t -- 'user'"@${ARRAY}" pureadmin create --api-token`:
                // a command as that user.
                ["ssh", "-t", "--", target, rest @ ..] => match target.rsplit_once('@') {
                    Some((user, _)) => {
                        let user = user.to_string();
                        self.purity(&words[words.len() - rest.len()..], Some(&user))
                    }
                    None => Err(format!("ssh target without a user: {target}")),
                },
                _ => Err("outside the twin's shell subset".into()),
            };
            result.map_err(|e| fail(i, l, e))?;
            if w.ends_with(&["pureadmin", "create", "--api-token"]) {
                if let Some(src) = conds.iter().rev().find_map(|c| c.1.clone()) {
                    let token = format!("token of {}", w.get(3).unwrap_or(&""));
                    vars.insert(src.clone(), token.clone());
                    env.insert(src, token);
                }
            }
            ran += 1;
            i += 1;
        }
        if !conds.is_empty() {
            return Err(fail(lines.len(), "", "if without fi".into()));
        }
        Ok(ran)
    }

    /// The objects with the inventory's keys. A destroyed realm or pod is
    /// still there (its name taken) until eradicated: digest `destroyed`.
    pub fn state(&self, target: &str) -> BTreeSet<Obj> {
        let mut out = BTreeSet::new();
        let d = |destroyed: bool| {
            if destroyed {
                "destroyed".to_string()
            } else {
                String::new()
            }
        };
        for (r, x) in &self.realms {
            out.insert(Obj::new(target, "realm", r.clone(), d(*x)));
        }
        for (p, x) in &self.pods {
            out.insert(Obj::new(target, "pod", p.clone(), d(*x)));
        }
        for (n, p) in &self.policies {
            out.insert(Obj::new(
                target,
                "policy",
                n.clone(),
                digest(&format!("{}|{}|{}", p.realm, p.role, p.aggregation)),
            ));
        }
        for (u, p) in &self.users {
            out.insert(Obj::new(target, "user", u.clone(), digest(p)));
        }
        for u in &self.tokens {
            out.insert(Obj::new(target, "api-token", u.clone(), ""));
        }
        out
    }
}

/// `--opt value ... NAME`: the options (only those in `known`) and the
/// final name.
fn options(rest: &[&str], known: &[&str]) -> Result<(BTreeMap<String, String>, String), String> {
    let mut opts = BTreeMap::new();
    let mut it = rest.iter();
    let mut name = None;
    while let Some(a) = it.next() {
        if a.starts_with("--") {
            if !known.contains(a) {
                return Err(format!("option {a} outside the twin"));
            }
            let v = it.next().ok_or_else(|| format!("{a} without a value"))?;
            opts.insert(a.to_string(), v.to_string());
        } else if name.replace(a.to_string()).is_some() {
            return Err("two names".into());
        }
    }
    Ok((opts, name.ok_or("no name")?))
}
