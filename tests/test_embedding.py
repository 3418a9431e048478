"""Safe to embed: forks, threads, edited and tampered weights, wide sparse data.

Every case that could crash or hang runs in a fresh Python process with a timeout:
a crash shows as a non-zero exit status, a hang as the timeout, a wrong answer as a
failed assertion inside the child.
"""

import os
import pickle
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

import bpcore
from bpcore import MLPClassifier, MLPRegressor, _network

POSIX = sys.platform != "win32"

# A model whose training ran OpenMP teams (so the pool exists), saved for the children.
PRELUDE = """
import os, sys, warnings, pickle
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
from sklearn.datasets import make_classification
import bpcore
X, y = make_classification(3000, 40, n_informative=10, n_classes=3, random_state=0)
model = bpcore.MLPClassifier((128, 64), max_iter=3, random_state=0).fit(X, y)
expected = model.predict_proba(X)
def child_work():
    # predict > 256 rows (the parallel path) and fit again, in the child
    same = bool(np.array_equal(model.predict_proba(X), expected))
    refit = bpcore.MLPClassifier((128, 64), max_iter=3, random_state=0).fit(X, y)
    return same, bool(np.array_equal(refit.predict_proba(X), expected))
"""


def run_isolated(code, timeout=120):
    """Run `code` in a fresh interpreter; it must exit 0 within `timeout` seconds.

    The child gets OpenMP's default thread count (an earlier test's library, Dask's
    nanny for one, may have set OMP_NUM_THREADS=1 in this process's environment)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    try:
        result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                                capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"hung: no answer within {timeout} s\n{error.stdout}\n{error.stderr}")
    assert result.returncode == 0, (
        f"exit status {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result.stdout


def fitted(**params):
    X, y = make_classification(300, 20, n_informative=6, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier((16, 8), max_iter=20, random_state=0, **params).fit(X, y)
    return model, X, y


# ------------------------------------------------------------------------ fork
@pytest.mark.slow
@pytest.mark.skipif(not POSIX, reason="fork is POSIX only")
@pytest.mark.parametrize("how", ["multiprocessing", "os.fork", "joblib"])
def test_forked_children_train_and_predict(how):
    code = PRELUDE + {
        "multiprocessing": """
import multiprocessing as mp
def job(_):
    return child_work()
with mp.get_context("fork").Pool(2) as pool:
    results = pool.map(job, range(2))
assert results == [(True, True)] * 2, results
""",
        "os.fork": """
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    same, refit = child_work()
    os.write(w, f"{same} {refit} {bpcore._network.forked_child()}".encode())
    os._exit(0)
os.waitpid(pid, 0)
answer = os.read(r, 100).decode()
assert answer == "True True True", answer
""",
        "joblib": """
from joblib import Parallel, delayed
results = Parallel(n_jobs=2, backend="multiprocessing")(delayed(child_work)() for _ in range(2))
assert results == [(True, True)] * 2, results
""",
    }[how]
    run_isolated(code, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(not (POSIX and _network.openmp_enabled()), reason="needs POSIX and OpenMP")
def test_thread_creation_failure_degrades_to_one_thread():
    # libgomp ends the process when it cannot create a thread; bpcore probes first and
    # runs on one thread (the same chunks: the same model)
    code = """
import resource, warnings
import numpy as np
warnings.simplefilter("ignore")
from sklearn.datasets import make_classification
import bpcore
from threadpoolctl import threadpool_limits
X, y = make_classification(2000, 20, random_state=0)
with threadpool_limits(1, user_api="openmp"):   # no team has run in this thread yet
    one = bpcore.MLPClassifier((64,), max_iter=2, random_state=0).fit(X, y)
size = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize")][0]
# room for the fit's arrays, not for another thread's 8 MB stack
resource.setrlimit(resource.RLIMIT_AS, ((size + 6 * 1024) * 1024, resource.RLIM_INFINITY))
model = bpcore.MLPClassifier((64,), max_iter=2, random_state=0).fit(X, y)
assert np.array_equal(model.coefs_[0], one.coefs_[0])
assert bpcore._network.usable_thread_count(2) == 1
print("ok")
"""
    assert "ok" in run_isolated(code, timeout=120)


# --------------------------------------------------------- edited weights
def test_assigned_layer_of_wrong_shape_is_refused_naming_it_and_nothing_else_changes():
    model, X, y = fitted()
    before = [c.copy() for c in model.coefs_]
    proba = model.predict_proba(X)
    model.coefs_[0] = np.ones((5, 16))
    for data in (X, sp.csr_matrix(X)):
        with pytest.raises(ValueError, match=r"coefs_\[0\] has shape \(5, 16\).*\(20, 16\)"):
            model.predict(data)
    with pytest.raises(ValueError, match=r"coefs_\[0\] has shape \(5, 16\)"):
        bpcore.loss_gradient(model, X, y)
    with pytest.raises(ValueError, match=r"coefs_\[0\] has shape \(5, 16\)"):
        model.set_params(warm_start=True).fit(X, y)
    np.testing.assert_array_equal(model.coefs_[1], before[1])
    model.coefs_[0] = before[0]
    np.testing.assert_array_equal(model.predict_proba(X), proba)


def test_assigned_layer_of_another_dtype_is_converted_for_that_call_only():
    model, X, y = fitted()
    reference = model.predict_proba(X)
    second = model.coefs_[1]
    model.coefs_[0] = model.coefs_[0].astype(np.float32)    # a float32 layer
    converted = model.predict_proba(X)
    assert converted.dtype == np.float64                      # the model stays float64
    np.testing.assert_allclose(converted, reference, rtol=1e-6)
    assert model.coefs_[1] is second and second.dtype == np.float64
    rounded = np.round(model.coefs_[0]).astype(np.int64)     # an integer layer
    model.coefs_[0] = rounded
    expected = MLPClassifier.__new__(MLPClassifier)
    expected.__dict__.update(model.__dict__)
    expected.coefs_ = [rounded.astype(np.float64), model.coefs_[1], model.coefs_[2]]
    np.testing.assert_array_equal(model.predict_proba(X), expected.predict_proba(X))
    assert model.coefs_[1].dtype == np.float64 and model.coefs_[2].dtype == np.float64
    model.coefs_[0] = np.full((20, 16), "a")
    with pytest.raises(ValueError, match=r"coefs_\[0\] holds <U1 values"):
        model.predict(X)
    # a warm start trains the assigned values, converted
    model.coefs_[0] = rounded
    model.set_params(warm_start=True, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.coefs_[0].dtype == np.float64


def test_same_size_wrong_shape_arrays_are_not_recut():
    model, X, _ = fitted()
    n_in, n_out = model.coefs_[0].shape
    model.coefs_[0] = model.coefs_[0].reshape(n_out, n_in)   # same values, other shape
    with pytest.raises(ValueError, match=r"coefs_\[0\] has shape \(16, 20\)"):
        model.predict(X)
    model.intercepts_ = model.intercepts_[:2]
    with pytest.raises(ValueError, match="intercepts_ holds 2 arrays; this model has 3 layers"):
        model.predict(X)


def test_non_finite_weights_are_named():
    model, X, _ = fitted()
    model.coefs_[-1][0, 0] = np.nan
    with pytest.raises(ValueError, match="weights are not finite"):
        model.predict(X[:300])


# ------------------------------------------------------ tampered state
@pytest.mark.slow
def test_tampered_pickles_are_refused_or_checked_never_crash():
    code = """
import pickle, warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
from sklearn.datasets import make_classification
import bpcore
from bpcore._state import ModelState
X, y = make_classification(300, 20, random_state=0)
model = bpcore.MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
state = model._state
# a buffer too small for the layers: refused (as when a tampered pickle is loaded)
try:
    ModelState(state.layer_units, state.activation, state.loss, state.params[:-3])
    raise SystemExit("a short buffer was accepted")
except ValueError as error:
    assert "need" in str(error)
