"""Thread count: results independent of it, and it follows OpenMP's settings."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import bpcore

needs_two_cpus = pytest.mark.skipif(
    not bpcore.openmp_enabled() or len(os.sched_getaffinity(0)) < 2,
    reason="needs OpenMP and two CPUs",
)


def fit(n_threads=None, dtype=np.float64, batch_size=256, **params):
    # large enough that every stage of a batch runs on several threads
    X, y = make_classification(1500, 40, n_informative=20, n_classes=5, random_state=0)
    model = bpcore.MLPClassifier(
        hidden_layer_sizes=(96, 64), batch_size=batch_size, max_iter=3, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if n_threads is None:
            return model.fit(X.astype(dtype), y)
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            assert bpcore.effective_n_threads() == n_threads
            return model.fit(X.astype(dtype), y)


@needs_two_cpus
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [256, 255, 100])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_weights_are_bitwise_independent_of_thread_count(solver, batch_size, dtype):
    # every thread count computes the same fixed, aligned chunks (one thread runs them
    # one after the other), so no product is split differently
    one = fit(1, solver=solver, batch_size=batch_size, dtype=dtype)
    two = fit(2, solver=solver, batch_size=batch_size, dtype=dtype)
    assert np.array_equal(one._params, two._params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fixed_random_state_is_bitwise_reproducible(dtype):
    first = fit(dtype=dtype)
    second = fit(dtype=dtype)
    for a, b in zip(first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_):
        assert a.dtype == dtype
        assert np.array_equal(a, b)
    assert first.loss_curve_ == second.loss_curve_


@pytest.mark.slow
def test_omp_num_threads_is_respected():
    code = "import bpcore; print(bpcore.effective_n_threads())"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "1", out.stderr


@needs_two_cpus
def test_threadpool_limits_is_respected():
    default = bpcore.effective_n_threads()
    with threadpool_limits(limits=1, user_api="openmp"):
        assert bpcore.effective_n_threads() == 1
    assert bpcore.effective_n_threads() == default


def test_blas_is_single_threaded_during_fit_and_restored_after(monkeypatch):
    from threadpoolctl import threadpool_info

    from bpcore import _training

    seen = []
    fit_stochastic = _training.fit_stochastic

    def spy(*args, **kwargs):
        seen.extend(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
        return fit_stochastic(*args, **kwargs)

    monkeypatch.setattr(_training, "fit_stochastic", spy)

    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    X, y = make_classification(100, 5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bpcore.MLPClassifier(max_iter=2).fit(X, y)
    assert seen and set(seen) == {1}
    after = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert after == before
