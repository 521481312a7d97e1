//! Averages of a model's weights over training (SPEC SS10): an exponential moving average (the
//! mean teacher's and FixMatch's evaluation weights, Tarvainen & Valpola 2017) and stochastic
//! weight averaging (the plain mean of snapshots, Izmailov et al. 2018). Usable with any
//! module: the average is kept beside the model and written into a copy of it on demand.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use crate::{Error, Result};

/// How snapshots are averaged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Averaging {
    /// `avg <- decay * avg + (1 - decay) * w` after the first snapshot (which is copied).
    Ema {
        /// Weight of the running average, in `[0, 1)`.
        decay: f64,
    },
    /// The mean of every snapshot so far.
    Mean,
}

/// A running average of a module's float parameters.
#[derive(Debug, Clone)]
pub struct WeightAverage {
    averaging: Averaging,
    /// The averaged parameters, flattened, in the module's visiting order.
    params: Vec<Tensor<1>>,
    snapshots: usize,
}

/// Collects a module's float parameters, flattened and without autodiff (the averages must
/// never join a training step's graph: a mean teacher reads them every step).
struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val().inner();
        let n = t.shape().num_elements();
        self.0.push(t.reshape([n]));
    }
}

/// Writes averaged values into a module's float parameters, in visiting order.
struct Write<'a>(std::slice::Iter<'a, Tensor<1>>);

impl ModuleMapper for Write<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let avg = self
            .0
            .next()
            .expect("the module has the averaged structure")
            .clone();
        param.map(|t| {
            let v = avg.reshape(t.shape());
            let v = if t.is_autodiff() { v.autodiff() } else { v };
            v.to_device(&t.device())
        })
    }
}

impl WeightAverage {
    /// An empty average.
    pub fn new(averaging: Averaging) -> Result<Self> {
        if let Averaging::Ema { decay } = averaging
            && !(0.0..1.0).contains(&decay)
        {
            return Err(Error::invalid(
                "ema_decay",
                format!("must be in [0, 1), got {decay}"),
            ));
        }
        Ok(Self {
            averaging,
            params: Vec::new(),
            snapshots: 0,
        })
    }

    /// An average that already holds `snapshots` snapshots whose average is `averaged`'s
    /// weights (a resumed run).
    pub fn resume<M: Module>(averaging: Averaging, averaged: &M, snapshots: usize) -> Result<Self> {
        let mut avg = Self::new(averaging)?;
        if snapshots > 0 {
            let mut now = Collect(Vec::new());
            averaged.visit(&mut now);
            avg.params = now.0;
            avg.snapshots = snapshots;
        }
        Ok(avg)
    }

    /// Snapshots taken so far.
    pub fn snapshots(&self) -> usize {
        self.snapshots
    }

    /// Adds `model`'s current weights to the average.
    pub fn update<M: Module>(&mut self, model: &M) {
        let mut now = Collect(Vec::new());
        model.visit(&mut now);
        self.snapshots += 1;
        if self.params.is_empty() {
            self.params = now.0;
            return;
        }
        let keep = match self.averaging {
            Averaging::Ema { decay } => decay,
            Averaging::Mean => (self.snapshots - 1) as f64 / self.snapshots as f64,
        };
        self.params = std::mem::take(&mut self.params)
            .into_iter()
            .zip(now.0)
            .map(|(avg, w)| avg.mul_scalar(keep) + w.mul_scalar(1.0 - keep))
            .collect();
    }

    /// `model` with the averaged weights (unchanged when nothing was averaged yet). `model`
    /// must have the structure of the snapshots.
    pub fn apply<M: Module>(&self, model: M) -> M {
        if self.params.is_empty() {
            return model;
        }
        model.map(&mut Write(self.params.iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Sequential, SequentialConfig};
    use burn::tensor::Device;

    fn model(seed: u64, device: &Device) -> Sequential {
        device.seed(seed);
        let text = "[[layers]]\ntype = \"conv2d\"\nfilters = 2\nkernel = 3\n[[layers]]\ntype = \"flatten\"\n[[layers]]\ntype = \"dense\"\nunits = 3";
        let cfg: SequentialConfig = toml::from_str(text).unwrap();
        cfg.build(&[1, 4, 4], device).unwrap()
    }

    fn flat(m: &Sequential) -> Vec<f32> {
        let mut c = Collect(Vec::new());
        m.visit(&mut c);
        c.0.into_iter()
            .flat_map(|t| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap())
            .collect()
    }

    #[test]
    fn ema_and_mean_average_every_parameter() {
        let device = Device::flex();
        let (a, b, c) = (model(1, &device), model(2, &device), model(3, &device));
        let (fa, fb, fc) = (flat(&a), flat(&b), flat(&c));
        assert_ne!(fa, fb);

        let mut ema = WeightAverage::new(Averaging::Ema { decay: 0.75 }).unwrap();
        let untouched = ema.apply(model(9, &device));
        assert_eq!(flat(&untouched), flat(&model(9, &device)));
        ema.update(&a);
        ema.update(&b);
        let got = flat(&ema.apply(model(9, &device)));
        for i in 0..fa.len() {
            assert!((got[i] - (0.75 * fa[i] + 0.25 * fb[i])).abs() < 1e-6);
        }

        let mut swa = WeightAverage::new(Averaging::Mean).unwrap();
        for m in [&a, &b, &c] {
            swa.update(m);
        }
        assert_eq!(swa.snapshots(), 3);
        let got = flat(&swa.apply(model(9, &device)));
        for i in 0..fa.len() {
            assert!((got[i] - (fa[i] + fb[i] + fc[i]) / 3.0).abs() < 1e-6);
        }
        // The averaged model still runs with its shapes intact.
        let x = Tensor::<2>::ones([2, 16], &device);
        let out = swa.apply(a.clone()).forward(a.reshape_input(x));
        assert_eq!(out.dims(), [2, 3]);
    }

    #[test]
    fn decay_outside_zero_one_is_refused() {
        for decay in [1.0, -0.1, f64::NAN] {
            let err = WeightAverage::new(Averaging::Ema { decay }).unwrap_err();
            assert!(err.to_string().contains("ema_decay"), "{err}");
        }
    }
}
