"""Same initial weights, same data, shuffle=False: bpcore and scikit-learn train the same model."""

import warnings

import numpy as np
import pytest
import sklearn.neural_network as sknn
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import bpcore

pytestmark = pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")


def problem(kind):
    if kind == "binary":
        X, y = make_classification(103, 8, n_informative=5, random_state=0)
    elif kind == "multiclass":
        X, y = make_classification(103, 8, n_informative=5, n_classes=4, random_state=0)
    elif kind == "multilabel":
        X, y = make_multilabel_classification(103, 8, n_classes=3, random_state=0)
        X = X / X.std(axis=0)
    elif kind == "regression":
        X, y = make_regression(103, 8, noise=1.0, random_state=0)
        y = y / y.std()
    else:  # multi-output regression
        X, y = make_regression(103, 8, n_targets=3, noise=1.0, random_state=0)
        y = y / y.std(axis=0)
    return X, y


def pair(kind, **params):
    cls = "MLPRegressor" if "regression" in kind else "MLPClassifier"
    common = dict(hidden_layer_sizes=(7, 5), shuffle=False, warm_start=True, random_state=0)
    common.update(params)
    return getattr(sknn, cls)(**common), getattr(bpcore, cls)(**common)


def train_from_same_weights(kind, seed=1, **params):
    """Fit both once (to build the network), overwrite the weights in place with the
    same random values, then refit (warm start) and return both models."""
    X, y = problem(kind)
    theirs, ours = pair(kind, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)
        rng = np.random.default_rng(seed)
        for a, b in zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_):
            values = rng.uniform(-0.5, 0.5, size=a.shape)
            a[...] = values
            b[...] = values  # in place: coefs_ are views of bpcore's parameter buffer
        theirs.fit(X, y)
        ours.fit(X, y)
    return theirs, ours, X


def max_weight_difference(theirs, ours):
    return max(
        np.abs(a - b).max()
        for a, b in zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_)
    )


KINDS = ["binary", "multiclass", "multilabel", "regression", "multioutput_regression"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_size", [1, 10, 32, 103, 200])
@pytest.mark.parametrize("nesterov", [True, False])
def test_one_sgd_epoch_matches_sklearn(kind, batch_size, nesterov):
    theirs, ours, _ = train_from_same_weights(
        kind,
        solver="sgd",
        max_iter=1,
        batch_size=batch_size,
        # a stable rate: at 0.05 with batch 1 the multi-output fit grows its weights
        # to ~5 and amplifies rounding (1e-16) chaotically to ~1e-9 in 103 steps
        learning_rate_init=0.01,
        alpha=1e-3,
        nesterovs_momentum=nesterov,
        activation="tanh",
    )
    assert max_weight_difference(theirs, ours) < 1e-10
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_size", [10, 32, 200])
@pytest.mark.parametrize("activation", ["relu", "logistic", "identity"])
def test_one_adam_epoch_matches_sklearn(kind, batch_size, activation):
    theirs, ours, _ = train_from_same_weights(
        kind, solver="adam", max_iter=1, batch_size=batch_size, activation=activation
    )
    assert max_weight_difference(theirs, ours) < 1e-9


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_several_epochs_match_sklearn_curve_and_iterations(solver, kind):
    theirs, ours, X = train_from_same_weights(
        kind, solver=solver, max_iter=15, batch_size=16, learning_rate_init=0.01, tol=1e-3
    )
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert max_weight_difference(theirs, ours) < 1e-9
    assert ours.t_ == theirs.t_


@pytest.mark.parametrize("cls", ["MLPClassifier", "MLPRegressor"])
def test_same_random_state_gives_sklearn_model(cls):
    # identical initial draws and identical shuffling: the whole default fit agrees
    if cls == "MLPClassifier":
        X, y = problem("multiclass")
    else:
        X, y = problem("regression")
    params = dict(hidden_layer_sizes=(10,), max_iter=30, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = getattr(sknn, cls)(**params).fit(X, y)
        ours = getattr(bpcore, cls)(**params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert max_weight_difference(theirs, ours) < 1e-9
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-8, atol=1e-10)
