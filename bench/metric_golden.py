#!/usr/bin/env python3
"""Golden values for manabi's metric-learning tests (src/metric/golden_tests.rs), from PyTorch.

    bench/.venv/bin/python bench/metric_golden.py

A fixed 6 x 3 embedding with labels [0, 0, 1, 1, 2, 2]: the Euclidean distance matrix
(torch.cdist), the cosine distance matrix (1 - F.cosine_similarity), the triplet loss over
every valid triplet with torch.nn.TripletMarginLoss(margin=0.5, p=2, eps=0) and the contrastive
loss of seed 002 (1/2 D^2 for same-label pairs, 1/2 max(0, m - D)^2 otherwise, m = 1.5, mean over
all pairs i < j), the gradient of the triplet loss with respect to the embedding, and the
miners on the same distances: batch-hard triplets (anchor order; farthest positive, nearest
negative) with their loss at margin 0.5, and semi-hard triplets (anchor, then positive
ascending; nearest negative with d_ap < d_an < d_ap + margin) with their mean loss at margins
0.5 and 1.0 ("none" when nothing is mined).
"""
import itertools

import torch
import torch.nn.functional as F

torch.set_printoptions(precision=7)
x = torch.tensor([[0.1, 0.2, -0.3], [0.0, 0.4, -0.1], [0.9, -0.2, 0.3],
                  [0.7, 0.1, 0.5], [-0.6, 0.8, 0.2], [-0.4, 0.5, 0.6]],
                 dtype=torch.float64, requires_grad=True)
labels = [0, 0, 1, 1, 2, 2]
n = len(labels)
d = torch.cdist(x, x)
cos = 1 - F.cosine_similarity(x.unsqueeze(1), x.unsqueeze(0), dim=2)
trip = [(a, p, m) for a in range(n) for p in range(n) for m in range(n)
        if p != a and labels[p] == labels[a] and labels[m] != labels[a]]
a, p, m = (torch.tensor(t) for t in zip(*trip))
loss_t = torch.nn.TripletMarginLoss(margin=0.5, p=2, eps=0.0)(x[a], x[p], x[m])
pairs = list(itertools.combinations(range(n), 2))
terms = [0.5 * d[i, j] ** 2 if labels[i] == labels[j]
         else 0.5 * torch.clamp(1.5 - d[i, j], min=0) ** 2 for i, j in pairs]
loss_c = torch.stack(terms).mean()
grad = torch.autograd.grad(loss_t, x)[0]
print("torch", torch.__version__)
print("l2 =", [round(v, 7) for v in d.flatten().tolist()])
print("cosine =", [round(v, 7) for v in cos.flatten().tolist()])
print("triplet_all_margin_0_5 =", round(loss_t.item(), 7))
print("contrastive_all_margin_1_5 =", round(loss_c.item(), 7))
print("triplet_grad =", [round(v, 7) for v in grad.flatten().tolist()])


# --- miners (batch-hard, semi-hard) on the same embedding and distances -----------------------
def batch_hard(dist, lab, margin):
    """For each anchor: farthest positive (same label, not itself), nearest negative (first index
    on ties); loss = mean over anchors of max(0, d_ap - d_an + margin)."""
    same = lab[:, None] == lab[None, :]
    eye = torch.eye(len(lab), dtype=torch.bool)
    pos = torch.where(same & ~eye, dist, torch.full_like(dist, float("-inf"))).argmax(1)
    neg = torch.where(~same, dist, torch.full_like(dist, float("inf"))).argmin(1)
    anc = torch.arange(len(lab))
    loss = torch.clamp(dist[anc, pos] - dist[anc, neg] + margin, min=0).mean()
    return list(zip(anc.tolist(), pos.tolist(), neg.tolist())), loss


def semi_hard(dist, lab, margin):
    """For each anchor a ascending, each positive p != a ascending: the nearest negative n with
    d_ap < d_an < d_ap + margin (first index on ties), skipped if none; loss = mean over the
    mined triplets of max(0, d_ap - d_an + margin), None if nothing was mined."""
    same = lab[:, None] == lab[None, :]
    eye = torch.eye(len(lab), dtype=torch.bool)
    anc, pos = torch.nonzero(same & ~eye, as_tuple=True)  # row-major order
    d_ap = dist[anc, pos][:, None]
    d_an = dist[anc]
    ok = ~same[anc] & (d_an > d_ap) & (d_an < d_ap + margin)
    neg = torch.where(ok, d_an, torch.full_like(d_an, float("inf"))).argmin(1)
    found = ok.any(1)
    anc, pos, neg = anc[found], pos[found], neg[found]
    if len(anc) == 0:
        return [], None
    loss = torch.clamp(dist[anc, pos] - dist[anc, neg] + margin, min=0).mean()
    return list(zip(anc.tolist(), pos.tolist(), neg.tolist())), loss


lab = torch.tensor(labels)
dd = d.detach()
bh, loss_bh = batch_hard(dd, lab, 0.5)
print("batch_hard_triplets =", bh)
print("batch_hard_margin_0_5 =", round(loss_bh.item(), 7))
for margin, tag in ((0.5, "0_5"), (1.0, "1_0")):
    sh, loss_sh = semi_hard(dd, lab, margin)
    print(f"semi_hard_triplets_margin_{tag} =", sh)
    print(f"semi_hard_margin_{tag} =", "none" if loss_sh is None else round(loss_sh.item(), 7))
