//! Class-balanced batches (SPEC M2; the "m images per class" sampler of metric learning and
//! the episodes of few-shot learning): each batch draws `classes` distinct classes and `per_class`
//! distinct images of each, laid out class by class.

use rand::Rng;
use rand::seq::index::sample;

use crate::{Error, Result};

/// Draws class-balanced batches of sample indices from a labelled set.
#[derive(Debug, Clone)]
pub struct ClassBalancedSampler {
    by_class: Vec<Vec<usize>>,
    classes: usize,
    per_class: usize,
}

impl ClassBalancedSampler {
    /// `labels` of the whole set; each batch holds `classes x per_class` indices. Classes with
    /// fewer than `per_class` samples are left out; there must remain at least `classes`
    /// (else an error naming `key` and `what` the data are).
    pub fn new(
        labels: &[u32],
        classes: usize,
        per_class: usize,
        (key, what): (&str, &str),
    ) -> Result<Self> {
        let n_classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
        let mut by_class = vec![Vec::new(); n_classes];
        for (i, &l) in labels.iter().enumerate() {
            by_class[l as usize].push(i);
        }
        by_class.retain(|members| members.len() >= per_class);
        if by_class.len() < classes {
            return Err(Error::invalid(
                key,
                format!(
                    "a batch draws {classes} classes with {per_class} samples each, but only {} classes of {what} have {per_class} samples",
                    by_class.len()
                ),
            ));
        }
        Ok(Self {
            by_class,
            classes,
            per_class,
        })
    }

    /// Samples per batch.
    pub fn batch_len(&self) -> usize {
        self.classes * self.per_class
    }

    /// One batch: indices class by class, and each index's position `0..classes` of its class
    /// in this batch.
    pub fn batch(&self, rng: &mut impl Rng) -> (Vec<usize>, Vec<u32>) {
        let mut idx = Vec::with_capacity(self.batch_len());
        let mut labels = Vec::with_capacity(self.batch_len());
        for (k, c) in sample(rng, self.by_class.len(), self.classes)
            .into_iter()
            .enumerate()
        {
            let members = &self.by_class[c];
            for j in sample(rng, members.len(), self.per_class) {
                idx.push(members[j]);
                labels.push(k as u32);
            }
        }
        (idx, labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn batches_hold_distinct_classes_with_distinct_members() {
        // Class c has 3 + c samples; class 0 (3 samples) is too small for per_class 4.
        let labels: Vec<u32> = (0..6u32).flat_map(|c| vec![c; 3 + c as usize]).collect();
        let s = ClassBalancedSampler::new(&labels, 3, 4, ("method", "the data")).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for _ in 0..50 {
            let (idx, pos) = s.batch(&mut rng);
            assert_eq!(idx.len(), 12);
            for k in 0..3 {
                let members: Vec<usize> = idx[k * 4..(k + 1) * 4].to_vec();
                assert!(pos[k * 4..(k + 1) * 4].iter().all(|&p| p == k as u32));
                let class = labels[members[0]];
                assert_ne!(class, 0, "class 0 has too few samples");
                assert!(members.iter().all(|&i| labels[i] == class));
                let mut m = members.clone();
                m.sort_unstable();
                m.dedup();
                assert_eq!(m.len(), 4, "members repeat: {members:?}");
            }
            let mut classes: Vec<u32> = (0..3).map(|k| labels[idx[k * 4]]).collect();
            classes.sort_unstable();
            classes.dedup();
            assert_eq!(classes.len(), 3);
        }
        let err = ClassBalancedSampler::new(&labels, 6, 4, ("method", "the data"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("only 5 classes"), "{err}");
    }
}
