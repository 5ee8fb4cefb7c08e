//! `flowwatch logs ...`: CloudWatch Logs from the command line, for people without the aws CLI.
//!
//! Every subcommand is an ordinary AWS client of the server at `--endpoint-url` (see
//! [`crate::client`]), so they work against any CloudWatch Logs endpoint.

pub(crate) mod api;
mod create;
pub(crate) mod format;
mod groups;
pub(crate) mod put;
mod streams;
mod tail;

use clap::{Args, Subcommand};

use crate::client::{Client, ClientArgs};

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Print machine-readable JSON instead of tables and text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: LogsCommand,
}

#[derive(Debug, Subcommand)]
enum LogsCommand {
    /// List log groups (DescribeLogGroups, every page).
    Groups(groups::GroupsArgs),
    /// List the log streams of a group (DescribeLogStreams, every page).
    Streams(streams::StreamsArgs),
    /// Print the events of a stream, and with --follow keep printing new ones.
    Tail(tail::TailArgs),
    /// Send events to a stream, from arguments or one per line from stdin.
    Put(put::PutArgs),
    /// Create a log group.
    CreateGroup(create::CreateGroupArgs),
    /// Create a log stream.
    CreateStream(create::CreateStreamArgs),
}

/// Output options shared by the subcommands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub(crate) json: bool,
}

/// Runs a `logs` subcommand. Failures are printed as `error: ...` (the AWS code and message and
/// a hint, no backtrace) and exit with status 1.
pub(crate) fn run(args: LogsArgs) -> anyhow::Result<()> {
    if let Err(error) = run_command(args) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
    Ok(())
}

fn run_command(args: LogsArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = Client::from_args(&args.client)?;
        let out = Output { json: args.json };
        match args.command {
            LogsCommand::Groups(a) => groups::run(&client, out, a).await,
            LogsCommand::Streams(a) => streams::run(&client, out, a).await,
            LogsCommand::Tail(a) => tail::run(&client, out, a).await,
            LogsCommand::Put(a) => put::run(&client, out, a).await,
            LogsCommand::CreateGroup(a) => create::group(&client, out, a).await,
            LogsCommand::CreateStream(a) => create::stream(&client, out, a).await,
        }
    })
}

/// Writes `text` and a newline to stdout. A closed pipe (`... | head`) ends the program quietly
/// instead of panicking like `println!`.
pub(crate) fn emit(text: impl std::fmt::Display) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.into()),
    }
}
