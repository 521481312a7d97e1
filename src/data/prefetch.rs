//! A worker thread that reads and preprocesses the next unlabelled batches from an
//! [`ImageStream`] while the model trains on the current one. At most `AHEAD` batches wait
//! in memory, so the footprint does not grow with the file.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Dataset, ImageStream, Preprocessor};
use crate::Result;

/// Batches read ahead of the training loop.
const AHEAD: usize = 2;

/// Batch `step`'s indices: `size` draws with replacement, a function of `(seed, step)` only,
/// so that a resumed run reads the batches it would have read.
pub fn stream_indices(len: usize, size: usize, seed: u64, step: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (0..size).map(|_| rng.random_range(0..len)).collect()
}

/// Unlabelled batches of a fixed size, read and preprocessed on a worker thread.
pub struct Prefetch {
    batches: Option<Receiver<Result<Dataset>>>,
    worker: Option<JoinHandle<()>>,
}

impl Prefetch {
    /// Starts reading batches `first_step, first_step + 1, ...` of `size` images drawn from
    /// `stream` (see [`stream_indices`]), each passed through `preprocessors` in order.
    pub fn start(
        stream: ImageStream,
        preprocessors: Vec<Preprocessor>,
        size: usize,
        seed: u64,
        first_step: u64,
    ) -> Self {
        let (tx, rx) = sync_channel(AHEAD);
        let worker = std::thread::Builder::new()
            .name("manabi-prefetch".into())
            .spawn(move || produce(tx, &stream, &preprocessors, size, seed, first_step))
            .expect("spawning the prefetch thread");
        Self {
            batches: Some(rx),
            worker: Some(worker),
        }
    }

    /// The next batch, waiting for it when the worker is behind; a read error is returned once.
    pub fn next_batch(&mut self) -> Result<Dataset> {
        let rx = self.batches.as_ref().expect("open until dropped");
        match rx.recv() {
            Ok(batch) => batch,
            Err(_) => Err(crate::Error::invalid(
                "stream",
                "the prefetch thread stopped after an earlier error",
            )),
        }
    }
}

fn produce(
    tx: SyncSender<Result<Dataset>>,
    stream: &ImageStream,
    preprocessors: &[Preprocessor],
    size: usize,
    seed: u64,
    first_step: u64,
) {
    for step in first_step.. {
        let idx = stream_indices(stream.len(), size, seed, step);
        let batch = stream.read(&idx).and_then(|mut b| {
            preprocessors.iter().try_for_each(|p| p.transform(&mut b))?;
            Ok(b)
        });
        let failed = batch.is_err();
        if tx.send(batch).is_err() || failed {
            return; // the loop is done with us, or has our error
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // Closing the channel ends the worker at its next send.
        self.batches.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::idx::testutil::idx_bytes;
    use super::*;
    use crate::data::PreprocessConfig;

    #[test]
    fn batches_follow_the_step_and_are_preprocessed() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..50).map(|i| (i * 5) as u8).collect();
        let path = dir.path().join("u");
        std::fs::write(&path, idx_bytes(&[50, 1, 1], &pixels)).unwrap();
        let stream = ImageStream::open_idx(&path).unwrap();
        let scale: PreprocessConfig = toml::from_str("kind = \"scale\"\ndivide_by = 5.0").unwrap();
        let fitted = scale.fit(&stream.read(&[0]).unwrap()).unwrap();
        let mut from_0 = Prefetch::start(stream.clone(), vec![fitted.clone()], 8, 7, 0);
        let mut from_3 = Prefetch::start(stream.clone(), vec![fitted], 8, 7, 3);
        let first: Vec<Dataset> = (0..5).map(|_| from_0.next_batch().unwrap()).collect();
        let resumed = from_3.next_batch().unwrap();
        assert_eq!(resumed, first[3], "a resumed run reads the same batch");
        assert_ne!(first[0], first[1]);
        let expected: Vec<f32> = stream_indices(50, 8, 7, 0)
            .iter()
            .map(|&i| i as f32)
            .collect();
        assert_eq!(first[0].features, expected, "pixel i*5 scaled by 1/5 is i");
        drop(from_0); // ends the worker while it waits on a full channel
    }

    #[test]
    fn indices_cover_the_file_with_replacement() {
        let idx = stream_indices(10, 10_000, 1, 0);
        let mut seen = [0usize; 10];
        idx.iter().for_each(|&i| seen[i] += 1);
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }
}
