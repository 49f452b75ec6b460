"""Functions whose answer grows with an argument answer in memory proportional to the answer, or
refuse at once (a ``ValueError`` naming the arguments and the limit) an answer of more than
``MAX_ANSWER_SIZE`` entries, or a map whose computation would take more than ``MAX_MAP_WORK``
multiply-adds: never a ``MemoryError`` or minutes of work first."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct
from conv_tutorial import _checks, shapes

BACKENDS = [cnp, ct]


def refused_at_once(call, match):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        call()
    assert time.perf_counter() - start < 1.0, "the refusal must come before any work"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: shapes.conv_input_sizes(10**12, 3, stride=10**9),
            r"conv_input_sizes: with stride=1000000000 .*"
            r"1,000,000,000 entries, more than MAX_ANSWER_SIZE",
        ),
        (
            lambda: shapes.output_padding_choices(stride=10**12),
            r"with stride=1000000000000, dilation=1 .*MAX_ANSWER_SIZE",
        ),
        (lambda: shapes.output_padding_choices(stride=2, dilation=10**10), r"dilation=10000000000 .*MAX_ANSWER_SIZE"),
        (
            lambda: cnp.shuffle_permutation(10**12, 1),
            r"shuffle_permutation: with channels=1000000000000 .*MAX_ANSWER_SIZE",
        ),
        (
            lambda: cnp.conv_matrix((3, 224, 224), np.ones((64, 3, 7, 7)), stride=2, padding=3),
            r"conv_matrix: with input_shape=\(3, 224, 224\) and weight of shape \(64, 3, 7, 7\) the matrix of shape "
            r"\(802816, 150528\)",
        ),
    ],
)
def test_answers_too_large_are_refused_at_once(call, match):
    refused_at_once(call, match)


@pytest.mark.parametrize("backend", BACKENDS, ids=["numpy", "torch"])
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda m: m.gridding_map([1, 2], kernel_size=10**6),
            r"gridding_map: with dilations=\[1, 2\], kernel_size=1000000"
            r".*MAX_ANSWER_SIZE",
        ),
        (lambda m: m.gridding_map([10**12], ndim=1), r"dilations=\[1000000000000\].*MAX_ANSWER_SIZE"),
        (lambda m: m.gridding_map([1] * 300), r"gridding_map: .* multiply-adds, more than MAX_MAP_WORK"),
        (lambda m: m.overlap_map(10**12, 3), r"overlap_map: with input_size=1000000000000, .*MAX_ANSWER_SIZE"),
        (lambda m: m.overlap_map((3, 3), 3, stride=10**7), r"stride=10000000.*MAX_ANSWER_SIZE"),
        (lambda m: m.overlap_map((3, 3), 500, stride=2), r"kernel_size=500.*multiply-adds, more than MAX_MAP_WORK"),
        (
            lambda m: m.stacked_overlap_map(1000, [(4, 2, 1)] * 20),
            r"stacked_overlap_map: with input_size=1000, layers="
            r".*MAX_ANSWER_SIZE",
        ),
    ],
)
def test_maps_too_large_or_too_long_to_compute_are_refused_at_once(backend, call, match):
    refused_at_once(lambda: call(backend), match)


def test_the_limits_are_named_constants(monkeypatch):
    # At the limit the answer comes; one past it, the refusal (the constants are read at each call).
    monkeypatch.setattr(shapes, "MAX_ANSWER_SIZE", 10)  # defined (and read) in shapes
    assert shapes.conv_input_sizes(3, 3, stride=10, padding=1) == tuple(range(21, 31))
    with pytest.raises(ValueError, match="more than MAX_ANSWER_SIZE = 10 "):
        shapes.conv_input_sizes(3, 3, stride=11, padding=1)
    assert shapes.output_padding_choices(stride=10) == tuple(range(10))
    with pytest.raises(ValueError, match="MAX_ANSWER_SIZE"):
        shapes.output_padding_choices(stride=2, dilation=11)
    assert len(cnp.shuffle_permutation(10, 2)) == 10
    with pytest.raises(ValueError, match="MAX_ANSWER_SIZE"):
        cnp.shuffle_permutation(12, 2)
    assert cnp.overlap_map(4, 3, stride=2).shape == (9,)
    with pytest.raises(ValueError, match="MAX_ANSWER_SIZE"):
        cnp.overlap_map(5, 3, stride=2)  # 11 entries
    monkeypatch.setattr(shapes, "MAX_ANSWER_SIZE", 49)  # defined (and read) in shapes
    monkeypatch.setattr(_checks, "MAX_MAP_WORK", 9 * 9 + 9 * 25)
    assert ct.gridding_map([1, 1]).shape == (5, 5)  # 3x3 then 5x5 grids, 9 taps each: 9 * 9 + 9 * 25
    with pytest.raises(ValueError, match="more than MAX_MAP_WORK = 306 "):
        ct.gridding_map([1, 2])  # a 7x7 map is small enough, but takes 9 * 9 + 9 * 49 multiply-adds


def test_answers_under_the_limits_are_unchanged():
    # The sizes the book prints, and the sizes PyTorch's convolution maps onto the output size.
    assert shapes.conv_input_sizes(3, 3, stride=2, padding=1) == (5, 6)
    assert shapes.output_padding_choices(stride=2) == (0, 1)
    for size in shapes.conv_input_sizes(4, 3, stride=3, padding=1, dilation=2):
        assert F.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, 3), stride=3, padding=1, dilation=2).shape[-1] == 4
    assert shapes.conv_input_sizes(1, 1, stride=3, padding=2) == ()  # every candidate size would be empty
    big = shapes.conv_input_sizes(10**12, 3, stride=1000, padding=5)  # huge sizes, a short answer: fine
    assert len(big) == 1000 and big[0] == (10**12 - 1) * 1000 - 10 + 2 + 1
    assert cnp.shuffle_permutation(0, 3).shape == (0,)
    assert cnp.conv_matrix((1, 64, 64), np.ones((1, 1, 3, 3))).shape == (62 * 62, 64 * 64)
