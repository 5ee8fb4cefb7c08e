//! `flowwatch logs streams`.

use clap::{Args, ValueEnum};

use super::Output;
use super::api::{DescribeLogStreams, LogStreamsPage};
use super::format;
use crate::client::Client;

#[derive(Debug, Args)]
pub(crate) struct StreamsArgs {
    /// The log group.
    group: String,
    /// Only streams whose name starts with this (not with --order-by last-event).
    #[arg(long)]
    prefix: Option<String>,
    /// Sort by name, or by last event time (most recent first).
    #[arg(long, value_enum, default_value_t = OrderBy::Name)]
    order_by: OrderBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OrderBy {
    Name,
    LastEvent,
}

pub(crate) async fn run(client: &Client, out: Output, args: StreamsArgs) -> anyhow::Result<()> {
    let (order_by, descending) = match args.order_by {
        OrderBy::Name => (None, None),
        OrderBy::LastEvent => (Some("LastEventTime"), Some(true)),
    };
    let mut all = LogStreamsPage::default();
    let mut next_token = None;
    loop {
        let request = DescribeLogStreams {
            log_group_name: &args.group,
            log_stream_name_prefix: args.prefix.as_deref(),
            order_by,
            descending,
            next_token: next_token.take(),
        };
        let page: LogStreamsPage = client.call("DescribeLogStreams", &request).await?;
        all.log_streams.extend(page.log_streams);
        match page.next_token {
            Some(token) if !token.is_empty() => next_token = Some(token),
            _ => break,
        }
    }
    if out.json {
        super::emit(serde_json::to_string_pretty(&all)?)?;
        return Ok(());
    }
    if all.log_streams.is_empty() {
        super::emit(format_args!("no log streams in {}", args.group))?;
        return Ok(());
    }
    let mut table = format::table(&[
        "name",
        "first event (UTC)",
        "last event (UTC)",
        "last ingestion (UTC)",
    ]);
    for stream in &all.log_streams {
        table.add_row(vec![
            stream.log_stream_name.clone(),
            format::time_short(stream.first_event_timestamp),
            format::time_short(stream.last_event_timestamp),
            format::time_short(stream.last_ingestion_time),
        ]);
    }
    super::emit(&table)?;
    Ok(())
}
