"""Backpropagation made visible: the loss and every layer's gradients for given data, and
a check of those gradients against finite differences.

    from bpcore import loss_gradient, check_gradients
    grads = loss_gradient(model, X, y, return_layers=True)
    grads.coef_grads[0]           # ∂J/∂W¹, the shape of model.coefs_[0]
    grads.deltas[-1]              # δᴸ = ∂J/∂Zᴸ for every sample
    print(check_gradients(model, X[:20], y[:20]))

The objective is J = Σᵢ sᵢ ℓ(aᴸᵢ, yᵢ) / Σᵢ sᵢ + α ‖W‖² / (2 Σᵢ sᵢ), computed over the
given rows as one batch by the same compiled kernels that train the model.  Finite
differences need two forward passes per parameter; backpropagation one backward pass
for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import _check_sample_weight, column_or_1d, validate_data

from . import _layout, _validation
from ._engine import Engine, TrainingData
from ._threads import blas_single_threaded


@dataclass
class Gradients:
    """The objective and its gradient at a model's current weights.

    Attributes
    ----------
    loss : float
        J, data term plus L2 penalty (for several squared-error outputs this is not
        divided by the number of outputs, unlike ``loss_``: it is the function the
        gradient belongs to).
    coef_grads, intercept_grads : list of ndarray
        ∂J/∂Wˡ and ∂J/∂bˡ, shaped as ``coefs_`` and ``intercepts_``.
    other_grads : dict
        The gradients of the other trained parameters, by attribute name without the
        trailing underscore, shaped as the attributes: 'norm_scales', 'norm_shifts'
        (normalization), 'member_input_scales', 'member_output_scales' (ensembles),
        'embedding_frequencies', 'embedding_weights', 'embedding_biases' (embeddings).
    activations : list of ndarray or None
        ``[X, A¹, ..., Aᴸ]`` (with ``return_layers=True``); hidden layers after dropout
        when a dropout seed was given; an ensemble's Aˡ are (n_samples, n_members,
        units).
    deltas : list of ndarray or None
        ``[δ¹, ..., δᴸ]``, δˡ = ∂J/∂Zˡ times Σᵢ sᵢ (per-sample errors, unscaled);
        shaped as the activations.
    """

    loss: float
    coef_grads: list
    intercept_grads: list
    activations: list | None = None
    deltas: list | None = None
    other_grads: dict = field(default_factory=dict)


def _targets(model, state, y, n_samples, dtype):
    """y checked as fit checks it, as the network's (n_samples, n_outputs) targets."""
    if state.encoder is not None:
        y = np.asarray(y)
        if not state.encoder.y_type_.startswith("multilabel"):
            y = column_or_1d(y)
            unseen = np.setdiff1d(unique_labels(y), state.encoder.classes_)
            if unseen.size:
                raise ValueError(f"y has labels the model does not know: {unseen.tolist()}; "
                                 f"classes_ is {state.encoder.classes_.tolist()}.")
        Y = state.encoder.transform(y)
    else:
        Y = np.asarray(y, dtype=dtype)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if model.loss == "poisson":
            _validation.check_poisson_target(Y)
        if state.n_quantiles > 1 and Y.shape[1] * state.n_quantiles == state.n_outputs:
            Y = np.repeat(Y, state.n_quantiles, axis=1)     # each target once per quantile
    if Y.ndim != 2 or Y.shape != (n_samples, state.n_outputs):
        raise ValueError(f"y has shape {np.shape(y)}; this model needs {n_samples} rows of "
                         f"{state.n_outputs} output(s).")
    return np.asarray(Y, dtype=dtype)


def _engine(model, X, y, sample_weight, dtype, dropout_seed):
    """An Engine over the given rows as one batch, on a copy of the model's parameters
    in `dtype`, and the validated X."""
    state = model._fitted_state()
    X = validate_data(model, X, reset=False, accept_sparse=["csr", "csc"],
                      dtype=(np.float64, np.float32))
    if X.shape[1] != state.n_features:
        raise ValueError(f"X has {X.shape[1]} features; the model takes {state.n_features}.")
    Y = _targets(model, state, y, X.shape[0], dtype)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
    dropout = (_validation.dropout_rates(model.dropout, len(state.layer_units) - 2)
               if dropout_seed is not None else None)
    params = state.current_params().astype(dtype)
    data = TrainingData.from_arrays(X, Y, sample_weight, dtype)
    if not np.isfinite(data.X[0]).all():
        raise ValueError(f"X holds values beyond the range of {np.dtype(dtype)}, the dtype "
                         "this model computes in.")
    engine = Engine(state, params, data, alpha=model.alpha, batch_size=X.shape[0],
                    dropout=dropout)
    return engine, state, X


def loss_gradient(model, X, y, sample_weight=None, *, return_layers=False, dropout_seed=None):
    """The loss and every layer's weight and bias gradients at the model's weights.

    Parameters
    ----------
    model : fitted bpcore MLPClassifier or MLPRegressor
    X : array-like or sparse matrix of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels (classifier) or targets (regressor), as for ``fit``.
    sample_weight : array-like of shape (n_samples,), default=None
    return_layers : bool, default=False
        Also return every layer's activations and errors δ.
    dropout_seed : int, default=None
        Apply the model's dropout with the masks this seed fixes (None: no dropout, as
        at prediction time).

    Returns
    -------
    Gradients
    """
    dtype = model._fitted_state().dtype
    engine, state, X = _engine(model, X, y, sample_weight, dtype, dropout_seed)
    with blas_single_threaded():
        data_loss, penalty = engine.gradient(dropout_seed)
    grads = engine.grads.copy()
    coef_grads, intercept_grads = _layout.views(grads, state.layer_units, state.members)
    others = {name: views for name, views in _layout.group_views(
                  grads, state.layer_units, state.normalization, state.embedding,
                  state.members).items()
              if not name.startswith("running")}      # not trained: no gradient
    result = Gradients(float(data_loss + penalty), coef_grads, intercept_grads,
                       other_grads=others)
    if return_layers:
        activations, result.deltas = engine.layer_activations(X.shape[0])
        result.activations = [X] + activations
    return result


