//! How fast unlabelled batches come off an IDX file: reads `STEPS` batches of 448 images
//! through the prefetch worker, timing the read alone (no training).
//!   cargo run --release --example stream_throughput -- FILE [STEPS]

use std::time::Instant;

use manabi::data::{ImageStream, Prefetch, PreprocessConfig};

fn main() -> manabi::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: stream_throughput FILE [STEPS]");
    let steps: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let stream = ImageStream::open_idx(std::path::Path::new(path))?;
    let scale = PreprocessConfig::Scale { divide_by: 255.0 }.fit(&stream.read(&[0])?)?;
    let started = Instant::now();
    let mut feed = Prefetch::start(stream.clone(), vec![scale], 448, 1, 0);
    let mut sum = 0.0f64;
    for _ in 0..steps {
        let b = feed.next_batch()?;
        sum += f64::from(b.features[0]);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} images: {steps} batches of 448 in {secs:.3} s ({:.2} ms per batch; checksum {sum:.1})",
        stream.len(),
        1e3 * secs / steps as f64
    );
    Ok(())
}
