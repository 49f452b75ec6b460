"""The ``conv-tutorial`` command: the cost of every convolution type for one layer, and the benchmark suite.

``conv-tutorial cost`` prints :func:`conv_tutorial.cost.layer_table` as an aligned table (or CSV
or JSON); ``conv-tutorial bench`` runs :mod:`conv_tutorial.bench` with a progress bar on stderr
and prints the ratios. Exit status: 0 on success, 1 when the benchmark cannot run (no torch),
2 for bad arguments (argparse's usage errors and the package's validation errors alike, each
reported on one line ``conv-tutorial: error: ...``), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import re
import sys

from . import __version__, bench, cost

PROG = "conv-tutorial"

#: Bytes per number of each dtype the cost model takes.
ITEMSIZE = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8}

COST_EXAMPLES = """\
examples:
  conv-tutorial cost --input 56 --in-channels 128 --out-channels 128
  conv-tutorial cost --input 224x224 --in-channels 3 --out-channels 64 --kernel 7 --stride 2 \\
                     --types standard depthwise-separable --format csv
  conv-tutorial cost --input 14 --in-channels 512 --out-channels 512 --batch 32 --dtype float16 --format json

MACs are multiply-accumulates (FLOPs = 2 x MACs, bias additions not counted); bytes are the floor
of the memory traffic: every step reads its input and weights once and writes its output once;
FLOP/B is the arithmetic intensity. The 3D and (2+1)D rows run on a clip of --frames frames.
"""

BENCH_EXAMPLES = """\
examples:
  conv-tutorial bench --quick                           # one small layer per operation, seconds
  conv-tutorial bench --ops depthwise_conv2d pointwise_conv2d --output results.json
  conv-tutorial bench --backends torch --batch 32 --repeats 5 --output results.csv

The ratio is our time over the reference's, measured in the same run on the same input: numpy
compares conv_tutorial.numpy with PyTorch on the CPU, torch compares conv_tutorial.torch with
the native op (on the GPU when one is available). Compare ratios, not absolute times.
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

    names = {key(name): name for name in cost.TYPES}
    if key(text) not in names:
        raise argparse.ArgumentTypeError(
            f"unknown type {text!r}; choose from {', '.join(name.replace(' ', '-') for name in cost.TYPES)}")
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
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = []
    for row in (header, *rows):
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


#: The package's parameter names as the ``cost`` command's options, for its error messages.
COST_OPTIONS = {"input_size": "--input", "in_channels": "--in-channels", "out_channels": "--out-channels",
                "kernel_size": "--kernel", "stride": "--stride", "batch": "--batch", "groups": "--groups",
                "dilation": "--dilation", "frames": "--frames", "reduction": "--reduction"}


def cost_command(args) -> int:
    try:
        rows = cost.layer_table(args.input, args.in_channels, args.out_channels, args.kernel, args.stride,
                                args.batch, ITEMSIZE[args.dtype], args.groups, args.dilation, args.frames,
                                args.reduction)
    except ValueError as err:
        pattern = r"(?<!// )\b(" + "|".join(COST_OPTIONS) + r")\b"   # not inside a formula like "C // reduction"
        raise ValueError(re.sub(pattern, lambda match: COST_OPTIONS[match.group(1)], str(err))) from None
    standard_macs = rows[0]["macs"]
    if args.types:
        rows = [row for row in rows if row["type"] in args.types]
    if args.format == "json":
        spec = {name: getattr(args, name) for name in ("input", "in_channels", "out_channels", "kernel", "stride",
                                                       "batch", "dtype", "groups", "dilation", "frames",
                                                       "reduction")}
        print(json.dumps({"spec": spec, "rows": rows}, indent=2))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["type", "params", "macs", "bytes", "intensity", "output", "torch"])
        for row in rows:
            writer.writerow([row["type"], row["params"], row["macs"], row["bytes"], row["intensity"],
                             _shape(row["output"]), row["torch"]])
    else:
        h, w = args.input
        print(f"{h}x{w} input, {args.in_channels} -> {args.out_channels} channels, kernel {args.kernel}, "
              f"stride {args.stride}, batch {args.batch}, {args.dtype} ({ITEMSIZE[args.dtype]} bytes per number)")
        print()
        header = ("type", "params", "MACs", "MACs/std", "MB moved", "FLOP/B", "output", "torch equivalent")
        body = [(row["type"], f"{row['params']:,}", _si(row["macs"]), _ratio(row["macs"] / standard_macs),
                 f"{row['bytes'] / 1e6:.2f}", _ratio(row["intensity"]), _shape(row["output"]), row["torch"])
                for row in rows]
        print(_table(header, body, right={1, 2, 3, 4, 5}))
    return 0


def _progress(i: int, total: int, case) -> None:
    width = len(str(total))
    print(f"[{i:>{width}}/{total}] {case.label}", end="", file=sys.stderr, flush=True)


def _write_results(path: str, meta: dict, measurements, means: dict) -> None:
    if path.endswith(".json"):
        with open(path, "w") as f:
            json.dump({"meta": meta, "measurements": [m._asdict() for m in measurements], "geometric_means": means},
                      f, indent=2)
            f.write("\n")
    else:
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(bench.Measurement._fields)
            writer.writerows(measurements)


