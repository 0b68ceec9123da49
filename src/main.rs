//! The secretcat binary: parse arguments, run, turn the outcome into an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

// secretcat allocates many small strings and JSON values and frees them in bulk; mimalloc does
// both markedly faster than the system allocator, on every core at once (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = secretcat::cli::Args::parse();
    let terminals = secretcat::cli::Terminals {
        stdout: std::io::stdout().is_terminal(),
        stderr: std::io::stderr().is_terminal(),
    };
    let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr().lock());
    let outcome = secretcat::cli::run(&args, &mut stdout, &mut stderr, terminals);
    ExitCode::from(outcome.exit_code())
}
