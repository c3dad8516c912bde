use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the C library's allocator: the writer allocates and
/// frees a batch's rows, entries and JSON values by the thousand, and
/// glibc's malloc spent a quarter of its time on it (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SCFLEDGER_LOG")
                .unwrap_or_else(|_| "info,actix_server=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never into a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    scfledger::cli::run(scfledger::cli::Cli::parse())
}
