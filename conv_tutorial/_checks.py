"""Argument normalisation and validation shared by both backends.

Every public convolution in ``conv_tutorial.numpy`` and ``conv_tutorial.torch`` passes its
arguments through this module before doing any work, so that bad input fails the same way in
both backends: a ``ValueError`` (or ``TypeError``) that names the parameter and the offending
value, in PyTorch's words where PyTorch has words.

Nothing here computes on array data; functions take shapes (tuples of ints) and return plain
Python values. The one exception is :func:`as_array`, which turns an argument of the NumPy backend
into an array (or says why it can't). The module never imports torch: a torch tensor is recognised
only when torch is already imported.

Functions whose answer grows with an argument (a list of sizes, a map, a dense matrix) refuse,
before any work, an answer of more than :data:`MAX_ANSWER_SIZE` entries (and a map that would
take more than :data:`MAX_MAP_WORK` multiply-adds to compute).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import sys

import numpy as np

from .shapes import MAX_ANSWER_SIZE, ConvGeometry, _is_int, check_answer_size, check_output_padding, to_tuple

__all__ = [
    "MAX_ANSWER_SIZE",
    "MAX_MAP_WORK",
    "OPTIONAL_ARRAYS",
    "as_array",
    "as_float_dtype",
    "check_answer_size",
    "check_array_shape",
    "check_batch_norm",
    "check_channel_shuffle",
    "check_choice",
    "check_conv",
    "check_conv_matrix",
    "check_conv_transpose",
    "check_deform_conv2d",
    "check_depthwise_weight",
    "check_dilation_stack",
    "check_divisible",
    "check_finite_kernel",
    "check_flag",
    "check_fold",
    "check_geometry",
    "check_global_depthwise",
    "check_global_pool",
    "check_index",
    "check_instance",
    "check_int_sequence",
    "check_kernel_2d",
    "check_key",
    "check_measurement",
    "check_ndim",
    "check_output_padding",
    "check_overlap_map",
    "check_pointwise_weight",
    "check_positive_int",
    "check_rank",
    "check_real",
    "check_roofline",
    "check_sample_point",
    "check_shuffle_permutation",
    "check_spatial_size",
    "check_spatially_separable",
    "check_squeeze_excitation",
    "check_stacked_overlap_map",
    "check_tolerance",
    "check_unfold",
    "check_upsample",
    "check_upsampling_layers",
    "to_tuple",
]


#: The most multiply-adds the engines may spend on one of the maps computed as transposed
#: convolutions of all-ones arrays (``gridding_map``, ``overlap_map``, ``stacked_overlap_map``):
#: a map is small, but a huge kernel makes its computation long even so. 2**27 take well under a
#: second.
MAX_MAP_WORK = 2**27

#: Array arguments that may be ``None`` (they are left out): biases and DCNv2's mask. Every other
#: array argument is required.
OPTIONAL_ARRAYS = frozenset({"bias", "mask", "b1", "b2", "depthwise_bias", "pointwise_bias", "column_bias", "row_bias"})


def _prefix(fn) -> str:
    return f"{fn}: " if fn else ""


def check_positive_int(fn, name: str, value, minimum: int = 1) -> int:
    """An int (not a bool, not a float) of at least ``minimum`` (1 by default): a size, a count.

    A value of the wrong type is a ``TypeError``, one too small a ``ValueError``; both name the
    parameter (after ``fn:`` when ``fn`` is given).

    >>> check_positive_int("layer_table", "frames", 8)
    8
    """
    if not _is_int(value):
        raise TypeError(f"{_prefix(fn)}{name} must be an int, got {name}={value!r} ({type(value).__name__})")
    if value < minimum:
        word = {0: "a non-negative int", 1: "a positive int"}.get(minimum, f"an int of at least {minimum}")
        raise ValueError(f"{_prefix(fn)}{name} must be {word}, got {name}={value!r}")
    return int(value)


def check_shape(fn, name: str, value, lengths=(1, 2, 3), minimum: int = 1) -> tuple[int, ...]:
    """A tuple (or list) of ints, each at least ``minimum``, with one of ``lengths`` entries: a map's size.

    As :func:`check_positive_int`, a wrong type is a ``TypeError`` and a wrong value a ``ValueError``.

    >>> check_shape("connectivity", "spatial", [5, 4])
    (5, 4)
    """
    if not isinstance(value, (tuple, list)) or len(value) not in lengths or not all(_is_int(v) for v in value):
        counts = " or ".join(map(str, lengths))
        raise TypeError(f"{_prefix(fn)}{name} must be a tuple of {counts} ints, got {name}={value!r}")
    return tuple(check_positive_int(fn, name, v, minimum) for v in value)


def check_flag(fn, name: str, value) -> bool:
    """``True`` or ``False`` (a NumPy bool too); anything else is a ``TypeError`` naming the parameter."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_prefix(fn)}{name} must be True or False, got {name}={value!r}")
    return bool(value)


def _real_range(minimum, maximum, exclusive_minimum: bool) -> str:
    """The words of a range: ``positive``, ``at least 1``, ``in (0, 1]``, ..."""
    if minimum is not None and maximum is not None:
        return f"in {'(' if exclusive_minimum else '['}{minimum}, {maximum}]"
    if minimum is not None and exclusive_minimum:
        return "positive" if minimum == 0 else f"greater than {minimum}"
    if minimum is not None:
        return f"at least {minimum}"
    return f"at most {maximum}"


def check_real(fn, name: str, value, minimum=None, maximum=None, *, exclusive_minimum=False, finite=False) -> float:
    """A real number (not a bool, not NaN) in a range: a ``float``.

    ``minimum`` and ``maximum`` bound the value when given, both inclusive unless
    ``exclusive_minimum`` (then ``minimum=0`` reads "positive"); with ``finite`` an infinity is
    refused too. A wrong type is a ``TypeError``, a wrong value a ``ValueError``; both name the
    parameter and the value.

    >>> check_real("densenet", "compression", 0.5, 0, 1, exclusive_minimum=True)
    0.5
    >>> check_real("densenet", "compression", 0, 0, 1, exclusive_minimum=True)
    Traceback (most recent call last):
    ...
    ValueError: densenet: compression must be in (0, 1], got compression=0.0
    >>> check_real(None, "lr", -1e-3, 0, exclusive_minimum=True)
    Traceback (most recent call last):
    ...
    ValueError: lr must be positive, got lr=-0.001
    """
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_prefix(fn)}{name} must be a real number, got {name}={value!r}")
    if math.isnan(value):
        raise ValueError(f"{_prefix(fn)}{name} must be a number, not NaN, got {name}=nan")
    number = float(value)
    if minimum is not None and maximum is None and not (exclusive_minimum or finite) and number < minimum:
        raise ValueError(f"{_prefix(fn)}{name} must be at least {minimum}, got {name}={value!r}")
    too_low = minimum is not None and (number <= minimum if exclusive_minimum else number < minimum)
    too_high = maximum is not None and number > maximum
    if too_low or too_high or (finite and math.isinf(number)):
        words = [_real_range(minimum, maximum, exclusive_minimum)] if (minimum, maximum) != (None, None) else []
        words += ["finite"] if finite else []
        raise ValueError(f"{_prefix(fn)}{name} must be {' and '.join(words)}, got {name}={number!r}")
    return number


