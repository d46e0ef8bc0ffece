//! Writing auth.json the way Hermes does, and never half-way.
//!
//! Bytes: `json.dumps(store, indent=2) + "\n"` (two-space indent, `": "` between key and value,
//! non-ASCII escaped as `\uXXXX` like Python's default `ensure_ascii`), so a file rotor rewrites
//! differs from Hermes's own only in the fields that changed.
//!
//! Durability: temp file in the same directory (O_EXCL, 0600), write, fsync, rename over the
//! target, fsync the directory. Until the rename the old file is untouched; after it the new one
//! is complete. A failed write removes its temp file. A symlinked auth.json is written through
//! to its target (resolved once, under the lock) and the link is kept, as Hermes's
//! `atomic_replace` does.
//!
//! Ownership: the new file gets the old one's owner, group and permission bits (plus read and
//! write for its owner, whatever the umask), so `sudo rotor …` on a service user's HERMES_HOME
//! leaves a file the service can still read. Identity: just before the rename, the file about
//! to be replaced must still be the one that was read (device and inode).

use super::file::Identity;
use serde_json::ser::{Formatter, PrettyFormatter};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Temp files older than this were left by a crash and are swept.
const STALE_AFTER: Duration = Duration::from_secs(600);

/// Serialises `root` (a `Value`, or the top-level map itself) as Hermes would write it.
pub(crate) fn to_hermes_json<T: serde::Serialize + ?Sized>(root: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, AsciiPretty::default());
    // Serialising a Value into a Vec cannot fail: no I/O errors, no non-string keys.
    if root.serialize(&mut ser).is_err() {
        out.clear();
    }
    out.push(b'\n');
    out
}

/// PrettyFormatter with Python's `ensure_ascii`.
#[derive(Default)]
struct AsciiPretty(PrettyFormatter<'static>);

impl Formatter for AsciiPretty {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Replaces `target` (a resolved path: no symlink) with `bytes` atomically and durably, if it
/// is still the file `read` describes. On error the old file is untouched and no temp file
/// remains.
pub(crate) fn write_atomic(target: &Path, bytes: &[u8], read: Identity) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = parent_dir(target);
    let name = file_name(target);
    // Named like Hermes's temp files so either tool's sweep recognises the other's leftovers.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!("{name}.tmp.{}.", std::process::id()))
        .rand_bytes(16)
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(&dir)?;
    temp.write_all(bytes)?;
    let file = temp.as_file();
    let created = file.metadata()?;
    if (created.uid(), created.gid()) != (read.uid, read.gid) {
        std::os::unix::fs::fchown(file, Some(read.uid), Some(read.gid)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot give the new file the owner {}:{} of the old one ({e}); \
                     run rotor as that user or as root",
                    read.uid, read.gid
                ),
            )
        })?;
    }
    // Set after the chown (which may clear mode bits), and explicitly: the umask applied at
    // creation must not take the owner's read and write away.
    file.set_permissions(fs::Permissions::from_mode((read.mode & 0o777) | 0o600))?;
    file.sync_all()?;
    let now = fs::symlink_metadata(target)?;
    if now.file_type().is_symlink() || !read.same_file(&now) {
        return Err(io::Error::other(
            "it was replaced by another file while rotor held the lock: nothing written",
        ));
    }
    temp.persist(target).map_err(|e| e.error)?;
    File::open(&dir)?.sync_all()
}

/// Removes temp files of earlier writers that crashed (`auth.json.tmp.*`, `.auth_*.tmp`) once
/// they are older than ten minutes. Called with the lock held, so no live writer owns them.
/// Failures are ignored: a leftover file is harmless, and sweeping must never block a write.
pub(crate) fn sweep_stale_temp_files(target: &Path, now: SystemTime) {
    let dir = parent_dir(target);
    let name = file_name(target);
    let stem = target
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let ours = file.starts_with(&format!("{name}.tmp."))
            || (file.starts_with(&format!(".{stem}_")) && file.ends_with(".tmp"));
        if !ours {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age >= STALE_AFTER);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "auth.json".into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::Value;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn formats_like_python_json_dumps_indent_2() {
        let value: Value =
            serde_json::from_str(r#"{"a":[1,2.50,{}],"b":{},"c":[],"é":"ü😀","n":null}"#).unwrap();
        let text = String::from_utf8(to_hermes_json(&value)).unwrap();
        // Expected bytes produced by Python 3: json.dumps(v, indent=2) + "\n" (number text kept).
        let expected = "{\n  \"a\": [\n    1,\n    2.50,\n    {}\n  ],\n  \"b\": {},\n  \"c\": [],\n  \"\\u00e9\": \"\\u00fc\\ud83d\\ude00\",\n  \"n\": null\n}\n";
        assert_eq!(text, expected);
    }

    fn identity(path: &Path) -> Identity {
        Identity::of(&fs::metadata(path).unwrap())
    }

    #[test]
    fn keeps_the_mode_adds_owner_rw_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        fs::write(&path, "old").unwrap();
        for (old, new) in [
            (0o644, 0o644),
            (0o600, 0o600),
            (0o400, 0o600),
            (0o640, 0o640),
        ] {
            fs::set_permissions(&path, fs::Permissions::from_mode(old)).unwrap();
            write_atomic(&path, b"new", identity(&path)).unwrap();
            assert_eq!(fs::read_to_string(&path).unwrap(), "new");
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                new,
                "{old:o}"
            );
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_replaced_file_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        fs::write(&path, "old").unwrap();
        let read = identity(&path);
        // Another file takes its place (not through the lock).
        fs::write(dir.path().join("other"), "other").unwrap();
        fs::rename(dir.path().join("other"), &path).unwrap();
        let err = write_atomic(&path, b"new", read).unwrap_err();
        assert!(err.to_string().contains("replaced"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "other");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn sweeps_only_old_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        for name in [
            "auth.json.tmp.1.abc",
            ".auth_x.tmp",
            "auth.json.tmp.2.fresh",
            "other.tmp",
            "auth.json",
        ] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        let later = SystemTime::now() + Duration::from_secs(601);
        fs::write(dir.path().join("auth.json.tmp.2.fresh"), "").unwrap();
        sweep_stale_temp_files(&path, later);
        let mut left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["auth.json", "other.tmp"]);
        // And with the real clock nothing is old enough yet.
        fs::write(dir.path().join("auth.json.tmp.3.new"), "").unwrap();
        sweep_stale_temp_files(&path, SystemTime::now());
        assert!(dir.path().join("auth.json.tmp.3.new").exists());
    }
}
