"""Standard convolution (conv1d/2d/3d) in both backends against torch.nn.functional: values, gradients,
unbatched input, dtypes, empty batches, NaN and inf.

Every test runs once per backend (the ``backend`` fixture); configurations are drawn by hypothesis,
and comparisons are in float64 with the tolerance of ``helpers.assert_close_to_reference`` unless a
test is about another dtype.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference, tensor
from hypothesis import given
from strategies import conv_configs, transposed_configs

import conv_tutorial.numpy as cnp


def _grads(fn, *arrays, grad_output, **kwargs):
    """Gradients of ``sum(fn(...) * grad_output)`` with respect to each tensor argument (``None`` stays ``None``)."""
    leaves = [None if a is None else a.detach().clone().requires_grad_() for a in arrays]
    fn(*leaves, **kwargs).backward(grad_output)
    return [None if a is None else a.grad for a in leaves]


@given(conv_configs())
def test_conv_matches_torch(backend, config):
    n, x, w, b, kw = config
    ours = getattr(backend.module, f"conv{n}d")(backend.array(x), backend.array(w), backend.array(b), **kw)
    assert_close_to_reference(ours, getattr(F, f"conv{n}d")(tensor(x), tensor(w), tensor(b), **kw))


@given(conv_configs())
def test_conv_gradients_match_autograd(backend, config):
    """NumPy's hand-written ``conv_backward`` and the torch backend's autograd, against torch's autograd."""
    n, x, w, b, kw = config
    reference_conv = getattr(F, f"conv{n}d")
    out_shape = reference_conv(tensor(x), tensor(w), **kw).shape
    grad_output = torch.from_numpy(np.random.default_rng(2).standard_normal(tuple(out_shape)))
    if backend.name == "numpy":  # conv_backward gives the bias gradient whether or not there is a bias
        b = np.zeros(w.shape[0])
        ours = cnp.conv_backward(grad_output.numpy(), x, w, **kw)
    else:
        ours = _grads(
            getattr(backend.module, f"conv{n}d"), tensor(x), tensor(w), tensor(b), grad_output=grad_output, **kw
        )
    reference = _grads(reference_conv, tensor(x), tensor(w), tensor(b), grad_output=grad_output, **kw)
    for got, want in zip(ours, reference, strict=True):
        assert (got is None) == (want is None)
        if want is not None:
            assert_close_to_reference(got, want)


@given(conv_configs(ndims=(2,)), transposed_configs(ndims=(2,)))
def test_float32_keeps_its_dtype_and_is_accurate_to_float32(backend, conv_config, transposed_config):
    for config, name in ((conv_config, "conv2d"), (transposed_config, "conv_transpose2d")):
        _, x, w, b, kw = config
        x32, w32, b32 = (None if a is None else a.astype(np.float32) for a in (x, w, b))
        out = getattr(backend.module, name)(backend.array(x32), backend.array(w32), backend.array(b32), **kw)
        assert out.dtype == (np.float32 if backend.name == "numpy" else torch.float32)
        reference = getattr(F, name)
        assert_close_to_reference(out, reference(tensor(x), tensor(w), tensor(b), **kw), dtype=np.float32)
        assert_close_to_reference(out, reference(tensor(x32), tensor(w32), tensor(b32), **kw))


def test_unbatched_input_is_the_batched_result_and_matches_torch(backend):
    rng = np.random.default_rng(0)
    conv2d, conv_transpose2d = backend.module.conv2d, backend.module.conv_transpose2d
    x, w, b = rng.standard_normal((4, 6, 5)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    args = dict(padding="same", dilation=(2, 1), groups=2)
    out = conv2d(backend.array(x), backend.array(w), backend.array(b), **args)
    assert tuple(out.shape) == (6, 6, 5)
    assert_close_to_reference(out, F.conv2d(tensor(x), tensor(w), tensor(b), **args))
    np.testing.assert_array_equal(
        np.asarray(out), np.asarray(conv2d(backend.array(x[None]), backend.array(w), backend.array(b), **args)[0])
    )
    wt = rng.standard_normal((4, 3, 3, 3))
    args = dict(stride=2, padding=1, output_padding=1)
    out = conv_transpose2d(backend.array(x), backend.array(wt), **args)
    assert tuple(out.shape) == (3, 12, 10)
    assert_close_to_reference(out, F.conv_transpose2d(tensor(x), tensor(wt), **args))
    np.testing.assert_array_equal(
        np.asarray(out), np.asarray(conv_transpose2d(backend.array(x[None]), backend.array(wt), **args)[0])
    )
    np.testing.assert_array_equal(
        np.asarray(backend.module.unfold(backend.array(x), 2)),
        np.asarray(backend.module.unfold(backend.array(x[None]), 2)[0]),
    )
    x1, w1, wt1 = rng.standard_normal((2, 7)), rng.standard_normal((3, 2, 3)), rng.standard_normal((2, 3, 3))
    assert_close_to_reference(
        backend.module.conv1d(backend.array(x1), backend.array(w1), stride=2),
        F.conv1d(tensor(x1), tensor(w1), stride=2),
    )
    assert_close_to_reference(
        backend.module.conv_transpose1d(backend.array(x1), backend.array(wt1), stride=2),
        F.conv_transpose1d(tensor(x1), tensor(wt1), stride=2),
    )


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8, np.bool_])
def test_integer_and_bool_input_computes_in_float64(backend, dtype):
    m, a = backend.module, backend.array
    x = np.arange(2 * 16).reshape(2, 1, 4, 4).astype(dtype)
    w = np.ones((1, 1, 3, 3), dtype=dtype)
    reference = F.conv2d(tensor(x.astype(np.float64)), tensor(w.astype(np.float64)), torch.ones(1, dtype=torch.float64))
    for out in (
        m.conv2d(a(x), a(w), a(np.array([1], dtype=dtype))),
        m.conv2d(a(x.astype(np.int64)), a(w.astype(np.int32)), a(np.array([1]))),  # mixed integer dtypes
        m.conv2d(a(x), a(w)) + 1,
    ):
        assert str(out.dtype).endswith("float64")
        np.testing.assert_array_equal(np.asarray(out), reference.numpy())  # integers: exact in float64
    assert str(m.conv_transpose2d(a(x.astype(bool)), a(w.astype(np.uint8))).dtype).endswith("float64")
    columns = m.unfold(a(x), 2)
    assert str(columns.dtype).endswith("float64")
    assert str(m.fold(a(np.asarray(columns).astype(np.int64)), 4, 2).dtype).endswith("float64")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_dtypes_are_kept(backend, dtype):
    x, w = np.ones((1, 2, 4, 4), dtype=dtype), np.ones((2, 2, 3, 3), dtype=dtype)
    expected = str(np.dtype(dtype))
    out = backend.module.conv2d(backend.array(x), backend.array(w), backend.array(np.ones(2, dtype=dtype)))
    assert str(out.dtype).endswith(expected)
    assert np.all(np.asarray(out) == 19)  # 18 products of ones and the bias, exact in every float dtype
    assert str(backend.module.conv_transpose2d(backend.array(x), backend.array(w)).dtype).endswith(expected)
    assert str(backend.module.conv1d(backend.array(x[..., 0]), backend.array(w[..., 0])).dtype).endswith(expected)


