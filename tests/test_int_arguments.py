"""A float where an int belongs is a TypeError, across the whole public API.

PyTorch refuses ``stride=2.0`` with a TypeError ("argument 'stride' must be tuple of ints"), and so
must every function of the package, in both backends, the arithmetic (``shapes``, ``cost``), the
pictures (``viz``) and the measurements (``roofline``, ``timing``): a float is the wrong type, not a
wrong value, even when it is whole (``2.0``). The table below is one valid call of each public
callable; every argument given there as an int (or a tuple of ints) is replaced, in turn, by a float
and must raise a ``TypeError`` that names it. ``test_every_public_callable_is_in_the_table`` keeps
the table complete.
"""

from __future__ import annotations

import inspect

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

torch = pytest.importorskip("torch")

import conv_tutorial.numpy as cnp  # noqa: E402
import conv_tutorial.torch as ctorch  # noqa: E402
from conv_tutorial import cost, roofline, shapes, timing, viz  # noqa: E402

RNG = np.random.default_rng(0)


def arr(*shape):
    return RNG.standard_normal(shape)


X, W, W_G2 = arr(1, 4, 6, 6), arr(4, 4, 3, 3), arr(4, 2, 3, 3)
X3, W3 = arr(1, 2, 4, 5, 5), arr(2, 2, 3, 3, 3)
X1, W1 = arr(1, 2, 7), arr(3, 2, 3)
DW, PW = arr(4, 1, 3, 3), arr(6, 4, 1, 1)
COL, ROW = arr(4, 4, 3, 1), arr(4, 4, 1, 3)
OFFSET = arr(1, 18, 6, 6) * 0.3
SE = (arr(2, 4), arr(2), arr(4, 2), arr(4))
UNFOLDED = cnp.unfold(X, 3, padding=1)
BLOCK = ctorch.BasicBlock(4, 8, stride=2).eval().state_dict()
DENSE = [ctorch.DenseLayer(4 + 2 * i, 2, bn_size=2).eval().state_dict() for i in range(2)]
TRANSITION = ctorch.Transition(4, 2).eval().state_dict()
BN = (np.zeros(4), np.ones(4), np.ones(4), np.zeros(4))


def _weights(state, m):
    """A module's state_dict as the backend ``m`` takes it."""
    return state if m is ctorch else {k: v.numpy() for k, v in state.items()}