# --- The primitives every module checks its arguments with -------------------------------------------------------


def check_divisible(fn, name: str, value: int, by_name: str | None, by: int, why: str | None = None) -> int:
    """``value`` an exact multiple of ``by``: channels split into groups, a map halved twice.

    ``by_name`` names the divisor when it is an argument too (``"groups"``); ``None`` for a constant.
    ``why``, when given, follows the divisor in the message. A remainder is a ``ValueError`` naming
    both values. Check each one's type first (:func:`check_positive_int`).

    >>> check_divisible(None, "in_channels", 8, "groups", 4)
    8
    >>> check_divisible(None, "in_channels", 6, "groups", 4)
    Traceback (most recent call last):
    ...
    ValueError: in_channels must be divisible by groups, got in_channels=6 and groups=4
    >>> check_divisible("init_cnn", "image_size", 30, None, 4, why="two poolings by 2")
    Traceback (most recent call last):
    ...
    ValueError: init_cnn: image_size must be divisible by 4 (two poolings by 2), got image_size=30
    """
    if value % by:
        divisor = by if by_name is None else by_name
        reason = f" ({why})" if why else ""
        given = f"{name}={value}" if by_name is None else f"{name}={value} and {by_name}={by}"
        raise ValueError(f"{_prefix(fn)}{name} must be divisible by {divisor}{reason}, got {given}")
    return value


def _choices_text(choices) -> str:
    choices = tuple(choices)
    return f"{choices[0]!r} or {choices[1]!r}" if len(choices) == 2 else f"one of {choices}"


def check_choice(fn, name: str, value, choices, types=None):
    """``value`` if it is one of ``choices`` (a family's name, a clock, a stride of 1 or 2).

    Anything else is a ``ValueError`` naming the parameter, the value and the choices; with
    ``types`` (a type or a tuple of types), a value of another type is a ``TypeError`` instead.

    >>> check_choice("timer_for", "clock", "cpu", ("wall", "cpu"))
    'cpu'
    >>> check_choice("timer_for", "clock", "process", ("wall", "cpu"))
    Traceback (most recent call last):
    ...
    ValueError: timer_for: clock must be 'wall' or 'cpu', got clock='process'
    >>> check_choice(None, "kind", 1, ("standard", "grouped", "depthwise"), types=str)
    Traceback (most recent call last):
    ...
    TypeError: kind must be one of ('standard', 'grouped', 'depthwise'), got kind=1 (int)
    """
    message = f"{_prefix(fn)}{name} must be {_choices_text(choices)}, got {name}={value!r}"
    if types is not None and not isinstance(value, types):
        raise TypeError(f"{message} ({type(value).__name__})")
    if value not in tuple(choices):
        raise ValueError(message)
    return value


def check_int_sequence(
    fn, name: str, value, min_length: int = 0, max_length: int | None = None, minimum: int = 1, item: str = "int"
) -> tuple[int, ...]:
    """A list or tuple of ints, each at least ``minimum``, of ``min_length`` to ``max_length`` entries.

    Block counts of a network, channels of its stages. Not a list or tuple is a ``TypeError``; a wrong
    length a ``ValueError`` that counts ``item`` (``"block count"``); each entry is checked by
    :func:`check_positive_int` under the name ``name[i]``.

    >>> check_int_sequence("resnet", "layers", [3, 4, 6, 3], 4, 4, item="block count")
    (3, 4, 6, 3)
    >>> check_int_sequence("resnet", "layers", (2, 2, 2), 4, 4, item="block count")
    Traceback (most recent call last):
    ...
    ValueError: resnet: layers must hold 4 block counts, got layers=(2, 2, 2)
    >>> check_int_sequence("densenet", "block_config", (6, 0), 1, item="block")
    Traceback (most recent call last):
    ...
    ValueError: densenet: block_config[1] must be a positive int, got block_config[1]=0
    """
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{_prefix(fn)}{name} must be a list or tuple of ints, got {name}={value!r}")
    if len(value) < min_length or (max_length is not None and len(value) > max_length):

        def count(n):
            return f"one {item}" if n == 1 else f"{n} {item}s"

        if max_length == min_length:
            words = count(min_length)
        elif max_length is None:
            words = f"at least {count(min_length)}"
        else:
            words = f"{min_length} to {count(max_length)}"
        raise ValueError(f"{_prefix(fn)}{name} must hold {words}, got {name}={value!r}")
    return tuple(check_positive_int(fn, f"{name}[{i}]", v, minimum) for i, v in enumerate(value))


def _type_name(cls: type) -> str:
    """``int``, ``torch.Tensor``, ``numpy.random.Generator``: a type as its users import it."""
    if cls.__module__ == "builtins":
        return cls.__qualname__
    public = [part for part in cls.__module__.split(".") if not part.startswith("_")]
    return ".".join([*public, cls.__qualname__])


def check_instance(fn, name: str, value, types, hint: str | None = None):
    """``value`` if it is an instance of ``types`` (a type or a tuple of types), else a ``TypeError``.

    The message names the parameter, the types expected (``hint``, when given, follows them in
    parentheses: how to make one) and the type received.

    >>> check_instance("init_cnn", "rng", 3, np.random.Generator, "np.random.default_rng(seed)")
    Traceback (most recent call last):
    ...
    TypeError: init_cnn: rng must be a numpy.random.Generator (np.random.default_rng(seed)), got int
    >>> check_instance(None, "alt", "a picture", str)
    'a picture'
    """
    if not isinstance(value, types):
        names = " or ".join(_type_name(t) for t in (types if isinstance(types, tuple) else (types,)))
        article = "an" if names[0] in "aeiouAEIOU" else "a"
        reason = f" ({hint})" if hint else ""
        raise TypeError(f"{_prefix(fn)}{name} must be {article} {names}{reason}, got {type(value).__name__}")
    return value


