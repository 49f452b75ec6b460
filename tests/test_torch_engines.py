"""The torch backend's engines, path by path: the channels-last window engine, the depthwise fast path,
stride-1 transposed convolutions as direct ones, dropped dead taps, oneDNN's product and its fallback,
the autograd path, and ``native_convolutions``. Each is held against ``torch.nn.functional`` (float64,
the tolerance of ``helpers.assert_close_to_reference``; float32 for oneDNN's product) and, where the
package keeps one, against the readable version it speeds up."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given
from hypothesis import strategies as st
from strategies import conv_configs, transposed_configs
from torch.utils.flop_counter import FlopCounterMode

import conv_tutorial.torch as ct
from conv_tutorial import cost, shapes
from conv_tutorial._checks import check_conv
from conv_tutorial.torch import _depthwise_engine, im2col
from conv_tutorial.torch._depthwise_engine import depthwise_forward

F64, F32 = torch.float64, torch.float32
NATIVE = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
OURS = {1: ct.conv1d, 2: ct.conv2d, 3: ct.conv3d}
NATIVE_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
OURS_T = {1: ct.conv_transpose1d, 2: ct.conv_transpose2d, 3: ct.conv_transpose3d}

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


def as_tensors(*arrays, dtype=F64):
    return [None if a is None else torch.from_numpy(np.ascontiguousarray(a)).to(dtype) for a in arrays]


# --- the fast engines, without autograd -----------------------------------------------------------


@contextlib.contextmanager
def cpu_column_bytes(budget):
    """Inside the block, the window engine's CPU column budget is ``budget`` bytes (None: unchanged)."""
    saved = im2col.CPU_COLUMN_BYTES
    im2col.CPU_COLUMN_BYTES = saved if budget is None else budget
    try:
        yield
    finally:
        im2col.CPU_COLUMN_BYTES = saved


@pytest.mark.parametrize("transposed", [False, True])
@given(data=st.data(), dtype=st.sampled_from([F64, F32]), budget=st.sampled_from([None, 0, 3]))
def test_fast_engines_match_pytorch(transposed, data, dtype, budget):
    """Without autograd every convolution runs the window engine or the depthwise path (oneDNN's product in float32).

    A transposed one with stride 1 runs as the direct convolution with the flipped kernel, with larger
    strides it folds. With a budget of a few bytes the columns go a position at a time, the fold an
    image at a time.
    """
    n, x, w, b, kw = data.draw(transposed_configs() if transposed else conv_configs())
    x, w, b = as_tensors(x, w, b, dtype=dtype)
    ours, native = (OURS_T, NATIVE_T) if transposed else (OURS, NATIVE)
    with cpu_column_bytes(budget), torch.no_grad():
        out = ours[n](x, w, b, **kw)
    assert_close_to_reference(out, native[n](x, w, b, **kw))


@given(conv_configs(), st.sampled_from([F64, F32]), st.booleans())
def test_each_engine_matches_pytorch_whatever_the_channels_per_group(config, dtype, windows):
    """Narrow groups take the path of taps in conv_forward; both engines compute any grouped convolution."""
    n, x, w, _, kw = config
    x, w = as_tensors(x, w, dtype=dtype)
    spec = check_conv("conv", n, x.shape, w.shape, None, kw["stride"], kw["padding"], kw["dilation"], kw["groups"])
    x = x.reshape(spec.input_shape)
    engine = im2col.windows_forward if windows else depthwise_forward
    with torch.no_grad():
        out = engine(x, w, spec.stride, spec.padding, spec.dilation, spec.groups)
    assert_close_to_reference(out, NATIVE[n](x, w, **kw))


