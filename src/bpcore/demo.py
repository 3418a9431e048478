"""Train on scikit-learn's bundled digits and compare with sklearn.neural_network.

    python -m bpcore.demo

Same split (75/25), same scaling, same network ((100,), defaults, random_state=0)
for both libraries; prints test accuracy and fit time (median of 3 fits).
"""

import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.preprocessing import StandardScaler

import bpcore


def timed_fit(make_model, X, y, repeats=3):
    times = []
    for _ in range(repeats):
        model = make_model()
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return model, statistics.median(times)


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    print(f"bpcore {bpcore.__version__}: OpenMP {'on' if bpcore.openmp_enabled() else 'off'}, "
          f"{bpcore.effective_n_threads()} thread(s)")
    print(f"digits: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
          f"{X.shape[1]} features, 10 classes; MLP (100,), adam, random_state=0\n")
    print(f"{'library':<22}{'dtype':<9}{'epochs':>7}{'test accuracy':>15}{'fit time':>11}"
          f"{'ms/epoch':>10}")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, cls in (("scikit-learn", SklearnMLPClassifier), ("bpcore", bpcore.MLPClassifier)):
            for dtype in (np.float64, np.float32):
                model, seconds = timed_fit(
                    lambda: cls(random_state=0), X_train.astype(dtype), y_train
                )
                accuracy = model.score(X_test.astype(dtype), y_test)
                rows.append((name, dtype, seconds))
                print(f"{name:<22}{np.dtype(dtype).name:<9}{model.n_iter_:>7}{accuracy:>15.4f}"
                      f"{seconds:>10.3f}s{1e3 * seconds / model.n_iter_:>10.2f}")
    for dtype in (np.float64, np.float32):
        theirs = next(s for n, d, s in rows if n == "scikit-learn" and d is dtype)
        ours = next(s for n, d, s in rows if n == "bpcore" and d is dtype)
        print(f"\nbpcore fit is {theirs / ours:.1f}x faster than scikit-learn's in "
              f"{np.dtype(dtype).name}", end="")
    print()


if __name__ == "__main__":
    main()
