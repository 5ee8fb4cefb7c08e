//! Sends UDP datagrams as fast as it can, for `bench/live.sh`: `blast DST:PORT SECONDS
//! [PAYLOAD_BYTES] [THREADS] [FLOWS_PER_THREAD]`. Prints what it sent.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: blast DST:PORT SECONDS [PAYLOAD_BYTES] [THREADS] [FLOWS_PER_THREAD]";
    let dst: SocketAddr = args.first().ok_or(usage)?.parse()?;
    let secs: f64 = args.get(1).ok_or(usage)?.parse()?;
    let payload: usize = args.get(2).map_or(Ok(64), |a| a.parse())?;
    let threads: usize = args.get(3).map_or(Ok(1), |a| a.parse())?;
    let flows: usize = args.get(4).map_or(Ok(16), |a| a.parse())?;
    let duration = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || -> std::io::Result<(u64, u64)> {
                // One socket per flow (its own source port), taken in turn.
                let sockets = (0..flows.max(1))
                    .map(|_| {
                        let s = UdpSocket::bind(("0.0.0.0", 0))?;
                        s.connect(dst)?;
                        Ok(s)
                    })
                    .collect::<std::io::Result<Vec<_>>>()?;
                let buf = vec![0x5a; payload];
                let (mut sent, mut failed) = (0u64, 0u64);
                'outer: loop {
                    for s in &sockets {
                        for _ in 0..64 {
                            match s.send(&buf) {
                                Ok(_) => sent += 1,
                                Err(_) => failed += 1,
                            }
                        }
                        if start.elapsed() >= duration {
                            break 'outer;
                        }
                    }
                }
                Ok((sent, failed))
            })
        })
        .collect();
    let (mut sent, mut failed) = (0, 0);
    for h in handles {
        let (s, f) = h.join().map_err(|_| "a sender thread panicked")??;
        sent += s;
        failed += f;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "sent {sent} datagrams in {elapsed:.2} s ({:.0}/s), {failed} sends failed",
        sent as f64 / elapsed
    );
    Ok(())
}
