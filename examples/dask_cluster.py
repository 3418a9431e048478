"""
bpcore on a Dask cluster
========================

bpcore's estimators follow the contracts of Dask-ML. ``Incremental`` feeds the blocks
of a ``dask.array`` to ``partial_fit`` one after the other, and
``IncrementalSearchCV`` searches hyperparameters with them. A ``LocalCluster`` of two
worker processes on this machine stands in for a real cluster (pass the scheduler's
address to ``Client`` instead); each worker's bpcore uses that worker's threads::

    pip install ".[dask]" && python examples/dask_cluster.py

The work sits under ``if __name__ == "__main__":``: ``LocalCluster`` starts its
workers as new Python processes, which import this file, and without the guard each
of them would start a cluster of its own. (This example is shown here, not run while
the documentation is built.)
"""

import pickle
import time
import warnings

import dask.array as da
import numpy as np
from dask_ml.model_selection import IncrementalSearchCV
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster

import bpcore

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 50)).astype(np.float32)
    y = (X[:, :5].sum(axis=1) > 0).astype(int)
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dX, dy = da.from_array(X, chunks=10_000), da.from_array(y, chunks=10_000)
        start = time.perf_counter()
        model = Incremental(bpcore.MLPClassifier((64,), random_state=0), shuffle_blocks=False)
        model.fit(dX, dy, classes=[0, 1])
        print(f"Incremental fit over {dX.numblocks[0]} blocks: {time.perf_counter() - start:.2f} s, "
              f"accuracy {model.score(dX, dy):.3f}, "
              f"pickled model {len(pickle.dumps(model.estimator_))} bytes")
        search = IncrementalSearchCV(bpcore.MLPClassifier((32,), random_state=0),
                                     {"alpha": [1e-4, 1e-2], "learning_rate_init": [1e-3, 1e-2]},
                                     n_initial_parameters=4, max_iter=5, random_state=0)
        search.fit(dX, dy, classes=[0, 1])
        print("IncrementalSearchCV best:", search.best_params_, f"score {search.best_score_:.3f}")
