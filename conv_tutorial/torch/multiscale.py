"""Multi-scale blocks from torch primitives: GoogLeNet's Inception block (Szegedy et al. 2015).

Four branches look at the same input at different scales -- 1x1, 3x3, 5x5 and a 3x3 max pool --
and their outputs are concatenated along the channels. The 1x1 "reductions" in front of the 3x3
and 5x5 convolutions (and behind the pool) are what keeps the block affordable.

Chapter 4: ``book/04_small_kernels_receptive_field.ipynb``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_positive_int
from ._layers import conv_bias, conv_weight
from .standard import conv2d

__all__ = ["InceptionBlock"]


class _ConvReLU(nn.Module):
    """A "same"-padded convolution with bias, then ReLU: every convolution of GoogLeNet v1."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        # nn.Conv2d's default initialisation, so the block starts where a torch model would.
        self.weight = conv_weight(out_channels, in_channels, kernel_size, kernel_size)
        self.bias = conv_bias(out_channels, in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(conv2d(x, self.weight, self.bias, padding=self.padding))


class InceptionBlock(nn.Module):
    """GoogLeNet's Inception block with dimension reductions (Szegedy et al. 2015, figure 2b).

    ``out = cat([b1(x), b3(x), b5(x), bp(x)], dim=1)`` with

    - ``b1``: 1x1 convolution ``in_channels -> ch1x1``;
    - ``b3``: 1x1 ``in_channels -> ch3x3red``, then 3x3 ``ch3x3red -> ch3x3``;
    - ``b5``: 1x1 ``in_channels -> ch5x5red``, then 5x5 ``ch5x5red -> ch5x5``;
    - ``bp``: 3x3 max pool (stride 1, padding 1), then 1x1 ``in_channels -> pool_proj``.

    Every convolution has a bias and is followed by ReLU, as in the paper (no batch
    normalisation). The arguments are named as in ``torchvision.models.googlenet.Inception``.

    Parameters
    ----------
    in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj : int
        Inception (3a) is ``InceptionBlock(192, 64, 96, 128, 16, 32, 32)``.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``: every
    branch keeps the spatial size (padding ``k // 2``, stride 1) so the outputs can be stacked.

    Examples
    --------
    >>> block = InceptionBlock(192, 64, 96, 128, 16, 32, 32)
    >>> block(torch.randn(1, 192, 28, 28)).shape
    torch.Size([1, 256, 28, 28])
    >>> sum(p.numel() for p in block.parameters())
    163696
    """

    def __init__(
        self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int
    ):
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("ch1x1", ch1x1),
            ("ch3x3red", ch3x3red),
            ("ch3x3", ch3x3),
            ("ch5x5red", ch5x5red),
            ("ch5x5", ch5x5),
            ("pool_proj", pool_proj),
        ):
            check_positive_int(None, name, value)
        self.branch1 = _ConvReLU(in_channels, ch1x1, 1)
        self.branch3 = nn.Sequential(_ConvReLU(in_channels, ch3x3red, 1), _ConvReLU(ch3x3red, ch3x3, 3))
        self.branch5 = nn.Sequential(_ConvReLU(in_channels, ch5x5red, 1), _ConvReLU(ch5x5red, ch5x5, 5))
        self.branch_pool = _ConvReLU(in_channels, pool_proj, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The four branches of ``x`` concatenated: ``(N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``."""
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(pooled)], dim=1)
