"""``make gpu-check``: on a machine with CUDA, the CUDA tests and the torch backend against cuDNN.

Runs, with the Python that has a CUDA build of torch (``make gpu-check PYTHON_GPU=python3``):

1. every test whose name or parameters mention CUDA (``pytest -k cuda``), the browser test left out;
2. ``conv-tutorial bench --backends torch``: each function of :mod:`conv_tutorial.torch` against the
   native op (cuDNN, or torchvision's CUDA kernel for deformable convolution) on the GPU;

and writes ``gpu-check/tests.log``, ``gpu-check/bench.json`` and ``gpu-check/table.md`` (the
geometric mean and the worst layer of each operation). Both steps have a time limit; together they
take under 10 minutes. Without CUDA it says so and exits with status 0, so it skips cleanly on CPU
machines.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _table(bench: dict) -> str:
    meta, rows = bench["meta"], bench["measurements"]
    lines = [
        f"torch {meta['torch']} on {meta['torch_device']}, batch {meta['batch']}, float32, "
        f"best of {meta['repeats']} interleaved rounds; ratio = conv_tutorial.torch time / native time",
        "",
        "| operation | layers | geometric mean | worst layer | its ratio |",
        "|---|---|---|---|---|",
    ]
    for op in dict.fromkeys(m["op"] for m in rows):
        mine = [m for m in rows if m["op"] == op]
        worst = max(mine, key=lambda m: m["ratio"])
        mean = math.exp(sum(math.log(m["ratio"]) for m in mine) / len(mine))
        lines.append(f"| {op} | {len(mine)} | {mean:.2f} | {worst['layer']} | {worst['ratio']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu-check", help="folder for the log, the measurements and the table")
    parser.add_argument("--test-seconds", type=int, default=300)
    parser.add_argument("--bench-seconds", type=int, default=240)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("gpu-check: skipped: PyTorch is not installed in this Python")
        return 0
    if not torch.cuda.is_available():
        print(f"gpu-check: skipped: no CUDA device (torch {torch.__version__}, CUDA build: {torch.version.cuda})")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"gpu-check: torch {torch.__version__} on {torch.cuda.get_device_name()}", flush=True)
    status = 0
    start = time.perf_counter()
    with open(out / "tests.log", "w") as log:
        try:
            tests = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-rs",
                    "-p",
                    "no:cacheprovider",
                    "-k",
                    "cuda",
                    "tests",
                    "--ignore=tests/browser",
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=args.test_seconds,
            )
            status = tests.returncode
        except subprocess.TimeoutExpired:
            print(f"gpu-check: the CUDA tests ran past {args.test_seconds} s", file=sys.stderr)
            status = 1
    summary = (out / "tests.log").read_text().strip().splitlines()
    print(f"CUDA tests ({time.perf_counter() - start:.0f} s): {summary[-1] if summary else 'no output'}", flush=True)
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "conv_tutorial",
                "bench",
                "--backends",
                "torch",
                "--output",
                str(out / "bench.json"),
            ],
            cwd=ROOT,
            check=True,
            timeout=args.bench_seconds,
            stdout=subprocess.DEVNULL,
        )
    except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as err:
        print(f"gpu-check: the benchmark failed: {err}", file=sys.stderr)
        return 1
    table = _table(json.loads((out / "bench.json").read_text()))
    (out / "table.md").write_text(table)
    print(table)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
