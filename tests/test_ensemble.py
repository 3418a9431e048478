"""Weight-sharing ensembles (BatchEnsemble, n_members): against a torch model built here,
finite differences, the thread count, partial_fit, pickling, ONNX and the checks."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

import bpcore
from bpcore import MLPClassifier, MLPRegressor, _network
from bpcore._validation import InvalidParameterError

from conftest import (quiet_fit, assert_same_weights_with_1_and_2_threads, needs_two_threads, assert_finite_differences, make_targets, network_objective,
                      torch_layer_norms, train_beside_torch)

K = 3


def data(n_rows=90, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, 5))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.8).astype(int) + (X[:, 2] > 0.5)
    return X, y


def model(**params):
    return MLPClassifier(**{**dict(hidden_layer_sizes=(6, 6), activation="tanh",
                                   n_members=K, solver="sgd", learning_rate_init=0.05,
                                   momentum=0.9, nesterovs_momentum=False, alpha=0.0,
                                   batch_size=32, random_state=0), **params})


def torch_twin(est, normalization=None, residual=False):
    """BatchEnsemble in torch: x (n, K, n_in) -> ((x ∘ r) W) ∘ s + b per layer."""
    torch = pytest.importorskip("torch")
    t = lambda a: torch.nn.Parameter(torch.from_numpy(np.array(a, dtype=np.float64)))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.W = torch.nn.ParameterList([t(W) for W in est.coefs_])
            self.b = torch.nn.ParameterList([t(b) for b in est.intercepts_])
            self.r = torch.nn.ParameterList([t(r) for r in est.member_input_scales_])
            self.s = torch.nn.ParameterList([t(s) for s in est.member_output_scales_])
            self.norms = torch_layer_norms(est, normalization)
            self.skip = [residual and 0 < l and W.shape[0] == W.shape[1]
                         for l, W in enumerate(est.coefs_[:-1])]

        def forward(self, x):
            x = x[:, None, :].expand(len(x), K, x.shape[1])
            last = len(self.W) - 1
            for l in range(last + 1):
                z = ((x * self.r[l]) @ self.W[l]) * self.s[l] + self.b[l]
                if l == last:
                    return z                                   # (n, K, outputs)
                h = torch.tanh(self.norms[l](z))
                x = x + h if self.skip[l] else h

    return Net()


@pytest.mark.parametrize("normalization,residual", [(None, False), ("layer", True)])
def test_training_is_torch(normalization, residual):
    torch = pytest.importorskip("torch")
    X, y = data()
    est = model(normalization=normalization, residual=residual, max_iter=1)
    loss_sum = torch.nn.CrossEntropyLoss(reduction="sum")
    # the members' mean of the batch's mean loss
    net, curve = train_beside_torch(
        est, X, y, lambda est: torch_twin(est, normalization, residual),
        lambda net, xb, yb: loss_sum(net(xb).reshape(len(xb) * K, -1),
                                     yb.repeat_interleave(K)) / (len(xb) * K))
    Xt = torch.from_numpy(X)
    np.testing.assert_allclose(est.loss_curve_[-3:], curve, rtol=1e-9)
    for group, ours in [(net.W, est.coefs_), (net.b, est.intercepts_),
                        (net.r, est.member_input_scales_), (net.s, est.member_output_scales_)]:
        for theirs, mine in zip(group, ours):
            np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=0, atol=1e-9)
    with torch.no_grad():
        members = torch.softmax(net(Xt), dim=2).numpy()               # (n, K, classes)
    np.testing.assert_allclose(est.predict_members(X), members.transpose(1, 0, 2), atol=1e-9)
    np.testing.assert_allclose(est.predict_proba(X), members.mean(axis=1), rtol=0, atol=1e-9)
    np.testing.assert_allclose(est.predict_proba(X[:2]), members[:2].mean(axis=1), atol=1e-9)


@pytest.mark.parametrize("options", [dict(), dict(residual=True, normalization="layer"),
                                     dict(n_frequencies=2, embedding_dim=3)])
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_gradient_is_the_finite_difference(options, loss):
    # weighted rows, α > 0, dropout, three row chunks; every parameter group checked
    rng = np.random.default_rng(4)
    units, n = [5, 8, 8, 3], 300
    net = _network.Network(units, [_network.ACTIVATION_CODES["tanh"]] * 2,
                           _network.LOSS_CODES[loss], 0.01, n, 2, [0.2, 0.1], True, None,
                           _network.NORMALIZATION_CODES[options.get("normalization")],
                           options.get("residual", False), 0.1,
                           options.get("n_frequencies", 0), options.get("embedding_dim", 0), K)
    theta = rng.normal(0, 0.5, net.n_params)
    X = rng.normal(size=(n, 5))
    Y = make_targets(loss, n, 3, rng)
    weights = rng.uniform(0, 2, n)
    objective = network_objective(net, X, Y, weights, 5)
    assert_finite_differences(objective, theta, np.concatenate([
        rng.choice(net.n_params, 60, replace=False), np.arange(net.n_params - 40, net.n_params)]))


@needs_two_threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_independent_of_the_thread_count(dtype):
    X, y = data(n_rows=900)
    assert_same_weights_with_1_and_2_threads(
        model(hidden_layer_sizes=(64, 64), residual=True, dropout=0.1, batch_size=400,
              max_iter=3, n_members=4), X, y, dtype, sample_weight=np.linspace(0, 2, len(y)))


def test_members_differ_partial_fit_and_pickle():
    X, y = data(n_rows=400)
    est = quiet_fit(model(solver="adam", learning_rate_init=0.01, max_iter=30), X, y)
    members = est.predict_members(X)
    assert members.shape == (K, 400, 3)
    assert members.std(axis=0).mean() > 1e-3          # the random-sign start parts them
    np.testing.assert_allclose(members.mean(axis=0), est.predict_proba(X), atol=1e-12)
    assert est.score(X, y) > 0.8
    assert est.intercepts_[0].shape == (K, 6) and est.member_input_scales_[0].shape == (K, 5)
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    # two partial_fits are a fit of two epochs
    full = quiet_fit(model(max_iter=2, shuffle=False), X, y)
    steps = model(shuffle=False)
    for _ in range(2):
        steps.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(full._params, steps._params)
    reg = quiet_fit(MLPRegressor(hidden_layer_sizes=(32,), n_members=4, max_iter=200,
                                 learning_rate_init=0.01, random_state=0), X, X[:, 0] * 2)
    assert reg.score(X, X[:, 0] * 2) > 0.98
    assert reg.predict_members(X[:7]).shape == (4, 7)


def test_checks():
    X, y = data()
    with pytest.raises(InvalidParameterError, match="statistics would mix the members"):
        model(normalization="batch").fit(X, y)
    with pytest.raises(ValueError, match="needs dense X"):
        model().fit(sp.csr_matrix(X), y)
    with pytest.raises(InvalidParameterError, match="'n_members' parameter"):
        model(n_members=0).fit(X, y)
    est = quiet_fit(model(max_iter=1), X, y)
    with pytest.raises(ValueError, match="n_members=3; this call asks.*n_members=2"):
        est.set_params(warm_start=True, n_members=2).fit(X, y)
    plain = quiet_fit(model(n_members=1, max_iter=1), X, y)
    with pytest.raises(AttributeError, match=r"member_input_scales_' \(n_members=1\)"):
        plain.member_input_scales_
    assert plain.predict_members(X).shape == (1, len(X), 3)
    # an assigned intercept of the wrong shape is named
    est = quiet_fit(model(max_iter=1), X, y)
    est.intercepts_ = [b[0] for b in est.intercepts_]
    with pytest.raises(ValueError, match=r"intercepts_\[0\] has shape \(6,\).*\(3, 6\)"):
        est.predict(X)


def test_gradient_diagnostics_and_tags():
    X, y = data(n_rows=40)
    est = quiet_fit(model(max_iter=2), X, y)
    grads = bpcore.loss_gradient(est, X, y, return_layers=True)
    assert [g.shape for g in grads.intercept_grads] == [(K, 6), (K, 6), (K, 3)]
    assert [g.shape for g in grads.other_grads["member_input_scales"]] == [(K, 5), (K, 6), (K, 6)]
    assert grads.activations[1].shape == (40, K, 6) and grads.deltas[-1].shape == (40, K, 3)
    # the members' outputs, as predict_members gives them
    np.testing.assert_allclose(grads.activations[-1].transpose(1, 0, 2), est.predict_members(X),
                               atol=1e-12)
    report = bpcore.check_gradients(est, X, y, max_checks_per_layer=None)
    assert report.layers[0]["n_checked"] == 5 * 6 + K * 6 + K * 5 + K * 6
    assert max(layer["max_relative_error"] for layer in report.layers) < 1e-6
    assert not est.__sklearn_tags__().input_tags.sparse
    with pytest.raises(TypeError):
        est.member_output_scales_[0] = np.ones((K, 6))


@pytest.mark.parametrize("units,options", [
    ([5, 100, 70, 3], dict()),                                   # a hidden layer
    ([5, 100, 70, 3], dict(n_frequencies=2, embedding_dim=30)),  # 150 -> 100 too
    ([120, 70, 3], dict()),               # the first layer, formed member by member
])
def test_banded_layers_gradient_is_the_finite_difference(units, options):
    # a layer that narrows in more than one task runs in bands of input rows
    n = 260
    assert _network.row_bands(units)[len(units) - 3]
    rng = np.random.default_rng(6)
    net = _network.Network(units, [_network.ACTIVATION_CODES["tanh"]] * (len(units) - 2),
                           _network.LOSS_CODES["log_loss"], 0.01, n, 2, None, True, None,
                           _network.NORMALIZATION_CODES[None], False, 0.1,
                           options.get("n_frequencies", 0), options.get("embedding_dim", 0), K)
    theta = rng.normal(0, 0.3, net.n_params)
    X = rng.normal(size=(n, units[0]))
    objective = network_objective(net, X, make_targets("log_loss", n, 3, rng),
                                  rng.uniform(0, 2, n))
    assert_finite_differences(objective, theta, np.concatenate([
        rng.choice(net.n_params, 150, replace=False), np.arange(net.n_params - 60, net.n_params)]))


@needs_two_threads
def test_banded_layers_independent_of_the_thread_count():
    X, y = data(n_rows=600)
    assert_same_weights_with_1_and_2_threads(
        model(hidden_layer_sizes=(100, 70), batch_size=300, max_iter=2, alpha=0.01), X, y,
        np.float32)
    # the first layer in bands: 120 -> 70
    X = np.random.RandomState(1).normal(size=(600, 120))
    assert_same_weights_with_1_and_2_threads(
        model(hidden_layer_sizes=(70,), batch_size=300, max_iter=2), X, y, np.float64)
