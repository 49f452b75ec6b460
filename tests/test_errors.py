"""Bad input gets a clear error naming the parameter, before any work, in the NumPy backend and
in the pure-arithmetic modules (the torch backend shares the same checks; its own tests cover it)."""

from __future__ import annotations

import numpy as np
import pytest

import conv_tutorial.numpy as cnp
from conv_tutorial import cost, shapes

X = np.ones((2, 4, 6, 6))
W = np.ones((8, 4, 3, 3))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cnp.conv2d(np.ones((6, 6)), W), ValueError,
         r"expected input of 4 dimensions .* got input of shape \(6, 6\)"),
        (lambda: cnp.conv2d(np.ones((1, 1, 4, 6, 6)), W), ValueError, "expected input of 4 dimensions"),
        (lambda: cnp.conv1d(X, W), ValueError, "conv1d: expected input of 3 dimensions"),
        (lambda: cnp.conv2d(X, np.ones((8, 4, 3))), ValueError, "expected weight of 4 dimensions"),
        (lambda: cnp.conv2d(np.ones((2, 3, 6, 6)), W), ValueError, "expects input with 4 channels .* has 3 channels"),
        (lambda: cnp.conv2d(X, np.ones((6, 2, 3, 3)), groups=3), ValueError, "in_channels must be divisible by groups"),
        (lambda: cnp.conv2d(X, np.ones((6, 1, 3, 3)), groups=4), ValueError,
         "out_channels must be divisible by groups"),
        (lambda: cnp.conv2d(X, W, groups=0), ValueError, "groups must be positive, got groups=0"),
        (lambda: cnp.conv2d(X, W, groups=1.0), TypeError, "groups must be an int"),
        (lambda: cnp.conv2d(X, W, stride=0), ValueError, "stride must be positive, got stride=0"),
        (lambda: cnp.conv2d(X, W, stride=(1, -2)), ValueError, r"stride must be positive, got stride=\(1, -2\)"),
        (lambda: cnp.conv2d(X, W, dilation=0), ValueError, "dilation must be positive"),
        (lambda: cnp.conv2d(X, W, padding=-1), ValueError, "padding must be non-negative, got padding=-1"),
        (lambda: cnp.conv2d(X, W, padding=(1, 2, 3)), TypeError, "padding must be an int or a tuple of 2 ints"),
        (lambda: cnp.conv2d(X, W, padding="full"), ValueError, "padding must be an int, a tuple, 'valid' or 'same'"),
        (lambda: cnp.conv2d(X, W, stride=1.5), TypeError, "stride must be an int or a tuple of 2 ints"),
        (lambda: cnp.conv2d(X, np.ones((8, 4, 7, 7))), ValueError,
         r"padded input size per channel \(6, 6\) is smaller than the dilated kernel size \(7, 7\)"),
        (lambda: cnp.conv2d(X, W, dilation=3), ValueError, r"dilated kernel size \(7, 7\)"),
        (lambda: cnp.conv2d(X, W, stride=2, padding="same"), ValueError,
         "padding='same' is not supported for strided convolutions"),
        (lambda: cnp.conv2d(X, W, bias=np.ones(4)), ValueError, r"bias must have shape \(8,\)"),
        (lambda: cnp.conv2d(X.astype(complex), W), TypeError, "input must be real, complex dtype"),
        (lambda: cnp.conv2d(X, W.astype(np.complex64)), TypeError, "weight must be real"),
        (lambda: cnp.conv2d(np.array([["a"]]), W), TypeError, "input must hold real numbers"),
        (lambda: cnp.conv2d_naive(X, W, stride=0), ValueError, "stride must be positive"),
        (lambda: cnp.conv3d(np.ones((4, 6, 6)), np.ones((8, 4, 3, 3, 3))), ValueError,
         "conv3d: expected input of 5 dimensions"),
    ],
)
def test_conv_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


