//! Sequence-to-sequence recipes in a run folder: training, and translating with a
//! finished run.

use std::path::Path;

use burn::tensor::Device;

use super::files::{RunFiles, write_atomic};
use super::train_run::RunOptions;
use crate::recipe::{AnyRecipe, Seq2SeqRecipe};
use crate::seq2seq::{Seq2SeqReport, load_seq2seq, train_seq2seq, translate};
use crate::train::Observer;
use crate::{Error, Result};

/// Trains a `[seq2seq]` recipe into `opts.out`: its recipe, weights, history, curves,
/// metrics (with `test_exact_match`) and, for the attending RNN, an attention heat map.
///
/// # Errors
/// [`Error::Invalid`] when `opts.out` already holds a run or `opts.resume` is set (these
/// runs are short and restart from scratch); training errors.
pub fn train_seq2seq_recipe(
    recipe: &Seq2SeqRecipe,
    opts: &RunOptions,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Seq2SeqReport> {
    recipe.seq2seq.validate()?;
    let files = RunFiles::new(&opts.out);
    if opts.resume {
        return Err(Error::invalid(
            "--resume",
            "sequence-to-sequence runs do not resume; start a fresh run (they take minutes)",
        ));
    }
    if files.recipe().exists() {
        return Err(Error::invalid(
            "--out",
            format!(
                "{} already holds a run; choose another --out",
                files.dir.display()
            ),
        ));
    }
    std::fs::create_dir_all(&files.dir).map_err(|e| Error::io("creating", &files.dir, e))?;
    write_atomic(&files.recipe(), recipe.to_toml().as_bytes())?;
    train_seq2seq(&recipe.seq2seq, recipe.seed, &files.dir, device, observer)
}

/// Translates `inputs` with the finished sequence-to-sequence run in `dir`.
///
/// # Errors
/// [`Error::Invalid`] when `dir` holds no sequence-to-sequence run; [`Error::Record`] for
/// unreadable weights.
pub fn translate_run(dir: &Path, inputs: &[String], device: &Device) -> Result<Vec<String>> {
    let recipe = match load_run_recipe(dir)? {
        AnyRecipe::Seq2Seq(r) => r,
        AnyRecipe::Supervised(_) => {
            return Err(Error::invalid(
                "run folder",
                format!("{} is not a sequence-to-sequence run", dir.display()),
            ));
        }
    };
    let model = load_seq2seq(&recipe.seq2seq, &RunFiles::new(dir).model(), device)?;
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    Ok(translate(&model, &refs, 64, device)
        .into_iter()
        .map(|t| t.text)
        .collect())
}

/// The recipe saved in the run folder `dir`, of either kind.
///
/// # Errors
/// [`Error::Invalid`] when `dir` has no `recipe.toml`; parse errors naming the file.
pub fn load_run_recipe(dir: &Path) -> Result<AnyRecipe> {
    let path = RunFiles::new(dir).recipe();
    if !path.is_file() {
        return Err(Error::invalid(
            "run folder",
            format!(
                "{} has no recipe.toml: is it a manabi run folder?",
                dir.display()
            ),
        ));
    }
    AnyRecipe::load(&path)
}
