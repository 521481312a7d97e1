//! `manabi train`.

use std::path::PathBuf;

use anyhow::Result;
use burn::tensor::Device;
use clap::Args;
use manabi::recipe::{AnyRecipe, Recipe, Seq2SeqRecipe};
use manabi::run::{RunOptions, train_recipe, train_seq2seq_recipe};

use super::Common;
use super::progress::Progress;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Recipe file (TOML); the default digits MLP when omitted.
    recipe: Option<PathBuf>,
    /// Run folder (default: runs/<recipe name>, or a fresh runs/<name>-N when it exists).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a recipe value, e.g. --set training.epochs=2 (repeatable).
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    set: Vec<String>,
    /// Continue the run in the run folder from its last checkpoint.
    #[arg(long)]
    resume: bool,
    /// Data-parallel training over several devices, e.g. vulkan:0,vulkan:1 (not built yet:
    /// refused with the reason).
    #[arg(long, value_delimiter = ',', value_name = "DEVICE,DEVICE,..")]
    devices: Vec<String>,
    #[command(flatten)]
    common: Common,
}

impl Default for TrainArgs {
    fn default() -> Self {
        Self {
            recipe: None,
            out: None,
            set: Vec::new(),
            resume: false,
            devices: Vec::new(),
            common: Common {
                data_dir: std::env::var_os("MANABI_DATA").map(PathBuf::from),
                device: "cpu".into(),
            },
        }
    }
}

pub fn run(args: TrainArgs) -> Result<()> {
    check_devices(&args.devices)?;
    let recipe = match &args.recipe {
        Some(p) => AnyRecipe::load(p)?,
        None => AnyRecipe::Supervised(Box::new(Recipe::default_recipe())),
    }
    .with_overrides(&args.set)?;
    let out = match args.out {
        Some(o) => o,
        None if args.resume => PathBuf::from("runs").join(recipe.name()),
        None => fresh_run_dir(recipe.name()),
    };
    let device = args.common.device()?;
    eprintln!(
        "manabi: training '{}' into {}{}",
        recipe.name(),
        out.display(),
        if args.resume { " (resuming)" } else { "" }
    );
    let opts = RunOptions {
        data_dir: args.common.data_dir.clone(),
        out,
        resume: args.resume,
    };
    match recipe {
        AnyRecipe::Supervised(r) => train_supervised(&r, &opts, &device),
        AnyRecipe::Seq2Seq(r) => train_seq2seq(&r, &opts, &device),
    }
}

/// `--devices`: one device is `--device`; several would be data-parallel training, which
/// manabi does not offer yet.
fn check_devices(devices: &[String]) -> Result<()> {
    match devices {
        [] => Ok(()),
        [one] => anyhow::bail!("--devices {one}: for one device use --device {one}"),
        many => {
            let cpu = many.iter().any(|d| d == "cpu" || d == "flex");
            anyhow::bail!(
                "--devices {}: data-parallel training is not built yet. {}Train on one device with --device (docs/scaling.md says what is planned).",
                many.join(","),
                if cpu {
                    "Burn 0.22's CPU backend has no collective operations (its all-reduce is unimplemented), so CPU devices cannot share gradients. "
                } else {
                    "manabi has no multi-GPU step: Burn 0.22's collective operations exist only on its CUDA backend (through NCCL; Vulkan and wgpu have none), and that backend cannot be built offline. "
                }
            )
        }
    }
}

fn train_seq2seq(recipe: &Seq2SeqRecipe, opts: &RunOptions, device: &Device) -> Result<()> {
    let mut progress = Progress::new(device);
    let report = train_seq2seq_recipe(recipe, opts, device, &mut progress)?;
    for (input, want, got) in &report.examples {
        let mark = if want == got { "ok   " } else { "wrong" };
        println!("{mark} {input:>34} -> {got} (expected {want})");
    }
    println!(
        "test_exact_match: {:.4}\ntest_token_accuracy: {:.4}",
        report.test_exact_match, report.test_token_accuracy
    );
    println!(
        "trained {} epochs (kept epoch {}) in {:.1}s; run folder: {}",
        report.epochs,
        report.best_epoch,
        report.train_seconds,
        opts.out.display()
    );
    Ok(())
}

fn train_supervised(recipe: &Recipe, opts: &RunOptions, device: &Device) -> Result<()> {
    let mut progress = Progress::new(device);
    let report = train_recipe(recipe, opts, device, &mut progress)?;
    println!("{}", report.summary);
    if let Some(e) = report.stopped_at {
        println!("early stopping at epoch {e}");
    }
    if report.test.loss.is_finite() {
        // A linear-SVM or nearest-neighbour head has no loss.
        println!("test_loss: {:.4}", report.test.loss);
    }
    for (name, value) in &report.test.metrics {
        println!("test_{name}: {value:.4}");
    }
    if let Some(b) = report.baseline_rmse {
        println!("baseline (predict the training mean) rmse: {b:.4}");
    }
    println!(
        "trained in {:.1}s; run folder: {}",
        report.train_seconds,
        report.dir.display()
    );
    Ok(())
}

/// `runs/<name>`, or `runs/<name>-2`, `-3`, ... when taken, so no run is ever overwritten.
fn fresh_run_dir(name: &str) -> PathBuf {
    // The recipe name becomes one folder name: no separators, no "..".
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.as_str();
    let base = PathBuf::from("runs");
    let first = base.join(name);
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|i| base.join(format!("{name}-{i}")))
        .find(|p| !p.exists())
        .expect("an unused folder name")
}
