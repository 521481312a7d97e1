//! Loading a recipe's data: source, limits, validation split, preprocessing fitted on the
//! training part only.

use std::path::{Path, PathBuf};

use crate::data::{
    CsvSpec, Dataset, DatasetName, Preprocessor, Targets, TextEncoding, align_classes,
    imdb_word_index, keep_classes, load_builtin, load_csv, load_imdb, load_imdb_unsup,
    load_text_splits, per_class_indices, validation_split,
};
use crate::data::{ImageStream, Review, SubwordEncoding, SubwordVocab, read_imdb_texts};
use crate::recipe::{
    CsvFiles, DataSection, TargetSection, TextSection, TokenizerKind, UnlabelledSource,
};
use crate::train::{Unlabelled, UnlabelledStream};

/// A run's text encoding file.
pub(crate) const TEXT_ENCODING: &str = "text_encoding.json";
use crate::{Error, Result};

/// A recipe's data, ready for training.
#[derive(Debug, Clone)]
pub struct PreparedData {
    /// Training samples (after the validation split and preprocessing).
    pub train: Dataset,
    /// Validation samples, when `validation_split > 0`.
    pub val: Option<Dataset>,
    /// Test samples.
    pub test: Dataset,
    /// The fitted preprocessing steps, in order.
    pub preprocessors: Vec<Preprocessor>,
    /// For text data: how new texts are encoded like the training texts.
    pub text: Option<TextEncoding>,
    /// Unlabelled training samples (`[data] unlabelled`), preprocessed like the training set.
    /// Their targets are the hidden true labels where `unlabelled_truth` (only diagnostics
    /// read them), else placeholders.
    pub unlabelled: Option<Dataset>,
    /// Whether the unlabelled samples' targets are their true classes (`"rest"`) rather than
    /// placeholders (`"imdb_unsup"`).
    pub unlabelled_truth: bool,
    /// `[data] unlabelled_idx`: unlabelled images read from disk a batch at a time; each batch
    /// goes through `preprocessors` when it is read.
    pub unlabelled_stream: Option<ImageStream>,
    /// With `[data.target]`: the source's own test set (the run's `test` is the target's).
    pub source_test: Option<Dataset>,
    /// With `train_per_class`: the indices of the labelled samples in the training data (after
    /// `classes` and `train_limit`), so that other tools can train on the same labels.
    pub labelled_indices: Option<Vec<usize>>,
    /// With `train_per_class` on IMDB's subword sequences: the labelled reviews' paths in the
    /// archive.
    pub labelled_names: Option<Vec<String>>,
}

/// A data source's training and test sets before any preprocessing.
#[derive(Debug, Clone)]
pub(crate) struct RawData {
    pub train: Dataset,
    pub test: Dataset,
    pub text: Option<TextEncoding>,
    /// Unlabelled samples read with the training set (IMDB's subword sequences).
    pub unlabelled: Option<Dataset>,
    /// A name per training sample (IMDB reviews: their path in the archive).
    pub train_names: Option<Vec<String>>,
}

