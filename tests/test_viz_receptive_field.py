"""The receptive-field picture agrees with the arithmetic (shapes.receptive_field) and with a
measurement: the gradient of one output cell of a real stack of torch layers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; set before pyplot is imported

import numpy as np
import pytest
import torch
from matplotlib import pyplot as plt

from conv_tutorial.shapes import receptive_field
from conv_tutorial.viz import draw_receptive_field, receptive_paths
from conv_tutorial.viz.receptive_field import REACH_GID

STACKS = [
    [(3, 1), (3, 1)],
    [(5, 1)],
    [(3, 1), (3, 1), (3, 1)],
    [(7, 2), (3, 2), (3, 1)],
    [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
    [(3, 1, 2), (3, 1, 2)],  # gridding: holes in the field
    [(2, 2), (3, 1, 3), (1, 1)],
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def measured_paths(layers, input_size, output_index):
    """Gradients of one output cell with respect to every row of a Conv1d stack with weights 1."""
    x = torch.zeros(1, 1, input_size, dtype=torch.float64, requires_grad=True)
    rows, out = [x], x
    for k, s, *d in layers:
        conv = torch.nn.Conv1d(1, 1, k, stride=s, dilation=d[0] if d else 1, bias=False).double()
        torch.nn.init.ones_(conv.weight)
        out = conv(out)
        out.retain_grad()
        rows.append(out)
    out[0, 0, output_index].backward()
    return [r.grad[0, 0].numpy() for r in rows]


@pytest.mark.parametrize("layers", STACKS, ids=str)
@pytest.mark.parametrize("n_outputs", [1, 3, 4])
def test_paths_equal_the_gradient_and_span_the_receptive_field(layers, n_outputs):
    size, jump = receptive_field(layers)
    input_size = size + (n_outputs - 1) * jump
    for output_index in range(n_outputs):
        rows = receptive_paths(layers, input_size, output_index)
        for ours, grad in zip(rows, measured_paths(layers, input_size, output_index), strict=True):
            np.testing.assert_array_equal(ours, grad)
        reached = np.flatnonzero(rows[0])
        assert reached[-1] - reached[0] + 1 == size
        assert reached[0] == output_index * jump


@pytest.mark.parametrize("layers", STACKS, ids=str)
def test_picture_highlights_the_reached_cells(layers):
    fig = draw_receptive_field(layers, n_outputs=3)
    rows = receptive_paths(layers, receptive_field(layers)[0] + 2 * receptive_field(layers)[1], 1)
    ax = fig.axes[0]
    for level, row in enumerate(rows):
        highlighted = [p for p in ax.patches if p.get_gid() == f"{REACH_GID}-{level}"]
        assert len(highlighted) == np.count_nonzero(row)
    assert len(ax.patches) == sum(len(row) for row in rows)  # one cell per value of every row
    texts = sorted(int(t.get_text()) for t in ax.texts if t.get_text().isdigit())
    assert texts == sorted(int(v) for row in rows for v in row if v)
    assert any(f"receptive field: {receptive_field(layers)[0]} input cells" == t.get_text() for t in ax.texts)


def test_picture_into_given_axes_and_without_counts():
    fig, (a, b) = plt.subplots(1, 2)
    assert draw_receptive_field([(3, 1), (3, 1)], ax=a, show_paths=False, title="two 3x3") is fig
    assert not [t for t in a.texts if t.get_text().isdigit()] and a.get_title() == "two 3x3"


def test_bad_input():
    with pytest.raises(ValueError, match="layers must hold at least one"):
        receptive_paths([], 5, 0)
    with pytest.raises(ValueError, match="kernel_size, stride and dilation must be positive"):
        draw_receptive_field([(0, 1)])
    with pytest.raises(TypeError, match="tuples of ints"):
        draw_receptive_field([((3, 3), 1)])
    with pytest.raises(ValueError, match=r"output_index must be in \[0, 3\)"):
        receptive_paths([(3, 1)], 5, 3)
    with pytest.raises(ValueError, match="input_size must be a positive int"):
        receptive_paths([(3, 1)], 0, 0)
    with pytest.raises(ValueError, match="larger than the padded input"):
        receptive_paths([(3, 1), (3, 1)], 4, 0)
    with pytest.raises(ValueError, match="n_outputs must be a positive int"):
        draw_receptive_field([(3, 1)], n_outputs=0)


def test_deep_stacks_do_not_overflow():
    """3 ** 50 paths in all: more than an int64 holds; the float counts stay exact in ratio."""
    rows = receptive_paths([(3, 1)] * 50, 101, 0)
    assert rows[0].sum() == pytest.approx(3.0**50, rel=1e-12)
    assert rows[0][0] == 1 and rows[0][50] == rows[0].max()
