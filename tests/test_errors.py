"""Bad input gets a clear error naming the parameter, before any work, in both backends and in the
pure-arithmetic modules: a ``TypeError`` for a wrong type (a float where an int belongs, ``None``
for a required array, a torch tensor the NumPy backend can't read), a ``ValueError`` for a wrong
value, never an exception from deep inside NumPy or torch."""

from __future__ import annotations

import inspect
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct
from conv_tutorial import cost, shapes
from conv_tutorial._checks import OPTIONAL_ARRAYS

X = np.ones((2, 4, 6, 6))
W = np.ones((8, 4, 3, 3))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: cnp.conv2d(np.ones((6, 6)), W),
            ValueError,
            r"expected input of 4 dimensions .* got input of shape \(6, 6\)",
        ),
        (lambda: cnp.conv2d(np.ones((1, 1, 4, 6, 6)), W), ValueError, "expected input of 4 dimensions"),
        (lambda: cnp.conv1d(X, W), ValueError, "conv1d: expected input of 3 dimensions"),
        (lambda: cnp.conv2d(X, np.ones((8, 4, 3))), ValueError, "expected weight of 4 dimensions"),
        (lambda: cnp.conv2d(np.ones((2, 3, 6, 6)), W), ValueError, "expects input with 4 channels .* has 3 channels"),
        (lambda: cnp.conv2d(X, np.ones((6, 2, 3, 3)), groups=3), ValueError, "in_channels must be divisible by groups"),
        (
            lambda: cnp.conv2d(X, np.ones((6, 1, 3, 3)), groups=4),
            ValueError,
            "out_channels must be divisible by groups",
        ),
        (lambda: cnp.conv2d(X, W, groups=0), ValueError, "groups must be positive, got groups=0"),
        (lambda: cnp.conv2d(X, W, groups=1.0), TypeError, "groups must be an int"),
        (lambda: cnp.conv2d(X, W, stride=0), ValueError, "stride must be positive, got stride=0"),
        (lambda: cnp.conv2d(X, W, stride=(1, -2)), ValueError, r"stride must be positive, got stride=\(1, -2\)"),
        (lambda: cnp.conv2d(X, W, dilation=0), ValueError, "dilation must be positive"),
        (lambda: cnp.conv2d(X, W, padding=-1), ValueError, "padding must be non-negative, got padding=-1"),
        (lambda: cnp.conv2d(X, W, padding=(1, 2, 3)), TypeError, "padding must be an int or a tuple of 2 ints"),
        (lambda: cnp.conv2d(X, W, padding="full"), ValueError, "padding must be an int, a tuple, 'valid' or 'same'"),
        (lambda: cnp.conv2d(X, W, stride=1.5), TypeError, "stride must be an int or a tuple of 2 ints"),
        (
            lambda: cnp.conv2d(X, np.ones((8, 4, 7, 7))),
            ValueError,
            r"padded input size per channel \(6, 6\) is smaller than the dilated kernel size \(7, 7\)",
        ),
        (lambda: cnp.conv2d(X, W, dilation=3), ValueError, r"dilated kernel size \(7, 7\)"),
        (
            lambda: cnp.conv2d(X, W, stride=2, padding="same"),
            ValueError,
            "padding='same' is not supported for strided convolutions",
        ),
        (lambda: cnp.conv2d(X, W, bias=np.ones(4)), ValueError, r"bias must have shape \(8,\)"),
        (lambda: cnp.conv2d(X.astype(complex), W), TypeError, "input must be real, complex dtype"),
        (lambda: cnp.conv2d(X, W.astype(np.complex64)), TypeError, "weight must be real"),
        (lambda: cnp.conv2d(np.array([["a"]]), W), TypeError, "input must hold real numbers"),
        (lambda: cnp.conv2d_naive(X, W, stride=0), ValueError, "stride must be positive"),
        (
            lambda: cnp.conv3d(np.ones((4, 6, 6)), np.ones((8, 4, 3, 3, 3))),
            ValueError,
            "conv3d: expected input of 5 dimensions",
        ),
    ],
)
def test_conv_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


