//! `flowwatch`: the server and the commands people reach for without the aws CLI.

mod capture;
mod client;
mod config;
mod generate;
mod logs;
mod query;
mod root_key;
mod serve;
mod trail;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's malloc: queries decode segments into large, short-lived
/// buffers, which glibc maps and unmaps from the kernel each time (a third of a query's time
/// went to the kernel zeroing fresh pages); mimalloc keeps and reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Self-hosted VPC Flow Logs and CloudWatch Logs, compatible with the AWS CLI and SDKs.
#[derive(Debug, Parser)]
#[command(name = "flowwatch", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (CloudWatch Logs API on one port, data on local disk by default).
    Serve(serve::ServeArgs),
    /// CloudWatch Logs client commands: list groups and streams, tail and put events.
    Logs(logs::LogsArgs),
    /// Turn traffic (a pcap/pcapng file, NetFlow/IPFIX from routers) into VPC flow-log records.
    Capture(capture::CaptureArgs),
    /// Run a Logs Insights (or SQL) query on a server and print the rows.
    Query(query::QueryArgs),
    /// Generate realistic synthetic VPC flow logs (seeded, deterministic) into a server or a file.
    Generate(generate::GenerateArgs),
    /// CloudTrail trails' files: verify a trail's digest chain and log files.
    Trail(trail::TrailArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Capture(args) => capture::run(args),
        Command::Query(args) => query::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Trail(args) => trail::run(args),
    }
}
