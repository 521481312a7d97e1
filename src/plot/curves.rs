//! Training curves: one panel per metric, training and validation values together.

use std::path::Path;

use super::canvas::{self, grid, render_png};
use super::palette::colour;
use super::panel::{Line, draw_line_panel};
use crate::Result;
use crate::train::History;

/// Series that are not metrics and get no panel.
const SKIPPED: [&str; 3] = ["lr", "seconds", "augment_seconds"];

/// Panel size in pixels.
const PANEL: (u32, u32) = (520, 380);

/// Plots `history` to the PNG `path`: one panel per metric family, `loss` first.
///
/// A family is a metric `m` and its validation twin `val_m`, drawn in two colours
/// with a legend; `lr` and the timings are not plotted.
pub fn plot_curves(history: &History, path: &Path) -> Result<()> {
    let families = families(history.names());
    if history.is_empty() || families.is_empty() {
        return Err(canvas::invalid(path, "the history has no metric to plot"));
    }
    let (rows, cols) = grid(families.len());
    let size = (PANEL.0 * cols as u32, PANEL.1 * rows as u32 + 50);
    let title = format!("Training history ({} epochs)", history.len());
    render_png(path, size, |root| {
        let root = root.titled(&title, (super::font::FAMILY, 24))?;
        for (area, (family, names)) in root.split_evenly((rows, cols)).iter().zip(&families) {
            let lines: Vec<Line> = names
                .iter()
                .map(|name| Line {
                    label: name.clone(),
                    epochs: history.epochs(),
                    values: history.series(name).unwrap_or_default(),
                    colour: colour(usize::from(name.starts_with("val_")), 2),
                })
                .collect();
            draw_line_panel(area, family, &lines)?;
        }
        Ok(())
    })
}

/// Groups series into `(m, [m, val_m])` families in order of appearance, `loss` first.
fn families(names: &[String]) -> Vec<(String, Vec<String>)> {
    let mut families: Vec<(String, Vec<String>)> = Vec::new();
    for name in names {
        let base = name.strip_prefix("val_").unwrap_or(name);
        if SKIPPED.contains(&base) {
            continue;
        }
        match families.iter_mut().find(|(f, _)| f == base) {
            Some((_, members)) => members.push(name.clone()),
            None => families.push((base.to_owned(), vec![name.clone()])),
        }
    }
    for (_, members) in &mut families {
        members.sort_by_key(|m| m.starts_with("val_"));
    }
    families.sort_by_key(|(f, _)| f != "loss");
    families
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plot::canvas::tests::assert_png;

    pub(crate) fn history(epochs: usize) -> History {
        let mut h = History::new();
        for e in 1..=epochs {
            let t = e as f64;
            h.push_epoch(
                e,
                &[
                    ("loss", 2.3 * (-0.25 * t).exp() + 0.1),
                    ("accuracy", 1.0 - 0.9 * (-0.3 * t).exp()),
                    ("val_loss", 2.3 * (-0.2 * t).exp() + 0.25),
                    ("val_accuracy", 0.95 - 0.85 * (-0.25 * t).exp()),
                    ("lr", 0.01),
                    ("seconds", 3.2),
                ],
            );
        }
        h
    }

    #[test]
    fn groups_families_loss_first() {
        let names: Vec<String> = ["accuracy", "lr", "val_accuracy", "val_loss", "loss", "auc"]
            .map(String::from)
            .to_vec();
        let f = families(&names);
        assert_eq!(
            f[0],
            ("loss".into(), vec!["loss".into(), "val_loss".into()])
        );
        assert_eq!(f[1].1, vec!["accuracy".to_string(), "val_accuracy".into()]);
        assert_eq!(f[2].0, "auc");
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn writes_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curves.png");
        plot_curves(&history(20), &path).unwrap();
        assert_png(&path);
    }

    #[test]
    fn single_epoch_and_gaps_are_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.png");
        plot_curves(&history(1), &path).unwrap();
        assert_png(&path);

        let mut h = history(3);
        h.push_epoch(4, &[("loss", f64::NAN), ("val_loss", 0.3)]);
        plot_curves(&h, &path).unwrap();
        assert_png(&path);
    }

    #[test]
    fn nothing_to_plot_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.png");
        let err = plot_curves(&History::new(), &path).unwrap_err();
        assert!(err.to_string().contains("empty.png"), "{err}");
        let mut h = History::new();
        h.push_epoch(1, &[("lr", 0.1)]);
        assert!(plot_curves(&h, &path).is_err());
    }
}
