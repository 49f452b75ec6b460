"""Skip and dense connections from torch primitives: ResNet's basic block, DenseNet's layers, and the
two networks built from them.

- :class:`BasicBlock` -- ResNet's block of two 3x3 convolutions with batch normalisation, added to
  a shortcut (He et al. 2016): the identity when the shapes agree, a strided 1x1 projection when
  they do not; ``shortcut=False`` builds the same block without the skip (the "plain" block);
- :class:`DenseLayer`, :class:`DenseBlock`, :class:`Transition` -- DenseNet's parts (Huang et al.
  2017): each layer adds ``growth_rate`` channels and concatenates them to its input, a
  transition compresses the channels with a 1x1 convolution and halves the grid with 2x2 average pooling;
- :func:`resnet`, :func:`resnet18`, :func:`basic_block_net` -- networks of basic blocks, from
  ResNet-18 (11,689,512 parameters) to a narrow stack of any depth for experiments;
- :func:`densenet`, :func:`densenet121` -- DenseNet-BC, DenseNet-121 having 7,978,856 parameters.

The convolutions run on :func:`conv_tutorial.torch.conv2d`; batch normalisation, pooling and the
classifier are torch's modules. Parameter counts equal torchvision's networks of the same names.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from .._checks import check_flag, check_positive_int, check_real
from .pointwise import _ConvBN
from .standard import conv2d

__all__ = [
    "BasicBlock",
    "DenseBlock",
    "DenseLayer",
    "Transition",
    "basic_block_net",
    "densenet",
    "densenet121",
    "resnet",
    "resnet18",
]


def _check_counts(fn, **values) -> None:
    for name, value in values.items():
        check_positive_int(fn, name, value)


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convolutions with batch normalisation, plus a shortcut.

    ``out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``

    The first convolution carries the stride. The shortcut is the identity when the shapes agree
    (``in_channels == out_channels`` and ``stride == 1``); it adds no weights and one addition per
    output value. Otherwise it is a projection: a 1x1 convolution of stride ``stride`` with batch
    normalisation (option B of He et al.). With ``shortcut=False`` the block has no skip at all,
    ``out = relu(bn2(conv2(relu(bn1(conv1(x))))))``: the "plain" block of He et al.'s degradation
    experiment, with the same weights as the residual block when the shapes agree.

    Parameters
    ----------
    in_channels : int
    out_channels : int
    stride : int
        Stride of the first 3x3 convolution (and of the projection).
    shortcut : bool, keyword-only
        ``False`` builds the block without its skip connection.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, H_out, W_out)`` with
    ``H_out = floor((H - 1) / stride) + 1`` (3x3 kernels, padding 1).

    Examples
    --------
    >>> block = BasicBlock(64, 64)
    >>> sum(p.numel() for p in block.parameters())   # 2 * 3*3*64*64 weights + 2 * 128 BN
    73984
    >>> BasicBlock(64, 128, stride=2)(torch.randn(1, 64, 8, 8)).shape
    torch.Size([1, 128, 4, 4])
    >>> type(BasicBlock(64, 128, stride=2).shortcut).__name__, type(block.shortcut).__name__
    ('_ConvBN', 'Identity')
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, *, shortcut: bool = True):
        super().__init__()
        _check_counts("BasicBlock", in_channels=in_channels, out_channels=out_channels, stride=stride)
        check_flag("BasicBlock", "shortcut", shortcut)
        self.conv1 = _ConvBN(in_channels, out_channels, 3, stride=stride)
        self.conv2 = _ConvBN(out_channels, out_channels, 3)
        if not shortcut:
            self.shortcut = None
        elif in_channels == out_channels and stride == 1:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = _ConvBN(in_channels, out_channels, 1, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(torch.relu(self.conv1(x)))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return torch.relu(out)


class _NormReLUConv(nn.Module):
    """Batch normalisation, ReLU, then a bias-free convolution: DenseNet's pre-activation order."""

    def __init__(self, owner: str, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.owner = owner
        self.norm = nn.BatchNorm2d(in_channels)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        nn.init.kaiming_normal_(self.weight)   # as torchvision's DenseNet
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Batch normalisation comes first: say what it expects before torch's own, vaguer, error.
        channels = self.norm.num_features
        if x.ndim != 4 or x.shape[1] != channels:
            raise ValueError(f"{self.owner}: expects input with {channels} channels, of shape (N, {channels}, H, W), "
                             f"but the input has shape {tuple(x.shape)}")
        return conv2d(torch.relu(self.norm(x)), self.weight, padding=self.padding)


class DenseLayer(nn.Module):
    """DenseNet-B layer: BN-ReLU-1x1 conv to ``bn_size * growth_rate`` channels, BN-ReLU-3x3 conv to
    ``growth_rate`` channels, concatenated to the input.

    ``out = cat([x, conv3x3(relu(bn2(conv1x1(relu(bn1(x))))))], dim=1)``

    Parameters
    ----------
    in_channels : int
        ``k0 + l * growth_rate`` for the ``l``-th layer of a block that starts with ``k0`` channels.
    growth_rate : int
        ``k``: the channels the layer adds (32 in DenseNet-121).
    bn_size : int
        The 1x1 bottleneck has ``bn_size * growth_rate`` channels (4k in the paper).

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, in_channels + growth_rate, H, W)``; the first
    ``in_channels`` output channels are the input itself.

    Examples
    --------
    >>> layer = DenseLayer(64, 32)
    >>> layer(torch.randn(1, 64, 8, 8)).shape
    torch.Size([1, 96, 8, 8])
    >>> sum(p.numel() for p in layer.parameters())   # BN 2*64 + 64*128 + BN 2*128 + 9*128*32
    45440
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4):
        super().__init__()
        _check_counts("DenseLayer", in_channels=in_channels, growth_rate=growth_rate, bn_size=bn_size)
        self.bottleneck = _NormReLUConv("DenseLayer", in_channels, bn_size * growth_rate, 1)
        self.conv = _NormReLUConv("DenseLayer", bn_size * growth_rate, growth_rate, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.conv(self.bottleneck(x))], dim=1)


class DenseBlock(nn.Sequential):
    """``num_layers`` dense layers in a row: layer ``l`` (from 0) sees ``in_channels + l * growth_rate``
    channels, the block returns ``in_channels + num_layers * growth_rate``.

    Every layer receives the feature maps of all the layers before it (concatenated), so a block of
    ``L`` layers has ``L (L + 1) / 2`` connections where a plain stack has ``L``.

    Parameters
    ----------
    num_layers : int
    in_channels : int
        ``k0``: the channels entering the block.
    growth_rate : int
        ``k``: the channels each layer adds.
    bn_size : int
        Bottleneck width factor of each layer (:class:`DenseLayer`).

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, in_channels + num_layers * growth_rate, H, W)``;
    the attribute ``out_channels`` holds that number.

    Examples
    --------
    >>> block = DenseBlock(6, 64, 32)   # DenseNet-121's first block
    >>> block.out_channels
    256
    >>> block(torch.randn(1, 64, 4, 4)).shape
    torch.Size([1, 256, 4, 4])
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4):
        _check_counts("DenseBlock", num_layers=num_layers, in_channels=in_channels, growth_rate=growth_rate,
                      bn_size=bn_size)
        super().__init__(*(DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size)
                           for i in range(num_layers)))
        self.out_channels = in_channels + num_layers * growth_rate


