"""Where the time of a bpcore epoch goes: GEMM, bpcore's own loops, the OpenMP
runtime, Python, from `perf record` (Linux, `apt-get install linux-perf`).

    python benchmarks/profile_epoch.py            # W-large-like, float32, 3 epochs
    python benchmarks/profile_epoch.py --small    # W-small (digits)

Samples are grouped by the shared object and symbol they fall in.  OpenMP runtime
time is mostly threads waiting at the end of parallel regions.
"""

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

WORKLOAD = {
    "large": """
import numpy as np, os, tempfile, warnings
warnings.simplefilter("ignore")
import bpcore
cache = os.path.join(tempfile.gettempdir(), "bpcore_profile_large.npz")
if not os.path.exists(cache):   # made once, so that the profile is the fits'
    from sklearn.datasets import make_classification
    X, y = make_classification(20000, 784, n_informative=50, n_classes=10, random_state=0)
    np.savez(cache, X=X.astype(np.float32), y=y)
data = np.load(cache)
X, y = data["X"], data["y"]
import time; start = time.perf_counter()
for _ in range(4):
    bpcore.MLPClassifier((256, 128), batch_size=256, alpha=0.0, max_iter=3, tol=0,
                         n_iter_no_change=100, random_state=0).fit(X, y)
print("fit seconds", time.perf_counter() - start)
""",
    "small": """
import numpy as np, warnings
warnings.simplefilter("ignore")
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler
import bpcore
X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X).astype(np.float32)
import time; start = time.perf_counter()
bpcore.MLPClassifier(max_iter=2000, tol=0, n_iter_no_change=10**9, random_state=0).fit(X, y)
print("fit seconds", time.perf_counter() - start)
""",
}

GROUPS = [
    ("GEMM (OpenBLAS kernels and packing)", re.compile(r"[sd]gemm|[sd]gemv|blas", re.I)),
    ("bpcore loops (activations, losses, updates, sums)", re.compile(r"bpcore|_network")),
    ("OpenMP runtime (mostly waiting at region ends)", re.compile(r"gomp|omp")),
    ("libm (exp, log, tanh)", re.compile(r"libm\b|libm\.so|expf|exp|log|tanh")),
    ("memory copies and zeroing", re.compile(r"mem(cpy|move|set)")),
    ("kernel (page faults, scheduling)", re.compile(r"\[kernel|clear_page|^\[k")),
    ("Python, numpy and the rest", re.compile(r".")),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    if shutil.which("perf") is None:
        sys.exit("perf is not installed (apt-get install linux-perf)")
    code = WORKLOAD["small" if args.small else "large"]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        # a first run makes the cached data outside the profile
        subprocess.run([sys.executable, "-c", code.replace("range(4)", "range(0)")], check=True)
        subprocess.run(["perf", "record", "-q", "-o", data, sys.executable, "-c", code],
                       check=True)
        report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                                 "--sort", "dso,symbol"], capture_output=True, text=True,
                                check=True).stdout
    totals = collections.Counter()
    for line in report.splitlines():
        match = re.match(r"\s+([0-9.]+)%\s+(\S+)\s+\[.\]\s+(.*)", line)
        if not match:
            continue
        share, dso, symbol = float(match.group(1)), match.group(2), match.group(3)
        for name, pattern in GROUPS:
            if pattern.search(dso + " " + symbol):
                totals[name] += share
                break
    print("share of CPU samples during the run (Python's start-up and imports included):")
    for name, _ in GROUPS:
        print(f"  {totals[name]:5.1f}%  {name}")


if __name__ == "__main__":
    main()
