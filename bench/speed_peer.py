#!/usr/bin/env python3
"""PyTorch / Keras side of the speed benchmark (`bench/speed.py`): times one work and prints
exactly one JSON line on stdout (everything else goes to stderr).

    bench/.venv/bin/python bench/speed_peer.py --framework {torch,keras} --work WORK \
        --data-dir DATASETS --threads 2 [--steps N] [--warmup W]

The JSON line (the same as manabi's `target/release/examples/bench_work` prints):

    {"framework":"torch","work":"cnn_train_epoch","seconds":6.5,"items":60000,
     "unit":"epoch","per_item_ms":0.108,"threads":2,"versions":{...}, ...}

`seconds` is wall time; `per_item_ms = 1000 * seconds / items`. Extra fields after
`versions` (batch_size, warmup, parameters, settings, ...) are informational.

Works (all float32, `--threads` threads; data loading, model building and warm-up are not
timed, everything inside the loop is):

* cnn_train_epoch: the seed Fashion-MNIST CNN (108,618 parameters), one training epoch
  over all 60,000 training images, batch 200, shuffled, Adam 1e-3 (eps 1e-7), sparse CE.
  seconds = the epoch; items = images trained (60,000); unit "epoch". `--warmup` steps
  (default 1: Keras traces its train function on the first call) run before it on the
  first batches and are not counted. `--steps N` trains only N batches (smoke tests).
* cnn_infer: the same CNN (freshly initialised) predicting the 10,000 test images, batch
  1000 (torch: eval + no_grad + softmax; Keras: model.predict). seconds = median of 3
  passes after 1 warm-up pass; items = 10,000; unit "pass". `--steps` is ignored.
* bilstm_steps: Embedding(10000,128) -> Bidirectional(LSTM(64)) -> Dense(1, sigmoid),
  Adam 1e-3 (eps 1e-7), binary CE, batch 32, on bench/data/imdb_maxlen50/train.csv.
* transformer_steps: recipes/imdb_transformer.toml: Embedding(10000,64) + sinusoidal
  positions -> 2 post-norm encoder blocks (d 64, 4 heads, feed-forward 128 with GELU,
  dropout 0.1, layer-norm eps 1e-5, key padding mask for token 0) -> mean over the real
  tokens -> Dropout(0.2) -> Dense(1, sigmoid); Adam 5e-4 (eps 1e-8), binary CE, batch 32,
  on bench/data/imdb_maxlen200/train.csv.
* resnet_steps: recipes/fashion_mnist_resnet.toml (bench/README.md, `resnet`), batch 128,
  Adam 2e-3 (eps 1e-8) with the recipe's per-step cosine, sparse CE, Fashion-MNIST.

The *_steps works run `--warmup` (default 5) untimed steps, then `--steps` (default 100;
transformer_steps and resnet_steps 30) timed steps; seconds = the timed steps together; items = steps; unit
"step". Batches are consecutive slices of one shuffled permutation of the training rows
(wrapping around).

Loops: torch is a plain loop (zero_grad, forward, loss, backward, step, loss.item()).
Keras calls `model.train_on_batch` (the compiled tf.function train step of `fit`,
without the callbacks/data-adapter overhead; it returns the loss, i.e. it synchronises).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reference import cosine_lr, set_thread_env  # noqa: E402  (stdlib-only import)

WORKS = ("cnn_train_epoch", "cnn_infer", "bilstm_steps", "transformer_steps", "resnet_steps")
SEED = 42  # the recipes' seed
VOCAB = 10000

IMDB_DIRS = {"bilstm_steps": ("imdb_maxlen50", "recipes/imdb_simple_rnn.toml", 50),
             "transformer_steps": ("imdb_maxlen200", "recipes/imdb_transformer.toml", 200)}

CONFIG = {
    "cnn_train_epoch": dict(batch_size=200, lr=1e-3, eps=1e-7, warmup=1),
    "cnn_infer": dict(batch_size=1000, warmup=1, passes=3),
    "bilstm_steps": dict(batch_size=32, lr=1e-3, eps=1e-7, warmup=5, steps=100),
    "transformer_steps": dict(batch_size=32, lr=5e-4, eps=1e-8, warmup=5, steps=30,
                              d_model=64, heads=4, ff_dim=128, blocks=2, dropout=0.1,
                              ln_eps=1e-5, pool_dropout=0.2),
    # T of the recipe's cosine: 6 epochs x ceil(60000 / 128) steps (bench/README.md, resnet)
    "resnet_steps": dict(batch_size=128, lr=2e-3, eps=1e-8, warmup=5, steps=30,
                         cosine_total_steps=6 * 469),
}

MODEL_DESC = {
    "cnn_train_epoch": "Conv2D(16,3x3,relu,valid) -> MaxPool2 -> Conv2D(32,3x3,relu) -> MaxPool2 "
                       "-> Flatten -> Dense(128,relu) -> Dense(10,softmax)",
    "bilstm_steps": "Embedding(10000,128) -> Bidirectional(LSTM(64)) -> Dense(1,sigmoid)",
    "transformer_steps": "Embedding(10000,64) + sinusoidal PE -> 2 x post-norm encoder block "
                         "(MHA 4 heads d 64, FFN 128 GELU, dropout 0.1, LN eps 1e-5, key padding "
                         "mask id 0) -> masked mean pool -> Dropout(0.2) -> Dense(1,sigmoid)",
    "resnet_steps": "recipes/fashion_mnist_resnet.toml (bench/README.md, resnet row)",
}
MODEL_DESC["cnn_infer"] = MODEL_DESC["cnn_train_epoch"]


def log(msg: str):
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=("torch", "keras"), required=True)
    p.add_argument("--work", choices=WORKS, required=True)
    p.add_argument("--data-dir", type=str, default=None,
                   help="datasets folder (fashion-mnist/*.gz); default $MANABI_DATA, "
                        "$MANABI_DATASETS or ../shared/datasets")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", type=str, default="cpu",
                   help="torch device (e.g. cuda); data and model live there")
    p.add_argument("--steps", type=int, default=None,
                   help="timed steps (*_steps works); batches (cnn_train_epoch, smoke only)")
    p.add_argument("--warmup", type=int, default=None, help="untimed warm-up steps")
    p.add_argument("--imdb-dir", type=str, default=None,
                   help="folder with train.csv from `manabi export-data` "
                        "(default bench/data/imdb_maxlen50 or imdb_maxlen200)")
    return p.parse_args(argv)


# ==========================================================================
# data
# ==========================================================================


def fashion_mnist(data_dir: Path, train: bool = True):
    """(x_train, y_train, x_test, y_test); x float32 NHWC in [0, 1], y int64. With
    train=False the training arrays are empty (cnn_infer: keeps the peak memory honest)."""
    import numpy as np
    import common

    d = data_dir / "fashion-mnist"
    if train:
        xtr = common.read_idx(d / "train-images-idx3-ubyte.gz")
        ytr = common.read_idx(d / "train-labels-idx1-ubyte.gz")
    else:
        xtr, ytr = np.zeros((0, 28, 28), np.uint8), np.zeros((0,), np.uint8)
    xte = common.read_idx(d / "t10k-images-idx3-ubyte.gz")
    yte = common.read_idx(d / "t10k-labels-idx1-ubyte.gz")
    f = lambda a: (a.astype(np.float32) / 255.0)[..., None]  # noqa: E731
    return f(xtr), ytr.astype(np.int64), f(xte), yte.astype(np.int64)


def imdb_train(work: str, imdb_dir):
    """(x int64 (N, maxlen), y float32 (N,)) from train.csv of `manabi export-data`."""
    import numpy as np

    sub, recipe, maxlen = IMDB_DIRS[work]
    d = Path(imdb_dir) if imdb_dir else HERE / "data" / sub
    path = d / "train.csv"
    if not path.exists():
        log(f"error: {path} is missing. Export manabi's prepared IMDB data first, from the "
            f"repository root:\n    target/release/manabi export-data {recipe} "
            f"--data-dir DATASETS --out bench/data/{sub}\n(build it with `cargo build "
            f"--release`; DATASETS is e.g. ../shared/datasets)")
        sys.exit(2)
    with open(path) as fh:
        header = fh.readline().strip().split(",")
    want = ["label"] + [f"x{j}" for j in range(maxlen)]
    if header != want:
        raise SystemExit(f"{path}: header {header[:3]}...{header[-1:]} is not "
                         f"label,x0..x{maxlen - 1}")
    raw = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    x, y = np.ascontiguousarray(raw[:, 1:]), raw[:, 0].astype(np.float32)
    if x.min() < 0 or x.max() >= VOCAB:
        raise SystemExit(f"{path}: token ids outside 0..{VOCAB - 1}")
    return x, y


def sinusoids(length: int, d: int):
    """manabi's table: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(same)."""
    import numpy as np

    pos = np.arange(length, dtype=np.float64)[:, None]
    j = np.arange(d)
    angle = pos / np.power(10000.0, (j - j % 2) / d)
    return np.where(j % 2 == 0, np.sin(angle), np.cos(angle)).astype(np.float32)


