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


def param_slices(layer_units, members=1):
    """Per layer, ((start, stop, shape) of the coefs, (start, stop) of the intercepts);
    an ensemble of K members has K intercepts per layer (K x n_out, member-major)."""
    pairs = list(zip(layer_units[:-1], layer_units[1:]))
    coef_slices, start = [], 0
    for n_in, n_out in pairs:
        coef_slices.append((start, start + n_in * n_out, (n_in, n_out)))
        start += n_in * n_out
    intercept_slices = []
    for _, n_out in pairs:
        intercept_slices.append((start, start + members * n_out))
        start += members * n_out
    return coef_slices, intercept_slices


def intercept_shape(n_out, members=1):
    return (members, n_out) if members > 1 else (n_out,)


NORMALIZATIONS = (None, "batch", "layer")
# the groups that are one array for the whole network (the others: one per layer)
WHOLE_GROUPS = ("embedding_frequencies", "embedding_weights", "embedding_biases")


def _base(layer_units, members=1):
    return sum(a * b + members * b for a, b in zip(layer_units[:-1], layer_units[1:]))


def n_params(layer_units, normalization=None, embedding=None, members=1):
    """Entries of the flat buffer: the weights and biases, then the other groups."""
    return _base(layer_units, members) + sum(b - a for _, parts in param_groups(
        layer_units, normalization, embedding, members) for a, b, _ in parts)


def param_groups(layer_units, normalization=None, embedding=None, members=1):
    """Where the parameters after the intercepts are, in buffer order:
    [(name, [(start, stop, shape), ...]), ...].

    layer_units are the network's (with embeddings (k, d) the first is F d, F the
    features of X).  Normalization: 'norm_scales' (γ) and 'norm_shifts' (β), one part
    per hidden layer, each layer's γ then β; an ensemble of K > 1 members:
    'member_input_scales' (r, K x n_in) of every layer, then 'member_output_scales' (s,
    K x n_out); embeddings: 'embedding_frequencies' (F, k), 'embedding_weights'
    (F, 2k, d), 'embedding_biases' (F, d); batch normalization: 'running_means' and
    'running_vars', each layer's mean then variance.
    """
    hidden = list(layer_units[1:-1])
    start = _base(layer_units, members)
    groups = []

    def per_layer(first, second):
        nonlocal start
        a, b = [], []
        for units in hidden:
            a.append((start, start + units, (units,)))
            b.append((start + units, start + 2 * units, (units,)))
            start += 2 * units
        groups.extend([(first, a), (second, b)])

    if normalization is not None:
        per_layer("norm_scales", "norm_shifts")
    if members > 1:
        for name, sizes in (("member_input_scales", layer_units[:-1]),
                            ("member_output_scales", layer_units[1:])):
            parts = []
            for units in sizes:
                parts.append((start, start + members * units, (members, units)))
                start += members * units
            groups.append((name, parts))
    if embedding is not None:
        k, d = embedding
        F = layer_units[0] // d
        for name, shape in zip(WHOLE_GROUPS, ((F, k), (F, 2 * k, d), (F, d))):
            size = int(np.prod(shape))
            groups.append((name, [(start, start + size, shape)]))
            start += size
    if normalization == "batch":
        per_layer("running_means", "running_vars")
    return groups


def group_views(flat, layer_units, normalization=None, embedding=None, members=1):
    """{name: views} of the flat buffer (see param_groups): a list of one array per
    layer, or the array itself for WHOLE_GROUPS."""
    views = {name: [flat[a:b].reshape(shape) for a, b, shape in parts]
             for name, parts in param_groups(layer_units, normalization, embedding, members)}
    return {name: parts[0] if name in WHOLE_GROUPS else parts for name, parts in views.items()}


def initial_groups(rng, layer_units, normalization=None, embedding=None, frequency_scale=1.0,
                   members=1):
    """The buffer's part after the intercepts for a new model: γ = 1, β = 0, running
    mean 0 and variance 1 (as torch starts them); an ensemble's output scalings 1 and
    input scalings 1, except the first layer's, random signs ±1 (so that the members
    differ from the first step); the embeddings' frequencies from N(0,
    frequency_scale²) and their W, b from U(±1/√(2k)) (torch's Linear), drawn from
    `rng`."""
    base = _base(layer_units, members)
    values = np.empty(n_params(layer_units, normalization, embedding, members) - base)
    fixed = {"norm_scales": 1.0, "norm_shifts": 0.0, "running_means": 0.0, "running_vars": 1.0,
             "member_output_scales": 1.0}
    for name, parts in param_groups(layer_units, normalization, embedding, members):
        for index, (a, b, shape) in enumerate(parts):
            if name in fixed:
                values[a - base:b - base] = fixed[name]
            elif name == "member_input_scales":
                values[a - base:b - base] = (rng.choice([-1.0, 1.0], b - a) if index == 0
                                             else 1.0)
            elif name == "embedding_frequencies":
                values[a - base:b - base] = rng.normal(0.0, frequency_scale, b - a)
            else:
                bound = 1.0 / np.sqrt(2 * embedding[0])
                values[a - base:b - base] = rng.uniform(-bound, bound, b - a)
    return values


def views(flat, layer_units, members=1):
    """`coefs_` and `intercepts_` lists viewing the flat buffer (an ensemble's
    intercepts are K x n_out)."""
    coef_slices, intercept_slices = param_slices(layer_units, members)
    coefs = [flat[a:b].reshape(shape) for a, b, shape in coef_slices]
    intercepts = [flat[a:b].reshape(intercept_shape(n_out, members))
                  for (a, b), n_out in zip(intercept_slices, layer_units[1:])]
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
