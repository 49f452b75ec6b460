"""The fast paths of the general NumPy engine, and the two wrappers that put them in front of it.

:func:`conv_forward` and :func:`conv_transpose_forward` take the general engine's arguments
(:mod:`conv_tutorial.numpy.im2col`) and are what the standard and transposed convolutions import
under those names: each tries :func:`fast_conv_forward` (Winograd's F(2, 3),
:mod:`conv_tutorial.numpy._winograd_engine`, then :func:`flat_conv_forward`) and falls back to
the general engine. A unit-stride transposed convolution goes there as the direct convolution
with the flipped kernel.

:func:`conv_tutorial.numpy.im2col.conv_forward` computes ``W @ unfold(x)``: its column matrix is a
transposed copy of a strided view with ``prod(K)`` axes, whose innermost runs are one output row
long (7 to 112 numbers), and it is built for many images at once, so it leaves the cache before the
matrix product reads it. :func:`flat_conv_forward` computes the same product with the same numbers,
arranged so that every copy is long and every block of columns is read while still in cache:

- the input is copied once into a zero-padded buffer, channels first, the images of the batch one
  after another along one flat axis. In that flat axis a kernel tap's shift is a constant offset,
  so the rows of the column matrix that belong to one tap are one contiguous slice of the buffer
  (positions past an image's right or bottom edge read the next row or image: those outputs are
  computed and cropped). This is the flat trick of the depthwise path,
  :mod:`conv_tutorial.numpy._depthwise_engine`;
- a stride is a unit-stride convolution of the padded input's polyphase grids (a space-to-depth
  rewrite without extra taps): the buffer holds one grid per phase, and each tap reads one grid;
- on a small map, where the padded grid is mostly padding (more than :data:`GATHER_WASTE` grid
  positions per output), each tap's reads are gathered from the unpadded input instead, with
  zeros where they fall in the padding, and no padded copy is made;
- the columns are built for a block of output positions at a time, into one preallocated buffer of
  at most :data:`FLAT_BLOCK_BYTES`, and multiplied into the output at once, so the column matrix is
  never whole in memory.

The fast paths take plain tuples and ints and return ``None`` for what they do not do;
:func:`flat_conv_forward` leaves depthwise convolutions (which have a faster path), 1x1 kernels
(whose columns are the input itself) and kernels with taps that read only padding (which the
general engine cuts) to the general engine. The tests hold every path equal to the general engine
and to PyTorch; no chapter prints it (the chapters print the general engine it stands in for).
"""

from __future__ import annotations

import math

import numpy as np

from ..shapes import conv_axis_size, live_tap_span
from ._depthwise_engine import _kernel_taps, _phase_fills
from ._windows import indices as _indices
from ._winograd_engine import winograd_conv_forward
from .im2col import conv_forward as general_conv_forward
from .im2col import conv_transpose_forward as general_conv_transpose_forward

__all__ = [
    "FLAT_BLOCK_BYTES",
    "GATHER_WASTE",
    "conv_forward",
    "conv_transpose_forward",
    "fast_conv_forward",
    "flat_conv_forward",
]

#: Bytes of the column block that is built and multiplied at once: it stays in the cache between
#: its copy and the matrix product that reads it.
FLAT_BLOCK_BYTES = 2 * 2**20

#: Flat grid positions per output position above which a tap's outputs are gathered instead of
#: read as one flat slice (the grid's padding then costs more than a strided copy).
GATHER_WASTE = 1.25


def conv_forward(x: np.ndarray, weight: np.ndarray, spec) -> np.ndarray:
    """:func:`conv_tutorial.numpy.im2col.conv_forward` with the fast paths in front.

    The first of :func:`fast_conv_forward`'s paths that applies, else the general engine itself. Same
    arguments and result; the standard convolutions call it under the general engine's name.
    """
    out = fast_conv_forward(x, weight, spec.stride, spec.padding, spec.dilation, spec.groups)
    return general_conv_forward(x, weight, spec) if out is None else out