WT = np.ones((4, 3, 3, 3))  # transposed layout (C_in, C_out // groups, kH, kW)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: cnp.conv_transpose2d(X, WT, stride=2, output_padding=2),
            ValueError,
            r"output padding must be smaller than either stride or dilation, "
            r"got output_padding=\(2, 2\), stride=\(2, 2\)",
        ),
        (lambda: cnp.conv_transpose2d(X, WT, output_padding=1), ValueError, "output padding must be smaller"),
        (lambda: cnp.conv_transpose2d(X, np.ones((3, 3, 3, 3))), ValueError, "expects input with 3 channels"),
        (
            lambda: cnp.conv_transpose2d(X, WT, padding="same"),
            ValueError,
            "'same' and 'valid' are not defined for transposed",
        ),
        (lambda: cnp.conv_transpose2d(X, WT, padding=5), ValueError, "removes the whole output"),
        (lambda: cnp.conv_transpose2d(X, WT, groups=3), ValueError, "in_channels must be divisible by groups"),
        (lambda: cnp.conv_transpose2d(X, WT, stride=0), ValueError, "stride must be positive"),
        (lambda: cnp.conv_transpose2d(X, WT, padding=-1), ValueError, "padding must be non-negative"),
        (lambda: cnp.conv_transpose2d(X, WT, bias=np.ones(4)), ValueError, r"bias must have shape \(3,\)"),
        (lambda: cnp.conv_transpose2d(X.astype(complex), WT), TypeError, "input must be real"),
        (
            lambda: cnp.conv_transpose2d(np.ones((4, 6)), WT),
            ValueError,
            "conv_transpose2d: expected input of 4 dimensions",
        ),
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
        (
            lambda: cnp.conv_backward(np.ones((2, 8, 5, 5)), X, W),
            ValueError,
            r"grad_output must have the convolution's output shape \(2, 8, 4, 4\)",
        ),
        (
            lambda: cnp.conv_backward(np.ones((2, 8, 4)), X, np.ones((8, 4))),
            ValueError,
            "expected weight of 3, 4 or 5 dimensions",
        ),
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
        (
            lambda: shapes.conv_output_size(5, 3, stride=2, padding="same"),
            ValueError,
            "padding='same' is not supported",
        ),
        (lambda: shapes.conv_output_size(5, 3, padding=-1), ValueError, "padding must be non-negative"),
        (lambda: shapes.conv_output_size((5, 5), (3, 3, 3)), ValueError, "same length"),
        (
            lambda: shapes.conv_transpose_output_size(3, 3, stride=2, output_padding=2),
            ValueError,
            "output padding must be smaller",
        ),
        (
            lambda: shapes.conv_transpose_output_size(3, 3, padding=-1),
            ValueError,
            "padding and output_padding must be non-negative",
        ),
        (lambda: shapes.conv_transpose_output_size(3, 3, stride=0), ValueError, "stride"),
        (lambda: cost.conv_params(3, 64, 3, groups=2), ValueError, "in_channels must be divisible by groups"),
        (lambda: cost.conv_params(4, 6, 3, groups=4), ValueError, "out_channels must be divisible by groups"),
        (lambda: cost.conv_macs(32, 0, 8, 3), ValueError, "in_channels must be a positive int"),
    ],
)
def test_arithmetic_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- every public function, every argument: None, a float for an int, a bool, a string, a ragged list,
# an array of the wrong rank, a negative size -------------------------------------------------------


