"""Every convolution type from torch primitives, with PyTorch's names, signatures and semantics.

Built from ``F.unfold``, ``F.fold`` and matrix products (never ``F.conv2d``, which the tests use
as the reference), on any device, differentiable with respect to input, weight and bias. One
module per family, mirroring :mod:`conv_tutorial.numpy`:

- :mod:`.standard` -- ``conv1d``, ``conv2d``
- :mod:`.im2col` -- ``unfold``, ``fold`` and the matmul engines the convolutions run on
- :mod:`.transposed` -- ``conv_transpose1d``, ``conv_transpose2d``
"""

from .im2col import fold, unfold
from .standard import conv1d, conv2d
from .transposed import conv_transpose1d, conv_transpose2d

__all__ = [
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "fold",
    "unfold",
]
