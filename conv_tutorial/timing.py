"""One timer for the whole package: the benchmark, the roofline and the chapters time with it.

:func:`best_times` times several callables in interleaved rounds and keeps each one's fastest
call, on the wall clock or on the calling thread's CPU clock (the fair one on a busy machine);
:func:`keep_freed_memory` stops glibc from returning freed memory to the system between calls, so
that large outputs are not page-faulted in again on every call.
"""

from __future__ import annotations

import ctypes
import functools
import math
import sys
import time

from ._checks import check_choice, check_positive_int

__all__ = ["best_times", "keep_freed_memory"]


def timer_for(fn: str, clock):
    """The timer for ``clock``: wall-clock time, or the CPU time of the calling thread.

    ``fn`` names the public function in the error raised for any other ``clock``.
    """
    if check_choice(fn, "clock", clock, ("wall", "cpu")) == "wall":
        return time.perf_counter
    # Windows counts a thread's CPU time in scheduler ticks (about 16 ms): too coarse for one call.
    return time.perf_counter if sys.platform == "win32" else time.thread_time


def best_times(cases, rounds=3, repeats=1, clock="wall", settle=0.0, min_turn=0.0):
    """Best time of each callable in ``cases``, measured in interleaved rounds.

    Every case is called once to warm up (first-call overhead: allocation, oneDNN primitive
    creation, page faults). The process first keeps the memory it frees
    (:func:`keep_freed_memory`, once per process): otherwise whether a call's arrays are
    page-faulted in anew depends on what the process allocated before (chapter 3's bottleneck
    block took 4.4 ms or 8.8 ms by turns after a large layer), and the timings measure the
    allocator's history, not the work. Then each round calls every case ``repeats`` times in turn; a case's
    time is its fastest call over all rounds. Interleaving matters on a shared machine: a burst of
    load from another process slows whatever runs at that moment, and across rounds every case
    gets a calm moment, whereas timing the cases one after another can put all of one case's
    calls in the burst.

    Interleaving is not enough when other processes keep every core busy: then no moment is calm,
    the scheduler lets each process run for a few milliseconds in turn, and a call longer than
    that turn always includes the waits while a short call can fit in one turn, so long calls look
    slower than they are. ``clock="cpu"`` measures the CPU time of the calling thread instead
    (``time.thread_time``), which does not count the time other processes held the core: the
    kernel's own time, whatever the load. It counts only the calling thread, so use it for work
    that runs on that thread (``torch.set_num_threads(1)``; one BLAS thread for NumPy). On an idle
    machine both clocks agree. (On Windows, whose thread clock is too coarse, ``"cpu"`` falls back
    to the wall clock.)

    Parameters
    ----------
    cases : mapping of str to callable
        Functions of no arguments.
    rounds, repeats : int
    clock : {"wall", "cpu"}
        Wall-clock time (``time.perf_counter``) or the calling thread's CPU time.
    settle : float
        Seconds of rest before each case's turn (its warm-up call, and its calls of each round).
        Libraries whose worker threads keep spinning after their work (OpenMP, BLAS) would
        otherwise hold the cores while the next case, from another library, is timed: the
        benchmark rests between NumPy and PyTorch for this reason. After a rest each turn begins
        with one untimed call: the rest puts the case's own worker threads to sleep too, and on
        a virtual machine the first call after it waits for an idle core to be woken (11 ms for
        a depthwise convolution that takes 0.2 ms on this book's machine), so that call times the
        wake-up, not the work. GPU work is asynchronous: a case timed on a GPU must synchronise
        inside its callable.
    min_turn : float
        Seconds each case's turn lasts at least: after its ``repeats`` calls a case is called
        again until the turn has run that long. After a rest a machine takes a few milliseconds
        to come back to speed (a channel shuffle of 40 us took 0.1-8 ms for its first calls
        after the benchmark's rest), so a turn of a few short calls would time only that climb.
        A faster case then gets more calls than a slower one; once both are past the climb their
        fastest calls hardly depend on how many there were.

    Returns
    -------
    dict of str to float
        Seconds per call, in the order of ``cases``.

    Examples
    --------
    >>> times = best_times({"sum": lambda: sum(range(100))}, rounds=2)
    >>> list(times), times["sum"] > 0
    (['sum'], True)
    """
    if not hasattr(cases, "items") or not cases or not all(callable(fn) for fn in cases.values()):
        raise ValueError(f"best_times: cases must be a non-empty mapping of names to callables, got {cases!r}")
    rounds = check_positive_int("best_times", "rounds", rounds)
    repeats = check_positive_int("best_times", "repeats", repeats)
    timer = timer_for("best_times", clock)
    settle = _check_seconds("settle", settle)
    min_turn = _check_seconds("min_turn", min_turn)
    keep_freed_memory()
    for fn in cases.values():
        _rest(settle)
        fn()
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(rounds):
        for name, fn in cases.items():
            if settle:
                _rest(settle)
                fn()  # the wake-up call: the worker threads slept through the rest
            calls, turn = 0, time.perf_counter()
            while calls < repeats or time.perf_counter() - turn < min_turn:
                start = timer()
                fn()
                best[name] = min(best[name], timer() - start)
                calls += 1
    return best


def _check_seconds(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"best_times: {name} must be a finite number of seconds >= 0, got {name}={value!r}")
    return float(value)


def _rest(seconds: float) -> None:
    if seconds:
        time.sleep(seconds)


@functools.cache
def keep_freed_memory() -> bool:
    """Make glibc keep freed memory in the process instead of returning it to the system.

    Both libraries allocate their outputs on every call. With glibc's defaults a freed block of
    many megabytes may go back to the system, and the next call then page-faults every page of
    its new output in; whether it goes back depends on the heap's history, so the same call of
    PyTorch took 1.6 ms in one process and 10 ms in another on a virtual machine (9,000 page
    faults a call). Keeping freed memory, as a long training process ends up doing, times the
    arithmetic and not the page faults. Returns whether the setting took (not on other C
    libraries); it is made once per process.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    mapped = mallopt(m_mmap_threshold, 2**30) or mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's cap
    return bool(mapped and mallopt(m_trim_threshold, 2**31 - 1))
