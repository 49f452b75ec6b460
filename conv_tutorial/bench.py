"""The benchmark suite: every implementation of the package timed against PyTorch in the same run.

Two comparisons, each a ratio ``our time / reference time`` measured on the same input in the
same run (so the ratios, not the absolute times, are what carry from one machine to another):

- backend ``"numpy"``: each function of :mod:`conv_tutorial.numpy` against its PyTorch
  counterpart (``torch.nn.functional``, ``torchvision.ops.deform_conv2d`` when torchvision is
  installed, else :mod:`conv_tutorial.torch`'s), both on the CPU;
- backend ``"torch"``: each function of :mod:`conv_tutorial.torch` (built from ``F.unfold`` and
  matrix products) against the native op, on the GPU when ``torch.cuda.is_available()``, else
  on the CPU; deformable convolution only when torchvision is installed.

:data:`OPERATIONS` is the one list of what is timed: each :class:`Operation` names its layers
(ResNet-50, MobileNet v1, Inception v3, DeepLab, R3D-18, ShuffleNet, SE-ResNet-50 and
MobileFaceNet layers at their real sizes, float32, batch 8 by default), one small layer for a run
of seconds (``quick=True``), the arrays it takes, our call and the native one. Adding an operation
is adding one entry. Both sides of a case are timed by :func:`conv_tutorial.timing.best_times`,
in interleaved rounds, with a rest between NumPy's and PyTorch's turns (each turn opened by an
untimed wake-up call), ``CALLS_PER_TURN`` timed calls a turn, more until the turn has lasted
``MIN_TURN_SECONDS``, with freed memory kept in the process
(:func:`conv_tutorial.timing.keep_freed_memory`).

Each case's peak memory is measured too, in separate calls (``peak_bytes``): the most bytes
that each side's allocator held at once during one call, above what it held before the call, the
output included. For NumPy that is what :mod:`tracemalloc` sees (NumPy reports every array's
buffer to it); for PyTorch on the CPU the allocation events of its CPU allocator that
``torch.profiler`` records (tensors, and oneDNN's reordered copies and scratch space, which
it takes from that allocator); on a GPU ``torch.cuda.max_memory_allocated``. Neither count sees
memory a BLAS library keeps for itself (OpenBLAS's and MKL's buffers, allocated once per
process): both sides' counts are of the working arrays a call creates. The ratio of the two peaks
is reported beside the ratio of the times.

Run it with ``conv-tutorial bench`` (``--help`` for options), ``python -m conv_tutorial bench`` or
``make bench``. Nothing here asserts: speed is measured, not tested.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import numpy as cnp
from .shapes import ConvGeometry, transposed_equivalent
from .timing import best_times, keep_freed_memory

#: ``"numpy"``: conv_tutorial.numpy against PyTorch; ``"torch"``: conv_tutorial.torch against the native op.
BACKENDS = ("numpy", "torch")

#: Targets for the geometric mean of the time ratio per operation, by comparison (float32, batch 8):
#: ``numpy`` is conv_tutorial.numpy over PyTorch on the CPU (the deformable convolution over
#: conv_tutorial.torch), ``torch`` is conv_tutorial.torch over the native op (over torchvision's
#: kernel for the deformable convolution, which it should beat three times over). Operations not
#: listed are measured and reported with no target.
TARGETS = {
    "numpy": {"conv2d": 1.3, "depthwise_conv2d": 2.5, "conv3d": 1.6, "deform_conv2d": 2.0},
    "torch": {
        **dict.fromkeys(
            (
                "conv2d",
                "pointwise_conv2d",
                "spatially_separable_conv2d",
                "depthwise_conv2d",
                "separable_conv2d",
                "grouped_conv2d",
                "channel_shuffle",
                "dilated_conv2d",
                "conv_transpose2d",
                "conv3d",
                "squeeze_excitation",
                "global_depthwise_conv2d",
            ),
            1.5,
        ),
        "deform_conv2d": 1 / 3,
    },
}

#: Targets for the time ratio of every single layer of an operation (the outliers a mean hides).
LAYER_TARGETS = {"numpy": {"conv2d": 2.5}, "torch": {}}

#: Target for every layer's peak-memory ratio, in both comparisons.
PEAK_TARGET = 2.0

#: Seconds of rest before each side of a NumPy case is timed: NumPy's BLAS threads and torch's
#: OpenMP threads spin for a while after their work, and on a small machine the other library's
#: threads then wait for a core. Resting first lets them go idle, so neither library is timed
#: against the other. A torch backend case compares two users of the same threads and does not
#: rest: after a rest, calls of tens of microseconds took milliseconds until the threads were
#: back up to speed.
SETTLE_SECONDS = 0.2

#: Timed calls in each side's turn of a round, after the untimed wake-up call that follows the rest
#: (:func:`conv_tutorial.timing.best_times`): the first call after a wake-up still ran up to 2x slower
#: than the next ones for sub-millisecond layers here, while their worker threads came back up to speed.
CALLS_PER_TURN = 2

#: Seconds each side's turn lasts at least (:func:`conv_tutorial.timing.best_times`): after the
#: rest of a NumPy case, short calls take a few milliseconds to come back to speed (a 40 us
#: channel shuffle read 0.1-8 ms for its first calls), so they are timed until the turn has
#: lasted this long, dozens to hundreds of times. With 2 calls a turn, the ratio of the same
#: shuffle ranged from 0.8 to 2.3 between runs.
MIN_TURN_SECONDS = 0.02

SE_REDUCTION = 16


@dataclass(frozen=True)
class Layer:
    """A named layer ``C_in -> C_out`` with a square kernel on an ``H x H`` input (``frames x H x H`` when ``frames``).

    ``groups`` is the number of groups (of the convolution, or of the channel shuffle). Its
    convolution is ``geometry()``, padded to keep the size up to the stride.
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

    def geometry(self, batch: int = 1) -> ConvGeometry:
        """The layer's convolution on ``batch`` inputs, padded by ``dilation * (kernel // 2)`` on every side."""
        n = 3 if self.frames else 2
        spatial = (self.frames, self.size, self.size) if self.frames else (self.size, self.size)
        pad = self.dilation * (self.kernel // 2)
        return ConvGeometry(
            batch,
            self.c_in,
            self.c_out,
            spatial,
            (self.kernel,) * n,
            (self.stride,) * n,
            ((pad, pad),) * n,
            (self.dilation,) * n,
            self.groups,
        )

    @property
    def padding(self) -> int:
        """The padding of every side, as the functions take it: ``dilation * (kernel // 2)``."""
        return self.geometry().symmetric_padding[-1]


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
    for c, h, s in (
        (32, 112, 1),
        (64, 112, 2),
        (128, 56, 1),
        (128, 56, 2),
        (256, 28, 1),
        (256, 28, 2),
        (512, 14, 1),
        (512, 14, 2),
        (1024, 7, 1),
    )
)

