//! `manabi generate`: continuations of a prompt by a finished next-piece (GPT-style) run.

use std::path::Path;

use burn::tensor::Device;

use super::train_run::load_trained_model;
use crate::lm::{Generator, LmObjective, Prompt, Sampling};
use crate::recipe::MethodSection;
use crate::{Error, Result};

/// How continuations are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerateOptions {
    /// Most pieces drawn per continuation.
    pub max_pieces: usize,
    /// Temperature, top-k and top-p.
    pub sampling: Sampling,
    /// Seed of the first continuation (the next ones use the following seeds).
    pub seed: u64,
    /// Continuations to draw.
    pub samples: usize,
}

/// The continuations of a prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Continuations {
    /// Pieces cut from the prompt's start to fit the model's window (0: it fit).
    pub dropped: usize,
    /// The window, pieces.
    pub window: usize,
    /// One text per continuation (the drawn pieces only, not the prompt).
    pub texts: Vec<String>,
}

/// Continues `prompt` with the next-piece model of the run in `dir`.
///
/// # Errors
/// [`Error::Invalid`] when the run is not a finished `next_token` run or an option is out of
/// range; the loading errors of [`load_trained_model`].
pub fn generate_run(
    dir: &Path,
    prompt: &str,
    opts: &GenerateOptions,
    device: &Device,
) -> Result<Continuations> {
    opts.sampling.validate()?;
    if opts.samples == 0 || opts.max_pieces == 0 {
        return Err(Error::invalid(
            "--samples / --max-pieces",
            "both must be at least 1",
        ));
    }
    let run = load_trained_model(dir, device)?;
    let spec = run
        .recipe
        .method
        .as_ref()
        .and_then(MethodSection::language_model)
        .filter(|s| s.objective == LmObjective::NextToken)
        .ok_or_else(|| {
            Error::invalid(
                "run folder",
                format!(
                    "{} is not a next-piece language model: generate with a run of [method] kind = \"next_token\"",
                    dir.display()
                ),
            )
        })?;
    let encoding = run
        .text
        .as_ref()
        .and_then(|t| t.subword())
        .ok_or_else(|| Error::invalid("run folder", "the run has no subword vocabulary"))?;
    let prompt = Prompt::new(encoding, prompt);
    let generator = Generator {
        model: &run.model,
        decoder_layers: spec.encoder_layers,
        window: encoding.maxlen,
        device,
    };
    let texts = (0..opts.samples)
        .map(|k| {
            let pieces = generator.continue_prompt(
                &prompt,
                opts.max_pieces,
                &opts.sampling,
                opts.seed + k as u64,
            );
            encoding.vocab.decode(&pieces)
        })
        .collect();
    Ok(Continuations {
        dropped: prompt.dropped,
        window: encoding.maxlen,
        texts,
    })
}
