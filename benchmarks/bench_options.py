"""What each training option costs over the plain path, measured in the same run.

    python benchmarks/bench_options.py                 # every option, ~8 minutes
    python benchmarks/bench_options.py --repeats 5 weight_decay ema
    python benchmarks/bench_options.py --rows 20000    # a smaller W-large, ~3 minutes

The workload is W-large's (make_classification, 784 features, 10 classes, hidden
(256, 128), Adam, batch 256, float32, 3 epochs per fit, alpha 0).  Every fit is timed
with the same data and the same initial weights.  For each option the plain fit and
the option's fit alternate `--repeats` times, and the figure is the option's fastest
epoch time divided by the plain fit's fastest: 1.05 means 5 % slower.  (Alternating and
taking minima keeps a virtual machine's slow phases, which last seconds to minutes,
out of the ratio.)  Skip
connections need equal widths: they are timed on (256, 256, 128), against the plain
fit of that network.  An ensemble of k members also shows its cost per member
(× plain / k; k separate fits would be 1).
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification

import bpcore

EPOCHS = 3
OPTIONS = {
    "weight_decay": dict(weight_decay=0.05),
    "cosine": dict(lr_schedule="cosine", warmup_epochs=1),
    "one_cycle": dict(lr_schedule="one_cycle"),
    "plateau": dict(lr_schedule="plateau"),
    "ema": dict(ema_decay=0.99),
    "label_smoothing": dict(label_smoothing=0.1),
    "all_of_them": dict(weight_decay=0.05, lr_schedule="cosine", warmup_epochs=1,
                        ema_decay=0.99, label_smoothing=0.1),
    "batch_norm": dict(normalization="batch"),
    "layer_norm": dict(normalization="layer"),
    # skip connections need two hidden layers of equal width: timed against the plain
    # fit of the same (256, 256, 128) network
    "residual": dict(hidden_layer_sizes=(256, 256, 128), residual=True),
    "residual_batch_norm": dict(hidden_layer_sizes=(256, 256, 128), residual=True,
                                normalization="batch"),
    # periodic embeddings widen the first layer's input from F to F d (784 -> 3136)
    "periodic_embedding": dict(embedding="periodic", n_frequencies=8, embedding_dim=4),
    # k members run k times the rows through the same products: the figure to read is
    # the cost per member, × plain / k (k separate fits: 1)
    "ensemble_4": dict(n_members=4),
    "ensemble_8": dict(n_members=8),
}
MEMBERS = {"ensemble_4": 4, "ensemble_8": 8}
HIDDEN = (256, 128)


def epoch_seconds(X, y, **options):
    """One timed fit: seconds per epoch."""
    options = {"hidden_layer_sizes": HIDDEN, **options}
    start = time.perf_counter()
    bpcore.MLPClassifier(batch_size=256, alpha=0.0, random_state=0, max_iter=EPOCHS,
                         tol=0.0, n_iter_no_change=10**9, **options).fit(X, y)
    return (time.perf_counter() - start) / EPOCHS


def compared(X, y, repeats, options):
    """(plain, option) fastest seconds per epoch, the two fits alternating."""
    plain_options = {"hidden_layer_sizes": options.get("hidden_layer_sizes", HIDDEN)}
    plain, timed = [], []
    for _ in range(repeats):
        plain.append(epoch_seconds(X, y, **plain_options))
        timed.append(epoch_seconds(X, y, **options))
    return min(plain), min(timed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("options", nargs="*", default=list(OPTIONS),
                        help="options to time (default: all): " + ", ".join(OPTIONS))
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--rows", type=int, default=60000)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.options) - set(OPTIONS))
    if unknown:
        parser.error(f"unknown option(s) {unknown}; choose among {list(OPTIONS)}")
    warnings.simplefilter("ignore")
    X, y = make_classification(args.rows, 784, n_informative=50, n_classes=10, random_state=0)
    X = X.astype(np.float32)
    print(f"bpcore {bpcore.__version__}, {bpcore.effective_n_threads()} thread(s); "
          f"{args.rows} x 784, (256, 128), Adam, batch 256, float32, {EPOCHS} epochs per fit")
    epoch_seconds(X, y)   # untimed: warms the caches and the thread governor
    print(f"\n| option | plain s/epoch | option s/epoch | × plain | per member |\n"
          f"|---|---|---|---|---|", flush=True)
    measured = {}
    for name in args.options:
        plain, seconds = measured[name] = compared(X, y, args.repeats, OPTIONS[name])
        k = MEMBERS.get(name)
        per_member = f"{seconds / plain / k:.3f}" if k else ""
        print(f"| {name} `{OPTIONS[name]}` | {plain:.4f} | {seconds:.4f} | "
              f"{seconds / plain:.3f} | {per_member} |", flush=True)
    return measured


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
