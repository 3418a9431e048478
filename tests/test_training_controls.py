"""The BP method's controls beyond scikit-learn: activations, dropout, clipping,
divergence, the ε rule, callbacks, class weights, batch modes, initialisation,
per-layer statistics, and the gradient API."""

import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from threadpoolctl import threadpool_limits

import bpcore
from bpcore import MLPClassifier, MLPRegressor, TrainingDivergedWarning, _reference
from conftest import kernel_objective, make_targets, random_params
from test_gradients import LAYERS, finite_difference_gradient, relative_error

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_dropout_gradient_matches_finite_differences_with_fixed_mask(activation, rng):
    X = rng.normal(size=(17, LAYERS[0]))
    Y = make_targets("log_loss", 17, LAYERS[-1], rng)
    theta = random_params(LAYERS, rng)
    objective = kernel_objective(LAYERS, activation, "log_loss", 0.1, X, Y,
                                 dropout=[0.3, 0.5], dropout_seed=1234)
    numeric = finite_difference_gradient(objective, theta, 1e-5)
    assert relative_error(objective(theta)[1], numeric) < 1e-6
    # the mask is real: without it the gradient differs
    plain = kernel_objective(LAYERS, activation, "log_loss", 0.1, X, Y)
    assert relative_error(plain(theta)[1], numeric) > 1e-3


def test_dropout_masks_follow_the_seed_not_the_threads(rng):
    layers = [20, 64, 32, 3]
    X = rng.normal(size=(400, 20))
    Y = make_targets("log_loss", 400, 3, rng)
    theta = random_params(layers, rng, scale=0.3)
    grads = [kernel_objective(layers, "relu", "log_loss", 0.0, X, Y, n_threads=t,
                              dropout=[0.5, 0.5], dropout_seed=s)(theta)[1]
             for t, s in ((1, 7), (2, 7), (2, 8))]
    np.testing.assert_allclose(grads[0], grads[1], rtol=0, atol=1e-13)
    assert relative_error(grads[2], grads[1]) > 1e-2


def test_loss_gradient_api_matches_reference(digits):
    X, y = digits
    model = MLPClassifier((12, 7), activation="swish", alpha=0.3, max_iter=3, random_state=0)
    model.fit(X[:300], y[:300])
    result = bpcore.loss_gradient(model, X[:50], y[:50], return_layers=True)
    layer_units = model._fitted_state().layer_units
    Y = model._label_binarizer.transform(y[:50]).astype(float)
    data, penalty, flat = _reference.loss_gradient(model._params, X[:50], Y, layer_units,
                                                   "swish", "log_loss", 0.3)
    assert result.loss == pytest.approx(data + penalty, rel=1e-12)
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in result.coef_grads + result.intercept_grads]),
                               flat, rtol=1e-9, atol=1e-13)
    assert [a.shape for a in result.activations] == [(50, 64), (50, 12), (50, 7), (50, 10)]
    np.testing.assert_allclose(result.activations[-1], model.predict_proba(X[:50]), rtol=1e-12)
    np.testing.assert_allclose(result.deltas[-1], result.activations[-1] - Y, atol=1e-15)


def test_check_gradients_reports_every_layer(digits):
    X, y = digits
    model = MLPClassifier((16, 8), activation="elu", dropout=0.3, max_iter=3, random_state=0)
    model.fit(X[:200], y[:200])
    report = bpcore.check_gradients(model, X[:15], y[:15], dropout_seed=3)
    assert [layer["layer"] for layer in report.layers] == [0, 1, 2]
    assert report.max_relative_error < 1e-6
    assert "worst entry" in str(report)
    # a wrong gradient is caught: check against a model whose kernel is fed wrong data
    sampled = bpcore.check_gradients(model, X[:15], y[:15], max_checks_per_layer=5)
    assert all(layer["n_checked"] == 5 for layer in sampled.layers)


# ------------------------------------------------------- vanishing, exploding
def test_deep_logistic_network_vanishes_and_relu_he_does_not(digits):
    X, y = digits
    deep = dict(hidden_layer_sizes=(32,) * 10, max_iter=2, random_state=0, solver="sgd",
                learning_rate_init=0.01)
    logistic = MLPClassifier(activation="logistic", **deep).fit(X, y)
    relu = MLPClassifier(activation="relu", init="he_normal", **deep).fit(X, y)
    first, last = logistic.gradient_norms_[0, 0], logistic.gradient_norms_[0, -1]
    assert last / first > 1e3        # orders of magnitude: the vanishing gradient
    ratio = relu.gradient_norms_[0, -1] / relu.gradient_norms_[0, 0]
    assert 0.1 < ratio < 10


