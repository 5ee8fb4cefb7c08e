//! SIGKILL at random moments under concurrent writers: every acknowledged event survives,
//! exactly once, and nothing that was never sent appears.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::support::SignExt;
use crate::support::{Server, now_ms};

const WRITERS: usize = 4;
const CYCLES: usize = 8;

async fn call(
    client: &reqwest::Client,
    endpoint: &str,
    op: &str,
    body: &Value,
) -> Result<Value, String> {
    let resp = client
        .post(endpoint)
        .header("x-amz-target", format!("Logs_20140328.{op}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .signed()
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

#[derive(Default)]
struct Ledger {
    /// Messages of acknowledged batches.
    acked: HashSet<String>,
    /// Messages of batches sent but not answered (may or may not have become durable).
    in_doubt: HashSet<String>,
}

async fn writer(endpoint: String, id: usize, cycle: usize, ledger: Arc<Mutex<Ledger>>) {
    let client = reqwest::Client::new();
    let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
    for batch in 0.. {
        let size = rng.random_range(1..200);
        let ts = now_ms();
        let msgs: Vec<String> = (0..size)
            .map(|i| {
                format!(
                    "w{id}-c{cycle}-b{batch}-e{i} {}",
                    "x".repeat(rng.random_range(0..300))
                )
            })
            .collect();
        let events: Vec<Value> = msgs
            .iter()
            .map(|m| json!({"timestamp": ts, "message": m}))
            .collect();
        ledger
            .lock()
            .expect("ledger")
            .in_doubt
            .extend(msgs.iter().cloned());
        let body = json!({"logGroupName": "crash", "logStreamName": format!("w{id}"), "logEvents": events});
        match call(&client, &endpoint, "PutLogEvents", &body).await {
            Ok(_) => {
                let mut l = ledger.lock().expect("ledger");
                for m in msgs {
                    l.in_doubt.remove(&m);
                    l.acked.insert(m);
                }
            }
            // The server died under us: the batch stays in doubt, the writer stops.
            Err(_) => return,
        }
    }
}

async fn read_stream(endpoint: &str, stream: &str) -> Vec<(i64, String)> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"logGroupName": "crash", "logStreamName": stream, "startFromHead": true, "limit": 1000});
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let page = call(&client, endpoint, "GetLogEvents", &body)
            .await
            .expect("get");
        for e in page["events"].as_array().expect("events") {
            out.push((
                e["timestamp"].as_i64().expect("ts"),
                e["message"].as_str().expect("msg").to_owned(),
            ));
        }
        let next = page["nextForwardToken"].as_str().expect("token").to_owned();
        if token.as_deref() == Some(next.as_str()) {
            return out;
        }
        token = Some(next);
    }
}

#[test]
fn sigkill_under_concurrent_writers_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    // Small flush threshold so kills also land during flushes and WAL truncation.
    let config = tmp.path().join("flowwatch.toml");
    // Rate limits off: the raw client here does not retry throttled calls as SDKs do, and
    // reading everything back takes hundreds of GetLogEvents pages.
    std::fs::write(
        &config,
        "flush_bytes = 300000\nflush_age_secs = 1\nrate_limit_scale = 0\n",
    )
    .expect("config");
    let config = config.display().to_string();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut rng = rand::rng();
    for cycle in 0..CYCLES {
        let mut server = Server::start_in(&dir, &["--config", &config]);
        let endpoint = server.endpoint.clone();
        if cycle == 0 {
            rt.block_on(async {
                call(
                    &reqwest::Client::new(),
                    &endpoint,
                    "CreateLogGroup",
                    &json!({"logGroupName": "crash"}),
                )
                .await
                .expect("group");
                for w in 0..WRITERS {
                    call(
                        &reqwest::Client::new(),
                        &endpoint,
                        "CreateLogStream",
                        &json!({"logGroupName": "crash", "logStreamName": format!("w{w}")}),
                    )
                    .await
                    .expect("stream");
                }
            });
        }
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| rt.spawn(writer(endpoint.clone(), w, cycle, ledger.clone())))
            .collect();
        std::thread::sleep(Duration::from_millis(rng.random_range(200..1500)));
        server.kill();
        rt.block_on(async {
            for t in tasks {
                let _ = t.await;
            }
        });
    }
    let server = Server::start_in(&dir, &["--config", &config]);
    let ledger = ledger.lock().expect("ledger");
    assert!(
        ledger.acked.len() > 1000,
        "the writers wrote too little: {}",
        ledger.acked.len()
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    rt.block_on(async {
        for w in 0..WRITERS {
            let events = read_stream(&server.endpoint, &format!("w{w}")).await;
            assert!(
                events.windows(2).all(|p| p[0].0 <= p[1].0),
                "stream w{w} is out of order"
            );
            for (_, m) in events {
                *seen.entry(m).or_default() += 1;
            }
        }
    });
    let short = |m: &String| m.split(' ').next().unwrap_or_default().to_owned();
    let lost: Vec<String> = ledger
        .acked
        .iter()
        .filter(|m| !seen.contains_key(*m))
        .take(5)
        .map(short)
        .collect();
    assert!(lost.is_empty(), "acknowledged events lost: {lost:?}");
    let dupes: Vec<String> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .take(5)
        .map(|(m, _)| short(m))
        .collect();
    assert!(dupes.is_empty(), "events stored twice: {dupes:?}");
    let unknown: Vec<String> = seen
        .keys()
        .filter(|m| !ledger.acked.contains(*m) && !ledger.in_doubt.contains(*m))
        .take(5)
        .map(short)
        .collect();
    assert!(unknown.is_empty(), "events nobody sent: {unknown:?}");
}
