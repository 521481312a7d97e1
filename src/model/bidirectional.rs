//! Bidirectional wrapper (seed 001, 9.5; Keras' `Bidirectional`): one copy of a recurrent
//! layer reads the sequence forwards, a second copy reads it backwards, and their outputs
//! are merged.
//!
//! As in Keras, the backward copy reverses the whole padded sequence together with its
//! mask, so padding steps are skipped in either direction; with `return_sequences` its
//! outputs are put back in input order before merging, so step `t` of the result sees
//! `x_1..x_t` forwards and `x_t..x_T` backwards.

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::features::Features;
use super::recurrent::Recurrent;

/// How the two directions' outputs are combined (Keras' `merge_mode`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Merge {
    /// Concatenated on the last axis: `2 units` outputs (Keras' default).
    #[default]
    Concat,
    /// Element-wise sum: `units` outputs.
    Sum,
    /// Element-wise mean: `units` outputs.
    Ave,
    /// Element-wise product: `units` outputs.
    Mul,
}

impl Merge {
    /// Output size per step for a wrapped layer with `units` outputs.
    pub fn output_units(self, units: usize) -> usize {
        match self {
            Merge::Concat => 2 * units,
            _ => units,
        }
    }

    fn apply<const D: usize>(self, a: Tensor<D>, b: Tensor<D>) -> Tensor<D> {
        match self {
            Merge::Concat => Tensor::cat(vec![a, b], D - 1),
            Merge::Sum => a + b,
            Merge::Ave => (a + b) / 2.0,
            Merge::Mul => a * b,
        }
    }
}

/// A recurrent layer run in both directions.
#[derive(Module, Debug)]
pub struct Bidirectional {
    /// Reads `x_1 .. x_T`.
    pub forward: Recurrent,
    /// Reads `x_T .. x_1` (its own weights, same configuration).
    pub backward: Recurrent,
    #[module(skip)]
    merge: Merge,
}

impl Bidirectional {
    /// Wraps two copies of a layer; `backward` must have `go_backwards` set.
    pub fn new(forward: Recurrent, backward: Recurrent, merge: Merge) -> Self {
        Self {
            forward,
            backward,
            merge,
        }
    }

    /// # Shapes
    /// - input: `[batch, time, d]` (with an optional mask)
    /// - output: `[batch, m]` or `[batch, time, m]` with `m = 2 units` (concat) or `units`
    pub fn forward(&self, x: Features) -> Features {
        let a = self.forward.forward(x.clone());
        let b = self.backward.forward(x);
        match (a, b) {
            (Features::Flat(a), Features::Flat(b)) => Features::Flat(self.merge.apply(a, b)),
            (Features::Sequence { values: a, mask }, Features::Sequence { values: b, .. }) => {
                Features::Sequence {
                    values: self.merge.apply(a, b),
                    mask,
                }
            }
            (a, b) => panic!(
                "bidirectional: directions disagree on shape {:?} vs {:?}",
                a.dims(),
                b.dims()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lstm::Lstm;
    use crate::model::recurrent::matrix;
    use burn::tensor::Device;

    fn bilstm(return_sequences: bool, merge: Merge) -> Bidirectional {
        let device = Device::flex();
        device.seed(7);
        let forward = Lstm::new(2, 3, return_sequences, &device);
        let backward = Lstm::new(2, 3, return_sequences, &device);
        Bidirectional::new(
            Recurrent::Lstm(forward),
            Recurrent::Lstm(backward).reversed(),
            merge,
        )
    }

    #[test]
    fn shapes_follow_the_merge_mode() {
        let x = Features::sequence(Tensor::ones([2, 4, 2], &Device::flex()));
        assert_eq!(
            bilstm(false, Merge::Concat).forward(x.clone()).dims(),
            vec![2, 6]
        );
        assert_eq!(
            bilstm(false, Merge::Sum).forward(x.clone()).dims(),
            vec![2, 3]
        );
        assert_eq!(bilstm(true, Merge::Concat).forward(x).dims(), vec![2, 4, 6]);
    }

    #[test]
    fn backward_half_reads_the_sequence_reversed() {
        // The backward copy on x equals a forward run of the same weights on reversed x.
        let layer = bilstm(false, Merge::Concat);
        let seq = [0.5, -1.0, 0.2, 0.3, -0.7, 0.9];
        let rev = [-0.7, 0.9, 0.2, 0.3, 0.5, -1.0];
        let out: Vec<f32> = layer
            .forward(Features::sequence(matrix(&seq, 3, 2).reshape([1, 3, 2])))
            .into_flat()
            .into_data()
            .try_to_vec()
            .unwrap();
        let Recurrent::Lstm(mut backward) = layer.backward.clone() else {
            unreachable!()
        };
        backward.go_backwards = false;
        let want: Vec<f32> = backward
            .forward(Features::sequence(matrix(&rev, 3, 2).reshape([1, 3, 2])))
            .into_flat()
            .into_data()
            .try_to_vec()
            .unwrap();
        for (a, b) in out[3..].iter().zip(&want) {
            assert!((a - b).abs() < 1e-6, "{out:?} vs {want:?}");
        }
    }
}
