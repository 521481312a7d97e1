#!/usr/bin/env python3
"""Reference runs of manabi's benchmark work in PyTorch or Keras.

    python bench/reference.py --framework torch --work fashion_cnn --seed 1 \
        --threads 2 --out bench/results/fashion_cnn_torch_seed1.json

Works (see bench/README.md for the exact definitions):
    digits_mlp, fashion_cnn, diabetes, optimizers, resnet

The PyTorch models are built to match the Keras ones as closely as the two
libraries allow: Glorot-uniform kernels and zero biases (Keras' defaults,
not PyTorch's), Adam eps=1e-7 (resnet: the recipe's PyTorch-default 1e-8),
Adagrad initial accumulator 0.1 / eps 1e-7,
BatchNorm momentum 0.99 (torch momentum=0.01) / eps 1e-3, TensorFlow-style
asymmetric "same" padding for the stride-2 convolution, Keras'
validation_split semantics (last 10% of rows, before shuffling), and the
same per-epoch logging (loss / accuracy averaged over the epoch's batches,
weighted by batch size).

train_seconds is the wall time of the training loop (Keras: model.fit)
alone, which includes the per-epoch validation pass where there is one;
it excludes data loading, model building and the final test evaluation.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

WORKS = ("digits_mlp", "fashion_cnn", "diabetes", "optimizers", "resnet")

# Hyper-parameters of each work (shared by both frameworks).
CONFIG = {
    "fashion_cnn": dict(epochs=5, batch_size=200, validation_split=0.0,
                        optimizer=dict(name="adam", lr=1e-3)),
    "digits_mlp": dict(epochs=50, batch_size=32, validation_split=0.1,
                       optimizer=dict(name="adam", lr=1e-3)),
    "diabetes": dict(epochs=200, batch_size=32, validation_split=0.0,
                     optimizer=dict(name="adam", lr=1e-2)),
    "optimizers": dict(epochs=30, batch_size=32, validation_split=0.1,
                       runs={
                           "sgd": dict(name="sgd", lr=0.05, momentum=0.0),
                           "sgd_momentum": dict(name="sgd", lr=0.01, momentum=0.9),
                           "adagrad": dict(name="adagrad", lr=0.05),
                           "adam": dict(name="adam", lr=1e-3),
                       }),
    # recipes/fashion_mnist_resnet.toml: Adam with PyTorch's defaults (betas 0.9/0.999,
    # eps 1e-8) and a per-step cosine from lr down to 0 over all training steps.
    "resnet": dict(epochs=6, batch_size=128, validation_split=0.0,
                   optimizer=dict(name="adam", lr=2e-3, betas=(0.9, 0.999), eps=1e-8),
                   schedule=dict(kind="cosine", min_lr=0.0, per="step",
                                 formula="lr(s) = min_lr + (lr - min_lr) * (1 + cos(pi * s / T)) / 2, "
                                         "s = 0-based global step, T = epochs * ceil(train_rows / batch_size)")),
}

# What each work's model is, recorded in the JSON (only where it has changed over time).
MODEL_DESC = {
    "resnet": ("recipes/fashion_mnist_resnet.toml: Conv(16,3x3,same,no bias,he_normal) -> BN -> ReLU "
               "-> MaxPool2 -> Res(16) -> Conv(32,3x3,stride 2,same,no bias,he_normal) -> BN -> ReLU "
               "-> Res(32) -> Flatten(1568) -> Dense(128,relu,he_normal) -> Dropout(0.3) "
               "-> Dense(10,softmax,glorot_uniform); Res(c)(x) = ReLU(x + BN(Conv(ReLU(BN(Conv(x)))))) "
               "with Conv(c,3x3,same,no bias,he_normal); BN momentum 0.99 eps 1e-3; "
               "he_normal = untruncated N(0, 2/fan_in)"),
}


def cosine_lr(base: float, min_lr: float, step: int, total: int) -> float:
    """manabi's cosine schedule (src/optim/schedule.rs), no warm-up."""
    progress = min(step / max(total, 1), 1.0)
    return min_lr + (base - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


EVAL_BATCH = 1000


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=("torch", "keras"), required=True)
    p.add_argument("--work", choices=WORKS, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=str, default=None,
                   help="JSON output (default bench/results/<work>_<framework>_seed<N>.json)")
    p.add_argument("--epochs", type=int, default=None,
                   help="override the work's epoch count (for smoke tests only)")
    p.add_argument("--train-limit", type=int, default=None,
                   help="use only the first N training rows (for smoke tests only)")
    p.add_argument("--keras-backend", choices=("tensorflow", "torch", "jax"), default=None,
                   help="Keras backend (default: $KERAS_BACKEND, else tensorflow if "
                        "installed, else torch)")
    p.add_argument("--torch-init", choices=("keras", "torch"), default="keras",
                   help="torch: initialise like Keras (glorot_uniform, zero bias; "
                        "default) or keep PyTorch's own defaults")
    return p.parse_args(argv)


