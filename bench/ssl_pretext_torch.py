#!/usr/bin/env python3
"""PyTorch reference for four of manabi's self-supervised recipes (recipes/ssl/*.toml):
rotation prediction, masked-image imputation, supervised contrastive learning (SupCon) and
CLIP with template captions (Fashion-MNIST and MNIST). Conventions and helpers (data, split,
init, Adam, probes, kNN, JSON) are those of bench/ssl_torch.py, imported from it.

    bench/.venv/bin/python bench/ssl_pretext_torch.py --method rotation --seed 1    # 15 epochs
    bench/.venv/bin/python bench/ssl_pretext_torch.py --method masked --seed 1      # 30 epochs
    bench/.venv/bin/python bench/ssl_pretext_torch.py --method supcon --seed 1      # 30 epochs
    bench/.venv/bin/python bench/ssl_pretext_torch.py --method clip_fmnist --seed 1 # 10 epochs
    bench/.venv/bin/python bench/ssl_pretext_torch.py --method clip_mnist --seed 1  # 10 epochs
    bench/.venv/bin/python bench/ssl_pretext_torch.py --method rotation --epochs 1  # smoke test
    bench/.venv/bin/python bench/ssl_pretext_torch.py --summary

A run writes bench/results/ssl_<method>_torch_seed<s>.json (with ``--epochs E`` other than the
recipe's: ..._seed<s>_epochs<E>.json), or ``--out``. ``--summary`` prints one table per method
of every bench/results/ssl_<method>_torch_*seed*.json. Runs use 1 thread (``--threads``;
inter-op 1).

Data (as ssl_torch.py): the official 60,000 / 10,000 IDX files, pixels u8 / 255, NCHW
[n, 1, 28, 28] float32 (channels_last); the last 5% of the training rows (3,000) are the
validation split (manabi's validation_split = 0.05), pre-training uses the first 57,000.
Glorot-uniform weights / zero biases on every Conv2d / Linear, Adam lr 1e-3, betas
(0.9, 0.999), eps 1e-7. Seeding: random / numpy / torch seeded with s at start;
torch.manual_seed(s) right before a model is built (its parts in recipe order, one stream).
Batches: rng.permutation(57000) each epoch with rng = np.random.default_rng(s), the last batch
short. Per epoch: mean loss (weighted by images), seconds (training + monitor, as manabi).

The trunk: Conv2d(1->16, 3) ReLU, MaxPool 2, Conv2d(16->32, 3) ReLU, MaxPool 2, Flatten (800)
= manabi's encoder_layers = 5. The kNN monitor (rotation, masked, supcon; manabi
src/train/pretext_fit.rs): 1-NN accuracy of the 3,000 validation images' 800-d trunk features
against the first 5,000 training rows' features.

rotation  (recipes/ssl/rotation_fmnist.toml, src/ssl/rotation.rs, src/ssl/pretext.rs)
  trunk + Linear(800->128) ReLU + Linear(128->4); batch of 128 images -> 512 rows, rotation-major
  (all B images turned 0 quarter turns, then 1, 2, 3; counter-clockwise, torch.rot90 over
  (H, W) == manabi's rotate90), target = the number of turns; cross-entropy on the logits (mean
  over the 4B rows). 15 epochs, no augmentation.
masked    (recipes/ssl/masked_fmnist.toml, src/ssl/masking.rs)
  trunk + Linear(800->512) ReLU + Linear(512->784) sigmoid. Each image's 4 x 4 grid of 7x7
  cells: each cell hidden with p = 0.25, if none, one cell uniformly at random; hidden pixels
  set to 0 in the input. loss = sum over hidden pixels of (out - x)^2 / max(1, hidden pixels in
  the batch). Batch 128, 30 epochs. Masks drawn with np.random.default_rng([s, 2]).
supcon    (recipes/ssl/supcon_fmnist.toml, src/contrastive/info_nce.rs supervised_contrastive)
  ssl_torch.py's SimCLR (same model: trunk + dense128 ReLU + dense128 ReLU + dense64, same two
  augmented views, batch 256, 30 epochs, augmentation rng np.random.default_rng([s, 1])), loss:
  u = z / max(|z|, 1e-12) over the 2B rows, s = u u^T / 0.1 - 1e9 I, log_prob =
  log_softmax(s, 1), l_i = -mean over the positives P(i) (other rows with the same class label,
  both views) of log_prob[i, p], loss = mean over anchors with P(i) non-empty. Labels: the
  57,000 training rows' classes.
clip_fmnist / clip_mnist  (recipes/ssl/clip_*.toml, src/clip/*.rs, src/train/clip_fit.rs,
  src/run/clip_run.rs)
  Class words (aliases, category) and TRAIN_TEMPLATES / ZERO_SHOT_TEMPLATES as
  src/clip/captions.rs; tokens = lower case split on anything but letters, digits, '-';
  vocabulary = every word of every training prompt (each class x template x alias), numbered in
  order of first appearance; a caption's vector = word frequencies over known words (1 / #known
  per occurrence, unknown words skipped). Image tower: trunk + Linear(800->128) ReLU +
  Linear(128->64); text tower (built straight after): Linear(V->128) ReLU + Linear(128->64);
  log_scale = ln(1 / 0.07), a learned parameter, used as exp(min(log_scale, ln 100)). Loss: unit
  rows x / sqrt(|x|^2 + 1e-12), logits = scale * img text^T, (CE(logits, I) + CE(logits^T, I)) / 2.
  Every image's caption is drawn each epoch: a training template then an alias, uniformly, with
  np.random.default_rng([s, 3]). Batch 256, 10 epochs; monitor: zero-shot accuracy of the
  validation split with TRAIN_TEMPLATES. Test: zero-shot accuracy on the 10,000 test images
  per held-out set (name_only, unseen_photo, unseen_category) and with TRAIN_TEMPLATES; class
  embedding = mean of the class's prompts' unit embeddings (every template x alias),
  renormalised; retrieval recall@1/5 both ways among the first 1,000 test images, each with
  one caption drawn (np.random.default_rng([s, 4]): template then alias) from the 6 held-out
  templates; a hit = a top-k item of the query's class.

Evaluation after rotation / masked / supcon (ssl_torch.py's protocols): <method>_conv_linear_probe
and <method>_conv_knn on the trunk's 800-d features (all 60,000 training images' features; probe
Linear(800->10), Adam 1e-3, batch 256, 10 epochs; 1-NN Euclidean against the 60,000), test
accuracy on the 10,000 test images; supcon also supcon_linear_probe / supcon_knn on the 128-d
features (the dense128 ReLU output).

JSON: method, test_metrics (flat), evaluations, per_epoch, train_seconds, seconds_per_epoch,
eval_seconds, wall_seconds, versions, threads, settings, config, machine, command, loadavg.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reference import log, set_thread_env  # noqa: E402  (stdlib-only at import)

RESULTS = HERE / "results"
METHODS = ("rotation", "masked", "supcon", "clip_fmnist", "clip_mnist")
VAL_FRACTION = 0.05
TRUNK_LAYERS = 7  # conv, relu, pool, conv, relu, pool, flatten (manabi's encoder_layers = 5)
CONFIG = dict(
    rotation=dict(dataset="fashion_mnist", epochs=15, batch_size=128, lr=1e-3, head=[128, 4],
                  rotations=4, monitor_reference=5000),
    masked=dict(dataset="fashion_mnist", epochs=30, batch_size=128, lr=1e-3, decoder=[512, 784],
                patch=7, mask_ratio=0.25, fill=0.0, monitor_reference=5000),
    supcon=dict(dataset="fashion_mnist", epochs=30, batch_size=256, lr=1e-3, temperature=0.1,
                projection=[128, 128, 64], self_mask=-1e9, monitor_reference=5000,
                augment="as ssl_torch.py (recipes/ssl/simclr_fmnist.toml views)"),
    clip_fmnist=dict(dataset="fashion_mnist", epochs=10, batch_size=256, lr=1e-3,
                     image_head=[128, 64], text_units=128, temperature=0.07, max_scale=100.0,
                     retrieval_images=1000, retrieval_k=[1, 5]),
    clip_mnist=dict(dataset="mnist", epochs=10, batch_size=256, lr=1e-3,
                    image_head=[128, 64], text_units=128, temperature=0.07, max_scale=100.0,
                    retrieval_images=1000, retrieval_k=[1, 5]),
)

# --- src/clip/captions.rs -------------------------------------------------------------------
TRAIN_TEMPLATES = [
    "a photo of a {}",
    "a picture of a {}",
    "an image of a {}",
    "a greyscale photo of a {}",
    "a small photo of a {}",
    "a {}, a type of {cat}",
    "a {} on a plain background",
    "a centred photo of a single {}",
    "{cat}: a {}",
    "a low resolution image of a {}",
]
ZERO_SHOT_TEMPLATES = [
    ("name_only", ["{}"]),
    ("unseen_photo", ["this is a {}", "look at this {}", "a close-up shot of the {}"]),
    ("unseen_category", ["the {cat} called {}", "an example of {cat}, namely a {}"]),
]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]
FASHION_WORDS = {
    "T-shirt/top": (["t-shirt", "top", "tee"], "upper-body clothing"),
    "Trouser": (["trousers", "pants", "slacks"], "legwear"),
    "Pullover": (["pullover", "sweater", "jumper"], "upper-body clothing"),
    "Dress": (["dress", "gown", "frock"], "clothing"),
    "Coat": (["coat", "jacket", "overcoat"], "outerwear"),
    "Sandal": (["sandal", "open shoe", "flip-flop"], "footwear"),
    "Shirt": (["shirt", "blouse", "button-up shirt"], "upper-body clothing"),
    "Sneaker": (["sneaker", "sports shoe", "trainer"], "footwear"),
    "Bag": (["bag", "handbag", "purse"], "accessory"),
    "Ankle boot": (["ankle boot", "boot", "bootie"], "footwear"),
}
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def class_words(dataset):
    """[(aliases, category)] by label, as src/clip/captions.rs words_of."""
    if dataset == "fashion_mnist":
        return [FASHION_WORDS[n] for n in FASHION_CLASSES]
    return [([f"digit {w}", f"handwritten {w}", f"number {w}", w], "handwritten digit")
            for w in DIGIT_WORDS]


def fill(template, alias, category):
    return template.replace("{cat}", category).replace("{}", alias)


def prompts(templates, words):
    aliases, cat = words
    return [fill(t, a, cat) for t in templates for a in aliases]


_SPLIT = re.compile(r"[^0-9a-z\-]+")


def tokens(text):
    """Lower case, split on anything but letters, digits and '-' (ASCII captions here)."""
    return [w for w in _SPLIT.split(text.lower()) if w]


class Vocabulary:
    def __init__(self, texts):
        self.words = {}
        for t in texts:
            for w in tokens(t):
                self.words.setdefault(w, len(self.words))

    def __len__(self):
        return len(self.words)

    def encode(self, text):
        import numpy as np

        assert tokens(text), f"'{text}' has no words"
        v = np.zeros(len(self), np.float32)
        known = [self.words[w] for w in tokens(text) if w in self.words]
        for k in known:
            v[k] += np.float32(1.0 / len(known))
        return v


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", choices=METHODS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=str, default=None)
    p.add_argument("--limit", type=int, default=None,
                   help="smoke tests: only the first N pre-training, probe and test rows")
    p.add_argument("--summary", action="store_true",
                   help="print tables of bench/results/ssl_<method>_torch_*seed*.json")
    args = p.parse_args(argv)
    if not args.summary and not args.method:
        p.error("--method is required (or --summary)")
    return args


# ==========================================================================
# data / models
# ==========================================================================


LIMIT = None


def load_data(dataset):
    import numpy as np
    import torch
    import common
    from ssl_torch import to_tensor

    load = common.load_fashion_mnist if dataset == "fashion_mnist" else common.load_mnist
    xtr_u8, ytr_np, xte_u8, yte_np = load()
    ytr_np, yte_np = ytr_np.astype(np.int64), yte_np.astype(np.int64)
    (xp_u8, _), (xv_u8, _) = common.keras_validation_split(xtr_u8, ytr_np, VAL_FRACTION)
    assert len(xp_u8) == 57000 and len(xv_u8) == 3000
    x_all, y_all = to_tensor(xtr_u8), torch.from_numpy(ytr_np)
    x_te, y_te = to_tensor(xte_u8), torch.from_numpy(yte_np)
    n = len(xp_u8)
    d = dict(x_all=x_all, y_all=y_all, x_te=x_te, y_te=y_te, x_pre=x_all[:n],
             y_pre=y_all[:n], x_val=x_all[n:], y_val=y_all[n:])
    if LIMIT:
        for k in ("x_all", "y_all", "x_te", "y_te", "x_pre", "y_pre"):
            d[k] = d[k][:LIMIT]
    return d


def dense_stack(d_in, units, last_activation=None):
    """Linear layers of ``units`` from ``d_in``, ReLU between them, then ``last_activation``."""
    import torch.nn as nn
    from reference import torch_keras_init

    layers, d = [], d_in
    for i, u in enumerate(units):
        layers.append(nn.Linear(d, u))
        if i < len(units) - 1:
            layers.append(nn.ReLU())
        d = u
    if last_activation is not None:
        layers.append(last_activation)
    m = nn.Sequential(*layers)
    torch_keras_init(m)
    return m


def build_model(seed, head_units, last_activation=None):
    """torch.manual_seed(seed), then the trunk and the dense head (Linear layers of
    ``head_units`` from 800, ReLU between them, then ``last_activation``) in one stream,
    Glorot / zero; the trunk is the first TRUNK_LAYERS modules."""
    import torch
    import torch.nn as nn
    from reference import torch_keras_init

    torch.manual_seed(seed)
    trunk = [nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
             nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
    model = nn.Sequential(*trunk)
    torch_keras_init(model)
    head = dense_stack(32 * 5 * 5, head_units, last_activation)
    model = nn.Sequential(*trunk, *head)
    return model.to(memory_format=torch.channels_last)


def knn_monitor(trunk, data, cfg):
    from ssl_torch import apply, knn1_accuracy

    n_ref = cfg["monitor_reference"]
    return knn1_accuracy(apply(trunk, data["x_pre"][:n_ref]), data["y_pre"][:n_ref],
                         apply(trunk, data["x_val"]), data["y_val"])


def train_loop(model, params, data, cfg, epochs, seed, batch_loss, monitor):
    """Shuffled batches of the 57,000 (rng.permutation each epoch); ``batch_loss(idx, xb, yb)``
    returns the loss tensor; ``monitor()`` returns a dict of end-of-epoch logs."""
    import numpy as np
    import torch
    from ssl_torch import adam

    opt = adam(params, cfg["lr"])
    rng = np.random.default_rng(seed)
    x, y = data["x_pre"], data["y_pre"]
    n, bs = len(x), cfg["batch_size"]
    per_epoch = []
    t_start = time.perf_counter()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.from_numpy(rng.permutation(n))
        sum_loss, seen, steps = 0.0, 0, 0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            loss = batch_loss(x[idx], y[idx])
            if loss is None:
                continue
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            value = loss.item()
            if not math.isfinite(value):
                raise RuntimeError(f"non-finite loss {value} at epoch {epoch + 1}")
            sum_loss += value * len(idx)
            seen += len(idx)
            steps += 1
        t_train = time.perf_counter() - t0
        tm = time.perf_counter()
        model.eval()
        logs = monitor()
        rec = {"epoch": epoch + 1, "loss": sum_loss / max(seen, 1), **logs, "steps": steps,
               "seconds": time.perf_counter() - t0, "train_seconds": t_train,
               "monitor_seconds": time.perf_counter() - tm}
        per_epoch.append(rec)
        log(f"epoch {epoch + 1} loss={rec['loss']:.4f} " + " ".join(
            f"{k}={v:.4f}" for k, v in logs.items()) + f" {rec['seconds']:.1f}s "
            f"(monitor {rec['monitor_seconds']:.1f}s)")
    return per_epoch, time.perf_counter() - t_start


# ==========================================================================
# pretext objectives
# ==========================================================================


def rotation_batch(xb):
    """Rotation-major: all images at 0 quarter turns, then 1, 2, 3 (counter-clockwise)."""
    import torch

    b = xb.shape[0]
    views = torch.cat([torch.rot90(xb, k, dims=(2, 3)) for k in range(4)])
    views = views.contiguous(memory_format=torch.channels_last)
    return views, torch.arange(4).repeat_interleave(b)


def check_rotation():
    """manabi's test: [[1, 2], [3, 4]] -> [[2, 4], [1, 3]] -> [[4, 3], [2, 1]] -> [[3, 1], [4, 2]]."""
    import torch

    img = torch.tensor([[1.0, 2.0], [3.0, 4.0]])[None, None]
    want = [[1, 2, 3, 4], [2, 4, 1, 3], [4, 3, 2, 1], [3, 1, 4, 2]]
    views, labels = rotation_batch(img)
    assert views.reshape(4, 4).tolist() == want, views
    assert labels.tolist() == [0, 1, 2, 3]


