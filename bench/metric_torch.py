#!/usr/bin/env python3
"""PyTorch reference for manabi's metric-learning, few-shot and multi-task experiments.

    bench/.venv/bin/python bench/metric_torch.py --experiment softmax --seed 1
    bench/.venv/bin/python bench/metric_torch.py --experiment semi_hard --seed 2
    bench/.venv/bin/python bench/metric_torch.py --summary

Experiments: softmax, contrastive, batch_hard, batch_hard_8, semi_hard, protonet, multitask,
multitask_single. Each run writes bench/results/metric_<experiment>_torch_seed<s>.json;
``--summary`` prints mean and min-max over the seeds found there, per experiment and metric.
Runs use 1 thread by default (``--threads``; intra-op threads, inter-op 1).

Data: Fashion-MNIST (official 60,000 / 10,000 files), pixels u8 / 255, NCHW [n, 1, 28, 28]
(float32, stored channels_last). "Seen" = classes 0-4: training = all 30,000 training images
of classes 0-4 (file order), seen test = the 5,000 test images of classes 0-4. "Unseen" = the
5,000 test images of classes 5-9 (labels relabelled 0-4), never used in training.

Trunk ("seed CNN"):
    Conv2d(1->16, 3x3, valid) ReLU, MaxPool 2x2        # 28 -> 26 -> 13
    Conv2d(16->32, 3x3, valid) ReLU, MaxPool 2x2       # 13 -> 11 -> 5
    Flatten (800), Linear(800->128) ReLU
Glorot-uniform weights, zero biases (Keras' defaults) on every Conv2d / Linear, trunk and heads.
Adam lr 1e-3, betas (0.9, 0.999), eps 1e-7 (Keras' default eps); 5 epochs for every
seen-class experiment.

Seeding: random.seed(s), np.random.seed(s), torch.manual_seed(s) at start; torch.manual_seed(s)
again right before the model is built (trunk first, then the heads in the order listed).
Batches / episodes are drawn from one np.random.default_rng(s) generator per training run.

Seen-class training:
  softmax      trunk + Linear(128->5), cross-entropy (mean over the batch), shuffled batches
               of 200 (rng.permutation(30000) each epoch, last batch short: 150 steps/epoch).
               Embedding = the 128-d ReLU output of the trunk. Also reports the classifier's
               accuracy on the seen test set (classifier_test_accuracy).
  contrastive, batch_hard, semi_hard
               trunk + Linear(128->64), then F.normalize (unit L2 length, eps 1e-12).
               Class-balanced batches: each step draws the 5 classes in random order
               (rng.permutation(5)) and 32 distinct images of each class
               (rng.choice(rows of the class, 32, replace=False)), independently every step;
               187 steps per epoch (30000 // 160); batch of 160.
               Distances: Euclidean from differences, D = sqrt(clamp(sum((e_i - e_j)^2),
               min=1e-12)).
    contrastive  (seed 002, Hadsell et al.) over every pair i < j of the batch:
                 0.5 * D^2 for same-class pairs, 0.5 * max(0, m - D)^2 for different-class
                 pairs, mean over all 12,720 pairs; m = 1.0.
    batch_hard   (Hermans et al. 2017) on detached distances, for each anchor its farthest
                 positive (same class, not itself) and nearest negative (first index on ties);
                 loss = mean over the 160 anchors of max(0, d_ap - d_an + 0.2) with the
                 differentiable distances.
    batch_hard_8 the same with 8 images per class (batch of 40, 750 steps per epoch): manabi's
                 batch-hard recipe, since 32 per class collapses (loss pinned at the margin).
    semi_hard    (FaceNet) for each ordered positive pair (a, p), p != a: the nearest negative
                 n with d_ap < d_an < d_ap + 0.2 (on detached distances, first index on ties);
                 pairs without one are skipped; loss = mean over the mined triplets of
                 max(0, d_ap - d_an + 0.2); a step with nothing mined is skipped (no update).
               Embedding = the normalised 64-d output.
  protonet     (Snell et al. 2017) trunk + Linear(128->64), no normalisation. Episodes: the 5
               seen classes in random order (rng.permutation(5)), for each
               rng.choice(rows of the class, 20, replace=False): the first 5 are the support,
               the other 15 queries. Prototype = mean of the class' 5 support embeddings;
               logits of a query = minus squared Euclidean distance (from differences) to each
               prototype; cross-entropy (mean) over the 75 queries; 300 episodes per epoch.
               Embedding = the 64-d output.

Evaluation of the embedding (seen-class experiments), Euclidean distance in float64 computed
from differences (torch.cdist, compute_mode="donot_use_mm_for_euclid_dist") on the float32
embeddings; ties are broken by the lower index (stable sorts, first argmin):
  seen_knn_accuracy   1-nearest-neighbour: reference = the 30,000 training images' embeddings,
                      queries = the 5,000 seen test images.
  seen_recall_at_1, seen_map
                      leave-one-out within the 5,000 seen test images: each image queries all
                      others; recall@1 = its nearest other has the same label; AP over the full
                      ranking of the 4,999 others (mean of precision@rank at each hit); mAP =
                      mean AP over queries.
  unseen_recall_at_1, unseen_map, unseen_eer
                      the same on the 5,000 unseen test images, plus the equal error rate over
                      all 12,497,500 pairs i < j as manabi's equal_error_rate
                      (src/metric/retrieval.rs): pairs sorted by distance (stable, pair order
                      (i, j) row-major), the threshold raised past one pair at a time; "same" when
                      distance <= threshold; FAR = accepted different / all different, FRR =
                      rejected same / all same; at the first pair where FAR >= FRR the result is
                      prev_far + t * (far - prev_far), t = a / (a - b), a = prev_frr - prev_far,
                      b = frr - far (prev = before this pair; FAR 0, FRR 1 before the first).
  fewshot_5way_1shot, fewshot_5way_5shot (+ _ci95)
                      600 episodes each on the unseen test images, generator
                      np.random.default_rng(s) (fresh for each K): the 5 unseen classes in random
                      order, rng.choice(rows of the class, K + 15, replace=False): first K
                      support, 15 queries; nearest prototype by squared Euclidean distance;
                      mean accuracy and 1.96 * sd / sqrt(600), sd with ddof=1.

Multi-task (all 10 classes):
  multitask    labelled subset = 50 training images per class: np.random.default_rng(s), for
               each class ascending, rng.choice(rows of that class in file order, 50,
               replace=False) (the rows kept sorted, as transfer_torch.py's pick_per_class);
               500 images; tested on all 10,000 test images. Shared trunk; head A =
               Linear(128->10) (class), head B = Linear(128->3) (group: upper body
               {0, 2, 4, 6} -> 0, footwear {5, 7, 9} -> 1, other {1, 3, 8} -> 2).
               Loss = 1.0 * CE_A + 0.5 * CE_B. Adam lr 1e-3, batch 50, 50 epochs, shuffled
               every epoch with np.random.default_rng(s) (a second generator, fresh;
               rng.permutation(500)). Reports class_accuracy (head A), group_accuracy
               (head B) and group_from_class_accuracy (head A's argmax mapped to its group).
  multitask_single  the same model (head B built, so the trunk and head A start from the
               same weights) but loss = CE_A only and head B not given to the optimizer;
               reports class_accuracy and group_from_class_accuracy only.

JSON: metrics (name -> value), train_seconds (the training loop only), eval_seconds (embedding
and all metrics), wall_seconds, per_epoch (mean loss over the steps; the metric losses also
pairs / triplets per step and skipped steps, the triplet losses the mean d_ap and d_an of the
mined triplets on the detached distances), versions (torch, numpy, python), threads,
settings, config, machine, command, loadavg.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reference import log, set_thread_env  # noqa: E402  (stdlib-only at import)

RESULTS = HERE / "results"
EXPERIMENTS = ("softmax", "contrastive", "batch_hard", "batch_hard_8", "semi_hard", "protonet",
               "multitask", "multitask_single")
SEEN = [0, 1, 2, 3, 4]
UNSEEN = [5, 6, 7, 8, 9]
GROUP_OF = [0, 2, 0, 2, 0, 1, 0, 1, 2, 1]  # class -> group (upper body / footwear / other)
ADAM_EPS = 1e-7
CONFIG = {
    "softmax": dict(epochs=5, batch_size=200, lr=1e-3, embedding="trunk 128-d ReLU"),
    "contrastive": dict(epochs=5, classes_per_batch=5, per_class=32, steps_per_epoch=187,
                        lr=1e-3, margin=1.0, embedding="normalised 64-d"),
    "batch_hard": dict(epochs=5, classes_per_batch=5, per_class=32, steps_per_epoch=187,
                       lr=1e-3, margin=0.2, embedding="normalised 64-d"),
    # manabi's batch-hard recipe: 8 images per class (32 collapses), 30000 // 40 steps.
    "batch_hard_8": dict(epochs=5, classes_per_batch=5, per_class=8, steps_per_epoch=750,
                         lr=1e-3, margin=0.2, embedding="normalised 64-d"),
    "semi_hard": dict(epochs=5, classes_per_batch=5, per_class=32, steps_per_epoch=187,
                      lr=1e-3, margin=0.2, embedding="normalised 64-d"),
    "protonet": dict(epochs=5, ways=5, shots=5, queries=15, episodes_per_epoch=300, lr=1e-3,
                     embedding="64-d (not normalised)"),
    "multitask": dict(epochs=50, batch_size=50, per_class=50, lr=1e-3, weight_class=1.0,
                      weight_group=0.5),
    "multitask_single": dict(epochs=50, batch_size=50, per_class=50, lr=1e-3,
                             weight_class=1.0, weight_group=0.0),
}
FEWSHOT = dict(ways=5, queries=15, episodes=600, shots=[1, 5])
DIST_EPS = 1e-12


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--experiment", choices=EXPERIMENTS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=str, default=None,
                   help="JSON output (default bench/results/metric_<exp>_torch_seed<N>.json)")
    p.add_argument("--summary", action="store_true",
                   help="print mean and min-max over bench/results/metric_*_torch_seed*.json")
    args = p.parse_args(argv)
    if not args.summary and args.experiment is None:
        p.error("--experiment is required (or --summary)")
    return args


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
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for c in sorted(classes):
        idx = np.flatnonzero(y == c)
        rows.append(np.sort(rng.choice(idx, per_class, replace=False)))
    return np.concatenate(rows)


# ==========================================================================
# models
# ==========================================================================


def build(seed: int, heads):
    """trunk (seed CNN to the 128-d ReLU) and one Linear(128->k) per entry of ``heads``."""
    import torch
    import torch.nn as nn
    from reference import torch_keras_init

    torch.manual_seed(seed)
    trunk = nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 5 * 5, 128), nn.ReLU(),
    )
    torch_keras_init(trunk)
    trunk = trunk.to(memory_format=torch.channels_last)
    hs = []
    for k in heads:
        h = nn.Linear(128, k)
        torch_keras_init(h)
        hs.append(h)
    return trunk, hs


def adam(params, lr):
    import torch

    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=ADAM_EPS)


def pair_distances(e):
    """Euclidean distances from differences: sqrt(clamp(sum of squares, min=1e-12))."""
    import torch

    diff = e[:, None, :] - e[None, :, :]
    return torch.sqrt(torch.clamp((diff * diff).sum(-1), min=DIST_EPS))


# ==========================================================================
# losses with mining
# ==========================================================================


def contrastive_loss(e, y, margin):
    import torch

    d = pair_distances(e)
    i, j = torch.triu_indices(len(y), len(y), offset=1)
    dij = d[i, j]
    same = y[i] == y[j]
    terms = torch.where(same, 0.5 * dij ** 2, 0.5 * torch.clamp(margin - dij, min=0) ** 2)
    return terms.mean(), len(dij)


def batch_hard_loss(e, y, margin):
    """Batch-hard triplet loss; returns (loss, triplets (a, p, n) as a (n, 3) tensor)."""
    import torch

    d = pair_distances(e)
    dd = d.detach()
    n = len(y)
    eye = torch.eye(n, dtype=torch.bool)
    same = y[:, None] == y[None, :]
    pos = same & ~eye
    neg = ~same
    ninf = torch.tensor(float("-inf"), dtype=dd.dtype)
    pinf = torch.tensor(float("inf"), dtype=dd.dtype)
    p = torch.where(pos, dd, ninf).argmax(1)   # farthest positive, first index on ties
    m = torch.where(neg, dd, pinf).argmin(1)   # nearest negative, first index on ties
    a = torch.arange(n)
    keep = pos.any(1) & neg.any(1)
    a, p, m = a[keep], p[keep], m[keep]
    loss = torch.clamp(d[a, p] - d[a, m] + margin, min=0).mean()
    return loss, torch.stack([a, p, m], 1)


def semi_hard_triplets(dd, y, margin):
    """For each anchor a ascending and positive p != a ascending: the nearest negative n with
    d_ap < d_an < d_ap + margin (first index on ties); pairs without one are skipped.
    Returns an (n, 3) long tensor of (a, p, n)."""
    import torch

    n = len(y)
    eye = torch.eye(n, dtype=torch.bool)
    same = y[:, None] == y[None, :]
    a, p = torch.nonzero(same & ~eye, as_tuple=True)     # row-major: a, then p ascending
    dap = dd[a, p][:, None]                               # (P, 1)
    dan = dd[a]                                           # (P, n)
    ok = (~same[a]) & (dan > dap) & (dan < dap + margin)
    cand = torch.where(ok, dan, torch.tensor(float("inf"), dtype=dd.dtype))
    m = cand.argmin(1)
    found = ok.any(1)
    return torch.stack([a[found], p[found], m[found]], 1)


def semi_hard_loss(e, y, margin):
    import torch

    d = pair_distances(e)
    t = semi_hard_triplets(d.detach(), y, margin)
    if len(t) == 0:
        return None, t
    a, p, m = t.unbind(1)
    return torch.clamp(d[a, p] - d[a, m] + margin, min=0).mean(), t


# ==========================================================================
# training
# ==========================================================================


def train_softmax(trunk, head, x, y, cfg, seed):
    import numpy as np
    import torch
    import torch.nn.functional as F

    params = list(trunk.parameters()) + list(head.parameters())
    opt = adam(params, cfg["lr"])
    rng = np.random.default_rng(seed)
    n, bs = len(x), cfg["batch_size"]
    per_epoch = []
    for epoch in range(cfg["epochs"]):
        t0 = time.perf_counter()
        perm = torch.from_numpy(rng.permutation(n))
        sum_loss, correct = 0.0, 0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            out = head(trunk(x[idx]))
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sum_loss += loss.item() * len(idx)
            correct += (out.detach().argmax(1) == y[idx]).sum().item()
        rec = {"epoch": epoch + 1, "loss": sum_loss / n, "accuracy": correct / n,
               "seconds": time.perf_counter() - t0}
        per_epoch.append(rec)
        log(f"epoch {epoch + 1} loss={rec['loss']:.4f} acc={rec['accuracy']:.4f} "
            f"{rec['seconds']:.1f}s")
    return per_epoch


def train_metric(kind, trunk, head, x, y, cfg, seed):
    import numpy as np
    import torch
    import torch.nn.functional as F

    opt = adam(list(trunk.parameters()) + list(head.parameters()), cfg["lr"])
    rng = np.random.default_rng(seed)
    y_np = y.numpy()
    rows = {c: np.flatnonzero(y_np == c) for c in SEEN}
    per = cfg["per_class"]
    yb = torch.arange(cfg["classes_per_batch"]).repeat_interleave(per)  # batch-local labels
    per_epoch = []
    for epoch in range(cfg["epochs"]):
        t0 = time.perf_counter()
        sum_loss, steps, mined, skipped = 0.0, 0, 0, 0
        sum_dap, sum_dan, n_d = 0.0, 0.0, 0
        for _ in range(cfg["steps_per_epoch"]):
            classes = rng.permutation(SEEN)[:cfg["classes_per_batch"]]
            idx = np.concatenate([rng.choice(rows[c], per, replace=False) for c in classes])
            e = F.normalize(head(trunk(x[torch.from_numpy(idx)])), p=2, dim=1, eps=1e-12)
            if kind == "contrastive":
                loss, count = contrastive_loss(e, yb, cfg["margin"])
            elif kind in ("batch_hard", "batch_hard_8"):
                loss, t = batch_hard_loss(e, yb, cfg["margin"])
                count = len(t)
            else:
                loss, t = semi_hard_loss(e, yb, cfg["margin"])
                count = len(t)
            mined += count
            if kind != "contrastive" and count:
                with torch.no_grad():
                    a, pp, nn_ = t.unbind(1)
                    dd = pair_distances(e.detach())
                    sum_dap += dd[a, pp].mean().item()
                    sum_dan += dd[a, nn_].mean().item()
                    n_d += 1
            if loss is None:
                skipped += 1
                continue
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sum_loss += loss.item()
            steps += 1
        rec = {"epoch": epoch + 1, "loss": sum_loss / max(steps, 1), "steps": steps,
               "skipped_steps": skipped,
               ("pairs_per_step" if kind == "contrastive" else "triplets_per_step"):
                   mined / cfg["steps_per_epoch"],
               "seconds": time.perf_counter() - t0}
        if kind != "contrastive":
            rec["mean_d_ap"] = sum_dap / max(n_d, 1)
            rec["mean_d_an"] = sum_dan / max(n_d, 1)
        per_epoch.append(rec)
        log(f"epoch {epoch + 1} loss={rec['loss']:.4f} mined/step="
            f"{mined / cfg['steps_per_epoch']:.1f} skipped={skipped} "
            + (f"d_ap={rec['mean_d_ap']:.4f} d_an={rec['mean_d_an']:.4f} "
               if kind != "contrastive" else "") + f"{rec['seconds']:.1f}s")
    return per_epoch


def train_protonet(trunk, head, x, y, cfg, seed):
    import numpy as np
    import torch
    import torch.nn.functional as F

    opt = adam(list(trunk.parameters()) + list(head.parameters()), cfg["lr"])
    rng = np.random.default_rng(seed)
    y_np = y.numpy()
    rows = {c: np.flatnonzero(y_np == c) for c in SEEN}
    ways, shots, queries = cfg["ways"], cfg["shots"], cfg["queries"]
    per = shots + queries
    target = torch.arange(ways).repeat_interleave(queries)
    per_epoch = []
    for epoch in range(cfg["epochs"]):
        t0 = time.perf_counter()
        sum_loss, correct = 0.0, 0
        for _ in range(cfg["episodes_per_epoch"]):
            classes = rng.permutation(SEEN)[:ways]
            idx = np.concatenate([rng.choice(rows[c], per, replace=False) for c in classes])
            e = head(trunk(x[torch.from_numpy(idx)])).view(ways, per, -1)
            protos = e[:, :shots].mean(1)                       # (ways, d)
            q = e[:, shots:].reshape(ways * queries, -1)         # (ways*queries, d)
            diff = q[:, None, :] - protos[None, :, :]
            logits = -(diff * diff).sum(-1)
            loss = F.cross_entropy(logits, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sum_loss += loss.item()
            correct += (logits.detach().argmax(1) == target).sum().item()
        n_ep = cfg["episodes_per_epoch"]
        rec = {"epoch": epoch + 1, "loss": sum_loss / n_ep,
               "query_accuracy": correct / (n_ep * ways * queries),
               "seconds": time.perf_counter() - t0}
        per_epoch.append(rec)
        log(f"epoch {epoch + 1} loss={rec['loss']:.4f} acc={rec['query_accuracy']:.4f} "
            f"{rec['seconds']:.1f}s")
    return per_epoch


def train_multitask(trunk, head_a, head_b, x, y, g, cfg, seed, single):
    import numpy as np
    import torch
    import torch.nn.functional as F

    params = list(trunk.parameters()) + list(head_a.parameters())
    if not single:
        params += list(head_b.parameters())
    opt = adam(params, cfg["lr"])
    rng = np.random.default_rng(seed)
    n, bs = len(x), cfg["batch_size"]
    per_epoch = []
    for epoch in range(cfg["epochs"]):
        t0 = time.perf_counter()
        perm = torch.from_numpy(rng.permutation(n))
        sum_loss = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            h = trunk(x[idx])
            loss = cfg["weight_class"] * F.cross_entropy(head_a(h), y[idx])
            if not single:
                loss = loss + cfg["weight_group"] * F.cross_entropy(head_b(h), g[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sum_loss += loss.item() * len(idx)
        per_epoch.append({"epoch": epoch + 1, "loss": sum_loss / n,
                          "seconds": time.perf_counter() - t0})
        if (epoch + 1) % 10 == 0:
            log(f"epoch {epoch + 1} loss={sum_loss / n:.4f}")
    return per_epoch


# ==========================================================================
# evaluation
# ==========================================================================


def apply(fn, x, batch=1000):
    import torch

    with torch.no_grad():
        return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


def cdist64(a, b):
    import torch

    return torch.cdist(a.double(), b.double(), compute_mode="donot_use_mm_for_euclid_dist")


def knn1_accuracy(ref, yref, q, yq, chunk=500):
    import torch

    correct = 0
    for i in range(0, len(q), chunk):
        d = cdist64(q[i:i + chunk], ref)
        correct += (yref[d.argmin(1)] == yq[i:i + chunk]).sum().item()
    return correct / len(q)


def retrieval(d, y, chunk=500):
    """Leave-one-out recall@1 and mAP from a full (n, n) distance matrix."""
    import torch

    n = len(y)
    hits1, ap_sum, ap_n = 0, 0.0, 0
    for s in range(0, n, chunk):
        rows = torch.arange(s, min(s + chunk, n))
        dr = d[rows].clone()
        dr[torch.arange(len(rows)), rows] = float("inf")  # self goes last, then is dropped
        order = torch.sort(dr, dim=1, stable=True).indices[:, :-1]
        rel = (y[order] == y[rows][:, None]).double()
        hits1 += int(rel[:, 0].sum().item())
        cum = rel.cumsum(1)
        ranks = torch.arange(1, n, dtype=torch.float64)
        nrel = rel.sum(1)
        ap = (rel * cum / ranks).sum(1) / nrel.clamp(min=1)
        ap_sum += ap[nrel > 0].sum().item()
        ap_n += int((nrel > 0).sum().item())
    return hits1 / n, ap_sum / max(ap_n, 1)


def equal_error_rate(d, y):
    """manabi's equal_error_rate (src/metric/retrieval.rs) on a full distance matrix."""
    import numpy as np

    n = len(y)
    i, j = np.triu_indices(n, k=1)  # row-major: the order manabi pushes the pairs in
    dist = d.numpy()[i, j]
    same = (y.numpy()[i] == y.numpy()[j])
    del i, j
    order = np.argsort(dist, kind="stable")
    s = same[order]
    n_same = int(s.sum())
    n_diff = len(s) - n_same
    if n_same == 0 or n_diff == 0:
        return float("nan")
    acc_same = np.cumsum(s, dtype=np.int64)
    acc_diff = np.arange(1, len(s) + 1, dtype=np.int64) - acc_same
    far = acc_diff / n_diff
    frr = 1.0 - acc_same / n_same
    cross = np.flatnonzero(far >= frr)
    if len(cross) == 0:
        return float(far[-1])
    k = int(cross[0])
    prev_far, prev_frr = (far[k - 1], frr[k - 1]) if k > 0 else (0.0, 1.0)
    a, b = prev_frr - prev_far, frr[k] - far[k]
    t = a / (a - b) if a - b > 0 else 0.0
    return float(prev_far + t * (far[k] - prev_far))


