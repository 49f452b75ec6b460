"""The explorer page, held to the package: its JavaScript must compute what conv_tutorial and torch compute.

``book/explorer.md`` loads ``book/_static/explorer/explorer.js``, which draws every convolution
type from a few hundred lines of arithmetic. This test serves the built book, opens the page in
headless Chromium and

- sweeps ``window.convExplorer.compute`` over more than 500 seeded settings of every type (edge
  values drawn often, invalid settings included) and compares, setting by setting, the output size
  with :mod:`conv_tutorial.shapes`, the parameters and MACs with :mod:`conv_tutorial.cost` (and the
  torch module's own parameter count), the input cells and kernel taps each output cell reads with
  the NumPy backend convolving one-hot inputs, the channels each output channel reads with
  :func:`conv_tutorial.viz.connectivity`, and the error with the one torch raises; it runs the
  PyTorch code the explorer prints, and evaluates the formula with the numbers filled in;
- drives the real controls (keyboard, clicks) for a handful of settings and checks what the page
  shows, including the cells it highlights;
- saves screenshots at a desktop's and a phone's size in ``artifacts/screenshots``.

Run after ``jupyter-book build`` (``make test`` does both). Without Chromium the browser tests skip
with a loud message, and fail when ``CI=true``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import shutil
import threading
import warnings
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import conv_tutorial.numpy as cnp
from conv_tutorial import cost, shapes
from conv_tutorial.viz import connectivity

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
STATIC = ROOT / "book" / "_static" / "explorer"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PAGE = "book/explorer.html"
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
DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}

TYPES = [
    "standard",
    "strided",
    "padded",
    "dilated",
    "transposed",
    "grouped",
    "depthwise",
    "depthwise-separable",
    "spatially-separable",
    "pointwise",
]
SPATIAL = ["input", "kernel", "stride", "padding", "dilation"]
# What each type lets the reader set: the rest it fixes.
CONTROLS = {
    **{
        t: SPATIAL + ["inChannels", "outChannels"]
        for t in ("standard", "strided", "padded", "dilated", "depthwise-separable", "spatially-separable")
    },
    "transposed": SPATIAL + ["outputPadding", "inChannels", "outChannels"],
    "grouped": SPATIAL + ["inChannels", "outChannels", "groups"],
    "depthwise": SPATIAL + ["inChannels", "multiplier"],
    "pointwise": ["input", "stride", "inChannels", "outChannels"],
}
SETTINGS_PER_TYPE = 520
# The errors a sweep of each type must meet at least once (the start of torch's message).
KERNEL_TOO_LARGE = "RuntimeError: Calculated padded input size per channel"
SAME_STRIDED = "ValueError: padding='same' is not supported for strided convolutions"
EXPECTED_ERRORS = {
    **{
        t: {KERNEL_TOO_LARGE, SAME_STRIDED}
        for t in ("standard", "strided", "padded", "dilated", "depthwise", "depthwise-separable", "spatially-separable")
    },
    "grouped": {
        KERNEL_TOO_LARGE,
        SAME_STRIDED,
        "ValueError: in_channels must be divisible by groups",
        "ValueError: out_channels must be divisible by groups",
    },
    "transposed": {
        "RuntimeError: output padding must be smaller than either stride or dilation",
        "RuntimeError: Given input size per channel",
        "TypeError: conv_transpose2d(): argument 'padding'",
    },
    "pointwise": set(),
}
# The fields of compute()'s answer the sweep compares (its geometry holds functions: not sent back).
FIELDS = """r => ({ok: r.ok, errorText: r.errorText, outputSize: r.outputSize, params: r.params, macs: r.macs,
    standard: r.standard && {params: r.standard.params, macs: r.standard.macs}, code: r.code,
    formula: r.formula && {expression: r.formula.expression, substituted: r.formula.substituted},
    channelMap: r.channelMap, reads: r.reads, settings: r.settings})"""


def _missing_chromium_message() -> str:
    return (
        f"\n{'!' * 78}\n!! Chromium not found at {CHROMIUM}: the browser test of the explorer did NOT run.\n"
        f"!! Install it with `apt-get install chromium` (as .ci/run does).\n{'!' * 78}"
    )


def test_the_explorer_ships_small_files():
    files = sorted(STATIC.iterdir())
    assert {f.name for f in files} == {"explorer.js", "explorer.css"}
    total = sum(f.stat().st_size for f in files)
    assert total < 60_000, f"the explorer's files weigh {total} bytes, over the 60 KB budget"
    text = "".join(f.read_text() for f in files)
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, (
        "the explorer must load nothing from the network"
    )


# --- The browser --------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(_missing_chromium_message(), pytrace=False)
        pytest.skip(_missing_chromium_message())
    assert (HTML / PAGE).exists(), f"{HTML / PAGE} does not exist: build the book first (make book)"
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(base_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser, base_url, viewport, **options):
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: page.problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(f"{base_url}/{PAGE}", wait_until="load")
    page.wait_for_selector(".conv-explorer .cx-cost")
    return context, page


@pytest.fixture(scope="module")
def desktop(browser, base_url):
    context, page = _open(browser, base_url, DESKTOP)
    yield page
    assert page.problems == [], page.problems
    context.close()


@pytest.fixture(scope="module")
def phone(browser, base_url):
    context, page = _open(browser, base_url, PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    yield page
    assert page.problems == [], page.problems
    context.close()


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # Thousands of tiny layers: threads only fight over the cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- The references: torch, conv_tutorial.shapes / cost, the NumPy backend ----------------------


def _complete(s):
    """The settings with the values the type fixes: the reference's own reading of each type."""
    full = {"groups": 1, "outputPadding": 0, "multiplier": 1, **s}
    if s["type"] == "pointwise":
        full.update(kernel=1, padding=0, dilation=1)
    if s["type"] == "depthwise":
        full["outChannels"] = s["inChannels"] * s["multiplier"]
    return full


