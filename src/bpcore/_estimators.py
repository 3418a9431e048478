"""MLPClassifier and MLPRegressor: scikit-learn's estimators over bpcore's compiled engine.

The facade owns what happens between epochs: validation, target encoding, the
initial weights, the stopping rules, early stopping and the history.  Each epoch
is one call into `_network.train_epoch`, which runs every mini-batch with the GIL
released.  Names, defaults and behaviour follow `sklearn.neural_network`; the
initial weights and the shuffling draw from the random state in the same order,
so the same `random_state` gives the same model as scikit-learn, to rounding.
"""

from __future__ import annotations

import time
import warnings
from abc import ABCMeta, abstractmethod
from typing import Any

import numpy as np
import scipy.optimize
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _layout, _network, _reference, _validation
from ._version import __version__
from ._threads import blas_single_threaded, effective_n_threads

ArrayLike = Any  # array-like or scipy sparse matrix, as scikit-learn accepts

_STOCHASTIC_SOLVERS = ("sgd", "adam")


# What a pickled model holds (attribute names and meanings).  Bump it whenever that
# changes, so that an old pickle is refused with a clear message, never misread.
_STATE_FORMAT = 1


class IncompatibleModelError(ValueError):
    """A pickled model was saved by a bpcore whose state format this one cannot read."""


class TrainingDivergedWarning(RuntimeWarning):
    """The loss or the gradient became non-finite; the last finite weights were kept."""
_PREDICT_CHUNK_ROWS = 256     # largest input for the serial small-prediction path
_PREDICT_BLOCK_ROWS = 1024    # rows a thread multiplies at once in large predictions
# the small-prediction kernel's specialisations, called without the fused dispatcher
_PREDICT_ROWS = {
    np.dtype(np.float32): _network.predict_rows.__signatures__["float"],
    np.dtype(np.float64): _network.predict_rows.__signatures__["double"],
}


