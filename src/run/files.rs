//! The files of a run folder and atomic writes.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Paths inside a run folder.
#[derive(Debug, Clone)]
pub struct RunFiles {
    /// The folder.
    pub dir: PathBuf,
}

impl RunFiles {
    /// The run folder at `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
    /// The recipe as run.
    pub fn recipe(&self) -> PathBuf {
        self.dir.join("recipe.toml")
    }
    /// Final weights.
    pub fn model(&self) -> PathBuf {
        self.dir.join("model.bpk")
    }
    /// Fitted preprocessing statistics.
    pub fn preprocess(&self) -> PathBuf {
        self.dir.join("preprocess.json")
    }
    /// Per-epoch history.
    pub fn history(&self) -> PathBuf {
        self.dir.join("history.csv")
    }
    /// Final test metrics.
    pub fn metrics(&self) -> PathBuf {
        self.dir.join("metrics.json")
    }
    /// Learning curves.
    pub fn curves(&self) -> PathBuf {
        self.dir.join("curves.png")
    }
    /// Confusion matrix (classification).
    pub fn confusion(&self) -> PathBuf {
        self.dir.join("confusion.png")
    }
    /// The model summary as text.
    pub fn summary(&self) -> PathBuf {
        self.dir.join("summary.txt")
    }
    /// The checkpoint folder.
    pub fn checkpoint(&self) -> PathBuf {
        self.dir.join("checkpoint")
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that readers and a
/// crash never see a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes).map_err(|e| Error::io("writing", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io("renaming", &tmp, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"1").unwrap();
        write_atomic(&p, b"22").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"22");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_errors_name_the_file() {
        let err = write_atomic(Path::new("/nonexistent-dir/x.json"), b"1").unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/x.json"), "{err}");
    }
}
