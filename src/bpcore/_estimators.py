"""MLPClassifier and MLPRegressor: scikit-learn's estimators over bpcore's compiled engine.

The facade validates, encodes the targets, draws the initial weights and runs a
solver's loop (_training), which trains a private buffer through an Engine
(_engine) and publishes each new model as one ModelState (_state).  Prediction reads
that state once.  Names, defaults and behaviour follow `sklearn.neural_network`; the
initial weights and the shuffling draw from the random state in the same order, so
the same `random_state` gives the same model as scikit-learn, to rounding.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, d2_pinball_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _docstrings, _layout, _stopping, _training, _validation
from ._engine import STOCHASTIC_SOLVERS
from ._history import LayerHistory
from ._state import _SMALL_ROWS, ModelState, classifier_loss, initial_params
from ._threads import blas_single_threaded
from ._training import TrainingDivergedWarning
from ._version import __version__

ArrayLike = Any  # array-like or scipy sparse matrix, as scikit-learn accepts

__all__ = ["MLPClassifier", "MLPRegressor", "TrainingDivergedWarning", "IncompatibleModelError"]

# What a pickled model holds (attribute names and meanings).  Bump it whenever that
# changes, so that an old pickle is refused with a clear message, never misread.
# 2: the model is one ModelState (layout, parameters, output encoding).
# 3: ModelState adds the loss's parameters (Huber's δ, the quantiles); a format-2
#    pickle reads as format 3 with none.  The optimizer state adds its step count,
#    moving average and plateau rule.
# 4: ModelState adds the normalization (its parameters follow the intercepts in the
#    buffer), the skip connections, the periodic embeddings and the ensemble's
#    members; formats 2 and 3 read as format 4 with none of them.
_STATE_FORMAT = 4
_READABLE_FORMATS = (2, 3, 4)


class IncompatibleModelError(ValueError):
    """A pickled model was saved by a bpcore whose state format this one cannot read."""


class _FitLock:
    """One fit at a time per estimator.  Another thread's fit waits; a fit started from
    inside the running one (a callback calling fit on its own model) is refused, where
    a plain lock would wait for itself forever.  A forked child gets its locks free:
    the thread that held one in the parent does not exist there."""

    _all = weakref.WeakSet()

    def __init__(self):
        self._lock = threading.RLock()
        self._running = False
        _FitLock._all.add(self)

    @classmethod
    def _after_fork_in_child(cls):
        for lock in list(cls._all):
            lock._lock = threading.RLock()
            lock._running = False

    def __enter__(self):
        self._lock.acquire()
        if self._running:
            self._lock.release()
            raise RuntimeError(
                "fit or partial_fit was called on this estimator while it is fitting, from "
                "the same thread (a callback?). Fit another estimator (sklearn.base.clone) "
                "or return True from the callback to stop.")
        self._running = True

    def __exit__(self, *exc_info):
        self._running = False
        self._lock.release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_FitLock._after_fork_in_child)

_INPUT_CLASSES = {}


def _inputs_of(estimator, state):
    """What scikit-learn's validate_data checks X against: the published model's
    input width and feature names, under the estimator's class name (for messages)."""
    cls = _INPUT_CLASSES.get(type(estimator))
    if cls is None:
        cls = _INPUT_CLASSES[type(estimator)] = type(type(estimator).__name__,
                                                      (BaseEstimator,), {})
    view = cls()
    view.n_features_in_ = state.n_features
    if state.feature_names is not None:
        view.feature_names_in_ = state.feature_names
    return view


def _layer_list(name, doc):
    """coefs_ / intercepts_: the published state's list of views; assigning a list makes
    a state that packs its arrays when the model runs."""

    def get(self):
        state = self.__dict__.get("_state")
        if state is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}_'")
        return getattr(state, name)

    def set(self, value):
        self._state = self._fitted_state().with_lists(**{name: value})

    return property(get, set, doc=doc)


