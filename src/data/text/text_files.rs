//! The user's own labelled text: a folder per class, or a CSV file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Texts, their class indices, and the class names (index `i` is `names[i]`).
pub type LabelledTexts = (Vec<String>, Vec<u32>, Vec<String>);

/// Reads a folder holding one subfolder per class, each with `.txt` files (one text per
/// file), like `aclImdb/train/` with its `neg/` and `pos/`.
///
/// Classes are the subfolder names in sorted order (hidden folders, starting with `.`, are
/// skipped); texts come class after class, files sorted by name; other files are ignored.
/// Bytes that are not valid UTF-8 are replaced by U+FFFD.
///
/// # Errors
/// [`Error::Io`] naming the folder or file that cannot be read; [`Error::Data`] naming
/// the folder when it has no class subfolder or a class has no `.txt` file.
pub fn read_text_folder(dir: &Path) -> Result<LabelledTexts> {
    let class_dirs: Vec<PathBuf> = sorted_entries(dir)?
        .into_iter()
        .filter(|p| p.is_dir() && !file_name(p).starts_with('.'))
        .collect();
    if class_dirs.is_empty() {
        return Err(Error::data(
            dir,
            "no class subfolders (expected one folder of .txt files per class)",
        ));
    }
    let (mut texts, mut labels, mut names) = (Vec::new(), Vec::new(), Vec::new());
    for (label, class_dir) in class_dirs.iter().enumerate() {
        let files: Vec<PathBuf> = sorted_entries(class_dir)?
            .into_iter()
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "txt"))
            .collect();
        if files.is_empty() {
            return Err(Error::data(class_dir, "class folder without any .txt file"));
        }
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| Error::io("reading", &file, e))?;
            texts.push(String::from_utf8_lossy(&bytes).into_owned());
            labels.push(label as u32);
        }
        names.push(file_name(class_dir));
    }
    Ok((texts, labels, names))
}

/// Reads a CSV file with a header row, taking the texts from `text_column` and the labels
/// from `label_column`.
///
/// Class names are the distinct labels (surrounding spaces trimmed) in sorted order, and a
/// text's class index is its label's position among them.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; [`Error::Data`] naming the file when a
/// column is missing (listing the columns there are), a row is malformed or has an empty
/// label, or there are no rows.
pub fn read_text_csv(path: &Path, text_column: &str, label_column: &str) -> Result<LabelledTexts> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                let all: Vec<&str> = headers.iter().collect();
                Error::data(
                    path,
                    format!("no column '{name}' (columns: {})", all.join(", ")),
                )
            })
    };
    let (text_i, label_i) = (column(text_column)?, column(label_column)?);
    let (mut texts, mut raw_labels) = (Vec::new(), Vec::new());
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(row + 2, |p| p.line() as usize);
        let field = |i: usize| {
            record.get(i).ok_or_else(|| {
                Error::data(path, format!("line {line}: only {} fields", record.len()))
            })
        };
        let label = field(label_i)?.trim();
        if label.is_empty() {
            return Err(Error::data(
                path,
                format!("line {line}: empty label in column '{label_column}'"),
            ));
        }
        texts.push(field(text_i)?.to_string());
        raw_labels.push(label.to_string());
    }
    if texts.is_empty() {
        return Err(Error::data(path, "no rows after the header"));
    }
    let names: Vec<String> = raw_labels
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let labels = raw_labels
        .iter()
        .map(|l| names.binary_search(l).expect("every label is a name") as u32)
        .collect();
    Ok((texts, labels, names))
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("reading", path, io),
        kind => Error::data(path, format!("{:?}", kind)),
    }
}

/// The entries of `dir`, sorted by name.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("reading", dir, e))?;
    let mut paths = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io("reading", dir, e))?;
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn reads_one_folder_per_class() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("spam/b.txt"), "win now");
        write(&root.join("spam/a.txt"), "free €€€");
        write(&root.join("ham/x.txt"), "see you");
        write(&root.join("ham/notes.md"), "ignored");
        write(&root.join("README.txt"), "ignored too");
        write(&root.join(".cache/z.txt"), "hidden");
        let (texts, labels, names) = read_text_folder(root).unwrap();
        assert_eq!(names, ["ham", "spam"]);
        assert_eq!(texts, ["see you", "free €€€", "win now"]);
        assert_eq!(labels, [0, 1, 1]);
    }

    #[test]
    fn folder_errors_name_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_text_folder(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }) && err.to_string().contains("nope"));
        let err = read_text_folder(dir.path()).unwrap_err();
        assert!(err.to_string().contains("no class subfolders"), "{err}");
        write(&dir.path().join("pos/1.txt"), "ok");
        std::fs::create_dir(dir.path().join("neg")).unwrap();
        let msg = read_text_folder(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("neg") && msg.contains(".txt"), "{msg}");
    }

    #[test]
    fn reads_csv_columns_with_sorted_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reviews.csv");
        write(
            &path,
            "id,review,sentiment\n1,\"Great, really\",pos\n2,Awful,neg\n3,\"Line\nbreak\", pos \n",
        );
        let (texts, labels, names) = read_text_csv(&path, "review", "sentiment").unwrap();
        assert_eq!(texts, ["Great, really", "Awful", "Line\nbreak"]);
        assert_eq!(labels, [1, 0, 1]);
        assert_eq!(names, ["neg", "pos"]);
    }

    #[test]
    fn csv_errors_name_the_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.csv");
        write(&path, "text,label\nhello,a\n");
        let msg = read_text_csv(&path, "text", "class")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("data.csv") && msg.contains("'class'") && msg.contains("text, label"),
            "{msg}"
        );
        write(&path, "text,label\n");
        let msg = read_text_csv(&path, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no rows"), "{msg}");
        write(&path, "text,label\nhello,\n");
        let msg = read_text_csv(&path, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("line 2") && msg.contains("empty label"),
            "{msg}"
        );
        write(&path, "text,label\nhello,a,extra\n");
        let msg = read_text_csv(&path, "text", "label")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("data.csv"), "{msg}");
        let missing = read_text_csv(&dir.path().join("none.csv"), "text", "label");
        assert!(matches!(missing, Err(Error::Io { .. })));
    }
}
