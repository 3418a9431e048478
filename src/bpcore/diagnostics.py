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


def _network(model):
    """The model's published state, or a TypeError naming what was given instead."""
    from ._estimators import _BaseMLP

    if not isinstance(model, _BaseMLP):
        if hasattr(model, "steps"):
            raise TypeError(
                "The gradients are those of a bpcore network: pass the Pipeline's final "
                "step and the data its earlier steps make, as in "
                "f(pipeline[-1], pipeline[:-1].transform(X), y).")
        raise TypeError(f"The gradients are those of a bpcore MLPClassifier or MLPRegressor, "
                        f"not of {_validation.class_path(model)}.")
    return model._fitted_state()


def _engine(model, X, y, sample_weight, dtype, dropout_seed):
    """An Engine over the given rows as one batch, on a copy of the model's parameters
    in `dtype` (None: the model's), and the validated X."""
    state = _network(model)
    dtype = state.dtype if dtype is None else dtype
    X = validate_data(model, X, reset=False, accept_sparse=["csr", "csc"],
                      dtype=(np.float64, np.float32))
    if X.shape[1] != state.n_features:
        raise ValueError(f"X has {X.shape[1]} features; the model takes {state.n_features}.")
    Y = _targets(model, state, y, X.shape[0], dtype)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype,
                                             ensure_non_negative=True)
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
    engine, state, X = _engine(model, X, y, sample_weight, None, dropout_seed)
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


# The rounding allowance of a central difference: J is computed to within a few
# units of ε|J| (measured: the difference's error from rounding alone stayed below
# 3 ε|J|/h over every model kind and batch size tried), so (J⁺ - J⁻)/2h carries up to
# about that much noise whatever the gradient's size.  10 leaves a margin.
ROUNDING_FACTOR = 10


@dataclass(repr=False)
class GradientCheck:
    """Backpropagation's gradient against central finite differences, layer by layer.

    Printing it (``print(check)``, or its repr) gives a table with one row per layer
    and a verdict line.

    Attributes
    ----------
    layers : list of dict
        Per layer (its weights, bias and other parameters together; embeddings count
        with layer 0), with ``g`` backpropagation's gradient and ``d`` the central
        difference of each checked entry, and ``scale`` the layer's largest `|g|` or
        `|d|` over the checked entries:

        - ``layer``; ``n_checked`` of ``n_entries``, the entries compared of the
          layer's total;
        - ``max_relative_error``: max `|g - d|` / scale (the worst entry);
        - ``relative_error``: ‖g - d‖ / max(‖g‖, ‖d‖) over the checked entries;
        - ``max_absolute_error``: max `|g - d|`;
        - ``resolution``: the differences' rounding allowance `10 ε |J| / h` over
          scale, the smallest relative error this check can see in the layer (large
          when the layer's gradient is tiny beside J, as in vanishing gradients);
        - ``tolerance``: ``rtol + resolution``, what ``max_relative_error`` is held to;
        - ``n_rechecked``: entries that disagreed at h and were differenced again at
          h/10 (an activation's or a loss's kink within h of the point, or with a
          large step the differences' truncation error, which shrinks as h²);
        - ``passed``: every checked entry within rtol · scale + `10 ε |J| / h`.
    step : float
        The finite-difference step h: d = (J(θ + h eᵢ) - J(θ - h eᵢ)) / 2h.
    rtol : float
        The relative tolerance the check was run with.
    loss : float
        J at the model's weights.
    """

    layers: list = field(default_factory=list)
    step: float = 0.0
    rtol: float = 0.0
    loss: float = 0.0

    @property
    def passed(self):
        """True when every layer passed."""
        return all(layer["passed"] for layer in self.layers)

    @property
    def failed_layers(self):
        """The layers (indices) with an entry beyond the tolerance."""
        return [layer["layer"] for layer in self.layers if not layer["passed"]]

    @property
    def max_relative_error(self):
        """The largest ``max_relative_error`` over the layers."""
        return max(layer["max_relative_error"] for layer in self.layers)

    def __str__(self):
        lines = [f"gradient check: backpropagation g against central differences d, "
                 f"h = {self.step:g}, J = {self.loss:.6g}",
                 f"{'layer':>5} {'checked':>16} {'worst entry':>12} {'tolerance':>10}  verdict"]
        for layer in self.layers:
            checked = f"{layer['n_checked']} of {layer['n_entries']}"
            recheck = (f" ({layer['n_rechecked']} rechecked at h/10)"
                       if layer["n_rechecked"] else "")
            lines.append(f"{layer['layer']:>5} {checked:>16} {layer['max_relative_error']:>12.2e} "
                         f"{layer['tolerance']:>10.2e}  "
                         f"{'ok' if layer['passed'] else 'FAILED'}{recheck}")
        lines.append("worst entry: max |g - d| over the largest |g| or |d| in the layer")
        lines.append(f"tolerance: rtol = {self.rtol:g} plus the rounding allowance "
                     "10 ε |J| / h over the same scale")
        coarse = [layer["layer"] for layer in self.layers if layer["resolution"] > self.rtol]
        if coarse:
            lines.append(f"layer{'s' if len(coarse) > 1 else ''} {_ranges(coarse)}: "
                         "gradients small beside J; the differences' rounding sets the "
                         "tolerance")
            if self.step < 1e-3:
                lines.append("  (a larger step, e.g. step=1e-3, lowers it where the "
                             "activations are smooth)")
        if self.passed:
            lines.append("passed: every checked entry agrees")
        else:
            worst = ", ".join(f"{layer['layer']} ({layer['max_relative_error']:.2e} > "
                              f"{layer['tolerance']:.2e})"
                              for layer in self.layers if not layer["passed"])
            lines.append(f"FAILED: layer{'s' if len(self.failed_layers) > 1 else ''} {worst}")
        return "\n".join(lines)

    __repr__ = __str__


