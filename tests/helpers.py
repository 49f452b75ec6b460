"""What several test modules use: the comparison with a reference (its rule and tolerances live in
:mod:`conv_tutorial.testing`, which the chapters use too), and the backends as the ``backend`` fixture
of ``conftest.py`` gives them."""

from __future__ import annotations

from types import ModuleType
from typing import NamedTuple

import numpy as np
import torch

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


class Backend(NamedTuple):
    """One of the package's two backends, as the ``backend`` fixture gives it to a test."""

    name: str  # "numpy" or "torch"
    module: ModuleType  # conv_tutorial.numpy or conv_tutorial.torch

    def array(self, a):
        """``a`` (a NumPy array, or ``None``) as this backend's array: the same numbers, the same dtype."""
        if a is None or self.name == "numpy":
            return a
        return torch.from_numpy(np.ascontiguousarray(a))


def tensor(a):
    """A NumPy array as a torch tensor (``None`` stays ``None``): the reference's input."""
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


def as_tuple_of(value, n):
    """An int or a tuple argument (``stride=2``, ``padding=(1, 0)``) as a tuple of ``n``."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
