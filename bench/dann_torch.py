#!/usr/bin/env python3
"""PyTorch reference for manabi's domain-adaptation experiments (DANN, Ganin &
Lempitsky 2015) and their source-only baselines:
recipes/domain/{mnist_usps,usps_mnist}_{source_only,dann}.toml.

    bench/.venv/bin/python bench/dann_torch.py --direction usps_mnist --method both --seed 1
    bench/.venv/bin/python bench/dann_torch.py --direction mnist_usps --method both --seed 1
    bench/.venv/bin/python bench/dann_torch.py --summary

    # manabi's final recipes (SGD 0.01 momentum 0.9, domain head on the 128-d
    # dense features, source-only = the DANN loop with weight 0):
    bench/.venv/bin/python bench/dann_torch.py --direction usps_mnist --method both --seed 1 \
        --optimizer sgd --features dense

Each run writes bench/results/dann_<direction>_<setting>torch_seed<s>.json (a
run of one method merges into an existing file of that seed); ``--summary``
prints mean and min-max over the seeds found there, per setting, direction and
method. <setting> is empty for the first setting (``--optimizer adam
--features flatten --source-only-mode plain``, the defaults, so those files are
dann_<direction>_torch_seed<s>.json) and "<optimizer>_<features>_" otherwise,
e.g. dann_usps_mnist_sgd_dense_torch_seed1.json; a --source-only-mode other
than the setting's default adds "so_<mode>_".

Settings (the rest of this docstring describes the first one; the options
change only what they name):
  --optimizer adam     one Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-7 (default)
  --optimizer sgd      one torch.optim.SGD, lr 0.01 constant, momentum 0.9,
                       dampening 0, no Nesterov, no weight decay (manabi's
                       recipes; Keras' v = m v - lr g, w += v is the same rule
                       at a constant lr)
  --features flatten   feature extractor = conv .. flatten (800-d), the domain
                       head Linear(800->100) ReLU Linear(100->2); the class
                       head Linear(800->128) ReLU Linear(128->10) (default)
  --features dense     feature extractor = conv .. flatten, Linear(800->128),
                       ReLU (manabi's ``trunk = 6``); the domain head
                       Linear(128->100) ReLU Linear(100->2) reads the 128-d ReLU
                       output through the GRL; the class head is Linear(128->10)
  --source-only-mode plain    source_only trains the CNN alone on the source
                              batches (no target images, no domain head);
                              default with --features flatten
  --source-only-mode weight0  source_only is the dann loop with weight 0
                              (manabi's ``weight = 0.0`` recipes): the same
                              network with its domain head (same initial
                              weights as dann), the same source and target
                              batches, loss = class CE + domain CE, but the GRL
                              multiplies by lambda = 0 * schedule = 0, so the
                              domain head trains on the features while no
                              gradient of it reaches them; default with
                              --features dense

Directions: ``mnist_usps`` (source MNIST, target USPS) and ``usps_mnist``
(source USPS, target MNIST). Inputs are u8 pixels / 255; USPS 16x16 is resized
to 28x28 with F.interpolate(mode="bilinear", align_corners=False,
antialias=False) (transfer_torch.usps_resize); MNIST stays 28x28.

Splits:
  source train / val  the source training file in file order; the LAST rows are
                      held out as in Keras' validation_split=0.1 and manabi's
                      ``validation_split``: split = int(n * 0.9) (floor), i.e.
                      n_val = n - floor(0.9 n): MNIST 54,000 / 6,000, USPS
                      6,561 / 730 (not round(0.1 n) = 729). The validation rows
                      are only logged each epoch, never used to pick a model.
  target train        all target training images (MNIST 60,000 / USPS 7,291);
                      their labels are never read.
  target test         the full target test set (MNIST 10,000 / USPS 2,007): the
                      reported ``test_accuracy``. The source test set (MNIST
                      10,000 / USPS 2,007) gives ``source_test_accuracy``.

Network (the seed CNN, transfer_torch.build_cnn, NCHW stored channels_last):
  feature extractor  Conv2d(1->16, 3x3 valid) ReLU, MaxPool 2 (28->26->13),
                     Conv2d(16->32, 3x3) ReLU, MaxPool 2 (13->11->5), Flatten (800)
  class head         Linear(800->128) ReLU, Linear(128->10)
  domain head        GRL, Linear(800->100) ReLU, Linear(100->2)   (dann only)
GRL: a torch.autograd.Function, identity forward, -lambda * grad backward.
Glorot-uniform weights, zero biases (Keras' / manabi's defaults). Softmax is
folded into F.cross_entropy on the logits (mean over the batch).

Training (both methods): 20 epochs, one pass over the shuffled source per
epoch in batches of 64 (the last batch is short: MNIST 54,000 = 843 x 64 + 48,
USPS 6,561 = 102 x 64 + 33), so T = 20 * ceil(n_src / 64) steps. One Adam
over all parameters, lr 1e-3 constant, betas (0.9, 0.999), eps 1e-7. The
model after the last step is evaluated (no model selection).
  source_only  loss = CE(class logits, labels) on the source batch.
  dann         with a source batch of size b, b target images are drawn from an
               endless stream over the target training set (a fresh
               permutation each time the stream runs out, continuing across
               epochs); the 2b images [source; target] go through the feature
               extractor in one forward;
               loss = CE(class logits of the source half, labels)
                    + CE(domain logits of all 2b, [0]*b + [1]*b),
               the domain logits read the features through the GRL with
               lambda = 2 / (1 + exp(-10 p)) - 1, p = step / T, step the 0-based
               global step before it is taken (lambda = 0 at the first step).
manabi's loop (src/train/dann_fit.rs) starts a fresh target stream every
epoch instead; both draw uniformly shuffled target images, the random streams
differ anyway.

Seeding: random.seed(s), np.random.seed(s), torch.manual_seed(s) at start;
torch.manual_seed(s) again right before each method's network is built
(build_cnn), and the domain head is drawn right after it, so both methods start
from the same CNN weights. Source batch order: np.random.default_rng(s), one
permutation per epoch (the same order for both methods); target stream:
np.random.default_rng([s, 1]).

Per-epoch log (as manabi's DANN log): loss (class CE, mean over the epoch's
source images), accuracy (source batch accuracy), domain_loss, domain_accuracy
(over the 2b domain predictions), lambda (of the epoch's last step),
val_loss / val_accuracy (source validation rows), seconds (training + the
validation pass). ``--track-target`` also logs the target test accuracy each
epoch (a monitor only, never used to pick a model; its time is left out of
``seconds`` and ``train_seconds``).

JSON: test_accuracy (method -> target test accuracy), source_test_accuracy
(method -> accuracy), methods (per method: test and source test accuracy and
loss, final source val accuracy, train seconds, total steps, per_epoch),
rows, wall_seconds, versions, threads, settings, config, machine, command.
"""

