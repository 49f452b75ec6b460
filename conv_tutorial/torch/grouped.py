"""Group convolution and channel shuffle from torch primitives (chapter 8), and the blocks built on them.

The module holds ``channel_shuffle``, ``conv2d_by_groups`` (the loop over groups the chapter teaches first)
and the blocks built on grouped convolutions, ``ResNeXtBlock`` (Xie et al., 2017) and ``ShuffleNetUnit``
(ShuffleNet v1, Zhang et al., 2018).

A grouped convolution is :func:`conv_tutorial.torch.conv2d` with ``groups=g`` (one batched matrix
product over the group axis, or for narrow groups one per kernel tap), not a separate function;
:func:`conv2d_by_groups` spells out what that product computes. The blocks hold their weights as
``nn.Parameter`` and run on that ``conv2d``; they work on any device and autograd differentiates
them. The NumPy twin is :mod:`conv_tutorial.numpy.grouped`.

Chapter 8: ``book/08_group_convolution.ipynb``. The NumPy twin: :mod:`conv_tutorial.numpy.grouped`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_channel_shuffle, check_choice, check_conv, check_divisible, check_positive_int
from ._layers import _ConvBN
from ._tensors import common_float_dtype
from .pointwise import Bottleneck
from .standard import conv2d

__all__ = ["ResNeXtBlock", "ShuffleNetUnit", "channel_shuffle", "conv2d_by_groups"]


def channel_shuffle(input, groups):
    """Shuffle the channels of ``(N, C, *)`` across ``groups``, like ``torch.nn.ChannelShuffle``.

    Reshape the channel axis to ``(groups, C / groups)``, swap the two axes, flatten back: output
    channel ``i`` is input channel ``(i % groups) * (C / groups) + i // groups``.

    Parameters
    ----------
    input : Tensor, shape (N, C, *)
        At least 3 dimensions; axis 1 holds the channels.
    groups : int
        Must divide ``C``.

    Returns
    -------
    Tensor, shape (N, C, *)
        Integer and boolean tensors become float64; float16/32/64 keep their dtype.

    Examples
    --------
    >>> channel_shuffle(torch.arange(6.0).reshape(1, 6, 1, 1), 2).flatten()
    tensor([0., 3., 1., 4., 2., 5.])
    """
    dtype = common_float_dtype(input=input)
    shape = check_channel_shuffle(input.shape, groups)
    n, c = shape[:2]
    plane = math.prod(shape[2:])
    # Explicit sizes, not -1: a reshape can't infer a size when the batch is empty.
    blocks = input.to(dtype).reshape(n, groups, c // groups, plane)
    if plane < SMALL_PLANE:  # the same interleaving, one copy per group: each a long loop of short rows
        return torch.stack(blocks.unbind(1), dim=2).reshape(shape)
    # Always a copy (with groups 1 or C the transpose moves nothing, and a reshape would return a view).
    return blocks.transpose(1, 2).clone(memory_format=torch.contiguous_format).reshape(shape)


#: Positions per channel below which :func:`channel_shuffle` copies group by group: PyTorch's copy
#: of the transposed view then loops over ``groups`` rows of a few numbers at a time. ShuffleNet's
#: 960-channel 7x7 shuffle (g = 3, batch 8) took 36 us transposed and 26 us by groups; at 14x14
#: the transposed copy was faster (37 against 40 us).
SMALL_PLANE = 64


def conv2d_by_groups(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """:func:`~conv_tutorial.torch.conv2d` with ``groups=g`` written as ``g`` separate convolutions.

    Split the input channels into ``g`` consecutive blocks of ``C_in / g`` and the filters into
    ``g`` blocks of ``C_out / g``; block ``j`` of filters convolves block ``j`` of channels only,
    and the ``g`` outputs are concatenated along the channel axis. This is the loop the engine
    replaces by one batched matrix product; it is slow for large ``g`` and kept for teaching and
    for the tests.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor, shape (C_out, C_in // groups, kH, kW)
    bias : Tensor, shape (C_out,), optional
    stride, padding, dilation : as in :func:`~conv_tutorial.torch.conv2d`
    groups : int
        Must divide ``C_in`` and ``C_out``.

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``.

    Examples
    --------
    >>> x = torch.arange(4.0).reshape(1, 4, 1, 1)
    >>> conv2d_by_groups(x, torch.ones(2, 2, 1, 1), groups=2).flatten()   # (0 + 1), (2 + 3)
    tensor([1., 5.])
    """
    dtype = common_float_dtype(input=input, weight=weight, bias=bias)
    spec = check_conv(
        "conv2d", 2, input.shape, weight.shape, None if bias is None else bias.shape, stride, padding, dilation, groups
    )
    x, w = input.to(dtype).reshape(spec.input_shape), weight.to(dtype)
    c_in_g, c_out_g = w.shape[1], w.shape[0] // groups
    parts = [
        conv2d(
            x[:, j * c_in_g : (j + 1) * c_in_g],
            w[j * c_out_g : (j + 1) * c_out_g],
            None if bias is None else bias[j * c_out_g : (j + 1) * c_out_g],
            stride,
            padding,
            dilation,
        )
        for j in range(groups)
    ]
    out = torch.cat(parts, dim=1)
    return out[0] if spec.unbatched else out


def _check_positive_ints(**values) -> None:
    for name, value in values.items():
        check_positive_int(None, name, value)


class ResNeXtBlock(Bottleneck):
    """ResNeXt bottleneck block: 1x1 reduce -> 3x3 grouped (``groups = cardinality``) -> 1x1 expand, plus a shortcut.

    The 3x3 layer is ``cardinality`` parallel paths of ``bottleneck_channels / cardinality``
    channels each (the group width ``d``), written as one grouped convolution (Xie et al., 2017,
    Fig. 3c). "ResNeXt-50 (32x4d)" means cardinality 32 and ``d = 4``: the first stage's block is
    256 -> 128 -> 128 (``groups=32``) -> 256, whose three convolutions hold
    ``32 * (256 * 4 + 3 * 3 * 4 * 4 + 4 * 256) = 70,144`` weights. The cardinality is the *number*
    of groups, not the channels per group: passing ``d`` as ``groups`` gives a different network.

    Parameters
    ----------
    in_channels : int
    bottleneck_channels : int
        Width of the grouped 3x3 layer, ``cardinality * d`` (128 for the first stage of 32x4d).
    out_channels : int
    cardinality : int
        Number of groups of the 3x3 layer; must divide ``bottleneck_channels``.
    stride : int
        Applied by the 3x3 layer and the projection, as in torchvision.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, H_out, W_out)`` with
    ``H_out = floor((H - 1) / stride) + 1``. The shortcut is the identity when
    ``in_channels == out_channels`` and ``stride == 1``, otherwise a strided 1x1 convolution with
    batch normalisation.

    Examples
    --------
    >>> block = ResNeXtBlock(256, 128, 256, cardinality=32)
    >>> tuple(block.conv.weight.shape)                 # 32 groups of 4 channels
    (128, 4, 3, 3)
    >>> sum(p.numel() for name, p in block.named_parameters() if p.ndim == 4)
    70144
    >>> block(torch.randn(1, 256, 8, 8)).shape
    torch.Size([1, 256, 8, 8])
    """

    def __init__(
        self, in_channels: int, bottleneck_channels: int, out_channels: int, cardinality: int = 32, stride: int = 1
    ):
        _check_positive_ints(
            in_channels=in_channels,
            bottleneck_channels=bottleneck_channels,
            out_channels=out_channels,
            cardinality=cardinality,
            stride=stride,
        )
        check_divisible(None, "bottleneck_channels", bottleneck_channels, "cardinality", cardinality)
        # A ResNet bottleneck whose 3x3 layer has `cardinality` groups: the block is the same.
        super().__init__(in_channels, bottleneck_channels, out_channels, stride=stride, groups=cardinality)
        self.cardinality = cardinality


class ShuffleNetUnit(nn.Module):
    """ShuffleNet v1 unit: 1x1 group conv -> channel shuffle -> 3x3 depthwise -> 1x1 group conv.

    Zhang et al. (2018), Fig. 2b (stride 1) and 2c (stride 2)::

        stride 1:  out = relu(x + bn(gconv(dwconv(shuffle(relu(bn(gconv(x))))))))
        stride 2:  out = relu(concat(avg_pool_3x3/2(x), bn(gconv(dwconv_/2(shuffle(relu(bn(gconv(x)))))))))

    The depthwise convolution has no ReLU after it, as in the paper. With stride 2 the residual
    branch produces ``out_channels - in_channels`` channels so that the concatenation with the
    pooled input has ``out_channels``.

    Parameters
    ----------
    in_channels, out_channels : int
        With stride 1 they must be equal (the shortcut is an addition).
    groups : int
        Groups of both 1x1 convolutions and of the shuffle (1, 2, 3, 4 or 8 in the paper).
    stride : int
        1 or 2.
    bottleneck_channels : int, optional
        Width of the depthwise layer; by default ``out_channels // 4`` as in the paper. Must be
        divisible by ``groups``.
    first_groups : int, optional
        Groups of the first 1x1 convolution; by default ``groups``. The paper uses 1 for the first
        unit of stage 2, whose input (24 channels) is too narrow to split.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, H_out, W_out)`` with
    ``H_out = floor((H - 1) / stride) + 1``.

    Examples
    --------
    >>> unit = ShuffleNetUnit(240, 240, groups=3)     # stage 2 of ShuffleNet 1x (g = 3)
    >>> unit(torch.randn(1, 240, 8, 8)).shape
    torch.Size([1, 240, 8, 8])
    >>> ShuffleNetUnit(240, 480, groups=3, stride=2)(torch.randn(1, 240, 8, 8)).shape
    torch.Size([1, 480, 4, 4])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        groups: int = 3,
        stride: int = 1,
        bottleneck_channels: int | None = None,
        first_groups: int | None = None,
    ):
        super().__init__()
        _check_positive_ints(in_channels=in_channels, out_channels=out_channels, groups=groups)
        bottleneck_channels = out_channels // 4 if bottleneck_channels is None else bottleneck_channels
        first_groups = groups if first_groups is None else first_groups
        _check_positive_ints(
            in_channels=in_channels,
            out_channels=out_channels,
            groups=groups,
            bottleneck_channels=bottleneck_channels,
            first_groups=first_groups,
        )
        check_choice(None, "stride", check_positive_int(None, "stride", stride), (1, 2))
        if stride == 1 and in_channels != out_channels:
            raise ValueError(
                f"with stride=1 the shortcut adds the input, so out_channels must equal in_channels, got "
                f"in_channels={in_channels} and out_channels={out_channels}"
            )
        branch_channels = out_channels - in_channels if stride == 2 else out_channels
        if branch_channels <= 0:
            raise ValueError(
                f"with stride=2 the input is concatenated, so out_channels must exceed in_channels, got "
                f"in_channels={in_channels} and out_channels={out_channels}"
            )
        check_divisible(None, "bottleneck_channels", bottleneck_channels, "groups", groups)
        if branch_channels % groups:
            raise ValueError(
                f"the last 1x1 group convolution produces {branch_channels} channels "
                f"({'out_channels - in_channels' if stride == 2 else 'out_channels'}), which must be divisible by "
                f"groups={groups}"
            )
        for name, value in (("in_channels", in_channels), ("bottleneck_channels", bottleneck_channels)):
            check_divisible(None, name, value, "first_groups", first_groups)
        self.groups, self.stride = groups, stride
        self.reduce = _ConvBN(in_channels, bottleneck_channels, 1, groups=first_groups)
        self.depthwise = _ConvBN(bottleneck_channels, bottleneck_channels, 3, stride=stride, groups=bottleneck_channels)
        self.expand = _ConvBN(bottleneck_channels, branch_channels, 1, groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, out_channels, H_out, W_out)``: ReLU of shortcut and branch, added (stride 1) or concatenated."""
        out = channel_shuffle(torch.relu(self.reduce(x)), self.groups)
        out = self.expand(self.depthwise(out))
        if self.stride == 1:
            return torch.relu(x + out)
        return torch.relu(torch.cat([F.avg_pool2d(x, 3, stride=2, padding=1), out], dim=1))
