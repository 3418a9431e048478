"""A pytest plugin: scikit-learn's MLP estimators are bpcore's.

Loaded with ``-p sklearn_mlp_as_bpcore`` before scikit-learn's own test module is
imported, so that its ``from sklearn.neural_network import MLPClassifier,
MLPRegressor`` picks up bpcore's estimators and the installed file runs unchanged.
"""

import sklearn.neural_network

import bpcore

sklearn.neural_network.MLPClassifier = bpcore.MLPClassifier
sklearn.neural_network.MLPRegressor = bpcore.MLPRegressor
