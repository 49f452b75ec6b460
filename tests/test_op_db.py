"""PyTorch's own test samples as an oracle for both backends.

PyTorch tests every operator on the sample inputs of its ``op_db``
(``torch.testing._internal.common_methods_invocations``): shapes, strides, paddings (``'same'``,
``'valid'``), dilations, groups, unbatched inputs and empty batches that its developers chose
to cover the operator. Fold has no entry there; its samples are the module tests of
``torch.testing._internal.common_nn`` (and ``common_modules.module_db``, should a later torch add
it there). Every sample goes through ``conv_tutorial.numpy`` and ``conv_tutorial.torch``:

- forward in float64 and float32, compared with PyTorch by the project's rule (``helpers``);
- gradients of the torch backend against autograd through the native op, in float64;
- ``error_inputs``, on which PyTorch raises: we raise a ``ValueError`` or ``TypeError`` too, except
  for integer input, which the package computes in float64 by design (DESIGN.md) where PyTorch
  refuses to mix dtypes.

``torch.testing._internal`` is not public API and needs ``expecttest``; when it cannot be
imported the whole module is skipped, with the reason.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

try:
    from torch.testing._internal.common_methods_invocations import op_db
    from torch.testing._internal.common_nn import get_new_module_tests
except Exception as err:  # expecttest missing, or a torch whose internals moved
    pytest.skip(f"PyTorch's op_db cannot be imported ({type(err).__name__}: {err})", allow_module_level=True)

from helpers import assert_close_to_reference  # noqa: E402

import conv_tutorial.numpy as cnp  # noqa: E402
import conv_tutorial.torch as ctorch  # noqa: E402

#: op_db's names of the operations both backends mirror, and the name in torch.nn.functional and ours.
OP_DB_NAMES = {
    f"nn.functional.{name}": name
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold")
}
BACKENDS = {"numpy": cnp, "torch": ctorch}


class Case(NamedTuple):
    """One sample: ``F.<name>(input, *args, **kwargs)``; tensors are float64 (or integer) on the CPU."""

    name: str
    input: object
    args: tuple
    kwargs: dict
    id: str


def _fmt(value) -> str:
    if isinstance(value, torch.Tensor):
        shape = "x".join(map(str, value.shape)) or "scalar"
        return shape if value.dtype in (torch.float64, torch.float32) else f"{shape}:{str(value.dtype)[6:]}"
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(map(_fmt, value)) + (",)" if len(value) == 1 else ")")
    return repr(value) if isinstance(value, str) else str(value)


def _case(name, source, x, args, kwargs) -> Case:
    """A case whose id names every argument: ``conv2d-op_db7-input=1x4x5x5-weight=1x4x2x3-bias=1-stride=2``."""
    bound = inspect.signature(getattr(cnp, name)).bind(x, *args, **kwargs).arguments
    label = "-".join(f"{key}={_fmt(value)}" for key, value in bound.items())
    return Case(name, x, tuple(args), dict(kwargs), f"{name}-{source}-{label}")


def _module_case(module, x, source) -> Case:
    """The functional call an ``nn.Fold`` / ``nn.Unfold`` module makes."""
    options = dict(dilation=module.dilation, padding=module.padding, stride=module.stride)
    if isinstance(module, torch.nn.Fold):
        return _case("fold", source, x, (module.output_size, module.kernel_size), options)
    return _case("unfold", source, x, (module.kernel_size,), options)


def _op_db_cases():
    samples, errors = [], []
    for op in op_db:
        name = OP_DB_NAMES.get(op.name)
        if name is None or op.variant_test_name:
            continue
        for i, s in enumerate(op.sample_inputs("cpu", torch.float64, requires_grad=False)):
            samples.append(_case(name, f"op_db{i}", s.input, s.args, s.kwargs))
        if op.error_inputs_func is not None:
            for i, e in enumerate(op.error_inputs("cpu")):
                s = e.sample_input
                errors.append(_case(name, f"error{i}", s.input, s.args, s.kwargs))
    return samples, errors


def _fold_module_cases():
    """nn.Fold and nn.Unfold in PyTorch's module tests (common_nn), and in module_db when it has them."""
    cases = []
    for test in get_new_module_tests():
        if test.get("fullname", "").startswith(("Fold", "Unfold")):
            module = test["constructor"]()
            cases.append(
                _module_case(
                    module, torch.randn(test["input_size"], dtype=torch.float64), f"common_nn.{test['fullname']}"
                )
            )
    try:
        from torch.testing._internal.common_modules import module_db
    except Exception:  # module_db is optional here
        module_db = []
    for info in module_db:
        if info.module_cls in (torch.nn.Fold, torch.nn.Unfold):
            for i, m in enumerate(
                info.module_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=False, training=False)
            ):
                if m.forward_input is None:
                    continue
                module = info.module_cls(*m.constructor_input.args, **m.constructor_input.kwargs)
                cases.append(_module_case(module, m.forward_input.args[0], f"module_db.{info.module_cls.__name__}{i}"))
    return cases


