#!/usr/bin/env bash
# Prepares a GPU check for a lent GPU machine that has no Rust toolchain (issue 11):
# builds the vulkan manabi binary and the GPU test binary here, compresses both into .gpu/
# (git-ignored through .git/info/exclude; carry it), and prints the command to run there.
#   bash bench/gpu_prepare.sh
# There (with the Vulkan loaders carried as the device tool's README says):
#   python3 -c "import lzma,shutil,sys; [shutil.copyfileobj(lzma.open(f'.gpu/{n}.xz'), open(f'/tmp/{n}','wb')) for n in ('manabi','gpu_test')]"
#   chmod +x /tmp/manabi /tmp/gpu_test && /tmp/gpu_test --ignored --nocapture
#   /tmp/manabi train recipes/fashion_mnist_cnn.toml --device vulkan --data-dir DATA --out $OUT/cnn
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
cargo build --release --features vulkan
test_bin=$(cargo test --release --features vulkan --test gpu --no-run --message-format=json 2>/dev/null \
  | python3 -c "import json,sys; print([m['executable'] for m in map(json.loads, sys.stdin) if m.get('reason')=='compiler-artifact' and m.get('executable') and m['target']['name']=='gpu'][-1])")
mkdir -p .gpu
strip -o .gpu/manabi target/release/manabi
strip -o .gpu/gpu_test "$test_bin"
xz -T2 -6 -f .gpu/manabi .gpu/gpu_test
ls -la .gpu
echo "carry .gpu (and .gl for the Vulkan loaders); run the commands at the top of this script there"