def batch_indices(n: int, batch: int, count: int, rng):
    """`count` index arrays: consecutive slices of shuffled permutations (wrapping)."""
    import numpy as np

    perm, at, out = rng.permutation(n), 0, []
    for _ in range(count):
        if at + batch > n:
            perm, at = np.concatenate([perm[at:], rng.permutation(n)]), 0
        out.append(perm[at:at + batch])
        at += batch
    return out


# ==========================================================================
# PyTorch
# ==========================================================================


def torch_models(work: str, cfg: dict, maxlen=None):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from reference import torch_build

    if work in ("cnn_train_epoch", "cnn_infer"):
        return torch_build("fashion_cnn", SimpleNamespace(torch_init="keras"))
    if work == "resnet_steps":
        return torch_build("resnet", SimpleNamespace(torch_init="keras"))
    if work == "bilstm_steps":
        class BiLSTM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(VOCAB, 128)
                self.lstm = nn.LSTM(128, 64, batch_first=True, bidirectional=True)
                self.out = nn.Linear(128, 1)

            def forward(self, x):
                _, (h, _) = self.lstm(self.embed(x))  # h: [2, batch, 64] (fwd last, bwd first)
                return self.out(torch.cat([h[0], h[1]], dim=1)).squeeze(1)  # logits

        model = BiLSTM()
        nn.init.uniform_(model.embed.weight, -0.05, 0.05)  # Keras' Embedding init
        nn.init.xavier_uniform_(model.out.weight)
        nn.init.zeros_(model.out.bias)
        return model
    if work == "transformer_steps":
        d = cfg["d_model"]

        class Transformer(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(VOCAB, d)
                self.register_buffer("pe", torch.from_numpy(sinusoids(maxlen, d)))
                layer = nn.TransformerEncoderLayer(
                    d, cfg["heads"], dim_feedforward=cfg["ff_dim"], dropout=cfg["dropout"],
                    activation="gelu", layer_norm_eps=cfg["ln_eps"], batch_first=True,
                    norm_first=False)
                self.encoder = nn.TransformerEncoder(layer, cfg["blocks"],
                                                     enable_nested_tensor=False)
                self.drop = nn.Dropout(cfg["pool_dropout"])
                self.out = nn.Linear(d, 1)

            def forward(self, x):
                pad = x == 0  # True = padding (key padding mask)
                h = self.embed(x) + self.pe[: x.shape[1]]
                h = self.encoder(h, src_key_padding_mask=pad)
                keep = (~pad).unsqueeze(-1).to(h.dtype)
                pooled = (h * keep).sum(1) / keep.sum(1).clamp_min(1.0)
                return self.out(self.drop(pooled)).squeeze(1)  # logits

        model = Transformer()
        nn.init.uniform_(model.embed.weight, -0.05, 0.05)
        nn.init.xavier_uniform_(model.out.weight)
        nn.init.zeros_(model.out.bias)
        return model
    raise ValueError(work)


def run_torch(args, cfg):
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    versions = {"torch": torch.__version__, "numpy": np.__version__,
                "python": sys.version.split()[0]}
    settings = {"torch_num_threads": torch.get_num_threads(),
                "torch_num_interop_threads": torch.get_num_interop_threads(),
                "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
                "loop": "zero_grad, forward, loss, backward, step, loss.item()",
                "init": "Keras-like (glorot_uniform / zero bias; embeddings U(-0.05, 0.05))"}
    work = args.work
    out = {"versions": versions, "settings": settings}
    dev = torch.device(args.device)
    if dev.type == "cuda":
        out["device"] = f"cuda ({torch.cuda.get_device_name(dev)})"
        versions["cuda"] = torch.version.cuda
        versions["cudnn"] = torch.backends.cudnn.version()

    def nchw(a):  # NHWC array -> NCHW tensor stored channels_last (as reference.py)
        return torch.from_numpy(a).permute(0, 3, 1, 2).contiguous(
            memory_format=torch.channels_last).to(dev)

    if work == "cnn_infer":
        _, _, xte_np, _ = fashion_mnist(args.data_dir, train=False)
        xte = nchw(xte_np)
        model = torch_models(work, cfg).to(dev)
        model.eval()
        out["parameters"] = sum(p.numel() for p in model.parameters())
        settings["memory_format"] = "channels_last"
        settings["loop"] = "eval(), no_grad, softmax(model(batch)) per batch of 1000, torch.cat"

        def one_pass():
            t0 = time.perf_counter()
            with torch.no_grad():
                preds = [torch.softmax(model(xte[i:i + cfg["batch_size"]]), dim=1)
                         for i in range(0, len(xte), cfg["batch_size"])]
            torch.cat(preds).cpu()  # the probabilities on the host, as manabi returns them
            return time.perf_counter() - t0

        return infer_protocol(one_pass, len(xte), cfg, out)

    # training works
    if work in ("cnn_train_epoch", "resnet_steps"):
        xtr_np, ytr_np, _, _ = fashion_mnist(args.data_dir)
        xtr, ytr = nchw(xtr_np), torch.from_numpy(ytr_np).to(dev)
        settings["memory_format"] = "channels_last"
        maxlen = None
    else:
        x_np, y_np = imdb_train(work, args.imdb_dir)
        xtr, ytr = torch.from_numpy(x_np).to(dev), torch.from_numpy(y_np).to(dev)
        maxlen = x_np.shape[1]
    model = torch_models(work, cfg, maxlen).to(dev)
    model.train()
    out["parameters"] = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], eps=cfg["eps"])
    if work in ("cnn_train_epoch", "resnet_steps"):
        loss_fn = F.cross_entropy  # softmax folded into the loss (logits)
    else:
        loss_fn = F.binary_cross_entropy_with_logits  # sigmoid folded into the loss
    total = cfg.get("cosine_total_steps")
    step_no = [0]

    def step(idx):
        if total:
            for group in opt.param_groups:
                group["lr"] = cosine_lr(cfg["lr"], 0.0, step_no[0], total)
        idx = torch.from_numpy(idx).to(dev)
        xb, yb = xtr[idx], ytr[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        step_no[0] += 1
        return loss.item()

    return train_protocol(args, cfg, step, len(xtr), rng, out)


# ==========================================================================
# Keras 3 (TensorFlow backend)
# ==========================================================================


def keras_models(keras, work: str, cfg: dict, maxlen=None):
    from keras import layers, ops

    from reference import keras_build

    if work in ("cnn_train_epoch", "cnn_infer"):
        return keras_build(keras, "fashion_cnn")
    if work == "resnet_steps":
        return keras_build(keras, "resnet")
    if work == "bilstm_steps":
        return keras.Sequential([keras.Input((None,), dtype="int32"),
                                 layers.Embedding(VOCAB, 128),
                                 layers.Bidirectional(layers.LSTM(64)),
                                 layers.Dense(1, activation="sigmoid")])
    if work == "transformer_steps":
        d, heads = cfg["d_model"], cfg["heads"]
        tokens = keras.Input((maxlen,), dtype="int32")
        keep = ops.not_equal(tokens, 0)                             # [B, T] True = token
        attn_mask = ops.logical_and(ops.expand_dims(ops.ones_like(keep), 2),
                                    ops.expand_dims(keep, 1))      # [B, T(query), S(key)]
        x = layers.Embedding(VOCAB, d)(tokens)
        x = x + sinusoids(maxlen, d)[None]
        for _ in range(cfg["blocks"]):
            a = layers.MultiHeadAttention(heads, d // heads, dropout=cfg["dropout"])(
                x, x, attention_mask=attn_mask)
            x = layers.LayerNormalization(epsilon=cfg["ln_eps"])(
                x + layers.Dropout(cfg["dropout"])(a))
            f = layers.Dense(cfg["ff_dim"], activation="gelu")(x)  # exact (erf) GELU
            f = layers.Dense(d)(layers.Dropout(cfg["dropout"])(f))
            x = layers.LayerNormalization(epsilon=cfg["ln_eps"])(
                x + layers.Dropout(cfg["dropout"])(f))
        m = ops.expand_dims(ops.cast(keep, "float32"), -1)
        pooled = ops.sum(x * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1.0)
        pooled = layers.Dropout(cfg["pool_dropout"])(pooled)
        return keras.Model(tokens, layers.Dense(1, activation="sigmoid")(pooled))
    raise ValueError(work)


def run_keras(args, cfg):
    import numpy as np

    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    versions = {"keras": keras.__version__, "tensorflow": tf.__version__,
                "numpy": np.__version__, "python": sys.version.split()[0]}
    settings = {"keras_backend": "tensorflow", "tf_intra_op_threads": args.threads,
                "tf_inter_op_threads": 1,
                "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")}
    work = args.work
    out = {"versions": versions, "settings": settings}

    if work == "cnn_infer":
        _, _, xte, _ = fashion_mnist(args.data_dir, train=False)
        model = keras_models(keras, work, cfg)
        out["parameters"] = int(model.count_params())
        settings["loop"] = "model.predict(x_test, batch_size=1000, verbose=0)"

        def one_pass():
            t0 = time.perf_counter()
            model.predict(xte, batch_size=cfg["batch_size"], verbose=0)
            return time.perf_counter() - t0

        res = infer_protocol(one_pass, len(xte), cfg, out)
        settings["jit_compile"] = bool(model.jit_compile)
        return res

    if work in ("cnn_train_epoch", "resnet_steps"):
        xtr, ytr, _, _ = fashion_mnist(args.data_dir)
        loss = "sparse_categorical_crossentropy"
        maxlen = None
    else:
        xtr, ytr = imdb_train(work, args.imdb_dir)
        xtr = xtr.astype(np.int32)
        loss = "binary_crossentropy"
        maxlen = xtr.shape[1]
    model = keras_models(keras, work, cfg, maxlen)
    out["parameters"] = int(model.count_params())
    lr = cfg["lr"]
    if cfg.get("cosine_total_steps"):
        lr = keras.optimizers.schedules.CosineDecay(cfg["lr"],
                                                    decay_steps=cfg["cosine_total_steps"])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr, epsilon=cfg["eps"]),
                  loss=loss)
    settings["loop"] = "model.train_on_batch(x, y) (compiled tf.function train step)"

    def step(idx):
        return model.train_on_batch(xtr[idx], ytr[idx])

    res = train_protocol(args, cfg, step, len(xtr), rng, out)
    settings["jit_compile"] = bool(model.jit_compile)
    return res


