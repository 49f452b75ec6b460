"""The hypothesis strategies of the tests: valid configurations of every convolution type, in one place.

Each strategy draws the arguments of one call (shapes, stride, padding, dilation, groups, ...) that
the call must accept; arrays are float64 NumPy arrays (the tests convert them for the torch backend)
or a seed for them.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st


def int_or_tuple(draw, n, values):
    """An int or an ``n``-tuple drawn from ``values`` (an int only when every axis is equal), and its tuple form."""
    axes = tuple(draw(values) for _ in range(n))
    if len(set(axes)) == 1 and draw(st.booleans()):
        return axes[0], axes
    return axes, axes


def as_tuple(value, n):
    return tuple(value) if isinstance(value, tuple) else (value,) * n


# --- standard and transposed convolutions, unfold and fold (both backends) ----------------------


@st.composite
def conv_configs(draw, ndims=(1, 2, 3), paddings=("int", "valid", "same")):
    """A valid convolution ``(n, x, w, b, kwargs)``: PyTorch's layouts, stride, padding and dilation as
    ints or tuples, padding also ``'valid'`` or ``'same'`` (then stride 1), batches of 0 to 2."""
    n = draw(st.sampled_from(ndims))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(n))
    dilation, dils = int_or_tuple(draw, n, st.integers(1, 3))
    kind = draw(st.sampled_from(paddings))
    if kind == "same":
        stride, padding, pads = draw(st.sampled_from([1, (1,) * n])), "same", (0,) * n
    else:
        stride, _ = int_or_tuple(draw, n, st.integers(1, 3))
        padding, pads = int_or_tuple(draw, n, st.integers(0, 2)) if kind == "int" else ("valid", (0,) * n)
    # Smallest input the (dilated) kernel fits in, plus a few pixels.
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4)) for k, d, p in zip(kernel, dils, pads, strict=True)
    )
    batch = draw(st.integers(0, 2)) if draw(st.booleans()) else 2
    x = rng.standard_normal((batch, c_in, *size))
    w = rng.standard_normal((c_out, c_in // groups, *kernel))
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return n, x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@st.composite
def transposed_configs(draw, ndims=(1, 2, 3)):
    """A valid transposed convolution ``(n, y, w, b, kwargs)``, output_padding smaller than stride or dilation."""
    n, x, w, b, kw = draw(conv_configs(ndims=ndims, paddings=("int",)))
    groups, c_in, c_out = kw["groups"], x.shape[1], w.shape[0]
    # Transposed layout (C_in, C_out // groups, *K): reuse the drawn numbers with roles swapped.
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weight = rng.standard_normal((c_in, c_out // groups, *w.shape[2:]))
    strides, dils = as_tuple(kw["stride"], n), as_tuple(kw["dilation"], n)
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dils, strict=True))
    kw = dict(kw, output_padding=out_pad[0] if len(set(out_pad)) == 1 and draw(st.booleans()) else out_pad)
    full = [
        (i - 1) * s + d * (k - 1) + op + 1
        for i, s, d, k, op in zip(x.shape[2:], strides, dils, w.shape[2:], out_pad, strict=True)
    ]
    if any(f - 2 * p <= 0 for f, p in zip(full, as_tuple(kw["padding"], n), strict=True)):
        kw["padding"] = 0  # this padding would crop away the whole output
    return n, x, weight, b, kw


@st.composite
def window_configs(draw):
    """Arguments of a valid unfold (and the fold back): ints or pairs, batched or not."""
    kernel, ks = int_or_tuple(draw, 2, st.integers(1, 3))
    dilation, ds = int_or_tuple(draw, 2, st.integers(1, 2))
    padding, ps = int_or_tuple(draw, 2, st.integers(0, 2))
    stride, _ = int_or_tuple(draw, 2, st.integers(1, 3))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4)) for k, d, p in zip(ks, ds, ps, strict=True))
    lead = () if draw(st.booleans()) else (draw(st.integers(1, 2)),)
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal((*lead, draw(st.integers(1, 3)), *size))
    return x, dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)


# --- pointwise convolution ------------------------------------------------------------------------


@st.composite
def pointwise_configs(draw):
    return dict(
        batch=draw(st.integers(0, 3)),
        in_channels=draw(st.integers(1, 6)),
        out_channels=draw(st.integers(1, 6)),
        size=(draw(st.integers(1, 5)), draw(st.integers(1, 5))),
        weight_2d=draw(st.booleans()),
        bias=draw(st.booleans()),
        unbatched=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


# --- depthwise and (spatially) separable convolutions ---------------------------------------------


@st.composite
def depthwise_configs(draw):
    """A depthwise layer with a channel multiplier: input, weight, bias and keyword arguments."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c_in, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.just("valid")))
    pads = (0, 0) if padding == "valid" else padding
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 5))
        for k, d, p in zip(kernel, dilation, pads, strict=True)
    )
    x = rng.standard_normal((draw(st.integers(0, 3)), c_in, *size))
    w = rng.standard_normal((c_in * m, 1, *kernel))
    b = rng.standard_normal(c_in * m) if draw(st.booleans()) else None
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation)