/// Loads and prepares the data a recipe describes; `data_dir` is where datasets live.
pub fn prepare_data(section: &DataSection, data_dir: Option<&Path>) -> Result<PreparedData> {
    section.validate()?;
    let RawData {
        mut train,
        mut test,
        text,
        unlabelled: raw_unlabelled,
        mut train_names,
    } = load_raw(section, data_dir)?;
    if let Some(classes) = &section.classes {
        train_names = None;
        train = keep_classes(&train, classes, "the training data")?;
        test = keep_classes(&test, classes, "the test data")?;
    }
    if let Some(n) = section.train_limit {
        train = train.take(n);
    }
    if let Some(n) = section.test_limit {
        test = test.take(n);
    }
    let mut unlabelled = None;
    let mut labelled_indices = None;
    if let Some(n) = section.train_per_class {
        let chosen = per_class_indices(&train, n, section.subset_seed)?;
        if section.unlabelled == Some(UnlabelledSource::Rest) {
            let mut taken = vec![false; train.len()];
            chosen.iter().for_each(|&i| taken[i] = true);
            let rest: Vec<usize> = (0..train.len()).filter(|&i| !taken[i]).collect();
            if rest.is_empty() {
                return Err(Error::invalid(
                    "data.unlabelled",
                    format!(
                        "train_per_class = {n} draws every training sample of '{}': none is left unlabelled",
                        section.source_name()
                    ),
                ));
            }
            unlabelled = Some(train.subset(&rest));
        }
        train = train.subset(&chosen);
        labelled_indices = Some(chosen);
    }
    let labelled_names = match (&train_names, &labelled_indices) {
        (Some(names), Some(chosen)) => Some(chosen.iter().map(|&i| names[i].clone()).collect()),
        _ => None,
    };
    let unlabelled_truth = unlabelled.is_some();
    if let Some(u) = raw_unlabelled {
        unlabelled = Some(u);
    } else if section.unlabelled == Some(UnlabelledSource::ImdbUnsup) {
        let text = section
            .text
            .as_ref()
            .expect("checked by DataSection::validate");
        unlabelled = Some(load_imdb_unsup(data_dir, &text.sequence())?);
    }
    if train.is_empty() || test.is_empty() {
        return Err(Error::invalid(
            "data",
            format!(
                "'{}' leaves {} training and {} test samples; both must be non-empty (check train_limit and test_limit)",
                section.source_name(),
                train.len(),
                test.len()
            ),
        ));
    }
    let (mut train, mut val) = if section.validation_split > 0.0 {
        let (t, v) = validation_split(&train, section.validation_split)?;
        (t, Some(v))
    } else {
        (train, None)
    };
    let mut preprocessors = Vec::with_capacity(section.preprocess.len());
    for cfg in &section.preprocess {
        let p = cfg.fit(&train)?;
        p.transform(&mut train)?;
        if let Some(v) = val.as_mut() {
            p.transform(v)?;
        }
        p.transform(&mut test)?;
        if let Some(u) = unlabelled.as_mut() {
            p.transform(u)?;
        }
        preprocessors.push(p);
    }
    let mut source_test = None;
    let mut unlabelled_truth = unlabelled_truth;
    if let Some(section) = &section.target {
        let target = load_target(section, &train, data_dir)?;
        unlabelled = Some(target.train);
        unlabelled_truth = true;
        source_test = Some(std::mem::replace(&mut test, target.test));
    }
    let unlabelled_stream = match (&section.unlabelled_idx, &section.unlabelled_folder) {
        (Some(path), _) => Some(ImageStream::open_idx(&resolve(path, data_dir))?),
        (_, Some(dir)) => Some(ImageStream::open_folder(&resolve(dir, data_dir))?),
        _ => None,
    };
    Ok(PreparedData {
        train,
        val,
        test,
        preprocessors,
        text,
        unlabelled,
        unlabelled_truth,
        unlabelled_stream,
        source_test,
        labelled_indices,
        labelled_names,
    })
}

/// The target domain's training and test images, through its own preprocessing (fitted on its
/// training images); checked to have the prepared source's sample shape and class count.
fn load_target(
    section: &TargetSection,
    source: &Dataset,
    data_dir: Option<&Path>,
) -> Result<crate::data::Splits> {
    let raw = load_builtin(section.dataset, data_dir)?;
    let (mut train, mut test) = (raw.train, raw.test);
    if let Some(classes) = &section.classes {
        train = keep_classes(&train, classes, "the target's training data")?;
        test = keep_classes(&test, classes, "the target's test data")?;
    }
    if let Some(n) = section.train_limit {
        train = train.take(n);
    }
    if let Some(n) = section.test_limit {
        test = test.take(n);
    }
    if train.is_empty() || test.is_empty() {
        return Err(Error::invalid(
            "data.target",
            format!(
                "the target '{}' leaves {} training and {} test images; both must be non-empty",
                section.dataset,
                train.len(),
                test.len()
            ),
        ));
    }
    for cfg in &section.preprocess {
        let p = cfg.fit(&train)?;
        p.transform(&mut train)?;
        p.transform(&mut test)?;
    }
    if train.sample_shape != source.sample_shape {
        return Err(Error::invalid(
            "data.target",
            format!(
                "the target '{}' has samples of shape {:?} after its preprocessing, the source {:?}: both domains must feed the same model (resize one, e.g. {{ kind = \"resize\", height = 28, width = 28 }} in data.target.preprocess)",
                section.dataset, train.sample_shape, source.sample_shape
            ),
        ));
    }
    let (source_classes, target_classes) = (source.num_classes(), train.num_classes());
    if source_classes != target_classes {
        return Err(Error::invalid(
            "data.target",
            format!(
                "the target '{}' has {} classes, the source {}: both domains must share the classes (select them with classes and data.target.classes)",
                section.dataset,
                target_classes.unwrap_or(0),
                source_classes.unwrap_or(0)
            ),
        ));
    }
    Ok(crate::data::Splits { train, test })
}