def set_thread_env(threads: int):
    """Must run before torch / tensorflow are imported."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    # The machine is shared with other jobs (Rust builds). With libgomp's default
    # spin-waiting, 2 OpenMP threads on 2 busy cores ran the resnet 4-6x slower
    # than 1 thread; passive waiting removes that pathology.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def log(msg: str):
    print(msg, flush=True)


# ==========================================================================
# data
# ==========================================================================


def load_work_data(work: str, limit=None):
    xtr, ytr, xte, yte = _load_work_data(work)
    if limit:
        xtr, ytr = xtr[:limit], ytr[:limit]
    return xtr, ytr, xte, yte


def _load_work_data(work: str):
    import numpy as np
    import common

    if work in ("fashion_cnn", "resnet"):
        xtr, ytr, xte, yte = common.load_fashion_mnist()
        xtr = (xtr.astype(np.float32) / 255.0)[..., None]  # NHWC
        xte = (xte.astype(np.float32) / 255.0)[..., None]
        return xtr, ytr.astype(np.int64), xte, yte.astype(np.int64)
    if work in ("digits_mlp", "optimizers"):
        xtr, ytr, xte, yte = common.load_digits()
        return ((xtr / 16.0).astype(np.float32), ytr,
                (xte / 16.0).astype(np.float32), yte)
    if work == "diabetes":
        xtr, ytr, xte, yte = common.load_diabetes()
        xtr, xte = common.standardise(xtr, xte)
        return (xtr.astype(np.float32), ytr.astype(np.float32),
                xte.astype(np.float32), yte.astype(np.float32))
    raise ValueError(work)


def regression_metrics(pred, y_test, y_train):
    import numpy as np

    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    y = np.asarray(y_test, dtype=np.float64)
    mse = float(np.mean((pred - y) ** 2))
    ss_res = float(np.sum((pred - y) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    base = float(np.sqrt(np.mean((y - float(np.mean(y_train))) ** 2)))
    return dict(test_loss=mse, test_rmse=mse ** 0.5, test_r2=1.0 - ss_res / ss_tot,
                baseline_mean_rmse=base)


# ==========================================================================
# PyTorch
# ==========================================================================


def torch_setup(args):
    import numpy as np
    import torch

    import common

    common.seed_torch(torch, args.threads, args.seed)
    versions = {"torch": torch.__version__, "numpy": np.__version__,
                "python": sys.version.split()[0]}
    settings = {"torch_num_threads": torch.get_num_threads(),
                "torch_num_interop_threads": torch.get_num_interop_threads(),
                "init": args.torch_init,
                "adam_eps": CONFIG[args.work].get("optimizer", {}).get("eps", 1e-7),
                "adagrad": "initial_accumulator_value=0.1, eps=1e-7",
                "batchnorm": "momentum=0.01 (Keras 0.99), eps=1e-3",
                "dtype": "float32",
                "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
                "memory_format": ("channels_last" if args.work in ("fashion_cnn", "resnet")
                                  else "contiguous")}
    return versions, settings


def torch_keras_init(model):
    import torch.nn as nn

    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def torch_build(work: str, args):
    import torch
    import torch.nn as nn

    if work == "fashion_cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),   # 26 -> 13
            nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),  # 11 -> 5
            nn.Flatten(), nn.Linear(32 * 5 * 5, 128), nn.ReLU(),
            nn.Linear(128, 10),  # softmax folded into the cross-entropy
        )
    elif work in ("digits_mlp", "optimizers"):
        model = nn.Sequential(
            nn.Flatten(), nn.Linear(64, 64), nn.ReLU(),
            nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10),
        )
    elif work == "diabetes":
        model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
    elif work == "resnet":
        def bn(c):
            return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

        def conv(cin, cout, stride=1):
            return nn.Conv2d(cin, cout, 3, stride=stride, padding=1 if stride == 1 else 0,
                             bias=False)

        class Residual(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv1 = conv(c, c)
                self.bn1 = bn(c)
                self.conv2 = conv(c, c)
                self.bn2 = bn(c)

            def forward(self, x):
                y = torch.relu(self.bn1(self.conv1(x)))
                y = self.bn2(self.conv2(y))
                return torch.relu(x + y)

        model = nn.Sequential(
            conv(1, 16), bn(16), nn.ReLU(),                    # 28x28x16
            nn.MaxPool2d(2),                                   # -> 14x14
            Residual(16),
            # TensorFlow "same" padding for stride 2 on 14x14: pad 0 before,
            # 1 after (torch's symmetric padding=1 would shift the grid).
            nn.ZeroPad2d((0, 1, 0, 1)),
            conv(16, 32, stride=2), bn(32), nn.ReLU(),         # -> 7x7x32
            Residual(32),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(128, 10),  # softmax folded into the cross-entropy
        )
    else:
        raise ValueError(work)
    if args.torch_init == "keras":
        torch_keras_init(model)
        if work == "resnet":
            # the recipe's init = "he_normal" (every conv, and the 128-unit dense);
            # manabi (Burn's KaimingNormal) draws an untruncated N(0, 2 / fan_in).
            for m in model.modules():
                if isinstance(m, nn.Conv2d) or (isinstance(m, nn.Linear)
                                                and m.out_features == 128):
                    nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
    if work in ("fashion_cnn", "resnet"):
        # NHWC is faster for these small convolutions on CPU (and is Keras' layout).
        model = model.to(memory_format=torch.channels_last)
    return model


def torch_optimizer(cfg: dict, params):
    import torch

    name = cfg["name"]
    if name == "adam":
        return torch.optim.Adam(params, lr=cfg["lr"], betas=tuple(cfg.get("betas", (0.9, 0.999))),
                                eps=cfg.get("eps", 1e-7))
    if name == "sgd":
        return torch.optim.SGD(params, lr=cfg["lr"], momentum=cfg.get("momentum", 0.0))
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=cfg["lr"], initial_accumulator_value=0.1,
                                   eps=1e-7)
    raise ValueError(name)


def torch_evaluate(model, x, y, regression: bool):
    import torch
    import torch.nn.functional as F

    model.eval()
    total_loss, correct, preds = 0.0, 0, []
    with torch.no_grad():
        for i in range(0, len(x), EVAL_BATCH):
            xb, yb = x[i:i + EVAL_BATCH], y[i:i + EVAL_BATCH]
            out = model(xb)
            if regression:
                out = out.squeeze(1)
                total_loss += F.mse_loss(out, yb, reduction="sum").item()
                preds.append(out)
            else:
                total_loss += F.cross_entropy(out, yb, reduction="sum").item()
                correct += (out.argmax(1) == yb).sum().item()
    model.train()
    n = len(x)
    if regression:
        return total_loss / n, torch.cat(preds).numpy()
    return total_loss / n, correct / n


def torch_to_tensors(xtr, ytr, xte, yte, work):
    import torch

    def tx(a):
        t = torch.from_numpy(a)
        if t.dim() == 4:  # NHWC array -> NCHW tensor stored channels_last
            t = t.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        return t

    def ty(a):
        return torch.from_numpy(a)

    return tx(xtr), ty(ytr), tx(xte), ty(yte)


def torch_fit(model, opt, xtr, ytr, epochs, batch_size, seed, regression=False,
              val=None, tag="", lr_at=None):
    """lr_at(step) -> learning rate for the 0-based global step (None: constant)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(seed)
    n = len(xtr)
    per_epoch = []
    step = 0
    model.train()
    t_start = time.perf_counter()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        perm = torch.from_numpy(rng.permutation(n))
        sum_loss, sum_correct = 0.0, 0
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            xb, yb = xtr[idx], ytr[idx]
            if lr_at is not None:
                for group in opt.param_groups:
                    group["lr"] = lr_at(step)
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            if regression:
                loss = F.mse_loss(out.squeeze(1), yb)
            else:
                loss = F.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            step += 1
            sum_loss += loss.item() * len(idx)
            if not regression:
                sum_correct += (out.detach().argmax(1) == yb).sum().item()
        rec = {"epoch": epoch + 1, "loss": sum_loss / n}
        if not regression:
            rec["accuracy"] = sum_correct / n
        if lr_at is not None:
            rec["lr_last_step"] = opt.param_groups[0]["lr"]
        if val is not None:
            vl, va = torch_evaluate(model, val[0], val[1], regression)
            rec["val_loss"] = vl
            if not regression:
                rec["val_accuracy"] = va
        rec["seconds"] = time.perf_counter() - t0
        per_epoch.append(rec)
        log(f"{tag}epoch {epoch + 1}/{epochs} " + " ".join(
            f"{k}={v:.4f}" for k, v in rec.items() if k != "epoch"))
    return per_epoch, time.perf_counter() - t_start