def numpy_calls(m):
    """One valid call per function of a backend; ``m`` is conv_tutorial.numpy or .torch (arrays converted)."""
    return {
        "conv1d": (m.conv1d, dict(input=X1, weight=W1, stride=2, padding=1, dilation=1, groups=1)),
        "conv2d": (m.conv2d, dict(input=X, weight=W_G2, stride=2, padding=1, dilation=2, groups=2)),
        "conv3d": (m.conv3d, dict(input=X3, weight=W3, stride=1, padding=1, dilation=1, groups=1)),
        "conv_transpose1d": (
            m.conv_transpose1d,
            dict(input=X1, weight=arr(2, 3, 3), stride=2, padding=1, output_padding=1, groups=1, dilation=1),
        ),
        "conv_transpose2d": (
            m.conv_transpose2d,
            dict(input=X, weight=arr(4, 2, 3, 3), stride=2, padding=1, output_padding=1, groups=2, dilation=1),
        ),
        "conv_transpose3d": (
            m.conv_transpose3d,
            dict(input=X3, weight=W3, stride=2, padding=1, output_padding=1, groups=1, dilation=1),
        ),
        "unfold": (m.unfold, dict(input=X, kernel_size=3, dilation=1, padding=1, stride=2)),
        "fold": (m.fold, dict(input=UNFOLDED, output_size=6, kernel_size=3, dilation=1, padding=1, stride=1)),
        "depthwise_conv2d": (m.depthwise_conv2d, dict(input=X, weight=DW, stride=2, padding=1, dilation=1)),
        "depthwise_conv2d_by_taps": (
            m.depthwise_conv2d_by_taps,
            dict(input=X, weight=DW, stride=2, padding=1, dilation=2),
        ),
        "conv2d_by_groups": (m.conv2d_by_groups, dict(input=X, weight=W_G2, stride=2, padding=1, dilation=1, groups=2)),
        "pointwise_conv2d": (m.pointwise_conv2d, dict(input=X, weight=PW)),
        "separable_conv2d": (
            m.separable_conv2d,
            dict(input=X, depthwise_weight=DW, pointwise_weight=PW, stride=2, padding=1, dilation=1),
        ),
        "spatially_separable_conv2d": (
            m.spatially_separable_conv2d,
            dict(input=X, column_weight=COL, row_weight=ROW, stride=2, padding=1, dilation=1, groups=1),
        ),
        "separate_kernel": (m.separate_kernel, dict(kernel=np.outer([1.0, 2, 1], [1.0, 0, -1]))),
        "low_rank_kernel": (m.low_rank_kernel, dict(kernel=arr(3, 3), rank=2)),
        "channel_shuffle": (m.channel_shuffle, dict(input=X, groups=2)),
        "deform_conv2d": (m.deform_conv2d, dict(input=X, offset=OFFSET, weight=W, stride=1, padding=1, dilation=1)),
        "deform_sampling_points": (
            m.deform_sampling_points,
            dict(offset=OFFSET, kernel_size=3, stride=1, padding=1, dilation=1),
        ),
        "squeeze_excitation": (
            m.squeeze_excitation,
            dict(zip(("input", "w1", "b1", "w2", "b2"), (X, *SE), strict=True)),
        ),
        "global_depthwise_conv2d": (m.global_depthwise_conv2d, dict(input=X, weight=arr(4, 1, 6, 6))),
        "global_avg_pool2d": (m.global_avg_pool2d, dict(input=X)),
        "gridding_map": (m.gridding_map, dict(dilations=(1, 2), kernel_size=3)),
        "overlap_map": (m.overlap_map, dict(input_size=4, kernel_size=3, stride=2, padding=1, output_padding=1)),
        "stacked_overlap_map": (m.stacked_overlap_map, dict(input_size=4, layers=[(3, 2, 1), (3, 2)])),
        "upsample2d": (m.upsample2d, dict(input=X, scale_factor=2)),
        "batch_norm": (
            m.batch_norm,
            dict(zip(("input", "running_mean", "running_var", "weight", "bias"), (X, *BN), strict=True)),
        ),
        "residual_block": (m.residual_block, dict(input=X, params=_weights(BLOCK, m), stride=2)),
        "dense_layer": (m.dense_layer, dict(input=X, params=_weights(DENSE[0], m))),
        "dense_block": (m.dense_block, dict(input=X, layers=[_weights(layer, m) for layer in DENSE])),
        "transition": (m.transition, dict(input=X, params=_weights(TRANSITION, m))),
        "resize_conv2d": (m.resize_conv2d, dict(input=X, weight=W, scale_factor=2)),
    }


NUMPY_ONLY = {
    "conv2d_naive": (cnp.conv2d_naive, dict(input=X, weight=W_G2, stride=2, padding=1, dilation=1, groups=2)),
    "conv_transpose2d_naive": (
        cnp.conv_transpose2d_naive,
        dict(input=X, weight=arr(4, 2, 3, 3), stride=2, padding=1, output_padding=1, groups=2, dilation=1),
    ),
    "pointwise_conv2d_naive": (cnp.pointwise_conv2d_naive, dict(input=X, weight=PW)),
    "deform_conv2d_naive": (
        cnp.deform_conv2d_naive,
        dict(input=X, offset=OFFSET, weight=W, stride=1, padding=1, dilation=1),
    ),
    "conv_backward": (
        cnp.conv_backward,
        dict(grad_output=arr(1, 4, 3, 3), input=X, weight=W_G2, stride=2, padding=1, dilation=1, groups=2),
    ),
    "conv_matrix": (
        cnp.conv_matrix,
        dict(input_shape=(2, 4, 4), weight=arr(2, 2, 3, 3), stride=1, padding=1, dilation=1),
    ),
    "shuffle_permutation": (cnp.shuffle_permutation, dict(channels=6, groups=2)),
    "bilinear_interpolate": (cnp.bilinear_interpolate, dict(image=arr(4, 4), y=0.5, x=1.5)),
    # The count the process already has: the valid call changes nothing for the tests after it.
    "set_num_threads": (cnp.set_num_threads, dict(num_threads=cnp.get_num_threads())),
    "get_num_threads": (cnp.get_num_threads, {}),
}


