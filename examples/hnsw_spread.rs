//! Label spreading on a million embeddings with an HNSW graph (issue 11, item 6): the scale
//! benchmark behind docs/scaling.md.
//!
//! ```text
//! cargo build --release --example hnsw_spread
//! target/release/examples/hnsw_spread --data-dir ../shared/datasets --points 1000000
//! ```
//!
//! The 70,000 Fashion-MNIST images (scaled to 0..1) are embedded by PCA to `--dims`
//! components; the rest of the `--points` are synthetic: each on the segment from a random real
//! point towards one of its 10 nearest real neighbours (as SMOTE makes them), plus Gaussian
//! noise of `--jitter` times the embedding's mean per-component spread, keeping the first
//! point's hidden label. 4 training images per class (seeded) are labelled. A kNN graph
//! (`--k`, symmetric) is built with HNSW, its recall@k measured against exact search on
//! `--recall-queries` random nodes, and label spreading (alpha 0.99, at most `--rounds`) labels
//! every node. Printed: each phase's seconds, recall, the accuracy on the 10,000 real test
//! images and on every unlabelled node, and the peak resident memory. `--exact` builds the
//! graph by exact search instead (the oracle; use it on small `--points`).
//!
//! `--knn-gallery` measures kNN classification instead: the synthetic points are made from the
//! 60,000 training images only, and the 10,000 test images are classified by the `--k` nearest
//! of every other point (a labelled gallery of `--points - 10,000`), once by exact search and
//! once through HNSW, with the recall of the HNSW lists against the exact ones.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use manabi::data::{DatasetName, Targets, load_builtin, pca_project, per_class_indices};
use manabi::semi::{Graph, Propagation};
use manabi::train::metrics::ConfusionMatrix;
use manabi::transfer::{
    NeighbourSearch, nearest_neighbours, query_recall, recall_at_k, vote_neighbours,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

struct Args {
    data_dir: PathBuf,
    points: usize,
    dims: usize,
    k: usize,
    search: NeighbourSearch,
    jitter: f32,
    rounds: usize,
    per_class: usize,
    recall_queries: usize,
    seed: u64,
    knn_gallery: bool,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        data_dir: std::env::var_os("MANABI_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("../shared/datasets")),
        points: 1_000_000,
        dims: 32,
        k: 10,
        search: NeighbourSearch::Hnsw {
            m: 12,
            ef_construction: 64,
            ef_search: 32,
        },
        jitter: 0.02,
        rounds: 100,
        per_class: 4,
        recall_queries: 1000,
        seed: 1,
        knn_gallery: false,
    };
    let (mut m, mut efc, mut efs, mut exact) = (12, 64, 32, false);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--exact" {
            exact = true;
            continue;
        }
        if flag == "--knn-gallery" {
            a.knn_gallery = true;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let num = || {
            value
                .parse::<usize>()
                .with_context(|| format!("{flag} {value}"))
        };
        match flag.as_str() {
            "--data-dir" => a.data_dir = PathBuf::from(&value),
            "--points" => a.points = num()?,
            "--dims" => a.dims = num()?,
            "--k" => a.k = num()?,
            "--m" => m = num()?,
            "--ef-construction" => efc = num()?,
            "--ef-search" => efs = num()?,
            "--jitter" => a.jitter = value.parse().context("--jitter")?,
            "--per-class" => a.per_class = num()?,
            "--rounds" => a.rounds = num()?,
            "--recall-queries" => a.recall_queries = num()?,
            "--seed" => a.seed = num()? as u64,
            other => bail!("unknown option {other}"),
        }
    }
    a.search = if exact {
        NeighbourSearch::Exact
    } else {
        NeighbourSearch::Hnsw {
            m,
            ef_construction: efc,
            ef_search: efs,
        }
    };
    a.search.validate("--m/--ef-*")?;
    Ok(a)
}

