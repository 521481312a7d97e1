//! The per-epoch record of a training run, as Keras' `History`, with a CSV form that
//! is written beside the weights and read back on resume.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Named series of per-epoch values (`"loss"`, `"val_accuracy"`, `"lr"`, `"seconds"`, ..).
///
/// Series keep the order in which their names first appeared. A value missing from an
/// epoch (a metric added later, validation run only every few epochs) is stored as NaN
/// and written as an empty CSV field. Equality is that of `f64`, so two histories
/// holding NaN compare unequal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    epochs: Vec<usize>,
    names: Vec<String>,
    /// `values[k][i]` is series `names[k]` at epoch `epochs[i]`.
    values: Vec<Vec<f64>>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one epoch. Names not seen before start a new series (NaN for earlier
    /// epochs); known series without a value here get NaN. If a name is repeated in
    /// `values`, the last value wins.
    pub fn push_epoch(&mut self, epoch: usize, values: &[(&str, f64)]) {
        for series in &mut self.values {
            series.push(f64::NAN);
        }
        self.epochs.push(epoch);
        for &(name, value) in values {
            let k = self.index_or_insert(name);
            let last = self.epochs.len() - 1;
            self.values[k][last] = value;
        }
    }

    /// Epoch numbers, one per recorded epoch, in order.
    pub fn epochs(&self) -> &[usize] {
        &self.epochs
    }

    /// Series names in order of first appearance.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// All values of series `name`, aligned with [`epochs`](Self::epochs).
    pub fn series(&self, name: &str) -> Option<&[f64]> {
        self.index(name).map(|k| self.values[k].as_slice())
    }

    /// The value of `name` at the last epoch, if the series exists and is not NaN there.
    pub fn last(&self, name: &str) -> Option<f64> {
        self.series(name)?.last().copied().filter(|v| !v.is_nan())
    }

    /// Number of recorded epochs.
    pub fn len(&self) -> usize {
        self.epochs.len()
    }

    /// True when no epoch has been recorded.
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }

    /// Keeps only the first `epochs` recorded epochs, e.g. to drop epochs logged after
    /// the checkpoint a run resumes from. Series names are kept.
    pub fn truncate(&mut self, epochs: usize) {
        self.epochs.truncate(epochs);
        for series in &mut self.values {
            series.truncate(epochs);
        }
    }

    /// Writes the history as CSV: a header `epoch,<names...>` and one row per epoch,
    /// NaN as an empty field. The file is written to `<path>.tmp` and renamed over
    /// `path`, so a reader never sees half a file.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let tmp = tmp_path(path);
        self.write_csv_to(&tmp)?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("renaming", path, e))
    }

    /// Reads a history written by [`write_csv`](Self::write_csv).
    ///
    /// Empty fields and `NaN` / `NA` read as NaN. Errors name the file and the line.
    pub fn read_csv(path: impl AsRef<Path>) -> Result<History> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io("reading", path, e))?;
        let mut reader = csv::Reader::from_reader(std::io::BufReader::new(file));
        let header = reader
            .headers()
            .map_err(|e| csv_error(path, e))?
            .iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        let names = match header.split_first() {
            Some((first, names)) if first == "epoch" => names.to_vec(),
            _ => {
                return Err(Error::data(
                    path,
                    "line 1: the header must start with an 'epoch' column",
                ));
            }
        };
        for (i, name) in names.iter().enumerate() {
            if name.is_empty() || names[..i].contains(name) {
                return Err(Error::data(
                    path,
                    format!(
                        "line 1: column {} has an empty or repeated name '{name}'",
                        i + 2
                    ),
                ));
            }
        }

        let mut history = History {
            epochs: Vec::new(),
            values: vec![Vec::new(); names.len()],
            names,
        };
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(path, e))?;
            let line = record.position().map_or(0, |p| p.line());
            let epoch = record[0].trim().parse::<usize>().map_err(|_| {
                Error::data(
                    path,
                    format!("line {line}: bad epoch number '{}'", &record[0]),
                )
            })?;
            history.epochs.push(epoch);
            for (k, field) in record.iter().skip(1).enumerate() {
                let value = parse_value(field).ok_or_else(|| {
                    Error::data(
                        path,
                        format!(
                            "line {line}: bad value '{field}' for '{}'",
                            history.names[k]
                        ),
                    )
                })?;
                history.values[k].push(value);
            }
        }
        Ok(history)
    }

    fn write_csv_to(&self, tmp: &Path) -> Result<()> {
        let write_err = |e: csv::Error| match e.into_kind() {
            csv::ErrorKind::Io(e) => Error::io("writing", tmp, e),
            other => Error::data(tmp, format!("{other:?}")),
        };
        let mut writer = csv::Writer::from_path(tmp).map_err(write_err)?;
        let header = std::iter::once("epoch").chain(self.names.iter().map(String::as_str));
        writer.write_record(header).map_err(write_err)?;
        for (i, epoch) in self.epochs.iter().enumerate() {
            let row = std::iter::once(epoch.to_string()).chain(self.values.iter().map(|s| {
                // `{}` prints the shortest string that parses back to the same f64.
                if s[i].is_nan() {
                    String::new()
                } else {
                    s[i].to_string()
                }
            }));
            writer.write_record(row).map_err(write_err)?;
        }
        writer.flush().map_err(|e| Error::io("writing", tmp, e))
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn index_or_insert(&mut self, name: &str) -> usize {
        self.index(name).unwrap_or_else(|| {
            self.names.push(name.to_owned());
            self.values.push(vec![f64::NAN; self.epochs.len()]);
            self.names.len() - 1
        })
    }
}

