//! `flowwatch capture --interface NAME [--nflog-group N]`: live capture on Linux. A capture
//! thread owns the sockets and the flow table (`flowwatch_capture::LiveCapture`), closes windows
//! on wall-clock time and hands their records to the delivery loop through a bounded queue; it
//! never waits on delivery: when the queue is full the records are dropped and replaced by one
//! SKIPDATA record per interface, sent with the next batch that fits. SIGINT/SIGTERM close every
//! open window and deliver it before exiting.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use flowwatch_capture::{LiveCapture, LiveConfig, Timestamp};
use flowwatch_flowlog::{FlowRecord, LogFormat, LogStatus};
use tokio::sync::mpsc;

use super::Sink;

/// Batches of records (one per window close) waiting for delivery.
const QUEUE: usize = 8;
/// Longest the capture thread waits for traffic before looking at the clock.
const TICK: Duration = Duration::from_millis(200);

fn clock() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(Timestamp::from)
        .unwrap_or_default()
}

/// Captures until interrupted.
pub(crate) fn run(config: LiveConfig, format: LogFormat, sink: Sink) -> anyhow::Result<()> {
    let names: Vec<String> = config
        .interfaces
        .iter()
        .map(|i| format!("{} ({})", i.name, i.eni))
        .collect();
    let nflog = config.nflog_group;
    let capture = LiveCapture::open(config).context("starting the live capture")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    // Before saying it runs, so that a signal sent at once is not lost.
    let signal = {
        let _in_runtime = runtime.enter();
        crate::serve::shutdown_signal()
    };
    eprintln!(
        "capturing on {} ({}){}",
        names.join(", "),
        if capture.uses_ring() {
            "TPACKET_V3 rings"
        } else {
            "recvfrom"
        },
        nflog.map_or(String::new(), |g| format!(
            "; packets logged to NFLOG group {g} are REJECT"
        ))
    );
    let (tx, rx) = mpsc::channel(QUEUE);
    let stop = Arc::new(AtomicBool::new(false));
    let thread = std::thread::Builder::new()
        .name("capture".into())
        .spawn({
            let stop = Arc::clone(&stop);
            move || capture_loop(capture, &tx, &stop)
        })
        .context("starting the capture thread")?;
    runtime.block_on(deliver_loop(rx, &stop, signal, &format, &sink));
    match thread.join() {
        Ok(result) => result,
        Err(_) => anyhow::bail!("the capture thread panicked"),
    }
}

/// Receives and counts until `stop`, sending each closed window's records without waiting.
fn capture_loop(
    mut capture: LiveCapture,
    tx: &mpsc::Sender<Vec<FlowRecord>>,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let mut clock = clock;
    let mut out = Vec::new();
    // Per interface, the span of records that could not be queued.
    let mut lost: BTreeMap<String, FlowRecord> = BTreeMap::new();
    while !stop.load(Ordering::Relaxed) {
        capture.poll(TICK, &mut clock)?;
        capture.advance(clock().secs, &mut out);
        if out.is_empty() {
            continue;
        }
        let mut batch: Vec<FlowRecord> = std::mem::take(&mut lost).into_values().collect();
        batch.append(&mut out);
        if let Err(mpsc::error::TrySendError::Full(batch)) = tx.try_send(batch) {
            for r in batch {
                add_lost(&mut lost, &r);
            }
        }
    }
    capture.finish(clock().secs, &mut out);
    let mut batch: Vec<FlowRecord> = std::mem::take(&mut lost).into_values().collect();
    batch.append(&mut out);
    let _ = tx.blocking_send(batch);
    let table = capture.table().stats();
    let live = capture.stats();
    eprintln!(
        "stopped: {} frames, {} packets, {} bytes ({} not IP, {} undecodable, {} not logged by AWS rules, {} dropped for lack of room, {} accepted packets superseded by a REJECT); {} kernel drops; NFLOG: {} packets ({} of other interfaces), {} overruns",
        table.frames,
        table.packets,
        table.bytes,
        table.not_ip,
        table.undecodable,
        table.not_logged,
        table.dropped_packets,
        table.superseded_packets,
        live.kernel_drops,
        live.nflog_packets,
        live.nflog_other,
        live.nflog_overruns,
    );
    Ok(())
}

/// Folds a record that could not be delivered into its interface's SKIPDATA record.
fn add_lost(lost: &mut BTreeMap<String, FlowRecord>, r: &FlowRecord) {
    let key = r
        .interface_id
        .as_ref()
        .map(|t| t.to_string())
        .unwrap_or_default();
    let (start, end) = (r.start.unwrap_or(0), r.end.unwrap_or(0));
    let skip = lost.entry(key).or_insert_with(|| FlowRecord {
        version: r.version,
        account_id: r.account_id.clone(),
        interface_id: r.interface_id.clone(),
        start: Some(start),
        end: Some(end),
        log_status: Some(LogStatus::SkipData),
        ..FlowRecord::default()
    });
    skip.start = skip.start.map(|s| s.min(start));
    skip.end = skip.end.map(|e| e.max(end));
}

/// Delivers batches until the capture thread is done; a signal asks it to stop.
async fn deliver_loop(
    mut rx: mpsc::Receiver<Vec<FlowRecord>>,
    stop: &AtomicBool,
    signal: impl std::future::Future<Output = ()>,
    format: &LogFormat,
    sink: &Sink,
) {
    let mut signal = std::pin::pin!(signal);
    let mut stopping = false;
    loop {
        tokio::select! {
            batch = rx.recv() => match batch {
                Some(batch) => deliver(batch, format, sink).await,
                None => return,
            },
            () = &mut signal, if !stopping => {
                stopping = true;
                stop.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Sends one batch on, per interface; a failed delivery is reported and the capture goes on.
async fn deliver(batch: Vec<FlowRecord>, format: &LogFormat, sink: &Sink) {
    let mut by_eni: BTreeMap<String, Vec<FlowRecord>> = BTreeMap::new();
    for r in batch {
        let eni = r
            .interface_id
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default();
        by_eni.entry(eni).or_default().push(r);
    }
    for (eni, mut records) in by_eni {
        if let Err(error) = sink.send(&eni, &mut records, format).await {
            eprintln!(
                "error: {} records of {eni} not delivered: {error:#}",
                records.len()
            );
        }
    }
}
