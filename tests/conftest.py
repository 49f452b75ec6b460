"""Shared test settings: the hypothesis profiles and full-precision float32 on a GPU. What tests import
(the comparison with a reference, the hypothesis strategies) lives in ``helpers`` and ``strategies``."""

from __future__ import annotations

import os

import pytest
import torch
from helpers import Backend
from hypothesis import HealthCheck, settings

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct

# CI and the default run draw a moderate number of examples; `HYPOTHESIS_PROFILE=thorough` more.
settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# On a GPU, PyTorch's native convolutions may round float32 through TF32 (10-bit mantissas, cuDNN's
# default): the reference would be the less exact side. Compare with full float32 products.
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False


@pytest.fixture(params=["numpy", "torch"], scope="session")
def backend(request) -> Backend:
    """Each backend in turn, for the tests that hold both to the same reference."""
    return Backend(request.param, cnp if request.param == "numpy" else ct)