@dataclass
class GradientCheck:
    """Backpropagation's gradient against central finite differences, layer by layer.

    Attributes
    ----------
    layers : list of dict
        Per layer (its weights and bias together): ``layer``; ``n_checked``, the entries
        compared; ``max_relative_error``, the worst entry's error relative to the
        layer's gradient scale, max |gᵢ - dᵢ| / max(max |g|, max |d|);
        ``relative_error``, ‖g - d‖ / max(‖g‖, ‖d‖); ``max_absolute_error``.
    step : float
        The finite-difference step h: (J(θ + h eᵢ) - J(θ - h eᵢ)) / 2h.
    """

    layers: list = field(default_factory=list)
    step: float = 0.0

    @property
    def max_relative_error(self):
        return max(layer["max_relative_error"] for layer in self.layers)

    def __str__(self):
        lines = [f"gradient check, central differences with h = {self.step:g}",
                 f"{'layer':>5} {'checked':>8} {'worst entry':>12} {'norm-wise':>10} "
                 f"{'max abs.':>10}"]
        for layer in self.layers:
            lines.append(f"{layer['layer']:>5} {layer['n_checked']:>8} "
                         f"{layer['max_relative_error']:>12.2e} {layer['relative_error']:>10.2e} "
                         f"{layer['max_absolute_error']:>10.2e}")
        return "\n".join(lines)


def check_gradients(model, X, y, sample_weight=None, *, step=1e-5, dropout_seed=None,
                    max_checks_per_layer=None, random_state=0):
    """Compare the backward pass with central finite differences of J, layer by layer.

    The check runs in float64 whatever the model's dtype (float32 has too few digits
    for differences).  Errors are measured against each layer's gradient scale, since
    an entry near zero carries the differences' rounding (~1e-16 |J| / h) whole.
    With h = 1e-5 the truncation error (~h²) and the rounding are both ~1e-10, so a
    correct backward pass shows errors of 1e-7 or less.  Keep X small: every checked entry costs two passes over it.  Relu-like activations
    have kinks: an entry whose pre-activation lies within h of 0 can disagree.

    Parameters
    ----------
    model : fitted bpcore MLPClassifier or MLPRegressor
    X, y, sample_weight : the data, as for ``loss_gradient``
    step : float, default=1e-5
    dropout_seed : int, default=None
        Check the dropout path with the fixed masks of this seed.
    max_checks_per_layer : int, default=None
        Compare at most this many entries per layer (chosen at random); None: all.
    random_state : int, default=0
        Chooses the entries when they are sampled.

    Returns
    -------
    GradientCheck
    """
    engine, state, _ = _engine(model, X, y, sample_weight, np.float64, dropout_seed)
    theta = engine.params.copy()

    def objective(point):
        with blas_single_threaded():
            return engine.objective(point, dropout_seed)

    _, grad = objective(theta)
    coef_slices, intercept_slices = _layout.param_slices(state.layer_units, state.members)
    # each layer's other parameters: γ, β, an ensemble's r and s, (the first) embeddings
    extra = [[] for _ in coef_slices]
    for name, parts in _layout.param_groups(state.layer_units, state.normalization,
                                            state.embedding, state.members):
        if name.startswith("running"):
            continue              # no gradient: the running statistics are not trained
        for layer, (a, b, _) in enumerate(parts):
            extra[0 if name.startswith("embedding") else layer].append(np.arange(a, b))
    rng = np.random.default_rng(random_state)
    report = GradientCheck(step=step)
    for layer, ((c0, c1, _), (b0, b1)) in enumerate(zip(coef_slices, intercept_slices)):
        indices = np.concatenate([np.arange(c0, c1), np.arange(b0, b1)] + extra[layer])
        if max_checks_per_layer is not None and indices.size > max_checks_per_layer:
            indices = rng.choice(indices, max_checks_per_layer, replace=False)
        numeric = np.empty(indices.size)
        shifted = theta.copy()
        for k, i in enumerate(indices):
            shifted[i] = theta[i] + step
            up = objective(shifted)[0]
            shifted[i] = theta[i] - step
            down = objective(shifted)[0]
            shifted[i] = theta[i]
            numeric[k] = (up - down) / (2 * step)
        analytic = grad[indices]
        error = np.abs(analytic - numeric)
        tiny = np.finfo(np.float64).tiny
        scale = max(np.abs(analytic).max(), np.abs(numeric).max(), tiny)
        report.layers.append({
            "layer": layer,
            "n_checked": int(indices.size),
            "max_relative_error": float(error.max() / scale),
            "relative_error": float(np.linalg.norm(analytic - numeric)
                                    / max(np.linalg.norm(analytic), np.linalg.norm(numeric), tiny)),
            "max_absolute_error": float(error.max()),
        })
    return report
