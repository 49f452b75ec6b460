"""Transposed convolution: both backends against PyTorch and as the adjoint of the convolution, the
conv_arithmetic relationships, C.T and the gradient identities, overlap maps against explicit counts,
resize-convolution, the diagrams, bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import as_tuple_of, assert_close_to_reference, tensor
from hypothesis import given
from hypothesis import strategies as st
from matplotlib import pyplot as plt
from strategies import axis_convs, conv_configs, overlap_configs, small_conv2d_configs, transposed_configs
from torch.utils.flop_counter import FlopCounterMode

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ctorch
from conv_tutorial import cost, shapes
from conv_tutorial.viz import animate_conv_transpose2d, draw_conv_transpose2d, draw_overlap_map
from conv_tutorial.viz.transposed import CONTRIBUTOR_GID, WINDOW_GID, transposed_geometry

F64 = torch.float64


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@given(transposed_configs())
def test_conv_transpose_matches_torch(backend, config):
    n, y, w, b, kw = config
    ours = getattr(backend.module, f"conv_transpose{n}d")(backend.array(y), backend.array(w), backend.array(b), **kw)
    assert_close_to_reference(ours, getattr(F, f"conv_transpose{n}d")(tensor(y), tensor(w), tensor(b), **kw))


@given(conv_configs(ndims=(2,), paddings=("int", "valid")))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(backend, config):
    """<conv2d(x), y> == <x, conv_transpose2d(y)>, output_padding giving back x's size."""
    _, x, w, _, kw = config
    conv2d, conv_transpose2d = backend.module.conv2d, backend.module.conv_transpose2d
    out = np.asarray(conv2d(backend.array(x), backend.array(w), **kw))
    y = np.random.default_rng(1).standard_normal(out.shape)
    strides, dils = as_tuple_of(kw["stride"], 2), as_tuple_of(kw["dilation"], 2)
    pads = as_tuple_of(0 if kw["padding"] == "valid" else kw["padding"], 2)
    # The convolution maps several input sizes onto one output size; output_padding picks x's: the
    # input rows a strided convolution does not reach.
    out_pad = tuple(
        (i + 2 * p - d * (k - 1) - 1) % s
        for i, p, d, k, s in zip(x.shape[2:], pads, dils, w.shape[2:], strides, strict=True)
    )
    if any(op >= s and op >= d for op, s, d in zip(out_pad, strides, dils, strict=True)):
        return  # no output_padding maps back to this input size (PyTorch has the same limit)
    back = np.asarray(
        conv_transpose2d(
            backend.array(y),
            backend.array(w),
            stride=strides,
            padding=pads,
            output_padding=out_pad,
            groups=kw["groups"],
            dilation=dils,
        )
    )
    assert back.shape == x.shape
    lhs, rhs = np.vdot(out, y), np.vdot(x, back)
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


def stretch_and_pad(y, t, stride):
    """The equivalent direct convolution's input along the last axis: stretched, padded (or cropped)."""
    stretched = torch.zeros(*y.shape[:-1], t.stretched_size, dtype=y.dtype)
    stretched[..., ::stride] = y
    return F.pad(stretched, (t.padding, t.padding + t.extra))  # negative pads crop, as p' < 0 means


@given(axis_convs(), st.integers(0, 2**31))
def test_transposed_equivalent_is_the_direct_convolution_torch_computes(conv, seed):
    i, k, s, p, d = conv
    t = shapes.transposed_equivalent(i, k, s, p, d)
    assert t.input_size == shapes.conv_output_size(i, k, s, p, d)
    assert (t.kernel_size, t.stride, t.dilation, t.output_size) == (k, 1, d, i)
    assert t.padding == d * (k - 1) - p and t.extra == (i + 2 * p - d * (k - 1) - 1) % s
    assert t.stretched_size == (t.input_size - 1) * s + 1
    gen = torch.Generator().manual_seed(seed)
    y = torch.randn(2, 3, t.input_size, generator=gen, dtype=F64)
    w = torch.randn(3, 2, k, generator=gen, dtype=F64)  # (C_in, C_out, k), transposed layout
    reference = F.conv_transpose1d(y, w, stride=s, padding=p, output_padding=t.extra, dilation=d)
    assert reference.shape[-1] == i  # the transpose gives the input size back
    # Same numbers: a stride-1 convolution of the stretched, padded input with the flipped kernel.
    direct = F.conv1d(stretch_and_pad(y, t, s), w.transpose(0, 1).flip(-1), dilation=d)
    assert_close_to_reference(direct, reference)
    assert_close_to_reference(
        cnp.conv_transpose1d(y.numpy(), w.numpy(), stride=s, padding=p, output_padding=t.extra, dilation=d), reference
    )


