"""The ``conv-tutorial`` command: the cost of every convolution type for one layer, and the benchmark suite.

``conv-tutorial cost`` prints :func:`conv_tutorial.cost.layer_table` as an aligned table (or CSV
or JSON), with the rows of :func:`conv_tutorial.cost.connection_table` (residual and dense blocks)
after them when asked; ``conv-tutorial bench`` runs :mod:`conv_tutorial.bench` with a progress bar on stderr
and prints the ratios. Exit status: 0 on success, 1 when the benchmark cannot run (no torch),
2 for bad arguments (argparse's usage errors and the package's validation errors alike, each
reported on one line ``conv-tutorial: error: ...``, never a traceback), 130 when interrupted, 141
when whoever reads the output stops reading (``conv-tutorial cost ... | head -1``: the command
stops quietly, as a program killed by SIGPIPE does).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import platform
import re
import sys

from . import __version__, bench, cost
from .timing import keep_freed_memory

PROG = "conv-tutorial"

#: Bytes per number of each dtype the cost model takes.
ITEMSIZE = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8}

COST_EXAMPLES = """\
examples:
  conv-tutorial cost --input 56 --in-channels 128 --out-channels 128
  conv-tutorial cost --input 224x224 --in-channels 3 --out-channels 64 --kernel 7 --stride 2 \\
                     --types standard depthwise-separable --format csv
  conv-tutorial cost --input 14 --in-channels 512 --out-channels 512 --batch 32 --dtype float16 --format json

The grouped row needs --groups to divide both channel counts and the SE row needs
C_IN // --reduction >= 1. With the defaults (--groups 4, --reduction 16) a row they do not fit
(a 3-channel input has no 4 groups) is left out with a note on stderr; give --groups or
--reduction, or name the row in --types, and a value that does not fit is an error instead.

MACs are multiply-accumulates (FLOPs = 2 x MACs, bias additions not counted); bytes are the floor
of the memory traffic: every step reads its input and weights once and writes its output once;
FLOP/B is the arithmetic intensity. The 3D and (2+1)D rows run on a clip of --frames frames.
--connections adds the blocks of chapter 15 (basic block, bottleneck block, dense layer with
--growth-rate, transition), which are left out otherwise unless named in --types:
conv-tutorial cost --input 56 --in-channels 64 --out-channels 64 --connections.
"""

BENCH_EXAMPLES = """\
examples:
  conv-tutorial bench --quick                           # one small layer per operation, seconds
  conv-tutorial bench --ops depthwise_conv2d pointwise_conv2d --output results.json
  conv-tutorial bench --backends torch --batch 32 --repeats 5 --output results.csv

