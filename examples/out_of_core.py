"""
Training on data larger than memory
===================================

``partial_fit`` trains one epoch over the rows it is given and continues from the
current weights, so a model can learn from a file far larger than memory, chunk by
chunk. This script writes a 200000 × 100 float32 array to a memory-mapped file
(80 MB; make it as large as the disk allows), then trains on it block by block, three
passes over the file. bpcore's workspaces are sized by the batch, not by the data, so
memory stays at one chunk plus the model whatever the file's size::

    python examples/out_of_core.py

The file is removed at the end.
"""

import os
import shutil
import tempfile
import time

import numpy as np

import bpcore

n_samples, n_features, chunk = 200_000, 100, 20_000
folder = tempfile.mkdtemp()
path = os.path.join(folder, "X.dat")
rng = np.random.default_rng(0)
X = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_samples, n_features))
for start in range(0, n_samples, chunk):             # written chunk by chunk, too
    X[start : start + chunk] = rng.normal(size=(chunk, n_features))
X.flush()
w = rng.normal(size=n_features)
y = np.concatenate([(np.asarray(X[s : s + chunk]) @ w > 0).astype(int)
                    for s in range(0, n_samples, chunk)])

X = np.memmap(path, dtype=np.float32, mode="r", shape=(n_samples, n_features))
model = bpcore.MLPClassifier((64,), random_state=0)
start = time.perf_counter()
for epoch in range(3):
    for s in range(0, n_samples, chunk):
        model.partial_fit(X[s : s + chunk], y[s : s + chunk], classes=[0, 1])
print(f"3 passes over {n_samples} memory-mapped rows in {time.perf_counter() - start:.2f} s; "
      f"accuracy on the last chunk {model.score(X[-chunk:], y[-chunk:]):.3f}")
del X
shutil.rmtree(folder)                               # the 80 MB file