#: MobileNet v1's pointwise 1x1 layers, one per shape.
POINTWISE_SUITE = tuple(
    Layer(f"mobilenet.pw 1x1 {c_in}->{c_out}@{h}", c_in, c_out, h, 1)
    for c_in, c_out, h in (
        (32, 64, 112),
        (64, 128, 56),
        (128, 128, 56),
        (128, 256, 28),
        (256, 256, 28),
        (256, 512, 14),
        (512, 512, 14),
        (512, 1024, 7),
        (1024, 1024, 7),
    )
)

#: MobileNet v1's blocks as depthwise separable convolutions (depthwise 3x3, then pointwise).
SEPARABLE_SUITE = tuple(
    Layer(f"mobilenet.block 3x3{'/2' if s == 2 else ''} {c_in}->{c_out}@{h}", c_in, c_out, h, 3, stride=s)
    for c_in, c_out, h, s in (
        (32, 64, 112, 1),
        (64, 128, 112, 2),
        (128, 128, 56, 1),
        (256, 256, 28, 1),
        (512, 512, 14, 1),
        (1024, 1024, 7, 1),
    )
)

#: Inception v3's factorised layers (Szegedy et al., 2016): 7x1 then 1x7 at 17x17, 3x1 then 1x3 at 8x8.
SPATIALLY_SEPARABLE_SUITE = tuple(
    Layer(f"inception3.{k}x1+1x{k} {c}@{h}", c, c, h, k)
    for c, h, k in ((128, 17, 7), (160, 17, 7), (192, 17, 7), (384, 8, 3))
)

