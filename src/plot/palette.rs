//! Series and class colours.

use plotters::style::{Color, HSLColor, RGBColor};

/// Matplotlib's "tab10" colours, easy to tell apart and familiar to readers.
const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour `i` of `n` distinct ones: tab10 up to ten, evenly spaced hues beyond.
pub(crate) fn colour(i: usize, n: usize) -> RGBColor {
    if n <= TAB10.len() {
        TAB10[i % TAB10.len()]
    } else {
        let (r, g, b) = HSLColor(i as f64 / n as f64, 0.65, 0.45).rgb();
        RGBColor(r, g, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_distinct() {
        for n in [3, 10, 40] {
            let all: Vec<RGBColor> = (0..n).map(|i| colour(i, n)).collect();
            for i in 0..n {
                for j in 0..i {
                    assert_ne!(all[i], all[j], "colours {i} and {j} of {n}");
                }
            }
        }
    }
}
