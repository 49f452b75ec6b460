"""Skip and dense connections: the blocks' outputs and gradients equal a composition written with
torch.nn.functional (conv2d, batch_norm) on the same weights; shapes, parameter counts of the
published networks, and the errors of bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import assert_close_to_reference
from hypothesis import given, settings
from hypothesis import strategies as st

from conv_tutorial.torch import (
    BasicBlock,
    DenseBlock,
    DenseLayer,
    Transition,
    basic_block_net,
    densenet,
    densenet121,
    resnet,
    resnet18,
)


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _bn(bn, x, training):
    # Copies of the running statistics: the module updates its own in the same step.
    return F.batch_norm(x, bn.running_mean.clone(), bn.running_var.clone(), bn.weight, bn.bias,
                        training=training, momentum=bn.momentum, eps=bn.eps)


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
    for a, b in zip(_grads(module, x, ours, seed), _grads(module, x, expected, seed)):
        assert_close_to_reference(a, b)
    return ours


# --- the basic block ---------------------------------------------------------------------------


@settings(max_examples=25)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 2), st.integers(3, 7), st.booleans(), st.booleans(),
       st.integers(0, 2**31))
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
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.integers(2, 6), st.booleans(),
       st.integers(0, 2**31))
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
    assert [layer.bottleneck.weight.shape[1] for layer in block] == [4, 6, 8]   # k0 + l * k


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
    bottleneck = 2 * c + c * 4 * k          # BN over the input, 1x1 conv to 4k
    conv = 2 * 4 * k + 9 * 4 * k * k        # BN over 4k, 3x3 conv to k
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
    assert net.transition1.conv.weight.shape[:2] == (11, 16)   # floor(0.7 * (8 + 2 * 4)) = 11


@pytest.mark.parametrize("shortcut", [True, False])
def test_basic_block_net(shortcut):
    net = basic_block_net(3, channels=4, in_channels=1, num_classes=2, shortcut=shortcut)
    assert len(net.blocks) == 3
    assert all((b.shortcut is None) != shortcut for b in net.blocks)
    assert net(torch.randn(5, 1, 6, 6)).shape == (5, 2)
    plain = basic_block_net(3, channels=4, in_channels=1, num_classes=2, shortcut=not shortcut)
    assert n_params(net) == n_params(plain)


def test_gradients_reach_every_parameter():
    for module, x in ((BasicBlock(4, 8, 2), torch.randn(2, 4, 6, 6)), (DenseBlock(2, 4, 3), torch.randn(2, 4, 4, 4)),
                      (Transition(4, 2), torch.randn(2, 4, 4, 4))):
        module(x).sum().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("build, message", [
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
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("build, message", [
    (lambda: BasicBlock(8, 8.0), "BasicBlock: out_channels must be an int, got out_channels=8.0"),
    (lambda: BasicBlock(8, 8, shortcut=None), "BasicBlock: shortcut must be True or False, got shortcut=None"),
    (lambda: DenseBlock(2, 8, 4.5), "DenseBlock: growth_rate must be an int, got growth_rate=4.5"),
    (lambda: densenet(compression="half"), "densenet: compression must be a real number"),
    (lambda: basic_block_net(2, shortcut=1), "basic_block_net: shortcut must be True or False"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_types(build, message):
    with pytest.raises(TypeError, match=message):
        build()


def test_bad_input_names_the_channels():
    with pytest.raises(ValueError, match="expects input with 8 channels"):
        BasicBlock(8, 8)(torch.randn(1, 3, 5, 5))
    with pytest.raises(ValueError, match=r"DenseLayer: expects input with 8 channels, of shape \(N, 8, H, W\), "
                                         r"but the input has shape \(1, 3, 5, 5\)"):
        DenseLayer(8, 4)(torch.randn(1, 3, 5, 5))
    with pytest.raises(ValueError, match="Transition: expects input with 8 channels"):
        Transition(8, 4)(torch.randn(8, 5, 5))
