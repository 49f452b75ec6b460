"""The roofline model: the arithmetic of the bound, the measurements of this machine, the pictures."""

from __future__ import annotations

import math
import sys
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from matplotlib import pyplot as plt

from conv_tutorial import cost
from conv_tutorial.roofline import memory_bandwidth, peak_flops, ridge_point, roofline
from conv_tutorial.timing import best_times, keep_freed_memory
from conv_tutorial.viz import draw_flops_time, draw_roofline

positive = st.floats(1e-3, 1e15, allow_nan=False, allow_infinity=False)


@given(intensity=st.floats(0, 1e6, allow_nan=False), peak=positive, bandwidth=positive)
def test_roofline_is_the_lower_of_the_two_roofs(intensity, peak, bandwidth):
    attainable = roofline(intensity, peak, bandwidth)
    assert isinstance(attainable, float)
    assert attainable == min(peak, intensity * bandwidth)
    # Memory-bound below the ridge point, compute-bound above it.
    if intensity < ridge_point(peak, bandwidth):
        assert attainable == pytest.approx(intensity * bandwidth, rel=1e-12)
    else:
        assert attainable == peak


def test_roofline_of_an_array_keeps_its_shape_and_propagates_nan():
    intensity = np.array([[0.0, 1.0, 10.0], [100.0, np.nan, 5]])
    np.testing.assert_array_equal(roofline(intensity, 100.0, 10.0), [[0.0, 10.0, 100.0], [100.0, np.nan, 50.0]])
    assert roofline([1, 2], 100, 10).dtype == np.float64


def test_roofline_places_the_book_s_depthwise_layer_below_the_ridge_and_the_standard_above():
    peak, bandwidth = 150e9, 10e9  # a CPU core: ridge at 15 FLOP/byte
    rows = {r["type"]: r for r in cost.layer_table(56, 128, 128, batch=8)}
    assert rows["depthwise"]["intensity"] < ridge_point(peak, bandwidth) < rows["standard"]["intensity"]
    assert roofline(rows["standard"]["intensity"], peak, bandwidth) == peak
    depthwise = roofline(rows["depthwise"]["intensity"], peak, bandwidth)
    assert depthwise == pytest.approx(rows["depthwise"]["intensity"] * bandwidth)


def test_ridge_point():
    assert ridge_point(100e9, 10e9) == 10.0


@pytest.mark.parametrize("clock", ["wall", "cpu"])
@pytest.mark.parametrize("backend", ["torch", "numpy"])
@pytest.mark.parametrize("dtype", ["float32", np.float64, torch.float32, "int64"])
def test_measurements_are_positive_and_finite(backend, dtype, clock):
    for rate in (
        peak_flops(dtype, backend, size=32, repeats=1, clock=clock),
        memory_bandwidth(dtype, backend, size=4096, repeats=1, clock=clock),
    ):
        assert isinstance(rate, float) and 0 < rate < math.inf


def test_best_times_keeps_the_order_and_the_fastest_call():
    calls = []
    times = best_times({"b": lambda: calls.append("b"), "a": lambda: calls.append("a")}, rounds=3, repeats=2)
    assert list(times) == ["b", "a"] and all(0 < t < 1 for t in times.values())
    assert calls == ["b", "a"] + (["b", "b", "a", "a"] * 3)  # a warm-up call each, then interleaved rounds


def test_best_times_keeps_freed_memory_first():
    """Timings measure the work, not whether glibc handed the last call's memory back to the system."""
    keep_freed_memory.cache_clear()
    best_times({"a": lambda: None}, rounds=1)
    assert keep_freed_memory.cache_info().currsize == 1


def test_best_times_rests_outside_the_timed_calls():
    """``settle`` sleeps before each case's turn, never inside a timed call."""
    calls = []
    times = best_times(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=2, repeats=2, settle=0.03
    )
    # One warm-up each, then interleaved rounds, each turn after a rest opened by an untimed wake-up call.
    assert calls == ["a", "b"] + ["a", "a", "a", "b", "b", "b"] * 2
    assert max(times.values()) < 0.03


def test_best_times_calls_a_short_case_until_its_turn_is_long_enough():
    """``min_turn``: a case is timed ``repeats`` times at least, and until its turn has lasted that long."""
    calls = {"quick": 0, "slow": 0}

    def quick():
        calls["quick"] += 1

    def slow():
        calls["slow"] += 1
        time.sleep(0.02)

    best_times({"quick": quick, "slow": slow}, rounds=2, repeats=2, min_turn=0.01)
    assert calls["slow"] == 1 + 2 * 2  # the warm-up, then 2 calls a round: each outlasts the turn
    assert calls["quick"] > 1 + 2 * 10  # hundreds of calls in 10 ms, far more than 2


