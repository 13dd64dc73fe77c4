//! The terminal summary: per variant, p50/p95/max of each phase beside size and floor, rendered
//! from [`crate::analysis::Analysis`].

use std::fmt::Write as _;
use std::time::Duration;

use crate::analysis::{self, Analysis, BurstStats, FloorKind, VariantAnalysis, Warning};
use crate::results::{Phase, RunRecord, VariantRecord};
use crate::units::{format_bytes, format_duration};

fn us(v: u64) -> String {
    format_duration(Duration::from_micros(v))
}

fn opt_us(v: Option<u64>) -> String {
    v.map_or_else(|| "—".to_string(), us)
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `SIMULATED (calibrated on …)`: the mark's first word in capitals, the rest as written.
fn shout_first_word(mark: &str) -> String {
    match mark.split_once(' ') {
        Some((first, rest)) => format!("{} {rest}", first.to_uppercase()),
        None => mark.to_uppercase(),
    }
}

/// Renders the run's summary table as plain text.
pub fn render(record: &RunRecord) -> String {
    render_analyzed(record, &analysis::analyze(record))
}

/// Renders the summary table of `record` from its analysis.
pub fn render_analyzed(record: &RunRecord, analysis: &Analysis) -> String {
    let mut out = String::new();
    if let Some(mark) = &analysis.context.simulated {
        let _ = writeln!(
            out,
            "{}: every figure below comes from the cold-start model, not a measurement\n",
            shout_first_word(mark)
        );
    }
    for (v, a) in record.variants.iter().zip(&analysis.variants) {
        heading(&mut out, record, v, a);
        if a.phases.is_empty() {
            let _ = writeln!(out, "  no successful samples");
        } else {
            phases(&mut out, a);
            probe_line(&mut out, a);
        }
        if let Some(b) = &a.burst {
            burst_lines(&mut out, b);
        }
        for w in analysis
            .warnings
            .iter()
            .filter(|w| w.variant() == Some(&v.name))
        {
            warning_line(&mut out, w);
        }
        fault_lines(&mut out, record, &v.name);
        out.push('\n');
    }
    if analysis.warnings.contains(&Warning::Interrupted) {
        let _ = writeln!(out, "warning: {}", Warning::Interrupted.text());
    }
    if let Some(c) = &analysis.comparison {
        let _ = writeln!(
            out,
            "{} is {:.1}× faster than {} at cold start (p50 total {} vs {})",
            c.fastest,
            c.times,
            c.slowest,
            us(c.fastest_p50_us),
            us(c.slowest_p50_us)
        );
    }
    out
}

/// The variant's two heading lines: size, samples, wire floor; source and anatomy.
fn heading(out: &mut String, record: &RunRecord, v: &VariantRecord, a: &VariantAnalysis) {
    let layers = v.image.layers.len();
    let samples = a.counts.measured;
    let _ = write!(
        out,
        "{}  {} compressed in {layers} layer{} · {samples} sample{}",
        v.name,
        format_bytes(v.image.compressed_size),
        plural(layers),
        plural(samples),
    );
    match (a.wire_floor_us, &record.network.bandwidth) {
        (Some(floor), Some(bw)) => {
            let _ = writeln!(out, " · wire floor {} at {bw}", us(floor));
        }
        _ => {
            let _ = writeln!(out, " · unlimited bandwidth");
        }
    }
    let _ = write!(out, "  {}", v.source);
    if let Some(an) = &v.anatomy {
        let _ = write!(
            out,
            " · {} uncompressed · {}",
            format_bytes(an.uncompressed_size),
            crate::report::anatomy::flags(an)
        );
    }
    out.push('\n');
}

/// p50/p95/max per phase; × floor beside pull, the download p50 under it.
fn phases(out: &mut String, a: &VariantAnalysis) {
    let _ = writeln!(
        out,
        "  {:<15}{:>10}{:>11}{:>11}",
        "phase", "p50", "p95", "max"
    );
    for (&phase, s) in &a.phases {
        let _ = write!(
            out,
            "  {:<15}{:>10}{:>11}{:>11}",
            phase_label(phase),
            us(s.p50),
            us(s.p95),
            us(s.max)
        );
        if let (Phase::Pull, Some(x), Some(floor)) = (phase, a.pull_x_floor, a.pull_floor) {
            let which = match floor.kind {
                FloorKind::Wire => "floor",
                FloorKind::Burst => "burst floor",
            };
            let _ = write!(out, "   {x:.2}× {which}");
        }
        out.push('\n');
        if let (Phase::Pull, Some(d)) = (phase, a.download_p50_us) {
            let _ = writeln!(
                out,
                "    {:<13}{:>10}   (all layers downloaded; the rest of pull is extraction)",
                "download",
                us(d)
            );
        }
    }
}

/// How precisely the first request was located: the probe's gap before its answering attempt.
fn probe_line(out: &mut String, a: &VariantAnalysis) {
    if let Some(g) = &a.probe_gaps {
        let _ = writeln!(
            out,
            "    {:<13}{:>10}{:>22}   (probe resolution, {} sample{})",
            "probe gap",
            us(g.p50_us),
            us(g.max_us),
            g.samples,
            plural(g.samples)
        );
    }
}

/// Capacity over time: p50 over the measured bursts, full capacity against the burst's floor.
fn burst_lines(out: &mut String, b: &BurstStats) {
    let _ = writeln!(
        out,
        "  burst: {} replicas on {} node(s), {} burst(s) · p50 time to capacity:",
        b.replicas, b.nodes, b.bursts
    );
    let floor = match (b.floor_us, b.full_x_floor) {
        (Some(f), Some(x)) => format!("   {x:.2}× burst floor ({})", us(f)),
        (Some(f), None) => format!("   (burst floor {})", us(f)),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "    first ready {} · 50 % {} · full {}{floor}",
        opt_us(b.first_ready_p50_us),
        opt_us(b.half_ready_p50_us),
        opt_us(b.full_ready_p50_us),
    );
    let _ = writeln!(
        out,
        "    capacity lost vs instant scale-out: {:.1} replica-seconds (mean)",
        b.capacity_lost_mean
    );
    if b.failed_replicas > 0 {
        let _ = writeln!(
            out,
            "    {} replica{} failed: never ready, counted as lost to the end of the burst",
            b.failed_replicas,
            plural(b.failed_replicas)
        );
    }
}

fn warning_line(out: &mut String, w: &Warning) {
    match w {
        Warning::Failed { count, .. } => {
            let _ = writeln!(out, "  {count} failed sample(s): see samples.csv");
        }
        Warning::NotCold { count, .. } => {
            let _ = writeln!(
                out,
                "  warning: {count} sample(s) moved fewer or more bytes than the image (not cold): excluded from the summaries"
            );
        }
        Warning::Interrupted => {}
    }
}

/// Longest failure reason shown in the table, in characters.
const MAX_REASON_CHARS: usize = 120;

/// A failure's reason without the image reference it starts with (`pull HOST/REPO:TAG: …`),
/// clipped: failures of one cause read alike across samples and runs.
pub fn failure_reason(phase: Phase, message: &str) -> String {
    let reason = match message.strip_prefix("pull ") {
        Some(rest) => rest.split_once(": ").map_or(rest, |(_, why)| why),
        None => message,
    };
    let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
    format!("{}: {reason}", phase_label(phase))
}

/// Per variant: its failures by reason, and what the registry saw (requests, retries, faults)
/// when anything was retried or faulted. Bursts count each node's pull once.
fn fault_lines(out: &mut String, record: &RunRecord, variant: &str) {
    let samples: Vec<_> = record
        .samples
        .iter()
        .filter(|s| s.variant == variant && !s.warmup)
        .collect();
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &samples {
        if let crate::results::Outcome::Failed { phase, message } = &s.outcome {
            *reasons.entry(failure_reason(*phase, message)).or_default() += 1;
        }
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (reason, n) in reasons {
        let _ = writeln!(out, "  failures: {n}× {reason}");
    }
    let mut seen = std::collections::HashSet::new();
    let mut total = crate::registry::RegistryCounts::default();
    for s in &samples {
        let Some(c) = &s.registry else { continue };
        if s.burst.is_some() && !seen.insert((s.burst, s.node)) {
            continue;
        }
        total.requests += c.requests;
        total.retries += c.retries;
        for (k, n) in &c.faults {
            *total.faults.entry(*k).or_default() += n;
        }
    }
    if total.retries == 0 && total.faults.is_empty() {
        return;
    }
    let faults: Vec<String> = total
        .faults
        .iter()
        .map(|(k, n)| format!("{} {n}", k.name()))
        .collect();
    let faults = if faults.is_empty() {
        "none".to_string()
    } else {
        faults.join(", ")
    };
    let _ = writeln!(
        out,
        "  registry: {} requests, {} retries, faults: {faults}",
        total.requests, total.retries
    );
}

#[cfg(test)]
mod fault_tests {
    use super::*;

    #[test]
    fn reasons_drop_the_reference() {
        assert_eq!(
            failure_reason(
                Phase::Pull,
                "pull 127.0.0.1:40719/coldbench/one:latest: Docker responded with status code 500: toomanyrequests: limit"
            ),
            "pull: Docker responded with status code 500: toomanyrequests: limit"
        );
        assert_eq!(failure_reason(Phase::Start, "boom"), "start: boom");
    }
}
