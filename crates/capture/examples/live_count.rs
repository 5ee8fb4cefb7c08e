//! Counts live traffic with [`LiveCapture`] for `bench/live.sh`: `live_count INTERFACE SECONDS`.
//! Reads through the TPACKET_V3 ring unless `FLOWWATCH_CAPTURE_RING=off`. Prints the frames
//! and packets counted, the kernel's drops, the records, and the process's CPU time (user and
//! system, from `/proc/self/stat`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flowwatch_capture::{
    AggregationInterval, LiveCapture, LiveConfig, LiveInterface, TableConfig, Timestamp,
};
use flowwatch_flowlog::Token;

fn clock() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(Timestamp::from)
        .unwrap_or_default()
}

/// User and system CPU seconds of this process so far.
fn cpu() -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command (in parentheses, which may hold spaces): state is field 3,
    // utime and stime fields 14 and 15, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').ok_or("odd /proc/self/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> Result<f64, Box<dyn std::error::Error>> {
        Ok(fields
            .get(i)
            .ok_or("short /proc/self/stat")?
            .parse::<f64>()?
            / 100.0)
    };
    Ok((tick(11)?, tick(12)?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: live_count INTERFACE SECONDS";
    let name = args.first().ok_or(usage)?.clone();
    let secs: f64 = args.get(1).ok_or(usage)?.parse()?;
    let config = LiveConfig {
        interfaces: vec![LiveInterface {
            name,
            eni: Token::new("eni-0123456789abcdef0")?,
            account: Token::new("123456789010")?,
            local_addrs: Vec::new(),
        }],
        nflog_group: None,
        table: TableConfig {
            interval: AggregationInterval::OneMinute,
            ..TableConfig::default()
        },
        nodata: false,
    };
    let mut capture = LiveCapture::open(config)?;
    let ring = capture.uses_ring();
    let (user0, sys0) = cpu()?;
    let start = Instant::now();
    let mut clock = clock;
    let mut records = Vec::new();
    let mut count = 0usize;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        capture.poll(Duration::from_millis(200), &mut clock)?;
        capture.advance(clock().secs, &mut records);
        count += records.len();
        records.clear();
    }
    capture.finish(clock().secs, &mut records);
    count += records.len();
    let (user1, sys1) = cpu()?;
    let (user, sys) = (user1 - user0, sys1 - sys0);
    let table = capture.table().stats();
    let drops = capture.stats().kernel_drops;
    let per_million = if table.frames > 0 {
        (user + sys) / table.frames as f64 * 1e6
    } else {
        0.0
    };
    println!(
        "ring={ring} frames={} packets={} kernel_drops={drops} records={count} cpu_user={user:.2}s cpu_sys={sys:.2}s cpu_per_million_frames={per_million:.3}s",
        table.frames, table.packets,
    );
    Ok(())
}