@given(conv_configs(), st.sampled_from([F64, F32]), st.integers(1, 5))
def test_window_engine_in_blocks_matches_pytorch(config, dtype, rows):
    """Columns over the budget are built a block at a time (images, rows, or rows of one frame)."""
    n, x, w, _, kw = config
    x, w = as_tensors(x, w, dtype=dtype)
    spec = check_conv("conv", n, x.shape, w.shape, None, kw["stride"], kw["padding"], kw["dilation"], kw["groups"])
    x = x.reshape(spec.input_shape)
    row_bytes = x.shape[1] * w[0, 0].numel() * x.element_size()
    # A budget of a few positions' columns: every level of blocking, on small inputs.
    with cpu_column_bytes(rows * row_bytes), torch.no_grad():
        out = im2col.windows_forward(x, w, spec.stride, spec.padding, spec.dilation, spec.groups)
    assert_close_to_reference(out, NATIVE[n](x, w, **kw))
    assert out.movedim(1, -1).is_contiguous()


@given(conv_configs(), st.sampled_from([F64, F32]), st.sampled_from([None, 0]))
def test_live_regions_match_pytorch(config, dtype, budget):
    """Region by region of the output, each with its live taps and no padded copy; a budget of 0: a position a block."""
    n, x, w, _, kw = config
    x, w = as_tensors(x, w, dtype=dtype)
    spec = check_conv("conv", n, x.shape, w.shape, None, kw["stride"], kw["padding"], kw["dilation"], kw["groups"])
    x = x.reshape(spec.input_shape)
    runs = im2col.live_runs(x.shape[2:], w.shape[2:], spec.stride, spec.padding, spec.dilation)
    with cpu_column_bytes(budget), torch.no_grad():
        out = im2col.by_live_regions(x, w, spec.stride, spec.padding, spec.dilation, spec.groups, runs)
    assert_close_to_reference(out, NATIVE[n](x, w, **kw))
    assert out.movedim(1, -1).is_contiguous()


@given(st.integers(1, 9), st.integers(1, 4), st.integers(1, 3), st.integers(0, 6), st.integers(0, 6), st.integers(1, 4))
def test_live_runs_and_spans_are_the_taps_that_read_the_input(size, k, s, lo, hi, d):
    """Every output position lies in one run, whose taps are exactly those that read the input there."""
    if size + lo + hi < d * (k - 1) + 1:
        return  # no output
    (runs,) = im2col.live_runs((size,), (k,), (s,), ((lo, hi),), (d,))
    assert runs[0][0] == 0 and all(a[1] == b[0] for a, b in zip(runs, runs[1:], strict=False))
    for o0, o1, t0, t1 in runs:
        for o in range(o0, o1):
            live = [t for t in range(k) if lo <= o * s + t * d < lo + size]
            assert live == list(range(t0, t1 + 1))
    read = [t for o in range(runs[-1][1]) for t in range(k) if lo <= o * s + t * d < lo + size]
    assert shapes.live_tap_span(size, k, s, (lo, hi), d) == ((min(read), max(read)) if read else None)
    dead = sum((o1 - o0) * (k - max(0, t1 - t0 + 1)) for o0, o1, t0, t1 in runs)
    assert im2col.dead_share([runs], (k,)) == pytest.approx(dead / (runs[-1][1] * k))


def test_convolution_split_by_regions_keeps_nan_of_an_infinite_dead_tap():
    """Atrous layers take the regions (half their products read padding), unless a weight is not finite."""
    gen = torch.Generator().manual_seed(5)
    x, w = torch.randn(2, 20, 28, 28, generator=gen, dtype=F64), torch.randn(20, 20, 3, 3, generator=gen, dtype=F64)
    runs = im2col.live_runs((28, 28), (3, 3), (1, 1), ((12, 12),) * 2, (12, 12))
    assert im2col.pays_to_split(runs, (3, 3), batch=2) and not im2col.takes_taps(20, 20, 1)
    with torch.no_grad():
        assert_close_to_reference(ct.conv2d(x, w, padding=12, dilation=12), F.conv2d(x, w, padding=12, dilation=12))
        w[0, 0, 0, 0] = float("inf")  # read only outside the input by the top rows' outputs
        ours, reference = ct.conv2d(x, w, padding=12, dilation=12), F.conv2d(x, w, padding=12, dilation=12)
    assert torch.equal(ours.isnan(), reference.isnan()) and ours[:, 0].isnan().any()
    assert_close_to_reference(ours[:, 1:], reference[:, 1:])


