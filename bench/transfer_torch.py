#!/usr/bin/env python3
"""PyTorch reference for manabi's two transfer-learning experiments.

    bench/.venv/bin/python bench/transfer_torch.py --experiment fmnist --seed 1
    bench/.venv/bin/python bench/transfer_torch.py --experiment usps --seed 1
    bench/.venv/bin/python bench/transfer_torch.py --summary

Each run writes bench/results/transfer_{fmnist,usps}_torch_seed<s>.json;
``--summary`` prints mean and min-max over the seeds found there.

Model ("seed CNN", Keras-like, NCHW tensors stored channels_last):
    Conv2d(1->16, 3x3, valid) ReLU, MaxPool 2x2        # 28 -> 26 -> 13
    Conv2d(16->32, 3x3, valid) ReLU, MaxPool 2x2       # 13 -> 11 -> 5
    Flatten (800), Linear(800->128) ReLU, Linear(128->K)
softmax cross-entropy on the logits (mean over the batch). Glorot-uniform
weights and zero biases (Keras' defaults). Inputs are u8 pixels / 255.
Adam with betas (0.9, 0.999) and eps 1e-7 (Keras' default eps). Training
shuffles every epoch with numpy's default_rng(seed) (as reference.py's
torch_fit); the last batch may be short.

Seeding: random.seed(s), np.random.seed(s) and torch.manual_seed(s) at start;
torch.manual_seed(s) again right before each model / new head is built, so
every method's fresh weights are drawn from the same stream regardless of
method order. The labelled subset is drawn with np.random.default_rng(s):
for each class in ascending order, ``rng.choice(idx_c, 10, replace=False)``
where idx_c are that class' training rows in file order; the chosen rows are
listed in the JSON (``train_indices``, rows of the original training file).

Experiment ``fmnist`` (within Fashion-MNIST):
  Pre-train: all 30,000 training images of classes 0-4, K=5, Adam lr 1e-3,
  batch 200, 5 epochs. Sanity: accuracy on the 5,000 test images of 0-4.
  Target: classes 5-9 relabelled 0-4 (label - 5); 10 training images per
  class (50); test: all 5,000 test images of classes 5-9. Each trained
  method: 100 epochs, batch 50 (one full-batch step per epoch), Adam:
    scratch   fresh CNN (K=5), lr 1e-3
    frozen    conv1, conv2, dense-128 copied from the pre-trained model, new
              Linear(128->5) head (Glorot/zero); only the head trains, lr 1e-3
    finetune  same copy + new head; all train, two Adam param groups:
              backbone lr 1e-4, head lr 1e-3
    svm       sklearn LinearSVC(C=1.0, random_state=s, otherwise default:
              squared hinge, L2, one-vs-rest, max_iter 1000) on the 128-d
              ReLU output of the pre-trained dense-128 layer (unscaled)
    knn       1-nearest neighbour (Euclidean, first index wins ties) on the
              same 128-d features
Experiment ``usps`` (MNIST -> USPS):
  Pre-train: the same CNN (K=10) on all 60,000 MNIST training images, Adam lr
  1e-3, batch 200, 3 epochs. Sanity: accuracy on the 10,000 MNIST test images.
  USPS: u8 16x16 / 255, then F.interpolate(size=(28, 28), mode="bilinear",
  align_corners=False, antialias=False). Labelled: 10 USPS training images
  per class (100); test: the full USPS test set (2,007). Methods (batch 100,
  100 epochs, Adam):
    source_only   the MNIST model on USPS test, no training
    scratch       fresh CNN (K=10), lr 1e-3
    head_only     all layers copied; only Linear(128->10) trains, lr 1e-3
    input_layers  all layers copied; only conv1 and conv2 train, lr 1e-3
    finetune      all layers copied, all train: lr 1e-4 for conv1, conv2 and
                  dense-128, lr 1e-3 for the last layer
Frozen parameters get requires_grad=False and are not given to the optimizer.

JSON: test_accuracy (method -> accuracy), pretrain (test accuracy, seconds,
per-epoch log), methods (per method: test accuracy / loss, final train loss /
accuracy, train seconds, learning rates), train_indices, wall_seconds,
versions (torch ...), threads, settings, machine, command.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reference import log, set_thread_env  # noqa: E402  (stdlib-only at import)

RESULTS = HERE / "results"
EXPERIMENTS = ("fmnist", "usps")
METHODS = {
    "fmnist": ("scratch", "frozen", "finetune", "svm", "knn"),
    "usps": ("source_only", "scratch", "head_only", "input_layers", "finetune"),
}
CONFIG = {
    "fmnist": dict(source_classes=[0, 1, 2, 3, 4], target_classes=[5, 6, 7, 8, 9],
                   pretrain=dict(epochs=5, batch_size=200, lr=1e-3),
                   per_class=10, epochs=100, batch_size=50,
                   lr=1e-3, backbone_lr=1e-4),
    "usps": dict(pretrain=dict(epochs=3, batch_size=200, lr=1e-3),
                 per_class=10, epochs=100, batch_size=100,
                 lr=1e-3, backbone_lr=1e-4),
}
ADAM_EPS = 1e-7
# indices of the parameterised layers in the nn.Sequential built by build_cnn
CONV1, CONV2, DENSE, HEAD = 0, 3, 7, 9


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--experiment", choices=EXPERIMENTS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=str, default=None,
                   help="JSON output (default bench/results/transfer_<exp>_torch_seed<N>.json)")
    p.add_argument("--summary", action="store_true",
                   help="print mean and min-max over bench/results/transfer_*_torch_seed*.json")
    args = p.parse_args(argv)
    if not args.summary and args.experiment is None:
        p.error("--experiment is required (or --summary)")
    return args


# ==========================================================================
# data
# ==========================================================================


def nhwc(x_u8):
    import numpy as np

    return (x_u8.astype(np.float32) / 255.0)[..., None]


def pick_per_class(y, classes, per_class, seed):
    """Rows of ``y`` (file order), ``per_class`` of each class, drawn with
    np.random.default_rng(seed), classes in ascending order."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for c in sorted(classes):
        idx = np.flatnonzero(y == c)
        rows.append(np.sort(rng.choice(idx, per_class, replace=False)))
    return np.concatenate(rows)