def _torch_layer(s):
    """The torch module each type means, built from the settings alone."""
    t, ci, co, k, st, p, d, b = (
        s["type"],
        s["inChannels"],
        s["outChannels"],
        s["kernel"],
        s["stride"],
        s["padding"],
        s["dilation"],
        s["bias"],
    )
    if t == "transposed":
        return nn.ConvTranspose2d(
            ci, co, k, stride=st, padding=p, output_padding=s["outputPadding"], bias=b, dilation=d
        )
    if t == "depthwise":
        return nn.Conv2d(ci, ci * s["multiplier"], k, st, p, d, groups=ci, bias=b)
    if t == "depthwise-separable":
        return nn.Sequential(nn.Conv2d(ci, ci, k, st, p, d, groups=ci, bias=b), nn.Conv2d(ci, co, 1, bias=b))
    if t == "spatially-separable":
        column, row = (p, p) if isinstance(p, str) else ((p, 0), (0, p))
        return nn.Sequential(
            nn.Conv2d(ci, co, (k, 1), (st, 1), column, (d, 1), bias=b),
            nn.Conv2d(co, co, (1, k), (1, st), row, (1, d), bias=b),
        )
    if t == "pointwise":
        return nn.Conv2d(ci, co, 1, st, bias=b)
    return nn.Conv2d(ci, co, k, st, p, d, groups=s["groups"] if t == "grouped" else 1, bias=b)


def _torch_outcome(s, onednn=True):
    """``(output shape, parameter count, None)`` or ``(None, None, "Type: message")``."""
    try:
        with warnings.catch_warnings(), torch.no_grad(), _native_only(not onednn):
            warnings.simplefilter("ignore")  # 'same' with an even kernel warns about a padded copy
            layer = _torch_layer(s)
            y = layer(torch.zeros(1, s["inChannels"], s["input"], s["input"]))
        return tuple(y.shape), sum(p.numel() for p in layer.parameters()), None
    except (ValueError, RuntimeError, TypeError) as error:
        return None, None, f"{type(error).__name__}: {error}"


