#!/usr/bin/env python3
"""Keras reference run of the seed's IMDB sentiment models on manabi's exported data.

    bench/.venv/bin/python bench/imdb_keras.py --model simple_rnn \
        --data bench/data/imdb_maxlen50 --seed 1 --threads 2 \
        --out bench/results/imdb_simple_rnn_keras_seed1.json

DIR holds the CSV files written by ``manabi export-data``: ``train.csv``,
``val.csv`` (optional) and ``test.csv``, each with the header
``label,x0,...,x49`` and one review per line (label 0/1, then 50 token ids:
0 = padding, 1 = start, 2 = out-of-vocabulary, ids < 10000; the semantics of
``imdb.load_data(num_words=10000)`` + ``pad_sequences(maxlen=50)``).

The full training set is train.csv followed by val.csv (manabi's validation
split is the last 20% of it, which is exactly what Keras' validation_split=0.2
holds out). The models, compile and fit are the seed lecture's Keras code:

    model1 = Sequential([Embedding(10000, 128), SimpleRNN(64), Dense(1, activation='sigmoid')])
    model2 = Sequential([Embedding(10000, 128), Bidirectional(LSTM(64)), Dense(1, activation='sigmoid')])
    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['acc'])
    model.fit(X_train, y_train, epochs=2, batch_size=32, validation_split=0.2)

then model.evaluate on all of test.csv. train_seconds is the wall time of
model.fit alone (including its per-epoch validation pass).

--epochs-override and --limit exist only for smoke tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reference import keras_setup, log, set_thread_env  # noqa: E402  (stdlib-only import)

MODELS = ("simple_rnn", "bilstm")
VOCAB = 10000
EMBED_DIM = 128
UNITS = 64
EPOCHS = 2
BATCH_SIZE = 32
VALIDATION_SPLIT = 0.2
EVAL_BATCH = 1000  # only affects speed of model.evaluate, not its result

MODEL_DESC = {
    "simple_rnn": "Sequential([Embedding(10000, 128), SimpleRNN(64), Dense(1, activation='sigmoid')])",
    "bilstm": "Sequential([Embedding(10000, 128), Bidirectional(LSTM(64)), "
              "Dense(1, activation='sigmoid')])",
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=MODELS, required=True)
    p.add_argument("--data", type=str, required=True,
                   help="folder with train.csv, val.csv, test.csv from `manabi export-data`")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=str, default=None,
                   help="JSON output (default bench/results/imdb_<model>_keras_seed<N>.json)")
    p.add_argument("--keras-backend", choices=("tensorflow", "torch", "jax"),
                   default="tensorflow", help="Keras backend (default tensorflow)")
    p.add_argument("--epochs-override", type=int, default=None,
                   help="override the 2 epochs (for smoke tests only)")
    p.add_argument("--limit", type=int, default=None,
                   help="use only the first N rows of the full training set and of "
                        "test.csv (for smoke tests only)")
    return p.parse_args(argv)


# ==========================================================================
# data
# ==========================================================================


def load_csv(path: Path):
    """(x int32 (N, maxlen), y float32 (N,), header) from one exported CSV file."""
    import numpy as np

    with open(path) as f:
        header = f.readline().strip().split(",")
    if header[0] != "label" or any(h != f"x{j}" for j, h in enumerate(header[1:])):
        raise ValueError(f"{path}: unexpected header {header[:3]}...{header[-1:]}")
    raw = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int32, ndmin=2)
    if raw.shape[1] != len(header):
        raise ValueError(f"{path}: {raw.shape[1]} columns, header has {len(header)}")
    x, y = raw[:, 1:], raw[:, 0]
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{path}: labels other than 0/1")
    if x.min() < 0 or x.max() >= VOCAB:
        raise ValueError(f"{path}: token ids outside 0..{VOCAB - 1} "
                         f"(min {x.min()}, max {x.max()})")
    return np.ascontiguousarray(x), y.astype(np.float32), header


def load_data(data_dir: Path, limit=None):
    import numpy as np

    x_tr, y_tr, _ = load_csv(data_dir / "train.csv")
    n_train_csv = len(x_tr)
    n_val_csv = 0
    val_path = data_dir / "val.csv"
    if val_path.exists():
        x_v, y_v, _ = load_csv(val_path)
        n_val_csv = len(x_v)
        x_tr = np.concatenate([x_tr, x_v])
        y_tr = np.concatenate([y_tr, y_v])
    x_te, y_te, _ = load_csv(data_dir / "test.csv")
    if x_te.shape[1] != x_tr.shape[1]:
        raise ValueError(f"test.csv has {x_te.shape[1]} tokens per row, train "
                         f"{x_tr.shape[1]}")
    if limit:
        x_tr, y_tr = x_tr[:limit], y_tr[:limit]
        x_te, y_te = x_te[:limit], y_te[:limit]
    return x_tr, y_tr, x_te, y_te, n_train_csv, n_val_csv


# ==========================================================================
# model
# ==========================================================================


def build_model(keras, name: str):
    """Exactly the seed's models (no Input layer: built on the first batch)."""
    from keras.layers import LSTM, Bidirectional, Dense, Embedding, SimpleRNN
    from keras.models import Sequential

    if name == "simple_rnn":
        return Sequential([Embedding(VOCAB, EMBED_DIM), SimpleRNN(UNITS),
                           Dense(1, activation="sigmoid")])
    if name == "bilstm":
        return Sequential([Embedding(VOCAB, EMBED_DIM), Bidirectional(LSTM(UNITS)),
                           Dense(1, activation="sigmoid")])
    raise ValueError(name)


