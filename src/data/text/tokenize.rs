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

/// Which ASCII bytes end a word: the Keras filters and ASCII whitespace.
const ASCII_SEPARATORS: [bool; 128] = {
    let mut table = [false; 128];
    let filters = KERAS_FILTERS.as_bytes();
    let mut i = 0;
    while i < filters.len() {
        table[filters[i] as usize] = true;
        i += 1;
    }
    let mut b = 0;
    while b < 128 {
        if (b as u8 as char).is_whitespace() {
            table[b] = true;
        }
        b += 1;
    }
    table
};

/// The length of the HTML line break `bytes` starts with, if any (ASCII case ignored).
fn br_tag_len(bytes: &[u8]) -> Option<usize> {
    BR_TAGS
        .iter()
        .find(|t| bytes.len() >= t.len() && bytes[..t.len()].eq_ignore_ascii_case(t.as_bytes()))
        .map(|t| t.len())
}

/// Calls `f` with each word of `text`, lower-cased, in order.
///
/// One pass over the bytes: ASCII is looked up in a table; a word is handed out as a slice
/// of `text` when it is already lower-case, so most words cost no copy. A word holding
/// other characters is lower-cased as a whole (so Unicode rules that look at neighbouring
/// letters, like the Greek final sigma, still apply).
pub(crate) fn for_each_word(text: &str, strip_br: bool, mut f: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut scratch = String::new();
    let mut emit = |start: usize, end: usize, upper: bool, ascii: bool| {
        if start == end {
            return;
        }
        let word = &text[start..end];
        if !upper {
            f(word);
        } else if ascii {
            scratch.clear();
            scratch.push_str(word);
            scratch.make_ascii_lowercase();
            f(&scratch);
        } else {
            f(&word.to_lowercase());
        }
    };
    let (mut start, mut upper, mut ascii) = (0, false, true);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (sep_len, char_len) = if b.is_ascii() {
            let tag = match b {
                b'<' if strip_br => br_tag_len(&bytes[i..]),
                _ => None,
            };
            upper |= b.is_ascii_uppercase();
            (tag.or(ASCII_SEPARATORS[b as usize].then_some(1)), 1)
        } else {
            let c = text[i..].chars().next().expect("i is on a char boundary");
            ascii = false;
            // Conservatively treat any non-ASCII letter as needing lower-casing.
            upper = true;
            (c.is_whitespace().then_some(c.len_utf8()), c.len_utf8())
        };
        match sep_len {
            Some(len) => {
                emit(start, i, upper, ascii);
                i += len;
                (start, upper, ascii) = (i, false, true);
            }
            None => i += char_len,
        }
    }
    emit(start, bytes.len(), upper, ascii);
}

fn split_words(text: &str, strip_br: bool) -> Vec<String> {
    let mut tokens = Vec::new();
    for_each_word(text, strip_br, |w| tokens.push(w.to_string()));
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
        assert_eq!(words("  a \r\n b\u{a0}c\u{2003}d  "), ["a", "b", "c", "d"]);
    }

    #[test]
    fn keeps_non_ascii_letters_lower_cased() {
        assert_eq!(
            words("Amélie était 😀 GREAT — ÉCOLE"),
            ["amélie", "était", "😀", "great", "—", "école"]
        );
        // Lower-cased like Python's str.lower(), final sigma included.
        assert_eq!(words("ΟΔΟΣ, Straße"), ["οδος", "straße"]);
    }

    #[test]
    fn empty_and_punctuation_only_texts_have_no_words() {
        assert!(words("").is_empty());
        assert!(words("?!... <br /> --").is_empty());
    }
}
