"""Group convolution and channel shuffle in both backends against PyTorch (``F.conv2d(..., groups=g)``,
``nn.ChannelShuffle``), the shuffle's permutation, the ResNeXt and ShuffleNet blocks, the cost model's
counts for them (parameters, FLOPs, memory access cost), and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given
from hypothesis import strategies as st
from strategies import grouped_configs, shuffle_configs
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct
from conv_tutorial import cost
from conv_tutorial.torch import grouped as torch_grouped
from conv_tutorial.viz import connectivity

F64 = torch.float64


def grouped_tensors(cfg, dtype=F64):
    gen = torch.Generator().manual_seed(cfg["seed"])
    c_out, _, kh, kw = cfg["weight"]
    x = torch.randn(*cfg["shape"], generator=gen, dtype=dtype)
    w = torch.randn(c_out, cfg["shape"][1] // cfg["args"]["groups"], kh, kw, generator=gen, dtype=dtype)
    b = torch.randn(c_out, generator=gen, dtype=dtype) if cfg["bias"] else None
    return x, w, b


@given(grouped_configs())
def test_grouped_conv2d_matches_torch_in_both_backends(cfg):
    x, w, b = grouped_tensors(cfg)
    reference = F.conv2d(x, w, b, **cfg["args"])
    b_np = None if b is None else b.numpy()
    assert_close_to_reference(cnp.conv2d(x.numpy(), w.numpy(), b_np, **cfg["args"]), reference)
    assert_close_to_reference(cnp.conv2d_by_groups(x.numpy(), w.numpy(), b_np, **cfg["args"]), reference)
    assert_close_to_reference(ct.conv2d(x, w, b, **cfg["args"]), reference)
    assert_close_to_reference(ct.conv2d_by_groups(x, w, b, **cfg["args"]), reference)


@given(grouped_configs())
def test_grouped_conv2d_float32(cfg):
    x, w, b = grouped_tensors(cfg)
    reference = F.conv2d(x, w, b, **cfg["args"])
    x32, w32, b32 = x.float(), w.float(), None if b is None else b.float()
    ours = cnp.conv2d(x32.numpy(), w32.numpy(), None if b is None else b32.numpy(), **cfg["args"])
    assert ours.dtype == np.float32
    assert_close_to_reference(ours, reference, dtype=np.float32)
    assert_close_to_reference(ct.conv2d(x32, w32, b32, **cfg["args"]), reference, dtype=np.float32)


@given(shuffle_configs(), st.sampled_from([0, 10**9]))
def test_channel_shuffle_matches_torch(cfg, small_plane):
    """Both copies of the torch backend: the transposed view (large planes), and group by group (small ones)."""
    shape, groups, seed = cfg
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)
    reference = nn.ChannelShuffle(groups)(x)
    saved = torch_grouped.SMALL_PLANE
    try:
        torch_grouped.SMALL_PLANE = small_plane
        assert torch.equal(ct.channel_shuffle(x, groups), reference)
    finally:
        torch_grouped.SMALL_PLANE = saved
    assert np.array_equal(cnp.channel_shuffle(x.numpy(), groups), reference.numpy())
    assert ct.channel_shuffle(x.float(), groups).dtype == torch.float32
    assert cnp.channel_shuffle(x.float().numpy(), groups).dtype == np.float32


@given(st.integers(1, 8), st.integers(1, 8))
def test_transpose_of_g_by_n_is_shufflenets_shuffle(groups, per_group):
    """The (g, n) -> (n, g) transpose deals the channels out one group at a time, as ShuffleNet defines."""
    channels = groups * per_group
    perm = cnp.shuffle_permutation(channels, groups)
    transposed = np.arange(channels).reshape(groups, per_group).T.ravel()
    assert np.array_equal(perm, transposed)
    x = np.arange(channels, dtype=np.float64).reshape(1, channels, 1, 1)
    assert np.array_equal(cnp.channel_shuffle(x, groups).ravel(), perm)
    # Dealt in turn: every run of g consecutive outputs holds one channel of each input group ...
    source_group = perm // per_group
    assert all(sorted(source_group[i : i + groups]) == list(range(groups)) for i in range(0, channels, groups))
    # ... so when n >= g, each group of the next grouped layer (n consecutive channels) sees every group.
    if per_group >= groups:
        assert all(set(source_group[j * per_group : (j + 1) * per_group]) == set(range(groups)) for j in range(groups))
    # Shuffling with n groups undoes it: the inverse transpose.
    assert np.array_equal(cnp.channel_shuffle(cnp.channel_shuffle(x, groups), per_group), x)


def test_shuffle_makes_two_grouped_layers_connect_every_channel():
    """Connectivity measured by impulses: two g=3 layers keep groups apart, a shuffle between connects all."""
    g, c = 3, 9
    w1, w2 = np.ones((c, c // g, 1, 1)), np.ones((c, c // g, 1, 1))
    stacked = connectivity(lambda x: cnp.conv2d(cnp.conv2d(x, w1, groups=g), w2, groups=g), c)
    shuffled = connectivity(lambda x: cnp.conv2d(cnp.channel_shuffle(cnp.conv2d(x, w1, groups=g), g), w2, groups=g), c)
    assert np.array_equal(stacked, np.kron(np.eye(g, dtype=bool), np.ones((c // g, c // g), dtype=bool)))
    assert shuffled.all()


def test_channel_shuffle_empty_batch_and_integer_input():
    assert cnp.channel_shuffle(np.zeros((0, 6, 2, 2)), 3).shape == (0, 6, 2, 2)
    assert ct.channel_shuffle(torch.zeros(0, 6, 2, 2), 3).shape == (0, 6, 2, 2)
    assert cnp.channel_shuffle(np.arange(6).reshape(1, 6, 1), 2).dtype == np.float64
    assert ct.channel_shuffle(torch.arange(6).reshape(1, 6, 1), 2).dtype == F64


def test_grouped_conv_propagates_nan_to_its_group_only():
    x = np.zeros((1, 4, 3, 3))
    x[0, 0, 1, 1] = np.nan
    out = cnp.conv2d(x, np.ones((4, 2, 1, 1)), groups=2)
    assert np.isnan(out[0, :2, 1, 1]).all() and not np.isnan(out[0, 2:]).any()


def test_channel_shuffle_is_differentiable():
    x = torch.randn(2, 6, 3, 3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: ct.channel_shuffle(t, 3), (x,))


# --- blocks --------------------------------------------------------------------------------------


def _conv_weights(module):
    return sum(p.numel() for p in module.parameters() if p.ndim == 4)


def test_resnext_32x4d_template_and_parameter_count():
    """conv2 of ResNeXt-50 (32x4d), Xie et al. Table 1: [1x1, 128; 3x3, 128, C=32; 1x1, 256]."""
    block = ct.ResNeXtBlock(256, 128, 256, cardinality=32)
    assert tuple(block.reduce.weight.shape) == (128, 256, 1, 1)
    assert tuple(block.conv.weight.shape) == (128, 4, 3, 3) and block.conv.groups == 32  # d = 4 per group
    assert tuple(block.expand.weight.shape) == (256, 128, 1, 1)
    cardinality, d = 32, 4
    assert _conv_weights(block) == cardinality * (256 * d + 3 * 3 * d * d + d * 256) == 70_144  # the paper's ~70k
    layers = [(256, 128, 1), (128, 128, 3, 1, 1, 1, 32), (128, 256, 1)]
    assert _conv_weights(block) == cost.stack_params(layers, bias=False)
    total = cost.stack_params(layers, bias=False) + sum(cost.batch_norm_params(c) for c in (128, 128, 256))
    assert sum(p.numel() for p in block.parameters()) == total
    # Misreading the cardinality as the group width (groups=4) gives a different, larger layer.
    assert cost.conv_params(128, 128, 3, groups=4, bias=False) == 8 * cost.conv_params(
        128, 128, 3, groups=32, bias=False
    )


@pytest.mark.parametrize("stride", [1, 2])
def test_resnext_block_is_its_functional_composition(stride):
    torch.manual_seed(0)
    block = ct.ResNeXtBlock(16, 8, 32, cardinality=4, stride=stride).double().eval()
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2), m.weight.uniform_(0.5, 2)
    x = torch.randn(2, 16, 7, 7, dtype=F64)

    def conv_bn(m, t):
        return F.batch_norm(
            F.conv2d(t, m.weight, stride=m.stride, padding=m.padding, groups=m.groups),
            m.norm.running_mean,
            m.norm.running_var,
            m.norm.weight,
            m.norm.bias,
            eps=m.norm.eps,
        )

    out = F.relu(conv_bn(block.reduce, x))
    out = F.relu(conv_bn(block.conv, out))
    reference = F.relu(conv_bn(block.expand, out) + conv_bn(block.shortcut, x))
    assert_close_to_reference(block(x), reference)
    assert block.conv.groups == 4 and block.conv.stride == stride


def test_resnext_grouped_conv_is_the_sum_of_its_paths():
    """Xie et al. Fig. 3: the grouped 3x3 layer equals `cardinality` separate 3x3 layers, concatenated."""
    block = ct.ResNeXtBlock(8, 8, 8, cardinality=4).double()
    x = torch.randn(1, 8, 5, 5, dtype=F64)
    w = block.conv.weight
    paths = [F.conv2d(x[:, 2 * j : 2 * j + 2], w[2 * j : 2 * j + 2], padding=1) for j in range(4)]
    assert_close_to_reference(ct.conv2d(x, w, padding=1, groups=4), torch.cat(paths, dim=1))


@pytest.mark.parametrize(("c_in", "c_out", "groups", "stride"), [(24, 24, 3, 1), (12, 36, 3, 2), (16, 32, 2, 2)])
def test_shufflenet_unit_is_its_functional_composition(c_in, c_out, groups, stride):
    torch.manual_seed(0)
    unit = ct.ShuffleNetUnit(c_in, c_out, groups=groups, stride=stride).double().eval()
    x = torch.randn(2, c_in, 6, 6, dtype=F64)

    def conv_bn(m, t):
        return F.batch_norm(
            F.conv2d(t, m.weight, stride=m.stride, padding=m.padding, groups=m.groups),
            m.norm.running_mean,
            m.norm.running_var,
            m.norm.weight,
            m.norm.bias,
            eps=m.norm.eps,
        )

    out = nn.ChannelShuffle(groups)(F.relu(conv_bn(unit.reduce, x)))
    out = conv_bn(unit.expand, conv_bn(unit.depthwise, out))
    reference = F.relu(x + out) if stride == 1 else F.relu(torch.cat([F.avg_pool2d(x, 3, 2, 1), out], dim=1))
    assert_close_to_reference(unit(x), reference)
    mid = c_out // 4
    assert unit.depthwise.groups == mid and unit.reduce.groups == groups == unit.expand.groups
    branch = c_out - c_in if stride == 2 else c_out
    layers = [(c_in, mid, 1, 1, 0, 1, groups), (mid, mid, 3, stride, 1, 1, mid), (mid, branch, 1, 1, 0, 1, groups)]
    expected = cost.stack_params(layers, bias=False) + sum(cost.batch_norm_params(c) for c in (mid, mid, branch))
    assert sum(p.numel() for p in unit.parameters()) == expected
    with FlopCounterMode(display=False) as counter:
        F.conv2d(x[:1], unit.reduce.weight, groups=groups)
    assert counter.get_total_flops() == 2 * cost.conv_macs(6, c_in, mid, 1, groups=groups)


def test_blocks_train_on_their_parameters():
    unit = ct.ShuffleNetUnit(12, 12, groups=3)
    unit(torch.randn(2, 12, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in unit.parameters())


# --- cost -------------------------------------------------------------------------------------


@given(st.sampled_from([1, 2, 4, 8]), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(3, 8))
def test_grouped_params_and_flops_divide_by_groups(groups, a, b, k, size):
    c_in, c_out = groups * a * 2, groups * b * 2
    layer = nn.Conv2d(c_in, c_out, k, groups=groups, bias=False).double()
    assert sum(p.numel() for p in layer.parameters()) == cost.conv_params(c_in, c_out, k, groups=groups, bias=False)
    with FlopCounterMode(display=False) as counter:
        layer(torch.zeros(1, c_in, size + k, size + k, dtype=F64))
    assert counter.get_total_flops() == 2 * cost.conv_macs(size + k, c_in, c_out, k, groups=groups)
    assert cost.conv_macs(size + k, c_in, c_out, k) == groups * cost.conv_macs(size + k, c_in, c_out, k, groups=groups)


def test_256_to_256_3x3_with_8_groups():
    assert cost.conv_params(256, 256, 3, bias=False) == 589_824
    assert cost.conv_params(256, 256, 3, groups=8, bias=False) == 73_728 == 589_824 // 8


@given(
    st.sampled_from([1, 2, 4, 8]),
    st.integers(1, 6),
    st.integers(1, 6),
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(4, 9),
)
def test_memory_access_cost_counts_input_output_and_weights(groups, a, b, k, stride, size):
    c_in, c_out = groups * a, groups * b
    x = torch.zeros(1, c_in, size, size)
    layer = nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, groups=groups, bias=False)
    expected = x.numel() + layer(x).numel() + layer.weight.numel()
    assert cost.memory_access_cost(size, c_in, c_out, k, stride, k // 2, groups=groups) == expected


@given(st.sampled_from([1, 2, 4, 8]), st.integers(1, 32), st.integers(1, 32), st.integers(1, 16))
def test_memory_access_cost_is_shufflenet_v2s_formula(groups, a, b, hw_side):
    """Ma et al. (2018), Eq. 2 for a 1x1 group conv: MAC = hw(c1 + c2) + c1 c2 / g = hw c1 + Bg/c1 + B/hw."""
    c1, c2, h = groups * a, groups * b, hw_side
    hw = h * h
    mac = cost.memory_access_cost(h, c1, c2, 1, groups=groups)
    flops_b = cost.conv_macs(h, c1, c2, 1, groups=groups)  # the paper's B = hw c1 c2 / g
    assert mac == hw * (c1 + c2) + c1 * c2 // groups
    assert mac * c1 * hw == hw * c1 * c1 * hw + flops_b * groups * hw + flops_b * c1  # times c1 hw: exact ints
    if groups == 1:  # G1: MAC >= 2 sqrt(hw B) + B / hw
        assert mac >= 2 * math.sqrt(hw * flops_b) + flops_b / hw - 1e-9


def test_memory_access_cost_grows_with_groups_at_fixed_flops():
    """ShuffleNet V2 Table 2's widths: c = 128, 180, 256, 360 for g = 1, 2, 4, 8 keep the FLOPs about equal."""
    widths = {1: 128, 2: 180, 4: 256, 8: 360}
    flops = [cost.conv_macs(56, c, c, 1, groups=g) for g, c in widths.items()]
    macs = [cost.memory_access_cost(56, c, c, 1, groups=g) for g, c in widths.items()]
    assert max(flops) / min(flops) < 1.02
    assert macs == sorted(macs) and macs[-1] > 2.5 * macs[0]


