"""Pictures of convolutions drawn from their parameters, labelled so that input, kernel and output cannot be confused.

- :func:`window_cells` -- the arithmetic behind every picture: which padded-input cells one output
  value reads;
- :func:`draw_conv2d` -- input (with its padding ring), kernel and output side by side, one output
  value's window highlighted;
- :func:`animate_conv2d` -- the window sliding over the input, the output filling in;
  :func:`animation_html` shows any animation as self-contained HTML;
- :func:`draw_matrix` -- a matrix behind a convolution (im2col columns, the matrix ``C``) as a
  heatmap in which zeros stay white;
- :func:`connectivity`, :func:`draw_channel_graph` -- which input channels each output channel
  sees, measured by running the layers on impulses, and drawn as a graph of channel nodes;
- :func:`draw_filter_volumes` -- the filters of a standard, depthwise or depthwise separable layer
  as volumes of weights, each channel in its colour, from the input to the output maps;
- :func:`receptive_paths`, :func:`draw_receptive_field` -- which cells of every layer of a stack
  reach one output cell, along one axis;
- :func:`draw_dilation_rates`, :func:`draw_gridding_map` -- where a dilated kernel's taps fall, and
  which input pixels a stack of dilated layers reads (the gridding effect);
- :func:`draw_conv_transpose2d`, :func:`animate_conv_transpose2d` -- a transposed convolution as a
  scatter from INPUT to OUTPUT beside the equivalent direct convolution of the stretched input;
- :func:`draw_overlap_map`, :func:`draw_count_map` -- kernel taps per output pixel (checkerboards),
  and any integer map as a heatmap;
- :func:`window_cells3d`, :func:`draw_conv3d` -- a 3D kernel in a clip or volume, drawn as film
  strips of input frames, kernel slices and output frames;
- :func:`draw_deform_sampling` -- where a deformable convolution's taps read the input for one
  output pixel, moved from the regular grid by the offsets;
- :func:`draw_roofline`, :func:`draw_flops_time` -- measured kernels on the roofline of this
  machine, and FLOPs against measured time;
- :func:`draw_connections`, :func:`draw_depth_curves`, :func:`draw_gradient_norms`,
  :func:`draw_dense_growth` -- plain, residual and dense wiring side by side, a measurement against
  depth, gradient norms layer by layer, and a dense block's channels and costs as it deepens.
- :func:`panels`, :func:`sharp_png`, ``TEXT_WIDTH`` -- figures that fit the text column (7.2
  inches) and a phone's screen, shown sharp on high-density screens;
  ``%load_ext conv_tutorial.viz`` makes a notebook show every figure that way.
- :func:`pareto_front`, :func:`draw_accuracy_cost` -- networks' accuracy against their MACs, and
  the ones no other network beats on both.
"""

from .animation import animation_html
from .channels import connectivity, draw_channel_graph
from .connections import draw_connections, draw_dense_growth, draw_depth_curves, draw_gradient_norms
from .conv2d import animate_conv2d, draw_conv2d, window_cells
from .deformable import draw_deform_sampling
from .dilated import draw_dilation_rates, draw_gridding_map
from .figures import TEXT_WIDTH, load_ipython_extension, panels, sharp_png
from .filters import draw_filter_volumes
from .matrices import draw_matrix
from .receptive_field import draw_receptive_field, receptive_paths
from .roofline import draw_flops_time, draw_roofline
from .tradeoff import draw_accuracy_cost, pareto_front
from .transposed import animate_conv_transpose2d, draw_conv_transpose2d, draw_count_map, draw_overlap_map
from .volume import draw_conv3d, window_cells3d

__all__ = [
    "TEXT_WIDTH",
    "animate_conv2d",
    "animate_conv_transpose2d",
    "animation_html",
    "connectivity",
    "draw_channel_graph",
    "draw_accuracy_cost",
    "draw_connections",
    "draw_conv2d",
    "draw_conv3d",
    "draw_conv_transpose2d",
    "draw_count_map",
    "draw_deform_sampling",
    "draw_dense_growth",
    "draw_depth_curves",
    "draw_dilation_rates",
    "draw_filter_volumes",
    "draw_flops_time",
    "draw_gradient_norms",
    "draw_gridding_map",
    "draw_matrix",
    "draw_overlap_map",
    "draw_receptive_field",
    "draw_roofline",
    "load_ipython_extension",
    "panels",
    "pareto_front",
    "receptive_paths",
    "sharp_png",
    "window_cells",
    "window_cells3d",
]
