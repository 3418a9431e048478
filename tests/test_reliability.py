"""Reliability: property-based inputs, interruption, concurrency, memory, persistence."""

import os
import pickle
import signal
import sys
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification

import bpcore
from bpcore import IncompatibleModelError, MLPClassifier, MLPRegressor

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# the documented answers to inputs that cannot be learned from


@st.composite
def problems(draw):
    n_samples = draw(st.integers(2, 40))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64, np.bool_]))
    values = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=32),
                           min_size=n_samples * n_features, max_size=n_samples * n_features))
    X = np.array(values).reshape(n_samples, n_features).astype(dtype)
    labels = draw(st.sampled_from([[0, 1], [3, 7, 9], ["a", "b"], ["x", "y", "z", "w"], [-1.0, 2.0]]))
    y = np.array(draw(st.lists(st.sampled_from(labels), min_size=n_samples, max_size=n_samples)))
    hidden = tuple(draw(st.lists(st.integers(1, 8), min_size=0, max_size=3)))
    return X, y, hidden


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(["adam", "sgd", "lbfgs"]),
       st.sampled_from(["relu", "tanh", "gelu", "logistic"]))
def test_classifier_succeeds_with_finite_outputs_or_raises_documented(problem, solver, activation):
    X, y, hidden = problem
    model = MLPClassifier(hidden, solver=solver, activation=activation, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), len(model.classes_))
    assert proba.dtype == (np.float32 if X.dtype == np.float32 else np.float64)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(model.predict(X)) <= set(y)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 5), st.integers(1, 3),
       st.sampled_from([np.float32, np.float64]), st.sampled_from(["squared_error", "poisson"]))
def test_regressor_succeeds_with_finite_outputs(n_samples, n_features, n_outputs, dtype, loss):
    rng = np.random.default_rng(n_samples * 31 + n_features)
    X = rng.normal(size=(n_samples, n_features)).astype(dtype)
    Y = np.abs(rng.normal(size=(n_samples, n_outputs))).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(loss=loss, hidden_layer_sizes=(4,), max_iter=3).fit(X, Y)
    prediction = model.predict(X)
    assert prediction.shape == ((n_samples,) if n_outputs == 1 else (n_samples, n_outputs))
    assert prediction.dtype == dtype and np.isfinite(prediction).all()


# ------------------------------------------------------------------ interruption
@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_during_fit_stops_within_a_batch_and_keeps_last_epoch():
    X, y = make_classification(20000, 200, n_informative=50, n_classes=5, random_state=0)
    ends = []
    model = MLPClassifier((256, 256), batch_size=256, max_iter=1000, tol=0,
                          n_iter_no_change=10**6, random_state=0,
                          callbacks=[lambda m, info: ends.append(m._params.copy())])
    sent = {}

    def interrupt():
        while len(ends) < 2:          # let two epochs complete, then signal mid-epoch
            time.sleep(0.005)
        time.sleep(0.05)
        sent["at"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=interrupt)
    thread.start()
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        model.fit(X, y)
    returned = time.perf_counter()
    thread.join()
    assert returned - sent["at"] < 1.0          # one batch takes milliseconds
    assert model.n_iter_ == len(ends) < 1000
    np.testing.assert_array_equal(model._params, ends[-1])
    assert model.predict(X[:10]).shape == (10,)


# ------------------------------------------------------------------- concurrency
def test_eight_threads_predicting_at_once_agree_with_serial():
    X, y = make_classification(3000, 30, n_informative=10, n_classes=4, random_state=0)
    model = MLPClassifier((64, 32), max_iter=5, random_state=0).fit(X, y)
    expected_proba = model.predict_proba(X)
    expected = model.predict(X)
    results, errors = [None] * 8, []

    def work(i):
        try:
            for _ in range(5):
                results[i] = (model.predict_proba(X), model.predict(X))
        except Exception as error:  # collected, asserted below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for proba, labels in results:
        np.testing.assert_array_equal(proba, expected_proba)
        np.testing.assert_array_equal(labels, expected)


def test_two_fits_in_two_threads_equal_sequential_fits():
    X, y = make_classification(2000, 30, n_informative=10, n_classes=3, random_state=0)
    params = [dict(hidden_layer_sizes=(48,), max_iter=4, random_state=1),
              dict(hidden_layer_sizes=(32, 16), max_iter=4, random_state=2, dropout=0.2)]
    from threadpoolctl import threadpool_info

    from bpcore import _threads

    def blas_threads():
        return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()
                if lib["user_api"] == "blas"}

    sequential = [MLPClassifier(**p).fit(X, y)._params.copy() for p in params]
    before = blas_threads()
    models = [MLPClassifier(**p) for p in params]
    threads = [threading.Thread(target=m.fit, args=(X, y)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for model, expected in zip(models, sequential):
        np.testing.assert_array_equal(model._params, expected)
    # the BLAS limit was released by the last one out: every library bpcore limited is
    # back where it was (a library loaded meanwhile is not bpcore's to judge)
    assert _threads._holders == 0 and _threads._limiter is None
    after = blas_threads()
    assert {path: after[path] for path in before if path in after} == before


# ------------------------------------------------------------------------ memory
def resident_megabytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="Linux /proc")
def test_fit_predict_cycles_keep_memory_flat():
    X, y = make_classification(300, 20, n_informative=8, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(50):
            MLPClassifier((32,), max_iter=2, random_state=i).fit(X, y).predict_proba(X)
        before = resident_megabytes()
        for i in range(500):
            model = MLPClassifier((32,), max_iter=2, random_state=i, dropout=0.1)
            model.fit(X, y).predict_proba(X)
            bpcore.loss_gradient(model, X[:20], y[:20], return_layers=True)
        after = resident_megabytes()
    # a leak of one workspace (~40 KB) per cycle would add 20 MB
    assert after - before < 10, (before, after)


# ------------------------------------------------------------------- persistence
def test_pickling_leaves_the_model_alone_and_incompatible_state_is_refused():
    X, y = make_classification(200, 8, random_state=0)
    model = MLPClassifier((6,), max_iter=5, random_state=0).fit(X, y)
    before = dict(model.__dict__)
    pickle.dumps(model)
    assert model.__dict__ == before                                 # pickling changes nothing

    state = model.__getstate__()
    assert state["_bpcore_state"][0] >= 1
    state["_bpcore_state"] = (999, "9.9.9")
    stale = MLPClassifier.__new__(MLPClassifier)
    with pytest.raises(IncompatibleModelError, match=r"bpcore 9\.9\.9 \(state format 999\)"):
        stale.__setstate__(state)
    state.pop("_bpcore_state")
    with pytest.raises(IncompatibleModelError, match="unknown bpcore version"):
        MLPClassifier.__new__(MLPClassifier).__setstate__(state)

    # format 2 (before the loss parameters) still loads; partial_fit starts a new optimizer
    state["_bpcore_state"] = (2, "0.2.0")
    old = MLPClassifier.__new__(MLPClassifier)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict_proba(X), model.predict_proba(X))
    assert old._optimizer is None
    old.partial_fit(X, y)
    assert old._optimizer.step > 0
