//! The condition that ends every threshold: `OP limit` (`<2s`, `<=+10%`).

use std::str::FromStr;

use super::cursor::Cursor;
use super::expr::{Limit, Op};
use super::parse::{decimal, ThresholdError};
use crate::units::{clip, HumanDuration};

/// Units a duration limit may have.
const UNITS: [&str; 7] = ["ns", "us", "µs", "ms", "s", "m", "h"];

/// `OP limit` up to the end of the text.
pub(super) fn condition(c: &mut Cursor) -> Result<(Op, Limit), ThresholdError> {
    c.skip_whitespace();
    let op = operator(c)?;
    c.skip_whitespace();
    let limit = limit(c)?;
    c.expect_end("the limit")?;
    Ok((op, limit))
}

/// One of `<`, `<=`, `>`, `>=`, `==`, `!=`.
fn operator(c: &mut Cursor) -> Result<Op, ThresholdError> {
    let next: String = c.peek().into_iter().chain(c.peek_second()).collect();
    for (text, op) in Op::ALL {
        if next.starts_with(text) {
            c.advance(text.chars().count());
            return Ok(op);
        }
    }
    Err(c.error_here(format!(
        "expected one of <, <=, >, >=, ==, !=, found {}",
        c.found()
    )))
}

/// A duration (`2s`) or a signed change in percent (`+10%`).
fn limit(c: &mut Cursor) -> Result<Limit, ThresholdError> {
    let start = c.column();
    let sign = match c.peek() {
        Some('+') => Some(1.0),
        Some('-') => Some(-1.0),
        _ => None,
    };
    if sign.is_some() {
        c.advance(1);
    }
    let (column, number) = c.take_while(|ch| ch.is_ascii_digit() || ch == '.');
    if number.is_empty() {
        return Err(c.error_here(format!(
            "expected a limit: a duration such as 2s or 800ms, or a change from the baseline such as +10%; found {}",
            c.found()
        )));
    }
    let value = decimal(&number).ok_or_else(|| {
        c.error(
            column,
            format!(
                "malformed number {:?}: write digits with at most one '.', e.g. 1.5",
                clip(&number)
            ),
        )
    })?;
    c.skip_whitespace();
    if c.eat('%') {
        let sign = sign.ok_or_else(|| {
            c.error(
                start,
                format!("a change from the baseline needs a sign: +{number}% (at most that much slower) or -{number}%"),
            )
        })?;
        return Ok(Limit::Relative(sign * value));
    }
    let (unit_column, unit) = c.take_while(|ch| ch.is_alphabetic());
    if let Some(sign) = sign {
        let shown = if sign > 0.0 { '+' } else { '-' };
        return Err(c.error(
            start,
            format!("a signed limit is a change from the baseline and ends with %, e.g. {shown}{number}%; write a duration without a sign"),
        ));
    }
    duration(c, (column, &number), (unit_column, &unit))
}

/// The duration `number unit` (written at the given columns).
fn duration(
    c: &Cursor,
    (column, number): (usize, &str),
    (unit_column, unit): (usize, &str),
) -> Result<Limit, ThresholdError> {
    let units = UNITS.join(", ");
    if unit.is_empty() {
        return Err(c.error(unit_column, format!(
            "{number} has no unit: add one of {units} (k6 reads a bare number as milliseconds; coldbench asks you to say it)"
        )));
    }
    let unit = if unit == "μs" { "µs" } else { unit }; // Greek mu, as often typed
    if !UNITS.contains(&unit) {
        return Err(c.error(
            unit_column,
            format!("unknown unit {:?}; expected one of {units}", clip(unit)),
        ));
    }
    let parsed = HumanDuration::from_str(&format!("{number}{unit}"))
        .map_err(|_| c.error(column, format!("{number}{unit} is too long a duration")))?;
    Ok(Limit::Duration {
        duration: parsed.0,
        number: number.to_string(),
        unit: unit.to_string(),
    })
}
