//! The user's own labelled text as id sequences: a vocabulary fitted on the training texts.

use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::encoder::SequenceConfig;
use super::encoding::{TextEncoding, WordEncoding};
use super::imdb::{IMDB_SHUFFLE_SEED, encode_texts};
use super::text_files::{LabelledTexts, read_text_csv, read_text_folder};
use super::vocabulary::Vocabulary;
use crate::data::{Splits, Targets};
use crate::{Error, Result};

/// Column names for texts read from CSV files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextColumns {
    /// Header of the text column.
    pub text: String,
    /// Header of the label column.
    pub label: String,
}

/// Reads labelled texts from `path`: a `.csv` file (with `columns`) or a folder holding
/// one subfolder of `.txt` files per class.
///
/// # Errors
/// As [`read_text_csv`] and [`read_text_folder`].
pub fn read_labelled_texts(path: &Path, columns: &TextColumns) -> Result<LabelledTexts> {
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        read_text_csv(path, &columns.text, &columns.label)
    } else if path.is_dir() {
        read_text_folder(path)
    } else {
        Err(Error::data(
            path,
            "not found: give a .csv file with text and label columns or a folder with one \
             subfolder of .txt files per class",
        ))
    }
}

/// Loads training and test texts, fits a vocabulary of the `cfg.num_words` most frequent
/// training words, and encodes both parts like [`load_imdb`](super::load_imdb).
///
/// The training texts are shuffled with [`IMDB_SHUFFLE_SEED`] (folders list texts class by
/// class, and a validation split is taken from the end). Test classes must be among the
/// training classes and keep the training class indices.
///
/// # Errors
/// [`Error::Invalid`] for a bad `cfg`; the readers' errors; [`Error::Data`] naming the
/// test file when it has a class the training texts lack.
pub fn load_text_splits(
    train: &Path,
    test: &Path,
    columns: &TextColumns,
    cfg: &SequenceConfig,
) -> Result<(Splits, TextEncoding)> {
    cfg.validate()?;
    let (mut train_texts, mut train_labels, names) = read_labelled_texts(train, columns)?;
    let (test_texts, test_labels, test_names) = read_labelled_texts(test, columns)?;
    let remap: Vec<u32> = test_names
        .iter()
        .map(|n| {
            names
                .iter()
                .position(|m| m == n)
                .map(|i| i as u32)
                .ok_or_else(|| {
                    Error::data(
                        test,
                        format!(
                            "class '{n}' does not occur in the training texts (classes: {})",
                            names.join(", ")
                        ),
                    )
                })
        })
        .collect::<Result<_>>()?;
    let test_labels: Vec<u32> = test_labels.iter().map(|&l| remap[l as usize]).collect();

    let mut order: Vec<usize> = (0..train_texts.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(IMDB_SHUFFLE_SEED));
    train_texts = order.iter().map(|&i| train_texts[i].clone()).collect();
    train_labels = order.iter().map(|&i| train_labels[i]).collect();

    let vocab = Vocabulary::fit(train_texts.iter().map(String::as_str), cfg.num_words);
    let encoding = WordEncoding::new(cfg.clone(), &vocab.to_word_index());
    let labelled = |texts: &[String], labels: Vec<u32>| -> Result<crate::data::Dataset> {
        let mut data = encode_texts(texts, &encoding.words, cfg)?;
        data.targets = Targets::Classes {
            labels,
            num_classes: names.len(),
        };
        data.class_names = Some(names.clone());
        Ok(data)
    };
    let splits = Splits {
        train: labelled(&train_texts, train_labels)?,
        test: labelled(&test_texts, test_labels)?,
    };
    Ok((splits, TextEncoding::Words(encoding)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> TextColumns {
        TextColumns {
            text: "text".into(),
            label: "label".into(),
        }
    }

    #[test]
    fn folders_and_csv_give_aligned_classes() {
        let dir = tempfile::tempdir().unwrap();
        for (class, text) in [("neg", "awful film"), ("pos", "great film great great")] {
            let d = dir.path().join("train").join(class);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("a.txt"), text).unwrap();
            std::fs::write(d.join("b.txt"), text).unwrap();
        }
        // The test CSV only has the second class.
        let test = dir.path().join("test.csv");
        std::fs::write(&test, "text,label\n\"great, great\",pos\n").unwrap();
        let cfg = SequenceConfig::new(100, 4);
        let (splits, enc) =
            load_text_splits(&dir.path().join("train"), &test, &columns(), &cfg).unwrap();
        assert_eq!(splits.train.len(), 4);
        assert_eq!(splits.train.num_classes(), Some(2));
        let Targets::Classes { labels, .. } = &splits.test.targets else {
            panic!()
        };
        assert_eq!(labels, &[1]);
        // "great" (6 times) has rank 1 -> id 4; "film" (4) id 5; "awful" (2) id 6.
        assert_eq!(splits.test.features, [0.0, 1.0, 4.0, 4.0]);
        let TextEncoding::Words(enc) = enc else {
            panic!("word ids")
        };
        assert_eq!(enc.words.len(), 3);
    }

    #[test]
    fn unknown_test_class_and_missing_path_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let train = dir.path().join("train.csv");
        let test = dir.path().join("test.csv");
        std::fs::write(&train, "text,label\ngood,pos\nbad,neg\n").unwrap();
        std::fs::write(&test, "text,label\nmeh,neutral\n").unwrap();
        let cfg = SequenceConfig::new(100, 4);
        let err = load_text_splits(&train, &test, &columns(), &cfg).unwrap_err();
        assert!(err.to_string().contains("'neutral'"), "{err}");
        let err = load_text_splits(&dir.path().join("nope"), &test, &columns(), &cfg).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
