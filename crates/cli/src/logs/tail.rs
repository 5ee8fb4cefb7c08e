//! `flowwatch logs tail`: print a stream's events, and with `--follow` keep polling for new ones.

use std::time::Duration;

use clap::Args;
use flowwatch_model::limits::MAX_READ_PAGE_EVENTS;

use super::api::{GetLogEvents, LogEventsPage, OutputLogEvent};
use super::{Output, emit, format};
use crate::client::{Client, ClientError};

/// How long `--follow` waits after an empty poll.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Args)]
pub(crate) struct TailArgs {
    /// The log group.
    group: String,
    /// The log stream.
    stream: String,
    /// Keep polling for new events (every second) until Ctrl-C.
    #[arg(short, long)]
    follow: bool,
    /// Only events at or after this: a duration ago (30s, 10m, 1h, 2d) or an RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Only the last N events (at most 10000) before following.
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u64).range(1..=MAX_READ_PAGE_EVENTS as u64))]
    lines: Option<u64>,
}

pub(crate) async fn run(client: &Client, out: Output, args: TailArgs) -> anyhow::Result<()> {
    let start_time = match &args.since {
        Some(text) => Some(
            format::parse_since(text, format::now_ms())
                .map_err(|e| anyhow::anyhow!("--since: {e}"))?,
        ),
        None => None,
    };
    let tail = Tail {
        client,
        out,
        group: &args.group,
        stream: &args.stream,
        start_time,
    };

    // The backlog: the last N events, or everything from the head.
    let mut forward: Option<String> = None;
    if let Some(n) = args.lines {
        let page = tail.page(None, false, Some(n as usize)).await?;
        // A backward read of an empty stream returns a token past every event; follow from the
        // head instead so events that arrive later are not skipped.
        if !page.events.is_empty() {
            forward = page.next_forward_token;
        }
        tail.print(&page.events)?;
    } else {
        loop {
            let page = tail.page(forward.clone(), true, None).await?;
            tail.print(&page.events)?;
            let done = page.events.is_empty() || page.next_forward_token == forward;
            if page.next_forward_token.is_some() {
                forward = page.next_forward_token;
            }
            if done {
                break;
            }
        }
    }
    if !args.follow {
        return Ok(());
    }
    tokio::select! {
        result = tail.follow(forward) => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// One stream being read.
#[derive(Debug)]
struct Tail<'a> {
    client: &'a Client,
    out: Output,
    group: &'a str,
    stream: &'a str,
    start_time: Option<i64>,
}

impl Tail<'_> {
    async fn page(
        &self,
        next_token: Option<String>,
        start_from_head: bool,
        limit: Option<usize>,
    ) -> Result<LogEventsPage, ClientError> {
        let request = GetLogEvents {
            log_group_name: self.group,
            log_stream_name: self.stream,
            start_time: self.start_time,
            next_token,
            limit,
            start_from_head,
        };
        self.client.call("GetLogEvents", &request).await
    }

    /// Polls forward from `forward` (or the head) until an error; Ctrl-C ends it from outside.
    async fn follow(&self, mut forward: Option<String>) -> anyhow::Result<()> {
        loop {
            let page = self.page(forward.clone(), true, None).await?;
            self.print(&page.events)?;
            let idle = page.events.is_empty();
            if page.next_forward_token.is_some() {
                forward = page.next_forward_token;
            }
            if idle {
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        }
    }

    fn print(&self, events: &[OutputLogEvent]) -> anyhow::Result<()> {
        for event in events {
            if self.out.json {
                emit(serde_json::to_string(event)?)?;
            } else {
                emit(format_args!(
                    "{} {}",
                    format::time_ms(Some(event.timestamp)),
                    event.message
                ))?;
            }
        }
        Ok(())
    }
}
