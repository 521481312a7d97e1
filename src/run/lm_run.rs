//! Language-model runs (issue 10): checks that a recipe's model fits its subword vocabulary,
//! the pre-training itself, and the final scores on held-out test texts (with the unigram and
//! bigram baselines for next-piece prediction).

use std::path::Path;

use burn::tensor::Device;

use super::prepare::{PreparedData, load_vocabulary};
use crate::lm::{LmObjective, NgramCounts};
use crate::model::{LayerConfig, Sequential};
use crate::recipe::{LmSpec, Recipe};
use crate::train::{
    Evaluation, FitConfig, FitOutcome, LmCorpus, Observer, fit_language_model, score_language_model,
};
use crate::{Error, Result};

/// The vocabulary size of a run on subword text, `None` for other data.
fn subword_vocab_size(data: &PreparedData) -> Option<usize> {
    data.text
        .as_ref()
        .and_then(|t| t.subword())
        .map(|s| s.vocab.len())
}

/// Checks that every embedding of the model has one row per piece of the run's subword
/// vocabulary, and that a run named in `[transfer] init_from` encoded its text with the same
/// vocabulary: a model never reads ids from another vocabulary.
///
/// # Errors
/// [`Error::Invalid`] naming the layer or the run.
pub fn check_vocabulary(recipe: &Recipe, data: &PreparedData) -> Result<()> {
    let Some(vocab) = data.text.as_ref().and_then(|t| t.subword()) else {
        return Ok(());
    };
    let size = vocab.vocab.len();
    for (i, layer) in recipe.model.layers.iter().enumerate() {
        if let LayerConfig::Embedding { input_dim, .. } = layer
            && *input_dim != size
        {
            return Err(Error::invalid(
                format!("model.layers[{i}].input_dim"),
                format!(
                    "the subword vocabulary has {size} pieces but the embedding has {input_dim} rows: set input_dim = {size}"
                ),
            ));
        }
    }
    if let Some(source) = recipe
        .transfer
        .as_ref()
        .and_then(|t| t.init_from.as_deref())
    {
        check_same_vocabulary(source, &vocab.vocab)?;
    }
    Ok(())
}

/// The run in `source` must have encoded subwords with `vocab`.
fn check_same_vocabulary(source: &Path, vocab: &crate::data::SubwordVocab) -> Result<()> {
    let theirs = load_vocabulary(source).map_err(|e| {
        Error::invalid(
            "transfer.init_from",
            format!(
                "the model comes from {}, whose vocabulary cannot be read ({e}); fine-tune with the vocabulary it was trained with",
                source.display()
            ),
        )
    })?;
    if !theirs.same_as(vocab) {
        return Err(Error::invalid(
            "data.text.vocab",
            format!(
                "the vocabulary does not match the model's: {} was trained with another one; set vocab = \"{}\" in [data.text]",
                source.display(),
                source.display()
            ),
        ));
    }
    Ok(())
}

/// Checks a language-model recipe: subword text, and a model ending in one score per piece.
///
/// # Errors
/// [`Error::Invalid`] / [`Error::Shape`] saying what to change.
pub fn check_language_model(recipe: &Recipe, data: &PreparedData, spec: &LmSpec) -> Result<()> {
    let Some(size) = subword_vocab_size(data) else {
        return Err(Error::invalid(
            "data.text.tokenizer",
            "language-model pre-training reads subword text: set tokenizer = \"subword\" in [data.text]",
        ));
    };
    let shapes = recipe.model.check_layers(&data.train.sample_shape)?;
    let last = recipe.model.layers.len() - 1;
    match shapes.last().map(Vec::as_slice) {
        Some(&[_, units]) if units == size => {}
        Some(shape) => {
            return Err(Error::Shape {
                index: last,
                layer: recipe.model.layers[last].kind().into(),
                message: format!(
                    "a language model ends in one score per piece at every step, [time, {size}]; this one outputs {shape:?}"
                ),
            });
        }
        None => return Err(Error::invalid("model.layers", "the model has no layers")),
    }
    if let Some(shape) = shapes.get(spec.encoder_layers - 1)
        && shape.len() != 2
    {
        return Err(Error::invalid(
            "method.encoder_layers",
            format!(
                "the encoder must output a vector per step; layer {} outputs {shape:?}",
                spec.encoder_layers - 1
            ),
        ));
    }
    Ok(())
}

