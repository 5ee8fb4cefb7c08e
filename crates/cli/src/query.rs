//! `flowwatch query`: runs a Logs Insights (or SQL) query on a server with StartQuery, waits
//! for it and prints every result row (GetQueryResults, every page) as a table, JSON or CSV;
//! or, with `--file`, runs it here over flow-log and CloudTrail files (no server), with a
//! progress bar while they are read. `stats ... by bin(...)` results also get a bar chart.

use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
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
    #[arg(
        long = "log-group",
        short = 'g',
        required_unless_present = "files",
        conflicts_with = "files"
    )]
    log_groups: Vec<String>,
    /// Query files instead of a server: a flow-log file (`.log.gz`, `.log`, `.parquet`), a
    /// CloudTrail file (`.json.gz`, `.json`) or a directory of them such as `./AWSLogs/`
    /// (repeat for several). Every file is a log stream; flow-log fields get their Insights
    /// names (`srcAddr`, `dstPort`, ...) from the file's header or columns. With
    /// `--language SQL` the files are one table, `logs`, every field a column:
    /// `SELECT "srcAddr", count(*) FROM logs GROUP BY "srcAddr"` (mixed-case names quoted).
    #[arg(long = "file", value_name = "PATH")]
    files: Vec<std::path::PathBuf>,
    /// Memory the query may use with --file (its input table, and separately its operators).
    #[arg(long, default_value = "4GiB", value_parser = parse_bytes, requires = "files")]
    memory: usize,
    /// Start of the time range: a duration before now (`15m`, `1h`, `2d`), RFC 3339 or epoch ms.
    /// Default: 1h on a server, everything in files.
    #[arg(long)]
    since: Option<String>,
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
    #[serde(default)]
    statistics: Statistics,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Statistics {
    #[serde(default)]
    records_scanned: f64,
    #[serde(default)]
    bytes_scanned: f64,
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
    let rows = if args.files.is_empty() {
        query_server(&args).await?
    } else {
        query_files(&args).await?
    };
    print(&rows, args.format)?;
    if args.format == Format::Table
        && let Some(chart) = bar_chart(&rows)
    {
        emit(chart)?;
    }
    Ok(())
}

/// One result row: `(field, value)` pairs.
type Row = Vec<(String, String)>;

/// A row as a JSON object whose members keep the row's order.
struct InOrder<'a>(&'a [(String, String)]);

impl serde::Serialize for InOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (field, value) in self.0 {
            map.serialize_entry(field, value)?;
        }
        map.end()
    }
}

async fn query_server(args: &QueryArgs) -> anyhow::Result<Vec<Row>> {
    let client = Client::from_args(&args.client)?;
    let now = now_ms();
    let start =
        parse_since(args.since.as_deref().unwrap_or("1h"), now).map_err(anyhow::Error::msg)?;
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
    // Wait for the query to end (a spinner shows what it has read), then read every page.
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message(format!("query {} scheduled", started.query_id));
    let mut rows: Vec<Vec<Field>> = Vec::new();
    let mut next_token = None;
    let mut polls = 0u32;
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
            "Scheduled" => {
                spinner.tick();
                polls += 1;
                tokio::time::sleep(poll_wait(polls)).await;
                continue;
            }
            "Running" => {
                spinner.set_message(format!(
                    "running: {:.0} records, {:.1} MB scanned",
                    page.statistics.records_scanned,
                    page.statistics.bytes_scanned / 1e6
                ));
                polls += 1;
                tokio::time::sleep(poll_wait(polls)).await;
                continue;
            }
            "Complete" => spinner.finish_and_clear(),
            other => {
                spinner.finish_and_clear();
                anyhow::bail!("query {} ended {other}", started.query_id)
            }
        }
        rows.extend(page.results);
        match page.next_token {
            Some(token) if !token.is_empty() => next_token = Some(token),
            _ => break,
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| row.into_iter().map(|f| (f.field, f.value)).collect())
        .collect())
}

/// How long to wait before polling GetQueryResults again: every 10 ms for the first second
/// (most queries end within it), every 50 ms for the next five, then every 200 ms.
fn poll_wait(polls: u32) -> Duration {
    Duration::from_millis(match polls {
        0..100 => 10,
        100..200 => 50,
        _ => 200,
    })
}

/// The table a SQL query over `--file` paths reads: every file's records.
const SQL_TABLE: &str = "logs";
/// Most columns that table has (as a log group's table on the server).
const MAX_SQL_FIELDS: usize = 1_000;

