"""The ResNet bottleneck and the Inception block: outputs equal the functional composition written
with torch.nn.functional, parameter counts and FLOPs equal the cost model's (stack_params,
stack_macs, batch_norm_params), which is itself checked against torch modules here."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import conv2d_stacks
from torch.utils.flop_counter import FlopCounterMode

from conv_tutorial import cost
from conv_tutorial.torch import Bottleneck, InceptionBlock
from conv_tutorial.torch.im2col import native_convolutions


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def flops(module, x) -> int:
    # The module's native twin: its convolutions on torch's own ops, which the counter knows.
    with FlopCounterMode(display=False) as counter, torch.no_grad(), native_convolutions():
        module(x)
    return counter.get_total_flops()


# --- the cost model of a stack, against torch modules --------------------------------------------


@given(conv2d_stacks(), st.booleans())
def test_stack_cost_matches_torch(case, bias):
    size, layers = case
    model = torch.nn.Sequential(*(torch.nn.Conv2d(*layer, bias=bias) for layer in layers))
    assert cost.stack_params(layers, bias=bias) == n_params(model)
    assert 2 * cost.stack_macs(size, layers) == flops(model, torch.zeros(1, layers[0][0], size, size))


def test_stack_of_one_layer_is_conv_cost():
    assert cost.stack_params([(3, 64, 7, 2, 3)]) == cost.conv_params(3, 64, 7)
    assert cost.stack_macs(224, [(3, 64, 7, 2, 3)]) == cost.conv_macs(224, 3, 64, 7, stride=2, padding=3)
    assert cost.stack_macs((10, 8), [(2, 2, 3, 1, "same"), (2, 2, 3, 1, "valid")]) == (
        cost.conv_macs((10, 8), 2, 2, 3, padding="same") + cost.conv_macs((10, 8), 2, 2, 3)
    )


def test_batch_norm_params_matches_torch():
    for c in (1, 64, 256):
        assert cost.batch_norm_params(c) == n_params(torch.nn.BatchNorm2d(c))


def test_stack_cost_bad_input():
    with pytest.raises(ValueError, match=r"layers\[1\] has in_channels=32, but layers\[0\] has out_channels=64"):
        cost.stack_params([(3, 64, 3), (32, 64, 3)])
    with pytest.raises(ValueError, match="at least one layer"):
        cost.stack_macs(8, [])
    with pytest.raises(ValueError, match=r"layers\[0\] must be a tuple"):
        cost.stack_params([(3, 64)])
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        cost.stack_params([(3, 6, 3, 1, 0, 1, 2)])
    with pytest.raises(ValueError, match="larger than the padded input"):
        cost.stack_macs(4, [(1, 1, 3), (1, 1, 3)])
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        cost.batch_norm_params(0)


# --- the bottleneck ------------------------------------------------------------------------------


def _conv_bn(unit, x, training):
    out = F.conv2d(x, unit.weight, stride=unit.stride, padding=unit.padding)
    bn = unit.norm
    # Copies of the running statistics: the module updates its own in the same step.
    return F.batch_norm(
        out,
        bn.running_mean.clone(),
        bn.running_var.clone(),
        bn.weight,
        bn.bias,
        training=training,
        momentum=bn.momentum,
        eps=bn.eps,
    )


def bottleneck_reference(block, x, training):
    out = F.relu(_conv_bn(block.reduce, x, training))
    out = F.relu(_conv_bn(block.conv, out, training))
    shortcut = x if isinstance(block.shortcut, torch.nn.Identity) else _conv_bn(block.shortcut, x, training)
    return F.relu(_conv_bn(block.expand, out, training) + shortcut)


def _randomise_norms(block, gen):
    for m in block.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            for t in (m.weight, m.bias, m.running_mean):
                t.data = torch.randn(t.shape, generator=gen, dtype=t.dtype)
            m.running_var.data = torch.rand(m.running_var.shape, generator=gen, dtype=torch.float64) + 0.5


# Each example builds a module: fewer examples than the default keep the file fast.
@settings(max_examples=25)
@given(
    st.integers(1, 6),
    st.integers(1, 4),
    st.integers(1, 6),
    st.integers(1, 2),
    st.integers(3, 7),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_bottleneck_equals_functional_composition(c_in, c_mid, c_out, stride, size, training, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    block = Bottleneck(c_in, c_mid, c_out, stride=stride).double().train(training)
    _randomise_norms(block, gen)
    x = torch.randn(2, c_in, size, size + 1, generator=gen, dtype=torch.float64)
    expected = bottleneck_reference(block, x, training)
    assert_close_to_reference(block(x), expected)
    assert expected.shape == (2, c_out, (size - 1) // stride + 1, size // stride + 1)


def test_bottleneck_float32():
    torch.manual_seed(0)
    block = Bottleneck(16, 4, 16).eval()
    x = torch.randn(2, 16, 9, 9)
    assert_close_to_reference(block(x), bottleneck_reference(block, x, False), np.float32)


def test_bottleneck_shortcuts():
    assert isinstance(Bottleneck(256, 64, 256).shortcut, torch.nn.Identity)
    assert not isinstance(Bottleneck(64, 64, 256).shortcut, torch.nn.Identity)
    assert not isinstance(Bottleneck(256, 64, 256, stride=2).shortcut, torch.nn.Identity)


@pytest.mark.parametrize("c_in, c_mid, c_out, stride", [(256, 64, 256, 1), (64, 64, 256, 1), (256, 128, 512, 2)])
def test_bottleneck_cost(c_in, c_mid, c_out, stride):
    block = Bottleneck(c_in, c_mid, c_out, stride=stride)
    main = [(c_in, c_mid, 1), (c_mid, c_mid, 3, stride, 1), (c_mid, c_out, 1)]
    shortcut = [] if isinstance(block.shortcut, torch.nn.Identity) else [(c_in, c_out, 1, stride)]
    conv_weights = cost.stack_params(main, bias=False) + (cost.stack_params(shortcut, bias=False) if shortcut else 0)
    norms = sum(cost.batch_norm_params(c) for c in (c_mid, c_mid, c_out, *([c_out] if shortcut else [])))
    assert n_params(block) == conv_weights + norms
    size = 14
    macs = cost.stack_macs(size, main) + (cost.stack_macs(size, shortcut) if shortcut else 0)
    assert flops(block, torch.zeros(1, c_in, size, size)) == 2 * macs


def test_bottleneck_numbers_of_the_paper():
    block = Bottleneck(256, 64, 256)
    conv_weights = sum(p.numel() for name, p in block.named_parameters() if p.ndim == 4)
    assert conv_weights == 69_632 == cost.stack_params([(256, 64, 1), (64, 64, 3, 1, 1), (64, 256, 1)], bias=False)
    assert cost.conv_params(256, 256, 3, bias=False) == 589_824


def test_bottleneck_gradients_reach_every_parameter():
    block = Bottleneck(8, 4, 16, stride=2)
    block(torch.randn(2, 8, 6, 6)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in block.parameters())


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(in_channels=0), "in_channels"),
        (dict(mid_channels=-2), "mid_channels"),
        (dict(out_channels=-1), "out_channels"),
        (dict(stride=0), "stride"),
    ],
    ids=["in_channels", "mid_channels", "out_channels", "stride"],
)
def test_bottleneck_bad_arguments(kwargs, name):
    args = dict(in_channels=8, mid_channels=4, out_channels=8, stride=1) | kwargs
    with pytest.raises(ValueError, match=f"{name} must be a positive int"):
        Bottleneck(**args)


def test_bottleneck_float_channels_are_a_type_error():
    with pytest.raises(TypeError, match="mid_channels must be an int, got mid_channels=2.0"):
        Bottleneck(8, 2.0, 8)


def test_bottleneck_bad_input_names_the_channels():
    with pytest.raises(ValueError, match="expects input with 8 channels"):
        Bottleneck(8, 4, 8)(torch.randn(1, 3, 5, 5))


# --- the Inception block -------------------------------------------------------------------------


def _conv_relu(unit, x):
    return F.relu(F.conv2d(x, unit.weight, unit.bias, padding=unit.padding))


def inception_reference(block, x):
    pooled = F.max_pool2d(x, 3, stride=1, padding=1)
    return torch.cat(
        [
            _conv_relu(block.branch1, x),
            _conv_relu(block.branch3[1], _conv_relu(block.branch3[0], x)),
            _conv_relu(block.branch5[1], _conv_relu(block.branch5[0], x)),
            _conv_relu(block.branch_pool, pooled),
        ],
        dim=1,
    )


def inception_branches(c_in, ch1, ch3r, ch3, ch5r, ch5, pool):
    """The block's convolutions as stacks; the max pool keeps the size and costs no MACs."""
    return [
        [(c_in, ch1, 1)],
        [(c_in, ch3r, 1), (ch3r, ch3, 3, 1, 1)],
        [(c_in, ch5r, 1), (ch5r, ch5, 5, 1, 2)],
        [(c_in, pool, 1)],
    ]


