//! Multinomial logistic regression fitted by full-batch gradient descent with momentum: the
//! small, fast base classifier of co-training and tri-training (which refit it many times).

/// A fitted linear softmax classifier.
#[derive(Debug, Clone)]
pub struct SoftmaxRegression {
    /// `[d * classes]`, row-major by feature.
    weights: Vec<f64>,
    /// `[classes]`.
    bias: Vec<f64>,
    d: usize,
    classes: usize,
}

/// Gradient steps per fit.
const STEPS: usize = 300;
/// Step size.
const LR: f64 = 0.5;
/// Momentum.
const MOMENTUM: f64 = 0.9;
/// L2 penalty on the weights.
const L2: f64 = 1e-3;

impl SoftmaxRegression {
    /// Fits on the rows of `x` (`d` features each) with their `labels` in `0..classes`.
    pub fn fit(x: &[f32], d: usize, labels: &[u32], classes: usize) -> Self {
        let n = labels.len();
        let mut model = Self {
            weights: vec![0.0; d * classes],
            bias: vec![0.0; classes],
            d,
            classes,
        };
        let (mut vw, mut vb) = (vec![0.0; d * classes], vec![0.0; classes]);
        for _ in 0..STEPS {
            let probs = model.proba(x);
            let (mut gw, mut gb) = (vec![0.0; d * classes], vec![0.0; classes]);
            for (i, &l) in labels.iter().enumerate() {
                let row = &x[i * d..(i + 1) * d];
                for c in 0..classes {
                    let err = probs[i * classes + c] - f64::from(u8::from(c == l as usize));
                    gb[c] += err;
                    for (f, &v) in row.iter().enumerate() {
                        gw[f * classes + c] += err * v as f64;
                    }
                }
            }
            let scale = 1.0 / n.max(1) as f64;
            for (k, g) in gw.iter().enumerate() {
                vw[k] = MOMENTUM * vw[k] + g * scale + L2 * model.weights[k];
                model.weights[k] -= LR * vw[k];
            }
            for (c, g) in gb.iter().enumerate() {
                vb[c] = MOMENTUM * vb[c] + g * scale;
                model.bias[c] -= LR * vb[c];
            }
        }
        model
    }

    /// Class probabilities of every row, `[rows * classes]`.
    pub fn proba(&self, x: &[f32]) -> Vec<f64> {
        let mut out = Vec::with_capacity(x.len() / self.d.max(1) * self.classes);
        for row in x.chunks(self.d) {
            let mut z = self.bias.clone();
            for (f, &v) in row.iter().enumerate() {
                let w = &self.weights[f * self.classes..(f + 1) * self.classes];
                z.iter_mut().zip(w).for_each(|(z, w)| *z += w * v as f64);
            }
            let top = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
            let sum: f64 = e.iter().sum();
            out.extend(e.iter().map(|v| v / sum));
        }
        out
    }
}

/// The rows `idx` of `x` (`d` features each), concatenated.
pub(super) fn select_rows(x: &[f32], d: usize, idx: &[usize]) -> Vec<f32> {
    idx.iter()
        .flat_map(|&i| x[i * d..(i + 1) * d].iter().copied())
        .collect()
}

/// The most probable class of each row of `probs`, and its probability.
pub fn argmax_rows(probs: &[f64], classes: usize) -> Vec<(u32, f64)> {
    probs
        .chunks(classes)
        .map(|r| {
            r.iter()
                .enumerate()
                .fold((0u32, f64::NEG_INFINITY), |a, (c, &p)| {
                    if p > a.1 { (c as u32, p) } else { a }
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_classes_are_learned() {
        // Three clusters on a line.
        let x: Vec<f32> = vec![0.0, 0.1, 0.2, 1.0, 1.1, 1.2, 2.0, 2.1, 2.2];
        let labels = [0, 0, 0, 1, 1, 1, 2, 2, 2];
        let m = SoftmaxRegression::fit(&x, 1, &labels, 3);
        let pred: Vec<u32> = argmax_rows(&m.proba(&[0.05, 1.05, 2.15]), 3)
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(pred, vec![0, 1, 2]);
        let p = m.proba(&[1.05]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
