"""Transposed convolution from scratch in NumPy: ``conv_transpose1d/2d/3d`` and a loop version.

The loop version is ``conv_transpose2d_naive``.

A transposed convolution scatters each input pixel, multiplied by the kernel, onto the output
grid at ``stride`` spacing and adds where the copies overlap. It is the adjoint of the
convolution with the same arguments (its matrix is ``C.T``), so it maps the convolution's output
shape back to its input shape; ``output_padding`` picks among the input sizes a strided
convolution maps onto the same output size. Semantics are those of
``torch.nn.functional.conv_transpose{1,2,3}d`` (note ``groups`` comes before ``dilation``).

Chapter 10: ``book/10_transposed_convolution.ipynb``. The torch twin:
:mod:`conv_tutorial.torch.transposed`.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_conv_transpose
from ._arrays import as_float_arrays, quiet_nonfinite
from ._flat_engine import conv_transpose_forward  # the general engine, with a fast path in front

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose2d_naive", "conv_transpose3d"]


def _conv_transpose(fn, n, input, weight, bias, stride, padding, output_padding, groups, dilation):
    y, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    spec = check_conv_transpose(
        fn, n, y.shape, w.shape, None if b is None else b.shape, stride, padding, output_padding, groups, dilation
    )
    # Fold onto the full grid every input pixel reaches (plus output_padding at the end), then
    # remove `padding` from both sides.
    canvas = tuple(o + lo + hi for o, (lo, hi) in zip(spec.output_size, spec.padding, strict=True))
    out = conv_transpose_forward(
        y.reshape(spec.input_shape),
        w,
        spec.groups,
        spec.kernel_size,
        spec.stride,
        spec.dilation,
        canvas,
        spec.padding,
    )
    if b is not None:
        out += b.reshape(-1, *([1] * n))
    return out[0] if spec.unbatched else out


@quiet_nonfinite
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1D transposed convolution, like ``torch.nn.functional.conv_transpose1d``.

    Parameters
    ----------
    input : array_like, shape (N, C_in, L) or (C_in, L)
    weight : array_like, shape (C_in, C_out // groups, k)
    bias : array_like, shape (C_out,), optional
    stride, padding, output_padding, dilation : int or tuple of 1 int
    groups : int
        See :func:`conv_transpose2d`.

    Returns
    -------
    ndarray, shape (N, C_out, L_out) or (C_out, L_out)

    Shape
    -----
    ``L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Examples
    --------
    >>> conv_transpose1d(np.array([[[1.0, 2.0]]]), np.array([[[1.0, 1.0, 1.0]]]), stride=2)
    array([[[1., 1., 3., 2., 2.]]])
    """
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


@quiet_nonfinite
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2D transposed convolution, like ``torch.nn.functional.conv_transpose2d``.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    weight : array_like, shape (C_in, C_out // groups, kH, kW)
        PyTorch's transposed layout: input channels first.
    bias : array_like, shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints
    padding : int or tuple of 2 ints
        The padding of the convolution this one transposes: ``padding`` pixels are cropped from
        each side of the full output.
    output_padding : int or tuple of 2 ints
        Extra rows/columns added at the end of the output; must be smaller than ``stride`` or
        ``dilation``.
    groups : int

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Shape
    -----
    ``H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1``, same for ``W``.

    Examples
    --------
    >>> y = np.ones((1, 1, 2, 2))
    >>> conv_transpose2d(y, np.ones((1, 1, 3, 3)), stride=2)[0, 0]
    array([[1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.],
           [2., 2., 4., 2., 2.],
           [1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.]])
    """
    return _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


@quiet_nonfinite
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3D transposed convolution, like ``torch.nn.functional.conv_transpose3d``.

    Parameters
    ----------
    input : array_like, shape (N, C_in, D, H, W) or (C_in, D, H, W)
    weight : array_like, shape (C_in, C_out // groups, kD, kH, kW)
    bias : array_like, shape (C_out,), optional
    stride, padding, output_padding, dilation : int or tuple of 3 ints
    groups : int
        See :func:`conv_transpose2d`.

    Returns
    -------
    ndarray, shape (N, C_out, D_out, H_out, W_out) or (C_out, D_out, H_out, W_out)

    Shape
    -----
    ``D_out = (D - 1) * stride - 2 * padding + dilation * (kD - 1) + output_padding + 1``, same
    for ``H`` and ``W``.

    Examples
    --------
    >>> conv_transpose3d(np.ones((1, 2, 2, 2, 2)), np.ones((2, 3, 3, 3, 3)), stride=2).shape
    (1, 3, 5, 5, 5)
    """
    return _conv_transpose(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


@quiet_nonfinite
def conv_transpose2d_naive(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """:func:`conv_transpose2d` written as loops: every input value scatters a scaled kernel.

    ``full[n, o, i * s + u * d, j * s + v * d] += x[n, c, i, j] * weight[c, o - g * C_out/g, u, v]``
    for every input channel ``c`` of group ``g`` (and ``o`` in that group's outputs), then
    ``padding`` pixels are cropped from each side of ``full``.

    Same parameters, shapes and errors as :func:`conv_transpose2d`.

    Examples
    --------
    >>> conv_transpose2d_naive(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    y, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    spec = check_conv_transpose(
        "conv_transpose2d",
        2,
        y.shape,
        w.shape,
        None if b is None else b.shape,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )
    y = y.reshape(spec.input_shape)
    batch, c_in, h_in, w_in = spec.input_shape
    c_out_g, kh, kw = w.shape[1:]
    (sh, sw), (dh, dw), (ph, pw) = spec.stride, spec.dilation, spec.symmetric_padding
    h_out, w_out = spec.output_size
    full = np.zeros((batch, spec.out_channels, h_out + 2 * ph, w_out + 2 * pw), dtype=y.dtype)
    for n in range(batch):
        for c in range(c_in):
            first = (c // (c_in // spec.groups)) * c_out_g  # first output channel of c's group
            for i in range(h_in):
                for j in range(w_in):
                    full[
                        n,
                        first : first + c_out_g,
                        i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                        j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                    ] += y[n, c, i, j] * w[c]
    out = full[:, :, ph : ph + h_out, pw : pw + w_out]
    if b is not None:
        out = out + b.reshape(-1, 1, 1)
    return out[0] if spec.unbatched else out
