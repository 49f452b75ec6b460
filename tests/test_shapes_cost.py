"""Output-size arithmetic and the cost model, checked against what PyTorch actually does."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import conv_layer_specs
from torch.utils.flop_counter import FlopCounterMode

from conv_tutorial import cost, shapes

CONV_MODULES = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}


@given(conv_layer_specs())
def test_conv_output_size_matches_torch(layer):
    n, size, kw = layer
    out = CONV_MODULES[n](**kw)(torch.zeros(1, kw["in_channels"], *size))
    assert shapes.conv_output_size(size, kw["kernel_size"], kw["stride"], kw["padding"], kw["dilation"]) == tuple(
        out.shape[2:]
    )


@given(conv_layer_specs(), st.data())
def test_conv_transpose_output_size_matches_torch(layer, data):
    n, size, kw = layer
    out_pad = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(kw["stride"], kw["dilation"], strict=True))
    args = (size, kw["kernel_size"], kw["stride"], kw["padding"], out_pad, kw["dilation"])
    module = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}[n]
    try:
        out = module(**kw, output_padding=out_pad)(torch.zeros(1, kw["in_channels"], *size))
    except RuntimeError:  # PyTorch refuses a non-positive output size; so does the arithmetic
        with pytest.raises(ValueError, match="output size is too small"):
            shapes.conv_transpose_output_size(*args)
        return
    assert shapes.conv_transpose_output_size(*args) == tuple(out.shape[2:])


def test_int_in_int_out_and_same_padding():
    assert shapes.conv_output_size(7, 3, dilation=2) == 3
    assert shapes.conv_output_size(7, 3) == 5
    assert shapes.conv_output_size((224, 224), 7, stride=2, padding=3) == (112, 112)
    assert shapes.conv_output_size((9, 10), (4, 3), padding="same", dilation=(1, 2)) == (9, 10)
    assert shapes.conv_output_size(9, 3, padding="valid") == 7
    assert shapes.effective_kernel_size(3, dilation=2) == 5
    assert shapes.effective_kernel_size((3, 5), (2, 1)) == (5, 5)


@given(conv_layer_specs(), st.booleans())
def test_params_equal_torch_module(layer, bias):
    n, _, kw = layer
    module = CONV_MODULES[n](**kw, bias=bias)
    expected = sum(p.numel() for p in module.parameters())
    assert cost.conv_params(kw["in_channels"], kw["out_channels"], kw["kernel_size"], kw["groups"], bias) == expected


@given(conv_layer_specs())
def test_macs_equal_half_the_flop_counter(layer):
    n, size, kw = layer
    module = CONV_MODULES[n](**kw)
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, kw["in_channels"], *size))
    macs = cost.conv_macs(
        size,
        kw["in_channels"],
        kw["out_channels"],
        kw["kernel_size"],
        kw["stride"],
        kw["padding"],
        kw["dilation"],
        kw["groups"],
    )
    assert 2 * macs == counter.get_total_flops()


@pytest.mark.parametrize(
    ("args", "params"),
    [((3, 64, 7), 9472), ((256, 256, 3), 590080), ((256, 64, 1), 16448), ((64, 64, (3, 3, 3)), 110656)],
)
def test_params_known_layers(args, params):
    assert cost.conv_params(*args) == params


@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 2), st.integers(1, 3)), min_size=1, max_size=4))
def test_receptive_field_matches_the_gradient_of_a_torch_stack(layers):
    """The input pixels that reach one output pixel of a real stack: where its gradient is non-zero."""
    size, jump = shapes.receptive_field(layers)
    modules = [torch.nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False) for k, s, d in layers]
    for m in modules:
        torch.nn.init.ones_(m.weight)  # positive weights: no gradient cancels to zero by accident
    length = size + 2 * jump + 8
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    out = torch.nn.Sequential(*modules).double()(x)
    out[0, 0, 0].backward()
    reached = torch.nonzero(x.grad[0, 0]).flatten()
    assert int(reached.max() - reached.min()) + 1 == size
    if out.shape[-1] > 1:
        x.grad = None
        out = torch.nn.Sequential(*modules).double()(x)
        out[0, 0, 1].backward()
        assert int(torch.nonzero(x.grad[0, 0]).min()) == jump
