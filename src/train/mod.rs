//! Training support: metrics and the per-epoch [`History`].

mod history;
pub mod metrics;

pub use history::History;