def conv_transpose_forward(
    y: np.ndarray, weight: np.ndarray, groups: int, kernel_size, stride, dilation, canvas_spatial, crop
) -> np.ndarray:
    """:func:`conv_tutorial.numpy.im2col.conv_transpose_forward` with a fast path in front.

    Same arguments and result; the transposed convolutions call it under the general engine's name.

    With unit stride, a transposed convolution is a direct one: each output sums the inputs its
    kernel reaches, which is the convolution of the input, padded by ``d (k - 1)`` less the crop,
    with the kernel flipped and its channel axes swapped (per group). That convolution runs on
    :func:`fast_conv_forward`'s paths. Exact for a finite weight only: the direct form also
    multiplies the weight by the padding's zeros, which an inf would turn into NaN.
    """
    n = len(kernel_size)
    c_in = y.shape[1]
    full = [size + d * (k - 1) for size, k, d in zip(y.shape[2:], kernel_size, dilation, strict=True)]
    pads = [
        (d * (k - 1) - lo, d * (k - 1) + canvas - f - hi)
        for k, d, canvas, f, (lo, hi) in zip(kernel_size, dilation, canvas_spatial, full, crop, strict=True)
    ]
    out = None
    if all(s == 1 for s in stride) and c_in != groups and min(min(p) for p in pads) >= 0 and np.isfinite(weight).all():
        c_out_g = weight.shape[1]
        direct = weight.reshape(groups, c_in // groups, c_out_g, *kernel_size).swapaxes(1, 2)
        direct = direct.reshape(groups * c_out_g, c_in // groups, *kernel_size)[
            (Ellipsis, *(slice(None, None, -1),) * n)
        ]
        out = fast_conv_forward(y, direct, stride, pads, dilation, groups)  # a view: the paths reorder it once
    if out is None:
        out = general_conv_transpose_forward(y, weight, groups, kernel_size, stride, dilation, canvas_spatial, crop)
    return out


def fast_conv_forward(x: np.ndarray, weight: np.ndarray, stride, padding, dilation, groups: int) -> np.ndarray | None:
    """The fast paths of the general engine, in order; ``None`` when neither applies.

    Winograd's F(2, 3) for unit-stride 3x3 and 3x3x3 kernels with many channels
    (:mod:`conv_tutorial.numpy._winograd_engine`), then :func:`flat_conv_forward`. Same arguments
    as :func:`flat_conv_forward`.
    """
    out = winograd_conv_forward(x, weight, stride, padding, dilation, groups)
    return flat_conv_forward(x, weight, stride, padding, dilation, groups) if out is None else out


def flat_conv_forward(x: np.ndarray, weight: np.ndarray, stride, padding, dilation, groups: int) -> np.ndarray | None:
    """Grouped N-d convolution without bias, or ``None`` when this path does not apply.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, *S)
    weight : ndarray, shape (C_out, C_in // groups, *K)
    stride, dilation : tuple of int, one per spatial axis
    padding : tuple of (int, int), ``(left, right)`` per spatial axis
    groups : int

    Returns
    -------
    ndarray, shape (N, C_out, *O), or None
        ``O = (S + left + right - dilation * (K - 1) - 1) // stride + 1``, as
        :func:`conv_tutorial.numpy.im2col.conv_forward` computes it.
    """
    batch, c_in, *spatial = x.shape
    c_out, kernel = weight.shape[0], weight.shape[2:]
    padded = [size + lo + hi for size, (lo, hi) in zip(spatial, padding, strict=True)]
    out_spatial = [
        conv_axis_size(size, k, s, pads, d)
        for size, k, s, pads, d in zip(spatial, kernel, stride, padding, dilation, strict=True)
    ]
    # Depthwise has its own path; taps that read only padding are cut by the general engine, and
    # a 1x1 kernel's columns are the input itself, or a strided view of it, there.
    if c_in == groups or min(out_spatial, default=1) < 1 or math.prod(kernel) == 1:
        return None
    live = [
        live_tap_span(size, k, s, pads, d)
        for size, k, s, pads, d in zip(spatial, kernel, stride, padding, dilation, strict=True)
    ]
    if any(span != (0, k - 1) for span, k in zip(live, kernel, strict=True)):
        return None
    out = np.empty((batch, c_out, *out_spatial), dtype=x.dtype)
    if out.size == 0:
        return out
    grid = [-(-p // s) for p, s in zip(padded, stride, strict=True)]  # size of each polyphase grid
    size = math.prod(grid)
    pitch = [math.prod(grid[i + 1 :]) for i in range(len(grid))]
    phases = {phase: i for i, phase in enumerate(_indices(*stride))}
    taps = [
        (phases[phase], offset, shift)
        for _, phase, offset, shift in _kernel_taps(kernel, dilation, stride, pitch, [0] * len(grid))
    ]
    c_group = c_in // groups
    # (g, C_out / g, C_in / g * taps): rows ordered channel, then tap, as the general engine's
    # columns are, so the matrix product adds the same numbers in the same order.
    w_mat = weight.reshape(groups, c_out // groups, c_group * len(taps))
    # On a small map most of the flat grid is padding: then gather each tap's outputs only.
    gather = size > GATHER_WASTE * math.prod(out_spatial)
    if gather:  # read from the input itself, without a padded copy
        source = x.reshape(batch, groups, c_group, *spatial)
    else:
        margin = max(offset for _, offset, _ in taps)  # how far the last position's reads run past its image
        source = _flat_padded(x, padding, stride, grid, phases, margin, groups)
    # What a block computes along each axis: the whole grid (then cropped), or the outputs only.
    extent = out_spatial if gather else grid
    blocks = list(_blocks(batch, extent, out_spatial, max(1, FLAT_BLOCK_BYTES // (len(taps) * c_in * x.itemsize))))
    cols = np.empty((groups, c_group, len(taps), max(math.prod(shape) for *_, shape in blocks)), dtype=x.dtype)
    for images, where, shape in blocks:
        # ``where``: None for whole images, else the output index of the block's first row in
        # one image (its band runs along axis ``len(where) - 1``).
        if where is None:
            start, read = images.start * size, (shape[0], *grid)
        else:
            start = images.start * size + sum(i * p for i, p in zip(where, pitch, strict=False))
            read = (shape[0], *grid[len(where) :])
        span = math.prod(shape)
        block = cols[..., :span]
        # The block's outputs: its images or rows, and the output's size along the axes after them.
        crop = (slice(0, shape[0]), *(slice(0, o) for o in out_spatial[len(out_spatial) + 1 - len(shape) :]))
        if gather:
            _gather_taps(block, source, images, where, shape, out_spatial, taps, stride, padding)
        else:
            for t, (phase, offset, _) in enumerate(taps):
                block[:, :, t] = source[phase, :, :, start + offset : start + offset + math.prod(read)]
        product = np.matmul(w_mat, block.reshape(groups, -1, span)).reshape(c_out, *(shape if gather else read))
        product = product[(slice(None), *crop)]
        if where is None:
            out[images] = product.swapaxes(0, 1)
        else:
            out[(images.start, slice(None), *where[:-1], slice(where[-1], where[-1] + shape[0]))] = product
    return out


def _gather_taps(block, x, images, where, shape, out_spatial, taps, stride, padding) -> None:
    """Copy each tap's reads for a block's outputs from the unpadded input into ``block``.

    ``x`` is ``(N, g, C_in / g, *S)`` and ``block`` ``(g, C_in / g, taps, positions)``; reads that
    fall in the padding are zeros.

    The block's outputs are ``images`` (``where`` None, ``shape`` ``(count, *O)``) or, in one image,
    the band of ``shape[0]`` rows along axis ``len(where) - 1`` starting at ``where``.
    """
    if where is None:
        ranges = [(0, o) for o in out_spatial]
    else:
        axis = len(where) - 1
        ranges = [(i, i + 1) for i in where[:-1]] + [(where[-1], where[-1] + shape[0])]
        ranges += [(0, o) for o in out_spatial[axis + 1 :]]
    dims = [b - a for a, b in ranges]
    groups, c_group = block.shape[:2]
    view = block.reshape(groups, c_group, len(taps), images.stop - images.start, *dims)
    for t, (*_, shift) in enumerate(taps):
        target, dst, src = view[:, :, t], [], []
        for (a, b), k, s, (lo, _), size in zip(ranges, shift, stride, padding, x.shape[3:], strict=True):
            first = max(a, -((k - lo) // s))  # the first output whose read reaches the input
            last = min(b, (size - 1 + lo - k) // s + 1)
            dst.append(slice(first - a, max(first, last) - a))
            src.append(slice(first * s + k - lo, max(first, last) * s + k - lo, s))
        if any(d.stop - d.start < n for d, n in zip(dst, dims, strict=True)):
            target[...] = 0
        if all(d.stop > d.start for d in dst):
            target[(Ellipsis, *dst)] = np.moveaxis(x[(images, slice(None), slice(None), *src)], 0, 2)


def _flat_padded(x: np.ndarray, padding, stride, grid, phases, margin: int, groups: int) -> np.ndarray:
    """The input's polyphase grids, zero-padded and flattened: ``(phases, g, C_in / g, N * prod(grid) + margin)``.

    Grid ``a`` holds the padded input's pixels ``q * stride + a`` at ``q``; image ``n`` starts at
    flat position ``n * prod(grid)``; ``margin`` zeros at the end take the reads past the last image.
    """
    batch, c_in = x.shape[:2]
    size = math.prod(grid)
    source = np.zeros((len(phases), c_in, batch * size + margin), dtype=x.dtype)
    images = source[:, :, : batch * size].reshape(len(phases), c_in, batch, *grid)
    for phase, dst, src in _phase_fills(x.shape[2:], padding, stride):
        images[(phases[phase], slice(None), slice(None), *dst)] = x[(slice(None), slice(None), *src)].swapaxes(0, 1)
    return source.reshape(len(phases), groups, c_in // groups, -1)


def _blocks(batch: int, extent, out_spatial, positions: int):
    """The blocks of the output that the columns are built for: ``(images, where, shape)``.

    ``extent`` is what a block computes along each axis (the output's size, or the grid's);
    a block computes at most ``positions`` of them, one row of the last axis at least. Whole
    images go together while they fit (``where`` is None, ``shape`` is ``(count, *extent)``);
    otherwise an image is cut into bands of rows of the first axis whose rows fit, for every
    output index of the axes before it (``where`` is the output index of the band's first row,
    ``shape`` is ``(rows, *extent[after the axis])``).
    """
    per_image = math.prod(extent)
    if per_image <= positions:
        step = positions // per_image
        for n in range(0, batch, step):
            count = min(step, batch - n)
            yield slice(n, n + count), None, (count, *extent)
        return
    axis = next(j for j in range(len(extent)) if math.prod(extent[j + 1 :]) <= positions)
    row = math.prod(extent[axis + 1 :])
    step = max(1, positions // row)
    for n in range(batch):
        for prefix in _indices(*out_spatial[:axis]):
            for r in range(0, out_spatial[axis], step):
                rows = min(step, out_spatial[axis] - r)
                yield slice(n, n + 1), (*prefix, r), (rows, *extent[axis + 1 :])
