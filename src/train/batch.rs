//! Turning dataset rows into tensors.

use burn::tensor::{Device, Int, Tensor, TensorData};

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
