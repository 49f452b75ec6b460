"""Winograd's F(2, 3) path of the NumPy engine (:mod:`conv_tutorial.numpy._winograd_engine`) against
PyTorch and the general engine, in 1-3 spatial axes, with blocks of whole images and of bands of
tile rows; the public functions reach it for float32 3x3 layers with many channels; and everything
it does not do (float64, strides, dilations, groups, other kernels, wide padding, non-finite values)
goes elsewhere with the same result."""

from __future__ import annotations

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
    padding = tuple(draw(st.integers(0, 1)) for _ in range(n))
    spatial = tuple(draw(st.integers(4 - 2 * p, 10)) for p in padding)  # at least 2 outputs per axis
    return {
        "n": n,
        "shape": (draw(st.integers(1, 3)), draw(st.integers(1, 5)), *spatial),
        "c_out": draw(st.integers(1, 5)),
        "padding": padding,
        "block_bytes": draw(st.sampled_from([1, 4096, 2**22])),  # a row of tiles, a few, whole images
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=120, deadline=None)
@given(winograd_configs())
def test_winograd_matches_torch_and_the_general_engine(cfg):
    n = cfg["n"]
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"], dtype=np.float32)  # the path is float32's
    w = rng.standard_normal((cfg["c_out"], cfg["shape"][1], *(3,) * n), dtype=np.float32)
    spec = check_conv("conv", n, x.shape, w.shape, None, 1, cfg["padding"], 1, 1)
    with pytest.MonkeyPatch.context() as mp:  # any channels, any waste, the drawn blocks
        mp.setattr(_winograd_engine, "WINOGRAD_MIN_CHANNELS", 0)
        mp.setattr(_winograd_engine, "WINOGRAD_MAX_WASTE", 2.0**n)
        mp.setattr(_winograd_engine, "WINOGRAD_BLOCK_BYTES", cfg["block_bytes"])
        ours = _winograd_engine.winograd_conv_forward(x, w, spec.stride, spec.padding, spec.dilation, 1)
    assert ours is not None
    assert ours.dtype == np.float32
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    reference = TORCH_CONV[n](torch.from_numpy(x64), torch.from_numpy(w64), padding=cfg["padding"])
    assert_close_to_reference(ours, reference)
    assert_close_to_reference(ours, conv_forward(x64, w64, spec))


@pytest.mark.parametrize(
    ("shape", "weight"),
    [((2, 32, 12, 12), (48, 32, 3, 3)), ((2, 32, 4, 6, 6), (32, 32, 3, 3, 3))],
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
    assert (
        _winograd_engine.winograd_conv_forward(x, w, kw["stride"], kw["padding"], kw["dilation"], kw["groups"]) is None
    )
    torch_kw = {**kw, "padding": tuple(lo for lo, _ in kw["padding"])}
    ours = cnp.conv2d(x, w, **torch_kw)
    # PyTorch's float64 convolution multiplies the padding's zeros as the package does (its
    # float32 one skips them, so a NaN weight spreads less there).
    reference = F.conv2d(*(torch.from_numpy(a.astype(np.float64)) for a in (x, w)), **torch_kw).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
    finite = np.isfinite(reference)
    assert_close_to_reference(np.where(finite, ours, 0), np.where(finite, reference, 0))
