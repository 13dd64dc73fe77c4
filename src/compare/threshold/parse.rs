//! The threshold grammar: k6's, with units on every limit.
//!
//! Command-line form ([`parse`]), whitespace allowed between tokens:
//! ```text
//! threshold  = AGG "(" target ")" OP limit     p95(total)<2s   p50(pull{variant:slim})<=+10%
//!            | MILESTONE filter? OP limit      full_capacity<8s   (the median over the bursts)
//! target     = METRIC filter?
//! filter     = "{" "variant" ":" NAME "}"      one variant; without it, every variant
//! AGG        = min | max | avg | med | pNN     pNN: a percentile 0 to 100 (p95, p99.9)
//! METRIC     = pull | create | start | first_request | total            (one value per sample)
//!            | first_ready | half_capacity | full_capacity  = MILESTONE (one value per burst)
//! OP         = < | <= | > | >= | == | !=
//! limit      = NUMBER UNIT                     a duration: 2s, 1.5s, 800ms (ns us µs ms s m h)
//!            | ("+" | "-") NUMBER "%"          a change from the baseline: (new/base − 1)·100
//! ```
//! k6 reads a bare number (`p95(total)<200`) as milliseconds; coldbench refuses it and asks for
//! a unit. k6's `p(95)` is accepted only in the keyed form.
//!
//! Keyed form ([`parse_keyed`]), as in k6's `thresholds = { "metric{tag:x}": ["p(95)<200"] }`:
//! the key is `target` (`total`, `total{variant:slim}`), the expression is
//! `AGG? OP limit` where AGG may also be written `p(NN)`; a milestone may leave it out
//! (`<8s` is the median), a phase may not.

use std::fmt;

use super::condition::condition;
use super::cursor::Cursor;
use super::expr::{Aggregation, Threshold};
use crate::compare::metric::Metric;
use crate::units::clip;

/// Longest expression (and key), in characters.
pub const MAX_EXPRESSION_CHARS: usize = 256;

/// Which text an error's column counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The expression (the only text of the command-line form).
    Expression,
    /// The metric key of the keyed form.
    Key,
}

impl Part {
    /// `expression` or `key`.
    pub fn name(self) -> &'static str {
        match self {
            Part::Expression => "expression",
            Part::Key => "key",
        }
    }
}

/// Why a threshold did not parse: where (1-based column, in characters, of [`Part`]; one past
/// the last character means "at the end") and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdError {
    /// The text the column counts in.
    pub part: Part,
    /// 1-based character column.
    pub column: usize,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for ThresholdError {
    /// `column 5: expected …`, or `key, column 5: …` for the keyed form's key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.part == Part::Key {
            f.write_str("key, ")?;
        }
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ThresholdError {}

/// Parses a command-line threshold such as `p95(total)<2s` (see the module's grammar).
pub fn parse(expr: &str) -> Result<Threshold, ThresholdError> {
    let mut c = Cursor::new(expr, Part::Expression)?;
    c.skip_whitespace();
    let (column, word) = c.word();
    c.skip_whitespace();
    let (aggregation, metric, variant) = if c.eat('(') {
        let aggregation = aggregation_named(&c, column, &word)?;
        c.skip_whitespace();
        let (column, name) = c.word();
        let metric = metric_named(&c, column, &name)?;
        let variant = filter(&mut c)?;
        c.skip_whitespace();
        c.expect(')', "\")\" after the metric")?;
        (aggregation, metric, variant)
    } else {
        let metric = bare_metric(&c, column, &word)?;
        let variant = filter(&mut c)?;
        (Aggregation::MILESTONE_DEFAULT, metric, variant)
    };
    let (op, limit) = condition(&mut c)?;
    Ok(Threshold {
        source: expr.to_string(),
        metric,
        variant,
        aggregation,
        op,
        limit,
    })
}

/// Parses the keyed form: `metric_key` is `total` or `total{variant:slim}`, `expr` is
/// `p95<2s`, `p(95)<2s`, `med<800ms`, or for a burst milestone also `<8s` (the median).
pub fn parse_keyed(metric_key: &str, expr: &str) -> Result<Threshold, ThresholdError> {
    let (metric, variant) = parse_key(metric_key)?;
    let mut c = Cursor::new(expr, Part::Expression)?;
    c.skip_whitespace();
    let aggregation = keyed_aggregation(&mut c, metric)?;
    let (op, limit) = condition(&mut c)?;
    Ok(Threshold {
        source: format!("{}: {}", metric_key.trim(), expr.trim()),
        metric,
        variant,
        aggregation,
        op,
        limit,
    })
}

/// Parses the keyed form's key alone: `total` or `total{variant:slim}` (errors count in
/// [`Part::Key`]).
pub fn parse_key(metric_key: &str) -> Result<(Metric, Option<String>), ThresholdError> {
    let mut k = Cursor::new(metric_key, Part::Key)?;
    k.skip_whitespace();
    let (column, name) = k.word();
    let metric = metric_named(&k, column, &name)?;
    let variant = filter(&mut k)?;
    k.expect_end("the metric")?;
    Ok((metric, variant))
}

