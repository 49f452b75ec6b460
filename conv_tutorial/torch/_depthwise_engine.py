"""The depthwise fast path of the torch engine (chapter 6): one multiply-add per kernel tap.

A convolution with one input channel per group runs as one multiply-add per kernel tap over
shifted views, instead of im2col's matrix product.

With one input channel per group, the matrix product of :func:`conv_tutorial.torch.im2col.conv_forward`
multiplies a ``1 x prod(K)`` row by columns that im2col copied ``prod(K)`` times: it moves
``prod(K)`` times the input for a product with a single row. The general engine hands such a
convolution here in one line (:func:`depthwise_forward`).

What this path computes is :func:`conv_tutorial.torch.depthwise.depthwise_conv2d_by_taps`, the
readable loop over taps: for each tap, ``weight[:, tap]`` times the shifted view of the padded
input, added in place into the output (``out.addcmul_(view, w_tap)``). What makes it fast:

- **one flat row per channel.** The padded input of each channel is flattened, and the output is
  computed on the padded grid's width (the extra columns are cut off at the end). A tap is then
  an offset into that row, so every multiply-add runs over one long contiguous slice per channel
  instead of ``H_out`` short rows;
- **strides as phases.** With stride ``s`` the input is first split into its ``s x s`` phases
  (``x[..., a::s, b::s]``, one copy); a tap reads one phase at an offset, so a strided
  convolution is again a sum of contiguous slices;
- **groups of a few channels as batched products.** With ``C_in / g`` input channels per group
  (narrow groups, :func:`conv_tutorial.torch.im2col.takes_taps`), a tap is one ``torch.bmm`` over images
  and groups of its ``(C_out / g, C_in / g)`` weights with the slices of the group's channels,
  added into the output (``baddbmm_``). No column is copied: a group convolution of ResNeXt's kind
  (4 to 32 channels per group) costs ``prod(K)`` short products instead of ``prod(K)`` copies of
  the input.

A kernel with more taps than output positions (a global depthwise convolution, chapter 13) is a
weighted sum of each window instead, one product and one sum over the window view. Plain differentiable
torch operations on any device. The tests hold this path equal to the readable loop and to
PyTorch.

Chapter 6: ``book/06_depthwise_convolution.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy._depthwise_engine`.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F

from ..shapes import conv_axis_size
from ._tensors import channels_last_padded, pad_widths

__all__ = ["depthwise_forward"]


def depthwise_forward(x: torch.Tensor, weight: torch.Tensor, stride, padding, dilation, groups=None) -> torch.Tensor:
    """Depthwise convolution (one input channel per group) of validated arguments, without bias.

    Parameters
    ----------
    x : Tensor, shape (N, C_in, *S)
        1 to 3 spatial axes, unpadded.
    weight : Tensor, shape (C_out, C_in // groups, *K)
        With ``groups = C_in``, ``m = C_out / C_in`` filters per input channel: output channel
        ``o`` reads input channel ``o // m``.
    stride, dilation : tuple of ints, one per spatial axis
    padding : tuple of (before, after) pairs, one per spatial axis
    groups : int, optional
        ``C_in`` (depthwise) by default. With several input channels per group, each tap is one
        batched matrix product ``(C_out / g, C_in / g) @ (C_in / g, positions)`` per image and group.

    Returns
    -------
    Tensor, shape (N, C_out, *O)
        ``O = floor((S + before + after - dilation * (K - 1) - 1) / stride) + 1`` per axis.
    """
    kernel = tuple(weight.shape[2:])
    out_size = tuple(
        conv_axis_size(size, k, s, pads, d)
        for size, pads, k, s, d in zip(x.shape[2:], padding, kernel, stride, dilation, strict=True)
    )
    groups = x.shape[1] if groups is None else groups
    if math.prod(out_size) < math.prod(kernel):
        return _weighted_windows(x, weight, stride, padding, dilation, groups, out_size)
    if groups == x.shape[1] and (any(s > 1 for s in stride) or math.prod(out_size) < SMALL_MAP):
        return _sum_of_taps_channels_last(x, weight, stride, padding, dilation, out_size)
    return _sum_of_taps(x, weight, stride, padding, dilation, groups, out_size)


#: Output positions below which a depthwise convolution takes the channels-last path: on small maps
#: the flat rows are short and the padded grid's extra columns a large share of every tap's work.
SMALL_MAP = 256


def _sum_of_taps_channels_last(x, weight, stride, padding, dilation, out_size) -> torch.Tensor:
    """``sum over taps of w_tap * (shifted input)`` with the channels last, for one input channel per group.

    The input is copied once into a zero-padded channels-last buffer ``(N, *S_padded, C)``; a tap
    is then a strided view of it whose rows are runs of ``C`` contiguous numbers, whatever the
    stride, multiplied by one weight per channel. Strided convolutions need no phases and small
    maps no padded grid's extra columns. Returns ``(N, C_out, *O)`` laid out channels last.
    """
    batch, channels = x.shape[:2]
    kernel = tuple(weight.shape[2:])
    multiplier = weight.shape[0] // channels
    buffer = channels_last_padded(x, padding)[..., None]  # (N, *S_padded, C, 1)
    # (taps, C, m): output channel c * m + j reads input channel c with weight w[c * m + j].
    w = weight.reshape(channels, multiplier, math.prod(kernel)).permute(2, 0, 1).contiguous()
    out = None
    for t, taps in enumerate(itertools.product(*(range(k) for k in kernel))):
        view = buffer[
            (
                slice(None),
                *(
                    slice(i * d, i * d + (o - 1) * s + 1, s)
                    for i, d, s, o in zip(taps, dilation, stride, out_size, strict=True)
                ),
            )
        ]
        if out is None:
            out = view * w[t]  # (N, *O, C, m)
        else:
            out.addcmul_(view, w[t])
    return out.reshape(batch, *out_size, channels * multiplier).movedim(-1, 1)


def _sum_of_taps(x, weight, stride, padding, dilation, groups, out_size) -> torch.Tensor:
    """``sum over taps of w_tap * (shifted input)``, each shift a slice of one flat row per channel."""
    batch, channels, *size = x.shape
    kernel = tuple(weight.shape[2:])
    c_out, per_group = weight.shape[0], channels // groups
    # The padded input, split into its stride phases: phase `q` of axis i holds the positions
    # q, q + s, q + 2s, ... of the padded axis, `cells[i]` of them (the last axis of each phase
    # is the width of the grid the output is computed on).
    cells = [-(-(n + lo + hi) // s) for n, (lo, hi), s in zip(size, padding, stride, strict=True)]
    row = math.prod(cells[1:])  # flat length of one step along the first axis
    offsets = [
        [(tap * d) // s for tap, d, s in zip(taps, dilation, stride, strict=True)]
        for taps in itertools.product(*(range(k) for k in kernel))
    ]
    length = out_size[0] * row  # the output, on the phase grid, flattened
    reach = max(sum(o * math.prod(cells[i + 1 :]) for i, o in enumerate(offs)) for offs in offsets) + length
    cells[0] = max(cells[0], -(-reach // row))  # rows of zeros so that every tap's slice is in bounds
    phases = _phase_grids(x, padding, stride, cells)
    phases = phases.reshape(batch * groups, per_group, math.prod(stride), math.prod(cells))
    # (taps, g, C_out / g, C_in / g): each tap's weight one contiguous block.
    w = weight.reshape(groups, c_out // groups, per_group, math.prod(kernel)).permute(3, 0, 1, 2).contiguous()
    out = x.new_empty((batch * groups, c_out // groups, length))
    grouped_out = out.view(batch, groups, c_out // groups, length)
    for t, (taps, offs) in enumerate(zip(itertools.product(*(range(k) for k in kernel)), offsets, strict=True)):
        phase = 0
        for tap, d, s in zip(taps, dilation, stride, strict=True):
            phase = phase * s + (tap * d) % s
        start = sum(o * math.prod(cells[i + 1 :]) for i, o in enumerate(offs))
        shifted = phases[:, :, phase, start : start + length]  # (N * g, C_in / g, length)
        if per_group == 1:  # one multiply-add: (N, g, 1, length) times (g, C_out / g, 1)
            product = (shifted.view(batch, groups, 1, length), w[t])
            if t == 0:
                torch.mul(*product, out=grouped_out)
            else:
                grouped_out.addcmul_(*product)
        else:  # a product per image and group: (C_out / g, C_in / g) @ (C_in / g, length)
            # The tap's weight repeated per image (a few kilobytes): batched products need one per batch entry.
            w_tap = w[t].repeat(batch, 1, 1)
            if t == 0:
                torch.bmm(w_tap, shifted, out=out)
            else:
                out.baddbmm_(w_tap, shifted)
    out = out.reshape(batch, c_out, out_size[0], *cells[1:])
    return out[(Ellipsis, *(slice(0, o) for o in out_size[1:]))]


def _phase_grids(x: torch.Tensor, padding, stride, cells) -> torch.Tensor:
    """The zero-padded input split into its stride phases: ``(N, C, *stride, *cells)``.

    ``grids[n, c, a_1, ..., q_1, ...]`` is the padded input at position ``q_i * s_i + a_i`` along
    each axis (zero outside the input; ``cells`` may cut the padded grid short or extend it with
    zeros). Each phase is filled straight from ``x`` with one strided copy, so that neither a
    padded copy of the input nor a transposing copy of it is made (with stride 1 there is one
    phase: the padded input).
    """
    grids = x.new_zeros((*x.shape[:2], *stride, *cells))
    for phase in itertools.product(*(range(s) for s in stride)):
        source, target = [], []
        for a, s, (lo, _), n, c in zip(phase, stride, padding, x.shape[2:], cells, strict=True):
            first = max(0, -(-(lo - a) // s))  # the first cell q whose position q * s + a - lo is in the input
            last = min(c, -(-(n + lo - a) // s))  # one past the last such cell
            count = max(0, last - first)
            source.append(slice(first * s + a - lo, first * s + a - lo + (count - 1) * s + 1 if count else 0, s))
            target.append(slice(first, first + count))
        if all(t.stop > t.start for t in target):
            grids[(Ellipsis, *phase, *target)] = x[(Ellipsis, *source)]
    return grids


def _weighted_windows(x, weight, stride, padding, dilation, groups, out_size) -> torch.Tensor:
    """Each output the weighted sum of its window, for kernels with more taps than outputs."""
    batch, channels, *size = x.shape
    kernel = tuple(weight.shape[2:])
    c_out, per_group = weight.shape[0], channels // groups
    flat_pad = pad_widths(padding)
    padded = F.pad(x, flat_pad) if any(flat_pad) else x
    steps = padded.stride()
    windows = padded.as_strided(
        (batch, channels, *out_size, *kernel),
        (
            steps[0],
            steps[1],
            *(steps[2 + i] * s for i, s in enumerate(stride)),
            *(steps[2 + i] * d for i, d in enumerate(dilation)),
        ),
    ).reshape(batch, groups, 1, per_group, math.prod(out_size), math.prod(kernel))
    w = weight.reshape(groups, c_out // groups, per_group, 1, math.prod(kernel))
    out = (windows * w).sum((-3, -1))  # (N, g, C_out / g, prod(O)): a few windows, each read once
    return out.reshape(batch, c_out, *out_size)
