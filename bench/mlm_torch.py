"""Speed reference for manabi's masked-piece pre-training (issue 10): the network of
recipes/text/imdb_mlm.toml in PyTorch (embedding 8000x128 with padding, learned positions,
two pre-norm Transformer blocks with 4 heads and feed-forward 256, final layer norm, head dense
128 GELU + layer norm + dense 8000 on the chosen positions only), AdamW 1e-3, batches of 64
sequences of 128 pieces with BERT's 15% / 80-10-10 masking. The pieces are random ids with the
run's layout ([CLS], 126 pieces, [SEP]); only the time per step is compared, not accuracy.

    bench/.venv/bin/python bench/mlm_torch.py --threads 2 --steps 30

With ``--data DIR`` it trains instead of timing: the ids are real reviews, the ``train.csv`` and
``val.csv`` that ``manabi export-data`` writes for the pre-training recipe with the run's
vocabulary (`label,x0..x127` rows, labels unused), and the schedule is the recipe's: AdamW
``--lr`` (2e-3) with weight decay 0.01, gradient norm clipped at 1, a linear warm-up over the
first ``--steps-per-epoch`` steps ((step + 1) / W, as manabi's schedule) and cosine decay to 0
over the rest, no dropout. Batches of 64 rows are drawn from a fresh permutation of the
training rows each epoch. After every epoch the masked-piece accuracy and loss on the
validation rows are printed (masks drawn once, seeded), so the learning curve can be laid
beside manabi's ``history.csv`` on the same reviews (a check that the two learn alike).

    manabi export-data RECIPE --out DIR    # RECIPE: imdb_mlm.toml with vocab = the run
    bench/.venv/bin/python bench/mlm_torch.py --threads 2 --data DIR --epochs 4 \
        --steps-per-epoch 100 --out bench/results/mlm_torch_curve.json
"""

import argparse
import json
import time

import torch
from torch import nn

VOCAB, T, D, HEADS, FF = 8000, 128, 128, 4, 256
PAD, CLS, SEP, MASK, FIRST = 0, 2, 3, 4, 5


class Mlm(nn.Module):
    def __init__(self, dropout=0.1, keras_init=False):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, D)
        self.pos = nn.Parameter(torch.randn(T, D) * 0.02)
        if keras_init:  # manabi's: embedding and positions uniform(-0.05, 0.05), dense Glorot
            nn.init.uniform_(self.emb.weight, -0.05, 0.05)
            nn.init.uniform_(self.pos, -0.05, 0.05)
        layer = nn.TransformerEncoderLayer(
            D, HEADS, FF, dropout=dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(D)
        self.head = nn.Sequential(nn.Linear(D, D), nn.GELU(), nn.LayerNorm(D), nn.Linear(D, VOCAB))
        if keras_init:
            for m in self.head:
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)

    def forward(self, ids, rows):
        x = self.emb(ids) + self.pos
        h = self.norm(self.enc(x, src_key_padding_mask=ids.eq(PAD)))
        return self.head(h.reshape(-1, D)[rows])


def mask_rows(ids, gen):
    """BERT's rule on real ids: 15% of the non-special pieces chosen (at least one per row),
    80% [MASK], 10% a random piece, 10% unchanged."""
    chosen = (torch.rand(ids.shape, generator=gen) < 0.15) & (ids >= FIRST)
    for r in range(ids.shape[0]):
        if not chosen[r].any():
            cand = (ids[r] >= FIRST).nonzero().squeeze(1)
            if len(cand):
                chosen[r, cand[torch.randint(len(cand), (1,), generator=gen)]] = True
    roll = torch.rand(ids.shape, generator=gen)
    inputs = ids.clone()
    inputs[chosen & (roll < 0.8)] = MASK
    rand = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[rand] = torch.randint(FIRST, VOCAB, (int(rand.sum()),), generator=gen)
    rows = chosen.reshape(-1).nonzero().squeeze(1)
    return inputs, rows, ids.reshape(-1)[rows]


def batch(gen, b):
    """A timing batch: random pieces in the run's layout ([CLS], 126 pieces, [SEP]), masked."""
    ids = torch.randint(FIRST, VOCAB, (b, T), generator=gen)
    ids[:, 0], ids[:, -1] = CLS, SEP
    return mask_rows(ids, gen)


def read_ids(path):
    import numpy as np

    return torch.from_numpy(np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)[:, 1:])


def train(args):
    import math

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    tr, va = read_ids(f"{args.data}/train.csv"), read_ids(f"{args.data}/val.csv")
    assert tr.shape[1] == T, tr.shape
    v_in, v_rows, v_tgt = mask_rows(va, torch.Generator().manual_seed(7))
    model = Mlm(dropout=0.0, keras_init=args.keras_init)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()
    total, warm = args.epochs * args.steps_per_epoch, args.steps_per_epoch
    curve, step, started = [], 0, time.perf_counter()
    for epoch in range(args.epochs):
        perm = torch.randperm(len(tr), generator=gen)
        model.train()
        sum_loss = 0.0
        for i in range(args.steps_per_epoch):
            idx = perm[(i * args.batch) % len(tr):][:args.batch]
            inputs, rows, targets = mask_rows(tr[idx], gen)
            w = (step + 1) / warm if step < warm else 1.0
            progress = min(max(step - warm, 0) / max(total - warm, 1), 1.0)
            for g in opt.param_groups:
                g["lr"] = w * args.lr * 0.5 * (1.0 + math.cos(math.pi * progress))
            loss = loss_fn(model(inputs, rows), targets)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sum_loss += loss.item()
            step += 1
        model.eval()
        with torch.no_grad():
            # 100 rows at a time; their chosen positions re-indexed within the chunk
            logits = torch.cat([
                model(v_in[i:i + 100], v_rows[(v_rows >= i * T) & (v_rows < (i + 100) * T)] - i * T)
                for i in range(0, len(va), 100)])
        val_loss = loss_fn(logits, v_tgt).item()
        val_acc = (logits.argmax(1) == v_tgt).double().mean().item()
        curve.append({"epoch": epoch + 1, "loss": sum_loss / args.steps_per_epoch,
                      "val_loss": val_loss, "val_masked_accuracy": val_acc,
                      "seconds": time.perf_counter() - started})
        print(json.dumps(curve[-1]), flush=True)
    result = {"framework": f"torch {torch.__version__}", "threads": args.threads,
              "keras_init": args.keras_init,
              "batch": args.batch, "lr": args.lr, "steps": total, "curve": curve,
              "parameters": sum(p.numel() for p in model.parameters())}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out")
    ap.add_argument("--data", help="train on manabi export-data ids in DIR (see the docstring)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--steps-per-epoch", type=int, default=100)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--keras-init", action="store_true",
                    help="--data: manabi's initialisers for the embedding, positions and head")
    args = ap.parse_args()
    if args.data:
        train(args)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    model = Mlm()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for step in range(args.steps + 3):
        inputs, rows, targets = batch(gen, args.batch)
        started = time.perf_counter()
        loss = loss_fn(model(inputs, rows), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= 3:  # warm-up steps are not timed
            times.append(time.perf_counter() - started)
    per_step = sum(times) / len(times)
    result = {
        "framework": f"torch {torch.__version__}",
        "threads": args.threads,
        "batch": args.batch,
        "seq_len": T,
        "steps_timed": len(times),
        "seconds_per_step": per_step,
        "pieces_per_second": args.batch * T / per_step,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    print(json.dumps(result))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
