"""The Engine: everything training holds between the estimator and the kernels.

An Engine is built from a model's layout, a parameter buffer it trains in place
(never the published model's own buffer), the training data and the options.  It
owns the kernels' Network, the workspace, the gradient buffer, the per-layer
statistics and the thread governor's state, and makes the calls into
`_network` with them:

    engine.run_epoch(optimizer, config, order, seed)   one epoch of mini-batches
    engine.objective(theta)                            J and ∂J/∂θ for L-BFGS
    engine.gradient(dropout_seed)                      J and ∂J/∂θ at the buffer

The optimizer's state (velocity, Adam's moments and step count, the current rate)
lives in an `OptimizerState`, which the estimator keeps across `partial_fit` calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _layout, _network
from ._threads import effective_n_threads

STOCHASTIC_SOLVERS = ("sgd", "adam")


@dataclass
class TrainingData:
    """Inputs and targets as the kernels take them."""

    X: object                # (values, indices, indptr), see _layout.kernel_input
    Y: np.ndarray            # (n_samples, n_outputs), C-ordered, the model's dtype
    sample_weight: np.ndarray  # (n_samples,) or (0,) for unit weights
    sparse: bool

    @classmethod
    def from_arrays(cls, X, Y, sample_weight, dtype):
        weights = (np.empty(0, dtype=dtype) if sample_weight is None
                   else np.ascontiguousarray(sample_weight, dtype=dtype))
        inputs = _layout.kernel_input(X, dtype)
        return cls(inputs, np.ascontiguousarray(Y, dtype=dtype), weights,
                   sparse=inputs[2].size > 0)

    @property
    def n_samples(self):
        return self.Y.shape[0]


class OptimizerState:
    """A stochastic solver's state over the flat parameter vector: the velocity or
    Adam's moments, the step count, the current base rate and, when asked for, the
    parameters' moving average (`average`, None when off)."""

    def __init__(self, solver, n_params, dtype, learning_rate, average=False):
        self.solver = solver
        self.learning_rate = float(learning_rate)
        self.step = 0                     # steps taken: Adam's t, the schedule's index
        self.state_1 = np.zeros(n_params, dtype=dtype)       # velocity, or Adam's m
        self.state_2 = (np.zeros(n_params, dtype=dtype) if solver == "adam"
                        else np.empty(0, dtype=dtype))       # Adam's v
        self.average = np.zeros(n_params, dtype=dtype) if average else None
        self.plateau = None               # the reduce-on-plateau rule's state
        # with an average: the trained parameters behind it and the average published
        # at the end of the last fit (partial_fit continues from them)
        self.trained = self.averaged = None

    def fits(self, solver, n_params, dtype, average=False):
        """True when this state can continue training with `solver` on such a buffer."""
        return (self.solver == solver and self.state_1.size == n_params
                and self.state_1.dtype == dtype and (self.average is not None) == average)

    def config(self, estimator, steps_per_epoch=1):
        """The kernel's OptimizerConfig for the next epoch."""
        schedule = estimator.lr_schedule
        total = max(1, int(estimator.max_iter) * int(steps_per_epoch))
        warmup = float(estimator.warmup_epochs) * steps_per_epoch
        if schedule == "one_cycle" and estimator.warmup_epochs == 0:
            warmup = 0.3 * total          # torch's OneCycleLR pct_start
        if schedule == "cosine":
            warmup = min(warmup, total - 1)
        if schedule not in _network.SCHEDULE_CODES:
            schedule = "constant"   # None, and 'plateau', which moves the base rate between epochs
        return {
            "kind": 0 if self.solver == "sgd" else 1,
            "learning_rate": self.learning_rate,
            "momentum": float(estimator.momentum),
            "nesterov": bool(estimator.nesterovs_momentum),
            "beta_1": float(estimator.beta_1),
            "beta_2": float(estimator.beta_2),
            "epsilon": float(estimator.epsilon),
            "clip_norm": float(estimator.clip_norm or 0.0),
            "clip_value": float(estimator.clip_value or 0.0),
            "weight_decay": float(estimator.weight_decay),
            "schedule": _network.SCHEDULE_CODES[schedule],
            "warmup_steps": warmup,
            "total_steps": float(total),
            "ema_decay": float(estimator.ema_decay or 0.0),
        }


@dataclass
class EpochStats:
    """What one epoch reports."""

    data_loss: float         # Σ over batches of n_batch · (batch's data term)
    penalty: float           # Σ over batches of n_batch · (batch's L2 term)
    n_batches: int
    diverged: bool           # the last batch's loss or gradient was not finite
    layer_squares: np.ndarray  # per layer Σ over batches of ‖∂J/∂θˡ‖²
    last_layer_squares: np.ndarray  # the same for the last batch run
    alive: np.ndarray        # per hidden unit: had a positive output (relu-like)
    learning_rate: float     # the last step's scheduled rate
    weight_squares: np.ndarray  # per layer ‖Wˡ‖² at the end of the epoch
    weights_overflowed: bool = False  # finite losses and gradients, non-finite weights


