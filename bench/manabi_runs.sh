#!/usr/bin/env bash
# Runs manabi on the same works as bench/reference.py and stores one JSON per run in
# bench/results/ (framework "manabi"), so bench/summarize.py lists them beside the peers.
#   bench/manabi_runs.sh digits 1 2 3      # work filter, then seeds
#   bench/manabi_runs.sh fashion_cnn 1
set -euo pipefail
cd "$(dirname "$0")/.."
FILTER="${1:-}"
shift || true
SEEDS=("${@:-1}")
DATA="${MANABI_DATA:-../shared/datasets}"
export RAYON_NUM_THREADS=2
cargo build --release --quiet
BIN=target/release/manabi
OUT=bench/results/manabi_runs
mkdir -p "$OUT"

declare -A RECIPES=(
  [digits_mlp]="digits_mlp"
  [diabetes]="diabetes_regression"
  [fashion_cnn]="fashion_mnist_cnn"
  [resnet]="fashion_mnist_resnet"
  [optimizers]="optimizers_sgd optimizers_momentum optimizers_adagrad optimizers_adam"
  [imdb_simple_rnn]="imdb_simple_rnn"
  [imdb_bilstm]="imdb_bilstm"
)

for work in digits_mlp diabetes optimizers fashion_cnn resnet imdb_simple_rnn imdb_bilstm; do
  if [ -n "$FILTER" ] && [[ "$work" != *"$FILTER"* ]]; then continue; fi
  for seed in "${SEEDS[@]}"; do
    dirs=()
    for r in ${RECIPES[$work]}; do
      run="$OUT/${r}_seed${seed}"
      rm -rf "$run"
      echo "[$(date +%T)] manabi $r seed $seed"
      "$BIN" train "recipes/$r.toml" --data-dir "$DATA" --out "$run" --set "seed=$seed" \
        > "$run.log" 2>&1
      dirs+=("$run")
    done
    python3 - "$work" "$seed" "bench/results/${work}_manabi_seed${seed}.json" "${dirs[@]}" <<'PY'
import json, os, subprocess, sys
work, seed, out, *dirs = sys.argv[1:]
version = subprocess.run(["target/release/manabi", "--version"], capture_output=True,
                         text=True).stdout.split()[-1]
res = {"work": work, "framework": "manabi", "seed": int(seed), "threads": 2,
       "versions": {"manabi": version, "burn": "0.22.1 (Flex)"},
       "loadavg_1min_start_end": None}
metrics = [json.load(open(os.path.join(d, "metrics.json"))) for d in dirs]
if work == "optimizers":
    names = ["sgd", "sgd_momentum", "adagrad", "adam"]
    res["test_accuracy"] = {n: m["test_accuracy"] for n, m in zip(names, metrics)}
    res["train_seconds"] = sum(m["train_seconds"] for m in metrics)
else:
    m = metrics[0]
    res.update({k: v for k, v in m.items() if k.startswith("test_") or k == "baseline_mean_rmse"})
    res["train_seconds"] = m["train_seconds"]
    res["epochs"] = m["epochs"]
json.dump(res, open(out, "w"), indent=1)
print("wrote", out)
PY
  done
done
