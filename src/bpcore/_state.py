"""A fitted model as one object: layout, parameter buffer and output encoding.

`ModelState` is what `predict` reads, once per call, and what `fit` publishes, in one
assignment, when it has a new model: a concurrent `predict` sees the old model or the
new one, never a mix.  ``coefs_[l]`` and ``intercepts_[l]`` are views of the state's
flat buffer, so editing them in place edits the model.  A layer the user *assigns*
(``model.coefs_[0] = W``) is noticed by identity (O(layers)): prediction packs the
assigned arrays into a buffer of the model's dtype for that call (converting them, or
refusing an array of the wrong shape with a message naming the layer), and the next
fit starts from them; no other layer ever changes.
"""

from __future__ import annotations


import numpy as np

from . import _layout, _network
from ._threads import blas_single_threaded, effective_n_threads

_SMALL_ROWS = 256     # largest input for the serial small-prediction path
_BLOCK_ROWS = 1024    # rows a thread multiplies at once in large predictions


_KEEP = object()   # with_lists: keep this list as it is


def classifier_loss(y_type):
    """The loss (and so the output activation) for a kind of classification target:
    softmax cross-entropy for multiclass, logistic for binary and multilabel."""
    return "log_loss" if y_type == "multiclass" else "binary_log_loss"


def _check_encoder(encoder, loss, n_outputs):
    """A classifier's label encoding must fit its output layer and loss: one logistic
    output for binary targets (one or two classes), else one output per class."""
    classes = getattr(encoder, "classes_", None)
    kind = getattr(encoder, "y_type_", None)
    n_classes = None if classes is None else len(classes)
    fits = n_classes is not None and kind is not None and loss == classifier_loss(kind) and (
        n_outputs == 1 and n_classes <= 2 if kind == "binary" else n_outputs == n_classes)
    if not fits:
        raise ValueError(f"a label encoding of kind {kind!r} with {n_classes} classes does "
                         f"not fit {n_outputs} outputs with loss {loss!r}")


