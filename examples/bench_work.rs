//! manabi's side of the speed benchmark (`bench/speed.py`): times one work on real data and
//! prints one JSON line, the same format as `bench/speed_peer.py` prints for PyTorch and
//! Keras.
//!
//! ```text
//! cargo build --release --example bench_work
//! target/release/examples/bench_work --work cnn_train_epoch --data-dir ../shared/datasets
//! ```
//!
//! Works: `cnn_train_epoch` (the seed Fashion-MNIST CNN, one epoch over the 60,000 training
//! images, batch 200), `cnn_infer` (the same CNN predicting the 10,000 test images, read alone
//! as `manabi predict` reads its input, batch
//! 1000, median of 3 passes after a warm-up), `bilstm_steps`, `transformer_steps` and
//! `resnet_steps` (training steps of `recipes/imdb_bilstm.toml`,
//! `recipes/imdb_transformer.toml` and `recipes/fashion_mnist_resnet.toml` at their batch
//! sizes, after warm-up steps). Data loading and model building are not timed; each
//! training work runs through [`fit`], as `manabi train` does.
//!
//! `--device vulkan[:N]` (a build with `--features vulkan`) times the same work on a GPU;
//! `first_step_s` in the output is the time from process start to the end of the first
//! training step (GPU kernel compilation and autotuning included). `--imdb-csv DIR` reads the
//! IMDB works' token ids from `DIR/train.csv` (`manabi export-data`) instead of the archives.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use manabi::data::CsvTask;
use manabi::recipe::{CsvFiles, Recipe};
use manabi::run::{load_inputs, prepare_data};
use manabi::train::{FitConfig, Observer, fit, predict};

struct Args {
    work: String,
    data_dir: PathBuf,
    threads: usize,
    steps: Option<usize>,
    warmup: usize,
    device: String,
    imdb_csv: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        work: String::new(),
        data_dir: std::env::var_os("MANABI_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("../shared/datasets")),
        threads: 2,
        steps: None,
        warmup: 5,
        device: "cpu".into(),
        imdb_csv: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--work" => args.work = value()?,
            "--data-dir" => args.data_dir = PathBuf::from(value()?),
            "--threads" => args.threads = value()?.parse()?,
            "--steps" => args.steps = Some(value()?.parse()?),
            "--warmup" => args.warmup = value()?.parse()?,
            "--device" => args.device = value()?,
            "--imdb-csv" => args.imdb_csv = Some(PathBuf::from(value()?)),
            other => bail!("unknown argument {other}"),
        }
    }
    if args.work.is_empty() {
        bail!(
            "--work is required: cnn_train_epoch, cnn_infer, bilstm_steps, transformer_steps, resnet_steps"
        );
    }
    Ok(args)
}

/// Records when the first training step of the process ended (compilation included).
struct FirstStep<'a> {
    process_start: Instant,
    seen: &'a mut Option<f64>,
}

impl Observer for FirstStep<'_> {
    fn on_step(&mut self, _epoch: usize, _step: usize, _logs: &[(&str, f64)]) {
        if self.seen.is_none() {
            *self.seen = Some(self.process_start.elapsed().as_secs_f64());
        }
    }
}

/// Seconds of `epochs = 1` over the first `n` training samples of `recipe` on `device`.
fn train_seconds(
    recipe: &Recipe,
    data_dir: &std::path::Path,
    n: Option<usize>,
    device: &Device,
    first_step: &mut FirstStep<'_>,
) -> Result<f64> {
    let mut data = prepare_data(&recipe.data, Some(data_dir))?;
    if let Some(n) = n {
        data.train = data.train.take(n);
    }
    let device = device.clone().autodiff();
    device.seed(recipe.seed);
    let model = recipe.model.build(&data.train.sample_shape, &device)?;
    let mut cfg = FitConfig::new(
        recipe.training.loss,
        recipe.optimizer.clone(),
        1,
        recipe.training.batch_size,
    );
    cfg.seed = recipe.seed;
    let started = Instant::now();
    fit(model, &data.train, None, &cfg, &device, first_step)?;
    device.sync()?;
    Ok(started.elapsed().as_secs_f64())
}

