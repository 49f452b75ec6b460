"""The pictures of skip and dense connections: what they draw is computed from their arguments and
the cost model, and bad arguments get a clear error."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib import pyplot as plt

from conv_tutorial import cost
from conv_tutorial.viz import draw_connections, draw_dense_growth, draw_depth_curves, draw_gradient_norms


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("layers, k0, k", [(2, 16, 4), (4, 64, 32), (8, 3, 12)])
def test_draw_connections_labels_the_channels(layers, k0, k):
    fig = draw_connections(layers, k0, k)
    plain, residual, dense = fig.axes
    assert texts(dense).count(f"+{k}") == layers
    totals = [t for t in texts(dense) if t.endswith(" ch")]
    assert totals == [f"{k0 + j * k} ch" for j in range(layers + 1)]  # k0 + l k after layer l
    assert texts(residual).count("+") == layers // 2 == texts(residual).count("identity")
    assert texts(plain).count(f"{k0} ch") == layers + 1
    # One arrow per connection: L in the plain row, L + L/2 in the residual row, L (L + 1) / 2 in the dense row.
    assert [len(ax.patches) for ax in fig.axes] == [layers, layers + layers // 2, layers * (layers + 1) // 2]
    plt.close(fig)


def test_draw_depth_curves_and_gradient_norms():
    fig = draw_depth_curves([1, 2, 4], {"plain": [2.0, 1.5, 1.8], "residual": [2.0, 1.4, 0.9]}, title="t")
    ax = fig.axes[0]
    assert [list(line.get_ydata()) for line in ax.lines] == [[2.0, 1.5, 1.8], [2.0, 1.4, 0.9]]
    assert ax.get_xscale() == "log" and ax.get_title() == "t"
    plt.close(fig)
    fig = draw_gradient_norms({"plain": [8.0, 2.0, 0.5], "residual": [0.7, 0.3]})
    assert [len(line.get_xdata()) for line in fig.axes[0].lines] == [3, 2]
    plt.close(fig)
    fig = draw_gradient_norms({"plain, start": [1.0], "residual, start": [1.0], "plain, end": [2.0]})
    first, other, again = fig.axes[0].lines
    assert first.get_color() == again.get_color() != other.get_color()
    assert first.get_linestyle() == "-" and again.get_linestyle() == "--"
    plt.close(fig)


def test_draw_dense_growth_draws_the_cost_model():
    fig = draw_dense_growth(6, 64, 32, 56)
    left, right, twin = fig.axes
    tops = [bar.get_y() + bar.get_height() for bar in left.patches[6:]]
    assert tops == pytest.approx([cost.dense_layer_macs(56, 64 + 32 * i, 32) / 1e6 for i in range(6)])
    assert right.lines[0].get_ydata()[-1] == pytest.approx(cost.dense_block_macs(56, 6, 64, 32) / 1e9)
    assert twin.lines[0].get_ydata()[-1] == pytest.approx(cost.dense_block_concat_memory(56, 6, 64, 32) / 2**20)
    assert texts(left) == [str(64 + 32 * i) for i in range(6)]
    plt.close(fig)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: draw_connections(3), ValueError, "num_layers must be an even number up to 8"),
        (lambda: draw_connections(4, 0), ValueError, "in_channels must be a positive int"),
        (lambda: draw_connections(4, 64, 2.5), TypeError, "growth_rate must be an int"),
        (lambda: draw_depth_curves([1, 2], {"a": [1.0]}), ValueError, "one value per depth"),
        (lambda: draw_depth_curves([0, 2], {"a": [1.0, 2.0]}), ValueError, "depths must be a positive int"),
        (lambda: draw_gradient_norms({"a": [1.0, 0.0]}), ValueError, "positive, finite"),
        (lambda: draw_dense_growth(0, 64, 32, 56), ValueError, "num_layers must be a positive int"),
        (lambda: draw_dense_growth(4, 64, 0, 56), ValueError, "growth_rate must be a positive int"),
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
    plt.close("all")
