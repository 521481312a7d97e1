//! Reader for the IDX format of MNIST-style data sets (raw or gzip-compressed).
//!
//! ```text
//! magic   u32 big-endian: 0x0000 <type> <ndims>, type 0x08 = u8
//! dims    ndims x u32 big-endian
//! data    prod(dims) bytes, row-major
//! ```

use std::path::Path;

use super::gzip::read_maybe_gzip;
use crate::{Error, Result};

/// Magic of a u8 file with three dimensions (count, rows, cols).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic of a u8 file with one dimension (count).
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Reads an IDX image file (magic `0x00000803`).
///
/// Returns the pixels row-major, image after image, and `[count, rows, cols]`.
/// The file may be raw or gzip-compressed (detected by its first two bytes).
pub fn read_idx_images(path: &Path) -> Result<(Vec<u8>, [usize; 3])> {
    let bytes = read_maybe_gzip(path)?;
    let dims = parse_header(&bytes, path, IMAGES_MAGIC, "image")?;
    let data = take_data(bytes, path, &dims, "images")?;
    Ok((data, [dims[0], dims[1], dims[2]]))
}

/// Reads an IDX label file (magic `0x00000801`): one u8 per item.
///
/// The file may be raw or gzip-compressed (detected by its first two bytes).
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_maybe_gzip(path)?;
    let dims = parse_header(&bytes, path, LABELS_MAGIC, "label")?;
    take_data(bytes, path, &dims, "labels")
}

/// Checks the magic and returns the dimensions stored in the header.
fn parse_header(bytes: &[u8], path: &Path, magic: u32, kind: &str) -> Result<Vec<usize>> {
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    if bytes.len() < 4 {
        return Err(Error::data(
            path,
            format!("file too short for an IDX header ({} bytes)", bytes.len()),
        ));
    }
    let found = be_u32(&bytes[0..4]);
    if found != magic {
        return Err(Error::data(
            path,
            format!("not an IDX {kind} file (magic 0x{found:08x}, expected 0x{magic:08x})"),
        ));
    }
    if bytes.len() < header_len {
        return Err(Error::data(
            path,
            format!(
                "file too short: {} bytes, the IDX header alone needs {header_len}",
                bytes.len()
            ),
        ));
    }
    Ok((0..ndims)
        .map(|i| be_u32(&bytes[4 + 4 * i..8 + 4 * i]) as usize)
        .collect())
}

/// Drops the header and checks that the data holds exactly what the header promises.
fn take_data(mut bytes: Vec<u8>, path: &Path, dims: &[usize], what: &str) -> Result<Vec<u8>> {
    let header_len = 4 + 4 * dims.len();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::data(path, format!("IDX dimensions {dims:?} overflow")))?;
    let found = bytes.len() - header_len;
    if found < expected {
        return Err(Error::data(
            path,
            format!(
                "truncated: the header says {} {what} of shape {dims:?} ({expected} bytes) \
                 but only {found} data bytes follow",
                dims[0]
            ),
        ));
    }
    if found > expected {
        return Err(Error::data(
            path,
            format!(
                "{} trailing bytes after the {expected} data bytes of shape {dims:?}",
                found - expected
            ),
        ));
    }
    bytes.drain(..header_len);
    Ok(bytes)
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Test helpers that write small IDX files.
#[cfg(test)]
pub(crate) mod testutil {
    use std::io::Write;
    use std::path::Path;

    /// The bytes of an IDX u8 file with the given dimensions and data.
    pub fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 0x08, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    /// Gzip-compresses `bytes`.
    pub fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// Writes a gzipped IDX image file of `count` images of `rows x cols`.
    pub fn write_images(path: &Path, count: u32, rows: u32, cols: u32) {
        let data: Vec<u8> = (0..count * rows * cols).map(|i| (i % 256) as u8).collect();
        std::fs::write(path, gzip(&idx_bytes(&[count, rows, cols], &data))).unwrap();
    }

    /// Writes a gzipped IDX label file.
    pub fn write_labels(path: &Path, labels: &[u8]) {
        std::fs::write(path, gzip(&idx_bytes(&[labels.len() as u32], labels))).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn reads_raw_and_gzipped_images() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..2 * 3 * 4).collect();
        let bytes = idx_bytes(&[2, 3, 4], &data);
        let raw = dir.path().join("img-idx3-ubyte");
        let gz = dir.path().join("img-idx3-ubyte.gz");
        std::fs::write(&raw, &bytes).unwrap();
        std::fs::write(&gz, gzip(&bytes)).unwrap();
        for path in [raw, gz] {
            let (pixels, shape) = read_idx_images(&path).unwrap();
            assert_eq!(shape, [2, 3, 4]);
            assert_eq!(pixels, data);
        }
    }

    #[test]
    fn reads_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.gz");
        write_labels(&path, &[3, 1, 4, 1, 5]);
        assert_eq!(read_idx_labels(&path).unwrap(), vec![3, 1, 4, 1, 5]);
    }

    #[test]
    fn truncated_data_is_reported_with_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.gz");
        let bytes = idx_bytes(&[5, 2, 2], &[0u8; 12]);
        std::fs::write(&path, gzip(&bytes)).unwrap();
        let msg = read_idx_images(&path).unwrap_err().to_string();
        assert!(msg.contains("short.gz"), "{msg}");
        assert!(
            msg.contains("truncated") && msg.contains("5 images"),
            "{msg}"
        );
    }

    #[test]
    fn short_header_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny");
        std::fs::write(&path, [0u8, 0, 8, 3, 0, 0]).unwrap();
        let msg = read_idx_images(&path).unwrap_err().to_string();
        assert!(msg.contains("tiny") && msg.contains("too short"), "{msg}");
        std::fs::write(&path, [0u8, 0]).unwrap();
        let msg = read_idx_labels(&path).unwrap_err().to_string();
        assert!(msg.contains("too short"), "{msg}");
    }

    #[test]
    fn wrong_magic_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels-as-images.gz");
        write_labels(&path, &[1, 2, 3]);
        let msg = read_idx_images(&path).unwrap_err().to_string();
        assert!(msg.contains("labels-as-images.gz"), "{msg}");
        assert!(
            msg.contains("not an IDX image file (magic 0x00000801"),
            "{msg}"
        );
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long");
        std::fs::write(&path, idx_bytes(&[2], &[1, 2, 3])).unwrap();
        let msg = read_idx_labels(&path).unwrap_err().to_string();
        assert!(msg.contains("trailing"), "{msg}");
    }
}