from __future__ import annotations

import argparse
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
DIRECTIONS = ("mnist_usps", "usps_mnist")
METHODS = ("source_only", "dann")
CONFIG = dict(validation_split=0.1, epochs=20, batch_size=64, lr=1e-3,
              betas=(0.9, 0.999), gamma=10.0, domain_hidden=100, classes=10)
ADAM_EPS = 1e-7
SGD = dict(lr=0.01, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0)
# build_cnn's layers 0..6: conv, relu, pool, conv, relu, pool, flatten (800-d);
# 0..8 adds Linear(800->128), ReLU (128-d).
TRUNK = {"flatten": 7, "dense": 9}
FEATURE_DIM = {"flatten": 32 * 5 * 5, "dense": 128}
SETTING_RE = r"dann_(mnist_usps|usps_mnist)_(.*)torch_seed(\d+)\.json$"


def default_source_only_mode(features: str) -> str:
    return "weight0" if features == "dense" else "plain"


def setting_tag(optimizer: str, features: str, source_only_mode: str) -> str:
    """File-name infix: '' for the first setting (adam, flatten, plain)."""
    if (optimizer, features, source_only_mode) == ("adam", "flatten", "plain"):
        return ""
    tag = f"{optimizer}_{features}_"
    if source_only_mode != default_source_only_mode(features):
        tag += f"so_{source_only_mode}_"
    return tag


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--direction", choices=DIRECTIONS)
    p.add_argument("--method", choices=METHODS + ("both",), default="both")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=None, help="smoke tests only (default 20)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                   help="adam: lr 1e-3, eps 1e-7 (default); sgd: lr 0.01, momentum 0.9")
    p.add_argument("--features", choices=("flatten", "dense"), default="flatten",
                   help="where the domain head reads the features: the 800-d flatten "
                        "(default) or the 128-d ReLU output of the first dense layer")
    p.add_argument("--source-only-mode", choices=("plain", "weight0"), default=None,
                   help="plain: the CNN alone; weight0: the dann loop with lambda = 0 "
                        "(default: weight0 with --features dense, plain otherwise)")
    p.add_argument("--track-target", action="store_true",
                   help="also log the target test accuracy every epoch (monitor only)")
    p.add_argument("--out", type=str, default=None,
                   help="JSON output (default bench/results/"
                        "dann_<direction>_<setting>torch_seed<N>.json)")
    p.add_argument("--summary", action="store_true",
                   help="print mean and min-max over bench/results/dann_*_torch_seed*.json")
    args = p.parse_args(argv)
    if not args.summary and args.direction is None:
        p.error("--direction is required (or --summary)")
    if args.source_only_mode is None:
        args.source_only_mode = default_source_only_mode(args.features)
    return args