@contextlib.contextmanager
def _native_only(native):
    """Turn oneDNN off (PyTorch's own kernels run) when ``native``."""
    if not native:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the flags warn that this build has no Intel GPU support
        with torch.backends.mkldnn.flags(enabled=False):
            yield


ONEDNN_ERROR = "RuntimeError: could not construct a memory descriptor using a format tag"


def _reference_outcome(s):
    """What torch does, and ``True`` where its CPU oneDNN path departs from its own shape check.

    A transposed convolution whose padding crops the whole output fails PyTorch's shape check
    ("Output size is too small"), but on a CPU the oneDNN kernels that PyTorch picks for larger
    kernels fail first with an internal message, or return an empty tensor when the size is
    exactly 0. The explorer shows the shape check's message; the native path (oneDNN off) gives it.
    """
    shape, params, error = _torch_outcome(s)
    if s["type"] == "transposed" and (error == ONEDNN_ERROR or (shape is not None and 0 in shape)):
        return (*_torch_outcome(s, onednn=False), True)
    return shape, params, error, False


def _output_size_unchecked(s):
    """A transposed convolution's output size by its formula, zero or negative when padding crops it all."""
    return (
        (s["input"] - 1) * s["stride"] - 2 * s["padding"] + s["dilation"] * (s["kernel"] - 1) + s["outputPadding"] + 1
    )


def _output_size(s):
    if s["type"] == "transposed":
        return shapes.conv_transpose_output_size(
            s["input"], s["kernel"], s["stride"], s["padding"], s["outputPadding"], s["dilation"]
        )
    kernel = 1 if s["type"] == "pointwise" else s["kernel"]
    return shapes.conv_output_size(s["input"], kernel, s["stride"], s["padding"], s["dilation"])


def _costs(s, o):
    """``(params, MACs)`` of the layer and of the standard convolution set beside it, from conv_tutorial.cost."""
    t, n, ci, co, k, st, p, d, b = (
        s["type"],
        s["input"],
        s["inChannels"],
        s["outChannels"],
        s["kernel"],
        s["stride"],
        s["padding"],
        s["dilation"],
        s["bias"],
    )
    if t == "transposed":  # beside the convolution it is the transpose of, run on its output
        return (
            (cost.conv_params(ci, co, k, bias=b), cost.conv_transpose_macs(n, ci, co, k)),
            (cost.conv_params(co, ci, k, bias=b), cost.conv_macs(o, co, ci, k, st, p, d)),
        )
    standard = (cost.conv_params(ci, co, k, bias=b), cost.conv_macs(n, ci, co, k, st, p, d))
    if t == "depthwise":
        m = s["multiplier"]
        return (
            (cost.depthwise_conv_params(ci, k, m, bias=b), cost.depthwise_conv_macs(n, ci, k, st, p, d, m)),
            (cost.conv_params(ci, ci * m, k, bias=b), cost.conv_macs(n, ci, ci * m, k, st, p, d)),
        )
    if t == "depthwise-separable":
        return (
            (cost.separable_conv_params(ci, co, k, bias=b), cost.separable_conv_macs(n, ci, co, k, st, p, d)),
            standard,
        )
    if t == "spatially-separable":
        return (
            (
                cost.spatially_separable_conv_params(ci, co, k, bias=b),
                cost.spatially_separable_conv_macs(n, ci, co, k, st, p, d),
            ),
            standard,
        )
    if t == "pointwise":
        layer = (cost.conv_params(ci, co, 1, bias=b), cost.conv_macs(n, ci, co, 1, st))
        return layer, layer
    g = s["groups"] if t == "grouped" else 1
    return (cost.conv_params(ci, co, k, g, bias=b), cost.conv_macs(n, ci, co, k, st, p, d, g)), standard


