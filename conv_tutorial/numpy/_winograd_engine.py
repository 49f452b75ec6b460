"""Winograd's minimal filtering F(2, 3) (Lavin and Gray, 2016) for unit-stride 3x3 and 3x3x3
convolutions with many channels: fewer multiplications than im2col's matrix product.

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
:data:`WINOGRAD_BLOCK_BYTES`. The tests hold it equal to PyTorch and to the general engine.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["WINOGRAD_BLOCK_BYTES", "WINOGRAD_MAX_WASTE", "WINOGRAD_MIN_CHANNELS", "winograd_conv_forward"]

#: Bytes of the transformed input tiles of one block.
WINOGRAD_BLOCK_BYTES = 4 * 2**20

#: Least ``C_in * C_out / (C_in + C_out)`` (half the harmonic mean of the channel counts) for which
#: the saved multiplications outweigh the transforms, whose cost grows with ``C_in + C_out``.
WINOGRAD_MIN_CHANNELS = 16

#: Most outputs a block of 2-wide tiles may compute per output kept (an odd size computes one
#: more row that is thrown away: 7x7 computes 8x8, 64/49 of the work).
WINOGRAD_MAX_WASTE = 1.2


def winograd_conv_forward(x: np.ndarray, weight: np.ndarray, stride, padding, dilation, groups: int):
    """Convolution without bias by F(2, 3) along every axis, or ``None`` when it does not apply.

    Applies to one group, 3-tap kernels along every axis, unit stride and dilation, padding of at
    most 1 on each side, channels of at least :data:`WINOGRAD_MIN_CHANNELS`, and finite arrays.

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
        groups != 1
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
    # Zero-padded input, channels last (N, 2 * tiles + 2 per axis, C_in): every transform then
    # adds rows of C_in contiguous numbers.
    padded = np.zeros((batch, *(2 * t + 2 for t in tiles), c_in), dtype=x.dtype)
    inside = tuple(slice(lo, lo + size) for (lo, _), size in zip(padding, spatial, strict=True))
    padded[(slice(None), *inside)] = np.moveaxis(x, 1, -1)
    u = np.ascontiguousarray(_weight_transform(weight).swapaxes(1, 2))  # (4^n, C_in, C_out)
    out = np.empty((batch, c_out, *out_spatial), dtype=x.dtype)
    per_row = 4**n * c_in * math.prod(tiles[1:]) * x.itemsize  # one row of tiles of one image
    rows = max(1, WINOGRAD_BLOCK_BYTES // per_row)
    if rows >= tiles[0]:
        step = max(1, rows // tiles[0])
        blocks = [(slice(b, min(b + step, batch)), slice(0, tiles[0])) for b in range(0, batch, step)]
    else:
        blocks = [
            (slice(b, b + 1), slice(r, min(r + rows, tiles[0]))) for b in range(batch) for r in range(0, tiles[0], rows)
        ]
    for images, band in blocks:
        v = padded[images, 2 * band.start : 2 * band.stop + 2]
        for _ in range(n):  # the last axis first, so the transforms' axes end up in the axes' order
            v = _input_transform(v, n)
        count = images.stop - images.start
        m = np.matmul(v.reshape(4**n, -1, c_in), u)
        m = m.reshape((4,) * n + (count, band.stop - band.start, *tiles[1:], c_out))
        for _ in range(n):
            m = _output_transform(m, n)
        first = 2 * band.start
        last = min(2 * band.stop, out_spatial[0])
        crop = (slice(None), slice(0, last - first), *(slice(0, o) for o in out_spatial[1:]))
        out[images, :, first:last] = np.moveaxis(m[crop], -1, 1)
    return out


def _weight_transform(weight: np.ndarray) -> np.ndarray:
    """``G g G^T`` along every kernel axis: ``(C_out, C_in, 3, ...)`` to ``(4^n, C_out, C_in)``.

    Along one axis, ``G g = (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2)``.
    """
    n = weight.ndim - 2
    u = np.moveaxis(weight, (0, 1), (n, n + 1))  # (3, ..., 3, C_out, C_in), a view
    for _ in range(n):  # the last kernel axis first, so the transforms' axes end up in the axes' order
        # The last kernel axis not yet transformed is always at n - 1 (transformed ones lead).
        g0, g1, g2 = (u[(slice(None),) * (n - 1) + (k,)] for k in range(3))
        t = np.empty((4, *g0.shape), dtype=weight.dtype)
        t[0] = g0
        np.add(g0, g2, out=t[1])
        np.subtract(t[1], g1, out=t[2])
        t[1] += g1
        t[1:3] *= 0.5
        t[3] = g2
        u = t
    return u.reshape(4**n, *weight.shape[:2])


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
    """``A^T m`` over the first axis (4 transformed rows): two outputs per tile, interleaved into
    the tile axis at ``axis`` (after the first axis is gone), which doubles."""
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
