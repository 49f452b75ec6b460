"""Dilated convolution: the gridding map against the gradient of real torch layers, the direct
conv_arithmetic relationships against PyTorch, the dilation diagrams, and bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from helpers import assert_close_to_reference
from hypothesis import given
from hypothesis import strategies as st
from matplotlib import pyplot as plt
from strategies import dilation_stacks

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ctorch
from conv_tutorial import shapes
from conv_tutorial.viz import draw_dilation_rates, draw_gridding_map

CONV = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def gradient_map(dilations, kernel, ndim):
    """Paths from each input pixel to the one output pixel of a stack of all-ones torch layers."""
    kernels = kernel if isinstance(kernel, list) else [kernel] * len(dilations)
    size = shapes.receptive_field([(k, 1, d) for k, d in zip(kernels, dilations, strict=True)])[0]
    layers = [
        CONV[ndim](1, 1, k, dilation=d, bias=False, dtype=torch.float64)
        for k, d in zip(kernels, dilations, strict=True)
    ]
    for layer in layers:
        torch.nn.init.ones_(layer.weight)
    x = torch.zeros((1, 1) + (size,) * ndim, dtype=torch.float64, requires_grad=True)
    out = torch.nn.Sequential(*layers)(x)
    assert out.shape[2:] == (1,) * ndim
    out.sum().backward()
    return x.grad[0, 0].numpy()


@given(dilation_stacks())
def test_gridding_map_is_the_gradient_through_real_torch_layers(stack):
    dilations, kernel, ndim = stack
    expected = gradient_map(dilations, kernel, ndim)
    ours_numpy = cnp.gridding_map(dilations, kernel, ndim)
    ours_torch = ctorch.gridding_map(dilations, kernel, ndim)
    assert ours_numpy.dtype == np.int64 and ours_torch.dtype == torch.int64
    np.testing.assert_array_equal(ours_numpy, expected)
    np.testing.assert_array_equal(ours_torch.numpy(), expected)


@given(dilation_stacks())
def test_gridding_map_spans_the_receptive_field_and_reads_its_corners(stack):
    dilations, kernel, ndim = stack
    kernels = kernel if isinstance(kernel, list) else [kernel] * len(dilations)
    size = shapes.receptive_field([(k, 1, d) for k, d in zip(kernels, dilations, strict=True)])[0]
    paths = cnp.gridding_map(dilations, kernel, ndim)
    assert paths.shape == (size,) * ndim
    # Every path picks one tap per layer: the counts add up to the product of the tap counts.
    assert paths.sum() == np.prod([k**ndim for k in kernels])
    assert paths[(0,) * ndim] == 1 and paths[(-1,) * ndim] == 1


def test_equal_rates_grid_and_hybrid_rates_do_not():
    # Wang et al. (2018): rates 2, 2, 2 read a quarter-lattice; 1, 2, 3 read every pixel.
    equal, hybrid = cnp.gridding_map([2, 2, 2]), cnp.gridding_map([1, 2, 3])
    assert equal.shape == hybrid.shape == (13, 13)
    assert np.count_nonzero(equal) == 49 and np.all(equal[1::2, :] == 0)
    assert np.count_nonzero(hybrid) == 169
    # Yu & Koltun's exponential rates 1, 2, 4, 8 with 3x3 kernels: every pixel of a 31x31 field.
    assert np.all(cnp.gridding_map([1, 2, 4, 8], ndim=1) > 0) and cnp.gridding_map([1, 2, 4, 8], ndim=1).size == 31


@given(st.integers(1, 12), st.integers(1, 4), st.integers(1, 3), st.integers(0, 3), st.integers(1, 4))
def test_conv_relationship_agrees_with_the_guide_formulas_and_torch(i, k, s, p, d):
    if d * (k - 1) + 1 > i + 2 * p:
        with pytest.raises(ValueError, match="larger than the padded input"):
            shapes.conv_relationship(i, k, s, p, d)
        return
    number = shapes.conv_relationship(i, k, s, p, d)
    formula = {
        1: i - k + 1,
        2: i - k + 2 * p + 1,
        3: i,
        4: i + k - 1,
        5: (i - k) // s + 1,
        6: (i + 2 * p - k) // s + 1,
        15: (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1,
    }[number]
    out = torch.nn.functional.conv1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    assert formula == out.shape[-1] == shapes.conv_output_size(i, k, s, p, d)
    assert (number == 15) == (d > 1)


@pytest.mark.parametrize(
    "args, number, output",
    [  # the convolutions drawn in the guide
        ((4, 3), 1, 2),
        ((5, 4, 1, 2), 2, 6),
        ((5, 3, 1, 1), 3, 5),
        ((5, 3, 1, 2), 4, 7),
        ((5, 3, 2), 5, 2),
        ((5, 3, 2, 1), 6, 3),
        ((6, 3, 2, 1), 6, 3),
        ((7, 3, 1, 0, 2), 15, 3),
    ],
)
def test_conv_relationship_on_the_guides_figures(args, number, output):
    assert shapes.conv_relationship(*args) == number
    assert shapes.conv_output_size(*args) == output


def test_the_chapter_example_7x7_kernel_3():
    assert shapes.conv_output_size(7, 3) == 5 and shapes.conv_output_size(7, 3, dilation=2) == 3
    assert shapes.effective_kernel_size(3, 2) == 5


@given(st.integers(1, 3), st.integers(1, 3), st.booleans())
def test_dilated_conv_in_both_backends_matches_torch(k, d, float32):
    dtype = np.float32 if float32 else np.float64
    rng = np.random.default_rng(k * 10 + d)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    w = rng.standard_normal((4, 3, k, k)).astype(dtype)
    reference = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), dilation=d, padding="same")
    assert_close_to_reference(cnp.conv2d(x, w, dilation=d, padding="same"), reference)
    assert_close_to_reference(
        ctorch.conv2d(torch.from_numpy(x), torch.from_numpy(w), dilation=d, padding="same"), reference
    )


def test_dilation_diagram_draws_k_squared_taps_per_rate():
    fig = draw_dilation_rates(3, (1, 2, 4))
    assert [ax.get_title() for ax in fig.axes] == [
        f"dilation {d}: 3×3 taps span {s}×{s}" for d, s in ((1, 3), (2, 5), (4, 9))
    ]
    for ax, span in zip(fig.axes, (3, 5, 9), strict=True):
        filled = [p for p in ax.patches if p.get_fill() and p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
        assert len(filled) == 9
        assert len([p for p in ax.patches if p.get_fill()]) == span * span


def test_gridding_heatmap_shows_the_map():
    fig = draw_gridding_map([1, 2, 3])
    assert fig.axes[0].get_title() == "rates 1, 2, 3: field 13×13, 169 pixels read (100%)"
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array().filled(0), cnp.gridding_map([1, 2, 3]))


@pytest.mark.parametrize("backend", [cnp, ctorch])
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m: m.gridding_map([]), TypeError, "dilations must be a non-empty sequence"),
        (lambda m: m.gridding_map(2), TypeError, "dilations must be a non-empty sequence"),
        (lambda m: m.gridding_map([1, 0]), ValueError, "dilations must be positive"),
        (lambda m: m.gridding_map([1, 2.5]), TypeError, "dilations must be an int or a tuple"),
        (lambda m: m.gridding_map([1, 2], kernel_size=0), ValueError, "kernel_size must be positive"),
        (
            lambda m: m.gridding_map([1, 2], kernel_size=[3]),
            ValueError,
            "kernel_size must be an int or one int per layer",
        ),
        (lambda m: m.gridding_map([1, 2], ndim=3), ValueError, "ndim must be 1 or 2"),
    ],
)
def test_gridding_map_errors(backend, call, error, match):
    with pytest.raises(error, match=match):
        call(backend)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: shapes.conv_relationship((5, 5), 3), TypeError, "input_size must be an int"),
        (lambda: shapes.conv_relationship(5, 0), ValueError, "kernel_size must be positive"),
        (lambda: shapes.conv_relationship(5, 3, padding=-1), ValueError, "padding must be non-negative"),
        (lambda: shapes.conv_relationship(5, 3, dilation=0), ValueError, "dilation must be positive"),
        (lambda: shapes.conv_relationship(3, 3, dilation=2), ValueError, "larger than the padded input"),
        (lambda: draw_dilation_rates(3, ()), TypeError, "dilations must be a non-empty sequence"),
        (lambda: draw_dilation_rates(0, (1, 2)), ValueError, "kernel_size must be positive"),
        (lambda: draw_gridding_map([0]), ValueError, "dilations must be positive"),
    ],
)
def test_relationship_and_drawing_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
