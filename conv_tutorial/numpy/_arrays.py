"""Turning user input into float arrays, the same way in every NumPy function.

Every chapter's NumPy functions start here; no chapter prints it. The torch twin:
:mod:`conv_tutorial.torch._tensors`.
"""

from __future__ import annotations

import functools

import numpy as np

from .._checks import as_array, as_float_dtype


def as_float_arrays(**arrays):
    """Convert named array-likes to one common floating dtype.

    Integer and boolean input computes in float64, float16/32/64 keep their dtype (mixed floats
    promote, as NumPy does), complex input is a ``TypeError`` naming the argument. ``None`` passes
    through for the optional arguments (biases, the mask) and is a ``TypeError`` for the others;
    ragged lists and torch tensors NumPy can't read are refused by :func:`~conv_tutorial._checks.as_array`.
    """
    converted = {name: as_array(name, a) for name, a in arrays.items()}
    dtypes = [as_float_dtype(a.dtype, name) for name, a in converted.items() if a is not None]
    dtype = np.result_type(*dtypes)
    return [None if a is None else a.astype(dtype, copy=False) for a in converted.values()]


def quiet_nonfinite(func):
    """Run ``func`` with NumPy's floating-point warnings off, so NaN and inf propagate silently.

    PyTorch computes ``inf - inf`` or ``0 * inf`` without a word; the NumPy backend does the same
    instead of warning "invalid value encountered" from deep inside an engine.
    """

    @functools.wraps(func)
    def quiet(*args, **kwargs):
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return func(*args, **kwargs)

    return quiet