The ratio is our time over the reference's, measured in the same run on the same input: numpy
compares conv_tutorial.numpy with PyTorch on the CPU, torch compares conv_tutorial.torch with
the native op (on the GPU when one is available). Compare ratios, not absolute times.
The --output file is checked for writability before the benchmark starts.
"""


def _input_size(text: str) -> tuple[int, int]:
    """``"56"`` or ``"56x64"`` as ``(H, W)``."""
    parts = text.lower().split("x")
    if len(parts) not in (1, 2) or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected SIZE or HxW with positive integers, got {text!r}")
    size = tuple(int(p) for p in parts)
    if min(size) <= 0:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return (size[0], size[-1])


def _type_name(text: str) -> str:
    """A name of :data:`conv_tutorial.cost.TYPES`, matched ignoring case, ``-``, ``_`` and spaces."""

    def key(name):
        return "".join(ch for ch in name.lower() if ch not in "-_ ")

    names = {key(name): name for name in cost.TYPES + cost.CONNECTION_TYPES}
    if key(text) not in names:
        raise argparse.ArgumentTypeError(
            f"unknown type {text!r}; choose from "
            f"{', '.join(name.replace(' ', '-') for name in cost.TYPES + cost.CONNECTION_TYPES)}"
        )
    return names[key(text)]


def _si(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f}{unit}"
    return f"{value:.0f}"


def _ratio(value: float) -> str:
    """One decimal from 100 up, three between 0.01 and 100, two significant digits below (0.00085 stays readable)."""
    if value >= 100 or value == 0:
        return f"{value:.1f}"
    return f"{value:.3f}" if value >= 0.01 else f"{value:.1e}"


def _shape(shape) -> str:
    return "x".join(str(s) for s in shape)


def _table(header, rows, right=()) -> str:
    """Rows of strings as aligned columns; the columns in ``right`` are right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in (header, *rows):
        cells = [
            str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


#: The package's parameter names as the ``cost`` command's options, for its error messages.
COST_OPTIONS = {
    "input_size": "--input",
    "in_channels": "--in-channels",
    "out_channels": "--out-channels",
    "kernel_size": "--kernel",
    "stride": "--stride",
    "batch": "--batch",
    "groups": "--groups",
    "dilation": "--dilation",
    "frames": "--frames",
    "reduction": "--reduction",
    "growth_rate": "--growth-rate",
}


#: The grouped and SE rows' defaults. A row its default does not fit is left out, with a note,
#: unless the user named the row in --types; a value the user gives must fit.
DEFAULT_GROUPS = 4
DEFAULT_REDUCTION = 16


def _rows_left_out(args) -> dict[str, str]:
    """``{type: why}``: the rows left out, whose default ``--groups`` / ``--reduction`` does not fit the layer.

    A row is left out only when nobody asked for it: the value was not given and the row was not named in
    ``--types``.
    """
    named = set(args.types or ())
    left_out = {}
    if (
        args.groups is None
        and "grouped" not in named
        and (args.in_channels % DEFAULT_GROUPS or args.out_channels % DEFAULT_GROUPS)
    ):
        left_out["grouped"] = (
            f"the default --groups {DEFAULT_GROUPS} does not divide "
            f"{args.in_channels} -> {args.out_channels} channels; give --groups"
        )
    if args.reduction is None and "SE" not in named and args.in_channels // DEFAULT_REDUCTION < 1:
        left_out["SE"] = (
            f"--in-channels {args.in_channels} is less than the default --reduction "
            f"{DEFAULT_REDUCTION}; give --reduction"
        )
    return left_out


def cost_command(args) -> int:
    """Run ``conv-tutorial cost``: print the cost of every convolution type for the layer ``args`` describes.

    Returns the exit status, 0; bad arguments raise ``ValueError`` naming the option, which :func:`main`
    reports on one line with exit status 2.
    """
    if args.batch <= 0:
        raise ValueError(f"--batch must be a positive int, got --batch={args.batch}")
    groups = DEFAULT_GROUPS if args.groups is None else args.groups
    reduction = DEFAULT_REDUCTION if args.reduction is None else args.reduction
    left_out = _rows_left_out(args)
    try:
        # A left-out row is computed with a value that always fits (1), then dropped.
        rows = cost.layer_table(
            args.input,
            args.in_channels,
            args.out_channels,
            args.kernel,
            args.stride,
            args.batch,
            ITEMSIZE[args.dtype],
            1 if "grouped" in left_out else groups,
            args.dilation,
            args.frames,
            1 if "SE" in left_out else reduction,
        )
        if args.connections or set(args.types or ()) & set(cost.CONNECTION_TYPES):
            rows += cost.connection_table(
                args.input,
                args.in_channels,
                args.out_channels,
                args.stride,
                args.batch,
                ITEMSIZE[args.dtype],
                args.growth_rate,
            )
    except ValueError as err:
        pattern = r"(?<!// )\b(" + "|".join(COST_OPTIONS) + r")\b"  # not inside a formula like "C // reduction"
        message = re.sub(pattern, lambda match: COST_OPTIONS[match.group(1)], str(err))
        for option, given, default in (
            ("--groups", args.groups, DEFAULT_GROUPS),
            ("--reduction", args.reduction, DEFAULT_REDUCTION),
        ):
            if given is None and option in message:  # a row named in --types that its default does not fit
                message += f" ({option} defaults to {default}; give {option})"
        raise ValueError(message) from None
    rows = [row for row in rows if row["type"] not in left_out]
    if not args.types:
        for name, why in left_out.items():
            print(f"{PROG}: note: left out the {name} row: {why}", file=sys.stderr)
    standard_macs = rows[0]["macs"]  # the standard row is never left out
    if args.types:
        rows = [row for row in rows if row["type"] in args.types]
    if args.format == "json":
        spec = {
            "input": args.input,
            "in_channels": args.in_channels,
            "out_channels": args.out_channels,
            "kernel": args.kernel,
            "stride": args.stride,
            "batch": args.batch,
            "dtype": args.dtype,
            "groups": groups,
            "dilation": args.dilation,
            "frames": args.frames,
            "reduction": reduction,
            "growth_rate": args.growth_rate,
        }
        print(json.dumps({"spec": spec, "rows": rows, "left_out": left_out if not args.types else {}}, indent=2))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["type", "params", "macs", "bytes", "intensity", "output", "torch"])
        for row in rows:
            writer.writerow(
                [
                    row["type"],
                    row["params"],
                    row["macs"],
                    row["bytes"],
                    row["intensity"],
                    _shape(row["output"]),
                    row["torch"],
                ]
            )
    else:
        h, w = args.input
        print(
            f"{h}x{w} input, {args.in_channels} -> {args.out_channels} channels, kernel {args.kernel}, "
            f"stride {args.stride}, batch {args.batch}, {args.dtype} ({ITEMSIZE[args.dtype]} bytes per number)"
        )
        print()
        header = ("type", "params", "MACs", "MACs/std", "MB moved", "FLOP/B", "output", "torch equivalent")
        body = [
            (
                row["type"],
                f"{row['params']:,}",
                _si(row["macs"]),
                _ratio(row["macs"] / standard_macs),
                f"{row['bytes'] / 1e6:.2f}",
                _ratio(row["intensity"]),
                _shape(row["output"]),
                row["torch"],
            )
            for row in rows
        ]
        print(_table(header, body, right={1, 2, 3, 4, 5}))
    return 0