@settings(max_examples=25)
@given(st.lists(st.integers(1, 4), min_size=7, max_size=7), st.integers(1, 7), st.integers(0, 2**31))
def test_inception_equals_functional_composition(channels, size, seed):
    torch.manual_seed(seed)
    block = InceptionBlock(*channels).double()
    x = torch.randn(2, channels[0], size, size + 2, dtype=torch.float64)
    out = block(x)
    assert_close_to_reference(out, inception_reference(block, x))
    assert out.shape == (2, channels[1] + channels[3] + channels[5] + channels[6], size, size + 2)


def test_inception_float32():
    torch.manual_seed(0)
    block = InceptionBlock(12, 4, 6, 8, 2, 4, 4)
    x = torch.randn(2, 12, 7, 7)
    assert_close_to_reference(block(x), inception_reference(block, x), np.float32)


@pytest.mark.parametrize(
    "channels", [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), (6, 1, 2, 3, 1, 2, 1)]
)
def test_inception_cost(channels):
    block = InceptionBlock(*channels)
    branches = inception_branches(*channels)
    assert n_params(block) == sum(cost.stack_params(b) for b in branches)
    assert flops(block, torch.zeros(1, channels[0], 7, 7)) == 2 * sum(cost.stack_macs(7, b) for b in branches)


def test_inception_3a_numbers():
    block = InceptionBlock(192, 64, 96, 128, 16, 32, 32)
    assert block(torch.zeros(1, 192, 28, 28)).shape == (1, 256, 28, 28)
    weights = sum(cost.stack_params(b, bias=False) for b in inception_branches(192, 64, 96, 128, 16, 32, 32))
    assert weights == 163_328
    # GoogLeNet's table 1 lists 128M operations for inception (3a) at 28x28.
    assert round(sum(cost.stack_macs(28, b) for b in inception_branches(192, 64, 96, 128, 16, 32, 32)) / 1e6) == 128


@pytest.mark.parametrize(
    "index, name", list(enumerate(["in_channels", "ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj"]))
)
def test_inception_bad_arguments(index, name):
    channels = [8, 2, 2, 2, 2, 2, 2]
    channels[index] = 0
    with pytest.raises(ValueError, match=f"{name} must be a positive int"):
        InceptionBlock(*channels)
