//! pcap → flow-log records as `flowwatch capture --pcap FILE --stdout` makes them, without the
//! CLI (for `bench/capture.sh`-style measurements of the capture crate alone):
//!
//! ```sh
//! pcap_records FILE [--eni ENI] [--account ID] [--interval 60|600] [--log-format FMT]
//!              [--local-addr ADDR]...
//! ```
//!
//! The same library calls as the CLI (`read_capture_file_into`, each window's records sorted by
//! start as it closes, encoded in the log format), one line per record to standard output through one buffer; the counts go
//! to standard error as the CLI writes them.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use flowwatch_capture::{AggregationInterval, Options, read_capture_file_into};
use flowwatch_flowlog::{LogFormat, Token};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut pcap: Option<PathBuf> = None;
    let mut eni = "eni-0123456789abcdef0".to_owned();
    let mut account = "123456789012".to_owned();
    let mut interval = 600;
    let mut format = LogFormat::default();
    let mut local_addrs: Vec<IpAddr> = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--eni" => eni = value()?,
            "--account" => account = value()?,
            "--interval" => interval = value()?.parse()?,
            "--log-format" => format = LogFormat::parse(&value()?)?,
            "--local-addr" => local_addrs.push(value()?.parse()?),
            _ if pcap.is_none() && !arg.starts_with("--") => pcap = Some(arg.into()),
            _ => return Err(format!("unexpected argument {arg:?}").into()),
        }
    }
    let pcap = pcap.ok_or("usage: pcap_records FILE [--eni ENI] [--log-format FMT] ...")?;
    let mut options = Options::new(Token::new(&eni)?, Token::new(&account)?);
    options.interval = AggregationInterval::from_secs(interval)?;
    options.local_addrs = local_addrs;
    options.version = format.version();

    let mut last = 0;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut line = String::new();
    let mut written = 0;
    let summary = read_capture_file_into(
        &pcap,
        &options,
        &mut |p| last = p.bytes_read,
        &mut |batch| {
            batch.sort_by_key(|r| r.start.unwrap_or(0));
            written += batch.len();
            for record in batch.iter() {
                line.clear();
                format.encode_into(record, &mut line);
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
            Ok(())
        },
    )?;
    out.flush()?;
    let stats = &summary.stats;
    eprintln!(
        "{}: {} frames, {} packets, {} bytes -> {written} records for {eni} ({} not IP, {} undecodable, {} not logged by AWS rules, {} dropped, {} late; {last} bytes read)",
        pcap.display(),
        stats.frames,
        stats.packets,
        stats.bytes,
        stats.not_ip,
        stats.undecodable,
        stats.not_logged,
        stats.dropped_packets,
        stats.late,
    );
    Ok(())
}
