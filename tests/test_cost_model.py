"""The cost model of every type (cost.layer_table and the *_bytes functions), against torch itself.

Each row of ``layer_table`` names the torch layer it describes; the tests build that layer from
its description and check its parameter count, its output shape, the FLOPs
``torch.utils.flop_counter`` counts (twice the MACs) and the bytes its steps read and write,
measured from the tensors a step-by-step run touches. The composite types are also counted on
native ``torch.nn`` equivalents, where torch counts convolutions by its own formula.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import conv_tutorial.torch as ct
from conv_tutorial import cost
from conv_tutorial.torch.im2col import native_convolutions

#: What the "torch" descriptions may name: torch.nn as ``nn`` and conv_tutorial.torch's modules.
NAMESPACE = {"nn": nn, **{name: getattr(ct, name) for name in ct.__all__}}
VIDEO = ("3D", "(2+1)D")


def build(row) -> nn.Module:
    return eval(row["torch"], NAMESPACE)  # the descriptions are the package's own strings


def layer_input(row, spec, dtype=torch.float32):
    size = spec["input_size"] if isinstance(spec["input_size"], tuple) else (spec["input_size"],) * 2
    frames = (spec.get("frames", 8),) if row["type"] in VIDEO else ()
    return torch.randn(spec.get("batch", 1), spec["in_channels"], *frames, *size, dtype=dtype)


def counted_flops(module, x) -> int:
    # The module's native twin: its convolutions on torch's own ops, which the counter knows.
    with FlopCounterMode(display=False) as counter, torch.no_grad(), native_convolutions():
        module(x)
    return counter.get_total_flops()


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def sampling_macs(row, spec) -> int:
    """The bilinear sampling of the deformable row: elementwise work, which torch does not count."""
    kernel = spec.get("kernel_size", 3)
    return 4 * spec["in_channels"] * kernel * kernel * row["output"][1] * row["output"][2] * spec.get("batch", 1)


SPECS = [
    dict(input_size=10, in_channels=8, out_channels=8, batch=2, reduction=4, frames=4),
    dict(
        input_size=(9, 12),
        in_channels=6,
        out_channels=12,
        kernel_size=5,
        stride=2,
        groups=3,
        dilation=3,
        frames=3,
        reduction=2,
    ),
    dict(
        input_size=7, in_channels=4, out_channels=8, kernel_size=1, groups=2, dilation=1, frames=2, reduction=1, batch=3
    ),
]


@pytest.mark.parametrize("spec", SPECS)
def test_rows_describe_their_torch_layer(spec):
    rows = cost.layer_table(**spec)
    assert [row["type"] for row in rows] == list(cost.TYPES)
    for row in rows:
        module = build(row)
        x = layer_input(row, spec)
        assert n_params(module) == row["params"], row["type"]
        assert tuple(module(x).shape) == (spec.get("batch", 1), *row["output"]), row["type"]
        uncounted = sampling_macs(row, spec) if row["type"] == "deformable" else 0
        assert counted_flops(module, x) == 2 * (row["macs"] - uncounted), row["type"]
        assert row["intensity"] == pytest.approx(2 * row["macs"] / row["bytes"], rel=1e-15)


def native_equivalent(row, spec) -> nn.Module | None:
    """The composite types as torch.nn layers in sequence (no equivalent for deformable here)."""
    ci, co, k = spec["in_channels"], spec["out_channels"], spec.get("kernel_size", 3)
    s, p = spec.get("stride", 1), k // 2
    size = spec["input_size"] if isinstance(spec["input_size"], tuple) else (spec["input_size"],) * 2
    if row["type"] == "spatially separable":
        return nn.Sequential(nn.Conv2d(ci, co, (k, 1), (s, 1), (p, 0)), nn.Conv2d(co, co, (1, k), (1, s), (0, p)))
    if row["type"] == "depthwise separable":
        return nn.Sequential(nn.Conv2d(ci, ci, k, s, p, groups=ci), nn.Conv2d(ci, co, 1))
    if row["type"] == "(2+1)D":
        mid = cost.conv2plus1d_mid_channels(ci, co, k)
        return nn.Sequential(
            nn.Conv3d(ci, mid, (1, k, k), (1, s, s), (0, p, p), bias=False),
            nn.BatchNorm3d(mid),
            nn.ReLU(),
            nn.Conv3d(mid, co, (k, 1, 1), 1, (p, 0, 0), bias=False),
        )
    if row["type"] == "GDC":
        return nn.Conv2d(ci, ci, size, groups=ci, bias=False)
    return None


@pytest.mark.parametrize("spec", SPECS)
def test_composite_types_against_native_torch_layers(spec):
    for row in cost.layer_table(**spec):
        native = native_equivalent(row, spec)
        if native is None:
            continue
        x = layer_input(row, spec)
        assert n_params(native) == row["params"], row["type"]
        assert counted_flops(native, x) == 2 * row["macs"], row["type"]


class Traffic:
    """Bytes read and written by the weighted and pooling layers of a module, measured with hooks."""

    def __init__(self, module):
        self.bytes = 0
        for leaf in module.modules():
            if isinstance(leaf, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear, nn.AdaptiveAvgPool2d)):
                leaf.register_forward_hook(self.hook)

    def hook(self, layer, inputs, output):
        weight = layer.weight.numel() if hasattr(layer, "weight") else 0
        self.bytes += (inputs[0].numel() + weight + output.numel()) * output.element_size()


class StepwiseSE(nn.Module):
    """Squeeze-and-excitation in its four steps; the rescaling reads the map and the gates again."""

    def __init__(self, channels, reduction):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1, self.fc2 = nn.Linear(channels, channels // reduction), nn.Linear(channels // reduction, channels)
        self.rescale_bytes = 0

    def forward(self, x):
        gates = torch.sigmoid(self.fc2(torch.relu(self.fc1(self.pool(x).flatten(1)))))
        self.rescale_bytes = (2 * x.numel() + gates.numel()) * x.element_size()
        return x * gates[:, :, None, None]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("itemsize", [4, 8])
def test_bytes_are_what_the_steps_read_and_write(spec, itemsize):
    dtype = {4: torch.float32, 8: torch.float64}[itemsize]
    rows = {row["type"]: row for row in cost.layer_table(**spec, itemsize=itemsize)}
    for name, row in rows.items():
        x = layer_input(row, spec, dtype)
        if name == "deformable":
            layer = build(row).to(dtype)
            offset, mask = layer.offsets_and_mask(x)
            y = layer(x)
            predictor = x.numel() + layer.offset_weight.numel() + offset.numel()
            main = x.numel() + offset.numel() + layer.weight.numel() + y.numel()
            assert row["bytes"] == (predictor + main) * itemsize
            continue
        if name == "SE":
            se = StepwiseSE(spec["in_channels"], spec.get("reduction", 16)).to(dtype)
            traffic = Traffic(se)
            se(x)
            assert row["bytes"] == traffic.bytes + se.rescale_bytes
            continue
        module = native_equivalent(row, spec) or build(row)
        module = module.to(dtype)
        traffic = Traffic(module)
        module(x)
        assert row["bytes"] == traffic.bytes, name


def test_depthwise_separable_chapter_numbers():
    rows = {row["type"]: row for row in cost.layer_table(56, 128, 128)}
    assert rows["standard"]["params"] == cost.conv_params(128, 128, 3) == 147_584
    assert rows["depthwise separable"]["params"] == cost.separable_conv_params(128, 128, 3)
    # Depthwise is the least intense convolution: memory-bound on every processor.
    convs = [name for name in cost.TYPES if name not in ("SE", "GDC")]
    assert min(convs, key=lambda name: rows[name]["intensity"]) == "depthwise"


@given(
    input_size=st.integers(3, 64),
    in_channels=st.integers(1, 8),
    out_factor=st.integers(1, 4),
    kernel_size=st.sampled_from([1, 3, 5]),
    stride=st.integers(1, 3),
    batch=st.integers(1, 16),
    itemsize=st.sampled_from([2, 4, 8]),
    dilation=st.integers(1, 3),
    frames=st.integers(1, 8),
)
def test_rows_agree_with_the_individual_functions(
    input_size, in_channels, out_factor, kernel_size, stride, batch, itemsize, dilation, frames
):
    groups, reduction = in_channels, 1  # groups divides both channel counts; C // r >= 1
    ci, co, k, s, p, d = in_channels, in_channels * out_factor, kernel_size, stride, kernel_size // 2, dilation
    size = (input_size, input_size)
    clip, clip_stride = (frames, *size), (1, s, s)
    traffic = dict(batch=batch, itemsize=itemsize)
    expected = {
        "standard": (
            cost.conv_params(ci, co, k),
            cost.conv_macs(size, ci, co, k, s, p),
            cost.conv_bytes(size, ci, co, k, s, p, **traffic),
        ),
        "pointwise": (
            cost.conv_params(ci, co, 1),
            cost.conv_macs(size, ci, co, 1, s),
            cost.conv_bytes(size, ci, co, 1, s, **traffic),
        ),
        "spatially separable": (
            cost.spatially_separable_conv_params(ci, co, k),
            cost.spatially_separable_conv_macs(size, ci, co, k, s, p),
            cost.spatially_separable_conv_bytes(size, ci, co, k, s, p, **traffic),
        ),
        "depthwise": (
            cost.depthwise_conv_params(ci, k),
            cost.depthwise_conv_macs(size, ci, k, s, p),
            cost.conv_bytes(size, ci, ci, k, s, p, groups=ci, **traffic),
        ),
        "depthwise separable": (
            cost.separable_conv_params(ci, co, k),
            cost.separable_conv_macs(size, ci, co, k, s, p),
            cost.separable_conv_bytes(size, ci, co, k, s, p, **traffic),
        ),
        "grouped": (
            cost.conv_params(ci, co, k, groups),
            cost.conv_macs(size, ci, co, k, s, p, groups=groups),
            cost.conv_bytes(size, ci, co, k, s, p, groups=groups, **traffic),
        ),
        "dilated": (
            cost.conv_params(ci, co, k),
            cost.conv_macs(size, ci, co, k, s, d * p, d),
            cost.conv_bytes(size, ci, co, k, s, d * p, d, **traffic),
        ),
        "transposed": (
            cost.conv_params(ci, co, k),
            cost.conv_transpose_macs(size, ci, co, k),
            cost.conv_transpose_bytes(size, ci, co, k, s, p, s - 1, **traffic),
        ),
        "3D": (
            cost.conv_params(ci, co, (k, k, k)),
            cost.conv_macs(clip, ci, co, k, clip_stride, p),
            cost.conv_bytes(clip, ci, co, (k, k, k), clip_stride, p, **traffic),
        ),
        "(2+1)D": (
            cost.conv2plus1d_params(ci, co, k),
            cost.conv2plus1d_macs(clip, ci, co, k, clip_stride, p),
            cost.conv2plus1d_bytes(clip, ci, co, k, clip_stride, p, **traffic),
        ),
        "deformable": (
            cost.deform_conv_params(ci, co, k),
            cost.deform_conv_macs(size, ci, co, k, s, p),
            cost.deform_conv_bytes(size, ci, co, k, s, p, **traffic),
        ),
        "SE": (
            cost.squeeze_excitation_params(ci, reduction),
            cost.squeeze_excitation_macs(ci, reduction),
            cost.squeeze_excitation_bytes(ci, size, reduction, **traffic),
        ),
        "GDC": (
            cost.global_depthwise_params(ci, size),
            cost.global_depthwise_macs(ci, size),
            cost.global_depthwise_bytes(ci, size, **traffic),
        ),
    }
    rows = cost.layer_table(input_size, ci, co, k, s, batch, itemsize, groups, d, frames, reduction)
    assert [row["type"] for row in rows] == list(expected)
    for row in rows:
        params, macs, nbytes = expected[row["type"]]
        assert (row["params"], row["macs"], row["bytes"]) == (params, batch * macs, nbytes), row["type"]
        assert row["intensity"] == 2 * row["macs"] / row["bytes"]


@settings(max_examples=25)
@given(
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    groups=st.integers(1, 3),
    size=st.integers(1, 6),
    batch=st.integers(0, 3),
    data=st.data(),
)
def test_conv_transpose_bytes_match_torch_tensors(kernel, stride, padding, groups, size, batch, data):
    dilation = data.draw(st.integers(1, 2))
    out_pad = data.draw(st.integers(0, max(stride, dilation) - 1))
    ci, co = groups * data.draw(st.integers(1, 3)), groups * data.draw(st.integers(1, 3))
    layer = nn.ConvTranspose2d(ci, co, kernel, stride, padding, out_pad, groups, dilation=dilation)
    args = (size, ci, co, kernel, stride, padding, out_pad, groups, dilation, batch)
    try:
        layer(torch.zeros(1, ci, size, size))  # torch checks the output size only for a non-empty batch
    except RuntimeError:
        # torch refuses a non-positive output size; so does the cost model.
        with pytest.raises(ValueError, match="output size is too small"):
            cost.conv_transpose_bytes(*args)
        return
    x = torch.zeros(batch, ci, size, size)
    expected = 4 * (x.numel() + layer.weight.numel() + layer(x).numel())
    assert cost.conv_transpose_bytes(*args) == expected
    with FlopCounterMode(display=False) as counter:
        layer(x)
    assert counter.get_total_flops() == 2 * batch * cost.conv_transpose_macs(size, ci, co, kernel, groups)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: cost.layer_table(56, 130, 128), "in_channels must be divisible by groups"),
        (lambda: cost.layer_table(56, 128, 128, groups=3), "in_channels must be divisible by groups"),
        (lambda: cost.layer_table(56, 0, 128), "in_channels must be a positive int"),
        (lambda: cost.layer_table(56, 128, 128, kernel_size=0), "kernel_size must be a positive int"),
        (lambda: cost.layer_table(56, 128, 128, itemsize=3), "itemsize must be 1, 2, 4 or 8"),
        (lambda: cost.layer_table(56, 128, 128, batch=-1), "batch must be a non-negative int"),
        (lambda: cost.layer_table(56, 8, 8, reduction=16), "channels // reduction must be at least 1"),
        (lambda: cost.layer_table(0, 8, 8, reduction=1), "input_size must be positive"),
        (lambda: cost.conv_transpose_bytes(4, 8, 8, 3, stride=2, output_padding=2), "output padding must be smaller"),
        (lambda: cost.separable_conv_bytes(8, 4, 4, 3, batch=-2), "batch must be a non-negative int"),
        (lambda: cost.spatially_separable_conv_bytes(8, 4, 6, 3, groups=4), "out_channels must be divisible by groups"),
        (lambda: cost.conv2plus1d_bytes(8, 4, 4, 3, mid_channels=0), "mid_channels must be a positive int"),
        (lambda: cost.deform_conv_bytes(8, 6, 6, 3, offset_groups=4), "in_channels must be divisible by offset_groups"),
        (lambda: cost.squeeze_excitation_bytes(8, 4, reduction=0), "reduction must be a positive int"),
        (lambda: cost.global_depthwise_bytes(8, (0, 3)), "spatial_size must be positive"),
    ],
)
def test_bad_arguments_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_types_are_type_errors():
    with pytest.raises(TypeError, match="stride must be an int, got stride=1.5"):
        cost.layer_table(56, 128, 128, stride=1.5)
    with pytest.raises(TypeError, match="input_size must be an int or a tuple of 2 ints"):
        cost.layer_table((5, 5, 5), 8, 8, reduction=1)
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of 2 ints"):
        cost.deform_conv_bytes(8, 4, 4, (3, 3, 3))
