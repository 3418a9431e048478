"""The training recipe beyond scikit-learn's: validation data and scoring, decoupled
weight decay, learning-rate schedules, the parameters' moving average, label smoothing
and the robust regression losses.

Each is checked against an independent reference: finite differences of the objective,
and a PyTorch model trained on the same batches from the same weights (float64, 1e-9).
"""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.metrics import d2_pinball_score, log_loss
from sklearn.model_selection import train_test_split

import bpcore
from bpcore import MLPClassifier, MLPRegressor
from bpcore._engine import Engine, TrainingData
from bpcore._state import ModelState, initial_params
from bpcore._validation import InvalidParameterError

from conftest import (assert_same_weights_with_1_and_2_threads, needs_two_threads, quiet_fit,
                      torch_epochs)

N_ROWS, BATCH, EPOCHS = 90, 32, 3      # 32 does not divide 90: a short last batch


def regression_data(n_outputs=1, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(N_ROWS, 5))
    Y = X @ rng.normal(size=(5, n_outputs)) + 0.3 * rng.standard_t(2, size=(N_ROWS, n_outputs))
    return X, Y if n_outputs > 1 else Y.ravel()


def classification_data(n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(N_ROWS, 5))
    y = (X @ rng.normal(size=(5, n_classes))).argmax(axis=1)
    return X, y


def from_weights(model, X, y, epochs=EPOCHS, **fit_kwargs):
    """`model` trained for `epochs` from fixed initial weights (drawn here, so the torch
    twin starts from the same), the batches in order; returns the initial weights."""
    quiet_fit(model.set_params(max_iter=1, warm_start=False), X, y)
    rng = np.random.RandomState(7)
    coefs = [rng.uniform(-0.5, 0.5, c.shape) for c in model.coefs_]
    intercepts = [rng.uniform(-0.5, 0.5, b.shape) for b in model.intercepts_]
    model.coefs_, model.intercepts_ = [c.copy() for c in coefs], [b.copy() for b in intercepts]
    quiet_fit(model.set_params(max_iter=epochs, warm_start=True, shuffle=False,
                               n_iter_no_change=10**6), X, y, **fit_kwargs)
    return coefs, intercepts


def torch_twin(coefs, intercepts):
    torch = pytest.importorskip("torch")
    layers = []
    for W, b in zip(coefs, intercepts):
        linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def torch_train(net, X, Y, loss_sum, optimizer, epochs=EPOCHS, batch_scheduler=None,
                epoch_scheduler=None, after_step=None):
    """Epochs of mini-batches in order; the batch objective is the mean over its rows of
    the loss summed over the outputs, as bpcore's.  Returns each epoch's loss."""
    return torch_epochs(net, X, Y, lambda net, xb, yb: loss_sum(net(xb), yb) / len(xb),
                        optimizer, epochs, BATCH, after_step, batch_scheduler,
                        epoch_scheduler)


def torch_weights(net):
    linears = [m for m in net if hasattr(m, "weight")]
    return ([m.weight.detach().numpy().T for m in linears],
            [m.bias.detach().numpy() for m in linears])


def assert_same_weights(model, net, atol=1e-9):
    coefs, intercepts = torch_weights(net)
    for ours, theirs in zip(model.coefs_ + model.intercepts_, coefs + intercepts):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=atol)


def adam(net, lr=0.01, weight_decay=0.0):
    # bpcore's Adam is scikit-learn's (ε added to √v with the bias correction folded into
    # the step), torch's adds ε to √v̂: with a vanishing ε the two are the same algorithm
    torch = pytest.importorskip("torch")
    if weight_decay:
        return torch.optim.AdamW(net.parameters(), lr=lr, eps=1e-30, weight_decay=weight_decay)
    return torch.optim.Adam(net.parameters(), lr=lr, eps=1e-30)


def adam_model(cls=MLPRegressor, **params):
    return cls(**{**dict(hidden_layer_sizes=(6, 4), solver="adam", learning_rate_init=0.01,
                         epsilon=1e-30, alpha=0.0, batch_size=BATCH, random_state=0), **params})


