//! The `coldbench` command: parse, call the library, print the error chain, exit with its code.

use clap::Parser;
use coldbench::cli::{Cli, Command, RegistryCommand};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if !matches!(
        cli.command,
        Command::Run(_) | Command::Registry(_) | Command::Inspect(_)
    ) {
        die_quietly_on_closed_stdout();
    }
    let code = match cli.command {
        Command::Run(args) => coldbench::commands::run(&args).await,
        Command::Report(args) => coldbench::commands::report(&args),
        Command::Inspect(args) => coldbench::commands::inspect(&args).await,
        Command::Compare(args) => coldbench::commands::compare(&args),
        Command::History(args) => coldbench::commands::history(&args),
        Command::Cost(args) => coldbench::commands::cost::cost(&args),
        Command::Calibrate(args) => coldbench::commands::model::calibrate(&args),
        Command::Predict(args) => coldbench::commands::model::predict(&args),
        Command::HelloBinary { output } => coldbench::commands::hello_binary(&output),
        Command::Registry(RegistryCommand::Serve(args)) => {
            coldbench::commands::registry_serve(&args).await
        }
    };
    // Exit here rather than return: a probe thread still polling after Ctrl-C must not hold
    // the process until its timeout.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::process::exit(i32::from(code));
}

/// Commands that only read files and print end quietly when stdout is closed early (`| head`),
/// as Unix tools do, instead of panicking on the failed print. Not for `run`, `registry` and
/// `inspect`:
/// they write to engine sockets, where a closed peer must be an error, not a signal.
fn die_quietly_on_closed_stdout() {
    // SAFETY: called before any thread writes; restores the default action of one signal.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
