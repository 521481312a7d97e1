//! A shared trunk with several heads (multitask learning, SPEC T3): the main model's first
//! `trunk` layers feed both the rest of the main model and every extra head.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::{Sequential, SequentialConfig};
use crate::{Error, Result};

/// The main model (trunk + main head) and the extra heads on its trunk.
#[derive(Module, Debug)]
pub struct MultiHead {
    /// Trunk and main head: an ordinary model, saved and used on its own afterwards.
    pub main: Sequential,
    /// One model per extra task, each taking the trunk's output as input.
    pub heads: Vec<Sequential>,
    #[module(skip)]
    trunk: usize,
}

impl MultiHead {
    /// Builds the extra heads for `main`, whose first `trunk` layers are shared;
    /// `main_config` is `main`'s configuration (for the trunk's output shape).
    pub fn new(
        main: Sequential,
        main_config: &SequentialConfig,
        trunk: usize,
        heads: &[SequentialConfig],
        device: &Device,
    ) -> Result<Self> {
        let shapes = main_config.check(main.input_shape())?;
        let trunk_shape = shapes.get(trunk.wrapping_sub(1)).ok_or_else(|| {
            Error::invalid(
                "method.trunk",
                format!("the model has {} layers", shapes.len()),
            )
        })?;
        let heads = heads
            .iter()
            .map(|h| h.build(trunk_shape, device))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { main, heads, trunk })
    }

    /// Layers shared by every task.
    pub fn trunk(&self) -> usize {
        self.trunk
    }

    /// The main model's raw scores and each head's raw scores for the flat batch `x`.
    pub fn forward_logits(&self, x: Tensor<2>) -> (Tensor<2>, Vec<Tensor<2>>) {
        let shared = self
            .main
            .forward_prefix(self.main.reshape_input(x), self.trunk);
        let heads = self
            .heads
            .iter()
            .map(|h| h.forward_logits(shared.clone()))
            .collect();
        (self.main.forward_from(shared, self.trunk), heads)
    }
}