# ------------------------------------------------------------ regression losses
def pinball_sum(quantiles):
    torch = pytest.importorskip("torch")
    q = torch.tensor(quantiles, dtype=torch.float64)

    def loss(out, y):
        y = y.reshape(len(y), -1).repeat_interleave(len(quantiles), dim=1)
        r = out - y
        return torch.where(r > 0, (1 - q.repeat(out.shape[1] // len(quantiles))) * r,
                           -q.repeat(out.shape[1] // len(quantiles)) * r).sum()
    return loss


def torch_loss(name, **options):
    torch = pytest.importorskip("torch")
    if name == "absolute_error":
        return lambda out, y: torch.nn.L1Loss(reduction="sum")(out, y.reshape(out.shape))
    if name == "huber":
        fn = torch.nn.HuberLoss(reduction="sum", delta=options["huber_delta"])
        return lambda out, y: fn(out, y.reshape(out.shape))
    if name == "squared_error":
        return lambda out, y: 0.5 * torch.nn.MSELoss(reduction="sum")(out, y.reshape(out.shape))
    return pinball_sum(list(np.atleast_1d(options["quantile"])))


ROBUST = [
    ("absolute_error", {}, 1),
    ("huber", {"huber_delta": 0.7}, 1),
    ("huber", {"huber_delta": 0.4}, 2),
    ("quantile", {"quantile": 0.8}, 1),
    ("quantile", {"quantile": [0.1, 0.5, 0.9]}, 1),
    ("quantile", {"quantile": [0.25, 0.75]}, 2),
]


@pytest.mark.parametrize("loss, options, n_outputs", ROBUST,
                         ids=[f"{c[0]}-{c[2]}out-{c[1]}" for c in ROBUST])
def test_robust_losses_train_as_torch(loss, options, n_outputs):
    X, y = regression_data(n_outputs)
    model = adam_model(loss=loss, **options)
    coefs, intercepts = from_weights(model, X, y)
    net = torch_twin(coefs, intercepts)
    curve = torch_train(net, X, y, torch_loss(loss, **options), adam(net))
    assert_same_weights(model, net)
    np.testing.assert_allclose(model.loss_curve_[-EPOCHS:], curve, rtol=1e-9)


@pytest.mark.parametrize("loss, options, n_outputs", ROBUST,
                         ids=[f"{c[0]}-{c[2]}out-{c[1]}" for c in ROBUST])
def test_robust_losses_gradient_is_the_finite_difference(loss, options, n_outputs):
    X, y = regression_data(n_outputs, seed=1)
    model = MLPRegressor(loss=loss, hidden_layer_sizes=(6,), activation="tanh",
                         **options)
    Y = model._expand_quantiles(np.asarray(y).reshape(N_ROWS, -1))
    units = [5, 6, Y.shape[1]]
    params = initial_params(np.random.RandomState(3), units, "glorot_uniform", "tanh",
                            np.float64)
    state = ModelState(units, "tanh", loss, params, loss_param=model._loss_param())
    weights = np.random.RandomState(4).uniform(0.5, 2.0, N_ROWS)
    data = TrainingData.from_arrays(X, Y, weights, np.float64)
    engine = Engine(state, params.copy(), data, alpha=0.01, batch_size=N_ROWS)
    _, grad = engine.objective(params)
    h = 1e-6
    for i in np.random.RandomState(5).choice(params.size, 25, replace=False):
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        fd = (engine.objective(up)[0] - engine.objective(down)[0]) / (2 * h)
        assert abs(fd - grad[i]) <= 1e-6 * max(1.0, abs(fd)), (i, fd, grad[i])


def test_quantile_outputs_shapes_and_coverage():
    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    model = quiet_fit(MLPRegressor(loss="quantile", quantile=[0.1, 0.5, 0.9], max_iter=150,
                                   random_state=0), X, y)
    pred = model.predict(X)
    assert pred.shape == (len(y), 3)
    coverage = (y[:, None] <= pred).mean(axis=0)
    # each output is its quantile on the training data, within a few percent
    np.testing.assert_allclose(coverage, [0.1, 0.5, 0.9], atol=0.06)
    expected = np.mean([d2_pinball_score(y, pred[:, k], alpha=q)
                        for k, q in enumerate([0.1, 0.5, 0.9])])
    assert model.score(X, y) == pytest.approx(expected)
    # several targets: (n, n_targets, n_quantiles)
    Y2 = np.column_stack([y, -y])
    model2 = quiet_fit(MLPRegressor(loss="quantile", quantile=[0.2, 0.8], max_iter=5,
                                    random_state=0), X, Y2)
    assert model2.predict(X[:7]).shape == (7, 2, 2)
    assert model2.n_outputs_ == 4
    # the quantiles travel with the model
    copy = pickle.loads(pickle.dumps(model2))
    np.testing.assert_array_equal(copy.predict(X), model2.predict(X))
    assert copy._state.loss_param == (0.2, 0.8)


def test_changing_a_loss_parameter_between_warm_fits_is_refused():
    X, y = regression_data()
    model = quiet_fit(MLPRegressor(loss="huber", max_iter=2, warm_start=True), X, y)
    model.set_params(huber_delta=3.0)
    with pytest.raises(ValueError, match="huber_delta or quantile changed"):
        model.fit(X, y)


# --------------------------------------------------------------- label smoothing
def test_label_smoothing_trains_as_torch_cross_entropy():
    torch = pytest.importorskip("torch")
    X, y = classification_data(4)
    model = adam_model(MLPClassifier, label_smoothing=0.15)
    coefs, intercepts = from_weights(model, X, y)
    net = torch_twin(coefs, intercepts)
    ce = torch.nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.15)
    curve = torch_train(net, X, y, lambda out, t: ce(out, t.long()), adam(net))
    assert_same_weights(model, net)
    np.testing.assert_allclose(model.loss_curve_[-EPOCHS:], curve, rtol=1e-9)


def test_label_smoothing_binary_is_the_smoothed_targets_formula():
    torch = pytest.importorskip("torch")
    X, y = classification_data(2)
    model = adam_model(MLPClassifier, label_smoothing=0.2)
    coefs, intercepts = from_weights(model, X, y)
    net = torch_twin(coefs, intercepts)
    bce = torch.nn.BCEWithLogitsLoss(reduction="sum")
    curve = torch_train(net, X, y, lambda out, t: bce(out.ravel(), t.double() * 0.8 + 0.1),
                        adam(net))
    assert_same_weights(model, net)
    np.testing.assert_allclose(model.loss_curve_[-EPOCHS:], curve, rtol=1e-9)


def test_label_smoothing_gradient_is_the_finite_difference():
    X, y = classification_data(3, seed=2)
    model = quiet_fit(MLPClassifier(hidden_layer_sizes=(5,), label_smoothing=0.1,
                                    max_iter=3, random_state=0), X, y)
    # the gradient of the smoothed objective (targets y (1 - ε) + ε / K)
    state = model._state
    Y = model._training_targets(state.encoder.transform(y).astype(float), state)
    data = TrainingData.from_arrays(X, Y, None, np.float64)
    params = state.params.copy()
    engine = Engine(state, params.copy(), data, alpha=0.0, batch_size=N_ROWS)
    _, grad = engine.objective(params)
    h = 1e-6
    for i in range(0, params.size, 3):
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        fd = (engine.objective(up)[0] - engine.objective(down)[0]) / (2 * h)
        assert abs(fd - grad[i]) <= 1e-6 * max(1.0, abs(fd))


# -------------------------------------------------- weight decay and schedules
def test_adamw_trains_as_torch_adamw():
    X, y = regression_data(2)
    model = adam_model(weight_decay=0.3)
    coefs, intercepts = from_weights(model, X, y)
    net = torch_twin(coefs, intercepts)
    torch = pytest.importorskip("torch")
    # torch's AdamW decays every parameter it is given: the biases go in a group without
    weights = [m.weight for m in net if hasattr(m, "weight")]
    biases = [m.bias for m in net if hasattr(m, "weight")]
    opt = torch.optim.AdamW([{"params": weights, "weight_decay": 0.3},
                             {"params": biases, "weight_decay": 0.0}], lr=0.01, eps=1e-30)
    torch_train(net, X, y, torch_loss("squared_error"), opt)
    assert_same_weights(model, net)
    # and the decay did something
    plain = adam_model()
    from_weights(plain, X, y)
    assert max(abs(a - b).max() for a, b in zip(plain.coefs_, model.coefs_)) > 1e-4


def test_sgdw_is_its_formula():
    # SGD with momentum and decoupled decay: w <- w (1 - eta lambda), then the step
    torch = pytest.importorskip("torch")
    X, y = regression_data()
    model = MLPRegressor(hidden_layer_sizes=(6, 4), solver="sgd", learning_rate_init=0.05,
                         momentum=0.8, nesterovs_momentum=False, alpha=0.0, batch_size=BATCH,
                         weight_decay=0.5, random_state=0)
    coefs, intercepts = from_weights(model, X, y)
    net = torch_twin(coefs, intercepts)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.8)
    weights = [m.weight for m in net if hasattr(m, "weight")]

    class Decayed:
        def zero_grad(self):
            opt.zero_grad()

        def step(self):
            with torch.no_grad():
                for w in weights:
                    w.mul_(1 - 0.05 * 0.5)
            opt.step()

    # scikit-learn's momentum: v <- mu v - eta g; p <- p + v (torch's, scaled by eta)
    torch_train(net, X, y, torch_loss("squared_error"), Decayed())
    assert_same_weights(model, net)


SCHEDULES = ["cosine", "one_cycle", "warmup", "cosine_warmup"]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_train_as_torch_schedulers(schedule):
    torch = pytest.importorskip("torch")
    X, y = regression_data()
    steps_per_epoch = -(-N_ROWS // BATCH)
    total = EPOCHS * steps_per_epoch
    params = {"cosine": dict(lr_schedule="cosine"),
              "one_cycle": dict(lr_schedule="one_cycle"),
              "warmup": dict(warmup_epochs=1.5),
              "cosine_warmup": dict(lr_schedule="cosine", warmup_epochs=1)}[schedule]
    model = adam_model(**params)
    rates = []
    model.set_params(callbacks=[lambda m, info: rates.append(info["learning_rate"])])
    coefs, intercepts = from_weights(model, X, y)
    net = torch_twin(coefs, intercepts)
    opt = adam(net)
    L = torch.optim.lr_scheduler
    if schedule == "cosine":
        sched = L.CosineAnnealingLR(opt, T_max=total)
    elif schedule == "one_cycle":
        sched = L.OneCycleLR(opt, max_lr=0.01, total_steps=total, cycle_momentum=False)
    elif schedule == "warmup":
        W = 1.5 * steps_per_epoch
        sched = L.LambdaLR(opt, lambda s: min(1.0, (s + 1) / W))
    else:
        W = steps_per_epoch
        sched = L.LambdaLR(opt, lambda s: (s + 1) / W if s < W else
                           0.5 * (1 + np.cos(np.pi * (s - W) / (total - W))))
    seen = []
    torch_train(net, X, y, torch_loss("squared_error"), opt, batch_scheduler=sched,
                after_step=lambda: seen.append(opt.param_groups[0]["lr"]))
    assert_same_weights(model, net)
    # the rate of each epoch's last step, as the callback reports it
    np.testing.assert_allclose(rates[-EPOCHS:], seen[steps_per_epoch - 1::steps_per_epoch],
                               rtol=1e-12)


def test_plateau_cuts_the_rate_as_torch_reduce_on_plateau():
    torch = pytest.importorskip("torch")
    X, y = regression_data()
    epochs = 12
    model = MLPRegressor(hidden_layer_sizes=(6, 4), solver="sgd", learning_rate_init=0.3,
                         momentum=0.9, nesterovs_momentum=False, alpha=0.0, batch_size=BATCH,
                         lr_schedule="plateau", plateau_patience=1, plateau_factor=0.5,
                         random_state=0)
    rates = []
    model.set_params(callbacks=[lambda m, info: rates.append(info["learning_rate"])])
    from_weights(model, X, y, epochs=epochs)
    # torch's rule fed the same training losses gives the same rate for each epoch
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3), factor=0.5, patience=1)
    lrs = []
    for loss in model.loss_curve_[-epochs:]:
        lrs.append(sched.optimizer.param_groups[0]["lr"])
        sched.step(loss)
    np.testing.assert_allclose(rates[-epochs:], lrs, rtol=1e-12)
    assert min(lrs) < 0.3, "the test data must make the rule cut at least once"


def test_plateau_with_adam_trains_as_torch():
    torch = pytest.importorskip("torch")
    X, y = regression_data()
    epochs = 10
    model = adam_model(lr_schedule="plateau", plateau_patience=0, plateau_factor=0.5,
                       learning_rate_init=0.2)
    coefs, intercepts = from_weights(model, X, y, epochs=epochs)
    net = torch_twin(coefs, intercepts)
    opt = adam(net, lr=0.2)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    torch_train(net, X, y, torch_loss("squared_error"), opt, epochs=epochs,
                epoch_scheduler=sched)
    assert_same_weights(model, net, atol=1e-8)
    assert opt.param_groups[0]["lr"] < 0.2


# ------------------------------------------------------------ moving average
def test_ema_is_torch_averaged_model():
    torch = pytest.importorskip("torch")
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    X, y = regression_data()
    model = adam_model(ema_decay=0.9)
    coefs, intercepts = from_weights(model, X, y)
    net = torch_twin(coefs, intercepts)
    average = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    opt = adam(net)
    torch_train(net, X, y, torch_loss("squared_error"), opt,
                after_step=lambda: average.update_parameters(net))
    assert_same_weights(model, average.module, atol=1e-12)
    # the model is the average, the training loss the trained weights'
    trained = adam_model()
    from_weights(trained, X, y)
    np.testing.assert_allclose(trained.loss_curve_, model.loss_curve_, rtol=1e-12)
    assert max(abs(a - b).max() for a, b in zip(trained.coefs_, model.coefs_)) > 1e-3


def test_ema_continues_across_partial_fit_and_restarts_on_fit():
    X, y = regression_data()
    model = MLPRegressor(hidden_layer_sizes=(5,), ema_decay=0.5, random_state=0)
    model.partial_fit(X, y)
    step = model._optimizer.step
    model.partial_fit(X, y)
    assert model._optimizer.step == 2 * step
    quiet_fit(model.set_params(max_iter=1), X, y)
    assert model._optimizer.step == step


# ----------------------------------------------------- validation data, scoring
def digits_split():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0)
    return X_train, X_val, y_train, y_val


