//! Turning dataset rows into tensors.

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::fit::FitConfig;
use crate::augment::Pipeline;
use crate::data::{Dataset, Targets};
use crate::losses::Target;

/// The features of the samples at `indices` as `[batch, sample_len]`.
pub fn batch_inputs(data: &Dataset, indices: &[usize], device: &Device) -> Tensor<2> {
    let d = data.sample_len();
    let mut values = Vec::with_capacity(indices.len() * d);
    for &i in indices {
        values.extend_from_slice(data.sample(i));
    }
    Tensor::from_data(TensorData::new(values, [indices.len(), d]), device)
}

/// The features of the samples at `indices` for training step `step`: through the fit's
/// augmentation pipeline when it has one (seeded by the fit's seed and the step).
pub fn training_inputs(
    data: &Dataset,
    indices: &[usize],
    cfg: &FitConfig,
    step: usize,
    device: &Device,
) -> Tensor<2> {
    let seed = cfg.seed ^ (step as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
    augmented_inputs(data, indices, cfg.views.first(), seed, device)
}

/// The features of the samples at `indices` drawn through `pipeline` with `seed` (as they are
/// without one), as `[batch, output_len]`.
pub(super) fn augmented_inputs(
    data: &Dataset,
    indices: &[usize],
    pipeline: Option<&Pipeline>,
    seed: u64,
    device: &Device,
) -> Tensor<2> {
    let Some(pipeline) = pipeline else {
        return batch_inputs(data, indices, device);
    };
    let mut values = Vec::with_capacity(indices.len() * data.sample_len());
    for &i in indices {
        values.extend_from_slice(data.sample(i));
    }
    if let &[len] = data.sample_shape.as_slice() {
        let out = pipeline.apply_token_batch(&values, len, seed);
        return Tensor::from_data(TensorData::new(out, [indices.len(), len]), device);
    }
    let &[c, h, w] = data.sample_shape.as_slice() else {
        panic!("augmentation needs images or sequences; checked by AugmentSection::check_shape");
    };
    let out = pipeline.apply_batch(&values, [c, h, w], seed);
    let [c, oh, ow] = pipeline.output_shape([c, h, w]);
    Tensor::from_data(TensorData::new(out, [indices.len(), c * oh * ow]), device)
}

/// The targets of the samples at `indices`: class indices `[batch]` or values `[batch, dims]`.
pub fn batch_targets(data: &Dataset, indices: &[usize], device: &Device) -> Target {
    match &data.targets {
        Targets::Classes { labels, .. } => {
            let v: Vec<i64> = indices.iter().map(|&i| labels[i] as i64).collect();
            Target::Classes(Tensor::<1, Int>::from_data(
                TensorData::new(v, [indices.len()]),
                device,
            ))
        }
        Targets::Regression { values, dims } => {
            let mut v = Vec::with_capacity(indices.len() * dims);
            for &i in indices {
                v.extend_from_slice(&values[i * dims..(i + 1) * dims]);
            }
            Target::Dense(Tensor::from_data(
                TensorData::new(v, [indices.len(), *dims]),
                device,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_pick_the_requested_rows() {
        let device = Device::flex();
        let data = Dataset::new(
            vec![0., 1., 10., 11., 20., 21.],
            vec![2],
            Targets::Classes {
                labels: vec![0, 1, 2],
                num_classes: 3,
            },
        )
        .unwrap();
        let x = batch_inputs(&data, &[2, 0], &device);
        assert_eq!(
            x.into_data().try_to_vec::<f32>().unwrap(),
            vec![20., 21., 0., 1.]
        );
        match batch_targets(&data, &[2, 0], &device) {
            Target::Classes(y) => {
                assert_eq!(
                    y.into_data().convert::<i64>().try_to_vec::<i64>().unwrap(),
                    vec![2, 0]
                )
            }
            Target::Dense(_) => panic!("expected classes"),
        }
    }
}
