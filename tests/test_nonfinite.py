"""NaN, +inf and -inf propagate exactly as in PyTorch, for every array argument of every public function.

One value, NaN, +inf or -inf, is planted at a random position (edges drawn often) of one array
argument (input, weight, bias, offset, mask, ...), and the result is compared with PyTorch's on
the same arguments, cell for cell: the same NaN, +inf and -inf pattern, and the finite cells close.
A product ``0 * inf`` is NaN, so a kernel tap that falls in the zero padding must still be
multiplied, and a zero inserted between the inputs of a transposed convolution must not be.

Every call below runs through both backends where both have the function; the configurations
cover the engine's paths: small and large maps, strides, dilations, groups, depthwise in place and
through a padded copy, transposed. The reference for deformable convolution is torchvision where
it imports, else the loop version (whose own comparison with torchvision is in test_deformable.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from strategies import plantings

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct

try:  # torchvision does not import beside every torch build
    import torchvision
    from torchvision.ops import deform_conv2d as tv_deform_conv2d
except Exception:  # noqa: BLE001 - any failure to import means "not here"
    torchvision, tv_deform_conv2d = None, None

F64 = torch.float64
SPECIAL = {"nan": math.nan, "+inf": math.inf, "-inf": -math.inf}


@dataclass
class Call:
    """A public function's call: the shapes of its array arguments, its other arguments, the reference."""

    name: str
    arrays: dict  # argument name -> shape (in the function's positional order)
    reference: Callable  # (float64 tensors by name, **kwargs) -> tensor or tuple of tensors
    kwargs: dict = field(default_factory=dict)
    backends: tuple = ("numpy", "torch")

    def __str__(self):
        return self.name


def _conv_ref(n):
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
    return lambda t, **kw: fn(t["input"], t["weight"], t.get("bias"), **kw)


def _transpose_ref(n):
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[n]
    return lambda t, **kw: fn(t["input"], t["weight"], t.get("bias"), **kw)


def conv(name, n, x, w, bias=True, **kw):
    arrays = {"input": x, "weight": w, **({"bias": (w[0],)} if bias else {})}
    return Call(name, arrays, _conv_ref(n), kw)


def transpose(name, n, x, w, groups=1, bias=True, **kw):
    arrays = {"input": x, "weight": w, **({"bias": (w[1] * groups,)} if bias else {})}
    return Call(name, arrays, _transpose_ref(n), dict(kw, groups=groups))


def _separable_ref(t, stride=1, padding=0, dilation=1):
    mid = F.conv2d(
        t["input"], t["depthwise_weight"], t["depthwise_bias"], stride, padding, dilation, groups=t["input"].shape[1]
    )
    return F.conv2d(mid, t["pointwise_weight"][:, :, None, None], t["pointwise_bias"])


def _spatially_separable_ref(t, padding):
    mid = F.conv2d(t["input"], t["column_weight"], t["column_bias"], padding=(padding, 0))
    return F.conv2d(mid, t["row_weight"], t["row_bias"], padding=(0, padding))


def _se_ref(t):
    squeezed = t["input"].mean(dim=(2, 3))
    gate = torch.sigmoid(F.relu(squeezed @ t["w1"].T + t["b1"]) @ t["w2"].T + t["b2"])
    return t["input"] * gate[:, :, None, None]


def _resize_ref(t, scale_factor, mode):
    up = F.interpolate(
        t["input"], scale_factor=scale_factor, mode=mode, align_corners=False if mode == "bilinear" else None
    )
    return F.conv2d(up, t["weight"], t["bias"], padding="same")


def _conv_grads_ref(t, **kw):
    x, w = (t[k].clone().requires_grad_() for k in ("input", "weight"))
    b = torch.zeros(w.shape[0], dtype=F64, device=w.device, requires_grad=True)
    out = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[w.ndim](x, w, b, **kw)
    return torch.autograd.grad(out, (x, w, b), t["grad_output"])


def _deform_ref(t, **kw):
    # torchvision's CPU kernel turns a NaN coordinate into an int (undefined behaviour) and can read
    # out of bounds and crash: the loop version, which computes what its arithmetic means (NaN), stands in.
    if tv_deform_conv2d is not None and not torch.isnan(t["offset"]).any():
        return tv_deform_conv2d(t["input"], t["offset"], t["weight"], t.get("bias"), mask=t.get("mask"), **kw)
    arrays = {k: None if v is None else v.cpu().numpy() for k, v in t.items()}
    return torch.from_numpy(
        cnp.deform_conv2d_naive(
            arrays["input"], arrays["offset"], arrays["weight"], arrays.get("bias"), mask=arrays.get("mask"), **kw
        )
    )


