//! Progress display: a bar per epoch with running loss and metrics, and a Keras-like line
//! when each epoch ends.

use std::time::Duration;

use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use manabi::train::Observer;

pub struct Progress {
    bar: Option<ProgressBar>,
    epochs: usize,
    steps: usize,
    /// Shown beside the bar until the first step ends (GPU kernels compiling).
    first_step_note: Option<String>,
}

impl Progress {
    /// A display for training on `device`: on a GPU it says, until the first step ends, that
    /// kernels are compiling (the bar's clock keeps ticking meanwhile).
    pub fn new(device: &Device) -> Self {
        Self {
            bar: None,
            epochs: 0,
            steps: 0,
            first_step_note: manabi::gpu::is_gpu(device).then(manabi::gpu::first_run_note),
        }
    }
}

fn format_logs(logs: &[(&str, f64)]) -> String {
    logs.iter()
        .filter(|(n, _)| *n != "seconds")
        .map(|(n, v)| {
            if *n == "lr" {
                format!("{n}: {v:.2e}")
            } else {
                format!("{n}: {v:.4}")
            }
        })
        .collect::<Vec<_>>()
        .join(" - ")
}

impl Observer for Progress {
    fn on_train_begin(&mut self, _first_epoch: usize, epochs: usize, steps_per_epoch: usize) {
        self.epochs = epochs;
        self.steps = steps_per_epoch;
    }

    fn on_epoch_begin(&mut self, epoch: usize, first_step: usize) {
        let bar = ProgressBar::new(self.steps as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "Epoch {prefix} [{bar:28.cyan/blue}] {pos}/{len} {elapsed}<{eta} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{epoch}/{}", self.epochs));
        bar.set_position(first_step as u64);
        bar.enable_steady_tick(Duration::from_millis(500));
        if let Some(note) = &self.first_step_note {
            bar.set_message(note.clone());
        }
        self.bar = Some(bar);
    }

    fn on_step(&mut self, _epoch: usize, step: usize, logs: &[(&str, f64)]) {
        if self.first_step_note.take().is_some()
            && let Some(bar) = &self.bar
        {
            bar.set_message(format_logs(logs));
        }
        if let Some(bar) = &self.bar {
            bar.set_position(step as u64);
            if step.is_multiple_of(5) || step == self.steps {
                bar.set_message(format_logs(logs));
            }
        }
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &[(&str, f64)]) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let secs = logs
            .iter()
            .find(|(n, _)| *n == "seconds")
            .map(|(_, v)| *v)
            .unwrap_or(0.0);
        eprintln!(
            "Epoch {epoch}/{} - {secs:.1}s - {}",
            self.epochs,
            format_logs(logs)
        );
    }

    fn on_early_stop(&mut self, epoch: usize, best_epoch: usize) {
        eprintln!("Early stopping at epoch {epoch}; keeping the weights of epoch {best_epoch}");
    }
}
