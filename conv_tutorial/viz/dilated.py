"""Pictures of dilated convolution drawn from their parameters: the taps of a kernel, the gridding of a stack.

Where the taps of a dilated kernel fall, and the gridding map of a stack of dilated layers.

The tap positions come from :func:`conv_tutorial.viz.window_cells` (the arithmetic behind
:func:`conv_tutorial.viz.draw_conv2d`, which draws a whole dilated convolution), the spans from
:func:`conv_tutorial.shapes.effective_kernel_size`, the maps from
:func:`conv_tutorial.numpy.gridding_map`.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.patches import Rectangle

from .._checks import check_dilation_stack
from ..numpy import gridding_map
from ..shapes import effective_kernel_size
from .conv2d import _EDGE, _HIGHLIGHT, _KERNEL_FACE, window_cells
from .figures import TEXT_WIDTH
from .transposed import draw_count_map

__all__ = ["draw_dilation_rates", "draw_gridding_map"]


def draw_dilation_rates(kernel_size=3, dilations=(1, 2, 3)):
    """One panel per dilation rate: the ``k x k`` taps of the kernel on the input grid they span.

    Taps are filled in the kernel's colour, skipped input pixels are white, and a dotted outline
    marks the span ``d(k - 1) + 1``. All panels share one cell size, so the growth is visible.

    Parameters
    ----------
    kernel_size : int
    dilations : sequence of int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_dilation_rates(3, (1, 2))
    >>> [ax.get_title() for ax in fig.axes]
    ['dilation 1: 3×3 taps span 3×3', 'dilation 2: 3×3 taps span 5×5']
    >>> plt.close(fig)
    """
    layers = check_dilation_stack("draw_dilation_rates", list(dilations), kernel_size, 2)
    k = layers[0][0]
    spans = [effective_kernel_size(k, d) for _, d in layers]
    largest = max(spans)
    cell = min(0.3, (TEXT_WIDTH - 0.4) / (len(layers) * (largest + 1)))
    fig, axes = plt.subplots(
        1,
        len(layers),
        figsize=(len(layers) * (largest + 1) * cell + 0.4, (largest + 1) * cell + 0.6),
        layout="constrained",
    )
    axes = np.atleast_1d(axes)
    for ax, (_, d), span in zip(axes, layers, spans, strict=True):
        taps = set(window_cells((0, 0), k, dilation=d))
        offset = (largest - span) / 2  # centre the smaller spans
        for r in range(span):
            for c in range(span):
                face = _KERNEL_FACE if (r, c) in taps else "white"
                ax.add_patch(Rectangle((c + offset, r + offset), 1, 1, fc=face, ec=_EDGE, lw=0.6))
        ax.add_patch(Rectangle((offset, offset), span, span, fill=False, ec=_HIGHLIGHT, ls=":", lw=1.5))
        ax.set_xlim(-0.5, largest + 0.5)
        ax.set_ylim(largest + 0.5, -0.5)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"dilation {d}: {k}×{k} taps span {span}×{span}", fontsize=9)
    return fig


def draw_gridding_map(dilations, kernel_size=3, ax=None):
    """Heatmap of :func:`conv_tutorial.numpy.gridding_map` through a stack of dilated 2D layers.

    Each input pixel's colour counts its paths to one output pixel (outlined); white pixels are never read.

    Parameters
    ----------
    dilations : sequence of int
        Rates of the layers, input side first.
    kernel_size : int or sequence of int
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_gridding_map([2, 2, 2])
    >>> fig.axes[0].get_title()
    'rates 2, 2, 2: field 13×13, 49 pixels read (29%)'
    >>> plt.close(fig)
    """
    layers = check_dilation_stack("draw_gridding_map", dilations, kernel_size, 2)
    counts = gridding_map(dilations, kernel_size, ndim=2)
    size = counts.shape[0]
    read = int(np.count_nonzero(counts))
    title = (
        f"rates {', '.join(str(d) for _, d in layers)}: field {size}×{size}, {read} pixels read "
        f"({read / counts.size:.0%})"
    )
    return draw_count_map(counts, title, ax=ax, cmap="Blues", mark=(size // 2, size // 2), zero_label="")
