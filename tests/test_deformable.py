"""Deformable convolution in both backends, against conv2d, each other, the loop version,
finite differences and (where importable) torchvision.

Configurations are drawn by hypothesis; comparisons are in float64 with the tolerance of
``helpers.assert_close_to_reference`` unless a test is about another dtype.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_close_to_reference
from hypothesis import given
from hypothesis import strategies as st
from strategies import deform_configs

import conv_tutorial.numpy as cnp
import conv_tutorial.torch as ct
from conv_tutorial.cost import deform_conv_macs, deform_conv_params

F64 = torch.float64


def deform_tensors(cfg, dtype=F64):
    """input, offset, weight, bias, mask as float64 torch tensors (offsets reach past the borders)."""
    gen = torch.Generator().manual_seed(cfg["seed"])
    c_in, c_out, (kh, kw) = cfg["in_channels"], cfg["out_channels"], cfg["kernel"]
    out = [
        (s + 2 * p - d * (k - 1) - 1) // st_ + 1
        for s, k, p, d, st_ in zip(
            cfg["size"],
            cfg["kernel"],
            cfg["args"]["padding"],
            cfg["args"]["dilation"],
            cfg["args"]["stride"],
            strict=True,
        )
    ]
    taps = cfg["offset_groups"] * kh * kw
    x = torch.randn(cfg["batch"], c_in, *cfg["size"], generator=gen, dtype=F64)
    offset = (2 * torch.rand(cfg["batch"], 2 * taps, *out, generator=gen, dtype=F64) - 1) * cfg["max_offset"]
    w = torch.randn(c_out, c_in // cfg["groups"], kh, kw, generator=gen, dtype=F64)
    b = torch.randn(c_out, generator=gen, dtype=F64) if cfg["bias"] else None
    mask = torch.rand(cfg["batch"], taps, *out, generator=gen, dtype=F64) if cfg["mask"] else None
    return [None if t is None else t.to(dtype) for t in (x, offset, w, b, mask)]


def _numpy(*tensors):
    return [None if t is None else t.detach().numpy() for t in tensors]


@given(deform_configs())
def test_numpy_matches_the_loop_version(cfg):
    x, offset, w, b, mask = _numpy(*deform_tensors(cfg))
    assert_close_to_reference(
        cnp.deform_conv2d(x, offset, w, b, mask=mask, **cfg["args"]),
        cnp.deform_conv2d_naive(x, offset, w, b, mask=mask, **cfg["args"]),
    )


@given(deform_configs())
def test_torch_matches_numpy(cfg):
    x, offset, w, b, mask = deform_tensors(cfg)
    ours = ct.deform_conv2d(x, offset, w, b, mask=mask, **cfg["args"])
    assert ours.dtype == F64
    assert_close_to_reference(ours, cnp.deform_conv2d(*_numpy(x, offset, w, b), mask=_numpy(mask)[0], **cfg["args"]))


@given(deform_configs())
def test_zero_offsets_and_a_unit_mask_reproduce_conv2d(cfg):
    x, offset, w, b, mask = deform_tensors(cfg)
    offset, mask = torch.zeros_like(offset), torch.ones_like(offset[:, : offset.shape[1] // 2])
    ref = F.conv2d(x, w, b, groups=cfg["groups"], **cfg["args"])
    assert_close_to_reference(ct.deform_conv2d(x, offset, w, b, mask=mask, **cfg["args"]), ref)
    assert_close_to_reference(ct.deform_conv2d(x, offset, w, b, **cfg["args"]), ref)
    assert_close_to_reference(cnp.deform_conv2d(*_numpy(x, offset, w, b), mask=mask.numpy(), **cfg["args"]), ref)


def _shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``x`` moved so that pixel ``(h, w)`` holds ``x[h + dy, w + dx]``, zeros where that is outside."""
    height, width = x.shape[-2:]
    margin = max(abs(dy), abs(dx))
    ring = F.pad(x, (margin,) * 4)
    return ring[..., margin + dy : margin + dy + height, margin + dx : margin + dx + width]


