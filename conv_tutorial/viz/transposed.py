"""Pictures of a transposed convolution drawn from its parameters: its two views, and its overlap map.

The scatter view and the equivalent direct convolution side by side, and the overlap map behind checkerboard
artifacts.

Readers of transposed-convolution animations most often mix up which grid is the input. Here the
INPUT (the small grid the layer receives) and the OUTPUT (the larger grid it returns) carry those
words in capitals, and the equivalent direct convolution reads a third grid, the *stretched*
input: the INPUT's pixels ``stride`` apart, zeros between them, ``d(k - 1) - p`` zeros around and
``output_padding`` more at the end (:func:`conv_tutorial.shapes.transposed_equivalent`). Counts in
the output come from :func:`conv_tutorial.numpy.overlap_map`.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.animation import FuncAnimation
from matplotlib.patches import Rectangle

from .._checks import _non_negative, _positive, check_conv_transpose, check_positive_int, check_real, check_spatial_size
from ..numpy import overlap_map
from ..shapes import ConvGeometry
from .conv2d import (
    _EDGE,
    _HIGHLIGHT,
    _INPUT_FACE,
    _KERNEL_FACE,
    _OUTPUT_FACE,
    _PAD_EDGE,
    _PAD_FACE,
    _WINDOW_FACE,
    _text_width,
)
from .figures import TEXT_WIDTH

__all__ = [
    "animate_conv_transpose2d",
    "draw_conv_transpose2d",
    "draw_count_map",
    "draw_overlap_map",
    "transposed_geometry",
]

#: ``gid`` of the highlighted cells (tests count them): the window in the stretched input and
#: the INPUT pixels that reach the highlighted OUTPUT pixel.
WINDOW_GID = "window"
CONTRIBUTOR_GID = "contributor"

_ZERO_FACE = "white"  # the zeros inserted between input pixels
_MAX_CELL = 0.3  # inches
_FIGSIZE = (TEXT_WIDTH, 4)


def _before(g: ConvGeometry) -> tuple[int, ...]:
    """Zeros before the stretched input along each axis: ``p' = d(k - 1) - p``."""
    return tuple(before for before, _ in g.border)