def _state(module) -> dict:
    """A torch module's parameters and statistics as NumPy arrays: the NumPy blocks' ``params``."""
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def _public_calls():
    """``(module, name, valid keyword arguments)`` for every public function of the four modules."""
    calls = []
    for m, a in ((cnp, np.ones), (ct, lambda shape: torch.ones(shape, dtype=torch.float64))):

        def add(name, **kwargs):
            calls.append((m, name, kwargs))  # noqa: B023 (called only within this iteration)

        add("conv1d", input=a((2, 4, 6)), weight=a((8, 4, 3)), bias=a((8,)), stride=1, padding=0, dilation=1, groups=1)
        add(
            "conv2d",
            input=a((2, 4, 6, 6)),
            weight=a((8, 4, 3, 3)),
            bias=a((8,)),
            stride=1,
            padding=0,
            dilation=1,
            groups=1,
        )
        add(
            "conv3d",
            input=a((1, 2, 4, 4, 4)),
            weight=a((2, 2, 3, 3, 3)),
            bias=a((2,)),
            stride=1,
            padding=0,
            dilation=1,
            groups=1,
        )
        for n in (1, 2, 3):
            add(
                f"conv_transpose{n}d",
                input=a((1, 4, *(3,) * n)),
                weight=a((4, 3, *(3,) * n)),
                bias=a((3,)),
                stride=2,
                padding=1,
                output_padding=1,
                groups=1,
                dilation=1,
            )
        add("channel_shuffle", input=a((2, 6, 3, 3)), groups=2)
        add(
            "conv2d_by_groups",
            input=a((2, 4, 6, 6)),
            weight=a((8, 2, 3, 3)),
            bias=a((8,)),
            stride=1,
            padding=0,
            dilation=1,
            groups=2,
        )
        add(
            "depthwise_conv2d_by_taps",
            input=a((2, 3, 6, 6)),
            weight=a((6, 1, 3, 3)),
            bias=a((6,)),
            stride=1,
            padding=0,
            dilation=1,
        )
        add(
            "deform_conv2d",
            input=a((1, 4, 5, 5)),
            offset=a((1, 18, 3, 3)),
            weight=a((6, 4, 3, 3)),
            bias=a((6,)),
            stride=1,
            padding=0,
            dilation=1,
            mask=a((1, 9, 3, 3)),
        )
        add("deform_sampling_points", offset=a((1, 18, 3, 3)), kernel_size=3, stride=1, padding=0, dilation=1)
        add(
            "depthwise_conv2d",
            input=a((2, 4, 6, 6)),
            weight=a((8, 1, 3, 3)),
            bias=a((8,)),
            stride=1,
            padding=0,
            dilation=1,
        )
        add("fold", input=a((1, 9, 16)), output_size=6, kernel_size=3, dilation=1, padding=0, stride=1)
        add("unfold", input=a((1, 2, 6, 6)), kernel_size=3, dilation=1, padding=0, stride=1)
        add("global_avg_pool2d", input=a((2, 4, 5, 5)))
        add("global_depthwise_conv2d", input=a((2, 4, 5, 5)), weight=a((4, 1, 5, 5)), bias=a((4,)))
        add("gridding_map", dilations=[1, 2], kernel_size=3, ndim=2)
        add("low_rank_kernel", kernel=a((3, 3)), rank=1)
        add("overlap_map", input_size=5, kernel_size=3, stride=2, padding=0, output_padding=0)
        add("pointwise_conv2d", input=a((2, 4, 5, 5)), weight=a((6, 4)), bias=a((6,)))
        add(
            "resize_conv2d",
            input=a((1, 2, 3, 3)),
            weight=a((4, 2, 3, 3)),
            bias=a((4,)),
            scale_factor=2,
            mode="nearest",
            padding="same",
        )
        add(
            "separable_conv2d",
            input=a((1, 3, 6, 6)),
            depthwise_weight=a((3, 1, 3, 3)),
            pointwise_weight=a((5, 3, 1, 1)),
            depthwise_bias=a((3,)),
            pointwise_bias=a((5,)),
            stride=1,
            padding=0,
            dilation=1,
        )
        add("separate_kernel", kernel=a((3, 3)), tol=1e-6)
        add(
            "spatially_separable_conv2d",
            input=a((1, 2, 6, 6)),
            column_weight=a((3, 2, 3, 1)),
            row_weight=a((4, 3, 1, 3)),
            column_bias=a((3,)),
            row_bias=a((4,)),
            stride=1,
            padding=0,
            dilation=1,
            groups=1,
        )
        add("squeeze_excitation", input=a((2, 8, 4, 4)), w1=a((2, 8)), b1=a((2,)), w2=a((8, 2)), b2=a((8,)))
        add("stacked_overlap_map", input_size=3, layers=[(3, 2), (3, 2)])
        add("upsample2d", input=a((1, 2, 3, 3)), scale_factor=2, mode="bilinear")
    n = np.ones
    calls += [
        (cnp, "bilinear_interpolate", dict(image=n((3, 3)), y=0.5, x=0.5)),
        (
            cnp,
            "conv2d_naive",
            dict(
                input=n((1, 4, 5, 5)), weight=n((8, 4, 3, 3)), bias=n((8,)), stride=1, padding=0, dilation=1, groups=1
            ),
        ),
        (
            cnp,
            "conv_backward",
            dict(
                grad_output=n((2, 8, 4, 4)),
                input=n((2, 4, 6, 6)),
                weight=n((8, 4, 3, 3)),
                stride=1,
                padding=0,
                dilation=1,
                groups=1,
            ),
        ),
        (cnp, "conv_matrix", dict(input_shape=(2, 5, 5), weight=n((3, 2, 3, 3)), stride=1, padding=0, dilation=1)),
        (
            cnp,
            "conv_transpose2d_naive",
            dict(
                input=n((1, 4, 3, 3)),
                weight=n((4, 3, 3, 3)),
                bias=n((3,)),
                stride=1,
                padding=0,
                output_padding=0,
                groups=1,
                dilation=1,
            ),
        ),
        (
            cnp,
            "deform_conv2d_naive",
            dict(
                input=n((1, 2, 4, 4)),
                offset=n((1, 18, 2, 2)),
                weight=n((3, 2, 3, 3)),
                bias=n((3,)),
                stride=1,
                padding=0,
                dilation=1,
                mask=n((1, 9, 2, 2)),
            ),
        ),
        (cnp, "pointwise_conv2d_naive", dict(input=n((2, 4, 3, 3)), weight=n((6, 4)), bias=n((6,)))),
        (cnp, "shuffle_permutation", dict(channels=6, groups=2)),
        # The count the process already has: the valid call changes nothing for the tests after it.
        (cnp, "set_num_threads", dict(num_threads=cnp.get_num_threads())),
        (cnp, "get_num_threads", {}),
        (shapes, "conv_input_sizes", dict(output_size=3, kernel_size=3, stride=2, padding=1, dilation=1)),
        (shapes, "conv_output_size", dict(input_size=7, kernel_size=3, stride=2, padding=1, dilation=1)),
        (shapes, "conv_relationship", dict(input_size=7, kernel_size=3, stride=2, padding=1, dilation=1)),
        (
            shapes,
            "conv_transpose_output_size",
            dict(input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1, dilation=1),
        ),
        (shapes, "effective_kernel_size", dict(kernel_size=3, dilation=2)),
        (shapes, "output_padding_choices", dict(stride=2, dilation=1)),
        (shapes, "receptive_field", dict(layers=[(3, 1), (3, 2, 2)])),
        (shapes, "transposed_equivalent", dict(input_size=7, kernel_size=3, stride=2, padding=1, dilation=1)),
    ]
    fill = dict(
        input_size=8,
        in_channels=4,
        out_channels=4,
        kernel_size=3,
        num_features=4,
        channels=32,
        spatial_size=7,
        layers=[(4, 4, 3), (4, 8, 1)],
        mid_channels=4,
        ndim=2,
        num_layers=2,
        growth_rate=4,
    )
    for name in cost.__all__:
        function = getattr(cost, name)
        if callable(function):
            kwargs = {
                p.name: fill[p.name] if p.default in (inspect.Parameter.empty, None) else p.default
                for p in inspect.signature(function).parameters.values()
            }
            if name == "layer_table":
                kwargs.update(in_channels=32, out_channels=32)
            calls.append((cost, name, kwargs))
    calls += [
        (ct, "Bottleneck", dict(in_channels=8, mid_channels=4, out_channels=8, stride=1, groups=1)),
        (ct, "Conv2Plus1d", dict(in_channels=4, out_channels=4, kernel_size=3, stride=1, padding=0, mid_channels=4)),
        (
            ct,
            "DeformConv2d",
            dict(
                in_channels=4,
                out_channels=4,
                kernel_size=3,
                stride=1,
                padding=0,
                dilation=1,
                groups=1,
                offset_groups=1,
                bias=True,
                modulated=False,
            ),
        ),
        (
            ct,
            "DepthwiseSeparableConv2d",
            dict(
                in_channels=4,
                out_channels=4,
                kernel_size=3,
                stride=1,
                padding=0,
                dilation=1,
                depth_multiplier=1,
                bias=True,
            ),
        ),
        (ct, "GlobalDepthwiseConv2d", dict(channels=4, spatial_size=7, bias=False)),
        (ct, "InceptionBlock", dict(in_channels=8, ch1x1=2, ch3x3red=2, ch3x3=2, ch5x5red=2, ch5x5=2, pool_proj=2)),
        (ct, "ResNeXtBlock", dict(in_channels=8, bottleneck_channels=8, out_channels=8, cardinality=2, stride=1)),
        (
            ct,
            "ResizeConv2d",
            dict(
                in_channels=2, out_channels=2, kernel_size=3, scale_factor=2, mode="nearest", padding="same", bias=True
            ),
        ),
        (
            ct,
            "ShuffleNetUnit",
            dict(in_channels=12, out_channels=12, groups=3, stride=1, bottleneck_channels=3, first_groups=3),
        ),
        (
            ct,
            "SpatiallySeparableConv2d",
            dict(
                in_channels=4,
                out_channels=4,
                kernel_size=3,
                stride=1,
                padding=0,
                dilation=1,
                mid_channels=4,
                groups=1,
                bias=True,
            ),
        ),
        (ct, "SqueezeExcitation", dict(channels=32, reduction=16)),
        (ct, "BasicBlock", dict(in_channels=8, out_channels=8, stride=1, shortcut=True)),
        (ct, "DenseLayer", dict(in_channels=8, growth_rate=4, bn_size=4)),
        (ct, "DenseBlock", dict(num_layers=2, in_channels=8, growth_rate=4, bn_size=4)),
        (ct, "Transition", dict(in_channels=8, out_channels=4)),
        (ct, "basic_block_net", dict(num_blocks=2, channels=4, in_channels=1, num_classes=2, shortcut=True)),
        (ct, "resnet", dict(layers=(1, 1, 1, 1), num_classes=10, in_channels=3)),
        (ct, "resnet18", dict(num_classes=10)),
        (
            ct,
            "densenet",
            dict(
                block_config=(1, 1),
                growth_rate=4,
                num_init_features=8,
                bn_size=2,
                compression=0.5,
                num_classes=10,
                in_channels=3,
            ),
        ),
        (ct, "densenet121", dict(num_classes=10)),
    ]
    for m, a, state in (
        (cnp, np.ones, _state),
        (ct, lambda shape: torch.ones(shape, dtype=torch.float64), lambda module: module.double().state_dict()),
    ):
        block, layer = state(ct.BasicBlock(4, 4)), state(ct.DenseLayer(4, 2, 2))
        calls += [
            # weight is optional here, unlike a convolution's: tests/test_connections.py checks its errors.
            (
                m,
                "batch_norm",
                dict(input=a((2, 4, 3, 3)), running_mean=a((4,)), running_var=a((4,)), bias=a((4,)), eps=1e-5),
            ),
            (m, "residual_block", dict(input=a((2, 4, 5, 5)), params=block, stride=1, shortcut=True, eps=1e-5)),
            (m, "dense_layer", dict(input=a((2, 4, 5, 5)), params=layer, eps=1e-5)),
            (m, "dense_block", dict(input=a((2, 4, 5, 5)), layers=[layer], eps=1e-5)),
            (m, "transition", dict(input=a((2, 4, 6, 6)), params=state(ct.Transition(4, 2)), eps=1e-5)),
        ]
    return calls


