//! NT-Xent / InfoNCE (SimCLR, Chen et al. 2020, arXiv:2002.05709; seed 000 6.3.5) and the
//! supervised contrastive loss (SupCon, Khosla et al. 2020, arXiv:2004.11362), which NT-Xent is
//! the special case of: every sample's positives are the other samples with its label.
//!
//! ```text
//! z_i   = projection_i / |projection_i|             (2N rows: two views of N images)
//! s_ij  = z_i . z_j / tau
//! l_i   = -1/|P(i)| sum_{p in P(i)} log( exp(s_ip) / sum_{k != i} exp(s_ik) )
//! loss  = mean over the anchors i with P(i) non-empty
//! NT-Xent: P(i) = {the other view of image i}; identical embeddings give ln(2N - 1).
//! ```

use burn::tensor::{Tensor, TensorData};

use crate::{Error, Result};

/// Added to a row's own similarity so that `exp` makes it 0 (a sample is not its own
/// candidate).
const SELF_MASK: f32 = -1e9;

/// NT-Xent over two views: rows `0..n` of `z` are view 1 of images `0..n`, rows `n..2n` view 2
/// of the same images. `z` need not be normalised. Needs `temperature > 0` and `n >= 2` (one
/// image has its pair but no negatives).
///
/// # Shapes
/// - `z`: `[2n, dims]`; output: `[1]`
pub fn nt_xent(z: Tensor<2>, temperature: f64) -> Result<Tensor<1>> {
    let [rows, _] = z.dims();
    if rows % 2 != 0 {
        return Err(Error::invalid(
            "nt_xent",
            format!("expects two views of each image (an even number of rows), got {rows}"),
        ));
    }
    let n = rows / 2;
    let labels: Vec<u32> = (0..n as u32).chain(0..n as u32).collect();
    supervised_contrastive(z, &labels, temperature)
}

