"""The conv-tutorial command, run as a subprocess: its output, its help, its errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conv_tutorial import bench, cost

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT = Path(sys.executable).parent / "conv-tutorial"
LAYER = ["--input", "56", "--in-channels", "128", "--out-channels", "128"]


def cli(*args, entry_point=False):
    command = [str(ENTRY_POINT)] if entry_point else [sys.executable, "-m", "conv_tutorial.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"})


def test_cost_table_lists_every_type_with_its_numbers():
    result = cli("cost", *LAYER)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("56x56 input, 128 -> 128 channels, kernel 3, stride 1, batch 1, float32")
    header = next(i for i, line in enumerate(lines) if line.startswith("type"))
    body = lines[header + 1:]
    assert [line[:20].strip() for line in body] == list(cost.TYPES)
    rows = {row["type"]: row for row in cost.layer_table(56, 128, 128)}
    standard = body[0].split()
    assert standard[1] == f"{rows['standard']['params']:,}" == "147,584"
    assert standard[2] == "462.4M" and "nn.Conv2d(128, 128, 3, padding=1)" in body[0]
    assert "nn.Conv2d(128, 128, 3, padding=1, groups=128)" in body[3]
    # Columns line up: every row's params end where the header's "params" ends.
    end = lines[header].index("params") + len("params")
    assert all(line[end - 1].isdigit() and line[end] == " " for line in body)


def test_cost_csv_and_json_are_the_layer_table():
    spec = ["--input", "28x14", "--in-channels", "64", "--out-channels", "32", "--kernel", "5", "--stride", "2",
            "--batch", "4", "--dtype", "float16", "--groups", "2", "--dilation", "3", "--frames", "4",
            "--reduction", "8"]
    expected = cost.layer_table((28, 14), 64, 32, 5, 2, 4, 2, 2, 3, 4, 8)
    as_csv = cli("cost", *spec, "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["type"], int(r["params"]), int(r["macs"]), int(r["bytes"]), float(r["intensity"]), r["torch"])
            for r in rows] == [(r["type"], r["params"], r["macs"], r["bytes"], r["intensity"], r["torch"])
                               for r in expected]
    as_json = cli("cost", *spec, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["spec"]["input"] == [28, 14] and data["spec"]["dtype"] == "float16"
    assert data["rows"] == json.loads(json.dumps(expected))


def test_cost_types_are_matched_loosely_and_kept_in_chapter_order():
    result = cli("cost", *LAYER, "--types", "SE", "Depthwise-Separable", "standard", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert [r["type"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["standard", "depthwise separable",
                                                                                "SE"]


@pytest.mark.parametrize("args", [[], ["cost", "--help"], ["bench", "--help"]])
def test_help_explains_with_examples(args):
    result = cli(*(args or ["--help"]))
    assert result.returncode == 0
    assert result.stdout.startswith("usage: conv-tutorial")
    if args:
        assert "examples:" in result.stdout and f"conv-tutorial {args[0]} --" in result.stdout
    else:
        assert "cost" in result.stdout and "bench" in result.stdout and "Exit status" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    ([], "the following arguments are required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["cost", "--in-channels", "8", "--out-channels", "8"], "the following arguments are required: --input"),
    (["cost", *LAYER[:2], "--in-channels", "eight", "--out-channels", "8"], "argument --in-channels: invalid int"),
    (["cost", "--input", "5x", "--in-channels", "8", "--out-channels", "8"], "expected SIZE or HxW"),
    (["cost", "--input", "0", "--in-channels", "8", "--out-channels", "8"], "sizes must be positive"),
    (["cost", *LAYER, "--types", "fancy"], "unknown type 'fancy'"),
    (["cost", *LAYER, "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["cost", *LAYER, "--dtype", "int8"], "argument --dtype: invalid choice: 'int8'"),
    (["bench", "--ops", "conv9d"], "argument --ops: invalid choice: 'conv9d'"),
    (["bench", "--output", "results.txt"], "must end in .json or .csv"),
])
def test_usage_errors_exit_2_with_usage(args, message):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: conv-tutorial")
    assert message in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["cost", "--input", "56", "--in-channels", "130", "--out-channels", "128"],
     "--in-channels must be divisible by --groups, got --in-channels=130 and --groups=4"),
    (["cost", *LAYER, "--kernel", "0"], "--kernel must be a positive int, got --kernel=0"),
    (["cost", "--input", "56", "--in-channels", "8", "--out-channels", "8"],
     "channels // reduction must be at least 1, got channels=8 and --reduction=16"),
    (["cost", *LAYER, "--batch", "-1"], "--batch must be a non-negative int, got --batch=-1"),
    (["bench", "--quick", "--batch", "0"], "--batch must be a positive int, got 0"),
])
def test_validation_errors_are_one_line_and_exit_2(args, message):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("conv-tutorial: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr


@pytest.mark.skipif(not ENTRY_POINT.exists(), reason="the conv-tutorial script is not installed in this environment")
def test_installed_entry_point():
    result = cli("cost", *LAYER, "--types", "depthwise", "--format", "csv", entry_point=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("depthwise,1280,3612672,")
    assert cli("--version", entry_point=True).stdout.strip() == "conv-tutorial 0.1.0"


def test_bench_quick_writes_json_with_a_progress_bar(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "results.json"
    ops = ["conv2d", "depthwise_conv2d", "squeeze_excitation"]
    result = cli("bench", "--quick", "--ops", *ops, "--output", str(out))
    assert result.returncode == 0, result.stderr
    progress = result.stderr.splitlines()
    assert progress[0].startswith("[1/6] numpy conv2d quick 3x3 32->32@14")
    assert progress[-1].startswith("[6/6] torch squeeze_excitation")
    assert all(" ratio " in line for line in progress)
    assert "geometric mean of the ratio (numpy)" in result.stdout
    assert "geometric mean of the ratio (torch)" in result.stdout
    data = json.loads(out.read_text())
    assert set(data) == {"meta", "measurements", "geometric_means"}
    assert data["meta"]["quick"] is True and data["meta"]["batch"] == 2 and data["meta"]["repeats"] == 1
    assert {"torch", "numpy", "threads", "torch_device", "torchvision"} <= set(data["meta"])
    assert [(m["backend"], m["op"]) for m in data["measurements"]] == [(b, op) for op in ops for b in bench.BACKENDS]
    for m in data["measurements"]:
        assert set(m) == set(bench.Measurement._fields)
        assert m["ours_s"] > 0 and m["reference_s"] > 0
        assert m["ratio"] == pytest.approx(m["ours_s"] / m["reference_s"])
    assert set(data["geometric_means"]) == {"numpy", "torch"}
    assert set(data["geometric_means"]["numpy"]) == set(ops)


def test_bench_module_entry_is_the_bench_command():
    result = subprocess.run([sys.executable, "-m", "conv_tutorial.bench", "--help"], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: conv-tutorial bench")
