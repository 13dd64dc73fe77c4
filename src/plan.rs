//! The plan of a run: variant × repetition (shuffled per repetition under a recorded seed), and
//! for each step the replicas and the node each lands on (one replica on node 0 for single cold
//! starts; the burst's schedule otherwise).

use std::time::Duration;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::scenario::{BurstSpec, Placement, Scenario};

/// One step: a variant's cold start (or burst) in one repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Index into the scenario's variants.
    pub variant: usize,
    /// Repetition number.
    pub repetition: u32,
    /// Unmeasured warm-up.
    pub warmup: bool,
}

/// One replica of a step: where it runs and when it is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Replica number within the step.
    pub replica: usize,
    /// Node index.
    pub node: usize,
    /// When it is requested, after the step starts.
    pub offset: Duration,
}

/// Every step of a run, and the replica slots each step has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Seed of the shuffled order.
    pub seed: u64,
    /// Steps in execution order.
    pub steps: Vec<Step>,
    /// The replicas of every step (the same for each step).
    pub slots: Vec<Slot>,
}

impl Plan {
    /// The plan of `scenario` on `nodes` nodes, shuffled by `seed`.
    pub fn new(scenario: &Scenario, seed: u64, nodes: usize) -> Plan {
        let slots = match &scenario.file.burst {
            Some(spec) => schedule(spec, nodes),
            None => vec![Slot {
                replica: 0,
                node: 0,
                offset: Duration::ZERO,
            }],
        };
        Plan {
            seed,
            steps: steps(scenario, seed),
            slots,
        }
    }
}

/// Every variant once per repetition, in an order shuffled per repetition by `seed`; a warm-up
/// round first when asked.
pub fn steps(scenario: &Scenario, seed: u64) -> Vec<Step> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = scenario.file.variants.len();
    let mut steps = Vec::new();
    let rounds = scenario.file.repetitions.get();
    let warmup = u32::from(scenario.file.warmup);
    for round in 0..warmup + rounds {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        steps.extend(order.into_iter().map(|variant| Step {
            variant,
            repetition: round.saturating_sub(warmup),
            warmup: round < warmup,
        }));
    }
    steps
}

/// A burst's replicas: placed `spread` (round robin) or `packed` (fill each node in turn), all
/// requested at once or `add` more every `every`.
pub fn schedule(spec: &BurstSpec, nodes: usize) -> Vec<Slot> {
    let replicas = *spec.replicas.get_ref() as usize;
    let nodes = nodes.max(1);
    let per_node = replicas.div_ceil(nodes);
    (0..replicas)
        .map(|replica| {
            let node = match spec.placement {
                Placement::Spread => replica % nodes,
                Placement::Packed => (replica / per_node).min(nodes - 1),
            };
            let offset = spec.step.as_ref().map_or(Duration::ZERO, |step| {
                let batch = replica / (*step.add.get_ref() as usize).max(1);
                step.every.0 * u32::try_from(batch).unwrap_or(u32::MAX)
            });
            Slot {
                replica,
                node,
                offset,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::StepSpec;
    use crate::units::HumanDuration;
    use std::path::Path;
    use toml::Spanned;

    fn scenario(text: &str) -> Scenario {
        Scenario::parse(Path::new("t.toml"), text.to_string()).unwrap()
    }

    fn spec(
        nodes: u32,
        replicas: u32,
        placement: Placement,
        step: Option<(u32, u64)>,
    ) -> BurstSpec {
        BurstSpec {
            nodes: Spanned::new(0..0, nodes),
            replicas: Spanned::new(0..0, replicas),
            placement,
            step: step.map(|(add, secs)| StepSpec {
                add: Spanned::new(0..0, add),
                every: HumanDuration(Duration::from_secs(secs)),
            }),
        }
    }

    #[test]
    fn every_variant_gets_the_same_count_in_shuffled_order() {
        let s = scenario(
            "repetitions = 4\nwarmup = true\n[[variant]]\nname = \"a\"\nsynth = { size = \"1MB\" }\n[[variant]]\nname = \"b\"\nsynth = { size = \"1MB\" }\n[[variant]]\nname = \"c\"\nsynth = { size = \"1MB\" }\n",
        );
        let p = steps(&s, 7);
        assert_eq!(p.len(), 15);
        assert!(p[..3].iter().all(|s| s.warmup));
        for v in 0..3 {
            let measured = p.iter().filter(|s| s.variant == v && !s.warmup).count();
            assert_eq!(measured, 4);
        }
        assert_eq!(p, steps(&s, 7), "same seed, same order");
        let orders: std::collections::HashSet<Vec<usize>> = (0..20)
            .map(|seed| steps(&s, seed)[3..6].iter().map(|s| s.variant).collect())
            .collect();
        assert!(orders.len() > 1, "order is shuffled");
    }

    #[test]
    fn single_cold_starts_have_one_slot_on_node_zero() {
        let s = scenario("[[variant]]\nname = \"a\"\nsynth = { size = \"1MB\" }\n");
        let plan = Plan::new(&s, 1, 1);
        assert_eq!(plan.slots.len(), 1);
        assert_eq!(
            (plan.slots[0].node, plan.slots[0].offset),
            (0, Duration::ZERO)
        );
    }

    #[test]
    fn spread_is_round_robin_and_packed_fills_nodes() {
        let s = schedule(&spec(3, 7, Placement::Spread, None), 3);
        let nodes: Vec<usize> = s.iter().map(|x| x.node).collect();
        assert_eq!(nodes, vec![0, 1, 2, 0, 1, 2, 0]);
        let p = schedule(&spec(3, 7, Placement::Packed, None), 3);
        let nodes: Vec<usize> = p.iter().map(|x| x.node).collect();
        assert_eq!(nodes, vec![0, 0, 0, 1, 1, 1, 2]);
        assert!(s.iter().all(|x| x.offset == Duration::ZERO));
    }

    #[test]
    fn steps_add_replicas_like_an_hpa() {
        let s = schedule(&spec(2, 5, Placement::Spread, Some((2, 15))), 2);
        let offsets: Vec<u64> = s.iter().map(|x| x.offset.as_secs()).collect();
        assert_eq!(offsets, vec![0, 0, 15, 15, 30]);
    }
}
