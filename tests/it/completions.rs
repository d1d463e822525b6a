//! `completions SHELL` scripts, loaded into the real shell and asked what it
//! completes, as a person pressing TAB would. A shell that is not installed
//! is skipped with a note (.ci/run installs zsh and fish).

use std::process::Command;

use crate::support::repo::BIN;

fn installed(shell: &str) -> bool {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {shell}")).output().unwrap().status.success();
    if !found {
        eprintln!("note: {shell} is not installed: its completion test is skipped");
    }
    found
}

/// Runs `script` in `shell` with `$BIN` set; its stdout.
fn run(shell: &str, args: &[&str], script: &str) -> String {
    let out = Command::new(shell).args(args).arg(script).env("BIN", BIN).output().unwrap();
    assert!(
        out.status.success(),
        "{shell}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What bash offers for the words `line` (the last one being completed).
fn bash_offers(line: &str) -> Vec<String> {
    let script = format!(
        r#"source <("$BIN" completions bash)
spec=$(complete -p connect-operator) || exit 1
function=$(sed -E 's/.*-F ([^ ]+).*/\1/' <<<"$spec")
COMP_WORDS=({line})
[[ "{line}" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="{line}"
COMP_POINT=${{#COMP_LINE}}
"$function" connect-operator "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    run("bash", &["-c"], &script).lines().map(String::from).collect()
}

#[test]
fn bash_completes_commands_and_each_commands_own_flags() {
    if !installed("bash") {
        return;
    }
    assert_eq!(bash_offers("connect-operator dif"), ["diff"]);
    let diff = bash_offers("connect-operator diff --");
    for flag in ["--env-file", "--prune", "--output", "--connect-url", "--allow-empty"] {
        assert!(diff.contains(&flag.to_string()), "diff --<TAB> offers {flag}: {diff:?}");
    }
    assert!(!diff.contains(&"--auto-restart-max".to_string()), "a hook flag on diff: {diff:?}");
    assert_eq!(bash_offers("connect-operator restart --fail"), ["--failed-only"]);
    assert_eq!(bash_offers("connect-operator offsets al"), ["alter"]);
    assert_eq!(bash_offers("connect-operator diff --output "), ["table", "json"]);
}

#[test]
fn fish_completes_commands_and_each_commands_own_flags() {
    if !installed("fish") {
        return;
    }
    let offers = |line: &str| -> Vec<String> {
        let script = format!(r#""$BIN" completions fish | source; complete -C '{line}'"#);
        run("fish", &["-c"], &script).lines().map(|l| l.split('\t').next().unwrap().to_string()).collect()
    };
    assert!(offers("connect-operator dif").contains(&"diff".to_string()));
    let diff = offers("connect-operator diff --");
    for flag in ["--env-file", "--prune", "--output", "--connect-url"] {
        assert!(diff.contains(&flag.to_string()), "diff --<TAB> offers {flag}: {diff:?}");
    }
    assert!(!diff.contains(&"--auto-restart-max".to_string()), "a hook flag on diff: {diff:?}");
}

#[test]
fn zsh_completes_commands_and_each_commands_own_flags() {
    if !installed("zsh") {
        return;
    }
    // zsh completes only inside its line editor: a pseudo-terminal (zpty)
    // runs an interactive zsh, types the line and TAB, and the listing it
    // prints is read back.
    let offers = |line: &str| -> String {
        let script = format!(
            r#"zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'autoload -U compinit && compinit -u; source <("$BIN" completions zsh); zstyle ":completion:*" list-grouped false; PROMPT="> "; echo READY'
zpty -r z out '*READY*'
zpty -w -n z '{line}'$'\t'
sleep 2
all=""
while zpty -r -t z chunk; do all+=$chunk; done
print -r -- "$all"
zpty -d z"#
        );
        run("zsh", &["-f", "-c"], &script)
    };
    let diff = offers("connect-operator diff --");
    for flag in ["--env-file", "--prune", "--output"] {
        assert!(diff.contains(flag), "diff --<TAB> offers {flag}: {diff}");
    }
    assert!(!diff.contains("--auto-restart-max"), "a hook flag on diff: {diff}");
}
