//! Stage 5: the bundle. Lowering adds files to a [`Bundle`]; this module
//! adds `manifest.json` (every file with its sha256 and tenants, the inputs
//! with theirs, and where each secret file comes from) and puts the bundle in
//! place atomically: it is built in a [`Staging`] directory beside the
//! target, then swapped in, so a failed or killed compile never leaves a
//! partial bundle.
//!
//! A bundle lives in memory (tests, `compile --check`), or is streamed: each
//! file goes to the staging directory when lowering adds it, from whichever
//! thread lowered it, and only its path, digest and tenants stay in memory.
//! A 10,000-tenant site is 113,000 files; holding them all until the end
//! would double the peak memory of a compile and leave the second core idle
//! while they are written.

pub mod admit;
pub mod inventory;
mod written;

use crate::error::Error;
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone)]
pub struct BundleFile {
    /// The content. Empty in a streamed bundle ([`Bundle::streamed`]),
    /// which wrote it to its staging directory when it was added.
    pub bytes: Vec<u8>,
    /// The sha256 of the content. For a secret it only serves to tell
    /// whether two writers of one secret file agree; the manifest never
    /// shows it.
    pub sha256: [u8; 32],
    /// Sorted. (Not a set: a bundle has 113,000 files at 10,000 tenants,
    /// most of them of one tenant.)
    pub tenants: Vec<String>,
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
    /// Every object the files ask a target system to hold.
    pub inventory: inventory::Inventory,
    /// Where files go as they are added, for a streamed bundle.
    staging: Option<Arc<Staging>>,
    /// A streamed bundle's files (`files` holds none of them).
    written: written::Written,
}

impl Bundle {
    /// A bundle whose files are written to `staging` as they are added.
    pub fn streamed(staging: Arc<Staging>) -> Bundle {
        Bundle {
            staging: Some(staging),
            ..Bundle::default()
        }
    }

    /// An empty bundle that keeps its files the way this one does: for
    /// lowering parts of a site on other threads, to be [`absorb`]ed.
    ///
    /// [`absorb`]: Bundle::absorb
    pub fn part(&self) -> Bundle {
        Bundle {
            staging: self.staging.clone(),
            written: self.written.part(),
            ..Bundle::default()
        }
    }

    /// How many files the bundle holds.
    pub fn file_count(&self) -> usize {
        self.files.len() + self.written.len()
    }

    /// Whether the bundle holds a file at `path`, and if so whether it is a
    /// materialized secret (a streamed bundle answers once sealed).
    pub fn file_secret(&self, path: &str) -> Option<bool> {
        match self.files.get(path) {
            Some(f) => Some(f.secret),
            None => self.written.get(path).map(|r| r.secret),
        }
    }

    /// Adds a text file; two writers of one path is a bug in lowering.
    pub fn add_text(
        &mut self,
        path: String,
        text: String,
        tenants: BTreeSet<String>,
    ) -> Result<(), Error> {
        self.add(path, text.into_bytes(), tenants, false)
    }

    /// Adds a file holding a materialized secret value.
    pub fn add_secret(
        &mut self,
        path: String,
        bytes: Vec<u8>,
        tenants: BTreeSet<String>,
    ) -> Result<(), Error> {
        self.secrets.remove(&path);
        self.add(path, bytes, tenants, true)
    }

    fn add(
        &mut self,
        path: String,
        bytes: Vec<u8>,
        tenants: BTreeSet<String>,
        secret: bool,
    ) -> Result<(), Error> {
        let sha256 = Sha256::digest(&bytes).into();
        // A streamed bundle writes the file out and keeps its path, digest
        // and tenants (a path written twice is refused by the file system,
        // or when the index is settled).
        if let Some(staging) = &self.staging {
            if path == MANIFEST {
                return Err(Error::Internal(format!(
                    "two outputs would be written to {path}"
                )));
            }
            staging.write(&path, &bytes, secret)?;
            let set = self.written.names().set(tenants.iter().map(String::as_str));
            self.written.add(path, sha256, set, secret);
            return Ok(());
        }
        let file = BundleFile {
            sha256,
            bytes,
            tenants: tenants.into_iter().collect(),
            secret,
        };
        self.insert(path, file, |_, _| Ok(()))
    }

    /// The one way files enter a bundle: a path is written once, and `new`
    /// runs on a file before it enters under a path not seen before. A
    /// secret file written again with the same value (one registry's
    /// credentials used by two workloads of a namespace) is the same file.
    fn insert(
        &mut self,
        path: String,
        mut file: BundleFile,
        new: impl FnOnce(&str, &mut BundleFile) -> Result<(), Error>,
    ) -> Result<(), Error> {
        use std::collections::btree_map::Entry;
        let twice = |path: &str| Error::Internal(format!("two outputs would be written to {path}"));
        if path == MANIFEST {
            return Err(twice(&path));
        }
        match self.files.entry(path) {
            Entry::Occupied(mut o) => {
                let have = o.get_mut();
                if !(file.secret && have.secret && have.sha256 == file.sha256) {
                    return Err(twice(o.key()));
                }
                have.tenants.extend(file.tenants);
                have.tenants.sort();
                have.tenants.dedup();
                Ok(())
            }
            Entry::Vacant(v) => {
                new(v.key(), &mut file)?;
                v.insert(file);
                Ok(())
            }
        }
    }

