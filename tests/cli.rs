//! End-to-end tests of the `manabi` binary: the default command, run folders, resume after a
//! kill, and a clear error (no panic, no backtrace, exit code != 0) for each kind of bad input.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_clean_error, manabi, repo, stderr};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_manabi")
}

/// The shared datasets beside the repository (present on developer machines and in CI).
fn datasets() -> Option<PathBuf> {
    let d = repo().join("../shared/datasets");
    if d.join("fashion-mnist").is_dir() {
        Some(d)
    } else {
        eprintln!("skipping: {} not found", d.display());
        None
    }
}

fn metrics(run: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(run.join("metrics.json")).unwrap()).unwrap()
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
}

#[test]
fn default_command_trains_the_embedded_digits_and_fills_the_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let o = manabi(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = dir.path().join("runs/digits_mlp");
    for f in [
        "recipe.toml",
        "model.bpk",
        "history.csv",
        "metrics.json",
        "curves.png",
        "confusion.png",
        "summary.txt",
        "preprocess.json",
    ] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let acc = metrics(&run)["test_accuracy"].as_f64().unwrap();
    assert!(acc >= 0.95, "test accuracy {acc}");
    let history = fs::read_to_string(run.join("history.csv")).unwrap();
    assert!(
        history.starts_with("epoch,loss,accuracy,lr,val_loss,val_accuracy"),
        "{history}"
    );
    assert_eq!(history.lines().count(), 51);

    // embed writes the hidden layer's features of every test sample
    let o = manabi(
        dir.path(),
        &["embed", "runs/digits_mlp", "--out", "emb.csv"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let emb = fs::read_to_string(dir.path().join("emb.csv")).unwrap();
    let header = emb.lines().next().unwrap();
    assert!(header.starts_with("label,x0,"), "{header}");
    let width = header.split(',').count();
    assert!(emb.lines().skip(1).all(|l| l.split(',').count() == width));
    let o = manabi(
        dir.path(),
        &[
            "embed",
            "runs/digits_mlp",
            "--out",
            "e.csv",
            "--layers",
            "99",
        ],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("--layers 99"),
        "{}",
        stderr(&o)
    );

    // evaluate reproduces the test accuracy from the saved weights
    let o = manabi(dir.path(), &["evaluate", "runs/digits_mlp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("test_accuracy: {acc:.4}")),
        "{out} vs {acc}"
    );

    // a second default run goes to a fresh folder instead of overwriting
    let o = manabi(dir.path(), &["train", "--set", "training.epochs=1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("runs/digits_mlp-2/metrics.json").is_file());

    // the same seed gives the same run, number for number
    let o = manabi(dir.path(), &["train", "--set", "training.epochs=1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let losses = |run: &str| {
        let h = fs::read_to_string(dir.path().join(run).join("history.csv")).unwrap();
        let row: Vec<String> = h
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .map(String::from)
            .collect();
        row[..row.len() - 1].to_vec() // all but the wall time
    };
    assert_eq!(losses("runs/digits_mlp-2"), losses("runs/digits_mlp-3"));
    let o = manabi(
        dir.path(),
        &["train", "--set", "training.epochs=1", "--set", "seed=7"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(losses("runs/digits_mlp-2"), losses("runs/digits_mlp-4"));

    // predict on three raw digit rows (0..16 pixels), with a header line
    let csv = dir.path().join("three.csv");
    let mut f = fs::File::create(&csv).unwrap();
    writeln!(
        f,
        "{}",
        (0..64)
            .map(|i| format!("p{i}"))
            .collect::<Vec<_>>()
            .join(",")
    )
    .unwrap();
    let zero = "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0";
    for _ in 0..3 {
        writeln!(f, "{zero}").unwrap();
    }
    drop(f);
    let o = manabi(dir.path(), &["predict", "runs/digits_mlp", "three.csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 4, "{out}");
    assert!(
        rows[1].starts_with("0,0,"),
        "the first digit of the file is a 0: {out}"
    );

    // compare lays two runs' curves side by side
    let o = manabi(
        dir.path(),
        &[
            "compare",
            "runs/digits_mlp",
            "runs/digits_mlp-2",
            "--out",
            "cmp.png",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        fs::read(dir.path().join("cmp.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
    // ... and tabulates their final numbers in markdown
    let table = fs::read_to_string(dir.path().join("cmp.md")).unwrap();
    assert!(table.starts_with("| run | test_accuracy |"), "{table}");
    assert!(table.contains("| digits_mlp-2 | 0."), "{table}");
}

/// A semi-supervised recipe on the embedded digits: 2 labels per class, the rest unlabelled.
/// The model of the digits recipes below: flatten, dense 32 ReLU, dense 10 softmax.
const DIGITS_MLP: &str = r#"[[model.layers]]
type = "flatten"

[[model.layers]]
type = "dense"
units = 32
activation = "relu"

[[model.layers]]
type = "dense"
units = 10
activation = "softmax"
"#;

fn semi_recipe(algorithm: &str, unlabelled: &str) -> String {
    format!(
        r#"name = "digits_semi"
seed = 1

[data]
dataset = "digits"
preprocess = [{{ kind = "scale", divide_by = 16.0 }}]
train_per_class = 2
{unlabelled}

{DIGITS_MLP}
[optimizer]
kind = "sgd"
lr = 0.03
momentum = 0.9

[training]
loss = "sparse_categorical_crossentropy"
epochs = 2
batch_size = 16

[method]
kind = "semi"
steps_per_epoch = 5
unlabelled_ratio = 2
ema_decay = 0.9

[method.algorithm]
{algorithm}

[[augment.views]]
ops = [{{ op = "translate", fraction = 0.125 }}]

[[augment.views]]
ops = [{{ op = "translate", fraction = 0.125 }}, {{ op = "cutout", size = 0.5 }}]
"#
    )
}

#[test]
fn semi_supervised_recipes_train_and_refuse_missing_unlabelled_data() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("semi.toml");
    fs::write(
        &recipe,
        semi_recipe(
            "kind = \"fixmatch\"\nthreshold = 0.5",
            "unlabelled = \"rest\"",
        ),
    )
    .unwrap();
    let o = manabi(dir.path(), &["train", "semi.toml", "--out", "runs/semi"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = dir.path().join("runs/semi");
    let history = fs::read_to_string(run.join("history.csv")).unwrap();
    assert!(
        history.lines().next().unwrap().contains("mask_rate"),
        "{history}"
    );
    let labelled: serde_json::Value =
        serde_json::from_slice(&fs::read(run.join("labelled.json")).unwrap()).unwrap();
    assert_eq!(labelled["indices"].as_array().unwrap().len(), 20);
    let metrics = metrics(&run);
    assert!(metrics["test_accuracy"].as_f64().is_some(), "{metrics}");
    // The moving average is what is tested, but the count is of what trained:
    // dense 64 -> 32 and 32 -> 10.
    assert_eq!(
        metrics["trainable_parameters"],
        64 * 32 + 32 + 32 * 10 + 10,
        "{metrics}"
    );

    // No unlabelled data: a clear error, and no run folder.
    fs::write(&recipe, semi_recipe("kind = \"fixmatch\"", "")).unwrap();
    let o = manabi(dir.path(), &["train", "semi.toml", "--out", "runs/none"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("data.unlabelled") && !err.contains("panicked"),
        "{err}"
    );
    assert!(!dir.path().join("runs/none").exists());

    // A threshold outside (0, 1].
    fs::write(
        &recipe,
        semi_recipe(
            "kind = \"pseudo_label\"\nthreshold = 1.5",
            "unlabelled = \"rest\"",
        ),
    )
    .unwrap();
    let o = manabi(dir.path(), &["train", "semi.toml", "--out", "runs/bad"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("method.algorithm.threshold"),
        "{}",
        stderr(&o)
    );
}

/// An uncompressed IDX file of `count` images of `side x side` with pixels 0..=16.
fn idx_images(path: &Path, count: u32, side: u32) {
    let mut bytes = vec![0, 0, 8, 3];
    for d in [count, side, side] {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend((0..count * side * side).map(|i| (i * 7 % 17) as u8));
    fs::write(path, bytes).unwrap();
}

#[test]
fn streamed_unlabelled_images_train_and_bad_streams_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    idx_images(&dir.path().join("u-idx3-ubyte"), 300, 8);
    let recipe = dir.path().join("semi.toml");
    let with = |algorithm: &str, file: &str| {
        let text = semi_recipe(algorithm, &format!("unlabelled_idx = \"{file}\""));
        fs::write(&recipe, text).unwrap();
    };
    with("kind = \"fixmatch\"\nthreshold = 0.5", "u-idx3-ubyte");
    let o = manabi(dir.path(), &["train", "semi.toml", "--out", "runs/stream"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let history = fs::read_to_string(dir.path().join("runs/stream/history.csv")).unwrap();
    assert_eq!(history.lines().count(), 3, "{history}");

    // The same from a folder of PNG files.
    let folder = dir.path().join("unlabelled");
    fs::create_dir_all(folder.join("part")).unwrap();
    for i in 0..40u32 {
        let img = image::GrayImage::from_fn(8, 8, |x, y| image::Luma([((x + y + i) % 17) as u8]));
        img.save(folder.join("part").join(format!("{i}.png")))
            .unwrap();
    }
    let text = semi_recipe(
        "kind = \"fixmatch\"\nthreshold = 0.5",
        "unlabelled_folder = \"unlabelled\"",
    );
    fs::write(&recipe, text).unwrap();
    let o = manabi(dir.path(), &["train", "semi.toml", "--out", "runs/folder"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("runs/folder/metrics.json").is_file());

    // Images of another size than the labelled ones.
    idx_images(&dir.path().join("big-idx3-ubyte"), 10, 28);
    with("kind = \"fixmatch\"", "big-idx3-ubyte");
    let o = manabi(dir.path(), &["train", "semi.toml", "--out", "runs/big"]);
    assert_clean_error(&o, &["data.unlabelled", "[1, 28, 28]"]);
    // A gzipped file cannot be read at random.
    let gz = dir.path().join("u.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&fs::read(dir.path().join("u-idx3-ubyte")).unwrap())
        .unwrap();
    fs::write(&gz, enc.finish().unwrap()).unwrap();
    with("kind = \"fixmatch\"", "u.gz");
    let o = manabi(dir.path(), &["train", "semi.toml", "--out", "runs/gz"]);
    assert_clean_error(&o, &["u.gz", "gunzip"]);
    // Offline self-training needs the set in memory.
    with("kind = \"self_training\"", "u-idx3-ubyte");
    let text = fs::read_to_string(&recipe).unwrap();
    let one_view = &text[..text.rfind("[[augment.views]]").unwrap()];
    fs::write(&recipe, one_view).unwrap();
    let o = manabi(dir.path(), &["train", "semi.toml", "--out", "runs/self"]);
    assert_clean_error(&o, &["data.unlabelled_idx", "in memory"]);
    // Plain training does not read unlabelled data.
    let o = manabi(
        dir.path(),
        &[
            "train",
            "--out",
            "runs/plain",
            "--set",
            "data.unlabelled_idx=\"u-idx3-ubyte\"",
        ],
    );
    assert_clean_error(&o, &["data.unlabelled_idx", "semi"]);
    for run in ["big", "gz", "self", "plain"] {
        assert!(!dir.path().join("runs").join(run).exists(), "{run}");
    }
}

#[test]
fn several_devices_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let o = manabi(dir.path(), &["train", "--devices", "cpu,cpu"]);
    assert_clean_error(&o, &["data-parallel", "collective", "--device"]);
    let o = manabi(dir.path(), &["train", "--devices", "cpu"]);
    assert_clean_error(&o, &["--device cpu"]);
    assert!(!dir.path().join("runs").exists());
}

#[test]
fn summary_prints_the_seed_cnn_like_keras() {
    let o = manabi(&repo(), &["summary", "recipes/fashion_mnist_cnn.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("(None, 16, 26, 26)"), "{out}");
    assert!(out.contains("Total params: 108618"), "{out}");
}

#[test]
fn missing_data_directory_lists_the_files_and_where_to_get_them() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = repo().join("recipes/fashion_mnist_cnn.toml");
    let recipe = recipe.to_str().unwrap();
    let o = manabi(
        dir.path(),
        &["train", recipe, "--data-dir", "/nonexistent/data"],
    );
    assert_clean_error(
        &o,
        &[
            "fashion-mnist/train-images-idx3-ubyte.gz",
            "/nonexistent/data",
            "--data-dir",
        ],
    );
    let o = manabi(dir.path(), &["train", recipe]);
    assert_clean_error(&o, &["MANABI_DATA"]);
}

/// A data folder whose `mnist/` files are replaced by `files`.
fn fake_mnist(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("mnist");
    fs::create_dir_all(&m).unwrap();
    let idx_images = |n: u32| {
        let mut v = vec![0, 0, 8, 3];
        for d in [n, 2, 2] {
            v.extend(d.to_be_bytes());
        }
        v.extend(vec![7u8; (n * 4) as usize]);
        v
    };
    let idx_labels = |n: u32| {
        let mut v = vec![0, 0, 8, 1];
        v.extend(n.to_be_bytes());
        v.extend(vec![1u8; n as usize]);
        v
    };
    let defaults = [
        ("train-images-idx3-ubyte.gz", idx_images(3)),
        ("train-labels-idx1-ubyte.gz", idx_labels(3)),
        ("t10k-images-idx3-ubyte.gz", idx_images(2)),
        ("t10k-labels-idx1-ubyte.gz", idx_labels(2)),
    ];
    for (name, bytes) in defaults {
        let bytes = files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.clone())
            .unwrap_or(bytes);
        fs::write(m.join(name), bytes).unwrap();
    }
    dir
}

fn mnist_recipe(dir: &Path) -> PathBuf {
    let text = fs::read_to_string(repo().join("recipes/digits_mlp.toml"))
        .unwrap()
        .replace("dataset = \"digits\"", "dataset = \"mnist\"");
    let p = dir.join("mnist.toml");
    write(&p, &text);
    p
}

#[test]
fn truncated_non_idx_and_mismatched_files_are_named() {
    let truncated = {
        let mut v = vec![0, 0, 8, 3];
        for d in [100u32, 28, 28] {
            v.extend(d.to_be_bytes());
        }
        v.extend(vec![0u8; 50]);
        v
    };
    let data = fake_mnist(&[("train-images-idx3-ubyte.gz", truncated)]);
    let recipe = mnist_recipe(data.path());
    let args = |d: &Path| {
        vec![
            "train".to_string(),
            recipe.to_str().unwrap().to_string(),
            "--data-dir".into(),
            d.to_str().unwrap().to_string(),
        ]
    };
    let run = |d: &Path| {
        let a = args(d);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        manabi(data.path(), &a)
    };
    assert_clean_error(&run(data.path()), &["train-images-idx3-ubyte.gz"]);

    let data = fake_mnist(&[(
        "train-labels-idx1-ubyte.gz",
        b"hello, not an IDX file".to_vec(),
    )]);
    assert_clean_error(&run(data.path()), &["train-labels-idx1-ubyte.gz"]);

    let four_labels = {
        let mut v = vec![0, 0, 8, 1];
        v.extend(4u32.to_be_bytes());
        v.extend([1, 2, 3, 4]);
        v
    };
    let data = fake_mnist(&[("train-labels-idx1-ubyte.gz", four_labels)]);
    assert_clean_error(&run(data.path()), &["3", "4", "train-images-idx3-ubyte.gz"]);
}

#[test]
fn recipe_errors_name_the_key_and_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let base = fs::read_to_string(repo().join("recipes/digits_mlp.toml")).unwrap();
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            base.replace("epochs = 50", "epochs = 50\nepochz = 2"),
            vec!["epochz"],
        ),
        (
            base.replace("batch_size = 32", "batch_size = \"big\""),
            vec!["batch_size"],
        ),
        (base.replace("units = 64", "unitz = 64"), vec!["unitz"]),
        (
            // a dense layer straight on the 8x8 image, before the flatten
            base.replacen(
                "type = \"flatten\"",
                "type = \"conv2d\"\nfilters = 4\nkernel = 9",
                1,
            ),
            vec!["layer 0 (conv2d)", "[1, 8, 8]"],
        ),
        (
            base.replace("units = 10", "units = 7"),
            vec!["outputs 7", "needs 10"],
        ),
        ("name = \"x\"\n[data\n".to_string(), vec!["bad.toml"]),
    ];
    for (text, needles) in cases {
        let p = dir.path().join("bad.toml");
        write(&p, &text);
        let o = manabi(dir.path(), &["train", "bad.toml"]);
        assert_clean_error(&o, &needles);
    }
    let o = manabi(dir.path(), &["train", "no-such-recipe.toml"]);
    assert_clean_error(&o, &["no-such-recipe.toml"]);
}

#[test]
fn nan_loss_stops_with_epoch_and_step_and_keeps_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let o = manabi(
        dir.path(),
        &[
            "train",
            "--out",
            "nan",
            "--set",
            "optimizer={kind=\"sgd\", lr=1e30}",
            "--set",
            "training.checkpoint_steps=1",
        ],
    );
    assert_clean_error(&o, &["epoch 1, step", "nan/checkpoint"]);
    let state = dir.path().join("nan/checkpoint/state.json");
    assert!(state.is_file(), "the last good checkpoint is kept");
    assert!(!dir.path().join("nan/model.bpk").exists());
}

#[test]
fn a_run_killed_mid_epoch_resumes_from_its_checkpoint() {
    let Some(data) = datasets() else { return };
    let dir = tempfile::tempdir().unwrap();
    let recipe = repo().join("recipes/fashion_mnist_cnn.toml");
    let mut args: Vec<String> = vec![
        "train".into(),
        recipe.to_str().unwrap().into(),
        "--data-dir".into(),
        data.to_str().unwrap().into(),
        "--out".into(),
        "run".into(),
    ];
    for s in [
        "data.train_limit=3000",
        "data.test_limit=1000",
        "training.epochs=2",
        "training.batch_size=100",
        "training.checkpoint_steps=4",
    ] {
        args.push("--set".into());
        args.push(s.into());
    }
    let mut child = Command::new(bin())
        .args(&args)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let state = dir.path().join("run/checkpoint/state.json");
    let started = Instant::now();
    loop {
        if let Ok(text) = fs::read_to_string(&state) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            if v["global_step"].as_u64().unwrap_or(0) >= 8 {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !dir.path().join("run/metrics.json").exists(),
        "killed before finishing"
    );
    let saved: serde_json::Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    let done = saved["global_step"].as_u64().unwrap();
    assert!(done < 60, "killed before the end, at step {done}");

    args.push("--resume".into());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = manabi(dir.path(), &a);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("resuming"));
    let history = fs::read_to_string(dir.path().join("run/history.csv")).unwrap();
    assert_eq!(history.lines().count(), 3, "{history}");
    let acc = metrics(&dir.path().join("run"))["test_accuracy"]
        .as_f64()
        .unwrap();
    assert!(acc > 0.6, "2 epochs on 3000 images: {acc}");

    // resuming a finished run's folder with another recipe is refused
    args.push("--set".into());
    args.push("training.epochs=3".into());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_clean_error(&manabi(dir.path(), &a), &["differs"]);
}

#[test]
fn label_spreading_labels_the_digits_graph_and_refuses_isolated_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = repo().join("recipes/semi/label_spreading_digits_rbf.toml");
    let recipe = recipe.to_str().unwrap();
    let o = manabi(dir.path(), &["train", recipe, "--out", "runs/spread"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = metrics(&dir.path().join("runs/spread"));
    // scikit-learn's LabelSpreading on this graph reaches about 0.92 (bench/graph_sklearn.py).
    let acc = m["transductive_accuracy"].as_f64().unwrap();
    assert!(acc > 0.88, "{m}");
    // A gamma that makes every weight underflow: a clear error and no run folder.
    let o = manabi(
        dir.path(),
        &[
            "train",
            recipe,
            "--out",
            "runs/cut",
            "--set",
            "transfer.graph.gamma=1000.0",
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no neighbour of positive weight"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("runs/cut").exists());
}

fn dann_recipe(method: &str, target: &str) -> String {
    format!(
        r#"name = "digits_dann"
seed = 1

[data]
dataset = "digits"
preprocess = [{{ kind = "scale", divide_by = 16.0 }}]
validation_split = 0.1
{target}

{DIGITS_MLP}
[optimizer]
kind = "adam"
lr = 0.003

[training]
loss = "sparse_categorical_crossentropy"
epochs = 3
batch_size = 32

{method}
"#
    )
}

/// Digits whose pixels are halved: the same digits in a darker domain.
const DARK_DIGITS: &str = r#"[data.target]
dataset = "digits"
preprocess = [{ kind = "scale", divide_by = 32.0 }]"#;

#[test]
fn dann_adapts_to_a_target_domain_and_refuses_mismatched_domains() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("dann.toml");
    let dann = "[method]\nkind = \"dann\"\ntrunk = 2";
    write(&recipe, &dann_recipe(dann, DARK_DIGITS));
    let o = manabi(dir.path(), &["train", "dann.toml", "--out", "runs/dann"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = dir.path().join("runs/dann");
    let history = fs::read_to_string(run.join("history.csv")).unwrap();
    let header = history.lines().next().unwrap();
    for column in ["domain_loss", "domain_accuracy", "lambda", "val_accuracy"] {
        assert!(header.contains(column), "{header}");
    }
    let m = metrics(&run);
    let (target, source) = (
        m["test_accuracy"].as_f64().unwrap(),
        m["test_source_accuracy"].as_f64().unwrap(),
    );
    assert!(
        source > 0.8 && target > 0.5,
        "source {source}, target {target}"
    );

    // Source only: plain training, tested on the target.
    write(&recipe, &dann_recipe("", DARK_DIGITS));
    let o = manabi(dir.path(), &["train", "dann.toml", "--out", "runs/plain"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(metrics(&dir.path().join("runs/plain"))["test_source_accuracy"].is_number());

    // A target of another image size, another class count, or none at all.
    let cases = [
        (
            DARK_DIGITS.replace(
                "divide_by = 32.0 }",
                "divide_by = 32.0 }, { kind = \"resize\", height = 6, width = 6 }",
            ),
            vec!["data.target", "[1, 6, 6]", "[1, 8, 8]"],
        ),
        (
            format!("{DARK_DIGITS}\nclasses = [0, 1, 2]"),
            vec!["data.target", "3 classes", "10"],
        ),
        (String::new(), vec!["data.target", "DANN"]),
    ];
    for (k, (target, needles)) in cases.iter().enumerate() {
        write(&recipe, &dann_recipe(dann, target));
        let out = format!("runs/bad{k}");
        let o = manabi(dir.path(), &["train", "dann.toml", "--out", &out]);
        assert_clean_error(&o, needles);
        assert!(!dir.path().join(&out).exists());
    }
}

#[test]
fn shift_flags_mnist_against_usps_but_not_digits_against_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("shift.toml");
    let digits = r#"name = "same"
seed = 1
[reference]
dataset = "digits"
split = "train"
[new]
dataset = "digits"
split = "test"
[shift]
samples = 300
permutations = 100
"#;
    write(&recipe, digits);
    let o = manabi(dir.path(), &["shift", "shift.toml", "--out", "out/same"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("no shift detected"), "{out}");
    assert!(dir.path().join("out/same/shift_features.png").is_file());
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("out/same/shift.json")).unwrap()).unwrap();
    assert_eq!(report["covariate_shift"], false);

    // Sides of different sizes: a clear error naming the fix.
    write(
        &recipe,
        &digits.replace(
            "split = \"test\"",
            "split = \"test\"\npreprocess = [{ kind = \"resize\", height = 6, width = 6 }]",
        ),
    );
    let o = manabi(dir.path(), &["shift", "shift.toml", "--out", "out/bad"]);
    assert_clean_error(&o, &["new.preprocess", "resize"]);

    let Some(data) = datasets() else { return };
    let o = Command::new(bin())
        .current_dir(repo())
        .args(["shift", "recipes/domain/shift_mnist_usps.toml", "--out"])
        .arg(dir.path().join("out/mnist_usps"))
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("out/mnist_usps/shift.json")).unwrap())
            .unwrap();
    assert_eq!(report["covariate_shift"], true);
    assert!(
        report["domain_auc"]["auc"].as_f64().unwrap() > 0.95,
        "{report}"
    );
    assert!(
        report["mmd"]["p_value"].as_f64().unwrap() < 0.01,
        "{report}"
    );
}
