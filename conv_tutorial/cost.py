"""What a convolution costs: parameters, multiply-accumulates, memory traffic, arithmetic intensity.

Pure arithmetic on layer specifications (no arrays). Every type of the book is a *plan*: a
sequence of steps, each a convolution with its geometry (``Conv``), a batch norm (``BatchNorm``)
or a step that only moves data, such as pooling or gating (``Elementwise``); one function,
``price``, prices any plan. Each public function checks its arguments, builds the plan of its type
and prices it; :func:`layer_table` puts every type side by side for one layer. One convention,
used throughout:

- **parameters** count every weight plus one bias per output channel when there is a bias (and
  the scale and shift of a batch norm inside a block); equal to
  ``sum(p.numel() for p in module.parameters())`` of the equivalent torch module;
- **MACs** count the multiply-accumulates of the weights: one MAC is one multiplication and one
  addition, so ``FLOPs = 2 * MACs``. Bias additions, activations and normalisations are not
  counted (they are ``1 / (C_in/g * k)`` of the work or less, and ``torch.utils.flop_counter``
  does not count them either); counts are per image (per clip for video) unless a ``batch``
  argument says otherwise;
- **bytes** (``*_bytes``) are the floor of the memory traffic: every step of a layer reads its
  input and its weights once and writes its output once, ``itemsize`` bytes per number (4 for
  float32). A layer made of several steps (depthwise then pointwise, column then row, ...)
  moves the sum of its steps' bytes: the intermediate tensor is written and read back, as it is
  unless the steps are fused. Biases are left out (a few numbers per channel);
- **arithmetic intensity** is FLOPs per byte, ``2 * MACs / bytes`` for the same batch: the
  roofline model's x-axis.

The arguments mean the same in every function: ``in_channels``, ``out_channels``, ``groups``,
``kernel_size``, ``stride``, ``padding`` (also ``'valid'`` or ``'same'`` where a single convolution
takes it) and ``dilation`` as in ``torch.nn.Conv2d``; ``input_size`` is the spatial size of the
input (``(H, W)`` in 2D). A size given as an int means the same along every spatial axis: ``ndim``
of them where the function takes ``ndim``, else as many as any tuple argument has, else 2.
``batch`` counts images (clips), ``itemsize`` the bytes per number (4 for float32, 8 for float64,
2 for float16).

A standard convolution layer ``C_in -> C_out`` with kernel ``K`` (a tuple, one entry per spatial
axis) and ``groups = g`` has ``C_out * C_in/g * prod(K)`` weights, and each of its
``C_out * prod(O)`` output values takes ``C_in/g * prod(K)`` MACs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from ._checks import _non_negative, _positive, check_flag, check_positive_int, to_tuple
from .shapes import conv_output_size, conv_transpose_output_size

__all__ = [
    "TYPES",
    "arithmetic_intensity",
    "batch_norm_params",
    "conv2plus1d_bytes",
    "conv2plus1d_macs",
    "conv2plus1d_mid_channels",
    "conv2plus1d_params",
    "conv_bytes",
    "conv_macs",
    "conv_params",
    "conv_transpose_bytes",
    "conv_transpose_macs",
    "deform_conv_bytes",
    "deform_conv_macs",
    "deform_conv_params",
    "depthwise_conv_macs",
    "depthwise_conv_params",
    "global_depthwise_bytes",
    "global_depthwise_macs",
    "global_depthwise_params",
    "layer_table",
    "memory_access_cost",
    "separable_conv_bytes",
    "separable_conv_macs",
    "separable_conv_params",
    "spatially_separable_conv_bytes",
    "spatially_separable_conv_macs",
    "spatially_separable_conv_params",
    "squeeze_excitation_bytes",
    "squeeze_excitation_macs",
    "squeeze_excitation_params",
    "stack_macs",
    "stack_params",
]


@dataclass(frozen=True)
class Conv:
    """A convolution step (transposed when ``transposed``), its geometry as tuples, one entry per axis.

    Without an ``input_size`` the step runs on one window of its kernel (one output per axis):
    enough for its parameters, which do not depend on the input.
    """

    in_channels: int
    out_channels: int
    input_size: tuple | None
    kernel_size: tuple
    stride: tuple | int = 1
    padding: tuple | int | str = 0
    dilation: tuple | int = 1
    groups: int = 1
    bias: bool = False
    transposed: bool = False
    output_padding: tuple | int = 0
    output_size: tuple = field(init=False)

    def __post_init__(self):
        size = self.input_size or self.kernel_size
        geometry = (size, self.kernel_size, self.stride, self.padding)
        out = (
            conv_transpose_output_size(*geometry, self.output_padding, self.dilation)
            if self.transposed
            else conv_output_size(*geometry, self.dilation)
        )
        object.__setattr__(self, "output_size", out)

    @property
    def weights(self) -> int:
        return self.out_channels * (self.in_channels // self.groups) * math.prod(self.kernel_size)

    @property
    def params(self) -> int:
        return self.weights + (self.out_channels if self.bias else 0)

    @property
    def macs(self) -> int:  # per output value (per input value when transposed), C_in/g * prod(K) of them
        return self.weights * math.prod((self.input_size or self.kernel_size) if self.transposed else self.output_size)

    @property
    def moved(self) -> int:  # the input read and the output written, per image
        size = self.input_size or self.kernel_size
        return self.in_channels * math.prod(size) + self.out_channels * math.prod(self.output_size)

    @property
    def output(self) -> tuple:
        return (self.out_channels, *self.output_size)


@dataclass(frozen=True)
class BatchNorm:
    """A batch norm of ``channels``: a scale and a shift each, fused into the step before (no traffic)."""

    channels: int
    macs = moved = weights = 0
    output = None

    @property
    def params(self) -> int:
        return 2 * self.channels


@dataclass(frozen=True)
class Elementwise:
    """A step without weights (pooling, gating, reading offsets back): ``moved`` numbers per image."""

    moved: int
    macs: int = 0
    output: tuple | None = None
    params = weights = 0


class Cost(NamedTuple):
    params: int
    macs: int  # for the batch
    bytes: int  # for the batch
    intensity: float  # FLOPs per byte
    output: tuple | None  # the output shape of one image: that of the last step that has one


def price(plan, batch=1, itemsize=4) -> Cost:
    """Parameters, MACs, bytes and intensity of a plan: a sequence of ``Conv``, ``BatchNorm``, ``Elementwise`` steps."""
    macs = batch * sum(step.macs for step in plan)
    nbytes = itemsize * sum(batch * step.moved + step.weights for step in plan)
    output = [step.output for step in plan if step.output is not None]
    return Cost(
        sum(step.params for step in plan),
        macs,
        nbytes,
        2 * macs / nbytes if nbytes else 0.0,
        output[-1] if output else None,
    )


# The input_size of a plan built for its parameters only: each step runs on one window of its kernel.
_WINDOW = object()


def _check_channels(in_channels, out_channels, groups):
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        check_positive_int(None, name, value)
    if in_channels % groups:
        raise ValueError(f"in_channels must be divisible by groups, got in_channels={in_channels} and groups={groups}")
    if out_channels % groups:
        raise ValueError(
            f"out_channels must be divisible by groups, got out_channels={out_channels} and groups={groups}"
        )


def _check_traffic(batch, itemsize):
    check_positive_int(None, "batch", batch, minimum=0)
    if check_positive_int(None, "itemsize", itemsize) not in (1, 2, 4, 8):
        raise ValueError(f"itemsize must be 1, 2, 4 or 8 bytes, got itemsize={itemsize!r}")


def _ndim(ndim, *sizes) -> int:
    """Number of spatial axes: ``ndim`` if given (1, 2 or 3), else the length of any tuple argument, else 2."""
    lengths = {len(v) for v in sizes if isinstance(v, (tuple, list))}
    if len(lengths) > 1:
        raise ValueError(f"tuple arguments must have the same length, got lengths {sorted(lengths)}")
    if ndim is not None:
        if check_positive_int(None, "ndim", ndim) > 3:
            raise ValueError(f"ndim must be 1, 2 or 3 (the spatial axes of conv1d, conv2d, conv3d), got ndim={ndim}")
        return int(ndim)
    return lengths.pop() if lengths else 2


def _geometry(n, input_size, kernel_size, stride, padding, dilation):
    """``(input_size, kernel_size, stride, padding, dilation)`` as tuples of ``n`` (``padding`` may stay a string)."""
    return (
        to_tuple(input_size, n, "input_size"),
        to_tuple(kernel_size, n, "kernel_size"),
        to_tuple(stride, n, "stride"),
        padding if isinstance(padding, str) else to_tuple(padding, n, "padding"),
        to_tuple(dilation, n, "dilation"),
    )


def _output_size(input_size, kernel_size, stride, padding, dilation, n=2):
    return conv_output_size(*_geometry(n, input_size, kernel_size, stride, padding, dilation))


def _layer(in_channels, out_channels, kernel_size, groups=1, bias=True, ndim=None):
    """A convolution step on one window, checked as :func:`conv_params` checks its arguments."""
    _check_channels(in_channels, out_channels, groups)
    kernel = _positive(kernel_size, _ndim(ndim, kernel_size), "kernel_size")
    return Conv(in_channels, out_channels, None, kernel, groups=groups, bias=check_flag(None, "bias", bias))


def _conv(
    input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, ndim=None, bias=False
):
    """A convolution step on ``input_size``, checked as :func:`conv_macs` checks its arguments."""
    _check_channels(in_channels, out_channels, groups)
    n = _ndim(ndim, input_size, kernel_size, stride, padding, dilation)
    return Conv(
        in_channels, out_channels, *_geometry(n, input_size, kernel_size, stride, padding, dilation), groups, bias
    )


def conv_params(in_channels, out_channels, kernel_size, groups=1, bias=True, ndim=None):
    """Number of learnable parameters of a convolution layer.

    ``C_out * (C_in / groups) * prod(kernel_size) + (C_out if bias else 0)``; equal to
    ``sum(p.numel() for p in torch.nn.Conv2d(...).parameters())``.

    Examples
    --------
    >>> conv_params(3, 64, 7, bias=False)      # ResNet-50's first layer
    9408
    >>> conv_params(256, 256, 3, groups=8)
    73984
    """
    return price([_layer(in_channels, out_channels, kernel_size, groups, bias, ndim)]).params


def conv_macs(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, ndim=None):
    """Multiply-accumulates of one convolution over one input (batch size 1).

    ``C_out * prod(O) * (C_in / groups) * prod(kernel_size)`` with ``O`` the output size from
    :func:`conv_tutorial.shapes.conv_output_size`. Multiply by the batch size for a batch; the
    FLOP count is twice this.

    Examples
    --------
    >>> conv_macs(224, 3, 64, 7, stride=2, padding=3)   # ResNet-50's first layer
    118013952
    >>> conv_macs((32,), 1, 6, 5)                        # a 1D convolution
    840
    """
    return price(
        [_conv(input_size, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, ndim)]
    ).macs


def conv_bytes(
    input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, batch=1, itemsize=4
):
    """Bytes a convolution must move at least: read the input and the weights once, write the output once.

    ``itemsize * (batch * (C_in prod(I) + C_out prod(O)) + weights)``; ``itemsize`` is 4 for
    float32, 8 for float64, 2 for float16. This is the floor of the memory traffic (a cache that
    holds everything); real kernels move more.

    Examples
    --------
    >>> conv_bytes(56, 128, 128, 3, padding=1, groups=128, batch=8)   # a MobileNet depthwise layer
    25694720
    """
    _check_channels(in_channels, out_channels, groups)
    _check_traffic(batch, itemsize)
    step = _conv(input_size, in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
    _ndim(len(step.kernel_size))  # the weights are counted for 1, 2 or 3 axes, as conv_params counts them
    return price([step], batch, itemsize).bytes


def arithmetic_intensity(
    input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, batch=1, itemsize=4
):
    """FLOPs per byte moved: ``2 * batch * conv_macs / conv_bytes``.

    The roofline model's convention: FLOPs (2 per MAC) over the bytes of :func:`conv_bytes`. A
    processor doing ``P`` FLOP/s with memory bandwidth ``B`` byte/s is limited by memory for
    layers whose intensity is below ``P / B`` (tens of FLOPs per byte on a CPU): their time is
    the bytes over ``B``, whatever the FLOPs.

    Examples
    --------
    >>> round(arithmetic_intensity(56, 128, 128, 3, padding=1, groups=128, batch=8), 2)   # depthwise
    2.25
    >>> round(arithmetic_intensity(56, 128, 128, 1, batch=8), 1)                          # pointwise
    31.9
    """
    _check_traffic(batch, itemsize)
    step = _conv(input_size, in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
    _ndim(len(step.kernel_size))
    return price([step], batch, itemsize).intensity


def memory_access_cost(
    input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, ndim=None
):
    """Memory access cost of one convolution over one image, in elements (ShuffleNet V2's MAC).

    Ma et al. (2018) count the numbers a layer must move between memory and the processor,
    assuming the cache holds a whole feature map and the weights: the input is read once, the
    output written once and every weight read once::

        MAC = C_in * prod(I) + C_out * prod(O) + C_out * (C_in / g) * prod(K)

    Multiply by the element size (4 bytes in float32) for bytes. For a 1x1 convolution on an
    ``h x w`` map (``O = I``) this is the paper's ``hw(c1 + c2) + c1 c2 / g``; with the FLOPs
    ``B = hw c1 c2 / g`` held fixed it becomes ``hw c1 + B g / c1 + B / (hw)``, which grows with
    ``g``: guideline G2, "excessive group convolution increases MAC". (This MAC is *memory access
    cost*, not the multiply-accumulates of :func:`conv_macs`.)

    Examples
    --------
    >>> memory_access_cost(56, 128, 128, 1)              # hw(c1 + c2) + c1 c2 = 3136 * 256 + 16384
    819200
    >>> memory_access_cost(56, 360, 360, 1, groups=8)    # about the same FLOPs with g = 8: more MAC
    2274120
    """
    # The same count as conv_bytes, in elements rather than bytes, for one image.
    n = _ndim(ndim, input_size, kernel_size, stride, padding, dilation)
    return conv_bytes(
        to_tuple(input_size, n, "input_size"),
        in_channels,
        out_channels,
        to_tuple(kernel_size, n, "kernel_size"),
        stride,
        padding,
        dilation,
        groups,
        batch=1,
        itemsize=1,
    )


def _stack_layers(layers):
    """Each layer as a tuple of ``torch.nn.Conv2d``'s first seven arguments, checked."""
    try:
        layers = list(layers)
    except TypeError:
        raise TypeError(
            f"layers must be a sequence of (in_channels, out_channels, kernel_size, ...) tuples, got layers={layers!r}"
        ) from None
    if not layers:
        raise ValueError("layers must hold at least one layer, got an empty sequence")
    checked = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or not 3 <= len(layer) <= 7:
            raise ValueError(
                f"layers[{i}] must be a tuple (in_channels, out_channels, kernel_size[, stride[, padding"
                f"[, dilation[, groups]]]]) as in torch.nn.Conv2d, got {layer!r}"
            )
        args = (*layer, *(1, 0, 1, 1)[len(layer) - 3 :])  # stride, padding, dilation, groups default as in torch
        _check_channels(args[0], args[1], args[6])
        if i and args[0] != checked[-1][1]:
            raise ValueError(
                f"layers[{i}] has in_channels={args[0]}, but layers[{i - 1}] has "
                f"out_channels={checked[-1][1]}: consecutive layers must chain"
            )
        checked.append(args)
    return checked


def stack_params(layers, bias=True):
    """Parameters of a chain of 2D convolutions: the sum of :func:`conv_params` over the layers.

    Parameters
    ----------
    layers : sequence of tuples
        ``(in_channels, out_channels, kernel_size[, stride[, padding[, dilation[, groups]]]])``, the
        positional arguments of ``torch.nn.Conv2d``; each layer's ``in_channels`` must be the
        previous layer's ``out_channels``.
    bias : bool
        Whether every layer has a bias (convolutions followed by batch normalisation have none).

    Examples
    --------
    >>> stack_params([(256, 64, 1), (64, 64, 3, 1, 1), (64, 256, 1)], bias=False)  # ResNet bottleneck
    69632
    >>> stack_params([(256, 256, 3, 1, 1)], bias=False)                            # one plain 3x3 layer
    589824
    """
    return price([_layer(*layer[:3], layer[6], bias, ndim=2) for layer in _stack_layers(layers)]).params


def stack_macs(input_size, layers):
    """Multiply-accumulates of a chain of 2D convolutions over one input, the spatial size flowing through.

    Layer ``l`` runs on the output size of layer ``l - 1`` (from
    :func:`conv_tutorial.shapes.conv_output_size`); the sum of :func:`conv_macs` over the layers.

    Parameters
    ----------
    input_size : int or tuple of 2 ints
        Spatial size ``(H, W)`` of the stack's input.
    layers : sequence of tuples
        As in :func:`stack_params`; ``padding`` may be an int, a tuple, ``'valid'`` or ``'same'``.

    Examples
    --------
    >>> stack_macs(56, [(256, 64, 1), (64, 64, 3, 1, 1), (64, 256, 1)])   # 69,632 weights x 56 x 56
    218365952
    >>> stack_macs(5, [(1, 1, 3), (1, 1, 3)])                            # 3 x 3 + 1 x 1 outputs, 9 MACs each
    90
    """
    size, plan = to_tuple(input_size, 2, "input_size"), []
    for layer in _stack_layers(layers):
        plan.append(_conv(size, *layer, ndim=2))
        size = plan[-1].output_size
    return price(plan).macs


def batch_norm_params(num_features):
    """Learnable parameters of ``torch.nn.BatchNorm2d(num_features)``: a scale and a shift per channel.

    The running mean and variance are buffers, not parameters: they are not trained.

    >>> batch_norm_params(64)
    128
    """
    return price([BatchNorm(check_positive_int(None, "num_features", num_features))]).params


def conv_transpose_macs(input_size, in_channels, out_channels, kernel_size, groups=1, ndim=None):
    """Multiply-accumulates of one transposed convolution over one input (batch size 1).

    Every input value is multiplied by the ``C_out / groups`` kernels of its group and each
    product added onto the output: ``prod(I) * C_in * (C_out / groups) * prod(kernel_size)``.
    Stride, padding and dilation move the products, they do not change their number (taps that
    land in the cropped ``padding`` are computed and thrown away), which is how
    ``torch.utils.flop_counter`` counts them too.

    Examples
    --------
    >>> conv_transpose_macs(16, 64, 32, 4)     # ConvTranspose2d(64, 32, 4, stride=2, padding=1) on 16x16
    8388608
    """
    _check_channels(in_channels, out_channels, groups)
    n = _ndim(ndim, input_size, kernel_size)
    sizes, kernel = to_tuple(input_size, n, "input_size"), to_tuple(kernel_size, n, "kernel_size")
    if any(v <= 0 for v in sizes + kernel):
        raise ValueError(
            f"input_size and kernel_size must be positive, got input_size={input_size!r}, kernel_size={kernel_size!r}"
        )
    return price([Conv(in_channels, out_channels, sizes, kernel, groups=groups, transposed=True)]).macs


def conv_transpose_bytes(
    input_size,
    in_channels,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
    batch=1,
    itemsize=4,
):
    """Bytes a transposed convolution must move at least: its input and weights read, its output written.

    ``itemsize * (batch * (C_in prod(I) + C_out prod(O)) + C_in (C_out / g) prod(K))`` with ``O``
    from :func:`conv_tutorial.shapes.conv_transpose_output_size`; the arguments are those of
    ``torch.nn.ConvTranspose2d`` (``groups`` before ``dilation``).

    Examples
    --------
    >>> conv_transpose_bytes(16, 64, 32, 4, stride=2, padding=1)   # 16x16x64 -> 32x32x32, 32,768 weights
    327680
    """
    _check_channels(in_channels, out_channels, groups)
    _check_traffic(batch, itemsize)
    n = _ndim(None, input_size, kernel_size, stride, padding, output_padding, dilation)
    size, kernel, stride, padding, output_padding, dilation = (
        to_tuple(value, n, name)
        for value, name in zip(
            (input_size, kernel_size, stride, padding, output_padding, dilation),
            ("input_size", "kernel_size", "stride", "padding", "output_padding", "dilation"),
            strict=True,
        )
    )
    step = Conv(
        in_channels,
        out_channels,
        size,
        kernel,
        stride,
        padding,
        dilation,
        groups,
        transposed=True,
        output_padding=output_padding,
    )
    return price([step], batch, itemsize).bytes


def depthwise_conv_params(in_channels, kernel_size, depth_multiplier=1, bias=True):
    """Parameters of a depthwise convolution: ``C_in * m`` filters of one channel each.

    ``C_in * m * kH * kW + (C_in * m if bias else 0)``; it is :func:`conv_params` with
    ``groups = C_in`` and ``C_out = C_in * m``.

    Examples
    --------
    >>> depthwise_conv_params(3, 3, bias=False)    # the 3x3x3 of the depthwise step
    27
    """
    mid = check_positive_int(None, "in_channels", in_channels) * check_positive_int(
        None, "depth_multiplier", depth_multiplier
    )
    return price([_layer(in_channels, mid, kernel_size, in_channels, bias)]).params


def depthwise_conv_macs(input_size, in_channels, kernel_size, stride=1, padding=0, dilation=1, depth_multiplier=1):
    """Multiply-accumulates of a depthwise convolution over one image: ``C_in * m * prod(O) * kH * kW``.

    Examples
    --------
    >>> depthwise_conv_macs(12, 3, 5)              # 3 channels, 8x8 outputs, 25 taps
    4800
    """
    mid = check_positive_int(None, "in_channels", in_channels) * check_positive_int(
        None, "depth_multiplier", depth_multiplier
    )
    return price([_conv(input_size, in_channels, mid, kernel_size, stride, padding, dilation, in_channels)]).macs


def _separable(
    input_size,
    in_channels,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    depth_multiplier=1,
    bias=True,
    traffic=None,
):
    """Depthwise then pointwise step (on one window without ``input_size``), checked in the order of old."""
    mid = check_positive_int(None, "in_channels", in_channels) * check_positive_int(
        None, "depth_multiplier", depth_multiplier
    )
    if input_size is _WINDOW:
        return [_layer(in_channels, mid, kernel_size, in_channels, bias), _layer(mid, out_channels, 1, 1, bias)]
    out = _output_size(input_size, kernel_size, stride, padding, dilation)
    if traffic is not None:
        _check_traffic(*traffic)
    depthwise = _conv(input_size, in_channels, mid, kernel_size, stride, padding, dilation, in_channels, bias=bias)
    return [depthwise, _conv(out, mid, out_channels, 1, bias=bias)]


def separable_conv_params(in_channels, out_channels, kernel_size, depth_multiplier=1, bias=True):
    """Parameters of a depthwise separable convolution: depthwise step plus pointwise step.

    ``C_in m kH kW + C_out C_in m`` weights, and a bias per output channel of each step when
    ``bias``. Against a standard layer's ``C_out C_in kH kW`` the ratio (``m = 1``, no bias) is
    ``1 / C_out + 1 / (kH kW)``.

    Examples
    --------
    >>> separable_conv_params(3, 256, 3, bias=False), conv_params(3, 256, 3, bias=False)
    (795, 6912)
    """
    return price(
        _separable(_WINDOW, in_channels, out_channels, kernel_size, depth_multiplier=depth_multiplier, bias=bias)
    ).params


def separable_conv_macs(
    input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, depth_multiplier=1
):
    """Multiply-accumulates of a depthwise separable convolution over one image.

    The depthwise step's ``C_in m prod(O) kH kW`` plus the pointwise step's ``C_out C_in m prod(O)``
    on the depthwise output ``O``.

    Examples
    --------
    >>> separable_conv_macs(12, 3, 256, 5), conv_macs(12, 3, 256, 5)
    (53952, 1228800)
    """
    check_positive_int(None, "in_channels", in_channels)
    check_positive_int(None, "depth_multiplier", depth_multiplier)
    kernel = to_tuple(kernel_size, 2, "kernel_size")
    return price(
        _separable(
            to_tuple(input_size, 2, "input_size"),
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            dilation,
            depth_multiplier,
        )
    ).macs


def separable_conv_bytes(
    input_size,
    in_channels,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    depth_multiplier=1,
    batch=1,
    itemsize=4,
):
    """Bytes a depthwise separable convolution moves: the depthwise step's plus the pointwise step's.

    The depthwise output is written by the first step and read back by the second (unless the
    two are fused into one kernel), so it counts twice.

    Examples
    --------
    >>> separable_conv_bytes(56, 128, 128, 3, padding=1)    # 4 maps of 56x56x128 + 17,536 weights
    6492672
    """
    plan = _separable(
        input_size,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        depth_multiplier,
        traffic=(batch, itemsize),
    )
    return price(plan, batch, itemsize).bytes


def _spatially_separable(
    input_size,
    in_channels,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    mid_channels=None,
    groups=1,
    bias=True,
    traffic=None,
):
    """A ``kH x 1`` step then a ``1 x kW`` one, stride, padding and dilation split between them."""
    mid = out_channels if mid_channels is None else check_positive_int(None, "mid_channels", mid_channels)
    kh, kw = to_tuple(kernel_size, 2, "kernel_size")
    if input_size is _WINDOW:
        return [_layer(in_channels, mid, (kh, 1), groups, bias), _layer(mid, out_channels, (1, kw), groups, bias)]
    sh, sw = to_tuple(stride, 2, "stride")
    # 'same' and 'valid' apply to both steps, as in conv_tutorial.numpy.spatially_separable_conv2d; numbers split.
    if isinstance(padding, str):
        column_pad, row_pad = padding, padding
    else:
        ph, pw = to_tuple(padding, 2, "padding")
        column_pad, row_pad = (ph, 0), (0, pw)
    dh, dw = to_tuple(dilation, 2, "dilation")
    column = Conv(
        in_channels, mid, to_tuple(input_size, 2, "input_size"), (kh, 1), (sh, 1), column_pad, (dh, 1), groups, bias
    )
    _check_channels(in_channels, mid, groups)
    if traffic is not None:
        _check_traffic(*traffic)
    _check_channels(mid, out_channels, groups)
    return [column, Conv(mid, out_channels, column.output_size, (1, kw), (1, sw), row_pad, (1, dw), groups, bias)]


def spatially_separable_conv_params(in_channels, out_channels, kernel_size, mid_channels=None, groups=1, bias=True):
    """Parameters of a ``kH x 1`` convolution followed by a ``1 x kW`` one.

    ``C_mid (C_in / g) kH + C_out (C_mid / g) kW`` weights (``C_mid`` defaults to ``C_out``),
    plus ``C_mid + C_out`` biases when ``bias``.

    Examples
    --------
    >>> spatially_separable_conv_params(64, 64, 3, bias=False), conv_params(64, 64, 3, bias=False)
    (24576, 36864)
    """
    return price(
        _spatially_separable(
            _WINDOW, in_channels, out_channels, kernel_size, mid_channels=mid_channels, groups=groups, bias=bias
        )
    ).params


def spatially_separable_conv_macs(
    input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, mid_channels=None, groups=1
):
    """Multiply-accumulates of a ``kH x 1`` then ``1 x kW`` convolution over one image.

    The column step runs on the full width (``H_out x W`` outputs, ``kH`` taps each), the row step
    on its output (``H_out x W_out`` outputs, ``kW`` taps each); stride, padding and dilation
    split as in :func:`conv_tutorial.numpy.spatially_separable_conv2d` (``'same'`` and ``'valid'``
    apply to both steps).

    Examples
    --------
    >>> spatially_separable_conv_macs(5, 1, 1, 3)   # 3x5 column outputs * 3 + 3x3 outputs * 3
    72
    >>> conv_macs(5, 1, 1, 3)
    81
    >>> spatially_separable_conv_macs(5, 1, 1, 4, padding="same")   # 5x5 column outputs * 4, twice
    200
    """
    return price(
        _spatially_separable(
            input_size, in_channels, out_channels, kernel_size, stride, padding, dilation, mid_channels, groups
        )
    ).macs


def spatially_separable_conv_bytes(
    input_size,
    in_channels,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    mid_channels=None,
    groups=1,
    batch=1,
    itemsize=4,
):
    """Bytes a ``kH x 1`` then ``1 x kW`` convolution moves: the sum of its two steps'.

    Examples
    --------
    >>> spatially_separable_conv_bytes(5, 1, 1, 3)    # 25 + 15 (+ 3) then 15 + 9 (+ 3) elements of 4 bytes
    280
    """
    plan = _spatially_separable(
        input_size,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        mid_channels,
        groups,
        traffic=(batch, itemsize),
    )
    return price(plan, batch, itemsize).bytes


def conv2plus1d_mid_channels(in_channels, out_channels, kernel_size):
    """Intermediate channels of a (2+1)D block that give it a full 3D convolution's weight count.

    R(2+1)D (Tran et al., 2018) replaces a ``t x h x w`` convolution ``N_in -> N_out`` by a
    ``1 x h x w`` spatial one ``N_in -> M`` and a ``t x 1 x 1`` temporal one ``M -> N_out`` with

        ``M = floor(t * h * w * N_in * N_out / (h * w * N_in + t * N_out))``

    so that ``M * h * w * N_in + t * M * N_out`` is at most the 3D kernel's ``t * h * w * N_in * N_out``
    (and at least 1: for tiny layers, such as ``1 -> 1`` channels with a ``1 x 1 x 1`` kernel, no
    block fits under the 3D count and the smallest one is returned).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 3 ints
        ``(t, h, w)`` of the 3D convolution being factorised.

    Examples
    --------
    >>> conv2plus1d_mid_channels(64, 64, 3)     # a 3x3x3 block of R(2+1)D-18's first stage
    144
    """
    _check_channels(in_channels, out_channels, 1)
    t, h, w = _positive(kernel_size, 3, "kernel_size")
    return max(1, (t * h * w * in_channels * out_channels) // (h * w * in_channels + t * out_channels))


def _mid_channels(in_channels, out_channels, kernel, mid_channels):
    """``mid_channels`` checked, or the weight-matching default when it is ``None``."""
    if mid_channels is None:
        return conv2plus1d_mid_channels(in_channels, out_channels, kernel)
    _check_channels(in_channels, out_channels, 1)
    return check_positive_int(None, "mid_channels", mid_channels)


def _conv2plus1d(
    input_size,
    in_channels,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    mid_channels=None,
    batch_norm=False,
    traffic=None,
):
    """Spatial ``1 x h x w`` step, batch norm when ``batch_norm``, temporal ``t x 1 x 1`` step; no biases."""
    t, h, w = _positive(kernel_size, 3, "kernel_size")
    (s_t, s_h, s_w), (p_t, p_h, p_w) = _positive(stride, 3, "stride"), _non_negative(padding, 3, "padding")
    size = None if input_size is _WINDOW else _positive(input_size, 3, "input_size")
    mid = _mid_channels(in_channels, out_channels, (t, h, w), mid_channels)
    norm = [BatchNorm(mid)] if check_flag(None, "batch_norm", batch_norm) else []
    spatial = Conv(in_channels, mid, size, (1, h, w), (1, s_h, s_w), (0, p_h, p_w))
    if traffic is not None:
        _check_traffic(*traffic)
    temporal = Conv(mid, out_channels, size and spatial.output_size, (t, 1, 1), (s_t, 1, 1), (p_t, 0, 0))
    return [spatial, *norm, temporal]


def conv2plus1d_params(in_channels, out_channels, kernel_size, mid_channels=None, batch_norm=True):
    """Parameters of a (2+1)D block: spatial ``1 x h x w`` conv, batch norm, temporal ``t x 1 x 1`` conv.

    ``M * N_in * h * w + N_out * M * t`` weights (the convolutions have no bias, since batch
    norm follows them), plus ``2 * M`` for the batch norm between them when ``batch_norm``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 3 ints
        ``(t, h, w)`` of the 3D convolution the block replaces.
    mid_channels : int, optional
        ``M``; by default :func:`conv2plus1d_mid_channels`, which matches the 3D kernel's count.
    batch_norm : bool

    Examples
    --------
    >>> conv_params(64, 64, (3, 3, 3), bias=False)
    110592
    >>> conv2plus1d_params(64, 64, 3, batch_norm=False)
    110592
    """
    return price(
        _conv2plus1d(_WINDOW, in_channels, out_channels, kernel_size, mid_channels=mid_channels, batch_norm=batch_norm)
    ).params


def conv2plus1d_macs(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, mid_channels=None):
    """Multiply-accumulates of a (2+1)D block over one clip (batch size 1).

    The spatial convolution (kernel ``(1, h, w)``, stride ``(1, s_h, s_w)``, padding
    ``(0, p_h, p_w)``) runs on the ``(T, H, W)`` input, the temporal one (kernel ``(t, 1, 1)``,
    stride ``(s_t, 1, 1)``, padding ``(p_t, 0, 0)``) on its output. Batch norm and ReLU are not
    counted, as for every layer in this book.

    Parameters
    ----------
    input_size : int or tuple of 3 ints
        ``(T, H, W)`` of the clip.
    in_channels, out_channels : int
    kernel_size, stride, padding : int or tuple of 3 ints
        Those of the 3D convolution the block replaces.
    mid_channels : int, optional
        As in :func:`conv2plus1d_params`.

    Examples
    --------
    >>> conv_macs((8, 56, 56), 64, 64, (3, 3, 3), padding=1)
    2774532096
    >>> conv2plus1d_macs((8, 56, 56), 64, 64, 3, padding=1)
    2774532096
    """
    return price(_conv2plus1d(input_size, in_channels, out_channels, kernel_size, stride, padding, mid_channels)).macs


def conv2plus1d_bytes(
    input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, mid_channels=None, batch=1, itemsize=4
):
    """Bytes a (2+1)D block's two convolutions move, split as in :func:`conv2plus1d_macs`.

    The batch norm and ReLU between them are taken as fused into the spatial convolution's
    output (as inference engines do), so the intermediate clip is written once and read once.

    Examples
    --------
    >>> conv_bytes((8, 56, 56), 64, 64, 3, padding=1)
    13287424
    >>> conv2plus1d_bytes((8, 56, 56), 64, 64, 3, padding=1)    # the 144-channel clip written and read
    42188800
    """
    plan = _conv2plus1d(
        input_size, in_channels, out_channels, kernel_size, stride, padding, mid_channels, traffic=(batch, itemsize)
    )
    return price(plan, batch, itemsize).bytes


def _check_offset_groups(in_channels, offset_groups):
    _check_channels(in_channels, in_channels, 1)
    check_positive_int(None, "offset_groups", offset_groups)
    if in_channels % offset_groups:
        raise ValueError(
            f"in_channels must be divisible by offset_groups, got in_channels={in_channels} and "
            f"offset_groups={offset_groups}"
        )


def _deformable(
    input_size,
    in_channels,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    offset_groups=1,
    modulated=False,
    bias=True,
    traffic=None,
):
    """The offset (and mask) predictor, the bilinear sampling, and the convolution of the samples."""
    _check_offset_groups(in_channels, offset_groups)
    if traffic is not None:
        _check_traffic(*traffic)
    kernel = _positive(kernel_size, 2, "kernel_size")
    predicted = (3 if check_flag(None, "modulated", modulated) else 2) * offset_groups * math.prod(kernel)
    if input_size is _WINDOW:
        main = _layer(in_channels, out_channels, kernel, groups, bias)
        return [_layer(in_channels, predicted, kernel), main]
    geometry = (kernel, stride, padding, dilation)
    if traffic is None:  # deform_conv_macs' errors show stride, padding and dilation as given
        input_size = to_tuple(input_size, 2, "input_size")
        out = conv_output_size(input_size, *geometry)
    else:
        out = _output_size(input_size, *geometry)
    predictor = _conv(input_size, in_channels, predicted, *geometry, bias=True)
    main = _conv(input_size, in_channels, out_channels, *geometry, groups, bias=bias)
    # 4 MACs per sample and input channel (one per corner), 1 more for the mask; the offsets read back
    sampling = Elementwise(
        predicted * math.prod(out), (5 if modulated else 4) * in_channels * math.prod(kernel) * math.prod(out)
    )
    return [predictor, sampling, main]


def deform_conv_params(in_channels, out_channels, kernel_size, groups=1, offset_groups=1, bias=True, modulated=False):
    """Parameters of a deformable convolution layer with its offset (and mask) predictor.

    The layer's own convolution (:func:`conv_params`) plus the predictor, a ``C_in -> P``
    convolution with the same kernel and a bias, where ``P = 2 * offset_groups * kH * kW``
    offsets, plus ``offset_groups * kH * kW`` mask logits for DCNv2 (``modulated``). Equal to
    ``sum(p.numel() for p in conv_tutorial.torch.DeformConv2d(...).parameters())``.

    Examples
    --------
    >>> conv_params(64, 64, 3)
    36928
    >>> deform_conv_params(64, 64, 3)                    # + 64 * 18 * 9 + 18 for the offsets
    47314
    >>> deform_conv_params(64, 64, 3, modulated=True)    # + 64 * 27 * 9 + 27 with the mask
    52507
    """
    plan = _deformable(
        _WINDOW,
        in_channels,
        out_channels,
        kernel_size,
        groups=groups,
        offset_groups=offset_groups,
        modulated=modulated,
        bias=bias,
    )
    return price(plan).params


def deform_conv_macs(
    input_size,
    in_channels,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    offset_groups=1,
    modulated=False,
):
    """Multiply-accumulates of a deformable convolution layer over one image (batch size 1).

    Three parts: the offset (and mask) predictor, a standard convolution ``C_in -> P``
    (:func:`deform_conv_params`); the sampling, 4 MACs per sample and input channel for the
    bilinear interpolation (one per corner), plus 1 for the mask when ``modulated``; and the
    convolution of the samples with the weights, the same MACs as the standard convolution
    (:func:`conv_macs`). The corner indices and bilinear weights are index arithmetic, not counted.

    Examples
    --------
    >>> conv_macs((56, 56), 64, 64, 3, padding=1)
    115605504
    >>> deform_conv_macs((56, 56), 64, 64, 3, padding=1)
    155344896
    """
    return price(
        _deformable(
            input_size,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            offset_groups,
            modulated,
        )
    ).macs


def deform_conv_bytes(
    input_size,
    in_channels,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    offset_groups=1,
    modulated=False,
    batch=1,
    itemsize=4,
):
    """Bytes a deformable convolution layer moves: its offset predictor's, then its own.

    The predictor (a convolution ``C_in -> P``, ``P = (3 if modulated else 2) * offset_groups *
    kH * kW``) reads the input and writes the ``P x prod(O)`` offsets (and mask); the deformable
    convolution reads the input again, reads the offsets back and its weights, and writes the
    output. Every sample reads four input pixels, but as everywhere in this module the floor is
    counted: each input value read once per step.

    Examples
    --------
    >>> conv_bytes(56, 64, 64, 3, padding=1)
    1753088
    >>> deform_conv_bytes(56, 64, 64, 3, padding=1)   # + 64x56x56 read again, 18x56x56 written and read
    3048960
    """
    plan = _deformable(
        input_size,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        groups,
        offset_groups,
        modulated,
        traffic=(batch, itemsize),
    )
    return price(plan, batch, itemsize).bytes


def _se_reduced(channels, reduction):
    for name, value in (("channels", channels), ("reduction", reduction)):
        check_positive_int(None, name, value)
    if channels // reduction < 1:
        raise ValueError(f"channels // reduction must be at least 1, got channels={channels} and reduction={reduction}")
    return channels // reduction


def _squeeze_excitation(channels, reduction=16, spatial_size=1, bias=True, traffic=None):
    """Pooling, ``C -> C/r -> C`` fully connected layers (1x1 convolutions of a 1x1 map), rescaling."""
    reduced = _se_reduced(channels, reduction)
    bias = check_flag(None, "bias", bias)
    if traffic is not None:
        _check_traffic(*traffic)
    size = _positive(spatial_size, 2, "spatial_size")
    plane = channels * math.prod(size)
    return [
        Elementwise(plane + channels),
        Conv(channels, reduced, (1, 1), (1, 1), bias=bias),
        Conv(reduced, channels, (1, 1), (1, 1), bias=bias),
        Elementwise(2 * plane + channels, 0, (channels, *size)),
    ]


def squeeze_excitation_params(channels, reduction=16, bias=True):
    """Parameters of a squeeze-and-excitation block: two fully connected layers ``C -> C/r -> C``.

    ``2 * C * (C // r)`` weights, plus ``C // r + C`` biases when ``bias``; equal to
    ``sum(p.numel() for p in conv_tutorial.torch.SqueezeExcitation(C, r).parameters())``. Hu et al.
    (2018) count ``2 C^2 / r`` per block (weights only).

    Examples
    --------
    >>> squeeze_excitation_params(256, 16)
    8464
    >>> squeeze_excitation_params(2048, 16, bias=False)    # the largest block of SE-ResNet-50
    524288
    """
    return price(_squeeze_excitation(channels, reduction, bias=bias)).params


def squeeze_excitation_macs(channels, reduction=16):
    """Multiply-accumulates of a squeeze-and-excitation block's two fully connected layers, per image.

    ``2 * C * (C // r)``, independent of the map size: the layers run on the pooled vector. As
    everywhere in this module only the weights' MACs are counted (as ``torch.utils.flop_counter``
    does): the pooling (``C H W`` additions), the gates and the rescaling (``C H W``
    multiplications) are elementwise work on top.

    Examples
    --------
    >>> squeeze_excitation_macs(256, 16)
    8192
    """
    return price(_squeeze_excitation(channels, reduction)).macs


def squeeze_excitation_bytes(channels, spatial_size, reduction=16, batch=1, itemsize=4):
    """Bytes a squeeze-and-excitation block moves on a ``C x H x W`` map, step by step.

    Pooling reads the map and writes ``C`` means; the two fully connected layers read and write
    vectors (``C -> C/r -> C``) and read their ``2 C (C/r)`` weights; the rescaling reads the map
    again with the ``C`` gates and writes the output map. In all
    ``itemsize * (batch * (3 C H W + 4 C + 2 C/r) + 2 C (C/r))``: three maps' worth of traffic
    for almost no arithmetic.

    Examples
    --------
    >>> squeeze_excitation_bytes(256, 56)    # 3 x 802,816 + 1,056 elements + 8,192 weights, 4 bytes each
    9670784
    """
    return price(
        _squeeze_excitation(channels, reduction, spatial_size, traffic=(batch, itemsize)), batch, itemsize
    ).bytes


def _global_depthwise(channels, spatial_size, bias=False, traffic=None):
    """One depthwise step whose kernel is the whole map."""
    check_positive_int(None, "channels", channels)
    size = _positive(spatial_size, 2, "spatial_size")
    if traffic is not None:
        _check_traffic(*traffic)
    return [Conv(channels, channels, size, size, groups=channels, bias=check_flag(None, "bias", bias))]


def global_depthwise_params(channels, spatial_size, bias=False):
    """Parameters of a global depthwise convolution: one ``H x W`` filter per channel.

    ``conv_params(C, C, (H, W), groups=C, bias=bias)`` = ``C H W`` (``+ C`` with a bias).

    Examples
    --------
    >>> global_depthwise_params(512, 7)    # MobileFaceNet's GDC on its 7 x 7 x 512 map
    25088
    """
    return price(_global_depthwise(channels, spatial_size, bias)).params


def global_depthwise_macs(channels, spatial_size):
    """Multiply-accumulates of a global depthwise convolution over one image: ``C H W``, one per input value.

    The same count as the additions of global average pooling, which is the special case of
    constant weights.

    Examples
    --------
    >>> global_depthwise_macs(512, 7)
    25088
    """
    return price(_global_depthwise(channels, spatial_size)).macs


def global_depthwise_bytes(channels, spatial_size, batch=1, itemsize=4):
    """Bytes a global depthwise convolution moves: the map and the ``C H W`` weights read, ``C`` values written.

    Examples
    --------
    >>> global_depthwise_bytes(512, 7)       # 25,088 inputs + 25,088 weights + 512 outputs
    202752
    """
    return price(_global_depthwise(channels, spatial_size, traffic=(batch, itemsize)), batch, itemsize).bytes


#: The convolution types of the book, in chapter order: the rows of :func:`layer_table`.
TYPES = (
    "standard",
    "pointwise",
    "spatially separable",
    "depthwise",
    "depthwise separable",
    "grouped",
    "dilated",
    "transposed",
    "3D",
    "(2+1)D",
    "deformable",
    "SE",
    "GDC",
)


def layer_table(
    input_size,
    in_channels,
    out_channels,
    kernel_size=3,
    stride=1,
    batch=1,
    itemsize=4,
    groups=4,
    dilation=2,
    frames=8,
    reduction=16,
):
    """Every type of the book applied to one layer specification: one row of costs per type.

    Each row is a dict with the keys

    - ``"type"``: the name, from :data:`TYPES` (chapter order);
    - ``"params"``: learnable parameters, as the module in ``"torch"`` counts them;
    - ``"macs"``: multiply-accumulates for the batch (``batch`` times the per-image count);
    - ``"bytes"``: the memory-traffic floor for the batch (inputs, weights and outputs of each
      step, ``itemsize`` bytes per number);
    - ``"intensity"``: arithmetic intensity ``2 * macs / bytes`` in FLOPs per byte;
    - ``"output"``: the output shape of one image, ``(C, H, W)`` (``(C, T, H, W)`` for the video rows);
    - ``"torch"``: the equivalent layer; ``nn.`` names are ``torch.nn``'s, the others
      :mod:`conv_tutorial.torch`'s.

    Every 2D layer keeps the size (padding ``k // 2``, ``dilation * (k // 2)`` for the dilated
    one) up to the stride; the transposed layer instead multiplies the size by the stride, as a
    decoder does. Depthwise keeps ``C_in`` channels, squeeze-and-excitation and the global
    depthwise convolution act on the ``C_in``-channel input (GDC with a kernel as large as the
    map). The video rows run on a clip of ``frames`` frames (stride 1 in time); their costs are
    per clip, not per frame.

    Parameters
    ----------
    input_size : int or tuple of 2 ints
        ``(H, W)`` of the input map.
    in_channels, out_channels : int
    kernel_size, stride : int
        Square kernel and stride of every layer.
    batch : int
        Images (clips) per batch.
    itemsize : int
        Bytes per number: 4 for float32, 2 for float16, 8 for float64.
    groups : int
        Of the grouped row; must divide both channel counts.
    dilation : int
        Of the dilated row.
    frames : int
        Frames of the clip in the 3D and (2+1)D rows.
    reduction : int
        Reduction ratio of the SE row.

    Returns
    -------
    list of dict
        One row per type of :data:`TYPES`, in that order.

    Examples
    --------
    >>> rows = layer_table(56, 128, 128)
    >>> [row["type"] for row in rows] == list(TYPES)
    True
    >>> standard, depthwise = rows[0], rows[3]
    >>> standard["params"], standard["macs"], standard["torch"]
    (147584, 462422016, 'nn.Conv2d(128, 128, 3, padding=1)')
    >>> depthwise["params"], depthwise["macs"], round(depthwise["intensity"], 2)
    (1280, 3612672, 2.25)
    """
    for name, value in (
        ("in_channels", in_channels),
        ("out_channels", out_channels),
        ("kernel_size", kernel_size),
        ("stride", stride),
        ("itemsize", itemsize),
        ("groups", groups),
        ("dilation", dilation),
        ("frames", frames),
        ("reduction", reduction),
    ):
        check_positive_int(None, name, value)
    _check_traffic(batch, itemsize)
    size = _positive(input_size, 2, "input_size")
    ci, co, k, s, d = in_channels, out_channels, kernel_size, stride, dilation
    p, out_pad, at, clip = k // 2, s - 1, "" if s == 1 else f", stride={s}", (frames, *size)
    clip_at = "" if s == 1 else f", stride=(1, {s}, {s})"
    map_name = f"{size[0]}" if size[0] == size[1] else f"{size}"
    plans = {  # each type's plan and its torch equivalent, built in TYPES order: the first bad argument is reported
        "standard": ([_conv(size, ci, co, k, s, p, bias=True)], f"nn.Conv2d({ci}, {co}, {k}{at}, padding={p})"),
        "pointwise": ([_conv(size, ci, co, 1, s, bias=True)], f"nn.Conv2d({ci}, {co}, 1{at})"),
        "spatially separable": (
            _spatially_separable(size, ci, co, k, s, p),
            f"SpatiallySeparableConv2d({ci}, {co}, {k}{at}, padding={p})",
        ),
        "depthwise": (
            [_conv(size, ci, ci, k, s, p, groups=ci, bias=True)],
            f"nn.Conv2d({ci}, {ci}, {k}{at}, padding={p}, groups={ci})",
        ),
        "depthwise separable": (
            _separable(size, ci, co, k, s, p),
            f"DepthwiseSeparableConv2d({ci}, {co}, {k}{at}, padding={p})",
        ),
        "grouped": (
            [_conv(size, ci, co, k, s, p, groups=groups, bias=True)],
            f"nn.Conv2d({ci}, {co}, {k}{at}, padding={p}, groups={groups})",
        ),
        "dilated": (
            [_conv(size, ci, co, k, s, d * p, d, bias=True)],
            f"nn.Conv2d({ci}, {co}, {k}{at}, padding={d * p}, dilation={d})",
        ),
        "transposed": (
            [Conv(ci, co, size, (k, k), (s, s), (p, p), bias=True, transposed=True, output_padding=(out_pad, out_pad))],
            f"nn.ConvTranspose2d({ci}, {co}, {k}{at}, padding={p}{f', output_padding={out_pad}' if out_pad else ''})",
        ),
        "3D": ([_conv(clip, ci, co, k, (1, s, s), p, bias=True)], f"nn.Conv3d({ci}, {co}, {k}{clip_at}, padding={p})"),
        "(2+1)D": (
            _conv2plus1d(clip, ci, co, k, (1, s, s), p, batch_norm=True),
            f"Conv2Plus1d({ci}, {co}, {k}{clip_at}, padding={p})",
        ),
        "deformable": (_deformable(size, ci, co, k, s, p), f"DeformConv2d({ci}, {co}, {k}{at}, padding={p})"),
        "SE": (_squeeze_excitation(ci, reduction, size), f"SqueezeExcitation({ci}, reduction={reduction})"),
        "GDC": (_global_depthwise(ci, size), f"GlobalDepthwiseConv2d({ci}, {map_name})"),
    }
    rows = []
    for name, (plan, torch_call) in plans.items():
        cost = price(plan, batch, itemsize)
        rows.append(
            {
                "type": name,
                "params": cost.params,
                "macs": cost.macs,
                "bytes": cost.bytes,
                "intensity": cost.intensity,
                "output": cost.output,
                "torch": torch_call,
            }
        )
    return rows


# --- Skip and dense connections (chapter 15): blocks priced by composing the functions above ---------------------
#
# Conventions of the blocks: convolutions without bias (batch normalisation follows or precedes each, and its
# 2 * C scale and shift count as parameters); padding k // 2; batch normalisation, ReLU, the shortcut's
# addition and the concatenation do no MACs. In the bytes, batch normalisation and ReLU are taken as fused into
# the neighbouring convolution (no traffic of their own), while the addition (read two maps, write one), the
# concatenation (read the parts, write the whole) and the average pooling (read, write a quarter) move their
# maps through memory.

#: The blocks of chapter 15, the rows of :func:`connection_table`.
CONNECTION_TYPES = ("basic block", "bottleneck block", "dense layer", "transition")


def _map(input_size):
    size = to_tuple(input_size, 2, "input_size")
    for value in size:
        check_positive_int(None, "input_size", value)
    return size


def _counts(**values):
    """Check every named count (channels, stride, layers) before any arithmetic, so the error names it."""
    for name, value in values.items():
        check_positive_int(None, name, value)


def _needs_projection(in_channels, out_channels, stride):
    return in_channels != out_channels or stride != 1


def basic_block_params(in_channels, out_channels, stride=1, shortcut=True):
    """Parameters of ResNet's basic block (:class:`conv_tutorial.torch.BasicBlock`).

    Two bias-free 3x3 convolutions ``C_in -> C_out -> C_out`` with a batch norm each:
    ``9 C_in C_out + 9 C_out^2 + 4 C_out``. The identity shortcut adds nothing; a projection
    (when ``C_in != C_out`` or ``stride != 1``) adds a 1x1 convolution and a batch norm,
    ``C_in C_out + 2 C_out``. ``shortcut=False`` prices the plain block (no skip).

    Examples
    --------
    >>> basic_block_params(64, 64), basic_block_params(64, 128, stride=2)
    (73984, 230144)
    """
    _counts(in_channels=in_channels, out_channels=out_channels, stride=stride)
    params = (
        conv_params(in_channels, out_channels, 3, bias=False)
        + conv_params(out_channels, out_channels, 3, bias=False)
        + 2 * batch_norm_params(out_channels)
    )
    if check_flag(None, "shortcut", shortcut) and _needs_projection(in_channels, out_channels, stride):
        params += conv_params(in_channels, out_channels, 1, bias=False) + batch_norm_params(out_channels)
    return params


def basic_block_macs(input_size, in_channels, out_channels, stride=1, shortcut=True):
    """Multiply-accumulates of ResNet's basic block on one ``(C_in, H, W)`` input.

    ``conv_macs`` of the strided 3x3 convolution, of the 3x3 one on its output, and of the 1x1
    projection when there is one; the identity shortcut's addition is no MAC.

    Examples
    --------
    >>> basic_block_macs(56, 64, 64)          # ResNet-18's first stage: 2 * 64 * 64 * 9 * 56 * 56
    231211008
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, out_channels=out_channels, stride=stride)
    macs = conv_macs(size, in_channels, out_channels, 3, stride, 1)
    out = conv_output_size(size, (3, 3), (stride, stride), (1, 1))
    macs += conv_macs(out, out_channels, out_channels, 3, 1, 1)
    if check_flag(None, "shortcut", shortcut) and _needs_projection(in_channels, out_channels, stride):
        macs += conv_macs(size, in_channels, out_channels, 1, stride)
    return macs


def basic_block_bytes(input_size, in_channels, out_channels, stride=1, shortcut=True, batch=1, itemsize=4):
    """Memory-traffic floor of ResNet's basic block: its convolutions' :func:`conv_bytes` and the addition.

    The addition reads the residual and the shortcut and writes the sum: ``3 C_out H_out W_out``
    numbers per image (none for the plain block, ``shortcut=False``).

    Examples
    --------
    >>> basic_block_bytes(56, 64, 64)
    5914624
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, out_channels=out_channels, stride=stride)
    traffic = dict(batch=batch, itemsize=itemsize)
    nbytes = conv_bytes(size, in_channels, out_channels, 3, stride, 1, **traffic)
    out = conv_output_size(size, (3, 3), (stride, stride), (1, 1))
    nbytes += conv_bytes(out, out_channels, out_channels, 3, 1, 1, **traffic)
    if check_flag(None, "shortcut", shortcut):
        if _needs_projection(in_channels, out_channels, stride):
            nbytes += conv_bytes(size, in_channels, out_channels, 1, stride, **traffic)
        nbytes += itemsize * batch * 3 * out_channels * math.prod(out)
    return nbytes


def bottleneck_params(in_channels, mid_channels, out_channels, stride=1, groups=1):
    """Parameters of ResNet's bottleneck block (:class:`conv_tutorial.torch.Bottleneck`).

    1x1 ``C_in -> M``, 3x3 ``M -> M`` (``groups`` groups), 1x1 ``M -> C_out``, a batch norm after
    each, and a projection (1x1 convolution and batch norm) when ``C_in != C_out`` or ``stride != 1``.

    Examples
    --------
    >>> bottleneck_params(256, 64, 256)       # 69,632 weights and 2 * (64 + 64 + 256) BN
    70400
    """
    _counts(in_channels=in_channels, mid_channels=mid_channels, out_channels=out_channels, stride=stride, groups=groups)
    params = (
        conv_params(in_channels, mid_channels, 1, bias=False)
        + conv_params(mid_channels, mid_channels, 3, groups, bias=False)
        + conv_params(mid_channels, out_channels, 1, bias=False)
        + 2 * batch_norm_params(mid_channels)
        + batch_norm_params(out_channels)
    )
    if _needs_projection(in_channels, out_channels, stride):
        params += conv_params(in_channels, out_channels, 1, bias=False) + batch_norm_params(out_channels)
    return params


def bottleneck_macs(input_size, in_channels, mid_channels, out_channels, stride=1, groups=1):
    """Multiply-accumulates of ResNet's bottleneck block on one input (stride on the 3x3 layer, as torchvision).

    Examples
    --------
    >>> bottleneck_macs(56, 256, 64, 256)     # 69,632 weights, each used at 56 * 56 positions
    218365952
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, mid_channels=mid_channels, out_channels=out_channels, stride=stride, groups=groups)
    macs = conv_macs(size, in_channels, mid_channels, 1)
    macs += conv_macs(size, mid_channels, mid_channels, 3, stride, 1, groups=groups)
    out = conv_output_size(size, (3, 3), (stride, stride), (1, 1))
    macs += conv_macs(out, mid_channels, out_channels, 1)
    if _needs_projection(in_channels, out_channels, stride):
        macs += conv_macs(size, in_channels, out_channels, 1, stride)
    return macs


def bottleneck_bytes(input_size, in_channels, mid_channels, out_channels, stride=1, groups=1, batch=1, itemsize=4):
    """Memory-traffic floor of ResNet's bottleneck block: three convolutions, the projection if any, the addition.

    Examples
    --------
    >>> bottleneck_bytes(56, 256, 64, 256)
    19546112
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, mid_channels=mid_channels, out_channels=out_channels, stride=stride, groups=groups)
    traffic = dict(batch=batch, itemsize=itemsize)
    nbytes = conv_bytes(size, in_channels, mid_channels, 1, **traffic)
    nbytes += conv_bytes(size, mid_channels, mid_channels, 3, stride, 1, groups=groups, **traffic)
    out = conv_output_size(size, (3, 3), (stride, stride), (1, 1))
    nbytes += conv_bytes(out, mid_channels, out_channels, 1, **traffic)
    if _needs_projection(in_channels, out_channels, stride):
        nbytes += conv_bytes(size, in_channels, out_channels, 1, stride, **traffic)
    return nbytes + itemsize * batch * 3 * out_channels * math.prod(out)


