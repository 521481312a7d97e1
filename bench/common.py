"""Dataset readers and the train/test splits manabi uses.

Only the standard library and numpy are used here, so this module can be
imported by either reference framework (PyTorch or Keras).

Data lives in ``$MANABI_DATASETS`` (default: ``/work/shared/datasets``, or
``../shared/datasets`` next to the repository if that exists).

Splits (identical to manabi's):

* Fashion-MNIST / MNIST: the official 60,000 train / 10,000 test files.
* sklearn digits (1797 rows): test = every fifth row (0-based rows 4, 9, 14, ...),
  359 rows; train = the other 1438 rows; both in file order.
* sklearn diabetes (442 rows): the same rule, 354 train / 88 test.
"""

from __future__ import annotations

import gzip
import os
import platform
import struct
from pathlib import Path

import numpy as np

DIGITS_TRAIN = 1438
DIGITS_TEST = 359
DIABETES_TRAIN = 354
DIABETES_TEST = 88


def holdout_mask(n: int) -> np.ndarray:
    """True for the test rows: every fifth row, as manabi's holdout split."""
    return np.arange(n) % 5 == 4


def datasets_dir() -> Path:
    env = os.environ.get("MANABI_DATASETS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for cand in (
        here.parent / "shared" / "datasets",
        here.parent.parent / "shared" / "datasets",
        Path("/work/shared/datasets"),
    ):
        if cand.is_dir():
            return cand
    raise FileNotFoundError("datasets folder not found; set MANABI_DATASETS")


# --------------------------------------------------------------------------
# IDX (MNIST-style) files
# --------------------------------------------------------------------------

_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a (gzip-compressed or raw) IDX file into a numpy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (magic {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[dtype_code])
    count = int(np.prod(dims))
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=4 + 4 * ndim)
    return arr.reshape(dims).astype(dtype.newbyteorder("="), copy=True)


def load_idx_set(name: str):
    """Return (x_train, y_train, x_test, y_test) as uint8 arrays.

    ``name`` is a folder under the datasets dir: ``fashion-mnist``, ``mnist``
    or ``usps``. Images have shape (N, H, W), labels (N,).
    """
    d = datasets_dir() / name
    x_train = read_idx(d / "train-images-idx3-ubyte.gz")
    y_train = read_idx(d / "train-labels-idx1-ubyte.gz")
    x_test = read_idx(d / "t10k-images-idx3-ubyte.gz")
    y_test = read_idx(d / "t10k-labels-idx1-ubyte.gz")
    assert len(x_train) == len(y_train) and len(x_test) == len(y_test)
    return x_train, y_train, x_test, y_test


def load_fashion_mnist():
    return load_idx_set("fashion-mnist")


def load_mnist():
    return load_idx_set("mnist")


# --------------------------------------------------------------------------
# sklearn digits and diabetes
# --------------------------------------------------------------------------


def load_digits_all():
    """All 1797 rows: X float64 (1797, 64) in 0..16, y int64 (1797,)."""
    path = datasets_dir() / "sklearn-digits" / "digits.csv.gz"
    with gzip.open(path, "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float64)
    assert raw.shape == (1797, 65), raw.shape
    return raw[:, :64], raw[:, 64].astype(np.int64)


def load_digits():
    """(x_train, y_train, x_test, y_test): every fifth row is a test row."""
    x, y = load_digits_all()
    t = holdout_mask(len(x))
    assert t.sum() == DIGITS_TEST
    return x[~t], y[~t], x[t], y[t]


def load_diabetes_all():
    """All 442 rows: X float64 (442, 10) raw (not standardised), y (442,)."""
    d = datasets_dir() / "sklearn-diabetes"
    with gzip.open(d / "diabetes_data_raw.csv.gz", "rt") as f:
        x = np.loadtxt(f, dtype=np.float64)
    with gzip.open(d / "diabetes_target.csv.gz", "rt") as f:
        y = np.loadtxt(f, dtype=np.float64)
    assert x.shape == (442, 10) and y.shape == (442,), (x.shape, y.shape)
    return x, y


def load_diabetes():
    """(x_train, y_train, x_test, y_test): every fifth row is a test row."""
    x, y = load_diabetes_all()
    t = holdout_mask(len(x))
    assert t.sum() == DIABETES_TEST
    return x[~t], y[~t], x[t], y[t]


def standardise(x_train: np.ndarray, x_test: np.ndarray):
    """Standardise both with the training mean / population std (ddof=0)."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    return (x_train - mean) / std, (x_test - mean) / std


def keras_validation_split(x: np.ndarray, y: np.ndarray, fraction: float):
    """Keras' ``validation_split``: the *last* ``fraction`` of the rows, taken
    before any shuffling, are held out. Keras computes the split index as
    ``int(n * (1 - fraction))``."""
    split = int(len(x) * (1.0 - fraction))
    return (x[:split], y[:split]), (x[split:], y[split:])


# --------------------------------------------------------------------------
# misc
# --------------------------------------------------------------------------


def machine_info() -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def seed_torch(torch, threads: int, seed: int) -> None:
    """Thread counts (intra-op `threads`, inter-op 1) and every seed of a PyTorch run."""
    import random

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process
        pass
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def write_result(result: dict, out: Path, load_start, script: str, argv) -> None:
    """Adds how busy the machine was, what it is and the command line, then writes `result`
    as JSON to `out`."""
    import json
    import shlex
    import sys

    # Other jobs share this machine; the 1-minute load average tells how busy it was.
    result["loadavg_1min_start_end"] = [load_start[0], os.getloadavg()[0]]
    result["machine"] = machine_info()
    result["command"] = "python " + " ".join(
        shlex.quote(a) for a in [os.path.relpath(script)] + (argv or sys.argv[1:]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
