//! The seed article's figures, checked against the formulas rather than copied.

mod model;
mod seed;
mod whatif;
