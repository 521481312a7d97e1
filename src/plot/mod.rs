//! Plots of training histories, confusion matrices and embeddings, written as PNG.
//!
//! Text is drawn with the DejaVu Sans font embedded in the crate, so plotting needs no
//! system fonts. Every file is drawn beside its destination and renamed into place.

mod attention;
mod canvas;
mod compare;
mod confusion;
mod curves;
mod font;
mod image_grid;
mod palette;
mod panel;
mod roc;
mod scatter;

pub use attention::plot_attention;
pub use compare::plot_compare;
pub use confusion::plot_confusion;
pub use curves::plot_curves;
pub use image_grid::{Picture, plot_image_grid};
pub use roc::plot_roc;
pub use scatter::{plot_embedding_2d, plot_groups_2d};

#[cfg(test)]
mod gallery;
