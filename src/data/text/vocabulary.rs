//! A word index fitted to the user's own corpus.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::encoder::TextEncoder;
use super::tokenize::for_each_word;
use super::word_index::WordIndex;
use crate::{Error, Result};

/// The most frequent words of a corpus, ranked like Keras' `Tokenizer.word_index`:
/// rank 1 is the most frequent word, ties keep the order in which words first appeared.
///
/// Serialised as `{"words": ["most", "frequent", ...]}` so that a run can save it beside
/// its weights and encode new text exactly as it encoded its training set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "VocabularyRecord", try_from = "VocabularyRecord")]
pub struct Vocabulary {
    words: Vec<String>,
    ranks: HashMap<String, u32>,
}

/// The serialised form of a [`Vocabulary`]: its words, most frequent first.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabularyRecord {
    words: Vec<String>,
}

impl From<Vocabulary> for VocabularyRecord {
    fn from(v: Vocabulary) -> Self {
        Self { words: v.words }
    }
}

impl TryFrom<VocabularyRecord> for Vocabulary {
    type Error = String;

    fn try_from(record: VocabularyRecord) -> std::result::Result<Self, String> {
        Vocabulary::from_words(record.words)
    }
}

impl Vocabulary {
    /// Splits every text into words as [`tokenize_review`](super::tokenize_review) does and
    /// keeps the `top_k` most frequent
    /// words (all of them when there are fewer).
    pub fn fit<'a>(texts: impl IntoIterator<Item = &'a str>, top_k: usize) -> Self {
        // word -> (count, order of first appearance)
        let mut counts: HashMap<String, (u64, usize)> = HashMap::new();
        for text in texts {
            for_each_word(text, true, |word| match counts.get_mut(word) {
                Some((count, _)) => *count += 1,
                None => {
                    let first = counts.len();
                    counts.insert(word.to_string(), (1, first));
                }
            });
        }
        let mut ranked: Vec<(String, (u64, usize))> = counts.into_iter().collect();
        ranked.sort_unstable_by_key(|&(_, (count, first))| (std::cmp::Reverse(count), first));
        ranked.truncate(top_k);
        let words = ranked.into_iter().map(|(w, _)| w).collect();
        Self::from_words(words).expect("counted words are distinct")
    }

    /// A vocabulary from words listed most frequent first.
    ///
    /// # Errors
    /// A message naming the first word listed twice.
    fn from_words(words: Vec<String>) -> std::result::Result<Self, String> {
        let mut ranks = HashMap::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            if ranks.insert(word.clone(), i as u32 + 1).is_some() {
                return Err(format!("the word '{word}' is listed twice"));
            }
        }
        Ok(Self { words, ranks })
    }

    /// The words, most frequent first.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The same ranks as a [`WordIndex`].
    pub fn to_word_index(&self) -> WordIndex {
        WordIndex::from_ranks(self.ranks.iter().map(|(w, &r)| (w.clone(), r)))
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when there are no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Writes the vocabulary as JSON.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn save_json(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string(self).expect("a vocabulary always serialises");
        std::fs::write(path, json).map_err(|e| Error::io("writing", path, e))
    }

    /// Reads a vocabulary written by [`Vocabulary::save_json`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Data`] naming it when its
    /// content is not a vocabulary.
    pub fn load_json(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::data(path, format!("not a manabi vocabulary: {e}")))
    }
}

impl TextEncoder for Vocabulary {
    fn rank(&self, word: &str) -> Option<u32> {
        self.ranks.get(word).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::super::encoder::SequenceConfig;
    use super::*;

    #[test]
    fn ranks_by_count_then_first_appearance() {
        let vocab = Vocabulary::fit(["b a c", "c, D! a", "<br />e d"], 10);
        // a, c, d twice (first seen: a at 1, c at 2, d at 3); b, e once (b at 0, e at 4).
        assert_eq!(vocab.words(), ["a", "c", "d", "b", "e"]);
        assert_eq!(vocab.rank("a"), Some(1));
        assert_eq!(vocab.rank("e"), Some(5));
        assert_eq!(vocab.rank("br"), None);
        let top = Vocabulary::fit(["b a c", "c, D! a", "<br />e d"], 2);
        assert_eq!(top.words(), ["a", "c"]);
        assert!(Vocabulary::fit([], 5).is_empty());
    }

    #[test]
    fn encodes_like_the_word_index() {
        let vocab = Vocabulary::fit(["x y y z z z"], 10);
        // z -> 1 + 3, y -> 2 + 3, x -> 3 + 3 = 6 >= num_words 6: oov.
        let cfg = SequenceConfig::new(6, 4);
        let tokens = super::super::tokenize::tokenize_review("Z y x unseen");
        assert_eq!(vocab.encode(&tokens, &cfg), vec![1, 4, 5, 2, 2]);
    }

    #[test]
    fn round_trips_through_json() {
        let vocab = Vocabulary::fit(["été café café", "naïve"], 10);
        let json = serde_json::to_string(&vocab).unwrap();
        assert_eq!(json, r#"{"words":["café","été","naïve"]}"#);
        assert_eq!(serde_json::from_str::<Vocabulary>(&json).unwrap(), vocab);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vocab.json");
        vocab.save_json(&path).unwrap();
        assert_eq!(Vocabulary::load_json(&path).unwrap(), vocab);
    }

    #[test]
    fn rejects_bad_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vocab.json");
        for (text, why) in [
            (r#"{"words":["a","a"]}"#, "'a' is listed twice"),
            (r#"{"words":[1]}"#, "invalid type"),
            (r#"{"word":[]}"#, "unknown field"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = Vocabulary::load_json(&path).unwrap_err();
            assert!(matches!(err, Error::Data { .. }), "{err}");
            let msg = err.to_string();
            assert!(msg.contains("vocab.json") && msg.contains(why), "{msg}");
        }
    }
}