def test_huge_learning_rate_diverges_and_keeps_last_finite_weights():
    # unscaled targets and a large rate: three epochs complete, the fourth diverges
    X, y = make_regression(300, 10, noise=1.0, random_state=0)
    model = MLPRegressor(hidden_layer_sizes=(32,), solver="sgd", learning_rate_init=0.01, momentum=0.0,
                         max_iter=50, random_state=0, batch_size=20)
    kept = {}
    model.set_params(callbacks=[lambda m, info: kept.update(params=m._params.copy())])
    with pytest.warns(TrainingDivergedWarning, match=r"diverged in epoch 4.*coefs_\[\d\]"):
        model.fit(X, y)
    assert all(np.isfinite(c).all() for c in model.coefs_ + model.intercepts_)
    assert model.n_iter_ == 3
    np.testing.assert_array_equal(model._params, kept["params"])   # the last complete epoch
    assert np.isfinite(model.predict(X)).all()
    assert len(model.loss_curve_) == model.n_iter_


@pytest.mark.parametrize("solver, rate", [("sgd", 1e38)])   # (Adam's steps are ≈ η)
def test_a_step_that_overflows_the_weights_is_divergence_too(solver, rate):
    # finite losses and gradients, but η g beyond float32's range: the weights of the
    # last finite epoch are kept (never published as inf or NaN)
    rng = np.random.RandomState(0)
    X = rng.randn(100, 3).astype(np.float32)
    y = 10 * X[:, 0]
    model = MLPRegressor(hidden_layer_sizes=(4,), solver=solver, momentum=0.0,
                         batch_size="full", max_iter=1, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    before = model._params.copy()
    model.set_params(learning_rate_init=rate, max_iter=3)
    with pytest.warns(TrainingDivergedWarning, match="a step made the weights non-finite"):
        model.fit(X, y)
    np.testing.assert_array_equal(model._params, before)
    assert np.isfinite(model.predict(X)).all()
    # and as the first epoch of a fit there is no model to keep: scikit-learn's error
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        MLPRegressor(hidden_layer_sizes=(4,), solver=solver, momentum=0.0, batch_size="full",
                     learning_rate_init=rate, max_iter=3, random_state=0).fit(X, y)


def test_clipping_keeps_the_huge_learning_rate_finite_and_learning():
    X, y = make_regression(300, 10, noise=1.0, random_state=0)
    y = y / y.std()
    model = MLPRegressor(hidden_layer_sizes=(32,), solver="sgd", learning_rate_init=10.0, momentum=0.0,
                         max_iter=30, random_state=0, batch_size=20, clip_norm=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingDivergedWarning)
        model.fit(X, y)
    assert model.n_iter_ == 30
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]


def one_full_batch_step(**params):
    """θ₁ - θ₀ for one plain SGD step over the whole data, from the same θ₀."""
    X, y = make_classification(120, 6, random_state=0)
    model = MLPClassifier((5,), solver="sgd", momentum=0.0, batch_size="full", max_iter=1,
                          shuffle=False, random_state=0, learning_rate_init=0.5)
    model.fit(X, y)
    before = model._params.copy()
    model.set_params(warm_start=True, **params).fit(X, y)
    return model._params - before


def test_clip_norm_bounds_the_step():
    raw = one_full_batch_step()
    clipped = one_full_batch_step(clip_norm=1e-3)
    assert np.linalg.norm(raw) > 0.5 * 1e-3 * 10
    # one plain SGD step moves θ by η g: clipped, by exactly η c
    assert np.linalg.norm(clipped) == pytest.approx(0.5 * 1e-3, rel=1e-3)
    np.testing.assert_allclose(clipped / np.linalg.norm(clipped), raw / np.linalg.norm(raw),
                               atol=1e-8)


def test_clip_value_bounds_each_entry():
    raw = one_full_batch_step()
    clipped = one_full_batch_step(clip_value=1e-3)
    assert np.abs(raw).max() > 0.5 * 1e-3
    assert np.abs(clipped).max() <= 0.5 * 1e-3 * (1 + 1e-12)
    small = np.abs(raw) < 0.5 * 1e-3
    np.testing.assert_allclose(clipped[small], raw[small], rtol=1e-12)


