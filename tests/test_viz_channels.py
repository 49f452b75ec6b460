"""Channel connectivity measured from the layers, and its drawing."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib import pyplot as plt

from conv_tutorial.numpy import conv2d
from conv_tutorial.viz.channels import connectivity, draw_channel_graph


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_grouped_convolution_connects_exactly_its_group(groups):
    w = np.random.default_rng(0).standard_normal((6, 6 // groups, 3, 3))
    m = connectivity(lambda x: conv2d(x, w, padding=1, groups=groups), 6)
    group_of_out, group_of_in = np.arange(6) // (6 // groups), np.arange(6) // (6 // groups)
    np.testing.assert_array_equal(m, group_of_out[:, None] == group_of_in[None, :])


def test_a_permutation_is_a_permutation_matrix():
    order = np.array([0, 3, 1, 4, 2, 5])
    m = connectivity(lambda x: x[:, order], 6)
    np.testing.assert_array_equal(m, np.eye(6, dtype=bool)[order])


def test_draw_channel_graph_draws_one_edge_per_dependency():
    w = np.ones((4, 2, 1, 1))
    fig = draw_channel_graph([("g=2", lambda x: conv2d(x, w, groups=2)), ("swap", lambda x: x[:, ::-1])], 4)
    ax = fig.axes[0]
    assert len(ax.lines) == 8 + 4  # 2 inputs per output in the grouped layer, 1 in the permutation
    assert [t.get_text() for t in ax.get_xticklabels()][0].startswith("input")
    plt.close(fig)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: connectivity(lambda x: x, 0), "in_channels must be a positive int"),
        (lambda: draw_channel_graph([], 4), "stages must hold at least one"),
        (lambda: draw_channel_graph([("id", lambda x: x)], 4, input_groups=5), "input_groups must be an int"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
    plt.close("all")
