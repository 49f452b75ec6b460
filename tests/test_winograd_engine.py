"""Winograd's F(2, 3) path of the NumPy engine (:mod:`conv_tutorial.numpy._winograd_engine`) against
PyTorch and the general engine, in 1-3 spatial axes (in 3D, frame taps summed in the transformed
domain, down to clips of one frame), with blocks of whole images and of bands of tile rows; taps
that read only padding are never read; its weight transform, finiteness check and blocks; the public
functions reach it for float32 3x3 layers with many channels; and everything it does not do
(float64, strides, dilations, groups, other kernels, wide padding, non-finite values) goes
elsewhere with the same result."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given, settings
from hypothesis import strategies as st

import conv_tutorial.numpy as cnp
from conv_tutorial._checks import check_conv
from conv_tutorial.numpy import _winograd_engine
from conv_tutorial.numpy.im2col import conv_forward

TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@st.composite
def winograd_configs(draw):
    n = draw(st.integers(1, 3))
    # (left, right) per axis, 0 or 1 each: the transposed engine's direct form pads unevenly.
    padding = tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in range(n))
    # At least 2 outputs along the tiled axes (the last two); in 3D the frames may give 1 output.
    least = [(3 if n == 3 and axis == 0 else 4) - lo - hi for axis, (lo, hi) in enumerate(padding)]
    spatial = tuple(draw(st.integers(low, 10)) for low in least)
    return {
        "n": n,
        "shape": (draw(st.integers(1, 3)), draw(st.integers(1, 5)), *spatial),
        "c_out": draw(st.integers(1, 5)),
        "padding": padding,
        "block_bytes": draw(st.sampled_from([1, 4096, 2**22])),  # a row of tiles, a few, whole images
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=150, deadline=None)
@given(winograd_configs())
def test_winograd_matches_torch_and_the_general_engine(cfg):
    n = cfg["n"]
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"], dtype=np.float32)  # the path is float32's
    w = rng.standard_normal((cfg["c_out"], cfg["shape"][1], *(3,) * n), dtype=np.float32)
    with pytest.MonkeyPatch.context() as mp:  # any channels, any waste, the drawn blocks
        mp.setattr(_winograd_engine, "WINOGRAD_MIN_CHANNELS", 0)
        mp.setattr(_winograd_engine, "WINOGRAD_MAX_WASTE", 2.0**n)
        mp.setattr(_winograd_engine, "WINOGRAD_BLOCK_BYTES", cfg["block_bytes"])
        ours = _winograd_engine.winograd_conv_forward(x, w, (1,) * n, cfg["padding"], (1,) * n, 1)
    assert ours is not None
    assert ours.dtype == np.float32
    # The references convolve the input padded beforehand (PyTorch pads both sides alike).
    x64 = np.pad(x.astype(np.float64), ((0, 0), (0, 0), *cfg["padding"]))
    w64 = w.astype(np.float64)
    reference = TORCH_CONV[n](torch.from_numpy(x64), torch.from_numpy(w64))
    assert_close_to_reference(ours, reference)
    spec = check_conv("conv", n, x64.shape, w.shape, None, 1, 0, 1, 1)
    assert_close_to_reference(ours, conv_forward(x64, w64, spec))


@pytest.mark.parametrize(
    ("frames", "padding", "dead"),
    [
        (1, (1, 1), [0, 2]),  # one frame: only the middle tap reads it
        (2, (1, 1), []),  # each output frame misses one tap, but every tap is read by one of them
        (3, (1, 0), []),
        (4, (0, 0), []),
    ],
)
def test_frame_taps_that_read_only_padding_are_never_read(frames, padding, dead):
    """Each output frame's product takes only its live taps: a nan in a tap no frame reads stays out."""
    rng = np.random.default_rng(frames)
    x = rng.standard_normal((2, 6, frames, 5, 6), dtype=np.float32)
    w = rng.standard_normal((7, 6, 3, 3, 3), dtype=np.float32)
    w[:, :, dead] = np.nan
    pads = (padding, (1, 1), (1, 1))
    ours = _winograd_engine._frames_forward(x, w, pads)  # past the finiteness check, which would refuse
    w[:, :, dead] = 0
    x64 = np.pad(x.astype(np.float64), ((0, 0), (0, 0), *pads))
    reference = F.conv3d(torch.from_numpy(x64), torch.from_numpy(w.astype(np.float64)))
    assert np.isfinite(ours).all()
    assert_close_to_reference(ours, reference)


