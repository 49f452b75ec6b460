"""Every convolution type from scratch in NumPy, with PyTorch's names, signatures and semantics.

One module per family, mirrored by :mod:`conv_tutorial.torch`:

- :mod:`.standard` -- ``conv1d``, ``conv2d``, ``conv3d``, ``conv2d_naive``, ``conv_backward``
- :mod:`.im2col` -- ``unfold``, ``fold``, ``conv_matrix`` and the matmul engines the convolutions run on
- :mod:`.transposed` -- ``conv_transpose1d/2d/3d``, ``conv_transpose2d_naive``
"""

from .im2col import conv_matrix, fold, unfold
from .standard import conv1d, conv2d, conv2d_naive, conv3d, conv_backward
from .transposed import conv_transpose1d, conv_transpose2d, conv_transpose2d_naive, conv_transpose3d

__all__ = [
    "conv1d",
    "conv2d",
    "conv2d_naive",
    "conv3d",
    "conv_backward",
    "conv_matrix",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose2d_naive",
    "conv_transpose3d",
    "fold",
    "unfold",
]
