"""The picture of a 2D convolution, drawn from its parameters, and an animation of its window sliding over the input.

The picture shows where the kernel sits on the padded input when it computes one output value.

Every number in the figures comes from the package's arithmetic: the window from
:func:`window_cells`, the output size from :func:`conv_tutorial.shapes.conv_output_size`, the output
values from :func:`conv_tutorial.numpy.conv2d`. A figure cannot disagree with the text it illustrates.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.animation import FuncAnimation
from matplotlib.colors import to_rgba
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath

from .._checks import _non_negative, _positive, _resolve_padding, check_conv, check_positive_int
from ..numpy import conv2d
from ..shapes import ConvGeometry, effective_kernel_size
from .figures import TEXT_WIDTH

__all__ = ["animate_conv2d", "draw_conv2d", "window_cells"]

#: ``gid`` of the highlighted receptive-field cells in the input panel (tests and readers count them).
WINDOW_GID = "window"

_EDGE = "#4d4d4d"
_INPUT_FACE = "#cfe2f3"
_PAD_FACE = "#efefef"
_PAD_EDGE = "#a0a0a0"
_KERNEL_FACE = "#fcd5b0"
_OUTPUT_FACE = "#d9ead3"
_HIGHLIGHT = "#f08a24"
# Translucent, so padding cells under the window still look like padding.
_WINDOW_FACE = to_rgba(_HIGHLIGHT, 0.75)
_FIGSIZE = (TEXT_WIDTH, 3.5)  # the largest a default figure grows; small convolutions get smaller ones
_MAX_CELL = 0.45  # inches
_MIN_CELL = 0.02  # inches: a cell still visible, for huge grids or tiny subplots
_TITLE_SIZE = 10
_CAPTION_SIZE = 9
_MIN_CELL_FONT = 4.5  # points; below this cells stay blank rather than hold unreadable text
_TEXT_TO_PATH = TextToPath()


def window_cells(output_position, kernel_size, stride=1, padding=0, dilation=1) -> list[tuple[int, int]]:
    """The cells of the padded input that the kernel covers when it computes one output value.

    Output cell ``(i, j)`` is the sum over kernel taps ``(u, v)`` of
    ``weight[u, v] * x_padded[i * stride + u * dilation, j * stride + v * dilation]``; this function
    returns those input cells, one per tap.

    Parameters
    ----------
    output_position : tuple of 2 ints
        ``(i, j)``, the row and column of the output value.
    kernel_size, stride, dilation : int or tuple of 2 ints
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``
        Only validated: the cells are indices into the padded grid, whose ``(0, 0)`` is the
        top-left padding cell, so they do not depend on it. Subtract the top and left padding to
        index the unpadded input (a negative index or one past its end is a padding zero).

    Returns
    -------
    list of (int, int)
        ``kh * kw`` ``(row, col)`` pairs in the order of the kernel taps (row-major), the same
        order as the rows of :func:`conv_tutorial.numpy.unfold`.

    Examples
    --------
    >>> window_cells((1, 0), kernel_size=2, stride=2, dilation=3)
    [(2, 0), (2, 3), (5, 0), (5, 3)]
    """
    position = _non_negative(output_position, 2, "output_position")
    kernel = _positive(kernel_size, 2, "kernel_size")
    strides = _positive(stride, 2, "stride")
    dilations = _positive(dilation, 2, "dilation")
    _resolve_padding(padding, 2, kernel, strides, dilations)
    (i, j), (sh, sw), (dh, dw) = position, strides, dilations
    return [(i * sh + u * dh, j * sw + v * dw) for u in range(kernel[0]) for v in range(kernel[1])]


def _geometry(fn, input_size, kernel_size, stride, padding, dilation) -> ConvGeometry:
    """The geometry of a one-channel 2D convolution, checked as the backends check theirs."""
    input_size = _positive(input_size, 2, "input_size")
    kernel_size = _positive(kernel_size, 2, "kernel_size")
    return check_conv(fn, 2, (1, 1, *input_size), (1, 1, *kernel_size), None, stride, padding, dilation)


def _positions(g: ConvGeometry) -> list[tuple[int, int]]:
    """Every output position, row-major: the order the window slides in."""
    return [(i, j) for i in range(g.output_size[0]) for j in range(g.output_size[1])]


def _fmt(value) -> str:
    """A number short enough for a cell: ``3``, ``-0.5``, ``0.33``, ``0.0012``, ``1.2e+03``."""
    value = float(value) + 0.0  # + 0.0 turns -0.0 into 0.0, which prints without a sign
    if value.is_integer() and abs(value) < 1e5:
        return f"{value:.0f}"
    if 0.01 <= abs(value) < 1000:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def _factor(value) -> str:
    """A number inside a product, bracketed when negative so ``2·(-1)`` is not read as a difference."""
    text = _fmt(value)
    return f"({text})" if text.startswith("-") else text


def _size(size) -> str:
    return f"{size[0]}×{size[1]}"


def _axis_pair(values) -> str:
    return str(values[0]) if values[0] == values[1] else f"({values[0]}, {values[1]})"


def _padding_label(g: ConvGeometry, padding_arg) -> str:
    """The padding as the caller wrote it (``padding_arg``: 'same', 1, (1, 2), ...) and as it pads."""
    (top, bottom), (left, right) = g.padding
    name = f"padding '{padding_arg}'" if isinstance(padding_arg, str) else "padding"
    if top == bottom == left == right == 0:
        return f"{name} (none)" if isinstance(padding_arg, str) else "no padding"
    if top == bottom and left == right:
        equals = " =" if isinstance(padding_arg, str) else ""
        return f"{name}{equals} {_axis_pair((top, left))} (zeros, dashed)"
    return f"{name}: top/bottom {top}/{bottom},\nleft/right {left}/{right} (zeros, dashed)"


def _output_formula(g: ConvGeometry, axis: int) -> str:
    """The output-size arithmetic with this axis's numbers: ``⌊(5 + 2·1 − 3)/2⌋ + 1``."""
    n, k, s, d = g.input_size[axis], g.kernel_size[axis], g.stride[axis], g.dilation[axis]
    lo, hi = g.padding[axis]
    pad = "" if lo == hi == 0 else f" + 2·{lo}" if lo == hi else f" + {lo} + {hi}"
    # d(k − 1) + 1 is just k without dilation; writing it out would bury the simple case.
    kernel = f" − {k}" if d == 1 else f" − {d}·({k}−1) − 1"
    return f"⌊({n}{pad}{kernel})/{s}⌋ + 1"


