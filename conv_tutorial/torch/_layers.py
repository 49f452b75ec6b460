"""What the ``nn.Module`` blocks of the torch backend share: their weights' initialisation and one unit.

The unit is the convolution + batch-norm (``_ConvBN``) of the ResNet, ResNeXt and ShuffleNet blocks.

Two initialisations, each in one place:

- :func:`conv_weight` and :func:`conv_bias`: ``nn.Conv2d``'s default (Kaiming uniform with
  ``a = sqrt(5)``, a bias uniform in ``±1/sqrt(fan_in)``), so that a block starts where the torch
  layer it mirrors would;
- :func:`relu_weight`: He et al.'s normal initialisation for ReLU networks (``fan_out``), as
  torchvision's ResNet, ResNeXt, ShuffleNet and video ResNet use.

Layer of its own, used by :mod:`.pointwise`, :mod:`.grouped`, :mod:`.multiscale`, :mod:`.separable`,
:mod:`.volumetric`, :mod:`.upsampling`, :mod:`.deformable` and :mod:`.attention`; it has no NumPy twin
(``nn.Module`` exists only in torch).

Chapters 3, 4, 7, 8, 11, 12 and 13: ``book/03_pointwise_convolution.ipynb``,
``book/04_small_kernels_receptive_field.ipynb``, ``book/07_depthwise_separable_convolution.ipynb``,
``book/08_group_convolution.ipynb``, ``book/11_3d_convolution.ipynb``,
``book/12_deformable_convolution.ipynb``, ``book/13_channel_attention.ipynb``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .standard import conv2d

__all__ = ["conv_bias", "conv_weight", "relu_weight"]


def conv_weight(*shape) -> nn.Parameter:
    """A convolution weight of ``shape`` initialised as ``nn.Conv2d`` initialises its own.

    That is Kaiming uniform, ``a = sqrt(5)``: uniform in ``±1/sqrt(fan_in)``.
    """
    weight = nn.Parameter(torch.empty(*shape))
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
    return weight


def conv_bias(channels: int, fan_in: int) -> nn.Parameter:
    """A bias of ``channels`` values uniform in ``±1/sqrt(fan_in)``, as ``nn.Conv2d``'s."""
    bound = 1 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(channels).uniform_(-bound, bound))


def relu_weight(*shape) -> nn.Parameter:
    """A convolution weight of ``shape`` with He et al.'s initialisation for ReLU networks.

    The initialisation is normal, ``mode='fan_out'``, as torchvision's ResNet, ResNeXt and ShuffleNet use.
    """
    weight = nn.Parameter(torch.empty(*shape))
    nn.init.kaiming_normal_(weight, mode="fan_out", nonlinearity="relu")
    return weight


class _ConvBN(nn.Module):
    """A bias-free (grouped) convolution followed by batch normalisation (the BN shift plays the bias's role)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1):
        super().__init__()
        self.weight = relu_weight(out_channels, in_channels // groups, kernel_size, kernel_size)
        self.stride, self.padding, self.groups = stride, kernel_size // 2, groups
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(conv2d(x, self.weight, stride=self.stride, padding=self.padding, groups=self.groups))