def test_given_validation_data_is_scored_every_epoch():
    X, X_val, y, y_val = digits_split()
    model = quiet_fit(MLPClassifier(hidden_layer_sizes=(20,), max_iter=6, random_state=0),
                      X, y, X_val=X_val, y_val=y_val)
    assert len(model.validation_scores_) == len(model.validation_loss_curve_) == 6
    # not early stopping: the last epoch's model, scored as the curve says
    assert model.validation_scores_[-1] == pytest.approx(model.score(X_val, y_val))
    assert model.validation_loss_curve_[-1] == pytest.approx(
        log_loss(y_val, model.predict_proba(X_val)) + 0.0001 * sum(
            (c ** 2).sum() for c in model.coefs_) / (2 * len(y_val)), rel=1e-9)
    assert model.best_loss_ == min(model.loss_curve_)


def test_early_stopping_uses_given_validation_data_and_restores_the_best_epoch():
    X, X_val, y, y_val = digits_split()
    kept = {}

    def remember(model, info):
        kept[info["epoch"]] = [c.copy() for c in model.coefs_]

    model = quiet_fit(MLPClassifier(hidden_layer_sizes=(20,), max_iter=60, early_stopping=True,
                                    n_iter_no_change=3, scoring="loss", random_state=0,
                                    learning_rate_init=0.05, callbacks=[remember]),
                      X, y, X_val=X_val, y_val=y_val)
    scores = model.validation_scores_
    best = int(np.argmax(scores))
    assert model.n_iter_ == len(scores) and best < len(scores) - 1
    # scoring='loss': the score is the negated validation loss
    np.testing.assert_allclose(scores, -np.asarray(model.validation_loss_curve_))
    for ours, best_coefs in zip(model.coefs_, kept[best + 1]):
        np.testing.assert_array_equal(ours, best_coefs)
    # the split of validation_fraction is not made: every training row was trained on
    assert model.t_ == model.n_iter_ * len(y)


