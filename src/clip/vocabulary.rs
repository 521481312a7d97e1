//! The text side of CLIP's input: a word vocabulary and bag-of-words vectors. A dense layer on a
//! bag-of-words vector is a bag-of-embeddings text encoder (the mean of the words' embedding
//! rows).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::captions::{check_caption, tokens};
use crate::Result;

/// Words known to the text encoder, numbered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Word to column of the bag-of-words vector.
    pub words: BTreeMap<String, usize>,
}

impl Vocabulary {
    /// The vocabulary of `texts` (every word they contain).
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut words = BTreeMap::new();
        for text in texts {
            for w in tokens(text) {
                let next = words.len();
                words.entry(w).or_insert(next);
            }
        }
        Self { words }
    }

    /// Columns of a bag-of-words vector.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when no word is known.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The caption as word frequencies (counts over the known words, summing to 1); words not
    /// in the vocabulary are skipped (a caption of unknown words only is all zeros). An empty
    /// caption is an error.
    pub fn encode(&self, text: &str) -> Result<Vec<f32>> {
        check_caption(text)?;
        let mut v = vec![0.0f32; self.len()];
        let known: Vec<usize> = tokens(text)
            .iter()
            .filter_map(|w| self.words.get(w).copied())
            .collect();
        for &k in &known {
            v[k] += 1.0 / known.len() as f32;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_word_frequencies_and_skips_unknown_words() {
        let vocab = Vocabulary::from_texts(["a photo of a boot", "a bag"]);
        assert_eq!(vocab.len(), 5);
        let v = vocab.encode("a boot, a BAG and a hat").unwrap();
        let at = |w: &str| v[vocab.words[w]];
        assert_eq!(at("a"), 3.0 / 5.0);
        assert_eq!(at("boot"), 1.0 / 5.0);
        assert_eq!(at("photo"), 0.0);
        assert!((v.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(vocab.encode("hat").unwrap().iter().all(|&x| x == 0.0));
        assert!(vocab.encode("").is_err());
    }
}