# ------------------------------------------------------------ stopping, hooks
def test_param_change_tol_stops_when_every_change_is_below_epsilon(digits):
    X, y = digits
    changes = []
    previous = {}

    def record(model, info):
        if "params" in previous:
            changes.append(np.abs(model._params - previous["params"]).max())
        previous["params"] = model._params.copy()

    common = dict(hidden_layer_sizes=(20,), solver="sgd", learning_rate="invscaling",
                  learning_rate_init=0.05, power_t=0.9, max_iter=200, tol=0,
                  n_iter_no_change=10**6, random_state=0)
    free = MLPClassifier(**common).fit(X, y)
    ruled = MLPClassifier(param_change_tol=1e-4, callbacks=[record], **common).fit(X, y)
    assert free.n_iter_ == 200
    assert ruled.n_iter_ < 200
    assert changes[-1] < 1e-4 and all(c >= 1e-4 for c in changes[:-1])


def test_callbacks_see_every_epoch_and_can_stop(digits):
    X, y = digits
    seen = []

    def stop_at_five(model, info):
        seen.append(info)
        return info["epoch"] == 5

    model = MLPClassifier((10,), max_iter=50, early_stopping=True, random_state=0,
                          callbacks=[stop_at_five]).fit(X, y)
    assert model.n_iter_ == 5
    assert [info["epoch"] for info in seen] == [1, 2, 3, 4, 5]
    assert seen[-1]["loss"] == model.loss_curve_[-1]
    assert seen[-1]["validation_loss"] == model.validation_loss_curve_[-1]
    assert seen[-1]["gradient_norms"].shape == (2,)


def test_validation_loss_recorded_with_early_stopping(digits):
    X, y = digits
    model = MLPClassifier((10,), max_iter=15, early_stopping=True, random_state=0).fit(X, y)
    assert len(model.validation_loss_curve_) == len(model.validation_scores_) == model.n_iter_
    assert np.all(np.isfinite(model.validation_loss_curve_))
    assert model.validation_loss_curve_[-1] < model.validation_loss_curve_[0]


