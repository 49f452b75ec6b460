"""Convolution as matrix multiplication in torch (chapter 2): validated ``unfold`` and ``fold``, and matmul engines.

``unfold`` is im2col and ``fold`` col2im; every torch convolution in this package runs on those engines.

The idea of chapter 2, with torch primitives doing the copying:

- a convolution is ``W @ F.unfold(x)``: every receptive field of the input becomes a column,
  then one matrix product with the weight reshaped to ``(C_out, C_in * kH * kW)``;
- a transposed convolution is ``F.fold(W.T @ y)``: one matrix product makes a column of kernel
  contributions per input pixel, and ``F.fold`` adds the columns back onto the output grid.
  ``fold`` is the adjoint of ``unfold``, which is why the transposed convolution is the adjoint
  (and the input gradient) of the convolution.

The twin of :mod:`conv_tutorial.numpy.im2col`: :func:`conv_forward` takes the same validated
:class:`~conv_tutorial.shapes.ConvGeometry` as the NumPy engine and works for 1, 2 or 3 spatial
axes. It has two engines for the same product, one line choosing between them:

- when autograd records the call, :func:`unfold_forward`: ``W @ F.unfold(x)``. ``F.unfold``
  handles two spatial axes, so a 1D convolution runs the 2D engine (:func:`conv2d_forward`) over
  a unit height axis and a 3D one sums it over the kernel's depth taps
  (:func:`conv3d_by_depth_taps`, chapter 11); autograd derives every backward pass from it;
- otherwise (inference), :func:`windows_forward`: the same columns, channels last, taken from a
  ``torch.as_strided`` window view of the padded input in one copy, for any number of axes, and
  one matrix product (:func:`matmul_t`, oneDNN's on the CPU in float32: the library
  ``F.conv2d`` runs on, whose kernels use the widest vector instructions of any x86 processor,
  where the BLAS behind ``torch.matmul`` may not). Kernel taps that read only padding are dropped
  first (:func:`without_dead_taps`), and where many products would still multiply padding the
  output is computed region by region, each with its live taps (:func:`by_live_regions`). Narrow
  groups (:func:`takes_taps`: depthwise ones, and groups of up to 32 channels) take the path of
  taps, :mod:`conv_tutorial.torch._depthwise_engine`.

The transposed engines (:func:`conv_transpose_forward`) mirror them; with stride 1 and no autograd
a transposed convolution runs as the direct convolution it equals (:func:`transpose_as_direct`).
Every engine is made of torch operations that run on whatever device the input lives on.
:func:`native_convolutions` switches all of them to PyTorch's own convolutions, the native twin
that tools such as ``torch.utils.flop_counter`` count.

Chapter 2: ``book/02_convolution_as_matmul.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.im2col`.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import math

import torch
import torch.nn.functional as F

from .._checks import check_fold, check_unfold
from ..shapes import (
    conv_axis_size,
    conv_output_size,
    conv_transpose_axis_size,
    conv_transpose_output_size,
    live_tap_runs,
    live_tap_span,
)
from ._depthwise_engine import depthwise_forward
from ._tensors import channels_last_padded, common_float_dtype, pad_widths

__all__ = ["fold", "native_convolutions", "unfold"]

_NATIVE = contextvars.ContextVar("native_convolutions", default=False)

#: Input and output channels per group up to which a convolution takes the path of taps (per
#: kernel tap, one multiply-add, or with several input channels per group one batched product
#: over images and groups) rather than im2col's columns, which copy the input once per tap.
#: Measured on 3x3 layers at batch 8 with 2 threads: with one group, 16 channels took 0.84 ms by
#: taps and 1.03 ms by columns at 56x56, but 32 channels 2.6 ms and 2.0 ms (one product over all
#: channels is what the columns do best).
FEW_CHANNELS = 16

#: The same bound for convolutions of several groups: there the columns are copied in short runs
#: of ``C_in / g`` numbers and multiplied by a short product per group. ResNet-50's 256-channel
#: layer at 14x14 in 8 groups of 32 channels took 1.6 ms by taps and 2.5 ms by columns; in 4
#: groups of 64, 2.9 ms and 2.5 ms.
NARROW_GROUP = 32


@contextlib.contextmanager
def native_convolutions():
    """Inside this ``with`` block, the package's convolutions run on PyTorch's own ops.

    Every convolution of :mod:`conv_tutorial.torch` (the functions, and every module and network
    built on them) then calls ``torch.nn.functional.conv{1,2,3}d`` or ``conv_transpose{1,2,3}d``
    with the same arguments instead of this package's engines: the *native twin* of a module,
    with its weights and its architecture. It exists for tools that count what native ops do.
    ``torch.utils.flop_counter.FlopCounterMode`` counts a native convolution as twice its MACs,
    whereas the engines' fast paths (oneDNN's matrix product, the depthwise multiply-adds) are
    ops it does not count. The setting is local to the thread (a context variable).

    Examples
    --------
    >>> from torch.utils.flop_counter import FlopCounterMode
    >>> from conv_tutorial.torch import Bottleneck
    >>> block = Bottleneck(256, 64, 256).eval()
    >>> with FlopCounterMode(display=False) as counter, torch.no_grad(), native_convolutions():
    ...     _ = block(torch.zeros(1, 256, 14, 14))
    >>> counter.get_total_flops() == 2 * 69_632 * 14 * 14     # MACs: one per weight per pixel
    True
    """
    token = _NATIVE.set(True)
    try:
        yield
    finally:
        _NATIVE.reset(token)


_NATIVE_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_NATIVE_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def conv_forward(x: torch.Tensor, weight: torch.Tensor, spec) -> torch.Tensor:
    """Grouped N-d convolution ``W @ unfold(x)`` for a validated :class:`~conv_tutorial.shapes.ConvGeometry`.

    ``x`` is ``(N, C_in, *S)`` (batched, 1 to 3 spatial axes), ``weight`` ``(C_out, C_in // g, *K)``;
    returns ``(N, C_out, *O)`` without bias, like :func:`conv_tutorial.numpy.im2col.conv_forward`.

    When autograd records the call, the engine is :func:`unfold_forward` (``F.unfold`` and a
    matrix product, whose backward autograd derives from ``F.fold``). Otherwise narrow groups (depthwise
    ones, and the groups :func:`takes_taps` calls narrow) go to the path of taps
    (per kernel tap a multiply-add, or a batched product over the groups,
    :mod:`conv_tutorial.torch._depthwise_engine`), and every other convolution is one matrix
    product with the columns of a window view (:func:`windows_forward`), or, when many of its
    products would multiply padding (atrous layers, few frames), one such product per region of
    the output with the taps live there (:func:`by_live_regions`).
    """
    stride, padding, dilation, groups = spec.stride, spec.padding, spec.dilation, spec.groups
    if _NATIVE.get():  # inside native_convolutions(): PyTorch's own op, the twin that counters know
        return _NATIVE_CONV[len(stride)](F.pad(x, pad_widths(padding)), weight, None, stride, 0, dilation, groups)
    if records_grad(x, weight):
        return unfold_forward(x, weight, spec)
    return inference_forward(x, weight, stride, padding, dilation, groups)


def inference_forward(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation, groups: int) -> torch.Tensor:
    """The fast engines of :func:`conv_forward` (no autograd), for validated arguments, without bias.

    Narrow groups (:func:`takes_taps`) take the path of taps; a convolution with many products
    that read padding (:func:`pays_to_split`) goes region by region (:func:`by_live_regions`);
    every other one is one product with the columns of a window view (:func:`windows_forward`).
    ``x`` is ``(N, C_in, *S)``, ``weight`` ``(C_out, C_in // groups, *K)``; ``stride`` and
    ``dilation`` hold an int and ``padding`` a ``(before, after)`` pair per spatial axis. Returns
    ``(N, C_out, *O)``.
    """
    if takes_taps(x.shape[1], weight.shape[0], groups):  # narrow groups: chapter 6's fast path
        return depthwise_forward(x, weight, stride, padding, dilation, groups)
    x, weight, padding = without_dead_taps(x, weight, stride, padding, dilation)
    runs = live_runs(x.shape[2:], weight.shape[2:], stride, padding, dilation)
    if pays_to_split(runs, weight.shape[2:], x.shape[0]) and torch.isfinite(weight.sum()):
        return by_live_regions(x, weight, stride, padding, dilation, groups, runs)
    return windows_forward(x, weight, stride, padding, dilation, groups)


#: Share of the (output position, kernel tap) pairs that read only padding from which
#: :func:`conv_forward` splits the output into regions of one set of live taps each
#: (:func:`pays_to_split`). DeepLab's atrous 3x3 layer with dilation 12 on a 28x28 map reads
#: padding in 49% of them: 18.2 ms whole, 11.6 ms by regions, against PyTorch's 8.9 ms, which
#: skips them too. R3D-18's 3x3x3 layer on 4 frames of 28x28 reads padding in 21%: 59.6 ms whole,
#: 49.9 ms by regions.
DEAD_SHARE = 0.2

#: Fewest output positions per region (over the batch) for the split to pay: each region
#: multiplies by its part of the weight, which a small region reads for little work. On a 7x7
#: map (49 positions an image, 9 regions) the split took 1.5-2.2 times as long as the whole.
REGION_POSITIONS = 100


def pays_to_split(runs, kernel, batch: int) -> bool:
    """Whether :func:`by_live_regions` beats :func:`windows_forward` for these :func:`live_runs`.

    When enough of the products multiply padding (:data:`DEAD_SHARE`) and the regions are large
    enough to multiply well (:data:`REGION_POSITIONS`).

    >>> pays_to_split(live_runs((28, 28), (3, 3), (1, 1), ((12, 12),) * 2, (12, 12)), (3, 3), batch=8)
    True
    >>> pays_to_split(live_runs((7, 7), (3, 3), (1, 1), ((3, 3),) * 2, (3, 3)), (3, 3), batch=8)
    False
    """
    regions = math.prod(len(axis) for axis in runs)
    positions = batch * math.prod(sum(o1 - o0 for o0, o1, *_ in axis) for axis in runs)
    return regions > 1 and positions >= REGION_POSITIONS * regions and dead_share(runs, kernel) >= DEAD_SHARE


def live_runs(size, kernel, stride, padding, dilation):
    """:func:`conv_tutorial.shapes.live_tap_runs` for each spatial axis: where the live taps change.

    >>> live_runs((28,), (3,), (1,), ((12, 12),), (12,))
    [[(0, 12, 1, 2), (12, 16, 0, 2), (16, 28, 0, 1)]]
    """
    axes = zip(size, kernel, stride, padding, dilation, strict=True)
    return [live_tap_runs(n, k, s, pads, d) for n, k, s, pads, d in axes]


def dead_share(runs, kernel) -> float:
    """The share of (output position, kernel tap) pairs that read only padding, given :func:`live_runs`."""
    live = math.prod(sum((o1 - o0) * max(0, t1 - t0 + 1) for o0, o1, t0, t1 in axis) for axis in runs)
    total = math.prod(sum(o1 - o0 for o0, o1, *_ in axis) * k for axis, k in zip(runs, kernel, strict=True))
    return 1 - live / total if total else 0.0


def by_live_regions(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation, groups: int, runs):
    """The convolution region by region of the output, each region with the kernel taps live there.

    ``runs`` is :func:`live_runs`'s answer; a region takes one run per axis. Its positions all read
    the input, never the padding, with the taps ``t0..t1`` of each axis, so its columns are taken
    from windows of the unpadded input (channels last, one copy for all regions) with that part of
    the kernel: no padded copy is made, and the products have no terms that multiply padding.
    Columns are built a block at a time as in :func:`windows_forward`. Regions with no live tap
    along some axis are zeros. Returns ``(N, C_out, *O)`` laid out channels last. The weight must
    be finite (``w * 0`` of a dead tap is otherwise ``nan``).
    """
    batch, c_in = x.shape[:2]
    c_out = weight.shape[0]
    out = x.new_empty((batch, *(sum(o1 - o0 for o0, o1, *_ in axis) for axis in runs), c_out))
    source = x.movedim(1, -1).contiguous()  # (N, *S, C_in)
    budget = column_budget(x, out.numel() * x.element_size())
    plans = []
    for region in itertools.product(*runs):
        if any(t0 > t1 for *_, t0, t1 in region):
            out[(slice(None), *(slice(o0, o1) for o0, o1, *_ in region))] = 0
            continue
        kernel = tuple(t1 - t0 + 1 for *_, t0, t1 in region)
        shape = (batch, *(o1 - o0 for o0, o1, *_ in region))
        row_bytes = c_in * math.prod(kernel) * x.element_size()
        plans.append((region, kernel, list(column_blocks(shape, kernel, stride, dilation, row_bytes, budget))))
    # One column buffer serves every block of every region.
    columns = x.new_empty(max((math.prod(b) * math.prod(k) * c_in for _, k, bs in plans for _, b, _ in bs), default=0))
    for region, kernel, blocks in plans:
        live = weight[(Ellipsis, *(slice(t0, t1 + 1) for *_, t0, t1 in region))]
        w_mat = live.movedim(1, -1).reshape(groups, c_out // groups, math.prod(kernel) * (c_in // groups))
        # The input position that the region's first output reads with its first live tap, per axis.
        axes = zip(region, stride, dilation, padding, strict=True)
        origin = [o0 * s + t0 * d - lo for (o0, _, t0, _), s, d, (lo, _) in axes]
        view = source[(slice(None), *(slice(a, None) for a in origin))]
        for _, block, reads in blocks:
            (n0, n1), spatial = reads[0], reads[1:]
            part = view[(slice(n0, n1), *(slice(lo, hi) for lo, hi in spatial))]
            # The block's first output along each axis: its first read over the stride, from the run's start.
            firsts = [lo // s + o0 for (lo, _), s, (o0, *_) in zip(spatial, stride, region, strict=True)]
            target = (slice(n0, n1), *(slice(f, f + n) for f, n in zip(firsts, block[1:], strict=True)))
            product = _windows_product(part, w_mat, block, kernel, stride, dilation, columns)
            out[target] = product.view(*block, c_out)
    return out.movedim(-1, 1)


def takes_taps(c_in: int, c_out: int, groups: int) -> bool:
    """Whether :func:`conv_forward` runs a convolution by taps rather than by columns.

    >>> takes_taps(256, 256, 256), takes_taps(16, 16, 1), takes_taps(256, 256, 8), takes_taps(32, 32, 1)
    (True, True, True, False)
    """
    width = max(c_in, c_out) // groups
    return width <= FEW_CHANNELS or (groups > 1 and width <= NARROW_GROUP)


def unfold_forward(x: torch.Tensor, weight: torch.Tensor, spec) -> torch.Tensor:
    """Grouped N-d convolution ``W @ F.unfold(x)`` for a validated spec: the engine autograd runs.

    ``F.unfold`` handles two spatial axes, so a 1D convolution runs the 2D engine
    (:func:`conv2d_forward`) over a unit height axis and a 3D one sums it over the kernel's depth
    taps (:func:`conv3d_by_depth_taps`, chapter 11).
    """
    stride, padding, dilation, groups = spec.stride, spec.padding, spec.dilation, spec.groups
    if len(stride) == 3:
        return conv3d_by_depth_taps(x, weight, stride, padding, dilation, groups)
    if len(stride) == 1:  # a 1D convolution is a 2D one over a unit height axis: one engine, not a copy
        out = conv2d_forward(
            x.unsqueeze(2), weight.unsqueeze(2), (1, *stride), ((0, 0), *padding), (1, *dilation), groups
        )
        return out.squeeze(2)
    return conv2d_forward(x, weight, stride, padding, dilation, groups)


def records_grad(*tensors: torch.Tensor) -> bool:
    """Whether autograd records an operation on these tensors."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def windows_forward(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation, groups: int) -> torch.Tensor:
    """Grouped N-d convolution of validated arguments as one matrix product per group, without bias.

    The engine behind :func:`conv_forward`, for 1 to 3 spatial axes. It computes what
    :func:`conv2d_forward` computes, ``W @ unfold(x)``, with the channels last:

    1. the input is copied once, channels last, into a zero-padded buffer ``(N, *S_padded, C_in)``
       (no copy when it is already laid out so and needs no padding);
    2. ``torch.as_strided`` makes the window view ``(N, *O, *K, C_in)`` of that buffer: every
       window, no data moved. Reshaping it to the columns ``(N * prod(O), prod(K) * C_in)`` is the
       one im2col copy, made of runs of ``C_in`` contiguous numbers (with ``F.unfold``, each run
       is one kernel row, ``k`` numbers);
    3. one matrix product with the weight laid out ``(C_out, *K, C_in)`` gives the output
       channels last, ``(N * prod(O), C_out)``, returned as an ``(N, C_out, *O)`` view of it.

    A 1x1 kernel with stride 1 needs no columns: the buffer is the matrix. Columns larger than
    :func:`column_budget` are built and multiplied a block of output positions at a time
    (:func:`column_blocks`), each block from a padded copy of just the input it reads, so that
    neither the padded input nor the whole column matrix is ever held: the peak is the output and
    one block.

    Parameters
    ----------
    x : Tensor, shape (N, C_in, *S)
    weight : Tensor, shape (C_out, C_in // groups, *K)
    stride, dilation : tuple of ints, one per spatial axis
    padding : tuple of (before, after) pairs, one per spatial axis
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, *O)
        Laid out channels last: ``out.movedim(1, -1)`` is contiguous.
    """
    x, weight, padding = without_dead_taps(x, weight, stride, padding, dilation)
    batch, c_in = x.shape[:2]
    c_out, kernel = weight.shape[0], tuple(weight.shape[2:])
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(x.shape[2:], padding, strict=True))
    out_size = conv_output_size(padded, kernel, stride, 0, dilation)
    w_mat = weight.movedim(1, -1).reshape(groups, c_out // groups, math.prod(kernel) * (c_in // groups))
    row_bytes = c_in * math.prod(kernel) * x.element_size()  # one output position's columns
    needs_columns = math.prod(kernel) > 1 or any(s > 1 for s in stride)
    budget = column_budget(x, batch * math.prod(out_size) * c_out * x.element_size())
    if not needs_columns or batch * math.prod(out_size) * row_bytes <= budget:
        buffer = channels_last_padded(x, padding)
        out = _windows_product(buffer, w_mat, (batch, *out_size), kernel, stride, dilation)
        return out.reshape(batch, *out_size, c_out).movedim(-1, 1)
    out = x.new_empty((batch, *out_size, c_out))
    flat_out = out.view(-1, c_out)
    blocks = list(column_blocks((batch, *out_size), kernel, stride, dilation, row_bytes, budget))
    # One region buffer and one column buffer serve every block: a call allocates each once, so
    # that the allocator does not map and unmap megabytes per block (which cost page faults).
    regions = x.new_empty(max(math.prod(hi - lo for lo, hi in reads) for *_, reads in blocks) * c_in)
    columns = x.new_empty(max(math.prod(shape) for _, shape, _ in blocks) * math.prod(kernel) * c_in)
    for first, shape, reads in blocks:
        buffer = _padded_region(x, padding, reads, regions)
        positions = math.prod(shape)
        flat_out[first : first + positions] = _windows_product(buffer, w_mat, shape, kernel, stride, dilation, columns)
    return out.movedim(-1, 1)


def _windows_product(buffer: torch.Tensor, w_mat: torch.Tensor, shape, kernel, stride, dilation, scratch=None):
    """The columns of the windows of ``buffer`` times the weight of each group.

    ``buffer`` is ``(n, *S', C_in)``, channels last and padded, its first window at the origin;
    ``shape`` is ``(n, *O')``, the window positions; ``w_mat`` is ``(g, C_out / g, prod(K) * C_in / g)``;
    ``scratch``, if given, a flat tensor the columns are copied into (else they are a new tensor).
    Returns ``(prod(shape), C_out)``, contiguous.
    """
    groups, c_group_out, depth = w_mat.shape
    n_sp = len(kernel)
    steps = buffer.stride()
    cg = buffer.shape[-1] // groups
    # The window view: output position, kernel tap, then the channel; no data moved yet.
    view = buffer.as_strided(
        (groups, *shape, *kernel, cg),
        (
            cg,
            steps[0],
            *(steps[1 + i] * stride[i] for i in range(n_sp)),
            *(steps[1 + i] * dilation[i] for i in range(n_sp)),
            1,
        ),
    )
    positions = math.prod(shape)
    if scratch is not None:  # the im2col copy, into the caller's buffer
        cols = scratch[: groups * positions * depth].view(groups, positions, depth)
        cols.view(view.shape).copy_(view)
    else:  # explicit sizes, not -1: reshape can't infer a size when the batch is empty
        cols = view.reshape(groups, positions, depth)  # the im2col copy (a view for a 1x1 kernel, stride 1)
    return grouped_matmul_t(cols, w_mat).reshape(positions, groups * c_group_out)


#: Most bytes of columns that :func:`windows_forward` builds at once on the CPU: the column block
#: stays in the processor's cache between its copy and its product.
CPU_COLUMN_BYTES = 4 * 2**20

#: The same on a GPU, where each block is a kernel launch and memory bandwidth is plentiful: only
#: column matrices too large to hold comfortably are split.
GPU_COLUMN_BYTES = 256 * 2**20


def column_budget(x: torch.Tensor, out_bytes: int) -> int:
    """Bytes of columns the engines build at once for an input on ``x``'s device and an output of ``out_bytes``.

    On the CPU, :data:`CPU_COLUMN_BYTES`, or twice the output's size when that is smaller (2 MiB
    at least), so that on small layers a block adds little to the peak memory, which stays near
    PyTorch's (the output, and the library's own buffers); blocks much smaller than that cost
    time, one product per group for every block (with 1 MiB at least, a 32-channel 32x32 layer
    took 0.26 ms instead of 0.19: two blocks instead of one). On other devices,
    :data:`GPU_COLUMN_BYTES`.
    """
    if x.device.type != "cpu":
        return GPU_COLUMN_BYTES
    return min(CPU_COLUMN_BYTES, max(2 * 2**20, 2 * out_bytes))


def column_blocks(sizes, kernel, stride, dilation, row_bytes: int, budget: int):
    """The blocks of output positions whose columns fit in ``budget`` bytes, in memory order.

    ``sizes`` is ``(N, *O)``, the output's positions; ``row_bytes`` the bytes of one position's
    columns. A block fixes the indices of the leading axes and takes a range of the next one, the
    first axis along which whole slices fit: whole images when they fit, else rows of one image,
    else (3D) rows of one frame. Yields ``(first, shape, reads)``: the flat index of the block's
    first position, its shape ``(n, *O')``, and for the batch and each spatial axis the
    ``(start, stop)`` it reads (for a spatial axis, on the padded input).
    """
    level = next(i for i in range(len(sizes)) if math.prod(sizes[i + 1 :]) * row_bytes <= budget or i == len(sizes) - 1)
    chunk = max(1, budget // (math.prod(sizes[level + 1 :]) * row_bytes))
    for fixed in itertools.product(*(range(n) for n in sizes[:level])):
        for start in range(0, sizes[level], chunk):
            ranges = [*((i, i + 1) for i in fixed), (start, min(start + chunk, sizes[level]))]
            ranges += [(0, n) for n in sizes[level + 1 :]]
            first = 0
            for (lo, _), n in zip(ranges, sizes, strict=True):
                first = first * n + lo
            reads = [ranges[0]]
            for (lo, hi), k, s, d in zip(ranges[1:], kernel, stride, dilation, strict=True):
                reads.append((lo * s, (hi - 1) * s + d * (k - 1) + 1))
            yield first, tuple(hi - lo for lo, hi in ranges), reads


def _padded_region(x: torch.Tensor, padding, reads, scratch: torch.Tensor) -> torch.Tensor:
    """The part of the zero-padded input that ``reads`` names, copied channels last: ``(n, *S', C_in)``.

    ``reads`` holds the batch's ``(start, stop)`` and, per spatial axis, the ``(start, stop)`` of
    the padded input (as :func:`column_blocks` yields them); positions outside the input are zeros.
    The region is written at the start of ``scratch``, a flat tensor large enough for it.
    """
    (n0, n1), spatial = reads[0], reads[1:]
    sizes = tuple(stop - start for start, stop in spatial)
    shape = (n1 - n0, *sizes, x.shape[1])
    buffer = scratch[: math.prod(shape)].view(shape)
    source, target = [slice(n0, n1), slice(None)], [slice(None)]
    for (start, stop), (lo, _), size in zip(spatial, padding, x.shape[2:], strict=True):
        first, last = max(start - lo, 0), min(stop - lo, size)  # the input positions read
        source.append(slice(first, max(first, last)))
        target.append(slice(first + lo - start, first + lo - start + max(0, last - first)))
    inside = x[tuple(source)].movedim(1, -1)
    if inside.shape[1:-1] != sizes:  # the block reads padding: zero it, then copy the input in
        buffer.zero_()
    buffer[(*target, slice(None))] = inside
    return buffer


def without_dead_taps(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation):
    """The same convolution without the kernel taps that read nothing but padding.

    Such taps add ``w * 0 = 0`` to every output (a 3x3x3 kernel with padding 1 on a single frame
    reads the input with its middle depth slice only). Returns ``(x, weight, padding)``, the input
    cropped to what the live taps read and the padding they need; the arguments unchanged when
    every tap is live, or when a cut-off weight is not finite (its ``w * 0`` is nan, as in PyTorch).
    """
    spans = [
        live_tap_span(size, k, s, pads, d)
        for size, pads, k, s, d in zip(x.shape[2:], padding, weight.shape[2:], stride, dilation, strict=True)
    ]
    kernel = weight.shape[2:]
    if None in spans or all(span == (0, k - 1) for span, k in zip(spans, kernel, strict=True)):
        return x, weight, padding
    live = (Ellipsis, *(slice(k0, k1 + 1) for k0, k1 in spans))
    if not torch.isfinite(weight.sum()):  # a nan or inf weight (or a sum that overflows): keep every tap
        return x, weight, padding
    crops, pads = [], []
    for size, (lo, hi), (k0, k1), s, d in zip(x.shape[2:], padding, spans, stride, dilation, strict=True):
        out = conv_axis_size(size, kernel[len(crops)], s, (lo, hi), d)
        start, stop = k0 * d, (out - 1) * s + k1 * d + 1  # the padded positions the live taps read
        crops.append(slice(max(start, lo) - lo, min(stop, lo + size) - lo))
        pads.append((max(0, lo - start), max(0, stop - lo - size)))
    return x[(slice(None), slice(None), *crops)], weight[live], tuple(pads)


def grouped_matmul_t(cols: torch.Tensor, w_mat: torch.Tensor) -> torch.Tensor:
    """``cols[j] @ w_mat[j].T`` for every group ``j``: ``(g, M, K)``, ``(g, O, K)`` -> ``(M, g, O)``."""
    groups = w_mat.shape[0]
    if groups == 1:
        return matmul_t(cols[0], w_mat[0])[:, None]
    if fast_matmul_applies(cols, w_mat):
        return torch.stack([matmul_t(cols[j], w_mat[j]) for j in range(groups)], dim=1)
    return torch.einsum("gmk,gok->mgo", cols, w_mat).contiguous()  # einsum may return a permuted view


def fast_matmul_applies(*tensors: torch.Tensor) -> bool:
    """Whether :func:`matmul_t` runs oneDNN's product on these operands.

    On the CPU, in float32, when no gradient is needed: ``torch.matmul`` calls the BLAS (MKL),
    whose fastest kernels run only on some processors, while oneDNN's matrix product (the
    library ``F.conv2d`` itself runs on) uses the widest vector instructions of any x86
    processor. Everywhere else (another device or dtype, autograd) ``torch.matmul`` runs.
    """
    first = tensors[0]
    return (
        _ONEDNN_LINEAR is not None
        and first.device.type == "cpu"
        and all(t.dtype == torch.float32 for t in tensors)
        and all(min(t.shape) > 1 for t in tensors)  # oneDNN rejects the strides torch gives unit axes
        and not records_grad(*tensors)
    )


def matmul_t(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b.T`` for ``a`` of shape ``(M, K)`` and ``b`` of shape ``(O, K)``: ``(M, O)``.

    The one matrix product of the engines: oneDNN's where :func:`fast_matmul_applies`, else
    ``torch.matmul``. Either operand may be any strided view; the result is contiguous.
    """
    if fast_matmul_applies(a, b):
        # oneDNN takes a row-major or a column-major matrix of any leading stride, no other.
        a, b = (t if 1 in t.stride() else t.contiguous() for t in (a, b))
        return _ONEDNN_LINEAR(a, b, None, "none", [], "")
    return a @ b.T


def _onednn_linear():
    """The oneDNN product ``X @ W.T`` (``torch.ops.mkldnn._linear_pointwise``), or ``None`` without oneDNN."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        return torch.ops.mkldnn._linear_pointwise
    except (AttributeError, RuntimeError):
        return None


_ONEDNN_LINEAR = _onednn_linear()


def conv_transpose_forward(y: torch.Tensor, weight: torch.Tensor, spec) -> torch.Tensor:
    """Grouped N-d transposed convolution ``fold(W.T @ y)`` for a validated ``spec``, without bias.

    ``spec`` is a transposed :class:`~conv_tutorial.shapes.ConvGeometry`;
    ``y`` is ``(N, C_in, *I)`` (batched, 1 to 3 spatial axes), ``weight`` ``(C_in, C_out // g, *K)``;
    returns ``(N, C_out, *O)`` with ``O = (I - 1) * stride - 2 * padding + dilation * (K - 1) + output_padding + 1``.
    With stride 1 it is the direct convolution of ``y`` with the flipped kernel
    (:func:`transpose_as_direct`), which needs neither columns of the output's size nor a fold.
    """
    stride, padding, out_pads, dilation = spec.stride, spec.symmetric_padding, spec.output_padding, spec.dilation
    if _NATIVE.get():  # inside native_convolutions(): PyTorch's own op
        native = _NATIVE_CONV_TRANSPOSE[len(stride)]
        return native(y, weight, None, stride, padding, out_pads, spec.groups, dilation)
    # Stride 1, without autograd: a convolution with the flipped kernel, no fold. Not with an inf or
    # nan weight: the direct form multiplies it by the padding's zeros (nan), which the scatter never does.
    if all(s == 1 for s in stride) and not records_grad(y, weight) and torch.isfinite(weight.sum()):
        return transpose_as_direct(y, weight, padding, out_pads, dilation, spec.groups)
    if len(stride) == 3:
        return conv_transpose3d_by_depth_taps(y, weight, stride, padding, out_pads, dilation, spec.groups)
    if len(stride) == 1:  # a 1D transposed convolution is a 2D one over a unit height axis
        out = conv_transpose2d_forward(
            y.unsqueeze(2),
            weight.unsqueeze(2),
            (1, *stride),
            (0, *padding),
            (0, *out_pads),
            (1, *dilation),
            spec.groups,
        )
        return out.squeeze(2)
    return conv_transpose2d_forward(y, weight, stride, padding, out_pads, dilation, spec.groups)


def transpose_as_direct(y: torch.Tensor, weight: torch.Tensor, padding, output_padding, dilation, groups: int):
    """A transposed convolution with stride 1, as the direct convolution it equals, without bias.

    With stride 1 the scatter of the transposed convolution is a gather: output pixel ``o`` receives
    ``weight[..., t]`` times input pixel ``o + padding - t * dilation``, which is the convolution of
    ``y`` with the kernel flipped along every spatial axis and its channel axes swapped (per
    group), padded by ``dilation * (k - 1) - padding`` before and that plus ``output_padding``
    after (tinygrad's conv_transpose2d reads the same way). Negative padding crops ``y``.

    Parameters
    ----------
    y : Tensor, shape (N, C_in, *I)
    weight : Tensor, shape (C_in, C_out // groups, *K)
    padding, output_padding, dilation : tuple of ints, one per spatial axis
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, *O)
        ``O = I - 1 - 2 * padding + dilation * (K - 1) + output_padding + 1``.
    """
    c_in, c_out_g, *kernel = weight.shape
    n_sp, taps = len(kernel), math.prod(kernel)
    # The flipped kernel, made in the one copy that lays it out as the window engine reads it:
    # (g, C_out / g, taps, C_in / g) with the taps in reverse order, which flips every spatial axis.
    per_group = weight.reshape(groups, c_in // groups, c_out_g, taps).permute(0, 2, 3, 1)
    flipped = per_group.index_select(2, torch.arange(taps - 1, -1, -1, device=weight.device))
    flipped = flipped.reshape(groups * c_out_g, *kernel, c_in // groups).movedim(-1, 1)  # (C_out, C_in / g, *K)
    pads = [
        (d * (k - 1) - p, d * (k - 1) - p + op)
        for k, p, op, d in zip(kernel, padding, output_padding, dilation, strict=True)
    ]
    crops = tuple(slice(max(0, -lo), size - max(0, -hi)) for (lo, hi), size in zip(pads, y.shape[2:], strict=True))
    y = y[(slice(None), slice(None), *crops)]
    pads = tuple((max(0, lo), max(0, hi)) for lo, hi in pads)
    return inference_forward(y, flipped, (1,) * n_sp, pads, dilation, groups)


def conv2d_forward(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation, groups: int) -> torch.Tensor:
    """Grouped 2D convolution ``W @ unfold(x)`` of validated arguments, without bias.

    Parameters
    ----------
    x : Tensor, shape (N, C_in, H, W)
    weight : Tensor, shape (C_out, C_in // groups, kH, kW)
    stride, dilation : tuple of 2 ints
    padding : tuple of 2 (before, after) pairs
        Per axis; ``'same'`` with an even dilated kernel makes them differ.
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out)
    """
    batch, c_in, height, width = x.shape
    c_out, kernel = weight.shape[0], tuple(weight.shape[2:])
    (top, bottom), (left, right) = padding
    if top == bottom and left == right:
        # Symmetric padding is unfold's own: no padded copy of x is made.
        cols = F.unfold(x, kernel, dilation=dilation, padding=(top, left), stride=stride)
    else:
        x = F.pad(x, pad_widths(padding))
        cols = F.unfold(x, kernel, dilation=dilation, stride=stride)
    out_h, out_w = conv_output_size((height + top + bottom, width + left + right), kernel, stride, 0, dilation)
    # Explicit sizes, not -1: reshape can't infer a size when the batch is empty.
    rows = (c_in // groups) * math.prod(kernel)
    cols = cols.reshape(batch, groups, rows, out_h * out_w)
    w_mat = weight.reshape(groups, c_out // groups, rows)
    # (g, C_out/g, rows) @ (N, g, rows, L) broadcasts to one batched matmul over (N, g).
    return (w_mat @ cols).reshape(batch, c_out, out_h, out_w)


def conv_transpose2d_forward(
    y: torch.Tensor, weight: torch.Tensor, stride, padding, output_padding, dilation, groups: int
) -> torch.Tensor:
    """Grouped 2D transposed convolution ``fold(W.T @ y)`` of validated arguments, without bias.

    Parameters
    ----------
    y : Tensor, shape (N, C_in, H, W)
        One window position per pixel: pixel ``i`` spreads the kernel over
        ``i * stride + k * dilation`` on the canvas.
    weight : Tensor, shape (C_in, C_out // groups, kH, kW)
    stride, padding, output_padding, dilation : tuple of 2 ints
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out)
        ``H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1``.
    """
    batch, c_in, height, width = y.shape
    c_out_g, kernel = weight.shape[1], tuple(weight.shape[2:])
    rows = c_out_g * math.prod(kernel)
    # (g, C_out/g * kH * kW, C_in/g): the transposed weight of every group.
    w_t = weight.reshape(groups, c_in // groups, rows).transpose(1, 2)
    # The canvas every pixel's kernel copy reaches. F.fold needs exactly H x W window positions
    # on it, so output_padding (which can exceed the stride when the dilation is larger) is not
    # part of the canvas but added below.
    canvas = conv_transpose_output_size((height, width), kernel, stride, 0, 0, dilation)
    (ph, pw), (oph, opw) = padding, output_padding

    def scatter(images: torch.Tensor) -> torch.Tensor:
        """``fold(W.T @ y)`` for some images, cropped to the output: ``(n, C_out, H_out, W_out)``."""
        n = images.shape[0]
        cols = (w_t @ images.reshape(n, groups, c_in // groups, height * width)).reshape(
            n, groups * rows, height * width
        )
        full = F.fold(cols, canvas, kernel, dilation=dilation, stride=stride)
        # Crop `padding` from both sides, then extend the end by output_padding rows and columns
        # that no pixel reaches (zeros); F.pad crops where its widths are negative.
        return F.pad(full, (-pw, opw - pw, -ph, oph - ph))

    # The columns hold C_out * kH * kW numbers per input pixel. Without autograd they are made a
    # few images at a time, within the budget of the window engine's columns (column_budget).
    per_image = groups * rows * height * width * y.element_size()
    canvas_bytes = batch * groups * c_out_g * math.prod(canvas) * y.element_size()  # about the output's size
    chunk = max(1, column_budget(y, canvas_bytes) // max(1, per_image))
    if batch <= chunk or records_grad(y, weight):
        return scatter(y)
    first = scatter(y[:chunk])
    out = first.new_empty((batch, *first.shape[1:]))
    out[:chunk] = first
    for start in range(chunk, batch, chunk):
        out[start : start + chunk] = scatter(y[start : start + chunk])
    return out


def conv3d_by_depth_taps(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation, groups: int) -> torch.Tensor:
    """Grouped 3D convolution of validated arguments as a sum of 2D convolutions, without bias.

    Depth tap ``t`` of the kernel reads, for output frame ``o``, the input frame
    ``o * stride_D + t * dilation_D``. Folding the output frames into the batch axis makes that
    one 2D convolution with the kernel slice ``weight[:, :, t]``, so

        ``out[:, :, o] = sum over t of conv2d(x[:, :, o * s + t * d], weight[:, :, t])``

    is ``kD`` calls of the 2D engine (:func:`conv2d_forward`), not a second engine.

    Parameters
    ----------
    x : Tensor, shape (N, C_in, D, H, W)
    weight : Tensor, shape (C_out, C_in // groups, kD, kH, kW)
    stride, dilation : tuple of 3 ints
    padding : tuple of 3 (before, after) pairs
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, D_out, H_out, W_out)
    """
    (front, back), plane_padding = padding[0], padding[1:]
    x = F.pad(x, (0, 0, 0, 0, front, back))
    batch, c_in, depth, height, width = x.shape
    c_out, k_depth = weight.shape[0], weight.shape[2]
    s_d, d_d = stride[0], dilation[0]
    d_out = conv_axis_size(depth, k_depth, s_d, (0, 0), d_d)
    out = 0
    for t in range(k_depth):
        frames = x[:, :, t * d_d : t * d_d + (d_out - 1) * s_d + 1 : s_d]
        frames = frames.transpose(1, 2).reshape(batch * d_out, c_in, height, width)
        out = out + conv2d_forward(frames, weight[:, :, t], stride[1:], plane_padding, dilation[1:], groups)
    return out.reshape(batch, d_out, c_out, *out.shape[2:]).transpose(1, 2)


def conv_transpose3d_by_depth_taps(
    y: torch.Tensor, weight: torch.Tensor, stride, padding, output_padding, dilation, groups: int
) -> torch.Tensor:
    """Grouped 3D transposed convolution of validated arguments, without bias.

    The adjoint of ``conv3d_by_depth_taps``: where the convolution reads
    input frame ``o * stride_D + t * dilation_D`` through the kernel slice ``weight[:, :, t]``, its
    adjoint sends frame ``o`` of ``y`` through the 2D transposed convolution with that slice and
    adds the result onto output frame ``o * stride_D + t * dilation_D``. Depth ``padding`` is then
    cropped and ``output_padding`` frames added at the end, as the 2D engine
    (:func:`conv_transpose2d_forward`) does for height and width.

    Parameters
    ----------
    y : Tensor, shape (N, C_in, D, H, W)
    weight : Tensor, shape (C_in, C_out // groups, kD, kH, kW)
    stride, padding, output_padding, dilation : tuple of 3 ints
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, D_out, H_out, W_out)
        ``D_out = (D - 1) * stride - 2 * padding + dilation * (kD - 1) + output_padding + 1``.
    """
    batch, c_in, depth, height, width = y.shape
    k_depth = weight.shape[2]
    s_d, d_d = stride[0], dilation[0]
    frames = y.transpose(1, 2).reshape(batch * depth, c_in, height, width)
    canvas_depth = conv_transpose_axis_size(depth, k_depth, s_d, (0, 0), 0, d_d)
    first_frames = torch.arange(depth, device=y.device) * s_d
    full = None
    for t in range(k_depth):
        part = conv_transpose2d_forward(
            frames, weight[:, :, t], stride[1:], padding[1:], output_padding[1:], dilation[1:], groups
        )
        part = part.reshape(batch, depth, *part.shape[1:])
        if full is None:
            full = part.new_zeros((batch, canvas_depth, *part.shape[2:]))
        full = full.index_add(1, first_frames + t * d_d, part)
    p_d, op_d = padding[0], output_padding[0]
    return F.pad(full.transpose(1, 2), (0, 0, 0, 0, -p_d, op_d - p_d))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks into columns (im2col), like ``torch.nn.functional.unfold``.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    kernel_size, dilation, padding, stride : int or tuple of 2 ints

    Returns
    -------
    Tensor, shape (N, C * kh * kw, L) or (C * kh * kw, L)
        Column ``l`` holds the receptive field of output position ``l`` (row-major over
        ``(H_out, W_out)``), rows ordered ``(c, i, j)``. Integer and boolean input gives float64.

    Shape
    -----
    ``L = H_out * W_out`` with ``H_out = floor((H + 2p - d(kh - 1) - 1) / s) + 1`` (same for W).

    Examples
    --------
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> unfold(x, 3).shape
    torch.Size([1, 9, 4])
    """
    dtype = common_float_dtype(input=input)
    spec = check_unfold(input.shape, kernel_size, dilation, padding, stride)
    return F.unfold(
        input.to(dtype), spec.kernel_size, dilation=spec.dilation, padding=spec.symmetric_padding, stride=spec.stride
    )


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns back into an image (col2im), like ``torch.nn.functional.fold``.

    The adjoint of :func:`unfold`: ``<unfold(x), c> == <x, fold(c)>``. Where blocks overlap their
    values are added, so ``fold(unfold(x))`` multiplies each pixel by the number of blocks that
    contain it.

    Parameters
    ----------
    input : Tensor, shape (N, C * kh * kw, L) or (C * kh * kw, L)
    output_size : int or tuple of 2 ints
        Spatial size ``(H, W)`` of the image to rebuild.
    kernel_size, dilation, padding, stride : int or tuple of 2 ints

    Returns
    -------
    Tensor, shape (N, C, H, W) or (C, H, W)

    Shape
    -----
    ``L`` must equal the number of blocks ``H_blocks * W_blocks`` with
    ``H_blocks = floor((H + 2p - d(kh - 1) - 1) / s) + 1`` (same for W).

    Examples
    --------
    >>> x = torch.ones(1, 1, 3, 3)
    >>> fold(unfold(x, 2), 3, 2)[0, 0]
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]])
    """
    dtype = common_float_dtype(input=input)
    spec = check_fold(input.shape, output_size, kernel_size, dilation, padding, stride)
    return F.fold(
        input.to(dtype),
        spec.input_size,
        spec.kernel_size,
        dilation=spec.dilation,
        padding=spec.symmetric_padding,
        stride=spec.stride,
    )