@given(axis_convs())
def test_transposed_relationship_numbers_follow_the_guide(conv):
    i, k, s, p, d = conv
    t = shapes.transposed_equivalent(i, k, s, p, d)
    if d > 1:
        assert t.relationship is None
        return
    ip = t.input_size
    formula = {
        8: ip + k - 1,
        9: ip + k - 1 - 2 * p,
        10: ip,
        11: ip - (k - 1),
        12: s * (ip - 1) + k,
        13: s * (ip - 1) + k - 2 * p,
        14: s * (ip - 1) + t.extra + k - 2 * p,
    }[t.relationship]
    assert formula == i
    assert {8: k - 1, 9: k - p - 1, 10: p, 11: 0}.get(t.relationship, t.padding) == t.padding
    assert (t.relationship == 14) == (t.extra != 0)


@pytest.mark.parametrize(
    "args, number, stretched, padding, extra",
    [  # the transposed figures of the guide
        ((4, 3), 8, 2, 2, 0),
        ((5, 4, 1, 2), 9, 6, 1, 0),
        ((5, 3, 1, 1), 10, 5, 1, 0),
        ((5, 3, 1, 2), 11, 7, 0, 0),
        ((5, 3, 2), 12, 3, 2, 0),
        ((5, 3, 2, 1), 13, 5, 1, 0),
        ((6, 3, 2, 1), 14, 5, 1, 1),
    ],
)
def test_transposed_equivalent_on_the_guides_figures(args, number, stretched, padding, extra):
    t = shapes.transposed_equivalent(*args)
    assert (t.relationship, t.stretched_size, t.padding, t.extra, t.output_size) == (
        number,
        stretched,
        padding,
        extra,
        args[0],
    )


@given(axis_convs())
def test_conv_input_sizes_are_what_output_padding_selects(conv):
    i, k, s, p, d = conv
    o = shapes.conv_output_size(i, k, s, p, d)
    sizes = shapes.conv_input_sizes(o, k, s, p, d)
    assert i in sizes and list(sizes) == sorted(sizes) and len(sizes) <= s
    assert all(shapes.conv_output_size(n, k, s, p, d) == o for n in sizes)
    assert shapes.conv_output_size(sizes[-1] + 1, k, s, p, d) == o + 1  # one more pixel: one more output
    offset = s - len(sizes)  # sizes that would be empty were dropped
    for n in sizes:
        a = n - sizes[0] + offset
        out = F.conv_transpose1d(
            torch.zeros(1, 1, o), torch.zeros(1, 1, k), stride=s, padding=p, output_padding=a, dilation=d
        )
        assert out.shape[-1] == n == shapes.conv_transpose_output_size(o, k, s, p, a, d)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2))
def test_output_padding_choices_are_what_torch_accepts(s, d, k, p):
    o, p = 4, min(p, k - 1)  # a larger padding crops the whole output away
    choices = shapes.output_padding_choices(s, d)
    for a in choices:
        n = F.conv_transpose1d(
            torch.zeros(1, 1, o), torch.zeros(1, 1, k), stride=s, padding=p, output_padding=a, dilation=d
        ).shape[-1]
        assert n == shapes.conv_transpose_output_size(o, k, s, p, a, d)
        # Below the stride the convolution maps the size back to o; from the stride on it does not.
        assert (shapes.conv_output_size(n, k, s, p, d) == o) == (a < s)
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose1d(
            torch.zeros(1, 1, o), torch.zeros(1, 1, k), stride=s, padding=p, output_padding=len(choices), dilation=d
        )
    with pytest.raises(ValueError, match="output padding must be smaller than either stride or dilation"):
        cnp.conv_transpose1d(
            np.zeros((1, 1, o)), np.zeros((1, 1, k)), stride=s, padding=p, output_padding=len(choices), dilation=d
        )


