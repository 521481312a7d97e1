//! `manabi predict RUN_DIR INPUT`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::Device;
use clap::Args;
use manabi::recipe::AnyRecipe;
use manabi::run::{load_run_recipe, predict_run, read_texts, translate_run};

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
    let out = match load_run_recipe(&args.run_dir)? {
        AnyRecipe::Seq2Seq(_) => translations(&args, &device)?,
        AnyRecipe::Supervised(_) => predictions(&args, &device)?,
    };
    match args.output {
        Some(path) => manabi::run::write_atomic(&path, out.as_bytes())
            .with_context(|| format!("saving predictions to {}", path.display()))?,
        None => std::io::stdout().write_all(out.as_bytes())?,
    }
    Ok(())
}

/// `input,output` CSV rows of a sequence-to-sequence run.
fn translations(args: &PredictArgs, device: &Device) -> Result<String> {
    let inputs = read_texts(&args.input)?;
    let outputs = translate_run(&args.run_dir, &inputs, device)?;
    let mut out = String::from("input,output\n");
    for (i, o) in inputs.iter().zip(outputs) {
        out.push_str(&format!(
            "\"{}\",\"{}\"\n",
            i.replace('"', "\"\""),
            o.replace('"', "\"\"")
        ));
    }
    Ok(out)
}

/// `row,class,label,p..` (or `row,y..`) CSV rows of a supervised run.
fn predictions(args: &PredictArgs, device: &Device) -> Result<String> {
    let p = predict_run(&args.run_dir, &args.input, device)?;
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
    Ok(out)
}

/// `p0, p1, ...`; a single sigmoid output is the probability of class 1, named after it.
fn probability_columns(width: usize, names: Option<&[String]>) -> Vec<String> {
    match names {
        Some([_, positive]) if width == 1 => vec![format!("p_{}", positive.replace(',', ";"))],
        _ => (0..width).map(|j| format!("p{j}")).collect(),
    }
}