PUBLIC_CALLS = _public_calls()


def test_every_public_function_is_swept():
    swept = {(m.__name__, name) for m, name, _ in PUBLIC_CALLS}
    public = {
        (m.__name__, name)
        for m in (cnp, ct, shapes, cost)
        for name in m.__all__
        if inspect.isfunction(getattr(m, name)) or inspect.isclass(getattr(m, name))
    }
    # Result types, not functions (``ConvGeometry`` is built by ``_checks``, whose errors are swept here).
    public -= {("conv_tutorial.shapes", "TransposedEquivalent"), ("conv_tutorial.shapes", "ConvGeometry")}
    public -= {("conv_tutorial.torch", "native_convolutions")}  # a context manager without arguments
    assert public <= swept, f"not swept: {sorted(public - swept)}"


def _bad_values(module, name, value, optional):
    """``(bad value, exception types it must raise)`` for an argument whose valid value is ``value``."""
    either = (TypeError, ValueError)
    if isinstance(value, (np.ndarray, torch.Tensor)):
        rank6 = np.ones((1,) * 6) if module is cnp else torch.ones((1,) * 6)
        bad = [
            ("abc", TypeError),
            ([[1.0, 2.0], [3.0]], ValueError if module is cnp else TypeError),
            (rank6, ValueError),
        ]
        return bad if name in OPTIONAL_ARRAYS else [(None, TypeError), *bad]
    if isinstance(value, dict):  # the parameters of a block, by name
        return [(None, TypeError), (1.5, TypeError), ("abc", TypeError), ({}, ValueError)]
    if isinstance(value, bool):  # a flag
        return [("abc", TypeError), (1.5, TypeError)]
    if isinstance(value, float):  # tol, a coordinate
        return [("abc", TypeError), (math.nan, ValueError), (-1.0, ValueError) if name == "tol" else (None, TypeError)]
    if isinstance(value, str):  # mode, padding
        return [("abc", ValueError), (None, either)]
    if isinstance(value, (list, tuple)):  # layers, dilations, input_shape
        return [(None, either), (1.5, either), ("abc", either), (-1, either)]
    bad = [(1.5, TypeError), (True, TypeError), ("abc", either), (-1, ValueError)]
    return bad if optional else [*bad, (None, TypeError)]