def _progress(i: int, total: int, case) -> None:
    width = len(str(total))
    print(f"[{i:>{width}}/{total}] {case.label}", end="", file=sys.stderr, flush=True)


def _mib(nbytes: float) -> str:
    return "n/a" if nbytes != nbytes else f"{nbytes / 2**20:.1f}"  # nan: no peak measured


def _write_results(path: str, meta: dict, measurements, means: dict, peak_means: dict) -> None:
    if path.endswith(".json"):
        with open(path, "w") as f:
            json.dump(
                {
                    "meta": meta,
                    "measurements": [m._asdict() for m in measurements],
                    "geometric_means": means,
                    "peak_geometric_means": peak_means,
                },
                f,
                indent=2,
            )
            f.write("\n")
    else:
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(bench.Measurement._fields)
            writer.writerows(measurements)


def _check_writable(path: str) -> None:
    """Raise ``ValueError`` now, not after the benchmark, if ``path`` cannot be written.

    Opens the file for appending (which neither truncates an existing file nor needs more than
    the final write will) and removes it again if it did not exist before.
    """
    existed = os.path.lexists(path)
    try:
        with open(path, "a"):
            pass
    except OSError as err:
        raise ValueError(f"cannot write --output {path!r}: {err.strerror or err}") from None
    if not existed:
        os.remove(path)


