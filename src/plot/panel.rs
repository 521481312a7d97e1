//! One chart of per-epoch series: the building block of the curve and comparison plots.

use plotters::prelude::*;

use super::canvas::{Area, DrawResult};
use super::font::FAMILY;

/// A named series drawn as a line over epochs.
pub(crate) struct Line<'a> {
    /// Legend text.
    pub label: String,
    /// Epoch numbers, aligned with `values`.
    pub epochs: &'a [usize],
    /// Values; NaN and infinities leave a gap in the line.
    pub values: &'a [f64],
    /// Line colour.
    pub colour: RGBColor,
}

impl Line<'_> {
    /// `(epoch, value)` points with a finite value.
    fn finite_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.epochs
            .iter()
            .zip(self.values)
            .filter(|(_, v)| v.is_finite())
            .map(|(&e, &v)| (e as f64, v))
    }

    /// Runs of consecutive finite points, drawn as separate polylines.
    fn segments(&self) -> Vec<Vec<(f64, f64)>> {
        let mut segments = vec![Vec::new()];
        for (&e, &v) in self.epochs.iter().zip(self.values) {
            if v.is_finite() {
                segments.last_mut().unwrap().push((e as f64, v));
            } else if !segments.last().unwrap().is_empty() {
                segments.push(Vec::new());
            }
        }
        segments.retain(|s| !s.is_empty());
        segments
    }
}

/// Draws `lines` on `area` under `caption`, with epochs on the x axis and a legend.
///
/// Lines without a finite value are left out; if none has one, the panel says so.
pub(crate) fn draw_line_panel(area: &Area, caption: &str, lines: &[Line]) -> DrawResult<()> {
    let lines: Vec<&Line> = lines
        .iter()
        .filter(|l| l.finite_points().next().is_some())
        .collect();
    let points = || lines.iter().flat_map(|l| l.finite_points());
    let Some((x_range, y_range)) = bounds(points()) else {
        let area = area.titled(caption, (FAMILY, 20))?;
        let centre = (area.dim_in_pixel().0 as i32 / 2 - 30, 40);
        return area.draw(&Text::new("no data", centre, (FAMILY, 16)));
    };
    // Integer tick steps: at most one label per epoch.
    let x_labels = ((x_range.end - x_range.start) as usize + 1).min(10);
    let (y_min, y_max) = (y_range.start, y_range.end);

    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(x_labels)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_labels(6)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;

    for line in &lines {
        let style = line.colour.stroke_width(2);
        for (i, segment) in line.segments().into_iter().enumerate() {
            let drawn = chart.draw_series(LineSeries::new(segment, style))?;
            if i == 0 {
                drawn
                    .label(line.label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            }
        }
        let dots = line.finite_points().count() <= 40;
        if dots {
            let colour = line.colour;
            chart.draw_series(
                line.finite_points()
                    .map(move |p| Circle::new(p, 3, colour.filled())),
            )?;
        }
    }

    // Legends go where the curves end least: below them when they finish high
    // (accuracy), above them when they finish low (loss).
    let ends: Vec<f64> = lines
        .iter()
        .filter_map(|l| l.finite_points().last())
        .map(|(_, v)| (v - y_min) / (y_max - y_min))
        .collect();
    let end_height = ends.iter().sum::<f64>() / ends.len() as f64;
    let position = if end_height > 0.5 {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    };
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(190, 190, 190))
        .draw()
}

/// Axis ranges covering `points` with a margin; `None` without points.
fn bounds(
    points: impl Iterator<Item = (f64, f64)>,
) -> Option<(std::ops::Range<f64>, std::ops::Range<f64>)> {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return None;
    }
    if x0 == x1 {
        (x0, x1) = (x0 - 1.0, x1 + 1.0);
    }
    let pad = if y1 > y0 {
        (y1 - y0) * 0.06
    } else {
        (y0.abs() * 0.1).max(0.05)
    };
    Some((x0..x1, y0 - pad..y1 + pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_segments() {
        let line = Line {
            label: "loss".into(),
            epochs: &[1, 2, 3, 4, 5],
            values: &[1.0, f64::NAN, 0.5, 0.4, f64::INFINITY],
            colour: RGBColor(0, 0, 0),
        };
        assert_eq!(
            line.segments(),
            vec![vec![(1.0, 1.0)], vec![(3.0, 0.5), (4.0, 0.4)]]
        );
    }

    #[test]
    fn bounds_pad_flat_and_single_points() {
        let (x, y) = bounds([(3.0, 0.5)].into_iter()).unwrap();
        assert_eq!(x, 2.0..4.0);
        assert!(y.start < 0.5 && y.end > 0.5);
        assert!(bounds(std::iter::empty()).is_none());
    }
}
