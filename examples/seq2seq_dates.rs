//! Trains a sequence-to-sequence recipe on generated dates and prints its test scores.
//!
//! ```text
//! cargo run --release --example seq2seq_dates -- recipes/seq2seq_attention.toml runs/s2s_rnn
//! ```

use std::path::PathBuf;

use burn::tensor::Device;
use manabi::seq2seq::{Seq2SeqConfig, load_seq2seq, train_seq2seq, translate};
use manabi::train::Observer;
use serde::Deserialize;

#[derive(Deserialize)]
struct Recipe {
    name: String,
    seed: u64,
    seq2seq: Seq2SeqConfig,
}

/// Prints one line per epoch.
struct Lines;

impl Observer for Lines {
    fn on_epoch_end(&mut self, epoch: usize, logs: &[(&str, f64)]) {
        let logs: Vec<String> = logs.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
        println!("epoch {epoch}: {}", logs.join(", "));
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let recipe = PathBuf::from(
        args.next()
            .unwrap_or("recipes/seq2seq_attention.toml".into()),
    );
    let run_dir = PathBuf::from(args.next().unwrap_or("runs/seq2seq_dates".into()));
    let recipe: Recipe = toml::from_str(&std::fs::read_to_string(&recipe)?)?;
    let device = Device::flex();
    println!("{}: {:?}", recipe.name, recipe.seq2seq);
    let report = train_seq2seq(&recipe.seq2seq, recipe.seed, &run_dir, &device, &mut Lines)?;
    println!(
        "test exact match {:.4}, token accuracy {:.4}, {} epochs (best {}), {:.1} s",
        report.test_exact_match,
        report.test_token_accuracy,
        report.epochs,
        report.best_epoch,
        report.train_seconds
    );
    for (input, want, got) in &report.examples {
        let mark = if want == got { "ok " } else { "BAD" };
        println!("{mark} {input:>32} -> {got} (expected {want})");
    }
    let model = load_seq2seq(&recipe.seq2seq, &run_dir.join("model.bpk"), &device)?;
    let inputs = [
        "3rd of March 1998",
        "Mar 3, 98",
        "tuesday, march 3, 1998",
        "1 jan 2000",
    ];
    for (input, t) in inputs.iter().zip(translate(&model, &inputs, 8, &device)) {
        println!("{input:>32} -> {}", t.text);
    }
    Ok(())
}
