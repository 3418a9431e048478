"""Checks of hyperparameters and inputs: every user-facing error of bpcore is raised here."""

import numbers

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """A hyperparameter has the wrong type or a value out of its range.

    Subclasses both ValueError and TypeError, as scikit-learn's error of the same name,
    so code written for either keeps working.
    """


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _interval(low, high, low_closed, high_closed, integer=False):
    def check(value):
        ok_type = _is_int(value) if integer else _is_real(value)
        if not ok_type or not np.isfinite(value):
            return False
        if low is not None and (value < low or (value == low and not low_closed)):
            return False
        if high is not None and (value > high or (value == high and not high_closed)):
            return False
        return True

    kind = "an int" if integer else "a float"
    left = "[" if low_closed else "("
    right = "]" if high_closed else ")"
    lo = "-inf" if low is None else low
    hi = "inf" if high is None else high
    return check, f"{kind} in the range {left}{lo}, {hi}{right}"


def _options(*choices):
    return (lambda value: isinstance(value, str) and value in choices), (
        "a str among " + ", ".join(repr(c) for c in sorted(choices))
    )


def _boolean():
    return (lambda value: isinstance(value, (bool, np.bool_))), "a bool"


def _either(*rules):
    checks = [r[0] for r in rules]
    return (lambda value: any(c(value) for c in checks)), " or ".join(r[1] for r in rules)


def _random_state():
    def check(value):
        return value is None or _is_int(value) or isinstance(value, np.random.RandomState)

    return check, "None, an int or a numpy RandomState"


def _verbose():
    # scikit-learn's Verbose constraint: a non-negative int or a bool
    return ((lambda value: (_is_int(value) and value >= 0) or isinstance(value, (bool, np.bool_))),
            "an int >= 0 or a bool")


def _none():
    return (lambda value: value is None), "None"


def _callbacks():
    def check(value):
        return value is None or (
            isinstance(value, (list, tuple)) and all(callable(c) for c in value)
        )

    return check, "None or a list of callables f(model, info)"


def _class_weight():
    def check(value):
        return value is None or value == "balanced" or isinstance(value, dict)

    return check, "None, 'balanced' or a dict {class: weight}"


def _n_iter_no_change():
    return _either(_interval(1, None, True, False, integer=True), (lambda v: v == np.inf, "inf"))


def _scoring():
    def check(value):
        if value is None or callable(value) or value == "loss":
            return True
        if not isinstance(value, str):
            return False
        from sklearn.metrics import get_scorer_names
        return value in get_scorer_names()

    return check, "None, 'loss', a scorer name of sklearn.metrics.get_scorer_names() or a " \
        "callable scorer(estimator, X, y)"


def _quantiles():
    def check(value):
        values = np.atleast_1d(np.asarray(value, dtype=object)) if not isinstance(value, str) \
            else [value]
        return (np.ndim(value) <= 1 and len(values) > 0
                and all(_is_real(q) and 0 < q < 1 for q in values)
                and len(set(float(q) for q in values)) == len(values))

    return check, "a float in (0, 1) or a sequence of distinct such floats"


PARAMETER_RULES = {
    "activation": _options(
        "identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "swish"
    ),
    "solver": _options("lbfgs", "sgd", "adam"),
    "alpha": _interval(0, None, True, False),
    "batch_size": _either(_options("auto", "full"), _interval(1, None, True, False, integer=True)),
    "learning_rate": _options("constant", "invscaling", "adaptive"),
    "learning_rate_init": _interval(0, None, False, False),
    "power_t": _interval(0, None, True, False),
    "max_iter": _interval(1, None, True, False, integer=True),
    "shuffle": _boolean(),
    "random_state": _random_state(),
    "tol": _interval(0, None, True, False),
    "verbose": _verbose(),
    "warm_start": _boolean(),
    "momentum": _interval(0, 1, True, True),
    "nesterovs_momentum": _boolean(),
    "early_stopping": _boolean(),
    "validation_fraction": _interval(0, 1, True, False),
    "beta_1": _interval(0, 1, True, False),
    "beta_2": _interval(0, 1, True, False),
    "epsilon": _interval(0, None, False, False),
    "n_iter_no_change": _n_iter_no_change(),
    "max_fun": _interval(1, None, True, False, integer=True),
    "loss": _options("squared_error", "poisson", "absolute_error", "huber", "quantile"),
    "huber_delta": _interval(0, None, False, False),
    "quantile": _quantiles(),
    "weight_decay": _interval(0, None, True, False),
    "lr_schedule": _either(_none(), _options("cosine", "one_cycle", "plateau")),
    "warmup_epochs": _interval(0, None, True, False),
    "plateau_patience": _interval(0, None, True, False, integer=True),
    "plateau_factor": _interval(0, 1, False, False),
    "ema_decay": _either(_none(), _interval(0, 1, False, False)),
    "scoring": _scoring(),
    "label_smoothing": _interval(0, 1, True, False),
    "normalization": _either(_none(), _options("batch", "layer")),
    "residual": _boolean(),
    "embedding": _either(_none(), _options("periodic")),
    "n_frequencies": _interval(1, None, True, False, integer=True),
    "embedding_dim": _interval(1, None, True, False, integer=True),
    "frequency_scale": _interval(0, None, False, False),
    "n_members": _interval(1, None, True, False, integer=True),
    # bpcore.preprocessing.PiecewiseLinearEncoder
    "n_bins": _interval(1, None, True, False, integer=True),
    "subsample": _either(_none(), _interval(2, None, True, False, integer=True)),
    "init": _options("glorot_uniform", "he_normal", "he_uniform", "lecun_normal"),
    "clip_norm": _either(_none(), _interval(0, None, False, False)),
    "clip_value": _either(_none(), _interval(0, None, False, False)),
    "param_change_tol": _either(_none(), _interval(0, None, True, False)),
    "callbacks": _callbacks(),
    "progress_bar": _boolean(),
    "class_weight": _class_weight(),
}


