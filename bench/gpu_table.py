#!/usr/bin/env python3
"""Writes the GPU section of docs/benchmarks.md from the files bench/gpu_bench.sh brought back
from a lent GPU (kept in bench/results/gpu/):

    python3 bench/gpu_table.py [--results bench/results/gpu] [--out docs/benchmarks.md]

The section sits between <!-- gpu:begin --> and <!-- gpu:end --> (appended when absent);
bench/speed.py keeps it when it rewrites the CPU tables. Standard library only.

Inputs: gpu.txt (nvidia-smi), torch.jsonl (bench/speed_peer.py --device cuda),
manabi_run*.jsonl (bench_work --device vulkan, one file per device call, in the order
bench/gpu_bench.sh runs them), manabi_autotune_minimal.jsonl, gpu_test.log,
fixmatch_torch.json, fixmatch_manabi_history.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- gpu:begin -->", "<!-- gpu:end -->"
UNITS = {"cnn_train_epoch": ("s per epoch (60,000 images)", 1.0),
         "cnn_infer": ("s per pass (10,000 images)", 1.0),
         "bilstm_steps": ("ms per step (batch 32, length 50)", 1e3),
         "resnet_steps": ("ms per step (batch 128)", 1e3)}
COLD_S = 20.0  # a run whose first step came later than this compiled its kernels


def jsonl(path: Path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def manabi_runs(results: Path):
    """Every bench_work line, labelled: `kernels` is "burn" for the step-by-step LSTM runs
    (gpu_bench.sh runs bilstm_steps twice, fused first, then MANABI_KERNELS=burn)."""
    rows = []
    for path in sorted(results.glob("manabi_run*.jsonl")):
        seen_bilstm = 0
        for d in jsonl(path):
            if d["work"] == "bilstm_steps" and "kernels" not in d:
                d["kernels"] = "manabi" if seen_bilstm % 2 == 0 else "burn"
                seen_bilstm += 1
            d["file"] = path.name
            rows.append(d)
    return rows


def fmt(v, scale):
    v *= scale
    return f"{v:.4f}" if v < 0.1 else f"{v:.3f}" if v < 10 else f"{v:.1f}"


def section(results: Path) -> str:
    gpu = (results / "gpu.txt").read_text().strip().splitlines()[-1].split(", ")
    torch = {d["work"]: d for d in jsonl(results / "torch.jsonl")}
    runs = manabi_runs(results)
    tv = next(iter(torch.values()))["versions"]
    lines = [BEGIN, "", f"## GPU: {gpu[0]}", "",
             f"Measured on a lent {gpu[0]} (driver {gpu[1]}), 16 CPU cores, by "
             "`bench/gpu_bench.sh` after `bench/gpu_prepare.sh` (see there for what travels "
             "in which call); this section is written by `python3 bench/gpu_table.py` from "
             "`bench/results/gpu/`. manabi: Burn 0.22.1 `vulkan` (SPIR-V through wgpu, Burn's "
             "kernel fusion and autotuning on), `bench_work --device vulkan --threads 16`; "
             f"PyTorch {tv['torch']} (CUDA {tv.get('cuda')}, cuDNN {tv.get('cudnn')}), "
             "`speed_peer.py --device cuda --threads 16`, data and model on the GPU. Same "
             "works, protocol and data as the CPU table; each number is one run (each device "
             "call is a fresh machine), so the spread across runs is shown where there are "
             "several. The cold first epoch of each fresh machine (kernels compiling) is left "
             "out of `cnn_train_epoch` and shown under start-up below.", "",
             "| work | unit | manabi (Vulkan) | PyTorch (CUDA) | manabi/PyTorch |",
             "| --- | --- | ---: | ---: | ---: |"]
    for work, (unit, scale) in UNITS.items():
        # Only cnn_train_epoch times its first step; the *_steps works compile in warm-up.
        warm = [d for d in runs if d["work"] == work and d.get("kernels") != "burn"
                and (work != "cnn_train_epoch" or (d.get("first_step_s") or 0) < COLD_S)]
        if not warm or work not in torch:
            continue
        vals = [d["seconds"] / (d["items"] if d["unit"] == "step" else 1) for d in warm]
        t = torch[work]["seconds"] / (torch[work]["items"] if torch[work]["unit"] == "step" else 1)
        shown = " / ".join(fmt(v, scale) for v in vals)
        ratio = statistics.median(vals) / t
        lines.append(f"| `{work}` | {unit} | {shown} | {fmt(t, scale)} | {ratio:.2f} |")
    burn = [d for d in runs if d.get("kernels") == "burn"]
    if burn:
        t = torch["bilstm_steps"]["seconds"] / torch["bilstm_steps"]["items"]
        vals = [d["seconds"] / d["items"] for d in burn]
        lines.append(f"| `bilstm_steps`, Burn's ops step by step (`MANABI_KERNELS=burn`) | "
                     f"ms per step | {' / '.join(fmt(v, 1e3) for v in vals)} | {fmt(t, 1e3)} | "
                     f"{statistics.median(vals) / t:.1f} |")
    fm_t = json.loads((results / "fixmatch_torch.json").read_text())
    hist = list(csv.DictReader((results / "fixmatch_manabi_history.csv").open()))
    later = [float(r["seconds"]) for r in hist[1:]]
    log = fm_t["log"]
    torch_later = [(b["seconds"] - a["seconds"]) / (b["iteration"] - a["iteration"])
                   for a, b in zip(log, log[1:])]
    m_it = statistics.median(later) / 100
    t_it = statistics.median(torch_later)
    lines.append(f"| FixMatch iteration (64 labelled + 7 x 64 unlabelled, weak and strong "
                 f"views, seed CNN) | ms per iteration (iterations 101-300) | "
                 f"{' / '.join(f'{1e3 * s / 100:.1f}' for s in later)} | "
                 f"{' / '.join(f'{1e3 * s:.1f}' for s in torch_later)} | {m_it / t_it:.2f} |")
    lines += ["",
              "FixMatch: `manabi train recipes/semi/fixmatch_fmnist_40.toml --device vulkan "
              "--set training.epochs=3` (100 iterations an epoch; the first epoch, which "
              f"compiled the kernels, took {float(hist[0]['seconds']):.1f} s) against "
              "`bench/semi_torch.py --method fixmatch --iterations 300 --device cuda` (its "
              "augmentation runs on the CPU, as manabi's does, and took "
              f"{fm_t['augment_seconds']:.1f} s of its {fm_t['train_seconds']:.1f} s).", ""]

    cold = [d for d in runs if (d.get("first_step_s") or 0) >= COLD_S]
    warm_cnn = [d for d in runs if d["work"] == "cnn_train_epoch" and d["first_step_s"] < COLD_S]
    lines += ["**Start-up.** The first process on a machine compiles and autotunes every "
              "kernel before its first step ends; manabi keeps the compiled kernels and the "
              "autotune results on disk (`MANABI_KERNEL_CACHE`, default "
              "`~/.cache/manabi/kernels`), so the next process starts at once. Seconds from "
              "process start to the end of the first training step (`first_step_s`):", "",
              "| work | first process (empty caches) | a later process |", "| --- | ---: | ---: |"]
    for work in ("cnn_train_epoch", "bilstm_steps", "resnet_steps"):
        c = [d["first_step_s"] for d in cold if d["work"] == work]
        w = [d["first_step_s"] for d in warm_cnn if d["work"] == work]
        if c:
            lines.append(f"| `{work}` | {' / '.join(f'{v:.1f}' for v in c)} s | "
                         f"{' / '.join(f'{v:.2f}' for v in w) + ' s' if w else 'not run'} |")
    minimal = results / "manabi_autotune_minimal.jsonl"
    if minimal.exists():
        m = jsonl(minimal)
        default = " / ".join(f"{d['seconds']:.2f}" for d in warm_cnn)
        lines += ["", f"With `CUBECL_AUTOTUNE_LEVEL=minimal` the seed CNN's first step came "
                  f"after {m[0]['first_step_s']:.1f} s instead, and a later epoch took "
                  f"{m[1]['seconds']:.2f} s (default level: {default} s)."]
    test = (results / "gpu_test.log").read_text()
    passed = re.search(r"test result: (\w+)\. (\d+) passed; (\d+) failed", test)
    lines += ["", "**GPU test** (`cargo test --release --features vulkan --test gpu -- "
              "--ignored`, carried as a binary): "
              + (f"{passed.group(1)}, {passed.group(2)} passed, {passed.group(3)} failed"
                 if passed else "no result") +
              ". The seed CNN and the seed BiLSTM train 3 epochs from the same weights on "
              "the CPU and on the GPU with losses equal within 1e-3 (relative), and "
              "manabi's fused LSTM scan gives the CPU kernel's hidden states and input "
              "gradients within 1e-4 in both reading directions. Log: "
              "`bench/results/gpu/gpu_test.log`.", "", END]
    return "\n".join(lines) + "\n"


def splice(doc: str, sec: str) -> str:
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        return head + sec + rest.split(END, 1)[1].lstrip("\n")
    return doc.rstrip("\n") + "\n\n" + sec


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", default=str(ROOT / "bench" / "results" / "gpu"))
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    a = p.parse_args()
    out = Path(a.out)
    out.write_text(splice(out.read_text() if out.exists() else "", section(Path(a.results))))
    print(f"wrote the GPU section of {out}")


if __name__ == "__main__":
    main()
