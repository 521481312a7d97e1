//! Scatter plot of 2-D embeddings, coloured by class.

use std::path::Path;

use plotters::prelude::*;

use super::canvas::{self, render_png};
use super::font::FAMILY;
use super::palette::colour;
use crate::Result;

/// Above this many classes the legend would hide the points, so it is left out.
const MAX_LEGEND_CLASSES: usize = 20;

/// Plots `points` (e.g. a t-SNE or PCA projection of embeddings) to the PNG `path`,
/// one colour per label, with a legend naming the classes and `title` on top.
pub fn plot_embedding_2d(
    points: &[[f32; 2]],
    labels: &[u32],
    path: &Path,
    title: &str,
) -> Result<()> {
    plot_named_2d(points, labels, &|c| format!("class {c}"), path, title)
}

/// As [`plot_embedding_2d`], with the legend naming label `k` `names[k]` (e.g. two domains).
pub fn plot_groups_2d(
    points: &[[f32; 2]],
    labels: &[u32],
    names: &[&str],
    path: &Path,
    title: &str,
) -> Result<()> {
    let name = |c: u32| {
        names
            .get(c as usize)
            .map_or_else(|| format!("group {c}"), |n| n.to_string())
    };
    plot_named_2d(points, labels, &name, path, title)
}

fn plot_named_2d(
    points: &[[f32; 2]],
    labels: &[u32],
    name: &dyn Fn(u32) -> String,
    path: &Path,
    title: &str,
) -> Result<()> {
    if points.len() != labels.len() {
        return Err(canvas::invalid(
            path,
            format!("{} points but {} labels", points.len(), labels.len()),
        ));
    }
    if points.is_empty() {
        return Err(canvas::invalid(path, "no points to plot"));
    }
    if points.iter().flatten().any(|v| !v.is_finite()) {
        return Err(canvas::invalid(
            path,
            "a point has a NaN or infinite coordinate",
        ));
    }
    let mut classes = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let (x_range, y_range) = (axis_range(points, 0), axis_range(points, 1));
    let radius = if points.len() > 2_000 { 2 } else { 3 };

    render_png(path, (800, 720), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 24))
            .margin(15)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(x_range, y_range)?;
        chart
            .configure_mesh()
            .label_style((FAMILY, 13))
            .light_line_style(RGBColor(242, 242, 242))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()?;
        for (k, &class) in classes.iter().enumerate() {
            let style = colour(k, classes.len()).mix(0.75).filled();
            let members = points
                .iter()
                .zip(labels)
                .filter(move |&(_, &l)| l == class)
                .map(move |(p, _)| Circle::new((p[0], p[1]), radius, style));
            chart
                .draw_series(members)?
                .label(name(class))
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, style));
        }
        if classes.len() <= MAX_LEGEND_CLASSES {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FAMILY, 13))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(190, 190, 190))
                .draw()?;
        }
        Ok(())
    })
}

/// Range of coordinate `axis` with a 5% margin (or ±1 when all points agree).
fn axis_range(points: &[[f32; 2]], axis: usize) -> std::ops::Range<f32> {
    let (lo, hi) = points.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
        (lo.min(p[axis]), hi.max(p[axis]))
    });
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 1.0 };
    lo - pad..hi + pad
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plot::canvas::tests::assert_png;

    /// Three noisy clusters on a circle.
    pub(crate) fn clusters() -> (Vec<[f32; 2]>, Vec<u32>) {
        let mut state = 7u32;
        let mut noise = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        (0..300)
            .map(|i| {
                let class = (i % 3) as u32;
                let angle = class as f32 * 2.1;
                let p = [3.0 * angle.cos() + noise(), 3.0 * angle.sin() + noise()];
                (p, class)
            })
            .unzip()
    }

    #[test]
    fn writes_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embedding.png");
        let (points, labels) = clusters();
        plot_embedding_2d(&points, &labels, &path, "embedding").unwrap();
        assert_png(&path);
    }

    #[test]
    fn rejects_mismatched_or_bad_points() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.png");
        let err = plot_embedding_2d(&[[0.0, 1.0]], &[0, 1], &path, "t").unwrap_err();
        assert!(err.to_string().contains("bad.png"), "{err}");
        assert!(plot_embedding_2d(&[[f32::NAN, 1.0]], &[0], &path, "t").is_err());
        assert!(plot_embedding_2d(&[], &[], &path, "t").is_err());
    }
}
