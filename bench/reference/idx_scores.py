"""What the PyTorch references share: reading Debian's IDX files and clustering accuracy
(Hungarian matching of clusters to classes), so both score exactly as the tfjs side does."""
import gzip

import numpy as np
from scipy.optimize import linear_sum_assignment


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
