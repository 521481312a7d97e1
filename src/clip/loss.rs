//! CLIP's loss (Radford et al. 2021; seed 000 eq. 6.21, seed 003 19.2.4): the cosine similarities
//! of a batch's image and text embeddings, scaled by a learned `exp(log_scale)` (the inverse
//! temperature), scored by cross-entropy in both directions: each image must pick its own
//! caption among the batch's captions, and each caption its own image. (With captions made from
//! class labels, other images of the same class are negatives too: the loss cannot reach 0.)

use burn::tensor::{Int, Tensor, TensorData};

use crate::losses::sparse_categorical_cross_entropy;
use crate::{Error, Result};

/// The largest scale `exp(log_scale)` is allowed (CLIP clips at 100); training clips the
/// parameter after every step ([`super::Clip::clip_scale`]), so its gradient never vanishes.
pub const MAX_SCALE: f64 = 100.0;

/// Rows scaled to unit length.
pub(super) fn unit_rows(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .add_scalar(1e-12)
        .sqrt();
    x / norm
}

/// The scaled similarity matrix `exp(log_scale) * norm(image) norm(text)^T` (`[n, m]`; row `i`
/// scores image `i` against every caption).
pub fn clip_logits(image: Tensor<2>, text: Tensor<2>, log_scale: Tensor<1>) -> Tensor<2> {
    let scale = log_scale.exp().reshape([1, 1]);
    unit_rows(image).matmul(unit_rows(text).transpose()) * scale
}

/// The symmetric cross-entropy `(CE(logits, I) + CE(logits^T, I)) / 2`, where pair `i` of the
/// batch is the positive of row and column `i`. Needs at least two pairs (one pair has no
/// negatives).
///
/// # Shapes
/// - `image`, `text`: `[n, dims]`; `log_scale`: `[1]`; output `[1]`
pub fn clip_loss(image: Tensor<2>, text: Tensor<2>, log_scale: Tensor<1>) -> Result<Tensor<1>> {
    let ([n, di], [nt, dt]) = (image.dims(), text.dims());
    if n != nt || di != dt {
        return Err(Error::invalid(
            "clip",
            format!(
                "image embeddings {n}x{di} and text embeddings {nt}x{dt} must have the same shape: the text encoder's output must match the image model's"
            ),
        ));
    }
    if n < 2 {
        return Err(Error::invalid(
            "batch_size",
            format!(
                "CLIP's loss needs negatives: a batch of {n} image-caption pair is too small (use at least 2)"
            ),
        ));
    }
    let device = image.device();
    let logits = clip_logits(image, text, log_scale);
    let targets = || {
        let ids: Vec<i64> = (0..n as i64).collect();
        Tensor::<1, Int>::from_data(TensorData::new(ids, [n]), &device)
    };
    let by_image = sparse_categorical_cross_entropy(logits.clone(), targets());
    let by_text = sparse_categorical_cross_entropy(logits.transpose(), targets());
    Ok((by_image + by_text).div_scalar(2.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn t(rows: &[[f32; 3]], device: &Device) -> Tensor<2> {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [rows.len(), 3]), device)
    }

    fn scale(s: f64, device: &Device) -> Tensor<1> {
        Tensor::from_data(TensorData::new(vec![s.ln() as f32], [1]), device)
    }

    /// The loss written out in f64, one softmax at a time.
    fn naive(a: &[[f32; 3]], b: &[[f32; 3]], s: f64) -> f64 {
        let unit = |v: &[f32; 3]| {
            let n = v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
            v.map(|x| x as f64 / n)
        };
        let sim = |i: usize, j: usize| {
            let (u, v) = (unit(&a[i]), unit(&b[j]));
            s * (0..3).map(|k| u[k] * v[k]).sum::<f64>()
        };
        let n = a.len();
        let ce = |row: &dyn Fn(usize) -> f64, i: usize| {
            let lse = (0..n).map(row).map(f64::exp).sum::<f64>().ln();
            lse - row(i)
        };
        let mut total = 0.0;
        for i in 0..n {
            total += ce(&|j| sim(i, j), i) + ce(&|j| sim(j, i), i);
        }
        total / (2.0 * n as f64)
    }

    const A: [[f32; 3]; 3] = [[1.0, 0.2, -0.5], [0.1, 2.0, 0.3], [-1.0, 0.4, 0.9]];
    const B: [[f32; 3]; 3] = [[0.8, -0.1, 0.0], [0.5, 1.0, 1.0], [-0.3, 0.2, 2.0]];

    #[test]
    fn matches_the_naive_loss_and_is_symmetric_in_the_modalities() {
        let device = Device::flex();
        for s in [1.0, 14.3, 100.0] {
            let got = clip_loss(t(&A, &device), t(&B, &device), scale(s, &device)).unwrap();
            let got = got.into_scalar::<f32>() as f64;
            assert!((got - naive(&A, &B, s)).abs() < 1e-4, "scale {s}: {got}");
            // Swapping images and captions transposes the similarity matrix: same loss.
            let swapped = clip_loss(t(&B, &device), t(&A, &device), scale(s, &device)).unwrap();
            assert!((swapped.into_scalar::<f32>() as f64 - got).abs() < 1e-5);
        }
        // Identical embeddings for every pair: each row is a uniform choice among n.
        let same = [[1.0, 1.0, 1.0]; 3];
        let got = clip_loss(t(&same, &device), t(&same, &device), scale(7.0, &device)).unwrap();
        assert!((got.into_scalar::<f32>() as f64 - 3f64.ln()).abs() < 1e-5);
    }

    #[test]
    fn a_batch_of_one_and_mismatched_towers_are_errors() {
        let device = Device::flex();
        let one = clip_loss(
            t(&A[..1], &device),
            t(&B[..1], &device),
            scale(1.0, &device),
        );
        assert!(one.unwrap_err().to_string().contains("at least 2"));
        let two = clip_loss(t(&A[..2], &device), t(&B, &device), scale(1.0, &device));
        assert!(two.unwrap_err().to_string().contains("same shape"));
    }

    #[test]
    fn the_scale_learns_from_the_gradient() {
        let device = Device::flex().autodiff();
        let s = scale(1.0, &device).require_grad();
        let loss = clip_loss(t(&A, &device), t(&A, &device), s.clone()).unwrap();
        let grads = loss.backward();
        let g = s.grad(&grads).unwrap().into_scalar::<f32>();
        // Matching pairs are the most similar: a sharper softmax lowers the loss.
        assert!(g < 0.0, "d loss / d log_scale = {g}");
    }
}
