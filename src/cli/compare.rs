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
    /// Output PNG; a markdown table of the runs' final numbers is written beside it (same
    /// name, `.md`) and printed.
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
    let table = markdown_table(&args.runs, &runs)?;
    let md = args.out.with_extension("md");
    std::fs::write(&md, &table).map_err(|e| anyhow::anyhow!("writing {}: {e}", md.display()))?;
    print!("{table}");
    println!("wrote {} and {}", args.out.display(), md.display());
    Ok(())
}

/// Test metrics (metrics.json) shown in the table, in this order, where the runs have them.
const TABLE_METRICS: [&str; 4] = ["test_accuracy", "test_loss", "test_f1", "test_rmse"];

/// One row per run: its final test metrics, epochs and training seconds; and, for
/// semi-supervised runs, the last mask rate and pseudo-label accuracy.
fn markdown_table(dirs: &[PathBuf], runs: &[(String, History)]) -> Result<String> {
    let mut metrics = Vec::new();
    for dir in dirs {
        let path = RunFiles::new(dir).metrics();
        let map: serde_json::Map<String, serde_json::Value> = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| anyhow::anyhow!("{} is not valid JSON: {e}", path.display()))?,
            Err(_) => serde_json::Map::new(), // an unfinished run: curves only
        };
        metrics.push(map);
    }
    let shown: Vec<&str> = TABLE_METRICS
        .into_iter()
        .filter(|m| metrics.iter().any(|map| map.contains_key(*m)))
        .collect();
    let extra: Vec<&str> = ["mask_rate", "pseudo_accuracy"]
        .into_iter()
        .filter(|m| runs.iter().any(|(_, h)| h.last(m).is_some()))
        .collect();
    let mut out = format!(
        "| run | {} | epochs | train s |",
        [shown.as_slice(), extra.as_slice()].concat().join(" | ")
    );
    out.push_str(&format!(
        "\n|---|{}---|---|\n",
        "---|".repeat(shown.len() + extra.len())
    ));
    let cell = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    for ((name, history), map) in runs.iter().zip(&metrics) {
        let mut row = vec![name.clone()];
        row.extend(
            shown
                .iter()
                .map(|m| cell(map.get(*m).and_then(|v| v.as_f64()))),
        );
        row.extend(extra.iter().map(|m| cell(history.last(m))));
        row.push(history.len().to_string());
        row.push(
            map.get("train_seconds")
                .and_then(|v| v.as_f64())
                .map_or("-".into(), |s| format!("{s:.0}")),
        );
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    Ok(out)
}
