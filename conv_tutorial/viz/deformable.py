"""Where a deformable convolution reads the input: the sampling points of one output pixel, drawn over the input.

Arrows lead from the regular grid of a standard convolution to the points the offsets move them to.

The points come from :func:`conv_tutorial.numpy.deform_sampling_points`, the arithmetic the
convolution itself uses, so the picture cannot disagree with the computation.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt

from .._checks import check_index, check_ndim
from ..numpy.deformable import deform_sampling_points
from .conv2d import _HIGHLIGHT

__all__ = ["draw_deform_sampling"]

_REGULAR = "#1f77b4"


def draw_deform_sampling(
    image,
    offset,
    kernel_size,
    output_position=(0, 0),
    stride=1,
    padding=0,
    dilation=1,
    mask=None,
    offset_group=0,
    title=None,
    ax=None,
):
    """The ``kH x kW`` sampling points of one output pixel over the input.

    Hollow blue circles mark the regular grid (where a standard convolution reads, zero offsets);
    orange dots mark where the taps read after the offsets move them, with an arrow from each
    regular point to its sample and the tap number ``k = ki * kW + kj`` beside it. With a ``mask``,
    each dot's area is proportional to its modulation value (DCNv2). Pixel centres sit at integer
    coordinates, the image's cells span ``+-0.5`` around them, and the one-pixel band around the
    image where samples fade to zero is outlined.

    Parameters
    ----------
    image : array_like, shape (H, W)
        One channel of the input, drawn in grey.
    offset : array_like, shape (N, 2 * offset_groups * kH * kW, H_out, W_out) or without N
        torchvision's layout; sample 0 of the batch is drawn.
    kernel_size, stride, padding, dilation : int or tuple of 2 ints
    output_position : tuple of 2 ints
        ``(i, j)`` of the output pixel whose samples are drawn.
    mask : array_like, shape (N, offset_groups * kH * kW, H_out, W_out) or without N, optional
    offset_group : int
        Which offset group's points to draw.
    title : str, optional
    ax : matplotlib Axes, optional
        Draw there instead of in a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> offset = np.zeros((18, 3, 3))
    >>> offset[2 * 4] = 1.5                       # the centre tap's dy: 1.5 pixels down
    >>> fig = draw_deform_sampling(np.zeros((5, 5)), offset, 3, output_position=(1, 1))
    >>> len(fig.axes[0].collections)              # regular grid and samples
    2
    """
    image = np.asarray(image, dtype=float)
    check_ndim("draw_deform_sampling", "image", image.shape, "(H, W)")
    offset = np.asarray(offset, dtype=float)
    offset = offset[None] if offset.ndim == 3 else offset
    points = deform_sampling_points(offset[:1], kernel_size, stride, padding, dilation)[0]
    groups, kh, kw, h_out, w_out = points.shape[:5]
    fn = "draw_deform_sampling"
    i, j = check_index(fn, "output_position", output_position, (h_out, w_out), why="the output's size")
    offset_group = check_index(fn, "offset_group", offset_group, groups, why="the offset's groups")
    moved = points[offset_group, :, :, i, j].reshape(-1, 2)
    regular = deform_sampling_points(np.zeros_like(offset[:1]), kernel_size, stride, padding, dilation)[0]
    regular = regular[offset_group, :, :, i, j].reshape(-1, 2)
    sizes = np.full(len(moved), 60.0)
    if mask is not None:
        mask = np.asarray(mask, dtype=float)
        mask = mask[None] if mask.ndim == 3 else mask
        sizes = 10 + 110 * np.clip(mask[0, offset_group * kh * kw : (offset_group + 1) * kh * kw, i, j], 0, 1)

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 4.6), layout="constrained")
    else:
        fig = ax.figure
    height, width = image.shape
    ax.imshow(image, cmap="Greys", extent=(-0.5, width - 0.5, height - 0.5, -0.5), alpha=0.6)
    ax.add_patch(
        plt.Rectangle(
            (-1.0, -1.0), width + 1.0, height + 1.0, fill=False, linestyle=":", edgecolor="#7f7f7f", linewidth=0.8
        )
    )
    ax.scatter(
        regular[:, 1],
        regular[:, 0],
        s=60,
        facecolors="none",
        edgecolors=_REGULAR,
        linewidths=1.3,
        label="regular grid",
        zorder=5,
    )  # above the samples: an unmoved tap is a ringed dot
    ax.scatter(
        moved[:, 1],
        moved[:, 0],
        s=sizes,
        color=_HIGHLIGHT,
        edgecolors="black",
        linewidths=0.5,
        label="samples" + (" (area = mask)" if mask is not None else ""),
        zorder=4,
    )
    for k, ((y0, x0), (y1, x1)) in enumerate(zip(regular, moved, strict=True)):
        if abs(y1 - y0) + abs(x1 - x0) > 1e-9:
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops=dict(arrowstyle="->", color="#555555", linewidth=0.9, shrinkA=3, shrinkB=3),
            )
        ax.annotate(str(k), (x1, y1), xytext=(4, 4), textcoords="offset points", fontsize=7)
    # Room for every point (samples may leave the image) and its label.
    ys, xs = np.concatenate([moved, regular])[:, 0], np.concatenate([moved, regular])[:, 1]
    ax.set_xlim(min(-1.0, xs.min()) - 0.6, max(float(width), xs.max()) + 0.6)
    ax.set_ylim(max(float(height), ys.max()) + 0.6, min(-1.0, ys.min()) - 0.6)
    ax.set_aspect("equal")
    ax.set_xlabel("x (column)")
    ax.set_ylabel("y (row)")
    ax.set_title(title or f"input: samples of output pixel {(i, j)}", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7, frameon=False)
    return fig
