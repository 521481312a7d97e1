//! The PNG canvas plots draw on: font set-up, atomic file writing and error mapping.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

use super::font;
use crate::{Error, Result};

/// A drawing area on the bitmap being rendered.
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// The result of plotters' drawing calls.
pub(crate) type DrawResult<T> = std::result::Result<
    T,
    DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>,
>;

/// Renders a `width` x `height` PNG with `draw` on a white background and moves it to
/// `path`.
///
/// The image is drawn to `<path>.tmp.png` (the encoder picks the format from the
/// extension) and renamed, so a viewer refreshing `path` never sees half an image.
pub(crate) fn render_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area) -> DrawResult<()>,
) -> Result<()> {
    font::register()?;
    let tmp = tmp_path(path);
    // Creating the file here turns an unwritable destination into an I/O error naming
    // it, rather than an opaque encoder error after all the drawing.
    std::fs::File::create(&tmp).map_err(|e| Error::io("writing", &tmp, e))?;
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()
    })();
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::invalid(
            format!("plot {}", path.display()),
            format!("drawing failed: {e}"),
        ));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io("renaming", path, e))
}

/// An [`Error::Invalid`] about the plot to be written at `path`.
pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Error {
    Error::invalid(format!("plot {}", path.display()), message)
}

/// Grid of `rows` x `cols` panels for `n` panels, at most three per row.
pub(crate) fn grid(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, 3);
    (n.div_ceil(cols).max(1), cols)
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp.png");
    PathBuf::from(name)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Asserts that `path` holds a PNG of plausible size.
    pub(crate) fn assert_png(path: &Path) {
        let bytes = std::fs::read(path).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{path:?} is not a PNG"
        );
        assert!(
            bytes.len() > 2_000,
            "{path:?} is only {} bytes",
            bytes.len()
        );
        assert!(bytes.len() < 5_000_000, "{path:?} is {} bytes", bytes.len());
    }

    #[test]
    fn grid_shapes() {
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(2), (1, 2));
        assert_eq!(grid(3), (1, 3));
        assert_eq!(grid(4), (2, 3));
        assert_eq!(grid(7), (3, 3));
    }

    #[test]
    fn unwritable_destination_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/plot.png");
        let err = render_png(&path, (100, 100), |_| Ok(())).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert!(err.to_string().contains("plot.png"), "{err}");
    }

    #[test]
    fn writes_png_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blank.png");
        render_png(&path, (64, 48), |_| Ok(())).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
