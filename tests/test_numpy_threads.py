"""The NumPy engines' threads: the depthwise engine gives bit-identical results on any number of
threads, the thread count is set and checked like torch's, and the pool runs blocks at once, keeps
NumPy's error state, hands back the first error and survives a fork. Nothing here is timed."""

from __future__ import annotations

import multiprocessing
import os
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference

import conv_tutorial.numpy as cnp
from conv_tutorial.numpy import _depthwise_engine, _threads

#: Seconds a test waits for threads that should meet at a barrier before it fails; never reached
#: when the pool works, only a bound on a failing test.
MEETING_TIMEOUT = 60


@pytest.fixture(autouse=True)
def _restore_thread_count():
    before = _threads._num_threads
    yield
    _threads._num_threads = before


@pytest.fixture
def spread(monkeypatch):
    """Every threaded call of the depthwise engine gives a block to each of its threads.

    The first block of each thread waits at a barrier until all of them have one, so the blocks
    really are split among threads (otherwise the calling thread could finish them all before a
    pool thread wakes up). Returns the list of ``(threads meant to run blocks, threads that ran
    blocks)`` per call.
    """
    calls, run_blocks = [], _threads.run_blocks

    def spread_blocks(count, make_worker, threaded=True):
        parties = min(count, cnp.get_num_threads()) if threaded else 1
        meeting, ran = threading.Barrier(parties, timeout=MEETING_TIMEOUT), set()

        def make_worker_after_meeting():
            meeting.wait()
            ran.add(threading.get_ident())
            return make_worker()

        run_blocks(count, make_worker_after_meeting, threaded)
        calls.append((parties, len(ran)))

    monkeypatch.setattr(_depthwise_engine, "run_blocks", spread_blocks)
    return calls


def _spread_out(calls) -> int:
    """The most threads that ran blocks of one call, after checking that every call used all its threads."""
    assert calls and all(ran == parties for parties, ran in calls)
    return max(ran for _, ran in calls)


def _on_threads(fn, counts=(1, 2, 3, 4)):
    """``fn()`` computed with each number of threads in ``counts``."""
    results = []
    for count in counts:
        cnp.set_num_threads(count)
        results.append(fn())
    return results


def _assert_bit_identical(results):
    first = results[0]
    for other in results[1:]:
        assert other.dtype == first.dtype and other.shape == first.shape
        assert np.array_equal(other, first, equal_nan=True)


# --- results do not depend on the number of threads ------------------------------------------------

#: (batch, channels, spatial size, kernel, stride, padding, dilation, multiplier)
CONFIGS = {
    "same 3x3": (3, 5, (9, 8), (3, 3), 1, 1, 1, 1),
    "stride 2": (3, 5, (9, 8), (3, 3), 2, 1, 1, 1),
    "stride (2, 3), padding 2": (2, 4, (11, 10), (3, 2), (2, 3), 2, 1, 1),
    "dilation 2, same": (3, 5, (9, 8), (3, 3), 1, 2, 2, 1),
    "dilation (1, 3)": (2, 4, (10, 12), (3, 3), 1, 0, (1, 3), 1),
    "multiplier 3": (3, 4, (7, 9), (3, 3), 1, 1, 1, 3),
    "multiplier 2, stride 2": (2, 3, (8, 8), (5, 3), 2, (2, 1), 1, 2),
    "1d": (3, 6, (40,), (5,), 1, 2, 1, 1),
    "1d, stride 3, multiplier 2": (3, 6, (40,), (4,), 3, 1, 2, 2),
    "3d": (2, 3, (5, 6, 7), (3, 3, 3), 1, 1, 1, 1),
    "3d, stride 2, dilation 2": (2, 3, (7, 6, 8), (2, 3, 2), 2, 1, 2, 1),
    "empty batch": (0, 5, (9, 8), (3, 3), 1, 1, 1, 1),
}