@pytest.mark.parametrize(
    ("sizes", "budget_positions", "level"),
    [
        ((2, 3, 4), 100, 0),
        ((2, 3, 4), 12, 0),
        ((2, 3, 4), 5, 1),
        ((2, 3, 4), 4, 1),
        ((2, 3, 4), 3, 2),
        ((2, 2, 3, 4), 1, 3),
    ],
)
def test_column_blocks_cover_every_position_once_in_memory_order(sizes, budget_positions, level):
    """Blocks tile the output in order, each within the budget unless one position alone is over it."""
    n_sp = len(sizes) - 1
    blocks = list(im2col.column_blocks(sizes, (3,) * n_sp, (2,) * n_sp, (1,) * n_sp, 8, 8 * budget_positions))
    firsts = [first for first, _, _ in blocks]
    counts = [int(np.prod(shape)) for _, shape, _ in blocks]
    assert firsts == list(np.cumsum([0, *counts[:-1]])) and sum(counts) == int(np.prod(sizes))
    assert all(count <= max(budget_positions, 1) for count in counts)
    assert all(extent == 1 for _, shape, _ in blocks for extent in shape[:level])
    for _, shape, reads in blocks:  # each spatial axis reads (positions - 1) * stride + kernel padded positions
        assert [hi - lo for lo, hi in reads[1:]] == [(o - 1) * 2 + 3 for o in shape[1:]]


