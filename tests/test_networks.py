"""Chapter 16's package code: the networks of every family, their cost, their training, and the
NumPy network trained from scratch, against torch (autograd, torch.nn.functional, FlopCounterMode)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import conv_tutorial.numpy.networks as npn
from conv_tutorial import cost
from conv_tutorial.torch import networks as tn
from conv_tutorial.torch.im2col import native_convolutions
from conv_tutorial.viz import draw_accuracy_cost, pareto_front


@pytest.fixture(autouse=True)
def one_thread():
    """One thread, as the chapter trains: tiny layers gain nothing from two, and lose much on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _net(family, seed=0, **kwargs):
    torch.manual_seed(seed)
    return tn.family_network(family, **kwargs)


# --- the networks -------------------------------------------------------------------------------


@pytest.mark.parametrize("family", tn.FAMILIES)
@pytest.mark.parametrize("size", [8, 16])
def test_every_family_maps_images_to_logits(family, size):
    net = _net(family, width=8)
    out = net(torch.randn(3, 1, size, size))
    assert out.shape == (3, 10)
    assert torch.isfinite(out).all()
    assert [name for name, _ in net.named_children()] == ["stem", "block1", "block2", "block3", "pool", "flatten", "fc"]


def test_families_differ_only_where_they_should():
    def conv_shapes(net):
        return [tuple(m.weight.shape) for m in net.modules() if isinstance(m, tn.ConvBNReLU)]

    standard = conv_shapes(_net("standard"))
    assert len(standard) == 7  # the stem and 3 blocks of 2 layers
    assert conv_shapes(_net("dilated")) == standard
    assert [m.dilation for m in _net("dilated").modules() if isinstance(m, tn.ConvBNReLU)] == [1, 1, 2, 1, 2, 1, 2]
    assert conv_shapes(_net("squeeze-excitation")) == standard
    assert conv_shapes(_net("deformable")) == standard[:-1]  # its last layer is deformable
    grouped = _net("grouped", groups=4)
    assert all(m.groups == 4 for m in grouped.modules() if isinstance(m, tn.ConvBNReLU) and m is not grouped.stem)
    shuffles = [m for m in _net("grouped + shuffle").modules() if isinstance(m, tn.ChannelShuffle)]
    assert len(shuffles) == 6
    residual = _net("residual")
    assert residual.block1.shortcut.__class__.__name__ == "Identity"
    assert residual.block2.shortcut.__class__.__name__ == "_ConvBN"  # the projection where the shape changes


def test_shuffle_lets_the_groups_of_a_grouped_network_see_each_other():
    """Without the shuffle each final channel depends on the stem channels of one group only."""

    def seen(net):
        net.eval()
        stem_channels = net.stem.weight.shape[0]
        x = torch.zeros(stem_channels, stem_channels, 8, 8, requires_grad=True)
        out = net.block3(net.block2(net.block1(x)))
        (grad,) = torch.autograd.grad(out[:, 0].sum(), x)  # which inputs reach final channel 0
        return (grad.abs().sum(dim=(0, 2, 3)) > 0).sum().item()

    grouped, shuffled = _net("grouped", width=8), _net("grouped + shuffle", width=8)
    with torch.no_grad():  # make every ReLU pass, so the test sees the wiring and not the signs
        for net in (grouped, shuffled):
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.bias.fill_(10.0)
    assert seen(grouped) == 8 // 4
    assert seen(shuffled) == 8


