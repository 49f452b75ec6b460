"""The filters of a convolution layer drawn as volumes of weights: which input channels each filter reads.

The picture also shows which output maps each filter makes.

One picture for three layers that differ only in how their filters are cut:

- ``'standard'``: each filter is ``kH x kW x C_in`` -- one kernel per input channel -- and the
  per-channel results add up to one output map;
- ``'depthwise'``: each filter is ``kH x kW x 1``, reads one channel and makes one output map of
  that channel (``multiplier`` filters per channel);
- ``'separable'``: a depthwise step with one filter per channel, then ``C_out`` pointwise filters
  of ``1 x 1 x C_in``, each a column through all the depthwise maps.

Input channel ``c`` has its own colour throughout (the colours of
:func:`~conv_tutorial.viz.draw_channel_graph`); a map that sums all the channels is grey. The
output size comes from :func:`conv_tutorial.shapes.conv_output_size`, and every label that states
a size or a number of weights is computed from the parameters.
"""

from __future__ import annotations

import math

from matplotlib import pyplot as plt
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath

from .._checks import _non_negative, _positive, check_choice, check_positive_int
from ..shapes import conv_output_size
from .channels import _PALETTE

__all__ = ["draw_filter_volumes"]

KINDS = ("standard", "depthwise", "separable")

#: Input channel ``c`` is drawn in colour ``c``; the palette's grey is left out, for the grey of
#: maps that mix every channel.
_CHANNEL_COLOURS = tuple(c for c in _PALETTE if c != "#7f7f7f")
_MIXED = "#9a9a9a"
_CELL_EDGE = "white"
_ARROW = "#4d4d4d"
_MAX_CHANNELS = len(_CHANNEL_COLOURS)
_MAX_LANES = 8  # filters drawn one above the other
_MAX_SIZE = 16  # cells along one side of the input

_MAX_WIDTH = 10.0  # inches: the widest a figure grows; the cells shrink to fit
_CELL = 0.2  # inches: the largest cell
_DEPTH_STEP = 0.7  # offset between the sheets of a volume, in cells
_CAPTION = 0.24  # inches under each filter for its caption
_LANE_GAP = 0.14
_ARROW_GAP = 0.75  # inches between two columns
_SUM_GAP = 1.05  # between filters and the maps they sum, room for "sum over ..."
_TITLE_SIZE = 9
_LABEL_SIZE = 8
_TEXT_TO_PATH = TextToPath()


def _text_width(text, size):
    """Width in inches of the widest line of ``text`` in the default font at ``size`` points."""
    font = FontProperties(size=size)
    return (
        max(_TEXT_TO_PATH.get_text_width_height_descent(line, font, ismath=False)[0] for line in text.split("\n")) / 72
    )


def _sheet(ax, x, y, rows, cols, colour, cell, gid):
    """A ``rows x cols`` grid of cells with its lower-left corner at ``(x, y)``."""
    for i in range(rows):
        for j in range(cols):
            ax.add_patch(
                Rectangle(
                    (x + j * cell, y + (rows - 1 - i) * cell),
                    cell,
                    cell,
                    facecolor=colour,
                    edgecolor=_CELL_EDGE,
                    linewidth=0.8,
                    gid=gid,
                )
            )


class _Block:
    """A volume of ``len(colours)`` stacked ``rows x cols`` sheets, the first in front (lower left)."""

    def __init__(self, rows, cols, colours, gid, caption=None, side_label=None):
        self.rows, self.cols, self.colours, self.gid = rows, cols, colours, gid
        self.caption, self.side_label = caption, side_label

    def size(self, cell):
        depth = (len(self.colours) - 1) * _DEPTH_STEP * cell
        return self.cols * cell + depth, self.rows * cell + depth

    def footprint(self, cell):
        """Height with the caption under the block."""
        return self.size(cell)[1] + (_CAPTION if self.caption else 0.0)

    def draw(self, ax, x, y, cell):
        """Draw with the front sheet's lower-left corner at ``(x, y)``."""
        self.x, self.y, self.cell = x, y, cell
        for c in reversed(range(len(self.colours))):
            step = c * _DEPTH_STEP * cell
            _sheet(ax, x + step, y + step, self.rows, self.cols, self.colours[c], cell, self.gid)
        width, height = self.size(cell)
        if self.caption:
            ax.text(x + width / 2, y - 0.05, self.caption, ha="center", va="top", fontsize=_LABEL_SIZE)
        if self.side_label:
            ax.text(x + width + 0.1, y + height / 2, self.side_label, ha="left", va="center", fontsize=_LABEL_SIZE)

    def left(self, c=None):
        """Where an arrow into the block ends: the front sheet's left edge, or the visible top of sheet ``c``."""
        step = _DEPTH_STEP * self.cell
        if not c:
            return self.x - 0.04, self.y + self.rows * self.cell / 2
        return self.x + c * step - 0.04, self.y + self.rows * self.cell + (c - 0.5) * step

    def right(self, c=None):
        """Where an arrow out of the block starts: the right edge of sheet ``c``, or of the whole volume."""
        width, height = self.size(self.cell)
        if c is None:
            return self.x + width + 0.04, self.y + height / 2
        step = c * _DEPTH_STEP * self.cell
        return self.x + self.cols * self.cell + step + 0.04, self.y + step + self.rows * self.cell / 2


