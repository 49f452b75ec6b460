"""Unfold (im2col) and fold (col2im) in both backends against torch.nn.functional, and their adjoint identity."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from helpers import assert_close_to_reference, tensor
from hypothesis import given
from strategies import window_configs


@given(window_configs())
def test_unfold_and_fold_match_torch_and_are_adjoint(backend, config):
    x, kw = config
    size = x.shape[-2:]
    columns = backend.module.unfold(backend.array(x), **kw)
    assert_close_to_reference(columns, F.unfold(tensor(x), **kw))
    c = np.random.default_rng(3).standard_normal(tuple(columns.shape))
    image = backend.module.fold(backend.array(c), size, **kw)
    assert_close_to_reference(image, F.fold(tensor(c), size, **kw))
    assert_close_to_reference(backend.module.fold(columns, size, **kw), F.fold(F.unfold(tensor(x), **kw), size, **kw))
    lhs, rhs = np.vdot(np.asarray(columns), c), np.vdot(x, np.asarray(image))
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))
