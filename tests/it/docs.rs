//! The committed completions and man pages work where they are used: bash loads the script
//! and completes subcommands and flags; man renders every page without warnings.

use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What bash completes for `words` (the last one being typed).
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = format!(
        "source completions/rotor.bash || exit 9\n\
         COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE=\"{line}\"; COMP_POINT=${{#COMP_LINE}}\n\
         _rotor rotor \"{current}\" \"{previous}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = words.join(" "),
        cword = words.len() - 1,
        line = words.join(" "),
        current = words[words.len() - 1],
        previous = words[words.len() - 2],
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_subcommands_and_flags() {
    assert_eq!(bash_complete(&["rotor", "profiles", "pr"]), ["probe"]);
    let flags = bash_complete(&["rotor", "call", "--max-"]);
    assert!(
        flags.contains(&"--max-profiles".to_string()) && flags.contains(&"--max-wait".to_string()),
        "{flags:?}"
    );
    let hidden = bash_complete(&["rotor", "gen"]);
    assert!(
        hidden.is_empty(),
        "the developers' command is not offered: {hidden:?}"
    );
}

#[test]
fn every_man_page_renders_without_warnings() {
    if !crate::common::prerequisite("man, to render the man pages", crate::common::tool("man")) {
        return;
    }
    let mut pages: Vec<_> = std::fs::read_dir(repo().join("man"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    assert!(pages.len() >= 9, "{pages:?}");
    for page in pages {
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&page)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", page.display());
        assert!(
            out.stderr.is_empty(),
            "{}: {}",
            page.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{}",
            page.display()
        );
    }
}
