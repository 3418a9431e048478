"""The vanishing gradient, measured, and two cures: a 10-hidden-layer network of
logistic units on digits, plain, with batch normalization, with skip connections and
with both; beside it, relu units with He initialisation.

    pip install "bpcore[plot]" && python examples/vanishing_gradients.py [output.png]

Writes docs/vanishing_gradients.png (or the given file): each layer's gradient norm
over the epochs.  Plain logistic units shrink δ at every layer (σ' <= 1/4): the first
layers' gradients are orders of magnitude below the last layer's.  Batch
normalization keeps each layer's pre-activations near zero with unit variance, where
σ' is largest; a skip connection adds ∂J/∂Aˡ to ∂J/∂Aˡ⁻¹ unchanged, so δ reaches the
first layers through the identity.
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
figure, axes = plt.subplots(2, 2, figsize=(12, 8), sharey=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for axis, (title, options) in zip(axes.ravel(), variants.items()):
        model = MLPClassifier(**common, **options).fit(X, y)
        norms = model.gradient_norms_
        plot_gradient_norms(model, axis, title=title)
        print(f"{title:32s} first/last layer gradient norm, epoch 1: "
              f"{norms[0, 0]:.2e}/{norms[0, -1]:.2e} (ratio {norms[0, 0] / norms[0, -1]:.1e}); "
              f"test accuracy after {model.n_iter_} epochs {model.score(X_test, y_test):.3f}")
figure.suptitle("Per-layer gradient norm ‖∂J/∂θˡ‖ over epochs, 10 hidden layers of 32, "
                "digits, SGD")
figure.tight_layout()
out = (pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else
       pathlib.Path(__file__).resolve().parents[1] / "docs" / "vanishing_gradients.png")
figure.savefig(out, dpi=80)
print(f"wrote {out}")