@pytest.mark.parametrize(
    ("module", "name", "kwargs"),
    PUBLIC_CALLS,
    ids=[f"{m.__name__.split('.')[-1]}.{name}" for m, name, _ in PUBLIC_CALLS],
)
def test_bad_arguments_get_a_clear_error_naming_them(module, name, kwargs):
    function = getattr(module, name)
    function(**kwargs)  # the valid call works
    failures = []
    for arg, value in kwargs.items():
        optional = inspect.signature(function).parameters[arg].default is None
        for bad, expected in _bad_values(module, arg, value, optional):
            try:
                function(**{**kwargs, arg: bad})
            except expected as error:
                # The message names the argument (an argument passed on to a helper: its last word, "bias").
                if not re.search(rf"\b({arg}|{arg.split('_')[-1]})\b", str(error)):
                    failures.append(f"{arg}={bad!r}: message does not name {arg}: {error}")
            except Exception as error:  # any other exception is a failure
                failures.append(f"{arg}={bad!r}: {type(error).__name__}: {error}")
            else:
                failures.append(f"{arg}={bad!r}: no error")
    assert not failures, "\n".join(failures)


# --- the cases of the issue, one by one -----------------------------------------------------------


@pytest.mark.parametrize("backend", [cnp, ct])
@pytest.mark.parametrize("name", ["input", "weight"])
def test_none_array_is_a_type_error_naming_it(backend, name):
    x, w = (
        (np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3)))
        if backend is cnp
        else (torch.ones(1, 2, 5, 5), torch.ones(3, 2, 3, 3))
    )
    args = {"input": x, "weight": w, name: None}
    with pytest.raises(TypeError, match=f"^{name} must be "):
        backend.conv2d(**args)


