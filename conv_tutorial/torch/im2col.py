"""Convolution as matrix multiplication in torch: validated ``unfold`` (im2col) and ``fold``
(col2im), and the two matmul engines every torch convolution in this package runs on.

The idea of chapter 2, with torch primitives doing the copying:

- a convolution is ``W @ F.unfold(x)``: every receptive field of the input becomes a column,
  then one matrix product with the weight reshaped to ``(C_out, C_in * kH * kW)``;
- a transposed convolution is ``F.fold(W.T @ y)``: one matrix product makes a column of kernel
  contributions per input pixel, and ``F.fold`` adds the columns back onto the output grid.
  ``fold`` is the adjoint of ``unfold``, which is why the transposed convolution is the adjoint
  (and the input gradient) of the convolution.

Grouped weights are one batched matmul over a group axis, no Python loop over groups. The
engines are plain differentiable torch operations on whatever device the input lives on, so
autograd supplies every backward pass. 1D convolutions run on the same 2D engines with a unit
height axis.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._checks import check_fold, check_unfold
from ..shapes import conv_output_size, conv_transpose_output_size
from ._tensors import common_float_dtype

__all__ = ["fold", "unfold"]


def conv_forward(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation, groups: int) -> torch.Tensor:
    """Grouped 2D convolution ``W @ unfold(x)`` of validated arguments, without bias.

    Parameters
    ----------
    x : Tensor, shape (N, C_in, H, W)
    weight : Tensor, shape (C_out, C_in // groups, kH, kW)
    stride, dilation : tuple of 2 ints
    padding : tuple of 2 (before, after) pairs
        Per axis; ``'same'`` with an even dilated kernel makes them differ.
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out)
    """
    batch, c_in, height, width = x.shape
    c_out, kernel = weight.shape[0], tuple(weight.shape[2:])
    (top, bottom), (left, right) = padding
    if top == bottom and left == right:
        # Symmetric padding is unfold's own: no padded copy of x is made.
        cols = F.unfold(x, kernel, dilation=dilation, padding=(top, left), stride=stride)
    else:
        x = F.pad(x, (left, right, top, bottom))
        cols = F.unfold(x, kernel, dilation=dilation, stride=stride)
    out_h, out_w = conv_output_size((height + top + bottom, width + left + right), kernel, stride, 0, dilation)
    # Explicit sizes, not -1: reshape can't infer a size when the batch is empty.
    rows = (c_in // groups) * math.prod(kernel)
    cols = cols.reshape(batch, groups, rows, out_h * out_w)
    w_mat = weight.reshape(groups, c_out // groups, rows)
    # (g, C_out/g, rows) @ (N, g, rows, L) broadcasts to one batched matmul over (N, g).
    return (w_mat @ cols).reshape(batch, c_out, out_h, out_w)


def conv_transpose_forward(y: torch.Tensor, weight: torch.Tensor, stride, padding, output_padding, dilation,
                           groups: int) -> torch.Tensor:
    """Grouped 2D transposed convolution ``fold(W.T @ y)`` of validated arguments, without bias.

    Parameters
    ----------
    y : Tensor, shape (N, C_in, H, W)
        One window position per pixel: pixel ``i`` spreads the kernel over
        ``i * stride + k * dilation`` on the canvas.
    weight : Tensor, shape (C_in, C_out // groups, kH, kW)
    stride, padding, output_padding, dilation : tuple of 2 ints
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out)
        ``H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1``.
    """
    batch, c_in, height, width = y.shape
    c_out_g, kernel = weight.shape[1], tuple(weight.shape[2:])
    rows = c_out_g * math.prod(kernel)
    # (g, C_out/g * kH * kW, C_in/g): the transposed weight of every group.
    w_t = weight.reshape(groups, c_in // groups, rows).transpose(1, 2)
    cols = (w_t @ y.reshape(batch, groups, c_in // groups, height * width)).reshape(
        batch, groups * rows, height * width)
    # The canvas every pixel's kernel copy reaches. F.fold needs exactly H x W window positions
    # on it, so output_padding (which can exceed the stride when the dilation is larger) is not
    # part of the canvas but added below.
    canvas = conv_transpose_output_size((height, width), kernel, stride, 0, 0, dilation)
    full = F.fold(cols, canvas, kernel, dilation=dilation, stride=stride)
    # Crop `padding` from both sides, then extend the end by output_padding rows and columns that
    # no pixel reaches (zeros); F.pad crops where its widths are negative.
    (ph, pw), (oph, opw) = padding, output_padding
    return F.pad(full, (-pw, opw - pw, -ph, oph - ph))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks into columns (im2col), like ``torch.nn.functional.unfold``.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    kernel_size, dilation, padding, stride : int or tuple of 2 ints

    Returns
    -------
    Tensor, shape (N, C * kh * kw, L) or (C * kh * kw, L)
        Column ``l`` holds the receptive field of output position ``l`` (row-major over
        ``(H_out, W_out)``), rows ordered ``(c, i, j)``. Integer and boolean input gives float64.

    Shape
    -----
    ``L = H_out * W_out`` with ``H_out = floor((H + 2p - d(kh - 1) - 1) / s) + 1`` (same for W).

    Examples
    --------
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> unfold(x, 3).shape
    torch.Size([1, 9, 4])
    """
    dtype = common_float_dtype(input=input)
    spec, _ = check_unfold(input.shape, kernel_size, dilation, padding, stride)
    return F.unfold(input.to(dtype), spec.kernel_size, dilation=spec.dilation, padding=spec.padding,
                    stride=spec.stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns back into an image (col2im), like ``torch.nn.functional.fold``.

    The adjoint of :func:`unfold`: ``<unfold(x), c> == <x, fold(c)>``. Where blocks overlap their
    values are added, so ``fold(unfold(x))`` multiplies each pixel by the number of blocks that
    contain it.

    Parameters
    ----------
    input : Tensor, shape (N, C * kh * kw, L) or (C * kh * kw, L)
    output_size : int or tuple of 2 ints
        Spatial size ``(H, W)`` of the image to rebuild.
    kernel_size, dilation, padding, stride : int or tuple of 2 ints

    Returns
    -------
    Tensor, shape (N, C, H, W) or (C, H, W)

    Shape
    -----
    ``L`` must equal the number of blocks ``H_blocks * W_blocks`` with
    ``H_blocks = floor((H + 2p - d(kh - 1) - 1) / s) + 1`` (same for W).

    Examples
    --------
    >>> x = torch.ones(1, 1, 3, 3)
    >>> fold(unfold(x, 2), 3, 2)[0, 0]
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]])
    """
    dtype = common_float_dtype(input=input)
    spec, out_size, _, _ = check_fold(input.shape, output_size, kernel_size, dilation, padding, stride)
    return F.fold(input.to(dtype), out_size, spec.kernel_size, dilation=spec.dilation, padding=spec.padding,
                  stride=spec.stride)
