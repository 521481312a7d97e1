#!/usr/bin/env python3
"""Side-by-side speed benchmark: manabi vs PyTorch vs Keras (standard library only).

    python3 bench/speed.py [--repeats 3] [--works cnn_train_epoch,cnn_infer,...]
        [--frameworks manabi,torch,keras] [--steps N] [--warmup W]
        [--out docs/benchmarks.md] [--json bench/results/speed.json]

For every repeat, for every work, each framework runs in turn (interleaved; the order is
rotated by one each repeat) as a fresh process:

    manabi: target/release/examples/bench_work --work WORK --data-dir DATASETS --threads T
    torch:  bench/.venv/bin/python bench/speed_peer.py --framework torch --work WORK ...
    keras:  bench/.venv/bin/python bench/speed_peer.py --framework keras --work WORK ...

Each prints one JSON line (`framework, work, seconds, items, unit, per_item_ms, threads,
versions`); its peak resident memory is the child's `ru_maxrss` from `os.wait4`. The
table gives, per work and framework, the median over the repeats of `seconds` (`ms per
step` for the *_steps works) and of the peak memory, and their ratios to PyTorch. All
children get OMP_NUM_THREADS, MKL_NUM_THREADS, RAYON_NUM_THREADS and
TF_NUM_INTRAOP_THREADS = T and TF_NUM_INTEROP_THREADS = 1.

DATASETS: --data-dir, else $MANABI_DATA, else ../shared/datasets (relative to the
repository root). Every child's stderr is kept in bench/results/speed_logs/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKS = ("cnn_train_epoch", "cnn_infer", "bilstm_steps", "transformer_steps", "resnet_steps",
         "cnn_cli_epoch")
# Works timed as a whole process (start-up, data loading, training, test evaluation, files).
WHOLE_RUN = ("cnn_cli_epoch",)
FRAMEWORKS = ("manabi", "torch", "keras")
NAMES = {"manabi": "manabi", "torch": "PyTorch", "keras": "Keras"}
BENCH_WORK = ROOT / "target" / "release" / "examples" / "bench_work"
MANABI = ROOT / "target" / "release" / "manabi"
RUN_DIR = HERE / "results" / "cli_runs"
LOG_DIR = HERE / "results" / "speed_logs"

WORK_DESC = {
    "cnn_train_epoch": "one training epoch of the seed Fashion-MNIST CNN (60,000 images, "
                       "batch 200, Adam)",
    "cnn_infer": "the same CNN predicting the 10,000 test images (batch 1000, median of 3 "
                 "passes after a warm-up pass)",
    "bilstm_steps": "training steps of the seed IMDB BiLSTM (Embedding 128, "
                    "Bidirectional(LSTM 64), maxlen 50, batch 32)",
    "transformer_steps": "training steps of recipes/imdb_transformer.toml (2 encoder blocks, "
                         "d 64, 4 heads, maxlen 200, batch 32)",
    "resnet_steps": "training steps of recipes/fashion_mnist_resnet.toml (batch 128)",
    "cnn_cli_epoch": "the seed CNN recipe trained for one epoch from the command line, the "
                     "whole process timed: `manabi train recipes/fashion_mnist_cnn.toml --set "
                     "training.epochs=1` (start-up, reading the gzip IDX files, the epoch, "
                     "the test evaluation, weights, history and plots) against "
                     "`bench/reference.py --work fashion_cnn --epochs 1` (import, data "
                     "loading, the epoch, the test evaluation, JSON)",
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--works", default=",".join(WORKS))
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=None,
                   help="passed to every child: timed steps (smoke tests: batches of "
                        "cnn_train_epoch)")
    p.add_argument("--warmup", type=int, default=None, help="passed to every child")
    p.add_argument("--data-dir", default=None,
                   help="datasets folder (default $MANABI_DATA or ../shared/datasets)")
    p.add_argument("--python", default=str(HERE / ".venv" / "bin" / "python"),
                   help="the peers' Python (default bench/.venv/bin/python)")
    p.add_argument("--timeout", type=float, default=3600.0,
                   help="seconds before a child is killed (default 3600)")
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    p.add_argument("--json", default=str(HERE / "results" / "speed.json"))
    args = p.parse_args(argv)
    args.works = [w for w in args.works.split(",") if w]
    args.frameworks = [f for f in args.frameworks.split(",") if f]
    for w in args.works:
        if w not in WORKS:
            p.error(f"unknown work {w!r} (choose from {', '.join(WORKS)})")
    for f in args.frameworks:
        if f not in FRAMEWORKS:
            p.error(f"unknown framework {f!r} (choose from {', '.join(FRAMEWORKS)})")
    return args


def data_dir(args) -> Path:
    d = args.data_dir or os.environ.get("MANABI_DATA") or "../shared/datasets"
    d = Path(d)
    return d if d.is_absolute() else (ROOT / d).resolve()


def child_env(threads: int) -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               RAYON_NUM_THREADS=str(threads), TF_NUM_INTRAOP_THREADS=str(threads),
               TF_NUM_INTEROP_THREADS="1", PYTHONUNBUFFERED="1")
    return env


def command(args, framework: str, work: str, datasets: Path) -> list[str]:
    if work == "cnn_cli_epoch":
        if framework == "manabi":
            return [str(MANABI), "train", "recipes/fashion_mnist_cnn.toml", "--set",
                    "training.epochs=1", "--out", str(RUN_DIR / "manabi_cnn_epoch"),
                    "--data-dir", str(datasets)]
        return [args.python, str(HERE / "reference.py"), "--framework", framework, "--work",
                "fashion_cnn", "--epochs", "1", "--seed", "1", "--threads",
                str(args.threads), "--out", str(RUN_DIR / f"{framework}_cnn_epoch.json")]
    tail = ["--work", work, "--data-dir", str(datasets), "--threads", str(args.threads)]
    if args.steps is not None:
        tail += ["--steps", str(args.steps)]
    if args.warmup is not None:
        tail += ["--warmup", str(args.warmup)]
    if framework == "manabi":
        return [str(BENCH_WORK)] + tail
    return [args.python, str(HERE / "speed_peer.py"), "--framework", framework] + tail


def run_child(cmd: list[str], env: dict, log_path: Path, timeout: float,
              whole_run_items: int | None = None) -> dict:
    """Runs one child; returns its JSON (or None), exit status, peak RSS and wall time.
    With `whole_run_items`, the result is the child's wall time (a whole-process work)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_path.with_suffix(".stdout")
    t0 = time.perf_counter()
    with open(out_path, "wb") as out, open(log_path, "wb") as err:
        err.write(("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n").encode())
        err.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        killed = []

        def kill():
            killed.append(True)
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    wall = time.perf_counter() - t0
    stdout = out_path.read_text(errors="replace")
    result = None
    for line in reversed(stdout.strip().splitlines()):
        try:
            cand = json.loads(line)
        except ValueError:
            continue
        if isinstance(cand, dict) and "seconds" in cand:
            result = cand
            break
    out_path.unlink()
    if whole_run_items is not None and proc.returncode == 0 and not killed:
        result = {"seconds": wall, "items": whole_run_items, "unit": "run",
                  "per_item_ms": 1e3 * wall / whole_run_items}
    rec = {"returncode": proc.returncode, "timed_out": bool(killed),
           "peak_rss_kib": usage.ru_maxrss, "wall_seconds": wall, "result": result,
           "log": os.path.relpath(log_path, ROOT)}
    if result is None and stdout.strip():
        rec["stdout_tail"] = stdout[-2000:]
    return rec


