#!/usr/bin/env python3
"""PyTorch reference for manabi's SimCLRv2 pipeline with 1% of the Fashion-MNIST labels
(issue 9; docs/results.md, "The SimCLRv2 pipeline's last step"):

1. SimCLR pre-training of the seed CNN trunk on the 57,000 training images left after the 5%
   validation split, without labels (bench/ssl_torch.py's ``pretrain_simclr``: the recipe
   recipes/ssl/simclr_fmnist.toml, 30 epochs), once, with ``--seed``.
2. For each label draw N (``--draws``): the teacher, the pre-trained encoder (conv trunk and
   the dense 128 ReLU layer) under a new Linear(128->10) head, every parameter fine-tuned on
   the draw's 600 labelled images (recipes/ssl/finetune_1pct.toml: Adam 1e-3, batch 50, 50
   epochs; bench/ssl_torch.py's ``train_classifier``), saved with torch.save.
3. For each draw: bench/semi_torch.py trains the seed CNN student from random weights
   (``--seed N``) for 2,000 iterations on the same 600 labels, distilled from that teacher on
   the other 59,400 images (``--method distillation``,
   recipes/distill/simclrv2_student_1pct.toml), and alone on the labels
   (``--method supervised``, recipes/distill/simclrv2_student_alone_1pct.toml).

The labelled images are manabi's: ``--labelled-pattern`` names each draw's labelled.json
(the default: the manabi student runs' runs/simclrv2_student_1pct_s{N}/labelled.json; draw 1
is runs/simclrv2_student_1pct), a JSON object whose "indices" are rows of the 60,000
training images. Teacher, distilled student and student alone all use those rows.

    bench/.venv/bin/python bench/simclrv2_torch.py --seed 1 --draws 1 2 3
    bench/.venv/bin/python bench/simclrv2_torch.py --epochs 1 --draws 1 --iterations 20  # smoke

Writes bench/results/simclrv2_torch_seed<S>.json (SimCLR per-epoch log, each teacher's test
accuracy and training log, and the two student results of each draw, which semi_torch.py also
writes as bench/results/simclrv2_torch_{student,alone}_draw<N>.json); teachers go to
``--models`` (default runs/simclrv2_torch/, git-ignored). Runs use 1 thread.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reference import log, set_thread_env  # noqa: E402  (stdlib-only at import)

RESULTS = HERE / "results"
FINETUNE = dict(epochs=50, batch_size=50, lr=1e-3)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=1, help="SimCLR pre-training seed")
    p.add_argument("--epochs", type=int, default=30, help="SimCLR epochs")
    p.add_argument("--draws", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--iterations", type=int, default=2000, help="student iterations")
    p.add_argument("--labelled-pattern", type=str,
                   default="runs/simclrv2_student_1pct_s{n}/labelled.json",
                   help="each draw's manabi labelled.json ({n}: the draw; draw 1 also tries "
                        "the name without _s1)")
    p.add_argument("--models", type=str, default="runs/simclrv2_torch")
    p.add_argument("--out", type=str, default=None)
    return p.parse_args(argv)


def labelled_file(pattern, n):
    path = Path(pattern.format(n=n))
    if not path.exists() and n == 1:
        alt = Path(str(path).replace("_s1/", "/"))
        if alt.exists():
            return alt
    if not path.exists():
        raise SystemExit(f"missing {path}: run the manabi student of draw {n} first "
                         f"(docs/results.md) or pass --labelled-pattern")
    return path


def main(argv=None):
    args = parse_args(argv)
    set_thread_env(1)
    import numpy as np
    import torch
    import common
    import ssl_torch

    common.seed_torch(torch, 1, args.seed)
    load_start = os.getloadavg()
    t_all = time.perf_counter()
    xtr_u8, ytr_np, xte_u8, yte_np = common.load_fashion_mnist()
    ytr_np, yte_np = ytr_np.astype(np.int64), yte_np.astype(np.int64)
    (xp_u8, _), (xv_u8, _) = common.keras_validation_split(xtr_u8, ytr_np,
                                                           ssl_torch.VAL_FRACTION)
    x_all, y_all = ssl_torch.to_tensor(xtr_u8), torch.from_numpy(ytr_np)
    x_te, y_te = ssl_torch.to_tensor(xte_u8), torch.from_numpy(yte_np)
    x_pre = x_all[:len(xp_u8)]
    x_val, y_val = x_all[len(xp_u8):], y_all[len(xp_u8):]
    n_ref = ssl_torch.CONFIG["simclr"]["monitor_reference"]

    encoder = ssl_torch.build_encoder(args.seed)
    proj = ssl_torch.build_projection()
    log(f"[simclr] {len(x_pre)} images, {args.epochs} epochs, seed {args.seed}")
    per_epoch, simclr_secs = ssl_torch.pretrain_simclr(
        encoder, proj, x_pre, x_pre[:n_ref], y_all[:n_ref], x_val, y_val, args.epochs, args.seed)

    models = Path(args.models)
    models.mkdir(parents=True, exist_ok=True)
    draws = {}
    for n in args.draws:
        lab_file = labelled_file(args.labelled_pattern, n)
        rows = np.array(json.loads(lab_file.read_text())["indices"], dtype=np.int64)
        xs, ys = x_all[torch.from_numpy(rows)], y_all[torch.from_numpy(rows)]
        teacher = torch.nn.Sequential(copy.deepcopy(encoder), ssl_torch.build_linear(128, 10, n))
        pe, ft_secs = ssl_torch.train_classifier(teacher, list(teacher.parameters()), xs, ys,
                                                 FINETUNE["epochs"], FINETUNE["batch_size"],
                                                 FINETUNE["lr"], n)
        teacher.eval()
        teacher_acc = ssl_torch.accuracy(teacher, x_te, y_te)
        path = models / f"teacher_seed{args.seed}_draw{n}.pt"
        torch.save(teacher, path)
        log(f"[teacher draw {n}] {len(rows)} labels, test accuracy {teacher_acc:.4f} "
            f"({ft_secs:.1f}s) -> {path}")
        students = {}
        for name, method in (("student", "distillation"), ("alone", "supervised")):
            out = RESULTS / f"simclrv2_torch_{name}_draw{n}.json"
            cmd = [sys.executable, str(HERE / "semi_torch.py"), "--method", method,
                   "--seed", str(n), "--labelled", str(lab_file), "--threads", "1",
                   "--iterations", str(args.iterations), "--out", str(out)]
            if method == "distillation":
                cmd += ["--teacher", str(path)]
            log(" ".join(cmd))
            subprocess.run(cmd, check=True)
            r = json.loads(out.read_text())
            students[name] = {"test_accuracy": r["test_accuracy"],
                              "test_accuracy_raw": r["test_accuracy_raw"],
                              "train_seconds": r["train_seconds"], "file": out.name}
        draws[str(n)] = {"labelled": str(lab_file), "labelled_count": len(rows),
                         "teacher_test_accuracy": teacher_acc, "teacher_seconds": ft_secs,
                         "teacher_per_epoch": pe, **students}
        log(f"[draw {n}] teacher {teacher_acc:.4f}, distilled student "
            f"{students['student']['test_accuracy']:.4f}, alone "
            f"{students['alone']['test_accuracy']:.4f}")

    result = {
        "work": "simclrv2_1pct_fmnist", "framework": "torch", "seed": args.seed,
        "simclr_epochs": args.epochs, "simclr_seconds": simclr_secs, "simclr_per_epoch": per_epoch,
        "student_iterations": args.iterations, "finetune": FINETUNE, "draws": draws,
        "wall_seconds": time.perf_counter() - t_all,
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "threads": 1,
    }
    out = Path(args.out) if args.out else RESULTS / f"simclrv2_torch_seed{args.seed}.json"
    common.write_result(result, out, load_start, __file__, argv)
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