def dense_layer_params(in_channels, growth_rate, bn_size=4):
    """Parameters of a DenseNet-B layer (:class:`conv_tutorial.torch.DenseLayer`).

    BN over ``C`` and a 1x1 convolution ``C -> bn_size * k``, BN over ``bn_size * k`` and a 3x3
    convolution ``bn_size * k -> k``: ``2C + 4kC + 8k + 36k^2`` for ``bn_size = 4``.

    Examples
    --------
    >>> dense_layer_params(64, 32)
    45440
    """
    _counts(in_channels=in_channels, growth_rate=growth_rate, bn_size=bn_size)
    width = bn_size * growth_rate
    return (
        batch_norm_params(in_channels)
        + conv_params(in_channels, width, 1, bias=False)
        + batch_norm_params(width)
        + conv_params(width, growth_rate, 3, bias=False)
    )


def dense_layer_macs(input_size, in_channels, growth_rate, bn_size=4):
    """Multiply-accumulates of a DenseNet-B layer on one input: ``H W (bn_size k C + 9 bn_size k^2)``.

    The part that grows with the layer's position in its block is the 1x1 convolution, linear in
    ``C = k0 + l k``; the 3x3 convolution costs the same in every layer.

    Examples
    --------
    >>> dense_layer_macs(56, 64, 32)
    141295616
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, growth_rate=growth_rate, bn_size=bn_size)
    width = bn_size * growth_rate
    return conv_macs(size, in_channels, width, 1) + conv_macs(size, width, growth_rate, 3, padding=1)


def dense_layer_bytes(input_size, in_channels, growth_rate, bn_size=4, batch=1, itemsize=4):
    """Memory-traffic floor of a DenseNet-B layer: its two convolutions and the concatenation.

    The concatenation reads the ``C`` input channels and the ``k`` new ones and writes all
    ``C + k``: ``2 (C + k) H W`` numbers per image, a copy of everything the block has made so
    far, in every layer.

    Examples
    --------
    >>> dense_layer_bytes(56, 64, 32)
    7004160
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, growth_rate=growth_rate, bn_size=bn_size)
    width = bn_size * growth_rate
    traffic = dict(batch=batch, itemsize=itemsize)
    return (
        conv_bytes(size, in_channels, width, 1, **traffic)
        + conv_bytes(size, width, growth_rate, 3, padding=1, **traffic)
        + itemsize * batch * 2 * (in_channels + growth_rate) * math.prod(size)
    )