/// The pre-training corpus: the training texts plus the unlabelled ones.
fn corpus(data: &PreparedData, size: usize) -> Result<LmCorpus> {
    let mut sets = vec![&data.train];
    if let Some(u) = &data.unlabelled {
        sets.push(u);
    }
    LmCorpus::new(&sets, size)
}

/// Pre-trains `model` on the training texts plus the unlabelled ones; the validation split is
/// the held-out set scored after each epoch.
pub fn train_language_model(
    model: Sequential,
    data: &PreparedData,
    spec: &LmSpec,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    let size = subword_vocab_size(data).expect("checked by check_language_model");
    let corpus = corpus(data, size)?;
    let val = match &data.val {
        Some(v) => Some(LmCorpus::new(&[v], size)?),
        None => None,
    };
    fit_language_model(model, &corpus, val.as_ref(), spec, cfg, device, observer)
}

/// Scores the pre-trained `model` (without autodiff) on the first `spec.eval_texts` test
/// texts: loss and piece accuracy, and for next-piece prediction its perplexity beside the
/// unigram and bigram models counted on the pre-training corpus.
pub fn evaluate_language_model(
    model: &Sequential,
    data: &PreparedData,
    spec: &LmSpec,
    device: &Device,
) -> Result<Evaluation> {
    let size = subword_vocab_size(data).expect("checked by check_language_model");
    let test = LmCorpus::new(&[&data.test], size)?;
    let s = score_language_model(
        model,
        spec.encoder_layers,
        spec.objective,
        &test,
        spec.eval_texts,
        device,
    );
    let mut metrics = vec![
        ("accuracy".to_string(), s.accuracy),
        ("scored_pieces".to_string(), s.scored as f64),
    ];
    if spec.objective == LmObjective::NextToken {
        let corpus = corpus(data, size)?;
        let counts = NgramCounts::fit(&corpus.ids, corpus.seq_len, size);
        let rows = test.len().min(spec.eval_texts);
        let held_out = &test.ids[..rows * test.seq_len];
        let (unigram, bigram) = counts.perplexities(held_out, test.seq_len);
        metrics.push(("perplexity".to_string(), s.loss.exp()));
        metrics.push(("unigram_perplexity".to_string(), unigram));
        metrics.push(("bigram_perplexity".to_string(), bigram));
    }
    Ok(Evaluation {
        loss: s.loss,
        metrics,
        confusion: None,
        regression: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{SequenceConfig, SubwordEncoding, SubwordVocab, TextEncoding, WordIndex};

    fn vocab(corpus: &[&str]) -> SubwordVocab {
        SubwordVocab::train(corpus.iter().cycle().take(40), 300, 2).unwrap()
    }

    fn run_with(encoding: &TextEncoding) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("text_encoding.json"), encoding.to_json()).unwrap();
        dir
    }

    #[test]
    fn a_vocabulary_that_does_not_match_the_model_is_refused() {
        let ours = vocab(&["a good film", "a bad film"]);
        let theirs = vocab(&["the acting was great", "dull plot and acting"]);
        let same = run_with(&TextEncoding::Subword(Box::new(
            SubwordEncoding::new(ours.clone(), 16).unwrap(),
        )));
        check_same_vocabulary(same.path(), &ours).unwrap();
        let other = run_with(&TextEncoding::Subword(Box::new(
            SubwordEncoding::new(theirs, 16).unwrap(),
        )));
        let err = check_same_vocabulary(other.path(), &ours)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not match"), "{err}");
        let words = run_with(&TextEncoding::new(
            SequenceConfig::new(10, 5),
            &WordIndex::from_ranks([("film".to_string(), 1)]),
        ));
        let err = check_same_vocabulary(words.path(), &ours)
            .unwrap_err()
            .to_string();
        assert!(err.contains("encodes words"), "{err}");
        let empty = tempfile::tempdir().unwrap();
        let err = check_same_vocabulary(empty.path(), &ours)
            .unwrap_err()
            .to_string();
        assert!(err.contains("text_encoding.json"), "{err}");
    }

    #[test]
    fn an_empty_corpus_is_a_clear_error() {
        let empty = crate::data::Dataset::new(
            Vec::new(),
            vec![8],
            crate::data::Targets::Classes {
                labels: Vec::new(),
                num_classes: 1,
            },
        )
        .unwrap();
        let err = LmCorpus::new(&[&empty], 100).unwrap_err().to_string();
        assert!(err.contains("no text"), "{err}");
    }
}
