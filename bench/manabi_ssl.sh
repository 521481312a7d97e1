#!/usr/bin/env bash
# manabi's side of the self-supervised experiments (issue 7):
#   bench/manabi_ssl.sh 1 2 3            # every pre-training and probe, seeds 1-3
#   JOBS="rotation masked" bench/manabi_ssl.sh 1
#   JOBS="fewlabels" bench/manabi_ssl.sh 1 2 3   # after simclr: fine-tune vs scratch on 1% / 10%
# For each seed and each pre-training recipe of recipes/ssl/ (simclr, rotation, masked): the
# pre-training run, then the linear probe and 1-NN of its conv encoder (800 features); plus the
# random-init encoder's probes as baseline. Runs go to bench/results/manabi_runs/ssl/; a summary
# (mean, min-max over the seeds) is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=("$@")
[ "${#SEEDS[@]}" -eq 0 ] && SEEDS=(1 2 3)
read -r -a PRETRAIN <<< "${JOBS:-simclr rotation masked random}"
DATA="${MANABI_DATA:-../shared/datasets}"
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-2}"
# BIN: a manabi binary to use as is (default: build this checkout's).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/manabi
fi
OUT=bench/results/manabi_runs/ssl
mkdir -p "$OUT"
train() { # run-name recipe [--set ...]
  local run="$OUT/$1" recipe=$2
  shift 2
  rm -rf "$run"
  echo "[$(date +%T)] $(basename "$run")"
  "$BIN" train "recipes/ssl/$recipe.toml" --data-dir "$DATA" --out "$run" "$@" > "$run.log" 2>&1
  grep -h "trained in" "$run.log" | sed 's/^/  /'
}
for seed in "${SEEDS[@]}"; do
  for job in "${PRETRAIN[@]}"; do
    if [ "$job" = fewlabels ]; then
      init="transfer.init_from=\"$OUT/simclr_seed$seed\""
      for pct in 1 10; do
        subset=(--set "seed=$seed" --set "data.subset_seed=$seed")
        train "finetune_${pct}pct_seed$seed" "finetune_${pct}pct" "${subset[@]}" --set "$init"
        train "scratch_${pct}pct_seed$seed" "scratch_${pct}pct" "${subset[@]}"
      done
      continue
    fi
    if [ "$job" = random ]; then
      train "random_linear_conv_seed$seed" random_linear_probe_conv --set "seed=$seed"
      train "random_knn_conv_seed$seed" random_knn_probe_conv --set "seed=$seed"
      continue
    fi
    src="$OUT/${job}_seed$seed"
    train "${job}_seed$seed" "${job}_fmnist" --set "seed=$seed"
    init="transfer.init_from=\"$src\""
    train "${job}_linear_conv_seed$seed" linear_probe_conv --set "seed=$seed" --set "$init"
    train "${job}_knn_conv_seed$seed" knn_probe_conv --set "seed=$seed" --set "$init"
  done
done
python3 - "$OUT" "${SEEDS[@]}" <<'PY'
import json, os, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
names = sorted({d.rsplit("_seed", 1)[0] for d in os.listdir(out) if "_seed" in d and not d.endswith(".log")})
for name in names:
    runs = [json.load(open(os.path.join(out, f"{name}_seed{s}", "metrics.json"))) for s in seeds
            if os.path.exists(os.path.join(out, f"{name}_seed{s}", "metrics.json"))]
    if not runs:
        continue
    print(f"## {name} ({len(runs)} seeds)")
    for key in ("test_accuracy", "test_seen_knn_accuracy", "train_seconds"):
        vals = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
        if vals:
            print(f"  {key:28s} mean {statistics.mean(vals):.4f}  range {min(vals):.4f}-{max(vals):.4f}")
PY
