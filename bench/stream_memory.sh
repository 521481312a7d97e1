#!/usr/bin/env bash
# Peak memory of semi-supervised training with the unlabelled images streamed from disk, for
# 1x and 10x unlabelled data (issue 11: "peak memory for 1x vs 10x data within 10%").
#   MANABI=target/release/manabi bench/stream_memory.sh [SMALL] [LARGE]
# Writes bench/results/stream_memory.json. Needs ../shared/datasets (or MANABI_DATA), GNU time
# and numpy (bench/.venv), and SMALL+LARGE images x 784 bytes of free disk under $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
MANABI=${MANABI:-target/release/manabi}
DATA=${MANABI_DATA:-../shared/datasets}
SMALL=${1:-1000000}
LARGE=${2:-10000000}
PY=${PY:-bench/.venv/bin/python}
TMP=${TMPDIR:-/tmp}/manabi_stream
mkdir -p "$TMP" bench/results
STEPS=${STEPS:-100}
rows=()
for n in "$SMALL" "$LARGE"; do
  f="$TMP/unlabelled_$n-idx3-ubyte"
  [ -f "$f" ] || "$PY" bench/make_stream_idx.py --data-dir "$DATA" --count "$n" --out "$f"
  out="$TMP/run_$n"; rm -rf "$out"
  /usr/bin/time -v "$MANABI" train recipes/semi/pseudo_label_fmnist_40_stream.toml \
    --data-dir "$DATA" --out "$out" --set data.unlabelled_idx="\"$f\"" \
    --set method.steps_per_epoch="$STEPS" --set training.epochs=1 2> "$TMP/time_$n.txt" >/dev/null
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time_$n.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$TMP/time_$n.txt")
  echo "unlabelled $n: peak RSS ${rss} KiB, wall $wall"
  rows+=("{\"unlabelled\": $n, \"peak_rss_kib\": $rss, \"wall\": \"$wall\", \"steps\": $STEPS}")
done
# The same run with the 60k-image unlabelled set in memory (data.unlabelled = "rest").
out="$TMP/run_rest"; rm -rf "$out"
/usr/bin/time -v "$MANABI" train recipes/semi/pseudo_label_fmnist_40.toml --data-dir "$DATA" \
  --out "$out" --set method.steps_per_epoch="$STEPS" --set training.epochs=1 \
  2> "$TMP/time_rest.txt" >/dev/null
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time_rest.txt")
echo "in memory (59,960 rest): peak RSS ${rss} KiB"
rows+=("{\"unlabelled\": 59960, \"in_memory\": true, \"peak_rss_kib\": $rss, \"steps\": $STEPS}")
(IFS=,; echo "[${rows[*]}]") > bench/results/stream_memory.json
echo "wrote bench/results/stream_memory.json"
