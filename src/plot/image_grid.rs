//! A grid of small images (e.g. originals and their augmented views), drawn enlarged.

use std::path::Path;

use plotters::prelude::*;

use super::canvas::{self, render_png};
use super::font::FAMILY;
use crate::Result;

/// Screen pixels per image pixel.
const ZOOM: u32 = 4;
/// Space between cells and around the grid.
const GAP: u32 = 8;
/// Height of the title and of the column captions.
const CAPTION: u32 = 28;

/// One image of the grid: `[channels, height, width]` values in `[0, 1]` (1 channel: grey,
/// 3: RGB).
#[derive(Debug, Clone, Copy)]
pub struct Picture<'a> {
    /// `[c, h, w]`.
    pub shape: [usize; 3],
    /// `c * h * w` values, channel by channel.
    pub values: &'a [f32],
}

/// Draws `rows` of pictures under `columns` captions and `title` to the PNG `path`.
pub fn plot_image_grid(
    rows: &[Vec<Picture>],
    columns: &[String],
    path: &Path,
    title: &str,
) -> Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    if rows.is_empty() || cols == 0 {
        return Err(canvas::invalid(path, "no images to draw"));
    }
    for p in rows.iter().flatten() {
        let [c, h, w] = p.shape;
        if !(c == 1 || c == 3) || p.values.len() != c * h * w {
            return Err(canvas::invalid(
                path,
                format!(
                    "a picture of shape {:?} has {} values (1 or 3 channels)",
                    p.shape,
                    p.values.len()
                ),
            ));
        }
    }
    let cell_h = rows.iter().flatten().map(|p| p.shape[1]).max().unwrap_or(1) as u32 * ZOOM;
    let cell_w = rows.iter().flatten().map(|p| p.shape[2]).max().unwrap_or(1) as u32 * ZOOM;
    let width = (GAP + cell_w) * cols as u32 + GAP;
    let height = 2 * CAPTION + (GAP + cell_h) * rows.len() as u32 + GAP;
    render_png(path, (width.max(300), height), |root| {
        root.draw(&Text::new(title.to_string(), (GAP as i32, 4), (FAMILY, 18)))?;
        for (k, caption) in columns.iter().enumerate().take(cols) {
            let x = (GAP + k as u32 * (GAP + cell_w)) as i32;
            root.draw(&Text::new(
                caption.clone(),
                (x, CAPTION as i32 + 4),
                (FAMILY, 13),
            ))?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (k, p) in row.iter().enumerate() {
                let x0 = GAP + k as u32 * (GAP + cell_w);
                let y0 = 2 * CAPTION + GAP + r as u32 * (GAP + cell_h);
                draw_picture(root, p, (x0 as i32, y0 as i32))?;
            }
        }
        Ok(())
    })
}

fn draw_picture(root: &canvas::Area, p: &Picture, (x0, y0): (i32, i32)) -> canvas::DrawResult<()> {
    let [c, h, w] = p.shape;
    let level = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let z = ZOOM as i32;
    for y in 0..h {
        for x in 0..w {
            let at = |k: usize| level(p.values[k * h * w + y * w + x]);
            let colour = match c {
                3 => RGBColor(at(0), at(1), at(2)),
                _ => RGBColor(at(0), at(0), at(0)),
            };
            let (px, py) = (x0 + x as i32 * z, y0 + y as i32 * z);
            root.draw(&Rectangle::new(
                [(px, py), (px + z, py + z)],
                colour.filled(),
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::canvas::tests::assert_png;

    #[test]
    fn draws_grey_and_colour_and_rejects_bad_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let grey: Vec<f32> = (0..64).map(|i| i as f32 / 63.0).collect();
        let rgb: Vec<f32> = (0..3 * 64).map(|i| (i % 64) as f32 / 63.0).collect();
        let rows = vec![
            vec![
                Picture {
                    shape: [1, 8, 8],
                    values: &grey,
                },
                Picture {
                    shape: [3, 8, 8],
                    values: &rgb,
                },
            ],
            vec![Picture {
                shape: [1, 8, 8],
                values: &grey,
            }],
        ];
        let path = dir.path().join("grid.png");
        plot_image_grid(&rows, &["original".into(), "view 1".into()], &path, "views").unwrap();
        assert_png(&path);
        let bad = vec![vec![Picture {
            shape: [2, 8, 8],
            values: &grey,
        }]];
        assert!(plot_image_grid(&bad, &[], &dir.path().join("bad.png"), "x").is_err());
    }
}
