#!/usr/bin/env python3
"""Print a Markdown table of the reference results in bench/results/*.json.

    python3 bench/summarize.py [results_dir]

Only the standard library is used, so any python3 can run it.
"""

import json
import sys
from pathlib import Path


def versions(v: dict) -> str:
    order = ("manabi", "burn", "torch", "tensorflow", "keras", "numpy")
    return ", ".join(f"{k} {v[k]}" for k in order if k in v)


def fmt_metric(r: dict) -> str:
    if "test_rmse" in r:
        return (f"RMSE {r['test_rmse']:.2f}, R² {r['test_r2']:.3f} "
                f"(mean-predictor RMSE {r['baseline_mean_rmse']:.2f})")
    acc = r.get("test_accuracy")
    if isinstance(acc, dict):
        return ", ".join(f"{k} {v:.4f}" for k, v in acc.items() if isinstance(v, (int, float)))
    if not isinstance(acc, (int, float)):
        return ""
    loss = r.get("test_loss")
    return f"acc {acc:.4f}" + (f" (loss {loss:.4f})" if isinstance(loss, (int, float)) else "")


def fmt_seconds(r: dict) -> str:
    for key in ("train_seconds", "wall_seconds"):
        if isinstance(r.get(key), (int, float)):
            return f"{r[key]:.1f}"
    return ""


def main():
    d = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "results"
    rows = []
    for p in sorted(d.glob("*.json")):
        r = json.loads(p.read_text())
        if not isinstance(r, dict) or "framework" not in r:
            continue  # not a reference result (e.g. a run's side file)
        backend = (r.get("settings") or {}).get("keras_backend")
        fw = r["framework"] + (f" ({backend})" if backend else "")
        load = r.get("loadavg_1min_start_end")
        rows.append((r.get("work", ""), r.get("seed", ""), fw, versions(r.get("versions", {})),
                     fmt_metric(r), fmt_seconds(r), r.get("threads", ""),
                     f"{load[0]:.1f}→{load[1]:.1f}" if load else "", p.name))
    print("| work | seed | framework | versions | test metric | train s | threads "
          "| load avg | file |")
    print("| --- | ---: | --- | --- | --- | ---: | ---: | --- | --- |")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()
