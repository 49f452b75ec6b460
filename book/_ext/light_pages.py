"""Sphinx extension: chapter pages a phone loads quickly.

Three things made every page weigh several megabytes before its first figure:

- MathJax (1.2 MB of JavaScript, and its fonts) typeset the formulas in the reader's browser. The
  ``mathml`` math renderer writes them as MathML at build time instead (``latex2mathml``), which
  every current browser lays out itself: no script, no font, and a search result's snippet shows
  the formula's symbols rather than its TeX source.
- Font Awesome's JavaScript (1.5 MB) turned the theme's icons into inline SVG. The theme's
  stylesheet already draws them from Font Awesome's web fonts; ``book/_templates/layout.html``
  drops the script, and this extension cuts the fonts down to the icons the built pages use
  (about 280 kB to a few kB).
- The search index and Sphinx's search code, which the theme loads on every page for a search
  as you type that the book does not turn on: the same template loads them on the search page only.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

_WEBFONTS = Path("_static") / "vendor" / "fontawesome" / "webfonts"
_STYLESHEETS = ["_static/styles/pydata-sphinx-theme.css", "_static/styles/sphinx-book-theme.css"]
_SCRIPTS = ["_static/scripts/pydata-sphinx-theme.js", "_static/scripts/sphinx-book-theme.js"]
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_ESCAPED = re.compile(r"\\(f[0-9a-f]{3}|e[0-9a-f]{3})", re.IGNORECASE)
_ICON_SELECTOR = re.compile(r"^\.fa-([a-z0-9-]+):{1,2}before$")
_ICON_CLASS = re.compile(r"\bfa-([a-z0-9-]+)")


def _mathml(latex: str, display: str) -> str:
    try:
        return convert(latex.strip(), display=display)
    except Exception as error:  # latex2mathml raises its own exception types for unknown commands
        logger.warning(f"math could not be written as MathML: {latex!r}: {error}", type="light_pages")
        return f"<code>{latex}</code>"


def visit_math(self, node: nodes.math) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_mathml(node.astext(), "inline") + "</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node: nodes.math_block) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    self.body.append(_mathml(node.astext(), "block"))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def _icon_codepoints(css: str) -> tuple[dict[str, set[str]], set[str]]:
    """Font Awesome's code points in a stylesheet: by icon class, and those other rules always use."""
    by_icon: dict[str, set[str]] = {}
    always: set[str] = set()
    for selectors, body in _RULE.findall(css):
        codes = {chr(int(h, 16)) for h in _ESCAPED.findall(body)}
        codes |= {c for c in body if "\ue000" <= c <= "\uf8ff"}
        if not codes:
            continue
        icons = [_ICON_SELECTOR.match(s.strip()) for s in selectors.split(",")]
        if all(icons):
            for icon in icons:
                by_icon.setdefault(icon.group(1), set()).update(codes)
        else:  # admonition and link icons of the theme, drawn from CSS variables
            always |= codes
    return by_icon, always


def subset_icon_fonts(app, exception) -> None:
    """Cut Font Awesome's web fonts in the built site down to the icons its pages use."""
    if exception is not None or app.builder.format != "html":
        return
    from fontTools import subset
    from fontTools.ttLib import TTFont

    out = Path(app.outdir)
    fonts = sorted((out / _WEBFONTS).glob("*.woff2"))
    if not fonts:
        return
    by_icon, keep = {}, set()
    for stylesheet in _STYLESHEETS:
        path = out / stylesheet
        if path.exists():
            icons, always = _icon_codepoints(path.read_text(encoding="utf-8"))
            for name, codes in icons.items():
                by_icon.setdefault(name, set()).update(codes)
            keep |= always
    used = set()
    for page in [*out.rglob("*.html"), *(out / s for s in _SCRIPTS if (out / s).exists())]:
        used |= set(_ICON_CLASS.findall(page.read_text(encoding="utf-8", errors="replace")))
    for name in used:
        keep |= by_icon.get(name, set())
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    for path in fonts:
        font = TTFont(path)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(c) for c in keep])
        subsetter.subset(font)
        before = path.stat().st_size
        font.flavor = "woff2"
        font.save(path)
        logger.info(f"light_pages: {path.name} cut from {before} to {path.stat().st_size} bytes")


def setup(app):
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    app.connect("build-finished", subset_icon_fonts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