@pytest.mark.parametrize("flipped_view", [False, True])
@pytest.mark.parametrize(("kernel", "taps", "c_in"), [((3,), 1, 4), ((3, 3), 1, 5), ((3, 3), 2, 6), ((3, 3), 3, 300)])
def test_weight_transform_is_g_w_g_transposed_with_rows_tap_major(kernel, taps, c_in, flipped_view):
    """``(4^m, C_out, taps * C_in)``: ``G w G^T`` over the tiled axes, row ``t * C_in + i`` for tap ``t``.

    With 300 input channels and three taps, the copy that puts the taps first goes in chunks of
    filters, as does the gathering of a weight that is a view (a transposed convolution's flipped
    kernel, channel axes swapped).
    """
    rng = np.random.default_rng(c_in)
    c_out = 70
    w = rng.standard_normal((c_out, c_in, taps, *kernel), dtype=np.float32)
    if flipped_view:
        w = np.ascontiguousarray(w.swapaxes(0, 1)).swapaxes(0, 1)[(Ellipsis, *(slice(None, None, -1),) * len(kernel))]
        assert not w.flags.c_contiguous
    u = _winograd_engine._weight_transform(w)
    g = _winograd_engine._G
    w64 = w.astype(np.float64)
    subscripts = "ai,octi->aotc" if len(kernel) == 1 else "ai,bj,octij->abotc"
    expected = np.einsum(subscripts, *(g,) * len(kernel), w64)
    expected = expected.reshape(4 ** len(kernel), c_out, taps * c_in)
    assert u.shape == expected.shape and u.dtype == np.float32
    np.testing.assert_allclose(u, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())


def test_all_finite_sees_every_nan_and_inf_and_survives_overflow():
    a = np.ones((5, 7), dtype=np.float32)
    assert _winograd_engine._all_finite(a)
    for bad in (np.nan, np.inf, -np.inf):
        b = a.copy()
        b[3, 4] = bad
        assert not _winograd_engine._all_finite(b)
        assert not _winograd_engine._all_finite(b.T)  # strided: checked number by number
    big = np.full((5, 7), 3e38, dtype=np.float32)  # finite, but their squares overflow
    assert _winograd_engine._all_finite(big)
    big[0, 0] = -np.inf
    assert not _winograd_engine._all_finite(big)


@pytest.mark.parametrize(
    ("batch", "tiles", "count"), [(8, [4, 4], 96), (8, [4, 4], 16), (3, [14, 14], 96), (2, [5], 2)]
)
def test_tile_boxes_cover_every_tile_once_within_the_count(batch, tiles, count):
    seen = np.zeros((batch, *tiles), dtype=int)
    sizes = []
    for images, box in _winograd_engine._tile_boxes(batch, tiles, count):
        seen[(images, *box)] += 1
        sizes.append((images.stop - images.start) * math.prod(s.stop - s.start for s in box))
    assert (seen == 1).all()
    assert max(sizes) <= max(count, 1)
    if math.prod(tiles) <= count:  # whole images, in blocks as even as can be
        assert max(sizes) - min(sizes) <= math.prod(tiles)


