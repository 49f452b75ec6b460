"""Degenerate shapes: an empty batch gives an empty output of PyTorch's shape in both backends, and
an input without channels or without a map gives PyTorch's result where PyTorch answers, a
``ValueError`` naming the input where it refuses (never a NumPy reshape error or an error from
``F.fold`` deep inside an engine)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct

BACKENDS = [cnp, ct]


def zeros(backend, *shape):
    return np.zeros(shape) if backend is cnp else torch.zeros(shape, dtype=torch.float64)


def ref(*shape):
    return torch.zeros(shape, dtype=torch.float64)


# (name, our call on (backend, zeros), PyTorch's call): PyTorch answers, with the shape ours must have.
ANSWERED = [
    ("conv1d N=0", lambda m, z: m.conv1d(z(0, 3, 5), z(4, 3, 3)), lambda: F.conv1d(ref(0, 3, 5), ref(4, 3, 3))),
    (
        "conv2d N=0",
        lambda m, z: m.conv2d(z(0, 3, 5, 5), z(4, 3, 3, 3), z(4), stride=2, padding=1),
        lambda: F.conv2d(ref(0, 3, 5, 5), ref(4, 3, 3, 3), ref(4), stride=2, padding=1),
    ),
    (
        "conv2d N=0 same",
        lambda m, z: m.conv2d(z(0, 3, 5, 5), z(4, 3, 3, 3), padding="same"),
        lambda: F.conv2d(ref(0, 3, 5, 5), ref(4, 3, 3, 3), padding="same"),
    ),
    (
        "conv2d N=0 grouped",
        lambda m, z: m.conv2d(z(0, 4, 5, 5), z(6, 2, 3, 3), groups=2, dilation=2),
        lambda: F.conv2d(ref(0, 4, 5, 5), ref(6, 2, 3, 3), groups=2, dilation=2),
    ),
    (
        "conv2d N=0 depthwise",
        lambda m, z: m.conv2d(z(0, 3, 5, 5), z(6, 1, 3, 3), groups=3),
        lambda: F.conv2d(ref(0, 3, 5, 5), ref(6, 1, 3, 3), groups=3),
    ),
    (
        "conv3d N=0",
        lambda m, z: m.conv3d(z(0, 3, 4, 4, 4), z(4, 3, 3, 3, 3)),
        lambda: F.conv3d(ref(0, 3, 4, 4, 4), ref(4, 3, 3, 3, 3)),
    ),
    (
        "conv_transpose1d N=0",
        lambda m, z: m.conv_transpose1d(z(0, 3, 5), z(3, 4, 3), stride=2),
        lambda: F.conv_transpose1d(ref(0, 3, 5), ref(3, 4, 3), stride=2),
    ),
    (
        "conv_transpose2d N=0",
        lambda m, z: m.conv_transpose2d(z(0, 3, 5, 5), z(3, 4, 3, 3), z(4), stride=2, padding=1, output_padding=1),
        lambda: F.conv_transpose2d(ref(0, 3, 5, 5), ref(3, 4, 3, 3), ref(4), stride=2, padding=1, output_padding=1),
    ),
    (
        "conv_transpose2d N=0 depthwise",
        lambda m, z: m.conv_transpose2d(z(0, 3, 5, 5), z(3, 2, 3, 3), groups=3, stride=2),
        lambda: F.conv_transpose2d(ref(0, 3, 5, 5), ref(3, 2, 3, 3), groups=3, stride=2),
    ),
    (
        "conv_transpose3d N=0",
        lambda m, z: m.conv_transpose3d(z(0, 3, 2, 2, 2), z(3, 4, 3, 3, 3)),
        lambda: F.conv_transpose3d(ref(0, 3, 2, 2, 2), ref(3, 4, 3, 3, 3)),
    ),
    ("unfold N=0", lambda m, z: m.unfold(z(0, 3, 4, 4), 2), lambda: F.unfold(ref(0, 3, 4, 4), 2)),
    (
        "unfold N=0 strided",
        lambda m, z: m.unfold(z(0, 2, 7, 7), 3, dilation=2, padding=1, stride=2),
        lambda: F.unfold(ref(0, 2, 7, 7), 3, dilation=2, padding=1, stride=2),
    ),
    ("fold N=0", lambda m, z: m.fold(z(0, 12, 9), 4, 2), lambda: F.fold(ref(0, 12, 9), 4, 2)),
    (
        "channel_shuffle N=0",
        lambda m, z: m.channel_shuffle(z(0, 6, 3, 3), 2),
        lambda: F.channel_shuffle(ref(0, 6, 3, 3), 2),
    ),
    (
        "channel_shuffle C=0",
        lambda m, z: m.channel_shuffle(z(2, 0, 3, 3), 2),
        lambda: F.channel_shuffle(ref(2, 0, 3, 3), 2),
    ),
    (
        "channel_shuffle H=0",
        lambda m, z: m.channel_shuffle(z(2, 6, 0, 3), 2),
        lambda: F.channel_shuffle(ref(2, 6, 0, 3), 2),
    ),
    (
        "global_avg_pool2d N=0",
        lambda m, z: m.global_avg_pool2d(z(0, 3, 4, 4)),
        lambda: F.adaptive_avg_pool2d(ref(0, 3, 4, 4), 1),
    ),
    (
        "global_avg_pool2d C=0",
        lambda m, z: m.global_avg_pool2d(z(2, 0, 4, 4)),
        lambda: F.adaptive_avg_pool2d(ref(2, 0, 4, 4), 1),
    ),
    (
        "global_depthwise_conv2d N=0",
        lambda m, z: m.global_depthwise_conv2d(z(0, 3, 4, 4), z(3, 1, 4, 4), z(3)),
        lambda: F.conv2d(ref(0, 3, 4, 4), ref(3, 1, 4, 4), ref(3), groups=3),
    ),
    (
        "squeeze_excitation N=0",
        lambda m, z: m.squeeze_excitation(z(0, 8, 4, 4), z(2, 8), z(2), z(8, 2), z(8)),
        lambda: ref(0, 8, 4, 4),
    ),
    (
        "squeeze_excitation C=0",
        lambda m, z: m.squeeze_excitation(z(2, 0, 4, 4), z(2, 0), None, z(0, 2), None),
        lambda: ref(2, 0, 4, 4),
    ),
    (
        "pointwise_conv2d N=0",
        lambda m, z: m.pointwise_conv2d(z(0, 3, 4, 4), z(5, 3)),
        lambda: F.conv2d(ref(0, 3, 4, 4), ref(5, 3, 1, 1)),
    ),
    (
        "depthwise_conv2d N=0",
        lambda m, z: m.depthwise_conv2d(z(0, 3, 4, 4), z(6, 1, 3, 3)),
        lambda: F.conv2d(ref(0, 3, 4, 4), ref(6, 1, 3, 3), groups=3),
    ),
    (
        "separable_conv2d N=0",
        lambda m, z: m.separable_conv2d(z(0, 3, 6, 6), z(3, 1, 3, 3), z(5, 3, 1, 1)),
        lambda: F.conv2d(F.conv2d(ref(0, 3, 6, 6), ref(3, 1, 3, 3), groups=3), ref(5, 3, 1, 1)),
    ),
    (
        "spatially_separable_conv2d N=0",
        lambda m, z: m.spatially_separable_conv2d(z(0, 2, 6, 6), z(3, 2, 3, 1), z(4, 3, 1, 3)),
        lambda: F.conv2d(ref(0, 2, 6, 6), ref(4, 2, 3, 3)),
    ),
    (
        "upsample2d N=0",
        lambda m, z: m.upsample2d(z(0, 2, 3, 3), 2, "bilinear"),
        lambda: F.interpolate(ref(0, 2, 3, 3), scale_factor=2, mode="bilinear"),
    ),
    (
        "resize_conv2d N=0",
        lambda m, z: m.resize_conv2d(z(0, 2, 3, 3), z(4, 2, 3, 3)),
        lambda: F.conv2d(F.interpolate(ref(0, 2, 3, 3), scale_factor=2), ref(4, 2, 3, 3), padding="same"),
    ),
    (
        "deform_conv2d N=0",
        lambda m, z: m.deform_conv2d(z(0, 2, 4, 4), z(0, 18, 2, 2), z(3, 2, 3, 3), z(3), mask=z(0, 9, 2, 2)),
        lambda: F.conv2d(ref(0, 2, 4, 4), ref(3, 2, 3, 3)),
    ),  # zero offsets: the same shape as a convolution
    (
        "deform_sampling_points N=0",
        lambda m, z: m.deform_sampling_points(z(0, 18, 2, 2), 3),
        lambda: ref(0, 1, 3, 3, 2, 2, 2),
    ),
]


@pytest.mark.parametrize("backend", BACKENDS, ids=["numpy", "torch"])
@pytest.mark.parametrize(("name", "ours", "theirs"), ANSWERED, ids=[case[0] for case in ANSWERED])
def test_pytorch_answers_and_so_do_we(backend, name, ours, theirs):
    expected = theirs()
    out = ours(backend, lambda *shape: zeros(backend, *shape))
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(np.asarray(out), expected.numpy())


def test_unfold_of_an_empty_batch():
    # The case: NumPy's reshape can't infer a size when the batch is empty.
    expected = tuple(F.unfold(torch.zeros(0, 3, 4, 4), 2).shape)
    assert cnp.unfold(np.zeros((0, 3, 4, 4)), 2).shape == (0, 12, 9) == expected


def test_conv_backward_of_an_empty_batch():
    gx, gw, gb = cnp.conv_backward(np.ones((0, 4, 3, 3)), np.ones((0, 3, 5, 5)), np.ones((4, 3, 3, 3)))
    assert gx.shape == (0, 3, 5, 5) and gw.shape == (4, 3, 3, 3) and gb.shape == (4,)
    assert not gw.any() and not gb.any()


# (name, our call, PyTorch's call, what our ValueError says): PyTorch refuses, and so do we, by name.
REFUSED = [
    (
        "conv2d H=0",
        lambda m, z: m.conv2d(z(2, 3, 0, 5), z(4, 3, 1, 1)),
        lambda: F.conv2d(ref(2, 3, 0, 5), ref(4, 3, 1, 1)),
        r"conv2d: input must have non-zero spatial sizes",
    ),
    (
        "conv2d H=0 padded",
        lambda m, z: m.conv2d(z(2, 3, 0, 5), z(4, 3, 3, 3), padding=2),
        lambda: F.conv2d(ref(2, 3, 0, 5), ref(4, 3, 3, 3), padding=2),
        r"input must have non-zero spatial sizes",
    ),
    (
        "conv2d weight C_out=0",
        lambda m, z: m.conv2d(z(2, 3, 5, 5), z(0, 3, 3, 3)),
        lambda: F.conv2d(ref(2, 3, 5, 5), ref(0, 3, 3, 3)),
        r"weight .* must have non-zero sizes",
    ),
    (
        "pointwise_conv2d weight C_out=0",
        lambda m, z: m.pointwise_conv2d(z(2, 3, 4, 4), z(0, 3)),
        lambda: F.conv2d(ref(2, 3, 4, 4), ref(0, 3, 1, 1)),
        r"weight .* must have non-zero sizes",
    ),
    (
        "depthwise_conv2d weight C_out=0",
        lambda m, z: m.depthwise_conv2d(z(2, 3, 4, 4), z(0, 1, 3, 3)),
        lambda: F.conv2d(ref(2, 3, 4, 4), ref(0, 1, 3, 3), groups=3),
        r"expected weight of shape",
    ),
    (
        "conv3d H=0",
        lambda m, z: m.conv3d(z(1, 2, 3, 0, 3), z(2, 2, 1, 1, 1)),
        lambda: F.conv3d(ref(1, 2, 3, 0, 3), ref(2, 2, 1, 1, 1)),
        r"input must have non-zero spatial sizes",
    ),
    (
        "conv_transpose2d C=0",
        lambda m, z: m.conv_transpose2d(z(2, 0, 5, 5), z(0, 4, 3, 3)),
        lambda: F.conv_transpose2d(ref(2, 0, 5, 5), ref(0, 4, 3, 3)),
        r"input must have at least one channel",
    ),
    (
        "conv_transpose2d C_out=0",
        lambda m, z: m.conv_transpose2d(z(2, 3, 5, 5), z(3, 0, 3, 3)),
        lambda: F.conv_transpose2d(ref(2, 3, 5, 5), ref(3, 0, 3, 3)),
        r"weight .* must have non-zero sizes",
    ),
    (
        "conv_transpose2d H=0",
        lambda m, z: m.conv_transpose2d(z(2, 3, 0, 5), z(3, 4, 3, 3)),
        lambda: F.conv_transpose2d(ref(2, 3, 0, 5), ref(3, 4, 3, 3)),
        r"input must have non-zero spatial sizes",
    ),
    (
        "conv_transpose1d L=0",
        lambda m, z: m.conv_transpose1d(z(2, 3, 0), z(3, 4, 3)),
        lambda: F.conv_transpose1d(ref(2, 3, 0), ref(3, 4, 3)),
        r"input must have non-zero spatial sizes",
    ),
    (
        "conv_transpose3d C=0",
        lambda m, z: m.conv_transpose3d(z(1, 0, 2, 2, 2), z(0, 4, 3, 3, 3)),
        lambda: F.conv_transpose3d(ref(1, 0, 2, 2, 2), ref(0, 4, 3, 3, 3)),
        r"input must have at least one channel",
    ),
    (
        "unfold C=0",
        lambda m, z: m.unfold(z(1, 0, 4, 4), 2),
        lambda: F.unfold(ref(1, 0, 4, 4), 2),
        r"unfold: input must have at least one channel",
    ),
    (
        "unfold unbatched C=0",
        lambda m, z: m.unfold(z(0, 4, 4), 2),
        lambda: F.unfold(ref(0, 4, 4), 2),
        r"input must have at least one channel",
    ),
    (
        "unfold H=0",
        lambda m, z: m.unfold(z(1, 3, 0, 4), 1, padding=1),
        lambda: F.unfold(ref(1, 3, 0, 4), 1, padding=1),
        r"input must have non-zero spatial sizes",
    ),
    (
        "fold C=0",
        lambda m, z: m.fold(z(1, 0, 9), 4, 2),
        lambda: F.fold(ref(1, 0, 9), 4, 2),
        r"fold: expected input with a non-zero dimension -2",
    ),
    (
        "fold unbatched C=0",
        lambda m, z: m.fold(z(0, 9), 4, 2),
        lambda: F.fold(ref(0, 9), 4, 2),
        r"non-zero dimension -2",
    ),
    (
        "global_depthwise_conv2d C=0",
        lambda m, z: m.global_depthwise_conv2d(z(2, 0, 4, 4), z(0, 1, 4, 4)),
        lambda: F.conv2d(ref(2, 0, 4, 4), ref(0, 1, 4, 4)),
        r"input must have at least one channel",
    ),
    (
        "upsample2d C=0",
        lambda m, z: m.upsample2d(z(2, 0, 3, 3)),
        lambda: F.interpolate(ref(2, 0, 3, 3), scale_factor=2),
        r"upsample2d: input must have at least one channel",
    ),
    (
        "upsample2d H=0",
        lambda m, z: m.upsample2d(z(2, 2, 0, 3), 2, "bilinear"),
        lambda: F.interpolate(ref(2, 2, 0, 3), scale_factor=2, mode="bilinear"),
        r"input must have non-zero spatial",
    ),
    (
        "resize_conv2d C=0",
        lambda m, z: m.resize_conv2d(z(2, 0, 3, 3), z(4, 0, 3, 3)),
        lambda: F.interpolate(ref(2, 0, 3, 3), scale_factor=2),
        r"resize_conv2d: input must have at least one channel",
    ),
]


@pytest.mark.parametrize("backend", BACKENDS, ids=["numpy", "torch"])
@pytest.mark.parametrize(("name", "ours", "theirs", "match"), REFUSED, ids=[case[0] for case in REFUSED])
def test_pytorch_refuses_and_so_do_we_by_name(backend, name, ours, theirs, match):
    with pytest.raises(RuntimeError):
        theirs()
    with pytest.raises(ValueError, match=match):
        ours(backend, lambda *shape: zeros(backend, *shape))


# PyTorch answers these with a shape that contradicts the weight (a convolution with 4 filters
# returning 0 channels) or with NaN (the mean of nothing); a clear error is the better answer.
ODD = [
    ("conv2d C=0", lambda m, z: m.conv2d(z(2, 0, 5, 5), z(4, 0, 3, 3)), r"input must have at least one channel"),
    (
        "pointwise_conv2d C=0",
        lambda m, z: m.pointwise_conv2d(z(2, 0, 4, 4), z(5, 0)),
        r"input must have at least one channel",
    ),
    (
        "global_avg_pool2d H=0",
        lambda m, z: m.global_avg_pool2d(z(2, 3, 0, 4)),
        r"global_avg_pool2d: input must have a non-empty feature map",
    ),
    (
        "deform_conv2d C=0",
        lambda m, z: m.deform_conv2d(z(1, 0, 4, 4), z(1, 18, 2, 2), z(3, 0, 3, 3)),
        r"deform_conv2d: input must have at least one channel",
    ),
    (
        "deform_conv2d H=0",
        lambda m, z: m.deform_conv2d(z(1, 2, 0, 4), z(1, 6, 0, 2), z(3, 2, 1, 3)),
        r"deform_conv2d: input must have non-zero spatial sizes",
    ),
    (
        "deform_conv2d weight C_out=0",
        lambda m, z: m.deform_conv2d(z(1, 2, 4, 4), z(1, 18, 2, 2), z(0, 2, 3, 3)),
        r"weight must have non-zero sizes",
    ),
    (
        "deform_conv2d channels not divisible",
        lambda m, z: m.deform_conv2d(z(1, 0, 5, 5), z(1, 18, 3, 3), z(6, 4, 3, 3)),
        r"input must have at least one channel",
    ),  # was a ZeroDivisionError in the checks
]


@pytest.mark.parametrize("backend", BACKENDS, ids=["numpy", "torch"])
@pytest.mark.parametrize(("name", "ours", "match"), ODD, ids=[case[0] for case in ODD])
def test_empty_channels_or_maps_where_pytorch_answers_oddly_are_clear_errors(backend, name, ours, match):
    with pytest.raises(ValueError, match=match):
        ours(backend, lambda *shape: zeros(backend, *shape))
