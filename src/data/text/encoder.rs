//! Turning tokens into integer ids the way `keras.datasets.imdb.load_data` does.

use serde::{Deserialize, Serialize};

use super::tokenize::for_each_word;
use crate::{Error, Result};

/// Id that starts every sequence (Keras' `start_char`).
pub const START_ID: u32 = 1;
/// Id of a word that is unknown or rarer than `num_words` allows (Keras' `oov_char`).
pub const OOV_ID: u32 = 2;
/// Id used for padding (Keras' `pad_sequences` value).
pub const PAD_ID: u32 = 0;

fn default_index_from() -> usize {
    3
}

/// How texts become fixed-length id sequences (the `[data.text]` part of a recipe).
///
/// ```text
/// ids = [START_ID] + [rank(word) + index_from for word in tokens]
/// every id >= num_words, and every word without a rank, becomes OOV_ID
/// ```
/// With the default `index_from = 3`, ids 0 (padding), 1 (start), 2 (out of vocabulary)
/// and 3 (unused) are reserved, as in Keras.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceConfig {
    /// Size of the id space: ids `>= num_words` become [`OOV_ID`] (Keras' `num_words`).
    pub num_words: usize,
    /// Length every sequence is padded or truncated to.
    pub maxlen: usize,
    /// Offset added to a word's frequency rank (Keras' `index_from`, default 3).
    #[serde(default = "default_index_from")]
    pub index_from: usize,
}

impl SequenceConfig {
    /// A configuration with Keras' default `index_from = 3`.
    pub fn new(num_words: usize, maxlen: usize) -> Self {
        Self {
            num_words,
            maxlen,
            index_from: default_index_from(),
        }
    }

    /// Checks that `num_words >= 3` (room for padding, start and out-of-vocabulary ids)
    /// and `maxlen >= 1`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `data.text.num_words` or `data.text.maxlen`.
    pub fn validate(&self) -> Result<()> {
        if self.num_words < 3 {
            return Err(Error::invalid(
                "data.text.num_words",
                format!(
                    "{} is too small: ids 0, 1 and 2 are padding, start and out-of-vocabulary, \
                     so num_words must be at least 3",
                    self.num_words
                ),
            ));
        }
        if self.maxlen == 0 {
            return Err(Error::invalid(
                "data.text.maxlen",
                "0 is too small: sequences need at least one id",
            ));
        }
        Ok(())
    }
}

/// A word-to-rank table that turns tokens into id sequences under a [`SequenceConfig`].
///
/// Implementors give [`TextEncoder::rank`]; the encoding rules are shared.
pub trait TextEncoder {
    /// The frequency rank of `word` (1 = most frequent), if it has one.
    fn rank(&self, word: &str) -> Option<u32>;

    /// The ids of `tokens`: [`START_ID`] first, then one id per token (see
    /// [`SequenceConfig`]); the result is `tokens.len() + 1` long and not padded.
    fn encode(&self, tokens: &[String], cfg: &SequenceConfig) -> Vec<u32> {
        let mut ids = start_ids(tokens.len(), cfg);
        ids.extend(tokens.iter().map(|t| word_id(self.rank(t), cfg)));
        ids
    }

    /// `encode(&tokenize_review(text), cfg)` without building the token strings, which
    /// makes encoding a large corpus several times faster.
    fn encode_text(&self, text: &str, cfg: &SequenceConfig) -> Vec<u32> {
        let mut ids = start_ids(text.len() / 5, cfg);
        for_each_word(text, true, |w| ids.push(word_id(self.rank(w), cfg)));
        ids
    }
}

/// A sequence holding only the start id, with room for `capacity` more.
fn start_ids(capacity: usize, cfg: &SequenceConfig) -> Vec<u32> {
    let mut ids = Vec::with_capacity(capacity + 1);
    ids.push(limit_id(u64::from(START_ID), cfg));
    ids
}

/// The id of a word of rank `rank` (`None`: not in the vocabulary).
fn word_id(rank: Option<u32>, cfg: &SequenceConfig) -> u32 {
    match rank {
        Some(r) => limit_id(u64::from(r) + cfg.index_from as u64, cfg),
        None => OOV_ID,
    }
}

/// `id`, or [`OOV_ID`] when it is not below `num_words`.
fn limit_id(id: u64, cfg: &SequenceConfig) -> u32 {
    if id < cfg.num_words as u64 {
        id as u32
    } else {
        OOV_ID
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    /// the = 1, and = 2, a = 3, of = 4.
    struct Small;

    impl TextEncoder for Small {
        fn rank(&self, word: &str) -> Option<u32> {
            ["the", "and", "a", "of"]
                .iter()
                .position(|w| *w == word)
                .map(|i| i as u32 + 1)
        }
    }

    #[test]
    fn shifts_ranks_and_marks_rare_and_unknown_words() {
        let cfg = SequenceConfig::new(7, 10);
        // the -> 4, and -> 5, a -> 6, of -> 7 (>= 7: oov), zebra unknown: oov.
        let ids = Small.encode(&tokens(&["the", "and", "a", "of", "zebra"]), &cfg);
        assert_eq!(ids, vec![1, 4, 5, 6, 2, 2]);
        assert_eq!(Small.encode(&[], &cfg), vec![1]);
        assert_eq!(Small.encode_text("The AND, a<br />of zebra!", &cfg), ids);
        assert_eq!(Small.encode_text("", &cfg), vec![1]);
    }

    #[test]
    fn index_from_moves_the_offset() {
        let cfg = SequenceConfig {
            index_from: 0,
            ..SequenceConfig::new(100, 5)
        };
        assert_eq!(Small.encode(&tokens(&["a", "the"]), &cfg), vec![1, 3, 1]);
    }

    #[test]
    fn config_reads_with_default_index_from_and_rejects_unknown_keys() {
        let cfg: SequenceConfig =
            serde_json::from_str(r#"{"num_words": 10000, "maxlen": 200}"#).unwrap();
        assert_eq!(cfg, SequenceConfig::new(10000, 200));
        let json = serde_json::to_string(&cfg).unwrap();
        assert_eq!(serde_json::from_str::<SequenceConfig>(&json).unwrap(), cfg);
        let err = serde_json::from_str::<SequenceConfig>(
            r#"{"num_words": 10, "maxlen": 2, "max_len": 3}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("max_len"), "{err}");
    }

    #[test]
    fn validation_names_the_field() {
        let err = SequenceConfig::new(2, 10).validate().unwrap_err();
        assert!(err.to_string().contains("data.text.num_words"), "{err}");
        let err = SequenceConfig::new(3, 0).validate().unwrap_err();
        assert!(err.to_string().contains("data.text.maxlen"), "{err}");
        SequenceConfig::new(3, 1).validate().unwrap();
    }
}
