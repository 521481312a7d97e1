//! Command-line parsing and dispatch (the binary's side: arguments, device, progress).

mod augment_preview;
mod compare;
mod embed;
mod evaluate;
mod export;
mod generate;
mod predict;
mod progress;
#[cfg(feature = "remote")]
mod serve;
mod shift;
mod summary;
mod train;

use std::path::PathBuf;

use anyhow::Result;
use burn::tensor::Device;
use clap::{Args, Parser, Subcommand};
use manabi::recipe::Recipe;

/// Deep learning with fewer labels.
#[derive(Parser, Debug)]
#[command(name = "manabi", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a recipe (the default digits MLP when none is given) into a run folder.
    Train(train::TrainArgs),
    /// Evaluate a finished run on its test set.
    Evaluate(evaluate::EvaluateArgs),
    /// Predict with a finished run on new inputs (CSV rows or an IDX image file).
    Predict(predict::PredictArgs),
    /// Print a recipe's model: layers, output shapes, parameter counts.
    Summary(summary::SummaryArgs),
    /// Lay the learning curves of several runs side by side in one PNG.
    Compare(compare::CompareArgs),
    /// Write a recipe's prepared data (after preprocessing and splits) as CSV files.
    ExportData(export::ExportArgs),
    /// Write the features a finished run's layers extract (for use elsewhere) as CSV.
    Embed(embed::EmbedArgs),
    /// Draw a recipe's training images beside their augmented views, as a PNG grid.
    AugmentPreview(augment_preview::AugmentPreviewArgs),
    /// Compare new data with a reference: covariate, label and concept shift.
    Shift(shift::ShiftArgs),
    /// Continue a prompt with a next-piece (GPT-style) language-model run.
    Generate(generate::GenerateArgs),
    /// Host this machine's device for `--device remote://HOST:PORT` clients.
    #[cfg(feature = "remote")]
    Serve(serve::ServeArgs),
}

/// Options shared by commands that read data or compute.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Folder holding the datasets (mnist/, fashion-mnist/, usps/, sklearn-diabetes/).
    #[arg(long, env = "MANABI_DATA")]
    data_dir: Option<PathBuf>,
    /// Compute device: cpu (the Flex backend), remote://HOST:PORT (a `manabi serve` elsewhere),
    /// or vulkan[:N] / wgpu[:N] / cuda:N when built with that feature.
    #[arg(long, default_value = "cpu")]
    device: String,
}

impl Common {
    fn device(&self) -> Result<Device> {
        parse_device(&self.device)
    }
}

/// The server a run trains through, once `--device remote://...` connected: a panic after that
/// is most likely the connection failing, and the panic hook says so.
static REMOTE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `remote://HOST:PORT`, or a local device ([`manabi::gpu::device_named`]).
fn parse_device(name: &str) -> Result<Device> {
    #[cfg(feature = "remote")]
    if let Some(address) = manabi::remote::remote_address(name) {
        let token = std::env::var("MANABI_REMOTE_TOKEN").ok();
        let device = manabi::remote::connect(address, token.as_deref())?;
        let _ = REMOTE.set(address.to_string());
        return Ok(device);
    }
    manabi::gpu::device_named(name)
}

/// Reads a recipe file, or the built-in default when `path` is `None`.
fn load_recipe(path: Option<&PathBuf>) -> Result<Recipe> {
    Ok(match path {
        Some(p) => Recipe::load(p)?,
        None => Recipe::default_recipe(),
    })
}

/// Runs the parsed command (no subcommand trains the default recipe).
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => train::run(train::TrainArgs::default()),
        Some(Command::Train(a)) => train::run(a),
        Some(Command::Evaluate(a)) => evaluate::run(a),
        Some(Command::Predict(a)) => predict::run(a),
        Some(Command::Summary(a)) => summary::run(a),
        Some(Command::Compare(a)) => compare::run(a),
        Some(Command::ExportData(a)) => export::run(a),
        Some(Command::Embed(a)) => embed::run(a),
        Some(Command::AugmentPreview(a)) => augment_preview::run(a),
        Some(Command::Shift(a)) => shift::run(a),
        Some(Command::Generate(a)) => generate::run(a),
        #[cfg(feature = "remote")]
        Some(Command::Serve(a)) => serve::run(a),
    }
}

/// Panics are bugs: report them in one line, without a backtrace, and ask for a report.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Some(server) = REMOTE.get() {
            eprintln!(
                "error: the computation on the manabi server at {server} failed ({msg}{at}); most likely the server stopped or the connection dropped.\nA run folder keeps its last checkpoint: start the server again and add --resume to the same command (or resume with --device cpu)."
            );
            return;
        }
        eprintln!(
            "error: internal error{at}: {msg}\nThis is a bug in manabi; please report it with the command you ran."
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_or_say_what_this_build_offers() {
        assert!(parse_device("cpu").is_ok());
        let err = parse_device("tpu").unwrap_err().to_string();
        assert!(
            err.contains("unknown device 'tpu'") && err.contains("cpu"),
            "{err}"
        );
        let err = parse_device("vulkan:x").unwrap_err().to_string();
        assert!(err.contains("GPU index"), "{err}");
        if !cfg!(feature = "vulkan") {
            let err = parse_device("vulkan:0").unwrap_err().to_string();
            assert!(err.contains("--features vulkan"), "{err}");
        }
    }
}
