//! `[thresholds]`: k6's table of metric keys to lists of expressions, read with spans and
//! checked into [`Threshold`]s whose errors point inside the offending key or expression.
//!
//! ```toml
//! [thresholds]
//! total = ["p95<2s", "p50<+10%"]
//! "pull{variant:static-like}" = ["p(50)<800ms"]
//! full_capacity = ["<8s"]
//! ```

use std::fmt;
use std::ops::Range;

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::Spanned;

use super::limits::MAX_THRESHOLDS;
use super::{Invalid, ScenarioFile};
use crate::compare::threshold::{parse_key, parse_keyed, Part, Threshold, ThresholdError};
use crate::units::clip;

/// The `[thresholds]` table as written, in file order.
#[derive(Debug, Clone, Default)]
pub struct ThresholdTable(pub Vec<ThresholdEntry>);

/// One key of `[thresholds]` and its expressions.
#[derive(Debug, Clone)]
pub struct ThresholdEntry {
    /// `total` or `total{variant:slim}`.
    pub key: String,
    /// `p95<2s`, `p(50)<+10%`, `<8s` (milestones); the span is the array's.
    pub expressions: Spanned<Vec<Spanned<String>>>,
}

impl ThresholdTable {
    /// True without any key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for ThresholdTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Table;
        impl<'de> Visitor<'de> for Table {
            type Value = ThresholdTable;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a table of metric keys to arrays of thresholds, e.g. total = [\"p95<2s\"]",
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ThresholdTable, A::Error> {
                let mut entries = Vec::new();
                // Plain string keys, so errors below name them (`thresholds.total`).
                while let Some(key) = map.next_key::<String>()? {
                    let list: Spanned<Expressions> = map.next_value()?;
                    let span = list.span();
                    let expressions = Spanned::new(span, list.into_inner().0);
                    entries.push(ThresholdEntry { key, expressions });
                }
                // The parser hands keys over sorted; keep the file's order.
                entries.sort_by_key(|e| e.expressions.span().start);
                Ok(ThresholdTable(entries))
            }
        }
        d.deserialize_map(Table)
    }
}

/// An array of expressions, with their spans.
struct Expressions(Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for Expressions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Expressions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of thresholds such as [\"p95<2s\", \"p50<+10%\"]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Expressions, A::Error> {
                let mut list = Vec::new();
                while let Some(expr) = seq.next_element::<Spanned<String>>()? {
                    list.push(expr);
                }
                Ok(Expressions(list))
            }
        }
        d.deserialize_seq(List)
    }
}

impl Serialize for ThresholdTable {
    /// As written, without spans: `{"total": ["p95<2s"]}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for entry in &self.0 {
            let list: Vec<&str> = entry
                .expressions
                .get_ref()
                .iter()
                .map(|e| e.get_ref().as_str())
                .collect();
            map.serialize_entry(&entry.key, &list)?;
        }
        map.end()
    }
}

/// Parses every threshold of `file` (at most [`MAX_THRESHOLDS`]); a bad key or expression,
/// or a variant filter naming no `[[variant]]`, is an error located inside it.
pub(super) fn check(file: &ScenarioFile, source: &str) -> Result<Vec<Threshold>, Invalid> {
    let mut thresholds = Vec::new();
    for entry in &file.thresholds.0 {
        let key = key_spanned(source, entry);
        let field = format!("thresholds.{}", clip(&entry.key));
        let (_, variant) = parse_key(&entry.key).map_err(|e| located(source, &key, &e, &field))?;
        if let Some(variant) = variant {
            check_variant(file, source, &key, &variant, &field)?;
        }
        for (i, expr) in entry.expressions.get_ref().iter().enumerate() {
            let field = format!("{field}[{i}]");
            if thresholds.len() == MAX_THRESHOLDS {
                return Err((
                    Some(expr.span()),
                    field,
                    format!("more than {MAX_THRESHOLDS} thresholds: at most {MAX_THRESHOLDS} are allowed"),
                ));
            }
            let threshold = parse_keyed(&entry.key, expr.get_ref()).map_err(|e| {
                let text = if e.part == Part::Key { &key } else { expr };
                located(source, text, &e, &field)
            })?;
            thresholds.push(threshold);
        }
    }
    Ok(thresholds)
}

/// `entry`'s key with the span of its text before ` = [`, found by looking back from the
/// array and checked to be the key as written (bare or quoted without escapes); else the
/// array's start, where errors then say the column.
fn key_spanned(source: &str, entry: &ThresholdEntry) -> Spanned<String> {
    let array = entry.expressions.span();
    let key = &entry.key;
    let found = source
        .get(..array.start)
        .map(str::trim_end)
        .and_then(|s| s.strip_suffix('='))
        .map(str::trim_end)
        .and_then(|before| {
            [key.clone(), format!("\"{key}\""), format!("'{key}'")]
                .into_iter()
                .find(|raw| before.ends_with(raw.as_str()))
                .map(|raw| before.len() - raw.len()..before.len())
        });
    Spanned::new(found.unwrap_or(array.start..array.start), key.clone())
}

/// A variant filter must name one of the scenario's variants.
fn check_variant(
    file: &ScenarioFile,
    source: &str,
    key: &Spanned<String>,
    variant: &str,
    field: &str,
) -> Result<(), Invalid> {
    let names: Vec<&str> = file
        .variants
        .iter()
        .map(|v| v.name.get_ref().as_str())
        .collect();
    if names.contains(&variant) {
        return Ok(());
    }
    // The name is the key's last word before `}`.
    let text = key.get_ref();
    let column = text
        .rfind(variant)
        .map_or(1, |at| text[..at].chars().count() + 1);
    let offset = offset_of(source, key.span(), text, column).unwrap_or(key.span().start);
    Err((
        Some(offset..offset),
        field.to_string(),
        format!(
            "no variant {:?} in this scenario; its variants are: {}",
            clip(variant),
            names.join(", ")
        ),
    ))
}

/// `e` as a scenario error at its column inside `text` (a key or an expression string).
fn located(source: &str, text: &Spanned<String>, e: &ThresholdError, field: &str) -> Invalid {
    let what = match e.part {
        Part::Key => "threshold key",
        Part::Expression => "threshold",
    };
    let written = clip(text.get_ref());
    match offset_of(source, text.span(), text.get_ref(), e.column) {
        Some(offset) => (
            Some(offset..offset),
            field.to_string(),
            format!("{what} {written:?}: {}", e.message),
        ),
        // Written with escapes: point at the string and say the column.
        None => (
            Some(text.span()),
            field.to_string(),
            format!("{what} {written:?}, column {}: {}", e.column, e.message),
        ),
    }
}

/// Byte offset in `source` of character `column` (1-based) of `text`, which `span` holds as a
/// bare key or a quoted string without escapes; `None` when it is written otherwise.
fn offset_of(source: &str, span: Range<usize>, text: &str, column: usize) -> Option<usize> {
    let raw = source.get(span.clone())?;
    let start = if raw == text {
        span.start
    } else if raw.len() == text.len() + 2 && raw.get(1..raw.len() - 1) == Some(text) {
        span.start + 1
    } else {
        return None;
    };
    let within = text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(at, _)| at);
    Some(start + within)
}
