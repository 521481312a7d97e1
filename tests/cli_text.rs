//! End-to-end tests of text runs: IMDB reviews, the user's own texts, predictions on raw
//! text, damaged text data, and sequence-to-sequence recipes.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::{assert_clean_error, manabi, repo, stderr, stdout};

/// The probabilities of the positive class printed by `manabi predict` on a text run.
fn positive_probabilities(o: &Output) -> Vec<f64> {
    assert!(o.status.success(), "{}", stderr(o));
    let out = stdout(o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("row,class,label,p_pos"), "{out}");
    lines
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .collect()
}

#[test]
fn an_imdb_slice_trains_and_predicts_on_raw_text() {
    let data = repo().join("../shared/datasets");
    if !data.join("imdb/aclImdb_v1_labeled.tar.gz").is_file() {
        eprintln!("skipping: no IMDB archive");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let recipe = repo().join("recipes/imdb_simple_rnn.toml");
    let o = manabi(
        dir.path(),
        &[
            "train",
            recipe.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            "run",
            "--set",
            "data.train_limit=2000",
            "--set",
            "data.test_limit=500",
            "--set",
            "training.epochs=1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run = dir.path().join("run");
    assert!(run.join("text_encoding.json").is_file());
    let metrics: serde_json::Value =
        serde_json::from_slice(&fs::read(run.join("metrics.json")).unwrap()).unwrap();
    assert!(metrics["test_accuracy"].as_f64().unwrap() > 0.5);

    // One text, an empty text, non-ASCII text, and a file of lines (blank ones skipped).
    for text in ["this movie was wonderful", "", "très bien — 映画 😀"] {
        let p = positive_probabilities(&manabi(dir.path(), &["predict", "run", text]));
        assert_eq!(p.len(), 1, "{text}");
        assert!((0.0..=1.0).contains(&p[0]), "{text}: {p:?}");
    }
    fs::write(
        dir.path().join("reviews.txt"),
        "A wonderful, moving film.\n\nDull and far too long.\n",
    )
    .unwrap();
    let p = positive_probabilities(&manabi(dir.path(), &["predict", "run", "reviews.txt"]));
    assert_eq!(p.len(), 2);
}

#[test]
fn own_texts_from_a_folder_and_a_csv_train_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (good, bad) = (
        ["a great film", "great acting, great story", "I loved it"],
        ["a dull film", "boring story, dull acting", "I hated it"],
    );
    for (class, texts) in [("neg", bad), ("pos", good)] {
        let folder = root.join("train").join(class);
        fs::create_dir_all(&folder).unwrap();
        for (i, t) in texts.iter().enumerate() {
            fs::write(folder.join(format!("{i}.txt")), t).unwrap();
        }
    }
    fs::write(
        root.join("test.csv"),
        "label,text\npos,\"great, great film\"\nneg,dull\n",
    )
    .unwrap();
    let recipe = r#"
name = "own_text"
[data]
[data.text]
num_words = 50
maxlen = 8
train = "train"
test = "test.csv"
[[model.layers]]
type = "embedding"
input_dim = 50
output_dim = 8
mask_zero = true
[[model.layers]]
type = "gru"
units = 4
[[model.layers]]
type = "dense"
units = 1
activation = "sigmoid"
[optimizer]
kind = "adam"
lr = 0.01
[training]
loss = "binary_crossentropy"
epochs = 2
batch_size = 2
"#;
    fs::write(root.join("own.toml"), recipe).unwrap();
    let o = manabi(root, &["train", "own.toml", "--out", "run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = positive_probabilities(&manabi(root, &["predict", "run", "great"]));
    assert_eq!(p.len(), 1);

    // A test class the training folders lack is named.
    fs::write(root.join("test.csv"), "label,text\nmeh,so-so\n").unwrap();
    let o = manabi(root, &["train", "own.toml", "--out", "run2"]);
    assert_clean_error(&o, &["test.csv", "'meh'"]);
}

/// A data folder with `imdb/` holding the given archive and word index bytes.
fn imdb_dir(archive: &[u8], word_index: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("imdb")).unwrap();
    fs::write(dir.path().join("imdb/aclImdb_v1_labeled.tar.gz"), archive).unwrap();
    fs::write(dir.path().join("imdb/imdb_word_index.json"), word_index).unwrap();
    dir
}

#[test]
fn damaged_imdb_files_are_named() {
    let recipe = repo().join("recipes/imdb_simple_rnn.toml");
    let recipe = recipe.to_str().unwrap();
    let run = |data: &Path| {
        let out = tempfile::tempdir().unwrap();
        manabi(
            out.path(),
            &["train", recipe, "--data-dir", data.to_str().unwrap()],
        )
    };
    // Not a gzip file at all.
    let data = imdb_dir(b"this is not an archive", br#"{"the": 1}"#);
    assert_clean_error(&run(data.path()), &["aclImdb_v1_labeled.tar.gz"]);
    // A word index that is not JSON.
    let real = repo().join("../shared/datasets/imdb/aclImdb_v1_labeled.tar.gz");
    let archive = fs::read(&real).unwrap_or_else(|_| b"x".to_vec());
    let data = imdb_dir(&archive, b"{\"the\": 1, \"film\": ");
    assert_clean_error(&run(data.path()), &["imdb_word_index.json"]);
    // A missing word index is listed with where the data is published.
    fs::remove_file(data.path().join("imdb/imdb_word_index.json")).unwrap();
    assert_clean_error(
        &run(data.path()),
        &["imdb/imdb_word_index.json", "Maas et al."],
    );
}

#[test]
fn a_seq2seq_recipe_trains_through_the_cli_and_translates() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = repo().join("recipes/seq2seq_attention.toml");
    let o = manabi(
        dir.path(),
        &[
            "train",
            recipe.to_str().unwrap(),
            "--out",
            "run",
            "--set",
            "seq2seq.epochs=1",
            "--set",
            "seq2seq.data.train=300",
            "--set",
            "seq2seq.data.test=40",
            "--set",
            "seq2seq.hidden=16",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("test_exact_match: "), "{}", stdout(&o));
    let run = dir.path().join("run");
    for f in ["recipe.toml", "model.bpk", "metrics.json", "attention.png"] {
        assert!(run.join(f).is_file(), "{f}");
    }
    let metrics: serde_json::Value =
        serde_json::from_slice(&fs::read(run.join("metrics.json")).unwrap()).unwrap();
    assert!(metrics["test_exact_match"].is_number());
    let o = manabi(dir.path(), &["predict", "run", "Mar 3, 98"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("input,output\n\"Mar 3, 98\",\""), "{out}");
    // The same folder again is refused rather than overwritten.
    let o = manabi(
        dir.path(),
        &["train", recipe.to_str().unwrap(), "--out", "run"],
    );
    assert_clean_error(&o, &["already holds a run"]);
}

/// The layers of a tiny causal decoder over `pieces` subword ids, 32 per review.
fn tiny_decoder(pieces: usize) -> String {
    format!(
        r#"
[[model.layers]]
type = "embedding"
input_dim = {pieces}
output_dim = 16
mask_zero = true
[[model.layers]]
type = "positional_encoding"
kind = "learned"
max_len = 32
[[model.layers]]
type = "transformer_encoder"
heads = 2
ff_dim = 32
dropout = 0.0
causal = true
[[model.layers]]
type = "layer_norm"
"#
    )
}

/// A run's optimiser and budget (two epochs of batch 16).
const TINY_TRAINING: &str = r#"
[optimizer]
kind = "adam"
lr = 0.003
[training]
loss = "sparse_categorical_crossentropy"
epochs = 2
batch_size = 16
"#;

/// A tiny next-piece model on an IMDB slice (subword vocabulary of 600 pieces).
fn tiny_gpt() -> String {
    format!(
        r#"
name = "tiny_gpt"
seed = 1
[data]
dataset = "imdb"
train_limit = 300
test_limit = 40
validation_split = 0.1
[data.text]
tokenizer = "subword"
vocab_size = 600
maxlen = 32
{decoder}
[[model.layers]]
type = "dense"
units = 600
activation = "softmax"
{TINY_TRAINING}
[method]
kind = "next_token"
encoder_layers = 4
steps_per_epoch = 10
eval_texts = 20
"#,
        decoder = tiny_decoder(600)
    )
}

/// The tiny model's decoder under adapters and a last-piece softmax head; `text` goes into
/// `[data.text]`, `pieces` is the embedding's row count.
fn tuned_recipe(text: &str, pieces: usize) -> String {
    format!(
        r#"
name = "tiny_adapter"
seed = 2
[data]
dataset = "imdb"
train_per_class = 40
test_limit = 60
[data.text]
tokenizer = "subword"
maxlen = 32
{text}
{decoder}
[[model.layers]]
type = "last_token"
[[model.layers]]
type = "dense"
units = 2
activation = "softmax"
{TINY_TRAINING}
[transfer]
init_from = "gpt"
backbone = 4
train = "head"
tuning = {{ kind = "adapter", bottleneck = 4 }}
"#,
        decoder = tiny_decoder(pieces)
    )
}

#[test]
fn a_subword_language_model_pretrains_generates_and_tunes_adapters() {
    let data = repo().join("../shared/datasets");
    if !data.join("imdb/aclImdb_v1_labeled.tar.gz").is_file() {
        eprintln!("skipping: no IMDB archive");
        return;
    }
    let data = data.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("gpt.toml"), tiny_gpt()).unwrap();
    let o = manabi(
        dir.path(),
        &["train", "gpt.toml", "--data-dir", data, "--out", "gpt"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let metrics: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("gpt/metrics.json")).unwrap()).unwrap();
    for key in [
        "test_perplexity",
        "test_unigram_perplexity",
        "test_bigram_perplexity",
    ] {
        let v = metrics[key].as_f64().unwrap();
        assert!(v.is_finite() && v > 1.0, "{key}: {v}");
    }

    // Seeded generation: two continuations that start with the prompt, the same again.
    let args = [
        "generate",
        "gpt",
        "This movie",
        "--samples",
        "2",
        "--max-pieces",
        "6",
        "--seed",
        "3",
    ];
    let first = manabi(dir.path(), &args);
    assert!(first.status.success(), "{}", stderr(&first));
    let lines: Vec<String> = stdout(&first).lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines.iter().all(|l| l.starts_with("This movie")),
        "{lines:?}"
    );
    assert_eq!(stdout(&manabi(dir.path(), &args)), stdout(&first));
    // A prompt longer than the 32-piece window is cut, with a notice.
    let long = "the film was long and the plot was thin ".repeat(10);
    let o = manabi(dir.path(), &["generate", "gpt", &long, "--max-pieces", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("were dropped"), "{}", stderr(&o));
    // A bad option is a clean error.
    let o = manabi(dir.path(), &["generate", "gpt", "x", "--top-p", "0"]);
    assert_clean_error(&o, &["--top-p"]);

    // Adapters on the frozen decoder: only they and the head are saved, and the run
    // evaluates on top of its base.
    fs::write(
        dir.path().join("tuned.toml"),
        tuned_recipe("vocab = \"gpt\"", 600),
    )
    .unwrap();
    let o = manabi(
        dir.path(),
        &["train", "tuned.toml", "--data-dir", data, "--out", "tuned"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let tuned = dir.path().join("tuned");
    assert!(tuned.join("tuned.bpk").is_file() && !tuned.join("model.bpk").exists());
    assert!(
        fs::metadata(tuned.join("tuned.bpk")).unwrap().len()
            < fs::metadata(dir.path().join("gpt/model.bpk"))
                .unwrap()
                .len()
                / 4
    );
    let metrics: serde_json::Value =
        serde_json::from_slice(&fs::read(tuned.join("metrics.json")).unwrap()).unwrap();
    let accuracy = metrics["test_accuracy"].as_f64().unwrap();
    let o = manabi(dir.path(), &["evaluate", "tuned", "--data-dir", data]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("{accuracy:.4}")),
        "{} vs {accuracy}",
        stdout(&o)
    );
    // Another vocabulary (599 pieces, one merge fewer) does not match the base run's model.
    fs::write(
        dir.path().join("mismatch.toml"),
        tuned_recipe("vocab_size = 599", 599),
    )
    .unwrap();
    let o = manabi(
        dir.path(),
        &["train", "mismatch.toml", "--data-dir", data, "--out", "bad"],
    );
    assert_clean_error(&o, &["does not match"]);
    assert!(!dir.path().join("bad").exists());
}
