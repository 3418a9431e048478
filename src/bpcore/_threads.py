"""Threads, one owner: OpenMP runs bpcore's parallel regions and BLAS stays on one thread.

The thread count follows scikit-learn's OpenMP estimators: OpenMP's own setting
(``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``), capped by the CPUs this
process may run on.  While a kernel runs parallel regions, BLAS is limited to one
thread, so that each OpenMP thread's BLAS call runs on that thread alone (two
pools on the same cores cost 10-47x on a dense step; DESIGN.md).
"""

import os

from threadpoolctl import ThreadpoolController

from . import _network

_controller = None


def effective_n_threads() -> int:
    """Threads bpcore's parallel regions use now."""
    if hasattr(os, "sched_getaffinity"):
        n_cpus = len(os.sched_getaffinity(0))
    else:
        n_cpus = os.cpu_count() or 1
    return max(1, min(_network.omp_max_threads(), n_cpus))


def blas_single_threaded():
    """Context manager: every loaded BLAS limited to one thread."""
    global _controller
    if _controller is None:
        # scanning the loaded libraries takes about a millisecond: do it once
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
