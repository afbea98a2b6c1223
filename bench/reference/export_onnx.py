"""Exports the MobileNetV2 of embed_torch.py (same architecture, seeded random weights) to ONNX,
for the ONNX Runtime rows of bench/embed.bench.ts: NCHW float32 input "pixel_values"
[batch, 3, 224, 224] with a dynamic batch, output "embedding" [batch, 1280] (global average pool).
Batch norm is folded into the convolutions by the exporter, as it is in any deployed export.

Usage: /usr/bin/python3 bench/reference/export_onnx.py OUT.onnx [--threads N] [--fp16 OUT16.onnx]
  --fp16: also the same graph in float16 throughout (initializers, input, output, intermediates;
  needs the onnx Python package, Debian python3-onnx).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from embed_torch import MobileNetV2Features  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'onnx'))
from onnx_float16 import convert_to_float16  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fp16")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MobileNetV2Features().eval()
    with torch.no_grad():
        torch.onnx.export(model, torch.rand(1, 3, 224, 224), args.out, input_names=["pixel_values"], output_names=["embedding"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=13)
    print(args.out)
    if args.fp16:
        convert_to_float16(args.out, args.fp16)
        print(args.fp16)


if __name__ == "__main__":
    main()
