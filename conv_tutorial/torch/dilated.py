"""Dilated (atrous) convolution from torch primitives: the gridding map of a stack of dilated layers.

A dilated convolution is :func:`conv_tutorial.torch.conv2d` with ``dilation=d``. Mirrors
:mod:`conv_tutorial.numpy.dilated`: :func:`gridding_map` counts the paths from each input pixel
to one output pixel through a stack of dilated layers, with the package's transposed convolution.

Chapter 9: ``book/09_dilated_convolution.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.dilated`.
"""

from __future__ import annotations

import torch

from .._checks import check_dilation_stack
from .transposed import conv_transpose1d, conv_transpose2d

__all__ = ["gridding_map"]


def gridding_map(dilations, kernel_size=3, ndim=2, device=None):
    """How many paths lead from each input pixel to one output pixel through dilated layers.

    Same arithmetic as :func:`conv_tutorial.numpy.gridding_map`: one output pixel taken back
    through every layer (last first) by a transposed convolution with an all-ones kernel.

    Parameters
    ----------
    dilations : sequence of int
        Dilation rate of each layer, input side first.
    kernel_size : int or sequence of int
        Taps per axis of every layer, or one entry per layer.
    ndim : int
        1 for a signal, 2 for an image (square kernels).
    device : torch.device or str, optional
        Where the result is placed (default: the CPU).

    Returns
    -------
    Tensor of int64, shape (R,) or (R, R)
        ``R = 1 + sum(d_l (k_l - 1))``.

    Examples
    --------
    >>> gridding_map([2, 2], ndim=1)
    tensor([1, 0, 2, 0, 3, 0, 2, 0, 1])
    """
    layers = check_dilation_stack("gridding_map", dilations, kernel_size, ndim)
    transpose = conv_transpose1d if ndim == 1 else conv_transpose2d
    paths = torch.ones((1, 1) + (1,) * ndim, dtype=torch.float64, device=device)
    for k, d in reversed(layers):
        paths = transpose(paths, torch.ones((1, 1) + (k,) * ndim, dtype=torch.float64, device=device), dilation=d)
    return torch.round(paths[0, 0]).to(torch.int64)
