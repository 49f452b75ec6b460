"""The fast path of the NumPy engine (:mod:`conv_tutorial.numpy._flat_engine`) against PyTorch and
against the general engine it stands in for, over strides, paddings, dilations, groups and 1-3
spatial axes, in both of its ways of reading a tap (one flat slice, or gathered outputs), with
blocks down to one row; and the cases it hands back to the general engine (depthwise, 1x1 kernels,
taps that read only padding)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import conv_tutorial.numpy as cnp
from conv_tutorial._checks import check_conv
from conv_tutorial.numpy import _flat_engine
from conv_tutorial.numpy.im2col import _without_dead_taps, conv_forward

TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@st.composite
def flat_configs(draw):
    n = draw(st.integers(1, 3))
    axis = st.integers(1, 3)
    groups = draw(st.sampled_from([1, 2, 3]))
    c_group = draw(st.integers(2, 3))  # one input channel per group is the depthwise path
    kernel = tuple(draw(axis) for _ in range(n))
    stride = tuple(draw(axis) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(n))
    padding = tuple(draw(st.integers(0, d * (k - 1))) for k, d in zip(kernel, dilation, strict=True))
    # At least one output along every axis.
    spatial = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9)) for k, d, p in zip(kernel, dilation, padding, strict=True)
    )
    return {
        "n": n,
        "shape": (draw(st.integers(1, 3)), groups * c_group, *spatial),
        "weight": (groups * draw(st.integers(1, 3)), c_group, *kernel),
        "args": {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups},
        "block_bytes": draw(st.sampled_from([1, 256, 2**21])),  # one row per block, a few rows, whole images
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=150, deadline=None)
@given(flat_configs())
def test_flat_engine_matches_torch_and_the_general_engine(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x, w = rng.standard_normal(cfg["shape"]), rng.standard_normal(cfg["weight"])
    args = cfg["args"]
    spec = check_conv("conv", cfg["n"], x.shape, w.shape, None, **args)
    saved = _flat_engine.FLAT_BLOCK_BYTES
    _flat_engine.FLAT_BLOCK_BYTES = cfg["block_bytes"]
    try:
        ours = _flat_engine.flat_conv_forward(x, w, spec.stride, spec.padding, spec.dilation, spec.groups)
    finally:
        _flat_engine.FLAT_BLOCK_BYTES = saved
    reference = TORCH_CONV[cfg["n"]](torch.from_numpy(x), torch.from_numpy(w), **args)
    if ours is None:  # only for a 1x1 kernel, or when a tap reads nothing but padding
        assert math.prod(cfg["weight"][2:]) == 1 or _without_dead_taps(x, w, spec) is not None
        return
    assert_close_to_reference(ours, reference)
    np.testing.assert_allclose(ours, conv_forward(x, w, spec), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "weight", "args"),
    [
        ((2, 3, 20, 20), (8, 3, 7, 7), {"stride": 2, "padding": 3}),  # a stem: flat slices of polyphase grids
        ((2, 8, 5, 5), (4, 8, 3, 3), {"padding": 1}),  # a small map: gathered outputs
        ((2, 4, 3, 6, 6), (4, 4, 3, 3, 3), {"padding": 1}),  # 3D
        ((2, 6, 9, 9), (6, 2, 3, 3), {"padding": 2, "dilation": 2, "groups": 3}),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_public_functions_run_the_flat_engine_and_keep_the_dtype(shape, weight, args, dtype, monkeypatch):
    calls = []
    original = _flat_engine.flat_conv_forward
    monkeypatch.setattr(_flat_engine, "flat_conv_forward", lambda *a: calls.append(1) or original(*a))
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (shape, weight, weight[:1]))
    conv = {3: cnp.conv1d, 4: cnp.conv2d, 5: cnp.conv3d}[len(shape)]
    ours = conv(x, w, b, **args)
    assert calls and ours.dtype == dtype
    reference = TORCH_CONV[len(shape) - 2](*(torch.from_numpy(a) for a in (x, w, b)), **args)
    assert_close_to_reference(ours, reference)


def test_column_blocks_stay_under_the_budget(monkeypatch):
    """Every column block the fast path builds fits FLAT_BLOCK_BYTES (or holds a single row)."""
    blocks = []
    original = np.matmul

    def matmul(a, b, *args, **kwargs):
        blocks.append(b.shape)
        return original(a, b, *args, **kwargs)

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 8, 30, 30)), rng.standard_normal((8, 8, 3, 3))
    expected = cnp.conv2d(x, w, padding=1)
    budget = 8 * 9 * 8 * 64  # 64 positions of float64 columns: two rows of the 32-wide padded grid
    monkeypatch.setattr(_flat_engine, "FLAT_BLOCK_BYTES", budget)
    monkeypatch.setattr(_flat_engine.np, "matmul", matmul)
    got = cnp.conv2d(x, w, padding=1)
    monkeypatch.undo()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert len(blocks) >= 4 * 30 // 2  # bands of rows in every image
    assert all(math.prod(shape) * x.itemsize <= budget for shape in blocks)


def test_depthwise_1x1_and_dead_taps_are_left_to_the_general_engine():
    rng = np.random.default_rng(0)
    pointwise = rng.standard_normal((1, 4, 6, 6)), rng.standard_normal((3, 4, 1, 1))
    assert _flat_engine.flat_conv_forward(*pointwise, (2, 2), ((0, 0), (0, 0)), (1, 1), 1) is None
    depthwise = rng.standard_normal((1, 4, 6, 6)), rng.standard_normal((4, 1, 3, 3))
    assert _flat_engine.flat_conv_forward(*depthwise, (1, 1), ((1, 1), (1, 1)), (1, 1), 4) is None
    # 'same' with dilation 50 on a 3x3 map: every tap but the centre reads only padding.
    dead = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((2, 2, 3, 3))
    assert _flat_engine.flat_conv_forward(*dead, (1, 1), ((50, 50), (50, 50)), (50, 50), 1) is None
    ours = cnp.conv2d(*dead, padding="same", dilation=50)
    assert_close_to_reference(ours, F.conv2d(*(torch.from_numpy(a) for a in dead), padding="same", dilation=50))


@st.composite
def transposed_configs(draw):
    n = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2]))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(n))
    padding = tuple(draw(st.integers(0, d * (k - 1))) for k, d in zip(kernel, dilation, strict=True))
    output_padding = tuple(draw(st.integers(0, d - 1)) for d in dilation)  # below max(stride, dilation)
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(n))
    sizes = zip(spatial, kernel, dilation, padding, output_padding, strict=True)
    assume(all(i + d * (k - 1) + op - 2 * p >= 1 for i, k, d, p, op in sizes))  # a non-empty output
    return {
        "shape": (draw(st.integers(1, 2)), groups * draw(st.integers(2, 3)), *spatial),
        "c_out_group": draw(st.integers(1, 3)),
        "kernel": kernel,
        "args": {"padding": padding, "output_padding": output_padding, "groups": groups, "dilation": dilation},
        "seed": draw(st.integers(0, 2**16)),
    }


TORCH_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


@settings(max_examples=100, deadline=None)
@given(transposed_configs())
def test_unit_stride_transposed_convolution_runs_as_a_direct_one(cfg):
    """With stride 1 the transposed convolution is the direct convolution with the flipped kernel:
    it takes the fast paths, and equals PyTorch and the general engine."""
    n = len(cfg["kernel"])
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"])
    w = rng.standard_normal((cfg["shape"][1], cfg["c_out_group"], *cfg["kernel"]))
    conv_transpose = {1: cnp.conv_transpose1d, 2: cnp.conv_transpose2d, 3: cnp.conv_transpose3d}[n]
    calls = []
    original = _flat_engine.fast_conv_forward
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_flat_engine, "fast_conv_forward", lambda *a: calls.append(1) or original(*a))
        ours = conv_transpose(x, w, **cfg["args"])
        mp.setattr(_flat_engine, "fast_conv_forward", lambda *a: None)
        general = conv_transpose(x, w, **cfg["args"])
    assert calls
    reference = TORCH_CONV_TRANSPOSE[n](torch.from_numpy(x), torch.from_numpy(w), **cfg["args"])
    assert_close_to_reference(ours, reference)
    np.testing.assert_allclose(ours, general, rtol=0, atol=1e-12)


def test_strided_or_non_finite_transposed_convolutions_keep_the_general_engine(monkeypatch):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    w[1, 2, 0, 0] = np.inf  # the direct form would multiply it by the padding's zeros
    calls = []
    original = _flat_engine.fast_conv_forward
    monkeypatch.setattr(_flat_engine, "fast_conv_forward", lambda *a: calls.append(1) or original(*a))
    for kw in ({"stride": 1, "padding": 1}, {"stride": 2, "padding": 1, "output_padding": 1}):
        ours = cnp.conv_transpose2d(x, w if kw["stride"] == 1 else np.nan_to_num(w), **kw)
        reference = F.conv_transpose2d(
            torch.from_numpy(x), torch.from_numpy(w if kw["stride"] == 1 else np.nan_to_num(w)), **kw
        ).numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
        finite = np.isfinite(reference)
        assert_close_to_reference(np.where(finite, ours, 0), np.where(finite, reference, 0))
    assert not calls