def median(xs):
    return statistics.median(xs) if xs else None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def mem_total_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 0


def summarize(runs: list[dict], works, frameworks) -> dict:
    summary = {}
    for w in works:
        row = {}
        for f in frameworks:
            ok = [r for r in runs if r["work"] == w and r["framework"] == f
                  and r["returncode"] == 0 and r["result"]]
            all_ = [r for r in runs if r["work"] == w and r["framework"] == f]
            if not ok:
                row[f] = {"ok": 0, "runs": len(all_),
                          "logs": [r["log"] for r in all_ if r["returncode"] != 0
                                   or not r["result"]]}
                continue
            secs = [r["result"]["seconds"] for r in ok]
            per = [r["result"]["per_item_ms"] for r in ok]
            rss = [r["peak_rss_kib"] / 1024 for r in ok]
            last = ok[-1]["result"]
            row[f] = {"ok": len(ok), "runs": len(all_), "seconds_median": median(secs),
                      "seconds_min": min(secs), "seconds_max": max(secs),
                      "per_item_ms_median": median(per), "items": last["items"],
                      "unit": last["unit"], "peak_mb_median": median(rss),
                      "versions": last.get("versions"),
                      "logs": [r["log"] for r in all_ if r not in ok]}
        base = row.get("torch")
        for f, s in row.items():
            if base and base.get("ok") and s.get("ok"):
                s["ratio_to_torch"] = s["seconds_median"] / base["seconds_median"]
                s["peak_ratio_to_torch"] = s["peak_mb_median"] / base["peak_mb_median"]
        summary[w] = row
    return summary