# a first layer narrower than the data (consistent in itself)
for width in (5, 10**5):
    narrow = ModelState((width,) + state.layer_units[1:], state.activation, state.loss,
                        np.zeros(width * 8 + 8 + 8 + 1), state.encoder)
    model._state = narrow
    for data in (X, sp.csr_matrix(X)):
        try:
            model.predict(data)
            raise SystemExit("a mismatched first layer predicted")
        except ValueError as error:
            assert "features" in str(error), error
        try:
            bpcore.loss_gradient(model, data, y)
            raise SystemExit("a mismatched first layer gave gradients")
        except ValueError as error:
            assert "features" in str(error), error
# the kernel boundary itself: column indices beyond the weight rows
from bpcore import _network
net = state.network(1)
wide = sp.random(4, 50, density=0.5, format="csr", random_state=0)
out = np.empty((4, 1))
try:
    _network.predict(net, wide.data, wide.indices.astype(np.intp), wide.indptr.astype(np.intp),
                     state.params, out, np.empty(net.predict_workspace_size(4)), 4)
    raise SystemExit("out-of-range column indices reached the kernel")
except ValueError as error:
    assert "column index" in str(error), error
print("ok")
"""
    assert "ok" in run_isolated(code)


def test_a_pickle_of_another_format_is_refused():
    model, X, _ = fitted()
    state = model.__getstate__()
    state["_state"] = {"coefs_": [np.zeros((3, 3))]}
    with pytest.raises(bpcore.IncompatibleModelError, match="not a bpcore ModelState"):
        MLPClassifier.__new__(MLPClassifier).__setstate__(state)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


# ------------------------------------------------------------ threads
@pytest.mark.slow
def test_refit_while_predicting_sees_one_model_or_the_other():
    code = """
import threading, time, warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
import bpcore
rng = np.random.default_rng(0)
wide = sp.random(400, 300, density=0.05, format="csr", random_state=0)
y_wide = rng.integers(0, 2, 400)
narrow = rng.normal(size=(400, 10))
# every model a fit on `wide` publishes: after epoch 1, after epoch 2
published = []
record = lambda m, info: published.append(m.predict_proba(wide))
bpcore.MLPClassifier((32,), max_iter=2, random_state=0, callbacks=[record]).fit(wide, y_wide)
model = bpcore.MLPClassifier((32,), max_iter=2, random_state=0).fit(wide, y_wide)
stop = time.time() + 3
results = {"same": 0, "refused": 0, "fits": 0}
def refit():
    while time.time() < stop:
        model.fit(narrow, y_wide)
        model.fit(wide, y_wide)
        results["fits"] += 2
def predict():
    while time.time() < stop:
        try:
            proba = model.predict_proba(wide)
        except ValueError as error:
            assert "features" in str(error), error
            results["refused"] += 1
            continue
        assert any(np.array_equal(proba, p) for p in published), "a mixed model"
        results["same"] += 1
threads = [threading.Thread(target=refit), threading.Thread(target=predict)]
[t.start() for t in threads]
[t.join() for t in threads]
assert results["same"] > 0 and results["fits"] > 0, results
print("ok", results)
"""
    assert "ok" in run_isolated(code, timeout=120)


def test_concurrent_fits_on_one_estimator_equal_a_sequential_fit():
    X, y = make_classification(2000, 20, n_classes=3, n_informative=6, random_state=0)
    params = dict(hidden_layer_sizes=(32,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sequential = MLPClassifier(**params).fit(X, y)
        shared = MLPClassifier(**params)
        errors = []

        def fit():
            try:
                shared.fit(X, y)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=fit) for _ in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    assert not errors, errors
    np.testing.assert_array_equal(shared._params, sequential._params)


def test_partial_fit_from_two_threads_is_serialised():
    X, y = make_classification(1000, 20, random_state=0)
    one = MLPClassifier((16,), random_state=0)
    one.partial_fit(X, y, classes=[0, 1])
    one.partial_fit(X, y)
    one.partial_fit(X, y)
    shared = MLPClassifier((16,), random_state=0)
    shared.partial_fit(X, y, classes=[0, 1])
    threads = [threading.Thread(target=shared.partial_fit, args=(X, y)) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    np.testing.assert_array_equal(shared._params, one._params)
    assert shared.t_ == one.t_


# ------------------------------------------------------- wide sparse data
@pytest.mark.slow
@pytest.mark.skipif(not POSIX, reason="RLIMIT_AS is POSIX only")
def test_million_column_sparse_predict_and_lbfgs_in_bounded_memory():
    # X is never densified, and no buffer is rows x n_features: predicting 300 rows
    # (30 GiB before) and an L-BFGS fit on 2000 rows run under an address-space limit
    code = """
