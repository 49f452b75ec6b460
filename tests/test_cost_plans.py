"""The cost model's public functions give, on 1,200 layer specifications, exactly the answers recorded in
``tests/data/cost_recorded.json.gz``: the same numbers, or the same error (type and message).

The specifications are drawn deterministically (seeded): input size, channels, kernel, stride, padding,
dilation, groups, batch, itemsize, frames, reduction and the other arguments vary together, in 1D, 2D
and 3D, as ints and as tuples, and one in five has one argument made invalid. The record was made by
``python tests/test_cost_plans.py --record`` before :mod:`conv_tutorial.cost` was reorganised; record
again only when a cost is meant to change, and say why in the commit.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

import pytest

from conv_tutorial import cost

RECORD = Path(__file__).parent / "data" / "cost_recorded.json.gz"
N_SPECS = 1200


def _axes(rng, n, low, high, as_tuple):
    """An int, or a tuple of ``n`` ints, each in ``[low, high]``."""
    values = [rng.randint(low, high) for _ in range(n)]
    return values if as_tuple else values[0]


def _divisor(rng, a, b):
    common = [g for g in range(1, min(a, b) + 1) if a % g == 0 and b % g == 0]
    return rng.choice(common)


def _spec(rng):
    """One layer specification, JSON-able (tuples as lists); one in five has one fault."""
    n = rng.choices((1, 2, 3), weights=(15, 70, 15))[0]
    as_tuple = rng.random() < 0.4
    k = _axes(rng, n, 1, 7, as_tuple)
    d = _axes(rng, n, 1, 3, as_tuple and rng.random() < 0.5) if rng.random() < 0.4 else 1
    s = _axes(rng, n, 1, 3, as_tuple and rng.random() < 0.5) if rng.random() < 0.5 else 1
    ks = k if isinstance(k, list) else [k] * n
    ds = d if isinstance(d, list) else [d] * n
    pick = rng.random()
    if pick < 0.1:
        p = "same" if rng.random() < 0.7 else "valid"
    elif pick < 0.6:
        p = [di * (ki // 2) for ki, di in zip(ks, ds, strict=True)] if as_tuple else ds[0] * (ks[0] // 2)
    else:
        p = _axes(rng, n, 0, 3, as_tuple)
    size = _axes(rng, n, 1, 40, as_tuple and rng.random() < 0.7)
    ci, co = (
        rng.choice((1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)),
        rng.choice((1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256)),
    )
    spec = dict(
        n=n,
        size=size,
        ci=ci,
        co=co,
        k=k,
        s=s,
        p=p,
        d=d,
        g=_divisor(rng, ci, co),
        batch=rng.choice((0, 1, 1, 2, 8, 32)),
        itemsize=rng.choice((1, 2, 4, 4, 8)),
        frames=rng.randint(1, 16),
        r=rng.choice((1, 2, 4, 8, 16)),
        m=rng.choice((1, 1, 2, 3)),
        mid=rng.choice((None, None, 1, 5, 16, 64)),
        og=_divisor(rng, ci, ci),
        modulated=rng.random() < 0.3,
        bias=rng.random() < 0.6,
        batch_norm=rng.random() < 0.7,
        op=0 if rng.random() < 0.7 else rng.randint(0, 2),
        ndim=n if rng.random() < 0.3 else None,
        table_groups=_divisor(rng, ci, co),
        table_d=rng.randint(1, 3),
        table_k=rng.randint(1, 7),
        table_s=rng.choice((1, 1, 2, 3)),
        table_size=[rng.randint(1, 64), rng.randint(1, 64)] if rng.random() < 0.3 else rng.randint(1, 64),
    )
    if spec["r"] > ci and rng.random() < 0.8:
        spec["r"] = 1
    if rng.random() < 0.2:
        name, value = rng.choice(
            [
                ("ci", 0),
                ("co", -1),
                ("g", 3),
                ("g", 0),
                ("k", 0),
                ("s", 0),
                ("p", -1),
                ("p", "full"),
                ("d", 0),
                ("itemsize", 3),
                ("batch", -1),
                ("r", 512),
                ("r", 0),
                ("op", 5),
                ("mid", 0),
                ("og", 7),
                ("size", 0),
                ("ci", 2.0),
                ("k", True),
                ("bias", 1),
                ("modulated", "yes"),
                ("ndim", 4),
                ("size", [8, 8, 8, 8]),
                ("k", [3, 3, 3, 3]),
                ("frames", 0),
                ("m", 0),
                ("table_k", 0),
                ("table_groups", 5),
                ("table_size", 0),
                ("batch", 1.5),
                ("s", [1, 2]),
                ("size", 1),
            ]
        )
        spec[name] = value
    return spec


def _t(value):
    """A list of the spec as the tuple the functions take; anything else unchanged."""
    return tuple(value) if isinstance(value, list) else value


def _clip(value, first):
    """A spec value as the ``(T, H, W)`` argument of the (2+1)D functions: ``first`` put before a pair."""
    value = _t(value)
    return (first, *value) if isinstance(value, tuple) and len(value) == 2 else value


def _calls(q):
    """``{function name: (args, kwargs)}`` for every public function of the cost model on spec ``q``."""
    size, k, s, p, d = _t(q["size"]), _t(q["k"]), _t(q["s"]), _t(q["p"]), _t(q["d"])
    ci, co, g, m, mid, og = q["ci"], q["co"], q["g"], q["m"], q["mid"], q["og"]
    traffic = dict(batch=q["batch"], itemsize=q["itemsize"])
    clip = _clip(size, q["frames"])
    k3, s3, p3 = _clip(k, q["k"] if isinstance(q["k"], int) else 3), _clip(s, 1), _clip(p, 1)
    layers = [(ci, co, k, s, p, d, g), (co, ci, 1)] + ([(ci, mid, 3, 1, 1)] if mid else [])
    return {
        "conv_params": ((ci, co, k, g, q["bias"], q["ndim"]), {}),
        "conv_macs": ((size, ci, co, k, s, p, d, g, q["ndim"]), {}),
        "stack_params": ((layers,), dict(bias=q["bias"])),
        "stack_macs": ((size, layers), {}),
        "batch_norm_params": ((ci,), {}),
        "conv2plus1d_mid_channels": ((ci, co, k3), {}),
        "conv2plus1d_params": ((ci, co, k3, mid, q["batch_norm"]), {}),
        "conv2plus1d_macs": ((clip, ci, co, k3, s3, p3, mid), {}),
        "squeeze_excitation_params": ((ci, q["r"], q["bias"]), {}),
        "squeeze_excitation_macs": ((ci, q["r"]), {}),
        "global_depthwise_params": ((ci, size, q["bias"]), {}),
        "global_depthwise_macs": ((ci, size), {}),
        "memory_access_cost": ((size, ci, co, k, s, p, d, g, q["ndim"]), {}),
        "conv_transpose_macs": ((size, ci, co, k, g, q["ndim"]), {}),
        "depthwise_conv_params": ((ci, k, m, q["bias"]), {}),
        "depthwise_conv_macs": ((size, ci, k, s, p, d, m), {}),
        "separable_conv_params": ((ci, co, k, m, q["bias"]), {}),
        "separable_conv_macs": ((size, ci, co, k, s, p, d, m), {}),
        "spatially_separable_conv_params": ((ci, co, k, mid, g, q["bias"]), {}),
        "spatially_separable_conv_macs": ((size, ci, co, k, s, p, d, mid, g), {}),
        "conv_bytes": ((size, ci, co, k, s, p, d, g), traffic),
        "arithmetic_intensity": ((size, ci, co, k, s, p, d, g), traffic),
        "deform_conv_params": ((ci, co, k, g, og, q["bias"], q["modulated"]), {}),
        "deform_conv_macs": ((size, ci, co, k, s, p, d, g, og, q["modulated"]), {}),
        "conv_transpose_bytes": ((size, ci, co, k, s, p, q["op"], g, d), traffic),
        "separable_conv_bytes": ((size, ci, co, k, s, p, d, m), traffic),
        "spatially_separable_conv_bytes": ((size, ci, co, k, s, p, d, mid, g), traffic),
        "conv2plus1d_bytes": ((clip, ci, co, k3, s3, p3, mid), traffic),
        "deform_conv_bytes": ((size, ci, co, k, s, p, d, g, og, q["modulated"]), traffic),
        "squeeze_excitation_bytes": ((ci, size, q["r"]), traffic),
        "global_depthwise_bytes": ((ci, size), traffic),
        "layer_table": (
            (
                _t(q["table_size"]),
                ci,
                co,
                q["table_k"],
                q["table_s"],
                q["batch"],
                q["itemsize"],
                q["table_groups"],
                q["table_d"],
                q["frames"],
                q["r"],
            ),
            {},
        ),
    }


def _outcome(name, args, kwargs):
    """The function's answer as JSON would store it, or ``{"error": [type, message]}``."""
    try:
        value = getattr(cost, name)(*args, **kwargs)
    except (TypeError, ValueError) as error:
        return {"error": [type(error).__name__, str(error)]}
    return json.loads(json.dumps(value))


