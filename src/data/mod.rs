//! Datasets, readers and preprocessing (SPEC F7).

mod builtin;
mod dataset;
mod gzip;
mod idx;

pub use builtin::{DatasetName, Splits, load_builtin};
pub use dataset::{Dataset, Targets};
pub use gzip::read_maybe_gzip;
pub use idx::{read_idx_images, read_idx_labels};