/// `<path>.tmp`, beside `path`.
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// A value field: a float, or empty / `NaN` / `NA` for a missing value.
fn parse_value(field: &str) -> Option<f64> {
    match field.trim() {
        "" | "NA" | "NaN" | "nan" => Some(f64::NAN),
        s => s.parse().ok(),
    }
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
    match (e.into_kind(), line) {
        (csv::ErrorKind::Io(e), _) => Error::io("reading", path, e),
        (
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            },
            Some(line),
        ) => Error::data(
            path,
            format!("line {line}: {len} fields, but the header has {expected_len}"),
        ),
        (kind, Some(line)) => Error::data(path, format!("line {line}: {kind:?}")),
        (kind, None) => Error::data(path, format!("{kind:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let mut h = History::new();
        h.push_epoch(1, &[("loss", 2.25), ("accuracy", 0.1), ("lr", 0.01)]);
        h.push_epoch(2, &[("loss", 1.25), ("accuracy", 0.55), ("lr", 0.01)]);
        h.push_epoch(
            3,
            &[("loss", 0.1 + 0.2), ("accuracy", 0.875), ("lr", 0.001)],
        );
        h
    }

    #[test]
    fn records_series_in_order() {
        let h = sample();
        assert_eq!(h.len(), 3);
        assert_eq!(h.epochs(), &[1, 2, 3]);
        assert_eq!(h.names(), &["loss", "accuracy", "lr"]);
        assert_eq!(h.series("accuracy"), Some(&[0.1, 0.55, 0.875][..]));
        assert_eq!(h.last("lr"), Some(0.001));
        assert_eq!(h.series("val_loss"), None);
    }

    #[test]
    fn late_and_missing_values_are_nan() {
        let mut h = sample();
        h.push_epoch(4, &[("loss", 0.2), ("val_loss", 0.4)]);
        let val = h.series("val_loss").unwrap();
        assert_eq!(val.len(), 4);
        assert!(val[..3].iter().all(|v| v.is_nan()));
        assert_eq!(val[3], 0.4);
        assert!(h.series("accuracy").unwrap()[3].is_nan());
        assert_eq!(h.last("accuracy"), None);
    }

    #[test]
    fn csv_round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.csv");
        let h = sample();
        h.write_csv(&path).unwrap();
        assert!(!dir.path().join("history.csv.tmp").exists());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("epoch,loss,accuracy,lr\n1,2.25,0.1,0.01\n"));
        assert_eq!(History::read_csv(&path).unwrap(), h);
    }

    #[test]
    fn csv_round_trip_keeps_nan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.csv");
        let mut h = sample();
        h.push_epoch(4, &[("val_loss", 0.5)]);
        h.write_csv(&path).unwrap();
        let back = History::read_csv(&path).unwrap();
        assert_eq!(back.names(), h.names());
        assert_eq!(back.epochs(), h.epochs());
        for name in h.names() {
            let (a, b) = (h.series(name).unwrap(), back.series(name).unwrap());
            assert!(
                a.iter()
                    .zip(b)
                    .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
            );
        }
    }

    #[test]
    fn truncate_drops_later_epochs() {
        let mut h = sample();
        h.truncate(2);
        assert_eq!(h.epochs(), &[1, 2]);
        assert_eq!(h.last("loss"), Some(1.25));
        h.push_epoch(3, &[("loss", 0.9)]);
        assert_eq!(h.series("loss"), Some(&[2.25, 1.25, 0.9][..]));
    }

    #[test]
    fn read_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, "epoch,loss\n1,0.5\n2,oops\n").unwrap();
        let msg = History::read_csv(&path).unwrap_err().to_string();
        assert!(msg.contains("bad.csv") && msg.contains("line 3") && msg.contains("oops"));

        std::fs::write(&path, "epoch,loss\n1,0.5,7\n").unwrap();
        let msg = History::read_csv(&path).unwrap_err().to_string();
        assert!(msg.contains("line 2"), "{msg}");

        std::fs::write(&path, "step,loss\n1,0.5\n").unwrap();
        let msg = History::read_csv(&path).unwrap_err().to_string();
        assert!(msg.contains("line 1") && msg.contains("epoch"), "{msg}");

        let missing = dir.path().join("missing.csv");
        let msg = History::read_csv(&missing).unwrap_err().to_string();
        assert!(msg.contains("missing.csv"), "{msg}");
    }

    #[test]
    fn serde_round_trip() {
        let h = sample();
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<History>(&json).unwrap(), h);
    }
}
