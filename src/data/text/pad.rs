//! Keras' `pad_sequences` with its defaults.

use super::encoder::PAD_ID;

/// Pads or truncates every sequence to `maxlen` ids, returning the rows one after the other
/// (row-major `[seqs.len(), maxlen]`).
///
/// Keras' defaults: `padding='pre'` (zeros go in front), `truncating='pre'` (a longer
/// sequence keeps its last `maxlen` ids, so a review keeps its ending), value 0.
pub fn pad_sequences(seqs: &[Vec<u32>], maxlen: usize) -> Vec<u32> {
    let mut out = vec![PAD_ID; seqs.len() * maxlen];
    for (row, seq) in out.chunks_exact_mut(maxlen.max(1)).zip(seqs) {
        let kept = &seq[seq.len().saturating_sub(maxlen)..];
        row[maxlen - kept.len()..].copy_from_slice(kept);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_keras_examples() {
        // From the pad_sequences docstring:
        // pad_sequences([[1], [2, 3], [4, 5, 6]]) -> [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
        // pad_sequences(..., maxlen=2)            -> [[0, 1], [2, 3], [5, 6]]
        let seqs = vec![vec![1], vec![2, 3], vec![4, 5, 6]];
        assert_eq!(pad_sequences(&seqs, 3), vec![0, 0, 1, 0, 2, 3, 4, 5, 6]);
        assert_eq!(pad_sequences(&seqs, 2), vec![0, 1, 2, 3, 5, 6]);
    }

    #[test]
    fn empty_inputs() {
        assert_eq!(pad_sequences(&[vec![], vec![7]], 2), vec![0, 0, 0, 7]);
        assert!(pad_sequences(&[], 4).is_empty());
        assert!(pad_sequences(&[vec![1, 2]], 0).is_empty());
    }
}