def test_conv_bn_relu_is_conv2d_then_batch_norm_then_relu():
    layer = tn.ConvBNReLU(4, 8, 3, stride=2, dilation=2, groups=2).double().eval()
    with torch.no_grad():
        layer.norm.running_mean.uniform_(-1, 1)
        layer.norm.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 4, 9, 9, dtype=torch.float64)
    expected = torch.relu(layer.norm(F.conv2d(x, layer.weight, stride=2, padding=2, dilation=2, groups=2)))
    torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_channel_shuffle_module_is_nn_channel_shuffle():
    x = torch.randn(2, 12, 3, 3)
    assert torch.equal(tn.ChannelShuffle(3)(x), nn.ChannelShuffle(3)(x))
    assert "groups=3" in repr(tn.ChannelShuffle(3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(family="inception"), "family must be one of"),
        (dict(family="grouped", width=6, groups=4), "width must be divisible by groups"),
        (dict(family="squeeze-excitation", width=4, reduction=8), "width // reduction"),
        (dict(family="standard", width=0), "width"),
        (dict(family="standard", num_classes=-1), "num_classes"),
    ],
)
def test_family_network_names_the_bad_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tn.family_network(**kwargs)
    with pytest.raises(TypeError, match="width"):
        tn.family_network("standard", width=8.0)


def test_layers_name_their_bad_arguments():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        tn.ConvBNReLU(6, 8, groups=4)
    with pytest.raises(ValueError, match="dilation"):
        tn.ConvBNReLU(4, 8, dilation=0)
    with pytest.raises(ValueError, match="groups"):
        tn.ChannelShuffle(0)


# --- what they cost -----------------------------------------------------------------------------


def _flops(net, x):
    # The network's native twin: its convolutions on torch's own ops, which the counter knows.
    with FlopCounterMode(display=False) as counter, torch.no_grad(), native_convolutions():
        net.eval()(x)
    return counter.get_total_flops()