class Transition(nn.Module):
    """DenseNet transition: BN-ReLU-1x1 conv to ``out_channels``, then 2x2 average pooling of stride 2.

    With compression ``theta`` (0.5 in DenseNet-BC), ``out_channels = floor(theta * in_channels)``.

    Parameters
    ----------
    in_channels : int
    out_channels : int

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, floor(H / 2), floor(W / 2))``.

    Examples
    --------
    >>> Transition(256, 128)(torch.randn(1, 256, 8, 8)).shape
    torch.Size([1, 128, 4, 4])
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        _check_counts("Transition", in_channels=in_channels, out_channels=out_channels)
        self.conv = _NormReLUConv("Transition", in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.avg_pool2d(self.conv(x), 2)


def _stem(in_channels: int, out_channels: int) -> list[tuple[str, nn.Module]]:
    """ResNet's and DenseNet's stem: 7x7 convolution of stride 2 with BN and ReLU, 3x3 max pooling of stride 2."""
    return [("stem", _ConvBN(in_channels, out_channels, 7, stride=2)), ("relu", nn.ReLU()),
            ("pool", nn.MaxPool2d(3, stride=2, padding=1))]


def _head(channels: int, num_classes: int) -> list[tuple[str, nn.Module]]:
    return [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(channels, num_classes))]


def resnet(layers=(2, 2, 2, 2), num_classes: int = 1000, in_channels: int = 3) -> nn.Sequential:
    """A ResNet of basic blocks: the 7x7 stem, four stages of 64, 128, 256 and 512 channels, a classifier.

    The first block of every stage but the first has stride 2 and a projection shortcut.

    Parameters
    ----------
    layers : sequence of 4 ints
        Blocks per stage: ``(2, 2, 2, 2)`` is ResNet-18, ``(3, 4, 6, 3)`` ResNet-34.
    num_classes : int
    in_channels : int

    Returns
    -------
    nn.Sequential
        Children ``stem, relu, pool, layer1 .. layer4, avgpool, flatten, fc``; each ``layerN`` is an
        ``nn.Sequential`` of :class:`BasicBlock`.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, num_classes)``; the last stage's grid is ``H / 32``.

    Examples
    --------
    >>> sum(p.numel() for p in resnet((3, 4, 6, 3)).parameters())   # ResNet-34
    21797672
    """
    layers = tuple(layers)
    if len(layers) != 4:
        raise ValueError(f"resnet: layers must hold 4 block counts, got layers={layers!r}")
    _check_counts("resnet", num_classes=num_classes, in_channels=in_channels)
    for i, count in enumerate(layers):
        check_positive_int("resnet", f"layers[{i}]", count)
    children, c_in = _stem(in_channels, 64), 64
    for stage, (width, count) in enumerate(zip((64, 128, 256, 512), layers)):
        blocks = []
        for i in range(count):
            blocks.append(BasicBlock(c_in, width, stride=2 if i == 0 and stage > 0 else 1))
            c_in = width
        children.append((f"layer{stage + 1}", nn.Sequential(*blocks)))
    return nn.Sequential(OrderedDict(children + _head(c_in, num_classes)))


def resnet18(num_classes: int = 1000) -> nn.Sequential:
    """ResNet-18 (He et al. 2016): :func:`resnet` with two basic blocks per stage.

    Parameters
    ----------
    num_classes : int

    Returns
    -------
    nn.Sequential
        11,689,512 parameters for 1000 classes, as torchvision's ``resnet18()``.

    Shape
    -----
    Input ``(N, 3, H, W)``, output ``(N, num_classes)``.

    Examples
    --------
    >>> sum(p.numel() for p in resnet18().parameters())
    11689512
    """
    return resnet((2, 2, 2, 2), num_classes=num_classes)


def densenet(block_config=(6, 12, 24, 16), growth_rate: int = 32, num_init_features: int = 64,
             bn_size: int = 4, compression: float = 0.5, num_classes: int = 1000,
             in_channels: int = 3) -> nn.Sequential:
    """DenseNet-BC (Huang et al. 2017): the 7x7 stem, dense blocks separated by compressing transitions.

    Block ``i`` takes ``c`` channels and returns ``c + block_config[i] * growth_rate``; the transition
    after it (none after the last) returns ``floor(compression * channels)`` at half the resolution.
    The last block is followed by batch normalisation, ReLU, global average pooling and a linear layer.

    Parameters
    ----------
    block_config : sequence of ints
        Layers per dense block: ``(6, 12, 24, 16)`` is DenseNet-121, ``(6, 12, 32, 32)`` DenseNet-169.
    growth_rate : int
        ``k``.
    num_init_features : int
        Channels out of the stem (``2k`` in the paper).
    bn_size : int
        Bottleneck width factor of every dense layer.
    compression : float
        ``theta`` in ``(0, 1]``.
    num_classes, in_channels : int

    Returns
    -------
    nn.Sequential
        Children ``stem, relu, pool, block1, transition1, ..., blockN, norm, final_relu, avgpool,
        flatten, fc``.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, num_classes)``.

    Examples
    --------
    >>> sum(p.numel() for p in densenet((6, 12, 32, 32)).parameters())   # DenseNet-169
    14149480
    """
    block_config = tuple(block_config)
    if not block_config:
        raise ValueError("densenet: block_config must hold at least one block, got block_config=()")
    for i, count in enumerate(block_config):
        check_positive_int("densenet", f"block_config[{i}]", count)
    _check_counts("densenet", growth_rate=growth_rate, num_init_features=num_init_features, bn_size=bn_size,
                  num_classes=num_classes, in_channels=in_channels)
    compression = check_real("densenet", "compression", compression)
    if not 0 < compression <= 1:
        raise ValueError(f"densenet: compression must be in (0, 1], got compression={compression!r}")
    children, channels = _stem(in_channels, num_init_features), num_init_features
    for i, num_layers in enumerate(block_config):
        block = DenseBlock(num_layers, channels, growth_rate, bn_size)
        children.append((f"block{i + 1}", block))
        channels = block.out_channels
        if i < len(block_config) - 1:
            out = math.floor(compression * channels)
            if out < 1:
                raise ValueError(f"densenet: compression={compression!r} leaves no channel after block {i + 1} "
                                 f"({channels} channels)")
            children.append((f"transition{i + 1}", Transition(channels, out)))
            channels = out
    children += [("norm", nn.BatchNorm2d(channels)), ("final_relu", nn.ReLU())]
    return nn.Sequential(OrderedDict(children + _head(channels, num_classes)))


def densenet121(num_classes: int = 1000) -> nn.Sequential:
    """DenseNet-121 (Huang et al. 2017): :func:`densenet` with blocks of 6, 12, 24 and 16 layers, k = 32.

    Parameters
    ----------
    num_classes : int

    Returns
    -------
    nn.Sequential
        7,978,856 parameters for 1000 classes, as torchvision's ``densenet121()``.

    Shape
    -----
    Input ``(N, 3, H, W)``, output ``(N, num_classes)``.

    Examples
    --------
    >>> sum(p.numel() for p in densenet121().parameters())
    7978856
    """
    return densenet((6, 12, 24, 16), growth_rate=32, num_init_features=64, num_classes=num_classes)


def basic_block_net(num_blocks: int, channels: int = 16, in_channels: int = 3, num_classes: int = 10,
                    *, shortcut: bool = True) -> nn.Sequential:
    """A narrow network of ``num_blocks`` basic blocks at one width: the degradation experiment's nets.

    A 3x3 convolution with BN and ReLU lifts the input to ``channels``; ``num_blocks`` blocks of
    ``channels`` channels (:class:`BasicBlock`, identity shortcuts, no stride) follow; global average
    pooling and a linear layer classify. With ``shortcut=False`` every block is plain, so the two
    networks of one depth differ only in their skips. The network has ``2 * num_blocks + 2``
    weighted layers.

    Parameters
    ----------
    num_blocks : int
    channels : int
    in_channels, num_classes : int
    shortcut : bool, keyword-only

    Returns
    -------
    nn.Sequential
        Children ``stem, relu, blocks (nn.Sequential), avgpool, flatten, fc``.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, num_classes)``.

    Examples
    --------
    >>> net = basic_block_net(4, channels=8, in_channels=1, num_classes=2, shortcut=False)
    >>> net(torch.randn(5, 1, 6, 6)).shape, len(net.blocks)
    (torch.Size([5, 2]), 4)
    """
    _check_counts("basic_block_net", num_blocks=num_blocks, channels=channels, in_channels=in_channels,
                  num_classes=num_classes)
    check_flag("basic_block_net", "shortcut", shortcut)
    blocks = nn.Sequential(*(BasicBlock(channels, channels, shortcut=shortcut) for _ in range(num_blocks)))
    return nn.Sequential(OrderedDict([("stem", _ConvBN(in_channels, channels, 3)), ("relu", nn.ReLU()),
                                      ("blocks", blocks)] + _head(channels, num_classes)))
