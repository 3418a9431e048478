"""bpcore beside scikit-learn and PyTorch, timed in the same run.

    python benchmarks/bench_training.py                    # every workload
    python benchmarks/bench_training.py W-small W-large    # some of them
    python benchmarks/bench_training.py --repeats 5 --json results.json

Machines are shared and noisy: every figure is the median of several repetitions,
and the ratios (peer time / bpcore time, > 1 means bpcore is faster) are what to
read.  bpcore's achieved GFLOPS are given against the machine's GEMM peak, measured
in the same run (numpy float32 matmul, 2048 x 2048).  PyTorch is used when it is
installed (`pip install torch==2.13.0`), with `torch.set_num_threads` equal to
bpcore's thread count.
"""

import argparse
import json
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

import bpcore

try:
    import torch
except ImportError:  # an optional peer
    torch = None


# PyTorch's idle OpenMP threads keep spinning for a while after its runs, which would
# slow (and, through bpcore's thread governor, mislead) whatever is timed next: every
# torch measurement is deferred until all the others are done.
_DEFERRED = []


def later(result, function, repeats, scale=1.0):
    """Time `function` for result["times"]["torch"] after every other measurement."""
    _DEFERRED.append((result, function, repeats, scale))


def median_time(function, repeats):
    # one untimed run first: the first call after other work (the GEMM peak, another
    # library's fit) runs while that work's BLAS threads still spin, and measures them
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm_peak_gflops(repeats=5, dtype=np.float32):
    a = np.random.default_rng(0).random((2048, 2048), dtype=dtype)
    a @ a
    return 2 * 2048**3 / median_time(lambda: a @ a, repeats) / 1e9


def training_flops(layer_units, n_samples):
    """Multiply-adds x 2 of one epoch: forward, weight gradients, δ recursion (no δ for X)."""
    products = [a * b for a, b in zip(layer_units[:-1], layer_units[1:])]
    return 2 * n_samples * (2 * sum(products) + sum(products[1:]))


