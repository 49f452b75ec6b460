"""Transposed convolution from torch primitives: ``conv_transpose1d``, ``conv_transpose2d``, ``conv_transpose3d``.

A transposed convolution scatters each input pixel, multiplied by the kernel, onto the output
grid at ``stride`` spacing and adds where the copies overlap: ``F.fold(W.T @ y)``
(:func:`conv_tutorial.torch.im2col.conv_transpose_forward`), then ``padding`` is cropped. It is
the adjoint of the convolution with the same arguments, so it maps the convolution's output
shape back to its input shape; ``output_padding`` picks among the input sizes a strided
convolution maps onto the same output size. ``conv_transpose1d`` runs the 2D engine over a unit
height axis; ``conv_transpose3d`` is the adjoint of ``conv3d``'s sum over depth taps, a sum over
depth taps of 2D transposed convolutions (``conv_transpose3d_by_depth_taps``). Semantics
are those of ``torch.nn.functional.conv_transpose{1,2,3}d`` (note ``groups`` comes before
``dilation``); any device, differentiable.

Chapter 10: ``book/10_transposed_convolution.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.transposed`.
"""

from __future__ import annotations

import torch

from .._checks import check_conv_transpose
from ._tensors import common_float_dtype
from .im2col import conv_transpose3d_by_depth_taps, conv_transpose_forward

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_transpose3d_by_depth_taps"]


def _conv_transpose(fn, n, input, weight, bias, stride, padding, output_padding, groups, dilation) -> torch.Tensor:
    dtype = common_float_dtype(input=input, weight=weight, bias=bias)
    spec = check_conv_transpose(
        fn,
        n,
        input.shape,
        weight.shape,
        None if bias is None else bias.shape,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )
    out = conv_transpose_forward(input.to(dtype).reshape(spec.input_shape), weight.to(dtype), spec)
    if bias is not None:
        out = out + bias.to(dtype).reshape(-1, *([1] * n))
    return out[0] if spec.unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1D transposed convolution, like ``torch.nn.functional.conv_transpose1d``.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, L) or (C_in, L)
    weight : Tensor, shape (C_in, C_out // groups, k)
    bias : Tensor, shape (C_out,), optional
    stride, padding, output_padding, dilation : int or tuple of 1 int
    groups : int
        See :func:`conv_transpose2d`.

    Returns
    -------
    Tensor, shape (N, C_out, L_out) or (C_out, L_out)

    Shape
    -----
    ``L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Examples
    --------
    >>> conv_transpose1d(torch.tensor([[[1.0, 2.0]]]), torch.ones(1, 1, 3), stride=2)
    tensor([[[1., 1., 3., 2., 2.]]])
    """
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2D transposed convolution, like ``torch.nn.functional.conv_transpose2d``.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor, shape (C_in, C_out // groups, kH, kW)
        PyTorch's transposed layout: input channels first.
    bias : Tensor, shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints
    padding : int or tuple of 2 ints
        The padding of the convolution this one transposes: ``padding`` pixels are cropped from
        each side of the full output.
    output_padding : int or tuple of 2 ints
        Extra rows/columns added at the end of the output; must be smaller than ``stride`` or
        ``dilation``.
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)
        On the input's device, with the dtype rules of :func:`conv_tutorial.torch.conv2d`.

    Shape
    -----
    ``H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1``, same for ``W``.

    Examples
    --------
    >>> y = torch.ones(1, 1, 2, 2)
    >>> conv_transpose2d(y, torch.ones(1, 1, 3, 3), stride=2)[0, 0]
    tensor([[1., 1., 2., 1., 1.],
            [1., 1., 2., 1., 1.],
            [2., 2., 4., 2., 2.],
            [1., 1., 2., 1., 1.],
            [1., 1., 2., 1., 1.]])
    """
    return _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3D transposed convolution, like ``torch.nn.functional.conv_transpose3d``.

    Computed as the adjoint of :func:`conv_tutorial.torch.conv3d`: a sum over the kernel's depth
    taps of 2D transposed convolutions (``conv_transpose3d_by_depth_taps``).

    Parameters
    ----------
    input : Tensor, shape (N, C_in, D, H, W) or (C_in, D, H, W)
    weight : Tensor, shape (C_in, C_out // groups, kD, kH, kW)
    bias : Tensor, shape (C_out,), optional
    stride, padding, output_padding, dilation : int or tuple of 3 ints
    groups : int
        See :func:`conv_transpose2d`.

    Returns
    -------
    Tensor, shape (N, C_out, D_out, H_out, W_out) or (C_out, D_out, H_out, W_out)

    Shape
    -----
    ``D_out = (D - 1) * stride - 2 * padding + dilation * (kD - 1) + output_padding + 1``, same
    for ``H`` and ``W``.

    Examples
    --------
    >>> conv_transpose3d(torch.ones(1, 2, 2, 2, 2), torch.ones(2, 3, 3, 3, 3), stride=2).shape
    torch.Size([1, 3, 5, 5, 5])
    """
    return _conv_transpose(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation
    )
