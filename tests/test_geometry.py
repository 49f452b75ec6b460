"""The one geometry value, ``shapes.ConvGeometry``: the bottom of the package, and its formulas
checked against PyTorch's shapes and against the formulas as PyTorch's documentation writes them."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import as_tuple, conv_configs, transposed_configs, window_configs

import conv_tutorial.numpy as cnp
from conv_tutorial import _checks, bench, shapes
from conv_tutorial.shapes import ConvGeometry, conv_axis_size, conv_transpose_axis_size

META = torch.device("meta")  # shapes without any arithmetic on values


def test_shapes_imports_only_the_standard_library():
    tree = ast.parse(Path(shapes.__file__).read_text())
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append("." * node.level + (node.module or ""))
    assert modules, "no import found: the parse is broken"
    outside = [m for m in modules if m.startswith(".") or m.split(".")[0] not in sys.stdlib_module_names]
    assert outside == [m for m in outside if m == "__future__"], f"shapes imports {outside}"


def test_the_checks_reexport_the_primitives_they_share_with_shapes():
    # One definition each, read under both names.
    for name in ("MAX_ANSWER_SIZE", "check_answer_size", "check_output_padding", "to_tuple"):
        assert getattr(_checks, name) is getattr(shapes, name)
        assert name in _checks.__all__


def _pads(padding, n):
    return tuple((p, p) for p in as_tuple(padding, n))


def _geometry_against_torch(config, transposed):
    """The package's geometry of a generated convolution, checked against PyTorch's output shape on meta tensors.

    Returns ``(n, geometry, kw)``.
    """
    n, x, w, b, kw = config
    name = f"conv_transpose{n}d" if transposed else f"conv{n}d"
    check = _checks.check_conv_transpose if transposed else _checks.check_conv
    g = check(name, n, x.shape, w.shape, None if b is None else b.shape, **kw)
    out = getattr(F, name)(torch.empty(x.shape, device=META), torch.empty(w.shape, device=META), **kw)
    assert g.output_shape == tuple(out.shape)
    assert (g.ndim, g.transposed, g.input_shape, g.weight_shape) == (n, transposed, x.shape, w.shape)
    return n, g, kw


@given(conv_configs())
def test_a_convolution_geometry_has_torchs_shapes(config):
    n, g, kw = _geometry_against_torch(config, transposed=False)
    # The formula as PyTorch's docs write it, with the padding of each side.
    assert g.output_size == tuple(
        (i + lo + hi - d * (k - 1) - 1) // s + 1
        for i, (lo, hi), k, s, d in zip(g.input_size, g.padding, g.kernel_size, g.stride, g.dilation, strict=True)
    )
    assert g.padded_size == tuple(i + lo + hi for i, (lo, hi) in zip(g.input_size, g.padding, strict=True))
    if kw["padding"] not in ("same", "valid"):
        assert g.output_size == as_tuple(shapes.conv_output_size(g.input_size, **_sizes(g, kw)), n)


def _sizes(g, kw):
    return dict(kernel_size=g.kernel_size, stride=g.stride, padding=kw["padding"], dilation=g.dilation)


@given(transposed_configs())
def test_a_transposed_geometry_has_torchs_shapes(config):
    n, g, kw = _geometry_against_torch(config, transposed=True)
    ops = as_tuple(kw["output_padding"], n)
    assert g.output_size == tuple(
        (i - 1) * s - 2 * p + d * (k - 1) + op + 1
        for i, p, k, s, d, op in zip(
            g.input_size, g.symmetric_padding, g.kernel_size, g.stride, g.dilation, ops, strict=True
        )
    )
    assert g.output_size == as_tuple(
        shapes.conv_transpose_output_size(
            g.input_size, g.kernel_size, g.stride, g.symmetric_padding, g.output_padding, g.dilation
        ),
        n,
    )
    # The equivalent direct convolution: stretched input, border p' = d(k - 1) - p (+ output_padding
    # after), stride 1, the same kernel: its output is the transposed convolution's.
    assert g.stretched_size == tuple((i - 1) * s + 1 for i, s in zip(g.input_size, g.stride, strict=True))
    assert g.border == tuple(
        (e - 1 - p, e - 1 - p + op) for e, p, op in zip(g.effective_kernel_size, g.symmetric_padding, ops, strict=True)
    )
    direct = ConvGeometry(1, 1, 1, g.stretched_size, g.kernel_size, (1,) * n, g.border, g.dilation)
    if all(lo >= 0 and hi >= 0 for lo, hi in g.border):
        assert direct.output_size == g.output_size
        assert direct.padded_size == g.padded_size


@given(
    st.integers(1, 3).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(1, 9), min_size=n, max_size=n),  # input
            st.lists(st.integers(1, 4), min_size=n, max_size=n),  # kernel
            st.lists(st.integers(1, 3), min_size=n, max_size=n),  # stride
            st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=n, max_size=n),  # (before, after)
            st.lists(st.integers(1, 3), min_size=n, max_size=n),  # dilation
        )
    )
)
def test_unequal_padding_is_torchs_pad_then_convolution(args):
    n, size, kernel, stride, padding, dilation = args
    g = ConvGeometry(2, 3, 4, tuple(size), tuple(kernel), tuple(stride), tuple(padding), tuple(dilation))
    x = F.pad(torch.empty(2, 3, *size, device=META), [p for pair in reversed(padding) for p in pair])
    if any(o <= 0 for o in g.output_size):
        assert any(e > p for e, p in zip(g.effective_kernel_size, g.padded_size, strict=True))
        return
    out = getattr(F, f"conv{n}d")(x, torch.empty(g.weight_shape, device=META), stride=stride, dilation=dilation)
    assert g.output_shape == tuple(out.shape)
    assert g.padded_size == tuple(x.shape[2:])


@given(
    st.integers(1, 30), st.integers(1, 5), st.integers(1, 4), st.integers(0, 4), st.integers(0, 3), st.integers(1, 3)
)
def test_the_per_axis_answers_agree_with_the_formulas(i, k, s, p, extra, d):
    # conv_input_sizes and transposed_equivalent are built on the two formulas: the input sizes a
    # convolution maps to one output size, and the transpose that gives each one back.
    if conv_axis_size(i, k, s, (p, p), d) < 1:
        with pytest.raises(ValueError, match="larger than the padded input"):
            shapes.conv_output_size(i, k, s, p, d)
        return
    o = shapes.conv_output_size(i, k, s, p, d)
    assert o == conv_axis_size(i, k, s, (p, p), d) == (i + 2 * p - d * (k - 1) - 1) // s + 1
    sizes = shapes.conv_input_sizes(o, k, s, p, d)
    assert i in sizes and all(conv_axis_size(n, k, s, (p, p), d) == o for n in sizes)
    t = shapes.transposed_equivalent(i, k, s, p, d)
    assert t.extra == (i + 2 * p - d * (k - 1) - 1) % s
    assert conv_transpose_axis_size(o, k, s, (p, p), t.extra, d) == t.output_size == i
    assert (t.stretched_size, t.padding) == ((o - 1) * s + 1, d * (k - 1) - p)
    assert t.padded_size - d * (k - 1) == i  # the equivalent direct convolution: stride 1
    a, back = extra % s, (o - 1) * s - 2 * p + d * (k - 1) + extra % s + 1
    if back > 0:
        assert shapes.conv_transpose_output_size(o, k, s, p, a, d) == back
    else:
        with pytest.raises(ValueError, match="padding removes the whole output"):
            shapes.conv_transpose_output_size(o, k, s, p, a, d)


@given(window_configs())
def test_unfold_and_fold_geometries_are_the_blocks_torch_counts(config):
    x, kw = config
    g = _checks.check_unfold(x.shape, **kw)
    cols = F.unfold(torch.from_numpy(x), **kw)
    channels = x.shape[-3]
    assert g.unbatched == (x.ndim == 3) and g.in_channels == channels
    assert (g.out_channels, int(np.prod(g.output_size))) == tuple(cols.shape[-2:])
    back = _checks.check_fold(cols.shape, x.shape[-2:], **kw)
    assert (back.input_size, back.in_channels, back.output_size) == (x.shape[-2:], channels, g.output_size)


def test_a_deformable_geometry_counts_its_offset_groups():
    g = _checks.check_deform_conv2d((2, 4, 7, 6), (2, 2 * 2 * 9, 4, 3), (6, 2, 3, 3), stride=2, padding=1)
    assert (g.groups, g.offset_groups, g.output_shape, g.weight_shape) == (2, 2, (2, 6, 4, 3), (6, 2, 3, 3))


def test_symmetric_padding_refuses_unequal_sides():
    g = _checks.check_conv("conv2d", 2, (1, 1, 5, 5), (1, 1, 2, 3), padding="same")
    assert g.padding == ((0, 1), (1, 1)) and g.output_size == (5, 5)
    with pytest.raises(ValueError, match=r"padding \(\(0, 1\), \(1, 1\)\) differs between the two sides"):
        _ = g.symmetric_padding


@pytest.mark.parametrize("transposed", [False, True])
def test_contributions_are_the_taps_that_reach_each_output(transposed):
    # One-hot inputs and kernels: output o holds 1 exactly where (pixel, tap) contributes to it.
    size, kernel, stride, pad, dilation = (3, 4), (2, 3), (2, 1), (1, 2), (1, 2)
    kwargs = dict(stride=stride, padding=pad, dilation=dilation)
    if transposed:
        g = _checks.check_conv_transpose("conv_transpose2d", 2, (1, 1, *size), (1, 1, *kernel), **kwargs)
        run = cnp.conv_transpose2d
    else:
        g = _checks.check_conv("conv2d", 2, (1, 1, *size), (1, 1, *kernel), **kwargs)
        run = cnp.conv2d
    reached = {position: [] for position in np.ndindex(*g.output_size)}
    for pixel in np.ndindex(*size):
        for tap in np.ndindex(*kernel):
            x, w = np.zeros((1, 1, *size)), np.zeros((1, 1, *kernel))
            x[(0, 0, *pixel)], w[(0, 0, *tap)] = 1, 1
            for position in zip(*np.nonzero(run(x, w, **kwargs)[0, 0]), strict=True):
                reached[tuple(int(q) for q in position)].append((pixel, tap))
    assert all(g.contributions(position) == sorted(pairs) for position, pairs in reached.items())
    assert any(reached.values())


@pytest.mark.parametrize("operation", bench.OPERATIONS, ids=lambda op: op.name)
def test_the_benchmark_layers_are_the_geometries_torch_runs(operation):
    for layer in (*operation.suite, operation.quick):
        g = layer.geometry(batch=2)
        conv = F.conv3d if layer.frames else F.conv2d
        x, w = torch.empty(g.input_shape, device=META), torch.empty(g.weight_shape, device=META)
        out = conv(x, w, stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups)
        assert g.output_shape == tuple(out.shape), layer.name
