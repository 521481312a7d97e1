//! Transfer learning (SPEC T1-T2): a model starts from another run's layers, then trains all of
//! them, only the new head, or chosen layers, at per-layer learning rates.

mod init;

pub use init::{Transferred, init_from_run};
