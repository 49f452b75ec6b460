"""The built book, read the way a reader reads it: in a real browser.

Serves ``_build/html`` on localhost and opens every page in headless Chromium (Debian's
``chromium``, driven by Playwright). At a desktop's size (1366×900) each page must load without
console errors or failed requests, show every image at 0.8 of its size or more, have every
formula written as MathML, and give every animation its controls; a chapter page must weigh less
than 1.5 MB with its figures (the bytes a static file server sends, uncompressed). The search
page must find "depthwise" and show no TeX in its snippets; the launch and download buttons must
point at the repository named in ``_config.yml``, and the introduction's downloads (the notebooks'
zip, and the PDF when it has been printed, always under ``CI=true``) must be there. On a phone's
screen (390×844) no page may be wider than the screen, nor any animation's player, and every
image of the content must have alt text that says what it shows. Screenshots of a few pages are
saved under ``artifacts/screenshots``.

Run after ``jupyter-book build`` (``make test`` does both). Without Chromium the tests skip with
a loud message, and fail when ``CI=true``.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags a sandboxed machine without a network needs (no background connections, no GPU).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_PAGES = {
    "book/intro.html",
    "book/01_standard_convolution.html",
    "book/02_convolution_as_matmul.html",
    "book/api.html",
}


def _missing_chromium_message() -> str:
    return (
        f"\n{'!' * 78}\n!! Chromium not found at {CHROMIUM}: the browser test of the book did NOT run.\n"
        f"!! Install it with `apt-get install chromium` (as .ci/run does).\n{'!' * 78}"
    )


if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        pytest.fail(_missing_chromium_message(), pytrace=False)
    pytest.skip(_missing_chromium_message(), allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

PAGES = sorted(str(p.relative_to(HTML)) for p in (HTML / "book").glob("*.html")) if HTML.exists() else []
# The pages Sphinx makes besides the book's own: they must fit a phone too.
EXTRA_PAGES = [p for p in ("genindex.html", "py-modindex.html", "search.html") if (HTML / p).exists()]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
CHAPTERS = [p for p in PAGES if Path(p).name[:2].isdigit()]
# What a chapter page may weigh with everything it loads (HTML, styles, scripts, fonts, figures).
PAGE_BUDGET = 1_500_000
# A figure shown smaller than this share of its size (its width attribute, or its pixels without
# one) has labels too small to read.
MIN_FIGURE_SCALE = 0.8
# TeX a search snippet would show if formulas were left as TeX source in the page.
TEX = re.compile(r"\\(frac|left|right|text|times|cdot|lfloor|rfloor|sum|operatorname|mathrm)\b|\$\$")
# An alt text that is only a file name or a hash (myst-nb names output images by their SHA-256).
MEANINGLESS_ALT = re.compile(r"^([0-9a-f]{16,}|\S+\.(png|jpe?g|gif|svg|webp))$", re.IGNORECASE)


def _repository():
    """``(owner/name, branch)`` of the repository the book's buttons point at."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return repository["url"].removeprefix("https://github.com/"), repository["branch"]


@pytest.fixture(scope="module")
def base_url():
    assert HTML.exists(), f"{HTML} does not exist: build the book first (make book)"
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: page.problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"HTTP {r.status}: {r.url}"))
    yield page
    context.close()


