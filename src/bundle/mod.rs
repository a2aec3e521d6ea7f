//! Stage 5: the bundle. Lowering fills an in-memory [`Bundle`]; this module
//! adds `manifest.json` (every file with its sha256 and tenants, the inputs
//! with theirs, and where each secret file comes from) and writes the whole
//! bundle atomically: into a temporary directory beside the target, then
//! swapped in, so a failed compile never leaves a partial bundle.

use crate::lower::LowerError;
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone)]
pub struct BundleFile {
    pub bytes: Vec<u8>,
    pub tenants: BTreeSet<String>,
    /// Holds a materialized secret: written with mode 0600, and the manifest
    /// lists it without a digest.
    pub secret: bool,
}

/// A file the operator must provide; the bundle names its source, never its content.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SecretNote {
    pub source: String,
    pub tenants: BTreeSet<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Bundle {
    pub files: BTreeMap<String, BundleFile>,
    pub secrets: BTreeMap<String, SecretNote>,
    /// The tenants of a partial compile (`--tenant`).
    pub only: Option<BTreeSet<String>>,
}

impl Bundle {
    /// Adds a text file; two writers of one path is a bug in lowering.
    pub fn add_text(
        &mut self,
        path: String,
        text: String,
        tenants: BTreeSet<String>,
    ) -> Result<(), LowerError> {
        self.insert(
            path,
            BundleFile {
                bytes: text.into_bytes(),
                tenants,
                secret: false,
            },
        )
    }

    /// The one way files enter a bundle: a path is written once. A secret
    /// file written again with the same value (one registry's credentials
    /// used by two workloads of a namespace) is the same file.
    fn insert(&mut self, path: String, file: BundleFile) -> Result<(), LowerError> {
        match self.files.get_mut(&path) {
            Some(have) if file.secret && have.secret && have.bytes == file.bytes => {
                have.tenants.extend(file.tenants);
                Ok(())
            }
            Some(_) => Err(LowerError(format!(
                "two outputs would be written to {path}"
            ))),
            None if path == MANIFEST => Err(LowerError(format!(
                "two outputs would be written to {path}"
            ))),
            None => {
                self.files.insert(path, file);
                Ok(())
            }
        }
    }

    /// Adds a file holding a materialized secret value.
    pub fn add_secret(
        &mut self,
        path: String,
        bytes: Vec<u8>,
        tenants: BTreeSet<String>,
    ) -> Result<(), LowerError> {
        self.secrets.remove(&path);
        self.insert(
            path,
            BundleFile {
                bytes,
                tenants,
                secret: true,
            },
        )
    }

    /// Moves another bundle's files and secret notes into this one.
    pub fn absorb(&mut self, other: Bundle) -> Result<(), LowerError> {
        for (path, file) in other.files {
            self.insert(path, file)?;
        }
        for (path, note) in other.secrets {
            self.note_secret(path, note);
        }
        Ok(())
    }

    pub fn note_secret(&mut self, path: String, note: SecretNote) {
        match self.secrets.get_mut(&path) {
            Some(n) => n.tenants.extend(note.tenants),
            None => {
                self.secrets.insert(path, note);
            }
        }
    }

