"""
Export a model to ONNX and run it in onnxruntime
================================================

:func:`bpcore.onnx.to_onnx` writes the network's forward pass as an ONNX graph
(outputs ``label`` and ``probabilities`` for a classifier), which onnxruntime runs
without bpcore or scikit-learn. The script trains a small classifier with GELU units on
the digits in float32, exports it, and checks that onnxruntime predicts the same
labels and, to float32 rounding, the same probabilities as the model itself::

    pip install ".[onnx]" && python examples/onnx_export.py [model.onnx]

The model is written to the path given, or to a temporary file removed afterwards.
"""

import os
import sys
import tempfile
import warnings

import numpy as np
import onnxruntime as ort
from sklearn.datasets import load_digits

import bpcore
from bpcore.onnx import to_onnx

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
warnings.simplefilter("ignore")   # a short demo fit: no ConvergenceWarning
model = bpcore.MLPClassifier((64,), activation="gelu", max_iter=50, random_state=0).fit(X, y)
folder = None if len(sys.argv) > 1 else tempfile.mkdtemp()
path = sys.argv[1] if folder is None else os.path.join(folder, "digits.onnx")
with open(path, "wb") as f:
    f.write(to_onnx(model).SerializeToString())

session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
labels, probabilities = session.run(None, {"X": X})
if folder is not None:
    os.remove(path)
    os.rmdir(folder)
else:
    print("wrote", path)
print("labels agree:", bool((labels == model.predict(X)).all()),
      "| largest probability difference:", float(np.abs(probabilities - model.predict_proba(X)).max()))
