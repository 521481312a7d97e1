//! One example of every plot, for looking at by eye:
//! `cargo test --release --lib plot::gallery -- --ignored` writes them to
//! `$MANABI_PLOT_DIR` (default: `<tmp>/manabi-plot-check`).

use std::path::PathBuf;

use super::*;
use crate::train::metrics::ConfusionMatrix;

fn out_dir() -> PathBuf {
    let dir = std::env::var_os("MANABI_PLOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("manabi-plot-check"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
#[ignore = "writes example PNGs for visual inspection"]
fn renders_gallery() {
    let dir = out_dir();
    plot_curves(&curves::tests::history(30), &dir.join("curves.png")).unwrap();
    plot_compare(
        &compare::tests::runs(),
        &["loss", "val_accuracy"],
        &dir.join("compare.png"),
    )
    .unwrap();
    let names = ["airplane", "automobile", "bird"].map(String::from);
    plot_confusion(
        &confusion::tests::matrix(),
        Some(&names),
        &dir.join("confusion.png"),
    )
    .unwrap();
    let truth: Vec<u32> = (0..2000).map(|i| i % 10).collect();
    let pred: Vec<u32> = truth
        .iter()
        .enumerate()
        .map(|(i, &t)| if i % 5 == 0 { (t + i as u32) % 10 } else { t })
        .collect();
    let cm = ConfusionMatrix::from_predictions(&truth, &pred, 10);
    plot_confusion(&cm, None, &dir.join("confusion10.png")).unwrap();
    let truth: Vec<u32> = (0..5000).map(|i| i % 100).collect();
    let pred: Vec<u32> = truth
        .iter()
        .map(|&t| if t % 9 == 0 { (t + 1) % 100 } else { t })
        .collect();
    let cm = ConfusionMatrix::from_predictions(&truth, &pred, 100);
    plot_confusion(&cm, None, &dir.join("confusion100.png")).unwrap();
    let (points, labels) = scatter::tests::clusters();
    let many: Vec<u32> = (0..points.len() as u32).map(|i| i % 15).collect();
    plot_embedding_2d(&points, &many, &dir.join("embedding15.png"), "15 classes").unwrap();
    plot_embedding_2d(
        &points,
        &labels,
        &dir.join("embedding.png"),
        "Embedding (PCA)",
    )
    .unwrap();
}
