"""Standard convolution from torch primitives: ``conv1d``, ``conv2d`` and ``conv3d``.

All three are one engine (:func:`conv_tutorial.torch.im2col.conv_forward`, ``W @ unfold(x)``),
and grouped, depthwise and pointwise convolutions are calls of it with arguments, not copies of
it. When autograd records the call the engine is ``F.unfold`` and a matrix product: ``conv1d``
runs it over a unit height axis and ``conv3d`` sums it over the kernel's depth taps
(``conv3d_by_depth_taps``); for inference it is one matrix product on a channels-last window
view for any number of axes, with a fast path for depthwise convolutions. Semantics are those of
``torch.nn.functional.conv{1,2,3}d`` (cross-correlation: the kernel is not flipped). Every function
works on any device and is differentiable with respect to input, weight and bias.

Chapters 1 and 11: ``book/01_standard_convolution.ipynb``, ``book/11_3d_convolution.ipynb``. The
NumPy twin: :mod:`conv_tutorial.numpy.standard`.
"""

from __future__ import annotations

import torch

from .._checks import check_conv
from ._tensors import common_float_dtype
from .im2col import conv3d_by_depth_taps, conv_forward

__all__ = ["conv1d", "conv2d", "conv3d", "conv3d_by_depth_taps"]


def _conv(fn, n, input, weight, bias, stride, padding, dilation, groups) -> torch.Tensor:
    dtype = common_float_dtype(input=input, weight=weight, bias=bias)
    spec = check_conv(
        fn, n, input.shape, weight.shape, None if bias is None else bias.shape, stride, padding, dilation, groups
    )
    out = conv_forward(input.to(dtype).reshape(spec.input_shape), weight.to(dtype), spec)
    if bias is not None:
        out = out + bias.to(dtype).reshape(-1, *([1] * n))
    return out[0] if spec.unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1D convolution (cross-correlation), like ``torch.nn.functional.conv1d``.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, L) or (C_in, L)
    weight : Tensor, shape (C_out, C_in // groups, k)
    bias : Tensor, shape (C_out,), optional
    stride, dilation : int or tuple of 1 int
    padding : int, tuple of 1 int, ``'valid'`` or ``'same'``
    groups : int
        See :func:`conv2d`.

    Returns
    -------
    Tensor, shape (N, C_out, L_out) or (C_out, L_out)

    Shape
    -----
    ``L_out = floor((L + 2 * padding - dilation * (k - 1) - 1) / stride) + 1``.

    Examples
    --------
    >>> conv1d(torch.tensor([[[1.0, 2.0, 3.0, 4.0]]]), torch.tensor([[[1.0, -1.0]]]))
    tensor([[[-1., -1., -1.]]])
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2D convolution (cross-correlation), like ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor, shape (C_out, C_in // groups, kH, kW)
    bias : Tensor, shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``
        Zeros added on each side. ``'same'`` (stride 1 only) pads ``d(k - 1)`` in total, the
        smaller half before, as PyTorch does.
    groups : int
        Split the channels into ``groups`` independent convolutions; ``groups = C_in`` is a
        depthwise convolution.

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)
        On the input's device. Integer and boolean tensors compute in float64; float16/32/64
        keep their dtype; mixed float dtypes promote.

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``.

    Examples
    --------
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = torch.ones(1, 1, 3, 3)
    >>> conv2d(x, w)
    tensor([[[[45., 54.],
              [81., 90.]]]])
    >>> conv2d(x, w, padding="same").shape
    torch.Size([1, 1, 4, 4])
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3D convolution (cross-correlation), like ``torch.nn.functional.conv3d``.

    With autograd, computed as a sum over the kernel's depth taps of 2D convolutions
    (``conv3d_by_depth_taps``); for inference, as one matrix product on a window view.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, D, H, W) or (C_in, D, H, W)
        For a video clip ``D`` is time (frames); for a scan it is the third spatial axis.
    weight : Tensor, shape (C_out, C_in // groups, kD, kH, kW)
    bias : Tensor, shape (C_out,), optional
    stride, dilation : int or tuple of 3 ints
    padding : int, tuple of 3 ints, ``'valid'`` or ``'same'``
    groups : int
        See :func:`conv2d`.

    Returns
    -------
    Tensor, shape (N, C_out, D_out, H_out, W_out) or (C_out, D_out, H_out, W_out)

    Shape
    -----
    ``D_out = floor((D + 2 * padding - dilation * (kD - 1) - 1) / stride) + 1``, same for ``H``
    and ``W``.

    Examples
    --------
    >>> conv3d(torch.ones(1, 2, 4, 5, 5), torch.ones(3, 2, 3, 3, 3)).shape
    torch.Size([1, 3, 2, 3, 3])
    >>> conv3d(torch.ones(1, 1, 3, 3, 3), torch.ones(1, 1, 3, 3, 3)).flatten()
    tensor([27.])
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)
