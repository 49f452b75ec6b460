"""Tests of :func:`conv_tutorial.viz.matrices.draw_matrix`: what it draws and what it refuses."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from conv_tutorial.numpy import conv_matrix, unfold
from conv_tutorial.viz.matrices import HIGHLIGHT_GID, draw_matrix


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _highlights(ax):
    return [p for p in ax.patches if p.get_gid() == HIGHLIGHT_GID]


def test_returns_a_figure_with_the_labels():
    fig = draw_matrix(np.eye(3), "input pixel", "output pixel", title="C")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("input pixel", "output pixel", "C")


def test_image_is_the_matrix_with_zeros_masked():
    C = conv_matrix((1, 4, 4), np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
    ax = draw_matrix(C, "input pixel", "output pixel").axes[0]
    data = ax.images[0].get_array()
    np.testing.assert_array_equal(data.filled(0.0), C)
    np.testing.assert_array_equal(np.ma.getmaskarray(data), C == 0)


def test_mask_zeros_off_keeps_zeros_as_values():
    cols = unfold(np.arange(16.0).reshape(1, 4, 4), 3)
    ax = draw_matrix(cols, "output position", "kernel tap", mask_zeros=False).axes[0]
    assert not np.ma.getmaskarray(ax.images[0].get_array()).any()
    assert len(ax.texts) == cols.size


def test_annotation_writes_each_non_zero_once():
    C = conv_matrix((1, 3, 3), np.full((1, 1, 2, 2), 2.0))
    ax = draw_matrix(C, "x", "y").axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["2"] * np.count_nonzero(C)


def test_large_matrices_are_not_annotated_by_default():
    ax = draw_matrix(np.ones((30, 30)), "x", "y").axes[0]
    assert len(ax.texts) == 0


def test_highlights_outline_rows_and_columns():
    ax = draw_matrix(np.ones((4, 5)), "x", "y", highlight_columns=[1, 3], highlight_rows=2).axes[0]
    outlines = _highlights(ax)
    assert len(outlines) == 3
    column = outlines[0]
    assert (column.get_x(), column.get_width(), column.get_height()) == (0.5, 1, 4)


def test_tick_labels_are_used():
    labels = ["a", "b", "c"]
    ax = draw_matrix(np.ones((2, 3)), "x", "y", xticklabels=labels).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == labels


def test_draws_into_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert draw_matrix(np.eye(2), "x", "y", ax=right) is fig
    assert right.images and not left.images


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(matrix=np.ones(3)), "matrix"),
        (dict(matrix=np.ones((2, 2)) * 1j), "matrix"),
        (dict(matrix=np.array([["a", "b"]])), "matrix"),
        (dict(matrix=np.ones((2, 2)), highlight_columns=2), "highlight_columns"),
        (dict(matrix=np.ones((2, 2)), highlight_rows=[-1]), "highlight_rows"),
        (dict(matrix=np.ones((2, 2)), yticklabels=["a"]), "yticklabels"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        draw_matrix(xlabel="x", ylabel="y", **kwargs)