def run_torch(args, cfg):
    import torch
    import common

    versions, settings = torch_setup(args)
    work = args.work
    regression = work == "diabetes"
    xtr_np, ytr_np, xte_np, yte_np = load_work_data(work, args.train_limit)
    val = None
    if cfg["validation_split"] > 0:
        (xtr_np, ytr_np), (xv_np, yv_np) = common.keras_validation_split(
            xtr_np, ytr_np, cfg["validation_split"])
    xtr, ytr, xte, yte = torch_to_tensors(xtr_np, ytr_np, xte_np, yte_np, work)
    if cfg["validation_split"] > 0:
        xv, yv, _, _ = torch_to_tensors(xv_np, yv_np, xte_np[:1], yte_np[:1], work)
        val = (xv, yv)
    result = {"versions": versions, "settings": settings,
              "train_rows": len(xtr), "val_rows": 0 if val is None else len(val[0]),
              "test_rows": len(xte)}

    if work == "optimizers":
        runs = {}
        total = 0.0
        for name, ocfg in cfg["runs"].items():
            torch.manual_seed(args.seed)  # same initial weights for every optimizer
            model = torch_build(work, args)
            opt = torch_optimizer(ocfg, model.parameters())
            per_epoch, secs = torch_fit(model, opt, xtr, ytr, cfg["epochs"],
                                        cfg["batch_size"], args.seed, val=val,
                                        tag=f"[{name}] ")
            tl, ta = torch_evaluate(model, xte, yte, False)
            log(f"[{name}] test_loss={tl:.4f} test_accuracy={ta:.4f} train_seconds={secs:.2f}")
            runs[name] = {"optimizer": ocfg, "test_accuracy": ta, "test_loss": tl,
                          "train_seconds": secs, "per_epoch": per_epoch}
            total += secs
        result.update(runs=runs, train_seconds=total,
                      test_accuracy={k: v["test_accuracy"] for k, v in runs.items()})
        return result

    model = torch_build(work, args)
    result["parameters"] = sum(p.numel() for p in model.parameters())
    opt = torch_optimizer(cfg["optimizer"], model.parameters())
    lr_at = None
    if "schedule" in cfg:
        total = cfg["epochs"] * math.ceil(len(xtr) / cfg["batch_size"])
        base, min_lr = cfg["optimizer"]["lr"], cfg["schedule"]["min_lr"]
        lr_at = lambda step: cosine_lr(base, min_lr, step, total)  # noqa: E731
        result["schedule_total_steps"] = total
    per_epoch, secs = torch_fit(model, opt, xtr, ytr, cfg["epochs"], cfg["batch_size"],
                                args.seed, regression=regression, val=val, lr_at=lr_at)
    result.update(train_seconds=secs, per_epoch=per_epoch)
    if regression:
        _, pred = torch_evaluate(model, xte, yte, True)
        result.update(regression_metrics(pred, yte_np, ytr_np))
    else:
        tl, ta = torch_evaluate(model, xte, yte, False)
        result.update(test_loss=tl, test_accuracy=ta)
    return result


