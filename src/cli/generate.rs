//! `manabi generate RUN_DIR PROMPT`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use manabi::lm::Sampling;
use manabi::run::{GenerateOptions, generate_run};

use super::Common;

/// Continues a prompt with a next-piece (GPT-style) run.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// A run folder of a `next_token` recipe.
    run_dir: PathBuf,
    /// The text to continue.
    prompt: String,
    /// Most pieces drawn per continuation.
    #[arg(long, default_value_t = 40)]
    max_pieces: usize,
    /// Softmax temperature; 0 takes the most likely piece every time (greedy).
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Draw among the k most likely pieces only (0: all).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Draw among the fewest most likely pieces whose probabilities reach p (1: all).
    #[arg(long, default_value_t = 1.0)]
    top_p: f64,
    /// Seed of the first continuation; the others use the next seeds.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continuations to draw.
    #[arg(long, default_value_t = 1)]
    samples: usize,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: GenerateArgs) -> Result<()> {
    let device = args.common.device()?;
    let opts = GenerateOptions {
        max_pieces: args.max_pieces,
        sampling: Sampling {
            temperature: args.temperature,
            top_k: args.top_k,
            top_p: args.top_p,
        },
        seed: args.seed,
        samples: args.samples,
    };
    let out = generate_run(&args.run_dir, &args.prompt, &opts, &device)?;
    if out.dropped > 0 {
        eprintln!(
            "notice: the prompt is longer than the model's window of {} pieces; its first {} pieces were dropped",
            out.window, out.dropped
        );
    }
    for text in &out.texts {
        println!("{}{}", args.prompt, text);
    }
    Ok(())
}