/// SupCon: positives of row `i` are the other rows with `labels[i]`.
///
/// # Shapes
/// - `z`: `[rows, dims]`, `labels`: `rows`; output: `[1]`
pub fn supervised_contrastive(z: Tensor<2>, labels: &[u32], temperature: f64) -> Result<Tensor<1>> {
    let [rows, _] = z.dims();
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(Error::invalid(
            "method.temperature",
            format!("must be positive, got {temperature}"),
        ));
    }
    if labels.len() != rows {
        return Err(Error::invalid(
            "supervised_contrastive",
            format!("{rows} embeddings but {} labels", labels.len()),
        ));
    }
    if rows < 3 {
        return Err(Error::invalid(
            "batch_size",
            format!(
                "a contrastive loss needs negatives: a batch of {} images is too small (use at least 2)",
                rows / 2
            ),
        ));
    }
    let device = z.device();
    let norm = z.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12); // [rows, 1]
    let unit = z / norm;
    let sim = unit.clone().matmul(unit.transpose()) / temperature; // [rows, rows]
    let eye = Tensor::<2>::from_data(
        TensorData::new(
            (0..rows * rows)
                .map(|k| if k / rows == k % rows { SELF_MASK } else { 0.0 })
                .collect::<Vec<f32>>(),
            [rows, rows],
        ),
        &device,
    );
    let log_prob = burn::tensor::activation::log_softmax(sim + eye, 1);
    // Positive weights: 1 / |P(i)| on each positive, rows without positives left out.
    let mut weights = vec![0.0f32; rows * rows];
    let mut anchors = 0usize;
    for i in 0..rows {
        let positives: Vec<usize> = (0..rows)
            .filter(|&j| j != i && labels[j] == labels[i])
            .collect();
        if positives.is_empty() {
            continue;
        }
        anchors += 1;
        for j in &positives {
            weights[i * rows + j] = 1.0 / positives.len() as f32;
        }
    }
    if anchors == 0 {
        return Err(Error::invalid(
            "supervised_contrastive",
            "no sample of the batch has a positive (another view or sample of its class)",
        ));
    }
    let weights = Tensor::<2>::from_data(TensorData::new(weights, [rows, rows]), &device);
    Ok((log_prob * weights).sum().neg() / anchors as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn rows(v: &[f32], n: usize) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(v.to_vec(), [n, v.len() / n]),
            &Device::flex(),
        )
    }

    /// The loss computed row by row in f64, straight from the formula.
    fn naive(z: &[f32], d: usize, labels: &[u32], tau: f64) -> f64 {
        let n = labels.len();
        let unit: Vec<Vec<f64>> = z
            .chunks(d)
            .map(|r| {
                let norm = r.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
                r.iter().map(|v| *v as f64 / norm).collect()
            })
            .collect();
        let s = |i: usize, j: usize| {
            unit[i]
                .iter()
                .zip(&unit[j])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / tau
        };
        let (mut total, mut anchors) = (0.0, 0);
        for i in 0..n {
            let denom: f64 = (0..n).filter(|&k| k != i).map(|k| s(i, k).exp()).sum();
            let pos: Vec<usize> = (0..n)
                .filter(|&j| j != i && labels[j] == labels[i])
                .collect();
            if pos.is_empty() {
                continue;
            }
            anchors += 1;
            total -= pos
                .iter()
                .map(|&p| (s(i, p).exp() / denom).ln())
                .sum::<f64>()
                / pos.len() as f64;
        }
        total / anchors as f64
    }

    const Z: [f32; 12] = [
        0.3, -1.2, 0.5, 0.9, 0.1, 0.4, -0.7, 0.2, 0.6, 1.1, -0.3, 0.8,
    ];

    #[test]
    fn matches_the_naive_formula() {
        let got = nt_xent(rows(&Z, 6), 0.5).unwrap().into_scalar::<f32>() as f64;
        let want = naive(&Z, 2, &[0, 1, 2, 0, 1, 2], 0.5);
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        let labels = [0, 0, 1, 1, 0, 2];
        let got = supervised_contrastive(rows(&Z, 6), &labels, 0.1)
            .unwrap()
            .into_scalar::<f32>() as f64;
        let want = naive(&Z, 2, &labels, 0.1);
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    }

    #[test]
    fn identical_embeddings_give_ln_2n_minus_1_and_bad_input_is_named() {
        let same = rows(&[1.0, 2.0].repeat(8), 8); // 2 views x 4 images
        let got = nt_xent(same, 0.3).unwrap().into_scalar::<f32>();
        assert!((got - 7f32.ln()).abs() < 1e-5, "{got}");
        let err = nt_xent(rows(&Z, 6), 0.0).unwrap_err().to_string();
        assert!(err.contains("temperature"), "{err}");
        let err = nt_xent(rows(&Z[..4], 2), 0.5).unwrap_err().to_string();
        assert!(err.contains("batch of 1"), "{err}");
        assert!(nt_xent(rows(&Z[..6], 3), 0.5).is_err(), "odd rows");
    }

    #[test]
    fn the_gradient_pulls_views_together() {
        let device = Device::flex().autodiff();
        let z = Tensor::<2>::from_data(TensorData::new(Z.to_vec(), [6, 2]), &device).require_grad();
        let loss = nt_xent(z.clone(), 0.5).unwrap();
        let g: Vec<f32> = z
            .grad(&loss.backward())
            .unwrap()
            .into_data()
            .iter::<f32>()
            .collect();
        // A small step against the gradient lowers the loss.
        let stepped: Vec<f32> = Z.iter().zip(&g).map(|(v, d)| v - 0.1 * d).collect();
        let before = nt_xent(rows(&Z, 6), 0.5).unwrap().into_scalar::<f32>();
        let after = nt_xent(rows(&stepped, 6), 0.5)
            .unwrap()
            .into_scalar::<f32>();
        assert!(after < before, "{after} !< {before}");
    }
}