def bench_command(args) -> int:
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
    meta = {"conv_tutorial": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "machine": platform.machine(), "threads": torch.get_num_threads(),
            "torch_device": bench.device(), "torchvision": bench.torchvision_ops() is not None, "batch": batch,
            "repeats": repeats, "dtype": "float32", "quick": args.quick, "settle_seconds": bench.SETTLE_SECONDS,
            "freed_memory_kept": bench.keep_freed_memory()}
    print(f"torch {meta['torch']} ({meta['threads']} threads, torch backend on {meta['torch_device']}), "
          f"numpy {meta['numpy']}; batch {batch}, float32, median of {repeats}; {len(cases)} cases"
          + ("; freed memory kept in the process" if meta["freed_memory_kept"] else ""))
    rng = np.random.default_rng(0)
    measurements = []
    for i, case in enumerate(cases, 1):
        _progress(i, len(cases), case)
        m = bench.measure(case, batch, repeats, rng)
        print(f"  ratio {m.ratio:.2f}", file=sys.stderr, flush=True)
        measurements.append(m)
    means = {}
    for backend in args.backends:
        chosen = [m for m in measurements if m.backend == backend]
        if not chosen:
            continue
        means[backend] = bench.geometric_means(chosen)
        title = {"numpy": "conv_tutorial.numpy against PyTorch, on the CPU",
                 "torch": f"conv_tutorial.torch against the native op, on {meta['torch_device']}"}[backend]
        print(f"\n{backend}: {title}")
        body = [(m.op, m.layer, f"{m.ours_s * 1e3:.2f}", m.reference, f"{m.reference_s * 1e3:.2f}", f"{m.ratio:.2f}")
                for m in chosen]
        print(_table(("operation", "layer", "ours ms", "reference", "ref ms", "ratio"), body, right={2, 4, 5}))
        print(f"\ngeometric mean of the ratio ({backend}):")
        for op, mean in means[backend].items():
            target = bench.TARGETS.get(op) if backend == "numpy" else None
            print(f"  {op:26s} {mean:7.2f}" + ("" if target is None else f"   (target <= {target})"))
    if args.output:
        _write_results(args.output, meta, measurements, means)
        print(f"\nwrote {len(measurements)} measurements to {args.output}")
    return 0


def _output_path(text: str) -> str:
    if not text.endswith((".json", ".csv")):
        raise argparse.ArgumentTypeError(f"the file name must end in .json or .csv, got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="The cost of every convolution type, and how fast the package runs them.",
        epilog="Run 'conv-tutorial COMMAND --help' for a command's options. Exit status: 0 success, "
               "1 the benchmark could not run, 2 bad arguments.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = commands.add_parser(
        "cost", help="params, MACs, bytes and arithmetic intensity of every type for one layer",
        description="Parameters, MACs, memory traffic and arithmetic intensity of every convolution type of the "
                    "book, for one layer specification.",
        epilog=COST_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--input", type=_input_size, required=True, metavar="SIZE",
                   help="spatial size of the input map: 56 or 56x64")
    c.add_argument("--in-channels", type=int, required=True, metavar="C_IN", help="input channels")
    c.add_argument("--out-channels", type=int, required=True, metavar="C_OUT", help="output channels")
    c.add_argument("--kernel", type=int, default=3, metavar="K", help="square kernel size (default 3)")
    c.add_argument("--stride", type=int, default=1, help="stride (default 1)")
    c.add_argument("--batch", type=int, default=1,
                   help="images per batch; MACs and bytes are for the batch (default 1)")
    c.add_argument("--dtype", choices=list(ITEMSIZE), default="float32", help="number format (default float32)")
    c.add_argument("--groups", type=int, default=4, help="groups of the grouped row (default 4)")
    c.add_argument("--dilation", type=int, default=2, help="dilation of the dilated row (default 2)")
    c.add_argument("--frames", type=int, default=8, help="frames of the clip in the 3D and (2+1)D rows (default 8)")
    c.add_argument("--reduction", type=int, default=16, help="reduction ratio of the SE row (default 16)")
    c.add_argument("--types", type=_type_name, nargs="+", metavar="TYPE",
                   help="rows to print (default all): " + ", ".join(t.replace(" ", "-") for t in cost.TYPES))
    c.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    c.set_defaults(func=cost_command)

    b = commands.add_parser(
        "bench", help="time every implementation against PyTorch and print the ratios",
        description="Time conv_tutorial.numpy against PyTorch and conv_tutorial.torch against the native ops on "
                    "real layer shapes, with a progress bar on stderr, and print the ratios.",
        epilog=BENCH_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--ops", nargs="+", choices=bench.OPS, default=list(bench.OPS), metavar="OP",
                   help="operations to time (default all): " + ", ".join(bench.OPS))
    b.add_argument("--backends", nargs="+", choices=bench.BACKENDS, default=list(bench.BACKENDS),
                   help="which comparisons to run (default both)")
    b.add_argument("--batch", type=int, help="batch size (default 8; 2 with --quick)")
    b.add_argument("--repeats", type=int, help="timed repeats per case, the median is kept (default 3; 1 with --quick)")
    b.add_argument("--output", type=_output_path, metavar="FILE",
                   help="also write the measurements to FILE (.json with metadata and geometric means, or .csv)")
    b.add_argument("--quick", action="store_true", help="one small layer per operation: a run of seconds")
    b.set_defaults(func=bench_command)
    return parser


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
