//! [`LossConfig`]: the recipe's choice of loss, and the targets it accepts.

use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

use super::{
    binary_cross_entropy_with_logits, categorical_cross_entropy, kl_divergence, mse,
    multilabel_bce, soft_target_cross_entropy, sparse_categorical_cross_entropy,
};
use crate::{Error, Result};

/// Which loss a model is trained with. Every loss takes logits (the last layer's raw
/// outputs); [`LossConfig::output_activation`] says how to turn them into predictions.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LossConfig {
    /// Mean squared error ([`mse`]), dense targets.
    Mse,
    /// Sigmoid binary cross-entropy ([`binary_cross_entropy_with_logits`]): logits
    /// `[batch, 1]` with 0/1 class labels, or dense targets of the logits' shape.
    BinaryCrossentropy,
    /// One sigmoid per label ([`multilabel_bce`]), dense 0/1 targets `[batch, labels]`.
    MultilabelBinaryCrossentropy,
    /// Softmax cross-entropy with one-hot or probability rows
    /// ([`categorical_cross_entropy`]).
    CategoricalCrossentropy,
    /// Softmax cross-entropy with integer labels ([`sparse_categorical_cross_entropy`]).
    SparseCategoricalCrossentropy,
    /// Softmax cross-entropy with soft targets ([`soft_target_cross_entropy`]).
    SoftTargetCrossentropy,
    /// `KL(target ‖ softmax(logits))`, batch mean ([`kl_divergence`]).
    KlDivergence,
}

/// The targets of a batch, as the loss receives them.
#[derive(Clone, Debug)]
pub enum Target {
    /// One class index per sample, `[batch]`.
    Classes(Tensor<1, Int>),
    /// One row of values per sample (regression values, one-hot rows, probabilities),
    /// the logits' shape `[batch, outputs]`.
    Dense(Tensor<2>),
}

/// How a model's logits map to its predictions.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutputActivation {
    /// `softmax` over the last axis: class probabilities.
    Softmax,
    /// Element-wise `sigmoid`: independent probabilities.
    Sigmoid,
    /// The logits are the predictions (regression).
    Identity,
}

