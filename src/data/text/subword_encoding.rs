//! Texts as BERT-style subword sequences (issue 10): `[CLS] pieces... [SEP]`, truncated to the
//! context length and padded with `[PAD]` at the end.
//!
//! ```text
//! ids = [CLS] + pieces(text)[..maxlen - 2] + [SEP] + [PAD] * (maxlen - used)
//! ```
//! Padding goes after the text, so the first position of every sequence is `[CLS]` and a
//! causal model never sees a row of padding before the text starts.

use super::subword::SubwordVocab;
use crate::data::{Dataset, Targets};
use crate::{Error, Result};

/// Id of `[PAD]` (masked by an embedding with `mask_zero`).
pub const SUBWORD_PAD: u32 = 0;
/// Id of `[UNK]`.
pub const SUBWORD_UNK: u32 = 1;
/// Id of `[CLS]`, first in every sequence.
pub const SUBWORD_CLS: u32 = 2;
/// Id of `[SEP]`, after the last piece.
pub const SUBWORD_SEP: u32 = 3;
/// Id of `[MASK]`.
pub const SUBWORD_MASK: u32 = 4;
/// Ids below this are special tokens.
pub const SUBWORD_FIRST_PIECE: u32 = 5;

/// A subword vocabulary with the sequence length it encodes to.
#[derive(Debug, Clone)]
pub struct SubwordEncoding {
    /// The vocabulary.
    pub vocab: SubwordVocab,
    /// Length of every sequence, `[CLS]` and `[SEP]` included.
    pub maxlen: usize,
}

impl SubwordEncoding {
    /// Checks `maxlen >= 3` (room for `[CLS]`, one piece and `[SEP]`).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `data.text.maxlen`.
    pub fn new(vocab: SubwordVocab, maxlen: usize) -> Result<Self> {
        if maxlen < 3 {
            return Err(Error::invalid(
                "data.text.maxlen",
                format!(
                    "{maxlen} is too small: a subword sequence holds [CLS], at least one piece and [SEP]"
                ),
            ));
        }
        Ok(Self { vocab, maxlen })
    }

    /// The text's pieces, HTML line breaks (`<br />`) read as spaces.
    pub fn pieces(&self, text: &str) -> Vec<u32> {
        self.vocab.encode(&clean(text))
    }

    /// Encodes and pads `texts` into a data set of `[maxlen]` samples with the given classes.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `labels` and `texts` differ in length.
    pub fn dataset(&self, texts: &[&str], labels: Vec<u32>, num_classes: usize) -> Result<Dataset> {
        if labels.len() != texts.len() {
            return Err(Error::invalid(
                "data",
                format!("{} texts but {} labels", texts.len(), labels.len()),
            ));
        }
        let cleaned: Vec<String> = texts.iter().map(|t| clean(t)).collect();
        let pieces = self.vocab.encode_batch(&cleaned);
        let mut features = vec![SUBWORD_PAD as f32; texts.len() * self.maxlen];
        for (row, p) in features.chunks_exact_mut(self.maxlen).zip(&pieces) {
            row[0] = SUBWORD_CLS as f32;
            let kept = p.len().min(self.maxlen - 2);
            for (slot, &id) in row[1..=kept].iter_mut().zip(p) {
                *slot = id as f32;
            }
            row[kept + 1] = SUBWORD_SEP as f32;
        }
        Dataset::new(
            features,
            vec![self.maxlen],
            Targets::Classes {
                labels,
                num_classes,
            },
        )
    }
}

/// The text with `<br />` breaks as spaces.
fn clean(text: &str) -> String {
    text.replace("<br />", " ").replace("<br/>", " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoding(maxlen: usize) -> SubwordEncoding {
        let corpus = ["the movie was good", "the movie was bad", "a good film"];
        let vocab = SubwordVocab::train(corpus.iter().cycle().take(30), 300, 2).unwrap();
        SubwordEncoding::new(vocab, maxlen).unwrap()
    }

    #[test]
    fn sequences_start_with_cls_end_with_sep_and_pad_after() {
        let enc = encoding(12);
        let data = enc
            .dataset(&["the movie<br />was good", ""], vec![1, 0], 2)
            .unwrap();
        let first = data.sample(0);
        assert_eq!(first[0], SUBWORD_CLS as f32);
        let sep = first.iter().position(|&v| v == SUBWORD_SEP as f32).unwrap();
        assert!(sep > 1);
        assert!(first[sep + 1..].iter().all(|&v| v == SUBWORD_PAD as f32));
        assert_eq!(
            enc.vocab
                .decode(&first[1..sep].iter().map(|&v| v as u32).collect::<Vec<_>>()),
            "the movie was good"
        );
        assert_eq!(&data.sample(1)[..3], &[2.0, 3.0, 0.0]);
        // A long text keeps its first maxlen - 2 pieces, then [SEP].
        let long = "the movie was good ".repeat(20);
        let row = enc.dataset(&[long.as_str()], vec![0], 1).unwrap();
        let ids: Vec<u32> = row.sample(0).iter().map(|&v| v as u32).collect();
        assert_eq!(ids[0], SUBWORD_CLS);
        assert_eq!(ids[11], SUBWORD_SEP);
        assert_eq!(ids[1..11], enc.pieces(&long)[..10]);
    }

    #[test]
    fn too_short_a_context_is_refused() {
        let vocab = encoding(5).vocab;
        let err = SubwordEncoding::new(vocab, 2).unwrap_err().to_string();
        assert!(err.contains("data.text.maxlen"), "{err}");
    }
}
