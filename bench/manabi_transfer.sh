#!/usr/bin/env bash
# manabi's side of the transfer experiments (issue 5):
#   bench/manabi_transfer.sh fmnist 1 2 3    # Fashion-MNIST classes 0-4 -> 5-9
#   bench/manabi_transfer.sh usps 1 2 3      # MNIST -> USPS
# For each seed: pre-train the source recipe, then train every target recipe from that run with
# the same seed and labelled subset (subset_seed = seed). Runs go to
# bench/results/manabi_runs/transfer/; a summary table (mean, range, per seed) is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
EXP="${1:?usage: bench/manabi_transfer.sh fmnist|usps [SEEDS...]}"
shift
SEEDS=("$@")
[ "${#SEEDS[@]}" -eq 0 ] && SEEDS=(1 2 3)
case "$EXP" in
  fmnist) SOURCE=fmnist_pretrain_0_4; TARGETS=(fmnist_5_9_scratch fmnist_5_9_frozen fmnist_5_9_finetune fmnist_5_9_svm fmnist_5_9_knn) ;;
  usps) SOURCE=mnist_pretrain; TARGETS=(usps_source_only usps_scratch usps_head usps_input_layers usps_finetune) ;;
  *) echo "unknown experiment $EXP (fmnist or usps)" >&2; exit 2 ;;
esac
DATA="${MANABI_DATA:-../shared/datasets}"
export RAYON_NUM_THREADS=2
cargo build --release --quiet
BIN=target/release/manabi
OUT=bench/results/manabi_runs/transfer
mkdir -p "$OUT"
for seed in "${SEEDS[@]}"; do
  pre="$OUT/${SOURCE}_seed$seed"
  rm -rf "$pre"
  echo "[$(date +%T)] $SOURCE seed $seed"
  "$BIN" train "recipes/transfer/$SOURCE.toml" --data-dir "$DATA" --out "$pre" \
    --set "seed=$seed" > "$pre.log" 2>&1
  for target in "${TARGETS[@]}"; do
    run="$OUT/${target}_seed$seed"
    rm -rf "$run"
    echo "[$(date +%T)] $target seed $seed"
    sets=(--set "seed=$seed" --set "data.subset_seed=$seed")
    grep -q '^\[transfer\]' "recipes/transfer/$target.toml" \
      && sets+=(--set "transfer.init_from=\"$pre\"")
    "$BIN" train "recipes/transfer/$target.toml" --data-dir "$DATA" --out "$run" \
      "${sets[@]}" > "$run.log" 2>&1
  done
done
python3 - "$OUT" "$SOURCE" "${TARGETS[*]}" "${SEEDS[@]}" <<'PY'
import json, os, statistics, sys
out, source, targets, seeds = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
for name in [source] + targets:
    accs = [json.load(open(os.path.join(out, f"{name}_seed{s}", "metrics.json")))["test_accuracy"]
            for s in seeds]
    print(f"{name:24s} mean {statistics.mean(accs):.4f}  range {min(accs):.4f}-{max(accs):.4f}  "
          + " / ".join(f"{a:.4f}" for a in accs))
PY
