"""Layer sizes -> the flat parameter buffer, and `coefs_` / `intercepts_` as views of it.

All weights and biases live in one contiguous vector, in scikit-learn's packing
order: every layer's coefficient matrix (row-major, n_in x n_out), then every
layer's intercept.  The optimizer steps, L-BFGS and gradient checks work on that
vector; `coefs_[l]` and `intercepts_[l]` are views into it, so editing them in
place edits the model.
"""

import numpy as np
import scipy.sparse as sp

# The kernels' codes come from their enums (_network.ACTIVATION_CODES, LOSS_CODES).
OUTPUT_ACTIVATIONS = {
    "squared_error": "identity",
    "binary_log_loss": "logistic",
    "log_loss": "softmax",
    "poisson": "exp",
    "absolute_error": "identity",
    "huber": "identity",
    "quantile": "identity",
}


def param_slices(layer_units):
    """Per layer, ((start, stop, shape) of the coefs, (start, stop) of the intercepts)."""
    pairs = list(zip(layer_units[:-1], layer_units[1:]))
    coef_slices, start = [], 0
    for n_in, n_out in pairs:
        coef_slices.append((start, start + n_in * n_out, (n_in, n_out)))
        start += n_in * n_out
    intercept_slices = []
    for _, n_out in pairs:
        intercept_slices.append((start, start + n_out))
        start += n_out
    return coef_slices, intercept_slices


NORMALIZATIONS = (None, "batch", "layer")


def n_params(layer_units, normalization=None):
    """Entries of the flat buffer: the weights and biases, then normalization's."""
    base = sum(a * b + b for a, b in zip(layer_units[:-1], layer_units[1:]))
    return base + sum(stop - start for _, slices in norm_slices(layer_units, normalization)
                      for start, stop in slices)


def norm_slices(layer_units, normalization):
    """Where a normalized net keeps its other parameters, after every intercept:
    [(name, [(start, stop) per hidden layer]), ...] for 'norm_scales' (γ) and 'norm_shifts' (β),
    each layer's γ then β; then for batch normalization 'running_means' and
    'running_vars', each layer's mean then variance.  Empty without normalization."""
    if normalization is None:
        return []
    hidden = list(layer_units[1:-1])
    start = sum(a * b + b for a, b in zip(layer_units[:-1], layer_units[1:]))
    pairs = [("norm_scales", "norm_shifts")] + ([("running_means", "running_vars")]
                                      if normalization == "batch" else [])
    result = []
    for first, second in pairs:
        a, b = [], []
        for units in hidden:
            a.append((start, start + units))
            b.append((start + units, start + 2 * units))
            start += 2 * units
        result += [(first, a), (second, b)]
    return result


def norm_views(flat, layer_units, normalization):
    """{'norm_scales': [γ per hidden layer], ...} viewing the flat buffer."""
    return {name: [flat[a:b] for a, b in slices]
            for name, slices in norm_slices(layer_units, normalization)}


def initial_norm_params(layer_units, normalization):
    """The normalization part of a new buffer: γ = 1, β = 0, running mean 0 and
    running variance 1 (as torch starts them)."""
    starts = {"norm_scales": 1.0, "norm_shifts": 0.0, "running_means": 0.0, "running_vars": 1.0}
    base = sum(a * b + b for a, b in zip(layer_units[:-1], layer_units[1:]))
    values = np.empty(n_params(layer_units, normalization) - base)
    for name, slices in norm_slices(layer_units, normalization):
        for a, b in slices:
            values[a - base:b - base] = starts[name]
    return values


def views(flat, layer_units):
    """`coefs_` and `intercepts_` lists viewing the flat buffer."""
    coef_slices, intercept_slices = param_slices(layer_units)
    coefs = [flat[a:b].reshape(shape) for a, b, shape in coef_slices]
    intercepts = [flat[a:b] for a, b in intercept_slices]
    return coefs, intercepts


def pack(coefs, intercepts, dtype):
    """A new flat buffer holding copies of the given arrays."""
    return np.concatenate(
        [np.asarray(a, dtype=dtype).ravel() for a in list(coefs) + list(intercepts)]
    )


_NO_INDEX = np.empty(0, dtype=np.intp)


def kernel_input(X, dtype):
    """(values, indices, indptr) as the kernels take X.

    Dense: the C-ordered array raveled (no copy when it already is C-ordered of the
    right dtype) and empty index arrays.  Sparse: CSR (CSC is converted once) with
    intp indices; never densified.
    """
    if sp.issparse(X):
        X = X.tocsr()
        return (
            np.ascontiguousarray(X.data, dtype=dtype),
            np.ascontiguousarray(X.indices, dtype=np.intp),
            np.ascontiguousarray(X.indptr, dtype=np.intp),
        )
    return np.ascontiguousarray(X, dtype=dtype).reshape(-1), _NO_INDEX, _NO_INDEX
