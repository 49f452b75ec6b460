"""The benchmark's peak-memory measurement (:func:`conv_tutorial.bench.peak_bytes`): it sees the
arrays a call allocates (its temporaries and its output) and not those that existed before, for
NumPy and for PyTorch's CPU allocator; and every measurement carries both peaks and their ratio."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conv_tutorial import bench

torch = pytest.importorskip("torch")

MB = 10**6


def twice_summed(ones):
    """Two arrays alive at once (ones and their double), a number returned."""
    x = ones(MB)
    y = x * 2
    return float(y.sum())


def test_numpy_peak_counts_the_output_and_the_temporaries_alive_together():
    assert 8 * MB <= bench.peak_bytes(lambda: np.ones(MB), "numpy") < 8.1 * MB
    assert 16 * MB <= bench.peak_bytes(lambda: twice_summed(np.ones), "numpy") < 16.1 * MB


def test_numpy_peak_leaves_out_what_existed_before_the_call():
    before = np.ones(4 * MB)
    assert bench.peak_bytes(lambda: before[:10].copy(), "numpy") < 0.1 * MB


def test_torch_cpu_peak_counts_the_allocator_events():
    assert 4 * MB <= bench.peak_bytes(lambda: torch.ones(MB), "cpu") < 4.1 * MB
    assert 8 * MB <= bench.peak_bytes(lambda: twice_summed(torch.ones), "cpu") < 8.1 * MB
    before = torch.ones(4 * MB)
    assert bench.peak_bytes(lambda: before[:10].clone(), "cpu") < 0.1 * MB


def test_a_measurement_carries_both_peaks_and_their_ratio():
    operation = bench.OPERATION["conv2d"]
    m = bench.measure(bench.Case("numpy", "conv2d", operation.quick), batch=2, repeats=1)
    layer = operation.quick
    output_bytes = 2 * layer.c_out * layer.size**2 * 4  # float32, 'same' padding
    assert m.ours_peak >= output_bytes and m.reference_peak >= output_bytes
    assert m.peak_ratio == pytest.approx(m.ours_peak / m.reference_peak)


def test_geometric_means_of_the_peak_ratio():
    ms = [
        bench.Measurement("a", "l1", 1.0, 1.0, 1.0, peak_ratio=2.0),
        bench.Measurement("a", "l2", 1.0, 1.0, 1.0, peak_ratio=8.0),
        bench.Measurement("b", "l1", 1.0, 1.0, 1.0),
    ]
    means = bench.geometric_means(ms, "peak_ratio")
    assert means["a"] == pytest.approx(4.0) and math.isnan(means["b"])
    assert bench.geometric_means(ms) == {"a": 1.0, "b": 1.0}
