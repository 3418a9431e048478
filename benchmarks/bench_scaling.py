"""Epoch time against the number of samples and against the layer width.

    python benchmarks/bench_scaling.py                                 # the tables
    python benchmarks/bench_scaling.py --plot benchmarks/scaling.png   # and the picture

Samples: 10^3 ... 10^6 rows of 100 features, hidden (128,), Adam, batch 256.
Width: 20000 rows of 256 features, hidden (w,) for w = 64 ... 2048.
Time grows linearly with the work once it dominates the fixed cost of an epoch
(a Python -> C crossing, the optimizer state, thread start-up); the GFLOPS column
shows where small sizes lose to that overhead.
"""

import argparse
import statistics
import time
import warnings

import numpy as np

import bpcore


def epoch_seconds(X, y, hidden, repeats=3):
    model = bpcore.MLPClassifier(hidden, batch_size=256, max_iter=1, random_state=0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def flops(n, units):
    products = [a * b for a, b in zip(units[:-1], units[1:])]
    return 2 * n * (2 * sum(products) + sum(products[1:]))


def main(plot=None):
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    rows = []
    X_all = rng.normal(size=(10**6, 100)).astype(np.float32)
    y_all = (X_all[:, :10].sum(axis=1) > 0).astype(int) + (X_all[:, 10] > 0)
    print(f"{'n_samples':>10} {'width':>6} {'s/epoch':>9} {'GFLOPS':>7}")
    for n in (10**3, 10**4, 10**5, 10**6):
        t = epoch_seconds(X_all[:n], y_all[:n], (128,))
        g = flops(n, [100, 128, 3]) / t / 1e9
        rows.append(("samples", n, 128, t, g))
        print(f"{n:>10} {128:>6} {t:>9.4f} {g:>7.1f}", flush=True)
    X = rng.normal(size=(20000, 256)).astype(np.float32)
    y = (X[:, :10].sum(axis=1) > 0).astype(int) + (X[:, 10] > 0)
    for width in (64, 128, 256, 512, 1024, 2048):
        t = epoch_seconds(X, y, (width,))
        g = flops(20000, [256, width, 3]) / t / 1e9
        rows.append(("width", 20000, width, t, g))
        print(f"{20000:>10} {width:>6} {t:>9.4f} {g:>7.1f}", flush=True)
    if plot is None:
        return rows
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return rows
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    samples = [r for r in rows if r[0] == "samples"]
    widths = [r for r in rows if r[0] == "width"]
    left.loglog([r[1] for r in samples], [r[3] for r in samples], "o-", label="bpcore")
    ref = samples[-1]
    left.loglog([r[1] for r in samples], [ref[3] * r[1] / ref[1] for r in samples], "k--",
                label="linear")
    left.set_xlabel("n_samples (100 features, hidden 128)")
    left.set_ylabel("seconds per epoch")
    left.legend()
    right.loglog([r[2] for r in widths], [r[3] for r in widths], "o-", label="bpcore")
    ref = widths[-1]
    right.loglog([r[2] for r in widths], [ref[3] * r[2] / ref[2] for r in widths], "k--",
                 label="linear")
    right.set_xlabel("hidden width (20000 x 256)")
    right.legend()
    figure.tight_layout()
    figure.savefig(plot, dpi=80)
    print(f"wrote {plot}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plot", metavar="PATH", help="also draw the two curves into PATH "
                        "(needs matplotlib)")
    main(parser.parse_args().plot)
