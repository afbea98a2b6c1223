#!/usr/bin/env python3
"""TEMI per shared/TEMI.md in PyTorch on Fashion-MNIST, for a same-features parity check of the
tfjs trainer (bench:quality's temi row): 10k test split, pixels/255, exact cosine kNN (k 50,
self excluded), 16 heads, 30 epochs, batch 256, lr 1e-4 * B/256 with a 5-epoch linear warm-up,
last layer frozen in epoch 1, teacher EMA 0.996, best head by last-epoch loss, predictions from
the teacher's best head. Reuses the heads, optimiser and step of temi_torch.py (the throughput reference).

Usage: /usr/bin/python3 bench/reference/temi_torch_quality.py [--epochs 30] [--threads 2] [--seed 0]
       [--heads 16] [--limit N]   the first N records only (kNN among them)
       [--trace DIR]   replay a trace written by bench/reference/export-temi-trace.ts: the tfjs
                       trainer's initial parameters and its exact step-by-step row indices
       [--export-trace DIR]   write this run's own draws (initial student parameters, every
                       step's row indices, the kNN table) in the same format, for the tfjs
                       trainer to replay (bench:quality's "temi (PyTorch seed N draws)" row)
       [--export-only]   with --export-trace: write the draws and exit without training
       [--predictions FILE]   write the served head's cluster per record (int32)
Prints progress per epoch, then one JSON line with ACC/NMI/ARI, clusters used, samples/s and the
per-epoch mean losses.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from idx_scores import accuracy, read_idx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from temi_torch import make_heads, make_optimiser, sync_teacher, train_step  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


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


def draw_schedule(epochs, count, batch, k, neighbours):
    """Every step's 2B row indices, drawn in the order the training loop consumes them: per epoch
    a permutation of the records, then per step one random neighbour of each anchor. Nothing else
    draws from torch's generator during training, so drawing them up front changes no result."""
    steps_per_epoch = count // batch
    steps = []
    for _ in range(epochs):
        order = torch.randperm(count)
        for s in range(steps_per_epoch):
            anchors = order[s * batch:(s + 1) * batch]
            pick = torch.randint(0, k, (batch,))
            steps.append(torch.cat([anchors, neighbours[anchors, pick]]))
    return torch.stack(steps)


def export_trace(directory, student, rows, neighbours, epochs, steps_per_epoch, batch, seed):
    """The inverse of load_trace: student parameters in the tfjs trainer's batched layout."""
    os.makedirs(directory, exist_ok=True)
    h = len(student)
    first = student[0]
    hid, d = first.fc1.weight.shape
    p, c = first.fc2.weight.shape[0], first.last.weight_v.shape[0]
    with torch.no_grad():
        params = {
            "w1": torch.cat([head.fc1.weight.T for head in student], dim=1),
            "b1": torch.stack([head.fc1.bias for head in student]),
            "w2": torch.stack([head.fc2.weight.T for head in student]),
            "b2": torch.stack([head.fc2.bias for head in student]),
            "v": torch.stack([head.last.weight_v.T for head in student]),
            "g": torch.stack([head.last.weight_g[:, 0] for head in student]),
        }
    for name, value in params.items():
        value.contiguous().numpy().astype(np.float32).tofile(os.path.join(directory, f"{name}.f32"))
    rows.numpy().astype(np.int32).tofile(os.path.join(directory, "rows.i32"))
    neighbours.numpy().astype(np.int32).tofile(os.path.join(directory, "neighbours.i32"))
    manifest = {"heads": h, "dim": d, "hidden": hid, "bottleneck": p, "clusters": c, "k": neighbours.shape[1],
                "epochs": epochs, "stepsPerEpoch": steps_per_epoch, "batch": batch, "seed": seed,
                "count": neighbours.shape[0], "source": "pytorch " + torch.__version__}
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--limit", type=int, default=10000)
    p.add_argument("--trace", default=None)
    p.add_argument("--export-trace", default=None)
    p.add_argument("--export-only", action="store_true")
    p.add_argument("--predictions", default=None)
    args = p.parse_args()
    if args.export_only and not args.export_trace:
        p.error("--export-only needs --export-trace DIR")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    x = torch.from_numpy(read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz").reshape(10000, -1)[:args.limit].astype(np.float32) / 255.0)
    y = read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz")[:args.limit].astype(np.int64)
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
    schedule = trace["rows"] if trace is not None else draw_schedule(args.epochs, x.shape[0], batch, args.k, neighbours)
    if args.export_trace:
        export_trace(args.export_trace, student, schedule, neighbours, args.epochs, steps_per_epoch, batch, args.seed)
        print(f"wrote {args.export_trace}: {args.epochs} epochs x {steps_per_epoch} steps, init of {heads} heads", flush=True)
        if args.export_only:
            return
    started = time.perf_counter()
    step_count = 0
    epoch_losses = []
    for epoch in range(args.epochs):
        head_loss = torch.zeros(heads)
        for s in range(steps_per_epoch):
            xb = x[schedule[step_count]]
            for group in optimiser.param_groups:
                group["lr"] = peak * min(1.0, step_count / warmup_steps)
            losses = train_step(student, teacher, marginals, optimiser, xb, frozen=last_layer if epoch == 0 else ())
            head_loss += losses
            step_count += 1
        head_loss /= steps_per_epoch
        epoch_losses.append(round(float(head_loss.mean()), 6))
        print(f"epoch {epoch + 1}: loss {head_loss.mean():.4f} ({time.perf_counter() - started:.0f} s)", flush=True)
    seconds = time.perf_counter() - started
    best = int(head_loss.argmin())
    with torch.no_grad():
        pred = teacher[best](x).argmax(1).numpy()
    if args.predictions:
        pred.astype(np.int32).tofile(args.predictions)
    print(json.dumps({
        "acc": round(float(accuracy(y, pred)), 4),
        "nmi": round(float(normalized_mutual_info_score(y, pred)), 4),
        "ari": round(float(adjusted_rand_score(y, pred)), 4),
        "clustersUsed": int(len(set(pred.tolist()))),
        "bestHead": best,
        "epochs": args.epochs,
        "epochLosses": epoch_losses,
        "samplesPerSecond": round(step_count * batch / seconds, 1),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
