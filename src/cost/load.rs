//! Reading a cost file (or a scenario's `[cost]`) and its prices, with errors at
//! `file:line:column`; the calibration and run it names are [`super::sources`].

use std::path::{Path, PathBuf};

use super::image::{resolve, CostImage, Sources};
use super::input::{CostFile, CostInput, ScenarioCost};
use super::pricing::Pricing;
use super::sources::{burst_model, run_of};
pub use super::sources::{BurstModel, Overrides};
use crate::located::{read_text, FileError, Located};
use crate::scenario::limits::MAX_VARIANTS;
use crate::units::clip;

/// A cost or pricing file that cannot be used: where and why (an exit 2).
pub type CostError = FileError;

/// A cost file with its prices, both checked.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The cost file (or scenario).
    pub path: PathBuf,
    /// Its `[cost]` table.
    pub input: CostInput,
    /// The prices file it names.
    pub pricing_path: PathBuf,
    /// The prices.
    pub pricing: Pricing,
    /// Each variant's image, in file order.
    pub images: Vec<CostImage>,
    /// The burst model.
    pub model: BurstModel,
    /// What-ifs applied so far, as shown (`size=100MB (distroless: 150 MB → 100 MB)`).
    pub what_ifs: Vec<String>,
}

/// Reads and checks the cost file at `path` and the prices it names.
pub fn load(path: &Path) -> Result<Loaded, CostError> {
    load_with(path, &Overrides::default())
}

/// [`load`] with the calibration and run of `overrides` in place of the file's.
pub fn load_with(path: &Path, overrides: &Overrides) -> Result<Loaded, CostError> {
    let text = read_text(path, "cost file")?;
    let at = Located { path, text: &text };
    let input = cost_table(&at)?;
    check_variants(&input, &at)?;
    let pricing_path = beside(path, input.pricing.get_ref());
    let pricing_text = read_text(&pricing_path, "pricing file")
        .map_err(|e| referenced(&at, &input.pricing, "cost.pricing", &e))?;
    let pricing: Pricing = Located {
        path: &pricing_path,
        text: &pricing_text,
    }
    .parse()?;
    check_keys(&input, &pricing, &at, &pricing_path)?;
    let (model, calibration) = burst_model(&input, overrides, &at)?;
    let run = run_of(&input, overrides, &at)?;
    let sources = Sources {
        run: run.as_ref().map(|(r, p)| (r, p.clone())),
        calibration: calibration.as_ref(),
    };
    let images = input
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| resolve(v, i, &sources, &at))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Loaded {
        path: path.to_path_buf(),
        input,
        pricing_path,
        pricing,
        images,
        model,
        what_ifs: Vec::new(),
    })
}

/// The `[cost]` table of a cost file (nothing else allowed) or of a scenario (a file with
/// `[[variant]]`: its other keys are `coldbench run`'s and ignored here).
fn cost_table(at: &Located) -> Result<CostInput, CostError> {
    let table: toml::Table = at.parse()?;
    if !table.contains_key("variant") {
        return Ok(at.parse::<CostFile>()?.cost);
    }
    at.parse::<ScenarioCost>()?.cost.ok_or_else(|| {
        at.error(
            None,
            Some("cost"),
            "this scenario has no [cost] table: add one (README \"What-if\") or give a cost file such as scenarios/cost/cost-example.toml",
        )
    })
}

/// `relative` resolved against the directory of `file`.
pub(super) fn beside(file: &Path, relative: &str) -> PathBuf {
    file.parent().unwrap_or(Path::new("")).join(relative)
}

/// A file named at `key` that cannot be read, located at the key.
pub(super) fn referenced(
    at: &Located,
    key: &toml::Spanned<String>,
    field: &str,
    e: &FileError,
) -> CostError {
    at.error(
        Some(key.span()),
        Some(field),
        &format!(
            "{}: {}; give a path relative to this file",
            e.file.display(),
            e.message
        ),
    )
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
