//! The one rule for every read and every write of a file whose name or
//! content tenantc does not control: spec files and their imports (`--stdlib`
//! ones too), `file()` secrets, the old bundle at `--out` (`compile --check`,
//! its manifest, the secret files a compile carries over), `fmt`, `graph
//! --output` and the language server.
//!
//! A read ([`read`]) resolves the path once, refuses it unless it lies
//! beneath its root, then opens it from the root one component at a time,
//! never following a link (`openat` with `O_NOFOLLOW`), so a link swapped in
//! between the check and the open makes the open fail instead of leaving the
//! root. The file is opened without blocking, must be a regular file (checked
//! on the opened descriptor with `fstat`, and compared by device and inode
//! with what the walk found), and at most `max` bytes are read. Errors name
//! the path only: no byte of a refused file is ever shown.
//!
//! A write ([`write`]) replaces only a regular file (or creates one) inside
//! its root, walking to its directory the same way; a symbolic link, a
//! device or a FIFO at the target is refused, never written through or
//! replaced. The new content goes to a temporary file in that directory,
//! created with the mode asked for (independent of the umask when the file
//! guards a secret), and is renamed over the target by directory descriptor.
//!
//! On other systems than Linux the same checks run by path (check, open,
//! compare identity), which leaves a window the Linux path closes.

use camino::{Utf8Component, Utf8Path, Utf8PathBuf};

/// A Unicode noncharacter: U+FDD0..U+FDEF and the last two code points of
/// every plane (U+FFFE, U+FFFF, U+1FFFE, ...). Unicode 15, section 23.7
/// "Noncharacters" (https://www.unicode.org/versions/Unicode15.0.0/ch23.pdf);
/// YAML and go-yaml (kustomize) refuse U+FFFE and U+FFFF.
pub fn is_noncharacter(c: char) -> bool {
    let u = c as u32;
    (0xFDD0..=0xFDEF).contains(&u) || (u & 0xFFFE) == 0xFFFE
}

/// Whether a read follows symbolic links that stay beneath the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Links are resolved once, up front; the result must lie beneath the
    /// root (spec files: a site may link `lib -> ../shared/lib` inside it).
    Beneath,
    /// No link is followed anywhere on the path (the bundle at `--out`,
    /// which may come from a pull request).
    Never,
}

/// Why a file was not read or written. Its text never names content.
#[derive(Debug)]
pub enum Refused {
    /// Nothing there.
    Missing,
    /// It resolves outside the root.
    Outside,
    /// A symbolic link where none is followed.
    Link,
    /// Not a regular file: a directory, device, FIFO or socket.
    NotRegular(&'static str),
    /// Larger than the bound.
    TooLarge(u64),
    /// The path changed between resolving and opening it.
    Changed,
    /// Not UTF-8 text (the offset of the first invalid byte).
    NotUtf8(usize),
    Io(std::io::Error),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Missing => f.write_str("no such file"),
            Refused::Outside => f.write_str("it leads outside the directory it must stay in"),
            Refused::Link => f.write_str(
                "it is a symbolic link (or passes through one), which is not followed here",
            ),
            Refused::NotRegular(kind) => write!(f, "it is a {kind}, not a regular file"),
            Refused::TooLarge(max) => write!(f, "it holds more than {max} bytes"),
            Refused::Changed => {
                f.write_str("it changed while being opened (a link was swapped in)")
            }
            Refused::NotUtf8(at) => write!(f, "it is not UTF-8 text (invalid byte at offset {at})"),
            Refused::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<std::io::Error> for Refused {
    fn from(e: std::io::Error) -> Refused {
        if e.kind() == std::io::ErrorKind::NotFound {
            Refused::Missing
        } else {
            Refused::Io(e)
        }
    }
}

/// `path` made absolute (against the current directory) with `.` and `..`
/// removed lexically.
fn absolute(path: &Utf8Path) -> Utf8PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir()
            .ok()
            .and_then(|d| Utf8PathBuf::from_path_buf(d).ok())
        {
            Some(d) => d.join(path),
            None => path.to_path_buf(),
        }
    };
    crate::resolve::load::normalize(&abs)
}

fn real(path: &Utf8Path) -> Result<Utf8PathBuf, Refused> {
    let p = std::fs::canonicalize(path)?;
    Utf8PathBuf::from_path_buf(p)
        .map_err(|_| Refused::Io(std::io::Error::other("the path is not UTF-8")))
}