def _sampling_points_ref(t, kernel_size, stride, padding, dilation):
    """torchvision's sampling points: ``i * stride - padding + k * dilation + offset`` per tap."""
    offset = t["offset"]
    n, _, h_out, w_out = offset.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    off = offset.reshape(n, -1, kh, kw, 2, h_out, w_out)
    ar = functools.partial(torch.arange, device=offset.device)
    rows = ar(h_out)[None, :] * sh - ph + ar(kh)[:, None] * dh  # (kH, H_out)
    cols = ar(w_out)[None, :] * sw - pw + ar(kw)[:, None] * dw  # (kW, W_out)
    y = rows[:, None, :, None] + off[:, :, :, :, 0]
    x = cols[None, :, None, :] + off[:, :, :, :, 1]
    return torch.stack([y, x], dim=-1)


def _bilinear_ref(t, y, x):
    """``F.grid_sample`` with zeros outside, at pixel ``(y, x)``: torchvision's rule inside ``(-1, H) x (-1, W)``."""
    height, width = t["image"].shape
    grid = torch.tensor([[[[2 * x / (width - 1) - 1, 2 * y / (height - 1) - 1]]]], dtype=F64)
    return F.grid_sample(t["image"][None, None], grid, align_corners=True, padding_mode="zeros")[0, 0, 0, 0]


DEFORM = dict(stride=1, padding=1, dilation=1)
DEFORM_STRIDED = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))

