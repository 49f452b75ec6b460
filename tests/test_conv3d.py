"""3D convolution in the torch backend, the (2+1)D block and the cost of both.

``conv3d`` and ``conv_transpose3d`` are compared with ``torch.nn.functional`` in float64 over
configurations drawn by hypothesis (tolerance of ``helpers.assert_close_to_reference``), and
with the NumPy backend; ``Conv2Plus1d`` against its definition, ``cost`` and ``FlopCounterMode``.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import conv3d_configs, transpose3d_configs
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct
from conv_tutorial.cost import conv2plus1d_macs, conv2plus1d_mid_channels, conv2plus1d_params, conv_macs, conv_params
from conv_tutorial.torch.im2col import native_convolutions

F64 = torch.float64

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


def _tensors(cfg, transposed=False, dtype=F64):
    gen = torch.Generator().manual_seed(cfg["seed"])
    c_in, c_out, g = cfg["in_channels"], cfg["out_channels"], cfg["args"]["groups"]
    x = torch.randn(cfg["batch"], c_in, *cfg["size"], generator=gen, dtype=F64).to(dtype)
    w_shape = (c_in, c_out // g) if transposed else (c_out, c_in // g)
    w = torch.randn(*w_shape, *cfg["kernel"], generator=gen, dtype=F64).to(dtype)
    b = torch.randn(c_out, generator=gen, dtype=F64).to(dtype) if cfg["bias"] else None
    return x, w, b


@given(conv3d_configs())
def test_conv3d_matches_torch_and_numpy(cfg):
    x, w, b = _tensors(cfg)
    ours = ct.conv3d(x, w, b, **cfg["args"])
    assert_close_to_reference(ours, F.conv3d(x, w, b, **cfg["args"]))
    assert_close_to_reference(ours, cnp.conv3d(x.numpy(), w.numpy(), None if b is None else b.numpy(), **cfg["args"]))


@given(transpose3d_configs())
def test_conv_transpose3d_matches_torch_and_numpy(cfg):
    y, w, b = _tensors(cfg, transposed=True)
    ours = ct.conv_transpose3d(y, w, b, **cfg["args"])
    assert_close_to_reference(ours, F.conv_transpose3d(y, w, b, **cfg["args"]))
    numpy = cnp.conv_transpose3d(y.numpy(), w.numpy(), None if b is None else b.numpy(), **cfg["args"])
    assert_close_to_reference(ours, numpy)


@given(conv3d_configs(), st.booleans())
def test_float32_is_accurate_to_float32(cfg, transposed):
    if transposed:
        cfg["args"].pop("padding")
        y, w, b = _tensors(cfg, transposed=True, dtype=torch.float32)
        ours, ref = ct.conv_transpose3d(y, w, b, **cfg["args"]), F.conv_transpose3d(y, w, b, **cfg["args"])
    else:
        x, w, b = _tensors(cfg, dtype=torch.float32)
        ours, ref = ct.conv3d(x, w, b, **cfg["args"]), F.conv3d(x, w, b, **cfg["args"])
    assert ours.dtype == torch.float32
    assert_close_to_reference(ours, ref)


@given(conv3d_configs())
def test_conv3d_gradients_match_torch(cfg):
    x, w, b = _tensors(cfg)
    leaves = [t.requires_grad_() for t in (x, w, b) if t is not None]
    out = ct.conv3d(x, w, b, **cfg["args"])
    grad_out = torch.randn_like(out)
    ours = torch.autograd.grad(out, leaves, grad_out)
    ref = torch.autograd.grad(F.conv3d(x, w, b, **cfg["args"]), leaves, grad_out)
    for a, r in zip(ours, ref, strict=True):
        assert_close_to_reference(a, r)


@given(transpose3d_configs())
def test_conv_transpose3d_is_the_adjoint_of_conv3d(cfg):
    """<conv3d(x), y> == <x, conv_transpose3d(y)> with the same weight and arguments.

    Only where output_padding < stride: larger output padding (allowed when the dilation is
    larger) adds positions no window of the convolution maps back.
    """
    y, w, _ = _tensors(cfg, transposed=True)
    args = dict(cfg["args"])
    strides = args["stride"] if isinstance(args["stride"], tuple) else (args["stride"],) * 3
    assume(all(op < s for op, s in zip(args["output_padding"], strides, strict=True)))
    out = ct.conv_transpose3d(y, w, **args)
    x = torch.randn_like(out)
    del args["output_padding"]
    conv = ct.conv3d(x, w, **args)
    assert conv.shape == y.shape
    lhs, rhs = float((conv * y).sum()), float((x * out).sum())
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


def test_unbatched_empty_and_integer_input():
    w = torch.randn(3, 2, 2, 2, 2, dtype=F64)
    x = torch.randn(2, 3, 4, 5, dtype=F64)
    assert_close_to_reference(ct.conv3d(x, w), F.conv3d(x, w))
    assert ct.conv3d(torch.empty(0, 2, 3, 4, 5), w.float()).shape == (0, 3, 2, 3, 4)
    assert ct.conv_transpose3d(torch.empty(0, 3, 2, 2, 2), w.float()).shape == (0, 2, 3, 3, 3)
    ints = torch.ones(1, 2, 2, 2, 2, dtype=torch.int64)
    assert ct.conv3d(ints, torch.ones(1, 2, 2, 2, 2, dtype=torch.int64)).dtype == F64
    assert ct.conv3d(ints, torch.ones(1, 2, 2, 2, 2, dtype=torch.int64)).item() == 16.0


def test_nan_propagates():
    x = torch.zeros(1, 1, 3, 3, 3, dtype=F64)
    x[0, 0, 1, 1, 1] = float("nan")
    out = ct.conv3d(x, torch.ones(1, 1, 2, 2, 2, dtype=F64))
    assert torch.isnan(out).all()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ct.conv3d(torch.ones(2, 3, 3), torch.ones(1, 2, 2, 2, 2)), "expected input of 5 dimensions"),
        (lambda: ct.conv3d(torch.ones(1, 2, 3, 3, 3), torch.ones(1, 2, 2, 2)), "expected weight of 5 dimensions"),
        (
            lambda: ct.conv3d(torch.ones(1, 3, 3, 3, 3), torch.ones(2, 2, 2, 2, 2), groups=2),
            "in_channels must be divisible by groups",
        ),
        (lambda: ct.conv3d(torch.ones(1, 2, 3, 3, 3), torch.ones(1, 2, 2, 2, 2), stride=(1, 1)), "stride"),
        (lambda: ct.conv3d(torch.ones(1, 2, 1, 3, 3), torch.ones(1, 2, 2, 2, 2)), "kernel size"),
        (lambda: ct.conv3d(torch.ones(1, 2, 3, 3, 3, dtype=torch.complex64), torch.ones(1, 2, 2, 2, 2)), "input"),
        (
            lambda: ct.conv_transpose3d(
                torch.ones(1, 2, 3, 3, 3), torch.ones(2, 1, 2, 2, 2), stride=2, output_padding=2
            ),
            "output padding must be smaller",
        ),
        (lambda: ct.conv_transpose3d(torch.ones(1, 2, 3, 3, 3), torch.ones(3, 1, 2, 2, 2)), "expects input with 3"),
    ],
)
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda():
    x, w = torch.randn(2, 4, 5, 6, 7, device="cuda"), torch.randn(6, 2, 3, 3, 3, device="cuda")
    assert_close_to_reference(
        ct.conv3d(x, w, stride=2, padding=1, groups=2), F.conv3d(x, w, stride=2, padding=1, groups=2)
    )
    y = torch.randn(2, 4, 3, 3, 3, device="cuda")
    assert_close_to_reference(
        ct.conv_transpose3d(y, w.transpose(0, 1).reshape(4, 3, 3, 3, 3), stride=2),
        F.conv_transpose3d(y, w.transpose(0, 1).reshape(4, 3, 3, 3, 3), stride=2),
    )


# --- the (2+1)D block ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "c_in, c_out, kernel, stride, padding",
    [
        (64, 64, (3, 3, 3), 1, 1),
        (3, 16, (3, 7, 7), (1, 2, 2), (1, 3, 3)),
        (8, 12, (3, 3, 3), 2, 1),
        (5, 7, (2, 3, 1), 1, 0),
    ],
)
def test_conv2plus1d_matches_the_3d_convolution_in_shape_and_cost(c_in, c_out, kernel, stride, padding):
    block = ct.Conv2Plus1d(c_in, c_out, kernel, stride, padding)
    full = nn.Conv3d(c_in, c_out, kernel, stride, padding, bias=False)
    x = torch.randn(1, c_in, 4, 9, 9)
    block.eval()
    assert block(x).shape == full(x).shape
    mid = conv2plus1d_mid_channels(c_in, c_out, kernel)
    assert block.mid_channels == mid
    conv_weights = conv2plus1d_params(c_in, c_out, kernel, batch_norm=False)
    assert sum(p.numel() for p in block.parameters()) == conv2plus1d_params(c_in, c_out, kernel)
    assert sum(p.numel() for p in full.parameters()) == conv_params(c_in, c_out, kernel, bias=False)
    assert conv_weights <= conv_params(c_in, c_out, kernel, bias=False)
    # Choosing M + 1 would exceed the 3D kernel's count: M is the largest that fits.
    assert conv2plus1d_params(c_in, c_out, kernel, mid + 1, batch_norm=False) > conv_params(
        c_in, c_out, kernel, bias=False
    )
    # FLOPs that torch counts: for nn.Conv3d, and for the native twin of our block (BN, ReLU not counted).
    size = tuple(x.shape[2:])
    with FlopCounterMode(display=False) as counter:
        full(x)
    assert counter.get_total_flops() == 2 * conv_macs(size, c_in, c_out, kernel, stride, padding)
    with torch.no_grad(), FlopCounterMode(display=False) as counter, native_convolutions():
        block(x)
    assert counter.get_total_flops() == 2 * conv2plus1d_macs(size, c_in, c_out, kernel, stride, padding)


def test_conv2plus1d_is_spatial_bn_relu_temporal():
    block = ct.Conv2Plus1d(3, 4, (3, 3, 3), stride=(2, 1, 1), padding=1).double().eval()
    with torch.no_grad():
        block.norm.running_mean.uniform_(-1, 1)
        block.norm.running_var.uniform_(0.5, 2)
        block.norm.weight.uniform_(0.5, 2)
    x = torch.randn(2, 3, 5, 6, 6, dtype=F64)
    mid = F.conv3d(x, block.spatial_weight, padding=(0, 1, 1))
    mid = F.relu(
        F.batch_norm(
            mid, block.norm.running_mean, block.norm.running_var, block.norm.weight, block.norm.bias, eps=block.norm.eps
        )
    )
    assert_close_to_reference(block(x), F.conv3d(mid, block.temporal_weight, stride=(2, 1, 1), padding=(1, 0, 0)))


def test_conv2plus1d_cost_examples_and_errors():
    # R(2+1)D-18, first stage: 64 -> 64 with 3x3x3 kernels factorises through 144 channels exactly.
    assert conv2plus1d_mid_channels(64, 64, 3) == 144
    assert conv2plus1d_params(64, 64, 3, batch_norm=False) == conv_params(64, 64, (3, 3, 3), bias=False)
    with pytest.raises(ValueError, match="mid_channels"):
        conv2plus1d_params(4, 4, 3, mid_channels=0)
    with pytest.raises(ValueError, match="mid_channels"):
        ct.Conv2Plus1d(4, 4, 3, mid_channels=-2)
    with pytest.raises(ValueError, match="in_channels"):
        conv2plus1d_mid_channels(0, 4, 3)
    with pytest.raises(TypeError, match="kernel_size"):
        conv2plus1d_macs((4, 8, 8), 4, 4, (3, 3))


def test_volume_picture_highlights_the_window_and_the_output_value():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from conv_tutorial.viz import draw_conv3d, window_cells3d
    from conv_tutorial.viz.conv2d import WINDOW_GID

    fig = draw_conv3d((6, 4, 4), 3, stride=(2, 1, 1), padding=1, output_position=(2, 1, 1))
    assert sum(p.get_gid() == WINDOW_GID for p in fig.axes[0].patches) == 27
    assert window_cells3d((2, 1, 1), 3, stride=(2, 1, 1))[0] == (4, 1, 1)
    plt.close(fig)
    with pytest.raises(ValueError, match="output_position"):
        draw_conv3d((4, 5, 5), 3, output_position=(2, 0, 0))
    with pytest.raises(ValueError, match="kernel_size"):
        draw_conv3d((4, 5, 5), 0)