def _output_padding(size, kernel, args):
    return tuple(
        shapes.transposed_equivalent(i, k, s, p, d).extra
        for i, k, s, p, d in zip(size, kernel, args["stride"], args["padding"], args["dilation"], strict=True)
    )


@given(small_conv2d_configs())
def test_conv_transpose2d_multiplies_by_c_transposed(cfg):
    c_in, c_out, size, kernel, args, seed = cfg
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((c_out, c_in, *kernel))
    C = cnp.conv_matrix((c_in, *size), w, **args)
    out_size = shapes.conv_output_size(size, kernel, args["stride"], args["padding"], args["dilation"])
    y = rng.standard_normal((c_out, *out_size))
    expected = (C.T @ y.ravel()).reshape(c_in, *size)
    op = _output_padding(size, kernel, args)
    assert_close_to_reference(cnp.conv_transpose2d(y, w, output_padding=op, **args), expected)
    assert_close_to_reference(
        ctorch.conv_transpose2d(torch.from_numpy(y), torch.from_numpy(w), output_padding=op, **args), expected
    )
    assert_close_to_reference(
        F.conv_transpose2d(torch.from_numpy(y), torch.from_numpy(w), output_padding=op, **args), expected
    )


@given(small_conv2d_configs(), st.integers(1, 2))
def test_conv_transpose2d_is_the_input_gradient_of_conv2d(cfg, groups):
    c_in, c_out, size, kernel, args, seed = cfg
    c_in, c_out = c_in * groups, c_out * groups
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, c_in, *size, generator=gen, dtype=F64, requires_grad=True)
    w = torch.randn(c_out, c_in // groups, *kernel, generator=gen, dtype=F64)
    out = F.conv2d(x, w, groups=groups, **args)
    g = torch.randn(out.shape, generator=gen, dtype=F64)
    out.backward(g)
    op = _output_padding(size, kernel, args)
    assert_close_to_reference(ctorch.conv_transpose2d(g, w, output_padding=op, groups=groups, **args), x.grad)
    assert_close_to_reference(
        cnp.conv_transpose2d(g.numpy(), w.numpy(), output_padding=op, groups=groups, **args), x.grad
    )
    # and through the package's own differentiable convolution
    x2 = x.detach().clone().requires_grad_()
    ctorch.conv2d(x2, w, groups=groups, **args).backward(g)
    assert_close_to_reference(x2.grad, x.grad)


def explicit_count(size, kernel, stride, padding, output_padding):
    """Count the taps landing on each output pixel by looping over input pixels and kernel taps."""
    out = shapes.conv_transpose_output_size(size, kernel, stride, padding, output_padding)
    counts = np.zeros(out, dtype=np.int64)
    for pixel in np.ndindex(*size):
        for tap in np.ndindex(*kernel):
            target = tuple(a * s + t - p for a, t, s, p in zip(pixel, tap, stride, padding, strict=True))
            if all(0 <= q < o for q, o in zip(target, out, strict=True)):
                counts[target] += 1
    return counts


@given(overlap_configs())
def test_overlap_map_counts_the_taps(cfg):
    size, kernel, stride, padding, output_padding = cfg
    transpose = {1: F.conv_transpose1d, 2: F.conv_transpose2d}[len(size)]
    from_torch = transpose(
        torch.ones(1, 1, *size, dtype=F64),
        torch.ones(1, 1, *kernel, dtype=F64),
        stride=stride,
        padding=padding,
        output_padding=output_padding,
    )[0, 0].numpy()
    ours = cnp.overlap_map(size, kernel, stride, padding, output_padding)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours, from_torch)
    np.testing.assert_array_equal(ours, explicit_count(size, kernel, stride, padding, output_padding))
    np.testing.assert_array_equal(ctorch.overlap_map(size, kernel, stride, padding, output_padding).numpy(), ours)