def test_ragged_list_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="input must be an array or a regular nested list"):
        cnp.conv2d([[1, 2], [3]], np.ones((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="weight must be an array or a regular nested list"):
        cnp.conv1d([[[1.0, 2.0, 3.0]]], [[[1.0], [2.0, 3.0]]])


@pytest.mark.parametrize("name", ["input", "weight", "bias"])
def test_torch_tensor_that_requires_grad_is_refused_by_numpy_with_the_fix(name):
    args = dict(input=torch.ones(1, 2, 5, 5), weight=torch.ones(3, 2, 3, 3), bias=torch.ones(3))
    args[name] = args[name].requires_grad_()
    with pytest.raises(TypeError, match=rf"{name} is a torch tensor that requires grad.*{name}\.detach\(\)"):
        cnp.conv2d(**args)
    args[name] = args[name].detach()
    expected = cnp.conv2d(*(t.numpy() for t in args.values()))
    np.testing.assert_array_equal(cnp.conv2d(**args), expected)  # a plain CPU tensor is read as an array


@pytest.mark.parametrize(
    "call",
    [
        lambda t: cnp.unfold(t, 2),
        lambda t: cnp.channel_shuffle(t, 2),
        lambda t: cnp.upsample2d(t),
        lambda t: cnp.global_avg_pool2d(t),
        lambda t: cnp.separate_kernel(t[0, 0]),
        lambda t: cnp.bilinear_interpolate(t[0, 0], 0, 0),
    ],
)
def test_torch_tensors_numpy_cannot_read_are_refused_everywhere(call):
    with pytest.raises(TypeError, match=r"\.detach\(\)"):
        call(torch.ones(1, 2, 4, 4, requires_grad=True))
    with pytest.raises(TypeError, match="dtype torch.bfloat16, which is not supported: convert it to float32"):
        call(torch.ones(1, 2, 4, 4, dtype=torch.bfloat16))


@pytest.mark.parametrize("backend", [cnp, ct])
def test_separate_kernel_float16_nan_and_tol(backend):
    sobel = [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]
    half = np.array(sobel, dtype=np.float16) if backend is cnp else torch.tensor(sobel, dtype=torch.float16)
    column, row = backend.separate_kernel(half)  # the SVD runs in float32; the factors are float16
    assert column.dtype == half.dtype and row.dtype == half.dtype
    np.testing.assert_allclose(
        np.outer(np.asarray(column, dtype=float), np.asarray(row, dtype=float)), sobel, atol=1e-2
    )
    approximation, _ = backend.low_rank_kernel(half, 1)
    assert approximation.dtype == half.dtype
    nan = half * float("nan")
    for function in (lambda k: backend.separate_kernel(k), lambda k: backend.low_rank_kernel(k, 1)):
        with pytest.raises(ValueError, match="kernel must be finite"):
            function(nan)
    for tol, error, match in [
        ("0.1", TypeError, "tol must be a real number"),
        (True, TypeError, "tol must be"),
        ((1, 2), TypeError, "tol must be"),
        (float("nan"), ValueError, "tol must be a number"),
        (-1.0, ValueError, "tol must be at least 0"),
    ]:
        with pytest.raises(error, match=match):
            backend.separate_kernel(half, tol=tol)


def test_bilinear_interpolate_coordinates():
    image = np.arange(4.0).reshape(2, 2)
    for y, x, error, match in [
        (math.nan, 0.5, ValueError, "y must be a number, not NaN"),
        (0.5, math.nan, ValueError, "x must be a number, not NaN"),
        (None, 0.5, TypeError, "y must be a real number"),
        (0.5, "1", TypeError, "x must be"),
        (0.5, (1, 2), TypeError, "x must be"),
    ]:
        with pytest.raises(error, match=match):
            cnp.bilinear_interpolate(image, y, x)
    with pytest.raises(ValueError, match=r"expected image of shape \(H, W\)"):
        cnp.bilinear_interpolate(np.ones((1, 2, 2)), 0.5, 0.5)
    assert cnp.bilinear_interpolate(image, math.inf, 0.0) == 0  # infinitely far is outside: zero
    assert cnp.bilinear_interpolate(np.array([[0, 1], [2, 3]]), 0.5, 0.5) == 1.5  # integer images compute as floats


def test_non_integer_sizes_are_type_errors():
    with pytest.raises(TypeError, match="channels must be an int, got channels=6.0"):
        cnp.shuffle_permutation(6.0, 2)
    with pytest.raises(TypeError, match="groups must be an int"):
        cnp.shuffle_permutation(6, 2.0)
    with pytest.raises(TypeError, match="input_shape must be .* a tuple of 3 ints"):
        cnp.conv_matrix((1, 4.0, 4), np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="input_shape must be .* positive"):
        cnp.conv_matrix((1, 0, 4), np.ones((1, 1, 2, 2)))
    assert cnp.shuffle_permutation(np.int64(6), 3).tolist() == [0, 2, 4, 1, 3, 5]  # NumPy ints are ints


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: shapes.effective_kernel_size(0), "kernel_size and dilation must be positive"),
        (lambda: shapes.effective_kernel_size(3, dilation=-1), "kernel_size and dilation must be positive"),
        (lambda: shapes.conv_output_size(0, 1, padding=1), "input_size must be positive, got input_size=0"),
        (lambda: shapes.conv_output_size(5, 3, padding="full"), "padding must be an int, a tuple, 'valid' or 'same'"),
        (lambda: shapes.conv_transpose_output_size(0, 3), "input_size must be positive"),
        (lambda: shapes.conv_transpose_output_size(1, 1, padding=1), "output size is too small"),
        (lambda: cost.conv_params(3, 8, 0), "kernel_size must be positive, got kernel_size=0"),
        (lambda: cost.conv_params(3, 8, (3, -1)), "kernel_size must be positive"),
        (lambda: cost.conv_macs(8, 3, 8, 3, dilation=0), "dilation must be positive"),
        (lambda: cost.deform_conv_params(4, 4, 0), "kernel_size must be positive"),
        (lambda: cost.conv2plus1d_mid_channels(4, 4, 0), "kernel_size must be positive"),
        (lambda: cost.conv2plus1d_params(4, 4, (3, 0, 3)), "kernel_size must be positive"),
        (lambda: cost.conv2plus1d_macs(8, 4, 4, 0), "kernel_size must be positive"),
        (lambda: cost.conv2plus1d_bytes(8, 4, 4, -3), "kernel_size must be positive"),
        (lambda: ct.Conv2Plus1d(4, 4, 0), "kernel_size must be positive"),
        (lambda: cost.conv_macs(8, 3, 8, 3, ndim=4), "ndim must be 1, 2 or 3"),
    ],
)
def test_impossible_layers_are_refused_rather_than_priced(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        # The hand-written checks of cost and of the torch blocks, now one helper: a float is a TypeError.
        (lambda: cost.conv_params(3.0, 8, 3), "in_channels"),
        (lambda: cost.conv_params(3, 8, 3, groups=1.0), "groups"),
        (lambda: cost.batch_norm_params(4.0), "num_features"),
        (lambda: cost.conv2plus1d_params(4, 4, 3, mid_channels=2.5), "mid_channels"),
        (lambda: cost.squeeze_excitation_params(32, 4.0), "reduction"),
        (lambda: cost.conv_bytes(8, 4, 4, 3, batch=1.0), "batch"),
        (lambda: cost.conv_bytes(8, 4, 4, 3, itemsize=4.0), "itemsize"),
        (lambda: cost.deform_conv_params(4, 4, 3, offset_groups=1.0), "offset_groups"),
        (lambda: cost.layer_table(8, 32, 32, frames=8.0), "frames"),
        (lambda: cost.depthwise_conv_params(4, 3, depth_multiplier=2.0), "depth_multiplier"),
        (lambda: cost.conv_params(3, 8, 3, ndim=2.0), "ndim"),
        (lambda: ct.SqueezeExcitation(32.0), "channels"),
        (lambda: ct.GlobalDepthwiseConv2d(4.0, 7), "channels"),
        (lambda: ct.DeformConv2d(4.0, 4, 3), "in_channels"),
        (lambda: ct.Bottleneck(8, 4.0, 8), "mid_channels"),
        (lambda: ct.ResNeXtBlock(8, 8, 8, cardinality=2.0), "cardinality"),
        (lambda: ct.ShuffleNetUnit(12, 12, groups=3.0), "groups"),
        (lambda: ct.ShuffleNetUnit(12, 12, stride=1.0), "stride"),
        (lambda: ct.InceptionBlock(8.0, 2, 2, 2, 2, 2, 2), "in_channels"),
        (lambda: ct.DepthwiseSeparableConv2d(4, 4.0, 3), "out_channels"),
        (lambda: ct.SpatiallySeparableConv2d(4, 4, 3, groups=1.0), "groups"),
        (lambda: ct.ResizeConv2d(2.0, 2, 3), "in_channels"),
    ],
)
def test_a_float_where_an_int_belongs_is_a_type_error(call, name):
    with pytest.raises(TypeError, match=rf"{name} must be an int, got {name}="):
        call()


