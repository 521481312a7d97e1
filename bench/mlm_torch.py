"""Speed reference for manabi's masked-piece pre-training (issue 10): the network of
recipes/text/imdb_mlm.toml in PyTorch (embedding 8000x128 with padding, learned positions,
two pre-norm Transformer blocks with 4 heads and feed-forward 256, final layer norm, head dense
128 GELU + layer norm + dense 8000 on the chosen positions only), AdamW 1e-3, batches of 64
sequences of 128 pieces with BERT's 15% / 80-10-10 masking. The pieces are random ids with the
run's layout ([CLS], 126 pieces, [SEP]); only the time per step is compared, not accuracy.

    bench/.venv/bin/python bench/mlm_torch.py --threads 2 --steps 30
"""

import argparse
import json
import time

import torch
from torch import nn

VOCAB, T, D, HEADS, FF = 8000, 128, 128, 4, 256
PAD, CLS, SEP, MASK, FIRST = 0, 2, 3, 4, 5


class Mlm(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, D)
        self.pos = nn.Parameter(torch.randn(T, D) * 0.02)
        layer = nn.TransformerEncoderLayer(
            D, HEADS, FF, dropout=0.1, activation="gelu", batch_first=True, norm_first=True
        )
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(D)
        self.head = nn.Sequential(nn.Linear(D, D), nn.GELU(), nn.LayerNorm(D), nn.Linear(D, VOCAB))

    def forward(self, ids, rows):
        x = self.emb(ids) + self.pos
        h = self.norm(self.enc(x, src_key_padding_mask=ids.eq(PAD)))
        return self.head(h.reshape(-1, D)[rows])


def batch(gen, b):
    ids = torch.randint(FIRST, VOCAB, (b, T), generator=gen)
    ids[:, 0], ids[:, -1] = CLS, SEP
    chosen = (torch.rand(b, T, generator=gen) < 0.15) & (ids >= FIRST)
    roll = torch.rand(b, T, generator=gen)
    inputs = ids.clone()
    inputs[chosen & (roll < 0.8)] = MASK
    rand = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[rand] = torch.randint(FIRST, VOCAB, (int(rand.sum()),), generator=gen)
    rows = chosen.reshape(-1).nonzero().squeeze(1)
    return inputs, rows, ids.reshape(-1)[rows]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out")
    args = ap.parse_args()
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
