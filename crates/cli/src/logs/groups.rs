//! `flowwatch logs groups`.

use clap::Args;

use super::Output;
use super::api::{DescribeLogGroups, LogGroupsPage};
use super::format;
use crate::client::Client;

#[derive(Debug, Args)]
pub(crate) struct GroupsArgs {
    /// Only groups whose name starts with this.
    #[arg(long)]
    prefix: Option<String>,
}

pub(crate) async fn run(client: &Client, out: Output, args: GroupsArgs) -> anyhow::Result<()> {
    let mut all = LogGroupsPage::default();
    let mut next_token = None;
    loop {
        let request = DescribeLogGroups {
            log_group_name_prefix: args.prefix.as_deref(),
            next_token: next_token.take(),
        };
        let page: LogGroupsPage = client.call("DescribeLogGroups", &request).await?;
        all.log_groups.extend(page.log_groups);
        match page.next_token {
            Some(token) if !token.is_empty() => next_token = Some(token),
            _ => break,
        }
    }
    if out.json {
        super::emit(serde_json::to_string_pretty(&all)?)?;
        return Ok(());
    }
    if all.log_groups.is_empty() {
        super::emit("no log groups")?;
        return Ok(());
    }
    let mut table = format::table(&["name", "created (UTC)", "retention", "stored"]);
    for group in &all.log_groups {
        table.add_row(vec![
            group.log_group_name.clone(),
            format::time_short(group.creation_time),
            group
                .retention_in_days
                .map_or_else(|| "never expire".to_owned(), |d| format!("{d} days")),
            group
                .stored_bytes
                .map_or_else(|| "-".to_owned(), format::bytes),
        ]);
    }
    super::emit(&table)?;
    Ok(())
}