def test_flags_must_be_booleans():
    with pytest.raises(TypeError, match="bias must be True or False"):
        cost.conv_params(3, 8, 3, bias="no")
    with pytest.raises(TypeError, match="modulated must be True or False"):
        cost.deform_conv_macs(8, 4, 4, 3, modulated=None)
    with pytest.raises(TypeError, match="batch_norm must be True or False"):
        cost.conv2plus1d_params(4, 4, 3, batch_norm=1)
    assert cost.conv_params(3, 8, 3, bias=np.bool_(False)) == cost.conv_params(3, 8, 3, bias=False)


def test_module_arguments_are_checked_when_the_module_is_built():
    for call, error, match in [
        (lambda: ct.DepthwiseSeparableConv2d(4, 4, 3, stride=0), ValueError, "stride must be positive"),
        (lambda: ct.DepthwiseSeparableConv2d(4, 4, 3, stride=2, padding="same"), ValueError, "padding='same'"),
        (lambda: ct.SpatiallySeparableConv2d(4, 4, 3, padding="full"), ValueError, "padding must be"),
        (lambda: ct.SpatiallySeparableConv2d(4, 4, 3, groups=0), ValueError, "groups must be a positive int"),
        (lambda: ct.Conv2Plus1d(4, 4, 3, stride=-1), ValueError, "stride must be positive"),
        (lambda: ct.Conv2Plus1d(4, 4, 3, padding=-1), ValueError, "padding must be non-negative"),
        (lambda: ct.ResizeConv2d(0, 2, 3), ValueError, "in_channels must be a positive int"),
        (lambda: ct.ResizeConv2d(2, 2, -1), ValueError, "kernel_size must be positive"),
        (lambda: ct.ResizeConv2d(2, 2, 3, padding=-1), ValueError, "padding must be non-negative"),
        (lambda: ct.DeformConv2d(4, 4, 3, modulated="yes"), TypeError, "modulated must be True or False"),
    ]:
        with pytest.raises(error, match=match):
            call()


def test_importing_the_torch_backend_without_torch_says_how_to_install_it():
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "import conv_tutorial.numpy, conv_tutorial.shapes, conv_tutorial.cost  # these need no torch\n"
        "try:\n    import conv_tutorial.torch\n"
        "except ImportError as error:\n    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "conv_tutorial.torch needs PyTorch" in result.stdout and "pip install torch" in result.stdout
