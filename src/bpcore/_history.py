"""What a fit records and shows over its epochs: per-layer statistics, the progress
display and verbose lines, and the user's callbacks."""

from __future__ import annotations

import numpy as np



class Progress:
    """What the user sees over the epochs.

    ``verbose`` > 0 prints scikit-learn's lines ("Iteration k, loss = ..."), for any
    int, as scikit-learn does.  ``progress_bar=True`` shows a bar over the epochs with
    the loss (tqdm when installed; plain lines otherwise).  Messages (stopping rules)
    go through `message`, so that they never land inside the bar's line.
    """

    def __init__(self, verbose, progress_bar, total):
        self.lines = bool(verbose)
        self.total = total
        self.bar = None
        self.plain = False
        if not progress_bar:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.plain = not self.lines   # scikit-learn's lines already show each epoch
        else:
            self.bar = tqdm(total=total, unit="epoch", leave=True)

    @property
    def active(self):
        return self.bar is not None or self.plain

    def message(self, text):
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def update(self, info):
        """After each epoch (and scikit-learn's line): the bar or the plain line."""
        text = {"loss": f"{info['loss']:.5g}"}
        if info["validation_score"] is not None:
            text["val_score"] = f"{info['validation_score']:.4f}"
        if self.bar is not None:
            self.bar.set_postfix(text, refresh=False)
            self.bar.update(1)
        else:
            extra = "".join(f"  {k} {v}" for k, v in text.items())
            print(f"epoch {info['epoch']}/{self.total}{extra}  ({1e3 * info['seconds']:.1f} ms)",
                  flush=True)

    def close(self):
        """End the bar (once; later calls do nothing)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            self.plain = False


class LayerHistory:
    """Per epoch and layer: gradient norms, weight norms, dead units.

    Published on the estimator as ``gradient_norms_`` (RMS over the epoch's batches of
    ‖∂J/∂θˡ‖), ``weight_norms_`` (‖Wˡ‖ at the epoch's end) and ``dead_units_`` (the
    fraction of a relu-like layer's units that never had a positive output).
    """

    def __init__(self, layer_units, activation):
        self.layer_units = list(layer_units)
        self.tracks_dead = activation in ("relu", "leaky_relu")
        hidden = np.array(self.layer_units[1:-1])
        self._unit_starts = np.concatenate([[0], np.cumsum(hidden)[:-1]]).astype(np.intp)
        self._hidden = hidden
        self.gradient_norms, self.weight_norms, self.dead_units = [], [], []

    def record(self, stats):
        """Add an epoch (an EpochStats: the kernel's per-layer sums)."""
        self.gradient_norms.append(np.sqrt(stats.layer_squares / max(stats.n_batches, 1)))
        self.weight_norms.append(np.sqrt(stats.weight_squares))
        if self.tracks_dead and self._hidden.size:
            alive = np.add.reduceat(stats.alive, self._unit_starts, dtype=np.intp)
            self.dead_units.append(1.0 - alive / self._hidden)
        else:
            self.dead_units.append(np.full(self._hidden.size, np.nan))

    def publish(self, estimator):
        n_layers = len(self.layer_units) - 1
        n_epochs = len(self.gradient_norms)
        estimator.gradient_norms_ = np.array(self.gradient_norms).reshape(n_epochs, n_layers)
        estimator.weight_norms_ = np.array(self.weight_norms).reshape(n_epochs, n_layers)
        estimator.dead_units_ = np.array(self.dead_units).reshape(n_epochs, n_layers - 1)


def epoch_info(estimator, history, learning_rate, seconds):
    """The dict callbacks receive after each epoch."""
    scores = estimator.validation_scores_
    losses = estimator.validation_loss_curve_
    return {
        "epoch": estimator.n_iter_,
        "loss": estimator.loss_,
        "validation_score": scores[-1] if scores else None,
        "validation_loss": losses[-1] if losses else None,
        "gradient_norms": history.gradient_norms[-1],
        "weight_norms": history.weight_norms[-1],
        "dead_units": history.dead_units[-1],
        "learning_rate": learning_rate,
        "seconds": seconds,
    }


def run_callbacks(estimator, info):
    """Call each callback with (model, info); True when one asks to stop."""
    stop = False
    for callback in estimator.callbacks or ():
        if callback(estimator, info) is True:
            stop = True
    return stop
