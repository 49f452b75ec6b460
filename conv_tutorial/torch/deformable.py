"""Deformable convolution (DCNv1, Dai et al. 2017; DCNv2, Zhu et al. 2019) from torch primitives.

Its semantics are exactly those of ``torchvision.ops.deform_conv2d``; the ``DeformConv2d`` module predicts
its own offsets (and mask).

The samples are read with ``torch.gather`` from the input surrounded by a one-pixel ring of zeros:
the four corners of every sample at once, weighted by the bilinear weights, which depend on the
offsets. Everything is plain differentiable torch, on whatever device the input lives on, so
autograd gives the gradients with respect to input, offset, mask, weight and bias. Layout and
sampling rule are those of :mod:`conv_tutorial.numpy.deformable` (read its docstring for the
offset layout).

Chapter 12: ``book/12_deformable_convolution.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.deformable`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import _non_negative, _positive, check_deform_conv2d, check_flag, check_positive_int
from ._layers import conv_bias, conv_weight
from ._tensors import common_float_dtype
from .standard import conv2d

__all__ = ["DeformConv2d", "deform_conv2d", "deform_sampling_points"]


def deform_sampling_points(offset, kernel_size, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """Input coordinates ``(y, x)`` that every kernel tap of every output pixel reads.

    Parameters
    ----------
    offset : Tensor, shape (N, 2 * offset_groups * kH * kW, H_out, W_out)
        torchvision's layout: ``(dy, dx)`` pairs interleaved, tap-major within each offset group.
    kernel_size, stride, padding, dilation : int or tuple of 2 ints

    Returns
    -------
    Tensor, shape (N, offset_groups, kH, kW, H_out, W_out, 2)
        ``[..., 0]`` is ``i * stride_h - padding_h + ki * dilation_h + dy``, ``[..., 1]`` the same
        along the width.

    Examples
    --------
    >>> offset = torch.zeros(1, 18, 1, 1)
    >>> offset[0, 9] = -1.0                           # dx of tap 4, the centre: one pixel left
    >>> deform_sampling_points(offset, 3)[0, 0, 1, 1, 0, 0]
    tensor([1., 0.])
    """
    dtype = common_float_dtype(offset=offset)  # the type checks; integer offsets compute as float64
    offset = offset.to(dtype)
    kh, kw = _positive(kernel_size, 2, "kernel_size")
    (sh, sw), (dh, dw) = _positive(stride, 2, "stride"), _positive(dilation, 2, "dilation")
    ph, pw = _non_negative(padding, 2, "padding")
    if offset.ndim != 4 or offset.shape[1] == 0 or offset.shape[1] % (2 * kh * kw):
        raise ValueError(
            f"deform_sampling_points: offset must have shape (N, 2 * offset_groups * kH * kW, H_out, W_out) "
            f"with kH * kW = {kh * kw}, got offset of shape {tuple(offset.shape)}"
        )
    batch, channels, h_out, w_out = offset.shape
    off = offset.reshape(batch, channels // (2 * kh * kw), kh, kw, 2, h_out, w_out)
    kwargs = dict(device=offset.device, dtype=offset.dtype)
    rows = torch.arange(h_out, **kwargs)[None, :] * sh - ph + torch.arange(kh, **kwargs)[:, None] * dh
    cols = torch.arange(w_out, **kwargs)[None, :] * sw - pw + torch.arange(kw, **kwargs)[:, None] * dw
    y = rows[:, None, :, None] + off[:, :, :, :, 0]
    x = cols[None, :, None, :] + off[:, :, :, :, 1]
    return torch.stack([y, x], dim=-1)


def _sample(image: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Bilinear samples with torchvision's rule: ``image`` ``(N, G, C, H, W)``, points ``(N, G, P)``.

    Returns ``(N, G, C, P)``. As in the NumPy backend, a one-pixel ring of zeros makes every corner
    of a point inside ``(-1, H) x (-1, W)`` a real cell, and points outside read the ring's corner.
    A NaN coordinate gives a NaN sample, as torchvision's weights ``(1 - ly) * (1 - lx)``, ... do.
    """
    batch, groups, channels, height, width = image.shape
    ring = F.pad(image, (1, 1, 1, 1)).reshape(batch, groups, channels, (height + 2) * (width + 2))
    lost = (torch.isnan(y) | torch.isnan(x))[:, :, None, :]
    inside = (y > -1) & (y < height) & (x > -1) & (x < width)
    y, x = torch.where(inside, y, -1.0), torch.where(inside, x, -1.0)
    y0, x0 = torch.floor(y), torch.floor(x)
    ly, lx = y - y0, x - x0
    top_left = (y0.long() + 1) * (width + 2) + x0.long() + 1
    out = 0
    for dy, dx, weight in ((0, 0, (1 - ly) * (1 - lx)), (0, 1, (1 - ly) * lx), (1, 0, ly * (1 - lx)), (1, 1, ly * lx)):
        index = torch.where(inside, top_left + dy * (width + 2) + dx, 0)
        corner = ring.gather(3, index[:, :, None, :].expand(batch, groups, channels, index.shape[-1]))
        out = out + corner * weight[:, :, None, :]
    return torch.where(lost, torch.nan, out)


