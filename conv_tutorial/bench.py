"""The benchmark suite: every implementation of the package timed against PyTorch in the same run.

Two comparisons, each a ratio ``our time / reference time`` measured on the same input in the
same run (so the ratios, not the absolute times, are what carry from one machine to another):

- backend ``"numpy"``: each function of :mod:`conv_tutorial.numpy` against its PyTorch
  counterpart (``torch.nn.functional``, ``torchvision.ops.deform_conv2d`` when torchvision is
  installed, else :mod:`conv_tutorial.torch`'s), both on the CPU;
- backend ``"torch"``: each function of :mod:`conv_tutorial.torch` (built from ``F.unfold`` and
  matrix products) against the native op, on the GPU when ``torch.cuda.is_available()``, else
  on the CPU; deformable convolution only when torchvision is installed.

Each operation runs on the layers of its suite (``OP_SUITES``: ResNet-50, MobileNet v1,
Inception v3, DeepLab, R3D-18, ShuffleNet, SE-ResNet-50 and MobileFaceNet layers at their real
sizes, float32, batch 8 by default). A time is the median of ``repeats`` runs after a warm-up,
with freed memory kept in the process (:func:`keep_freed_memory`).
``quick=True`` swaps every suite for one small layer (``QUICK_SUITES``), for tests.

Run it with ``conv-tutorial bench`` (``--help`` for options), ``python -m conv_tutorial.bench``
or ``make bench``. Nothing here asserts: speed is measured, not tested.
"""

from __future__ import annotations

import ctypes
import functools
import statistics
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from . import numpy as cnp

#: The operations, in the book's chapter order.
OPS = ("conv2d", "pointwise_conv2d", "spatially_separable_conv2d", "depthwise_conv2d", "separable_conv2d",
       "grouped_conv2d", "channel_shuffle", "dilated_conv2d", "conv_transpose2d", "conv3d", "deform_conv2d",
       "squeeze_excitation", "global_depthwise_conv2d")

#: ``"numpy"``: conv_tutorial.numpy against PyTorch; ``"torch"``: conv_tutorial.torch against the native op.
BACKENDS = ("numpy", "torch")

#: Geometric-mean targets for ``numpy time / torch time`` (CPU, float32, batch 8); the other
#: operations are measured and reported with no target.
TARGETS = {"conv2d": 2.5, "conv_transpose2d": 4.0, "depthwise_conv2d": 5.0, "pointwise_conv2d": 2.0}


