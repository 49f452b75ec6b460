"""Channel attention and global pooling from torch primitives.

The module holds ``global_avg_pool2d``, ``global_depthwise_conv2d``, ``squeeze_excitation`` and the
``nn.Module`` blocks ``SqueezeExcitation`` and ``GlobalDepthwiseConv2d``.

All reduce a feature map ``(N, C, H, W)`` to one number per channel: global average pooling with
equal weights for every position, a global depthwise convolution (MobileFaceNet's GDC) with one
learned weight per channel and position, and squeeze-and-excitation (Hu et al., 2018) turns the
pooled numbers into per-channel gates that rescale the input. Every function works on any device
and is differentiable.

Chapter 13: ``book/13_channel_attention.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.attention`.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import (
    _positive,
    check_flag,
    check_global_depthwise,
    check_global_pool,
    check_positive_int,
    check_squeeze_excitation,
)
from ._layers import conv_bias, conv_weight
from ._tensors import common_float_dtype
from .standard import conv2d

__all__ = [
    "GlobalDepthwiseConv2d",
    "SqueezeExcitation",
    "global_avg_pool2d",
    "global_depthwise_conv2d",
    "squeeze_excitation",
]


def global_avg_pool2d(input):
    """Mean over the feature map, like ``torch.nn.functional.adaptive_avg_pool2d(input, 1)``.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)

    Returns
    -------
    Tensor, shape (N, C, 1, 1) or (C, 1, 1)

    Examples
    --------
    >>> global_avg_pool2d(torch.arange(8.0).reshape(1, 2, 2, 2)).flatten()
    tensor([1.5000, 5.5000])
    """
    dtype = common_float_dtype(input=input)
    check_global_pool(input.shape)
    return input.to(dtype).mean(dim=(-2, -1), keepdim=True)


def global_depthwise_conv2d(input, weight, bias=None):
    """Global depthwise convolution (GDC): a depthwise convolution whose kernel covers the whole map.

    ``out[n, c] = bias[c] + sum over (h, w) of weight[c, 0, h, w] * input[n, c, h, w]``, computed
    as ``conv2d(input, weight, bias, groups=C)``; global average pooling is the special case
    ``weight = 1 / (H W)``.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    weight : Tensor, shape (C, 1, H, W)
        One filter per channel, the size of the feature map.
    bias : Tensor, shape (C,), optional

    Returns
    -------
    Tensor, shape (N, C, 1, 1) or (C, 1, 1)

    Shape
    -----
    ``H_out = H - H + 1 = 1``, same for ``W``: one value per channel.

    Examples
    --------
    >>> x = torch.arange(8.0).reshape(1, 2, 2, 2)
    >>> global_depthwise_conv2d(x, torch.full((2, 1, 2, 2), 0.25)).flatten()
    tensor([1.5000, 5.5000])
    """
    common_float_dtype(input=input, weight=weight, bias=bias)
    check_global_depthwise(input.shape, weight.shape, None if bias is None else bias.shape)
    return conv2d(input, weight, bias, groups=input.shape[-3])


def squeeze_excitation(input, w1, b1, w2, b2):
    """Squeeze-and-excitation: reweight each channel by a gate computed from all channels.

    ``s = mean over (H, W) of input`` (squeeze), ``e = sigmoid(w2 @ relu(w1 @ s + b1) + b2)``
    (excitation), ``out = input * e`` per channel (scale). The two products are the block's 1x1
    convolutions on a 1x1 map, that is matrix products over channels.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    w1 : Tensor, shape (C_r, C)
        Reduction weight, ``C_r = C / r`` for the reduction ratio ``r`` (16 in Hu et al.).
    b1 : Tensor, shape (C_r,), or None
    w2 : Tensor, shape (C, C_r)
        Expansion weight.
    b2 : Tensor, shape (C,), or None

    Returns
    -------
    Tensor, shape (N, C, H, W) or (C, H, W)

    Examples
    --------
    >>> x = torch.ones(1, 2, 3, 3)
    >>> out = squeeze_excitation(x, torch.zeros(1, 2), None, torch.zeros(2, 1), torch.tensor([0.0, 100.0]))
    >>> out[0, :, 0, 0]
    tensor([0.5000, 1.0000])
    """
    dtype = common_float_dtype(input=input, w1=w1, b1=b1, w2=w2, b2=b2)  # b1 and b2 may be None
    batched, unbatched = check_squeeze_excitation(
        input.shape, w1.shape, None if b1 is None else b1.shape, w2.shape, None if b2 is None else b2.shape
    )
    x = input.to(dtype).reshape(batched)
    hidden = x.mean(dim=(2, 3)) @ w1.to(dtype).T  # (N, C_r)
    if b1 is not None:
        hidden = hidden + b1.to(dtype)
    logits = torch.relu(hidden) @ w2.to(dtype).T  # (N, C)
    if b2 is not None:
        logits = logits + b2.to(dtype)
    out = x * torch.sigmoid(logits)[:, :, None, None]
    return out[0] if unbatched else out


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation block (Hu et al., 2018) on :func:`squeeze_excitation`.

    Two fully connected layers ``fc1: C -> C // reduction`` and ``fc2: C // reduction -> C``
    with biases, ReLU between, sigmoid after. The weights are ``nn.Linear``'s, shapes
    ``(C_r, C)`` and ``(C, C_r)``: the same numbers as torchvision's 1x1 convolutions
    ``fc1.weight[:, :, 0, 0]``.

    Parameters
    ----------
    channels : int
    reduction : int
        Reduction ratio ``r``; ``channels // reduction`` must be at least 1 (16 in the paper).

    Shape
    -----
    Input ``(N, C, H, W)``, output the same shape.

    Examples
    --------
    >>> se = SqueezeExcitation(256, reduction=16)
    >>> tuple(se.fc1.weight.shape), tuple(se.fc2.weight.shape)
    ((16, 256), (256, 16))
    >>> sum(p.numel() for p in se.parameters())      # 2 * 256 * 16 weights + 16 + 256 biases
    8464
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        for name, value in (("channels", channels), ("reduction", reduction)):
            check_positive_int(None, name, value)
        if channels // reduction < 1:
            raise ValueError(
                f"channels // reduction must be at least 1, got channels={channels} and reduction={reduction}"
            )
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(N, C, H, W)``, each channel scaled by its gate: :func:`squeeze_excitation` with ``fc1``, ``fc2``."""
        return squeeze_excitation(x, self.fc1.weight, self.fc1.bias, self.fc2.weight, self.fc2.bias)


