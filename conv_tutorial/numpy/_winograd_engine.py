"""Winograd's minimal filtering F(2, 3) (Lavin and Gray, 2016) for unit-stride 3x3 and 3x3x3 kernels.

For convolutions with many channels it needs fewer multiplications than im2col's matrix product.

Along one axis, two outputs of a 3-tap filter ``g`` over four inputs ``d`` are
``A^T [(G g) * (B^T d)]``: four multiplications instead of six. Applied along every axis, a tile of
``2^n`` outputs costs ``4^n`` multiplications per channel pair instead of ``2^n * 3^n``: 2.25 times
fewer in 2D, 3.4 times fewer in 3D. The multiplications of all tiles and channels are ``4^n``
matrix products ``U[k] @ V[k]`` (``U``: the transformed weight, ``C_out x C_in``; ``V``: the
transformed input tiles, ``C_in x tiles``), and the transforms are additions and subtractions of
strided views. It pays where the matrix products dominate, that is with many channels; the
general engine's fast path (:mod:`conv_tutorial.numpy._flat_engine`) does the rest.

The transforms mix values: with an inf or NaN anywhere, a tile's other outputs would read
``inf - inf``, so finite arrays only. The tiles go in blocks whose transformed arrays take about
:data:`WINOGRAD_BLOCK_BYTES`. The tests hold it equal to PyTorch and to the general engine;
no chapter prints it (the chapters print the general engine it stands in for).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["WINOGRAD_BLOCK_BYTES", "WINOGRAD_MAX_WASTE", "WINOGRAD_MIN_CHANNELS", "winograd_conv_forward"]

#: Most bytes of the transformed input (or output) tiles of one block. The transforms make several
#: arrays of that size, so a block also takes at most half the output's size (1 MiB at least).
WINOGRAD_BLOCK_BYTES = 3 * 2**20

#: Least ``C_in * C_out / (C_in + C_out)`` (half the harmonic mean of the channel counts) for which
#: the saved multiplications outweigh the transforms, whose cost grows with ``C_in + C_out``.
WINOGRAD_MIN_CHANNELS = 16

#: Most outputs a block of 2-wide tiles may compute per output kept (an odd size computes one
#: more row that is thrown away: 7x7 computes 8x8, 64/49 of the work).
WINOGRAD_MAX_WASTE = 1.2


def winograd_conv_forward(x: np.ndarray, weight: np.ndarray, stride, padding, dilation, groups: int):
    """Convolution without bias by F(2, 3) along every axis, or ``None`` when it does not apply.

    Applies to float32 (where speed is what matters: in float64 the direct product keeps the
    general engine's rounding, number for number), one group, 3-tap kernels along every axis,
    unit stride and dilation, padding of at most 1 on each side, channels of at least
    :data:`WINOGRAD_MIN_CHANNELS`, and finite arrays.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, *S)
    weight : ndarray, shape (C_out, C_in, 3, ..., 3)
    stride, dilation : tuple of int
    padding : tuple of (int, int)
    groups : int

    Returns
    -------
    ndarray, shape (N, C_out, *O), or None
        ``O = S + left + right - 2``.
    """
    batch, c_in, *spatial = x.shape
    c_out, n = weight.shape[0], len(spatial)
    out_spatial = [size + lo + hi - 2 for size, (lo, hi) in zip(spatial, padding, strict=True)]
    if (
        x.dtype != np.float32
        or groups != 1
        or weight.shape[2:] != (3,) * n
        or any(s != 1 for s in stride)
        or any(d != 1 for d in dilation)
        or any(p > 1 for pair in padding for p in pair)
        or min(out_spatial, default=0) < 2
        or math.prod(2 * -(-o // 2) for o in out_spatial) > WINOGRAD_MAX_WASTE * math.prod(out_spatial)
        or batch == 0
        or c_in * c_out < WINOGRAD_MIN_CHANNELS * (c_in + c_out)
        or not (np.isfinite(weight).all() and np.isfinite(x).all())
    ):
        return None
    tiles = [-(-o // 2) for o in out_spatial]
    u = _weight_transform(weight)  # (4^n, C_in, C_out)
    out = np.empty((batch, c_out, *out_spatial), dtype=x.dtype)
    per_tile = 4**n * max(c_in, c_out) * x.itemsize  # transformed numbers of one tile
    # Blocks of at most half the output's size (1 MiB at least) keep the peak memory near PyTorch's.
    budget = min(WINOGRAD_BLOCK_BYTES, max(2**20, out.nbytes // 2))
    for images, box in _tile_boxes(batch, tiles, max(1, budget // per_tile)):
        v = _padded_block(x, images, box, padding)
        for _ in range(n):  # the last axis first, so the transforms' axes end up in the axes' order
            v = _input_transform(v, n)
        m = np.matmul(v.reshape(4**n, -1, c_in), u)
        del v
        m = m.reshape((4,) * n + (images.stop - images.start, *(b.stop - b.start for b in box), c_out))
        for _ in range(n):
            m = _output_transform(m, n)
        kept = [slice(2 * b.start, min(2 * b.stop, o)) for b, o in zip(box, out_spatial, strict=True)]
        out[(images, slice(None), *kept)] = np.moveaxis(
            m[(slice(None), *(slice(0, k.stop - k.start) for k in kept))], -1, 1
        )
    return out


def _tile_boxes(batch: int, tiles, count: int):
    """Blocks of at most ``count`` tiles (one at least): ``(images, tile slices per axis)``.

    Whole images go together while they fit; else an image is cut into bands along the first axis
    whose slices of the later axes fit, one band for every tile index of the axes before it.
    """
    per_image = math.prod(tiles)
    if per_image <= count:
        step = count // per_image
        for b in range(0, batch, step):
            yield slice(b, min(b + step, batch)), [slice(0, t) for t in tiles]
        return
    axis = next(j for j in range(len(tiles)) if math.prod(tiles[j + 1 :]) <= count)
    step = max(1, count // math.prod(tiles[axis + 1 :]))
    for b in range(batch):
        for prefix in itertools.product(*(range(t) for t in tiles[:axis])):
            for r in range(0, tiles[axis], step):
                box = [slice(i, i + 1) for i in prefix] + [slice(r, min(r + step, tiles[axis]))]
                yield slice(b, b + 1), box + [slice(0, t) for t in tiles[axis + 1 :]]


def _padded_block(x: np.ndarray, images: slice, box, padding) -> np.ndarray:
    """The input that the tiles ``box`` (a slice per axis) of ``images`` read, zero-padded, channels last.

    Shape ``(images, 2 * tiles + 2 per axis, C_in)``. Channels last, every transform adds rows of
    ``C_in`` contiguous numbers.
    """
    block = np.zeros(
        (images.stop - images.start, *(2 * (b.stop - b.start) + 2 for b in box), x.shape[1]), dtype=x.dtype
    )
    src, dst = [], []
    for b, (lo, _), size, extent in zip(box, padding, x.shape[2:], block.shape[1:-1], strict=True):
        first = 2 * b.start - lo  # the input index of the block's first padded index
        start, stop = max(first, 0), min(first + extent, size)
        src.append(slice(start, max(start, stop)))
        dst.append(slice(start - first, max(start, stop) - first))
    block[(slice(None), *dst)] = np.moveaxis(x[(images, slice(None), *src)], 1, -1)
    return block


def _weight_transform(weight: np.ndarray) -> np.ndarray:
    """``G g G^T`` along every kernel axis: ``(C_out, C_in, 3, ...)`` to ``(4^n, C_in, C_out)``.

    Along one axis, ``G g = (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2)``. Written one row of
    the first axis's transform at a time, so that besides the result only arrays of a ninth of
    the weight's size (in 3D) are made.
    """
    n = weight.ndim - 2
    u = np.empty((4,) * n + weight.shape[1::-1], dtype=weight.dtype)
    _transform_into(u, np.moveaxis(weight, (0, 1), (n + 1, n)))
    return u.reshape(4**n, *weight.shape[1::-1])


def _transform_into(u: np.ndarray, g: np.ndarray) -> None:
    """Write ``G`` applied along every leading kernel axis of ``g`` (``(3, ..., 3, C_in, C_out)``) into ``u``."""
    if g.ndim == 2:
        u[...] = g
        return
    g0, g1, g2 = g
    _transform_into(u[0], g0)
    _transform_into(u[3], g2)
    outer = np.add(g0, g2)
    half = np.add(outer, g1)
    half *= 0.5
    _transform_into(u[1], half)
    np.subtract(outer, g1, out=half)
    half *= 0.5
    _transform_into(u[2], half)


def _input_transform(d: np.ndarray, axis: int) -> np.ndarray:
    """``B^T d`` along ``axis`` (of length ``2 t + 2``): the four rows of every tile, on a new first axis.

    Tile ``i`` reads ``d[2 i : 2 i + 4]``; its transform is ``(d0 - d2, d1 + d2, d2 - d1, d1 - d3)``.
    """
    t = (d.shape[axis] - 2) // 2

    def row(u):
        return d[(slice(None),) * axis + (slice(u, u + 2 * t - 1, 2),)]

    d0, d1, d2, d3 = (row(u) for u in range(4))
    v = np.empty((4, *d0.shape), dtype=d.dtype)
    np.subtract(d0, d2, out=v[0])
    np.add(d1, d2, out=v[1])
    np.subtract(d2, d1, out=v[2])
    np.subtract(d1, d3, out=v[3])
    return v


def _output_transform(m: np.ndarray, axis: int) -> np.ndarray:
    """``A^T m`` over the first axis (4 transformed rows): two outputs per tile.

    They are interleaved into the tile axis at ``axis`` (after the first axis is gone), which doubles.
    """
    m0, m1, m2, m3 = m
    shape = m0.shape
    y = np.empty((*shape[: axis + 1], 2, *shape[axis + 1 :]), dtype=m.dtype)
    lead = (slice(None),) * (axis + 1)
    y0, y1 = y[(*lead, 0)], y[(*lead, 1)]
    np.add(m0, m1, out=y0)
    y0 += m2
    np.subtract(m1, m2, out=y1)
    y1 -= m3
    return y.reshape(*shape[:axis], 2 * shape[axis], *shape[axis + 1 :])