class _BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share: fitting, the model state, pickling."""

    # the "?" of scikit-learn's HTML representation links to the estimator's API page
    _doc_link_module = "bpcore"
    _doc_link_template = _docstrings.API_PAGE_TEMPLATE

    def _store_params(self, arguments):
        """__init__'s body for both estimators: every constructor argument becomes the
        attribute of the same name (scikit-learn's convention), nothing else."""
        for name, value in arguments.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # The recommended configuration for tabular data (see `recommended`).
    # The choices come from the accuracy benchmark (benchmarks/README.md).
    _RECOMMENDED = dict(
        hidden_layer_sizes=(256, 256, 256), activation="relu", init="he_uniform",
        solver="adam", learning_rate_init=3e-3, batch_size=256, max_iter=200,
        lr_schedule="cosine", warmup_epochs=5, weight_decay=0.05,
        early_stopping=True, n_iter_no_change=20, scoring="loss",
    )

    @classmethod
    def recommended(cls, **params):
        """This estimator with bpcore's recommended settings for tabular data.

        Parameters
        ----------
        **params
            Settings that replace the recommended ones (any constructor parameter).

        Returns
        -------
        estimator : unfitted estimator
            Its ``get_params()`` show every setting chosen. It stops early on the
            validation loss (of fit's X_val, else of a 10 % split), so `partial_fit`
            needs ``early_stopping=False``.
        """
        return cls(**{**_BaseMLP._RECOMMENDED, **cls._RECOMMENDED_EXTRA, **params})

    _RECOMMENDED_EXTRA = {}

    # ------------------------------------------------------------- model state
    def __sklearn_is_fitted__(self):
        return "_state" in self.__dict__

    def _fitted_state(self):
        """The published ModelState (NotFittedError before the first fit)."""
        state = self.__dict__.get("_state")
        if state is None:
            check_is_fitted(self)   # raises scikit-learn's NotFittedError
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet.")
        return state

    def _publish(self, layout, params):
        """Make `params` (a buffer no one else writes) the model: one assignment."""
        state = layout.with_params(params)
        self._state = state
        self.n_layers_ = len(layout.layer_units)
        self.n_outputs_ = layout.n_outputs
        self.out_activation_ = layout.out_activation
        if layout.encoder is not None:
            self.classes_ = layout.encoder.classes_
        return state

    coefs_ = _layer_list("coefs", _docstrings.attribute_doc("coefs_"))
    intercepts_ = _layer_list("intercepts", _docstrings.attribute_doc("intercepts_"))

    def _group(name, option):
        """A parameter group of the fitted model as an attribute (AttributeError when it
        has none): the buffer's views, a tuple of one per layer or one array; edit them
        in place (an element of the tuple cannot be replaced: the model would not see
        it).  Its docstring is the attribute's entry in _docstrings."""
        label = "n_members" if option == "members" else option

        def get(self):
            state = self.__dict__.get("_state")
            if state is None or name not in state.groups:
                raise AttributeError(
                    f"'{type(self).__name__}' object has no attribute '{name}_'"
                    + ("" if state is None else f" ({label}={getattr(state, option)!r})"))
            views = state.groups[name]
            return tuple(views) if isinstance(views, list) else views

        return property(get, doc=_docstrings.attribute_doc(name + "_"))

    norm_scales_ = _group("norm_scales", "normalization")
    norm_shifts_ = _group("norm_shifts", "normalization")
    running_means_ = _group("running_means", "normalization")
    running_vars_ = _group("running_vars", "normalization")
    embedding_frequencies_ = _group("embedding_frequencies", "embedding")
    embedding_weights_ = _group("embedding_weights", "embedding")
    embedding_biases_ = _group("embedding_biases", "embedding")
    member_input_scales_ = _group("member_input_scales", "members")
    member_output_scales_ = _group("member_output_scales", "members")
    del _group

    @property
    def _params(self):
        """The flat parameter vector the model runs (read-only use: diagnostics, tests)."""
        return self._fitted_state().current_params()

    def _loss_name(self, encoder):
        """The kernel's loss: it fixes the output activation."""
        return classifier_loss(encoder.y_type_) if self._is_classifier() else self.loss

    def _is_classifier(self):
        return is_classifier(self)

    def _reported_loss(self, data_loss, penalty, layout):
        # scikit-learn averages the squared error over the outputs as well (its
        # gradient does not): loss_ keeps that convention, the gradient is exact.
        if layout.loss == "squared_error":
            data_loss = data_loss / layout.n_outputs
        return data_loss + penalty

    # ------------------------------------------------------------------- fitting
    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None,
             validation_data=None):
        # one fit at a time per estimator: another thread's fit or partial_fit waits
        with self.__dict__.setdefault("_fit_lock", _FitLock()):
            return self._fit_serialised(X, y, sample_weight, incremental, classes,
                                        validation_data)

    def _fit_serialised(self, X, y, sample_weight, incremental, classes, validation_data):
        _validation.check_params(self)
        _validation.check_combinations(self, validation_data is not None)
        hidden = _validation.hidden_layer_sizes(self.hidden_layer_sizes, type(self).__name__)
        state = self.__dict__.get("_state")
        first_pass = state is None or (not self.warm_start and not incremental)
        X, Y, encoder, class_weights = self._validate_input(
            X, y, incremental, first_pass, state, classes)
        dtype = X.dtype if first_pass else state.dtype
        X = X.astype(dtype, copy=False)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype,
                                                 ensure_non_negative=True)
        if class_weights is not None:
            if np.any(class_weights < 0):
                raise ValueError("class_weight holds negative weights; class weights must be "
                                 ">= 0.")
            sample_weight = class_weights if sample_weight is None else sample_weight * class_weights
        if sample_weight is not None:
            sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
        embedding = (None if self.embedding is None
                     else (int(self.n_frequencies), int(self.embedding_dim)))
        first = X.shape[1] * (embedding[1] if embedding else 1)
        layer_units = [first] + hidden + [Y.shape[1]]
        if embedding is not None and sp.issparse(X):
            raise ValueError("embedding='periodic' needs dense X: the sine and cosine of a "
                             "zero are not zero. Densify X (X.toarray()).")
        if self.n_members > 1 and sp.issparse(X):
            raise ValueError(f"n_members={self.n_members} needs dense X: each member scales "
                             "its columns. Densify X (X.toarray()).")
        if not first_pass and (state.normalization, state.residual, state.embedding,
                               state.members) != (self.normalization, bool(self.residual),
                                                  embedding, self.n_members):
            raise ValueError(
                f"The fitted network has normalization={state.normalization!r}, residual="
                f"{state.residual!r}, embedding (k, d)={state.embedding}, n_members="
                f"{state.members}; this call asks for normalization={self.normalization!r}, "
                f"residual={self.residual!r}, embedding (k, d)={embedding}, n_members="
                f"{self.n_members}. Fit from scratch (warm_start=False).")
        if not first_pass and list(state.layer_units) != layer_units:
            raise ValueError(
                f"The fitted network has layer sizes {list(state.layer_units)} but this call "
                f"needs {layer_units}: hidden_layer_sizes or the number of outputs "
                "changed. Fit from scratch (warm_start=False)."
            )
        n_params = _layout.n_params(layer_units, self.normalization, embedding, self.n_members)
        if n_params > 2**48:
            raise ValueError(
                f"A network of layer sizes {layer_units} with these options needs {n_params} "
                "parameters: more than can be allocated.")
        self._random_state = check_random_state(self.random_state)
        loss = self._loss_name(encoder)
        if self.residual and not any(a == b for a, b in zip(hidden, hidden[1:])):
            raise _validation.InvalidParameterError(
                f"residual=True adds skip connections around hidden layers whose width "
                f"equals the previous one's; hidden_layer_sizes={self.hidden_layer_sizes!r} "
                "has none.")
        if not first_pass and state.loss_param != self._loss_param():
            raise ValueError(
                f"The fitted model's loss parameters {state.loss_param} differ from "
                f"{self._loss_param()}: huber_delta or quantile changed. Fit from scratch "
                "(warm_start=False).")
        validation = None
        if validation_data is not None:
            validation = self._validation_set(validation_data, encoder, dtype, Y.shape[1])
        if first_pass:
            start = initial_params(self._random_state, layer_units, self.init, self.activation,
                                   dtype, self.normalization, embedding, self.frequency_scale,
                                   self.n_members)
            self._reset_history(layer_units, start, validation is not None)
        else:
            start = state.current_params()   # assigned layers: converted, or refused by name
        layout = ModelState(layer_units, self.activation, loss, start, encoder,
                            self.__dict__.get("feature_names_in_"), self._loss_param(),
                            self.normalization, bool(self.residual), embedding,
                            self.n_members)
        params = start.copy()                # trained in place; published as copies
        with blas_single_threaded():
            if self.solver in STOCHASTIC_SOLVERS:
                _training.fit_stochastic(self, layout, params, X, Y, sample_weight,
                                         incremental, first_pass, validation)
            else:
                _training.fit_lbfgs(self, layout, params, X, Y, sample_weight)
        return self

    def _loss_param(self):
        """The state's loss parameters (see ModelState): none but for the regressor's
        'huber' and 'quantile'."""
        return ()

    def _training_targets(self, Y, layout):
        """The targets training fits (the classifier smooths its labels)."""
        return Y

    def _validation_set(self, validation_data, encoder, dtype, n_outputs):
        """fit's X_val, y_val, sample_weight_val checked as X, y, sample_weight are, as
        the Validation of the fit."""
        X_val, y_val, sw_val = validation_data
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together.")
        try:
            return self._checked_validation_set(X_val, y_val, sw_val, encoder, dtype, n_outputs)
        except ValueError as error:
            if "_val" in str(error):
                raise
            raise ValueError(f"In the validation data (X_val, y_val, sample_weight_val): "
                             f"{error}") from None

    def _checked_validation_set(self, X_val, y_val, sw_val, encoder, dtype, n_outputs):
        X_raw, y_raw = X_val, y_val
        # scikit-learn's checks, under these arrays' names; then its feature checks
        X_val = check_array(X_val, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32),
                            input_name="X_val")
        validate_data(self, X_raw if hasattr(X_raw, "columns") else X_val, reset=False,
                      skip_check_array=True)
        y_val = check_array(y_val, ensure_2d=False, dtype=None if self._is_classifier() else
                            "numeric", input_name="y_val")
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        check_consistent_length(X_val, y_val)
        Y_val = self._encode_validation(y_val, encoder)
        Y_val = np.ascontiguousarray(Y_val, dtype=dtype)
        if Y_val.ndim == 1:
            Y_val = Y_val.reshape(-1, 1)
        if Y_val.shape[1] != n_outputs:
            raise ValueError(f"y_val has shape {np.shape(y_raw)}: it needs as many targets "
                             "as y.")
        if sw_val is not None:
            sw_val = np.ascontiguousarray(
                _check_sample_weight(sw_val, X_val, dtype=dtype, ensure_non_negative=True))
        return _stopping.Validation(X_val.astype(dtype, copy=False), Y_val, y_val, sw_val,
                                    X_raw=X_raw, y_raw=y_raw)

    def _reset_history(self, layer_units, start, has_validation=False):
        self.n_iter_ = 0
        self.t_ = 0
        self._optimizer = None
        self._layer_history = LayerHistory(layer_units, self.activation)
        self._best_params = start.copy()
        self._no_improvement_count = 0
        if self.solver in STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self.best_loss_ = None if self.early_stopping else np.inf
            if self.early_stopping or has_validation:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
            else:
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _validate_arrays(self, X, y, first_pass, **checks):
        """scikit-learn's checks of X (dense or CSR/CSC, float64 unless float32) and y
        (a column vector becomes 1-D, with its warning)."""
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=first_pass, **checks)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None, *,
            X_val: ArrayLike | None = None, y_val: ArrayLike | None = None,
            sample_weight_val: ArrayLike | None = None) -> _BaseMLP:
        """Train the network on X and y.

        A new model, unless `warm_start` continues the fitted one.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. A float32 array trains a float32 model, any other X a
            float64 one. Sparse X (CSR or CSC) is not densified; `embedding` and
            `n_members` > 1 need dense X.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets. MLPClassifier: class labels, or a label indicator matrix
            (multilabel). MLPRegressor: real values, one column per target.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples: each batch's loss is the weighted mean
            of its samples' losses. None weighs them equally.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation data, given with `y_val` ('sgd' and 'adam' only): scored after
            every epoch (`validation_scores_`, `validation_loss_curve_`). With
            ``early_stopping=True`` it replaces the split of `validation_fraction`.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of `X_val`, as y.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validation = None
        if X_val is not None or y_val is not None or sample_weight_val is not None:
            validation = (X_val, y_val, sample_weight_val)
        return self._fit(X, y, sample_weight=sample_weight, incremental=False,
                         validation_data=validation)

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    # ---------------------------------------------------------------- prediction
    def predict_members(self, X: ArrayLike) -> np.ndarray:
        """Each ensemble member's output (see `n_members`).

        The classifier's members give class probabilities, whose mean is
        `predict_proba`; the regressor's give predictions, whose mean is `predict`.
        Their spread shows how much the members disagree.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        outputs : ndarray
            Of shape (n_members, n_samples, n_classes) for the classifier, and
            (n_members,) + ``predict(X).shape`` for the regressor.
        """
        outputs, state = self._validated_forward(X, members=True)
        return np.stack([self._member_output(output, state) for output in outputs])

    def _validated_forward(self, X, members=False):
        """The output layer's activations for X, and the state that computed them (with
        `members`, each ensemble member's: (k, n, n_outputs))."""
        state = self.__dict__.get("_state")
        if (
            not members
            and state is not None
            and type(X) is np.ndarray
            and X.ndim == 2
            and 0 < X.shape[0] <= _SMALL_ROWS
            and state.feature_names is None     # (the kernel checks dtype, layout, width)
        ):
            output = state.forward_small(X)
            if output is not None:
                return output, state
        state = self._fitted_state()
        # scikit-learn's checks, against the model this call runs (a refit in another
        # thread rewrites n_features_in_ before it publishes its first epoch)
        view = _inputs_of(self, state)
        checked = dict(reset=False, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32))
        # the kernel checks finiteness as it goes (one pass over X fewer); when it finds
        # NaN or infinity, scikit-learn's check runs to say so in its words
        X_checked = validate_data(view, X, ensure_all_finite=False, **checked)
        params = state.current_params()
        converted = X_checked.astype(state.dtype, copy=False)
        output = state.forward(converted, params, members)
        if output is None:
            validate_data(view, X, **checked)   # raises, naming NaN or infinity
            if X_checked.dtype != state.dtype:
                largest = float(abs(X_checked).max())
                raise ValueError(
                    f"X holds values beyond the range of {state.dtype} (largest |x| = "
                    f"{largest:.3g}), the dtype this model computes in. Scale the data as it "
                    "was scaled for training."
                )
            raise ValueError("Input X contains NaN or infinity.")
        bad = ~np.isfinite(output).all(axis=-1)
        if members:
            bad = bad.any(axis=0)
        if bad.any():
            if not np.isfinite(params).all():
                raise ValueError(
                    "The model's weights are not finite (coefs_, intercepts_ or the "
                    "normalization's parameters hold NaN or infinity), so neither are its "
                    "outputs."
                )
            variances = state.groups.get("running_vars", [])
            if any((v < 0).any() for v in variances):
                raise ValueError(
                    "running_vars_ holds negative variances, so the network's outputs are "
                    "not finite. Set them to values >= 0, or fit the model again.")
            largest = abs(X_checked).max()
            raise ValueError(
                f"The network's output is not finite for {int(bad.sum())} of {len(bad)} rows: "
                f"their inputs overflow the network (largest |x| = {float(largest):.3g}). "
                "Scale the data as it was scaled for training."
            )
        return output, state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # embeddings and ensembles need dense X
        tags.input_tags.sparse = self.embedding is None and self.n_members == 1
        return tags

    # --------------------------------------------------------------- pickling
    def __getstate__(self):
        # a copy: for estimators outside sklearn's namespace BaseEstimator hands back
        # the live __dict__.  The lock stays with this object.
        state = dict(super().__getstate__())
        state.pop("_fit_lock", None)
        state["_bpcore_state"] = (_STATE_FORMAT, __version__)
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("_bpcore_state", None)
        if saved is None or saved[0] not in _READABLE_FORMATS:
            made_by = "an unknown bpcore version" if saved is None else f"bpcore {saved[1]}"
            found = "no bpcore state format" if saved is None else f"state format {saved[0]}"
            raise IncompatibleModelError(
                f"This {type(self).__name__} was pickled by {made_by} ({found}); bpcore "
                f"{__version__} reads state formats {_READABLE_FORMATS}. Load it with the bpcore "
                "version that saved it, or fit the model again."
            )
        if saved[0] == 2:
            # its optimizer state predates the step count: a partial_fit starts afresh
            state["_optimizer"] = None
        model = state.get("_state")
        if model is not None and not isinstance(model, ModelState):
            raise IncompatibleModelError(
                f"This {type(self).__name__}'s pickled model is a {type(model).__name__}, "
                "not a bpcore ModelState.")
        super().__setstate__(state)


