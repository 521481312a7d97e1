//! Predicting with a finished run on new inputs (CSV rows or an IDX image file).

use std::path::Path;

use burn::tensor::Device;

use super::train_run::{TrainedRun, load_trained_model};
use crate::data::{Dataset, Targets, read_idx_images, read_maybe_gzip};
use crate::train::{predict, predicted_classes};
use crate::{Error, Result};

/// Model outputs for every input row.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// `rows * width` outputs (probabilities or regression values).
    pub outputs: Vec<f32>,
    /// Outputs per row.
    pub width: usize,
    /// Predicted class per row (classification).
    pub classes: Option<Vec<u32>>,
    /// Class names, when the training data had them.
    pub class_names: Option<Vec<String>>,
}

/// Predicts with the run in `dir` on `input`.
///
/// For a text run, `input` is a file with one text per line (blank lines are skipped) or,
/// when no such file exists, the text itself. Otherwise it names an IDX image file
/// (`*-ubyte[.gz]`) or a CSV of raw feature rows (optional header), preprocessed as in
/// training.
pub fn predict_run(dir: &Path, input: &str, device: &Device) -> Result<Predictions> {
    let TrainedRun {
        recipe,
        model,
        preprocessors,
        text,
    } = load_trained_model(dir, device)?;
    let mut data = match &text {
        Some(encoding) => encoding.encode(&read_texts(input)?)?,
        None => {
            let raw_shape = raw_input_shape(model.input_shape(), &preprocessors);
            load_inputs(Path::new(input), &raw_shape)?
        }
    };
    for p in &preprocessors {
        p.transform(&mut data)?;
    }
    let outputs = predict(&model, recipe.training.loss, &data, 512, device);
    let width = outputs.len() / data.len();
    let classification = !matches!(recipe.training.loss, crate::losses::LossConfig::Mse);
    Ok(Predictions {
        classes: classification.then(|| predicted_classes(&outputs, width)),
        outputs,
        width,
        class_names: class_names(dir),
    })
}

/// Texts given on the command line: the non-blank lines of the file `input`, or, when no
/// such file exists, `input` itself.
///
/// # Errors
/// [`Error::Io`] for an unreadable file; [`Error::Data`] when every line is blank.
pub fn read_texts(input: &str) -> Result<Vec<String>> {
    let path = Path::new(input);
    if !path.is_file() {
        return Ok(vec![input.to_string()]);
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    let texts: Vec<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if texts.is_empty() {
        return Err(Error::data(path, "no text: every line is blank"));
    }
    Ok(texts)
}

fn class_names(dir: &Path) -> Option<Vec<String>> {
    let text = std::fs::read(dir.join("classes.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The shape the raw input must have: the model's input before PCA shrank it.
fn raw_input_shape(model_input: &[usize], pre: &[crate::data::Preprocessor]) -> Vec<usize> {
    for p in pre {
        if let crate::data::Preprocessor::Pca { mean, .. } = p {
            return vec![mean.len()];
        }
    }
    model_input.to_vec()
}

/// Reads inputs without labels, checking they have `sample_shape` values per row.
pub fn load_inputs(path: &Path, sample_shape: &[usize]) -> Result<Dataset> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let sample_len: usize = sample_shape.iter().product();
    let (features, n) = if name.contains("ubyte") {
        let (pixels, [count, rows, cols]) = read_idx_images(path)?;
        if rows * cols != sample_len {
            return Err(Error::data(
                path,
                format!(
                    "images are {rows}x{cols} but the model expects samples of shape {sample_shape:?}"
                ),
            ));
        }
        (pixels.into_iter().map(f32::from).collect(), count)
    } else {
        read_csv_rows(path, sample_len)?
    };
    if n == 0 {
        return Err(Error::data(path, "no input rows"));
    }
    Dataset::new(
        features,
        sample_shape.to_vec(),
        Targets::Regression {
            values: vec![0.0; n],
            dims: 1,
        },
    )
}

fn read_csv_rows(path: &Path, sample_len: usize) -> Result<(Vec<f32>, usize)> {
    let bytes = read_maybe_gzip(path)?;
    let text =
        String::from_utf8(bytes).map_err(|e| Error::data(path, format!("not UTF-8: {e}")))?;
    let mut features = Vec::new();
    let mut n = 0;
    let mut seen_header = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let cells: Vec<&str> = line
            .split([',', ' ', '\t'])
            .filter(|c| !c.is_empty())
            .collect();
        let parsed: std::result::Result<Vec<f32>, _> =
            cells.iter().map(|c| c.parse::<f32>()).collect();
        match parsed {
            Err(_) if features.is_empty() && !seen_header => {
                seen_header = true; // a header line
                continue;
            }
            Err(e) => return Err(Error::data(path, format!("line {}: {e}", i + 1))),
            Ok(v) if v.len() != sample_len => {
                return Err(Error::data(
                    path,
                    format!(
                        "line {} has {} values but the model expects {sample_len}",
                        i + 1,
                        v.len()
                    ),
                ));
            }
            Ok(v) => {
                features.extend(v);
                n += 1;
            }
        }
    }
    Ok((features, n))
}
