"""Skip and dense connections from scratch in NumPy, at inference.

The module holds ``residual_block``, ``dense_layer``, ``dense_block`` and ``transition``, composed from
:func:`conv2d`, :func:`depthwise_conv2d` and :func:`batch_norm`.

A residual block adds its input to what its convolutions compute (He et al. 2016); a dense layer
concatenates what it computes to its input (Huang et al. 2017). The weights come in a mapping whose
keys are those of the torch module of the same design
(:class:`conv_tutorial.torch.BasicBlock`, :class:`~conv_tutorial.torch.DenseLayer`,
:class:`~conv_tutorial.torch.Transition`): ``{k: v.numpy() for k, v in module.state_dict().items()}``
runs the trained module in NumPy. Batch normalisation uses the stored statistics, as a module in
``eval()`` mode does.

Chapter 15: ``book/15_skip_and_dense_connections.ipynb``. The torch twin (the same four functions,
the blocks as ``nn.Module`` and the networks built from them): :mod:`conv_tutorial.torch.connections`.
"""

from __future__ import annotations

import numpy as np

from .._checks import _check_image_batch, check_flag, check_key
from ._arrays import as_float_arrays, quiet_nonfinite
from .depthwise import depthwise_conv2d
from .normalization import batch_norm
from .standard import conv2d

__all__ = ["dense_block", "dense_layer", "residual_block", "transition"]


def _norm(fn, params, prefix, x, eps):
    stats = {
        name: check_key(fn, "params", params, f"{prefix}norm.{name}")
        for name in ("running_mean", "running_var", "weight", "bias")
    }
    return batch_norm(x, eps=eps, **stats)


