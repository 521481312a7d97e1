//! [`OptimizerConfig`]: the recipe's optimiser, built into one of Burn's optimisers.
//!
//! The update rules, as Burn 0.22.1 implements them (read from `burn-optim` sources) and
//! as the tests below check them step by step; `g` is the gradient, `η` the learning
//! rate, `λ` the weight decay:
//!
//! ```text
//! SGD            w ← w - η g                                  (seed 004, 勾配降下法)
//! weight decay   g ← g + λ w   (L2, "coupled"; SGD, AdaGrad, RMSProp, Adam)
//!                                                             (seed 004, 重み減衰)
//! momentum       v ← μ v + g   (v₁ = g₁),   w ← w - η v
//!                ≡ seed 004's Δw_t = -η g_t + μ Δw_{t-1} while η is constant
//! Nesterov       v ← μ v + g,  w ← w - η (g + μ v)           (PyTorch's form)
//! AdaGrad        h ← h + g²,   w ← w - η g / (√h + ε)
//! RMSProp        h ← ρ h + (1-ρ) g²,  u = g / (√h + ε)
//!                b ← μ b + u (b₁ = u),  w ← w - η b          (μ = 0: w ← w - η u)
//! Adam           m ← β₁ m + (1-β₁) g,  s ← β₂ s + (1-β₂) g²
//!                m̂ = m / (1-β₁ᵗ),  ŝ = s / (1-β₂ᵗ),  w ← w - η m̂ / (√ŝ + ε)
//! AdamW          Adam on the raw g, then w ← w - η λ w - η m̂ / (√ŝ + ε)  (decoupled;
//!                Loshchilov & Hutter 2019, arXiv:1711.05101)
//! ```
//!
//! Burn's placement of ε is PyTorch's everywhere (outside the square root, after bias
//! correction for Adam), so the defaults below are PyTorch's; Keras puts Adam's ε on the
//! uncorrected `√s` and RMSProp's inside the root, so its defaults (1e-7, ρ = 0.9) would
//! not reproduce Keras's numbers anyway.

use burn::grad_clipping::GradientClipping;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdaGradConfig, AdamConfig, AdamWConfig, ModuleOptimizer, RmsPropConfig, SgdConfig,
};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// An optimiser and its hyper-parameters, as written in a recipe:
///
/// ```toml
/// [optimizer]
/// kind = "adam"
/// lr = 0.001
/// ```
///
/// Unknown keys are errors that name the key. Defaults are PyTorch's (see the module
/// docs for why), except that every optional feature (momentum, weight decay) is off.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Stochastic gradient descent, optionally with (Nesterov) momentum. Momentum has no
    /// dampening, as in PyTorch's default (Burn's own default dampening is 0.1).
    Sgd {
        /// Learning rate η.
        lr: f64,
        /// Momentum μ in `[0, 1)`; 0 turns it off.
        #[serde(default)]
        momentum: f64,
        /// Nesterov momentum (needs `momentum > 0`).
        #[serde(default)]
        nesterov: bool,
        /// L2 weight decay λ added to the gradient.
        #[serde(default)]
        weight_decay: f64,
    },
    /// AdaGrad (Duchi et al. 2011), without learning-rate decay.
    Adagrad {
        /// Learning rate η.
        lr: f64,
        /// ε added to `√h`; PyTorch's 1e-10.
        #[serde(default = "default_adagrad_epsilon")]
        epsilon: f64,
        /// L2 weight decay λ added to the gradient.
        #[serde(default)]
        weight_decay: f64,
    },
    /// RMSProp (Hinton's lecture 6e), not centred.
    #[serde(rename = "rmsprop")]
    RmsProp {
        /// Learning rate η.
        lr: f64,
        /// Decay ρ of the squared-gradient average; PyTorch's 0.99 (its `alpha`, also
        /// accepted as a key). Keras uses 0.9.
        #[serde(default = "default_rho", alias = "alpha")]
        rho: f64,
        /// ε added to `√h`; PyTorch's 1e-8.
        #[serde(default = "default_epsilon")]
        epsilon: f64,
        /// Momentum μ in `[0, 1)`; 0 turns it off.
        #[serde(default)]
        momentum: f64,
        /// L2 weight decay λ added to the gradient.
        #[serde(default)]
        weight_decay: f64,
    },
    /// Adam (Kingma & Ba 2015, arXiv:1412.6980) with bias correction; weight decay is L2
    /// added to the gradient (use `adamw` for decoupled decay).
    Adam {
        /// Learning rate η.
        lr: f64,
        /// β₁, decay of the gradient average; 0.9.
        #[serde(default = "default_beta1")]
        beta1: f64,
        /// β₂, decay of the squared-gradient average; 0.999.
        #[serde(default = "default_beta2")]
        beta2: f64,
        /// ε added to `√ŝ`; PyTorch's 1e-8 (Keras's 1e-7 is added to `√s`).
        #[serde(default = "default_epsilon")]
        epsilon: f64,
        /// L2 weight decay λ added to the gradient.
        #[serde(default)]
        weight_decay: f64,
    },
    /// AdamW: Adam with decoupled weight decay.
    #[serde(rename = "adamw")]
    AdamW {
        /// Learning rate η.
        lr: f64,
        /// β₁; 0.9.
        #[serde(default = "default_beta1")]
        beta1: f64,
        /// β₂; 0.999.
        #[serde(default = "default_beta2")]
        beta2: f64,
        /// ε added to `√ŝ`; 1e-8.
        #[serde(default = "default_epsilon")]
        epsilon: f64,
        /// Decoupled decay λ (`w ← w - η λ w`); PyTorch's 0.01.
        #[serde(default = "default_adamw_weight_decay")]
        weight_decay: f64,
    },
}