def _record():
    rng = random.Random(20261130)
    specs = [_spec(rng) for _ in range(N_SPECS)]
    answers = [{name: _outcome(name, *call) for name, call in _calls(q).items()} for q in specs]
    RECORD.parent.mkdir(exist_ok=True)
    text = json.dumps({"specs": specs, "answers": answers}, separators=(",", ":"))
    RECORD.write_bytes(gzip.compress(text.encode(), mtime=0))


RECORDED = json.loads(gzip.decompress(RECORD.read_bytes())) if RECORD.exists() else {"specs": [], "answers": []}
FUNCTIONS = sorted(_calls(RECORDED["specs"][0]) if RECORDED["specs"] else [])


def test_the_record_is_large_and_holds_answers_and_errors():
    assert set(FUNCTIONS) <= set(cost.__all__), "a recorded function is no longer public"
    assert len(RECORDED["specs"]) >= 1000
    for name in FUNCTIONS:
        answers = [a[name] for a in RECORDED["answers"]]
        errors = sum(isinstance(a, dict) and "error" in a for a in answers)
        assert 0 < errors < len(answers) / 2, f"{name}: {errors} errors of {len(answers)} recorded answers"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_answers_are_the_recorded_ones(name):
    wrong = []
    for q, answers in zip(RECORDED["specs"], RECORDED["answers"], strict=True):
        args, kwargs = _calls(q)[name]
        got = _outcome(name, args, kwargs)
        if got != answers[name]:
            wrong.append((q, answers[name], got))
    assert not wrong, (
        f"{len(wrong)} of {len(RECORDED['specs'])} answers differ; the first: spec {wrong[0][0]}, "
        f"recorded {wrong[0][1]}, now {wrong[0][2]}"
    )


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    _record()
