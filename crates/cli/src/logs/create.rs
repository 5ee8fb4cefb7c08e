//! `flowwatch logs create-group` and `create-stream`.

use clap::Args;

use super::Output;
use super::api::{CreateLogGroup, CreateLogStream, Empty};
use crate::client::Client;

#[derive(Debug, Args)]
pub(crate) struct CreateGroupArgs {
    /// Name of the new log group.
    group: String,
}

#[derive(Debug, Args)]
pub(crate) struct CreateStreamArgs {
    /// The log group.
    group: String,
    /// Name of the new log stream.
    stream: String,
}

pub(crate) async fn group(
    client: &Client,
    out: Output,
    args: CreateGroupArgs,
) -> anyhow::Result<()> {
    let _: Empty = client
        .call(
            "CreateLogGroup",
            &CreateLogGroup {
                log_group_name: &args.group,
            },
        )
        .await?;
    if out.json {
        super::emit(serde_json::json!({ "logGroupName": args.group }))?;
    } else {
        super::emit(format_args!("created log group {}", args.group))?;
    }
    Ok(())
}

pub(crate) async fn stream(
    client: &Client,
    out: Output,
    args: CreateStreamArgs,
) -> anyhow::Result<()> {
    let _: Empty = client
        .call(
            "CreateLogStream",
            &CreateLogStream {
                log_group_name: &args.group,
                log_stream_name: &args.stream,
            },
        )
        .await?;
    if out.json {
        super::emit(
            serde_json::json!({ "logGroupName": args.group, "logStreamName": args.stream }),
        )?;
    } else {
        super::emit(format_args!(
            "created log stream {} in {}",
            args.stream, args.group
        ))?;
    }
    Ok(())
}