def check_params(estimator):
    """Raise InvalidParameterError naming the first hyperparameter that is invalid."""
    name = type(estimator).__name__
    params = estimator.get_params(deep=False)
    for key, value in params.items():
        rule = PARAMETER_RULES.get(key)
        if key == "hidden_layer_sizes":
            hidden_layer_sizes(value, name)
        elif key == "dropout":
            dropout_rates(value, len(hidden_layer_sizes(params["hidden_layer_sizes"], name)), name)
        elif rule is not None and not rule[0](value):
            raise InvalidParameterError(
                f"The '{key}' parameter of {name} must be {rule[1]}. Got {value!r} instead."
            )


def _settings(est, in_use):
    """"name=value" of each parameter whose flag in `in_use` (name -> bool) is set."""
    return [f"{name}={getattr(est, name)!r}" for name, used in in_use.items() if used]


def check_combinations(estimator, has_validation):
    """Parameters valid one by one that do not go together."""
    est = estimator
    if est.solver == "sgd" and est.learning_rate != "constant" and (
            est.lr_schedule is not None or est.warmup_epochs > 0):
        named = _settings(est, {"lr_schedule": est.lr_schedule is not None,
                                "warmup_epochs": est.warmup_epochs > 0})
        raise InvalidParameterError(
            f"{' and '.join(named)} set{'s' if len(named) == 1 else ''} the rate of every "
            f"step; {'it replaces' if len(named) == 1 else 'they replace'} "
            f"learning_rate={est.learning_rate!r}, which must then be 'constant'.")
    if est.solver in ("sgd", "adam") and est.weight_decay * est.learning_rate_init >= 1:
        raise InvalidParameterError(
            f"weight_decay={est.weight_decay!r} with learning_rate_init="
            f"{est.learning_rate_init!r}: each step multiplies the weights by 1 - "
            "learning_rate_init * weight_decay, which must stay above 0.")
    if (est.normalization == "batch" and est.solver in ("sgd", "adam")
            and _is_int(est.batch_size) and est.batch_size < 2):
        raise InvalidParameterError(
            f"normalization='batch' normalizes with the statistics of each batch; "
            f"batch_size={est.batch_size!r} has one row. Use batch_size >= 2 or "
            "normalization='layer'.")
    if est.n_members > 1 and est.normalization == "batch":
        raise InvalidParameterError(
            f"n_members={est.n_members} stacks each batch once per member; batch "
            "normalization's statistics would mix the members. Use normalization='layer' "
            "or None.")
    if est.solver == "lbfgs":
        # bpcore's options of the steps and epochs, which L-BFGS does not have (scikit-
        # learn's own, such as momentum, stay ignored by it as in scikit-learn)
        unused = {
            "dropout": np.any(np.asarray(est.dropout, dtype=object) != 0),
            "clip_norm": est.clip_norm is not None,
            "clip_value": est.clip_value is not None,
            "weight_decay": est.weight_decay != 0,
            "lr_schedule": est.lr_schedule is not None,
            "warmup_epochs": est.warmup_epochs != 0,
            "ema_decay": est.ema_decay is not None,
            "param_change_tol": est.param_change_tol is not None,
            "callbacks": bool(est.callbacks),
            "progress_bar": bool(est.progress_bar),
        }
        named = _settings(est, unused)
        if named:
            raise InvalidParameterError(
                f"{', '.join(named)} act{'s' if len(named) == 1 else ''} on the steps or "
                "epochs of solver='sgd' or 'adam'; solver='lbfgs' minimizes the whole "
                "objective with scipy and has neither. Leave "
                f"{'it' if len(named) == 1 else 'them'} at the default or choose "
                "solver='sgd' or 'adam'.")
    if has_validation and est.solver == "lbfgs":
        raise InvalidParameterError(
            "X_val and y_val are scored after each epoch of 'sgd' or 'adam'; solver='lbfgs' "
            "has no epochs. Score the fitted model on them instead.")


def class_path(obj):
    """The full name of `obj`'s class (``sklearn.neural_network...MLPClassifier``), for
    messages where the class's short name would be ambiguous."""
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def hidden_layer_sizes(value, name="the estimator"):
    """The hidden layer sizes as a list of positive ints."""
    sizes = list(value) if hasattr(value, "__iter__") and not isinstance(value, str) else [value]
    for size in sizes:
        if not _is_int(size) or size < 1:
            raise InvalidParameterError(
                f"The 'hidden_layer_sizes' parameter of {name} must be an int >= 1 or a "
                f"sequence of ints >= 1. Got {value!r} instead."
            )
    return [int(size) for size in sizes]


def dropout_rates(value, n_hidden, name="the estimator"):
    """The dropout probability of each hidden layer."""
    rates = [value] * n_hidden if np.ndim(value) == 0 else list(value)
    valid = len(rates) == n_hidden and all(_is_real(r) and 0 <= r < 1 for r in rates)
    if not valid:
        raise InvalidParameterError(
            f"The 'dropout' parameter of {name} must be a float in [0, 1) or one such "
            f"float per hidden layer ({n_hidden}). Got {value!r} instead."
        )
    return [float(r) for r in rates]


def check_poisson_target(Y):
    if np.any(Y < 0):
        raise ValueError(
            "loss='poisson' requires non-negative y (counts or rates); "
            f"got a minimum of {Y.min()}."
        )
