"""ONNX export, run in onnxruntime against bpcore's own predictions."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (MaxAbsScaler, MinMaxScaler, PolynomialFeatures, RobustScaler,
                                   StandardScaler)

from bpcore import MLPClassifier, MLPRegressor

ort = pytest.importorskip("onnxruntime")
to_onnx = pytest.importorskip("bpcore.onnx").to_onnx

ACTIVATIONS = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu",
               "softplus", "swish"]
# float32: the 1e-5 on probabilities.  float64: rounding, except gelu, whose
# Erf onnxruntime only has in float32 (the graph casts around it).
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}


def session(model):
    return ort.InferenceSession(to_onnx(model).SerializeToString(),
                                providers=["CPUExecutionProvider"])


def fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_classifier_probabilities_and_labels(activation, dtype, n_classes):
    X, y = make_classification(300, 8, n_informative=5, n_classes=n_classes, random_state=0)
    X = X.astype(dtype)
    model = fit(MLPClassifier((7, 5), activation=activation, max_iter=30, random_state=0), X, y)
    labels, probabilities = session(model).run(None, {"X": X})
    assert probabilities.dtype == dtype
    tolerance = 1e-7 if (activation == "gelu" and dtype == np.float64) else TOLERANCE[dtype]
    np.testing.assert_allclose(probabilities, model.predict_proba(X), atol=tolerance, rtol=0)
    np.testing.assert_array_equal(labels, model.predict(X))


def test_string_labels_and_multilabel():
    X, y = make_classification(200, 6, n_informative=4, n_classes=3, random_state=0)
    names = np.array(["cat", "dog", "emu"])[y]
    model = fit(MLPClassifier((6,), max_iter=30, random_state=0), X.astype(np.float32), names)
    labels, _ = session(model).run(None, {"X": X.astype(np.float32)})
    np.testing.assert_array_equal(labels.astype(str), model.predict(X.astype(np.float32)))

    X, Y = make_multilabel_classification(200, 6, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    model = fit(MLPClassifier((6,), max_iter=30, random_state=0), X, Y)
    labels, probabilities = session(model).run(None, {"X": X})
    np.testing.assert_allclose(probabilities, model.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss, n_targets", [("squared_error", 1), ("squared_error", 3),
                                             ("poisson", 1)])
def test_regressor(loss, n_targets, dtype):
    X, y = make_regression(200, 5, n_targets=n_targets, random_state=0)
    y = np.abs(y) / np.abs(y).max() * 3 if loss == "poisson" else y / y.std()
    X = X.astype(dtype)
    model = fit(MLPRegressor(loss=loss, hidden_layer_sizes=(8,), activation="swish",
                             max_iter=40, random_state=0), X, y)
    (prediction,) = session(model).run(None, {"X": X})
    expected = model.predict(X).reshape(len(X), -1)
    np.testing.assert_allclose(prediction, expected, rtol=TOLERANCE[dtype] * 10,
                               atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options, n_targets", [
    (dict(loss="absolute_error"), 1), (dict(loss="huber", huber_delta=0.5), 2),
    (dict(loss="quantile", quantile=[0.1, 0.5, 0.9]), 1),
    (dict(loss="quantile", quantile=[0.2, 0.8]), 3)])
def test_robust_regressors(options, n_targets, dtype):
    X, y = make_regression(200, 5, n_targets=n_targets, random_state=0)
    X = X.astype(dtype)
    model = fit(MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0, **options),
                X, y / y.std())
    (prediction,) = session(model).run(None, {"X": X})
    expected = model.predict(X)
    if expected.ndim == 1:
        expected = expected.reshape(-1, 1)
    assert prediction.shape == expected.shape
    np.testing.assert_allclose(prediction, expected, rtol=TOLERANCE[dtype] * 10,
                               atol=TOLERANCE[dtype])


@pytest.mark.parametrize("labels", [
    np.array(["only"] * 40),                                   # one class
    np.array([2**63 + 7, 2**63 + 9] * 20, dtype=np.uint64),    # beyond int64
    np.array([True, False] * 20),                              # booleans
])
def test_labels_keep_their_values_and_kind(labels):
    X = np.random.default_rng(0).normal(size=(40, 3))
    model = fit(MLPClassifier((4,), max_iter=5, random_state=0), X, labels)
    predicted, probabilities = session(model).run(None, {"X": X})
    np.testing.assert_array_equal(predicted, model.predict(X))
    ours = model.predict(X)
    if ours.dtype.kind not in "OUS":      # onnxruntime hands strings back as objects
        assert np.asarray(predicted).dtype == ours.dtype
    np.testing.assert_allclose(probabilities, model.predict_proba(X), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalization", [None, "batch", "layer"])
@pytest.mark.parametrize("residual", [False, True])
def test_normalization_and_skip_connections(normalization, residual, dtype):
    X, y = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
    X = (X * 3 + 1).astype(dtype)
    model = fit(MLPClassifier((9, 9, 6), activation="tanh", normalization=normalization,
                              residual=residual, max_iter=30, random_state=0), X, y)
    labels, probabilities = session(model).run(None, {"X": X})
    np.testing.assert_allclose(probabilities, model.predict_proba(X), atol=TOLERANCE[dtype],
                               rtol=0)
    np.testing.assert_array_equal(labels, model.predict(X))
    reg = fit(MLPRegressor(hidden_layer_sizes=(6, 6), normalization=normalization,
                           residual=residual,
                           max_iter=30, random_state=0), X, y.astype(dtype))
    (values,) = session(reg).run(None, {"X": X})
    np.testing.assert_allclose(values.ravel(), reg.predict(X), rtol=0,
                               atol=TOLERANCE[dtype] * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalization", [None, "batch"])
def test_periodic_embeddings(normalization, dtype):
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
    X = X.astype(dtype)
    model = fit(MLPClassifier((9, 9), embedding="periodic", n_frequencies=5, embedding_dim=3,
                              normalization=normalization, residual=True, max_iter=20,
                              random_state=0), X, y)
    labels, probabilities = session(model).run(None, {"X": X})
    np.testing.assert_allclose(probabilities, model.predict_proba(X), atol=TOLERANCE[dtype],
                               rtol=0)
    np.testing.assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(), dict(normalization="layer", residual=True),
                                     dict(embedding="periodic", n_frequencies=3,
                                          embedding_dim=2)])
def test_ensembles(options, dtype):
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
    X = X.astype(dtype)
    for classes in (3, 2):
        target = y if classes == 3 else (y > 0).astype(int)
        model = fit(MLPClassifier((9, 9), n_members=4, max_iter=20, random_state=0,
                                  **options), X, target)
        labels, probabilities = session(model).run(None, {"X": X})
        np.testing.assert_allclose(probabilities, model.predict_proba(X),
                                   atol=TOLERANCE[dtype], rtol=0)
        np.testing.assert_array_equal(labels, model.predict(X))
    reg = fit(MLPRegressor(hidden_layer_sizes=(6, 6), n_members=3, max_iter=20,
                           random_state=0, **options), X, y.astype(dtype))
    (values,) = session(reg).run(None, {"X": X})
    np.testing.assert_allclose(values.ravel(), reg.predict(X), rtol=0,
                               atol=TOLERANCE[dtype] * 10)


SCALERS = {
    "standard": lambda: StandardScaler(),
    "standard_no_mean": lambda: StandardScaler(with_mean=False),
    "minmax": lambda: MinMaxScaler((-1, 2)),
    "maxabs": lambda: MaxAbsScaler(),
    "robust": lambda: RobustScaler(),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scalers", [["standard"], ["minmax"], ["maxabs"], ["robust"],
                                     ["standard_no_mean", "passthrough", "minmax"]])
def test_pipeline_of_scalers(scalers, dtype):
    X, y = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
    X = (X * [1, 10, 100, 0.1, 1, 5, 50, 2] + 3).astype(dtype)   # raw features of any scale
    steps = [SCALERS[s]() if s != "passthrough" else "passthrough" for s in scalers]
    pipeline = fit(make_pipeline(*steps, MLPClassifier((9,), max_iter=40, random_state=0)), X, y)
    labels, probabilities = session(pipeline).run(None, {"X": X})
    assert probabilities.dtype == dtype
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(X),
                               atol=TOLERANCE[dtype] * 10, rtol=0)
    np.testing.assert_array_equal(labels, pipeline.predict(X))
    # without its scalers the graph would see the raw features: they matter here
    raw = session(pipeline[-1]).run(None, {"X": X})[1]
    assert np.abs(raw - probabilities).max() > 0.1


def test_pipeline_regressor():
    X, y = make_regression(200, 5, random_state=0)
    pipeline = fit(make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), max_iter=30,
                                                                random_state=0)), X, y)
    (variable,) = session(pipeline).run(None, {"X": X})
    np.testing.assert_allclose(variable.ravel(), pipeline.predict(X), rtol=1e-10, atol=1e-9)


def test_what_cannot_be_converted_is_named():
    X, y = make_classification(100, 4, random_state=0)
    network = MLPClassifier((5,), max_iter=5, random_state=0)
    with pytest.raises(TypeError, match=r"step 'polynomialfeatures' \(PolynomialFeatures\)"):
        to_onnx(fit(make_pipeline(PolynomialFeatures(), network), X, y))
    with pytest.raises(TypeError, match="MinMaxScaler\\(clip=True\\)"):
        to_onnx(fit(make_pipeline(MinMaxScaler(clip=True), network), X, y))
    with pytest.raises(TypeError, match="final step 'logisticregression' is sklearn.linear_model._logistic.LogisticRegression"):
        to_onnx(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y))
    with pytest.raises(TypeError, match="not sklearn.linear_model._logistic.LogisticRegression"):
        to_onnx(LogisticRegression().fit(X, y))
    with pytest.raises(NotFittedError):
        to_onnx(make_pipeline(StandardScaler(), MLPClassifier()))
    # a scaler's fitted array edited to another length is named, not handed to the runtime
    edited = fit(make_pipeline(StandardScaler(), network), X, y)
    edited[0].scale_ = edited[0].scale_[:2]
    with pytest.raises(ValueError, match=r"'standardscaler' has scale_ of shape \(2,\); "
                                         r"the network takes 4 features"):
        to_onnx(edited)
