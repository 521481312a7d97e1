//! Plots of training histories, confusion matrices and embeddings, written as PNG.
