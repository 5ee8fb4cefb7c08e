//! `flowwatch logs put`: events from arguments or stdin, in batches within AWS's limits.

use std::io::{BufRead, IsTerminal};
use std::time::{Duration, Instant};

use clap::Args;
use flowwatch_model::limits::{
    EVENT_OVERHEAD_BYTES, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES,
};
use tokio::sync::mpsc;

use super::api::{
    CreateLogGroup, CreateLogStream, Empty, InputLogEvent, PutLogEvents, PutLogEventsOutput,
};
use super::{Output, emit, format};
use crate::client::{Client, ClientError};

/// A partial batch read from stdin is sent at the latest this long after its first line.
const LINGER: Duration = Duration::from_secs(1);

#[derive(Debug, Args)]
pub(crate) struct PutArgs {
    /// The log group.
    group: String,
    /// The log stream.
    stream: String,
    /// Messages, one event each; without any, one event per line of stdin (empty lines skipped).
    messages: Vec<String>,
    /// Create the stream first if it does not exist (and the group, if that is missing too).
    #[arg(long)]
    create: bool,
}

/// Events waiting to be sent, within the PutLogEvents limits.
#[derive(Debug, Default)]
struct Batch {
    events: Vec<(i64, String)>,
    bytes: usize,
    /// When the first event was added.
    started: Option<Instant>,
}

impl Batch {
    fn fits(&self, message: &str) -> bool {
        self.events.len() < MAX_BATCH_EVENTS
            && self.bytes + message.len() + EVENT_OVERHEAD_BYTES <= MAX_BATCH_BYTES
    }

    fn push(&mut self, timestamp: i64, message: String) {
        self.started.get_or_insert_with(Instant::now);
        self.bytes += message.len() + EVENT_OVERHEAD_BYTES;
        self.events.push((timestamp, message));
    }
}

/// What was sent, for the summary.
#[derive(Debug, Default)]
struct Sent {
    events: usize,
    batches: usize,
    rejected: Vec<serde_json::Value>,
}

pub(crate) async fn run(client: &Client, out: Output, args: PutArgs) -> anyhow::Result<()> {
    if args.create {
        create(client, &args.group, &args.stream).await?;
    }
    let mut put = Put {
        client,
        group: &args.group,
        stream: &args.stream,
        batch: Batch::default(),
        sent: Sent::default(),
        last_timestamp: 0,
        skipped_empty: 0,
    };
    if args.messages.is_empty() {
        if std::io::stdin().is_terminal() {
            eprintln!("reading events from stdin, one per line (Ctrl-D to end)");
        }
        let (tx, mut rx) = mpsc::channel::<std::io::Result<String>>(4096);
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let stop = line.is_err();
                if tx.blocking_send(line).is_err() || stop {
                    break;
                }
            }
        });
        loop {
            let next = match put.batch.started {
                None => rx.recv().await,
                Some(started) => {
                    match tokio::time::timeout(LINGER.saturating_sub(started.elapsed()), rx.recv())
                        .await
                    {
                        Ok(next) => next,
                        Err(_) => {
                            put.flush().await?;
                            continue;
                        }
                    }
                }
            };
            match next {
                Some(line) => put.add(line?).await?,
                None => break,
            }
        }
    } else {
        for message in args.messages {
            put.add(message).await?;
        }
    }
    put.flush().await?;
    let sent = put.sent;
    if out.json {
        emit(serde_json::json!({
            "logGroupName": args.group,
            "logStreamName": args.stream,
            "events": sent.events,
            "batches": sent.batches,
            "skippedEmptyLines": put.skipped_empty,
            "rejected": sent.rejected,
        }))?;
    } else {
        emit(format_args!(
            "sent {} event{} in {} batch{} to {}/{}{}",
            sent.events,
            if sent.events == 1 { "" } else { "s" },
            sent.batches,
            if sent.batches == 1 { "" } else { "es" },
            args.group,
            args.stream,
            if put.skipped_empty > 0 {
                format!(" ({} empty lines skipped)", put.skipped_empty)
            } else {
                String::new()
            }
        ))?;
    }
    Ok(())
}