impl PreparedData {
    /// The unlabelled images streamed from disk, with the preprocessing each batch gets.
    pub fn stream(&self) -> Option<UnlabelledStream<'_>> {
        Some(UnlabelledStream {
            images: self.unlabelled_stream.as_ref()?,
            preprocessors: &self.preprocessors,
        })
    }

    /// The unlabelled samples with their hidden classes where known.
    pub fn unlabelled_set(&self) -> Option<Unlabelled<'_>> {
        let samples = self.unlabelled.as_ref()?;
        let truth = match (&samples.targets, self.unlabelled_truth) {
            (Targets::Classes { labels, .. }, true) => Some(labels.as_slice()),
            _ => None,
        };
        Some(Unlabelled { samples, truth })
    }
}

/// The test images of `classes` (original numbering, relabelled `0..`) of the recipe's data
/// source, through the run's fitted preprocessing: the open set of an embedding evaluation.
pub(crate) fn load_unseen_test(
    section: &DataSection,
    data_dir: Option<&Path>,
    classes: &[u32],
    preprocessors: &[Preprocessor],
) -> Result<Dataset> {
    let raw = load_raw(section, data_dir)?;
    let mut test = keep_classes(&raw.test, classes, "the test data")?;
    for p in preprocessors {
        p.transform(&mut test)?;
    }
    Ok(test)
}

/// The training and test sets before any preprocessing.
pub(crate) fn load_raw(section: &DataSection, data_dir: Option<&Path>) -> Result<RawData> {
    let plain = |(train, test): (Dataset, Dataset)| RawData {
        train,
        test,
        text: None,
        unlabelled: None,
        train_names: None,
    };
    match (&section.dataset, &section.csv, &section.text) {
        (Some(DatasetName::Imdb), _, Some(text)) if text.tokenizer == TokenizerKind::Subword => {
            load_imdb_subword(section, text, data_dir)
        }
        (Some(DatasetName::Imdb), _, Some(text)) => {
            let cfg = text.sequence();
            let splits = load_imdb(data_dir, &cfg)?;
            let words = imdb_word_index(data_dir)?;
            Ok(RawData {
                train: splits.train,
                test: splits.test,
                text: Some(TextEncoding::new(cfg, &words)),
                unlabelled: None,
                train_names: None,
            })
        }
        (Some(name), _, _) => {
            let s = load_builtin(*name, data_dir)?;
            Ok(plain((s.train, s.test)))
        }
        (None, Some(csv), _) => {
            let train = load_csv(&spec(csv, &csv.train, data_dir))?;
            let test_spec = spec(csv, &csv.test, data_dir);
            let mut test = load_csv(&test_spec)?;
            align_classes(&train, &mut test, &test_spec.path)?;
            Ok(plain((train, test)))
        }
        (
            None,
            None,
            Some(
                text @ TextSection {
                    train: Some(train),
                    test: Some(test),
                    ..
                },
            ),
        ) => {
            let (splits, encoding) = load_text_splits(
                &resolve(train, data_dir),
                &resolve(test, data_dir),
                &text.columns(),
                &text.sequence(),
            )?;
            Ok(RawData {
                train: splits.train,
                test: splits.test,
                text: Some(encoding),
                unlabelled: None,
                train_names: None,
            })
        }
        _ => Err(Error::invalid("data", "no data source")),
    }
}

/// IMDB as subword sequences: the vocabulary of `text.vocab`, or one learned from the
/// unlabelled reviews when the recipe reads them (else from the training reviews); the
/// unlabelled reviews are encoded with it.
fn load_imdb_subword(
    section: &DataSection,
    text: &TextSection,
    data_dir: Option<&Path>,
) -> Result<RawData> {
    let with_unsup = section.unlabelled == Some(UnlabelledSource::ImdbUnsup);
    let texts = read_imdb_texts(data_dir, with_unsup)?;
    let vocab = match &text.vocab {
        Some(path) => load_vocabulary(path)?,
        None => {
            let corpus = if texts.unsup.is_empty() {
                &texts.train
            } else {
                &texts.unsup
            };
            SubwordVocab::train(corpus.iter().map(|r| r.text.as_str()), text.vocab_size, 2)
                .map_err(|e| Error::invalid("data.text.vocab_size", e.to_string()))?
        }
    };
    let encoding = SubwordEncoding::new(vocab, text.maxlen)?;
    let labelled = |reviews: &[Review]| -> Result<Dataset> {
        let refs: Vec<&str> = reviews.iter().map(|r| r.text.as_str()).collect();
        let labels = reviews.iter().map(|r| r.label.unwrap_or(0)).collect();
        let mut data = encoding.dataset(&refs, labels, 2)?;
        data.class_names = Some(vec!["neg".to_string(), "pos".to_string()]);
        Ok(data)
    };
    let train = labelled(&texts.train)?;
    let test = labelled(&texts.test)?;
    let unlabelled = match texts.unsup.is_empty() {
        true => None,
        false => Some(labelled(&texts.unsup)?),
    };
    Ok(RawData {
        train,
        test,
        unlabelled,
        train_names: Some(texts.train.iter().map(|r| r.path.clone()).collect()),
        text: Some(TextEncoding::Subword(Box::new(encoding))),
    })
}

