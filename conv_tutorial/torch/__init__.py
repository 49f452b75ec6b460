"""Every convolution type from torch primitives, with PyTorch's names, signatures and semantics.

Built from window views, ``F.fold`` and matrix products (never ``F.conv2d``, which the tests use
as the reference, except inside ``native_convolutions()``, which asks for it), on any device,
differentiable with respect to input, weight and bias. One module per family, mirroring
:mod:`conv_tutorial.numpy`:

- :mod:`.standard` -- ``conv1d``, ``conv2d``, ``conv3d``
- :mod:`.im2col` -- ``unfold``, ``fold``, the matmul engines the convolutions run on, and
  ``native_convolutions``, which runs them on torch's own ops instead (the native twin)
- :mod:`.transposed` -- ``conv_transpose1d``, ``conv_transpose2d``, ``conv_transpose3d``
- :mod:`.dilated` -- ``gridding_map``: which input pixels a stack of dilated layers reads
- :mod:`.upsampling` -- ``overlap_map``, ``stacked_overlap_map``, ``upsample2d``, ``resize_conv2d`` and the
  ``ResizeConv2d`` module
- :mod:`.volumetric` -- the (2+1)D block ``Conv2Plus1d`` (R(2+1)D)
- :mod:`.deformable` -- ``deform_conv2d``, ``deform_sampling_points`` and the ``DeformConv2d`` module (DCNv1/v2)
- :mod:`.pointwise` -- ``pointwise_conv2d`` and the ResNet ``Bottleneck`` block
- :mod:`.multiscale` -- GoogLeNet's ``InceptionBlock``
- :mod:`.depthwise` -- ``depthwise_conv2d``, ``depthwise_conv2d_by_taps``
- :mod:`.separable` -- ``separable_conv2d``, ``spatially_separable_conv2d``, ``separate_kernel``, ``low_rank_kernel``
  and the ``DepthwiseSeparableConv2d`` and ``SpatiallySeparableConv2d`` modules
- :mod:`.grouped` -- ``channel_shuffle``, ``conv2d_by_groups`` and the ``ResNeXtBlock`` and ``ShuffleNetUnit`` blocks
- :mod:`.normalization` -- ``batch_norm`` at inference (stored statistics)
- :mod:`.connections` -- ResNet's ``BasicBlock``, DenseNet's ``DenseLayer``, ``DenseBlock`` and ``Transition``, the
  networks ``resnet``, ``resnet18``, ``densenet``, ``densenet121`` and ``basic_block_net``, and the blocks as
  functions of their weights: ``residual_block``, ``dense_layer``, ``dense_block``, ``transition``
- :mod:`.attention` -- ``squeeze_excitation``, ``global_depthwise_conv2d``, ``global_avg_pool2d`` and the
  ``SqueezeExcitation`` and ``GlobalDepthwiseConv2d`` modules

Each module's docstring names the chapters that teach it (``book/NN_*.ipynb``), and each chapter
names its modules.
"""

try:
    import torch as _torch  # noqa: F401 (only to say how to install it when it is missing)
except ImportError as error:
    raise ImportError(
        "conv_tutorial.torch needs PyTorch, which is not installed: install it with `pip install torch` (or "
        "`pip install conv-tutorial[torch]`; see https://pytorch.org/get-started for a GPU build). "
        "conv_tutorial.numpy, shapes and cost work without it."
    ) from error

from .attention import (
    GlobalDepthwiseConv2d,
    SqueezeExcitation,
    global_avg_pool2d,
    global_depthwise_conv2d,
    squeeze_excitation,
)
from .connections import (
    BasicBlock,
    DenseBlock,
    DenseLayer,
    Transition,
    basic_block_net,
    dense_block,
    dense_layer,
    densenet,
    densenet121,
    residual_block,
    resnet,
    resnet18,
    transition,
)
from .deformable import DeformConv2d, deform_conv2d, deform_sampling_points
from .depthwise import depthwise_conv2d, depthwise_conv2d_by_taps
from .dilated import gridding_map
from .grouped import ResNeXtBlock, ShuffleNetUnit, channel_shuffle, conv2d_by_groups
from .im2col import fold, native_convolutions, unfold
from .multiscale import InceptionBlock
from .normalization import batch_norm
from .pointwise import Bottleneck, pointwise_conv2d
from .separable import (
    DepthwiseSeparableConv2d,
    SpatiallySeparableConv2d,
    low_rank_kernel,
    separable_conv2d,
    separate_kernel,
    spatially_separable_conv2d,
)
from .standard import conv1d, conv2d, conv3d
from .transposed import conv_transpose1d, conv_transpose2d, conv_transpose3d
from .upsampling import ResizeConv2d, overlap_map, resize_conv2d, stacked_overlap_map, upsample2d
from .volumetric import Conv2Plus1d

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "Conv2Plus1d",
    "DeformConv2d",
    "DenseBlock",
    "DenseLayer",
    "DepthwiseSeparableConv2d",
    "GlobalDepthwiseConv2d",
    "InceptionBlock",
    "ResNeXtBlock",
    "ResizeConv2d",
    "ShuffleNetUnit",
    "SpatiallySeparableConv2d",
    "SqueezeExcitation",
    "Transition",
    "basic_block_net",
    "batch_norm",
    "channel_shuffle",
    "conv1d",
    "conv2d",
    "conv2d_by_groups",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "deform_conv2d",
    "deform_sampling_points",
    "dense_block",
    "dense_layer",
    "densenet",
    "densenet121",
    "depthwise_conv2d",
    "depthwise_conv2d_by_taps",
    "fold",
    "global_avg_pool2d",
    "global_depthwise_conv2d",
    "gridding_map",
    "low_rank_kernel",
    "native_convolutions",
    "overlap_map",
    "pointwise_conv2d",
    "residual_block",
    "resize_conv2d",
    "resnet",
    "resnet18",
    "separable_conv2d",
    "separate_kernel",
    "spatially_separable_conv2d",
    "squeeze_excitation",
    "stacked_overlap_map",
    "transition",
    "unfold",
    "upsample2d",
]
