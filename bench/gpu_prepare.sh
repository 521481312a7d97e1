#!/usr/bin/env bash
# Prepares the GPU checks for a lent GPU machine that has no Rust toolchain (issue 11). Here:
#   bash bench/gpu_prepare.sh
# builds the vulkan `manabi`, `bench_work` and GPU test binaries (release), strips and
# xz-compresses them into .gpb/ (manabi, bench_work: about 51 MB) and .gpt/ (the test: about
# 21 MB), and copies the data the benchmarks read into .gpd/ (Fashion-MNIST and the exported
# IMDB token ids: about 31 MB). The folders are git-ignored through .git/info/exclude. The
# device tool carries at most 64 MiB a call, so they travel in two calls while the machine
# stays held (bench/gpu_bench.sh keeps what it unpacked in /root/manabi_gpu):
#   carry .gl .gpd .gpt:  bash bench/gpu_bench.sh test && bash bench/gpu_bench.sh peers
#   carry .gl .gpb:       bash bench/gpu_bench.sh manabi
# (.gl: the Vulkan loaders, fetched as the device tool's README says.)
# CARGO_TARGET_DIR is honoured (a separate folder keeps the CPU build's artefacts).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${MANABI_DATA:-../shared/datasets}"
target="${CARGO_TARGET_DIR:-target}"
for d in /.gpb/ /.gpd/ /.gpt/ /.gl/; do
    grep -qx "$d" .git/info/exclude 2>/dev/null || echo "$d" >> .git/info/exclude
done

cargo build --release --features vulkan --bin manabi --example bench_work --test gpu
test_bin=$(cargo build --release --features vulkan --test gpu --message-format=json 2>/dev/null \
  | python3 -c "import json,sys; print([m['executable'] for m in map(json.loads, sys.stdin) if m.get('reason')=='compiler-artifact' and m.get('executable') and m['target']['name']=='gpu'][-1])")
mkdir -p .gpb .gpt .gpd/fashion-mnist .gpd/imdb_maxlen50
strip -o .gpb/manabi "$target/release/manabi"
strip -o .gpb/bench_work "$target/release/examples/bench_work"
strip -o .gpt/gpu_test "$test_bin"
xz -T2 -9 -f .gpb/manabi .gpb/bench_work .gpt/gpu_test

cp "$DATA"/fashion-mnist/*.gz .gpd/fashion-mnist/
if [ ! -f bench/data/imdb_maxlen50/train.csv ]; then
    "$target/release/manabi" export-data recipes/imdb_simple_rnn.toml --data-dir "$DATA" \
        --out bench/data/imdb_maxlen50
fi
xz -T2 -9 -c bench/data/imdb_maxlen50/train.csv > .gpd/imdb_maxlen50/train.csv.xz
du -sh .gpb .gpt .gpd
