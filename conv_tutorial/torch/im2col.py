"""Convolution as matrix multiplication in torch (chapter 2): validated ``unfold`` and ``fold``, and matmul engines.

``unfold`` is im2col and ``fold`` col2im; every torch convolution in this package runs on those engines.

The idea of chapter 2, with torch primitives doing the copying:

- a convolution is ``W @ F.unfold(x)``: every receptive field of the input becomes a column,
  then one matrix product with the weight reshaped to ``(C_out, C_in * kH * kW)``;
- a transposed convolution is ``F.fold(W.T @ y)``: one matrix product makes a column of kernel
  contributions per input pixel, and ``F.fold`` adds the columns back onto the output grid.
  ``fold`` is the adjoint of ``unfold``, which is why the transposed convolution is the adjoint
  (and the input gradient) of the convolution.

The twin of :mod:`conv_tutorial.numpy.im2col`: :func:`conv_forward` takes the same validated
:class:`~conv_tutorial.shapes.ConvGeometry` as the NumPy engine and works for 1, 2 or 3 spatial
axes. ``F.unfold`` handles two, so a 1D convolution runs the 2D engine (:func:`conv2d_forward`)
over a unit height axis and a 3D one sums it over the kernel's depth taps
(:func:`conv3d_by_depth_taps`, chapter 11); the transposed engines
(:func:`conv_transpose_forward`) mirror them. Grouped weights are one batched matmul over a
group axis, no Python loop over groups. The engines are plain differentiable torch operations on
whatever device the input lives on, so autograd supplies every backward pass.

Chapter 2: ``book/02_convolution_as_matmul.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.im2col`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._checks import check_fold, check_unfold
from ..shapes import conv_axis_size, conv_output_size, conv_transpose_axis_size, conv_transpose_output_size
from ._tensors import common_float_dtype

__all__ = ["fold", "unfold"]


def conv_forward(x: torch.Tensor, weight: torch.Tensor, spec) -> torch.Tensor:
    """Grouped N-d convolution ``W @ unfold(x)`` for a validated :class:`~conv_tutorial.shapes.ConvGeometry`.

    ``x`` is ``(N, C_in, *S)`` (batched, 1 to 3 spatial axes), ``weight`` ``(C_out, C_in // g, *K)``;
    returns ``(N, C_out, *O)`` without bias, like :func:`conv_tutorial.numpy.im2col.conv_forward`.
    """
    stride, padding, dilation, groups = spec.stride, spec.padding, spec.dilation, spec.groups
    if len(stride) == 3:
        return conv3d_by_depth_taps(x, weight, stride, padding, dilation, groups)
    if len(stride) == 1:  # a 1D convolution is a 2D one over a unit height axis: one engine, not a copy
        out = conv2d_forward(
            x.unsqueeze(2), weight.unsqueeze(2), (1, *stride), ((0, 0), *padding), (1, *dilation), groups
        )
        return out.squeeze(2)
    return conv2d_forward(x, weight, stride, padding, dilation, groups)


def conv_transpose_forward(y: torch.Tensor, weight: torch.Tensor, spec) -> torch.Tensor:
    """Grouped N-d transposed convolution ``fold(W.T @ y)`` for a validated ``spec``, without bias.

    ``spec`` is a transposed :class:`~conv_tutorial.shapes.ConvGeometry`;
    ``y`` is ``(N, C_in, *I)`` (batched, 1 to 3 spatial axes), ``weight`` ``(C_in, C_out // g, *K)``;
    returns ``(N, C_out, *O)`` with ``O = (I - 1) * stride - 2 * padding + dilation * (K - 1) + output_padding + 1``.
    """
    stride, padding, out_pads, dilation = spec.stride, spec.symmetric_padding, spec.output_padding, spec.dilation
    if len(stride) == 3:
        return conv_transpose3d_by_depth_taps(y, weight, stride, padding, out_pads, dilation, spec.groups)
    if len(stride) == 1:  # a 1D transposed convolution is a 2D one over a unit height axis
        out = conv_transpose2d_forward(
            y.unsqueeze(2),
            weight.unsqueeze(2),
            (1, *stride),
            (0, *padding),
            (0, *out_pads),
            (1, *dilation),
            spec.groups,
        )
        return out.squeeze(2)
    return conv_transpose2d_forward(y, weight, stride, padding, out_pads, dilation, spec.groups)


def conv2d_forward(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation, groups: int) -> torch.Tensor:
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


def conv_transpose2d_forward(
    y: torch.Tensor, weight: torch.Tensor, stride, padding, output_padding, dilation, groups: int
) -> torch.Tensor:
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
        batch, groups * rows, height * width
    )
    # The canvas every pixel's kernel copy reaches. F.fold needs exactly H x W window positions
    # on it, so output_padding (which can exceed the stride when the dilation is larger) is not
    # part of the canvas but added below.
    canvas = conv_transpose_output_size((height, width), kernel, stride, 0, 0, dilation)
    full = F.fold(cols, canvas, kernel, dilation=dilation, stride=stride)
    # Crop `padding` from both sides, then extend the end by output_padding rows and columns that
    # no pixel reaches (zeros); F.pad crops where its widths are negative.
    (ph, pw), (oph, opw) = padding, output_padding
    return F.pad(full, (-pw, opw - pw, -ph, oph - ph))


def conv3d_by_depth_taps(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation, groups: int) -> torch.Tensor:
    """Grouped 3D convolution of validated arguments as a sum of 2D convolutions, without bias.

    Depth tap ``t`` of the kernel reads, for output frame ``o``, the input frame
    ``o * stride_D + t * dilation_D``. Folding the output frames into the batch axis makes that
    one 2D convolution with the kernel slice ``weight[:, :, t]``, so

        ``out[:, :, o] = sum over t of conv2d(x[:, :, o * s + t * d], weight[:, :, t])``

    is ``kD`` calls of the 2D engine (:func:`conv2d_forward`), not a second engine.

    Parameters
    ----------
    x : Tensor, shape (N, C_in, D, H, W)
    weight : Tensor, shape (C_out, C_in // groups, kD, kH, kW)
    stride, dilation : tuple of 3 ints
    padding : tuple of 3 (before, after) pairs
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, D_out, H_out, W_out)
    """
    (front, back), plane_padding = padding[0], padding[1:]
    x = F.pad(x, (0, 0, 0, 0, front, back))
    batch, c_in, depth, height, width = x.shape
    c_out, k_depth = weight.shape[0], weight.shape[2]
    s_d, d_d = stride[0], dilation[0]
    d_out = conv_axis_size(depth, k_depth, s_d, (0, 0), d_d)
    out = 0
    for t in range(k_depth):
        frames = x[:, :, t * d_d : t * d_d + (d_out - 1) * s_d + 1 : s_d]
        frames = frames.transpose(1, 2).reshape(batch * d_out, c_in, height, width)
        out = out + conv2d_forward(frames, weight[:, :, t], stride[1:], plane_padding, dilation[1:], groups)
    return out.reshape(batch, d_out, c_out, *out.shape[2:]).transpose(1, 2)


def conv_transpose3d_by_depth_taps(
    y: torch.Tensor, weight: torch.Tensor, stride, padding, output_padding, dilation, groups: int
) -> torch.Tensor:
    """Grouped 3D transposed convolution of validated arguments, without bias.

    The adjoint of ``conv3d_by_depth_taps``: where the convolution reads
    input frame ``o * stride_D + t * dilation_D`` through the kernel slice ``weight[:, :, t]``, its
    adjoint sends frame ``o`` of ``y`` through the 2D transposed convolution with that slice and
    adds the result onto output frame ``o * stride_D + t * dilation_D``. Depth ``padding`` is then
    cropped and ``output_padding`` frames added at the end, as the 2D engine
    (:func:`conv_transpose2d_forward`) does for height and width.

    Parameters
    ----------
    y : Tensor, shape (N, C_in, D, H, W)
    weight : Tensor, shape (C_in, C_out // groups, kD, kH, kW)
    stride, padding, output_padding, dilation : tuple of 3 ints
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, D_out, H_out, W_out)
        ``D_out = (D - 1) * stride - 2 * padding + dilation * (kD - 1) + output_padding + 1``.
    """
    batch, c_in, depth, height, width = y.shape
    k_depth = weight.shape[2]
    s_d, d_d = stride[0], dilation[0]
    frames = y.transpose(1, 2).reshape(batch * depth, c_in, height, width)
    canvas_depth = conv_transpose_axis_size(depth, k_depth, s_d, (0, 0), 0, d_d)
    first_frames = torch.arange(depth, device=y.device) * s_d
    full = None
    for t in range(k_depth):
        part = conv_transpose2d_forward(
            frames, weight[:, :, t], stride[1:], padding[1:], output_padding[1:], dilation[1:], groups
        )
        part = part.reshape(batch, depth, *part.shape[1:])
        if full is None:
            full = part.new_zeros((batch, canvas_depth, *part.shape[2:]))
        full = full.index_add(1, first_frames + t * d_d, part)
    p_d, op_d = padding[0], output_padding[0]
    return F.pad(full.transpose(1, 2), (0, 0, 0, 0, -p_d, op_d - p_d))


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
    spec = check_unfold(input.shape, kernel_size, dilation, padding, stride)
    return F.unfold(
        input.to(dtype), spec.kernel_size, dilation=spec.dilation, padding=spec.symmetric_padding, stride=spec.stride
    )


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
    spec = check_fold(input.shape, output_size, kernel_size, dilation, padding, stride)
    return F.fold(
        input.to(dtype),
        spec.input_size,
        spec.kernel_size,
        dilation=spec.dilation,
        padding=spec.symmetric_padding,
        stride=spec.stride,
    )