def _numpy_layer(s):
    """The layer in the NumPy backend with weights that name their tap, and ``code(u, v)``, ``scale``.

    Fed an image that is 1 at one pixel of every channel, output cell ``(i, j)`` of any output
    channel holds ``scale * code(u, v)`` when it reads that pixel through tap ``(u, v)``, and 0
    when it does not read it.
    """
    t, ci, co, k, st, p, d = (
        s["type"],
        s["inChannels"],
        s["outChannels"],
        s["kernel"],
        s["stride"],
        s["padding"],
        s["dilation"],
    )
    taps = np.arange(1.0, k * k + 1).reshape(k, k)  # tap (u, v) weighs u*k + v + 1

    def linear(u, v):
        return u * k + v + 1

    if t == "transposed":
        w = np.broadcast_to(taps, (ci, co, k, k))
        return lambda x: cnp.conv_transpose2d(x, w, None, st, p, s["outputPadding"], 1, d), linear, ci
    if t == "depthwise":
        w = np.broadcast_to(taps, (ci * s["multiplier"], 1, k, k))
        return lambda x: cnp.depthwise_conv2d(x, w, None, st, p, d), linear, 1
    if t == "depthwise-separable":
        dw, pw = np.broadcast_to(taps, (ci, 1, k, k)), np.ones((co, ci, 1, 1))
        return lambda x: cnp.separable_conv2d(x, dw, pw, stride=st, padding=p, dilation=d), linear, ci
    if t == "spatially-separable":  # column taps weigh 2**u, row taps 3**v: their product names (u, v)
        column = np.broadcast_to(2.0 ** np.arange(k).reshape(k, 1), (co, ci, k, 1))
        row = np.broadcast_to(3.0 ** np.arange(k).reshape(1, k), (co, co, 1, k))
        return (
            lambda x: cnp.spatially_separable_conv2d(x, column, row, stride=st, padding=p, dilation=d),
            lambda u, v: 2.0**u * 3.0**v,
            ci * co,
        )
    if t == "pointwise":
        w = np.ones((co, ci, 1, 1))
        return lambda x: cnp.conv2d(x, w, None, st), linear, ci
    g = s["groups"] if t == "grouped" else 1
    w = np.broadcast_to(taps, (co, ci // g, k, k))
    return lambda x: cnp.conv2d(x, w, None, st, p, d, g), linear, ci // g


def _one_hot_images(channels, n):
    """``n * n`` images, image ``y * n + x`` equal to 1 at pixel ``(y, x)`` of every channel."""
    images = np.zeros((n * n, channels, n, n))
    index = np.arange(n * n)
    images[index, :, index // n, index % n] = 1.0
    return images


def _read_map(reads, n, o, k, code, scale):
    """What the NumPy layer must give the one-hot images if the explorer's reads are right."""
    expected = np.zeros((n * n, o, o))
    i, j, y, x, tap = np.asarray(reads, dtype=int).reshape(-1, 5).T
    expected[y * n + x, i, j] = scale * code(tap // k, tap % k)
    return expected


# --- The sweep ---------------------------------------------------------------------------------


def _draw_settings(kind, controls, count, seed):
    """``count`` settings of one type, seeded: each value its range's end a third of the time."""
    rng = np.random.default_rng(seed)
    lows = {name: lo for name, (lo, hi) in controls.items()}
    highs = {name: hi for name, (lo, hi) in controls.items()}
    settings = [{"type": kind, **lows, "bias": True}, {"type": kind, **highs, "bias": False}]
    while len(settings) < count:
        s = {"type": kind, "bias": bool(rng.random() < 0.7)}
        for name, (lo, hi) in controls.items():
            r = rng.random()
            s[name] = lo if r < 0.2 else hi if r < 0.33 else int(rng.integers(lo, hi + 1))
        if "padding" in controls and rng.random() < 0.2:
            s["padding"] = "same"
        if "groups" in controls and rng.random() < 0.75:  # mostly valid: a divisor of in_channels
            s["groups"] = int(rng.choice([g for g in range(1, s["inChannels"] + 1) if s["inChannels"] % g == 0]))
            if rng.random() < 0.9:  # and of out_channels
                s["outChannels"] = s["groups"] * int(rng.integers(1, 8 // s["groups"] + 1))
        settings.append(s)
    return settings


def _check(s, r, problems):
    """Compare one answer of the explorer with the references; append what disagrees to ``problems``.

    Returns ``True`` where torch's CPU oneDNN path departs from its shape check (see
    :func:`_reference_outcome`).
    """

    def disagree(what, ours, reference):
        problems.append(f"{s}: {what}: explorer {ours!r}, reference {reference!r}")

    shape, torch_params, error, onednn_departs = _reference_outcome(s)
    ran = _run_code(r["code"], onednn=not onednn_departs)
    if error is not None:
        if r["ok"] or r["errorText"] != error:
            disagree("error", r["errorText"], error)
        if ran != ("error", error):
            disagree("what its code does", ran, error)
        return onednn_departs
    if not r["ok"]:
        disagree("error", r["errorText"], None)
        return onednn_departs
    o = _output_size(s)
    if r["outputSize"] != o or shape[2:] != (o, o) or shape[1] != s["outChannels"]:
        disagree("output size", r["outputSize"], (o, shape))
    if ran != ("shape", shape):
        disagree("what its code does", ran, shape)
    if eval(r["formula"]["expression"], {"__builtins__": {}, "floor": math.floor}) != o or not r["formula"][
        "substituted"
    ].endswith(f"= {o}"):
        disagree("formula", r["formula"], o)
    (params, macs), (standard_params, standard_macs) = _costs(s, o)
    if (r["params"], r["macs"]) != (params, macs) or torch_params != params:
        disagree("params and MACs", (r["params"], r["macs"]), (params, macs, torch_params))
    if (r["standard"]["params"], r["standard"]["macs"]) != (standard_params, standard_macs):
        disagree("the standard convolution's params and MACs", r["standard"], (standard_params, standard_macs))
    layer, code, scale = _numpy_layer(s)
    n, ci = s["input"], s["inChannels"]
    ours = np.zeros((s["outChannels"], ci), dtype=bool)
    for out_channel, channels in enumerate(r["channelMap"]):
        ours[out_channel, channels] = True
    reference = connectivity(layer, ci, (n, n))
    if not np.array_equal(ours, reference):
        disagree("channels read", ours.astype(int).tolist(), reference.astype(int).tolist())
    got = layer(_one_hot_images(ci, n))
    expected = _read_map(r["reads"], n, o, s["kernel"], code, scale)
    if not np.array_equal(got, np.broadcast_to(expected[:, None], got.shape)):
        disagree("input cells and taps read", r["reads"][:50], "see conv_tutorial.numpy")
    return onednn_departs


def _run_code(code, onednn=True):
    """Run the PyTorch code the explorer prints: ``("shape", shape)`` or ``("error", "Type: message")``."""
    printed = io.StringIO()
    namespace = {}
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(printed), torch.no_grad(), _native_only(not onednn):
            warnings.simplefilter("ignore")
            exec(code, namespace)  # noqa: S102 - the code the page shows, generated from numbers
    except (ValueError, RuntimeError, TypeError) as error:
        return "error", f"{type(error).__name__}: {error}"
    promised = code.rsplit("# ", 1)[1]
    if printed.getvalue().strip() != promised:
        return "printed", printed.getvalue().strip(), promised
    return "shape", tuple(namespace["y"].shape)


def test_the_page_offers_every_type_with_its_controls(desktop):
    assert desktop.evaluate("convExplorer.types") == TYPES
    for kind in TYPES:
        controls = desktop.evaluate("t => convExplorer.controls(t)", kind)
        assert list(controls) == CONTROLS[kind], kind


@pytest.mark.parametrize("kind", TYPES)
def test_sweep_agrees_with_the_package_and_torch(desktop, kind):
    controls = desktop.evaluate("t => convExplorer.controls(t)", kind)
    settings = _draw_settings(kind, controls, SETTINGS_PER_TYPE, seed=TYPES.index(kind))
    # One page.evaluate for the whole batch, its answer one JSON string: the sweep stays fast.
    answers = json.loads(
        desktop.evaluate(
            f"batch => JSON.stringify(batch.map(s => convExplorer.compute(s, {{cells: true}})).map({FIELDS}))", settings
        )
    )
    problems = []
    departures = [s for s, r in zip(settings, answers, strict=True) if _check(_complete(s), r, problems)]
    assert not problems, f"{len(problems)} of {len(settings)} settings disagree; the first: {problems[:5]}"
    # Where torch's oneDNN path departs from its shape check, the explorer shows the shape check.
    assert all(_output_size_unchecked(s) <= 0 for s in departures), departures
    errors = {r["errorText"] for r in answers if not r["ok"]}
    for expected in EXPECTED_ERRORS[kind]:
        assert any(e.startswith(expected) for e in errors), f"{kind}: the sweep never met {expected!r}"
    valid = sum(r["ok"] for r in answers)
    assert valid >= 0.4 * len(settings), f"{kind}: only {valid} of {len(settings)} settings are valid"
    for name, (lo, hi) in controls.items():  # the ends of every range are met
        values = {s[name] for s in settings}
        assert {lo, hi} <= values, (kind, name, values)


# --- The controls, driven as a reader drives them ------------------------------------------------


def _set(page, kind, values):
    """Choose ``kind`` and move each slider with the keyboard to ``values`` (padding may be 'same')."""
    root = page.locator(".conv-explorer").first
    root.locator("select").select_option(kind)
    for name, value in values.items():
        if name == "bias":
            root.locator("input[id$='-bias']").set_checked(value)
            continue
        slider = root.locator(f".cx-controls input[name={name}]")
        same = root.locator("input[id$='-same']")
        if name == "padding":
            same.set_checked(value == "same")
            if value == "same":
                continue
        slider.focus()
        page.keyboard.press("Home")
        for _ in range(value - int(slider.get_attribute("min"))):
            page.keyboard.press("ArrowRight")
        assert slider.input_value() == str(value), (name, value)
        assert root.locator(f"output[for='{slider.get_attribute('id')}']").inner_text() == str(value)
    return root


def _cells(root, panel, state):
    return {
        (int(c.get_attribute("data-r")), int(c.get_attribute("data-c")))
        for c in root.locator(f".cx-{panel}-panel .cx-cell.{state}").all()
    }


UI_SETTINGS = [
    (
        "standard",
        {"input": 6, "kernel": 3, "stride": 1, "padding": 1, "dilation": 1, "inChannels": 2, "outChannels": 3},
    ),
    (
        "strided",
        {
            "input": 7,
            "kernel": 3,
            "stride": 2,
            "padding": 0,
            "dilation": 1,
            "inChannels": 1,
            "outChannels": 1,
            "bias": False,
        },
    ),
    ("padded", {"input": 5, "kernel": 4, "padding": "same", "dilation": 1}),
    ("dilated", {"input": 9, "kernel": 3, "stride": 1, "padding": 2, "dilation": 3}),
    ("transposed", {"input": 3, "kernel": 3, "stride": 2, "padding": 1, "outputPadding": 1, "dilation": 1}),
    ("grouped", {"inChannels": 6, "outChannels": 4, "groups": 2, "input": 5}),
    ("depthwise", {"inChannels": 3, "multiplier": 2, "input": 4, "kernel": 3, "padding": 1}),
    ("depthwise-separable", {"input": 6, "kernel": 5, "padding": 0, "inChannels": 3, "outChannels": 8}),
    ("spatially-separable", {"input": 5, "kernel": 3, "stride": 2, "padding": 1}),
    ("pointwise", {"input": 4, "stride": 2, "inChannels": 4, "outChannels": 2}),
    ("grouped", {"inChannels": 6, "outChannels": 4, "groups": 4}),
    ("transposed", {"input": 3, "stride": 2, "outputPadding": 2, "dilation": 1}),
    ("strided", {"input": 2, "kernel": 5, "stride": 2, "padding": 0, "dilation": 1}),
]


@pytest.mark.parametrize("kind, values", UI_SETTINGS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(UI_SETTINGS)])
def test_the_controls_show_what_torch_computes(desktop, kind, values):
    root = _set(desktop, kind, values)
    # The sliders left alone keep the type's defaults: the reference reads every control back.
    current = {name: int(root.locator(f".cx-controls input[name={name}]").input_value()) for name in CONTROLS[kind]}
    if "padding" in CONTROLS[kind] and root.locator("input[id$='-same']").is_checked():
        current["padding"] = "same"
    s = _complete({"type": kind, **current, "bias": root.locator("input[id$='-bias']").is_checked()})
    shape, params, error, onednn_departs = _reference_outcome(s)
    code = root.locator(".cx-code code").inner_text()
    assert _run_code(code, onednn=not onednn_departs) == (("error", error) if error else ("shape", shape))
    if error:
        assert root.locator(".cx-error").is_visible() and not root.locator(".cx-result").is_visible()
        shown = root.locator(".cx-error p").first.inner_text()
        assert shown == error, (shown, error)
        return
    assert not root.locator(".cx-error").is_visible()
    o = _output_size(s)
    assert f"{s['outChannels']} × {o} × {o}" in root.locator(".cx-output-size").inner_text()
    assert root.locator(".cx-formula").inner_text().rstrip().endswith(f"= {o}")
    (layer_params, macs), (standard_params, standard_macs) = _costs(s, o)
    assert params == layer_params
    assert root.locator(".cx-params").inner_text().split(" ")[0] == f"{layer_params:,}"
    assert root.locator(".cx-macs").inner_text().split(" ")[0] == f"{macs:,}"
    assert root.locator(".cx-std-params").inner_text() == f"{standard_params:,}"
    assert root.locator(".cx-std-macs").inner_text() == f"{standard_macs:,}"
    # Follow the last output cell: a click, as a tap on a phone.
    root.locator(".cx-view input[value=gather]").check()
    layer, _, _ = _numpy_layer(s)
    n = s["input"]
    response = layer(_one_hot_images(s["inChannels"], n))[:, 0]  # (input pixel, output row, output col)
    root.locator(f".cx-output-panel .cx-cell[data-r='{o - 1}'][data-c='{o - 1}']").click()
    assert _cells(root, "output", "cx-sel") == {(o - 1, o - 1)}
    read = {(p // n, p % n) for p in np.flatnonzero(response[:, o - 1, o - 1])}
    highlighted = _cells(root, "input", "cx-hit")
    assert {(y, x) for y, x in highlighted if 0 <= y < n and 0 <= x < n} == read
    if kind != "transposed":  # every tap of a direct convolution reads a cell, padding or not
        assert len(highlighted) == s["kernel"] ** 2 and len(_cells(root, "kernel", "cx-hit")) == s["kernel"] ** 2
    # The arrow keys move the followed cell to the top left corner, then one to the right.
    root.locator(".cx-output-panel .cx-svg").focus()
    for _ in range(o):
        desktop.keyboard.press("ArrowUp")
        desktop.keyboard.press("ArrowLeft")
    assert _cells(root, "output", "cx-sel") == {(0, 0)}
    if o > 1:
        desktop.keyboard.press("ArrowRight")
        assert _cells(root, "output", "cx-sel") == {(0, 1)}
    root.locator(".cx-stepper button[data-step='1']").click()
    assert _cells(root, "output", "cx-sel") == ({(0, 2)} if o > 2 else {(1, 0)} if o == 2 else {(0, 0)})
    # The other view: one input cell and the output cells it reaches.
    root.locator(f".cx-input-panel .cx-cell[data-r='{n - 1}'][data-c='0']").click()
    assert root.locator(".cx-view input[value=scatter]").is_checked()
    reached = {tuple(c) for c in np.argwhere(response[(n - 1) * n])}
    assert {(i, j) for i, j in _cells(root, "output", "cx-hit") if 0 <= i < o and 0 <= j < o} == reached
    if n > 1:  # the arrow keys move the followed input cell too
        root.locator(".cx-input-panel .cx-svg").focus()
        desktop.keyboard.press("ArrowUp")
        assert _cells(root, "input", "cx-sel") == {(n - 2, 0)}
    root.locator(".cx-view input[value=gather]").check()


def test_an_embed_is_preset_by_its_data_attributes(desktop):
    desktop.evaluate("""() => {
        const div = document.createElement('div');
        div.className = 'conv-explorer';
        Object.assign(div.dataset, {type: 'dilated', dilation: '3', kernel: '2', input: '8', lock: 'type'});
        document.querySelector('.conv-explorer').after(div);
        convExplorer.mountAll();
    }""")
    embed = desktop.locator(".conv-explorer").nth(1)
    assert not embed.locator(".cx-top").is_visible()
    assert embed.locator("input[name=dilation]").input_value() == "3"
    assert embed.locator("input[name=kernel]").input_value() == "2"
    assert embed.get_attribute("data-output-size") == str(shapes.conv_output_size(8, 2, 1, 0, 3))
    assert desktop.locator(".conv-explorer").first.locator(".cx-top").is_visible()
    desktop.evaluate("() => document.querySelectorAll('.conv-explorer')[1].remove()")


# --- How it looks ------------------------------------------------------------------------------


def _shot(page, name):
    """The explorer, cut from the page scrolled to its top (so that the sticky header stays above it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator(".conv-explorer").first.bounding_box()
    clip = {"x": 0, "y": max(box["y"] - 8, 0), "width": page.viewport_size["width"], "height": box["height"] + 16}
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, clip=clip)


@pytest.mark.parametrize(
    "kind, values, name",
    [
        ("standard", {}, "explorer_desktop"),
        ("transposed", {}, "explorer_transposed_desktop"),
        ("grouped", {"inChannels": 8, "outChannels": 4, "groups": 4}, "explorer_grouped_desktop"),
    ],
)
def test_desktop_screenshots(desktop, kind, values, name):
    _set(desktop, kind, values)
    desktop.locator(".conv-explorer .cx-output-panel .cx-cell.cx-out").nth(1).hover()
    _shot(desktop, name)


@pytest.mark.parametrize(
    "kind, values, name",
    [
        ("standard", {}, "explorer_phone"),
        ("depthwise", {"inChannels": 4, "multiplier": 2}, "explorer_depthwise_phone"),
        ("grouped", {"inChannels": 6, "outChannels": 4, "groups": 4}, "explorer_error_phone"),
    ],
)
def test_the_explorer_fits_a_phone(phone, kind, values, name):
    root = _set(phone, kind, values)
    if root.locator(".cx-result").is_visible():
        root.locator(".cx-output-panel .cx-cell.cx-out").nth(1).tap()
    else:
        assert root.locator(".cx-error").is_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the explorer page is {width}px wide on a {PHONE['width']}px screen"
    box = root.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1
    for panel in root.locator(".cx-panel").all():
        if panel.is_visible():
            b = panel.bounding_box()
            assert b["x"] + b["width"] <= PHONE["width"] + 1, "a grid sticks out of the screen"
    _shot(phone, name)