# ==========================================================================
# data
# ==========================================================================


def domain_tensors(name: str, x_u8):
    """u8 images of ``name`` -> float32 NCHW (N, 1, 28, 28) channels_last in [0, 1]."""
    from transfer_torch import nhwc, to_nchw, usps_resize

    return usps_resize(x_u8) if name == "usps" else to_nchw(nhwc(x_u8))


def load_direction(direction: str):
    import numpy as np
    import torch
    import common

    src, tgt = direction.split("_")
    sx, sy, sxte, syte = common.load_idx_set(src)
    tx, _ty, txte, tyte = common.load_idx_set(tgt)  # target training labels unused
    (sx_tr, sy_tr), (sx_val, sy_val) = common.keras_validation_split(
        sx, sy, CONFIG["validation_split"])

    def labels(y):
        return torch.from_numpy(y.astype(np.int64))

    data = dict(
        source=(domain_tensors(src, sx_tr), labels(sy_tr)),
        val=(domain_tensors(src, sx_val), labels(sy_val)),
        source_test=(domain_tensors(src, sxte), labels(syte)),
        target=domain_tensors(tgt, tx),
        target_test=(domain_tensors(tgt, txte), labels(tyte)),
    )
    rows = {"source_train": len(sx_tr), "source_val": len(sx_val),
            "source_test": len(sxte), "target_train": len(tx), "target_test": len(txte)}
    return data, rows, (src, tgt)


# ==========================================================================
# model
# ==========================================================================


def make_grl():
    import torch

    class GradReverse(torch.autograd.Function):
        """Identity forward; the gradient times -lambda backward."""

        @staticmethod
        def forward(ctx, x, lam):
            ctx.lam = lam
            return x.view_as(x)

        @staticmethod
        def backward(ctx, grad):
            return grad.neg() * ctx.lam, None

    return GradReverse.apply


def build(seed: int, with_domain: bool, features: str = "flatten"):
    """(cnn, domain head or None); the CNN drawn after torch.manual_seed(seed),
    the domain head (reading FEATURE_DIM[features] inputs) right after it from
    the same stream."""
    import torch.nn as nn
    from reference import torch_keras_init
    from transfer_torch import build_cnn

    cnn = build_cnn(CONFIG["classes"], seed)
    if not with_domain:
        return cnn, None
    head = nn.Sequential(nn.Linear(FEATURE_DIM[features], CONFIG["domain_hidden"]), nn.ReLU(),
                         nn.Linear(CONFIG["domain_hidden"], 2))
    torch_keras_init(head)
    return cnn, head