def hide_patches(b, rng, cfg):
    """(B, 1, 28, 28) float32 hidden mask: each 7x7 cell with p = ratio, at least one."""
    import numpy as np
    import torch

    p, size = cfg["patch"], 28
    rows = cols = -(-size // p)
    cells = rows * cols
    chosen = rng.random((b, cells)) < cfg["mask_ratio"]
    none = ~chosen.any(1)
    if none.any():
        pick = rng.integers(0, cells, int(none.sum()))
        chosen[np.flatnonzero(none), pick] = True
    grid = chosen.reshape(b, rows, cols).astype(np.float32)
    full = grid.repeat(p, 1).repeat(p, 2)[:, :size, :size]
    return torch.from_numpy(np.ascontiguousarray(full))[:, None]


def supervised_contrastive(z, labels, temperature, self_mask=-1e9):
    import torch
    import torch.nn.functional as F

    n = z.shape[0]
    u = F.normalize(z, p=2, dim=1, eps=1e-12)
    eye = torch.eye(n, dtype=torch.bool)
    s = (u @ u.t()) / temperature + eye.to(z.dtype) * self_mask
    log_prob = F.log_softmax(s, dim=1)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    count = pos.sum(1)
    anchors = int((count > 0).sum())
    if anchors == 0:
        raise RuntimeError("no sample of the batch has a positive")
    weights = pos.to(z.dtype) / count.clamp_min(1)[:, None].to(z.dtype)
    return -(log_prob * weights).sum() / anchors


def check_supcon():
    """Against the naive f64 formula of info_nce.rs' test (labels [0, 0, 1, 1, 0, 2])."""
    import torch

    zz = [0.3, -1.2, 0.5, 0.9, 0.1, 0.4, -0.7, 0.2, 0.6, 1.1, -0.3, 0.8]
    labels = [0, 0, 1, 1, 0, 2]
    z = torch.tensor(zz).reshape(6, 2)
    got = supervised_contrastive(z, torch.tensor(labels), 0.1).item()
    u = [[a / math.hypot(a, b), b / math.hypot(a, b)] for a, b in z.double().tolist()]
    s = lambda i, j: (u[i][0] * u[j][0] + u[i][1] * u[j][1]) / 0.1  # noqa: E731
    total, anchors = 0.0, 0
    for i in range(6):
        denom = sum(math.exp(s(i, k)) for k in range(6) if k != i)
        pos = [j for j in range(6) if j != i and labels[j] == labels[i]]
        if not pos:
            continue
        anchors += 1
        total -= sum(math.log(math.exp(s(i, p)) / denom) for p in pos) / len(pos)
    want = total / anchors
    assert abs(got - want) < 1e-4, (got, want)


# ==========================================================================
# rotation / masked / supcon runs
# ==========================================================================


def conv_evaluations(trunk, data, seed, tag, ev):
    from ssl_torch import apply, knn_eval, linear_probe

    t0 = time.perf_counter()
    ftr, fte = apply(trunk, data["x_all"]), apply(trunk, data["x_te"])
    log(f"[{tag}] features {tuple(ftr.shape)} ({time.perf_counter() - t0:.1f}s)")
    ev[f"{tag}_linear_probe"] = linear_probe(ftr, data["y_all"], fte, data["y_te"], seed, tag)
    ev[f"{tag}_knn"] = knn_eval(ftr, data["y_all"], fte, data["y_te"], tag)


def run_pretext(method, seed, epochs):
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    cfg = CONFIG[method]
    data = load_data(cfg["dataset"])
    extra = {}
    if method == "rotation":
        check_rotation()
        model = build_model(seed, cfg["head"])
        params = list(model.parameters())

        def batch_loss(xb, yb):
            views, turns = rotation_batch(xb)
            return F.cross_entropy(model(views), turns)
    elif method == "masked":
        model = build_model(seed, cfg["decoder"], nn.Sigmoid())
        params = list(model.parameters())
        mask_rng = np.random.default_rng([seed, 2])
        share = {"hidden": 0.0, "pixels": 0}

        def batch_loss(xb, yb):
            hidden = hide_patches(len(xb), mask_rng, cfg)
            masked = (xb * (1.0 - hidden) + hidden * cfg["fill"]).contiguous(
                memory_format=torch.channels_last)
            out = model(masked)
            target = xb.reshape(len(xb), -1)
            h = hidden.reshape(len(xb), -1)
            count = h.sum()
            share["hidden"] += count.item()
            share["pixels"] += h.numel()
            return (((out - target) ** 2) * h).sum() / count.clamp_min(1.0)
        extra["mask"] = share
    else:  # supcon
        from ssl_torch import augment

        check_supcon()
        model = build_model(seed, cfg["projection"])
        params = list(model.parameters())
        aug_rng = np.random.default_rng([seed, 1])
        aug = {"seconds": 0.0}

        def batch_loss(xb, yb):
            if len(xb) < 2:
                return None  # one image has no negatives
            ta = time.perf_counter()
            views = torch.cat([augment(xb, aug_rng), augment(xb, aug_rng)])
            views = views.contiguous(memory_format=torch.channels_last)
            aug["seconds"] += time.perf_counter() - ta
            return supervised_contrastive(model(views), torch.cat([yb, yb]),
                                          cfg["temperature"], cfg["self_mask"])
        extra["augment"] = aug

    trunk = model[:TRUNK_LAYERS]
    log(f"[{method}] {len(data['x_pre'])} images, batch {cfg['batch_size']}, {epochs} epochs; "
        f"model {model}")

    def monitor():
        logs = {"val_knn_accuracy": knn_monitor(trunk, data, cfg)}
        if method == "masked":
            logs["hidden_share"] = share["hidden"] / max(share["pixels"], 1)
            share["hidden"], share["pixels"] = 0.0, 0
        if method == "supcon":
            logs["augment_seconds"] = aug["seconds"]
            aug["seconds"] = 0.0
        return logs

    per_epoch, train_secs = train_loop(model, params, data, cfg, epochs, seed, batch_loss,
                                       monitor)
    log(f"[{method}] train_seconds={train_secs:.1f}")
    model.eval()
    t_eval = time.perf_counter()
    ev = {}
    conv_evaluations(trunk, data, seed, f"{method}_conv", ev)
    if method == "supcon":
        conv_evaluations(model[:TRUNK_LAYERS + 2], data, seed, "supcon", ev)
    eval_secs = time.perf_counter() - t_eval
    return {"test_metrics": {k: v["test_accuracy"] for k, v in ev.items()},
            "evaluations": ev, "per_epoch": per_epoch, "train_seconds": train_secs,
            "seconds_per_epoch": train_secs / max(epochs, 1), "eval_seconds": eval_secs,
            "rows": {"pretrain": len(data["x_pre"]), "validation": len(data["x_val"]),
                     "monitor_reference": cfg["monitor_reference"],
                     "probe_train": len(data["x_all"]), "test": len(data["x_te"])}}


# ==========================================================================
# CLIP
# ==========================================================================


def unit_rows(x):
    return x / (x.pow(2).sum(1, keepdim=True) + 1e-12).sqrt()


class Clip:
    def __init__(self, seed, vocab_size, cfg):
        import torch
        import torch.nn as nn

        self.image = build_model(seed, cfg["image_head"])  # seeds
        self.text = dense_stack(vocab_size, [cfg["text_units"], cfg["image_head"][-1]])
        self.log_scale = nn.Parameter(torch.tensor([math.log(1.0 / cfg["temperature"])],
                                                   dtype=torch.float32))
        self.max_log = math.log(cfg["max_scale"])

    def parameters(self):
        return list(self.image.parameters()) + list(self.text.parameters()) + [self.log_scale]

    def scale_t(self):
        return self.log_scale.clamp(max=self.max_log).exp()

    def scale(self):
        return math.exp(min(self.log_scale.item(), self.max_log))

    def loss(self, images, bags):
        import torch
        import torch.nn.functional as F

        logits = unit_rows(self.image(images)) @ unit_rows(self.text(bags)).t() * self.scale_t()
        t = torch.arange(len(images))
        return (F.cross_entropy(logits, t) + F.cross_entropy(logits.t(), t)) / 2.0


def embed_texts(clip, vocab, texts):
    import numpy as np
    import torch

    bags = torch.from_numpy(np.stack([vocab.encode(t) for t in texts]))
    with torch.no_grad():
        return unit_rows(clip.text(bags))


def embed_images(clip, x):
    from ssl_torch import apply

    return apply(lambda b: unit_rows(clip.image(b)), x)


def class_embeddings(clip, vocab, words, templates):
    import torch

    rows = [embed_texts(clip, vocab, prompts(templates, w)).mean(0) for w in words]
    return unit_rows(torch.stack(rows))


def zero_shot_accuracy(clip, vocab, words, templates, x, y, img_emb=None):
    classes = class_embeddings(clip, vocab, words, templates)
    images = embed_images(clip, x) if img_emb is None else img_emb
    pred = (images @ classes.t()).argmax(1)
    return (pred == y).double().mean().item()


def retrieval_recall(clip, vocab, words, templates, x, y, n, ks, seed):
    import numpy as np

    rng = np.random.default_rng([seed, 4])
    labels = y[:n].tolist()
    captions = []
    for l in labels:
        aliases, cat = words[l]
        t = templates[rng.integers(len(templates))]
        captions.append(fill(t, aliases[rng.integers(len(aliases))], cat))
    texts = embed_texts(clip, vocab, captions)
    images = embed_images(clip, x[:n])
    sim = images @ texts.t()
    yy = y[:n]
    out = []
    for k in ks:
        i2t = (yy[sim.topk(k, dim=1).indices] == yy[:, None]).any(1).double().mean().item()
        t2i = (yy[sim.t().topk(k, dim=1).indices] == yy[:, None]).any(1).double().mean().item()
        out.append((k, i2t, t2i))
    return out, captions[:10]


def run_clip(method, seed, epochs):
    import numpy as np
    import torch
    from ssl_torch import adam

    cfg = CONFIG[method]
    data = load_data(cfg["dataset"])
    words = class_words(cfg["dataset"])
    training_texts = [p for w in words for p in prompts(TRAIN_TEMPLATES, w)]
    vocab = Vocabulary(training_texts)
    assert "close-up" not in vocab.words
    # Every training caption's vector, by (class, template, alias).
    max_alias = max(len(a) for a, _ in words)
    table = np.zeros((len(words), len(TRAIN_TEMPLATES), max_alias, len(vocab)), np.float32)
    for c, (aliases, cat) in enumerate(words):
        for t, tpl in enumerate(TRAIN_TEMPLATES):
            for a, alias in enumerate(aliases):
                table[c, t, a] = vocab.encode(fill(tpl, alias, cat))
    table = torch.from_numpy(table)
    n_alias = np.array([len(a) for a, _ in words])
    clip = Clip(seed, len(vocab), cfg)
    log(f"[{method}] vocabulary {len(vocab)} words; image tower {clip.image}; "
        f"text tower {clip.text}; scale {clip.scale():.4f}")
    opt = adam(clip.parameters(), cfg["lr"])
    rng = np.random.default_rng(seed)
    caption_rng = np.random.default_rng([seed, 3])
    x, y = data["x_pre"], data["y_pre"]
    y_np = y.numpy()
    n, bs = len(x), cfg["batch_size"]
    per_epoch = []
    t_start = time.perf_counter()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        perm = rng.permutation(n)
        sum_loss, seen, steps = 0.0, 0, 0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            if len(idx) < 2:
                continue  # one pair has no negatives
            cls = y_np[idx]
            tpl = caption_rng.integers(0, len(TRAIN_TEMPLATES), len(idx))
            ali = np.floor(caption_rng.random(len(idx)) * n_alias[cls]).astype(np.int64)
            bags = table[torch.from_numpy(cls), torch.from_numpy(tpl), torch.from_numpy(ali)]
            loss = clip.loss(x[torch.from_numpy(idx)], bags)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            value = loss.item()
            if not math.isfinite(value):
                raise RuntimeError(f"non-finite loss {value} at epoch {epoch + 1}")
            sum_loss += value * len(idx)
            seen += len(idx)
            steps += 1
        t_train = time.perf_counter() - t0
        tm = time.perf_counter()
        mon = zero_shot_accuracy(clip, vocab, words, TRAIN_TEMPLATES, data["x_val"],
                                 data["y_val"])
        rec = {"epoch": epoch + 1, "loss": sum_loss / max(seen, 1), "scale": clip.scale(),
               "val_zero_shot_accuracy": mon, "steps": steps,
               "seconds": time.perf_counter() - t0, "train_seconds": t_train,
               "monitor_seconds": time.perf_counter() - tm}
        per_epoch.append(rec)
        log(f"epoch {epoch + 1} loss={rec['loss']:.4f} scale={rec['scale']:.3f} "
            f"val_zero_shot_accuracy={mon:.4f} {rec['seconds']:.1f}s")
    train_secs = time.perf_counter() - t_start
    log(f"[{method}] train_seconds={train_secs:.1f}")

    t_eval = time.perf_counter()
    metrics = {"clip_scale": clip.scale()}
    img_te = embed_images(clip, data["x_te"])
    for name, templates in ZERO_SHOT_TEMPLATES:
        metrics[f"zero_shot_{name}_accuracy"] = zero_shot_accuracy(
            clip, vocab, words, templates, data["x_te"], data["y_te"], img_te)
    metrics["zero_shot_training_templates_accuracy"] = zero_shot_accuracy(
        clip, vocab, words, TRAIN_TEMPLATES, data["x_te"], data["y_te"], img_te)
    held_out = [t for _, ts in ZERO_SHOT_TEMPLATES for t in ts]
    recall, sample = retrieval_recall(clip, vocab, words, held_out, data["x_te"], data["y_te"],
                                      min(cfg["retrieval_images"], len(data["x_te"])),
                                      cfg["retrieval_k"], seed)
    for k, i2t, t2i in recall:
        metrics[f"image_to_text_recall_at_{k}"] = i2t
        metrics[f"text_to_image_recall_at_{k}"] = t2i
    eval_secs = time.perf_counter() - t_eval
    log(f"[{method}] " + " ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
    return {"test_metrics": metrics, "per_epoch": per_epoch, "train_seconds": train_secs,
            "seconds_per_epoch": train_secs / max(epochs, 1), "eval_seconds": eval_secs,
            "vocabulary": vocab.words, "retrieval_caption_sample": sample,
            "rows": {"pretrain": n, "validation": len(data["x_val"]),
                     "test": len(data["x_te"]), "retrieval": cfg["retrieval_images"]}}


# ==========================================================================
# summary
# ==========================================================================


def summary():
    any_found = False
    for method in METHODS:
        files = sorted(RESULTS.glob(f"ssl_{method}_torch_*seed*.json"))
        if not files:
            continue
        any_found = True
        runs = [json.loads(f.read_text()) for f in files]
        print(f"\n### ssl_{method}, PyTorch {runs[0]['versions']['torch']}\n")
        print("| | " + " | ".join(f.stem.replace(f"ssl_{method}_torch_", "") for f in files)
              + " |")
        print("| --- |" + " ---: |" * len(files))
        print("| epochs | " + " | ".join(str(r["epochs"]) for r in runs) + " |")
        print("| threads | " + " | ".join(str(r["threads"]) for r in runs) + " |")
        print("| s / epoch | " + " | ".join(f"{r['seconds_per_epoch']:.1f}" for r in runs)
              + " |")
        print("| final loss | " + " | ".join(f"{r['per_epoch'][-1]['loss']:.4f}" for r in runs)
              + " |")
        mon = "val_zero_shot_accuracy" if method.startswith("clip") else "val_knn_accuracy"
        print(f"| final {mon} | " + " | ".join(
            f"{r['per_epoch'][-1][mon]:.4f}" for r in runs) + " |")
        keys = []
        for r in runs:
            keys += [k for k in r["test_metrics"] if k not in keys]
        for k in keys:
            vals = [r["test_metrics"].get(k) for r in runs]
            print(f"| {k} | " + " | ".join("-" if v is None else f"{v:.4f}" for v in vals)
                  + " |")
        print("| eval s | " + " | ".join(f"{r['eval_seconds']:.0f}" for r in runs) + " |")
        print("| wall s | " + " | ".join(f"{r['wall_seconds']:.0f}" for r in runs) + " |")
    if not any_found:
        print("no bench/results/ssl_<method>_torch_*seed*.json")


# ==========================================================================


def main(argv=None):
    args = parse_args(argv)
    if args.summary:
        summary()
        return
    set_thread_env(args.threads)
    import numpy as np
    import torch
    import common

    common.seed_torch(torch, args.threads, args.seed)
    method = args.method
    global LIMIT
    LIMIT = args.limit
    epochs = args.epochs if args.epochs is not None else CONFIG[method]["epochs"]
    default_name = f"ssl_{method}_torch_seed{args.seed}" + (
        "" if epochs == CONFIG[method]["epochs"] else f"_epochs{epochs}") + (
        f"_limit{args.limit}" if args.limit else "")
    out = Path(args.out) if args.out else RESULTS / f"{default_name}.json"
    log(f"== ssl_{method} / torch / seed {args.seed} / {epochs} epochs / "
        f"{args.threads} threads")
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    body = (run_clip if method.startswith("clip") else run_pretext)(method, args.seed, epochs)
    wall = time.perf_counter() - t0
    cfg = copy.deepcopy(CONFIG[method])
    cfg["epochs"] = epochs
    result = {
        "work": f"ssl_{method}",
        "framework": "torch",
        "method": method,
        "seed": args.seed,
        "epochs": epochs,
        "limit": args.limit,
        "test_metrics": body.pop("test_metrics"),
        "wall_seconds": wall,
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "threads": args.threads,
        "settings": {"torch_num_threads": torch.get_num_threads(),
                     "torch_num_interop_threads": torch.get_num_interop_threads(),
                     "init": "keras (glorot_uniform, zero bias)", "adam_eps": 1e-7,
                     "dtype": "float32", "memory_format": "channels_last",
                     "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")},
        "config": cfg,
    }
    result.update(body)
    common.write_result(result, out, load_start, __file__, argv)
    log(f"wrote {out}: " + json.dumps({k: round(v, 4) for k, v in
                                       result["test_metrics"].items()})
        + f" train={result['train_seconds']:.0f}s eval={result['eval_seconds']:.0f}s "
        f"wall={wall:.0f}s")


if __name__ == "__main__":
    main()