    /// Adds text files that `fill` writes at the same time, a piece at a
    /// time, each to its own writer (in the order of `paths`): a streamed
    /// bundle writes them straight into their files, so that none is ever
    /// held whole (the isolation report is some 50 MB at 10,000 tenants).
    pub fn add_written<const N: usize>(
        &mut self,
        paths: [&str; N],
        tenants: &BTreeSet<String>,
        fill: impl FnOnce(&mut [&mut dyn std::io::Write; N]) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        let failed = |path: &str, e: std::io::Error| Error::Internal(format!("{path}: {e}"));
        let Some(staging) = self.staging.clone() else {
            let mut bufs: [Vec<u8>; N] = std::array::from_fn(|_| Vec::new());
            {
                let mut ws = bufs.each_mut().map(|b| b as &mut dyn std::io::Write);
                fill(&mut ws).map_err(|e| failed(paths[0], e))?;
            }
            for (path, bytes) in paths.iter().zip(bufs) {
                self.add(path.to_string(), bytes, tenants.clone(), false)?;
            }
            return Ok(());
        };
        for path in paths {
            if path == MANIFEST {
                return Err(Error::Internal(format!(
                    "two outputs would be written to {path}"
                )));
            }
        }
        let mut files = Vec::with_capacity(N);
        for path in paths {
            files.push(staging.create(path, false)?);
        }
        let mut files: [StagedFile; N] = files
            .try_into()
            .map_err(|_| Error::Internal("staged files miscounted".into()))?;
        {
            let mut ws = files
                .each_mut()
                .map(|f| &mut f.0 as &mut dyn std::io::Write);
            if let Err(e) = fill(&mut ws) {
                return Err(staging.failed(&staging.root.join(paths[0]), e));
            }
        }
        let set = self.written.names().set(tenants.iter().map(String::as_str));
        for (path, w) in paths.iter().zip(files) {
            let sha256 = staging.finish(path, w)?;
            self.written.add(path.to_string(), sha256, set, false);
        }
        Ok(())
    }

    /// Records an object a file of this bundle asks its target to hold.
    pub fn record(
        &mut self,
        entry: inventory::Entry,
        recipe: inventory::Recipe,
    ) -> Result<(), Error> {
        // A streamed compile holds its objects small and writes them once
        // (at 10,000 tenants, 273,581 objects kept to the end).
        if !self.keeps_recipes() {
            self.inventory.compact.record(entry);
            return Ok(());
        }
        self.inventory
            .record(entry, recipe)
            .map_err(Error::Internal)
    }

    /// Whether the inventory keeps each object's [`inventory::Recipe`]: only
    /// a bundle lowered in memory, which a plan reads them from. A compile
    /// streams its bundle and never writes them (at 10,000 tenants they
    /// were tens of megabytes held to the end).
    pub fn keeps_recipes(&self) -> bool {
        self.staging.is_none()
    }