class _Progress:
    """What verbose prints over the epochs.

    verbose=1 (True): scikit-learn's lines ("Iteration k, loss = ...").  verbose>=2: a
    progress bar over the epochs with the loss (tqdm when installed), plain lines
    otherwise.
    """

    def __init__(self, verbose, total):
        self.sklearn_lines = verbose is True or verbose == 1
        self.total = total
        self.bar = None
        self.plain = False
        self.active = False
        if self.sklearn_lines or not verbose:
            return
        self.active = True
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.plain = True
        else:
            self.bar = tqdm(total=total, unit="epoch", leave=True)

    def update(self, info):
        text = {"loss": f"{info['loss']:.5g}"}
        if info["validation_score"] is not None:
            text["val_score"] = f"{info['validation_score']:.4f}"
        if self.bar is not None:
            self.bar.set_postfix(text, refresh=False)
            self.bar.update(1)
        elif self.plain:
            extra = "".join(f"  {k} {v}" for k, v in text.items())
            print(f"epoch {info['epoch']}/{self.total}{extra}  ({1e3 * info['seconds']:.1f} ms)",
                  flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _optimizer_config(
    solver, learning_rate, momentum, nesterov, beta_1, beta_2, epsilon, clip_norm=None, clip_value=None
):
    return {
        "clip_norm": float(clip_norm or 0.0),
        "clip_value": float(clip_value or 0.0),
        "kind": 0 if solver == "sgd" else 1,
        "learning_rate": float(learning_rate),
        "momentum": float(momentum),
        "nesterov": bool(nesterov),
        "beta_1": float(beta_1),
        "beta_2": float(beta_2),
        "epsilon": float(epsilon),
    }


class _BaseMLP(BaseEstimator, metaclass=ABCMeta):
    """The training loop shared by MLPClassifier and MLPRegressor."""

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        init,
        dropout,
        clip_norm,
        clip_value,
        param_change_tol,
        callbacks,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.dropout = dropout
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.param_change_tol = param_change_tol
        self.callbacks = callbacks

    # ----------------------------------------------------------------- parameters
    def _loss_name(self):
        """The kernel's loss: it fixes the output activation."""
        if not is_classifier(self):
            return self.loss
        if self._label_binarizer.y_type_ == "multiclass":
            return "log_loss"
        return "binary_log_loss"

    def _layer_units(self):
        return [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]

    def _flat_params(self, dtype=None):
        """The flat parameter buffer, with coefs_ and intercepts_ as views of it.

        When coefs_ or intercepts_ were replaced (assigned, unpickled) they are packed
        into a new buffer first, so the model always runs the weights it shows.
        """
        flat = getattr(self, "_params", None)
        if dtype is None:
            dtype = self.coefs_[0].dtype
        if flat is not None and flat.dtype == dtype and self._views_unchanged():
            return flat
        layer_units = self._layer_units()
        if flat is None or flat.dtype != dtype or not _layout.is_view_of(
            flat, self.coefs_, self.intercepts_, layer_units
        ):
            flat = _layout.pack(self.coefs_, self.intercepts_, dtype)
            self._params = flat
            self.coefs_, self.intercepts_ = _layout.views(flat, layer_units)
        self._remember_views()
        return flat

    def _remember_views(self):
        # the very list and array objects last checked to view _params: while they are
        # the ones in coefs_ / intercepts_, the views are still right (edits in place
        # are seen through them; a replaced list or array is not the same object)
        self._views = (self.coefs_, tuple(self.coefs_), self.intercepts_, tuple(self.intercepts_))

    def _views_unchanged(self):
        views = self.__dict__.get("_views")
        if views is None or views[0] is not self.coefs_ or views[2] is not self.intercepts_:
            return False
        coefs, intercepts = views[1], views[3]
        return (
            len(coefs) == len(self.coefs_)
            and len(intercepts) == len(self.intercepts_)
            and all(a is b for a, b in zip(coefs, self.coefs_))
            and all(a is b for a, b in zip(intercepts, self.intercepts_))
        )

    def _network(self, layer_units, batch_capacity, n_threads, dropout=None):
        hidden = [_layout.ACTIVATION_CODES[self.activation]] * (len(layer_units) - 2)
        return _network.Network(
            layer_units,
            hidden,
            _layout.LOSS_CODES[self._loss_name()],
            float(self.alpha),
            batch_capacity,
            n_threads,
            dropout,
        )

    def _reported_loss(self, data_loss, penalty):
        # scikit-learn averages the squared error over the outputs as well (its
        # gradient does not): loss_ keeps that convention, the gradient is exact.
        if self._loss_name() == "squared_error":
            data_loss = data_loss / self.n_outputs_
        return data_loss + penalty

    # ------------------------------------------------------------------- fitting
    def _initialize(self, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(layer_units)
        self.out_activation_ = _layout.OUTPUT_ACTIVATIONS[self._loss_name()]
        coefs, intercepts = [], []
        rng = self._random_state
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            if self.init == "glorot_uniform":
                # drawn layer by layer as scikit-learn draws it (same weights for the
                # same random_state), biases from the same range
                factor = 2.0 if self.activation == "logistic" else 6.0
                bound = np.sqrt(factor / (fan_in + fan_out))
                coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
                intercepts.append(rng.uniform(-bound, bound, fan_out))
                continue
            if self.init == "he_normal":      # Var W = 2 / fan_in
                coefs.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)))
            elif self.init == "he_uniform":
                bound = np.sqrt(6.0 / fan_in)
                coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
            else:                              # lecun_normal: Var W = 1 / fan_in
                coefs.append(rng.normal(0.0, np.sqrt(1.0 / fan_in), (fan_in, fan_out)))
            intercepts.append(np.zeros(fan_out))
        self._params = _layout.pack(coefs, intercepts, dtype)
        self.coefs_, self.intercepts_ = _layout.views(self._params, layer_units)
        self._remember_views()
        self._best_params = self._params.copy()
        self._history = {"gradient_norms": [], "weight_norms": [], "dead_units": []}
        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _fit(self, X, y, sample_weight=None, incremental=False):
        _validation.check_params(self)
        hidden = _validation.hidden_layer_sizes(self.hidden_layer_sizes, type(self).__name__)
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y, class_weights = self._validate_input(X, y, incremental, reset=first_pass)
        if not first_pass:
            X = X.astype(self.coefs_[0].dtype, copy=False)
        Y = np.ascontiguousarray(Y, dtype=X.dtype)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
            sample_weight = np.ascontiguousarray(sample_weight)
        if class_weights is not None:
            if sample_weight is None:
                sample_weight = np.ones(X.shape[0], dtype=X.dtype)
            sample_weight = np.ascontiguousarray(sample_weight * class_weights, dtype=X.dtype)
        n_samples, n_features = X.shape
        layer_units = [n_features] + hidden + [Y.shape[1]]
        if not first_pass and self._layer_units() != layer_units:
            raise ValueError(
                f"The fitted network has layer sizes {self._layer_units()} but this call "
                f"needs {layer_units}: hidden_layer_sizes or the number of outputs "
                "changed. Fit from scratch (warm_start=False)."
            )
        self.n_outputs_ = Y.shape[1]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(layer_units, X.dtype)
        params = self._flat_params(X.dtype)

        with blas_single_threaded():
            if self.solver in _STOCHASTIC_SOLVERS:
                self._fit_stochastic(X, Y, sample_weight, params, layer_units, incremental)
            else:
                self._fit_lbfgs(X, Y, sample_weight, params, layer_units)

        if not np.isfinite(self._params).all():
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        self._cache_for_prediction()
        return self

    def _fit_lbfgs(self, X, Y, sample_weight, params, layer_units):
        n_samples = X.shape[0]
        net = self._network(layer_units, n_samples, effective_n_threads())
        workspace = np.empty(net.train_workspace_size, dtype=params.dtype)
        grads = np.empty_like(params)
        weights = sample_weight if sample_weight is not None else np.empty(0, params.dtype)
        inputs = _layout.kernel_input(X, params.dtype)

        def objective(theta):
            # scipy hands a new float64 vector each call: copy it into the buffer
            params[:] = theta
            data_loss, penalty = _network.loss_gradient(
                net, *inputs, Y, weights, params, grads, workspace
            )
            return data_loss + penalty, grads.astype(np.float64)

        result = scipy.optimize.minimize(
            objective,
            params.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
        )
        params[:] = result.x
        if result.status != 0:
            message = result.message
            if isinstance(message, bytes):
                message = message.decode("latin1")
            warnings.warn(
                f"lbfgs failed to converge after {result.nit} iteration(s) "
                f"(status={result.status}): {message}. Increase max_iter or max_fun, or "
                "scale the data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.n_iter_ = min(result.nit, self.max_iter)
        self._publish_layer_statistics()   # none per epoch: L-BFGS has no epochs
        data_loss, penalty = _network.loss_gradient(
            net, *inputs, Y, weights, params, grads, workspace
        )
        self.loss_ = self._reported_loss(data_loss, penalty)
        if self.verbose:
            print(f"L-BFGS: {self.n_iter_} iterations, loss = {self.loss_:.8f}")

    def _new_optimizer_state(self, n_params, dtype):
        state = {"learning_rate": float(self.learning_rate_init), "adam_step": 0}
        state["state_1"] = np.zeros(n_params, dtype=dtype)
        if self.solver == "adam":
            state["state_2"] = np.zeros(n_params, dtype=dtype)
        else:
            state["state_2"] = np.empty(0, dtype=dtype)
        return state

    def _fit_stochastic(self, X, Y, sample_weight, params, layer_units, incremental):
        state = getattr(self, "_optimizer", None)
        if (
            not incremental
            or state is None
            or state["state_1"].shape != params.shape
            or state["state_1"].dtype != params.dtype
        ):
            state = self._optimizer = self._new_optimizer_state(params.size, params.dtype)

        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            # don't stratify multilabel targets
            stratify = Y if (is_classifier(self) and self.n_outputs_ == 1) else None
            arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
            split = train_test_split(
                *arrays,
                random_state=self._random_state,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            X_train, X_val, Y_train, Y_val = split[:4]
            sw_train, sw_val = (split[4], split[5]) if sample_weight is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            Y_train = np.ascontiguousarray(Y_train)
            validation = (X_val, Y_val, self._decode(Y_val), sw_val)
        else:
            X_train, Y_train, sw_train = X, Y, sample_weight
            validation = None

        n_samples = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        elif self.batch_size == "full":
            batch_size = n_samples
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped",
                    stacklevel=3,
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        n_layers = len(layer_units) - 1
        dropout = _validation.dropout_rates(self.dropout, n_layers - 1)
        coef_slices, _ = _layout.param_slices(layer_units)
        coef_starts = np.array([start for start, _, _ in coef_slices])
        n_coefs = coef_slices[-1][1]
        net = self._network(layer_units, batch_size, effective_n_threads(), dropout)
        workspace = np.empty(net.train_workspace_size, dtype=params.dtype)
        grads = np.empty_like(params)
        weights = sw_train if sw_train is not None else np.empty(0, dtype=params.dtype)
        inputs = _layout.kernel_input(X_train, params.dtype)
        sample_idx = np.arange(n_samples, dtype=np.intp)
        no_order = np.empty(0, dtype=np.intp)
        layer_stats = np.zeros(2 * n_layers)
        alive = np.zeros(net.n_hidden_units, dtype=np.uint8)
        governor = self._governor = np.zeros(8)   # the kernel thread governor, across epochs
        snapshot = params.copy()   # the parameters at the end of the last complete epoch
        progress = _Progress(self.verbose, self.max_iter)

        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                started = time.perf_counter()
                if self.shuffle:
                    # the permutation sklearn.utils.shuffle draws (same swaps, same
                    # stream), without its per-call validation (0.7 ms an epoch)
                    self._random_state.shuffle(sample_idx)
                # drawn only with dropout, so that the random stream stays scikit-learn's
                seed = int(self._random_state.randint(0, 2**62)) if any(dropout) else 0
                config = _optimizer_config(
                    self.solver,
                    state["learning_rate"],
                    self.momentum,
                    self.nesterovs_momentum,
                    self.beta_1,
                    self.beta_2,
                    self.epsilon,
                    self.clip_norm,
                    self.clip_value,
                )
                alive[:] = 0
                data_loss, penalty, adam_step, n_batches, diverged = _network.train_epoch(
                    net,
                    *inputs,
                    Y_train,
                    weights,
                    sample_idx if self.shuffle else no_order,
                    batch_size,
                    params,
                    grads,
                    state["state_1"],
                    state["state_2"],
                    workspace,
                    config,
                    state["adam_step"],
                    seed,
                    layer_stats,
                    alive,
                    governor,
                )
                if diverged:
                    self._handle_divergence(params, snapshot, layer_stats, n_layers, n_batches)
                    break
                state["adam_step"] = adam_step
                self.n_iter_ += 1
                self.loss_ = self._reported_loss(data_loss, penalty) / n_samples
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                self._record_layer_statistics(
                    layer_stats, n_batches, alive, layer_units, coef_starts, n_coefs
                )
                if progress.sklearn_lines:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

                self._update_no_improvement_count(early_stopping, validation)
                if self.solver == "sgd" and self.learning_rate == "invscaling":
                    state["learning_rate"] = float(self.learning_rate_init) / (
                        self.t_ + 1
                    ) ** self.power_t

                stop = False
                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )
                    if self._trigger_stopping(msg, state):
                        stop = True
                    else:
                        self._no_improvement_count = 0
                if not stop and self.param_change_tol is not None:
                    # the seeds' rule: every parameter moved by less than ε this epoch
                    change = float(np.max(np.abs(params - snapshot)))
                    if change < self.param_change_tol:
                        if self.verbose:
                            print(
                                "Every parameter changed by less than param_change_tol="
                                f"{self.param_change_tol:g} (largest change {change:.3g}). Stopping."
                            )
                        stop = True
                snapshot[:] = params
                if self.callbacks or progress.active:
                    info = self._epoch_info(state, time.perf_counter() - started)
                    progress.update(info)
                    if self._run_callbacks(info):
                        stop = True
                if stop or incremental:
                    break

                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet." % self.max_iter,
                        ConvergenceWarning,
                        stacklevel=3,
                    )
        except KeyboardInterrupt:
            # the weights of the last complete epoch, as after a normal stop
            params[:] = snapshot
            warnings.warn(
                "Training interrupted by user. The weights of the last completed epoch "
                f"({self.n_iter_}) were kept.",
                stacklevel=3,
            )
        finally:
            progress.close()
            self._publish_layer_statistics()

        if early_stopping:
            # restore the best weights, in place (coefs_ stay views of the buffer)
            params[:] = self._best_params

    def _handle_divergence(self, params, snapshot, layer_stats, n_layers, n_batches):
        """Keep the last finite weights, forget the poisoned optimizer state, warn."""
        params[:] = snapshot
        self._optimizer = None
        last = layer_stats[n_layers:]
        norms = np.sqrt(np.where(np.isfinite(last), last, np.inf))
        layer = int(np.argmax(norms))
        warnings.warn(
            f"Training diverged in epoch {self.n_iter_ + 1}, batch {n_batches}: the loss or "
            f"the gradient became non-finite; layer {layer} (coefs_[{layer}]) had the largest "
            f"gradient norm ({norms[layer]:.3g}). The weights from the end of epoch "
            f"{self.n_iter_} were kept. Lower learning_rate_init, scale the inputs, or set "
            "clip_norm.",
            TrainingDivergedWarning,
            stacklevel=4,
        )

    def _record_layer_statistics(self, layer_stats, n_batches, alive, layer_units, coef_starts,
                                 n_coefs):
        n_layers = len(layer_units) - 1
        history = self._history
        # root mean square over the epoch's batches of each layer's gradient norm
        history["gradient_norms"].append(np.sqrt(layer_stats[:n_layers] / max(n_batches, 1)))
        history["weight_norms"].append(
            np.sqrt(np.add.reduceat(np.square(self._params[:n_coefs]), coef_starts))
        )
        dead = np.full(n_layers - 1, np.nan)
        if self.activation in ("relu", "leaky_relu"):
            start = 0
            for i, units in enumerate(layer_units[1:-1]):
                dead[i] = 1.0 - alive[start : start + units].mean()
                start += units
        history["dead_units"].append(dead)

    def _publish_layer_statistics(self):
        history = self._history
        n_layers = self.n_layers_ - 1
        n_epochs = len(history["gradient_norms"])
        self.gradient_norms_ = np.array(history["gradient_norms"]).reshape(n_epochs, n_layers)
        self.weight_norms_ = np.array(history["weight_norms"]).reshape(n_epochs, n_layers)
        self.dead_units_ = np.array(history["dead_units"]).reshape(n_epochs, n_layers - 1)

    def _epoch_info(self, state, seconds):
        history = self._history
        return {
            "epoch": self.n_iter_,
            "loss": self.loss_,
            "validation_score": self.validation_scores_[-1] if self.validation_scores_ else None,
            "validation_loss": (
                self.validation_loss_curve_[-1] if self.validation_loss_curve_ else None
            ),
            "gradient_norms": history["gradient_norms"][-1],
            "weight_norms": history["weight_norms"][-1],
            "dead_units": history["dead_units"][-1],
            "learning_rate": state["learning_rate"],
            "seconds": seconds,
        }

    def _run_callbacks(self, info):
        """Call each callback with (model, info); True when one asks to stop."""
        stop = False
        for callback in self.callbacks or ():
            if callback(self, info) is True:
                stop = True
        return stop

    def _trigger_stopping(self, msg, state):
        """True to stop; with the adaptive schedule, first divide the rate by 5."""
        if self.solver == "sgd" and self.learning_rate == "adaptive":
            if state["learning_rate"] <= 1e-6:
                if self.verbose:
                    print(msg + " Learning rate too small. Stopping.")
                return True
            state["learning_rate"] /= 5.0
            if self.verbose:
                print(msg + " Setting learning rate to %f" % state["learning_rate"])
            return False
        if self.verbose:
            print(msg + " Stopping.")
        return True

    def _update_no_improvement_count(self, early_stopping, validation):
        if early_stopping:
            X_val, Y_val, y_val, sw_val = validation
            output = self._forward(X_val)
            if output is not None and np.isfinite(output).all():
                score = self._score_function(
                    y_val, self._output_to_prediction(output), sample_weight=sw_val
                )
            else:
                score = np.nan
            self.validation_scores_.append(score)
            self.validation_loss_curve_.append(
                self._loss_of_output(output, Y_val, sw_val) if output is not None else np.nan
            )
            if self.verbose is True or self.verbose == 1:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params[:] = self._params
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _loss_of_output(self, output, Y, sample_weight):
        """The loss of given outputs, in the convention of loss_curve_."""
        Y = np.asarray(Y, dtype=output.dtype).reshape(output.shape)
        weights = np.ones(len(Y)) if sample_weight is None else np.asarray(sample_weight, float)
        losses = _reference.sample_losses(output, Y, self._loss_name())
        data = float(np.sum(weights * losses) / weights.sum())
        penalty = 0.5 * self.alpha * sum(float(np.dot(c.ravel(), c.ravel())) for c in self.coefs_)
        return self._reported_loss(data, penalty / weights.sum())

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> _BaseMLP:
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data. float32 input trains in float32; anything else in float64.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights; the gradient is divided by their sum.

        Returns
        -------
        self : object
            The fitted model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    # ---------------------------------------------------------------- prediction
    def _forward(self, X):
        """The output layer's activations for a validated X (dense or sparse).

        Returns None when X holds NaN or infinity (the caller words the error)."""
        params = self._flat_params()
        inputs = _layout.kernel_input(X, params.dtype)
        n_samples = X.shape[0]
        out = np.empty((n_samples, self.n_outputs_), dtype=params.dtype)
        if n_samples <= _PREDICT_CHUNK_ROWS:
            # one block, on this thread: BLAS keeps its own settings
            net = self._prediction_network(1)
            workspace = np.empty(net.predict_workspace_size(n_samples), dtype=params.dtype)
            bad = _network.predict(net, *inputs, params, out, workspace, max(n_samples, 1))
        else:
            net = self._prediction_network(effective_n_threads())
            workspace = np.empty(net.predict_workspace_size(_PREDICT_BLOCK_ROWS), dtype=params.dtype)
            with blas_single_threaded():
                bad = _network.predict(net, *inputs, params, out, workspace, _PREDICT_BLOCK_ROWS)
        return None if bad else out

    def _prediction_network(self, n_threads):
        """A Network for predictions: the hidden activation is the parameter's, as in
        scikit-learn, the output the fitted out_activation_."""
        loss = _layout.LOSS_OF_OUTPUT[self.out_activation_]
        hidden = [_layout.ACTIVATION_CODES[self.activation]] * (len(self.coefs_) - 1)
        return _network.Network(self._layer_units(), hidden, _layout.LOSS_CODES[loss], 0.0, 1,
                                n_threads)

    def _cache_for_prediction(self):
        """After fit (and unpickling): the views' identities and the serial prediction
        network, so that predict reads caches and never writes the estimator."""
        self._flat_params()
        self._remember_views()
        self._predict_network = (self.activation, self._params, self._prediction_network(1))

    def _small_prediction_network(self):
        cached = self.__dict__.get("_predict_network")
        if cached is not None and cached[0] == self.activation and cached[1] is self._params:
            return cached[2]
        return self._prediction_network(1)   # changed since fit: not cached (no writes)

    def _fast_forward(self, X):
        """The output for a small, dense, C-ordered array of the model's dtype, without
        scikit-learn's validation (the kernel checks finiteness); None when X does not
        qualify, or something needs the full path's checks and messages."""
        state = self.__dict__
        params = state.get("_params")
        if (
            params is None
            or type(X) is not np.ndarray
            or X.ndim != 2
            or not 0 < X.shape[0] <= _PREDICT_CHUNK_ROWS
            or X.dtype != params.dtype
            or not X.flags.c_contiguous
            or X.shape[1] != state.get("n_features_in_")
            or "feature_names_in_" in state
            or not self._views_unchanged()
        ):
            return None
        out = np.empty((X.shape[0], self.n_outputs_), dtype=params.dtype)
        if _PREDICT_ROWS[params.dtype](self._small_prediction_network(), X, params, out):
            return None  # not finite: the full path says what
        if not np.isfinite(out).all():
            return None
        return out

    def _validated_forward(self, X):
        output = self._fast_forward(X)
        if output is not None:
            return output
        check_is_fitted(self)
        checked = dict(reset=False, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32))
        # the kernel checks finiteness as it goes (one pass over X fewer); when it finds
        # NaN or infinity, scikit-learn's check runs to say so in its words
        X_checked = validate_data(self, X, ensure_all_finite=False, **checked)
        output = self._forward(X_checked)
        if output is None:
            validate_data(self, X, **checked)   # raises, naming NaN or infinity
            raise ValueError("Input X contains NaN or infinity.")
        bad = ~np.isfinite(output).all(axis=1)
        if bad.any():
            largest = abs(X_checked).max()
            raise ValueError(
                f"The network's output is not finite for {int(bad.sum())} of {len(bad)} rows: "
                f"their inputs overflow the network (largest |x| = {float(largest):.3g}). "
                "Scale the data as it was scaled for training."
            )
        return output

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __getstate__(self):
        # a copy: for estimators outside sklearn's namespace BaseEstimator hands back
        # the live __dict__
        state = dict(super().__getstate__())
        # coefs_ and intercepts_ are views of _params: pickle them, rebuild the buffer
        for cache in ("_params", "_views", "_predict_network"):
            state.pop(cache, None)
        state["_bpcore_state"] = (_STATE_FORMAT, __version__)
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("_bpcore_state", None)
        if saved is None or saved[0] != _STATE_FORMAT:
            made_by = "an unknown bpcore version" if saved is None else f"bpcore {saved[1]}"
            found = "no bpcore state format" if saved is None else f"state format {saved[0]}"
            raise IncompatibleModelError(
                f"This {type(self).__name__} was pickled by {made_by} ({found}); bpcore "
                f"{__version__} reads state format {_STATE_FORMAT}. Load it with the bpcore "
                "version that saved it, or fit the model again."
            )
        super().__setstate__(state)
        if "coefs_" in self.__dict__:
            self._cache_for_prediction()


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, trained by backpropagation in compiled code.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: same
    parameters, defaults, attributes and behaviour; each epoch runs in Cython with the
    GIL released, on OpenMP threads.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers.
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        'lbfgs' runs scipy's L-BFGS-B on the flat parameter vector; 'sgd' is mini-batch
        gradient descent with (Nesterov) momentum; 'adam' is Kingma and Ba's Adam.
    alpha : float, default=0.0001
        L2 penalty: the objective adds α‖W‖² / (2 Σ sample weights).
    batch_size : int or 'auto', default='auto'
        Mini-batch size for the stochastic solvers; 'auto' is min(200, n_samples).
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule of the 'sgd' learning rate.
    learning_rate_init : float, default=0.001
        Initial learning rate of 'sgd' and 'adam'.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Epochs for 'sgd' and 'adam'; iterations for 'lbfgs'.
    shuffle : bool, default=True
        Shuffle the samples every epoch ('sgd', 'adam').
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the early-stopping split.
    tol : float, default=1e-4
        Improvement below which an epoch counts as no improvement.
    verbose : bool, default=False
        Print the loss after each epoch.
    warm_start : bool, default=False
        Start the next fit from the current weights.
    momentum : float, default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with 'sgd'.
    early_stopping : bool, default=False
        Hold out `validation_fraction` of the data and stop when its score stops
        improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
        Adam's numerical-stability term.
    n_iter_no_change : int, default=10
        Epochs without `tol` improvement before stopping.
    max_fun : int, default=15000
        Maximum loss evaluations of 'lbfgs'.

    The parameters below go beyond scikit-learn's MLP (seeds 001-004 of the design):

    init : {'glorot_uniform', 'he_normal', 'he_uniform', 'lecun_normal'}, default='glorot_uniform'
        Initial weights. 'glorot_uniform' is scikit-learn's (same draws for the same
        random_state, biases from the same range); the others draw W with variance
        2/fan_in (He) or 1/fan_in (LeCun) and start the biases at 0.
    dropout : float or sequence of float, default=0.0
        Probability of dropping each hidden unit in training (one value, or one per
        hidden layer); inverted dropout, off at prediction. The masks follow
        random_state and do not depend on the thread count.
    clip_norm : float or None, default=None
        Scale each batch's gradient so that its global norm is at most this.
    clip_value : float or None, default=None
        Clamp each gradient entry to [-clip_value, clip_value] (after clip_norm).
    param_change_tol : float or None, default=None
        The seeds' stopping rule: stop when no parameter moved by ε = param_change_tol
        or more during an epoch.
    callbacks : list of callables or None, default=None
        Each is called as ``f(model, info)`` after every epoch, with ``info`` a dict:
        epoch, loss, validation_score, validation_loss, gradient_norms, weight_norms,
        dead_units, learning_rate, seconds.  Returning True stops training.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into sample_weight ('balanced':
        n_samples / (n_classes * count); not with partial_fit).

    The activation may also be 'leaky_relu' (slope 0.01), 'elu', 'gelu' (exact),
    'softplus' or 'swish'; batch_size may be 'full' (one batch of all samples).
    verbose=2 shows a progress bar over the epochs (tqdm when installed).

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels.
    loss_ : float
        The loss at the end of the last epoch (or at the L-BFGS solution).
    best_loss_ : float or None
        The best training loss (None with early stopping).
    loss_curve_ : list of float
        Loss after each epoch.
    validation_scores_ : list of float or None
        Validation accuracy after each epoch, with early stopping.
    best_validation_score_ : float or None
        Best validation accuracy, with early stopping.
    t_ : int
        Samples seen by the solver.
    coefs_ : list of ndarray of shape (n_in, n_out)
        Weight matrices: views of one flat parameter buffer.
    intercepts_ : list of ndarray of shape (n_out,)
        Bias vectors: views of the same buffer.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has string column names.
    n_iter_ : int
        Epochs (or L-BFGS iterations) run.
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : str
        'softmax' (multiclass) or 'logistic' (binary, multilabel).
    gradient_norms_ : ndarray of shape (n_epochs, n_layers - 1)
        Per epoch and layer, the root mean square over the batches of ‖∂J/∂θˡ‖ (the
        layer's weights and bias): vanishing gradients show as small first columns.
    weight_norms_ : ndarray of shape (n_epochs, n_layers - 1)
        ‖Wˡ‖ at the end of each epoch.
    dead_units_ : ndarray of shape (n_epochs, n_layers - 2)
        Fraction of each hidden layer's units that never had a positive output during
        the epoch (relu and leaky_relu; NaN for other activations).
    validation_loss_curve_ : list of float or None
        With early stopping, the validation loss after each epoch.

    Notes
    -----
    A fit whose loss or gradient becomes non-finite stops, keeps the weights of the
    last complete epoch and warns (TrainingDivergedWarning); so does Ctrl-C, with a
    UserWarning.  See ``bpcore.loss_gradient`` and ``bpcore.check_gradients`` for the
    gradients themselves.
    """

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
        class_weight=None,
    ):
        self.class_weight = class_weight
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            init=init,
            dropout=dropout,
            clip_norm=clip_norm,
            clip_value=clip_value,
            param_change_tol=param_change_tol,
            callbacks=callbacks,
        )

    @staticmethod
    def _score_function(y, y_pred, sample_weight=None):
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
            _validation.check_two_classes(self._label_binarizer, type(self).__name__)
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        Y = self._label_binarizer.transform(y)
        return X, Y, self._class_weights(y, incremental)

    def _class_weights(self, y, incremental):
        """Per-sample weights from class_weight (None when there is none)."""
        if self.class_weight is None:
            return None
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multilabel targets.")
        if isinstance(self.class_weight, str) and incremental:
            raise ValueError(
                "class_weight='balanced' needs the class counts of all the data: it is not "
                "supported by partial_fit. Pass a dict of class weights instead."
            )
        return compute_sample_weight(self.class_weight, y)

    def _decode(self, Y):
        """Binarized targets -> labels."""
        if Y.shape[1] == 1:
            Y = Y.ravel()
        return self._label_binarizer.inverse_transform(Y)

    def _output_to_prediction(self, output):
        y_type = self._label_binarizer.y_type_
        if y_type == "multiclass":
            return self.classes_.take(output.argmax(axis=1))
        if y_type == "binary":
            # LabelBinarizer's rule: the positive class where p > (1 + 0) / 2
            return self.classes_.take((output[:, 0] > 0.5).astype(np.intp))
        return self._label_binarizer.inverse_transform(output)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        return self._output_to_prediction(self._validated_forward(X))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, columns in the order of `classes_`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
        """
        output = self._validated_forward(X)
        if self.n_outputs_ == 1:
            return np.hstack([1 - output, output])
        return output

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Logarithm of `predict_proba`."""
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
        """One epoch over the given data, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array of shape (n_classes,), default=None
            All the classes; required on the first call, and when given later it
            must be the same.

        Returns
        -------
        self : object
        """
        if getattr(self, "classes_", None) is None and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        first_call = False
        if classes is not None:
            if getattr(self, "classes_", None) is not None:
                if not np.array_equal(self.classes_, unique_labels(classes)):
                    raise ValueError(
                        f"`classes={classes!r}` is not the same as on last call to "
                        f"partial_fit, was: {self.classes_!r}"
                    )
            else:
                first_call = True
                self.classes_ = unique_labels(classes)
        if first_call:
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
            try:
                _validation.check_two_classes(self._label_binarizer, type(self).__name__)
            except ValueError:
                del self.classes_
                raise
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, trained by backpropagation in compiled code.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`.  The
    parameters are MLPClassifier's, plus:

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        Half squared error with an identity output, or half Poisson deviance with an
        exponential output (y must be >= 0).

    All other parameters, including bpcore's own (init, dropout, clip_norm,
    clip_value, param_change_tol, callbacks), are MLPClassifier's; see its
    documentation.

    Attributes
    ----------
    out_activation_ : str
        'identity' or 'exp'.
    (the other attributes are MLPClassifier's, without classes_)
    """

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
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            init=init,
            dropout=dropout,
            clip_norm=clip_norm,
            clip_value=clip_value,
            param_change_tol=param_change_tol,
            callbacks=callbacks,
        )

    @staticmethod
    def _score_function(y, y_pred, sample_weight=None):
        return r2_score(y, y_pred, sample_weight=sample_weight)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson":
            _validation.check_poisson_target(y)
        return X, y, None

    def _decode(self, Y):
        return Y.ravel() if Y.shape[1] == 1 else Y

    def _output_to_prediction(self, output):
        return output.ravel() if output.shape[1] == 1 else output

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict the targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        return self._output_to_prediction(self._validated_forward(X))

    @available_if(lambda est: est._check_solver())
    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> MLPRegressor:
        """One epoch over the given data, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
