"""Periodic (PLR) embeddings of the input features: against a torch model built here,
finite differences, the thread count, pickling, ONNX and the estimator's checks."""

import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

import bpcore
from bpcore import MLPClassifier, MLPRegressor, _network
from bpcore._validation import InvalidParameterError

from conftest import (quiet_fit, assert_same_weights_with_1_and_2_threads, needs_two_threads, assert_finite_differences, make_targets, network_objective,
                      torch_layer_norms, train_beside_torch)

K, D = 3, 4          # frequencies and outputs per feature


def data(n_rows=90, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, 5))
    y = (np.sin(2 * X[:, 0]) + X[:, 1] ** 2 > 0.8).astype(int) + (X[:, 2] > 0.5)
    return X, y


def model(**params):
    return MLPClassifier(**{**dict(hidden_layer_sizes=(6, 6), activation="tanh",
                                   embedding="periodic", n_frequencies=K, embedding_dim=D,
                                   frequency_scale=0.5, solver="sgd",
                                   learning_rate_init=0.05, momentum=0.9,
                                   nesterovs_momentum=False, alpha=0.0, batch_size=32,
                                   random_state=0), **params})


def torch_twin(est, normalization=None, residual=False):
    """The same network in torch: PLR (sin, cos of 2π c x; per-feature linear; relu),
    then Linear -> (normalization) -> tanh (+ skip) ..., from est's current weights."""
    torch = pytest.importorskip("torch")
    t = lambda a: torch.nn.Parameter(torch.from_numpy(np.array(a, dtype=np.float64)))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = t(est.embedding_frequencies_)
            self.W = t(est.embedding_weights_)
            self.b = t(est.embedding_biases_)
            self.linears = torch.nn.ModuleList()
            for W, b in zip(est.coefs_, est.intercepts_):
                linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
                with torch.no_grad():
                    linear.weight.copy_(torch.from_numpy(W.T))
                    linear.bias.copy_(torch.from_numpy(b))
                self.linears.append(linear)
            self.norms = torch_layer_norms(est, normalization)
            self.skip = [residual and 0 < l and W.shape[0] == W.shape[1]
                         for l, W in enumerate(est.coefs_[:-1])]

        def forward(self, x):
            angle = 2 * math.pi * self.c[None] * x[..., None]           # (n, F, k)
            v = torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1)  # (n, F, 2k)
            e = torch.relu(torch.einsum("nfi,fid->nfd", v, self.W) + self.b)
            x = e.reshape(len(x), -1)                                    # feature-major
            for l, linear in enumerate(self.linears[:-1]):
                h = torch.tanh(self.norms[l](linear(x)))
                x = x + h if self.skip[l] else h
            return self.linears[-1](x)

    return Net()


