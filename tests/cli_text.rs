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