def dann_lambda(p: float, gamma: float) -> float:
    return 2.0 / (1.0 + math.exp(-gamma * min(max(p, 0.0), 1.0))) - 1.0


class TargetStream:
    """Endless shuffled indices over n rows; reshuffled each time it runs out."""

    def __init__(self, n: int, rng):
        self.n, self.rng = n, rng
        self.order, self.pos = rng.permutation(n), 0
        self.passes = 1

    def take(self, k: int):
        import numpy as np

        out = []
        while k > 0:
            if self.pos == self.n:
                self.order, self.pos = self.rng.permutation(self.n), 0
                self.passes += 1
            end = min(self.pos + k, self.n)
            out.append(self.order[self.pos:end])
            k -= end - self.pos
            self.pos = end
        return np.concatenate(out)


# ==========================================================================
# training
# ==========================================================================


def evaluate(model, xy):
    from reference import torch_evaluate

    return torch_evaluate(model, xy[0], xy[1], regression=False)


def make_optimizer(name: str, params):
    import torch

    if name == "sgd":
        return torch.optim.SGD(params, **SGD)
    return torch.optim.Adam(params, lr=CONFIG["lr"], betas=CONFIG["betas"], eps=ADAM_EPS)


def fit(method: str, data: dict, seed: int, epochs: int, track_target: bool,
        optimizer: str = "adam", features: str = "flatten", source_only_mode: str = "plain"):
    import numpy as np
    import torch
    import torch.nn.functional as F

    # weight: the factor on DANN's lambda schedule (manabi's method.weight);
    # source_only in weight0 mode runs the dann loop with weight 0.
    adversarial = method == "dann" or source_only_mode == "weight0"
    weight = 1.0 if method == "dann" else 0.0
    cnn, head = build(seed, adversarial, features)
    trunk, classifier = cnn[:TRUNK[features]], cnn[TRUNK[features]:]
    params = list(cnn.parameters()) + ([] if head is None else list(head.parameters()))
    opt = make_optimizer(optimizer, params)
    grl = make_grl()

    xs, ys = data["source"]
    xt = data["target"]
    n, bs = len(xs), CONFIG["batch_size"]
    steps = math.ceil(n / bs)
    total = epochs * steps
    rng = np.random.default_rng(seed)
    stream = TargetStream(len(xt), np.random.default_rng([seed, 1]))
    per_epoch, step, monitor_secs = [], 0, 0.0
    cnn.train()
    t_start = time.perf_counter()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        perm = torch.from_numpy(rng.permutation(n))
        s_loss = s_dloss = 0.0
        s_right = s_dright = 0
        lam = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            b = len(idx)
            xb, yb = xs[idx], ys[idx]
            opt.zero_grad(set_to_none=True)
            if head is None:
                logits = cnn(xb)
                loss = F.cross_entropy(logits, yb)
                loss.backward()
            else:
                lam = weight * dann_lambda(step / total, CONFIG["gamma"])
                tidx = torch.from_numpy(stream.take(b))
                feats = trunk(torch.cat([xb, xt[tidx]]))
                logits = classifier(feats[:b])
                dlogits = head(grl(feats, lam))
                dlabels = torch.cat([torch.zeros(b, dtype=torch.int64),
                                     torch.ones(b, dtype=torch.int64)])
                loss = F.cross_entropy(logits, yb)
                dloss = F.cross_entropy(dlogits, dlabels)
                (loss + dloss).backward()
                s_dloss += dloss.item() * b
                s_dright += (dlogits.detach().argmax(1) == dlabels).sum().item()
            opt.step()
            step += 1
            s_loss += loss.item() * b
            s_right += (logits.detach().argmax(1) == yb).sum().item()
        rec = {"epoch": epoch + 1, "loss": s_loss / n, "accuracy": s_right / n}
        if head is not None:
            rec.update(domain_loss=s_dloss / n, domain_accuracy=s_dright / (2 * n),
                       **{"lambda": lam})
        rec["val_loss"], rec["val_accuracy"] = evaluate(cnn, data["val"])
        rec["seconds"] = time.perf_counter() - t0
        if track_target:
            t1 = time.perf_counter()
            rec["target_test_accuracy"] = evaluate(cnn, data["target_test"])[1]
            monitor_secs += time.perf_counter() - t1
        per_epoch.append(rec)
        log(f"[{method}] epoch {epoch + 1}/{epochs} " + " ".join(
            f"{k}={v:.4f}" for k, v in rec.items() if k != "epoch"))
    train_secs = time.perf_counter() - t_start - monitor_secs
    tl, ta = evaluate(cnn, data["target_test"])
    sl, sa = evaluate(cnn, data["source_test"])
    rec = {"test_accuracy": ta, "test_loss": tl,
           "source_test_accuracy": sa, "source_test_loss": sl,
           "final_source_val_accuracy": per_epoch[-1]["val_accuracy"],
           "final_train_loss": per_epoch[-1]["loss"],
           "final_train_accuracy": per_epoch[-1]["accuracy"],
           "train_seconds": train_secs, "epochs": epochs, "steps_per_epoch": steps,
           "total_steps": total,
           "parameters": sum(p.numel() for p in params),
           "per_epoch": per_epoch}
    if head is not None:
        rec["target_passes"] = stream.passes
        rec["final_lambda"] = per_epoch[-1]["lambda"]
        rec["weight"] = weight
    rec["loop"] = "dann" if head is not None else "plain"
    log(f"[{method}] test_accuracy={ta:.4f} source_test_accuracy={sa:.4f} "
        f"train_seconds={train_secs:.1f}")
    return rec


