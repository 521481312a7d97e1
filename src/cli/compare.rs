//! `manabi compare RUN_DIR...`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use manabi::plot::plot_compare;
use manabi::run::RunFiles;
use manabi::train::History;

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Run folders written by `manabi train`.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// History columns to plot, one panel each.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "loss,val_loss,val_accuracy"
    )]
    metrics: Vec<String>,
    /// Output PNG.
    #[arg(long, default_value = "compare.png")]
    out: PathBuf,
}

pub fn run(args: CompareArgs) -> Result<()> {
    let mut runs = Vec::new();
    for dir in &args.runs {
        let h = History::read_csv(RunFiles::new(dir).history())?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| dir.display().to_string());
        runs.push((name, h));
    }
    let metrics: Vec<&str> = args
        .metrics
        .iter()
        .map(String::as_str)
        .filter(|m| runs.iter().any(|(_, h)| h.series(m).is_some()))
        .collect();
    if metrics.is_empty() {
        bail!(
            "none of the metrics {:?} is in the runs' history.csv",
            args.metrics
        );
    }
    plot_compare(&runs, &metrics, &args.out)?;
    println!("wrote {}", args.out.display());
    Ok(())
}
