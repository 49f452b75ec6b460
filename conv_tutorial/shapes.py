"""Output sizes of convolutions: pure arithmetic on ints, no arrays.

Every function takes an int or a tuple (one entry per spatial axis) and returns the same kind.
The formulas are PyTorch's (``torch.nn.Conv2d`` and ``torch.nn.ConvTranspose2d`` docs)::

    conv:        o = floor((i + 2p - d(k - 1) - 1) / s) + 1
    transposed:  o = (i - 1)s - 2p + d(k - 1) + output_padding + 1
"""

from __future__ import annotations

from dataclasses import dataclass

from ._checks import check_answer_size, check_output_padding, to_tuple

__all__ = [
    "TransposedEquivalent",
    "conv_input_sizes",
    "conv_output_size",
    "conv_relationship",
    "conv_transpose_output_size",
    "effective_kernel_size",
    "output_padding_choices",
    "receptive_field",
    "transposed_equivalent",
]


def _broadcast(*values):
    """The common length of the tuple arguments (1 when all are ints)."""
    lengths = {len(v) for v in values if isinstance(v, (tuple, list))}
    if len(lengths) > 1:
        raise ValueError(f"tuple arguments must have the same length, got lengths {sorted(lengths)}")
    return lengths.pop() if lengths else None


def _unpack(n, result):
    return result[0] if n is None else result


def _check_input_size(sizes, input_size):
    # PyTorch refuses an empty map (only the batch may be empty), so a size is at least 1.
    if any(i <= 0 for i in sizes):
        raise ValueError(f"input_size must be positive, got input_size={input_size!r}")


