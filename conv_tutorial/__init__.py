"""conv_tutorial: every convolution type of deep learning, from scratch in NumPy and accelerated in PyTorch.

It also holds the arithmetic (:mod:`.shapes`), the cost model and the pictures of the book.

Import the backend you want; the NumPy backend never imports torch::

    import conv_tutorial.numpy as cnp     # from scratch
    import conv_tutorial.torch as ctorch  # torch primitives, any device, differentiable
"""

from . import shapes

__version__ = "0.1.0"
__all__ = ["shapes"]