    /// Adds manifest.json, describing the bundle and its inputs.
    pub fn seal(&mut self, inputs: &[(String, Vec<u8>)]) {
        #[derive(Serialize)]
        struct Entry<'a> {
            path: &'a str,
            /// Absent for materialized secrets: a digest of a secret is
            /// derived from it.
            #[serde(skip_serializing_if = "Option::is_none")]
            sha256: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            tenants: Option<&'a BTreeSet<String>>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            secret: bool,
        }
        #[derive(Serialize)]
        struct SecretEntry<'a> {
            path: &'a str,
            source: &'a str,
            tenants: &'a BTreeSet<String>,
        }
        #[derive(Serialize)]
        struct Manifest<'a> {
            tool: &'static str,
            version: &'static str,
            /// Present when only some tenants were compiled.
            #[serde(skip_serializing_if = "Option::is_none")]
            only_tenants: Option<&'a BTreeSet<String>>,
            inputs: Vec<Entry<'a>>,
            files: Vec<Entry<'a>>,
            secrets: Vec<SecretEntry<'a>>,
        }
        let manifest = Manifest {
            tool: "tenantc",
            version: env!("CARGO_PKG_VERSION"),
            only_tenants: self.only.as_ref(),
            inputs: inputs
                .iter()
                .map(|(p, b)| Entry {
                    path: p,
                    sha256: Some(sha256(b)),
                    tenants: None,
                    secret: false,
                })
                .collect(),
            files: self
                .files
                .iter()
                .map(|(p, f)| Entry {
                    path: p,
                    sha256: (!f.secret).then(|| sha256(&f.bytes)),
                    tenants: Some(&f.tenants),
                    secret: f.secret,
                })
                .collect(),
            secrets: self
                .secrets
                .iter()
                .map(|(p, n)| SecretEntry {
                    path: p,
                    source: &n.source,
                    tenants: &n.tenants,
                })
                .collect(),
        };
        let mut json = serde_json::to_string_pretty(&manifest).unwrap_or_default();
        json.push('\n');
        self.files.insert(
            MANIFEST.to_string(),
            BundleFile {
                bytes: json.into_bytes(),
                tenants: BTreeSet::new(),
                secret: false,
            },
        );
    }
}

/// Creates a file; a secret one with mode 0600 from the start, so its value
/// is never readable by others, not even for a moment.
fn write_file(path: &Utf8Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    o.open(path)?.write_all(bytes)
}

pub fn sha256(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// Why a bundle could not be written.
#[derive(Debug)]
pub struct WriteError(pub String);

/// Writes the bundle to `out`, replacing an earlier tenantc bundle there.
/// Files the operator placed at the bundle's secret paths are kept; every
/// other file of the earlier bundle is gone afterwards.
///
/// Refuses to replace a non-empty directory that is not a tenantc bundle, so a
/// mistyped `--out` cannot delete unrelated files.
pub fn write(bundle: &Bundle, out: &Utf8Path) -> Result<(), WriteError> {
    let err = |what: &str, e: std::io::Error| WriteError(format!("{what}: {e}"));
    // A symlink names the bundle it points to: that is what gets replaced.
    let resolved;
    let out = if out.is_symlink() {
        resolved = out.canonicalize_utf8().map_err(|e| err(out.as_str(), e))?;
        resolved.as_path()
    } else {
        out
    };
    if out.exists() {
        if !out.is_dir() {
            return Err(WriteError(format!("{out} exists and is not a directory")));
        }
        let old = OnDisk::read(out);
        let empty = std::fs::read_dir(out)
            .map_err(|e| err(out.as_str(), e))?
            .next()
            .is_none();
        if old.is_none() && !empty {
            return Err(WriteError(format!(
                "{out} is not empty and holds no tenantc bundle ({MANIFEST}); refusing to replace it"
            )));
        }
        if let Some(old) = &old {
            if bundle.only.is_some() && old.only != bundle.only {
                return Err(WriteError(format!(
                    "{out} holds a bundle of other tenants; a partial compile (--tenant) would drop their files. Write it to a directory of its own"
                )));
            }
            // A materialized secret the new bundle would write with placeholders.
            let downgraded = old
                .secret_files
                .iter()
                .find(|p| bundle.files.get(*p).is_some_and(|f| !f.secret));
            if let Some(path) = downgraded {
                return Err(WriteError(format!(
                    "{out} holds materialized secrets ({path}); compiling without --materialize-secrets would put placeholders back. Compile with --materialize-secrets, or remove {out} first"
                )));
            }
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_path_buf(),
        _ => Utf8PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| err(parent.as_str(), e))?;
    let name = out.file_name().unwrap_or("bundle");
    remove_leftovers(&parent, name);
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tenantc-"))
        .tempdir_in(&parent)
        .map_err(|e| err("creating a temporary directory", e))?;
    let tmp_path = Utf8Path::from_path(tmp.path())
        .ok_or_else(|| WriteError("temporary directory path is not UTF-8".into()))?
        .to_path_buf();
    // Directories first, each once (thousands of files live in few of them),
    // then the files, on every core: creating files is most of a compile.
    let dirs: std::collections::BTreeSet<&str> = bundle
        .files
        .keys()
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d))
        .collect();
    for dir in dirs {
        let dir = tmp_path.join(dir);
        std::fs::create_dir_all(&dir).map_err(|e| err(dir.as_str(), e))?;
    }
    let files: Vec<(&String, &BundleFile)> = bundle.files.iter().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                let tmp_path = &tmp_path;
                scope.spawn(move || -> Result<(), WriteError> {
                    for (path, file) in part {
                        let target = tmp_path.join(path);
                        write_file(&target, &file.bytes, file.secret)
                            .map_err(|e| err(target.as_str(), e))?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err(WriteError("a writer thread panicked".into())))
        })
    })?;
    // The operator's secret files live inside the bundle (the kustomizations
    // read them from there): carry over those the new bundle still names.
    if out.is_dir() {
        for path in bundle.secrets.keys() {
            if bundle.files.contains_key(path) {
                continue; // generated by this compile
            }
            let from = out.join(path);
            if from.is_file() {
                let to = tmp_path.join(path);
                if let Some(dir) = to.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| err(dir.as_str(), e))?;
                }
                std::fs::copy(&from, &to).map_err(|e| err(from.as_str(), e))?;
            }
        }
    }
    // The bundle directory keeps the mode the operator gave it.
    if let Ok(meta) = std::fs::metadata(out) {
        std::fs::set_permissions(&tmp_path, meta.permissions())
            .map_err(|e| err(tmp_path.as_str(), e))?;
    }
    let _ = tmp.keep();
    swap_in(&tmp_path, out).map_err(|e| err(out.as_str(), e))
}

