"""What a convolution costs: parameters, multiply-accumulates, memory traffic, arithmetic intensity.

Pure arithmetic on layer specifications (no arrays), one set of functions per type of the book,
and :func:`layer_table`, which puts every type side by side for one layer. One convention,
used by every function here:

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

A standard convolution layer ``C_in -> C_out`` with kernel ``K`` (a tuple, one entry per spatial
axis) and ``groups = g`` has ``C_out * C_in/g * prod(K)`` weights, and each of its
``C_out * prod(O)`` output values takes ``C_in/g * prod(K)`` MACs.
"""

from __future__ import annotations

import math

from ._checks import _non_negative, _positive, check_flag, check_positive_int, to_tuple
from .shapes import conv_output_size, conv_transpose_output_size

__all__ = ["TYPES", "arithmetic_intensity", "batch_norm_params", "conv2plus1d_bytes", "conv2plus1d_macs",
           "conv2plus1d_mid_channels", "conv2plus1d_params", "conv_bytes", "conv_macs", "conv_params",
           "conv_transpose_bytes", "conv_transpose_macs", "deform_conv_bytes", "deform_conv_macs",
           "deform_conv_params", "depthwise_conv_macs", "depthwise_conv_params", "global_depthwise_bytes",
           "global_depthwise_macs", "global_depthwise_params", "layer_table", "memory_access_cost",
           "separable_conv_bytes", "separable_conv_macs", "separable_conv_params", "spatially_separable_conv_bytes",
           "spatially_separable_conv_macs", "spatially_separable_conv_params", "squeeze_excitation_bytes",
           "squeeze_excitation_macs", "squeeze_excitation_params", "stack_macs", "stack_params"]


def _check_channels(in_channels, out_channels, groups):
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        check_positive_int(None, name, value)
    if in_channels % groups:
        raise ValueError(f"in_channels must be divisible by groups, got in_channels={in_channels} and groups={groups}")
    if out_channels % groups:
        raise ValueError(f"out_channels must be divisible by groups, got out_channels={out_channels} and "
                         f"groups={groups}")


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


def _output_size(input_size, kernel_size, stride, padding, dilation, n=2):
    """Output size of a convolution, every argument an int or a tuple of ``n`` (``padding`` also a string)."""
    return conv_output_size(to_tuple(input_size, n, "input_size"), to_tuple(kernel_size, n, "kernel_size"),
                            to_tuple(stride, n, "stride"),
                            padding if isinstance(padding, str) else to_tuple(padding, n, "padding"),
                            to_tuple(dilation, n, "dilation"))


def conv_params(in_channels, out_channels, kernel_size, groups=1, bias=True, ndim=None):
    """Number of learnable parameters of a convolution layer.

    ``C_out * (C_in / groups) * prod(kernel_size) + (C_out if bias else 0)``; equal to
    ``sum(p.numel() for p in torch.nn.Conv2d(...).parameters())``.

    Parameters
    ----------
    in_channels, out_channels, groups : int
    kernel_size : int or tuple of int
        An int means the same size along ``ndim`` axes.
    bias : bool
    ndim : int, optional
        Number of spatial axes; by default the length of ``kernel_size``, or 2 for an int.

    Examples
    --------
    >>> conv_params(3, 64, 7, bias=False)      # ResNet-50's first layer
    9408
    >>> conv_params(256, 256, 3, groups=8)
    73984
    """
    _check_channels(in_channels, out_channels, groups)
    kernel = _positive(kernel_size, _ndim(ndim, kernel_size), "kernel_size")
    return out_channels * (in_channels // groups) * math.prod(kernel) + (out_channels if check_flag(None, "bias", bias)
                                                                         else 0)


