"""Upsampling from torch primitives: checkerboard overlap maps and resize-convolution.

Mirrors :mod:`conv_tutorial.numpy.upsampling`:

- :func:`overlap_map`, :func:`stacked_overlap_map` -- kernel taps per output pixel of one or more
  transposed convolutions, from the package's ``conv_transpose1d/2d`` on all-ones tensors;
- :func:`upsample2d` -- nearest or bilinear upsampling by an integer factor (``F.interpolate``);
- :func:`resize_conv2d` and :class:`ResizeConv2d` -- upsample, then a stride-1
  :func:`conv_tutorial.torch.conv2d`: the checkerboard-free alternative of Odena et al. (2016).

Chapter 10: ``book/10_transposed_convolution.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.upsampling`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import (
    _positive,
    check_flag,
    check_geometry,
    check_overlap_map,
    check_positive_int,
    check_stacked_overlap_map,
    check_upsample,
)
from ._layers import conv_bias, conv_weight
from ._tensors import common_float_dtype
from .standard import conv2d
from .transposed import conv_transpose1d, conv_transpose2d

__all__ = ["ResizeConv2d", "overlap_map", "resize_conv2d", "stacked_overlap_map", "upsample2d"]

_TRANSPOSE = {1: conv_transpose1d, 2: conv_transpose2d}


def _ones_through(size, layers, device):
    n = len(size)
    counts = torch.ones((1, 1, *size), dtype=torch.float64, device=device)
    for kernel, stride, padding, output_padding in layers:
        counts = _TRANSPOSE[n](
            counts,
            torch.ones((1, 1, *kernel), dtype=torch.float64, device=device),
            stride=stride,
            padding=padding,
            output_padding=output_padding,
        )
    return torch.round(counts[0, 0]).to(torch.int64)


def overlap_map(input_size, kernel_size, stride=1, padding=0, output_padding=0, device=None):
    """How many kernel taps a transposed convolution adds into each output pixel.

    See :func:`conv_tutorial.numpy.overlap_map`; ``device`` places the result.

    Parameters
    ----------
    input_size : int or tuple of 1 or 2 ints
        Spatial size of the input: an int or a 1-tuple for 1D, ``(H, W)`` for 2D.
    kernel_size, stride, padding, output_padding : int or tuple of ints (one per axis)
        As in :func:`conv_tutorial.torch.conv_transpose2d`.
    device : torch.device or str, optional
        Where the result is placed (default: the CPU).

    Returns
    -------
    Tensor of int64, shape (L_out,) or (H_out, W_out)

    Shape
    -----
    ``L_out = (L - 1) * stride - 2 * padding + kernel_size + output_padding``, as for the
    transposed convolution.

    Examples
    --------
    >>> overlap_map(3, 3, stride=2)
    tensor([1, 1, 2, 1, 2, 1, 1])
    """
    size, spec = check_overlap_map("overlap_map", input_size, kernel_size, stride, padding, output_padding)
    return _ones_through(size, [(spec.kernel_size, spec.stride, spec.symmetric_padding, spec.output_padding)], device)


def stacked_overlap_map(input_size, layers, device=None):
    """The tap count through a stack of transposed convolutions; see :func:`conv_tutorial.numpy.stacked_overlap_map`.

    Parameters
    ----------
    input_size : int or tuple of 1 or 2 ints
    layers : sequence of tuples
        ``(kernel_size, stride)`` or ``(kernel_size, stride, padding)`` per layer, input side first.
    device : torch.device or str, optional
        Where the result is placed (default: the CPU).

    Examples
    --------
    >>> stacked_overlap_map(4, [(4, 2, 1), (4, 2, 1)])     # even away from the borders
    tensor([1, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 1])
    """
    size, checked = check_stacked_overlap_map("stacked_overlap_map", input_size, layers)  # before any work
    return _ones_through(size, [(kernel, stride, padding, 0) for kernel, stride, padding in checked], device)


def upsample2d(input, scale_factor=2, mode="nearest"):
    """Upsample an image by an integer factor: ``F.interpolate`` with ``align_corners=False``.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    scale_factor : int
    mode : {'nearest', 'bilinear'}

    Returns
    -------
    Tensor, shape (N, C, H * scale_factor, W * scale_factor) or without N

    Examples
    --------
    >>> upsample2d(torch.tensor([[[0.0, 4.0]]]), 2, mode="bilinear")[0, 0]
    tensor([0., 1., 3., 4.])
    """
    dtype = common_float_dtype(input=input)
    batched, unbatched, scale = check_upsample("upsample2d", input.shape, scale_factor, mode)
    extra = {} if mode == "nearest" else {"align_corners": False}
    out = F.interpolate(input.to(dtype).reshape(batched), scale_factor=scale, mode=mode, **extra)
    return out[0] if unbatched else out


def resize_conv2d(input, weight, bias=None, scale_factor=2, mode="nearest", padding="same"):
    """Resize-convolution: :func:`upsample2d`, then :func:`conv_tutorial.torch.conv2d` with stride 1.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor, shape (C_out, C_in, kH, kW)
    bias : Tensor, shape (C_out,), optional
    scale_factor : int
    mode : {'nearest', 'bilinear'}
    padding : int, tuple of 2 ints, 'same' or 'valid'
        Of the convolution; ``'same'`` keeps the upsampled size.

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out) or without N

    Shape
    -----
    ``H_out = floor(H * scale_factor + 2 * padding - kH) + 1`` (``H * scale_factor`` with ``'same'``).

    Examples
    --------
    >>> resize_conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3)).shape
    torch.Size([1, 1, 4, 4])
    """
    common_float_dtype(input=input, weight=weight, bias=bias)
    check_upsample("resize_conv2d", input.shape, scale_factor, mode)
    return conv2d(upsample2d(input, scale_factor, mode), weight, bias, padding=padding)


class ResizeConv2d(nn.Module):
    """Upsample by ``scale_factor``, then convolve with stride 1 (Odena et al. 2016).

    A drop-in replacement for ``nn.ConvTranspose2d(C_in, C_out, 4, stride=2, padding=1)``: the
    same output size ``2H x 2W`` for ``scale_factor=2`` and ``padding='same'``, and every output
    pixel reads a full ``kH x kW`` window, so an untrained layer adds no checkerboard.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 2 ints
    scale_factor : int
    mode : {'nearest', 'bilinear'}
    padding : int, tuple of 2 ints, 'same' or 'valid'
    bias : bool

    Shape
    -----
    Input ``(N, C_in, H, W)``, output ``(N, C_out, H * scale_factor, W * scale_factor)`` with
    ``padding='same'``. Parameters: ``C_out * C_in * kH * kW (+ C_out)``, those of a convolution;
    initialised as ``nn.Conv2d`` initialises them.

    Examples
    --------
    >>> layer = ResizeConv2d(8, 4, 3)
    >>> layer(torch.randn(2, 8, 5, 5)).shape, sum(p.numel() for p in layer.parameters())
    (torch.Size([2, 4, 10, 10]), 292)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        scale_factor: int = 2,
        mode: str = "nearest",
        padding="same",
        bias: bool = True,
    ):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            check_positive_int("ResizeConv2d", name, value)
        kernel = _positive(kernel_size, 2, "kernel_size")
        check_upsample("ResizeConv2d", (1, in_channels, 1, 1), scale_factor, mode)
        check_geometry("ResizeConv2d", 2, padding=padding)
        check_flag("ResizeConv2d", "bias", bias)
        self.scale_factor, self.mode, self.padding = scale_factor, mode, padding
        # nn.Conv2d's initialisation, so the two layers start from the same distribution.
        self.weight = conv_weight(out_channels, in_channels, *kernel)
        self.bias = conv_bias(out_channels, in_channels * kernel[0] * kernel[1]) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:func:`resize_conv2d` of ``x`` and the layer's weights: ``(N, C_out, H_out, W_out)``."""
        return resize_conv2d(x, self.weight, self.bias, self.scale_factor, self.mode, self.padding)

    def extra_repr(self) -> str:
        """The layer's arguments, shown in the module's ``repr`` as ``nn.Conv2d`` shows its own."""
        c_out, c_in, kh, kw = self.weight.shape
        return (
            f"{c_in}, {c_out}, kernel_size=({kh}, {kw}), scale_factor={self.scale_factor}, "
            f"mode={self.mode!r}, padding={self.padding!r}, bias={self.bias is not None}"
        )
