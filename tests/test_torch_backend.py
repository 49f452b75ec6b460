"""The torch backend against torch.nn.functional: values, gradients, adjoints, errors, dtypes.

Configurations are drawn by hypothesis; every comparison is in float64 with the tolerance of
``helpers.assert_close_to_reference`` unless the test is about another dtype.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import assume, given
from hypothesis import strategies as st

import conv_tutorial.torch as ct
from conv_tutorial.shapes import conv_transpose_output_size

F64 = torch.float64

# The reference warns that it copies the input for 'same' with an even dilated kernel; so do we.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


def randn(gen, *shape, dtype=F64, device="cpu"):
    return torch.randn(*shape, generator=gen, dtype=dtype).to(device)


def _pair(draw, values):
    """An int or a 2-tuple drawn from ``values``, and its 2-tuple form."""
    pair = (draw(values), draw(values))
    if pair[0] == pair[1] and draw(st.booleans()):
        return pair[0], pair
    return pair, pair


@st.composite
def conv_configs(draw, allow_same=True):
    """Arguments of a valid conv2d: shapes, stride, padding (int, tuple, 'valid', 'same'), ..."""
    groups = draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation, dils = _pair(draw, st.integers(1, 3))
    kind = draw(st.sampled_from(["int", "valid", "same"] if allow_same else ["int", "valid"]))
    if kind == "same":
        stride, strides = draw(st.sampled_from([1, (1, 1)])), (1, 1)
        padding, pads = "same", (0, 0)  # any input size works
    else:
        stride, strides = _pair(draw, st.integers(1, 3))
        padding, pads = _pair(draw, st.integers(0, 2)) if kind == "int" else ("valid", (0, 0))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4)) for k, d, p in zip(kernel, dils, pads))
    return dict(
        batch=draw(st.integers(1, 2)),
        in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 3)),
        size=size,
        kernel=kernel,
        args=dict(stride=stride, padding=padding, dilation=dilation, groups=groups),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


def conv_tensors(cfg, dtype=F64, device="cpu"):
    gen = torch.Generator().manual_seed(cfg["seed"])
    c_in, c_out, g = cfg["in_channels"], cfg["out_channels"], cfg["args"]["groups"]
    x = randn(gen, cfg["batch"], c_in, *cfg["size"], dtype=dtype, device=device)
    w = randn(gen, c_out, c_in // g, *cfg["kernel"], dtype=dtype, device=device)
    b = randn(gen, c_out, dtype=dtype, device=device) if cfg["bias"] else None
    return x, w, b


@st.composite
def transpose_configs(draw):
    """Arguments of a valid conv_transpose2d, output_padding smaller than stride or dilation."""
    groups = draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride, strides = _pair(draw, st.integers(1, 3))
    dilation, dils = _pair(draw, st.integers(1, 3))
    padding, pads = _pair(draw, st.integers(0, 2))
    out_pads = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dils))
    output_padding = out_pads[0] if out_pads[0] == out_pads[1] and draw(st.booleans()) else out_pads
    size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    # A positive output size (conv_transpose_output_size refuses the others, as PyTorch does).
    assume(all((i - 1) * s - 2 * p + d * (k - 1) + op + 1 > 0
               for i, k, s, p, op, d in zip(size, kernel, strides, pads, out_pads, dils)))
    return dict(
        batch=draw(st.integers(1, 2)),
        in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 3)),
        size=size,
        kernel=kernel,
        args=dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                  dilation=dilation),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


def transpose_tensors(cfg, dtype=F64, device="cpu"):
    gen = torch.Generator().manual_seed(cfg["seed"])
    c_in, c_out, g = cfg["in_channels"], cfg["out_channels"], cfg["args"]["groups"]
    y = randn(gen, cfg["batch"], c_in, *cfg["size"], dtype=dtype, device=device)
    w = randn(gen, c_in, c_out // g, *cfg["kernel"], dtype=dtype, device=device)
    b = randn(gen, c_out, dtype=dtype, device=device) if cfg["bias"] else None
    return y, w, b


# --- values against torch.nn.functional -------------------------------------------------------


@given(conv_configs())
def test_conv2d_matches_torch(cfg):
    x, w, b = conv_tensors(cfg)
    assert_close_to_reference(ct.conv2d(x, w, b, **cfg["args"]), F.conv2d(x, w, b, **cfg["args"]))


@given(transpose_configs())
def test_conv_transpose2d_matches_torch(cfg):
    y, w, b = transpose_tensors(cfg)
    assert_close_to_reference(ct.conv_transpose2d(y, w, b, **cfg["args"]),
                              F.conv_transpose2d(y, w, b, **cfg["args"]))


def _to_1d(cfg):
    """The first axis of a 2D configuration dropped: a 1D one (ints stay ints, pairs become 1-tuples)."""
    args = {k: (v[1:] if isinstance(v, tuple) else v) for k, v in cfg["args"].items()}
    return dict(cfg, size=cfg["size"][1:], kernel=cfg["kernel"][1:], args=args)


@given(conv_configs())
def test_conv1d_matches_torch(cfg):
    cfg = _to_1d(cfg)
    x, w, b = conv_tensors(cfg)
    assert_close_to_reference(ct.conv1d(x, w, b, **cfg["args"]), F.conv1d(x, w, b, **cfg["args"]))


@given(transpose_configs())
def test_conv_transpose1d_matches_torch(cfg):
    cfg = _to_1d(cfg)
    y, w, b = transpose_tensors(cfg)
    assert_close_to_reference(ct.conv_transpose1d(y, w, b, **cfg["args"]),
                              F.conv_transpose1d(y, w, b, **cfg["args"]))


@given(conv_configs(), transpose_configs())
def test_float32_is_accurate_to_float32(conv_cfg, transpose_cfg):
    x, w, b = conv_tensors(conv_cfg)
    out = ct.conv2d(x.float(), w.float(), None if b is None else b.float(), **conv_cfg["args"])
    assert out.dtype == torch.float32
    assert_close_to_reference(out, F.conv2d(x, w, b, **conv_cfg["args"]), dtype=np.float32)
    y, w, b = transpose_tensors(transpose_cfg)
    out = ct.conv_transpose2d(y.float(), w.float(), None if b is None else b.float(), **transpose_cfg["args"])
    assert out.dtype == torch.float32
    assert_close_to_reference(out, F.conv_transpose2d(y, w, b, **transpose_cfg["args"]), dtype=np.float32)


@pytest.mark.parametrize("kernel, dilation", [((2, 4), (1, 3)), ((3, 2), (2, 1)), ((4, 1), 1)])
def test_same_padding_of_even_dilated_kernels_puts_the_extra_zero_after(kernel, dilation):
    # Hypothesis rarely draws these; the asymmetric split is where an off-by-one would hide.
    gen = torch.Generator().manual_seed(2)
    x, w, b = randn(gen, 2, 4, 6, 7), randn(gen, 6, 2, *kernel), randn(gen, 6)
    args = dict(padding="same", dilation=dilation, groups=2)
    assert_close_to_reference(ct.conv2d(x, w, b, **args), F.conv2d(x, w, b, **args))
    for ours, ref in zip(_grads(ct.conv2d, x, w, b, **args), _grads(F.conv2d, x, w, b, **args)):
        assert_close_to_reference(ours, ref)
    x1, w1 = x[:, :, 0], w[:, :, 0]
    d1 = dilation[1] if isinstance(dilation, tuple) else dilation
    assert_close_to_reference(ct.conv1d(x1, w1, padding="same", dilation=d1, groups=2),
                              F.conv1d(x1, w1, padding="same", dilation=d1, groups=2))


def test_unbatched_input_matches_torch():
    gen = torch.Generator().manual_seed(0)
    x, w, b = randn(gen, 4, 6, 5), randn(gen, 6, 2, 3, 2), randn(gen, 6)
    out = ct.conv2d(x, w, b, padding="same", dilation=(2, 1), groups=2)
    assert out.shape == (6, 6, 5)
    assert_close_to_reference(out, F.conv2d(x, w, b, padding="same", dilation=(2, 1), groups=2))
    wt = randn(gen, 4, 3, 3, 3)
    out = ct.conv_transpose2d(x, wt, stride=2, padding=1, output_padding=1)
    assert out.shape == (3, 12, 10)
    assert_close_to_reference(out, F.conv_transpose2d(x, wt, stride=2, padding=1, output_padding=1))
    x1, w1 = randn(gen, 2, 7), randn(gen, 3, 2, 3)
    assert_close_to_reference(ct.conv1d(x1, w1, stride=2), F.conv1d(x1, w1, stride=2))
    wt1 = randn(gen, 2, 3, 3)
    assert_close_to_reference(ct.conv_transpose1d(x1, wt1, stride=2), F.conv_transpose1d(x1, wt1, stride=2))


# --- unfold and fold ------------------------------------------------------------------------


@st.composite
def window_configs(draw):
    kernel, ks = _pair(draw, st.integers(1, 3))
    dilation, ds = _pair(draw, st.integers(1, 2))
    padding, ps = _pair(draw, st.integers(0, 2))
    stride, _ = _pair(draw, st.integers(1, 3))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4)) for k, d, p in zip(ks, ds, ps))
    return dict(size=size, channels=draw(st.integers(1, 3)), batch=draw(st.integers(1, 2)),
                args=dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride),
                unbatched=draw(st.booleans()), seed=draw(st.integers(0, 2**31)))


@given(window_configs())
def test_unfold_and_fold_match_torch_and_are_adjoint(cfg):
    gen = torch.Generator().manual_seed(cfg["seed"])
    lead = () if cfg["unbatched"] else (cfg["batch"],)
    x = randn(gen, *lead, cfg["channels"], *cfg["size"])
    cols = ct.unfold(x, **cfg["args"])
    assert_close_to_reference(cols, F.unfold(x, **cfg["args"]))
    c = randn(gen, *cols.shape)
    image = ct.fold(c, cfg["size"], **cfg["args"])
    assert_close_to_reference(image, F.fold(c, cfg["size"], **cfg["args"]))
    assert_close_to_reference(torch.sum(cols * c), torch.sum(x * image))


# --- the transposed convolution is the adjoint of the convolution ------------------------------


@given(conv_configs(allow_same=False))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(cfg):
    x, w, _ = conv_tensors(cfg)
    args = cfg["args"]
    out = ct.conv2d(x, w, **args)
    y = randn(torch.Generator().manual_seed(cfg["seed"] + 1), *out.shape)
    # The convolution maps several input sizes onto one output size; output_padding picks x's.
    strides, pads, dils = (tuple(v) if isinstance(v, tuple) else (v, v)
                           for v in (args["stride"], 0 if args["padding"] == "valid" else args["padding"],
                                     args["dilation"]))
    full = conv_transpose_output_size(tuple(out.shape[2:]), cfg["kernel"], strides, pads, 0, dils)
    output_padding = tuple(s - f for s, f in zip(cfg["size"], full))
    back = ct.conv_transpose2d(y, w, stride=strides, padding=pads, output_padding=output_padding,
                               groups=args["groups"], dilation=dils)
    assert back.shape == x.shape
    assert_close_to_reference(torch.sum(out * y), torch.sum(x * back))


# --- gradients ------------------------------------------------------------------------------


def _grads(fn, *tensors, **args):
    """Gradients of ``sum(fn(...) * g)`` with respect to each tensor, for a fixed random ``g``."""
    leaves = [None if t is None else t.detach().clone().requires_grad_() for t in tensors]
    out = fn(*leaves, **args)
    out.backward(randn(torch.Generator().manual_seed(7), *out.shape, dtype=out.dtype, device=out.device))
    return [None if t is None else t.grad for t in leaves]


@given(conv_configs())
def test_conv2d_gradients_match_torch(cfg):
    x, w, b = conv_tensors(cfg)
    for ours, ref in zip(_grads(ct.conv2d, x, w, b, **cfg["args"]), _grads(F.conv2d, x, w, b, **cfg["args"])):
        assert (ours is None) == (ref is None)
        if ref is not None:
            assert_close_to_reference(ours, ref)


@given(transpose_configs())
def test_conv_transpose2d_gradients_match_torch(cfg):
    y, w, b = transpose_tensors(cfg)
    for ours, ref in zip(_grads(ct.conv_transpose2d, y, w, b, **cfg["args"]),
                         _grads(F.conv_transpose2d, y, w, b, **cfg["args"])):
        assert (ours is None) == (ref is None)
        if ref is not None:
            assert_close_to_reference(ours, ref)


def test_gradcheck():
    gen = torch.Generator().manual_seed(1)
    x, w, b = (randn(gen, *s).requires_grad_() for s in [(1, 4, 5, 4), (4, 2, 2, 3), (4,)])
    assert torch.autograd.gradcheck(lambda x, w, b: ct.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2),
                                    (x, w, b))
    y, wt, bt = (randn(gen, *s).requires_grad_() for s in [(1, 4, 3, 2), (4, 1, 3, 2), (2,)])
    assert torch.autograd.gradcheck(
        lambda y, w, b: ct.conv_transpose2d(y, w, b, stride=2, padding=1, output_padding=(1, 0), groups=2,
                                            dilation=(1, 2)),
        (y, wt, bt))


# --- bad input --------------------------------------------------------------------------------

X = torch.ones(1, 4, 5, 5)
W = torch.ones(2, 4, 3, 3)
WT = torch.ones(4, 2, 3, 3)

BAD_CALLS = {
    "input ndim": (lambda: ct.conv2d(torch.ones(5, 5), W), ValueError, r"expected input of 4 dimensions"),
    "weight ndim": (lambda: ct.conv2d(X, torch.ones(2, 4, 3)), ValueError, r"expected weight of 4 dimensions"),
    "1d input ndim": (lambda: ct.conv1d(X, torch.ones(2, 4, 3)), ValueError, r"expected input of 3 dimensions"),
    "channels": (lambda: ct.conv2d(X, torch.ones(2, 3, 3, 3)), ValueError, r"expects input with 3 channels"),
    "transpose channels": (lambda: ct.conv_transpose2d(X, torch.ones(3, 2, 3, 3)), ValueError,
                           r"expects input with 3 channels"),
    "in_channels groups": (lambda: ct.conv2d(torch.ones(1, 3, 5, 5), torch.ones(2, 1, 3, 3), groups=2),
                           ValueError, r"in_channels must be divisible by groups"),
    "out_channels groups": (lambda: ct.conv2d(X, torch.ones(3, 2, 3, 3), groups=2), ValueError,
                            r"out_channels must be divisible by groups"),
    "transpose groups": (lambda: ct.conv_transpose2d(torch.ones(1, 3, 5, 5), torch.ones(3, 1, 3, 3), groups=2),
                         ValueError, r"in_channels must be divisible by groups"),
    "groups zero": (lambda: ct.conv2d(X, W, groups=0), ValueError, r"groups must be positive"),
    "stride": (lambda: ct.conv2d(X, W, stride=0), ValueError, r"stride must be positive"),
    "stride tuple": (lambda: ct.conv2d(X, W, stride=(1, -1)), ValueError, r"stride must be positive"),
    "dilation": (lambda: ct.conv2d(X, W, dilation=0), ValueError, r"dilation must be positive"),
    "transpose stride": (lambda: ct.conv_transpose2d(X, WT, stride=0), ValueError, r"stride must be positive"),
    "transpose dilation": (lambda: ct.conv_transpose2d(X, WT, dilation=-1), ValueError,
                           r"dilation must be positive"),
    "padding": (lambda: ct.conv2d(X, W, padding=-1), ValueError, r"padding must be non-negative"),
    "padding string": (lambda: ct.conv2d(X, W, padding="full"), ValueError, r"padding must be an int"),
    "transpose padding": (lambda: ct.conv_transpose2d(X, WT, padding=-1), ValueError,
                          r"padding must be non-negative"),
    "transpose same": (lambda: ct.conv_transpose2d(X, WT, padding="same"), ValueError, r"padding must be an int"),
    "kernel too large": (lambda: ct.conv2d(torch.ones(1, 4, 2, 5), W), ValueError,
                         r"kernel can't be greater than the actual input size"),
    "dilated kernel too large": (lambda: ct.conv2d(X, W, dilation=3), ValueError,
                                 r"smaller than the dilated kernel size"),
    "same strided": (lambda: ct.conv2d(X, W, padding="same", stride=2), ValueError,
                     r"padding='same' is not supported for strided convolutions"),
    "output_padding": (lambda: ct.conv_transpose2d(X, WT, stride=2, output_padding=2), ValueError,
                       r"output padding must be smaller than either stride or dilation"),
    "output_padding 1d": (lambda: ct.conv_transpose1d(torch.ones(1, 4, 5), torch.ones(4, 2, 3), output_padding=1),
                          ValueError, r"output padding must be smaller than either stride or dilation"),
    "output_padding negative": (lambda: ct.conv_transpose2d(X, WT, output_padding=-1), ValueError,
                                r"output_padding must be non-negative"),
    "bias shape": (lambda: ct.conv2d(X, W, torch.ones(3)), ValueError, r"bias must have shape \(2,\)"),
    "complex input": (lambda: ct.conv2d(X.to(torch.complex64), W), TypeError, r"input must be real"),
    "complex weight": (lambda: ct.conv_transpose2d(X, WT.to(torch.complex128)), TypeError, r"weight must be real"),
    "bfloat16 input": (lambda: ct.conv2d(X.to(torch.bfloat16), W.to(torch.bfloat16)), TypeError,
                       r"input has dtype torch.bfloat16, which is not supported: convert it to float32"),
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


# --- dtypes, empty batches, NaN ---------------------------------------------------------------


def test_integer_and_boolean_tensors_compute_as_float64():
    x = torch.arange(2 * 16).reshape(2, 1, 4, 4)
    w = torch.ones(1, 1, 3, 3, dtype=torch.int32)
    out = ct.conv2d(x, w, torch.tensor([1]))
    assert out.dtype == F64
    assert_close_to_reference(out, F.conv2d(x.double(), w.double(), torch.ones(1, dtype=F64)))
    assert ct.conv_transpose2d(x.bool(), w.to(torch.uint8)).dtype == F64
    assert ct.unfold(x, 2).dtype == F64 and ct.fold(ct.unfold(x, 2).long(), 4, 2).dtype == F64


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_float_dtypes_are_kept(dtype):
    x, w = torch.ones(1, 2, 4, 4, dtype=dtype), torch.ones(2, 2, 3, 3, dtype=dtype)
    assert ct.conv2d(x, w, torch.ones(2, dtype=dtype)).dtype == dtype
    assert ct.conv_transpose2d(x, w).dtype == dtype
    assert ct.conv1d(x[..., 0], w[..., 0]).dtype == dtype


def test_mixed_float_dtypes_promote():
    x32, w64 = torch.ones(1, 2, 4, 4), torch.ones(2, 2, 3, 3, dtype=F64)
    assert ct.conv2d(x32, w64).dtype == F64
    assert ct.conv2d(x32.half(), w64.float()).dtype == torch.float32
    # An integer bias computes as float64, and so promotes float32 to float64 (as in NumPy).
    assert ct.conv_transpose2d(x32, w64.float(), torch.ones(2, dtype=torch.int64)).dtype == F64


def test_empty_batch_gives_empty_output_of_the_right_shape():
    x, w = torch.ones(0, 4, 7, 6), torch.ones(6, 2, 3, 3)
    assert ct.conv2d(x, w, torch.ones(6), stride=2, groups=2).shape == (0, 6, 3, 2)
    assert ct.conv2d(x, w, padding="same", groups=2).shape == (0, 6, 7, 6)
    out = ct.conv_transpose2d(x, w[:4], torch.ones(4), stride=2, output_padding=1, groups=2)
    assert out.shape == F.conv_transpose2d(x, w[:4], torch.ones(4), stride=2, output_padding=1, groups=2).shape
    assert out.shape == (0, 4, 16, 14)
    assert ct.conv1d(torch.ones(0, 4, 5), torch.ones(3, 4, 2)).shape == (0, 3, 4)
    assert ct.conv_transpose1d(torch.ones(0, 4, 5), torch.ones(4, 3, 2)).shape == (0, 3, 6)
    assert ct.unfold(x, 3).shape == (0, 36, 20)


def test_nan_and_inf_propagate_as_in_torch():
    gen = torch.Generator().manual_seed(3)
    x, w, wt = randn(gen, 1, 2, 6, 6), randn(gen, 3, 2, 3, 3), randn(gen, 2, 3, 3, 3)
    x[0, 1, 2, 4] = float("nan")
    # An infinite weight meets the zero padding: inf * 0 is NaN there, in torch too.
    w_inf = w.clone()
    w_inf[1, 0, 0, 0] = float("inf")
    for ours, ref in [(ct.conv2d(x, w, padding=1, stride=2), F.conv2d(x, w, padding=1, stride=2)),
                      (ct.conv_transpose2d(x, wt, stride=2), F.conv_transpose2d(x, wt, stride=2)),
                      (ct.conv2d(x.nan_to_num(), w_inf, padding=1), F.conv2d(x.nan_to_num(), w_inf, padding=1))]:
        assert torch.equal(ours.isnan(), ref.isnan()) and ref.isnan().any()
        assert torch.equal(ours.isinf(), ref.isinf()) and torch.equal(ours[ref.isinf()], ref[ref.isinf()])
        finite = ref.isfinite()
        assert_close_to_reference(ours[finite], ref[finite])


# --- devices ----------------------------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@given(conv_configs(), transpose_configs())
def test_cuda_matches_torch(conv_cfg, transpose_cfg):
    x, w, b = conv_tensors(conv_cfg, device="cuda")
    out = ct.conv2d(x, w, b, **conv_cfg["args"])
    assert out.device == x.device
    assert_close_to_reference(out, F.conv2d(x, w, b, **conv_cfg["args"]))
    y, w, b = transpose_tensors(transpose_cfg, device="cuda")
    out = ct.conv_transpose2d(y, w, b, **transpose_cfg["args"])
    assert out.device == y.device
    assert_close_to_reference(out, F.conv_transpose2d(y, w, b, **transpose_cfg["args"]))
    for ours, ref in zip(_grads(ct.conv_transpose2d, y, w, b, **transpose_cfg["args"]),
                         _grads(F.conv_transpose2d, y, w, b, **transpose_cfg["args"])):
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
