//! Using a trained CLIP: zero-shot classification (each class described by prompts, an image
//! takes the class whose mean prompt embedding is most similar) and retrieval between images
//! and captions.

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::captions::{ClassWords, fill, prompts};
use super::loss::unit_rows;
use super::{Clip, Vocabulary};
use crate::data::{Dataset, Targets};
use crate::{Error, Result};

/// The text side of a CLIP run: each class's words and the text tower's vocabulary.
#[derive(Clone, Copy)]
pub struct CaptionSource<'a> {
    /// Words of each class, by label.
    pub words: &'a [ClassWords],
    /// The text tower's vocabulary.
    pub vocab: &'a Vocabulary,
}

/// Text embeddings (unit rows) of `texts`.
fn embed_texts(
    clip: &Clip,
    vocab: &Vocabulary,
    texts: &[String],
    device: &Device,
) -> Result<Tensor<2>> {
    let mut bags = Vec::with_capacity(texts.len() * vocab.len());
    for t in texts {
        bags.extend(vocab.encode(t)?);
    }
    let bags = Tensor::from_data(TensorData::new(bags, [texts.len(), vocab.len()]), device);
    Ok(unit_rows(clip.embed_texts(bags)))
}

/// Image embeddings (unit rows) of the first `n` images of `data`, 1,000 at a time.
fn embed_images(clip: &Clip, data: &Dataset, n: usize, device: &Device) -> Tensor<2> {
    let size = data.sample_len();
    let parts: Vec<Tensor<2>> = (0..n)
        .step_by(1000)
        .map(|start| {
            let end = (start + 1000).min(n);
            let values: Vec<f32> = (start..end).flat_map(|i| data.sample(i).to_vec()).collect();
            let x = Tensor::from_data(TensorData::new(values, [end - start, size]), device);
            unit_rows(clip.embed_images(x))
        })
        .collect();
    Tensor::cat(parts, 0)
}