WT = np.ones((4, 3, 3, 3))  # transposed layout (C_in, C_out // groups, kH, kW)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cnp.conv_transpose2d(X, WT, stride=2, output_padding=2), ValueError,
         r"output padding must be smaller than either stride or dilation, "
         r"got output_padding=\(2, 2\), stride=\(2, 2\)"),
        (lambda: cnp.conv_transpose2d(X, WT, output_padding=1), ValueError, "output padding must be smaller"),
        (lambda: cnp.conv_transpose2d(X, np.ones((3, 3, 3, 3))), ValueError, "expects input with 3 channels"),
        (lambda: cnp.conv_transpose2d(X, WT, padding="same"), ValueError,
         "'same' and 'valid' are not defined for transposed"),
        (lambda: cnp.conv_transpose2d(X, WT, padding=5), ValueError, "removes the whole output"),
        (lambda: cnp.conv_transpose2d(X, WT, groups=3), ValueError, "in_channels must be divisible by groups"),
        (lambda: cnp.conv_transpose2d(X, WT, stride=0), ValueError, "stride must be positive"),
        (lambda: cnp.conv_transpose2d(X, WT, padding=-1), ValueError, "padding must be non-negative"),
        (lambda: cnp.conv_transpose2d(X, WT, bias=np.ones(4)), ValueError, r"bias must have shape \(3,\)"),
        (lambda: cnp.conv_transpose2d(X.astype(complex), WT), TypeError, "input must be real"),
        (lambda: cnp.conv_transpose2d(np.ones((4, 6)), WT), ValueError,
         "conv_transpose2d: expected input of 4 dimensions"),
        (lambda: cnp.conv_transpose2d_naive(X, WT, output_padding=1), ValueError, "output padding must be smaller"),
    ],
)
def test_conv_transpose_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cnp.unfold(np.ones((6, 6)), 3), ValueError, "unfold: expected input of 3 .* or 4"),
        (lambda: cnp.unfold(X, 7), ValueError, r"padded input size \(6, 6\) is smaller than the dilated kernel"),
        (lambda: cnp.unfold(X, 0), ValueError, "kernel_size must be positive"),
        (lambda: cnp.fold(np.ones((1, 10, 16)), 6, 3), ValueError, "divisible by the product of kernel_size"),
        (lambda: cnp.fold(np.ones((1, 9, 15)), 6, 3), ValueError, "expected input's last dimension to be 16"),
        (lambda: cnp.fold(np.ones((9,)), 6, 3), ValueError, "fold: expected input of 2"),
        (lambda: cnp.conv_backward(np.ones((2, 8, 5, 5)), X, W), ValueError,
         r"grad_output must have the convolution's output shape \(2, 8, 4, 4\)"),
        (lambda: cnp.conv_backward(np.ones((2, 8, 4)), X, np.ones((8, 4))), ValueError,
         "expected weight of 3, 4 or 5 dimensions"),
        (lambda: cnp.conv_matrix((2, 6, 6), W), ValueError, "expects input with 4 channels"),
        (lambda: cnp.conv_matrix((6, 6), W), ValueError, "input_shape must be"),
    ],
)
def test_unfold_fold_backward_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: shapes.conv_output_size(5, 7), ValueError, "larger than the padded input"),
        (lambda: shapes.conv_output_size(5, 3, stride=0), ValueError, "stride"),
        (lambda: shapes.conv_output_size(5, 3, stride=2, padding="same"), ValueError,
         "padding='same' is not supported"),
        (lambda: shapes.conv_output_size(5, 3, padding=-1), ValueError, "padding must be non-negative"),
        (lambda: shapes.conv_output_size((5, 5), (3, 3, 3)), ValueError, "same length"),
        (lambda: shapes.conv_transpose_output_size(3, 3, stride=2, output_padding=2), ValueError,
         "output padding must be smaller"),
        (lambda: shapes.conv_transpose_output_size(3, 3, padding=-1), ValueError,
         "padding and output_padding must be non-negative"),
        (lambda: shapes.conv_transpose_output_size(3, 3, stride=0), ValueError, "stride"),
        (lambda: cost.conv_params(3, 64, 3, groups=2), ValueError, "in_channels must be divisible by groups"),
        (lambda: cost.conv_params(4, 6, 3, groups=4), ValueError, "out_channels must be divisible by groups"),
        (lambda: cost.conv_macs(32, 0, 8, 3), ValueError, "in_channels must be a positive int"),
    ],
)
def test_arithmetic_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
