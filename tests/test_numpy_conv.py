"""The NumPy backend against PyTorch: convolution, transposed convolution, unfold/fold, the loop
versions, the hand-written backward, and the adjoint identity, over hypothesis-drawn configurations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given
from hypothesis import strategies as st

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct

CONV = {1: (cnp.conv1d, F.conv1d), 2: (cnp.conv2d, F.conv2d), 3: (cnp.conv3d, F.conv3d)}
CONV_T = {
    1: (cnp.conv_transpose1d, F.conv_transpose1d),
    2: (cnp.conv_transpose2d, F.conv_transpose2d),
    3: (cnp.conv_transpose3d, F.conv_transpose3d),
}


@st.composite
def conv_configs(draw, ndims=(1, 2, 3), allow_string_padding=True):
    """A random valid convolution: arrays and keyword arguments, PyTorch's layouts."""
    n = draw(st.sampled_from(ndims))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(n))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(n))
    choices = [st.tuples(*[st.integers(0, 2)] * n), st.integers(0, 2)]
    if allow_string_padding:
        choices.append(st.just("valid"))
        if all(s == 1 for s in stride):
            choices.append(st.just("same"))
    padding = draw(st.one_of(*choices))
    pads = padding if isinstance(padding, tuple) else (0 if isinstance(padding, str) else padding,) * n
    # Smallest input the (dilated) kernel fits in, plus a few pixels.
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4)) for k, d, p in zip(kernel, dilation, pads))
    batch = draw(st.integers(0, 2)) if draw(st.booleans()) else 2
    x = rng.standard_normal((batch, c_in, *size))
    w = rng.standard_normal((c_out, c_in // groups, *kernel))
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return n, x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _torch(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


@given(conv_configs())
def test_conv_matches_torch_float64(config):
    n, x, w, b, kw = config
    ours, theirs = CONV[n]
    assert_close_to_reference(ours(x, w, b, **kw), theirs(_torch(x), _torch(w), _torch(b), **kw))


@given(conv_configs(ndims=(2,)))
def test_conv2d_float32_keeps_dtype_and_matches_torch(config):
    _, x, w, b, kw = config
    x, w = x.astype(np.float32), w.astype(np.float32)
    b = None if b is None else b.astype(np.float32)
    out = cnp.conv2d(x, w, b, **kw)
    assert out.dtype == np.float32
    assert_close_to_reference(out, F.conv2d(_torch(x), _torch(w), _torch(b), **kw))


@given(conv_configs(ndims=(2,)))
def test_conv2d_naive_equals_fast(config):
    _, x, w, b, kw = config
    assert_close_to_reference(cnp.conv2d_naive(x, w, b, **kw), cnp.conv2d(x, w, b, **kw))


@st.composite
def transposed_configs(draw, ndims=(1, 2, 3)):
    """A random valid transposed convolution, with an output_padding smaller than stride or dilation."""
    n, x, w, b, kw = draw(conv_configs(ndims=ndims, allow_string_padding=False))
    groups = kw["groups"]
    c_in, c_out = x.shape[1], w.shape[0]
    # Transposed layout (C_in, C_out // groups, *K): reuse the drawn numbers with roles swapped.
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weight = rng.standard_normal((c_in, c_out // groups, *w.shape[2:]))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(kw["stride"], kw["dilation"]))
    kw = dict(kw, output_padding=out_pad)
    spatial = x.shape[2:]
    pads = kw["padding"] if isinstance(kw["padding"], tuple) else (kw["padding"],) * n
    full = [(i - 1) * s + d * (k - 1) + op + 1 for i, s, d, k, op in
            zip(spatial, kw["stride"], kw["dilation"], w.shape[2:], out_pad)]
    if any(f - 2 * p <= 0 for f, p in zip(full, pads)):
        kw["padding"] = 0  # this padding would crop away the whole output
    return n, x, weight, b, kw


@given(transposed_configs())
def test_conv_transpose_matches_torch_float64(config):
    n, x, w, b, kw = config
    ours, theirs = CONV_T[n]
    assert_close_to_reference(ours(x, w, b, **kw), theirs(_torch(x), _torch(w), _torch(b), **kw))


@given(transposed_configs(ndims=(2,)))
def test_conv_transpose2d_naive_equals_fast(config):
    _, x, w, b, kw = config
    assert_close_to_reference(cnp.conv_transpose2d_naive(x, w, b, **kw), cnp.conv_transpose2d(x, w, b, **kw))


@given(conv_configs(ndims=(2,), allow_string_padding=False))
def test_adjoint_identity(config):
    """<conv2d(x), y> == <x, conv_transpose2d(y)>: the transposed convolution is the adjoint."""
    _, x, w, _, kw = config
    y = np.random.default_rng(1).standard_normal(cnp.conv2d(x, w, **kw).shape)
    # output_padding restores the input rows a strided convolution does not reach.
    pads = kw["padding"] if isinstance(kw["padding"], tuple) else (kw["padding"],) * 2
    out_pad = tuple((i + 2 * p - d * (k - 1) - 1) % s for i, p, d, k, s in
                    zip(x.shape[2:], pads, kw["dilation"], w.shape[2:], kw["stride"]))
    if any(op >= s and op >= d for op, s, d in zip(out_pad, kw["stride"], kw["dilation"])):
        return  # no output_padding maps back to this input size (PyTorch has the same limit)
    xt = cnp.conv_transpose2d(y, w, output_padding=out_pad, **kw)
    lhs, rhs = np.vdot(cnp.conv2d(x, w, **kw), y), np.vdot(x, xt)
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


@given(conv_configs())
def test_backward_matches_autograd(config):
    n, x, w, b, kw = config
    xt, wt = _torch(x).requires_grad_(), _torch(w).requires_grad_()
    bt = torch.zeros(w.shape[0], dtype=torch.float64, requires_grad=True)
    out = CONV[n][1](xt, wt, bt, **kw)
    grad_out = torch.from_numpy(np.random.default_rng(2).standard_normal(tuple(out.shape)))
    out.backward(grad_out)
    gx, gw, gb = cnp.conv_backward(grad_out.numpy(), x, w, **kw)
    assert_close_to_reference(gx, xt.grad)
    assert_close_to_reference(gw, wt.grad)
    assert_close_to_reference(gb, bt.grad)


@st.composite
def unfold_configs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = tuple(d * (k - 1) + 1 + draw(st.integers(0, 4)) for k, d in zip(kernel, dilation))
    x = rng.standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size))
    return x, dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)


@given(unfold_configs())
def test_unfold_and_fold_match_torch(config):
    x, kw = config
    cols = cnp.unfold(x, **kw)
    assert_close_to_reference(cols, F.unfold(_torch(x), **kw))
    assert_close_to_reference(cnp.fold(cols, x.shape[2:], **kw), F.fold(_torch(cols), x.shape[2:], **kw))
    c = np.random.default_rng(3).standard_normal(cols.shape)
    lhs, rhs = np.vdot(cols, c), np.vdot(x, cnp.fold(c, x.shape[2:], **kw))
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


def test_unbatched_input_matches_batched():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    np.testing.assert_array_equal(cnp.conv2d(x, w, padding=1), cnp.conv2d(x[None], w, padding=1)[0])
    wt = rng.standard_normal((3, 2, 3, 3))
    np.testing.assert_array_equal(cnp.conv_transpose2d(x, wt, stride=2), cnp.conv_transpose2d(x[None], wt, stride=2)[0])
    np.testing.assert_array_equal(cnp.unfold(x, 2), cnp.unfold(x[None], 2)[0])


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_])
def test_integer_and_bool_input_computes_in_float64(dtype):
    x = np.arange(32).reshape(1, 2, 4, 4).astype(dtype)
    w = np.ones((1, 2, 3, 3), dtype=dtype)
    out = cnp.conv2d(x, w)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, F.conv2d(torch.from_numpy(x.astype(np.float64)),
                                                torch.ones(1, 2, 3, 3, dtype=torch.float64)).numpy())