@given(st.integers(1, 5), st.integers(1, 4))
def test_even_overlap_exactly_when_the_stride_divides_the_kernel(k, s):
    counts = cnp.overlap_map(12, k, s)
    interior = counts[k:-k]
    assert (interior.min() == interior.max()) == (k % s == 0)
    if k % s == 0:
        assert interior[0] == k // s


@given(
    st.integers(1, 4),
    st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(0, 1)), min_size=1, max_size=3),
    st.sampled_from([1, 2]),
)
def test_stacked_overlap_map_is_ones_through_the_stack(size, layers, n):
    x = torch.ones((1, 1) + (size,) * n, dtype=F64)
    transpose = {1: F.conv_transpose1d, 2: F.conv_transpose2d}[n]
    for k, s, p in layers:
        if x.shape[-1] - 1 < 0 or (x.shape[-1] - 1) * s - 2 * p + k <= 0:
            with pytest.raises(ValueError, match="removes the whole output"):
                cnp.stacked_overlap_map((size,) * n, layers)
            return
        x = transpose(x, torch.ones((1, 1) + (k,) * n, dtype=F64), stride=s, padding=p)
    np.testing.assert_array_equal(cnp.stacked_overlap_map((size,) * n, layers), x[0, 0].numpy())
    np.testing.assert_array_equal(ctorch.stacked_overlap_map((size,) * n, layers).numpy(), x[0, 0].numpy())


@given(
    st.integers(1, 3),
    st.sampled_from(["nearest", "bilinear"]),
    st.integers(1, 5),
    st.integers(1, 5),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_upsample2d_matches_interpolate(scale, mode, h, w, float32, seed):
    dtype = np.float32 if float32 else np.float64
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w)).astype(dtype)
    extra = {} if mode == "nearest" else {"align_corners": False}
    reference = F.interpolate(torch.from_numpy(x), scale_factor=scale, mode=mode, **extra)
    ours = cnp.upsample2d(x, scale, mode)
    assert ours.dtype == dtype
    assert_close_to_reference(ours, reference)
    assert_close_to_reference(ctorch.upsample2d(torch.from_numpy(x), scale, mode), reference)
    assert cnp.upsample2d(x[0], scale, mode).shape == reference.shape[1:]


@given(
    st.integers(1, 3), st.sampled_from(["nearest", "bilinear"]), st.integers(1, 3), st.booleans(), st.integers(0, 2**31)
)
def test_resize_conv2d_is_upsample_then_conv2d(scale, mode, k, bias, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, k, k))
    b = rng.standard_normal(2) if bias else None
    extra = {} if mode == "nearest" else {"align_corners": False}
    reference = F.conv2d(
        F.interpolate(torch.from_numpy(x), scale_factor=scale, mode=mode, **extra),
        torch.from_numpy(w),
        None if b is None else torch.from_numpy(b),
        padding="same",
    )
    assert_close_to_reference(cnp.resize_conv2d(x, w, b, scale, mode), reference)
    assert_close_to_reference(
        ctorch.resize_conv2d(
            torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b), scale, mode
        ),
        reference,
    )


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_resize_conv_module_matches_functional_and_transposed_size_and_cost(mode):
    torch.manual_seed(0)
    layer = ctorch.ResizeConv2d(4, 3, 3, mode=mode)
    x = torch.randn(2, 4, 5, 6)
    assert_close_to_reference(layer(x), ctorch.resize_conv2d(x, layer.weight, layer.bias, 2, mode))
    assert layer(x).shape == torch.nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1)(x).shape
    assert sum(p.numel() for p in layer.parameters()) == cost.conv_params(4, 3, 3)
    assert sum(p.numel() for p in ctorch.ResizeConv2d(4, 3, 3, bias=False).parameters()) == cost.conv_params(
        4, 3, 3, bias=False
    )
    layer(x).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.shape == layer.weight.shape


