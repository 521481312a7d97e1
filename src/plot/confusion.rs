//! Confusion matrix heat map.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{self, render_png};
use super::font::FAMILY;
use crate::Result;
use crate::train::metrics::ConfusionMatrix;

/// Colour of a row fraction of 1 (the dark end of matplotlib's "Blues").
const DARK: (f64, f64, f64) = (8.0, 48.0, 107.0);

/// Plots `cm` as a heat map to the PNG `path`: true class down the rows, predicted class
/// across the columns, the count written in each cell (while cells are big enough to
/// hold it), class names (or indices) as tick labels.
///
/// Cells are shaded by their share of the row, i.e. of the samples of that true class,
/// so that small classes' mistakes show as clearly as large ones'.
pub fn plot_confusion(
    cm: &ConfusionMatrix,
    class_names: Option<&[String]>,
    path: &Path,
) -> Result<()> {
    let n = cm.num_classes();
    if n == 0 {
        return Err(canvas::invalid(path, "the confusion matrix has no classes"));
    }
    let names: Vec<String> = match class_names {
        Some(names) if names.len() != n => {
            return Err(canvas::invalid(
                path,
                format!("{} class names for {n} classes", names.len()),
            ));
        }
        Some(names) => names.to_vec(),
        None => (0..n).map(|c| c.to_string()).collect(),
    };

    let side = (n as u32 * 50).clamp(320, 900);
    let cell = side as f64 / n as f64;
    let longest = names.iter().map(|s| s.chars().count()).max().unwrap_or(1) as u32;
    let y_label_area = (longest * 9 + 25).clamp(40, 180);
    let x_chars = ((cell / 9.0) as usize).max(3);
    let size = (y_label_area + side + 40, side + 130);
    // Label every class while that stays legible, else every `step`-th.
    let step = n.div_ceil(40);
    // Chart units are half cells (integer axes take custom tick positions; float axes
    // do not), so class c spans [2c, 2c + 2] and its label sits at 2c + 1.
    let ticks: Vec<i32> = (0..n).step_by(step).map(|c| 2 * c as i32 + 1).collect();
    let span = 2 * n as i32;
    let title = format!("Confusion matrix (accuracy {:.1}%)", 100.0 * cm.accuracy());
    // Row r of the chart (counted from the bottom) shows true class n - 1 - r.
    let class_at = |v: i32| (v.max(0) as usize / 2).min(n - 1);
    let x_label = |v: &i32| shorten(&names[class_at(*v)], x_chars);
    let y_label = |v: &i32| names[n - 1 - class_at(*v)].clone();

    render_png(path, size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FAMILY, 22))
            .margin(15)
            .x_label_area_size(55)
            .y_label_area_size(y_label_area)
            .build_cartesian_2d(
                (0..span).with_key_points(ticks.clone()),
                (0..span).with_key_points(ticks.clone()),
            )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted")
            .y_desc("true")
            .x_labels(ticks.len())
            .y_labels(ticks.len())
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 16))
            .draw()?;

        let font_size = (cell * 0.3).min(cell * 1.7 / digits(cm) as f64).min(18.0);
        for t in 0..n {
            let row_total: u64 = (0..n).map(|p| cm.count(t, p)).sum();
            let y = 2 * (n - 1 - t) as i32;
            for p in 0..n {
                let count = cm.count(t, p);
                let share = if row_total == 0 {
                    0.0
                } else {
                    count as f64 / row_total as f64
                };
                let fill = shade(share);
                let x = 2 * p as i32;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 2, y + 2)],
                    fill.filled(),
                )))?;
                if font_size >= 8.0 {
                    let ink = if share > 0.5 { WHITE } else { BLACK };
                    let style = (FAMILY, font_size)
                        .into_font()
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    chart.draw_series(std::iter::once(Text::new(
                        count.to_string(),
                        (x + 1, y + 1),
                        style,
                    )))?;
                }
            }
        }
        Ok(())
    })
}

/// White for 0, [`DARK`] for 1, linear in between.
fn shade(share: f64) -> RGBColor {
    let mix = |dark: f64| (255.0 + (dark - 255.0) * share).round() as u8;
    RGBColor(mix(DARK.0), mix(DARK.1), mix(DARK.2))
}

/// Digits of the largest count.
fn digits(cm: &ConfusionMatrix) -> usize {
    let n = cm.num_classes();
    let max = (0..n * n)
        .map(|i| cm.count(i / n, i % n))
        .max()
        .unwrap_or(0);
    max.to_string().len()
}

/// `name` cut to `max` characters, ending in an ellipsis when cut.
fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_owned()
    } else {
        let kept: String = name.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plot::canvas::tests::assert_png;

    pub(crate) fn matrix() -> ConfusionMatrix {
        let truth: Vec<u32> = (0..300).map(|i| i % 3).collect();
        let pred: Vec<u32> = truth
            .iter()
            .enumerate()
            .map(|(i, &t)| if i % 7 == 0 { (t + 1) % 3 } else { t })
            .collect();
        ConfusionMatrix::from_predictions(&truth, &pred, 3)
    }

    #[test]
    fn writes_png_with_and_without_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cm.png");
        plot_confusion(&matrix(), None, &path).unwrap();
        assert_png(&path);
        let names = ["cat", "dog", "bird"].map(String::from);
        plot_confusion(&matrix(), Some(&names), &path).unwrap();
        assert_png(&path);
    }

    #[test]
    fn many_classes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cm100.png");
        let truth: Vec<u32> = (0..5000).map(|i| i % 100).collect();
        let pred: Vec<u32> = truth.iter().map(|&t| (t * 7 + t / 3) % 100).collect();
        plot_confusion(
            &ConfusionMatrix::from_predictions(&truth, &pred, 100),
            None,
            &path,
        )
        .unwrap();
        assert_png(&path);
    }

    #[test]
    fn wrong_number_of_names_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cm.png");
        let names = ["a", "b"].map(String::from);
        let err = plot_confusion(&matrix(), Some(&names), &path).unwrap_err();
        assert!(err.to_string().contains("2 class names for 3"), "{err}");
    }

    #[test]
    fn shortens_long_names() {
        assert_eq!(shorten("airplane", 5), "airp…");
        assert_eq!(shorten("cat", 5), "cat");
    }
}