@_docstrings.document(
    summary="""
    Multi-layer perceptron classifier, trained by backpropagation in compiled code.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`, with its
    parameters (`hidden_layer_sizes` to `max_fun`), defaults and attributes (`classes_`
    to `out_activation_`); the parameters from `init` on and the attributes from
    `validation_loss_curve_` on are bpcore's own. Each epoch runs in compiled code, on
    OpenMP threads, with the GIL released.

    The targets may be binary (one logistic output), multiclass (a softmax output) or
    multilabel (an indicator matrix, one logistic output per label); the loss is the
    cross-entropy.
    """,
    see_also="""
    MLPRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : scikit-learn's estimator, whose parameters
        and attributes this one shares.
    """,
    examples="""
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from bpcore import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True,
    ...                     n_iter_no_change=3, random_state=0).fit(X_train, y_train)
    >>> clf.n_iter_ < clf.max_iter      # early stopping ended the fit
    True
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    >>> bool(clf.score(X_test, y_test) > 0.9)
    True
    """)
class MLPClassifier(ClassifierMixin, _BaseMLP):

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        init="glorot_uniform",
        dropout=0.0,
        clip_norm=None,
        clip_value=None,
        param_change_tol=None,
        callbacks=None,
        progress_bar=False,
        weight_decay=0.0,
        lr_schedule=None,
        warmup_epochs=0,
        plateau_patience=5,
        plateau_factor=0.1,
        ema_decay=None,
        scoring=None,
        normalization=None,
        residual=False,
        embedding=None,
        n_frequencies=48,
        embedding_dim=24,
        frequency_scale=0.1,
        n_members=1,
        class_weight=None,
        label_smoothing=0.0,
    ):
        self._store_params(locals())

    # classification adds label smoothing and dropout to the recommended settings
    _RECOMMENDED_EXTRA = dict(label_smoothing=0.1, dropout=0.15)

    def _score_function(self, y, y_pred, sample_weight=None, state=None):
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    def _training_targets(self, Y, layout):
        """Labels smoothed by ε = label_smoothing: y (1 - ε) + ε / K, with K the number
        of classes for softmax outputs and 2 for each logistic output."""
        eps = self.label_smoothing
        if not eps:
            return Y
        n_classes = Y.shape[1] if layout.loss == "log_loss" else 2
        return Y * (1 - eps) + eps / n_classes

    def _encode_validation(self, y, encoder):
        if encoder.y_type_.startswith("multilabel"):
            if y.ndim != 2 or y.shape[1] != len(encoder.classes_) or not np.isin(y, (0, 1)).all():
                raise ValueError(f"y_val must be a 0/1 indicator matrix of "
                                 f"{len(encoder.classes_)} columns, as y.")
        else:
            unseen = np.setdiff1d(unique_labels(y), encoder.classes_)
            if unseen.size:
                raise ValueError(f"y_val has labels not in y: {unseen.tolist()}; the classes "
                                 f"are {encoder.classes_.tolist()}.")
        return encoder.transform(y)

    def _validate_input(self, X, y, incremental, first_pass, state, classes):
        X, y = self._validate_arrays(X, y, first_pass)
        if first_pass:
            encoder = LabelBinarizer()
            if incremental and not type_of_target(y).startswith("multilabel"):
                encoder.fit(classes)          # partial_fit's first call: all the classes
            else:
                encoder.fit(y)
        else:
            encoder = state.encoder
            labels = unique_labels(y)
            if classes is not None and not np.array_equal(encoder.classes_, unique_labels(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to "
                    f"partial_fit, was: {encoder.classes_!r}"
                )
            if self.warm_start and not incremental and set(labels) != set(encoder.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same "
                    "classes as in the previous call to fit. Previously "
                    f"got {encoder.classes_}, `y` has {labels}"
                )
        if incremental and not encoder.y_type_.startswith("multilabel"):
            labels = unique_labels(y)
            if len(np.setdiff1d(labels, encoder.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {encoder.classes_}. 'y' has {labels}."
                )
        Y = encoder.transform(y)
        return X, Y, encoder, self._class_weights(y, encoder, incremental)

    def _class_weights(self, y, encoder, incremental):
        """Per-sample weights from class_weight (None when there is none)."""
        if self.class_weight is None:
            return None
        if encoder.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multilabel targets.")
        if isinstance(self.class_weight, str) and incremental:
            raise ValueError(
                "class_weight='balanced' needs the class counts of all the data: it is not "
                "supported by partial_fit. Pass a dict of class weights instead."
            )
        return compute_sample_weight(self.class_weight, y)

    @staticmethod
    def _decode(Y, state):
        """Binarized targets -> labels."""
        if Y.shape[1] == 1:
            Y = Y.ravel()
        return state.encoder.inverse_transform(Y)

    @staticmethod
    def _output_to_prediction(output, state):
        encoder = state.encoder
        classes = encoder.classes_
        if encoder.y_type_ == "multiclass":
            return classes[output.argmax(1)]
        if encoder.y_type_ == "binary":
            if len(classes) == 1:           # fitted on one class: always that class
                return np.repeat(classes, output.shape[0])
            # LabelBinarizer's rule: the positive class where p > (1 + 0) / 2
            return classes.take((output[:, 0] > 0.5).astype(np.intp))
        return encoder.inverse_transform(output)

    @property
    def _label_binarizer(self):
        return self._fitted_state().encoder

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict the class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The most probable class (multiclass); the positive class where its
            probability is above 0.5 (binary); for multilabel targets, an indicator
            matrix of the labels whose probability is above 0.5.
        """
        return self._output_to_prediction(*self._validated_forward(X))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Probability of each class for each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            Columns in the order of `classes_`. Multiclass rows sum to 1 (softmax);
            binary rows are [1 - p, p]; multilabel columns are each label's own
            probability.
        """
        return self._probabilities(*self._validated_forward(X))

    @staticmethod
    def _probabilities(output, state):
        if len(state.encoder.classes_) == 1:   # fitted on one class: certain of it
            return np.ones((output.shape[0], 1), dtype=output.dtype)
        if state.n_outputs == 1:
            return np.hstack([1 - output, output])
        return output

    _member_output = _probabilities      # predict_members: each member's probabilities

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Logarithm of the class probabilities of `predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            Natural logarithm of each probability, columns in the order of
            `classes_`.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    @available_if(lambda est: est._check_solver())
    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        classes: ArrayLike | None = None,
    ) -> MLPClassifier:
        """Train for one epoch on X and y, from the current model.

        The first call starts a new model; each later call continues the model and
        the optimizer's state. Only 'sgd' and 'adam' have this method, and not with
        ``early_stopping=True``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or a label indicator matrix (multilabel).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, as in `fit`.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole data, which y need not all contain: required on
            the first call; a later call may omit it or give the same classes. For
            multilabel y the classes are its columns.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if "_state" not in self.__dict__ and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


@_docstrings.document(
    summary="""
    Multi-layer perceptron regressor, trained by backpropagation in compiled code.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`, with its
    parameters (`loss` to `max_fun`), defaults and attributes (`loss_` to
    `out_activation_`); the parameters from `init` on, the losses beyond
    'squared_error' and 'poisson', and the attributes from `validation_loss_curve_`
    on are bpcore's own. Each epoch runs in compiled code, on OpenMP threads, with
    the GIL released.
    """,
    see_also="""
    MLPClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : scikit-learn's estimator, whose parameters
        and attributes this one shares.
    """,
    examples="""
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.model_selection import train_test_split
    >>> from bpcore import MLPRegressor
    >>> X, y = make_regression(n_samples=300, n_features=4, noise=5.0, random_state=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y / y.std(), random_state=0)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
    ...                    early_stopping=True, random_state=0).fit(X_train, y_train)
    >>> bool(reg.score(X_test, y_test) > 0.95)
    True

    With two quantiles, each prediction is a pair, the lower quantile first:

    >>> interval = MLPRegressor(loss="quantile", quantile=[0.1, 0.9],
    ...                         hidden_layer_sizes=(32,), learning_rate_init=0.01,
    ...                         n_iter_no_change=20, random_state=0)
    >>> low, high = interval.fit(X_train, y_train).predict(X_test).T
    >>> bool((low < high).all())
    True
    """)
class MLPRegressor(RegressorMixin, _BaseMLP):

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        init="glorot_uniform",
        dropout=0.0,
        clip_norm=None,
        clip_value=None,
        param_change_tol=None,
        callbacks=None,
        progress_bar=False,
        weight_decay=0.0,
        lr_schedule=None,
        warmup_epochs=0,
        plateau_patience=5,
        plateau_factor=0.1,
        ema_decay=None,
        scoring=None,
        normalization=None,
        residual=False,
        embedding=None,
        n_frequencies=48,
        embedding_dim=24,
        frequency_scale=0.1,
        n_members=1,
        huber_delta=1.0,
        quantile=0.5,
    ):
        self._store_params(locals())

    def _score_function(self, y, y_pred, sample_weight=None, state=None):
        """R², or for the quantile loss the mean over its quantiles of D² (the
        fraction of pinball loss explained, sklearn.metrics.d2_pinball_score)."""
        state = state if state is not None else self._fitted_state()
        if state.loss != "quantile":
            return r2_score(y, y_pred, sample_weight=sample_weight)
        quantiles = state.loss_param
        if len(quantiles) == 1:
            return d2_pinball_score(y, y_pred, sample_weight=sample_weight,
                                    alpha=quantiles[0])
        return float(np.mean([d2_pinball_score(y, y_pred[..., k], sample_weight=sample_weight,
                                               alpha=q) for k, q in enumerate(quantiles)]))

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Coefficient of determination R² of the predictions.

        For loss='quantile', D² of the pinball loss instead
        (``sklearn.metrics.d2_pinball_score``), averaged over the quantiles.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Their true targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            1 for perfect predictions, 0 for those of a constant model (the mean of
            y, or for D² its quantile), less for worse ones; averaged over the
            targets.
        """
        output, state = self._validated_forward(X)
        return self._score_function(y, self._output_to_prediction(output, state),
                                    sample_weight=sample_weight, state=state)

    def _loss_param(self):
        if self.loss == "huber":
            return (float(self.huber_delta),)
        if self.loss == "quantile":
            return tuple(float(q) for q in np.atleast_1d(self.quantile))
        return ()

    def _encode_validation(self, y, encoder):
        if self.loss == "poisson":
            _validation.check_poisson_target(y)
        return self._expand_quantiles(y)

    def _expand_quantiles(self, Y):
        """Targets as the network's outputs: each target repeated once per quantile."""
        k = len(self._loss_param()) if self.loss == "quantile" else 1
        if k == 1:
            return Y
        Y = np.asarray(Y)
        return np.repeat(Y.reshape(Y.shape[0], -1), k, axis=1)

    def _validate_input(self, X, y, incremental, first_pass, state, classes):
        X, y = self._validate_arrays(X, y, first_pass, y_numeric=True)
        if self.loss == "poisson":
            _validation.check_poisson_target(y)
        return X, self._expand_quantiles(y), None, None

    @staticmethod
    def _decode(Y, state):
        Y = Y[:, ::state.n_quantiles]              # one column per target
        return Y.ravel() if Y.shape[1] == 1 else Y

    @staticmethod
    def _output_to_prediction(output, state):
        """(n, outputs) -> (n,) for one output; with k > 1 quantiles (n, k) for one
        target and (n, n_targets, k) for several."""
        k = state.n_quantiles
        if k > 1:
            n_targets = output.shape[1] // k
            return output if n_targets == 1 else output.reshape(-1, n_targets, k)
        return output.ravel() if output.shape[1] == 1 else output

    _member_output = _output_to_prediction   # predict_members: each member's prediction

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict the targets of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        y : ndarray
            Of shape (n_samples,) for one target, (n_samples, n_targets) for several.
            With loss='quantile' and k > 1 quantiles, one prediction per quantile on a
            last axis: (n_samples, k) or (n_samples, n_targets, k).
        """
        return self._output_to_prediction(*self._validated_forward(X))

    @available_if(lambda est: est._check_solver())
    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> MLPRegressor:
        """Train for one epoch on X and y, from the current model.

        The first call starts a new model; each later call continues the model and
        the optimizer's state. Only 'sgd' and 'adam' have this method, and not with
        ``early_stopping=True``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, as in `fit`.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