def few_shot(e, y, shots, seed):
    import numpy as np
    import torch

    ways, queries, episodes = FEWSHOT["ways"], FEWSHOT["queries"], FEWSHOT["episodes"]
    rng = np.random.default_rng(seed)
    y_np = y.numpy()
    classes_all = np.unique(y_np)
    rows = {c: np.flatnonzero(y_np == c) for c in classes_all}
    per = shots + queries
    target = torch.arange(ways).repeat_interleave(queries)
    e64 = e.double()
    accs = []
    for _ in range(episodes):
        classes = rng.permutation(classes_all)[:ways]
        idx = np.concatenate([rng.choice(rows[c], per, replace=False) for c in classes])
        z = e64[torch.from_numpy(idx)].view(ways, per, -1)
        protos = z[:, :shots].mean(1)
        q = z[:, shots:].reshape(ways * queries, -1)
        diff = q[:, None, :] - protos[None, :, :]
        pred = (diff * diff).sum(-1).argmin(1)
        accs.append((pred == target).double().mean().item())
    accs = np.array(accs)
    return float(accs.mean()), float(1.96 * accs.std(ddof=1) / np.sqrt(episodes))


def evaluate_embedding(embed, xs, ys, xs_te, ys_te, xu_te, yu_te, seed):
    import gc

    t0 = time.perf_counter()
    m = {}
    e_tr, e_se, e_un = apply(embed, xs), apply(embed, xs_te), apply(embed, xu_te)
    m["embedding_dim"] = int(e_tr.shape[1])
    m["seen_knn_accuracy"] = knn1_accuracy(e_tr, ys, e_se, ys_te)
    d = cdist64(e_se, e_se)
    m["seen_recall_at_1"], m["seen_map"] = retrieval(d, ys_te)
    d = cdist64(e_un, e_un)
    m["unseen_recall_at_1"], m["unseen_map"] = retrieval(d, yu_te)
    m["unseen_eer"] = equal_error_rate(d, yu_te)
    del d
    gc.collect()
    for k in FEWSHOT["shots"]:
        mean, ci = few_shot(e_un, yu_te, k, seed)
        m[f"fewshot_5way_{k}shot"] = mean
        m[f"fewshot_5way_{k}shot_ci95"] = ci
    log("  " + " ".join(f"{k}={v:.4f}" for k, v in m.items() if k != "embedding_dim")
        + f" ({time.perf_counter() - t0:.1f}s)")
    return m