def effective_kernel_size(kernel_size, dilation=1):
    """Extent of a dilated kernel: ``k + (k - 1)(d - 1) = d(k - 1) + 1``.

    >>> effective_kernel_size(3, dilation=2)
    5
    """
    n = _broadcast(kernel_size, dilation)
    ks = to_tuple(kernel_size, n or 1, "kernel_size")
    ds = to_tuple(dilation, n or 1, "dilation")
    if any(v <= 0 for v in ks + ds):
        raise ValueError(
            f"kernel_size and dilation must be positive, got kernel_size={kernel_size}, dilation={dilation}"
        )
    return _unpack(n, tuple(d * (k - 1) + 1 for k, d in zip(ks, ds, strict=True)))


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
    _check_input_size(sizes, input_size)
    if any(v <= 0 for v in ss + ds + ks):
        raise ValueError(
            f"kernel_size, stride and dilation must be positive, got kernel_size={kernel_size}, "
            f"stride={stride}, dilation={dilation}"
        )
    if padding == "same":
        if any(s != 1 for s in ss):
            raise ValueError(f"padding='same' is not supported for strided convolutions, got stride={stride}")
        return _unpack(n, sizes)
    if isinstance(padding, str) and padding != "valid":
        raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same', got padding={padding!r}")
    ps = (0,) * m if padding == "valid" else to_tuple(padding, m, "padding")
    if any(p < 0 for p in ps):
        raise ValueError(f"padding must be non-negative, got padding={padding}")
    out = tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in zip(sizes, ks, ss, ps, ds, strict=True))
    if any(o <= 0 for o in out):
        raise ValueError(
            f"kernel (effective size {effective_kernel_size(ks, ds)}) is larger than the padded input "
            f"{tuple(i + 2 * p for i, p in zip(sizes, ps, strict=True))}"
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
    _check_input_size(sizes, input_size)
    if any(v <= 0 for v in ss + ds + ks):
        raise ValueError(
            f"kernel_size, stride and dilation must be positive, got kernel_size={kernel_size}, "
            f"stride={stride}, dilation={dilation}"
        )
    if any(p < 0 for p in ps + ops):
        raise ValueError(
            f"padding and output_padding must be non-negative, got padding={padding}, output_padding={output_padding}"
        )
    check_output_padding(ops, ss, ds)
    out = tuple(
        (i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, op, d in zip(sizes, ks, ss, ps, ops, ds, strict=True)
    )
    if any(o <= 0 for o in out):
        raise ValueError(
            f"output size is too small: input_size={input_size!r} with kernel_size={kernel_size!r}, "
            f"stride={stride!r}, padding={padding!r}, output_padding={output_padding!r} and "
            f"dilation={dilation!r} gives {_unpack(n, out)}; padding removes the whole output"
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
    try:
        layers = [tuple(layer) for layer in layers]
    except TypeError:
        raise TypeError(
            f"layers must be a sequence of (kernel_size, stride) or (kernel_size, stride, dilation) "
            f"tuples, got layers={layers!r}"
        ) from None
    if any(len(layer) not in (2, 3) for layer in layers):
        raise ValueError(
            f"layers must be (kernel_size, stride) or (kernel_size, stride, dilation) tuples, got {layers}"
        )
    n = _broadcast(*(v for layer in layers for v in layer))
    m = n or 1
    size, jump = (1,) * m, (1,) * m
    for layer in layers:
        kernel, stride, dilation = (*layer, 1) if len(layer) == 2 else layer
        ks, ss, ds = (
            to_tuple(kernel, m, "kernel_size"),
            to_tuple(stride, m, "stride"),
            to_tuple(dilation, m, "dilation"),
        )
        if any(v <= 0 for v in ks + ss + ds):
            raise ValueError(f"kernel_size, stride and dilation must be positive, got layer {layer}")
        size = tuple(r + d * (k - 1) * j for r, k, d, j in zip(size, ks, ds, jump, strict=True))
        jump = tuple(j * s for j, s in zip(jump, ss, strict=True))
    return _unpack(n, size), _unpack(n, jump)


# --- The relationships of Dumoulin & Visin's "A guide to convolution arithmetic" (one axis) ---


def _axis(value, name, minimum):
    """One axis's size as an int, at least ``minimum``; the error names the parameter."""
    if isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be an int (these relationships are per axis), got {name}={value!r}")
    (value,) = to_tuple(value, 1, name)
    if value < minimum:
        word = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be {word}, got {name}={value}")
    return value


def _axis_args(input_size, kernel_size, stride, padding, dilation, input_name="input_size"):
    return (
        _axis(input_size, input_name, 1),
        _axis(kernel_size, "kernel_size", 1),
        _axis(stride, "stride", 1),
        _axis(padding, "padding", 0),
        _axis(dilation, "dilation", 1),
    )


def conv_relationship(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """The number of the relationship of Dumoulin & Visin's guide that a convolution falls under.

    The guide states the output size case by case, from the most special to the most general
    (one axis, ``i`` input, ``k`` kernel, ``s`` stride, ``p`` padding, ``d`` dilation):

    - 1: ``s = 1``, ``p = 0``: ``o = i - k + 1``
    - 2: ``s = 1``: ``o = i - k + 2p + 1``
    - 3: ``s = 1``, half padding (``k = 2n + 1``, ``p = n``): ``o = i``
    - 4: ``s = 1``, full padding (``p = k - 1``): ``o = i + k - 1``
    - 5: ``p = 0``: ``o = floor((i - k) / s) + 1``
    - 6: any: ``o = floor((i + 2p - k) / s) + 1``
    - 15: dilation ``d > 1``: ``o = floor((i + 2p - k - (k - 1)(d - 1)) / s) + 1``

    The most special case that applies is returned; every one agrees with
    :func:`conv_output_size`. (Relationship 7 is pooling; 8 to 14 are the transposed cases of
    :func:`transposed_equivalent`.)

    Parameters
    ----------
    input_size, kernel_size, stride, padding, dilation : int
        One axis.

    Returns
    -------
    int

    Examples
    --------
    >>> conv_relationship(5, 3, padding=1), conv_relationship(5, 3, stride=2, padding=1)
    (3, 6)
    """
    i, k, s, p, d = _axis_args(input_size, kernel_size, stride, padding, dilation)
    conv_output_size(i, k, s, p, d)  # raises for a kernel larger than the padded input
    if d > 1:
        return 15
    if s > 1:
        return 5 if p == 0 else 6
    if p == 0:
        return 1
    if k % 2 == 1 and p == k // 2:
        return 3
    return 4 if p == k - 1 else 2


@dataclass(frozen=True)
class TransposedEquivalent:
    """The direct convolution that computes the transpose of a convolution, along one axis.

    For a convolution ``(i, k, s, p, d)`` with output size ``o``, its transpose takes an input of
    size ``i' = o`` and is the direct convolution (kernel flipped, input and output channels
    swapped) of the *stretched* input -- ``s - 1`` zeros between neighbouring pixels, size
    ``(i' - 1)s + 1`` -- padded by ``p' = d(k - 1) - p`` zeros on each side and by ``a`` more
    zeros at the end, with kernel ``k' = k``, stride ``s' = 1`` and the same dilation. Its output
    has size ``o' = s(i' - 1) + a + d(k - 1) + 1 - 2p = i``: the transpose gives the input size
    back. A negative ``p'`` crops ``-p'`` pixels from each side instead.
    """

    relationship: int | None  # in Dumoulin & Visin's guide (8 to 14); None: not tabulated (d > 1)
    input_size: int  # i' = o, the size of the convolution's output
    stretched_size: int  # (i' - 1)s + 1
    kernel_size: int  # k' = k
    stride: int  # s' = 1
    padding: int  # p' = d(k - 1) - p, on both sides
    extra: int  # a = (i + 2p - d(k - 1) - 1) mod s: zeros at the end, the output_padding
    dilation: int  # d' = d
    output_size: int  # o' = i

    @property
    def padded_size(self) -> int:
        """Size of the stretched input with its padding and the ``a`` extra zeros."""
        return self.stretched_size + 2 * self.padding + self.extra


def transposed_equivalent(input_size, kernel_size, stride=1, padding=0, dilation=1) -> TransposedEquivalent:
    """The direct convolution equivalent to the transpose of the convolution ``(i, k, s, p, d)``.

    Dumoulin & Visin's relationships 8 to 14 (for ``d = 1``; the same arithmetic with the dilated
    kernel ``d(k - 1) + 1`` otherwise): the transpose of a convolution is a convolution of the
    stretched input with ``k' = k``, ``s' = 1``, ``p' = d(k - 1) - p`` and ``a = (i + 2p - d(k - 1) - 1)
    mod s`` extra zeros at the end. In PyTorch, ``conv_transpose(stride=s, padding=p,
    output_padding=a, dilation=d)`` on an input of size ``o`` gives back size ``i``.

    - 8: ``s = 1``, ``p = 0``: ``p' = k - 1``, ``o' = i' + k - 1``
    - 9: ``s = 1``: ``p' = k - p - 1``, ``o' = i' + k - 1 - 2p``
    - 10: ``s = 1``, half padding: ``p' = p``, ``o' = i'``
    - 11: ``s = 1``, full padding: ``p' = 0``, ``o' = i' - (k - 1)``
    - 12: ``p = 0``, ``(i - k) mod s = 0``: ``p' = k - 1``, ``o' = s(i' - 1) + k``
    - 13: ``(i + 2p - k) mod s = 0``: ``p' = k - p - 1``, ``o' = s(i' - 1) + k - 2p``
    - 14: any: ``a = (i + 2p - k) mod s``, ``o' = s(i' - 1) + a + k - 2p``

    Parameters
    ----------
    input_size, kernel_size, stride, padding, dilation : int
        The convolution being transposed, one axis (``input_size`` is its input, ``i``).

    Returns
    -------
    TransposedEquivalent

    Examples
    --------
    >>> t = transposed_equivalent(5, 3, stride=2, padding=1)   # conv: 5 -> 3
    >>> t.input_size, t.stretched_size, t.padding, t.extra, t.output_size, t.relationship
    (3, 5, 1, 0, 5, 13)
    >>> transposed_equivalent(6, 3, stride=2, padding=1).extra  # 6 -> 3 as well: a = 1
    1
    """
    i, k, s, p, d = _axis_args(input_size, kernel_size, stride, padding, dilation)
    o = conv_output_size(i, k, s, p, d)
    span = d * (k - 1) + 1
    a = (i + 2 * p - span) % s
    if d > 1:
        number = None
    elif s == 1:
        number = {1: 8, 2: 9, 3: 10, 4: 11}[conv_relationship(i, k, s, p, d)]
    elif a == 0:
        number = 12 if p == 0 else 13
    else:
        number = 14
    return TransposedEquivalent(number, o, (o - 1) * s + 1, k, 1, d * (k - 1) - p, a, d, (o - 1) * s + a + span - 2 * p)


def conv_input_sizes(output_size, kernel_size, stride=1, padding=0, dilation=1) -> tuple[int, ...]:
    """Every input size that a convolution maps to ``output_size``, one axis.

    The floor in ``o = floor((i + 2p - d(k - 1) - 1) / s) + 1`` loses up to ``s - 1`` input
    pixels, so ``s`` input sizes (fewer when the smallest ones would be empty) give the same
    ``o``. A transposed convolution of an input of size ``o`` cannot know which one to return:
    ``output_padding = a`` picks the ``a``-th, ``i = (o - 1)s - 2p + d(k - 1) + 1 + a``.

    Parameters
    ----------
    output_size, kernel_size, stride, padding, dilation : int
        One axis.

    Returns
    -------
    tuple of int
        Increasing; entry ``a`` is the size that ``output_padding = a`` produces (when the list
        is shorter than ``s``, the first sizes were not positive and the indices shift). A stride
        that would make it longer than ``conv_tutorial._checks.MAX_ANSWER_SIZE`` is a ``ValueError``.

    Examples
    --------
    >>> conv_input_sizes(3, 3, stride=2, padding=1)   # 5 and 6 both give 3
    (5, 6)
    """
    o, k, s, p, d = _axis_args(output_size, kernel_size, stride, padding, dilation, "output_size")
    smallest = (o - 1) * s - 2 * p + d * (k - 1) + 1
    first = max(smallest, 1)
    check_answer_size("conv_input_sizes", "tuple of input sizes", smallest + s - first, f"stride={s}")
    return tuple(range(first, smallest + s))


def output_padding_choices(stride=1, dilation=1) -> tuple[int, ...]:
    """The values ``output_padding`` may take: those smaller than the stride or the dilation.

    ``output_padding`` adds rows at the end of a transposed convolution's output. Below the
    stride it selects among the input sizes of :func:`conv_input_sizes`, and the convolution
    maps the output size back to the transposed convolution's input size. PyTorch also accepts
    values from the stride up to the dilation; those give sizes that the convolution maps to a
    larger output, so the pair is no longer a convolution and its transpose. (More than
    ``conv_tutorial._checks.MAX_ANSWER_SIZE`` choices is a ``ValueError``.)

    Examples
    --------
    >>> output_padding_choices(stride=2), output_padding_choices(stride=1, dilation=3)
    ((0, 1), (0, 1, 2))
    """
    s, d = _axis(stride, "stride", 1), _axis(dilation, "dilation", 1)
    check_answer_size("output_padding_choices", "tuple of choices", max(s, d), f"stride={s}, dilation={d}")
    return tuple(range(max(s, d)))
