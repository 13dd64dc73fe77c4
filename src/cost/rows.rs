//! The figures, row by row: traffic and money, CI minutes, and the capacity a burst misses.

use super::burst::{burst_timing, BurstTiming};
use super::formulas::*;
use super::input::NetworkPath;
use super::load::Loaded;
use super::result::{Figure, Provenance, COST_COMPONENTS};

/// The figures being built.
pub(super) struct Rows(pub(super) Vec<Figure>);

impl Rows {
    fn push(
        &mut self,
        key: &'static str,
        label: &'static str,
        unit: String,
        provenance: Provenance,
        values: Vec<f64>,
    ) {
        let each = vec![provenance; values.len()];
        self.push_each(key, label, unit, each, values);
    }

    /// A row whose values come from different places (a measured and a given size).
    fn push_each(
        &mut self,
        key: &'static str,
        label: &'static str,
        unit: String,
        provenance: Vec<Provenance>,
        values: Vec<f64>,
    ) {
        let difference = (values.len() >= 2)
            .then(|| values[0] - values[1])
            .filter(|d| d.is_finite());
        self.0.push(Figure {
            key,
            label,
            unit,
            provenance,
            values,
            difference,
        });
    }

    fn values(&self, key: &str) -> Vec<f64> {
        self.0
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.values.clone())
            .unwrap_or_default()
    }

    pub(super) fn of(loaded: &Loaded) -> Rows {
        let (i, p) = (&loaded.input, &loaded.pricing);
        let t = &i.traffic;
        let c = &p.currency;
        let sizes: Vec<u64> = loaded.images.iter().map(|v| v.compressed).collect();
        let per = |f: &dyn Fn(u64) -> f64| sizes.iter().map(|&s| f(s)).collect::<Vec<f64>>();
        let (pushes, pulls, node_pulls) = moves_per_day(t);
        let nat = t.network_path == NetworkPath::NatGateway;
        let egress = p.egress[t.network_path.key()].per_gb;
        let mut r = Rows(Vec::new());
        use Provenance::Given;
        let from: Vec<Provenance> = loaded.images.iter().map(|v| v.provenance).collect();
        r.push_each(
            "size",
            "image size (compressed)",
            "GB".into(),
            from.clone(),
            per(&|s| s as f64 / GB),
        );
        r.push_each(
            "uncompressed",
            "image size (uncompressed)",
            "GB".into(),
            from,
            loaded
                .images
                .iter()
                .map(|v| v.uncompressed as f64 / GB)
                .collect(),
        );
        let gb_day = |s: u64| s as f64 * (pushes + pulls + node_pulls) / GB;
        r.push(
            "traffic_per_day",
            "registry traffic per day",
            "GB/day".into(),
            Given,
            per(&gb_day),
        );
        r.push(
            "traffic_per_month",
            "registry traffic per month (30 days)",
            "GB/month".into(),
            Given,
            per(&|s| gb_day(s) * DAYS_PER_MONTH),
        );
        // Pushes enter the registry (ingress is free); pulls leave it.
        r.push(
            "egress_cost",
            "egress",
            format!("{c}/day"),
            Given,
            per(&|s| s as f64 * (pulls + node_pulls) / GB * egress),
        );
        let nat_price = if nat { p.nat_gateway.per_gb } else { 0.0 };
        r.push(
            "nat_cost",
            "NAT processing",
            format!("{c}/day"),
            Given,
            per(&|s| gb_day(s) * nat_price),
        );
        let keep = f64::from(i.storage.images_retained) * p.storage.per_gb_month / DAYS_PER_MONTH;
        r.push(
            "storage_cost",
            "storage",
            format!("{c}/day"),
            Given,
            per(&|s| s as f64 / GB * keep),
        );
        r.ci_rows(loaded, &sizes, pushes + pulls);
        r.burst_rows(loaded);
        let total: Vec<f64> = (0..sizes.len())
            .map(|k| {
                COST_COMPONENTS
                    .iter()
                    .map(|(key, _)| r.values(key).get(k).copied().unwrap_or(0.0))
                    .sum()
            })
            .collect();
        let month = total.iter().map(|d| d * DAYS_PER_MONTH).collect();
        let model = loaded.model.provenance;
        r.push("total_cost", "total", format!("{c}/day"), model, total);
        r.push(
            "total_cost_month",
            "total per month (30 days)",
            format!("{c}/month"),
            model,
            month,
        );
        r
    }

    /// Image transfer, dependency install, billed minutes and their price.
    fn ci_rows(&mut self, loaded: &Loaded, sizes: &[u64], moves: f64) {
        use Provenance::{Given, WireFloor};
        let (i, p) = (&loaded.input, &loaded.pricing);
        let (t, ci) = (&i.traffic, &i.ci);
        let minute = &p.ci_minute[ci.minute_price.get_ref()];
        let rate = effective_rate(i.registry.bandwidth, i.registry.node_bandwidth);
        let per = |f: &dyn Fn(u64) -> f64| sizes.iter().map(|&s| f(s)).collect::<Vec<f64>>();
        let builds = t.builds_per_day;
        let share = ci.manifest_change_share;
        self.push(
            "pull_seconds",
            "one pull at the registry bandwidth",
            "s".into(),
            WireFloor,
            per(&|s| transfer_seconds(s, rate)),
        );
        let measured: Vec<f64> = loaded
            .images
            .iter()
            .map(|v| v.pull_p50_s.unwrap_or(f64::NAN))
            .collect();
        if measured.iter().any(|v| v.is_finite()) {
            self.push(
                "measured_pull_p50",
                "pull p50 in the run (its own bandwidth)",
                "s".into(),
                Provenance::Measured,
                measured,
            );
        }
        self.push(
            "ci_move_seconds",
            "CI time moving the image",
            "s/day".into(),
            WireFloor,
            per(&|s| moves * transfer_seconds(s, rate)),
        );
        let deps = dependency_seconds(builds, share, ci.deps_install_cold, ci.deps_install_cached);
        self.push(
            "deps_seconds",
            "dependency install",
            "s/day".into(),
            Given,
            per(&|_| deps),
        );
        let saved = dependency_seconds_recovered(
            builds,
            share,
            ci.deps_install_cold,
            ci.deps_install_cached,
        );
        self.push(
            "deps_recovered_seconds",
            "dependency install recovered by the cache",
            "s/day".into(),
            Given,
            per(&|_| saved),
        );
        let minutes = |s: u64| {
            let img = transfer_seconds(s, rate);
            let build = |deps: f64| {
                build_minutes(
                    ci.jobs_per_build,
                    ci.job_time,
                    deps,
                    t.pushes_per_build * img,
                    t.pulls_per_build * img,
                    minute.rounding,
                )
            };
            builds
                * (share * build(ci.deps_install_cold)
                    + (1.0 - share) * build(ci.deps_install_cached))
        };
        self.push(
            "ci_minutes",
            "CI billed minutes (rounded up per job)",
            "min/day".into(),
            WireFloor,
            per(&minutes),
        );
        let c = &p.currency;
        self.push(
            "ci_cost",
            "CI minutes",
            format!("{c}/day"),
            WireFloor,
            per(&|s| minutes(s) * minute.per_minute),
        );
    }

    /// Time to full capacity per burst (the model, beside the wire floor) and the capacity
    /// it misses.
    fn burst_rows(&mut self, loaded: &Loaded) {
        let (i, p) = (&loaded.input, &loaded.pricing);
        let t = &i.traffic;
        let model = loaded.model.provenance;
        let timing: Vec<BurstTiming> = loaded
            .images
            .iter()
            .map(|v| burst_timing(&v.model, t, &i.registry, &loaded.model.params))
            .collect();
        let per = |f: &dyn Fn(&BurstTiming) -> f64| timing.iter().map(f).collect::<Vec<f64>>();
        self.push(
            "burst_full_seconds",
            "time to full capacity per burst",
            "s".into(),
            model,
            per(&|b| b.full_seconds),
        );
        self.push(
            "burst_floor_seconds",
            "  its wire floor (a lower bound)",
            "s".into(),
            Provenance::WireFloor,
            per(&|b| b.floor_seconds),
        );
        self.push(
            "capacity_seconds",
            "capacity lost (replica-seconds)",
            "replica-s/day".into(),
            model,
            per(&|b| t.bursts_per_day * b.capacity_seconds),
        );
        let node_hours =
            |b: &BurstTiming| t.bursts_per_day * f64::from(b.pulling) * b.full_seconds / 3600.0;
        self.push(
            "node_hours",
            "node-hours lost",
            "node-h/day".into(),
            model,
            per(&node_hours),
        );
        let hour = p.node_hour[i.nodes.hour_price.get_ref()].per_hour;
        let c = &p.currency;
        self.push(
            "capacity_cost",
            "capacity lost",
            format!("{c}/day"),
            model,
            per(&|b| node_hours(b) * hour),
        );
    }
}
