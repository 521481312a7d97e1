#!/usr/bin/env bash
# Do manabi and PyTorch learn the masked-piece objective alike? (issue 10). Both train the
# network of recipes/text/imdb_mlm.toml on the same 24,000 IMDB training reviews (labels
# unused; the unsup archive left out so that PyTorch reads exactly manabi's ids), with the
# recipe's AdamW 2e-3, clipping, warm-up and cosine schedule over EPOCHS x STEPS steps of 64
# reviews, and print the masked-piece accuracy on the 1,000 held-out reviews after every
# epoch. Needs the pre-training run runs/imdb_mlm (its vocabulary) and bench/.venv.
#   bench/mlm_curve.sh                 # 4 epochs of 100 steps, one thread each, side by side
# Results: runs/mlm_curve_manabi/history.csv and bench/results/mlm_torch_curve.json.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${EPOCHS:-4}"
STEPS="${STEPS:-100}"
PY="${PY:-bench/.venv/bin/python}"
BIN="${BIN:-target/release/manabi}"
export MANABI_DATA="${MANABI_DATA:-../shared/datasets}"
recipe="$(mktemp --suffix=.toml)"
trap 'rm -f "$recipe"' EXIT
sed -e '/^unlabelled = /d' -e 's/^vocab_size = 8000/vocab = "runs\/imdb_mlm"/' \
  recipes/text/imdb_mlm.toml > "$recipe"
ids=bench/data/imdb_mlm_ids
[ -f "$ids/train.csv" ] || "$BIN" export-data "$recipe" --out "$ids"
rm -rf runs/mlm_curve_manabi
RAYON_NUM_THREADS=1 "$BIN" train "$recipe" --out runs/mlm_curve_manabi \
  --set "training.epochs=$EPOCHS" --set "method.steps_per_epoch=$STEPS" \
  --set method.eval_texts=100 > runs/mlm_curve_manabi.log 2>&1 &
manabi_pid=$!
OMP_NUM_THREADS=1 "$PY" bench/mlm_torch.py --threads 1 --data "$ids" --epochs "$EPOCHS" \
  --steps-per-epoch "$STEPS" --out bench/results/mlm_torch_curve.json
wait "$manabi_pid"
echo "manabi (runs/mlm_curve_manabi/history.csv):"
cat runs/mlm_curve_manabi/history.csv
