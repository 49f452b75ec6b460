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
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4)) for k, d, p in zip(kernel, dils, pads))
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
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dils))
    kw = dict(kw, output_padding=out_pad[0] if len(set(out_pad)) == 1 and draw(st.booleans()) else out_pad)
    full = [(i - 1) * s + d * (k - 1) + op + 1 for i, s, d, k, op in zip(x.shape[2:], strides, dils, w.shape[2:],
                                                                          out_pad)]
    if any(f - 2 * p <= 0 for f, p in zip(full, as_tuple(kw["padding"], n))):
        kw["padding"] = 0  # this padding would crop away the whole output
    return n, x, weight, b, kw


@st.composite
def window_configs(draw):
    """Arguments of a valid unfold (and the fold back): ints or pairs, batched or not."""
    kernel, ks = int_or_tuple(draw, 2, st.integers(1, 3))
    dilation, ds = int_or_tuple(draw, 2, st.integers(1, 2))
    padding, ps = int_or_tuple(draw, 2, st.integers(0, 2))
    stride, _ = int_or_tuple(draw, 2, st.integers(1, 3))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4)) for k, d, p in zip(ks, ds, ps))
    lead = () if draw(st.booleans()) else (draw(st.integers(1, 2)),)
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal((*lead, draw(st.integers(1, 3)),
                                                                                *size))
    return x, dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)
