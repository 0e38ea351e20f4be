r"""How many threads the fast path uses, and the pool that runs them.

NumPy releases the GIL inside its array operations, so an element-wise pass
over a long array (an optimiser's update of the flat ``theta``) split into
contiguous chunks runs on several cores at once. The count follows the usual
convention: :func:`set_num_threads` (as ``torch.set_num_threads``), else the
environment variable ``NUMPY_AE_NUM_THREADS``, else the cores this process may
use (``os.sched_getaffinity``, else ``os.cpu_count()``).

Element-wise work gives the same bits whatever the count (each element is
computed by the same operations, only by another thread), so results are
bitwise identical for every thread count, not just for the same one.
"""
from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import ThreadpoolController

__all__ = ["ENV", "num_threads", "set_num_threads", "chunked", "in_slots", "blas_held_to_one", "MIN_CHUNK"]

ENV = "NUMPY_AE_NUM_THREADS"
# elements per thread below which one thread is used: an optimiser step over the deep autoencoder's 561,934
# float32 parameters, in cache-sized blocks, took 893 us on one thread and 972 us on two inside training
# (memory-bound; benchmarks/README.md), so threads engage only for much longer vectors
MIN_CHUNK = 1 << 20

_chosen = None
_pools = {}
_lock = threading.Lock()
_local = threading.local()  # .busy: this thread runs a slot of in_slots (a nested call stays in it)


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check(n, what):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be an integer >= 1; got {n!r}")
    return n


def num_threads():
    """The thread count in force (see the module docstring)."""
    if _chosen is not None:
        return _chosen
    env = os.environ.get(ENV)
    if env is not None and env.strip():
        try:
            return _check(int(env), ENV)
        except ValueError:
            raise ValueError(f"{ENV} must be an integer >= 1; got {env!r}") from None
    return _available_cores()


def set_num_threads(n):
    """Use ``n`` threads in the fast path from now on (``None``: back to the environment / the cores)."""
    global _chosen
    _chosen = None if n is None else _check(n, "n")


def _pool(n):
    with _lock:
        pool = _pools.get(n)
        if pool is None:
            pool = _pools[n] = ThreadPoolExecutor(n, thread_name_prefix="numpy_ae")
        return pool


def chunked(fn, size, threads=None):
    """Call ``fn(slice)`` on contiguous slices covering ``range(size)``, on ``threads`` threads at once.

    One slice, in the calling thread, when there is one thread or too little work for two. An exception in
    any slice is raised here after every slice has finished.
    """
    n = num_threads() if threads is None else _check(threads, "threads")
    n = 1 if getattr(_local, "busy", False) else min(n, max(1, size // MIN_CHUNK))
    if n == 1:
        fn(slice(0, size))
        return
    bounds = [size * i // n for i in range(n + 1)]
    futures = [_pool(n).submit(fn, slice(a, b)) for a, b in zip(bounds[1:-1], bounds[2:])]
    try:
        fn(slice(bounds[0], bounds[1]))  # the calling thread takes the first chunk
    finally:
        for f in futures:
            f.result()


_blas = []


def _blas_libraries():
    """NumPy's BLAS thread pools (found once; threadpoolctl)."""
    if not _blas:
        _blas.append(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _blas[0]


def in_slots(work, n_items, threads=None):
    """Run ``work(item, slot)`` for ``item in range(n_items)``: item ``i`` on slot ``i % T`` of ``T`` threads,
    each slot's items in order, with NumPy's BLAS held to one thread meanwhile (each slot's matrix
    products run in its own thread, so that BLAS's own threads do not compete with them). Returns the
    results, indexed by item (``slot`` lets ``work`` keep scratch arrays per thread). A caller that sums
    the results in item order gets the same bits whichever thread computed each. ``T`` is
    :func:`num_threads` (or ``threads``), at most ``n_items``; one slot runs in the calling thread,
    BLAS untouched. A call from inside a slot (nested: a layer's chunks inside a step that
    :mod:`numpy_ae.train.parallel` split by rows) runs every item in the calling thread, as does
    :func:`chunked`: the threads are already busy.
    """
    T = min(num_threads() if threads is None else _check(threads, "threads"), max(n_items, 1))
    nested = getattr(_local, "busy", False)
    if nested:  # inside a slot already (a step split by rows, numpy_ae.train.parallel): its thread does it all
        T = 1
    results = [None] * n_items

    def slot(k):
        _local.busy = True
        try:
            for i in range(k, n_items, T):
                results[i] = work(i, k)
        finally:
            _local.busy = nested if k == 0 else False

    if T == 1:
        slot(0)
        return results
    with blas_held_to_one():
        futures = [_pool(T).submit(slot, k) for k in range(1, T)]
        try:
            slot(0)
        finally:
            for f in futures:
                f.result()
    return results


@contextlib.contextmanager
def blas_held_to_one():
    """Hold NumPy's BLAS to one thread inside the ``with`` block; restore its counts after (nestable).

    A training loop whose steps run their own threads (:mod:`numpy_ae.train.parallel`) holds it for a
    whole epoch: a BLAS call with two threads leaves its second thread spinning on the other core for a
    while after it returns, which is the core the step's second thread needs.
    """
    libraries = _blas_libraries()
    before = [lib.num_threads for lib in libraries]
    for lib, n in zip(libraries, before):
        if n != 1:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libraries, before):
            if n != 1:
                lib.set_num_threads(n)