# ==========================================================================
# experiments
# ==========================================================================


def run_seen(exp, seed):
    import numpy as np
    import torch
    import torch.nn.functional as F
    import common

    cfg = CONFIG[exp]
    xtr, ytr, xte, yte = common.load_fashion_mnist()
    ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
    s_tr, s_te, u_te = np.isin(ytr, SEEN), np.isin(yte, SEEN), np.isin(yte, UNSEEN)
    xs, ys = to_tensor(xtr[s_tr]), torch.from_numpy(ytr[s_tr])
    xs_te, ys_te = to_tensor(xte[s_te]), torch.from_numpy(yte[s_te])
    xu_te, yu_te = to_tensor(xte[u_te]), torch.from_numpy(yte[u_te] - 5)

    k = 5 if exp == "softmax" else 64
    trunk, (head,) = build(seed, [k])
    t0 = time.perf_counter()
    if exp == "softmax":
        per_epoch = train_softmax(trunk, head, xs, ys, cfg, seed)
    elif exp == "protonet":
        per_epoch = train_protonet(trunk, head, xs, ys, cfg, seed)
    else:
        per_epoch = train_metric(exp, trunk, head, xs, ys, cfg, seed)
    train_s = time.perf_counter() - t0
    log(f"train_seconds={train_s:.1f}")

    t0 = time.perf_counter()
    metrics = {}
    if exp == "softmax":
        logits = apply(lambda b: head(trunk(b)), xs_te)
        metrics["classifier_test_accuracy"] = (logits.argmax(1) == ys_te).double().mean().item()
        embed = trunk
    elif exp == "protonet":
        def embed(b):
            return head(trunk(b))
    else:
        def embed(b):
            return F.normalize(head(trunk(b)), p=2, dim=1, eps=1e-12)
    metrics.update(evaluate_embedding(embed, xs, ys, xs_te, ys_te, xu_te, yu_te, seed))
    eval_s = time.perf_counter() - t0
    return {"metrics": metrics, "train_seconds": train_s, "eval_seconds": eval_s,
            "per_epoch": per_epoch,
            "rows": {"train": len(xs), "seen_test": len(xs_te), "unseen_test": len(xu_te)}}