    /// Moves another bundle's files, objects and secret notes into this one.
    pub fn absorb(&mut self, other: Bundle) -> Result<(), Error> {
        self.inventory
            .absorb(other.inventory)
            .map_err(Error::Internal)?;
        self.written.absorb(other.written);
        for (path, file) in other.files {
            self.insert(path, file, |_, _| Ok(()))?;
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

    /// Adds manifest.json, describing the bundle and its inputs. A streamed
    /// bundle's manifest (15 MB at 10,000 tenants) is written as it is
    /// serialized, never held whole.
    pub fn seal(&mut self, inputs: &[(String, &[u8])]) -> Result<(), Error> {
        #[derive(Serialize)]
        struct Entry<'a> {
            path: &'a str,
            /// Absent for materialized secrets: a digest of a secret is
            /// derived from it.
            #[serde(skip_serializing_if = "Option::is_none")]
            sha256: Option<Hex<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            tenants: Option<Tenants<'a>>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            secret: bool,
        }
        /// A file's tenants, as strings or as a set of a streamed
        /// bundle's names.
        enum Tenants<'a> {
            Strings(&'a [String]),
            Set(&'a written::Names, u32),
        }
        impl Serialize for Tenants<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    Tenants::Strings(t) => s.collect_seq(t.iter()),
                    Tenants::Set(names, set) => s.collect_seq(names.names(*set)),
                }
            }
        }
        #[derive(Serialize)]
        struct SecretEntry<'a> {
            path: &'a str,
            source: &'a str,
            tenants: &'a BTreeSet<String>,
        }
        /// The files and secrets are serialized straight from the maps
        /// (a streamed bundle's files from its index).
        struct Files<'a>(
            &'a BTreeMap<String, BundleFile>,
            &'a written::Written,
            &'a written::Names,
        );
        impl Serialize for Files<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if self.0.is_empty() {
                    return s.collect_seq(self.1.iter().map(|r| Entry {
                        path: &r.path,
                        sha256: (!r.secret).then_some(Hex(&r.sha256)),
                        tenants: Some(Tenants::Set(self.2, r.tenants)),
                        secret: r.secret,
                    }));
                }
                s.collect_seq(self.0.iter().map(|(p, f)| Entry {
                    path: p,
                    sha256: (!f.secret).then_some(Hex(&f.sha256)),
                    tenants: Some(Tenants::Strings(&f.tenants)),
                    secret: f.secret,
                }))
            }
        }
        struct Secrets<'a>(&'a BTreeMap<String, SecretNote>);
        impl Serialize for Secrets<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().map(|(p, n)| SecretEntry {
                    path: p,
                    source: &n.source,
                    tenants: &n.tenants,
                }))
            }
        }
        #[derive(Serialize)]
        struct Manifest<'a> {
            tool: &'static str,
            version: &'static str,
            /// Present when only some tenants were compiled.
            #[serde(skip_serializing_if = "Option::is_none")]
            only_tenants: Option<&'a BTreeSet<String>>,
            inputs: Vec<Entry<'a>>,
            files: Files<'a>,
            secrets: Secrets<'a>,
        }
        if self.files.contains_key(MANIFEST) {
            return Err(Error::Internal(format!("{MANIFEST} was added twice")));
        }
        // The ledger of objects, listed in the manifest like any file; a
        // streamed bundle writes it straight into its file.
        self.inventory.settle().map_err(Error::Internal)?;
        let owners = self.inventory.owners();
        match self.staging.clone() {
            Some(staging) => {
                let inv = &self.inventory;
                let sha256 =
                    staging.write_with(inventory::INVENTORY, false, |w| inv.write_jsonl(w))?;
                let set = self.written.names().set(owners.iter().map(String::as_str));
                self.written
                    .add(inventory::INVENTORY.to_string(), sha256, set, false);
            }
            None => {
                let inventory = self.inventory.to_jsonl();
                self.add_text(inventory::INVENTORY.to_string(), inventory, owners)?;
            }
        }
        self.written.settle().map_err(Error::Internal)?;
        let names = self.written.names.clone();
        let names = names.lock().unwrap_or_else(|p| p.into_inner());
        let digests: Vec<[u8; 32]> = inputs
            .iter()
            .map(|(_, b)| Sha256::digest(b).into())
            .collect();
        let manifest = Manifest {
            tool: "tenantc",
            version: env!("CARGO_PKG_VERSION"),
            only_tenants: self.only.as_ref(),
            inputs: inputs
                .iter()
                .zip(&digests)
                .map(|((p, _), d)| Entry {
                    path: p,
                    sha256: Some(Hex(d)),
                    tenants: None,
                    secret: false,
                })
                .collect(),
            files: Files(&self.files, &self.written, &names),
            secrets: Secrets(&self.secrets),
        };
        let json = |w: &mut dyn std::io::Write| -> std::io::Result<()> {
            serde_json::to_writer_pretty(&mut *w, &manifest)?;
            w.write_all(b"\n")
        };
        let (bytes, digest) = match &self.staging {
            Some(staging) => (Vec::new(), staging.write_with(MANIFEST, false, json)?),
            None => {
                let mut bytes = Vec::new();
                json(&mut bytes).map_err(|e| Error::Internal(format!("{MANIFEST}: {e}")))?;
                let digest = Sha256::digest(&bytes).into();
                (bytes, digest)
            }
        };
        drop(names);
        if self.staging.is_some() {
            let none = self.written.names().set([]);
            return (self.written)
                .add_settled(MANIFEST.to_string(), digest, none)
                .map_err(Error::Internal);
        }
        // Not through `insert`, which keeps the name for this.
        self.files.insert(
            MANIFEST.to_string(),
            BundleFile {
                bytes,
                sha256: digest,
                tenants: Vec::new(),
                secret: false,
            },
        );
        Ok(())
    }
}

/// A digest, serialized in lowercase hex.
struct Hex<'a>(&'a [u8; 32]);

impl Hex<'_> {
    fn digits(&self) -> [u8; 64] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(b >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(b & 15)];
        }
        out
    }
}

impl Serialize for Hex<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let digits = self.digits();
        s.serialize_str(std::str::from_utf8(&digits).map_err(serde::ser::Error::custom)?)
    }
}

