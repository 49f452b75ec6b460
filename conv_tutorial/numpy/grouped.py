"""Group convolution and channel shuffle from scratch in NumPy.

The module holds ``channel_shuffle``, the permutation it applies (``shuffle_permutation``), and
``conv2d_by_groups``, the loop over groups that chapter 8 teaches first.

A grouped convolution is not a separate algorithm here: it is
:func:`conv_tutorial.numpy.conv2d` with ``groups=g``, whose engine runs one batched matrix product
over the group axis (no Python loop over groups). :func:`conv2d_by_groups` spells out what that
product computes, ``g`` independent convolutions side by side, as AlexNet ran them on two GPUs,
and the tests hold the two equal.

Chapter 8: ``book/08_group_convolution.ipynb``. The torch twin: :mod:`conv_tutorial.torch.grouped`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_channel_shuffle, check_conv, check_shuffle_permutation
from ._arrays import as_float_arrays, quiet_nonfinite
from .standard import conv2d

__all__ = ["channel_shuffle", "conv2d_by_groups", "shuffle_permutation"]


def shuffle_permutation(channels: int, groups: int) -> np.ndarray:
    """The channel order after a shuffle: output channel ``i`` is input channel ``perm[i]``.

    ShuffleNet's definition, "deal the cards": with ``n = channels / groups`` channels per group,
    the output takes the first channel of every group, then the second of every group, and so on,
    so output channel ``i`` is channel ``i // groups`` of group ``i % groups``::

        perm[i] = (i % groups) * n + i // groups

    Written as this formula (a loop a reader can check by hand), not as the reshape of
    :func:`channel_shuffle`; the tests hold the two equal, which is the proof that the
    ``(g, n) -> (n, g)`` transpose is the shuffle.

    Parameters
    ----------
    channels, groups : int
        ``channels`` must be divisible by ``groups``.

    Returns
    -------
    ndarray of int, shape (channels,)

    Examples
    --------
    >>> shuffle_permutation(6, 2)        # groups (0 1 2) (3 4 5) dealt in turn
    array([0, 3, 1, 4, 2, 5])
    >>> shuffle_permutation(6, 3)
    array([0, 2, 4, 1, 3, 5])
    """
    channels, groups = check_shuffle_permutation(channels, groups)
    n = channels // groups
    return np.array([(i % groups) * n + i // groups for i in range(channels)], dtype=np.int64)


def channel_shuffle(input, groups):
    """Shuffle the channels of ``(N, C, *)`` across ``groups``, like ``torch.nn.ChannelShuffle``.

    Reshape the channel axis to ``(groups, C / groups)``, swap the two, flatten back. After a
    grouped convolution with ``groups`` groups, each run of ``C / groups`` consecutive output
    channels then holds channels from every group (when ``C / groups >= groups``), so the next
    grouped convolution mixes information across the previous one's groups (Zhang et al., 2018).

    Parameters
    ----------
    input : array_like, shape (N, C, *)
        At least 3 dimensions; axis 1 holds the channels.
    groups : int
        Must divide ``C``.

    Returns
    -------
    ndarray, shape (N, C, *)
        A new array: ``out[:, i] == input[:, shuffle_permutation(C, groups)[i]]``. Integer and
        boolean input becomes float64; float16/32/64 keep their dtype.

    Examples
    --------
    >>> x = np.arange(6.0).reshape(1, 6, 1, 1)
    >>> channel_shuffle(x, 2).ravel()
    array([0., 3., 1., 4., 2., 5.])
    """
    (x,) = as_float_arrays(input=input)
    shape = check_channel_shuffle(x.shape, groups)
    n, c = shape[:2]
    # Explicit sizes, not -1: a reshape can't infer a size when the batch is empty.
    grouped = x.reshape(n, groups, c // groups, *shape[2:])
    # Always a copy (with groups 1 or C the swap moves nothing, and a reshape would return a view).
    return grouped.swapaxes(1, 2).copy().reshape(shape)


@quiet_nonfinite
def conv2d_by_groups(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """:func:`~conv_tutorial.numpy.conv2d` with ``groups=g`` written as ``g`` separate convolutions.

    Split the input channels into ``g`` consecutive blocks of ``C_in / g`` and the filters into
    ``g`` blocks of ``C_out / g``; block ``j`` of filters convolves block ``j`` of channels only,
    and the ``g`` outputs are concatenated along the channel axis. This is the loop the engine
    replaces by one batched matrix product; it is slow for large ``g`` and kept for teaching and
    for the tests.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    weight : array_like, shape (C_out, C_in // groups, kH, kW)
    bias : array_like, shape (C_out,), optional
    stride, padding, dilation : as in :func:`~conv_tutorial.numpy.conv2d`
    groups : int
        Must divide ``C_in`` and ``C_out``.

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``, same for ``W``.

    Examples
    --------
    >>> x = np.arange(4.0).reshape(1, 4, 1, 1)
    >>> conv2d_by_groups(x, np.ones((2, 2, 1, 1)), groups=2).ravel()   # (0 + 1), (2 + 3)
    array([1., 5.])
    """
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    spec = check_conv("conv2d", 2, x.shape, w.shape, None if b is None else b.shape, stride, padding, dilation, groups)
    x = x.reshape(spec.input_shape)
    c_in_g, c_out_g = w.shape[1], w.shape[0] // groups
    parts = [
        conv2d(
            x[:, j * c_in_g : (j + 1) * c_in_g],
            w[j * c_out_g : (j + 1) * c_out_g],
            None if b is None else b[j * c_out_g : (j + 1) * c_out_g],
            stride,
            padding,
            dilation,
        )
        for j in range(groups)
    ]
    out = np.concatenate(parts, axis=1)
    return out[0] if spec.unbatched else out
