"""bpcore estimators in scikit-learn's machinery: the estimator checks, pipelines,
searches, cross-validation, cloning, persistence, feature names, verbose output."""

import io
import pickle
import warnings
from contextlib import redirect_stdout

import joblib
import numpy as np
import pytest
import sklearn.neural_network as sknn
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from bpcore import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.slow
@parametrize_with_checks([MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture
def iris():
    return load_iris(return_X_y=True)


@pytest.mark.slow
def test_pipeline_grid_search_with_two_jobs(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=200, random_state=0))
    search = GridSearchCV(
        pipe,
        {"mlpclassifier__hidden_layer_sizes": [(5,), (20,)], "mlpclassifier__alpha": [1e-4, 1e-1]},
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert search.best_score_ > 0.85
    assert len(search.cv_results_["params"]) == 4
    # the search's refit equals a fit with the best parameters, done here
    again = clone(pipe).set_params(**search.best_params_).fit(X, y)
    np.testing.assert_array_equal(search.predict_proba(X), again.predict_proba(X))


def test_cross_val_score_matches_sklearn(iris):
    X, y = iris
    X = StandardScaler().fit_transform(X)
    params = dict(hidden_layer_sizes=(10,), max_iter=100, random_state=0)
    ours = cross_val_score(MLPClassifier(**params), X, y, cv=5)
    theirs = cross_val_score(sknn.MLPClassifier(**params), X, y, cv=5)
    np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_round_trip(iris, tmp_path, dump):
    X, y = iris
    model = MLPClassifier((8, 4), max_iter=50, random_state=0).fit(X, y)
    path = tmp_path / "model"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(model))
        restored = pickle.loads(path.read_bytes())
    else:
        joblib.dump(model, path)
        restored = joblib.load(path)
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    # the optimizer state came along: one more epoch continues as it would have
    model.partial_fit(X, y)
    restored.partial_fit(X, y)
    np.testing.assert_array_equal(restored._params, model._params)


def test_clone_is_unfitted_with_same_params(iris):
    X, y = iris
    model = MLPRegressor(hidden_layer_sizes=(3,), alpha=0.5, loss="poisson", max_iter=5)
    model.fit(X[:, :3], X[:, 3])
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "coefs_")


def test_feature_names_from_pandas(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    model = MLPClassifier((5,), max_iter=20, random_state=0).fit(frame, y)
    assert list(model.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X)
    renamed = frame.rename(columns={"sl": "other"})
    with pytest.raises(ValueError, match="feature names"):
        model.predict(renamed)


def test_verbose_lines_like_sklearn(iris):
    X, y = iris
    X = StandardScaler().fit_transform(X)
    outputs = []
    for cls in (MLPClassifier, sknn.MLPClassifier):
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            cls((5,), max_iter=3, early_stopping=True, verbose=True, random_state=0).fit(X, y)
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1]
    assert "Iteration 1, loss = " in outputs[0] and "Validation score: " in outputs[0]


def test_convergence_warning_when_max_iter_reached(iris):
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MLPClassifier((5,), max_iter=2).fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) and "Maximum iterations (2)" in str(w.message)
               for w in caught)


def test_regression_multi_output_in_pipeline():
    X, Y = make_regression(200, 5, n_targets=2, noise=0.1, random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(20,), max_iter=500, random_state=0))
    Y = Y / Y.std(axis=0)
    assert pipe.fit(X, Y).score(X, Y) > 0.9
