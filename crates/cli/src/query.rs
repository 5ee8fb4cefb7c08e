//! `flowwatch query`: runs a Logs Insights (or SQL) query on a server with StartQuery, waits
//! for it and prints every result row (GetQueryResults, every page) as a table, JSON or CSV.

use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::client::{Client, ClientArgs};
use crate::logs::emit;
use crate::logs::format::{now_ms, parse_since, table};

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The query, e.g. `filter action="REJECT" | stats count(*) by srcAddr`.
    query: String,
    /// Log group to query (repeat for several, up to 50).
    #[arg(long = "log-group", short = 'g', required = true)]
    log_groups: Vec<String>,
    /// Start of the time range: a duration before now (`15m`, `1h`, `2d`), RFC 3339 or epoch ms.
    #[arg(long, default_value = "1h")]
    since: String,
    /// End of the time range (same forms as --since); default now.
    #[arg(long)]
    until: Option<String>,
    /// Rows when the query has no `limit` command (StartQuery `limit`, 1 to 100,000).
    #[arg(long)]
    limit: Option<u64>,
    /// `CWLI` (Logs Insights, default) or `SQL`.
    #[arg(long, default_value = "CWLI")]
    language: String,
    /// How to print the rows.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartQuery<'a> {
    log_group_names: &'a [String],
    start_time: i64,
    end_time: i64,
    query_string: &'a str,
    query_language: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Started {
    query_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GetQueryResults<'a> {
    query_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct Field {
    field: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Results {
    status: String,
    #[serde(default)]
    results: Vec<Vec<Field>>,
    next_token: Option<String>,
}

pub(crate) fn run(args: QueryArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if let Err(error) = runtime.block_on(query(args)) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
    Ok(())
}

async fn query(args: QueryArgs) -> anyhow::Result<()> {
    let client = Client::from_args(&args.client)?;
    let now = now_ms();
    let start = parse_since(&args.since, now).map_err(anyhow::Error::msg)?;
    let end = match &args.until {
        Some(t) => parse_since(t, now).map_err(anyhow::Error::msg)?,
        None => now,
    };
    let started: Started = client
        .call(
            "StartQuery",
            &StartQuery {
                log_group_names: &args.log_groups,
                start_time: start.div_euclid(1000),
                end_time: end.div_euclid(1000),
                query_string: &args.query,
                query_language: &args.language,
                limit: args.limit,
            },
        )
        .await?;
    // Wait for the query to end, then read every page.
    let mut rows: Vec<Vec<Field>> = Vec::new();
    let mut next_token = None;
    loop {
        let page: Results = client
            .call(
                "GetQueryResults",
                &GetQueryResults {
                    query_id: &started.query_id,
                    next_token: next_token.clone(),
                },
            )
            .await?;
        match page.status.as_str() {
            "Scheduled" | "Running" => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            "Complete" => {}
            other => anyhow::bail!("query {} ended {other}", started.query_id),
        }
        rows.extend(page.results);
        match page.next_token {
            Some(token) if !token.is_empty() => next_token = Some(token),
            _ => break,
        }
    }
    print(&rows, args.format)
}

fn print(rows: &[Vec<Field>], format: Format) -> anyhow::Result<()> {
    // Columns in order of first appearance; `@ptr` only in JSON.
    let mut columns: Vec<&str> = Vec::new();
    for row in rows {
        for f in row {
            if (format == Format::Json || f.field != "@ptr") && !columns.contains(&f.field.as_str())
            {
                columns.push(&f.field);
            }
        }
    }
    let cell = |row: &[Field], column: &str| {
        row.iter()
            .find(|f| f.field == column)
            .map_or("", |f| f.value.as_str())
            .to_owned()
    };
    match format {
        Format::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|f| (f.field.clone(), f.value.clone().into()))
                        .collect()
                })
                .collect();
            emit(serde_json::to_string_pretty(&objects)?)
        }
        Format::Csv => {
            emit(columns.iter().map(|c| csv(c)).collect::<Vec<_>>().join(","))?;
            for row in rows {
                let line: Vec<String> = columns.iter().map(|c| csv(&cell(row, c))).collect();
                emit(line.join(","))?;
            }
            Ok(())
        }
        Format::Table => {
            if rows.is_empty() {
                return emit("no results");
            }
            let mut t = table(&columns);
            for row in rows {
                t.add_row(columns.iter().map(|c| cell(row, c)).collect::<Vec<_>>());
            }
            emit(&t)
        }
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::csv;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv("10.0.1.10"), "10.0.1.10");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
