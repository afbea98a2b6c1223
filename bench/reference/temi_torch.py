#!/usr/bin/env python3
"""TEMI training throughput in PyTorch: the same spec as src/clustering/temi (shared/TEMI.md),
written the way the reference code is (one nn.Module per head, torch weight_norm, torch AdamW),
so bench/train.bench.ts can report tfjs / PyTorch on the same machine.

Prints one JSON line: {"samplesPerSecond": ..., "steps": ..., "seconds": ..., "threads": ...}.
Random inputs and random neighbour indices: only throughput is measured.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Head(nn.Module):
    def __init__(self, dim, hidden, bottleneck, clusters):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, bottleneck)
        for layer in (self.fc1, self.fc2):
            nn.init.normal_(layer.weight, std=0.02)
            nn.init.zeros_(layer.bias)
        # Built after the custom init, as in the reference: default Linear init, then g = 1.
        self.last = nn.utils.weight_norm(nn.Linear(bottleneck, clusters, bias=False))
        self.last.weight_g.data.fill_(1.0)

    def forward(self, x):
        z = F.normalize(self.fc2(F.gelu(self.fc1(x))), dim=-1, p=2)
        return self.last(z)


def temi_loss(student_logits, teacher_logits, marginals, beta, tau_s, tau_t, q_momentum):
    """Per-head losses, log space; marginals updated in place before the loss."""
    batch = student_logits[0].shape[0] // 2
    with torch.no_grad():
        log_teacher = [F.log_softmax(t / tau_t, dim=-1) for t in teacher_logits]
        for h, lt in enumerate(log_teacher):
            marginals[h].mul_(q_momentum).add_((1 - q_momentum) * lt.exp().mean(0))
        weight = sum((lt[:batch].exp() * lt[batch:].exp()).sum(-1) for lt in log_teacher) / len(log_teacher)
    losses = []
    for h, s in enumerate(student_logits):
        ls = F.log_softmax(s / tau_s, dim=-1)
        lt = log_teacher[h]
        log_q = marginals[h].log()
        a = torch.logsumexp(beta * (ls[batch:] + lt[:batch]) - log_q, dim=-1)
        a2 = torch.logsumexp(beta * (ls[:batch] + lt[batch:]) - log_q, dim=-1)
        losses.append(0.5 * ((-weight * a).mean() + (-weight * a2).mean()))
    return torch.stack(losses)


def make_heads(heads, dim, hidden, bottleneck, clusters, device="cpu"):
    """Student and teacher heads (teacher not yet synced: call sync_teacher after any custom init)."""
    student = nn.ModuleList([Head(dim, hidden, bottleneck, clusters) for _ in range(heads)]).to(device)
    teacher = nn.ModuleList([Head(dim, hidden, bottleneck, clusters) for _ in range(heads)]).to(device)
    marginals = [torch.full((clusters,), 1.0 / clusters, device=device) for _ in range(heads)]
    return student, teacher, marginals


def sync_teacher(student, teacher):
    teacher.load_state_dict(student.state_dict())
    for param in teacher.parameters():
        param.requires_grad = False


def make_optimiser(student, lr):
    # Decay on the matrices only; weight_g ([C, 1] in torch) is a per-cluster gain, kept undecayed
    # to match the tfjs trainer (and TEMI.md: biases and gains are vectors per head).
    decayed = [p for n, p in student.named_parameters() if p.ndim >= 2 and not n.endswith("weight_g")]
    plain = [p for n, p in student.named_parameters() if p.ndim < 2 or n.endswith("weight_g")]
    return torch.optim.AdamW(
        [{"params": decayed, "weight_decay": 1e-4}, {"params": plain, "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.999), eps=1e-8,
    )


def train_step(student, teacher, marginals, optimiser, x, frozen=()):
    """One TEMI step on the 2B rows x (anchors then neighbours); `frozen` parameters get no update. Returns per-head losses."""
    with torch.no_grad():
        teacher_logits = [head(x) for head in teacher]
    student_logits = [head(x) for head in student]
    losses = temi_loss(student_logits, teacher_logits, marginals, 0.6, 0.1, 0.1, 0.9)
    loss = losses.mean()
    if not math.isfinite(loss.item()):
        raise RuntimeError("non-finite loss")
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    for param in frozen:
        param.grad = None
    optimiser.step()
    with torch.no_grad():
        for ps, pt in zip(student.parameters(), teacher.parameters()):
            pt.mul_(0.996).add_(ps.detach(), alpha=0.004)
    return losses.detach()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--dim", type=int, default=784)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--bottleneck", type=int, default=256)
    p.add_argument("--clusters", type=int, default=10)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--rows", type=int, default=10000)
    p.add_argument("--warmup-steps", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cuda: the GPU check's reference")
    args = p.parse_args()

    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    embeddings = torch.randn(args.rows, args.dim, device=device)
    neighbours = torch.randint(0, args.rows, (args.rows, args.k), device=device)
    student, teacher, marginals = make_heads(args.heads, args.dim, args.hidden, args.bottleneck, args.clusters, device)
    sync_teacher(student, teacher)
    optimiser = make_optimiser(student, 1e-4 * args.batch / 256)

    def step():
        anchors = torch.randint(0, args.rows, (args.batch,), device=device)
        pick = torch.randint(0, args.k, (args.batch,), device=device)
        train_step(student, teacher, marginals, optimiser, embeddings[torch.cat([anchors, neighbours[anchors, pick]])])

    for _ in range(args.warmup_steps):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "samplesPerSecond": args.steps * args.batch / seconds,
        "steps": args.steps,
        "seconds": seconds,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": str(device),
    }))


if __name__ == "__main__":
    main()
