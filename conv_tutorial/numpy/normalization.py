"""Batch normalisation at inference from scratch in NumPy: ``batch_norm``.

At inference batch normalisation is an affine map per channel, with the statistics the layer kept
while it trained: ``(x - running_mean) / sqrt(running_var + eps) * weight + bias``. It is what
follows every convolution of a ResNet and comes first in every layer of a DenseNet
(:mod:`conv_tutorial.numpy.connections`). Training mode, which normalises with the statistics of
the batch itself and updates the running ones, belongs to a training loop and is left to torch.

Chapter 15: ``book/15_skip_and_dense_connections.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.normalization`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_batch_norm, check_real
from ._arrays import as_float_arrays, quiet_nonfinite

__all__ = ["batch_norm"]


@quiet_nonfinite
def batch_norm(input, running_mean, running_var, weight=None, bias=None, eps=1e-5):
    """Batch normalisation with stored statistics, like ``torch.nn.functional.batch_norm(..., training=False)``.

    ``out[n, c, ...] = (input[n, c, ...] - running_mean[c]) / sqrt(running_var[c] + eps) * weight[c] + bias[c]``

    Parameters
    ----------
    input : array_like, shape (N, C, *)
        Any number of axes after the channels (``(N, C, H, W)`` after a 2D convolution).
    running_mean, running_var : array_like, shape (C,)
        The statistics kept during training (``BatchNorm2d.running_mean`` and ``running_var``).
    weight, bias : array_like, shape (C,), optional
        The learned scale and shift (1 and 0 when omitted).
    eps : float
        Added to the variance, 1e-5 as PyTorch's default.

    Returns
    -------
    ndarray, shape (N, C, *)
        Integer and boolean input computes in float64; float16/32/64 keep their dtype.

    Examples
    --------
    >>> x = np.array([[[1.0, 3.0]], [[5.0, 7.0]]])          # N=2, C=1, L=2
    >>> batch_norm(x, running_mean=[4.0], running_var=[4.0], weight=[2.0], bias=[1.0], eps=0.0)
    array([[[-2.,  0.]],
    <BLANKLINE>
           [[ 2.,  4.]]])
    """
    given = {name: a for name, a in (("weight", weight), ("bias", bias)) if a is not None}  # both optional
    x, mean, var, *affine = as_float_arrays(input=input, running_mean=running_mean, running_var=running_var, **given)
    w, b = (dict(zip(given, affine, strict=True)).get(name) for name in ("weight", "bias"))
    check_batch_norm(
        x.shape,
        running_mean=mean.shape,
        running_var=var.shape,
        weight=None if w is None else w.shape,
        bias=None if b is None else b.shape,
    )
    eps = check_real("batch_norm", "eps", eps, minimum=0)
    per_channel = (1, -1) + (1,) * (x.ndim - 2)  # (C,) -> (1, C, 1, ...): broadcast over N and space
    scale = 1 / np.sqrt(var + eps)
    if w is not None:
        scale = scale * w
    shift = -mean * scale + (0 if b is None else b)
    return (x * scale.reshape(per_channel) + shift.reshape(per_channel)).astype(x.dtype, copy=False)
