//! Helpers shared by the loss tests.

use burn::tensor::{Device, Int, Tensor, TensorData};

pub(crate) fn device() -> Device {
    Device::flex()
}

pub(crate) fn t2<const N: usize, const M: usize>(rows: [[f32; M]; N]) -> Tensor<2> {
    Tensor::<2>::from_floats(rows, &device())
}

pub(crate) fn labels(values: &[i64]) -> Tensor<1, Int> {
    Tensor::<1, Int>::from_data(TensorData::new(values.to_vec(), [values.len()]), &device())
}

pub(crate) fn scalar(loss: Tensor<1>) -> f64 {
    assert_eq!(loss.dims(), [1], "a loss must be a tensor of shape [1]");
    f64::from(loss.into_scalar::<f32>())
}

pub(crate) fn assert_close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "expected {expected}, got {actual} (tolerance {tol})"
    );
}
