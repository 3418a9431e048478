"""The README's demo problem: digits, 75/25 split, StandardScaler, (100,), defaults."""

import numpy as np
import sklearn.neural_network as sknn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import bpcore


def digits_split():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def test_digits_accuracy_at_least_sklearn():
    X_train, X_test, y_train, y_test = digits_split()
    ours = bpcore.MLPClassifier(random_state=0).fit(X_train, y_train)
    theirs = sknn.MLPClassifier(random_state=0).fit(X_train, y_train)
    assert ours.score(X_test, y_test) >= theirs.score(X_test, y_test)
    assert ours.score(X_test, y_test) > 0.95


def test_digits_float32_trains_in_float32():
    X_train, X_test, y_train, y_test = digits_split()
    model = bpcore.MLPClassifier(random_state=0).fit(X_train.astype(np.float32), y_train)
    assert all(c.dtype == np.float32 for c in model.coefs_ + model.intercepts_)
    assert model.predict_proba(X_test.astype(np.float32)).dtype == np.float32
    assert model.score(X_test.astype(np.float32), y_test) > 0.95
