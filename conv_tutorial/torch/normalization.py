"""Batch normalisation at inference from torch primitives: ``batch_norm``.

At inference batch normalisation is an affine map per channel, with the statistics the layer kept
while it trained: ``(x - running_mean) / sqrt(running_var + eps) * weight + bias``. It is what
follows every convolution of a ResNet and comes first in every layer of a DenseNet
(:mod:`conv_tutorial.torch.connections`). Training mode, which normalises with the statistics of
the batch itself and updates the running ones, is ``torch.nn.BatchNorm2d``'s.

Chapter 15: ``book/15_skip_and_dense_connections.ipynb``. The NumPy twin:
:mod:`conv_tutorial.numpy.normalization`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_batch_norm, check_real
from ._tensors import common_float_dtype

__all__ = ["batch_norm"]


def batch_norm(input, running_mean, running_var, weight=None, bias=None, eps=1e-5) -> torch.Tensor:
    """Batch normalisation with stored statistics, like ``torch.nn.functional.batch_norm(..., training=False)``.

    ``out[n, c, ...] = (input[n, c, ...] - running_mean[c]) / sqrt(running_var[c] + eps) * weight[c] + bias[c]``

    Parameters
    ----------
    input : Tensor, shape (N, C, *)
        Any number of axes after the channels (``(N, C, H, W)`` after a 2D convolution).
    running_mean, running_var : Tensor, shape (C,)
        The statistics kept during training (``BatchNorm2d.running_mean`` and ``running_var``).
    weight, bias : Tensor, shape (C,), optional
        The learned scale and shift (1 and 0 when omitted).
    eps : float
        Added to the variance, 1e-5 as PyTorch's default.

    Returns
    -------
    Tensor, shape (N, C, *)
        On the input's device; differentiable. Integer and boolean tensors compute in float64.

    Examples
    --------
    >>> x = torch.tensor([[[1.0, 3.0]], [[5.0, 7.0]]])        # N=2, C=1, L=2
    >>> batch_norm(x, torch.tensor([4.0]), torch.tensor([4.0]), torch.tensor([2.0]), torch.tensor([1.0]), eps=0.0)
    tensor([[[-2.,  0.]],
    <BLANKLINE>
            [[ 2.,  4.]]])
    """
    given = {name: t for name, t in (("weight", weight), ("bias", bias)) if t is not None}  # both optional
    dtype = common_float_dtype(input=input, running_mean=running_mean, running_var=running_var, **given)
    check_batch_norm(
        input.shape,
        running_mean=running_mean.shape,
        running_var=running_var.shape,
        weight=None if weight is None else weight.shape,
        bias=None if bias is None else bias.shape,
    )
    eps = check_real("batch_norm", "eps", eps, minimum=0)
    weight, bias = (None if t is None else t.to(dtype) for t in (weight, bias))
    return F.batch_norm(
        input.to(dtype), running_mean.to(dtype), running_var.to(dtype), weight, bias, training=False, eps=eps
    )
