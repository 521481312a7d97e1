//! Datasets, readers and preprocessing (SPEC F7).

mod dataset;

pub use dataset::{Dataset, Targets};
