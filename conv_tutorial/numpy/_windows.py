"""Where a kernel reads: zero padding, every receptive field as a strided view, every tap's index.

The primitives that both NumPy engines stand on: the im2col engine of chapter 2
(:mod:`conv_tutorial.numpy.im2col`) and the depthwise fast path of chapter 6
(:mod:`conv_tutorial.numpy._depthwise_engine`).

Chapters 2 and 6: ``book/02_convolution_as_matmul.ipynb``, ``book/06_depthwise_convolution.ipynb``.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["indices", "pad_spatial", "window_view"]


def indices(*shape):
    """Every index of an array of ``shape``, in C order (``np.ndindex`` without its setup cost)."""
    return itertools.product(*(range(n) for n in shape))


def pad_spatial(x: np.ndarray, padding) -> np.ndarray:
    """Zero-pad the spatial axes of ``(N, C, *S)`` by ``((left, right), ...)`` per axis."""
    if not any(lo or hi for lo, hi in padding):
        return x
    return np.pad(x, ((0, 0), (0, 0), *padding))


def window_view(padded: np.ndarray, kernel_size, stride, dilation, writeable: bool = False) -> np.ndarray:
    """All receptive fields of ``padded`` as a strided view, without copying.

    Parameters
    ----------
    padded : ndarray, shape (N, C, *S)
        Input that already carries its padding.
    kernel_size, stride, dilation : tuple of int, one per spatial axis

    Returns
    -------
    ndarray, shape (N, C, *O, *K)
        ``view[n, c, *o, *k] == padded[n, c, *(o * stride + k * dilation)]`` with
        ``O = (S - dilation * (K - 1) - 1) // stride + 1``.
    """
    n = len(kernel_size)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation, strict=True))
    view = sliding_window_view(padded, extent, axis=tuple(range(2, 2 + n)), writeable=writeable)
    return view[
        (slice(None), slice(None), *(slice(None, None, s) for s in stride), *(slice(None, None, d) for d in dilation))
    ]
