//! The `[augment]` section (SPEC S1): one augmentation pipeline per view. Supervised training
//! and the embedding methods augment each training batch with the one view; contrastive
//! methods draw one view per pipeline.
//!
//! ```toml
//! [[augment.views]]
//! ops = [{ op = "random_resized_crop", scale = [0.5, 1.0] }, { op = "horizontal_flip", p = 0.5 }]
//! ```

use serde::{Deserialize, Serialize};

use crate::augment::Pipeline;
use crate::{Error, Result};

/// `[augment]`: the views' pipelines.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AugmentSection {
    /// One pipeline per view.
    pub views: Vec<Pipeline>,
}

impl AugmentSection {
    /// Checks every op's values.
    pub fn validate(&self) -> Result<()> {
        if self.views.is_empty() {
            return Err(Error::invalid(
                "augment.views",
                "list at least one view: [[augment.views]] with ops = [...]",
            ));
        }
        self.views
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| v.validate(&format!("augment.views[{i}]")))
    }

    /// Checks that the ops suit the data: text ops (word dropout, swaps) for token sequences
    /// (`text`: the samples are rows of token ids), image ops for `[c, h, w]` images.
    pub fn check_kinds(&self, sample_shape: &[usize], text: bool) -> Result<()> {
        if text {
            return match self.views.iter().position(Pipeline::has_image_ops) {
                Some(i) => Err(Error::invalid(
                    format!("augment.views[{i}]"),
                    "the data are token sequences, not images: use the text ops word_dropout and word_swap",
                )),
                None => Ok(()),
            };
        }
        if sample_shape.len() != 3 {
            return Err(Error::invalid(
                "augment",
                format!(
                    "augmentation works on images [channels, height, width] and on text (token sequences); the data's samples have shape {sample_shape:?}"
                ),
            ));
        }
        match self.views.iter().position(Pipeline::has_text_ops) {
            Some(i) => Err(Error::invalid(
                format!("augment.views[{i}]"),
                "word_dropout and word_swap work on token sequences, and the data are images",
            )),
            None => Ok(()),
        }
    }

    /// [`check_kinds`](Self::check_kinds), and that every image view gives back images of the
    /// same size (the model's input).
    pub fn check_shape(&self, sample_shape: &[usize], text: bool) -> Result<()> {
        self.check_kinds(sample_shape, text)?;
        let &[c, h, w] = sample_shape else {
            return Ok(()); // token sequences keep their length
        };
        for (i, view) in self.views.iter().enumerate() {
            let out = view.output_shape([c, h, w]);
            if out != [c, h, w] {
                return Err(Error::invalid(
                    format!("augment.views[{i}]"),
                    format!(
                        "produces images of shape {out:?} but the model takes {:?}; set the crop's size to [{h}, {w}]",
                        [c, h, w]
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_of_the_wrong_size_is_named() {
        let text = r#"
[[views]]
ops = [{ op = "horizontal_flip" }]
[[views]]
ops = [{ op = "random_resized_crop", size = [24, 24] }]
"#;
        let a: AugmentSection = toml::from_str(text).unwrap();
        a.validate().unwrap();
        let err = a.check_shape(&[1, 28, 28], false).unwrap_err().to_string();
        assert!(
            err.contains("augment.views[1]") && err.contains("[1, 24, 24]"),
            "{err}"
        );
        let err = a.check_shape(&[64], false).unwrap_err().to_string();
        assert!(err.contains("images"), "{err}");
        let err = a.check_shape(&[64], true).unwrap_err().to_string();
        assert!(err.contains("token sequences"), "{err}");
        let words: AugmentSection =
            toml::from_str("[[views]]\nops = [{ op = \"word_dropout\", rate = 0.1 }]").unwrap();
        words.check_shape(&[50], true).unwrap();
        // Word ops on tabular features (not text) would treat zeros as padding: refused.
        assert!(words.check_shape(&[50], false).is_err());
        let err = words
            .check_shape(&[1, 28, 28], false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("augment.views[0]") && err.contains("token"),
            "{err}"
        );
        let none: AugmentSection = toml::from_str("views = []").unwrap();
        assert!(none.validate().is_err());
    }
}