class ModelState:
    """The layout, the parameters and the output encoding of a fitted network.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : str
        The hidden layers' activation.
    loss : str
        The kernel's loss (``_network.LOSS_CODES``); it fixes the output activation.
    params : ndarray of float32 or float64, shape (n_params,)
        The flat buffer (taken, not copied).
    encoder : object, optional
        The classifier's fitted LabelBinarizer (None for regressors).
    feature_names : ndarray of str, optional
        The column names the model was fitted with (``feature_names_in_``).
    loss_param : tuple of float, default=()
        The loss's parameters: ``(δ,)`` for 'huber'; the quantiles ``(q₁, ..., q_k)``
        for 'quantile', whose outputs are then k per target (target-major).
    normalization : {None, 'batch', 'layer'}, default=None
        The hidden layers' normalization; its parameters follow the intercepts in the
        buffer (see ``_layout.param_groups``).
    residual : bool, default=False
        Skip connections around the hidden layers after the first whose width equals
        their input's.
    embedding : (k, d) or None, default=None
        Periodic embeddings of the F input features, k frequencies and d outputs each:
        ``layer_units[0]`` is then F d, the first layer's input.
    members : int, default=1
        K > 1: a weight-sharing ensemble (every layer's W shared; per member input and
        output scalings and biases; intercepts are K x n_out).  The model's output is
        the members' mean.
    """

    __slots__ = ("layer_units", "activation", "loss", "params", "coefs", "intercepts",
                 "encoder", "feature_names", "loss_param", "normalization", "residual",
                 "embedding", "members", "groups", "_views", "_serial_network")

    def __init__(self, layer_units, activation, loss, params, encoder=None, feature_names=None,
                 loss_param=(), normalization=None, residual=False, embedding=None,
                 members=1):
        layer_units = tuple(int(u) for u in layer_units)
        if len(layer_units) < 2 or min(layer_units) < 1:
            raise ValueError(f"a network needs at least two positive layer sizes, got {layer_units}")
        if activation not in _network.ACTIVATION_CODES:
            raise ValueError(f"unknown activation {activation!r}")
        if loss not in _network.LOSS_CODES:
            raise ValueError(f"unknown loss {loss!r}")
        if not (isinstance(params, np.ndarray) and params.ndim == 1
                and params.dtype in (np.float32, np.float64) and params.flags.c_contiguous):
            raise ValueError("the parameters must be a contiguous float32 or float64 vector")
        if normalization not in _layout.NORMALIZATIONS:
            raise ValueError(f"unknown normalization {normalization!r}")
        if embedding is not None:
            embedding = tuple(int(e) for e in embedding)
            if len(embedding) != 2 or min(embedding) < 1 or layer_units[0] % embedding[1]:
                raise ValueError(f"an embedding (k, d) needs k, d >= 1 and d to divide the "
                                 f"first layer's {layer_units[0]} inputs; got {embedding}")
        members = int(members)
        if members < 1 or (members > 1 and normalization == "batch"):
            raise ValueError(f"an ensemble needs members >= 1, and 1 with batch "
                             f"normalization; got {members}")
        expected = _layout.n_params(layer_units, normalization, embedding, members)
        if params.size != expected:
            raise ValueError(f"layers {list(layer_units)} with normalization "
                             f"{normalization!r} need {expected} parameters; "
                             f"the buffer holds {params.size}")
        if encoder is not None:
            _check_encoder(encoder, loss, layer_units[-1])
        n_features = layer_units[0] // embedding[1] if embedding else layer_units[0]
        if feature_names is not None and len(feature_names) != n_features:
            raise ValueError(f"{len(feature_names)} feature names for {n_features} inputs")
        loss_param = tuple(float(p) for p in loss_param)
        needed = {"huber": "one δ > 0", "quantile": "quantiles in (0, 1), as many as divide "
                  "the outputs"}.get(loss)
        valid = not loss_param if needed is None else (
            len(loss_param) == 1 and 0 < loss_param[0] < np.inf if loss == "huber" else
            0 < len(loss_param) and layer_units[-1] % len(loss_param) == 0
            and all(0 < q < 1 for q in loss_param))
        if not valid:
            raise ValueError(f"loss {loss!r} takes {needed or 'no parameters'}; got {loss_param}")
        self.layer_units = layer_units
        self.activation = activation
        self.loss = loss
        self.encoder = encoder
        self.feature_names = feature_names
        self.loss_param = loss_param
        self.normalization = normalization
        self.residual = bool(residual)
        self.embedding = embedding
        self.members = members
        self._serial_network = None
        self._take(params)

    def _take(self, params):
        self.params = params
        self.coefs, self.intercepts = _layout.views(params, self.layer_units, self.members)
        self.groups = _layout.group_views(params, self.layer_units, self.normalization,
                                          self.embedding, self.members)
        self._views = (tuple(self.coefs), tuple(self.intercepts))

    def with_params(self, params):
        """The same model (layout, encoding, networks) over another buffer of the same
        size and dtype: how training publishes each epoch without re-checking."""
        if params.shape != self.params.shape or params.dtype != self.params.dtype:
            raise ValueError("with_params needs a buffer of the same size and dtype")
        state = ModelState.__new__(ModelState)
        for name in ("layer_units", "activation", "loss", "encoder", "feature_names",
                     "loss_param", "normalization", "residual", "embedding", "members"):
            setattr(state, name, getattr(self, name))
        state._serial_network = self.serial_network     # one per fit, shared (read-only)
        state._take(params)
        return state

    @property
    def serial_network(self):
        """The one-thread Network of small predictions (made once; a race makes two)."""
        network = self._serial_network
        if network is None:
            network = self._serial_network = self.network(1)
        return network

    def __reduce__(self):
        # pickled as its defining values (the assigned layers packed in); unpickling
        # goes through __init__'s checks, so a tampered state is refused
        return (ModelState, (self.layer_units, self.activation, self.loss,
                             self.current_params(), self.encoder, self.feature_names,
                             self.loss_param, self.normalization, self.residual,
                             self.embedding, self.members))

    def with_lists(self, coefs=_KEEP, intercepts=_KEEP):
        """The same model whose coefs_ / intercepts_ are the given lists (assigned by
        the user: their arrays are packed when the model runs)."""
        state = ModelState.__new__(ModelState)
        for name in ModelState.__slots__:
            setattr(state, name, getattr(self, name))
        for name, value in (("coefs", coefs), ("intercepts", intercepts)):
            if value is _KEEP:
                continue
            if isinstance(value, np.ndarray) or not hasattr(value, "__iter__"):
                raise TypeError(f"{name}_ must be a list of arrays, one per layer; got "
                                f"{type(value).__name__}.")
            setattr(state, name, value if isinstance(value, list) else list(value))
        return state

    # ------------------------------------------------------------------ layout
    @property
    def dtype(self):
        return self.params.dtype

    @property
    def n_features(self):
        """Columns of X (the first layer takes their embeddings when there are some)."""
        return self.layer_units[0] // self.embedding[1] if self.embedding else self.layer_units[0]

    @property
    def n_outputs(self):
        return self.layer_units[-1]

    @property
    def n_quantiles(self):
        """Outputs per target: the number of quantiles of loss='quantile', else 1."""
        return len(self.loss_param) if self.loss == "quantile" else 1

    @property
    def out_activation(self):
        return _layout.OUTPUT_ACTIVATIONS[self.loss]

    def network(self, n_threads, *, alpha=0.0, batch_capacity=1, dropout=None,
                stages_input=True):
        """The kernels' Network for this layout."""
        hidden = [_network.ACTIVATION_CODES[self.activation]] * (len(self.layer_units) - 2)
        k, d = self.embedding or (0, 0)
        return _network.Network((self.n_features,) + self.layer_units[1:], hidden,
                                _network.LOSS_CODES[self.loss], alpha, batch_capacity,
                                n_threads, dropout, stages_input, self.output_loss_param(),
                                _network.NORMALIZATION_CODES[self.normalization],
                                self.residual, 0.1, k, d, self.members)

    def output_loss_param(self):
        """The loss parameter of each output (None when the loss has none)."""
        if not self.loss_param:
            return None
        return self.loss_param * (self.n_outputs // len(self.loss_param))

    # -------------------------------------------------------------- parameters
    def views_unchanged(self):
        """True while coefs_ and intercepts_ hold the buffer's own views (O(layers))."""
        coefs, intercepts = self._views
        return (_network.same_items(self.coefs, coefs)
                and _network.same_items(self.intercepts, intercepts))

    def current_params(self):
        """The parameters the model runs now: its buffer, or a new buffer holding the
        arrays assigned into coefs_ / intercepts_ (converted to the model's dtype).

        Raises ValueError naming the layer when an assigned array has the wrong
        shape or is not real numbers.
        """
        if self.views_unchanged():
            return self.params
        n_layers = len(self.layer_units) - 1
        for name, arrays in (("coefs_", self.coefs), ("intercepts_", self.intercepts)):
            if len(arrays) != n_layers:
                raise ValueError(f"{name} holds {len(arrays)} arrays; this model has "
                                 f"{n_layers} layers {list(self.layer_units)}.")
        coef_slices, intercept_slices = _layout.param_slices(self.layer_units, self.members)
        flat = self.params.copy()    # the normalization's part is not assignable
        for name, arrays, slices in (
            ("coefs_", self.coefs, [(a, b, shape) for a, b, shape in coef_slices]),
            ("intercepts_", self.intercepts,
             [(a, b, _layout.intercept_shape(n_out, self.members))
              for (a, b), n_out in zip(intercept_slices, self.layer_units[1:])]),
        ):
            for layer, (array, (start, stop, shape)) in enumerate(zip(arrays, slices)):
                flat[start:stop] = _checked_layer(array, f"{name}[{layer}]", shape,
                                                  flat.dtype).ravel()
        return flat

    # -------------------------------------------------------------- prediction
    def forward(self, X, params=None, members=False):
        """The output layer's activations for validated X (dense 2-D array of the
        model's dtype, or scipy sparse); None when X holds NaN or infinity.  An
        ensemble's are the members' mean, or with `members` each member's, (K, n,
        n_outputs)."""
        if params is None:
            params = self.current_params()
        inputs = _layout.kernel_input(X, params.dtype)
        n_samples = X.shape[0]
        out = np.empty((n_samples * self.members, self.n_outputs), dtype=params.dtype)
        if n_samples <= _SMALL_ROWS:
            # one block, on this thread: BLAS keeps its own settings
            net = self.serial_network
            workspace = np.empty(net.predict_workspace_size(n_samples), dtype=params.dtype)
            bad = _network.predict(net, *inputs, params, out, workspace, max(n_samples, 1))
        else:
            net = self.network(effective_n_threads())
            workspace = np.empty(net.predict_workspace_size(_BLOCK_ROWS), dtype=params.dtype)
            with blas_single_threaded():
                bad = _network.predict(net, *inputs, params, out, workspace, _BLOCK_ROWS)
        return None if bad else self._combine(out, members)

    def _combine(self, out, members=False):
        """The kernels' output, K rows per row for an ensemble, as the model's: the
        members' mean, or with `members` (K, n, n_outputs)."""
        if self.members == 1 and not members:
            return out
        per_member = out.reshape(-1, self.members, self.n_outputs)
        if members:
            return per_member.transpose(1, 0, 2)
        return per_member.mean(axis=1)

    def forward_small(self, X):
        """The small-prediction path: X a 2-d ndarray of 1 to 256 rows; None when
        anything needs the full path (X not C-ordered, of another dtype or width;
        assigned layers; non-finite input or output)."""
        if not self.views_unchanged():
            return None
        out = np.empty((X.shape[0] * self.members, self.n_outputs), dtype=self.params.dtype)
        # non-zero: X or the output holds NaN or infinity (the full path says which)
        if _network.predict_rows(self.serial_network, X, self.params, out):
            return None
        return out if self.members == 1 else self._combine(out)


def _checked_layer(array, name, shape, dtype):
    """An assigned layer as real numbers of the given shape in `dtype`, or a ValueError
    naming it."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} holds {array.dtype} values; a layer holds real numbers.")
    if array.shape != tuple(shape):
        raise ValueError(f"{name} has shape {array.shape}, but this model's layer needs "
                         f"{tuple(shape)}.")
    with np.errstate(over="ignore"):
        converted = array.astype(dtype, copy=False)
    if array.dtype.kind == "f" and not np.array_equal(np.isfinite(converted), np.isfinite(array)):
        raise ValueError(f"{name} holds values beyond the range of {np.dtype(dtype)}, the "
                         "dtype this model computes in.")
    return converted


def initial_params(rng, layer_units, init, activation, dtype, normalization=None,
                   embedding=None, frequency_scale=1.0, members=1):
    """The initial flat parameter vector, drawn from `rng` layer by layer.

    'glorot_uniform' draws as scikit-learn does (same weights for the same random
    state: weights, then biases, from U(-b, b) with b = sqrt(factor / (fan_in +
    fan_out)), factor 2 for logistic units and 6 otherwise); He and LeCun draw W with
    variance 2/fan_in or 1/fan_in and start the biases at 0.  The other groups follow
    (see ``_layout.initial_groups``).
    """
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        if init == "glorot_uniform":
            factor = 2.0 if activation == "logistic" else 6.0
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(rng.uniform(-bound, bound, fan_out))
            continue
        if init == "he_normal":
            coefs.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)))
        elif init == "he_uniform":
            bound = np.sqrt(6.0 / fan_in)
            coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        else:  # lecun_normal
            coefs.append(rng.normal(0.0, np.sqrt(1.0 / fan_in), (fan_in, fan_out)))
        intercepts.append(np.zeros(fan_out))
    if members > 1:       # every member starts from the same biases
        intercepts = [np.tile(b, (members, 1)) for b in intercepts]
    return np.concatenate([_layout.pack(coefs, intercepts, dtype),
                           _layout.initial_groups(rng, layer_units, normalization, embedding,
                                                  frequency_scale, members).astype(dtype)])
