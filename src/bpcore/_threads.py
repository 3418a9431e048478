"""Threads, one owner: OpenMP runs bpcore's parallel regions and BLAS stays on one thread.

The thread count follows scikit-learn's OpenMP estimators: OpenMP's own setting
(``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``), capped by the CPUs this
process may run on.  While a kernel runs parallel regions, BLAS is limited to one
thread, so that each OpenMP thread's BLAS call runs on that thread alone (two
thread pools competing for the same cores made a dense training step 10-47x slower
in bpcore's measurements).
"""

import os
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

from . import _network

_controller = None
_lock = threading.Lock()
_holders = 0        # calls inside blas_single_threaded now, over all threads
_limiter = None     # the limit in force while _holders > 0


def effective_n_threads() -> int:
    """Threads bpcore's parallel regions use now."""
    if hasattr(os, "sched_getaffinity"):
        n_cpus = len(os.sched_getaffinity(0))
    else:
        n_cpus = os.cpu_count() or 1
    return max(1, min(_network.omp_max_threads(), n_cpus))


def _after_fork_in_child():
    # a fork copies this lock and count as they were, held perhaps by a thread the
    # child does not have: start the child's afresh (and give BLAS back its threads)
    global _lock, _holders, _limiter
    limiter = _limiter
    _lock, _holders, _limiter = threading.Lock(), 0, None
    if limiter is not None:
        try:
            limiter.restore_original_limits()
        except Exception:  # noqa: BLE001 - best effort: the child keeps one BLAS thread
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def blas_single_threaded():
    """Context manager: every loaded BLAS limited to one thread while it is open.

    Safe when several Python threads fit or predict at once: the first to enter sets
    the limit and the last to leave restores the previous setting (threadpoolctl's
    own save/restore would interleave across threads and could leave BLAS at one
    thread for good).
    """
    global _controller, _holders, _limiter
    with _lock:
        if _controller is None:
            # scanning the loaded libraries takes about a millisecond: do it once
            _controller = ThreadpoolController()
        if _holders == 0:
            _limiter = _controller.limit(limits=1, user_api="blas")
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                _limiter.restore_original_limits()
                _limiter = None
