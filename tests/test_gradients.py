"""The backward pass against central finite differences and against the numpy reference."""

import numpy as np
import pytest

from bpcore import _reference
from conftest import HIDDEN_ACTIVATIONS, LOSSES, NEW_ACTIVATIONS, kernel_objective, make_targets, random_params

ALL_ACTIVATIONS = HIDDEN_ACTIVATIONS + NEW_ACTIVATIONS

LAYERS = [5, 6, 4, 3]


def finite_difference_gradient(objective, theta, step):
    grad = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = step
        grad[i] = (objective(theta + e)[0] - objective(theta - e)[0]) / (2 * step)
    return grad


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_gradient_matches_finite_differences_float64(activation, loss, alpha, rng):
    X = rng.normal(size=(13, LAYERS[0]))
    Y = make_targets(loss, 13, LAYERS[-1], rng)
    weights = rng.uniform(0.5, 2.0, size=13)
    theta = random_params(LAYERS, rng)
    for sample_weight in (None, weights):
        objective = kernel_objective(LAYERS, activation, loss, alpha, X, Y, sample_weight)
        _, grad = objective(theta)
        # h = 1e-5: truncation O(h²) ~ 1e-10, rounding ~ eps·|J|/h ~ 1e-11
        numeric = finite_difference_gradient(objective, theta, 1e-5)
        assert relative_error(grad, numeric) < 1e-6
        # every layer, not just the whole vector
        start = 0
        for n_in, n_out in zip(LAYERS[:-1], LAYERS[1:]):
            block = slice(start, start + n_in * n_out)
            assert relative_error(grad[block], numeric[block]) < 1e-6
            start += n_in * n_out


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_kernel_matches_numpy_reference(activation, loss, rng):
    X = rng.normal(size=(40, LAYERS[0]))
    Y = make_targets(loss, 40, LAYERS[-1], rng)
    weights = rng.uniform(0.5, 2.0, size=40)
    theta = random_params(LAYERS, rng)
    objective = kernel_objective(LAYERS, activation, loss, 0.1, X, Y, weights)
    value, grad = objective(theta)
    data, penalty, expected = _reference.loss_gradient(
        theta, X, Y, LAYERS, activation, loss, 0.1, weights
    )
    assert value == pytest.approx(data + penalty, rel=1e-12)
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_float32_gradient_matches_float64(activation, loss, rng):
    # Finite differences mean nothing at float32's 1.2e-7 resolution, so the float32
    # kernel is compared with the float64 kernel at the same (float32) point.  Each
    # gradient entry is a sum of ~n products after a few layers of rounding; 1e-5
    # relative (about 100 float32 ulps) bounds that comfortably, while any error in
    # a formula gives O(1).
    X = rng.normal(size=(64, LAYERS[0])).astype(np.float32)
    Y = make_targets(loss, 64, LAYERS[-1], rng).astype(np.float32)
    theta = random_params(LAYERS, rng, dtype=np.float32)
    value32, grad32 = kernel_objective(LAYERS, activation, loss, 0.1, X, Y)(theta)
    value64, grad64 = kernel_objective(
        LAYERS, activation, loss, 0.1, X.astype(np.float64), Y.astype(np.float64)
    )(theta.astype(np.float64))
    assert grad32.dtype == np.float32
    assert relative_error(grad32.astype(np.float64), grad64) < 1e-5
    assert value32 == pytest.approx(value64, rel=1e-5)


def test_gradient_does_not_depend_on_thread_count(rng):
    layers = [30, 64, 48, 5]
    X = rng.normal(size=(500, 30))
    Y = make_targets("log_loss", 500, 5, rng)
    theta = random_params(layers, rng, scale=0.2)
    _, one = kernel_objective(layers, "tanh", "log_loss", 0.01, X, Y, n_threads=1)(theta)
    _, two = kernel_objective(layers, "tanh", "log_loss", 0.01, X, Y, n_threads=2)(theta)
    np.testing.assert_allclose(one, two, rtol=0, atol=1e-13)
