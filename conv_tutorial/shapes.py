"""Output sizes of convolutions: pure arithmetic on ints, no arrays.

The bottom layer of the package: it imports nothing from it. It holds the only copy of the
output-size formulas, one function per axis (PyTorch's, from the ``torch.nn.Conv2d`` and
``torch.nn.ConvTranspose2d`` docs, with the padding of each side written apart)::

    conv:        o = floor((i + p_lo + p_hi - d(k - 1) - 1) / s) + 1        conv_axis_size
    transposed:  o = (i - 1)s - p_lo - p_hi + d(k - 1) + output_padding + 1  conv_transpose_axis_size

:class:`ConvGeometry` is one convolution layer on one input (shapes, stride, padding, dilation,
groups, transposed or not), the value ``conv_tutorial._checks`` builds from user arguments and
every engine and picture reads; the public functions below (and through them the cost model)
compute with it. They take an int or a tuple (one entry per spatial axis) and return the same kind.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from itertools import product

__all__ = [
    "ConvGeometry",
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

#: The most entries an answer may have (a tuple's items, an array's elements) for the functions whose
#: answer grows with an argument: ``conv_input_sizes``, ``output_padding_choices``,
#: ``shuffle_permutation``, ``conv_matrix``, ``gridding_map``, ``overlap_map`` and
#: ``stacked_overlap_map``. 2**24 int64 entries are 128 MiB; a larger request is refused at once
#: with a ``ValueError`` rather than failing with a ``MemoryError`` after seconds of work.
#: (Defined here, at the bottom of the package; read it as ``conv_tutorial._checks.MAX_ANSWER_SIZE``.)
MAX_ANSWER_SIZE = 2**24


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def to_tuple(value, n: int, name: str) -> tuple[int, ...]:
    """Turn an int or a length-``n`` sequence of ints into a tuple of ``n`` ints.

    A sequence of one int counts for every axis, as in PyTorch's convolutions (``stride=(2,)``).

    >>> to_tuple(3, 2, "kernel_size")
    (3, 3)
    >>> to_tuple([2], 3, "stride")
    (2, 2, 2)
    """
    if _is_int(value):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) in (1, n) and all(_is_int(v) for v in value):
        return tuple(int(v) for v in value) * (n // len(value))
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")


def check_answer_size(fn: str, what: str, size: int, cause: str) -> int:
    """Refuse an answer of more than :data:`MAX_ANSWER_SIZE` entries before computing it.

    ``what`` names the answer, ``cause`` the arguments that make it that large (``"stride=10"``).
    """
    if size > MAX_ANSWER_SIZE:
        raise ValueError(
            f"{fn}: with {cause} the {what} would have {size:,} entries, more than MAX_ANSWER_SIZE = "
            f"{MAX_ANSWER_SIZE:,} (conv_tutorial._checks.MAX_ANSWER_SIZE); ask for a smaller one"
        )
    return size


def check_output_padding(output_padding: tuple[int, ...], stride, dilation) -> tuple[int, ...]:
    """PyTorch's rule: each ``output_padding`` must be smaller than the stride or the dilation."""
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation, strict=True)):
        raise ValueError(
            f"output padding must be smaller than either stride or dilation, got "
            f"output_padding={tuple(output_padding)}, stride={tuple(stride)}, dilation={tuple(dilation)}"
        )
    return output_padding


# --- The formulas, one axis each: the only place the package writes them ---


def conv_axis_size(
    size: int, kernel: int, stride: int = 1, padding: tuple[int, int] = (0, 0), dilation: int = 1
) -> int:
    """Output size of a convolution along one axis: ``floor((i + p_lo + p_hi - d(k - 1) - 1) / s) + 1``.

    ``padding`` is ``(before, after)``. No checks: a result below 1 means the kernel does not fit.

    >>> conv_axis_size(32, 3, 2, (1, 1)), conv_axis_size(7, 3, dilation=2)
    (16, 3)
    """
    before, after = padding
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose_axis_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: tuple[int, int] = (0, 0),
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output size of a transposed convolution along one axis.

    ``(i - 1)s - p_lo - p_hi + d(k - 1) + output_padding + 1``, ``padding`` being ``(before, after)``
    (what is cropped from each side). No checks.

    >>> conv_transpose_axis_size(16, 3, 2, (1, 1)), conv_transpose_axis_size(16, 3, 2, (1, 1), output_padding=1)
    (31, 32)
    """
    before, after = padding
    return (size - 1) * stride - before - after + dilation * (kernel - 1) + output_padding + 1


def live_tap_runs(
    size: int, kernel: int, stride: int = 1, padding: tuple[int, int] = (0, 0), dilation: int = 1
) -> list[tuple[int, int, int, int]]:
    """Along one axis, the runs of output positions whose kernel taps reading the input are the same.

    Tap ``t`` of output ``o`` reads the padded position ``o * stride + t * dilation``: the input when
    that lies in ``[before, before + size)``, else padding. The taps that read the input at one
    output are a range ``t0..t1`` (empty when ``t0 > t1``). Returns ``(o0, o1, t0, t1)`` for each
    maximal run of outputs ``o0 <= o < o1`` with the same range, in order. Found from the
    ``kernel + 1`` places where a tap starts or stops reading the input, not output by output.

    >>> live_tap_runs(28, 3, padding=(12, 12), dilation=12)
    [(0, 12, 1, 2), (12, 16, 0, 2), (16, 28, 0, 1)]
    """
    before, _ = padding
    count = conv_axis_size(size, kernel, stride, padding, dilation)

    def taps(o: int) -> tuple[int, int]:
        first = -(-(before - o * stride) // dilation)  # the first tap at or past the input's start
        last = (before + size - 1 - o * stride) // dilation  # the last tap before its end
        return min(kernel, max(0, first)), max(-1, min(kernel - 1, last))

    # Both ends of the range fall as o grows, and change only where some tap j starts reading the
    # input (the first o with o * stride + j * dilation >= before) or stops.
    cuts = {0, count}
    for j in range(kernel + 1):
        cuts.update((-(-(before - j * dilation) // stride), (before + size - 1 - j * dilation) // stride + 1))
    bounds = sorted(c for c in cuts if 0 <= c <= count)
    runs: list[tuple[int, int, int, int]] = []
    for o0, o1 in zip(bounds, bounds[1:], strict=False):
        live = taps(o0)
        if runs and runs[-1][2:] == live:
            runs[-1] = (runs[-1][0], o1, *live)
        else:
            runs.append((o0, o1, *live))
    return runs


def live_tap_span(
    size: int, kernel: int, stride: int = 1, padding: tuple[int, int] = (0, 0), dilation: int = 1
) -> tuple[int, int] | None:
    """The first and last kernel tap along one axis that read the input at some output, or None.

    Taps outside that span read nothing but padding, wherever the kernel is (the engines drop them).

    >>> live_tap_span(3, 3, padding=(50, 50), dilation=50), live_tap_span(8, 3, padding=(1, 1))
    ((1, 1), (0, 2))
    """
    spans = [(t0, t1) for *_, t0, t1 in live_tap_runs(size, kernel, stride, padding, dilation) if t0 <= t1]
    return (min(t0 for t0, _ in spans), max(t1 for _, t1 in spans)) if spans else None


def _extent(kernel: int, dilation: int) -> int:
    """Input pixels one dilated kernel covers along one axis: ``d(k - 1) + 1``."""
    return dilation * (kernel - 1) + 1


@dataclass(frozen=True)
class ConvGeometry:
    """One convolution layer on one input: its shapes, stride, padding, dilation and groups.

    A direct convolution (``output_padding`` is ``None``) slides a kernel of ``kernel_size`` taps,
    ``dilation`` apart, in steps of ``stride`` over the input padded by ``padding``. A transposed
    one (``output_padding`` a tuple) is the adjoint of the direct convolution with the same numbers:
    every input pixel adds the kernel onto the output, ``stride`` apart, then ``padding`` is cropped
    and ``output_padding`` more pixels are kept at the end. Tuples hold one entry per spatial axis;
    ``padding`` holds ``(before, after)`` per axis, since PyTorch's ``'same'`` pads an even kernel
    unequally. ``conv_tutorial._checks`` builds it from a function's arguments, checked (the
    value itself checks nothing); the engines, the benchmark's layers and the pictures read it, and the
    public functions below compute with it.

    Parameters
    ----------
    batch, in_channels, out_channels : int
    input_size, kernel_size, stride, dilation : tuple of int
    padding : tuple of (int, int)
    groups : int
    output_padding : tuple of int or None
        ``None`` for a direct convolution.
    offset_groups : int or None
        The offset groups of a deformable convolution (``None`` for the others).
    unbatched : bool
        The caller passed the input without its batch axis (``batch`` is then 1).

    Examples
    --------
    >>> g = ConvGeometry(8, 3, 16, (32, 32), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1))
    >>> g.output_size, g.output_shape, g.weight_shape, g.padded_size
    ((16, 16), (8, 16, 16, 16), (16, 3, 3, 3), (34, 34))
    >>> t = ConvGeometry(1, 16, 3, (16,), (3,), (2,), ((1, 1),), (1,), output_padding=(1,))
    >>> t.output_size, t.weight_shape, t.stretched_size, t.border, t.padded_size
    ((32,), (16, 3, 3), (31,), ((1, 2),), (34,))
    """

    batch: int
    in_channels: int
    out_channels: int
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    groups: int = 1
    output_padding: tuple[int, ...] | None = None
    offset_groups: int | None = None
    unbatched: bool = False

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.input_size)

    @property
    def transposed(self) -> bool:
        """Whether this is a transposed convolution."""
        return self.output_padding is not None

    @property
    def output_size(self) -> tuple[int, ...]:
        """Spatial size of the output: ``conv_axis_size`` (or ``conv_transpose_axis_size``) per axis."""
        axes = zip(self.input_size, self.kernel_size, self.stride, self.padding, self.dilation, strict=True)
        if self.output_padding is None:
            return tuple(conv_axis_size(i, k, s, p, d) for i, k, s, p, d in axes)
        return tuple(
            conv_transpose_axis_size(i, k, s, p, op, d)
            for (i, k, s, p, d), op in zip(axes, self.output_padding, strict=True)
        )

    @property
    def input_shape(self) -> tuple[int, ...]:
        """``(N, C_in, *input_size)``, the batch axis always present."""
        return (self.batch, self.in_channels, *self.input_size)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """``(N, C_out, *output_size)``."""
        return (self.batch, self.out_channels, *self.output_size)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """The layer's weight: ``(C_out, C_in // groups, *K)``, transposed ``(C_in, C_out // groups, *K)``."""
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    @property
    def effective_kernel_size(self) -> tuple[int, ...]:
        """Input pixels a dilated kernel spans: ``d(k - 1) + 1`` per axis."""
        return tuple(_extent(k, d) for k, d in zip(self.kernel_size, self.dilation, strict=True))

    @property
    def stretched_size(self) -> tuple[int, ...]:
        """The input with ``stride - 1`` zeros between neighbouring pixels: ``(i - 1)s + 1``.

        What the direct convolution equivalent to a transposed one reads.
        """
        return tuple((i - 1) * s + 1 for i, s in zip(self.input_size, self.stride, strict=True))

    @property
    def border(self) -> tuple[tuple[int, int], ...]:
        """Zeros ``(before, after)`` around the stretched input, in the equivalent direct convolution.

        For a transposed geometry: ``p' = d(k - 1) - p`` on each side, plus ``output_padding`` after.

        A negative number crops the stretched input instead.
        """
        extra = self.output_padding or (0,) * self.ndim
        return tuple(
            (e - 1 - lo, e - 1 - hi + op)
            for e, (lo, hi), op in zip(self.effective_kernel_size, self.padding, extra, strict=True)
        )

    @property
    def padded_size(self) -> tuple[int, ...]:
        """The grid the kernel slides over: the input with its padding.

        For a transposed geometry, the stretched input with its ``border`` (the equivalent direct convolution's input).
        """
        if self.transposed:
            return tuple(n + lo + hi for n, (lo, hi) in zip(self.stretched_size, self.border, strict=True))
        return tuple(n + lo + hi for n, (lo, hi) in zip(self.input_size, self.padding, strict=True))

    @property
    def symmetric_padding(self) -> tuple[int, ...]:
        """One padding per axis, for a geometry padded equally on both sides (as PyTorch's ``padding=p``).

        A ``ValueError`` when a side differs (``'same'`` with an even kernel).
        """
        if any(lo != hi for lo, hi in self.padding):
            raise ValueError(f"padding {self.padding} differs between the two sides of an axis")
        return tuple(lo for lo, _ in self.padding)

    def contributions(self, position) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        """The ``(input pixel, kernel tap)`` pairs that make the output at ``position``, sorted.

        A direct convolution's output ``o`` reads input ``o * s + t * d - p_lo`` with tap ``t``; a
        transposed one's input pixel ``a`` adds tap ``t`` into output ``a * s + t * d - p_lo``. Taps
        that fall on padding are left out.

        >>> g = ConvGeometry(1, 1, 1, (2, 2), (3, 3), (2, 2), ((0, 0), (0, 0)), (1, 1), output_padding=(0, 0))
        >>> g.contributions((1, 2))
        [((0, 0), (1, 2)), ((0, 1), (1, 0))]
        """
        axes = []
        for o, i, k, s, (lo, _), d in zip(
            position, self.input_size, self.kernel_size, self.stride, self.padding, self.dilation, strict=True
        ):
            if self.transposed:
                reach = [(o + lo - t * d, t) for t in range(k)]
                axes.append([(q // s, t) for q, t in reach if q % s == 0 and 0 <= q // s < i])
            else:
                axes.append([(o * s + t * d - lo, t) for t in range(k) if 0 <= o * s + t * d - lo < i])
        return sorted((tuple(q for q, _ in pairs), tuple(t for _, t in pairs)) for pairs in product(*axes))


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
    return _unpack(n, tuple(_extent(k, d) for k, d in zip(ks, ds, strict=True)))


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
    geometry = ConvGeometry(1, 1, 1, sizes, ks, ss, tuple((p, p) for p in ps), ds)
    out = geometry.output_size
    if any(o <= 0 for o in out):
        raise ValueError(
            f"kernel (effective size {geometry.effective_kernel_size}) is larger than the padded input "
            f"{geometry.padded_size}"
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
    out = ConvGeometry(1, 1, 1, sizes, ks, ss, tuple((p, p) for p in ps), ds, output_padding=ops).output_size
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
    # The floor in the output size loses a pixels of the input; the transpose gives them back at the end.
    a = i - conv_transpose_axis_size(o, k, s, (p, p), 0, d)
    transpose = ConvGeometry(1, 1, 1, (o,), (k,), (s,), ((p, p),), (d,), output_padding=(a,))
    if d > 1:
        number = None
    elif s == 1:
        number = {1: 8, 2: 9, 3: 10, 4: 11}[conv_relationship(i, k, s, p, d)]
    elif a == 0:
        number = 12 if p == 0 else 13
    else:
        number = 14
    ((before, _),), (stretched,), (back,) = transpose.border, transpose.stretched_size, transpose.output_size
    return TransposedEquivalent(number, o, stretched, k, 1, before, a, d, back)


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
    smallest = conv_transpose_axis_size(o, k, s, (p, p), 0, d)
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
