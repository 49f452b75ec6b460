"""Figures for a page of text: the panels fit the text column, the PNGs are sharp and light, and
every figure the package draws by itself is no wider than the column."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; set before pyplot is imported

import base64
import io
import re

import numpy as np
import pytest
from matplotlib import pyplot as plt
from PIL import Image

import conv_tutorial.numpy as cnp
from conv_tutorial import viz
from conv_tutorial.viz import TEXT_WIDTH, panels, sharp_png


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize(
    "n, ncols, rows",
    [(1, None, [0]), (4, None, [0, 0, 1, 1]), (5, 3, [0, 0, 0, 1, 1]), (2, 1, [0, 1]), (3, 7, [0, 0, 0])],
)
def test_panels_wrap_into_rows_in_reading_order(n, ncols, rows):
    fig, axes = panels(n, ncols=ncols, panel_size=(3.4, 2.5))
    assert axes.shape == (n,)
    assert [ax.get_subplotspec().rowspan.start for ax in axes] == rows
    assert len(fig.axes) == n  # the empty slots of the last row hold no axes
    columns = max(rows.count(r) for r in set(rows))
    assert fig.get_size_inches() == pytest.approx((3.4 * columns, 2.5 * (rows[-1] + 1)))


@pytest.mark.parametrize("n, width", [(2, 3.6), (4, 3.4), (5, 2.3), (9, 1.0), (3, 8.0)])
def test_panels_fit_the_text_column_by_default(n, width):
    fig, _ = panels(n, panel_size=(width, 2.0))
    # As many columns as fit; a single panel wider than the column keeps its own width.
    assert fig.get_figwidth() <= max(TEXT_WIDTH, width) + 1e-9
    assert fig.get_figwidth() + width > TEXT_WIDTH or fig.get_figwidth() == pytest.approx(n * width)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "n must be positive"),
        ({"n": 2, "ncols": 0}, "ncols must be positive"),
        ({"n": 2, "panel_size": (3, -1)}, "panel_size must be two positive"),
    ],
)
def test_panels_reject_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        panels(**kwargs)


def _graph_figure():
    """Many anti-aliased lines in several colours: the kind of figure a full-colour PNG bloats."""
    c, g = 12, 3
    w = np.random.default_rng(0).standard_normal((c, c // g, 1, 1))
    layer = ("1x1, g=3", lambda x: cnp.conv2d(x, w, groups=g))
    shuffle = ("shuffle", lambda x: cnp.channel_shuffle(x, g))
    return viz.draw_channel_graph([layer, shuffle, layer], c, input_groups=g)


def test_sharp_png_has_twice_the_pixels_of_its_shown_size():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    png, (width, height) = sharp_png(fig)
    image = Image.open(io.BytesIO(png))
    assert image.size == (2 * width, 2 * height)
    # Cropped to what it draws, as notebooks show figures: never larger than the figure.
    assert 0 < width <= 3 * fig.dpi and 0 < height <= 2 * fig.dpi
    png3, size3 = sharp_png(fig, scale=3)
    assert Image.open(io.BytesIO(png3)).size == (3 * size3[0], 3 * size3[1])


def test_sharp_png_keeps_a_figure_of_few_colours_exactly():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.arange(16).reshape(4, 4) % 3, cmap="viridis", interpolation="nearest")
    ax.axis("off")
    png, _ = sharp_png(fig)
    shown = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=2 * fig.dpi, bbox_inches="tight")
    reference = np.asarray(Image.open(full).convert("RGB"))
    assert shown.shape == reference.shape
    assert len(np.unique(reference.reshape(-1, 3), axis=0)) <= 256
    np.testing.assert_array_equal(shown, reference)


def test_sharp_png_is_lighter_than_a_full_colour_png_of_half_the_pixels():
    fig = _graph_figure()
    png, _ = sharp_png(fig)
    assert Image.open(io.BytesIO(png)).mode == "P"
    plain = io.BytesIO()
    fig.savefig(plain, format="png", bbox_inches="tight")  # what notebooks stored before: 1x, full colour
    assert len(png) < len(plain.getvalue())


def test_sharp_png_gives_a_heavy_photograph_fewer_pixels():
    fig, ax = plt.subplots(figsize=(3, 3))
    # Noise finer than the pixels: no palette shrinks it, fewer pixels do.
    ax.imshow(np.random.default_rng(0).random((700, 700)), cmap="RdBu_r")
    ax.axis("off")
    sharp, size = sharp_png(fig)
    light, light_size = sharp_png(fig, max_bytes=len(sharp) - 1)
    assert light_size == size  # shown at the same size on the page ...
    assert Image.open(io.BytesIO(light)).size == size  # ... from one pixel per CSS pixel
    assert len(light) < len(sharp)
    # A figure under the limit keeps its scale.
    assert sharp_png(fig, max_bytes=len(sharp))[0] == sharp


@pytest.mark.parametrize(
    "kwargs, message", [({"scale": 0}, "scale must be positive"), ({"max_bytes": -1}, "max_bytes must be positive")]
)
def test_sharp_png_rejects_bad_arguments(kwargs, message):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match=message):
        sharp_png(fig, **kwargs)


def test_the_notebook_extension_shows_figures_as_sharp_pngs():
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactiveshell.InteractiveShell.instance()
    viz.load_ipython_extension(shell)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [1, 0])
    data, metadata = shell.display_formatter.format(fig)
    assert set(data) == {"image/png", "text/plain"}  # one image per figure, not one per format
    image = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert image.mode == "P"
    assert (metadata["image/png"]["width"], metadata["image/png"]["height"]) == (image.width // 2, image.height // 2)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: viz.draw_conv2d(16, 3, padding=1),
        lambda: viz.draw_conv2d((6, 40), (3, 5), stride=(1, 2)),
        lambda: viz.draw_conv3d((8, 6, 6), 3, padding=1),
        lambda: viz.draw_conv_transpose2d(6, 4, stride=3),
        lambda: viz.draw_dilation_rates(3, [1, 2, 4, 8]),
        lambda: viz.draw_receptive_field([(3, 1, 1)] * 8),
        lambda: _graph_figure(),
    ],
    ids=["conv2d", "conv2d-wide", "conv3d", "transposed", "dilation-rates", "receptive-field", "channel-graph"],
)
def test_figures_of_the_package_fit_the_text_column(draw):
    fig = draw()
    fig = fig if hasattr(fig, "savefig") else fig.get_figure()
    assert fig.get_figwidth() <= TEXT_WIDTH + 0.2 + 1e-9


def test_animation_frames_are_in_a_palette_and_the_player_fits_a_phone():
    anim = viz.animate_conv2d(4, 3, padding=1)
    html = viz.animation_html(anim, alt="A 3x3 kernel sliding over a 4x4 input")
    frames = re.findall(r'"data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(frames) == 16  # one per output value
    assert {Image.open(io.BytesIO(base64.b64decode(f))).mode for f in frames} == {"P"}
    # The frame and the slider shrink to the width there is, and the buttons wrap.
    assert ".animation img { max-width: 100%; height: auto; }" in html
    assert "anim-slider { max-width: 100%; }" in html
    assert "flex-wrap: wrap" in html
