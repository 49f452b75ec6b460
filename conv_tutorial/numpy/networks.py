"""A small convolutional network trained from scratch in NumPy: the layers it needs, forward and backward.

Every layer is a pair, a forward function and the backward function that maps the gradient of
the loss with respect to the layer's output to the gradients with respect to its input and weights:

- :func:`relu`, :func:`relu_backward`;
- :func:`max_pool2d`, :func:`max_pool2d_backward` (non-overlapping windows, stride = kernel);
- :func:`linear`, :func:`linear_backward`;
- :func:`softmax_cross_entropy`: the mean loss and its gradient with respect to the logits;
- the convolution's forward and backward are :func:`conv_tutorial.numpy.conv2d` and
  :func:`conv_tutorial.numpy.conv_backward`.

On top, the network of chapter 16 (:func:`init_cnn`, :func:`cnn_forward`,
:func:`cnn_loss_and_gradients`)::

    conv 3x3 (pad 1) -> ReLU -> max pool 2 -> conv 3x3 (pad 1) -> ReLU -> max pool 2 -> flatten -> linear

Backpropagation is the chain rule applied layer by layer from the loss back to the input; each
backward function is checked against ``torch.autograd`` in the tests.

Chapter 16: ``book/16_family_at_work.ipynb``. The torch twin (the networks of every family, their
cost and a training loop, with autograd in place of these backward functions):
:mod:`conv_tutorial.torch.networks`.
"""

from __future__ import annotations

import numpy as np

from .._checks import (
    check_array_shape,
    check_divisible,
    check_instance,
    check_int_sequence,
    check_ndim,
    check_positive_int,
)
from ._arrays import as_float_arrays
from .standard import conv2d, conv_backward

__all__ = [
    "cnn_forward",
    "cnn_loss_and_gradients",
    "init_cnn",
    "linear",
    "linear_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "relu",
    "relu_backward",
    "softmax_cross_entropy",
]


