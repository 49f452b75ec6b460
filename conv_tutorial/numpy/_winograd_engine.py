"""Winograd's minimal filtering F(2, 3) (Lavin and Gray, 2016) for unit-stride 3-tap, 3x3 and 3x3x3 kernels.

For convolutions with many channels it needs fewer multiplications than im2col's matrix product.

Along one axis, two outputs of a 3-tap filter ``g`` over four inputs ``d`` are
``A^T [(G g) * (B^T d)]``: four multiplications instead of six. Along both axes of an image, a tile
of 2x2 outputs costs 16 multiplications per channel pair instead of 36, 2.25 times fewer. The
multiplications of all tiles and channels are 16 matrix products ``V[k] @ U[k]`` (4 in 1D; ``V``:
the transformed input tiles, ``tiles x C_in``; ``U``: the transformed weight, ``C_in x C_out``),
the input and output transforms are additions and subtractions of strided views, and the weight's
is one matrix product with the ``16 x 9`` Kronecker product ``kron(G, G)``. It pays where the
matrix products dominate, that is with many channels; the general engine's fast path
(:mod:`conv_tutorial.numpy._flat_engine`) does the rest.

A 3D convolution (a video: frames of images) is the sum over its kernel's three frame taps of 2D
convolutions: output frame ``d`` is the sum of frame ``d + t`` of the padded input convolved with
the kernel's slice ``t``. The tiles cover the last two axes only, and that sum is taken in the
transformed domain, before one output transform per output frame. Laid out
``(16, tiles, frames, C_in)``, the frames an output frame reads are ``3 C_in`` adjacent numbers of
each tile's row, so each of the 16 products takes all three taps at once,
``(tiles, 3 C_in) @ (3 C_in, C_out)``, from a strided view without a copy. A tap that reads only
padding is left out of the product (the first and last output frames with padding 1; a clip of one
frame keeps only its middle tap). F(2, 3) along the frames as well needs 3.4 times fewer
multiplications than the direct product, not 2.25, but a tile's transformed data is ``64 C``
numbers instead of ``16 C``: the blocks of tiles that fit the same memory hold four times fewer
tiles, and 64 skinny products (24 tiles by 256 channels for R3D-18's 256-channel layer) run far
below the matrix product's speed. Measured on one thread against PyTorch, R3D-18's 128- and
256-channel layers took 1.26 and 2.27 times its time that way, 1.19 and 1.69 with blocks four
times larger (and up to three times its peak memory), and 1.22 and 1.36 this way.

The transforms mix values: with an inf or NaN anywhere, a tile's other outputs would read
``inf - inf``, so finite arrays only. The tiles go in blocks whose transformed arrays take at most
:data:`WINOGRAD_BLOCK_BYTES`, sized to keep the peak memory near PyTorch's. The tests hold it
equal to PyTorch and to the general engine; no chapter prints it (the chapters print the general
engine it stands in for).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ._threads import even_block_size

__all__ = ["WINOGRAD_BLOCK_BYTES", "WINOGRAD_MAX_WASTE", "WINOGRAD_MIN_CHANNELS", "winograd_conv_forward"]

#: Most bytes of the transformed input (or output) tiles of one block. Two arrays of that size are
#: alive at once (the transformed input and the products), so a block is also kept to what the
#: output and PyTorch's own copies leave room for: see :func:`_block_bytes`.
WINOGRAD_BLOCK_BYTES = 8 * 2**20

#: Least ``C_in * C_out / (C_in + C_out)`` (half the harmonic mean of the channel counts) for which
#: the saved multiplications outweigh the transforms, whose cost grows with ``C_in + C_out``.
WINOGRAD_MIN_CHANNELS = 16

#: Most outputs a block of 2-wide tiles may compute per output kept (an odd size computes one
#: more row and column that are thrown away: 7x7 computes 8x8, 64/49 of the work, and still needs
#: 1.7 times fewer multiplications than the direct product).
WINOGRAD_MAX_WASTE = 1.35

#: ``G``, which transforms the three taps of a kernel along one axis into four.
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def winograd_conv_forward(x: np.ndarray, weight: np.ndarray, stride, padding, dilation, groups: int):
    """Convolution without bias by F(2, 3) along the last two axes (one in 1D), or ``None`` when it does not apply.

    Applies to float32 (where speed is what matters: in float64 the direct product keeps the
    general engine's rounding, number for number), one group, 3-tap kernels along every axis,
    unit stride and dilation, padding of at most 1 on each side, channels of at least
    :data:`WINOGRAD_MIN_CHANNELS`, and finite arrays. In 3D the first axis (the frames) is summed
    over the kernel's taps in the transformed domain, not cut into tiles.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, *S)
        ``S`` has one to three axes.
    weight : ndarray, shape (C_out, C_in, 3, ..., 3)
    stride, dilation : tuple of int
    padding : tuple of (int, int)
    groups : int

    Returns
    -------
    ndarray, shape (N, C_out, *O), or None
        ``O = S + left + right - 2``.

    Examples
    --------
    >>> x = np.ones((1, 32, 1, 4, 4), dtype=np.float32)
    >>> w = np.ones((32, 32, 3, 3, 3), dtype=np.float32)
    >>> y = winograd_conv_forward(x, w, (1, 1, 1), ((1, 1),) * 3, (1, 1, 1), 1)
    >>> y.shape, y[0, 0, 0].tolist()[0]  # one frame: only the kernel's middle slice reads it
    ((1, 32, 1, 4, 4), [128.0, 192.0, 192.0, 128.0])
    """
    batch, c_in, *spatial = x.shape
    c_out, n = weight.shape[0], len(spatial)
    out_spatial = [size + lo + hi - 2 for size, (lo, hi) in zip(spatial, padding, strict=True)]
    tiled = out_spatial[-2:]  # the axes cut into tiles; a third, first axis is the frames
    if (
        x.dtype != np.float32
        or groups != 1
        or weight.shape[2:] != (3,) * n
        or any(s != 1 for s in stride)
        or any(d != 1 for d in dilation)
        or any(p > 1 for pair in padding for p in pair)
        or min(out_spatial, default=0) < 1
        or min(tiled, default=0) < 2
        or math.prod(2 * -(-o // 2) for o in tiled) > WINOGRAD_MAX_WASTE * math.prod(tiled)
        or batch == 0
        or c_in * c_out < WINOGRAD_MIN_CHANNELS * (c_in + c_out)
        or not (_all_finite(weight) and _all_finite(x))
    ):
        return None
    if n == 3:
        return _frames_forward(x, weight, padding)
    # An image is a video of one frame, convolved by a kernel of one frame tap.
    return _frames_forward(x[:, :, None], weight[:, :, None], ((0, 0), *padding))[:, :, 0]


def _all_finite(a: np.ndarray) -> bool:
    """Whether every number of ``a`` is finite.

    The dot product of the numbers with themselves is finite exactly when they all are (a square is
    never negative, so an inf cannot cancel), unless it overflows, which only numbers beyond about
    ``1e19`` in float32 make it do; then each number is checked. One read of ``a`` by the BLAS
    library, about twice as fast as ``np.isfinite(a).all()``, which writes an array of its size
    (what a strided ``a`` gets, rather than a copy).
    """
    if not a.flags.c_contiguous:
        return bool(np.isfinite(a).all())
    flat = a.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        square = np.dot(flat, flat)
    return bool(np.isfinite(square) or np.isfinite(a).all())


def _frames_forward(x: np.ndarray, weight: np.ndarray, padding) -> np.ndarray:
    """F(2, 3) along the tiled axes (all but the frames axis, the first), frame taps summed in the products.

    ``x``: ``(N, C_in, D, *S)``, ``weight``: ``(C_out, C_in, K_D, 3, ...)``, ``padding``: one pair per
    axis, the frames' first. Returns ``(N, C_out, D_out, *O)``.
    """
    batch, c_in, depth, *spatial = x.shape
    c_out, taps, m = weight.shape[0], weight.shape[2], len(spatial)
    (front, back), tile_padding = padding[0], padding[1:]
    depth_out = depth + front + back - taps + 1
    out_spatial = [size + lo + hi - 2 for size, (lo, hi) in zip(spatial, tile_padding, strict=True)]
    # Output frame d reads input frame d + t - front with tap t: the taps that read a frame of the
    # input, not its padding, are a run (first, stop).
    live = [(max(0, front - d), min(taps, depth + front - d)) for d in range(depth_out)]
    first, stop = min(a for a, _ in live), max(b for _, b in live)
    u = _weight_transform(weight[:, :, first:stop])  # (4^m, C_out, live taps * C_in)
    out = np.empty((batch, c_out, depth_out, *out_spatial), dtype=x.dtype)
    per_tile = 4**m * max(depth * c_in, depth_out * c_out) * x.itemsize  # transformed numbers of one tile
    budget = _block_bytes(x.nbytes, weight.nbytes, out.nbytes, u.nbytes)
    tiles = [-(-o // 2) for o in out_spatial]
    for images, box in _tile_boxes(batch, tiles, max(1, budget // per_tile)):
        v = _padded_block(x, images, box, tile_padding)
        for _ in range(m):  # the last axis first, so the transforms' axes end up in the axes' order
            v = _input_transform(v, m)
        count = v.size // (4**m * depth * c_in)  # tiles in the block
        v = v.reshape(4**m, count, depth, c_in)
        p = np.empty((4**m, depth_out, count, c_out), dtype=x.dtype)
        for d, (a, b) in enumerate(live):
            # Frames d + a - front .. d + b - front of each tile: (b - a) * C_in adjacent numbers.
            frames = v[:, :, d + a - front : d + b - front].reshape(4**m, count, (b - a) * c_in)
            np.matmul(frames, u[:, :, (a - first) * c_in : (b - first) * c_in].transpose(0, 2, 1), out=p[:, d])
        del v, frames
        p = p.reshape((4,) * m + (depth_out, images.stop - images.start, *(s.stop - s.start for s in box), c_out))
        for _ in range(m):
            p = _output_transform(p, m + 1)
        kept = [slice(2 * s.start, min(2 * s.stop, o)) for s, o in zip(box, out_spatial, strict=True)]
        crop = p[(slice(None), slice(None), *(slice(0, k.stop - k.start) for k in kept))]
        out[(images, slice(None), slice(None), *kept)] = np.moveaxis(crop, (0, -1), (2, 1))
    return out


def _block_bytes(x_bytes: int, weight_bytes: int, out_bytes: int, u_bytes: int) -> int:
    """Bytes of one block's transformed tiles: :data:`WINOGRAD_BLOCK_BYTES` at most, 1 MiB at least.

    Besides the output, this path holds the transformed weight ``u`` and, per block, two arrays of
    the block's size; PyTorch's float32 convolution holds copies of its input and weight, reordered.
    Blocks of half the output's size, or of a quarter of what PyTorch's copies take beyond ``u`` if
    more, keep the peak near PyTorch's. Larger blocks make larger matrix products, which run faster,
    most on two threads (R3D-18's 128-channel layer takes whole images, 196 tiles, not bands of
    84); and R3D-18's 512-channel layer on one frame, whose weight is mostly taps that read only
    padding, gets blocks of 64 tiles where the 2D layer of the same shape gets 32.
    """
    spare = max(out_bytes // 2, (x_bytes + weight_bytes - u_bytes) // 4)
    return min(WINOGRAD_BLOCK_BYTES, max(2**20, spare))


def _tile_boxes(batch: int, tiles, count: int):
    """Blocks of at most ``count`` tiles (one at least): ``(images, tile slices per axis)``.

    Whole images go together while they fit; else an image is cut into bands along the first axis
    whose slices of the later axes fit, one band for every tile index of the axes before it. Whole
    images go in blocks as even as can be (8 images in blocks of at most 6 go 4 and 4, not 6 and 2:
    a small last block's products run slower, most on two threads).
    """
    per_image = math.prod(tiles)
    if per_image <= count:
        step = even_block_size(batch, count // per_image)
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
    """The input that the tiles ``box`` (a slice per tiled axis) of ``images`` read, zero-padded.

    ``x`` is ``(N, C_in, D, *S)``; the block is ``(images, 2 * tiles + 2 per tiled axis, D, C_in)``,
    frames and channels last: every transform adds rows of ``D * C_in`` contiguous numbers, and
    the frames of one tile are adjacent for the products.
    """
    block = np.zeros(
        (images.stop - images.start, *(2 * (b.stop - b.start) + 2 for b in box), *x.shape[2:0:-1]), dtype=x.dtype
    )
    src, dst = [], []
    for b, (lo, _), size, extent in zip(box, padding, x.shape[3:], block.shape[1:-2], strict=True):
        first = 2 * b.start - lo  # the input index of the block's first padded index
        start, stop = max(first, 0), min(first + extent, size)
        src.append(slice(start, max(start, stop)))
        dst.append(slice(start - first, max(start, stop) - first))
    block[(slice(None), *dst)] = np.moveaxis(x[(images, slice(None), slice(None), *src)], (1, 2), (-1, -2))
    return block


def _weight_transform(weight: np.ndarray) -> np.ndarray:
    """``G g G^T`` over the tiled kernel axes: ``(C_out, C_in, K_D, 3, ...)`` to ``(4^m, C_out, K_D * C_in)``.

    Row ``t * C_in + i`` of a product's weight is tap ``t`` of input channel ``i``. Along one axis,
    ``G g = (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2)``; along ``m`` axes the transform is
    the Kronecker product of ``m`` copies of ``G``, a ``4^m x 3^m`` matrix, and all filters are
    transformed by one matrix product with it.
    """
    c_out, c_in, taps, *kernel = weight.shape
    kron = _G
    for _ in kernel[1:]:
        kron = np.kron(kron, _G)
    kron = kron.astype(weight.dtype)
    u = np.empty((len(kron), c_out * taps * c_in), dtype=weight.dtype)
    # Several taps need their rows tap-major, and a weight that is a view (a transposed convolution's
    # flipped kernel) its rows gathered: copies made 1 MiB of filters at a time, which stay small.
    one_view = taps == 1 and weight.flags.c_contiguous
    step = c_out if one_view else max(1, 2**20 // (weight[0].size * weight.itemsize))
    for o in range(0, c_out, step):
        g = weight[o : o + step].reshape(-1, c_in, taps, len(kron[0]))
        rows = g.transpose(0, 2, 1, 3).reshape(-1, len(kron[0]))
        np.matmul(kron, rows.T, out=u[:, o * taps * c_in : (o + step) * taps * c_in])
    return u.reshape(len(kron), c_out, taps * c_in)


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
