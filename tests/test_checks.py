"""The validation primitives of ``conv_tutorial._checks`` and the modules that check through them.

Each primitive accepts what it should (and returns it normalised), and refuses the rest with a
``TypeError`` for a wrong type or a ``ValueError`` for a wrong value, naming the function, the
parameter and the value. The second half calls each public function whose hand-written check was
replaced by a primitive, with a bad argument, and checks the error it raises.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from conv_tutorial import _checks
from conv_tutorial._checks import (
    check_array_shape,
    check_choice,
    check_divisible,
    check_index,
    check_instance,
    check_int_sequence,
    check_ndim,
    check_real,
)

PRIMITIVES = (
    "check_array_shape",
    "check_choice",
    "check_divisible",
    "check_index",
    "check_instance",
    "check_int_sequence",
    "check_ndim",
    "check_real",
)


@pytest.mark.parametrize("name", PRIMITIVES)
def test_primitives_are_public_and_documented_with_an_example(name):
    function = getattr(_checks, name)
    assert name in _checks.__all__
    assert ">>> " + name in function.__doc__


# --- check_real ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, kwargs",
    [
        (0.5, dict(minimum=0, maximum=1, exclusive_minimum=True)),
        (1, dict(minimum=0, maximum=1, exclusive_minimum=True)),
        (0, dict(minimum=0, maximum=1)),
        (1e-9, dict(minimum=0, exclusive_minimum=True)),
        (-5.0, dict(maximum=-5)),
        (math.inf, dict(minimum=0)),
        (3.0, dict(minimum=0, finite=True)),
        (np.float32(0.25), dict(minimum=0, maximum=1)),
    ],
)
def test_check_real_accepts_values_in_range_and_returns_a_float(value, kwargs):
    result = check_real("f", "x", value, **kwargs)
    assert type(result) is float and result == float(value)


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (0, dict(minimum=0, maximum=1, exclusive_minimum=True), "f: x must be in (0, 1], got x=0.0"),
        (1.5, dict(minimum=0, maximum=1, exclusive_minimum=True), "f: x must be in (0, 1], got x=1.5"),
        (-0.1, dict(minimum=0, maximum=1), "f: x must be in [0, 1], got x=-0.1"),
        (0.0, dict(minimum=0, exclusive_minimum=True), "f: x must be positive, got x=0.0"),
        (-2, dict(minimum=0, exclusive_minimum=True), "f: x must be positive, got x=-2.0"),
        (1, dict(minimum=1, exclusive_minimum=True), "f: x must be greater than 1, got x=1.0"),
        (6, dict(maximum=5), "f: x must be at most 5, got x=6.0"),
        (-1, dict(minimum=0), "f: x must be at least 0, got x=-1"),
        (math.inf, dict(finite=True), "f: x must be finite, got x=inf"),
        (math.inf, dict(minimum=0, exclusive_minimum=True, finite=True), "f: x must be positive and finite, got x=inf"),
        (math.nan, dict(minimum=0, maximum=1), "f: x must be a number, not NaN, got x=nan"),
    ],
)
def test_check_real_refuses_values_out_of_range_with_a_value_error(value, kwargs, message):
    with pytest.raises(ValueError) as error:
        check_real("f", "x", value, **kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize("value", [True, "0.5", None, 1j, [0.5]])
def test_check_real_refuses_a_wrong_type_with_a_type_error(value):
    with pytest.raises(TypeError, match=r"f: x must be a real number, got x="):
        check_real("f", "x", value, 0, 1)


# --- check_divisible -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, by", [(8, 4), (0, 3), (7, 1), (np.int64(12), 6)])
def test_check_divisible_returns_a_multiple(value, by):
    assert check_divisible("f", "in_channels", value, "groups", by) == value


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("f", "in_channels", 6, "groups", 4),
            "f: in_channels must be divisible by groups, got in_channels=6 and groups=4",
        ),
        ((None, "width", 10, "groups", 3), "width must be divisible by groups, got width=10 and groups=3"),
        (("f", "size", 6, None, 4), "f: size must be divisible by 4, got size=6"),
    ],
)
def test_check_divisible_names_both_values(args, message):
    with pytest.raises(ValueError) as error:
        check_divisible(*args)
    assert str(error.value) == message


def test_check_divisible_gives_the_reason_after_the_divisor():
    with pytest.raises(ValueError, match=r"^f: size must be divisible by 4 \(two poolings by 2\), got size=6$"):
        check_divisible("f", "size", 6, None, 4, why="two poolings by 2")


# --- check_choice --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, choices", [("cpu", ("wall", "cpu")), (2, (1, 2)), ("b", ["a", "b", "c"])])
def test_check_choice_returns_a_choice(value, choices):
    assert check_choice("f", "x", value, choices) == value


@pytest.mark.parametrize(
    "value, choices, message",
    [
        ("process", ("wall", "cpu"), "f: x must be 'wall' or 'cpu', got x='process'"),
        (3, (1, 2), "f: x must be 1 or 2, got x=3"),
        ("d", ("a", "b", "c"), "f: x must be one of ('a', 'b', 'c'), got x='d'"),
        (None, ("a", "b", "c"), "f: x must be one of ('a', 'b', 'c'), got x=None"),
        ([1], ("a", "b", "c"), "f: x must be one of ('a', 'b', 'c'), got x=[1]"),
    ],
)
def test_check_choice_refuses_anything_else_with_a_value_error(value, choices, message):
    with pytest.raises(ValueError) as error:
        check_choice("f", "x", value, choices)
    assert str(error.value) == message


def test_check_choice_with_types_refuses_a_wrong_type_with_a_type_error():
    with pytest.raises(TypeError, match=r"^f: kind must be one of \('a', 'b', 'c'\), got kind=1 \(int\)$"):
        check_choice("f", "kind", 1, ("a", "b", "c"), types=str)
    with pytest.raises(ValueError, match="got kind='d'$"):
        check_choice("f", "kind", "d", ("a", "b", "c"), types=str)


# --- check_int_sequence --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        ([3, 4, 6, 3], dict(min_length=4, max_length=4), (3, 4, 6, 3)),
        ((np.int64(2),), dict(min_length=1), (2,)),
        ((), dict(), ()),
        ((0, 5), dict(minimum=0), (0, 5)),
    ],
)
def test_check_int_sequence_returns_a_tuple_of_ints(value, kwargs, expected):
    result = check_int_sequence("f", "layers", value, **kwargs)
    assert result == expected and all(type(v) is int for v in result)


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        ((2, 2, 2), dict(min_length=4, max_length=4, item="block count"), "f: layers must hold 4 block counts"),
        ([], dict(min_length=1, item="block"), "f: layers must hold at least one block, got layers=[]"),
        ((1, 2, 3), dict(min_length=1, max_length=2), "f: layers must hold 1 to 2 ints, got layers=(1, 2, 3)"),
        ((1, 0), dict(), "f: layers[1] must be a positive int, got layers[1]=0"),
        ((1, -1), dict(minimum=0), "f: layers[1] must be a non-negative int, got layers[1]=-1"),
    ],
)
def test_check_int_sequence_refuses_a_wrong_length_or_entry_with_a_value_error(value, kwargs, message):
    with pytest.raises(ValueError) as error:
        check_int_sequence("f", "layers", value, **kwargs)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    "value, message",
    [
        (3, "f: layers must be a list or tuple of ints, got layers=3"),
        ("2222", "f: layers must be a list or tuple of ints, got layers='2222'"),
        ((2, 2.0), "f: layers[1] must be an int, got layers[1]=2.0 (float)"),
        ([True], "f: layers[0] must be an int, got layers[0]=True (bool)"),
    ],
)
def test_check_int_sequence_refuses_a_wrong_type_with_a_type_error(value, message):
    with pytest.raises(TypeError) as error:
        check_int_sequence("f", "layers", value)
    assert str(error.value) == message


# --- check_instance ------------------------------------------------------------------------------------------------


def test_check_instance_returns_the_value():
    rng = np.random.default_rng(0)
    assert check_instance("f", "rng", rng, np.random.Generator) is rng
    assert check_instance("f", "x", 3, (float, int)) == 3


@pytest.mark.parametrize(
    "value, types, hint, message",
    [
        (3, np.random.Generator, None, "f: rng must be a numpy.random.Generator, got int"),
        (None, np.random.Generator, "np.random.default_rng(0)", "f: rng must be a numpy.random.Generator "),
        (1.5, int, None, "f: rng must be an int, got float"),
        ("x", (int, float), None, "f: rng must be an int or float, got str"),
        (np.zeros(2), dict, None, "f: rng must be a dict, got ndarray"),
    ],
)
def test_check_instance_names_the_types_expected_and_received(value, types, hint, message):
    with pytest.raises(TypeError) as error:
        check_instance("f", "rng", value, types, hint)
    assert str(error.value).startswith(message)
    if hint:
        assert str(error.value) == f"{message}({hint}), got NoneType"


# --- check_ndim ----------------------------------------------------------------------------------------------------


def test_check_ndim_returns_the_shape_as_a_tuple_of_ints():
    assert check_ndim("f", "input", np.zeros((2, 3, 4, 5)).shape, "(N, C, H, W)") == (2, 3, 4, 5)
    assert check_ndim("f", "input", [np.int64(3), 4, 5], ("(N, C, H, W)", "(C, H, W)")) == (3, 4, 5)


@pytest.mark.parametrize(
    "shape, layout, message",
    [
        ((3, 8, 8), "(N, C, H, W)", "f: expected input of 4 dimensions (N, C, H, W), got input of shape (3, 8, 8)"),
        ((), "(H, W)", "f: expected input of 2 dimensions (H, W), got input of shape ()"),
        (
            (8,),
            ("(N, C, H, W)", "(C, H, W)"),
            "f: expected input of 4 dimensions (N, C, H, W) or 3 (C, H, W), got input of shape (8,)",
        ),
    ],
)
def test_check_ndim_names_the_layout_and_the_shape(shape, layout, message):
    with pytest.raises(ValueError) as error:
        check_ndim("f", "input", shape, layout)
    assert str(error.value) == message


# --- check_index ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, size, expected",
    [(0, 1, 0), (np.int64(2), 3, 2), ((1, 2), (2, 3), (1, 2)), (0, (2, 3), (0, 0)), ([1, 0, 3], (2, 1, 4), (1, 0, 3))],
)
def test_check_index_returns_an_index_inside_the_axis(value, size, expected):
    assert check_index("f", "i", value, size) == expected


@pytest.mark.parametrize(
    "value, size, error, message",
    [
        (3, 3, ValueError, r"^f: i must be in \[0, 3\), got i=3$"),
        (-1, 3, ValueError, r"^f: i must be a non-negative int, got i=-1$"),
        (1.0, 3, TypeError, r"^f: i must be an int, got i=1.0 \(float\)$"),
        ((1, 3), (2, 3), ValueError, r"^f: i must be in \[0, 2\) x \[0, 3\), got i=\(1, 3\)$"),
        ((1, -1), (2, 3), ValueError, r"i must be non-negative, got i=\(1, -1\)"),
        ((1, 1.5), (2, 3), TypeError, r"i must be an int or a tuple of 2 ints"),
    ],
)
def test_check_index_refuses_an_index_outside_the_axis(value, size, error, message):
    with pytest.raises(error, match=message):
        check_index("f", "i", value, size)


def test_check_index_gives_the_reason_after_the_bounds():
    with pytest.raises(ValueError, match=r"^f: i must be in \[0, 3\) \(the output size\), got i=5$"):
        check_index("f", "i", 5, 3, why="the output size")


# --- check_array_shape ---------------------------------------------------------------------------------------------


def test_check_array_shape_returns_the_expected_shape():
    assert check_array_shape("f", "grad_output", np.zeros((2, 3)).shape, (2, np.int64(3))) == (2, 3)


@pytest.mark.parametrize(
    "shape, whose, message",
    [
        ((3, 2), "the input's", "f: grad_output must have the input's shape (2, 3), got grad_output of shape (3, 2)"),
        ((2, 3, 1), None, "f: grad_output must have shape (2, 3), got grad_output of shape (2, 3, 1)"),
        ((), None, "f: grad_output must have shape (2, 3), got grad_output of shape ()"),
    ],
)
def test_check_array_shape_names_the_array_and_both_shapes(shape, whose, message):
    with pytest.raises(ValueError) as error:
        check_array_shape("f", "grad_output", shape, (2, 3), whose)
    assert str(error.value) == message


# --- The modules that check through them ---------------------------------------------------------------------------


def _sites():
    """``(call, error, message)`` for each check of the package written with a primitive."""
    import torch

    import conv_tutorial.numpy.networks as npn
    import conv_tutorial.torch as ct
    from conv_tutorial.timing import best_times
    from conv_tutorial.torch import networks as tn
    from conv_tutorial.viz import draw_conv3d, draw_deform_sampling, draw_filter_volumes, draw_matrix, receptive_paths

    block = ct.BasicBlock(2, 2).eval().state_dict()
    x = torch.zeros(1, 2, 4, 4)
    offset = np.zeros((18, 3, 3))
    return [
        (
            lambda: draw_matrix(np.eye(2), "x", "y", highlight_columns=2),
            ValueError,
            r"draw_matrix: highlight_columns must be in \[0, 2\), got highlight_columns=2",
        ),
        (
            lambda: draw_matrix(np.eye(2), "x", "y", highlight_rows=[0, 1.5]),
            TypeError,
            r"draw_matrix: highlight_rows\[1\] must be an int, got highlight_rows\[1\]=1.5",
        ),
        (
            lambda: npn.relu_backward(np.ones(2), np.ones(3)),
            ValueError,
            r"relu_backward: grad_output must have the input's",
        ),
        (
            lambda: npn.max_pool2d_backward(np.ones((1, 1, 2, 1)), np.ones((1, 1, 4, 4)), 2),
            ValueError,
            r"max_pool2d_backward: grad_output must have the pooled shape \(1, 1, 2, 2\), got grad_output of shape",
        ),
        (
            lambda: npn.linear(np.ones((1, 2)), np.ones((3, 2)), np.ones(2)),
            ValueError,
            r"linear: bias must have shape \(3,\), got bias of shape \(2,\)",
        ),
        (
            lambda: npn.linear_backward(np.ones((1, 2)), np.ones((1, 2)), np.ones((3, 2))),
            ValueError,
            r"linear_backward: grad_output must have the output's shape \(1, 3\), got grad_output of shape \(1, 2\)",
        ),
        (
            lambda: receptive_paths([(3, 1), (3, 1)], 7, 3),
            ValueError,
            r"receptive_paths: output_index must be in \[0, 3\) \(the output size\), got output_index=3",
        ),
        (lambda: receptive_paths([(3, 1)], 7, 1.0), TypeError, "receptive_paths: output_index must be an int"),
        (
            lambda: draw_deform_sampling(np.zeros((5, 5)), offset, 3, output_position=(1, 3)),
            ValueError,
            r"draw_deform_sampling: output_position must be in \[0, 3\) x \[0, 3\) \(the output's size\)",
        ),
        (
            lambda: draw_deform_sampling(np.zeros((5, 5)), offset, 3, offset_group=1),
            ValueError,
            r"draw_deform_sampling: offset_group must be in \[0, 1\) \(the offset's groups\), got offset_group=1",
        ),
        (
            lambda: draw_conv3d((4, 5, 5), 3, output_position=(2, 0, 0)),
            ValueError,
            r"draw_conv3d: output_position must be in \[0, 2\) x \[0, 3\) x \[0, 3\) \(the output's size\)",
        ),
        (
            lambda: tn.ConvBNReLU(6, 8, groups=4),
            ValueError,
            "in_channels must be divisible by groups, got in_channels=6",
        ),
        (
            lambda: tn.ConvBNReLU(8, 6, groups=4),
            ValueError,
            "out_channels must be divisible by groups, got out_channels=6",
        ),
        (lambda: tn.family_network("inception"), ValueError, r"family must be one of \("),
        (lambda: tn.family_network(3), TypeError, r"family must be one of \(.*\), got family=3 \(int\)"),
        (lambda: tn.family_network("grouped", width=6, groups=4), ValueError, "width must be divisible by groups"),
        (lambda: npn.max_pool2d(np.zeros((3, 8, 8)), 2), ValueError, r"max_pool2d: expected input of 4 dimensions"),
        (
            lambda: npn.max_pool2d_backward(np.zeros((1, 1, 2)), np.zeros((2, 4, 4)), 2),
            ValueError,
            r"max_pool2d_backward: expected input of 4 dimensions \(N, C, H, W\), got input of shape \(2, 4, 4\)",
        ),
        (lambda: npn.init_cnn(0), TypeError, r"init_cnn: rng must be a numpy.random.Generator .*, got int"),
        (lambda: npn.init_cnn(np.random.default_rng(0), channels=8), TypeError, "init_cnn: channels must be a list"),
        (
            lambda: npn.init_cnn(np.random.default_rng(0), channels=(8, 16, 32)),
            ValueError,
            r"init_cnn: channels must hold 2 channel counts, got channels=\(8, 16, 32\)",
        ),
        (lambda: npn.init_cnn(np.random.default_rng(0), channels=(8, 0)), ValueError, r"init_cnn: channels\[1\]"),
        (
            lambda: npn.init_cnn(np.random.default_rng(0), image_size=6),
            ValueError,
            "init_cnn: image_size must be divisible by 4 .*, got image_size=6",
        ),
        (lambda: ct.resnet(3), TypeError, "resnet: layers must be a list or tuple of ints, got layers=3"),
        (lambda: ct.resnet([2, 2]), ValueError, r"resnet: layers must hold 4 block counts, got layers=\[2, 2\]"),
        (lambda: ct.resnet((2, 2, 2.0, 2)), TypeError, r"resnet: layers\[2\] must be an int"),
        (lambda: ct.densenet([]), ValueError, r"densenet: block_config must hold at least one block"),
        (lambda: ct.densenet((6, 0)), ValueError, r"densenet: block_config\[1\] must be a positive int"),
        (lambda: ct.densenet(compression="half"), TypeError, "densenet: compression must be a real number"),
        (
            lambda: ct.densenet(compression=2),
            ValueError,
            r"densenet: compression must be in \(0, 1\], got compression=2",
        ),
        (
            lambda: ct.residual_block(x, {**block, "conv1.weight": np.zeros((2, 2, 3, 3))}),
            TypeError,
            r"residual_block: params\['conv1.weight'\] must be a torch.Tensor, got ndarray",
        ),
        (lambda: best_times({"a": lambda: None}, clock="gpu"), ValueError, "best_times: clock must be 'wall' or 'cpu'"),
        (
            lambda: ct.ResNeXtBlock(64, 100, 256, cardinality=32),
            ValueError,
            "bottleneck_channels must be divisible by cardinality, got bottleneck_channels=100 and cardinality=32",
        ),
        (lambda: ct.ShuffleNetUnit(24, 24, groups=3, stride=3), ValueError, "stride must be 1 or 2, got stride=3"),
        (lambda: ct.ShuffleNetUnit(24, 24, groups=3, stride=2.0), TypeError, "stride must be an int"),
        (
            lambda: ct.ShuffleNetUnit(24, 48, groups=3, stride=2, first_groups=5),
            ValueError,
            "in_channels must be divisible by first_groups, got in_channels=24 and first_groups=5",
        ),
        (
            lambda: ct.SpatiallySeparableConv2d(8, 6, 3, groups=4),
            ValueError,
            "out_channels must be divisible by groups, got out_channels=6 and groups=4",
        ),
        (lambda: draw_filter_volumes("grouped", 3, 3, 5), ValueError, "draw_filter_volumes: kind must be one of"),
        (lambda: draw_filter_volumes(None, 3, 3, 5), TypeError, r"kind must be one of .*, got kind=None \(NoneType\)"),
        (
            lambda: draw_deform_sampling(np.zeros((1, 5, 5)), np.zeros((18, 3, 3)), 3),
            ValueError,
            r"draw_deform_sampling: expected image of 2 dimensions \(H, W\), got image of shape \(1, 5, 5\)",
        ),
    ]


SITES = _sites() if importlib.util.find_spec("torch") else []


@pytest.mark.skipif(not SITES, reason="the torch backend needs torch")
@pytest.mark.parametrize("call, error, message", SITES, ids=[f"site{i}" for i in range(len(SITES))])
def test_each_rewritten_check_raises_its_error_naming_the_parameter(call, error, message):
    with pytest.raises(error, match=message):
        call()