@pytest.mark.skipif(sys.platform == "win32", reason="'cpu' is the wall clock on Windows")
def test_best_times_cpu_clock_does_not_count_time_off_the_core():
    """A sleeping call holds no core: the thread's CPU clock hardly moves, the wall clock does."""
    nap = {"sleep": lambda: time.sleep(0.05)}
    assert best_times(nap, rounds=1, clock="cpu")["sleep"] < 0.025 <= 0.05 <= best_times(nap, rounds=1)["sleep"]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: roofline(1.0, 0.0, 1e9), ValueError, "peak must be positive and finite, got peak=0.0"),
        (lambda: roofline(1.0, 1e9, math.inf), ValueError, "bandwidth must be positive and finite"),
        (lambda: roofline(1.0, 1e9, math.nan), ValueError, "bandwidth must be positive and finite"),
        (lambda: roofline(1.0, "fast", 1e9), TypeError, "peak must be a real number"),
        (lambda: roofline(1.0, True, 1e9), TypeError, "peak must be a real number"),
        (lambda: roofline(-1.0, 1e9, 1e9), ValueError, "intensity must be non-negative"),
        (lambda: roofline([1, -2], 1e9, 1e9), ValueError, "intensity must be non-negative"),
        (lambda: roofline(1 + 2j, 1e9, 1e9), TypeError, "intensity must hold real numbers"),
        (lambda: roofline("high", 1e9, 1e9), TypeError, "intensity must hold real numbers"),
        (lambda: ridge_point(1e9, -1), ValueError, "ridge_point: bandwidth must be positive"),
        (lambda: peak_flops(size=0), ValueError, "peak_flops: size must be a positive int, got size=0"),
        (lambda: peak_flops(size=2.5), TypeError, "peak_flops: size must be an int"),
        (lambda: peak_flops(backend="jax"), ValueError, "backend must be 'torch' or 'numpy', got backend='jax'"),
        (lambda: peak_flops("complex64"), TypeError, "dtype must be real"),
        (lambda: peak_flops(repeats=0), ValueError, "repeats must be a positive int, got repeats=0"),
        (lambda: memory_bandwidth(size=-4), ValueError, "memory_bandwidth: size must be a positive int"),
        (lambda: memory_bandwidth(torch.complex64), TypeError, "dtype must be real"),
        (lambda: memory_bandwidth(repeats=True), TypeError, "repeats must be an int"),
        (lambda: best_times({}), ValueError, "cases must be a non-empty mapping"),
        (lambda: best_times({"a": 3}), ValueError, "cases must be a non-empty mapping"),
        (lambda: best_times({"a": lambda: None}, rounds=0), ValueError, "rounds must be a positive int, got rounds=0"),
        (lambda: best_times({"a": lambda: None}, repeats=1.0), TypeError, "repeats must be an int"),
        (
            lambda: best_times({"a": lambda: None}, clock="process"),
            ValueError,
            "best_times: clock must be 'wall' or 'cpu', got clock='process'",
        ),
        (lambda: best_times({"a": lambda: None}, settle=-1), ValueError, "settle must be a finite number of seconds"),
        (lambda: best_times({"a": lambda: None}, settle="0.1"), ValueError, "got settle='0.1'"),
        (lambda: best_times({"a": lambda: None}, min_turn=math.inf), ValueError, "min_turn must be a finite number"),
        (lambda: best_times({"a": lambda: None}, min_turn=True), ValueError, "got min_turn=True"),
        (lambda: peak_flops(clock="cpu time"), ValueError, "peak_flops: clock must be 'wall' or 'cpu'"),
        (
            lambda: memory_bandwidth(clock=None),
            ValueError,
            "memory_bandwidth: clock must be 'wall' or 'cpu', got clock=None",
        ),
        (lambda: draw_roofline(1e9, 1e9, []), ValueError, "points must be a non-empty sequence"),
        (lambda: draw_roofline(1e9, 1e9, [("a", 1.0)]), ValueError, "points must be a non-empty sequence"),
        (lambda: draw_roofline(1e9, 1e9, [("a", 0.0, 1e9)]), ValueError, "intensity and FLOP/s must be positive"),
        (lambda: draw_roofline(0, 1e9, [("a", 1.0, 1e9)]), ValueError, "peak must be positive"),
        (lambda: draw_flops_time([("a", 1e9, -1.0)]), ValueError, "FLOPs and seconds must be positive"),
        (lambda: draw_flops_time([("a", 1e9, 1.0)], peak=-1.0), ValueError, "peak must be positive"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
    plt.close("all")


def test_draw_roofline_draws_the_roof_and_one_named_point_per_kernel():
    points = [("depthwise", 2.0, 5e9), ("pointwise", 30.0, 60e9), ("standard", 280.0, 140e9)]
    fig = draw_roofline(150e9, 10e9, points, title="this machine")
    ax = fig.axes[0]
    roof, ridge, *markers = ax.lines
    x, y = roof.get_data()
    np.testing.assert_allclose(y, roofline(x, 150e9, 10e9) / 1e9)
    np.testing.assert_array_equal(ridge.get_xdata(), [15.0, 15.0])
    np.testing.assert_allclose([m.get_ydata()[0] for m in markers], [5.0, 60.0, 140.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["depthwise", "pointwise", "standard"]
    assert "ridge 15 FLOP/byte" in [t.get_text() for t in ax.texts]
    assert ax.get_title() == "this machine" and ax.get_xscale() == ax.get_yscale() == "log"
    plt.close(fig)


def test_points_get_distinct_colour_and_marker_pairs():
    fig = draw_roofline(150e9, 10e9, [(f"kernel {i}", 10.0, 50e9) for i in range(13)])
    styles = {(m.get_color(), m.get_marker()) for m in fig.axes[0].lines[2:]}
    assert len(styles) == 13
    plt.close(fig)


def test_draw_flops_time_places_points_in_gflop_and_milliseconds_on_an_existing_axes():
    fig, ax = plt.subplots()
    assert draw_flops_time([("a", 2e9, 0.02), ("b", 1e7, 0.001)], peak=100e9, ax=ax) is fig
    peak_line, *markers = ax.lines
    np.testing.assert_allclose([m.get_xdata()[0] for m in markers], [2.0, 0.01])
    np.testing.assert_allclose([m.get_ydata()[0] for m in markers], [20.0, 1.0])
    x, y = peak_line.get_data()
    np.testing.assert_allclose(y, x * 10)  # GFLOP / (100 GFLOP/s), in ms
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["time at the peak 100 GFLOP/s", "a", "b"]
    plt.close(fig)
