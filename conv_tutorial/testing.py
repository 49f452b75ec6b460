"""How results are checked, in the tests and in the chapters: one rule, one place.

An error is measured against the reference's scale ``max(1, max|reference|)``: large outputs are
compared relative to their size, small ones absolutely, and never with default tolerances.
A call that must fail is shown failing by :func:`expect_error`, which prints the error in one line
and fails itself if the call does not raise.
"""

from __future__ import annotations

import contextlib

import numpy as np

__all__ = ["RTOL", "expect_error", "max_error"]

#: Largest :func:`max_error` accepted for a result computed in each dtype.
RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5, np.dtype(np.float16): 1e-2}


def _as_float64(a) -> np.ndarray:
    if hasattr(a, "detach"):  # a torch tensor, possibly on a GPU or requiring grad
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def max_error(actual, reference) -> float:
    """Largest absolute difference between ``actual`` and ``reference``, over ``max(1, max|reference|)``.

    Parameters
    ----------
    actual, reference : array_like or torch.Tensor, same shape

    Returns
    -------
    float
        ``0.0`` for empty arrays; NaN where either holds NaN.

    Examples
    --------
    >>> max_error([1000.0, 2.0], [1000.5, 2.0])     # relative to the scale 1000.5
    0.0004997501249375312
    >>> max_error([0.25], [0.0])                    # absolute below 1
    0.25
    """
    actual, reference = _as_float64(actual), _as_float64(reference)
    if actual.shape != reference.shape:
        raise ValueError(f"max_error: actual has shape {actual.shape} but reference has shape {reference.shape}")
    scale = max(1.0, float(np.max(np.abs(reference), initial=0.0)))
    return float(np.max(np.abs(actual - reference), initial=0.0)) / scale


@contextlib.contextmanager
def expect_error(expected=Exception):
    """Check that the block raises ``expected``, and print the error as ``Type: message``.

    This is how the chapters show a call that must fail: the error is caught and printed in one
    line (its type and message, with no traceback and no file paths), so running the whole
    notebook goes on past it, and the block still checks its claim, since a block that raises
    nothing is an error.

    Parameters
    ----------
    expected : exception type or tuple of exception types
        What the block must raise. An exception of another type is not caught: it propagates.

    Raises
    ------
    AssertionError
        If the block raises nothing.
    TypeError
        If ``expected`` is not an exception type or a non-empty tuple of them.

    Examples
    --------
    >>> with expect_error(ValueError):
    ...     int("three")
    ValueError: invalid literal for int() with base 10: 'three'
    >>> with expect_error(ValueError):
    ...     int("3")
    Traceback (most recent call last):
    ...
    AssertionError: expected the block to raise ValueError, but it raised nothing
    """
    types = expected if isinstance(expected, tuple) else (expected,)
    if not types or not all(isinstance(t, type) and issubclass(t, BaseException) for t in types):
        raise TypeError(f"expect_error: expected must be an exception type or a tuple of them, got {expected!r}")
    names = " or ".join(t.__name__ for t in types)
    try:
        yield
    except expected as error:
        print(f"{type(error).__name__}: {error}")
    else:
        raise AssertionError(f"expected the block to raise {names}, but it raised nothing")