/// Gradient clipping, applied to each parameter's gradient before the update
/// (Burn's [`GradientClipping`]). In TOML: `{ norm = 1.0 }` or `{ value = 0.5 }`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GradClip {
    /// Rescale a parameter's gradient whose L2 norm exceeds this.
    Norm(f32),
    /// Clamp every gradient component to `[-value, value]`.
    Value(f32),
}

fn default_adagrad_epsilon() -> f64 {
    1e-10
}
fn default_epsilon() -> f64 {
    1e-8
}
fn default_rho() -> f64 {
    0.99
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_adamw_weight_decay() -> f64 {
    0.01
}

impl OptimizerConfig {
    /// Adam with PyTorch's defaults and learning rate `lr` (Keras: `optimizer='adam'`).
    pub fn adam(lr: f64) -> Self {
        OptimizerConfig::Adam {
            lr,
            beta1: default_beta1(),
            beta2: default_beta2(),
            epsilon: default_epsilon(),
            weight_decay: 0.0,
        }
    }

    /// Plain SGD with learning rate `lr` and optional `momentum`.
    pub fn sgd(lr: f64, momentum: f64) -> Self {
        OptimizerConfig::Sgd {
            lr,
            momentum,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

impl OptimizerConfig {
    /// The recipe's name for this optimiser (`"sgd"`, `"adamw"`, ..).
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd { .. } => "sgd",
            OptimizerConfig::Adagrad { .. } => "adagrad",
            OptimizerConfig::RmsProp { .. } => "rmsprop",
            OptimizerConfig::Adam { .. } => "adam",
            OptimizerConfig::AdamW { .. } => "adamw",
        }
    }

    /// The base learning rate η (a schedule scales it).
    pub fn learning_rate(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adagrad { lr, .. }
            | OptimizerConfig::RmsProp { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::AdamW { lr, .. } => *lr,
        }
    }

    /// Checks every value's range, naming the key (`optimizer.momentum`) on error.
    pub fn validate(&self) -> Result<()> {
        positive("lr", self.learning_rate())?;
        match *self {
            OptimizerConfig::Sgd {
                momentum,
                nesterov,
                weight_decay,
                ..
            } => {
                unit_interval("momentum", momentum)?;
                non_negative("weight_decay", weight_decay)?;
                if nesterov && momentum == 0.0 {
                    return Err(Error::invalid(
                        "optimizer.nesterov",
                        "Nesterov momentum needs momentum > 0 (e.g. momentum = 0.9)",
                    ));
                }
            }
            OptimizerConfig::Adagrad {
                epsilon,
                weight_decay,
                ..
            } => {
                positive("epsilon", epsilon)?;
                non_negative("weight_decay", weight_decay)?;
            }
            OptimizerConfig::RmsProp {
                rho,
                epsilon,
                momentum,
                weight_decay,
                ..
            } => {
                unit_interval("rho", rho)?;
                positive("epsilon", epsilon)?;
                unit_interval("momentum", momentum)?;
                non_negative("weight_decay", weight_decay)?;
            }
            OptimizerConfig::Adam {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            }
            | OptimizerConfig::AdamW {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            } => {
                unit_interval("beta1", beta1)?;
                unit_interval("beta2", beta2)?;
                positive("epsilon", epsilon)?;
                non_negative("weight_decay", weight_decay)?;
            }
        }
        Ok(())
    }

    /// Builds Burn's optimiser, with `clip` applied to the gradients before each update.
    /// The learning rate is passed to each `step`, not stored; call [`Self::validate`]
    /// first, as out-of-range values are not checked here.
    pub fn build(&self, clip: Option<GradClip>) -> ModuleOptimizer {
        let optimizer = match *self {
            OptimizerConfig::Sgd {
                momentum,
                nesterov,
                weight_decay,
                ..
            } => SgdConfig::new()
                .with_momentum((momentum > 0.0).then_some(MomentumConfig {
                    momentum,
                    dampening: 0.0,
                    nesterov,
                }))
                .with_weight_decay(l2(weight_decay))
                .init(),
            OptimizerConfig::Adagrad {
                epsilon,
                weight_decay,
                ..
            } => AdaGradConfig::new()
                .with_epsilon(epsilon as f32)
                .with_weight_decay(l2(weight_decay))
                .init(),
            OptimizerConfig::RmsProp {
                rho,
                epsilon,
                momentum,
                weight_decay,
                ..
            } => RmsPropConfig::new()
                .with_alpha(rho as f32)
                .with_epsilon(epsilon as f32)
                .with_momentum(momentum as f32)
                .with_centered(false)
                .with_weight_decay(l2(weight_decay))
                .init(),
            OptimizerConfig::Adam {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            } => AdamConfig::new()
                .with_beta_1(beta1 as f32)
                .with_beta_2(beta2 as f32)
                .with_epsilon(epsilon as f32)
                .with_weight_decay(l2(weight_decay))
                .init(),
            OptimizerConfig::AdamW {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            } => AdamWConfig::new()
                .with_beta_1(beta1 as f32)
                .with_beta_2(beta2 as f32)
                .with_epsilon(epsilon as f32)
                .with_weight_decay(weight_decay as f32)
                .init(),
        };
        match clip {
            Some(clip) => optimizer.with_grad_clipping(clip.to_burn()),
            None => optimizer,
        }
    }
}

impl GradClip {
    /// Checks that the threshold is positive.
    pub fn validate(&self) -> Result<()> {
        let (key, threshold) = match *self {
            GradClip::Norm(t) => ("grad_clip.norm", t),
            GradClip::Value(t) => ("grad_clip.value", t),
        };
        if threshold.is_finite() && threshold > 0.0 {
            Ok(())
        } else {
            Err(Error::invalid(
                key,
                format!("the clipping threshold must be > 0, got {threshold}"),
            ))
        }
    }

    /// Burn's equivalent.
    pub fn to_burn(self) -> GradientClipping {
        match self {
            GradClip::Norm(t) => GradientClipping::Norm(t),
            GradClip::Value(t) => GradientClipping::Value(t),
        }
    }
}

fn l2(weight_decay: f64) -> Option<WeightDecayConfig> {
    (weight_decay > 0.0).then_some(WeightDecayConfig {
        penalty: weight_decay as f32,
    })
}

fn positive(key: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("optimizer.{key}"),
            format!("must be > 0, got {value}"),
        ))
    }
}