def run(args, epochs: int):
    import numpy as np

    keras, versions, settings = keras_setup(args)
    settings.update({
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "shuffle": True,
        "eval_batch_size": EVAL_BATCH,
        "dtype": "float32",
    })
    data_dir = Path(args.data)
    t_load = time.perf_counter()
    x_tr, y_tr, x_te, y_te, n_train_csv, n_val_csv = load_data(data_dir, args.limit)
    load_seconds = time.perf_counter() - t_load
    n = len(x_tr)
    split = int(n * (1.0 - VALIDATION_SPLIT))  # Keras: the last rows, before shuffling
    n_val = n - split
    log(f"data: {n} training rows ({n_train_csv} train.csv + {n_val_csv} val.csv"
        f"{', limited' if args.limit else ''}), Keras validation_split holds out the last "
        f"{n_val}; {len(x_te)} test rows; maxlen {x_tr.shape[1]}; {load_seconds:.1f} s to load")

    model = build_model(keras, args.model)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])

    per_epoch = []

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            rec = {"epoch": epoch + 1}
            rec.update({k: float(v) for k, v in (logs or {}).items()})
            rec["seconds"] = time.perf_counter() - self.t0
            per_epoch.append(rec)
            log(f"epoch {epoch + 1}/{epochs} " + " ".join(
                f"{k}={v:.4f}" for k, v in rec.items() if k != "epoch"))

    t0 = time.perf_counter()
    model.fit(x_tr, y_tr, epochs=epochs, batch_size=BATCH_SIZE,
              validation_split=VALIDATION_SPLIT, verbose=0, callbacks=[EpochLog()])
    train_seconds = time.perf_counter() - t0

    t_eval = time.perf_counter()
    test_loss, test_acc = model.evaluate(x_te, y_te, batch_size=EVAL_BATCH, verbose=0)
    eval_seconds = time.perf_counter() - t_eval
    settings["jit_compile"] = bool(model.jit_compile)

    return {
        "versions": versions,
        "settings": settings,
        "test_accuracy": float(test_acc),
        "test_loss": float(test_loss),
        "train_seconds": train_seconds,
        "seconds_per_epoch": [r["seconds"] for r in per_epoch],
        "mean_seconds_per_epoch": train_seconds / max(epochs, 1),
        "eval_seconds": eval_seconds,
        "load_seconds": load_seconds,
        "train_rows": split,
        "val_rows": n_val,
        "test_rows": len(x_te),
        "train_csv_rows": n_train_csv,
        "val_csv_rows": n_val_csv,
        # True when Keras' validation rows are exactly manabi's val.csv rows.
        "val_split_matches_val_csv": (not args.limit) and n_val == n_val_csv,
        "maxlen": int(x_tr.shape[1]),
        "train_label_mean": float(np.mean(y_tr)),
        "test_label_mean": float(np.mean(y_te)),
        "parameters": int(model.count_params()),
        "per_epoch": per_epoch,
    }


def main(argv=None):
    args = parse_args(argv)
    set_thread_env(args.threads)
    import common

    epochs = args.epochs_override if args.epochs_override is not None else EPOCHS
    load_start = os.getloadavg()
    out = Path(args.out) if args.out else (
        HERE / "results" / f"imdb_{args.model}_keras_seed{args.seed}.json")
    log(f"== imdb_{args.model} / keras / seed {args.seed} / {args.threads} threads")
    t0 = time.perf_counter()
    body = run(args, epochs)
    result = {
        "work": f"imdb_{args.model}",
        "framework": "keras",
        "versions": body.pop("versions"),
        "seed": args.seed,
        "threads": args.threads,
        "epochs": epochs,
        "batch_size": BATCH_SIZE,
        "validation_split": VALIDATION_SPLIT,
        "optimizer": {"name": "adam", "lr": 1e-3, "keras_string": "adam"},
        "loss": "binary_crossentropy",
        "model": MODEL_DESC[args.model],
        "data": str(Path(args.data)),
    }
    for key in ("test_accuracy", "test_loss", "train_seconds"):
        result[key] = body.pop(key)
    result.update(body)
    if args.limit:
        result["limit"] = args.limit
    result["total_seconds"] = time.perf_counter() - t0
    common.write_result(result, out, load_start, __file__, argv)
    summary = {k: result[k] for k in ("test_accuracy", "test_loss", "train_seconds")}
    log(f"wrote {out}: {json.dumps(summary)}")


if __name__ == "__main__":
    main()