fn labels_of(t: &Targets) -> Result<Vec<u32>> {
    match t {
        Targets::Classes { labels, .. } => Ok(labels.clone()),
        _ => bail!("Fashion-MNIST should have class labels"),
    }
}

/// Peak resident memory of this process in MiB (Linux), 0 elsewhere.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The share of `pred` equal to `truth` (10 classes).
fn accuracy(pred: &[u32], truth: &[u32]) -> f64 {
    ConfusionMatrix::from_predictions(truth, pred, 10).accuracy()
}

/// The number of connected components of `graph`.
fn components(graph: &Graph) -> usize {
    let mut seen = vec![false; graph.len()];
    let mut count = 0;
    let mut stack = Vec::new();
    for start in 0..graph.len() {
        if seen[start] {
            continue;
        }
        count += 1;
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            for (j, _) in graph.row(i) {
                if !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
    }
    count
}

fn main() -> Result<()> {
    let a = parse_args()?;
    let t0 = Instant::now();
    let splits = load_builtin(DatasetName::FashionMnist, Some(&a.data_dir))?;
    let (train_n, test_n) = (splits.train.len(), splits.test.len());
    let mut pixels = splits.train.features.clone();
    pixels.extend_from_slice(&splits.test.features);
    pixels.iter_mut().for_each(|v| *v /= 255.0);
    let mut truth = labels_of(&splits.train.targets)?;
    truth.extend(labels_of(&splits.test.targets)?);
    let real = train_n + test_n;
    let d = a.dims;
    let mut points = pca_project(&pixels, 784, d);
    drop(pixels);
    let embed_s = t0.elapsed().as_secs_f64();

    // Synthetic points up to `points` nodes, SMOTE-style: each lies on the segment from a random
    // real point towards one of its 10 nearest real neighbours, plus a little Gaussian noise,
    // and keeps the first point's label. Plain noisy copies would form islands of siblings
    // that no label crosses.
    let t = Instant::now();
    let spread: f32 = (0..d)
        .map(|c| {
            let col = points.iter().skip(c).step_by(d);
            let mean = col.clone().sum::<f32>() / real as f32;
            (col.map(|v| (v - mean) * (v - mean)).sum::<f32>() / real as f32).sqrt()
        })
        .sum::<f32>()
        / d as f32;
    let n = a.points.max(real);
    // With --knn-gallery the test images stay out of the synthetic points.
    let base = if a.knn_gallery { train_n } else { real };
    let real_near = if n > real {
        nearest_neighbours(&points[..base * d], d, 10)
    } else {
        Vec::new()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let noise = Normal::new(0.0f32, a.jitter * spread)?;
    points.reserve((n - real) * d);
    for _ in real..n {
        let src = rng.random_range(0..base);
        let (to, _) = real_near[src][rng.random_range(0..real_near[src].len())];
        let step: f32 = rng.random();
        for c in 0..d {
            let (x, y) = (points[src * d + c], points[to * d + c]);
            let v = x + step * (y - x) + noise.sample(&mut rng);
            points.push(v);
        }
        truth.push(truth[src]);
    }
    let mut known: Vec<Option<u32>> = vec![None; n];
    for i in per_class_indices(&splits.train, a.per_class, a.seed)? {
        known[i] = Some(truth[i]);
    }
    let synth_s = t.elapsed().as_secs_f64();
    eprintln!(
        "{n} points ({real} real, {} synthetic, jitter {} x spread {spread:.3}), {d} dims: embedded in {embed_s:.1} s, synthetic in {synth_s:.1} s",
        n - real,
        a.jitter
    );

    if a.knn_gallery {
        return knn_gallery(&a, &points, &truth, train_n, real, t0);
    }
    let t = Instant::now();
    let near = a.search.neighbours(&points, d, a.k);
    let search_s = t.elapsed().as_secs_f64();
    eprintln!("neighbours ({:?}): {search_s:.1} s", a.search);
    let t = Instant::now();
    let recall = recall_at_k(&near, &points, d, a.recall_queries, a.seed);
    let recall_s = t.elapsed().as_secs_f64();
    eprintln!(
        "recall@{} on {} random nodes: {recall:.4} ({recall_s:.1} s)",
        a.k, a.recall_queries
    );

    let t = Instant::now();
    let edges = near
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row.iter().map(move |&(j, _)| (i, j, 1.0)));
    let graph = Graph::symmetric(n, edges);
    drop(near);
    graph.check_connected("the kNN graph")?;
    let parts = components(&graph);
    let graph_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let out = Propagation::Spread { alpha: 0.99 }.run(&graph, &known, 10, a.rounds, 1e-3);
    let spread_s = t.elapsed().as_secs_f64();
    let labels = out.labels();
    let test_acc = accuracy(&labels[train_n..real], &truth[train_n..real]);
    let (unl_pred, unl_truth): (Vec<u32>, Vec<u32>) = (0..n)
        .filter(|&i| known[i].is_none())
        .map(|i| (labels[i], truth[i]))
        .unzip();
    let all_acc = accuracy(&unl_pred, &unl_truth);
    let total_s = t0.elapsed().as_secs_f64();
    println!(
        "{{\"points\": {n}, \"dims\": {d}, \"k\": {}, \"search\": \"{:?}\", \"labelled\": {}, \"recall_at_k\": {recall:.4}, \"test_accuracy\": {test_acc:.4}, \"unlabelled_accuracy\": {all_acc:.4}, \"rounds\": {}, \"components\": {parts}, \"seconds\": {{\"embed\": {embed_s:.1}, \"synthetic\": {synth_s:.1}, \"neighbours\": {search_s:.1}, \"graph\": {graph_s:.1}, \"spreading\": {spread_s:.1}, \"recall\": {recall_s:.1}, \"total\": {total_s:.1}}}, \"peak_rss_mib\": {:.0}, \"threads\": {}}}",
        a.k,
        a.search,
        known.iter().flatten().count(),
        out.rounds,
        peak_rss_mib(),
        rayon::current_num_threads()
    );
    Ok(())
}

/// kNN classification of the real test images against every other point, exact and HNSW.
fn knn_gallery(
    a: &Args,
    points: &[f32],
    truth: &[u32],
    train_n: usize,
    real: usize,
    t0: Instant,
) -> Result<()> {
    let d = a.dims;
    let mut gallery = points[..train_n * d].to_vec();
    gallery.extend_from_slice(&points[real * d..]);
    let mut labels = truth[..train_n].to_vec();
    labels.extend_from_slice(&truth[real..]);
    let queries = &points[train_n * d..real * d];
    let test_truth = &truth[train_n..real];
    let t = Instant::now();
    let exact = NeighbourSearch::Exact.query(&gallery, queries, d, a.k);
    let exact_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let approx = a.search.query(&gallery, queries, d, a.k);
    let approx_s = t.elapsed().as_secs_f64();
    let recall = query_recall(&approx, &gallery, queries, d, queries.len() / d, a.seed);
    let exact_acc = accuracy(&vote_neighbours(&exact, &labels), test_truth);
    let approx_acc = accuracy(&vote_neighbours(&approx, &labels), test_truth);
    println!(
        "{{\"gallery\": {}, \"queries\": {}, \"dims\": {d}, \"k\": {}, \"search\": \"{:?}\", \"exact_seconds\": {exact_s:.1}, \"exact_accuracy\": {exact_acc:.4}, \"hnsw_seconds\": {approx_s:.1}, \"hnsw_accuracy\": {approx_acc:.4}, \"hnsw_recall_at_k\": {recall:.4}, \"total_seconds\": {:.1}, \"peak_rss_mib\": {:.0}, \"threads\": {}}}",
        labels.len(),
        test_truth.len(),
        a.k,
        a.search,
        t0.elapsed().as_secs_f64(),
        peak_rss_mib(),
        rayon::current_num_threads()
    );
    Ok(())
}
