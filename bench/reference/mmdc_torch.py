#!/usr/bin/env python3
"""MMDC per shared/MMDC.md and docs/MMDC.md in PyTorch: the reference the tfjs `mmdc` trainer
(src/clustering/mmdc) is held against. Same network (cnn4 or ResNet-18-style trunk, unit-sphere
head, rotation head), same views (crop / rotate / flip / jitter rendered on the host with the
same bilinear formula), same per-batch Hungarian matching of equal-size one-hot targets, same
rotation epochs and k-means refinement, same SGD (momentum 0.9, weight decay on weights only).
Written from the spec and the tfjs trainer, not copied from the official code.

Usage: /usr/bin/python3 bench/reference/mmdc_torch.py [--split test|train] [--limit N] [--seed 0]
       [--epochs 12] [--widths 16,32,64,128] [--rotation-every 4] [--no-rotation]
       [--refine-fraction 0.25] [--match-view plain|augmented] [--batch 128] [--lr 0.05] [--threads 2]
       [--crops 0.857,0.714,0.571]   crop sides as fractions of the side (the trainer's `crops`)
       [--flip] [--pool average|flatten]   exploration only, no trainer option: mirror half the
                       clustering views; heads on the flattened last map (the official network's
                       layout) instead of its global average (docs/BENCHMARKS.md, held-out settings)
       [--random-images]   uniform random pixels instead of the dataset (bench:train's throughput row)
       [--trace DIR]   replay the draws the tfjs trainer recorded (bench/reference/mmdc-trace.ts):
                       initial parameters, targets, every epoch's order and views; the schedule
                       and sizes come from its manifest
       [--restarts R]  R independent starts, the lowest final clustering loss kept (the trainer's
                       `restarts`; start r > 0 seeded as the trainer derives it)
       [--predictions FILE]   write the cluster of every record (int32)
       [--embeddings FILE]    exploration: the last start's final outputs and pooled trunk
                       features (.npz), to try other final assignments on them
Prints progress per epoch, then one JSON line: per-epoch losses, ACC/NMI, samples/s, seconds.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from idx_scores import accuracy, read_idx

DATA = "/usr/share/datasets/fashion-mnist"
GREY = {"crops": [24 / 28, 20 / 28, 16 / 28], "inferenceCrop": 24 / 28, "rotationDegrees": 25.0}
BN_MOMENTUM = 0.1
BN_EPS = 1e-5
CHUNK = 512
VIEW_FIELDS = ["angle", "crop", "offsetX", "offsetY", "flip", "brightness", "contrast"]


# ---------------------------------------------------------------- network (TensorFlow layouts)

def layout(trunk, shape, widths, out_dim, pool="average"):
    """[(name, shape, init, decays)] in the tfjs trainer's order; conv [kh, kw, in, out], dense [in, out]."""
    params, bns = [], []

    def conv(name, k, cin, cout):
        params.append((name, (k, k, cin, cout), "conv", True))

    def bn(name, c):
        params.append((f"{name}.gamma", (c,), "ones", False))
        params.append((f"{name}.beta", (c,), "zeros", False))
        bns.append((name, c))

    if trunk == "cnn4":
        cin = shape[2]
        for i, w in enumerate(widths):
            conv(f"conv{i}.w", 3, cin, w)
            bn(f"bn{i}", w)
            cin = w
    else:
        base = widths[0]
        conv("stem.w", 3, shape[2], base)
        bn("stem.bn", base)
        cin = base
        for stage, w in enumerate([base, base * 2, base * 4, base * 8]):
            for block in range(2):
                p = f"s{stage}b{block}"
                stride = 2 if stage > 0 and block == 0 else 1
                conv(f"{p}.conv1.w", 3, cin, w)
                bn(f"{p}.bn1", w)
                conv(f"{p}.conv2.w", 3, w, w)
                bn(f"{p}.bn2", w)
                if stride != 1 or cin != w:
                    conv(f"{p}.shortcut.w", 1, cin, w)
                    bn(f"{p}.shortcut.bn", w)
                cin = w
    if pool == "flatten":  # cnn4 only: the last map (3 pools) flattened, NHWC order
        side_h, side_w = shape[0], shape[1]
        for _ in range(len(widths) - 1):
            side_h, side_w = side_h // 2, side_w // 2
        cin = cin * side_h * side_w
    params += [("head.w", (cin, out_dim), "dense", True), ("head.b", (out_dim,), "zeros", False),
               ("rotation.w", (cin, 4), "dense", True), ("rotation.b", (4,), "zeros", False)]
    return params, bns