/// A file of a [`Staging`] being written ([`Staging::create`]).
struct StagedFile(std::io::BufWriter<Hashing<std::fs::File>>);

/// Passes writes on while hashing them.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Creates a file; a secret one with mode 0600 from the start, so its value
/// is never readable by others, not even for a moment.
/// Every other file is created 0644 at most: under `umask 000` a file others
/// could write (`setup.sh`, a `kustomization.yaml` naming the secret files)
/// would let them change what the operator runs or applies.
fn create_file(path: &Utf8Path, secret: bool) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    o.open(path)
}

fn write_file(path: &Utf8Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    std::io::Write::write_all(&mut create_file(path, secret)?, bytes)
}

pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes).into())
}

/// A digest in lowercase hex.
pub fn hex(digest: &[u8; 32]) -> String {
    String::from_utf8_lossy(&Hex(digest).digits()).into_owned()
}

/// Writes an in-memory bundle to `out`, replacing an earlier tenantc bundle
/// there (see [`Staging`]).
pub fn write(bundle: &Bundle, out: &Utf8Path) -> Result<(), Error> {
    let staging = Staging::begin(out, bundle.only.as_ref())?;
    // On every core: creating files is most of writing a bundle.
    let mut failed = None;
    crate::par::each_ordered(
        bundle.files.iter().collect(),
        |(path, f)| staging.write(path, &f.bytes, f.secret),
        |r| {
            if let Err(e) = r {
                failed.get_or_insert(e);
            }
        },
    );
    if let Some(e) = failed {
        return Err(staging.failure().unwrap_or(e));
    }
    staging.commit(bundle)
}

/// A bundle being built: a temporary directory beside the target `out`,
/// filled by [`Staging::write`] (from any thread), then swapped in by
/// [`Staging::commit`]. Until then the previous bundle at `out` is untouched;
/// dropping a staging that was not committed removes its directory, and one
/// left behind by a killed compile is removed by the next compile into `out`.
///
/// Refuses to replace a non-empty directory that is not a tenantc bundle, so a
/// mistyped `--out` cannot delete unrelated files.
#[derive(Debug)]
pub struct Staging {
    /// The target, through a symlink: what gets replaced.
    out: Utf8PathBuf,
    root: Utf8PathBuf,
    /// What the bundle at `out` says of itself.
    old: Option<OnDisk>,
    /// Directories created so far, relative to `root`.
    dirs: Mutex<HashSet<String>>,
    /// The first write that failed: an I/O error, not a bug in lowering.
    failed: Mutex<Option<String>>,
    committed: std::sync::atomic::AtomicBool,
    /// The exclusive lock of compiles into `out` (see [`lock_out`]).
    _lock: std::fs::File,
}

/// Creates `dir` (relative to `root`) and its parents. A `secrets/`
/// directory and those below it are created 0700 under any umask: a
/// directory others may write would let them swap the 0600 files in it.
///
/// Every other directory is created 0755 at most, whatever the umask: a
/// `secrets/` directory in a parent others may write could be renamed away
/// and replaced with theirs.
fn create_dirs(root: &Utf8Path, dir: &str) -> std::io::Result<()> {
    let parts: Vec<&str> = dir.split('/').collect();
    let public = |path: Utf8PathBuf| {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
        builder.create(path)
    };
    let Some(at) = parts.iter().position(|p| *p == "secrets") else {
        return public(root.join(dir));
    };
    if at > 0 {
        public(root.join(parts[..at].join("/")))?;
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(root.join(dir))
}

/// The suffix of a committed placeholder version of a secret file (the
/// bundle's .gitignore keeps `*.placeholder` under `secrets/`): compared by
/// `--check`, never shown.
pub const PLACEHOLDER_SUFFIX: &str = ".placeholder";

/// Where the lock of compiles into `out` (an existing parent's child) is:
/// `<temp dir>/tenantc-<euid>/<digest of out's canonical path>.lock`. The
/// directory is the operator's own (mode 0700, checked), so no other user
/// can open, and so hold, the lock; it is beside none of the operator's
/// files.
pub fn lock_path(out: &Utf8Path) -> Result<(Utf8PathBuf, Utf8PathBuf), Error> {
    let err = |what: &str, e: std::io::Error| Error::Io(format!("{what}: {e}"));
    let parent = match out.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_path_buf(),
        _ => Utf8PathBuf::from("."),
    };
    let canonical = parent
        .canonicalize_utf8()
        .map_err(|e| err(parent.as_str(), e))?
        .join(out.file_name().unwrap_or("bundle"));
    #[cfg(target_os = "linux")]
    let me = rustix::process::geteuid().as_raw();
    #[cfg(not(target_os = "linux"))]
    let me = 0u32;
    let tmp = Utf8PathBuf::from_path_buf(std::env::temp_dir()).map_err(|p| {
        Error::Io(format!(
            "{}: the temporary directory is not UTF-8",
            p.display()
        ))
    })?;
    let dir = tmp.join(format!("tenantc-{me}"));
    let digest = sha256(canonical.as_str().as_bytes());
    let name = digest.trim_start_matches("sha256:");
    let file = dir.join(format!("{}.lock", &name[..name.len().min(32)]));
    Ok((dir, file))
}

