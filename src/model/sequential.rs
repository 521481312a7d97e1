//! A Keras-like `Sequential` model: a stack of layers built from a recipe, with shapes checked
//! layer by layer when it is built.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::activation::ActivationKind;
use super::features::{Features, TensorFn};
use super::layer::{Layer, LayerConfig};
use super::summary::{LayerSummary, Summary};
use crate::{Error, Result};

/// The `[model]` section of a recipe.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SequentialConfig {
    /// The layers, input first.
    pub layers: Vec<LayerConfig>,
}

/// A stack of layers ending in a vector per sample.
///
/// A final softmax or sigmoid is kept apart (`output`): training feeds the raw scores
/// (logits) to a numerically stable loss, and [`Sequential::forward`] applies it for
/// prediction, which is the same model Keras describes.
#[derive(Module, Debug)]
pub struct Sequential {
    /// The layers, input first.
    pub layers: Vec<Layer>,
    #[module(skip)]
    input_shape: Vec<usize>,
    #[module(skip)]
    output: ActivationKind,
}

impl SequentialConfig {
    /// An empty model; add layers with [`add`](Self::add).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a layer (Keras' `model.add`).
    #[allow(clippy::should_implement_trait)] // named after Keras, not `+`
    pub fn add(mut self, layer: LayerConfig) -> Self {
        self.layers.push(layer);
        self
    }

    /// Checks every layer's shape for a sample of `input_shape` (no batch axis) and returns
    /// what `model.summary()` would print, without allocating weights.
    pub fn check(&self, input_shape: &[usize]) -> Result<Vec<Vec<usize>>> {
        let shapes = self.check_layers(input_shape)?;
        let shape = shapes.last().expect("at least one layer");
        if shape.len() != 1 {
            let last = self.layers.len() - 1;
            return Err(Error::Shape {
                index: last,
                layer: self.layers[last].kind().into(),
                message: format!(
                    "the model must end in a vector per sample, but its output shape is {shape:?}; end it with flatten and dense layers"
                ),
            });
        }
        Ok(shapes)
    }

    /// Checks every layer's shape like [`check`](Self::check), whatever the model ends in.
    pub fn check_layers(&self, input_shape: &[usize]) -> Result<Vec<Vec<usize>>> {
        if self.layers.is_empty() {
            return Err(Error::invalid("model.layers", "the model has no layers"));
        }
        let mut shapes = Vec::with_capacity(self.layers.len());
        let mut shape = input_shape.to_vec();
        let mut table = None;
        for (i, layer) in self.layers.iter().enumerate() {
            match layer {
                LayerConfig::Embedding {
                    input_dim,
                    output_dim,
                    ..
                } if table.is_none() => table = Some((*input_dim, *output_dim)),
                LayerConfig::ReverseEmbedding { units, .. } => {
                    check_tie(i, *units, &shape, table)?;
                }
                _ => {}
            }
            shape = layer.output_shape(i, &shape)?;
            shapes.push(shape.clone());
        }
        Ok(shapes)
    }

    /// Builds the model for samples of `input_shape` (no batch axis), e.g. `[1, 28, 28]`.
    pub fn build(&self, input_shape: &[usize], device: &Device) -> Result<Sequential> {
        self.check(input_shape)?;
        self.build_checked(input_shape, device)
    }

    /// Builds a language model: one score vector per time step (`[time, vocab]` out).
    ///
    /// # Errors
    /// [`Error::Shape`] when the model does not end in a vector per step.
    pub fn build_token_model(&self, input_shape: &[usize], device: &Device) -> Result<Sequential> {
        let shapes = self.check_layers(input_shape)?;
        let shape = shapes.last().expect("at least one layer");
        if shape.len() != 2 {
            let last = self.layers.len() - 1;
            return Err(Error::Shape {
                index: last,
                layer: self.layers[last].kind().into(),
                message: format!(
                    "a language model ends in a score per piece at every step ([time, vocab]), but its output shape is {shape:?}; end it with a dense layer of vocab_size units on the sequence"
                ),
            });
        }
        self.build_checked(input_shape, device)
    }

    fn build_checked(&self, input_shape: &[usize], device: &Device) -> Result<Sequential> {
        let (layers_cfg, output) = split_output_activation(&self.layers);
        let mut layers = Vec::with_capacity(layers_cfg.len());
        let mut shape = input_shape.to_vec();
        for (i, cfg) in layers_cfg.iter().enumerate() {
            let (layer, out) = cfg.build(i, &shape, device)?;
            layers.push(layer);
            shape = out;
        }
        Ok(Sequential {
            layers,
            input_shape: input_shape.to_vec(),
            output,
        })
    }

