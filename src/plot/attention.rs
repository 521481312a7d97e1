//! Attention heat map of a sequence-to-sequence model.

use std::path::Path;

use plotters::prelude::*;

use super::canvas::{self, render_png};
use super::font::FAMILY;
use crate::Result;

/// Colour of weight 1 (the dark end of matplotlib's "Blues").
const DARK: (f64, f64, f64) = (8.0, 48.0, 107.0);

/// Pixels per cell side.
const CELL: u32 = 28;

/// Plots attention `weights` (one row per output token, one column per input token) to
/// the PNG `path`: output tokens `target` down the rows, input tokens `source` across
/// the columns, each cell shaded by its weight (white 0, dark blue 1).
pub fn plot_attention(
    weights: &[Vec<f32>],
    source: &[String],
    target: &[String],
    path: &Path,
) -> Result<()> {
    let (rows, cols) = (target.len(), source.len());
    if rows == 0 || cols == 0 {
        return Err(canvas::invalid(path, "no source or no target tokens"));
    }
    if weights.len() != rows || weights.iter().any(|r| r.len() != cols) {
        return Err(canvas::invalid(
            path,
            format!(
                "weights are not {rows} x {cols} (target x source): {} rows of {:?} columns",
                weights.len(),
                weights.first().map(Vec::len)
            ),
        ));
    }
    let longest = target.iter().map(|s| s.chars().count()).max().unwrap_or(1) as u32;
    let y_label_area = (longest * 9 + 45).clamp(50, 140);
    let size = (
        y_label_area + cols as u32 * CELL + 40,
        rows as u32 * CELL + 160,
    );
    // Chart units are half cells: token k spans [2k, 2k + 2], its label sits at 2k + 1.
    let x_ticks: Vec<i32> = (0..cols).map(|c| 2 * c as i32 + 1).collect();
    let y_ticks: Vec<i32> = (0..rows).map(|r| 2 * r as i32 + 1).collect();
    let at = |v: i32, n: usize| (v.max(0) as usize / 2).min(n - 1);
    // Show a space as a visible mark.
    let show = |s: &str| {
        if s == " " {
            "␣".to_owned()
        } else {
            s.to_owned()
        }
    };
    let x_label = |v: &i32| show(&source[at(*v, cols)]);
    // Row r of the chart (counted from the bottom) shows output token rows - 1 - r.
    let y_label = |v: &i32| show(&target[rows - 1 - at(*v, rows)]);

    render_png(path, size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Attention", (FAMILY, 22))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(y_label_area)
            .build_cartesian_2d(
                (0..2 * cols as i32).with_key_points(x_ticks.clone()),
                (0..2 * rows as i32).with_key_points(y_ticks.clone()),
            )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("input")
            .y_desc("output")
            .x_labels(cols)
            .y_labels(rows)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 16))
            .draw()?;
        for (r, row) in weights.iter().enumerate() {
            let y = 2 * (rows - 1 - r) as i32;
            chart.draw_series(row.iter().enumerate().map(|(c, &w)| {
                let x = 2 * c as i32;
                Rectangle::new([(x, y), (x + 2, y + 2)], shade(w).filled())
            }))?;
        }
        Ok(())
    })
}

/// White for 0, [`DARK`] for 1, linear in between (values are clamped to `[0, 1]`).
fn shade(weight: f32) -> RGBColor {
    let w = f64::from(weight).clamp(0.0, 1.0);
    let mix = |dark: f64| (255.0 + (dark - 255.0) * w).round() as u8;
    RGBColor(mix(DARK.0), mix(DARK.1), mix(DARK.2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::canvas::tests::assert_png;

    #[test]
    fn writes_png_and_checks_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attention.png");
        let source: Vec<String> = "3 mar 98".chars().map(String::from).collect();
        let target: Vec<String> = ["1", "9", "9", "8", "<end>"].map(String::from).to_vec();
        let weights: Vec<Vec<f32>> = (0..5)
            .map(|r| {
                (0..8)
                    .map(|c| if c == (r + 5) % 8 { 0.9 } else { 0.1 / 7.0 })
                    .collect()
            })
            .collect();
        plot_attention(&weights, &source, &target, &path).unwrap();
        assert_png(&path);
        let err = plot_attention(&weights[..4], &source, &target, &path).unwrap_err();
        assert!(err.to_string().contains("5 x 8"), "{err}");
    }
}