def relu(input):
    """``max(input, 0)`` elementwise, like ``torch.relu``.

    Examples
    --------
    >>> relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    (x,) = as_float_arrays(input=input)
    return np.maximum(x, 0)


def relu_backward(grad_output, input):
    """Gradient of :func:`relu`: ``grad_output`` where ``input > 0``, else 0 (PyTorch's choice at 0).

    Examples
    --------
    >>> relu_backward(np.ones(3), np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
    """
    dy, x = as_float_arrays(grad_output=grad_output, input=input)
    check_array_shape("relu_backward", "grad_output", dy.shape, x.shape, "the input's")
    return dy * (x > 0)


def _pool_windows(fn, x, kernel_size):
    """``x`` cropped to whole windows, as ``(N, C, H_out, W_out, k * k)``."""
    k = check_positive_int(fn, "kernel_size", kernel_size)
    n, c, h, w = check_ndim(fn, "input", x.shape, "(N, C, H, W)")
    if h < k or w < k:
        raise ValueError(f"{fn}: kernel_size={k} is larger than the input's spatial size ({h}, {w})")
    h_out, w_out = h // k, w // k
    windows = x[:, :, : h_out * k, : w_out * k].reshape(n, c, h_out, k, w_out, k)
    return windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h_out, w_out, k * k)


def max_pool2d(input, kernel_size):
    """Max pooling over non-overlapping ``k x k`` windows, like ``F.max_pool2d(input, k)`` (stride = k).

    Parameters
    ----------
    input : array_like, shape (N, C, H, W)
    kernel_size : int

    Returns
    -------
    ndarray, shape (N, C, H // k, W // k)
        Rows and columns beyond the last whole window are dropped, as PyTorch drops them.

    Examples
    --------
    >>> max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    (x,) = as_float_arrays(input=input)
    return _pool_windows("max_pool2d", x, kernel_size).max(axis=-1)


def max_pool2d_backward(grad_output, input, kernel_size):
    """Gradient of :func:`max_pool2d`: each window's gradient goes to its largest input (the first, on ties).

    Parameters
    ----------
    grad_output : array_like, shape (N, C, H // k, W // k)
    input : array_like, shape (N, C, H, W)
        The input of the forward pass.
    kernel_size : int

    Returns
    -------
    ndarray, shape (N, C, H, W)

    Examples
    --------
    >>> max_pool2d_backward(np.ones((1, 1, 1, 1)), np.array([[[[1.0, 3.0], [2.0, 0.0]]]]), 2)[0, 0]
    array([[0., 1.],
           [0., 0.]])
    """
    dy, x = as_float_arrays(grad_output=grad_output, input=input)
    windows = _pool_windows("max_pool2d_backward", x, kernel_size)
    n, c, h_out, w_out, kk = windows.shape
    check_array_shape("max_pool2d_backward", "grad_output", dy.shape, (n, c, h_out, w_out), "the pooled")
    k = int(kernel_size)
    routed = np.zeros(windows.shape, dtype=dy.dtype)
    np.put_along_axis(routed, windows.argmax(axis=-1)[..., None], dy[..., None], axis=-1)
    grad = np.zeros(x.shape, dtype=dy.dtype)
    grad[:, :, : h_out * k, : w_out * k] = (
        routed.reshape(n, c, h_out, w_out, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h_out * k, w_out * k)
    )
    return grad


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``, like ``F.linear``.

    Parameters
    ----------
    input : array_like, shape (N, in_features)
    weight : array_like, shape (out_features, in_features)
    bias : array_like, shape (out_features,), optional

    Returns
    -------
    ndarray, shape (N, out_features)

    Examples
    --------
    >>> linear(np.array([[1.0, 2.0]]), np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([0.0, 10.0]))
    array([[3., 9.]])
    """
    x, w, b = as_float_arrays(input=input, weight=weight, bias=bias)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(
            f"linear: expected input (N, in_features) and weight (out_features, in_features) with the "
            f"same in_features, got input of shape {x.shape} and weight of shape {w.shape}"
        )
    if b is not None:
        check_array_shape("linear", "bias", b.shape, (w.shape[0],))
    out = x @ w.T
    return out if b is None else out + b


def linear_backward(grad_output, input, weight):
    """Gradients of :func:`linear`: ``(grad_input, grad_weight, grad_bias)``.

    ``grad_input = grad_output @ weight``, ``grad_weight = grad_output.T @ input``,
    ``grad_bias = grad_output.sum(0)``.

    Examples
    --------
    >>> gx, gw, gb = linear_backward(np.ones((1, 2)), np.array([[1.0, 2.0]]), np.eye(2))
    >>> gx, gw, gb
    (array([[1., 1.]]), array([[1., 2.],
           [1., 2.]]), array([1., 1.]))
    """
    dy, x, w = as_float_arrays(grad_output=grad_output, input=input, weight=weight)
    check_array_shape("linear_backward", "grad_output", dy.shape, (x.shape[0], w.shape[0]), "the output's")
    return dy @ w, dy.T @ x, dy.sum(axis=0)


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient, like ``F.cross_entropy``.

    ``loss = mean_n (logsumexp(z_n) - z_n[y_n])``; its gradient with respect to the logits is
    ``(softmax(z) - onehot(y)) / N``: the predicted probabilities minus the truth.

    Parameters
    ----------
    logits : array_like, shape (N, classes)
    labels : array_like of int, shape (N,)

    Returns
    -------
    loss : float
    grad_logits : ndarray, shape (N, classes)

    Examples
    --------
    >>> loss, grad = softmax_cross_entropy(np.zeros((1, 4)), np.array([2]))
    >>> round(loss, 4), grad
    (1.3863, array([[ 0.25,  0.25, -0.75,  0.25]]))
    """
    (z,) = as_float_arrays(logits=logits)
    y = np.asarray(labels)
    if z.ndim != 2 or y.shape != (z.shape[0],) or not len(y):
        raise ValueError(
            f"softmax_cross_entropy: expected logits (N, classes) and labels (N,) with N > 0, got shapes "
            f"{z.shape} and {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= z.shape[1]:
        raise ValueError(
            f"softmax_cross_entropy: labels must be integers in [0, {z.shape[1]}), got dtype {y.dtype} "
            f"and values in [{y.min()}, {y.max()}]"
        )
    shifted = z - z.max(axis=1, keepdims=True)  # the same softmax, no overflow in exp
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    grad = np.exp(log_probs)
    grad[rows, y] -= 1
    return float(-log_probs[rows, y].mean()), grad / len(y)


def init_cnn(rng, in_channels=1, channels=(8, 16), num_classes=10, image_size=8):
    """Weights of the chapter's network, He-initialised (``std = sqrt(2 / fan_in)``), biases zero.

    Parameters
    ----------
    rng : numpy.random.Generator
    in_channels : int
    channels : pair of ints
        Output channels of the two convolutions.
    num_classes : int
    image_size : int
        Side of the square input; divisible by 4 (two poolings by 2).

    Returns
    -------
    dict of ndarray
        ``conv1_weight (c1, in_channels, 3, 3)``, ``conv1_bias``, ``conv2_weight (c2, c1, 3, 3)``,
        ``conv2_bias``, ``fc_weight (num_classes, c2 * (image_size // 4) ** 2)``, ``fc_bias``; float64.

    Examples
    --------
    >>> params = init_cnn(np.random.default_rng(0))
    >>> {name: p.shape for name, p in params.items()}["fc_weight"], sum(p.size for p in params.values())
    ((10, 64), 1898)
    """
    check_instance("init_cnn", "rng", rng, np.random.Generator, "np.random.default_rng(seed)")
    c1, c2 = check_int_sequence("init_cnn", "channels", channels, 2, 2, item="channel count")
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes), ("image_size", image_size)):
        check_positive_int("init_cnn", name, value)
    check_divisible("init_cnn", "image_size", image_size, None, 4, why="two poolings by 2")
    features = c2 * (image_size // 4) ** 2

    def he(*shape):
        return rng.standard_normal(shape) * np.sqrt(2 / np.prod(shape[1:]))

    return {
        "conv1_weight": he(c1, in_channels, 3, 3),
        "conv1_bias": np.zeros(c1),
        "conv2_weight": he(c2, c1, 3, 3),
        "conv2_bias": np.zeros(c2),
        "fc_weight": he(num_classes, features),
        "fc_bias": np.zeros(num_classes),
    }


def _forward(params, images):
    """Logits and every intermediate the backward pass needs."""
    (x,) = as_float_arrays(images=images)
    a1 = conv2d(x, params["conv1_weight"], params["conv1_bias"], padding=1)
    r1 = relu(a1)
    p1 = max_pool2d(r1, 2)
    a2 = conv2d(p1, params["conv2_weight"], params["conv2_bias"], padding=1)
    r2 = relu(a2)
    p2 = max_pool2d(r2, 2)
    flat = p2.reshape(len(p2), -1)
    return linear(flat, params["fc_weight"], params["fc_bias"]), (x, a1, r1, p1, a2, r2, p2, flat)


def cnn_forward(params, images):
    """Logits of the chapter's network (:func:`init_cnn`) for ``images`` ``(N, C, H, W)``: ``(N, classes)``.

    Examples
    --------
    >>> cnn_forward(init_cnn(np.random.default_rng(0)), np.zeros((2, 1, 8, 8))).shape
    (2, 10)
    """
    return _forward(params, images)[0]


def cnn_loss_and_gradients(params, images, labels):
    """Mean cross-entropy of the chapter's network on a batch, and its gradient for every parameter.

    The forward pass keeps each layer's input; the backward pass runs the layers' backward
    functions in reverse order, from :func:`softmax_cross_entropy`'s gradient down to the first
    convolution's weights (:func:`conv_tutorial.numpy.conv_backward`).

    Parameters
    ----------
    params : dict of ndarray
        As :func:`init_cnn` returns.
    images : array_like, shape (N, C, H, W)
    labels : array_like of int, shape (N,)

    Returns
    -------
    loss : float
    grads : dict of ndarray
        Same keys and shapes as ``params``.

    Examples
    --------
    >>> params = init_cnn(np.random.default_rng(0))
    >>> loss, grads = cnn_loss_and_gradients(params, np.ones((4, 1, 8, 8)), np.arange(4))
    >>> all(grads[name].shape == p.shape for name, p in params.items())
    True
    """
    logits, (x, a1, r1, p1, a2, r2, p2, flat) = _forward(params, images)
    loss, d_logits = softmax_cross_entropy(logits, labels)
    d_flat, d_fc_w, d_fc_b = linear_backward(d_logits, flat, params["fc_weight"])
    d_a2 = relu_backward(max_pool2d_backward(d_flat.reshape(p2.shape), r2, 2), a2)
    d_p1, d_conv2_w, d_conv2_b = conv_backward(d_a2, p1, params["conv2_weight"], padding=1)
    d_a1 = relu_backward(max_pool2d_backward(d_p1, r1, 2), a1)
    _, d_conv1_w, d_conv1_b = conv_backward(d_a1, x, params["conv1_weight"], padding=1)
    return loss, {
        "conv1_weight": d_conv1_w,
        "conv1_bias": d_conv1_b,
        "conv2_weight": d_conv2_w,
        "conv2_bias": d_conv2_b,
        "fc_weight": d_fc_w,
        "fc_bias": d_fc_b,
    }