def _output_title(g: ConvGeometry) -> str:
    first = f"output {_size(g.output_size)}"
    same_axes = all(v[0] == v[1] for v in (g.input_size, g.kernel_size, g.stride, g.dilation, g.padding))
    if same_axes:
        return f"{first}\n{g.output_size[0]} = {_output_formula(g, 0)}"
    return "\n".join([first, *(f"{axis}: {g.output_size[n]} = {_output_formula(g, n)}" for n, axis in enumerate("HW"))])


def _kernel_title(g: ConvGeometry) -> str:
    span = effective_kernel_size(g.kernel_size, g.dilation)
    extra = "" if span == g.kernel_size else f" (spans {_size(span)})"
    return f"kernel {_size(g.kernel_size)}\ndilation {_axis_pair(g.dilation)}{extra}"


def _sum_of_products(x_padded, w, y, position, cells) -> str:
    """``out[i, j] = x·w + ... = y`` for one output value, long sums shortened in the middle."""
    terms = [f"{_factor(x_padded[r, c])}·{_factor(wv)}" for (r, c), wv in zip(cells, w.ravel(), strict=True)]
    if len(terms) > 9:
        terms = [*terms[:4], "…", *terms[-2:]]
    i, j = position
    return f"out[{i}, {j}] = " + " + ".join(terms) + f" = {_fmt(y[i, j])}"