def bench_command(args) -> int:
    """Run ``conv-tutorial bench``: time the chosen operations and backends, print the ratios.

    Returns the exit status: 0, or 1 when torch is missing or the ``--output`` file cannot be written
    at the end; bad arguments raise ``ValueError`` naming the option (exit status 2 from :func:`main`).
    """
    if args.output:
        _check_writable(args.output)
    try:
        import torch
    except ImportError:
        print(f"{PROG}: error: the benchmark needs PyTorch: pip install 'conv-tutorial[torch]'", file=sys.stderr)
        return 1
    import numpy as np

    batch = args.batch if args.batch is not None else (2 if args.quick else 8)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    for name, value in (("batch", batch), ("repeats", repeats)):
        if value <= 0:
            raise ValueError(f"--{name} must be a positive int, got {value}")
    cases = bench.plan(args.ops, args.backends, args.quick)
    meta = {
        "conv_tutorial": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "threads": torch.get_num_threads(),
        "torch_device": bench.device(),
        "torchvision": bench.torchvision_ops() is not None,
        "batch": batch,
        "repeats": repeats,
        "dtype": "float32",
        "quick": args.quick,
        "settle_seconds": bench.SETTLE_SECONDS,
        "calls_per_turn": bench.CALLS_PER_TURN,
        "min_turn_seconds": bench.MIN_TURN_SECONDS,
        "freed_memory_kept": keep_freed_memory(),
    }
    print(
        f"torch {meta['torch']} ({meta['threads']} threads, torch backend on {meta['torch_device']}), "
        f"numpy {meta['numpy']}; batch {batch}, float32, best of {repeats} interleaved rounds "
        f"of {bench.CALLS_PER_TURN} calls or more (each turn {bench.MIN_TURN_SECONDS * 1e3:g} ms at least; "
        f"NumPy cases rest {bench.SETTLE_SECONDS:g} s before each turn and make a wake-up call); {len(cases)} cases"
        + ("; freed memory kept in the process" if meta["freed_memory_kept"] else "")
    )
    rng = np.random.default_rng(0)
    measurements = []
    for i, case in enumerate(cases, 1):
        _progress(i, len(cases), case)
        m = bench.measure(case, batch, repeats, rng, peaks=False)
        print(f"  ratio {m.ratio:.2f}", file=sys.stderr, flush=True)
        measurements.append(m)
    # Peaks afterwards: the profiler that counts PyTorch's allocations must not run between timings.
    print("peak memory of every case ...", file=sys.stderr, flush=True)
    measurements = [bench.measure_peaks(m, case, batch) for m, case in zip(measurements, cases, strict=True)]
    means, peak_means = {}, {}
    for backend in args.backends:
        chosen = [m for m in measurements if m.backend == backend]
        if not chosen:
            continue
        means[backend] = bench.geometric_means(chosen)
        peak_means[backend] = bench.geometric_means(chosen, "peak_ratio")
        title = {
            "numpy": "conv_tutorial.numpy against PyTorch, on the CPU",
            "torch": f"conv_tutorial.torch against the native op, on {meta['torch_device']}",
        }[backend]
        print(f"\n{backend}: {title}")
        body = [
            (
                m.op,
                m.layer,
                f"{m.ours_s * 1e3:.2f}",
                m.reference,
                f"{m.reference_s * 1e3:.2f}",
                f"{m.ratio:.2f}",
                _mib(m.ours_peak),
                _mib(m.reference_peak),
                f"{m.peak_ratio:.2f}",
            )
            for m in chosen
        ]
        header = ("operation", "layer", "ours ms", "reference", "ref ms", "ratio", "ours MiB", "ref MiB", "peak ratio")
        print(_table(header, body, right={2, 4, 5, 6, 7, 8}))
        print(f"\ngeometric mean of the ratios ({backend}):      time  peak memory")
        for op, mean in means[backend].items():
            of_op = [m for m in chosen if m.op == op]
            print(f"  {op:26s} {mean:7.2f}  {peak_means[backend][op]:11.2f}   {_targets(backend, op, mean, of_op)}")
    print(
        "\npeak memory: the most bytes each side's allocator held at once during one call, the output "
        "included (NumPy: tracemalloc; PyTorch: its allocator's events in torch.profiler, or CUDA's peak)"
    )
    if args.output:
        try:
            _write_results(args.output, meta, measurements, means, peak_means)
        except OSError as err:  # checked before the run, so only a disk that filled up or a path that changed
            print(f"{PROG}: error: cannot write --output {args.output!r}: {err.strerror or err}", file=sys.stderr)
            return 1
        print(f"\nwrote {len(measurements)} measurements to {args.output}")
    return 0


def _targets(backend: str, op: str, mean: float, of_op) -> str:
    """Which of the benchmark's targets an operation's measurements meet, in words ("" when none is set)."""

    def verdict(what: str, value: float, target: float) -> str:
        return f"{what} {value:.2f} <= {target:.2f}: {'held' if value <= target else 'missed'}"

    words = []
    if (target := bench.TARGETS[backend].get(op)) is not None:
        words.append(verdict("time", mean, target))
    if (layer_target := bench.LAYER_TARGETS[backend].get(op)) is not None:
        words.append(verdict("worst layer", max(m.ratio for m in of_op), layer_target))
    if peaks := [m.peak_ratio for m in of_op if math.isfinite(m.peak_ratio)]:
        words.append(verdict("worst peak", max(peaks), bench.PEAK_TARGET))
    return "; ".join(words)


def _output_path(text: str) -> str:
    if not text.endswith((".json", ".csv")):
        raise argparse.ArgumentTypeError(f"the file name must end in .json or .csv, got {text!r}")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error reported on one line that points to ``--help`` (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see '{self.prog} --help')\n")


