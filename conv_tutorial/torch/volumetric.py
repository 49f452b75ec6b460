"""Building blocks for video and volumes: ``Conv2Plus1d``, the (2+1)D factorisation of a 3D convolution.

The factorisation is that of R(2+1)D (Tran et al., 2018).

A ``t x h x w`` convolution mixes space and time in one kernel. The (2+1)D block splits it into a
``1 x h x w`` spatial convolution and a ``t x 1 x 1`` temporal one, with batch norm and a ReLU
between them: one more non-linearity for the same number of weights, since the intermediate
channel count ``M`` is chosen by :func:`conv_tutorial.cost.conv2plus1d_mid_channels` to match
the 3D kernel's. Both convolutions are :func:`conv_tutorial.torch.conv3d` (torch primitives).

Chapter 11: ``book/11_3d_convolution.ipynb``.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import _non_negative, _positive
from ..cost import _mid_channels
from ._layers import relu_weight
from .standard import conv3d

__all__ = ["Conv2Plus1d"]


class Conv2Plus1d(nn.Module):
    """A (2+1)D block: spatial ``1 x h x w`` conv, ``BatchNorm3d``, ReLU, temporal ``t x 1 x 1`` conv.

    Replaces ``nn.Conv3d(in_channels, out_channels, (t, h, w), stride, padding, bias=False)``:
    same input and output shapes, and (with the default ``mid_channels``) at most the same number
    of convolution weights. The spatial convolution takes the spatial stride and padding, the
    temporal one the temporal stride and padding, as torchvision's video ResNet does. No ReLU
    after the temporal convolution: the block ends where the 3D convolution it replaces ends.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 3 ints
        ``(t, h, w)`` of the 3D convolution being replaced.
    stride, padding : int or tuple of 3 ints
        ``(temporal, height, width)``.
    mid_channels : int, optional
        Channels between the two convolutions; by default
        :func:`conv_tutorial.cost.conv2plus1d_mid_channels`.

    Shape
    -----
    Input ``(N, C_in, T, H, W)``; output ``(N, C_out, T_out, H_out, W_out)`` with
    ``T_out = floor((T + 2 * p_t - t) / s_t) + 1``, same for ``H`` and ``W``: that of the 3D
    convolution.

    Examples
    --------
    >>> block = Conv2Plus1d(64, 64, 3, padding=1)
    >>> block.mid_channels
    144
    >>> block(torch.randn(1, 64, 4, 8, 8)).shape
    torch.Size([1, 64, 4, 8, 8])
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size=3, stride=1, padding=0, mid_channels: int | None = None
    ):
        super().__init__()
        t, h, w = _positive(kernel_size, 3, "kernel_size")
        s_t, s_h, s_w = _positive(stride, 3, "stride")
        p_t, p_h, p_w = _non_negative(padding, 3, "padding")
        mid = _mid_channels(in_channels, out_channels, (t, h, w), mid_channels)
        self.mid_channels = mid
        self.spatial_weight = relu_weight(mid, in_channels, 1, h, w)
        self.temporal_weight = relu_weight(out_channels, mid, t, 1, 1)
        self.norm = nn.BatchNorm3d(mid)
        self.spatial_args = dict(stride=(1, s_h, s_w), padding=(0, p_h, p_w))
        self.temporal_args = dict(stride=(s_t, 1, 1), padding=(p_t, 0, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spatial conv, BN, ReLU, temporal conv of ``x``: ``(N, C_out, T_out, H_out, W_out)``, as the 3D conv's."""
        x = torch.relu(self.norm(conv3d(x, self.spatial_weight, **self.spatial_args)))
        return conv3d(x, self.temporal_weight, **self.temporal_args)
