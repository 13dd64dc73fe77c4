//! The terminal summary: per variant, p50/p95/max of each phase beside size and wire floor.

use std::fmt::Write as _;
use std::time::Duration;

use crate::results::RunRecord;
use crate::results::{Phase, Summary};
use crate::units::{format_bytes, format_duration};

fn us(v: u64) -> String {
    format_duration(Duration::from_micros(v))
}

fn phase_label(p: Phase) -> &'static str {
    match p {
        Phase::Pull => "pull",
        Phase::Create => "create",
        Phase::Start => "start",
        Phase::FirstRequest => "first request",
        Phase::Total => "total",
    }
}

/// Renders the run's summary table as plain text.
pub fn render(record: &RunRecord) -> String {
    let mut out = String::new();
    for v in &record.variants {
        let samples = record
            .samples
            .iter()
            .filter(|s| s.variant == v.name && !s.warmup)
            .count();
        let layers = v.image.layers.len();
        let _ = write!(
            out,
            "{}  {} compressed in {layers} layer{} · {samples} sample{}",
            v.name,
            format_bytes(v.image.compressed_size),
            if layers == 1 { "" } else { "s" },
            if samples == 1 { "" } else { "s" },
        );
        match (v.wire_floor_us, &record.network.bandwidth) {
            (Some(floor), Some(bw)) => {
                let _ = writeln!(out, " · wire floor {} at {bw}", us(floor));
            }
            _ => {
                let _ = writeln!(out, " · unlimited bandwidth");
            }
        }
        let _ = write!(out, "  {}", v.source);
        if let Some(a) = &v.anatomy {
            let _ = write!(
                out,
                " · {} uncompressed · {}",
                format_bytes(a.uncompressed_size),
                crate::image::anatomy::flags(a)
            );
        }
        out.push('\n');
        let Some(summaries) = record.summaries.get(&v.name) else {
            let _ = writeln!(out, "  no successful samples\n");
            continue;
        };
        let _ = writeln!(
            out,
            "  {:<15}{:>10}{:>11}{:>11}",
            "phase", "p50", "p95", "max"
        );
        for phase in Phase::ALL {
            let Some(s) = summaries.get(phase.name()) else {
                continue;
            };
            let _ = write!(
                out,
                "  {:<15}{:>10}{:>11}{:>11}",
                phase_label(phase),
                us(s.p50),
                us(s.p95),
                us(s.max)
            );
            if let (Phase::Pull, Some(floor)) = (phase, v.wire_floor_us) {
                if floor > 0 {
                    let _ = write!(out, "   {:.2}× floor", s.p50 as f64 / floor as f64);
                }
            }
            out.push('\n');
            if phase == Phase::Pull {
                if let Some(d) = download_median(record, &v.name) {
                    let _ = writeln!(out, "    {:<13}{:>10}   (all layers downloaded; the rest of pull is extraction)", "download", us(d));
                }
            }
        }
        if let Some(line) = burst_lines(record, &v.name) {
            out.push_str(&line);
        }
        let failed = record
            .samples
            .iter()
            .filter(|s| s.variant == v.name && !s.is_ok())
            .count();
        if failed > 0 {
            let _ = writeln!(out, "  {failed} failed sample(s): see samples.csv");
        }
        let warm = record
            .samples
            .iter()
            .filter(|s| s.variant == v.name && s.is_ok() && !s.cold)
            .count();
        if warm > 0 {
            let _ = writeln!(
                out,
                "  warning: {warm} sample(s) moved fewer or more bytes than the image: not cold"
            );
        }
        out.push('\n');
    }
    if let Some(line) = comparison(record) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Median of a list of µs values.
fn median(mut v: Vec<u64>) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[(v.len() - 1) / 2])
}

/// Capacity over time for the variant's bursts: time to first, 50 % and full capacity (p50
/// over repetitions), with the physics floor beside full capacity.
fn burst_lines(record: &RunRecord, variant: &str) -> Option<String> {
    let bursts: Vec<_> = record
        .bursts
        .iter()
        .filter(|b| b.variant == variant && !b.warmup)
        .collect();
    let first = bursts.first()?;
    let pick = |f: fn(&crate::results::BurstRecord) -> Option<u64>| {
        median(bursts.iter().filter_map(|b| f(b)).collect()).map_or("—".to_string(), us)
    };
    let lost: Vec<f64> = bursts.iter().map(|b| b.capacity_seconds_lost).collect();
    let mut out = format!(
        "  burst: {} replicas on {} node(s), {} burst(s) · p50 time to capacity:\n",
        first.replicas,
        first.nodes,
        bursts.len()
    );
    let _ = writeln!(
        out,
        "    first ready {} · 50 % {} · full {}{}",
        pick(|b| b.first_ready_us),
        pick(|b| b.half_ready_us),
        pick(|b| b.full_ready_us),
        first
            .floor_us
            .map_or(String::new(), |f| format!("   (floor {})", us(f)))
    );
    let _ = writeln!(
        out,
        "    capacity lost vs instant scale-out: {:.1} replica-seconds (mean)",
        lost.iter().sum::<f64>() / lost.len().max(1) as f64
    );
    Some(out)
}

/// Median over successful samples of the time the last layer finished downloading.
fn download_median(record: &RunRecord, variant: &str) -> Option<u64> {
    let mut done: Vec<u64> = record
        .samples
        .iter()
        .filter(|s| s.variant == variant && s.is_ok() && !s.warmup)
        .filter_map(|s| {
            s.layers
                .iter()
                .map(|l| l.download_complete_us)
                .max()
                .flatten()
        })
        .collect();
    if done.is_empty() {
        return None;
    }
    done.sort_unstable();
    Some(done[(done.len() - 1) / 2])
}

/// "b is 12.3× faster than a at cold start" over p50 total, when there are two or more variants.
fn comparison(record: &RunRecord) -> Option<String> {
    let totals: Vec<(&str, Summary)> = record
        .variants
        .iter()
        .filter_map(|v| {
            let s = record.summaries.get(&v.name)?.get(Phase::Total.name())?;
            Some((v.name.as_str(), *s))
        })
        .collect();
    if totals.len() < 2 {
        return None;
    }
    let fastest = totals.iter().min_by_key(|(_, s)| s.p50)?;
    let slowest = totals.iter().max_by_key(|(_, s)| s.p50)?;
    if fastest.1.p50 == 0 {
        return None;
    }
    Some(format!(
        "{} is {:.1}× faster than {} at cold start (p50 total {} vs {})",
        fastest.0,
        slowest.1.p50 as f64 / fastest.1.p50 as f64,
        slowest.0,
        us(fastest.1.p50),
        us(slowest.1.p50)
    ))
}
