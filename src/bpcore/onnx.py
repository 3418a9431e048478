"""Export a fitted bpcore model to ONNX (needs ``onnx``; the ``onnx`` extra also installs
``onnxruntime``: ``pip install ".[onnx]"`` in a checkout).

    from bpcore.onnx import to_onnx
    proto = to_onnx(model)                       # an onnx.ModelProto
    open("model.onnx", "wb").write(proto.SerializeToString())

    import onnxruntime as ort
    session = ort.InferenceSession("model.onnx")
    labels, probabilities = session.run(None, {"X": X.astype("float32")})  # a float32 model

The graph's input X has the model's dtype (float32 or float64, as it was trained).
A Pipeline whose steps before the network are scikit-learn's StandardScaler,
MinMaxScaler, MaxAbsScaler or RobustScaler converts whole: each scaler becomes its
per-feature affine map, computed as scikit-learn computes it.  The graph is then the
network's forward pass: a Gemm per layer
(X W + b; with periodic embeddings, first each feature's [sin, cos](2π c x) W + b
through a relu), each hidden layer's normalization (batch: with the running statistics;
layer: per row) and activation (identity, logistic, tanh, relu, leaky_relu, elu,
gelu, softplus, swish), written with elementary operators so that onnxruntime runs
them in float32 and float64 alike, the skip connections' additions (an ensemble of k
members: (n, k, units) tensors, ((a ∘ rₘ) W) ∘ sₘ + bₘ by MatMul, Mul and Add, and
the mean of the members' outputs), then the output:

- classifier: outputs ``label`` (the classes, as ``predict``) and ``probabilities``
  (as ``predict_proba``); multilabel ``label`` is the 0/1 indicator matrix;
- regressor: output ``variable``, shape (n, n_outputs) (``predict`` ravels one output);
  with several quantiles of several targets (n, n_targets, n_quantiles), as ``predict``.

Built directly with ``onnx.helper``; skl2onnx is not needed.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted

from . import _layout, _network
from ._validation import class_path

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as error:  # an optional extra
    raise ImportError("bpcore.onnx needs the onnx package: pip install onnx onnxruntime") from error

OPSET = 17
_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


class _Graph:
    """Nodes and initializers, with fresh names."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.nodes = []
        self.initializers = []
        self.count = 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def constant(self, value, base="c", dtype=None):
        name = self.name(base)
        array = np.asarray(value, dtype=dtype or self.dtype)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type, inputs, base=None, **attributes):
        output = self.name(base or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attributes))
        return output


def _activation(graph, z, name):
    """σ(z) from elementary operators (all have float and double kernels)."""
    if name == "identity":
        return z
    if name == "relu":
        return graph.op("Relu", [z])
    if name == "tanh":
        return graph.op("Tanh", [z])
    if name == "logistic":
        return graph.op("Sigmoid", [z])
    zero = graph.constant(0.0)
    positive = graph.op("Max", [z, zero])
    negative = graph.op("Min", [z, zero])
    if name == "leaky_relu":
        return graph.op("Add", [positive, graph.op("Mul", [negative, graph.constant(_network.LEAKY_RELU_SLOPE)])])
    if name == "elu":
        # z for z > 0, e^z - 1 otherwise  =  max(z, 0) + (e^min(z, 0) - 1)
        expm1 = graph.op("Sub", [graph.op("Exp", [negative]), graph.constant(1.0)])
        return graph.op("Add", [positive, expm1])
    if name == "softplus":
        # max(z, 0) + log(1 + e^-|z|), without overflow
        absolute = graph.op("Abs", [z])
        tail = graph.op("Exp", [graph.op("Neg", [absolute])])
        return graph.op("Add", [positive, graph.op("Log", [graph.op("Add", [graph.constant(1.0), tail])])])
    if name == "swish":
        return graph.op("Mul", [z, graph.op("Sigmoid", [z])])
    if name == "gelu":
        # z Φ(z), with Φ(z) = (1 + erf(z / √2)) / 2.  onnxruntime's Erf is float only,
        # so it is computed in float32 and cast back in a float64 graph (|error| < 1e-7).
        scaled = graph.op("Mul", [z, graph.constant(1 / np.sqrt(2.0))])
        if graph.dtype == np.float64:
            scaled = graph.op("Cast", [scaled], to=TensorProto.FLOAT)
            erf = graph.op("Cast", [graph.op("Erf", [scaled])], to=TensorProto.DOUBLE)
        else:
            erf = graph.op("Erf", [scaled])
        phi = graph.op("Mul", [graph.op("Add", [erf, graph.constant(1.0)]), graph.constant(0.5)])
        return graph.op("Mul", [z, phi])
    raise ValueError(f"no ONNX form for activation {name!r}")


