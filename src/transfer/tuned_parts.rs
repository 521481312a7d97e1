//! What a run with adapters or low-rank updates saves (issue 10): only the modules it trained,
//! the tuning modules of each Transformer stack and the head, in `tuned.bpk`. Loading puts them
//! on top of the frozen base run named in `[transfer] init_from`.

use burn::module::Module;

use crate::model::{BlockTuning, Layer, Sequential};

/// The trained part of a tuned model.
#[derive(Module, Debug)]
pub struct TunedParts {
    /// Per backbone layer, the tuning modules of its blocks (empty for other layers).
    pub blocks: Vec<Vec<BlockTuning>>,
    /// The layers after the backbone.
    pub head: Vec<Layer>,
}

/// A copy of `model`'s tuning modules and head (the first `backbone` layers are the backbone).
pub fn tuned_parts(model: &Sequential, backbone: usize) -> TunedParts {
    let blocks = model.layers[..backbone]
        .iter()
        .map(|l| match l {
            Layer::TransformerEncoder(enc) => enc.tuning.clone(),
            _ => Vec::new(),
        })
        .collect();
    TunedParts {
        blocks,
        head: model.layers[backbone..].to_vec(),
    }
}

/// `model` with its tuning modules and head replaced by `parts`.
pub fn with_tuned_parts(mut model: Sequential, parts: TunedParts) -> Sequential {
    let backbone = parts.blocks.len();
    for (layer, blocks) in model.layers.iter_mut().zip(parts.blocks) {
        if let Layer::TransformerEncoder(enc) = layer {
            enc.tuning = blocks;
        }
    }
    model.layers.truncate(backbone);
    model.layers.extend(parts.head);
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SequentialConfig;
    use crate::recipe::TransferSection;
    use crate::transfer::attach_tuning;
    use burn::module::{ModuleVisitor, Param};
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::{Device, Int, Tensor, TensorData};

    /// Every float parameter, flattened, in visiting order.
    fn values<M: Module>(m: &M) -> Vec<f32> {
        struct Collect(Vec<f32>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.extend(param.val().into_data().iter::<f32>());
            }
        }
        let mut c = Collect(Vec::new());
        m.visit(&mut c);
        c.0
    }

    fn config() -> SequentialConfig {
        toml::from_str(
            r#"
[[layers]]
type = "embedding"
input_dim = 20
output_dim = 8
mask_zero = true
[[layers]]
type = "transformer_encoder"
heads = 2
ff_dim = 16
dropout = 0.0
[[layers]]
type = "global_avg_pool1d"
[[layers]]
type = "dense"
units = 2
activation = "softmax"
"#,
        )
        .unwrap()
    }

    fn section(tuning: &str) -> TransferSection {
        toml::from_str(&format!(
            "backbone = 2\ntrain = \"head\"\ntuning = {tuning}"
        ))
        .unwrap()
    }

    #[test]
    fn only_the_tuning_modules_and_the_head_train_and_they_save_alone() {
        let device = Device::flex().autodiff();
        for tuning in [
            "{ kind = \"adapter\", bottleneck = 4 }",
            "{ kind = \"lora\", rank = 2 }",
        ] {
            device.seed(7);
            let section = section(tuning);
            let mut base = config().build(&[6], &device).unwrap();
            base.layers = base
                .layers
                .into_iter()
                .enumerate()
                .map(|(i, l)| if i < 2 { l.freeze() } else { l })
                .collect();
            let x = Tensor::<2>::from_floats(
                [[2., 7., 8., 9., 3., 0.], [2., 11., 12., 3., 0., 0.]],
                &device,
            );
            let before = base.forward(base.reshape_input(x.clone()));
            let frozen_before = values(&base.layers[0]);
            let encoder_before = values(&base.layers[1]);
            let head_before = values(&base.layers[3]);
            let model = attach_tuning(base, &section, &device).unwrap();
            // Fresh tuning modules are the identity.
            let same = model.forward(model.reshape_input(x.clone()));
            let (a, b): (Vec<f32>, Vec<f32>) = (
                before.into_data().try_to_vec().unwrap(),
                same.into_data().try_to_vec().unwrap(),
            );
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() < 1e-6, "{tuning}");
            }
            let trainable = model.trainable_parameters();
            let tuned_before = values(&tuned_parts(&model, 2).blocks);
            let mut optim = AdamConfig::new().init();
            let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &device);
            let mut model = model;
            for _ in 0..5 {
                let logits = model.forward_logits(model.reshape_input(x.clone()));
                let loss =
                    crate::losses::sparse_categorical_cross_entropy(logits, labels.clone()).mean();
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(1e-2, model, grads);
            }
            assert_eq!(values(&model.layers[0]), frozen_before, "{tuning}");
            let crate::model::Layer::TransformerEncoder(enc) = &model.layers[1] else {
                panic!("an encoder")
            };
            assert_eq!(values(&enc.inner), encoder_before, "{tuning}");
            assert_ne!(
                values(&tuned_parts(&model, 2).blocks),
                tuned_before,
                "{tuning}"
            );
            assert_ne!(values(&model.layers[3]), head_before, "{tuning}");
            // Trainable: the tuning modules and the head only.
            let expected = values(&tuned_parts(&model, 2)).len();
            assert_eq!(trainable, expected, "{tuning}");
            // Saved alone and put back on the base, they give the same outputs.
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("tuned.bpk");
            crate::train::save_record(&tuned_parts(&model, 2), &path).unwrap();
            let plain = model.clone();
            let fresh = attach_tuning(
                {
                    let mut m = config().build(&[6], &device).unwrap();
                    m.layers[0] = plain.layers[0].clone();
                    if let crate::model::Layer::TransformerEncoder(e) = &plain.layers[1] {
                        let mut e = e.clone();
                        e.tuning = Vec::new();
                        m.layers[1] = crate::model::Layer::TransformerEncoder(e);
                    }
                    m
                },
                &section,
                &device,
            )
            .unwrap();
            let skeleton = tuned_parts(&fresh, 2);
            let loaded = crate::train::load_record(skeleton, &path).unwrap();
            let restored = with_tuned_parts(fresh, loaded);
            let y1: Vec<f32> = plain
                .forward(plain.reshape_input(x.clone()))
                .into_data()
                .try_to_vec()
                .unwrap();
            let y2: Vec<f32> = restored
                .forward(restored.reshape_input(x))
                .into_data()
                .try_to_vec()
                .unwrap();
            assert_eq!(y1, y2, "{tuning}");
        }
    }
}
