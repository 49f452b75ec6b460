"""Deformable convolution (DCNv1, Dai et al. 2017; DCNv2, Zhu et al. 2019) from scratch in NumPy.

Its semantics are exactly those of ``torchvision.ops.deform_conv2d``.

A deformable convolution is a convolution whose kernel taps do not read the input on the regular
grid: tap ``k = (ki, kj)`` of output pixel ``(i, j)`` reads the input at

    ``y = i * stride_h - padding_h + ki * dilation_h + dy``,
    ``x = j * stride_w - padding_w + kj * dilation_w + dx``

where ``(dy, dx)`` comes from the ``offset`` tensor, one pair per tap, per output pixel, per offset
group. Fractional positions are read by bilinear interpolation, with zeros outside the image. DCNv2
multiplies each sample by a modulation ``mask`` value. Then the samples are multiplied by the
weights exactly as im2col columns are in a standard convolution.

The offset layout is torchvision's: channel ``2 * (g * kH * kW + ki * kW + kj)`` of ``offset``
holds ``dy`` (down is positive) and the next channel ``dx`` (right is positive) of tap
``(ki, kj)`` in offset group ``g``; the mask's channel ``g * kH * kW + ki * kW + kj`` scales it.

- :func:`bilinear_interpolate` -- torchvision's sampling rule for one point, written out;
- :func:`deform_sampling_points` -- where every tap of every output pixel reads the input;
- :func:`deform_conv2d` -- vectorised: the four corners of all samples gathered at once, then one
  grouped matrix product;
- :func:`deform_conv2d_naive` -- the same as loops, for teaching and testing.

Chapter 12: ``book/12_deformable_convolution.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.deformable`.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import _non_negative, _positive, check_deform_conv2d, check_sample_point
from ._arrays import as_float_arrays, quiet_nonfinite

__all__ = ["bilinear_interpolate", "deform_conv2d", "deform_conv2d_naive", "deform_sampling_points"]


@quiet_nonfinite
def bilinear_interpolate(image, y, x):
    """Sample ``image`` at the fractional point ``(y, x)``, with zeros outside, as torchvision does.

    A point at or beyond one pixel outside the image (``y <= -1``, ``y >= H``, ``x <= -1`` or
    ``x >= W``) reads 0. Otherwise the four pixels around it, ``(floor(y) + {0, 1}, floor(x) + {0, 1})``,
    are weighted by the areas of the opposite rectangles; a corner that lies outside the image
    counts as 0. So the image behaves as if surrounded by zeros, and the value falls off linearly
    to 0 over the one pixel outside each border.

    Parameters
    ----------
    image : array_like, shape (H, W)
    y, x : float
        Row and column, in pixels; ``(0, 0)`` is the centre of the top-left pixel.

    Returns
    -------
    float

    Examples
    --------
    >>> img = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> float(bilinear_interpolate(img, 0.5, 0.5))      # the mean of the four pixels
    1.5
    >>> float(bilinear_interpolate(img, 0.0, 1.5))      # halfway from pixel 1 to the zero outside
    0.5
    """
    (image,) = as_float_arrays(image=image)
    height, width = check_sample_point("bilinear_interpolate", image.shape, y, x)
    if y <= -1 or y >= height or x <= -1 or x >= width:
        return image.dtype.type(0)
    y0, x0 = math.floor(y), math.floor(x)
    ly, lx = y - y0, x - x0

    def pixel(row, col):
        return image[row, col] if 0 <= row < height and 0 <= col < width else 0

    return (
        (1 - ly) * (1 - lx) * pixel(y0, x0)
        + (1 - ly) * lx * pixel(y0, x0 + 1)
        + ly * (1 - lx) * pixel(y0 + 1, x0)
        + ly * lx * pixel(y0 + 1, x0 + 1)
    )


@quiet_nonfinite
def deform_sampling_points(offset, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Input coordinates ``(y, x)`` that every kernel tap of every output pixel reads.

    Parameters
    ----------
    offset : array_like, shape (N, 2 * offset_groups * kH * kW, H_out, W_out)
        torchvision's layout: ``(dy, dx)`` pairs interleaved, tap-major within each offset group.
    kernel_size, stride, padding, dilation : int or tuple of 2 ints

    Returns
    -------
    ndarray, shape (N, offset_groups, kH, kW, H_out, W_out, 2)
        ``[..., 0]`` is ``i * stride_h - padding_h + ki * dilation_h + dy`` and ``[..., 1]`` the
        same along the width. With zero offsets these are the cells a standard convolution reads.

    Examples
    --------
    >>> offset = np.zeros((1, 2 * 3 * 3, 1, 1))
    >>> offset[0, 2 * 4] = 0.5                        # dy of tap 4, the centre (1, 1): half a pixel down
    >>> deform_sampling_points(offset, 3)[0, 0, 1, 1, 0, 0]
    array([1.5, 1. ])
    >>> deform_sampling_points(offset, 3)[0, 0, 0, :, 0, 0]   # top row of taps, not moved
    array([[0., 0.],
           [0., 1.],
           [0., 2.]])
    """
    (off,) = as_float_arrays(offset=offset)
    kh, kw = _positive(kernel_size, 2, "kernel_size")
    (sh, sw), (dh, dw) = _positive(stride, 2, "stride"), _positive(dilation, 2, "dilation")
    ph, pw = _non_negative(padding, 2, "padding")
    if off.ndim != 4 or off.shape[1] == 0 or off.shape[1] % (2 * kh * kw):
        raise ValueError(
            f"deform_sampling_points: offset must have shape (N, 2 * offset_groups * kH * kW, H_out, W_out) "
            f"with kH * kW = {kh * kw}, got offset of shape {off.shape}"
        )
    batch, channels, h_out, w_out = off.shape
    off = off.reshape(batch, channels // (2 * kh * kw), kh, kw, 2, h_out, w_out)
    # In the offset's dtype, so that float32 offsets give float32 points.
    rows = (np.arange(h_out)[None, :] * sh - ph + np.arange(kh)[:, None] * dh).astype(off.dtype)  # (kH, H_out)
    cols = (np.arange(w_out)[None, :] * sw - pw + np.arange(kw)[:, None] * dw).astype(off.dtype)  # (kW, W_out)
    y = rows[:, None, :, None] + off[:, :, :, :, 0]
    x = cols[None, :, None, :] + off[:, :, :, :, 1]
    return np.stack([y, x], axis=-1)


#: Bytes of the four corners' rows :func:`_sample` gathers at once: a block that stays in cache.
SAMPLE_BLOCK_BYTES = 2**19


def _sample(image: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Bilinear samples with torchvision's rule, for many images and points at once.

    ``image`` is ``(N, G, C, H, W)``, ``y`` and ``x`` are ``(N, G, P)``; returns ``(N, G, C, P)``:
    point ``p`` of group ``g`` sampled in each of that group's ``C`` channels.

    The image gets a one-pixel ring of zeros, so every corner of a point inside
    ``(-1, H) x (-1, W)`` is a real cell; points outside read the ring's corner cell. Reading a
    zero cell, rather than multiplying some pixel by a zero weight, keeps a NaN pixel from leaking
    into samples that do not touch it. A NaN coordinate gives a NaN sample, as in torchvision, whose
    corner weights ``(1 - ly) * (1 - lx)``, ... carry the NaN.

    The ringed image is stored channels last, so that a corner's read is one row of ``C``
    contiguous values, and the points go in blocks of at most :data:`SAMPLE_BLOCK_BYTES` of
    gathered rows: one ``take`` of the four corners' rows, one ``einsum`` of their weighted sum.
    """
    batch, groups, channels, height, width = image.shape
    ring = np.zeros((batch, groups, height + 2, width + 2, channels), dtype=image.dtype)
    ring[:, :, 1:-1, 1:-1] = image.transpose(0, 1, 3, 4, 2)
    # Explicit sizes, not -1: reshape can't infer a size when the batch is empty.
    ring = ring.reshape(batch, groups, (height + 2) * (width + 2), channels)
    lost = np.isnan(y) | np.isnan(x)
    inside = (y > -1) & (y < height) & (x > -1) & (x < width)
    y, x = np.where(inside, y, -1), np.where(inside, x, -1)
    y0, x0 = np.floor(y), np.floor(x)
    ly, lx = y - y0, x - x0
    top_left = (y0.astype(np.int64) + 1) * (width + 2) + x0.astype(np.int64) + 1
    # (N, G, 4, P): the cells of the four corners, and their weights, in the order (0, 0), (0, 1), (1, 0), (1, 1).
    index = np.stack([np.where(inside, top_left + step, 0) for step in (0, 1, width + 2, width + 3)], axis=2)
    weight = np.stack([(1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx], axis=2)
    weight = weight.astype(image.dtype, copy=False)
    points = y.shape[2]
    out = np.empty((batch, groups, channels, points), dtype=image.dtype)
    block = max(16, SAMPLE_BLOCK_BYTES // (4 * max(channels, 1) * image.itemsize))
    for n in range(batch):
        for g in range(groups):
            for start in range(0, points, block):
                part = slice(start, min(start + block, points))
                corners = ring[n, g].take(index[n, g, :, part], axis=0)  # (4, block, C)
                out[n, g, :, part] = np.einsum("qp,qpc->cp", weight[n, g, :, part], corners)
    out[np.broadcast_to(lost[:, :, None, :], out.shape)] = np.nan
    return out


@quiet_nonfinite
def deform_conv2d(input, offset, weight, bias=None, stride=1, padding=0, dilation=1, mask=None):
    """Deformable convolution v1/v2, like ``torchvision.ops.deform_conv2d``.

    Samples the input at :func:`deform_sampling_points` by bilinear interpolation (zeros outside
    the image, :func:`bilinear_interpolate`), multiplies each sample by ``mask`` when given (DCNv2;
    applied as given, no sigmoid), and contracts the samples with the weights in one grouped
    matrix product, as a standard convolution does with its im2col columns.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W)
    offset : array_like, shape (N, 2 * offset_groups * kH * kW, H_out, W_out)
        Channel ``2 * (g * kH * kW + ki * kW + kj)`` is ``dy`` (rows, down positive) and the next
        one ``dx`` (columns, right positive) of tap ``(ki, kj)`` in offset group ``g``. Offset
        group ``g`` moves the taps of input channels ``g * C_in / offset_groups`` to
        ``(g + 1) * C_in / offset_groups - 1``.
    weight : array_like, shape (C_out, C_in // groups, kH, kW)
        The weight groups are ``C_in // weight.shape[1]``, as torchvision infers them.
    bias : array_like, shape (C_out,), optional
    stride, padding, dilation : int or tuple of 2 ints
    mask : array_like, shape (N, offset_groups * kH * kW, H_out, W_out), optional
        DCNv2's modulation: channel ``g * kH * kW + ki * kW + kj`` scales the sample of tap
        ``(ki, kj)`` in offset group ``g``. ``None`` is DCNv1 (every sample counts fully).

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``:
    the offsets move the samples, not the output grid.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> deform_conv2d(x, np.zeros((1, 8, 3, 3)), w)[0, 0]          # zero offsets: conv2d
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    >>> deform_conv2d(x, np.full((1, 8, 3, 3), 0.5), w)[0, 0, 0, 0]  # every tap half a pixel down-right
    np.float64(20.0)
    """
    x, off, w, b, m = as_float_arrays(input=input, offset=offset, weight=weight, bias=bias, mask=mask)
    spec = check_deform_conv2d(
        x.shape,
        off.shape,
        w.shape,
        None if b is None else b.shape,
        None if m is None else m.shape,
        stride,
        padding,
        dilation,
    )
    batch, c_in, height, width = spec.input_shape
    c_out, (kh, kw), groups, off_groups = w.shape[0], spec.kernel_size, spec.groups, spec.offset_groups
    h_out, w_out = spec.output_size
    samples = kh * kw * h_out * w_out
    points = deform_sampling_points(off, (kh, kw), spec.stride, spec.symmetric_padding, spec.dilation)
    points = points.reshape(batch, off_groups, samples, 2)
    cols = _sample(x.reshape(batch, off_groups, c_in // off_groups, height, width), points[..., 0], points[..., 1])
    if m is not None:
        cols = cols * m.reshape(batch, off_groups, 1, samples)
    # (N, G, C_in/G, kH*kW*L) is channel-major then tap: the im2col row order (c, ki, kj) of
    # weight.reshape(C_out, C_in/groups * kH * kW), whatever the two group counts are.
    cols = cols.reshape(batch, groups, (c_in // groups) * kh * kw, h_out * w_out)
    out = (w.reshape(groups, c_out // groups, -1) @ cols).reshape(batch, c_out, h_out, w_out)
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return out


@quiet_nonfinite
def deform_conv2d_naive(input, offset, weight, bias=None, stride=1, padding=0, dilation=1, mask=None):
    """:func:`deform_conv2d` written as loops over output pixels, channels and kernel taps.

    ``out[n, o, i, j] = bias[o] + sum over (c, ki, kj) of
    weight[o, c, ki, kj] * mask[n, g*K + k, i, j] * bilinear_interpolate(input[n, c'], y, x)``
    where ``c'`` is input channel ``c`` of ``o``'s weight group, ``g`` the offset group of ``c'``,
    ``k = ki * kW + kj``, ``K = kH * kW``, and ``(y, x)`` the tap's regular position plus
    ``(offset[n, 2(g*K + k), i, j], offset[n, 2(g*K + k) + 1, i, j])``.

    Same parameters, shapes and errors as :func:`deform_conv2d`.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> deform_conv2d_naive(x, np.full((1, 8, 3, 3), 0.5), np.ones((1, 1, 2, 2)))[0, 0, 0, 0]
    np.float64(20.0)
    """
    x, off, w, b, m = as_float_arrays(input=input, offset=offset, weight=weight, bias=bias, mask=mask)
    spec = check_deform_conv2d(
        x.shape,
        off.shape,
        w.shape,
        None if b is None else b.shape,
        None if m is None else m.shape,
        stride,
        padding,
        dilation,
    )
    batch, c_in = spec.input_shape[:2]
    c_out, c_in_g, kh, kw = w.shape
    taps = kh * kw
    per_offset_group = c_in // spec.offset_groups
    (sh, sw), (ph, pw), (dh, dw) = spec.stride, spec.symmetric_padding, spec.dilation
    h_out, w_out = spec.output_size
    out = np.zeros(spec.output_shape, dtype=x.dtype)
    for n in range(batch):
        for i in range(h_out):
            for j in range(w_out):
                samples = np.zeros((c_in, kh, kw), dtype=x.dtype)
                for c in range(c_in):
                    g = c // per_offset_group
                    for ki in range(kh):
                        for kj in range(kw):
                            k = g * taps + ki * kw + kj
                            y = i * sh - ph + ki * dh + off[n, 2 * k, i, j]
                            xx = j * sw - pw + kj * dw + off[n, 2 * k + 1, i, j]
                            # torchvision carries a NaN coordinate into the corner weights: NaN.
                            lost = math.isnan(y) or math.isnan(xx)
                            samples[c, ki, kj] = math.nan if lost else bilinear_interpolate(x[n, c], y, xx)
                            if m is not None:
                                samples[c, ki, kj] *= m[n, k, i, j]
                for o in range(c_out):
                    first = (o // (c_out // spec.groups)) * c_in_g  # first input channel of o's group
                    out[n, o, i, j] = np.sum(samples[first : first + c_in_g] * w[o])
                    if b is not None:
                        out[n, o, i, j] += b[o]
    return out
