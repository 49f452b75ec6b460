"""Separable convolutions from torch primitives: depthwise separable, spatially separable, and when a kernel factors.

The module holds ``separable_conv2d`` (depthwise, then pointwise), ``spatially_separable_conv2d`` (a
``kH x 1`` column, then a ``1 x kW`` row), the SVD arithmetic ``separate_kernel`` and ``low_rank_kernel``,
and the ``nn.Module`` blocks :class:`DepthwiseSeparableConv2d` and :class:`SpatiallySeparableConv2d`.

Every convolution is a composition of :func:`conv2d` calls with arguments; everything is
differentiable (the SVD too) and runs on any device.

Chapters 5 and 7: ``book/05_spatially_separable_convolution.ipynb``,
``book/07_depthwise_separable_convolution.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.separable`.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import (
    _positive,
    check_divisible,
    check_finite_kernel,
    check_flag,
    check_geometry,
    check_kernel_2d,
    check_positive_int,
    check_rank,
    check_spatially_separable,
    check_tolerance,
)
from ._layers import conv_bias, conv_weight
from ._tensors import common_float_dtype
from .depthwise import depthwise_conv2d
from .pointwise import pointwise_conv2d
from .standard import conv2d

__all__ = [
    "DepthwiseSeparableConv2d",
    "SpatiallySeparableConv2d",
    "low_rank_kernel",
    "separable_conv2d",
    "separate_kernel",
    "spatially_separable_conv2d",
]


def separable_conv2d(
    input, depthwise_weight, pointwise_weight, depthwise_bias=None, pointwise_bias=None, stride=1, padding=0, dilation=1
):
    """Depthwise separable convolution: a depthwise convolution, then a pointwise (1x1) one.

    Stride, padding and dilation belong to the depthwise step, as in Xception and MobileNet.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    depthwise_weight : Tensor, shape (C_in * multiplier, 1, kH, kW)
    pointwise_weight : Tensor, shape (C_out, C_in * multiplier, 1, 1) or (C_out, C_in * multiplier)
    depthwise_bias : Tensor, shape (C_in * multiplier,), optional
    pointwise_bias : Tensor, shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``
    (the pointwise step keeps the size).

    Examples
    --------
    >>> x = torch.ones(1, 3, 12, 12)
    >>> separable_conv2d(x, torch.ones(3, 1, 5, 5), torch.ones(256, 3, 1, 1)).shape
    torch.Size([1, 256, 8, 8])
    """
    common_float_dtype(
        input=input,
        depthwise_weight=depthwise_weight,
        pointwise_weight=pointwise_weight,
        depthwise_bias=depthwise_bias,
        pointwise_bias=pointwise_bias,
    )  # the type checks, by name
    middle = depthwise_conv2d(input, depthwise_weight, depthwise_bias, stride, padding, dilation)
    return pointwise_conv2d(middle, pointwise_weight, pointwise_bias)


def spatially_separable_conv2d(
    input, column_weight, row_weight, column_bias=None, row_bias=None, stride=1, padding=0, dilation=1, groups=1
):
    """A ``kH x kW`` convolution done as a ``kH x 1`` convolution, then a ``1 x kW`` one.

    See :func:`conv_tutorial.numpy.spatially_separable_conv2d` for the arithmetic.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    column_weight : Tensor, shape (C_mid, C_in // groups, kH, 1)
    row_weight : Tensor, shape (C_out, C_mid // groups, 1, kW)
    column_bias : Tensor, shape (C_mid,), optional
    row_bias : Tensor, shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints
        ``(sH, sW)``: the column step uses ``sH`` along the height, the row step ``sW`` along the
        width; the same for the dilation.
    padding : int, tuple of 2 ints, ``'valid'`` or ``'same'``
        ``(pH, pW)`` split the same way; ``'same'`` and ``'valid'`` apply to both steps.
    groups : int
        Used by both steps.

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H + 2 * pH - dH * (kH - 1) - 1) / sH) + 1``, ``W_out`` likewise: the sizes of
    the ``kH x kW`` convolution it replaces.

    Examples
    --------
    >>> x = torch.arange(25.0).reshape(1, 1, 5, 5)
    >>> out = spatially_separable_conv2d(x, torch.ones(1, 1, 3, 1), torch.ones(1, 1, 1, 3))
    >>> torch.equal(out, conv2d(x, torch.ones(1, 1, 3, 3)))
    True
    """
    common_float_dtype(
        input=input, column_weight=column_weight, row_weight=row_weight, column_bias=column_bias, row_bias=row_bias
    )
    column_step, row_step = check_spatially_separable(
        "spatially_separable_conv2d", column_weight.shape, row_weight.shape, stride, padding, dilation
    )
    middle = conv2d(input, column_weight, column_bias, *column_step, groups=groups)
    return conv2d(middle, row_weight, row_bias, *row_step, groups=groups)


def _svd(fn, kernel):
    """The SVD of a checked 2D kernel: float16 (which torch's SVD lacks) in float32, the factors cast back."""
    dtype = common_float_dtype(kernel=kernel)
    check_kernel_2d(fn, kernel.shape)
    k = kernel.to(dtype)
    check_finite_kernel(fn, bool(torch.isfinite(k).all()))
    u, s, vt = torch.linalg.svd(k.float() if dtype == torch.float16 else k)
    return k, u.to(dtype), s.to(dtype), vt.to(dtype)


def separate_kernel(kernel, tol=None):
    """Factor a rank-1 2D kernel into a column and a row: ``torch.outer(column, row) == kernel``.

    See :func:`conv_tutorial.numpy.separate_kernel`; computed with ``torch.linalg.svd``
    (differentiable).

    Parameters
    ----------
    kernel : Tensor, shape (kH, kW)
    tol : float, optional
        Singular values at most ``tol`` count as zero (a non-negative number). Default: NumPy's
        ``matrix_rank`` rule, ``s_1 * max(kH, kW) * eps`` of the dtype.

    Returns
    -------
    column : Tensor, shape (kH,)
    row : Tensor, shape (kW,)

    Raises
    ------
    ValueError
        If the kernel's numerical rank is above 1; the message gives the rank and the singular values.

    Examples
    --------
    >>> column, row = separate_kernel(torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]))
    >>> torch.allclose(torch.outer(column, row), torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]), atol=1e-6)
    True
    """
    tol = check_tolerance("separate_kernel", tol)
    k, u, s, vt = _svd("separate_kernel", kernel)
    dtype = k.dtype
    if tol is None:
        tol = float(s[0]) * max(k.shape) * torch.finfo(dtype).eps
    rank = int((s > tol).sum())
    if rank > 1:
        values = ", ".join(f"{float(v):.4g}" for v in s)
        raise ValueError(
            f"separate_kernel: kernel is not separable: its numerical rank is {rank} (singular values "
            f"[{values}], tol={tol:.3g}); a separable kernel has rank 1. "
            f"low_rank_kernel(kernel, 1) gives the closest separable kernel"
        )
    column, row = s[0].sqrt() * u[:, 0], s[0].sqrt() * vt[0]
    sign = 1.0 if float(column[column.abs().argmax()]) >= 0 else -1.0
    return sign * column, sign * row


def low_rank_kernel(kernel, rank):
    """The best rank-``r`` approximation of a 2D kernel (Eckart–Young) and its Frobenius error.

    See :func:`conv_tutorial.numpy.low_rank_kernel`.

    Parameters
    ----------
    kernel : Tensor, shape (kH, kW)
    rank : int
        Between 1 and ``min(kH, kW)``.

    Returns
    -------
    approximation : Tensor, shape (kH, kW)
    error : Tensor, scalar
        ``||kernel - approximation||_F`` (a tensor, so that it can be differentiated).

    Examples
    --------
    >>> approx, error = low_rank_kernel(torch.eye(3, dtype=torch.float64), 1)
    >>> round(float(error), 6)
    1.414214
    """
    k, u, s, vt = _svd("low_rank_kernel", kernel)
    rank = check_rank("low_rank_kernel", rank, tuple(k.shape))
    return (u[:, :rank] * s[:rank]) @ vt[:rank], s[rank:].square().sum().sqrt()


class DepthwiseSeparableConv2d(nn.Module):
    """Depthwise convolution, then pointwise (1x1) convolution, with optional norm and activation.

    With ``norm`` and ``activation`` this is MobileNet's block (Howard et al., 2017)::

        depthwise -> norm -> activation -> pointwise -> norm -> activation

    Without them it is Xception's separable convolution (Chollet, 2017) and equals
    :func:`separable_conv2d` of its parameters.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 2 ints
        Of the depthwise step.
    stride, padding, dilation : as in :func:`separable_conv2d` (the depthwise step's)
    depth_multiplier : int
        Depthwise filters per input channel; the pointwise step sees ``in_channels * depth_multiplier``.
    norm : callable, optional
        ``norm(channels) -> nn.Module``, e.g. ``nn.BatchNorm2d``; applied after each step.
    activation : callable, optional
        ``activation() -> nn.Module``, e.g. ``nn.ReLU``; applied after each step (and its norm).
    bias : bool, optional
        Bias in both convolutions; by default only when there is no ``norm`` (a norm's shift does
        a bias's job).

    Attributes
    ----------
    depthwise_weight : Parameter, shape (in_channels * depth_multiplier, 1, kH, kW)
    pointwise_weight : Parameter, shape (out_channels, in_channels * depth_multiplier, 1, 1)
    depthwise_bias, pointwise_bias : Parameter or None

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, H_out, W_out)`` with the depthwise
    step's ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``.

    Examples
    --------
    >>> block = DepthwiseSeparableConv2d(3, 256, 3, bias=False)
    >>> sum(p.numel() for p in block.parameters())      # 3*3*3 + 3*256
    795
    >>> block(torch.randn(1, 3, 12, 12)).shape
    torch.Size([1, 256, 10, 10])
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        depth_multiplier=1,
        norm=None,
        activation=None,
        bias=None,
    ):
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("depth_multiplier", depth_multiplier),
        ):
            check_positive_int(None, name, value)
        kh, kw = _positive(kernel_size, 2, "kernel_size")
        check_geometry(None, 2, stride, padding, dilation)
        if bias is not None:
            check_flag(None, "bias", bias)
        for name, fn in (("norm", norm), ("activation", activation)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a callable that makes an nn.Module, got {fn!r}")
        bias = norm is None if bias is None else bias
        mid = in_channels * depth_multiplier
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.depthwise_weight = conv_weight(mid, 1, kh, kw)
        self.pointwise_weight = conv_weight(out_channels, mid, 1, 1)
        self.depthwise_bias = conv_bias(mid, kh * kw) if bias else None
        self.pointwise_bias = conv_bias(out_channels, mid) if bias else None
        self.depthwise_norm = norm(mid) if norm else nn.Identity()
        self.pointwise_norm = norm(out_channels) if norm else nn.Identity()
        self.depthwise_activation = activation() if activation else nn.Identity()
        self.pointwise_activation = activation() if activation else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Depthwise, then pointwise, each step with its norm and activation: ``(N, out_channels, H_out, W_out)``."""
        x = depthwise_conv2d(x, self.depthwise_weight, self.depthwise_bias, self.stride, self.padding, self.dilation)
        x = self.depthwise_activation(self.depthwise_norm(x))
        x = pointwise_conv2d(x, self.pointwise_weight, self.pointwise_bias)
        return self.pointwise_activation(self.pointwise_norm(x))


class SpatiallySeparableConv2d(nn.Module):
    """A ``kH x kW`` layer as a ``kH x 1`` convolution then a ``1 x kW`` one (Inception v3).

    Equals :func:`spatially_separable_conv2d` of its parameters.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 2 ints
        ``(kH, kW)`` of the layer it replaces.
    stride, padding, dilation : as in :func:`spatially_separable_conv2d`
    mid_channels : int, optional
        Channels between the two steps; default ``out_channels``.
    groups : int
        Of both steps; ``groups = in_channels = mid_channels = out_channels`` gives one rank-1
        kernel per channel.
    bias : bool
        A bias in both steps.

    Attributes
    ----------
    column_weight : Parameter, shape (mid_channels, in_channels // groups, kH, 1)
    row_weight : Parameter, shape (out_channels, mid_channels // groups, 1, kW)
    column_bias, row_bias : Parameter or None

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, H_out, W_out)`` with
    ``H_out = floor((H + 2 * pH - dH * (kH - 1) - 1) / sH) + 1``, ``W_out`` likewise.

    Examples
    --------
    >>> layer = SpatiallySeparableConv2d(64, 64, 3, padding=1, bias=False)
    >>> sum(p.numel() for p in layer.parameters())      # 2 * 3 * 64 * 64, against 9 * 64 * 64
    24576
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        mid_channels=None,
        groups=1,
        bias=True,
    ):
        super().__init__()
        mid_channels = out_channels if mid_channels is None else mid_channels
        for name, value in (
            ("groups", groups),
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("mid_channels", mid_channels),
        ):
            check_positive_int(None, name, value)
            if name != "groups":
                check_divisible(None, name, value, "groups", groups)
        kh, kw = _positive(kernel_size, 2, "kernel_size")
        check_geometry(None, 2, stride, padding, dilation)
        check_flag(None, "bias", bias)
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.column_weight = conv_weight(mid_channels, in_channels // groups, kh, 1)
        self.row_weight = conv_weight(out_channels, mid_channels // groups, 1, kw)
        self.column_bias = conv_bias(mid_channels, in_channels // groups * kh) if bias else None
        self.row_bias = conv_bias(out_channels, mid_channels // groups * kw) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:func:`spatially_separable_conv2d` of ``x`` and the layer's weights: ``(N, out_channels, H_out, W_out)``."""
        return spatially_separable_conv2d(
            x,
            self.column_weight,
            self.row_weight,
            self.column_bias,
            self.row_bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )
