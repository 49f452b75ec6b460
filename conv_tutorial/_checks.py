"""Argument normalisation and validation shared by both backends.

Every public convolution in ``conv_tutorial.numpy`` and ``conv_tutorial.torch`` passes its
arguments through this module before doing any work, so that bad input fails the same way in
both backends: a ``ValueError`` (or ``TypeError``) that names the parameter and the offending
value, in PyTorch's words where PyTorch has words.

Nothing here touches array data; functions take shapes (tuples of ints) and return plain Python
values, so the module imports neither NumPy arrays of data nor torch.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ConvSpec",
    "TransposedConvSpec",
    "as_float_dtype",
    "check_conv",
    "check_conv_transpose",
    "check_fold",
    "check_output_padding",
    "check_unfold",
    "to_tuple",
]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def to_tuple(value, n: int, name: str) -> tuple[int, ...]:
    """Turn an int or a length-``n`` sequence of ints into a tuple of ``n`` ints.

    >>> to_tuple(3, 2, "kernel_size")
    (3, 3)
    """
    if _is_int(value):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(_is_int(v) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")


def _positive(value, n: int, name: str) -> tuple[int, ...]:
    values = to_tuple(value, n, name)
    if any(v <= 0 for v in values):
        raise ValueError(f"{name} must be positive, got {name}={value!r}")
    return values


def _non_negative(value, n: int, name: str) -> tuple[int, ...]:
    values = to_tuple(value, n, name)
    if any(v < 0 for v in values):
        raise ValueError(f"{name} must be non-negative, got {name}={value!r}")
    return values


def as_float_dtype(dtype, name: str) -> np.dtype:
    """The floating dtype a computation on an array of ``dtype`` runs in.

    Integer and boolean arrays are computed as float64; float16/32/64 keep their dtype; complex
    and non-numeric dtypes are a ``TypeError``. Accepts NumPy dtypes and torch dtypes (by name).
    """
    text = str(dtype).removeprefix("torch.")
    try:
        dt = np.dtype(text)
    except TypeError:
        raise TypeError(f"{name} must hold real numbers, got dtype {dtype}") from None
    if dt.kind == "c":
        raise TypeError(f"{name} must be real, complex dtype {dtype} is not supported")
    if dt.kind in "biu":
        return np.dtype(np.float64)
    if dt.kind == "f":
        return dt
    raise TypeError(f"{name} must hold real numbers, got dtype {dtype}")


def _check_batch(fn: str, input_shape, n: int) -> tuple[tuple[int, ...], bool]:
    """Return the batched input shape and whether the input came without a batch axis."""
    input_shape = tuple(int(s) for s in input_shape)
    spatial = ("D", "H", "W")[3 - n :] if n <= 3 else tuple(f"S{i}" for i in range(n))
    if len(input_shape) == n + 2:
        return input_shape, False
    if len(input_shape) == n + 1:
        return (1, *input_shape), True
    raise ValueError(
        f"{fn}: expected input of {n + 2} dimensions (N, C, {', '.join(spatial)}) or {n + 1} "
        f"without the batch axis, got input of shape {input_shape} ({len(input_shape)} dimensions)"
    )


def _check_groups(groups) -> int:
    if not _is_int(groups):
        raise TypeError(f"groups must be an int, got {groups!r}")
    if groups <= 0:
        raise ValueError(f"groups must be positive, got groups={groups}")
    return int(groups)


def _check_layer(fn, n, input_shape, weight_shape, layout, groups, stride, dilation):
    """Checks shared by convolution and transposed convolution; ``layout`` names the weight axes."""
    batched, unbatched = _check_batch(fn, input_shape, n)
    weight_shape = tuple(int(s) for s in weight_shape)
    if len(weight_shape) != n + 2:
        raise ValueError(f"{fn}: expected weight of {n + 2} dimensions {layout}, got weight of shape {weight_shape}")
    if any(s <= 0 for s in weight_shape[1:]):
        raise ValueError(f"{fn}: weight {layout} must have non-zero sizes, got weight of shape {weight_shape}")
    groups = _check_groups(groups)
    stride = _positive(stride, n, "stride")
    dilation = _positive(dilation, n, "dilation")
    return batched, unbatched, weight_shape, groups, stride, dilation


def check_output_padding(output_padding: tuple[int, ...], stride, dilation) -> tuple[int, ...]:
    """PyTorch's rule: each ``output_padding`` must be smaller than the stride or the dilation."""
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"output padding must be smaller than either stride or dilation, got "
            f"output_padding={tuple(output_padding)}, stride={tuple(stride)}, dilation={tuple(dilation)}"
        )
    return output_padding


