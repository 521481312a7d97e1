//! `manabi export-data RECIPE --out DIR`: the recipe's prepared data as CSV files, so other
//! tools (the `bench/` peers) train on exactly the same samples.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use manabi::data::{Dataset, Targets};
use manabi::run::{prepare_data, write_atomic};

use super::{Common, load_recipe};

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Recipe file (TOML).
    recipe: PathBuf,
    /// Folder for train.csv, test.csv (and val.csv when the recipe splits off validation).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let recipe = load_recipe(Some(&args.recipe))?;
    let data = prepare_data(&recipe.data, args.common.data_dir.as_deref())?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    write_csv(&data.train, &args.out.join("train.csv"))?;
    if let Some(val) = &data.val {
        write_csv(val, &args.out.join("val.csv"))?;
    }
    write_csv(&data.test, &args.out.join("test.csv"))?;
    println!(
        "wrote {} train, {} validation and {} test rows to {}",
        data.train.len(),
        data.val.as_ref().map_or(0, |v| v.len()),
        data.test.len(),
        args.out.display()
    );
    Ok(())
}

/// Header `label,x0,...` (regression: `y0..,x0,...`), one sample per line; whole numbers are
/// written without a decimal point (token ids, pixels).
pub(super) fn write_csv(data: &Dataset, path: &Path) -> Result<()> {
    let d = data.sample_len();
    let mut out = String::new();
    let targets = match &data.targets {
        Targets::Classes { .. } => vec!["label".to_string()],
        Targets::Regression { dims, .. } => (0..*dims).map(|j| format!("y{j}")).collect(),
    };
    let header: Vec<String> = targets
        .into_iter()
        .chain((0..d).map(|j| format!("x{j}")))
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for i in 0..data.len() {
        match &data.targets {
            Targets::Classes { labels, .. } => write!(out, "{}", labels[i])?,
            Targets::Regression { values, dims } => {
                let row: Vec<String> = values[i * dims..(i + 1) * dims]
                    .iter()
                    .map(|v| number(*v))
                    .collect();
                out.push_str(&row.join(","));
            }
        }
        for v in data.sample(i) {
            out.push(',');
            out.push_str(&number(*v));
        }
        out.push('\n');
    }
    write_atomic(path, out.as_bytes())?;
    Ok(())
}

fn number(v: f32) -> String {
    if v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
