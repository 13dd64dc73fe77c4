//! What-if calculator: what an image costs in registry traffic, egress, NAT and storage money,
//! CI minutes, and capacity missing during scale-out bursts — per variant and the difference.
//!
//! Inputs come from a cost file ([`input`]) and prices from a pricing file ([`pricing`]), both
//! as data: the code never holds a price. Burst timing is the wire floor
//! ([`crate::analysis::burst_floor_us`]), labelled `modelled (wire floor)` until a calibrated
//! model replaces it. [`render`] writes the table and Markdown; the chart is
//! [`crate::report::charts::cost_chart`].

pub mod calc;
pub mod formulas;
pub mod input;
mod load;
pub mod pricing;
pub mod render;
pub mod result;
mod rows;
mod values;

pub use calc::{calculate, CostResult, Figure, Provenance};
pub use load::{load, CostError, Loaded};

#[cfg(test)]
mod tests;
