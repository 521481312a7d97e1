#!/usr/bin/env python3
"""PyTorch reference for semi-supervised training on Fashion-MNIST with few labels (pseudo-label,
entropy minimisation, Pi-model, mean teacher, VAT, MixMatch, FixMatch, and the supervised-only
baseline), following the protocol of manabi's semi-supervised runs so that the numbers sit
beside manabi's.

    bench/.venv/bin/python bench/semi_torch.py --method fixmatch --labelled L.json --seed 1
    bench/.venv/bin/python bench/semi_torch.py --method supervised --seed 1   # 4 per class
    bench/.venv/bin/python bench/semi_torch.py --method supervised --labelled-all   # ceiling
    bench/.venv/bin/python bench/semi_torch.py --method vat --iterations 30 # smoke test
    bench/.venv/bin/python bench/semi_torch.py --check-augment   # vectorised vs per-image port
    bench/.venv/bin/python bench/semi_torch.py --summary

A run writes bench/results/semi_<method>_torch_<n>lab_seed<s>.json (<n> the number of labelled
images, ``all`` with --labelled-all; with ``--iterations T`` other than 2000 the name ends in
``_it<T>``), or ``--out``. ``--summary`` prints a table of every
bench/results/semi_*_torch_*.json. Runs use 1 thread (``--threads``; inter-op 1).

Data: the official 60,000 / 10,000 Fashion-MNIST IDX files (bench/common.py), pixels u8 / 255
(no mean / std normalisation), NCHW [n, 1, 28, 28] float32. Test set: the official 10,000.
Labelled set: ``--labelled FILE``, a JSON object whose "indices" (other keys ignored) are rows
of the 60,000 training images in file order; without it, ``--per-class N`` (default 4) rows per
class, classes ascending, each np.random.RandomState(seed).choice(rows of the class, N,
replace=False), sorted. NOTE: this draw is NOT manabi's (a different generator); pass manabi's
labelled indices with --labelled to compare like with like. ``--labelled-all``: all 60,000
labelled (method supervised only: the fully supervised ceiling). Unlabelled set: every other
training row; its labels are only used to report pseudo-label accuracy (diagnosis).

Model (the seed CNN): Conv2d(1->16, 3) ReLU, MaxPool 2, Conv2d(16->32, 3) ReLU, MaxPool 2,
Flatten (800), Linear(800->128) ReLU, Linear(128->10) logits; Glorot-uniform weights, zero
biases (Keras' defaults); torch.manual_seed(seed) right before it is built; float32,
channels_last (about twice as fast as NCHW on one thread here).

Batches: each iteration one labelled batch of 64 (``--batch``) and one unlabelled batch of
mu x 64 = 448 (``--mu 7``), each the next rows of a stream of concatenated shuffled
permutations of its set, so with 40 labels a batch repeats images. As manabi's
src/train/semi_fit.rs (IndexStream::new inside the epoch loop), both streams restart with a
fresh permutation every ``--steps-per-epoch`` (100) iterations, an unfinished permutation
dropped (np.random.default_rng([seed, 1, epoch]) for the labelled stream, [seed, 2, epoch] for
the unlabelled one).
Optimiser: SGD lr 0.03, momentum 0.9 (dampening 0), Nesterov, weight_decay 5e-4 (coupled L2
added to the gradient of every parameter, biases included: torch's, and Burn's l2 decay that
manabi uses); lr at step t (0-based) of T: 0.03 (1 + cos(pi t / T)) / 2.
EMA: decay 0.999, updated after every optimiser step, ema = d ema + (1 - d) w; as manabi's
WeightAverage (src/optim/weight_average.rs) the first update copies the weights after step 1
(the brief said "initialised to the initial weights": the two differ by 0.999^(T-1) (w1 - w0),
negligible). The mean teacher's teacher at step t is the EMA after step t - 1 (at step 0: the
model itself, as manabi's empty average). Reported test accuracy: the EMA model's after the
last iteration (``test_accuracy``); the raw model's too (``test_accuracy_raw``).
Loss = supervised CE on the weak-augmented labelled batch + lambda(t) unsup, lambda(t) =
lambda_u ramp(t), ramp(t) = exp(-5 (1 - min(t / R, 1))^2), R = round(share T) iterations
(src/semi/ramp.rs; R = 0: ramp 1). Labelled and unlabelled images that both need gradients go
through one forward; targets that need none (FixMatch's weak view, the Pi-model's second view,
MixMatch's guesses, the teacher) through a forward without graph, as manabi's
StepContext::frozen_probs (the model has no batch norm or dropout, so the split changes no
number, only the time).

Methods (``--method``; lambda_u, R):
  supervised    no unsupervised term, no unlabelled forward.
  pseudo_label  (1, 0.4 T) weak unlabelled view (with grad); pseudo = argmax of its detached
                softmax, mask = max prob >= 0.95; unsup = mean(mask CE(logits_weak, pseudo)).
  self_training (1, 0) offline, 4 rounds of ceil(T / 4) iterations (src/semi/self_training.rs,
                src/train/semi_fit.rs's Pool): round 1 trains on the labelled batch only; at the
                start of rounds 2-4 the raw model (eval mode, no augmentation) labels every
                unlabelled image and those with max prob >= 0.95 form the pool (hard labels);
                each step then adds a weak view of the next 448 pool rows (a stream of pool
                permutations, restarted each epoch and after each relabelling) and
                unsup = CE(their logits, pool labels), one forward with the labelled batch.
  entropy_min   (0.3, 0.4 T) unsup = mean entropy of softmax(logits of the weak view).
  mutual_information (0.3, 0.4 T) on the weak view: unsup = mean entropy of the softmaxes
                minus the entropy of their batch mean (src/semi/mutual_info.rs).
  pi_model      (10, 0.4 T) two weak views; unsup = mse(softmax(l1), softmax(l2)), the second
                without graph.
  mean_teacher  (50, 0.4 T) student on weak view 1, teacher = the EMA model on weak view 2
                (no grad); unsup = mse(softmax(student), softmax(teacher)).
  vat           (0.3, 0.4 T) on the weak view x: p = softmax(model(x)).detach(); d ~ N(0, 1)
                (torch's generator), unit L2 norm per sample; r = 1e-6 d; g = grad_r
                KL(p || softmax(model(x + r))) (batchmean); r_adv = 2.0 g / |g| per sample;
                unsup = KL(p || softmax(model(x + r_adv))) + 0.06 mean entropy of
                softmax(model(x)) (with grad).
  mixmatch      (100, 0.4 T) K = 2 weak views; q = sharpen(mean of their softmaxes, T = 0.5),
                no grad; [labelled (one-hot), view 1 (q), view 2 (q)] mixed with a random
                permutation of itself, lambda ~ Beta(0.5, 0.5), lambda = max(lambda, 1 - lambda)
                (np.random.default_rng([seed, 4]): the permutation, then lambda);
                sup = soft-target CE on the mixed labelled part (this replaces the plain
                supervised term); unsup = mse(softmax(mixed unlabelled logits), mixed targets).
  fixmatch      (1, 0) pseudo = argmax of softmax(model(unlabelled weak)) (no graph), mask =
                max >= 0.95; one forward of cat(labelled weak, unlabelled strong);
                unsup = mean over all 448 of mask CE(logits_strong, pseudo).
  distillation  (1, 0) knowledge distillation (src/semi/distillation.rs; SimCLRv2's last step):
                the teacher (``--teacher``: a whole nn.Module saved with torch.save, e.g. by
                bench/simclrv2_torch.py) scores the same inputs as the student, the labelled
                batch and one weak view of the unlabelled one, without graph; with
                soft(s, t) = -T^2 mean_rows sum softmax(t / T) log_softmax(s / T) (T = 1):
                sup = 0.5 soft(labelled) + 0.5 CE(labelled); unsup = soft(unlabelled).
``--lambda-u`` and ``--rampup`` (a fraction of T) override a method's values.

Augmentation (a port of manabi's src/augment/*.rs; parameters per image drawn with
np.random.default_rng([seed, 3]), applied vectorised over the batch with F.grid_sample;
``--check-augment`` compares that with a per-image loop port of the Rust code on the same
parameters):
  weak    1. horizontal flip with p 0.5.
          2. translate: tx = U[-0.125, 0.125] * 28, ty = U[-0.125, 0.125] * 28 pixels,
             continuous (not rounded to whole pixels: manabi's Translate is an Affine map):
             out(x, y) = in(x - tx, y - ty) by bilinear interpolation, reads outside the image
             are 0 (manabi's warp: fill 0; grid_sample align_corners=False, zeros padding).
  strong  the weak one, then RandAugment (src/augment/rand_augment.rs) with 2 ops at magnitude
          10 (level = 10 / 30), each op uniform from the 12 below with a random sign s = +-1:
            identity; shear_x / shear_y: shear angle atan(0.3 level) s (factor 0.1 s) about the
            centre ((27 / 2, 27 / 2)); translate_x / translate_y: (150 / 331) level s * 28
            pixels (4.23 px); rotate: 30 level s = 10 degrees about the centre; brightness:
            x -> clamp(f x, 0, 1), f = 1 + 0.9 level s; contrast: clamp(m + f (x - m)), f as
            brightness, m the image mean; posterize: 8 - round(4 level) = 7 bits of
            round(255 x); solarize: x >= 1 - level -> 1 - x; autocontrast: (x - min) /
            (max - min) when max > min; equalize: PIL's ImageOps.equalize over 256 levels
            (round(255 x)); every geometric op resamples bilinearly with fill 0 (manabi
            resamples once per op, so do we);
          then Cutout: a 14 x 14 square (round(0.5 * 28)) zeroed, centre (cy, cx) uniform over
          the 28 x 28 pixels, rows max(cy - 7, 0) .. min(cy + 7, 28) (end exclusive), clipped.
What is not matched: the random numbers themselves (manabi draws each image's parameters from
its own ChaCha8 stream seeded by (seed, image index), here numpy's PCG64 for the whole batch),
so runs agree in distribution, not draw for draw; likewise the labelled / unlabelled streams,
the VAT noise, MixMatch's lambda and permutation, and the initial weights. Bilinear sampling is
grid_sample's float32 arithmetic (equal to the loop port to about 1e-6; a value that lands
exactly on a .5 boundary of round(255 x) in posterize / equalize could round differently).

Logs: every ``--log-every`` (200) iterations and at the last one, over the iterations since the
previous row: sup and unsup (unweighted) means, lambda and lr at the row's last iteration,
and for pseudo_label / fixmatch (manabi's semi_fit.rs definitions) mask_rate (mean share of
the unlabelled batch whose max prob >= 0.95) and pseudo_acc (correct / kept, summed over the
window's kept pseudo-labels, against the hidden labels: diagnosis only); pseudo_acc_all (the
argmax of every unlabelled sample, kept or not; for mixmatch the argmax of the guessed q) is
an extra diagnosis manabi does not log; seconds so far.

JSON: method, seed, iterations, steps_per_epoch, test_accuracy (EMA), test_accuracy_raw,
final_mask_rate, final_pseudo_accuracy, final_pseudo_accuracy_all (the last log row's),
wall_seconds, train_seconds (the loop), seconds_per_iteration, augment_seconds (inside it),
log (rows), labelled_count, labelled_per_class, unlabelled_count, labelled_indices, hyper
(lambda_u, ramp-up share), rampup_iterations, versions, threads, settings, config, machine,
command, loadavg.
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
SIZE = 28
CLASSES = 10
METHODS = ("supervised", "pseudo_label", "self_training", "entropy_min", "mutual_information",
           "pi_model", "mean_teacher", "vat", "mixmatch", "fixmatch", "distillation")
# lambda_u and the ramp-up as a share of the iterations (0: no ramp-up).
METHOD_DEFAULTS = dict(
    supervised=dict(lambda_u=0.0, rampup=0.0),
    pseudo_label=dict(lambda_u=1.0, rampup=0.4),
    self_training=dict(lambda_u=1.0, rampup=0.0),
    entropy_min=dict(lambda_u=0.3, rampup=0.4),
    mutual_information=dict(lambda_u=0.3, rampup=0.4),
    pi_model=dict(lambda_u=10.0, rampup=0.4),
    mean_teacher=dict(lambda_u=50.0, rampup=0.4),
    vat=dict(lambda_u=0.3, rampup=0.4),
    mixmatch=dict(lambda_u=100.0, rampup=0.4),
    fixmatch=dict(lambda_u=1.0, rampup=0.0),
    distillation=dict(lambda_u=1.0, rampup=0.0),
)
CONFIG = dict(
    lr=0.03, momentum=0.9, nesterov=True, weight_decay=5e-4, ema_decay=0.999, threshold=0.95,
    self_training_rounds=4, distill_alpha=0.5, distill_temperature=1.0,
    vat_xi=1e-6, vat_eps=2.0, vat_entropy=0.06, mixmatch_t=0.5, mixmatch_alpha=0.5,
    mixmatch_k=2,
    augment=dict(flip_p=0.5, translate=0.125, ra_ops=2, ra_magnitude=10.0, cutout=0.5),
)
RA_OPS = ("identity", "shear_x", "shear_y", "translate_x", "translate_y", "rotate",
          "brightness", "contrast", "posterize", "solarize", "autocontrast", "equalize")
N_GEOMETRIC = 6  # RA_OPS[:6] are affine maps (identity included: an exact copy)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", choices=METHODS, default="fixmatch")
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--labelled", type=str, default=None,
                   help='JSON file {"indices": [...]} of labelled training rows')
    p.add_argument("--per-class", type=int, default=4,
                   help="without --labelled: rows per class (numpy RandomState(seed); "
                        "not manabi's draw)")
    p.add_argument("--labelled-all", action="store_true",
                   help="all 60,000 labels (supervised ceiling)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--teacher", type=str, default=None,
                   help="--method distillation: the teacher, an nn.Module saved by torch.save")
    p.add_argument("--net", choices=NETS, default="seed")
    p.add_argument("--concat", action="store_true",
                   help="FixMatch: weak targets from one train-mode forward with the rest")
    p.add_argument("--mu", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", type=str, default="cpu",
                   help="torch device for the model (e.g. cuda); augmentation stays on the CPU")
    p.add_argument("--log-every", type=int, default=200)
    p.add_argument("--steps-per-epoch", type=int, default=100,
                   help="the index streams restart every this many iterations (manabi's "
                        "method.steps_per_epoch)")
    p.add_argument("--lambda-u", type=float, default=None, help="override the method's")
    p.add_argument("--rampup", type=float, default=None,
                   help="override the method's ramp-up, a fraction of the iterations")
    p.add_argument("--out", type=str, default=None, help="JSON output path")
    p.add_argument("--check-augment", action="store_true",
                   help="compare the vectorised augmentation with a per-image loop port")
    p.add_argument("--summary", action="store_true",
                   help="print a table of bench/results/semi_*_torch_*.json")
    return p.parse_args(argv)


# ==========================================================================
# data
# ==========================================================================


def to_tensor(x_u8):
    """u8 (N, 28, 28) -> float32 NCHW (N, 1, 28, 28) in [0, 1]."""
    import numpy as np
    import torch

    return torch.from_numpy(x_u8.astype(np.float32) / 255.0)[:, None].contiguous()


def labelled_rows(args, y):
    import numpy as np

    if args.labelled_all:
        return np.arange(len(y))
    if args.labelled:
        rows = np.asarray(json.loads(Path(args.labelled).read_text())["indices"], np.int64)
        if len(rows) == 0 or rows.min() < 0 or rows.max() >= len(y):
            raise SystemExit(f"{args.labelled}: indices must be rows of the {len(y)} images")
        if len(np.unique(rows)) != len(rows):
            raise SystemExit(f"{args.labelled}: repeated indices")
        return rows
    rs = np.random.RandomState(args.seed)
    return np.concatenate([np.sort(rs.choice(np.flatnonzero(y == c), args.per_class,
                                             replace=False)) for c in range(CLASSES)])


class Stream:
    """Positions 0..n-1 from concatenated shuffled permutations (one generator)."""

    def __init__(self, n, rng):
        import numpy as np

        self.n, self.rng, self.buf = n, rng, np.empty(0, np.int64)

    def take(self, k):
        import numpy as np

        while len(self.buf) < k:
            self.buf = np.concatenate([self.buf, self.rng.permutation(self.n)])
        out, self.buf = self.buf[:k], self.buf[k:]
        return out


# ==========================================================================
# augmentation (manabi src/augment/*.rs)
# ==========================================================================


def affine_inverse(degrees, tx, ty, shx=None, shy=None):
    """manabi's Affine::apply inverse map (scale 1) for arrays of per-image parameters:
    (B, 6) float32, output pixel (x, y) reads the input at (m0 x + m1 y + m2, m3 x + m4 y + m5).
    """
    import numpy as np

    b = len(degrees)
    shx = np.zeros(b) if shx is None else shx
    shy = np.zeros(b) if shy is None else shy
    a = np.radians(np.asarray(degrees, np.float64))
    cos, sin = np.cos(a), -np.sin(a)  # image y points down
    kx, ky = np.tan(np.radians(shx)), np.tan(np.radians(shy))
    f0, f1 = cos + -sin * ky, cos * kx - sin
    f2, f3 = sin + cos * ky, sin * kx + cos
    det = f0 * f3 - f1 * f2
    i0, i1, i2, i3 = f3 / det, -f1 / det, -f2 / det, f0 / det
    c = (SIZE - 1) / 2.0
    ox, oy = c + np.asarray(tx, np.float64), c + np.asarray(ty, np.float64)
    m = np.stack([i0, i1, c - i0 * ox - i1 * oy, i2, i3, c - i2 * ox - i3 * oy], 1)
    return m.astype(np.float32)


def warp(x, m):
    """Bilinear warp of x [B, 1, 28, 28] by inverse maps m (B, 6), outside reads 0."""
    import torch
    import torch.nn.functional as F

    m = torch.from_numpy(m)
    pos = torch.arange(SIZE, dtype=torch.float32)
    xs, ys = pos[None, None, :], pos[None, :, None]
    sx = m[:, 0, None, None] * xs + m[:, 1, None, None] * ys + m[:, 2, None, None]
    sy = m[:, 3, None, None] * xs + m[:, 4, None, None] * ys + m[:, 5, None, None]
    grid = torch.stack([(2.0 * sx + 1.0) / SIZE - 1.0, (2.0 * sy + 1.0) / SIZE - 1.0], -1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def round_half_away(v):
    """Rust's f32::round for v >= 0."""
    import torch

    return torch.floor(v + 0.5)