    /// Keras-style summary: each layer with its output shape and parameter count.
    pub fn summary(&self, name: &str, input_shape: &[usize]) -> Result<Summary> {
        let shapes = self.check_layers(input_shape)?;
        let device = Device::flex();
        let mut rows = Vec::with_capacity(self.layers.len());
        let mut shape = input_shape.to_vec();
        let mut seen = std::collections::HashMap::new();
        for (i, (cfg, out)) in self.layers.iter().zip(shapes).enumerate() {
            let (layer, _) = cfg.build(i, &shape, &device)?;
            let kind = cfg.kind();
            let n = seen.entry(kind).or_insert(0usize);
            let name = if *n == 0 {
                kind.to_string()
            } else {
                format!("{kind}_{n}")
            };
            *n += 1;
            // Burn counts running statistics as parameters; Keras lists them apart.
            let fixed = non_trainable(cfg, &shape, &out);
            rows.push(LayerSummary {
                name,
                kind: kind.to_string(),
                output_shape: out.clone(),
                trainable: layer.num_params() - fixed,
                non_trainable: fixed,
            });
            shape = out;
        }
        Ok(Summary {
            name: name.to_string(),
            input_shape: input_shape.to_vec(),
            layers: rows,
        })
    }
}

/// Checks that a reverse embedding at `index` with `units` outputs, reading vectors of
/// `input` shape, fits the model's first embedding `table` (`[input_dim, output_dim]`).
fn check_tie(
    index: usize,
    units: usize,
    input: &[usize],
    table: Option<(usize, usize)>,
) -> Result<()> {
    let bad = |message: String| Error::Shape {
        index,
        layer: "reverse_embedding".into(),
        message,
    };
    let Some((vocab, d)) = table else {
        return Err(bad(
            "reads the model's embedding table, but no embedding layer comes before it".into(),
        ));
    };
    if units != vocab {
        return Err(bad(format!(
            "units = {units}, but the embedding has input_dim = {vocab}; set units = {vocab}"
        )));
    }
    if input.last() != Some(&d) {
        return Err(bad(format!(
            "reads vectors of size {d} (the embedding's output_dim), got input shape {input:?}"
        )));
    }
    Ok(())
}

/// Batch-norm running mean and variance, which Keras lists as non-trainable parameters.
fn non_trainable(cfg: &LayerConfig, input: &[usize], out: &[usize]) -> usize {
    match cfg {
        LayerConfig::BatchNorm { .. } => 2 * out[0],
        LayerConfig::Residual { layers, .. } => {
            let mut shape = input.to_vec();
            let mut total = 0;
            for (i, layer) in layers.iter().enumerate() {
                let next = layer.output_shape(i, &shape).unwrap_or_default();
                total += non_trainable(layer, &shape, &next);
                shape = next;
            }
            total
        }
        _ => 0,
    }
}

/// Moves a final softmax/sigmoid out of the layer stack.
fn split_output_activation(layers: &[LayerConfig]) -> (Vec<LayerConfig>, ActivationKind) {
    let mut layers = layers.to_vec();
    let is_output =
        |a: &ActivationKind| matches!(a, ActivationKind::Softmax | ActivationKind::Sigmoid);
    match layers.last_mut() {
        Some(
            LayerConfig::Dense { activation, .. }
            | LayerConfig::ReverseEmbedding { activation, .. },
        ) if is_output(activation) => {
            let out = *activation;
            *activation = ActivationKind::Linear;
            (layers, out)
        }
        Some(LayerConfig::Activation { activation }) if is_output(activation) => {
            let out = *activation;
            layers.pop();
            (layers, out)
        }
        _ => (layers, ActivationKind::Linear),
    }
}

impl Sequential {
    /// Shape of one input sample (no batch axis).
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// The activation [`forward`](Self::forward) applies to the logits.
    pub fn output_activation(&self) -> ActivationKind {
        self.output
    }

    /// Raw scores before the output activation.
    ///
    /// # Shapes
    /// - input: `[batch, ...input_shape]`; output: `[batch, outputs]`
    ///
    /// A ReLU convolution directly followed by 2x2 / stride-2 max pooling runs as one fused op.
    pub fn forward_logits(&self, x: Features) -> Tensor<2> {
        self.forward_prefix(x, self.layers.len()).into_flat()
    }

    /// Whether any layer computes something else in training than in evaluation (batch norm,
    /// dropout): see [`Layer::trains_differently`].
    pub fn trains_differently(&self) -> bool {
        self.layers.iter().any(Layer::trains_differently)
    }

