//! What a reader must know before trusting the numbers.

use std::fmt;

use super::variant::VariantAnalysis;
use crate::results::RunRecord;

/// One warning about a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The run stopped before every sample was taken.
    Interrupted,
    /// Samples of a variant failed (warm-ups included).
    Failed {
        /// The variant.
        variant: String,
        /// How many.
        count: usize,
    },
    /// Measured samples moved fewer or more bytes than the image; they are left out of the
    /// summaries.
    NotCold {
        /// The variant.
        variant: String,
        /// How many.
        count: usize,
    },
}

fn samples(n: usize) -> String {
    format!("{n} sample{}", if n == 1 { "" } else { "s" })
}

impl Warning {
    /// The variant it is about, if any.
    pub fn variant(&self) -> Option<&str> {
        match self {
            Warning::Interrupted => None,
            Warning::Failed { variant, .. } | Warning::NotCold { variant, .. } => Some(variant),
        }
    }

    /// The sentence without the variant's name.
    pub fn text(&self) -> String {
        match self {
            Warning::Interrupted => "the run was interrupted: not every sample was taken".into(),
            Warning::Failed { count, .. } => format!("{} failed (see samples.csv)", samples(*count)),
            Warning::NotCold { count, .. } => format!(
                "{} moved fewer or more bytes than the image (not cold): excluded from the summaries",
                samples(*count)
            ),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.variant() {
            Some(v) => write!(f, "{v}: {}", self.text()),
            None => f.write_str(&self.text()),
        }
    }
}

/// Interrupted run first, then per variant: failed, then not-cold samples.
pub fn warnings(record: &RunRecord, variants: &[VariantAnalysis]) -> Vec<Warning> {
    let mut out = Vec::new();
    if record.interrupted {
        out.push(Warning::Interrupted);
    }
    for v in variants {
        if v.counts.failed > 0 {
            out.push(Warning::Failed {
                variant: v.name.clone(),
                count: v.counts.failed,
            });
        }
        if v.counts.not_cold > 0 {
            out.push(Warning::NotCold {
                variant: v.name.clone(),
                count: v.counts.not_cold,
            });
        }
    }
    out
}