/// What the tenantc bundle at a directory says of itself in its manifest,
/// read once per compile (at 10,000 tenants the manifest is 15 MB).
struct OnDisk {
    /// Files it holds as materialized secrets.
    secret_files: BTreeSet<String>,
    /// The tenants of a partial bundle.
    only: Option<BTreeSet<String>>,
}

impl OnDisk {
    /// `None` when the directory holds no tenantc manifest.
    fn read(dir: &Utf8Path) -> Option<OnDisk> {
        // Only the fields needed, not a JSON tree of the whole manifest.
        #[derive(serde::Deserialize)]
        struct File {
            path: String,
            #[serde(default)]
            secret: bool,
        }
        #[derive(serde::Deserialize)]
        struct Manifest {
            tool: String,
            #[serde(default)]
            files: Vec<File>,
            only_tenants: Option<BTreeSet<String>>,
        }
        let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
        let m: Manifest = serde_json::from_str(&text).ok()?;
        (m.tool == "tenantc").then(|| OnDisk {
            secret_files: m
                .files
                .into_iter()
                .filter(|f| f.secret)
                .map(|f| f.path)
                .collect(),
            only: m.only_tenants,
        })
    }
}

/// Puts the finished directory `new` at `out` in one atomic step where the
/// filesystem allows (Linux `renameat2` with `RENAME_EXCHANGE`), so a reader
/// or a kill at any moment sees either the whole old bundle or the whole new
/// one; then deletes the old one. Elsewhere the old bundle is renamed aside
/// first, which leaves `out` briefly absent, never partial.
fn swap_in(new: &Utf8Path, out: &Utf8Path) -> std::io::Result<()> {
    if !out.exists() {
        return std::fs::rename(new, out).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(new);
        });
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(
            CWD,
            new.as_std_path(),
            CWD,
            out.as_std_path(),
            RenameFlags::EXCHANGE,
        ) {
            // `new` now holds the old bundle.
            Ok(()) => return std::fs::remove_dir_all(new),
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => {
                let _ = std::fs::remove_dir_all(new);
                return Err(e.into());
            }
        }
    }
    let aside = new.with_file_name(format!("{}.old", new.file_name().unwrap_or("bundle")));
    std::fs::rename(out, &aside)?;
    if let Err(e) = std::fs::rename(new, out) {
        let _ = std::fs::rename(&aside, out);
        let _ = std::fs::remove_dir_all(new);
        return Err(e);
    }
    std::fs::remove_dir_all(&aside)
}

