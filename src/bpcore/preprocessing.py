"""Input encodings for numerical features that help MLPs on tabular data."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_params

__all__ = ["PiecewiseLinearEncoder"]


class PiecewiseLinearEncoder(TransformerMixin, BaseEstimator):
    """Piecewise-linear encoding of numerical features with quantile bins.

    Each feature x is cut at T + 1 edges b₀ < b₁ < … < b_T, quantiles of the training
    values, and replaced by T columns, one per bin:

        e_t = 0                              if x < b_{t-1}   (t > 1)
        e_t = 1                              if x ≥ b_t       (t < T)
        e_t = (x − b_{t-1}) / (b_t − b_{t-1})   otherwise

    so that x = b₀ + Σ_t e_t (b_t − b_{t-1}): the encoding keeps all of x, and a linear
    layer on it is any piecewise-linear function of x with knots at the edges.  The
    first and last columns are not clipped (a value outside the training range goes
    below 0 in the first or beyond 1 in the last).  A feature with fewer distinct
    values than bins gets as many bins as it has gaps between distinct quantiles (a
    constant feature gets one column of zeros).

    Parameters
    ----------
    n_bins : int, default=48
        Bins per feature, at most (T above).
    subsample : int or None, default=200_000
        Rows the quantiles are computed from (a random sample when there are more);
        None for all.
    random_state : int, RandomState instance or None, default=None
        The sample's seed.

    Attributes
    ----------
    bin_edges_ : list of ndarray
        Each feature's edges b₀ … b_T.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from bpcore.preprocessing import PiecewiseLinearEncoder
    >>> X = np.array([[0.0], [1.0], [2.0], [4.0]])
    >>> encoder = PiecewiseLinearEncoder(n_bins=2).fit(X)
    >>> encoder.bin_edges_[0]
    array([0. , 1.5, 4. ])
    >>> encoder.transform([[1.0], [3.0], [5.0]]).round(3)
    array([[0.667, 0.   ],
           [1.   , 0.6  ],
           [1.   , 1.4  ]])

    References
    ----------
    Gorishniy, Rubachev, Babenko, "On Embeddings for Numerical Features in Tabular
    Deep Learning", NeurIPS 2022.
    """

    def __init__(self, n_bins=48, subsample=200_000, random_state=None):
        self.n_bins = n_bins
        self.subsample = subsample
        self.random_state = random_state

    def fit(self, X, y=None):
        """Compute each feature's bin edges from X (array-like of shape (n_samples,
        n_features), finite real values)."""
        check_params(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=True)
        if self.subsample is not None and X.shape[0] > self.subsample:
            rows = check_random_state(self.random_state).choice(X.shape[0], self.subsample,
                                                                replace=False)
            X = X[rows]
        levels = np.linspace(0.0, 1.0, self.n_bins + 1)
        self.bin_edges_ = []
        for column in X.T.astype(np.float64):
            edges = np.unique(np.quantile(column, levels))
            if edges.size == 1:
                edges = np.array([edges[0], edges[0] + 1.0])   # one bin, never entered
            self.bin_edges_.append(edges)
        return self

    def transform(self, X):
        """The encoding: ndarray of shape (n_samples, Σ bins per feature), X's dtype
        (float64 for other input)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        columns = []
        for j, edges in enumerate(self.bin_edges_):
            left, width = edges[:-1], np.diff(edges)
            e = (X[:, j:j + 1].astype(np.float64) - left) / width
            n = e.shape[1]
            if n > 1:
                e[:, :-1] = np.minimum(e[:, :-1], 1.0)     # every bin but the last saturates
                e[:, 1:] = np.maximum(e[:, 1:], 0.0)       # every bin but the first starts at 0
            columns.append(e)
        return np.hstack(columns).astype(X.dtype, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Names ``{feature}_bin{t}``, t = 0 … T − 1 per feature."""
        check_is_fitted(self)
        if input_features is None:
            input_features = getattr(self, "feature_names_in_",
                                     [f"x{j}" for j in range(self.n_features_in_)])
        elif len(input_features) != self.n_features_in_:
            raise ValueError(f"input_features has {len(input_features)} names; the encoder "
                             f"was fitted on {self.n_features_in_} features.")
        return np.asarray([f"{name}_bin{t}" for name, edges in zip(input_features, self.bin_edges_)
                           for t in range(edges.size - 1)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
