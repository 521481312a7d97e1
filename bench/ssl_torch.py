#!/usr/bin/env python3
"""PyTorch reference for manabi's SimCLR recipe (recipes/ssl/simclr_fmnist.toml) and the
linear-probe / kNN / few-label protocol that evaluates it.

    bench/.venv/bin/python bench/ssl_torch.py --seed 1                # 30 epochs, 1 thread
    bench/.venv/bin/python bench/ssl_torch.py --seed 1 --epochs 1     # smoke test
    bench/.venv/bin/python bench/ssl_torch.py --seed 2 --skip-finetune \
        --out bench/results/ssl_simclr_torch_conv_seed2.json              # probes / kNN only
    bench/.venv/bin/python bench/ssl_torch.py --check-augment         # vectorised vs per-image
    bench/.venv/bin/python bench/ssl_torch.py --summary

A run writes bench/results/ssl_simclr_torch_seed<s>.json (with ``--epochs E`` other than 30:
ssl_simclr_torch_seed<s>_epochs<E>.json; with ``--skip-finetune`` the name ends in ``_noft``),
or ``--out``; ``--summary`` prints a table of every bench/results/ssl_simclr_torch_*seed*.json
(files written before the conv-feature evaluations show "-" for those rows).
``--skip-finetune`` skips the few-label fine-tuning and from-scratch trainings: their
test_accuracy entries are then null and their evaluations absent.
Runs use 1 thread by default (``--threads``; intra-op threads, inter-op 1).

Data: Fashion-MNIST, the official 60,000 / 10,000 files, pixels u8 / 255, NCHW [n, 1, 28, 28]
(float32, stored channels_last). Keras-style validation split as manabi's [data]
validation_split = 0.05: the LAST 5% of the training rows, before any shuffling
(int(60000 * 0.95) = 57,000 "pre-training" rows 0..56999, 3,000 validation rows 57000..59999).
SimCLR trains on the 57,000 without their labels.

Model (the seed CNN's trunk + SimCLR's projection head, as the recipe's 8 layers):
    encoder  Conv2d(1->16, 3x3, valid) ReLU, MaxPool 2x2       # 28 -> 26 -> 13
             Conv2d(16->32, 3x3, valid) ReLU, MaxPool 2x2      # 13 -> 11 -> 5
             Flatten (800), Linear(800->128) ReLU                # the 128-d features
    head     Linear(128->128) ReLU, Linear(128->64)              # dropped after pre-training
Glorot-uniform weights, zero biases (Keras' defaults) on every Conv2d / Linear. Adam lr 1e-3,
betas (0.9, 0.999), eps 1e-7 everywhere.

Seeding: random.seed(s), np.random.seed(s), torch.manual_seed(s) at start; torch.manual_seed(s)
again right before every model part is built: the SimCLR encoder (then its projection head
straight after, same stream), the random-init encoder (so identical to SimCLR's starting
weights), each probe / fine-tune head, each from-scratch encoder.

SimCLR pre-training (Chen et al. 2020; manabi src/train/contrastive_fit.rs):
  Each epoch rng.permutation(57000) with rng = np.random.default_rng(s) (one generator for the
  whole run); batches of 256 in that order, the last one short (57000 = 222 * 256 + 168: 223
  steps per epoch); a batch of 1 would be skipped (no negatives). Every batch is drawn as two
  views (view 1 of all B images, then view 2), each image of each view through this pipeline
  with its own random parameters, drawn with a second generator
  aug_rng = np.random.default_rng([s, 1]) (view 1's parameters for the batch, then view 2's):
    1. random resized crop (src/augment/geometric.rs): up to 10 tries of area share
       u ~ U[0.25, 1], aspect ratio r = exp(U[ln 3/4, ln 4/3]); cw = sqrt(784 u r),
       ch = sqrt(784 u / r); the first try with cw <= 28 and ch <= 28 wins, then
       x0 ~ U[0, 28 - cw], y0 ~ U[0, 28 - ch]; no try fits: the whole image (0, 0, 28, 28).
       Output 28x28, pixel (x, y) reads the input at x_in = x0 + (x + 0.5) cw / 28 - 0.5,
       y_in = y0 + (y + 0.5) ch / 28 - 0.5 by bilinear interpolation, reads outside the image
       are 0 (F.grid_sample, align_corners=False, padding_mode="zeros").
    2. horizontal flip, p = 0.5.
    3. brightness, p = 0.8: x -> clamp(f x, 0, 1), f ~ U[0.6, 1.4].
    4. contrast, p = 0.8: x -> clamp(m + f (x - m), 0, 1), f ~ U[0.6, 1.4], m = mean of the
       image's 784 values (after step 3).
    5. Gaussian blur, p = 0.3: sigma ~ U[0.1, 1.0], kernel exp(-i^2 / (2 sigma^2)) for
       i = -R..R, R = ceil(3 sigma), normalised; separable (rows, then columns), edges
       replicated.
  The augmentation is vectorised over the batch (``--check-augment`` compares it with a
  per-image loop port of manabi's Rust code on the same parameters).
  Loss: NT-Xent (src/contrastive/info_nce.rs) over the 2B projections z: u = z / max(|z|,
  1e-12), s = u u^T / 0.5, -1e9 added to the diagonal, loss = mean over the 2B anchors of
  -log_softmax(s_i)[the other view of i]. 30 epochs (``--epochs``).
  Per epoch: mean loss (weighted by batch size), seconds (training + monitor, as manabi),
  augment_seconds (the part spent augmenting), and the kNN monitor: 1-NN accuracy of the
  3,000 validation images' encoder features against the first 5,000 training rows' features.

Evaluation of the frozen 128-d encoder features (``simclr``: after pre-training; ``random``:
the encoder as built, no training), of the same two encoders' conv features (``simclr_conv``,
``random_conv``: the 800-d Flatten output after conv16-pool-conv32-pool, before the dense
128 layer) and of raw pixels (``pixels``: 784-d u8 / 255), each by the same two protocols:
  linear_probe  Linear(d->10) (d = 128, 800 or 784), Glorot / zero, cross-entropy (mean over the
                batch) on ALL 60,000 training images' features (computed once), Adam lr 1e-3,
                batch 256, 10 epochs, rng.permutation(60000) each epoch with a fresh
                np.random.default_rng(s); accuracy on the 10,000 test images.
  knn           1-nearest neighbour, Euclidean, reference = the 60,000 training images,
                queries = the 10,000 test images; squared distances |r|^2 - 2 q.r in float64
                (torch.mm) on the float32 features, first index on ties.
  The monitor above uses the same 1-NN code.

Few labels (fine-tuning, every parameter trains): 60 and 600 labelled images per class, each
drawn with a fresh np.random.default_rng(s): for each class ascending,
rng.choice(rows of that class among the 57,000 in file order, n, replace=False), sorted.
Encoder + new Linear(128->10) head (Glorot / zero), cross-entropy, Adam lr 1e-3, batch 50,
shuffled every epoch with a fresh np.random.default_rng(s), epochs so that there are about 600
steps (50 epochs for 600 images, 5 epochs for 6,000):
  finetune_simclr   the pre-trained encoder (a copy) + new head
  scratch           a fresh encoder (torch.manual_seed(s); Glorot / zero) + new head
accuracy on the 10,000 test images.

JSON: test_accuracy (flat: simclr_linear_probe, simclr_knn, random_linear_probe, random_knn,
pixels_linear_probe, pixels_knn, finetune_simclr_60pc, scratch_60pc, finetune_simclr_600pc,
scratch_600pc, simclr_conv_linear_probe, simclr_conv_knn, random_conv_linear_probe,
random_conv_knn; the four few-label ones null with --skip-finetune), skip_finetune, evaluations (per entry: accuracy, final train loss / accuracy, seconds, sizes),
per_epoch, train_seconds (the SimCLR loop with its monitor), eval_seconds (everything after),
wall_seconds, few_label_indices, versions (torch, numpy, python), threads, settings, config,
machine, command, loadavg.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reference import log, set_thread_env  # noqa: E402  (stdlib-only at import)

RESULTS = HERE / "results"
ADAM_EPS = 1e-7
VAL_FRACTION = 0.05
SIZE = 28
CONFIG = dict(
    simclr=dict(epochs=30, batch_size=256, lr=1e-3, temperature=0.5, projection=[128, 64],
                monitor_reference=5000, self_mask=-1e9),
    augment=dict(crop_scale=[0.25, 1.0], crop_ratio=[0.75, 4.0 / 3.0], crop_tries=10,
                 flip_p=0.5, brightness=0.4, brightness_p=0.8, contrast=0.4, contrast_p=0.8,
                 blur_sigma=[0.1, 1.0], blur_p=0.3),
    linear_probe=dict(epochs=10, batch_size=256, lr=1e-3, train_rows=60000),
    few_labels=dict(batch_size=50, lr=1e-3, epochs={60: 50, 600: 5}),
)
ACC_KEYS = ("simclr_linear_probe", "simclr_knn", "random_linear_probe", "random_knn",
            "pixels_linear_probe", "pixels_knn", "finetune_simclr_60pc", "scratch_60pc",
            "finetune_simclr_600pc", "scratch_600pc",
            "simclr_conv_linear_probe", "simclr_conv_knn", "random_conv_linear_probe",
            "random_conv_knn")
# The encoder's layers up to and including Flatten (conv16-pool-conv32-pool-flatten: 800-d).
CONV_LAYERS = 7


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=CONFIG["simclr"]["epochs"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=str, default=None,
                   help="JSON output (default bench/results/ssl_simclr_torch_seed<N>.json)")
    p.add_argument("--skip-finetune", action="store_true",
                   help="skip the 1%% / 10%% label fine-tuning and from-scratch trainings")
    p.add_argument("--summary", action="store_true",
                   help="print a table of bench/results/ssl_simclr_torch_*seed*.json")
    p.add_argument("--check-augment", action="store_true",
                   help="compare the vectorised augmentation with a per-image loop port")
    return p.parse_args(argv)


# ==========================================================================
# data
# ==========================================================================


def to_tensor(x_u8):
    """u8 (N, 28, 28) -> float32 NCHW (N, 1, 28, 28) in [0, 1], stored channels_last."""
    import numpy as np
    import torch

    x = torch.from_numpy(x_u8.astype(np.float32) / 255.0)[:, None]
    return x.contiguous(memory_format=torch.channels_last)


def pick_per_class(y, classes, per_class, seed):
    """Rows of ``y`` (file order), ``per_class`` of each class, drawn with
    np.random.default_rng(seed), classes in ascending order (as transfer_torch.py)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for c in sorted(classes):
        idx = np.flatnonzero(y == c)
        rows.append(np.sort(rng.choice(idx, per_class, replace=False)))
    return np.concatenate(rows)