def _stretched_cell(g: ConvGeometry, r: int, c: int):
    """What cell ``(r, c)`` of the padded stretched input holds.

    ``('input', (a, b))`` for INPUT pixel ``(a, b)``, ``('zero', None)`` for an inserted zero,
    ``('pad', None)`` for padding (including the ``output_padding`` rows at the end).
    """
    kinds = []
    for q, b, n, s in zip((r, c), _before(g), g.stretched_size, g.stride, strict=True):
        q -= b
        kinds.append("pad" if not 0 <= q < n else "input" if q % s == 0 else "zero")
    if "pad" in kinds:
        return "pad", None
    if "zero" in kinds:
        return "zero", None
    (top, left), (sh, sw) = _before(g), g.stride
    return "input", ((r - top) // sh, (c - left) // sw)


def _window(g: ConvGeometry, position) -> list[tuple[int, int]]:
    """Stretched cells the direct convolution reads for OUTPUT ``position``, flipped-kernel tap order."""
    (i, j), (dh, dw) = position, g.dilation
    return [(i + u * dh, j + v * dw) for u in range(g.kernel_size[0]) for v in range(g.kernel_size[1])]


def _positions(g: ConvGeometry) -> list[tuple[int, int]]:
    return [(i, j) for i in range(g.output_size[0]) for j in range(g.output_size[1])]


def transposed_geometry(
    input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1, fn="transposed_geometry"
) -> ConvGeometry:
    """Validate a 2D transposed convolution (one channel) for drawing: its geometry.

    Its ``contributions`` (:class:`~conv_tutorial.shapes.ConvGeometry`) are the ``(INPUT pixel, kernel
    tap)`` pairs the figures highlight, its ``stretched_size``, ``border`` and ``padded_size`` the
    equivalent direct convolution's grid.

    Examples
    --------
    >>> g = transposed_geometry(2, 3, stride=2, padding=1, output_padding=1)
    >>> g.output_size, g.stretched_size, g.border, g.padded_size
    ((4, 4), (3, 3), ((1, 2), (1, 2)), (6, 6))
    """
    if isinstance(input_size, (tuple, list)) and len(input_size) != 2:
        raise TypeError(f"{fn}: input_size must be an int or a tuple of 2 ints, got input_size={input_size!r}")
    size = check_spatial_size(fn, (input_size, input_size) if isinstance(input_size, int) else input_size)
    kernel = _positive(kernel_size, 2, "kernel_size")
    g = check_conv_transpose(fn, 2, (1, 1, *size), (1, 1, *kernel), None, stride, padding, output_padding, 1, dilation)
    if any(b < 0 for b in _before(g)):
        raise ValueError(
            f"{fn}: padding={padding!r} is larger than dilation * (kernel_size - 1) = "
            f"{tuple(e - 1 for e in g.effective_kernel_size)}; the equivalent direct "
            f"convolution would crop its input, which these pictures do not draw"
        )
    return g


def _size(size) -> str:
    return f"{size[0]}×{size[1]}"


def _pair(values) -> str:
    return str(values[0]) if values[0] == values[1] else f"({values[0]}, {values[1]})"


class _Diagram:
    """Five panels: INPUT, kernel, OUTPUT | stretched padded input, flipped kernel."""

    def __init__(self, g: ConvGeometry, dpi=None):
        self.g = g
        grids = [g.input_size, g.kernel_size, g.output_size, g.padded_size, g.kernel_size]
        self.titles = self._titles()
        rows = max(h for h, _ in grids) + 1
        cols = [w + 1.5 for _, w in grids]
        cols[2] += 1.5  # room for the "=" between the two views
        title_inches = [_text_width(title, 9) + 0.15 for title in self.titles]
        cell = min(_MAX_CELL, (_FIGSIZE[1] - 1.4) / rows)
        # Shrink the cells until the panels, each at least as wide as its title, fit the width.
        while (
            sum(max(c * cell, t) for c, t in zip(cols, title_inches, strict=True)) > _FIGSIZE[0] - 0.3 and cell > 0.05
        ):
            cell *= 0.95
        widths = [max(c, t / cell) for c, t in zip(cols, title_inches, strict=True)]
        self.fig = plt.figure(figsize=(sum(widths) * cell + 0.3, rows * cell + 1.4), dpi=dpi, layout="constrained")
        gs = self.fig.add_gridspec(1, 5, width_ratios=widths)
        self.axes = [self.fig.add_subplot(gs[0, n]) for n in range(5)]
        for ax, (h, w), span in zip(self.axes, grids, widths, strict=True):
            ax.set_xlim(-(span - w) / 2, w + (span - w) / 2)
            ax.set_ylim(h + (rows - h) / 2, -(rows - h) / 2)
            ax.set_aspect("equal")
            ax.axis("off")
        self.fontsize = float(np.clip(72 * cell / 3.2, 5, 9))
        self.grids = grids

    def _cell(self, ax, r, c, face, text="", edge=_EDGE, ls="-", color="black", gid=None, lw=0.8):
        ax.add_patch(Rectangle((c, r), 1, 1, fc=face, ec=edge, ls=ls, lw=lw, gid=gid))
        if text:
            ax.text(c + 0.5, r + 0.5, text, ha="center", va="center", fontsize=self.fontsize, color=color, zorder=5)

    def draw(self, position, computed):
        g = self.g
        for ax in self.axes:
            for artist in [*ax.patches, *ax.texts]:
                artist.remove()
        pairs = g.contributions(position)
        sources = {pixel for pixel, _ in pairs}
        taps = {tap for _, tap in pairs}
        ax_in, ax_k, ax_out, ax_st, ax_flip = self.axes
        # The scatter view.
        for a in range(g.input_size[0]):
            for b in range(g.input_size[1]):
                hit = (a, b) in sources
                self._cell(
                    ax_in,
                    a,
                    b,
                    _WINDOW_FACE if hit else _INPUT_FACE,
                    f"{a},{b}",
                    gid=CONTRIBUTOR_GID if hit else None,
                    lw=1.6 if hit else 0.8,
                )
        for u in range(g.kernel_size[0]):
            for v in range(g.kernel_size[1]):
                hit = (u, v) in taps
                self._cell(ax_k, u, v, _WINDOW_FACE if hit else _KERNEL_FACE, f"{u},{v}", lw=1.6 if hit else 0.8)
        for i, j in _positions(g):
            done = (i, j) in computed
            label = str(len(g.contributions((i, j)))) if done else ""
            self._cell(ax_out, i, j, _OUTPUT_FACE if done else "white", label)
        ax_out.add_patch(Rectangle(position[::-1], 1, 1, fc=_WINDOW_FACE, ec=_EDGE, lw=1.6, zorder=3))
        # The equivalent direct convolution.
        for r in range(g.padded_size[0]):
            for c in range(g.padded_size[1]):
                kind, pixel = _stretched_cell(g, r, c)
                if kind == "input":
                    self._cell(ax_st, r, c, _INPUT_FACE, f"{pixel[0]},{pixel[1]}")
                elif kind == "zero":
                    self._cell(ax_st, r, c, _ZERO_FACE, "0", color="#808080")
                else:
                    self._cell(ax_st, r, c, _PAD_FACE, "", edge=_PAD_EDGE, ls="--")
        for r, c in _window(g, position):
            ax_st.add_patch(Rectangle((c, r), 1, 1, fc=_WINDOW_FACE, ec=_EDGE, lw=1.6, gid=WINDOW_GID, zorder=3))
        kh, kw = g.kernel_size
        for u in range(kh):
            for v in range(kw):
                self._cell(ax_flip, u, v, _KERNEL_FACE, f"{kh - 1 - u},{kw - 1 - v}")
        self._label(position, pairs)

    def _titles(self) -> list[str]:
        g = self.g
        end = f"\n+{_pair(g.output_padding)} at the end (output_padding)" if any(g.output_padding) else ""
        return [
            f"INPUT {_size(g.input_size)}",
            f"kernel {_size(g.kernel_size)}\n(u,v = tap)",
            f"OUTPUT {_size(g.output_size)}\n(number = taps that land)",
            f"stretched INPUT, padded: {_size(g.padded_size)}\n{_pair(tuple(s - 1 for s in g.stride))} zero(s) "
            f"between pixels, {_pair(_before(g))} around{end}",
            "kernel flipped\n(stride 1)",
        ]

    def _label(self, position, pairs):
        g = self.g
        ax_in, ax_k, ax_out, ax_st, ax_flip = self.axes
        for ax, title, bold in zip(self.axes, self.titles, (True, False, True, False, False), strict=True):
            ax.set_title(title, fontsize=10 if bold else 9, fontweight="bold" if bold else "normal")
        for ax, symbol in ((ax_k, "→"), (ax_out, "=")):
            x_edge = ax.get_xlim()[1]
            ax.text(
                x_edge,
                (ax.get_ylim()[0] + ax.get_ylim()[1]) / 2,
                symbol,
                ha="center",
                va="center",
                fontsize=18,
                color=_EDGE,
                clip_on=False,
            )
        ax_flip.text(
            ax_flip.get_xlim()[0],
            g.kernel_size[0] / 2,
            "⋆",
            ha="center",
            va="center",
            fontsize=26,
            color=_EDGE,
            clip_on=False,
        )
        terms = " + ".join(f"in[{a},{b}]·w[{u},{v}]" for (a, b), (u, v) in pairs)
        self.fig.suptitle(
            f"Transposed convolution, stride {_pair(g.stride)}, padding {_pair(g.symmetric_padding)}"
            + (f", output_padding {_pair(g.output_padding)}" if any(g.output_padding) else "")
            + f": INPUT {_size(g.input_size)} → OUTPUT {_size(g.output_size)}",
            fontsize=10,
        )
        self.fig.supxlabel(
            "left: every INPUT pixel adds value × kernel to the OUTPUT;  right: the same OUTPUT as a "
            f"direct convolution\nout[{position[0]},{position[1]}] = {terms}",
            fontsize=9,
        )


def draw_conv_transpose2d(
    input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1, output_position=(0, 0)
):
    """Draw a 2D transposed convolution two ways, one OUTPUT pixel highlighted.

    Left, the scatter view: every INPUT pixel adds a copy of the kernel, scaled by its value, onto
    the OUTPUT; the INPUT pixels and kernel taps that land on the highlighted OUTPUT pixel are
    highlighted, and each OUTPUT cell shows how many taps land on it
    (:func:`conv_tutorial.numpy.overlap_map`). Right, the same OUTPUT as a direct convolution with
    stride 1: the stretched, padded INPUT (pixels labelled by their INPUT index, inserted zeros
    white, padding grey and dashed) read by the flipped kernel (cells labelled by the original
    tap). The caption writes the highlighted OUTPUT pixel as its sum.

    Parameters
    ----------
    input_size, kernel_size, stride, padding, output_padding, dilation : int or tuple of 2 ints
        As in :func:`conv_tutorial.numpy.conv_transpose2d`; ``padding`` at most
        ``dilation * (kernel_size - 1)``.
    output_position : tuple of 2 ints

    Returns
    -------
    matplotlib.figure.Figure
        Its five axes: INPUT, kernel, OUTPUT, stretched input, flipped kernel.

    Examples
    --------
    >>> fig = draw_conv_transpose2d(2, 3, stride=2, output_position=(2, 2))
    >>> [ax.get_title().splitlines()[0] for ax in fig.axes[:3]]
    ['INPUT 2×2', 'kernel 3×3', 'OUTPUT 5×5']
    >>> plt.close(fig)
    """
    g = transposed_geometry(
        input_size, kernel_size, stride, padding, output_padding, dilation, fn="draw_conv_transpose2d"
    )
    position = _non_negative(output_position, 2, "output_position")
    if any(p >= o for p, o in zip(position, g.output_size, strict=True)):
        raise ValueError(
            f"output_position must lie inside the OUTPUT of size {g.output_size}, got output_position={output_position}"
        )
    diagram = _Diagram(g)
    diagram.draw(position, set(_positions(g)))
    return diagram.fig


def animate_conv_transpose2d(
    input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1, interval=700, dpi=72
):
    """Animate :func:`draw_conv_transpose2d` over every OUTPUT pixel, row by row.

    The window slides over the stretched input, the OUTPUT fills in, and the INPUT pixels that
    reach each OUTPUT pixel light up.

    Parameters
    ----------
    input_size, kernel_size, stride, padding, output_padding, dilation
        As in :func:`draw_conv_transpose2d`.
    interval : int
        Milliseconds between frames.
    dpi : float
        Resolution of the frames; the default keeps a notebook that embeds every frame small.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Its figure is closed; show it with ``IPython.display.HTML(anim.to_jshtml())``.

    Examples
    --------
    >>> anim = animate_conv_transpose2d(1, 2, stride=2)     # INPUT 1x1 -> OUTPUT 2x2: four frames
    >>> len(list(anim.new_frame_seq()))
    4
    >>> html = anim.to_jshtml()
    """
    g = transposed_geometry(
        input_size, kernel_size, stride, padding, output_padding, dilation, fn="animate_conv_transpose2d"
    )
    interval = check_positive_int("animate_conv_transpose2d", "interval", interval)
    dpi = check_real("animate_conv_transpose2d", "dpi", dpi, minimum=1)
    diagram = _Diagram(g, dpi)
    positions = _positions(g)

    def frame(n):
        diagram.draw(positions[n], set(positions[: n + 1]))

    anim = FuncAnimation(diagram.fig, frame, frames=len(positions), interval=interval)
    plt.close(diagram.fig)
    return anim


def draw_overlap_map(input_size, kernel_size, stride=1, padding=0, output_padding=0, ax=None, title=None):
    """Heatmap of :func:`conv_tutorial.numpy.overlap_map`: kernel taps per OUTPUT pixel.

    An even map means every OUTPUT pixel is a sum of equally many terms; stripes or a
    checkerboard mean the layer prints that pattern on every output, even for a constant input.

    Parameters
    ----------
    input_size : int or tuple of 1 or 2 ints
        1D maps are drawn as one row.
    kernel_size, stride, padding, output_padding : int or tuple of ints
    ax : matplotlib Axes, optional
    title : str, optional
        By default the parameters and the range of the counts.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_overlap_map((4, 4), 3, stride=2)
    >>> fig.axes[0].get_title()
    'kernel 3, stride 2: 1 to 4 taps'
    >>> plt.close(fig)
    """
    counts = overlap_map(input_size, kernel_size, stride, padding, output_padding)
    if title is None:
        k = kernel_size if isinstance(kernel_size, int) else _pair(tuple(kernel_size) * (3 - len(kernel_size)))
        s = stride if isinstance(stride, int) else _pair(tuple(stride) * (3 - len(stride)))
        pad = f", padding {padding}" if padding else ""
        title = f"kernel {k}, stride {s}{pad}: {counts.min()} to {counts.max()} taps"
    return draw_count_map(counts, title, ax=ax, cmap="Greens")


def draw_count_map(counts, title, ax=None, cmap="Greens", label=None, mark=None, zero_label="0"):
    """Draw an integer map (1D or 2D) as a heatmap with its numbers, zeros white.

    Parameters
    ----------
    counts : array_like of int, shape (L,) or (H, W)
    title : str
    ax : matplotlib Axes, optional
        By default a new figure of at most (5, 4) inches.
    cmap : str
    label : str, optional
        Colour-bar label; no colour bar without it.
    mark : tuple of ints, optional
        A cell to outline in the highlight colour.
    zero_label : str
        Text for zero cells ("" leaves them blank).

    Returns
    -------
    matplotlib.figure.Figure
    """
    m = np.asarray(counts)
    if m.ndim not in (1, 2) or not np.issubdtype(m.dtype, np.integer):
        raise ValueError(f"counts must be a 1D or 2D array of ints, got shape {m.shape} and dtype {m.dtype}")
    m = m.reshape(1, -1) if m.ndim == 1 else m
    rows, cols = m.shape
    if ax is None:
        cell = min(0.35, 4.6 / cols, 3.4 / rows)
        fig, ax = plt.subplots(figsize=(max(2.5, cols * cell + 1.2), max(1.4, rows * cell + 0.9)), layout="constrained")
    else:
        fig = ax.get_figure()
    shown = np.ma.masked_equal(m, 0)
    image = ax.imshow(
        shown, cmap=plt.get_cmap(cmap).with_extremes(bad="white"), vmin=0, vmax=max(1, m.max()), interpolation="nearest"
    )
    ax.add_patch(Rectangle((-0.5, -0.5), cols, rows, fill=False, ec=_EDGE, lw=0.8))
    width, height = ax.get_position().size * fig.get_size_inches()
    fontsize = float(np.clip(72 * min(width / cols, height / rows) / 2.6, 0, 9))
    if fontsize >= 4.5:
        for r in range(rows):
            for c in range(cols):
                text = str(m[r, c]) if m[r, c] else zero_label
                dark = m[r, c] > 0.6 * m.max()
                ax.text(
                    c,
                    r,
                    text,
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color="white" if dark else ("#a0a0a0" if m[r, c] == 0 else "black"),
                )
    if mark is not None:
        r, c = (0, mark[0]) if len(mark) == 1 else mark
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec=_HIGHLIGHT, lw=2.5))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    if label is not None:
        fig.colorbar(image, ax=ax, shrink=0.8, label=label)
    return fig