def _text_width(text, fontsize) -> float:
    """Width in inches of the widest line of ``text``, measured without a renderer."""
    prop = FontProperties(size=fontsize)
    return (
        max(_TEXT_TO_PATH.get_text_width_height_descent(line, prop, ismath=False)[0] for line in text.splitlines()) / 72
    )


class _Diagram:
    """Three panels (input, kernel, output) drawn once; :meth:`show` moves the window over them.

    Every panel has the same number of cells per inch, so the output looks as much smaller than
    the input as it is; a panel is widened (never its cells) where its title needs the room.
    """

    def __init__(self, g: ConvGeometry, padding_arg, x, w, ax):
        self.g, self.padding_arg, self.x, self.w = g, padding_arg, x, w
        if x is not None:
            self.x_padded = np.pad(x, g.padding)
            self.y = conv2d(x[None, None], w[None, None], stride=g.stride, padding=padding_arg, dilation=g.dilation)[
                0, 0
            ]
        self.grids = (g.padded_size, g.kernel_size, g.output_size)
        self.titles = (
            f"input {_size(g.input_size)}\n{_padding_label(g, padding_arg)}",
            _kernel_title(g),
            _output_title(g),
        )
        self.captions = (
            {}
            if x is None
            else {
                pos: _sum_of_products(
                    self.x_padded, w, self.y, pos, window_cells(pos, g.kernel_size, g.stride, padding_arg, g.dilation)
                )
                for pos in _positions(g)
            }
        )
        self.suptitle = f"2D convolution: stride {_axis_pair(g.stride)}, dilation {_axis_pair(g.dilation)}"
        self.fig_owned = ax is None
        self.fig, spans, cell = self._figure(ax)
        self.fontsize = self._cell_fontsize(cell)
        rows = max(h for h, _ in self.grids) + 1
        if ax is None:
            gridspec = self.fig.add_gridspec(1, 3, width_ratios=spans)
        else:
            gridspec = ax.get_subplotspec().subgridspec(1, 3, width_ratios=spans)
            ax.remove()  # the three panels take its place
        self.axes = [self.fig.add_subplot(gridspec[0, col]) for col in range(3)]
        for ax_, (h, wd), span, title in zip(self.axes, self.grids, spans, self.titles, strict=True):
            ax_.set_xlim(-(span - wd) / 2, wd + (span - wd) / 2)
            ax_.set_ylim(h + (rows - h) / 2, -(rows - h) / 2)  # row 0 at the top, as in an array
            ax_.set_aspect("equal")
            ax_.axis("off")
            ax_.set_title(title, fontsize=_TITLE_SIZE)
        if ax is None:
            self.fig.suptitle(self.suptitle, fontsize=_TITLE_SIZE + 1)
        self._draw_input()
        self._draw_kernel()
        self.output_cells, self.output_texts = self._draw_output()
        extent = effective_kernel_size(g.kernel_size, g.dilation)
        # The dilated window's full extent, so the gaps between its taps read as gaps.
        self.outline = self.axes[0].add_patch(
            Rectangle((0, 0), extent[1], extent[0], fill=False, lw=1.2, ls=":", ec=_HIGHLIGHT, zorder=4)
        )
        self.window = [
            self.axes[0].add_patch(Rectangle((0, 0), 1, 1, fc=_WINDOW_FACE, ec=_EDGE, lw=1.6, gid=WINDOW_GID, zorder=3))
            for _ in range(g.kernel_size[0] * g.kernel_size[1])
        ]
        self.target = self.axes[2].add_patch(Rectangle((0, 0), 1, 1, fc=_WINDOW_FACE, ec=_EDGE, lw=1.6, zorder=3))
        # "input ⋆ kernel = output" between the panels (⋆: cross-correlation, what conv2d computes),
        # on the kernel panel's edges, level with the centres of the grids.
        kernel_ax = self.axes[1]
        # The star glyph is drawn small for its font size, hence the larger size.
        for x_edge, symbol, size in zip(kernel_ax.get_xlim(), ("⋆", "="), (30, 20), strict=True):
            kernel_ax.text(
                x_edge,
                g.kernel_size[0] / 2,
                symbol,
                ha="center",
                va="center",
                fontsize=size,
                color=_EDGE,
                clip_on=False,
                in_layout=False,
            )
        if self.fig_owned and self.captions:
            # A figure-level label: the layout reserves room below the panels for it, and a
            # notebook's tight crop keeps it.
            self.caption = self.fig.supxlabel("", fontsize=_CAPTION_SIZE)
        else:
            # In a caller's subplot: outside the layout, so that a wide caption does not squeeze
            # the kernel panel to make room for it.
            self.caption = kernel_ax.annotate(
                "",
                xy=(0.5, 0),
                xycoords="axes fraction",
                xytext=(0, -8),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=_CAPTION_SIZE,
                in_layout=False,
            )

    def _figure(self, ax):
        """The figure (new, or ``ax``'s), the panels' widths in cells and a cell's size in inches."""
        lines = max(t.count("\n") + 1 for t in self.titles)
        caption_height = 0.2 if self.captions else 0  # one line of caption text
        text_height = 0.45 + 0.2 * lines + caption_height
        texts = [_text_width(c, _CAPTION_SIZE) for c in self.captions.values()]
        if ax is None:
            texts.append(_text_width(self.suptitle, _TITLE_SIZE + 1))
            width, height = _FIGSIZE
        elif ax.get_subplotspec() is None:
            raise ValueError(f"ax must be a subplot (from plt.subplots or fig.add_subplot), got {ax!r}")
        else:
            # Lay the figure out first: before that, a constrained layout reports the wrong size.
            ax.get_figure().draw_without_rendering()
            width, height = ax.get_position().size * ax.get_figure().get_size_inches()
        rows = max(h for h, _ in self.grids) + 1
        title_widths = [_text_width(t, _TITLE_SIZE) + 0.3 for t in self.titles]
        cell = max(_MIN_CELL, min(_MAX_CELL, (height - text_height) / rows))
        # Shrink the cells until the panels fit side by side (titles keep their width).
        while sum(max((wd + 1) * cell, t) for (_, wd), t in zip(self.grids, title_widths, strict=True)) > width - 0.4:
            if cell <= _MIN_CELL:
                break  # the titles alone are wider than the room: they will overlap, the grids still show
            cell = max(_MIN_CELL, 0.95 * cell)
        spans = [max(wd + 1, t / cell) for (_, wd), t in zip(self.grids, title_widths, strict=True)]
        if ax is not None:
            return ax.get_figure(), spans, cell
        # A figure no larger than its content, so the panels sit close together.
        width = min(width, max(sum(spans) * cell + 0.4, *(t + 0.4 for t in texts)))
        height = min(height, rows * cell + text_height)
        fig = plt.figure(figsize=(width, height), layout="constrained")
        return fig, spans, cell

    def _cell_fontsize(self, cell) -> float:
        """The largest font (at most 9 pt) whose longest cell label fits its cell; 0 when unreadable."""
        labels = [self._input_label(r, c) for r in range(self.grids[0][0]) for c in range(self.grids[0][1])]
        labels += [self._kernel_label(u, v) for u in range(self.grids[1][0]) for v in range(self.grids[1][1])]
        labels += [self._output_label(i, j) for i, j in _positions(self.g)]
        width_per_point = max(_text_width(label, 1) for label in labels if label)
        fontsize = min(9.0, 0.8 * cell / width_per_point, 72 * cell / 2.5)
        return fontsize if fontsize >= _MIN_CELL_FONT else 0

    def _input_label(self, r, c) -> str:
        """Label of padded cell ``(r, c)``: input index or value, padding blank or ``0``."""
        (top, _), (left, _) = self.g.padding
        row, col = r - top, c - left
        if 0 <= row < self.g.input_size[0] and 0 <= col < self.g.input_size[1]:
            return f"{row},{col}" if self.x is None else _fmt(self.x[row, col])
        return "" if self.x is None else "0"

    def _kernel_label(self, u, v) -> str:
        return f"{u},{v}" if self.w is None else _fmt(self.w[u, v])

    def _output_label(self, i, j) -> str:
        return f"{i},{j}" if self.x is None else _fmt(self.y[i, j])

    def _cell(self, ax, row, col, face, text, edge=_EDGE, linestyle="-", text_color="black"):
        """A unit square at ``(row, col)`` with ``text`` in it; returns the square and the text."""
        square = ax.add_patch(Rectangle((col, row), 1, 1, fc=face, ec=edge, ls=linestyle, lw=0.8))
        label = ax.text(
            col + 0.5,
            row + 0.5,
            text,
            ha="center",
            va="center",
            fontsize=self.fontsize,
            zorder=5,
            color=text_color,
            visible=self.fontsize > 0,
        )
        return square, label

    def _draw_input(self):
        g = self.g
        (top, _), (left, _) = g.padding
        for r in range(g.padded_size[0]):
            for c in range(g.padded_size[1]):
                if 0 <= r - top < g.input_size[0] and 0 <= c - left < g.input_size[1]:
                    self._cell(self.axes[0], r, c, _INPUT_FACE, self._input_label(r, c))
                else:
                    self._cell(
                        self.axes[0],
                        r,
                        c,
                        _PAD_FACE,
                        self._input_label(r, c),
                        edge=_PAD_EDGE,
                        linestyle="--",
                        text_color="#808080",
                    )

    def _draw_kernel(self):
        for u in range(self.g.kernel_size[0]):
            for v in range(self.g.kernel_size[1]):
                self._cell(self.axes[1], u, v, _KERNEL_FACE, self._kernel_label(u, v))

    def _draw_output(self):
        cells, texts = {}, {}
        for i, j in _positions(self.g):
            cells[i, j], texts[i, j] = self._cell(self.axes[2], i, j, _OUTPUT_FACE, self._output_label(i, j))
        return cells, texts

    def show(self, position, computed):
        """Put the window on ``position``; output cells outside ``computed`` are drawn empty."""
        g = self.g
        cells = window_cells(position, g.kernel_size, g.stride, self.padding_arg, g.dilation)
        for patch, (r, c) in zip(self.window, cells, strict=True):
            patch.set_xy((c, r))
        self.outline.set_xy(cells[0][::-1])
        self.target.set_xy(position[::-1])
        for key, patch in self.output_cells.items():
            patch.set_facecolor(_OUTPUT_FACE if key in computed else "white")
            self.output_texts[key].set_visible(key in computed and self.fontsize > 0)
        self.caption.set_text(self.captions.get(position, ""))