# ==========================================================================
# augmentation
# ==========================================================================


def draw_params(rng, b):
    """One view's random parameters for ``b`` images (numpy arrays, float32 like manabi)."""
    import numpy as np

    a = CONFIG["augment"]
    s = rng.uniform(a["crop_scale"][0], a["crop_scale"][1], (b, a["crop_tries"]))
    logr = rng.uniform(math.log(a["crop_ratio"][0]), math.log(a["crop_ratio"][1]),
                       (b, a["crop_tries"]))
    area = SIZE * SIZE * s
    r = np.exp(logr)
    cw_t, ch_t = np.sqrt(area * r), np.sqrt(area / r)
    ok = (cw_t <= SIZE) & (ch_t <= SIZE)
    first = ok.argmax(1)
    fits = ok.any(1)
    rows = np.arange(b)
    cw = np.where(fits, cw_t[rows, first], float(SIZE))
    ch = np.where(fits, ch_t[rows, first], float(SIZE))
    u = rng.random((b, 2))
    x0 = np.where(fits, u[:, 0] * (SIZE - cw), 0.0)
    y0 = np.where(fits, u[:, 1] * (SIZE - ch), 0.0)
    f32 = np.float32
    return dict(
        x0=x0.astype(f32), y0=y0.astype(f32), cw=cw.astype(f32), ch=ch.astype(f32),
        flip=rng.random(b) < a["flip_p"],
        bright=rng.random(b) < a["brightness_p"],
        bright_f=(1.0 + rng.uniform(-a["brightness"], a["brightness"], b)).astype(f32),
        contrast=rng.random(b) < a["contrast_p"],
        contrast_f=(1.0 + rng.uniform(-a["contrast"], a["contrast"], b)).astype(f32),
        blur=rng.random(b) < a["blur_p"],
        sigma=rng.uniform(a["blur_sigma"][0], a["blur_sigma"][1], b).astype(f32),
    )