# ==========================================================================
# protocols (shared by both frameworks)
# ==========================================================================


def infer_protocol(one_pass, n, cfg, out):
    warm = [one_pass() for _ in range(cfg["warmup"])]
    times = [one_pass() for _ in range(cfg["passes"])]
    log(f"warm-up pass {[round(t, 3) for t in warm]} s, timed passes "
        f"{[round(t, 3) for t in times]} s")
    out.update(seconds=statistics.median(times), items=n, unit="pass",
               batch_size=cfg["batch_size"], warmup=cfg["warmup"], pass_seconds=times,
               warmup_seconds=sum(warm))
    return out


def train_protocol(args, cfg, step, n, rng, out):
    batch = cfg["batch_size"]
    warmup = args.warmup if args.warmup is not None else cfg["warmup"]
    if args.work == "cnn_train_epoch":
        n_timed = math.ceil(n / batch)
        if args.steps is not None:
            n_timed = min(args.steps, n_timed)
        warm_idx = batch_indices(n, batch, warmup, rng)
        perm = rng.permutation(n)  # the epoch's own shuffle, the last partial batch kept
        timed_idx = [perm[i:i + batch] for i in range(0, n, batch)][:n_timed]
        items, unit = sum(len(i) for i in timed_idx), "epoch"
    else:
        n_timed = args.steps if args.steps is not None else cfg["steps"]
        idx = batch_indices(n, batch, warmup + n_timed, rng)
        warm_idx, timed_idx = idx[:warmup], idx[warmup:]
        items, unit = n_timed, "step"

    t0 = time.perf_counter()
    for idx in warm_idx:
        step(idx)
    warm_s = time.perf_counter() - t0
    log(f"{warmup} warm-up steps: {warm_s:.3f} s")
    loss = float("nan")
    t0 = time.perf_counter()
    for idx in timed_idx:
        loss = step(idx)
    seconds = time.perf_counter() - t0
    log(f"{len(timed_idx)} timed steps ({items} {'images' if unit == 'epoch' else 'steps'}):"
        f" {seconds:.3f} s, last loss {float(loss):.4f}")
    out.update(seconds=seconds, items=items, unit=unit, batch_size=batch, warmup=warmup,
               timed_steps=len(timed_idx), warmup_seconds=warm_s, last_loss=float(loss))
    return out


# ==========================================================================


def default_data_dir() -> Path:
    for var in ("MANABI_DATA", "MANABI_DATASETS"):
        if os.environ.get(var):
            return Path(os.environ[var])
    return HERE.parent.parent / "shared" / "datasets"


def main(argv=None):
    args = parse_args(argv)
    set_thread_env(args.threads)
    args.data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    os.environ["MANABI_DATASETS"] = str(args.data_dir)
    # Libraries sometimes print to stdout; keep stdout for the one JSON line.
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    cfg = CONFIG[args.work]
    log(f"== speed {args.work} / {args.framework} / {args.threads} threads")
    body = run_torch(args, cfg) if args.framework == "torch" else run_keras(args, cfg)
    seconds, items = body.pop("seconds"), body.pop("items")
    result = {
        "framework": args.framework,
        "work": args.work,
        "seconds": seconds,
        "items": items,
        "unit": body.pop("unit"),
        "per_item_ms": 1e3 * seconds / max(items, 1),
        "threads": args.threads,
        "versions": body.pop("versions"),
        "model": MODEL_DESC[args.work],
    }
    result.update(body)
    result["steps_override"] = args.steps
    sys.stdout = real_stdout
    print(json.dumps(result, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
