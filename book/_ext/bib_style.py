"""Sphinx extension: the bibliography's style, pybtex's alpha style with each link printed once.

An arXiv-only entry carries both ``url`` (its arXiv abstract page) and ``eprint`` (its arXiv
identifier), and alpha prints both: "URL: https://arxiv.org/abs/1603.07285. arXiv:1603.07285."
When the url is the eprint's abstract page it is left out, and the entry ends with one link.
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.template import optional, sentence

ARXIV_ABS = "https://arxiv.org/abs/"


class Style(AlphaStyle):
    def format_web_refs(self, e):
        url, eprint = e.fields.get("url", ""), e.fields.get("eprint", "")
        if eprint and url.rstrip("/") == ARXIV_ABS + eprint:
            return sentence[optional[self.format_eprint(e)], optional[self.format_doi(e)]]
        return super().format_web_refs(e)


def setup(app):
    register_plugin("pybtex.style.formatting", "conv_tutorial", Style)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
