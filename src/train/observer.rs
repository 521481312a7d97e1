//! Callbacks a caller implements to watch training (the binary draws progress bars).

/// Receives training events. Every method has an empty default.
pub trait Observer {
    /// Training starts (or resumes) at `first_epoch` (1-based) of `epochs`.
    fn on_train_begin(&mut self, _first_epoch: usize, _epochs: usize, _steps_per_epoch: usize) {}
    /// An epoch starts; `first_step` is 0 unless resuming mid-epoch.
    fn on_epoch_begin(&mut self, _epoch: usize, _first_step: usize) {}
    /// A step finished with running averages of the epoch so far.
    fn on_step(&mut self, _epoch: usize, _step: usize, _logs: &[(&str, f64)]) {}
    /// An epoch finished with its full log (training and validation values).
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &[(&str, f64)]) {}
    /// Training stopped early at `epoch`; the weights of `best_epoch` are kept.
    fn on_early_stop(&mut self, _epoch: usize, _best_epoch: usize) {}
    /// Training is over.
    fn on_train_end(&mut self) {}
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {}