def check_ndim(fn, name: str, shape, layout) -> tuple[int, ...]:
    """``shape`` as a tuple, if it has as many dimensions as ``layout`` names (``"(N, C, H, W)"``).

    ``layout`` may be a tuple of layouts, any of which fits. Anything else is a ``ValueError`` that
    names the array, the layout and the shape received.

    >>> check_ndim("max_pool2d", "input", (2, 3, 8, 8), "(N, C, H, W)")
    (2, 3, 8, 8)
    >>> check_ndim("max_pool2d", "input", (3, 8, 8), "(N, C, H, W)")
    Traceback (most recent call last):
    ...
    ValueError: max_pool2d: expected input of 4 dimensions (N, C, H, W), got input of shape (3, 8, 8)
    >>> check_ndim(None, "input", (8,), ("(N, C, H, W)", "(C, H, W)"))
    Traceback (most recent call last):
    ...
    ValueError: expected input of 4 dimensions (N, C, H, W) or 3 (C, H, W), got input of shape (8,)
    """
    layouts = (layout,) if isinstance(layout, str) else tuple(layout)
    sizes = [text.count(",") + 1 for text in layouts]
    shape = tuple(int(s) for s in shape)
    if len(shape) not in sizes:
        first = f"{sizes[0]} dimensions {layouts[0]}"
        others = "".join(f" or {n} {text}" for n, text in zip(sizes[1:], layouts[1:], strict=True))
        raise ValueError(f"{_prefix(fn)}expected {name} of {first}{others}, got {name} of shape {shape}")
    return shape


def check_index(fn, name: str, value, size, why: str | None = None):
    """An index into an axis of ``size`` entries: an int in ``[0, size)``.

    With ``size`` a tuple (an output's shape), ``value`` is a position: an int for every axis or a
    tuple with one per axis, each inside its axis; the answer is then a tuple. A wrong type is a
    ``TypeError``, a negative index a ``ValueError``, and so is one past the end, which names the
    bounds (``why``, when given, follows them).

    >>> check_index("receptive_paths", "output_index", 2, 3)
    2
    >>> check_index("receptive_paths", "output_index", 3, 3, why="the output size")
    Traceback (most recent call last):
    ...
    ValueError: receptive_paths: output_index must be in [0, 3) (the output size), got output_index=3
    >>> check_index("draw_conv3d", "output_position", (1, 0, 4), (2, 3, 3))
    Traceback (most recent call last):
    ...
    ValueError: draw_conv3d: output_position must be in [0, 2) x [0, 3) x [0, 3), got output_position=(1, 0, 4)
    """
    index: int | tuple[int, ...]
    if isinstance(size, (tuple, list)):
        index = _non_negative(value, len(size), name)
        past_end = any(i >= s for i, s in zip(index, size, strict=True))
        bounds = " x ".join(f"[0, {s})" for s in size)
    else:
        index = check_positive_int(fn, name, value, minimum=0)
        past_end, bounds = index >= size, f"[0, {size})"
    if past_end:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{_prefix(fn)}{name} must be in {bounds}{reason}, got {name}={value!r}")
    return index


def check_array_shape(fn, name: str, shape, expected, whose: str | None = None) -> tuple[int, ...]:
    """``shape`` as a tuple, if it is exactly ``expected``: a gradient the shape of what it is the gradient of.

    ``whose`` says where the expected shape comes from (``"the input's"``). Any other shape is a
    ``ValueError`` naming the array and both shapes.

    >>> check_array_shape("relu_backward", "grad_output", (2, 3), (2, 3), "the input's")
    (2, 3)
    >>> check_array_shape("relu_backward", "grad_output", (3,), (2, 3), "the input's")
    Traceback (most recent call last):
    ...
    ValueError: relu_backward: grad_output must have the input's shape (2, 3), got grad_output of shape (3,)
    """
    shape, expected = tuple(int(s) for s in shape), tuple(int(s) for s in expected)
    if shape != expected:
        words = f"{whose} shape" if whose else "shape"
        raise ValueError(f"{_prefix(fn)}{name} must have {words} {expected}, got {name} of shape {shape}")
    return shape