/// Creates the stream, and the group when the stream's creation says it is missing.
pub(crate) async fn create(client: &Client, group: &str, stream: &str) -> Result<(), ClientError> {
    let create_stream = CreateLogStream {
        log_group_name: group,
        log_stream_name: stream,
    };
    let ignore_exists = |r: Result<Empty, ClientError>| match r {
        Err(e) if e.aws_code() == Some("ResourceAlreadyExistsException") => Ok(()),
        other => other.map(|_| ()),
    };
    match client
        .call::<_, Empty>("CreateLogStream", &create_stream)
        .await
    {
        Err(e) if e.aws_code() == Some("ResourceNotFoundException") => {
            ignore_exists(
                client
                    .call(
                        "CreateLogGroup",
                        &CreateLogGroup {
                            log_group_name: group,
                        },
                    )
                    .await,
            )?;
            ignore_exists(client.call("CreateLogStream", &create_stream).await)
        }
        other => ignore_exists(other),
    }
}

#[derive(Debug)]
struct Put<'a> {
    client: &'a Client,
    group: &'a str,
    stream: &'a str,
    batch: Batch,
    sent: Sent,
    /// Timestamps never go backwards within a run (a batch must be in chronological order).
    last_timestamp: i64,
    skipped_empty: usize,
}

impl Put<'_> {
    async fn add(&mut self, message: String) -> anyhow::Result<()> {
        let message = message
            .strip_suffix('\r')
            .map(str::to_owned)
            .unwrap_or(message);
        if message.is_empty() {
            self.skipped_empty += 1;
            return Ok(());
        }
        anyhow::ensure!(
            message.len() + EVENT_OVERHEAD_BYTES <= MAX_EVENT_BYTES,
            "an event of {} bytes is larger than the {} bytes CloudWatch Logs accepts",
            message.len(),
            MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES
        );
        if !self.batch.fits(&message) {
            self.flush().await?;
        }
        self.last_timestamp = self.last_timestamp.max(format::now_ms());
        self.batch.push(self.last_timestamp, message);
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.events.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let events: Vec<InputLogEvent<'_>> = batch
            .events
            .iter()
            .map(|(timestamp, message)| InputLogEvent {
                timestamp: *timestamp,
                message,
            })
            .collect();
        let request = PutLogEvents {
            log_group_name: self.group,
            log_stream_name: self.stream,
            log_events: &events,
        };
        let output: PutLogEventsOutput = match self.client.call("PutLogEvents", &request).await {
            Ok(output) => output,
            Err(e) if e.aws_code() == Some("ResourceNotFoundException") => {
                anyhow::bail!("{e}\nhint: pass --create to create the stream (and the group) first")
            }
            Err(e) => return Err(e.into()),
        };
        let first = self.sent.events;
        self.sent.events += events.len();
        self.sent.batches += 1;
        if let Some(info) = output.rejected_log_events_info {
            let mut what = Vec::new();
            if let Some(i) = info.too_old_log_event_end_index {
                what.push(format!("{i} too old"));
            }
            if let Some(i) = info.expired_log_event_end_index {
                what.push(format!("{i} older than the retention period"));
            }
            if let Some(i) = info.too_new_log_event_start_index {
                what.push(format!("{} too new", events.len().saturating_sub(i)));
            }
            eprintln!(
                "warning: batch {} (events {}..{}): rejected {}",
                self.sent.batches,
                first,
                self.sent.events,
                what.join(", ")
            );
            self.sent.rejected.push(serde_json::json!({
                "batch": self.sent.batches,
                "firstEvent": first,
                "rejectedLogEventsInfo": info,
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_stop_at_the_aws_limits() {
        let mut batch = Batch::default();
        for _ in 0..MAX_BATCH_EVENTS {
            assert!(batch.fits("x"));
            batch.push(0, "x".to_owned());
        }
        assert!(!batch.fits("x"), "10,000 events is the most");

        let mut batch = Batch::default();
        let big = "y".repeat(100_000);
        let mut n = 0;
        while batch.fits(&big) {
            batch.push(0, big.clone());
            n += 1;
        }
        assert_eq!(n, MAX_BATCH_BYTES / (100_000 + EVENT_OVERHEAD_BYTES));
        assert!(batch.bytes <= MAX_BATCH_BYTES);
    }
}
