//! Checkpoints: weights, optimiser state and loop position, written atomically so that a
//! killed run can resume with `--resume` and a crash never leaves a half-written checkpoint.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::ModuleOptimizer;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::early_stopping::EarlyStoppingState;
use super::history::History;
use crate::model::Sequential;
use crate::optim::ScheduleState;
use crate::{Error, Result};

/// Sums over the steps of the epoch in progress (for running averages).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct RunningTotals {
    /// Sum of batch losses weighted by batch size.
    pub loss_sum: f64,
    /// Correct predictions (classification).
    pub correct: u64,
    /// Samples seen.
    pub seen: u64,
}

impl RunningTotals {
    /// Mean loss so far.
    pub fn loss(&self) -> f64 {
        self.loss_sum / self.seen.max(1) as f64
    }

    /// Accuracy so far.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.seen.max(1) as f64
    }
}

/// Where the training loop is.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct TrainState {
    /// Completed epochs.
    pub epochs_done: usize,
    /// Steps done in the epoch in progress.
    pub step_in_epoch: usize,
    /// Steps done in all.
    pub global_step: usize,
    /// Running sums of the epoch in progress.
    pub running: RunningTotals,
    /// Per-epoch log so far.
    pub history: History,
    /// Learning-rate schedule state (absent before the first save).
    pub schedule: Option<ScheduleState>,
    /// Early-stopping state.
    pub early: EarlyStoppingState,
    /// Epoch at which early stopping ended training (a resumed run does not train on).
    #[serde(default)]
    pub stopped_at: Option<usize>,
    /// Snapshots in the weight average (`[training] average`; its weights are `average.bpk`).
    #[serde(default)]
    pub average_snapshots: usize,
    /// Offline self-training's pseudo-labelled pool: (unlabelled index, label).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pseudo_pool: Vec<(usize, u32)>,
}

/// A checkpoint folder inside a run folder.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    dir: PathBuf,
}

const MODEL: &str = "model.bpk";
const OPTIM: &str = "optimizer.bpk";
const STATE: &str = "state.json";
const BEST: &str = "best.bpk";
const AVERAGE: &str = "average.bpk";

impl Checkpoint {
    /// The checkpoint at `dir` (e.g. `runs/x/checkpoint`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.dir.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        self.dir.with_file_name(name)
    }

    /// Writes a new checkpoint (with the best epoch's weights when early stopping keeps
    /// them, and the averaged weights when the run averages) into a fresh folder, then swaps it
    /// in with renames.
    pub fn save<M: Module>(
        &self,
        model: &M,
        optim: &ModuleOptimizer,
        state: &TrainState,
        (best, average): (Option<&M>, Option<&M>),
    ) -> Result<()> {
        let tmp = self.sibling(".tmp");
        let old = self.sibling(".old");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| Error::io("removing", &tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        save_record(model, &tmp.join(MODEL))?;
        optim.save(tmp.join(OPTIM)).map_err(|e| Error::Record {
            path: tmp.join(OPTIM),
            message: e.to_string(),
        })?;
        if let Some(best) = best {
            save_record(best, &tmp.join(BEST))?;
        }
        if let Some(average) = average {
            save_record(average, &tmp.join(AVERAGE))?;
        }
        let json = serde_json::to_vec_pretty(state).expect("state serialises");
        fs::write(tmp.join(STATE), json).map_err(|e| Error::io("writing", tmp.join(STATE), e))?;
        if self.dir.exists() {
            if old.exists() {
                fs::remove_dir_all(&old).map_err(|e| Error::io("removing", &old, e))?;
            }
            fs::rename(&self.dir, &old).map_err(|e| Error::io("renaming", &self.dir, e))?;
        }
        fs::rename(&tmp, &self.dir).map_err(|e| Error::io("renaming", &tmp, e))?;
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| Error::io("removing", &old, e))?;
        }
        Ok(())
    }

    /// Whether a complete checkpoint exists (also one left as `.old` by a crash mid-swap).
    pub fn exists(&self) -> bool {
        self.readable_dir().is_some()
    }

    fn readable_dir(&self) -> Option<PathBuf> {
        [self.dir.clone(), self.sibling(".old")]
            .into_iter()
            .find(|d| d.join(STATE).is_file())
    }

    /// The averaged weights of the checkpoint, loaded into `model`, when it holds them.
    pub fn load_average(&self, model: Sequential) -> Result<Option<Sequential>> {
        match self.readable_dir().map(|d| d.join(AVERAGE)) {
            Some(path) if path.is_file() => Ok(Some(load_record(model, &path)?)),
            _ => Ok(None),
        }
    }

    /// Loads the checkpoint into `model` and `optim` (built from the same recipe); also
    /// returns the best epoch's weights when the checkpoint holds them.
    #[allow(clippy::type_complexity)]
    pub fn load<M: Module>(
        &self,
        model: M,
        optim: ModuleOptimizer,
    ) -> Result<(M, ModuleOptimizer, TrainState, Option<M>)> {
        let dir = self.readable_dir().ok_or_else(|| {
            Error::invalid(
                "--resume",
                format!("no checkpoint in {}", self.dir.display()),
            )
        })?;
        let state_path = dir.join(STATE);
        let text = fs::read(&state_path).map_err(|e| Error::io("reading", &state_path, e))?;
        let state: TrainState =
            serde_json::from_slice(&text).map_err(|e| Error::data(&state_path, e.to_string()))?;
        let best = if dir.join(BEST).is_file() {
            Some(load_record(model.clone(), &dir.join(BEST))?)
        } else {
            None
        };
        let model = load_record(model, &dir.join(MODEL))?;
        let optim = optim.load(dir.join(OPTIM)).map_err(|e| Error::Record {
            path: dir.join(OPTIM),
            message: e.to_string(),
        })?;
        Ok((model, optim, state, best))
    }
}

/// Saves a model's weights to `path` (burnpack).
pub fn save_record<M: Module>(model: &M, path: &Path) -> Result<()> {
    model.clone().save_file(path).map_err(|e| Error::Record {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Loads weights saved by [`save_record`] into `model`.
pub fn load_record<M: Module>(model: M, path: &Path) -> Result<M> {
    model.try_load_file(path).map_err(|e| Error::Record {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Whether every weight is finite (a checkpoint is only worth keeping if so).
pub fn all_finite<M: Module>(model: &M) -> bool {
    struct Finite(bool);
    impl ModuleVisitor for Finite {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.0 {
                let max = param.val().abs().max().into_scalar::<f32>();
                self.0 = max.is_finite();
            }
        }
    }
    let mut v = Finite(true);
    model.visit(&mut v);
    v.0
}
