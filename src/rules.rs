//! Rules about names that more than one stage applies (the resolver warns
//! about a literal secret in a workload's `env`, the checks in a Portworx
//! `env`): pure functions of their arguments, with no stage of their own.

/// Whether a variable's name says it holds a secret: one of its `_`-separated
/// words is or ends with PASSWORD, PASSWD, PASS, PWD, SECRET, TOKEN, APIKEY or
/// KEY after PRIVATE or API. Names of files or paths that hold one
/// (`*_FILE`, `*_PATH`, `*_DIR`) are not secrets themselves.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    let words: Vec<&str> = n.split(['_', '-', '.']).filter(|w| !w.is_empty()).collect();
    if matches!(words.last(), Some(&("FILE" | "PATH" | "DIR"))) {
        return false;
    }
    let secret_word = |w: &str| {
        [
            "PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "TOKEN", "APIKEY",
        ]
        .iter()
        .any(|s| w.ends_with(s))
    };
    words.iter().any(|w| secret_word(w))
        || words
            .windows(2)
            .any(|p| matches!(p, ["PRIVATE" | "API" | "ACCESS", "KEY"]))
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn secret_names() {
        for yes in [
            "MONGO_INITDB_ROOT_PASSWORD",
            "DB_PASS",
            "PGPASS",
            "API_TOKEN",
            "aws_secret_access_key",
            "PRIVATE_KEY",
            "STRIPE_API_KEY",
            "PX_APIKEY",
        ] {
            assert!(looks_secret(yes), "{yes}");
        }
        for no in [
            "MONGO_INITDB_ROOT_PASSWORD_FILE",
            "MAX_TOKENS",
            "PGDATA",
            "TENANT",
            "KEYRING",
            "SSH_KEY_PATH",
            "numFiles",
        ] {
            assert!(!looks_secret(no), "{no}");
        }
    }
}
