"""Convolution as matrix multiplication: im2col (``unfold``), col2im (``fold``) and the two
matmul engines every NumPy convolution in this package runs on.

The idea of chapter 2 in code:

- a convolution is ``W @ unfold(x)``: copy every receptive field of the input into a column,
  then one matrix product with the weight reshaped to ``(C_out, C_in * prod(kernel))``;
- a transposed convolution is ``fold(W.T @ y)``: one matrix product makes a column of kernel
  contributions per input pixel, and ``fold`` adds the columns back onto the output grid.
  ``fold`` is the adjoint of ``unfold``, which is why the transposed convolution is the adjoint
  (and the input gradient) of the convolution.

Both engines work for any number of spatial axes and for grouped weights (a batched matmul over
the group axis, no Python loop over groups). Column buffers are built chunk by chunk so that no
buffer exceeds :data:`COLUMN_BUFFER_BYTES`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._checks import ConvSpec, check_conv_matrix, check_fold, check_unfold
from ._arrays import as_float_arrays, quiet_nonfinite

__all__ = ["COLUMN_BUFFER_BYTES", "column_chunks", "conv_matrix", "fold", "unfold", "window_view"]

#: Largest column buffer (bytes) the engines allocate at once; larger jobs are chunked.
COLUMN_BUFFER_BYTES = 64 * 2**20

#: Bytes that the arrays of one block of the depthwise path may take together (its input, sum,
#: scratch and per-pixel weights): small enough to stay in a core's cache across the kernel's taps.
DEPTHWISE_CACHE_BYTES = 1536 * 2**10

#: Grid positions one channel must have across the batch for the depthwise path to go channel by
#: channel (one number per tap); below it a NumPy call per channel costs more than its work.
DEPTHWISE_SCALAR_ELEMENTS = 16384


def _indices(*shape):
    """Every index of an array of ``shape``, in C order (``np.ndindex`` without its setup cost)."""
    return itertools.product(*(range(n) for n in shape))


def window_view(padded: np.ndarray, kernel_size, stride, dilation, writeable: bool = False) -> np.ndarray:
    """All receptive fields of ``padded`` as a strided view, without copying.

    Parameters
    ----------
    padded : ndarray, shape (N, C, *S)
        Input that already carries its padding.
    kernel_size, stride, dilation : tuple of int, one per spatial axis

    Returns
    -------
    ndarray, shape (N, C, *O, *K)
        ``view[n, c, *o, *k] == padded[n, c, *(o * stride + k * dilation)]`` with
        ``O = (S - dilation * (K - 1) - 1) // stride + 1``.
    """
    n = len(kernel_size)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
    view = sliding_window_view(padded, extent, axis=tuple(range(2, 2 + n)), writeable=writeable)
    return view[(slice(None), slice(None), *(slice(None, None, s) for s in stride),
                 *(slice(None, None, d) for d in dilation))]


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


def pad_spatial(x: np.ndarray, padding) -> np.ndarray:
    """Zero-pad the spatial axes of ``(N, C, *S)`` by ``((left, right), ...)`` per axis."""
    if not any(lo or hi for lo, hi in padding):
        return x
    return np.pad(x, ((0, 0), (0, 0), *padding))


def _live_taps(size, padding, kernel, stride, dilation, out_size) -> tuple[int, int] | None:
    """The first and last kernel tap along one axis that read the input (not only padding) at some
    output position, or None when none does.

    Tap ``k`` reads padded coordinate ``o * stride + k * dilation`` for output ``o``; the input
    lies at ``[padding, padding + size)``.
    """
    def live(k):
        first = max(0, -(-(padding - k * dilation) // stride))   # first o whose read reaches the input
        return first < out_size and first * stride + k * dilation < padding + size

    taps = [k for k in range(kernel) if live(k)]
    return (taps[0], taps[-1]) if taps else None


def _without_dead_taps(x: np.ndarray, weight: np.ndarray, spec):
    """The same convolution without the kernel taps that only ever read padding.

    A dilated kernel can be far wider than its input (``padding='same'`` with dilation 20000 on
    a 3x3 map pads it to 40003x40003); taps that read nothing but padding add ``w * 0``, which is
    0 for a finite weight, so the padding they alone read need not exist. Returns the cropped
    input, the weight cut to the taps that read the input, their spec, and the output channels
    whose cut-off taps hold an inf or nan (there ``w * 0`` is nan at every output, as in PyTorch);
    or None when every tap reads the input somewhere.
    """
    out_spatial, kernel = spec.output_spatial, spec.kernel_size
    spans = [_live_taps(size, lo, k, s, d, o) for size, (lo, _), k, s, d, o in
             zip(x.shape[2:], spec.padding, kernel, spec.stride, spec.dilation, out_spatial)]
    if all(span == (0, k - 1) for span, k in zip(spans, kernel)):
        return None
    if any(span is None for span in spans):  # every output reads only padding: a zero kernel
        spans = [(0, 0)] * len(kernel)
        x = np.zeros((*x.shape[:2], *((1,) * len(kernel))), dtype=x.dtype)
        crops, pads = [slice(None)] * len(kernel), [(0, (o - 1) * s) for o, s in zip(out_spatial, spec.stride)]
        cut, weight = weight, np.zeros((*weight.shape[:2], *((1,) * len(kernel))), dtype=weight.dtype)
    else:
        crops, pads = [], []
        for size, (lo, _), (k0, k1), s, d, o in zip(x.shape[2:], spec.padding, spans, spec.stride, spec.dilation,
                                                   out_spatial):
            start, stop = k0 * d, (o - 1) * s + k1 * d + 1   # the padded coordinates the live taps read
            crops.append(slice(max(start, lo) - lo, min(stop, lo + size) - lo))
            pads.append((max(0, lo - start), max(0, stop - lo - size)))
        live = (Ellipsis, *(slice(k0, k1 + 1) for k0, k1 in spans))
        cut = weight.copy()
        cut[live] = 0
        weight = weight[live]
        x = x[(slice(None), slice(None), *crops)]
    bad = ~np.isfinite(cut.reshape(cut.shape[0], -1)).all(axis=1)
    trimmed = ConvSpec(x.shape, weight.shape, spec.stride, tuple(pads), spec.dilation, spec.groups, spec.unbatched)
    return x, weight, trimmed, bad


def conv_forward(x: np.ndarray, weight: np.ndarray, spec) -> np.ndarray:
    """Grouped N-d convolution ``W @ unfold(x)`` for a validated :class:`~conv_tutorial._checks.ConvSpec`.

    ``x`` is ``(N, C_in, *S)`` (batched), ``weight`` ``(C_out, C_in // g, *K)``; returns
    ``(N, C_out, *O)`` without bias.
    """
    trimmed = _without_dead_taps(x, weight, spec)
    if trimmed is not None:
        x, weight, spec, bad = trimmed
        out = conv_forward(x, weight, spec)
        out[:, bad] = np.nan
        return out
    n_sp = len(spec.kernel_size)
    batch, c_in = x.shape[:2]
    c_out, g = weight.shape[0], spec.groups
    taps = math.prod(spec.kernel_size)
    out_spatial = spec.output_spatial
    out = np.empty((batch, c_out, *out_spatial), dtype=x.dtype)
    if c_in == g and math.prod(out_spatial) >= taps:
        _depthwise_forward(x, weight, spec, out)
        return out
    windows = window_view(pad_spatial(x, spec.padding), spec.kernel_size, spec.stride, spec.dilation)
    if c_in == g:
        # Depthwise with a kernel about the size of the map (a global depthwise convolution): few
        # output positions, each a weighted sum of its window, read once in place.
        if c_out != c_in:
            windows = np.repeat(windows, c_out // c_in, axis=1)
        o_axes, k_axes = list(range(2, 2 + n_sp)), list(range(2 + n_sp, 2 + 2 * n_sp))
        out[...] = np.einsum(windows, [0, 1, *o_axes, *k_axes], weight.reshape(c_out, *spec.kernel_size),
                             [1, *k_axes], [0, 1, *o_axes])
        return out
    w_mat = weight.reshape(g, c_out // g, (c_in // g) * taps)
    for b, r in column_chunks(batch, out_spatial, c_in * taps * x.itemsize):
        part = windows[b, :, r]
        nb, chunk_spatial = part.shape[0], part.shape[2 : 2 + n_sp]
        cols = _columns(part, n_sp).reshape(nb, g, (c_in // g) * taps, -1)
        out[b, :, r] = (w_mat @ cols).reshape(nb, c_out, *chunk_spatial)
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
        for a, s, (lo, _), size in zip(phase, stride, padding, spatial):
            first = max(0, -(-(lo - a) // s))          # first q with q * s + a - lo >= 0
            stop = (size - 1 + lo - a) // s + 1        # one past the last q with q * s + a - lo < size
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
        shift = [k * d - o for k, d, o in zip(tap, dilation, origin)]
        phase = tuple(v % s for v, s in zip(shift, stride))
        taps.append((tap, phase, sum((v // s) * p for v, s, p in zip(shift, stride, pitch)), shift))
    return taps


def _depthwise_forward(x: np.ndarray, weight: np.ndarray, spec, out: np.ndarray) -> None:
    """Depthwise convolution (one input channel per group) as one multiply-add per kernel tap.

    With one input channel per group the matmul of :func:`conv_forward` multiplies a
    ``1 x prod(K)`` row by columns that im2col copied ``prod(K)`` times: it moves ``prod(K)``
    times the input for a product with a single row. Here each tap instead adds
    ``weight[o, 0, tap] * (the input shifted by the tap)`` into the output, reading the input in
    place. Output channel ``o`` reads input channel ``o // m`` (``m = C_out / C_in`` is the
    channel multiplier).

    The work goes block by block, and each block is done in cache: its images are copied into a
    zero-padded buffer, flattened, ``prod(K)`` multiply-adds run over the buffer, and the result is
    cropped into ``out``. Flattened, a tap's shift is one contiguous slice and every multiply-add
    is one vectorised loop over the whole block (NumPy is slow on many short rows); positions past
    an image's right or bottom edge read the next row or image, which is harmless because they
    are cropped. A stride is a unit-stride convolution of the padded input's polyphase grids
    (:func:`_phase_fills`): each tap reads one grid. A block is either

    - the images of one channel across the batch (when the batch holds at least
      :data:`DEPTHWISE_SCALAR_ELEMENTS` grid positions): every tap multiplies by a single number;
    - or consecutive channels of one image: every tap multiplies by a row of per-pixel weights,
      built once per block of channels and reused for every image.

    A block's arrays take about :data:`DEPTHWISE_CACHE_BYTES`, so that the passes stay in cache.
    A 'same' convolution (stride 1, output as large as the input, no multiplier) of finite values
    skips the copy and the crop: :func:`_depthwise_in_place`. Both sum the taps with
    :func:`_sum_of_taps`, a kernel column per ``einsum`` (:func:`_tap_runs`).
    ``x`` is the unpadded input ``(N, C_in, *S)``, ``weight`` ``(C_in * m, 1, *K)``; writes
    ``out`` ``(N, C_in * m, *O)``.
    """
    batch, c_in = x.shape[:2]
    channels = weight.shape[0]
    m = channels // c_in
    kernel, stride, out_spatial = spec.kernel_size, spec.stride, spec.output_spatial
    if out.size == 0:
        return
    padded = [size + lo + hi for size, (lo, hi) in zip(x.shape[2:], spec.padding)]
    grid = tuple(-(-p // s) for p, s in zip(padded, stride))
    size = math.prod(grid)
    per_channel = batch * size >= DEPTHWISE_SCALAR_ELEMENTS
    # In place, a tap's weight is zeroed where it reads the padding: exact only for a finite weight,
    # since inf * 0 is nan (the input's values are checked inside).
    if (not per_channel and m == 1 and all(s == 1 for s in stride) and tuple(out_spatial) == x.shape[2:]
            and np.isfinite(weight).all() and _depthwise_in_place(np.ascontiguousarray(x), weight, spec, out)):
        return
    pitch = [math.prod(grid[i + 1 :]) for i in range(len(grid))]  # flat step of each grid axis
    phase_index = {phase: i for i, phase in enumerate(_indices(*stride))}
    # (kernel index, grid read by the tap, flat shift of the tap within that grid)
    taps = [(tap, phase_index[phase], offset)
            for tap, phase, offset, _ in _kernel_taps(kernel, spec.dilation, stride, pitch, (0,) * len(grid))]
    # Reads run past a block's end by at most the largest shift; those positions are cropped.
    margin = max(offset for *_, offset in taps)
    runs, order, bounds = _tap_runs(taps)
    arrays = len(phase_index) + 2 + (0 if per_channel else len(taps))  # grids, sum, scratch, weights
    block = max(1, DEPTHWISE_CACHE_BYTES // (arrays * size * out.itemsize))  # images per block
    if per_channel:
        block = min(block, batch)
        # (batch slice, output channels, input channels) of every block
        plan = [(slice(n, min(n + block, batch)), slice(o, o + 1), slice(o // m, o // m + 1))
                for o in range(channels) for n in range(0, batch, block)]
    else:
        block = min(channels, max(m, block // m * m))  # whole groups of m filters
        plan = [(slice(n, n + 1), slice(c, min(c + block, channels)), slice(c // m, min(c + block, channels) // m))
                for c in range(0, channels, block) for n in range(batch)]
    grids = np.zeros((len(phase_index), block * size + margin), dtype=out.dtype)
    acc, part = np.empty(block * size, dtype=out.dtype), np.empty(block * size, dtype=out.dtype)
    w_taps = weight.reshape(channels, -1)
    fills = _phase_fills(x.shape[2:], spec.padding, stride)
    crop = tuple(slice(0, o) for o in out_spatial)
    channel_weights = [_run_weights(row, runs, bounds) for row in w_taps[:, order]] if per_channel else None
    sums = _einsum_subscripts(runs, per_pixel=not per_channel, rows=False)
    filled, weights, shifted = None, None, {}
    for n, o, c in plan:
        span = (n.stop - n.start) * (o.stop - o.start) * size
        if (n, c) != filled:  # a multiplier's filters share their input: copy it once
            for phase, dst, src in fills:
                view = grids[phase_index[phase], : span].reshape(n.stop - n.start, c.stop - c.start, -1, *grid)
                view[(Ellipsis, *dst)] = x[(n, c, None, *src)]
            filled = (n, c)
        if per_channel:  # every run is one tap
            weights = channel_weights[o.start]
        elif n.start == 0:
            weights = _run_weights(np.repeat(w_taps[o][:, order].T, size, axis=1), runs, bounds)  # per pixel
        if span not in shifted:
            shifted[span] = [grids[run.source, run.offset : run.offset + span] if not run.shape else
                             _run_view(grids[run.source], 0, run, span) for run in runs]
        _sum_of_taps(acc[:span], part[:span], shifted[span], weights, sums)
        out[n, o] = acc[:span].reshape(n.stop - n.start, o.stop - o.start, *grid)[(Ellipsis, *crop)]


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
        if len(members) >= 3 and all(b - a == step for a, b in zip(offsets, offsets[1:])):
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
            if len(same) > 1 and all(b - a == gap for a, b in zip(offsets, offsets[1:])):
                runs.append(_Run(source, offsets[0], (gap, step), (len(same), length),
                                 [n for _, numbers in same for n in numbers]))
            else:
                runs.extend(_Run(source, offset, (step,), (length,), numbers) for offset, numbers in same)
    order = [number for run in runs for number in run.taps]
    ends = np.cumsum([0] + [len(run.taps) for run in runs]).tolist()
    return runs, order, list(zip(ends[:-1], ends[1:]))


def _run_view(source: np.ndarray, start: int, run: _Run, span: int, rows: tuple[int, int] | None = None) -> np.ndarray:
    """What ``run`` reads from the flat ``source`` for the outputs ``start`` to ``start + span``:
    ``(*run.shape, span)``; with ``rows = (count, pitch)``, that for ``count`` images ``pitch``
    elements apart, ``(count, *run.shape, span)``. The rows of the view overlap."""
    item = source.itemsize
    shape, strides = (*run.shape, span), (*(s * item for s in run.steps), item)
    if rows is not None:
        shape, strides = (rows[0], *shape), (rows[1] * item, *strides)
    # The constructor checks that the view stays inside ``source`` (and costs a tenth of as_strided).
    return np.ndarray(shape, source.dtype, source, (start + run.offset) * item, strides)


def _run_weights(weights: np.ndarray, runs: list[_Run], bounds) -> list:
    """Split weights ``(taps, ...)``, ordered run after run, at the runs' ``bounds``: one entry
    per run, shaped like its grid of taps; a single tap's as a row or a Python number (which keeps
    the array's dtype and is the fastest operand NumPy takes)."""
    single = weights.tolist() if weights.ndim == 1 else weights
    return [single[a] if not run.shape else weights[a:b].reshape(*run.shape, *weights.shape[1:])
            for run, (a, b) in zip(runs, bounds)]


