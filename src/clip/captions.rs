//! Captions for CLIP-style training (SPEC S6) made honestly from labelled images: there is no
//! public image-caption set here, so each image's caption is drawn from its class through
//! templates and attribute words ("a photo of a sneaker", "a sports shoe, a type of footwear",
//! "the handwritten digit seven"). Zero-shot evaluation uses template sets never used in
//! training (seed 003's prompt engineering). The text tower knows only the words of the training
//! captions: a held-out template's new words are dropped, so what a held-out prompt adds over
//! the bare class words is its known words in a new combination.

use rand::Rng;

use crate::{Error, Result};

/// Words that name a class and the kind of thing it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassWords {
    /// Names of the class (the first is the plain name).
    pub aliases: Vec<String>,
    /// What kind of thing the class is ("footwear", "handwritten digit").
    pub category: String,
}

/// Templates the captions of training images are drawn from; `{}` is a class alias and
/// `{cat}` its category.
pub const TRAIN_TEMPLATES: &[&str] = &[
    "a photo of a {}",
    "a picture of a {}",
    "an image of a {}",
    "a greyscale photo of a {}",
    "a small photo of a {}",
    "a {}, a type of {cat}",
    "a {} on a plain background",
    "a centred photo of a single {}",
    "{cat}: a {}",
    "a low resolution image of a {}",
];

/// Template sets for zero-shot classification, none of them used in training.
pub const ZERO_SHOT_TEMPLATES: &[(&str, &[&str])] = &[
    ("name_only", &["{}"]),
    (
        "unseen_photo",
        &[
            "this is a {}",
            "look at this {}",
            "a close-up shot of the {}",
        ],
    ),
    (
        "unseen_category",
        &["the {cat} called {}", "an example of {cat}, namely a {}"],
    ),
];

/// The class words of a dataset's classes, by their names: Fashion-MNIST's garments and the
/// digits 0-9 (MNIST, USPS, sklearn digits); other names get the name itself and "object".
pub fn class_words(class_names: &[String]) -> Vec<ClassWords> {
    class_names.iter().map(|n| words_of(n)).collect()
}

fn words_of(name: &str) -> ClassWords {
    let make = |aliases: &[&str], category: &str| ClassWords {
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        category: category.to_string(),
    };
    const DIGITS: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    if let Ok(d) = name.parse::<usize>()
        && d < 10
    {
        let word = DIGITS[d];
        return ClassWords {
            aliases: vec![
                format!("digit {word}"),
                format!("handwritten {word}"),
                format!("number {word}"),
                word.to_string(),
            ],
            category: "handwritten digit".to_string(),
        };
    }
    match name {
        "T-shirt/top" => make(&["t-shirt", "top", "tee"], "upper-body clothing"),
        "Trouser" => make(&["trousers", "pants", "slacks"], "legwear"),
        "Pullover" => make(&["pullover", "sweater", "jumper"], "upper-body clothing"),
        "Dress" => make(&["dress", "gown", "frock"], "clothing"),
        "Coat" => make(&["coat", "jacket", "overcoat"], "outerwear"),
        "Sandal" => make(&["sandal", "open shoe", "flip-flop"], "footwear"),
        "Shirt" => make(
            &["shirt", "blouse", "button-up shirt"],
            "upper-body clothing",
        ),
        "Sneaker" => make(&["sneaker", "sports shoe", "trainer"], "footwear"),
        "Bag" => make(&["bag", "handbag", "purse"], "accessory"),
        "Ankle boot" => make(&["ankle boot", "boot", "bootie"], "footwear"),
        other => ClassWords {
            aliases: vec![other.to_lowercase()],
            category: "object".to_string(),
        },
    }
}

/// `template` filled with `alias` and `category`.
pub fn fill(template: &str, alias: &str, category: &str) -> String {
    template.replace("{cat}", category).replace("{}", alias)
}

/// A training caption for an image of class `words`: a random template and alias.
pub fn training_caption(words: &ClassWords, rng: &mut impl Rng) -> String {
    let template = TRAIN_TEMPLATES[rng.random_range(0..TRAIN_TEMPLATES.len())];
    let alias = &words.aliases[rng.random_range(0..words.aliases.len())];
    fill(template, alias, &words.category)
}

/// Every prompt of a template set for one class (each template with each alias).
pub fn prompts(templates: &[&str], words: &ClassWords) -> Vec<String> {
    templates
        .iter()
        .flat_map(|t| words.aliases.iter().map(|a| fill(t, a, &words.category)))
        .collect()
}

/// The words of a caption: lower case, split on anything but letters, digits and `-`.
pub fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks that a caption has at least one word.
pub fn check_caption(text: &str) -> Result<()> {
    if tokens(text).is_empty() {
        return Err(Error::invalid(
            "caption",
            format!("'{text}' has no words; every caption needs at least one"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn captions_name_the_class_and_zero_shot_templates_are_unseen() {
        let names: Vec<String> = ["Sneaker", "7", "Widget"].map(String::from).to_vec();
        let words = class_words(&names);
        assert_eq!(words[0].category, "footwear");
        assert_eq!(words[1].aliases[0], "digit seven");
        assert_eq!(words[2].aliases, vec!["widget".to_string()]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..20 {
            let c = training_caption(&words[0], &mut rng);
            assert!(
                words[0].aliases.iter().any(|a| c.contains(a.as_str())),
                "{c}"
            );
            assert!(!c.contains('{'), "{c}");
        }
        for (_, set) in ZERO_SHOT_TEMPLATES {
            for t in *set {
                assert!(!TRAIN_TEMPLATES.contains(t), "{t} is a training template");
            }
        }
        // No template word may name a class (e.g. "one" would label every caption "digit 1").
        let digits: Vec<String> = (0..10).map(|d| d.to_string()).collect();
        let class_tokens: Vec<String> = class_words(&digits)
            .iter()
            .flat_map(|w| w.aliases.iter().flat_map(|a| tokens(a)))
            .filter(|t| !["digit", "handwritten", "number"].contains(&t.as_str()))
            .collect();
        let all = TRAIN_TEMPLATES
            .iter()
            .chain(ZERO_SHOT_TEMPLATES.iter().flat_map(|(_, s)| s.iter()));
        for t in all {
            for w in tokens(t) {
                assert!(
                    !class_tokens.contains(&w),
                    "template '{t}' uses the class word '{w}'"
                );
            }
        }
        assert_eq!(
            fill("the {cat} called {}", "boot", "footwear"),
            "the footwear called boot"
        );
        assert_eq!(prompts(&["a {}", "{}"], &words[0]).len(), 6);
    }

    #[test]
    fn tokens_split_words_and_empty_captions_are_refused() {
        assert_eq!(
            tokens("A T-shirt, a type of clothing."),
            ["a", "t-shirt", "a", "type", "of", "clothing"]
        );
        let err = check_caption("  ,. ").unwrap_err().to_string();
        assert!(err.contains("caption") && err.contains("no words"), "{err}");
        check_caption("boot").unwrap();
    }
}
