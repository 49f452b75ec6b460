"""Pointwise (1x1) convolution in both backends: a matmul over channels, equal to F.conv2d with a
1x1 kernel, in float64 and float32, with PyTorch's dtype rules and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given
from strategies import pointwise_configs

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ctorch


def pointwise_arrays(cfg, dtype=np.float64):
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["in_channels"], *cfg["size"]) if cfg["unbatched"] else (cfg["batch"], cfg["in_channels"], *cfg["size"])
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((cfg["out_channels"], cfg["in_channels"])).astype(dtype)
    b = rng.standard_normal(cfg["out_channels"]).astype(dtype) if cfg["bias"] else None
    return x, (w if cfg["weight_2d"] else w[:, :, None, None]), b


def reference(x, w, b):
    """F.conv2d with the weight as a 1x1 kernel."""
    t = lambda a: None if a is None else torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    return F.conv2d(t(x), t(w.reshape(*w.shape[:2], 1, 1)), t(b))


@given(pointwise_configs())
def test_numpy_pointwise_matches_torch(cfg):
    x, w, b = pointwise_arrays(cfg)
    assert_close_to_reference(cnp.pointwise_conv2d(x, w, b), reference(x, w, b))


@given(pointwise_configs())
def test_numpy_naive_equals_fast(cfg):
    x, w, b = pointwise_arrays(cfg)
    assert_close_to_reference(cnp.pointwise_conv2d_naive(x, w, b), cnp.pointwise_conv2d(x, w, b))


@given(pointwise_configs())
def test_torch_pointwise_matches_torch(cfg):
    x, w, b = pointwise_arrays(cfg)
    t = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
    assert_close_to_reference(ctorch.pointwise_conv2d(t(x), t(w), t(b)), reference(x, w, b))


@given(pointwise_configs())
def test_pointwise_is_a_matmul_over_channels(cfg):
    """out[n, o, h, w] = sum_c weight[o, c] x[n, c, h, w] (+ bias): einsum, and (C_out, C_in) @ (C_in, H*W)."""
    x, w, b = pointwise_arrays({**cfg, "unbatched": False})
    w2 = w.reshape(w.shape[0], w.shape[1])
    expected = np.einsum("oc,nchw->nohw", w2, x) + (0 if b is None else b[:, None, None])
    assert_close_to_reference(cnp.pointwise_conv2d(x, w, b), expected)
    n, c, h, wd = x.shape
    by_matmul = (w2 @ x.reshape(n, c, h * wd)).reshape(n, w2.shape[0], h, wd) + (0 if b is None else b[:, None, None])
    assert_close_to_reference(cnp.pointwise_conv2d(x, w, b), by_matmul)


@pytest.mark.parametrize(
    "pointwise",
    [cnp.pointwise_conv2d, cnp.pointwise_conv2d_naive, ctorch.pointwise_conv2d],
    ids=["numpy", "naive", "torch"],
)
def test_float32_against_torch(pointwise):
    cfg = dict(
        batch=2, in_channels=32, out_channels=24, size=(7, 5), weight_2d=False, bias=True, unbatched=False, seed=3
    )
    x, w, b = pointwise_arrays(cfg, np.float32)
    if pointwise is ctorch.pointwise_conv2d:
        x, w, b = map(torch.from_numpy, (x, w, b))
    out = pointwise(x, w, b)
    assert out.dtype in (np.float32, torch.float32)
    assert_close_to_reference(out, reference(*(np.asarray(a) for a in (x, w, b))), np.float32)


def test_dtypes_and_nan():
    x = np.arange(8, dtype=np.int64).reshape(1, 2, 2, 2)
    w = np.array([[1, 2]], dtype=bool)
    assert cnp.pointwise_conv2d(x, w).dtype == np.float64
    assert ctorch.pointwise_conv2d(torch.from_numpy(x), torch.from_numpy(w)).dtype == torch.float64
    assert cnp.pointwise_conv2d(x.astype(np.float16), w.astype(np.float16)).dtype == np.float16
    x_nan = x.astype(float)
    x_nan[0, 1, 0, 0] = np.nan
    out = cnp.pointwise_conv2d(x_nan, np.ones((3, 2)))
    assert np.isnan(out[0, :, 0, 0]).all() and not np.isnan(out[0, :, 1:, :]).any()
    with pytest.raises(TypeError, match="input must be real"):
        cnp.pointwise_conv2d(x.astype(complex), w)
    with pytest.raises(TypeError, match="weight must be real"):
        ctorch.pointwise_conv2d(torch.from_numpy(x).double(), torch.ones(1, 2, dtype=torch.complex64))


def test_torch_pointwise_gradients():
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(ctorch.pointwise_conv2d, (x, w, b))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_pointwise_on_cuda():
    x, w = torch.randn(2, 3, 4, 4, device="cuda"), torch.randn(5, 3, device="cuda")
    out = ctorch.pointwise_conv2d(x, w)
    assert out.device == x.device
    assert_close_to_reference(out, F.conv2d(x, w[:, :, None, None]), np.float32)


@pytest.mark.parametrize("backend", ["numpy", "naive", "torch"])
def test_bad_input(backend):
    fn = {"numpy": cnp.pointwise_conv2d, "naive": cnp.pointwise_conv2d_naive, "torch": ctorch.pointwise_conv2d}[backend]
    arr = (lambda *s: torch.ones(*s)) if backend == "torch" else (lambda *s: np.ones(s))
    with pytest.raises(ValueError, match=r"weight of shape \(C_out, C_in\) or \(C_out, C_in, 1, 1\)"):
        fn(arr(1, 2, 3, 3), arr(4, 2, 3, 3))  # a 3x3 kernel is not pointwise
    with pytest.raises(ValueError, match=r"weight of shape \(C_out, C_in\)"):
        fn(arr(1, 2, 3, 3), arr(4))
    with pytest.raises(ValueError, match="expects input with 3 channels"):
        fn(arr(1, 2, 3, 3), arr(4, 3))
    with pytest.raises(ValueError, match="bias must have shape"):
        fn(arr(1, 2, 3, 3), arr(4, 2), arr(3))
    with pytest.raises(ValueError, match="expected input of 4 dimensions"):
        fn(arr(2, 3), arr(4, 2))
    if backend == "torch":
        with pytest.raises(TypeError, match="input must be a torch.Tensor"):
            fn(np.ones((1, 2, 3, 3)), torch.ones(4, 2))
