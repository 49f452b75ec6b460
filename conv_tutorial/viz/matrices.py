"""Pictures of the matrices behind a convolution: the column matrix of im2col and the sparse matrix ``C``.

The column matrix comes from :func:`conv_tutorial.numpy.unfold`, ``C`` from :func:`conv_tutorial.numpy.conv_matrix`;
both are drawn as heatmaps in which zeros stay white, so that the band structure of ``C`` and the overlap of
neighbouring columns can be seen.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from .._checks import check_index

# The highlight colour of draw_conv2d, so that a column and its window match.
from .conv2d import _HIGHLIGHT

__all__ = ["draw_matrix"]

#: ``gid`` of the outlines drawn around highlighted rows and columns (tests and readers count them).
HIGHLIGHT_GID = "highlight"

# Above this many cells the numbers no longer fit in their cells at a readable size.
_MAX_ANNOTATED_CELLS = 400


def _fmt(value: float) -> str:
    """A number as short as it can be read: ``3``, ``-0.5``, ``0.333``."""
    return f"{value:.0f}" if float(value).is_integer() and abs(value) < 1e4 else f"{value:.2g}"


def _indices(values, size: int, name: str) -> list[int]:
    if isinstance(values, (int, np.integer)):
        return [check_index("draw_matrix", name, values, size)]
    return [check_index("draw_matrix", f"{name}[{k}]", v, size) for k, v in enumerate(values)]


def _labels(labels, size: int, name: str):
    if labels is not None and len(labels) != size:
        raise ValueError(
            f"{name} must have one label per {'column' if 'x' in name else 'row'} ({size}), got {len(labels)}"
        )
    return labels


def draw_matrix(
    matrix,
    xlabel,
    ylabel,
    title=None,
    *,
    highlight_columns=(),
    highlight_rows=(),
    mask_zeros=True,
    annotate=None,
    xticklabels=None,
    yticklabels=None,
    colorbar=False,
    ax=None,
    figsize=(6, 4),
):
    """Draw a matrix as a heatmap, with labelled axes, optional numbers in the cells and outlines.

    Row ``r`` is drawn at height ``r`` from the top and column ``c`` at ``c`` from the left, as
    the matrix is printed. The colour map is diverging and centred on zero (positive red, negative
    blue); with ``mask_zeros`` exact zeros are white, so a sparse matrix shows its structure.

    Parameters
    ----------
    matrix : array_like, shape (rows, cols)
        Real numbers.
    xlabel, ylabel : str
        What the columns and the rows index, e.g. ``"input pixel"`` and ``"output pixel"``.
    title : str, optional
    highlight_columns, highlight_rows : int or sequence of int
        Columns (rows) outlined in the highlight colour of :func:`conv_tutorial.viz.draw_conv2d`.
    mask_zeros : bool
        Draw exact zeros white (default). Turn it off when zero is a value like any other.
    annotate : bool, optional
        Write each value in its cell (zeros left out when masked). By default only for matrices of
        at most 400 cells.
    xticklabels, yticklabels : sequence of str, optional
        One label per column (row); by default integer indices.
    colorbar : bool
        Add a colour bar.
    ax : matplotlib Axes, optional
        Draw into this axes; by default a new figure of size ``figsize``.
    figsize : tuple of 2 floats

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.

    Raises
    ------
    ValueError
        For a matrix that is not 2D and real, highlights outside the matrix, or a wrong number of
        tick labels; the message names the parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from conv_tutorial.numpy import conv_matrix
    >>> C = conv_matrix((1, 3, 3), np.ones((1, 1, 2, 2)))
    >>> fig = draw_matrix(C, "input pixel", "output pixel", highlight_rows=0)
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('input pixel', 'output pixel')
    >>> len([t for t in ax.texts if t.get_text() == "1"])   # one number per non-zero
    16
    >>> plt.close(fig)
    """
    m = np.asarray(matrix)
    if m.ndim != 2 or not (np.issubdtype(m.dtype, np.number) or m.dtype == bool) or np.iscomplexobj(m):
        raise ValueError(f"matrix must be a 2D array of real numbers, got shape {m.shape} and dtype {m.dtype}")
    m = m.astype(np.float64)
    rows, cols = m.shape
    columns = _indices(highlight_columns, cols, "highlight_columns")
    hl_rows = _indices(highlight_rows, rows, "highlight_rows")
    xticklabels = _labels(xticklabels, cols, "xticklabels")
    yticklabels = _labels(yticklabels, rows, "yticklabels")
    if annotate is None:
        annotate = m.size <= _MAX_ANNOTATED_CELLS

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.get_figure()
    limit = float(np.max(np.abs(m), initial=0.0)) or 1.0
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="white")
    shown = np.ma.masked_equal(m, 0.0) if mask_zeros else m
    image = ax.imshow(shown, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest", aspect="auto")
    # Light cell borders when cells are big enough to be told apart; a white matrix has no edges.
    if m.size <= 40 * 40:
        ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="#d0d0d0", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
    ax.add_patch(Rectangle((-0.5, -0.5), cols, rows, fill=False, ec="#4d4d4d", lw=0.8))

    if annotate:
        # Text size from the cell size in points, so numbers stay inside their cells.
        width, height = ax.get_position().size * fig.get_size_inches()
        cell = 72 * min(width / cols, height / rows)
        fontsize = float(np.clip(cell / 2.8, 4, 9))
        for r in range(rows):
            for c in range(cols):
                if mask_zeros and m[r, c] == 0:
                    continue
                dark = abs(m[r, c]) > 0.6 * limit
                ax.text(
                    c, r, _fmt(m[r, c]), ha="center", va="center", fontsize=fontsize, color="white" if dark else "black"
                )

    for c in columns:
        ax.add_patch(Rectangle((c - 0.5, -0.5), 1, rows, fill=False, ec=_HIGHLIGHT, lw=2.5, gid=HIGHLIGHT_GID))
    for r in hl_rows:
        ax.add_patch(Rectangle((-0.5, r - 0.5), cols, 1, fill=False, ec=_HIGHLIGHT, lw=2.5, gid=HIGHLIGHT_GID))

    for axis, labels, size in ((ax.xaxis, xticklabels, cols), (ax.yaxis, yticklabels, rows)):
        if labels is None:
            axis.set_major_locator(MaxNLocator(integer=True, nbins=min(size, 10)))
        else:
            axis.set_ticks(np.arange(size), labels=list(labels))
    ax.tick_params(axis="x", labelsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title, fontsize=10)
    if colorbar:
        fig.colorbar(image, ax=ax, shrink=0.8)
    return fig
