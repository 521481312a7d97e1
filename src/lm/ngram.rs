//! The count baselines a next-piece model must beat: a unigram model with add-one smoothing and
//! an interpolated bigram model with absolute discounting (Ney, Essen & Kneser 1994), both
//! counted on the pre-training sequences and scored on the same positions as the model.
//!
//! ```text
//! unigram: p(w)     = (c(w) + 1) / (N + V)
//! bigram:  p(w | v) = max(c(v, w) - d, 0) / c(v) + d * n(v) / c(v) * p(w)   (p(w) if c(v) = 0)
//!          n(v) = distinct pieces seen after v, d = 0.75
//! perplexity = exp(mean of -log p over the scored positions)
//! ```

use std::collections::HashMap;

use crate::data::SUBWORD_PAD;

/// Absolute discount of the bigram model.
const DISCOUNT: f64 = 0.75;

/// Unigram and bigram counts of subword sequences.
#[derive(Debug, Clone, Default)]
pub struct NgramCounts {
    vocab_size: usize,
    unigram: Vec<u64>,
    total: u64,
    bigram: HashMap<(u32, u32), u64>,
    context: Vec<u64>,
    followers: Vec<u64>,
}

/// Each (previous, next) pair of `ids` (rows of `seq_len`) whose next piece is not padding.
fn pairs(ids: &[u32], seq_len: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
    ids.chunks_exact(seq_len).flat_map(|row| {
        row.windows(2)
            .filter(|w| w[1] != SUBWORD_PAD)
            .map(|w| (w[0], w[1]))
    })
}

impl NgramCounts {
    /// Counts the pairs of `ids` (rows of `seq_len`, ids below `vocab_size`).
    pub fn fit(ids: &[u32], seq_len: usize, vocab_size: usize) -> Self {
        let mut c = Self {
            vocab_size,
            unigram: vec![0; vocab_size],
            context: vec![0; vocab_size],
            followers: vec![0; vocab_size],
            ..Self::default()
        };
        for (v, w) in pairs(ids, seq_len) {
            let (v, w) = (v.min(vocab_size as u32 - 1), w.min(vocab_size as u32 - 1));
            c.unigram[w as usize] += 1;
            c.total += 1;
            c.context[v as usize] += 1;
            let n = c.bigram.entry((v, w)).or_insert(0);
            if *n == 0 {
                c.followers[v as usize] += 1;
            }
            *n += 1;
        }
        c
    }

    /// The smoothed unigram probability of `w`.
    pub fn unigram_p(&self, w: u32) -> f64 {
        let c = self.unigram.get(w as usize).copied().unwrap_or(0);
        (c + 1) as f64 / (self.total + self.vocab_size as u64) as f64
    }

    /// The interpolated bigram probability of `w` after `v`.
    pub fn bigram_p(&self, v: u32, w: u32) -> f64 {
        let cv = self.context.get(v as usize).copied().unwrap_or(0);
        if cv == 0 {
            return self.unigram_p(w);
        }
        let cvw = self.bigram.get(&(v, w)).copied().unwrap_or(0) as f64;
        let cv = cv as f64;
        let backoff = DISCOUNT * self.followers[v as usize] as f64 / cv;
        (cvw - DISCOUNT).max(0.0) / cv + backoff * self.unigram_p(w)
    }

    /// Unigram and bigram perplexities on the next-piece positions of `ids`.
    pub fn perplexities(&self, ids: &[u32], seq_len: usize) -> (f64, f64) {
        let (mut uni, mut bi, mut n) = (0.0f64, 0.0f64, 0usize);
        for (v, w) in pairs(ids, seq_len) {
            uni -= self.unigram_p(w).ln();
            bi -= self.bigram_p(v, w).ln();
            n += 1;
        }
        let n = n.max(1) as f64;
        ((uni / n).exp(), (bi / n).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_sum_to_one_and_match_a_hand_count() {
        // Rows: [2 5 6 3 0], [2 5 5 3 0]: pairs 2-5, 5-6, 6-3, 2-5, 5-5, 5-3.
        let ids = [2, 5, 6, 3, 0, 2, 5, 5, 3, 0];
        let c = NgramCounts::fit(&ids, 5, 8);
        // Targets 5, 6, 3, 5, 5, 3: c(5) = 3 of N = 6, V = 8.
        assert!((c.unigram_p(5) - 4.0 / 14.0).abs() < 1e-12);
        let total: f64 = (0..8).map(|w| c.unigram_p(w)).sum();
        assert!((total - 1.0).abs() < 1e-12);
        // After 5: 6, 5, 3 once each; c(5) = 3, n(5) = 3.
        let p = c.bigram_p(5, 6);
        let expected = 0.25 / 3.0 + 0.75 * 3.0 / 3.0 * c.unigram_p(6);
        assert!((p - expected).abs() < 1e-12);
        for v in 0..8 {
            let total: f64 = (0..8).map(|w| c.bigram_p(v, w)).sum();
            assert!((total - 1.0).abs() < 1e-9, "{v}: {total}");
        }
        // A text the bigram has seen is less surprising to it than to the unigram.
        let (uni, bi) = c.perplexities(&ids, 5);
        assert!(bi < uni, "{bi} {uni}");
    }
}
