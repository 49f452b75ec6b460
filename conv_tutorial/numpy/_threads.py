"""The NumPy backend's threads: independent blocks of an engine's work run on every core.

NumPy's ufuncs (``np.multiply``, ``np.add``, ``np.einsum``) run on one core: unlike PyTorch,
which splits an operation across its threads (``torch.set_num_threads``), a NumPy call uses a
single thread however large its arrays. But NumPy releases Python's global interpreter lock (the
GIL) inside such a call on a large array, so calls made from several Python threads at once run
at the same time, each on its own core. The depthwise engine (chapter 6) cuts its work into blocks
that stay in a core's cache and that write disjoint parts of the output; :func:`run_blocks` hands
those blocks to a pool of threads, created once for the process and reused (starting threads costs
more than a small layer takes), and the calling thread works through the blocks with them.
While they do, each thread keeps to a core of its own (:func:`_cores` says why).

Which thread runs a block changes nothing in it: a block is computed by the same sequence of
operations on the same values whatever the number of threads, so results are bit-identical for
1 thread or 16. :func:`set_num_threads` and :func:`get_num_threads` set and read the number of
threads, as ``torch.set_num_threads`` does for PyTorch; it defaults to the cores this process may
use.

Chapter 6 teaches the depthwise engine whose blocks this runs; no chapter prints it. PyTorch
needs no twin of this module: its operations split their own work over ``torch.get_num_threads()``
threads.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .._checks import check_positive_int

__all__ = ["available_cores", "even_block_size", "get_num_threads", "run_blocks", "set_num_threads"]

_lock = threading.Lock()
_num_threads: int | None = None  # None: the cores available
_pool: ThreadPoolExecutor | None = None  # get_num_threads() - 1 threads: the caller is the last one
_pool_size = 0
_pool_cores: list[int] | None = None  # the calling thread's core, then one for each of the pool's threads


def available_cores() -> int:
    """The number of cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads the NumPy backend's engines use, like ``torch.get_num_threads``.

    By default, the number of cores this process may use (its CPU affinity, where the system
    has one, else ``os.cpu_count()``); :func:`set_num_threads` changes it.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> import conv_tutorial.numpy as cnp
    >>> cnp.get_num_threads() >= 1
    True
    """
    return available_cores() if _num_threads is None else _num_threads


def set_num_threads(num_threads: int) -> None:
    """Set the number of threads the NumPy backend's engines use, like ``torch.set_num_threads``.

    NumPy's ufuncs run on one core each, and release the GIL while they work on large arrays: the
    depthwise engine runs its blocks on this many threads at once (the calling thread and a pool
    of ``num_threads - 1`` others, started on first use), each on a core of its own while there
    are enough. Results do not depend on it: every output element is computed by the same
    operations whatever the number of threads.

    Parameters
    ----------
    num_threads : int
        At least 1; 1 runs everything on the calling thread.

    Examples
    --------
    >>> import conv_tutorial.numpy as cnp
    >>> before = cnp.get_num_threads()
    >>> cnp.set_num_threads(1)
    >>> cnp.get_num_threads()
    1
    >>> cnp.set_num_threads(before)
    >>> cnp.set_num_threads(0)
    Traceback (most recent call last):
    ...
    ValueError: set_num_threads: num_threads must be a positive int, got num_threads=0
    """
    global _num_threads
    _num_threads = check_positive_int("set_num_threads", "num_threads", num_threads)


def _cores(threads: int) -> list[int] | None:
    """One core for each of ``threads`` threads (the calling thread's first), or None if too few.

    Measured on a two-core virtual machine, the scheduler often ran the pool's thread on the
    calling thread's core (each hand-over of the GIL wakes the other thread, and Linux wakes a
    thread on the core of the one that woke it), so that both took turns on one core while the
    other stood idle: no faster than one thread, whole calls at a time. The threads of a call
    are therefore kept on distinct cores of those the process may use: each of the pool's on its
    own, and the calling thread on the first, for the length of the call only.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    return cores[:threads] if threads <= len(cores) else None


def _pin_pool_thread(cores: list[int], taken) -> None:
    """The pool's initializer: its ``k``-th thread runs on ``cores[k + 1]`` only."""
    with contextlib.suppress(OSError):  # a core taken away meanwhile: the thread goes unpinned
        os.sched_setaffinity(0, {cores[1 + next(taken) % (len(cores) - 1)]})