def fmt_time(s: dict, unit: str) -> str:
    if not s.get("ok"):
        return "failed (see log)" if s.get("runs") else "—"
    if unit == "step":
        med, lo, hi, suffix = (s["per_item_ms_median"], 1e3 * s["seconds_min"] / s["items"],
                               1e3 * s["seconds_max"] / s["items"], " ms")
    else:
        med, lo, hi, suffix = s["seconds_median"], s["seconds_min"], s["seconds_max"], " s"
    digits = 1 if med >= 100 else 2 if med >= 1 else 3
    text = f"{med:.{digits}f}{suffix}"
    if s["ok"] > 1:
        text += f" ({lo:.{digits}f}–{hi:.{digits}f})"
    if s["ok"] < s["runs"]:
        text += f" [{s['runs'] - s['ok']} failed]"
    return text


UNITS = {"cnn_train_epoch": "s per epoch", "cnn_infer": "s per pass",
         "cnn_cli_epoch": "s per run"}


def unit_text(work: str, row: dict, steps) -> str:
    s = next((v for v in row.values() if v.get("ok")), None)
    if s is None:
        return UNITS.get(work, "ms per step")
    if s["unit"] == "step":
        return f"ms per step ({s['items']} steps)"
    if s["unit"] == "epoch":
        return f"s per epoch ({s['items']:,} images)"
    if s["unit"] == "pass":
        return f"s per pass ({s['items']:,} images)"
    if s["unit"] == "run":
        return "s per whole run (1 epoch)"
    return s["unit"]


def ratio(row, f, key="ratio_to_torch"):
    s = row.get(f)
    if s is None or not s.get("ok") or key not in s:
        return "—"
    return f"{s[key]:.2f}"