# ==========================================================================
# summary
# ==========================================================================


def summary():
    import re

    found = {}  # setting tag -> direction -> files
    for f in sorted(RESULTS.glob("dann_*torch_seed*.json")):
        m = re.match(SETTING_RE, f.name)
        if m:
            found.setdefault(m.group(2), {}).setdefault(m.group(1), []).append(f)
    if not found:
        print("no results")
    for tag in sorted(found, key=lambda t: (t != "", t)):
        first = json.loads(next(iter(found[tag].values()))[0].read_text())
        st = first.get("settings", {})
        print(f"\n## setting '{tag.rstrip('_') or 'first'}': optimizer "
              f"{st.get('optimizer', 'adam')}, domain head on "
              f"{st.get('features', 'flatten')} features, source_only "
              f"{st.get('source_only_mode', 'plain')}")
        for direction in DIRECTIONS:
            files = sorted(found[tag].get(direction, []),
                           key=lambda f: int(re.match(SETTING_RE, f.name).group(3)))
            if files:
                summary_direction(direction, tag, files)
            else:
                print(f"\n{direction}: no results")


def summary_direction(direction: str, tag: str, files):
    runs = [json.loads(f.read_text()) for f in files]
    seeds = ", ".join(str(r["seed"]) for r in runs)
    src, tgt = direction.split("_")
    where = f"setting {tag.rstrip('_')}, " if tag else ""
    print(f"\n### dann_{direction} ({src} -> {tgt}), {where}PyTorch "
          f"{runs[0]['versions']['torch']}, seeds {seeds}\n")
    print("| method | accuracy on | mean | min | max | per seed |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for m in METHODS:
        for key, what in (("test_accuracy", f"{tgt} test (target)"),
                          ("source_test_accuracy", f"{src} test (source)")):
            vals = [r.get(key, {}).get(m) for r in runs]
            got = [v for v in vals if v is not None]
            if not got:
                print(f"| {m} | {what} | n/a | | | |")
                continue
            per = " / ".join("-" if v is None else f"{v:.4f}" for v in vals)
            print(f"| {m} | {what} | {sum(got) / len(got):.4f} | {min(got):.4f} | "
                  f"{max(got):.4f} | {per} |")
    for m in METHODS:
        secs = [r["methods"][m]["train_seconds"] for r in runs if m in r.get("methods", {})]
        if secs:
            print(f"\n{m} train seconds per run: {', '.join(f'{s:.0f}' for s in secs)}",
                  end="")
    print()


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
    tag = setting_tag(args.optimizer, args.features, args.source_only_mode)
    out = Path(args.out) if args.out else (
        RESULTS / f"dann_{args.direction}_{tag}torch_seed{args.seed}.json")
    methods = METHODS if args.method == "both" else (args.method,)
    epochs = args.epochs or CONFIG["epochs"]
    log(f"== dann_{args.direction} / torch / seed {args.seed} / {args.threads} threads / "
        f"{', '.join(methods)} / optimizer {args.optimizer} / features {args.features} / "
        f"source_only {args.source_only_mode}")
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    data, rows, (src, tgt) = load_direction(args.direction)
    log(f"rows: {json.dumps(rows)}")
    done = {m: fit(m, data, args.seed, epochs, args.track_target, args.optimizer,
                   args.features, args.source_only_mode) for m in methods}
    wall = time.perf_counter() - t0

    previous = {}
    if args.method != "both" and out.exists():
        old = json.loads(out.read_text())
        old_st = old.get("settings", {})
        if (old.get("seed") == args.seed and old.get("direction") == args.direction
                and old_st.get("optimizer", "adam") == args.optimizer
                and old_st.get("features", "flatten") == args.features
                and old_st.get("source_only_mode", "plain") == args.source_only_mode):
            previous = old.get("methods", {})
    merged = {**previous, **done}
    merged = {m: merged[m] for m in METHODS if m in merged}
    result = {
        "work": f"dann_{args.direction}",
        "framework": "torch",
        "direction": args.direction,
        "source": src,
        "target": tgt,
        "seed": args.seed,
        "test_accuracy": {m: r["test_accuracy"] for m, r in merged.items()},
        "source_test_accuracy": {m: r["source_test_accuracy"] for m, r in merged.items()},
        "wall_seconds": wall,
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "threads": args.threads,
        "settings": {"torch_num_threads": torch.get_num_threads(),
                     "torch_num_interop_threads": torch.get_num_interop_threads(),
                     "init": "keras (glorot_uniform, zero bias)",
                     "optimizer": args.optimizer,
                     "optimizer_params": (SGD if args.optimizer == "sgd" else
                                          {"lr": CONFIG["lr"], "betas": CONFIG["betas"],
                                           "eps": ADAM_EPS}),
                     "features": args.features,
                     "feature_dim": FEATURE_DIM[args.features],
                     "trunk_modules": TRUNK[args.features],
                     "source_only_mode": args.source_only_mode,
                     "adam_eps": ADAM_EPS,
                     "dtype": "float32", "memory_format": "channels_last",
                     "validation_split": "last n - int(0.9 n) source rows (Keras / manabi)",
                     "target_stream": "endless, reshuffled each pass, across epochs",
                     "usps_resize": "u8/255 then F.interpolate(size=(28,28), mode='bilinear', "
                                    "align_corners=False, antialias=False)",
                     "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")},
        "config": {**CONFIG, "epochs": epochs,
                   **({"lr": SGD["lr"], "momentum": SGD["momentum"], "betas": None}
                      if args.optimizer == "sgd" else {})},
        "rows": rows,
        "methods": merged,
    }
    if previous:
        result["note"] = (f"methods {sorted(set(previous) - set(done))} merged from an "
                          f"earlier run; wall_seconds is this run's only")
    common.write_result(result, out, load_start, __file__, argv)
    log(f"wrote {out}: target {json.dumps(result['test_accuracy'])} "
        f"source {json.dumps(result['source_test_accuracy'])} wall={wall:.1f}s")


if __name__ == "__main__":
    main()
