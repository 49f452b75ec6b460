"""Dilated (atrous) convolution in NumPy: the gridding map of a stack of dilated layers.

A dilated convolution is :func:`conv_tutorial.numpy.conv2d` with ``dilation=d``: the kernel's taps
sit ``d`` pixels apart, so a ``k``-tap kernel spans ``d(k - 1) + 1`` pixels
(:func:`conv_tutorial.shapes.effective_kernel_size`). Stacking layers grows the receptive field
(:func:`conv_tutorial.shapes.receptive_field`), but a stack whose rates share a factor reads only
a lattice of the pixels inside it: the *gridding* effect. :func:`gridding_map` computes which
input pixels one output pixel depends on, and through how many paths.

Chapter 9: ``book/09_dilated_convolution.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.dilated`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_dilation_stack
from .transposed import conv_transpose1d, conv_transpose2d

__all__ = ["gridding_map"]


def gridding_map(dilations, kernel_size=3, ndim=2):
    """How many paths lead from each input pixel to one output pixel through dilated layers.

    The layers (stride 1, all-ones kernels, no padding) are listed from the input side. Starting
    from a single output pixel, each layer is undone by the transposed convolution with an
    all-ones kernel and its dilation, last layer first: a transposed convolution sends every value
    to each input pixel its kernel reads, so after the whole stack entry ``m[u]`` counts the paths
    from input pixel ``u`` to the output pixel. It is the gradient of that output pixel with
    respect to the input, for all-ones weights. A zero inside the receptive field is a pixel the
    output never sees, whatever the weights: the holes of the gridding effect.

    Parameters
    ----------
    dilations : sequence of int
        Dilation rate of each layer, input side first.
    kernel_size : int or sequence of int
        Taps per axis of every layer, or one entry per layer.
    ndim : int
        1 for a signal, 2 for an image (square kernels).

    Returns
    -------
    ndarray of int64, shape (R,) or (R, R)
        ``R = 1 + sum(d_l (k_l - 1))``, the receptive field of
        :func:`conv_tutorial.shapes.receptive_field`; the output pixel sits over the centre
        (for odd kernels).

    Examples
    --------
    >>> gridding_map([2, 2], ndim=1)            # two layers at rate 2 skip every odd pixel
    array([1, 0, 2, 0, 3, 0, 2, 0, 1])
    >>> gridding_map([1, 2], ndim=1)            # rates 1, 2 reach every pixel
    array([1, 1, 2, 1, 2, 1, 1])
    """
    layers = check_dilation_stack("gridding_map", dilations, kernel_size, ndim)
    transpose = conv_transpose1d if ndim == 1 else conv_transpose2d
    paths = np.ones((1, 1) + (1,) * ndim)
    for k, d in reversed(layers):
        paths = transpose(paths, np.ones((1, 1) + (k,) * ndim), dilation=d)
    return np.rint(paths[0, 0]).astype(np.int64)