def _dense_inputs(num_layers, in_channels, growth_rate):
    """The input channels of each layer of a dense block: ``k0 + l k`` for ``l = 0 .. L - 1``."""
    _counts(num_layers=num_layers, in_channels=in_channels, growth_rate=growth_rate)
    return [in_channels + layer * growth_rate for layer in range(num_layers)]


def dense_block_params(num_layers, in_channels, growth_rate, bn_size=4):
    """Parameters of a dense block: :func:`dense_layer_params` summed over layers of ``k0 + l k`` input channels.

    The block is :class:`conv_tutorial.torch.DenseBlock`.

    Examples
    --------
    >>> dense_block_params(6, 64, 32)         # DenseNet-121's first block
    335040
    """
    return sum(dense_layer_params(c, growth_rate, bn_size) for c in _dense_inputs(num_layers, in_channels, growth_rate))


def dense_block_macs(input_size, num_layers, in_channels, growth_rate, bn_size=4):
    """Multiply-accumulates of a dense block on one input: :func:`dense_layer_macs` summed over its layers.

    Examples
    --------
    >>> dense_block_macs(56, 6, 64, 32)
    1040449536
    """
    return sum(
        dense_layer_macs(input_size, c, growth_rate, bn_size)
        for c in _dense_inputs(num_layers, in_channels, growth_rate)
    )


