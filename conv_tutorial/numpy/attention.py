"""Channel attention and global pooling from scratch in NumPy.

The module holds ``global_avg_pool2d``, ``global_depthwise_conv2d`` and ``squeeze_excitation``.

All three reduce a feature map ``(N, C, H, W)`` to one number per channel. Global average pooling
weighs every position equally; a global depthwise convolution (GDC, MobileFaceNet) is a depthwise
convolution whose kernel is the size of the map, so it learns one weight per channel *and
position*; squeeze-and-excitation (Hu et al., 2018) pools, passes the ``C`` numbers through a
small two-layer bottleneck, and rescales each channel of the input by the result.

Chapter 13: ``book/13_channel_attention.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.attention`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_global_depthwise, check_global_pool, check_squeeze_excitation
from ._arrays import as_float_arrays, quiet_nonfinite
from .standard import conv2d

__all__ = ["global_avg_pool2d", "global_depthwise_conv2d", "squeeze_excitation"]


@quiet_nonfinite
def global_avg_pool2d(input):
    """Mean over the feature map, like ``torch.nn.functional.adaptive_avg_pool2d(input, 1)``.

    Parameters
    ----------
    input : array_like, shape (N, C, H, W) or (C, H, W)

    Returns
    -------
    ndarray, shape (N, C, 1, 1) or (C, 1, 1)

    Examples
    --------
    >>> global_avg_pool2d(np.arange(8.0).reshape(1, 2, 2, 2)).ravel()
    array([1.5, 5.5])
    """
    (x,) = as_float_arrays(input=input)
    batched, unbatched = check_global_pool(x.shape)
    out = x.reshape(batched).mean(axis=(2, 3), keepdims=True)
    return out[0] if unbatched else out


@quiet_nonfinite
def global_depthwise_conv2d(input, weight, bias=None):
    """Global depthwise convolution (GDC): a depthwise convolution whose kernel covers the whole map.

    ``out[n, c] = bias[c] + sum over (h, w) of weight[c, 0, h, w] * input[n, c, h, w]``: a weighted
    average per channel whose weights depend on the position. It is
    ``conv2d(input, weight, bias, groups=C)`` with a ``H x W`` kernel on a ``H x W`` map; global
    average pooling is the special case ``weight = 1 / (H W)``.

    Parameters
    ----------
    input : array_like, shape (N, C, H, W) or (C, H, W)
    weight : array_like, shape (C, 1, H, W)
        One filter per channel, the size of the feature map.
    bias : array_like, shape (C,), optional

    Returns
    -------
    ndarray, shape (N, C, 1, 1) or (C, 1, 1)

    Shape
    -----
    ``H_out = H - H + 1 = 1``, same for ``W``: one value per channel.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
    >>> global_depthwise_conv2d(x, np.full((2, 1, 2, 2), 0.25)).ravel()   # = global average pooling
    array([1.5, 5.5])
    """
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    check_global_depthwise(x.shape, w.shape, None if b is None else b.shape)
    return conv2d(x, w, b, groups=x.shape[-3])


def _sigmoid(z):
    # exp(-z) overflows to inf for z < -709, and 1 / (1 + inf) = 0 is the right limit.
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-z))


@quiet_nonfinite
def squeeze_excitation(input, w1, b1, w2, b2):
    """Squeeze-and-excitation: reweight each channel by a gate computed from all channels.

    ``s = mean over (H, W) of input`` (squeeze), ``e = sigmoid(w2 @ relu(w1 @ s + b1) + b2)``
    (excitation), ``out = input * e`` per channel (scale). The two products are the 1x1
    convolutions of the block on a 1x1 map, that is matrix products over channels.

    Parameters
    ----------
    input : array_like, shape (N, C, H, W) or (C, H, W)
    w1 : array_like, shape (C_r, C)
        Reduction weight, ``C_r = C / r`` for the reduction ratio ``r`` (16 in Hu et al.).
    b1 : array_like, shape (C_r,), or None
    w2 : array_like, shape (C, C_r)
        Expansion weight.
    b2 : array_like, shape (C,), or None

    Returns
    -------
    ndarray, shape (N, C, H, W) or (C, H, W)
        The input with channel ``c`` of sample ``n`` multiplied by the gate ``e[n, c]`` in (0, 1).

    Examples
    --------
    >>> x = np.ones((1, 2, 3, 3))
    >>> out = squeeze_excitation(x, np.zeros((1, 2)), None, np.zeros((2, 1)), np.array([0.0, 100.0]))
    >>> out[0, :, 0, 0]                                    # gates sigmoid(0) and sigmoid(100)
    array([0.5, 1. ])
    """
    x, w1, b1, w2, b2 = as_float_arrays(input=input, w1=w1, b1=b1, w2=w2, b2=b2)
    batched, unbatched = check_squeeze_excitation(
        x.shape, w1.shape, None if b1 is None else b1.shape, w2.shape, None if b2 is None else b2.shape
    )
    x = x.reshape(batched)
    squeezed = x.mean(axis=(2, 3))  # (N, C)
    hidden = squeezed @ w1.T + (0 if b1 is None else b1)  # (N, C_r)
    gate = _sigmoid(np.maximum(hidden, 0) @ w2.T + (0 if b2 is None else b2))  # (N, C)
    out = x * gate[:, :, None, None]
    return out[0] if unbatched else out
