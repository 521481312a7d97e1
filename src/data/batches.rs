//! Dividing sample indices into mini-batches.

use std::ops::Range;

use rand::seq::SliceRandom;

/// The sample indices `0..n` in batches of `batch_size`, shuffled first when `shuffle`.
///
/// As in Keras, the last batch holds the remainder and may be smaller. The order depends
/// only on `rng`'s state, so the same seed gives the same batches.
///
/// # Panics
/// When `batch_size` is 0.
pub fn shuffled_batches(
    n: usize,
    batch_size: usize,
    shuffle: bool,
    rng: &mut impl rand::Rng,
) -> Vec<Vec<usize>> {
    assert!(batch_size > 0, "batch_size must be positive");
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        order.shuffle(rng);
    }
    order.chunks(batch_size).map(<[usize]>::to_vec).collect()
}

/// Consecutive ranges covering `0..n`, `batch_size` long except possibly the last; for
/// evaluation and prediction, where order matters and nothing is shuffled.
///
/// # Panics
/// When `batch_size` is 0.
pub fn sequential_batches(n: usize, batch_size: usize) -> Vec<Range<usize>> {
    assert!(batch_size > 0, "batch_size must be positive");
    (0..n)
        .step_by(batch_size)
        .map(|start| start..(start + batch_size).min(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn last_batch_holds_the_remainder() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let batches = shuffled_batches(10, 4, false, &mut rng);
        assert_eq!(
            batches,
            vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]
        );
        assert_eq!(sequential_batches(10, 4), vec![0..4, 4..8, 8..10]);
        assert_eq!(sequential_batches(8, 4), vec![0..4, 4..8]);
        assert!(sequential_batches(0, 4).is_empty());
        assert!(shuffled_batches(0, 4, true, &mut rng).is_empty());
    }

    #[test]
    fn shuffling_is_a_seeded_permutation() {
        let run = |seed| shuffled_batches(100, 32, true, &mut ChaCha8Rng::seed_from_u64(seed));
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        assert_eq!(a.iter().map(Vec::len).collect::<Vec<_>>(), [32, 32, 32, 4]);
        let mut all: Vec<usize> = a.concat();
        assert_ne!(all, (0..100).collect::<Vec<_>>());
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }
}
