#!/usr/bin/env python3
"""Markdown tables of the semi-supervised runs (issue 8): mean and range of the test accuracy
over seeds for each method, manabi (bench/manabi_semi.sh runs) beside PyTorch on the same labels
(bench/torch_semi_same.sh), the gain over supervised-only and the share of the gap to the
fully supervised ceiling that each method closes.

    python3 bench/semi_table.py                # 4 and 25 labels per class, Fashion-MNIST
    python3 bench/semi_table.py --setting imdb  # IMDB, 50 per class

Only the standard library is used.
"""

import argparse
import json
import re
import statistics
from pathlib import Path

from kept_runs import metrics_of

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "manabi_runs" / "semi"
KEPT = HERE / "results" / "semi_manabi"
METHODS = ("supervised", "pseudo_label", "self_training", "entropy_min", "mutual_information",
           "pi_model", "mean_teacher", "vat", "mixmatch", "fixmatch")


def manabi(prefix: str, method: str, per_class: int) -> dict:
    out = {}
    for name, r in metrics_of(RUNS, KEPT, f"{prefix}{method}_{per_class}pc_seed*").items():
        seed = int(re.search(r"seed(\d+)$", name).group(1))
        out[seed] = (r["test_accuracy"], r.get("train_seconds"))
    return out


def torch(method: str, per_class: int) -> dict:
    out = {}
    pat = f"semi_{method}_torch_{per_class * 10}lab_seed*_manabilabels.json"
    for p in (HERE / "results").glob(pat):
        seed = int(re.search(r"seed(\d+)_manabilabels", p.name).group(1))
        r = json.loads(p.read_text())
        out[seed] = (r["test_accuracy"], r.get("train_seconds"))
    return out


def ceiling() -> dict:
    out = {}
    for name, r in metrics_of(RUNS, KEPT, "all_labels_seed*").items():
        seed = int(re.search(r"seed(\d+)$", name).group(1))
        out[seed] = r["test_accuracy"]
    return out


def summary(values) -> str:
    v = list(values)
    if not v:
        return ""
    if len(v) == 1:
        return f"{v[0]:.4f} (1 seed)"
    return f"{statistics.mean(v):.4f} ({min(v):.4f}-{max(v):.4f})"


def table(prefix: str, per_class: int, top: float | None):
    base = manabi(prefix, "supervised", per_class)
    base_mean = statistics.mean(a for a, _ in base.values()) if base else None
    print(f"\n#### {per_class} labels per class\n")
    print("| method | manabi | PyTorch, same labels | gain over supervised | share of the gap "
          "closed | seeds | s per run |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for method in METHODS:
        runs = manabi(prefix, method, per_class)
        if not runs:
            continue
        accs = [a for a, _ in runs.values()]
        ref = torch(method, per_class) if not prefix else {}
        gain = share = ""
        if base_mean is not None and method != "supervised":
            # The gain per seed against the same seed's supervised run, then averaged.
            gains = [runs[s][0] - base[s][0] for s in runs if s in base]
            if gains:
                g = statistics.mean(gains)
                gain = f"{g * 100:+.1f} ({min(gains) * 100:+.1f} to {max(gains) * 100:+.1f})"
                if top is not None:
                    share = f"{g / (top - base_mean) * 100:.0f}%"
        secs = [s for _, s in runs.values() if s]
        secs_cell = f"{statistics.mean(secs):.0f}" if secs else ""
        print(f"| {method} | {summary(accs)} | {summary(a for a, _ in ref.values())} | {gain} "
              f"| {share} | {','.join(map(str, sorted(runs)))} | {secs_cell} |")
    if top is not None and not prefix:
        print(f"\nFully supervised ceiling (all 60,000 labels): {top:.4f}.")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--setting", choices=("fmnist", "imdb", "simclr"), default="fmnist")
    args = p.parse_args()
    if args.setting == "imdb":
        table("imdb_", 50, None)
        return
    top = ceiling()
    top_mean = statistics.mean(top.values()) if top else None
    if args.setting == "simclr":
        table("simclr_", 4, top_mean)
        return
    for per_class in (4, 25):
        table("", per_class, top_mean)


if __name__ == "__main__":
    main()