class Engine:
    """Training buffers and calls for one model layout and one data set.

    Parameters
    ----------
    state : ModelState
        The layout (its parameters are not touched).
    params : ndarray
        The buffer to train, in place.
    data : TrainingData
    alpha : float
    batch_size : int
        Rows per batch (the workspace's capacity).
    dropout : list of float or None
    shuffled : bool
        Batches visit the rows in a given order (dense rows are then gathered).
    """

    def __init__(self, state, params, data, *, alpha, batch_size, dropout=None, shuffled=False):
        self.data = data
        self.params = params
        self.net = state.network(
            effective_n_threads(), alpha=float(alpha), batch_capacity=batch_size,
            dropout=dropout, stages_input=shuffled and not data.sparse,
        )
        self.batch_size = batch_size
        self.workspace = np.empty(self.net.train_workspace_size, dtype=params.dtype)
        self.grads = np.empty_like(params)
        n_layers = len(state.layer_units) - 1
        self._layer_stats = np.zeros(3 * n_layers)
        self._alive = np.zeros(self.net.n_hidden_units, dtype=np.uint8)
        self._governor = np.zeros(8)   # the thread governor's state, across epochs
        self._no_order = np.empty(0, dtype=np.intp)
        self._no_average = np.empty(0, dtype=params.dtype)

    @property
    def steps_per_epoch(self):
        """Batches in one epoch over the data."""
        return -(-self.data.n_samples // self.batch_size)

    def run_epoch(self, optimizer, config, order=None, dropout_seed=0):
        """One epoch of mini-batches over the data, in `order` (None: as stored)."""
        data = self.data
        self._alive[:] = 0
        average = optimizer.average if optimizer.average is not None else self._no_average
        data_loss, penalty, step, n_batches, diverged, rate = _network.train_epoch(
            self.net, *data.X, data.Y, data.sample_weight,
            self._no_order if order is None else order, self.batch_size,
            self.params, self.grads, optimizer.state_1, optimizer.state_2, average,
            self.workspace, config, optimizer.step, dropout_seed, self._layer_stats,
            self._alive, self._governor,
        )
        if not diverged:
            optimizer.step = step
        stats = self._layer_stats.reshape(3, -1).copy()
        return EpochStats(data_loss, penalty, n_batches, diverged, stats[0], stats[1],
                          self._alive.copy(), rate, stats[2])

    def gradient(self, dropout_seed=None, set_running=False):
        """(data term, L2 term) of J over all rows as one batch at the buffer; the
        gradient is left in `grads`, every layer's Aˡ and δˡ in the workspace.  With
        `set_running`, batch normalization's running statistics in the buffer become
        those of all rows."""
        data = self.data
        return _network.loss_gradient(self.net, *data.X, data.Y, data.sample_weight,
                                      self.params, self.grads, self.workspace, dropout_seed,
                                      set_running)

    def objective(self, theta, dropout_seed=None):
        """(J, ∂J/∂θ as a new float64 array) at θ: for scipy's L-BFGS (which hands
        float64) and finite-difference checks (with dropout_seed, fixed masks)."""
        self.params[:] = theta
        data_loss, penalty = self.gradient(dropout_seed)
        return data_loss + penalty, self.grads.astype(np.float64)

    def layer_activations(self, n_rows):
        """Each layer's Aˡ and δˡ (copies) left in the workspace by `gradient`; an
        ensemble's are (n_rows, members, units)."""
        layout = self.net.workspace_layout()
        k = self.net.members
        shape = (lambda units: (n_rows, k, units)) if k > 1 else (lambda units: (n_rows, units))
        pick = lambda start, units: self.workspace[start:start + n_rows * k * units].reshape(
            shape(units)).copy()
        return ([pick(p["A"], p["units"]) for p in layout],
                [pick(p["delta"], p["units"]) for p in layout])


def objective_at_outputs(state, output, Y, sample_weight, alpha, params):
    """(data term, L2 term) of J for given network outputs (a validation loss)."""
    net = state.network(1, alpha=float(alpha))
    weights = (np.empty(0, dtype=output.dtype) if sample_weight is None
               else np.ascontiguousarray(sample_weight, dtype=output.dtype))
    Y = np.ascontiguousarray(np.asarray(Y, dtype=output.dtype).reshape(output.shape))
    return _network.output_objective(net, output, Y, weights, params)
