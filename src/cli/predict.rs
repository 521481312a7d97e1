//! `manabi predict RUN_DIR INPUT`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use manabi::run::predict_run;

use super::Common;

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// A run folder written by `manabi train`.
    run_dir: PathBuf,
    /// Inputs: a CSV of raw feature rows (header optional) or an IDX image file; for a text
    /// run, a file with one text per line, or the text itself in quotes.
    input: String,
    /// Write the predictions (CSV) here instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: PredictArgs) -> Result<()> {
    let device = args.common.device()?;
    let p = predict_run(&args.run_dir, &args.input, &device)?;
    let mut out = String::new();
    let header: Vec<String> = match &p.classes {
        Some(_) => ["row", "class", "label"]
            .iter()
            .map(|s| s.to_string())
            .chain(probability_columns(p.width, p.class_names.as_deref()))
            .collect(),
        None => std::iter::once("row".to_string())
            .chain((0..p.width).map(|j| format!("y{j}")))
            .collect(),
    };
    out.push_str(&header.join(","));
    out.push('\n');
    for (i, row) in p.outputs.chunks(p.width).enumerate() {
        let mut cells = vec![i.to_string()];
        if let Some(classes) = &p.classes {
            let c = classes[i];
            cells.push(c.to_string());
            let label = p
                .class_names
                .as_ref()
                .and_then(|n| n.get(c as usize).cloned())
                .unwrap_or_else(|| c.to_string());
            cells.push(label.replace(',', ";"));
        }
        cells.extend(row.iter().map(|v| format!("{v:.6}")));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    match args.output {
        Some(path) => manabi::run::write_atomic(&path, out.as_bytes())
            .with_context(|| format!("saving predictions to {}", path.display()))?,
        None => std::io::stdout().write_all(out.as_bytes())?,
    }
    Ok(())
}

/// `p0, p1, ...`; a single sigmoid output is the probability of class 1, named after it.
fn probability_columns(width: usize, names: Option<&[String]>) -> Vec<String> {
    match names {
        Some([_, positive]) if width == 1 => vec![format!("p_{}", positive.replace(',', ";"))],
        _ => (0..width).map(|j| format!("p{j}")).collect(),
    }
}
