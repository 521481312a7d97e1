//! Side-by-side comparison of several runs, one panel per metric.

use std::path::Path;

use super::canvas::{self, grid, render_png};
use super::font::FAMILY;
use super::palette::colour;
use super::panel::{Line, draw_line_panel};
use crate::Result;
use crate::train::History;

/// Panel size in pixels.
const PANEL: (u32, u32) = (560, 400);

/// Plots each of `metrics` (e.g. `"loss"`, `"val_accuracy"`) in its own panel with one
/// line per run, labelled with the run's name, to the PNG `path`.
///
/// Used to lay runs that differ in one setting side by side, e.g. SGD, momentum,
/// AdaGrad and Adam on the same model. A run without a metric is left out of that
/// panel; a metric no run has is an error.
pub fn plot_compare(runs: &[(String, History)], metrics: &[&str], path: &Path) -> Result<()> {
    if runs.is_empty() || metrics.is_empty() {
        return Err(canvas::invalid(
            path,
            "a comparison needs at least one run and one metric",
        ));
    }
    if let Some(missing) = metrics
        .iter()
        .find(|m| runs.iter().all(|(_, h)| h.series(m).is_none()))
    {
        let names: Vec<&str> = runs.iter().map(|(name, _)| name.as_str()).collect();
        return Err(canvas::invalid(
            path,
            format!(
                "no run ({}) has a series named '{missing}'",
                names.join(", ")
            ),
        ));
    }

    let (rows, cols) = grid(metrics.len());
    let size = (PANEL.0 * cols as u32, PANEL.1 * rows as u32 + 50);
    let title = format!("Comparison of {} runs", runs.len());
    render_png(path, size, |root| {
        let root = root.titled(&title, (FAMILY, 24))?;
        for (area, metric) in root.split_evenly((rows, cols)).iter().zip(metrics) {
            let lines: Vec<Line> = runs
                .iter()
                .enumerate()
                .filter_map(|(i, (name, history))| {
                    Some(Line {
                        label: name.clone(),
                        epochs: history.epochs(),
                        values: history.series(metric)?,
                        colour: colour(i, runs.len()),
                    })
                })
                .collect();
            draw_line_panel(area, metric, &lines)?;
        }
        Ok(())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plot::canvas::tests::assert_png;

    /// Four optimiser runs converging at different speeds.
    pub(crate) fn runs() -> Vec<(String, History)> {
        ["SGD", "Momentum", "AdaGrad", "Adam"]
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let rate = 0.1 + 0.15 * k as f64;
                let mut h = History::new();
                for e in 1..=15 {
                    let t = e as f64;
                    h.push_epoch(
                        e,
                        &[
                            ("loss", 2.3 * (-rate * t).exp() + 0.05),
                            ("val_accuracy", 0.97 - 0.87 * (-rate * t).exp()),
                        ],
                    );
                }
                (name.to_string(), h)
            })
            .collect()
    }

    #[test]
    fn writes_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compare.png");
        plot_compare(&runs(), &["loss", "val_accuracy"], &path).unwrap();
        assert_png(&path);
    }

    #[test]
    fn unknown_metric_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compare.png");
        let err = plot_compare(&runs(), &["loss", "val_f1"], &path).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("val_f1") && msg.contains("compare.png"),
            "{msg}"
        );
        assert!(plot_compare(&[], &["loss"], &path).is_err());
        assert!(!path.exists());
    }
}
