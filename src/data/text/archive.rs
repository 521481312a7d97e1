//! Reading IMDB reviews straight out of the `aclImdb` tar.gz archives, without unpacking.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::{Error, Result};

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One review of the Large Movie Review Dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The review as written, HTML line breaks (`<br />`) included.
    pub text: String,
    /// 0 for a negative review, 1 for a positive one, `None` for an unlabelled one.
    pub label: Option<u32>,
    /// The star rating from the file name `<id>_<rating>.txt` (1..4 negative, 7..10
    /// positive, 0 unlabelled).
    pub rating: u8,
    /// The review's path in the archive, e.g. `aclImdb/train/pos/10_9.txt` (names a sample
    /// for tools outside manabi).
    pub path: String,
}

/// A part of the `aclImdb` archives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImdbPart {
    /// `aclImdb/train/{neg,pos}/` (12,500 reviews each).
    Train,
    /// `aclImdb/test/{neg,pos}/` (12,500 reviews each).
    Test,
    /// `aclImdb/train/unsup/` (50,000 unlabelled reviews, in the `_unsup` archive).
    Unsup,
}

impl ImdbPart {
    /// The folders holding the part's reviews, with the label of their reviews.
    fn folders(self) -> &'static [(&'static str, Option<u32>)] {
        match self {
            ImdbPart::Train => &[
                ("aclImdb/train/neg/", Some(0)),
                ("aclImdb/train/pos/", Some(1)),
            ],
            ImdbPart::Test => &[
                ("aclImdb/test/neg/", Some(0)),
                ("aclImdb/test/pos/", Some(1)),
            ],
            ImdbPart::Unsup => &[("aclImdb/train/unsup/", None)],
        }
    }
}

/// Reads the reviews of one part of an `aclImdb` `.tar.gz` archive, streaming it.
///
/// Reviews come sorted by their path in the archive (so `neg/` before `pos/`, and file
/// names in byte order), whatever order the archive stores them in. Bytes that are not
/// valid UTF-8 are replaced by U+FFFD (the files are UTF-8; this only guards against a
/// damaged file).
///
/// # Errors
/// [`Error::Io`] when the archive cannot be opened; [`Error::Data`] naming the archive when
/// it is not gzip, is truncated or corrupt, holds a review whose name is not
/// `<id>_<rating>.txt`, or holds no review in one of the part's folders.
pub fn read_imdb_reviews(archive: &Path, part: ImdbPart) -> Result<Vec<Review>> {
    let mut parts = read_imdb_parts(archive, &[part])?;
    Ok(parts.pop().expect("one part asked, one returned"))
}

/// Like [`read_imdb_reviews`] for several parts at once, decompressing the archive once;
/// returns one list per part, in the order asked.
///
/// # Errors
/// As [`read_imdb_reviews`].
pub fn read_imdb_parts(archive: &Path, parts: &[ImdbPart]) -> Result<Vec<Vec<Review>>> {
    let file = File::open(archive).map_err(|e| Error::io("reading", archive, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader
        .fill_buf()
        .map_err(|e| Error::io("reading", archive, e))?;
    if !head.starts_with(&GZIP_MAGIC) {
        return Err(Error::data(
            archive,
            "not a gzip file (expected a .tar.gz archive)",
        ));
    }
    let corrupt = |e: std::io::Error| {
        Error::data(
            archive,
            format!("cannot read the archive (truncated or corrupt .tar.gz): {e}"),
        )
    };
    // Per part, per folder: (path, review) pairs.
    let mut found: Vec<Vec<Vec<(String, Review)>>> = parts
        .iter()
        .map(|p| vec![Vec::new(); p.folders().len()])
        .collect();
    let mut tar = tar::Archive::new(MultiGzDecoder::new(reader));
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = raw_path.strip_prefix("./").unwrap_or(&raw_path).to_string();
        let Some((part_i, folder_i, name)) = locate(&path, parts) else {
            continue;
        };
        let rating = parse_rating(name).ok_or_else(|| {
            Error::data(archive, format!("{path}: name is not <id>_<rating>.txt"))
        })?;
        let size = entry.size();
        let mut bytes = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut bytes).map_err(corrupt)?;
        if bytes.len() as u64 != size {
            return Err(Error::data(
                archive,
                format!(
                    "{path}: {} of its {size} bytes are in the archive (truncated)",
                    bytes.len()
                ),
            ));
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let label = parts[part_i].folders()[folder_i].1;
        found[part_i][folder_i].push((
            path.clone(),
            Review {
                text,
                label,
                rating,
                path,
            },
        ));
    }
    // The tar reader stops at the end-of-archive blocks; reading on to the end of the gzip
    // stream checks its CRC and length, so a damaged tail is not silently accepted.
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink()).map_err(corrupt)?;
    parts
        .iter()
        .zip(found)
        .map(|(part, folders)| {
            let mut reviews = Vec::new();
            for ((prefix, _), folder) in part.folders().iter().zip(folders) {
                if folder.is_empty() {
                    return Err(Error::data(
                        archive,
                        format!("no {prefix}*.txt reviews in it"),
                    ));
                }
                reviews.extend(folder);
            }
            reviews.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            Ok(reviews.into_iter().map(|(_, r)| r).collect())
        })
        .collect()
}

