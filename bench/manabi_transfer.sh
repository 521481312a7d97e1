#!/usr/bin/env bash
# manabi's side of the transfer experiments (issue 5), seeds given as arguments (default 1 2 3):
#   bench/manabi_transfer.sh 1 2 3
# For each seed: pre-train recipes/transfer/fmnist_pretrain_0_4.toml, then train the
# fmnist_5_9_* recipes from that run with the same seed and labelled subset (subset_seed = seed).
# Runs go to bench/results/manabi_runs/transfer/; a summary table is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=("${@:-1 2 3}")
[ "$#" -eq 0 ] && SEEDS=(1 2 3)
DATA="${MANABI_DATA:-../shared/datasets}"
export RAYON_NUM_THREADS=2
cargo build --release --quiet
BIN=target/release/manabi
OUT=bench/results/manabi_runs/transfer
mkdir -p "$OUT"
for seed in "${SEEDS[@]}"; do
  pre="$OUT/fmnist_pretrain_0_4_seed$seed"
  rm -rf "$pre"
  echo "[$(date +%T)] pretrain seed $seed"
  "$BIN" train recipes/transfer/fmnist_pretrain_0_4.toml --data-dir "$DATA" --out "$pre" \
    --set "seed=$seed" > "$pre.log" 2>&1
  for method in scratch frozen finetune svm knn; do
    run="$OUT/fmnist_5_9_${method}_seed$seed"
    rm -rf "$run"
    echo "[$(date +%T)] $method seed $seed"
    sets=(--set "seed=$seed" --set "data.subset_seed=$seed")
    [ "$method" != scratch ] && sets+=(--set "transfer.init_from=\"$pre\"")
    "$BIN" train "recipes/transfer/fmnist_5_9_$method.toml" --data-dir "$DATA" --out "$run" \
      "${sets[@]}" > "$run.log" 2>&1
  done
done
python3 - "$OUT" "${SEEDS[@]}" <<'PY'
import json, os, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
rows = [("pre-trained, classes 0-4 test", "fmnist_pretrain_0_4")] + [
    (m, f"fmnist_5_9_{m}") for m in ("scratch", "frozen", "finetune", "svm", "knn")]
for label, name in rows:
    accs = [json.load(open(os.path.join(out, f"{name}_seed{s}", "metrics.json")))["test_accuracy"]
            for s in seeds]
    print(f"{label:32s} mean {statistics.mean(accs):.4f}  range {min(accs):.4f}-{max(accs):.4f}  "
          + " / ".join(f"{a:.4f}" for a in accs))
PY
