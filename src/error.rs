//! The library's error type: every I/O, data, recipe and model problem names the file,
//! field or layer that caused it and says what to do.

use std::path::PathBuf;

/// Errors returned by the manabi library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{action} {}", path.display())]
    Io {
        /// What we were doing ("reading", "writing", "renaming").
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A data file exists but its content is wrong (truncated, bad magic, bad value).
    #[error("bad data in {}: {message}", path.display())]
    Data {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Some files of a dataset are missing.
    #[error(
        "dataset '{dataset}' not found in {}: missing {}.\n{hint}",
        dir.display(),
        missing.join(", ")
    )]
    MissingDataset {
        /// Dataset name.
        dataset: String,
        /// Directory searched.
        dir: PathBuf,
        /// Files (relative to `dir`) that were not found.
        missing: Vec<String>,
        /// Where the data is published and how to point manabi at it.
        hint: String,
    },
    /// A recipe (TOML) is malformed, has an unknown key or a value of the wrong type.
    #[error("recipe {source_name}: {message}")]
    Recipe {
        /// File name or "<inline>".
        source_name: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A model cannot be built: a layer's input shape does not fit.
    #[error("layer {index} ({layer}): {message}")]
    Shape {
        /// Position in the model (0-based).
        index: usize,
        /// The layer's kind, e.g. "dense".
        layer: String,
        /// What does not fit, with both shapes.
        message: String,
    },
    /// An invalid setting (value out of range, inconsistent options).
    #[error("invalid {what}: {message}")]
    Invalid {
        /// The setting concerned, e.g. "training.batch_size".
        what: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The loss became NaN or infinite.
    #[error(
        "the loss became {value} at epoch {epoch}, step {step}; training stopped (last good checkpoint: {checkpoint}). Try a smaller learning rate or gradient clipping."
    )]
    NonFiniteLoss {
        /// Epoch (1-based).
        epoch: usize,
        /// Step within the epoch (1-based).
        step: usize,
        /// The value seen ("NaN" or "inf").
        value: String,
        /// Folder holding the last good checkpoint, or a note that there is none.
        checkpoint: String,
    },
    /// Saving or loading model weights failed.
    #[error("weights {}: {message}", path.display())]
    Record {
        /// The weights file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Data`] for `path`.
    pub fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data {
            path: path.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Invalid`].
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }
}