import resource, warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
import bpcore
size = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize")][0]
# L-BFGS keeps 2 m n_params doubles of history (scipy's, 1.6 GB here); rows x n_features
# would be 16 GB
resource.setrlimit(resource.RLIMIT_AS, ((size + 4 * 1024 * 1024) * 1024, resource.RLIM_INFINITY))
rng = np.random.default_rng(0)
columns = np.sort(rng.choice(10**6, size=(2000, 20)), axis=1)   # 20 values a row
X = sp.csr_matrix((rng.normal(size=40000), columns.ravel(), np.arange(0, 40001, 20)),
                  shape=(2000, 10**6))
y = rng.integers(0, 2, 2000)
model = bpcore.MLPClassifier((10,), max_iter=2, random_state=0).fit(X, y)
assert model.predict(X[:300]).shape == (300,)
assert model.predict_proba(X[:5]).shape == (5, 2)
lbfgs = bpcore.MLPClassifier((10,), solver="lbfgs", max_iter=5, random_state=0).fit(X, y)
assert np.isfinite(lbfgs.predict_proba(X)).all() and lbfgs.n_iter_ > 0
print("ok")
"""
    assert "ok" in run_isolated(code, timeout=300)


# --------------------------------------------------------- one class, messages
def test_one_class_fits_and_predicts_it_as_scikit_learn_does():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(10, 2), columns=["colname_a", "colname_b"])
    y = pd.Series(np.full(10, 1), name="colname_y")
    for estimator in (MLPClassifier, MLPRegressor):
        model = estimator(early_stopping=True, validation_fraction=0.2)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
    model = MLPClassifier((4,), max_iter=5).fit(np.random.RandomState(0).randn(20, 3),
                                                 ["only"] * 20)
    assert list(model.classes_) == ["only"]
    assert list(model.predict(np.zeros((3, 3)))) == ["only"] * 3
    np.testing.assert_array_equal(model.predict_proba(np.zeros((3, 3))), np.ones((3, 1)))


def test_float32_model_names_the_range_not_nan():
    model, X, _ = fitted()
    model32 = MLPClassifier((8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model32.fit(X.astype(np.float32), model.predict(X))
    huge = X.copy()
    huge[0, 0] = 1e39
    with pytest.raises(ValueError, match=r"beyond the range of float32 \(largest \|x\| = 1e\+39\)"):
        model32.predict(huge)


def test_switching_solver_between_partial_fits_starts_a_new_optimizer():
    X, y = make_classification(300, 10, random_state=0)
    model = MLPClassifier((8,), solver="sgd", random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    model.set_params(solver="adam").partial_fit(X, y)
    assert model._optimizer.solver == "adam" and model._optimizer.step > 0
    model.set_params(solver="sgd").partial_fit(X, y)
    assert model._optimizer.solver == "sgd"


def test_fit_from_inside_its_own_fit_is_refused_not_a_deadlock():
    X, y = make_classification(200, 5, random_state=0)
    model = MLPClassifier((4,), max_iter=3)
    model.set_params(callbacks=[lambda m, info: m.fit(X, y)])
    with pytest.raises(RuntimeError, match="while it is fitting, from the same thread"):
        model.fit(X, y)
    model.set_params(callbacks=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)                     # the lock was released
    assert model.n_iter_ == 3


# ------------------------------------------- found by attacking the boundary
@pytest.mark.slow
def test_kernel_arguments_that_once_crashed_are_refused():
    code = """
