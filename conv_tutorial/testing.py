"""How results are compared with a reference, in the tests and in the chapters: one rule, one place.

An error is measured against the reference's scale ``max(1, max|reference|)``: large outputs are
compared relative to their size, small ones absolutely, and never with default tolerances.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RTOL", "max_error"]

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
