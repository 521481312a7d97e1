//! manabi: deep learning with fewer labels, on Burn.
//!
//! The crate is laid out by concept: [`data`] (datasets, readers, preprocessing),
//! [`model`] (layers, Sequential), [`losses`], [`optim`] (optimisers and schedules),
//! [`train`] (fit / evaluate / predict, metrics, history, plots) and [`recipe`]
//! (the TOML experiment description).

pub mod data;
mod error;
pub mod plot;
pub mod train;

pub use error::{Error, Result};
