"""Skip and dense connections: the blocks' outputs and gradients equal a composition written with
torch.nn.functional (conv2d, batch_norm) on the same weights; shapes, parameter counts of the
published networks, and the errors of bad arguments. The NumPy forward passes equal the modules in
eval mode; the cost rows equal the modules' parameter counts and torch's FLOP counter."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ctorch
from conv_tutorial import cost
from conv_tutorial.torch import (
    BasicBlock,
    Bottleneck,
    DenseBlock,
    DenseLayer,
    Transition,
    basic_block_net,
    densenet,
    densenet121,
    resnet,
    resnet18,
)
from conv_tutorial.torch.im2col import native_convolutions


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _bn(bn, x, training):
    # Copies of the running statistics: the module updates its own in the same step.
    return F.batch_norm(
        x,
        bn.running_mean.clone(),
        bn.running_var.clone(),
        bn.weight,
        bn.bias,
        training=training,
        momentum=bn.momentum,
        eps=bn.eps,
    )


def _conv_bn(unit, x, training):
    return _bn(unit.norm, F.conv2d(x, unit.weight, stride=unit.stride, padding=unit.padding), training)


def _bn_relu_conv(unit, x, training):
    return F.conv2d(F.relu(_bn(unit.norm, x, training)), unit.weight, padding=unit.padding)


def basic_block_reference(block, x, training):
    out = _conv_bn(block.conv2, F.relu(_conv_bn(block.conv1, x, training)), training)
    if block.shortcut is None:
        return F.relu(out)
    shortcut = x if isinstance(block.shortcut, torch.nn.Identity) else _conv_bn(block.shortcut, x, training)
    return F.relu(out + shortcut)


def dense_layer_reference(layer, x, training):
    new = _bn_relu_conv(layer.conv, _bn_relu_conv(layer.bottleneck, x, training), training)
    return torch.cat([x, new], dim=1)


def transition_reference(transition, x, training):
    return F.avg_pool2d(_bn_relu_conv(transition.conv, x, training), 2)


def _randomise_norms(module, gen):
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            for t in (m.weight, m.bias, m.running_mean):
                t.data = torch.randn(t.shape, generator=gen, dtype=t.dtype)
            m.running_var.data = torch.rand(m.running_var.shape, generator=gen, dtype=t.dtype) + 0.5


def _grads(module, x, out, seed):
    """Gradients of <out, g> for a random g, with respect to the input and every parameter."""
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    return torch.autograd.grad((out * g).sum(), [x, *module.parameters()])


def _check_against(module, reference, x, training, seed):
    x = x.requires_grad_(True)
    ours, expected = module(x), reference(module, x, training)
    assert_close_to_reference(ours, expected)
    for a, b in zip(_grads(module, x, ours, seed), _grads(module, x, expected, seed), strict=True):
        assert_close_to_reference(a, b)
    return ours


# --- the basic block ---------------------------------------------------------------------------


@settings(max_examples=25)
@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 2),
    st.integers(3, 7),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_basic_block_equals_functional_composition(c_in, c_out, stride, size, shortcut, training, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    block = BasicBlock(c_in, c_out, stride, shortcut=shortcut).double().train(training)
    _randomise_norms(block, gen)
    x = torch.randn(2, c_in, size, size + 1, generator=gen, dtype=torch.float64)
    out = _check_against(block, basic_block_reference, x, training, seed)
    assert out.shape == (2, c_out, (size - 1) // stride + 1, size // stride + 1)


def test_basic_block_float32():
    torch.manual_seed(0)
    block = BasicBlock(8, 16, stride=2).eval()
    x = torch.randn(2, 8, 9, 9)
    assert_close_to_reference(block(x), basic_block_reference(block, x, False), np.float32)


def test_basic_block_shortcuts():
    assert isinstance(BasicBlock(64, 64).shortcut, torch.nn.Identity)
    assert BasicBlock(64, 128).shortcut.weight.shape == (128, 64, 1, 1)
    assert BasicBlock(64, 64, stride=2).shortcut.stride == 2
    assert BasicBlock(64, 128, 2, shortcut=False).shortcut is None


def test_basic_block_parameter_counts():
    # Two 3x3 convolutions and two batch norms; the identity adds nothing, the projection a 1x1 conv and a BN.
    assert n_params(BasicBlock(64, 64)) == 2 * 9 * 64 * 64 + 2 * 2 * 64
    assert n_params(BasicBlock(64, 64, shortcut=False)) == n_params(BasicBlock(64, 64))
    assert n_params(BasicBlock(64, 128, 2)) == 9 * 64 * 128 + 9 * 128 * 128 + 64 * 128 + 3 * 2 * 128


def test_identity_block_with_zero_residual_is_relu():
    block = BasicBlock(3, 3).eval()
    torch.nn.init.zeros_(block.conv2.norm.weight)
    torch.nn.init.zeros_(block.conv2.norm.bias)
    x = torch.randn(2, 3, 5, 5)
    assert torch.equal(block(x), torch.relu(x))


# --- the dense layer, block and transition -----------------------------------------------------


@settings(max_examples=25)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.integers(2, 6), st.booleans(), st.integers(0, 2**31))
def test_dense_layer_equals_functional_composition(c_in, growth, bn_size, size, training, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    layer = DenseLayer(c_in, growth, bn_size).double().train(training)
    _randomise_norms(layer, gen)
    x = torch.randn(2, c_in, size, size + 1, generator=gen, dtype=torch.float64)
    out = _check_against(layer, dense_layer_reference, x, training, seed)
    assert out.shape == (2, c_in + growth, size, size + 1)
    assert torch.equal(out[:, :c_in], x)


@pytest.mark.parametrize("training", [False, True])
def test_dense_block_equals_its_layers_composed(training):
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(1)
    block = DenseBlock(3, 4, 2, bn_size=2).double().train(training)
    _randomise_norms(block, gen)

    def reference(module, x, training):
        for layer in module:
            x = dense_layer_reference(layer, x, training)
        return x

    x = torch.randn(2, 4, 5, 5, generator=gen, dtype=torch.float64)
    out = _check_against(block, reference, x, training, 1)
    assert out.shape == (2, 4 + 3 * 2, 5, 5) and block.out_channels == 10
    assert [layer.bottleneck.weight.shape[1] for layer in block] == [4, 6, 8]  # k0 + l * k


@settings(max_examples=15)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(2, 7), st.booleans(), st.integers(0, 2**31))
def test_transition_equals_functional_composition(c_in, c_out, size, training, seed):
    gen = torch.Generator().manual_seed(seed)
    transition = Transition(c_in, c_out).double().train(training)
    _randomise_norms(transition, gen)
    x = torch.randn(2, c_in, size, size + 1, generator=gen, dtype=torch.float64)
    out = _check_against(transition, transition_reference, x, training, seed)
    assert out.shape == (2, c_out, size // 2, (size + 1) // 2)


def test_dense_parameter_counts():
    k, c = 32, 64
    bottleneck = 2 * c + c * 4 * k  # BN over the input, 1x1 conv to 4k
    conv = 2 * 4 * k + 9 * 4 * k * k  # BN over 4k, 3x3 conv to k
    assert n_params(DenseLayer(c, k)) == bottleneck + conv
    assert n_params(DenseBlock(2, c, k)) == n_params(DenseLayer(c, k)) + n_params(DenseLayer(c + k, k))
    assert n_params(Transition(256, 128)) == 2 * 256 + 256 * 128


# --- the networks ------------------------------------------------------------------------------


def test_published_parameter_counts():
    # torchvision's resnet18(), resnet34(), densenet121() and densenet169() have these many parameters.
    assert n_params(resnet18()) == 11_689_512
    assert n_params(resnet((3, 4, 6, 3))) == 21_797_672
    assert n_params(densenet121()) == 7_978_856
    assert n_params(densenet((6, 12, 32, 32))) == 14_149_480
    assert n_params(resnet18(num_classes=10)) == 11_689_512 - 990 * 513
    assert n_params(densenet121(num_classes=10)) == 7_978_856 - 990 * 1025


def test_network_shapes_and_channels():
    with torch.no_grad():
        assert resnet18(num_classes=7)(torch.randn(2, 3, 64, 64)).shape == (2, 7)
        net = densenet121(num_classes=5).eval()
        assert net(torch.randn(1, 3, 64, 64)).shape == (1, 5)
    # Channels through DenseNet-121: 64 -> 256 -> 128 -> 512 -> 256 -> 1024 -> 512 -> 1024.
    assert [getattr(net, f"block{i}").out_channels for i in range(1, 5)] == [256, 512, 1024, 1024]
    assert [getattr(net, f"transition{i}").conv.weight.shape[0] for i in range(1, 4)] == [128, 256, 512]
    assert [len(getattr(net, f"block{i}")) for i in range(1, 5)] == [6, 12, 24, 16]
    assert net.fc.in_features == 1024
    strided = [b.conv1.stride for name in ("layer1", "layer2", "layer3", "layer4") for b in getattr(resnet18(), name)]
    assert strided == [1, 1, 2, 1, 2, 1, 2, 1]


def test_densenet_compression():
    net = densenet((2, 2), growth_rate=4, num_init_features=8, compression=0.7)
    assert net.transition1.conv.weight.shape[:2] == (11, 16)  # floor(0.7 * (8 + 2 * 4)) = 11


@pytest.mark.parametrize("shortcut", [True, False])
def test_basic_block_net(shortcut):
    net = basic_block_net(3, channels=4, in_channels=1, num_classes=2, shortcut=shortcut)
    assert len(net.blocks) == 3
    assert all((b.shortcut is None) != shortcut for b in net.blocks)
    assert net(torch.randn(5, 1, 6, 6)).shape == (5, 2)
    plain = basic_block_net(3, channels=4, in_channels=1, num_classes=2, shortcut=not shortcut)
    assert n_params(net) == n_params(plain)


def test_gradients_reach_every_parameter():
    for module, x in (
        (BasicBlock(4, 8, 2), torch.randn(2, 4, 6, 6)),
        (DenseBlock(2, 4, 3), torch.randn(2, 4, 4, 4)),
        (Transition(4, 2), torch.randn(2, 4, 4, 4)),
    ):
        module(x).sum().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: BasicBlock(0, 8), "BasicBlock: in_channels must be a positive int, got in_channels=0"),
        (lambda: BasicBlock(8, 8, stride=0), "BasicBlock: stride must be a positive int, got stride=0"),
        (lambda: DenseLayer(8, 0), "DenseLayer: growth_rate must be a positive int, got growth_rate=0"),
        (lambda: DenseLayer(8, 4, bn_size=-1), "DenseLayer: bn_size must be a positive int, got bn_size=-1"),
        (lambda: DenseBlock(0, 8, 4), "DenseBlock: num_layers must be a positive int, got num_layers=0"),
        (lambda: Transition(8, 0), "Transition: out_channels must be a positive int, got out_channels=0"),
        (lambda: resnet((2, 2, 2)), r"resnet: layers must hold 4 block counts, got layers=\(2, 2, 2\)"),
        (lambda: resnet((2, 0, 2, 2)), r"resnet: layers\[1\] must be a positive int, got layers\[1\]=0"),
        (lambda: densenet(()), "densenet: block_config must hold at least one block"),
        (lambda: densenet(compression=0), "densenet: compression must be in \\(0, 1\\], got compression=0.0"),
        (lambda: densenet(compression=1.5), "densenet: compression must be in \\(0, 1\\], got compression=1.5"),
        (lambda: densenet((1, 1), growth_rate=1, num_init_features=1, compression=0.1), "leaves no channel"),
        (lambda: basic_block_net(0), "basic_block_net: num_blocks must be a positive int, got num_blocks=0"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: BasicBlock(8, 8.0), "BasicBlock: out_channels must be an int, got out_channels=8.0"),
        (lambda: BasicBlock(8, 8, shortcut=None), "BasicBlock: shortcut must be True or False, got shortcut=None"),
        (lambda: DenseBlock(2, 8, 4.5), "DenseBlock: growth_rate must be an int, got growth_rate=4.5"),
        (lambda: densenet(compression="half"), "densenet: compression must be a real number"),
        (lambda: basic_block_net(2, shortcut=1), "basic_block_net: shortcut must be True or False"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_types(build, message):
    with pytest.raises(TypeError, match=message):
        build()


def test_bad_input_names_the_channels():
    with pytest.raises(ValueError, match="expects input with 8 channels"):
        BasicBlock(8, 8)(torch.randn(1, 3, 5, 5))
    with pytest.raises(
        ValueError,
        match=r"DenseLayer: expects input with 8 channels, of shape \(N, 8, H, W\), "
        r"but the input has shape \(1, 3, 5, 5\)",
    ):
        DenseLayer(8, 4)(torch.randn(1, 3, 5, 5))
    with pytest.raises(ValueError, match="Transition: expects input with 8 channels"):
        Transition(8, 4)(torch.randn(8, 5, 5))


# --- the NumPy forward passes, against the torch modules in eval mode ----------------------------


def numpy_params(module) -> dict:
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


@settings(max_examples=20)
@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 2),
    st.integers(3, 7),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_numpy_residual_block_equals_torch(c_in, c_out, stride, size, shortcut, unbatched, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    block = BasicBlock(c_in, c_out, stride, shortcut=shortcut).double().eval()
    _randomise_norms(block, gen)
    x = torch.randn(2, c_in, size, size + 1, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        expected = block(x)
    if unbatched:
        x, expected = x[0], expected[0]
    assert_close_to_reference(cnp.residual_block(x.numpy(), numpy_params(block), stride, shortcut), expected)


@settings(max_examples=15)
@given(
    st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(2, 6), st.integers(0, 2**31)
)
def test_numpy_dense_block_and_transition_equal_torch(num_layers, c_in, growth, bn_size, size, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    block = DenseBlock(num_layers, c_in, growth, bn_size).double().eval()
    trans = Transition(block.out_channels, max(1, block.out_channels // 2)).double().eval()
    _randomise_norms(block, gen)
    _randomise_norms(trans, gen)
    x = torch.randn(2, c_in, size, size + 1, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        dense, pooled = block(x), trans(block(x))
    ours = cnp.dense_block(x.numpy(), [numpy_params(layer) for layer in block])
    assert_close_to_reference(ours, dense)
    assert_close_to_reference(cnp.dense_layer(x[0].numpy(), numpy_params(block[0])), block[0](x[:1]).detach()[0])
    assert_close_to_reference(cnp.transition(ours, numpy_params(trans)), pooled)


def test_numpy_float32_keeps_its_dtype():
    torch.manual_seed(0)
    block = BasicBlock(4, 8, 2).eval()
    x = torch.randn(2, 4, 7, 7)
    out = cnp.residual_block(x.numpy(), numpy_params(block), stride=2)
    assert out.dtype == np.float32
    assert_close_to_reference(out, block(x).detach(), np.float32)


@settings(max_examples=20)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(0, 2), st.booleans(), st.integers(0, 2**31))
def test_batch_norm_equals_torch(n, c, extra_axes, affine, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, *(3,) * extra_axes, generator=gen, dtype=torch.float64)
    mean, var = torch.randn(c, generator=gen, dtype=torch.float64), torch.rand(c, generator=gen, dtype=torch.float64)
    w, b = (torch.randn(c, generator=gen, dtype=torch.float64) for _ in range(2)) if affine else (None, None)
    expected = F.batch_norm(x, mean, var, w, b, training=False, eps=1e-3)
    ours = cnp.batch_norm(
        x.numpy(), mean.numpy(), var.numpy(), *(None if t is None else t.numpy() for t in (w, b)), eps=1e-3
    )
    assert_close_to_reference(ours, expected)


def test_numpy_errors():
    block = numpy_params(BasicBlock(4, 4))
    with pytest.raises(
        ValueError,
        match=r"residual_block: an identity shortcut needs the block to keep the input's "
        r"shape, but it maps \(1, 4, 6, 6\) to \(1, 4, 3, 3\)",
    ):
        cnp.residual_block(np.zeros((1, 4, 6, 6)), block, stride=2)
    del block["conv2.norm.running_var"]
    with pytest.raises(ValueError, match="residual_block: params lacks 'conv2.norm.running_var'"):
        cnp.residual_block(np.zeros((1, 4, 6, 6)), block)
    with pytest.raises(TypeError, match="dense_layer: params must be a mapping of names to arrays, got list"):
        cnp.dense_layer(np.zeros((1, 4, 6, 6)), [1, 2])
    with pytest.raises(ValueError, match="dense_block: layers must be a non-empty sequence"):
        cnp.dense_block(np.zeros((1, 4, 6, 6)), [])
    with pytest.raises(ValueError, match="transition: 2x2 average pooling needs a map of at least 2x2"):
        cnp.transition(np.zeros((1, 4, 1, 6)), numpy_params(Transition(4, 2)))
    with pytest.raises(ValueError, match="residual_block: expected input of 4 dimensions"):
        cnp.residual_block(np.zeros((4, 6)), block)
    with pytest.raises(
        ValueError,
        match=r"batch_norm: running_var must have shape \(C,\) = \(3,\) for input of "
        r"shape \(2, 3, 4\), got running_var of shape \(2,\)",
    ):
        cnp.batch_norm(np.zeros((2, 3, 4)), np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="batch_norm: expected input of at least 2 dimensions"):
        cnp.batch_norm(np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="batch_norm: eps must be at least 0, got eps=-1"):
        cnp.batch_norm(np.zeros((2, 3)), np.zeros(3), np.ones(3), eps=-1)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(C,\) = \(3,\)"):
        cnp.batch_norm(np.zeros((2, 3)), np.zeros(3), np.ones(3), weight=np.ones((3, 1)))
    with pytest.raises(TypeError, match="weight must hold real numbers"):
        cnp.batch_norm(np.zeros((2, 3)), np.zeros(3), np.ones(3), weight="abc")
    with pytest.raises(TypeError, match="residual_block: shortcut must be True or False"):
        cnp.residual_block(np.zeros((1, 4, 6, 6)), numpy_params(BasicBlock(4, 4)), shortcut="yes")


# --- the cost rows, against the modules' parameters and torch's FLOP counter -------------------


def flops(module, x) -> int:
    # The module's native twin: its convolutions on torch's own ops, which the counter knows.
    with FlopCounterMode(display=False) as counter, torch.no_grad(), native_convolutions():
        module(x)
    return counter.get_total_flops()


def outputs_numel(block, x) -> int:
    """Numbers in the tensors the layers of a block return (each a new concatenation)."""
    sizes = []
    hooks = [layer.register_forward_hook(lambda m, i, out: sizes.append(out.numel())) for layer in block]
    with torch.no_grad():
        block(x)
    for hook in hooks:
        hook.remove()
    return sum(sizes)


@settings(max_examples=15)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 2), st.integers(3, 9), st.integers(3, 9), st.booleans())
def test_basic_block_cost(c_in, c_out, stride, h, w, shortcut):
    block = BasicBlock(c_in, c_out, stride, shortcut=shortcut)
    assert cost.basic_block_params(c_in, c_out, stride, shortcut) == n_params(block)
    assert 2 * cost.basic_block_macs((h, w), c_in, c_out, stride, shortcut) == flops(block, torch.zeros(1, c_in, h, w))


@settings(max_examples=15)
@given(st.integers(1, 6), st.integers(1, 3), st.integers(1, 6), st.integers(1, 2), st.integers(3, 9), st.integers(1, 2))
def test_bottleneck_cost(c_in, c_mid, c_out, stride, size, groups):
    c_mid *= groups
    block = Bottleneck(c_in, c_mid, c_out, stride, groups)
    assert cost.bottleneck_params(c_in, c_mid, c_out, stride, groups) == n_params(block)
    assert 2 * cost.bottleneck_macs(size, c_in, c_mid, c_out, stride, groups) == flops(
        block, torch.zeros(1, c_in, size, size)
    )


@settings(max_examples=15)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.integers(2, 7), st.integers(1, 6))
def test_dense_cost(num_layers, c_in, growth, bn_size, h, c_out):
    block = DenseBlock(num_layers, c_in, growth, bn_size)
    x = torch.zeros(1, c_in, h, h + 1)
    assert cost.dense_layer_params(c_in, growth, bn_size) == n_params(block[0])
    assert 2 * cost.dense_layer_macs((h, h + 1), c_in, growth, bn_size) == flops(block[0], x)
    assert cost.dense_block_params(num_layers, c_in, growth, bn_size) == n_params(block)
    assert 2 * cost.dense_block_macs((h, h + 1), num_layers, c_in, growth, bn_size) == flops(block, x)
    assert cost.dense_block_concat_memory((h, h + 1), num_layers, c_in, growth, batch=3, itemsize=8) == (
        8 * outputs_numel(block, torch.zeros(3, c_in, h, h + 1))
    )
    transition = Transition(c_in, c_out)
    assert cost.transition_params(c_in, c_out) == n_params(transition)
    assert 2 * cost.transition_macs((h, h + 1), c_in, c_out) == flops(transition, x)


def test_published_block_costs():
    # He et al.'s Table 1 counts ResNet-18 at 1.8e9 FLOPs (their FLOPs are multiply-adds): the
    # basic blocks' MACs plus the stem's and the classifier's.
    stages = [
        (64, 64, 1, 56),
        (64, 64, 1, 56),
        (64, 128, 2, 56),
        (128, 128, 1, 28),
        (128, 256, 2, 28),
        (256, 256, 1, 14),
        (256, 512, 2, 14),
        (512, 512, 1, 7),
    ]
    blocks = sum(cost.basic_block_macs(size, ci, co, s) for ci, co, s, size in stages)
    total = blocks + cost.conv_macs(224, 3, 64, 7, stride=2, padding=3) + 512 * 1000
    assert total == flops(resnet18(), torch.zeros(1, 3, 224, 224)) // 2
    assert round(total / 1e9, 1) == 1.8
    assert cost.dense_block_params(6, 64, 32) == n_params(densenet121().block1)


def test_identity_shortcut_adds_no_weights():
    assert cost.basic_block_params(64, 64) == cost.basic_block_params(64, 64, shortcut=False)
    assert cost.basic_block_macs(56, 64, 64) == cost.basic_block_macs(56, 64, 64, shortcut=False)
    assert cost.basic_block_params(64, 128, 2) - cost.basic_block_params(64, 128, 2, shortcut=False) == 64 * 128 + 256
    # The addition moves three maps: the plain block's traffic is less by exactly that.
    added = cost.basic_block_bytes(56, 64, 64) - cost.basic_block_bytes(56, 64, 64, shortcut=False)
    assert added == 4 * 3 * 64 * 56 * 56


def test_connection_table_rows_match_the_modules():
    rows = cost.connection_table((10, 12), 8, 16, stride=2, batch=3, growth_rate=4)
    assert [row["type"] for row in rows] == list(cost.CONNECTION_TYPES)
    namespace = {name: globals()[name] for name in ("BasicBlock", "Bottleneck", "DenseLayer", "Transition")}
    x = torch.zeros(3, 8, 10, 12)
    for row in rows:
        module = eval(row["torch"], namespace)
        assert row["params"] == n_params(module)
        with torch.no_grad():
            assert tuple(module(x).shape[1:]) == row["output"]
        assert 2 * row["macs"] == flops(module, x)
        assert row["intensity"] == pytest.approx(2 * row["macs"] / row["bytes"])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: cost.basic_block_params(64, 64, stride=0), ValueError, "stride must be a positive int"),
        (lambda: cost.basic_block_macs(56, 64, 64, shortcut=None), TypeError, "shortcut must be True or False"),
        (lambda: cost.dense_block_macs(56, 0, 64, 32), ValueError, "num_layers must be a positive int"),
        (lambda: cost.dense_layer_params(64, 32, bn_size=0), ValueError, "bn_size must be a positive int"),
        (lambda: cost.transition_macs((56, 0), 64, 32), ValueError, "input_size must be a positive int"),
        (lambda: cost.bottleneck_params(8, 3, 8, groups=2), ValueError, "in_channels must be divisible by groups"),
        (lambda: cost.connection_table(8, 4, 4, itemsize=3), ValueError, "itemsize must be 1, 2, 4 or 8"),
    ],
)
def test_cost_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- the connection rows in the command line -------------------------------------------------------


def run_cli(capsys, *args):
    from conv_tutorial.cli import main

    status = main(["cost", "--input", "28x30", "--in-channels", "16", "--out-channels", "32", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_prints_the_connection_rows_when_asked(capsys):
    status, out, _ = run_cli(capsys, "--format", "csv")
    assert status == 0 and "basic block" not in out  # not by default: the layer table as before
    status, out, _ = run_cli(capsys, "--stride", "2", "--connections", "--growth-rate", "8", "--format", "json")
    assert status == 0
    rows = json.loads(out)["rows"]
    expected = cost.connection_table((28, 30), 16, 32, stride=2, growth_rate=8)
    assert rows[-len(expected) :] == json.loads(json.dumps(expected))
    assert [row["type"] for row in rows[: -len(expected)]] == list(cost.TYPES)
    status, out, _ = run_cli(capsys, "--types", "Dense-Layer", "standard", "--format", "csv")
    assert status == 0
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == ["standard", "dense layer"]


def test_cli_connection_errors_name_the_option(capsys):
    status, _, err = run_cli(capsys, "--connections", "--growth-rate", "0")
    assert status == 2 and "--growth-rate must be a positive int, got --growth-rate=0" in err


# --- the torch twins of the NumPy blocks: functions of a module's state_dict ----------------------


@settings(max_examples=15)
@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 2),
    st.integers(3, 7),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_torch_residual_block_equals_the_module_and_numpy(c_in, c_out, stride, size, shortcut, unbatched, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    block = BasicBlock(c_in, c_out, stride, shortcut=shortcut).double().eval()
    _randomise_norms(block, gen)
    x = torch.randn(2, c_in, size, size + 1, generator=gen, dtype=torch.float64, requires_grad=True)
    state = dict(block.named_parameters()) | dict(block.named_buffers())  # parameters, so gradients reach them
    ours, expected = ctorch.residual_block(x, state, stride, shortcut), block(x)
    assert_close_to_reference(ours, expected)
    for a, b in zip(_grads(block, x, ours, seed), _grads(block, x, expected, seed), strict=True):
        assert_close_to_reference(a, b)
    xs = x.detach()[0] if unbatched else x.detach()
    assert_close_to_reference(
        ctorch.residual_block(xs, state, stride, shortcut),
        cnp.residual_block(xs.numpy(), numpy_params(block), stride, shortcut),
    )


def test_torch_dense_block_and_transition_equal_the_modules_and_numpy():
    gen = torch.Generator().manual_seed(3)
    block, trans = DenseBlock(3, 4, 2, bn_size=2).double().eval(), Transition(10, 5).double().eval()
    _randomise_norms(block, gen)
    _randomise_norms(trans, gen)
    x = torch.randn(2, 4, 6, 7, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        dense = ctorch.dense_block(x, [layer.state_dict() for layer in block])
        assert_close_to_reference(dense, block(x))
        assert_close_to_reference(ctorch.transition(dense, trans.state_dict()), trans(block(x)))
        assert_close_to_reference(ctorch.dense_layer(x[0], block[0].state_dict()), block[0](x[:1])[0])
    assert_close_to_reference(dense, cnp.dense_block(x.numpy(), [numpy_params(layer) for layer in block]))


@settings(max_examples=15)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(0, 2), st.booleans(), st.integers(0, 2**31))
def test_torch_batch_norm_equals_numpy(n, c, extra_axes, affine, seed):
    rng = np.random.default_rng(seed)
    x, mean, var = rng.standard_normal((n, c, *(3,) * extra_axes)), rng.standard_normal(c), rng.random(c) + 0.1
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    ours = ctorch.batch_norm(*(None if a is None else torch.from_numpy(a) for a in (x, mean, var, w, b)), eps=1e-3)
    assert_close_to_reference(ours, cnp.batch_norm(x, mean, var, w, b, eps=1e-3))


def test_torch_twin_errors():
    state = BasicBlock(4, 4).state_dict()
    with pytest.raises(ValueError, match="residual_block: an identity shortcut needs the block to keep"):
        ctorch.residual_block(torch.zeros(1, 4, 6, 6), state, stride=2)
    with pytest.raises(TypeError, match=r"residual_block: params\['conv1.weight'\] must be a torch.Tensor"):
        ctorch.residual_block(torch.zeros(1, 4, 6, 6), numpy_params(BasicBlock(4, 4)))
    with pytest.raises(ValueError, match="transition: params lacks 'conv.norm.running_mean'"):
        ctorch.transition(torch.zeros(1, 4, 6, 6), {"conv.weight": torch.zeros(2, 4, 1, 1)})
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(C,\) = \(3,\)"):
        ctorch.batch_norm(torch.zeros(2, 3), torch.zeros(2), torch.ones(3))
    with pytest.raises(TypeError, match="running_var must be a torch.Tensor"):
        ctorch.batch_norm(torch.zeros(2, 3), torch.zeros(3), np.ones(3))
