"""Every number a chapter's prose states is computed in that chapter.

The numbers in each chapter's markdown must appear in what its cells print (or in the code that
sets them, for a layer's sizes): a number typed into the prose and computed nowhere would not be
checked by nbval, and could drift from the truth silently. Years, chapter and section numbers,
citations, link targets and arXiv ids are not claims and are left out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))

NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?!\w)")
# 6{,}912 and 6\,912 in LaTeX, and thin spaces, separate thousands as commas do.
THOUSANDS = re.compile(r"(\d)(?:\{,\}|\\,|[\u2009\u202f])(?=\d{3})")
NOT_CLAIMS = [
    re.compile(r"\{cite(?::\w+)?\}`[^`]*`"),  # citations
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"https?://\S+"),
    re.compile(
        r"\b(?:[Cc]hapters?|[Ss]ections?|§|Part|Appendix|Figure|Table)\s+\d+"
        r"(?:\s*(?:,|and|–|-|to)\s*\d+)*"
    ),
    re.compile(r"\b(?:1[89]\d\d|20[0-3]\d)\b"),  # years
    re.compile(r"\b\d{4}\.\d{4,5}\b"),  # arXiv ids
    re.compile(r"^#+ \d+(?:\.\d+)*", re.M),  # numbered headings
]


def numbers(text: str) -> set[str]:
    """The numbers in ``text``, thousands separators removed: ``'6,912 and 8.47'`` -> ``{'6912', '8.47'}``."""
    text = THOUSANDS.sub(r"\1,", text)
    return {m.group(1).replace(",", "") + (m.group(2) or "") for m in NUMBER.finditer(text)}


def claims(markdown: str) -> set[str]:
    for pattern in NOT_CLAIMS:
        markdown = pattern.sub(" ", markdown)
    return numbers(markdown)


def computed(notebook: dict) -> set[str]:
    """Numbers the code cells print (text, plain, markdown, HTML outputs) or set in their source."""
    parts = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        parts.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            for mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
                parts.append("".join(output.get("data", {}).get(mime, "")))
    return numbers("\n".join(parts))


def test_the_rule_reads_numbers_as_a_reader_does():
    assert numbers("589,824 vs 69{,}632, an 8.47× saving, 3\u2009072") == {"589824", "69632", "8.47", "3072"}
    assert claims("He et al. {cite}`he2016deep` (2016), Chapter 7, [see](07_x.ipynb): 108 weights") == {"108"}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_number_in_the_prose_is_computed(path):
    notebook = json.loads(path.read_text())
    known = computed(notebook)
    missing = [
        (i, n)
        for i, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "markdown"
        for n in sorted(claims("".join(cell["source"])) - known)
    ]
    assert not missing, f"numbers in the prose that no cell computes, as (cell, number): {missing}"
