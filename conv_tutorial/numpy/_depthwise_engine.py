"""The depthwise fast path of the NumPy engine (chapter 6): one multiply-add per kernel tap, done in cache.

A convolution with one input channel per group runs that way instead of as im2col's matrix product.

With one input channel per group the matmul of :func:`conv_tutorial.numpy.im2col.conv_forward`
multiplies a ``1 x prod(K)`` row by columns that im2col copied ``prod(K)`` times: it moves
``prod(K)`` times the input for a product with a single row. The general engine hands such a
convolution here in one line (:func:`depthwise_forward`), and its transposed engine hands a
transposed depthwise convolution to :func:`depthwise_transpose_as_direct`.

What this path computes is :func:`conv_tutorial.numpy.depthwise.depthwise_conv2d_by_taps`, the
readable loop over taps that chapter 6 prints: for each tap, ``weight[:, tap]`` times the shifted
view of the padded input. Everything here exists to make those multiply-adds fast in NumPy (long
flat slices, blocks that stay in cache, no padded copy where none is needed); the tests hold the
two equal, and both equal to PyTorch.

The blocks write disjoint parts of the output, so they run on several threads at once
(:func:`conv_tutorial.numpy._threads.run_blocks`, :func:`conv_tutorial.numpy.set_num_threads`):
NumPy's ufuncs each run on one core, but release the GIL while they work, and the threads share
the cores as PyTorch's do. A block is computed by the same operations whichever thread runs it,
so the result does not depend on the number of threads, to the bit.

Chapter 6: ``book/06_depthwise_convolution.ipynb``. The torch twin:
:mod:`conv_tutorial.torch._depthwise_engine`.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from ..shapes import ConvGeometry
from ._threads import even_block_size, run_blocks
from ._windows import indices as _indices
from ._windows import pad_spatial, window_view

__all__ = [
    "DEPTHWISE_CACHE_BYTES",
    "DEPTHWISE_SCALAR_ELEMENTS",
    "DEPTHWISE_THREAD_WORK",
    "depthwise_forward",
    "depthwise_transpose_as_direct",
]

#: Bytes that the arrays of one block of the depthwise path may take together (its input, sum,
#: scratch and per-pixel weights): small enough to stay in cache across the kernel's taps (the
#: cache the cores share, with a block per thread), large enough that each NumPy call of a block
#: works for tens of microseconds: every call releases the GIL and takes it back, and on several
#: threads that hand-over costs microseconds, too much for short calls.
DEPTHWISE_CACHE_BYTES = 4 * 2**20

#: Grid positions one channel must have across the batch for the depthwise path to go channel by
#: channel (one number per tap); below it a NumPy call per channel costs more than its work.
DEPTHWISE_SCALAR_ELEMENTS = 16384

#: Work (the input's elements, plus output elements times kernel taps) from which the depthwise
#: path shares its blocks among threads (:func:`conv_tutorial.numpy.set_num_threads`). Below it,
#: measured on two cores, the blocks are too few or too short: handing them and the GIL between
#: threads costs more than it saves, and the calling thread does them all.
DEPTHWISE_THREAD_WORK = 3 * 2**20


class _NotFinite(Exception):
    """A block of the in-place path read an inf or a nan: the path gives up (see :func:`_depthwise_in_place`)."""


def depthwise_forward(x: np.ndarray, weight: np.ndarray, spec) -> np.ndarray:
    """Depthwise convolution (one input channel per group) of a validated spec, without bias.

    ``x`` is the unpadded input ``(N, C_in, *S)``, ``weight`` ``(C_in * m, 1, *K)`` (``m`` filters
    per channel); returns ``(N, C_in * m, *O)``, output channel ``o`` reading input channel
    ``o // m``. With at least as many output positions as kernel taps, one multiply-add per tap
    (:func:`_depthwise_forward`); with fewer (a kernel about the size of the map, a global depthwise
    convolution), each output is a weighted sum of its window, read once in place.
    """
    c_out, n_sp = weight.shape[0], len(spec.kernel_size)
    out = np.empty((x.shape[0], c_out, *spec.output_size), dtype=x.dtype)
    if math.prod(spec.output_size) >= math.prod(spec.kernel_size):
        _depthwise_forward(x, weight, spec, out)
        return out
    windows = window_view(pad_spatial(x, spec.padding), spec.kernel_size, spec.stride, spec.dilation)
    if c_out != x.shape[1]:
        windows = np.repeat(windows, c_out // x.shape[1], axis=1)
    o_axes, k_axes = list(range(2, 2 + n_sp)), list(range(2 + n_sp, 2 + 2 * n_sp))
    out[...] = np.einsum(
        windows, [0, 1, *o_axes, *k_axes], weight.reshape(c_out, *spec.kernel_size), [1, *k_axes], [0, 1, *o_axes]
    )
    return out


def _phase_fills(spatial, padding, stride) -> list[tuple[tuple[int, ...], tuple[slice, ...], tuple[slice, ...]]]:
    """Where the input's pixels go in the polyphase grids of its padded version.

    Grid ``a`` (a tuple, ``0 <= a < stride``) of the padded input holds its pixels ``q * stride + a``,
    that is the input's pixels ``q * stride + a - pad_left``. Returns, for every grid that holds
    any input pixel, ``(a, grid slices, input slices)``: ``grid[a][grid slices] = x[input slices]``;
    the rest of the grid is padding (zeros).
    """
    fills = []
    for phase in _indices(*stride):
        dst, src = [], []
        for a, s, (lo, _), size in zip(phase, stride, padding, spatial, strict=True):
            first = max(0, -(-(lo - a) // s))  # first q with q * s + a - lo >= 0
            stop = (size - 1 + lo - a) // s + 1  # one past the last q with q * s + a - lo < size
            dst.append(slice(first, stop))
            src.append(slice(first * s + a - lo, (stop - 1) * s + a - lo + 1, s))
        if all(d.stop > d.start for d in dst):
            fills.append((phase, tuple(dst), tuple(src)))
    return fills


def _kernel_taps(kernel, dilation, stride, pitch, origin) -> list[tuple]:
    """Where each kernel tap reads, for the depthwise paths: ``(tap, phase, flat offset, shift)``.

    The tap's shift along each axis is ``k * dilation - origin``; with a stride it reads the
    polyphase grid ``phase = shift % stride`` at ``shift // stride``, which is ``flat offset`` in a
    flat array whose axes step by ``pitch``.
    """
    taps = []
    for tap in _indices(*kernel):
        shift = [k * d - o for k, d, o in zip(tap, dilation, origin, strict=True)]
        phase = tuple(v % s for v, s in zip(shift, stride, strict=True))
        taps.append((tap, phase, sum((v // s) * p for v, s, p in zip(shift, stride, pitch, strict=True)), shift))
    return taps


def _depthwise_forward(x: np.ndarray, weight: np.ndarray, spec, out: np.ndarray) -> None:
    """Depthwise convolution (one input channel per group) as one multiply-add per kernel tap.

    Each tap adds ``weight[o, 0, tap] * (the input shifted by the tap)`` into the output, reading
    the input in place. Output channel ``o`` reads input channel ``o // m`` (``m = C_out / C_in`` is the
    channel multiplier).

    The work goes block by block, and each block is done in cache: its images are copied into a
    zero-padded buffer, flattened, ``prod(K)`` multiply-adds run over the buffer, and the result is
    cropped into ``out``. Flattened, a tap's shift is one contiguous slice and every multiply-add
    is one vectorised loop over the whole block (NumPy is slow on many short rows); positions past
    an image's right or bottom edge read the next row or image, which is harmless because they
    are cropped. A stride is a unit-stride convolution of the padded input's polyphase grids
    (:func:`_phase_fills`): each tap reads one grid. A block is either

    - consecutive channels across the batch (when the batch holds at least
      :data:`DEPTHWISE_SCALAR_ELEMENTS` grid positions of a channel): every tap multiplies each
      channel by a single number (:func:`_channels_across_the_batch`);
    - or consecutive channels of one image: every tap multiplies by a row of per-pixel weights,
      built once per block of channels and reused for every image.

    A block's arrays take about :data:`DEPTHWISE_CACHE_BYTES`, so that the passes stay in cache,
    and the blocks run on the threads of :func:`conv_tutorial.numpy._threads.run_blocks`.
    A 'same' convolution (stride 1, output as large as the input, no multiplier) of finite values
    skips the copy and the crop: :func:`_depthwise_in_place`. Both sum the taps with
    :func:`_sum_of_taps`, a kernel column per ``einsum`` (:func:`_tap_runs`).
    ``x`` is the unpadded input ``(N, C_in, *S)``, ``weight`` ``(C_in * m, 1, *K)``; writes
    ``out`` ``(N, C_in * m, *O)``.
    """
    batch, c_in = x.shape[:2]
    channels = weight.shape[0]
    m = channels // c_in
    kernel, stride, out_spatial = spec.kernel_size, spec.stride, spec.output_size
    if out.size == 0:
        return
    padded = [size + lo + hi for size, (lo, hi) in zip(x.shape[2:], spec.padding, strict=True)]
    grid = tuple(-(-p // s) for p, s in zip(padded, stride, strict=True))
    size = math.prod(grid)
    per_channel = batch * size >= DEPTHWISE_SCALAR_ELEMENTS
    # In place, a tap's weight is zeroed where it reads the padding: exact only for a finite weight,
    # since inf * 0 is nan (the input's values are checked inside).
    if (
        not per_channel
        and m == 1
        and all(s == 1 for s in stride)
        and tuple(out_spatial) == x.shape[2:]
        and np.isfinite(weight).all()
        and _depthwise_in_place(np.ascontiguousarray(x), weight, spec, out)
    ):
        return
    pitch = [math.prod(grid[i + 1 :]) for i in range(len(grid))]  # flat step of each grid axis
    phase_index = {phase: i for i, phase in enumerate(_indices(*stride))}
    # (kernel index, grid read by the tap, flat shift of the tap within that grid)
    taps = [
        (tap, phase_index[phase], offset)
        for tap, phase, offset, _ in _kernel_taps(kernel, spec.dilation, stride, pitch, (0,) * len(grid))
    ]
    # Reads run past a block's end by at most the largest shift; those positions are cropped.
    margin = max(offset for *_, offset in taps)
    runs, order, bounds = _tap_runs(taps)
    w_taps = weight.reshape(channels, -1)
    fills = _phase_fills(x.shape[2:], spec.padding, stride)
    crop = tuple(slice(0, o) for o in out_spatial)
    threaded = x.size + out.size * len(taps) >= DEPTHWISE_THREAD_WORK
    if per_channel:
        _channels_across_the_batch(
            x, w_taps, out, grid, phase_index, fills, crop, (runs, order, bounds), margin, threaded
        )
        return
    arrays = len(phase_index) + 2 + len(taps)  # grids, sum, scratch, weights
    block = max(1, DEPTHWISE_CACHE_BYTES // (arrays * size * out.itemsize))  # output channels per block
    block = even_block_size(channels // m, max(1, block // m)) * m  # whole groups of m filters
    # (image, output channels, input channels) of every block
    plan = [
        (slice(n, n + 1), slice(c, min(c + block, channels)), slice(c // m, min(c + block, channels) // m))
        for c in range(0, channels, block)
        for n in range(batch)
    ]
    sums = _einsum_subscripts(runs)

    def make_worker():
        """One thread's scratch (padded grids, sum, product) and the function that does a block of the plan."""
        grids = np.zeros((len(phase_index), block * size + margin), dtype=out.dtype)
        acc, part = np.empty(block * size, dtype=out.dtype), np.empty(block * size, dtype=out.dtype)
        shifted = {}
        weighted = weights = None

        def do_block(i: int) -> None:
            nonlocal weighted, weights
            n, o, c = plan[i]
            span = (o.stop - o.start) * size
            for phase, dst, src in fills:  # a multiplier's filters share their input: copied once
                view = grids[phase_index[phase], :span].reshape(1, c.stop - c.start, -1, *grid)
                view[(Ellipsis, *dst)] = x[(n, c, None, *src)]
            if o != weighted:  # per pixel, built once per block of channels and reused for its images
                weights = _run_weights(np.repeat(w_taps[o][:, order].T, size, axis=1), runs, bounds)
                weighted = o
            if span not in shifted:
                shifted[span] = [
                    grids[run.source, run.offset : run.offset + span]
                    if not run.shape
                    else _run_view(grids[run.source], 0, run, span)
                    for run in runs
                ]
            _sum_of_taps(acc[:span], part[:span], shifted[span], weights, sums)
            out[n, o] = acc[:span].reshape(1, o.stop - o.start, *grid)[(Ellipsis, *crop)]

        return do_block

    run_blocks(len(plan), make_worker, threaded)


