"""Pictures of speed against cost: the roofline of a machine with kernels placed on it, and FLOPs against measured time.

The roof is ``conv_tutorial.roofline.roofline`` of the measured peak and bandwidth; the
points are whatever the caller measured, each with its own colour and marker, named in a legend.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import pyplot as plt

from .._checks import check_roofline
from ..roofline import ridge_point, roofline

__all__ = ["draw_flops_time", "draw_roofline"]

_ROOF = "#404040"
# Colour and marker per point: 10 colours x 7 markers give 70 distinct pairs.
_COLOURS = plt.get_cmap("tab10").colors
_MARKERS = "os^Dv<>"


def _check_points(fn: str, points, names: tuple[str, str]):
    """``points`` as three lists (labels, x, y) of positive finite values."""
    points = list(points)
    if not points or any(not isinstance(p, (tuple, list)) or len(p) != 3 for p in points):
        raise ValueError(
            f"{fn}: points must be a non-empty sequence of (label, {names[0]}, {names[1]}) tuples, "
            f"got points={points!r}"
        )
    labels = [str(p[0]) for p in points]
    values = np.array([p[1:] for p in points], dtype=np.float64)
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(
            f"{fn}: every {names[0]} and {names[1]} must be positive and finite (log axes), got points={points!r}"
        )
    return labels, values[:, 0], values[:, 1]


def _draw_points(ax, xs, ys, labels):
    """One marker per point, each with its own colour and shape, named in a legend beside the axes.

    A legend rather than labels beside the points: kernels of equal cost (standard, dilated and
    transposed here) fall on the same spot, where labels would cover each other.
    """
    for i, (x, y, label) in enumerate(zip(xs, ys, labels, strict=True)):
        ax.plot(
            [x],
            [y],
            _MARKERS[i % len(_MARKERS)],
            color=_COLOURS[i % len(_COLOURS)],
            ms=6,
            mec="black",
            mew=0.4,
            label=label,
        )
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)


def _new_axes(ax, figsize):
    if ax is None:
        return plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def draw_roofline(peak, bandwidth, points, ax=None, title=None):
    """The roofline ``min(peak, I * bandwidth)`` on log-log axes, with measured kernels placed on it.

    The slanted part of the roof is the memory bandwidth, the flat part the peak FLOP rate; a
    dotted line marks the ridge point ``peak / bandwidth``. A kernel drawn at its arithmetic
    intensity ``I`` and its achieved FLOP rate sits on or under the roof; its distance below the
    roof is the speed it leaves unused.

    Parameters
    ----------
    peak : float
        Peak FLOP rate, FLOP/s (``conv_tutorial.roofline.peak_flops``, or a faster measured kernel:
        chapter 14 takes the larger of the two).
    bandwidth : float
        Memory bandwidth, byte/s (``conv_tutorial.roofline.memory_bandwidth``).
    points : sequence of (str, float, float)
        ``(label, intensity in FLOP/byte, achieved FLOP/s)`` per kernel.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_roofline(100e9, 10e9, [("depthwise", 2.0, 5e9), ("standard", 250.0, 80e9)])
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("ridge")]
    ['ridge 10 FLOP/byte']
    >>> plt.close(fig)
    """
    peak, bandwidth = check_roofline("draw_roofline", peak, bandwidth)
    labels, intensity, rate = _check_points("draw_roofline", points, ("intensity", "FLOP/s"))
    ridge = ridge_point(peak, bandwidth)
    fig, ax = _new_axes(ax, (7, 4))
    lo, hi = min(intensity.min(), ridge) / 4, max(intensity.max(), ridge) * 4
    grid = np.geomspace(lo, hi, 200)
    ax.loglog(grid, roofline(grid, peak, bandwidth) / 1e9, color=_ROOF, lw=2)
    ax.axvline(ridge, color=_ROOF, ls=":", lw=1)
    ax.text(ridge * 1.1, peak / 1e9 / 40, f"ridge {ridge:.3g} FLOP/byte", fontsize=8, color=_ROOF)
    ax.text(
        ridge / 1.2,
        peak / 1e9 * 1.2,
        f"peak {peak / 1e9:.3g} GFLOP/s",
        fontsize=8,
        ha="right",
        va="bottom",
        color=_ROOF,
    )
    middle = math.sqrt(lo * ridge)  # halfway up the slanted roof, where memory-bound kernels rarely sit
    ax.text(
        middle,
        middle * bandwidth / 1e9 * 2,
        f"bandwidth {bandwidth / 1e9:.3g} GB/s (copy)",
        fontsize=8,
        ha="right",
        va="bottom",
        color=_ROOF,
    )
    ax.fill_between(grid, roofline(grid, peak, bandwidth) / 1e9, color=_ROOF, alpha=0.06, lw=0)
    ax.set_xlim(lo, hi)
    ax.set_ylim(min(rate.min(), lo * bandwidth) / 1e9 / 2, peak / 1e9 * 3)
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("achieved GFLOP/s")
    if title:
        ax.set_title(title, fontsize=10)
    _draw_points(ax, intensity, rate / 1e9, labels)
    return fig


def draw_flops_time(points, peak=None, ax=None, title=None):
    """Measured time against FLOPs on log-log axes, one point per kernel, named in a legend.

    Points on one diagonal run at the same FLOP rate; with ``peak`` a dashed diagonal marks the
    time each FLOP count would take at the peak rate, so a point's height above it is the factor
    by which that kernel falls short of the machine's arithmetic.

    Parameters
    ----------
    points : sequence of (str, float, float)
        ``(label, FLOPs, seconds)`` per kernel.
    peak : float, optional
        Peak FLOP rate, FLOP/s.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_flops_time([("a", 1e9, 0.02), ("b", 1e7, 0.001)], peak=100e9)
    >>> fig.axes[0].get_xlabel()
    'FLOPs (GFLOP)'
    >>> plt.close(fig)
    """
    labels, flops, seconds = _check_points("draw_flops_time", points, ("FLOPs", "seconds"))
    fig, ax = _new_axes(ax, (7, 4))
    lo, hi = flops.min() / 3, flops.max() * 3
    if peak is not None:
        peak, _ = check_roofline("draw_flops_time", peak, 1.0)
        grid = np.geomspace(lo, hi, 2)
        ax.loglog(
            grid / 1e9, grid / peak * 1e3, "--", color=_ROOF, lw=1, label=f"time at the peak {peak / 1e9:.3g} GFLOP/s"
        )
    ax.set_xlim(lo / 1e9, hi / 1e9)
    ax.set_xlabel("FLOPs (GFLOP)")
    ax.set_ylabel("measured time (ms)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _draw_points(ax, flops / 1e9, seconds * 1e3, labels)
    return fig
