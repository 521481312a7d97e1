//! The embedded font, registered with plotters once per process.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use crate::{Error, Result};

/// Family name under which the embedded font is registered; use it in every text style.
pub(crate) const FAMILY: &str = "sans-serif";

/// DejaVu Sans (see `assets/fonts/DejaVu-LICENSE.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font as [`FAMILY`]; later calls return the first outcome.
pub(crate) fn register() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "plot font",
            "the embedded DejaVuSans.ttf could not be parsed",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_repeatedly() {
        register().unwrap();
        register().unwrap();
    }
}
