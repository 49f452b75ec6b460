"""What only the NumPy backend has: the loop versions against the fast ones, the column budget of the
im2col engine, the convolution matrix, and the depthwise fast paths against PyTorch. What both
backends share (values, gradients, dtypes, ...) is tested once for both, in ``test_standard.py``,
``test_transposed.py`` and ``test_im2col.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F
from helpers import assert_close_to_reference, tensor
from hypothesis import given
from hypothesis import strategies as st
from strategies import conv_configs, transposed_configs

import conv_tutorial.numpy as cnp


@given(conv_configs(ndims=(2,)))
def test_conv2d_naive_equals_fast(config):
    _, x, w, b, kw = config
    assert_close_to_reference(cnp.conv2d_naive(x, w, b, **kw), cnp.conv2d(x, w, b, **kw))


@given(transposed_configs(ndims=(2,)))
def test_conv_transpose2d_naive_equals_fast(config):
    _, x, w, b, kw = config
    assert_close_to_reference(cnp.conv_transpose2d_naive(x, w, b, **kw), cnp.conv_transpose2d(x, w, b, **kw))


def test_large_input_is_chunked_to_the_column_budget(monkeypatch):
    """A tiny budget forces chunking over batch and output rows; the result must not change."""
    from conv_tutorial.numpy import _flat_engine, im2col

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4, 9, 7)), rng.standard_normal((6, 2, 3, 3))
    expected = cnp.conv2d(x, w, padding=1, groups=2)
    expected_t = cnp.conv_transpose2d(expected, w, padding=1, groups=2)
    expected_grads = cnp.conv_backward(expected, x, w, padding=1, groups=2)
    monkeypatch.setattr(im2col, "COLUMN_BUFFER_BYTES", 4 * 9 * 7 * 8)  # smaller than one sample
    monkeypatch.setattr(_flat_engine, "fast_conv_forward", lambda *args: None)  # the general engine, not its fast paths
    allocations = []
    original = im2col._columns
    monkeypatch.setattr(im2col, "_columns", lambda v, n: allocations.append(v.shape) or original(v, n))
    np.testing.assert_allclose(cnp.conv2d(x, w, padding=1, groups=2), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cnp.conv_transpose2d(expected, w, padding=1, groups=2), expected_t, rtol=0, atol=1e-12)
    for got, want in zip(cnp.conv_backward(expected, x, w, padding=1, groups=2), expected_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert len(allocations) > 3 * 9  # more than one chunk per sample
    assert all(np.prod(s[:2]) * np.prod(s[2:]) * 8 <= im2col.COLUMN_BUFFER_BYTES for s in allocations)


def test_conv_matrix_is_the_convolution_and_its_transpose_is_the_transposed_convolution():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 7, 6)), rng.standard_normal((3, 2, 3, 2))
    kw = dict(stride=2, padding=1, dilation=(1, 2))
    C = cnp.conv_matrix(x.shape, w, **kw)
    y = cnp.conv2d(x, w, **kw)
    assert C.shape == (y.size, x.size)
    assert_close_to_reference(C @ x.ravel(), y.ravel())
    g = rng.standard_normal(y.shape)
    assert_close_to_reference(C.T @ g.ravel(), cnp.conv_backward(g, x, w, **kw)[0].ravel())


@pytest.mark.parametrize(
    ("shape", "kernel", "multiplier", "kwargs"),
    [
        ((3, 8, 7, 7), (7, 7), 1, {}),
        ((2, 3, 5, 6), (5, 6), 2, {}),
        ((2, 4, 6, 6), (5, 5), 1, dict(padding=1)),
        ((1, 3, 7, 7), (3, 3), 1, dict(stride=3)),
        ((2, 2, 5, 5), (3, 3), 3, dict(dilation=2)),
        ((0, 3, 7, 7), (7, 7), 1, {}),
    ],
)
def test_depthwise_with_few_output_positions_matches_torch(shape, kernel, multiplier, kwargs):
    """Depthwise convolutions whose kernel is about the size of the map (global depthwise) take
    the engine's in-place path; they must equal PyTorch, channel multiplier included."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(shape), rng.standard_normal((shape[1] * multiplier, 1, *kernel))
    assert_close_to_reference(
        cnp.conv2d(x, w, groups=shape[1], **kwargs), F.conv2d(tensor(x), tensor(w), groups=shape[1], **kwargs)
    )


@given(st.data())
def test_depthwise_transposed_convolution_matches_torch(data):
    """One input channel per group: the engine runs it as a direct depthwise convolution of the
    stretched input with the flipped kernel; it must equal PyTorch's transposed convolution."""
    c, m = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2))
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(2))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(2))
    out_pad = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True))
    size = tuple(data.draw(st.integers(1, 5)) for _ in range(2))
    full = [
        (i - 1) * s + d * (k - 1) + 1 + op
        for i, s, d, k, op in zip(size, stride, dilation, kernel, out_pad, strict=True)
    ]
    padding = tuple(data.draw(st.integers(0, (f - 1) // 2)) for f in full)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    y, w = rng.standard_normal((2, c, *size)), rng.standard_normal((c, m, *kernel))
    kw = dict(stride=stride, padding=padding, output_padding=out_pad, groups=c, dilation=dilation)
    assert_close_to_reference(cnp.conv_transpose2d(y, w, **kw), F.conv_transpose2d(tensor(y), tensor(w), **kw))
