"""Shared helpers: small problems for every output/loss pair, and the kernel's objective."""

import numpy as np
import pytest

from bpcore import _layout, _network

HIDDEN_ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
NEW_ACTIVATIONS = ["leaky_relu", "elu", "gelu", "softplus", "swish"]
LOSSES = ["squared_error", "binary_log_loss", "log_loss", "poisson"]


def make_targets(loss, n_samples, n_outputs, rng):
    if loss == "squared_error":
        return rng.normal(size=(n_samples, n_outputs))
    if loss == "binary_log_loss":
        return (rng.random((n_samples, n_outputs)) > 0.5).astype(float)
    if loss == "log_loss":
        return np.eye(n_outputs)[rng.integers(0, n_outputs, n_samples)]
    return rng.poisson(2.0, size=(n_samples, n_outputs)).astype(float)


def random_params(layer_units, rng, dtype=np.float64, scale=0.5, normalization=None):
    return (scale * rng.normal(size=_layout.n_params(layer_units, normalization))).astype(dtype)


def kernel_objective(layer_units, activation, loss, alpha, X, Y, sample_weight=None, n_threads=2,
                     dropout=None, dropout_seed=None, normalization=None, residual=False):
    """J(θ) and ∂J/∂θ from the compiled kernel, as a function of the flat vector θ
    (with dropout: the fixed masks of dropout_seed)."""
    dtype = X.dtype
    hidden = [_network.ACTIVATION_CODES[activation]] * (len(layer_units) - 2)
    net = _network.Network(
        layer_units, hidden, _network.LOSS_CODES[loss], alpha, X.shape[0], n_threads, dropout,
        normalization=_network.NORMALIZATION_CODES[normalization], residual=residual,
    )
    workspace = np.empty(net.train_workspace_size, dtype=dtype)
    weights = np.empty(0, dtype) if sample_weight is None else sample_weight.astype(dtype)
    inputs = _layout.kernel_input(X, dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)

    def objective(theta):
        params = np.ascontiguousarray(theta, dtype=dtype)
        grads = np.empty_like(params)
        data, penalty = _network.loss_gradient(
            net, *inputs, Y, weights, params, grads, workspace, dropout_seed
        )
        return data + penalty, grads

    return objective


@pytest.fixture
def rng():
    return np.random.default_rng(0)