def markdown(args, summary, meta) -> str:
    fws = args.frameworks
    L = []
    L.append("# Speed: manabi vs PyTorch vs Keras\n")
    L.append("Generated by `bench/speed.py`; do not edit by hand (rerun it, see "
             "[How to reproduce](#how-to-reproduce)).\n")
    if args.steps is not None:
        L.append(f"**Smoke run (`--steps {args.steps}`): not a benchmark.**\n")
    L.append(f"* Machine: {meta['cpu_model']}, {meta['nproc']} CPUs available"
             + (f", {meta['mem_total_gib']:.1f} GiB RAM" if meta["mem_total_gib"] else "")
             + f", {meta['platform']}")
    L.append(f"* Date: {meta['date']} (took {meta['total_seconds'] / 60:.1f} min; 1-minute "
             f"load average {meta['loadavg_start'][0]:.2f} at the start, "
             f"{meta['loadavg_end'][0]:.2f} at the end)")
    L.append(f"* Threads: {args.threads} for every framework (OMP_NUM_THREADS, "
             f"MKL_NUM_THREADS, RAYON_NUM_THREADS, TF_NUM_INTRAOP_THREADS = {args.threads}; "
             "TF_NUM_INTEROP_THREADS = 1; torch.set_num_threads, set_num_interop_threads(1)); "
             "float32 everywhere")
    L.append(f"* Repeats: {args.repeats}, frameworks interleaved (each run a fresh process, "
             "the order rotated each repeat)")
    vers = {}
    for row in summary.values():
        for f, s in row.items():
            if s.get("versions"):
                vers.setdefault(f, s["versions"])
    for f in fws:
        if f in vers:
            L.append(f"* {NAMES[f]}: " + ", ".join(f"{k} {v}" for k, v in vers[f].items()))
    L.append(f"* Command: `{meta['command']}`\n")

    L.append("Times are medians over the repeats (min–max in brackets); ratios are medians "
             "divided by PyTorch's (below 1 = faster than PyTorch). Peak memory is the "
             "median peak resident set size of the whole process (`ru_maxrss`), data and "
             "framework runtime included.\n")
    head = ["work", "unit"] + [NAMES[f] for f in fws]
    if "torch" in fws:
        head += [f"{NAMES[f]}/PyTorch" for f in fws if f != "torch"]
    head += ["peak MB " + "/".join(NAMES[f] for f in fws)]
    if "torch" in fws and "manabi" in fws:
        head += ["peak manabi/PyTorch"]
    L.append("| " + " | ".join(head) + " |")
    L.append("| " + " | ".join(["---", "---"] + ["---:"] * (len(head) - 2)) + " |")
    for w, row in summary.items():
        unit = next((v["unit"] for v in row.values() if v.get("ok")), "")
        cells = [f"`{w}`", unit_text(w, row, args.steps)]
        cells += [fmt_time(row[f], unit) for f in fws]
        if "torch" in fws:
            cells += [ratio(row, f) for f in fws if f != "torch"]
        cells.append(" / ".join(f"{row[f]['peak_mb_median']:.0f}" if row[f].get("ok")
                                else "—" for f in fws))
        if "torch" in fws and "manabi" in fws:
            cells.append(ratio(row, "manabi", "peak_ratio_to_torch"))
        L.append("| " + " | ".join(cells) + " |")
    failed = [(w, f, s["logs"]) for w, row in summary.items() for f, s in row.items()
              if s.get("logs")]
    if failed:
        L.append("\nFailed runs (stderr kept in `bench/results/speed_logs/`, not committed):\n")
        for w, f, logs in failed:
            L.append(f"* `{w}` / {NAMES[f]}: " + ", ".join(f"`{p}`" for p in logs))
    L.append("\n## The works\n")
    for w in summary:
        L.append(f"* `{w}`: {WORK_DESC[w]}.")
    L.append("""
What is timed: wall time of the loop only (data loading, model building and warm-up are
not timed), except `cnn_cli_epoch`, which times the whole process. `*_steps`: 5 untimed warm-up steps, then 100 timed steps (transformer and resnet: 30) on real
data (consecutive batches of a shuffled permutation); the time per step is the timed steps'
total divided by their number. `cnn_train_epoch`: the whole shuffled epoch (the last batch
of 60,000 / 200 is full), the Python peers after one untimed warm-up step (Keras traces its
train function on the first call). PyTorch runs a plain loop (zero_grad, forward, loss,
backward, Adam step, `loss.item()`), channels-last memory for the convolutions; Keras 3 on
TensorFlow calls `model.train_on_batch` (the compiled train step of `fit`) and, for
`cnn_infer`, `model.predict`; manabi runs its own `fit` / `predict`, as `manabi train`
does. Model details: `bench/speed_peer.py` (docstring) and `bench/README.md`.
""")
    L.append("## How to reproduce\n")
    L.append("On a fresh machine, from the repository root (creates `bench/.venv` with "
             "`bench/setup.sh` if missing, builds manabi and `bench_work` in release mode, "
             "exports the IMDB data with `manabi export-data` if missing):\n")
    L.append("    bash bench/speed.sh                 # = python3 bench/speed.py after the "
             "setup\n")
    L.append("or step by step:\n")
    L.append("    bash bench/setup.sh\n"
             "    cargo build --release && cargo build --release --example bench_work\n"
             "    target/release/manabi export-data recipes/imdb_simple_rnn.toml "
             "--data-dir ../shared/datasets --out bench/data/imdb_maxlen50\n"
             "    target/release/manabi export-data recipes/imdb_transformer.toml "
             "--data-dir ../shared/datasets --out bench/data/imdb_maxlen200\n"
             "    python3 bench/speed.py --repeats 3\n")
    L.append("Datasets come from `$MANABI_DATA` (default `../shared/datasets`). Raw runs "
             "(every child's JSON line, exit status, peak memory) are written to "
             f"`{meta['json_rel']}`.")
    return "\n".join(L) + "\n"