def _tensor(value):
    return torch.from_numpy(value) if isinstance(value, np.ndarray) else value


CALLS = {f"numpy.{name}": call for name, call in {**numpy_calls(cnp), **NUMPY_ONLY}.items()}
CALLS |= {
    f"torch.{name}": (fn, {k: _tensor(v) for k, v in kwargs.items()})
    for name, (fn, kwargs) in numpy_calls(ctorch).items()
}
CALLS |= {
    # torch modules: the constructor's integer arguments
    "torch.Bottleneck": (ctorch.Bottleneck, dict(in_channels=8, mid_channels=4, out_channels=8, stride=2, groups=2)),
    "torch.ResNeXtBlock": (
        ctorch.ResNeXtBlock,
        dict(in_channels=8, bottleneck_channels=4, out_channels=8, cardinality=2, stride=1),
    ),
    "torch.ShuffleNetUnit": (ctorch.ShuffleNetUnit, dict(in_channels=12, out_channels=12, groups=3, stride=1)),
    "torch.InceptionBlock": (
        ctorch.InceptionBlock,
        dict(in_channels=8, ch1x1=2, ch3x3red=2, ch3x3=2, ch5x5red=2, ch5x5=2, pool_proj=2),
    ),
    "torch.DepthwiseSeparableConv2d": (
        ctorch.DepthwiseSeparableConv2d,
        dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, dilation=1),
    ),
    "torch.SpatiallySeparableConv2d": (
        ctorch.SpatiallySeparableConv2d,
        dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1),
    ),
    "torch.DeformConv2d": (
        ctorch.DeformConv2d,
        dict(in_channels=4, out_channels=6, kernel_size=3, stride=1, padding=1, dilation=1, groups=1),
    ),
    "torch.SqueezeExcitation": (ctorch.SqueezeExcitation, dict(channels=16, reduction=4)),
    "torch.GlobalDepthwiseConv2d": (ctorch.GlobalDepthwiseConv2d, dict(channels=4, spatial_size=7)),
    "torch.Conv2Plus1d": (ctorch.Conv2Plus1d, dict(in_channels=4, out_channels=6, kernel_size=3, stride=1, padding=1)),
    "torch.ResizeConv2d": (ctorch.ResizeConv2d, dict(in_channels=4, out_channels=6, kernel_size=3, scale_factor=2)),
    "torch.BasicBlock": (ctorch.BasicBlock, dict(in_channels=4, out_channels=8, stride=2)),
    "torch.DenseLayer": (ctorch.DenseLayer, dict(in_channels=4, growth_rate=2, bn_size=2)),
    "torch.DenseBlock": (ctorch.DenseBlock, dict(num_layers=2, in_channels=4, growth_rate=2, bn_size=2)),
    "torch.Transition": (ctorch.Transition, dict(in_channels=4, out_channels=2)),
    "torch.resnet": (ctorch.resnet, dict(layers=(1, 1, 1, 1), num_classes=10, in_channels=3)),
    "torch.resnet18": (ctorch.resnet18, dict(num_classes=10)),
    "torch.densenet": (
        ctorch.densenet,
        dict(block_config=(1, 2), growth_rate=4, num_init_features=8, bn_size=2, num_classes=10, in_channels=3),
    ),
    "torch.densenet121": (ctorch.densenet121, dict(num_classes=10)),
    "torch.basic_block_net": (ctorch.basic_block_net, dict(num_blocks=2, channels=4, in_channels=3, num_classes=10)),
    # shapes
    "shapes.conv_output_size": (
        shapes.conv_output_size,
        dict(input_size=(8, 8), kernel_size=3, stride=2, padding=1, dilation=1),
    ),
    "shapes.conv_input_sizes": (
        shapes.conv_input_sizes,
        dict(output_size=4, kernel_size=3, stride=2, padding=1, dilation=1),
    ),
    "shapes.conv_relationship": (
        shapes.conv_relationship,
        dict(input_size=8, kernel_size=3, stride=2, padding=1, dilation=1),
    ),
    "shapes.conv_transpose_output_size": (
        shapes.conv_transpose_output_size,
        dict(input_size=4, kernel_size=3, stride=2, padding=1, output_padding=1, dilation=1),
    ),
    "shapes.effective_kernel_size": (shapes.effective_kernel_size, dict(kernel_size=3, dilation=2)),
    "shapes.output_padding_choices": (shapes.output_padding_choices, dict(stride=2, dilation=1)),
    "shapes.receptive_field": (shapes.receptive_field, dict(layers=[(3, 1), (3, 2)])),
    "shapes.transposed_equivalent": (
        shapes.transposed_equivalent,
        dict(input_size=8, kernel_size=3, stride=2, padding=1, dilation=1),
    ),
    # cost
    "cost.conv_params": (cost.conv_params, dict(in_channels=8, out_channels=8, kernel_size=3, groups=2)),
    "cost.conv_macs": (
        cost.conv_macs,
        dict(input_size=8, in_channels=8, out_channels=8, kernel_size=3, stride=2, padding=1, dilation=1, groups=2),
    ),
    "cost.conv_bytes": (
        cost.conv_bytes,
        dict(
            input_size=8,
            in_channels=8,
            out_channels=8,
            kernel_size=3,
            stride=2,
            padding=1,
            dilation=1,
            groups=2,
            batch=2,
            itemsize=4,
        ),
    ),
    "cost.arithmetic_intensity": (
        cost.arithmetic_intensity,
        dict(
            input_size=8,
            in_channels=8,
            out_channels=8,
            kernel_size=3,
            stride=2,
            padding=1,
            groups=2,
            batch=2,
            itemsize=4,
        ),
    ),
    "cost.memory_access_cost": (
        cost.memory_access_cost,
        dict(input_size=8, in_channels=8, out_channels=8, kernel_size=3, stride=2, padding=1, groups=2),
    ),
    "cost.batch_norm_params": (cost.batch_norm_params, dict(num_features=8)),
    "cost.stack_params": (cost.stack_params, dict(layers=[(8, 8, 3), (8, 16, 1)])),
    "cost.stack_macs": (cost.stack_macs, dict(input_size=8, layers=[(8, 8, 3), (8, 16, 1)])),
    "cost.conv_transpose_macs": (
        cost.conv_transpose_macs,
        dict(input_size=8, in_channels=8, out_channels=8, kernel_size=3, groups=2),
    ),
    "cost.conv_transpose_bytes": (
        cost.conv_transpose_bytes,
        dict(
            input_size=8,
            in_channels=8,
            out_channels=8,
            kernel_size=3,
            stride=2,
            padding=1,
            output_padding=1,
            groups=2,
            batch=2,
            itemsize=4,
        ),
    ),
    "cost.depthwise_conv_params": (cost.depthwise_conv_params, dict(in_channels=8, kernel_size=3, depth_multiplier=2)),
    "cost.depthwise_conv_macs": (
        cost.depthwise_conv_macs,
        dict(input_size=8, in_channels=8, kernel_size=3, stride=2, padding=1, dilation=1, depth_multiplier=2),
    ),
    "cost.separable_conv_params": (
        cost.separable_conv_params,
        dict(in_channels=8, out_channels=16, kernel_size=3, depth_multiplier=2),
    ),
    "cost.separable_conv_macs": (
        cost.separable_conv_macs,
        dict(
            input_size=8,
            in_channels=8,
            out_channels=16,
            kernel_size=3,
            stride=2,
            padding=1,
            dilation=1,
            depth_multiplier=2,
        ),
    ),
    "cost.separable_conv_bytes": (
        cost.separable_conv_bytes,
        dict(input_size=8, in_channels=8, out_channels=16, kernel_size=3, stride=2, padding=1, batch=2, itemsize=4),
    ),
    "cost.spatially_separable_conv_params": (
        cost.spatially_separable_conv_params,
        dict(in_channels=8, out_channels=8, kernel_size=3, mid_channels=4, groups=2),
    ),
    "cost.spatially_separable_conv_macs": (
        cost.spatially_separable_conv_macs,
        dict(input_size=8, in_channels=8, out_channels=8, kernel_size=3, stride=2, padding=1, mid_channels=4),
    ),
    "cost.spatially_separable_conv_bytes": (
        cost.spatially_separable_conv_bytes,
        dict(input_size=8, in_channels=8, out_channels=8, kernel_size=3, stride=2, padding=1, batch=2, itemsize=4),
    ),
    "cost.conv2plus1d_mid_channels": (
        cost.conv2plus1d_mid_channels,
        dict(in_channels=8, out_channels=8, kernel_size=3),
    ),
    "cost.conv2plus1d_params": (
        cost.conv2plus1d_params,
        dict(in_channels=8, out_channels=8, kernel_size=3, mid_channels=4),
    ),
    "cost.conv2plus1d_macs": (
        cost.conv2plus1d_macs,
        dict(input_size=(4, 8, 8), in_channels=8, out_channels=8, kernel_size=3, stride=1, padding=1, mid_channels=4),
    ),
    "cost.conv2plus1d_bytes": (
        cost.conv2plus1d_bytes,
        dict(
            input_size=(4, 8, 8),
            in_channels=8,
            out_channels=8,
            kernel_size=3,
            stride=1,
            padding=1,
            mid_channels=4,
            batch=2,
            itemsize=4,
        ),
    ),
    "cost.deform_conv_params": (
        cost.deform_conv_params,
        dict(in_channels=8, out_channels=8, kernel_size=3, groups=2, offset_groups=2),
    ),
    "cost.deform_conv_macs": (
        cost.deform_conv_macs,
        dict(input_size=8, in_channels=8, out_channels=8, kernel_size=3, stride=2, padding=1, dilation=1, groups=2),
    ),
    "cost.deform_conv_bytes": (
        cost.deform_conv_bytes,
        dict(
            input_size=8,
            in_channels=8,
            out_channels=8,
            kernel_size=3,
            stride=2,
            padding=1,
            groups=2,
            batch=2,
            itemsize=4,
        ),
    ),
    "cost.squeeze_excitation_params": (cost.squeeze_excitation_params, dict(channels=32, reduction=4)),
    "cost.squeeze_excitation_macs": (cost.squeeze_excitation_macs, dict(channels=32, reduction=4)),
    "cost.squeeze_excitation_bytes": (
        cost.squeeze_excitation_bytes,
        dict(channels=32, spatial_size=7, reduction=4, batch=2, itemsize=4),
    ),
    "cost.global_depthwise_params": (cost.global_depthwise_params, dict(channels=32, spatial_size=7)),
    "cost.global_depthwise_macs": (cost.global_depthwise_macs, dict(channels=32, spatial_size=7)),
    "cost.global_depthwise_bytes": (
        cost.global_depthwise_bytes,
        dict(channels=32, spatial_size=7, batch=2, itemsize=4),
    ),
    "cost.basic_block_params": (cost.basic_block_params, dict(in_channels=8, out_channels=16, stride=2)),
    "cost.basic_block_macs": (cost.basic_block_macs, dict(input_size=8, in_channels=8, out_channels=16, stride=2)),
    "cost.basic_block_bytes": (
        cost.basic_block_bytes,
        dict(input_size=8, in_channels=8, out_channels=16, stride=2, batch=2, itemsize=4),
    ),
    "cost.bottleneck_params": (
        cost.bottleneck_params,
        dict(in_channels=16, mid_channels=4, out_channels=16, stride=2, groups=2),
    ),
    "cost.bottleneck_macs": (
        cost.bottleneck_macs,
        dict(input_size=8, in_channels=16, mid_channels=4, out_channels=16, stride=2, groups=2),
    ),
    "cost.bottleneck_bytes": (
        cost.bottleneck_bytes,
        dict(input_size=8, in_channels=16, mid_channels=4, out_channels=16, stride=2, groups=2, batch=2, itemsize=4),
    ),
    "cost.dense_layer_params": (cost.dense_layer_params, dict(in_channels=8, growth_rate=4, bn_size=2)),
    "cost.dense_layer_macs": (cost.dense_layer_macs, dict(input_size=8, in_channels=8, growth_rate=4, bn_size=2)),
    "cost.dense_layer_bytes": (
        cost.dense_layer_bytes,
        dict(input_size=8, in_channels=8, growth_rate=4, bn_size=2, batch=2, itemsize=4),
    ),
    "cost.dense_block_params": (cost.dense_block_params, dict(num_layers=3, in_channels=8, growth_rate=4, bn_size=2)),
    "cost.dense_block_macs": (
        cost.dense_block_macs,
        dict(input_size=8, num_layers=3, in_channels=8, growth_rate=4, bn_size=2),
    ),
    "cost.dense_block_bytes": (
        cost.dense_block_bytes,
        dict(input_size=8, num_layers=3, in_channels=8, growth_rate=4, bn_size=2, batch=2, itemsize=4),
    ),
    "cost.dense_block_concat_memory": (
        cost.dense_block_concat_memory,
        dict(input_size=8, num_layers=3, in_channels=8, growth_rate=4, batch=2, itemsize=4),
    ),
    "cost.transition_params": (cost.transition_params, dict(in_channels=8, out_channels=4)),
    "cost.transition_macs": (cost.transition_macs, dict(input_size=8, in_channels=8, out_channels=4)),
    "cost.transition_bytes": (
        cost.transition_bytes,
        dict(input_size=8, in_channels=8, out_channels=4, batch=2, itemsize=4),
    ),
    "cost.connection_table": (
        cost.connection_table,
        dict(input_size=8, in_channels=8, out_channels=16, stride=2, batch=2, itemsize=4, growth_rate=4, bn_size=2),
    ),
    "cost.layer_table": (
        cost.layer_table,
        dict(
            input_size=8,
            in_channels=8,
            out_channels=8,
            kernel_size=3,
            stride=2,
            batch=2,
            itemsize=4,
            groups=2,
            dilation=2,
            frames=4,
            reduction=4,
        ),
    ),
    # viz
    "viz.animate_conv2d": (
        viz.animate_conv2d,
        dict(input_size=4, kernel_size=3, stride=1, padding=1, dilation=1, interval=100),
    ),
    "viz.animate_conv_transpose2d": (
        viz.animate_conv_transpose2d,
        dict(input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1, dilation=1, interval=100, dpi=50.0),
    ),
    "viz.connectivity": (viz.connectivity, dict(layer=lambda x: x, in_channels=4, spatial=(3, 3))),
    "viz.draw_channel_graph": (
        viz.draw_channel_graph,
        dict(stages=[("identity", lambda x: x)], in_channels=4, spatial=(3, 3)),
    ),
    "viz.draw_conv2d": (
        viz.draw_conv2d,
        dict(input_size=5, kernel_size=3, stride=2, padding=1, dilation=1, output_position=(1, 1)),
    ),
    "viz.draw_conv3d": (
        viz.draw_conv3d,
        dict(input_size=(3, 4, 4), kernel_size=3, stride=1, padding=1, dilation=1, output_position=(0, 1, 1)),
    ),
    "viz.draw_conv_transpose2d": (
        viz.draw_conv_transpose2d,
        dict(input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1, dilation=1, output_position=(1, 1)),
    ),
    "viz.draw_deform_sampling": (
        viz.draw_deform_sampling,
        dict(
            image=arr(6, 6),
            offset=OFFSET[0],
            kernel_size=3,
            output_position=(2, 2),
            stride=1,
            padding=1,
            dilation=1,
            offset_group=0,
        ),
    ),
    "viz.draw_connections": (viz.draw_connections, dict(num_layers=4, in_channels=8, growth_rate=4)),
    "viz.draw_depth_curves": (viz.draw_depth_curves, dict(depths=(1, 2), curves={"plain": [1.0, 0.5]})),
    "viz.draw_dense_growth": (
        viz.draw_dense_growth,
        dict(num_layers=3, in_channels=8, growth_rate=4, input_size=8, bn_size=2, itemsize=4),
    ),
    "viz.draw_dilation_rates": (viz.draw_dilation_rates, dict(kernel_size=3, dilations=(1, 2))),
    "viz.draw_filter_volumes": (
        viz.draw_filter_volumes,
        dict(kind="standard", in_channels=3, kernel_size=3, input_size=6, out_channels=2, stride=1, padding=1),
    ),
    "viz.draw_gridding_map": (viz.draw_gridding_map, dict(dilations=(1, 2), kernel_size=3)),
    "viz.draw_overlap_map": (
        viz.draw_overlap_map,
        dict(input_size=4, kernel_size=3, stride=2, padding=1, output_padding=1),
    ),
    "viz.draw_receptive_field": (viz.draw_receptive_field, dict(layers=[(3, 1), (3, 1)], n_outputs=3)),
    "viz.receptive_paths": (viz.receptive_paths, dict(layers=[(3, 1), (3, 1)], input_size=7, output_index=1)),
    "viz.panels": (viz.panels, dict(n=5, ncols=2)),
    "viz.sharp_png": (viz.sharp_png, dict(fig=plt.figure(figsize=(1, 1)), scale=2, max_bytes=300_000)),
    "viz.window_cells": (
        viz.window_cells,
        dict(output_position=(1, 1), kernel_size=3, stride=2, padding=1, dilation=1),
    ),
    "viz.window_cells3d": (
        viz.window_cells3d,
        dict(output_position=(0, 1, 1), kernel_size=3, stride=2, padding=1, dilation=1),
    ),
    # measurements
    "roofline.peak_flops": (roofline.peak_flops, dict(size=16, repeats=1)),
    "roofline.memory_bandwidth": (roofline.memory_bandwidth, dict(size=1024, repeats=1)),
    "timing.best_times": (timing.best_times, dict(cases={"a": lambda: None}, rounds=2, repeats=1)),
}