# ==========================================================================
# Keras 3
# ==========================================================================


def keras_setup(args):
    backend = args.keras_backend or os.environ.get("KERAS_BACKEND")
    if backend is None:
        try:
            import importlib.util
            backend = "tensorflow" if importlib.util.find_spec("tensorflow") else "torch"
        except Exception:  # pragma: no cover
            backend = "torch"
    os.environ["KERAS_BACKEND"] = backend
    import numpy as np

    versions = {"numpy": np.__version__, "python": sys.version.split()[0]}
    settings = {"keras_backend": backend}
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        versions["tensorflow"] = tf.__version__
        settings["tf_intra_op_threads"] = args.threads
        settings["tf_inter_op_threads"] = 1
    elif backend == "torch":
        import torch

        torch.set_num_threads(args.threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
        versions["torch"] = torch.__version__
        settings["torch_num_threads"] = torch.get_num_threads()
    import keras

    versions["keras"] = keras.__version__
    keras.utils.set_random_seed(args.seed)  # python, numpy and backend seeds
    return keras, versions, settings


def keras_build(keras, work: str):
    from keras import layers

    if work == "fashion_cnn":
        return keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(16, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
    if work in ("digits_mlp", "optimizers"):
        return keras.Sequential([
            keras.Input((64,)),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
    if work == "diabetes":
        return keras.Sequential([
            keras.Input((10,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(1),
        ])
    if work == "resnet":
        # manabi's he_normal is an untruncated normal (Keras' "he_normal" truncates).
        def he():
            return keras.initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal")

        def conv_bn(x, c, stride=1):
            x = layers.Conv2D(c, 3, strides=stride, padding="same", use_bias=False,
                              kernel_initializer=he())(x)
            return layers.BatchNormalization(momentum=0.99, epsilon=1e-3)(x)

        def residual(x, c):
            y = layers.ReLU()(conv_bn(x, c))
            y = conv_bn(y, c)
            return layers.ReLU()(layers.Add()([x, y]))

        inp = keras.Input((28, 28, 1))
        x = layers.ReLU()(conv_bn(inp, 16))
        x = layers.MaxPooling2D(2)(x)
        x = residual(x, 16)
        x = layers.ReLU()(conv_bn(x, 32, stride=2))
        x = residual(x, 32)
        x = layers.Flatten()(x)
        x = layers.Dense(128, activation="relu", kernel_initializer=he())(x)
        x = layers.Dropout(0.3)(x)
        out = layers.Dense(10, activation="softmax")(x)
        return keras.Model(inp, out)
    raise ValueError(work)


def keras_optimizer(keras, cfg: dict, schedule=None, total_steps=None):
    name = cfg["name"]
    lr = cfg["lr"]
    if schedule is not None:
        assert schedule["kind"] == "cosine", schedule
        # decayed(s) = (1 - alpha) * (1 + cos(pi * min(s, T) / T)) / 2 + alpha, with s the
        # optimizer's 0-based iteration count: the same per-step cosine as manabi's.
        lr = keras.optimizers.schedules.CosineDecay(
            cfg["lr"], decay_steps=total_steps, alpha=schedule["min_lr"] / cfg["lr"])
    if name == "adam":
        b1, b2 = cfg.get("betas", (0.9, 0.999))
        return keras.optimizers.Adam(learning_rate=lr, beta_1=b1, beta_2=b2,
                                     epsilon=cfg.get("eps", 1e-7))
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=cfg["lr"], momentum=cfg.get("momentum", 0.0))
    if name == "adagrad":
        return keras.optimizers.Adagrad(learning_rate=cfg["lr"])
    raise ValueError(name)


def keras_fit(keras, model, xtr, ytr, epochs, batch_size, validation_split, tag=""):
    per_epoch = []

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            rec = {"epoch": epoch + 1}
            rec.update({k: float(v) for k, v in (logs or {}).items()})
            rec["seconds"] = time.perf_counter() - self.t0
            per_epoch.append(rec)
            log(f"{tag}epoch {epoch + 1}/{epochs} " + " ".join(
                f"{k}={v:.4f}" for k, v in rec.items() if k != "epoch"))

    t0 = time.perf_counter()
    model.fit(xtr, ytr, epochs=epochs, batch_size=batch_size, shuffle=True,
              validation_split=validation_split or 0.0, verbose=0,
              callbacks=[EpochLog()])
    return per_epoch, time.perf_counter() - t0


def run_keras(args, cfg):
    keras, versions, settings = keras_setup(args)
    work = args.work
    regression = work == "diabetes"
    xtr, ytr, xte, yte = load_work_data(work, args.train_limit)
    vs = cfg["validation_split"]
    n_val = len(xtr) - int(len(xtr) * (1.0 - vs)) if vs > 0 else 0
    result = {"versions": versions, "settings": settings,
              "train_rows": len(xtr) - n_val, "val_rows": n_val, "test_rows": len(xte)}
    cls_loss = "sparse_categorical_crossentropy"

    if work == "optimizers":
        runs, total = {}, 0.0
        for name, ocfg in cfg["runs"].items():
            keras.utils.set_random_seed(args.seed)  # same initial weights each run
            model = keras_build(keras, work)
            model.compile(optimizer=keras_optimizer(keras, ocfg), loss=cls_loss,
                          metrics=["accuracy"])
            per_epoch, secs = keras_fit(keras, model, xtr, ytr, cfg["epochs"],
                                        cfg["batch_size"], vs, tag=f"[{name}] ")
            tl, ta = model.evaluate(xte, yte, batch_size=EVAL_BATCH, verbose=0)
            log(f"[{name}] test_loss={tl:.4f} test_accuracy={ta:.4f} train_seconds={secs:.2f}")
            runs[name] = {"optimizer": ocfg, "test_accuracy": float(ta),
                          "test_loss": float(tl), "train_seconds": secs,
                          "per_epoch": per_epoch}
            total += secs
        settings["jit_compile"] = bool(model.jit_compile)
        result.update(runs=runs, train_seconds=total,
                      test_accuracy={k: v["test_accuracy"] for k, v in runs.items()})
        return result

    model = keras_build(keras, work)
    result["parameters"] = int(model.count_params())
    total = None
    if "schedule" in cfg:
        total = cfg["epochs"] * math.ceil((len(xtr) - n_val) / cfg["batch_size"])
        result["schedule_total_steps"] = total
    model.compile(optimizer=keras_optimizer(keras, cfg["optimizer"], cfg.get("schedule"), total),
                  loss="mse" if regression else cls_loss,
                  metrics=[] if regression else ["accuracy"])
    per_epoch, secs = keras_fit(keras, model, xtr, ytr, cfg["epochs"], cfg["batch_size"], vs)
    settings["jit_compile"] = bool(model.jit_compile)
    result.update(train_seconds=secs, per_epoch=per_epoch)
    if regression:
        pred = model.predict(xte, batch_size=EVAL_BATCH, verbose=0)
        ntr = len(xtr) - n_val
        result.update(regression_metrics(pred, yte, ytr[:ntr]))
    else:
        tl, ta = model.evaluate(xte, yte, batch_size=EVAL_BATCH, verbose=0)
        result.update(test_loss=float(tl), test_accuracy=float(ta))
    return result


# ==========================================================================


def main(argv=None):
    args = parse_args(argv)
    set_thread_env(args.threads)
    import common

    cfg = dict(CONFIG[args.work])
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    load_start = os.getloadavg()
    out = Path(args.out) if args.out else (
        HERE / "results" / f"{args.work}_{args.framework}_seed{args.seed}.json")
    log(f"== {args.work} / {args.framework} / seed {args.seed} / {args.threads} threads")
    t0 = time.perf_counter()
    body = run_torch(args, cfg) if args.framework == "torch" else run_keras(args, cfg)
    result = {
        "work": args.work,
        "framework": args.framework,
        "versions": body.pop("versions"),
        "seed": args.seed,
        "threads": args.threads,
        "epochs": cfg["epochs"],
        "batch_size": cfg["batch_size"],
        "validation_split": cfg["validation_split"],
    }
    if "optimizer" in cfg:
        result["optimizer"] = cfg["optimizer"]
    if "schedule" in cfg:
        result["schedule"] = cfg["schedule"]
    if args.work in MODEL_DESC:
        result["model"] = MODEL_DESC[args.work]
    for key in ("test_accuracy", "test_rmse", "test_r2", "baseline_mean_rmse",
                "test_loss", "train_seconds"):
        if key in body:
            result[key] = body.pop(key)
    result.update(body)
    if args.train_limit:
        result["train_limit"] = args.train_limit
    result["total_seconds"] = time.perf_counter() - t0
    common.write_result(result, out, load_start, __file__, argv)
    summary = {k: result[k] for k in ("test_accuracy", "test_rmse", "test_r2",
                                      "baseline_mean_rmse", "test_loss", "train_seconds")
               if k in result}
    log(f"wrote {out}: {json.dumps(summary)}")


if __name__ == "__main__":
    main()