# ----------------------------------------------------------------------------- torch
def torch_network(layer_units, activation, dtype):
    layers = []
    for i, (a, b) in enumerate(zip(layer_units[:-1], layer_units[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=dtype))
        if i < len(layer_units) - 2:
            layers.append({"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[activation]())
    return torch.nn.Sequential(*layers)


def torch_fit(X, y, layer_units, epochs, batch_size, lr, classification, activation="relu"):
    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    model = torch_network(layer_units, activation, dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss() if classification else torch.nn.MSELoss()
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(np.int64) if classification else y.astype(X.dtype).reshape(-1, 1))
    n = X.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(Xt[index]), yt[index])
            loss.backward()
            optimizer.step()
    return model


# ------------------------------------------------------------------------- workloads
def fixed_epochs(epochs):
    return dict(max_iter=epochs, tol=0.0, n_iter_no_change=10**9)


def digits(dtype):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return (scaler.transform(X_train).astype(dtype), scaler.transform(X_test).astype(dtype),
            y_train, y_test)


def large(dtype, n_samples=60000):
    X, y = make_classification(n_samples, 784, n_informative=50, n_classes=10, random_state=0)
    return X.astype(dtype), y


def epoch_workload(name, X, y, hidden, params, epochs, repeats, peak, X_test=None, y_test=None):
    rows = {}
    layer_units = [X.shape[1], *hidden, len(np.unique(y))]
    flops = training_flops(layer_units, X.shape[0]) * epochs
    models = {}
    for label, cls in (("bpcore", bpcore.MLPClassifier), ("scikit-learn", SkClassifier)):
        def run(cls=cls, label=label):
            models[label] = cls(hidden_layer_sizes=hidden, random_state=0, **params,
                                **fixed_epochs(epochs)).fit(X, y)
        rows[label] = median_time(run, repeats) / epochs
    result = {"workload": name, "unit": "s/epoch", "times": rows,
              "gflops": flops / epochs / rows["bpcore"] / 1e9}
    if torch is not None:
        later(result, lambda: torch_fit(X, y, layer_units, epochs, params.get("batch_size", 200),
                                        params.get("learning_rate_init", 1e-3), True),
              repeats, 1.0 / epochs)
    result["peak_fraction"] = result["gflops"] / peak
    if X_test is not None:
        result["accuracy"] = {k: m.score(X_test, y_test) for k, m in models.items()}
    return result


def w_small(repeats, peak):
    X_train, X_test, y_train, y_test = digits(np.float32)
    return epoch_workload("W-small", X_train, y_train, (100,), {}, 50, repeats, peak,
                          X_test, y_test)


def w_large(repeats, peak, dtype=np.float32, name="W-large"):
    X, y = large(dtype)
    params = dict(activation="relu", learning_rate_init=1e-3, batch_size=256, alpha=0.0)
    return epoch_workload(name, X, y, (256, 128), params, 3, repeats, peak)


def w_f64(repeats, peak):
    result = w_large(repeats, peak, np.float64, "W-f64")
    # against what float64 GEMM itself reaches on this machine, measured now
    result["peak64_gflops"] = gemm_peak_gflops(dtype=np.float64)
    result["peak64_fraction"] = result["gflops"] / result["peak64_gflops"]
    return result


def w_predict_1(repeats, peak):
    X_train, X_test, y_train, y_test = digits(np.float32)
    ours = bpcore.MLPClassifier(random_state=0, **fixed_epochs(20)).fit(X_train, y_train)
    theirs = SkClassifier(random_state=0, **fixed_epochs(20)).fit(X_train, y_train)
    row = X_test[:1]
    calls = 2000

    def per_call(function):
        return median_time(lambda: [function() for _ in range(calls)], repeats) / calls

    times = {"bpcore": per_call(lambda: ours.predict(row)),
             "scikit-learn": per_call(lambda: theirs.predict(row))}
    result = {"workload": "W-predict-1", "unit": "s/call", "times": times}
    if torch is not None:
        net = torch_network([64, 100, 10], "relu", torch.float32)
        x = torch.from_numpy(row)

        def torch_predict():
            with torch.no_grad():
                return net(x).argmax(1)

        later(result, lambda: [torch_predict() for _ in range(calls)], repeats, 1.0 / calls)
    return result


def w_predict_batch(repeats, peak):
    X, y = large(np.float32, 20000)
    params = dict(hidden_layer_sizes=(256, 128), batch_size=256, alpha=0.0, random_state=0,
                  **fixed_epochs(1))
    ours = bpcore.MLPClassifier(**params).fit(X, y)
    theirs = SkClassifier(**params).fit(X, y)
    rows = np.random.default_rng(0).normal(size=(100000, 784)).astype(np.float32)
    times = {"bpcore": median_time(lambda: ours.predict_proba(rows), repeats),
             "scikit-learn": median_time(lambda: theirs.predict_proba(rows), repeats)}
    flops = 2 * 100000 * (784 * 256 + 256 * 128 + 128 * 10)
    gflops = flops / times["bpcore"] / 1e9
    result = {"workload": "W-predict-batch", "unit": "s", "times": times, "gflops": gflops,
              "peak_fraction": gflops / peak}
    if torch is not None:
        net = torch_network([784, 256, 128, 10], "relu", torch.float32)
        xt = torch.from_numpy(rows)

        def torch_predict():
            with torch.no_grad():
                return torch.softmax(net(xt), 1)

        later(result, torch_predict, repeats)
    return result


def w_reg(repeats, peak):
    X, y = make_regression(20000, 100, noise=10, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X.astype(np.float32), y.astype(np.float32),
                                                        random_state=0)
    models = {}
    times = {}
    for label, cls in (("bpcore", bpcore.MLPRegressor), ("scikit-learn", SkRegressor)):
        def run(cls=cls, label=label):
            models[label] = cls(hidden_layer_sizes=(64, 64), random_state=0).fit(X_train, y_train)
        times[label] = median_time(run, repeats)
    return {"workload": "W-reg", "unit": "s/fit", "times": times,
            "r2": {k: m.score(X_test, y_test) for k, m in models.items()},
            "epochs": {k: m.n_iter_ for k, m in models.items()}}


WORKLOADS = {
    "W-small": w_small,
    "W-large": w_large,
    "W-predict-1": w_predict_1,
    "W-predict-batch": w_predict_batch,
    "W-reg": w_reg,
    "W-f64": w_f64,
}


def format_result(result):
    times = result["times"]
    ours = times["bpcore"]
    parts = [f"{result['workload']:<16} bpcore {ours:.4g} {result['unit']}"]
    for peer in ("scikit-learn", "torch"):
        if peer in times:
            parts.append(f"{peer} {times[peer]:.4g} ({times[peer] / ours:.2f}x)")
    if "gflops" in result:
        parts.append(f"{result['gflops']:.1f} GFLOPS = {100 * result['peak_fraction']:.0f}% of peak")
    if "peak64_fraction" in result:
        parts.append(f"{100 * result['peak64_fraction']:.0f}% of the float64 GEMM peak "
                     f"({result['peak64_gflops']:.1f} GFLOPS)")
    for key in ("accuracy", "r2"):
        if key in result:
            parts.append(key + " " + ", ".join(f"{k} {v:.4f}" for k, v in result[key].items()))
    return " | ".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="write the results to this file as JSON")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    n_threads = bpcore.effective_n_threads()
    if torch is not None:
        torch.set_num_threads(n_threads)
    print(f"bpcore {bpcore.__version__}, OpenMP {bpcore.openmp_enabled()}, {n_threads} thread(s); "
          f"torch {torch.__version__ if torch else 'not installed'}")
    for lib in threadpool_info():
        print(f"  {lib['user_api']:>7} {lib['internal_api']:<9} {lib.get('version')} "
              f"threads={lib['num_threads']} {lib['prefix']}")
    peak = gemm_peak_gflops()
    print(f"GEMM peak (numpy float32 2048x2048): {peak:.1f} GFLOPS\n")
    results = []
    for name in args.workloads:
        result = WORKLOADS[name](args.repeats, peak)
        result["peak_gflops"] = peak
        results.append(result)
    for result, function, repeats, scale in _DEFERRED:
        result["times"]["torch"] = median_time(function, repeats) * scale
    for result in results:
        print(format_result(result), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