#: Public callables with no integer argument to test, and why.
NO_INT_ARGUMENT = {
    "viz.animation_html": "takes an animation and text",
    "viz.load_ipython_extension": "takes the IPython shell",
    "viz.draw_count_map": "takes an array of counts and labels",
    "viz.draw_flops_time": "takes measured (name, FLOPs, seconds) points",
    "viz.draw_gradient_norms": "takes measured gradient norms",
    "viz.pareto_front": "takes measured costs and accuracies",
    "viz.draw_accuracy_cost": "takes measured (label, MACs, accuracy, spread) points",
    "viz.draw_matrix": "takes a matrix and labels",
    "viz.draw_roofline": "takes measured rates",
    "roofline.roofline": "takes real numbers",
    "roofline.ridge_point": "takes real numbers",
    "timing.keep_freed_memory": "takes no argument",
    "torch.native_convolutions": "takes no argument",
    "shapes.TransposedEquivalent": "a result type, built by transposed_equivalent",
    "shapes.ConvGeometry": "a value type, built from checked arguments by conv_tutorial._checks",
}


def _public(module, prefix):
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    return {
        f"{prefix}.{name}"
        for name in names
        if callable(getattr(module, name))
        and getattr(getattr(module, name), "__module__", "").startswith("conv_tutorial")
    }


