"""The estimators' behaviour: targets, outputs, the parameter buffer, solvers, errors."""

import warnings

import numpy as np
import pytest
import sklearn.neural_network as sknn
from sklearn.base import clone
from sklearn.datasets import load_iris, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import bpcore
from bpcore import InvalidParameterError, MLPClassifier, MLPRegressor


@pytest.fixture(autouse=True)
def quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


def test_multiclass_outputs(iris):
    X, y = iris
    model = MLPClassifier(hidden_layer_sizes=(10,), max_iter=300, random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba))
    assert np.array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    assert model.out_activation_ == "softmax"
    assert model.n_layers_ == 3 and model.n_outputs_ == 3 and model.n_features_in_ == 4
    assert model.score(X, y) > 0.9


def test_binary_string_labels(iris):
    X, y = iris
    labels = np.array(["setosa", "other"])[(y > 0).astype(int)]
    model = MLPClassifier(hidden_layer_sizes=(5,), random_state=0).fit(X, labels)
    reference = sknn.MLPClassifier(hidden_layer_sizes=(5,), random_state=0).fit(X, labels)
    assert np.array_equal(model.predict(X), reference.predict(X))
    assert list(model.classes_) == ["other", "setosa"]
    assert model.out_activation_ == "logistic" and model.n_outputs_ == 1
    assert model.predict_proba(X).shape == (150, 2)
    assert set(model.predict(X)) <= {"setosa", "other"}
    assert model.score(X, labels) > 0.9


def test_multilabel():
    X, Y = make_multilabel_classification(200, 10, n_classes=4, random_state=0)
    model = MLPClassifier(hidden_layer_sizes=(20,), max_iter=300, random_state=0).fit(X, Y)
    assert model.predict(X).shape == (200, 4)
    assert model.predict_proba(X).shape == (200, 4)
    assert model.out_activation_ == "logistic"
    reference = sknn.MLPClassifier(hidden_layer_sizes=(20,), max_iter=300, random_state=0)
    reference.fit(X, Y)
    assert np.array_equal(model.predict(X), reference.predict(X))
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("n_targets", [1, 3])
def test_regression(n_targets):
    X, y = make_regression(300, 6, n_targets=n_targets, noise=0.1, random_state=0)
    y = y / y.std(axis=0)
    model = MLPRegressor(hidden_layer_sizes=(30,), max_iter=500, random_state=0).fit(X, y)
    assert model.predict(X).shape == y.shape
    assert model.score(X, y) > 0.95
    assert model.out_activation_ == "identity"


def test_poisson_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0] + 0.2))
    model = MLPRegressor(loss="poisson", hidden_layer_sizes=(10,), max_iter=300, random_state=0)
    model.fit(X, y)
    assert model.out_activation_ == "exp"
    assert (model.predict(X) > 0).all()
    with pytest.raises(ValueError, match="non-negative y"):
        MLPRegressor(loss="poisson").fit(X, y - 5.0)


def test_coefs_are_views_of_one_buffer_and_edits_take_effect(iris):
    X, y = iris
    model = MLPClassifier(hidden_layer_sizes=(6, 4), max_iter=20, random_state=0).fit(X, y)
    buffer = model._params
    assert all(np.shares_memory(a, buffer) for a in model.coefs_ + model.intercepts_)
    before = model.predict_proba(X)
    model.coefs_[-1][...] = 0
    model.intercepts_[-1][...] = 0
    np.testing.assert_allclose(model.predict_proba(X), 1 / 3)
    # replacing the arrays (not in place) also takes effect
    model.coefs_ = [np.ones_like(c) for c in model.coefs_]
    after = model.predict_proba(X)
    assert not np.allclose(after, before)
    reference = sknn.MLPClassifier(hidden_layer_sizes=(6, 4), max_iter=1).fit(X, y)
    reference.coefs_ = [c.copy() for c in model.coefs_]
    reference.intercepts_ = [b.copy() for b in model.intercepts_]
    np.testing.assert_allclose(after, reference.predict_proba(X), rtol=1e-10)


