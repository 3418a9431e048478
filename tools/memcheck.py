"""Run a small fit/predict workload under valgrind's memcheck and report the errors that
involve bpcore's compiled code.

    python tools/memcheck.py            # needs valgrind (apt-get install valgrind)

Python's own allocator and the BLAS report noise of their own, so the whole log is
kept (memcheck.log) and only errors with a bpcore frame in their stack are counted.
Exit status 1 when there is one.
"""

import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

WORKLOAD = textwrap.dedent(
    """
    import warnings
    import numpy as np
    import scipy.sparse as sp
    import bpcore
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 7))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    for dtype in (np.float64, np.float32):
        for params in (dict(), dict(activation="gelu", dropout=0.3, clip_norm=1.0),
                       dict(solver="sgd", batch_size=1, alpha=0.1), dict(solver="lbfgs")):
            m = bpcore.MLPClassifier((9, 5), max_iter=3, random_state=0, **params)
            m.fit(X.astype(dtype), y)
            m.predict_proba(X.astype(dtype))
            m.predict(np.repeat(X, 5, axis=0).astype(dtype))
    m = bpcore.MLPRegressor(hidden_layer_sizes=(6,), max_iter=3).fit(sp.csr_matrix(X), X[:, 0])
    m.predict(sp.csc_matrix(X))
    bpcore.check_gradients(bpcore.MLPClassifier((4,), max_iter=2).fit(X, y), X[:10], y[:10])
    # narrowing layers: their weight gradients run in bands of input rows
    Xw = rng.normal(size=(120, 150))
    bpcore.MLPClassifier((70, 40), normalization="layer", alpha=0.1, max_iter=2,
                         random_state=0).fit(Xw, y).predict(Xw)
    bpcore.MLPClassifier((70,), n_members=3, max_iter=2, random_state=0).fit(
        Xw.astype(np.float32), y).predict_proba(Xw.astype(np.float32))
    bpcore.MLPRegressor(hidden_layer_sizes=(70,), max_iter=2, random_state=0).fit(
        sp.csr_matrix(np.where(Xw > 1, Xw, 0)), X[:, 0])
    print("workload done")
    """
)


def main():
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    log = pathlib.Path("memcheck.log")
    command = ["valgrind", "--tool=memcheck", "--track-origins=yes", "--num-callers=30",
               f"--log-file={log}", sys.executable, "-c", WORKLOAD]
    print("$", " ".join(command[:-2]), sys.executable, "-c <workload>", flush=True)
    run = subprocess.run(command, env={"PYTHONMALLOC": "malloc", "OMP_NUM_THREADS": "2",
                                       "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True)
    print(run.stdout.strip())
    text = log.read_text(errors="replace")
    blocks = re.split(r"\n==\d+== \n", text)
    errors = [b for b in blocks if re.search(r"Invalid (read|write)|uninitialised|Mismatched free|"
                                              r"Invalid free|overlap", b)]
    ours = [b for b in errors if "_network" in b or "bpcore" in b]
    summary = re.findall(r"ERROR SUMMARY: .*", text)
    print(f"valgrind: {summary[-1] if summary else 'no summary'}")
    print(f"errors with a bpcore frame: {len(ours)} (of {len(errors)} memory errors in the log)")
    for block in ours[:5]:
        print(block[:2000])
    sys.exit(1 if ours or run.returncode != 0 else 0)


if __name__ == "__main__":
    main()