/// One embedding per class: the mean of its prompts' unit embeddings over `templates`
/// (prompt ensembling), as unit rows `[classes, d]`.
pub fn class_embeddings(
    clip: &Clip,
    source: &CaptionSource,
    templates: &[&str],
    device: &Device,
) -> Result<Tensor<2>> {
    if templates.is_empty() || source.words.is_empty() {
        return Err(Error::invalid(
            "clip",
            "class embeddings need at least one class and one prompt template",
        ));
    }
    let rows = source
        .words
        .iter()
        .map(|w| {
            let e = embed_texts(clip, source.vocab, &prompts(templates, w), device)?;
            Ok(e.mean_dim(0))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(unit_rows(Tensor::cat(rows, 0)))
}

fn labels_of(data: &Dataset) -> Result<&[u32]> {
    match &data.targets {
        Targets::Classes { labels, .. } => Ok(labels),
        _ => Err(Error::invalid(
            "clip",
            "zero-shot evaluation needs class labels",
        )),
    }
}

/// Zero-shot accuracy on `data` with the class prompts of `templates`.
pub fn zero_shot_accuracy(
    clip: &Clip,
    data: &Dataset,
    source: &CaptionSource,
    templates: &[&str],
    device: &Device,
) -> Result<f64> {
    let labels = labels_of(data)?;
    if data.is_empty() {
        return Err(Error::invalid(
            "clip",
            "zero-shot accuracy needs at least one image",
        ));
    }
    let classes = class_embeddings(clip, source, templates, device)?;
    let images = embed_images(clip, data, data.len(), device);
    let pred = images.matmul(classes.transpose()).argmax(1);
    let pred: Vec<i64> = pred
        .into_data()
        .convert::<i64>()
        .try_to_vec()
        .expect("argmax is integer");
    let right = pred
        .iter()
        .zip(labels)
        .filter(|(p, l)| **p == **l as i64)
        .count();
    Ok(right as f64 / data.len().max(1) as f64)
}

/// Recall@k of image-to-text and text-to-image retrieval among the first `n` images of `data`,
/// each paired with one caption drawn (seeded) from `templates` and its class's aliases. The
/// captions say only the class, so a retrieved item counts as a match when it shows (or
/// describes) the same class as the query. `seed` draws the captions. Returns
/// `(k, image_to_text, text_to_image)` rows.
pub fn retrieval_recall(
    clip: &Clip,
    data: &Dataset,
    source: &CaptionSource,
    templates: &[&str],
    (n, seed): (usize, u64),
    ks: &[usize],
    device: &Device,
) -> Result<Vec<(usize, f64, f64)>> {
    let labels = labels_of(data)?;
    let n = n.min(data.len());
    if n == 0 || templates.is_empty() || ks.contains(&0) {
        return Err(Error::invalid(
            "clip",
            "retrieval needs test images, at least one template and k >= 1",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let captions: Vec<String> = labels[..n]
        .iter()
        .map(|&l| {
            let w = &source.words[l as usize];
            let t = templates[rng.random_range(0..templates.len())];
            fill(
                t,
                &w.aliases[rng.random_range(0..w.aliases.len())],
                &w.category,
            )
        })
        .collect();
    let texts = embed_texts(clip, source.vocab, &captions, device)?;
    let images = embed_images(clip, data, n, device);
    let sim = images.matmul(texts.transpose());
    let sim: Vec<f32> = sim
        .into_data()
        .convert::<f32>()
        .try_to_vec()
        .expect("float");
    let labels = &labels[..n];
    Ok(ks
        .iter()
        .map(|&k| {
            (
                k,
                recall_at_k(&sim, labels, k, true),
                recall_at_k(&sim, labels, k, false),
            )
        })
        .collect())
}

/// Share of queries whose `k` most similar items include one of the query's class. `sim` is
/// `n x n` (row: image, column: caption); `by_row` queries with images (image-to-text), else
/// with captions. `k` is capped at `n` and raised to 1.
pub fn recall_at_k(sim: &[f32], labels: &[u32], k: usize, by_row: bool) -> f64 {
    let n = labels.len();
    let k = k.clamp(1, n.max(1));
    let hits = (0..n)
        .filter(|&q| {
            let score = |j: usize| {
                if by_row {
                    sim[q * n + j]
                } else {
                    sim[j * n + q]
                }
            };
            let mut order: Vec<usize> = (0..n).collect();
            order.select_nth_unstable_by(k - 1, |&a, &b| score(b).total_cmp(&score(a)));
            order[..k].iter().any(|&j| labels[j] == labels[q])
        })
        .count();
    hits as f64 / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_counts_same_class_items_among_the_top_k_both_ways() {
        // Rows: images of classes [0, 1, 2]; columns: captions of the same classes.
        let labels = [0, 1, 2];
        #[rustfmt::skip]
        let sim = [
            0.9, 0.1, 0.0,   // image 0: its caption first
            0.8, 0.2, 0.5,   // image 1: caption 0, then 2, then its own
            0.0, 0.7, 0.6,   // image 2: caption 1, then its own
        ];
        assert_eq!(recall_at_k(&sim, &labels, 1, true), 1.0 / 3.0);
        assert_eq!(recall_at_k(&sim, &labels, 2, true), 2.0 / 3.0);
        assert_eq!(recall_at_k(&sim, &labels, 3, true), 1.0);
        assert_eq!(recall_at_k(&sim, &labels, 9, true), 1.0, "k is capped at n");
        // Captions as queries (columns): caption 0 -> image 0 (0.9), caption 1 -> image 2
        // (0.7), caption 2 -> image 2 (0.6).
        assert_eq!(recall_at_k(&sim, &labels, 1, false), 2.0 / 3.0);
        assert_eq!(recall_at_k(&sim, &labels, 2, false), 1.0);
        // Two images of one class: either of them is a match.
        let same = [0, 0, 2];
        assert_eq!(recall_at_k(&sim, &same, 1, true), 2.0 / 3.0);
    }
}