def initial_params(spec, rng):
    """Kaiming-normal convolutions, N(0, 1/fan_in) dense layers, BN 1/0, biases 0 (as the tfjs trainer)."""
    out = {}
    for name, shape, init, _ in spec:
        if init == "ones":
            v = np.ones(shape, np.float32)
        elif init == "zeros":
            v = np.zeros(shape, np.float32)
        elif init == "conv":
            v = (rng.standard_normal(shape) * math.sqrt(2 / (shape[0] * shape[1] * shape[2]))).astype(np.float32)
        else:
            v = (rng.standard_normal(shape) / math.sqrt(shape[0])).astype(np.float32)
        out[name] = v
    return out


class Network:
    def __init__(self, trunk, widths, spec, bns, values, pool="average"):
        self.trunk, self.widths, self.pool = trunk, widths, pool
        self.params = {name: torch.tensor(values[name]).requires_grad_() for name, *_ in spec}
        self.decays = {name: decays for name, _, _, decays in spec}
        self.stats = {}
        for name, c in bns:
            self.stats[f"{name}.mean"] = torch.zeros(c)
            self.stats[f"{name}.var"] = torch.ones(c)

    def conv(self, x, name, stride):
        w = self.params[name].permute(3, 2, 0, 1)
        return F.conv2d(x, w, stride=stride, padding=1 if w.shape[2] == 3 else 0)

    def bn(self, x, name, training):
        return F.batch_norm(x, self.stats[f"{name}.mean"], self.stats[f"{name}.var"], self.params[f"{name}.gamma"],
                            self.params[f"{name}.beta"], training=training, momentum=BN_MOMENTUM, eps=BN_EPS)

    def pooled(self, x, training):
        """x: NHWC float32 -> pooled trunk features."""
        x = x.permute(0, 3, 1, 2)
        if self.trunk == "cnn4":
            last = len(self.widths) - 1
            for i in range(last + 1):
                x = F.relu(self.bn(self.conv(x, f"conv{i}.w", 1), f"bn{i}", training))
                if i < last:
                    x = F.max_pool2d(x, 2, 2)
        else:
            x = F.relu(self.bn(self.conv(x, "stem.w", 1), "stem.bn", training))
            for stage in range(4):
                for block in range(2):
                    p = f"s{stage}b{block}"
                    stride = 2 if stage > 0 and block == 0 else 1
                    y = self.bn(self.conv(F.relu(self.bn(self.conv(x, f"{p}.conv1.w", stride), f"{p}.bn1", training)),
                                          f"{p}.conv2.w", 1), f"{p}.bn2", training)
                    s = self.bn(self.conv(x, f"{p}.shortcut.w", stride), f"{p}.shortcut.bn", training) \
                        if f"{p}.shortcut.w" in self.params else x
                    x = F.relu(y + s)
        if self.pool == "flatten":
            return x.permute(0, 2, 3, 1).flatten(1)
        return x.mean(dim=(2, 3))

    def features(self, pooled):
        z = pooled @ self.params["head.w"] + self.params["head.b"]
        return z / torch.clamp(z.norm(dim=1, keepdim=True), min=1e-12)

    def rotation(self, pooled):
        return pooled @ self.params["rotation.w"] + self.params["rotation.b"]


# ---------------------------------------------------------------- views (as src/clustering/mmdc/augment.ts)

def draw_views(count, cfg, rng, rotation_task):
    v = plain_views(count, 1.0)
    crops = np.asarray(cfg["crops"], np.float32)
    v["crop"] = crops[rng.integers(0, len(crops), count)]
    v["offsetX"] = rng.random(count).astype(np.float32)
    v["offsetY"] = rng.random(count).astype(np.float32)
    max_angle = 0.0 if rotation_task else cfg["rotationDegrees"] * math.pi / 180
    v["angle"] = ((2 * rng.random(count) - 1) * max_angle).astype(np.float32)
    if cfg.get("flip") and not rotation_task:
        v["flip"] = (rng.random(count) < 0.5).astype(np.float32)
    return v


def plain_views(count, crop):
    return {"angle": np.zeros(count, np.float32), "crop": np.full(count, crop, np.float32),
            "offsetX": np.full(count, 0.5, np.float32), "offsetY": np.full(count, 0.5, np.float32),
            "flip": np.zeros(count, np.float32), "brightness": np.ones(count, np.float32),
            "contrast": np.ones(count, np.float32)}


