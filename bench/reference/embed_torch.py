"""MobileNetV2-224 forward throughput in PyTorch, the reference for bench/embed.bench.ts.

The architecture is written out here (torchvision may be absent): stem conv, 17 inverted
residual blocks, 1x1 conv to 1280 channels, global average pool; no classifier, as the embed
stage uses it. Random weights: throughput does not depend on their values.

Prints one JSON object per batch size: {"batch": b, "images_per_s": x, "batches": n, "threads": t}.
Usage: /usr/bin/python3 bench/reference/embed_torch.py --threads 2 --batches 1,16,64 --seconds 8
  --device cuda times it on the GPU (the GPU check's reference) as a pipeline uses it: each batch
  goes up from host memory (pinned, the fastest way PyTorch offers) and its embeddings come back to
  the host, as tfjs's do, so both sides pay the same copies.
"""
import argparse
import json
import time

import torch
from torch import nn


def conv_bn(inp, out, kernel, stride, groups=1, relu=True):
    layers = [nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(out)]
    if relu:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, inp, out, stride, expand):
        super().__init__()
        hidden = inp * expand
        layers = [] if expand == 1 else [conv_bn(inp, hidden, 1, 1)]
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, out, 1, 1, relu=False)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and inp == out

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2Features(nn.Module):
    # (expansion t, output channels c, repeats n, first stride s), as in Sandler et al. 2018.
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self):
        super().__init__()
        layers = [conv_bn(3, 32, 3, 2)]
        channels = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(channels, c, s if i == 0 else 1, t))
                channels = c
        layers.append(conv_bn(channels, 1280, 1, 1))
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        return self.features(x).mean(dim=(2, 3))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", default="1,16,64")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MobileNetV2Features().eval().to(device)
    params = sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        for batch in (int(b) for b in args.batches.split(",")):
            x = torch.rand(batch, 3, 224, 224)
            if device.type == "cuda":
                x = x.pin_memory()
            # .cpu() waits for the GPU, so the clock times the work and not the kernel launches.
            embed = lambda: model(x.to(device, non_blocking=True)).cpu()  # noqa: E731
            embed()  # warm-up
            done, started = 0, time.perf_counter()
            while done == 0 or time.perf_counter() - started < args.seconds:
                out = embed()
                done += 1
            elapsed = time.perf_counter() - started
            assert out.shape == (batch, 1280)
            print(json.dumps({"batch": batch, "images_per_s": batch * done / elapsed, "batches": done, "threads": args.threads,
                              "params": params, "torch": torch.__version__, "device": str(device)}), flush=True)


if __name__ == "__main__":
    main()