def test_empty_batch_gives_empty_output_of_the_right_shape(backend):
    m, a = backend.module, backend.array
    x, w = np.ones((0, 4, 7, 6)), np.ones((6, 2, 3, 3))
    assert tuple(m.conv2d(a(x), a(w), a(np.ones(6)), stride=2, groups=2).shape) == (0, 6, 3, 2)
    assert tuple(m.conv2d(a(x), a(w), padding="same", groups=2).shape) == (0, 6, 7, 6)
    assert tuple(m.conv2d(a(np.ones((0, 3, 8, 8))), a(np.ones((5, 3, 3, 3))), stride=2, padding=1).shape) == (
        0,
        5,
        4,
        4,
    )
    out = m.conv_transpose2d(a(x), a(w[:4]), a(np.ones(4)), stride=2, output_padding=1, groups=2)
    assert (
        tuple(out.shape)
        == tuple(
            F.conv_transpose2d(
                tensor(x), tensor(w[:4]), torch.ones(4, dtype=torch.float64), stride=2, output_padding=1, groups=2
            ).shape
        )
        == (0, 4, 16, 14)
    )
    assert tuple(m.conv_transpose2d(a(np.ones((0, 5, 4, 4))), a(np.ones((5, 3, 3, 3))), stride=2).shape) == (0, 3, 9, 9)
    assert tuple(m.conv1d(a(np.ones((0, 4, 5))), a(np.ones((3, 4, 2)))).shape) == (0, 3, 4)
    assert tuple(m.conv_transpose1d(a(np.ones((0, 4, 5))), a(np.ones((4, 3, 2)))).shape) == (0, 3, 6)
    assert tuple(m.unfold(a(x), 3).shape) == (0, 36, 20)
    if backend.name == "numpy":
        w = np.ones((5, 3, 3, 3))
        gx, gw, gb = cnp.conv_backward(np.ones((0, 5, 6, 6)), np.ones((0, 3, 8, 8)), w)
        assert gx.shape == (0, 3, 8, 8) and np.all(gw == 0) and np.all(gb == 0)


def test_nan_and_inf_propagate_as_in_torch(backend):
    rng = np.random.default_rng(3)
    x, w, wt = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((2, 3, 3, 3))
    x[0, 1, 2, 4] = np.nan
    # An infinite weight meets the zero padding: inf * 0 is NaN there, in torch too.
    w_inf = w.copy()
    w_inf[1, 0, 0, 0] = np.inf
    ones = np.ones((1, 1, 3, 3))
    spots = np.zeros((1, 1, 5, 5))
    spots[0, 0, 2, 2], spots[0, 0, 0, 0] = np.nan, np.inf
    m, a = backend.module, backend.array
    for ours, ref in [
        (m.conv2d(a(x), a(w), padding=1, stride=2), F.conv2d(tensor(x), tensor(w), padding=1, stride=2)),
        (m.conv_transpose2d(a(x), a(wt), stride=2), F.conv_transpose2d(tensor(x), tensor(wt), stride=2)),
        (
            m.conv2d(a(np.nan_to_num(x)), a(w_inf), padding=1),
            F.conv2d(tensor(np.nan_to_num(x)), tensor(w_inf), padding=1),
        ),
        (m.conv2d(a(spots), a(ones)), F.conv2d(tensor(spots), tensor(ones))),
    ]:
        ours, ref = np.asarray(ours), ref.numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
        assert np.isnan(ref).any()
        np.testing.assert_array_equal(np.isinf(ours), np.isinf(ref))
        np.testing.assert_array_equal(ours[np.isinf(ref)], ref[np.isinf(ref)])
        finite = np.isfinite(ref)
        assert_close_to_reference(ours[finite], ref[finite])


def test_a_one_element_tuple_counts_for_every_axis_as_in_pytorch(backend):
    x, w = torch.randn(1, 2, 7, 6, dtype=torch.float64), torch.randn(3, 2, 3, 2, dtype=torch.float64)
    args = dict(stride=(2,), padding=[1], dilation=(2,))
    ours = backend.module.conv2d(backend.array(x.numpy()), backend.array(w.numpy()), **args)
    assert_close_to_reference(ours, F.conv2d(x, w, **args))
