"""Upsampling in NumPy: where transposed convolutions make checkerboards, and resize-convolution.

- :func:`overlap_map` -- how many kernel taps of a transposed convolution land on each output
  pixel (1D or 2D): uneven counts are the checkerboard pattern of Odena et al. (2016);
- :func:`stacked_overlap_map` -- the same count through a stack of transposed convolutions;
- :func:`upsample2d` -- nearest or bilinear upsampling by an integer factor, like
  ``torch.nn.functional.interpolate`` (``align_corners=False``);
- :func:`resize_conv2d` -- the alternative to a strided transposed convolution: upsample, then a
  stride-1 convolution, whose every output pixel reads the same number of taps.

Chapter 10: ``book/10_transposed_convolution.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.upsampling`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_overlap_map, check_stacked_overlap_map, check_upsample
from ._arrays import as_float_arrays, quiet_nonfinite
from .standard import conv2d
from .transposed import conv_transpose1d, conv_transpose2d

__all__ = ["overlap_map", "resize_conv2d", "stacked_overlap_map", "upsample2d"]

_TRANSPOSE = {1: conv_transpose1d, 2: conv_transpose2d}


def _ones_through(size, layers):
    """All-ones input through all-ones transposed convolutions ``(kernel, stride, padding, output_padding)``."""
    n = len(size)
    counts = np.ones((1, 1, *size))
    for kernel, stride, padding, output_padding in layers:
        counts = _TRANSPOSE[n](
            counts, np.ones((1, 1, *kernel)), stride=stride, padding=padding, output_padding=output_padding
        )
    return np.rint(counts[0, 0]).astype(np.int64)


def overlap_map(input_size, kernel_size, stride=1, padding=0, output_padding=0):
    """How many kernel taps a transposed convolution adds into each output pixel.

    Every input pixel scatters a copy of the kernel onto the output, ``stride`` pixels from its
    neighbour's copy; where copies overlap their taps add up. The count is
    ``conv_transpose(ones, ones_kernel)``. When ``stride`` does not divide ``kernel_size`` the
    count alternates from pixel to pixel: a periodic pattern every output carries, even for a
    constant input -- the checkerboard artifact.

    Parameters
    ----------
    input_size : int or tuple of 1 or 2 ints
        Spatial size of the input: an int or a 1-tuple for 1D, ``(H, W)`` for 2D.
    kernel_size, stride, padding, output_padding : int or tuple of ints (one per axis)
        As in :func:`conv_tutorial.numpy.conv_transpose2d`.

    Returns
    -------
    ndarray of int64, shape (L_out,) or (H_out, W_out)

    Shape
    -----
    ``L_out = (L - 1) * stride - 2 * padding + kernel_size + output_padding``, as for the
    transposed convolution.

    Examples
    --------
    >>> overlap_map(5, 3, stride=2)    # kernel 3, stride 2: 1 and 2 taps alternate
    array([1, 1, 2, 1, 2, 1, 2, 1, 2, 1, 1])
    >>> overlap_map(5, 4, stride=2, padding=1)     # kernel 4, stride 2: even inside
    array([1, 2, 2, 2, 2, 2, 2, 2, 2, 1])
    """
    size, spec = check_overlap_map("overlap_map", input_size, kernel_size, stride, padding, output_padding)
    return _ones_through(size, [(spec.kernel_size, spec.stride, spec.symmetric_padding, spec.output_padding)])


def stacked_overlap_map(input_size, layers):
    """The tap count through a stack of transposed convolutions (all-ones input and kernels).

    Each output pixel's count is the number of paths from the input to it. Layers whose
    ``stride`` does not divide ``kernel_size`` multiply their unevenness: the checkerboard of the
    first layer is scattered again by the next.

    Parameters
    ----------
    input_size : int or tuple of 1 or 2 ints
    layers : sequence of tuples
        ``(kernel_size, stride)`` or ``(kernel_size, stride, padding)`` per layer, input side first.

    Returns
    -------
    ndarray of int64, shape of the last layer's output

    Examples
    --------
    >>> stacked_overlap_map(2, [(3, 2), (3, 2)])
    array([1, 1, 2, 1, 3, 2, 3, 1, 2, 1, 1])
    """
    size, checked = check_stacked_overlap_map("stacked_overlap_map", input_size, layers)  # before any work
    return _ones_through(size, [(kernel, stride, padding, 0) for kernel, stride, padding in checked])


def _upsample_axis(x: np.ndarray, axis: int, scale: int, mode: str) -> np.ndarray:
    """Upsample one axis of ``x`` by ``scale``, like ``F.interpolate(..., align_corners=False)``.

    Output pixel ``j`` reads input pixel ``j // scale`` ('nearest'), or sits at input coordinate
    ``(j + 0.5) / scale - 0.5`` (clamped at 0) between its left neighbour and the next one (the
    last pixel is its own right neighbour), weighted by the distances ('bilinear'). Each output
    pixel reads at most two input pixels, so the work grows with the output's size, and a NaN or
    inf stays in the pixels that read it: the two-pixel sum is PyTorch's, ``0 * inf`` included.
    """
    size = x.shape[axis]
    if mode == "nearest":
        return np.repeat(x, scale, axis=axis)
    out = np.arange(size * scale)
    source = np.maximum((out + 0.5) / scale - 0.5, 0.0)
    left = np.floor(source).astype(np.int64)
    right = np.minimum(left + 1, size - 1)
    shape = [1] * x.ndim
    shape[axis] = -1
    weight = (source - left).astype(x.dtype).reshape(shape)
    return np.take(x, left, axis=axis) * (1 - weight) + np.take(x, right, axis=axis) * weight


@quiet_nonfinite
def upsample2d(input, scale_factor=2, mode="nearest"):
    """Upsample an image by an integer factor, like ``F.interpolate(..., align_corners=False)``.

    ``nearest`` repeats every pixel ``scale_factor`` times along each axis; ``bilinear`` places
    output pixel ``j`` at input coordinate ``(j + 0.5) / scale_factor - 0.5`` and interpolates
    between the two nearest input pixels (the border pixel is repeated). Both are separable: the
    rows are upsampled, then the columns, each output pixel reading at most two input pixels.

    Parameters
    ----------
    input : array_like, shape (N, C, H, W) or (C, H, W)
    scale_factor : int
    mode : {'nearest', 'bilinear'}

    Returns
    -------
    ndarray, shape (N, C, H * scale_factor, W * scale_factor) or without N

    Examples
    --------
    >>> upsample2d(np.array([[[0.0, 4.0]]]), 2, mode="bilinear")[0, 0]     # (C, H, W) = (1, 1, 2)
    array([0., 1., 3., 4.])
    """
    (x,) = as_float_arrays(input=input)
    batched, unbatched, scale = check_upsample("upsample2d", x.shape, scale_factor, mode)
    out = _upsample_axis(_upsample_axis(x.reshape(batched), 2, scale, mode), 3, scale, mode)
    return out[0] if unbatched else out


@quiet_nonfinite
def resize_conv2d(input, weight, bias=None, scale_factor=2, mode="nearest", padding="same"):
    """Resize-convolution: :func:`upsample2d`, then :func:`conv_tutorial.numpy.conv2d` with stride 1.

    Odena et al. (2016) proposed it in place of a strided transposed convolution: after the
    resize, every output pixel is a full kernel window over the upsampled image, so no output
    pixel gets fewer taps than its neighbour and no checkerboard appears by construction.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    weight : array_like, shape (C_out, C_in, kH, kW)
    bias : array_like, shape (C_out,), optional
    scale_factor : int
    mode : {'nearest', 'bilinear'}
    padding : int, tuple of 2 ints, 'same' or 'valid'
        Of the convolution; ``'same'`` keeps the upsampled size.

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out) or without N

    Shape
    -----
    ``H_out = floor(H * scale_factor + 2 * padding - kH) + 1`` (``H * scale_factor`` with ``'same'``).

    Examples
    --------
    >>> resize_conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), padding=1)[0, 0]
    array([[4., 6., 6., 4.],
           [6., 9., 9., 6.],
           [6., 9., 9., 6.],
           [4., 6., 6., 4.]])
    """
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    check_upsample("resize_conv2d", x.shape, scale_factor, mode)
    return conv2d(upsample2d(x, scale_factor, mode), w, b, padding=padding)