def _normalization(graph, z, kind, norm, layer):
    """γ ẑ + β, ẑ normalized as the kernels do: per row over the units ('layer'), or
    with the running statistics ('batch'), from elementary operators."""
    eps = graph.constant(_network.NORM_EPSILON)
    if kind == "batch":
        mean = norm["running_means"][layer]
        inv_std = 1.0 / np.sqrt(norm["running_vars"][layer].astype(np.float64)
                                + _network.NORM_EPSILON)
        centred = graph.op("Sub", [z, graph.constant(mean)])
        zhat = graph.op("Mul", [centred, graph.constant(inv_std)])
    else:
        centred = graph.op("Sub", [z, graph.op("ReduceMean", [z], axes=[-1], keepdims=1)])
        variance = graph.op("ReduceMean", [graph.op("Mul", [centred, centred])], axes=[-1],
                            keepdims=1)
        zhat = graph.op("Div", [centred, graph.op("Sqrt", [graph.op("Add", [variance, eps])])])
    scaled = graph.op("Mul", [zhat, graph.constant(norm["norm_scales"][layer])])
    return graph.op("Add", [scaled, graph.constant(norm["norm_shifts"][layer])])


def _periodic_embedding(graph, x, groups):
    """relu([sin(2π c x), cos(2π c x)] W + b) per feature, flattened feature-major to
    (n, F d), as the kernels compute it."""
    frequencies = groups["embedding_frequencies"]                     # (F, k)
    weights = groups["embedding_weights"]                             # (F, 2k, d)
    two_pi_c = graph.dtype.type(2 * np.pi) * frequencies              # rounded as the kernels
    angle = graph.op("Mul", [graph.constant(two_pi_c[None]),           # (1, F, k)
                             graph.op("Unsqueeze", [x, graph.constant([2], dtype=np.int64)])])
    v = graph.op("Concat", [graph.op("Sin", [angle]), graph.op("Cos", [angle])], axis=2)
    per_feature = graph.op("MatMul", [graph.op("Transpose", [v], perm=[1, 0, 2]),
                                      graph.constant(weights)])       # (F, n, d)
    e = graph.op("Add", [graph.op("Transpose", [per_feature], perm=[1, 0, 2]),
                         graph.constant(groups["embedding_biases"])])
    flat = graph.constant([0, weights.shape[0] * weights.shape[2]], dtype=np.int64)
    return graph.op("Reshape", [graph.op("Relu", [e]), flat])


_SCALERS = (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler)


def _split_pipeline(model):
    """The preprocessing steps and the bpcore estimator of `model` (a bpcore estimator,
    or a Pipeline of scalers ending in one)."""
    from ._estimators import _BaseMLP

    if isinstance(model, _BaseMLP):
        return [], model
    if not isinstance(model, Pipeline):
        raise TypeError(f"to_onnx converts a bpcore MLPClassifier or MLPRegressor (or a "
                        f"Pipeline ending in one), not {class_path(model)}")
    *steps, (last_name, last) = model.steps
    if not isinstance(last, _BaseMLP):
        raise TypeError(f"to_onnx converts a Pipeline whose final step is a bpcore "
                        f"estimator; its final step {last_name!r} is {class_path(last)}")
    scalers = []
    for step_name, step in steps:
        if step is None or step == "passthrough":
            continue
        if type(step) not in _SCALERS:
            raise TypeError(
                f"to_onnx cannot convert the Pipeline's step {step_name!r} "
                f"({type(step).__name__}): only {', '.join(c.__name__ for c in _SCALERS)} "
                f"and 'passthrough' may come before the network. Convert the final step "
                f"alone (to_onnx(pipeline[-1])) and apply the preprocessing before the "
                f"session")
        if isinstance(step, MinMaxScaler) and step.clip:
            raise TypeError(f"to_onnx cannot convert the Pipeline's step {step_name!r}: "
                            f"MinMaxScaler(clip=True)")
        check_is_fitted(step)
        scalers.append((step_name, step))
    return scalers, last