def apply_params(x, p):
    """The pipeline on a batch ``x`` [B, 1, 28, 28] with parameters ``p`` (vectorised)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    b = x.shape[0]
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    # 1. random resized crop: pixel coordinate -> grid_sample's normalised coordinate
    # (align_corners=False): g = (2 x_in + 1) / 28 - 1.
    pos = (torch.arange(SIZE, dtype=torch.float32) + 0.5) / SIZE          # (28,)
    xs = t(p["x0"])[:, None] + pos[None] * t(p["cw"])[:, None] - 0.5        # (B, 28)
    ys = t(p["y0"])[:, None] + pos[None] * t(p["ch"])[:, None] - 0.5
    gx = (2.0 * xs + 1.0) / SIZE - 1.0
    gy = (2.0 * ys + 1.0) / SIZE - 1.0
    grid = torch.stack([gx[:, None, :].expand(b, SIZE, SIZE),
                        gy[:, :, None].expand(b, SIZE, SIZE)], dim=-1)
    out = F.grid_sample(x.contiguous(), grid, mode="bilinear", padding_mode="zeros",
                        align_corners=False)
    # 2. flip
    m = t(p["flip"])[:, None, None, None]
    out = torch.where(m, out.flip(-1), out)
    # 3. brightness
    m = t(p["bright"])[:, None, None, None]
    f = t(p["bright_f"])[:, None, None, None]
    out = torch.where(m, (out * f).clamp(0.0, 1.0), out)
    # 4. contrast (mean over the whole image)
    m = t(p["contrast"])[:, None, None, None]
    f = t(p["contrast_f"])[:, None, None, None]
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = torch.where(m, (mean + f * (out - mean)).clamp(0.0, 1.0), out)
    # 5. Gaussian blur: 7 taps (R <= 3), those beyond the image's own R weigh 0
    blur = t(p["blur"])
    if bool(blur.any()):
        sel = torch.nonzero(blur).squeeze(1)
        sigma = t(p["sigma"])[sel]
        radius = torch.ceil(3.0 * sigma)                                    # (k,)
        taps = torch.arange(-3, 4, dtype=torch.float32)
        k = torch.exp(-(taps[None] ** 2) / (2.0 * sigma[:, None] ** 2))
        k = torch.where(taps[None].abs() <= radius[:, None], k, torch.zeros(()))
        k = k / k.sum(1, keepdim=True)                                      # (k, 7)
        img = out[sel]
        xp = F.pad(img, (3, 3, 0, 0), mode="replicate")
        h = sum(k[:, j, None, None, None] * xp[..., j:j + SIZE] for j in range(7))
        hp = F.pad(h, (0, 0, 3, 3), mode="replicate")
        v = sum(k[:, j, None, None, None] * hp[..., j:j + SIZE, :] for j in range(7))
        out = out.clone()
        out[sel] = v
    return out


def augment(x, rng):
    return apply_params(x, draw_params(rng, x.shape[0]))


def reference_apply(img, p, i):
    """Per-image loop port of manabi's Rust ops (src/augment/*.rs), image ``i`` of ``p``;
    ``img`` a float32 numpy (28, 28)."""
    import numpy as np

    h = w = SIZE
    f32 = np.float32

    def at(plane, xi, yi):
        if xi < 0 or yi < 0 or xi >= w or yi >= h:
            return f32(0.0)
        return plane[int(yi), int(xi)]

    def bilinear(plane, x, y):
        if not (x > -1.0 and y > -1.0 and x < w and y < h):
            return f32(0.0)
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = x - x0, y - y0
        top = at(plane, x0, y0) * (1 - fx) + at(plane, x0 + 1, y0) * fx
        bot = at(plane, x0, y0 + 1) * (1 - fx) + at(plane, x0 + 1, y0 + 1) * fx
        return top * (1 - fy) + bot * fy

    sx, sy = p["cw"][i] / f32(w), p["ch"][i] / f32(h)
    m2 = p["x0"][i] + f32(0.5) * sx - f32(0.5)
    m5 = p["y0"][i] + f32(0.5) * sy - f32(0.5)
    out = np.zeros((h, w), f32)
    for y in range(h):
        for x in range(w):
            out[y, x] = bilinear(img, sx * f32(x) + m2, sy * f32(y) + m5)
    if p["flip"][i]:
        out = out[:, ::-1].copy()
    if p["bright"][i]:
        out = np.clip(out * p["bright_f"][i], 0, 1)
    if p["contrast"][i]:
        mean = out.sum(dtype=f32) / f32(out.size)
        out = np.clip(mean + p["contrast_f"][i] * (out - mean), 0, 1)
    if p["blur"][i]:
        sigma = p["sigma"][i]
        r = int(math.ceil(3.0 * sigma))
        k = np.array([math.exp(-(j * j) / (2.0 * sigma * sigma)) for j in range(-r, r + 1)], f32)
        k = k / k.sum()
        tmp = np.zeros_like(out)
        for y in range(h):
            for x in range(w):
                tmp[y, x] = sum(g * out[y, min(max(x + j - r, 0), w - 1)] for j, g in enumerate(k))
        res = np.zeros_like(out)
        for y in range(h):
            for x in range(w):
                res[y, x] = sum(g * tmp[min(max(y + j - r, 0), h - 1), x] for j, g in enumerate(k))
        out = res
    return out.astype(f32)


def check_augment(seed, n=64):
    import numpy as np
    import torch
    import common

    xtr, _, _, _ = common.load_fashion_mnist()
    x = to_tensor(xtr[:n])
    p = draw_params(np.random.default_rng([seed, 1]), n)
    got = apply_params(x, p).numpy()[:, 0]
    want = np.stack([reference_apply(x[i, 0].numpy(), p, i) for i in range(n)])
    err = float(np.abs(got - want).max())
    counts = {k: int(p[k].sum()) for k in ("flip", "bright", "contrast", "blur")}
    full = int(((p["cw"] == SIZE) & (p["ch"] == SIZE)).sum())
    log(f"check-augment: {n} images, max |vectorised - loop| = {err:.2e}; "
        f"applied {counts}, whole-image crops {full}; "
        f"range [{got.min():.3f}, {got.max():.3f}]")
    # Timing of one 2 x 256 batch.
    xb = to_tensor(xtr[:256])
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(10):
        augment(xb, rng), augment(xb, rng)
    log(f"check-augment: {(time.perf_counter() - t0) / 10 * 1000:.1f} ms per 2 x 256 views "
        f"({torch.get_num_threads()} threads)")
    assert err < 1e-5, err


# ==========================================================================
# models
# ==========================================================================


def build_encoder(seed):
    import torch
    import torch.nn as nn
    from reference import torch_keras_init

    torch.manual_seed(seed)
    enc = nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 5 * 5, 128), nn.ReLU(),
    )
    torch_keras_init(enc)
    return enc.to(memory_format=torch.channels_last)


def build_projection():
    """Built straight after the encoder (same torch stream)."""
    import torch.nn as nn
    from reference import torch_keras_init

    head = nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 64))
    torch_keras_init(head)
    return head


def build_linear(d, k, seed):
    import torch
    import torch.nn as nn
    from reference import torch_keras_init

    torch.manual_seed(seed)
    head = nn.Linear(d, k)
    torch_keras_init(head)
    return head


def adam(params, lr):
    import torch

    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=ADAM_EPS)


def nt_xent(z, temperature):
    import torch
    import torch.nn.functional as F

    n2 = z.shape[0]
    n = n2 // 2
    u = F.normalize(z, p=2, dim=1, eps=1e-12)
    s = (u @ u.t()) / temperature
    s = s + torch.eye(n2, dtype=s.dtype) * CONFIG["simclr"]["self_mask"]
    target = torch.cat([torch.arange(n, n2), torch.arange(0, n)])
    return F.cross_entropy(s, target)


# ==========================================================================
# evaluation helpers
# ==========================================================================


def apply(fn, x, batch=1000):
    import torch

    with torch.no_grad():
        return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


def knn1_accuracy(ref, yref, q, yq, chunk=1000):
    """1-NN (Euclidean): argmin over the reference of |r|^2 - 2 q.r in float64."""
    import torch

    r = ref.double()
    rn = (r * r).sum(1)
    correct = 0
    for i in range(0, len(q), chunk):
        qq = q[i:i + chunk].double()
        d = rn[None, :] - 2.0 * (qq @ r.t())
        correct += (yref[d.argmin(1)] == yq[i:i + chunk]).sum().item()
    return correct / len(q)


def train_classifier(model, params, x, y, epochs, batch_size, lr, seed):
    """Cross-entropy training, rng.permutation each epoch (fresh default_rng(seed))."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    opt = adam(params, lr)
    rng = np.random.default_rng(seed)
    n = len(x)
    per_epoch = []
    t0 = time.perf_counter()
    for epoch in range(epochs):
        perm = torch.from_numpy(rng.permutation(n))
        sum_loss, correct = 0.0, 0
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            out = model(x[idx])
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sum_loss += loss.item() * len(idx)
            correct += (out.detach().argmax(1) == y[idx]).sum().item()
        per_epoch.append({"epoch": epoch + 1, "loss": sum_loss / n, "accuracy": correct / n})
    return per_epoch, time.perf_counter() - t0