# --- bad input --------------------------------------------------------------------------------

X = np.ones((2, 6, 4, 4))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cnp.conv2d(X, np.ones((8, 2, 3, 3)), groups=4), ValueError, "in_channels must be divisible by groups"),
        (
            lambda: cnp.conv2d(X, np.ones((5, 2, 3, 3)), groups=3),
            ValueError,
            "out_channels must be divisible by groups",
        ),
        (lambda: cnp.conv2d(X, np.ones((6, 3, 3, 3)), groups=3), ValueError, r"weight.shape\[1\] \* groups"),
        (
            lambda: cnp.conv2d_by_groups(X, np.ones((8, 2, 3, 3)), groups=4),
            ValueError,
            "in_channels must be divisible by groups",
        ),
        (lambda: cnp.conv2d_by_groups(X, np.ones((6, 2, 3, 3)), groups=0), ValueError, "groups must be positive"),
        (
            lambda: cnp.channel_shuffle(X, 4),
            ValueError,
            r"number of channels must be divisible by groups, got 6 channels .* groups=4",
        ),
        (lambda: cnp.channel_shuffle(X, 0), ValueError, "groups must be positive, got groups=0"),
        (lambda: cnp.channel_shuffle(X, 2.0), TypeError, "groups must be an int"),
        (lambda: cnp.channel_shuffle(np.ones((2, 6)), 2), ValueError, r"at least 3 dimensions .* shape \(2, 6\)"),
        (lambda: cnp.channel_shuffle(X.astype(complex), 2), TypeError, "input must be real"),
        (lambda: cnp.shuffle_permutation(10, 4), ValueError, "number of channels must be divisible by groups"),
        (
            lambda: ct.channel_shuffle(torch.ones(2, 6, 4, 4), 4),
            ValueError,
            "number of channels must be divisible by groups",
        ),
        (lambda: ct.channel_shuffle(torch.ones(2, 6), 2), ValueError, "at least 3 dimensions"),
        (lambda: ct.channel_shuffle(X, 2), TypeError, "input must be a torch.Tensor"),
        (
            lambda: ct.conv2d(torch.ones(2, 6, 4, 4), torch.ones(8, 2, 3, 3), groups=4),
            ValueError,
            "in_channels must be divisible by groups",
        ),
        (
            lambda: ct.ResNeXtBlock(256, 100, 256, cardinality=32),
            ValueError,
            "bottleneck_channels must be divisible by cardinality, got bottleneck_channels=100 and cardinality=32",
        ),
        (lambda: ct.ResNeXtBlock(256, 128, 256, cardinality=0), ValueError, "cardinality must be a positive int"),
        (lambda: ct.ShuffleNetUnit(24, 48, groups=3, stride=1), ValueError, "out_channels must equal in_channels"),
        (lambda: ct.ShuffleNetUnit(24, 24, groups=3, stride=2), ValueError, "out_channels must exceed in_channels"),
        (lambda: ct.ShuffleNetUnit(24, 24, groups=3, stride=3), ValueError, "stride must be 1 or 2"),
        (lambda: ct.ShuffleNetUnit(32, 32, groups=3), ValueError, "bottleneck_channels must be divisible by groups"),
        (
            lambda: ct.ShuffleNetUnit(24, 44, groups=3, stride=2, bottleneck_channels=12),
            ValueError,
            r"produces 20 channels \(out_channels - in_channels\), which must be divisible by groups=3",
        ),
        (lambda: cost.memory_access_cost(56, 6, 8, 1, groups=4), ValueError, "in_channels must be divisible by groups"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