/// Which asked part and folder `path` is a review of, and its file name.
fn locate<'p>(path: &'p str, parts: &[ImdbPart]) -> Option<(usize, usize, &'p str)> {
    parts.iter().enumerate().find_map(|(part_i, part)| {
        part.folders()
            .iter()
            .enumerate()
            .find_map(|(folder_i, (prefix, _))| {
                let name = path.strip_prefix(prefix)?;
                (name.ends_with(".txt") && !name.contains('/')).then_some((part_i, folder_i, name))
            })
    })
}

/// The rating of a review file named `<id>_<rating>.txt`.
fn parse_rating(name: &str) -> Option<u8> {
    let (id, rating) = name.strip_suffix(".txt")?.split_once('_')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(id) && digits(rating)).then(|| rating.parse().ok())?
}

/// Builders of small `aclImdb`-like archives for tests.
#[cfg(test)]
pub(crate) mod testutil {
    use std::io::Write;
    use std::path::Path;

    /// Writes a `.tar.gz` holding `files` (path, content), in the order given.
    pub fn write_tar_gz(path: &Path, files: &[(&str, &[u8])]) {
        let file = std::fs::File::create(path).unwrap();
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (name, content) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *content).unwrap();
        }
        builder
            .into_inner()
            .unwrap()
            .finish()
            .unwrap()
            .flush()
            .unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::write_tar_gz;
    use super::*;
    use std::path::PathBuf;

    fn review(path: &str, text: &str, label: Option<u32>, rating: u8) -> Review {
        Review {
            text: text.to_string(),
            label,
            rating,
            path: path.to_string(),
        }
    }

    fn small_archive(dir: &Path) -> PathBuf {
        let path = dir.join("small.tar.gz");
        write_tar_gz(
            &path,
            &[
                ("aclImdb/README", b"readme"),
                (
                    "aclImdb/train/pos/10_9.txt",
                    "Amélie était 😀 great".as_bytes(),
                ),
                ("aclImdb/train/neg/3_2.txt", b"Dull.<br />Very dull."),
                ("aclImdb/train/pos/2_7.txt", b""),
                ("aclImdb/train/urls_pos.txt", b"http://example.org"),
                ("aclImdb/test/neg/0_1.txt", b"Bad \xff bytes"),
                ("aclImdb/test/pos/0_10.txt", b"Fine"),
                ("aclImdb/train/unsup/5_0.txt", b"no label"),
            ],
        );
        path
    }

    #[test]
    fn reads_each_part_sorted_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = small_archive(dir.path());
        let train = read_imdb_reviews(&path, ImdbPart::Train).unwrap();
        assert_eq!(
            train,
            [
                review(
                    "aclImdb/train/neg/3_2.txt",
                    "Dull.<br />Very dull.",
                    Some(0),
                    2
                ),
                review(
                    "aclImdb/train/pos/10_9.txt",
                    "Amélie était 😀 great",
                    Some(1),
                    9
                ),
                review("aclImdb/train/pos/2_7.txt", "", Some(1), 7),
            ]
        );
        let test = read_imdb_reviews(&path, ImdbPart::Test).unwrap();
        assert_eq!(
            test,
            [
                review("aclImdb/test/neg/0_1.txt", "Bad \u{fffd} bytes", Some(0), 1),
                review("aclImdb/test/pos/0_10.txt", "Fine", Some(1), 10)
            ]
        );
        let unsup = read_imdb_reviews(&path, ImdbPart::Unsup).unwrap();
        assert_eq!(
            unsup,
            [review("aclImdb/train/unsup/5_0.txt", "no label", None, 0)]
        );
        let both = read_imdb_parts(&path, &[ImdbPart::Test, ImdbPart::Train]).unwrap();
        assert_eq!(both, [test, train]);
    }

    #[test]
    fn missing_folder_names_it_and_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("half.tar.gz");
        write_tar_gz(&path, &[("aclImdb/train/neg/1_1.txt", b"meh")]);
        let err = read_imdb_reviews(&path, ImdbPart::Train).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Data { .. }), "{msg}");
        assert!(
            msg.contains("no aclImdb/train/pos/*.txt") && msg.contains("half.tar.gz"),
            "{msg}"
        );
    }

    #[test]
    fn bad_review_name_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("names.tar.gz");
        write_tar_gz(&path, &[("aclImdb/test/pos/readme.txt", b"x")]);
        let msg = read_imdb_reviews(&path, ImdbPart::Test)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("aclImdb/test/pos/readme.txt"), "{msg}");
        assert_eq!(parse_rating("12_10.txt"), Some(10));
        assert_eq!(parse_rating("12_.txt"), None);
        assert_eq!(parse_rating("a_1.txt"), None);
        assert_eq!(parse_rating("1_999.txt"), None);
    }

    #[test]
    fn missing_plain_and_corrupt_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_imdb_reviews(&dir.path().join("none.tar.gz"), ImdbPart::Train);
        assert!(matches!(missing, Err(Error::Io { .. })));

        let plain = dir.path().join("plain.tar.gz");
        std::fs::write(&plain, b"just text").unwrap();
        let msg = read_imdb_reviews(&plain, ImdbPart::Train)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("plain.tar.gz") && msg.contains("not a gzip"),
            "{msg}"
        );

        let good = small_archive(dir.path());
        let bytes = std::fs::read(&good).unwrap();
        let truncated = dir.path().join("truncated.tar.gz");
        // Cut in the middle, and cut only the gzip trailer (the tar data is all there).
        for cut in [bytes.len() / 2, bytes.len() - 4] {
            std::fs::write(&truncated, &bytes[..cut]).unwrap();
            let msg = read_imdb_reviews(&truncated, ImdbPart::Train)
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("truncated.tar.gz") && msg.contains("truncated or corrupt"),
                "{msg}"
            );
        }

        let mut garbled = bytes.clone();
        for b in &mut garbled[20..60] {
            *b ^= 0x5a;
        }
        let corrupt = dir.path().join("corrupt.tar.gz");
        std::fs::write(&corrupt, &garbled).unwrap();
        let msg = read_imdb_reviews(&corrupt, ImdbPart::Unsup)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("corrupt.tar.gz"), "{msg}");

        // Gzip of something that is not a tar file.
        let not_tar = dir.path().join("not_tar.tar.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &[b'x'; 2000]).unwrap();
        std::fs::write(&not_tar, enc.finish().unwrap()).unwrap();
        let msg = read_imdb_reviews(&not_tar, ImdbPart::Train)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not_tar.tar.gz"), "{msg}");
    }
}