def _layer(config, dtype, seed=0):
    batch, channels, spatial, kernel, stride, padding, dilation, multiplier = config
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, *spatial)).astype(dtype)
    w = rng.standard_normal((channels * multiplier, 1, *kernel)).astype(dtype)
    conv = {1: cnp.conv1d, 2: cnp.conv2d, 3: cnp.conv3d}[len(spatial)]
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=channels)
    return conv, x, w, kw


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("per_channel", [True, False], ids=["channel by channel", "channels of an image"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_depthwise_results_are_bit_identical_on_any_number_of_threads(name, per_channel, dtype, monkeypatch, spread):
    """Small blocks (many per call) shared among 1 to 4 threads, in both plans of the engine (and
    in place for the 'same' ones): every output bit is the same, and right."""
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_THREAD_WORK", 0)
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_CACHE_BYTES", 2**12)
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_SCALAR_ELEMENTS", 1 if per_channel else 2**40)
    conv, x, w, kw = _layer(CONFIGS[name], dtype)
    results = _on_threads(lambda: conv(x, w, **kw))
    _assert_bit_identical(results)
    reference = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[x.ndim - 2](torch.from_numpy(x), torch.from_numpy(w), **kw)
    assert_close_to_reference(results[0], reference, dtype=dtype)
    if x.shape[0]:  # the blocks really ran on several threads
        assert _spread_out(spread) >= 2


@pytest.mark.parametrize(
    ("channels", "size", "stride"),
    [(32, 56, 1), (64, 56, 2), (256, 14, 1), (16, 7, 1)],
    ids=["channel by channel", "channels of an image", "in place", "small"],
)
def test_a_real_layer_is_bit_identical_on_one_and_several_threads(channels, size, stride):
    """MobileNet-like layers (batch 8, float32) with the engine's own block sizes and threshold:
    all but the small one are shared among threads."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, channels, size, size)).astype(np.float32)
    w = rng.standard_normal((channels, 1, 3, 3)).astype(np.float32)
    results = _on_threads(lambda: cnp.depthwise_conv2d(x, w, stride=stride, padding=1), (1, 2, 5))
    _assert_bit_identical(results)
    threaded = x.size + results[0].size * 9 >= _depthwise_engine.DEPTHWISE_THREAD_WORK
    assert threaded == (channels != 16)


def test_transposed_depthwise_is_bit_identical_on_any_number_of_threads(monkeypatch, spread):
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_THREAD_WORK", 0)
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_CACHE_BYTES", 2**12)
    rng = np.random.default_rng(2)
    y, w = rng.standard_normal((3, 4, 9, 7)), rng.standard_normal((4, 2, 3, 3))
    kw = dict(stride=2, padding=1, output_padding=1, groups=4)
    results = _on_threads(lambda: cnp.conv_transpose2d(y, w, **kw))
    _assert_bit_identical(results)
    assert_close_to_reference(results[0], F.conv_transpose2d(torch.from_numpy(y), torch.from_numpy(w), **kw))
    assert _spread_out(spread) == 4


@pytest.mark.parametrize("where", [(0, 0, 4, 4), (2, 4, 7, 6)], ids=["first block", "last block"])
def test_non_finite_input_in_any_block_starts_over_with_a_padded_copy(where, monkeypatch, spread):
    """A nan stops the in-place path whichever thread finds it; the padded copy then gives the
    same bits as on one thread, nan where PyTorch has nan."""
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_THREAD_WORK", 0)
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_CACHE_BYTES", 2**12)
    calls, in_place = [], _depthwise_engine._depthwise_in_place
    monkeypatch.setattr(
        _depthwise_engine, "_depthwise_in_place", lambda *args: calls.append(in_place(*args)) or calls[-1]
    )
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((3, 5, 9, 8)), rng.standard_normal((5, 1, 3, 3))
    x[where] = np.nan
    results = _on_threads(lambda: cnp.depthwise_conv2d(x, w, padding=1))
    assert calls == [False] * 4 and _spread_out(spread) == 4
    _assert_bit_identical(results)
    reference = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1, groups=5).numpy()
    assert np.array_equal(np.isnan(results[0]), np.isnan(reference)) and np.isnan(reference).sum() == 9


def test_infinities_propagate_quietly_on_every_thread(monkeypatch, spread):
    """inf - inf is nan without a RuntimeWarning in the pool's threads too (NumPy's error state
    travels with the blocks); the test settings turn such a warning into an error."""
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_THREAD_WORK", 0)
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_CACHE_BYTES", 2**12)
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_SCALAR_ELEMENTS", 1)
    x = np.ones((4, 6, 8, 8))
    x[:, :, 3, 3], x[:, :, 3, 4] = np.inf, -np.inf
    w = np.ones((6, 1, 3, 3))
    results = _on_threads(lambda: cnp.depthwise_conv2d(x, w, padding=1), (1, 3))
    _assert_bit_identical(results)
    assert np.isnan(results[0]).any() and _spread_out(spread) == 3


def test_a_small_layer_stays_on_the_calling_thread(monkeypatch):
    ran, run_blocks = [], _threads.run_blocks

    def spy(count, make_worker, threaded=True):
        def make():
            ran.append(threading.get_ident())
            return make_worker()

        run_blocks(count, make, threaded)

    monkeypatch.setattr(_depthwise_engine, "run_blocks", spy)
    monkeypatch.setattr(_depthwise_engine, "DEPTHWISE_CACHE_BYTES", 2**10)
    cnp.set_num_threads(4)
    x, w = np.ones((2, 8, 6, 6)), np.ones((8, 1, 3, 3))
    assert x.size + x.size * w[0].size < _depthwise_engine.DEPTHWISE_THREAD_WORK
    cnp.depthwise_conv2d(x, w, padding=1)
    assert ran == [threading.get_ident()]


# --- the number of threads ------------------------------------------------------------------------


def test_the_number_of_threads_defaults_to_the_cores_available(monkeypatch):
    monkeypatch.setattr(_threads, "_num_threads", None)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cnp.get_num_threads() == _threads.available_cores() == cores
    cnp.set_num_threads(cores + 2)
    assert cnp.get_num_threads() == cores + 2


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (0, ValueError, "num_threads must be a positive int, got num_threads=0"),
        (-2, ValueError, "num_threads must be a positive int, got num_threads=-2"),
        (2.0, TypeError, r"num_threads must be an int, got num_threads=2.0 \(float\)"),
        (True, TypeError, r"num_threads must be an int, got num_threads=True \(bool\)"),
        ("2", TypeError, r"num_threads must be an int, got num_threads='2' \(str\)"),
        (None, TypeError, r"num_threads must be an int, got num_threads=None \(NoneType\)"),
    ],
)
def test_set_num_threads_refuses_what_is_not_a_positive_int(value, error, message):
    cnp.set_num_threads(3)
    with pytest.raises(error, match=f"^set_num_threads: {message}$"):
        cnp.set_num_threads(value)
    assert cnp.get_num_threads() == 3


def test_set_num_threads_takes_a_numpy_int():
    cnp.set_num_threads(np.int64(2))
    assert cnp.get_num_threads() == 2 and type(cnp.get_num_threads()) is int


def test_one_pool_started_on_first_use_kept_and_replaced_for_a_new_count(monkeypatch):
    def worker():
        return lambda block: None

    monkeypatch.setattr(_threads, "_pool", None)  # as in a new process
    started = []
    try:
        cnp.set_num_threads(3)
        cnp.set_num_threads(2)
        assert _threads._pool is None  # nothing starts until a call needs it
        _threads.run_blocks(4, worker)
        started.append(_threads._pool)
        assert started[0] is not None and started[0]._max_workers == 1  # the calling thread is the second
        _threads.run_blocks(4, worker)
        cnp.set_num_threads(2)
        _threads.run_blocks(4, worker)
        assert _threads._pool is started[0]
        cnp.set_num_threads(4)
        _threads.run_blocks(4, worker)
        started.append(_threads._pool)
        assert started[1] is not started[0] and started[1]._max_workers == 3
    finally:
        for pool in started:
            pool.shutdown()


# --- the pool ------------------------------------------------------------------------------------


def test_blocks_run_at_the_same_time_on_the_caller_and_the_pool():
    """Each block waits for the others at a barrier: they finish only if they all run at once."""
    cnp.set_num_threads(3)
    meeting, ran = threading.Barrier(3, timeout=MEETING_TIMEOUT), {}

    def worker():
        def block(i):
            meeting.wait()
            ran[i] = threading.get_ident()

        return block

    _threads.run_blocks(3, worker)
    assert sorted(ran) == [0, 1, 2] and len(set(ran.values())) == 3 and threading.get_ident() in ran.values()


def test_every_block_runs_once_and_each_thread_makes_one_worker():
    cnp.set_num_threads(4)
    done, workers, lock = [], [], threading.Lock()

    def worker():
        with lock:
            workers.append(threading.get_ident())
        return lambda block: done.append(block)

    _threads.run_blocks(500, worker)
    assert sorted(done) == list(range(500))
    assert 1 <= len(workers) == len(set(workers)) <= 4


def test_the_first_error_of_a_block_is_raised_in_the_caller():
    cnp.set_num_threads(2)
    meeting = threading.Barrier(2, timeout=MEETING_TIMEOUT)

    def worker():
        meeting.wait()  # one block on each thread: the pool's fails too

        def block(i):
            raise KeyError(f"block {i}")

        return block

    with pytest.raises(KeyError, match="block [01]"):
        _threads.run_blocks(10, worker)


def test_numpy_error_state_holds_in_the_pool_threads():
    """``np.errstate`` set by the caller applies in every thread that runs its blocks."""
    cnp.set_num_threads(2)
    meeting = threading.Barrier(2, timeout=MEETING_TIMEOUT)

    def worker():
        meeting.wait()
        return lambda block: np.divide(np.ones(3), 0.0)

    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        _threads.run_blocks(2, worker)
    with np.errstate(divide="ignore"):
        _threads.run_blocks(2, worker)


def _cores_of_each_thread(threads: int) -> dict[int, set[int]]:
    """The cores each of ``threads`` threads may run on while it runs a block of one call."""
    cnp.set_num_threads(threads)
    meeting, seen = threading.Barrier(threads, timeout=MEETING_TIMEOUT), {}

    def worker():
        def block(i):
            meeting.wait()
            seen[threading.get_ident()] = os.sched_getaffinity(0)

        return block

    _threads.run_blocks(threads, worker)
    return seen


CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


@pytest.mark.skipif(len(CORES) < 2, reason="needs two cores and CPU affinity")
def test_the_threads_of_a_call_keep_to_distinct_cores_and_the_caller_gets_its_cores_back():
    """The scheduler would otherwise run the pool's thread on the caller's core, and the two take turns."""
    before = os.sched_getaffinity(0)
    seen = _cores_of_each_thread(2)
    assert len(seen) == 2 and all(len(cores) == 1 for cores in seen.values())
    assert set().union(*seen.values()) == set(CORES[:2])
    assert os.sched_getaffinity(0) == before


@pytest.mark.skipif(len(CORES) < 1, reason="needs CPU affinity")
def test_more_threads_than_cores_are_not_pinned():
    seen = _cores_of_each_thread(len(CORES) + 1)
    assert len(seen) == len(CORES) + 1 and all(cores == set(CORES) for cores in seen.values())


def _convolve_in_child(x, w, expected, results):
    cnp.set_num_threads(3)
    results.put(bool(np.array_equal(cnp.depthwise_conv2d(x, w, padding=1), expected)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() only")
def test_a_forked_child_starts_its_own_pool():
    """A child forked after the pool started has none of its threads; it starts its own."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((8, 32, 28, 28)), rng.standard_normal((32, 1, 3, 3))
    cnp.set_num_threads(3)
    expected = cnp.depthwise_conv2d(x, w, padding=1)
    assert _threads._pool is not None
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_convolve_in_child, args=(x, w, expected, results))
    child.start()
    child.join(timeout=MEETING_TIMEOUT)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0 and results.get(timeout=MEETING_TIMEOUT) is True