def test_scoring_by_name_and_callable():
    X, X_val, y, y_val = digits_split()
    seen = []

    def scorer(model, X_, y_):
        seen.append(len(y_))
        return -np.mean(model.predict(X_) != y_)

    named = quiet_fit(MLPClassifier(hidden_layer_sizes=(10,), max_iter=3, random_state=0,
                                    scoring="neg_log_loss"), X, y, X_val=X_val, y_val=y_val)
    assert named.validation_scores_[-1] == pytest.approx(
        -log_loss(y_val, named.predict_proba(X_val)))
    quiet_fit(MLPClassifier(hidden_layer_sizes=(10,), max_iter=3, random_state=0,
                            scoring=scorer, early_stopping=True), X, y)
    # early stopping's own split: validation_fraction of the rows, every epoch
    assert len(seen) == 3 and set(seen) == {int(np.ceil(0.1 * len(y)))}


def test_validation_data_is_checked():
    X, X_val, y, y_val = digits_split()
    model = MLPClassifier(hidden_layer_sizes=(5,), max_iter=2)
    with pytest.raises(ValueError, match="X_val and y_val must be given together"):
        model.fit(X, y, X_val=X_val)
    with pytest.raises(ValueError, match=r"y_val has labels not in y: \[11\]"):
        model.fit(X, y, X_val=X_val, y_val=np.where(y_val == 3, 11, y_val))
    with pytest.raises(ValueError, match="solver='lbfgs' has no epochs"):
        MLPClassifier(solver="lbfgs").fit(X, y, X_val=X_val, y_val=y_val)
    with pytest.raises(ValueError, match=r"validation data .*X has 10 features"):
        model.fit(X, y, X_val=X_val[:, :10], y_val=y_val)
    with pytest.raises(ValueError, match=r"validation data .*sample_weight"):
        model.fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=np.ones(3))
    with pytest.raises(ValueError, match="needs as many targets as y"):
        MLPRegressor(max_iter=2).fit(X, y.astype(float), X_val=X_val,
                                     y_val=np.column_stack([y_val, y_val]).astype(float))
    Y = np.column_stack([y % 2, y > 4]).astype(int)
    with pytest.raises(ValueError, match="0/1 indicator matrix of 2 columns"):
        model.fit(X, Y, X_val=X_val, y_val=np.column_stack([y_val % 2, y_val]))
    with pytest.raises(ValueError, match="Input X_val contains NaN"):
        bad = X_val.copy()
        bad[0, 0] = np.nan
        model.fit(X, y, X_val=bad, y_val=y_val)