import numpy as np
from bpcore import _network as N
relu, squared = N.ACTIVATION_CODES["relu"], N.LOSS_CODES["squared_error"]
def refused(call, words):
    try:
        call()
    except ValueError as error:
        assert words in str(error), error
        return
    raise SystemExit(f"accepted: {words}")
# sizes whose product overflows
refused(lambda: N.Network([2**62, 4], [], squared, 0.0, 1, 1), "addressed")
# a chunk size that overflows the workspace check
net = N.Network([3, 4, 2], [relu], squared, 0.0, 1, 1)
e = np.empty(0, np.intp)
refused(lambda: N.predict(net, np.ones(3000), e, e, np.zeros(net.n_params), np.empty((1000, 2)),
                          np.empty(1), 2**61), "workspace")
# an optimizer kind that is neither SGD nor Adam
X, Y = np.ones(3 * 8), np.ones((8, 2))
config = dict(kind=2, learning_rate=0.1, momentum=0.0, nesterov=False, beta_1=0.9,
              beta_2=0.999, epsilon=1e-8, clip_norm=0.0, clip_value=0.0, weight_decay=0.0,
              schedule=0, warmup_steps=0.0, total_steps=10.0, ema_decay=0.0)
args = lambda gov, step=0: (net8, X, e, e, Y, np.empty(0), e, 8, np.zeros(net8.n_params),
                    np.zeros(net8.n_params), np.zeros(net8.n_params), np.empty(0), np.empty(0),
                    np.zeros(net8.train_workspace_size), config, step, 0, np.zeros(6),
                    np.zeros(4, np.uint8), gov)
net8 = N.Network([3, 4, 2], [relu], squared, 0.0, 8, 2)
refused(lambda: N.train_epoch(*args(np.zeros(8))), "kind")
config["kind"] = 0
# a moving average without its buffer, an unknown schedule, a negative step count
config["ema_decay"] = 0.9
refused(lambda: N.train_epoch(*args(np.zeros(8))), "average")
config["ema_decay"], config["schedule"] = 0.0, 7
refused(lambda: N.train_epoch(*args(np.zeros(8))), "schedule")
config["schedule"] = 0
refused(lambda: N.train_epoch(*args(np.zeros(8), -1)), "step")
# the robust losses' parameters: one per output, in range
huber, quantile = N.LOSS_CODES["huber"], N.LOSS_CODES["quantile"]
refused(lambda: N.Network([3, 4, 2], [relu], huber, 0.0, 8, 1), "Huber")
refused(lambda: N.Network([3, 4, 2], [relu], quantile, 0.0, 8, 1, loss_param=[0.5]), "quantile")
refused(lambda: N.Network([3, 4, 2], [relu], quantile, 0.0, 8, 1, loss_param=[0.5, 1.0]),
        "quantile")
# a governor state naming a team larger than the workspace holds: not trusted
for team in (64, 512, -3, float("nan")):
    N.train_epoch(*args(np.array([1, team, 2, 100, 0, 0, 0, 0], dtype=float)))
# the task widths' helpers: sizes that would divide by zero
refused(lambda: N.task_makespan([3, 4], 0, 2), "at least 1")
refused(lambda: N.task_makespan([3, 4], -5, 2), "at least 1")
refused(lambda: N.task_makespan([3, 4], 64, 0), "at least 1")
refused(lambda: N.task_makespan([0, 0], 64, 2), "positive")
refused(lambda: N.task_width([0, 5, 0]), "positive")
refused(lambda: N.task_width([5]), "positive")
# no network at all (Cython lets None through a typed argument unless told not to)
f = np.zeros(3 * 8)
for call in (lambda: N.predict_rows(None, np.zeros((1, 3)), np.zeros(net.n_params), np.zeros((1, 2))),
             lambda: N.predict(None, f, e, e, np.zeros(net.n_params), np.empty((8, 2)),
                               np.empty(64), 8),
             lambda: N.loss_gradient(None, f, e, e, np.ones((8, 2)), np.empty(0),
                                     np.zeros(net.n_params), np.zeros(net.n_params),
                                     np.zeros(1000)),
             lambda: N.output_objective(None, np.ones((8, 2)), np.ones((8, 2)), np.empty(0),
                                        np.zeros(net.n_params)),
             lambda: N.train_epoch(None, *args(np.zeros(8))[1:])):
    try:
        call()
    except TypeError as error:
        assert "NoneType" in str(error) or "None" in str(error), error
    else:
        raise SystemExit("None accepted as a network")
