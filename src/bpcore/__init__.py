"""bpcore: backpropagation for fully-connected networks, compiled, as scikit-learn estimators."""

from ._estimators import (
    IncompatibleModelError,
    MLPClassifier,
    MLPRegressor,
    TrainingDivergedWarning,
)
from .diagnostics import GradientCheck, Gradients, check_gradients, loss_gradient
from ._network import openmp_enabled
from ._show_versions import show_versions
from ._threads import effective_n_threads
from ._validation import InvalidParameterError
from ._version import __version__

__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "TrainingDivergedWarning",
    "IncompatibleModelError",
    "Gradients",
    "GradientCheck",
    "loss_gradient",
    "check_gradients",
    "InvalidParameterError",
    "effective_n_threads",
    "openmp_enabled",
    "show_versions",
    "__version__",
]
