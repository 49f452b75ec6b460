"""Shared test settings: the hypothesis profiles, and the comparison with a reference (its rule and
tolerances live in conv_tutorial.testing, which the chapters use too)."""

from __future__ import annotations

import os

import numpy as np
import torch
from hypothesis import HealthCheck, settings

from conv_tutorial.testing import RTOL, max_error

# CI and the default run draw a moderate number of examples; `HYPOTHESIS_PROFILE=thorough` more.
settings.register_profile("default", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], derandomize=True)
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# On a GPU, PyTorch's native convolutions may round float32 through TF32 (10-bit mantissas, cuDNN's
# default): the reference would be the less exact side. Compare with full float32 products.
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False



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
