//! Splitting text into words the way Keras' `text_to_word_sequence` does.

/// Characters Keras' `text_to_word_sequence` replaces by a separator (its default `filters`).
/// The apostrophe is not one of them, so "it's" stays one word.
pub const KERAS_FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

/// The HTML line breaks found in IMDB reviews, matched after lower-casing.
const BR_TAGS: [&str; 3] = ["<br />", "<br/>", "<br>"];

/// Keras' `text_to_word_sequence` with its defaults: lower-case, turn every character of
/// [`KERAS_FILTERS`] into a separator, split, drop empty tokens.
///
/// Non-ASCII letters are kept (lower-cased with Unicode rules). One difference: Keras splits
/// on the space character only, while this splits on any Unicode whitespace, so a stray
/// `\r` or non-breaking space separates words here instead of sticking to them.
pub fn text_to_word_sequence(text: &str) -> Vec<String> {
    split_words(text, false)
}

/// [`text_to_word_sequence`] after replacing each HTML line break (`<br />`, `<br/>`,
/// `<br>`, any case) by a space, as IMDB reviews need.
///
/// Keras' own `imdb.npz` kept those breaks as the word `br` (rank 7 in its word index); here
/// they are dropped, so no review is padded with a meaningless `br`.
pub fn tokenize_review(text: &str) -> Vec<String> {
    split_words(text, true)
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || KERAS_FILTERS.contains(c)
}

fn split_words(text: &str, strip_br: bool) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut rest = lower.as_str();
    while let Some(c) = rest.chars().next() {
        let tag = match c {
            '<' if strip_br => BR_TAGS.iter().find(|t| rest.starts_with(*t)),
            _ => None,
        };
        let step = tag.map_or(c.len_utf8(), |t| t.len());
        if tag.is_some() || is_separator(c) {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
        } else {
            word.push(c);
        }
        rest = &rest[step..];
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokenize_review(text)
    }

    #[test]
    fn keeps_apostrophes_and_drops_punctuation() {
        // keras.preprocessing.text.text_to_word_sequence("Hello, World! It's great.")
        // == ['hello', 'world', "it's", 'great']
        assert_eq!(
            text_to_word_sequence("Hello, World! It's great."),
            ["hello", "world", "it's", "great"]
        );
        assert_eq!(
            words("Hello, World! It's <br />great."),
            ["hello", "world", "it's", "great"]
        );
    }

    #[test]
    fn plain_keras_turns_line_breaks_into_br() {
        // Keras: '<', '/', '>' are filters, so "<br />" leaves the word "br".
        assert_eq!(
            text_to_word_sequence("Good.<br /><br />Bad"),
            ["good", "br", "br", "bad"]
        );
    }

    #[test]
    fn every_break_form_and_case_is_a_separator() {
        assert_eq!(
            words("one<br />two<br/>three<br>four<BR />five<Br/>six"),
            ["one", "two", "three", "four", "five", "six"]
        );
        // Other tags are only split at their punctuation, as Keras would.
        assert_eq!(words("<i>brave</i>"), ["i", "brave", "i"]);
        assert_eq!(words("<bright"), ["bright"]);
    }

    #[test]
    fn every_filter_character_separates() {
        for c in KERAS_FILTERS.chars() {
            assert_eq!(words(&format!("a{c}b")), ["a", "b"], "filter {c:?}");
        }
        assert_eq!(words("  a \r\n b\u{a0}c  "), ["a", "b", "c"]);
    }

    #[test]
    fn keeps_non_ascii_letters_lower_cased() {
        assert_eq!(
            words("Amélie était 😀 GREAT — ÉCOLE"),
            ["amélie", "était", "😀", "great", "—", "école"]
        );
    }

    #[test]
    fn empty_and_punctuation_only_texts_have_no_words() {
        assert!(words("").is_empty());
        assert!(words("?!... <br /> --").is_empty());
    }
}