@given(deform_configs(), st.integers(-3, 3), st.integers(-3, 3))
def test_integer_offsets_reproduce_a_shifted_convolution(cfg, dy, dx):
    """Moving every tap by (dy, dx) reads the image shifted by (dy, dx): conv2d of the shifted image.

    The shift applies to the padded image: a tap moved from the padding onto the image reads the
    image, so the reference pads first, then shifts, then convolves without padding.
    """
    x, offset, w, b, _ = deform_tensors(cfg)
    offset = torch.tensor([dy, dx], dtype=F64).repeat(offset.shape[1] // 2)[None, :, None, None].expand_as(offset)
    ph, pw = cfg["args"]["padding"]
    args = {**cfg["args"], "padding": 0}
    ref = F.conv2d(_shift(F.pad(x, (pw, pw, ph, ph)), dy, dx), w, b, groups=cfg["groups"], **args)
    assert_close_to_reference(ct.deform_conv2d(x, offset, w, b, **cfg["args"]), ref)
    assert_close_to_reference(cnp.deform_conv2d(*_numpy(x, offset, w, b), **cfg["args"]), ref)


def test_one_tap_moved_by_one_pixel_reads_the_neighbour():
    """The worked example of the offset layout: channel 2k is dy of tap k, channel 2k + 1 its dx."""
    x = torch.arange(25.0, dtype=F64).reshape(1, 1, 5, 5)
    w = torch.zeros(1, 1, 3, 3, dtype=F64)
    w[0, 0, 0, 2] = 1.0  # only tap (0, 2), k = 2, contributes
    offset = torch.zeros(1, 18, 3, 3, dtype=F64)
    assert ct.deform_conv2d(x, offset, w)[0, 0, 0, 0] == x[0, 0, 0, 2]
    offset[0, 2 * 2] = 1.0  # dy of tap 2: one row down
    assert ct.deform_conv2d(x, offset, w)[0, 0, 0, 0] == x[0, 0, 1, 2]
    offset[0, 2 * 2 + 1] = -2.0  # dx of tap 2: two columns left
    assert ct.deform_conv2d(x, offset, w)[0, 0, 0, 0] == x[0, 0, 1, 0]
    assert cnp.deform_conv2d(x.numpy(), offset.numpy(), w.numpy())[0, 0, 0, 0] == x[0, 0, 1, 0]


def test_bilinear_interpolation_follows_torchvision_at_the_border():
    img = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert cnp.bilinear_interpolate(img, 0.5, 0.5) == 2.5
    assert cnp.bilinear_interpolate(img, -0.25, 0.0) == 0.75  # a quarter of the way to the zero outside
    assert cnp.bilinear_interpolate(img, 1.0, 1.5) == 2.0
    for y, x in [(-1.0, 0.0), (0.0, -1.0), (2.0, 0.0), (0.0, 2.0), (-3.0, 7.0)]:
        assert cnp.bilinear_interpolate(img, y, x) == 0.0
    # The vectorised samplers agree with the scalar rule around the border.
    points = np.linspace(-1.5, 2.5, 17)
    offset = np.zeros((1, 2, 17, 17))
    offset[0, 0], offset[0, 1] = np.meshgrid(points, points, indexing="ij")
    offset[0, 0] -= np.arange(17)[:, None]
    offset[0, 1] -= np.arange(17)[None, :]
    big = np.zeros((1, 1, 17, 17))
    big[0, 0, :2, :2] = img
    expected = np.array([[cnp.bilinear_interpolate(big[0, 0], y, x) for x in points] for y in points])
    assert_close_to_reference(cnp.deform_conv2d(big, offset, np.ones((1, 1, 1, 1)))[0, 0], expected)
    assert_close_to_reference(
        ct.deform_conv2d(torch.tensor(big), torch.tensor(offset), torch.ones(1, 1, 1, 1, dtype=F64))[0, 0], expected
    )


@given(deform_configs())
def test_float32_is_accurate_to_float32(cfg):
    tensors = deform_tensors(cfg)
    ref = ct.deform_conv2d(*tensors[:4], mask=tensors[4], **cfg["args"])
    f32 = [None if t is None else t.float() for t in tensors]
    ours = ct.deform_conv2d(*f32[:4], mask=f32[4], **cfg["args"])
    numpy = cnp.deform_conv2d(*_numpy(*f32[:4]), mask=_numpy(f32[4])[0], **cfg["args"])
    assert ours.dtype == torch.float32 and numpy.dtype == np.float32
    assert_close_to_reference(ours, ref, dtype=np.float32)
    assert_close_to_reference(numpy, ref, dtype=np.float32)


@pytest.mark.parametrize("seed", range(3))
def test_gradients_match_finite_differences(seed):
    """gradcheck with every sample away from integer positions, where bilinear weights have kinks."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 4, 5, 6, generator=gen, dtype=F64)
    w = torch.randn(4, 2, 3, 2, generator=gen, dtype=F64)
    b = torch.randn(4, generator=gen, dtype=F64)
    whole = torch.randint(-2, 3, (1, 2 * 2 * 6, 3, 4), generator=gen).to(F64)
    offset = whole + 0.2 + 0.6 * torch.rand(whole.shape, generator=gen, dtype=F64)  # fractions in [0.2, 0.8]
    mask = torch.rand(1, 2 * 6, 3, 4, generator=gen, dtype=F64)
    leaves = [t.requires_grad_() for t in (x, offset, w, b, mask)]

    def layer(x, offset, w, b, mask):
        return ct.deform_conv2d(x, offset, w, b, stride=(1, 2), padding=(0, 1), mask=mask)

    assert torch.autograd.gradcheck(layer, leaves)
    # The offsets do move samples across the border: some read zeros outside the image.
    points = cnp.deform_sampling_points(offset.detach().numpy(), (3, 2), (1, 2), (0, 1))
    assert (points[..., 0] < 0).any() and (points[..., 1] > 5).any()


def test_empty_batch_integer_input_and_nan():
    w = torch.randn(3, 2, 3, 3)
    out = ct.deform_conv2d(torch.empty(0, 2, 5, 5), torch.empty(0, 18, 3, 3), w)
    assert out.shape == (0, 3, 3, 3)
    assert cnp.deform_conv2d(np.empty((0, 2, 5, 5)), np.empty((0, 18, 3, 3)), w.numpy()).shape == (0, 3, 3, 3)
    ints = cnp.deform_conv2d(
        np.ones((1, 1, 3, 3), dtype=np.int64), np.zeros((1, 2, 3, 3), dtype=np.int64), np.ones((1, 1, 1, 1), dtype=bool)
    )
    assert ints.dtype == np.float64
    # Integers compute as float64, and float32 with float64 promotes, as in every function here.
    assert (
        ct.deform_conv2d(
            torch.ones(1, 1, 3, 3, dtype=torch.int64), torch.zeros(1, 2, 3, 3), torch.ones(1, 1, 1, 1)
        ).dtype
        == torch.float64
    )
    # A NaN pixel reaches exactly the outputs whose samples touch it.
    x = torch.zeros(1, 1, 5, 5, dtype=F64)
    x[0, 0, 0, 0] = float("nan")
    offset = torch.zeros(1, 2, 5, 5, dtype=F64)
    offset[0, :, 2, 2] = -1.5  # the sample of output (2, 2) lies between pixels (0, 0) and (1, 1)
    for out in (
        ct.deform_conv2d(x, offset, torch.ones(1, 1, 1, 1, dtype=F64)),
        torch.tensor(cnp.deform_conv2d(x.numpy(), offset.numpy(), np.ones((1, 1, 1, 1)))),
    ):
        nan = torch.isnan(out[0, 0])
        assert nan[0, 0] and nan[2, 2] and nan.sum() == 2


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m: m.deform_conv2d(m.z(2, 5, 5), m.z(1, 18, 3, 3), m.z(1, 2, 3, 3)), "expected input of 4 dimensions"),
        (
            lambda m: m.deform_conv2d(m.z(1, 2, 5, 5), m.z(1, 16, 3, 3), m.z(1, 2, 3, 3)),
            r"offset.shape\[1\] must be a positive multiple of 2 \* kH \* kW = 18",
        ),
        (
            lambda m: m.deform_conv2d(m.z(1, 2, 5, 5), m.z(1, 18, 4, 3), m.z(1, 2, 3, 3)),
            r"offset must have shape .* = \(1, 18, 3, 3\)",
        ),
        (lambda m: m.deform_conv2d(m.z(2, 2, 5, 5), m.z(1, 18, 3, 3), m.z(1, 2, 3, 3)), "offset must have shape"),
        (
            lambda m: m.deform_conv2d(m.z(1, 3, 5, 5), m.z(1, 36, 3, 3), m.z(1, 3, 3, 3)),
            "in_channels must be divisible by offset_groups",
        ),
        (
            lambda m: m.deform_conv2d(m.z(1, 3, 5, 5), m.z(1, 18, 3, 3), m.z(1, 2, 3, 3)),
            r"in_channels must be divisible by weight.shape\[1\]",
        ),
        (
            lambda m: m.deform_conv2d(m.z(1, 4, 5, 5), m.z(1, 18, 3, 3), m.z(3, 2, 3, 3)),
            "out_channels must be divisible by groups",
        ),
        (
            lambda m: m.deform_conv2d(m.z(1, 2, 5, 5), m.z(1, 18, 3, 3), m.z(1, 2, 3, 3), mask=m.z(1, 18, 3, 3)),
            r"mask must have shape .* = \(1, 9, 3, 3\)",
        ),
        (
            lambda m: m.deform_conv2d(m.z(1, 2, 5, 5), m.z(1, 18, 3, 3), m.z(1, 2, 3, 3), mask=m.z(9, 3, 3)),
            "expected mask of 4 dimensions",
        ),
        (lambda m: m.deform_conv2d(m.z(1, 2, 5, 5), m.z(1, 18, 3, 3), m.z(1, 2, 3, 3), bias=m.z(2)), "bias must have"),
        (lambda m: m.deform_conv2d(m.z(1, 2, 2, 2), m.z(1, 18, 1, 1), m.z(1, 2, 3, 3)), "smaller than the dilated"),
        (lambda m: m.deform_conv2d(m.z(1, 2, 5, 5), m.z(1, 18, 3, 3), m.z(1, 2, 3, 3), padding="same"), "padding"),
        (lambda m: m.deform_conv2d(m.z(1, 2, 5, 5), m.z(1, 18, 3, 3), m.z(1, 2, 3, 3), stride=0), "stride"),
        (lambda m: m.deform_conv2d(m.z(1, 2, 5, 5), m.z(1, 18, 3, 3), m.z(1, 2, 3, 3), dilation=(1, 1, 1)), "dilation"),
        (
            lambda m: m.deform_conv2d(
                m.z(1, 2, 5, 5).astype(np.complex128) if m.np else m.z(1, 2, 5, 5).to(torch.complex128),
                m.z(1, 18, 3, 3),
                m.z(1, 2, 3, 3),
            ),
            "input",
        ),
    ],
)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_bad_input_names_the_parameter(call, match, backend):
    class Backend:
        np = backend == "numpy"
        deform_conv2d = staticmethod(cnp.deform_conv2d if np else ct.deform_conv2d)

        @staticmethod
        def z(*shape):
            return np.zeros(shape) if backend == "numpy" else torch.zeros(shape)

    with pytest.raises((ValueError, TypeError), match=match):
        call(Backend)


def test_torch_rejects_arrays_and_mixed_devices_by_name():
    with pytest.raises(TypeError, match="offset must be a torch.Tensor"):
        ct.deform_conv2d(torch.zeros(1, 2, 5, 5), np.zeros((1, 18, 3, 3)), torch.zeros(1, 2, 3, 3))
    with pytest.raises(ValueError, match="deform_sampling_points: offset"):
        cnp.deform_sampling_points(np.zeros((1, 5, 3, 3)), 3)


# --- the module --------------------------------------------------------------------------------


@pytest.mark.parametrize("modulated", [False, True])
def test_module_starts_as_a_plain_convolution(modulated):
    torch.manual_seed(0)
    layer = ct.DeformConv2d(4, 6, 3, stride=2, padding=1, groups=2, offset_groups=2, modulated=modulated).double()
    x = torch.randn(2, 4, 7, 7, dtype=F64)
    conv = F.conv2d(x, layer.weight, None, stride=2, padding=1, groups=2)
    # DCNv2's mask starts at sigmoid(0) = 0.5 (Zhu et al. 2019): half the convolution.
    scale = 0.5 if modulated else 1.0
    assert_close_to_reference(layer(x), scale * conv + layer.bias.reshape(-1, 1, 1))
    offset, mask = layer.offsets_and_mask(x)
    assert_close_to_reference(layer(x), ct.deform_conv2d(x, offset, layer.weight, layer.bias, 2, 1, 1, mask))
    assert offset.shape == (2, 2 * 2 * 9, 4, 4) and not offset.any()
    assert (mask is None) != modulated
    # The predictor starts at zero, yet its gradient does not vanish: training can move the taps.
    layer(x).square().sum().backward()
    assert layer.offset_weight.grad.abs().max() > 0


@pytest.mark.parametrize("args", [dict(), dict(groups=2, offset_groups=2, modulated=True), dict(bias=False)])
def test_module_parameters_equal_the_cost_model(args):
    layer = ct.DeformConv2d(4, 8, (3, 2), **args)
    assert sum(p.numel() for p in layer.parameters()) == deform_conv_params(4, 8, (3, 2), **args)


def test_deform_conv_macs_adds_predictor_and_sampling_to_the_convolution():
    from conv_tutorial.cost import conv_macs

    base = conv_macs((10, 12), 4, 8, 3, 2, 1)
    predictor = conv_macs((10, 12), 4, 18, 3, 2, 1)
    samples = 9 * 5 * 6  # taps x output pixels
    assert deform_conv_macs((10, 12), 4, 8, 3, 2, 1) == base + predictor + 4 * 4 * samples
    predictor = conv_macs((10, 12), 4, 27, 3, 2, 1)
    assert deform_conv_macs((10, 12), 4, 8, 3, 2, 1, modulated=True) == base + predictor + 5 * 4 * samples
    with pytest.raises(ValueError, match="offset_groups"):
        deform_conv_params(4, 8, 3, offset_groups=3)


@pytest.mark.parametrize(
    "args, match",
    [
        (dict(groups=3), "divisible by groups"),
        (dict(offset_groups=3), "divisible by offset_groups"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(offset_groups=0), "offset_groups must be a positive int"),
    ],
)
def test_module_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        ct.DeformConv2d(4, 6, **{"kernel_size": 3, **args})


# --- torchvision and CUDA, where present -------------------------------------------------------


@given(deform_configs(max_offset=4.0))
def test_both_backends_match_torchvision(cfg):
    torchvision = pytest.importorskip("torchvision", reason="torchvision is not importable here")
    x, offset, w, b, mask = deform_tensors(cfg)
    ref = torchvision.ops.deform_conv2d(x, offset, w, b, mask=mask, **cfg["args"])
    assert_close_to_reference(ct.deform_conv2d(x, offset, w, b, mask=mask, **cfg["args"]), ref)
    assert_close_to_reference(cnp.deform_conv2d(*_numpy(x, offset, w, b), mask=_numpy(mask)[0], **cfg["args"]), ref)
    # Gradients too, at offsets away from integers (almost surely, for offsets drawn uniformly).
    leaves = [t.requires_grad_() for t in (x, offset, w, mask) if t is not None]
    grad_out = torch.randn_like(ref)
    ours = torch.autograd.grad(ct.deform_conv2d(x, offset, w, b, mask=mask, **cfg["args"]), leaves, grad_out)
    theirs = torch.autograd.grad(
        torchvision.ops.deform_conv2d(x, offset, w, b, mask=mask, **cfg["args"]), leaves, grad_out
    )
    for a, r in zip(ours, theirs, strict=True):
        assert_close_to_reference(a, r)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda_like_on_cpu():
    cfg = dict(
        batch=2,
        in_channels=4,
        out_channels=6,
        groups=2,
        offset_groups=2,
        size=(9, 8),
        kernel=(3, 3),
        args=dict(stride=(2, 1), padding=(1, 1), dilation=(1, 2)),
        bias=True,
        mask=True,
        max_offset=3.0,
        seed=0,
    )
    cpu = deform_tensors(cfg)
    cuda = [t.cuda() for t in cpu]
    out = ct.deform_conv2d(*cuda[:4], mask=cuda[4], **cfg["args"])
    assert out.device.type == "cuda"
    assert_close_to_reference(out, ct.deform_conv2d(*cpu[:4], mask=cpu[4], **cfg["args"]))


def test_sampling_picture_draws_the_points_the_convolution_reads():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from conv_tutorial.viz import draw_deform_sampling

    offset = np.zeros((1, 18, 3, 3))
    offset[0, 2 * 5 + 1, 1, 2] = -0.5  # tap 5 = (1, 2): dx half a pixel left, at output (1, 2)
    mask = np.full((1, 9, 3, 3), 0.5)
    fig = draw_deform_sampling(np.zeros((5, 5)), offset, 3, output_position=(1, 2), mask=mask)
    regular, samples = fig.axes[0].collections
    expected = cnp.deform_sampling_points(offset, 3)[0, 0, :, :, 1, 2].reshape(-1, 2)[:, ::-1]  # (x, y)
    np.testing.assert_array_equal(samples.get_offsets(), expected)
    np.testing.assert_array_equal(regular.get_offsets()[5], [4.0, 2.0])  # x = j + kj, y = i + ki
    np.testing.assert_array_equal(samples.get_offsets()[5], [3.5, 2.0])
    plt.close(fig)
    for kwargs, match in [(dict(output_position=(3, 0)), "output_position"), (dict(offset_group=1), "offset_group")]:
        with pytest.raises(ValueError, match=match):
            draw_deform_sampling(np.zeros((5, 5)), offset, 3, **kwargs)
    with pytest.raises(ValueError, match="image"):
        draw_deform_sampling(np.zeros((1, 5, 5)), offset, 3)
