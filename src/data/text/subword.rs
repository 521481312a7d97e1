//! Subword vocabularies (issue 10, A7): a byte-level BPE vocabulary trained on a corpus with
//! Hugging Face's `tokenizers`, saved as one JSON file beside a run and loaded to encode and
//! decode text. Byte-level pieces cover every UTF-8 string, so decoding an encoding gives the
//! text back exactly, accents and all. The special tokens come first, in this order, so their
//! ids are fixed: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4.

use std::path::Path;

use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer};

use crate::run::write_atomic;
use crate::{Error, Result};

/// The special tokens, in id order.
pub const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// A trained subword vocabulary.
#[derive(Debug, Clone)]
pub struct SubwordVocab {
    tokenizer: Tokenizer,
}

impl SubwordVocab {
    /// Trains a byte-level BPE vocabulary of at most `vocab_size` entries (special tokens and
    /// the 256 byte symbols included) on `texts`, keeping merges seen at least `min_frequency`
    /// times.
    pub fn train<I, S>(texts: I, vocab_size: usize, min_frequency: u64) -> Result<Self>
    where
        I: Iterator<Item = S> + Send,
        S: AsRef<str> + Send,
    {
        let floor = SPECIAL_TOKENS.len() + 256;
        if vocab_size <= floor {
            return Err(Error::invalid(
                "vocab_size",
                format!(
                    "must exceed {floor} (the special tokens and the 256 byte symbols), got {vocab_size}"
                ),
            ));
        }
        let mut texts = texts.peekable();
        if texts.peek().is_none() {
            return Err(Error::invalid(
                "corpus",
                "the corpus holds no text to learn a vocabulary from",
            ));
        }
        let specials = SPECIAL_TOKENS
            .iter()
            .map(|t| AddedToken::from(*t, true))
            .collect();
        let trainer = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(min_frequency)
            .special_tokens(specials)
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .show_progress(false)
            .build();
        let mut tokenizer = Tokenizer::new(BPE::default());
        let bytes = ByteLevel::default().add_prefix_space(false);
        tokenizer.with_pre_tokenizer(Some(bytes));
        tokenizer.with_decoder(Some(bytes));
        tokenizer
            .train(&mut TrainerWrapper::from(trainer), texts)
            .map_err(|e| {
                Error::invalid("corpus", format!("training the vocabulary failed: {e}"))
            })?;
        Ok(Self { tokenizer })
    }

    /// Loads a vocabulary saved by [`save`](Self::save), checking that it holds the special
    /// tokens at their ids.
    pub fn load(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::invalid(
                "vocabulary",
                format!(
                    "{} does not exist: the run folder misses its vocabulary file",
                    path.display()
                ),
            ));
        }
        let tokenizer = Tokenizer::from_file(path).map_err(|e| {
            Error::invalid(
                "vocabulary",
                format!("{} is not a tokenizer file: {e}", path.display()),
            )
        })?;
        Self::checked(Self { tokenizer }, &path.display().to_string())
    }

    /// Writes the vocabulary as JSON (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = self
            .tokenizer
            .to_string(true)
            .map_err(|e| Error::invalid("vocabulary", format!("cannot serialise: {e}")))?;
        write_atomic(path, json.as_bytes())
    }

    /// Entries in the vocabulary, special tokens included.
    pub fn len(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// Whether the vocabulary is empty (never, once trained).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of `token`, if it is in the vocabulary.
    pub fn id_of(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }

    /// The subword ids of `text` (no special tokens added).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.tokenizer
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default()
    }

    /// The subword ids of each text (no special tokens added), encoded in parallel.
    pub fn encode_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<u32>> {
        let inputs: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        match self.tokenizer.encode_batch(inputs, false) {
            Ok(encodings) => encodings.iter().map(|e| e.get_ids().to_vec()).collect(),
            Err(_) => texts.iter().map(|t| self.encode(t.as_ref())).collect(),
        }
    }

    /// The vocabulary as a JSON value (Hugging Face's tokenizer format).
    pub fn to_json(&self) -> serde_json::Value {
        let text = self
            .tokenizer
            .to_string(false)
            .expect("a trained tokenizer serialises");
        serde_json::from_str(&text).expect("the tokenizer writes JSON")
    }

    /// A vocabulary from [`to_json`](Self::to_json)'s value, checked like [`load`](Self::load).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `source` when the value is not a manabi vocabulary.
    pub fn from_json(value: &serde_json::Value, source: &str) -> Result<Self> {
        let tokenizer: Tokenizer = serde_json::from_value(value.clone()).map_err(|e| {
            Error::invalid("vocabulary", format!("{source} is not a tokenizer: {e}"))
        })?;
        Self::checked(Self { tokenizer }, source)
    }

    /// Whether both vocabularies map every piece to the same id.
    pub fn same_as(&self, other: &Self) -> bool {
        self.to_json() == other.to_json()
    }

    /// `vocab` when it holds the special tokens at their ids.
    fn checked(vocab: Self, source: &str) -> Result<Self> {
        for (id, token) in SPECIAL_TOKENS.iter().enumerate() {
            if vocab.id_of(token) != Some(id as u32) {
                return Err(Error::invalid(
                    "vocabulary",
                    format!(
                        "{source} does not hold {token} at id {id}: it was not written by manabi"
                    ),
                ));
            }
        }
        Ok(vocab)
    }

    /// The text of `ids`, special tokens left out.
    pub fn decode(&self, ids: &[u32]) -> String {
        self.tokenizer.decode(ids, true).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORPUS: [&str; 6] = [
        "This movie was great, the acting was great and the story was great.",
        "This movie was terrible; the acting was terrible.",
        "Une très belle histoire, émouvante et drôle.",
        "The story of the movie: a great deal of acting.",
        "映画はとても良かった。",
        "the the the movie movie acting acting story story",
    ];

    fn vocab() -> SubwordVocab {
        SubwordVocab::train(CORPUS.iter().cycle().take(60), 400, 2).unwrap()
    }

    #[test]
    fn decoding_an_encoding_gives_the_text_back_ascii_or_not() {
        let v = vocab();
        for text in [
            "This movie was great!",
            "Une très belle histoire, émouvante.",
            "映画は良かった 🎬 — naïve café",
            "  two  spaces\tand a tab\n",
        ] {
            let ids = v.encode(text);
            assert!(!ids.is_empty());
            assert_eq!(v.decode(&ids), text);
        }
        // Frequent words become single pieces; the special tokens keep their ids.
        assert!(v.encode("movie").len() < "movie".len());
        for (id, t) in SPECIAL_TOKENS.iter().enumerate() {
            assert_eq!(v.id_of(t), Some(id as u32));
        }
        assert!(v.len() <= 400 && v.len() > 261);
    }

    #[test]
    fn a_saved_vocabulary_loads_the_same_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vocab.json");
        let v = vocab();
        v.save(&path).unwrap();
        let back = SubwordVocab::load(&path).unwrap();
        let text = "The acting was great.";
        assert_eq!(back.encode(text), v.encode(text));
        let err = SubwordVocab::load(&dir.path().join("missing.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
        std::fs::write(&path, "{\"not\": \"a tokenizer\"}").unwrap();
        let err = SubwordVocab::load(&path).unwrap_err().to_string();
        assert!(err.contains("not a tokenizer file"), "{err}");
    }

    #[test]
    fn an_empty_corpus_or_a_tiny_vocabulary_is_refused() {
        let err = SubwordVocab::train(std::iter::empty::<&str>(), 400, 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no text"), "{err}");
        let err = SubwordVocab::train(CORPUS.iter(), 100, 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("vocab_size"), "{err}");
    }
}