@pytest.mark.parametrize("family", tn.FAMILIES)
@pytest.mark.parametrize(("width", "size"), [(8, 8), (12, 16)])
def test_network_cost_counts_every_parameter_and_what_torch_counts(family, width, size):
    net = _net(family, width=width)
    counted = tn.network_cost(net, (1, size, size))
    assert counted.params == sum(p.numel() for p in net.parameters())
    # FlopCounterMode counts 2 FLOPs per MAC of the native twin's convolutions and of the deformable
    # layer's matrix product; that layer's bilinear sampling is elementwise work it does not see.
    sampling = 0
    if family == "deformable":
        c = 2 * width
        sampling = cost.deform_conv_macs(size // 2, c, c, 3, padding=1) - cost.conv_macs(size // 2, c, c, 3, padding=1)
        sampling -= cost.conv_macs(size // 2, c, 18, 3, padding=1)  # minus the offset predictor: a convolution
        assert sampling == 4 * c * 9 * (size // 2) ** 2
    assert _flops(net, torch.zeros(1, 1, size, size)) == 2 * (counted.macs - sampling)


def test_network_cost_sums_the_cost_functions_layer_by_layer():
    # standard, width 8, 8x8 input: the stem, block 1 at 8x8, blocks 2 and 3 at 4x4, the classifier.
    convs = [(8, 1, 8, 1), (8, 8, 8, 1), (8, 8, 8, 1), (8, 8, 16, 2), (4, 16, 16, 1), (4, 16, 16, 1), (4, 16, 16, 1)]
    macs = sum(cost.conv_macs(s, c_in, c_out, 3, stride, padding=1) for s, c_in, c_out, stride in convs) + 16 * 10
    params = (
        sum(cost.conv_params(c_in, c_out, 3, bias=False) + cost.batch_norm_params(c_out) for _, c_in, c_out, _ in convs)
        + 16 * 10
        + 10
    )
    assert tn.network_cost(_net("standard", width=8), (1, 8, 8)) == (params, macs)


def test_network_cost_leaves_the_network_as_it_was():
    net = _net("standard").train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    tn.network_cost(net, (1, 8, 8))
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # batch-norm statistics too
    assert not any(m._forward_pre_hooks for m in net.modules())


def test_network_cost_refuses_what_it_cannot_price():
    with pytest.raises(ValueError, match=r"cannot price the parameters \['0.weight', '0.bias'\]"):
        tn.network_cost(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten()), (1, 8, 8))
    with pytest.raises(ValueError, match="input_shape"):
        tn.network_cost(_net("standard"), (8, 8))
    with pytest.raises(ValueError, match="input_shape"):
        tn.network_cost(_net("standard"), (1, 0, 8))


# --- training -----------------------------------------------------------------------------------


def _toy(n=64, seed=0):
    """Two classes a small network separates at once: a bright top half or a bright bottom half."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g)
    images = 0.1 * torch.randn(n, 1, 8, 8, generator=g)
    images[labels == 0, :, :4] += 1
    images[labels == 1, :, 4:] += 1
    return images, labels


def test_training_is_deterministic_given_the_seeds():
    data = _toy()
    runs = []
    for _ in range(2):
        net = _net("grouped + shuffle", seed=3, width=4, num_classes=2, groups=2)
        result = tn.train_classifier(net, data, data, epochs=2, batch_size=16, seed=5)
        runs.append((result.test_accuracy, result.epoch_losses, [p.detach().clone() for p in net.parameters()]))
    assert runs[0][:2] == runs[1][:2]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][2], runs[1][2], strict=True))
    other = tn.train_classifier(
        _net("grouped + shuffle", seed=3, width=4, num_classes=2, groups=2), data, data, epochs=2, batch_size=16, seed=6
    )
    assert other.epoch_losses != runs[0][1]  # the seed does choose the minibatches


@pytest.mark.parametrize("family", tn.FAMILIES)
def test_a_few_steps_lower_the_loss_and_learn_a_separable_problem(family):
    data, test = _toy(), _toy(seed=1)
    result = tn.train_classifier(
        _net(family, width=4, num_classes=2, groups=2, reduction=2), data, test, epochs=4, batch_size=16, lr=0.02
    )
    assert result.epoch_losses[-1] < result.epoch_losses[0]
    assert result.test_accuracy >= 0.9
    assert result.seconds > 0


def test_recalibrated_batch_norm_holds_the_statistics_of_the_data():
    net = _net("standard", width=4)
    images = torch.randn(40, 1, 8, 8)
    tn.recalibrate_batch_norm(net, images, batch_size=40)
    stem_out = F.conv2d(images, net.stem.weight, padding=1)
    torch.testing.assert_close(net.stem.norm.running_mean, stem_out.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(net.stem.norm.running_var, stem_out.var(dim=(0, 2, 3)))
    assert net.stem.norm.momentum == 0.1  # put back


def test_training_names_its_bad_arguments():
    net, data = _net("standard", width=4, num_classes=2), _toy(8)
    with pytest.raises(TypeError, match="train"):
        tn.train_classifier(net, data[0], data)
    with pytest.raises(ValueError, match="test"):
        tn.train_classifier(net, data, (data[0], data[1][:3]))
    with pytest.raises(TypeError, match="int64"):
        tn.train_classifier(net, (data[0], data[1].float()), data)
    for kwargs, name in (
        (dict(epochs=0), "epochs"),
        (dict(batch_size=-1), "batch_size"),
        (dict(lr=0.0), "lr"),
        (dict(seed=-1), "seed"),
    ):
        with pytest.raises(ValueError, match=name):
            tn.train_classifier(net, data, data, **kwargs)


def test_classification_accuracy_and_latency():
    net = _net("standard", width=4, num_classes=2)
    images, labels = _toy(16)
    accuracy = tn.classification_accuracy(net, images, labels, batch_size=5)
    with torch.no_grad():
        assert accuracy == (net(images).argmax(1) == labels).float().mean().item()
    times = tn.measure_latencies({"a": net, "b": _net("standard", width=8, num_classes=2)}, images, rounds=2, repeats=2)
    assert list(times) == ["a", "b"] and all(t > 0 for t in times.values())
    assert not net.training
    with pytest.raises(ValueError, match="repeats"):
        tn.measure_latencies({"a": net}, images, repeats=0)
    with pytest.raises(TypeError, match="rounds"):
        tn.measure_latencies({"a": net}, images, rounds=2.0)


# --- the NumPy network --------------------------------------------------------------------------


def _t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def test_layer_forwards_match_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    np.testing.assert_array_equal(npn.relu(x), torch.relu(torch.from_numpy(x)).numpy())
    for k in (1, 2, 3):
        np.testing.assert_array_equal(npn.max_pool2d(x, k), F.max_pool2d(torch.from_numpy(x), k).numpy())
    flat, w, b = rng.standard_normal((4, 5)), rng.standard_normal((3, 5)), rng.standard_normal(3)
    np.testing.assert_allclose(
        npn.linear(flat, w, b), F.linear(*map(torch.from_numpy, (flat, w, b))).numpy(), rtol=1e-12
    )
    logits, labels = rng.standard_normal((6, 10)) * 30, rng.integers(0, 10, 6)  # large logits: no overflow
    loss, _ = npn.softmax_cross_entropy(logits, labels)
    assert loss == pytest.approx(F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels)).item(), rel=1e-12)


def test_layer_backwards_match_autograd():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 6))
    for k in (2, 3):
        xt = _t(x)
        out = F.max_pool2d(xt, k)
        dy = rng.standard_normal(out.shape)
        out.backward(torch.from_numpy(dy))
        np.testing.assert_array_equal(npn.max_pool2d_backward(dy, x, k), xt.grad.numpy())
    xt = _t(x)
    torch.relu(xt).backward(torch.from_numpy(2 * x))
    np.testing.assert_array_equal(npn.relu_backward(2 * x, x), xt.grad.numpy())
    flat, w, b = (_t(rng.standard_normal(s)) for s in ((4, 5), (3, 5), (3,)))
    dy = rng.standard_normal((4, 3))
    F.linear(flat, w, b).backward(torch.from_numpy(dy))
    for ours, theirs in zip(
        npn.linear_backward(dy, flat.detach().numpy(), w.detach().numpy()), (flat.grad, w.grad, b.grad), strict=True
    ):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)
    logits, labels = _t(rng.standard_normal((6, 10))), rng.integers(0, 10, 6)
    F.cross_entropy(logits, torch.from_numpy(labels)).backward()
    _, grad = npn.softmax_cross_entropy(logits.detach().numpy(), labels)
    np.testing.assert_allclose(grad, logits.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_max_pool_backward_sends_a_tie_to_the_first_maximum_as_torch_does():
    x = np.zeros((1, 1, 2, 2))
    xt = _t(x)
    F.max_pool2d(xt, 2).backward(torch.ones(1, 1, 1, 1, dtype=torch.float64))
    np.testing.assert_array_equal(npn.max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2), xt.grad.numpy())


def _torch_cnn_loss(params, images, labels):
    h = F.max_pool2d(F.relu(F.conv2d(images, params["conv1_weight"], params["conv1_bias"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, params["conv2_weight"], params["conv2_bias"], padding=1)), 2)
    return F.cross_entropy(F.linear(h.flatten(1), params["fc_weight"], params["fc_bias"]), labels)


@pytest.mark.parametrize("image_size", [8, 12])
def test_cnn_gradients_match_autograd(image_size):
    rng = np.random.default_rng(2)
    params = npn.init_cnn(rng, in_channels=2, channels=(4, 6), num_classes=5, image_size=image_size)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}  # non-zero biases too
    images, labels = rng.standard_normal((7, 2, image_size, image_size)), rng.integers(0, 5, 7)
    loss, grads = npn.cnn_loss_and_gradients(params, images, labels)
    tparams = {k: _t(v) for k, v in params.items()}
    reference = _torch_cnn_loss(tparams, torch.from_numpy(images), torch.from_numpy(labels))
    reference.backward()
    assert loss == pytest.approx(reference.item(), rel=1e-12)
    for name, p in tparams.items():
        scale = max(1.0, p.grad.abs().max().item())
        assert np.abs(grads[name] - p.grad.numpy()).max() / scale < 1e-12, name
    np.testing.assert_array_equal(npn.cnn_forward(params, images).argmax(1), _torch_logits_argmax(tparams, images))


def _torch_logits_argmax(params, images):
    with torch.no_grad():
        h = F.max_pool2d(
            F.relu(F.conv2d(torch.from_numpy(images), params["conv1_weight"], params["conv1_bias"], padding=1)), 2
        )
        h = F.max_pool2d(F.relu(F.conv2d(h, params["conv2_weight"], params["conv2_bias"], padding=1)), 2)
        return F.linear(h.flatten(1), params["fc_weight"], params["fc_bias"]).argmax(1).numpy()


def test_one_sgd_step_lowers_the_loss():
    rng = np.random.default_rng(3)
    params = npn.init_cnn(rng)
    images, labels = rng.standard_normal((16, 1, 8, 8)), rng.integers(0, 10, 16)
    before, grads = npn.cnn_loss_and_gradients(params, images, labels)
    after, _ = npn.cnn_loss_and_gradients({k: v - 0.05 * grads[k] for k, v in params.items()}, images, labels)
    assert after < before


def test_numpy_network_names_its_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="rng"):
        npn.init_cnn(0)
    with pytest.raises(ValueError, match="image_size"):
        npn.init_cnn(rng, image_size=10)
    with pytest.raises(ValueError, match=r"channels\[1\]"):
        npn.init_cnn(rng, channels=(4, 0))
    with pytest.raises(ValueError, match="labels must be integers in"):
        npn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="labels"):
        npn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0]))
    with pytest.raises(ValueError, match="kernel_size=3 is larger"):
        npn.max_pool2d(np.zeros((1, 1, 2, 2)), 3)
    with pytest.raises(ValueError, match="kernel_size"):
        npn.max_pool2d(np.zeros((1, 1, 2, 2)), 0)
    with pytest.raises(ValueError, match="pooled shape"):
        npn.max_pool2d_backward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 2)), 2)
    with pytest.raises(ValueError, match="in_features"):
        npn.linear(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="bias"):
        npn.linear(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="grad_output"):
        npn.relu_backward(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="grad_output"):
        npn.linear_backward(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((4, 3)))
    with pytest.raises(TypeError, match="input"):
        npn.relu(np.zeros(2, dtype=complex))


# --- the picture --------------------------------------------------------------------------------


def test_pareto_front_keeps_the_points_nothing_beats():
    assert pareto_front([3, 1, 2], [0.9, 0.5, 0.7]) == [1, 2, 0]
    assert pareto_front([1, 1, 2], [0.5, 0.8, 0.8]) == [1]  # equal cost: the better; equal score: cheaper
    assert pareto_front([5], [0.1]) == [0]
    with pytest.raises(ValueError, match="same length"):
        pareto_front([1, 2], [0.5])
    with pytest.raises(ValueError, match="finite"):
        pareto_front([1, np.nan], [0.5, 0.6])


def test_draw_accuracy_cost_draws_every_point_and_the_front():
    points = [("cheap", 1e4, 0.80, 0.02), ("good", 1e5, 0.95, 0.01), ("dominated", 2e5, 0.90, 0.03)]
    fig = draw_accuracy_cost(points, title="t")
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["Pareto front (mean)", "cheap", "good", "dominated"]
    front = ax.lines[0]
    np.testing.assert_array_equal(front.get_xdata(), [1e4, 1e5])
    assert ax.get_xscale() == "log" and ax.get_title() == "t"
    plt.close(fig)
    for bad in ([], [("a", 0.0, 0.5, 0.1)], [("a", 1.0, 0.5, -0.1)], [("a", 1.0, 0.5)]):
        with pytest.raises(ValueError, match="points|costs"):
            draw_accuracy_cost(bad)