def _values(values, shape, name):
    if values is None:
        return None
    values = np.asarray(values)
    if values.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {name} of shape {values.shape}")
    return values


def _validate(fn, input_size, kernel_size, stride, padding, dilation, input_values, kernel_values):
    """The geometry and the values (or ``None``), checked before any figure is made."""
    g = _geometry(fn, input_size, kernel_size, stride, padding, dilation)
    x = _values(input_values, g.input_size, "input_values")
    w = _values(kernel_values, g.kernel_size, "kernel_values")
    if (x is None) != (w is None):
        raise ValueError(f"{fn}: input_values and kernel_values must be given together (the output needs both)")
    return g, x, w


def draw_conv2d(
    input_size,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    output_position=(0, 0),
    input_values=None,
    kernel_values=None,
    ax=None,
):
    """Draw a 2D convolution: the padded input, the kernel and the output, side by side.

    Read it as "input ⋆ kernel = output": the window of input cells that computes
    ``output_position`` (:func:`window_cells`) and that output cell are highlighted in the same
    colour, the padding ring is grey with dashed borders, and all panels share one cell size. Titles
    give the sizes, the padding, the dilation and the output-size arithmetic with the actual numbers.

    Parameters
    ----------
    input_size : int or tuple of 2 ints
        ``(H, W)`` of the input, without padding.
    kernel_size, stride, dilation : int or tuple of 2 ints
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``
        Zeros on each side; ``'same'`` (stride 1 only) may pad one more on the bottom/right, as
        PyTorch does, and the figure shows that.
    output_position : tuple of 2 ints
        ``(i, j)`` of the output value whose window is highlighted.
    input_values : array_like, shape (H, W), optional
    kernel_values : array_like, shape (kh, kw), optional
        Given together, the cells show the numbers, the output shows
        :func:`conv_tutorial.numpy.conv2d` of them, and a caption writes the highlighted output
        value as its sum of products. Otherwise cells show their ``row,col`` indices (input cells
        index the unpadded input).
    ax : matplotlib Axes, optional
        A subplot whose place the three panels take (it is removed; the caption hangs below the
        kernel panel, outside the layout). By default a new figure, at most (10, 3.5) inches and
        smaller for small convolutions, with a suptitle giving stride and dilation.

    Returns
    -------
    matplotlib.figure.Figure
        Its three panels are the input, kernel and output axes, in that order.

    Raises
    ------
    ValueError
        Naming the parameter: a non-positive size, stride or dilation, negative padding, a kernel
        larger than the padded input, ``output_position`` outside the output, values of the wrong
        shape.

    Examples
    --------
    >>> fig = draw_conv2d(5, 3, stride=2, padding=1, output_position=(1, 2))
    >>> [ax.get_title().splitlines()[0] for ax in fig.axes]
    ['input 5×5', 'kernel 3×3', 'output 3×3']
    >>> plt.close(fig)
    """
    g, x, w = _validate("draw_conv2d", input_size, kernel_size, stride, padding, dilation, input_values, kernel_values)
    position = _non_negative(output_position, 2, "output_position")
    if any(p >= o for p, o in zip(position, g.output_size, strict=True)):
        raise ValueError(
            f"output_position must lie inside the output of size {g.output_size}, got output_position={output_position}"
        )
    diagram = _Diagram(g, padding, x, w, ax)
    diagram.show(position, computed=set(_positions(g)))
    return diagram.fig


