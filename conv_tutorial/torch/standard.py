"""Standard convolution from torch primitives: ``conv1d``, ``conv2d`` and ``conv3d``.

All three are one 2D engine (:func:`conv_tutorial.torch.im2col.conv_forward`, ``W @ F.unfold(x)``);
``conv1d`` runs it over a unit height axis, ``conv3d`` sums it over the kernel's depth taps
(``conv3d_by_depth_taps``), and grouped, depthwise and pointwise convolutions are calls of it
with arguments, not copies of it. Semantics are those of
``torch.nn.functional.conv{1,2,3}d`` (cross-correlation: the kernel is not flipped). Every function
works on any device and is differentiable with respect to input, weight and bias.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_conv
from ._tensors import common_float_dtype
from .im2col import conv_forward

__all__ = ["conv1d", "conv2d", "conv3d", "conv3d_by_depth_taps"]


def _conv(fn, n, input, weight, bias, stride, padding, dilation, groups) -> torch.Tensor:
    dtype = common_float_dtype(input=input, weight=weight, bias=bias)
    spec = check_conv(fn, n, input.shape, weight.shape, None if bias is None else bias.shape,
                      stride, padding, dilation, groups)
    x, w = input.to(dtype).reshape(spec.input_shape), weight.to(dtype)
    stride, pads, dilation = spec.stride, spec.padding, spec.dilation
    if n == 1:
        # A 1D convolution is a 2D one over a unit height axis: one engine, not a copy of it.
        x, w = x.unsqueeze(2), w.unsqueeze(2)
        stride, pads, dilation = (1, *stride), ((0, 0), *pads), (1, *dilation)
    engine = conv3d_by_depth_taps if n == 3 else conv_forward
    out = engine(x, w, stride, pads, dilation, spec.groups).reshape(spec.output_shape)
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


def conv3d_by_depth_taps(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation,
                         groups: int) -> torch.Tensor:
    """Grouped 3D convolution of validated arguments as a sum of 2D convolutions, without bias.

    Depth tap ``t`` of the kernel reads, for output frame ``o``, the input frame
    ``o * stride_D + t * dilation_D``. Folding the output frames into the batch axis makes that
    one 2D convolution with the kernel slice ``weight[:, :, t]``, so

        ``out[:, :, o] = sum over t of conv2d(x[:, :, o * s + t * d], weight[:, :, t])``

    is ``kD`` calls of the 2D engine (:func:`conv_tutorial.torch.im2col.conv_forward`), not a
    second engine.

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
    d_out = (depth - d_d * (k_depth - 1) - 1) // s_d + 1
    out = 0
    for t in range(k_depth):
        frames = x[:, :, t * d_d : t * d_d + (d_out - 1) * s_d + 1 : s_d]
        frames = frames.transpose(1, 2).reshape(batch * d_out, c_in, height, width)
        out = out + conv_forward(frames, weight[:, :, t], stride[1:], plane_padding, dilation[1:], groups)
    return out.reshape(batch, d_out, c_out, *out.shape[2:]).transpose(1, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3D convolution (cross-correlation), like ``torch.nn.functional.conv3d``.

    Computed as a sum over the kernel's depth taps of 2D convolutions
    (``conv3d_by_depth_taps``).

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
