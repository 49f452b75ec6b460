"""The picture of a 3D convolution, drawn from its parameters.

A ``kD x kH x kW`` kernel inside a small volume or clip (depth = time for video), and the one output value it
computes.

The window comes from the same arithmetic as every convolution in the package (output value
``(o_d, o_h, o_w)`` reads padded-input cells ``o * stride + k * dilation``), and the output size
from :func:`conv_tutorial.shapes.conv_output_size`.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

from .._checks import _non_negative, _positive, check_index
from ..shapes import conv_output_size
from .conv2d import _EDGE, _HIGHLIGHT, _INPUT_FACE, _KERNEL_FACE, _OUTPUT_FACE, _PAD_FACE, WINDOW_GID
from .figures import TEXT_WIDTH

__all__ = ["draw_conv3d", "window_cells3d"]


def window_cells3d(output_position, kernel_size, stride=1, padding=0, dilation=1) -> list[tuple[int, int, int]]:
    """The padded-input cells ``(d, h, w)`` that the kernel covers for one output value.

    Parameters
    ----------
    output_position : tuple of 3 ints
        ``(o_d, o_h, o_w)``.
    kernel_size, stride, padding, dilation : int or tuple of 3 ints

    Returns
    -------
    list of tuple of 3 ints
        One cell per kernel tap, ``o * stride + k * dilation`` per axis, in the padded input's
        coordinates (padding cells included).

    Examples
    --------
    >>> len(window_cells3d((0, 0, 0), (3, 3, 3)))
    27
    >>> window_cells3d((1, 0, 2), (2, 1, 1), stride=2)
    [(2, 0, 4), (3, 0, 4)]
    """
    kernel = _positive(kernel_size, 3, "kernel_size")
    strides = _positive(stride, 3, "stride")
    dils = _positive(dilation, 3, "dilation")
    _non_negative(padding, 3, "padding")
    position = _non_negative(output_position, 3, "output_position")
    return [
        tuple(o * s + k * d for o, s, k, d in zip(position, strides, tap, dils, strict=True))
        for tap in np.ndindex(*kernel)
    ]


def _frames(ax, origin_y, faces, label, frame_labels, lefts, window=None):
    """Draw ``faces`` ``(D, H, W, 4)`` as ``D`` grids of cells, frame ``d`` with its left edge at ``lefts[d]``.

    Cells where the boolean ``window`` ``(D, H, W)`` is set get the gid :data:`WINDOW_GID`.
    """
    depth, height, width = faces.shape[:3]
    for d, left in enumerate(lefts):
        for h in range(height):
            for w in range(width):
                gid = WINDOW_GID if window is not None and window[d, h, w] else None
                ax.add_patch(
                    Rectangle(
                        (left + w, origin_y - h - 1),
                        1,
                        1,
                        facecolor=faces[d, h, w],
                        edgecolor=_EDGE,
                        linewidth=0.6,
                        gid=gid,
                    )
                )
        ax.text(left + width / 2, origin_y - height - 0.25, frame_labels[d], ha="center", va="top", fontsize=8)
    ax.text(-0.6, origin_y - height / 2, label, ha="right", va="center", fontsize=9)


def draw_conv3d(input_size, kernel_size, stride=1, padding=0, dilation=1, output_position=(0, 0, 0)):
    """A 3D convolution drawn as film strips: input frames, kernel slices, output frames.

    Depth (time, for a video clip) runs left to right: each ``H x W`` frame of the input is one
    grid, and the kernel is ``kD`` slices of ``kH x kW`` weights. The cells the kernel reads for
    one output value are orange in the ``kD`` input frames they lie in; the output value is
    orange in its output frame. Each kernel slice is drawn under the input frame it meets for
    that value; padding cells are grey.

    Parameters
    ----------
    input_size : int or tuple of 3 ints
        ``(D, H, W)``: frames, height and width of one channel of the clip (or volume).
    kernel_size, stride, padding, dilation : int or tuple of 3 ints
    output_position : tuple of 3 ints
        ``(o_d, o_h, o_w)``, the output value whose window is highlighted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw_conv3d((4, 5, 5), 3, output_position=(1, 0, 2))
    >>> sum(p.get_gid() == WINDOW_GID for p in fig.axes[0].patches)
    27
    """
    size = _positive(input_size, 3, "input_size")
    kernel = _positive(kernel_size, 3, "kernel_size")
    pads = _non_negative(padding, 3, "padding")
    strides, dils = _positive(stride, 3, "stride"), _positive(dilation, 3, "dilation")
    out_size = conv_output_size(size, kernel, strides, pads, dils)
    position = check_index("draw_conv3d", "output_position", output_position, out_size, why="the output's size")
    padded = tuple(s + 2 * p for s, p in zip(size, pads, strict=True))
    inside = np.zeros(padded, dtype=bool)
    inside[tuple(slice(p, p + s) for p, s in zip(pads, size, strict=True))] = True
    input_faces = np.where(inside[..., None], to_rgba(_INPUT_FACE), to_rgba(_PAD_FACE))
    window = np.zeros(padded, dtype=bool)
    for cell in window_cells3d(position, kernel, strides, pads, dils):
        window[cell] = True
    input_faces[window] = to_rgba(_HIGHLIGHT)
    kernel_faces = np.broadcast_to(np.array(to_rgba(_KERNEL_FACE)), (*kernel, 4))
    output_faces = np.broadcast_to(np.array(to_rgba(_OUTPUT_FACE)), (*out_size, 4)).copy()
    output_faces[position] = to_rgba(_HIGHLIGHT)

    gap = 1
    rows = [padded[1], kernel[1], out_size[1]]
    row_gap = 2.2
    tops = [0.0, -(rows[0] + row_gap), -(rows[0] + rows[1] + 2 * row_gap)]
    total_height = rows[0] + rows[1] + rows[2] + 2 * row_gap + 1
    total_width = max(padded[0] * (padded[2] + gap), out_size[0] * (out_size[2] + gap))
    label_width = 9  # cells reserved on the left for the row labels
    cell = min(0.3, (TEXT_WIDTH - 0.2) / (total_width + label_width), 3.9 / total_height)
    fig, ax = plt.subplots(figsize=((total_width + label_width) * cell + 0.2, total_height * cell + 0.3))
    pad_note = f"\n(padding {pads})" if any(pads) else ""
    frames = "x".join
    in_label = f"input  {frames(map(str, size))}{pad_note}\nD x H x W"
    frame_step = padded[2] + gap
    _frames(
        ax,
        tops[0],
        input_faces,
        in_label,
        [f"frame {d - pads[0]}" if inside[d].any() else "pad" for d in range(padded[0])],
        [d * frame_step for d in range(padded[0])],
        window,
    )
    # Each kernel slice sits under the input frame it meets, below the columns of the window.
    slice_lefts = [
        (position[0] * strides[0] + t * dils[0]) * frame_step + position[2] * strides[2] for t in range(kernel[0])
    ]
    _frames(
        ax,
        tops[1],
        kernel_faces,
        f"kernel  {frames(map(str, kernel))}\nkD x kH x kW",
        [f"slice {t}" for t in range(kernel[0])],
        slice_lefts,
    )
    _frames(
        ax,
        tops[2],
        output_faces,
        f"output  {frames(map(str, out_size))}\nvalue {tuple(position)}",
        [f"frame {o}" for o in range(out_size[0])],
        [o * (out_size[2] + gap) for o in range(out_size[0])],
    )
    ax.set_xlim(-label_width, total_width)
    ax.set_ylim(tops[2] - out_size[1] - 1, 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    return fig