def accuracy(model, x, y):
    out = apply(model, x)
    return (out.argmax(1) == y).double().mean().item()


def linear_probe(ftr, ytr, fte, yte, seed, tag):
    cfg = CONFIG["linear_probe"]
    head = build_linear(ftr.shape[1], 10, seed)
    per_epoch, secs = train_classifier(head, list(head.parameters()), ftr, ytr,
                                       cfg["epochs"], cfg["batch_size"], cfg["lr"], seed)
    acc = accuracy(head, fte, yte)
    log(f"[{tag}_linear_probe] test_accuracy={acc:.4f} final train loss="
        f"{per_epoch[-1]['loss']:.4f} acc={per_epoch[-1]['accuracy']:.4f} ({secs:.1f}s)")
    return {"test_accuracy": acc, "dims": int(ftr.shape[1]),
            "final_train_loss": per_epoch[-1]["loss"],
            "final_train_accuracy": per_epoch[-1]["accuracy"],
            "train_seconds": secs, "per_epoch": per_epoch}


def knn_eval(ftr, ytr, fte, yte, tag):
    t0 = time.perf_counter()
    acc = knn1_accuracy(ftr, ytr, fte, yte)
    secs = time.perf_counter() - t0
    log(f"[{tag}_knn] test_accuracy={acc:.4f} ({secs:.1f}s)")
    return {"test_accuracy": acc, "dims": int(ftr.shape[1]), "reference_rows": len(ftr),
            "seconds": secs}