def test_resize_conv_has_no_checkerboard_and_transposed_conv_does():
    torch.manual_seed(0)
    x = torch.ones(1, 2, 8, 8)
    transposed = torch.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1, bias=False)(x)
    resized = ctorch.ResizeConv2d(2, 2, 3, bias=False)(x)
    inner = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    spread = lambda y: (y[inner].amax(dim=(2, 3)) - y[inner].amin(dim=(2, 3))).max().item()  # noqa: E731
    assert spread(resized) < 1e-6 and spread(transposed) > 1e-2


@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 2))
def test_conv_transpose_macs_is_half_the_flop_counter(size, c_in, c_out, k, groups):
    c_in, c_out = c_in * groups, c_out * groups
    layer = torch.nn.ConvTranspose2d(c_in, c_out, k, stride=2, padding=0, groups=groups, bias=False)
    with FlopCounterMode(display=False) as counter:
        layer(torch.zeros(1, c_in, size, size))
    assert counter.get_total_flops() == 2 * cost.conv_transpose_macs(size, c_in, c_out, k, groups)


@pytest.mark.parametrize(
    "args",
    [
        dict(input_size=2, kernel_size=3, stride=2),
        dict(input_size=(2, 3), kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0)),
        dict(input_size=3, kernel_size=2, stride=1, dilation=2),
    ],
)
def test_transposed_diagram_agrees_with_the_arithmetic(args):
    g = transposed_geometry(**args)
    counts = cnp.conv_transpose2d(
        np.ones((1, 1, *g.input_size)),
        np.ones((1, 1, *g.kernel_size)),
        stride=g.stride,
        padding=g.symmetric_padding,
        output_padding=g.output_padding,
        dilation=g.dilation,
    )[0, 0]
    assert g.padded_size == tuple(
        o + d * (k - 1) for o, k, d in zip(g.output_size, g.kernel_size, g.dilation, strict=True)
    )
    positions = list(np.ndindex(*g.output_size))
    for position in positions:
        assert len(g.contributions(position)) == counts[position]
    position = positions[len(positions) // 2]
    fig = draw_conv_transpose2d(**args, output_position=position)
    ax_in, ax_k, ax_out, ax_st, ax_flip = fig.axes
    assert ax_in.get_title().startswith("INPUT") and ax_out.get_title().startswith("OUTPUT")
    assert len([p for p in ax_in.patches if p.get_gid() == CONTRIBUTOR_GID]) == counts[position]
    assert len([p for p in ax_st.patches if p.get_gid() == WINDOW_GID]) == np.prod(g.kernel_size)
    # The numbers written in the OUTPUT are the overlap counts.
    written = sorted(int(t.get_text()) for t in ax_out.texts if t.get_text().isdigit())
    assert written == sorted(counts.astype(int).ravel().tolist())


def test_transposed_animation_has_one_frame_per_output_pixel():
    anim = animate_conv_transpose2d(1, 2, stride=2)
    assert len(list(anim.new_frame_seq())) == 4
    assert anim.to_jshtml().count("data:image/png;base64") == 4


def test_overlap_heatmap_shows_the_map():
    fig = draw_overlap_map((3, 3), 3, stride=2)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array().filled(0), cnp.overlap_map((3, 3), 3, 2))


ERRORS = [
    (lambda m: m.overlap_map((1, 2, 3), 3), TypeError, "input_size must be an int or a tuple of 1 or 2 ints"),
    (lambda m: m.overlap_map(0, 3), ValueError, "input_size must be positive"),
    (lambda m: m.overlap_map(3, 0), ValueError, "kernel_size must be positive, got kernel_size=0"),
    (lambda m: m.overlap_map(3, 3, stride=0), ValueError, "stride must be positive"),
    (lambda m: m.overlap_map(3, 3, stride=2, output_padding=2), ValueError, "output padding must be smaller"),
    (lambda m: m.overlap_map(1, 1, padding=1), ValueError, "removes the whole output"),
    (lambda m: m.stacked_overlap_map(3, []), ValueError, "layers must be a non-empty sequence"),
    (lambda m: m.stacked_overlap_map(3, [(3,)]), ValueError, "layers must be a non-empty sequence"),
    (lambda m: m.stacked_overlap_map(3, [(3, 0)]), ValueError, "stride must be positive"),
    (lambda m: m.stacked_overlap_map(1, [(3, 2), (1, 1, 5)]), ValueError, "removes the whole output"),
]