def _torch_tensor(value) -> bool:
    """Whether ``value`` is a torch tensor, without importing torch (a tensor implies torch is imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, getattr(torch, "Tensor", ()))


def as_array(name: str, value):
    """The NumPy array a NumPy-backend function computes on, or a clear error naming the argument.

    ``None`` is refused unless the argument is optional (:data:`OPTIONAL_ARRAYS`: it is then
    returned as ``None``). A torch tensor must be one NumPy can read without losing anything:
    not one that requires grad (pass ``.detach()``, or use :mod:`conv_tutorial.torch`), on the
    CPU, and of a dtype NumPy has (not bfloat16). A nested list must be regular (every row the
    same length). The dtype is checked by :func:`as_float_dtype`, by the caller.
    """
    if value is None:
        if name in OPTIONAL_ARRAYS:
            return None
        raise TypeError(f"{name} must be an array (or a nested list of numbers), got None")
    if _torch_tensor(value):
        if value.requires_grad:
            raise TypeError(
                f"{name} is a torch tensor that requires grad, which the NumPy backend can't differentiate: pass "
                f"{name}.detach() (or use conv_tutorial.torch, whose functions are differentiable)"
            )
        if value.device.type != "cpu":
            raise TypeError(f"{name} is a torch tensor on {value.device}: pass {name}.cpu() to the NumPy backend")
        as_float_dtype(value.dtype, name)  # bfloat16 has no NumPy dtype: say so before NumPy fails
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{name} must be an array or a regular nested list of numbers (every row the same length), "
            f"got {type(value).__name__} that NumPy can't make an array of: {error}"
        ) from None


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
        dt = None
    # bfloat16 and the 8-bit floats: NumPy has no such dtype (or, with ml_dtypes imported, one of kind 'V').
    if (dt is None or dt.kind == "V") and text.startswith(("bfloat", "float")):
        raise TypeError(
            f"{name} has dtype {dtype}, which is not supported: convert it to float32 "
            f"(float16, float32 and float64 are)"
        )
    if dt is None:
        raise TypeError(f"{name} must hold real numbers, got dtype {dtype}")
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


def _check_non_empty(fn: str, input_shape, batched) -> None:
    """An input with channels and a non-empty map; only the batch may be empty, as in PyTorch."""
    if batched[1] == 0:
        raise ValueError(
            f"{fn}: input must have at least one channel, got input of shape {tuple(input_shape)} with 0 channels; "
            f"only the batch axis may be empty"
        )
    if any(s == 0 for s in batched[2:]):
        raise ValueError(
            f"{fn}: input must have non-zero spatial sizes, got input of shape {tuple(input_shape)}; only the "
            f"batch axis may be empty"
        )


def _check_layer(fn, n, input_shape, weight_shape, layout, groups, stride, dilation):
    """Checks shared by convolution and transposed convolution; ``layout`` names the weight axes."""
    batched, unbatched = _check_batch(fn, input_shape, n)
    _check_non_empty(fn, input_shape, batched)
    weight_shape = tuple(int(s) for s in weight_shape)
    if len(weight_shape) != n + 2:
        raise ValueError(f"{fn}: expected weight of {n + 2} dimensions {layout}, got weight of shape {weight_shape}")
    if any(s <= 0 for s in weight_shape):
        raise ValueError(f"{fn}: weight {layout} must have non-zero sizes, got weight of shape {weight_shape}")
    groups = _check_groups(groups)
    stride = _positive(stride, n, "stride")
    dilation = _positive(dilation, n, "dilation")
    return batched, unbatched, weight_shape, groups, stride, dilation


def _resolve_padding(padding, n, kernel, stride, dilation) -> tuple[tuple[int, int], ...]:
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"padding='same' is not supported for strided convolutions, got stride={stride}")
            # PyTorch's rule: total d*(k-1), the smaller half on the left.
            totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
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
) -> ConvGeometry:
    """Validate the arguments of an ``n``-d convolution and return its geometry.

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
        raise ValueError(f"in_channels must be divisible by groups, got in_channels={in_channels} and groups={groups}")
    if in_channels != in_per_group * groups:
        raise ValueError(
            f"{fn}: given groups={groups}, weight of shape {weight_shape} expects input with "
            f"{in_per_group * groups} channels (weight.shape[1] * groups), but the input of shape "
            f"{tuple(input_shape)} has {in_channels} channels"
        )
    _check_bias(bias_shape, out_channels)
    pads = _resolve_padding(padding, n, kernel, stride, dilation)
    geometry = ConvGeometry(
        batched[0], in_channels, out_channels, batched[2:], kernel, stride, pads, dilation, groups, unbatched=unbatched
    )
    if any(o <= 0 for o in geometry.output_size):
        raise ValueError(
            f"{fn}: padded input size per channel {geometry.padded_size} is smaller than the dilated kernel size "
            f"{geometry.effective_kernel_size} (kernel {kernel}, dilation {dilation}); the kernel can't be greater "
            f"than the actual input size"
        )
    return geometry


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
) -> ConvGeometry:
    """Validate the arguments of an ``n``-d transposed convolution and return its geometry.

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
        raise ValueError(f"in_channels must be divisible by groups, got in_channels={batched[1]} and groups={groups}")
    if batched[1] != in_channels:
        raise ValueError(
            f"{fn}: weight of shape {weight_shape} expects input with {in_channels} channels "
            f"(weight.shape[0]), but the input of shape {tuple(input_shape)} has {batched[1]} channels"
        )
    _check_bias(bias_shape, out_per_group * groups)
    geometry = ConvGeometry(
        batched[0],
        in_channels,
        out_per_group * groups,
        batched[2:],
        weight_shape[2:],
        stride,
        tuple((p, p) for p in pads),
        dilation,
        groups,
        output_padding=out_pads,
        unbatched=unbatched,
    )
    if any(o <= 0 for o in geometry.output_size):
        raise ValueError(
            f"{fn}: padding={pads} removes the whole output; the output size would be {geometry.output_size}"
        )
    return geometry


def _window_args(kernel_size, dilation, padding, stride):
    """``unfold``/``fold``'s kernel, stride, ``(before, after)`` padding and dilation over a 2D map, checked."""
    kernel = _positive(kernel_size, 2, "kernel_size")
    stride = _positive(stride, 2, "stride")
    pads = tuple((p, p) for p in _non_negative(padding, 2, "padding"))
    return kernel, stride, pads, _positive(dilation, 2, "dilation")


def _window_geometry(batch, channels, spatial, window, unbatched) -> ConvGeometry:
    """The sliding windows of :func:`_window_args` over a ``(batch, channels, *spatial)`` input.

    They are a convolution with one filter per channel and kernel tap (``groups = channels``), each picking its tap.
    """
    kernel, stride, pads, dilation = window
    out_channels = channels * math.prod(kernel)
    return ConvGeometry(
        batch, channels, out_channels, spatial, kernel, stride, pads, dilation, channels, unbatched=unbatched
    )


def _check_windows_fit(fn, geometry: ConvGeometry) -> None:
    if any(o <= 0 for o in geometry.output_size):
        raise ValueError(
            f"{fn}: padded input size {geometry.padded_size} is smaller than the dilated kernel size "
            f"{geometry.effective_kernel_size}"
        )


