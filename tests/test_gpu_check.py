"""``make gpu-check`` (tools/gpu_check.py): skips cleanly without CUDA, and its table says what it measured."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

SPEC = importlib.util.spec_from_file_location("gpu_check", Path(__file__).parent.parent / "tools" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gpu_check)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: make gpu-check runs for real there")
def test_skips_cleanly_without_cuda(tmp_path, capsys):
    assert gpu_check.main(["--out", str(tmp_path / "out")]) == 0
    assert "skipped: no CUDA device" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_table_gives_each_operation_its_geometric_mean_and_worst_layer():
    bench = {
        "meta": {"torch": "2.x", "torch_device": "cuda", "batch": 8, "repeats": 3},
        "measurements": [
            {"op": "conv2d", "layer": "a", "ratio": 2.0},
            {"op": "conv2d", "layer": "b", "ratio": 8.0},
            {"op": "conv3d", "layer": "c", "ratio": 0.5},
        ],
    }
    table = gpu_check._table(bench).splitlines()
    assert table[-2:] == ["| conv2d | 2 | 4.00 | b | 8.00 |", "| conv3d | 1 | 0.50 | c | 0.50 |"]
    assert "on cuda, batch 8" in table[0]
