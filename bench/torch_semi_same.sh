#!/usr/bin/env bash
# PyTorch's side of the semi-supervised table on manabi's labels (issue 8): for each seed and
# method, bench/semi_torch.py trains on the labelled images that manabi's supervised run of that
# seed drew (bench/results/manabi_runs/semi/supervised_<L>pc_seed<S>/labelled.json; run
# bench/manabi_semi.sh first), with the same network, views, optimiser and 2,000 iterations.
#   bench/torch_semi_same.sh 1 2 3                         # every method, 4 labels per class
#   METHODS="supervised fixmatch" LABELS=25 bench/torch_semi_same.sh 1 2 3
#   LABELLED_FROM=supervised_4pc_e80 bench/torch_semi_same.sh 1   # labels of another manabi run
#   (the draw depends only on data.subset_seed, so every run of seed S has the same labels)
# Results: bench/results/semi_<method>_torch_<N>lab_seed<S>_manabilabels.json (kept if present).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=("$@")
[ "${#SEEDS[@]}" -eq 0 ] && SEEDS=(1 2 3)
ALL="supervised pseudo_label self_training entropy_min mutual_information pi_model mean_teacher vat mixmatch fixmatch"
read -r -a METHOD_LIST <<< "${METHODS:-$ALL}"
LABELS="${LABELS:-4}"
PY="${PY:-bench/.venv/bin/python}"
LABELLED_FROM="${LABELLED_FROM:-supervised_${LABELS}pc}"
export OMP_NUM_THREADS=1
for seed in "${SEEDS[@]}"; do
  labelled="bench/results/manabi_runs/semi/${LABELLED_FROM}_seed${seed}/labelled.json"
  if [ ! -f "$labelled" ]; then
    echo "missing $labelled: run LABELS=$LABELS METHODS=supervised bench/manabi_semi.sh $seed"
    continue
  fi
  for method in "${METHOD_LIST[@]}"; do
    out="bench/results/semi_${method}_torch_$((LABELS * 10))lab_seed${seed}_manabilabels.json"
    if [ -f "$out" ]; then
      echo "[$(date +%T)] $(basename "$out"): done before"
      continue
    fi
    echo "[$(date +%T)] $(basename "$out")"
    "$PY" bench/semi_torch.py --method "$method" --seed "$seed" --labelled "$labelled" \
      --threads 1 --out "$out" > "${out%.json}.log" 2>&1 || echo "  failed: see ${out%.json}.log"
    tail -n 1 "${out%.json}.log" | sed 's/^/  /'
  done
done