/// A subword vocabulary from a run folder (its `text_encoding.json`) or a tokenizer file.
pub(crate) fn load_vocabulary(path: &Path) -> Result<SubwordVocab> {
    if path.is_dir() {
        let file = path.join(TEXT_ENCODING);
        if !file.is_file() {
            return Err(Error::invalid(
                "data.text.vocab",
                format!(
                    "{} holds no {TEXT_ENCODING}: name a finished run trained on subword text, or a tokenizer file",
                    path.display()
                ),
            ));
        }
        return match TextEncoding::load(&file)? {
            TextEncoding::Subword(s) => Ok(s.vocab.clone()),
            TextEncoding::Words(_) => Err(Error::invalid(
                "data.text.vocab",
                format!(
                    "the run {} encodes words, not subwords: it has no subword vocabulary",
                    path.display()
                ),
            )),
        };
    }
    SubwordVocab::load(path)
}

/// A relative path that does not exist as given is taken from the data folder.
fn resolve(path: &Path, data_dir: Option<&Path>) -> PathBuf {
    match data_dir {
        Some(dir) if path.is_relative() && !path.exists() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

fn spec(csv: &CsvFiles, path: &Path, data_dir: Option<&Path>) -> CsvSpec {
    CsvSpec {
        path: resolve(path, data_dir),
        label_column: csv.label_column.clone(),
        task: csv.task,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits_section(extra: &str) -> DataSection {
        toml::from_str(&format!("dataset = \"digits\"\n{extra}")).unwrap()
    }

    #[test]
    fn the_unlabelled_rest_is_every_training_sample_not_drawn_as_labelled() {
        let all = prepare_data(&digits_section(""), None).unwrap().train;
        let data = prepare_data(
            &digits_section("train_per_class = 3\nsubset_seed = 5\nunlabelled = \"rest\""),
            None,
        )
        .unwrap();
        let chosen = data.labelled_indices.clone().unwrap();
        let rest = data.unlabelled.as_ref().unwrap();
        assert_eq!(data.train.len(), 30);
        assert_eq!(chosen.len(), 30);
        assert_eq!(rest.len() + 30, all.len());
        // The labelled samples are the chosen rows; none of them is also unlabelled.
        for (k, &i) in chosen.iter().enumerate() {
            assert_eq!(data.train.sample(k), all.sample(i));
        }
        let mut seen = std::collections::HashSet::new();
        for &i in &chosen {
            seen.insert(
                all.sample(i)
                    .iter()
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>(),
            );
        }
        let overlap = (0..rest.len())
            .filter(|&j| {
                seen.contains(
                    &rest
                        .sample(j)
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>(),
                )
            })
            .count();
        // Digits holds a few exact duplicate images; a chosen row itself is never in the rest.
        assert!(overlap <= 2, "{overlap}");
        // Without unlabelled = "rest" nothing is kept unlabelled.
        let plain = prepare_data(&digits_section("train_per_class = 3"), None).unwrap();
        assert!(plain.unlabelled.is_none());
    }

    #[test]
    fn bad_label_requests_are_clear_errors() {
        let err = prepare_data(&digits_section("unlabelled = \"rest\""), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("train_per_class"), "{err}");
        let err = prepare_data(
            &digits_section("train_per_class = 1000\nunlabelled = \"rest\""),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("fewer than 1000"), "{err}");
        let err = prepare_data(
            &digits_section("train_per_class = 4\nunlabelled = \"imdb_unsup\""),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("data.unlabelled") && err.contains("imdb"),
            "{err}"
        );
    }
}