def dense_block_bytes(input_size, num_layers, in_channels, growth_rate, bn_size=4, batch=1, itemsize=4):
    """Memory-traffic floor of a dense block: :func:`dense_layer_bytes` summed over its layers.

    Examples
    --------
    >>> dense_block_bytes(56, 6, 64, 32)
    60334080
    """
    return sum(
        dense_layer_bytes(input_size, c, growth_rate, bn_size, batch, itemsize)
        for c in _dense_inputs(num_layers, in_channels, growth_rate)
    )


def dense_block_concat_memory(input_size, num_layers, in_channels, growth_rate, batch=1, itemsize=4):
    """Bytes held by the concatenated maps of a dense block when each layer makes a new tensor, as ``torch.cat`` does.

    Those maps hold ``sum over l of (k0 + (l + 1) k) H W`` numbers per image.

    Autograd keeps every one of them for the backward pass, so a naive implementation holds memory
    quadratic in the number of layers, while the distinct features are only ``(k0 + L k) H W``
    numbers (Pleiss et al. 2017 share one buffer among the layers to get back to linear).

    Examples
    --------
    >>> dense_block_concat_memory(56, 6, 64, 32)   # DenseNet-121's first block, float32
    13246464
    """
    size = _map(input_size)
    channels = sum(c + growth_rate for c in _dense_inputs(num_layers, in_channels, growth_rate))
    check_positive_int(None, "batch", batch, minimum=0)
    check_positive_int(None, "itemsize", itemsize)
    return itemsize * batch * channels * math.prod(size)