def test_every_public_callable_is_in_the_table():
    public = set().union(
        *(
            _public(m, p)
            for m, p in (
                (cnp, "numpy"),
                (ctorch, "torch"),
                (shapes, "shapes"),
                (cost, "cost"),
                (viz, "viz"),
                (roofline, "roofline"),
                (timing, "timing"),
            )
        )
    )
    assert sorted(public - set(CALLS) - set(NO_INT_ARGUMENT)) == []


def _floated(value):
    """``value`` with its first int made a whole float: 2 -> 2.0, (3, 1) -> (3.0, 1)."""
    if isinstance(value, tuple):
        return (_floated(value[0]), *value[1:])
    return float(value)


def _is_int(value):
    if isinstance(value, tuple):
        return bool(value) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)


CASES = [
    pytest.param(name, arg, id=f"{name}-{arg}")
    for name, (_, kwargs) in CALLS.items()
    for arg, value in kwargs.items()
    if _is_int(value)
]


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
@pytest.mark.parametrize("name", list(CALLS))
def test_the_table_calls_are_valid(name):
    fn, kwargs = CALLS[name]
    fn(**kwargs)
    plt.close("all")


@pytest.mark.parametrize("name, arg", CASES)
def test_a_float_where_an_int_belongs_is_a_type_error(name, arg):
    fn, kwargs = CALLS[name]
    with pytest.raises(TypeError, match=arg):
        fn(**{**kwargs, arg: _floated(kwargs[arg])})
    plt.close("all")


def test_the_table_covers_the_integer_parameters():
    assert len(CASES) > 300
    assert {arg for _, arg in (c.values for c in CASES)} >= {
        "stride",
        "padding",
        "dilation",
        "groups",
        "kernel_size",
        "in_channels",
        "output_padding",
    }
    assert inspect.signature(cnp.conv2d).parameters.keys() >= CALLS["numpy.conv2d"][1].keys()