with torch.random.fork_rng():  # the samples' values are random: the same ones on every run
    torch.manual_seed(0)
    SAMPLES, ERROR_SAMPLES = _op_db_cases()
    SAMPLES += _fold_module_cases()


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The samples are tiny: torch's thread pool only costs here (im2col's parallel loop waits on a busy
    second core for milliseconds per call), so this module runs on one thread and restores the setting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _tensors_as(values, convert):
    """``values`` (a tuple or dict) with every tensor passed through ``convert``."""
    if isinstance(values, dict):
        return {key: convert(v) if isinstance(v, torch.Tensor) else v for key, v in values.items()}
    return tuple(convert(v) if isinstance(v, torch.Tensor) else v for v in values)


def _call(module, case: Case, convert=lambda t: t):
    """``module.<name>`` on the case's arguments, each tensor passed through ``convert``."""
    (x,) = _tensors_as((case.input,), convert)
    return getattr(module, case.name)(x, *_tensors_as(case.args, convert), **_tensors_as(case.kwargs, convert))


def _ours(backend, case, dtype):
    """Our result for ``case`` computed in ``dtype`` by ``backend``, as a tensor or an array."""
    if backend == "torch":
        return _call(ctorch, case, lambda t: t.to(dtype))
    return _call(cnp, case, lambda t: t.to(dtype).numpy())


def test_every_operation_has_samples():
    """A name op_db renamed or dropped would silently remove its samples from this file."""
    assert {case.name for case in SAMPLES} == {*OP_DB_NAMES.values(), "fold"}
    assert sum(case.name == "fold" for case in SAMPLES) >= 4
    assert {case.name for case in ERROR_SAMPLES} >= {"conv1d", "conv2d", "conv3d"}


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", SAMPLES, ids=[case.id for case in SAMPLES])
def test_forward_matches_pytorch(case, dtype, backend):
    try:
        reference = _call(F, case, lambda t: t.to(dtype))
    except Exception as err:  # PyTorch rejects the sample: so must we
        with pytest.raises((ValueError, TypeError)):
            _ours(backend, case, dtype)
        pytest.skip(f"PyTorch raises {type(err).__name__} and so do we")
    ours = _ours(backend, case, dtype)
    assert str(ours.dtype).rsplit(".", 1)[-1] == str(dtype).rsplit(".", 1)[-1], f"dtype {ours.dtype}"
    assert_close_to_reference(ours, reference, dtype=np.float64 if dtype == torch.float64 else np.float32)


@pytest.mark.parametrize("case", SAMPLES, ids=[case.id for case in SAMPLES])
def test_torch_backend_gradients_match_autograd(case):
    """``torch.autograd.grad`` through ours and through the native op, for every floating tensor argument."""
    leaves = []

    def leaf(t):
        t = t.detach().clone().requires_grad_(t.is_floating_point())
        if t.requires_grad:
            leaves.append(t)
        return t

    (x,), args, kwargs = _tensors_as((case.input,), leaf), _tensors_as(case.args, leaf), _tensors_as(case.kwargs, leaf)
    reference = getattr(F, case.name)(x, *args, **kwargs)
    ours = getattr(ctorch, case.name)(x, *args, **kwargs)
    cotangent = torch.randn(reference.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = torch.autograd.grad(reference, leaves, cotangent, allow_unused=True)
    got = torch.autograd.grad(ours, leaves, cotangent, allow_unused=True)
    names = list(inspect.signature(getattr(cnp, case.name)).parameters)
    for t, g_ours, g_ref in zip(leaves, got, expected, strict=True):
        zeros = torch.zeros_like(t)
        where = next((names[i] for i, v in enumerate((x, *args)) if v is t), None) or next(
            k for k, v in kwargs.items() if v is t
        )
        try:
            assert_close_to_reference(zeros if g_ours is None else g_ours, zeros if g_ref is None else g_ref)
        except AssertionError as err:
            raise AssertionError(f"gradient with respect to {where}: {err}") from None


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("case", ERROR_SAMPLES, ids=[case.id for case in ERROR_SAMPLES])
def test_where_pytorch_raises_we_raise(case, backend):
    with pytest.raises(Exception):  # noqa: B017 (whatever PyTorch raises; its own tests check the type)
        _call(F, case)
    tensors = [t for t in (case.input, *case.args, *case.kwargs.values()) if isinstance(t, torch.Tensor)]
    if any(not (t.is_floating_point() or t.is_complex()) for t in tensors):
        # PyTorch refuses to mix an integer input with float weights; the package computes integer
        # input in float64, so the answer must be PyTorch's on the same values in float64.
        reference = _call(F, case, lambda t: t.to(torch.float64))
        ours = _call(BACKENDS[backend], case, (lambda t: t) if backend == "torch" else (lambda t: t.numpy()))
        assert_close_to_reference(ours, reference)
        return
    with pytest.raises((ValueError, TypeError)):
        _call(BACKENDS[backend], case, (lambda t: t) if backend == "torch" else (lambda t: t.numpy()))
