"""Layer sizes -> the flat parameter buffer, and `coefs_` / `intercepts_` as views of it.

All weights and biases live in one contiguous vector, in scikit-learn's packing
order: every layer's coefficient matrix (row-major, n_in x n_out), then every
layer's intercept.  The optimizer steps, L-BFGS and gradient checks work on that
vector; `coefs_[l]` and `intercepts_[l]` are views into it, so editing them in
place edits the model.
"""

import numpy as np
import scipy.sparse as sp

# codes shared with the kernels (_activations.pxd, _losses.pxd)
ACTIVATION_CODES = {
    "identity": 0,
    "logistic": 1,
    "tanh": 2,
    "relu": 3,
    "leaky_relu": 6,
    "elu": 7,
    "gelu": 8,
    "softplus": 9,
    "swish": 10,
}
LOSS_CODES = {"squared_error": 0, "binary_log_loss": 1, "log_loss": 2, "poisson": 3}
OUTPUT_ACTIVATIONS = {
    "squared_error": "identity",
    "binary_log_loss": "logistic",
    "log_loss": "softmax",
    "poisson": "exp",
}
LOSS_OF_OUTPUT = {output: loss for loss, output in OUTPUT_ACTIVATIONS.items()}


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


def n_params(layer_units):
    return sum(a * b + b for a, b in zip(layer_units[:-1], layer_units[1:]))


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


def is_view_of(flat, coefs, intercepts, layer_units):
    """True when every array is the view of `flat` that `views` would make."""
    if flat is None or len(coefs) != len(layer_units) - 1:
        return False
    if len(intercepts) != len(coefs):
        return False
    base = flat.__array_interface__["data"][0]
    item = flat.itemsize
    coef_slices, intercept_slices = param_slices(layer_units)
    for array, (start, _, shape) in zip(coefs, coef_slices):
        if not _is_view_at(array, flat, base + start * item, shape):
            return False
    for array, (start, stop) in zip(intercepts, intercept_slices):
        if not _is_view_at(array, flat, base + start * item, (stop - start,)):
            return False
    return True


def _is_view_at(array, flat, address, shape):
    return (
        isinstance(array, np.ndarray)
        and array.dtype == flat.dtype
        and array.shape == tuple(shape)
        and array.flags.c_contiguous
        and array.__array_interface__["data"][0] == address
        and np.shares_memory(array, flat)
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
