//! Loading a CSV table with a header row and one label column.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::gzip::read_maybe_gzip;
use super::{Dataset, Targets};
use crate::{Error, Result};

/// What the label column holds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CsvTask {
    /// Class labels: non-negative integers (used as they are) or strings (sorted and
    /// numbered `0..k`, the strings becoming the class names).
    Classification,
    /// One real-valued target per row.
    Regression,
}

/// Where a CSV table is and which column holds the target.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CsvSpec {
    /// The CSV file (comma-separated, header row required; may be gzip-compressed).
    pub path: PathBuf,
    /// Header name of the target column; every other column is a numeric feature.
    pub label_column: String,
    /// Classification or regression.
    pub task: CsvTask,
}

/// Loads a CSV table as a data set with samples of shape `[columns - 1]`.
///
/// # Errors
/// [`Error::Data`] naming the file when the label column is missing (listing the
/// columns there are), a row has the wrong number of fields, or a feature (or a
/// regression target) is not a number (naming the line and the column).
pub fn load_csv(spec: &CsvSpec) -> Result<Dataset> {
    let path = spec.path.as_path();
    let bytes = read_maybe_gzip(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let label_at = header
        .iter()
        .position(|h| *h == spec.label_column)
        .ok_or_else(|| {
            Error::data(
                path,
                format!(
                    "no column '{}'; the columns are: {}",
                    spec.label_column,
                    header.join(", ")
                ),
            )
        })?;

    let mut features = Vec::new();
    let mut raw_labels = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        for (col, field) in record.iter().enumerate() {
            if col == label_at {
                raw_labels.push((line, field.to_string()));
            } else {
                features.push(parse_number(field, path, line, &header[col])?);
            }
        }
    }
    if raw_labels.is_empty() {
        return Err(Error::data(path, "no data rows after the header"));
    }
    if header.len() < 2 {
        return Err(Error::data(
            path,
            "the label column is the only column; there are no features",
        ));
    }

    let (targets, class_names) = match spec.task {
        CsvTask::Classification => class_targets(&raw_labels),
        CsvTask::Regression => {
            let values = raw_labels
                .iter()
                .map(|(line, s)| parse_number(s, path, *line, &spec.label_column))
                .collect::<Result<Vec<f32>>>()?;
            (Targets::Regression { values, dims: 1 }, None)
        }
    };
    let mut data = Dataset::new(features, vec![header.len() - 1], targets)?;
    data.class_names = class_names;
    Ok(data)
}

/// Gives `test` the class numbering of `train` (files read apart number their classes
/// apart): string labels are mapped by name, integer labels must exist in training.
pub fn align_classes(train: &Dataset, test: &mut Dataset, test_path: &Path) -> Result<()> {
    let (
        Targets::Classes {
            num_classes: train_k,
            ..
        },
        Targets::Classes {
            labels,
            num_classes,
        },
    ) = (&train.targets, &mut test.targets)
    else {
        return Ok(());
    };
    match (&train.class_names, &test.class_names) {
        (Some(train_names), Some(test_names)) => {
            for l in labels.iter_mut() {
                let name = &test_names[*l as usize];
                *l = train_names.iter().position(|n| n == name).ok_or_else(|| {
                    Error::data(
                        test_path,
                        format!("class '{name}' does not occur in the training file"),
                    )
                })? as u32;
            }
        }
        (None, None) => {
            if let Some(bad) = labels.iter().find(|&&l| l as usize >= *train_k) {
                return Err(Error::data(
                    test_path,
                    format!(
                        "class {bad} does not occur in the training file (classes 0..{train_k})"
                    ),
                ));
            }
        }
        _ => {
            return Err(Error::data(
                test_path,
                "the labels are names in one file and integers in the other",
            ));
        }
    }
    *num_classes = *train_k;
    test.class_names = train.class_names.clone();
    Ok(())
}

/// Integer labels are used as they are; otherwise the sorted distinct strings are numbered.
fn class_targets(raw: &[(u64, String)]) -> (Targets, Option<Vec<String>>) {
    let ints: Option<Vec<u32>> = raw.iter().map(|(_, s)| s.parse::<u32>().ok()).collect();
    if let Some(labels) = ints {
        let num_classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
        return (
            Targets::Classes {
                labels,
                num_classes,
            },
            None,
        );
    }
    let mut names: Vec<String> = raw.iter().map(|(_, s)| s.clone()).collect();
    names.sort();
    names.dedup();
    let labels = raw
        .iter()
        .map(|(_, s)| names.binary_search(s).expect("name is in the list") as u32)
        .collect();
    (
        Targets::Classes {
            labels,
            num_classes: names.len(),
        },
        Some(names),
    )
}