def _channels_across_the_batch(x, w_taps, out, grid, phase_index, fills, crop, tap_runs, margin, threaded) -> None:
    """The blocks of :func:`_depthwise_forward` for a large batch: channels across the batch, one weight per tap.

    A block holds input channels ``c0`` to ``c1`` of images ``n0`` to ``n1`` (all the images, unless
    one channel's take more than :data:`DEPTHWISE_CACHE_BYTES`): the images of a channel make one
    flat row of the padded grids, and every multiply-add runs over all the rows at once, each row
    (each output channel) times its own number. The ``m`` filters of an input channel read its row
    through a view that repeats it (a stride of 0), so it is copied once.
    ``w_taps`` is the weight ``(C_in * m, prod(K))``, ``tap_runs`` what :func:`_tap_runs` returns;
    the other arguments as computed there.
    """
    batch, c_in = x.shape[:2]
    m = w_taps.shape[0] // c_in
    runs, order, bounds = tap_runs
    size, phases, item = math.prod(grid), len(phase_index), out.itemsize
    per_image = size * (phases + 2 * m) * item  # one input channel's grids, its filters' sums and scratch
    images = even_block_size(batch, max(1, DEPTHWISE_CACHE_BYTES // per_image))
    channels = even_block_size(c_in, max(1, DEPTHWISE_CACHE_BYTES // (per_image * images))) if images == batch else 1
    plan = [(n, c) for c in range(0, c_in, channels) for n in range(0, batch, images)]
    sums = _einsum_subscripts(runs, "cm", per_channel=True)
    w_runs = w_taps[:, order].reshape(c_in, m, -1)

    def make_worker():
        """One thread's scratch (padded grids, sum, product) and the function that does a block of the plan."""
        grids = np.zeros((phases, channels * images * size + margin), dtype=out.dtype)
        acc, part = (np.empty(channels * m * images * size, dtype=out.dtype) for _ in range(2))

        def do_block(i: int) -> None:
            n0, c0 = plan[i]
            n, c = slice(n0, min(n0 + images, batch)), slice(c0, min(c0 + channels, c_in))
            rows, length = c.stop - c.start, (n.stop - n.start) * size
            for phase, dst, src in fills:
                view = grids[phase_index[phase], : rows * length].reshape(rows, n.stop - n.start, *grid)
                view[(Ellipsis, *dst)] = x[(n, c, *src)].swapaxes(0, 1)
            w_block = w_runs[c]
            weights = [
                w_block[:, :, a:b].reshape(rows, m, *run.shape) if run.shape else w_block[:, :, a, None]
                for run, (a, b) in zip(runs, bounds, strict=True)
            ]
            shifted = [
                np.ndarray(
                    (rows, m, *run.shape, length),
                    out.dtype,
                    grids[run.source],
                    run.offset * item,
                    (length * item, 0, *(s * item for s in run.steps), item),
                )
                for run in runs
            ]
            total = acc[: rows * m * length].reshape(rows, m, length)
            _sum_of_taps(total, part[: rows * m * length].reshape(rows, m, length), shifted, weights, sums)
            result = total.reshape(rows * m, n.stop - n.start, *grid).swapaxes(0, 1)
            out[n, c.start * m : c.stop * m] = result[(Ellipsis, *crop)]

        return do_block

    run_blocks(len(plan), make_worker, threaded)


class _Run(NamedTuple):
    """Taps one strided view reads: a single tap (``shape == ()``) or a grid of them.

    The view of ``source`` has shape ``(*shape, span)``; tap ``(i, ...)`` of the grid starts at
    ``offset + i * steps[0] + ...``. ``taps`` are their numbers, in the grid's row-major order.
    """

    source: int
    offset: int
    steps: tuple[int, ...]
    shape: tuple[int, ...]
    taps: list[int]


def _tap_runs(taps) -> tuple[list[_Run], list[int], list[tuple[int, int]]]:
    """Group kernel taps into runs that one strided view reads, for one ``einsum`` each.

    ``taps`` lists ``(kernel index, source, flat offset)``. Taps that differ only in their first
    kernel index and read the same source (for a 3x3 kernel: the three taps of a column) lie a
    constant step apart: a view of shape ``(3, span)`` with that step between rows holds them.
    Such columns whose offsets step by two or more elements (columns 0 and 2 of a 3x3 kernel) make
    one view ``(2, 3, span)``; a step of one element would put that axis innermost in einsum's
    loops, which is slow. Runs of fewer than three taps gain nothing and are split. Returns the
    runs, the tap numbers run after run, and each run's ``(start, stop)`` in that order.
    """
    groups = {}
    for number, (index, source, offset) in enumerate(taps):
        groups.setdefault((source, index[1:]), []).append((offset, number))
    columns, runs = {}, []
    for members in groups.values():
        source = taps[members[0][1]][1]
        offsets = [offset for offset, _ in members]
        step = offsets[1] - offsets[0] if len(offsets) > 1 else 0
        if len(members) >= 3 and all(b - a == step for a, b in pairwise(offsets)):
            columns.setdefault((source, step, len(members)), []).append((offsets[0], [n for _, n in members]))
        else:
            runs.extend(_Run(source, offset, (), (), [number]) for offset, number in members)
    for (source, step, length), found in columns.items():
        found.sort()
        by_parity = {}
        for offset, numbers in found:
            by_parity.setdefault((offset - found[0][0]) % 2, []).append((offset, numbers))
        for same in by_parity.values():
            offsets = [offset for offset, _ in same]
            gap = offsets[1] - offsets[0] if len(same) > 1 else 0
            if len(same) > 1 and all(b - a == gap for a, b in pairwise(offsets)):
                runs.append(
                    _Run(
                        source,
                        offsets[0],
                        (gap, step),
                        (len(same), length),
                        [n for _, numbers in same for n in numbers],
                    )
                )
            else:
                runs.extend(_Run(source, offset, (step,), (length,), numbers) for offset, numbers in same)
    order = [number for run in runs for number in run.taps]
    ends = np.cumsum([0] + [len(run.taps) for run in runs]).tolist()
    return runs, order, list(zip(ends[:-1], ends[1:], strict=True))


def _run_view(source: np.ndarray, start: int, run: _Run, span: int, rows: tuple[int, int] | None = None) -> np.ndarray:
    """A view of what ``run`` reads from the flat ``source`` for the outputs ``start`` to ``start + span``.

    The view is ``(*run.shape, span)``; with ``rows = (count, pitch)``, that for ``count`` images ``pitch``
    elements apart, ``(count, *run.shape, span)``. The rows of the view overlap.
    """
    item = source.itemsize
    shape, strides = (*run.shape, span), (*(s * item for s in run.steps), item)
    if rows is not None:
        shape, strides = (rows[0], *shape), (rows[1] * item, *strides)
    # The constructor checks that the view stays inside ``source`` (and costs a tenth of as_strided).
    return np.ndarray(shape, source.dtype, source, (start + run.offset) * item, strides)


def _run_weights(weights: np.ndarray, runs: list[_Run], bounds) -> list:
    """Split weights ``(taps, ...)``, ordered run after run, at the runs' ``bounds``: one entry per run.

    Each entry is shaped like its run's grid of taps (a single tap's is its row).
    """
    return [
        weights[a] if not run.shape else weights[a:b].reshape(*run.shape, *weights.shape[1:])
        for run, (a, b) in zip(runs, bounds, strict=True)
    ]


def _einsum_subscripts(runs: list[_Run], lead: str = "", per_channel: bool = False) -> list:
    """Each run's einsum subscripts, or None for a single tap (which is a multiply).

    A run's einsum is the sum of its taps' products with their weights. ``lead`` names the axes
    before a run's taps (``"n"``: the images as rows; ``"cm"``: channels and their filters). The
    weights are a row of per-pixel weights per tap, the same for every ``lead`` index, or with
    ``per_channel`` one number per tap for each ``lead`` index.
    """
    subscripts = []
    for run in runs:
        axes = "rt"[2 - len(run.shape) :]
        weights = f"{lead}{axes}" if per_channel else f"{axes}p"
        subscripts.append(f"{lead}{axes}p,{weights}->{lead}p" if run.shape else None)
    return subscripts


def _sum_of_taps(acc: np.ndarray, part: np.ndarray, shifted: list, weights: list, sums: list) -> None:
    """``acc = sum over runs of shifted * weights``: the loop the depthwise paths spend their time in.

    A run of one tap (``sums`` entry None) is a multiply by a number or a row of per-pixel
    weights. A longer run is a view ``(..., taps, span)`` (see :func:`_tap_runs`), summed by one
    ``einsum`` with the subscripts in ``sums`` without writing each tap's product out: NumPy has
    no fused multiply-add, and this saves a pass over the data for every tap but one of a run.
    ``part`` is scratch of ``acc``'s shape.
    """
    target = acc
    for source, weight, subscripts in zip(shifted, weights, sums, strict=True):
        if subscripts is None:
            np.multiply(source, weight, target)
        else:
            np.einsum(subscripts, source, weight, out=target)
        if target is part:
            np.add(acc, part, acc)
        target = part


def _depthwise_in_place(x: np.ndarray, weight: np.ndarray, spec, out: np.ndarray) -> bool:
    """The depthwise path for a 'same' convolution of finite values: no padded copy, the taps add into ``out``.

    A 'same' convolution has stride 1 and an output as large as the input; the taps read ``x`` and add into
    ``out`` in place.

    Flattened, a tap's shift is again one slice, and the reads that fall in the padding land on a
    neighbouring row, image or channel instead; the per-pixel weights of each tap are zero at
    exactly those positions. That saves the copy into a padded buffer, the crop, and the work on
    the padding, which is most of a small map (49 outputs on an 81-pixel grid at 7x7). A zero
    weight cancels a finite value only: the values a block reads are checked first (they are
    then in cache for its taps), and on an inf or nan the function returns False and the caller
    starts over with a padded copy. Its blocks (channels of every image) run on the threads of
    :func:`conv_tutorial.numpy._threads.run_blocks`; the first to meet an inf or a nan stops them.
    ``x`` is C-contiguous ``(N, C, *S)``, ``weight`` ``(C, 1, *K)``; writes ``out`` ``(N, C, *S)``
    and returns True.
    """
    batch, channels = x.shape[:2]
    spatial = x.shape[2:]
    size = math.prod(spatial)
    pitch = [math.prod(spatial[i + 1 :]) for i in range(len(spatial))]
    taps, padding = [], []
    ones = (1,) * len(spatial)
    for tap, _, offset, shift in _kernel_taps(
        spec.kernel_size, spec.dilation, ones, pitch, [lo for lo, _ in spec.padding]
    ):
        taps.append((tap, 0, offset))
        # The outputs whose read falls in the padding: along each axis the tap shifts, a slab at the
        # start (shift < 0) or the end (shift > 0). Their weight is zero.
        slabs = []
        for axis, (v, length) in enumerate(zip(shift, spatial, strict=True)):
            if v:
                part = slice(0, min(length, -v)) if v < 0 else slice(max(0, length - v), length)
                slabs.append((slice(None),) * (axis + 1) + (part,))  # after the channel axis
        padding.append(slabs)
    runs, order, bounds = _tap_runs(taps)
    sums = _einsum_subscripts(runs)
    batch_sums = _einsum_subscripts(runs, "n")  # the images as rows
    shifts = [shift for *_, shift in taps]
    before, after = max(0, -min(shifts)), max(0, max(shifts))
    # A block is a range of channels in every image: the block's input, sum and scratch in each
    # image, and the weights of every tap.
    arrays = 3 * batch + len(taps)
    block = even_block_size(channels, max(1, DEPTHWISE_CACHE_BYTES // (arrays * size * out.itemsize)))
    image = channels * size
    flat_x, rows_out = x.reshape(-1), out.reshape(batch, image)
    w_taps = weight.reshape(channels, -1)
    starts = range(0, channels, block)

    def make_worker():
        """One thread's scratch and the function that does a block of channels in every image."""
        part = np.empty((batch, block * size), dtype=out.dtype)
        # The first image of the first block reads before the array and the last image of the last
        # block past it, in the padding: those two read a copy of their span with zeros around it.
        edge = np.zeros(before + block * size + after, dtype=out.dtype)

        def do_block(i: int) -> None:
            c0 = starts[i]
            c1 = min(c0 + block, channels)
            lo, span = c0 * size, (c1 - c0) * size
            weights = np.repeat(w_taps[c0:c1, order].T, size, axis=1)  # (taps, span): each pixel's weight
            for row, t in zip(weights, order, strict=True):
                for slab in padding[t]:
                    row.reshape(c1 - c0, *spatial)[slab] = 0  # a view: zeroes the weights in place
            weights = _run_weights(weights, runs, bounds)
            # Images n0 to n1 read inside x; the others (the first and last, for big shifts on tiny
            # images more) read past its ends. What the taps read is checked first, as it comes into
            # cache for them.
            n0 = min(batch, max(0, -(-(before - lo) // image)))
            n1 = max(n0, min(batch, (batch * image - lo - span - after) // image + 1))
            if n1 > n0:  # every image whose reads stay inside x, at once: the images are rows
                span_and_margins = _Run(source=0, offset=0, steps=(), shape=(), taps=[])
                reads = _run_view(
                    flat_x, n0 * image + lo - before, span_and_margins, before + span + after, rows=(n1 - n0, image)
                )
                if not np.isfinite(np.einsum("np,np->", reads, reads)):  # (or it overflowed: start over too)
                    raise _NotFinite
                shifted = [_run_view(flat_x, n0 * image + lo, run, span, rows=(n1 - n0, image)) for run in runs]
                _sum_of_taps(rows_out[n0:n1, lo : lo + span], part[: n1 - n0, :span], shifted, weights, batch_sums)
            for n in [*range(n0), *range(n1, batch)]:
                start = n * image + lo
                first, stop = max(0, start - before), min(flat_x.size, start + span + after)
                edge[:] = 0
                edge[first - start + before : stop - start + before] = flat_x[first:stop]
                if not np.isfinite(np.dot(edge, edge)):
                    raise _NotFinite
                shifted = [_run_view(edge, before, run, span) for run in runs]
                _sum_of_taps(rows_out[n, lo : lo + span], part[0, :span], shifted, weights, sums)

        return do_block

    try:
        run_blocks(len(starts), make_worker, threaded=x.size + out.size * len(taps) >= DEPTHWISE_THREAD_WORK)
    except _NotFinite:
        return False
    return True


def depthwise_transpose_as_direct(y, weight, kernel_size, stride, dilation, canvas_spatial, crop):
    """A transposed depthwise convolution (one input channel per group) as the arguments of a direct one.

    With one input channel per group the columns of
    :func:`conv_tutorial.numpy.im2col.conv_transpose_forward` come from a product with a single
    input row, so instead, as chapter 10 shows in general: stretch the input (``stride - 1``
    zeros between pixels) and convolve it with the kernel flipped, which the engine does on its
    depthwise path. Padded by ``dilation * (k - 1)`` that gives the full scatter; the cropped
    canvas of the transposed engine is a window of it, which is the direct convolution with the
    crop taken off the left padding and the canvas's end (where output_padding adds zeros)
    setting the right one. Where that padding would be negative, the stretched input is cut
    instead. (A stride-1 transposed 'same' convolution is then a 'same' convolution, which the
    depthwise path does in place.) Exact for a finite weight only: the direct convolution
    multiplies it by the zeros between and around the input's pixels.

    Takes the arguments of the transposed engine; returns ``(stretched input, flipped weight
    (C_in * m, 1, *K), ConvGeometry)`` for :func:`conv_tutorial.numpy.im2col.conv_forward`.
    """
    n_sp = len(kernel_size)
    batch, c_in = y.shape[:2]
    c_out = c_in * weight.shape[1]
    if all(s == 1 for s in stride):
        stretched = y
    else:
        stretched = np.zeros(
            (batch, c_in, *((i - 1) * s + 1 for i, s in zip(y.shape[2:], stride, strict=True))), dtype=y.dtype
        )
        stretched[(slice(None), slice(None), *(slice(None, None, s) for s in stride))] = y
    # (C_in, m, *K) flipped -> (C_in * m, 1, *K): output channel c * m + j reads input channel c.
    direct = np.flip(weight, axis=tuple(range(2, 2 + n_sp))).reshape(c_out, 1, *kernel_size)
    window = [
        (d * (k - 1) - lo, size - hi - length)
        for k, d, (lo, hi), size, length in zip(
            kernel_size, dilation, crop, canvas_spatial, stretched.shape[2:], strict=True
        )
    ]
    cut = tuple(
        slice(max(0, -left), length - max(0, -right))
        for (left, right), length in zip(window, stretched.shape[2:], strict=True)
    )
    stretched = stretched[(slice(None), slice(None), *cut)]
    pads = tuple((max(0, left), max(0, right)) for left, right in window)
    geometry = ConvGeometry(
        batch, c_in, c_out, stretched.shape[2:], direct.shape[2:], (1,) * n_sp, pads, tuple(dilation), c_in
    )
    return stretched, direct, geometry
