//! One step of a semi-supervised method: the batches it sees and the loss it returns.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor};

use super::targets::PseudoLabels;
use crate::losses::sparse_categorical_cross_entropy;
use crate::model::Sequential;

/// The tensors of one step, on the training (autodiff) device.
pub struct SemiBatch {
    /// Labelled images through the weak view, `[b, sample_len]`.
    pub labelled: Tensor<2>,
    /// Their classes, `[b]`.
    pub labels: Tensor<1, Int>,
    /// The same classes on the host.
    pub label_values: Vec<u32>,
    /// The number of classes.
    pub classes: usize,
    /// The unlabelled batch through the weak view, `[mu * b, sample_len]`: as many independent
    /// draws as the method asks for ([`Views::weak`](super::Views)).
    pub weak: Vec<Tensor<2>>,
    /// The unlabelled batch through the strong view, when the method asks for it.
    pub strong: Option<Tensor<2>>,
    /// Offline self-training: the pseudo-labels of the pool batch in `weak` (else empty).
    pub pool_labels: Vec<u32>,
}

/// The models a step may use.
pub struct StepContext<'a> {
    /// The model being trained (autodiff).
    pub model: &'a Sequential,
    /// The exponential moving average of its weights, without autodiff (the mean teacher's
    /// teacher; given to that method only).
    pub teacher: Option<&'a Sequential>,
    /// A trained teacher run's model, without autodiff (distillation only).
    pub distill_from: Option<&'a Sequential>,
    /// Seed of the step's own random draws (VAT's direction, MixMatch's mixing).
    pub seed: u64,
}

impl StepContext<'_> {
    /// The trained model's logits, with gradients.
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.model.forward_logits(self.model.reshape_input(x))
    }

    /// The trained model's probabilities as constants (no graph is recorded).
    pub fn frozen_probs(&self, x: Tensor<2>) -> Tensor<2> {
        probs_of(&self.model.valid(), x)
    }

    /// The teacher's probabilities as constants.
    pub fn teacher_probs(&self, x: Tensor<2>) -> Tensor<2> {
        let teacher = self
            .teacher
            .expect("the loop gives the mean teacher its teacher");
        probs_of(teacher, x)
    }

    /// The distillation teacher's logits as constants.
    pub fn distill_logits(&self, x: Tensor<2>) -> Tensor<2> {
        let teacher = self
            .distill_from
            .expect("the loop gives distillation its teacher");
        logits_of(teacher, x)
    }
}

/// `model(x)`'s logits computed without autodiff and handed back as a constant on `x`'s
/// device.
fn logits_of(plain: &Sequential, x: Tensor<2>) -> Tensor<2> {
    plain
        .forward_logits(plain.reshape_input(x.inner()))
        .autodiff()
}

/// `softmax(model(x))` as a constant, like [`logits_of`].
fn probs_of(plain: &Sequential, x: Tensor<2>) -> Tensor<2> {
    softmax(logits_of(plain, x), 1)
}

/// What a step returns: `supervised + lambda(t) * unsupervised`, kept apart for the log.
pub struct StepLoss {
    /// The labelled term (cross-entropy; MixMatch's is on mixed samples).
    pub supervised: Tensor<1>,
    /// The unlabelled term before its weight (`None` for supervised-only training).
    pub unsupervised: Option<Tensor<1>>,
    /// Pseudo-labels of the unlabelled batch, for methods that make them (mask rate and, for
    /// diagnosis only, their accuracy).
    pub pseudo: Option<PseudoLabels>,
}

/// Cross-entropy of the labelled rows.
pub fn supervised_loss(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    sparse_categorical_cross_entropy(logits, labels)
}

/// The first `b` rows and the rest.
pub fn split_rows(x: Tensor<2>, b: usize) -> (Tensor<2>, Tensor<2>) {
    let [n, k] = x.dims();
    (x.clone().slice([0..b, 0..k]), x.slice([b..n, 0..k]))
}

/// The values of `probs` `[n, classes]` on the host.
pub fn host_values(probs: &Tensor<2>) -> Vec<f32> {
    probs
        .clone()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("float tensor")
}
