"""Shared test settings: the one place tolerances live, and the hypothesis profiles."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, settings

# CI and the default run draw a moderate number of examples; `HYPOTHESIS_PROFILE=thorough` more.
settings.register_profile("default", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], derandomize=True)
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: Relative tolerance per dtype, applied to the reference's scale max(1, max|reference|).
RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5, np.dtype(np.float16): 1e-2}


def to_numpy(a) -> np.ndarray:
    """A NumPy copy of an array or a (possibly CUDA, possibly requires-grad) torch tensor."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def assert_close_to_reference(actual, reference, dtype=None) -> None:
    """Assert ``actual`` equals ``reference`` in shape and, up to the dtype's tolerance, in value.

    The error is measured against ``max(1, max|reference|)`` so that large outputs are compared
    relative to their scale and small ones absolutely, never with default absolute tolerances.
    """
    actual, reference = to_numpy(actual), to_numpy(reference)
    assert actual.shape == reference.shape, f"shape {actual.shape} != reference shape {reference.shape}"
    dtype = np.dtype(dtype or actual.dtype)
    scale = max(1.0, float(np.max(np.abs(reference), initial=0.0)))
    err = float(np.max(np.abs(actual.astype(np.float64) - reference.astype(np.float64)), initial=0.0))
    assert err <= RTOL[dtype] * scale, f"max error {err:.3g} > {RTOL[dtype]:.0e} x scale {scale:.3g}"
