"""The assertion helpers of the labs' check cells: they pass on right answers and fail on wrong
ones with a message that says what was expected."""

import numpy as np
import pytest

from labkit.checks import (
    NotImplementedYet,
    check_close,
    check_grad,
    check_not_close,
    check_shape,
    require,
)


def test_check_close_passes_and_reports_its_error():
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    assert check_close("h", x, x.copy()) == 0.0
    assert 0 < check_close("h", x * (1 + 1e-10), x) < 1e-9


def test_check_close_message_names_error_tolerance_index_and_values():
    expected = np.arange(6.0).reshape(2, 3)
    got = expected.copy()
    got[1, 0] = 3.5
    with pytest.raises(AssertionError) as err:
        check_close("h_next", got, expected, rtol=1e-8)
    first, second = str(err.value).splitlines()
    assert first.startswith("h_next: relative error 7.7e-02 exceeds tolerance 1e-08")
    assert "first mismatch at index (1, 0): got 3.5, expected 3" in first
    assert "shape (2, 3)" in second and "1 of 6 entries differ" in second


def test_check_close_shape_dtype_and_nan():
    expected = np.zeros((2, 3))
    with pytest.raises(AssertionError, match=r"h: expected shape \(2, 3\), got \(3, 2\)"):
        check_close("h", np.zeros((3, 2)), expected)
    with pytest.raises(AssertionError, match="did you index the tuple"):
        check_close("h", (np.zeros((2, 3)), None), expected)
    with pytest.raises(AssertionError, match="expected a float array, got dtype int64"):
        check_close("h", np.zeros((2, 3), dtype=np.int64), expected)
    bad = np.zeros((2, 3))
    bad[0, 2] = np.nan
    with pytest.raises(AssertionError, match=r"NaN or inf \(first at index \(0, 2\)\)"):
        check_close("h", bad, expected)
    with pytest.raises(AssertionError, match="expected an array of shape"):
        check_shape("h", [[0.0]], (1, 1))


def test_check_not_close():
    a = np.ones(3)
    assert check_not_close("dWh", a * 1.5, a, 1e-2) == pytest.approx(0.2)
    with pytest.raises(AssertionError, match="expected a relative difference above 1e-02, got"):
        check_not_close("dWh", a * (1 + 1e-6), a, 1e-2)


def test_check_grad_against_finite_differences():
    x = np.random.default_rng(0).standard_normal((3, 2))
    df = np.random.default_rng(1).standard_normal((3, 2))
    assert check_grad("dx", np.cos(x) * df, np.sin, x, df) < 1e-8
    with pytest.raises(AssertionError, match=r"dx: relative error .* yours .* finite differences"):
        check_grad("dx", -np.cos(x) * df, np.sin, x, df)


def test_require_turns_stubs_into_not_implemented_failures():
    def stub(x):
        raise NotImplementedError("exercise 1a not implemented yet: stub")

    def later(x):  # a later exercise that calls the earlier stub
        return stub(x) + 1

    with pytest.raises(NotImplementedYet, match="^exercise 1a not implemented yet: stub$"):
        require("later", later)(1)
    assert isinstance(NotImplementedYet("x"), AssertionError)

    def plain(x):
        raise NotImplementedError

    with pytest.raises(NotImplementedYet, match="plain not implemented yet"):
        require("plain", plain)(1)
    assert require("double", {"double": lambda x: 2 * x})(3) == 6
    with pytest.raises(AssertionError, match="double is not defined: run the cell"):
        require("double", {})
    with pytest.raises(AssertionError, match="double: expected a function, got int"):
        require("double", {"double": 2})


def test_check_close_shows_every_digit_and_the_dtype_of_a_float32_answer():
    with pytest.raises(AssertionError) as err:
        check_close("h", np.array([0.6], dtype=np.float32), np.array([0.6]))
    first, second = str(err.value).splitlines()
    assert first.endswith("got 0.6000000238418579 (float32), expected 0.6")
    assert second.endswith("your dtype is float32: compute in float64")
