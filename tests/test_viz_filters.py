"""The filter-volume pictures: one cell per weight and per map value, labels computed from the parameters."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib import pyplot as plt

from conv_tutorial.cost import conv_params, separable_conv_params
from conv_tutorial.shapes import conv_output_size
from conv_tutorial.viz import draw_filter_volumes


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _cells(fig) -> dict[str, int]:
    counts: dict[str, int] = {}
    for patch in fig.axes[0].patches:
        counts[patch.get_gid()] = counts.get(patch.get_gid(), 0) + 1
    return counts


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


@pytest.mark.parametrize("out_channels", [1, 4])
def test_standard_draws_every_weight_of_every_filter(out_channels):
    fig = draw_filter_volumes("standard", 3, 3, 5, out_channels=out_channels)
    assert _cells(fig) == {
        "input": 3 * 5 * 5,
        "filter": conv_params(3, out_channels, 3, bias=False),
        "output": out_channels * 3 * 3,
    }
    texts = _texts(fig)
    assert "input 5×5×3" in texts
    assert f"output 3×3×{out_channels}" in texts
    assert any(t.endswith(f"of 3×3×3\n{27 * out_channels} weights") for t in texts)
    assert sum(t.startswith("output map") for t in texts) == out_channels
    assert sum(t == "sum over\nthe 3 channels" for t in texts) == out_channels
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == [f"input channel {c}, kernel weight[o, {c}]" for c in range(3)] + ["sum over all 3 channels"]


@pytest.mark.parametrize(("out_channels", "multiplier"), [(None, 1), (6, 2)])
def test_depthwise_draws_one_thin_filter_and_one_map_per_output_channel(out_channels, multiplier):
    fig = draw_filter_volumes("depthwise", 3, (3, 2), 6, out_channels=out_channels, padding=1)
    n = 3 * multiplier
    out = conv_output_size((6, 6), (3, 2), padding=1)
    assert _cells(fig) == {"input": 3 * 36, "filter": n * 3 * 2, "output": n * out[0] * out[1]}
    texts = _texts(fig)
    assert "input 6×6×3, padding 1" in texts
    assert f"{n} filters of 3×2×1\n{n * 6} weights" in texts
    assert f"output {out[0]}×{out[1]}×{n}" in texts
    assert sum(t.startswith("output map") for t in texts) == n
    # Every filter and map has the colour of its own input channel: nothing is grey.
    assert len(fig.axes[0].get_legend().get_texts()) == 3


def test_separable_draws_depthwise_then_pointwise_weights():
    fig = draw_filter_volumes("separable", 3, 3, 6, out_channels=4, stride=2)
    out = conv_output_size(6, 3, stride=2)
    cells = _cells(fig)
    assert cells == {
        "input": 3 * 36,
        "depthwise filter": 27,
        "depthwise output": 3 * out * out,
        "pointwise filter": 12,
        "output": 4 * out * out,
    }
    assert cells["depthwise filter"] + cells["pointwise filter"] == separable_conv_params(3, 4, 3, bias=False)
    texts = _texts(fig)
    assert "depthwise: 3 filters\nof 3×3×1, 27 weights" in texts
    assert "pointwise: 4 filters\nof 1×1×3, 12 weights" in texts
    assert f"output {out}×{out}×4" in texts


def test_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert draw_filter_volumes("separable", 2, 3, 5, ax=ax) is fig
    assert len(ax.patches) > 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kind": "grouped"}, ValueError, "kind must be one of"),
        ({"kind": 1}, TypeError, "kind must be one of"),
        ({"in_channels": 0}, ValueError, "in_channels must be a positive int"),
        ({"in_channels": 2.0}, TypeError, "in_channels must be an int"),
        ({"in_channels": 9}, ValueError, "in_channels must be at most 7"),
        ({"kernel_size": 0}, ValueError, "kernel_size must be positive"),
        ({"kernel_size": "3"}, TypeError, "kernel_size must be an int or a tuple"),
        ({"input_size": 17}, ValueError, "input_size must be at most 16"),
        ({"input_size": 2}, ValueError, "larger than the padded input"),
        ({"out_channels": 0}, ValueError, "out_channels must be a positive int"),
        ({"out_channels": 9}, ValueError, "out_channels must be at most 8"),
        ({"kind": "depthwise", "out_channels": 4}, ValueError, "out_channels of a depthwise layer must be a multiple"),
        ({"stride": 0}, ValueError, "stride must be positive"),
        ({"padding": -1}, ValueError, "padding must be non-negative"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, error, match):
    arguments = {"kind": "standard", "in_channels": 3, "kernel_size": 3, "input_size": 5, **kwargs}
    with pytest.raises(error, match=match):
        draw_filter_volumes(**arguments)
