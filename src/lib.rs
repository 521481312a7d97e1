//! manabi: deep learning with fewer labels, on Burn.
//!
//! The crate is laid out by concept: [`data`] (datasets, readers, preprocessing),
//! [`model`] (layers, Sequential), [`losses`], [`optim`] (optimisers and schedules),
//! [`domain`] (domain adaptation: gradient reversal, MMD),
//! [`train`] (fit / evaluate / predict, metrics, history), [`plot`] (PNG figures),
//! [`recipe`] (the TOML experiment description) and [`run`] (a recipe's run folder).

pub mod augment;
pub mod clip;
pub mod contrastive;
pub mod data;
pub mod domain;
mod error;
pub mod gpu;
pub mod kernels;
pub mod lm;
pub mod losses;
pub mod metric;
pub mod model;
pub mod optim;
pub mod plot;
pub mod recipe;
#[cfg(feature = "remote")]
pub mod remote;
pub mod run;
pub mod semi;
pub mod seq2seq;
pub mod ssl;
pub mod train;
pub mod transfer;

pub use error::{Error, Result};