def _arrow(ax, start, end, colour=_ARROW):
    ax.annotate("", end, start, arrowprops=dict(arrowstyle="->", color=colour, lw=1.1, shrinkA=0, shrinkB=0))


def _times(*sizes):
    return "×".join(str(s) for s in sizes)


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _columns(kind, channels, kernel, size, out_size, out_channels, padding):
    """The picture's columns, left to right: ``(title, blocks, lane group or None)``, and its arrows."""
    colours = _CHANNEL_COLOURS[:channels]
    (kh, kw), (ho, wo) = kernel, out_size
    pad_note = f", padding {padding[0] if padding[0] == padding[1] else padding}" if any(padding) else ""
    columns = [(f"input {_times(*size, channels)}{pad_note}", [_Block(*size, colours, "input")], None)]
    if kind == "standard":
        filters = [_Block(kh, kw, colours, "filter", caption=f"weight[{o}]") for o in range(out_channels)]
        maps = [_Block(ho, wo, [_MIXED], "output", side_label=f"output map {o}") for o in range(out_channels)]
        weights = out_channels * channels * kh * kw
        columns += [
            (f"{_plural(out_channels, 'filter')} of {_times(kh, kw, channels)}\n{weights} weights", filters, "a"),
            (f"output {_times(ho, wo, out_channels)}", maps, "a"),
        ]
        arrows = [("fan", 0, 1), ("sum", 1, 2)]
    elif kind == "depthwise":
        multiplier = out_channels // channels
        filters = [
            _Block(
                kh,
                kw,
                [colours[i // multiplier]],
                "filter",
                caption=f"filter {i}" + (f" (channel {i // multiplier})" if multiplier > 1 else ""),
            )
            for i in range(out_channels)
        ]
        maps = [
            _Block(ho, wo, [colours[i // multiplier]], "output", side_label=f"output map {i}")
            for i in range(out_channels)
        ]
        columns += [
            (
                f"{_plural(out_channels, 'filter')} of {_times(kh, kw, 1)}\n{out_channels * kh * kw} weights",
                filters,
                "a",
            ),
            (f"output {_times(ho, wo, out_channels)}", maps, "a"),
        ]
        arrows = [("split", 0, 1), ("pair", 1, 2)]
    else:
        filters = [_Block(kh, kw, [colours[c]], "depthwise filter", caption=f"filter {c}") for c in range(channels)]
        pointwise = [_Block(1, 1, colours, "pointwise filter", caption=f"filter {o}") for o in range(out_channels)]
        maps = [_Block(ho, wo, [_MIXED], "output", side_label=f"output map {o}") for o in range(out_channels)]
        columns += [
            (
                f"depthwise: {_plural(channels, 'filter')}\nof {_times(kh, kw, 1)}, {channels * kh * kw} weights",
                filters,
                "a",
            ),
            (f"depthwise output\n{_times(ho, wo, channels)}", [_Block(ho, wo, colours, "depthwise output")], None),
            (
                f"pointwise: {_plural(out_channels, 'filter')}\nof {_times(1, 1, channels)}, "
                f"{out_channels * channels} weights",
                pointwise,
                "b",
            ),
            (f"output {_times(ho, wo, out_channels)}", maps, "b"),
        ]
        arrows = [("split", 0, 1), ("merge", 1, 2), ("fan", 2, 3), ("pair", 3, 4)]
    return columns, arrows


def _layout(columns, arrows, cell):
    """Column left edges, the content's width and height, and each lane group's pitch, for cells of ``cell`` inches."""
    pitch = {}
    for _, blocks, group in columns:
        if group:
            pitch[group] = max(pitch.get(group, 0), max(b.footprint(cell) for b in blocks) + _LANE_GAP)
    height = max(len(blocks) * pitch[group] if group else blocks[0].footprint(cell) for _, blocks, group in columns)
    gaps = {right: _SUM_GAP if how == "sum" else _ARROW_GAP for how, _, right in arrows}
    lefts, x, previous_extra = [], 0.0, 0.0
    for i, (title, blocks, _) in enumerate(columns):
        width = max(b.size(cell)[0] for b in blocks)
        title_width = _text_width(title, _TITLE_SIZE)
        side = max((_text_width(b.side_label, _LABEL_SIZE) + 0.1 for b in blocks if b.side_label), default=0)
        extra = max(0.0, (title_width - width) / 2)  # a title wider than its column overhangs both sides
        x += max(previous_extra + extra, gaps.get(i, 0.0)) if i else extra
        lefts.append(x)
        x += width
        previous_extra = max(extra, side)
    return lefts, x + previous_extra, height, pitch


def _legend(kind, channels):
    """The legend's labels and colour patches: one per input channel, and grey where channels are summed."""
    if kind == "standard":
        labels = [f"input channel {c}, kernel weight[o, {c}]" for c in range(channels)]
    else:
        labels = [f"input channel {c}" + (" and its maps" if kind == "depthwise" else "") for c in range(channels)]
    handles = [Rectangle((0, 0), 1, 1, facecolor=_CHANNEL_COLOURS[c], edgecolor="none") for c in range(channels)]
    if kind != "depthwise":
        labels.append(f"sum over all {channels} channels")
        handles.append(Rectangle((0, 0), 1, 1, facecolor=_MIXED, edgecolor="none"))
    return labels, handles


def draw_filter_volumes(kind, in_channels, kernel_size, input_size, out_channels=None, *, stride=1, padding=0, ax=None):
    """The filters of a standard, depthwise or depthwise separable layer, drawn as volumes of weights.

    Left to right: the input as a volume of ``C_in`` stacked channels, the layer's filters one
    above the other, and the output maps each filter makes (for ``'separable'``, the depthwise
    filters, their output volume, the pointwise filters, the output maps). Input channel ``c`` and
    every weight and map that belongs to it alone have colour ``c``; a map that sums all the
    channels is grey. The column titles give the sizes and the number of weights; arrows show
    which volume each filter reads.

    Parameters
    ----------
    kind : {'standard', 'depthwise', 'separable'}
        ``'standard'``: ``out_channels`` filters of ``kH x kW x C_in``, each summing over all the
        channels into one output map. ``'depthwise'``: ``out_channels`` filters of
        ``kH x kW x 1``, ``out_channels / C_in`` per channel (the channel multiplier), each making
        one output map of its channel. ``'separable'``: one ``kH x kW x 1`` filter per channel,
        then ``out_channels`` pointwise filters of ``1 x 1 x C_in``.
    in_channels : int
        ``C_in``, at most 7 (one colour each).
    kernel_size : int or tuple of 2 ints
        ``(kH, kW)`` of the spatial filters.
    input_size : int or tuple of 2 ints
        ``(H, W)`` of one input channel, at most 16 cells a side.
    out_channels : int, optional
        The layer's output channels, at most 8 (one row of the picture each). By default 1 for
        ``'standard'`` (one filter) and ``C_in`` for ``'depthwise'`` and ``'separable'``; for
        ``'depthwise'`` a multiple of ``in_channels``.
    stride, padding : int or tuple of 2 ints, keyword-only
        Of the spatial filters; they set the output size (padding is not drawn, it is named in
        the input's title).
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new figure sized to the picture.

    Returns
    -------
    matplotlib.figure.Figure
        Every cell is a ``Rectangle`` in ``ax.patches`` whose gid names its part: ``'input'``,
        ``'filter'`` (``'depthwise filter'`` and ``'pointwise filter'`` for ``'separable'``),
        ``'depthwise output'`` and ``'output'``. A filter cell is one weight, so counting the
        filter cells counts the layer's weights (without bias).

    Examples
    --------
    >>> fig = draw_filter_volumes("standard", in_channels=3, kernel_size=3, input_size=5)
    >>> cells = [p.get_gid() for p in fig.axes[0].patches]
    >>> cells.count("input"), cells.count("filter"), cells.count("output")
    (75, 27, 9)
    >>> fig = draw_filter_volumes("separable", 3, 3, 6, out_channels=4)
    >>> cells = [p.get_gid() for p in fig.axes[0].patches]
    >>> cells.count("depthwise filter"), cells.count("pointwise filter")
    (27, 12)
    """
    fn = "draw_filter_volumes"
    check_choice(fn, "kind", kind, KINDS, types=str)
    channels = check_positive_int(fn, "in_channels", in_channels)
    if channels > _MAX_CHANNELS:
        raise ValueError(
            f"{fn}: in_channels must be at most {_MAX_CHANNELS} (one colour per channel), got in_channels={in_channels}"
        )
    kernel = _positive(kernel_size, 2, "kernel_size")
    size = _positive(input_size, 2, "input_size")
    if max(size) > _MAX_SIZE:
        raise ValueError(
            f"{fn}: input_size must be at most {_MAX_SIZE} a side for a readable picture, got input_size={input_size!r}"
        )
    strides, pads = _positive(stride, 2, "stride"), _non_negative(padding, 2, "padding")
    default = 1 if kind == "standard" else channels
    out = default if out_channels is None else check_positive_int(fn, "out_channels", out_channels)
    if out > _MAX_LANES:
        raise ValueError(
            f"{fn}: out_channels must be at most {_MAX_LANES} (one row each), got out_channels={out_channels}"
        )
    if kind == "depthwise" and out % channels:
        raise ValueError(
            f"{fn}: out_channels of a depthwise layer must be a multiple of in_channels={channels} "
            f"(the channel multiplier times in_channels), got out_channels={out_channels}"
        )
    out_size = conv_output_size(size, kernel, strides, pads)

    columns, arrows = _columns(kind, channels, kernel, size, out_size, out, pads)
    cell = _CELL
    lefts, width, height, pitch = _layout(columns, arrows, cell)
    while width > _MAX_WIDTH and cell > 0.05:  # shrink the cells, not the text
        cell *= 0.9
        lefts, width, height, pitch = _layout(columns, arrows, cell)

    labels, handles = _legend(kind, channels)
    entry = max(_text_width(label, _LABEL_SIZE) for label in labels) + 0.45  # inches per legend entry
    legend_cols = max(1, min(len(labels), int(width // entry)))
    legend_height = 0.25 * math.ceil(len(labels) / legend_cols) + 0.1
    title_height = 0.45
    bottom, top = -legend_height, height + title_height
    if ax is None:
        fig = plt.figure(figsize=(round(width + 0.2, 2), round(top - bottom + 0.1, 2)))
        ax = fig.add_axes((0, 0, 1, 1))
    else:
        fig = ax.get_figure()

    for (title, blocks, group), left in zip(columns, lefts, strict=True):
        block_width = max(b.size(cell)[0] for b in blocks)
        for i, block in enumerate(blocks):
            w, h = block.size(cell)
            # The block and its caption centred in its lane (the lanes centred on the picture), lane 0 lowest.
            lanes = pitch[group] * len(blocks) if group else height
            centre = (height - lanes) / 2 + (i + 0.5) * (pitch[group] if group else height)
            bottom_of_block = centre - block.footprint(cell) / 2 + (_CAPTION if block.caption else 0.0)
            block.draw(ax, left + (block_width - w) / 2, bottom_of_block, cell)
        ax.text(left + block_width / 2, height + 0.1, title, ha="center", va="bottom", fontsize=_TITLE_SIZE)

    for how, i, j in arrows:
        sources, targets = columns[i][1], columns[j][1]
        if how in ("fan", "sum"):  # every filter reads the whole volume
            for k, target in enumerate(targets):
                start = sources[0].right() if how == "fan" else sources[k].right()
                if len(targets) == 1:  # one filter: a level arrow
                    start = (start[0], target.left()[1])
                _arrow(ax, start, target.left())
                if how == "sum":
                    mid = (start[0] + target.left()[0]) / 2
                    ax.text(
                        mid,
                        start[1] - 0.08,
                        f"sum over\nthe {channels} channels",
                        ha="center",
                        va="top",
                        fontsize=_LABEL_SIZE - 1,
                    )
        elif how == "split":  # filter k reads input channel c(k)
            per = len(targets) // channels
            for k, target in enumerate(targets):
                _arrow(ax, sources[0].right(k // per), target.left(), target.colours[0])
        elif how == "pair":
            for source, target in zip(sources, targets, strict=True):  # level, at the height of the filter
                start, end = source.right(), target.left()
                _arrow(ax, start, (end[0], start[1]), source.colours[0] if kind == "depthwise" else _ARROW)
        else:  # "merge": depthwise filter c makes sheet c of the depthwise output
            for c, source in enumerate(sources):
                _arrow(ax, source.right(), targets[0].left(c), source.colours[0])

    ax.legend(
        handles,
        labels,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=legend_cols,
        frameon=False,
        fontsize=_LABEL_SIZE,
        handlelength=1.2,
        columnspacing=1.2,
        borderaxespad=0.1,
    )
    ax.set_xlim(-0.1, width + 0.1)
    ax.set_ylim(bottom - 0.05, top + 0.05)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig
