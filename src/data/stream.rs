//! Unlabelled images read from disk a batch at a time, so that the set may be far larger than
//! memory. An uncompressed IDX image file is opened once, its header checked, and each batch
//! is read with positioned reads of the samples it needs (the file is never held in memory).
//! A folder of image files (PNG, JPEG, BMP, searched recursively) is listed once and each
//! batch's files are decoded when it is read; only the list of names stays in memory.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Dataset, Targets};
use crate::{Error, Result};

/// Magic of a u8 IDX file with three dimensions (count, rows, cols).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Length of that file's header: the magic and three sizes.
const HEADER_LEN: u64 = 16;
/// Threads that read one batch together.
const READERS: usize = 8;
/// Fewest images a reader thread is started for.
const MIN_PER_READER: usize = 32;

/// Image file extensions a folder stream reads (lower case).
const IMAGE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

/// Where the images are.
#[derive(Clone, Debug)]
enum Source {
    /// An uncompressed IDX image file.
    Idx(Arc<File>),
    /// Image files, sorted by path.
    Folder(Arc<Vec<PathBuf>>),
}

/// Images read lazily from an IDX file or a folder: any batch of samples, by index, as a small
/// [`Dataset`].
#[derive(Clone, Debug)]
pub struct ImageStream {
    path: PathBuf,
    source: Source,
    len: usize,
    channels: usize,
    rows: usize,
    cols: usize,
}

impl ImageStream {
    /// Opens an uncompressed IDX image file (magic `0x00000803`) and checks that its size
    /// matches its header. A gzip-compressed file cannot be read at random and is refused with
    /// what to do.
    pub fn open_idx(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| {
            Error::data(
                path,
                format!("cannot open the unlabelled image file: {e} (relative paths are looked up in the data folder too)"),
            )
        })?;
        let mut header = [0u8; HEADER_LEN as usize];
        let size = file
            .metadata()
            .map_err(|e| Error::data(path, format!("cannot read its size: {e}")))?
            .len();
        if size >= 2 && {
            let mut magic = [0u8; 2];
            file.read_exact_at(&mut magic, 0).is_ok() && magic == [0x1f, 0x8b]
        } {
            return Err(Error::data(
                path,
                "gzip-compressed: streaming reads samples at random and needs the raw IDX file; unpack it first (gunzip -k FILE) and name the unpacked file",
            ));
        }
        if size < HEADER_LEN {
            return Err(Error::data(
                path,
                format!(
                    "file too short for an IDX image header ({size} bytes, {HEADER_LEN} needed)"
                ),
            ));
        }
        file.read_exact_at(&mut header, 0)
            .map_err(|e| Error::data(path, format!("cannot read the header: {e}")))?;
        let word = |i: usize| u32::from_be_bytes(header[4 * i..4 * i + 4].try_into().unwrap());
        if word(0) != IMAGES_MAGIC {
            return Err(Error::data(
                path,
                format!(
                    "not an IDX image file (magic 0x{:08x}, expected 0x{IMAGES_MAGIC:08x})",
                    word(0)
                ),
            ));
        }
        let (len, rows, cols) = (word(1) as usize, word(2) as usize, word(3) as usize);
        let expected = HEADER_LEN + (len as u64) * (rows as u64) * (cols as u64);
        if size != expected {
            return Err(Error::data(
                path,
                format!(
                    "the header promises {len} images of {rows}x{cols} ({expected} bytes in all), the file has {size} bytes"
                ),
            ));
        }
        if len == 0 || rows == 0 || cols == 0 {
            return Err(Error::data(
                path,
                format!("holds no pixels ({len} images of {rows}x{cols})"),
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
            source: Source::Idx(Arc::new(file)),
            len,
            channels: 1,
            rows,
            cols,
        })
    }