/// The parts of `path` below `root` (both canonical for [`Links::Beneath`],
/// lexical for [`Links::Never`]), or `Outside`.
fn beneath(
    root: &Utf8Path,
    path: &Utf8Path,
    links: Links,
) -> Result<(Utf8PathBuf, Vec<String>), Refused> {
    let given = absolute(root);
    let root = real(root)?;
    let target = match links {
        Links::Beneath => real(path)?,
        Links::Never => {
            // The root's own links are the operator's (`--out` may be a
            // link to the bundle); below it none is resolved: the parts
            // after the root, as written, are walked without following.
            let abs = absolute(path);
            let rel = abs
                .strip_prefix(&given)
                .or_else(|_| abs.strip_prefix(&root))
                .map_err(|_| Refused::Outside)?;
            root.join(rel)
        }
    };
    let rel = target.strip_prefix(&root).map_err(|_| Refused::Outside)?;
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Utf8Component::Normal(n) => parts.push(n.to_string()),
            Utf8Component::CurDir => {}
            _ => return Err(Refused::Outside),
        }
    }
    Ok((root, parts))
}

/// What a directory entry is, seen without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Directory,
    Link,
    Fifo,
    Device,
    Socket,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Regular => "regular file",
            Kind::Directory => "directory",
            Kind::Link => "symbolic link",
            Kind::Fifo => "FIFO",
            Kind::Device => "device",
            Kind::Socket => "socket",
        }
    }

    #[cfg_attr(target_os = "linux", allow(dead_code))]
    fn of(ft: std::fs::FileType) -> Kind {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_fifo() {
                return Kind::Fifo;
            }
            if ft.is_socket() {
                return Kind::Socket;
            }
        }
        if ft.is_dir() {
            Kind::Directory
        } else if ft.is_symlink() {
            Kind::Link
        } else if ft.is_file() {
            Kind::Regular
        } else {
            Kind::Device
        }
    }
}

/// Reads at most `max` bytes of a regular file beneath `root`.
pub fn read(root: &Utf8Path, path: &Utf8Path, links: Links, max: u64) -> Result<Vec<u8>, Refused> {
    let (root, parts) = beneath(root, path, links)?;
    let file = open_beneath(&root, &parts)?;
    read_bounded(file, max)
}

/// [`read`] of a path given relative to `root` (`k8s/ocp1/x.yaml`).
pub fn read_rel(root: &Utf8Path, rel: &str, links: Links, max: u64) -> Result<Vec<u8>, Refused> {
    read(root, &root.join(rel), links, max)
}

/// [`read`], as UTF-8 text.
pub fn read_text(
    root: &Utf8Path,
    path: &Utf8Path,
    links: Links,
    max: u64,
) -> Result<String, Refused> {
    let bytes = read(root, path, links, max)?;
    String::from_utf8(bytes).map_err(|e| Refused::NotUtf8(e.utf8_error().valid_up_to()))
}

fn read_bounded(file: std::fs::File, max: u64) -> Result<Vec<u8>, Refused> {
    use std::io::Read;
    let len = file.metadata()?.len();
    if len > max {
        return Err(Refused::TooLarge(max));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(Refused::TooLarge(max));
    }
    Ok(bytes)
}