def test_float16_keeps_dtype():
    x = np.ones((1, 1, 4, 4), dtype=np.float16)
    out = cnp.conv2d(x, np.ones((1, 1, 3, 3), dtype=np.float16))
    assert out.dtype == np.float16 and np.all(out == 9)


def test_empty_batch_gives_empty_output_of_the_right_shape():
    w = np.ones((5, 3, 3, 3))
    assert cnp.conv2d(np.ones((0, 3, 8, 8)), w, stride=2, padding=1).shape == (0, 5, 4, 4)
    assert cnp.conv_transpose2d(np.ones((0, 5, 4, 4)), w, stride=2).shape == (0, 3, 9, 9)
    gx, gw, gb = cnp.conv_backward(np.ones((0, 5, 6, 6)), np.ones((0, 3, 8, 8)), w)
    assert gx.shape == (0, 3, 8, 8) and np.all(gw == 0) and np.all(gb == 0)


def test_nan_and_inf_propagate_like_torch():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = np.nan
    x[0, 0, 0, 0] = np.inf
    w = np.ones((1, 1, 3, 3))
    ours = cnp.conv2d(x, w)
    theirs = F.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(theirs))


def test_large_input_is_chunked_to_the_column_budget(monkeypatch):
    """A tiny budget forces chunking over batch and output rows; the result must not change."""
    from conv_tutorial.numpy import im2col

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4, 9, 7)), rng.standard_normal((6, 2, 3, 3))
    expected = cnp.conv2d(x, w, padding=1, groups=2)
    expected_t = cnp.conv_transpose2d(expected, w, padding=1, groups=2)
    expected_grads = cnp.conv_backward(expected, x, w, padding=1, groups=2)
    monkeypatch.setattr(im2col, "COLUMN_BUFFER_BYTES", 4 * 9 * 7 * 8)  # smaller than one sample
    allocations = []
    original = im2col._columns
    monkeypatch.setattr(im2col, "_columns", lambda v, n: allocations.append(v.shape) or original(v, n))
    np.testing.assert_allclose(cnp.conv2d(x, w, padding=1, groups=2), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cnp.conv_transpose2d(expected, w, padding=1, groups=2), expected_t, rtol=0, atol=1e-12)
    for got, want in zip(cnp.conv_backward(expected, x, w, padding=1, groups=2), expected_grads):
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
    [((3, 8, 7, 7), (7, 7), 1, {}), ((2, 3, 5, 6), (5, 6), 2, {}), ((2, 4, 6, 6), (5, 5), 1, dict(padding=1)),
     ((1, 3, 7, 7), (3, 3), 1, dict(stride=3)), ((2, 2, 5, 5), (3, 3), 3, dict(dilation=2)),
     ((0, 3, 7, 7), (7, 7), 1, {})],
)
def test_depthwise_with_few_output_positions_matches_torch(shape, kernel, multiplier, kwargs):
    """Depthwise convolutions whose kernel is about the size of the map (global depthwise) take
    the engine's in-place path; they must equal PyTorch, channel multiplier included."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(shape), rng.standard_normal((shape[1] * multiplier, 1, *kernel))
    assert_close_to_reference(cnp.conv2d(x, w, groups=shape[1], **kwargs),
                              F.conv2d(_torch(x), _torch(w), groups=shape[1], **kwargs))


@given(st.data())
def test_depthwise_transposed_convolution_matches_torch(data):
    """One input channel per group: the engine runs it as a direct depthwise convolution of the
    stretched input with the flipped kernel; it must equal PyTorch's transposed convolution."""
    c, m = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2))
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(2))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(2))
    out_pad = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = tuple(data.draw(st.integers(1, 5)) for _ in range(2))
    full = [(i - 1) * s + d * (k - 1) + 1 + op for i, s, d, k, op in zip(size, stride, dilation, kernel, out_pad)]
    padding = tuple(data.draw(st.integers(0, (f - 1) // 2)) for f in full)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    y, w = rng.standard_normal((2, c, *size)), rng.standard_normal((c, m, *kernel))
    kw = dict(stride=stride, padding=padding, output_padding=out_pad, groups=c, dilation=dilation)
    assert_close_to_reference(cnp.conv_transpose2d(y, w, **kw), F.conv_transpose2d(_torch(y), _torch(w), **kw))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_one_element_tuple_counts_for_every_axis_as_in_pytorch(backend):
    x, w = torch.randn(1, 2, 7, 6, dtype=torch.float64), torch.randn(3, 2, 3, 2, dtype=torch.float64)
    args = dict(stride=(2,), padding=[1], dilation=(2,))
    reference = F.conv2d(x, w, **args)
    ours = cnp.conv2d(x.numpy(), w.numpy(), **args) if backend == "numpy" else ct.conv2d(x, w, **args)
    assert_close_to_reference(ours, reference)