    /// Lists the image files under `dir` (recursively; PNG, JPEG, BMP) and decodes the first:
    /// every image must have its size, and is read as grey (1 channel) when the first one is
    /// grey, else as RGB (3 channels).
    pub fn open_folder(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::data(
                dir,
                "not a folder of unlabelled images (relative paths are looked up in the data folder too)",
            ));
        }
        let mut files = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            let entries = std::fs::read_dir(&d)
                .map_err(|e| Error::data(&d, format!("cannot list the folder: {e}")))?;
            for entry in entries {
                let path = entry
                    .map_err(|e| Error::data(&d, format!("cannot list the folder: {e}")))?
                    .path();
                if path.is_dir() {
                    pending.push(path);
                } else if path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
                {
                    files.push(path);
                }
            }
        }
        files.sort();
        let Some(first) = files.first() else {
            return Err(Error::data(
                dir,
                format!("holds no image files ({})", IMAGE_EXTENSIONS.join(", ")),
            ));
        };
        let img = decode(first)?;
        let channels = if img.color().has_color() { 3 } else { 1 };
        Ok(Self {
            path: dir.to_path_buf(),
            len: files.len(),
            channels,
            rows: img.height() as usize,
            cols: img.width() as usize,
            source: Source::Folder(Arc::new(files)),
        })
    }

    /// Number of images in the file.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the file holds no image (never, once opened).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// One sample's shape, `[channels, rows, cols]`, as the built-in image datasets have it.
    pub fn sample_shape(&self) -> Vec<usize> {
        vec![self.channels, self.rows, self.cols]
    }

    /// The file or folder read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The images at `indices`, in that order, as raw pixel values (0-255, like the built-in
    /// datasets before preprocessing), with placeholder targets (one class). Large batches are
    /// read by several threads at once: on a file larger than the page cache each read waits on
    /// the disk, and an SSD serves many at a time.
    pub fn read(&self, indices: &[usize]) -> Result<Dataset> {
        let sample = self.channels * self.rows * self.cols;
        if let Some(&i) = indices.iter().find(|&&i| i >= self.len) {
            return Err(Error::invalid(
                "stream",
                format!("image {i} asked of a file of {}", self.len),
            ));
        }
        let mut bytes = vec![0u8; indices.len() * sample];
        let per_reader = indices.len().div_ceil(READERS).max(MIN_PER_READER);
        std::thread::scope(|scope| {
            let jobs: Vec<_> = bytes
                .chunks_mut(per_reader * sample)
                .zip(indices.chunks(per_reader))
                .map(|(out, idx)| scope.spawn(move || self.read_into(idx, out)))
                .collect();
            jobs.into_iter()
                .try_for_each(|j| j.join().expect("a reader thread panicked"))
        })?;
        let targets = Targets::Classes {
            labels: vec![0; indices.len()],
            num_classes: 1,
        };
        let features = bytes.into_iter().map(f32::from).collect();
        Dataset::new(features, self.sample_shape(), targets)
    }

    /// Reads the images `indices` into `out`, one after the other, channels first.
    fn read_into(&self, indices: &[usize], out: &mut [u8]) -> Result<()> {
        let sample = self.channels * self.rows * self.cols;
        for (&i, dst) in indices.iter().zip(out.chunks_mut(sample)) {
            match &self.source {
                Source::Idx(file) => {
                    let at = HEADER_LEN + (i * sample) as u64;
                    file.read_exact_at(dst, at).map_err(|e| {
                        Error::data(
                            &self.path,
                            format!(
                                "cannot read image {i}: {e} (was the file changed while training?)"
                            ),
                        )
                    })?;
                }
                Source::Folder(files) => self.decode_into(&files[i], dst)?,
            }
        }
        Ok(())
    }

    /// Decodes the image file `path` into `dst` as `[channels, rows, cols]` bytes.
    fn decode_into(&self, path: &Path, dst: &mut [u8]) -> Result<()> {
        let img = decode(path)?;
        if (img.height() as usize, img.width() as usize) != (self.rows, self.cols) {
            return Err(Error::data(
                path,
                format!(
                    "is {}x{}, the folder's images are {}x{} (its first file sets the size): resize the folder's images to one size",
                    img.height(),
                    img.width(),
                    self.rows,
                    self.cols
                ),
            ));
        }
        let plane = self.rows * self.cols;
        if self.channels == 1 {
            dst.copy_from_slice(img.to_luma8().as_raw());
        } else {
            for (p, px) in img.to_rgb8().as_raw().chunks(3).enumerate() {
                for c in 0..3 {
                    dst[c * plane + p] = px[c];
                }
            }
        }
        Ok(())
    }
}

