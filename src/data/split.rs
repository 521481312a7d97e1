//! Splitting a data set: Keras' `validation_split` and class-balanced subsets.

use rand::seq::SliceRandom;

use super::Dataset;
use crate::{Error, Result};

/// Splits off the last `fraction` of the samples as validation data, as Keras'
/// `fit(validation_split=..)` does: no shuffling happens first.
///
/// ```text
/// split_at = floor(n * (1 - fraction))
/// train = samples[..split_at], validation = samples[split_at..]
/// ```
///
/// `fraction` must lie in `[0, 1)`; `0` gives an empty validation set. Like Keras, a
/// positive fraction that leaves either part empty is an error.
pub fn validation_split(data: &Dataset, fraction: f32) -> Result<(Dataset, Dataset)> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(Error::invalid(
            "validation_split",
            format!("{fraction} is not in [0, 1)"),
        ));
    }
    let n = data.len();
    // Widen through the decimal text so that 0.2 means Python's 0.2, not
    // 0.20000000298 (which would give floor(10 * 0.79999..) = 7 instead of Keras' 8).
    let fraction_f64: f64 = fraction.to_string().parse().unwrap_or(f64::from(fraction));
    let split_at = (n as f64 * (1.0 - fraction_f64)).floor() as usize;
    if fraction > 0.0 && (split_at == 0 || split_at == n) {
        return Err(Error::invalid(
            "validation_split",
            format!("{n} samples are too few to split off a fraction of {fraction}"),
        ));
    }
    let train: Vec<usize> = (0..split_at).collect();
    let validation: Vec<usize> = (split_at..n).collect();
    Ok((data.subset(&train), data.subset(&validation)))
}

/// Picks up to `per_class` random sample indices of every class present in `labels`.
///
/// A class with fewer samples contributes all of them. The indices come back in
/// ascending order, so the subset keeps the data set's order; the choice depends only
/// on `rng`'s state.
pub fn stratified_subset(labels: &[u32], per_class: usize, rng: &mut impl rand::Rng) -> Vec<usize> {
    let num_classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); num_classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    let mut chosen = Vec::with_capacity(per_class * num_classes);
    for mut members in by_class {
        members.shuffle(rng);
        members.truncate(per_class);
        chosen.extend(members);
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Targets;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ramp(n: usize) -> Dataset {
        Dataset::new(
            (0..n).map(|i| i as f32).collect(),
            vec![1],
            Targets::Classes {
                labels: (0..n as u32).map(|i| i % 3).collect(),
                num_classes: 3,
            },
        )
        .unwrap()
    }

    #[test]
    fn takes_the_last_fraction_like_keras() {
        let (train, val) = validation_split(&ramp(10), 0.2).unwrap();
        assert_eq!(train.features, (0..8).map(|i| i as f32).collect::<Vec<_>>());
        assert_eq!(val.features, vec![8.0, 9.0]);
        // Keras: int(7 * (1 - 0.3)) = int(4.9) = 4.
        let (train, val) = validation_split(&ramp(7), 0.3).unwrap();
        assert_eq!((train.len(), val.len()), (4, 3));
        let (train, val) = validation_split(&ramp(10), 0.1).unwrap();
        assert_eq!((train.len(), val.len()), (9, 1));
    }

    #[test]
    fn zero_fraction_keeps_everything() {
        let (train, val) = validation_split(&ramp(5), 0.0).unwrap();
        assert_eq!(train.len(), 5);
        assert!(val.is_empty());
    }

    #[test]
    fn bad_fractions_are_rejected() {
        for f in [-0.1, 1.0, 1.5, f32::NAN] {
            let err = validation_split(&ramp(10), f).unwrap_err();
            assert!(err.to_string().contains("validation_split"), "{err}");
        }
        assert!(validation_split(&ramp(1), 0.5).is_err());
    }

    #[test]
    fn stratified_subset_is_balanced_and_seeded() {
        let labels: Vec<u32> = (0..100).map(|i| if i < 90 { i % 3 } else { 3 }).collect();
        let pick = |seed| stratified_subset(&labels, 5, &mut ChaCha8Rng::seed_from_u64(seed));
        let chosen = pick(1);
        let mut counts = [0; 4];
        for &i in &chosen {
            counts[labels[i] as usize] += 1;
        }
        assert_eq!(counts, [5, 5, 5, 5]);
        assert!(chosen.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(chosen, pick(1));
        assert_ne!(chosen, pick(2));
        // A class with fewer samples than asked for gives all it has.
        assert_eq!(
            stratified_subset(&[0, 1, 1], 2, &mut ChaCha8Rng::seed_from_u64(0)).len(),
            3
        );
    }
}
