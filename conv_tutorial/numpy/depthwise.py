"""Depthwise convolution in NumPy (chapter 6): ``depthwise_conv2d`` and the loop ``depthwise_conv2d_by_taps``.

``depthwise_conv2d`` is a thin call of :func:`conv2d` with ``groups = C_in``, and
``depthwise_conv2d_by_taps`` the loop over kernel taps that the chapter prints.

Each input channel is convolved with its own filters (``multiplier`` of them, the channel
multiplier) and no channel is mixed with another. The engine notices one input channel per group
and leaves im2col for its depthwise fast path (:mod:`conv_tutorial.numpy._depthwise_engine`):
one multiply-add per kernel tap over the shifted input, instead of a matmul over columns that
im2col copied. :func:`depthwise_conv2d_by_taps` is what that path computes, written to be read;
the tests hold the two equal. The loop over every output value is :func:`conv2d_naive` with
``groups = C_in``. The torch twin is :mod:`conv_tutorial.torch.depthwise`.

Chapter 6: ``book/06_depthwise_convolution.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.depthwise`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_conv, check_depthwise_weight
from ._arrays import as_float_arrays, quiet_nonfinite
from ._windows import pad_spatial
from .standard import conv2d

__all__ = ["depthwise_conv2d", "depthwise_conv2d_by_taps"]


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


@quiet_nonfinite
def depthwise_conv2d_by_taps(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """:func:`depthwise_conv2d` written as a loop over the kernel's taps: what the fast path computes.

    For each tap ``(i, j)`` of the ``kH x kW`` kernel, every output pixel reads the padded input at
    ``(i * dilation + row * stride, j * dilation + col * stride)``: one strided view of the padded
    input, the input *shifted* by the tap. The convolution adds ``weight[:, 0, i, j]`` times that
    view into the output, one channel's weight per channel::

        out = sum over (i, j) of weight[:, 0, i, j] * x_padded[:, :, i*d : ... : s, j*d : ... : s]

    ``kH * kW`` vectorised multiply-adds and no im2col columns. With a channel multiplier ``m``
    the input's channels are repeated ``m`` times first, so output channel ``c * m + j`` reads
    input channel ``c``.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    weight : array_like, shape (C_in * multiplier, 1, kH, kW)
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
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> depthwise_conv2d_by_taps(x, np.ones((1, 1, 2, 2)))      # four taps, four shifted views
    array([[[[ 8., 12.],
             [20., 24.]]]])
    """
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    multiplier = check_depthwise_weight("depthwise_conv2d_by_taps", x.shape, w.shape)
    spec = check_conv(
        "depthwise_conv2d_by_taps",
        2,
        x.shape,
        w.shape,
        None if b is None else b.shape,
        stride,
        padding,
        dilation,
        groups=x.shape[-3],
    )
    x = np.repeat(pad_spatial(x.reshape(spec.input_shape), spec.padding), multiplier, axis=1)
    (sh, sw), (dh, dw), (h_out, w_out) = spec.stride, spec.dilation, spec.output_size
    out = np.zeros(spec.output_shape, dtype=x.dtype)
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            shifted = x[:, :, i * dh : i * dh + (h_out - 1) * sh + 1 : sh, j * dw : j * dw + (w_out - 1) * sw + 1 : sw]
            out += w[:, 0, i, j, None, None] * shifted
    if b is not None:
        out += b[:, None, None]
    return out[0] if spec.unbatched else out