@dataclass(frozen=True)
class ConvSpec:
    """A validated convolution: batched shapes and per-axis ``(left, right)`` padding.

    Attributes hold tuples with one entry per spatial axis.
    """

    input_shape: tuple[int, ...]  # (N, C_in, *spatial), batch axis always present
    weight_shape: tuple[int, ...]  # (C_out, C_in // groups, *kernel)
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    groups: int
    unbatched: bool  # the caller passed (C_in, *spatial); squeeze the batch axis on return

    @property
    def kernel_size(self) -> tuple[int, ...]:
        return self.weight_shape[2:]

    @property
    def output_spatial(self) -> tuple[int, ...]:
        return tuple(
            (size + lo + hi - d * (k - 1) - 1) // s + 1
            for size, (lo, hi), k, s, d in zip(
                self.input_shape[2:], self.padding, self.kernel_size, self.stride, self.dilation
            )
        )

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.input_shape[0], self.weight_shape[0], *self.output_spatial)


def _resolve_padding(padding, n, kernel, stride, dilation) -> tuple[tuple[int, int], ...]:
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"padding='same' is not supported for strided convolutions, got stride={stride}"
                )
            # PyTorch's rule: total d*(k-1), the smaller half on the left.
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    return tuple((p, p) for p in _non_negative(padding, n, "padding"))


def _check_bias(bias_shape, out_channels: int) -> None:
    if bias_shape is not None and tuple(bias_shape) != (out_channels,):
        raise ValueError(
            f"bias must have shape ({out_channels},) (one value per output channel), "
            f"got bias of shape {tuple(bias_shape)}"
        )


def check_conv(
    fn: str,
    n: int,
    input_shape,
    weight_shape,
    bias_shape=None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
) -> ConvSpec:
    """Validate the arguments of an ``n``-d convolution and return them normalised.

    Mirrors ``torch.nn.functional.conv{n}d``: input ``(N, C_in, *spatial)`` or unbatched
    ``(C_in, *spatial)``, weight ``(C_out, C_in // groups, *kernel)``, bias ``(C_out,)``.
    """
    batched, unbatched, weight_shape, groups, stride, dilation = _check_layer(
        fn, n, input_shape, weight_shape, "(C_out, C_in // groups, *kernel)", groups, stride, dilation
    )
    out_channels, in_per_group, kernel = weight_shape[0], weight_shape[1], weight_shape[2:]
    if out_channels % groups != 0:
        raise ValueError(
            f"out_channels must be divisible by groups, got out_channels={out_channels} "
            f"(weight.shape[0]) and groups={groups}"
        )
    in_channels = batched[1]
    if in_channels % groups != 0:
        raise ValueError(
            f"in_channels must be divisible by groups, got in_channels={in_channels} and groups={groups}"
        )
    if in_channels != in_per_group * groups:
        raise ValueError(
            f"{fn}: given groups={groups}, weight of shape {weight_shape} expects input with "
            f"{in_per_group * groups} channels (weight.shape[1] * groups), but the input of shape "
            f"{tuple(input_shape)} has {in_channels} channels"
        )
    _check_bias(bias_shape, out_channels)
    pads = _resolve_padding(padding, n, kernel, stride, dilation)
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(batched[2:], pads))
    dilated = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(e > p for e, p in zip(dilated, padded)):
        raise ValueError(
            f"{fn}: padded input size per channel {padded} is smaller than the dilated kernel size "
            f"{dilated} (kernel {kernel}, dilation {dilation}); the kernel can't be greater than the "
            f"actual input size"
        )
    return ConvSpec(batched, weight_shape, stride, pads, dilation, groups, unbatched)


@dataclass(frozen=True)
class TransposedConvSpec:
    """A validated transposed convolution (weight layout ``(C_in, C_out // groups, *kernel)``)."""

    input_shape: tuple[int, ...]  # (N, C_in, *spatial), batch axis always present
    weight_shape: tuple[int, ...]  # (C_in, C_out // groups, *kernel)
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    unbatched: bool

    @property
    def kernel_size(self) -> tuple[int, ...]:
        return self.weight_shape[2:]

    @property
    def out_channels(self) -> int:
        return self.weight_shape[1] * self.groups

    @property
    def output_spatial(self) -> tuple[int, ...]:
        return tuple(
            (i - 1) * s - 2 * p + d * (k - 1) + op + 1
            for i, s, p, d, k, op in zip(
                self.input_shape[2:], self.stride, self.padding, self.dilation,
                self.kernel_size, self.output_padding,
            )
        )

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.input_shape[0], self.out_channels, *self.output_spatial)


