//! Shell completions and man pages, generated from the clap definitions so they cannot say
//! something the CLI does not do. They are committed (packagers and users take them from the
//! repository); `cargo xtask docs` rewrites them and `cargo xtask docs --check` (run by
//! the tests and by CI) fails when the committed files drift from the CLI.

use crate::error::{Error, Result};
use clap_complete::Shell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The directories, relative to the project root, that hold the generated files.
pub(crate) const COMPLETIONS_DIR: &str = "completions";
pub(crate) const MAN_DIR: &str = "man";

/// Writes every completion script and man page for `cmd` under `root`.
pub(crate) fn generate(cmd: &clap::Command, root: &Path) -> Result<()> {
    let completions = root.join(COMPLETIONS_DIR);
    let man = root.join(MAN_DIR);
    for dir in [&completions, &man] {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
    }
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut cmd = cmd.clone();
        clap_complete::generate_to(shell, &mut cmd, "rotor", &completions)
            .map_err(write_error(&completions))?;
    }
    clap_mangen::generate_to(cmd.clone(), &man).map_err(write_error(&man))?;
    Ok(())
}

/// The generated files that differ between `expected_root` (freshly generated) and `root`
/// (committed): changed, missing or left over, as paths relative to the roots.
pub(crate) fn drift(expected_root: &Path, root: &Path) -> Result<Vec<String>> {
    let mut stale = Vec::new();
    for dir in [COMPLETIONS_DIR, MAN_DIR] {
        let expected = files(&expected_root.join(dir))?;
        let actual = files(&root.join(dir))?;
        for (name, bytes) in &expected {
            if actual.get(name) != Some(bytes) {
                stale.push(format!("{dir}/{name}"));
            }
        }
        for name in actual.keys().filter(|n| !expected.contains_key(*n)) {
            stale.push(format!("{dir}/{name} (no longer generated)"));
        }
    }
    Ok(stale)
}

/// The regular files of `dir` by name (an absent directory has none).
fn files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let read_error = |path: PathBuf| move |source| Error::Read { path, source };
    let mut out = BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(read_error(dir.to_path_buf())(e)),
    };
    for entry in entries {
        let entry = entry.map_err(read_error(dir.to_path_buf()))?;
        let path = entry.path();
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(read_error(path.clone()))?;
            out.insert(entry.file_name().to_string_lossy().into_owned(), bytes);
        }
    }
    Ok(out)
}

/// `cargo xtask docs`: regenerate under `root`, or with `check` only compare.
pub fn run(cmd: &clap::Command, root: &Path, check: bool) -> Result<()> {
    if !check {
        // Start clean so a page of a removed subcommand does not linger.
        for dir in [COMPLETIONS_DIR, MAN_DIR] {
            let dir = root.join(dir);
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|source| Error::Write {
                    path: dir.clone(),
                    source,
                })?;
            }
        }
        return generate(cmd, root);
    }
    let scratch = tempfile::tempdir().map_err(|source| Error::Write {
        path: std::env::temp_dir(),
        source,
    })?;
    generate(cmd, scratch.path())?;
    let stale = drift(scratch.path(), root)?;
    if stale.is_empty() {
        return Ok(());
    }
    Err(Error::Internal(format!(
        "generated files differ from the CLI: {}; run `cargo xtask docs` and commit",
        stale.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use clap::{Arg, CommandFactory};

    fn repo() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn committed_files_match_the_cli() {
        run(&crate::cli::Cli::command(), repo(), true).unwrap();
    }

    #[test]
    fn a_new_flag_without_regenerating_is_caught() {
        let mut cmd = crate::cli::Cli::command();
        cmd = cmd.mut_subcommand("call", |call| {
            call.arg(
                Arg::new("frobnicate")
                    .long("frobnicate")
                    .help("A flag nobody documented"),
            )
        });
        let scratch = tempfile::tempdir().unwrap();
        generate(&cmd, scratch.path()).unwrap();
        let stale = drift(scratch.path(), repo()).unwrap();
        for file in [
            "completions/rotor.bash",
            "completions/_rotor",
            "completions/rotor.fish",
            "man/rotor-call.1",
        ] {
            assert!(stale.contains(&file.to_string()), "{file} not in {stale:?}");
        }
        assert!(!stale.contains(&"man/rotor-simulate.1".to_string()));
    }

    #[test]
    fn a_leftover_page_is_caught() {
        let scratch = tempfile::tempdir().unwrap();
        let cmd = crate::cli::Cli::command();
        generate(&cmd, scratch.path()).unwrap();
        let copy = tempfile::tempdir().unwrap();
        generate(&cmd, copy.path()).unwrap();
        assert!(drift(scratch.path(), copy.path()).unwrap().is_empty());
        std::fs::write(copy.path().join("man/rotor-gone.1"), "old").unwrap();
        assert_eq!(
            drift(scratch.path(), copy.path()).unwrap(),
            ["man/rotor-gone.1 (no longer generated)"]
        );
    }
}
