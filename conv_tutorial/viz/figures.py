"""Figures sized for a page of text and sharp on every screen.

- ``TEXT_WIDTH`` -- the width, in inches (7.2), of the book's text column (at matplotlib's 100 dots
  per inch, one inch is 100 CSS pixels on the page): no figure of the package is wider, so none
  is shrunk on a desktop, and a phone shows it at about half size, labels still legible;
- :func:`panels` -- ``n`` axes in rows that fit that width, where ``plt.subplots(1, n)`` would
  make one row too wide for a phone;
- :func:`sharp_png` -- a figure as a PNG of twice its pixels, with 256 colours at most, and the
  size to show it at: sharp on a high-density screen, and lighter than a plain PNG of half the
  pixels (a photograph, which a palette does not shrink, gets fewer pixels rather than a heavy
  page);
- ``%load_ext conv_tutorial.viz`` (:func:`load_ipython_extension`) makes :func:`sharp_png` how a
  notebook shows every figure.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from matplotlib import pyplot as plt
from PIL import Image

from .._checks import _positive

__all__ = ["TEXT_WIDTH", "load_ipython_extension", "panels", "sharp_png"]

TEXT_WIDTH = 7.2
"""Width of the book's text column in inches: 720 CSS pixels at matplotlib's 100 dpi."""
MAX_BYTES = 300_000
"""The most a figure's PNG may weigh before :func:`sharp_png` gives it fewer pixels."""


def panels(n, *, ncols=None, panel_size=(3.4, 2.8), **subplots_kwargs):
    """``n`` axes in a grid of rows that fit the text column, as one flat array.

    Where ``plt.subplots(1, n)`` puts every panel in one row (too wide for a phone's screen once
    ``n`` exceeds two or three), ``panels`` wraps them into rows of ``ncols``; the last row may
    be shorter, and its empty slots hold no axes.

    Parameters
    ----------
    n : int
        Number of panels.
    ncols : int, optional
        Panels per row; by default as many as fit in ``TEXT_WIDTH``, 7.2 inches (at least one).
    panel_size : tuple of 2 floats
        ``(width, height)`` of one panel in inches.
    **subplots_kwargs
        Passed to ``plt.subplots`` (``layout`` defaults to ``"constrained"``).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : numpy.ndarray of matplotlib.axes.Axes, shape (n,)
        The panels in reading order, row by row: index, slice and zip them as the axes of
        ``plt.subplots(1, n)``.

    Examples
    --------
    >>> fig, axes = panels(5, panel_size=(2.4, 2.2))
    >>> axes.shape, [ax.get_subplotspec().rowspan.start for ax in axes]
    ((5,), [0, 0, 0, 1, 1])
    >>> float(fig.get_figwidth()) <= TEXT_WIDTH
    True
    """
    n = _positive(n, 1, "n")[0]
    width, height = panel_size
    if not (width > 0 and height > 0):
        raise ValueError(f"panel_size must be two positive sizes in inches, got {tuple(panel_size)}")
    if ncols is None:
        ncols = max(1, min(n, math.floor(TEXT_WIDTH / width + 1e-9)))
    ncols = min(_positive(ncols, 1, "ncols")[0], n)
    nrows = math.ceil(n / ncols)
    subplots_kwargs.setdefault("layout", "constrained")
    fig, grid = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **subplots_kwargs)
    axes = grid.ravel()
    for ax in axes[n:]:
        ax.remove()
    return fig, np.array(axes[:n], dtype=object)


def sharp_png(fig, *, scale=2, max_bytes=MAX_BYTES):
    """The PNG a page shows of ``fig``: ``scale`` times its pixels, in 256 colours at most.

    The figure is drawn at ``scale`` times its dpi and cropped to what it draws (as notebooks
    show figures); the page shows it at its size in CSS pixels (its size in inches times its
    dpi), so a high-density screen gets a pixel for each of its own. Diagrams have a few flat
    colours and the anti-aliased edges between them, which an adaptive palette of 256 colours
    keeps: the file is a fraction of a full-colour one. Photographs and smooth maps have too many
    colours for that: when the PNG would exceed ``max_bytes``, it is drawn at the next smaller
    scale, down to 1, and the lightest of them is returned if none fits.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    scale : int
        Pixels drawn per CSS pixel shown.
    max_bytes : int
        The most bytes the PNG may take while its scale can still be lowered.

    Returns
    -------
    png : bytes
    size : tuple of 2 ints
        ``(width, height)`` in CSS pixels to show the image at.

    Examples
    --------
    >>> fig, ax = plt.subplots(figsize=(3, 2))
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> png, (width, height) = sharp_png(fig)
    >>> image = Image.open(io.BytesIO(png))
    >>> image.mode, image.size == (2 * width, 2 * height)
    ('P', True)
    """
    scale = _positive(scale, 1, "scale")[0]
    max_bytes = _positive(max_bytes, 1, "max_bytes")[0]
    lightest = None
    for pixels in range(scale, 0, -1):
        png, size = _palette_png(fig, pixels)
        if len(png) <= max_bytes:
            return png, size
        if lightest is None or len(png) < len(lightest[0]):
            lightest = png, size
    return lightest


def _palette_png(fig, scale):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi * scale, bbox_inches="tight")
    image = _palette(Image.open(buffer))
    # Whole CSS pixels: pad the cropped image with white to a multiple of ``scale``.
    width, height = (-(-side // scale) * scale for side in image.size)
    if (width, height) != image.size:
        padded = Image.new("P", (width, height), _white_index(image))
        padded.putpalette(image.getpalette())
        padded.paste(image, (0, 0))
        image = padded
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return out.getvalue(), (image.width // scale, image.height // scale)


def _palette(image: Image.Image) -> Image.Image:
    """``image`` on white, in an adaptive palette of at most 256 colours (exact when it has fewer)."""
    image = image.convert("RGBA")
    flat = Image.new("RGBA", image.size, "white")
    flat.alpha_composite(image)
    return flat.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def _white_index(image: Image.Image) -> int:
    """The palette index of the colour nearest white in a palette image."""
    palette = np.array(image.getpalette()[:768]).reshape(-1, 3)
    return int(np.argmin(((palette - 255) ** 2).sum(axis=1)))


def _sharp_png_output(fig):
    """IPython's ``image/png`` formatter for figures: the data and the size to show it at."""
    if not fig.axes and not fig.texts and not fig.images:
        return None  # an empty figure shows nothing, as with matplotlib's own formatter
    png, (width, height) = sharp_png(fig)
    return base64.b64encode(png).decode("ascii"), {"width": width, "height": height}


def load_ipython_extension(ipython):
    """``%load_ext conv_tutorial.viz``: every figure a notebook shows is a :func:`sharp_png`.

    Replaces the ``image/png`` formatter of matplotlib figures (after the inline backend has set
    up its own, which importing pyplot does) and turns off the other figure formats, so each
    figure is stored once.
    """
    import matplotlib
    from matplotlib.figure import Figure

    if "inline" in matplotlib.get_backend():
        # Importing the inline backend sets up its formatters (matplotlib does it lazily, at the
        # first figure otherwise, which would put its own PNG formatter back over this one).
        import matplotlib_inline.backend_inline  # noqa: F401
    formatters = ipython.display_formatter.formatters
    for mime, formatter in formatters.items():
        if mime != "image/png":
            formatter.pop(Figure, None)
    formatters["image/png"].for_type(Figure, _sharp_png_output)
