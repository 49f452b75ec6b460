"""Depthwise, depthwise separable and spatially separable convolution in both backends against
torch.nn.functional, the SVD kernel arithmetic, the nn.Module blocks and their costs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given
from hypothesis import strategies as st
from strategies import depthwise_configs, spatial_configs
from torch.utils.flop_counter import FlopCounterMode

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct
from conv_tutorial import cost
from conv_tutorial.numpy import _depthwise_engine

F64 = torch.float64


def _t(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


def _reference(x, w, b, kw):
    return F.conv2d(_t(x), _t(w), _t(b), groups=x.shape[1], **kw)


# --- depthwise --------------------------------------------------------------------------------


@given(depthwise_configs())
def test_depthwise_matches_torch_in_both_backends_float64(config):
    x, w, b, kw = config
    ref = _reference(x, w, b, kw)
    assert_close_to_reference(cnp.depthwise_conv2d(x, w, b, **kw), ref)
    assert_close_to_reference(ct.depthwise_conv2d(_t(x), _t(w), _t(b), **kw), ref)


@given(depthwise_configs())
def test_depthwise_float32_keeps_dtype(config):
    x, w, b, kw = config
    ref = _reference(x, w, b, kw)
    f32 = [None if a is None else a.astype(np.float32) for a in (x, w, b)]
    ours = cnp.depthwise_conv2d(*f32, **kw)
    theirs = ct.depthwise_conv2d(*map(_t, f32), **kw)
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32
    assert_close_to_reference(ours, ref, dtype=np.float32)
    assert_close_to_reference(theirs, ref, dtype=np.float32)


@given(depthwise_configs())
def test_depthwise_fast_path_equals_the_loops(config):
    x, w, b, kw = config
    groups = x.shape[1]
    assert_close_to_reference(cnp.depthwise_conv2d(x, w, b, **kw), cnp.conv2d_naive(x, w, b, groups=groups, **kw))


@given(depthwise_configs(), st.booleans())
def test_depthwise_fast_path_equals_the_loop_over_taps_and_torch(config, same):
    """The engine's depthwise path against its readable twin, the loop over kernel taps that
    chapter 6 prints, and both against PyTorch: strides, dilations, paddings (``'same'`` too),
    channel multipliers, odd sizes, empty batches."""
    x, w, b, kw = config
    if same:
        kw = dict(kw, stride=1, padding="same")
    by_taps = cnp.depthwise_conv2d_by_taps(x, w, b, **kw)
    assert_close_to_reference(cnp.depthwise_conv2d(x, w, b, **kw), by_taps)
    assert_close_to_reference(by_taps, _reference(x, w, b, kw))


def test_depthwise_loop_over_taps_keeps_dtype_takes_unbatched_input_and_refuses_a_standard_weight():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((3, 5, 4)).astype(np.float32), rng.standard_normal((6, 1, 2, 3)).astype(np.float32)
    out = cnp.depthwise_conv2d_by_taps(x, w, stride=(1, 2), padding=1)
    assert out.dtype == np.float32 and out.shape == (6, 6, 2)
    assert_close_to_reference(
        out, F.conv2d(_t(x[None]), _t(w), stride=(1, 2), padding=1, groups=3)[0], dtype=np.float32
    )
    with pytest.raises(ValueError, match=r"depthwise_conv2d_by_taps: expected weight of shape .*\(1, 3, 2, 3\)"):
        cnp.depthwise_conv2d_by_taps(x, w.reshape(1, 6, 2, 3)[:, :3])


@pytest.mark.parametrize(("scalar_elements", "block_bytes"), [(1, 8), (1, 2**20), (2**40, 8), (2**40, 2**20)])
@given(config=depthwise_configs())
def test_depthwise_block_plans_agree_with_torch(scalar_elements, block_bytes, config):
    """Channel by channel (one number per tap) or channels of one image (per-pixel weights), in
    blocks of one image or of many: every plan of the depthwise path gives the same result."""
    x, w, b, kw = config
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_depthwise_engine, "DEPTHWISE_SCALAR_ELEMENTS", scalar_elements)
        patch.setattr(_depthwise_engine, "DEPTHWISE_CACHE_BYTES", block_bytes)
        assert_close_to_reference(cnp.depthwise_conv2d(x, w, b, **kw), _reference(x, w, b, kw))


@pytest.mark.parametrize("multiplier", [1, 3])
@pytest.mark.parametrize("ndim", [1, 3])
def test_depthwise_path_of_the_engine_in_1d_and_3d(multiplier, ndim):
    rng = np.random.default_rng(ndim)
    x = rng.standard_normal((2, 3, *[7] * ndim))
    w = rng.standard_normal((3 * multiplier, 1, *[3] * ndim))
    ours = {1: cnp.conv1d, 3: cnp.conv3d}[ndim](x, w, stride=2, padding=1, dilation=2, groups=3)
    ref = {1: F.conv1d, 3: F.conv3d}[ndim](_t(x), _t(w), stride=2, padding=1, dilation=2, groups=3)
    assert_close_to_reference(ours, ref)


def test_depthwise_path_takes_non_contiguous_input_and_keeps_nan():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5, 2, 4)).transpose(2, 3, 0, 1)  # (2, 4, 6, 5), not contiguous
    x[0, 1, 2, 3] = np.nan
    w = rng.standard_normal((8, 1, 3, 3))
    ours = cnp.depthwise_conv2d(x, w, padding=1)
    ref = F.conv2d(_t(x), _t(w), padding=1, groups=4).numpy()
    assert np.array_equal(np.isnan(ours), np.isnan(ref)) and np.isnan(ours).sum() == 2 * 9
    assert np.allclose(ours[~np.isnan(ours)], ref[~np.isnan(ref)], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("channels", "spatial", "kernel", "dilation"),
    [(1, (4,), (4,), 3), (1, (3,), (2,), 4), (2, (3, 3), (3, 2), (2, 3)), (1, (2, 2, 2), (2, 2, 2), 2)],
)
def test_same_depthwise_reads_past_several_images(channels, spatial, kernel, dilation):
    """A dilated kernel wider than the map shifts reads past whole images, and past both ends of
    the array for more than the first and last image: every output is still right."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((5, channels, *spatial)), rng.standard_normal((channels, 1, *kernel))
    conv, reference = {1: (cnp.conv1d, F.conv1d), 2: (cnp.conv2d, F.conv2d), 3: (cnp.conv3d, F.conv3d)}[len(spatial)]
    ours = conv(x, w, padding="same", dilation=dilation, groups=channels)
    assert_close_to_reference(ours, reference(_t(x), _t(w), padding="same", dilation=dilation, groups=channels))


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "output_padding", "dilation"),
    [(3, 1, 1, 0, 1), (3, 2, 1, 1, 1), (1, 1, 2, 0, 1), (2, 3, 4, 2, 1), (2, 1, 2, 0, 1)],
)
def test_transposed_depthwise_is_a_window_of_the_direct_convolution(kernel, stride, padding, output_padding, dilation):
    """The transposed depthwise convolution runs as a direct one on the stretched input; padding
    larger than the dilated kernel cuts that input instead of padding it."""
    rng = np.random.default_rng(5)
    y, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((3, 2, kernel, kernel))
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, groups=3)
    assert_close_to_reference(cnp.conv_transpose2d(y, w, **kw), F.conv_transpose2d(_t(y), _t(w), **kw))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_depthwise_keeps_non_finite_values_in_their_windows(bad):
    """A value on an image's edge reaches only its own windows, not the next row, image or channel
    that a flattened shift would land on."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 6))
    x[0, 0, 2, -1] = x[0, 1, -1, 0] = x[1, 2, 0, 3] = bad
    w = rng.standard_normal((3, 1, 3, 3))
    ours = cnp.depthwise_conv2d(x, w, padding=1)
    ref = F.conv2d(_t(x), _t(w), padding=1, groups=3).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(ref))
    assert np.isfinite(ref).sum() < ref.size - 3 * 4
    assert_close_to_reference(ours[np.isfinite(ref)], ref[np.isfinite(ref)])


def test_same_depthwise_reads_finite_input_in_place(monkeypatch):
    """Stride 1, output as large as the input: the taps read the input without a padded copy,
    unless a value is not finite (a zero weight times inf or nan is not zero): then the path gives
    up and the padded copy is used."""
    calls = []
    original = _depthwise_engine._depthwise_in_place
    monkeypatch.setattr(
        _depthwise_engine, "_depthwise_in_place", lambda *args: calls.append(original(*args)) or calls[-1]
    )
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((4, 1, 3, 5))
    assert_close_to_reference(
        cnp.depthwise_conv2d(x, w, padding="same", dilation=(2, 1)),
        F.conv2d(_t(x), _t(w), padding="same", dilation=(2, 1), groups=4),
    )
    assert calls == [True]
    x[1, 3, 0, 0] = np.nan
    ours = cnp.depthwise_conv2d(x, w, padding="same", dilation=(2, 1))
    assert (
        calls == [True, False]
        and np.isnan(ours).sum()
        == np.isnan(F.conv2d(_t(x), _t(w), padding="same", dilation=(2, 1), groups=4).numpy()).sum()
        > 0
    )


def test_depthwise_unbatched_and_integer_input():
    x, w = np.arange(2 * 4 * 4).reshape(2, 4, 4), np.ones((2, 1, 3, 3), dtype=int)
    out = cnp.depthwise_conv2d(x, w)
    assert out.dtype == np.float64 and out.shape == (2, 2, 2)
    assert_close_to_reference(out, F.conv2d(_t(x[None].astype(float)), _t(w.astype(float)), groups=2)[0])
    assert ct.depthwise_conv2d(torch.from_numpy(x), torch.from_numpy(w)).dtype == F64


def test_depthwise_gradients_match_torch():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 6, 5, generator=gen, dtype=F64, requires_grad=True)
    w = torch.randn(6, 1, 3, 2, generator=gen, dtype=F64, requires_grad=True)
    ours = torch.autograd.grad(ct.depthwise_conv2d(x, w, stride=2, padding=1).square().sum(), (x, w))
    theirs = torch.autograd.grad(F.conv2d(x, w, stride=2, padding=1, groups=3).square().sum(), (x, w))
    for a, b in zip(ours, theirs, strict=True):
        assert_close_to_reference(a, b)


# --- depthwise separable ----------------------------------------------------------------------


@given(depthwise_configs(), st.integers(1, 4), st.booleans())
def test_separable_matches_torch_in_both_backends(config, c_out, two_d_pointwise):
    x, w, b, kw = config
    rng = np.random.default_rng(c_out)
    pw = rng.standard_normal((c_out, w.shape[0], 1, 1))
    pb = rng.standard_normal(c_out)
    ref = F.conv2d(_reference(x, w, b, kw), _t(pw), _t(pb))
    pw_arg = pw[:, :, 0, 0] if two_d_pointwise else pw
    assert_close_to_reference(cnp.separable_conv2d(x, w, pw_arg, b, pb, **kw), ref)
    assert_close_to_reference(ct.separable_conv2d(_t(x), _t(w), _t(pw_arg), _t(b), _t(pb), **kw), ref)
    f32 = [None if a is None else a.astype(np.float32) for a in (x, w, pw, b, pb)]
    out = cnp.separable_conv2d(*f32, **kw)
    assert out.dtype == np.float32
    assert_close_to_reference(out, ref, dtype=np.float32)
    assert_close_to_reference(ct.separable_conv2d(*map(_t, f32), **kw), ref, dtype=np.float32)


def test_separable_worked_examples_of_the_chapter():
    assert (cost.conv_params(3, 256, 3, bias=False), cost.separable_conv_params(3, 256, 3, bias=False)) == (6912, 795)
    assert (cost.conv_macs(12, 3, 256, 5), cost.separable_conv_macs(12, 3, 256, 5)) == (1228800, 53952)
    assert cnp.separable_conv2d(np.ones((1, 3, 12, 12)), np.ones((3, 1, 5, 5)), np.ones((256, 3))).shape == (
        1,
        256,
        8,
        8,
    )


# --- spatially separable ----------------------------------------------------------------------


@given(spatial_configs())
def test_spatially_separable_is_a_column_then_a_row_convolution(config):
    x, col, row, kw = config
    (sh, sw), (dh, dw), g = kw["stride"], kw["dilation"], kw["groups"]
    ph, pw = (0, 0) if kw["padding"] == "valid" else kw["padding"]
    mid = F.conv2d(_t(x), _t(col), stride=(sh, 1), padding=(ph, 0), dilation=(dh, 1), groups=g)
    ref = F.conv2d(mid, _t(row), stride=(1, sw), padding=(0, pw), dilation=(1, dw), groups=g)
    assert_close_to_reference(cnp.spatially_separable_conv2d(x, col, row, **kw), ref)
    assert_close_to_reference(ct.spatially_separable_conv2d(_t(x), _t(col), _t(row), **kw), ref)
    out = cnp.spatially_separable_conv2d(*(a.astype(np.float32) for a in (x, col, row)), **kw)
    assert out.dtype == np.float32
    assert_close_to_reference(out, ref, dtype=np.float32)


@given(spatial_configs())
def test_spatially_separable_equals_the_full_kernel_it_factors(config):
    x, col, row, kw = config
    if kw["groups"] != 1:
        return
    # W[o, c] = sum_m row[o, m] (outer) col[m, c]: one kH x kW convolution.
    full = np.einsum("mci,omj->ocij", col[..., 0], row[:, :, 0])
    ref = F.conv2d(_t(x), _t(full), **kw)
    assert_close_to_reference(cnp.spatially_separable_conv2d(x, col, row, **kw), ref)


# --- separate_kernel and low_rank_kernel ------------------------------------------------------

vectors = st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=7)


@given(vectors, vectors)
def test_separate_kernel_round_trips_every_rank_1_kernel(u, v):
    kernel = np.outer(u, v)
    for separate, wrap in ((cnp.separate_kernel, np.asarray), (ct.separate_kernel, torch.from_numpy)):
        column, row = separate(wrap(kernel))
        assert column.shape == (len(u),) and row.shape == (len(v),)
        assert_close_to_reference(np.outer(column, row), kernel)


@given(st.integers(2, 6), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_separate_kernel_refuses_higher_rank_with_rank_and_singular_values(kh, kw, seed):
    kernel = np.random.default_rng(seed).standard_normal((kh, kw))  # full rank almost surely
    rank = np.linalg.matrix_rank(kernel)
    for separate, wrap in ((cnp.separate_kernel, np.asarray), (ct.separate_kernel, torch.from_numpy)):
        with pytest.raises(ValueError, match=rf"not separable: its numerical rank is {rank} \(singular values \["):
            separate(wrap(kernel))


def test_separate_kernel_sobel_and_tolerance():
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    column, row = cnp.separate_kernel(sobel)
    assert np.allclose(column / column[0], [1, 2, 1]) and np.allclose(row / row[0], [1, 0, -1])
    noisy = sobel + 1e-9 * np.eye(3)
    with pytest.raises(ValueError, match="rank is 2"):
        cnp.separate_kernel(noisy)
    column, row = cnp.separate_kernel(noisy, tol=1e-6)
    assert np.allclose(np.outer(column, row), sobel, atol=1e-8)


@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_low_rank_kernel_is_the_truncated_svd(kh, kw, data):
    rank = data.draw(st.integers(1, min(kh, kw)))
    kernel = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).standard_normal((kh, kw))
    approx, error = cnp.low_rank_kernel(kernel, rank)
    s = np.linalg.svd(kernel, compute_uv=False)
    assert np.linalg.matrix_rank(approx) <= rank
    assert np.isclose(error, np.linalg.norm(kernel - approx), rtol=1e-10, atol=1e-12)
    assert np.isclose(error, np.sqrt(np.sum(s[rank:] ** 2)), rtol=1e-10, atol=1e-12)
    t_approx, t_error = ct.low_rank_kernel(torch.from_numpy(kernel), rank)
    assert_close_to_reference(t_approx, approx)
    assert np.isclose(float(t_error), error, rtol=1e-10, atol=1e-12)


# --- modules ----------------------------------------------------------------------------------


def test_depthwise_separable_module_equals_the_functional_composition():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 9, 9, dtype=F64)
    plain = ct.DepthwiseSeparableConv2d(4, 6, 3, stride=2, padding=1, depth_multiplier=2).double()
    ref = ct.separable_conv2d(
        x,
        plain.depthwise_weight,
        plain.pointwise_weight,
        plain.depthwise_bias,
        plain.pointwise_bias,
        stride=2,
        padding=1,
    )
    assert_close_to_reference(plain(x), ref)
    assert_close_to_reference(
        plain(x),
        F.conv2d(
            F.conv2d(x, plain.depthwise_weight, plain.depthwise_bias, 2, 1, groups=4),
            plain.pointwise_weight,
            plain.pointwise_bias,
        ),
    )
    mobile = (
        ct.DepthwiseSeparableConv2d(4, 6, 3, padding=1, norm=torch.nn.BatchNorm2d, activation=torch.nn.ReLU)
        .double()
        .eval()
    )
    assert mobile.depthwise_bias is None and mobile.pointwise_bias is None
    with torch.no_grad():
        for bn in (mobile.depthwise_norm, mobile.pointwise_norm):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
    middle = torch.relu(mobile.depthwise_norm(ct.depthwise_conv2d(x, mobile.depthwise_weight, padding=1)))
    ref = torch.relu(mobile.pointwise_norm(ct.pointwise_conv2d(middle, mobile.pointwise_weight)))
    assert_close_to_reference(mobile(x), ref)


def test_spatially_separable_module_equals_the_functional_composition():
    torch.manual_seed(0)
    layer = ct.SpatiallySeparableConv2d(4, 6, (3, 5), stride=(2, 1), padding=(1, 2), mid_channels=2, groups=2).double()
    x = torch.randn(2, 4, 8, 9, dtype=F64)
    ref = ct.spatially_separable_conv2d(
        x,
        layer.column_weight,
        layer.row_weight,
        layer.column_bias,
        layer.row_bias,
        stride=(2, 1),
        padding=(1, 2),
        groups=2,
    )
    assert_close_to_reference(layer(x), ref)


def _count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("c_in, c_out, k, m, bias", [(3, 256, 3, 1, False), (32, 64, 3, 1, True), (8, 16, 5, 2, True)])
def test_module_parameters_equal_cost(c_in, c_out, k, m, bias):
    assert _count(
        ct.DepthwiseSeparableConv2d(c_in, c_out, k, depth_multiplier=m, bias=bias)
    ) == cost.separable_conv_params(c_in, c_out, k, depth_multiplier=m, bias=bias)
    assert _count(torch.nn.Conv2d(c_in, c_in * m, k, groups=c_in, bias=bias)) == cost.depthwise_conv_params(
        c_in, k, depth_multiplier=m, bias=bias
    )
    assert _count(ct.SpatiallySeparableConv2d(c_in, c_out, k, bias=bias)) == cost.spatially_separable_conv_params(
        c_in, c_out, k, bias=bias
    )


def _flops(fn, *args):
    with FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops()


@pytest.mark.parametrize(
    "size, c_in, c_out, k, stride, padding, m",
    [(12, 3, 256, 5, 1, 0, 1), (14, 8, 16, 3, 2, 1, 2), (9, 4, 4, 3, 1, 1, 1)],
)
def test_macs_are_half_the_flop_counter(size, c_in, c_out, k, stride, padding, m):
    x = torch.randn(1, c_in, size, size)
    dw = torch.nn.Conv2d(c_in, c_in * m, k, stride, padding, groups=c_in, bias=False)
    pw = torch.nn.Conv2d(c_in * m, c_out, 1, bias=False)
    assert _flops(lambda t: pw(dw(t)), x) == 2 * cost.separable_conv_macs(
        size, c_in, c_out, k, stride, padding, depth_multiplier=m
    )
    assert _flops(dw, x) == 2 * cost.depthwise_conv_macs(size, c_in, k, stride, padding, depth_multiplier=m)
    col = torch.nn.Conv2d(c_in, c_out, (k, 1), (stride, 1), (padding, 0), bias=False)
    row = torch.nn.Conv2d(c_out, c_out, (1, k), (1, stride), (0, padding), bias=False)
    assert _flops(lambda t: row(col(t)), x) == 2 * cost.spatially_separable_conv_macs(
        size, c_in, c_out, k, stride, padding
    )


@pytest.mark.parametrize("size, k, dilation", [(9, 3, 1), (7, 4, 1), (8, 2, 3)])
def test_spatially_separable_same_padding_costs_what_torch_runs(size, k, dilation):
    # 'same' applies to both steps, as in the NumPy backend; even kernels pad unevenly.
    x = torch.randn(1, 3, size, size)
    col = torch.nn.Conv2d(3, 5, (k, 1), padding="same", dilation=(dilation, 1), bias=False)
    row = torch.nn.Conv2d(5, 5, (1, k), padding="same", dilation=(1, dilation), bias=False)
    assert _flops(lambda t: row(col(t)), x) == 2 * cost.spatially_separable_conv_macs(
        size, 3, 5, k, 1, "same", dilation
    )
    inputs, middle, output = 3 * size * size, 5 * size * size, 5 * size * size
    weights = 5 * 3 * k + 5 * 5 * k
    assert cost.spatially_separable_conv_bytes(size, 3, 5, k, 1, "same", dilation) == 4 * (
        inputs + 2 * middle + output + weights
    )
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        cost.spatially_separable_conv_macs(size, 3, 5, k, 2, "same")


def test_bytes_and_arithmetic_intensity():
    # input 8x128x56x56 + output the same + 128*9 weights, 4 bytes each
    assert cost.conv_bytes(56, 128, 128, 3, padding=1, groups=128, batch=8) == 4 * (2 * 8 * 128 * 56 * 56 + 1152)
    assert cost.conv_bytes(56, 128, 128, 3, padding=1, groups=128, itemsize=8) == 2 * cost.conv_bytes(
        56, 128, 128, 3, padding=1, groups=128
    )
    dw = cost.arithmetic_intensity(56, 128, 128, 3, padding=1, groups=128, batch=8)
    pw = cost.arithmetic_intensity(56, 128, 128, 1, batch=8)
    assert dw == 2 * 8 * cost.conv_macs(56, 128, 128, 3, padding=1, groups=128) / cost.conv_bytes(
        56, 128, 128, 3, padding=1, groups=128, batch=8
    )
    assert pw > 10 * dw


# --- bad input --------------------------------------------------------------------------------

X = np.ones((1, 3, 6, 6))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda m, t: m.depthwise_conv2d(t(X), t(np.ones((3, 2, 3, 3)))),
            ValueError,
            r"weight of shape \(C_in \* multiplier, 1",
        ),
        (lambda m, t: m.depthwise_conv2d(t(X), t(np.ones((4, 1, 3, 3)))), ValueError, "C_in=3"),
        (
            lambda m, t: m.depthwise_conv2d(t(np.ones((6, 6))), t(np.ones((3, 1, 3, 3)))),
            ValueError,
            "expected input of 4",
        ),
        (
            lambda m, t: m.depthwise_conv2d(t(X), t(np.ones((3, 1, 3, 3))), stride=0),
            ValueError,
            "stride must be positive",
        ),
        (lambda m, t: m.depthwise_conv2d(t(X + 0j), t(np.ones((3, 1, 3, 3)))), TypeError, "input"),
        (
            lambda m, t: m.separable_conv2d(t(X), t(np.ones((3, 1, 3, 3))), t(np.ones((4, 2, 1, 1)))),
            ValueError,
            "channels",
        ),
        (
            lambda m, t: m.separable_conv2d(t(X), t(np.ones((3, 1, 3, 3))), t(np.ones((4, 3, 3, 3)))),
            ValueError,
            r"pointwise_conv2d: expected weight of shape \(C_out, C_in\)",
        ),
        (
            lambda m, t: m.separable_conv2d(t(X), t(np.ones((3, 1, 3, 3))), t(np.ones((4, 3))), t(np.ones(2))),
            ValueError,
            "bias must have shape",
        ),
        (
            lambda m, t: m.spatially_separable_conv2d(t(X), t(np.ones((3, 3, 3, 3))), t(np.ones((3, 3, 1, 3)))),
            ValueError,
            "column_weight",
        ),
        (
            lambda m, t: m.spatially_separable_conv2d(t(X), t(np.ones((3, 3, 3, 1))), t(np.ones((3, 3, 3, 3)))),
            ValueError,
            "row_weight",
        ),
        (
            lambda m, t: m.spatially_separable_conv2d(
                t(X), t(np.ones((3, 3, 3, 1))), t(np.ones((3, 3, 1, 3))), padding=-1
            ),
            ValueError,
            "padding must be non-negative",
        ),
        (
            lambda m, t: m.spatially_separable_conv2d(t(X), t(np.ones((3, 2, 3, 1))), t(np.ones((3, 3, 1, 3)))),
            ValueError,
            "channels",
        ),
        (lambda m, t: m.separate_kernel(t(np.ones((3, 3, 1)))), ValueError, r"kernel of shape \(kH, kW\)"),
        (lambda m, t: m.separate_kernel(t(np.eye(3))), ValueError, "numerical rank is 3"),
        (lambda m, t: m.separate_kernel(t(np.eye(3) + 0j)), TypeError, "kernel"),
        (lambda m, t: m.low_rank_kernel(t(np.eye(3)), 0), ValueError, "rank must be between 1 and"),
        (lambda m, t: m.low_rank_kernel(t(np.eye(3)), 2.0), TypeError, "rank must be an int"),
        (lambda m, t: m.low_rank_kernel(t(np.ones(3)), 1), ValueError, r"kernel of shape \(kH, kW\)"),
    ],
)
def test_bad_input_names_the_parameter(backend, call, error, match):
    module, wrap = (cnp, np.asarray) if backend == "numpy" else (ct, torch.from_numpy)
    with pytest.raises(error, match=match):
        call(module, wrap)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: ct.DepthwiseSeparableConv2d(0, 4, 3), ValueError, "in_channels must be a positive int"),
        (lambda: ct.DepthwiseSeparableConv2d(4, 4, 3, depth_multiplier=0), ValueError, "depth_multiplier"),
        (lambda: ct.DepthwiseSeparableConv2d(4, 4, (3, 3, 3)), TypeError, "kernel_size"),
        (lambda: ct.DepthwiseSeparableConv2d(4, 4, 3, norm="batch"), TypeError, "norm must be a callable"),
        (
            lambda: ct.SpatiallySeparableConv2d(4, 6, 3, groups=4),
            ValueError,
            "out_channels must be divisible by groups",
        ),
        (lambda: ct.SpatiallySeparableConv2d(4, 4, 0), ValueError, "kernel_size"),
        (lambda: cost.separable_conv_params(0, 4, 3), ValueError, "in_channels"),
        (lambda: cost.conv_bytes(8, 4, 4, 3, batch=-1), ValueError, "batch"),
        (lambda: cost.conv_bytes(8, 4, 4, 3, itemsize=3), ValueError, "itemsize"),
        (lambda: cost.spatially_separable_conv_macs(8, 4, 4, (3, 3, 3)), TypeError, "kernel_size"),
        (lambda: cost.depthwise_conv_macs(2, 4, 5), ValueError, "larger than the padded input"),
    ],
)
def test_bad_module_and_cost_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()
