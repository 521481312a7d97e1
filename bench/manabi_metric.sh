#!/usr/bin/env bash
# manabi's side of the metric-learning, few-shot and multitask experiments (issue 5):
#   bench/manabi_metric.sh 1 2 3
# Every recipe of recipes/metric/ plus the prototypical and multitask recipes of
# recipes/transfer/, each with seed N (and, for the multitask pair, labelled subset N); and
# batch-hard with 32 images per class (the configuration that collapses). Runs go to
# bench/results/manabi_runs/metric/; a summary (mean, min-max over the seeds) is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=("$@")
[ "${#SEEDS[@]}" -eq 0 ] && SEEDS=(1 2 3)
DATA="${MANABI_DATA:-../shared/datasets}"
export RAYON_NUM_THREADS=2
cargo build --release --quiet
BIN=target/release/manabi
OUT=bench/results/manabi_runs/metric
mkdir -p "$OUT"
# name | recipe | extra --set
JOBS=(
  "softmax|metric/softmax_0_4|"
  "contrastive|metric/contrastive_0_4|"
  "batch_hard|metric/triplet_batch_hard_0_4|"
  "batch_hard_32|metric/triplet_batch_hard_0_4|method.per_class=32"
  "semi_hard|metric/triplet_semi_hard_0_4|"
  "protonet|transfer/fewshot_protonet_0_4|"
  "multitask|transfer/fmnist_multitask|data.subset_seed=SEED"
  "single_task|transfer/fmnist_single_task|data.subset_seed=SEED"
)
for seed in "${SEEDS[@]}"; do
  for job in "${JOBS[@]}"; do
    IFS='|' read -r name recipe extra <<< "$job"
    run="$OUT/${name}_seed$seed"
    rm -rf "$run"
    sets=(--set "seed=$seed")
    [ -n "$extra" ] && sets+=(--set "${extra//SEED/$seed}")
    echo "[$(date +%T)] $name seed $seed"
    start=$(date +%s.%N)
    "$BIN" train "recipes/$recipe.toml" --data-dir "$DATA" --out "$run" "${sets[@]}" \
      > "$run.log" 2>&1
    python3 -c "import sys; print(f'  {float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" \
      "$start" "$(date +%s.%N)"
  done
done
python3 - "$OUT" "${SEEDS[@]}" <<'PY'
import json, os, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
names = sorted({d.rsplit("_seed", 1)[0] for d in os.listdir(out) if "_seed" in d and not d.endswith(".log")})
for name in names:
    runs = [json.load(open(os.path.join(out, f"{name}_seed{s}", "metrics.json"))) for s in seeds
            if os.path.exists(os.path.join(out, f"{name}_seed{s}", "metrics.json"))]
    print(f"## {name} ({len(runs)} seeds)")
    for key in runs[0]:
        vals = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
        if vals and key.startswith("test_") or key == "train_seconds":
            print(f"  {key:36s} mean {statistics.mean(vals):.4f}  range {min(vals):.4f}-{max(vals):.4f}")
PY