# the small-prediction kernel names its own arrays, and checks them before X
refused(lambda: N.predict_rows(net, np.zeros((1, 3)), np.zeros(net.n_params),
                               np.zeros((1, 2), np.float32)), "one dtype")
refused(lambda: N.predict_rows(net, np.zeros((1, 7)), np.zeros(net.n_params + 1),
                               np.zeros((1, 2))), "wrong size")
try:
    N.predict_rows(net, np.zeros((1, 3)), np.zeros((2, net.n_params)), np.zeros((1, 2)))
except ValueError as error:
    assert str(error).startswith("params must be"), error
print("ok")
"""
    assert "ok" in run_isolated(code)


@pytest.mark.slow
@pytest.mark.skipif(not POSIX, reason="fork is POSIX only")
def test_fork_while_another_thread_fits_the_same_estimator():
    code = """
import os, threading, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from sklearn.datasets import make_classification
import bpcore
X, y = make_classification(20000, 20, random_state=0)
m = bpcore.MLPClassifier((64,), max_iter=30, tol=0, n_iter_no_change=1000, random_state=0)
threading.Thread(target=lambda: m.fit(X, y), daemon=True).start()
while "_state" not in m.__dict__:
    time.sleep(0.01)
pid = os.fork()
if pid == 0:
    m.set_params(max_iter=2).fit(X[:100], y[:100])      # the parent's lock is not held here
    os._exit(0 if m.n_iter_ == 2 else 3)
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 0, status
print("ok")
"""
    assert "ok" in run_isolated(code, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(not POSIX, reason="fork is POSIX only")
def test_every_forked_child_runs_on_one_thread():
    # another library sharing the OpenMP runtime may have left a pool bpcore cannot see
    code = """
import os
import bpcore
assert not bpcore._network.forked_child()
pid = os.fork()
if pid == 0:
    ok = bpcore._network.forked_child() and bpcore._network.usable_thread_count(2) == 1
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 0, status
print("ok")
"""
    assert "ok" in run_isolated(code)


@pytest.mark.slow
@pytest.mark.skipif(not (POSIX and _network.openmp_enabled()), reason="needs POSIX and OpenMP")
def test_thread_probe_uses_openmps_stack_size():
    code = """