fn main() -> Result<()> {
    let process_start = Instant::now();
    manabi::kernels::tune_allocator();
    let args = parse_args()?;
    let device = manabi::gpu::device_named(&args.device)?;
    let mut first_step_at = None;
    let mut first_step = FirstStep {
        process_start,
        seen: &mut first_step_at,
    };
    // Flex parallelises with rayon; the peers get the same thread count.
    rayon_threads(args.threads);
    let recipe_path = match args.work.as_str() {
        "cnn_train_epoch" | "cnn_infer" => "recipes/fashion_mnist_cnn.toml",
        "bilstm_steps" => "recipes/imdb_bilstm.toml",
        "transformer_steps" => "recipes/imdb_transformer.toml",
        "resnet_steps" => "recipes/fashion_mnist_resnet.toml",
        other => bail!("unknown work {other}"),
    };
    let mut recipe = Recipe::load(std::path::Path::new(recipe_path))?;
    recipe.data.validation_split = 0.0;
    let reads_imdb = matches!(args.work.as_str(), "bilstm_steps" | "transformer_steps");
    if let Some(dir) = args.imdb_csv.as_ref().filter(|_| reads_imdb) {
        // The token ids `manabi export-data` wrote (the file bench/speed_peer.py reads), for
        // machines that have them but not the IMDB archives.
        recipe.data.dataset = None;
        recipe.data.text = None;
        recipe.data.csv = Some(CsvFiles {
            train: dir.join("train.csv"),
            test: dir.join("train.csv"),
            label_column: "label".into(),
            task: CsvTask::Classification,
        });
    }
    let batch = recipe.training.batch_size;
    let (seconds, items, unit) = match args.work.as_str() {
        "cnn_train_epoch" => {
            let n = args.steps.map(|s| s * batch);
            let items = n.unwrap_or(60_000);
            let t = train_seconds(&recipe, &args.data_dir, n, &device, &mut first_step)?;
            (t, items, "epoch")
        }
        "cnn_infer" => {
            // Only the test images, read as `manabi predict RUN_DIR FILE` reads its input (the
            // peers, too, load only the test set here). The recipe's preprocessing is a fixed
            // scaling, so fitting it on these images fits nothing.
            let images = args
                .data_dir
                .join("fashion-mnist/t10k-images-idx3-ubyte.gz");
            let mut test = load_inputs(&images, &[1, 28, 28])?;
            for cfg in &recipe.data.preprocess {
                cfg.fit(&test)?.transform(&mut test)?;
            }
            device.seed(recipe.seed);
            let model = recipe.model.build(&test.sample_shape, &device)?;
            let mut times = Vec::new();
            for pass in 0..4 {
                let started = Instant::now();
                let out = predict(&model, recipe.training.loss, &test, 1000, &device);
                std::hint::black_box(out);
                device.sync()?;
                if pass > 0 {
                    times.push(started.elapsed().as_secs_f64());
                }
            }
            times.sort_by(f64::total_cmp);
            (times[1], test.len(), "pass")
        }
        _ => {
            let steps = args.steps.unwrap_or(match args.work.as_str() {
                "bilstm_steps" => 100,
                _ => 30, // transformer and resnet steps are 10-20x longer
            });
            let warm = Some(args.warmup * batch);
            train_seconds(&recipe, &args.data_dir, warm, &device, &mut first_step)?;
            let t = train_seconds(
                &recipe,
                &args.data_dir,
                Some(steps * batch),
                &device,
                &mut first_step,
            )?;
            (t, steps, "step")
        }
    };
    let first_step = first_step_at.map_or("null".to_string(), |s| format!("{s:.3}"));
    let kernels = if std::env::var("MANABI_KERNELS").as_deref() == Ok("burn") {
        "burn"
    } else {
        "manabi"
    };
    println!(
        "{{\"framework\":\"manabi\",\"work\":\"{}\",\"seconds\":{seconds},\"items\":{items},\"unit\":\"{unit}\",\"per_item_ms\":{},\"threads\":{},\"device\":\"{}\",\"first_step_s\":{first_step},\"kernels\":\"{kernels}\",\"versions\":{{\"manabi\":\"{}\",\"burn\":\"0.22.1 ({})\"}}}}",
        args.work,
        1e3 * seconds / items.max(1) as f64,
        args.threads,
        args.device,
        env!("CARGO_PKG_VERSION"),
        if args.device == "cpu" {
            "Flex"
        } else {
            args.device.as_str()
        }
    );
    Ok(())
}

/// Sets rayon's global pool size (Flex's threads) unless `RAYON_NUM_THREADS` already does.
fn rayon_threads(n: usize) {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", n.to_string()) };
    }
}
