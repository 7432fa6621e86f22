"""The shared results object (estimators/results.py): inference from params and a given
covariance against scipy's distributions and the closed forms of AIC/BIC, the status
rules (unknown status refused, non-PSD flagged, failures reported) and the text users read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim_refugee.estimators.results import (
    STATUSES,
    EstimationResults,
    failed_results,
    worst_status,
)

PARAMS = pd.Series([1.0, -0.5, 2.0], index=["a", "b", "c"])
COV = np.diag([0.25, 0.04, 4.0])


def _res(**kw) -> EstimationResults:
    return EstimationResults(PARAMS, COV, nobs=50, llf=-20.0, **kw)


def test_normal_inference_equals_scipy():
    res = _res()
    np.testing.assert_allclose(res.bse, [0.5, 0.2, 2.0], rtol=1e-15)
    np.testing.assert_allclose(res.tvalues, [2.0, -2.5, 1.0], rtol=1e-15)
    np.testing.assert_allclose(res.pvalues, 2 * stats.norm.sf([2.0, 2.5, 1.0]), rtol=1e-12)
    ci = res.conf_int(0.1)
    q = stats.norm.ppf(0.95)
    np.testing.assert_allclose(ci["lower"], PARAMS - q * res.bse, rtol=1e-13)
    np.testing.assert_allclose(ci["upper"], PARAMS + q * res.bse, rtol=1e-13)
    assert list(ci.index) == ["a", "b", "c"] and list(ci.columns) == ["lower", "upper"]
    assert res.df_model == 3
    assert res.aic == pytest.approx(40.0 + 6.0, rel=1e-15)
    assert res.bic == pytest.approx(40.0 + 3 * np.log(50), rel=1e-15)
    cov = res.cov_params()
    np.testing.assert_array_equal(cov.to_numpy(), COV)
    assert list(cov.index) == list(cov.columns) == ["a", "b", "c"]
    cov.iloc[0, 0] = 99.0  # a copy: the results object is not changed through it
    assert res.cov_params().iloc[0, 0] == 0.25


def test_student_t_inference_with_use_t():
    res = _res(use_t=True, df_resid=7)
    np.testing.assert_allclose(res.pvalues, 2 * stats.t(7).sf([2.0, 2.5, 1.0]), rtol=1e-12)
    np.testing.assert_allclose(res.conf_int()["upper"], PARAMS + stats.t(7).ppf(0.975) * res.bse,
                               rtol=1e-13)
    frame = res.summary_frame()
    assert list(frame.columns) == ["coef", "std err", "t", "P>|t|", "[0.025", "0.975]"]
    # without df_resid (or with df_resid 0), inference falls back to the normal
    one = _res(use_t=True, df_resid=1)  # Cauchy
    np.testing.assert_allclose(one.pvalues, 2 * stats.t(1).sf([2.0, 2.5, 1.0]), rtol=1e-12)
    for kw in ({"use_t": True}, {"use_t": True, "df_resid": 0}, {"use_t": False, "df_resid": 7}):
        np.testing.assert_allclose(_res(**kw).pvalues, 2 * stats.norm.sf([2.0, 2.5, 1.0]), rtol=1e-12)


def test_fields_types_and_standard_errors():
    res = EstimationResults(pd.Series([1, 2], index=["x", "y"]), np.diag([4.0, 0.0]), nobs=12.0,
                            llf=-3, converged=1, n_iter=4, extra={"backend": "here"})
    assert res.params.dtype == float and list(res.params) == [1.0, 2.0]
    assert res.bse["x"] == 2.0 and np.isnan(res.bse["y"])  # zero variance: no SE
    assert isinstance(res.nobs, int) and res.nobs == 12
    assert isinstance(res.llf, float) and res.llf == -3.0
    assert res.converged is True and res.n_iter == 4 and res.backend == "here"
    assert (res.status, res.status_message, res.cov_type) == ("ok", "", "nonrobust")
    assert res.use_t is False and res.df_resid is None and res.cov_psd is True
    neg = EstimationResults(pd.Series([1.0], index=["x"]), np.array([[-1.0]]), nobs=3)
    assert np.isnan(neg.bse["x"])
    assert (neg.status, neg.status_message) == (
        "non_psd_cov", "covariance not positive semi-definite (min eigenvalue -1)")
    assert neg.cov_psd is False
    # a status that is already not ok is kept (with its message)
    kept = EstimationResults(pd.Series([1.0], index=["x"]), np.array([[-1.0]]), nobs=3,
                             status="not_converged", status_message="iteration limit")
    assert (kept.status, kept.status_message, kept.cov_psd) == ("not_converged", "iteration limit", False)
    empty = EstimationResults(pd.Series([], dtype=float), np.zeros((0, 0)), nobs=0)
    assert empty.status == "ok" and len(empty.bse) == 0 and empty.cov_psd is True
    with pytest.raises(ValueError, match="unknown status 'fine'"):
        EstimationResults(PARAMS, COV, nobs=1, status="fine")


def test_worst_status_order():
    assert STATUSES == ("ok", "not_converged", "singular_hessian", "non_psd_cov", "failed")
    assert worst_status("ok", "non_psd_cov") == "non_psd_cov"
    assert worst_status("singular_hessian", "non_psd_cov") == "singular_hessian"
    assert worst_status("singular_hessian", "not_converged", "ok") == "not_converged"
    assert worst_status("failed", "not_converged") == "failed"
    assert worst_status("ok") == "ok"


def test_failed_results():
    res = failed_results(EstimationResults, ["a", "b"], 9, "no data", order=3)
    assert res.params.isna().all() and list(res.params.index) == ["a", "b"]
    assert res.bse.isna().all() and np.isnan(res.cov_params().to_numpy()).all()
    assert (res.status, res.status_message, res.converged, res.nobs) == ("failed", "no data", False, 9)
    assert res.order == 3 and np.isnan(res.llf)


def test_summary_text():
    res = _res(status_message="", n_iter=3)
    header = res._summary_header()
    assert header == [
        "model results",
        "No. observations: 50    Log-likelihood: -20.0000",
        "Covariance: nonrobust    Converged: True    Status: ok",
    ]
    flagged = _res(converged=False, status="not_converged", status_message="slow")
    assert flagged._summary_header()[2] == "Covariance: nonrobust    Converged: False    Status: not_converged (slow)"
    text = res.summary()
    lines = text.split("\n")
    table = res.summary_frame().to_string(float_format=lambda v: f"{v:.4f}")
    width = max(len(line) for line in table.splitlines())
    assert lines[0] == lines[4] == lines[-1] == "=" * width
    assert lines[1:4] == header
    assert "\n".join(lines[5:-1]) == table
    assert "0.5000" in table and "-2.5000" in table  # bse of b, z of b at 4 decimals
    assert repr(res) == "<EstimationResults status='ok' nobs=50 llf=-20.000>"
