"""Depthwise convolution in NumPy: ``depthwise_conv2d``, a thin call of :func:`conv2d` with
``groups = C_in``.

Each input channel is convolved with its own filters (``multiplier`` of them, the channel
multiplier) and no channel is mixed with another. The engine notices one input channel per group
and takes its depthwise path (:func:`conv_tutorial.numpy.im2col.conv_forward`): one multiply-add
per kernel tap over the shifted input, instead of a matmul over columns that im2col copied.
The loop version is :func:`conv2d_naive` with ``groups = C_in``.
"""

from __future__ import annotations

from .._checks import check_depthwise_weight
from ._arrays import as_float_arrays, quiet_nonfinite
from .standard import conv2d

__all__ = ["depthwise_conv2d"]


@quiet_nonfinite
def depthwise_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise 2D convolution: every input channel filtered on its own.

    ``out[n, c * m + j] = bias[c * m + j] + input[n, c] ⋆ weight[c * m + j, 0]`` for the
    ``m = C_out / C_in`` filters of channel ``c`` (``⋆`` is cross-correlation); the same as
    ``conv2d(input, weight, bias, stride, padding, dilation, groups=C_in)``, which is how it is
    computed.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    weight : array_like, shape (C_in * multiplier, 1, kH, kW)
        ``multiplier`` filters per input channel, PyTorch's
        ``nn.Conv2d(C_in, C_in * multiplier, k, groups=C_in).weight``.
    bias : array_like, shape (C_in * multiplier,), optional
    stride, dilation : int or tuple of 2 ints
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``

    Returns
    -------
    ndarray, shape (N, C_in * multiplier, H_out, W_out) or (C_in * multiplier, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))])[None]   # two channels
    >>> w = np.ones((2, 1, 2, 2))                                     # one 2x2 filter each
    >>> depthwise_conv2d(x, w)[0]
    array([[[4., 4.],
            [4., 4.]],
    <BLANKLINE>
           [[8., 8.],
            [8., 8.]]])
    """
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    check_depthwise_weight("depthwise_conv2d", x.shape, w.shape)
    return conv2d(x, w, b, stride, padding, dilation, groups=x.shape[-3])