@given(conv_configs(), st.integers(1, 3), st.sampled_from([0, 10**9]))
def test_depthwise_path_matches_the_loop_over_taps(config, multiplier, small_map):
    """Both depthwise paths: flat rows per channel, and channels last (strides, and maps under SMALL_MAP)."""
    n, x, w, _, kw = config
    kw = dict(kw, groups=x.shape[1])
    w = np.random.default_rng(0).standard_normal((x.shape[1] * multiplier, 1, *w.shape[2:]))
    x, w = as_tensors(x, w)
    saved = _depthwise_engine.SMALL_MAP
    try:
        _depthwise_engine.SMALL_MAP = small_map
        with torch.no_grad():
            ours = OURS[n](x, w, **kw)
    finally:
        _depthwise_engine.SMALL_MAP = saved
    assert_close_to_reference(ours, NATIVE[n](x, w, **kw))
    if n == 2:
        kw.pop("groups")
        assert_close_to_reference(ours, ct.depthwise_conv2d_by_taps(x, w, **kw))


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "dilation"),
    [((7, 7), (7, 7), (1, 1), (1, 1)), ((5, 9), (5, 3), (1, 2), (1, 1)), ((9, 9), (3, 3), (4, 4), (3, 3))],
)
def test_depthwise_kernels_with_more_taps_than_outputs(size, kernel, stride, dilation):
    # A global depthwise convolution (chapter 13) and its neighbours: the weighted windows branch.
    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(2, 3, *size, generator=gen, dtype=F64), torch.randn(6, 1, *kernel, generator=gen, dtype=F64)
    out = depthwise_forward(x, w, stride, ((0, 0), (0, 0)), dilation)
    assert_close_to_reference(out, F.conv2d(x, w, stride=stride, dilation=dilation, groups=3))


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize(("padding", "output_padding", "dilation"), [(0, 0, 1), (1, 0, 2), (3, 1, 2), (3, 0, 1)])
def test_stride_one_transposed_as_direct(groups, padding, output_padding, dilation):
    # padding 3 with dilation 1 exceeds dilation * (k - 1): the direct form crops its input there.
    gen = torch.Generator().manual_seed(1)
    y = torch.randn(2, 4, 6, 7, generator=gen, dtype=F64)
    w = torch.randn(4, 8 // groups, 3, 3, generator=gen, dtype=F64)
    kw = dict(padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    out = im2col.transpose_as_direct(y, w, (padding,) * 2, (output_padding,) * 2, (dilation,) * 2, groups)
    assert_close_to_reference(out, F.conv_transpose2d(y, w, **kw))


def test_dead_taps_are_dropped_and_nan_weights_keep_them():
    # A 3x3x3 kernel with padding 1 on a single frame: only the middle depth slice reads the input.
    gen = torch.Generator().manual_seed(2)
    x, w = torch.randn(2, 4, 1, 5, 5, generator=gen, dtype=F64), torch.randn(3, 4, 3, 3, 3, generator=gen, dtype=F64)
    cut_x, cut_w, pads = im2col.without_dead_taps(x, w, (1, 1, 1), ((1, 1),) * 3, (1, 1, 1))
    assert cut_w.shape == (3, 4, 1, 3, 3) and cut_x.shape == x.shape and pads == ((0, 0), (1, 1), (1, 1))
    with torch.no_grad():
        assert_close_to_reference(ct.conv3d(x, w, padding=1), F.conv3d(x, w, padding=1))
        w[0, 0, 0, 0, 0] = float("inf")  # in a dead tap: inf * 0 is nan at every output of channel 0
        ours, reference = ct.conv3d(x, w, padding=1), F.conv3d(x, w, padding=1)
    assert torch.equal(ours.isnan(), reference.isnan()) and ours[:, 0].isnan().all()
    assert_close_to_reference(ours[:, 1:], reference[:, 1:])


def test_dilated_kernel_wider_than_its_input_reads_only_its_live_taps():
    gen = torch.Generator().manual_seed(3)
    x, w = torch.randn(1, 2, 3, 3, generator=gen, dtype=F64), torch.randn(2, 2, 3, 3, generator=gen, dtype=F64)
    with torch.no_grad():
        assert_close_to_reference(ct.conv2d(x, w, padding="same", dilation=50), F.conv2d(x, w, padding=50, dilation=50))


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "strided"])
def test_window_engine_reads_any_layout_and_writes_channels_last(layout):
    gen = torch.Generator().manual_seed(4)
    channels = 2 * (im2col.NARROW_GROUP + 1)  # two groups too wide for the path of taps
    x = torch.randn(2, channels, 9, 10, generator=gen)
    if layout == "channels_last":
        x = x.to(memory_format=torch.channels_last)
    elif layout == "strided":
        x = torch.randn(2, 2 * channels, 9, 20, generator=gen)[:, ::2, :, ::2]
    w = torch.randn(4, channels // 2, 3, 3, generator=gen)
    with torch.no_grad():
        out = ct.conv2d(x, w, padding=1, groups=2)
    assert out.movedim(1, -1).is_contiguous()
    assert_close_to_reference(out, F.conv2d(x, w, padding=1, groups=2))


# --- oneDNN's product and its fallback -------------------------------------------------------------


def test_onednn_product_applies_only_where_it_can():
    a, b = torch.randn(5, 4), torch.randn(3, 4)
    expected = torch.backends.mkldnn.is_available()
    assert im2col.fast_matmul_applies(a, b) == expected
    assert not im2col.fast_matmul_applies(a.double(), b.double())  # oneDNN has no float64 product
    assert not im2col.fast_matmul_applies(a.requires_grad_(), b)  # autograd: torch.matmul
    with torch.no_grad():
        assert im2col.fast_matmul_applies(a, b) == expected
    assert not im2col.fast_matmul_applies(torch.randn(1, 4), b)  # a unit axis: strides oneDNN refuses


@pytest.mark.parametrize(
    "a",
    [
        torch.randn(7, 5),
        torch.randn(5, 7).T,  # column-major
        torch.randn(7, 10)[:, ::2],  # neither: copied first
        torch.randn(40).as_strided((7, 15), (3, 1)),  # overlapping rows, like im2col's
    ],
    ids=["row-major", "column-major", "strided", "overlapping"],
)
def test_matmul_t_equals_the_product_for_any_strides(a):
    b = torch.randn(6, a.shape[1])
    assert_close_to_reference(im2col.matmul_t(a, b), a.double() @ b.double().T, dtype=np.float32)


# --- autograd and devices --------------------------------------------------------------------------


@pytest.mark.parametrize("groups", [1, 3])
def test_autograd_runs_the_unfold_engine_and_matches_torch(groups):
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 3, 8, 8, generator=gen, requires_grad=True)
    w = torch.randn(6, 3 // groups, 3, 3, generator=gen, requires_grad=True)
    ours = ct.conv2d(x, w, stride=2, padding=1, groups=groups)
    grads = torch.autograd.grad(ours.sum(), (x, w))
    reference = F.conv2d(x, w, stride=2, padding=1, groups=groups)
    expected = torch.autograd.grad(reference.sum(), (x, w))
    assert_close_to_reference(ours, reference)
    for got, want in zip(grads, expected, strict=True):
        assert_close_to_reference(got, want)
    with torch.no_grad():  # the fast path gives the same numbers
        assert_close_to_reference(ct.conv2d(x, w, stride=2, padding=1, groups=groups), reference)


def test_meta_tensors_take_the_portable_path():
    x, w = torch.empty(2, 4, 9, 9, device="meta"), torch.empty(8, 1, 3, 3, device="meta")
    with torch.no_grad():
        assert ct.conv2d(x, w, padding=1, groups=4).shape == (2, 8, 9, 9)
        assert ct.conv2d(x, w.expand(8, 4, 3, 3), stride=2).shape == (2, 8, 4, 4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fast_engines_on_cuda():
    gen = torch.Generator().manual_seed(6)
    x, w, dw = (torch.randn(*s, generator=gen) for s in ((2, 8, 12, 12), (16, 4, 3, 3), (16, 1, 3, 3)))
    with torch.no_grad():
        for weight, groups in ((w, 2), (dw, 8)):
            ours = ct.conv2d(x.cuda(), weight.cuda(), stride=2, padding=1, groups=groups).cpu()
            assert_close_to_reference(ours, F.conv2d(x, weight, stride=2, padding=1, groups=groups))


# --- the native twin -------------------------------------------------------------------------------


def test_native_convolutions_are_what_the_flop_counter_counts():
    x = torch.randn(1, 8, 10, 10)
    dw, grouped, wt = torch.randn(16, 1, 3, 3), torch.randn(8, 2, 3, 3), torch.randn(8, 4, 3, 3)
    with torch.no_grad(), FlopCounterMode(display=False) as fast:
        outputs = [ct.depthwise_conv2d(x, dw, padding=1), ct.conv2d(x, grouped, groups=4), ct.conv_transpose2d(x, wt)]
    with torch.no_grad(), FlopCounterMode(display=False) as counter, ct.native_convolutions():
        twins = [ct.depthwise_conv2d(x, dw, padding=1), ct.conv2d(x, grouped, groups=4), ct.conv_transpose2d(x, wt)]
    macs = (
        cost.conv_macs(10, 8, 16, 3, padding=1, groups=8)
        + cost.conv_macs(10, 8, 8, 3, groups=4)
        + cost.conv_transpose_macs(10, 8, 4, 3)
    )
    assert counter.get_total_flops() == 2 * macs
    assert fast.get_total_flops() < 2 * macs  # the fast paths run ops the counter does not see
    for ours, twin in zip(outputs, twins, strict=True):
        assert_close_to_reference(ours, twin)
    with torch.no_grad(), FlopCounterMode(display=False) as after:
        ct.depthwise_conv2d(x, dw, padding=1)
    assert after.get_total_flops() == 0  # the switch ends with its block: multiply-adds per tap again