CALLS = [
    conv("conv1d", 1, (2, 4, 9), (6, 2, 3), stride=2, padding=1, dilation=2, groups=2),
    conv("conv1d-depthwise-same", 1, (2, 4, 9), (4, 1, 3), padding="same", groups=4),
    conv("conv2d", 2, (2, 4, 7, 6), (6, 4, 3, 3), padding=1),
    conv(
        "conv2d-grouped-strided-dilated",
        2,
        (2, 4, 9, 8),
        (4, 2, 3, 2),
        stride=(2, 1),
        padding=(1, 0),
        dilation=(1, 2),
        groups=2,
    ),
    conv("conv2d-pointwise", 2, (2, 5, 4, 4), (3, 5, 1, 1)),
    conv("conv2d-depthwise", 2, (2, 3, 6, 6), (3, 1, 3, 3), padding=1, groups=3),
    conv("conv2d-depthwise-multiplier-strided", 2, (1, 2, 7, 7), (4, 1, 3, 3), stride=2, padding=1, groups=2),
    conv("conv2d-depthwise-same-dilated", 2, (2, 3, 8, 8), (3, 1, 3, 3), padding="same", dilation=2, groups=3),
    conv("conv2d-depthwise-wider-than-map", 2, (3, 2, 5, 5), (2, 1, 3, 3), padding="same", dilation=3, groups=2),
    conv("conv2d-depthwise-large", 2, (1, 2, 130, 130), (2, 1, 3, 3), padding=1, groups=2),
    conv("conv2d-depthwise-large-same", 2, (1, 2, 130, 130), (2, 1, 3, 3), padding="same", groups=2),
    conv("conv2d-depthwise-large-strided", 2, (1, 2, 131, 131), (2, 1, 3, 3), stride=2, padding=1, groups=2),
    conv("conv3d", 3, (1, 4, 5, 5, 5), (4, 2, 3, 3, 3), padding=1, groups=2),
    conv("conv3d-depthwise-same", 3, (2, 3, 5, 6, 4), (3, 1, 3, 3, 3), padding="same", groups=3),
    Call(
        "conv2d_naive",
        {"input": (2, 4, 6, 5), "weight": (4, 2, 3, 2), "bias": (4,)},
        _conv_ref(2),
        dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
        ("numpy",),
    ),
    Call(
        "conv2d_by_groups",
        {"input": (2, 4, 6, 5), "weight": (4, 2, 3, 2), "bias": (4,)},
        _conv_ref(2),
        dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
    ),
    Call(
        "depthwise_conv2d_by_taps",
        {"input": (2, 3, 7, 6), "weight": (6, 1, 3, 2), "bias": (6,)},
        lambda t, **kw: F.conv2d(t["input"], t["weight"], t["bias"], groups=3, **kw),
        dict(stride=(2, 1), padding=1, dilation=(1, 2)),
    ),
    Call(
        "depthwise_conv2d",
        {"input": (2, 3, 6, 6), "weight": (6, 1, 3, 3), "bias": (6,)},
        lambda t, **kw: F.conv2d(t["input"], t["weight"], t["bias"], groups=3, **kw),
        dict(stride=2, padding=1),
    ),
    Call(
        "pointwise_conv2d",
        {"input": (2, 5, 4, 4), "weight": (3, 5), "bias": (3,)},
        lambda t: F.conv2d(t["input"], t["weight"][:, :, None, None], t["bias"]),
    ),
    Call(
        "pointwise_conv2d_naive",
        {"input": (2, 5, 4, 4), "weight": (3, 5), "bias": (3,)},
        lambda t: F.conv2d(t["input"], t["weight"][:, :, None, None], t["bias"]),
        backends=("numpy",),
    ),
    Call(
        "separable_conv2d",
        {
            "input": (2, 3, 6, 6),
            "depthwise_weight": (3, 1, 3, 3),
            "pointwise_weight": (4, 3),
            "depthwise_bias": (3,),
            "pointwise_bias": (4,),
        },
        _separable_ref,
        dict(stride=2, padding=1),
    ),
    Call(
        "spatially_separable_conv2d",
        {
            "input": (2, 3, 6, 6),
            "column_weight": (4, 3, 3, 1),
            "row_weight": (5, 4, 1, 3),
            "column_bias": (4,),
            "row_bias": (5,),
        },
        _spatially_separable_ref,
        dict(padding=1),
    ),
    Call(
        "global_depthwise_conv2d",
        {"input": (2, 3, 5, 5), "weight": (3, 1, 5, 5), "bias": (3,)},
        lambda t: F.conv2d(t["input"], t["weight"], t["bias"], groups=3),
    ),
    Call("global_avg_pool2d", {"input": (2, 3, 4, 5)}, lambda t: F.adaptive_avg_pool2d(t["input"], 1)),
    Call(
        "batch_norm",
        {"input": (2, 3, 4, 5), "running_mean": (3,), "running_var": (3,), "weight": (3,), "bias": (3,)},
        lambda t: F.batch_norm(t["input"], t["running_mean"], t["running_var"], t["weight"], t["bias"], training=False),
    ),
    Call("squeeze_excitation", {"input": (2, 4, 3, 3), "w1": (2, 4), "b1": (2,), "w2": (4, 2), "b2": (4,)}, _se_ref),
    transpose("conv_transpose1d", 1, (2, 2, 5), (2, 3, 3), stride=2, output_padding=1),
    transpose("conv_transpose1d-depthwise-strided", 1, (1, 2, 4), (2, 1, 3), groups=2, stride=2),
    transpose(
        "conv_transpose2d",
        2,
        (2, 4, 4, 3),
        (4, 3, 3, 2),
        groups=2,
        stride=(2, 1),
        padding=(1, 0),
        dilation=(1, 2),
        output_padding=(1, 0),
    ),
    transpose(
        "conv_transpose2d-depthwise-strided",
        2,
        (2, 3, 4, 4),
        (3, 1, 3, 3),
        groups=3,
        stride=2,
        padding=1,
        output_padding=1,
    ),
    transpose("conv_transpose2d-depthwise-same", 2, (2, 3, 6, 6), (3, 1, 3, 3), groups=3, padding=1),
    transpose(
        "conv_transpose2d-depthwise-large-padding", 2, (1, 2, 6, 6), (2, 1, 3, 3), groups=2, padding=3, dilation=2
    ),
    transpose("conv_transpose3d", 3, (1, 2, 3, 3, 3), (2, 2, 3, 3, 3), stride=2, padding=1),
    Call(
        "conv_transpose2d_naive",
        {"input": (2, 4, 4, 3), "weight": (4, 3, 3, 2), "bias": (6,)},
        _transpose_ref(2),
        dict(groups=2, stride=(2, 1), padding=(1, 0), dilation=(1, 2), output_padding=(1, 0)),
        ("numpy",),
    ),
    Call(
        "unfold",
        {"input": (2, 3, 5, 6)},
        lambda t, **kw: F.unfold(t["input"], **kw),
        dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
    ),
    Call(
        "fold",
        {"input": (2, 3 * 2 * 3, 5 * 3)},
        lambda t, **kw: F.fold(t["input"], **kw),
        dict(output_size=(5, 6), kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
    ),
    Call(
        "upsample2d-nearest",
        {"input": (2, 2, 4, 5)},
        lambda t, scale_factor, mode: F.interpolate(t["input"], scale_factor=scale_factor, mode=mode),
        dict(scale_factor=3, mode="nearest"),
    ),
    Call(
        "upsample2d-bilinear",
        {"input": (2, 2, 4, 5)},
        lambda t, scale_factor, mode: F.interpolate(
            t["input"], scale_factor=scale_factor, mode=mode, align_corners=False
        ),
        dict(scale_factor=2, mode="bilinear"),
    ),
    Call(
        "resize_conv2d-nearest",
        {"input": (1, 2, 4, 4), "weight": (3, 2, 3, 3), "bias": (3,)},
        _resize_ref,
        dict(scale_factor=2, mode="nearest"),
    ),
    # Scale 2: its interpolation weights (0, 1/4, 3/4) are exact in binary, so PyTorch's CPU and CUDA
    # kernels, which the torch backend calls, agree on which products are 0 * inf (with 1/3 they round
    # the weights differently).
    Call(
        "resize_conv2d-bilinear",
        {"input": (1, 2, 4, 4), "weight": (3, 2, 3, 3), "bias": (3,)},
        _resize_ref,
        dict(scale_factor=2, mode="bilinear"),
    ),
    Call(
        "channel_shuffle",
        {"input": (2, 6, 3, 3)},
        lambda t, groups: F.channel_shuffle(t["input"], groups),
        dict(groups=3),
    ),
    Call(
        "conv_backward",
        {"grad_output": (2, 4, 5, 6), "input": (2, 4, 9, 8), "weight": (4, 2, 3, 2)},
        _conv_grads_ref,
        dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2),
        ("numpy",),
    ),
    Call(
        "deform_conv2d",
        {
            "input": (1, 4, 5, 5),
            "offset": (1, 2 * 2 * 9, 5, 5),
            "weight": (4, 2, 3, 3),
            "bias": (4,),
            "mask": (1, 2 * 9, 5, 5),
        },
        _deform_ref,
        DEFORM,
    ),
    Call(
        "deform_conv2d-strided",
        {"input": (2, 2, 6, 5), "offset": (2, 2 * 9, 3, 1), "weight": (3, 2, 3, 3), "bias": (3,)},
        _deform_ref,
        DEFORM_STRIDED,
    ),
    # On a row (y whole): the row below has weight 0, yet 0 * inf is nan, as in torchvision.
    Call("bilinear_interpolate", {"image": (4, 6)}, _bilinear_ref, dict(y=1.0, x=2.25), ("numpy",)),
    Call("bilinear_interpolate-border", {"image": (4, 6)}, _bilinear_ref, dict(y=-0.5, x=5.5), ("numpy",)),
    Call(
        "deform_sampling_points",
        {"offset": (2, 2 * 2 * 6, 3, 4)},
        _sampling_points_ref,
        dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
    ),
]
if tv_deform_conv2d is not None:  # the loop version is only checked where it is not the reference
    CALLS.append(
        Call(
            "deform_conv2d_naive",
            {
                "input": (1, 4, 5, 5),
                "offset": (1, 2 * 2 * 9, 5, 5),
                "weight": (4, 2, 3, 3),
                "bias": (4,),
                "mask": (1, 2 * 9, 5, 5),
            },
            _deform_ref,
            DEFORM,
            ("numpy",),
        )
    )

