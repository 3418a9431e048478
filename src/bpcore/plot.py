"""Pictures of training: loss curves and per-layer gradient norms over epochs.

Needs matplotlib (``pip install matplotlib``, or the ``plot`` extra).  The gradient-norm
picture is the one that shows vanishing gradients (the first layers' norms far below the
last's) and exploding ones (norms that grow without bound).
"""

import numpy as np


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # an optional extra
        raise ImportError(
            "bpcore.plot needs matplotlib: pip install matplotlib"
        ) from error
    return plt


def _trained_model(model, attribute, picture):
    """The fitted bpcore estimator behind `model` (a Pipeline's last step) that has
    `attribute`, or a clear error: NotFittedError before a fit, ValueError for a
    model that does not record it (L-BFGS keeps no per-epoch history)."""
    from sklearn.utils.validation import check_is_fitted

    if hasattr(model, "steps") and hasattr(model, "__getitem__"):
        model = model[-1]               # a Pipeline: its final estimator
    from ._estimators import _BaseMLP
    from ._validation import class_path

    if not isinstance(model, _BaseMLP):
        raise TypeError(f"{picture} draws the history of a bpcore MLPClassifier or "
                        f"MLPRegressor, not of {class_path(model)}.")
    check_is_fitted(model)
    recorded = getattr(model, attribute, None)
    if recorded is None or np.asarray(recorded).size == 0:
        raise ValueError(
            f"{picture} draws {attribute}, which {type(model).__name__} records per epoch "
            "of the stochastic solvers ('sgd', 'adam'); this model "
            + (f"was fitted with solver={model.solver!r}, which has no epochs."
               if getattr(model, "solver", None) == "lbfgs" else "has none."))
    return model


def _new_axes(plt):
    # a figure of its own: laid out so that nothing is clipped when saved alone
    return plt.subplots(figsize=(5, 3.5), layout="constrained")[1]


def plot_loss(model, ax=None):
    """The training loss per epoch, and the validation loss with early stopping.

    `model`: a fitted MLPClassifier or MLPRegressor (stochastic solver), or a Pipeline
    ending in one.  Returns the matplotlib Axes."""
    plt = _pyplot()
    model = _trained_model(model, "loss_curve_", "plot_loss")
    if ax is None:
        ax = _new_axes(plt)
    epochs = np.arange(1, len(model.loss_curve_) + 1)
    ax.plot(epochs, model.loss_curve_, label="training loss")
    validation = getattr(model, "validation_loss_curve_", None)
    if validation:
        ax.plot(epochs[: len(validation)], validation, label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.legend()
    return ax


def plot_gradient_norms(model, ax=None, title=None, legend=True):
    """Each layer's gradient norm per epoch (root mean square over the batches).

    `model`: as for plot_loss.  The legend (one entry per layer) goes to the right of
    the axes, where it covers no curve (on axes of your own, save with a constrained
    layout or ``bbox_inches="tight"`` so that it is kept); ``legend=False`` leaves it
    out (for a figure legend shared by several panels).  Returns the matplotlib Axes."""
    plt = _pyplot()
    model = _trained_model(model, "gradient_norms_", "plot_gradient_norms")
    if ax is None:
        ax = _new_axes(plt)
    norms = np.asarray(model.gradient_norms_)
    epochs = np.arange(1, norms.shape[0] + 1)
    colours = plt.cm.viridis(np.linspace(0, 0.9, norms.shape[1]))
    for layer in range(norms.shape[1]):
        n_in, n_out = model.coefs_[layer].shape
        ax.plot(epochs, norms[:, layer], color=colours[layer],
                label=f"layer {layer + 1} ({n_in}→{n_out})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("‖∂J/∂θˡ‖")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1),
                  borderaxespad=0)
    return ax


def plot_training(model):
    """Loss curves and gradient norms side by side; returns the figure."""
    plt = _pyplot()
    model = _trained_model(model, "loss_curve_", "plot_training")
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    plot_loss(model, left)
    plot_gradient_norms(model, right)
    return figure