def _einsum_subscripts(runs: list[_Run], per_pixel: bool, rows: bool) -> list:
    """Each run's einsum (None for a single tap, which is a multiply): the sum of its taps'
    products with one number per tap or a row of per-pixel weights, for one image or for rows."""
    lead = "n" if rows else ""
    subscripts = []
    for run in runs:
        axes = "rt"[2 - len(run.shape):]
        subscripts.append(f"{lead}{axes}p,{axes}{'p' if per_pixel else ''}->{lead}p" if run.shape else None)
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
    for source, weight, subscripts in zip(shifted, weights, sums):
        if subscripts is None:
            np.multiply(source, weight, target)
        else:
            np.einsum(subscripts, source, weight, out=target)
        if target is part:
            np.add(acc, part, acc)
        target = part


def _depthwise_in_place(x: np.ndarray, weight: np.ndarray, spec, out: np.ndarray) -> bool:
    """The depthwise path for a 'same' convolution (stride 1, output as large as the input) of
    finite values: no padded copy, the taps read ``x`` and add into ``out`` in place.

    Flattened, a tap's shift is again one slice, and the reads that fall in the padding land on a
    neighbouring row, image or channel instead; the per-pixel weights of each tap are zero at
    exactly those positions. That saves the copy into a padded buffer, the crop, and the work on
    the padding, which is most of a small map (49 outputs on an 81-pixel grid at 7x7). A zero
    weight cancels a finite value only: the values a block reads are checked first (they are
    then in cache for its taps), and on an inf or nan the function returns False and the caller
    starts over with a padded copy.
    ``x`` is C-contiguous ``(N, C, *S)``, ``weight`` ``(C, 1, *K)``; writes ``out`` ``(N, C, *S)``
    and returns True.
    """
    batch, channels = x.shape[:2]
    spatial = x.shape[2:]
    size = math.prod(spatial)
    pitch = [math.prod(spatial[i + 1 :]) for i in range(len(spatial))]
    taps, padding = [], []
    ones = (1,) * len(spatial)
    for tap, _, offset, shift in _kernel_taps(spec.kernel_size, spec.dilation, ones, pitch,
                                              [lo for lo, _ in spec.padding]):
        taps.append((tap, 0, offset))
        # The outputs whose read falls in the padding: along each axis the tap shifts, a slab at the
        # start (shift < 0) or the end (shift > 0). Their weight is zero.
        slabs = []
        for axis, (v, length) in enumerate(zip(shift, spatial)):
            if v:
                part = slice(0, min(length, -v)) if v < 0 else slice(max(0, length - v), length)
                slabs.append((slice(None),) * (axis + 1) + (part,))  # after the channel axis
        padding.append(slabs)
    runs, order, bounds = _tap_runs(taps)
    sums = _einsum_subscripts(runs, per_pixel=True, rows=False)
    batch_sums = _einsum_subscripts(runs, per_pixel=True, rows=True)  # the images as rows
    shifts = [shift for *_, shift in taps]
    before, after = max(0, -min(shifts)), max(0, max(shifts))
    # A block is a range of channels in every image: the block's input, sum and scratch in each
    # image, and the weights of every tap.
    arrays = 3 * batch + len(taps)
    block = min(channels, max(1, DEPTHWISE_CACHE_BYTES // (arrays * size * out.itemsize)))
    image = channels * size
    flat_x, rows_out = x.reshape(-1), out.reshape(batch, image)
    part = np.empty((batch, block * size), dtype=out.dtype)
    # The first image of the first block reads before the array and the last image of the last
    # block past it, in the padding: those two read a copy of their span with zeros around it.
    edge = np.zeros(before + block * size + after, dtype=out.dtype)
    w_taps = weight.reshape(channels, -1)
    for c0 in range(0, channels, block):
        c1 = min(c0 + block, channels)
        lo, span = c0 * size, (c1 - c0) * size
        weights = np.repeat(w_taps[c0:c1, order].T, size, axis=1)  # (taps, span): each pixel's weight
        for row, t in zip(weights, order):
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
            reads = _run_view(flat_x, n0 * image + lo - before, span_and_margins, before + span + after,
                              rows=(n1 - n0, image))
            if not np.isfinite(np.einsum("np,np->", reads, reads)):  # (or it overflowed: start over too)
                return False
            shifted = [_run_view(flat_x, n0 * image + lo, run, span, rows=(n1 - n0, image)) for run in runs]
            _sum_of_taps(rows_out[n0:n1, lo : lo + span], part[: n1 - n0, :span], shifted, weights, batch_sums)
        for n in [*range(n0), *range(n1, batch)]:
            start = n * image + lo
            first, stop = max(0, start - before), min(flat_x.size, start + span + after)
            edge[:] = 0
            edge[first - start + before : stop - start + before] = flat_x[first:stop]
            if not np.isfinite(np.dot(edge, edge)):
                return False
            shifted = [_run_view(edge, before, run, span) for run in runs]
            _sum_of_taps(rows_out[n, lo : lo + span], part[0, :span], shifted, weights, sums)
    return True


def conv_transpose_forward(y: np.ndarray, weight: np.ndarray, groups: int, kernel_size, stride,
                           dilation, canvas_spatial, crop) -> np.ndarray:
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
    n_sp = len(kernel_size)
    batch, c_in = y.shape[:2]
    g = groups
    c_out_g = weight.shape[1]
    taps = math.prod(kernel_size)
    in_spatial = y.shape[2:]
    # The direct convolution multiplies the weight by the zeros between and around the input pixels,
    # which a transposed convolution never does: exact only for a finite weight (inf * 0 is nan).
    if c_in == g and np.isfinite(weight).all():
        return _depthwise_transpose(y, weight, kernel_size, stride, dilation, canvas_spatial, crop)
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
    return canvas[(slice(None), slice(None), *(slice(lo, size - hi) for size, (lo, hi) in zip(canvas_spatial, crop)))]


def _depthwise_transpose(y, weight, kernel_size, stride, dilation, canvas_spatial, crop) -> np.ndarray:
    """Transposed depthwise convolution (one input channel per group) as a direct convolution.

    With one input channel per group the columns of :func:`conv_transpose_forward` come from a
    product with a single input row, so instead, as chapter 10 shows in general: stretch the input
    (``stride - 1`` zeros between pixels) and run the depthwise path of :func:`conv_forward` with
    the kernel flipped. Padded by ``dilation * (k - 1)`` that gives the full scatter; the cropped
    canvas of :func:`conv_transpose_forward` is a window of it, which is the direct convolution
    with the crop taken off the left padding and the canvas's end (where output_padding adds
    zeros) setting the right one. Where that padding would be negative, the stretched input is cut
    instead. (A stride-1 transposed 'same' convolution is then a 'same' convolution, which the
    depthwise path does in place.)
    """
    n_sp = len(kernel_size)
    batch, c_in = y.shape[:2]
    c_out = c_in * weight.shape[1]
    if all(s == 1 for s in stride):
        stretched = y
    else:
        stretched = np.zeros((batch, c_in, *((i - 1) * s + 1 for i, s in zip(y.shape[2:], stride))), dtype=y.dtype)
        stretched[(slice(None), slice(None), *(slice(None, None, s) for s in stride))] = y
    # (C_in, m, *K) flipped -> (C_in * m, 1, *K): output channel c * m + j reads input channel c.
    direct = np.flip(weight, axis=tuple(range(2, 2 + n_sp))).reshape(c_out, 1, *kernel_size)
    window = [(d * (k - 1) - lo, size - hi - length) for k, d, (lo, hi), size, length
              in zip(kernel_size, dilation, crop, canvas_spatial, stretched.shape[2:])]
    cut = tuple(slice(max(0, -left), length - max(0, -right))
                for (left, right), length in zip(window, stretched.shape[2:]))
    stretched = stretched[(slice(None), slice(None), *cut)]
    pads = tuple((max(0, left), max(0, right)) for left, right in window)
    spec = ConvSpec(stretched.shape, direct.shape, (1,) * n_sp, pads, tuple(dilation), c_in, False)
    return conv_forward(stretched, direct, spec)


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
    for b, r in column_chunks(batch, spec.output_spatial, c_in * taps * x.itemsize):
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
    spec, unbatched = check_unfold(x.shape, kernel_size, dilation, padding, stride)
    if unbatched:
        x = x[None]
    padded = pad_spatial(x, [(p, p) for p in spec.padding])
    cols = _columns(window_view(padded, spec.kernel_size, spec.stride, spec.dilation), 2)
    if not cols.flags.writeable:  # a 1x1 unit-stride view is already contiguous: don't alias the input
        cols = cols.copy()
    return cols[0] if unbatched else cols


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

    Examples
    --------
    >>> x = np.ones((1, 1, 3, 3))
    >>> fold(unfold(x, 2), 3, 2)[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    (cols,) = as_float_arrays(input=input)
    spec, out_size, channels, unbatched = check_fold(cols.shape, output_size, kernel_size, dilation, padding, stride)
    if unbatched:
        cols = cols[None]
    batch = cols.shape[0]
    canvas_size = tuple(o + 2 * p for o, p in zip(out_size, spec.padding))
    canvas = np.zeros((batch, channels, *canvas_size), dtype=cols.dtype)
    windows = window_view(canvas, spec.kernel_size, spec.stride, spec.dilation, writeable=True)
    blocks = windows.shape[2:4]
    _add_columns(windows, cols.reshape(batch, channels, *spec.kernel_size, *blocks), 2)
    out = canvas[:, :, spec.padding[0] : canvas_size[0] - spec.padding[0],
                 spec.padding[1] : canvas_size[1] - spec.padding[1]]
    return out[0] if unbatched else out


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
    c_out, out_positions = w.shape[0], math.prod(spec.output_spatial)
    # Pixel indices shifted by one so that the zero padding reads as index -1 after unfolding.
    index_image = np.arange(1, math.prod(input_shape) + 1, dtype=np.float64).reshape(1, *input_shape)
    padded = pad_spatial(index_image, spec.padding)
    taps = _columns(window_view(padded, spec.kernel_size, spec.stride, spec.dilation), 2)[0].astype(np.int64) - 1
    rows, positions = np.nonzero(taps >= 0)
    matrix = np.zeros((c_out, out_positions, math.prod(input_shape)), dtype=w.dtype)
    matrix[:, positions, taps[rows, positions]] = w.reshape(c_out, -1)[:, rows]
    return matrix.reshape(c_out * out_positions, -1)
