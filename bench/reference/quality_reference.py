#!/usr/bin/python3
"""scikit-learn k-means on Fashion-MNIST pixel features, the baseline figure bench:quality prints
beside its own fitKMeans. Run with Debian's python (/usr/bin/python3), which has scikit-learn.

Prints one JSON object: acc, nmi, ari, clusters_used, inertia, seconds, sklearn.
ACC is the Hungarian-matched accuracy, NMI arithmetic-normalised, ARI: as TEMI.md defines them.
"""
import argparse
import gzip
import json
import time

import numpy as np
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def read_idx(path, expected_dims):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != expected_dims:
        raise SystemExit(f"{path}: not an idx{expected_dims}-ubyte file")
    dims = [int.from_bytes(data[4 + 4 * d: 8 + 4 * d], "big") for d in range(expected_dims)]
    offset = 4 + 4 * expected_dims
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def clustering_accuracy(truth, pred):
    k = max(truth.max(), pred.max()) + 1
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (pred, truth), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return counts[rows, cols].sum() / len(truth)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images")
    parser.add_argument("--labels")
    parser.add_argument("--dataset", choices=["idx", "digits"], default="idx",
                        help="digits: scikit-learn's 8x8 digits (1,797 images, pixels/16) instead of --images/--labels")
    parser.add_argument("--limit", type=int, default=10000)
    parser.add_argument("--n-init", type=int, default=10)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--features", choices=["raw", "l2"], default="raw",
                        help="raw: pixels/255; l2: each row of pixels/255 scaled to unit length")
    args = parser.parse_args()

    if args.dataset == "digits":
        from sklearn.datasets import load_digits
        digits = load_digits()
        features = (digits.data[: args.limit] / 16.0).astype(np.float32)
        truth = digits.target[: args.limit].astype(np.int64)
    else:
        images = read_idx(args.images, 3)[: args.limit]
        truth = read_idx(args.labels, 1)[: args.limit].astype(np.int64)
        features = images.reshape(len(images), -1).astype(np.float32) / 255.0
    if args.features == "l2":
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        features = features / np.where(norms > 0, norms, 1.0)

    started = time.perf_counter()
    kmeans = KMeans(n_clusters=args.clusters, n_init=args.n_init, random_state=args.seed).fit(features)
    seconds = time.perf_counter() - started
    pred = kmeans.labels_.astype(np.int64)
    print(json.dumps({
        "acc": float(clustering_accuracy(truth, pred)),
        "nmi": float(normalized_mutual_info_score(truth, pred)),
        "ari": float(adjusted_rand_score(truth, pred)),
        "clusters_used": int(len(np.unique(pred))),
        "inertia": float(kmeans.inertia_),
        "seconds": seconds,
        "sklearn": sklearn.__version__,
    }))


if __name__ == "__main__":
    main()
