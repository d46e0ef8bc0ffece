//! Snapshots of every `--help`: the documented surface changes only on purpose.

use crate::common::bare;

fn help(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--help");
    let run = bare(&all);
    run.expect_code(0);
    run.stdout
}

#[test]
fn help_of_every_command() {
    for args in [
        &[][..],
        &["profiles"],
        &["profiles", "list"],
        &["profiles", "probe"],
        &["cooldown"],
        &["cooldown", "set"],
        &["cooldown", "clear"],
        &["simulate"],
        &["call"],
        &["serve"],
        &["sync"],
    ] {
        let name = if args.is_empty() {
            "rotor".to_string()
        } else {
            format!("rotor {}", args.join(" "))
        };
        insta::assert_snapshot!(name.replace(' ', "_"), help(args), &name);
    }
}

#[test]
fn usage_errors_exit_2() {
    bare(&["profiles", "list", "--format", "yaml"]).expect_code(2);
    bare(&["cooldown", "clear"]).expect_code(2);
    bare(&["frobnicate"]).expect_code(2);
    bare(&["simulate", "--format", "yaml"]).expect_code(2);
    bare(&["simulate", "--seed", "-1"]).expect_code(2);
    bare(&["--lock-timeout", "-1", "profiles", "list"]).expect_code(2);
}
