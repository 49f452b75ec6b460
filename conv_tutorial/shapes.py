"""Output sizes of convolutions: pure arithmetic on ints, no arrays.

Every function takes an int or a tuple (one entry per spatial axis) and returns the same kind.
The formulas are PyTorch's (``torch.nn.Conv2d`` and ``torch.nn.ConvTranspose2d`` docs):

    conv:        o = floor((i + 2p - d(k - 1) - 1) / s) + 1
    transposed:  o = (i - 1)s - 2p + d(k - 1) + output_padding + 1
"""

from __future__ import annotations

from ._checks import check_output_padding, to_tuple

__all__ = ["conv_output_size", "conv_transpose_output_size", "effective_kernel_size", "receptive_field"]


def _broadcast(*values):
    """The common length of the tuple arguments (1 when all are ints)."""
    lengths = {len(v) for v in values if isinstance(v, (tuple, list))}
    if len(lengths) > 1:
        raise ValueError(f"tuple arguments must have the same length, got lengths {sorted(lengths)}")
    return lengths.pop() if lengths else None


def _unpack(n, result):
    return result[0] if n is None else result


def effective_kernel_size(kernel_size, dilation=1):
    """Extent of a dilated kernel: ``k + (k - 1)(d - 1) = d(k - 1) + 1``.

    >>> effective_kernel_size(3, dilation=2)
    5
    """
    n = _broadcast(kernel_size, dilation)
    ks = to_tuple(kernel_size, n or 1, "kernel_size")
    ds = to_tuple(dilation, n or 1, "dilation")
    return _unpack(n, tuple(d * (k - 1) + 1 for k, d in zip(ks, ds)))


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Spatial output size of a convolution.

    Parameters
    ----------
    input_size : int or tuple of int
        Spatial size of the input, ``(H, W)`` for 2D.
    kernel_size, stride, dilation : int or tuple of int
    padding : int, tuple of int, ``'valid'`` or ``'same'``
        Zeros added on both sides of each axis. ``'same'`` returns ``input_size`` (it requires
        ``stride=1``, as in PyTorch).

    Returns
    -------
    int or tuple of int
        ``floor((i + 2p - d(k - 1) - 1) / s) + 1`` per axis.

    Examples
    --------
    >>> conv_output_size(7, 3, dilation=2)
    3
    >>> conv_output_size((224, 224), 7, stride=2, padding=3)
    (112, 112)
    """
    n = _broadcast(input_size, kernel_size, stride, padding, dilation)
    m = n or 1
    sizes = to_tuple(input_size, m, "input_size")
    ks = to_tuple(kernel_size, m, "kernel_size")
    ss = to_tuple(stride, m, "stride")
    ds = to_tuple(dilation, m, "dilation")
    if any(v <= 0 for v in ss + ds + ks):
        raise ValueError(
            f"kernel_size, stride and dilation must be positive, got kernel_size={kernel_size}, "
            f"stride={stride}, dilation={dilation}"
        )
    if padding == "same":
        if any(s != 1 for s in ss):
            raise ValueError(f"padding='same' is not supported for strided convolutions, got stride={stride}")
        return _unpack(n, sizes)
    ps = (0,) * m if padding == "valid" else to_tuple(padding, m, "padding")
    if any(p < 0 for p in ps):
        raise ValueError(f"padding must be non-negative, got padding={padding}")
    out = tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in zip(sizes, ks, ss, ps, ds))
    if any(o <= 0 for o in out):
        raise ValueError(
            f"kernel (effective size {effective_kernel_size(ks, ds)}) is larger than the padded input "
            f"{tuple(i + 2 * p for i, p in zip(sizes, ps))}"
        )
    return _unpack(n, out)


def conv_transpose_output_size(input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Spatial output size of a transposed convolution.

    ``(i - 1)s - 2p + d(k - 1) + output_padding + 1`` per axis. ``output_padding`` picks one of
    the ``s`` input sizes that a strided convolution maps to the same output size; it must be
    smaller than the stride or the dilation.

    Examples
    --------
    >>> conv_transpose_output_size(3, 3, stride=2, padding=1)
    5
    >>> conv_transpose_output_size(3, 3, stride=2, padding=1, output_padding=1)
    6
    """
    n = _broadcast(input_size, kernel_size, stride, padding, output_padding, dilation)
    m = n or 1
    sizes = to_tuple(input_size, m, "input_size")
    ks = to_tuple(kernel_size, m, "kernel_size")
    ss = to_tuple(stride, m, "stride")
    ps = to_tuple(padding, m, "padding")
    ops = to_tuple(output_padding, m, "output_padding")
    ds = to_tuple(dilation, m, "dilation")
    if any(v <= 0 for v in ss + ds + ks):
        raise ValueError(
            f"kernel_size, stride and dilation must be positive, got kernel_size={kernel_size}, "
            f"stride={stride}, dilation={dilation}"
        )
    if any(p < 0 for p in ps + ops):
        raise ValueError(f"padding and output_padding must be non-negative, got padding={padding}, "
                         f"output_padding={output_padding}")
    check_output_padding(ops, ss, ds)
    out = tuple(
        (i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, op, d in zip(sizes, ks, ss, ps, ops, ds)
    )
    return _unpack(n, out)


def receptive_field(layers):
    """Receptive field and jump of a stack of convolution layers, from the input side.

    Each layer is ``(kernel_size, stride, dilation)`` (``dilation`` may be left out); sizes may be
    ints or tuples (one entry per axis). With ``r_0 = 1`` and ``j_0 = 1``, layer ``l`` adds
    ``(d_l (k_l - 1)) * j_{l-1}`` input pixels to the receptive field and multiplies the jump (the
    input distance between neighbouring outputs) by its stride:

        r_l = r_{l-1} + d_l (k_l - 1) j_{l-1},    j_l = j_{l-1} s_l

    Padding does not change either; it only shifts where the field sits.

    Parameters
    ----------
    layers : sequence of tuples ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)``

    Returns
    -------
    size, jump : int or tuple of int
        The receptive field of one output pixel, in input pixels, and the jump of the last layer.

    Examples
    --------
    >>> receptive_field([(3, 1), (3, 1)])           # two 3x3 layers see as far as one 5x5
    (5, 1)
    >>> receptive_field([(7, 2), (3, 2), (3, 1)])   # ResNet's stem, then a 3x3 layer
    (19, 4)
    >>> receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)])
    (15, 1)
    """
    layers = [tuple(layer) for layer in layers]
    if any(len(layer) not in (2, 3) for layer in layers):
        raise ValueError(f"layers must be (kernel_size, stride) or (kernel_size, stride, dilation) tuples, got {layers}")
    n = _broadcast(*(v for layer in layers for v in layer))
    m = n or 1
    size, jump = (1,) * m, (1,) * m
    for layer in layers:
        kernel, stride, dilation = (*layer, 1) if len(layer) == 2 else layer
        ks, ss, ds = to_tuple(kernel, m, "kernel_size"), to_tuple(stride, m, "stride"), to_tuple(dilation, m, "dilation")
        if any(v <= 0 for v in ks + ss + ds):
            raise ValueError(f"kernel_size, stride and dilation must be positive, got layer {layer}")
        size = tuple(r + d * (k - 1) * j for r, k, d, j in zip(size, ks, ds, jump))
        jump = tuple(j * s for j, s in zip(jump, ss))
    return _unpack(n, size), _unpack(n, jump)