def render(images, rows, views, offset):
    """images [N, H, W, C] float32; view offset + k for rows[k]; the same formula as renderView."""
    n = len(rows)
    _, h, w, c = images.shape
    g = lambda name: views[name][offset:offset + n].astype(np.float64)[:, None, None]  # noqa: E731
    crop, angle = g("crop"), g("angle")
    crop_w, crop_h = crop * w, crop * h
    origin_x, origin_y = g("offsetX") * (w - crop_w), g("offsetY") * (h - crop_h)
    jj, ii = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    px = origin_x + ((jj + 0.5) * crop_w) / w - w / 2
    py = origin_y + ((ii + 0.5) * crop_h) / h - h / 2
    cos, sin = np.cos(angle), np.sin(angle)
    sx = w / 2 + cos * px - sin * py
    sy = h / 2 + sin * px + cos * py
    sx = np.where(g("flip") == 1, w - sx, sx)
    x, y = sx - 0.5, sy - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    src = images[np.asarray(rows)].astype(np.float64)
    batch = np.arange(n)[:, None, None]

    def at(yy, xx):
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        vals = src[batch, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
        return np.where(inside[..., None], vals, 0.0)

    out = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1))
    out = out.astype(np.float32)
    b = views["brightness"][offset:offset + n].astype(np.float64)
    ct = views["contrast"][offset:offset + n].astype(np.float64)
    jitter = (b != 1) | (ct != 1)
    if jitter.any():
        o = out.astype(np.float64)
        mean = o.reshape(n, -1).mean(axis=1)[:, None, None, None]
        o = np.clip(((o - mean) * ct[:, None, None, None] + mean) * b[:, None, None, None], 0, 1)
        out = np.where(jitter[:, None, None, None], o, out).astype(np.float32)
    return out


def four_rotations(batch):
    """Each image in 0, 90, 180, 270 degrees counter-clockwise, interleaved per image; labels 0..3."""
    imgs = np.stack([np.rot90(batch, r, axes=(1, 2)) for r in range(4)], axis=1)
    return np.ascontiguousarray(imgs.reshape(-1, *batch.shape[1:])), np.tile(np.arange(4), len(batch))


# ---------------------------------------------------------------- draws: own (numpy) or replayed (trace)

class OwnDraws:
    def __init__(self, seed, cfg):
        self.rng = np.random.default_rng(seed)
        self.cfg = cfg

    def params(self, spec):
        return initial_params(spec, self.rng)

    def targets(self, count, k, d):
        order = self.rng.permutation(count)
        t = np.zeros((count, d), np.float32)
        t[order, np.arange(count) % k] = 1
        return t

    def order(self, count):
        return self.rng.permutation(count)

    def views(self, count, rotation_task):
        return draw_views(count, self.cfg, self.rng, rotation_task)


class TraceDraws:
    """Replays bench/reference/mmdc-trace.ts: the tfjs trainer's draws, in the order it made them."""

    def __init__(self, directory, manifest):
        self.m = manifest
        read = lambda name, dt: np.fromfile(os.path.join(directory, name), dtype=dt)  # noqa: E731
        self.param_values = read("params.f32", np.float32)
        self.target_values = read("targets.f32", np.float32)
        self.orders = read("orders.i32", np.int32)
        self.view_values = read("views.f32", np.float32)
        self.at = {"orders": 0, "views": 0, "targets": 0}

    def params(self, spec):
        out, offset = {}, 0
        for name, shape, *_ in spec:
            size = int(np.prod(shape))
            out[name] = self.param_values[offset:offset + size].reshape(shape).copy()
            offset += size
        return out

    def targets(self, count, k, d):
        a = self.at["targets"]
        self.at["targets"] += count * d
        return self.target_values[a:a + count * d].reshape(count, d).copy()

    def order(self, count):
        a = self.at["orders"]
        self.at["orders"] += count
        return self.orders[a:a + count].astype(np.int64)

    def views(self, count, rotation_task):
        a = self.at["views"]
        self.at["views"] += count * len(VIEW_FIELDS)
        block = self.view_values[a:a + count * len(VIEW_FIELDS)].reshape(len(VIEW_FIELDS), count)
        return {name: block[i].copy() for i, name in enumerate(VIEW_FIELDS)}


# ---------------------------------------------------------------- training

def embed(net, images, crop, pooled_only=False):
    """The plain views through the network in eval mode: unit outputs, or the pooled trunk features."""
    outs = []
    with torch.no_grad():
        for start in range(0, len(images), CHUNK):
            rows = np.arange(start, min(start + CHUNK, len(images)))
            x = images[rows] if crop == 1 else render(images, rows, plain_views(len(rows), crop), 0)
            pooled = net.pooled(torch.from_numpy(x), False)
            outs.append((pooled if pooled_only else net.features(pooled)).numpy())
    return np.concatenate(outs)


