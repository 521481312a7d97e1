//! Verification ROC curves: true accept rate against false accept rate.

use std::path::Path;

use plotters::prelude::*;

use super::canvas::{self, render_png};
use super::font::FAMILY;
use super::palette::colour;
use crate::Result;

/// Plots one ROC per `(label, points)` (points `[false accept rate, true accept rate]` in
/// `[0, 1]`) with the chance diagonal, to the PNG `path` with `title` on top.
pub fn plot_roc(curves: &[(String, Vec<[f64; 2]>)], path: &Path, title: &str) -> Result<()> {
    if curves.is_empty() || curves.iter().any(|(_, p)| p.is_empty()) {
        return Err(canvas::invalid(
            path,
            "an ROC plot needs curves with points",
        ));
    }
    if curves
        .iter()
        .flat_map(|(_, p)| p.iter().flatten())
        .any(|v| !(0.0..=1.0).contains(v))
    {
        return Err(canvas::invalid(path, "ROC rates must lie in [0, 1]"));
    }
    render_png(path, (640, 600), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("false accept rate")
            .y_desc("true accept rate")
            .label_style((FAMILY, 13))
            .light_line_style(RGBColor(242, 242, 242))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()?;
        chart.draw_series(LineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            RGBColor(170, 170, 170),
        ))?;
        for (k, (label, points)) in curves.iter().enumerate() {
            let style = colour(k, curves.len()).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.iter().map(|p| (p[0], p[1])), style))?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FAMILY, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(190, 190, 190))
            .draw()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::canvas::tests::assert_png;

    #[test]
    fn writes_png_and_rejects_rates_outside_0_1() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roc.png");
        let curve: Vec<[f64; 2]> = (0..=20)
            .map(|i| {
                let f = i as f64 / 20.0;
                [f, f.sqrt()]
            })
            .collect();
        plot_roc(&[("unseen (AUC 0.67)".into(), curve)], &path, "ROC").unwrap();
        assert_png(&path);
        let bad = vec![("x".to_string(), vec![[0.0, 1.5]])];
        assert!(plot_roc(&bad, &dir.path().join("bad.png"), "ROC").is_err());
    }
}