import os, resource, warnings
warnings.simplefilter("ignore")
from sklearn.datasets import make_classification
import bpcore
X, y = make_classification(5000, 50, random_state=0)
size = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize")][0]
resource.setrlimit(resource.RLIMIT_AS, ((size + 1024 * 1024) * 1024, resource.RLIM_INFINITY))
bpcore.MLPClassifier((128,), max_iter=2, random_state=0).fit(X, y)   # a 1.4 GB stack: no
assert bpcore._network.usable_thread_count(2) == 1
print("ok")
"""
    env_code = "import os; os.environ['OMP_STACKSIZE'] = '1400M'\n" + textwrap.dedent(code)
    assert "ok" in run_isolated(env_code, timeout=120)


def test_predict_during_a_refit_of_another_width_answers_with_the_published_model():
    rng = np.random.default_rng(0)
    X6, y6 = rng.normal(size=(300, 6)), rng.integers(0, 2, 300)
    X9, y9 = rng.normal(size=(100000, 9)), rng.integers(0, 2, 100000)
    model = MLPClassifier((16,), max_iter=2, random_state=0).fit(X6, y6)
    expected = model.predict_proba(X6)
    first = model._state
    refit = threading.Thread(target=lambda: model.set_params(max_iter=1).fit(X9, y9))
    refit.start()
    answered = 0
    while refit.is_alive() and model._state is first:
        if model.n_features_in_ == 9:          # the refit has validated its data
            proba = model.predict_proba(X6)    # 300 rows: the checked path
            if model._state is first:
                np.testing.assert_array_equal(proba, expected)
                answered += 1
    refit.join()
    assert model._state.n_features == 9
    assert answered > 0


def test_nan_weights_are_named_through_relu_too():
    model, X, _ = fitted()
    model.coefs_[0][0, :] = np.nan           # relu(NaN) is NaN, as in numpy
    with pytest.raises(ValueError, match="weights are not finite"):
        model.predict_proba(X[:300])
    with pytest.raises(ValueError, match="weights are not finite"):
        model.predict_proba(X[:2])


def test_edits_in_a_callback_are_what_the_next_epoch_trains():
    X, y = make_classification(500, 10, random_state=0)

    def zero_first_layer(model, info):
        model.coefs_[0][...] = 0

    model = MLPClassifier((8,), max_iter=3, random_state=0, callbacks=[zero_first_layer])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    # recorded before each epoch's callback: epochs 2 and 3 started from zeros
    first, second = model.weight_norms_[0, 0], model.weight_norms_[1, 0]
    assert second < 0.2 * first, (first, second)
    assert np.all(model.coefs_[0] == 0)


def test_loss_gradient_checks_y_as_fit_does():
    model, X, y = fitted()
    with pytest.raises(ValueError, match=r"labels the model does not know: \[99\]"):
        bpcore.loss_gradient(model, X[:5], [0, 1, 2, 0, 99])
    X_reg = np.random.default_rng(0).normal(size=(10, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(
            X_reg, X_reg[:, 0])
        poisson = MLPRegressor(hidden_layer_sizes=(4,), loss="poisson", max_iter=3).fit(
            X_reg, np.abs(X_reg[:, 0]))
        model32 = MLPClassifier((4,), max_iter=3).fit(X.astype(np.float32), y)
    with pytest.raises(ValueError, match=r"y has shape \(5, 2\); this model needs 10 rows"):
        bpcore.loss_gradient(reg, X_reg, np.zeros((5, 2)))
    with pytest.raises(ValueError, match="non-negative y"):
        bpcore.loss_gradient(poisson, X_reg, -np.ones(10))
    huge = X[:5].copy()
    huge[0, 0] = 1e39
    with pytest.raises(ValueError, match="beyond the range of float32"):
        bpcore.loss_gradient(model32, huge, y[:5])


def test_a_state_whose_labels_do_not_fit_its_outputs_is_refused():
    from sklearn.preprocessing import LabelBinarizer

    from bpcore._state import ModelState

    with pytest.raises(ValueError, match="does not fit 1 outputs"):
        ModelState((3, 4, 1), "relu", "binary_log_loss", np.zeros(3 * 4 + 4 + 4 + 1),
                   LabelBinarizer().fit([0, 1, 2, 3]))


def test_messages_for_odd_settings():
    model, X, y = fitted()
    with pytest.raises(TypeError, match="coefs_ must be a list of arrays"):
        model.coefs_ = None
    with pytest.raises(bpcore.InvalidParameterError, match="'alpha' parameter"):
        MLPClassifier(alpha=np.inf).fit(X, y)
    with pytest.raises(bpcore.InvalidParameterError, match="'random_state' parameter"):
        MLPClassifier(random_state=np.random.default_rng(0)).fit(X, y)
    with pytest.raises(ValueError, match="class_weight holds negative weights"):
        MLPClassifier(class_weight={0: -1.0, 1: 1.0, 2: 1.0}).fit(X, y)
    model32 = MLPClassifier((8,), max_iter=2).fit(X.astype(np.float32), y)
    model32.coefs_[0] = np.full((20, 8), 1e39)
    with pytest.raises(ValueError, match=r"coefs_\[0\] holds values beyond the range of float32"):
        model32.predict(X)


def test_batches_with_no_weight_are_skipped():
    X, y = make_classification(200, 5, random_state=0)
    weights = np.ones(200)
    weights[:10] = 0                      # the first batch of 10 weighs nothing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier((4,), batch_size=10, shuffle=False, max_iter=3,
                              random_state=0).fit(X, y, sample_weight=weights)
        rest = MLPClassifier((4,), batch_size=10, shuffle=False, max_iter=3,
                             random_state=0).fit(X[10:], y[10:])
    assert model.n_iter_ == 3
    np.testing.assert_allclose(model._params, rest._params, rtol=1e-12)


def test_stochastic_continuations_of_other_histories():
    X, y = make_classification(200, 5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier((4,), solver="lbfgs", max_iter=5).fit(X, y)
        model.set_params(solver="sgd").partial_fit(X, y)
        assert len(model.loss_curve_) == 1
        toggled = MLPClassifier((4,), max_iter=3, warm_start=True).fit(X, y)
        toggled.set_params(early_stopping=True).fit(X, y)
        assert len(toggled.validation_scores_) == toggled.n_iter_
        toggled.set_params(early_stopping=False).fit(X, y)
        assert toggled.best_loss_ <= toggled.loss_curve_[-1]


def test_the_small_prediction_kernel_reports_what_is_not_finite():
    # the one-row path trusts the kernel's answer: the count of non-finite inputs, or
    # -1 for finite inputs whose output is not finite (NaN weights, overflow)
    X = np.random.RandomState(0).normal(size=(5, 4))
    model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, X[:, 0])
    state = model._state
    out = np.empty((2, 1))
    params = state.params.copy()
    assert _network.predict_rows(state.serial_network, X[:2].copy(), params, out) == 0
    bad_X = X[:2].copy()
    bad_X[0, 1] = np.inf
    bad_X[1, 2] = np.nan
    assert _network.predict_rows(state.serial_network, bad_X, params, out) == 2
    params[-1] = np.nan
    assert _network.predict_rows(state.serial_network, X[:2].copy(), params, out) == -1
    # an X this path cannot read as it is goes to the general path (-3, out untouched)
    params = state.params.copy()
    for other in (np.asfortranarray(X[:2]), X[:2].astype(np.float32), X[:2, :3].copy(),
                  X[:2].astype(int), X[:2].ravel(), X[:2].astype(">f8"), [[1.0] * 4] * 2):
        out[:] = 7.0
        assert _network.predict_rows(state.serial_network, other, params, out) == -3
        assert np.all(out == 7.0)
    assert _network.predict_rows(state.serial_network, X[:3].copy(), params, out) == -3
    # the network's own arrays are checked, never guessed
    with pytest.raises(ValueError, match="wrong size"):
        _network.predict_rows(state.serial_network, X[:2].copy(), params[:-1], out)
    with pytest.raises(ValueError, match="one dtype"):
        _network.predict_rows(state.serial_network, X[:2].copy(), params,
                              out.astype(np.float32))
    with pytest.raises(ValueError, match="output size"):
        _network.predict_rows(state.serial_network, X[:2].copy(), params, np.empty((2, 2)))
    with pytest.raises(ValueError, match="params must be a C-contiguous, aligned 1-d"):
        _network.predict_rows(state.serial_network, X[:2].copy(), params.reshape(1, -1), out)
    frozen = out.copy()
    frozen.flags.writeable = False
    with pytest.raises((BufferError, ValueError)):
        _network.predict_rows(state.serial_network, X[:2].copy(), params, frozen)
    # and the estimator answers the same for each of those inputs
    expected = model.predict(X[:2].copy())
    for other in (np.asfortranarray(X[:2]), X[:2].astype(np.float32), X[:2].astype(">f8")):
        np.testing.assert_allclose(model.predict(other), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="weights are not finite"):
        model.intercepts_[-1][:] = np.nan
        model.predict(X[:1])
