"""Depthwise convolution from torch primitives: ``depthwise_conv2d``, a thin call of
:func:`conv2d` with ``groups = C_in``.

Each input channel is convolved with its own filters (``multiplier`` of them, the channel
multiplier) and no channel is mixed with another. Differentiable, on any device.
"""

from __future__ import annotations

import torch  # noqa: F401 (the doctests run in this module's namespace)

from .._checks import check_depthwise_weight
from ._tensors import common_float_dtype
from .standard import conv2d

__all__ = ["depthwise_conv2d"]


def depthwise_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise 2D convolution: every input channel filtered on its own.

    ``out[n, c * m + j] = bias[c * m + j] + input[n, c] ⋆ weight[c * m + j, 0]`` for the
    ``m = C_out / C_in`` filters of channel ``c``; computed as
    ``conv2d(input, weight, bias, stride, padding, dilation, groups=C_in)``.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor, shape (C_in * multiplier, 1, kH, kW)
    bias : Tensor, shape (C_in * multiplier,), optional
    stride, dilation : int or tuple of 2 ints
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``

    Returns
    -------
    Tensor, shape (N, C_in * multiplier, H_out, W_out) or (C_in * multiplier, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``.

    Examples
    --------
    >>> x = torch.stack([torch.ones(3, 3), 2 * torch.ones(3, 3)])[None]
    >>> depthwise_conv2d(x, torch.ones(4, 1, 2, 2)).shape     # channel multiplier 2
    torch.Size([1, 4, 2, 2])
    """
    common_float_dtype(input=input, weight=weight, bias=bias)  # the type checks, before reading shapes
    check_depthwise_weight("depthwise_conv2d", input.shape, weight.shape)
    return conv2d(input, weight, bias, stride, padding, dilation, groups=input.shape[-3])