def _ranges(numbers):
    """'0-6, 9' for [0, 1, 2, 3, 4, 5, 6, 9]."""
    parts, first = [], None
    for k, n in enumerate(numbers):
        if first is None:
            first = n
        if k + 1 == len(numbers) or numbers[k + 1] != n + 1:
            parts.append(str(first) if first == n else f"{first}-{n}")
            first = None
    return ", ".join(parts)


def _sample(groups, budget, rng):
    """At most `budget` of the indices in `groups` (arrays), shared out evenly among
    the groups (weights, biases, scales, ...) so that a small group is never left out;
    all of them when they are no more than `budget`."""
    sizes = [group.size for group in groups]
    if budget is None or sum(sizes) <= budget:
        return np.concatenate(groups)
    quota = [0] * len(groups)
    left = budget
    while left:
        for k, size in enumerate(sizes):
            if left and quota[k] < size:
                quota[k] += 1
                left -= 1
    return np.concatenate([rng.choice(group, q, replace=False)
                           for group, q in zip(groups, quota) if q])


def check_gradients(model, X, y, sample_weight=None, *, max_checks_per_layer=50, rtol=1e-6,
                    step=1e-5, dropout_seed=None, random_state=0):
    """Compare the backward pass with central finite differences of J, layer by layer.

    For each checked parameter θᵢ the difference d = (J(θ + h eᵢ) - J(θ - h eᵢ)) / 2h
    is compared with backpropagation's gᵢ = ∂J/∂θᵢ.  An entry agrees when

        `|gᵢ - dᵢ|` ≤ rtol · scale + `10 ε |J| / h`,

    scale being the layer's largest `|g|` or `|d|` over its checked entries (an entry
    near zero carries the differences' rounding whole, so errors are measured against
    the layer's gradient, not the entry's) and `10 ε |J| / h` (ε = 2.2e-16) an allowance
    for the rounding of J in the differences.  An entry that disagrees is differenced
    again at h/10 (allowance ten times larger) and agrees if it does there: a
    relu-like activation's kink, or that of the absolute-error, quantile or Huber
    loss, within h of the point spoils one difference but not both; with a large step
    the recheck also absorbs the differences' truncation error (of order h², a
    hundred times smaller at h/10).  The check passes when every checked entry agrees
    (``GradientCheck.passed``).

    What to expect, measured at h = 1e-5 on fitted models (float64 and float32,
    relu/tanh/logistic/gelu, batch and layer normalization, skip connections,
    ensembles, periodic embeddings; log-loss, squared, Huber, absolute, quantile and
    Poisson losses, dropout): a correct gradient's worst entry differs from the
    difference by 2e-10 to 1.3e-8 of its layer's scale; multiplying one layer's
    gradient by 1 + 1e-3 shows errors of 5e-4 to 1e-3 there, and only there.  The
    default rtol = 1e-6 sits between, with a margin of about 100 on both sides.  In
    a network whose early layers' gradients are tiny beside J (ten logistic layers
    of 32 units on unscaled digits after 5 epochs: 6e-7 against J = 2.3) rounding
    dominates: the errors there, about 1e-4 of the layer's gradient, are rounding,
    the tolerance (about 8e-4) says so, and an error must exceed it to show.
    ``step=1e-3`` lowers the rounding allowance 100-fold when the activations are
    smooth; steps much larger than that let the truncation error (of order h²) exceed
    rtol in the layers whose gradients are largest.

    The check runs in float64 whatever the model's dtype (float32 has too few digits
    for differences): a float32 model's weights are cast to float64 and checked
    through the float64 build of the same kernels.

    Every checked entry costs two passes over X: keep X small (tens of rows).  By
    default at most ``max_checks_per_layer`` entries per layer are compared, drawn
    at random and shared among the layer's weights, biases and other parameters
    (0.1 s for the ten-layer network above on 20 rows); ``max_checks_per_layer=None``
    compares every entry (all 11,914 of that network's: about 2 s).

    Parameters
    ----------
    model : fitted bpcore MLPClassifier or MLPRegressor
    X, y, sample_weight : the data, as for ``loss_gradient``
    max_checks_per_layer : int or None, default=50
        Compare at most this many entries per layer, chosen at random; None: all.
    rtol : float, default=1e-6
        The relative tolerance, against the layer's gradient scale.
    step : float, default=1e-5
        The finite-difference step h.
    dropout_seed : int, default=None
        Check the dropout path with the fixed masks of this seed.
    random_state : int, numpy.random.Generator or None, default=0
        Chooses the entries when they are sampled.

    Returns
    -------
    GradientCheck
        ``passed``, ``failed_layers`` and, per layer, the entries checked, the worst
        relative error, the tolerance and the verdict; ``print`` it for the table.
    """
    if max_checks_per_layer is not None and (
            not isinstance(max_checks_per_layer, (int, np.integer))
            or isinstance(max_checks_per_layer, bool) or max_checks_per_layer < 1):
        raise ValueError("max_checks_per_layer must be a positive int or None; got "
                         f"{max_checks_per_layer!r}.")
    for name, value in (("rtol", rtol), ("step", step)):
        if not (isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
                and np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number; got {value!r}.")
    engine, state, _ = _engine(model, X, y, sample_weight, np.float64, dropout_seed)
    theta = engine.params.copy()
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
    with blas_single_threaded():
        loss, grad = engine.objective(theta, dropout_seed)
        shifted = theta.copy()

        def difference(i, h):
            shifted[i] = theta[i] + h
            up = engine.objective(shifted, dropout_seed)[0]
            shifted[i] = theta[i] - h
            down = engine.objective(shifted, dropout_seed)[0]
            shifted[i] = theta[i]
            return (up - down) / (2 * h)

        floor = ROUNDING_FACTOR * np.finfo(np.float64).eps * abs(loss) / step
        tiny = np.finfo(np.float64).tiny
        report = GradientCheck(step=float(step), rtol=float(rtol), loss=float(loss))
        for layer, ((c0, c1, _), (b0, b1)) in enumerate(zip(coef_slices, intercept_slices)):
            groups = [np.arange(c0, c1), np.arange(b0, b1)] + extra[layer]
            indices = _sample(groups, max_checks_per_layer, rng)
            numeric = np.array([difference(i, step) for i in indices])
            analytic = grad[indices]
            scale = max(np.abs(analytic).max(), np.abs(numeric).max())
            error = np.abs(analytic - numeric)
            allowed = np.full(indices.size, rtol * scale + floor)
            rechecked = np.flatnonzero(error > allowed)
            for k in rechecked:
                finer = abs(analytic[k] - difference(indices[k], step / 10))
                if finer <= rtol * scale + 10 * floor:
                    numeric[k], error[k], allowed[k] = (analytic[k] - finer, finer,
                                                        rtol * scale + 10 * floor)
            report.layers.append({
                "layer": layer,
                "n_checked": int(indices.size),
                "n_entries": int(sum(group.size for group in groups)),
                "max_relative_error": float(error.max() / max(scale, tiny)),
                "relative_error": float(np.linalg.norm(analytic - numeric)
                                        / max(np.linalg.norm(analytic),
                                              np.linalg.norm(numeric), tiny)),
                "max_absolute_error": float(error.max()),
                "resolution": float(floor / max(scale, tiny)),
                "tolerance": float(rtol + floor / max(scale, tiny)),
                "n_rechecked": int(rechecked.size),
                "passed": bool((error <= allowed).all()),
            })
    return report