def conv_macs(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
              ndim=None):
    """Multiply-accumulates of one convolution over one input (batch size 1).

    ``C_out * prod(O) * (C_in / groups) * prod(kernel_size)`` with ``O`` the output size from
    :func:`conv_tutorial.shapes.conv_output_size`. Multiply by the batch size for a batch; the
    FLOP count is twice this.

    Parameters
    ----------
    input_size : int or tuple of int
        Spatial input size, ``(H, W)`` for 2D. Ints (here and below) mean the same size along
        ``ndim`` axes, as in :func:`conv_params`.
    in_channels, out_channels, groups : int
    kernel_size, stride, padding, dilation : as in ``torch.nn.Conv2d``
    ndim : int, optional
        Number of spatial axes; by default the length of any tuple argument, or 2.

    Examples
    --------
    >>> conv_macs(224, 3, 64, 7, stride=2, padding=3)   # ResNet-50's first layer
    118013952
    >>> conv_macs((32,), 1, 6, 5)                        # a 1D convolution
    840
    """
    _check_channels(in_channels, out_channels, groups)
    n = _ndim(ndim, input_size, kernel_size, stride, padding, dilation)
    kernel = to_tuple(kernel_size, n, "kernel_size")
    out = _output_size(input_size, kernel, stride, padding, dilation, n)
    return out_channels * math.prod(out) * (in_channels // groups) * math.prod(kernel)


def _stack_layers(layers):
    """Each layer as a dict of ``torch.nn.Conv2d``'s first seven arguments, checked."""
    names = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")
    try:
        layers = list(layers)
    except TypeError:
        raise TypeError(f"layers must be a sequence of (in_channels, out_channels, kernel_size, ...) tuples, "
                        f"got layers={layers!r}") from None
    if not layers:
        raise ValueError("layers must hold at least one layer, got an empty sequence")
    checked = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or not 3 <= len(layer) <= 7:
            raise ValueError(
                f"layers[{i}] must be a tuple (in_channels, out_channels, kernel_size[, stride[, padding"
                f"[, dilation[, groups]]]]) as in torch.nn.Conv2d, got {layer!r}"
            )
        args = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, **dict(zip(names, layer))}
        _check_channels(args["in_channels"], args["out_channels"], args["groups"])
        if i and args["in_channels"] != checked[-1]["out_channels"]:
            raise ValueError(
                f"layers[{i}] has in_channels={args['in_channels']}, but layers[{i - 1}] has "
                f"out_channels={checked[-1]['out_channels']}: consecutive layers must chain"
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
    return sum(conv_params(layer["in_channels"], layer["out_channels"], layer["kernel_size"], layer["groups"],
                           bias=bias, ndim=2) for layer in _stack_layers(layers))


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
    size = to_tuple(input_size, 2, "input_size")
    total = 0
    for layer in _stack_layers(layers):
        args = (layer["stride"], layer["padding"], layer["dilation"])
        total += conv_macs(size, layer["in_channels"], layer["out_channels"], layer["kernel_size"], *args,
                           groups=layer["groups"], ndim=2)
        size = conv_output_size(size, to_tuple(layer["kernel_size"], 2, "kernel_size"),
                                *(a if isinstance(a, str) else to_tuple(a, 2, name)
                                  for a, name in zip(args, ("stride", "padding", "dilation"))))
    return total


def batch_norm_params(num_features):
    """Learnable parameters of ``torch.nn.BatchNorm2d(num_features)``: a scale and a shift per channel.

    The running mean and variance are buffers, not parameters: they are not trained.

    >>> batch_norm_params(64)
    128
    """
    return 2 * check_positive_int(None, "num_features", num_features)


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
    t, h, w = _positive(kernel_size, 3, "kernel_size")
    mid = _mid_channels(in_channels, out_channels, (t, h, w), mid_channels)
    return mid * in_channels * h * w + out_channels * mid * t + (2 * mid if check_flag(None, "batch_norm", batch_norm)
                                                                 else 0)


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
    t, h, w = _positive(kernel_size, 3, "kernel_size")
    s_t, s_h, s_w = _positive(stride, 3, "stride")
    p_t, p_h, p_w = _non_negative(padding, 3, "padding")
    size_t, size_h, size_w = _positive(input_size, 3, "input_size")
    mid = _mid_channels(in_channels, out_channels, (t, h, w), mid_channels)
    spatial = conv_macs((size_t, size_h, size_w), in_channels, mid, (1, h, w), (1, s_h, s_w), (0, p_h, p_w))
    mid_size = conv_output_size((size_t, size_h, size_w), (1, h, w), (1, s_h, s_w), (0, p_h, p_w))
    temporal = conv_macs(mid_size, mid, out_channels, (t, 1, 1), (s_t, 1, 1), (p_t, 0, 0))
    return spatial + temporal


def _se_reduced(channels, reduction):
    for name, value in (("channels", channels), ("reduction", reduction)):
        check_positive_int(None, name, value)
    if channels // reduction < 1:
        raise ValueError(f"channels // reduction must be at least 1, got channels={channels} and reduction={reduction}")
    return channels // reduction


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
    reduced = _se_reduced(channels, reduction)
    return 2 * channels * reduced + ((reduced + channels) if check_flag(None, "bias", bias) else 0)


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
    reduced = _se_reduced(channels, reduction)
    return 2 * channels * reduced


def _spatial_size(spatial_size):
    return _positive(spatial_size, 2, "spatial_size")


def global_depthwise_params(channels, spatial_size, bias=False):
    """Parameters of a global depthwise convolution: one ``H x W`` filter per channel.

    ``conv_params(C, C, (H, W), groups=C, bias=bias)`` = ``C H W`` (``+ C`` with a bias).

    Examples
    --------
    >>> global_depthwise_params(512, 7)    # MobileFaceNet's GDC on its 7 x 7 x 512 map
    25088
    """
    check_positive_int(None, "channels", channels)
    return conv_params(channels, channels, _spatial_size(spatial_size), groups=channels, bias=bias)


def global_depthwise_macs(channels, spatial_size):
    """Multiply-accumulates of a global depthwise convolution over one image: ``C H W``, one per input value.

    The same count as the additions of global average pooling, which is the special case of
    constant weights.

    Examples
    --------
    >>> global_depthwise_macs(512, 7)
    25088
    """
    check_positive_int(None, "channels", channels)
    size = _spatial_size(spatial_size)
    return conv_macs(size, channels, channels, size, groups=channels)


def memory_access_cost(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                       groups=1, ndim=None):
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

    Parameters
    ----------
    input_size : int or tuple of int
        Spatial input size ``I``.
    in_channels, out_channels, groups : int
    kernel_size, stride, padding, dilation : as in ``torch.nn.Conv2d``
    ndim : int, optional
        Number of spatial axes; by default the length of any tuple argument, or 2.

    Examples
    --------
    >>> memory_access_cost(56, 128, 128, 1)              # hw(c1 + c2) + c1 c2 = 3136 * 256 + 16384
    819200
    >>> memory_access_cost(56, 360, 360, 1, groups=8)    # about the same FLOPs with g = 8: more MAC
    2274120
    """
    # The same count as conv_bytes, in elements rather than bytes, for one image.
    n = _ndim(ndim, input_size, kernel_size, stride, padding, dilation)
    return conv_bytes(to_tuple(input_size, n, "input_size"), in_channels, out_channels,
                      to_tuple(kernel_size, n, "kernel_size"), stride, padding, dilation, groups, batch=1, itemsize=1)


def conv_transpose_macs(input_size, in_channels, out_channels, kernel_size, groups=1, ndim=None):
    """Multiply-accumulates of one transposed convolution over one input (batch size 1).

    Every input value is multiplied by the ``C_out / groups`` kernels of its group and each
    product added onto the output: ``prod(I) * C_in * (C_out / groups) * prod(kernel_size)``.
    Stride, padding and dilation move the products, they do not change their number (taps that
    land in the cropped ``padding`` are computed and thrown away), which is how
    ``torch.utils.flop_counter`` counts them too.

    Parameters
    ----------
    input_size : int or tuple of int
        Spatial size of the transposed convolution's input.
    in_channels, out_channels, groups : int
    kernel_size : int or tuple of int
    ndim : int, optional
        Number of spatial axes; by default the length of any tuple argument, or 2.

    Examples
    --------
    >>> conv_transpose_macs(16, 64, 32, 4)     # ConvTranspose2d(64, 32, 4, stride=2, padding=1) on 16x16
    8388608
    """
    _check_channels(in_channels, out_channels, groups)
    n = _ndim(ndim, input_size, kernel_size)
    sizes = to_tuple(input_size, n, "input_size")
    kernel = to_tuple(kernel_size, n, "kernel_size")
    if any(v <= 0 for v in sizes + kernel):
        raise ValueError(f"input_size and kernel_size must be positive, got input_size={input_size!r}, "
                         f"kernel_size={kernel_size!r}")
    return math.prod(sizes) * in_channels * (out_channels // groups) * math.prod(kernel)


def depthwise_conv_params(in_channels, kernel_size, depth_multiplier=1, bias=True):
    """Parameters of a depthwise convolution: ``C_in * m`` filters of one channel each.

    ``C_in * m * kH * kW + (C_in * m if bias else 0)``; it is :func:`conv_params` with
    ``groups = C_in`` and ``C_out = C_in * m``.

    Examples
    --------
    >>> depthwise_conv_params(3, 3, bias=False)    # the 3x3x3 of the depthwise step
    27
    """
    check_positive_int(None, "in_channels", in_channels)
    check_positive_int(None, "depth_multiplier", depth_multiplier)
    return conv_params(in_channels, in_channels * depth_multiplier, kernel_size, groups=in_channels, bias=bias)


def depthwise_conv_macs(input_size, in_channels, kernel_size, stride=1, padding=0, dilation=1, depth_multiplier=1):
    """Multiply-accumulates of a depthwise convolution over one image: ``C_in * m * prod(O) * kH * kW``.

    Examples
    --------
    >>> depthwise_conv_macs(12, 3, 5)              # 3 channels, 8x8 outputs, 25 taps
    4800
    """
    check_positive_int(None, "in_channels", in_channels)
    check_positive_int(None, "depth_multiplier", depth_multiplier)
    return conv_macs(input_size, in_channels, in_channels * depth_multiplier, kernel_size, stride, padding,
                     dilation, groups=in_channels)


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
    mid = check_positive_int(None, "in_channels", in_channels) * check_positive_int(None, "depth_multiplier",
                                                                                     depth_multiplier)
    return (depthwise_conv_params(in_channels, kernel_size, depth_multiplier, bias)
            + conv_params(mid, out_channels, 1, bias=bias))


def separable_conv_macs(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                        depth_multiplier=1):
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
    size = to_tuple(input_size, 2, "input_size")
    out = _output_size(size, kernel, stride, padding, dilation)
    return (depthwise_conv_macs(size, in_channels, kernel, stride, padding, dilation, depth_multiplier)
            + conv_macs(out, in_channels * depth_multiplier, out_channels, 1))


def spatially_separable_conv_params(in_channels, out_channels, kernel_size, mid_channels=None, groups=1, bias=True):
    """Parameters of a ``kH x 1`` convolution followed by a ``1 x kW`` one.

    ``C_mid (C_in / g) kH + C_out (C_mid / g) kW`` weights (``C_mid`` defaults to ``C_out``),
    plus ``C_mid + C_out`` biases when ``bias``.

    Examples
    --------
    >>> spatially_separable_conv_params(64, 64, 3, bias=False), conv_params(64, 64, 3, bias=False)
    (24576, 36864)
    """
    mid = out_channels if mid_channels is None else check_positive_int(None, "mid_channels", mid_channels)
    kh, kw = to_tuple(kernel_size, 2, "kernel_size")
    return (conv_params(in_channels, mid, (kh, 1), groups, bias)
            + conv_params(mid, out_channels, (1, kw), groups, bias))


def spatially_separable_conv_macs(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0,
                                  dilation=1, mid_channels=None, groups=1):
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
    mid = out_channels if mid_channels is None else check_positive_int(None, "mid_channels", mid_channels)
    size = to_tuple(input_size, 2, "input_size")
    column, row = _separable_steps(kernel_size, stride, padding, dilation)
    column_out = conv_output_size(size, *column)
    return conv_macs(size, in_channels, mid, *column, groups) + conv_macs(column_out, mid, out_channels, *row, groups)


def _separable_steps(kernel_size, stride, padding, dilation):
    """``(kernel, stride, padding, dilation)`` of the column step and of the row step.

    The column step works along the height only, the row step along the width only; ``'same'``
    and ``'valid'`` apply to both, as in :func:`conv_tutorial.numpy.spatially_separable_conv2d`.
    """
    (kh, kw), (sh, sw) = to_tuple(kernel_size, 2, "kernel_size"), to_tuple(stride, 2, "stride")
    (dh, dw) = to_tuple(dilation, 2, "dilation")
    if isinstance(padding, str):
        pads = (padding, padding)
    else:
        ph, pw = to_tuple(padding, 2, "padding")
        pads = ((ph, 0), (0, pw))
    return ((kh, 1), (sh, 1), pads[0], (dh, 1)), ((1, kw), (1, sw), pads[1], (1, dw))


def _check_traffic(batch, itemsize):
    check_positive_int(None, "batch", batch, minimum=0)
    if check_positive_int(None, "itemsize", itemsize) not in (1, 2, 4, 8):
        raise ValueError(f"itemsize must be 1, 2, 4 or 8 bytes, got itemsize={itemsize!r}")


def _flops_per_byte(macs, nbytes):
    return 2 * macs / nbytes


def conv_bytes(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
               batch=1, itemsize=4):
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
    n = _ndim(None, input_size, kernel_size, stride, padding, dilation)
    size = to_tuple(input_size, n, "input_size")
    out = _output_size(size, kernel_size, stride, padding, dilation, n)
    elements = batch * (in_channels * math.prod(size) + out_channels * math.prod(out))
    return itemsize * (elements + conv_params(in_channels, out_channels, kernel_size, groups, bias=False, ndim=n))


def arithmetic_intensity(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                         groups=1, batch=1, itemsize=4):
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
    macs = batch * conv_macs(input_size, in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
    return _flops_per_byte(macs, conv_bytes(input_size, in_channels, out_channels, kernel_size, stride, padding,
                                            dilation, groups, batch, itemsize))


def _check_offset_groups(in_channels, offset_groups):
    _check_channels(in_channels, in_channels, 1)
    check_positive_int(None, "offset_groups", offset_groups)
    if in_channels % offset_groups:
        raise ValueError(f"in_channels must be divisible by offset_groups, got in_channels={in_channels} and "
                         f"offset_groups={offset_groups}")


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
    _check_offset_groups(in_channels, offset_groups)
    kernel = _positive(kernel_size, 2, "kernel_size")
    predicted = (3 if check_flag(None, "modulated", modulated) else 2) * offset_groups * math.prod(kernel)
    return conv_params(in_channels, out_channels, kernel, groups, bias) + conv_params(in_channels, predicted, kernel)


def deform_conv_macs(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                     offset_groups=1, modulated=False):
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
    _check_offset_groups(in_channels, offset_groups)
    kernel = _positive(kernel_size, 2, "kernel_size")
    predicted = (3 if check_flag(None, "modulated", modulated) else 2) * offset_groups * math.prod(kernel)
    args = (to_tuple(input_size, 2, "input_size"), kernel, stride, padding, dilation)
    out = conv_output_size(args[0], kernel, stride, padding, dilation)
    sampling = (5 if modulated else 4) * in_channels * math.prod(kernel) * math.prod(out)
    main = conv_macs(args[0], in_channels, out_channels, kernel, stride, padding, dilation, groups)
    return conv_macs(args[0], in_channels, predicted, kernel, stride, padding, dilation) + sampling + main


def conv_transpose_bytes(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                         groups=1, dilation=1, batch=1, itemsize=4):
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
    size, kernel = to_tuple(input_size, n, "input_size"), to_tuple(kernel_size, n, "kernel_size")
    out = conv_transpose_output_size(size, kernel, to_tuple(stride, n, "stride"), to_tuple(padding, n, "padding"),
                                     to_tuple(output_padding, n, "output_padding"), to_tuple(dilation, n, "dilation"))
    weights = in_channels * (out_channels // groups) * math.prod(kernel)
    return itemsize * (batch * (in_channels * math.prod(size) + out_channels * math.prod(out)) + weights)


def separable_conv_bytes(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                         depth_multiplier=1, batch=1, itemsize=4):
    """Bytes a depthwise separable convolution moves: the depthwise step's plus the pointwise step's.

    The depthwise output is written by the first step and read back by the second (unless the
    two are fused into one kernel), so it counts twice.

    Examples
    --------
    >>> separable_conv_bytes(56, 128, 128, 3, padding=1)    # 4 maps of 56x56x128 + 17,536 weights
    6492672
    """
    mid = check_positive_int(None, "in_channels", in_channels) * check_positive_int(None, "depth_multiplier",
                                                                                     depth_multiplier)
    out = _output_size(input_size, kernel_size, stride, padding, dilation)
    return (conv_bytes(input_size, in_channels, mid, kernel_size, stride, padding, dilation, in_channels, batch,
                       itemsize)
            + conv_bytes(out, mid, out_channels, 1, batch=batch, itemsize=itemsize))


def spatially_separable_conv_bytes(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0,
                                   dilation=1, mid_channels=None, groups=1, batch=1, itemsize=4):
    """Bytes a ``kH x 1`` then ``1 x kW`` convolution moves: the sum of its two steps'.

    Examples
    --------
    >>> spatially_separable_conv_bytes(5, 1, 1, 3)    # 25 + 15 (+ 3) then 15 + 9 (+ 3) elements of 4 bytes
    280
    """
    mid = out_channels if mid_channels is None else check_positive_int(None, "mid_channels", mid_channels)
    size = to_tuple(input_size, 2, "input_size")
    column, row = _separable_steps(kernel_size, stride, padding, dilation)
    column_out = conv_output_size(size, *column)
    return (conv_bytes(size, in_channels, mid, *column, groups, batch, itemsize)
            + conv_bytes(column_out, mid, out_channels, *row, groups, batch, itemsize))


def conv2plus1d_bytes(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, mid_channels=None,
                      batch=1, itemsize=4):
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
    t, h, w = _positive(kernel_size, 3, "kernel_size")
    s_t, s_h, s_w = _positive(stride, 3, "stride")
    p_t, p_h, p_w = _non_negative(padding, 3, "padding")
    size = _positive(input_size, 3, "input_size")
    mid = _mid_channels(in_channels, out_channels, (t, h, w), mid_channels)
    mid_size = conv_output_size(size, (1, h, w), (1, s_h, s_w), (0, p_h, p_w))
    return (conv_bytes(size, in_channels, mid, (1, h, w), (1, s_h, s_w), (0, p_h, p_w), batch=batch,
                       itemsize=itemsize)
            + conv_bytes(mid_size, mid, out_channels, (t, 1, 1), (s_t, 1, 1), (p_t, 0, 0), batch=batch,
                         itemsize=itemsize))


def deform_conv_bytes(input_size, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                      offset_groups=1, modulated=False, batch=1, itemsize=4):
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
    _check_offset_groups(in_channels, offset_groups)
    _check_traffic(batch, itemsize)
    kernel = _positive(kernel_size, 2, "kernel_size")
    predicted = (3 if check_flag(None, "modulated", modulated) else 2) * offset_groups * math.prod(kernel)
    out = _output_size(input_size, kernel, stride, padding, dilation)
    offsets_read = itemsize * batch * predicted * math.prod(out)
    return (conv_bytes(input_size, in_channels, predicted, kernel, stride, padding, dilation, 1, batch, itemsize)
            + offsets_read
            + conv_bytes(input_size, in_channels, out_channels, kernel, stride, padding, dilation, groups, batch,
                         itemsize))


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
    reduced = _se_reduced(channels, reduction)
    _check_traffic(batch, itemsize)
    size = _spatial_size(spatial_size)
    elements = batch * (3 * channels * math.prod(size) + 4 * channels + 2 * reduced)
    return itemsize * (elements + 2 * channels * reduced)


def global_depthwise_bytes(channels, spatial_size, batch=1, itemsize=4):
    """Bytes a global depthwise convolution moves: the map and the ``C H W`` weights read, ``C`` values written.

    Examples
    --------
    >>> global_depthwise_bytes(512, 7)       # 25,088 inputs + 25,088 weights + 512 outputs
    202752
    """
    check_positive_int(None, "channels", channels)
    size = _spatial_size(spatial_size)
    return conv_bytes(size, channels, channels, size, groups=channels, batch=batch, itemsize=itemsize)


#: The convolution types of the book, in chapter order: the rows of :func:`layer_table`.
TYPES = ("standard", "pointwise", "spatially separable", "depthwise", "depthwise separable", "grouped", "dilated",
         "transposed", "3D", "(2+1)D", "deformable", "SE", "GDC")


def _positive_arg(name, value):
    return check_positive_int(None, name, value)


def layer_table(input_size, in_channels, out_channels, kernel_size=3, stride=1, batch=1, itemsize=4, groups=4,
                dilation=2, frames=8, reduction=16):
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
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("kernel_size", kernel_size),
                        ("stride", stride), ("itemsize", itemsize), ("groups", groups), ("dilation", dilation),
                        ("frames", frames), ("reduction", reduction)):
        _positive_arg(name, value)
    _check_traffic(batch, itemsize)
    size = _positive(input_size, 2, "input_size")
    ci, co, k, s, d = in_channels, out_channels, kernel_size, stride, dilation
    p = k // 2
    traffic = dict(batch=batch, itemsize=itemsize)
    at = "" if s == 1 else f", stride={s}"
    clip, clip_stride = (frames, *size), (1, s, s)
    clip_at = "" if s == 1 else f", stride=(1, {s}, {s})"
    out_pad = s - 1
    map_name = f"{size[0]}" if size[0] == size[1] else f"{size}"

    def out2d(channels, kernel=k, padding=p, dilation_=1):
        return (channels, *conv_output_size(size, (kernel, kernel), (s, s), (padding, padding), (dilation_, dilation_)))

    # (type, params, per-image MACs, bytes, output shape, torch equivalent)
    rows = [
        ("standard", conv_params(ci, co, k), conv_macs(size, ci, co, k, s, p),
         conv_bytes(size, ci, co, k, s, p, **traffic), out2d(co), f"nn.Conv2d({ci}, {co}, {k}{at}, padding={p})"),
        ("pointwise", conv_params(ci, co, 1), conv_macs(size, ci, co, 1, s),
         conv_bytes(size, ci, co, 1, s, **traffic), out2d(co, 1, 0), f"nn.Conv2d({ci}, {co}, 1{at})"),
        ("spatially separable", spatially_separable_conv_params(ci, co, k),
         spatially_separable_conv_macs(size, ci, co, k, s, p), spatially_separable_conv_bytes(size, ci, co, k, s, p,
                                                                                               **traffic),
         out2d(co), f"SpatiallySeparableConv2d({ci}, {co}, {k}{at}, padding={p})"),
        ("depthwise", depthwise_conv_params(ci, k), depthwise_conv_macs(size, ci, k, s, p),
         conv_bytes(size, ci, ci, k, s, p, groups=ci, **traffic), out2d(ci),
         f"nn.Conv2d({ci}, {ci}, {k}{at}, padding={p}, groups={ci})"),
        ("depthwise separable", separable_conv_params(ci, co, k), separable_conv_macs(size, ci, co, k, s, p),
         separable_conv_bytes(size, ci, co, k, s, p, **traffic), out2d(co),
         f"DepthwiseSeparableConv2d({ci}, {co}, {k}{at}, padding={p})"),
        ("grouped", conv_params(ci, co, k, groups), conv_macs(size, ci, co, k, s, p, groups=groups),
         conv_bytes(size, ci, co, k, s, p, groups=groups, **traffic), out2d(co),
         f"nn.Conv2d({ci}, {co}, {k}{at}, padding={p}, groups={groups})"),
        ("dilated", conv_params(ci, co, k), conv_macs(size, ci, co, k, s, d * p, d),
         conv_bytes(size, ci, co, k, s, d * p, d, **traffic), out2d(co, k, d * p, d),
         f"nn.Conv2d({ci}, {co}, {k}{at}, padding={d * p}, dilation={d})"),
        ("transposed", conv_params(ci, co, k), conv_transpose_macs(size, ci, co, k),
         conv_transpose_bytes(size, ci, co, k, s, p, out_pad, **traffic),
         (co, *conv_transpose_output_size(size, (k, k), (s, s), (p, p), (out_pad, out_pad))),
         f"nn.ConvTranspose2d({ci}, {co}, {k}{at}, padding={p}{f', output_padding={out_pad}' if out_pad else ''})"),
        ("3D", conv_params(ci, co, k, ndim=3), conv_macs(clip, ci, co, k, clip_stride, p),
         conv_bytes(clip, ci, co, (k, k, k), clip_stride, p, **traffic),
         (co, *conv_output_size(clip, (k, k, k), clip_stride, (p, p, p))),
         f"nn.Conv3d({ci}, {co}, {k}{clip_at}, padding={p})"),
        ("(2+1)D", conv2plus1d_params(ci, co, k), conv2plus1d_macs(clip, ci, co, k, clip_stride, p),
         conv2plus1d_bytes(clip, ci, co, k, clip_stride, p, **traffic),
         (co, *conv_output_size(clip, (k, k, k), clip_stride, (p, p, p))),
         f"Conv2Plus1d({ci}, {co}, {k}{clip_at}, padding={p})"),
        ("deformable", deform_conv_params(ci, co, k), deform_conv_macs(size, ci, co, k, s, p),
         deform_conv_bytes(size, ci, co, k, s, p, **traffic), out2d(co),
         f"DeformConv2d({ci}, {co}, {k}{at}, padding={p})"),
        ("SE", squeeze_excitation_params(ci, reduction), squeeze_excitation_macs(ci, reduction),
         squeeze_excitation_bytes(ci, size, reduction, **traffic), (ci, *size),
         f"SqueezeExcitation({ci}, reduction={reduction})"),
        ("GDC", global_depthwise_params(ci, size), global_depthwise_macs(ci, size),
         global_depthwise_bytes(ci, size, **traffic), (ci, 1, 1), f"GlobalDepthwiseConv2d({ci}, {map_name})"),
    ]
    return [{"type": name, "params": params, "macs": batch * macs, "bytes": nbytes,
             "intensity": _flops_per_byte(batch * macs, nbytes) if nbytes else 0.0, "output": tuple(output),
             "torch": torch_call}
            for name, params, macs, nbytes, output, torch_call in rows]


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
    params = (conv_params(in_channels, out_channels, 3, bias=False) + conv_params(out_channels, out_channels, 3,
                                                                                  bias=False)
              + 2 * batch_norm_params(out_channels))
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
    _counts(in_channels=in_channels, mid_channels=mid_channels, out_channels=out_channels, stride=stride,
            groups=groups)
    params = (conv_params(in_channels, mid_channels, 1, bias=False)
              + conv_params(mid_channels, mid_channels, 3, groups, bias=False)
              + conv_params(mid_channels, out_channels, 1, bias=False)
              + 2 * batch_norm_params(mid_channels) + batch_norm_params(out_channels))
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
    _counts(in_channels=in_channels, mid_channels=mid_channels, out_channels=out_channels, stride=stride,
            groups=groups)
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
    _counts(in_channels=in_channels, mid_channels=mid_channels, out_channels=out_channels, stride=stride,
            groups=groups)
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
    return (batch_norm_params(in_channels) + conv_params(in_channels, width, 1, bias=False)
            + batch_norm_params(width) + conv_params(width, growth_rate, 3, bias=False))


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
    return (conv_bytes(size, in_channels, width, 1, **traffic) + conv_bytes(size, width, growth_rate, 3, padding=1,
                                                                            **traffic)
            + itemsize * batch * 2 * (in_channels + growth_rate) * math.prod(size))


def _dense_inputs(num_layers, in_channels, growth_rate):
    """The input channels of each layer of a dense block: ``k0 + l k`` for ``l = 0 .. L - 1``."""
    _counts(num_layers=num_layers, in_channels=in_channels, growth_rate=growth_rate)
    return [in_channels + layer * growth_rate for layer in range(num_layers)]


def dense_block_params(num_layers, in_channels, growth_rate, bn_size=4):
    """Parameters of a dense block (:class:`conv_tutorial.torch.DenseBlock`): :func:`dense_layer_params` summed
    over layers of ``k0 + l k`` input channels.

    Examples
    --------
    >>> dense_block_params(6, 64, 32)         # DenseNet-121's first block
    335040
    """
    return sum(dense_layer_params(c, growth_rate, bn_size) for c in _dense_inputs(num_layers, in_channels,
                                                                                 growth_rate))


def dense_block_macs(input_size, num_layers, in_channels, growth_rate, bn_size=4):
    """Multiply-accumulates of a dense block on one input: :func:`dense_layer_macs` summed over its layers.

    Examples
    --------
    >>> dense_block_macs(56, 6, 64, 32)
    1040449536
    """
    return sum(dense_layer_macs(input_size, c, growth_rate, bn_size) for c in _dense_inputs(num_layers, in_channels,
                                                                                           growth_rate))


def dense_block_bytes(input_size, num_layers, in_channels, growth_rate, bn_size=4, batch=1, itemsize=4):
    """Memory-traffic floor of a dense block: :func:`dense_layer_bytes` summed over its layers.

    Examples
    --------
    >>> dense_block_bytes(56, 6, 64, 32)
    60334080
    """
    return sum(dense_layer_bytes(input_size, c, growth_rate, bn_size, batch, itemsize)
               for c in _dense_inputs(num_layers, in_channels, growth_rate))


def dense_block_concat_memory(input_size, num_layers, in_channels, growth_rate, batch=1, itemsize=4):
    """Bytes held by the concatenated maps of a dense block when each layer makes a new tensor, as
    ``torch.cat`` does: ``sum over l of (k0 + (l + 1) k) H W`` numbers per image.

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
    """Parameters of a DenseNet transition (:class:`conv_tutorial.torch.Transition`): BN over ``C_in`` and a
    1x1 convolution ``C_in -> C_out`` (the pooling has none).

    Examples
    --------
    >>> transition_params(256, 128)
    33280
    """
    _counts(in_channels=in_channels, out_channels=out_channels)
    return batch_norm_params(in_channels) + conv_params(in_channels, out_channels, 1, bias=False)


def transition_macs(input_size, in_channels, out_channels):
    """Multiply-accumulates of a DenseNet transition: the 1x1 convolution at full resolution, before the
    pooling (which does no MACs).

    Examples
    --------
    >>> transition_macs(56, 256, 128)
    102760448
    """
    size = _map(input_size)
    _counts(in_channels=in_channels, out_channels=out_channels)
    return conv_macs(size, in_channels, out_channels, 1)


def transition_bytes(input_size, in_channels, out_channels, batch=1, itemsize=4):
    """Memory-traffic floor of a DenseNet transition: the 1x1 convolution, then the 2x2 average pooling
    (reads ``C_out H W``, writes ``C_out floor(H/2) floor(W/2)`` numbers per image).

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


def connection_table(input_size, in_channels, out_channels, stride=1, batch=1, itemsize=4, growth_rate=32,
                     bn_size=4):
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
    _counts(in_channels=in_channels, out_channels=out_channels, stride=stride, growth_rate=growth_rate,
            bn_size=bn_size)
    check_positive_int(None, "batch", batch, minimum=0)
    ci, co, s, k = in_channels, out_channels, stride, growth_rate
    mid = max(1, co // 4)
    traffic = dict(batch=batch, itemsize=itemsize)
    strided = conv_output_size(size, (3, 3), (s, s), (1, 1))
    at = "" if s == 1 else f", stride={s}"
    rows = [
        ("basic block", basic_block_params(ci, co, s), basic_block_macs(size, ci, co, s),
         basic_block_bytes(size, ci, co, s, **traffic), (co, *strided), f"BasicBlock({ci}, {co}{at})"),
        ("bottleneck block", bottleneck_params(ci, mid, co, s), bottleneck_macs(size, ci, mid, co, s),
         bottleneck_bytes(size, ci, mid, co, s, **traffic), (co, *strided), f"Bottleneck({ci}, {mid}, {co}{at})"),
        ("dense layer", dense_layer_params(ci, k, bn_size), dense_layer_macs(size, ci, k, bn_size),
         dense_layer_bytes(size, ci, k, bn_size, **traffic), (ci + k, *size),
         f"DenseLayer({ci}, {k}{'' if bn_size == 4 else f', bn_size={bn_size}'})"),
        ("transition", transition_params(ci, co), transition_macs(size, ci, co), transition_bytes(size, ci, co,
                                                                                                  **traffic),
         (co, *conv_output_size(size, (2, 2), (2, 2), (0, 0))), f"Transition({ci}, {co})"),
    ]
    return [{"type": name, "params": params, "macs": batch * macs, "bytes": nbytes,
             "intensity": 2 * batch * macs / nbytes if nbytes else 0.0, "output": tuple(output), "torch": torch_call}
            for name, params, macs, nbytes, output, torch_call in rows]


__all__ += ["CONNECTION_TYPES", "basic_block_bytes", "basic_block_macs", "basic_block_params", "bottleneck_bytes",
            "bottleneck_macs", "bottleneck_params", "connection_table", "dense_block_bytes",
            "dense_block_concat_memory", "dense_block_macs", "dense_block_params", "dense_layer_bytes",
            "dense_layer_macs", "dense_layer_params", "transition_bytes", "transition_macs", "transition_params"]
