"""Peak memory of a W-large fit beyond the data: bpcore, scikit-learn and PyTorch.

    python benchmarks/bench_memory.py

Each library runs in a fresh process: the data are loaded from disk as float32, the
process's resident memory is noted, one epoch is fitted, and the peak resident
memory (VmHWM) minus that baseline is reported.  bpcore allocates its workspaces once per fit, sized by
the batch, and reads a C-contiguous float32 X in place.
"""

import argparse
import multiprocessing
import sys
import warnings

import numpy as np
from sklearn.datasets import make_classification


def peak_mb():
    # VmHWM: the high-water mark of this address space (ru_maxrss would carry the
    # parent's peak across fork and exec)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def resident_mb():
    with open("/proc/self/statm") as f:
        import os

        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(library, folder, queue):
    warnings.simplefilter("ignore")
    import bpcore
    from sklearn.neural_network import MLPClassifier as SkClassifier

    # loaded as stored (float32, C order): the process's peak so far is the data's
    X = np.load(f"{folder}/X.npy")
    y = np.load(f"{folder}/y.npy")
    params = dict(hidden_layer_sizes=(256, 128), batch_size=256, alpha=0.0, max_iter=1,
                  random_state=0)
    if library == "torch":
        import torch  # noqa: F401  (its import is part of the baseline)

        sys.path.insert(0, __file__.rsplit("/", 1)[0])
        from bench_training import torch_fit
    baseline = resident_mb()
    peak_before = peak_mb()
    if library == "bpcore":
        bpcore.MLPClassifier(**params).fit(X, y)
    elif library == "scikit-learn":
        SkClassifier(**params).fit(X, y)
    else:
        torch_fit(X, y, [784, 256, 128, 10], 1, 256, 1e-3, True)
    peak = peak_mb()
    queue.put((baseline, max(peak, peak_before), X.nbytes / 2**20 + y.nbytes / 2**20))


def main():
    libraries = ["bpcore", "scikit-learn"]
    try:
        import torch  # noqa: F401

        libraries.append("torch")
    except ImportError:
        pass
    import tempfile

    folder = tempfile.mkdtemp()
    X, y = make_classification(60000, 784, n_informative=50, n_classes=10, random_state=0)
    np.save(f"{folder}/X.npy", X.astype(np.float32))
    np.save(f"{folder}/y.npy", y)
    del X, y
    context = multiprocessing.get_context("spawn")
    print(f"{'library':<14}{'baseline MB':>12}{'peak MB':>10}{'fit adds MB':>12}{'X+y MB':>8}")
    results = {}
    for library in libraries:
        queue = context.Queue()
        process = context.Process(target=run, args=(library, folder, queue))
        process.start()
        baseline, peak, data = queue.get()
        process.join()
        results[library] = peak - baseline
        print(f"{library:<14}{baseline:>12.0f}{peak:>10.0f}{peak - baseline:>12.0f}{data:>8.0f}")
    return results


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
