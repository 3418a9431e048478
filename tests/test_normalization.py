"""Batch and layer normalization and skip connections: against torch (BatchNorm1d in
train and eval mode, LayerNorm, a residual block written in torch), finite differences,
the thread count, sample weights, partial_fit, L-BFGS, pickling and ONNX."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

import bpcore
from bpcore import MLPClassifier, MLPRegressor, _layout, _network
from bpcore._validation import InvalidParameterError

from conftest import (quiet_fit, assert_same_weights_with_1_and_2_threads, needs_two_threads, assert_finite_differences, kernel_objective, make_targets,
                      random_params, torch_sgd_curve)

N_ROWS, BATCH, EPOCHS = 90, 32, 3      # a short last batch of 26 rows
HIDDEN = (7, 7, 5)                     # layer 2 has a skip, layer 3 not (width changes)


def data(n_classes=3, seed=0, n_rows=N_ROWS):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, 5)) * [1, 2, 0.5, 3, 1] + [0, 1, -2, 0, 5]
    score = X @ rng.normal(size=5)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y


def model(**params):
    # SGD with momentum: the same algorithm as torch's.  (Adam with a vanishing ε, how
    # the other torch comparisons remove the difference in where ε goes, would turn
    # the rounding noise in a batch-normalized layer's bias gradient, 0 in exact
    # arithmetic, into full steps.)
    return MLPClassifier(**{**dict(hidden_layer_sizes=HIDDEN, activation="tanh",
                                   solver="sgd", learning_rate_init=0.05, momentum=0.9,
                                   nesterovs_momentum=False, alpha=0.0, batch_size=BATCH,
                                   random_state=0), **params})


def set_start(est, X, y, seed=7):
    """Fit one epoch (to build the model), then give every parameter a random value
    (γ, β and the running statistics too); returns them, for the torch twin."""
    quiet_fit(est.set_params(max_iter=1, warm_start=False), X, y)
    rng = np.random.RandomState(seed)
    start = {"coefs": [rng.uniform(-0.5, 0.5, c.shape) for c in est.coefs_],
             "intercepts": [rng.uniform(-0.5, 0.5, b.shape) for b in est.intercepts_]}
    if est.normalization is not None:
        start["scales"] = [rng.uniform(0.5, 1.5, g.shape) for g in est.norm_scales_]
        start["shifts"] = [rng.uniform(-0.5, 0.5, b.shape) for b in est.norm_shifts_]
        for view, value in zip(est.norm_scales_ + est.norm_shifts_,
                               start["scales"] + start["shifts"]):
            view[:] = value
    if est.normalization == "batch":
        start["means"] = [rng.uniform(-1, 1, m.shape) for m in est.running_means_]
        start["vars"] = [rng.uniform(0.5, 2, v.shape) for v in est.running_vars_]
        for view, value in zip(est.running_means_ + est.running_vars_,
                               start["means"] + start["vars"]):
            view[:] = value
    est.coefs_ = [c.copy() for c in start["coefs"]]
    est.intercepts_ = [b.copy() for b in start["intercepts"]]
    return start


def torch_twin(start, normalization, residual, activation="tanh"):
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        # Linear -> normalization -> σ, plus the input where the width does not change
        # (after the first hidden layer); a Linear output layer
        def __init__(self):
            super().__init__()
            coefs, intercepts = start["coefs"], start["intercepts"]
            self.linears = torch.nn.ModuleList()
            for W, b in zip(coefs, intercepts):
                linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
                with torch.no_grad():
                    linear.weight.copy_(torch.from_numpy(W.T))
                    linear.bias.copy_(torch.from_numpy(b))
                self.linears.append(linear)
            self.norms = torch.nn.ModuleList()
            for l, W in enumerate(coefs[:-1]):
                units = W.shape[1]
                if normalization == "batch":
                    norm = torch.nn.BatchNorm1d(units, eps=1e-5, momentum=0.1,
                                                dtype=torch.float64)
                    norm.running_mean.copy_(torch.from_numpy(start["means"][l]))
                    norm.running_var.copy_(torch.from_numpy(start["vars"][l]))
                elif normalization == "layer":
                    norm = torch.nn.LayerNorm(units, eps=1e-5, dtype=torch.float64)
                else:
                    norm = torch.nn.Identity()
                if normalization is not None:
                    with torch.no_grad():
                        norm.weight.copy_(torch.from_numpy(start["scales"][l]))
                        norm.bias.copy_(torch.from_numpy(start["shifts"][l]))
                self.norms.append(norm)
            self.skip = [residual and 0 < l and W.shape[0] == W.shape[1]
                         for l, W in enumerate(coefs[:-1])]
            self.act = {"tanh": torch.tanh, "relu": torch.relu}[activation]

        def forward(self, x):
            for l, linear in enumerate(self.linears[:-1]):
                h = self.act(self.norms[l](linear(x)))
                x = x + h if self.skip[l] else h
            return self.linears[-1](x)

    return Net()


def torch_train(net, X, y):
    torch = pytest.importorskip("torch")
    loss_sum = torch.nn.CrossEntropyLoss(reduction="sum")
    return torch_sgd_curve(net, X, y, lambda net, xb, yb: loss_sum(net(xb), yb) / len(xb),
                           epochs=EPOCHS, batch_size=BATCH)


# ------------------------------------------------------------------- torch
@pytest.mark.parametrize("normalization,residual,activation", [
    ("batch", False, "tanh"), ("layer", False, "tanh"), (None, True, "tanh"),
    ("batch", True, "relu"), ("layer", True, "relu"),
])
def test_training_is_torch(normalization, residual, activation):
    torch = pytest.importorskip("torch")
    X, y = data()
    est = model(normalization=normalization, residual=residual, activation=activation)
    start = set_start(est, X, y)
    quiet_fit(est.set_params(max_iter=EPOCHS, warm_start=True, shuffle=False,
                             n_iter_no_change=10**6), X, y)
    net = torch_twin(start, normalization, residual, activation)
    curve = torch_train(net, X, y)
    np.testing.assert_allclose(est.loss_curve_[-EPOCHS:], curve, rtol=1e-9)
    for ours, linear in zip(est.coefs_, net.linears):
        np.testing.assert_allclose(ours, linear.weight.detach().numpy().T, rtol=0, atol=1e-9)
    for ours, linear in zip(est.intercepts_, net.linears):
        np.testing.assert_allclose(ours, linear.bias.detach().numpy(), rtol=0, atol=1e-9)
    if normalization is not None:
        for l, norm in enumerate(net.norms):
            np.testing.assert_allclose(est.norm_scales_[l], norm.weight.detach().numpy(),
                                       rtol=0, atol=1e-9)
            np.testing.assert_allclose(est.norm_shifts_[l], norm.bias.detach().numpy(),
                                       rtol=0, atol=1e-9)
    if normalization == "batch":
        for l, norm in enumerate(net.norms):
            np.testing.assert_allclose(est.running_means_[l], norm.running_mean.numpy(),
                                       rtol=0, atol=1e-9)
            np.testing.assert_allclose(est.running_vars_[l], norm.running_var.numpy(),
                                       rtol=1e-9)
    # prediction: torch's eval mode (batch normalization with the running statistics)
    net.eval()
    with torch.no_grad():
        expected = torch.softmax(net(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(est.predict_proba(X), expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(est.predict_proba(X[:3]), expected[:3], rtol=0, atol=1e-9)


@pytest.mark.parametrize("normalization", ["batch", "layer"])
def test_float32_follows_float64(normalization):
    X, y = data(n_rows=400)
    results = [quiet_fit(model(normalization=normalization, residual=True, max_iter=5),
                         X.astype(dtype), y).predict_proba(X.astype(dtype))
               for dtype in (np.float32, np.float64)]
    np.testing.assert_allclose(results[0], results[1], atol=2e-3)


# ------------------------------------------------------- finite differences
@pytest.mark.parametrize("normalization", [None, "batch", "layer"])
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("activation,loss", [("tanh", "log_loss"), ("gelu", "squared_error"),
                                             ("relu", "binary_log_loss")])
def test_gradient_is_the_finite_difference(normalization, residual, activation, loss):
    # weighted rows (some of weight 0), α > 0, three row chunks, dropout on two layers
    rng = np.random.default_rng(1)
    units = [5, 8, 8, 8, 3]
    n = 300
    X = rng.normal(size=(n, units[0])) * 2 + 1
    Y = make_targets(loss, n, units[-1], rng)
    weights = rng.uniform(0, 2, n)
    weights[:7] = 0
    theta = random_params(units, rng, normalization=normalization)
    objective = kernel_objective(units, activation, loss, 0.01, X, Y, weights,
                                 dropout=[0.2, 0.0, 0.3], dropout_seed=11,
                                 normalization=normalization, residual=residual)
    n_trainable = _layout.n_params(units, normalization) - (
        2 * sum(units[1:-1]) if normalization == "batch" else 0)
    grad = assert_finite_differences(objective, theta, np.concatenate([
        rng.choice(n_trainable, 40, replace=False), np.arange(n_trainable - 6, n_trainable)]))
    # the running statistics have no gradient
    assert not grad[n_trainable:].any()


def test_a_row_of_weight_zero_is_absent_from_the_batch_statistics():
    rng = np.random.default_rng(2)
    units = [4, 6, 6, 2]
    X = rng.normal(size=(50, 4))
    Y = make_targets("squared_error", 50, 2, rng)
    weights = rng.uniform(0.5, 2, 50)
    weights[::5] = 0
    theta = random_params(units, rng, normalization="batch")
    keep = weights > 0
    full = kernel_objective(units, "tanh", "squared_error", 0.0, X, Y, weights,
                            normalization="batch", residual=True)(theta)
    kept = kernel_objective(units, "tanh", "squared_error", 0.0, X[keep], Y[keep],
                            weights[keep], normalization="batch", residual=True)(theta)
    np.testing.assert_allclose(full[0], kept[0], rtol=1e-13)
    np.testing.assert_allclose(full[1], kept[1], rtol=1e-10, atol=1e-14)


# ----------------------------------------------------------- threads, dtypes
@needs_two_threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalization", ["batch", "layer"])
def test_independent_of_the_thread_count(dtype, normalization):
    X, y = data(n_rows=900)
    assert_same_weights_with_1_and_2_threads(
        model(hidden_layer_sizes=(64, 64, 64), activation="relu", normalization=normalization,
              residual=True, dropout=0.1, batch_size=400, max_iter=3),
        X, y, dtype, sample_weight=np.linspace(0, 2, len(y)))


# ------------------------------------------------------ batches, solvers, state
def test_a_last_batch_of_one_row_is_skipped():
    # 201 rows in batches of 200: the epoch is the 200-row batch alone
    X, y = data(n_rows=201)
    params = dict(normalization="batch", max_iter=3, shuffle=False, batch_size=200)
    with_one = quiet_fit(model(**params), X, y)
    without = quiet_fit(model(**params), X[:200], y[:200])
    np.testing.assert_array_equal(with_one._params, without._params)


def test_batches_of_one_row_are_refused():
    X, y = data()
    with pytest.raises(InvalidParameterError, match="batch_size=1 has one row"):
        model(normalization="batch", batch_size=1).fit(X, y)
    with pytest.raises(ValueError, match="needs batches of at least 2 rows; n_samples=1 makes"):
        model(normalization="batch", batch_size="auto").fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="at least two rows of positive weight"):
        model(normalization="batch", solver="lbfgs").fit(X[:1], y[:1])
    # layer normalization needs no batch statistics
    quiet_fit(model(normalization="layer", batch_size=1, max_iter=1), X, y)


def test_partial_fit_continues_the_running_statistics():
    X, y = data(n_rows=300)
    full = quiet_fit(model(normalization="batch", residual=True, max_iter=2, shuffle=False),
                     X, y)
    steps = model(normalization="batch", residual=True, shuffle=False)
    for _ in range(2):
        steps.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(full._params, steps._params)
    assert not np.array_equal(full.running_vars_[0], np.ones(7))


def test_lbfgs_ends_with_the_statistics_of_all_rows():
    X, y = data(n_rows=300)
    est = quiet_fit(model(normalization="batch", solver="lbfgs", max_iter=20), X, y)
    z = X @ est.coefs_[0] + est.intercepts_[0]
    np.testing.assert_allclose(est.running_means_[0], z.mean(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.running_vars_[0], z.var(axis=0, ddof=1), rtol=1e-10)
    # prediction with them is training mode on all rows
    assert est.score(X, y) > 0.8


def test_sparse_input_is_dense_input():
    X, y = data(n_rows=300)
    X[np.abs(X) < 0.8] = 0
    dense = quiet_fit(model(normalization="batch", residual=True, max_iter=3), X, y)
    sparse = quiet_fit(model(normalization="batch", residual=True, max_iter=3),
                       sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse._params, dense._params, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("normalization", ["batch", "layer"])
def test_pickle_warm_start_and_regressor(normalization):
    X, y = data(n_rows=300)
    est = quiet_fit(model(normalization=normalization, residual=True, max_iter=3), X, y)
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    assert copy._fitted_state().normalization == normalization
    assert copy._fitted_state().residual
    # warm_start continues with the same layout, and refuses another
    quiet_fit(copy.set_params(warm_start=True, max_iter=1), X, y)
    with pytest.raises(ValueError, match="Fit from scratch"):
        copy.set_params(residual=False).fit(X, y)
    reg = quiet_fit(MLPRegressor(hidden_layer_sizes=(16, 16), normalization=normalization,
                                 residual=True, max_iter=200, learning_rate_init=0.01,
                                 random_state=0), X, X[:, 0] * 2)
    assert reg.score(X, X[:, 0] * 2) > 0.98
    assert est.gradient_norms_.shape == (est.n_iter_, 4)   # per epoch and layer


def test_the_normalization_attributes():
    X, y = data()
    plain = quiet_fit(model(max_iter=1), X, y)
    with pytest.raises(AttributeError, match=r"norm_scales_' \(normalization=None\)"):
        plain.norm_scales_
    layer = quiet_fit(model(normalization="layer", max_iter=1), X, y)
    assert [g.shape for g in layer.norm_scales_] == [(7,), (7,), (5,)]
    with pytest.raises(AttributeError, match="running_means_"):
        layer.running_means_
    # the attributes view the model: editing them edits it
    before = layer.predict_proba(X)
    layer.norm_shifts_[2][:] += 1
    assert not np.array_equal(layer.predict_proba(X), before)


def test_residual_needs_equal_widths():
    X, y = data()
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(8, 4\) has none"):
        model(hidden_layer_sizes=(8, 4), residual=True).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'normalization' parameter"):
        model(normalization="group").fit(X, y)


def test_edited_running_variances_are_reported():
    X, y = data()
    est = quiet_fit(model(normalization="batch", max_iter=2), X, y)
    est.running_vars_[1][:] = -1
    for rows in (X[:2], X):
        with pytest.raises(ValueError, match="running_vars_ holds negative variances"):
            est.predict(rows)


# ------------------------------------------------- found by a hostile review
def test_the_weights_scale_does_not_matter():
    X, y = data(n_rows=300)
    plain = quiet_fit(model(normalization="batch", max_iter=3), X, y)
    for scale in (1e-150, 1e160):
        scaled = quiet_fit(model(normalization="batch", max_iter=3), X, y,
                           sample_weight=np.full(len(y), scale))
        assert np.isfinite(scaled._params).all()
        np.testing.assert_allclose(scaled._params, plain._params, rtol=1e-9, atol=1e-12)
    # all the weight on one row, to rounding: refused, not an infinite variance
    weights = np.r_[1.0, 1e-17, np.zeros(len(y) - 2)]
    with pytest.raises(ValueError, match="at least two rows of positive weight"):
        model(normalization="batch", solver="lbfgs").fit(X, y, sample_weight=weights)


def test_an_epoch_with_no_trainable_batch_is_refused():
    X, y = data(n_rows=120)
    with pytest.raises(ValueError, match="No batch of this epoch could be trained.*batch "
                                         "normalization needs"):
        model(normalization="batch", batch_size=2, shuffle=False).fit(
            X, y, sample_weight=np.tile([1.0, 0.0], 60))
    # batches skipped in part: the loss is the mean over the rows of the batches run
    weights = np.ones(120)
    weights[100:] = 0           # the last 20 rows: one batch of no weight
    part = quiet_fit(model(batch_size=20, shuffle=False, max_iter=1), X, y,
                     sample_weight=weights)
    first = quiet_fit(model(batch_size=20, shuffle=False, max_iter=1), X[:100], y[:100])
    np.testing.assert_allclose(part.loss_curve_, first.loss_curve_, rtol=1e-12)


def test_the_parameter_groups_cannot_be_replaced():
    X, y = data()
    est = quiet_fit(model(normalization="batch", max_iter=1), X, y)
    with pytest.raises(TypeError):
        est.norm_scales_[0] = np.zeros(7)
    with pytest.raises(AttributeError):
        est.running_vars_ = []
    assert est.__sklearn_tags__().input_tags.sparse


def test_gradient_diagnostics_cover_every_parameter():
    X, y = data(n_rows=40)
    est = quiet_fit(model(normalization="layer", residual=True, max_iter=2), X, y)
    grads = bpcore.loss_gradient(est, X, y, return_layers=True)
    assert [g.shape for g in grads.other_grads["norm_scales"]] == [(7,), (7,), (5,)]
    report = bpcore.check_gradients(est, X, y, max_checks_per_layer=None)
    n_layer = [5 * 7 + 7 + 14, 7 * 7 + 7 + 14, 7 * 5 + 5 + 10, 5 * 3 + 3]
    assert [layer["n_checked"] for layer in report.layers] == n_layer
    assert max(layer["max_relative_error"] for layer in report.layers) < 1e-6