/// What is at `rel` below `root`, without following any link on the way or
/// at the end: `None` when nothing is there.
pub fn kind_at(root: &Utf8Path, rel: &str) -> Result<Option<Kind>, Refused> {
    let (root, parts) = beneath(root, &root.join(rel), Links::Never)?;
    let Some((name, dirs)) = parts.split_last() else {
        return Err(Refused::NotRegular("directory"));
    };
    let dir = match walk_dirs(&root, dirs) {
        Err(Refused::Missing) => return Ok(None),
        dir => dir?,
    };
    match dir.join(name).symlink_metadata_at() {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// How a written file gets its permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An existing file keeps its mode; a new one gets 0666 less the umask.
    Ordinary,
    /// Exactly this mode, whatever the umask: for files that hold or guard
    /// a secret.
    Exactly(u32),
}

/// Replaces (or creates) the regular file `path` beneath `root` with
/// `bytes`, atomically. `path`'s directory is resolved once; the file
/// itself must be a regular file or absent.
pub fn write(root: &Utf8Path, path: &Utf8Path, bytes: &[u8], mode: Mode) -> Result<(), Refused> {
    // The directory may be reached through the root's own links; the file
    // name itself is never followed.
    let abs = absolute(path);
    let (Some(dir), Some(name)) = (abs.parent(), abs.file_name()) else {
        return Err(Refused::NotRegular("directory"));
    };
    let dir_real = real(dir)?;
    let (root, parts) = beneath(root, &dir_real, Links::Beneath)?;
    let dir = walk_dirs(&root, &parts)?;
    let existing = match dir.join(name).symlink_metadata_at() {
        Ok(ft) => Some(ft),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(ft) = existing {
        match ft {
            Kind::Regular => {}
            Kind::Link => return Err(Refused::Link),
            other => return Err(Refused::NotRegular(other.name())),
        }
    }
    dir.replace(name, bytes, mode, existing.is_some())
}

// ------------------------------------------------------------------ Linux

#[cfg(target_os = "linux")]
mod sys {
    use super::{Kind, Mode, Refused};
    use camino::Utf8Path;
    use rustix::fs::{AtFlags, FileType, OFlags};
    use std::os::fd::OwnedFd;

    fn errno(e: rustix::io::Errno) -> std::io::Error {
        e.into()
    }

    /// An open directory below the root, reached without following links.
    pub struct Dir {
        fd: OwnedFd,
    }

    pub struct Entry<'a> {
        dir: &'a Dir,
        name: &'a str,
    }

    impl Dir {
        pub fn join<'a>(&'a self, name: &'a str) -> Entry<'a> {
            Entry { dir: self, name }
        }

        pub fn replace(
            &self,
            name: &str,
            bytes: &[u8],
            mode: Mode,
            exists: bool,
        ) -> Result<(), Refused> {
            use std::io::Write;
            let keep = if exists {
                let st =
                    rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).map_err(errno)?;
                Some(st.st_mode & 0o7777)
            } else {
                None
            };
            let tmp = temp_name(name);
            let create = match mode {
                Mode::Exactly(m) => m,
                Mode::Ordinary => keep.unwrap_or(0o666),
            };
            let fd = rustix::fs::openat(
                &self.fd,
                tmp.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                rustix::fs::Mode::from_raw_mode(create & 0o777),
            )
            .map_err(errno)?;
            let result = (|| -> Result<(), Refused> {
                // Exactly the mode asked for, whatever the umask took away;
                // an existing file keeps its own.
                if let Some(m) = match mode {
                    Mode::Exactly(m) => Some(m),
                    Mode::Ordinary => keep,
                } {
                    rustix::fs::fchmod(&fd, rustix::fs::Mode::from_raw_mode(m)).map_err(errno)?;
                }
                let mut f = std::fs::File::from(fd);
                f.write_all(bytes)?;
                f.sync_all()?;
                rustix::fs::renameat(&self.fd, tmp.as_str(), &self.fd, name).map_err(errno)?;
                Ok(())
            })();
            if result.is_err() {
                let _ = rustix::fs::unlinkat(&self.fd, tmp.as_str(), AtFlags::empty());
            }
            result
        }
    }

    fn temp_name(name: &str) -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!(
            ".{name}.tenantc-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    impl Entry<'_> {
        pub fn symlink_metadata_at(&self) -> std::io::Result<Kind> {
            let st = rustix::fs::statat(&self.dir.fd, self.name, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(errno)?;
            Ok(kind(FileType::from_raw_mode(st.st_mode)))
        }
    }

    fn kind(t: FileType) -> Kind {
        match t {
            FileType::RegularFile => Kind::Regular,
            FileType::Directory => Kind::Directory,
            FileType::Symlink => Kind::Link,
            FileType::Fifo => Kind::Fifo,
            FileType::Socket => Kind::Socket,
            _ => Kind::Device,
        }
    }

    /// Opens the directories `parts` below `root`, never following a link.
    pub fn walk_dirs(root: &Utf8Path, parts: &[String]) -> Result<Dir, Refused> {
        let mut fd = rustix::fs::open(
            root.as_std_path(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| Refused::from(errno(e)))?;
        for p in parts {
            fd = rustix::fs::openat(
                &fd,
                p.as_str(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| match e {
                rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => Refused::Link,
                e => Refused::from(errno(e)),
            })?;
        }
        Ok(Dir { fd })
    }

    /// Opens the regular file `parts` below `root` for reading.
    pub fn open_beneath(root: &Utf8Path, parts: &[String]) -> Result<std::fs::File, Refused> {
        let Some((name, dirs)) = parts.split_last() else {
            return Err(Refused::NotRegular("directory"));
        };
        let dir = walk_dirs(root, dirs)?;
        // What is there, not followed: a link or a special file is refused
        // before anything opens it (opening a device can have effects).
        let seen = rustix::fs::statat(&dir.fd, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| Refused::from(errno(e)))?;
        match FileType::from_raw_mode(seen.st_mode) {
            FileType::RegularFile => {}
            FileType::Symlink => return Err(Refused::Link),
            other => return Err(Refused::NotRegular(kind(other).name())),
        }
        let fd = rustix::fs::openat(
            &dir.fd,
            name.as_str(),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| match e {
            rustix::io::Errno::LOOP => Refused::Changed,
            e => Refused::from(errno(e)),
        })?;
        // The file opened is the one checked.
        let st = rustix::fs::fstat(&fd).map_err(|e| Refused::from(errno(e)))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile
            || st.st_dev != seen.st_dev
            || st.st_ino != seen.st_ino
        {
            return Err(Refused::Changed);
        }
        Ok(std::fs::File::from(fd))
    }
}

// ------------------------------------------------------------ elsewhere

#[cfg(not(target_os = "linux"))]
mod sys {
    use super::{Mode, Refused};
    use camino::{Utf8Path, Utf8PathBuf};

    pub struct Dir {
        path: Utf8PathBuf,
    }

    pub struct Entry {
        path: Utf8PathBuf,
    }

    impl Dir {
        pub fn join(&self, name: &str) -> Entry {
            Entry {
                path: self.path.join(name),
            }
        }

        pub fn replace(
            &self,
            name: &str,
            bytes: &[u8],
            mode: Mode,
            exists: bool,
        ) -> Result<(), Refused> {
            use std::io::Write;
            let target = self.path.join(name);
            let keep = if exists {
                Some(std::fs::symlink_metadata(&target)?.permissions())
            } else {
                None
            };
            let mut tmp = tempfile::Builder::new()
                .prefix(&format!(".{name}.tenantc-"))
                .tempfile_in(&self.path)?;
            tmp.write_all(bytes)?;
            tmp.as_file().sync_all()?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let perms = match (mode, keep) {
                    (Mode::Exactly(m), _) => std::fs::Permissions::from_mode(m),
                    (Mode::Ordinary, Some(p)) => p,
                    (Mode::Ordinary, None) => std::fs::Permissions::from_mode(0o644),
                };
                tmp.as_file().set_permissions(perms)?;
            }
            #[cfg(not(unix))]
            let _ = (mode, keep);
            tmp.persist(&target).map_err(|e| Refused::Io(e.error))?;
            Ok(())
        }
    }

    impl Entry {
        pub fn symlink_metadata_at(&self) -> std::io::Result<super::Kind> {
            std::fs::symlink_metadata(&self.path).map(|m| super::Kind::of(m.file_type()))
        }
    }

    pub fn walk_dirs(root: &Utf8Path, parts: &[String]) -> Result<Dir, Refused> {
        let mut path = root.to_path_buf();
        for p in parts {
            path.push(p);
            let m = std::fs::symlink_metadata(&path)?;
            if m.file_type().is_symlink() {
                return Err(Refused::Link);
            }
        }
        Ok(Dir { path })
    }

    pub fn open_beneath(root: &Utf8Path, parts: &[String]) -> Result<std::fs::File, Refused> {
        let Some((name, dirs)) = parts.split_last() else {
            return Err(Refused::NotRegular("directory"));
        };
        let dir = walk_dirs(root, dirs)?;
        let path = dir.path.join(name);
        let seen = std::fs::symlink_metadata(&path)?;
        if seen.file_type().is_symlink() {
            return Err(Refused::Link);
        }
        if !seen.is_file() {
            return Err(Refused::NotRegular(
                super::Kind::of(seen.file_type()).name(),
            ));
        }
        let f = std::fs::File::open(&path)?;
        let now = f.metadata()?;
        if !now.is_file() || now.len() != seen.len() && now.modified().ok() != seen.modified().ok()
        {
            return Err(Refused::Changed);
        }
        Ok(f)
    }
}

use sys::{open_beneath, walk_dirs};

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn tmp() -> (tempfile::TempDir, Utf8PathBuf) {
        let t = tempfile::tempdir().expect("tmp");
        let p = Utf8PathBuf::from_path_buf(t.path().canonicalize().expect("real")).expect("utf-8");
        (t, p)
    }

    /// The window a check-then-open leaves (N7): the path is checked while
    /// `d` is a directory of the root, then `d` becomes a link out of it.
    /// The open that follows must not leave the root.
    #[test]
    fn a_link_swapped_in_after_the_check_is_not_followed() {
        let (_t, base) = tmp();
        let root = base.join("site");
        std::fs::create_dir_all(root.join("d")).expect("mkdir");
        std::fs::write(root.join("d/secret"), "inside").expect("w");
        std::fs::create_dir_all(base.join("outside")).expect("mkdir");
        std::fs::write(base.join("outside/secret"), "OUTSIDE").expect("w");
        let (real_root, parts) =
            beneath(&root, &root.join("d/secret"), Links::Beneath).expect("inside");
        std::fs::rename(root.join("d"), root.join("d.real")).expect("mv");
        std::os::unix::fs::symlink(base.join("outside"), root.join("d")).expect("ln");
        match open_beneath(&real_root, &parts) {
            Err(Refused::Link | Refused::Changed) => {}
            Ok(f) => panic!("followed the swapped link: {f:?}"),
            Err(e) => panic!("{e}"),
        }
        // Resolved afresh, the path is outside and refused.
        assert!(matches!(
            read(&root, &root.join("d/secret"), Links::Beneath, 100),
            Err(Refused::Outside)
        ));
    }

    #[test]
    fn reads_refuse_links_fifos_and_large_files() {
        let (_t, root) = tmp();
        std::fs::write(root.join("a"), "0123456789").expect("w");
        std::os::unix::fs::symlink(root.join("a"), root.join("l")).expect("ln");
        assert_eq!(
            read(&root, &root.join("a"), Links::Never, 10).expect("a"),
            b"0123456789"
        );
        assert!(matches!(
            read(&root, &root.join("a"), Links::Never, 9),
            Err(Refused::TooLarge(9))
        ));
        assert!(matches!(
            read(&root, &root.join("l"), Links::Never, 10),
            Err(Refused::Link)
        ));
        assert!(read(&root, &root.join("l"), Links::Beneath, 10).is_ok());
        std::os::unix::fs::symlink("/etc/hostname", root.join("out")).expect("ln");
        assert!(matches!(
            read(&root, &root.join("out"), Links::Beneath, 10),
            Err(Refused::Outside)
        ));
        assert!(matches!(
            read(&root, &root.join("../x"), Links::Never, 10),
            Err(Refused::Outside | Refused::Missing)
        ));
        let ok = std::process::Command::new("mkfifo")
            .arg(root.join("fifo").as_str())
            .status()
            .expect("mkfifo");
        assert!(ok.success());
        assert!(matches!(
            read(&root, &root.join("fifo"), Links::Never, 10),
            Err(Refused::NotRegular("FIFO"))
        ));
        std::os::unix::fs::symlink("/dev/zero", root.join("zero")).expect("ln");
        assert!(matches!(
            read(&root, &root.join("zero"), Links::Never, 10),
            Err(Refused::Link)
        ));
        assert_eq!(kind_at(&root, "l").expect("kind"), Some(Kind::Link));
        assert_eq!(kind_at(&root, "no/such").expect("kind"), None);
    }

    #[test]
    fn writes_replace_only_regular_files_and_set_exact_modes() {
        use std::os::unix::fs::PermissionsExt;
        let (_t, root) = tmp();
        std::fs::write(root.join("victim"), "keep").expect("w");
        std::os::unix::fs::symlink(root.join("victim"), root.join("l")).expect("ln");
        assert!(matches!(
            write(&root, &root.join("l"), b"x", Mode::Ordinary),
            Err(Refused::Link)
        ));
        assert_eq!(std::fs::read(root.join("victim")).expect("r"), b"keep");
        assert!(matches!(
            write(&root, Utf8Path::new("/dev/null"), b"x", Mode::Ordinary),
            Err(Refused::Outside)
        ));
        assert!(matches!(
            write(
                Utf8Path::new("/dev"),
                Utf8Path::new("/dev/null"),
                b"x",
                Mode::Ordinary
            ),
            Err(Refused::NotRegular("device"))
        ));
        std::fs::set_permissions(root.join("victim"), std::fs::Permissions::from_mode(0o640))
            .expect("chmod");
        write(&root, &root.join("victim"), b"new", Mode::Ordinary).expect("write");
        let m = std::fs::metadata(root.join("victim")).expect("m");
        assert_eq!(m.permissions().mode() & 0o7777, 0o640);
        write(&root, &root.join("s"), b"secret", Mode::Exactly(0o600)).expect("write");
        let m = std::fs::metadata(root.join("s")).expect("m");
        assert_eq!(m.permissions().mode() & 0o7777, 0o600);
        // Nothing left behind.
        let names: Vec<_> = std::fs::read_dir(&root)
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }
}
