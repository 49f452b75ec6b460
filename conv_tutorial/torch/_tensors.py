"""Checking user tensors and choosing the dtype to compute in, the same way in every torch function.

Every chapter's torch functions start here; no chapter prints it. The NumPy twin:
:mod:`conv_tutorial.numpy._arrays`.
"""

from __future__ import annotations

import functools

import torch

from .._checks import OPTIONAL_ARRAYS, as_float_dtype


def common_float_dtype(**tensors) -> torch.dtype:
    """The floating dtype a computation on the named tensors runs in.

    Each argument must be a ``torch.Tensor`` on the device of the first one (the optional ones,
    biases and the mask, may be ``None``); integer and boolean tensors compute as float64,
    float16/32/64 keep their dtype, mixed floats promote as ``torch.promote_types`` does (float32
    with float64 gives float64, as in the NumPy backend), complex is a ``TypeError`` naming the
    argument.
    """
    given = {name: t for name, t in tensors.items() if t is not None or name not in OPTIONAL_ARRAYS}
    for name, t in given.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    (first_name, first), *rest = given.items()
    for name, t in rest:
        if t.device != first.device:
            raise ValueError(
                f"{name} must be on the same device as {first_name} ({first.device}), got {name} on {t.device}"
            )
    dtypes = [_float_dtype(t.dtype, name) for name, t in given.items()]
    return functools.reduce(torch.promote_types, dtypes)


#: torch dtype -> the floating dtype it computes in, for the dtypes seen so far. A lookup here is
#: a tenth of a microsecond; :func:`~conv_tutorial._checks.as_float_dtype` takes about one (it
#: parses the dtype's name with NumPy), which is most of a call on small tensors.
_FLOAT_DTYPES: dict[torch.dtype, torch.dtype] = {}


def _float_dtype(dtype: torch.dtype, name: str) -> torch.dtype:
    """``as_float_dtype`` for a torch dtype, remembered; an unsupported dtype raises each time, naming ``name``."""
    found = _FLOAT_DTYPES.get(dtype)
    if found is None:
        found = _FLOAT_DTYPES[dtype] = getattr(torch, as_float_dtype(dtype, name).name)
    return found


def pad_widths(padding) -> list[int]:
    """``F.pad``'s widths (last axis first) for ``(before, after)`` pairs given first axis first.

    >>> pad_widths(((1, 2), (3, 4)))
    [3, 4, 1, 2]
    """
    return [width for pair in reversed(padding) for width in pair]


def channels_last_padded(x: torch.Tensor, padding) -> torch.Tensor:
    """``(N, C, *S)`` copied channels last into a zero-padded buffer ``(N, *S_padded, C)``, contiguous.

    ``padding`` holds a ``(before, after)`` pair per spatial axis. Without padding, an input
    already laid out channels last is returned as a view, not copied.
    """
    moved = x.movedim(1, -1)
    if not any(lo or hi for lo, hi in padding):
        return moved.contiguous()
    sizes = tuple(size + lo + hi for size, (lo, hi) in zip(x.shape[2:], padding, strict=True))
    buffer = x.new_zeros((x.shape[0], *sizes, x.shape[1]))
    inner = (slice(None), *(slice(lo, lo + size) for size, (lo, _) in zip(x.shape[2:], padding, strict=True)))
    buffer[inner] = moved
    return buffer
