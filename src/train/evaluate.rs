//! Evaluation and prediction in batches, without gradients.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::batch::{batch_inputs, batch_targets};
use super::metrics::{ConfusionMatrix, RegressionReport, regression_report, roc_auc};
use crate::Result;
use crate::data::{Dataset, Targets, sequential_batches};
use crate::losses::{LossConfig, OutputActivation};
use crate::model::{ActivationKind, Sequential, TensorFn};

/// Everything measured on one dataset.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Mean loss.
    pub loss: f64,
    /// Named metrics: accuracy, precision, recall, f1, roc_auc (classification);
    /// mae, rmse, r2 (regression).
    pub metrics: Vec<(String, f64)>,
    /// Classification only.
    pub confusion: Option<ConfusionMatrix>,
    /// Regression only.
    pub regression: Option<RegressionReport>,
}

impl Evaluation {
    /// A metric by name.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }
}

/// The loss on a batch of logits, with the model's output activation applied first when the
/// loss expects final outputs (e.g. MSE after a sigmoid).
pub fn batch_loss(
    model: &Sequential,
    loss: LossConfig,
    logits: Tensor<2>,
    target: &crate::losses::Target,
) -> Result<Tensor<1>> {
    let outputs = match (loss.output_activation(), model.output_activation()) {
        (OutputActivation::Identity, act) if act != ActivationKind::Linear => act.apply(logits),
        _ => logits,
    };
    loss.compute(outputs, target)
}

/// The activation that turns logits into predictions: the model's own final softmax or
/// sigmoid, or else the one the loss implies (a linear `Dense(1)` trained with binary
/// cross-entropy outputs logits, whose predictions are sigmoids).
pub fn prediction_activation(model: &Sequential, loss: LossConfig) -> ActivationKind {
    match (model.output_activation(), loss.output_activation()) {
        (ActivationKind::Linear, OutputActivation::Softmax) => ActivationKind::Softmax,
        (ActivationKind::Linear, OutputActivation::Sigmoid) => ActivationKind::Sigmoid,
        (act, _) => act,
    }
}

/// Model outputs (after [`prediction_activation`]) for every sample: `[n * outputs]`.
pub fn predict(
    model: &Sequential,
    loss: LossConfig,
    data: &Dataset,
    batch_size: usize,
    device: &Device,
) -> Vec<f32> {
    let model = model.valid();
    let activation = prediction_activation(&model, loss);
    let mut out = Vec::new();
    for range in sequential_batches(data.len(), batch_size) {
        let idx: Vec<usize> = range.collect();
        let x = model.reshape_input(batch_inputs(data, &idx, device));
        let y = activation.apply(model.forward_logits(x));
        out.extend(
            y.into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .expect("f32 outputs"),
        );
    }
    out
}

/// Loss and metrics of `model` on `data`.
pub fn evaluate(
    model: &Sequential,
    data: &Dataset,
    loss: LossConfig,
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation> {
    if data.is_empty() {
        return Err(crate::Error::invalid("evaluate", "the dataset is empty"));
    }
    let model = model.valid();
    let activation = prediction_activation(&model, loss);
    let mut loss_sum = 0.0;
    let mut outputs = Vec::with_capacity(data.len() * 10);
    let mut width = 0;
    for range in sequential_batches(data.len(), batch_size) {
        let idx: Vec<usize> = range.collect();
        let x = model.reshape_input(batch_inputs(data, &idx, device));
        let logits = model.forward_logits(x);
        width = logits.dims()[1];
        let target = batch_targets(data, &idx, device);
        let l = batch_loss(&model, loss, logits.clone(), &target)?;
        loss_sum += l.into_scalar::<f32>() as f64 * idx.len() as f64;
        let y = activation.apply(logits);
        outputs.extend(
            y.into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .expect("f32 outputs"),
        );
    }
    let loss_mean = loss_sum / data.len().max(1) as f64;
    Ok(match &data.targets {
        Targets::Classes {
            labels,
            num_classes,
        } => classification(loss_mean, &outputs, width, labels, *num_classes),
        Targets::Regression { values, .. } => {
            let r = regression_report(&outputs, values);
            Evaluation {
                loss: loss_mean,
                metrics: vec![
                    ("mae".into(), r.mae),
                    ("rmse".into(), r.rmse),
                    ("r2".into(), r.r2),
                ],
                confusion: None,
                regression: Some(r),
            }
        }
    })
}

/// Predicted class per row of `outputs` (`[n, width]`; one sigmoid column means binary).
pub fn predicted_classes(outputs: &[f32], width: usize) -> Vec<u32> {
    outputs
        .chunks(width)
        .map(|row| {
            if width == 1 {
                u32::from(row[0] >= 0.5)
            } else {
                let mut best = 0;
                for (j, v) in row.iter().enumerate() {
                    if *v > row[best] {
                        best = j;
                    }
                }
                best as u32
            }
        })
        .collect()
}

fn classification(
    loss: f64,
    outputs: &[f32],
    width: usize,
    labels: &[u32],
    num_classes: usize,
) -> Evaluation {
    let pred = predicted_classes(outputs, width);
    let cm = ConfusionMatrix::from_predictions(labels, &pred, num_classes.max(width).max(2));
    let mut metrics = vec![
        ("accuracy".to_string(), cm.accuracy()),
        ("precision".to_string(), cm.macro_precision()),
        ("recall".to_string(), cm.macro_recall()),
        ("f1".to_string(), cm.macro_f1()),
    ];
    if num_classes == 2 {
        // Score of the positive class: the sigmoid output or softmax column 1.
        let scores: Vec<f32> = outputs
            .chunks(width)
            .map(|r| if width == 1 { r[0] } else { r[1] })
            .collect();
        let positives: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
        if let Some(auc) = roc_auc(&scores, &positives) {
            metrics.push(("roc_auc".to_string(), auc));
        }
    }
    Evaluation {
        loss,
        metrics,
        confusion: Some(cm),
        regression: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_and_binary_threshold() {
        assert_eq!(
            predicted_classes(&[0.1, 0.7, 0.2, 0.5, 0.2, 0.3], 3),
            vec![1, 0]
        );
        assert_eq!(predicted_classes(&[0.2, 0.9, 0.5], 1), vec![0, 1, 1]);
    }

    #[test]
    fn binary_tasks_report_roc_auc() {
        // Two-class softmax outputs: positives score higher except one pair.
        let outputs = [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7];
        let e = classification(0.0, &outputs, 2, &[0, 1, 1, 1], 2);
        // scores for class 1: [0.1, 0.8, 0.4, 0.7]; the one negative (0.1) ranks below all
        // three positives -> AUC 1.0; accuracy 3/4 (0.4 predicted as class 0)
        assert_eq!(e.metric("roc_auc"), Some(1.0));
        assert_eq!(e.metric("accuracy"), Some(0.75));
    }
}
