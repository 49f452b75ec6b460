"""Every convolution type from scratch in NumPy, with PyTorch's names, signatures and semantics.

One module per family, mirrored by :mod:`conv_tutorial.torch`:

- :mod:`.standard` -- ``conv1d``, ``conv2d``, ``conv3d``, ``conv2d_naive``, ``conv_backward``
- :mod:`.im2col` -- ``unfold``, ``fold``, ``conv_matrix`` and the matmul engines the convolutions run on
- :mod:`.transposed` -- ``conv_transpose1d/2d/3d``, ``conv_transpose2d_naive``
- :mod:`.dilated` -- ``gridding_map``: which input pixels a stack of dilated layers reads
- :mod:`.upsampling` -- ``overlap_map``, ``stacked_overlap_map`` (checkerboards), ``upsample2d``, ``resize_conv2d``
- :mod:`.pointwise` -- ``pointwise_conv2d``, ``pointwise_conv2d_naive``
- :mod:`.depthwise` -- ``depthwise_conv2d`` (``conv2d`` with ``groups = C_in``; the engine's depthwise path),
  ``depthwise_conv2d_by_taps``
- :mod:`.separable` -- ``separable_conv2d``, ``spatially_separable_conv2d``, ``separate_kernel``, ``low_rank_kernel``
- :mod:`.grouped` -- ``channel_shuffle``, ``shuffle_permutation``, ``conv2d_by_groups``
- :mod:`.normalization` -- ``batch_norm`` at inference (stored statistics)
- :mod:`.connections` -- ``residual_block``, ``dense_layer``, ``dense_block``, ``transition`` (ResNet, DenseNet)
- :mod:`.attention` -- ``squeeze_excitation``, ``global_depthwise_conv2d``, ``global_avg_pool2d``
- :mod:`.deformable` -- ``deform_conv2d``, ``deform_conv2d_naive``, ``deform_sampling_points``, ``bilinear_interpolate``

``set_num_threads`` and ``get_num_threads`` set and read how many threads the engines use, as their
``torch`` namesakes do for PyTorch: NumPy's ufuncs run on one core each, so the depthwise engine runs
its blocks on a pool of threads (NumPy releases the GIL while it works on a large array).

Each module's docstring names the chapters that teach it (``book/NN_*.ipynb``), and each chapter
names its modules.
"""

from ._threads import get_num_threads, set_num_threads
from .attention import global_avg_pool2d, global_depthwise_conv2d, squeeze_excitation
from .connections import dense_block, dense_layer, residual_block, transition
from .deformable import bilinear_interpolate, deform_conv2d, deform_conv2d_naive, deform_sampling_points
from .depthwise import depthwise_conv2d, depthwise_conv2d_by_taps
from .dilated import gridding_map
from .grouped import channel_shuffle, conv2d_by_groups, shuffle_permutation
from .im2col import conv_matrix, fold, unfold
from .normalization import batch_norm
from .pointwise import pointwise_conv2d, pointwise_conv2d_naive
from .separable import low_rank_kernel, separable_conv2d, separate_kernel, spatially_separable_conv2d
from .standard import conv1d, conv2d, conv2d_naive, conv3d, conv_backward
from .transposed import conv_transpose1d, conv_transpose2d, conv_transpose2d_naive, conv_transpose3d
from .upsampling import overlap_map, resize_conv2d, stacked_overlap_map, upsample2d

__all__ = [
    "batch_norm",
    "bilinear_interpolate",
    "channel_shuffle",
    "conv1d",
    "conv2d",
    "conv2d_by_groups",
    "conv2d_naive",
    "conv3d",
    "conv_backward",
    "conv_matrix",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose2d_naive",
    "conv_transpose3d",
    "deform_conv2d",
    "deform_conv2d_naive",
    "deform_sampling_points",
    "dense_block",
    "dense_layer",
    "depthwise_conv2d",
    "depthwise_conv2d_by_taps",
    "fold",
    "get_num_threads",
    "global_avg_pool2d",
    "global_depthwise_conv2d",
    "gridding_map",
    "low_rank_kernel",
    "overlap_map",
    "pointwise_conv2d",
    "pointwise_conv2d_naive",
    "residual_block",
    "resize_conv2d",
    "separable_conv2d",
    "separate_kernel",
    "set_num_threads",
    "shuffle_permutation",
    "spatially_separable_conv2d",
    "squeeze_excitation",
    "stacked_overlap_map",
    "transition",
    "unfold",
    "upsample2d",
]
