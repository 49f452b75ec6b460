"""What several test modules use: the comparison with a reference (its rule and tolerances live in
:mod:`conv_tutorial.testing`, which the chapters use too)."""

from __future__ import annotations

import numpy as np

from conv_tutorial.testing import RTOL, max_error


def to_numpy(a) -> np.ndarray:
    """A NumPy copy of an array or a (possibly CUDA, possibly requires-grad) torch tensor."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def assert_close_to_reference(actual, reference, dtype=None) -> None:
    """Assert ``actual`` equals ``reference`` in shape and, up to the dtype's tolerance, in value.

    The rule and the tolerances are the package's (:mod:`conv_tutorial.testing`), which the
    chapters use too.
    """
    actual, reference = to_numpy(actual), to_numpy(reference)
    assert actual.shape == reference.shape, f"shape {actual.shape} != reference shape {reference.shape}"
    dtype = np.dtype(dtype or actual.dtype)
    err = max_error(actual, reference)
    assert err <= RTOL[dtype], f"max error {err:.3g} > {RTOL[dtype]:.0e} of the reference's scale"