def equalize(x):
    """PIL's ImageOps.equalize per image (manabi photometric::equalize), x [k, 1, 28, 28]."""
    import torch

    k = x.shape[0]
    flat = x.reshape(k, -1)
    lv = round_half_away(flat * 255.0).clamp(0, 255).long()
    hist = torch.zeros(k, 256, dtype=torch.long).scatter_add_(1, lv, torch.ones_like(lv))
    last_level = 255 - torch.flip(hist > 0, [1]).long().argmax(1)
    last = hist.gather(1, last_level[:, None])[:, 0]
    step = (flat.shape[1] - last) // 255
    ok = step > 0
    safe = torch.where(ok, step, torch.ones_like(step))[:, None]
    before = torch.cumsum(hist, 1) - hist  # pixels on lower levels
    lut = torch.clamp((safe // 2 + before) // safe, max=255).float() / 255.0
    out = lut.gather(1, lv)
    return torch.where(ok[:, None], out, flat).reshape(x.shape)


def photometric(op, x, level, sign):
    """RandAugment's photometric op ``op`` on x [k, 1, 28, 28], sign (k,) tensor."""
    import torch

    s = sign[:, None, None, None]
    if op == "brightness":
        return (x * (1.0 + 0.9 * level * s)).clamp(0.0, 1.0)
    if op == "contrast":
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        return (mean + (1.0 + 0.9 * level * s) * (x - mean)).clamp(0.0, 1.0)
    if op == "posterize":
        bits = 8 - int(round_half_away(torch.tensor(level * 4.0, dtype=torch.float32)))
        step = float(1 << (8 - min(max(bits, 1), 8)))
        byte = round_half_away(x * 255.0).clamp(0.0, 255.0)
        return torch.floor(byte / step) * step / 255.0
    if op == "solarize":
        return torch.where(x >= 1.0 - level, 1.0 - x, x)
    if op == "autocontrast":
        lo = x.amin(dim=(1, 2, 3), keepdim=True)
        hi = x.amax(dim=(1, 2, 3), keepdim=True)
        return torch.where(hi > lo, (x - lo) / torch.where(hi > lo, hi - lo, 1.0), x)
    if op == "equalize":
        return equalize(x)
    raise ValueError(op)


def ra_geometric_inverse(ops, signs, level):
    """Inverse maps for RandAugment's geometric ops (ids < N_GEOMETRIC) of one slot."""
    import numpy as np

    b = len(ops)
    z = np.zeros(b)
    shear = np.degrees(np.arctan(0.3 * level)) * signs
    shift = 150.0 / 331.0 * level * signs * SIZE
    deg = np.where(ops == 5, 30.0 * level * signs, z)
    shx = np.where(ops == 1, shear, z)
    shy = np.where(ops == 2, shear, z)
    tx = np.where(ops == 3, shift, z)
    ty = np.where(ops == 4, shift, z)
    return affine_inverse(deg, tx, ty, shx, shy)


def draw_params(rng, b, strong):
    """One view's random parameters for b images."""
    import numpy as np

    a = CONFIG["augment"]
    t = a["translate"]
    p = dict(flip=rng.random(b) < a["flip_p"],
             tx=(rng.uniform(-t, t, b) * SIZE).astype(np.float32),
             ty=(rng.uniform(-t, t, b) * SIZE).astype(np.float32))
    if strong:
        p["ra_op"] = rng.integers(0, len(RA_OPS), (b, a["ra_ops"]))
        p["ra_sign"] = np.where(rng.random((b, a["ra_ops"])) < 0.5, 1.0, -1.0)
        p["cut_cy"] = rng.integers(0, SIZE, b)
        p["cut_cx"] = rng.integers(0, SIZE, b)
    return p


def apply_params(x, p):
    """The weak (and, with RandAugment parameters in p, strong) pipeline on x [B, 1, 28, 28]."""
    import numpy as np
    import torch

    b = x.shape[0]
    # weak: flip (exact), then the translation's affine warp
    out = torch.where(torch.from_numpy(p["flip"])[:, None, None, None], x.flip(-1), x)
    out = warp(out, affine_inverse(np.zeros(b), p["tx"], p["ty"]))
    if "ra_op" not in p:
        return out
    a = CONFIG["augment"]
    level = np.float32(a["ra_magnitude"]) / np.float32(30.0)
    for slot in range(p["ra_op"].shape[1]):
        ops, signs = p["ra_op"][:, slot], p["ra_sign"][:, slot]
        geo = np.flatnonzero(ops < N_GEOMETRIC)
        new = out.clone()
        if len(geo):
            g = torch.from_numpy(geo)
            new[g] = warp(out[g], ra_geometric_inverse(ops[geo], signs[geo], float(level)))
        for op_id in range(N_GEOMETRIC, len(RA_OPS)):
            sel = np.flatnonzero(ops == op_id)
            if len(sel):
                g = torch.from_numpy(sel)
                sg = torch.from_numpy(signs[sel].astype(np.float32))
                new[g] = photometric(RA_OPS[op_id], out[g], float(level), sg)
        out = new
    # Cutout
    side = int(round_half_away(torch.tensor(a["cutout"] * SIZE)))
    half = side // 2
    pos = torch.arange(SIZE)
    cy, cx = torch.from_numpy(p["cut_cy"]), torch.from_numpy(p["cut_cx"])
    rows = (pos[None] >= (cy - half).clamp(min=0)[:, None]) & (pos[None] < (cy + side - half)
                                                              .clamp(max=SIZE)[:, None])
    cols = (pos[None] >= (cx - half).clamp(min=0)[:, None]) & (pos[None] < (cx + side - half)
                                                              .clamp(max=SIZE)[:, None])
    hole = rows[:, :, None] & cols[:, None, :]
    return out.masked_fill(hole[:, None], 0.0)


AUGMENT_SECONDS = [0.0]  # time spent in augment() (reported as augment_seconds)
DEVICE = ["cpu"]  # --device: model steps run there; augmentation stays on the CPU (as manabi's)


def augment(x, rng, strong=False):
    t0 = time.perf_counter()
    out = apply_params(x, draw_params(rng, x.shape[0], strong))
    AUGMENT_SECONDS[0] += time.perf_counter() - t0
    return out.to(DEVICE[0])


def reference_apply(img, p, i):
    """Per-image loop port of manabi's Rust ops (src/augment/*.rs) on image ``i`` of ``p``;
    ``img`` float32 numpy (28, 28). Slow: for --check-augment only."""
    import numpy as np

    f32 = np.float32
    h = w = SIZE

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
        return f32(top * (1 - fy) + bot * fy)

    def affine(plane, degrees=0.0, t=(0.0, 0.0), shear=(0.0, 0.0)):
        a = math.radians(degrees)
        cos, sin = math.cos(a), -math.sin(a)
        kx, ky = math.tan(math.radians(shear[0])), math.tan(math.radians(shear[1]))
        f = [cos + -sin * ky, cos * kx - sin, sin + cos * ky, sin * kx + cos]
        det = f[0] * f[3] - f[1] * f[2]
        inv = [f[3] / det, -f[1] / det, -f[2] / det, f[0] / det]
        c = (w - 1) / 2.0
        ox, oy = c + t[0], c + t[1]
        m = [f32(v) for v in (inv[0], inv[1], c - inv[0] * ox - inv[1] * oy,
                              inv[2], inv[3], c - inv[2] * ox - inv[3] * oy)]
        out = np.zeros((h, w), f32)
        for y in range(h):
            for x in range(w):
                out[y, x] = bilinear(plane, m[0] * f32(x) + m[1] * f32(y) + m[2],
                                     m[3] * f32(x) + m[4] * f32(y) + m[5])
        return out

    def rround(v):  # Rust's round (half away from zero) for v >= 0
        return math.floor(v + 0.5)

    out = img.copy()
    if p["flip"][i]:
        out = out[:, ::-1].copy()
    out = affine(out, t=(float(p["tx"][i]), float(p["ty"][i])))
    if "ra_op" not in p:
        return out
    a = CONFIG["augment"]
    level = float(f32(a["ra_magnitude"]) / f32(30.0))
    for slot in range(p["ra_op"].shape[1]):
        op, sign = RA_OPS[p["ra_op"][i, slot]], float(p["ra_sign"][i, slot])
        shear = math.degrees(math.atan(0.3 * level)) * sign
        shift = 150.0 / 331.0 * level * sign
        if op == "shear_x":
            out = affine(out, shear=(shear, 0.0))
        elif op == "shear_y":
            out = affine(out, shear=(0.0, shear))
        elif op == "translate_x":
            out = affine(out, t=(shift * w, 0.0))
        elif op == "translate_y":
            out = affine(out, t=(0.0, shift * h))
        elif op == "rotate":
            out = affine(out, degrees=30.0 * level * sign)
        elif op == "brightness":
            out = np.clip(out * f32(1.0 + 0.9 * level * sign), 0, 1)
        elif op == "contrast":
            mean = out.sum(dtype=f32) / f32(out.size)
            out = np.clip(mean + f32(1.0 + 0.9 * level * sign) * (out - mean), 0, 1)
        elif op == "posterize":
            step = float(1 << (8 - (8 - rround(level * 4.0))))
            out = np.array([[math.floor(min(max(rround(v * 255.0), 0), 255) / step) * step
                             / 255.0 for v in row] for row in out], f32)
        elif op == "solarize":
            out = np.where(out >= f32(1.0 - level), f32(1.0) - out, out)
        elif op == "autocontrast":
            lo, hi = out.min(), out.max()
            if hi > lo:
                out = (out - lo) / (hi - lo)
        elif op == "equalize":
            lv = [min(max(rround(float(v) * 255.0), 0), 255) for v in out.reshape(-1)]
            hist = [0] * 256
            for v in lv:
                hist[v] += 1
            last = next((hist[j] for j in range(255, -1, -1) if hist[j] > 0), 0)
            step = (len(lv) - last) // 255
            if step:
                lut, n = [], step // 2
                for j in range(256):
                    lut.append(min(n // step, 255) / 255.0)
                    n += hist[j]
                out = np.array([lut[v] for v in lv], f32).reshape(h, w)
        out = out.astype(f32)
    side = rround(a["cutout"] * min(h, w))
    half = side // 2
    cy, cx = int(p["cut_cy"][i]), int(p["cut_cx"][i])
    out[max(cy - half, 0):min(cy + side - half, h), max(cx - half, 0):min(cx + side - half, w)] = 0
    return out


def check_augment(seed, n=144):
    import numpy as np
    import torch
    import common

    xtr, _, _, _ = common.load_fashion_mnist()
    x = to_tensor(xtr[:n])
    rng = np.random.default_rng([seed, 3])
    worst = 0.0
    for strong in (False, True):
        p = draw_params(rng, n, strong)
        if strong:  # every pair of ops (slot 1, slot 2) once, random signs
            p["ra_op"][:, 0] = np.arange(n) % len(RA_OPS)
            p["ra_op"][:, 1] = (np.arange(n) // len(RA_OPS)) % len(RA_OPS)
        got = apply_params(x, p).numpy()[:, 0]
        want = np.stack([reference_apply(x[i, 0].numpy(), p, i) for i in range(n)])
        err = np.abs(got - want).reshape(n, -1).max(1)
        worst = max(worst, float(err.max()))
        log(f"check-augment {'strong' if strong else 'weak'}: {n} images, max |vectorised - "
            f"loop| = {err.max():.2e}, images above 1e-4: {int((err > 1e-4).sum())}; "
            f"range [{got.min():.3f}, {got.max():.3f}], flips {int(p['flip'].sum())}, "
            f"|shift| max {max(np.abs(p['tx']).max(), np.abs(p['ty']).max()):.2f}")
        if strong and (err > 1e-4).any():
            bad = np.flatnonzero(err > 1e-4)
            log("  ops of the differing images: " + str(
                [[RA_OPS[o] for o in p["ra_op"][i]] for i in bad[:10]]))
    xb = to_tensor(xtr[:448])
    t0 = time.perf_counter()
    for _ in range(5):
        augment(xb, rng, False), augment(xb, rng, True)
    log(f"check-augment: {(time.perf_counter() - t0) / 5 * 1000:.1f} ms per weak + strong view "
        f"of 448 images ({torch.get_num_threads()} threads)")
    assert worst < 1e-4, worst


# ==========================================================================
# model, losses
# ==========================================================================


NETS = ("seed", "seed_bn", "wide_bn")


def build_model(seed, net="seed"):
    import torch
    import torch.nn as nn
    from reference import torch_keras_init

    class ChannelsLast(nn.Sequential):
        """Inputs and weights channels_last: twice as fast on one CPU thread here."""

        def forward(self, x):
            return super().forward(x.contiguous(memory_format=torch.channels_last))

    torch.manual_seed(seed)
    if net == "seed":
        layers = [nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(32 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, CLASSES)]
    else:  # the seed CNN with batch norm after each convolution (Keras' momentum and eps)
        c1, c2 = (16, 32) if net == "seed_bn" else (32, 64)
        layers = [nn.Conv2d(1, c1, 3), nn.BatchNorm2d(c1, eps=1e-3, momentum=0.01), nn.ReLU(),
                  nn.MaxPool2d(2),
                  nn.Conv2d(c1, c2, 3), nn.BatchNorm2d(c2, eps=1e-3, momentum=0.01), nn.ReLU(),
                  nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(c2 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, CLASSES)]
    model = ChannelsLast(*layers)
    torch_keras_init(model)
    return model.to(memory_format=torch.channels_last)


def entropy(logits):
    import torch.nn.functional as F

    return -(F.softmax(logits, 1) * F.log_softmax(logits, 1)).sum(1).mean()


def unit_per_sample(v, tiny=1e-12):
    n = v.reshape(v.shape[0], -1).norm(dim=1).clamp(min=tiny)
    return v / n.reshape(-1, *([1] * (v.dim() - 1)))


def ramp(t, rampup_iters):
    if rampup_iters <= 0:
        return 1.0
    return math.exp(-5.0 * (1.0 - min(t / rampup_iters, 1.0)) ** 2)


def step_losses(method, model, ema_model, xl, yl, xu_idx, x_unl, y_unl, aug_rng, mix_rng, cfg,
                pool_labels=None):
    """The loss terms of one iteration. Returns (sup, unsup, stats); stats may hold mask_rate,
    kept / right (counts of confident pseudo-labels and of correct ones among them) and
    pseudo_acc_all (accuracy of every unlabelled sample's pseudo-label / guessed label).
    self_training: xu_idx are the pool batch's unlabelled rows (None while the pool is empty)
    and pool_labels their pseudo-labels."""
    import torch
    import torch.nn.functional as F

    stats = {}
    b = xl.shape[0]
    if method == "distillation":
        uw = augment(x_unl[torch.from_numpy(xu_idx)], aug_rng)
        x = torch.cat([xl, uw])
        with torch.no_grad():
            t_logits = cfg["teacher"](x)
        logits = model(x)
        temp, alpha = cfg["distill_temperature"], cfg["distill_alpha"]

        def soft(s_, t_):
            q = F.softmax(t_ / temp, 1)
            return -(temp * temp) * (q * F.log_softmax(s_ / temp, 1)).sum(1).mean()

        sup = (1.0 - alpha) * F.cross_entropy(logits[:b], yl) + alpha * soft(logits[:b],
                                                                              t_logits[:b])
        return sup, soft(logits[b:], t_logits[b:]), stats
    if method == "supervised" or (method == "self_training" and xu_idx is None):
        return F.cross_entropy(model(xl), yl), None, stats
    if method == "self_training":
        xp = augment(x_unl[torch.from_numpy(xu_idx)], aug_rng)
        logits = model(torch.cat([xl, xp]))
        yp = torch.from_numpy(pool_labels).to(DEVICE[0])
        return F.cross_entropy(logits[:b], yl), F.cross_entropy(logits[b:], yp), stats
    xu = x_unl[torch.from_numpy(xu_idx)]
    yu = y_unl[torch.from_numpy(xu_idx)].to(DEVICE[0])
    n_u = xu.shape[0]

    def frozen_probs(x):  # manabi's StepContext::frozen_probs: no graph
        with torch.no_grad():
            return F.softmax(model(x), 1)

    def confident(probs):  # manabi's PseudoLabels::confident (+ diagnosis)
        conf, pseudo = probs.max(1)
        mask = (conf >= cfg["threshold"]).float()
        right = (pseudo == yu).float()
        stats.update(mask_rate=float(mask.mean()), kept=float(mask.sum()),
                     right=float((right * mask).sum()), pseudo_acc_all=float(right.mean()))
        return pseudo, mask

    if method in ("pseudo_label", "entropy_min", "mutual_information", "vat"):
        uw = augment(xu, aug_rng)
        logits = model(torch.cat([xl, uw]))
        ll, lu = logits[:b], logits[b:]
        sup = F.cross_entropy(ll, yl)
        if method == "pseudo_label":
            pseudo, mask = confident(F.softmax(lu.detach(), 1))
            unsup = (F.cross_entropy(lu, pseudo, reduction="none") * mask).mean()
        elif method == "entropy_min":
            unsup = entropy(lu)
        elif method == "mutual_information":
            mean_p = F.softmax(lu, 1).mean(0)
            unsup = entropy(lu) + (mean_p * mean_p.clamp(min=1e-12).log()).sum()
        else:  # vat (p: the same weights on the same input as manabi's frozen forward)
            p = F.softmax(lu.detach(), 1)
            d = unit_per_sample(torch.randn_like(uw))
            r = (cfg["vat_xi"] * d).requires_grad_(True)
            kl = F.kl_div(F.log_softmax(model(uw + r), 1), p, reduction="batchmean")
            g = torch.autograd.grad(kl, r)[0]
            r_adv = cfg["vat_eps"] * unit_per_sample(g.detach())
            kl_adv = F.kl_div(F.log_softmax(model(uw + r_adv), 1), p, reduction="batchmean")
            unsup = kl_adv + cfg["vat_entropy"] * entropy(lu)
        return sup, unsup, stats
    if method in ("pi_model", "mean_teacher"):
        u1, u2 = augment(xu, aug_rng), augment(xu, aug_rng)
        if method == "pi_model":
            target = frozen_probs(u2)
        else:
            with torch.no_grad():
                target = F.softmax(ema_model(u2), 1)
        logits = model(torch.cat([xl, u1]))
        ll, l1 = logits[:b], logits[b:]
        return F.cross_entropy(ll, yl), F.mse_loss(F.softmax(l1, 1), target), stats
    if method == "mixmatch":
        views = [augment(xu, aug_rng) for _ in range(cfg["mixmatch_k"])]
        guess = sum(frozen_probs(v) for v in views) / len(views)
        q = F.softmax(guess.clamp(min=1e-12).log() / cfg["mixmatch_t"], 1)  # sharpen
        stats["pseudo_acc_all"] = float((q.argmax(1) == yu).float().mean())
        all_x = torch.cat([xl] + views)
        all_y = torch.cat([F.one_hot(yl, CLASSES).float()] + [q] * len(views))
        perm = torch.from_numpy(mix_rng.permutation(all_x.shape[0]))
        lam = float(mix_rng.beta(cfg["mixmatch_alpha"], cfg["mixmatch_alpha"]))
        lam = max(lam, 1.0 - lam)
        mx = lam * all_x + (1.0 - lam) * all_x[perm]
        my = lam * all_y + (1.0 - lam) * all_y[perm]
        logits = model(mx)
        sup = -(my[:b] * F.log_softmax(logits[:b], 1)).sum(1).mean()
        unsup = F.mse_loss(F.softmax(logits[b:], 1), my[b:])
        return sup, unsup, stats
    if method == "fixmatch":
        uw, us = augment(xu, aug_rng), augment(xu, aug_rng, strong=True)
        if cfg.get("concat"):  # USB: one train-mode forward of labelled, weak and strong
            logits = model(torch.cat([xl, uw, us]))
            ll, lw, ls = logits[:b], logits[b:b + n_u], logits[b + n_u:]
            pseudo, mask = confident(F.softmax(lw.detach(), 1))
        else:
            pseudo, mask = confident(frozen_probs(uw))
            logits = model(torch.cat([xl, us]))
            ll, ls = logits[:b], logits[b:]
        unsup = (F.cross_entropy(ls, pseudo, reduction="none") * mask).mean()
        return F.cross_entropy(ll, yl), unsup, stats
    raise ValueError(method)


def relabel(model, x_unl, threshold, batch=1000):
    """Offline self-training's relabelling: the raw model (eval mode) on every unlabelled image,
    unaugmented; returns the rows whose max prob >= threshold and their argmax labels."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    model.eval()
    conf, pred = [], []
    with torch.no_grad():
        for i in range(0, len(x_unl), batch):
            c, p = F.softmax(model(x_unl[i:i + batch].to(DEVICE[0])), 1).max(1)
            conf.append(c.cpu().numpy())
            pred.append(p.cpu().numpy())
    model.train()
    conf, pred = np.concatenate(conf), np.concatenate(pred)
    rows = np.flatnonzero(conf >= threshold)
    return rows.astype(np.int64), pred[rows].astype(np.int64)


def accuracy(model, x, y, batch=1000):
    import torch

    right = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb, yb = x[i:i + batch].to(DEVICE[0]), y[i:i + batch].to(DEVICE[0])
            right += int((model(xb).argmax(1) == yb).sum())
    return right / len(x)


# ==========================================================================
# training
# ==========================================================================


def run(args):
    import numpy as np
    import torch
    import common

    xtr_u8, ytr_np, xte_u8, yte_np = common.load_fashion_mnist()
    ytr_np, yte_np = ytr_np.astype(np.int64), yte_np.astype(np.int64)
    lab = labelled_rows(args, ytr_np)
    unl = np.setdiff1d(np.arange(len(ytr_np)), lab)
    x_all, y_all = to_tensor(xtr_u8), torch.from_numpy(ytr_np)
    x_te, y_te = to_tensor(xte_u8), torch.from_numpy(yte_np)
    x_lab, y_lab = x_all[torch.from_numpy(lab)], y_all[torch.from_numpy(lab)]
    x_unl, y_unl = x_all[torch.from_numpy(unl)], y_all[torch.from_numpy(unl)]
    del x_all
    counts = np.bincount(ytr_np[lab], minlength=CLASSES)
    log(f"[data] labelled {len(lab)} (per class {counts.tolist()}), unlabelled {len(unl)}, "
        f"test {len(x_te)}")

    method = args.method
    hyper = dict(METHOD_DEFAULTS[method])
    if args.lambda_u is not None:
        hyper["lambda_u"] = args.lambda_u
    if args.rampup is not None:
        hyper["rampup"] = args.rampup
    cfg = dict(CONFIG, concat=args.concat)
    if method == "distillation":
        if not args.teacher:
            raise SystemExit("--method distillation needs --teacher (a torch.save'd nn.Module)")
        cfg["teacher"] = torch.load(args.teacher, weights_only=False).to(DEVICE[0]).eval()
        for q in cfg["teacher"].parameters():
            q.requires_grad_(False)
        log(f"[distillation] teacher {args.teacher}: test accuracy "
            f"{accuracy(cfg['teacher'], x_te, y_te):.4f}")
    T = args.iterations
    rampup_iters = math.floor(hyper["rampup"] * T + 0.5)  # manabi: (share * total).round()
    bu = args.mu * args.batch

    model = build_model(args.seed, args.net).to(DEVICE[0])
    ema_model = copy.deepcopy(model)
    for q in ema_model.parameters():
        q.requires_grad_(False)
    params, ema_params = list(model.parameters()), list(ema_model.parameters())
    opt = torch.optim.SGD(params, lr=cfg["lr"], momentum=cfg["momentum"],
                          nesterov=cfg["nesterov"], weight_decay=cfg["weight_decay"])
    aug_rng = np.random.default_rng([args.seed, 3])
    mix_rng = np.random.default_rng([args.seed, 4])
    d = cfg["ema_decay"]

    rows, win = [], []
    # offline self-training's pool: (unlabelled rows, pseudo-labels) of the last relabelling
    pool_rows, pool_labels, pool_share, pool_acc = np.empty(0, np.int64), None, None, None
    round_len = -(-T // cfg["self_training_rounds"])
    AUGMENT_SECONDS[0] = 0.0
    t_start = time.perf_counter()
    for t in range(T):
        if t % args.steps_per_epoch == 0:  # manabi restarts both index streams every epoch
            epoch = t // args.steps_per_epoch
            lab_stream = Stream(len(lab), np.random.default_rng([args.seed, 1, epoch]))
            unl_stream = Stream(len(unl), np.random.default_rng([args.seed, 2, epoch]))
            pool_stream = Stream(len(pool_rows), np.random.default_rng([args.seed, 5, t]))
        if method == "self_training" and t > 0 and t % round_len == 0:
            pool_rows, pool_labels = relabel(model, x_unl, cfg["threshold"])
            pool_share = len(pool_rows) / len(unl)
            pool_acc = (float((y_unl[torch.from_numpy(pool_rows)].numpy() == pool_labels).mean())
                        if len(pool_rows) else None)
            pool_stream = Stream(len(pool_rows), np.random.default_rng([args.seed, 5, t]))
            log(f"[self_training] relabelled at it {t}: pool {len(pool_rows)} "
                f"({pool_share:.3f} of the unlabelled set), pseudo-label accuracy {pool_acc}")
        lr = cfg["lr"] * (1.0 + math.cos(math.pi * t / T)) / 2.0
        for g in opt.param_groups:
            g["lr"] = lr
        lam = hyper["lambda_u"] * ramp(t, rampup_iters)
        li = torch.from_numpy(lab_stream.take(args.batch))
        xl = augment(x_lab[li], aug_rng)
        yl = y_lab[li].to(DEVICE[0])
        batch_labels = None
        if method == "supervised":
            xu_idx = None
        elif method == "self_training":
            xu_idx = None
            if len(pool_rows):
                j = pool_stream.take(bu)
                xu_idx, batch_labels = pool_rows[j], pool_labels[j]
        else:
            xu_idx = unl_stream.take(bu)
        sup, unsup, stats = step_losses(method, model, ema_model, xl, yl, xu_idx, x_unl, y_unl,
                                        aug_rng, mix_rng, cfg, batch_labels)
        loss = sup if unsup is None else sup + lam * unsup
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            if t == 0:  # manabi's WeightAverage copies its first snapshot
                torch._foreach_copy_(ema_params, params)
            else:
                torch._foreach_mul_(ema_params, d)
                torch._foreach_add_(ema_params, params, alpha=1.0 - d)
            for eb, mb in zip(ema_model.buffers(), model.buffers()):  # BN statistics: copied
                eb.copy_(mb)
        win.append(dict(sup=float(sup.detach()),
                        unsup=None if unsup is None else float(unsup.detach()),
                        **stats))
        if (t + 1) % args.log_every == 0 or t + 1 == T:
            def mean(k):
                vals = [w[k] for w in win if w.get(k) is not None]
                return float(np.mean(vals)) if vals else None

            kept = sum(w.get("kept", 0.0) for w in win)
            row = dict(iteration=t + 1, sup=mean("sup"), unsup=mean("unsup"), lambda_u=lam,
                       mask_rate=mean("mask_rate"),
                       pseudo_acc=(sum(w.get("right", 0.0) for w in win) / kept
                                   if kept > 0 else None),
                       pseudo_acc_all=mean("pseudo_acc_all"), pool_share=pool_share,
                       pool_accuracy=pool_acc, lr=lr,
                       seconds=time.perf_counter() - t_start)
            rows.append(row)
            win = []
            log(f"[{method}] it {t + 1}/{T} sup={row['sup']:.4f}" + "".join(
                f" {k}={row[k]:.4f}" for k in ("unsup", "mask_rate", "pseudo_acc",
                                                "pseudo_acc_all")
                if row[k] is not None) + f" lambda={lam:.3g} lr={lr:.5f} "
                f"({row['seconds']:.0f}s)")
    train_secs = time.perf_counter() - t_start
    model.eval()
    ema_model.eval()
    acc_ema, acc_raw = accuracy(ema_model, x_te, y_te), accuracy(model, x_te, y_te)
    log(f"[{method}] test accuracy EMA {acc_ema:.4f}, raw {acc_raw:.4f}; "
        f"{train_secs / max(T, 1):.3f} s / iteration")
    last = rows[-1] if rows else {}
    return dict(steps_per_epoch=args.steps_per_epoch, test_accuracy=acc_ema, test_accuracy_raw=acc_raw,
                final_mask_rate=last.get("mask_rate"),
                final_pseudo_accuracy=last.get("pseudo_acc"),
                final_pseudo_accuracy_all=last.get("pseudo_acc_all"),
                train_seconds=train_secs, seconds_per_iteration=train_secs / max(T, 1),
                augment_seconds=AUGMENT_SECONDS[0], log=rows, labelled_count=int(len(lab)),
                labelled_per_class=counts.tolist(), unlabelled_count=int(len(unl)),
                labelled_indices=None if args.labelled_all else lab.tolist(), hyper=hyper,
                rampup_iterations=rampup_iters)


# ==========================================================================
# summary
# ==========================================================================


def summary():
    files = sorted(RESULTS.glob("semi_*_torch_*.json"))
    if not files:
        print("no bench/results/semi_*_torch_*.json")
        return
    print("| file | method | labels | iterations | EMA acc | raw acc | mask | pseudo acc | "
          "s / it |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    fmt = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
    for f in files:
        r = json.loads(f.read_text())
        print(f"| {f.stem} | {r['method']} | {r['labelled_count']} | {r['iterations']} | "
              f"{fmt(r['test_accuracy'])} | {fmt(r['test_accuracy_raw'])} | "
              f"{fmt(r['final_mask_rate'])} | {fmt(r['final_pseudo_accuracy'])} | "
              f"{r['seconds_per_iteration']:.3f} |")


# ==========================================================================


def main(argv=None):
    args = parse_args(argv)
    if args.summary:
        summary()
        return
    if args.labelled_all and (args.method != "supervised" or args.labelled):
        raise SystemExit("--labelled-all goes with --method supervised and no --labelled")
    set_thread_env(args.threads)
    import numpy as np
    import torch
    import common

    common.seed_torch(torch, args.threads, args.seed)
    DEVICE[0] = args.device
    if args.check_augment:
        check_augment(args.seed)
        return
    n_tag = "all" if args.labelled_all else None
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    log(f"== semi {args.method} / torch / seed {args.seed} / {args.iterations} iterations / "
        f"{args.threads} threads")
    body = run(args)
    wall = time.perf_counter() - t0
    n_tag = n_tag or f"{body['labelled_count']}lab"
    default_name = f"semi_{args.method}_torch_{n_tag}_seed{args.seed}" + (
        "" if args.iterations == 2000 else f"_it{args.iterations}")
    out = Path(args.out) if args.out else RESULTS / f"{default_name}.json"
    result = {
        "work": "semi_fmnist",
        "framework": "torch",
        "method": args.method,
        "seed": args.seed,
        "iterations": args.iterations,
        "test_accuracy": body.pop("test_accuracy"),
        "test_accuracy_raw": body.pop("test_accuracy_raw"),
        "wall_seconds": wall,
        "labelled_source": ("all" if args.labelled_all else args.labelled
                            or f"per_class {args.per_class} (numpy RandomState({args.seed}))"),
        "batch": args.batch,
        "mu": args.mu,
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "threads": args.threads,
        "device": args.device + (f" ({torch.cuda.get_device_name()})"
                                 if args.device.startswith("cuda") else ""),
        "settings": {"torch_num_threads": torch.get_num_threads(),
                     "torch_num_interop_threads": torch.get_num_interop_threads(),
                     "init": "keras (glorot_uniform, zero bias)", "dtype": "float32",
                     "memory_format": "channels_last",
                     "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")},
        "config": CONFIG,
        "teacher": args.teacher,
    }
    result.update(body)
    common.write_result(result, out, load_start, __file__, argv)
    log(f"wrote {out}: EMA {result['test_accuracy']:.4f} raw {result['test_accuracy_raw']:.4f} "
        f"{result['seconds_per_iteration']:.3f} s/it wall={wall:.0f}s")


if __name__ == "__main__":
    main()