/// Runs the query here over `--file` paths.
async fn query_files(args: &QueryArgs) -> anyhow::Result<Vec<Row>> {
    use flowwatch_query::files::FileSet;

    let sql = args.language.eq_ignore_ascii_case("SQL");
    anyhow::ensure!(
        sql || args.language.eq_ignore_ascii_case("CWLI"),
        "--file runs Logs Insights (--language CWLI) or SQL (--language SQL) queries"
    );
    let compiled = if sql {
        None
    } else {
        Some(
            flowwatch_query::Compiled::new(&args.query)
                .map_err(|e| anyhow::anyhow!("MalformedQueryException: {}", e.message()))?,
        )
    };
    anyhow::ensure!(
        compiled.as_ref().is_none_or(|c| c.source().is_none()),
        "SOURCE chooses log groups on a server; with --file the files are what the query reads \
         (drop the SOURCE clause)"
    );
    let mut sets = Vec::new();
    for path in &args.files {
        let set = FileSet::find(path).map_err(|e| anyhow::anyhow!("{e}"))?;
        if set.skipped > 0 {
            eprintln!(
                "{}: skipped {} file(s) that are not .log.gz, .log, .parquet, .json.gz or .json",
                path.display(),
                set.skipped
            );
        }
        sets.push(set);
    }
    let total: u64 = sets.iter().map(FileSet::total_bytes).sum();
    let files: usize = sets.iter().map(|s| s.files.len()).sum();
    anyhow::ensure!(files > 0, "no flow-log or CloudTrail files found");
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} reading {pos}/{len} bytes of {msg} [{bar:30}] ({eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("{files} file(s)"));
    let now = now_ms();
    let start = match &args.since {
        Some(t) => parse_since(t, now).map_err(anyhow::Error::msg)?,
        None => i64::MIN / 2,
    };
    let end = match &args.until {
        Some(t) => parse_since(t, now).map_err(anyhow::Error::msg)?,
        None => i64::MAX / 2,
    };
    // A Logs Insights query reads its files on every core; its sorts then break ties by the
    // order before them, so results do not depend on which thread read what.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let params = flowwatch_query::Params {
        start_ms: start,
        end_ms: end,
        now_ms: now,
        default_limit: args.limit.unwrap_or(u64::MAX),
        stable_ties: threads > 1,
    };
    let output = match &compiled {
        Some(compiled) => {
            // The query runs while the files are read, holding a few batches of them at a time;
            // flow-log numbers are integers when every file is a flow log.
            let flow_types = sets
                .iter()
                .all(flowwatch_query::files::FileSet::flow_logs_only);
            let (input, streamed) = compiled
                .stream_partitioned(params, flow_types, threads)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let load = tokio::task::spawn_blocking(move || {
                let mut input = input;
                load_all(&sets, &mut input, threads, &bar)?;
                input.finish().map(drop)
            });
            let (loaded, output) = tokio::join!(load, streamed.run(args.memory));
            loaded?.map_err(|e| anyhow::anyhow!("{e}"))?;
            output
        }
        None => {
            // SQL: one table, `logs`, with every field of the files as a column.
            let mut fields: Vec<String> = Vec::new();
            for set in &sets {
                for name in set
                    .field_names(MAX_SQL_FIELDS)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                {
                    if fields.len() < MAX_SQL_FIELDS && !fields.contains(&name) {
                        fields.push(name);
                    }
                }
            }
            let mut input = flowwatch_query::InputBuilder::new(fields, args.memory);
            load_all(&sets, &mut input, 1, &bar).map_err(|e| anyhow::anyhow!("{e}"))?;
            let input = input.finish().map_err(|e| anyhow::anyhow!("{e}"))?;
            flowwatch_query::run_sql(
                &args.query,
                vec![(SQL_TABLE.to_owned(), input)],
                args.memory,
            )
            .await
        }
    }
    .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    eprintln!(
        "{} record(s) scanned, {} matched, {} row(s)",
        output.records_scanned,
        output.records_matched,
        output.rows.len()
    );
    Ok(output.rows)
}

/// Reads every file of `sets` into `input` on up to `threads` threads (a streamed input:
/// [`flowwatch_query::files::load`]), showing progress on `bar`, until the query needs no
/// more (a streamed input closed).
fn load_all(
    sets: &[flowwatch_query::files::FileSet],
    input: &mut flowwatch_query::InputBuilder,
    threads: usize,
    bar: &ProgressBar,
) -> flowwatch_query::Result<()> {
    match flowwatch_query::files::load(sets, input, threads, &|bytes| bar.inc(bytes)) {
        Ok(()) | Err(flowwatch_query::QueryError::InputClosed) => {}
        Err(e) => return Err(e),
    }
    bar.finish_and_clear();
    Ok(())
}