@pytest.fixture(scope="module")
def phone(browser, base_url):
    """One page in a phone-sized viewport, reused by every phone test (one context keeps them fast)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def test_the_book_has_its_pages():
    assert {
        "book/intro.html",
        "book/01_standard_convolution.html",
        "book/api.html",
        "book/glossary.html",
        "book/bibliography.html",
    } <= set(PAGES)


@pytest.mark.parametrize("path", PAGES)
def test_page_works_in_a_browser(page, base_url, path):
    page.goto(f"{base_url}/{path}", wait_until="load")
    # Images: every <img> finished loading and has pixels.
    broken = page.evaluate("""Array.from(document.images)
        .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.getAttribute('src'))""")
    assert broken == [], f"{path}: images that did not load: {broken}"
    # Math: every formula Sphinx emitted is MathML (written at build time), none left as TeX.
    not_mathml = page.evaluate("""Array.from(document.querySelectorAll('span.math, div.math'))
        .filter(el => !el.querySelector('math')).map(el => el.textContent.slice(0, 60))""")
    assert not_mathml == [], f"{path}: formulas not written as MathML: {not_mathml[:5]}"
    assert page.locator("span.math merror, div.math merror").count() == 0, f"{path}: a formula has an error"
    # Figures: none shown below MIN_FIGURE_SCALE of its size: the width it asks for (a sharp PNG
    # asks for half its pixels, in its style), else its pixels.
    shrunk = page.evaluate(
        f"""Array.from(document.querySelectorAll('.bd-article img'))
        .map(img => [img.getAttribute('src').slice(0, 60), img.getBoundingClientRect().width,
                     parseFloat(img.style.width) || Number(img.getAttribute('width')) || img.naturalWidth])
        .filter(([src, shown, size]) => shown < {MIN_FIGURE_SCALE} * size)"""
    )
    assert shrunk == [], f"{path}: figures shown below {MIN_FIGURE_SCALE} of their size (src, shown, size): {shrunk}"
    # Animations (matplotlib's to_jshtml): each has its slider and its play buttons.
    for animation in page.locator("div.animation").all():
        assert animation.locator("input[type=range]").count() == 1, f"{path}: an animation has no slider"
        assert animation.locator("input[type=range][aria-label]").count() == 1, (
            f"{path}: an animation's slider has no label"
        )
        assert animation.locator("button").count() >= 5, f"{path}: an animation lacks its buttons"
    if path in SCREENSHOT_PAGES:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / path.replace("/", "_").replace(".html", ".png")), full_page=False)
    assert page.problems == [], f"{path}: {page.problems}"


def test_search_finds_depthwise(page, base_url):
    page.goto(f"{base_url}/search.html?q=depthwise", wait_until="load")
    results = page.locator("#search-results li, ul.search li")
    results.first.wait_for(timeout=20000)
    assert "depthwise" in " ".join(results.all_inner_texts()).lower()
    assert page.problems == [], page.problems


def test_search_snippets_show_no_tex(page, base_url):
    # "output size" is stated by a formula on many pages: their snippets hold formulas.
    page.goto(f"{base_url}/search.html?q=output+size+padding", wait_until="load")
    page.locator("#search-results p.search-summary, ul.search li p.context").first.wait_for(timeout=20000)
    page.wait_for_function(
        "!document.querySelector('#search-progress') || "
        "/found|matching/i.test(document.querySelector('#search-progress').textContent)",
        timeout=30000,
    )
    snippets = page.locator("ul.search li p.context").all_inner_texts()
    assert snippets, "the search showed no snippets"
    tex = [s[:120] for s in snippets if TEX.search(s)]
    assert tex == [], f"search snippets show TeX: {tex}"


@pytest.mark.parametrize("path", CHAPTERS)
def test_chapter_page_is_light(browser, base_url, path):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sizes = {}
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if r.ok else None)
    page.goto(f"{base_url}/{path}", wait_until="load")
    page.wait_for_load_state("networkidle")
    context.close()
    total = sum(sizes.values())
    heaviest = sorted(sizes.items(), key=lambda item: -item[1])[:5]
    assert total < PAGE_BUDGET, (
        f"{path} loads {total / 1e6:.2f} MB, over {PAGE_BUDGET / 1e6} MB; heaviest: "
        + ", ".join(f"{url.rsplit('/', 1)[-1]} {size / 1e3:.0f} kB" for url, size in heaviest)
    )


def test_the_introduction_offers_the_book_to_take_away(page, base_url):
    page.goto(f"{base_url}/book/intro.html", wait_until="load")
    links = page.evaluate("Array.from(document.querySelectorAll('.bd-article a[download]')).map(a => a.href)")
    pdf = [h for h in links if h.endswith(".pdf")]
    archive = [h for h in links if h.endswith(".zip")]
    assert len(pdf) == 1 and len(archive) == 1, f"the introduction's download links: {links}"
    response = page.request.get(archive[0])
    assert response.ok, f"{archive[0]}: HTTP {response.status} (make book builds it)"
    names = zipfile.ZipFile(io.BytesIO(response.body())).namelist()
    chapters = sorted(Path(p).with_suffix(".ipynb").name for p in CHAPTERS)
    assert sorted(Path(n).name for n in names) == chapters, names
    pdf_file = HTML / pdf[0].split("/", 3)[-1]
    if not pdf_file.exists() and os.environ.get("CI") != "true":
        pytest.skip(f"{pdf_file.name} has not been printed (make pdf); under CI=true it must be there")
    response = page.request.get(pdf[0])
    assert response.ok and response.body().startswith(b"%PDF"), f"{pdf[0]}: HTTP {response.status}"


@pytest.mark.parametrize("path", CHAPTERS)
def test_launch_and_download_links_point_at_the_notebook(page, base_url, path):
    repo, branch = _repository()
    notebook = "book/" + Path(path).with_suffix(".ipynb").name
    page.goto(f"{base_url}/{path}", wait_until="load")
    hrefs = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    binder = [h for h in hrefs if "mybinder.org" in h]
    colab = [h for h in hrefs if "colab.research.google.com" in h]
    assert binder == [f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/{notebook}"], binder
    assert colab == [f"https://colab.research.google.com/github/{repo}/blob/{branch}/{notebook}"], colab
    downloads = [h for h in hrefs if h.endswith(".ipynb") and "/_sources/" in h]
    assert downloads, f"{path}: no download link for the notebook"
    response = page.request.get(downloads[0])
    assert response.ok and response.json()["cells"], f"{path}: the downloaded notebook is not a notebook"


@pytest.mark.parametrize("path", PAGES + EXTRA_PAGES)
def test_page_fits_a_phone_screen(phone, base_url, path):
    phone.goto(f"{base_url}/{path}", wait_until="load")
    width, screen, wide = phone.evaluate("""() => {
        const screen = window.innerWidth;
        // What sticks out: elements past the right edge that no scrolling box of their own contains.
        const contained = el => { for (let p = el.parentElement; p; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== 'visible') return p.getBoundingClientRect().right <= screen + 1; }
            return false; };
        const wide = Array.from(document.querySelectorAll('.bd-main *'))
            .filter(el => el.getBoundingClientRect().right > screen + 1 && !contained(el))
            .slice(0, 5).map(el => `${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]}: `
                + (el.textContent || '').trim().slice(0, 60));
        return [document.documentElement.scrollWidth, screen, wide]; }""")
    assert width <= screen + 1, f"{path} is {width}px wide on a {screen}px screen; sticking out: {wide}"
    # An animation's player sits in an output box that scrolls, so check it on its own: its frame,
    # slider and buttons all fit the screen.
    players = phone.evaluate("""Array.from(document.querySelectorAll('div.animation'))
        .map(a => Math.max(...[a, ...a.querySelectorAll('img, input, button')]
                           .map(el => el.getBoundingClientRect().right)))""")
    assert all(right <= phone.viewport_size["width"] + 1 for right in players), (
        f"{path}: an animation's player is wider than the screen (right edges {players})"
    )


@pytest.mark.parametrize("path", PAGES)
def test_every_image_says_what_it_shows(phone, base_url, path):
    phone.goto(f"{base_url}/{path}", wait_until="domcontentloaded")
    # An animation's frames are one <img> whose src the player swaps (conv_tutorial.viz.animation_html
    # gives it the alt text matplotlib leaves out); its src is a data URL, so only its alt is judged.
    images = phone.evaluate("""Array.from(document.querySelectorAll('.bd-article img'))
        .map(img => [(img.getAttribute('src') || '').slice(0, 80), img.getAttribute('alt')])""")
    bad = [(src, alt) for src, alt in images if not (alt or "").strip() or MEANINGLESS_ALT.match(alt.strip())]
    assert bad == [], f"{path}: images without a real alt text (src, alt): {bad}"
