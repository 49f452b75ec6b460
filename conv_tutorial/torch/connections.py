"""Skip and dense connections from torch primitives.

The module holds ResNet's basic block, DenseNet's layers, and the two networks built from them.

- :class:`BasicBlock` -- ResNet's block of two 3x3 convolutions with batch normalisation, added to
  a shortcut (He et al. 2016): the identity when the shapes agree, a strided 1x1 projection when
  they do not; ``shortcut=False`` builds the same block without the skip (the "plain" block);
- :class:`DenseLayer`, :class:`DenseBlock`, :class:`Transition` -- DenseNet's parts (Huang et al.
  2017): each layer adds ``growth_rate`` channels and concatenates them to its input, a
  transition compresses the channels with a 1x1 convolution and halves the grid with 2x2 average pooling;
- :func:`resnet`, :func:`resnet18`, :func:`basic_block_net` -- networks of basic blocks, from
  ResNet-18 (11,689,512 parameters) to a narrow stack of any depth for experiments;
- :func:`densenet`, :func:`densenet121` -- DenseNet-BC, DenseNet-121 having 7,978,856 parameters;
- :func:`residual_block`, :func:`dense_layer`, :func:`dense_block`, :func:`transition` -- the blocks
  at inference as functions of their weights (a module's ``state_dict()``), the twins of the NumPy
  backend's.

The convolutions run on :func:`conv_tutorial.torch.conv2d`; batch normalisation, pooling and the
classifier are torch's modules. Parameter counts equal torchvision's networks of the same names.

Chapter 15: ``book/15_skip_and_dense_connections.ipynb``. The NumPy twin (the same four functions;
no modules): :mod:`conv_tutorial.numpy.connections`.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from .._checks import (
    _check_image_batch,
    check_flag,
    check_instance,
    check_int_sequence,
    check_key,
    check_positive_int,
    check_real,
)
from ._tensors import common_float_dtype
from .normalization import batch_norm
from .pointwise import _ConvBN
from .standard import conv2d

__all__ = [
    "BasicBlock",
    "DenseBlock",
    "DenseLayer",
    "Transition",
    "basic_block_net",
    "dense_block",
    "dense_layer",
    "densenet",
    "densenet121",
    "residual_block",
    "resnet",
    "resnet18",
    "transition",
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
        nn.init.kaiming_normal_(self.weight)  # as torchvision's DenseNet
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Batch normalisation comes first: say what it expects before torch's own, vaguer, error.
        channels = self.norm.num_features
        if x.ndim != 4 or x.shape[1] != channels:
            raise ValueError(
                f"{self.owner}: expects input with {channels} channels, of shape (N, {channels}, H, W), "
                f"but the input has shape {tuple(x.shape)}"
            )
        return conv2d(torch.relu(self.norm(x)), self.weight, padding=self.padding)


class DenseLayer(nn.Module):
    """DenseNet-B layer: BN-ReLU-1x1 conv, BN-ReLU-3x3 conv, the result concatenated to the input.

    The 1x1 convolution makes ``bn_size * growth_rate`` channels, the 3x3 one ``growth_rate`` channels.

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
    """``num_layers`` dense layers in a row; the block returns ``in_channels + num_layers * growth_rate`` channels.

    Layer ``l`` (from 0) sees ``in_channels + l * growth_rate`` channels.

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
        _check_counts(
            "DenseBlock", num_layers=num_layers, in_channels=in_channels, growth_rate=growth_rate, bn_size=bn_size
        )
        super().__init__(*(DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size) for i in range(num_layers)))
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
    return [
        ("stem", _ConvBN(in_channels, out_channels, 7, stride=2)),
        ("relu", nn.ReLU()),
        ("pool", nn.MaxPool2d(3, stride=2, padding=1)),
    ]


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
    layers = check_int_sequence("resnet", "layers", layers, 4, 4, item="block count")
    _check_counts("resnet", num_classes=num_classes, in_channels=in_channels)
    children, c_in = _stem(in_channels, 64), 64
    for stage, (width, count) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
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


def densenet(
    block_config=(6, 12, 24, 16),
    growth_rate: int = 32,
    num_init_features: int = 64,
    bn_size: int = 4,
    compression: float = 0.5,
    num_classes: int = 1000,
    in_channels: int = 3,
) -> nn.Sequential:
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
    block_config = check_int_sequence("densenet", "block_config", block_config, 1, item="block")
    _check_counts(
        "densenet",
        growth_rate=growth_rate,
        num_init_features=num_init_features,
        bn_size=bn_size,
        num_classes=num_classes,
        in_channels=in_channels,
    )
    compression = check_real("densenet", "compression", compression, 0, 1, exclusive_minimum=True)
    children, channels = _stem(in_channels, num_init_features), num_init_features
    for i, num_layers in enumerate(block_config):
        block = DenseBlock(num_layers, channels, growth_rate, bn_size)
        children.append((f"block{i + 1}", block))
        channels = block.out_channels
        if i < len(block_config) - 1:
            out = math.floor(compression * channels)
            if out < 1:
                raise ValueError(
                    f"densenet: compression={compression!r} leaves no channel after block {i + 1} ({channels} channels)"
                )
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


def basic_block_net(
    num_blocks: int, channels: int = 16, in_channels: int = 3, num_classes: int = 10, *, shortcut: bool = True
) -> nn.Sequential:
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
    _check_counts(
        "basic_block_net", num_blocks=num_blocks, channels=channels, in_channels=in_channels, num_classes=num_classes
    )
    check_flag("basic_block_net", "shortcut", shortcut)
    blocks = nn.Sequential(*(BasicBlock(channels, channels, shortcut=shortcut) for _ in range(num_blocks)))
    return nn.Sequential(
        OrderedDict(
            [("stem", _ConvBN(in_channels, channels, 3)), ("relu", nn.ReLU()), ("blocks", blocks)]
            + _head(channels, num_classes)
        )
    )


# --- The blocks as functions of their weights: the twins of conv_tutorial.numpy.connections -----------------------


def _param(fn, params, key, like):
    value = check_instance(fn, f"params[{key!r}]", check_key(fn, "params", params, key), torch.Tensor)
    return value.to(device=like.device, dtype=like.dtype)


def _norm(fn, params, prefix, x, eps):
    stats = {
        name: _param(fn, params, f"{prefix}norm.{name}", x)
        for name in ("running_mean", "running_var", "weight", "bias")
    }
    return batch_norm(x, eps=eps, **stats)


def _conv_norm(fn, params, prefix, x, stride, eps):
    """Convolution (no bias, padding k // 2) then batch normalisation: a ResNet unit."""
    weight = _param(fn, params, f"{prefix}weight", x)
    return _norm(fn, params, prefix, conv2d(x, weight, stride=stride, padding=weight.shape[-1] // 2), eps)


def _norm_relu_conv(fn, params, prefix, x, eps):
    """Batch normalisation, ReLU, then a convolution (no bias, padding k // 2): a DenseNet unit."""
    weight = _param(fn, params, f"{prefix}weight", x)
    return conv2d(torch.relu(_norm(fn, params, prefix, x, eps)), weight, padding=weight.shape[-1] // 2)


def _batched(fn, input):
    dtype = common_float_dtype(input=input)
    batched, unbatched = _check_image_batch(fn, input.shape)
    return input.to(dtype).reshape(batched), unbatched


def residual_block(input, params, stride=1, shortcut=True, eps=1e-5):
    """ResNet basic block at inference: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    Both convolutions are 3x3 with padding 1; the first has stride ``stride``. The shortcut is the
    identity when ``params`` holds no ``shortcut.weight``, otherwise a projection
    ``bn(conv1x1(x, stride))``. With ``shortcut=False`` nothing is added: the plain block.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    params : mapping of str to Tensor
        The keys of :class:`conv_tutorial.torch.BasicBlock`'s ``state_dict()``: ``conv1.weight``
        ``(C_out, C_in, 3, 3)``, ``conv2.weight`` ``(C_out, C_out, 3, 3)``, and for each of
        ``conv1.norm``, ``conv2.norm`` the vectors ``.weight``, ``.bias``, ``.running_mean``,
        ``.running_var`` of shape ``(C_out,)``; for a projection also ``shortcut.weight``
        ``(C_out, C_in, 1, 1)`` and ``shortcut.norm.*``. Other keys are ignored.
    stride : int
    shortcut : bool
        ``False`` for the block without its skip.
    eps : float
        Batch normalisation's epsilon.

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H - 1) / stride) + 1``, same for ``W``. An identity shortcut needs
    ``C_out == C_in`` and ``stride == 1``.

    Examples
    --------
    >>> block = BasicBlock(4, 8, stride=2).eval()
    >>> x = torch.randn(2, 4, 6, 6)
    >>> torch.allclose(residual_block(x, block.state_dict(), stride=2), block(x), atol=1e-6)
    True
    """
    fn = "residual_block"
    x, unbatched = _batched(fn, input)
    shortcut = check_flag(fn, "shortcut", shortcut)
    out = torch.relu(_conv_norm(fn, params, "conv1.", x, stride, eps))
    out = _conv_norm(fn, params, "conv2.", out, 1, eps)
    if shortcut and "shortcut.weight" in params:
        out = out + _conv_norm(fn, params, "shortcut.", x, stride, eps)
    elif shortcut:
        if out.shape != x.shape:
            raise ValueError(
                f"{fn}: an identity shortcut needs the block to keep the input's shape, but it maps "
                f"{tuple(x.shape)} to {tuple(out.shape)} (stride={stride}); a projection needs params "
                f"'shortcut.weight' and 'shortcut.norm.*'"
            )
        out = out + x
    out = torch.relu(out)
    return out[0] if unbatched else out


def dense_layer(input, params, eps=1e-5):
    """DenseNet-B layer at inference: ``cat([x, conv3x3(relu(bn2(conv1x1(relu(bn1(x))))))])``.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    params : mapping of str to Tensor
        The keys of :class:`conv_tutorial.torch.DenseLayer`'s ``state_dict()``: ``bottleneck.weight``
        ``(B, C, 1, 1)`` with its ``bottleneck.norm.*`` vectors of shape ``(C,)``, and ``conv.weight``
        ``(k, B, 3, 3)`` with ``conv.norm.*`` of shape ``(B,)``; ``B = bn_size * k``.
    eps : float

    Returns
    -------
    Tensor, shape (N, C + k, H, W) or (C + k, H, W)
        The input, then the ``k`` new channels.

    Examples
    --------
    >>> layer = DenseLayer(4, 2).eval()
    >>> x = torch.randn(2, 4, 5, 5)
    >>> out = dense_layer(x, layer.state_dict())
    >>> out.shape, torch.allclose(out, layer(x), atol=1e-6)
    (torch.Size([2, 6, 5, 5]), True)
    """
    fn = "dense_layer"
    x, unbatched = _batched(fn, input)
    new = _norm_relu_conv(fn, params, "conv.", _norm_relu_conv(fn, params, "bottleneck.", x, eps), eps)
    out = torch.cat([x, new.to(x.dtype)], dim=1)
    return out[0] if unbatched else out


def dense_block(input, layers, eps=1e-5):
    """DenseNet block at inference: :func:`dense_layer` after :func:`dense_layer`, each seeing all before it.

    Parameters
    ----------
    input : Tensor, shape (N, k0, H, W) or (k0, H, W)
    layers : sequence of mappings
        The parameters of each layer (see :func:`dense_layer`); layer ``l`` (from 0) takes
        ``k0 + l * k`` channels.
    eps : float

    Returns
    -------
    Tensor, shape (N, k0 + L * k, H, W) or (k0 + L * k, H, W)
        ``L = len(layers)``.

    Examples
    --------
    >>> block = DenseBlock(3, 4, 2).eval()
    >>> x = torch.randn(2, 4, 5, 5)
    >>> out = dense_block(x, [layer.state_dict() for layer in block])
    >>> out.shape, torch.allclose(out, block(x), atol=1e-6)
    (torch.Size([2, 10, 5, 5]), True)
    """
    x = input
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__") or len(layers) == 0:
        raise ValueError(f"dense_block: layers must be a non-empty sequence of parameter mappings, got {layers!r:.80}")
    for params in layers:
        x = dense_layer(x, params, eps)
    return x


def transition(input, params, eps=1e-5):
    """DenseNet transition at inference: BN-ReLU-1x1 convolution, then 2x2 average pooling of stride 2.

    The pooling is computed as what it is, a depthwise convolution whose 2x2 weights are all 1/4.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    params : mapping of str to Tensor
        The keys of :class:`conv_tutorial.torch.Transition`'s ``state_dict()``: ``conv.weight``
        ``(C_out, C, 1, 1)`` and the ``conv.norm.*`` vectors of shape ``(C,)``.
    eps : float

    Returns
    -------
    Tensor, shape (N, C_out, floor(H / 2), floor(W / 2)) or (C_out, floor(H / 2), floor(W / 2))

    Examples
    --------
    >>> module = Transition(4, 2).eval()
    >>> x = torch.randn(2, 4, 6, 6)
    >>> out = transition(x, module.state_dict())
    >>> out.shape, torch.allclose(out, module(x), atol=1e-6)
    (torch.Size([2, 2, 3, 3]), True)
    """
    fn = "transition"
    x, unbatched = _batched(fn, input)
    out = _norm_relu_conv(fn, params, "conv.", x, eps)
    if min(out.shape[2:]) < 2:
        raise ValueError(f"{fn}: 2x2 average pooling needs a map of at least 2x2, got input of shape {tuple(x.shape)}")
    channels = out.shape[1]
    out = conv2d(
        out, torch.full((channels, 1, 2, 2), 0.25, dtype=out.dtype, device=out.device), stride=2, groups=channels
    )
    return out[0] if unbatched else out