@dataclass(frozen=True)
class Layer:
    """A layer ``C_in -> C_out`` with a square kernel on an ``H x H`` input (``frames x H x H`` when ``frames``).

    ``groups`` is the number of groups (of the convolution, or of the channel shuffle);
    ``padding`` keeps the size up to the stride.
    """

    name: str
    c_in: int
    c_out: int
    size: int
    kernel: int
    stride: int = 1
    groups: int = 1
    dilation: int = 1
    frames: int = 0

    @property
    def padding(self) -> int:
        return self.dilation * (self.kernel // 2)


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

#: MobileNet v1's blocks as depthwise separable convolutions (depthwise 3x3, then pointwise).
SEPARABLE_SUITE = tuple(
    Layer(f"mobilenet.block 3x3{'/2' if s == 2 else ''} {c_in}->{c_out}@{h}", c_in, c_out, h, 3, stride=s)
    for c_in, c_out, h, s in ((32, 64, 112, 1), (64, 128, 112, 2), (128, 128, 56, 1), (256, 256, 28, 1),
                              (512, 512, 14, 1), (1024, 1024, 7, 1))
)

#: Inception v3's factorised layers (Szegedy et al., 2016): 7x1 then 1x7 at 17x17, 3x1 then 1x3 at 8x8.
SPATIALLY_SEPARABLE_SUITE = tuple(
    Layer(f"inception3.{k}x1+1x{k} {c}@{h}", c, c, h, k)
    for c, h, k in ((128, 17, 7), (160, 17, 7), (192, 17, 7), (384, 8, 3))
)

#: ResNet-50's 3x3 layer of stage 3 (256 -> 256 at 14x14) split into more and more groups.
GROUPED_SUITE = tuple(Layer(f"3x3 256->256@14 g={g}", 256, 256, 14, 3, groups=g) for g in (2, 4, 8, 16, 32, 64))

#: ShuffleNet v1's channel shuffles with g = 3 (Zhang et al., 2018), one per stage.
SHUFFLE_SUITE = tuple(Layer(f"shufflenet.shuffle g=3 {c}@{h}", c, c, h, 1, groups=3)
                      for c, h in ((240, 28), (480, 14), (960, 7)))

#: DeepLab v3's atrous 3x3 layers (Chen et al., 2017) on a 256-channel map at output stride 8.
DILATED_SUITE = tuple(Layer(f"deeplab.aspp 3x3 d={d} 256@28", 256, 256, 28, 3, dilation=d) for d in (2, 4, 6, 12))

#: R3D-18's 3x3x3 layers (Tran et al., 2018) of stages 2-4 on a 16x112x112 clip.
VIDEO_SUITE = tuple(Layer(f"r3d18.3x3x3 {c}@{t}x{h}", c, c, h, 3, frames=t)
                    for c, t, h in ((128, 4, 28), (256, 2, 14), (512, 1, 7)))

#: ResNet-50's 3x3 layers of stages 3-5 made deformable, as in DCNv2 (Zhu et al., 2019).
DEFORM_SUITE = tuple(Layer(f"dcn.resnet50 3x3 {c}@{h}", c, c, h, 3) for c, h in ((128, 28), (256, 14), (512, 7)))

#: SE-ResNet-50's squeeze-and-excitation blocks (Hu et al., 2018), reduction 16, one per stage.
SE_SUITE = tuple(Layer(f"se-resnet50 r=16 {c}@{h}", c, c, h, 1) for c, h in ((256, 56), (512, 28), (1024, 14),
                                                                           (2048, 7)))

#: Global depthwise convolutions on the final 7x7 map: MobileFaceNet's 512 channels (Chen et al.,
#: 2018) and a MobileNet v2-sized 1280.
GDC_SUITE = tuple(Layer(f"gdc 7x7 {c}@7", c, c, 7, 7) for c in (512, 1280))

#: The layers each operation is timed on.
OP_SUITES = {"conv2d": SUITE, "pointwise_conv2d": POINTWISE_SUITE,
             "spatially_separable_conv2d": SPATIALLY_SEPARABLE_SUITE, "depthwise_conv2d": DEPTHWISE_SUITE,
             "separable_conv2d": SEPARABLE_SUITE, "grouped_conv2d": GROUPED_SUITE, "channel_shuffle": SHUFFLE_SUITE,
             "dilated_conv2d": DILATED_SUITE, "conv_transpose2d": SUITE, "conv3d": VIDEO_SUITE,
             "deform_conv2d": DEFORM_SUITE, "squeeze_excitation": SE_SUITE, "global_depthwise_conv2d": GDC_SUITE}

#: One small layer per operation, for a run of seconds (``quick=True``).
QUICK_SUITES = {
    "conv2d": (Layer("quick 3x3 32->32@14", 32, 32, 14, 3),),
    "pointwise_conv2d": (Layer("quick 1x1 32->64@14", 32, 64, 14, 1),),
    "spatially_separable_conv2d": (Layer("quick 3x1+1x3 32@14", 32, 32, 14, 3),),
    "depthwise_conv2d": (Layer("quick dw 3x3 32@14", 32, 32, 14, 3, groups=32),),
    "separable_conv2d": (Layer("quick block 3x3 32->64@14", 32, 64, 14, 3),),
    "grouped_conv2d": (Layer("quick 3x3 32->32@14 g=4", 32, 32, 14, 3, groups=4),),
    "channel_shuffle": (Layer("quick shuffle g=4 32@14", 32, 32, 14, 1, groups=4),),
    "dilated_conv2d": (Layer("quick 3x3 d=2 32@14", 32, 32, 14, 3, dilation=2),),
    "conv_transpose2d": (Layer("quick 3x3/2 32->32@14", 32, 32, 14, 3, stride=2),),
    "conv3d": (Layer("quick 3x3x3 16@4x14", 16, 16, 14, 3, frames=4),),
    "deform_conv2d": (Layer("quick dcn 3x3 16@14", 16, 16, 14, 3),),
    "squeeze_excitation": (Layer("quick se r=16 64@14", 64, 64, 14, 1),),
    "global_depthwise_conv2d": (Layer("quick gdc 7x7 64@7", 64, 64, 7, 7),),
}

#: Seconds of rest before timing each library: NumPy's BLAS threads and torch's OpenMP threads
#: spin for a while after their work, and on a small machine the other library's threads then
#: wait for a core. Resting first lets them go idle, so neither library is timed against the other.
SETTLE_SECONDS = 0.2

SE_REDUCTION = 16

@functools.cache
def keep_freed_memory() -> bool:
    """Make glibc keep freed memory in the process instead of returning it to the system.

    Both libraries allocate their outputs on every call. With glibc's defaults a freed block of
    many megabytes may go back to the system, and the next call then page-faults every page of
    its new output in; whether it goes back depends on the heap's history, so the same call of
    PyTorch took 1.6 ms in one process and 10 ms in another on a virtual machine (9,000 page
    faults a call). Keeping freed memory, as a long training process ends up doing, times the
    arithmetic and not the page faults. Returns whether the setting took (not on other C
    libraries); it is made once per process.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    mapped = mallopt(m_mmap_threshold, 2**30) or mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's cap
    return bool(mapped and mallopt(m_trim_threshold, 2**31 - 1))


class Measurement(NamedTuple):
    """One timed case. The first five fields are the rows :func:`run` returns."""

    op: str
    layer: str
    ours_s: float
    reference_s: float
    ratio: float
    backend: str = "numpy"
    reference: str = ""
    device: str = "cpu"


@dataclass(frozen=True)
class Case:
    """An operation on one layer, for one backend: what :func:`measure` times."""

    backend: str
    op: str
    layer: Layer

    @property
    def label(self) -> str:
        return f"{self.backend} {self.op} {self.layer.name}"


def torchvision_ops():
    """``torchvision.ops``, or ``None`` when torchvision cannot be imported."""
    try:
        from torchvision import ops
    except ImportError:  # also raised by a torchvision built for another torch
        return None
    return ops


def device() -> str:
    """Where the ``"torch"`` backend's comparisons run: ``"cuda"`` when available, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def plan(ops=OPS, backends=BACKENDS, quick=False, layers=None) -> list[Case]:
    """The cases a run times, in order: per operation, per layer, each backend.

    ``layers`` overrides every operation's suite. Deformable convolution in the ``"torch"``
    backend needs torchvision's native op and is left out without it.
    """
    unknown = sorted(set(ops) - set(OPS)) + sorted(set(backends) - set(BACKENDS))
    if unknown:
        raise ValueError(f"unknown operations or backends {unknown}; operations are {list(OPS)}, "
                         f"backends {list(BACKENDS)}")
    has_torchvision = torchvision_ops() is not None
    suites = QUICK_SUITES if quick else OP_SUITES
    return [Case(backend, op, layer)
            for op in ops
            for layer in (suites[op] if layers is None else layers)
            for backend in backends
            if not (backend == "torch" and op == "deform_conv2d" and not has_torchvision)]


def _arrays(op: str, layer: Layer, batch: int, rng) -> dict[str, np.ndarray]:
    """The float32 inputs of one case: the input ``x`` and the weights the operation takes."""
    def randn(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    k, c_in, c_out, g = layer.kernel, layer.c_in, layer.c_out, layer.groups
    spatial = (layer.frames, layer.size, layer.size) if layer.frames else (layer.size, layer.size)
    arrays = {"x": randn(batch, c_in, *spatial)}
    if op in ("conv2d", "grouped_conv2d", "dilated_conv2d", "deform_conv2d"):
        arrays["w"] = randn(c_out, c_in // g, k, k)
    if op == "conv_transpose2d":
        # The adjoint of the layer: the same weight read as the transposed layout maps the layer's
        # output back to its input shape.
        arrays["w"] = randn(c_out, c_in // g, k, k)
        out = (layer.size + 2 * layer.padding - k) // layer.stride + 1
        arrays["x"] = randn(batch, c_out, out, out)
    if op == "conv3d":
        arrays["w"] = randn(c_out, c_in, k, k, k)
    if op in ("depthwise_conv2d", "separable_conv2d"):
        arrays["w"] = randn(c_in, 1, k, k)
    if op in ("pointwise_conv2d", "separable_conv2d"):
        arrays["pw"] = randn(c_out, c_in, 1, 1)
    if op == "spatially_separable_conv2d":
        arrays["col"], arrays["row"] = randn(c_out, c_in, k, 1), randn(c_out, c_out, 1, k)
    if op == "deform_conv2d":
        out = (layer.size + 2 * layer.padding - k) // layer.stride + 1
        arrays["offset"] = 0.5 * randn(batch, 2 * k * k, out, out)
    if op == "squeeze_excitation":
        reduced = c_in // SE_REDUCTION
        arrays.update(w1=randn(reduced, c_in), b1=randn(reduced), w2=randn(c_in, reduced), b2=randn(c_in))
    if op == "global_depthwise_conv2d":
        arrays["w"] = randn(c_in, 1, k, k)
    return arrays


def _call(module, op: str, layer: Layer, a):
    """``op`` of ``module`` (conv_tutorial.numpy or conv_tutorial.torch) bound to the case's arrays."""
    s, p, d, g = layer.stride, layer.padding, layer.dilation, layer.groups
    calls = {
        "conv2d": lambda: partial(module.conv2d, a["x"], a["w"], stride=s, padding=p, groups=g),
        "grouped_conv2d": lambda: partial(module.conv2d, a["x"], a["w"], stride=s, padding=p, groups=g),
        "dilated_conv2d": lambda: partial(module.conv2d, a["x"], a["w"], stride=s, padding=p, dilation=d),
        "conv_transpose2d": lambda: partial(module.conv_transpose2d, a["x"], a["w"], stride=s, padding=p, groups=g,
                                            output_padding=(layer.size + 2 * p - layer.kernel) % s),
        "conv3d": lambda: partial(module.conv3d, a["x"], a["w"], padding=p),
        "depthwise_conv2d": lambda: partial(module.depthwise_conv2d, a["x"], a["w"], stride=s, padding=p),
        "pointwise_conv2d": lambda: partial(module.pointwise_conv2d, a["x"], a["pw"]),
        "separable_conv2d": lambda: partial(module.separable_conv2d, a["x"], a["w"], a["pw"], stride=s, padding=p),
        "spatially_separable_conv2d": lambda: partial(module.spatially_separable_conv2d, a["x"], a["col"], a["row"],
                                                      stride=s, padding=p),
        "deform_conv2d": lambda: partial(module.deform_conv2d, a["x"], a["offset"], a["w"], stride=s, padding=p),
        "channel_shuffle": lambda: partial(module.channel_shuffle, a["x"], g),
        "squeeze_excitation": lambda: partial(module.squeeze_excitation, a["x"], a["w1"], a["b1"], a["w2"], a["b2"]),
        "global_depthwise_conv2d": lambda: partial(module.global_depthwise_conv2d, a["x"], a["w"]),
    }
    return calls[op]()


def _native_se(x, w1, b1, w2, b2):
    import torch
    import torch.nn.functional as F

    hidden = F.relu(F.linear(F.adaptive_avg_pool2d(x, 1).flatten(1), w1, b1))
    return x * torch.sigmoid(F.linear(hidden, w2, b2))[:, :, None, None]


def _native(op: str, layer: Layer, t, allow_ours=False):
    """``(call, name)``: PyTorch's own version of ``op`` bound to the case's tensors ``t``.

    Deformable convolution has no native op in torch itself: torchvision's, or with
    ``allow_ours`` (the NumPy backend's reference) conv_tutorial.torch's when torchvision is missing.
    """
    import torch.nn.functional as F

    s, p, d, g = layer.stride, layer.padding, layer.dilation, layer.groups
    if op == "deform_conv2d":
        ops = torchvision_ops()
        if ops is not None:
            return (partial(ops.deform_conv2d, t["x"], t["offset"], t["w"], stride=s, padding=p),
                    "torchvision.ops.deform_conv2d")
        if allow_ours:
            from . import torch as ctorch

            return _call(ctorch, op, layer, t), "conv_tutorial.torch.deform_conv2d"
        raise ValueError("deform_conv2d has no native PyTorch op without torchvision")
    natives = {
        "conv2d": (lambda: partial(F.conv2d, t["x"], t["w"], stride=s, padding=p, groups=g), "F.conv2d"),
        "grouped_conv2d": (lambda: partial(F.conv2d, t["x"], t["w"], stride=s, padding=p, groups=g), "F.conv2d"),
        "dilated_conv2d": (lambda: partial(F.conv2d, t["x"], t["w"], stride=s, padding=p, dilation=d), "F.conv2d"),
        "conv_transpose2d": (lambda: partial(F.conv_transpose2d, t["x"], t["w"], stride=s, padding=p, groups=g,
                                             output_padding=(layer.size + 2 * p - layer.kernel) % s),
                             "F.conv_transpose2d"),
        "conv3d": (lambda: partial(F.conv3d, t["x"], t["w"], padding=p), "F.conv3d"),
        "depthwise_conv2d": (lambda: partial(F.conv2d, t["x"], t["w"], stride=s, padding=p, groups=layer.c_in),
                             "F.conv2d"),
        "pointwise_conv2d": (lambda: partial(F.conv2d, t["x"], t["pw"]), "F.conv2d"),
        "separable_conv2d": (lambda: (lambda: F.conv2d(F.conv2d(t["x"], t["w"], stride=s, padding=p,
                                                                groups=layer.c_in), t["pw"])), "F.conv2d x 2"),
        "spatially_separable_conv2d": (lambda: (lambda: F.conv2d(F.conv2d(t["x"], t["col"], stride=(s, 1),
                                                                          padding=(p, 0)),
                                                                 t["row"], stride=(1, s), padding=(0, p))),
                                       "F.conv2d x 2"),
        "channel_shuffle": (lambda: partial(F.channel_shuffle, t["x"], g), "F.channel_shuffle"),
        "squeeze_excitation": (lambda: partial(_native_se, t["x"], t["w1"], t["b1"], t["w2"], t["b2"]),
                               "F.adaptive_avg_pool2d + F.linear"),
        "global_depthwise_conv2d": (lambda: partial(F.conv2d, t["x"], t["w"], groups=layer.c_in), "F.conv2d"),
    }
    call, name = natives[op]
    return call(), name


def _median_time(fn, repeats: int, sync=None) -> float:
    time.sleep(SETTLE_SECONDS)
    fn()  # warm-up: first-call allocations, oneDNN primitive creation
    if sync:
        sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(case: Case, batch: int = 8, repeats: int = 3, rng=None) -> Measurement:
    """Time one case: ours, then the reference, on the same arrays; the ratio ours / reference.

    Calls :func:`keep_freed_memory` first, for the rest of the process.
    """
    import torch

    keep_freed_memory()

    rng = np.random.default_rng(0) if rng is None else rng
    arrays = _arrays(case.op, case.layer, batch, rng)
    where = "cpu" if case.backend == "numpy" else device()
    tensors = {name: torch.from_numpy(a).to(where) for name, a in arrays.items()}
    sync = torch.cuda.synchronize if where == "cuda" else None
    if case.backend == "numpy":
        ours = _call(cnp, case.op, case.layer, arrays)
        reference, name = _native(case.op, case.layer, tensors, allow_ours=True)
    else:
        from . import torch as ctorch

        ours = _call(ctorch, case.op, case.layer, tensors)
        reference, name = _native(case.op, case.layer, tensors)
    with torch.no_grad():
        t_reference = _median_time(reference, repeats, sync)
        t_ours = _median_time(ours, repeats, sync if case.backend == "torch" else None)
    return Measurement(case.op, case.layer.name, t_ours, t_reference, t_ours / t_reference, case.backend, name,
                       where)


def format_measurement(m: Measurement) -> str:
    """One line: backend, operation, layer, both times and the ratio."""
    return (f"{m.backend:5s} {m.op:26s} {m.layer:30s} ours {m.ours_s * 1e3:9.2f} ms  "
            f"{m.reference:32s} {m.reference_s * 1e3:9.2f} ms  ratio {m.ratio:6.2f}")


def run(batch: int = 8, repeats: int = 3, layers=None, ops=("conv2d", "conv_transpose2d"), progress=print,
        backend="numpy", quick=False):
    """Time every operation of ``ops`` on its layers for one backend; rows ``(op, layer, ours_s, reference_s, ratio)``.

    ``layers`` overrides every operation's suite (``OP_SUITES``); ``progress`` receives one line
    per case (``None`` for silence).
    """
    rng = np.random.default_rng(0)
    rows = []
    for case in plan(ops, (backend,), quick, layers):
        m = measure(case, batch, repeats, rng)
        rows.append(tuple(m[:5]))
        if progress:
            progress(format_measurement(m))
    return rows


def geometric_means(rows) -> dict[str, float]:
    """Geometric mean of the ratio per operation (rows of one backend, as :func:`run` returns)."""
    means = {}
    for op in dict.fromkeys(r[0] for r in rows):
        ratios = [r[4] for r in rows if r[0] == op]
        means[op] = float(np.exp(np.mean(np.log(ratios))))
    return means


def main(argv=None) -> int:
    """``python -m conv_tutorial.bench [options]``: the same as ``conv-tutorial bench [options]``."""
    from .cli import main as cli_main

    return cli_main(["bench", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
