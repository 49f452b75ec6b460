"""Benchmark: NumPy implementations against PyTorch on real layer shapes, timed in the same run.

Run ``python -m conv_tutorial.bench`` (or ``make bench``). For each layer of a fixed suite
(ResNet-50 and MobileNet v1 layers, batch 8, float32) it times ``conv_tutorial.numpy`` and
``torch.nn.functional`` on the same input and prints the ratio ``numpy time / torch time``, then
the geometric mean per operation. Times are the median of several repeats after a warm-up.

Nothing here asserts: speed is measured, not tested. Compare ratios, not absolute times, and
only between runs on the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import numpy as cnp

#: Geometric-mean targets for ``numpy time / torch time`` (CPU, float32, batch 8).
TARGETS = {"conv2d": 2.5, "conv_transpose2d": 4.0}


@dataclass(frozen=True)
class Layer:
    """A 2D convolution layer: ``C_in -> C_out`` with a square kernel on an ``H x H`` input."""

    name: str
    c_in: int
    c_out: int
    size: int
    kernel: int
    stride: int = 1
    groups: int = 1

    @property
    def padding(self) -> int:
        return self.kernel // 2


#: Layers of ResNet-50 (He et al., 2016) and MobileNet v1 (Howard et al., 2017) at 224x224 input.
SUITE = (
    Layer("resnet50.conv1 7x7/2", 3, 64, 224, 7, stride=2),
    Layer("resnet50.layer1 1x1 64->64", 64, 64, 56, 1),
    Layer("resnet50.layer1 3x3 64->64", 64, 64, 56, 3),
    Layer("resnet50.layer1 1x1 64->256", 64, 256, 56, 1),
    Layer("resnet50.layer2 3x3 128->128", 128, 128, 28, 3),
    Layer("resnet50.layer3 3x3 256->256", 256, 256, 14, 3),
    Layer("resnet50.layer4 3x3 512->512", 512, 512, 7, 3),
    Layer("resnet50.layer4 1x1 2048->512", 2048, 512, 7, 1),
    Layer("mobilenet.conv1 3x3/2", 3, 32, 224, 3, stride=2),
    Layer("mobilenet.pw 1x1 64->128", 64, 128, 56, 1),
    Layer("mobilenet.pw 1x1 512->512", 512, 512, 14, 1),
    Layer("mobilenet.dw 3x3 128", 128, 128, 56, 3, groups=128),
)


#: Seconds of rest before timing each library: NumPy's BLAS threads and torch's OpenMP threads
#: spin for a while after their work, and on a small machine the other library's threads then
#: wait for a core. Resting first lets them go idle, so neither library is timed against the other.
SETTLE_SECONDS = 0.2


def _median_time(fn, repeats: int) -> float:
    time.sleep(SETTLE_SECONDS)
    fn()  # warm-up: first-call allocations, oneDNN primitive creation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(batch: int = 8, repeats: int = 3, layers=SUITE, ops=("conv2d", "conv_transpose2d"), progress=print):
    """Time every layer and operation; return rows ``(op, layer, numpy_s, torch_s, ratio)``."""
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    rows = []
    for layer in layers:
        x = rng.standard_normal((batch, layer.c_in, layer.size, layer.size), dtype=np.float32)
        w = rng.standard_normal((layer.c_out, layer.c_in // layer.groups, layer.kernel, layer.kernel), dtype=np.float32)
        args = dict(stride=layer.stride, padding=layer.padding, groups=layer.groups)
        for op in ops:
            if op == "conv2d":
                ours = partial(cnp.conv2d, x, w, **args)
                theirs = partial(F.conv2d, torch.from_numpy(x), torch.from_numpy(w), **args)
            else:
                # The adjoint of the layer: same weight (C_out, C_in // g, k, k) read as the
                # transposed layout, mapping the layer's output back to its input shape.
                y = cnp.conv2d(x, w, **args)
                out_pad = (layer.size + 2 * layer.padding - layer.kernel) % layer.stride
                ours = partial(cnp.conv_transpose2d, y, w, output_padding=out_pad, **args)
                theirs = partial(F.conv_transpose2d, torch.from_numpy(y), torch.from_numpy(w),
                                 output_padding=out_pad, **args)
            with torch.no_grad():
                t_torch = _median_time(theirs, repeats)
            t_ours = _median_time(ours, repeats)
            rows.append((op, layer.name, t_ours, t_torch, t_ours / t_torch))
            progress(f"{op:17s} {layer.name:32s} numpy {t_ours * 1e3:9.1f} ms  torch {t_torch * 1e3:8.1f} ms  "
                     f"ratio {t_ours / t_torch:5.2f}")
    return rows


def geometric_means(rows) -> dict[str, float]:
    """Geometric mean of the ratio per operation."""
    means = {}
    for op in dict.fromkeys(r[0] for r in rows):
        ratios = [r[4] for r in rows if r[0] == op]
        means[op] = float(np.exp(np.mean(np.log(ratios))))
    return means


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conv_tutorial.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8, help="batch size (default 8)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per case; the median is kept (default 3)")
    parser.add_argument("--ops", nargs="+", choices=sorted(TARGETS), default=sorted(TARGETS), help="operations to time")
    args = parser.parse_args(argv)
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}; "
          f"batch {args.batch}, float32, median of {args.repeats}")
    rows = run(args.batch, args.repeats, ops=args.ops)
    print()
    for op, mean in geometric_means(rows).items():
        print(f"{op:17s} geometric mean numpy/torch = {mean:.2f}  (target <= {TARGETS[op]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