def main(argv=None):
    args = parse_args(argv)
    datasets = data_dir(args)
    if "manabi" in args.frameworks and not MANABI.exists():
        sys.exit(f"error: {os.path.relpath(MANABI, ROOT)} is missing; build it with "
                 "`cargo build --release`")
    if "manabi" in args.frameworks and not BENCH_WORK.exists():
        sys.exit(f"error: {os.path.relpath(BENCH_WORK, ROOT)} is missing; build it with\n"
                 "    cargo build --release --example bench_work\n"
                 "(or leave manabi out with --frameworks torch,keras)")
    if any(f != "manabi" for f in args.frameworks) and not Path(args.python).exists():
        sys.exit(f"error: {args.python} is missing; create the venv with `bash bench/setup.sh`")
    if not datasets.is_dir():
        sys.exit(f"error: datasets folder {datasets} not found (set --data-dir or MANABI_DATA)")
    env = child_env(args.threads)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_model": cpu_model(), "nproc": nproc(), "mem_total_gib": mem_total_gib(),
        "platform": platform.platform(), "python": platform.python_version(),
        "command": "python3 " + " ".join(shlex.quote(a) for a in
                                         [os.path.relpath(__file__, ROOT)]
                                         + (argv if argv is not None else sys.argv[1:])),
        "threads": args.threads, "repeats": args.repeats, "steps": args.steps,
        "warmup": args.warmup, "data_dir": str(datasets),
        "env": {k: env[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                    "RAYON_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                                    "TF_NUM_INTEROP_THREADS")},
        "loadavg_start": list(os.getloadavg()),
    }
    t_start = time.perf_counter()
    runs = []
    n_total = args.repeats * len(args.works) * len(args.frameworks)
    for rep in range(args.repeats):
        k = rep % len(args.frameworks)
        order = args.frameworks[k:] + args.frameworks[:k]
        for work in args.works:
            for fw in order:
                cmd = command(args, fw, work, datasets)
                log_path = LOG_DIR / f"{stamp}_{work}_{fw}_r{rep + 1}.log"
                print(f"[{len(runs) + 1}/{n_total}] repeat {rep + 1} {work} {fw} ...",
                      end=" ", file=sys.stderr, flush=True)
                if work in WHOLE_RUN:
                    shutil.rmtree(RUN_DIR, ignore_errors=True)
                    RUN_DIR.mkdir(parents=True)
                rec = run_child(cmd, env, log_path, args.timeout,
                                60_000 if work in WHOLE_RUN else None)
                rec.update(repeat=rep + 1, work=work, framework=fw,
                           command=" ".join(shlex.quote(c) for c in cmd),
                           loadavg_1min_end=os.getloadavg()[0])
                runs.append(rec)
                res = rec["result"]
                if rec["returncode"] == 0 and res:
                    print(f"{res['seconds']:.3f} s ({res['per_item_ms']:.3f} ms per "
                          f"{'step' if res['unit'] == 'step' else 'item'}), peak "
                          f"{rec['peak_rss_kib'] / 1024:.0f} MB", file=sys.stderr, flush=True)
                else:
                    why = "timed out" if rec["timed_out"] else f"exit {rec['returncode']}"
                    print(f"FAILED ({why}; see {rec['log']})", file=sys.stderr, flush=True)
    meta["loadavg_end"] = list(os.getloadavg())
    meta["total_seconds"] = time.perf_counter() - t_start
    summary = summarize(runs, args.works, args.frameworks)

    json_path = Path(args.json)
    rel = os.path.relpath(json_path.resolve(), ROOT)
    meta["json_rel"] = str(json_path.resolve()) if rel.startswith("..") else rel
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({"meta": meta, "summary": summary, "runs": runs},
                                    indent=1) + "\n")
    md = markdown(args, summary, meta)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # The GPU section (bench/gpu_table.py) is measured elsewhere: keep it.
    old = out.read_text() if out.exists() else ""
    if "<!-- gpu:begin -->" in old and "<!-- gpu:end -->" in old:
        gpu = old[old.index("<!-- gpu:begin -->"):old.index("<!-- gpu:end -->")]
        md = md.rstrip("\n") + "\n\n" + gpu + "<!-- gpu:end -->\n"
    out.write_text(md)
    print(md, file=sys.stderr)
    print(f"wrote {out} and {json_path}", file=sys.stderr)
    if any(not s.get("ok") or s["ok"] < s["runs"] for row in summary.values()
           for s in row.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