/// Removes what killed compiles left beside `out`: their unfinished bundles
/// and old bundles not yet deleted. (Two compiles into one `--out` at the same
/// time are not supported.)
fn remove_leftovers(parent: &Utf8Path, name: &str) {
    let prefix = format!(".{name}.tenantc-");
    let Ok(entries) = parent.read_dir_utf8() else {
        return;
    };
    for e in entries.flatten() {
        // Only names tenantc makes: the prefix, six random characters, and
        // for an old bundle set aside `.old`.
        let Some(rest) = e.file_name().strip_prefix(&prefix) else {
            continue;
        };
        let random = rest.strip_suffix(".old").unwrap_or(rest);
        let ours = random.len() == 6 && random.chars().all(|c| c.is_ascii_alphanumeric());
        if ours && e.path().is_dir() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// How the bundle on disk differs from the one the specs produce.
#[derive(Debug, Default)]
pub struct Drift {
    /// A unified diff of every differing text file (secrets never shown).
    pub diff: String,
    pub changed: usize,
    pub missing: usize,
    pub stale: usize,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.changed + self.missing + self.stale == 0
    }
}

/// Compares `bundle` with the bundle at `out` without writing anything.
/// Files holding materialized secrets, and the operator's secret files, are
/// compared by presence only, so no secret reaches the diff.
pub fn drift(bundle: &Bundle, out: &Utf8Path) -> Result<Drift, WriteError> {
    let mut d = Drift::default();
    let on_disk_secret = OnDisk::read(out)
        .map(|o| o.secret_files)
        .unwrap_or_default();
    for (path, file) in &bundle.files {
        let target = out.join(path);
        let old = match std::fs::read(&target) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                d.missing += 1;
                if file.secret {
                    d.diff
                        .push_str(&format!("missing {path} (a secret file)\n"));
                } else {
                    let text = String::from_utf8_lossy(&file.bytes);
                    d.diff
                        .push_str(&unified("", &text, "/dev/null", &format!("b/{path}")));
                }
                continue;
            }
            Err(e) => return Err(WriteError(format!("{target}: {e}"))),
        };
        // Secret files are compared, never shown: materialized ones, and
        // generated ones the manifest names as secrets (pure.json, whose
        // placeholders an operator may have filled in).
        if file.secret || on_disk_secret.contains(path) || bundle.secrets.contains_key(path) {
            if old != file.bytes {
                d.changed += 1;
                d.diff
                    .push_str(&format!("changed {path} (it holds secrets; not shown)\n"));
            }
            continue;
        }
        if old != file.bytes {
            d.changed += 1;
            d.diff.push_str(&unified(
                &String::from_utf8_lossy(&old),
                &String::from_utf8_lossy(&file.bytes),
                &format!("a/{path}"),
                &format!("b/{path}"),
            ));
        }
    }
    if out.is_dir() {
        let mut stack = vec![out.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let entries = dir
                .read_dir_utf8()
                .map_err(|e| WriteError(format!("{dir}: {e}")))?;
            for e in entries {
                let e = e.map_err(|e| WriteError(format!("{dir}: {e}")))?;
                let p = e.path().to_path_buf();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let rel = p.strip_prefix(out).unwrap_or(&p).as_str().to_string();
                if !bundle.files.contains_key(&rel) && !bundle.secrets.contains_key(&rel) {
                    d.stale += 1;
                    d.diff
                        .push_str(&format!("stale {rel} (a compile would remove it)\n"));
                }
            }
        }
    }
    Ok(d)
}

/// A unified diff of two texts, with `a` and `b` as the file names in its
/// header (also used by `tenantc fmt --check`).
pub(crate) fn unified(old: &str, new: &str, a: &str, b: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(a, b)
        .to_string()
}