    /// The activations after the first `layers` layers (a backbone's features).
    pub fn forward_prefix(&self, x: Features, layers: usize) -> Features {
        self.forward_range(x, 0, layers)
    }

    /// Raw scores of the layers from `start` on, given the activations after the first `start`
    /// layers (a head on top of a shared trunk).
    pub fn forward_from(&self, x: Features, start: usize) -> Tensor<2> {
        self.forward_range(x, start, self.layers.len()).into_flat()
    }

    /// Layers `start..end` applied to `x` (the activations after layer `start - 1`).
    fn forward_range(&self, x: Features, start: usize, end: usize) -> Features {
        let end = end.min(self.layers.len());
        let mut x = x;
        let mut i = start;
        while i < end {
            if let (Layer::Conv2d(conv), Some(Layer::Pool2d(pool))) =
                (&self.layers[i], self.layers[..end].get(i + 1))
                && conv.fuses_max_pool2()
                && pool.is_max_2x2()
            {
                x = conv.forward_max_pool2(x);
                i += 2;
                continue;
            }
            let table = matches!(self.layers[i], Layer::ReverseEmbedding(_))
                .then(|| self.embedding_table())
                .flatten();
            x = self.layers[i].forward(x, table);
            i += 1;
        }
        x
    }

    /// The table of the first embedding layer, which a reverse embedding reads.
    fn embedding_table(&self) -> Option<Tensor<2>> {
        self.layers.iter().find_map(|l| match l {
            Layer::Embedding(e) => Some(e.inner.weight.val()),
            _ => None,
        })
    }