@pytest.mark.parametrize("params, pattern", [
    (dict(lr_schedule="linear"), "'lr_schedule' parameter"),
    (dict(weight_decay=-1.0), "'weight_decay' parameter"),
    (dict(ema_decay=1.0), "'ema_decay' parameter"),
    (dict(label_smoothing=1.0), "'label_smoothing' parameter"),
    (dict(scoring="no_such_metric"), "'scoring' parameter"),
    (dict(warmup_epochs=np.nan), "'warmup_epochs' parameter"),
    (dict(plateau_factor=1.5), "'plateau_factor' parameter"),
    (dict(solver="sgd", learning_rate="adaptive", lr_schedule="cosine"),
     "must then be 'constant'"),
])
def test_recipe_parameters_are_checked(params, pattern):
    X, y = classification_data()
    with pytest.raises(InvalidParameterError, match=pattern):
        MLPClassifier(**params).fit(X, y)


def test_early_stopping_without_a_finite_score_keeps_the_last_epoch():
    X, y = regression_data()
    last = {}
    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, early_stopping=True, n_iter_no_change=2,
                         random_state=0, scoring=lambda est, X_, y_: float("nan"),
                         callbacks=[lambda m, info: last.update(coefs=m.coefs_[0].copy())])
    with pytest.warns(UserWarning, match="no finite validation score"):
        model.fit(X, y)
    assert model.n_iter_ == 3      # NaN never improves: more than 2 epochs without
    np.testing.assert_array_equal(model.coefs_[0], last["coefs"])