def transition_params(in_channels, out_channels):
    """Parameters of a DenseNet transition (:class:`conv_tutorial.torch.Transition`): its BN and 1x1 convolution.

    The BN is over ``C_in`` channels, the 1x1 convolution maps ``C_in -> C_out``; the pooling has no parameters.

    Examples
    --------
    >>> transition_params(256, 128)
    33280
    """
    _counts(in_channels=in_channels, out_channels=out_channels)
    return batch_norm_params(in_channels) + conv_params(in_channels, out_channels, 1, bias=False)


def transition_macs(input_size, in_channels, out_channels):
    """Multiply-accumulates of a DenseNet transition: the 1x1 convolution at full resolution, before the pooling.

    The pooling does no MACs.

    Examples
    --------
    >>> transition_macs(56, 256, 128)
    102760448
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, out_channels=out_channels)
    return conv_macs(size, in_channels, out_channels, 1)


def transition_bytes(input_size, in_channels, out_channels, batch=1, itemsize=4):
    """Memory-traffic floor of a DenseNet transition: the 1x1 convolution, then the 2x2 average pooling.

    The pooling reads ``C_out H W`` and writes ``C_out floor(H/2) floor(W/2)`` numbers per image.

    Examples
    --------
    >>> transition_bytes(56, 256, 128)
    6955008
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, out_channels=out_channels)
    nbytes = conv_bytes(size, in_channels, out_channels, 1, batch=batch, itemsize=itemsize)
    pooled = conv_output_size(size, (2, 2), (2, 2), (0, 0))
    return nbytes + itemsize * batch * out_channels * (math.prod(size) + math.prod(pooled))


