//! Shell completion scripts for the command line (`connect-operator
//! completions SHELL`), from clap's own definitions.

use clap::CommandFactory;

use crate::cli::Cli;

/// The binary's name, as completions know it.
const NAME: &str = "connect-operator";

/// The completion script for `shell`.
#[must_use]
pub fn script(shell: clap_complete::Shell) -> String {
    // Into a buffer: clap_complete panics when it cannot write, as into a closed pipe.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), NAME, &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        // clap_complete's bash script matches `cmd=connect__operator__subcmd__diff`
        // against arms named `connect__subcmd__operator__subcmd__diff` when the
        // binary's name has a hyphen, so no subcommand's flags complete: the
        // arms get the name the variable holds.
        // See: https://github.com/clap-rs/clap/issues/6421
        clap_complete::Shell::Bash => {
            let mangled = NAME.replace('-', "__subcmd__");
            script.replace(&format!("{mangled}__subcmd__"), &format!("{}__subcmd__", NAME.replace('-', "__")))
        }
        _ => script,
    }
}
