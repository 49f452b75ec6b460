"""The book to take away: its notebooks as one zip, and the whole book as one PDF (`make downloads`).

Both land in ``_build/html/downloads/``, where the built site serves them and the introduction
links to them:

- ``zip``: ``conv-tutorial-notebooks.zip``, every chapter notebook with its outputs, in a folder
  of that name (fixed timestamps, so an unchanged book gives the same file).
- ``pdf``: ``conv-tutorial.pdf``, every page of the built book in the order of ``_toc.yml``,
  printed by headless Chromium (the pages' print style: no sidebars, code wrapped) and joined
  with pypdf, one bookmark per page. Links between pages of the site are dropped from the PDF
  (they would point at the local server that printed it); links to other sites stay.

Usage: ``python tools/build_downloads.py zip`` or ``... zip pdf`` (after ``jupyter-book build``).
"""

from __future__ import annotations

import functools
import io
import shutil
import sys
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
DOWNLOADS = HTML / "downloads"
ZIP_NAME = "conv-tutorial-notebooks.zip"
PDF_NAME = "conv-tutorial.pdf"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def toc_pages() -> list[str]:
    """The book's pages in reading order: ``_toc.yml``'s root, then its chapters, as paths of files."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def build_zip() -> Path:
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    target = DOWNLOADS / ZIP_NAME
    folder = ZIP_NAME.removesuffix(".zip")
    notebooks = [ROOT / f"{page}.ipynb" for page in toc_pages() if (ROOT / f"{page}.ipynb").exists()]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for notebook in notebooks:
            info = zipfile.ZipInfo(f"{folder}/{notebook.name}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, notebook.read_bytes())
    print(f"{target.relative_to(ROOT)}: {len(notebooks)} notebooks, {target.stat().st_size / 1e6:.1f} MB")
    return target


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def build_pdf() -> Path:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, NameObject

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM}: the PDF is printed by it (apt-get install chromium)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    writer = PdfWriter()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            for path in toc_pages():
                page.goto(f"{base}{path}.html", wait_until="load")
                title = page.title().split(" — ")[0].strip()
                pdf = page.pdf(
                    format="A4",
                    print_background=True,
                    margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"},
                )
                first = len(writer.pages)
                for sheet in PdfReader(io.BytesIO(pdf)).pages:
                    added = writer.add_page(sheet)
                    _drop_local_links(added, base, ArrayObject, NameObject)
                writer.add_outline_item(title=title, page_number=first)
                print(f"  {path}: {len(writer.pages) - first} pages", flush=True)
            browser.close()
    finally:
        server.shutdown()
    writer.add_metadata({"/Title": "Convolutions in Deep Learning: a Tested Field Guide"})
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    target = DOWNLOADS / PDF_NAME
    with target.open("wb") as out:
        writer.write(out)
    print(f"{target.relative_to(ROOT)}: {len(writer.pages)} pages, {target.stat().st_size / 1e6:.1f} MB")
    return target


def _drop_local_links(page, base, ArrayObject, NameObject) -> None:
    """Remove the link annotations that point at the server the pages were printed from."""
    annotations = page.get("/Annots")
    if annotations is None:
        return
    kept = ArrayObject()
    for reference in annotations:
        action = reference.get_object().get("/A")
        uri = action.get_object().get("/URI") if action is not None else None
        if uri is None or not str(uri).startswith(base):
            kept.append(reference)
    page[NameObject("/Annots")] = kept


def main(what: list[str]) -> int:
    if not what or set(what) - {"zip", "pdf"}:
        print(__doc__)
        return 2
    if not (HTML / "index.html").exists():
        raise SystemExit(f"{HTML} has no built book: run `make book` first")
    if "zip" in what:
        build_zip()
    if "pdf" in what:
        build_pdf()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
