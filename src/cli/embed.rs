//! `manabi embed RUN_DIR --out FILE`: the features a finished run's layers extract from its
//! dataset (by default the output of the last hidden layer), as CSV for use elsewhere.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use manabi::data::Dataset;
use manabi::run::{backbone_features, load_trained_model, prepare_data};

use super::Common;
use super::export::write_csv;

/// Which part of the run's data to embed.
#[derive(ValueEnum, Clone, Copy, Debug)]
enum Split {
    Train,
    Test,
}

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// A finished run folder.
    run: PathBuf,
    /// CSV file to write: `label,x0,x1,...`, one sample per line.
    #[arg(long)]
    out: PathBuf,
    /// How many leading layers to run (default: all but the output layer).
    #[arg(long)]
    layers: Option<usize>,
    /// Which samples of the run's dataset.
    #[arg(long, value_enum, default_value = "test")]
    split: Split,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: EmbedArgs) -> Result<()> {
    let device = args.common.device()?;
    let run = load_trained_model(&args.run, &device)?;
    let total = run.model.layers.len();
    let layers = args.layers.unwrap_or(total.saturating_sub(1).max(1));
    if layers == 0 || layers > total {
        bail!(
            "--layers {layers}: the run's model has layers 1..={total} to run (see `manabi summary`)"
        );
    }
    let data = prepare_data(&run.recipe.data, args.common.data_dir.as_deref())?;
    let source = match args.split {
        Split::Train => &data.train,
        Split::Test => &data.test,
    };
    let (features, d) = backbone_features(&run.model, layers, source, &device);
    let embedded = Dataset::new(features, vec![d], source.targets.clone())?;
    write_csv(&embedded, &args.out)?;
    println!(
        "wrote {} samples x {d} features (after {layers} of {total} layers) to {}",
        embedded.len(),
        args.out.display()
    );
    Ok(())
}
