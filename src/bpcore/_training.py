"""The solvers' loops: mini-batch epochs for 'sgd' and 'adam', scipy's L-BFGS-B.

Both train a private copy of the parameters through an Engine and publish a new
ModelState on the estimator when they have a model: the stochastic loop after every
complete epoch (so a concurrent predict, a callback, Ctrl-C and divergence all see
the last complete epoch), L-BFGS at its end.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from . import _stopping, _validation
from ._engine import Engine, OptimizerState, TrainingData
from ._history import Progress, epoch_info, run_callbacks


class TrainingDivergedWarning(RuntimeWarning):
    """The loss or the gradient became non-finite; the last finite weights were kept."""


NON_FINITE_MESSAGE = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message, category=UserWarning):
    """warnings.warn attributed to the first caller outside bpcore: the user's line that
    called fit, whatever the path through the package."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def batch_size_for(estimator, n_samples):
    if estimator.batch_size == "auto":
        return min(200, n_samples)
    if estimator.batch_size == "full":
        return n_samples
    if estimator.batch_size > n_samples:
        warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
    return int(np.clip(estimator.batch_size, 1, n_samples))


def split_validation(estimator, layout, X, Y, sample_weight, validation=None):
    """(X, Y, sample_weight) to train on and the Validation of the fit: fit's X_val /
    y_val when given, else early stopping's split of the data (or None)."""
    if validation is not None or not estimator.early_stopping:
        return X, Y, sample_weight, validation
    # stratified as scikit-learn does: only single-column (binary) targets
    # on the binarized labels as booleans, as scikit-learn (so its messages name True/False)
    stratify = Y.astype(bool) if (estimator._is_classifier() and Y.shape[1] == 1) else None
    arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
    split = train_test_split(*arrays, random_state=estimator._random_state,
                             test_size=estimator.validation_fraction, stratify=stratify)
    X_train, X_val, Y_train, Y_val = split[:4]
    sw_train, sw_val = (split[4], split[5]) if sample_weight is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size of "
            "your dataset."
        )
    validation = _stopping.Validation(X_val, Y_val, estimator._decode(Y_val, layout), sw_val)
    return X_train, np.ascontiguousarray(Y_train), sw_train, validation


def _continue_history(est, has_validation):
    """The stochastic history a continued fit appends to, when the model so far was
    fitted by L-BFGS, or with early stopping or validation data set otherwise
    (warm_start, partial_fit)."""
    if not isinstance(est.__dict__.get("loss_curve_"), list):
        est.loss_curve_ = []
    validating = est.early_stopping or has_validation
    if validating and not isinstance(est.__dict__.get("validation_scores_"), list):
        est.validation_scores_, est.validation_loss_curve_ = [], []
        est.best_validation_score_ = -np.inf
        est._no_improvement_count = 0
    if not validating:
        est.validation_scores_ = est.validation_loss_curve_ = est.best_validation_score_ = None
    if est.early_stopping:
        est.best_loss_ = None
    elif est.__dict__.get("best_loss_") is None:
        est.best_loss_ = min(est.loss_curve_, default=np.inf)
        est._no_improvement_count = 0


def fit_stochastic(estimator, layout, params, X, Y, sample_weight, incremental, first_pass,
                   validation=None):
    """Epochs of mini-batch SGD or Adam on `params` (a private buffer), from `layout`."""
    est = estimator
    averaging = est.ema_decay is not None
    optimizer = est.__dict__.get("_optimizer")
    if not incremental or optimizer is None or not optimizer.fits(
            est.solver, params.size, params.dtype, averaging):
        # a new fit, or the solver, the layout, the dtype or averaging changed between
        # partial_fits
        optimizer = OptimizerState(est.solver, params.size, params.dtype,
                                   est.learning_rate_init, average=averaging)
    elif averaging and optimizer.trained is not None:
        # partial_fit goes on from the trained parameters behind the published average,
        # unless the model was edited since: then from the edits, averaged afresh
        if np.array_equal(params, optimizer.averaged):
            params[:] = optimizer.trained
        else:
            optimizer.average[:] = params
    est._optimizer = optimizer
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    _continue_history(est, validation is not None)
    X, Y, sample_weight, validation = split_validation(est, layout, X, Y, sample_weight,
                                                       validation)
    n_samples = X.shape[0]
    batch_size = batch_size_for(est, n_samples)
    if layout.normalization == "batch" and batch_size < 2:
        raise ValueError(
            f"normalization='batch' needs batches of at least 2 rows; n_samples={n_samples} "
            "makes batches of 1.")
    dropout = _validation.dropout_rates(est.dropout, len(layout.layer_units) - 2)
    data = TrainingData.from_arrays(X, est._training_targets(Y, layout), sample_weight,
                                    params.dtype)
    engine = Engine(layout, params, data, alpha=est.alpha, batch_size=batch_size,
                    dropout=dropout, shuffled=est.shuffle)
    history = est._layer_history
    order = np.arange(n_samples, dtype=np.intp)
    # partial_fit runs one epoch per call: its bar counts that one
    progress = Progress(est.verbose, est.progress_bar, 1 if incremental else est.max_iter)
    published = est.__dict__.get("_state") if not first_pass else None

    try:
        est.n_iter_ = 0
        for _ in range(est.max_iter):
            started = time.perf_counter()
            if est.shuffle:
                # the permutation sklearn.utils.shuffle draws (same swaps, same stream)
                est._random_state.shuffle(order)
            # drawn only with dropout, so that the random stream stays scikit-learn's
            seed = int(est._random_state.randint(0, 2**62)) if any(dropout) else 0
            before = params.copy() if est.param_change_tol is not None else None
            stats = engine.run_epoch(optimizer, optimizer.config(est, engine.steps_per_epoch),
                                     order if est.shuffle else None, seed)
            if not stats.diverged and not (np.isfinite(params).all() and (
                    not averaging or np.isfinite(optimizer.average).all())):
                # every loss and gradient was finite, but a step overflowed the weights
                stats.diverged = stats.weights_overflowed = True
            if stats.n_batches == 0 and not stats.diverged:
                raise ValueError(
                    "No batch of this epoch could be trained: each had sample weights summing "
                    "to 0" + (", or fewer than two rows of positive weight, which batch "
                              "normalization needs (use a larger batch_size, or "
                              "normalization='layer')" if layout.normalization == "batch"
                              else "") + ".")
            if stats.diverged:
                if published is None:
                    raise ValueError(NON_FINITE_MESSAGE)
                progress.close()          # the warning on a line of its own, after the bar
                _warn_diverged(est, stats, validation)
                break
            est.n_iter_ += 1
            est.t_ += n_samples
            # the model: the trained parameters, or their moving average
            model = optimizer.average if averaging and optimizer.step > 0 else params
            published = est._publish(layout, model.copy())
            est.loss_ = est._reported_loss(stats.data_loss, stats.penalty, layout) / n_samples
            est.loss_curve_.append(est.loss_)
            history.record(stats)
            if progress.lines:
                progress.message("Iteration %d, loss = %.8f" % (est.n_iter_, est.loss_))
            _stopping.record_epoch(est, published, validation, est._best_params, progress.message)
            if est.solver == "sgd" and est.learning_rate == "invscaling":
                optimizer.learning_rate = (float(est.learning_rate_init)
                                           / (est.t_ + 1) ** est.power_t)
            if est.lr_schedule == "plateau":
                monitored = est.validation_loss_curve_[-1] if validation is not None else est.loss_
                _stopping.plateau_step(est, optimizer, monitored, progress.message)
            info = None
            if est.callbacks or progress.active:
                info = epoch_info(est, history, stats.learning_rate,
                                  time.perf_counter() - started)
                if progress.active:
                    progress.update(info)
            stop = _stopping.no_improvement_stop(est, optimizer, est.early_stopping,
                                                 progress.message)
            if before is not None and _stopping.parameters_settled(
                    est, before, params, progress.message):
                stop = True
            if info is not None and run_callbacks(est, info):
                stop = True
            if est.callbacks:
                # what a callback did to coefs_ / intercepts_ (a constraint, a reset)
                # is what the next epoch trains (and averages)
                edited = est._state.current_params()
                if not np.array_equal(edited, model):
                    params[:] = edited
                    if averaging:
                        optimizer.average[:] = edited
            if stop or incremental:
                break
            if est.n_iter_ == est.max_iter:
                progress.close()
                warn(
                    "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                    "optimization hasn't converged yet." % est.max_iter,
                    ConvergenceWarning)
    except KeyboardInterrupt:
        if published is None:
            published = est._publish(layout, layout.params)
        progress.close()
        warn(
            "Training interrupted by user. The weights of the last completed epoch "
            f"({est.n_iter_}) were kept.")
    finally:
        progress.close()
        history.publish(est)

    if est.early_stopping and validation is not None and est.n_iter_ > 0:
        if np.isfinite(est.best_validation_score_):
            # the best epoch's weights
            est._publish(layout, est._best_params.copy())
        else:
            warn(
                "Early stopping found no finite validation score in any epoch (see "
                "scoring and validation_scores_); the weights of the last epoch were kept.",
                UserWarning)
    if averaging and est.__dict__.get("_optimizer") is optimizer:
        optimizer.trained, optimizer.averaged = params, est._state.current_params().copy()