class GlobalDepthwiseConv2d(nn.Module):
    """Global depthwise convolution on :func:`global_depthwise_conv2d`: ``(N, C, H, W) -> (N, C, 1, 1)``.

    MobileFaceNet (Chen et al., 2018) replaces global average pooling by this layer on its final
    ``7 x 7 x 512`` map: one learned weight per channel and position, 25,088 weights, so the
    network can weigh the centre of an aligned face differently from its corners.

    Parameters
    ----------
    channels : int
    spatial_size : int or tuple of 2 ints
        ``(H, W)`` of the feature map the layer is built for.
    bias : bool
        Off by default: in MobileFaceNet batch normalisation follows the layer.

    Examples
    --------
    >>> gdc = GlobalDepthwiseConv2d(512, 7)
    >>> tuple(gdc.weight.shape), gdc.weight.numel()
    ((512, 1, 7, 7), 25088)
    >>> gdc(torch.randn(2, 512, 7, 7)).shape
    torch.Size([2, 512, 1, 1])
    """

    def __init__(self, channels: int, spatial_size, bias: bool = False):
        super().__init__()
        check_positive_int(None, "channels", channels)
        size = _positive(spatial_size, 2, "spatial_size")
        check_flag(None, "bias", bias)
        # nn.Conv2d's default initialisation for a depthwise kernel: fan-in H * W.
        self.weight = conv_weight(channels, 1, *size)
        self.bias = conv_bias(channels, size[0] * size[1]) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:func:`global_depthwise_conv2d` of ``x`` with this layer's weights: ``(N, C, H, W) -> (N, C, 1, 1)``."""
        return global_depthwise_conv2d(x, self.weight, self.bias)