impl LossConfig {
    /// The loss's name as written in a recipe, e.g. `"sparse_categorical_crossentropy"`.
    pub fn name(&self) -> &'static str {
        match self {
            LossConfig::Mse => "mse",
            LossConfig::BinaryCrossentropy => "binary_crossentropy",
            LossConfig::MultilabelBinaryCrossentropy => "multilabel_binary_crossentropy",
            LossConfig::CategoricalCrossentropy => "categorical_crossentropy",
            LossConfig::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
            LossConfig::SoftTargetCrossentropy => "soft_target_crossentropy",
            LossConfig::KlDivergence => "kl_divergence",
        }
    }

    /// How this loss reads the logits: the activation that turns them into predictions.
    pub fn output_activation(&self) -> OutputActivation {
        match self {
            LossConfig::Mse => OutputActivation::Identity,
            LossConfig::BinaryCrossentropy | LossConfig::MultilabelBinaryCrossentropy => {
                OutputActivation::Sigmoid
            }
            LossConfig::CategoricalCrossentropy
            | LossConfig::SparseCategoricalCrossentropy
            | LossConfig::SoftTargetCrossentropy
            | LossConfig::KlDivergence => OutputActivation::Softmax,
        }
    }

    /// The mean loss of `logits` against `target`, shape `[1]`.
    ///
    /// Returns [`Error::Invalid`] when the kind or shape of `target` does not fit the loss
    /// (for instance class labels for `categorical_crossentropy`, which wants one-hot rows).
    /// Label values are not range-checked here: that would read the tensor back from the
    /// device at every step.
    ///
    /// # Shapes
    /// - `logits`: `[batch, outputs]`
    /// - `target`: `Classes([batch])` or `Dense([batch, outputs])`
    pub fn compute(&self, logits: Tensor<2>, target: &Target) -> Result<Tensor<1>> {
        let [batch, outputs] = logits.dims();
        match (self, target) {
            (LossConfig::SparseCategoricalCrossentropy, Target::Classes(labels)) => {
                self.check_labels(batch, labels)?;
                Ok(sparse_categorical_cross_entropy(logits, labels.clone()))
            }
            (LossConfig::BinaryCrossentropy, Target::Classes(labels)) => {
                self.check_labels(batch, labels)?;
                if outputs != 1 {
                    return Err(self.error(format!(
                        "class labels need logits of shape [batch, 1], got [{batch}, {outputs}]; \
                         use dense 0/1 targets or multilabel_binary_crossentropy for several outputs"
                    )));
                }
                let target = labels.clone().float().reshape([batch, 1]);
                Ok(binary_cross_entropy_with_logits(logits, target))
            }
            (_, Target::Classes(_)) => Err(self.error(format!(
                "it needs dense targets [batch, outputs] but got class labels{}",
                match self {
                    LossConfig::CategoricalCrossentropy => {
                        "; use sparse_categorical_crossentropy for integer labels"
                    }
                    _ => "",
                }
            ))),
            (LossConfig::SparseCategoricalCrossentropy, Target::Dense(_)) => Err(self.error(
                "it needs class labels [batch] but got dense targets; \
                 use categorical_crossentropy for one-hot or probability rows",
            )),
            (_, Target::Dense(dense)) => {
                let dims = dense.dims();
                if dims != [batch, outputs] {
                    return Err(self.error(format!(
                        "targets of shape {dims:?} do not match logits of shape [{batch}, {outputs}]"
                    )));
                }
                let dense = dense.clone();
                Ok(match self {
                    LossConfig::Mse => mse(logits, dense),
                    LossConfig::BinaryCrossentropy => {
                        binary_cross_entropy_with_logits(logits, dense)
                    }
                    LossConfig::MultilabelBinaryCrossentropy => multilabel_bce(logits, dense),
                    LossConfig::CategoricalCrossentropy => categorical_cross_entropy(logits, dense),
                    LossConfig::SoftTargetCrossentropy => soft_target_cross_entropy(logits, dense),
                    LossConfig::KlDivergence => kl_divergence(logits, dense),
                    LossConfig::SparseCategoricalCrossentropy => {
                        unreachable!("matched by the arm above")
                    }
                })
            }
        }
    }

    fn check_labels(&self, batch: usize, labels: &Tensor<1, Int>) -> Result<()> {
        let [n] = labels.dims();
        if n == batch {
            Ok(())
        } else {
            Err(self.error(format!("{n} labels for a batch of {batch} logits rows")))
        }
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::invalid(format!("loss '{}'", self.name()), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_close, labels, scalar, t2};

    const ALL: [LossConfig; 7] = [
        LossConfig::Mse,
        LossConfig::BinaryCrossentropy,
        LossConfig::MultilabelBinaryCrossentropy,
        LossConfig::CategoricalCrossentropy,
        LossConfig::SparseCategoricalCrossentropy,
        LossConfig::SoftTargetCrossentropy,
        LossConfig::KlDivergence,
    ];

    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    struct Section {
        loss: LossConfig,
    }

    #[test]
    fn every_loss_round_trips_through_toml_by_its_name() {
        for loss in ALL {
            let text = toml::to_string(&Section { loss }).expect("serialises");
            assert_eq!(text.trim(), format!("loss = \"{}\"", loss.name()));
            let back: Section = toml::from_str(&text).expect("parses");
            assert_eq!(back.loss, loss);
        }
    }

    #[test]
    fn unknown_loss_name_is_rejected() {
        let err = toml::from_str::<Section>("loss = \"crossentropy\"").unwrap_err();
        assert!(err.to_string().contains("crossentropy"), "{err}");
    }

    #[test]
    fn output_activations() {
        assert_eq!(
            LossConfig::Mse.output_activation(),
            OutputActivation::Identity
        );
        assert_eq!(
            LossConfig::BinaryCrossentropy.output_activation(),
            OutputActivation::Sigmoid
        );
        assert_eq!(
            LossConfig::KlDivergence.output_activation(),
            OutputActivation::Softmax
        );
    }

    type DenseLoss = fn(Tensor<2>, Tensor<2>) -> Tensor<1>;

    #[test]
    fn compute_dispatches_to_the_loss_functions() {
        let logits = || t2([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]);
        let probs = || t2([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]);
        let classes = Target::Classes(labels(&[0, 2]));
        let dense = Target::Dense(probs());
        let via = |loss: LossConfig, target: &Target| {
            scalar(loss.compute(logits(), target).expect("fits"))
        };
        let sparse = LossConfig::SparseCategoricalCrossentropy;
        assert_close(
            via(sparse, &classes),
            scalar(sparse_categorical_cross_entropy(logits(), labels(&[0, 2]))),
            1e-7,
        );
        let pairs: [(LossConfig, DenseLoss); 6] = [
            (LossConfig::Mse, mse),
            (
                LossConfig::BinaryCrossentropy,
                binary_cross_entropy_with_logits,
            ),
            (LossConfig::MultilabelBinaryCrossentropy, multilabel_bce),
            (
                LossConfig::CategoricalCrossentropy,
                categorical_cross_entropy,
            ),
            (
                LossConfig::SoftTargetCrossentropy,
                soft_target_cross_entropy,
            ),
            (LossConfig::KlDivergence, kl_divergence),
        ];
        for (loss, f) in pairs {
            assert_close(via(loss, &dense), scalar(f(logits(), probs())), 1e-7);
        }
    }

    #[test]
    fn binary_ce_takes_class_labels_for_a_single_output() {
        let logits = t2([[2.0], [-1.0]]);
        let from_labels = LossConfig::BinaryCrossentropy
            .compute(logits.clone(), &Target::Classes(labels(&[1, 0])))
            .expect("fits");
        let from_dense = binary_cross_entropy_with_logits(logits, t2([[1.0], [0.0]]));
        assert_close(scalar(from_labels), scalar(from_dense), 1e-7);
    }

    #[test]
    fn wrong_target_kind_is_an_error_naming_the_loss() {
        let logits = t2([[2.0, 1.0], [0.5, 2.5]]);
        let dense = Target::Dense(t2([[1.0, 0.0], [0.0, 1.0]]));
        let classes = Target::Classes(labels(&[0, 1]));

        let err = LossConfig::SparseCategoricalCrossentropy
            .compute(logits.clone(), &dense)
            .unwrap_err()
            .to_string();
        assert!(err.contains("sparse_categorical_crossentropy"), "{err}");
        assert!(
            err.contains("categorical_crossentropy for one-hot"),
            "{err}"
        );

        let err = LossConfig::CategoricalCrossentropy
            .compute(logits.clone(), &classes)
            .unwrap_err()
            .to_string();
        assert!(err.contains("class labels"), "{err}");

        for loss in [LossConfig::Mse, LossConfig::KlDivergence] {
            assert!(loss.compute(logits.clone(), &classes).is_err());
        }
        // binary CE accepts labels only with a single output column
        assert!(
            LossConfig::BinaryCrossentropy
                .compute(logits, &classes)
                .is_err()
        );
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let logits = t2([[2.0, 1.0], [0.5, 2.5]]);
        let short = Target::Classes(labels(&[0]));
        let err = LossConfig::SparseCategoricalCrossentropy
            .compute(logits.clone(), &short)
            .unwrap_err()
            .to_string();
        assert!(err.contains("1 labels for a batch of 2"), "{err}");
        let wide = Target::Dense(t2([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]));
        let err = LossConfig::Mse
            .compute(logits, &wide)
            .unwrap_err()
            .to_string();
        assert!(err.contains("[2, 3]"), "{err}");
    }
}
