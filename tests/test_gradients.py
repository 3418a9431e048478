"""The backward pass against central finite differences and against the numpy reference."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

import bpcore
from bpcore import MLPClassifier, MLPRegressor, _engine, _layout, _reference
from conftest import (HIDDEN_ACTIVATIONS, LOSSES, NEW_ACTIVATIONS, kernel_objective,
                      make_targets, quiet_fit, random_params)

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


# ------------------------------------------------- bpcore.check_gradients on fitted models


def tabular(n_rows=40, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, 5))
    classes = (X[:, 0] + X[:, 1] ** 2 > 0.8).astype(int) + (X[:, 2] > 0.5)
    target = X[:, 0] + np.sin(2 * X[:, 1]) + 0.1 * rng.normal(size=n_rows)
    return X, classes, target


CHECKED_MODELS = {
    "relu": lambda: MLPClassifier((8, 6)),
    "tanh float32": lambda: MLPClassifier((8, 6), activation="tanh"),
    "logistic": lambda: MLPClassifier((8, 6), activation="logistic"),
    "batch norm": lambda: MLPClassifier((8, 6), normalization="batch"),
    "layer norm, skips, gelu": lambda: MLPClassifier((6, 6, 6), normalization="layer",
                                                     residual=True, activation="gelu"),
    "ensemble": lambda: MLPClassifier((6, 6), activation="tanh", n_members=3),
    "periodic embedding": lambda: MLPClassifier((6,), embedding="periodic", n_frequencies=3,
                                                embedding_dim=2),
    "dropout elu": lambda: MLPClassifier((8, 6), activation="elu", dropout=0.3),
    "squared error": lambda: MLPRegressor(hidden_layer_sizes=(8, 6)),
    "huber": lambda: MLPRegressor(hidden_layer_sizes=(8, 6), loss="huber"),
    "absolute error": lambda: MLPRegressor(hidden_layer_sizes=(8, 6), loss="absolute_error"),
    "quantiles": lambda: MLPRegressor(hidden_layer_sizes=(8, 6), loss="quantile",
                                      quantile=[0.1, 0.9]),
    "poisson float32": lambda: MLPRegressor(hidden_layer_sizes=(8, 6), activation="softplus",
                                            loss="poisson"),
}


def fitted(kind):
    X, classes, target = tabular()
    model = CHECKED_MODELS[kind]().set_params(max_iter=20, random_state=0)
    if "float32" in kind:
        X = X.astype(np.float32)
    y = classes if isinstance(model, MLPClassifier) else target
    if kind.startswith("poisson"):
        y = np.round(np.exp(target / 2))
    return quiet_fit(model, X, y), X, y


def check(model, X, y, **kwargs):
    if model.dropout:
        kwargs.setdefault("dropout_seed", 3)
    return bpcore.check_gradients(model, X, y, **kwargs)


def scale_layer_gradient(monkeypatch, model, layer, factor, part="coefs"):
    """Make the engine's backward pass return `layer`'s weight (or bias) gradient
    times `factor`; J itself, and so the differences, stay right."""
    state = model._fitted_state()
    coef_slices, intercept_slices = _layout.param_slices(state.layer_units, state.members)
    start, stop = (coef_slices[layer][:2] if part == "coefs" else intercept_slices[layer])
    objective = _engine.Engine.objective

    def broken(self, theta, dropout_seed=None):
        value, grad = objective(self, theta, dropout_seed)
        grad[start:stop] *= factor
        return value, grad

    monkeypatch.setattr(_engine.Engine, "objective", broken)


def count_evaluations(monkeypatch):
    calls = []
    objective = _engine.Engine.objective

    def counted(self, theta, dropout_seed=None):
        calls.append(1)
        return objective(self, theta, dropout_seed)

    monkeypatch.setattr(_engine.Engine, "objective", counted)
    return calls


@pytest.mark.parametrize("kind", list(CHECKED_MODELS))
def test_check_gradients_passes_correct_gradients(kind):
    model, X, y = fitted(kind)
    assert model._fitted_state().dtype == (np.float32 if "float32" in kind else np.float64)
    report = check(model, X, y, max_checks_per_layer=None)
    assert report.passed, report
    assert report.failed_layers == []
    # measured 2e-10 to 1.3e-8: far inside the default tolerance, 1e-6
    assert report.max_relative_error < 1e-7
    assert all(layer["passed"] and layer["tolerance"] >= report.rtol for layer in report.layers)
    assert str(report).splitlines()[-1] == "passed: every checked entry agrees"


@pytest.mark.parametrize("kind", ["relu", "tanh float32", "layer norm, skips, gelu",
                                  "ensemble", "periodic embedding", "quantiles",
                                  "dropout elu"])
def test_check_gradients_names_the_layer_whose_gradient_is_off_by_1e_3(kind, monkeypatch):
    model, X, y = fitted(kind)
    scale_layer_gradient(monkeypatch, model, 1, 1 + 1e-3)
    report = check(model, X, y)
    assert not report.passed
    assert report.failed_layers == [1]
    assert 1e-4 < report.layers[1]["max_relative_error"] <= 1.01e-3
    assert "FAILED: layer 1 (" in str(report) and "FAILED" in repr(report)
    assert [layer["passed"] for layer in report.layers] == [
        layer != 1 for layer in range(len(report.layers))]


def test_a_wrong_bias_gradient_is_found_among_many_weights(monkeypatch):
    # 4 of layer 0's 64 x 16 + 16 entries are checked: shared out between weights and
    # biases, a bias is always among them
    X, y = load_digits(return_X_y=True)
    model = quiet_fit(MLPClassifier((16,), max_iter=5, random_state=0), X[:200] / 16, y[:200])
    scale_layer_gradient(monkeypatch, model, 0, 1.01, part="intercepts")
    for seed in range(3):
        report = bpcore.check_gradients(model, X[:20] / 16, y[:20], max_checks_per_layer=4,
                                        random_state=seed)
        assert report.layers[0]["n_checked"] == 4 and report.failed_layers == [0]


def test_check_gradients_checks_at_most_the_bound_per_layer(monkeypatch):
    model, X, y = fitted("batch norm")
    calls = count_evaluations(monkeypatch)
    report = check(model, X, y, max_checks_per_layer=12)
    entries = [5 * 8 + 8 + 16, 8 * 6 + 6 + 12, 6 * 3 + 3]        # W, b, γ, β
    assert [layer["n_entries"] for layer in report.layers] == entries
    assert [layer["n_checked"] for layer in report.layers] == [12, 12, 12]
    assert sum(layer["n_rechecked"] for layer in report.layers) == 0
    assert len(calls) == 1 + 2 * 36            # J and g once, then two per entry
    assert "12 of 64" in str(report)


def test_check_gradients_default_is_bounded_and_none_checks_everything(monkeypatch):
    X, y = load_digits(return_X_y=True)
    model = quiet_fit(MLPClassifier((64, 8), max_iter=2, random_state=0), X[:100] / 16,
                      y[:100])
    calls = count_evaluations(monkeypatch)
    sampled = bpcore.check_gradients(model, X[:10] / 16, y[:10])
    assert [layer["n_checked"] for layer in sampled.layers] == [50, 50, 50]
    assert [layer["n_entries"] for layer in sampled.layers] == [64 * 64 + 64, 64 * 8 + 8,
                                                                8 * 10 + 10]
    assert len(calls) == 1 + 2 * 150
    calls.clear()
    everything = bpcore.check_gradients(model, X[:10] / 16, y[:10], max_checks_per_layer=None)
    assert all(layer["n_checked"] == layer["n_entries"] for layer in everything.layers)
    assert len(calls) == 1 + 2 * (64 * 64 + 64 + 64 * 8 + 8 + 8 * 10 + 10)
    assert everything.passed and sampled.passed


def test_a_kink_within_the_step_is_differenced_again():
    # absolute error: row 0's residual is half a step from the loss's kink, so moving
    # the output bias by ±h crosses it and the difference is off; at h/10 it is not
    X, _, target = tabular()
    model = quiet_fit(MLPRegressor(hidden_layer_sizes=(4,), loss="absolute_error",
                                   max_iter=20, random_state=0), X, target)
    y = target.copy()
    y[0] = model.predict(X[:1])[0] + 0.5e-5
    report = bpcore.check_gradients(model, X, y, max_checks_per_layer=None)
    assert report.layers[-1]["n_rechecked"] >= 1
    assert report.passed
    assert "rechecked at h/10" in str(report)
    # a step of h/10 from the start does not reach the kink
    finer = bpcore.check_gradients(model, X, y, max_checks_per_layer=None, step=1e-6)
    assert finer.passed and finer.layers[-1]["n_rechecked"] == 0


def test_vanishing_gradients_widen_the_tolerance_and_say_so():
    # the README's network: ten logistic layers on unscaled digits, where the first
    # layers' gradients are ~1e-7 of J and rounding sets what the differences resolve
    X, y = load_digits(return_X_y=True)
    model = quiet_fit(MLPClassifier((32,) * 10, activation="logistic", max_iter=5,
                                    random_state=0), X, y)
    report = bpcore.check_gradients(model, X[:20], y[:20])
    assert report.passed
    first, last = report.layers[0], report.layers[-1]
    assert first["max_relative_error"] > 1e-6           # rounding, not a wrong gradient
    assert first["tolerance"] > 10 * first["max_relative_error"]
    assert last["tolerance"] < 2e-6 and last["max_relative_error"] < 1e-7
    assert "layers 0-" in str(report) and "the differences' rounding sets the tolerance" in str(report)


@pytest.mark.parametrize("options, message", [
    (dict(max_checks_per_layer=0), "max_checks_per_layer must be a positive int or None"),
    (dict(max_checks_per_layer=2.5), "max_checks_per_layer must be a positive int or None"),
    (dict(rtol=-1e-6), "rtol must be a positive number"),
    (dict(step=0.0), "step must be a positive number"),
    (dict(step=float("nan")), "step must be a positive number"),
])
def test_check_gradients_rejects_bad_options(options, message):
    model, X, y = fitted("relu")
    with pytest.raises(ValueError, match=message):
        bpcore.check_gradients(model, X, y, **options)


def test_diagnostics_name_what_they_cannot_take():
    from sklearn.datasets import load_iris
    from sklearn.neural_network import MLPClassifier as SklearnMLP
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = make_pipeline(StandardScaler(), MLPClassifier((4,), max_iter=3)).fit(X, y)
        sklearn_model = SklearnMLP((4,), max_iter=3).fit(X, y)
    for function in (bpcore.check_gradients, bpcore.loss_gradient):
        with pytest.raises(TypeError, match=r"pipeline\[-1\], pipeline\[:-1\]\.transform\(X\)"):
            function(pipeline, X, y)
        with pytest.raises(TypeError, match="not of sklearn.neural_network.*MLPClassifier"):
            function(sklearn_model, X, y)
        with pytest.raises(ValueError, match="Negative values"):
            function(pipeline[-1], X, y, sample_weight=-np.ones(len(y)))