/// Decodes one image file, naming it in the error.
fn decode(path: &Path) -> Result<image::DynamicImage> {
    image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Error::data(path, format!("cannot open the image: {e}")))?
        .decode()
        .map_err(|e| Error::data(path, format!("cannot decode the image: {e}")))
}

#[cfg(test)]
mod tests {
    use super::super::idx::testutil::{gzip, idx_bytes};
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn reads_the_asked_images_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..5 * 2 * 3).map(|i| i as u8).collect();
        let path = write(dir.path(), "u-idx3-ubyte", &idx_bytes(&[5, 2, 3], &pixels));
        let stream = ImageStream::open_idx(&path).unwrap();
        assert_eq!((stream.len(), stream.sample_shape()), (5, vec![1, 2, 3]));
        let batch = stream.read(&[4, 0, 4]).unwrap();
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.sample(0), &[24.0, 25.0, 26.0, 27.0, 28.0, 29.0]);
        assert_eq!(batch.sample(1), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(batch.sample(2), batch.sample(0));
        assert!(stream.read(&[5]).is_err());
    }

    #[test]
    fn a_folder_streams_its_images_channels_first_and_names_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let grey = image::GrayImage::from_fn(3, 2, |x, y| image::Luma([(10 * y + x) as u8]));
        grey.save(dir.path().join("0.png")).unwrap();
        image::GrayImage::from_pixel(3, 2, image::Luma([7]))
            .save(sub.join("1.PNG"))
            .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
        let stream = ImageStream::open_folder(dir.path()).unwrap();
        assert_eq!((stream.len(), stream.sample_shape()), (2, vec![1, 2, 3]));
        let batch = stream.read(&[0, 1]).unwrap();
        assert_eq!(batch.sample(0), &[0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
        assert_eq!(batch.sample(1), &[7.0; 6]);

        // RGB images come channels first.
        let rgb_dir = tempfile::tempdir().unwrap();
        image::RgbImage::from_fn(2, 1, |x, _| image::Rgb([x as u8, 100 + x as u8, 200]))
            .save(rgb_dir.path().join("c.png"))
            .unwrap();
        let rgb = ImageStream::open_folder(rgb_dir.path()).unwrap();
        assert_eq!(rgb.sample_shape(), vec![3, 1, 2]);
        assert_eq!(
            rgb.read(&[0]).unwrap().sample(0),
            &[0.0, 1.0, 100.0, 101.0, 200.0, 200.0]
        );

        // Another size, a broken file, an empty folder.
        image::GrayImage::new(5, 5).save(sub.join("2.png")).unwrap();
        let stream = ImageStream::open_folder(dir.path()).unwrap();
        let msg = stream.read(&[2]).unwrap_err().to_string();
        assert!(msg.contains("2.png") && msg.contains("5x5"), "{msg}");
        std::fs::write(sub.join("3.png"), b"not a png").unwrap();
        let stream = ImageStream::open_folder(dir.path()).unwrap();
        let msg = stream.read(&[3]).unwrap_err().to_string();
        assert!(msg.contains("3.png") && msg.contains("decode"), "{msg}");
        let empty = tempfile::tempdir().unwrap();
        let msg = ImageStream::open_folder(empty.path())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no image files"), "{msg}");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let good = idx_bytes(&[2, 2, 2], &[0; 8]);
        let gz = write(dir.path(), "u.gz", &gzip(&good));
        let msg = ImageStream::open_idx(&gz).unwrap_err().to_string();
        assert!(msg.contains("gunzip") && msg.contains("u.gz"), "{msg}");
        let short = write(dir.path(), "short", &good[..20]);
        let msg = ImageStream::open_idx(&short).unwrap_err().to_string();
        assert!(
            msg.contains("promises 2 images") && msg.contains("20 bytes"),
            "{msg}"
        );
        let labels = write(dir.path(), "labels", &idx_bytes(&[3], &[1, 2, 3]));
        let msg = ImageStream::open_idx(&labels).unwrap_err().to_string();
        assert!(msg.contains("too short") || msg.contains("magic"), "{msg}");
        let msg = ImageStream::open_idx(&dir.path().join("absent"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("cannot open") && msg.contains("absent"),
            "{msg}"
        );
    }
}