def test_lbfgs_follows_sklearn_trajectory():
    # same objective and gradient: the L-BFGS iterates agree until rounding, amplified
    # by the non-convex landscape, separates them (after ~50 iterations here)
    X, y = make_regression(120, 4, noise=0.5, random_state=0)
    y = y / y.std()
    for max_iter in (5, 20):
        params = dict(solver="lbfgs", hidden_layer_sizes=(5,), activation="tanh",
                      random_state=0, max_iter=max_iter, alpha=1e-2)
        ours = MLPRegressor(**params).fit(X, y)
        theirs = sknn.MLPRegressor(**params).fit(X, y)
        assert ours.n_iter_ == theirs.n_iter_
        assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-10)
        for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


@pytest.mark.parametrize("cls", ["MLPClassifier", "MLPRegressor"])
def test_lbfgs_reaches_sklearn_optimum_on_a_convex_problem(cls, iris):
    # no hidden layer and alpha > 0: a strictly convex objective with one minimum
    # (binary, so that no softmax shift leaves the intercepts undetermined)
    X, y = iris
    y = (y == 1).astype(int)
    if cls == "MLPRegressor":
        y = X[:, 0] * 0.3 - X[:, 1] + 0.1 * np.sin(y)
        X = X[:, 1:]
    params = dict(solver="lbfgs", hidden_layer_sizes=(), alpha=1.0, max_iter=10000, tol=1e-12,
                  random_state=0)
    ours = getattr(bpcore, cls)(**params).fit(X, y)
    theirs = getattr(sknn, cls)(**params).fit(X, y)
    # L-BFGS-B stops when the loss decreases by less than ftol = 2.2e-9 (relative), not at
    # the exact minimum: both stop within that of the minimum's loss, and the weights
    # within ~sqrt(ftol) of the minimiser along the flattest direction
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-7)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)


def test_partial_fit(iris):
    X, y = iris
    model = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    for _ in range(30):
        model.partial_fit(X, y, classes=[0, 1, 2])
    assert model.n_iter_ == 1 and len(model.loss_curve_) == 30
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    with pytest.raises(ValueError, match="not the same as on last call"):
        model.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(AttributeError, match="partial_fit"):
        MLPClassifier(solver="lbfgs").partial_fit(X, y, classes=[0, 1, 2])


def test_early_stopping_records_scores_and_restores_best(iris):
    X, y = iris
    seen = []
    model = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=100,
                          random_state=0,
                          callbacks=[lambda m, info: seen.append(m._params.copy())]).fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_ == len(seen)
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_loss_ is None
    best = int(np.argmax(model.validation_scores_))      # the first best epoch
    assert best < model.n_iter_ - 1                      # a later epoch was not kept
    np.testing.assert_array_equal(model._params, seen[best])


def test_warm_start_with_other_layer_sizes_is_refused(iris):
    X, y = iris
    model = MLPClassifier(hidden_layer_sizes=(8,), warm_start=True, max_iter=5).fit(X, y)
    model.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match="layer sizes"):
        model.fit(X, y)


def test_regressor_unknown_loss():
    with pytest.raises(InvalidParameterError, match="'loss' parameter of MLPRegressor"):
        MLPRegressor(loss="hinge").fit(np.ones((4, 2)), np.ones(4))


def test_clone_and_params():
    model = MLPClassifier(hidden_layer_sizes=(3, 2), alpha=0.5)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    # every scikit-learn parameter, with scikit-learn's default, plus bpcore's own
    for ours, theirs in ((bpcore.MLPClassifier(), sknn.MLPClassifier()),
                         (bpcore.MLPRegressor(), sknn.MLPRegressor())):
        mine = ours.get_params()
        for key, value in theirs.get_params().items():
            assert mine[key] == value, key


def test_predict_before_fit_and_wrong_width(iris):
    X, y = iris
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])


def test_large_prediction_uses_the_parallel_path(iris):
    X, y = iris
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=50, random_state=0).fit(X, y)
    big = np.repeat(X, 20, axis=0)  # 3000 rows: several blocks, several threads
    np.testing.assert_allclose(model.predict_proba(big), np.repeat(model.predict_proba(X), 20, axis=0),
                               rtol=1e-12)


def test_lbfgs_regressor_has_no_partial_fit():
    # scikit-learn's regressor exposes it through a slip in its available_if check
    model = MLPRegressor(solver="lbfgs")
    assert not hasattr(model, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        model.partial_fit(np.ones((4, 2)), np.ones(4))
