"""Pictures of skip and dense connections: their wiring, their depth, their gradients and a dense block's growth.

The three wiring patterns side by side, the degradation measured against depth, gradient norms layer by
layer, and how a dense block's channels and costs grow with its depth.

The channel counts in :func:`draw_connections` and every number in :func:`draw_dense_growth` come
from the same arithmetic the cost model uses (:mod:`conv_tutorial.cost`); the curves of
:func:`draw_depth_curves` and :func:`draw_gradient_norms` are whatever the caller measured.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.patches import FancyArrowPatch

from .._checks import check_positive_int
from ..cost import conv_macs, dense_block_concat_memory, dense_layer_macs

__all__ = ["draw_connections", "draw_dense_growth", "draw_depth_curves", "draw_gradient_norms"]

_PLAIN, _RESIDUAL, _DENSE = "#7f7f7f", "#4f81bd", "#f08a24"
_COLOURS = (_PLAIN, _RESIDUAL, _DENSE, "#9bbb59", "#8064a2", "#c0504d")


def _new_axes(ax, figsize):
    if ax is None:
        return plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def _node(ax, x, y, text, colour, width=0.9):
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=8,
        bbox=dict(boxstyle="round,pad=0.3", fc="white", ec=colour, lw=1.2, alpha=1.0),
        zorder=3,
    )


def _arrow(ax, start, end, colour, rad=0.0, lw=1.2):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=9,
            color=colour,
            lw=lw,
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=11,
            shrinkB=11,
            zorder=2,
        )
    )


def draw_connections(num_layers=4, in_channels=64, growth_rate=32):
    """Three wirings of ``num_layers`` layers, one row each: plain, residual, dense.

    - plain: each layer ``F`` feeds only the next;
    - residual: every two layers form a block whose input is added (``+``) to its output, so the
      block computes ``x + F(x)`` and its channels stay ``in_channels``;
    - dense: every layer receives the concatenation of the input and of all the layers before it,
      ``k0 + l k`` channels for layer ``l`` (from 0), and adds ``k`` channels of its own. Under each
      map its channel count; the block ends with ``k0 + L k``.

    Parameters
    ----------
    num_layers : int
        ``L``; even for the residual row (two layers per block), at most 8.
    in_channels : int
        ``k0``.
    growth_rate : int
        ``k``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_connections(4, 64, 32)
    >>> [t.get_text() for t in fig.axes[2].texts if t.get_text().endswith(" ch")]
    ['64 ch', '96 ch', '128 ch', '160 ch', '192 ch']
    >>> plt.close(fig)
    """
    num_layers = check_positive_int("draw_connections", "num_layers", num_layers)
    in_channels = check_positive_int("draw_connections", "in_channels", in_channels)
    growth_rate = check_positive_int("draw_connections", "growth_rate", growth_rate)
    if num_layers % 2 or num_layers > 8:
        raise ValueError(
            f"draw_connections: num_layers must be an even number up to 8 (two layers per residual "
            f"block, and a readable picture), got num_layers={num_layers}"
        )
    fig, axes = plt.subplots(3, 1, figsize=(7.5, 5.2), layout="constrained", height_ratios=(0.7, 1, 1.2))
    xs = np.arange(num_layers + 1) * 1.5
    titles = (
        "plain: each layer feeds the next",
        "residual: a block adds its input to its output (x + F(x))",
        "dense: each layer reads the concatenation of all maps before it",
    )
    for ax, title, top in zip(axes, titles, (0.4, 1.0, 1.1), strict=True):
        ax.set_xlim(-0.8, xs[-1] + 0.8)
        ax.set_ylim(-0.9, top)
        ax.axis("off")
        ax.set_title(title, fontsize=9, loc="left")
    plain, residual, dense = axes
    for ax, colour in ((plain, _PLAIN), (residual, _RESIDUAL)):
        for i, x in enumerate(xs):
            _node(ax, x, 0, "x" if i == 0 else ("y" if i == num_layers else f"h{i}"), colour)
            ax.text(x, -0.6, f"{in_channels} ch", ha="center", fontsize=7, color="#404040")
        for i in range(num_layers):
            _arrow(ax, (xs[i], 0), (xs[i + 1], 0), colour)
            ax.text((xs[i] + xs[i + 1]) / 2, 0.12, "F", ha="center", fontsize=8, style="italic")
    for block in range(num_layers // 2):
        start, end = xs[2 * block], xs[2 * block + 2]
        _arrow(residual, (start, 0.05), (end, 0.05), _RESIDUAL, rad=-0.45, lw=1.6)
        residual.text((start + end) / 2, 0.78, "identity", ha="center", fontsize=7, color=_RESIDUAL)
        residual.text(end - 0.28, 0.35, "+", ha="center", va="center", fontsize=12, color=_RESIDUAL, fontweight="bold")
    for j, x in enumerate(xs):
        _node(dense, x, 0, "x" if j == 0 else f"h{j}", _DENSE)
        channels = in_channels if j == 0 else growth_rate
        dense.text(x, -0.45, f"+{channels}" if j else f"{channels}", ha="center", fontsize=7, color="#404040")
        dense.text(x, -0.78, f"{in_channels + j * growth_rate} ch", ha="center", fontsize=7, color=_DENSE)
        for i in range(j):
            # Arcs over longer spans rise higher, so that each stays visible: height ~ rad * span / 2.
            height = 0.2 + 0.22 * (j - i - 2)
            _arrow(dense, (xs[i], 0.05), (x, 0.05), _DENSE, rad=-2 * height / (x - xs[i]) if j - i > 1 else 0.0, lw=0.9)
    dense.text(xs[0] - 0.75, -0.45, "adds", ha="left", fontsize=6, color="#404040")
    dense.text(xs[0] - 0.75, -0.78, "total", ha="left", fontsize=6, color=_DENSE)
    return fig


def draw_depth_curves(
    depths, curves, ylabel="training loss", xlabel="residual blocks (2 conv layers each)", title=None, ax=None
):
    """One line per series against depth (log-2 axis): the degradation experiment's result.

    Parameters
    ----------
    depths : sequence of int
        The x values, positive (depth in blocks or layers).
    curves : mapping of str to sequence of float
        Label to one value per depth.
    ylabel, xlabel, title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_depth_curves([1, 2, 4], {"plain": [2.0, 1.5, 1.8], "residual": [2.0, 1.4, 0.9]})
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['plain', 'residual']
    >>> plt.close(fig)
    """
    depths = [check_positive_int("draw_depth_curves", "depths", d) for d in depths]
    curves = dict(curves)
    if not depths or not curves or any(len(list(v)) != len(depths) for v in curves.values()):
        raise ValueError(
            f"draw_depth_curves: curves must map labels to one value per depth ({len(depths)} depths), "
            f"got lengths {[len(list(v)) for v in curves.values()]}"
        )
    fig, ax = _new_axes(ax, (6, 3.4))
    for i, (label, values) in enumerate(curves.items()):
        ax.plot(depths, list(values), "o-", color=_COLOURS[i % len(_COLOURS)], label=label, lw=1.8, ms=5)
    ax.set_xscale("log", base=2)
    ax.set_xticks(depths, [str(d) for d in depths])
    ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def draw_gradient_norms(norms, ylabel="gradient norm of the layer's weights", title=None, ax=None):
    """Gradient norms layer by layer, input side on the left, one line per network, log scale.

    Parameters
    ----------
    norms : mapping of str to sequence of float
        Label to one positive value per layer (first layer first); the networks may differ in depth.
        Labels that share the text before a comma (``"plain, at initialisation"``, ``"plain, after
        training"``) share a colour, the first solid and the others dashed.
    ylabel, title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_gradient_norms({"plain": [8.0, 2.0, 0.5], "residual": [0.7, 0.3, 0.2]})
    >>> fig.axes[0].get_yscale()
    'log'
    >>> plt.close(fig)
    """
    norms = {label: np.asarray(values, dtype=np.float64) for label, values in dict(norms).items()}
    if not norms or any(v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v) & (v > 0)) for v in norms.values()):
        raise ValueError(
            "draw_gradient_norms: norms must map labels to non-empty sequences of positive, finite values (log axis)"
        )
    fig, ax = _new_axes(ax, (6, 3.4))
    groups = []
    for label, values in norms.items():
        group = label.split(",")[0]
        first = group not in groups
        if first:
            groups.append(group)
        ax.plot(
            np.arange(1, values.size + 1),
            values,
            "o-" if first else "s--",
            color=_COLOURS[groups.index(group) % len(_COLOURS)],
            label=label,
            ms=3,
            lw=1.5,
        )
    ax.set_yscale("log")
    ax.set_xlabel("convolution layer (1 = next to the input)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def draw_dense_growth(num_layers, in_channels, growth_rate, input_size, bn_size=4, itemsize=4):
    """How a dense block grows with its depth, from :mod:`conv_tutorial.cost`.

    Left: each layer's MACs, split into its 1x1 bottleneck (``H W C_l bn_size k``, growing with
    the channels ``C_l = k0 + l k`` it reads) and its 3x3 convolution (``9 H W bn_size k^2``, the
    same in every layer), with ``C_l`` written above each bar. Right: the block's total MACs and
    the memory of its concatenated maps (:func:`~conv_tutorial.cost.dense_block_concat_memory`)
    for blocks of 1 to ``num_layers`` layers: both grow quadratically, while the output's channels
    grow linearly.

    Parameters
    ----------
    num_layers, in_channels, growth_rate : int
        ``L``, ``k0``, ``k``.
    input_size : int or tuple of 2 ints
        ``(H, W)`` of the block's maps.
    bn_size : int
    itemsize : int
        Bytes per number of the memory curve.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_dense_growth(6, 64, 32, 56)
    >>> [t.get_text() for t in fig.axes[0].texts][:2]
    ['64', '96']
    >>> plt.close(fig)
    """
    num_layers = check_positive_int("draw_dense_growth", "num_layers", num_layers)
    dense_layer_macs(input_size, in_channels, growth_rate, bn_size)  # validates every argument
    layers = np.arange(num_layers)
    inputs = in_channels + layers * growth_rate
    per_layer = np.array([dense_layer_macs(input_size, int(c), growth_rate, bn_size) for c in inputs], dtype=float)
    conv3 = np.full(num_layers, float(conv_macs(input_size, bn_size * growth_rate, growth_rate, 3, padding=1)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    left.bar(layers + 1, (per_layer - conv3) / 1e6, color=_DENSE, label="1x1 bottleneck (reads k0 + l k channels)")
    left.bar(
        layers + 1,
        conv3 / 1e6,
        bottom=(per_layer - conv3) / 1e6,
        color=_RESIDUAL,
        label=f"3x3 convolution ({bn_size}k -> k, the same in every layer)",
    )
    step = -(-num_layers // 8)  # at most 8 labels, so that they never overlap
    for i in range(0, num_layers, step):
        left.text(i + 1, per_layer[i] / 1e6, f"{inputs[i]}", ha="center", va="bottom", fontsize=7)
    left.set_xlabel("layer of the block (channels it reads above each bar)")
    left.set_ylabel("MACs per image (millions)")
    left.set_ylim(0, per_layer.max() / 1e6 * 1.35)
    left.legend(fontsize=7, frameon=False, loc="upper left")
    depth = layers + 1
    total = np.cumsum(per_layer) / 1e9
    memory = (
        np.array(
            [dense_block_concat_memory(input_size, int(d), in_channels, growth_rate, itemsize=itemsize) for d in depth]
        )
        / 2**20
    )
    right.plot(depth, total, "o-", color=_DENSE, label="block MACs (billions)", ms=3)
    right.set_xlabel("layers in the block")
    right.set_ylabel("MACs per image (billions)", color=_DENSE)
    twin = right.twinx()
    twin.plot(depth, memory, "s--", color=_RESIDUAL, label="concatenated maps (MiB)", ms=3)
    twin.set_ylabel("concatenated maps (MiB per image)", color=_RESIDUAL)
    right.legend(handles=right.lines + twin.lines, fontsize=7, frameon=False, loc="upper left")
    right.set_title(f"k0 = {in_channels}, k = {growth_rate}, {itemsize}-byte numbers", fontsize=9)
    right.grid(alpha=0.3)
    return fig
