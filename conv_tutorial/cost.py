"""What a convolution costs: parameters and multiply-accumulates (MACs), pure arithmetic.

One convention for the whole book (stated in its introduction):

- **parameters** count every weight plus one bias per output channel when there is a bias;
- **MACs** count the multiply-accumulates of the weights: one MAC is one multiplication and one
  addition, so ``FLOPs = 2 * MACs``. Bias additions are not counted (they are ``1 / (C_in/g * k)``
  of the work and PyTorch's ``torch.utils.flop_counter`` does not count them either).

A standard convolution layer ``C_in -> C_out`` with kernel ``K`` (a tuple, one entry per spatial
axis) and ``groups = g`` has ``C_out * C_in/g * prod(K)`` weights, and each of its
``C_out * prod(O)`` output values takes ``C_in/g * prod(K)`` MACs.
"""

from __future__ import annotations

import math

from ._checks import to_tuple
from .shapes import conv_output_size

__all__ = ["conv_macs", "conv_params"]


def _check_channels(in_channels, out_channels, groups):
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {name}={value!r}")
    if in_channels % groups:
        raise ValueError(f"in_channels must be divisible by groups, got in_channels={in_channels} and groups={groups}")
    if out_channels % groups:
        raise ValueError(f"out_channels must be divisible by groups, got out_channels={out_channels} and groups={groups}")


def _ndim(ndim, *sizes) -> int:
    """Number of spatial axes: ``ndim`` if given, else the length of any tuple argument, else 2."""
    lengths = {len(v) for v in sizes if isinstance(v, (tuple, list))}
    if len(lengths) > 1:
        raise ValueError(f"tuple arguments must have the same length, got lengths {sorted(lengths)}")
    return ndim or (lengths.pop() if lengths else 2)


def conv_params(in_channels, out_channels, kernel_size, groups=1, bias=True, ndim=None):
    """Number of learnable parameters of a convolution layer.

    ``C_out * (C_in / groups) * prod(kernel_size) + (C_out if bias else 0)``; equal to
    ``sum(p.numel() for p in torch.nn.Conv2d(...).parameters())``.

    Parameters
    ----------
    in_channels, out_channels, groups : int
    kernel_size : int or tuple of int
        An int means the same size along ``ndim`` axes.
    bias : bool
    ndim : int, optional
        Number of spatial axes; by default the length of ``kernel_size``, or 2 for an int.

    Examples
    --------
    >>> conv_params(3, 64, 7, bias=False)      # ResNet-50's first layer
    9408
    >>> conv_params(256, 256, 3, groups=8)
    73984
    """
    _check_channels(in_channels, out_channels, groups)
    kernel = to_tuple(kernel_size, _ndim(ndim, kernel_size), "kernel_size")
    return out_channels * (in_channels // groups) * math.prod(kernel) + (out_channels if bias else 0)


def conv_macs(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
              ndim=None):
    """Multiply-accumulates of one convolution over one input (batch size 1).

    ``C_out * prod(O) * (C_in / groups) * prod(kernel_size)`` with ``O`` the output size from
    :func:`conv_tutorial.shapes.conv_output_size`. Multiply by the batch size for a batch; the
    FLOP count is twice this.

    Parameters
    ----------
    input_size : int or tuple of int
        Spatial input size, ``(H, W)`` for 2D. Ints (here and below) mean the same size along
        ``ndim`` axes, as in :func:`conv_params`.
    in_channels, out_channels, groups : int
    kernel_size, stride, padding, dilation : as in ``torch.nn.Conv2d``
    ndim : int, optional
        Number of spatial axes; by default the length of any tuple argument, or 2.

    Examples
    --------
    >>> conv_macs(224, 3, 64, 7, stride=2, padding=3)   # ResNet-50's first layer
    118013952
    >>> conv_macs((32,), 1, 6, 5)                        # a 1D convolution
    840
    """
    _check_channels(in_channels, out_channels, groups)
    n = _ndim(ndim, input_size, kernel_size, stride, padding, dilation)
    kernel = to_tuple(kernel_size, n, "kernel_size")
    out = conv_output_size(
        to_tuple(input_size, n, "input_size"), kernel, to_tuple(stride, n, "stride"),
        padding if isinstance(padding, str) else to_tuple(padding, n, "padding"), to_tuple(dilation, n, "dilation"),
    )
    return out_channels * math.prod(out) * (in_channels // groups) * math.prod(kernel)