@pytest.mark.parametrize("backend", [cnp, ctorch])
@pytest.mark.parametrize("call, error, match", ERRORS)
def test_overlap_errors(backend, call, error, match):
    with pytest.raises(error, match=match):
        call(backend)


@pytest.mark.parametrize("backend, array", [(cnp, np.ones), (ctorch, lambda shape: torch.ones(shape))])
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m, a: m.upsample2d(a((1, 1, 2, 2)), 0), ValueError, "scale_factor must be positive"),
        (lambda m, a: m.upsample2d(a((1, 1, 2, 2)), 1.5), TypeError, "scale_factor must be an int"),
        (
            lambda m, a: m.upsample2d(a((1, 1, 2, 2)), 2, mode="bicubic"),
            ValueError,
            "mode must be 'nearest' or 'bilinear'",
        ),
        (lambda m, a: m.upsample2d(a((2, 2)), 2), ValueError, "expected input of 4 dimensions"),
        (lambda m, a: m.resize_conv2d(a((1, 2, 2, 2)), a((1, 3, 3, 3))), ValueError, "expects input with 3 channels"),
        (lambda m, a: m.resize_conv2d(a((1, 2, 2, 2)), a((1, 2, 3, 3)), mode="area"), ValueError, "mode must be"),
    ],
)
def test_upsampling_errors(backend, array, call, error, match):
    with pytest.raises(error, match=match):
        call(backend, array)


def test_complex_input_is_a_type_error():
    with pytest.raises(TypeError, match="input must be real"):
        cnp.upsample2d(np.ones((1, 1, 2, 2), dtype=complex))
    with pytest.raises(TypeError, match="input must be real"):
        ctorch.upsample2d(torch.ones(1, 1, 2, 2, dtype=torch.complex64))
    with pytest.raises(ValueError, match="mode must be"):
        ctorch.ResizeConv2d(2, 2, 3, mode="bicubic")


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: shapes.transposed_equivalent((5,), 3), TypeError, "input_size must be an int"),
        (lambda: shapes.transposed_equivalent(5, 3, stride=0), ValueError, "stride must be positive"),
        (lambda: shapes.transposed_equivalent(2, 3), ValueError, "larger than the padded input"),
        (lambda: shapes.conv_input_sizes(0, 3), ValueError, "output_size must be positive"),
        (lambda: shapes.conv_input_sizes(3, 3, padding=-1), ValueError, "padding must be non-negative"),
        (lambda: shapes.output_padding_choices(0), ValueError, "stride must be positive"),
        (lambda: shapes.output_padding_choices(2, dilation=1.0), TypeError, "dilation must be an int"),
        (lambda: cost.conv_transpose_macs(0, 1, 1, 3), ValueError, "input_size and kernel_size must be positive"),
        (lambda: cost.conv_transpose_macs(4, 3, 2, 3, groups=2), ValueError, "in_channels must be divisible by groups"),
        (lambda: draw_conv_transpose2d(3, 3, stride=2, padding=3), ValueError, "padding=3 is larger than dilation"),
        (lambda: draw_conv_transpose2d(2, 3, output_position=(5, 0)), ValueError, "output_position must lie inside"),
        (lambda: draw_conv_transpose2d((2, 2, 2), 3), TypeError, "input_size must be an int or a tuple of 2 ints"),
        (
            lambda: animate_conv_transpose2d(2, 3, stride=2, output_padding=2),
            ValueError,
            "output padding must be smaller",
        ),
    ],
)
def test_arithmetic_and_drawing_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
