"""The weight-gradient tasks.  The optimizer step taken inside them (each task steps
the parameters whose gradient it has just formed) gives the same weights, bitwise, as
the step in a pass of its own after the whole gradient (the path clip_norm takes):
every parameter group of every architecture is stepped exactly once, with the same
arithmetic.  Small networks get narrower tasks when two threads share those better,
and the widths never depend on the thread count."""

import numpy as np
import pytest
import scipy.sparse as sp

from bpcore import MLPClassifier, MLPRegressor, _network, _reference
from conftest import (assert_same_weights_with_1_and_2_threads, kernel_objective,
                      make_targets, needs_two_threads, random_params)
from test_gradients import finite_difference_gradient, relative_error

OPTIONS = {
    "adam": {},
    "sgd_nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    "sgd_plain": dict(solver="sgd", momentum=0.0),
    "decay_average_clip_value": dict(weight_decay=0.1, ema_decay=0.9, clip_value=0.05,
                                     alpha=0.1),
    "plateau_tol": dict(alpha=0.3, lr_schedule="plateau", tol=1e-3, n_iter_no_change=2),
    "cosine": dict(lr_schedule="cosine", warmup_epochs=1),
    "batch_norm": dict(normalization="batch", ema_decay=0.9, alpha=0.01),
    "layer_norm_skips": dict(normalization="layer", residual=True,
                             hidden_layer_sizes=(16, 16)),
    "periodic": dict(embedding="periodic", n_frequencies=4, embedding_dim=3),
    "ensemble": dict(n_members=3, alpha=0.01),
    "ensemble_periodic": dict(n_members=3, embedding="periodic", n_frequencies=4,
                              embedding_dim=3),
    "ensemble_layer_norm": dict(n_members=2, normalization="layer", residual=True,
                                hidden_layer_sizes=(16, 16), ema_decay=0.5),
    "wide": dict(hidden_layer_sizes=(130, 70), alpha=0.01),
}
DENSE_ONLY = ("periodic", "ensemble")


def fitted_params(estimator, X, y, fused):
    previous = _network.set_fused_step(fused)
    try:
        estimator.fit(X, y, sample_weight=np.linspace(0.2, 2.0, len(y)))
    finally:
        _network.set_fused_step(previous)
    return estimator._state.current_params().copy(), np.array(estimator.loss_curve_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_fused_step_gives_the_same_weights(option, sparse, dtype):
    if sparse and option.startswith(DENSE_ONLY):
        pytest.skip("dense input only")
    rng = np.random.RandomState(0)
    X = rng.randn(300, 6).astype(dtype)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    X = sp.csr_matrix(X) if sparse else X
    params = dict(hidden_layer_sizes=(12,), max_iter=4, batch_size=64, random_state=0)
    params.update(OPTIONS[option])
    fused, fused_curve = fitted_params(MLPClassifier(**params), X, y, True)
    # small enough for the fused step (a buffer of more than 16384 entries, one update
    # chunk, is stepped in a pass of its own)
    assert fused.size <= 16384
    apart, apart_curve = fitted_params(MLPClassifier(**params), X, y, False)
    assert np.array_equal(fused, apart)
    # the loss too (the penalty's ‖W‖² is the same sum), so that the stopping rules and
    # the plateau schedule decide the same
    assert np.array_equal(fused_curve, apart_curve)


def test_fused_step_regressor_with_two_outputs():
    rng = np.random.RandomState(1)
    X = rng.randn(200, 5)
    Y = np.c_[X[:, 0] - X[:, 1], X[:, 2] ** 2]
    results = []
    for fused in (True, False):
        previous = _network.set_fused_step(fused)
        try:
            model = MLPRegressor(hidden_layer_sizes=(20, 9), max_iter=3, batch_size=32, random_state=0,
                                 alpha=0.01).fit(X, Y)
        finally:
            _network.set_fused_step(previous)
        results.append(model._state.current_params().copy())
    assert np.array_equal(*results)


def test_narrow_gradient_tasks_where_two_threads_share_them_better():
    # the busiest of two threads taking the tasks in order (multiply-adds per row)
    assert _network.task_makespan([100, 64, 64, 1], 64, 2) == 6400     # 6400 | 4096 + 64
    assert _network.task_makespan([100, 64, 64, 1], 32, 2) == 5312     # 3200 + 2048 + 64
    assert _network.task_makespan([100, 64, 64, 1], 64, 1) == 6400 + 4096 + 64
    assert _network.task_width([100, 64, 64, 1]) == 32
    assert _network.task_width([64, 100, 10]) == 64        # 3816 against 4096 narrower
    assert _network.task_width([784, 256, 128, 10]) == 64  # large layers: fewer packings


@needs_two_threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_narrow_tasks_keep_the_weights_independent_of_the_thread_count(dtype):
    # the widths are a property of the network, not of the threads that run it
    rng = np.random.RandomState(0)
    X = rng.randn(500, 100)
    y = X[:, :3].sum(axis=1) + 0.1 * rng.randn(500)
    model = MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=3, batch_size=200,
                         random_state=0, alpha=0.01)
    assert_same_weights_with_1_and_2_threads(model, X, y, dtype)