def deform_conv2d(input, offset, weight, bias=None, stride=1, padding=0, dilation=1, mask=None):
    """Deformable convolution v1/v2, like ``torchvision.ops.deform_conv2d``.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W)
    offset : Tensor, shape (N, 2 * offset_groups * kH * kW, H_out, W_out)
        Channel ``2 * (g * kH * kW + ki * kW + kj)`` is ``dy`` (rows, down positive) and the next
        one ``dx`` (columns, right positive) of tap ``(ki, kj)`` in offset group ``g``. Offset
        group ``g`` moves the taps of input channels ``g * C_in / offset_groups`` to
        ``(g + 1) * C_in / offset_groups - 1``.
    weight : Tensor, shape (C_out, C_in // groups, kH, kW)
        The weight groups are ``C_in // weight.shape[1]``, as torchvision infers them.
    bias : Tensor, shape (C_out,), optional
    stride, padding, dilation : int or tuple of 2 ints
    mask : Tensor, shape (N, offset_groups * kH * kW, H_out, W_out), optional
        DCNv2's modulation: channel ``g * kH * kW + ki * kW + kj`` scales the sample of tap
        ``(ki, kj)`` in offset group ``g``. ``None`` is DCNv1 (every sample counts fully).

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out)
        On the input's device; differentiable with respect to every tensor argument. Integer and
        boolean tensors compute in float64; float16/32/64 keep their dtype.

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``:
    the offsets move the samples, not the output grid.

    Examples
    --------
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = torch.ones(1, 1, 2, 2)
    >>> deform_conv2d(x, torch.zeros(1, 8, 3, 3), w)[0, 0]          # zero offsets: conv2d
    tensor([[10., 14., 18.],
            [26., 30., 34.],
            [42., 46., 50.]])
    >>> deform_conv2d(x, torch.full((1, 8, 3, 3), 0.5), w)[0, 0, 0, 0]
    tensor(20.)
    """
    tensors = dict(input=input, offset=offset, weight=weight)
    if mask is not None:
        tensors["mask"] = mask
    dtype = common_float_dtype(**tensors, bias=bias)
    spec = check_deform_conv2d(
        input.shape,
        offset.shape,
        weight.shape,
        None if bias is None else bias.shape,
        None if mask is None else mask.shape,
        stride,
        padding,
        dilation,
    )
    batch, c_in, height, width = spec.input_shape
    c_out, (kh, kw), groups, off_groups = spec.weight_shape[0], spec.kernel_size, spec.groups, spec.offset_groups
    h_out, w_out = spec.output_size
    samples = kh * kw * h_out * w_out
    points = deform_sampling_points(offset.to(dtype), (kh, kw), spec.stride, spec.symmetric_padding, spec.dilation)
    points = points.reshape(batch, off_groups, samples, 2)
    image = input.to(dtype).reshape(batch, off_groups, c_in // off_groups, height, width)
    cols = _sample(image, points[..., 0], points[..., 1])
    if mask is not None:
        cols = cols * mask.to(dtype).reshape(batch, off_groups, 1, samples)
    # Channel-major then tap: the row order of weight.reshape(C_out, C_in/groups * kH * kW).
    cols = cols.reshape(batch, groups, (c_in // groups) * kh * kw, h_out * w_out)
    w_mat = weight.to(dtype).reshape(groups, c_out // groups, (c_in // groups) * kh * kw)
    out = (w_mat @ cols).reshape(batch, c_out, h_out, w_out)
    if bias is not None:
        out = out + bias.to(dtype).reshape(-1, 1, 1)
    return out


class DeformConv2d(nn.Module):
    """A deformable convolution layer that predicts its own offsets (DCNv1) and mask (DCNv2).

    A standard convolution with the same kernel size, stride, padding and dilation looks at the
    input and predicts, for every output pixel, ``2 * offset_groups * kH * kW`` offsets and (when
    ``modulated``) ``offset_groups * kH * kW`` mask logits; the mask is their sigmoid, as in DCNv2.
    The predictor's weight and bias start at zero, as in both papers, so training starts from the
    regular grid: a plain convolution for DCNv1, and a plain convolution with every sample
    multiplied by ``sigmoid(0) = 0.5`` for DCNv2.

    Unlike ``torchvision.ops.DeformConv2d``, whose ``forward`` takes the offset and mask as
    arguments, this module owns its predictor; :meth:`offsets_and_mask` returns what it predicts.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or tuple of 2 ints
    groups : int
        Weight groups, as in ``nn.Conv2d``.
    offset_groups : int
        Channel groups that share one set of offsets; must divide ``in_channels``.
    bias : bool
    modulated : bool
        ``True`` for DCNv2 (predict a mask as well), ``False`` for DCNv1.

    Shape
    -----
    Input ``(N, C_in, H, W)``; output ``(N, C_out, H_out, W_out)`` with
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``.

    Examples
    --------
    >>> layer = DeformConv2d(4, 8, 3, padding=1, modulated=True)
    >>> layer(torch.randn(2, 4, 6, 6)).shape
    torch.Size([2, 8, 6, 6])
    >>> [tuple(t.shape) for t in layer.offsets_and_mask(torch.randn(2, 4, 6, 6))]
    [(2, 18, 6, 6), (2, 9, 6, 6)]
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        offset_groups: int = 1,
        bias: bool = True,
        modulated: bool = False,
    ):
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("groups", groups),
            ("offset_groups", offset_groups),
        ):
            check_positive_int(None, name, value)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels and out_channels must be divisible by groups, got in_channels="
                f"{in_channels}, out_channels={out_channels} and groups={groups}"
            )
        if in_channels % offset_groups:
            raise ValueError(
                f"in_channels must be divisible by offset_groups, got in_channels={in_channels} and "
                f"offset_groups={offset_groups}"
            )
        kh, kw = _positive(kernel_size, 2, "kernel_size")
        self.stride, self.dilation = _positive(stride, 2, "stride"), _positive(dilation, 2, "dilation")
        self.padding = _non_negative(padding, 2, "padding")
        self.offset_groups, self.modulated = offset_groups, check_flag(None, "modulated", modulated)
        check_flag(None, "bias", bias)
        # nn.Conv2d's initialisation, so the layer starts as the convolution it generalises.
        self.weight = conv_weight(out_channels, in_channels // groups, kh, kw)
        self.bias = conv_bias(out_channels, (in_channels // groups) * kh * kw) if bias else None
        predicted = (3 if modulated else 2) * offset_groups * kh * kw
        self.offset_weight = nn.Parameter(torch.zeros(predicted, in_channels, kh, kw))
        self.offset_bias = nn.Parameter(torch.zeros(predicted))

    def offsets_and_mask(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The offsets ``(N, 2 * G * kH * kW, H_out, W_out)`` and mask (or ``None``) predicted for ``x``."""
        predicted = conv2d(x, self.offset_weight, self.offset_bias, self.stride, self.padding, self.dilation)
        n_offsets = 2 * self.offset_groups * self.weight.shape[2] * self.weight.shape[3]
        offset = predicted[:, :n_offsets]
        mask = torch.sigmoid(predicted[:, n_offsets:]) if self.modulated else None
        return offset, mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Deformable convolution of ``x`` at the offsets (and mask) it predicts: ``(N, C_out, H_out, W_out)``."""
        offset, mask = self.offsets_and_mask(x)
        return deform_conv2d(x, offset, self.weight, self.bias, self.stride, self.padding, self.dilation, mask)
