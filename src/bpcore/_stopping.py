"""When a stochastic fit stops.

- scikit-learn's rule: the training loss (or, with early stopping, the validation
  score) did not improve by more than ``tol`` for more than ``n_iter_no_change``
  epochs; with ``learning_rate='adaptive'`` the rate is first divided by 5, and the fit
  stops only once it is below 1e-6;
- the parameter-change rule (``param_change_tol=ε``): every parameter moved by less
  than ε during the epoch;
- ``max_iter`` epochs, a callback returning True, divergence, Ctrl-C (in _training).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._engine import objective_at_outputs


class Validation:
    """Held-out data scored after each epoch: the split of early stopping, or fit's
    X_val / y_val (X_raw, y_raw as given, for a user's scorer)."""

    def __init__(self, X, Y, y, sample_weight, X_raw=None, y_raw=None):
        self.X, self.Y, self.y, self.sample_weight = X, Y, y, sample_weight
        self.X_raw = X if X_raw is None else X_raw
        self.y_raw = y if y_raw is None else y_raw

    def evaluate(self, estimator, state):
        """(score, loss) of the published model `state` on the validation data; NaN
        for both when its outputs are not finite.  The score is `scoring`'s: None the
        estimator's own (accuracy, R²), 'loss' the negated loss, else a scorer."""
        output = state.forward(self.X, state.params)
        if output is None or not np.isfinite(output).all():
            return np.nan, np.nan
        data, penalty = objective_at_outputs(state, output, self.Y, self.sample_weight,
                                             estimator.alpha, state.params)
        loss = estimator._reported_loss(data, penalty, state)
        scoring = estimator.scoring
        if scoring is None:
            score = estimator._score_function(
                self.y, estimator._output_to_prediction(output, state),
                sample_weight=self.sample_weight, state=state)
        elif scoring == "loss":
            score = -loss
        else:
            score = self._scorer_score(estimator, scoring)
        return float(score), loss

    def _scorer_score(self, estimator, scoring):
        # a scorer calls the estimator's predict / predict_proba, which run the model
        # published for this epoch
        from sklearn.metrics import check_scoring
        scorer = check_scoring(estimator, scoring=scoring)
        kwargs = {} if self.sample_weight is None else {"sample_weight": self.sample_weight}
        with warnings.catch_warnings():
            # the internal split is a numpy array even when X had column names
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            return scorer(estimator, self.X_raw, self.y_raw, **kwargs)


def record_epoch(estimator, state, validation, best_params, say):
    """Score the validation data (when there is some), update the best model and the
    no-improvement count after an epoch: on the validation score with early stopping,
    on the training loss otherwise."""
    est = estimator
    if validation is not None:
        score, loss = validation.evaluate(est, state)
        est.validation_scores_.append(score)
        est.validation_loss_curve_.append(loss)
        if est.verbose:
            say("Validation score: %f" % score)
        if est.early_stopping:
            if not score >= est.best_validation_score_ + est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            best_params[:] = state.params
        if est.early_stopping:
            return
    loss = est.loss_curve_[-1]
    if loss > est.best_loss_ - est.tol:
        est._no_improvement_count += 1
    else:
        est._no_improvement_count = 0
    if loss < est.best_loss_:
        est.best_loss_ = loss


def plateau_step(estimator, optimizer, value, say):
    """lr_schedule='plateau' after an epoch with monitored value (validation loss, or
    training loss): torch's ReduceLROnPlateau rule (mode 'min', relative threshold
    1e-4): more than plateau_patience epochs without value < best (1 - 1e-4)
    multiply the rate by plateau_factor."""
    est = estimator
    if optimizer.plateau is None:
        optimizer.plateau = [np.inf, 0]
    best, bad = optimizer.plateau
    if value < best * (1 - 1e-4):
        best, bad = value, 0
    else:
        bad += 1
    if bad > est.plateau_patience:
        optimizer.learning_rate *= est.plateau_factor
        bad = 0
        if est.verbose:
            say(f"No improvement for {est.plateau_patience + 1} epochs: learning rate set to "
                f"{optimizer.learning_rate:g}.")
    optimizer.plateau = [best, bad]


def no_improvement_stop(estimator, optimizer, early_stopping, say):
    """True when scikit-learn's rule ends the fit (after the adaptive rate's cuts)."""
    if estimator._no_improvement_count <= estimator.n_iter_no_change:
        return False
    what = "Validation score" if early_stopping else "Training loss"
    msg = "%s did not improve more than tol=%f for %d consecutive epochs." % (
        what, estimator.tol, estimator.n_iter_no_change)
    if estimator.solver == "sgd" and estimator.learning_rate == "adaptive":
        if optimizer.learning_rate > 1e-6:
            optimizer.learning_rate /= 5.0
            if estimator.verbose:
                say(msg + " Setting learning rate to %f" % optimizer.learning_rate)
            estimator._no_improvement_count = 0
            return False
        if estimator.verbose:
            say(msg + " Learning rate too small. Stopping.")
        return True
    if estimator.verbose:
        say(msg + " Stopping.")
    return True


def parameters_settled(estimator, previous, params, say):
    """The parameter-change rule: True when no parameter moved by ε or more."""
    if estimator.param_change_tol is None:
        return False
    change = float(np.max(np.abs(params - previous)))
    if change >= estimator.param_change_tol:
        return False
    if estimator.verbose:
        say("Every parameter changed by less than param_change_tol="
            f"{estimator.param_change_tol:g} (largest change {change:.3g}). Stopping.")
    return True
