"""What only the torch backend has: gradients of the transposed convolution and gradcheck, the split of
'same' padding for even kernels, its error messages, dtype promotion, CUDA. What both backends share
(values, gradients of the convolution, dtypes, ...) is tested once for both, in ``test_standard.py``,
``test_transposed.py`` and ``test_im2col.py``; comparisons are in float64 with the tolerance of
``helpers.assert_close_to_reference`` unless the test is about another dtype.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given
from strategies import conv_configs, transposed_configs

import conv_tutorial.torch as ct

F64 = torch.float64

# The reference warns that it copies the input for 'same' with an even dilated kernel; so do we.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


def randn(gen, *shape, dtype=F64, device="cpu"):
    return torch.randn(*shape, generator=gen, dtype=dtype).to(device)


def tensors(config, device="cpu"):
    """The arrays of a drawn configuration as float64 tensors on ``device`` (``None`` stays ``None``)."""
    return [None if a is None else torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in config[1:4]]


# --- 'same' padding of even kernels ------------------------------------------------------------


@pytest.mark.parametrize("kernel, dilation", [((2, 4), (1, 3)), ((3, 2), (2, 1)), ((4, 1), 1)])
def test_same_padding_of_even_dilated_kernels_puts_the_extra_zero_after(kernel, dilation):
    # Hypothesis rarely draws these; the asymmetric split is where an off-by-one would hide.
    gen = torch.Generator().manual_seed(2)
    x, w, b = randn(gen, 2, 4, 6, 7), randn(gen, 6, 2, *kernel), randn(gen, 6)
    args = dict(padding="same", dilation=dilation, groups=2)
    assert_close_to_reference(ct.conv2d(x, w, b, **args), F.conv2d(x, w, b, **args))
    for ours, ref in zip(_grads(ct.conv2d, x, w, b, **args), _grads(F.conv2d, x, w, b, **args), strict=True):
        assert_close_to_reference(ours, ref)
    x1, w1 = x[:, :, 0], w[:, :, 0]
    d1 = dilation[1] if isinstance(dilation, tuple) else dilation
    assert_close_to_reference(
        ct.conv1d(x1, w1, padding="same", dilation=d1, groups=2),
        F.conv1d(x1, w1, padding="same", dilation=d1, groups=2),
    )


# --- gradients ------------------------------------------------------------------------------


def _grads(fn, *tensors, **args):
    """Gradients of ``sum(fn(...) * g)`` with respect to each tensor, for a fixed random ``g``."""
    leaves = [None if t is None else t.detach().clone().requires_grad_() for t in tensors]
    out = fn(*leaves, **args)
    out.backward(randn(torch.Generator().manual_seed(7), *out.shape, dtype=out.dtype, device=out.device))
    return [None if t is None else t.grad for t in leaves]


@given(transposed_configs(ndims=(2,)))
def test_conv_transpose2d_gradients_match_torch(config):
    y, w, b = tensors(config)
    for ours, ref in zip(
        _grads(ct.conv_transpose2d, y, w, b, **config[4]), _grads(F.conv_transpose2d, y, w, b, **config[4]), strict=True
    ):
        assert (ours is None) == (ref is None)
        if ref is not None:
            assert_close_to_reference(ours, ref)


def test_gradcheck():
    gen = torch.Generator().manual_seed(1)
    x, w, b = (randn(gen, *s).requires_grad_() for s in [(1, 4, 5, 4), (4, 2, 2, 3), (4,)])
    assert torch.autograd.gradcheck(lambda x, w, b: ct.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2), (x, w, b))
    y, wt, bt = (randn(gen, *s).requires_grad_() for s in [(1, 4, 3, 2), (4, 1, 3, 2), (2,)])
    assert torch.autograd.gradcheck(
        lambda y, w, b: ct.conv_transpose2d(
            y, w, b, stride=2, padding=1, output_padding=(1, 0), groups=2, dilation=(1, 2)
        ),
        (y, wt, bt),
    )


# --- bad input --------------------------------------------------------------------------------

X = torch.ones(1, 4, 5, 5)
W = torch.ones(2, 4, 3, 3)
WT = torch.ones(4, 2, 3, 3)

BAD_CALLS = {
    "input ndim": (lambda: ct.conv2d(torch.ones(5, 5), W), ValueError, r"expected input of 4 dimensions"),
    "weight ndim": (lambda: ct.conv2d(X, torch.ones(2, 4, 3)), ValueError, r"expected weight of 4 dimensions"),
    "1d input ndim": (lambda: ct.conv1d(X, torch.ones(2, 4, 3)), ValueError, r"expected input of 3 dimensions"),
    "channels": (lambda: ct.conv2d(X, torch.ones(2, 3, 3, 3)), ValueError, r"expects input with 3 channels"),
    "transpose channels": (
        lambda: ct.conv_transpose2d(X, torch.ones(3, 2, 3, 3)),
        ValueError,
        r"expects input with 3 channels",
    ),
    "in_channels groups": (
        lambda: ct.conv2d(torch.ones(1, 3, 5, 5), torch.ones(2, 1, 3, 3), groups=2),
        ValueError,
        r"in_channels must be divisible by groups",
    ),
    "out_channels groups": (
        lambda: ct.conv2d(X, torch.ones(3, 2, 3, 3), groups=2),
        ValueError,
        r"out_channels must be divisible by groups",
    ),
    "transpose groups": (
        lambda: ct.conv_transpose2d(torch.ones(1, 3, 5, 5), torch.ones(3, 1, 3, 3), groups=2),
        ValueError,
        r"in_channels must be divisible by groups",
    ),
    "groups zero": (lambda: ct.conv2d(X, W, groups=0), ValueError, r"groups must be positive"),
    "stride": (lambda: ct.conv2d(X, W, stride=0), ValueError, r"stride must be positive"),
    "stride tuple": (lambda: ct.conv2d(X, W, stride=(1, -1)), ValueError, r"stride must be positive"),
    "dilation": (lambda: ct.conv2d(X, W, dilation=0), ValueError, r"dilation must be positive"),
    "transpose stride": (lambda: ct.conv_transpose2d(X, WT, stride=0), ValueError, r"stride must be positive"),
    "transpose dilation": (lambda: ct.conv_transpose2d(X, WT, dilation=-1), ValueError, r"dilation must be positive"),
    "padding": (lambda: ct.conv2d(X, W, padding=-1), ValueError, r"padding must be non-negative"),
    "padding string": (lambda: ct.conv2d(X, W, padding="full"), ValueError, r"padding must be an int"),
    "transpose padding": (lambda: ct.conv_transpose2d(X, WT, padding=-1), ValueError, r"padding must be non-negative"),
    "transpose same": (lambda: ct.conv_transpose2d(X, WT, padding="same"), ValueError, r"padding must be an int"),
    "kernel too large": (
        lambda: ct.conv2d(torch.ones(1, 4, 2, 5), W),
        ValueError,
        r"kernel can't be greater than the actual input size",
    ),
    "dilated kernel too large": (
        lambda: ct.conv2d(X, W, dilation=3),
        ValueError,
        r"smaller than the dilated kernel size",
    ),
    "same strided": (
        lambda: ct.conv2d(X, W, padding="same", stride=2),
        ValueError,
        r"padding='same' is not supported for strided convolutions",
    ),
    "output_padding": (
        lambda: ct.conv_transpose2d(X, WT, stride=2, output_padding=2),
        ValueError,
        r"output padding must be smaller than either stride or dilation",
    ),
    "output_padding 1d": (
        lambda: ct.conv_transpose1d(torch.ones(1, 4, 5), torch.ones(4, 2, 3), output_padding=1),
        ValueError,
        r"output padding must be smaller than either stride or dilation",
    ),
    "output_padding negative": (
        lambda: ct.conv_transpose2d(X, WT, output_padding=-1),
        ValueError,
        r"output_padding must be non-negative",
    ),
    "bias shape": (lambda: ct.conv2d(X, W, torch.ones(3)), ValueError, r"bias must have shape \(2,\)"),
    "complex input": (lambda: ct.conv2d(X.to(torch.complex64), W), TypeError, r"input must be real"),
    "complex weight": (lambda: ct.conv_transpose2d(X, WT.to(torch.complex128)), TypeError, r"weight must be real"),
    "bfloat16 input": (
        lambda: ct.conv2d(X.to(torch.bfloat16), W.to(torch.bfloat16)),
        TypeError,
        r"input has dtype torch.bfloat16, which is not supported: convert it to float32",
    ),
    "non-tensor input": (lambda: ct.conv2d(X.tolist(), W), TypeError, r"input must be a torch.Tensor"),
    "non-tensor weight": (lambda: ct.conv_transpose2d(X, WT.numpy()), TypeError, r"weight must be a torch.Tensor"),
    "missing input": (lambda: ct.conv_transpose2d(None, WT), TypeError, r"input must be a torch.Tensor, got NoneType"),
    "non-tensor bias": (lambda: ct.conv2d(X, W, [0.0, 0.0]), TypeError, r"bias must be a torch.Tensor"),
    "stride type": (lambda: ct.conv2d(X, W, stride=1.5), TypeError, r"stride must be an int or a tuple"),
    "unfold ndim": (lambda: ct.unfold(torch.ones(5, 5), 3), ValueError, r"unfold: expected input of 3"),
    "unfold kernel": (lambda: ct.unfold(X, 7), ValueError, r"smaller than the dilated kernel size"),
    "unfold kernel_size": (lambda: ct.unfold(X, 0), ValueError, r"kernel_size must be positive"),
    "unfold non-tensor": (lambda: ct.unfold(X.numpy(), 3), TypeError, r"input must be a torch.Tensor"),
    "fold length": (lambda: ct.fold(torch.ones(1, 9, 5), 4, 3), ValueError, r"expected input's last dimension"),
    "fold rows": (lambda: ct.fold(torch.ones(1, 10, 4), 4, 3), ValueError, r"divisible by the product"),
    "fold output_size": (lambda: ct.fold(torch.ones(1, 9, 4), 0, 3), ValueError, r"output_size must be positive"),
}


@pytest.mark.parametrize("call, error, message", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_input_names_the_parameter(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- dtypes ---------------------------------------------------------------------------------


def test_mixed_float_dtypes_promote():
    x32, w64 = torch.ones(1, 2, 4, 4), torch.ones(2, 2, 3, 3, dtype=F64)
    assert ct.conv2d(x32, w64).dtype == F64
    assert ct.conv2d(x32.half(), w64.float()).dtype == torch.float32
    # An integer bias computes as float64, and so promotes float32 to float64 (as in NumPy).
    assert ct.conv_transpose2d(x32, w64.float(), torch.ones(2, dtype=torch.int64)).dtype == F64


# --- devices ----------------------------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@given(conv_configs(ndims=(2,)), transposed_configs(ndims=(2,)))
def test_cuda_matches_torch(conv_config, transposed_config):
    x, w, b = tensors(conv_config, device="cuda")
    out = ct.conv2d(x, w, b, **conv_config[4])
    assert out.device == x.device
    assert_close_to_reference(out, F.conv2d(x, w, b, **conv_config[4]))
    y, w, b = tensors(transposed_config, device="cuda")
    args = transposed_config[4]
    out = ct.conv_transpose2d(y, w, b, **args)
    assert out.device == y.device
    assert_close_to_reference(out, F.conv_transpose2d(y, w, b, **args))
    for ours, ref in zip(
        _grads(ct.conv_transpose2d, y, w, b, **args), _grads(F.conv_transpose2d, y, w, b, **args), strict=True
    ):
        if ref is not None:
            assert_close_to_reference(ours, ref)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_float32_and_device_mismatch():
    gen = torch.Generator().manual_seed(5)
    x, w = randn(gen, 2, 4, 9, 8), randn(gen, 6, 2, 3, 3)
    out = ct.conv2d(x.float().cuda(), w.float().cuda(), padding="same", groups=2)
    assert out.dtype == torch.float32 and out.is_cuda
    assert_close_to_reference(out, F.conv2d(x, w, padding="same", groups=2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"weight must be on the same device as input"):
        ct.conv2d(x.cuda(), w)
