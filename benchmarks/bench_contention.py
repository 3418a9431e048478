"""Training under contention: one busy process pinned to the last core.

    python benchmarks/bench_contention.py

For bpcore, scikit-learn and PyTorch (when installed) it times one epoch of a
W-large-like workload (20000 x 784, (256, 128), Adam, batch 256, float32) quiet and
with a busy process pinned to the last CPU, each library with its default threads,
and bpcore also on one thread.  Spinning idle threads that wait for a core another
process holds are what make a 2-thread epoch slower than a 1-thread one.
"""

import argparse
import multiprocessing
import os
import signal
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.neural_network import MLPClassifier as SkClassifier
from threadpoolctl import threadpool_limits

import bpcore

sys.path.insert(0, os.path.dirname(__file__))
from bench_training import median_time, torch, torch_fit  # noqa: E402


def spin(core):
    os.sched_setaffinity(0, {core})
    while True:
        pass


def epoch_seconds(function, repeats=3):
    return median_time(function, repeats)


def load():
    X, y = make_classification(20000, 784, n_informative=50, n_classes=10, random_state=0)
    return X.astype(np.float32), y


PARAMS = dict(hidden_layer_sizes=(256, 128), batch_size=256, alpha=0.0, max_iter=1,
              random_state=0)


def measure(library, queue):
    """One library's median epoch time, in a fresh process (no other library's idle
    threads still spinning from its own runs)."""
    warnings.simplefilter("ignore")
    X, y = load()
    if library == "bpcore (1 thread)":
        def run():
            with threadpool_limits(1, user_api="openmp"):
                bpcore.MLPClassifier(**PARAMS).fit(X, y)
    elif library == "bpcore (default threads)":
        def run():
            bpcore.MLPClassifier(**PARAMS).fit(X, y)
    elif library == "scikit-learn":
        def run():
            SkClassifier(**PARAMS).fit(X, y)
    else:
        torch.set_num_threads(bpcore.effective_n_threads())

        def run():
            torch_fit(X, y, [784, 256, 128, 10], 1, 256, 1e-3, True)
    run()  # warm up (allocations, thread pools)
    queue.put(epoch_seconds(run))


def in_fresh_process(library):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=measure, args=(library, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main():
    warnings.simplefilter("ignore")
    libraries = ["bpcore (default threads)", "bpcore (1 thread)", "scikit-learn"]
    if torch is not None:
        libraries.append("torch")
    cores = sorted(os.sched_getaffinity(0))
    print(f"cores {cores}; bpcore threads {bpcore.effective_n_threads()}; busy process on "
          f"core {cores[-1]}; each figure the median of 3 epochs in a fresh process")
    quiet = {name: in_fresh_process(name) for name in libraries}
    busy = multiprocessing.get_context("spawn").Process(target=spin, args=(cores[-1],),
                                                         daemon=True)
    # killed with SIGTERM, still stop the busy process (the finally below runs)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    busy.start()
    time.sleep(0.5)
    try:
        loaded = {name: in_fresh_process(name) for name in libraries}
    finally:
        busy.terminate()
    print(f"{'':28}{'quiet':>10}{'contended':>11}{'slowdown':>10}")
    for name in libraries:
        print(f"{name:28}{quiet[name]:>9.3f}s{loaded[name]:>10.3f}s{loaded[name] / quiet[name]:>9.2f}x")
    ratio = loaded["bpcore (default threads)"] / quiet["bpcore (1 thread)"]
    print(f"\nbpcore default threads, contended / its 1-thread quiet time: {ratio:.2f} "
          f"(target <= 1.3)")
    return quiet, loaded


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