def to_nchw(x_nhwc):
    import torch

    return torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous(
        memory_format=torch.channels_last)


def usps_resize(x_u8):
    """u8 (N, 16, 16) -> float32 NCHW (N, 1, 28, 28) channels_last in [0, 1]."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(x_u8.astype("float32") / 255.0)[:, None]
    x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False,
                      antialias=False)
    return x.contiguous(memory_format=torch.channels_last)


# ==========================================================================
# model and training
# ==========================================================================


def build_cnn(k: int, seed: int):
    import torch
    import torch.nn as nn
    from reference import torch_keras_init

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),    # 26 -> 13
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),   # 11 -> 5
        nn.Flatten(), nn.Linear(32 * 5 * 5, 128), nn.ReLU(),
        nn.Linear(128, k),  # softmax folded into the cross-entropy
    )
    torch_keras_init(model)
    return model.to(memory_format=torch.channels_last)


def transfer_model(pretrained, k: int, seed: int, new_head: bool):
    """A copy of ``pretrained``; with ``new_head`` the last layer is replaced by
    a fresh Glorot/zero Linear(128->k) drawn after torch.manual_seed(seed)."""
    import copy

    import torch
    import torch.nn as nn

    model = copy.deepcopy(pretrained)
    if new_head:
        torch.manual_seed(seed)
        head = nn.Linear(128, k)
        nn.init.xavier_uniform_(head.weight)
        nn.init.zeros_(head.bias)
        model[HEAD] = head
    return model


def param_groups(model, lrs: dict):
    """lrs: layer index -> lr (None: frozen). Returns Adam param groups."""
    groups = {}
    for i, layer in enumerate(model):
        params = list(layer.parameters())
        if not params:
            continue
        lr = lrs.get(i)
        for p in params:
            p.requires_grad_(lr is not None)
        if lr is not None:
            groups.setdefault(lr, []).extend(params)
    return [{"params": ps, "lr": lr} for lr, ps in groups.items()]


def adam(groups):
    import torch

    return torch.optim.Adam(groups, betas=(0.9, 0.999), eps=ADAM_EPS)


def train(model, groups, x, y, epochs, batch_size, seed, tag):
    from reference import torch_fit

    opt = adam(groups)
    per_epoch, secs = torch_fit(model, opt, x, y, epochs, batch_size, seed, tag=tag)
    return per_epoch, secs


def evaluate(model, x, y):
    from reference import torch_evaluate

    return torch_evaluate(model, x, y, regression=False)


def features(model, x):
    """128-d ReLU output of the dense-128 layer (everything but the head)."""
    import torch

    model.eval()
    with torch.no_grad():
        out = torch.cat([model[:HEAD](x[i:i + 1000]) for i in range(0, len(x), 1000)])
    model.train()
    return out


def knn1(ftr, ytr, fte, yte) -> float:
    import torch

    d = torch.cdist(fte.double(), ftr.double())  # (n_test, n_train)
    pred = ytr[d.argmin(1)]
    return (pred == yte).double().mean().item()


def linear_svm(ftr, ytr, fte, yte, seed):
    try:
        from sklearn import __version__ as skv
        from sklearn.svm import LinearSVC
    except ImportError as e:
        return None, f"sklearn not importable ({e})"
    clf = LinearSVC(C=1.0, random_state=seed)
    clf.fit(ftr.numpy(), ytr.numpy())
    acc = float((clf.predict(fte.numpy()) == yte.numpy()).mean())
    return acc, f"sklearn {skv} LinearSVC(C=1.0, random_state={seed}); n_iter={int(clf.n_iter_)}"


def method_record(model, per_epoch, secs, xte, yte, lrs):
    tl, ta = evaluate(model, xte, yte)
    return {"test_accuracy": ta, "test_loss": tl,
            "final_train_loss": per_epoch[-1]["loss"],
            "final_train_accuracy": per_epoch[-1]["accuracy"],
            "train_seconds": secs, "lr": lrs,
            "trainable_parameters": sum(p.numel() for p in model.parameters()
                                        if p.requires_grad)}


def lr_desc(model, lrs):
    names = {CONV1: "conv1", CONV2: "conv2", DENSE: "dense128", HEAD: "head"}
    return {names[i]: lrs.get(i) for i in names}


# ==========================================================================
# experiments
# ==========================================================================


def pretrain(k, x, y, xte, yte, cfg, seed, tag):
    model = build_cnn(k, seed)
    lrs = {i: cfg["lr"] for i in (CONV1, CONV2, DENSE, HEAD)}
    per_epoch, secs = train(model, param_groups(model, lrs), x, y, cfg["epochs"],
                            cfg["batch_size"], seed, tag)
    tl, ta = evaluate(model, xte, yte)
    log(f"{tag}test_accuracy={ta:.4f} train_seconds={secs:.1f}")
    for p in model.parameters():
        p.requires_grad_(True)
    return model, {"test_accuracy": ta, "test_loss": tl, "train_seconds": secs,
                   "train_rows": len(x), "test_rows": len(xte), **cfg,
                   "per_epoch": per_epoch}


def fit_method(name, model, lrs, x, y, xte, yte, cfg, seed, methods, acc):
    per_epoch, secs = train(model, param_groups(model, lrs), x, y, cfg["epochs"],
                            cfg["batch_size"], seed, f"[{name}] ")
    methods[name] = method_record(model, per_epoch, secs, xte, yte, lr_desc(model, lrs))
    acc[name] = methods[name]["test_accuracy"]
    log(f"[{name}] test_accuracy={acc[name]:.4f} train_seconds={secs:.1f}")


def run_fmnist(seed):
    import numpy as np
    import torch
    import common

    cfg = CONFIG["fmnist"]
    xtr, ytr, xte, yte = common.load_fashion_mnist()
    ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
    src_tr = np.isin(ytr, cfg["source_classes"])
    src_te = np.isin(yte, cfg["source_classes"])
    tgt_te = np.isin(yte, cfg["target_classes"])
    rows = pick_per_class(ytr, cfg["target_classes"], cfg["per_class"], seed)

    xs, ys = to_nchw(nhwc(xtr[src_tr])), torch.from_numpy(ytr[src_tr])
    xs_te, ys_te = to_nchw(nhwc(xte[src_te])), torch.from_numpy(yte[src_te])
    xt, yt = to_nchw(nhwc(xtr[rows])), torch.from_numpy(ytr[rows] - 5)
    xt_te, yt_te = to_nchw(nhwc(xte[tgt_te])), torch.from_numpy(yte[tgt_te] - 5)

    base, pre = pretrain(5, xs, ys, xs_te, ys_te, cfg["pretrain"], seed, "[pretrain] ")
    methods, acc = {}, {}
    lr, blr = cfg["lr"], cfg["backbone_lr"]

    fit_method("scratch", build_cnn(5, seed), {i: lr for i in (CONV1, CONV2, DENSE, HEAD)},
               xt, yt, xt_te, yt_te, cfg, seed, methods, acc)
    fit_method("frozen", transfer_model(base, 5, seed, True), {HEAD: lr},
               xt, yt, xt_te, yt_te, cfg, seed, methods, acc)
    fit_method("finetune", transfer_model(base, 5, seed, True),
               {CONV1: blr, CONV2: blr, DENSE: blr, HEAD: lr},
               xt, yt, xt_te, yt_te, cfg, seed, methods, acc)

    ftr, fte = features(base, xt), features(base, xt_te)
    t0 = time.perf_counter()
    svm_acc, svm_note = linear_svm(ftr, yt, fte, yt_te, seed)
    methods["svm"] = {"test_accuracy": svm_acc, "note": svm_note,
                      "train_seconds": time.perf_counter() - t0}
    acc["svm"] = svm_acc
    log(f"[svm] test_accuracy={svm_acc} ({svm_note})")
    t0 = time.perf_counter()
    acc["knn"] = knn1(ftr, yt, fte, yt_te)
    methods["knn"] = {"test_accuracy": acc["knn"], "note": "1-NN, Euclidean, 128-d features",
                      "train_seconds": time.perf_counter() - t0}
    log(f"[knn] test_accuracy={acc['knn']:.4f}")
    return {"test_accuracy": acc, "pretrain": pre, "methods": methods,
            "train_indices": rows.tolist(),
            "rows": {"pretrain_train": len(xs), "pretrain_test": len(xs_te),
                     "target_train": len(xt), "target_test": len(xt_te)}}


def run_usps(seed):
    import numpy as np
    import torch
    import common

    cfg = CONFIG["usps"]
    mx, my, mxte, myte = common.load_mnist()
    ux, uy, uxte, uyte = common.load_idx_set("usps")
    rows = pick_per_class(uy, range(10), cfg["per_class"], seed)

    xs, ys = to_nchw(nhwc(mx)), torch.from_numpy(my.astype(np.int64))
    xs_te, ys_te = to_nchw(nhwc(mxte)), torch.from_numpy(myte.astype(np.int64))
    xt, yt = usps_resize(ux[rows]), torch.from_numpy(uy[rows].astype(np.int64))
    xt_te, yt_te = usps_resize(uxte), torch.from_numpy(uyte.astype(np.int64))

    base, pre = pretrain(10, xs, ys, xs_te, ys_te, cfg["pretrain"], seed, "[pretrain] ")
    methods, acc = {}, {}
    lr, blr = cfg["lr"], cfg["backbone_lr"]

    tl, ta = evaluate(base, xt_te, yt_te)
    methods["source_only"] = {"test_accuracy": ta, "test_loss": tl, "train_seconds": 0.0}
    acc["source_only"] = ta
    log(f"[source_only] test_accuracy={ta:.4f}")
    fit_method("scratch", build_cnn(10, seed), {i: lr for i in (CONV1, CONV2, DENSE, HEAD)},
               xt, yt, xt_te, yt_te, cfg, seed, methods, acc)
    fit_method("head_only", transfer_model(base, 10, seed, False), {HEAD: lr},
               xt, yt, xt_te, yt_te, cfg, seed, methods, acc)
    fit_method("input_layers", transfer_model(base, 10, seed, False), {CONV1: lr, CONV2: lr},
               xt, yt, xt_te, yt_te, cfg, seed, methods, acc)
    fit_method("finetune", transfer_model(base, 10, seed, False),
               {CONV1: blr, CONV2: blr, DENSE: blr, HEAD: lr},
               xt, yt, xt_te, yt_te, cfg, seed, methods, acc)
    return {"test_accuracy": acc, "pretrain": pre, "methods": methods,
            "train_indices": rows.tolist(),
            "usps_resize": "u8/255 then F.interpolate(size=(28,28), mode='bilinear', "
                           "align_corners=False, antialias=False)",
            "rows": {"pretrain_train": len(xs), "pretrain_test": len(xs_te),
                     "target_train": len(xt), "target_test": len(xt_te)}}


# ==========================================================================
# summary
# ==========================================================================


def summary():
    for exp in EXPERIMENTS:
        files = sorted(RESULTS.glob(f"transfer_{exp}_torch_seed*.json"))
        if not files:
            print(f"{exp}: no results")
            continue
        runs = [json.loads(f.read_text()) for f in files]
        seeds = ", ".join(str(r["seed"]) for r in runs)
        print(f"\n### transfer_{exp}, PyTorch {runs[0]['versions']['torch']}, "
              f"seeds {seeds}: test accuracy\n")
        print("| method | mean | min | max | per seed |")
        print("| --- | ---: | ---: | ---: | --- |")
        rows = [("pretrain (source test)", [r["pretrain"]["test_accuracy"] for r in runs])]
        rows += [(m, [r["test_accuracy"].get(m) for r in runs]) for m in METHODS[exp]]
        for name, vals in rows:
            got = [v for v in vals if v is not None]
            if not got:
                print(f"| {name} | n/a | | | |")
                continue
            per = " / ".join("-" if v is None else f"{v:.4f}" for v in vals)
            print(f"| {name} | {sum(got) / len(got):.4f} | {min(got):.4f} | "
                  f"{max(got):.4f} | {per} |")
        walls = [r["wall_seconds"] for r in runs]
        print(f"\nwall seconds per run: {', '.join(f'{w:.0f}' for w in walls)}")


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
        RESULTS / f"transfer_{args.experiment}_torch_seed{args.seed}.json")
    log(f"== transfer_{args.experiment} / torch / seed {args.seed} / {args.threads} threads")
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    body = run_fmnist(args.seed) if args.experiment == "fmnist" else run_usps(args.seed)
    wall = time.perf_counter() - t0
    result = {
        "work": f"transfer_{args.experiment}",
        "framework": "torch",
        "seed": args.seed,
        "test_accuracy": body.pop("test_accuracy"),
        "pretrain_test_accuracy": body["pretrain"]["test_accuracy"],
        "wall_seconds": wall,
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "threads": args.threads,
        "settings": {"torch_num_threads": torch.get_num_threads(),
                     "torch_num_interop_threads": torch.get_num_interop_threads(),
                     "init": "keras (glorot_uniform, zero bias)", "adam_eps": ADAM_EPS,
                     "dtype": "float32", "memory_format": "channels_last",
                     "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")},
        "config": CONFIG[args.experiment],
    }
    result.update(body)
    common.write_result(result, out, load_start, __file__, argv)
    log(f"wrote {out}: {json.dumps(result['test_accuracy'])} "
        f"pretrain={result['pretrain_test_accuracy']:.4f} wall={wall:.1f}s")


if __name__ == "__main__":
    main()
