"""The roofline model of this machine: its measured peak FLOP rate and memory bandwidth.

The module also gives the FLOP rate they allow a kernel of a given arithmetic intensity, and a fair clock for
comparing kernels.

Williams, Waterman and Patterson (2009) bound the speed of a kernel that performs ``F`` FLOPs on
``Q`` bytes of memory traffic, its *arithmetic intensity* being ``I = F / Q`` FLOP/byte, on a
processor with peak rate ``P`` FLOP/s and memory bandwidth ``B`` byte/s::

    attainable FLOP/s = min(P, I * B)

Below the *ridge point* ``I = P / B`` the kernel waits for memory (memory-bound), above it for
arithmetic (compute-bound). :func:`peak_flops` measures ``P`` with a large matrix product,
:func:`memory_bandwidth` measures ``B`` with a large copy, :func:`roofline` evaluates the bound,
and :func:`conv_tutorial.timing.best_times` (the package's one timer, which these measurements
use too) times several kernels in interleaved rounds so that a slow moment of a busy machine hits
all of them alike (and, with ``clock="cpu"``, counts only the time the kernel spent on a core).
The intensities themselves come from :mod:`conv_tutorial.cost`; :func:`conv_tutorial.viz.draw_roofline`
draws the picture.

Measurements run with the current thread settings (``torch.set_num_threads``; NumPy's BLAS
threads): measure the roof under the settings the kernels are timed with.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_measurement, check_roofline
from .timing import best_times, timer_for

__all__ = ["memory_bandwidth", "peak_flops", "ridge_point", "roofline"]


def _operands(backend: str, dtype: np.dtype, *shapes):
    """Arrays of ``shapes`` in ``dtype`` for ``backend``, filled with ones.

    Speed does not depend on the values (ones are neither denormal nor NaN), and the fill writes
    every page, so no timed call reads pages the system maps lazily to a shared zero page.
    """
    arrays = [np.ones(shape, dtype=dtype) for shape in shapes]
    if backend == "numpy":
        return arrays
    import torch

    return [torch.from_numpy(a) for a in arrays]


def peak_flops(dtype="float32", backend="torch", size=1024, repeats=3, clock="wall"):
    """Measured peak FLOP rate: an ``n x n`` by ``n x n`` matrix product, best of ``repeats``.

    A large matrix product is usually the fastest thing a processor's arithmetic units do (it
    reuses each loaded number ``n`` times), so its rate is the practical roof of the roofline model;
    it counts ``2 n^3`` FLOPs (one multiplication and one addition per multiply-accumulate). Not
    always: where the BLAS library is not tuned for the processor, a convolution library's kernels
    can run faster, and the roof is then the larger of the two measured rates.

    Parameters
    ----------
    dtype : NumPy or torch dtype, or its name
        float16, float32 or float64 (integers run as float64, as everywhere in the package).
    backend : {"torch", "numpy"}
        ``torch.matmul`` (oneDNN / MKL, with ``torch.get_num_threads()`` threads) or
        ``numpy.matmul`` (NumPy's BLAS).
    size : int
        ``n``; 1024 to 2048 reach the peak on a CPU in well under a second.
    repeats : int
        Timed calls after one warm-up call; the fastest is kept.
    clock : {"wall", "cpu"}
        As in :func:`conv_tutorial.timing.best_times`: ``"cpu"`` counts only the calling thread's time on a core, which
        a busy machine does not inflate (for one thread: ``torch.set_num_threads(1)``).

    Returns
    -------
    float
        FLOP/s.

    Examples
    --------
    >>> rate = peak_flops(size=64, repeats=1)
    >>> 0 < rate < float("inf")
    True
    """
    dt, backend, n, repeats = check_measurement("peak_flops", dtype, backend, size, repeats)
    timer_for("peak_flops", clock)
    a, b, out = _operands(backend, dt, (n, n), (n, n), (n, n))
    if backend == "numpy":
        matmul = np.matmul
    else:
        import torch

        matmul = torch.matmul
    return 2 * n**3 / best_times({"matmul": lambda: matmul(a, b, out=out)}, repeats, clock=clock)["matmul"]


def memory_bandwidth(dtype="float32", backend="torch", size=2**24, repeats=3, clock="wall"):
    """Measured memory bandwidth: copy one array of ``size`` elements into another, best of ``repeats``.

    A copy reads every byte of the source and writes every byte of the destination, so it moves
    ``2 * size * itemsize`` bytes (read + write, the STREAM convention); both arrays must be much
    larger than the caches for this to measure main memory (the default: 64 MiB each in float32).

    Parameters
    ----------
    dtype : NumPy or torch dtype, or its name
    backend : {"torch", "numpy"}
        ``Tensor.copy_`` (multithreaded) or ``numpy.copyto``.
    size : int
        Elements per array.
    repeats : int
        Timed copies after one warm-up copy (which also maps the destination's pages).
    clock : {"wall", "cpu"}
        As in :func:`peak_flops`.

    Returns
    -------
    float
        Bytes per second.

    Examples
    --------
    >>> rate = memory_bandwidth(size=1024, repeats=1)
    >>> 0 < rate < float("inf")
    True
    """
    dt, backend, n, repeats = check_measurement("memory_bandwidth", dtype, backend, size, repeats)
    timer_for("memory_bandwidth", clock)
    source, destination = _operands(backend, dt, (n,), (n,))
    copy = (lambda: np.copyto(destination, source)) if backend == "numpy" else (lambda: destination.copy_(source))
    return 2 * n * dt.itemsize / best_times({"copy": copy}, repeats, clock=clock)["copy"]


def roofline(intensity, peak, bandwidth):
    """Attainable FLOP rate at arithmetic intensity ``intensity``: ``min(peak, intensity * bandwidth)``.

    Parameters
    ----------
    intensity : float or array_like, shape (...)
        FLOPs per byte moved (:func:`conv_tutorial.cost.arithmetic_intensity`); non-negative.
        NaN propagates.
    peak : float
        Peak FLOP rate in FLOP/s (:func:`peak_flops`).
    bandwidth : float
        Memory bandwidth in byte/s (:func:`memory_bandwidth`).

    Returns
    -------
    float, or ndarray of shape (...) for array input
        FLOP/s.

    Examples
    --------
    >>> roofline(2.0, peak=100e9, bandwidth=10e9)     # memory-bound: 2 FLOP/byte * 10 GB/s
    20000000000.0
    >>> roofline([1, 10, 100], peak=100e9, bandwidth=10e9) / 1e9
    array([ 10., 100., 100.])
    """
    peak, bandwidth = check_roofline("roofline", peak, bandwidth)
    values = np.asarray(intensity)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"roofline: intensity must hold real numbers, got dtype {values.dtype}")
    values = values.astype(np.float64)
    if np.any(values < 0):
        raise ValueError(f"roofline: intensity must be non-negative, got intensity={intensity!r}")
    attainable = np.minimum(peak, values * bandwidth)
    return float(attainable) if attainable.ndim == 0 else attainable


def ridge_point(peak, bandwidth):
    """Arithmetic intensity ``peak / bandwidth`` (FLOP/byte) where memory stops being the limit.

    Examples
    --------
    >>> ridge_point(100e9, 10e9)
    10.0
    """
    peak, bandwidth = check_roofline("ridge_point", peak, bandwidth)
    return peak / bandwidth