/// Takes the exclusive advisory lock (flock) that serializes compiles into
/// `out`, waiting for a compile that holds it, and says so on stderr.
///
/// The lock file is in a directory of the operator's own ([`lock_path`]):
/// created mode 0700 and required to be owned by the effective UID with no
/// access for group or others, and not a link, and the lock file in it a
/// regular file of the operator's. `flock` needs only an open descriptor,
/// so the lock is where only its owner (and root) can open it. (The parent
/// directory of `--out`, locked before, could be held by anyone who can
/// open a shared parent such as /tmp: red team 2026-12b, N17.) A lock
/// directory that is not the operator's alone is refused with the reason,
/// never waited on. The kernel releases the lock when its holder exits,
/// also on kill -9; the lock file stays (removing it would race with a
/// waiter).
fn lock_out(out: &Utf8Path) -> Result<std::fs::File, Error> {
    let (dir, path) = lock_path(out)?;
    let err = |e: std::io::Error| Error::Io(format!("locking {path}: {e}"));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(err(e)),
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{flock, fstat, open, openat, FileType, FlockOperation, Mode, OFlags};
        // Opened without following a link, as a directory, then judged by
        // what was opened; the lock file beneath it the same way.
        let dfd = open(
            dir.as_std_path(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            Error::Io(format!(
                "locking {path}: {dir}: {} (it must be a directory of your own, not a link: remove it)",
                std::io::Error::from(e)
            ))
        })?;
        let me = rustix::process::geteuid().as_raw();
        let st = fstat(&dfd).map_err(|e| err(e.into()))?;
        if st.st_uid != me || st.st_mode & 0o077 != 0 {
            return Err(Error::Io(format!(
                "{dir} (where the lock of compiles into {out} is) is not yours alone (owner UID {}, mode {:o}): another user could hold the lock and stall every compile. Remove it, or set TMPDIR to a directory of your own",
                st.st_uid,
                st.st_mode & 0o7777
            )));
        }
        let name = path.file_name().unwrap_or("lock");
        let fd = openat(
            &dfd,
            name,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| err(e.into()))?;
        let st = fstat(&fd).map_err(|e| err(e.into()))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || st.st_uid != me {
            return Err(Error::Io(format!(
                "{path} is not a regular file of yours: remove it"
            )));
        }
        let f = std::fs::File::from(fd);
        match flock(&f, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(f),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {}
            Err(e) => return Err(err(e.into())),
        }
        eprintln!("waiting for another compile into {out}: it holds the lock {path}");
        flock(&f, FlockOperation::LockExclusive).map_err(|e| err(e.into()))?;
        Ok(f)
    }
    #[cfg(not(target_os = "linux"))]
    {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(err)
    }
}

/// What is wrong with `--out` as a place for a bundle, said in words (the
/// first round printed "Device or resource busy" for `--out .`).
fn out_problem(out: &Utf8Path) -> Option<Error> {
    if out.as_str().is_empty() {
        return Some(Error::Io(
            "--out is empty: name the directory the bundle goes to, e.g. --out bundle".into(),
        ));
    }
    let normal = crate::resolve::load::normalize(out);
    if out.file_name().is_none()
        || matches!(normal.as_str(), "" | "." | "/")
        || normal.as_str().ends_with("..")
    {
        return Some(Error::Io(format!(
            "--out {out} names a directory that holds its own parent or the current directory; a compile replaces --out as a whole, so name a directory of its own, e.g. --out bundle"
        )));
    }
    // The first ancestor that exists must be a directory.
    let mut up = out.parent();
    while let Some(p) = up.filter(|p| !p.as_str().is_empty()) {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Some(Error::Io(format!(
                    "--out {out}: {p} is a file, not a directory, so the bundle cannot go below it"
                )))
            }
            Err(_) => up = p.parent(),
        }
    }
    None
}

