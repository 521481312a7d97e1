#!/usr/bin/env bash
# Runs the reference set one job at a time (2 threads each), logging to
# bench/results/<work>_<framework>_seed<N>.log and writing the JSON next to it.
#   bench/run_all.sh                 # every job below
#   bench/run_all.sh resnet          # only jobs whose work name contains "resnet"
#   SEED=2 bench/run_all.sh digits   # another seed
set -uo pipefail
cd "$(dirname "$0")/.."
PY=bench/.venv/bin/python
SEED="${SEED:-1}"
FILTER="${1:-}"
JOBS=(
  "digits_mlp torch" "digits_mlp keras"
  "diabetes torch" "diabetes keras"
  "optimizers torch"
  "fashion_cnn torch" "fashion_cnn keras"
  "resnet torch"
)
for job in "${JOBS[@]}"; do
  read -r work fw <<< "$job"
  if [ -n "$FILTER" ] && [[ "$work" != *"$FILTER"* ]]; then continue; fi
  base="bench/results/${work}_${fw}_seed${SEED}"
  echo "[$(date +%T)] start $work $fw"
  $PY bench/reference.py --framework "$fw" --work "$work" --seed "$SEED" \
      --threads 2 --out "$base.json" > "$base.log" 2>&1
  rc=$?
  echo "[$(date +%T)] done  $work $fw rc=$rc $(tail -1 "$base.log")"
done
