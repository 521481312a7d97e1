#!/usr/bin/env bash
# manabi's side of the graph-based experiments of issue 8 (label spreading / propagation on
# the digits, 4 labels per class): bench/manabi_graph.sh 1 2 3
# Runs go to bench/results/manabi_runs/semi/ (<recipe>_seed<N>/, with labelled.json for
# bench/graph_sklearn.py); a summary of the transductive accuracy is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=("$@")
[ "${#SEEDS[@]}" -eq 0 ] && SEEDS=(1 2 3)
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/manabi
fi
OUT=bench/results/manabi_runs/semi
mkdir -p "$OUT"
for seed in "${SEEDS[@]}"; do
  for recipe in label_spreading_digits_rbf label_spreading_digits_knn label_propagation_digits_knn; do
    run="$OUT/${recipe}_seed$seed"
    rm -rf "$run"
    "$BIN" train "recipes/semi/$recipe.toml" --out "$run" --set "data.subset_seed=$seed" > "$run.log" 2>&1
  done
done
python3 - "$OUT" <<'PY'
import json, pathlib, re, statistics, sys
runs = {}
for m in sorted(pathlib.Path(sys.argv[1]).glob("label_*_seed*/metrics.json")):
    runs.setdefault(re.sub(r"_seed\d+$", "", m.parent.name), []).append(json.loads(m.read_text()))
for name, ms in runs.items():
    acc = [m["transductive_accuracy"] for m in ms]
    print(f"{name:32} seeds {len(acc)}  transductive {statistics.mean(acc):.4f} ({min(acc):.4f}-{max(acc):.4f})")
PY