#: ResNet-50's 3x3 layer of stage 3 (256 -> 256 at 14x14) split into more and more groups.
GROUPED_SUITE = tuple(Layer(f"3x3 256->256@14 g={g}", 256, 256, 14, 3, groups=g) for g in (2, 4, 8, 16, 32, 64))

#: ShuffleNet v1's channel shuffles with g = 3 (Zhang et al., 2018), one per stage.
SHUFFLE_SUITE = tuple(
    Layer(f"shufflenet.shuffle g=3 {c}@{h}", c, c, h, 1, groups=3) for c, h in ((240, 28), (480, 14), (960, 7))
)

#: DeepLab v3's atrous 3x3 layers (Chen et al., 2017) on a 256-channel map at output stride 8.
DILATED_SUITE = tuple(Layer(f"deeplab.aspp 3x3 d={d} 256@28", 256, 256, 28, 3, dilation=d) for d in (2, 4, 6, 12))

#: R3D-18's 3x3x3 layers (Tran et al., 2018) of stages 2-4 on a 16x112x112 clip.
VIDEO_SUITE = tuple(
    Layer(f"r3d18.3x3x3 {c}@{t}x{h}", c, c, h, 3, frames=t) for c, t, h in ((128, 4, 28), (256, 2, 14), (512, 1, 7))
)

#: ResNet-50's 3x3 layers of stages 3-5 made deformable, as in DCNv2 (Zhu et al., 2019).
DEFORM_SUITE = tuple(Layer(f"dcn.resnet50 3x3 {c}@{h}", c, c, h, 3) for c, h in ((128, 28), (256, 14), (512, 7)))

#: SE-ResNet-50's squeeze-and-excitation blocks (Hu et al., 2018), reduction 16, one per stage.
SE_SUITE = tuple(
    Layer(f"se-resnet50 r=16 {c}@{h}", c, c, h, 1) for c, h in ((256, 56), (512, 28), (1024, 14), (2048, 7))
)

#: Global depthwise convolutions on the final 7x7 map: MobileFaceNet's 512 channels (Chen et al.,
#: 2018) and a MobileNet v2-sized 1280.
GDC_SUITE = tuple(Layer(f"gdc 7x7 {c}@7", c, c, 7, 7) for c in (512, 1280))


def _output_size(layer: Layer) -> int:
    return layer.geometry().output_size[-1]


def _output_padding(layer: Layer) -> int:
    """The ``output_padding`` with which the layer's transpose returns the layer's input size."""
    return transposed_equivalent(layer.size, layer.kernel, layer.stride, layer.padding, layer.dilation).extra


def _conv_arrays(layer: Layer) -> dict[str, tuple[int, ...]]:
    return {"w": layer.geometry().weight_shape}


def _transposed_arrays(layer: Layer) -> dict[str, tuple[int, ...]]:
    # The adjoint of the layer: the same weight read as the transposed layout maps the layer's
    # output back to its input shape.
    out = _output_size(layer)
    return {"x": (layer.c_out, out, out), **_conv_arrays(layer)}


def _separable_arrays(layer: Layer) -> dict[str, tuple[int, ...]]:
    return {"w": (layer.c_in, 1, layer.kernel, layer.kernel), "pw": (layer.c_out, layer.c_in, 1, 1)}


