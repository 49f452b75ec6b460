"""Squeeze-and-excitation, global depthwise convolution and global average pooling in both backends
against PyTorch references built from nn layers, the modules against the functions, their cost, and
bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given
from strategies import map_configs, se_configs
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct
from conv_tutorial import cost

F64 = torch.float64


class ReferenceSE(nn.Module):
    """Squeeze-and-excitation as Hu et al. draw it, from nn layers: pool, 1x1, ReLU, 1x1, sigmoid, scale."""

    def __init__(self, channels, reduced):
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, reduced, 1),
            nn.ReLU(),
            nn.Conv2d(reduced, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.gate(x)


def se_tensors(cfg, dtype=F64):
    gen = torch.Generator().manual_seed(cfg["seed"])
    c, r = cfg["shape"][1], cfg["reduced"]
    x = torch.randn(*cfg["shape"], generator=gen, dtype=dtype)
    w1, w2 = torch.randn(r, c, generator=gen, dtype=dtype), torch.randn(c, r, generator=gen, dtype=dtype)
    b1, b2 = (
        (torch.randn(r, generator=gen, dtype=dtype), torch.randn(c, generator=gen, dtype=dtype))
        if cfg["bias"]
        else (None, None)
    )
    return x, w1, b1, w2, b2


def reference_se(x, w1, b1, w2, b2):
    c, r = w2.shape
    module = ReferenceSE(c, r).to(x.dtype)
    with torch.no_grad():
        module.gate[1].weight.copy_(w1[:, :, None, None])
        module.gate[3].weight.copy_(w2[:, :, None, None])
        module.gate[1].bias.copy_(torch.zeros(r) if b1 is None else b1)
        module.gate[3].bias.copy_(torch.zeros(c) if b2 is None else b2)
        return module(x)


@given(se_configs())
def test_squeeze_excitation_matches_nn_reference(cfg):
    x, w1, b1, w2, b2 = se_tensors(cfg)
    reference = reference_se(x, w1, b1, w2, b2)
    as_np = [None if t is None else t.numpy() for t in (x, w1, b1, w2, b2)]
    assert_close_to_reference(cnp.squeeze_excitation(*as_np), reference)
    assert_close_to_reference(ct.squeeze_excitation(x, w1, b1, w2, b2), reference)


@given(se_configs())
def test_squeeze_excitation_float32(cfg):
    tensors = se_tensors(cfg)
    reference = reference_se(*tensors)
    t32 = [None if t is None else t.float() for t in tensors]
    ours = cnp.squeeze_excitation(*[None if t is None else t.numpy() for t in t32])
    assert ours.dtype == np.float32
    assert_close_to_reference(ours, reference, dtype=np.float32)
    assert_close_to_reference(ct.squeeze_excitation(*t32), reference, dtype=np.float32)


@given(map_configs())
def test_global_depthwise_conv2d_is_depthwise_conv_with_a_full_size_kernel(cfg):
    gen = torch.Generator().manual_seed(cfg["seed"])
    n, c, h, w = cfg["shape"]
    x = torch.randn(n, c, h, w, generator=gen, dtype=F64)
    weight = torch.randn(c, 1, h, w, generator=gen, dtype=F64)
    bias = torch.randn(c, generator=gen, dtype=F64) if cfg["bias"] else None
    reference = F.conv2d(x, weight, bias, groups=c)
    assert reference.shape == (n, c, 1, 1)
    assert_close_to_reference(
        cnp.global_depthwise_conv2d(x.numpy(), weight.numpy(), None if bias is None else bias.numpy()), reference
    )
    assert_close_to_reference(ct.global_depthwise_conv2d(x, weight, bias), reference)
    assert_close_to_reference(
        ct.global_depthwise_conv2d(x.float(), weight.float(), None if bias is None else bias.float()),
        reference,
        dtype=np.float32,
    )
    # Global average pooling is the constant kernel 1 / (H W).
    pooled = F.adaptive_avg_pool2d(x, 1)
    assert_close_to_reference(cnp.global_avg_pool2d(x.numpy()), pooled)
    assert_close_to_reference(ct.global_avg_pool2d(x), pooled)
    assert_close_to_reference(cnp.global_depthwise_conv2d(x.numpy(), np.full((c, 1, h, w), 1 / (h * w))), pooled)


def test_unbatched_input_integer_input_and_nan():
    x = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    assert cnp.global_avg_pool2d(x).shape == (2, 1, 1) and cnp.global_avg_pool2d(x).dtype == np.float64
    assert cnp.global_depthwise_conv2d(x, np.ones((2, 1, 3, 3))).shape == (2, 1, 1)
    out = cnp.squeeze_excitation(x, np.ones((1, 2)), None, np.ones((2, 1)), None)
    assert out.shape == (2, 3, 3)
    xt = torch.from_numpy(x)
    assert ct.squeeze_excitation(xt, torch.ones(1, 2), None, torch.ones(2, 1), None).dtype == F64
    xn = np.ones((1, 2, 3, 3))
    xn[0, 0, 0, 0] = np.nan
    # NaN in one channel reaches every gate through the fully connected layers, as in PyTorch.
    assert np.isnan(cnp.squeeze_excitation(xn, np.ones((1, 2)), None, np.ones((2, 1)), None)).all()
    assert np.isnan(cnp.global_depthwise_conv2d(xn, np.ones((2, 1, 3, 3)))[0, 0]).all()


def test_gradients_flow_through_the_torch_functions():
    x = torch.randn(2, 4, 3, 3, dtype=F64, requires_grad=True)
    w1, w2 = torch.randn(2, 4, dtype=F64, requires_grad=True), torch.randn(4, 2, dtype=F64, requires_grad=True)
    b1, b2 = torch.randn(2, dtype=F64, requires_grad=True), torch.randn(4, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(ct.squeeze_excitation, (x, w1, b1, w2, b2))
    weight = torch.randn(4, 1, 3, 3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(ct.global_depthwise_conv2d, (x, weight))


# --- modules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("channels", "reduction"), [(64, 16), (256, 16), (24, 4), (3, 8 // 8)])
def test_squeeze_excitation_module(channels, reduction):
    torch.manual_seed(0)
    se = ct.SqueezeExcitation(channels, reduction).double()
    x = torch.randn(2, channels, 5, 4, dtype=F64)
    functional = ct.squeeze_excitation(x, se.fc1.weight, se.fc1.bias, se.fc2.weight, se.fc2.bias)
    assert torch.equal(se(x), functional)
    assert_close_to_reference(se(x), reference_se(x, se.fc1.weight, se.fc1.bias, se.fc2.weight, se.fc2.bias))
    assert sum(p.numel() for p in se.parameters()) == cost.squeeze_excitation_params(channels, reduction)
    reference = ReferenceSE(channels, channels // reduction)
    assert sum(p.numel() for p in reference.parameters()) == cost.squeeze_excitation_params(channels, reduction)
    with FlopCounterMode(display=False) as counter:
        reference(torch.zeros(1, channels, 5, 4))
    assert counter.get_total_flops() == 2 * cost.squeeze_excitation_macs(channels, reduction)


@pytest.mark.parametrize(("channels", "size", "bias"), [(512, 7, False), (8, (3, 5), True)])
def test_global_depthwise_module(channels, size, bias):
    torch.manual_seed(0)
    gdc = ct.GlobalDepthwiseConv2d(channels, size, bias=bias).double()
    hw = (size, size) if isinstance(size, int) else size
    x = torch.randn(2, channels, *hw, dtype=F64)
    assert torch.equal(gdc(x), ct.global_depthwise_conv2d(x, gdc.weight, gdc.bias))
    assert sum(p.numel() for p in gdc.parameters()) == cost.global_depthwise_params(channels, size, bias=bias)
    layer = nn.Conv2d(channels, channels, hw, groups=channels, bias=bias)
    assert sum(p.numel() for p in layer.parameters()) == cost.global_depthwise_params(channels, size, bias=bias)
    with FlopCounterMode(display=False) as counter:
        layer(torch.zeros(1, channels, *hw))
    assert counter.get_total_flops() == 2 * cost.global_depthwise_macs(channels, size)


def test_mobilefacenet_and_se_resnet_numbers():
    assert cost.global_depthwise_params(512, 7) == 25_088 == cost.global_depthwise_macs(512, 7)
    # SE-ResNet-50 adds about 2.5 million parameters (Hu et al., Sec. 4): 2/r * sum over blocks of C^2.
    stages = [(256, 3), (512, 4), (1024, 6), (2048, 3)]
    added = sum(blocks * cost.squeeze_excitation_params(c, 16, bias=False) for c, blocks in stages)
    assert added == 2 / 16 * sum(blocks * c * c for c, blocks in stages) == 2_514_944


# --- bad input --------------------------------------------------------------------------------

X = np.ones((2, 8, 4, 4))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: cnp.squeeze_excitation(X, np.ones((2, 4)), None, np.ones((8, 2)), None),
            ValueError,
            r"w1 must have shape \(C_r, C\) = \(C_r, 8\) .* got w1 of shape \(2, 4\)",
        ),
        (
            lambda: cnp.squeeze_excitation(X, np.ones((2, 8, 1, 1)), None, np.ones((8, 2)), None),
            ValueError,
            "w1 must have shape",
        ),
        (
            lambda: cnp.squeeze_excitation(X, np.ones((2, 8)), None, np.ones((2, 8)), None),
            ValueError,
            r"w2 must have shape \(C, C_r\) = \(8, 2\), got w2 of shape \(2, 8\)",
        ),
        (
            lambda: cnp.squeeze_excitation(X, np.ones((2, 8)), np.ones(8), np.ones((8, 2)), None),
            ValueError,
            r"b1 must have shape \(2,\)",
        ),
        (
            lambda: cnp.squeeze_excitation(X, np.ones((2, 8)), None, np.ones((8, 2)), np.ones(2)),
            ValueError,
            r"b2 must have shape \(8,\)",
        ),
        (
            lambda: cnp.squeeze_excitation(np.ones((8, 4)), np.ones((2, 8)), None, np.ones((8, 2)), None),
            ValueError,
            "squeeze_excitation: expected input of 4 dimensions",
        ),
        (
            lambda: cnp.squeeze_excitation(X, np.ones((2, 8), complex), None, np.ones((8, 2)), None),
            TypeError,
            "w1 must be real",
        ),
        (
            lambda: cnp.global_depthwise_conv2d(X, np.ones((8, 1, 3, 3))),
            ValueError,
            r"kernel must be the size of the feature map \(4, 4\), got weight of shape \(8, 1, 3, 3\)",
        ),
        (
            lambda: cnp.global_depthwise_conv2d(X, np.ones((8, 2, 4, 4))),
            ValueError,
            r"weight must have shape \(C, 1, H, W\) = \(8, 1, H, W\)",
        ),
        (lambda: cnp.global_depthwise_conv2d(X, np.ones((4, 1, 4, 4))), ValueError, "weight must have shape"),
        (
            lambda: cnp.global_depthwise_conv2d(X, np.ones((8, 1, 4, 4)), np.ones(4)),
            ValueError,
            r"bias must have shape \(8,\)",
        ),
        (lambda: cnp.global_avg_pool2d(np.ones((2, 8, 4, 4, 4))), ValueError, "expected input of 4 dimensions"),
        (lambda: cnp.global_avg_pool2d(np.ones((2, 8, 0, 4))), ValueError, "non-empty feature map"),
        (
            lambda: ct.squeeze_excitation(torch.ones(2, 8, 4, 4), torch.ones(2, 4), None, torch.ones(8, 2), None),
            ValueError,
            "w1 must have shape",
        ),
        (
            lambda: ct.squeeze_excitation(torch.ones(2, 8, 4, 4), np.ones((2, 8)), None, torch.ones(8, 2), None),
            TypeError,
            "w1 must be a torch.Tensor",
        ),
        (
            lambda: ct.global_depthwise_conv2d(torch.ones(2, 8, 4, 4), torch.ones(8, 1, 3, 3)),
            ValueError,
            "kernel must be the size of the feature map",
        ),
        (lambda: ct.global_avg_pool2d(torch.ones(8, 4)), ValueError, "expected input of 4 dimensions"),
        (lambda: ct.SqueezeExcitation(8, 16), ValueError, "channels // reduction must be at least 1"),
        (lambda: ct.SqueezeExcitation(0), ValueError, "channels must be a positive int"),
        (lambda: ct.GlobalDepthwiseConv2d(8, (7, 0)), ValueError, "spatial_size must be positive"),
        (
            lambda: ct.GlobalDepthwiseConv2d(8, 7)(torch.ones(1, 8, 5, 5)),
            ValueError,
            r"kernel must be the size of the feature map \(5, 5\)",
        ),
        (lambda: cost.squeeze_excitation_params(8, 16), ValueError, "channels // reduction must be at least 1"),
        (lambda: cost.global_depthwise_params(8, 0), ValueError, "kernel_size|spatial_size"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
