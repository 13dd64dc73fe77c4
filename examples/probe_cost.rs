//! What the first-request probes cost while they wait: N probes poll N closed ports on
//! 127.0.0.1 for a few seconds (as N replicas' probes do while their containers start), and the
//! process's CPU time (user + system, `getrusage`) is printed as a share of one core.
//!
//!   cargo run --release --example probe_cost -- [PROBES] [SECONDS]
use std::time::{Duration, Instant};

use coldbench::measure::probe::{free_port, wait_ready, ProbeSpec};

fn main() {
    let mut args = std::env::args().skip(1);
    let probes: usize = args
        .next()
        .map_or(24, |a| a.parse().expect("PROBES: a count"));
    let seconds: f64 = args
        .next()
        .map_or(3.0, |a| a.parse().expect("SECONDS: a number"));
    let timeout = Duration::from_secs_f64(seconds);
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let threads: Vec<_> = (0..probes)
        .map(|_| {
            let spec = ProbeSpec {
                port: free_port().expect("a free port"),
                path: "/".into(),
                status: 200,
                timeout,
                cancel: None,
            };
            std::thread::spawn(move || wait_ready(&spec).expect_err("nothing listens"))
        })
        .collect();
    let attempts: Vec<String> = threads
        .into_iter()
        .map(|t| t.join().expect("probe thread").to_string())
        .collect();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "{probes} probes for {wall:.2} s: {cpu:.3} s of CPU, {:.1} % of a core",
        100.0 * cpu / wall
    );
    println!("first probe's error: {}", attempts[0]);
}

/// User + system CPU time of this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: `usage` is a valid out-parameter for getrusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
