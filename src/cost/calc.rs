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
        variants: loaded.images.iter().map(|v| v.name.clone()).collect(),
        figures: rows.0,
        prices,
        burst_model: burst_model_note(loaded),
        images: loaded
            .images
            .iter()
            .map(|v| {
                format!(
                    "{}: {} sizes, layers from {}",
                    v.name,
                    v.provenance.label(),
                    v.layers_from
                )
            })
            .collect(),
        what_ifs: loaded.what_ifs.clone(),
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

/// The burst model in one line: which parameters, and the shape it simulates.
fn burst_model_note(loaded: &Loaded) -> String {
    let m = &loaded.model;
    let params = match &m.calibration {
        Some(p) => format!("the model calibrated in {}", p.display()),
        None => "the model's default parameters (uncalibrated: pass --calibration or set calibration = \"calibration.toml\")".into(),
    };
    let shape = match super::burst::shape(&loaded.input.traffic) {
        Some(s) => format!(
            "{} pulling nodes (burst nodes that miss the cache) with {} replicas spread over them",
            s.nodes, s.replicas
        ),
        None => "no node pulls (every burst node hits the cache)".into(),
    };
    format!("Bursts: {params}; {shape}.")
}
