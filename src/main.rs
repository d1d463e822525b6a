//! connect-operator: see the library for how a run works.

fn main() -> std::process::ExitCode {
    connect_operator::cli::main()
}