# A layer that narrows (n_in > n_out) and has more than one task cuts its weight
# gradient into bands of input rows, each with every output column (each band packs
# its own rows of the input once, where column blocks pack all of it per block); the
# first band also forms the per-column parameters (bias, γ, β).
BANDED = [150, 100, 70, 3]


def test_narrowing_layers_take_bands_of_input_rows():
    assert _network.row_bands(BANDED) == [True, True, False]
    assert _network.row_bands([784, 256, 128, 10]) == [True, True, False]
    assert _network.row_bands([100, 64, 64, 1]) == [True, False, False]
    assert _network.row_bands([64, 100, 10]) == [False, False]    # widens: column blocks
    assert _network.row_bands([2000, 60, 1]) == [False, False]    # one task: no split


@pytest.mark.parametrize("sparse", [False, True])
def test_banded_gradient_matches_numpy_reference(sparse, rng):
    X = rng.normal(size=(60, BANDED[0])) * (rng.uniform(size=(60, BANDED[0])) < 0.3)
    Y = make_targets("log_loss", 60, BANDED[-1], rng)
    weights = rng.uniform(0.5, 2.0, size=60)
    theta = random_params(BANDED, rng, scale=0.2)
    objective = kernel_objective(BANDED, "relu", "log_loss", 0.1,
                                 sp.csr_matrix(X) if sparse else X, Y, weights)
    value, grad = objective(theta)
    data, penalty, expected = _reference.loss_gradient(theta, X, Y, BANDED, "relu",
                                                       "log_loss", 0.1, weights)
    assert value == pytest.approx(data + penalty, rel=1e-12)
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("normalization", ["layer", "batch"])
def test_banded_normalized_layer_matches_finite_differences(normalization, rng):
    # 70 -> 36 is cut into two bands; its γ and β come from the first
    layers = [40, 70, 36, 3]
    assert _network.row_bands(layers)[1]
    X = rng.normal(size=(30, layers[0]))
    Y = make_targets("log_loss", 30, layers[-1], rng)
    theta = random_params(layers, rng, scale=0.3, normalization=normalization)
    objective = kernel_objective(layers, "tanh", "log_loss", 0.05, X, Y,
                                 rng.uniform(0.5, 2.0, size=30), normalization=normalization)
    _, grad = objective(theta)
    numeric = finite_difference_gradient(objective, theta, 1e-5)
    assert relative_error(grad, numeric) < 1e-6
    second = slice(40 * 70 + 70, 40 * 70 + 70 + 70 * 36 + 36)    # W¹ and b¹
    assert relative_error(grad[second], numeric[second]) < 1e-6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True])
def test_banded_first_layer_fused_step_and_threads(sparse, dtype):
    rng = np.random.RandomState(0)
    X = (rng.randn(300, 150) * (rng.rand(300, 150) < 0.3)).astype(dtype)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    X = sp.csr_matrix(X) if sparse else X
    params = dict(hidden_layer_sizes=(70,), max_iter=3, batch_size=64, random_state=0,
                  alpha=0.01)
    assert _network.row_bands([150, 70, 3])[0]
    fused, fused_curve = fitted_params(MLPClassifier(**params), X, y, True)
    assert fused.size <= 16384
    apart, apart_curve = fitted_params(MLPClassifier(**params), X, y, False)
    assert np.array_equal(fused, apart)
    assert np.array_equal(fused_curve, apart_curve)
    if _network.omp_max_threads() >= 2:
        assert_same_weights_with_1_and_2_threads(MLPClassifier(**params), X, y, dtype)
