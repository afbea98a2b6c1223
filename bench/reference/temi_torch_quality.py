#!/usr/bin/env python3
"""TEMI per shared/TEMI.md in PyTorch on Fashion-MNIST, for a same-features parity check of the
tfjs trainer (bench:quality's temi row): 10k test split, pixels/255, exact cosine kNN (k 50,
self excluded), 16 heads, 30 epochs, batch 256, lr 1e-4 * B/256 with a 5-epoch linear warm-up,
last layer frozen in epoch 1, teacher EMA 0.996, best head by last-epoch loss, predictions from
the teacher's best head. Reuses the heads, optimiser and step of temi_torch.py (the throughput reference).

Usage: /usr/bin/python3 bench/reference/temi_torch_quality.py [--epochs 30] [--threads 2] [--seed 0]
       [--trace DIR]   replay a trace written by bench/reference/export-temi-trace.ts: the tfjs
                       trainer's initial parameters and its exact step-by-step row indices
Prints progress per epoch, then one JSON line with ACC/NMI/ARI, clusters used and samples/s.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from temi_torch import make_heads, make_optimiser, sync_teacher, train_step  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def accuracy(truth, pred):
    k = max(truth.max(), pred.max()) + 1
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (pred, truth), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / len(truth)


def load_trace(directory, student):
    """Copies the tfjs trainer's batched initial parameters into the per-head modules."""
    with open(os.path.join(directory, "manifest.json")) as f:
        m = json.load(f)
    h, d, hid, p, c = m["heads"], m["dim"], m["hidden"], m["bottleneck"], m["clusters"]

    def read(name, dtype=np.float32):
        return torch.from_numpy(np.fromfile(os.path.join(directory, name), dtype=dtype))
    w1 = read("w1.f32").reshape(d, h * hid)
    b1 = read("b1.f32").reshape(h, hid)
    w2 = read("w2.f32").reshape(h, hid, p)
    b2 = read("b2.f32").reshape(h, p)
    v = read("v.f32").reshape(h, p, c)
    g = read("g.f32").reshape(h, c)
    with torch.no_grad():
        for i, head in enumerate(student):
            head.fc1.weight.copy_(w1[:, i * hid:(i + 1) * hid].T)
            head.fc1.bias.copy_(b1[i])
            head.fc2.weight.copy_(w2[i].T)
            head.fc2.bias.copy_(b2[i])
            head.last.weight_v.copy_(v[i].T)
            head.last.weight_g.copy_(g[i][:, None])
    rows = read("rows.i32", np.int32).long().reshape(m["epochs"] * m["stepsPerEpoch"], -1)
    return {"epochs": m["epochs"], "rows": rows}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--trace", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    x = torch.from_numpy(read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz").reshape(10000, -1).astype(np.float32) / 255.0)
    y = read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    unit = torch.nn.functional.normalize(x, dim=1)
    sims = unit @ unit.T
    sims.fill_diagonal_(-2.0)
    neighbours = sims.topk(args.k, dim=1).indices
    del sims

    heads, dim, clusters, batch = args.heads, x.shape[1], 10, 256
    student, teacher, marginals = make_heads(heads, dim, 512, 256, clusters)
    trace = load_trace(args.trace, student) if args.trace else None
    if trace is not None:
        args.epochs = trace["epochs"]
    sync_teacher(student, teacher)
    peak = 1e-4 * batch / 256
    optimiser = make_optimiser(student, peak)
    last_layer = [p for n, p in student.named_parameters() if ".last." in n]
    steps_per_epoch = x.shape[0] // batch
    warmup_steps = 5 * steps_per_epoch
    started = time.perf_counter()
    step_count = 0
    for epoch in range(args.epochs):
        order = torch.randperm(x.shape[0])
        head_loss = torch.zeros(heads)
        for s in range(steps_per_epoch):
            if trace is not None:
                rows = trace["rows"][step_count]
            else:
                anchors = order[s * batch:(s + 1) * batch]
                pick = torch.randint(0, args.k, (batch,))
                rows = torch.cat([anchors, neighbours[anchors, pick]])
            xb = x[rows]
            for group in optimiser.param_groups:
                group["lr"] = peak * min(1.0, step_count / warmup_steps)
            losses = train_step(student, teacher, marginals, optimiser, xb, frozen=last_layer if epoch == 0 else ())
            head_loss += losses
            step_count += 1
        head_loss /= steps_per_epoch
        print(f"epoch {epoch + 1}: loss {head_loss.mean():.4f} ({time.perf_counter() - started:.0f} s)", flush=True)
    seconds = time.perf_counter() - started
    best = int(head_loss.argmin())
    with torch.no_grad():
        pred = teacher[best](x).argmax(1).numpy()
    print(json.dumps({
        "acc": round(float(accuracy(y, pred)), 4),
        "nmi": round(float(normalized_mutual_info_score(y, pred)), 4),
        "ari": round(float(adjusted_rand_score(y, pred)), 4),
        "clustersUsed": int(len(set(pred.tolist()))),
        "bestHead": best,
        "epochs": args.epochs,
        "samplesPerSecond": round(step_count * batch / seconds, 1),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