@st.composite
def spatial_configs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    groups = draw(st.integers(1, 2))
    c_in, c_mid, c_out = (groups * draw(st.integers(1, 3)) for _ in range(3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.just("valid")))
    pads = (0, 0) if padding == "valid" else padding
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4))
        for k, d, p in zip((kh, kw), dilation, pads, strict=True)
    )
    x = rng.standard_normal((draw(st.integers(1, 2)), c_in, *size))
    col = rng.standard_normal((c_mid, c_in // groups, kh, 1))
    row = rng.standard_normal((c_out, c_mid // groups, 1, kw))
    return x, col, row, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


# --- group convolution and channel shuffle --------------------------------------------------------


@st.composite
def grouped_configs(draw):
    """A grouped conv2d with up to 8 groups of 1 to 3 channels, stride, padding and dilation."""
    groups = draw(st.integers(1, 8))
    kernel = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.integers(0, 2))
    size = max(1, dilation * (kernel - 1) + 1 - 2 * padding) + draw(st.integers(0, 4))
    return dict(
        shape=(draw(st.integers(0, 2)), groups * draw(st.integers(1, 3)), size, size + draw(st.integers(0, 2))),
        weight=(groups * draw(st.integers(1, 3)), None, kernel, kernel),
        args=dict(stride=draw(st.integers(1, 2)), padding=padding, dilation=dilation, groups=groups),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


@st.composite
def shuffle_configs(draw):
    groups = draw(st.integers(1, 6))
    rest = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    return (draw(st.integers(0, 2)), groups * draw(st.integers(1, 4)), *rest), groups, draw(st.integers(0, 2**31))


# --- dilated convolution --------------------------------------------------------------------------


@st.composite
def dilation_stacks(draw):
    n_layers = draw(st.integers(1, 3))
    dilations = [draw(st.integers(1, 4)) for _ in range(n_layers)]
    kernel = draw(st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=n_layers, max_size=n_layers)))
    return dilations, kernel, draw(st.sampled_from([1, 2]))


# --- transposed convolution: axes, small layers, overlap maps -------------------------------------


@st.composite
def axis_convs(draw):
    """One axis of a valid convolution (i, k, s, p, d)."""
    k, s, d, p = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(0, 3))
    i = max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 7))
    return i, k, s, p, d


@st.composite
def small_conv2d_configs(draw):
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4))
        for k, d, p in zip(kernel, dilation, padding, strict=True)
    )
    args = dict(stride=stride, padding=padding, dilation=dilation)
    return c_in, c_out, size, kernel, args, draw(st.integers(0, 2**31))


@st.composite
def overlap_configs(draw):
    n = draw(st.sampled_from([1, 2]))
    kernel = tuple(draw(st.integers(1, 5)) for _ in range(n))
    stride = tuple(draw(st.integers(1, 4)) for _ in range(n))
    padding = tuple(draw(st.integers(0, k - 1)) for k in kernel)
    output_padding = tuple(draw(st.integers(0, s - 1)) for s in stride)
    size = tuple(draw(st.integers(1, 5)) for _ in range(n))
    assume(
        all(
            (i - 1) * s - 2 * p + k + op > 0
            for i, s, p, k, op in zip(size, stride, padding, kernel, output_padding, strict=True)
        )
    )
    return size, kernel, stride, padding, output_padding


# --- 3D convolution -------------------------------------------------------------------------------