def _one_line(text) -> str:
    return " ".join(str(text).split())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``conv-tutorial``, with its two commands, ``cost`` and ``bench``."""
    parser = _Parser(
        prog=PROG,
        description="The cost of every convolution type, and how fast the package runs them.",
        epilog="Run 'conv-tutorial COMMAND --help' for a command's options. Exit status: 0 success, "
        "1 the benchmark could not run or write its results, 2 bad arguments (one line on stderr), "
        "130 interrupted, 141 the reader of the output closed it (as in '| head').",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = commands.add_parser(
        "cost",
        help="params, MACs, bytes and arithmetic intensity of every type for one layer",
        description="Parameters, MACs, memory traffic and arithmetic intensity of every convolution type of the "
        "book, for one layer specification.",
        epilog=COST_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument(
        "--input", type=_input_size, required=True, metavar="SIZE", help="spatial size of the input map: 56 or 56x64"
    )
    c.add_argument("--in-channels", type=int, required=True, metavar="C_IN", help="input channels")
    c.add_argument("--out-channels", type=int, required=True, metavar="C_OUT", help="output channels")
    c.add_argument("--kernel", type=int, default=3, metavar="K", help="square kernel size (default 3)")
    c.add_argument("--stride", type=int, default=1, help="stride (default 1)")
    c.add_argument(
        "--batch", type=int, default=1, help="images per batch, positive; MACs and bytes are for the batch (default 1)"
    )
    c.add_argument("--dtype", choices=list(ITEMSIZE), default="float32", help="number format (default float32)")
    c.add_argument(
        "--groups",
        type=int,
        help=f"groups of the grouped row (default {DEFAULT_GROUPS}; a default that "
        "does not divide both channel counts leaves the row out)",
    )
    c.add_argument("--dilation", type=int, default=2, help="dilation of the dilated row (default 2)")
    c.add_argument("--frames", type=int, default=8, help="frames of the clip in the 3D and (2+1)D rows (default 8)")
    c.add_argument(
        "--reduction",
        type=int,
        help=f"reduction ratio of the SE row (default {DEFAULT_REDUCTION}; left "
        "out when C_IN is smaller than the default)",
    )
    c.add_argument(
        "--types",
        type=_type_name,
        nargs="+",
        metavar="TYPE",
        help="rows to print (default all but the connections): "
        + ", ".join(t.replace(" ", "-") for t in cost.TYPES + cost.CONNECTION_TYPES),
    )
    c.add_argument(
        "--connections",
        action="store_true",
        help="add the rows of the residual and dense blocks: " + ", ".join(cost.CONNECTION_TYPES),
    )
    c.add_argument(
        "--growth-rate", type=int, default=32, metavar="K", help="channels the dense layer adds (default 32)"
    )
    c.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    c.set_defaults(func=cost_command)

    b = commands.add_parser(
        "bench",
        help="time every implementation against PyTorch and print the ratios",
        description="Time conv_tutorial.numpy against PyTorch and conv_tutorial.torch against the native ops on "
        "real layer shapes, with a progress bar on stderr, and print the ratios.",
        epilog=BENCH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument(
        "--ops",
        nargs="+",
        choices=bench.OPS,
        default=list(bench.OPS),
        metavar="OP",
        help="operations to time (default all): " + ", ".join(bench.OPS),
    )
    b.add_argument(
        "--backends",
        nargs="+",
        choices=bench.BACKENDS,
        default=list(bench.BACKENDS),
        help="which comparisons to run (default both)",
    )
    b.add_argument("--batch", type=int, help="batch size (default 8; 2 with --quick)")
    b.add_argument(
        "--repeats",
        type=int,
        help="interleaved rounds per case; each side's fastest call is kept (default 3; 1 with --quick)",
    )
    b.add_argument(
        "--output",
        type=_output_path,
        metavar="FILE",
        help="also write the measurements to FILE (.json with metadata and geometric means, or .csv)",
    )
    b.add_argument("--quick", action="store_true", help="one small layer per operation: a run of seconds")
    b.set_defaults(func=bench_command)
    return parser


def _run(argv) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, a usage error: argparse has printed what it had to say
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
    try:
        return args.func(args)
    except (ValueError, TypeError) as err:
        print(f"{PROG}: error: {_one_line(err)}", file=sys.stderr)
        return 2


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        status = _run(argv)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here for output still buffered
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly. Point stdout at devnull so that the
        # interpreter's own flush at exit does not report the same broken pipe again.
        # No real file descriptor when stdout was replaced in-process: nothing to point anywhere then.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    raise SystemExit(main())
