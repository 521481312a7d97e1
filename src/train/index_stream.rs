//! Endless shuffled index streams: the semi-supervised and domain-adaptation loops draw their
//! labelled and unlabelled batches from one each, independently of how long either set is.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Endless shuffled passes over `0..n` (`n > 0`): each pass a fresh permutation, so a batch
/// larger than `n` repeats samples (40 labelled images fill a batch of 64).
pub(crate) struct IndexStream {
    order: Vec<usize>,
    pos: usize,
    rng: ChaCha8Rng,
}

impl IndexStream {
    pub(crate) fn new(n: usize, seed: u64) -> Self {
        let mut s = Self {
            order: (0..n).collect(),
            pos: n,
            rng: ChaCha8Rng::seed_from_u64(seed),
        };
        s.refill();
        s
    }

    fn refill(&mut self) {
        self.order.shuffle(&mut self.rng);
        self.pos = 0;
    }

    pub(crate) fn take(&mut self, k: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            if self.pos == self.order.len() {
                self.refill();
            }
            let end = (self.pos + k - out.len()).min(self.order.len());
            out.extend_from_slice(&self.order[self.pos..end]);
            self.pos = end;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pass_is_a_permutation_and_batches_run_across_passes() {
        let mut s = IndexStream::new(5, 3);
        let first: Vec<usize> = s.take(5);
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3, 4]);
        // 12 draws: the next two passes and two of a third.
        let next = s.take(12);
        for pass in next[..10].chunks(5) {
            let mut p = pass.to_vec();
            p.sort_unstable();
            assert_eq!(p, [0, 1, 2, 3, 4]);
        }
        assert_eq!(next.len(), 12);
        assert_eq!(IndexStream::new(5, 3).take(17)[..5], first[..]);
    }
}
