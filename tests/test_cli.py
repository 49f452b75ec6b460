"""The conv-tutorial command: its output, its help, its errors and exit codes.

The command runs in this process (:func:`conv_tutorial.cli.main` with its output captured); one test
runs the installed ``conv-tutorial`` script as a subprocess, through a real pipe.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import runpy
import shlex
import subprocess
import sys
import warnings
from pathlib import Path
from typing import NamedTuple

import pytest

from conv_tutorial import bench, cost
from conv_tutorial.cli import main

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT = Path(sys.executable).parent / "conv-tutorial"
LAYER = ["--input", "56", "--in-channels", "128", "--out-channels", "128"]


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys):
    """``cli(*args)``: run ``conv-tutorial args`` in this process; its exit status and what it printed."""

    def run(*args, main=main):
        capsys.readouterr()
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            status = main(list(args))
        out, err = capsys.readouterr()
        return Result(status, out, err)

    return run


def help_text(*command) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*command, "--help"]) == 0
    return out.getvalue()


def help_examples() -> list[list[str]]:
    """The command lines of the ``examples:`` sections of every --help text, continuation lines joined."""
    examples = []
    for command in ((), ("cost",), ("bench",)):
        text = help_text(*command)
        if "examples:" not in text:
            continue
        section = text.split("examples:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
        examples += [shlex.split(line, comments=True) for line in section.splitlines() if line.strip()]
    return examples


def readme_examples() -> list[list[str]]:
    """Every ``conv-tutorial ...`` with arguments in backquotes in README.md (a span may wrap onto the next line)."""
    text = (ROOT / "README.md").read_text()
    spans = (shlex.split(span) for span in re.findall(r"`(conv-tutorial\b[^`]*)`", text))
    return [args for args in spans if len(args) > 1]  # not the bare name of the command


EXAMPLES = [pytest.param(args, "help", id=" ".join(args)) for args in help_examples()] + [
    pytest.param(args, "README", id="README: " + " ".join(args)) for args in readme_examples()
]


def test_the_examples_are_found():
    found = [param.values for param in EXAMPLES]
    assert sum(source == "help" for _, source in found) == 6
    assert sum(source == "README" for _, source in found) >= 3
    assert all(args[0] == "conv-tutorial" and args[1] in ("cost", "bench", "--help") for args, _ in found)


@pytest.mark.parametrize(("args", "source"), EXAMPLES)
def test_every_documented_example_runs(args, source, tmp_path, monkeypatch, cli):
    """Each example of the --help texts and the README, as written (the benchmark cut to a run of seconds)."""
    args = args[1:]
    if args[0] == "bench":
        pytest.importorskip("torch")
        # Same options, one small layer per operation: --quick, and one operation unless the example names some.
        args = [*args, "--quick", "--batch", "2", "--repeats", "1", *([] if "--ops" in args else ["--ops", "conv2d"])]
    monkeypatch.chdir(tmp_path)
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout and "Traceback" not in result.stderr
    if "--output" in args:
        written = tmp_path / args[args.index("--output") + 1]
        assert written.stat().st_size > 0
        if written.suffix == ".json":
            assert json.loads(written.read_text())["measurements"]
    if args[0] == "cost" and "--format" in args and args[args.index("--format") + 1] == "json":
        assert json.loads(result.stdout)["rows"]


def test_cost_table_lists_every_type_with_its_numbers(cli):
    result = cli("cost", *LAYER)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("56x56 input, 128 -> 128 channels, kernel 3, stride 1, batch 1, float32")
    header = next(i for i, line in enumerate(lines) if line.startswith("type"))
    body = lines[header + 1 :]
    assert [line[:20].strip() for line in body] == list(cost.TYPES)
    rows = {row["type"]: row for row in cost.layer_table(56, 128, 128)}
    standard = body[0].split()
    assert standard[1] == f"{rows['standard']['params']:,}" == "147,584"
    assert standard[2] == "462.4M" and "nn.Conv2d(128, 128, 3, padding=1)" in body[0]
    assert "nn.Conv2d(128, 128, 3, padding=1, groups=128)" in body[3]
    # Columns line up: every row's params end where the header's "params" ends.
    end = lines[header].index("params") + len("params")
    assert all(line[end - 1].isdigit() and line[end] == " " for line in body)


def test_cost_csv_and_json_are_the_layer_table(cli):
    spec = [
        "--input",
        "28x14",
        "--in-channels",
        "64",
        "--out-channels",
        "32",
        "--kernel",
        "5",
        "--stride",
        "2",
        "--batch",
        "4",
        "--dtype",
        "float16",
        "--groups",
        "2",
        "--dilation",
        "3",
        "--frames",
        "4",
        "--reduction",
        "8",
    ]
    expected = cost.layer_table((28, 14), 64, 32, 5, 2, 4, 2, 2, 3, 4, 8)
    as_csv = cli("cost", *spec, "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [
        (r["type"], int(r["params"]), int(r["macs"]), int(r["bytes"]), float(r["intensity"]), r["torch"]) for r in rows
    ] == [(r["type"], r["params"], r["macs"], r["bytes"], r["intensity"], r["torch"]) for r in expected]
    as_json = cli("cost", *spec, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["spec"]["input"] == [28, 14] and data["spec"]["dtype"] == "float16"
    assert data["rows"] == json.loads(json.dumps(expected))


def test_cost_types_are_matched_loosely_and_kept_in_chapter_order(cli):
    result = cli("cost", *LAYER, "--types", "SE", "Depthwise-Separable", "standard", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert [r["type"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["standard", "depthwise separable", "SE"]


@pytest.mark.parametrize("args", [[], ["cost", "--help"], ["bench", "--help"]])
def test_help_explains_with_examples(args, cli):
    result = cli(*(args or ["--help"]))
    assert result.returncode == 0
    assert result.stdout.startswith("usage: conv-tutorial")
    if args:
        assert "examples:" in result.stdout and f"conv-tutorial {args[0]} --" in result.stdout
    else:
        assert "cost" in result.stdout and "bench" in result.stdout and "Exit status" in result.stdout


UNWRITABLE = str(ROOT / "no such folder" / "results.json")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # argparse's usage errors
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["cost", "--in-channels", "8", "--out-channels", "8"], "the following arguments are required: --input"),
        (["cost", *LAYER[:2], "--in-channels", "eight", "--out-channels", "8"], "argument --in-channels: invalid int"),
        (["cost", "--input", "5x", "--in-channels", "8", "--out-channels", "8"], "expected SIZE or HxW"),
        (["cost", "--input", "0", "--in-channels", "8", "--out-channels", "8"], "sizes must be positive"),
        (["cost", *LAYER, "--types", "fancy"], "unknown type 'fancy'"),
        (["cost", *LAYER, "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["cost", *LAYER, "--dtype", "int8"], "argument --dtype: invalid choice: 'int8'"),
        (["cost", *LAYER, "--stride"], "argument --stride: expected one argument"),
        (["bench", "--ops", "conv9d"], "argument --ops: invalid choice: 'conv9d'"),
        (["bench", "--backends", "jax"], "argument --backends: invalid choice: 'jax'"),
        (["bench", "--output", "results.txt"], "must end in .json or .csv"),
        # the package's validation errors, in the command's words
        (
            ["cost", "--input", "56", "--in-channels", "130", "--out-channels", "128", "--groups", "4"],
            "--in-channels must be divisible by --groups, got --in-channels=130 and --groups=4",
        ),
        (["cost", *LAYER, "--groups", "3"], "--in-channels must be divisible by --groups, got --in-channels=128"),
        (["cost", *LAYER, "--groups", "0"], "--groups must be a positive int, got --groups=0"),
        (
            ["cost", "--input", "56", "--in-channels", "3", "--out-channels", "64", "--types", "grouped"],
            "--in-channels must be divisible by --groups, got --in-channels=3 and --groups=4 (--groups defaults to 4",
        ),
        (
            ["cost", "--input", "56", "--in-channels", "8", "--out-channels", "8", "--types", "SE"],
            "channels // reduction must be at least 1, got channels=8 and --reduction=16 (--reduction defaults to 16",
        ),
        (
            ["cost", "--input", "56", "--in-channels", "8", "--out-channels", "8", "--reduction", "16"],
            "channels // reduction must be at least 1, got channels=8 and --reduction=16",
        ),
        (["cost", *LAYER, "--reduction", "0"], "--reduction must be a positive int, got --reduction=0"),
        (["cost", *LAYER, "--kernel", "0"], "--kernel must be a positive int, got --kernel=0"),
        (["cost", *LAYER, "--stride", "-2"], "--stride must be a positive int, got --stride=-2"),
        (["cost", *LAYER, "--dilation", "0"], "--dilation must be a positive int, got --dilation=0"),
        (["cost", *LAYER, "--frames", "0"], "--frames must be a positive int, got --frames=0"),
        (
            ["cost", "--input", "56", "--in-channels", "0", "--out-channels", "8"],
            "--in-channels must be a positive int, got --in-channels=0",
        ),
        (["cost", *LAYER, "--batch", "0"], "--batch must be a positive int, got --batch=0"),
        (["cost", *LAYER, "--batch", "-1"], "--batch must be a positive int, got --batch=-1"),
        (["bench", "--quick", "--batch", "0"], "--batch must be a positive int, got 0"),
        (["bench", "--quick", "--repeats", "0"], "--repeats must be a positive int, got 0"),
        (["bench", "--quick", "--output", UNWRITABLE], "cannot write --output"),
        (["bench", "--quick", "--output", "{folder}.json"], "cannot write --output"),  # a folder of that name
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_bad_use_exits_2_with_one_line(args, message, tmp_path, cli):
    if "{folder}.json" in args:
        (tmp_path / "folder.json").mkdir()
        args = [str(tmp_path / "folder.json") if arg == "{folder}.json" else arg for arg in args]
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("conv-tutorial"), result.stderr
    assert ": error: " in result.stderr and message in result.stderr


def test_usage_errors_point_to_help_and_main_returns_the_status(cli):
    result = cli("cost", "--input", "5x", "--in-channels", "8", "--out-channels", "8")
    assert result.stderr.startswith("conv-tutorial cost: error: argument --input: ")
    assert result.stderr.rstrip().endswith("(see 'conv-tutorial cost --help')")
    assert main(["cost", "--input", "5x", "--in-channels", "8", "--out-channels", "8"]) == 2  # no SystemExit
    assert main(["--version"]) == 0


def test_bench_checks_its_output_before_running_and_leaves_no_file(tmp_path, cli):
    out = tmp_path / "results.json"
    result = cli("bench", "--quick", "--batch", "0", "--output", str(out))  # writable, but the run fails
    assert result.returncode == 2 and "--batch must be a positive int" in result.stderr
    assert not out.exists()
    out.write_text("kept")  # an existing file is checked without being truncated
    assert cli("bench", "--quick", "--batch", "0", "--output", str(out)).returncode == 2
    assert out.read_text() == "kept"


@pytest.mark.parametrize(
    ("channels", "left_out"),
    [
        (("3", "64"), ["grouped", "SE"]),  # an RGB stem: no 4 groups, fewer channels than the reduction
        (("8", "8"), ["SE"]),
        (("130", "128"), ["grouped"]),
        (("16", "6"), ["grouped"]),  # 4 must divide the output channels too
    ],
)
def test_rows_the_defaults_do_not_fit_are_left_out_with_a_note(channels, left_out, cli):
    layer = ["--input", "56", "--in-channels", channels[0], "--out-channels", channels[1]]
    result = cli("cost", *layer, "--format", "csv")
    assert result.returncode == 0, result.stderr
    notes = result.stderr.splitlines()
    assert [note.split(" row: ")[0] for note in notes] == [
        f"conv-tutorial: note: left out the {name}" for name in left_out
    ]
    types = [r["type"] for r in csv.DictReader(io.StringIO(result.stdout))]
    assert types == [t for t in cost.TYPES if t not in left_out]
    as_json = json.loads(cli("cost", *layer, "--format", "json").stdout)
    assert sorted(as_json["left_out"]) == sorted(left_out)
    assert as_json["spec"]["groups"] == 4 and as_json["spec"]["reduction"] == 16
    # Rows not asked for are left out silently; a value given explicitly is used as given.
    only = cli("cost", *layer, "--types", "standard", "--format", "csv")
    assert only.returncode == 0 and only.stderr == ""
    assert [r["type"] for r in csv.DictReader(io.StringIO(only.stdout))] == ["standard"]
    explicit = cli("cost", *layer, "--groups", "1", "--reduction", "1", "--format", "csv")
    assert explicit.returncode == 0 and explicit.stderr == ""
    assert len(list(csv.DictReader(io.StringIO(explicit.stdout)))) == len(cost.TYPES)


class ClosedPipe(io.StringIO):
    """A stdout whose reader has gone away, as after ``| head -1``."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize(
    "args",
    [
        ["cost", *LAYER],
        ["cost", *LAYER, "--format", "csv"],
        ["cost", *LAYER, "--format", "json"],
        ["--help"],
        ["cost", "--help"],
    ],
    ids=" ".join,
)
def test_a_reader_that_stops_reading_ends_the_command_quietly(args, monkeypatch, capsys):
    """``conv-tutorial cost ... | head -1``: the reader is gone before the command writes."""
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    status = main(args)
    # argparse itself swallows the error its --help output meets, and exits 0.
    assert status == (0 if "--help" in args else 141)
    assert capsys.readouterr().err == ""


