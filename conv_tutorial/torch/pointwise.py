"""Pointwise (1x1) convolution from torch primitives, and the ResNet bottleneck block built on it.

- :func:`pointwise_conv2d` -- a thin call of :func:`conv_tutorial.torch.conv2d` with a 1x1 kernel:
  one matrix ``(C_out, C_in)`` mixing the channels of every pixel;
- :class:`Bottleneck` -- ResNet's block (He et al. 2016): 1x1 reduce, 3x3, 1x1 expand, each
  followed by batch normalisation, ReLU after the first two and after the sum with the shortcut.

Chapter 3: ``book/03_pointwise_convolution.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.pointwise`.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_pointwise_weight, check_positive_int
from ._layers import _ConvBN  # the blocks built on the bottleneck import it from here too
from ._tensors import common_float_dtype
from .standard import conv2d

__all__ = ["Bottleneck", "pointwise_conv2d"]


def pointwise_conv2d(input, weight, bias=None):
    """Pointwise (1x1) convolution: mix the channels of every pixel with one matrix.

    ``out[n, o, h, w] = bias[o] + sum_c weight[o, c] * input[n, c, h, w]``; computed as
    ``conv2d(input, weight.reshape(C_out, C_in, 1, 1), bias)``.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor, shape (C_out, C_in) or (C_out, C_in, 1, 1)
        The channel-mixing matrix; the 4D form is PyTorch's ``nn.Conv2d(C_in, C_out, 1).weight``.
    bias : Tensor, shape (C_out,), optional

    Returns
    -------
    Tensor, shape (N, C_out, H, W) or (C_out, H, W)
        On the input's device; differentiable. Integer and boolean tensors compute in float64.

    Shape
    -----
    The spatial size is unchanged: a 1x1 kernel with stride 1 and no padding gives
    ``H_out = H``, ``W_out = W``.

    Examples
    --------
    >>> x = torch.arange(8.0).reshape(1, 2, 2, 2)
    >>> pointwise_conv2d(x, torch.tensor([[1.0, 1.0], [1.0, -1.0]]))[0]
    tensor([[[ 4.,  6.],
             [ 8., 10.]],
    <BLANKLINE>
            [[-4., -4.],
             [-4., -4.]]])
    """
    common_float_dtype(input=input, weight=weight, bias=bias)  # the type checks, before any reshape
    return conv2d(input, weight.reshape(check_pointwise_weight("pointwise_conv2d", weight.shape)), bias)


class Bottleneck(nn.Module):
    """ResNet bottleneck block: 1x1 reduce -> 3x3 -> 1x1 expand, plus a shortcut.

    ``out = relu(bn3(conv1x1_expand(relu(bn2(conv3x3(relu(bn1(conv1x1_reduce(x)))))))) + shortcut(x))``

    The 1x1 layers do the channel bookkeeping so that the 3x3 layer, the only one that looks at
    neighbours, runs on ``mid_channels`` instead of ``in_channels``: for 256 -> 64 -> 64 -> 256
    the three convolutions hold 69,632 weights, against 589,824 for one 3x3 layer 256 -> 256.
    The convolutions have no bias (batch normalisation follows each) and run on
    :func:`conv_tutorial.torch.conv2d`.

    Parameters
    ----------
    in_channels : int
    mid_channels : int
        Width of the 3x3 layer (64 in ResNet-50's first stage).
    out_channels : int
        Usually ``4 * mid_channels``.
    stride : int
        Applied by the 3x3 layer (and the projection), as in torchvision's ResNet ("v1.5"); the
        original paper strides the first 1x1 layer instead, which skips three quarters of the input.
    groups : int
        Groups of the 3x3 layer; more than one makes it a ResNeXt block
        (:class:`~conv_tutorial.torch.ResNeXtBlock`, where it is called the cardinality).

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, H_out, W_out)`` with
    ``H_out = floor((H - 1) / stride) + 1``. The shortcut is the identity when the shapes agree
    (``in_channels == out_channels`` and ``stride == 1``), otherwise a projection: a strided 1x1
    convolution with batch normalisation.

    Examples
    --------
    >>> block = Bottleneck(256, 64, 256)
    >>> sum(p.numel() for name, p in block.named_parameters() if name.endswith("weight") and p.ndim == 4)
    69632
    >>> block(torch.randn(1, 256, 8, 8)).shape
    torch.Size([1, 256, 8, 8])
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, stride: int = 1, groups: int = 1):
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("mid_channels", mid_channels),
            ("out_channels", out_channels),
            ("stride", stride),
            ("groups", groups),
        ):
            check_positive_int(None, name, value)
        if mid_channels % groups:
            raise ValueError(
                f"mid_channels must be divisible by groups, got mid_channels={mid_channels} and groups={groups}"
            )
        self.reduce = _ConvBN(in_channels, mid_channels, 1)
        self.conv = _ConvBN(mid_channels, mid_channels, 3, stride=stride, groups=groups)
        self.expand = _ConvBN(mid_channels, out_channels, 1)
        self.shortcut = (
            nn.Identity()
            if in_channels == out_channels and stride == 1
            else _ConvBN(in_channels, out_channels, 1, stride=stride)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ReLU of the three convolutions' output plus the shortcut: ``(N, out_channels, H_out, W_out)``."""
        out = torch.relu(self.reduce(x))
        out = torch.relu(self.conv(out))
        return torch.relu(self.expand(out) + self.shortcut(x))
