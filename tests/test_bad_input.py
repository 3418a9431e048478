"""The bad-input catalogue: every case gets a specific exception type and a message
that names the problem, or, where the input is usable, is converted and gives the
right answer.  CI runs this file under `python -X faulthandler` as well."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from bpcore import InvalidParameterError, MLPClassifier, MLPRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 4))
y = np.arange(40) % 3
y_reg = X @ np.array([1.0, -2.0, 0.5, 0.0])


def clf(**params):
    return MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0, **params)


def reg(**params):
    return MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0, **params)


def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clf().fit(X, y)


def with_value(array, index, value):
    array = array.astype(float).copy()
    array[index] = value
    return array


# (id, callable, exception type, message pattern)
REFUSED = [
    ("nan_in_X", lambda: clf().fit(with_value(X, (3, 1), np.nan), y), ValueError, "Input X contains NaN"),
    ("inf_in_X", lambda: clf().fit(with_value(X, (0, 0), np.inf), y), ValueError, "Input X contains infinity"),
    ("nan_in_y_regression", lambda: reg().fit(X, with_value(y_reg, 5, np.nan)), ValueError, "Input y contains NaN"),
    ("inf_in_y_regression", lambda: reg().fit(X, with_value(y_reg, 5, np.inf)), ValueError, "Input y contains infinity"),
    ("nan_label", lambda: clf().fit(X, with_value(y, 2, np.nan)), ValueError, "Input y contains NaN"),
    ("empty_X", lambda: clf().fit(np.empty((0, 4)), np.empty(0)), ValueError, "0 sample"),
    ("zero_features", lambda: clf().fit(np.empty((40, 0)), y), ValueError, "0 feature"),
    ("X_1d", lambda: clf().fit(X[:, 0], y), ValueError, "Expected 2D array, got 1D array"),
    ("X_3d", lambda: clf().fit(X.reshape(40, 2, 2), y), ValueError, "dim 3"),
    ("lengths_differ", lambda: clf().fit(X, y[:-1]), ValueError, "inconsistent numbers of samples"),
    ("string_X", lambda: clf().fit(np.full((40, 4), "a"), y), ValueError, "could not convert string to float"),
    ("object_X_with_text", lambda: clf().fit(np.array([[1, "x", 2, 3]] * 40, dtype=object), y), ValueError, "could not convert"),
    ("complex_X", lambda: clf().fit(X.astype(complex), y), ValueError, "Complex data not supported"),
    ("continuous_labels", lambda: clf().fit(X, y_reg), ValueError, "Unknown label type"),
    ("unseen_label_partial_fit", lambda: clf().partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y + 5), ValueError, "classes not in `self.classes_`"),
    ("classes_without_y", lambda: clf().partial_fit(X, y, classes=[0, 1]), ValueError, "classes not in `self.classes_`"),
    ("partial_fit_without_classes", lambda: clf().partial_fit(X, y), ValueError, "classes must be passed"),
    ("changed_classes_partial_fit", lambda: clf().partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y, classes=[0, 1, 2, 3]), ValueError, "not the same as on last call"),
    ("invalid_alpha", lambda: clf(alpha=-1.0).fit(X, y), InvalidParameterError, "'alpha' parameter of MLPClassifier"),
    ("negative_verbose", lambda: clf(verbose=-1).fit(X, y), InvalidParameterError, r"'verbose' parameter of MLPClassifier must be an int >= 0 or a bool\. Got -1"),
    ("lbfgs_with_dropout", lambda: clf(solver="lbfgs", dropout=0.2).fit(X, y), InvalidParameterError, r"dropout=0\.2 acts on the steps or epochs of solver='sgd' or 'adam'; solver='lbfgs'"),
    ("lbfgs_with_step_options", lambda: clf(solver="lbfgs", lr_schedule="cosine", ema_decay=0.9, progress_bar=True).fit(X, y), InvalidParameterError, r"lr_schedule='cosine', ema_decay=0\.9, progress_bar=True act on the steps"),
    ("lbfgs_with_callbacks", lambda: clf(solver="lbfgs", callbacks=[print]).fit(X, y), InvalidParameterError, "callbacks=.* acts on the steps or epochs"),
    ("residual_without_equal_widths", lambda: clf(residual=True).set_params(hidden_layer_sizes=(4, 8)).fit(X, y), InvalidParameterError, r"residual=True adds skip connections .* hidden_layer_sizes=\(4, 8\) has none"),
    ("schedule_with_adaptive_rate", lambda: clf(solver="sgd", learning_rate="adaptive", lr_schedule="cosine").fit(X, y), InvalidParameterError, r"^lr_schedule='cosine' sets the rate of every step; it replaces learning_rate='adaptive'"),
    ("warmup_with_invscaling", lambda: clf(solver="sgd", learning_rate="invscaling", lr_schedule="cosine", warmup_epochs=2).fit(X, y), InvalidParameterError, r"^lr_schedule='cosine' and warmup_epochs=2 set the rate of every step; they replace"),
    ("invalid_init", lambda: clf(init="orthogonal").fit(X, y), InvalidParameterError, "'init' parameter of MLPClassifier"),
    ("invalid_clip_norm", lambda: clf(clip_norm=0.0).fit(X, y), InvalidParameterError, "'clip_norm' parameter of MLPClassifier"),
    ("invalid_clip_value", lambda: clf(clip_value=-1.0).fit(X, y), InvalidParameterError, "'clip_value' parameter of MLPClassifier"),
    ("invalid_param_change_tol", lambda: clf(param_change_tol=-1e-3).fit(X, y), InvalidParameterError, "'param_change_tol' parameter of MLPClassifier"),
    ("invalid_callbacks", lambda: clf(callbacks=[1]).fit(X, y), InvalidParameterError, "'callbacks' parameter of MLPClassifier"),
    ("invalid_class_weight", lambda: clf(class_weight="some").fit(X, y), InvalidParameterError, "'class_weight' parameter of MLPClassifier"),
    ("invalid_learning_rate", lambda: clf(learning_rate="cyclic").fit(X, y), InvalidParameterError, "'learning_rate' parameter of MLPClassifier"),
    ("invalid_beta_1", lambda: clf(beta_1=1.0).fit(X, y), InvalidParameterError, "'beta_1' parameter of MLPClassifier"),
    ("invalid_validation_fraction", lambda: clf(validation_fraction=1.0).fit(X, y), InvalidParameterError, "'validation_fraction' parameter of MLPClassifier"),
    ("invalid_n_iter_no_change", lambda: clf(n_iter_no_change=0).fit(X, y), InvalidParameterError, "'n_iter_no_change' parameter of MLPClassifier"),
    ("invalid_shuffle", lambda: clf(shuffle="yes").fit(X, y), InvalidParameterError, "'shuffle' parameter of MLPClassifier"),
    ("invalid_tol", lambda: clf(tol=float("nan")).fit(X, y), InvalidParameterError, "'tol' parameter of MLPClassifier"),
    ("hidden_negative", lambda: clf().set_params(hidden_layer_sizes=(-3,)).fit(X, y), InvalidParameterError, "'hidden_layer_sizes'"),
    ("hidden_zero", lambda: clf().set_params(hidden_layer_sizes=(4, 0)).fit(X, y), InvalidParameterError, "'hidden_layer_sizes'"),
    ("hidden_float", lambda: clf().set_params(hidden_layer_sizes=(4.5,)).fit(X, y), InvalidParameterError, "'hidden_layer_sizes'"),
    ("batch_size_zero", lambda: clf(batch_size=0).fit(X, y), InvalidParameterError, "'batch_size'"),
    ("batch_size_float", lambda: clf(batch_size=2.5).fit(X, y), InvalidParameterError, "'batch_size'"),
    ("max_iter_zero", lambda: clf().set_params(max_iter=0).fit(X, y), InvalidParameterError, "'max_iter'"),
    ("max_iter_negative", lambda: clf().set_params(max_iter=-4).fit(X, y), InvalidParameterError, "'max_iter'"),
    ("learning_rate_zero", lambda: clf(learning_rate_init=0.0).fit(X, y), InvalidParameterError, "'learning_rate_init'"),
    ("learning_rate_negative", lambda: clf(learning_rate_init=-0.1).fit(X, y), InvalidParameterError, "'learning_rate_init'"),
    ("learning_rate_string", lambda: clf(learning_rate_init="fast").fit(X, y), InvalidParameterError, "'learning_rate_init'"),
    ("unknown_activation", lambda: clf(activation="sigmoid").fit(X, y), InvalidParameterError, "'activation'"),
    ("unknown_solver", lambda: clf(solver="rmsprop").fit(X, y), InvalidParameterError, "'solver'"),
    ("unknown_loss", lambda: reg(loss="hinge").fit(X, y_reg), InvalidParameterError, "'loss'"),
    ("poisson_negative_y", lambda: reg(loss="poisson").fit(X, y_reg), ValueError, "non-negative y"),
    ("predict_before_fit", lambda: clf().predict(X), NotFittedError, "not fitted yet"),
    ("predict_proba_before_fit", lambda: clf().predict_proba(X), NotFittedError, "not fitted yet"),
    ("predict_wrong_width", lambda: fitted().predict(X[:, :3]), ValueError, "X has 3 features, but MLPClassifier is expecting 4"),
    ("predict_sparse_wrong_width", lambda: fitted().predict(sp.csr_matrix(X[:, :2])), ValueError, "X has 2 features"),
    ("predict_nan", lambda: fitted().predict(with_value(X, (1, 1), np.nan)), ValueError, "Input X contains NaN"),
    ("sample_weight_length", lambda: clf().fit(X, y, sample_weight=np.ones(39)), ValueError, r"sample_weight.shape == \(39,\), expected \(40,\)"),
    ("sample_weight_negative", lambda: clf().fit(X, y, sample_weight=-np.ones(40)), ValueError, "Negative values in data passed to `sample_weight`"),
    ("sample_weight_all_zero", lambda: clf().fit(X, y, sample_weight=np.zeros(40)), ValueError, "at least one non-zero"),
    ("sample_weight_nan", lambda: clf().fit(X, y, sample_weight=with_value(np.ones(40), 0, np.nan)), ValueError, "sample_weight contains NaN"),
    ("sparse_nan", lambda: clf().fit(sp.csr_matrix(with_value(X, (0, 0), np.nan)), y), ValueError, "Input X contains NaN"),
    ("momentum_above_one", lambda: clf(momentum=1.5).fit(X, y), InvalidParameterError, "'momentum'"),
    ("beta_2_one", lambda: clf(beta_2=1.0).fit(X, y), InvalidParameterError, "'beta_2'"),
    ("epsilon_zero", lambda: clf(epsilon=0.0).fit(X, y), InvalidParameterError, "'epsilon'"),
    ("random_state_text", lambda: clf().set_params(random_state="seed").fit(X, y), InvalidParameterError, "'random_state'"),
    ("dropout_one", lambda: clf(dropout=1.0).fit(X, y), InvalidParameterError, "'dropout'"),
    ("validation_set_too_small", lambda: clf(early_stopping=True, validation_fraction=0.01).fit(X[:10], y[:10] % 2), ValueError, "validation set is too small|test_size"),
    ("early_stopping_partial_fit", lambda: clf(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2]), ValueError, "partial_fit does not support early_stopping"),
    ("partial_fit_lbfgs", lambda: clf(solver="lbfgs").partial_fit(X, y, classes=[0, 1, 2]), AttributeError, "partial_fit"),
    ("warm_start_other_classes", lambda: clf(warm_start=True).fit(X, y).fit(X, y % 2), ValueError, "same classes"),
    ("warm_start_other_outputs", lambda: reg(warm_start=True).fit(X, y_reg).fit(X, np.c_[y_reg, y_reg]), ValueError, "layer sizes"),
    ("multioutput_multiclass_y", lambda: clf().fit(X, np.c_[y, y]), ValueError, "[Mm]ultioutput"),
    ("class_weight_unknown_class", lambda: clf(class_weight={7: 2.0}).fit(X, y), ValueError, "not in class_weight"),
    ("overflowing_predict", lambda: _overflowing().predict_proba(np.full((3, 4), 1e308)), ValueError, "output is not finite for 3 of 3 rows.*overflow"),
]

ACCEPTED = [
    ("integer_X", lambda: X.round().astype(np.int64)),
    ("bool_X", lambda: X > 0),
    ("float16_X", lambda: X.astype(np.float16)),
    ("object_numbers_X", lambda: X.astype(object)),
    ("list_X", lambda: X.tolist()),
    ("non_contiguous_X", lambda: np.repeat(X, 2, axis=1)[:, ::2]),
    ("fortran_X", lambda: np.asfortranarray(X)),
    ("read_only_X", lambda: _read_only(X)),
    ("coo_X", lambda: sp.coo_matrix(X)),
    ("lil_X", lambda: sp.lil_matrix(X)),
]


def _overflowing():
    # z = Σ 1e308 · 1 overflows to inf in the first layer, and inf - inf is NaN after
    model = fitted()
    model.coefs_[0][...] = 1.0
    return model


def _read_only(array):
    array = array.copy()
    array.setflags(write=False)
    return array


@pytest.mark.parametrize("case, action, error, pattern", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_a_clear_error(case, action, error, pattern):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=pattern):
            action()


@pytest.mark.parametrize("case, make", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted_and_converted_with_right_answers(case, make):
    data = make()
    reference = np.asarray(sp.csr_matrix(data).toarray() if sp.issparse(data) else data, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = clf().fit(data, y)
        plain = clf().fit(np.ascontiguousarray(reference), y)
    np.testing.assert_allclose(ours.predict_proba(data), plain.predict_proba(reference), rtol=1e-12)
    if sp.issparse(data):   # the sparse kernel adds in another order: equal to rounding
        np.testing.assert_allclose(ours._params, plain._params, rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_array_equal(ours._params, plain._params)


def test_memory_mapped_X(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = clf().fit(mapped, y)
        plain = clf().fit(X, y)
    np.testing.assert_array_equal(ours._params, plain._params)
    np.testing.assert_array_equal(ours.predict(mapped), plain.predict(X))


def test_two_samples_batch_of_one():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = clf(batch_size=1).fit(X[:2], [0, 1])
    assert model.predict(X[:2]).shape == (2,)
    assert np.isfinite(model.predict_proba(X[:2])).all()


def test_huge_values_in_fit_raise_scikit_learns_error_and_keep_the_previous_model():
    # nothing can be learned when the first epoch is already non-finite: scikit-learn's
    # error, and the model fitted before (if any) stays as it was
    model = clf().fit(X, y)
    before = model.predict_proba(X)
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        model.fit(X * 1e300, y)
    np.testing.assert_array_equal(model.predict_proba(X), before)
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        clf().fit(X * 1e300, y)