def animate_conv2d(
    input_size, kernel_size, stride=1, padding=0, dilation=1, input_values=None, kernel_values=None, interval=600
):
    """Animate a 2D convolution: the window slides row by row and the output fills in.

    One frame per output position, in row-major order, drawn as :func:`draw_conv2d` draws it;
    output cells not computed yet are empty.

    Parameters
    ----------
    input_size, kernel_size, stride, padding, dilation, input_values, kernel_values
        As in :func:`draw_conv2d`.
    interval : int
        Milliseconds between frames.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Its figure is closed, so a notebook shows only the animation:
        ``IPython.display.HTML(anim.to_jshtml())``.

    Examples
    --------
    >>> anim = animate_conv2d(4, 3)
    >>> len(list(anim.new_frame_seq()))
    4
    >>> html = anim.to_jshtml()
    """
    g, x, w = _validate(
        "animate_conv2d", input_size, kernel_size, stride, padding, dilation, input_values, kernel_values
    )
    interval = check_positive_int("animate_conv2d", "interval", interval)
    diagram = _Diagram(g, padding, x, w, None)
    positions = _positions(g)

    def frame(n):
        diagram.show(positions[n], computed=set(positions[: n + 1]))

    anim = FuncAnimation(diagram.fig, frame, frames=len(positions), interval=interval)
    plt.close(diagram.fig)
    return anim
