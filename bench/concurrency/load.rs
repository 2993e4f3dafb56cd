//! A load client of its own (std only, so the same client measures every version of the server):
//! CLIENTS threads each GET their share of the paths in PATHS_FILE, one request at a time on
//! keep-alive-free connections, while BACKGROUND threads loop over the background URLs until the
//! clients are done. Bounded: at most REQUESTS requests per client and MAX_SECONDS in all.
//! Prints one JSON line with the latency percentiles of the client requests.
//!
//! usage: load ADDR PATHS_FILE CLIENTS REQUESTS MAX_SECONDS [BACKGROUND_PATH …]
//!
//! With LOAD_ACCEPT_ENCODING set (e.g. "gzip, deflate, br, zstd", what browsers send), every
//! request carries it as its Accept-Encoding header, so a server that compresses does so as it
//! would for a browser; unset, the requests are exactly as before (no Accept-Encoding).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The Accept-Encoding header line of every request (empty without LOAD_ACCEPT_ENCODING).
static ACCEPT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn get(addr: SocketAddr, path: &str) -> Result<u16, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(600))).map_err(|e| e.to_string())?;
    let accept = ACCEPT.get_or_init(|| match std::env::var("LOAD_ACCEPT_ENCODING") {
        Ok(encodings) if !encodings.is_empty() => format!("Accept-Encoding: {encodings}\r\n"),
        _ => String::new(),
    });
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{accept}Connection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let status = answer.get(9..12).and_then(|s| std::str::from_utf8(s).ok()).and_then(|s| s.parse().ok());
    status.ok_or_else(|| "no HTTP status".to_string())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: load ADDR PATHS_FILE CLIENTS REQUESTS MAX_SECONDS [BACKGROUND_PATH …]");
        std::process::exit(2);
    }
    let addr: SocketAddr = args[1].parse().expect("ADDR such as 127.0.0.1:8080");
    assert!(addr.ip().is_loopback(), "the load client talks to 127.0.0.1 only");
    let paths: Arc<Vec<String>> = Arc::new(
        std::fs::read_to_string(&args[2]).expect("PATHS_FILE").lines().filter(|l| !l.is_empty()).map(String::from).collect(),
    );
    let clients: usize = args[3].parse().expect("CLIENTS");
    let requests: usize = args[4].parse().expect("REQUESTS");
    let deadline = Instant::now() + Duration::from_secs(args[5].parse().expect("MAX_SECONDS"));
    let background: Vec<String> = args[6..].to_vec();

    let done = Arc::new(AtomicBool::new(false));
    let background_done = Arc::new(AtomicUsize::new(0));
    let background_threads: Vec<_> = background
        .iter()
        .cloned()
        .map(|path| {
            let (done, count) = (Arc::clone(&done), Arc::clone(&background_done));
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
                    let start = Instant::now();
                    statuses.push((get(addr, &path), start.elapsed().as_secs_f64()));
                    count.fetch_add(1, Ordering::SeqCst);
                }
                (path, statuses)
            })
        })
        .collect();
    // Let the background work start before the clients measure.
    std::thread::sleep(Duration::from_millis(300));

    let started = Instant::now();
    let client_threads: Vec<_> = (0..clients)
        .map(|c| {
            let paths = Arc::clone(&paths);
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                for i in 0..requests {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let path = &paths[(c * requests + i) % paths.len()];
                    let start = Instant::now();
                    match get(addr, path) {
                        Ok(200) => latencies.push(start.elapsed().as_secs_f64() * 1000.0),
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in client_threads {
        let (l, e) = t.join().unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    done.store(true, Ordering::SeqCst);
    let mut background_report = Vec::new();
    for t in background_threads {
        let (path, statuses) = t.join().unwrap();
        let ok = statuses.iter().filter(|(s, _)| matches!(s, Ok(200))).count();
        let slowest = statuses.iter().map(|(_, t)| *t).fold(0.0, f64::max);
        background_report.push(format!(
            "{{\"path\": {path:?}, \"requests\": {}, \"ok\": {ok}, \"slowest_s\": {slowest:.2}}}",
            statuses.len()
        ));
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{{\"clients\": {clients}, \"requests\": {}, \"errors\": {errors}, \"seconds\": {elapsed:.2}, \"p50_ms\": {:.3}, \"p95_ms\": {:.3}, \"p99_ms\": {:.3}, \"max_ms\": {:.3}, \"background\": [{}]}}",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        background_report.join(", ")
    );
}