@pytest.mark.parametrize("normalization,residual", [(None, False), ("layer", True)])
def test_training_is_torch(normalization, residual):
    torch = pytest.importorskip("torch")
    X, y = data()
    est = model(normalization=normalization, residual=residual, max_iter=1)
    loss_sum = torch.nn.CrossEntropyLoss(reduction="sum")
    net, curve = train_beside_torch(est, X, y,
                                    lambda est: torch_twin(est, normalization, residual),
                                    lambda net, xb, yb: loss_sum(net(xb), yb) / len(xb))
    Xt = torch.from_numpy(X)
    np.testing.assert_allclose(est.loss_curve_[-3:], curve, rtol=1e-9)
    for ours, theirs in [(est.embedding_frequencies_, net.c), (est.embedding_weights_, net.W),
                         (est.embedding_biases_, net.b)]:
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-9)
    for ours, linear in zip(est.coefs_, net.linears):
        np.testing.assert_allclose(ours, linear.weight.detach().numpy().T, rtol=0, atol=1e-9)
    with torch.no_grad():
        expected = torch.softmax(net(Xt), dim=1).numpy()
    np.testing.assert_allclose(est.predict_proba(X), expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(est.predict_proba(X[:2]), expected[:2], rtol=0, atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("normalization", [None, "batch", "layer"])
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_gradient_is_the_finite_difference(normalization, loss):
    # weighted rows, α > 0, dropout, three row chunks, the rows in a shuffled order
    rng = np.random.default_rng(3)
    units, n = [5, 8, 8, 3], 300
    net = _network.Network(units, [_network.ACTIVATION_CODES["tanh"]] * 2,
                           _network.LOSS_CODES[loss], 0.01, n, 2, [0.2, 0.1], True, None,
                           _network.NORMALIZATION_CODES[normalization], True, 0.1, K, D)
    theta = rng.normal(0, 0.5, net.n_params)
    X = rng.normal(size=(n, 5))
    Y = make_targets(loss, n, 3, rng)
    weights = rng.uniform(0, 2, n)
    objective = network_objective(net, X, Y, weights, 5)
    # the embeddings' parameters sit before batch normalization's running statistics
    n_running = 2 * 16 if normalization == "batch" else 0
    n_embedding = 5 * K + 5 * 2 * K * D + 5 * D
    stop = net.n_params - n_running
    assert_finite_differences(objective, theta, np.concatenate([
        rng.choice(stop, 30, replace=False), np.arange(stop - n_embedding, stop)]))


@needs_two_threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_independent_of_the_thread_count(dtype):
    X, y = data(n_rows=900)
    assert_same_weights_with_1_and_2_threads(
        model(hidden_layer_sizes=(64, 64), n_frequencies=8, embedding_dim=8, batch_size=400,
              max_iter=3, normalization="batch"), X, y, dtype)


def test_float32_follows_float64_and_learns():
    X, y = data(n_rows=600)
    fits = [quiet_fit(model(max_iter=2), X.astype(dtype), y) for dtype in (np.float32, np.float64)]
    np.testing.assert_allclose(fits[0].predict_proba(X.astype(np.float32)),
                               fits[1].predict_proba(X), atol=2e-5)
    # a periodic target the embeddings fit
    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, size=(1000, 2))
    target = np.sin(6 * X[:, 0]) + 0.5 * X[:, 1]
    reg = quiet_fit(MLPRegressor(hidden_layer_sizes=(32,), embedding="periodic",
                                 frequency_scale=1.0, learning_rate_init=0.01,
                                 max_iter=100, random_state=0), X[:800], target[:800])
    assert reg.score(X[800:], target[800:]) > 0.95


def test_state_pickle_and_checks():
    X, y = data(n_rows=200)
    est = quiet_fit(model(max_iter=2), X, y)
    assert est.embedding_frequencies_.shape == (5, K)
    assert est.embedding_weights_.shape == (5, 2 * K, D)
    assert est.embedding_biases_.shape == (5, D)
    assert est.coefs_[0].shape == (5 * D, 6) and est.n_features_in_ == 5
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    quiet_fit(copy.set_params(warm_start=True, max_iter=1), X, y)       # same layout
    with pytest.raises(ValueError, match=r"embedding \(k, d\)=\(3, 4\).*\(3, 5\)"):
        copy.set_params(embedding_dim=5).fit(X, y)
    with pytest.raises(ValueError, match="needs dense X"):
        model().fit(sp.csr_matrix(X), y)
    with pytest.raises(ValueError, match="X has 4 features"):
        est.predict(X[:, :4])
    with pytest.raises(InvalidParameterError, match="'n_frequencies' parameter"):
        model(n_frequencies=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'embedding' parameter"):
        model(embedding="linear").fit(X, y)
    plain = quiet_fit(model(embedding=None, max_iter=1), X, y)
    with pytest.raises(AttributeError, match=r"embedding_weights_' \(embedding=None\)"):
        plain.embedding_weights_


def test_non_finite_values_are_not_hidden_by_the_relu():
    X, y = data(n_rows=200)
    est = quiet_fit(model(max_iter=2), X, y)
    huge = X[:3].copy()
    huge[0, 0] = 1e308                  # 2π c x overflows: that row's output is not finite
    with pytest.raises(ValueError, match="not finite"):
        est.predict(huge)
    est.embedding_weights_[:] = np.nan
    with pytest.raises(ValueError, match="weights are not finite"):
        est.predict(X)
    report = bpcore.check_gradients(quiet_fit(model(max_iter=2), X[:30], y[:30]), X[:30], y[:30],
                                    max_checks_per_layer=None)
    assert report.layers[0]["n_checked"] == 20 * 6 + 6 + 5 * K + 5 * 2 * K * D + 5 * D
    assert max(layer["max_relative_error"] for layer in report.layers) < 1e-6