def run_multitask(exp, seed):
    import numpy as np
    import torch
    import common

    cfg = CONFIG[exp]
    single = exp == "multitask_single"
    xtr, ytr, xte, yte = common.load_fashion_mnist()
    ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
    rows = pick_per_class(ytr, range(10), cfg["per_class"], seed)
    group = torch.tensor(GROUP_OF)
    x, y = to_tensor(xtr[rows]), torch.from_numpy(ytr[rows])
    xt, yt = to_tensor(xte), torch.from_numpy(yte)
    trunk, (head_a, head_b) = build(seed, [10, 3])
    t0 = time.perf_counter()
    per_epoch = train_multitask(trunk, head_a, head_b, x, y, group[y], cfg, seed, single)
    train_s = time.perf_counter() - t0
    log(f"train_seconds={train_s:.1f}")

    t0 = time.perf_counter()
    h = apply(trunk, xt)
    with torch.no_grad():
        pa = head_a(h).argmax(1)
        pb = head_b(h).argmax(1)
    gt = group[yt]
    metrics = {"class_accuracy": (pa == yt).double().mean().item()}
    if not single:
        metrics["group_accuracy"] = (pb == gt).double().mean().item()
    metrics["group_from_class_accuracy"] = (group[pa] == gt).double().mean().item()
    eval_s = time.perf_counter() - t0
    log("  " + " ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
    return {"metrics": metrics, "train_seconds": train_s, "eval_seconds": eval_s,
            "per_epoch": per_epoch, "train_indices": rows.tolist(),
            "groups": {"upper_body": [0, 2, 4, 6], "footwear": [5, 7, 9], "other": [1, 3, 8]},
            "rows": {"train": len(x), "test": len(xt)}}


# ==========================================================================
# summary
# ==========================================================================


def summary():
    for exp in EXPERIMENTS:
        files = sorted(RESULTS.glob(f"metric_{exp}_torch_seed*.json"))
        if not files:
            print(f"\n{exp}: no results")
            continue
        runs = sorted((json.loads(f.read_text()) for f in files), key=lambda r: r["seed"])
        seeds = ", ".join(str(r["seed"]) for r in runs)
        print(f"\n### metric_{exp}, PyTorch {runs[0]['versions']['torch']}, seeds {seeds}\n")
        print("| metric | mean | min | max | per seed |")
        print("| --- | ---: | ---: | ---: | --- |")
        names = [k for k in runs[0]["metrics"] if k != "embedding_dim"]
        for name in names:
            vals = [r["metrics"].get(name) for r in runs]
            got = [v for v in vals if v is not None]
            per = " / ".join("-" if v is None else f"{v:.4f}" for v in vals)
            print(f"| {name} | {sum(got) / len(got):.4f} | {min(got):.4f} | "
                  f"{max(got):.4f} | {per} |")
        print("\nseconds per run (train + eval): " + ", ".join(
            f"{r['train_seconds']:.0f} + {r['eval_seconds']:.0f}" for r in runs))


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
    out = Path(args.out) if args.out else (
        RESULTS / f"metric_{args.experiment}_torch_seed{args.seed}.json")
    log(f"== metric_{args.experiment} / torch / seed {args.seed} / {args.threads} threads")
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    if args.experiment.startswith("multitask"):
        body = run_multitask(args.experiment, args.seed)
    else:
        body = run_seen(args.experiment, args.seed)
    wall = time.perf_counter() - t0
    result = {
        "work": f"metric_{args.experiment}",
        "framework": "torch",
        "seed": args.seed,
        "metrics": body.pop("metrics"),
        "train_seconds": body.pop("train_seconds"),
        "eval_seconds": body.pop("eval_seconds"),
        "wall_seconds": wall,
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "threads": args.threads,
        "settings": {"torch_num_threads": torch.get_num_threads(),
                     "torch_num_interop_threads": torch.get_num_interop_threads(),
                     "init": "keras (glorot_uniform, zero bias)", "adam_eps": ADAM_EPS,
                     "dtype": "float32 (evaluation distances float64)",
                     "memory_format": "channels_last",
                     "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")},
        "config": CONFIG[args.experiment],
    }
    if not args.experiment.startswith("multitask"):
        result["fewshot"] = FEWSHOT
    result.update(body)
    common.write_result(result, out, load_start, __file__, argv)
    log(f"wrote {out}: {json.dumps(result['metrics'])} train={result['train_seconds']:.1f}s "
        f"eval={result['eval_seconds']:.1f}s")


if __name__ == "__main__":
    main()