def _conv_norm(fn, params, prefix, x, stride, eps):
    """Convolution (no bias, padding k // 2) then batch normalisation: a ResNet unit."""
    weight = as_float_arrays(weight=check_key(fn, "params", params, f"{prefix}weight"))[0]
    return _norm(fn, params, prefix, conv2d(x, weight, stride=stride, padding=weight.shape[-1] // 2), eps)


def _norm_relu_conv(fn, params, prefix, x, eps):
    """Batch normalisation, ReLU, then a convolution (no bias, padding k // 2): a DenseNet unit."""
    weight = as_float_arrays(weight=check_key(fn, "params", params, f"{prefix}weight"))[0]
    return conv2d(np.maximum(_norm(fn, params, prefix, x, eps), 0), weight, padding=weight.shape[-1] // 2)


def _batched(fn, input):
    (x,) = as_float_arrays(input=input)
    batched, unbatched = _check_image_batch(fn, x.shape)
    return x.reshape(batched), unbatched


@quiet_nonfinite
def residual_block(input, params, stride=1, shortcut=True, eps=1e-5):
    """ResNet basic block at inference: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    Both convolutions are 3x3 with padding 1; the first has stride ``stride``. The shortcut is the
    identity when ``params`` holds no ``shortcut.weight``, otherwise a projection
    ``bn(conv1x1(x, stride))``. With ``shortcut=False`` nothing is added: the plain block.

    Parameters
    ----------
    input : array_like, shape (N, C_in, H, W) or (C_in, H, W)
    params : mapping of str to array_like
        The keys of :class:`conv_tutorial.torch.BasicBlock`'s ``state_dict()``: ``conv1.weight``
        ``(C_out, C_in, 3, 3)``, ``conv2.weight`` ``(C_out, C_out, 3, 3)``, and for each of
        ``conv1.norm``, ``conv2.norm`` the vectors ``.weight``, ``.bias``, ``.running_mean``,
        ``.running_var`` of shape ``(C_out,)``; for a projection also ``shortcut.weight``
        ``(C_out, C_in, 1, 1)`` and ``shortcut.norm.*``. Other keys are ignored.
    stride : int
    shortcut : bool
        ``False`` for the block without its skip.
    eps : float
        Batch normalisation's epsilon.

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Shape
    -----
    ``H_out = floor((H - 1) / stride) + 1``, same for ``W``. An identity shortcut needs
    ``C_out == C_in`` and ``stride == 1``.

    Examples
    --------
    >>> c = 2
    >>> norm = {"weight": np.ones(c), "bias": np.zeros(c), "running_mean": np.zeros(c), "running_var": np.ones(c)}
    >>> params = {f"{conv}.norm.{k}": v for conv in ("conv1", "conv2") for k, v in norm.items()}
    >>> params |= {"conv1.weight": np.zeros((c, c, 3, 3)), "conv2.weight": np.zeros((c, c, 3, 3))}
    >>> x = np.array([[[[-1.0, 2.0]], [[3.0, -4.0]]]])
    >>> residual_block(x, params, eps=0.0)        # the branch computes 0: relu(0 + x)
    array([[[[0., 2.]],
    <BLANKLINE>
            [[3., 0.]]]])
    """
    fn = "residual_block"
    x, unbatched = _batched(fn, input)
    shortcut = check_flag(fn, "shortcut", shortcut)
    out = np.maximum(_conv_norm(fn, params, "conv1.", x, stride, eps), 0)
    out = _conv_norm(fn, params, "conv2.", out, 1, eps)
    if shortcut and "shortcut.weight" in params:
        out = out + _conv_norm(fn, params, "shortcut.", x, stride, eps)
    elif shortcut:
        if out.shape != x.shape:
            raise ValueError(
                f"{fn}: an identity shortcut needs the block to keep the input's shape, but it maps "
                f"{x.shape} to {out.shape} (stride={stride}); a projection needs params "
                f"'shortcut.weight' and 'shortcut.norm.*'"
            )
        out = out + x
    out = np.maximum(out, 0)
    return out[0] if unbatched else out


@quiet_nonfinite
def dense_layer(input, params, eps=1e-5):
    """DenseNet-B layer at inference: ``cat([x, conv3x3(relu(bn2(conv1x1(relu(bn1(x))))))])``.

    Parameters
    ----------
    input : array_like, shape (N, C, H, W) or (C, H, W)
    params : mapping of str to array_like
        The keys of :class:`conv_tutorial.torch.DenseLayer`'s ``state_dict()``: ``bottleneck.weight``
        ``(B, C, 1, 1)`` with its ``bottleneck.norm.*`` vectors of shape ``(C,)``, and ``conv.weight``
        ``(k, B, 3, 3)`` with ``conv.norm.*`` of shape ``(B,)``; ``B = bn_size * k``.
    eps : float

    Returns
    -------
    ndarray, shape (N, C + k, H, W) or (C + k, H, W)
        The input, then the ``k`` new channels.

    Examples
    --------
    >>> def norm(prefix, c):      # batch normalisation that changes nothing (with eps=0)
    ...     return {f"{prefix}.norm.{k}": f(c) for k, f in (("weight", np.ones), ("bias", np.zeros),
    ...                                                      ("running_mean", np.zeros), ("running_var", np.ones))}
    >>> params = norm("bottleneck", 1) | norm("conv", 4)
    >>> params |= {"bottleneck.weight": np.ones((4, 1, 1, 1)), "conv.weight": np.ones((1, 4, 3, 3))}
    >>> dense_layer(np.ones((1, 1, 1, 1)), params, eps=0.0).ravel()      # the input, then 4 * 1
    array([1., 4.])
    """
    fn = "dense_layer"
    x, unbatched = _batched(fn, input)
    new = _norm_relu_conv(fn, params, "conv.", _norm_relu_conv(fn, params, "bottleneck.", x, eps), eps)
    out = np.concatenate([x, new.astype(x.dtype, copy=False)], axis=1)
    return out[0] if unbatched else out


def dense_block(input, layers, eps=1e-5):
    """DenseNet block at inference: :func:`dense_layer` after :func:`dense_layer`, each seeing all before it.

    Parameters
    ----------
    input : array_like, shape (N, k0, H, W) or (k0, H, W)
    layers : sequence of mappings
        The parameters of each layer (see :func:`dense_layer`); layer ``l`` (from 0) takes
        ``k0 + l * k`` channels.
    eps : float

    Returns
    -------
    ndarray, shape (N, k0 + L * k, H, W) or (k0 + L * k, H, W)
        ``L = len(layers)``.

    Examples
    --------
    >>> def norm(prefix, c):      # batch normalisation that changes nothing (with eps=0)
    ...     return {f"{prefix}.norm.{k}": f(c) for k, f in (("weight", np.ones), ("bias", np.zeros),
    ...                                                      ("running_mean", np.zeros), ("running_var", np.ones))}
    >>> def layer(c):             # c channels in, a bottleneck of 4, one channel out
    ...     return norm("bottleneck", c) | norm("conv", 4) | {"bottleneck.weight": np.ones((4, c, 1, 1)),
    ...                                                       "conv.weight": np.ones((1, 4, 3, 3))}
    >>> dense_block(np.ones((1, 1, 1, 1)), [layer(1), layer(2)], eps=0.0).ravel()   # 1, 4 * 1, 4 * (1 + 4)
    array([ 1.,  4., 20.])
    """
    x = input
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__") or len(layers) == 0:
        raise ValueError(f"dense_block: layers must be a non-empty sequence of parameter mappings, got {layers!r:.80}")
    for params in layers:
        x = dense_layer(x, params, eps)
    return x


@quiet_nonfinite
def transition(input, params, eps=1e-5):
    """DenseNet transition at inference: BN-ReLU-1x1 convolution, then 2x2 average pooling of stride 2.

    The pooling is computed as what it is, a depthwise convolution whose 2x2 weights are all 1/4.

    Parameters
    ----------
    input : array_like, shape (N, C, H, W) or (C, H, W)
    params : mapping of str to array_like
        The keys of :class:`conv_tutorial.torch.Transition`'s ``state_dict()``: ``conv.weight``
        ``(C_out, C, 1, 1)`` and the ``conv.norm.*`` vectors of shape ``(C,)``.
    eps : float

    Returns
    -------
    ndarray, shape (N, C_out, floor(H / 2), floor(W / 2)) or (C_out, floor(H / 2), floor(W / 2))

    Examples
    --------
    >>> params = {"conv.weight": np.ones((1, 1, 1, 1)), "conv.norm.weight": np.ones(1), "conv.norm.bias": np.zeros(1),
    ...           "conv.norm.running_mean": np.zeros(1), "conv.norm.running_var": np.ones(1)}
    >>> transition(np.arange(16.0).reshape(1, 1, 4, 4), params, eps=0.0)
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """
    fn = "transition"
    x, unbatched = _batched(fn, input)
    out = _norm_relu_conv(fn, params, "conv.", x, eps)
    if min(out.shape[2:]) < 2:
        raise ValueError(f"{fn}: 2x2 average pooling needs a map of at least 2x2, got input of shape {x.shape}")
    channels = out.shape[1]
    out = depthwise_conv2d(out, np.full((channels, 1, 2, 2), 0.25, dtype=out.dtype), stride=2)
    return out[0] if unbatched else out
