"""Pointwise (1x1) convolution in NumPy: ``pointwise_conv2d`` and the loop ``pointwise_conv2d_naive``.

``pointwise_conv2d`` is a thin call of :func:`conv2d` with a 1x1 kernel, and ``pointwise_conv2d_naive``
the loop over pixels that chapter 3 teaches first.

A 1x1 convolution looks at one pixel at a time and mixes its channels: at every pixel the output
vector is ``weight @ input_vector + bias``, the same matrix at every pixel. Over a whole image that
is one matrix product ``(C_out, C_in) @ (C_in, H*W)`` (network in network, Lin et al. 2014).

Chapter 3: ``book/03_pointwise_convolution.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.pointwise`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_conv, check_pointwise_weight
from ._arrays import as_float_arrays, quiet_nonfinite
from .standard import conv2d

__all__ = ["pointwise_conv2d", "pointwise_conv2d_naive"]


@quiet_nonfinite
def pointwise_conv2d(input, weight, bias=None):
    """Pointwise (1x1) convolution: mix the channels of every pixel with one matrix.

    ``out[n, o, h, w] = bias[o] + sum_c weight[o, c] * input[n, c, h, w]``; the same as
    ``conv2d(input, weight.reshape(C_out, C_in, 1, 1), bias)``, which is how it is computed.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    weight : array_like, shape (C_out, C_in) or (C_out, C_in, 1, 1)
        The channel-mixing matrix; the 4D form is PyTorch's ``nn.Conv2d(C_in, C_out, 1).weight``.
    bias : array_like, shape (C_out,), optional

    Returns
    -------
    ndarray, shape (N, C_out, H, W) or (C_out, H, W)
        Integer and boolean input computes in float64; float16/32/64 keep their dtype.

    Shape
    -----
    The spatial size is unchanged: a 1x1 kernel with stride 1 and no padding gives
    ``H_out = H``, ``W_out = W``.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)       # two channels of a 2x2 image
    >>> w = np.array([[1.0, 1.0], [1.0, -1.0]])      # sum and difference of the channels
    >>> pointwise_conv2d(x, w)[0]
    array([[[ 4.,  6.],
            [ 8., 10.]],
    <BLANKLINE>
           [[-4., -4.],
            [-4., -4.]]])
    """
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    return conv2d(x, w.reshape(check_pointwise_weight("pointwise_conv2d", w.shape)), b)


@quiet_nonfinite
def pointwise_conv2d_naive(input, weight, bias=None):
    """:func:`pointwise_conv2d` as a loop over pixels: one matrix-vector product per pixel.

    ``out[:, :, h, w] = input[:, :, h, w] @ weight.T + bias`` for every ``(h, w)``; slow, and
    written to show that a 1x1 convolution never looks at a pixel's neighbours.

    Same parameters, shapes and errors as :func:`pointwise_conv2d`.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
    >>> pointwise_conv2d_naive(x, np.array([[1.0, 1.0]]), bias=np.array([0.5]))
    array([[[[ 4.5,  6.5],
             [ 8.5, 10.5]]]])
    """
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    w = w.reshape(check_pointwise_weight("pointwise_conv2d", w.shape))
    spec = check_conv("pointwise_conv2d", 2, x.shape, w.shape, None if b is None else b.shape)
    x, w_mat = x.reshape(spec.input_shape), w[:, :, 0, 0]
    out = np.zeros(spec.output_shape, dtype=x.dtype)
    for h in range(out.shape[2]):
        for col in range(out.shape[3]):
            out[:, :, h, col] = x[:, :, h, col] @ w_mat.T  # (N, C_in) @ (C_in, C_out)
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return out[0] if spec.unbatched else out
