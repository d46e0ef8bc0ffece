//! The key clients must present to `rotor serve`: a file of 32 random bytes in hex, created on
//! the first start with mode 0600, compared in constant time, never printed and never
//! forwarded upstream (the profile's own credential replaces it).

use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

/// Where the key lives without `--key-file`: `$HERMES_HOME/rotor-serve.key`.
pub(crate) fn default_key_file() -> PathBuf {
    crate::store::hermes_home().join("rotor-serve.key")
}

/// Bounds of a key an operator writes into the file themselves.
const MIN_KEY: usize = 16;
const MAX_KEY: usize = 512;

/// The serve key. Its `Debug` never shows it.
pub(crate) struct ClientKey(String);

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientKey(…)")
    }
}

impl ClientKey {
    /// Whether `presented` is the key, in time that does not depend on where they differ.
    pub(crate) fn matches(&self, presented: &[u8]) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented))
    }

    /// The key as a pool secret, so a server echoing it is redacted like any other.
    pub(crate) fn as_secret(&self) -> &str {
        &self.0
    }
}

/// Reads the key file, creating it first when it does not exist. `created` tells the caller to
/// announce the new file.
pub(crate) fn load_or_create(path: &Path) -> Result<(ClientKey, bool)> {
    match create(path) {
        Ok(key) => return Ok((key, true)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(Error::Write {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    load(path).map(|key| (key, false))
}

fn create(path: &Path) -> std::io::Result<ClientKey> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    crate::store::file::give_to_directory_owner(&file, path, false)?;
    let written = file
        .write_all(format!("{key}\n").as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        // A half-written key file would be refused at the next start: leave none.
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(ClientKey(key))
}

fn load(path: &Path) -> Result<ClientKey> {
    let invalid = |expected: String| Error::Schema {
        path: path.to_path_buf(),
        place: "the serve key file".into(),
        expected,
    };
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let (file, meta) = crate::store::file::open_regular(path, false).map_err(read_err)?;
    if meta.mode() & 0o006 != 0 {
        return Err(invalid(format!(
            "a file only its owner (and group) may read or write; every user of this machine can \
             reach it now (mode {:o}): run `chmod 600 {}`",
            meta.mode() & 0o777,
            path.display()
        )));
    }
    let mut text = String::new();
    file.take(MAX_KEY as u64 + 64)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    let key = text.trim();
    let printable = key.bytes().all(|b| b.is_ascii_graphic());
    if key.len() < MIN_KEY || key.len() > MAX_KEY || !printable {
        return Err(invalid(format!(
            "one key of {MIN_KEY} to {MAX_KEY} printable ASCII characters without spaces (delete \
             the file to have rotor make a new one)"
        )));
    }
    Ok(ClientKey(key.to_string()))
}

/// Whether a request carries the key as `Authorization: Bearer KEY` or `x-api-key: KEY`
/// (the two ways the SDKs and agents send an API key). Every presented value is checked.
pub(crate) fn presented(headers: &hyper::HeaderMap, key: &ClientKey) -> bool {
    let bearer = headers
        .get_all(hyper::header::AUTHORIZATION)
        .iter()
        .filter_map(|v| {
            let v = v.as_bytes();
            let (scheme, rest) = v.split_at(v.len().min(7));
            scheme
                .eq_ignore_ascii_case(b"bearer ")
                .then(|| rest.trim_ascii())
        });
    let api_key = headers
        .get_all("x-api-key")
        .iter()
        .map(|v| v.as_bytes().trim_ascii());
    // Every value is compared, matched or not, so the time taken does not depend on which.
    bearer
        .chain(api_key)
        .fold(false, |found, value| key.matches(value) | found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_first_start_creates_a_private_key_and_the_next_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rotor-serve.key");
        let (first, created) = load_or_create(&path).unwrap();
        assert!(created);
        assert_eq!(first.0.len(), 64);
        assert!(first.0.bytes().all(|b| b.is_ascii_hexdigit()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (second, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.0, second.0);
        assert_eq!(format!("{first:?}"), "ClientKey(…)");
    }

    #[test]
    fn a_key_file_every_user_can_read_or_an_odd_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "0123456789abcdef0123\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(load_or_create(&path).is_ok());
        for bad in ["short", "has a space in the middle of it", ""] {
            std::fs::write(&path, bad).unwrap();
            let err = load_or_create(&path).unwrap_err();
            assert_eq!(err.exit_code(), crate::error::exit::INVALID_FILE, "{bad}");
        }
    }

    #[test]
    fn the_key_is_accepted_as_bearer_or_x_api_key_only() {
        let key = ClientKey("k".repeat(20));
        let with = |name: &str, value: &str| {
            let mut headers = hyper::HeaderMap::new();
            headers.insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
            presented(&headers, &key)
        };
        let k = "k".repeat(20);
        assert!(with("authorization", &format!("Bearer {k}")));
        assert!(with("authorization", &format!("bearer  {k} ")));
        assert!(with("x-api-key", &k));
        assert!(!with("authorization", &k));
        assert!(!with("authorization", &format!("Basic {k}")));
        assert!(!with("x-api-key", &"k".repeat(19)));
        assert!(!with("x-api-key", &"k".repeat(21)));
        assert!(!presented(&hyper::HeaderMap::new(), &key));
    }
}