@dataclass(frozen=True)
class Operation:
    """One operation the benchmark times, on every layer of its suite.

    ``arrays(layer)`` gives the shapes of the arrays besides the input ``x`` (an entry ``"x"``
    replaces the input's per-image shape); ``ours(module, layer, a)`` is the call of
    :mod:`conv_tutorial.numpy` or :mod:`conv_tutorial.torch` on the arrays ``a``, and
    ``native(F, layer, t)`` PyTorch's own call, ``F`` being ``torch.nn.functional``.
    """

    name: str
    suite: tuple[Layer, ...]
    quick: Layer
    arrays: Callable[[Layer], dict[str, tuple[int, ...]]]
    ours: Callable
    native: Callable
    native_name: str = "F.conv2d"


def _native_se(F, x, w1, b1, w2, b2):
    hidden = F.relu(F.linear(F.adaptive_avg_pool2d(x, 1).flatten(1), w1, b1))
    return x * F.sigmoid(F.linear(hidden, w2, b2))[:, :, None, None]


def _native_deform(F, layer, t):
    return torchvision_ops().deform_conv2d(t["x"], t["offset"], t["w"], stride=layer.stride, padding=layer.padding)


#: Every operation the benchmark times, in the book's chapter order.
OPERATIONS = (
    Operation(
        "conv2d",
        SUITE,
        Layer("quick 3x3 32->32@14", 32, 32, 14, 3),
        _conv_arrays,
        lambda m, L, a: m.conv2d(a["x"], a["w"], stride=L.stride, padding=L.padding, groups=L.groups),
        lambda F, L, t: F.conv2d(t["x"], t["w"], stride=L.stride, padding=L.padding, groups=L.groups),
    ),
    Operation(
        "pointwise_conv2d",
        POINTWISE_SUITE,
        Layer("quick 1x1 32->64@14", 32, 64, 14, 1),
        lambda L: {"pw": (L.c_out, L.c_in, 1, 1)},
        lambda m, L, a: m.pointwise_conv2d(a["x"], a["pw"]),
        lambda F, L, t: F.conv2d(t["x"], t["pw"]),
    ),
    Operation(
        "spatially_separable_conv2d",
        SPATIALLY_SEPARABLE_SUITE,
        Layer("quick 3x1+1x3 32@14", 32, 32, 14, 3),
        lambda L: {"col": (L.c_out, L.c_in, L.kernel, 1), "row": (L.c_out, L.c_out, 1, L.kernel)},
        lambda m, L, a: m.spatially_separable_conv2d(a["x"], a["col"], a["row"], stride=L.stride, padding=L.padding),
        lambda F, L, t: F.conv2d(
            F.conv2d(t["x"], t["col"], stride=(L.stride, 1), padding=(L.padding, 0)),
            t["row"],
            stride=(1, L.stride),
            padding=(0, L.padding),
        ),
        "F.conv2d x 2",
    ),
    Operation(
        "depthwise_conv2d",
        DEPTHWISE_SUITE,
        Layer("quick dw 3x3 32@14", 32, 32, 14, 3, groups=32),
        lambda L: {"w": (L.c_in, 1, L.kernel, L.kernel)},
        lambda m, L, a: m.depthwise_conv2d(a["x"], a["w"], stride=L.stride, padding=L.padding),
        lambda F, L, t: F.conv2d(t["x"], t["w"], stride=L.stride, padding=L.padding, groups=L.c_in),
    ),
    Operation(
        "separable_conv2d",
        SEPARABLE_SUITE,
        Layer("quick block 3x3 32->64@14", 32, 64, 14, 3),
        _separable_arrays,
        lambda m, L, a: m.separable_conv2d(a["x"], a["w"], a["pw"], stride=L.stride, padding=L.padding),
        lambda F, L, t: F.conv2d(F.conv2d(t["x"], t["w"], stride=L.stride, padding=L.padding, groups=L.c_in), t["pw"]),
        "F.conv2d x 2",
    ),
    Operation(
        "grouped_conv2d",
        GROUPED_SUITE,
        Layer("quick 3x3 32->32@14 g=4", 32, 32, 14, 3, groups=4),
        _conv_arrays,
        lambda m, L, a: m.conv2d(a["x"], a["w"], stride=L.stride, padding=L.padding, groups=L.groups),
        lambda F, L, t: F.conv2d(t["x"], t["w"], stride=L.stride, padding=L.padding, groups=L.groups),
    ),
    Operation(
        "channel_shuffle",
        SHUFFLE_SUITE,
        Layer("quick shuffle g=4 32@14", 32, 32, 14, 1, groups=4),
        lambda L: {},
        lambda m, L, a: m.channel_shuffle(a["x"], L.groups),
        lambda F, L, t: F.channel_shuffle(t["x"], L.groups),
        "F.channel_shuffle",
    ),
    Operation(
        "dilated_conv2d",
        DILATED_SUITE,
        Layer("quick 3x3 d=2 32@14", 32, 32, 14, 3, dilation=2),
        _conv_arrays,
        lambda m, L, a: m.conv2d(a["x"], a["w"], stride=L.stride, padding=L.padding, dilation=L.dilation),
        lambda F, L, t: F.conv2d(t["x"], t["w"], stride=L.stride, padding=L.padding, dilation=L.dilation),
    ),
    Operation(
        "conv_transpose2d",
        SUITE,
        Layer("quick 3x3/2 32->32@14", 32, 32, 14, 3, stride=2),
        _transposed_arrays,
        lambda m, L, a: m.conv_transpose2d(
            a["x"],
            a["w"],
            stride=L.stride,
            padding=L.padding,
            groups=L.groups,
            output_padding=_output_padding(L),
        ),
        lambda F, L, t: F.conv_transpose2d(
            t["x"],
            t["w"],
            stride=L.stride,
            padding=L.padding,
            groups=L.groups,
            output_padding=_output_padding(L),
        ),
        "F.conv_transpose2d",
    ),
    Operation(
        "conv3d",
        VIDEO_SUITE,
        Layer("quick 3x3x3 16@4x14", 16, 16, 14, 3, frames=4),
        lambda L: {"w": (L.c_out, L.c_in, L.kernel, L.kernel, L.kernel)},
        lambda m, L, a: m.conv3d(a["x"], a["w"], padding=L.padding),
        lambda F, L, t: F.conv3d(t["x"], t["w"], padding=L.padding),
        "F.conv3d",
    ),
    Operation(
        "deform_conv2d",
        DEFORM_SUITE,
        Layer("quick dcn 3x3 16@14", 16, 16, 14, 3),
        lambda L: {**_conv_arrays(L), "offset": (2 * L.kernel**2, _output_size(L), _output_size(L))},
        lambda m, L, a: m.deform_conv2d(a["x"], a["offset"], a["w"], stride=L.stride, padding=L.padding),
        _native_deform,
        "torchvision.ops.deform_conv2d",
    ),
    Operation(
        "squeeze_excitation",
        SE_SUITE,
        Layer("quick se r=16 64@14", 64, 64, 14, 1),
        lambda L: {
            "w1": (L.c_in // SE_REDUCTION, L.c_in),
            "b1": (L.c_in // SE_REDUCTION,),
            "w2": (L.c_in, L.c_in // SE_REDUCTION),
            "b2": (L.c_in,),
        },
        lambda m, L, a: m.squeeze_excitation(a["x"], a["w1"], a["b1"], a["w2"], a["b2"]),
        lambda F, L, t: _native_se(F, t["x"], t["w1"], t["b1"], t["w2"], t["b2"]),
        "F.adaptive_avg_pool2d + F.linear",
    ),
    Operation(
        "global_depthwise_conv2d",
        GDC_SUITE,
        Layer("quick gdc 7x7 64@7", 64, 64, 7, 7),
        lambda L: {"w": (L.c_in, 1, L.kernel, L.kernel)},
        lambda m, L, a: m.global_depthwise_conv2d(a["x"], a["w"]),
        lambda F, L, t: F.conv2d(t["x"], t["w"], groups=L.c_in),
    ),
)

#: The operations by name, and their names in chapter order (the ``--ops`` choices).
OPERATION = {op.name: op for op in OPERATIONS}
OPS = tuple(OPERATION)


class Measurement(NamedTuple):
    """One timed case: both times, both peaks of memory, and their ratios.

    Times are in seconds, with the ratio ``ours_s / reference_s``; peaks in bytes (``peak_bytes``),
    with the ratio ``ours_peak / reference_peak`` (nan where a peak could not be measured).
    """

    op: str
    layer: str
    ours_s: float
    reference_s: float
    ratio: float
    backend: str = "numpy"
    reference: str = ""
    device: str = "cpu"
    ours_peak: float = math.nan
    reference_peak: float = math.nan
    peak_ratio: float = math.nan


@dataclass(frozen=True)
class Case:
    """An operation on one layer, for one backend: what :func:`measure` times."""

    backend: str
    op: str
    layer: Layer

    @property
    def label(self) -> str:
        """``'backend op layer'``, the case's name on the progress line of ``conv-tutorial bench``."""
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
        raise ValueError(
            f"unknown operations or backends {unknown}; operations are {list(OPS)}, backends {list(BACKENDS)}"
        )
    has_torchvision = torchvision_ops() is not None
    return [
        Case(backend, op, layer)
        for op in ops
        for layer in (layers if layers is not None else (OPERATION[op].quick,) if quick else OPERATION[op].suite)
        for backend in backends
        if not (backend == "torch" and op == "deform_conv2d" and not has_torchvision)
    ]


def _arrays(operation: Operation, layer: Layer, batch: int, rng) -> dict[str, np.ndarray]:
    """The float32 arrays of one case, standard normal (offsets scaled to half a pixel)."""
    shapes = {"x": layer.geometry().input_shape[1:], **operation.arrays(layer)}
    arrays = {
        name: rng.standard_normal((batch, *shape) if name in ("x", "offset") else shape, dtype=np.float32)
        for name, shape in shapes.items()
    }
    if "offset" in arrays:
        arrays["offset"] *= 0.5
    return arrays


def _sides(case: Case, batch: int, rng):
    """The two calls of a case on the same arrays: ``(ours, reference, reference_name, where)``."""
    import torch
    import torch.nn.functional as F

    operation = OPERATION[case.op]
    arrays = _arrays(operation, case.layer, batch, rng)
    where = "cpu" if case.backend == "numpy" else device()
    tensors = {name: torch.from_numpy(a).to(where) for name, a in arrays.items()}
    sync = torch.cuda.synchronize if where == "cuda" else (lambda: None)
    reference_name = operation.native_name
    if case.op == "deform_conv2d" and torchvision_ops() is None:
        if case.backend == "torch":
            raise ValueError("deform_conv2d has no native PyTorch op without torchvision")
        from . import torch as ctorch  # the NumPy backend's reference, when torchvision is missing

        reference_name = "conv_tutorial.torch.deform_conv2d"

        def native(F, layer, t):
            return operation.ours(ctorch, layer, t)
    else:
        native = operation.native
    if case.backend == "numpy":

        def ours():
            return operation.ours(cnp, case.layer, arrays)
    else:
        from . import torch as ctorch

        def ours():
            result = operation.ours(ctorch, case.layer, tensors)
            sync()
            return result

    def reference():
        result = native(F, case.layer, tensors)
        sync()
        return result

    return ours, reference, reference_name, where


def measure(case: Case, batch: int = 8, repeats: int = 3, rng=None, peaks: bool = True) -> Measurement:
    """Time one case: ours and the reference on the same arrays, in ``repeats`` interleaved rounds.

    Each side's time is its fastest call (:func:`conv_tutorial.timing.best_times`), after a rest of
    ``SETTLE_SECONDS`` for a NumPy case; on a GPU every call is synchronised. Then, unless ``peaks`` is false (the
    peaks are nan), each side's peak memory is measured in one more call of its own
    (``measure_peaks``). Calls :func:`~conv_tutorial.timing.keep_freed_memory` first, for the
    rest of the process.
    """
    import torch

    keep_freed_memory()
    rng = np.random.default_rng(0) if rng is None else rng
    ours, reference, reference_name, where = _sides(case, batch, rng)
    with torch.no_grad():
        times = best_times(
            {"reference": reference, "ours": ours},
            rounds=repeats,
            repeats=CALLS_PER_TURN,
            settle=SETTLE_SECONDS if case.backend == "numpy" else 0.0,
            min_turn=MIN_TURN_SECONDS,
        )
    measurement = Measurement(
        case.op,
        case.layer.name,
        times["ours"],
        times["reference"],
        times["ours"] / times["reference"],
        case.backend,
        reference_name,
        where,
        math.nan,
        math.nan,
        math.nan,
    )
    return measure_peaks(measurement, case, batch, rng) if peaks else measurement


def measure_peaks(measurement: Measurement, case: Case, batch: int = 8, rng=None) -> Measurement:
    """``measurement`` with both sides' peak memory of ``case`` (``peak_bytes``), one call each.

    ``conv-tutorial bench`` times every case first and measures the peaks afterwards: the profiler
    that counts PyTorch's allocations leaves threads behind that would compete for the cores with
    the timed calls of the next case.
    """
    import torch

    rng = np.random.default_rng(0) if rng is None else rng
    ours, reference, _, where = _sides(case, batch, rng)
    with torch.no_grad():
        ours_peak = peak_bytes(ours, "numpy" if case.backend == "numpy" else where)
        reference_peak = peak_bytes(reference, where)
    ratio = ours_peak / reference_peak if reference_peak > 0 else math.nan
    return measurement._replace(ours_peak=ours_peak, reference_peak=reference_peak, peak_ratio=ratio)


def peak_bytes(fn: Callable, allocator: str) -> float:
    """The most bytes ``allocator`` held at once during one call of ``fn``, above what it held before.

    ``allocator`` is ``"numpy"`` (counted by :mod:`tracemalloc`, to which NumPy reports every
    array buffer; Python objects count too, but are small beside the arrays), ``"cpu"`` (PyTorch's
    CPU allocator, whose allocations and frees ``torch.profiler`` records with
    ``profile_memory=True``: the running sum of those events, in order) or ``"cuda"``
    (``torch.cuda.max_memory_allocated``). What ``fn`` returns is alive at the end, so the
    output counts. Memory a library allocates past these allocators (a BLAS library's own
    buffers) is not seen. Returns nan where PyTorch's profiler gives no allocation events.
    """
    gc.collect()
    if allocator == "numpy":
        was_tracing = tracemalloc.is_tracing()
        if not was_tracing:
            tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            result = fn()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            if not was_tracing:
                tracemalloc.stop()
        del result
        return float(peak - before)
    import torch

    if allocator == "cuda":
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        result = fn()
        peak = torch.cuda.max_memory_allocated()
        del result
        return float(peak - before)
    from torch.profiler import ProfilerActivity, profile

    with _stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        result = fn()
    del result
    events = getattr(getattr(prof.profiler, "kineto_results", None), "events", lambda: [])()
    changes = sorted(
        (e.start_ns(), e.nbytes()) for e in events if e.name() == "[memory]" and e.device_type().name == "CPU"
    )
    if not changes:
        return math.nan
    held = np.cumsum([0] + [nbytes for _, nbytes in changes])
    return float(held.max())


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to the null device while the block runs.

    The profiler's C++ library logs its start and stop there, which would break the benchmark's progress lines.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def geometric_means(measurements, field: str = "ratio") -> dict[str, float]:
    """Geometric mean of ``field`` (``"ratio"`` or ``"peak_ratio"``) per operation.

    Over measurements of one backend, in their order; nan where a ratio is nan.
    """
    means = {}
    for op in dict.fromkeys(m.op for m in measurements):
        ratios = [getattr(m, field) for m in measurements if m.op == op]
        means[op] = float(np.exp(np.mean(np.log(ratios))))
    return means
