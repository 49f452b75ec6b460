"""Small networks of every family, one recipe: the comparison of chapter 16.

Every network has the same skeleton and differs only in its convolutions::

    stem (3x3 conv 1 -> w, BN, ReLU)
    block(w  -> w,  stride 1)      at H x W
    block(w  -> 2w, stride 2)      at H/2 x W/2
    block(2w -> 2w, stride 1)      at H/2 x W/2
    global average pooling, linear 2w -> classes

and a block is two layers of its family (the first carries the stride), so every network has seven
convolution layers and a classifier. :data:`FAMILIES` names the families:

- ``"standard"`` -- 3x3 convolution, batch normalisation, ReLU (the "plain" network);
- ``"depthwise separable"`` -- MobileNet's :class:`~conv_tutorial.torch.DepthwiseSeparableConv2d`;
- ``"grouped"`` -- 3x3 convolutions with ``groups`` groups: channels never cross a group;
- ``"grouped + shuffle"`` -- the same layers, each followed by a channel shuffle (ShuffleNet);
- ``"squeeze-excitation"`` -- the standard block followed by a
  :class:`~conv_tutorial.torch.SqueezeExcitation` gate;
- ``"dilated"`` -- the standard block with dilation 2 in its second layer (rates 1, 2: no gridding);
- ``"deformable"`` -- the standard network whose last layer is a
  :class:`~conv_tutorial.torch.DeformConv2d` (DCNv1);
- ``"residual"`` -- ResNet's :class:`~conv_tutorial.torch.connections.BasicBlock`: the standard block
  plus its skip connection (a 1x1 projection where the shape changes).

Also here: :func:`network_cost`, the parameters and multiply-accumulates of a network summed layer by
layer with :mod:`conv_tutorial.cost`; :func:`train_classifier`, a seeded minibatch Adam loop that
returns the test accuracy; :func:`measure_latencies`, the least time of a forward pass of each
network, interleaved.

Chapter 16: ``book/16_family_at_work.ipynb``. The NumPy twin (one small network trained from
scratch, with hand-written backward passes): :mod:`conv_tutorial.numpy.networks`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .. import cost
from .._checks import check_choice, check_divisible, check_positive_int, check_real
from ..timing import best_times
from .attention import SqueezeExcitation
from .connections import BasicBlock
from .deformable import DeformConv2d
from .grouped import channel_shuffle
from .pointwise import _ConvBN
from .separable import DepthwiseSeparableConv2d
from .standard import conv2d

__all__ = [
    "FAMILIES",
    "ChannelShuffle",
    "ConvBNReLU",
    "DeformBNReLU",
    "NetworkCost",
    "TrainingResult",
    "classification_accuracy",
    "family_network",
    "measure_latencies",
    "network_cost",
    "recalibrate_batch_norm",
    "train_classifier",
]

#: The families :func:`family_network` builds, in the order of the book's chapters.
FAMILIES = (
    "standard",
    "depthwise separable",
    "grouped",
    "grouped + shuffle",
    "squeeze-excitation",
    "dilated",
    "deformable",
    "residual",
)


class ConvBNReLU(nn.Module):
    """A bias-free convolution (on :func:`conv_tutorial.torch.conv2d`), batch normalisation, ReLU.

    ``padding = dilation * (kernel_size // 2)`` keeps the size at stride 1.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int
    stride, dilation, groups : int

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, H_out, W_out)`` with
    ``H_out = floor((H - 1) / stride) + 1``.

    Examples
    --------
    >>> layer = ConvBNReLU(8, 16, 3, stride=2, groups=4)
    >>> layer(torch.randn(2, 8, 6, 6)).shape, tuple(layer.weight.shape)
    (torch.Size([2, 16, 3, 3]), (16, 2, 3, 3))
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
    ):
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("kernel_size", kernel_size),
            ("stride", stride),
            ("dilation", dilation),
            ("groups", groups),
        ):
            check_positive_int(None, name, value)
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            check_divisible(None, name, value, "groups", groups)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, kernel_size, kernel_size))
        nn.init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")  # as torchvision's ResNet
        self.stride, self.dilation, self.groups = stride, dilation, groups
        self.padding = dilation * (kernel_size // 2)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ReLU of the batch-normalised convolution of ``x``: ``(N, out_channels, H_out, W_out)``."""
        out = conv2d(
            x, self.weight, stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups
        )
        return torch.relu(self.norm(out))


class DeformBNReLU(nn.Module):
    """A :class:`~conv_tutorial.torch.DeformConv2d` (3x3, DCNv1, no bias), batch normalisation, ReLU.

    The offset predictor starts at zero, so the layer starts as a plain 3x3 convolution.

    Examples
    --------
    >>> DeformBNReLU(4, 8)(torch.randn(2, 4, 5, 5)).shape
    torch.Size([2, 8, 5, 5])
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv = DeformConv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_out", nonlinearity="relu")
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ReLU of the batch-normalised deformable convolution of ``x``: ``(N, out_channels, H_out, W_out)``."""
        return torch.relu(self.norm(self.conv(x)))


class ChannelShuffle(nn.Module):
    """:func:`conv_tutorial.torch.channel_shuffle` as a module, like ``torch.nn.ChannelShuffle``.

    Examples
    --------
    >>> ChannelShuffle(2)(torch.arange(4.0).reshape(1, 4, 1, 1)).flatten()
    tensor([0., 2., 1., 3.])
    """

    def __init__(self, groups: int):
        super().__init__()
        self.groups = check_positive_int(None, "groups", groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:func:`conv_tutorial.torch.channel_shuffle` of ``x`` ``(N, C, *)`` with ``groups``: the same shape."""
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        """``groups=g``, shown in the module's ``repr``."""
        return f"groups={self.groups}"


def _layer(family: str, in_channels: int, out_channels: int, stride: int, second: bool, groups: int) -> nn.Module:
    """Layer 1 (``second=False``) or 2 of a block of ``family``."""
    if family == "depthwise separable":
        return DepthwiseSeparableConv2d(
            in_channels, out_channels, 3, stride=stride, padding=1, norm=nn.BatchNorm2d, activation=nn.ReLU
        )
    if family in ("grouped", "grouped + shuffle"):
        layer = ConvBNReLU(in_channels, out_channels, 3, stride, groups=groups)
        return nn.Sequential(layer, ChannelShuffle(groups)) if family == "grouped + shuffle" else layer
    return ConvBNReLU(in_channels, out_channels, 3, stride, dilation=2 if family == "dilated" and second else 1)


def _block(
    family: str, in_channels: int, out_channels: int, stride: int, groups: int, reduction: int, last: bool
) -> nn.Module:
    """One block of ``family``: two layers (the first strided), then an SE gate for that family.

    ``last`` marks the network's final block, whose second layer the deformable family replaces.
    """
    if family == "residual":
        return BasicBlock(in_channels, out_channels, stride)
    first = _layer(family, in_channels, out_channels, stride, False, groups)
    if family == "deformable" and last:
        second = DeformBNReLU(out_channels, out_channels)
    else:
        second = _layer(family, out_channels, out_channels, 1, True, groups)
    layers = [first, second]
    if family == "squeeze-excitation":
        layers.append(SqueezeExcitation(out_channels, reduction))
    return nn.Sequential(*layers)


def family_network(
    family: str, width: int = 8, in_channels: int = 1, num_classes: int = 10, groups: int = 4, reduction: int = 4
) -> nn.Sequential:
    """A small classifier of one family, on the skeleton every family shares (see the module's docstring).

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    width : int
        ``w``: channels of the first stage; the second has ``2w``. Must be divisible by ``groups``.
    in_channels, num_classes : int
    groups : int
        Groups of the grouped families (and of their shuffle).
    reduction : int
        Reduction ratio of the squeeze-excitation gates.

    Returns
    -------
    nn.Sequential
        Children ``stem, block1, block2, block3, pool, flatten, fc``.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, num_classes)`` (logits).

    Examples
    --------
    >>> net = family_network("grouped + shuffle", width=8)
    >>> net(torch.randn(2, 1, 16, 16)).shape
    torch.Size([2, 10])
    >>> [family_network(f).__len__() for f in FAMILIES] == [7] * len(FAMILIES)
    True
    """
    check_choice(None, "family", family, FAMILIES, types=str)
    for name, value in (
        ("width", width),
        ("in_channels", in_channels),
        ("num_classes", num_classes),
        ("groups", groups),
        ("reduction", reduction),
    ):
        check_positive_int(None, name, value)
    check_divisible(None, "width", width, "groups", groups)
    if width // reduction < 1:
        raise ValueError(f"width // reduction must be at least 1, got width={width} and reduction={reduction}")
    plan = [(width, width, 1), (width, 2 * width, 2), (2 * width, 2 * width, 1)]
    children = [("stem", ConvBNReLU(in_channels, width, 3))]
    for i, (c_in, c_out, stride) in enumerate(plan):
        children.append((f"block{i + 1}", _block(family, c_in, c_out, stride, groups, reduction, i == len(plan) - 1)))
    children += [
        ("pool", nn.AdaptiveAvgPool2d(1)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(2 * width, num_classes)),
    ]
    return nn.Sequential(OrderedDict(children))


class NetworkCost(NamedTuple):
    """Parameters and multiply-accumulates per image of a network (:func:`network_cost`)."""

    params: int
    macs: int


def _conv_cost(layer, in_channels, size, dilation=1):
    c_out, _, k, _ = layer.weight.shape
    return (
        cost.conv_params(in_channels, c_out, k, layer.groups, bias=False),
        cost.conv_macs(size, in_channels, c_out, k, layer.stride, layer.padding, dilation, layer.groups),
    )


def _priced(module, input_shape):
    """``(params, macs)`` of one layer from :mod:`conv_tutorial.cost`, or None for a module priced by its parts.

    ``input_shape`` is the ``(N, C, H, W)`` (or ``(N, C)``) the module received; the counts cover the
    parameters :func:`_owned` says the module owns.
    """
    c_in, size = input_shape[1], tuple(input_shape[2:])
    if isinstance(module, ConvBNReLU):
        return _conv_cost(module, c_in, size, module.dilation)
    if isinstance(module, _ConvBN):
        return _conv_cost(module, c_in, size)
    if isinstance(module, DepthwiseSeparableConv2d):
        mid, _, k, _ = module.depthwise_weight.shape
        c_out, bias = module.pointwise_weight.shape[0], module.depthwise_bias is not None
        return (
            cost.separable_conv_params(c_in, c_out, k, mid // c_in, bias),
            cost.separable_conv_macs(size, c_in, c_out, k, module.stride, module.padding, module.dilation, mid // c_in),
        )
    if isinstance(module, DeformConv2d):
        c_out, c_in_g, k, _ = module.weight.shape
        args = (c_in, c_out, k)
        return (
            cost.deform_conv_params(
                *args, c_in // c_in_g, module.offset_groups, module.bias is not None, module.modulated
            ),
            cost.deform_conv_macs(
                size,
                *args,
                module.stride,
                module.padding,
                module.dilation,
                c_in // c_in_g,
                module.offset_groups,
                module.modulated,
            ),
        )
    if isinstance(module, SqueezeExcitation):
        reduction = c_in // module.fc1.out_features  # gives back fc1's width: c_in // reduction
        return cost.squeeze_excitation_params(c_in, reduction), cost.squeeze_excitation_macs(c_in, reduction)
    if isinstance(module, nn.Linear):
        # A linear layer is a 1x1 convolution on a 1x1 map.
        return (
            cost.conv_params(module.in_features, module.out_features, 1, bias=module.bias is not None),
            cost.conv_macs(1, module.in_features, module.out_features, 1),
        )
    if isinstance(module, nn.BatchNorm2d):
        # Scale and shift; normalisation is elementwise work, which the cost model does not count.
        return cost.batch_norm_params(module.num_features), 0
    return None


def _owned(module):
    """The parameters :func:`_priced` counts for ``module``: its own, and its children's for an SE gate."""
    return list(module.parameters(recurse=isinstance(module, SqueezeExcitation)))


def network_cost(model: nn.Module, input_shape) -> NetworkCost:
    """Parameters and multiply-accumulates per image of a network, summed layer by layer from :mod:`conv_tutorial.cost`.

    One forward pass of a zero image (in evaluation mode, so batch-norm statistics are left alone)
    records the input size of every layer; each layer is then priced by the cost function of its
    type: :func:`~conv_tutorial.cost.conv_macs` for :class:`ConvBNReLU` and the convolutions of
    :class:`~conv_tutorial.torch.connections.BasicBlock`,
    :func:`~conv_tutorial.cost.separable_conv_macs`, :func:`~conv_tutorial.cost.deform_conv_macs`
    (which counts the bilinear sampling as well), :func:`~conv_tutorial.cost.squeeze_excitation_macs`,
    a linear layer as a 1x1 convolution, batch normalisation's scale and shift. As everywhere in
    :mod:`conv_tutorial.cost`, pooling, activations, normalisation and additions are not counted.

    Parameters
    ----------
    model : nn.Module
        Built from the layers above (every network of :func:`family_network` is).
    input_shape : tuple of 3 ints
        ``(C, H, W)`` of one image.

    Returns
    -------
    NetworkCost
        ``params`` equals ``sum(p.numel() for p in model.parameters())``; ``macs`` is per image.

    Raises
    ------
    ValueError
        If a parameter of the model belongs to a layer this function cannot price, or to a layer the
        forward pass does not reach.

    Examples
    --------
    >>> network_cost(family_network("standard", width=8), (1, 8, 8))
    NetworkCost(params=9634, macs=207520)
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list, torch.Size)) else None
    if shape is None or len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W) of one image, got input_shape={input_shape!r}")
    for name, value in zip(("C", "H", "W"), shape, strict=True):
        check_positive_int(None, f"input_shape's {name}", value)
    seen = {}

    def record(module, args):
        seen.setdefault(module, tuple(args[0].shape))  # returns nothing: the input goes on unchanged

    hooks = [m.register_forward_pre_hook(record) for m in model.modules()]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *shape), dtype=next(model.parameters()).dtype))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    params = macs = 0
    counted = set()
    for module in model.modules():
        priced = _priced(module, seen[module]) if module in seen else None
        if priced is None:
            continue
        params, macs = params + priced[0], macs + priced[1]
        counted.update(id(p) for p in _owned(module))
    missing = [name for name, p in model.named_parameters() if id(p) not in counted]
    if missing:
        raise ValueError(
            f"network_cost: cannot price the parameters {missing}: they belong to a layer of a type "
            f"the cost model does not know, or to one the forward pass does not reach"
        )
    return NetworkCost(params, macs)


class TrainingResult(NamedTuple):
    """What :func:`train_classifier` returns."""

    test_accuracy: float
    epoch_losses: list
    seconds: float


def _check_data(name, data):
    if not (isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data)):
        raise TypeError(f"{name} must be a pair (images, labels) of tensors, got {type(data).__name__}")
    images, labels = data
    if images.ndim != 4 or labels.ndim != 1 or len(images) != len(labels) or not len(labels):
        raise ValueError(
            f"{name} must hold images (N, C, H, W) and labels (N,) with the same N > 0, got shapes "
            f"{tuple(images.shape)} and {tuple(labels.shape)}"
        )
    if labels.dtype != torch.int64:
        raise TypeError(f"{name}'s labels must be int64 class indices, got dtype {labels.dtype}")
    return images, labels


def classification_accuracy(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 512
) -> float:
    """Fraction of ``images`` whose largest logit is at their label, in evaluation mode.

    Examples
    --------
    >>> net = family_network("standard")
    >>> 0.0 <= classification_accuracy(net, torch.zeros(4, 1, 8, 8), torch.arange(4)) <= 1.0
    True
    """
    images, labels = _check_data("(images, labels)", (images, labels))
    model.eval()
    with torch.no_grad():
        correct = sum(
            (model(images[i : i + batch_size]).argmax(1) == labels[i : i + batch_size]).sum().item()
            for i in range(0, len(labels), batch_size)
        )
    return correct / len(labels)


def recalibrate_batch_norm(model: nn.Module, images: torch.Tensor, batch_size: int = 64) -> None:
    """Set every batch norm's running mean and variance to their averages over ``images`` with the final weights.

    During training the running statistics are an exponential average over batches seen with
    weights that kept changing; after a few epochs they still lag behind the final weights, and the
    network evaluates worse than it trained. One pass over the training images in training mode,
    with the running averages reset and made cumulative (``momentum=None``), replaces them by the
    statistics of the final network (the "precise BN" of Wu and Johnson, 2021). No weight changes.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    try:
        with torch.no_grad():
            for i in range(0, len(images), batch_size):
                model(images[i : i + batch_size])
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum


def train_classifier(
    model: nn.Module, train, test, epochs: int = 5, batch_size: int = 64, lr: float = 0.01, seed: int = 0
) -> TrainingResult:
    """Train ``model`` with minibatch Adam on cross-entropy; return its accuracy on ``test``.

    The minibatches are drawn from a generator seeded with ``seed`` (the model's initial weights
    are the caller's: seed torch before building it). On the CPU, with the same seeds and thread
    count, two runs give the same weights bit for bit.

    Parameters
    ----------
    model : nn.Module
        Maps ``(N, C, H, W)`` images to ``(N, classes)`` logits; trained in place.
    train, test : pair of tensors
        ``(images, labels)``: float images ``(N, C, H, W)``, int64 labels ``(N,)``.
    epochs, batch_size : int
    lr : float
        Adam's learning rate.
    seed : int

    Returns
    -------
    TrainingResult
        ``test_accuracy``, the mean training loss of every epoch, and the wall-clock seconds.

    Examples
    --------
    >>> torch.manual_seed(0) is not None
    True
    >>> x, y = torch.randn(32, 1, 8, 8), torch.arange(32) % 2
    >>> result = train_classifier(family_network("standard", width=4, num_classes=2), (x, y), (x, y), epochs=2)
    >>> len(result.epoch_losses), 0.0 <= result.test_accuracy <= 1.0
    (2, True)
    """
    images, labels = _check_data("train", train)
    test_images, test_labels = _check_data("test", test)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        check_positive_int(None, name, value)
    if check_real(None, "lr", lr) <= 0:
        raise ValueError(f"lr must be positive, got lr={lr!r}")
    check_positive_int(None, "seed", seed, minimum=0)
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    start, losses = time.perf_counter(), []
    for _ in range(epochs):
        model.train()
        order, total = torch.randperm(len(labels), generator=generator), 0.0
        for i in range(0, len(labels), batch_size):
            batch = order[i : i + batch_size]
            optimiser.zero_grad()
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        losses.append(total / len(labels))
    recalibrate_batch_norm(model, images, batch_size)
    test_accuracy = classification_accuracy(model, test_images, test_labels)
    return TrainingResult(test_accuracy, losses, time.perf_counter() - start)


def measure_latencies(models, images: torch.Tensor, rounds: int = 5, repeats: int = 1, clock: str = "cpu") -> dict:
    """Least seconds of a forward pass of ``images`` through each model, timed in interleaved rounds.

    Each model runs in evaluation mode without gradients, timed by
    :func:`conv_tutorial.timing.best_times` (one warm-up pass each, then ``rounds`` rounds of
    ``repeats`` passes in turn). The least, not the median: on a shared machine other processes
    only ever add time, so the fastest run is the closest to the network's own cost; and the
    thread's CPU clock (``clock="cpu"``, for one torch thread) does not count the time other
    processes held the core. Still a measurement of this machine at this moment, not a property
    of the network: report it, never assert on it.

    Parameters
    ----------
    models : mapping of str to nn.Module
    images : Tensor, shape (N, C, H, W)
    rounds, repeats : int
    clock : {"cpu", "wall"}

    Returns
    -------
    dict of str to float
        Seconds per pass, in the order of ``models``.

    Examples
    --------
    >>> times = measure_latencies({"standard": family_network("standard")}, torch.zeros(2, 1, 8, 8), rounds=1)
    >>> list(times), times["standard"] > 0
    (['standard'], True)
    """
    check_positive_int(None, "rounds", rounds)
    check_positive_int(None, "repeats", repeats)
    for model in models.values():
        model.eval()
    with torch.no_grad():
        return best_times(
            {name: (lambda model=model: model(images)) for name, model in models.items()}, rounds, repeats, clock
        )