def _warn_diverged(est, stats, validation):
    """Keep the last complete epoch's model, forget the poisoned optimizer state, warn."""
    est._optimizer = None
    if validation is not None:
        # the diverged epoch's validation score, as scikit-learn records it
        est.validation_scores_.append(np.nan)
        est.validation_loss_curve_.append(np.nan)
    last = stats.last_layer_squares
    norms = np.sqrt(np.where(np.isfinite(last), last, np.inf))
    layer = int(np.argmax(norms))
    what = ("a step made the weights non-finite (the loss and the gradient were finite)"
            if stats.weights_overflowed else "the loss or the gradient became non-finite")
    warn(
        f"Training diverged in epoch {est.n_iter_ + 1}"
        f"{'' if stats.weights_overflowed else f', batch {stats.n_batches}'}: {what}; "
        f"layer {layer} (coefs_[{layer}]) had the largest "
        f"gradient norm ({norms[layer]:.3g}). The weights from the end of epoch "
        f"{est.n_iter_} were kept. Lower learning_rate_init, scale the inputs or the "
        "targets, or set clip_norm.",
        TrainingDivergedWarning)


def fit_lbfgs(estimator, layout, params, X, Y, sample_weight):
    """scipy's L-BFGS-B on the flat vector, every row one batch (X never densified)."""
    est = estimator
    data = TrainingData.from_arrays(X, est._training_targets(Y, layout), sample_weight,
                                    params.dtype)
    engine = Engine(layout, params, data, alpha=est.alpha, batch_size=data.n_samples)
    result = scipy.optimize.minimize(
        engine.objective,
        params.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol},
    )
    if not np.isfinite(result.x).all():
        raise ValueError(NON_FINITE_MESSAGE)
    params[:] = result.x
    est.n_iter_ = min(result.nit, est.max_iter)
    est._layer_history.publish(est)   # none per epoch: L-BFGS has no epochs
    # batch normalization: the statistics it trained with become the running ones
    data_loss, penalty = engine.gradient(set_running=layout.normalization == "batch")
    est.loss_ = est._reported_loss(data_loss, penalty, layout)
    if est.verbose:
        print(f"L-BFGS: {est.n_iter_} iterations, loss = {est.loss_:.8f}")
    if result.status != 0:
        message = result.message
        if isinstance(message, bytes):
            message = message.decode("latin1")
        warn(
            f"lbfgs failed to converge after {result.nit} iteration(s) "
            f"(status={result.status}): {message}. Increase max_iter or max_fun, or "
            "scale the data.",
            ConvergenceWarning)
    est._publish(layout, params)