impl Staging {
    /// Checks `out` and creates the staging directory beside it. `only` is
    /// the selection of a partial compile (`--tenant`).
    pub fn begin(out: &Utf8Path, only: Option<&BTreeSet<String>>) -> Result<Staging, Error> {
        let err = |what: &str, e: std::io::Error| Error::Io(format!("{what}: {e}"));
        out_problem(out).map_or(Ok(()), Err)?;
        // A symlink names the bundle it points to: that is what gets replaced.
        let out = if out.is_symlink() {
            out.canonicalize_utf8().map_err(|e| err(out.as_str(), e))?
        } else {
            out.to_path_buf()
        };
        let parent = match out.parent() {
            Some(p) if !p.as_str().is_empty() => p.to_path_buf(),
            _ => Utf8PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| err(parent.as_str(), e))?;
        // Held until this staging is dropped: compiles into one `--out` run
        // one after the other, and every staging directory found below is
        // one whose compile is gone.
        let lock = lock_out(&out)?;
        let mut old = None;
        if out.exists() {
            if !out.is_dir() {
                return Err(Error::Io(format!("{out} exists and is not a directory")));
            }
            old = OnDisk::read(&out, false);
            let empty = std::fs::read_dir(&out)
                .map_err(|e| err(out.as_str(), e))?
                .next()
                .is_none();
            if old.is_none() && !empty {
                return Err(Error::Io(format!(
                    "{out} is not empty and holds no tenantc bundle ({MANIFEST}); refusing to replace it"
                )));
            }
            if only.is_some() && old.as_ref().is_some_and(|o| o.only.as_ref() != only) {
                return Err(Error::Io(format!(
                    "{out} holds a bundle of other tenants; a partial compile (--tenant) would drop their files. Write it to a directory of its own"
                )));
            }
        }
        let name = out.file_name().unwrap_or("bundle");
        remove_leftovers(&parent, name);
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}.tenantc-"))
            .tempdir_in(&parent)
            .map_err(|e| err("creating a temporary directory", e))?;
        // From here on `Drop` removes it.
        let root = Utf8PathBuf::from_path_buf(tmp.keep())
            .map_err(|p| Error::Io(format!("{}: path is not UTF-8", p.display())))?;
        Ok(Staging {
            _lock: lock,
            out,
            root,
            old,
            dirs: Mutex::new(HashSet::new()),
            failed: Mutex::new(None),
            committed: false.into(),
        })
    }

    /// Creates the file `path` (relative to the bundle) with `bytes`.
    pub fn write(&self, path: &str, bytes: &[u8], secret: bool) -> Result<(), Error> {
        let target = self.root.join(path);
        let result = self
            .make_parent(path)
            .and_then(|()| write_file(&target, bytes, secret));
        match &result {
            // Written by another part of the lowering: the same secret file
            // again (`Bundle::absorb` compares their digests), or a bug.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return match secret {
                    true => Ok(()),
                    false => Err(Error::Internal(format!(
                        "two outputs would be written to {path}"
                    ))),
                };
            }
            _ => {}
        }
        result.map_err(|e| self.failed(&target, e))
    }

    /// Creates the file `path` with what `fill` writes to it, and returns
    /// its sha256: for a file too large to hold in memory first.
    pub fn write_with(
        &self,
        path: &str,
        secret: bool,
        fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<[u8; 32], Error> {
        let mut w = self.create(path, secret)?;
        let filled = fill(&mut w.0);
        let target = self.root.join(path);
        filled.map_err(|e| self.failed(&target, e))?;
        self.finish(path, w)
    }

    /// Creates the file `path` for writing a piece at a time; [`Staging::finish`]
    /// closes it and gives its sha256.
    fn create(&self, path: &str, secret: bool) -> Result<StagedFile, Error> {
        let target = self.root.join(path);
        let result = self.make_parent(path).and_then(|()| {
            let file = create_file(&target, secret)?;
            // Buffered before the hash, which then sees large blocks.
            Ok(StagedFile(std::io::BufWriter::with_capacity(
                1 << 16,
                Hashing {
                    inner: file,
                    hash: Sha256::new(),
                },
            )))
        });
        result.map_err(|e| self.failed(&target, e))
    }

    fn finish(&self, path: &str, w: StagedFile) -> Result<[u8; 32], Error> {
        match w.0.into_inner() {
            Ok(hashed) => Ok(hashed.hash.finalize().into()),
            Err(e) => Err(self.failed(&self.root.join(path), e.into_error())),
        }
    }

    /// Records the first write that failed.
    fn failed(&self, target: &Utf8Path, e: std::io::Error) -> Error {
        let message = format!("{target}: {e}");
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.get_or_insert(message.clone());
        Error::Io(format!("cannot write the bundle: {message}"))
    }

    fn make_parent(&self, path: &str) -> std::io::Result<()> {
        let Some((dir, _)) = path.rsplit_once('/') else {
            return Ok(());
        };
        let known = |d: &str| {
            self.dirs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(d)
        };
        if known(dir) {
            return Ok(());
        }
        // Two threads may both get here; `create_dir_all` lets both succeed.
        create_dirs(&self.root, dir)?;
        self.dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dir.to_string());
        Ok(())
    }

    /// The first write that failed, as an I/O error to report.
    pub fn failure(&self) -> Option<Error> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.clone().map(Error::Io)
    }

    /// Puts the staged bundle at `out`: keeps the operator's secret files
    /// the new bundle still names (every other file of the earlier bundle is
    /// gone afterwards), gives the directory the mode the old one had, and
    /// swaps it in. `bundle` is what was staged, manifest included.
    pub fn commit(&self, bundle: &Bundle) -> Result<(), Error> {
        if let Some(e) = self.failure() {
            return Err(e);
        }
        let err = |what: &str, e: std::io::Error| Error::Io(format!("{what}: {e}"));
        let out = &self.out;
        if let Some(old) = &self.old {
            // A materialized secret the new bundle would write with placeholders.
            let downgraded = old
                .secret_files
                .iter()
                .find(|p| match bundle.file_secret(p) {
                    Some(secret) => !secret,
                    // Not written now but named as an operator's secret file:
                    // carrying it over would keep the value under a new label.
                    None => bundle.secrets.contains_key(*p),
                });
            if let Some(path) = downgraded {
                return Err(Error::Io(format!(
                    "{out} holds materialized secrets ({path}); compiling without --materialize-secrets would put placeholders back. Compile with --materialize-secrets, or remove {out} first"
                )));
            }
        }
        // The operator's secret files live inside the bundle (the kustomizations
        // read them from there): carry over those the new bundle still names.
        if out.is_dir() {
            for path in bundle.secrets.keys() {
                if bundle.file_secret(path).is_some() {
                    continue; // generated by this compile
                }
                let from = out.join(path);
                // Looked at without following a link on the way: a
                // directory of the old bundle swapped for a link must not
                // carry a file from elsewhere into the new one.
                use crate::confine::{kind_at, read_rel, Kind, Links};
                let kind = kind_at(out, path).map_err(|e| {
                    Error::Io(format!(
                        "{from}: {e}; the operator's secret file is not carried over"
                    ))
                })?;
                // The operator's symbolic link stays a link (dangling or not),
                // never a 0644 copy of what it points to.
                #[cfg(unix)]
                if kind == Some(Kind::Link) {
                    let target = std::fs::read_link(&from).map_err(|e| err(from.as_str(), e))?;
                    if let Some((dir, _)) = path.rsplit_once('/') {
                        create_dirs(&self.root, dir).map_err(|e| err(dir, e))?;
                    }
                    std::os::unix::fs::symlink(&target, self.root.join(path))
                        .map_err(|e| err(from.as_str(), e))?;
                    continue;
                }
                if kind == Some(Kind::Regular) {
                    let bytes = read_rel(out, path, Links::Never, MAX_OPERATOR_SECRET)
                        .map_err(|e| Error::Io(format!("{from}: {e}")))?;
                    if let Some((dir, _)) = path.rsplit_once('/') {
                        create_dirs(&self.root, dir).map_err(|e| err(dir, e))?;
                    }
                    write_file(&self.root.join(path), &bytes, true)
                        .map_err(|e| err(from.as_str(), e))?;
                }
            }
        }
        // The bundle directory keeps the mode the operator gave it.
        if let Ok(meta) = std::fs::metadata(out) {
            std::fs::set_permissions(&self.root, meta.permissions())
                .map_err(|e| err(self.root.as_str(), e))?;
        }
        self.committed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        swap_in(&self.root, out).map_err(|e| err(out.as_str(), e))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// What the tenantc bundle at a directory says of itself in its manifest,
/// read once per compile (at 10,000 tenants the manifest is 15 MB).
#[derive(Debug)]
struct OnDisk {
    /// Files it holds as materialized secrets.
    secret_files: BTreeSet<String>,
    /// The tenants of a partial bundle.
    only: Option<BTreeSet<String>>,
    /// The other files it lists: the only ones `--check` may show.
    listed: HashSet<String>,
}

/// The largest operator's secret file carried from the old bundle into the
/// new one (a certificate chain, a registry's credentials).
const MAX_OPERATOR_SECRET: u64 = 16 << 20;

/// The largest `manifest.json` read (15 MB at 10,000 tenants).
pub const MAX_MANIFEST: u64 = 1 << 30;

/// The text of the manifest of the bundle at `out`, read by the rule for
/// untrusted files ([`crate::confine`]): no link followed, a regular file,
/// bounded. `None` when there is none or it is refused.
pub(crate) fn read_manifest(out: &Utf8Path) -> Option<String> {
    let bytes =
        crate::confine::read_rel(out, MANIFEST, crate::confine::Links::Never, MAX_MANIFEST).ok()?;
    String::from_utf8(bytes).ok()
}

impl OnDisk {
    /// `None` when the directory holds no tenantc manifest. `with_listed`:
    /// also the paths of the files that are not secrets (for `--check`).
    fn read(dir: &Utf8Path, with_listed: bool) -> Option<OnDisk> {
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
        let text = read_manifest(dir)?;
        let m: Manifest = serde_json::from_str(&text).ok()?;
        if m.tool != "tenantc" {
            return None;
        }
        let (secret, other): (Vec<File>, Vec<File>) = m.files.into_iter().partition(|f| f.secret);
        Some(OnDisk {
            secret_files: secret.into_iter().map(|f| f.path).collect(),
            only: m.only_tenants,
            listed: if with_listed {
                other.into_iter().map(|f| f.path).collect()
            } else {
                HashSet::new()
            },
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
        // Not followed: a link named like a staging directory is left alone.
        if ours && e.file_type().is_ok_and(|t| t.is_dir()) {
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
    /// Each differing file, in the order of the diff, for the per-tenant
    /// summary (`crate::review`).
    pub files: Vec<(String, DriftKind)>,
}

/// How one file differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftKind {
    Changed,
    Missing,
    Stale,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.changed + self.missing + self.stale == 0
    }
}

/// Compares `bundle` with the bundle at `out` without writing anything.
/// Files holding materialized secrets, and the operator's secret files, are
/// compared by presence only, so no secret reaches the diff.
pub fn drift(bundle: &Bundle, out: &Utf8Path) -> Result<Drift, Error> {
    use crate::confine::{read_rel, Links, Refused};
    let mut d = Drift::default();
    let on_disk = OnDisk::read(out, true);
    let (on_disk_secret, listed) = match &on_disk {
        Some(o) => (&o.secret_files, Some(&o.listed)),
        None => (&BTreeSet::new(), None),
    };
    let on_disk_secret = on_disk_secret.clone();
    let out_exists = out.is_dir();
    for (path, file) in &bundle.files {
        // The committed bundle may come from anyone: no link is followed,
        // only a regular file is read, and no more than a little past the
        // size it should have.
        let max = file.bytes.len() as u64 + (1 << 20);
        let read = if out_exists {
            read_rel(out, path, Links::Never, max)
        } else {
            Err(Refused::Missing)
        };
        let old = match read {
            Ok(b) => b,
            Err(Refused::Missing) => {
                d.missing += 1;
                d.files.push((path.clone(), DriftKind::Missing));
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
            Err(Refused::Io(e)) => return Err(Error::Io(format!("{}: {e}", out.join(path)))),
            Err(why) => {
                // A link, a device, a FIFO, something too large: drift,
                // never read and never shown.
                d.changed += 1;
                d.files.push((path.clone(), DriftKind::Changed));
                d.diff
                    .push_str(&format!("changed {path} (not read: {why})\n"));
                continue;
            }
        };
        // Secret files are compared, never shown: materialized ones,
        // generated ones the manifest names as secrets, and the committed
        // placeholder versions (pure.json.placeholder), whose placeholders
        // an operator may have filled in by mistake.
        if file.secret
            || on_disk_secret.contains(path)
            || bundle.secrets.contains_key(path)
            || path.ends_with(PLACEHOLDER_SUFFIX)
        {
            if old != file.bytes {
                d.changed += 1;
                d.files.push((path.clone(), DriftKind::Changed));
                d.diff
                    .push_str(&format!("changed {path} (it holds secrets; not shown)\n"));
            }
            continue;
        }
        if old != file.bytes {
            d.changed += 1;
            d.files.push((path.clone(), DriftKind::Changed));
            // Only a file the old manifest lists (or the manifest itself) is
            // shown: no byte of anything else reaches the log.
            let described =
                path == MANIFEST && on_disk.is_some() || listed.is_some_and(|l| l.contains(path));
            if !described {
                d.diff.push_str(&format!(
                    "changed {path} (the bundle's {MANIFEST} does not list it; not shown)\n"
                ));
                continue;
            }
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
                .map_err(|e| Error::Io(format!("{dir}: {e}")))?;
            for e in entries {
                let e = e.map_err(|e| Error::Io(format!("{dir}: {e}")))?;
                let p = e.path().to_path_buf();
                // A symbolic link is an entry, never a directory to walk: a
                // link to `/` must not list the whole file system.
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(p);
                    continue;
                }
                let rel = p.strip_prefix(out).unwrap_or(&p).as_str().to_string();
                if !bundle.files.contains_key(&rel) && !bundle.secrets.contains_key(&rel) {
                    d.stale += 1;
                    d.files.push((rel.clone(), DriftKind::Stale));
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
    let diff = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(a, b)
        .to_string();
    escape_controls(&diff)
}

/// `text` with every control character but newline and tab, and the
/// characters that reorder or hide text on a terminal (bidi controls, U+FFFE,
/// U+FFFF), written as `\u{..}`: a diff of a file from a pull request must
/// not move the cursor or erase the log it lands in.
pub(crate) fn escape_controls(text: &str) -> String {
    let bad = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}')
            || crate::confine::is_noncharacter(c)
    };
    if !text.contains(bad) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}
