//! `manabi evaluate RUN_DIR`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use manabi::run::evaluate_run;

use super::Common;

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// A run folder written by `manabi train`.
    run_dir: PathBuf,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: EvaluateArgs) -> Result<()> {
    let device = args.common.device()?;
    let e = evaluate_run(&args.run_dir, args.common.data_dir.as_deref(), &device)?;
    println!("test_loss: {:.4}", e.loss);
    for (name, value) in &e.metrics {
        println!("test_{name}: {value:.4}");
    }
    Ok(())
}
