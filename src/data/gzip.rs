//! Reading files that may or may not be gzip-compressed.

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads `path` whole, decompressing it when it starts with the gzip magic `1f 8b`.
///
/// Concatenated gzip members are read as one stream, as `gunzip` does.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    decompress_if_gzip(raw, path)
}

/// Decompresses `bytes` when they start with the gzip magic; `path` only names the source
/// in errors.
pub fn decompress_if_gzip(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| Error::data(path, format!("gzip stream is corrupt: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn plain_and_gzipped_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.txt");
        let packed = dir.path().join("a.txt.gz");
        std::fs::write(&plain, b"hello").unwrap();
        std::fs::write(&packed, gzip(b"hello")).unwrap();
        assert_eq!(read_maybe_gzip(&plain).unwrap(), b"hello");
        assert_eq!(read_maybe_gzip(&packed).unwrap(), b"hello");
    }

    #[test]
    fn corrupt_gzip_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.gz");
        let mut bytes = gzip(&[7u8; 1000]);
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, bytes).unwrap();
        let msg = read_maybe_gzip(&path).unwrap_err().to_string();
        assert!(msg.contains("bad.gz") && msg.contains("gzip"), "{msg}");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = read_maybe_gzip(Path::new("/nonexistent/x.gz")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
