"""Pictures of convolutions drawn from their parameters, labelled so that input, kernel and output
cannot be confused.

- :func:`window_cells` -- the arithmetic behind every picture: which padded-input cells one output
  value reads;
- :func:`draw_conv2d` -- input (with its padding ring), kernel and output side by side, one output
  value's window highlighted;
- :func:`animate_conv2d` -- the window sliding over the input, the output filling in;
  :func:`animation_html` shows any animation as self-contained HTML;
- :func:`draw_matrix` -- a matrix behind a convolution (im2col columns, the matrix ``C``) as a
  heatmap in which zeros stay white;
- :func:`connectivity`, :func:`draw_channel_graph` -- which input channels each output channel
  sees, measured by running the layers on impulses, and drawn as a graph of channel nodes.
"""

from .animation import animation_html
from .channels import connectivity, draw_channel_graph
from .conv2d import animate_conv2d, draw_conv2d, window_cells
from .matrices import draw_matrix

__all__ = ["animate_conv2d", "animation_html", "connectivity", "draw_channel_graph", "draw_conv2d", "draw_matrix", "window_cells"]
