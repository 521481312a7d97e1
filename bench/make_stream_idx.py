"""Writes an uncompressed IDX image file of N unlabelled images for streaming benchmarks:
Fashion-MNIST's training images, repeated and each shifted by up to 2 pixels (numpy only).

    python3 bench/make_stream_idx.py --data-dir ../shared/datasets --count 1000000 --out /tmp/u1m
"""
import argparse
import gzip
import struct

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    with gzip.open(f"{a.data_dir}/fashion-mnist/train-images-idx3-ubyte.gz") as f:
        raw = f.read()
    base = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    rng = np.random.default_rng(a.seed)
    chunk = 100_000
    with open(a.out, "wb") as out:
        out.write(struct.pack(">IIII", 0x803, a.count, 28, 28))
        for start in range(0, a.count, chunk):
            n = min(chunk, a.count - start)
            idx = (np.arange(start, start + n) % len(base))
            imgs = base[idx]
            dy, dx = rng.integers(-2, 3, size=2)
            out.write(np.roll(imgs, (int(dy), int(dx)), axis=(1, 2)).tobytes())
    print(f"wrote {a.count} images to {a.out}")


if __name__ == "__main__":
    main()
