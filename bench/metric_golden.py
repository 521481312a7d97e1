#!/usr/bin/env python3
"""Golden values for manabi's metric-learning tests (src/metric/golden_tests.rs), from PyTorch.

    bench/.venv/bin/python bench/metric_golden.py

A fixed 6 x 3 embedding with labels [0, 0, 1, 1, 2, 2]: the Euclidean distance matrix
(torch.cdist), the cosine distance matrix (1 - F.cosine_similarity), the triplet loss over
every valid triplet with torch.nn.TripletMarginLoss(margin=0.5, p=2, eps=0) and the contrastive
loss of seed 002 (1/2 D^2 for same-label pairs, 1/2 max(0, m - D)^2 otherwise, m = 1.5, mean over
all pairs i < j), and the gradient of the triplet loss with respect to the embedding.
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
