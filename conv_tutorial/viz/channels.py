"""Which input channels each output channel sees: channel connectivity measured from the layers themselves.

The connectivity is drawn as a graph of channel nodes.

The connectivity is not derived from a formula: :func:`connectivity` runs the layer on impulses,
one input channel at a time, and records which output channels change. So the picture of a
grouped convolution followed by a channel shuffle is computed from ``conv2d(..., groups=g)`` and
``channel_shuffle`` themselves, and shows whatever those functions really do.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt

from .._checks import check_positive_int, check_shape
from .figures import TEXT_WIDTH

__all__ = ["connectivity", "draw_channel_graph"]

# One colour per input channel group; edges carry the colour of the input channel they start from.
_PALETTE = ("#4f81bd", "#f08a24", "#9bbb59", "#8064a2", "#c0504d", "#4bacc6", "#7f7f7f", "#d4a017")


def connectivity(layer, in_channels: int, spatial=(5, 5)) -> np.ndarray:
    """Which input channels each output channel of ``layer`` depends on.

    Parameters
    ----------
    layer : callable
        Maps a NumPy array ``(N, C_in, *spatial)`` to ``(N, C_out, ...)``.
    in_channels : int
    spatial : tuple of int
        Spatial size of the probe images; large enough for the layer's kernel and padding.

    Returns
    -------
    ndarray of bool, shape (C_out, C_in)
        ``[o, i]`` is true when changing input channel ``i`` changes output channel ``o``:
        the layer is run on ``C_in`` probe images, image ``i`` non-zero only in channel ``i``
        (positive random values, so that no output cancels to zero by accident), against an
        all-zero image.

    Examples
    --------
    >>> from conv_tutorial.numpy import conv2d
    >>> w = np.ones((4, 2, 1, 1))
    >>> connectivity(lambda x: conv2d(x, w, groups=2), 4).astype(int)
    array([[1, 1, 0, 0],
           [1, 1, 0, 0],
           [0, 0, 1, 1],
           [0, 0, 1, 1]])
    """
    in_channels = check_positive_int("connectivity", "in_channels", in_channels)
    spatial = check_shape("connectivity", "spatial", spatial)
    rng = np.random.default_rng(0)
    probes = np.zeros((in_channels + 1, in_channels, *spatial))
    for i in range(in_channels):
        probes[i, i] = rng.uniform(0.5, 1.5, spatial)
    out = np.asarray(layer(probes))
    changed = np.abs(out[:-1] - out[-1:]).reshape(in_channels, out.shape[1], -1).max(axis=2) > 0
    return changed.T


def _layout(columns):
    """Vertical positions of ``columns`` node columns, each centred on the tallest."""
    tallest = max(columns)
    return [np.arange(n) + (tallest - n) / 2 for n in columns]


def draw_channel_graph(stages, in_channels: int, spatial=(5, 5), title=None, ax=None, input_groups=None):
    """Draw channel connectivity through a sequence of layers.

    Parameters
    ----------
    stages : list of (str, callable)
        Each layer's label and the function it computes on ``(N, C, *spatial)`` arrays.
    in_channels : int
    spatial : tuple of int
        Probe size passed to :func:`connectivity`.
    title : str, optional
    ax : matplotlib Axes, optional
    input_groups : int, optional
        Number of colour bands over the input channels (consecutive channels share a colour); by
        default the largest divisor of ``in_channels`` that the palette can show.

    Returns
    -------
    matplotlib.figure.Figure
        Columns of channel nodes, left to right: the input channels, then the output of each
        stage. An edge joins output channel ``o`` of a stage to every input channel ``i`` of that
        stage it depends on. Input channels are coloured in ``input_groups`` bands; every later
        node and edge takes the colour of the first band that reaches it, so channels that never
        mix keep separate colours.

    Examples
    --------
    >>> from conv_tutorial.numpy import conv2d
    >>> fig = draw_channel_graph([("grouped 1x1, g=2", lambda x: conv2d(x, np.ones((4, 2, 1, 1)), groups=2))], 4)
    >>> len(fig.axes)
    1
    """
    if not stages:
        raise ValueError("stages must hold at least one (label, callable) pair, got an empty list")
    in_channels = check_positive_int("draw_channel_graph", "in_channels", in_channels)
    spatial = check_shape("draw_channel_graph", "spatial", spatial)
    matrices, channels = [], [in_channels]
    probe = in_channels
    for _label, layer in stages:
        m = connectivity(layer, probe, spatial)
        matrices.append(m)
        probe = m.shape[0]
        channels.append(probe)
    # Colour: the lowest input channel (of the network's input) that reaches a node.
    reach = [np.eye(in_channels, dtype=bool)]
    for m in matrices:
        reach.append((m.astype(int) @ reach[-1].astype(int)) > 0)
    if input_groups is None:
        input_groups = max(d for d in range(1, len(_PALETTE) + 1) if in_channels % d == 0)
    if not isinstance(input_groups, (int, np.integer)) or not 0 < input_groups <= in_channels:
        raise ValueError(f"input_groups must be an int in [1, in_channels={in_channels}], got {input_groups!r}")
    band = -(-in_channels // input_groups)

    def colour(reached_row):
        first = int(np.argmax(reached_row)) if reached_row.any() else 0
        return _PALETTE[(first // band) % len(_PALETTE)]

    if ax is None:
        fig, ax = plt.subplots(
            figsize=(min(TEXT_WIDTH, 1.5 + 2.2 * len(stages)), min(4, 0.6 + 0.28 * max(channels))), layout="constrained"
        )
    else:
        fig = ax.get_figure()
    ys = _layout(channels)
    for col, m in enumerate(matrices):
        for o, i in zip(*np.nonzero(m), strict=True):
            ax.plot([col, col + 1], [ys[col][i], ys[col + 1][o]], color=colour(reach[col][i]), lw=0.9, alpha=0.7)
    for col, (n, y) in enumerate(zip(channels, ys, strict=True)):
        ax.scatter(
            np.full(n, col), y, s=60, zorder=3, edgecolor="#4d4d4d", color=[colour(reach[col][c]) for c in range(n)]
        )
    labels = [f"input\n{in_channels} channels"] + [
        f"{label}\n{n} channels" for (label, _), n in zip(stages, channels[1:], strict=True)
    ]
    ax.set_xticks(range(len(channels)), labels, fontsize=9)
    ax.set_yticks([])
    ax.set_ylim(max(channels) - 0.5, -0.5)  # channel 0 at the top
    ax.set_xlim(-0.3, len(stages) + 0.3)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
