#!/usr/bin/env bash
# manabi's side of the semi-supervised experiments (issue 8):
#   bench/manabi_semi.sh 1 2 3                       # every method, 4 labels per class, seeds 1-3
#   METHODS="supervised fixmatch" LABELS=25 bench/manabi_semi.sh 1 2 3
#   METHODS=all_labels bench/manabi_semi.sh 1        # the fully supervised ceiling
#   SETTING=imdb_100 METHODS="supervised pseudo_label fixmatch" bench/manabi_semi.sh 1 2 3
#   SETTING=simclr_fmnist_40 METHODS="supervised fixmatch" bench/manabi_semi.sh 1 2 3
#   EPOCHS=80 METHODS="supervised all_labels" bench/manabi_semi.sh 1 2 3   # 8,000 iterations
#   BIN=... DEVICE=vulkan RAYON_NUM_THREADS=16 EPOCHS=80 METHODS=fixmatch bench/manabi_semi.sh 1 2 3
# EPOCHS (default: the recipe's) sets training.epochs, 100 iterations each, and adds _eN to
# the run names; DEVICE is passed as --device (a GPU needs a --features vulkan build).
# Each run trains recipes/semi/<method>_<SETTING>.toml (SETTING fmnist_40 by default) with seed = data.subset_seed = the seed
# (so manabi and bench/semi_torch.py --labelled <run>/labelled.json train on the same labels).
# Runs go to bench/results/manabi_runs/semi/ (a finished run is kept, not retrained); a
# summary of the test accuracy (mean, min-max over the seeds) is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=("$@")
[ "${#SEEDS[@]}" -eq 0 ] && SEEDS=(1 2 3)
ALL="supervised pseudo_label entropy_min mutual_information pi_model mean_teacher vat mixmatch fixmatch"
read -r -a METHOD_LIST <<< "${METHODS:-$ALL}"
SETTING="${SETTING:-fmnist_40}"
case "$SETTING" in
  fmnist_40) LABELS="${LABELS:-4}"; PREFIX="" ;;
  *_fmnist_40) LABELS="${LABELS:-4}"; PREFIX="${SETTING%%_*}_" ;;
  *) LABELS="${LABELS:-50}"; PREFIX="${SETTING%%_*}_" ;;
esac
DATA="${MANABI_DATA:-../shared/datasets}"
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}"
# BIN: a manabi binary to use as is (default: build this checkout's).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/manabi
fi
OUT=bench/results/manabi_runs/semi
# The run folders are not committed; each run's metrics are, under KEEP, so that
# bench/semi_table.py can rebuild the tables on another machine.
KEEP=bench/results/semi_manabi
mkdir -p "$OUT" "$KEEP"
keep_metrics() {
  [ -f "$1/metrics.json" ] && cp "$1/metrics.json" "$KEEP/$(basename "$1").json"
  return 0
}
EXTRA=()
SUFFIX=""
if [ -n "${EPOCHS:-}" ]; then
  EXTRA+=(--set "training.epochs=$EPOCHS")
  SUFFIX="_e$EPOCHS"
fi
[ -n "${DEVICE:-}" ] && EXTRA+=(--device "$DEVICE")
for seed in "${SEEDS[@]}"; do
  for method in "${METHOD_LIST[@]}"; do
    if [ "$method" = all_labels ]; then
      recipe=recipes/semi/supervised_fmnist_all.toml
      run="$OUT/all_labels${SUFFIX}_seed$seed"
      sets=(--set "seed=$seed")
    else
      recipe="recipes/semi/${method}_${SETTING}.toml"
      run="$OUT/${PREFIX}${method}_${LABELS}pc${SUFFIX}_seed$seed"
      sets=(--set "seed=$seed" --set "data.subset_seed=$seed" --set "data.train_per_class=$LABELS")
    fi
    if [ -f "$run/metrics.json" ]; then
      keep_metrics "$run"
      echo "[$(date +%T)] $(basename "$run"): done before"
      continue
    fi
    rm -rf "$run"
    echo "[$(date +%T)] $(basename "$run")"
    "$BIN" train "$recipe" --data-dir "$DATA" --out "$run" "${sets[@]}" "${EXTRA[@]}" > "$run.log" 2>&1 \
      || { echo "  failed: see $run.log"; continue; }
    grep -h "trained in" "$run.log" | sed 's/^/  /'
    keep_metrics "$run"
  done
done
python3 - "$OUT" <<'PY'
import json, pathlib, re, statistics, sys
runs = {}
for m in sorted(pathlib.Path(sys.argv[1]).glob("*/metrics.json")):
    name = re.sub(r"_seed\d+$", "", m.parent.name)
    runs.setdefault(name, []).append(json.loads(m.read_text()))
print(f"{'run':32} {'seeds':>5} {'test acc mean':>14} {'min-max':>15} {'train s':>8}")
for name, ms in runs.items():
    acc = [m["test_accuracy"] for m in ms]
    secs = statistics.mean(m["train_seconds"] for m in ms)
    print(f"{name:32} {len(acc):5d} {statistics.mean(acc):14.4f} {min(acc):7.4f}-{max(acc):.4f} {secs:8.0f}")
PY
