"""Tests of conv_tutorial.viz: the pictures agree with the arithmetic they illustrate."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; set before pyplot is imported

import numpy as np
import pytest
from matplotlib import pyplot as plt
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

from conv_tutorial.numpy import conv2d, unfold
from conv_tutorial.shapes import conv_output_size
from conv_tutorial.viz import animate_conv2d, draw_conv2d, window_cells
from conv_tutorial.viz.conv2d import WINDOW_GID

CONFIGS = [  # input_size, kernel_size, stride, padding, dilation
    (5, 3, 1, 0, 1),
    (5, 3, 2, 1, 1),
    (7, 3, 1, 0, 2),
    ((6, 7), (2, 3), (2, 1), (1, 2), (1, 2)),
    ((8, 5), 3, (3, 2), (0, 1), (2, 1)),
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _pair(size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else tuple(size)


def _highlighted(fig) -> list:
    return [p for p in fig.axes[0].patches if p.get_gid() == WINDOW_GID]


@pytest.mark.parametrize("input_size, kernel_size, stride, padding, dilation", CONFIGS)
def test_window_cells_are_the_columns_of_unfold(input_size, kernel_size, stride, padding, dilation):
    # Each input pixel holds 1 + its flat index, so padding zeros read as 0: column j of unfold
    # names the cells that output j reads, which is what window_cells must return.
    h, w = _pair(input_size)
    index = np.arange(1, h * w + 1, dtype=float).reshape(1, h, w)
    columns = unfold(index, kernel_size, dilation=dilation, padding=padding, stride=stride)
    h_out, w_out = conv_output_size((h, w), kernel_size, stride, padding, dilation)
    assert columns.shape[1] == h_out * w_out
    top, left = _pair(padding)
    for j in range(h_out * w_out):
        cells = window_cells(divmod(j, w_out), kernel_size, stride, padding, dilation)
        expected = [index[0, r - top, c - left] if 0 <= r - top < h and 0 <= c - left < w else 0.0 for r, c in cells]
        np.testing.assert_array_equal(columns[:, j], expected)


def test_window_cells_row_major_with_gaps():
    assert window_cells((1, 2), 2, stride=2, dilation=3) == [(2, 4), (2, 7), (5, 4), (5, 7)]
    assert window_cells((0, 0), (1, 3), padding="same") == [(0, 0), (0, 1), (0, 2)]


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(output_position=(-1, 0), kernel_size=3), "output_position"),
        (dict(output_position=(0, 0), kernel_size=0), "kernel_size"),
        (dict(output_position=(0, 0), kernel_size=3, stride=0), "stride"),
        (dict(output_position=(0, 0), kernel_size=3, dilation=(1, -1)), "dilation"),
        (dict(output_position=(0, 0), kernel_size=3, padding=-1), "padding"),
        (dict(output_position=(0, 0), kernel_size=3, stride=2, padding="same"), "same"),
    ],
)
def test_window_cells_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        window_cells(**kwargs)


@pytest.mark.parametrize("input_size, kernel_size, stride, padding, dilation", CONFIGS)
def test_draw_highlights_one_cell_per_tap_where_window_cells_says(input_size, kernel_size, stride, padding, dilation):
    h_out, w_out = conv_output_size(_pair(input_size), kernel_size, stride, padding, dilation)
    position = (h_out - 1, w_out // 2)
    fig = draw_conv2d(input_size, kernel_size, stride, padding, dilation, output_position=position)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    for ax, word in zip(fig.axes, ("input", "kernel", "output"), strict=True):
        assert word in ax.get_title()
    cells = window_cells(position, kernel_size, stride, padding, dilation)
    assert sorted((p.get_y(), p.get_x()) for p in _highlighted(fig)) == sorted(cells)
    assert len(_highlighted(fig)) == len(cells) == np.prod(_pair(kernel_size))


def test_draw_titles_show_padding_dilation_and_output_arithmetic():
    fig = draw_conv2d(5, 3, stride=2, padding=1, dilation=1)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("input 5×5") and "padding 1" in titles[0]
    assert titles[1].startswith("kernel 3×3") and "dilation 1" in titles[1]
    assert titles[2].startswith("output 3×3") and "3 = ⌊(5 + 2·1 − 3)/2⌋ + 1" in titles[2]
    fig = draw_conv2d(7, 3, dilation=2, output_position=(1, 1))
    assert "spans 5×5" in fig.axes[1].get_title()
    assert "⌊(7 − 2·(3−1) − 1)/1⌋ + 1" in fig.axes[2].get_title()


def test_draw_same_padding_shows_the_asymmetric_ring():
    fig = draw_conv2d(4, 2, padding="same", output_position=(3, 3))
    assert "top/bottom 0/1" in fig.axes[0].get_title()
    assert fig.axes[2].get_title().startswith("output 4×4")


def test_draw_with_values_writes_conv2d_and_the_sum_of_products():
    x = np.arange(16).reshape(4, 4)
    w = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    fig = draw_conv2d(4, 3, padding=1, output_position=(1, 2), input_values=x, kernel_values=w)
    y = conv2d(x[None, None], w[None, None], padding=1)[0, 0]
    texts = {t.get_text() for t in fig.axes[2].texts}
    assert {f"{v:.0f}" for v in y.ravel()} <= texts
    # The caption is the figure's bottom label, so that a notebook's tight crop keeps it.
    assert fig.get_tightbbox().y0 <= fig._supxlabel.get_window_extent().y0 / fig.dpi
    caption = [fig.get_supxlabel()]
    assert caption == ["out[1, 2] = 1·1 + 2·0 + 3·(-1) + 5·2 + 6·0 + 7·(-2) + 9·1 + 10·0 + 11·(-1) = -8"]
    assert y[1, 2] == -8


def test_draw_into_a_subplot_replaces_it():
    fig, axes = plt.subplots(2, 1, figsize=(8, 6))
    assert draw_conv2d(5, 3, ax=axes[1]) is fig
    assert len(fig.axes) == 1 + 3
    assert fig.axes[1].get_title().startswith("input")


def test_animation_has_one_frame_per_output_position_and_embeds():
    anim = animate_conv2d(
        4, 3, padding=1, input_values=np.arange(16).reshape(4, 4), kernel_values=np.ones((3, 3)), interval=200
    )
    assert isinstance(anim, FuncAnimation)
    assert len(list(anim.new_frame_seq())) == 4 * 4
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == 16
    assert len(html) < 2**20  # small enough to commit in a notebook


def test_animation_fills_the_output_in_row_major_order():
    anim = animate_conv2d(5, 3, stride=2)
    fig = anim._fig
    anim._func(1)  # second frame: output (0, 1)
    output_ax = fig.axes[2]
    shown = [t.get_text() for t in output_ax.texts if t.get_visible()]
    assert shown == ["0,0", "0,1"]
    cells = window_cells((0, 1), 3, stride=2)
    assert sorted((p.get_y(), p.get_x()) for p in _highlighted(fig)) == sorted(cells)
    anim.to_jshtml()  # render, so the animation is not deleted unrendered


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(input_size=5, kernel_size=3, stride=0), "stride"),
        (dict(input_size=5, kernel_size=3, dilation=0), "dilation"),
        (dict(input_size=5, kernel_size=3, padding=-1), "padding"),
        (dict(input_size=0, kernel_size=3), "input_size"),
        (dict(input_size=5, kernel_size=(3, 0)), "kernel_size"),
        (dict(input_size=3, kernel_size=5), "kernel"),
        (dict(input_size=5, kernel_size=3, dilation=3), "kernel"),
        (dict(input_size=5, kernel_size=3, stride=2, padding="same"), "same"),
        (
            dict(input_size=5, kernel_size=3, input_values=np.ones((4, 5)), kernel_values=np.ones((3, 3))),
            "input_values",
        ),
        (
            dict(input_size=5, kernel_size=3, input_values=np.ones((5, 5)), kernel_values=np.ones((2, 3))),
            "kernel_values",
        ),
        (dict(input_size=5, kernel_size=3, input_values=np.ones((5, 5))), "kernel_values"),
    ],
)
@pytest.mark.parametrize("function", [draw_conv2d, animate_conv2d])
def test_bad_arguments_name_the_parameter(function, kwargs, name):
    with pytest.raises(ValueError, match=name):
        function(**kwargs)
    assert not plt.get_fignums()  # validation runs before any figure is made


@pytest.mark.parametrize("position", [(3, 0), (0, 3), (-1, 0)])
def test_draw_rejects_an_output_position_outside_the_output(position):
    with pytest.raises(ValueError, match="output_position"):
        draw_conv2d(5, 3, output_position=position)


def test_animation_html_ids_count_the_players_and_digest_the_frames():
    """No random uuid: a re-executed notebook keeps its players' HTML, and two players on one page
    still get different ids."""
    import re

    from conv_tutorial.viz import animation_html

    first, second = animation_html(animate_conv2d(3, 2), alt="a"), animation_html(animate_conv2d(3, 2), alt="a")
    other = animation_html(animate_conv2d(4, 2), alt="a")
    ids = [set(re.findall(r"_anim_img([0-9a-f]{32})", html)) for html in (first, second, other)]
    assert all(len(found) == 1 for found in ids)
    (a,), (b,), (c,) = ids
    assert a != b and int(b[:4], 16) == int(a[:4], 16) + 1  # the count of players so far
    assert a[4:] == b[4:] != c[4:]  # the digest of the frames
    assert first.replace(a, "") == second.replace(b, "")


def test_animation_html_labels_the_frames_and_the_slider():
    from conv_tutorial.viz import animate_conv2d, animation_html

    html = animation_html(animate_conv2d(3, 2), alt='A 2x2 kernel "sliding" over a 3x3 input')
    assert 'alt="A 2x2 kernel &quot;sliding&quot; over a 3x3 input"' in html
    assert 'type="range" aria-label="frame"' in html
    anim = animate_conv2d(3, 2)
    with pytest.raises(TypeError, match="alt"):
        animation_html(anim, alt="  ")
    assert 'alt="refused first"' in animation_html(anim, alt="refused first")  # refused before any work
