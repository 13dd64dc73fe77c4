//! What-if calculator: what an image costs in registry traffic, egress, NAT and storage money,
//! CI minutes, and capacity missing during scale-out bursts — per variant and the difference.
//!
//! Inputs come from a cost file ([`input`]) and prices from a pricing file ([`pricing`]), both
//! as data: the code never holds a price. A variant's image is given, or measured in a run
//! ([`image`]). Burst timing comes from the cold-start model ([`burst`]): calibrated when a
//! calibration is given, else on the model's defaults, with the wire floor beside it.
//! [`whatif`] changes one input, [`sweep`] steps one over a range. [`render`] writes the table
//! and Markdown; the charts are [`crate::report::charts::cost_chart`] and
//! [`crate::report::charts::sweep_chart`].

pub mod burst;
pub mod calc;
pub mod formulas;
pub mod image;
pub mod input;
mod load;
pub mod pricing;
pub mod render;
pub mod render_sweep;
pub mod result;
mod rows;
mod sources;
pub mod sweep;
mod values;
pub mod whatif;

pub use calc::{calculate, CostResult, Figure, Provenance};
pub use load::{load, load_with, BurstModel, CostError, Loaded, Overrides};

#[cfg(test)]
mod tests;