@st.composite
def conv3d_configs(draw):
    groups = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(3))
    dilation, dils = int_or_tuple(draw, 3, st.integers(1, 2))
    if draw(st.booleans()):
        stride, padding, pads = 1, "same", (0, 0, 0)
    else:
        stride, _ = int_or_tuple(draw, 3, st.integers(1, 2))
        padding, pads = int_or_tuple(draw, 3, st.integers(0, 1))
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 2)) for k, d, p in zip(kernel, dils, pads, strict=True)
    )
    return dict(
        batch=draw(st.integers(1, 2)),
        in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 2)),
        size=size,
        kernel=kernel,
        args=dict(stride=stride, padding=padding, dilation=dilation, groups=groups),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


@st.composite
def transpose3d_configs(draw):
    groups = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(3))
    stride, strides = int_or_tuple(draw, 3, st.integers(1, 3))
    dilation, dils = int_or_tuple(draw, 3, st.integers(1, 2))
    padding, pads = int_or_tuple(draw, 3, st.integers(0, 1))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dils, strict=True))
    # An input large enough that cropping `padding` leaves a non-empty output.
    size = tuple(
        1 + max(0, -((d * (k - 1) + op + 1 - 2 * p - 1) // s)) + draw(st.integers(0, 2))
        for k, s, p, op, d in zip(kernel, strides, pads, out_pad, dils, strict=True)
    )
    return dict(
        batch=draw(st.integers(1, 2)),
        in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 2)),
        size=size,
        kernel=kernel,
        args=dict(stride=stride, padding=padding, output_padding=out_pad, groups=groups, dilation=dilation),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


# --- deformable convolution -----------------------------------------------------------------------


@st.composite
def deform_configs(draw, max_offset=2.5):
    """Arguments of a valid deform_conv2d: groups and offset groups, kernel, stride, padding, dilation."""
    groups, offset_groups = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 3))
        for k, d, p in zip(kernel, dilation, padding, strict=True)
    )
    return dict(
        batch=draw(st.integers(1, 2)),
        in_channels=math.lcm(groups, offset_groups) * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 2)),
        groups=groups,
        offset_groups=offset_groups,
        size=size,
        kernel=kernel,
        args=dict(stride=stride, padding=padding, dilation=dilation),
        bias=draw(st.booleans()),
        mask=draw(st.booleans()),
        max_offset=max_offset,
        seed=draw(st.integers(0, 2**31)),
    )


# --- squeeze-and-excitation and global pooling ----------------------------------------------------


@st.composite
def se_configs(draw):
    reduced = draw(st.integers(1, 4))
    return dict(
        shape=(
            draw(st.integers(0, 3)),
            reduced * draw(st.integers(1, 4)),
            draw(st.integers(1, 5)),
            draw(st.integers(1, 5)),
        ),
        reduced=reduced,
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


@st.composite
def map_configs(draw):
    return dict(
        shape=(draw(st.integers(0, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 7)), draw(st.integers(1, 7))),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


# --- stacks of nn.Conv2d layers -------------------------------------------------------------------


@st.composite
def conv2d_stacks(draw):
    """An input size and a chain of nn.Conv2d positional arguments that fits it."""
    size = input_size = draw(st.integers(6, 12))
    channels = draw(st.integers(1, 4))
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
        out = groups * draw(st.integers(1, 3))
        k, s, p, d = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1)), draw(st.integers(1, 2))
        if size + 2 * p < d * (k - 1) + 1:
            break
        layers.append((channels, out, k, s, p, d, groups))
        size = (size + 2 * p - d * (k - 1) - 1) // s + 1
        channels = out
    return input_size, layers or [(channels, 2, 1)]


# --- layers for the output-size and cost arithmetic -----------------------------------------------


@st.composite
def conv_layer_specs(draw, ndims=(1, 2, 3)):
    n = draw(st.sampled_from(ndims))
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(n))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(n))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(n))
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 5))
        for k, d, p in zip(kernel, dilation, padding, strict=True)
    )
    return (
        n,
        size,
        dict(
            in_channels=c_in,
            out_channels=c_out,
            kernel_size=kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
        ),
    )


# --- NaN and inf planted in an argument -----------------------------------------------------------


@st.composite
def plantings(draw, arrays, values):
    """Which argument of ``arrays`` (a name -> shape dict), which cell (edges drawn often), which of
    ``values``, and a seed for the rest."""
    name = draw(st.sampled_from(sorted(arrays)))
    index = tuple(draw(st.one_of(st.just(0), st.just(size - 1), st.integers(0, size - 1))) for size in arrays[name])
    return name, index, draw(st.sampled_from(sorted(values))), draw(st.integers(0, 2**31 - 1))