def _scaler(graph, x, step_name, scaler, n_features):
    """A fitted scaler's map of x, as scikit-learn computes it (same operations)."""
    if getattr(scaler, "n_features_in_", n_features) != n_features:
        raise ValueError(f"the Pipeline's step {step_name!r} has {scaler.n_features_in_} "
                         f"features but the network expects {n_features}")
    def per_feature(name):
        # a fitted array, one value per feature (an edited one is checked here)
        values = np.asarray(getattr(scaler, name), dtype=np.float64)
        if values.shape != (n_features,):
            raise ValueError(f"the Pipeline's step {step_name!r} has {name} of shape "
                             f"{values.shape}; the network takes {n_features} features")
        return graph.constant(values)

    if isinstance(scaler, MinMaxScaler):
        scaled = graph.op("Mul", [x, per_feature("scale_")])              # X * scale_ + min_
        return graph.op("Add", [scaled, per_feature("min_")])
    if isinstance(scaler, StandardScaler):
        center = "mean_" if scaler.with_mean else None
        scale = "scale_" if scaler.with_std else None
    elif isinstance(scaler, RobustScaler):
        center = "center_" if scaler.center_ is not None else None
        scale = "scale_" if scaler.scale_ is not None else None
    else:                                                                 # MaxAbsScaler
        center, scale = None, "scale_"
    if center is not None:
        x = graph.op("Sub", [x, per_feature(center)])
    if scale is not None:
        x = graph.op("Div", [x, per_feature(scale)])
    return x


