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

import numpy as np

from ._engine import objective_at_outputs


class Validation:
    """The held-out data of early stopping, scored after each epoch."""

    def __init__(self, X, Y, y, sample_weight):
        self.X, self.Y, self.y, self.sample_weight = X, Y, y, sample_weight

    def evaluate(self, estimator, state):
        """(score, loss) of the published model on the validation data; NaN for both
        when its outputs are not finite."""
        output = state.forward(self.X, state.params)
        if output is None or not np.isfinite(output).all():
            return np.nan, np.nan
        score = estimator._score_function(
            self.y, estimator._output_to_prediction(output, state), sample_weight=self.sample_weight
        )
        data, penalty = objective_at_outputs(state, output, self.Y, self.sample_weight,
                                             estimator.alpha, state.params)
        return float(score), estimator._reported_loss(data, penalty, state)


def record_epoch(estimator, state, validation, best_params, say):
    """Update the no-improvement count and the best model after an epoch."""
    if validation is not None:
        score, loss = validation.evaluate(estimator, state)
        estimator.validation_scores_.append(score)
        estimator.validation_loss_curve_.append(loss)
        if estimator.verbose:
            say("Validation score: %f" % score)
        if not score >= estimator.best_validation_score_ + estimator.tol:
            estimator._no_improvement_count += 1
        else:
            estimator._no_improvement_count = 0
        if score > estimator.best_validation_score_:
            estimator.best_validation_score_ = score
            best_params[:] = state.params
        return
    loss = estimator.loss_curve_[-1]
    if loss > estimator.best_loss_ - estimator.tol:
        estimator._no_improvement_count += 1
    else:
        estimator._no_improvement_count = 0
    if loss < estimator.best_loss_:
        estimator.best_loss_ = loss


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