def test_class_weight_is_sample_weight(digits):
    X, y = digits
    X, y = X[:400], np.where(y[:400] < 2, y[:400], 2)
    weights = {0: 3.0, 1: 0.5, 2: 1.0}
    a = MLPClassifier((8,), max_iter=5, random_state=0, class_weight="balanced").fit(X, y)
    b = MLPClassifier((8,), max_iter=5, random_state=0).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_array_equal(a._params, b._params)
    c = MLPClassifier((8,), max_iter=5, random_state=0, class_weight=weights).fit(X, y)
    assert not np.array_equal(a._params, c._params)
    with pytest.raises(ValueError, match="balanced"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


# -------------------------------------------------------------- batch modes
def test_batch_modes(digits):
    X, y = digits
    X, y = X[:300], y[:300]
    common = dict(hidden_layer_sizes=(10,), max_iter=2, random_state=0, shuffle=False)
    full = MLPClassifier(batch_size="full", **common).fit(X, y)
    explicit = MLPClassifier(batch_size=300, **common).fit(X, y)
    np.testing.assert_array_equal(full._params, explicit._params)
    stochastic = MLPClassifier(batch_size=1, **common).fit(X, y)
    assert stochastic._optimizer.step == 2 * 300
    assert full._optimizer.step == 2


# ----------------------------------------------------------------- dropout
def test_dropout_trains_differently_reproducibly_and_is_off_at_predict(digits):
    X, y = digits
    common = dict(hidden_layer_sizes=(40, 20), max_iter=5, random_state=0)
    plain = MLPClassifier(**common).fit(X, y)
    dropped = MLPClassifier(dropout=0.5, **common).fit(X, y)
    again = MLPClassifier(dropout=0.5, **common).fit(X, y)
    assert not np.allclose(plain._params, dropped._params)
    np.testing.assert_array_equal(dropped._params, again._params)
    # prediction: the plain forward pass with the trained weights, no masks
    expected = _reference.forward(dropped._params, X, dropped._fitted_state().layer_units, "relu", "log_loss")[-1]
    np.testing.assert_allclose(dropped.predict_proba(X), expected, rtol=1e-10)
    np.testing.assert_array_equal(dropped.predict_proba(X), dropped.predict_proba(X))
    with threadpool_limits(1, user_api="openmp"):
        single = MLPClassifier(dropout=0.5, **common).fit(X, y)
    np.testing.assert_allclose(single._params, dropped._params, rtol=0, atol=1e-12)


def test_dropout_per_layer_rates(digits):
    X, y = digits
    model = MLPClassifier((300, 200), activation="tanh", dropout=[0.0, 0.6], max_iter=1,
                          random_state=0).fit(X[:100], y[:100])
    layers = bpcore.loss_gradient(model, X[:100], y[:100], return_layers=True,
                                  dropout_seed=11).activations
    # tanh outputs are never exactly 0: the zeros are the dropped units
    assert (layers[1] == 0).mean() == 0
    assert (layers[2] == 0).mean() == pytest.approx(0.6, abs=0.01)


# ------------------------------------------------------------- statistics, init
def test_layer_statistics_shapes_and_dead_units(digits):
    X, y = digits
    model = MLPClassifier((20, 10), max_iter=4, random_state=0).fit(X, y)
    assert model.gradient_norms_.shape == (4, 3)
    assert model.weight_norms_.shape == (4, 3)
    assert model.dead_units_.shape == (4, 2)
    np.testing.assert_allclose(model.weight_norms_[-1],
                               [np.linalg.norm(c) for c in model.coefs_])
    # kill three units of the first hidden layer: their bias makes every z < 0
    model.intercepts_[0][:3] = -1e6
    model.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert model.dead_units_[-1, 0] >= 3 / 20
    tanh = MLPClassifier((5,), activation="tanh", max_iter=2).fit(X, y)
    assert np.isnan(tanh.dead_units_).all()


@pytest.mark.parametrize("init, std", [("he_normal", np.sqrt(2 / 400)),
                                        ("he_uniform", np.sqrt(2 / 400)),
                                        ("lecun_normal", np.sqrt(1 / 400))])
def test_initialisations(init, std):
    X = np.random.default_rng(0).normal(size=(20, 400))
    y = np.arange(20) % 2
    model = MLPClassifier((500,), init=init, max_iter=1, learning_rate_init=1e-12,
                          random_state=0).fit(X, y)
    assert model.coefs_[0].std() == pytest.approx(std, rel=0.02)
    assert abs(model.coefs_[0].mean()) < 0.01 * std
    np.testing.assert_allclose(model.intercepts_[0], 0, atol=1e-9)


def test_progress_lines_without_tqdm(digits, without_tqdm):
    X, y = digits
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        MLPClassifier((5,), max_iter=3, progress_bar=True, random_state=0).fit(X, y)
    lines = buffer.getvalue().strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3  loss ")
    # the stopping message comes after the last epoch's line
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        MLPClassifier((5,), max_iter=50, progress_bar=True, verbose=1, n_iter_no_change=1,
                      tol=10.0, random_state=0).fit(X, y)
    lines = buffer.getvalue().strip().splitlines()
    assert lines[-1].endswith("Stopping.") and lines[-2].startswith("Iteration 3, loss")


@pytest.mark.parametrize("verbose", [1, 2, 10, 100, True])
def test_any_positive_verbose_prints_scikit_learns_lines(digits, verbose):
    X, y = digits
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        MLPClassifier((5,), max_iter=3, verbose=verbose, random_state=0).fit(X, y)
    lines = buffer.getvalue().strip().splitlines()
    assert [line.split(",")[0] for line in lines] == ["Iteration 1", "Iteration 2", "Iteration 3"]


def test_plots_draw(digits, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from bpcore.plot import plot_training

    X, y = digits
    model = MLPClassifier((10, 10), max_iter=5, early_stopping=True, random_state=0).fit(X, y)
    figure = plot_training(model)
    left, right = figure.axes
    assert len(left.lines) == 2 and len(right.lines) == 3
    figure.savefig(tmp_path / "training.png")
    assert (tmp_path / "training.png").stat().st_size > 1000


def test_plots_say_what_they_need(digits, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn.neural_network import MLPClassifier as SklearnMLP

    from bpcore.plot import plot_gradient_norms, plot_loss, plot_training

    X, y = digits
    pictures = (plot_loss, plot_gradient_norms, plot_training)
    for picture in pictures:
        with pytest.raises(NotFittedError):
            picture(MLPClassifier())
        with pytest.raises(TypeError, match="not of sklearn.neural_network.*MLPClassifier"):
            picture(SklearnMLP((3,), max_iter=1))
    lbfgs = MLPClassifier((5,), solver="lbfgs", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lbfgs.fit(X, y)
    for picture in pictures:
        with pytest.raises(ValueError, match="solver='lbfgs', which has no epochs"):
            picture(lbfgs)
    # a Pipeline: its final step's history
    pipeline = make_pipeline(StandardScaler(), MLPClassifier((5,), max_iter=3, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(X, y)
    ax = plot_loss(pipeline)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), pipeline[-1].loss_curve_)
    ax = plot_gradient_norms(pipeline)
    assert len(ax.lines) == 2
    # saved alone, the labels stay inside the picture
    figure = ax.figure
    figure.savefig(tmp_path / "norms.png")
    renderer = figure.canvas.get_renderer()
    box = figure.bbox
    legend = ax.get_legend()
    for label in (ax.xaxis.label, ax.yaxis.label, legend):
        extent = label.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1
    # the legend lies beside the plotting area, over no curve
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    assert plot_gradient_norms(pipeline, legend=False).get_legend() is None
