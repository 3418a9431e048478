"""Pictures of training: loss curves and per-layer gradient norms over epochs.

Needs matplotlib (``pip install bpcore[plot]``).  The gradient-norm picture is the one
that shows vanishing gradients (the first layers' norms far below the last's) and
exploding ones (norms that grow without bound).
"""

import numpy as np


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # an optional extra
        raise ImportError(
            "bpcore.plot needs matplotlib: pip install 'bpcore[plot]'"
        ) from error
    return plt


def plot_loss(model, ax=None):
    """The training loss per epoch, and the validation loss with early stopping."""
    plt = _pyplot()
    if ax is None:
        ax = plt.subplots(figsize=(5, 3.5))[1]
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


def plot_gradient_norms(model, ax=None, title=None):
    """Each layer's gradient norm per epoch (root mean square over the batches)."""
    plt = _pyplot()
    if ax is None:
        ax = plt.subplots(figsize=(5, 3.5))[1]
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
    ax.legend(fontsize="x-small", ncol=2)
    return ax


def plot_training(model):
    """Loss curves and gradient norms side by side; returns the figure."""
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    plot_loss(model, left)
    plot_gradient_norms(model, right)
    figure.tight_layout()
    return figure