def to_onnx(model, *, name=None, opset=OPSET):
    """The fitted model's forward pass as an ``onnx.ModelProto``.

    Parameters
    ----------
    model : fitted bpcore MLPClassifier or MLPRegressor, or a Pipeline of one
        A Pipeline may put scikit-learn's StandardScaler, MinMaxScaler, MaxAbsScaler or
        RobustScaler (or 'passthrough') before the bpcore estimator: each becomes its
        per-feature affine map in the graph, which then takes the raw X.
    name : str, optional
        The graph's name (default: the estimator's class name).
    opset : int, default=17
        ONNX opset of the default domain.

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (n, n_features) in the model's dtype; outputs as described in the
        module's documentation.  The model is checked with ``onnx.checker``.
    """
    scalers, model = _split_pipeline(model)
    check_is_fitted(model)
    state = model._fitted_state()
    dtype = state.dtype
    graph = _Graph(dtype)
    tensor_type = _TYPES[dtype]
    n_features = state.n_features
    params = state.current_params()
    K = state.members
    coefs, intercepts = _layout.views(params, state.layer_units, K)
    norm = _layout.group_views(params, state.layer_units, state.normalization, state.embedding,
                               K)
    current = "X"
    for step_name, scaler in scalers:
        current = _scaler(graph, current, step_name, scaler, n_features)
    if state.embedding is not None:
        current = _periodic_embedding(graph, current, norm)
    if K > 1:
        # (n, 1, inputs): every member's row, broadcast against its scalings (K, inputs)
        current = graph.op("Unsqueeze", [current, graph.constant([1], dtype=np.int64)])
    last = len(coefs) - 1
    for layer, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        W = graph.constant(coef, f"coef{layer}")
        b = graph.constant(intercept, f"intercept{layer}")
        previous = current
        if K == 1:
            current = graph.op("Gemm", [previous, W, b], base=f"z{layer}")
        else:
            # ((a ∘ rₘ) W) ∘ sₘ + bₘ, (n, K, units)
            scaled = graph.op("Mul", [previous, graph.constant(
                norm["member_input_scales"][layer])])
            product = graph.op("MatMul", [scaled, W])
            current = graph.op("Add", [graph.op("Mul", [product, graph.constant(
                norm["member_output_scales"][layer])]), b], base=f"z{layer}")
        if layer < last:
            if state.normalization is not None:
                current = _normalization(graph, current, state.normalization, norm, layer)
            current = _activation(graph, current, state.activation)
            if state.residual and 0 < layer and coef.shape[0] == coef.shape[1]:
                current = graph.op("Add", [previous, current], base=f"a{layer}")

    outputs = []
    out_activation = state.out_activation
    activated = None
    if K > 1:
        # each member's output, then their mean
        per_member = {"softmax": lambda z: graph.op("Softmax", [z], axis=2),
                      "logistic": lambda z: graph.op("Sigmoid", [z]),
                      "exp": lambda z: graph.op("Exp", [z]),
                      "identity": lambda z: z}[out_activation](current)
        activated = graph.op("ReduceMean", [per_member], axes=[1], keepdims=0)
    if not is_classifier(model):
        if activated is not None:
            result = activated
        else:
            result = graph.op("Exp", [current]) if out_activation == "exp" else current
        shape = [None, state.n_outputs]
        k = state.n_quantiles
        if 1 < k < state.n_outputs:
            # several targets' quantiles: (n, n_targets, k), as predict
            shape = [None, state.n_outputs // k, k]
            target = graph.constant([-1] + shape[1:], "quantile_shape", dtype=np.int64)
            result = graph.op("Reshape", [result, target])
        graph.nodes.append(helper.make_node("Identity", [result], ["variable"]))
        outputs.append(helper.make_tensor_value_info("variable", tensor_type, shape))
    else:
        classes = np.asarray(state.encoder.classes_)
        multilabel = state.encoder.y_type_.startswith("multilabel")
        if out_activation == "softmax":
            probabilities = (activated if activated is not None
                             else graph.op("Softmax", [current], axis=1))
            index = graph.op("ArgMax", [probabilities], axis=1, keepdims=0)
        else:
            positive = (activated if activated is not None
                        else graph.op("Sigmoid", [current]))
            half = graph.constant(0.5)
            above = graph.op("Cast", [graph.op("Greater", [positive, half])], to=TensorProto.INT64)
            if multilabel:
                probabilities = positive
                index = None
                graph.nodes.append(helper.make_node("Identity", [above], ["label"]))
            elif len(classes) == 1:
                # fitted on one class: that class, with probability 1 (one column)
                zero = graph.op("Mul", [positive, graph.constant(0.0)])
                probabilities = graph.op("Add", [zero, graph.constant(1.0)])
                index = graph.op("Squeeze", [graph.op("Cast", [zero], to=TensorProto.INT64),
                                             graph.constant([1], dtype=np.int64)])
            else:
                probabilities = graph.op("Concat", [graph.op("Sub", [graph.constant(1.0), positive]), positive], axis=1)
                index = graph.op("Squeeze", [above, graph.constant([1], dtype=np.int64)])
        if index is not None:
            if classes.dtype.kind in "OUS":
                table = helper.make_tensor(graph.name("classes"), TensorProto.STRING,
                                           [len(classes)], [str(c).encode() for c in classes])
                graph.initializers.append(table)
                label_type = TensorProto.STRING
            else:
                # the labels' own kind: bool, unsigned and signed integers keep their values
                kind, label_type = {"b": (np.bool_, TensorProto.BOOL),
                                    "u": (np.uint64, TensorProto.UINT64),
                                    "i": (np.int64, TensorProto.INT64)}.get(
                    classes.dtype.kind, (np.float64, TensorProto.DOUBLE))
                table = numpy_helper.from_array(classes.astype(kind), graph.name("classes"))
                graph.initializers.append(table)
            graph.nodes.append(helper.make_node("Gather", [table.name, index], ["label"], axis=0))
            outputs.append(helper.make_tensor_value_info("label", label_type, [None]))
        else:
            outputs.append(helper.make_tensor_value_info("label", TensorProto.INT64,
                                                         [None, state.n_outputs]))
        graph.nodes.append(helper.make_node("Identity", [probabilities], ["probabilities"]))
        width = (2 if (out_activation == "logistic" and not multilabel and len(classes) > 1)
                 else state.n_outputs)
        outputs.append(helper.make_tensor_value_info("probabilities", tensor_type, [None, width]))

    onnx_graph = helper.make_graph(
        graph.nodes,
        name or type(model).__name__,
        [helper.make_tensor_value_info("X", tensor_type, [None, n_features])],
        outputs,
        graph.initializers,
    )
    proto = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="bpcore",
    )
    proto.ir_version = min(proto.ir_version, 9)
    onnx.checker.check_model(proto)
    return proto