    /// Parameters that training updates (those not frozen), counted on a model of an
    /// autodiff device.
    pub fn trainable_parameters(&self) -> usize {
        struct Count(usize);
        impl burn::module::ModuleVisitor for Count {
            fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
                if param.is_require_grad() {
                    self.0 += param.shape().num_elements();
                }
            }
        }
        let mut c = Count(0);
        self.visit(&mut c);
        c.0
    }

    /// Predictions: the logits through the output activation (softmax, sigmoid or identity).
    pub fn forward(&self, x: Features) -> Tensor<2> {
        self.output.apply(self.forward_logits(x))
    }

    /// Wraps a flat batch `[batch, prod(input_shape)]` in the rank the first layer expects.
    pub fn reshape_input(&self, x: Tensor<2>) -> Features {
        let [b, _] = x.dims();
        match self.input_shape.as_slice() {
            [_] => Features::Flat(x),
            [t, d] => Features::sequence(x.reshape([b, *t, *d])),
            [c, h, w] => Features::Image(x.reshape([b, *c, *h, *w])),
            other => panic!("unsupported input shape {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_cnn() -> SequentialConfig {
        toml::from_str(
            r#"
            [[layers]]
            type = "conv2d"
            filters = 16
            kernel = 3
            activation = "relu"
            [[layers]]
            type = "max_pool2d"
            pool = 2
            [[layers]]
            type = "conv2d"
            filters = 32
            kernel = 3
            activation = "relu"
            [[layers]]
            type = "max_pool2d"
            pool = 2
            [[layers]]
            type = "flatten"
            [[layers]]
            type = "dense"
            units = 128
            activation = "relu"
            [[layers]]
            type = "dense"
            units = 10
            activation = "softmax"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn seed_cnn_summary_matches_keras() {
        // Keras' model2.summary() for the seed CNN: 160, 0, 4640, 0, 0, 102528, 1290 = 108618.
        let s = seed_cnn().summary("cnn", &[1, 28, 28]).unwrap();
        let params: Vec<usize> = s.layers.iter().map(|l| l.trainable).collect();
        assert_eq!(params, vec![160, 0, 4640, 0, 0, 102528, 1290]);
        assert_eq!(s.total_params(), 108_618);
        let shapes: Vec<Vec<usize>> = s.layers.iter().map(|l| l.output_shape.clone()).collect();
        assert_eq!(
            shapes,
            vec![
                vec![16, 26, 26],
                vec![16, 13, 13],
                vec![32, 11, 11],
                vec![32, 5, 5],
                vec![800],
                vec![128],
                vec![10]
            ]
        );
        assert_eq!(s.layers[2].name, "conv2d_1");
    }

    #[test]
    fn batch_norm_counts_like_keras() {
        // Keras: BatchNormalization on 16 channels has 64 parameters, 32 of them trainable.
        let cfg: SequentialConfig =
            toml::from_str("[[layers]]\ntype = \"batch_norm\"\n[[layers]]\ntype = \"flatten\"")
                .unwrap();
        let s = cfg.summary("bn", &[16, 2, 2]).unwrap();
        assert_eq!(s.layers[0].trainable, 32);
        assert_eq!(s.layers[0].non_trainable, 32);
        assert_eq!(s.total_params(), 64);
    }

    #[test]
    fn softmax_is_kept_out_of_the_logits() {
        let device = Device::flex();
        let model = seed_cnn().build(&[1, 28, 28], &device).unwrap();
        assert_eq!(model.output_activation(), ActivationKind::Softmax);
        let x = model.reshape_input(Tensor::ones([2, 784], &device));
        let p: Vec<f32> = model.forward(x).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(p.len(), 20);
        let row: f32 = p[..10].iter().sum();
        assert!((row - 1.0).abs() < 1e-5);
    }

    #[test]
    fn model_must_end_in_a_vector() {
        let cfg: SequentialConfig =
            toml::from_str("[[layers]]\ntype = \"conv2d\"\nfilters = 2\nkernel = 3").unwrap();
        let err = cfg.check(&[1, 8, 8]).unwrap_err().to_string();
        assert!(
            err.contains("layer 0 (conv2d)") && err.contains("[2, 6, 6]"),
            "{err}"
        );
    }

    fn imdb(recurrent: &str) -> SequentialConfig {
        toml::from_str(&format!(
            r#"
            [[layers]]
            type = "embedding"
            input_dim = 10000
            output_dim = 128
            [[layers]]
            {recurrent}
            [[layers]]
            type = "dense"
            units = 1
            activation = "sigmoid"
            "#
        ))
        .unwrap()
    }

    #[test]
    fn seed_imdb_models_build_and_count_like_keras() {
        let device = Device::flex();
        let ids: Vec<f32> = (0..100).map(|i| (i * 37 % 10000) as f32).collect();
        let ids = Tensor::from_data(burn::tensor::TensorData::new(ids, [2, 50]), &device);
        let rnn = imdb("type = \"simple_rnn\"\nunits = 64");
        let bilstm = imdb("type = \"bidirectional\"\nlayer = { type = \"lstm\", units = 64 }");
        // Keras: 1,280,000 + 12,352 + 65, and 1,280,000 + 98,816 + 129.
        for (cfg, per_layer, total) in [
            (rnn, [1_280_000, 12_352, 65], 1_292_417),
            (bilstm, [1_280_000, 98_816, 129], 1_378_945),
        ] {
            let s = cfg.summary("imdb", &[50]).unwrap();
            let params: Vec<usize> = s.layers.iter().map(|l| l.trainable).collect();
            assert_eq!(params, per_layer);
            assert_eq!(s.total_params(), total);
            let model = cfg.build(&[50], &device).unwrap();
            let p: Vec<f32> = model
                .forward(model.reshape_input(ids.clone()))
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert_eq!(p.len(), 2);
            assert!(p.iter().all(|p| (0.0..=1.0).contains(p)), "{p:?}");
        }
    }

    #[test]
    fn sequence_layer_counts_match_keras() {
        let count = |layer: LayerConfig, input: &[usize]| {
            SequentialConfig::new()
                .add(layer)
                .add(LayerConfig::GlobalAvgPool1d {})
                .summary("m", input)
                .unwrap()
                .layers[0]
                .trainable
        };
        assert_eq!(count(LayerConfig::embedding(10000, 128), &[20]), 1_280_000);
        let seq = |l: LayerConfig| l.with_return_sequences(true);
        let rnn = LayerConfig::simple_rnn(64);
        assert_eq!(count(seq(rnn), &[20, 128]), 12_352);
        assert_eq!(count(seq(LayerConfig::lstm(64)), &[20, 128]), 49_408);
        let bi = LayerConfig::bidirectional(LayerConfig::lstm(64));
        assert_eq!(count(seq(bi), &[20, 128]), 98_816);
        assert_eq!(count(seq(LayerConfig::gru(64)), &[20, 128]), 37_248);
    }

    #[test]
    fn masked_padding_does_not_change_the_final_lstm_state() {
        // mask_zero: [0, 0, 5, 3, 9] and [5, 3, 9] are the same review.
        let device = Device::flex();
        let cfg: SequentialConfig = toml::from_str(
            r#"
            [[layers]]
            type = "embedding"
            input_dim = 10
            output_dim = 4
            mask_zero = true
            [[layers]]
            type = "lstm"
            units = 3
            "#,
        )
        .unwrap();
        let model = cfg.build(&[5], &device).unwrap();
        let run = |ids: &[f32]| -> Vec<f32> {
            let x = Tensor::from_data(
                burn::tensor::TensorData::new(ids.to_vec(), [1, ids.len()]),
                &device,
            );
            model
                .forward_logits(Features::Flat(x))
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let (padded, plain) = (run(&[0., 0., 5., 3., 9.]), run(&[5., 3., 9.]));
        for (a, b) in padded.iter().zip(&plain) {
            assert!((a - b).abs() < 1e-6, "{padded:?} vs {plain:?}");
        }
        // Without the mask the padding steps do change the state.
        let unmasked = run(&[1., 1., 5., 3., 9.]);
        assert!(
            unmasked
                .iter()
                .zip(&plain)
                .any(|(a, b)| (a - b).abs() > 1e-4)
        );
    }

    #[test]
    fn gradients_reach_every_recurrent_weight() {
        let device = Device::flex().autodiff();
        let cfg = imdb("type = \"bidirectional\"\nlayer = { type = \"gru\", units = 4 }");
        let model = cfg.build(&[6], &device).unwrap();
        let ids = Tensor::<2>::from_floats([[0., 0., 3., 7., 1., 2.]], &device);
        let loss = model.forward_logits(model.reshape_input(ids)).sum();
        let grads = loss.backward();
        let Layer::Bidirectional(bi) = &model.layers[1] else {
            panic!("expected the bidirectional layer")
        };
        for rnn in [&bi.forward, &bi.backward] {
            let crate::model::Recurrent::Gru(gru) = rnn else {
                panic!("expected a GRU")
            };
            assert!(gru.kernel.grad(&grads).is_some());
            assert!(gru.recurrent_kernel.grad(&grads).is_some());
            assert!(gru.recurrent_bias.grad(&grads).is_some());
        }
    }

    fn tied_lm(units: usize, head: &str) -> SequentialConfig {
        let layer = |t: &str| -> LayerConfig { toml::from_str(t).unwrap() };
        SequentialConfig::new()
            .add(layer(
                "type = \"embedding\"\ninput_dim = 10\noutput_dim = 4\nmask_zero = true",
            ))
            .add(layer(head))
            .add(layer(&format!(
                "type = \"reverse_embedding\"\nunits = {units}\nactivation = \"softmax\""
            )))
    }

    #[test]
    fn a_reverse_embedding_scores_with_the_embedding_table_and_trains_it() {
        let device = Device::flex().autodiff();
        let cfg = tied_lm(10, "type = \"layer_norm\"");
        let model = cfg.build_token_model(&[3], &device).unwrap();
        assert_eq!(model.output_activation(), ActivationKind::Softmax);
        let Layer::Embedding(emb) = &model.layers[0] else {
            panic!("expected the embedding")
        };
        // Only the bias is the head's own: 10 scores, no second table.
        assert_eq!(model.layers[2].num_params(), 10);
        let ids = Tensor::<2>::from_floats([[1., 2., 0.]], &device);
        let (logits, _) = model
            .forward_prefix(model.reshape_input(ids.clone()), 3)
            .into_sequence();
        assert_eq!(logits.dims(), [1, 3, 10]);
        // The scores are the normalised vectors against the table.
        let hidden = model
            .forward_prefix(model.reshape_input(ids), 2)
            .into_sequence()
            .0
            .reshape([3, 4]);
        let expected = hidden.matmul(emb.inner.weight.val().transpose());
        let (a, b): (Vec<f32>, Vec<f32>) = (
            logits
                .clone()
                .reshape([3, 10])
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
            expected.into_data().try_to_vec::<f32>().unwrap(),
        );
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
        // Every row of the table gets a gradient, also those of ids the input never reads.
        let grads = logits.sum().backward();
        let g: Vec<f32> = emb
            .inner
            .weight
            .grad(&grads)
            .expect("the table trains")
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(g[9 * 4..].iter().any(|v| v.abs() > 0.0));
    }

    #[test]
    fn a_reverse_embedding_must_match_the_table() {
        let shape_err = |cfg: SequentialConfig| {
            cfg.build_token_model(&[3], &Device::flex())
                .unwrap_err()
                .to_string()
        };
        let err = shape_err(tied_lm(12, "type = \"layer_norm\""));
        assert!(
            err.contains("input_dim = 10") && err.contains("units = 10"),
            "{err}"
        );
        let err = shape_err(tied_lm(10, "type = \"dense\"\nunits = 6"));
        assert!(err.contains("output_dim"), "{err}");
        let no_table = SequentialConfig::new()
            .add(toml::from_str("type = \"reverse_embedding\"\nunits = 10").unwrap());
        let err = no_table.check_layers(&[3, 4]).unwrap_err().to_string();
        assert!(err.contains("no embedding layer"), "{err}");
    }
}
