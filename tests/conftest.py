"""Shared helpers: small problems for every output/loss pair, and the kernel's objective."""

import builtins
import os
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import bpcore

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


def network_objective(net, X, Y, sample_weight, dropout_seed=None):
    """J(θ) and ∂J/∂θ of a given Network (float64, dense X), as a function of θ."""
    workspace = np.empty(net.train_workspace_size)
    none = np.empty(0, np.intp)

    def objective(point):
        grads = np.empty(len(point))
        data, penalty = _network.loss_gradient(net, X.ravel(), none, none, Y, sample_weight,
                                               np.ascontiguousarray(point), grads, workspace,
                                               dropout_seed)
        return data + penalty, grads

    return objective


def assert_finite_differences(objective, theta, entries, step=1e-6, tolerance=1e-6):
    """Each entry of ∂J/∂θ agrees with the central difference of J (relative to
    max(1, |difference|))."""
    _, grad = objective(theta)
    for i in entries:
        e = np.zeros_like(theta)
        e[i] = step
        numeric = (objective(theta + e)[0] - objective(theta - e)[0]) / (2 * step)
        assert abs(numeric - grad[i]) <= tolerance * max(1.0, abs(numeric)), (i, numeric, grad[i])
    return grad


def torch_layer_norms(est, normalization):
    """torch modules after each hidden layer's affine map: LayerNorm with est's γ, β
    (normalization='layer'), else identities."""
    torch = pytest.importorskip("torch")
    norms = torch.nn.ModuleList()
    for l, W in enumerate(est.coefs_[:-1]):
        norm = torch.nn.Identity()
        if normalization == "layer":
            norm = torch.nn.LayerNorm(W.shape[1], dtype=torch.float64)
            with torch.no_grad():
                norm.weight.copy_(torch.from_numpy(est.norm_scales_[l]))
                norm.bias.copy_(torch.from_numpy(est.norm_shifts_[l]))
        norms.append(norm)
    return norms


def torch_epochs(net, X, y, batch_loss, optimizer, epochs, batch_size, after_step=None,
                 batch_scheduler=None, epoch_scheduler=None):
    """Epochs of torch mini-batches over the rows in order, each batch's objective
    batch_loss(net, xb, yb); returns each epoch's mean of the batch losses weighted by
    their rows (as bpcore's loss_curve_).  after_step() follows every step, the batch
    scheduler steps after each batch, the epoch scheduler after each epoch on its loss."""
    torch = pytest.importorskip("torch")
    X, y = torch.from_numpy(X), torch.from_numpy(np.asarray(y))
    curve = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(X), batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            optimizer.zero_grad()
            loss = batch_loss(net, xb, yb)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(xb)
            if after_step is not None:
                after_step()
            if batch_scheduler is not None:
                batch_scheduler.step()
        curve.append(total / len(X))
        if epoch_scheduler is not None:
            epoch_scheduler.step(curve[-1])
    return curve


def torch_sgd_curve(net, X, y, batch_loss, epochs=3, batch_size=32, lr=0.05):
    """torch_epochs with torch's SGD (momentum 0.9), the net in training mode."""
    torch = pytest.importorskip("torch")
    net.train()
    return torch_epochs(net, X, y, batch_loss, torch.optim.SGD(net.parameters(), lr=lr,
                                                                momentum=0.9),
                        epochs, batch_size)


def train_beside_torch(est, X, y, twin, batch_loss):
    """bpcore and its torch twin side by side: `est` (SGD, momentum 0.9, lr 0.05,
    batches of 32) is fitted for an epoch, which makes its weights; twin(est) copies
    them into a torch module; then three more epochs of each over the rows in order.
    Returns the module and torch's loss curve (bpcore's: est.loss_curve_[-3:])."""
    quiet_fit(est, X, y)
    net = twin(est)
    quiet_fit(est.set_params(warm_start=True, max_iter=3, shuffle=False,
                             n_iter_no_change=10**6), X, y)
    return net, torch_sgd_curve(net, X, y, batch_loss)


def quiet_fit(model, *args, **kwargs):
    """model.fit without its warnings (convergence, in short test fits)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(*args, **kwargs)


needs_two_threads = pytest.mark.skipif(
    not bpcore.openmp_enabled() or len(os.sched_getaffinity(0)) < 2,
    reason="needs OpenMP and two CPUs")


def assert_same_weights_with_1_and_2_threads(model, X, y, dtype, **fit_kwargs):
    """model fitted on X (as dtype) with one OpenMP thread and with two ends with the
    same parameters, bit for bit."""
    results = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="openmp"):
            assert bpcore.effective_n_threads() == threads
            fitted = quiet_fit(model, X.astype(dtype), y, **fit_kwargs)
        assert fitted._params.dtype == dtype
        results.append(fitted._params.copy())
    np.testing.assert_array_equal(results[0], results[1])


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def without_tqdm(monkeypatch):
    """Importing tqdm fails, as where it is not installed."""
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError("no tqdm here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