# ==========================================================================
# SimCLR
# ==========================================================================


def pretrain_simclr(encoder, proj, x, xref, yref, xval, yval, epochs, seed):
    import numpy as np
    import torch

    cfg = CONFIG["simclr"]
    opt = adam(list(encoder.parameters()) + list(proj.parameters()), cfg["lr"])
    rng = np.random.default_rng(seed)
    aug_rng = np.random.default_rng([seed, 1])
    n, bs = len(x), cfg["batch_size"]
    per_epoch = []
    t_start = time.perf_counter()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        aug_secs = 0.0
        perm = torch.from_numpy(rng.permutation(n))
        sum_loss, seen, steps = 0.0, 0, 0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            if len(idx) < 2:
                continue  # one image has no negatives
            ta = time.perf_counter()
            xb = x[idx]
            views = torch.cat([augment(xb, aug_rng), augment(xb, aug_rng)])
            views = views.contiguous(memory_format=torch.channels_last)
            aug_secs += time.perf_counter() - ta
            loss = nt_xent(proj(encoder(views)), cfg["temperature"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            value = loss.item()
            if not math.isfinite(value):
                raise RuntimeError(f"non-finite loss {value} at epoch {epoch + 1}")
            sum_loss += value * len(idx)
            seen += len(idx)
            steps += 1
        tm = time.perf_counter()
        mon = knn1_accuracy(apply(encoder, xref), yref, apply(encoder, xval), yval)
        rec = {"epoch": epoch + 1, "loss": sum_loss / max(seen, 1), "val_knn_accuracy": mon,
               "steps": steps, "seconds": time.perf_counter() - t0,
               "augment_seconds": aug_secs, "monitor_seconds": time.perf_counter() - tm}
        per_epoch.append(rec)
        log(f"epoch {epoch + 1} loss={rec['loss']:.4f} val_knn_accuracy={mon:.4f} "
            f"{rec['seconds']:.1f}s (augment {aug_secs:.1f}s, monitor "
            f"{rec['monitor_seconds']:.1f}s)")
    return per_epoch, time.perf_counter() - t_start


# ==========================================================================
# the run
# ==========================================================================


def run(seed, epochs, skip_finetune=False):
    import numpy as np
    import torch
    import common

    xtr_u8, ytr_np, xte_u8, yte_np = common.load_fashion_mnist()
    ytr_np, yte_np = ytr_np.astype(np.int64), yte_np.astype(np.int64)
    (xp_u8, yp_np), (xv_u8, yv_np) = common.keras_validation_split(xtr_u8, ytr_np, VAL_FRACTION)
    assert len(xp_u8) == 57000 and len(xv_u8) == 3000
    x_all, y_all = to_tensor(xtr_u8), torch.from_numpy(ytr_np)
    x_te, y_te = to_tensor(xte_u8), torch.from_numpy(yte_np)
    x_pre = x_all[:len(xp_u8)]
    x_val, y_val = x_all[len(xp_u8):], y_all[len(xp_u8):]
    n_ref = CONFIG["simclr"]["monitor_reference"]
    x_ref, y_ref = x_pre[:n_ref], y_all[:n_ref]

    # --- SimCLR pre-training
    encoder = build_encoder(seed)
    proj = build_projection()
    log(f"[simclr] {len(x_pre)} images, batch {CONFIG['simclr']['batch_size']}, "
        f"{epochs} epochs")
    per_epoch, train_secs = pretrain_simclr(encoder, proj, x_pre, x_ref, y_ref, x_val, y_val,
                                            epochs, seed)
    log(f"[simclr] train_seconds={train_secs:.1f}")

    # --- evaluations
    t_eval = time.perf_counter()
    ev = {}
    random_enc = build_encoder(seed)
    for tag, enc in (("simclr", encoder), ("random", random_enc)):
        t0 = time.perf_counter()
        ftr, fte = apply(enc, x_all), apply(enc, x_te)
        log(f"[{tag}] features {tuple(ftr.shape)} ({time.perf_counter() - t0:.1f}s)")
        ev[f"{tag}_linear_probe"] = linear_probe(ftr, y_all, fte, y_te, seed, tag)
        ev[f"{tag}_knn"] = knn_eval(ftr, y_all, fte, y_te, tag)
    ftr, fte = x_all.reshape(len(x_all), -1).contiguous(), x_te.reshape(len(x_te), -1).contiguous()
    ev["pixels_linear_probe"] = linear_probe(ftr, y_all, fte, y_te, seed, "pixels")
    ev["pixels_knn"] = knn_eval(ftr, y_all, fte, y_te, "pixels")
    # The conv features: the encoder's layers up to Flatten (800-d), same two protocols.
    for tag, enc in (("simclr_conv", encoder), ("random_conv", random_enc)):
        t0 = time.perf_counter()
        trunk = enc[:CONV_LAYERS]
        ftr, fte = apply(trunk, x_all), apply(trunk, x_te)
        log(f"[{tag}] features {tuple(ftr.shape)} ({time.perf_counter() - t0:.1f}s)")
        ev[f"{tag}_linear_probe"] = linear_probe(ftr, y_all, fte, y_te, seed, tag)
        ev[f"{tag}_knn"] = knn_eval(ftr, y_all, fte, y_te, tag)
    del ftr, fte

    cfg = CONFIG["few_labels"]
    indices = {}
    for per_class, epochs_ft in ({} if skip_finetune else cfg["epochs"]).items():
        rows = pick_per_class(yp_np, range(10), per_class, seed)
        indices[f"{per_class}pc"] = rows.tolist()
        xs, ys = x_pre[torch.from_numpy(rows)], torch.from_numpy(yp_np[rows])
        for name in ("finetune_simclr", "scratch"):
            enc = copy.deepcopy(encoder) if name == "finetune_simclr" else build_encoder(seed)
            head = build_linear(128, 10, seed)
            model = torch.nn.Sequential(enc, head)
            pe, secs = train_classifier(model, list(model.parameters()), xs, ys, epochs_ft,
                                        cfg["batch_size"], cfg["lr"], seed)
            acc = accuracy(model, x_te, y_te)
            key = f"{name}_{per_class}pc"
            ev[key] = {"test_accuracy": acc, "labelled_rows": len(rows), "epochs": epochs_ft,
                       "steps": epochs_ft * math.ceil(len(rows) / cfg["batch_size"]),
                       "final_train_loss": pe[-1]["loss"],
                       "final_train_accuracy": pe[-1]["accuracy"], "train_seconds": secs,
                       "per_epoch": pe}
            log(f"[{key}] test_accuracy={acc:.4f} final train loss={pe[-1]['loss']:.4f} "
                f"acc={pe[-1]['accuracy']:.4f} ({secs:.1f}s)")
    eval_secs = time.perf_counter() - t_eval
    return {"test_accuracy": {k: ev[k]["test_accuracy"] if k in ev else None
                              for k in ACC_KEYS},
            "evaluations": ev, "per_epoch": per_epoch, "train_seconds": train_secs,
            "seconds_per_epoch": train_secs / max(epochs, 1), "eval_seconds": eval_secs,
            "few_label_indices": indices,
            "rows": {"pretrain": len(x_pre), "validation": len(x_val),
                     "monitor_reference": len(x_ref), "probe_train": len(x_all),
                     "test": len(x_te)}}


# ==========================================================================
# summary
# ==========================================================================


def summary():
    files = sorted(RESULTS.glob("ssl_simclr_torch_*seed*.json"))
    if not files:
        print("no bench/results/ssl_simclr_torch_*seed*.json")
        return
    runs = [json.loads(f.read_text()) for f in files]
    print(f"\n### ssl_simclr, PyTorch {runs[0]['versions']['torch']}: test accuracy\n")
    print("| | " + " | ".join(f.stem.replace("ssl_simclr_torch_", "") for f in files) + " |")
    print("| --- |" + " ---: |" * len(files))
    print("| SimCLR epochs | " + " | ".join(str(r["epochs"]) for r in runs) + " |")
    print("| threads | " + " | ".join(str(r["threads"]) for r in runs) + " |")
    print("| s / epoch | " + " | ".join(f"{r['seconds_per_epoch']:.1f}" for r in runs) + " |")
    print("| final loss | " + " | ".join(f"{r['per_epoch'][-1]['loss']:.4f}" for r in runs)
          + " |")
    print("| final val kNN (monitor) | " + " | ".join(
        f"{r['per_epoch'][-1]['val_knn_accuracy']:.4f}" for r in runs) + " |")
    for k in ACC_KEYS:
        vals = [r["test_accuracy"].get(k) for r in runs]
        print(f"| {k} | " + " | ".join("-" if v is None else f"{v:.4f}" for v in vals) + " |")
    print("| eval s | " + " | ".join(f"{r['eval_seconds']:.0f}" for r in runs) + " |")


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
    if args.check_augment:
        check_augment(args.seed)
        return
    default_name = f"ssl_simclr_torch_seed{args.seed}" + (
        "" if args.epochs == CONFIG["simclr"]["epochs"] else f"_epochs{args.epochs}") + (
        "_noft" if args.skip_finetune else "")
    out = Path(args.out) if args.out else RESULTS / f"{default_name}.json"
    log(f"== ssl_simclr / torch / seed {args.seed} / {args.epochs} epochs / "
        f"{args.threads} threads" + (" / no fine-tuning" if args.skip_finetune else ""))
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    body = run(args.seed, args.epochs, args.skip_finetune)
    wall = time.perf_counter() - t0
    cfg = copy.deepcopy(CONFIG)
    cfg["simclr"]["epochs"] = args.epochs
    cfg["few_labels"]["epochs"] = {str(k): v for k, v in cfg["few_labels"]["epochs"].items()}
    result = {
        "work": "ssl_simclr",
        "framework": "torch",
        "seed": args.seed,
        "epochs": args.epochs,
        "test_accuracy": body.pop("test_accuracy"),
        "skip_finetune": args.skip_finetune,
        "wall_seconds": wall,
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "threads": args.threads,
        "settings": {"torch_num_threads": torch.get_num_threads(),
                     "torch_num_interop_threads": torch.get_num_interop_threads(),
                     "init": "keras (glorot_uniform, zero bias)", "adam_eps": ADAM_EPS,
                     "dtype": "float32", "memory_format": "channels_last",
                     "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")},
        "config": cfg,
    }
    result.update(body)
    common.write_result(result, out, load_start, __file__, argv)
    log(f"wrote {out}: " + json.dumps({k: None if v is None else round(v, 4) for k, v in
                                       result["test_accuracy"].items()})
        + f" train={result['train_seconds']:.0f}s eval={result['eval_seconds']:.0f}s "
        f"wall={wall:.0f}s")


if __name__ == "__main__":
    main()