def test_a_decay_that_would_flip_the_weights_is_refused():
    X, y = regression_data()
    with pytest.raises(InvalidParameterError, match="must stay above 0"):
        MLPRegressor(weight_decay=30, learning_rate_init=0.1).fit(X, y)


@pytest.mark.parametrize("quantile", [0.0, 1.0, [0.5, 0.5], [], "0.5", [[0.2]]])
def test_quantile_parameter_is_checked(quantile):
    X, y = regression_data()
    with pytest.raises(InvalidParameterError, match="'quantile' parameter"):
        MLPRegressor(loss="quantile", quantile=quantile).fit(X, y)


# ------------------------------------------- dtypes, threads and the defaults
@needs_two_threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_option_at_once_is_independent_of_the_thread_count(dtype):
    X, y = classification_data(3)
    assert_same_weights_with_1_and_2_threads(
        MLPClassifier(hidden_layer_sizes=(70, 40), max_iter=4, random_state=0, weight_decay=0.1,
                      lr_schedule="one_cycle", ema_decay=0.8, label_smoothing=0.1,
                      batch_size=100),
        np.repeat(X, 4, axis=0), np.repeat(y, 4), dtype)


# ---------------------------------------------------------- the recommended settings
def test_recommended_settings_are_plain_parameters():
    from sklearn.base import clone
    clf = MLPClassifier.recommended(random_state=3, max_iter=4)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (256, 256, 256) and params["random_state"] == 3
    assert params["max_iter"] == 4 and params["label_smoothing"] == 0.1
    assert params["lr_schedule"] == "cosine" and params["early_stopping"]
    assert clone(clf).get_params() == params
    reg = MLPRegressor.recommended()
    assert "label_smoothing" not in reg.get_params() and reg.get_params()["dropout"] == 0.0
    X, X_val, y, y_val = digits_split()
    quiet_fit(clf, X, y, X_val=X_val, y_val=y_val)
    assert len(clf.validation_scores_) == clf.n_iter_ <= 4


