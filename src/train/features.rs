//! Features of a model's first layers for a whole dataset (a backbone's output), computed in
//! batches without gradients: the input of kNN monitors, probes, SVMs and embedding measures.

use burn::tensor::Device;

use super::batch::batch_inputs;
use crate::data::{Dataset, sequential_batches};
use crate::model::{Features, Sequential};

/// The backbone's features of every sample, `[n, d]` flattened, and `d`.
pub fn backbone_features(
    model: &Sequential,
    layers: usize,
    data: &Dataset,
    device: &Device,
) -> (Vec<f32>, usize) {
    let mut out = Vec::new();
    let mut d = 0;
    for range in sequential_batches(data.len(), 512) {
        let idx: Vec<usize> = range.collect();
        let x = model.reshape_input(batch_inputs(data, &idx, device));
        let f = match model.forward_prefix(x, layers) {
            Features::Flat(t) => t,
            Features::Sequence { values, .. } => values.flatten(1, 2),
            Features::Image(t) => t.flatten(1, 3),
        };
        d = f.dims()[1];
        out.extend(f.into_data().iter::<f32>());
    }
    (out, d)
}