def match_batch(outputs, targets, rows):
    batch = targets[rows].copy()
    diff = outputs.astype(np.float64)[:, None, :] - batch.astype(np.float64)[None, :, :]
    cost = np.sqrt((diff ** 2).sum(axis=2))
    r, c = linear_sum_assignment(cost)
    targets[rows[r]] = batch[c]


def refinement_targets(outputs, previous, k, seed):
    labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(outputs).labels_
    prev = previous[:, :k].argmax(axis=1)
    counts = np.zeros((k, k))
    np.add.at(counts, (labels, prev), 1)
    r, c = linear_sum_assignment(-counts)
    perm = np.empty(k, np.int64)
    perm[r] = c
    t = np.zeros_like(previous)
    t[np.arange(len(labels)), perm[labels]] = 1
    return t


def sgd(net, lr, momentum, wd):
    decay = [p for n, p in net.params.items() if net.decays[n]]
    no_decay = [p for n, p in net.params.items() if not net.decays[n]]
    return torch.optim.SGD([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                           lr=lr, momentum=momentum)


def train(images, cfg, draws, epochs, log):
    count = len(images)
    shape = images.shape[1:]
    pool = cfg.get("pool", "average")
    spec, bns = layout(cfg["trunk"], shape, cfg["widths"], cfg["outputDim"], pool)
    net = Network(cfg["trunk"], cfg["widths"], spec, bns, draws.params(spec), pool)
    opt = sgd(net, cfg["learningRate"], cfg["momentum"], cfg["weightDecay"])
    k, d, batch = cfg["clusters"], cfg["outputDim"], cfg["batchSize"]
    targets = draws.targets(count, k, d)
    refine_from = epochs - math.floor(epochs * cfg["refineFraction"])
    decay_from = epochs - math.floor(epochs * cfg.get("decayFraction", 0))
    history, samples = [], 0
    started = time.time()

    def step(loss):
        opt.zero_grad(set_to_none=True)  # unused heads get no update, as in the tfjs trainer
        loss.backward()
        opt.step()
        return loss.item()

    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = cfg["learningRate"] * (cfg.get("decayFactor", 0.1) if epoch >= decay_from else 1)
        rotation = None
        if cfg["rotation"] and epoch % cfg["rotationEvery"] == 0:
            order, views, losses = draws.order(count), draws.views(count, True), []
            for start in range(0, count, batch):
                rows = order[start:start + batch]
                if len(rows) < 2:
                    continue
                imgs, labels = four_rotations(render(images, rows, views, start))
                logits = net.rotation(net.pooled(torch.from_numpy(imgs), True))
                losses.append(step(F.cross_entropy(logits, torch.from_numpy(labels))))
            rotation = float(np.mean(losses))
            samples += 4 * count
        refining = epoch >= refine_from
        if refining:
            targets = refinement_targets(embed(net, images, cfg["inferenceCrop"]), targets, k, cfg["seed"] + epoch)
        order, views, losses = draws.order(count), draws.views(count, False), []
        for start in range(0, count, batch):
            rows = order[start:start + batch]
            if len(rows) < 2:
                continue
            if not refining and cfg["matchView"] == "plain":
                with torch.no_grad():
                    plain = render(images, rows, plain_views(len(rows), cfg["inferenceCrop"]), 0)
                    match_batch(net.features(net.pooled(torch.from_numpy(plain), False)).numpy(), targets, rows)
            f = net.features(net.pooled(torch.from_numpy(render(images, rows, views, start)), True))
            if not refining and cfg["matchView"] == "augmented":
                match_batch(f.detach().numpy(), targets, rows)
            losses.append(step(F.mse_loss(f, torch.from_numpy(targets[rows]))))
        samples += count
        history.append({"clustering": float(np.mean(losses)), "rotation": rotation, "refining": refining})
        log(f"epoch {epoch + 1}/{epochs} loss {history[-1]['clustering']:.5f}"
            + (f" rotation {rotation:.4f}" if rotation is not None else "") + f" {time.time() - started:.0f}s")
    seconds = time.time() - started
    outputs = embed(net, images, cfg["inferenceCrop"])
    if cfg.get("embeddings"):
        np.savez(cfg["embeddings"], outputs=outputs, pooled=embed(net, images, cfg["inferenceCrop"], pooled_only=True))
    return outputs[:, :k].argmax(axis=1), history, samples, seconds


def restart_seed(seed, restart):
    """Start r's seed, as the tfjs trainer derives it (roundSeed(seed, -1 - r) in uint32 arithmetic)."""
    return seed if restart == 0 else ((-restart * 0x9E3779B1) & 0xFFFFFFFF) ^ (seed & 0xFFFFFFFF)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test", choices=["test", "train"])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--widths", default="16,32,64,128")
    ap.add_argument("--rotation-every", type=int, default=4)
    ap.add_argument("--no-rotation", action="store_true")
    ap.add_argument("--refine-fraction", type=float, default=0.25)
    ap.add_argument("--decay-fraction", type=float, default=0.0, help="last fraction of epochs at lr x decay-factor")
    ap.add_argument("--decay-factor", type=float, default=0.1)
    ap.add_argument("--pool", default="average", choices=["average", "flatten"], help="cnn4's last map: global average or flattened")
    ap.add_argument("--crops", help="comma-separated crop sides as fractions of the side (default 24,20,16 of 28)")
    ap.add_argument("--flip", action="store_true", help="mirror half the clustering views horizontally")
    ap.add_argument("--restarts", type=int, default=1,
                    help="independent starts; the one with the lowest final clustering loss is kept (as the tfjs trainer's restarts)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--match-view", default="plain", choices=["plain", "augmented"])
    ap.add_argument("--random-images", action="store_true", help="uniform random pixels (throughput only)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--trace")
    ap.add_argument("--predictions")
    ap.add_argument("--embeddings", help="the last start's final outputs and pooled trunk features (.npz)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    log = (lambda _: None) if args.quiet else (lambda line: print(line, flush=True))

    prefix = "t10k" if args.split == "test" else "train"
    images = read_idx(f"{DATA}/{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(f"{DATA}/{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    if args.trace:
        with open(os.path.join(args.trace, "manifest.json")) as f:
            manifest = json.load(f)
        cfg, epochs, limit = manifest["config"], manifest["epochs"], manifest["count"]
        draws = TraceDraws(args.trace, manifest)
    else:
        cfg = {"trunk": "cnn4", "widths": [int(w) for w in args.widths.split(",")], "clusters": 10, "outputDim": 10,
               "rotation": not args.no_rotation, "rotationEvery": args.rotation_every,
               "refineFraction": args.refine_fraction, "decayFraction": args.decay_fraction, "decayFactor": args.decay_factor, "matchView": args.match_view, "flip": args.flip, "pool": args.pool, "batchSize": args.batch, "learningRate": args.lr,
               "momentum": 0.9, "weightDecay": 5e-4, "seed": args.seed, **GREY}
        if args.crops:
            cfg["crops"] = [float(c) for c in args.crops.split(",")]
        epochs, limit = args.epochs, args.limit
        draws = OwnDraws(args.seed, cfg)
    cfg["embeddings"] = args.embeddings
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = (images.astype(np.float32) / 255.0)[..., None]
    if args.random_images:
        x = np.random.default_rng(1).random(x.shape, dtype=np.float32)
    if args.trace and args.restarts != 1:
        ap.error("--restarts replays one start's draws only: use 1 with --trace")
    kept, finals, samples, seconds = None, [], 0, 0.0
    for restart in range(args.restarts):
        if restart > 0:
            cfg = {**cfg, "seed": restart_seed(args.seed, restart)}
            draws = OwnDraws(cfg["seed"], cfg)
        run = train(x, cfg, draws, epochs, log)
        finals.append(run[1][-1]["clustering"])
        samples, seconds = samples + run[2], seconds + run[3]
        if kept is None or finals[-1] < finals[kept[0]]:
            kept = (restart, run)
    pred, history = kept[1][0], kept[1][1]
    if args.predictions:
        pred.astype(np.int32).tofile(args.predictions)
    print(json.dumps({
        "torch": torch.__version__, "threads": args.threads, "count": len(x), "epochs": epochs,
        "acc": round(float(accuracy(labels, pred)), 4), "nmi": round(float(normalized_mutual_info_score(labels, pred)), 4),
        "ari": round(float(adjusted_rand_score(labels, pred)), 4),
        "clustersUsed": int(len(np.unique(pred))), "seconds": round(seconds, 1), "samples": samples,
        "samplesPerSecond": round(samples / seconds, 1),
        "restartLosses": finals, "keptRestart": kept[0],
        "epochLosses": [h["clustering"] for h in history], "rotationLosses": [h["rotation"] for h in history],
    }))


if __name__ == "__main__":
    main()
