//! Opening auth.json without being fooled: no FIFO or device that hangs a reader, no symlink
//! swapped in at the last moment, no file other than the one rotor read replaced by its write.
//!
//! - [`check_regular`] refuses a non-regular auth.json before the lock is taken, so rotor never
//!   waits on a FIFO while Hermes waits on rotor's lock;
//! - [`open_regular`] opens with `O_NONBLOCK` (a FIFO swapped in after the check cannot block)
//!   and checks the opened file with `fstat`; under the lock it also refuses a symlink
//!   (`O_NOFOLLOW`), because the path was resolved once already;
//! - [`Identity`] is what the write checks just before its rename: the file about to be
//!   replaced must be the one that was read (same device and inode), else nothing is written.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Which file was read, and how it was owned: the write keeps owner, group and mode, and
/// replaces only this very file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub dev: u64,
    pub ino: u64,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl Identity {
    pub(crate) fn of(meta: &Metadata) -> Self {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode(),
        }
    }

    pub(crate) fn same_file(&self, meta: &Metadata) -> bool {
        self.dev == meta.dev() && self.ino == meta.ino()
    }
}

/// What kind of file `meta` is, for an error message.
pub(crate) fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn not_regular(meta: &Metadata) -> io::Error {
    io::Error::other(format!(
        "{}, not a regular file: refused without opening it",
        kind(meta)
    ))
}

/// Fails unless `path` (following symlinks) is a regular file. Never opens it.
pub(crate) fn check_regular(path: &Path) -> io::Result<Metadata> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        Ok(meta)
    } else {
        Err(not_regular(&meta))
    }
}

/// Opens `path` for reading if it is a regular file, without blocking on a FIFO; with
/// `no_follow`, a symlink is refused instead of followed.
pub(crate) fn open_regular(path: &Path, no_follow: bool) -> io::Result<(File, Metadata)> {
    if !no_follow {
        check_regular(path)?;
    }
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if no_follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| symlink_refused(e, path))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok((file, meta))
}

/// `O_NOFOLLOW` on a symlink fails with ELOOP, whose text ("too many levels of symbolic
/// links") would mislead: say what happened.
pub(crate) fn symlink_refused(error: io::Error, path: &Path) -> io::Error {
    if error.raw_os_error() == Some(libc::ELOOP) {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            return io::Error::other(
                "it is a symbolic link, which rotor does not follow here: refused",
            );
        }
    }
    error
}

/// A file rotor just created gets its directory's owner and group, and read and write for that
/// owner (and, with `group_too`, for the group when the directory grants the group write),
/// whatever the umask: so `sudo rotor …` in a service user's HERMES_HOME leaves files the
/// service can use.
pub(crate) fn give_to_directory_owner(file: &File, path: &Path, group_too: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let dir_meta = std::fs::metadata(&dir)?;
    let mine = file.metadata()?;
    if (mine.uid(), mine.gid()) != (dir_meta.uid(), dir_meta.gid()) {
        // Only root may give a file away; anyone else keeps it (and the group bits below).
        let _ = std::os::unix::fs::fchown(file, Some(dir_meta.uid()), Some(dir_meta.gid()));
    }
    let group_rw = group_too && dir_meta.mode() & 0o020 != 0;
    let mode = if group_rw { 0o660 } else { 0o600 };
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}