# Offsets that reach past the borders by a few pixels, a mask in [0, 1), like the other tests.
_SCALES = {"offset": 2.5}


def _function(call: Call, backend: str):
    module = cnp if backend == "numpy" else ct
    return getattr(module, call.name.split("-")[0])


def _arrays(call: Call, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in call.arrays.items():
        if name == "mask":
            out[name] = torch.rand(shape, generator=gen, dtype=F64)
        else:
            out[name] = torch.randn(shape, generator=gen, dtype=F64) * _SCALES.get(name, 1.0)
    return out


def _as_tuple(result):
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def assert_same_nonfinite_pattern(ours, reference, what: str) -> None:
    """Same shape, NaN where the reference has NaN, the same signed infinities, finite cells close."""
    ours = ours.detach().cpu().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    reference = reference.detach().cpu().numpy()
    assert ours.shape == reference.shape, f"{what}: shape {ours.shape} != reference {reference.shape}"
    for label, test in (("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        mismatch = test(ours) != test(reference)
        assert not mismatch.any(), (
            f"{what}: {label} pattern differs at {int(mismatch.sum())} cells, first at "
            f"{tuple(int(i) for i in np.argwhere(mismatch)[0])} (ours {ours[mismatch][0]}, reference "
            f"{reference[mismatch][0]})"
        )
    finite = np.isfinite(reference)
    scale = max(1.0, float(np.abs(reference[finite]).max(initial=0.0)))
    tol = 1e-9 if ours.dtype == np.float64 else 1e-4
    err = float(np.abs(ours[finite] - reference[finite]).max(initial=0.0)) / scale
    assert err <= tol, f"{what}: finite cells differ by {err:.3g} of the scale"


# The torch backend runs on the GPU too where there is one; the reference stays on the CPU.
BACKENDS = ["numpy", "torch"] + (["torch-cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("call", CALLS, ids=str)
# A fifth of the profile's examples per call and backend (12 by default, 200 with HYPOTHESIS_PROFILE=thorough);
# no shrinking: the draws are already small.
@settings(max_examples=max(12, settings.default.max_examples // 5), phases=(Phase.explicit, Phase.generate))
@given(data=st.data())
def test_one_planted_value_propagates_as_in_pytorch(call, backend, data):
    if backend.split("-")[0] not in call.backends:
        pytest.skip(f"{call.name} is a NumPy-only function")
    name, index, value, seed = data.draw(plantings(call.arrays, SPECIAL))
    dtype = data.draw(st.sampled_from([np.float64, np.float32]))
    tensors = _arrays(call, seed)
    tensors[name][index] = SPECIAL[value]
    # PyTorch on the CPU is the reference on every device. (Its CUDA depthwise kernel skips the taps
    # that fall in the padding, so there an inf weight next to the border does not give NaN.)
    reference = _as_tuple(call.reference(dict(tensors), **call.kwargs))
    device = "cuda" if backend == "torch-cuda" else "cpu"
    if backend == "numpy":
        args = {k: v.numpy().astype(dtype) for k, v in tensors.items()}
    else:
        args = {k: v.to(device, getattr(torch, np.dtype(dtype).name)) for k, v in tensors.items()}
    ours = _as_tuple(_function(call, backend.split("-")[0])(**args, **call.kwargs))
    for i, (a, r) in enumerate(zip(ours, reference, strict=True)):
        assert_same_nonfinite_pattern(a, r, f"{call.name} ({backend}, {value} at {name}{list(index)}), output {i}")


# --- the cases that were wrong, named --------------------------------------------------------


def test_an_infinite_tap_over_the_padding_gives_nan_as_in_pytorch():
    x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))
    w[0, 0, 0, 0] = np.inf
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    assert np.isnan(ref[0, 0, 0]).all()
    for groups_conv in (cnp.conv2d, cnp.depthwise_conv2d):
        assert_same_nonfinite_pattern(groups_conv(x, w, padding=1), torch.from_numpy(ref), groups_conv.__name__)


def test_inserted_zeros_of_a_transposed_convolution_are_not_multiplied():
    x, w = np.ones((1, 1, 2)), np.array([[[1.0, np.inf, 1.0]]])
    ours = cnp.conv_transpose1d(x, w, stride=2)
    np.testing.assert_array_equal(ours[0, 0], [1, np.inf, 2, np.inf, 1])
    np.testing.assert_array_equal(
        ct.conv_transpose1d(torch.from_numpy(x), torch.from_numpy(w), stride=2)[0, 0], [1, np.inf, 2, np.inf, 1]
    )


def test_upsampling_keeps_a_nan_in_its_own_block():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = np.nan
    for backend, up in (("numpy", cnp.upsample2d), ("torch", ct.upsample2d)):
        out = up(x if backend == "numpy" else torch.from_numpy(x), 2)
        out = out.numpy() if backend == "torch" else out
        expected = np.zeros((8, 8), dtype=bool)
        expected[2:4, 4:6] = True
        np.testing.assert_array_equal(np.isnan(out[0, 0]), expected)


def test_upsampling_a_large_image_takes_linear_time():
    """A 3x512x512 image upsamples in well under a second: the work grows with H * W, not (H * W)**2."""
    x = np.random.default_rng(0).standard_normal((1, 3, 512, 512)).astype(np.float32)
    for mode in ("nearest", "bilinear"):
        ours = cnp.upsample2d(x, 2, mode=mode)
        ref = F.interpolate(
            torch.from_numpy(x), scale_factor=2, mode=mode, align_corners=False if mode == "bilinear" else None
        )
        assert_same_nonfinite_pattern(ours, ref, mode)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_nan_offset_gives_nan_as_in_torchvision(backend):
    """torchvision's bilinear kernel passes a NaN coordinate on to its weights: the sample is NaN.

    An infinite offset moves the point off the image, where torchvision reads 0.
    """
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 1, 1))
    offset = np.zeros((1, 2, 3, 3))
    offset[0, 0, 1, 1] = np.nan
    offset[0, 1, 2, 2] = np.inf
    args = (x, offset, w) if backend == "numpy" else [torch.from_numpy(a) for a in (x, offset, w)]
    out = (cnp if backend == "numpy" else ct).deform_conv2d(*args)
    out = np.asarray(out)
    expected = np.ones((3, 3))
    expected[1, 1], expected[2, 2] = np.nan, 0.0
    np.testing.assert_array_equal(out[0, 0], expected)


def test_a_nan_weight_sits_where_its_tap_sits_in_the_convolution_matrix():
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    w[0, 0, 1, 2] = np.nan
    matrix = cnp.conv_matrix((1, 4, 5), w, padding=1)
    marker = np.zeros_like(w)
    marker[0, 0, 1, 2] = 1.0
    np.testing.assert_array_equal(np.isnan(matrix), cnp.conv_matrix((1, 4, 5), marker, padding=1) != 0)


@pytest.mark.parametrize("groups", [1, 2, 6])
def test_channel_shuffle_never_returns_a_view_of_its_input(groups):
    x = np.arange(2 * 6 * 3.0).reshape(2, 6, 3)
    out = cnp.channel_shuffle(x, groups)
    assert not np.shares_memory(out, x)
    t = torch.from_numpy(x)
    shuffled = ct.channel_shuffle(t, groups)
    assert shuffled.untyped_storage().data_ptr() != t.untyped_storage().data_ptr()
    np.testing.assert_array_equal(shuffled.numpy(), out)
    np.testing.assert_array_equal(out, F.channel_shuffle(t, groups).numpy())


# Public functions outside the planted-value test, and why.
NOT_PLANTED = {
    "gridding_map": "takes no array of numbers",
    "native_convolutions": "takes no array of numbers",
    "overlap_map": "takes no array of numbers",
    "stacked_overlap_map": "takes no array of numbers",
    "shuffle_permutation": "takes no array of numbers",
    "set_num_threads": "takes no array of numbers",
    "get_num_threads": "takes no array of numbers",
    "separate_kernel": "refuses a kernel with an inf or nan (test_errors.py)",
    "low_rank_kernel": "refuses a kernel with an inf or nan (test_errors.py)",
    "conv_matrix": "a NaN weight lands where its tap sits (the test above)",
    "deform_conv2d_naive": "the reference where torchvision does not import (planted against it where it does)",
    "residual_block": "conv2d and batch_norm composed (each planted), its weights in a mapping",
    "dense_layer": "conv2d and batch_norm composed (each planted), its weights in a mapping",
    "dense_block": "dense_layer after dense_layer",
    "transition": "conv2d and batch_norm composed (each planted), its weights in a mapping",
    "resnet": "builds a network; takes no array of numbers",
    "resnet18": "builds a network; takes no array of numbers",
    "densenet": "builds a network; takes no array of numbers",
    "densenet121": "builds a network; takes no array of numbers",
    "basic_block_net": "builds a network; takes no array of numbers",
}


@pytest.mark.parametrize("module", [cnp, ct], ids=["numpy", "torch"])
def test_every_public_function_is_planted_or_named(module):
    backend = "numpy" if module is cnp else "torch"
    planted = {call.name.split("-")[0] for call in CALLS if backend in call.backends}
    functions = {name for name in module.__all__ if not isinstance(getattr(module, name), type)}
    assert functions - planted - set(NOT_PLANTED) == set()
