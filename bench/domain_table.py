#!/usr/bin/env python3
"""Markdown table of the domain-adaptation runs (issue 9): mean and range of the target test
accuracy (and the source test accuracy) over seeds, manabi beside the PyTorch reference of
bench/dann_torch.py, for MNIST -> USPS and USPS -> MNIST.

manabi runs are read from bench/results/manabi_runs/domain_<direction>_<method>_s<seed>/
(`manabi train recipes/domain/<direction>_<method>.toml --set seed=S --out ...`) and from
copies of their metrics.json in bench/results/domain_manabi/<run>.json (committed); PyTorch
results from bench/results/dann_<direction>_<setting>torch_seed<S>.json.

    python3 bench/domain_table.py                 # the final recipes (SGD, features after dense)
    python3 bench/domain_table.py --torch-setting ""   # PyTorch's first setting (Adam, flatten)

Only the standard library is used.
"""

import argparse
import json
import re
import statistics
from pathlib import Path

from kept_runs import metrics_of

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "manabi_runs"
KEPT = HERE / "results" / "domain_manabi"
DIRECTIONS = {"mnist_usps": "MNIST → USPS", "usps_mnist": "USPS → MNIST"}
METHODS = ("source_only", "dann", "input_layers", "target_supervised")


def manabi(direction: str, method: str) -> dict:
    """Seed -> (target, source accuracy), from the run folders and from the metrics kept in
    bench/results/domain_manabi/ (the run folders win where both exist)."""
    out = {}
    for name, r in metrics_of(RUNS, KEPT, f"domain_{direction}_{method}_s*").items():
        seed = int(re.search(r"_s(\d+)$", name).group(1))
        out[seed] = (r["test_accuracy"], r.get("test_source_accuracy"))
    return out


def torch(direction: str, method: str, setting: str) -> dict:
    out = {}
    for p in (HERE / "results").glob(f"dann_{direction}_{setting}torch_seed*.json"):
        seed = int(re.search(r"seed(\d+)\.json$", p.name).group(1))
        r = json.loads(p.read_text())
        if method in r.get("test_accuracy", {}):
            out[seed] = (r["test_accuracy"][method], r["source_test_accuracy"][method])
    return out


def summary(values) -> str:
    v = [x for x in values if x is not None]
    if not v:
        return ""
    if len(v) == 1:
        return f"{v[0]:.4f} (1 seed)"
    return f"{statistics.mean(v):.4f} ({min(v):.4f}-{max(v):.4f})"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--torch-setting", default="sgd_dense_",
                   help="infix of the PyTorch result files ('' for the first setting)")
    args = p.parse_args()
    print("| direction | method | manabi target acc. | seeds | PyTorch target acc. | seeds "
          "| manabi source acc. | PyTorch source acc. |")
    print("| --- | --- | ---: | --- | ---: | --- | ---: | ---: |")
    for d, name in DIRECTIONS.items():
        for m in METHODS:
            mr, tr = manabi(d, m), torch(d, m, args.torch_setting)
            if not mr and not tr:
                continue
            print(f"| {name} | {m} | {summary(a for a, _ in mr.values())} | "
                  f"{','.join(map(str, sorted(mr)))} | {summary(a for a, _ in tr.values())} | "
                  f"{','.join(map(str, sorted(tr)))} | {summary(s for _, s in mr.values())} | "
                  f"{summary(s for _, s in tr.values())} |")
        gains = []
        so, da = manabi(d, "source_only"), manabi(d, "dann")
        for seed in sorted(set(so) & set(da)):
            gains.append(da[seed][0] - so[seed][0])
        if gains:
            print(f"\n{name}: DANN - source only per seed (manabi): "
                  + ", ".join(f"{g:+.4f}" for g in gains)
                  + f"; mean {statistics.mean(gains):+.4f}\n")


if __name__ == "__main__":
    main()