def check_unfold(input_shape, kernel_size, dilation=1, padding=0, stride=1) -> ConvGeometry:
    """Validate ``unfold`` (im2col) for a ``(N, C, *spatial)`` or ``(C, *spatial)`` input.

    Like ``torch.nn.functional.unfold`` the number of spatial axes is given by the input: three
    dimensions are an unbatched image, four a batch of images; other ranks name the parameter.
    Returns the geometry of the windows: a convolution with ``C * kh * kw`` output channels in
    ``C`` groups, whose output size is the grid of blocks.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) not in (3, 4):
        raise ValueError(
            f"unfold: expected input of 3 (C, H, W) or 4 (N, C, H, W) dimensions, got input of shape {input_shape}"
        )
    batched = input_shape if len(input_shape) == 4 else (1, *input_shape)
    _check_non_empty("unfold", input_shape, batched)
    window = _window_args(kernel_size, dilation, padding, stride)
    geometry = _window_geometry(batched[0], batched[1], batched[2:], window, len(input_shape) == 3)
    _check_windows_fit("unfold", geometry)
    return geometry


def check_fold(input_shape, output_size, kernel_size, dilation=1, padding=0, stride=1) -> ConvGeometry:
    """Validate ``fold`` (col2im): input ``(N, C * prod(kernel), L)`` or ``(C * prod(kernel), L)``.

    Returns the geometry of the :func:`check_unfold` whose adjoint the ``fold`` is: its input is
    the image ``fold`` returns (``C`` channels of ``output_size``), its output size the grid of blocks.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) not in (2, 3):
        raise ValueError(
            f"fold: expected input of 2 (C*kh*kw, L) or 3 (N, C*kh*kw, L) dimensions, got input of shape {input_shape}"
        )
    window = _window_args(kernel_size, dilation, padding, stride)
    output_size = _positive(output_size, 2, "output_size")
    rows, length = input_shape[-2:]
    taps = math.prod(window[0])
    batch = input_shape[0] if len(input_shape) == 3 else 1
    spec = _window_geometry(batch, rows // taps, output_size, window, len(input_shape) == 2)
    _check_windows_fit("fold", spec)
    if rows == 0:
        raise ValueError(
            f"fold: expected input with a non-zero dimension -2 (C * kh * kw: at least one channel), got input of "
            f"shape {input_shape}; only the batch axis may be empty"
        )
    if rows % taps != 0:
        raise ValueError(
            f"fold: expected size of input's dimension -2 ({rows}) to be divisible by the product "
            f"of kernel_size {spec.kernel_size} ({taps})"
        )
    blocks = spec.output_size
    if length != math.prod(blocks):
        raise ValueError(
            f"fold: given output_size={output_size}, kernel_size={spec.kernel_size}, "
            f"dilation={spec.dilation}, padding={spec.symmetric_padding}, stride={spec.stride}, expected "
            f"input's last dimension to be {math.prod(blocks)} ({blocks[0]} x {blocks[1]} "
            f"blocks), got {length}"
        )
    return spec


def check_pointwise_weight(fn: str, weight_shape) -> tuple[int, int, int, int]:
    """The ``(C_out, C_in, 1, 1)`` shape of a pointwise (1x1) weight given as ``(C_out, C_in)`` or 4D.

    A pointwise convolution has no spatial extent, so a 4D weight with a kernel larger than 1x1 is
    refused rather than run as a standard convolution under the wrong name.
    """
    weight_shape = tuple(int(s) for s in weight_shape)
    if len(weight_shape) == 2:
        return (*weight_shape, 1, 1)
    if len(weight_shape) == 4 and weight_shape[2:] == (1, 1):
        return weight_shape
    raise ValueError(
        f"{fn}: expected weight of shape (C_out, C_in) or (C_out, C_in, 1, 1), got weight of shape {weight_shape}"
    )


def check_channel_shuffle(input_shape, groups) -> tuple[int, ...]:
    """Validate ``channel_shuffle``: input ``(N, C, *)`` with at least 3 dimensions, ``C`` divisible by ``groups``.

    Returns the input shape as a tuple of ints. Like ``torch.nn.ChannelShuffle``, axis 1 holds the
    channels whatever the number of dimensions.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) < 3:
        raise ValueError(
            f"channel_shuffle: expected input of at least 3 dimensions (N, C, *), got input of shape {input_shape}"
        )
    if not _is_int(groups):
        raise TypeError(f"groups must be an int, got {groups!r}")
    if groups <= 0:
        raise ValueError(f"groups must be positive, got groups={groups}")
    if input_shape[1] % groups != 0:
        raise ValueError(
            f"channel_shuffle: number of channels must be divisible by groups, got {input_shape[1]} channels "
            f"(input.shape[1]) and groups={groups}"
        )
    return input_shape


def _check_image_batch(fn: str, input_shape) -> tuple[tuple[int, ...], bool]:
    """A ``(N, C, H, W)`` or unbatched ``(C, H, W)`` input: the batched shape and whether it was unbatched."""
    batched, unbatched = _check_batch(fn, input_shape, 2)
    if any(s <= 0 for s in batched[2:]):
        raise ValueError(f"{fn}: input must have a non-empty feature map, got input of shape {tuple(input_shape)}")
    return batched, unbatched


def check_global_pool(input_shape) -> tuple[tuple[int, ...], bool]:
    """Validate ``global_avg_pool2d``: input ``(N, C, H, W)`` or ``(C, H, W)`` with a non-empty map.

    Returns the batched input shape and whether the input came without a batch axis.
    """
    return _check_image_batch("global_avg_pool2d", input_shape)


def check_squeeze_excitation(input_shape, w1_shape, b1_shape, w2_shape, b2_shape) -> tuple[tuple[int, ...], bool]:
    """Validate ``squeeze_excitation``: input ``(N, C, H, W)`` and the weights of its two layers.

    The weights are ``w1 (C_r, C)``, ``b1 (C_r,)``, ``w2 (C, C_r)``, ``b2 (C,)`` (biases may be ``None``).

    Returns the batched input shape and whether the input came without a batch axis.
    """
    batched, unbatched = _check_image_batch("squeeze_excitation", input_shape)
    channels = batched[1]
    w1_shape = tuple(int(s) for s in w1_shape)
    if len(w1_shape) != 2 or w1_shape[1] != channels or w1_shape[0] <= 0:
        raise ValueError(
            f"squeeze_excitation: w1 must have shape (C_r, C) = (C_r, {channels}) for an input with {channels} "
            f"channels, got w1 of shape {w1_shape}"
        )
    reduced = w1_shape[0]
    w2_shape = tuple(int(s) for s in w2_shape)
    if w2_shape != (channels, reduced):
        raise ValueError(
            f"squeeze_excitation: w2 must have shape (C, C_r) = ({channels}, {reduced}), got w2 of shape {w2_shape}"
        )
    for name, shape, size in (("b1", b1_shape, reduced), ("b2", b2_shape, channels)):
        if shape is not None and tuple(shape) != (size,):
            raise ValueError(
                f"squeeze_excitation: {name} must have shape ({size},), got {name} of shape {tuple(shape)}"
            )
    return batched, unbatched


def check_global_depthwise(input_shape, weight_shape, bias_shape=None) -> tuple[tuple[int, ...], bool]:
    """Validate ``global_depthwise_conv2d``: input ``(N, C, H, W)``, weight ``(C, 1, H, W)``, bias ``(C,)``.

    The kernel must cover the whole feature map: that is what makes the convolution global.
    Returns the batched input shape and whether the input came without a batch axis.
    """
    batched, unbatched = _check_image_batch("global_depthwise_conv2d", input_shape)
    _check_non_empty("global_depthwise_conv2d", input_shape, batched)
    channels, spatial = batched[1], batched[2:]
    weight_shape = tuple(int(s) for s in weight_shape)
    if len(weight_shape) != 4 or weight_shape[:2] != (channels, 1):
        raise ValueError(
            f"global_depthwise_conv2d: weight must have shape (C, 1, H, W) = ({channels}, 1, H, W), one filter per "
            f"channel, got weight of shape {weight_shape}"
        )
    if weight_shape[2:] != spatial:
        raise ValueError(
            f"global_depthwise_conv2d: the kernel must be the size of the feature map {spatial}, got weight of "
            f"shape {weight_shape} (kernel {weight_shape[2:]}); use conv2d(..., groups=C) for a smaller kernel"
        )
    _check_bias(bias_shape, channels)
    return batched, unbatched


def check_dilation_stack(fn: str, dilations, kernel_size, ndim) -> list[tuple[int, int]]:
    """Validate a stack of dilated layers: ``(kernel_size, dilation)`` per layer, input side first.

    ``dilations`` is a non-empty sequence of positive ints; ``kernel_size`` one positive int for
    every layer or one per layer; ``ndim`` is 1 or 2.
    """
    if not _is_int(ndim):
        raise TypeError(f"{fn}: ndim must be 1 or 2, got ndim={ndim!r}")
    if ndim not in (1, 2):
        raise ValueError(f"{fn}: ndim must be 1 or 2, got ndim={ndim!r}")
    if not isinstance(dilations, (tuple, list)) or not dilations:
        raise TypeError(f"{fn}: dilations must be a non-empty sequence of ints (one per layer), got {dilations!r}")
    rates = _positive(list(dilations), len(dilations), "dilations")
    if isinstance(kernel_size, (tuple, list)) and len(kernel_size) != len(rates):
        raise ValueError(
            f"{fn}: kernel_size must be an int or one int per layer ({len(rates)}), got kernel_size={kernel_size!r}"
        )
    kernels = _positive(
        list(kernel_size) if isinstance(kernel_size, (tuple, list)) else kernel_size, len(rates), "kernel_size"
    )
    # The map is computed from one pixel back through every layer (last first), by transposed
    # convolutions whose outputs grow to the receptive field.
    size, steps = 1, []
    for k, d in reversed(list(zip(kernels, rates, strict=True))):
        size += d * (k - 1)
        steps.append(((size,) * ndim, k**ndim))
    _check_map(fn, (size,) * ndim, steps, f"dilations={dilations!r}, kernel_size={kernel_size!r}, ndim={ndim}")
    return list(zip(kernels, rates, strict=True))


def _check_map(fn: str, answer_shape, steps, cause: str) -> None:
    """Refuse a map (``gridding_map``, ``overlap_map``) too large to compute before computing it.

    ``steps`` lists, for every transposed convolution of all-ones that builds the map, the grid
    it is computed on and its number of kernel taps: the engines take about ``prod(grid) * taps``
    multiply-adds (and the torch engine as many numbers of memory), bounded by :data:`MAX_MAP_WORK`.
    """
    check_answer_size(fn, f"map of shape {tuple(answer_shape)}", math.prod(answer_shape), cause)
    work = sum(math.prod(grid) * taps for grid, taps in steps)
    if work > MAX_MAP_WORK:
        raise ValueError(
            f"{fn}: with {cause} computing the map of shape {tuple(answer_shape)} would take {work:,} "
            f"multiply-adds, more than MAX_MAP_WORK = {MAX_MAP_WORK:,} (conv_tutorial._checks.MAX_MAP_WORK); ask "
            f"for a smaller one"
        )


def check_overlap_map(fn: str, input_size, kernel_size, stride, padding, output_padding):
    """Validate ``overlap_map``: returns the input size and the transposed geometry of the map.

    One transposed convolution of an all-ones ``(1, 1, *input_size)`` input with an all-ones kernel.
    """
    size = check_spatial_size(fn, input_size)
    n = len(size)
    kernel = _positive(kernel_size, n, "kernel_size")
    spec = check_conv_transpose(fn, n, (1, 1, *size), (1, 1, *kernel), None, stride, padding, output_padding)
    canvas = tuple(o + lo + hi for o, (lo, hi) in zip(spec.output_size, spec.padding, strict=True))
    _check_map(
        fn,
        spec.output_size,
        [(canvas, math.prod(kernel))],
        f"input_size={input_size!r}, kernel_size={kernel_size!r}, stride={stride!r}, padding={padding!r}",
    )
    return size, spec


def check_stacked_overlap_map(fn: str, input_size, layers):
    """Validate ``stacked_overlap_map``: the input size and ``(kernel, stride, padding)`` of every layer.

    Every layer's sizes are checked, and the whole stack's map sized, before any work.
    """
    size = check_spatial_size(fn, input_size)
    n = len(size)
    checked = check_upsampling_layers(fn, layers, n)
    current, steps = size, []
    for kernel, stride, padding in checked:
        current = check_conv_transpose(fn, n, (1, 1, *current), (1, 1, *kernel), None, stride, padding).output_size
        steps.append((tuple(o + 2 * p for o, p in zip(current, padding, strict=True)), math.prod(kernel)))
    _check_map(fn, current, steps, f"input_size={input_size!r}, layers={layers!r}")
    return size, checked


def check_spatial_size(fn: str, input_size) -> tuple[int, ...]:
    """An int (one axis) or a tuple of 1 or 2 positive ints: the spatial size of a 1D or 2D map."""
    if _is_int(input_size):
        input_size = (input_size,)
    if not isinstance(input_size, (tuple, list)) or len(input_size) not in (1, 2):
        raise TypeError(f"{fn}: input_size must be an int or a tuple of 1 or 2 ints, got input_size={input_size!r}")
    return _positive(list(input_size), len(input_size), "input_size")


def check_upsampling_layers(fn: str, layers, n: int) -> list[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
    """A non-empty sequence of ``(kernel_size, stride)`` or ``(kernel_size, stride, padding)`` tuples.

    Returns ``(kernel, stride, padding)`` per layer, each a tuple of ``n`` ints.
    """
    if (
        not isinstance(layers, (tuple, list))
        or not layers
        or any(not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3) for layer in layers)
    ):
        raise ValueError(
            f"{fn}: layers must be a non-empty sequence of (kernel_size, stride) or "
            f"(kernel_size, stride, padding) tuples, got layers={layers!r}"
        )
    return [
        (
            _positive(layer[0], n, "kernel_size"),
            _positive(layer[1], n, "stride"),
            _non_negative(layer[2] if len(layer) == 3 else 0, n, "padding"),
        )
        for layer in layers
    ]


def check_upsample(fn: str, input_shape, scale_factor, mode) -> tuple[tuple[int, ...], bool, int]:
    """Validate a 2D upsampling by a positive integer ``scale_factor``, ``mode`` 'nearest' or 'bilinear'.

    Returns the batched input shape, whether the input came without a batch axis, and the factor.
    """
    batched, unbatched = _check_batch(fn, input_shape, 2)
    _check_non_empty(fn, input_shape, batched)
    if not _is_int(scale_factor):
        raise TypeError(f"{fn}: scale_factor must be an int, got scale_factor={scale_factor!r}")
    if scale_factor <= 0:
        raise ValueError(f"{fn}: scale_factor must be positive, got scale_factor={scale_factor}")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"{fn}: mode must be 'nearest' or 'bilinear', got mode={mode!r}")
    return batched, unbatched, int(scale_factor)


def check_depthwise_weight(fn: str, input_shape, weight_shape) -> int:
    """The channel multiplier of a depthwise weight ``(C_in * multiplier, 1, kH, kW)``.

    The input has ``C_in`` channels (``(N, C_in, H, W)`` or ``(C_in, H, W)``); one filter of one
    channel per output channel, ``multiplier`` of them per input channel.
    """
    input_shape, weight_shape = tuple(int(s) for s in input_shape), tuple(int(s) for s in weight_shape)
    if len(input_shape) not in (3, 4):
        raise ValueError(
            f"{fn}: expected input of 4 dimensions (N, C, H, W) or 3 (C, H, W), got input of shape {input_shape}"
        )
    channels = input_shape[-3]
    if (
        len(weight_shape) != 4
        or weight_shape[1] != 1
        or channels == 0
        or weight_shape[0] == 0
        or weight_shape[0] % channels
    ):
        raise ValueError(
            f"{fn}: expected weight of shape (C_in * multiplier, 1, kH, kW) with C_in={channels} (the input's "
            f"channels), got weight of shape {weight_shape}"
        )
    return weight_shape[0] // channels


def check_kernel_2d(fn: str, kernel_shape) -> tuple[int, int]:
    """A single 2D kernel ``(kH, kW)``: the matrix whose rank says whether it is separable."""
    kernel_shape = tuple(int(s) for s in kernel_shape)
    if len(kernel_shape) != 2 or 0 in kernel_shape:
        raise ValueError(
            f"{fn}: expected kernel of shape (kH, kW) with non-zero sizes, got kernel of shape {kernel_shape}"
        )
    return kernel_shape


def check_rank(fn: str, rank, kernel_shape) -> int:
    """A rank between 1 and ``min(kH, kW)`` for a low-rank approximation of a ``(kH, kW)`` kernel."""
    if not _is_int(rank):
        raise TypeError(f"{fn}: rank must be an int, got {rank!r}")
    if not 1 <= rank <= min(kernel_shape):
        raise ValueError(f"{fn}: rank must be between 1 and min(kH, kW)={min(kernel_shape)}, got rank={rank}")
    return int(rank)


def check_spatially_separable(fn: str, column_shape, row_shape, stride, padding, dilation):
    """Split the arguments of a ``kH x 1`` then ``1 x kW`` convolution into its two steps.

    ``column_shape`` must be ``(C_mid, C_in // groups, kH, 1)`` and ``row_shape``
    ``(C_out, C_mid // groups, 1, kW)``. Returns ``((stride, padding, dilation) of the column
    step, (stride, padding, dilation) of the row step)``: the column step works along the height
    only, the row step along the width only; ``'same'`` and ``'valid'`` apply to both.
    """
    column_shape, row_shape = tuple(int(s) for s in column_shape), tuple(int(s) for s in row_shape)
    if len(column_shape) != 4 or column_shape[3] != 1:
        raise ValueError(f"{fn}: expected column_weight of shape (C_mid, C_in // groups, kH, 1), got {column_shape}")
    if len(row_shape) != 4 or row_shape[2] != 1:
        raise ValueError(f"{fn}: expected row_weight of shape (C_out, C_mid // groups, 1, kW), got {row_shape}")
    (sh, sw), (dh, dw) = _positive(stride, 2, "stride"), _positive(dilation, 2, "dilation")
    pads: tuple[str | tuple[int, int], str | tuple[int, int]]
    if isinstance(padding, str):
        pads = (padding, padding)
    else:
        ph, pw = _non_negative(padding, 2, "padding")
        pads = ((ph, 0), (0, pw))
    return ((sh, 1), pads[0], (dh, 1)), ((1, sw), pads[1], (1, dw))


def check_deform_conv2d(
    input_shape, offset_shape, weight_shape, bias_shape=None, mask_shape=None, stride=1, padding=0, dilation=1
) -> ConvGeometry:
    """Validate the arguments of ``deform_conv2d`` and return its geometry.

    Mirrors ``torchvision.ops.deform_conv2d``: input ``(N, C_in, H, W)``, offset
    ``(N, 2 * offset_groups * kH * kW, H_out, W_out)``, weight ``(C_out, C_in // groups, kH, kW)``,
    mask ``(N, offset_groups * kH * kW, H_out, W_out)``, bias ``(C_out,)``. Like torchvision, the
    weight groups are inferred as ``C_in // weight.shape[1]`` and the offset groups as
    ``offset.shape[1] // (2 * kH * kW)``.
    """
    fn = "deform_conv2d"
    shapes = {"input": input_shape, "offset": offset_shape, "weight": weight_shape, "mask": mask_shape}
    layouts = {
        "input": "(N, C_in, H, W)",
        "offset": "(N, 2 * offset_groups * kH * kW, H_out, W_out)",
        "weight": "(C_out, C_in // groups, kH, kW)",
        "mask": "(N, offset_groups * kH * kW, H_out, W_out)",
    }
    for name, shape in shapes.items():
        if shape is not None and len(shape) != 4:
            raise ValueError(
                f"{fn}: expected {name} of 4 dimensions {layouts[name]}, got {name} of shape {tuple(shape)}"
            )
    input_shape, offset_shape, weight_shape = (
        tuple(int(s) for s in shp) for shp in (input_shape, offset_shape, weight_shape)
    )
    _check_non_empty(fn, input_shape, input_shape)
    if any(s <= 0 for s in weight_shape):
        raise ValueError(f"{fn}: weight must have non-zero sizes, got weight of shape {weight_shape}")
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int or a tuple of 2 ints, got padding={padding!r}")
    stride, dilation = _positive(stride, 2, "stride"), _positive(dilation, 2, "dilation")
    padding = _non_negative(padding, 2, "padding")
    batch, in_channels = input_shape[:2]
    out_channels, in_per_group, kh, kw = weight_shape
    if in_channels % in_per_group != 0:
        raise ValueError(
            f"{fn}: in_channels must be divisible by weight.shape[1] (the groups are inferred as their "
            f"quotient), got in_channels={in_channels} and weight of shape {weight_shape}"
        )
    groups = in_channels // in_per_group
    if out_channels % groups != 0:
        raise ValueError(
            f"out_channels must be divisible by groups, got out_channels={out_channels} (weight.shape[0]) and "
            f"groups={groups} (in_channels // weight.shape[1])"
        )
    taps = kh * kw
    if offset_shape[1] == 0 or offset_shape[1] % (2 * taps) != 0:
        raise ValueError(
            f"{fn}: offset.shape[1] must be a positive multiple of 2 * kH * kW = {2 * taps} (a (dy, dx) pair per "
            f"kernel tap and offset group), got offset of shape {offset_shape}"
        )
    offset_groups = offset_shape[1] // (2 * taps)
    if in_channels % offset_groups != 0:
        raise ValueError(
            f"{fn}: in_channels must be divisible by offset_groups, got in_channels={in_channels} and "
            f"offset_groups={offset_groups} (offset.shape[1] // (2 * kH * kW))"
        )
    _check_bias(bias_shape, out_channels)
    pads = tuple((p, p) for p in padding)
    spec = ConvGeometry(
        batch, in_channels, out_channels, input_shape[2:], (kh, kw), stride, pads, dilation, groups, None, offset_groups
    )
    if any(o <= 0 for o in spec.output_size):
        raise ValueError(
            f"{fn}: padded input size per channel {spec.padded_size} is smaller than the dilated kernel size "
            f"{spec.effective_kernel_size}"
        )
    expected = (batch, 2 * offset_groups * taps, *spec.output_size)
    if offset_shape != expected:
        raise ValueError(
            f"{fn}: offset must have shape (N, 2 * offset_groups * kH * kW, H_out, W_out) = {expected}, got offset "
            f"of shape {offset_shape}"
        )
    if mask_shape is not None:
        mask_shape = tuple(int(s) for s in mask_shape)
        expected = (batch, offset_groups * taps, *spec.output_size)
        if mask_shape != expected:
            raise ValueError(
                f"{fn}: mask must have shape (N, offset_groups * kH * kW, H_out, W_out) = {expected} "
                f"(offset_groups={offset_groups} from the offset), got mask of shape {mask_shape}"
            )
    return spec


def check_measurement(fn: str, dtype, backend, size, repeats) -> tuple[np.dtype, str, int, int]:
    """Arguments of a machine measurement (``conv_tutorial.roofline``): float dtype, backend, size, repeats."""
    with contextlib.suppress(TypeError):  # torch dtypes: as_float_dtype reads them by name
        dtype = np.dtype(dtype)  # NumPy dtypes, scalar types (np.float32) and names
    dt = as_float_dtype(dtype, "dtype")
    check_choice(fn, "backend", backend, ("torch", "numpy"))
    return dt, backend, check_positive_int(fn, "size", size), check_positive_int(fn, "repeats", repeats)


def check_roofline(fn: str, peak, bandwidth) -> tuple[float, float]:
    """The two numbers of a roofline: positive, finite FLOP/s and byte/s."""
    values = []
    for name, value in (("peak", peak), ("bandwidth", bandwidth)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"{fn}: {name} must be a real number, got {name}={value!r}")
        if not (math.isfinite(value) and float(value) > 0):
            raise ValueError(f"{fn}: {name} must be positive and finite, got {name}={value!r}")
        values.append(float(value))
    return values[0], values[1]


def check_tolerance(fn: str, tol) -> float | None:
    """``None`` (the default rule) or a non-negative real number: singular values at most ``tol`` are zero."""
    if tol is None:
        return None
    return check_real(fn, "tol", tol, minimum=0)


def check_finite_kernel(fn: str, finite: bool) -> None:
    """An SVD is undefined for a kernel holding NaN or inf (NumPy and torch both fail to converge)."""
    if not finite:
        raise ValueError(f"{fn}: kernel must be finite, got a kernel holding NaN or inf (its SVD is undefined)")


def check_sample_point(fn: str, image_shape, y, x) -> tuple[int, int]:
    """A single ``(H, W)`` image and a point ``(y, x)`` of real, non-NaN coordinates: returns ``(H, W)``.

    Infinite coordinates are allowed (they lie outside the image, which reads 0).
    """
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) != 2:
        raise ValueError(f"{fn}: expected image of shape (H, W), got image of shape {image_shape}")
    for name, value in (("y", y), ("x", x)):
        check_real(fn, name, value)
    return image_shape


def check_shuffle_permutation(channels, groups) -> tuple[int, int]:
    """``shuffle_permutation``: ``channels`` a non-negative int divisible by ``groups``, the answer not too long."""
    fn = "shuffle_permutation"
    channels = check_positive_int(fn, "channels", channels, minimum=0)
    check_channel_shuffle((1, channels, 1), groups)
    check_answer_size(fn, "permutation", channels, f"channels={channels}")
    return channels, int(groups)


def check_conv_matrix(input_shape, weight_shape, stride, padding, dilation) -> ConvGeometry:
    """``conv_matrix``: a valid convolution whose dense matrix is not too large.

    ``input_shape`` is a tuple ``(C_in, H, W)`` of positive ints, and the dense matrix
    ``(C_out * H_out * W_out, C_in * H * W)`` has at most :data:`MAX_ANSWER_SIZE` entries.
    """
    fn = "conv_matrix"
    if not isinstance(input_shape, (tuple, list)) or not all(_is_int(v) for v in input_shape):
        raise TypeError(f"{fn}: input_shape must be (C_in, H, W), a tuple of 3 ints, got input_shape={input_shape!r}")
    if len(input_shape) != 3 or any(v <= 0 for v in input_shape):
        raise ValueError(
            f"{fn}: input_shape must be (C_in, H, W), a tuple of 3 positive ints, got input_shape={input_shape!r}"
        )
    input_shape = tuple(int(v) for v in input_shape)
    spec = check_conv(fn, 2, input_shape, weight_shape, None, stride, padding, dilation, 1)
    rows, cols = math.prod(spec.output_shape[1:]), math.prod(input_shape)
    check_answer_size(
        fn,
        f"matrix of shape ({rows}, {cols})",
        rows * cols,
        f"input_shape={tuple(input_shape)} and weight of shape {spec.weight_shape}",
    )
    return spec


def check_geometry(fn, n: int, stride=1, padding=0, dilation=1, strings: bool = True) -> None:
    """Stride, padding and dilation of a layer, checked when the layer is built (before any input).

    ``stride`` and ``dilation`` are positive, ``padding`` non-negative (ints or tuples of ``n``);
    with ``strings`` padding may also be ``'valid'`` or ``'same'`` (which needs stride 1).
    """
    stride = _positive(stride, n, "stride")
    dilation = _positive(dilation, n, "dilation")
    if isinstance(padding, str) and not strings:
        raise ValueError(f"{_prefix(fn)}padding must be an int or a tuple of {n} ints, got padding={padding!r}")
    _resolve_padding(padding, n, (1,) * n, stride, dilation)  # the convolutions' own rule, with any kernel


def check_batch_norm(input_shape, **vectors) -> int:
    """``batch_norm``: input ``(N, C, *)`` (at least 2 dimensions) and every given vector of shape ``(C,)``.

    ``vectors`` maps a name (``running_mean``, ``weight``, ...) to a shape, or ``None`` for an omitted
    optional one. Returns ``C``.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) < 2:
        raise ValueError(
            f"batch_norm: expected input of at least 2 dimensions (N, C, *), got input of shape {input_shape}"
        )
    channels = input_shape[1]
    for name, shape in vectors.items():
        if shape is not None and tuple(shape) != (channels,):
            raise ValueError(
                f"batch_norm: {name} must have shape (C,) = ({channels},) for input of shape "
                f"{input_shape}, got {name} of shape {tuple(shape)}"
            )
    return channels


def check_key(fn: str, name: str, mapping, key: str):
    """``mapping[key]``, or a ``ValueError`` saying that the mapping ``name`` lacks ``key``."""
    if not hasattr(mapping, "keys"):
        raise TypeError(f"{fn}: {name} must be a mapping of names to arrays, got {type(mapping).__name__}")
    if key not in mapping:
        raise ValueError(f"{fn}: {name} lacks {key!r} (it has {sorted(mapping.keys())})")
    return mapping[key]
