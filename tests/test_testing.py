"""The helpers the tests and the chapters share to check results: conv_tutorial.testing."""

from __future__ import annotations

import numpy as np
import pytest

import conv_tutorial.numpy as cnp
from conv_tutorial.testing import expect_error


def test_expect_error_prints_type_and_message_only(capsys):
    with expect_error(ValueError):
        cnp.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=0)
    out = capsys.readouterr().out
    assert out.startswith("ValueError: ") and out.count("\n") == 1
    assert "stride" in out and "Traceback" not in out and ".py" not in out


def test_expect_error_fails_when_nothing_is_raised():
    message = "expected the block to raise ValueError or TypeError, but it raised nothing"
    with pytest.raises(AssertionError, match=message), expect_error((ValueError, TypeError)):
        cnp.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)))


def test_expect_error_lets_other_errors_through(capsys):
    with pytest.raises(KeyError), expect_error(ValueError):
        {}["missing"]
    assert capsys.readouterr().out == ""


def test_expect_error_default_catches_any_exception(capsys):
    with expect_error():
        _ = 1 / 0
    assert capsys.readouterr().out == "ZeroDivisionError: division by zero\n"


@pytest.mark.parametrize("expected", [ValueError("x"), "ValueError", (), (ValueError, int)])
def test_expect_error_rejects_what_is_not_an_exception_type(expected):
    with (
        pytest.raises(TypeError, match="expected must be an exception type or a tuple of them"),
        expect_error(expected),
    ):
        pass