def check_conv_transpose(
    fn: str,
    n: int,
    input_shape,
    weight_shape,
    bias_shape=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> TransposedConvSpec:
    """Validate the arguments of an ``n``-d transposed convolution and return them normalised.

    Mirrors ``torch.nn.functional.conv_transpose{n}d`` (note ``groups`` before ``dilation``):
    input ``(N, C_in, *spatial)``, weight ``(C_in, C_out // groups, *kernel)``, bias ``(C_out,)``.
    """
    batched, unbatched, weight_shape, groups, stride, dilation = _check_layer(
        fn, n, input_shape, weight_shape, "(C_in, C_out // groups, *kernel)", groups, stride, dilation
    )
    if isinstance(padding, str):
        raise ValueError(
            f"{fn}: padding must be an int or a tuple of {n} ints; 'same' and 'valid' are not "
            f"defined for transposed convolution, got padding={padding!r}"
        )
    pads = _non_negative(padding, n, "padding")
    out_pads = check_output_padding(_non_negative(output_padding, n, "output_padding"), stride, dilation)
    in_channels, out_per_group = weight_shape[:2]
    if batched[1] % groups != 0:
        raise ValueError(
            f"in_channels must be divisible by groups, got in_channels={batched[1]} and groups={groups}"
        )
    if batched[1] != in_channels:
        raise ValueError(
            f"{fn}: weight of shape {weight_shape} expects input with {in_channels} channels "
            f"(weight.shape[0]), but the input of shape {tuple(input_shape)} has {batched[1]} channels"
        )
    _check_bias(bias_shape, out_per_group * groups)
    spec = TransposedConvSpec(batched, weight_shape, stride, pads, out_pads, dilation, groups, unbatched)
    if any(o <= 0 for o in spec.output_spatial):
        raise ValueError(
            f"{fn}: padding={pads} removes the whole output; the output size would be "
            f"{spec.output_spatial}"
        )
    return spec


@dataclass(frozen=True)
class WindowSpec:
    """Sliding-window geometry of ``unfold``/``fold`` over the spatial axes."""

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]

    def blocks(self, spatial) -> tuple[int, ...]:
        """Number of window positions along each spatial axis of an input of size ``spatial``."""
        return tuple(
            (size + 2 * p - d * (k - 1) - 1) // s + 1
            for size, k, s, p, d in zip(spatial, self.kernel_size, self.stride, self.padding, self.dilation)
        )


def _window_spec(fn, n, kernel_size, dilation, padding, stride) -> WindowSpec:
    kernel = _positive(kernel_size, n, "kernel_size")
    return WindowSpec(
        kernel,
        _positive(stride, n, "stride"),
        _non_negative(padding, n, "padding"),
        _positive(dilation, n, "dilation"),
    )


def _check_windows_fit(fn, spatial, spec: WindowSpec) -> None:
    padded = tuple(size + 2 * p for size, p in zip(spatial, spec.padding))
    dilated = tuple(d * (k - 1) + 1 for k, d in zip(spec.kernel_size, spec.dilation))
    if any(e > p for e, p in zip(dilated, padded)):
        raise ValueError(
            f"{fn}: padded input size {padded} is smaller than the dilated kernel size {dilated}"
        )


def check_unfold(input_shape, kernel_size, dilation=1, padding=0, stride=1) -> tuple[WindowSpec, bool]:
    """Validate ``unfold`` (im2col) for a ``(N, C, *spatial)`` or ``(C, *spatial)`` input.

    Like ``torch.nn.functional.unfold`` the number of spatial axes is given by the input: three
    dimensions are an unbatched image, four a batch of images; other ranks name the parameter.
    Returns the window geometry and whether the input was unbatched.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) not in (3, 4):
        raise ValueError(
            f"unfold: expected input of 3 (C, H, W) or 4 (N, C, H, W) dimensions, got input of "
            f"shape {input_shape}"
        )
    spec = _window_spec("unfold", 2, kernel_size, dilation, padding, stride)
    _check_windows_fit("unfold", input_shape[-2:], spec)
    return spec, len(input_shape) == 3


def check_fold(input_shape, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Validate ``fold`` (col2im): input ``(N, C * prod(kernel), L)`` or ``(C * prod(kernel), L)``.

    Returns the window geometry, the output spatial size, the number of channels and whether the
    input was unbatched.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) not in (2, 3):
        raise ValueError(
            f"fold: expected input of 2 (C*kh*kw, L) or 3 (N, C*kh*kw, L) dimensions, got input "
            f"of shape {input_shape}"
        )
    spec = _window_spec("fold", 2, kernel_size, dilation, padding, stride)
    output_size = _positive(output_size, 2, "output_size")
    _check_windows_fit("fold", output_size, spec)
    taps = int(np.prod(spec.kernel_size))
    rows, length = input_shape[-2:]
    if rows % taps != 0:
        raise ValueError(
            f"fold: expected size of input's dimension -2 ({rows}) to be divisible by the product "
            f"of kernel_size {spec.kernel_size} ({taps})"
        )
    blocks = spec.blocks(output_size)
    if length != int(np.prod(blocks)):
        raise ValueError(
            f"fold: given output_size={output_size}, kernel_size={spec.kernel_size}, "
            f"dilation={spec.dilation}, padding={spec.padding}, stride={spec.stride}, expected "
            f"input's last dimension to be {int(np.prod(blocks))} ({blocks[0]} x {blocks[1]} "
            f"blocks), got {length}"
        )
    return spec, output_size, rows // taps, len(input_shape) == 2
