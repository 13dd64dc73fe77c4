//! Per variant and the difference between the first two: traffic, money, CI minutes and the
//! capacity a burst misses. Every figure says where it comes from.

use super::formulas::DAYS_PER_MONTH;
use super::input::NetworkPath;
use super::load::Loaded;
pub use super::result::{CostResult, Figure, PriceUsed, Provenance, COST_COMPONENTS};
use super::rows::Rows;

/// Computes every figure of `loaded`.
pub fn calculate(loaded: &Loaded) -> CostResult {
    let rows = Rows::of(loaded);
    let c = &loaded.pricing.currency;
    let p = &loaded.pricing;
    let t = &loaded.input.traffic;
    let ci = &p.ci_minute[loaded.input.ci.minute_price.get_ref()];
    let node = &p.node_hour[loaded.input.nodes.hour_price.get_ref()];
    let egress = &p.egress[t.network_path.key()];
    let mut prices = vec![PriceUsed {
        what: format!("egress ({})", t.network_path.key()),
        amount: egress.per_gb,
        unit: format!("{c}/GB"),
        source: egress.source.clone(),
        read: egress.read.clone(),
    }];
    if t.network_path == NetworkPath::NatGateway {
        let n = &p.nat_gateway;
        prices.push(price(
            "NAT gateway processing",
            n.per_gb,
            format!("{c}/GB"),
            &n.source,
            &n.read,
        ));
    }
    prices.push(price(
        "CI runner minute, rounded up per job",
        ci.per_minute,
        format!("{c}/min"),
        &ci.source,
        &ci.read,
    ));
    prices.push(price(
        "node-hour",
        node.per_hour,
        format!("{c}/h"),
        &node.source,
        &node.read,
    ));
    let s = &p.storage;
    prices.push(price(
        "registry storage",
        s.per_gb_month,
        format!("{c}/GB-month"),
        &s.source,
        &s.read,
    ));
    CostResult {
        currency: c.clone(),
        days_per_month: DAYS_PER_MONTH,
        network_path: t.network_path,
        variants: loaded
            .input
            .variants
            .iter()
            .map(|v| v.name.get_ref().clone())
            .collect(),
        figures: rows.0,
        prices,
    }
}

fn price(what: &str, amount: f64, unit: String, source: &str, read: &str) -> PriceUsed {
    PriceUsed {
        what: what.into(),
        amount,
        unit,
        source: source.into(),
        read: read.into(),
    }
}
