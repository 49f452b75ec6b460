"""Animations as self-contained HTML: matplotlib's JavaScript player without its web font.

``FuncAnimation.to_jshtml()`` draws the player's buttons with Font Awesome icons loaded from a
CDN. Offline, in a sandboxed notebook, or if that CDN goes away, the buttons are empty and the
page logs a failed request. :func:`animation_html` gives the same player with plain Unicode
symbols on the buttons and no external request, its frames in 256 colours (a third of the bytes),
and a layout that fits a phone's screen: the frame shrinks to the width there is, the slider too,
and the buttons wrap.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import re
from html import escape

from PIL import Image

from .figures import _palette

__all__ = ["animation_html"]

# Font Awesome 4 classes of matplotlib's player, and the symbol that replaces each icon: characters
# that common text fonts (DejaVu Sans, Arial, ...) have, so no button shows an empty box.
_ICONS = {
    "fa fa-minus": "−",
    "fa fa-fast-backward": "⇤",
    "fa fa-step-backward": "‹",
    "fa fa-play fa-flip-horizontal": "◀",
    "fa fa-pause": "‖",
    "fa fa-play": "▶",
    "fa fa-step-forward": "›",
    "fa fa-fast-forward": "⇥",
    "fa fa-plus": "+",
}
_STYLESHEET = re.compile(r"<link[^>]*font-awesome[^>]*>", re.S)
# matplotlib names a player's elements after a random uuid; a re-executed notebook would then
# differ in every line of the player even when its frames do not.
_PLAYER_ID = re.compile(r"_anim_img([0-9a-f]{32})")
_PLAYERS = itertools.count()
# One frame of the player: a PNG in base64, its lines ended by a backslash (a JavaScript string).
_FRAME = re.compile(r'"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)"')
# matplotlib's player has a slider of fixed width (374px) and a row of nine buttons: on a phone's
# screen (about 360px for the text) the frame, slider and buttons shrink or wrap instead.
_FIT_THE_SCREEN = """<style>
.animation { max-width: 100%; }
.animation img { max-width: 100%; height: auto; }
.animation input[type=range].anim-slider { max-width: 100%; }
.animation .anim-buttons { display: flex; flex-wrap: wrap; justify-content: center; gap: 2px; }
</style>
"""


def animation_html(animation, *, alt: str, **to_jshtml_kwargs) -> str:
    """The HTML of ``animation.to_jshtml()``, with no web font and no external request.

    Parameters
    ----------
    animation : matplotlib.animation.Animation
    alt : str
        What the animation shows, for readers who cannot see it: the frame image's alt text (the
        slider is labelled "frame").
    **to_jshtml_kwargs
        Passed to ``to_jshtml`` (``fps``, ``embed_frames``, ``default_mode``).

    Returns
    -------
    str
        Display it in a notebook with ``IPython.display.HTML``. The player's element ids are
        made of a count of the players made so far and a digest of the frames, not a random
        uuid, so that a re-executed notebook keeps its output.

    Examples
    --------
    >>> from conv_tutorial.viz import animate_conv2d
    >>> html = animation_html(animate_conv2d(3, 2), alt="A 2x2 kernel sliding over a 3x3 input")
    >>> "font-awesome" in html, "▶" in html, 'alt="A 2x2 kernel sliding over a 3x3 input"' in html
    (False, True, True)
    """
    if not isinstance(alt, str) or not alt.strip():
        raise TypeError(f"animation_html: alt must be a non-empty str saying what the animation shows, got {alt!r}")
    html = _STYLESHEET.sub("", animation.to_jshtml(**to_jshtml_kwargs))
    html = _FIT_THE_SCREEN + _FRAME.sub(_frame_in_palette, html)
    # matplotlib writes the frame image without alt and the slider without a label.
    html = re.sub(r'<img id="(_anim_img[0-9a-f]+)"', lambda m: f'<img id="{m.group(1)}" alt="{escape(alt)}"', html)
    html = re.sub(
        r'<input id="(_anim_slider[0-9a-f]+)" type="range"',
        lambda m: f'<input id="{m.group(1)}" type="range" aria-label="frame"',
        html,
    )
    for css_class, symbol in _ICONS.items():
        html = html.replace(f'<i class="{css_class}"></i>', f'<span aria-hidden="true">{symbol}</span>')
    if '<i class="fa' in html:
        raise RuntimeError("matplotlib's animation player has an icon animation_html does not know")
    random_id = _PLAYER_ID.search(html)
    if random_id:  # the same frames, shown in the same order, get the same id on every run
        frames = hashlib.sha256(html.replace(random_id.group(1), "").encode()).hexdigest()
        html = html.replace(random_id.group(1), f"{next(_PLAYERS):04x}{frames[:28]}")
    return html


def _frame_in_palette(match: re.Match) -> str:
    """One frame of the player, re-encoded in an adaptive palette of 256 colours."""
    image = Image.open(io.BytesIO(base64.b64decode(match.group(1).replace("\\\n", ""))))
    png = io.BytesIO()
    _palette(image).save(png, format="png", optimize=True)
    return '"data:image/png;base64,' + base64.b64encode(png.getvalue()).decode("ascii") + '"'
