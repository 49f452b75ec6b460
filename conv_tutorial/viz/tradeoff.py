"""Accuracy against cost: which networks are worth their multiply-accumulates.

- :func:`pareto_front` -- the points no other point beats on both axes (cheaper *and* at least as
  accurate);
- :func:`draw_accuracy_cost` -- accuracy (mean and spread over seeds) against MACs on a log axis,
  the Pareto front joined by a step line.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib import ticker

__all__ = ["draw_accuracy_cost", "pareto_front"]

_COLOURS = plt.get_cmap("tab10").colors
_MARKERS = "os^Dv<>P"
_FRONT = "#404040"


def pareto_front(costs, scores):
    """Indices of the points on the Pareto front, cheapest first: no other point costs less and scores as much.

    A point is dominated when another costs no more and scores at least as much, and is strictly
    better in one of the two; of several equal points the first is kept.

    Parameters
    ----------
    costs, scores : sequence of float, the same length

    Returns
    -------
    list of int

    Examples
    --------
    >>> pareto_front([1, 2, 3, 4], [0.5, 0.4, 0.9, 0.8])
    [0, 2]
    """
    costs, scores = np.asarray(costs, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if costs.ndim != 1 or costs.shape != scores.shape or not len(costs):
        raise ValueError(
            f"pareto_front: costs and scores must be non-empty sequences of the same length, got "
            f"shapes {costs.shape} and {scores.shape}"
        )
    if not (np.all(np.isfinite(costs)) and np.all(np.isfinite(scores))):
        raise ValueError("pareto_front: costs and scores must be finite")
    front, best = [], -np.inf
    for i in np.lexsort((-scores, costs)):  # by cost, the best score first among equal costs
        if scores[i] > best:
            front.append(int(i))
            best = scores[i]
    return front


def _short_number(value, _position=None) -> str:
    """``50000 -> '50k'``, ``2e6 -> '2M'``: tick labels for a log axis of counts."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


def draw_accuracy_cost(points, ax=None, title=None, xlabel="multiply-accumulates per image"):
    """Accuracy against cost, one marker per network with its spread as an error bar, the Pareto front joined.

    Parameters
    ----------
    points : sequence of (str, float, float, float)
        ``(label, cost, mean accuracy, spread)`` per network; the cost (MACs) goes on a log axis,
        the spread (a standard deviation over seeds, say) is drawn as ``mean +- spread``.
    ax : matplotlib Axes, optional
    title : str, optional
    xlabel : str

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_accuracy_cost([("a", 1e4, 0.8, 0.02), ("b", 1e5, 0.95, 0.01), ("c", 2e5, 0.9, 0.01)])
    >>> fig.axes[0].get_xscale(), [line.get_label() for line in fig.axes[0].lines][:1]
    ('log', ['Pareto front (mean)'])
    >>> plt.close(fig)
    """
    points = list(points)
    if not points or any(not isinstance(p, (tuple, list)) or len(p) != 4 for p in points):
        raise ValueError(
            f"draw_accuracy_cost: points must be a non-empty sequence of (label, cost, accuracy, spread) "
            f"tuples, got points={points!r}"
        )
    labels = [str(p[0]) for p in points]
    values = np.array([p[1:] for p in points], dtype=np.float64)
    costs, means, spreads = values.T
    if not (np.all(np.isfinite(values)) and np.all(costs > 0) and np.all(spreads >= 0)):
        raise ValueError(
            f"draw_accuracy_cost: costs must be positive (a log axis), spreads non-negative and every "
            f"value finite, got points={points!r}"
        )
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4), layout="constrained")
    else:
        fig = ax.figure
    front = pareto_front(costs, means)
    ax.step(costs[front], means[front], where="post", color=_FRONT, lw=1, ls="--", label="Pareto front (mean)")
    for i, (label, c, m, s) in enumerate(zip(labels, costs, means, spreads, strict=True)):
        ax.errorbar(
            [c],
            [m],
            yerr=[s],
            fmt=_MARKERS[i % len(_MARKERS)],
            color=_COLOURS[i % len(_COLOURS)],
            ms=7,
            mec="black",
            mew=0.4,
            capsize=3,
            label=label,
        )
    ax.set_xscale("log")
    ax.set_xlim(costs.min() / 1.6, costs.max() * 1.6)
    # Ticks at 1, 2 and 5 times the powers of ten, written out ("50k", "2M"): no crowded minor labels.
    ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(_short_number))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (mean ± spread)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