/// Parses a byte size: a number with an optional `KiB`/`MiB`/`GiB` (or `K`/`M`/`G`) suffix.
fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 512MiB or 4GiB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        _ => return Err(format!("{text:?}: unknown unit (use KiB, MiB or GiB)")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// A horizontal bar chart of a time series result (`stats ... by bin(...)`): the rows' first
/// field is a time, and exactly one other field is numeric in every row.
fn bar_chart(rows: &[Row]) -> Option<String> {
    const WIDTH: f64 = 50.0;
    let first = rows.first()?;
    let is_time =
        |v: &str| chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.3f").is_ok();
    let (time_field, _) = first.iter().find(|(_, v)| is_time(v))?;
    let numeric: Vec<&String> = first
        .iter()
        .filter(|(f, _)| f != time_field && f != "@ptr")
        .map(|(f, _)| f)
        .collect();
    let [value_field] = numeric.as_slice() else {
        return None;
    };
    let mut points = Vec::with_capacity(rows.len());
    for row in rows {
        let get = |name: &str| row.iter().find(|(f, _)| f == name).map(|(_, v)| v.as_str());
        let time = get(time_field).filter(|v| is_time(v))?;
        let value: f64 = get(value_field)?.parse().ok()?;
        points.push((time, value));
    }
    if points.len() < 2 {
        return None;
    }
    points.sort_by(|a, b| a.0.cmp(b.0));
    let max = points.iter().map(|p| p.1).fold(0.0_f64, f64::max);
    let mut out = format!("\n{value_field} by {time_field}\n");
    for (time, value) in points {
        let eighths = if max > 0.0 {
            (value.max(0.0) / max * WIDTH * 8.0).round() as usize
        } else {
            0
        };
        let mut bar = "█".repeat(eighths / 8);
        if eighths % 8 > 0 {
            bar.push(['▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8 - 1]);
        }
        out.push_str(&format!(
            "{time} │{bar} {}\n",
            flowwatch_query::format_double(value)
        ));
    }
    out.pop();
    Some(out)
}

fn print(rows: &[Row], format: Format) -> anyhow::Result<()> {
    // Columns in order of first appearance; `@ptr` only in JSON.
    let mut columns: Vec<&str> = Vec::new();
    for row in rows {
        for (field, _) in row {
            if (format == Format::Json || field != "@ptr") && !columns.contains(&field.as_str()) {
                columns.push(field);
            }
        }
    }
    let cell = |row: &[(String, String)], column: &str| {
        row.iter()
            .find(|(field, _)| field == column)
            .map_or("", |(_, value)| value.as_str())
            .to_owned()
    };
    match format {
        Format::Json => {
            // Each row an object with its fields in the query's order.
            let objects: Vec<InOrder<'_>> = rows.iter().map(|row| InOrder(row)).collect();
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
    use super::{bar_chart, csv, parse_bytes};

    fn row(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(f, v)| ((*f).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn a_time_series_gets_bars_scaled_to_its_largest_value() {
        let rows = vec![
            row(&[("bin(5m)", "2026-11-24 01:05:00.000"), ("bytes", "50")]),
            row(&[("bin(5m)", "2026-11-24 01:00:00.000"), ("bytes", "100")]),
        ];
        let chart = bar_chart(&rows).unwrap();
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines[1], "bytes by bin(5m)");
        assert!(lines[2].starts_with("2026-11-24 01:00:00.000 │"), "{chart}");
        assert_eq!(lines[2].matches('█').count(), 50);
        assert_eq!(lines[3].matches('█').count(), 25);
        assert!(lines[3].ends_with(" 50"));
        // Not a time series: no chart.
        assert!(bar_chart(&[row(&[("srcAddr", "10.0.0.1"), ("n", "3")])]).is_none());
        let two_values = vec![
            row(&[("t", "2026-11-24 01:00:00.000"), ("a", "1"), ("b", "2")]),
            row(&[("t", "2026-11-24 01:05:00.000"), ("a", "1"), ("b", "2")]),
        ];
        assert!(bar_chart(&two_values).is_none());
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_bytes("4GiB"), Ok(4 << 30));
        assert_eq!(parse_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_bytes("100"), Ok(100));
        assert!(parse_bytes("4TB").is_err());
        assert!(parse_bytes("lots").is_err());
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv("10.0.1.10"), "10.0.1.10");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
