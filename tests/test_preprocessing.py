"""The piecewise-linear encoding: what it keeps of x, its shape, scikit-learn's contract."""

import doctest

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import bpcore.preprocessing
from bpcore import MLPClassifier, InvalidParameterError
from bpcore.preprocessing import PiecewiseLinearEncoder


def test_the_encoding_keeps_x_linearly_inside_and_outside_the_training_range():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.lognormal(size=500), rng.normal(size=500), rng.randint(0, 4, 500)])
    encoder = PiecewiseLinearEncoder(n_bins=16).fit(X)
    X_new = np.vstack([X[:50], [[-3.0, -9.0, -1.0], [99.0, 9.0, 7.0]]])
    E = encoder.transform(X_new)
    start = 0
    for j, edges in enumerate(encoder.bin_edges_):
        e = E[:, start:start + edges.size - 1]
        start += edges.size - 1
        # x = b0 + sum_t e_t (b_t - b_{t-1})
        np.testing.assert_allclose(edges[0] + e @ np.diff(edges), X_new[:, j], rtol=1e-12,
                                   atol=1e-12)
        inside = e[:50]
        assert inside.min() >= 0 and inside.max() <= 1
        # at most one bin partly filled; the bins before it full, those after empty
        partial = (inside > 0) & (inside < 1)
        assert partial.sum(axis=1).max() <= 1
        assert np.all(np.diff(inside, axis=1) <= 0)
    assert E.shape[1] == start
    for j, edges in enumerate(encoder.bin_edges_):
        # increasing quantiles from the smallest value to the largest: repeated
        # quantiles (the integer feature's) merge
        assert np.all(np.diff(edges) > 0) and edges[0] == X[:, j].min()
        assert edges[-1] == X[:, j].max() and edges.size - 1 <= 16
    assert encoder.bin_edges_[2].size - 1 < 16


def test_constant_feature_dtype_and_names():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": np.arange(20.0), "flat": np.ones(20)}).astype("float32")
    encoder = PiecewiseLinearEncoder(n_bins=4).fit(X)
    E = encoder.transform(X)
    assert E.dtype == np.float32 and E.shape == (20, 5)
    np.testing.assert_array_equal(E[:, 4], 0)
    assert list(encoder.get_feature_names_out()) == [
        "a_bin0", "a_bin1", "a_bin2", "a_bin3", "flat_bin0"]


def test_subsample_and_errors():
    X = np.random.RandomState(1).normal(size=(1000, 2))
    a = PiecewiseLinearEncoder(n_bins=8, subsample=300, random_state=0).fit(X)
    b = PiecewiseLinearEncoder(n_bins=8, subsample=300, random_state=0).fit(X)
    np.testing.assert_array_equal(a.bin_edges_[0], b.bin_edges_[0])
    with pytest.raises(InvalidParameterError, match="'n_bins' parameter"):
        PiecewiseLinearEncoder(n_bins=0).fit(X)
    with pytest.raises(InvalidParameterError, match="'subsample' parameter"):
        PiecewiseLinearEncoder(subsample=1).fit(X)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        a.transform(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="X has 3 features"):
        a.transform(np.zeros((2, 3)))


def test_in_a_pipeline_before_the_network():
    from sklearn.datasets import load_breast_cancer
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(PiecewiseLinearEncoder(n_bins=8),
                          MLPClassifier((32,), max_iter=30, random_state=0)).fit(X, y)
    assert model.score(X, y) > 0.95


def test_docstring_example():
    result = doctest.testmod(bpcore.preprocessing, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@parametrize_with_checks([PiecewiseLinearEncoder(n_bins=5)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
