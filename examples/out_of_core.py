"""Training on data larger than memory: partial_fit over chunks of a numpy.memmap.

    python examples/out_of_core.py

Writes a 200000 x 100 float32 array to a memory-mapped file (80 MB; make it as large
as the disk allows), then trains block by block.  Each partial_fit is one epoch over
its chunk; bpcore's workspaces are sized by the batch, so memory stays at one chunk
plus the model whatever the file's size.
"""

import os
import tempfile
import time

import numpy as np

import bpcore

n_samples, n_features, chunk = 200_000, 100, 20_000
path = os.path.join(tempfile.mkdtemp(), "X.dat")
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