def test_a_schedule_continues_across_partial_fit():
    # two partial_fit calls are the two epochs of a fit: the step count carries on
    X, y = regression_data()
    params = dict(hidden_layer_sizes=(6,), lr_schedule="cosine", warmup_epochs=1,
                  weight_decay=0.1, ema_decay=0.7, max_iter=2, shuffle=False,
                  batch_size=BATCH, random_state=0, learning_rate_init=0.01)
    whole = quiet_fit(MLPRegressor(**params), X, y)
    parts = MLPRegressor(**params)
    parts.partial_fit(X, y)
    parts.partial_fit(X, y)
    np.testing.assert_array_equal(parts._params, whole._params)


@pytest.mark.parametrize("loss, options", [("absolute_error", {}), ("huber", {"huber_delta": 0.5}),
                                           ("quantile", {"quantile": [0.3, 0.7]})])
def test_robust_losses_in_float32_follow_float64(loss, options):
    X, y = regression_data()
    models = [quiet_fit(MLPRegressor(hidden_layer_sizes=(8,), loss=loss, max_iter=3,
                                     random_state=0, **options), X.astype(dtype), y)
              for dtype in (np.float32, np.float64)]
    assert models[0]._params.dtype == np.float32
    np.testing.assert_allclose(models[0]._params, models[1]._params, rtol=1e-4, atol=1e-5)


def test_loss_gradient_takes_quantile_targets_as_fit_does():
    X, Y = regression_data(n_outputs=2)
    model = quiet_fit(MLPRegressor(hidden_layer_sizes=(6,), loss="quantile",
                                   quantile=[0.1, 0.5, 0.9], max_iter=3, random_state=0), X, Y)
    grads = bpcore.loss_gradient(model, X, Y)
    assert grads.coef_grads[-1].shape == (6, 6)      # 2 targets x 3 quantiles
    report = bpcore.check_gradients(model, X[:20], Y[:20])
    assert max(layer["max_relative_error"] for layer in report.layers) < 1e-6
