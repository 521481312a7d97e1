//! Keras' IMDB word index (`imdb_word_index.json`): word -> frequency rank.

use std::collections::HashMap;
use std::path::Path;

use super::encoder::TextEncoder;
use crate::{Error, Result};

/// Frequency ranks of words (1 = most frequent), as in Keras' `imdb_word_index.json`.
///
/// As a [`TextEncoder`] it reproduces `keras.datasets.imdb.load_data(num_words,
/// index_from)` on one tokenised review (see [`SequenceConfig`](super::SequenceConfig)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WordIndex {
    ranks: HashMap<String, u32>,
}

impl WordIndex {
    /// Reads a JSON object mapping each word to its rank (a positive integer).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Data`] naming the file when it
    /// is not a JSON object or a rank is not an integer in `1..=u32::MAX`.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes)
            .map_err(|e| Error::data(path, format!("not a JSON object of word -> rank: {e}")))?;
        let mut ranks = HashMap::with_capacity(object.len());
        for (word, value) in object {
            let rank = value
                .as_u64()
                .and_then(|r| u32::try_from(r).ok())
                .filter(|&r| r >= 1)
                .ok_or_else(|| {
                    Error::data(
                        path,
                        format!("the rank of word '{word}' is {value}, not an integer >= 1"),
                    )
                })?;
            ranks.insert(word, rank);
        }
        Ok(Self { ranks })
    }

    /// A word index from `(word, rank)` pairs.
    pub fn from_ranks(ranks: impl IntoIterator<Item = (String, u32)>) -> Self {
        Self {
            ranks: ranks.into_iter().collect(),
        }
    }

    /// The words ranked below `max_rank` (the only ones a [`SequenceConfig`]
    /// (super::SequenceConfig) with `num_words - index_from == max_rank` can tell apart).
    pub fn restricted(&self, max_rank: u32) -> Self {
        Self::from_ranks(
            self.ranks
                .iter()
                .filter(|&(_, &r)| r < max_rank)
                .map(|(w, &r)| (w.clone(), r)),
        )
    }

    /// `(word, rank)` pairs, by rank then word.
    pub fn ranked(&self) -> Vec<(&str, u32)> {
        let mut pairs: Vec<(&str, u32)> =
            self.ranks.iter().map(|(w, &r)| (w.as_str(), r)).collect();
        pairs.sort_unstable_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
        pairs
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.ranks.len()
    }

    /// True when there are no words.
    pub fn is_empty(&self) -> bool {
        self.ranks.is_empty()
    }
}

impl TextEncoder for WordIndex {
    fn rank(&self, word: &str) -> Option<u32> {
        self.ranks.get(word).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::super::encoder::SequenceConfig;
    use super::*;
    use std::path::PathBuf;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn tokens(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn loads_and_encodes_like_keras() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "wi.json",
            r#"{"the": 1, "and": 2, "a": 3, "of": 4, "film": 5}"#,
        );
        let index = WordIndex::load(&path).unwrap();
        assert_eq!(index.len(), 5);
        assert_eq!(index.rank("film"), Some(5));
        // num_words = 7: ids 4 (the), 5 (and), 6 (a) survive; of -> 7 and film -> 8 are oov.
        let cfg = SequenceConfig::new(7, 10);
        assert_eq!(
            index.encode(&tokens("the film of a zzz and"), &cfg),
            vec![1, 4, 2, 2, 6, 2, 5]
        );
    }

    #[test]
    fn bad_files_name_the_file_and_the_word() {
        let dir = tempfile::tempdir().unwrap();
        let broken = write(dir.path(), "broken.json", r#"{"the": 1,"#);
        let err = WordIndex::load(&broken).unwrap_err();
        assert!(matches!(err, Error::Data { .. }), "{err}");
        assert!(err.to_string().contains("broken.json"), "{err}");
        for (name, text, word) in [
            ("float.json", r#"{"the": 1.5}"#, "the"),
            ("string.json", r#"{"a": 1, "film": "2"}"#, "film"),
            ("zero.json", r#"{"of": 0}"#, "of"),
            ("negative.json", r#"{"and": -3}"#, "and"),
        ] {
            let err = WordIndex::load(&write(dir.path(), name, text)).unwrap_err();
            assert!(matches!(err, Error::Data { .. }), "{err}");
            let msg = err.to_string();
            assert!(msg.contains(name) && msg.contains(word), "{msg}");
        }
        let array = write(dir.path(), "array.json", "[1, 2]");
        assert!(matches!(WordIndex::load(&array), Err(Error::Data { .. })));
        let missing = WordIndex::load(&dir.path().join("none.json")).unwrap_err();
        assert!(matches!(missing, Error::Io { .. }), "{missing}");
    }

    #[test]
    fn real_word_index_matches_the_readme() {
        let path = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/datasets/imdb/imdb_word_index.json"
        ));
        if !path.is_file() {
            return;
        }
        let index = WordIndex::load(&path).unwrap();
        assert_eq!(index.len(), 88584);
        assert_eq!(index.rank("the"), Some(1));
        assert_eq!(index.rank("br"), Some(7));
        let cfg = SequenceConfig::new(10000, 10);
        assert_eq!(index.encode(&tokens("the and"), &cfg), vec![1, 4, 5]);
    }
}
