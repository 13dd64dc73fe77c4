//! Reading a cost file and its prices, with errors at `file:line:column`.

use std::path::{Path, PathBuf};

use super::input::{CostFile, CostInput};
use super::pricing::Pricing;
use crate::located::{read_text, FileError, Located};
use crate::scenario::limits::MAX_VARIANTS;
use crate::units::clip;

/// A cost or pricing file that cannot be used: where and why (an exit 2).
pub type CostError = FileError;

/// A cost file with its prices, both checked.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The cost file.
    pub path: PathBuf,
    /// Its `[cost]` table.
    pub input: CostInput,
    /// The prices file it names.
    pub pricing_path: PathBuf,
    /// The prices.
    pub pricing: Pricing,
}

/// Reads and checks the cost file at `path` and the prices it names.
pub fn load(path: &Path) -> Result<Loaded, CostError> {
    let text = read_text(path, "cost file")?;
    let at = Located { path, text: &text };
    let file: CostFile = at.parse()?;
    let input = file.cost;
    check_variants(&input, &at)?;
    let relative = input.pricing.get_ref();
    let pricing_path = path.parent().unwrap_or(Path::new("")).join(relative);
    let pricing_text = read_text(&pricing_path, "pricing file").map_err(|e| {
        at.error(
            Some(input.pricing.span()),
            Some("cost.pricing"),
            &format!(
                "{}: {}; give a path relative to this file",
                e.file.display(),
                e.message
            ),
        )
    })?;
    let pricing: Pricing = Located {
        path: &pricing_path,
        text: &pricing_text,
    }
    .parse()?;
    check_keys(&input, &pricing, &at, &pricing_path)?;
    Ok(Loaded {
        path: path.to_path_buf(),
        input,
        pricing_path,
        pricing,
    })
}

/// One to [`MAX_VARIANTS`] variants with distinct, non-empty names.
fn check_variants(input: &CostInput, at: &Located) -> Result<(), CostError> {
    if input.variants.is_empty() || input.variants.len() > MAX_VARIANTS {
        return Err(at.error(
            None,
            Some("cost.variant"),
            &format!(
                "{} variants: give 1 to {MAX_VARIANTS} [[cost.variant]] tables, today's image first",
                input.variants.len()
            ),
        ));
    }
    for (i, v) in input.variants.iter().enumerate() {
        let name = v.name.get_ref();
        let field = format!("cost.variant[{i}].name");
        let problem = if name.trim().is_empty() || name.chars().count() > 64 {
            Some("expected a name of 1 to 64 characters".to_string())
        } else if input.variants[..i].iter().any(|o| o.name.get_ref() == name) {
            Some(format!(
                "duplicate variant name {:?}: names must be unique",
                clip(name)
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            return Err(at.error(Some(v.name.span()), Some(&field), &p));
        }
    }
    Ok(())
}

/// The price keys the cost file names exist in the pricing file.
fn check_keys(
    input: &CostInput,
    pricing: &Pricing,
    at: &Located,
    pricing_path: &Path,
) -> Result<(), CostError> {
    let missing = |key: &toml::Spanned<String>, field: &str, table: &str, known: Vec<&String>| {
        let known: Vec<String> = known.iter().map(|k| format!("{k:?}")).collect();
        at.error(
            Some(key.span()),
            Some(field),
            &format!(
                "no [{table}.{}] in {}: use one of {} or add it there",
                clip(key.get_ref()),
                pricing_path.display(),
                known.join(", ")
            ),
        )
    };
    if !pricing
        .ci_minute
        .contains_key(input.ci.minute_price.get_ref())
    {
        let known = pricing.ci_minute.keys().collect();
        return Err(missing(
            &input.ci.minute_price,
            "cost.ci.minute_price",
            "ci_minute",
            known,
        ));
    }
    if !pricing
        .node_hour
        .contains_key(input.nodes.hour_price.get_ref())
    {
        let known = pricing.node_hour.keys().collect();
        return Err(missing(
            &input.nodes.hour_price,
            "cost.nodes.hour_price",
            "node_hour",
            known,
        ));
    }
    let egress = input.traffic.network_path.key();
    if !pricing.egress.contains_key(egress) {
        return Err(CostError {
            file: pricing_path.to_path_buf(),
            position: None,
            field: Some("egress".into()),
            message: format!(
                "no [egress.{egress}] price for network_path in {}: add one",
                at.path.display()
            ),
        });
    }
    Ok(())
}
