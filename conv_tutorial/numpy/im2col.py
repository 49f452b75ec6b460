"""Convolution as matrix multiplication: im2col (``unfold``), col2im (``fold``) and the two NumPy matmul engines.

Every NumPy convolution in this package runs on those two engines.

The idea of chapter 2 in code:

- a convolution is ``W @ unfold(x)``: copy every receptive field of the input into a column,
  then one matrix product with the weight reshaped to ``(C_out, C_in * prod(kernel))``;
- a transposed convolution is ``fold(W.T @ y)``: one matrix product makes a column of kernel
  contributions per input pixel, and ``fold`` adds the columns back onto the output grid.
  ``fold`` is the adjoint of ``unfold``, which is why the transposed convolution is the adjoint
  (and the input gradient) of the convolution.

Both engines work for any number of spatial axes and for grouped weights (a batched matmul over
the group axis, no Python loop over groups). Column buffers are built chunk by chunk so that no
buffer exceeds :data:`COLUMN_BUFFER_BYTES`. A depthwise convolution (one input channel per group)
leaves both engines in their first lines for its own fast path,
:mod:`conv_tutorial.numpy._depthwise_engine` (chapter 6).

Chapter 2 prints :func:`conv_forward`; :func:`window_view` and :func:`pad_spatial` come from
:mod:`conv_tutorial.numpy._windows`, which the depthwise path shares.

Chapter 2: ``book/02_convolution_as_matmul.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.im2col`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from .._checks import check_conv_matrix, check_fold, check_unfold
from ..shapes import live_tap_span
from ._arrays import as_float_arrays, quiet_nonfinite
from ._depthwise_engine import depthwise_forward, depthwise_transpose_as_direct
from ._windows import indices as _indices
from ._windows import pad_spatial, window_view

__all__ = ["COLUMN_BUFFER_BYTES", "column_chunks", "conv_matrix", "fold", "pad_spatial", "unfold", "window_view"]

#: Largest column buffer (bytes) the engines allocate at once; larger jobs are chunked.
COLUMN_BUFFER_BYTES = 64 * 2**20


def _columns(windows: np.ndarray, n: int) -> np.ndarray:
    """Copy a window view ``(B, C, *O, *K)`` into contiguous columns ``(B, C * prod(K), prod(O))``.

    Rows are ordered channel-major then kernel position, matching ``weight.reshape(C_out, -1)``
    and ``torch.nn.functional.unfold``.
    """
    b, c = windows.shape[:2]
    out_axes = tuple(range(2, 2 + n))
    kernel_axes = tuple(range(2 + n, 2 + 2 * n))
    cols = np.ascontiguousarray(windows.transpose(0, 1, *kernel_axes, *out_axes))
    # Explicit sizes, not -1: a reshape can't infer a size when the batch is empty.
    return cols.reshape(b, c * math.prod(windows.shape[2 + n :]), math.prod(windows.shape[2 : 2 + n]))


def _add_columns(windows: np.ndarray, cols: np.ndarray, n: int) -> None:
    """Add columns ``(B, C, *K, *O)`` into a writeable window view ``(B, C, *O, *K)``.

    One vectorised add per kernel tap: for a fixed tap the windows never overlap, so ``+=`` is
    exact; overlapping contributions of different taps are summed by the loop.
    """
    for tap in _indices(*windows.shape[2 + n :]):
        windows[(Ellipsis, *tap)] += cols[(slice(None), slice(None), *tap)]


def column_chunks(batch: int, out_spatial, bytes_per_position: int) -> Iterator[tuple[slice, slice]]:
    """Slices ``(batch, first output axis)`` whose column buffer fits :data:`COLUMN_BUFFER_BYTES`.

    Whole samples are grouped while they fit; a sample too large on its own is cut into bands of
    output rows. ``bytes_per_position`` is the size of one column (``C * prod(K) * itemsize``).

    Examples
    --------
    >>> list(column_chunks(4, (10, 10), bytes_per_position=COLUMN_BUFFER_BYTES // 200))
    [(slice(0, 2, None), slice(None, None, None)), (slice(2, 4, None), slice(None, None, None))]
    """
    rows = out_spatial[0]
    per_row = bytes_per_position * math.prod(out_spatial[1:])
    per_sample = per_row * rows
    if per_sample <= COLUMN_BUFFER_BYTES:
        step = max(1, COLUMN_BUFFER_BYTES // max(per_sample, 1))
        for b in range(0, batch, step):
            yield slice(b, min(b + step, batch)), slice(None)
        return
    step = max(1, COLUMN_BUFFER_BYTES // per_row)
    for b in range(batch):
        for r in range(0, rows, step):
            yield slice(b, b + 1), slice(r, min(r + step, rows))


def _without_dead_taps(x: np.ndarray, weight: np.ndarray, spec):
    """The same convolution without the kernel taps that only ever read padding.

    A dilated kernel can be far wider than its input (``padding='same'`` with dilation 20000 on
    a 3x3 map pads it to 40003x40003); taps that read nothing but padding add ``w * 0``, which is
    0 for a finite weight, so the padding they alone read need not exist. Returns the cropped
    input, the weight cut to the taps that read the input, their spec, and the output channels
    whose cut-off taps hold an inf or nan (there ``w * 0`` is nan at every output, as in PyTorch);
    or None when every tap reads the input somewhere.
    """
    out_spatial, kernel = spec.output_size, spec.kernel_size
    spans = [
        live_tap_span(size, k, s, pads, d)
        for size, pads, k, s, d in zip(x.shape[2:], spec.padding, kernel, spec.stride, spec.dilation, strict=True)
    ]
    if all(span == (0, k - 1) for span, k in zip(spans, kernel, strict=True)):
        return None
    if any(span is None for span in spans):  # every output reads only padding: a zero kernel
        spans = [(0, 0)] * len(kernel)
        x = np.zeros((*x.shape[:2], *((1,) * len(kernel))), dtype=x.dtype)
        crops, pads = (
            [slice(None)] * len(kernel),
            [(0, (o - 1) * s) for o, s in zip(out_spatial, spec.stride, strict=True)],
        )
        cut, weight = weight, np.zeros((*weight.shape[:2], *((1,) * len(kernel))), dtype=weight.dtype)
    else:
        crops, pads = [], []
        for size, (lo, _), (k0, k1), s, d, o in zip(
            x.shape[2:], spec.padding, spans, spec.stride, spec.dilation, out_spatial, strict=True
        ):
            start, stop = k0 * d, (o - 1) * s + k1 * d + 1  # the padded coordinates the live taps read
            crops.append(slice(max(start, lo) - lo, min(stop, lo + size) - lo))
            pads.append((max(0, lo - start), max(0, stop - lo - size)))
        live = (Ellipsis, *(slice(k0, k1 + 1) for k0, k1 in spans))
        cut = weight.copy()
        cut[live] = 0
        weight = weight[live]
        x = x[(slice(None), slice(None), *crops)]
    bad = ~np.isfinite(cut.reshape(cut.shape[0], -1)).all(axis=1)
    trimmed = replace(spec, input_size=x.shape[2:], kernel_size=weight.shape[2:], padding=tuple(pads))
    return x, weight, trimmed, bad


def conv_forward(x: np.ndarray, weight: np.ndarray, spec) -> np.ndarray:
    """Grouped N-d convolution ``W @ unfold(x)`` for a validated :class:`~conv_tutorial.shapes.ConvGeometry`.

    ``x`` is ``(N, C_in, *S)`` (batched), ``weight`` ``(C_out, C_in // g, *K)``; returns
    ``(N, C_out, *O)`` without bias.
    """
    trimmed = _without_dead_taps(x, weight, spec)
    if trimmed is not None:
        x, weight, spec, bad = trimmed
        out = conv_forward(x, weight, spec)
        out[:, bad] = np.nan
        return out
    if x.shape[1] == spec.groups:  # one input channel per group: chapter 6's fast path, no columns
        return depthwise_forward(x, weight, spec)
    n_sp = len(spec.kernel_size)
    batch, c_in = x.shape[:2]
    c_out, g = weight.shape[0], spec.groups
    taps = math.prod(spec.kernel_size)
    out_spatial = spec.output_size
    out = np.empty((batch, c_out, *out_spatial), dtype=x.dtype)
    windows = window_view(pad_spatial(x, spec.padding), spec.kernel_size, spec.stride, spec.dilation)
    w_mat = weight.reshape(g, c_out // g, (c_in // g) * taps)
    for b, r in column_chunks(batch, out_spatial, c_in * taps * x.itemsize):
        part = windows[b, :, r]
        nb, chunk_spatial = part.shape[0], part.shape[2 : 2 + n_sp]
        cols = _columns(part, n_sp).reshape(nb, g, (c_in // g) * taps, -1)
        out[b, :, r] = (w_mat @ cols).reshape(nb, c_out, *chunk_spatial)
    return out


def conv_transpose_forward(
    y: np.ndarray, weight: np.ndarray, groups: int, kernel_size, stride, dilation, canvas_spatial, crop
) -> np.ndarray:
    """Grouped N-d transposed convolution ``fold(W.T @ y)``, then a crop.

    Parameters
    ----------
    y : ndarray, shape (N, C_in, *I)
        One "window position" per pixel: pixel ``i`` spreads the kernel over
        ``i * stride + k * dilation`` on the canvas.
    weight : ndarray, shape (C_in, C_out // groups, *K)
    canvas_spatial : tuple of int
        Size of the grid the columns are folded onto (large enough for every position).
    crop : tuple of (int, int)
        Pixels removed from the start and end of each canvas axis (the convolution's padding).

    Returns
    -------
    ndarray, shape (N, C_out, *(canvas - crop_start - crop_end))
    """
    # One input channel per group: a direct depthwise convolution, exact for a finite weight only.
    if y.shape[1] == groups and np.isfinite(weight).all():
        return conv_forward(
            *depthwise_transpose_as_direct(y, weight, kernel_size, stride, dilation, canvas_spatial, crop)
        )
    n_sp = len(kernel_size)
    batch, c_in = y.shape[:2]
    g = groups
    c_out_g = weight.shape[1]
    taps = math.prod(kernel_size)
    in_spatial = y.shape[2:]
    # (g, C_out/g * prod(K), C_in/g): the transposed weight of every group.
    w_t = weight.reshape(g, c_in // g, c_out_g * taps).transpose(0, 2, 1)
    canvas = np.zeros((batch, c_out_g * g, *canvas_spatial), dtype=y.dtype)
    windows = window_view(canvas, kernel_size, stride, dilation, writeable=True)
    windows = windows[(slice(None), slice(None), *(slice(0, i) for i in in_spatial))]
    for b, r in column_chunks(batch, in_spatial, c_out_g * g * taps * y.itemsize):
        part = y[b, :, r]
        nb, chunk_spatial = part.shape[0], part.shape[2:]
        cols = w_t @ part.reshape(nb, g, c_in // g, -1)
        _add_columns(windows[b, :, r], cols.reshape(nb, c_out_g * g, *kernel_size, *chunk_spatial), n_sp)
    return canvas[
        (slice(None), slice(None), *(slice(lo, size - hi) for size, (lo, hi) in zip(canvas_spatial, crop, strict=True)))
    ]


def conv_weight_grad(x: np.ndarray, grad_output: np.ndarray, spec) -> np.ndarray:
    """Gradient of a convolution's loss with respect to its weight: ``sum_n dY @ unfold(x).T``.

    Returns ``(C_out, C_in // g, *K)``.
    """
    n_sp = len(spec.kernel_size)
    batch, c_in = x.shape[:2]
    c_out, g = spec.weight_shape[0], spec.groups
    taps = math.prod(spec.kernel_size)
    grad = np.zeros((g, c_out // g, (c_in // g) * taps), dtype=x.dtype)
    windows = window_view(pad_spatial(x, spec.padding), spec.kernel_size, spec.stride, spec.dilation)
    for b, r in column_chunks(batch, spec.output_size, c_in * taps * x.itemsize):
        part = windows[b, :, r]
        nb = part.shape[0]
        cols = _columns(part, n_sp).reshape(nb, g, (c_in // g) * taps, -1)
        dy = grad_output[b, :, r].reshape(nb, g, c_out // g, -1)
        grad += (dy @ cols.transpose(0, 1, 3, 2)).sum(axis=0)
    return grad.reshape(spec.weight_shape)


@quiet_nonfinite
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks into columns (im2col), like ``torch.nn.functional.unfold``.

    Parameters
    ----------
    input : array_like, shape (N, C, H, W) or (C, H, W)
    kernel_size, dilation, padding, stride : int or tuple of 2 ints

    Returns
    -------
    ndarray, shape (N, C * kh * kw, L) or (C * kh * kw, L)
        Column ``l`` holds the receptive field of output position ``l`` (row-major over
        ``(H_out, W_out)``), rows ordered ``(c, i, j)``.

    Shape
    -----
    ``L = H_out * W_out`` with ``H_out = floor((H + 2p - d(kh - 1) - 1) / s) + 1`` (same for W).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> unfold(x, 3).shape
    (1, 9, 4)
    """
    (x,) = as_float_arrays(input=input)
    spec = check_unfold(x.shape, kernel_size, dilation, padding, stride)
    if spec.unbatched:
        x = x[None]
    padded = pad_spatial(x, spec.padding)
    cols = _columns(window_view(padded, spec.kernel_size, spec.stride, spec.dilation), 2)
    if not cols.flags.writeable:  # a 1x1 unit-stride view is already contiguous: don't alias the input
        cols = cols.copy()
    return cols[0] if spec.unbatched else cols


@quiet_nonfinite
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns back into an image (col2im), like ``torch.nn.functional.fold``.

    The adjoint of :func:`unfold`: ``<unfold(x), c> == <x, fold(c)>``. Where blocks overlap their
    values are added, so ``fold(unfold(x))`` multiplies each pixel by the number of blocks that
    contain it.

    Parameters
    ----------
    input : array_like, shape (N, C * kh * kw, L) or (C * kh * kw, L)
    output_size : int or tuple of 2 ints
        Spatial size ``(H, W)`` of the image to rebuild.
    kernel_size, dilation, padding, stride : int or tuple of 2 ints

    Returns
    -------
    ndarray, shape (N, C, H, W) or (C, H, W)

    Shape
    -----
    ``L`` must equal the number of blocks ``H_blocks * W_blocks`` with
    ``H_blocks = floor((H + 2p - d(kh - 1) - 1) / s) + 1`` (same for W).

    Examples
    --------
    >>> x = np.ones((1, 1, 3, 3))
    >>> fold(unfold(x, 2), 3, 2)[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    (cols,) = as_float_arrays(input=input)
    spec = check_fold(cols.shape, output_size, kernel_size, dilation, padding, stride)
    channels = spec.in_channels
    if spec.unbatched:
        cols = cols[None]
    batch = cols.shape[0]
    canvas_size = spec.padded_size
    canvas = np.zeros((batch, channels, *canvas_size), dtype=cols.dtype)
    windows = window_view(canvas, spec.kernel_size, spec.stride, spec.dilation, writeable=True)
    blocks = windows.shape[2:4]
    _add_columns(windows, cols.reshape(batch, channels, *spec.kernel_size, *blocks), 2)
    (top, bottom), (left, right) = spec.padding
    out = canvas[:, :, top : canvas_size[0] - bottom, left : canvas_size[1] - right]
    return out[0] if spec.unbatched else out


@quiet_nonfinite
def conv_matrix(input_shape, weight, stride=1, padding=0, dilation=1):
    """The matrix ``C`` of a 2D convolution of one image: ``conv2d(x, w).ravel() == C @ x.ravel()``.

    Built from :func:`unfold` of an image of pixel indices: column ``l`` of the unfolded index
    image says which input pixel each kernel tap reads at output position ``l``, so row
    ``(o, l)`` of ``C`` holds the weights of filter ``o`` at those pixels and zeros elsewhere.
    Its transpose is the matrix of :func:`~conv_tutorial.numpy.conv_transpose2d`.

    Parameters
    ----------
    input_shape : tuple of 3 ints
        ``(C_in, H, W)`` of the image (no batch axis).
    weight : array_like, shape (C_out, C_in, kH, kW)
    stride, padding, dilation : int or tuple of 2 ints (padding also ``'same'``/``'valid'``)

    Returns
    -------
    ndarray, shape (C_out * H_out * W_out, C_in * H * W)
        Dense, mostly zeros: each row has at most ``C_in * kH * kW`` non-zeros.

    Examples
    --------
    >>> C = conv_matrix((1, 3, 3), np.ones((1, 1, 2, 2)))
    >>> C.astype(int)
    array([[1, 1, 0, 1, 1, 0, 0, 0, 0],
           [0, 1, 1, 0, 1, 1, 0, 0, 0],
           [0, 0, 0, 1, 1, 0, 1, 1, 0],
           [0, 0, 0, 0, 1, 1, 0, 1, 1]])
    """
    (w,) = as_float_arrays(weight=weight)
    spec = check_conv_matrix(input_shape, w.shape, stride, padding, dilation)
    input_shape = spec.input_shape[1:]
    c_out, out_positions = w.shape[0], math.prod(spec.output_size)
    # Pixel indices shifted by one so that the zero padding reads as index -1 after unfolding.
    index_image = np.arange(1, math.prod(input_shape) + 1, dtype=np.float64).reshape(1, *input_shape)
    padded = pad_spatial(index_image, spec.padding)
    taps = _columns(window_view(padded, spec.kernel_size, spec.stride, spec.dilation), 2)[0].astype(np.int64) - 1
    rows, positions = np.nonzero(taps >= 0)
    matrix = np.zeros((c_out, out_positions, math.prod(input_shape)), dtype=w.dtype)
    matrix[:, positions, taps[rows, positions]] = w.reshape(c_out, -1)[:, rows]
    return matrix.reshape(c_out * out_positions, -1)
