"""The receptive field of a stack of layers, drawn along one axis.

One row of cells per layer, the input at the bottom, and the cells of every layer that reach one output cell
highlighted.

The cells come from the layers' arithmetic (:func:`receptive_paths`), the row lengths from
:func:`conv_tutorial.shapes.conv_output_size`, the span from
:func:`conv_tutorial.shapes.receptive_field`; the tests check all three against the gradient of a
real stack of torch layers.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.patches import Rectangle

from .._checks import check_index, check_positive_int
from ..shapes import conv_output_size, receptive_field
from .conv2d import _EDGE, _HIGHLIGHT, _INPUT_FACE, _OUTPUT_FACE
from .figures import TEXT_WIDTH

__all__ = ["draw_receptive_field", "receptive_paths"]

#: ``gid`` prefix of the highlighted cells: ``"reach-0"`` for the input row, ``"reach-l"`` for layer ``l``.
REACH_GID = "reach"

_LAYER_FACE = "#eeeeee"
_CELL = 0.9  # cell width in input cells, leaving a gap between neighbours
_ROW = 1.6  # vertical distance between rows, leaving room for the connecting lines


def _layers(layers) -> list[tuple[int, int, int]]:
    """Layers as ``(kernel, stride, dilation)`` ints, validated by :func:`receptive_field`."""
    layers = [tuple(layer) for layer in layers]
    if not layers:
        raise ValueError("layers must hold at least one (kernel_size, stride[, dilation]) tuple, got none")
    receptive_field(layers)  # the checks of the arithmetic the picture draws
    if any(not isinstance(v, (int, np.integer)) for layer in layers for v in layer):
        raise TypeError(f"layers must be (kernel_size, stride[, dilation]) tuples of ints (one axis), got {layers}")
    return [(int(layer[0]), int(layer[1]), int(layer[2]) if len(layer) == 3 else 1) for layer in layers]


def _sizes(layers, input_size) -> list[int]:
    sizes = [int(input_size)]
    for k, s, d in layers:
        sizes.append(conv_output_size(sizes[-1], k, s, 0, d))
    return sizes


def receptive_paths(layers, input_size, output_index):
    """For every row of a 1D stack, the number of paths from each cell to one output cell.

    Output cell ``i`` of a layer ``(k, s, d)`` reads the cells ``i * s + u * d``, ``u = 0..k-1``, of
    the row below (no padding). Going down from the output, a cell's count is the sum of the counts
    of the cells above that read it: with every weight equal to 1, it is the gradient of the output
    cell with respect to that cell. The non-zero cells of the input row span
    ``receptive_field(layers)[0]`` cells.

    Parameters
    ----------
    layers : sequence of ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)`` int tuples
    input_size : int
        Length of the input row.
    output_index : int
        The output cell, ``0 <= output_index < output size``.

    Returns
    -------
    list of ndarray of float64
        One array per row, ``len(layers) + 1`` in all: the input first, the output last (one at
        ``output_index``, zeros elsewhere). Float, like the gradient they equal: the counts grow
        like ``k ** len(layers)`` and would overflow an int64 in deep stacks; they are exact up to
        ``2 ** 53``.

    Examples
    --------
    >>> [row.astype(int).tolist() for row in receptive_paths([(3, 1), (3, 1)], 7, 1)]
    [[0, 1, 2, 3, 2, 1, 0], [0, 1, 1, 1, 0], [0, 1, 0]]
    """
    layers = _layers(layers)
    input_size = check_positive_int("receptive_paths", "input_size", input_size)
    sizes = _sizes(layers, input_size)
    output_index = check_index("receptive_paths", "output_index", output_index, sizes[-1], why="the output size")
    rows = [np.zeros(n) for n in sizes]
    rows[-1][output_index] = 1
    for level in range(len(layers), 0, -1):
        k, s, d = layers[level - 1]
        for i in np.flatnonzero(rows[level]):
            rows[level - 1][i * s + d * np.arange(k)] += rows[level][i]
    return rows


def _label(level: int, layer, last: bool) -> str:
    k, s, d = layer
    parts = [f"k={k}"] + ([f"s={s}"] if s != 1 else []) + ([f"d={d}"] if d != 1 else [])
    return f"layer {level}{' (output)' if last else ''}\n" + ", ".join(parts)


def draw_receptive_field(layers, n_outputs=3, output_index=None, show_paths=True, title=None, ax=None):
    """Draw which cells of every layer of a 1D stack reach one output cell.

    Rows from bottom to top: the input, then each layer's output. A cell sits above the centre of
    its own receptive field, so strided rows spread out by their jump. Lines join each highlighted
    cell to the cells it reads; the input row is bracketed by the receptive field of
    :func:`conv_tutorial.shapes.receptive_field`.

    Parameters
    ----------
    layers : sequence of ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)`` int tuples
        One axis of each layer (a 3x3 layer is ``(3, 1)``).
    n_outputs : int
        The input is made just long enough for this many output cells (no padding).
    output_index : int, optional
        The output cell to trace; the middle one by default.
    show_paths : bool
        Write in each highlighted cell its number of paths to the output cell (its gradient when
        every weight is 1).
    title : str, optional
    ax : matplotlib Axes, optional
        Draw into it; a new figure is made otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_receptive_field([(3, 1), (3, 1)])
    >>> len([p for p in fig.axes[0].patches if p.get_gid() == "reach-0"])   # two 3x3 see 5 cells
    5
    """
    layers = _layers(layers)
    n_outputs = check_positive_int("draw_receptive_field", "n_outputs", n_outputs)
    size, jump = receptive_field(layers)
    input_size = size + (n_outputs - 1) * jump
    output_index = n_outputs // 2 if output_index is None else output_index
    rows = receptive_paths(layers, input_size, output_index)
    if ax is None:
        width = min(TEXT_WIDTH, 1.6 + 0.32 * input_size)
        _, ax = plt.subplots(figsize=(width, min(4.0, 0.9 + 0.62 * len(rows))), layout="constrained")
    labels = ["input"] + [_label(i + 1, layer, i + 1 == len(layers)) for i, layer in enumerate(layers)]
    for level, row in enumerate(rows):
        r, j = receptive_field(layers[:level]) if level else (1, 1)
        y = level * _ROW
        for i, paths in enumerate(row):
            x = (r - 1) / 2 + i * j  # the centre of this cell's receptive field, in input cells
            face = _INPUT_FACE if level == 0 else _OUTPUT_FACE if level == len(layers) else _LAYER_FACE
            ax.add_patch(
                Rectangle(
                    (x - _CELL / 2, y - 0.45),
                    _CELL,
                    0.9,
                    facecolor=_HIGHLIGHT if paths else face,
                    edgecolor=_EDGE,
                    linewidth=0.8,
                    gid=f"{REACH_GID}-{level}" if paths else None,
                )
            )
            if paths and show_paths:
                ax.text(x, y, f"{paths:.0f}" if paths < 1e5 else f"{paths:.0e}", ha="center", va="center", fontsize=8)
            if paths and level:
                k, s, d = layers[level - 1]
                r_below, j_below = receptive_field(layers[: level - 1]) if level > 1 else (1, 1)
                for u in range(k):
                    x_below = (r_below - 1) / 2 + (i * s + u * d) * j_below
                    ax.plot([x_below, x], [y - _ROW + 0.45, y - 0.45], color=_HIGHLIGHT, linewidth=0.9, alpha=0.8)
    reached = np.flatnonzero(rows[0])
    lo, hi = reached[0] - _CELL / 2, reached[-1] + _CELL / 2
    ax.annotate("", (lo, -0.75), (hi, -0.75), arrowprops=dict(arrowstyle="<->", color=_EDGE, linewidth=0.9))
    ax.text((lo + hi) / 2, -0.95, f"receptive field: {size} input cells", ha="center", va="top", fontsize=9)
    ax.set_xlim(-0.7, input_size - 0.3)
    ax.set_ylim(-1.6, (len(rows) - 1) * _ROW + 0.6)
    ax.set_yticks([level * _ROW for level in range(len(rows))], labels, fontsize=8)
    ax.set_xticks([])
    ax.tick_params(left=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title is not None:
        ax.set_title(title, fontsize=10)
    return ax.figure
