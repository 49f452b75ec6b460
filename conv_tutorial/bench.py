"""Benchmark: NumPy implementations against PyTorch on real layer shapes, timed in the same run.

Run ``python -m conv_tutorial.bench`` (or ``make bench``). For each operation and each layer of
its suite (ResNet-50 and MobileNet v1 layers, batch 8, float32) it times ``conv_tutorial.numpy``
and ``torch.nn.functional`` on the same input and prints the ratio ``numpy time / torch time``,
then the geometric mean per operation. Times are the median of several repeats after a warm-up.
``--ops`` picks operations: ``conv2d`` and ``conv_transpose2d`` run on ``SUITE``,
``depthwise_conv2d`` on MobileNet's depthwise layers, ``pointwise_conv2d`` on its pointwise
layers and ``grouped_conv2d`` on one 3x3 layer with the number of groups swept.

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
#: ``None``: measured and reported, with no target.
TARGETS = {"conv2d": 2.5, "conv_transpose2d": 4.0, "depthwise_conv2d": 5.0, "pointwise_conv2d": 2.0,
           "grouped_conv2d": None}


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

#: MobileNet v1's thirteen depthwise 3x3 layers (Howard et al., 2017, table 1) at 224x224 input;
#: the five 512-channel layers at 14x14 are one shape, listed once.
DEPTHWISE_SUITE = tuple(
    Layer(f"mobilenet.dw 3x3{'/2' if s == 2 else ''} {c}@{h}", c, c, h, 3, stride=s, groups=c)
    for c, h, s in ((32, 112, 1), (64, 112, 2), (128, 56, 1), (128, 56, 2), (256, 28, 1), (256, 28, 2),
                    (512, 14, 1), (512, 14, 2), (1024, 7, 1))
)

#: MobileNet v1's pointwise 1x1 layers, one per shape.
POINTWISE_SUITE = tuple(
    Layer(f"mobilenet.pw 1x1 {c_in}->{c_out}@{h}", c_in, c_out, h, 1)
    for c_in, c_out, h in ((32, 64, 112), (64, 128, 56), (128, 128, 56), (128, 256, 28), (256, 256, 28),
                           (256, 512, 14), (512, 512, 14), (512, 1024, 7), (1024, 1024, 7))
)

#: ResNet-50's 3x3 layer of stage 3 (256 -> 256 at 14x14) split into more and more groups.
GROUPED_SUITE = tuple(Layer(f"3x3 256->256@14 g={g}", 256, 256, 14, 3, groups=g) for g in (2, 4, 8, 16, 32, 64))

#: The layers each operation is timed on.
OP_SUITES = {"conv2d": SUITE, "conv_transpose2d": SUITE, "depthwise_conv2d": DEPTHWISE_SUITE,
             "pointwise_conv2d": POINTWISE_SUITE, "grouped_conv2d": GROUPED_SUITE}


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


def _cases(op, x, w, layer):
    """``(ours, theirs)``: the NumPy call and the torch call of ``op`` on one layer's arrays."""
    import torch
    import torch.nn.functional as F

    args = dict(stride=layer.stride, padding=layer.padding, groups=layer.groups)
    if op in ("conv2d", "grouped_conv2d"):
        return (partial(cnp.conv2d, x, w, **args),
                partial(F.conv2d, torch.from_numpy(x), torch.from_numpy(w), **args))
    if op == "depthwise_conv2d":
        return (partial(cnp.depthwise_conv2d, x, w, stride=layer.stride, padding=layer.padding),
                partial(F.conv2d, torch.from_numpy(x), torch.from_numpy(w), **args))
    if op == "pointwise_conv2d":
        return partial(cnp.pointwise_conv2d, x, w), partial(F.conv2d, torch.from_numpy(x), torch.from_numpy(w))
    # The adjoint of the layer: same weight (C_out, C_in // g, k, k) read as the transposed
    # layout, mapping the layer's output back to its input shape.
    y = cnp.conv2d(x, w, **args)
    out_pad = (layer.size + 2 * layer.padding - layer.kernel) % layer.stride
    return (partial(cnp.conv_transpose2d, y, w, output_padding=out_pad, **args),
            partial(F.conv_transpose2d, torch.from_numpy(y), torch.from_numpy(w), output_padding=out_pad, **args))


def run(batch: int = 8, repeats: int = 3, layers=None, ops=("conv2d", "conv_transpose2d"), progress=print):
    """Time every operation on its layers; return rows ``(op, layer, numpy_s, torch_s, ratio)``.

    ``layers`` overrides every operation's suite (``OP_SUITES``).
    """
    import torch

    rng = np.random.default_rng(0)
    rows = []
    for op in ops:
        for layer in OP_SUITES[op] if layers is None else layers:
            x = rng.standard_normal((batch, layer.c_in, layer.size, layer.size), dtype=np.float32)
            w = rng.standard_normal((layer.c_out, layer.c_in // layer.groups, layer.kernel, layer.kernel),
                                    dtype=np.float32)
            ours, theirs = _cases(op, x, w, layer)
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
    parser.add_argument("--ops", nargs="+", choices=sorted(TARGETS), default=list(TARGETS), help="operations to time")
    args = parser.parse_args(argv)
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}; "
          f"batch {args.batch}, float32, median of {args.repeats}")
    rows = run(args.batch, args.repeats, ops=args.ops)
    print()
    for op, mean in geometric_means(rows).items():
        target = "no target" if TARGETS[op] is None else f"target <= {TARGETS[op]}"
        print(f"{op:17s} geometric mean numpy/torch = {mean:.2f}  ({target})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
