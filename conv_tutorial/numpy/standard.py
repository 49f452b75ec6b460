"""Standard convolution from scratch in NumPy: ``conv1d``, ``conv2d``, ``conv3d``, a loop version, the backward pass.

The loop version ``conv2d_naive`` is the one chapter 1 teaches first; the backward pass is written by hand.

All three fast functions are one N-d engine (:func:`conv_tutorial.numpy.im2col.conv_forward`);
grouped, depthwise and pointwise convolutions are calls of it with arguments, not copies of it.
Semantics are those of ``torch.nn.functional.conv{1,2,3}d`` (cross-correlation, like every deep
learning library: the kernel is not flipped).

Chapters 1 and 11: ``book/01_standard_convolution.ipynb``, ``book/11_3d_convolution.ipynb``. The
torch twin: :mod:`conv_tutorial.torch.standard`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_conv
from ._arrays import as_float_arrays, quiet_nonfinite
from ._flat_engine import conv_forward  # the general engine, with its fast paths in front
from .im2col import conv_transpose_forward, conv_weight_grad, pad_spatial

__all__ = ["conv1d", "conv2d", "conv2d_naive", "conv3d", "conv_backward"]


def _conv(fn, n, input, weight, bias, stride, padding, dilation, groups):
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    spec = check_conv(fn, n, x.shape, w.shape, None if b is None else b.shape, stride, padding, dilation, groups)
    out = conv_forward(x.reshape(spec.input_shape), w, spec)
    if b is not None:
        out += b.reshape(-1, *([1] * n))
    return out[0] if spec.unbatched else out


@quiet_nonfinite
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1D convolution (cross-correlation) over ``(N, C_in, L)``, like ``torch.nn.functional.conv1d``.

    Parameters
    ----------
    input : array_like, shape (N, C_in, L) or (C_in, L)
    weight : array_like, shape (C_out, C_in // groups, k)
    bias : array_like, shape (C_out,), optional
    stride, dilation : int or tuple of 1 int
    padding : int, tuple of 1 int, ``'valid'`` or ``'same'``
    groups : int
        See :func:`conv2d`.

    Returns
    -------
    ndarray, shape (N, C_out, L_out) or (C_out, L_out)

    Shape
    -----
    ``L_out = floor((L + 2 * padding - dilation * (k - 1) - 1) / stride) + 1``.

    Examples
    --------
    >>> conv1d(np.array([[[1.0, 2.0, 3.0, 4.0]]]), np.array([[[1.0, -1.0]]]))
    array([[[-1., -1., -1.]]])
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@quiet_nonfinite
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2D convolution (cross-correlation), like ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    weight : array_like, shape (C_out, C_in // groups, kH, kW)
    bias : array_like, shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``
        Zeros added on each side. ``'same'`` (stride 1 only) pads ``d(k - 1)`` in total, the
        smaller half before, as PyTorch does.
    groups : int
        Split the channels into ``groups`` independent convolutions; ``groups = C_in`` is a
        depthwise convolution.

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)
        Integer and boolean input computes in float64; float16/32/64 keep their dtype.

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 3, 3))
    >>> conv2d(x, w)
    array([[[[45., 54.],
             [81., 90.]]]])
    >>> conv2d(x, w, padding="same").shape
    (1, 1, 4, 4)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@quiet_nonfinite
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3D convolution over ``(N, C_in, D, H, W)``, like ``torch.nn.functional.conv3d``.

    Parameters
    ----------
    input : array_like, shape (N, C_in, D, H, W) or (C_in, D, H, W)
        For a video clip ``D`` is time (frames); for a scan it is the third spatial axis.
    weight : array_like, shape (C_out, C_in // groups, kD, kH, kW)
    bias : array_like, shape (C_out,), optional
    stride, dilation : int or tuple of 3 ints
    padding : int, tuple of 3 ints, ``'valid'`` or ``'same'``
    groups : int
        See :func:`conv2d`.

    Returns
    -------
    ndarray, shape (N, C_out, D_out, H_out, W_out) or (C_out, D_out, H_out, W_out)

    Shape
    -----
    ``D_out = floor((D + 2 * padding - dilation * (kD - 1) - 1) / stride) + 1``, same for ``H``
    and ``W``.

    Examples
    --------
    >>> conv3d(np.ones((1, 2, 3, 3, 3)), np.ones((4, 2, 2, 2, 2))).shape
    (1, 4, 2, 2, 2)
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


@quiet_nonfinite
def conv2d_naive(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """:func:`conv2d` written as loops over every output value: slow, and easy to check by hand.

    ``out[n, o, i, j] = bias[o] + sum over (c, u, v) of
    x_padded[n, g * C_in/g + c, i * s + u * d, j * s + v * d] * weight[o, c, u, v]``
    where ``g = o // (C_out / groups)`` is the group of output channel ``o``.

    Same parameters, shapes and errors as :func:`conv2d`.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d_naive(x, np.ones((1, 1, 3, 3)))
    array([[[[45., 54.],
             [81., 90.]]]])
    """
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    spec = check_conv("conv2d", 2, x.shape, w.shape, None if b is None else b.shape, stride, padding, dilation, groups)
    x = pad_spatial(x.reshape(spec.input_shape), spec.padding)
    batch, c_out, h_out, w_out = spec.output_shape
    c_in_g, kh, kw = w.shape[1:]
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    out = np.zeros(spec.output_shape, dtype=x.dtype)
    for n in range(batch):
        for o in range(c_out):
            first = (o // (c_out // spec.groups)) * c_in_g  # first input channel of o's group
            for i in range(h_out):
                for j in range(w_out):
                    window = x[
                        n,
                        first : first + c_in_g,
                        i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                        j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                    ]
                    out[n, o, i, j] = np.sum(window * w[o])
            if b is not None:
                out[n, o] += b[o]
    return out[0] if spec.unbatched else out


@quiet_nonfinite
def conv_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of a convolution written by hand, for 1, 2 or 3 spatial axes.

    For ``out = conv(input, weight, bias, stride, padding, dilation, groups)`` and a loss ``L``
    with ``grad_output = dL/d out``:

    - ``grad_input = fold(W.T @ grad_output)``: a transposed convolution of ``grad_output``;
    - ``grad_weight = sum over the batch of grad_output @ unfold(input).T``;
    - ``grad_bias = grad_output`` summed over the batch and spatial axes.

    Parameters
    ----------
    grad_output : array_like, shape (N, C_out, *O)
    input : array_like, shape (N, C_in, *S)
    weight : array_like, shape (C_out, C_in // groups, *K)
        The number of spatial axes is ``weight.ndim - 2``.
    stride, padding, dilation, groups : as in :func:`conv2d`

    Returns
    -------
    grad_input : ndarray, shape (N, C_in, *S)
    grad_weight : ndarray, shape (C_out, C_in // groups, *K)
    grad_bias : ndarray, shape (C_out,)

    Examples
    --------
    >>> x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    >>> gx, gw, gb = conv_backward(np.ones((1, 1, 2, 2)), x, w)
    >>> gx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    dy, x, w = as_float_arrays(grad_output=grad_output, input=input, weight=weight)
    n = w.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(f"conv_backward: expected weight of 3, 4 or 5 dimensions, got weight of shape {w.shape}")
    spec = check_conv(f"conv{n}d", n, x.shape, w.shape, None, stride, padding, dilation, groups)
    if dy.shape != spec.output_shape[spec.unbatched :]:
        raise ValueError(
            f"conv_backward: grad_output must have the convolution's output shape "
            f"{spec.output_shape[spec.unbatched :]}, got {dy.shape}"
        )
    x, dy = x.reshape(spec.input_shape), dy.reshape(spec.output_shape)
    padded_spatial = spec.padded_size
    # The input gradient scatters each output gradient back over its receptive field: a fold onto
    # the padded input, cropped by the padding. Its weight is the forward weight with the roles of
    # C_in and C_out swapped, which is the transposed-convolution layout (C_out, C_in // g, *K).
    grad_input = conv_transpose_forward(
        dy, w, spec.groups, spec.kernel_size, spec.stride, spec.dilation, padded_spatial, spec.padding
    )
    grad_weight = conv_weight_grad(x, dy, spec)
    grad_bias = dy.sum(axis=(0, *range(2, 2 + n)))
    if spec.unbatched:
        grad_input = grad_input[0]
    return grad_input, grad_weight, grad_bias