def _workers() -> tuple[ThreadPoolExecutor, list[int] | None]:
    """The process's pool of ``get_num_threads() - 1`` threads, started on first use and kept, and their cores.

    After :func:`set_num_threads` changed the count, the next call starts a new pool; blocks
    already handed to the old one still run. Its threads are pinned to distinct cores
    (:func:`_cores`), where there are enough.
    """
    global _pool, _pool_size, _pool_cores
    size = max(1, get_num_threads() - 1)
    with _lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            cores = _cores(size + 1)
            pin = {} if cores is None else {"initializer": _pin_pool_thread, "initargs": (cores, itertools.count())}
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="conv_tutorial", **pin)
            _pool_size, _pool_cores = size, cores
        return _pool, _pool_cores


@contextlib.contextmanager
def _on_core(core: int | None):
    """Keep the calling thread on ``core`` (None: anywhere) inside the block, then give its cores back."""
    before = None
    if core is not None:
        with contextlib.suppress(OSError):
            before = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: start a new pool when one is needed."""
    global _pool, _pool_size, _pool_cores, _lock
    _pool, _pool_size, _pool_cores, _lock = None, 0, None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


class _Blocks:
    """Blocks ``0 .. count - 1`` handed out one at a time to the threads that work on them.

    Each thread makes its own worker (its scratch arrays) with ``make_worker()`` when it takes its
    first block. A thread that starts after the last block was taken finds nothing and returns.
    The first exception raised by a worker stops the handing out; :meth:`wait` raises it in the
    calling thread once no block is in progress.
    """

    def __init__(self, count: int, make_worker: Callable[[], Callable[[int], None]]):
        self.next_block, self.count, self.make_worker = 0, count, make_worker
        self.done, self.busy, self.error = 0, 0, None
        self.changed = threading.Condition(threading.Lock())

    def work(self) -> None:
        """Take blocks until there are none left (or one failed), running each with this thread's worker."""
        worker = None
        while True:
            with self.changed:
                if self.error is not None or self.next_block == self.count:
                    return
                block, self.next_block, self.busy = self.next_block, self.next_block + 1, self.busy + 1
            try:
                if worker is None:
                    worker = self.make_worker()
                worker(block)
            except BaseException as error:
                with self.changed:
                    if self.error is None:
                        self.error = error
            finally:
                with self.changed:
                    self.busy -= 1
                    self.done += 1
                    self.changed.notify_all()

    def wait(self) -> None:
        """Return once every block is done, or raise the first error once no block is in progress."""
        with self.changed:
            self.changed.wait_for(lambda: self.busy == 0 and (self.done == self.count or self.error is not None))
            if self.error is not None:
                raise self.error


def even_block_size(total: int, most: int) -> int:
    """The size of the fewest blocks of at most ``most`` that cover ``total``, made as even as can be.

    Blocks of nearly equal size share out evenly among threads, where a last block of leftovers
    would leave a thread idle (512 channels in blocks of at most 243: three of 171, not 243, 243,
    26), and a small last block's matrix products run slower. The engines size their blocks with it.

    >>> even_block_size(512, 243), even_block_size(8, 6), even_block_size(5, 10)
    (171, 4, 5)
    """
    count = -(-total // max(1, most))
    return -(-total // count)


def run_blocks(count: int, make_worker: Callable[[], Callable[[int], None]], threaded: bool = True) -> None:
    """Run ``worker(block)`` for ``block`` in ``range(count)``, on up to :func:`get_num_threads` threads.

    ``make_worker()`` returns a worker, a function of a block's number that holds its own scratch;
    each thread makes one, so workers share nothing but what the blocks read and the disjoint parts
    of the output they write. The calling thread takes blocks too, and the others come from the
    process's pool; blocks are handed out in order, one at a time, to whichever thread is free (a
    core busy with another program holds back one block, not a share). Each thread runs in a copy
    of the caller's context, so NumPy's error state (``np.errstate``) applies in every thread.
    While they run, the calling thread and the pool's each keep to a core of their own
    (:func:`_cores`). At most ``count`` threads run; with one (or ``threaded=False``: work too small to share) the
    blocks run in order on the calling thread. An exception in a block stops the others from
    starting and is raised here once the blocks in progress have finished.
    """
    threads = min(count, get_num_threads()) if threaded else 1
    if threads <= 1:
        worker = make_worker()
        for block in range(count):
            worker(block)
        return
    blocks = _Blocks(count, make_worker)
    pool, cores = _workers()
    with _on_core(None if cores is None else cores[0]):
        for _ in range(threads - 1):
            try:
                pool.submit(contextvars.copy_context().run, blocks.work)
            except RuntimeError:  # the pool was shut down meanwhile (set_num_threads, exit): fewer threads
                break
        blocks.work()
        blocks.wait()
