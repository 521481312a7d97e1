//! Token-sequence augmentation (SPEC S1 for text; used by semi-supervised text recipes): word
//! dropout and word swaps on rows of token ids padded in front with [`PAD_ID`], as
//! `pad_sequences` leaves them (ids stored as `f32`). A leading [`START_ID`] marker stays
//! where it is: only the words after it are dropped or moved.

use rand::Rng;
use rand::seq::index::sample;

use crate::data::{PAD_ID, START_ID};

const PAD: f32 = PAD_ID as f32;

/// Drops each word of `row` with probability `rate` (keeping at least one word) and pads the
/// rest in front again: the row keeps its length and stays right-aligned.
pub fn word_dropout(row: &mut [f32], rate: f32, rng: &mut impl Rng) {
    let (marker, start) = first_word(row);
    let words = row.len() - start;
    if words <= 1 || rate <= 0.0 {
        return;
    }
    let mut kept: Vec<f32> = row[start..]
        .iter()
        .copied()
        .filter(|_| rng.random::<f32>() >= rate)
        .collect();
    if kept.is_empty() {
        kept.push(row[start + rng.random_range(0..words)]);
    }
    kept.splice(0..0, marker);
    row.fill(PAD);
    let n = row.len();
    row[n - kept.len()..].copy_from_slice(&kept);
}

/// Swaps the words at two distinct random positions of `row`, `swaps` times (EDA's random
/// swap; Wei & Zou 2019).
pub fn word_swap(row: &mut [f32], swaps: usize, rng: &mut impl Rng) {
    let (_, start) = first_word(row);
    let words = row.len() - start;
    if words < 2 {
        return;
    }
    for _ in 0..swaps {
        let pair = sample(rng, words, 2);
        row.swap(start + pair.index(0), start + pair.index(1));
    }
}

/// The start marker, if the row has one, and the position of the first word after it (the
/// end when the row holds no word).
fn first_word(row: &[f32]) -> (Option<f32>, usize) {
    let first = row.iter().position(|&t| t != PAD).unwrap_or(row.len());
    match row.get(first) {
        Some(&t) if t == START_ID as f32 => (Some(t), first + 1),
        _ => (None, first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn words(row: &[f32]) -> Vec<f32> {
        row.iter().copied().filter(|&t| t != PAD).collect()
    }

    #[test]
    fn dropout_keeps_an_ordered_subset_padded_in_front() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let row: Vec<f32> = [0.0; 20]
            .into_iter()
            .chain((1..=80).map(|v| v as f32 + 2.0))
            .collect();
        let mut dropped_total = 0;
        for _ in 0..50 {
            let mut r = row.clone();
            word_dropout(&mut r, 0.3, &mut rng);
            assert_eq!(r.len(), 100);
            let kept = words(&r);
            // In order (a subsequence of the original), all padding in front.
            assert!(kept.windows(2).all(|w| w[0] < w[1]));
            assert!(r[..100 - kept.len()].iter().all(|&t| t == PAD));
            dropped_total += 80 - kept.len();
        }
        // About 30% of 50 x 80 words dropped.
        let share = dropped_total as f64 / 4000.0;
        assert!((share - 0.3).abs() < 0.04, "{share}");
    }

    #[test]
    fn dropout_keeps_a_word_and_leaves_padding_alone() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut r = vec![0.0, 0.0, 5.0, 6.0];
        word_dropout(&mut r, 1.0, &mut rng);
        assert_eq!(words(&r).len(), 1);
        assert!(r[..3].iter().all(|&t| t == PAD));
        let mut empty = vec![0.0; 4];
        word_dropout(&mut empty, 0.5, &mut rng);
        word_swap(&mut empty, 3, &mut rng);
        assert_eq!(empty, vec![0.0; 4]);
    }

    #[test]
    fn the_start_marker_stays_first() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let row = [0.0, 0.0, 1.0, 7.0, 8.0, 9.0, 10.0, 11.0];
        for _ in 0..20 {
            let mut r = row;
            word_dropout(&mut r, 0.5, &mut rng);
            let w = words(&r);
            assert_eq!(w[0], 1.0, "{r:?}");
            assert!(w.len() >= 2 && !w[1..].contains(&1.0), "{r:?}");
            let mut s = row;
            word_swap(&mut s, 3, &mut rng);
            assert_eq!(&s[..3], &[0.0, 0.0, 1.0], "{s:?}");
        }
    }

    #[test]
    fn swaps_permute_the_words_only() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let row: Vec<f32> = [0.0, 0.0]
            .into_iter()
            .chain((3..13).map(|v| v as f32))
            .collect();
        let mut r = row.clone();
        word_swap(&mut r, 2, &mut rng);
        assert_eq!(&r[..2], &[0.0, 0.0]);
        let moved = r.iter().zip(&row).filter(|(a, b)| a != b).count();
        assert!((2..=4).contains(&moved), "{moved}");
        let mut sorted = r.clone();
        sorted.sort_by(f32::total_cmp);
        let mut expected = row.clone();
        expected.sort_by(f32::total_cmp);
        assert_eq!(sorted, expected);
    }
}
