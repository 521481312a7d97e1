//! Transfer learning (SPEC T1-T2): a model starts from another run's layers, then trains all of
//! them, only the new head, or chosen layers, at per-layer learning rates; or a classic
//! classifier (linear SVM, nearest neighbour) is fitted on the features its backbone extracts.

mod ann;
mod init;
mod knn;
mod svm;
mod tuned_parts;

pub use ann::{NeighbourSearch, hnsw_neighbours, query_recall, recall_at_k};
pub use init::{Transferred, attach_tuning, init_from_run, load_source};
pub use knn::{
    knn_predict, nearest_neighbours, nearest_neighbours_of, nearest_references, vote_neighbours,
};
pub use svm::LinearSvm;
pub use tuned_parts::{TunedParts, tuned_parts, with_tuned_parts};
