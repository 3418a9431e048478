"""bpcore against sklearn.neural_network over the training options.

Each case gives both libraries the same initial weights (set in place after a first
fit, then refit with warm_start), shuffle=False, and compares the trained weights,
n_iter_, loss_curve_ and, with early stopping, validation_scores_.

Tolerance: float64, weights within 1e-9 and curves within 1e-10 relative.  The two
libraries add and multiply in different orders (BLAS blocking, fused loops), which
leaves ~1e-16 relative differences per step; over these short, stable trainings they
stay below 1e-12, so 1e-9 fails on any real difference in the method and never on
rounding.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.neural_network as sknn
from sklearn.exceptions import ConvergenceWarning

import bpcore
from test_parity_sklearn import max_weight_difference, problem

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

KINDS = ["binary", "multiclass", "multilabel", "regression"]
FEATURES = ["constant", "invscaling", "adaptive", "early_stopping", "sample_weight", "sparse",
            "partial_fit", "warm_start_twice"]


def options(feature, solver):
    params = dict(hidden_layer_sizes=(6, 5), shuffle=False, warm_start=True, random_state=0,
                  solver=solver, batch_size=16, learning_rate_init=0.01, max_iter=12,
                  activation="tanh", alpha=1e-3)
    if feature in ("invscaling", "adaptive", "constant"):
        params["learning_rate"] = feature
    if feature == "invscaling" and solver == "sgd":
        # a rate that decays: start high (Adam ignores the schedule, keeps 0.01)
        params.update(learning_rate_init=0.2, power_t=0.3)
    if feature == "adaptive":
        params.update(tol=0.5, n_iter_no_change=1, max_iter=15)  # forces rate cuts
    if feature == "early_stopping":
        params.update(early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                      max_iter=30)
    return params


def run(cls, kind, feature, solver, X, y, weights, seed=1):
    model = cls(**options(feature, solver))
    fit_kwargs = {} if weights is None else {"sample_weight": weights}
    classes = {} if kind == "regression" or kind == "multilabel" else {"classes": np.unique(y)}
    model.fit(X, y, **fit_kwargs)
    if feature == "early_stopping":
        # one fit from random_state's weights: after an early-stopped fit scikit-learn's
        # coefs_ *are* its saved best weights (same arrays), so editing them, or training
        # on with warm_start, rewrites its "best" too; bpcore keeps them apart
        return model
    rng = np.random.default_rng(seed)
    for array in model.coefs_ + model.intercepts_:
        array[...] = rng.uniform(-0.5, 0.5, size=array.shape)
    if feature == "partial_fit":
        model.set_params(warm_start=False)
        for start in range(0, X.shape[0], 40):
            chunk = slice(start, start + 40)
            w = {} if weights is None else {"sample_weight": weights[chunk]}
            model.partial_fit(X[chunk], y[chunk], **w, **classes)
    else:
        model.fit(X, y, **fit_kwargs)
        if feature == "warm_start_twice":
            model.fit(X, y, **fit_kwargs)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_training_matches_sklearn(kind, solver, feature):
    X, y = problem(kind)
    weights = None
    if feature == "sample_weight":
        weights = np.random.default_rng(2).uniform(0.2, 3.0, size=X.shape[0])
    if feature == "sparse":
        X = X.copy()
        X[np.abs(X) < 0.5] = 0
        X = sp.csr_matrix(X)
    cls = "MLPRegressor" if kind == "regression" else "MLPClassifier"
    theirs = run(getattr(sknn, cls), kind, feature, solver, X, y, weights)
    ours = run(getattr(bpcore, cls), kind, feature, solver, X, y, weights)

    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert max_weight_difference(theirs, ours) < 1e-9
    if feature == "early_stopping":
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-12)
        assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)
    else:
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-8, atol=1e-9)


def test_adaptive_schedule_actually_cut_the_rate():
    # the adaptive case above must exercise the rate cuts, not just run 15 epochs
    X, y = problem("multiclass")
    model = run(bpcore.MLPClassifier, "multiclass", "adaptive", "sgd", X, y, None)
    assert model._optimizer.learning_rate < 0.01 / 5


def test_partial_fit_with_early_stopping_is_refused():
    X, y = problem("binary")
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        bpcore.MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])


def test_float32_training_stays_close_to_float64():
    X, y = problem("multiclass")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m64 = bpcore.MLPClassifier((8,), max_iter=30, random_state=0).fit(X, y)
        m32 = bpcore.MLPClassifier((8,), max_iter=30, random_state=0).fit(X.astype(np.float32), y)
    assert m32.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(m32.predict_proba(X.astype(np.float32)), m64.predict_proba(X),
                               atol=1e-4)
