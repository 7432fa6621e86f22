"""Input checking and listwise deletion (estimators/_data.py): what each input becomes,
and the exact message and key of every refusal (users read them; the key names the
offending argument or column)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import _data


def _raises(fn, *args, **kw) -> UserInputError:
    with pytest.raises(UserInputError) as err:
        fn(*args, **kw)
    return err.value


def test_as_series_inputs():
    col = _data.as_series(pd.DataFrame({"fear": [1, 2]}), "endog", "y")
    assert col.name == "fear" and col.values.dtype == float and list(col.values) == [1.0, 2.0]
    col = _data.as_series(pd.Series([True, False]), "endog", "y")
    assert col.name == "y" and list(col.values) == [1.0, 0.0]
    col = _data.as_series(pd.Series([1, None], dtype="Int64", name="n"), "endog", "y")
    assert col.name == "n" and col.values[0] == 1.0 and np.isnan(col.values[1])
    col = _data.as_series([3, 4], "endog", "y")
    assert col.name == "y" and col.values.dtype == float and list(col.values) == [3.0, 4.0]
    col = _data.as_series(pd.Series([1.0], name=0), "endog", "y")
    assert col.name == "0"


def test_as_series_refusals():
    err = _raises(_data.as_series, pd.DataFrame({"a": [1], "b": [2]}), "endog", "y")
    assert (str(err), err.key) == ("endog must be one column, got 2", "endog")
    err = _raises(_data.as_series, pd.Series(["a"], name="dest"), "endog", "y")
    assert str(err).startswith("endog ('dest') must be numeric, got dtype ") and err.key == "endog"
    err = _raises(_data.as_series, np.zeros((2, 2)), "weights", "w")
    assert (str(err), err.key) == ("weights must be one-dimensional, got shape (2, 2)", "weights")
    err = _raises(_data.as_series, ["a", "b"], "endog", "y")
    assert str(err).startswith("endog must be numeric: ") and err.key == "endog"


def test_as_frame_inputs():
    m = _data.as_frame(pd.Series([1, 2], name="age"), "exog")
    assert m.names == ["age"] and m.values.shape == (2, 1) and m.values.dtype == float
    assert _data.as_frame(pd.Series([1, 2]), "exog", prefix="z").names == ["z1"]
    m = _data.as_frame(pd.DataFrame({"a": [True, False], 3: [1, 2]}), "exog")
    assert m.names == ["a", "3"] and m.values.tolist() == [[1.0, 1.0], [0.0, 2.0]]
    m = _data.as_frame(pd.DataFrame({"a": pd.array([1, None], dtype="Int64")}), "exog")
    assert np.isnan(m.values[1, 0])
    m = _data.as_frame(np.array([1, 2, 3]), "exog")
    assert m.names == ["x1"] and m.values.shape == (3, 1)
    m = _data.as_frame(np.ones((2, 3), dtype=int), "exog", prefix="x2_")
    assert m.names == ["x2_1", "x2_2", "x2_3"] and m.values.dtype == float


def test_as_frame_refusals():
    err = _raises(_data.as_frame, pd.DataFrame({"a": [1.0], "job": ["x"]}), "exog")
    assert str(err).startswith("exog column 'job' must be numeric, got dtype ") and err.key == "job"
    err = _raises(_data.as_frame, pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]), "exog")
    assert (str(err), err.key) == ("exog has duplicate column names", "exog")
    err = _raises(_data.as_frame, np.zeros((2, 2, 2)), "exog")
    assert (str(err), err.key) == ("exog must be two-dimensional, got shape (2, 2, 2)", "exog")
    err = _raises(_data.as_frame, np.array([["a", "b"]]), "exog")
    assert str(err).startswith("exog must be numeric: ") and err.key == "exog"


def _inputs(n=5):
    y = _data.Column("y", np.array([0.0, 1.0, np.nan, 1.0, 0.0])[:n])
    x = _data.Matrix(["a", "b"], np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, np.nan], [9.0, 1.0]])[:n])
    return {"endog": y}, {"exog": x}


def test_clean_drops_rows_listwise():
    s, f = _inputs()
    out = _data.clean(s, f, weights=[1.0, np.inf, 1.0, 2.0, 0.5], groups=pd.Series([1, 1, 2, 2, np.nan], index=[9, 8, 7, 6, 5]))
    assert out.keep.tolist() == [True, False, False, False, False] and out.nobs == 1
    out = _data.clean(s, f, weights=np.array([1.0, 2.0, 1.0, 1.0, 3.0]), groups=[4, 5, 6, 7, 8])
    assert out.keep.tolist() == [True, True, False, False, True] and out.nobs == 3
    assert out.series["endog"].values.tolist() == [0.0, 1.0, 0.0] and out.series["endog"].name == "y"
    assert out.frames["exog"].values.tolist() == [[1.0, 2.0], [3.0, 4.0], [9.0, 1.0]]
    assert out.frames["exog"].names == ["a", "b"]
    assert out.weights.tolist() == [1.0, 2.0, 3.0] and out.groups.tolist() == [4, 5, 8]
    none = _data.clean(s, f, weights=np.ones(5), groups=np.arange(5), missing="none")
    assert none.nobs == 5 and none.keep.all() and len(none.weights) == 5 and len(none.groups) == 5
    full = _data.clean({"endog": _data.Column("y", np.ones(3))}, {})
    assert full.nobs == 3 and full.weights is None and full.groups is None and full.keep.all()


def test_clean_refusals():
    s, f = _inputs()
    err = _raises(_data.clean, s, f, missing="skip")
    assert str(err) == "missing must be one of ('drop', 'raise', 'none'), got 'skip'" and err.key == "missing"
    err = _raises(_data.clean, s, f, missing="raise")
    assert (str(err), err.key) == ("2 row(s) with missing values (missing='raise')", "missing")
    short = {"exog": _data.Matrix(["a"], np.ones((4, 1)))}
    err = _raises(_data.clean, s, short)
    assert (str(err), err.key) == ("exog has 4 rows, expected 5 (as the other inputs)", "exog")
    err = _raises(_data.clean, s, f, weights=np.ones(4))
    assert (str(err), err.key) == ("weights has 4 rows, expected 5", "weights")
    err = _raises(_data.clean, s, f, weights=[1.0, -0.5, 1.0, 1.0, 1.0])
    assert (str(err), err.key) == ("weights must be non-negative", "weights")
    assert _data.clean(s, f, weights=[0.0, np.nan, 1.0, 1.0, 1.0]).nobs == 2  # 0 allowed, NaN dropped
    err = _raises(_data.clean, s, f, weights=np.ones((5, 2)))
    assert (str(err), err.key) == ("weights must be one-dimensional, got shape (5, 2)", "weights")
    err = _raises(_data.clean, s, f, groups=np.arange(6))
    assert (str(err), err.key) == ("groups has 6 rows, expected 5", "groups")


def test_reject_constant():
    _data.reject_constant(_data.Matrix(["a", "constant_term"], np.ones((1, 2))))
    for name in ("const", "Intercept", "CONST"):
        err = _raises(_data.reject_constant, _data.Matrix(["a", name], np.ones((1, 2))), "exog_binary")
        assert str(err) == (f"exog_binary column {name!r} looks like a constant: this model takes "
                            "exog WITHOUT a constant")
        assert err.key == name
    assert "exog column" in str(_raises(_data.reject_constant, _data.Matrix(["const"], np.ones((1, 1)))))
