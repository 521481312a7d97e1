//! The IMDB sentiment data set as fixed-length id sequences, like `keras.datasets.imdb`.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::archive::{ImdbPart, Review, read_imdb_parts};
use super::encoder::{SequenceConfig, TextEncoder};
use super::pad::pad_sequences;
use super::word_index::WordIndex;
use crate::data::{Dataset, Splits, Targets};
use crate::{Error, Result};

/// The labelled reviews, relative to the data folder.
const LABELED_ARCHIVE: &str = "imdb/aclImdb_v1_labeled.tar.gz";
/// The unlabelled reviews, relative to the data folder.
const UNSUP_ARCHIVE: &str = "imdb/aclImdb_v1_unsup.tar.gz";
/// Keras' word index, relative to the data folder.
const WORD_INDEX: &str = "imdb/imdb_word_index.json";
/// The seed `keras.datasets.imdb.load_data` shuffles with.
pub const IMDB_SHUFFLE_SEED: u64 = 113;
/// Where the data comes from and how to point manabi at it.
const HINT: &str = "Large Movie Review Dataset v1.0 (Maas et al. 2011), \
                    https://ai.stanford.edu/~amaas/data/sentiment/ ; \
                    give the folder with --data-dir DIR or MANABI_DATA";

/// Loads IMDB's 25,000 training and 25,000 test reviews as id sequences, reproducing
/// `keras.datasets.imdb.load_data(num_words, index_from)` followed by
/// `pad_sequences(maxlen)`.
///
/// `data_dir` holds `imdb/aclImdb_v1_labeled.tar.gz` and `imdb/imdb_word_index.json`.
/// Each review is split by [`tokenize_review`](super::tokenize_review), encoded with the word index
/// ([`SequenceConfig`] gives the rules) and padded or truncated to `cfg.maxlen` ids
/// ([`pad_sequences`]: zeros in front, long reviews keep their ending). Samples have shape
/// `[maxlen]` and hold the ids as `f32`; classes are 0 `neg` and 1 `pos`.
///
/// Like Keras, the training set and then the test set are shuffled with one generator
/// seeded with [`IMDB_SHUFFLE_SEED`] (here ChaCha8, so the order is not NumPy's), so that a
/// validation split taken from the end of the training set holds both classes. The data is
/// rebuilt from the review texts, so the sequences are of the same kind as Keras'
/// `imdb.npz` but not identical to them (see `tokenize_review` for the `<br />` breaks).
///
/// # Errors
/// [`Error::Invalid`] for a bad `cfg`; [`Error::MissingDataset`] listing the missing
/// files; [`Error::Data`] / [`Error::Io`] naming a damaged file.
pub fn load_imdb(data_dir: Option<&Path>, cfg: &SequenceConfig) -> Result<Splits> {
    cfg.validate()?;
    let dir = check_files(data_dir, &[LABELED_ARCHIVE, WORD_INDEX])?;
    let index = WordIndex::load(&dir.join(WORD_INDEX))?;
    let mut parts = read_imdb_parts(
        &dir.join(LABELED_ARCHIVE),
        &[ImdbPart::Train, ImdbPart::Test],
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(IMDB_SHUFFLE_SEED);
    let test = parts.pop().expect("two parts");
    let train = parts.pop().expect("two parts");
    let class_names = Some(vec!["neg".to_string(), "pos".to_string()]);
    let mut train = reviews_dataset(train, &index, cfg, &mut rng)?;
    let mut test = reviews_dataset(test, &index, cfg, &mut rng)?;
    train.class_names = class_names.clone();
    test.class_names = class_names;
    Ok(Splits { train, test })
}

/// Keras' IMDB word index from `data_dir/imdb/imdb_word_index.json`.
///
/// # Errors
/// [`Error::MissingDataset`] when the file is missing; [`WordIndex::load`]'s errors.
pub fn imdb_word_index(data_dir: Option<&Path>) -> Result<WordIndex> {
    let dir = check_files(data_dir, &[WORD_INDEX])?;
    WordIndex::load(&dir.join(WORD_INDEX))
}

/// Loads IMDB's 50,000 unlabelled reviews (`imdb/aclImdb_v1_unsup.tar.gz`) encoded as
/// [`load_imdb`] does, for pre-training.
///
/// Shuffled with [`IMDB_SHUFFLE_SEED`]. The targets are placeholders: every label is 0 of
/// 2 classes, so the set pairs with [`load_imdb`]'s.
///
/// # Errors
/// As [`load_imdb`].
pub fn load_imdb_unsup(data_dir: Option<&Path>, cfg: &SequenceConfig) -> Result<Dataset> {
    cfg.validate()?;
    let dir = check_files(data_dir, &[UNSUP_ARCHIVE, WORD_INDEX])?;
    let index = WordIndex::load(&dir.join(WORD_INDEX))?;
    let mut parts = read_imdb_parts(&dir.join(UNSUP_ARCHIVE), &[ImdbPart::Unsup])?;
    let mut rng = ChaCha8Rng::seed_from_u64(IMDB_SHUFFLE_SEED);
    reviews_dataset(parts.pop().expect("one part"), &index, cfg, &mut rng)
}

/// IMDB's reviews as texts, each part in the order [`load_imdb`] and [`load_imdb_unsup`] give
/// it.
#[derive(Debug, Clone)]
pub struct ImdbTexts {
    /// The 25,000 training reviews.
    pub train: Vec<Review>,
    /// The 25,000 test reviews.
    pub test: Vec<Review>,
    /// The 50,000 unlabelled reviews (empty unless asked for).
    pub unsup: Vec<Review>,
}

/// Reads IMDB's labelled reviews, and the unlabelled ones when `unsup`, shuffled exactly as
/// [`load_imdb`] and [`load_imdb_unsup`] shuffle their sequences.
///
/// # Errors
/// [`Error::MissingDataset`] listing the missing archives; [`Error::Data`] / [`Error::Io`]
/// naming a damaged one.
pub fn read_imdb_texts(data_dir: Option<&Path>, unsup: bool) -> Result<ImdbTexts> {
    let mut files = vec![LABELED_ARCHIVE];
    if unsup {
        files.push(UNSUP_ARCHIVE);
    }
    let dir = check_files(data_dir, &files)?;
    let mut parts = read_imdb_parts(
        &dir.join(LABELED_ARCHIVE),
        &[ImdbPart::Train, ImdbPart::Test],
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(IMDB_SHUFFLE_SEED);
    let mut test = parts.pop().expect("two parts");
    let mut train = parts.pop().expect("two parts");
    train.shuffle(&mut rng);
    test.shuffle(&mut rng);
    let unsup = if unsup {
        let mut parts = read_imdb_parts(&dir.join(UNSUP_ARCHIVE), &[ImdbPart::Unsup])?;
        let mut reviews = parts.pop().expect("one part");
        reviews.shuffle(&mut ChaCha8Rng::seed_from_u64(IMDB_SHUFFLE_SEED));
        reviews
    } else {
        Vec::new()
    };
    Ok(ImdbTexts { train, test, unsup })
}

/// Tokenises, encodes and pads raw `texts` for prediction, in the order given.
///
/// The targets are placeholders: every label is 0 of 1 class.
///
/// # Errors
/// [`Error::Invalid`] for a bad `cfg`.
pub fn encode_texts(
    texts: &[String],
    encoder: &dyn TextEncoder,
    cfg: &SequenceConfig,
) -> Result<Dataset> {
    cfg.validate()?;
    let seqs: Vec<Vec<u32>> = texts.iter().map(|t| encoder.encode_text(t, cfg)).collect();
    sequences_dataset(&seqs, vec![0; texts.len()], 1, cfg)
}

/// Shuffles `reviews` with `rng`, then encodes them into a two-class data set.
fn reviews_dataset(
    mut reviews: Vec<Review>,
    encoder: &dyn TextEncoder,
    cfg: &SequenceConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Dataset> {
    reviews.shuffle(rng);
    let labels = reviews.iter().map(|r| r.label.unwrap_or(0)).collect();
    let seqs: Vec<Vec<u32>> = reviews
        .iter()
        .map(|r| encoder.encode_text(&r.text, cfg))
        .collect();
    sequences_dataset(&seqs, labels, 2, cfg)
}

/// Pads `seqs` to `cfg.maxlen` and stores the ids as `f32` features.
fn sequences_dataset(
    seqs: &[Vec<u32>],
    labels: Vec<u32>,
    num_classes: usize,
    cfg: &SequenceConfig,
) -> Result<Dataset> {
    // Ids below 2^24 are exact in f32; num_words is far below that in practice.
    let features = pad_sequences(seqs, cfg.maxlen)
        .into_iter()
        .map(|id| id as f32)
        .collect();
    Dataset::new(
        features,
        vec![cfg.maxlen],
        Targets::Classes {
            labels,
            num_classes,
        },
    )
}

/// Returns the data folder when it holds every file in `files`.
fn check_files<'d>(data_dir: Option<&'d Path>, files: &[&str]) -> Result<&'d Path> {
    let missing_from = |dir: Option<&Path>| -> Vec<String> {
        files
            .iter()
            .filter(|f| dir.is_none_or(|d| !d.join(f).is_file()))
            .map(|f| f.to_string())
            .collect()
    };
    let missing = missing_from(data_dir);
    match data_dir {
        Some(dir) if missing.is_empty() => Ok(dir),
        Some(dir) => Err(Error::MissingDataset {
            dataset: "imdb".to_string(),
            dir: dir.to_path_buf(),
            missing,
            hint: HINT.to_string(),
        }),
        None => Err(Error::MissingDataset {
            dataset: "imdb".to_string(),
            dir: PathBuf::from("<none>"),
            missing,
            hint: format!("No data directory was given. {HINT}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::archive::testutil::write_tar_gz;
    use super::super::vocabulary::Vocabulary;
    use super::*;

    fn labels(data: &Dataset) -> &[u32] {
        match &data.targets {
            Targets::Classes { labels, .. } => labels,
            Targets::Regression { .. } => panic!("not classes"),
        }
    }

    /// A data folder with a tiny word index and archive: train has 3 neg + 3 pos reviews.
    fn small_data_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("imdb")).unwrap();
        std::fs::write(
            dir.path().join(WORD_INDEX),
            r#"{"the": 1, "film": 2, "good": 3, "bad": 4, "very": 5}"#,
        )
        .unwrap();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for i in 0..3 {
            files.push((
                format!("aclImdb/train/neg/{i}_1.txt"),
                b"Bad film.".to_vec(),
            ));
            files.push((
                format!("aclImdb/train/pos/{i}_9.txt"),
                b"The film: very, very good!<br />Good.".to_vec(),
            ));
        }
        files.push(("aclImdb/test/neg/0_2.txt".into(), b"bad".to_vec()));
        files.push(("aclImdb/test/pos/0_8.txt".into(), b"good zebra".to_vec()));
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        write_tar_gz(&dir.path().join(LABELED_ARCHIVE), &refs);
        dir
    }

    #[test]
    fn loads_encodes_pads_and_shuffles() {
        let dir = small_data_dir();
        // num_words 8: the 4, film 5, good 6, bad 7; very (8) is out of vocabulary.
        let cfg = SequenceConfig::new(8, 6);
        let splits = load_imdb(Some(dir.path()), &cfg).unwrap();
        let (train, test) = (&splits.train, &splits.test);
        assert_eq!((train.len(), test.len()), (6, 2));
        assert_eq!(train.sample_shape, vec![6]);
        assert_eq!(train.num_classes(), Some(2));
        assert_eq!(
            train.class_names.as_deref(),
            Some(&["neg".into(), "pos".into()][..])
        );
        let neg = [0.0, 0.0, 0.0, 1.0, 7.0, 5.0];
        // [1, 4, 5, 2, 2, 6, 6] keeps its last 6 ids.
        let pos = [4.0, 5.0, 2.0, 2.0, 6.0, 6.0];
        for i in 0..train.len() {
            let want: &[f32] = if labels(train)[i] == 0 { &neg } else { &pos };
            assert_eq!(train.sample(i), want, "sample {i}");
        }
        assert_eq!(labels(train).iter().sum::<u32>(), 3);
        // Shuffled, and the same way on every load.
        assert_ne!(labels(train), [0, 0, 0, 1, 1, 1]);
        assert_eq!(load_imdb(Some(dir.path()), &cfg).unwrap(), splits);
        let pos_test = test.sample(labels(test).iter().position(|&l| l == 1).unwrap());
        assert_eq!(pos_test, [0.0, 0.0, 0.0, 1.0, 6.0, 2.0]);
    }

    #[test]
    fn texts_come_in_the_order_of_the_sequences() {
        let dir = small_data_dir();
        let cfg = SequenceConfig::new(8, 6);
        let splits = load_imdb(Some(dir.path()), &cfg).unwrap();
        let texts = read_imdb_texts(Some(dir.path()), false).unwrap();
        let their_labels: Vec<u32> = texts.train.iter().map(|r| r.label.unwrap()).collect();
        assert_eq!(labels(&splits.train), their_labels.as_slice());
        // The same review behind each row: its words encode to the row's ids.
        for (row, review) in texts.train.iter().enumerate() {
            let one = encode_texts(
                std::slice::from_ref(&review.text),
                &WordIndex::load(&dir.path().join(WORD_INDEX)).unwrap(),
                &cfg,
            )
            .unwrap();
            assert_eq!(one.sample(0), splits.train.sample(row));
            assert!(review.path.starts_with("aclImdb/train/"));
        }
        assert!(texts.unsup.is_empty());
        let err = read_imdb_texts(Some(dir.path()), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("aclImdb_v1_unsup.tar.gz"), "{err}");
    }

    #[test]
    fn missing_files_are_listed_with_the_hint() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SequenceConfig::new(100, 10);
        let err = load_imdb(Some(dir.path()), &cfg).unwrap_err();
        let Error::MissingDataset { missing, hint, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(missing, &[LABELED_ARCHIVE, WORD_INDEX]);
        assert!(hint.contains("Maas et al. 2011") && hint.contains("MANABI_DATA"));
        let data = small_data_dir();
        std::fs::remove_file(data.path().join(WORD_INDEX)).unwrap();
        let err = load_imdb(Some(data.path()), &cfg).unwrap_err();
        assert!(matches!(&err, Error::MissingDataset { missing, .. } if missing == &[WORD_INDEX]));
        let err = load_imdb_unsup(None, &cfg).unwrap_err();
        assert!(
            matches!(&err, Error::MissingDataset { missing, .. } if missing == &[UNSUP_ARCHIVE, WORD_INDEX])
        );
    }

    #[test]
    fn bad_config_is_rejected_before_reading() {
        let err = load_imdb(None, &SequenceConfig::new(2, 10)).unwrap_err();
        assert!(err.to_string().contains("data.text.num_words"), "{err}");
    }

    #[test]
    fn encodes_raw_texts_in_order() {
        let vocab = Vocabulary::fit(["good good film", "bad"], 10);
        let cfg = SequenceConfig::new(100, 3);
        let texts = vec!["Good film!".to_string(), String::new()];
        let data = encode_texts(&texts, &vocab, &cfg).unwrap();
        assert_eq!(data.features, [1.0, 4.0, 5.0, 0.0, 0.0, 1.0]);
        assert_eq!(labels(&data), [0, 0]);
    }

    /// The real archive: 12,500 reviews per class and part (skipped without the data).
    #[test]
    fn real_imdb_has_the_published_counts() {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/datasets"));
        if !dir.join(LABELED_ARCHIVE).is_file() {
            return;
        }
        let cfg = SequenceConfig::new(20000, 200);
        let splits = load_imdb(Some(&dir), &cfg).unwrap();
        for data in [&splits.train, &splits.test] {
            assert_eq!(data.len(), 25000);
            assert_eq!(labels(data).iter().filter(|&&l| l == 1).count(), 12500);
            assert!(data.features.iter().all(|&x| x < 20000.0));
        }
        // Shuffled: the last 20% (a validation split) holds both classes evenly enough.
        let tail = &labels(&splits.train)[20000..];
        let pos = tail.iter().filter(|&&l| l == 1).count();
        assert!((2300..2700).contains(&pos), "{pos}");
    }
}