def connection_table(input_size, in_channels, out_channels, stride=1, batch=1, itemsize=4, growth_rate=32, bn_size=4):
    """The blocks of chapter 15 on one layer specification, as rows like :func:`layer_table`'s.

    - ``"basic block"``: ``BasicBlock(C_in, C_out, stride)``;
    - ``"bottleneck block"``: ``Bottleneck(C_in, max(1, C_out // 4), C_out, stride)``;
    - ``"dense layer"``: ``DenseLayer(C_in, growth_rate, bn_size)``, which keeps the size and
      returns ``C_in + growth_rate`` channels (``C_out`` and ``stride`` do not apply);
    - ``"transition"``: ``Transition(C_in, C_out)``, which halves the size (``stride`` does not apply).

    Each row has the keys of :func:`layer_table`'s rows: ``type``, ``params``, ``macs`` and
    ``bytes`` for the batch, ``intensity``, ``output`` (one image's shape), ``torch``.

    Examples
    --------
    >>> [(row["type"], row["params"]) for row in connection_table(56, 64, 64)]
    [('basic block', 73984), ('bottleneck block', 4544), ('dense layer', 45440), ('transition', 4224)]
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, out_channels=out_channels, stride=stride, growth_rate=growth_rate, bn_size=bn_size)
    check_positive_int(None, "batch", batch, minimum=0)
    ci, co, s, k = in_channels, out_channels, stride, growth_rate
    mid = max(1, co // 4)
    traffic = dict(batch=batch, itemsize=itemsize)
    strided = conv_output_size(size, (3, 3), (s, s), (1, 1))
    at = "" if s == 1 else f", stride={s}"
    rows = [
        (
            "basic block",
            basic_block_params(ci, co, s),
            basic_block_macs(size, ci, co, s),
            basic_block_bytes(size, ci, co, s, **traffic),
            (co, *strided),
            f"BasicBlock({ci}, {co}{at})",
        ),
        (
            "bottleneck block",
            bottleneck_params(ci, mid, co, s),
            bottleneck_macs(size, ci, mid, co, s),
            bottleneck_bytes(size, ci, mid, co, s, **traffic),
            (co, *strided),
            f"Bottleneck({ci}, {mid}, {co}{at})",
        ),
        (
            "dense layer",
            dense_layer_params(ci, k, bn_size),
            dense_layer_macs(size, ci, k, bn_size),
            dense_layer_bytes(size, ci, k, bn_size, **traffic),
            (ci + k, *size),
            f"DenseLayer({ci}, {k}{'' if bn_size == 4 else f', bn_size={bn_size}'})",
        ),
        (
            "transition",
            transition_params(ci, co),
            transition_macs(size, ci, co),
            transition_bytes(size, ci, co, **traffic),
            (co, *conv_output_size(size, (2, 2), (2, 2), (0, 0))),
            f"Transition({ci}, {co})",
        ),
    ]
    return [
        {
            "type": name,
            "params": params,
            "macs": batch * macs,
            "bytes": nbytes,
            "intensity": 2 * batch * macs / nbytes if nbytes else 0.0,
            "output": tuple(output),
            "torch": torch_call,
        }
        for name, params, macs, nbytes, output, torch_call in rows
    ]


__all__ += [
    "CONNECTION_TYPES",
    "basic_block_bytes",
    "basic_block_macs",
    "basic_block_params",
    "bottleneck_bytes",
    "bottleneck_macs",
    "bottleneck_params",
    "connection_table",
    "dense_block_bytes",
    "dense_block_concat_memory",
    "dense_block_macs",
    "dense_block_params",
    "dense_layer_bytes",
    "dense_layer_macs",
    "dense_layer_params",
    "transition_bytes",
    "transition_macs",
    "transition_params",
]