fn parse_number(field: &str, path: &Path, line: u64, column: &str) -> Result<f32> {
    field.parse::<f32>().map_err(|_| {
        Error::data(
            path,
            format!("line {line}, column '{column}': '{field}' is not a number"),
        )
    })
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::data(path, format!("malformed CSV: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("table.csv");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn spec(path: PathBuf, label: &str, task: CsvTask) -> CsvSpec {
        CsvSpec {
            path,
            label_column: label.to_string(),
            task,
        }
    }

    #[test]
    fn string_labels_become_sorted_classes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "a,species,b\n1,setosa,2\n3,virginica,4\n5, setosa ,6\n",
        );
        let data = load_csv(&spec(path, "species", CsvTask::Classification)).unwrap();
        assert_eq!(data.sample_shape, vec![2]);
        assert_eq!(data.features, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(
            data.targets,
            Targets::Classes {
                labels: vec![0, 1, 0],
                num_classes: 2
            }
        );
        assert_eq!(data.class_names.unwrap(), ["setosa", "virginica"]);
    }

    #[test]
    fn test_files_take_the_training_class_numbering() {
        let dir = tempfile::tempdir().unwrap();
        let train_path = dir.path().join("train.csv");
        std::fs::write(&train_path, "x,y\n1,ant\n2,bee\n3,cat\n").unwrap();
        let test_path = dir.path().join("test.csv");
        std::fs::write(&test_path, "x,y\n4,cat\n5,cat\n").unwrap();
        let train = load_csv(&spec(train_path, "y", CsvTask::Classification)).unwrap();
        let mut test = load_csv(&spec(test_path.clone(), "y", CsvTask::Classification)).unwrap();
        align_classes(&train, &mut test, &test_path).unwrap();
        assert_eq!(
            test.targets,
            Targets::Classes {
                labels: vec![2, 2],
                num_classes: 3
            }
        );
        std::fs::write(&test_path, "x,y\n4,dog\n").unwrap();
        let mut test = load_csv(&spec(test_path.clone(), "y", CsvTask::Classification)).unwrap();
        let err = align_classes(&train, &mut test, &test_path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("dog") && err.contains("test.csv"), "{err}");
    }

    #[test]
    fn integer_labels_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "y,x\n2,0.5\n0,1.5\n");
        let data = load_csv(&spec(path, "y", CsvTask::Classification)).unwrap();
        assert_eq!(
            data.targets,
            Targets::Classes {
                labels: vec![2, 0],
                num_classes: 3
            }
        );
        assert!(data.class_names.is_none());
    }

    #[test]
    fn regression_targets() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "x1,x2,price\n1,2,3.5\n4,5,-6\n");
        let data = load_csv(&spec(path, "price", CsvTask::Regression)).unwrap();
        assert_eq!(
            data.targets,
            Targets::Regression {
                values: vec![3.5, -6.0],
                dims: 1
            }
        );
    }

    #[test]
    fn non_numeric_value_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "x1,x2,y\n1,2,0\n3,oops,1\n");
        let msg = load_csv(&spec(path, "y", CsvTask::Classification))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("table.csv"), "{msg}");
        assert!(msg.contains("line 3, column 'x2': 'oops'"), "{msg}");
    }

    #[test]
    fn missing_label_column_lists_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "x1,x2,y\n1,2,0\n");
        let msg = load_csv(&spec(path, "label", CsvTask::Classification))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("no column 'label'") && msg.contains("x1, x2, y"),
            "{msg}"
        );
    }

    #[test]
    fn ragged_rows_and_empty_tables_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "x,y\n1,2\n3\n");
        assert!(load_csv(&spec(path, "y", CsvTask::Regression)).is_err());
        let path = write(&dir, "x,y\n");
        let msg = load_csv(&spec(path, "y", CsvTask::Regression))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no data rows"), "{msg}");
    }

    #[test]
    fn spec_rejects_unknown_keys() {
        let ok: CsvSpec =
            toml::from_str("path = \"a.csv\"\nlabel_column = \"y\"\ntask = \"regression\"")
                .unwrap();
        assert_eq!(ok.task, CsvTask::Regression);
        let bad = toml::from_str::<CsvSpec>(
            "path = \"a.csv\"\nlabel_column = \"y\"\ntask = \"regression\"\nlabels = 1",
        );
        assert!(bad.is_err());
    }
}
