"""Separable convolutions in NumPy: depthwise separable, spatially separable, and when a kernel factors.

The module holds the depthwise separable convolution (depthwise, then pointwise) and the spatially separable
one (a ``kH x 1`` column, then a ``1 x kW`` row), and the SVD arithmetic that says when a kernel factors:
``separate_kernel`` and ``low_rank_kernel``.

Every convolution here is a composition of :func:`conv2d` calls with arguments; nothing is
copied from the engine.

Chapters 5 and 7: ``book/05_spatially_separable_convolution.ipynb``,
``book/07_depthwise_separable_convolution.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.separable`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_finite_kernel, check_kernel_2d, check_rank, check_spatially_separable, check_tolerance
from ._arrays import as_float_arrays, quiet_nonfinite
from .depthwise import depthwise_conv2d
from .pointwise import pointwise_conv2d
from .standard import conv2d

__all__ = ["low_rank_kernel", "separable_conv2d", "separate_kernel", "spatially_separable_conv2d"]


@quiet_nonfinite
def separable_conv2d(
    input, depthwise_weight, pointwise_weight, depthwise_bias=None, pointwise_bias=None, stride=1, padding=0, dilation=1
):
    """Depthwise separable convolution: a depthwise convolution, then a pointwise (1x1) one.

    The depthwise step filters every channel on its own (space); the pointwise step mixes the
    channels at every pixel. As in Xception and MobileNet, stride, padding and dilation belong to
    the depthwise step.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    depthwise_weight : array_like, shape (C_in * multiplier, 1, kH, kW)
    pointwise_weight : array_like, shape (C_out, C_in * multiplier, 1, 1) or (C_out, C_in * multiplier)
    depthwise_bias : array_like, shape (C_in * multiplier,), optional
    pointwise_bias : array_like, shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``
    (the pointwise step keeps the size).

    Examples
    --------
    >>> x = np.ones((1, 3, 12, 12))
    >>> separable_conv2d(x, np.ones((3, 1, 5, 5)), np.ones((256, 3, 1, 1))).shape
    (1, 256, 8, 8)
    """
    x, dw, pw, db, pb = as_float_arrays(
        input=input,
        depthwise_weight=depthwise_weight,
        pointwise_weight=pointwise_weight,
        depthwise_bias=depthwise_bias,
        pointwise_bias=pointwise_bias,
    )
    return pointwise_conv2d(depthwise_conv2d(x, dw, db, stride, padding, dilation), pw, pb)


@quiet_nonfinite
def spatially_separable_conv2d(
    input, column_weight, row_weight, column_bias=None, row_bias=None, stride=1, padding=0, dilation=1, groups=1
):
    """A ``kH x kW`` convolution done as a ``kH x 1`` convolution, then a ``1 x kW`` one.

    Inception v3 replaces an ``n x n`` layer by ``n x 1`` then ``1 x n`` (Szegedy et al., 2016).
    Without a bias or non-linearity in between, the two steps are one convolution with the kernel
    ``W[o, c] = sum_m row[o, m, 0, :] ⊗ column[m, c, :, 0]`` (an outer product per middle channel);
    with ``groups = C_in = C_mid = C_out`` each channel's kernel is the rank-1 ``column ⊗ row``,
    as with a Sobel filter.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    column_weight : array_like, shape (C_mid, C_in // groups, kH, 1)
    row_weight : array_like, shape (C_out, C_mid // groups, 1, kW)
    column_bias : array_like, shape (C_mid,), optional
    row_bias : array_like, shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints
        ``(sH, sW)``: the column step uses ``sH`` along the height, the row step ``sW`` along the
        width; the same for the dilation.
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``
        ``(pH, pW)`` split the same way; ``'same'`` and ``'valid'`` apply to both steps.
    groups : int
        Used by both steps.

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H + 2 * pH - dH * (kH - 1) - 1) / sH) + 1``, ``W_out`` likewise: the sizes of
    the ``kH x kW`` convolution it replaces.

    Examples
    --------
    >>> x = np.arange(25.0).reshape(1, 1, 5, 5)
    >>> col, row = np.ones((1, 1, 3, 1)), np.ones((1, 1, 1, 3))
    >>> np.array_equal(spatially_separable_conv2d(x, col, row), conv2d(x, np.ones((1, 1, 3, 3))))
    True
    """
    x, cw, rw, cb, rb = as_float_arrays(
        input=input, column_weight=column_weight, row_weight=row_weight, column_bias=column_bias, row_bias=row_bias
    )
    column_step, row_step = check_spatially_separable(
        "spatially_separable_conv2d", cw.shape, rw.shape, stride, padding, dilation
    )
    middle = conv2d(x, cw, cb, *column_step, groups=groups)
    return conv2d(middle, rw, rb, *row_step, groups=groups)


def _singular_values_text(s: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in s) + "]"


def _svd(fn, kernel):
    """The SVD of a checked 2D kernel: float16 (which NumPy's SVD lacks) in float32, the factors cast back."""
    (k,) = as_float_arrays(kernel=kernel)
    check_kernel_2d(fn, k.shape)
    check_finite_kernel(fn, bool(np.isfinite(k).all()))
    u, s, vt = np.linalg.svd(k.astype(np.float32) if k.dtype == np.float16 else k)
    return k, u.astype(k.dtype), s.astype(k.dtype), vt.astype(k.dtype)


def separate_kernel(kernel, tol=None):
    """Factor a rank-1 2D kernel into a column and a row: ``np.outer(column, row) == kernel``.

    A kernel is separable exactly when it has rank 1 as a matrix: every row is a multiple of one
    row. The singular value decomposition ``kernel = sum_i s_i u_i v_i^T`` says so: only ``s_1``
    is non-zero, and ``column = sqrt(s_1) u_1``, ``row = sqrt(s_1) v_1``. The signs are chosen so
    that the column's largest entry (in magnitude) is positive.

    Parameters
    ----------
    kernel : array_like, shape (kH, kW)
    tol : float, optional
        Singular values at most ``tol`` count as zero (a non-negative number). Default: NumPy's
        ``matrix_rank`` rule, ``s_1 * max(kH, kW) * eps`` of the dtype.

    Returns
    -------
    column : ndarray, shape (kH,)
    row : ndarray, shape (kW,)

    Raises
    ------
    ValueError
        If the kernel's numerical rank is not 1 (or 0 for the zero kernel); the message gives the
        rank and the singular values. :func:`low_rank_kernel` approximates such a kernel.

    Examples
    --------
    >>> sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    >>> column, row = separate_kernel(sobel_x)
    >>> np.allclose(np.outer(column, row), sobel_x)
    True
    >>> np.allclose(column / column[0], [1, 2, 1]), np.allclose(row / row[0], [1, 0, -1])
    (True, True)
    """
    tol = check_tolerance("separate_kernel", tol)
    k, u, s, vt = _svd("separate_kernel", kernel)
    if tol is None:
        tol = s[0] * max(k.shape) * np.finfo(k.dtype).eps
    rank = int(np.sum(s > tol))
    if rank > 1:
        raise ValueError(
            f"separate_kernel: kernel is not separable: its numerical rank is {rank} (singular values "
            f"{_singular_values_text(s)}, tol={tol:.3g}); a separable kernel has rank 1. "
            f"low_rank_kernel(kernel, 1) gives the closest separable kernel"
        )
    column, row = np.sqrt(s[0]) * u[:, 0], np.sqrt(s[0]) * vt[0]
    sign = 1.0 if column[np.argmax(np.abs(column))] >= 0 else -1.0
    return sign * column, sign * row


def low_rank_kernel(kernel, rank):
    """The best rank-``r`` approximation of a 2D kernel and how far it is from the kernel.

    Keeping the ``r`` largest terms of the SVD, ``sum_{i <= r} s_i u_i v_i^T``, is the closest
    rank-``r`` matrix in the Frobenius (and spectral) norm (Eckart–Young); the error is
    ``sqrt(sum_{i > r} s_i^2)``. A rank-``r`` kernel is ``r`` separable kernels added: ``r``
    column-then-row convolutions.

    Parameters
    ----------
    kernel : array_like, shape (kH, kW)
    rank : int
        Between 1 and ``min(kH, kW)``.

    Returns
    -------
    approximation : ndarray, shape (kH, kW)
    error : float
        ``||kernel - approximation||_F``.

    Examples
    --------
    >>> approx, error = low_rank_kernel(np.eye(3), 1)    # the identity has rank 3
    >>> bool(np.isclose(error, np.sqrt(2)))
    True
    """
    k, u, s, vt = _svd("low_rank_kernel", kernel)
    rank = check_rank("low_rank_kernel", rank, k.shape)
    approximation = (u[:, :rank] * s[:rank]) @ vt[:rank]
    return approximation, float(np.sqrt(np.sum(s[rank:] ** 2)))
