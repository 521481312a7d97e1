//! BERT's masking rule (Devlin et al. 2019; seed 001, Transformer; seed 003 19.2.4.1): a share of
//! the text's pieces is chosen for prediction; of the chosen ones 80% become `[MASK]`, 10% a
//! random piece and 10% stay as they are. The loss is taken on the chosen positions only.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::{SUBWORD_FIRST_PIECE, SUBWORD_MASK};

/// A batch with some pieces hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedTokens {
    /// The sequences as the model reads them (`[MASK]` and random pieces put in).
    pub inputs: Vec<u32>,
    /// Positions chosen for prediction, as flat indices into `inputs`, in increasing order.
    pub positions: Vec<usize>,
    /// The original piece at each chosen position.
    pub targets: Vec<u32>,
}

/// Chooses each real piece of `ids` (rows of `seq_len`; ids from
/// [`SUBWORD_FIRST_PIECE`] on) with probability `ratio`, at least one per row that has any,
/// and replaces it by `[MASK]` (80%), a random piece below `vocab_size` (10%) or itself (10%).
/// Special tokens (`[PAD]`, `[CLS]`, `[SEP]`, ...) are never chosen. Seeded.
///
/// # Panics
/// When `seq_len` is 0 or does not divide `ids.len()`, or `ratio` is outside `(0, 1]`.
pub fn mask_tokens(
    ids: &[u32],
    seq_len: usize,
    vocab_size: usize,
    ratio: f64,
    seed: u64,
) -> MaskedTokens {
    assert!(
        seq_len > 0 && ids.len().is_multiple_of(seq_len) && ratio > 0.0 && ratio <= 1.0,
        "mask_tokens needs whole rows and a ratio in (0, 1]"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut inputs = ids.to_vec();
    let (mut positions, mut targets) = (Vec::new(), Vec::new());
    for (r, row) in ids.chunks_exact(seq_len).enumerate() {
        let candidates: Vec<usize> = (0..seq_len)
            .filter(|&i| row[i] >= SUBWORD_FIRST_PIECE)
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let mut chosen: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|_| rng.random_bool(ratio))
            .collect();
        if chosen.is_empty() {
            chosen.push(candidates[rng.random_range(0..candidates.len())]);
        }
        for i in chosen {
            let at = r * seq_len + i;
            let roll: f64 = rng.random();
            if roll < 0.8 {
                inputs[at] = SUBWORD_MASK;
            } else if roll < 0.9 && vocab_size as u32 > SUBWORD_FIRST_PIECE {
                inputs[at] = rng.random_range(SUBWORD_FIRST_PIECE..vocab_size as u32);
            }
            positions.push(at);
            targets.push(row[i]);
        }
    }
    MaskedTokens {
        inputs,
        positions,
        targets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{SUBWORD_CLS, SUBWORD_PAD, SUBWORD_SEP};

    #[test]
    fn proportions_follow_the_rule_on_a_large_sample() {
        // 2,000 rows of 64: [CLS], 50 pieces, [SEP], padding.
        let (rows, t, vocab) = (2000, 64, 1000);
        let mut ids = Vec::with_capacity(rows * t);
        for r in 0..rows {
            ids.push(SUBWORD_CLS);
            ids.extend((0..50).map(|i| 5 + ((r * 7 + i * 13) % 995) as u32));
            ids.push(SUBWORD_SEP);
            ids.extend(std::iter::repeat_n(SUBWORD_PAD, t - 52));
        }
        let m = mask_tokens(&ids, t, vocab, 0.15, 9);
        let pieces = (rows * 50) as f64;
        let chosen = m.positions.len() as f64;
        assert!(
            (chosen / pieces - 0.15).abs() < 0.005,
            "{}",
            chosen / pieces
        );
        let (mut masked, mut same, mut other) = (0.0, 0.0, 0.0);
        for (&p, &target) in m.positions.iter().zip(&m.targets) {
            assert_eq!(ids[p], target);
            assert!(
                ids[p] >= SUBWORD_FIRST_PIECE,
                "special tokens are never chosen"
            );
            match m.inputs[p] {
                SUBWORD_MASK => masked += 1.0,
                x if x == target => same += 1.0,
                x => {
                    assert!((SUBWORD_FIRST_PIECE..vocab as u32).contains(&x));
                    other += 1.0
                }
            }
        }
        assert!((masked / chosen - 0.8).abs() < 0.01, "{}", masked / chosen);
        assert!((other / chosen - 0.1).abs() < 0.01, "{}", other / chosen);
        // A random piece can draw the original one: "same" is 10% plus a hair.
        assert!((same / chosen - 0.1).abs() < 0.01, "{}", same / chosen);
        // Positions not chosen are untouched.
        let chosen_set: std::collections::HashSet<usize> = m.positions.iter().copied().collect();
        for (i, (&a, &b)) in ids.iter().zip(&m.inputs).enumerate() {
            if !chosen_set.contains(&i) {
                assert_eq!(a, b);
            }
        }
        assert!(m.positions.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(mask_tokens(&ids, t, vocab, 0.15, 9), m, "seeded");
    }

    #[test]
    fn every_row_with_pieces_gets_one_and_empty_rows_none() {
        let ids = [2, 7, 3, 0, 2, 3, 0, 0];
        let m = mask_tokens(&ids, 4, 100, 0.01, 1);
        assert_eq!(m.positions, [1]);
        assert_eq!(m.targets, [7]);
    }
}
