#!/usr/bin/env bash
# The speed benchmark on a fresh machine, from anywhere:
#   bash bench/speed.sh [speed.py options, e.g. --repeats 3 --works bilstm_steps]
# Creates bench/.venv (bench/setup.sh) if missing, builds manabi and the bench_work example
# in release mode, exports the two IMDB data folders if missing, then runs bench/speed.py
# (which writes docs/benchmarks.md and bench/results/speed.json).
# Datasets: $MANABI_DATA (default ../shared/datasets, relative to the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${MANABI_DATA:-../shared/datasets}"
export MANABI_DATA="$DATA"

if [ ! -x bench/.venv/bin/python ]; then
    echo "== bench/.venv missing: bash bench/setup.sh" >&2
    bash bench/setup.sh
fi

echo "== cargo build --release --example bench_work && cargo build --release" >&2
cargo build --release --example bench_work
cargo build --release

export_imdb() {  # recipe, folder
    if [ ! -f "$2/train.csv" ]; then
        echo "== exporting $2 from $1" >&2
        target/release/manabi export-data "$1" --data-dir "$DATA" --out "$2"
    fi
}
export_imdb recipes/imdb_simple_rnn.toml bench/data/imdb_maxlen50
export_imdb recipes/imdb_transformer.toml bench/data/imdb_maxlen200

exec python3 bench/speed.py "$@"
