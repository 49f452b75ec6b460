"""Depthwise convolution from torch primitives (chapter 6): ``depthwise_conv2d`` and a loop over kernel taps.

``depthwise_conv2d`` is a thin call of :func:`conv2d` with ``groups = C_in``, and ``depthwise_conv2d_by_taps``
the loop over kernel taps.

Each input channel is convolved with its own filters (``multiplier`` of them, the channel
multiplier) and no channel is mixed with another. Differentiable, on any device. The NumPy twin
is :mod:`conv_tutorial.numpy.depthwise`.

Chapter 6: ``book/06_depthwise_convolution.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.depthwise`.
"""

from __future__ import annotations

import torch

from .._checks import check_conv, check_depthwise_weight
from ._tensors import common_float_dtype
from .standard import conv2d

__all__ = ["depthwise_conv2d", "depthwise_conv2d_by_taps"]


def depthwise_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise 2D convolution: every input channel filtered on its own.

    ``out[n, c * m + j] = bias[c * m + j] + input[n, c] ⋆ weight[c * m + j, 0]`` for the
    ``m = C_out / C_in`` filters of channel ``c``; computed as
    ``conv2d(input, weight, bias, stride, padding, dilation, groups=C_in)``.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor, shape (C_in * multiplier, 1, kH, kW)
        ``multiplier`` filters per input channel, PyTorch's
        ``nn.Conv2d(C_in, C_in * multiplier, k, groups=C_in).weight``.
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


def depthwise_conv2d_by_taps(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """:func:`depthwise_conv2d` written as a loop over the kernel's taps.

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
    >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
    >>> depthwise_conv2d_by_taps(x, torch.ones(1, 1, 2, 2))      # four taps, four shifted views
    tensor([[[[ 8., 12.],
              [20., 24.]]]])
    """
    dtype = common_float_dtype(input=input, weight=weight, bias=bias)
    multiplier = check_depthwise_weight("depthwise_conv2d_by_taps", input.shape, weight.shape)
    spec = check_conv(
        "depthwise_conv2d_by_taps",
        2,
        input.shape,
        weight.shape,
        None if bias is None else bias.shape,
        stride,
        padding,
        dilation,
        groups=input.shape[-3],
    )
    (top, bottom), (left, right) = spec.padding
    x = torch.nn.functional.pad(input.to(dtype).reshape(spec.input_shape), (left, right, top, bottom))
    x, w = x.repeat_interleave(multiplier, dim=1), weight.to(dtype)
    (sh, sw), (dh, dw), (h_out, w_out) = spec.stride, spec.dilation, spec.output_size
    out = x.new_zeros(spec.output_shape)
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            shifted = x[:, :, i * dh : i * dh + (h_out - 1) * sh + 1 : sh, j * dw : j * dw + (w_out - 1) * sw + 1 : sw]
            out = out + w[:, 0, i, j, None, None] * shifted
    if bias is not None:
        out = out + bias.to(dtype)[:, None, None]
    return out[0] if spec.unbatched else out