def test_block_bytes_stay_between_one_mebibyte_and_the_budget():
    mib = 2**20
    block = _winograd_engine._block_bytes
    assert block(0, 0, 0, 0) == mib
    assert block(100 * mib, 100 * mib, 100 * mib, 0) == _winograd_engine.WINOGRAD_BLOCK_BYTES
    # R3D-18's one-frame 512-channel layer: the 27-tap weight leaves room that the 2D layer lacks.
    weight, u, x = 27 * mib, 16 * mib, mib
    assert block(x, weight, x, u) > block(x, weight // 3, x, u) == mib


@pytest.mark.parametrize(
    ("shape", "weight"),
    [
        ((2, 32, 12, 12), (48, 32, 3, 3)),
        ((2, 32, 4, 6, 6), (32, 32, 3, 3, 3)),
        ((1, 64, 1, 7, 7), (48, 64, 3, 3, 3)),  # one frame of an odd size, batch 1, C_in != C_out
        ((1, 40, 3, 9, 8), (36, 40, 3, 3, 3)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_public_functions_take_winograd_for_many_channels_in_float32(shape, weight, dtype, monkeypatch):
    calls = []
    original = _winograd_engine.winograd_conv_forward

    def spy(*args):
        out = original(*args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(cnp._flat_engine, "winograd_conv_forward", spy)
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (shape, weight, weight[:1]))
    conv = cnp.conv2d if len(shape) == 4 else cnp.conv3d
    ours = conv(x, w, b, padding=1)
    assert calls == [dtype == np.float32] and ours.dtype == dtype  # float64 keeps the direct product
    reference = TORCH_CONV[len(shape) - 2](*(torch.from_numpy(a) for a in (x, w, b)), padding=1)
    assert_close_to_reference(ours, reference)


@pytest.mark.parametrize(
    ("weight", "args", "poison"),
    [
        ((32, 32, 3, 3), {"stride": (2, 2)}, None),
        ((32, 32, 3, 3), {"dilation": (2, 2)}, None),
        ((32, 16, 3, 3), {"groups": 2}, None),
        ((32, 32, 5, 5), {}, None),
        ((32, 32, 3, 3), {"padding": ((2, 2), (1, 1))}, None),
        ((32, 32, 3, 3), {}, "input"),
        ((32, 32, 3, 3), {}, "weight"),
        ((32, 32, 3, 3), {}, "float64"),
    ],
)
def test_what_winograd_leaves_to_the_other_paths(weight, args, poison):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 32, 10, 10), dtype=np.float32), rng.standard_normal(weight, dtype=np.float32)
    if poison == "input":
        x[0, 3, 4, 4] = np.inf
    if poison == "weight":
        w[1, 2, 0, 0] = np.nan
    if poison == "float64":
        x, w = x.astype(np.float64), w.astype(np.float64)
    kw = {"stride": (1, 1), "padding": ((1, 1), (1, 1)), "dilation": (1, 1), "groups": 1, **args}
    declined_and_like_pytorch(x, w, kw, cnp.conv2d, F.conv2d)


def declined_and_like_pytorch(x, w, kw, ours_fn, native_fn):
    """Winograd declines ``(x, w)``; the public function's answer (returned) is PyTorch's, nan for nan."""
    assert (
        _winograd_engine.winograd_conv_forward(x, w, kw["stride"], kw["padding"], kw["dilation"], kw["groups"]) is None
    )
    torch_kw = {**kw, "padding": tuple(lo for lo, _ in kw["padding"])}
    ours = ours_fn(x, w, **torch_kw)
    # PyTorch's float64 convolution multiplies the padding's zeros as the package does (its
    # float32 one skips them, so a NaN weight spreads less there).
    reference = native_fn(*(torch.from_numpy(a.astype(np.float64)) for a in (x, w)), **torch_kw).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
    finite = np.isfinite(reference)
    assert_close_to_reference(np.where(finite, ours, 0), np.where(finite, reference, 0))
    return ours


@pytest.mark.parametrize(
    ("args", "poison"),
    [
        ({"stride": (2, 1, 1)}, None),  # strided frames
        ({"padding": ((2, 2), (1, 1), (1, 1))}, None),  # wide padding of the frames
        ({}, "dead tap"),  # a nan in a tap that reads only padding still spreads, as in PyTorch
        ({}, "input"),
    ],
)
def test_what_winograd_leaves_to_the_other_paths_in_3d(args, poison):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 32, 1, 6, 7), dtype=np.float32)  # one frame: only the middle tap is live
    w = rng.standard_normal((32, 32, 3, 3, 3), dtype=np.float32)
    if poison == "dead tap":
        w[5, 2, 0, 1, 1] = np.nan
    if poison == "input":
        x[1, 3, 0, 2, 2] = -np.inf
    kw = {"stride": (1, 1, 1), "padding": ((1, 1),) * 3, "dilation": (1, 1, 1), "groups": 1, **args}
    ours = declined_and_like_pytorch(x, w, kw, cnp.conv3d, F.conv3d)
    assert np.isnan(ours[:, 5]).all() == (poison == "dead tap")
