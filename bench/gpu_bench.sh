#!/usr/bin/env bash
# The GPU checks of issue 11, run ON a lent GPU machine (no Rust there) from the repository
# root, after bench/gpu_prepare.sh here (which says what to carry in which call):
#   bash bench/gpu_bench.sh test     # the GPU test: CPU and GPU training agree
#   bash bench/gpu_bench.sh peers    # PyTorch CUDA on the benchmark works
#   bash bench/gpu_bench.sh manabi   # manabi on Vulkan on the same works
# Results go to $OUT (the device tool's folder) or bench/results/gpu: torch.jsonl and
# manabi.jsonl (one line per work, bench/speed_peer.py's format), fixmatch_*.json/csv,
# gpu_test.log, gpu.txt. Data and binaries are unpacked into $GPU_WORK (default
# /root/manabi_gpu), which outlives one call while the machine stays held.
# `bash bench/gpu_bench.sh manabi cnn` runs only the works named after the stage.
set -uo pipefail
cd "$(dirname "$0")/.."
stage="${1:-all}"
shift || true
only="${*:-}"
OUT="${OUT:-bench/results/gpu}"
W="${GPU_WORK:-/root/manabi_gpu}"
mkdir -p "$OUT" "$W"
export MANABI_KERNEL_CACHE="$W/kernel-cache"

wanted() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }
log() { echo "== $(date +%T) $*" | tee -a "$OUT/steps.log" >&2; }
unxz_to() { python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$1" "$2"; }

if [ -d .gl ]; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.txt" 2>&1

if [ -d .gpd ]; then
    log "unpacking data into $W/data"
    mkdir -p "$W/data/fashion-mnist" "$W/data/imdb_maxlen50"
    cp .gpd/fashion-mnist/*.gz "$W/data/fashion-mnist/"
    unxz_to .gpd/imdb_maxlen50/train.csv.xz "$W/data/imdb_maxlen50/train.csv"
fi
D="$W/data"
if [ ! -f "$D/fashion-mnist/train-images-idx3-ubyte.gz" ]; then
    echo "no data in $D: carry .gpd (bash bench/gpu_prepare.sh makes it)" >&2
    exit 2
fi

run_peers() {
    for w in cnn_train_epoch cnn_infer bilstm_steps resnet_steps; do
        wanted "$w" || continue
        log "torch $w"
        timeout 300 python3 bench/speed_peer.py --framework torch --work "$w" --device cuda \
            --threads 16 --data-dir "$D" --imdb-dir "$D/imdb_maxlen50" \
            >> "$OUT/torch.jsonl" 2>> "$OUT/torch.log"
    done
    if wanted fixmatch; then
        log "torch fixmatch 300 iterations"
        MANABI_DATASETS="$D" timeout 300 python3 bench/semi_torch.py --method fixmatch \
            --iterations 300 --log-every 100 --device cuda --threads 16 \
            --out "$OUT/fixmatch_torch.json" 2>> "$OUT/torch.log"
    fi
}

for f in .gpb/*.xz .gpc/*.xz .gpt/*.xz; do
    [ -f "$f" ] || continue
    log "unpacking $f into $W"
    unxz_to "$f" "$W/$(basename "$f" .xz)"
    chmod +x "$W/$(basename "$f" .xz)"
done

run_test() {
    log "GPU test (CPU vs GPU training losses, fused LSTM scan)"
    timeout 500 "$W/gpu_test" --ignored --nocapture --test-threads 1 > "$OUT/gpu_test.log" 2>&1
    echo "gpu_test exit $?" >> "$OUT/gpu_test.log"
}

run_manabi() {
    bw() {  # work, extra env...
        log "manabi $*"
        env "${@:2}" timeout 400 "$W/bench_work" --work "$1" --device vulkan --threads 16 \
            --data-dir "$D" --imdb-csv "$D/imdb_maxlen50" >> "$OUT/manabi.jsonl" 2>> "$OUT/manabi.log"
    }
    # The first run fills the kernel caches; the second shows what a later run waits.
    if wanted cnn; then
        bw cnn_train_epoch
        bw cnn_train_epoch
        bw cnn_infer
    fi
    if wanted bilstm; then
        bw bilstm_steps
        bw bilstm_steps MANABI_KERNELS=burn  # Burn's ops step by step (the old path)
    fi
    if wanted resnet; then
        bw resnet_steps
    fi
    if wanted fixmatch; then
        log "manabi fixmatch 300 iterations"
        rm -rf "$W/fixmatch"
        timeout 500 "$W/manabi" train recipes/semi/fixmatch_fmnist_40.toml --device vulkan \
            --data-dir "$D" --set training.epochs=3 --out "$W/fixmatch" \
            > "$OUT/fixmatch_manabi.log" 2>&1
        cp "$W/fixmatch/history.csv" "$OUT/fixmatch_manabi_history.csv" 2>/dev/null
    fi
}

case "$stage" in
    test) run_test ;;
    peers) run_peers ;;
    manabi) run_manabi ;;
    *) echo "usage: bash bench/gpu_bench.sh test|peers|manabi [works]" >&2; exit 2 ;;
esac
log "done"
