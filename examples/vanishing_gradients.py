"""
Vanishing gradients, measured, and their cures
==============================================

A network of ten hidden layers of 32 logistic units, trained on the digits with
plain SGD, learns almost nothing: backpropagation multiplies the error δ by the
logistic derivative σ' ≤ 1/4 at every layer, so the first layers' gradients are
orders of magnitude below the last layer's. Each panel below plots every layer's
gradient norm ‖∂J/∂θˡ‖ over the epochs (``model.gradient_norms_``, drawn with
:func:`bpcore.plot.plot_gradient_norms`) for the same network and data:

- plain logistic units: the gradients vanish;
- ``normalization="batch"``: each layer's pre-activations are kept centred with unit
  variance, where σ' is largest;
- ``residual=True``: a skip connection passes ∂J/∂Aˡ to the layer below unchanged,
  so δ reaches the first layers through the identity;
- relu units with He initialisation (``init="he_normal"``), whose derivative is 1
  wherever a unit is active.

The script prints, for each variant, the ratio of the first to the last layer's
gradient norm in the first epoch and the test accuracy. Run it yourself with::

    pip install ".[plot]" && python examples/vanishing_gradients.py [output.png]

It writes ``docs/vanishing_gradients.png`` (the picture in the README), or the file
given.
"""

import pathlib
import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from bpcore import MLPClassifier  # noqa: E402
from bpcore.plot import plot_gradient_norms  # noqa: E402

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
X, X_test, y, y_test = train_test_split(X, y, random_state=0)
common = dict(hidden_layer_sizes=(32,) * 10, solver="sgd", learning_rate_init=0.01,
              max_iter=30, random_state=0)
variants = {
    "logistic: gradients vanish": dict(activation="logistic"),
    "logistic + batch normalization": dict(activation="logistic", normalization="batch"),
    "logistic + skip connections": dict(activation="logistic", residual=True),
    "relu, He init": dict(activation="relu", init="he_normal"),
}
figure, axes = plt.subplots(2, 2, figsize=(12, 8), sharey=True, layout="constrained")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for axis, (title, options) in zip(axes.ravel(), variants.items()):
        model = MLPClassifier(**common, **options).fit(X, y)
        norms = model.gradient_norms_
        plot_gradient_norms(model, axis, title=title, legend=False)
        print(f"{title:32s} first/last layer gradient norm, epoch 1: "
              f"{norms[0, 0]:.2e}/{norms[0, -1]:.2e} (ratio {norms[0, 0] / norms[0, -1]:.1e}); "
              f"test accuracy after {model.n_iter_} epochs {model.score(X_test, y_test):.3f}")
figure.suptitle("Per-layer gradient norm ‖∂J/∂θˡ‖ over epochs, 10 hidden layers of 32, "
                "digits, SGD")
# one legend for the four panels (the same layers), beside them
figure.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside right center",
              fontsize="small")
out = (pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else
       pathlib.Path(__file__).resolve().parents[1] / "docs" / "vanishing_gradients.png")
figure.savefig(out, dpi=80)
print(f"wrote {out}")