fn non_negative(key: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("optimizer.{key}"),
            format!("must be >= 0, got {value}"),
        ))
    }
}

fn unit_interval(key: &str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("optimizer.{key}"),
            format!("must be in [0, 1), got {value}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{Module, Param};
    use burn::optim::GradientsParams;
    use burn::tensor::{Device, Tensor};

    /// Two parameters trained on `loss = Σ (c·w + ½ w²)`, so `g = c + w`: the gradient
    /// changes from step to step, which exercises the optimisers' state.
    #[derive(Module, Debug)]
    struct Weights {
        w: Param<Tensor<1>>,
    }

    const W0: [f64; 2] = [1.0, -2.0];
    const C: [f64; 2] = [0.5, -3.0];
    const LR: f64 = 0.1;
    const STEPS: usize = 3;

    fn grad_of(w: &[f64; 2]) -> [f64; 2] {
        [C[0] + w[0], C[1] + w[1]]
    }

    /// Runs Burn's optimiser built from `config` for [`STEPS`] steps.
    fn burn_steps(config: &OptimizerConfig, clip: Option<GradClip>) -> [f64; 2] {
        config.validate().expect("valid config");
        let device = Device::flex().autodiff();
        let to_f32 = |a: [f64; 2]| [a[0] as f32, a[1] as f32];
        let mut model = Weights {
            w: Param::from_tensor(Tensor::<1>::from_floats(to_f32(W0), &device)),
        };
        let c = Tensor::<1>::from_floats(to_f32(C), &device);
        let mut optimizer = config.build(clip);
        for _ in 0..STEPS {
            let w = model.w.val();
            let loss = (c.clone() * w.clone()).sum() + w.square().sum().mul_scalar(0.5);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(config.learning_rate(), model, grads);
        }
        let w = model
            .w
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32");
        [f64::from(w[0]), f64::from(w[1])]
    }

    /// Runs the textbook rule `update(w, g, t)` (t = 1, 2, ..) for [`STEPS`] steps in f64.
    fn textbook_steps(mut update: impl FnMut(&mut [f64; 2], [f64; 2], i32)) -> [f64; 2] {
        let mut w = W0;
        for t in 1..=STEPS as i32 {
            let g = grad_of(&w);
            update(&mut w, g, t);
        }
        w
    }

    fn assert_same(burn: [f64; 2], textbook: [f64; 2]) {
        for (b, t) in burn.iter().zip(textbook) {
            assert!(
                (b - t).abs() < 1e-5,
                "Burn gives {burn:?}, the update rule {textbook:?}"
            );
        }
    }

    fn sgd(momentum: f64, nesterov: bool, weight_decay: f64) -> OptimizerConfig {
        OptimizerConfig::Sgd {
            lr: LR,
            momentum,
            nesterov,
            weight_decay,
        }
    }

    #[test]
    fn sgd_is_plain_gradient_descent() {
        // seed 004: w(t+1) = w(t) - ε ∇E
        let textbook = textbook_steps(|w, g, _| {
            for i in 0..2 {
                w[i] -= LR * g[i];
            }
        });
        assert_same(burn_steps(&sgd(0.0, false, 0.0), None), textbook);
    }

    #[test]
    fn sgd_weight_decay_adds_lambda_w_to_the_gradient() {
        // seed 004 (重み減衰): w(t+1) = w(t) - ε (∇E + λ w(t))
        let lambda = 0.2;
        let textbook = textbook_steps(|w, g, _| {
            for i in 0..2 {
                w[i] -= LR * (g[i] + lambda * w[i]);
            }
        });
        assert_same(burn_steps(&sgd(0.0, false, lambda), None), textbook);
    }

    #[test]
    fn sgd_momentum_follows_the_seeds_rule() {
        // seed 004 (モメンタム): w(t+1) = w(t) - ε ∇E + μ Δw(t-1), Δw(t-1) = w(t) - w(t-1)
        let mu = 0.9;
        let mut delta = [0.0; 2];
        let textbook = textbook_steps(|w, g, _| {
            for i in 0..2 {
                delta[i] = -LR * g[i] + mu * delta[i];
                w[i] += delta[i];
            }
        });
        assert_same(burn_steps(&sgd(mu, false, 0.0), None), textbook);
    }

    #[test]
    fn sgd_nesterov_follows_pytorchs_rule() {
        // v ← μ v + g;  w ← w - η (g + μ v)
        let mu = 0.9;
        let mut v = [0.0; 2];
        let textbook = textbook_steps(|w, g, _| {
            for i in 0..2 {
                v[i] = mu * v[i] + g[i];
                w[i] -= LR * (g[i] + mu * v[i]);
            }
        });
        assert_same(burn_steps(&sgd(mu, true, 0.0), None), textbook);
    }

    #[test]
    fn adagrad_divides_by_root_of_summed_squares() {
        // h ← h + g²;  w ← w - η g / (√h + ε)
        let eps = 1e-10;
        let mut h = [0.0; 2];
        let textbook = textbook_steps(|w, g, _| {
            for i in 0..2 {
                h[i] += g[i] * g[i];
                w[i] -= LR * g[i] / (h[i].sqrt() + eps);
            }
        });
        let config = OptimizerConfig::Adagrad {
            lr: LR,
            epsilon: eps,
            weight_decay: 0.0,
        };
        assert_same(burn_steps(&config, None), textbook);
    }

    #[test]
    fn rmsprop_with_momentum() {
        // h ← ρ h + (1-ρ) g²;  b ← μ b + g / (√h + ε);  w ← w - η b
        let (rho, mu, eps) = (0.9, 0.5, 1e-8);
        let (mut h, mut b) = ([0.0; 2], [0.0; 2]);
        let textbook = textbook_steps(|w, g, _| {
            for i in 0..2 {
                h[i] = rho * h[i] + (1.0 - rho) * g[i] * g[i];
                b[i] = mu * b[i] + g[i] / (h[i].sqrt() + eps);
                w[i] -= LR * b[i];
            }
        });
        let config = OptimizerConfig::RmsProp {
            lr: LR,
            rho,
            epsilon: eps,
            momentum: mu,
            weight_decay: 0.0,
        };
        assert_same(burn_steps(&config, None), textbook);
    }

    /// Adam's moments in f64; `decoupled` selects AdamW's decay, otherwise L2.
    fn adam_textbook(lambda: f64, decoupled: bool) -> [f64; 2] {
        let (b1, b2, eps) = (0.9, 0.999, 1e-8);
        let (mut m, mut s) = ([0.0; 2], [0.0; 2]);
        textbook_steps(|w, g, t| {
            for i in 0..2 {
                let g_i = if decoupled {
                    g[i]
                } else {
                    g[i] + lambda * w[i]
                };
                m[i] = b1 * m[i] + (1.0 - b1) * g_i;
                s[i] = b2 * s[i] + (1.0 - b2) * g_i * g_i;
                let m_hat = m[i] / (1.0 - b1.powi(t));
                let s_hat = s[i] / (1.0 - b2.powi(t));
                let decay = if decoupled { LR * lambda * w[i] } else { 0.0 };
                w[i] -= decay + LR * m_hat / (s_hat.sqrt() + eps);
            }
        })
    }

    #[test]
    fn adam_with_bias_correction_and_l2() {
        for lambda in [0.0, 0.3] {
            let config = OptimizerConfig::Adam {
                lr: LR,
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
                weight_decay: lambda,
            };
            assert_same(burn_steps(&config, None), adam_textbook(lambda, false));
        }
    }

    #[test]
    fn adamw_decouples_weight_decay() {
        let config = OptimizerConfig::AdamW {
            lr: LR,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.3,
        };
        let burn = burn_steps(&config, None);
        assert_same(burn, adam_textbook(0.3, true));
        // and it is not the same as L2 inside Adam
        let l2 = adam_textbook(0.3, false);
        assert!((burn[0] - l2[0]).abs() > 1e-4);
    }

    #[test]
    fn gradient_clipping_by_value_and_norm() {
        // by value 0.5: each component of g is clamped to [-0.5, 0.5]
        let textbook = textbook_steps(|w, g, _| {
            for i in 0..2 {
                w[i] -= LR * g[i].clamp(-0.5, 0.5);
            }
        });
        let plain = sgd(0.0, false, 0.0);
        assert_same(burn_steps(&plain, Some(GradClip::Value(0.5))), textbook);
        // by norm 1: g ← g · min(1, 1 / ‖g‖)
        let textbook = textbook_steps(|w, g, _| {
            let scale = (1.0 / g[0].hypot(g[1])).min(1.0);
            for i in 0..2 {
                w[i] -= LR * g[i] * scale;
            }
        });
        assert_same(burn_steps(&plain, Some(GradClip::Norm(1.0))), textbook);
    }

    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Recipe {
        optimizer: OptimizerConfig,
        grad_clip: Option<GradClip>,
    }

    fn parse(text: &str) -> std::result::Result<Recipe, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn toml_fills_defaults() {
        let recipe = parse("[optimizer]\nkind = \"adam\"\nlr = 0.001\n").expect("parses");
        let expected = OptimizerConfig::Adam {
            lr: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
        };
        assert_eq!(recipe.optimizer, expected);
        assert_eq!(recipe.grad_clip, None);
        let recipe = parse("[optimizer]\nkind = \"adamw\"\nlr = 0.001\n").expect("parses");
        assert!(matches!(
            recipe.optimizer,
            OptimizerConfig::AdamW { weight_decay, .. } if weight_decay == 0.01
        ));
        let recipe = parse("optimizer = { kind = \"rmsprop\", lr = 0.01, alpha = 0.9 }\n")
            .expect("alpha is an alias of rho");
        assert!(matches!(recipe.optimizer, OptimizerConfig::RmsProp { rho, .. } if rho == 0.9));
    }

    #[test]
    fn every_optimizer_round_trips_through_toml() {
        let all = [
            sgd(0.9, true, 1e-4),
            OptimizerConfig::Adagrad {
                lr: 0.01,
                epsilon: 1e-10,
                weight_decay: 0.0,
            },
            OptimizerConfig::RmsProp {
                lr: 0.01,
                rho: 0.9,
                epsilon: 1e-7,
                momentum: 0.0,
                weight_decay: 0.0,
            },
            OptimizerConfig::Adam {
                lr: 0.001,
                beta1: 0.9,
                beta2: 0.99,
                epsilon: 1e-7,
                weight_decay: 0.0,
            },
            OptimizerConfig::AdamW {
                lr: 0.001,
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
                weight_decay: 0.05,
            },
        ];
        for optimizer in all {
            let recipe = Recipe {
                optimizer,
                grad_clip: Some(GradClip::Norm(1.0)),
            };
            let text = toml::to_string(&recipe).expect("serialises");
            assert!(text.contains(&format!("kind = \"{}\"", recipe.optimizer.name())));
            assert_eq!(parse(&text).expect("parses"), recipe);
        }
    }

    #[test]
    fn grad_clip_toml_shapes() {
        let text = "grad_clip = { norm = 1.0 }\n[optimizer]\nkind = \"sgd\"\nlr = 0.1\n";
        assert_eq!(
            parse(text).expect("parses").grad_clip,
            Some(GradClip::Norm(1.0))
        );
        let text = "grad_clip = { value = 0.5 }\n[optimizer]\nkind = \"sgd\"\nlr = 0.1\n";
        assert_eq!(
            parse(text).expect("parses").grad_clip,
            Some(GradClip::Value(0.5))
        );
        let text = "grad_clip = { l2 = 0.5 }\n[optimizer]\nkind = \"sgd\"\nlr = 0.1\n";
        assert!(parse(text).unwrap_err().to_string().contains("l2"));
    }

    #[test]
    fn unknown_keys_are_rejected_naming_the_key() {
        let err = parse("[optimizer]\nkind = \"adam\"\nlr = 0.001\nbeta_1 = 0.8\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `beta_1`"), "{err}");
        // a key of another optimiser
        let err = parse("[optimizer]\nkind = \"sgd\"\nlr = 0.1\nbeta1 = 0.8\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `beta1`"), "{err}");
        let err = parse("[optimizer]\nkind = \"adamax\"\nlr = 0.1\n").unwrap_err();
        assert!(err.to_string().contains("adamax"), "{err}");
        let err = parse("[optimizer]\nkind = \"sgd\"\n").unwrap_err();
        assert!(err.to_string().contains("lr"), "{err}");
    }

    #[test]
    fn validation_names_the_bad_value() {
        let err = sgd(1.0, false, 0.0).validate().unwrap_err().to_string();
        assert!(
            err.contains("optimizer.momentum") && err.contains("[0, 1)"),
            "{err}"
        );
        let err = sgd(0.0, true, 0.0).validate().unwrap_err().to_string();
        assert!(err.contains("optimizer.nesterov"), "{err}");
        let mut config = sgd(0.0, false, 0.0);
        if let OptimizerConfig::Sgd { lr, .. } = &mut config {
            *lr = 0.0;
        }
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("optimizer.lr"), "{err}");
        let err = sgd(0.5, false, -1.0).validate().unwrap_err().to_string();
        assert!(err.contains("optimizer.weight_decay"), "{err}");
        assert!(GradClip::Norm(0.0).validate().is_err());
        assert!(GradClip::Value(0.5).validate().is_ok());
    }
}