@pytest.mark.skipif(not ENTRY_POINT.exists(), reason="the conv-tutorial script is not installed in this environment")
def test_installed_entry_point():
    """The one run as a separate process: the installed script, its exit status, a real pipe closed early."""

    def run(*args, **kwargs):
        return subprocess.run(
            [str(ENTRY_POINT), *args],
            text=True,
            cwd=ROOT,
            timeout=120,
            env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"},
            **kwargs,
        )

    result = run("cost", *LAYER, "--types", "depthwise", "--format", "csv", capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("depthwise,1280,3612672,")
    assert run("--version", capture_output=True).stdout.strip() == "conv-tutorial 0.1.0"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run("cost", *LAYER, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert result.returncode == 141 and result.stderr == ""


def test_bench_quick_writes_json_with_a_progress_bar(tmp_path, cli):
    pytest.importorskip("torch")
    out = tmp_path / "results.json"
    ops = ["conv2d", "depthwise_conv2d", "squeeze_excitation"]
    result = cli("bench", "--quick", "--ops", *ops, "--output", str(out))
    assert result.returncode == 0, result.stderr
    progress = result.stderr.splitlines()
    assert progress[0].startswith("[1/6] numpy conv2d quick 3x3 32->32@14")
    # Every case is timed first, then the peaks are measured: the profiler runs after the last timing.
    assert progress[-2].startswith("[6/6] torch squeeze_excitation")
    assert progress[-1] == "peak memory of every case ..."
    assert all(" ratio " in line for line in progress[:-1])
    assert "geometric mean of the ratios (numpy)" in result.stdout
    assert "geometric mean of the ratios (torch)" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("operation"))
    assert header.split()[-6:] == ["ours", "MiB", "ref", "MiB", "peak", "ratio"]
    data = json.loads(out.read_text())
    assert set(data) == {"meta", "measurements", "geometric_means", "peak_geometric_means"}
    assert data["meta"]["quick"] is True and data["meta"]["batch"] == 2 and data["meta"]["repeats"] == 1
    assert {"torch", "numpy", "threads", "torch_device", "torchvision"} <= set(data["meta"])
    assert [(m["backend"], m["op"]) for m in data["measurements"]] == [(b, op) for op in ops for b in bench.BACKENDS]
    for m in data["measurements"]:
        assert set(m) == set(bench.Measurement._fields)
        assert m["ours_s"] > 0 and m["reference_s"] > 0
        assert m["ratio"] == pytest.approx(m["ours_s"] / m["reference_s"])
        assert m["ours_peak"] > 0 and m["reference_peak"] > 0  # each side's output at least
        assert m["peak_ratio"] == pytest.approx(m["ours_peak"] / m["reference_peak"])
    for means in (data["geometric_means"], data["peak_geometric_means"]):
        assert set(means) == {"numpy", "torch"}
        assert set(means["numpy"]) == set(ops)
    table = result.stdout.split("geometric mean of the ratios (numpy)")[1].splitlines()
    for op in ops:  # each operation's line holds its time and peak-memory means, as the JSON has them
        line = next(line for line in table if line.split()[:1] == [op])
        time_mean, peak_mean = (float(v) for v in line.split()[1:3])
        assert time_mean == pytest.approx(data["geometric_means"]["numpy"][op], abs=0.006)
        assert peak_mean == pytest.approx(data["peak_geometric_means"]["numpy"][op], abs=0.006)


def test_package_module_entry_is_the_command(monkeypatch, capsys):
    """``python -m conv_tutorial bench --help``, run in-process: the same command as ``conv-tutorial``."""
    monkeypatch.setattr(sys, "argv", ["conv_tutorial", "bench", "--help"])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("conv_tutorial", run_name="__main__")
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage: conv-tutorial bench")


def test_bench_says_which_targets_hold():
    from types import SimpleNamespace

    from conv_tutorial import bench, cli

    layers = [SimpleNamespace(ratio=1.2, peak_ratio=0.5), SimpleNamespace(ratio=2.7, peak_ratio=float("nan"))]
    assert bench.TARGETS["numpy"]["conv2d"] == 1.3 and bench.LAYER_TARGETS["numpy"]["conv2d"] == 2.5
    assert cli._targets("numpy", "conv2d", 1.25, layers) == (
        "time 1.25 <= 1.30: held; worst layer 2.70 <= 2.50: missed; worst peak 0.50 <= 2.00: held"
    )
    assert cli._targets("torch", "depthwise_conv2d", 1.6, layers[:1]) == (
        "time 1.60 <= 1.50: missed; worst peak 0.50 <= 2.00: held"
    )
    # No target and no measurable peak: nothing to say.
    assert cli._targets("numpy", "grouped_conv2d", 3.0, layers[1:]) == ""
    # Every operation the benchmark runs has a torch target.
    assert set(bench.TARGETS["torch"]) == {op.name for op in bench.OPERATIONS}