/// The aggregation at the start of a keyed expression (`p95`, `p(95)`, `med`, or none for a
/// milestone).
fn keyed_aggregation(c: &mut Cursor, metric: Metric) -> Result<Aggregation, ThresholdError> {
    let (column, word) = c.word();
    if word.is_empty() {
        return match metric {
            Metric::Burst(_) => Ok(Aggregation::MILESTONE_DEFAULT),
            Metric::Phase(_) => Err(c.error(column, format!(
                "{metric} has one value per sample: start with an aggregation (min, max, avg, med, pNN), e.g. p95<2s"
            ))),
        };
    }
    if word == "p" && c.eat('(') {
        c.skip_whitespace();
        let (column, number) = c.take_while(|ch| ch.is_ascii_digit() || ch == '.');
        let aggregation = percentile(c, column, &number)?;
        c.skip_whitespace();
        c.expect(')', "\")\" after the percentile, as in p(95)")?;
        return Ok(aggregation);
    }
    let aggregation = aggregation_named(c, column, &word)?;
    c.skip_whitespace();
    if c.peek() == Some('(') {
        return Err(c.error_here(format!(
            "the key names the metric: write only the aggregation and the condition, e.g. {word}<2s"
        )));
    }
    Ok(aggregation)
}

/// The aggregation called `word` (at `column`).
fn aggregation_named(c: &Cursor, column: usize, word: &str) -> Result<Aggregation, ThresholdError> {
    match word {
        "min" => Ok(Aggregation::Min),
        "max" => Ok(Aggregation::Max),
        "avg" => Ok(Aggregation::Avg),
        "med" => Ok(Aggregation::Med),
        "" => Err(c.error(
            column,
            "expected an aggregation (min, max, avg, med, pNN) before \"(\"".into(),
        )),
        "p" => Err(c.error(
            column,
            "k6's p(95) belongs to the keyed form; here write p95(total)<2s".into(),
        )),
        _ => match word.strip_prefix('p') {
            Some(number) if number.starts_with(|ch: char| ch.is_ascii_digit()) => {
                percentile(c, column + 1, number)
            }
            _ => Err(c.error(
                column,
                format!(
                    "unknown aggregation {:?}; expected one of min, max, avg, med, pNN (e.g. p95, p99.9)",
                    clip(word)
                ),
            )),
        },
    }
}

/// The percentile `number` (written at `column`): 0 to 100, digits with one optional `.`.
fn percentile(c: &Cursor, column: usize, number: &str) -> Result<Aggregation, ThresholdError> {
    let q = decimal(number).ok_or_else(|| {
        c.error(
            column,
            format!(
                "expected a percentile from 0 to 100 (e.g. 95, 99.9), found {:?}",
                clip(number)
            ),
        )
    })?;
    if q > 100.0 {
        return Err(c.error(
            column,
            format!("percentile {number} is out of range: expected 0 to 100"),
        ));
    }
    Ok(Aggregation::Percentile(q))
}

/// `digits` or `digits.digits` as a finite number.
pub(super) fn decimal(text: &str) -> Option<f64> {
    let mut parts = text.split('.');
    let whole = parts.next()?;
    let fraction = parts.next();
    let digits = |s: &str| !s.is_empty() && s.chars().all(|ch| ch.is_ascii_digit());
    if parts.next().is_some() || !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Every metric's name, for errors.
fn metric_names() -> String {
    Metric::ALL.map(Metric::name).join(", ")
}

/// The metric called `name` (at `column`).
fn metric_named(c: &Cursor, column: usize, name: &str) -> Result<Metric, ThresholdError> {
    if name.is_empty() {
        return Err(c.error_here(format!(
            "expected a metric ({}), found {}",
            metric_names(),
            c.found()
        )));
    }
    Metric::from_name(name).ok_or_else(|| {
        c.error(
            column,
            format!(
                "unknown metric {:?}; expected one of {}",
                clip(name),
                metric_names()
            ),
        )
    })
}

/// The metric of the aggregation-free form: a burst milestone.
fn bare_metric(c: &Cursor, column: usize, word: &str) -> Result<Metric, ThresholdError> {
    if word.is_empty() {
        return Err(c.error_here(format!(
            "expected an aggregation with a metric, e.g. p95(total), or a burst milestone (first_ready, half_capacity, full_capacity), found {}",
            c.found()
        )));
    }
    match Metric::from_name(word) {
        Some(metric @ Metric::Burst(_)) => Ok(metric),
        Some(metric @ Metric::Phase(_)) => Err(c.error(
            column,
            format!("{metric} has one value per sample: aggregate it, e.g. p95({metric})<2s"),
        )),
        None if aggregation_named(c, column, word).is_ok() => {
            Err(c.error_here(format!("expected \"(\" after {word}, found {}", c.found())))
        }
        None => metric_named(c, column, word),
    }
}

/// An optional `{variant:NAME}` after a metric.
fn filter(c: &mut Cursor) -> Result<Option<String>, ThresholdError> {
    c.skip_whitespace();
    if !c.eat('{') {
        return Ok(None);
    }
    c.skip_whitespace();
    let (column, tag) = c.word();
    if tag != "variant" {
        return Err(c.error(
            column,
            format!(
                "expected the tag variant, as in {{variant:slim}}, found {}",
                if tag.is_empty() {
                    c.found()
                } else {
                    format!("{:?}", clip(&tag))
                }
            ),
        ));
    }
    c.skip_whitespace();
    c.expect(':', "\":\" after variant, as in {variant:slim}")?;
    c.skip_whitespace();
    let (_, name) = c.take_while(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-'));
    if name.is_empty() {
        return Err(c.error_here(format!(
            "expected a variant name (letters, digits, '.', '_', '-'), found {}",
            c.found()
        )));
    }
    c.skip_whitespace();
    c.expect('}', "\"}\" after the variant name")?;
    Ok(Some(name))
}
