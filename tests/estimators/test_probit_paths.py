"""Probit paths beyond the plain fit, each against statsmodels: the covariance each
``cov_type`` picks, weighted log-likelihoods (frequency duplication), the singular
fallback, the array path of the suite, and the status and message of every failure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import Probit
from sim_refugee.estimators.probit import ProbitFit, fit_probit_arrays, fit_probit_model

SEPARATION = "perfect separation: the MLE does not exist"


def _data(seed: int, n: int = 300):
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([15, seed])))
    x = pd.DataFrame({"const": 1.0, "a": rng.normal(size=n), "b": (rng.random(n) < 0.4).astype(float)})
    y = pd.Series((0.2 + 0.7 * x["a"] - 0.5 * x["b"] + rng.normal(size=n) > 0).astype(float), name="y")
    return y, x, rng


def test_cov_type_choice_and_robust_se_against_statsmodels():
    y, x, rng = _data(1)
    n = len(y)
    ref = sm.Probit(y, x).fit(disp=0, method="newton")
    plain = Probit(y, x).fit()
    assert (plain.cov_type, plain.backend, plain.n_iter) == ("nonrobust", "statsmodels", ref.mle_retvals["iterations"])
    assert plain.llnull == pytest.approx(ref.llnull, rel=1e-10)
    assert plain.nobs == n and plain.converged is True and plain.status_message == ""
    # robust without weights: our Newton and the sandwich with N/(N-1) on statsmodels' HC0
    robust = Probit(y, x).fit(cov_type="robust")
    hc0 = sm.Probit(y, x).fit(disp=0, cov_type="HC0")
    assert (robust.cov_type, robust.backend, robust.status) == ("robust", "sim_refugee", "ok")
    np.testing.assert_allclose(robust.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(robust.bse, hc0.bse * np.sqrt(n / (n - 1)), rtol=1e-6)
    assert robust.llf == pytest.approx(ref.llf, rel=1e-12)
    w = rng.uniform(0.5, 2.0, n)
    groups = np.arange(n) // 3
    assert Probit(y, x, weights=w).fit().cov_type == "robust"
    assert Probit(y, x, groups=groups).fit().cov_type == "cluster"
    assert Probit(y, x, weights=w, groups=groups).fit().cov_type == "cluster"
    assert Probit(y, x, weights=w).fit(cov_type="nonrobust").cov_type == "nonrobust"
    with pytest.raises(UserInputError, match="cov_type='cluster' needs groups"):
        Probit(y, x).fit(cov_type="cluster")
    with pytest.raises(UserInputError, match="got 'hc1'"):
        Probit(y, x, weights=w).fit(cov_type="hc1")


def test_weighted_llf_and_llnull_equal_statsmodels_on_duplicated_rows():
    y, x, rng = _data(2, 200)
    w = rng.integers(1, 4, len(y))
    rep = np.repeat(np.arange(len(y)), w)
    ref = sm.Probit(y.iloc[rep].to_numpy(), x.iloc[rep].to_numpy()).fit(disp=0, method="newton")
    res = Probit(y, x, weights=w.astype(float)).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-8)
    assert res.llf == pytest.approx(ref.llf, rel=1e-12)
    assert res.llnull == pytest.approx(ref.llnull, rel=1e-10)
    assert res.nobs == len(y) and res.converged is True and res.status == "ok"
    fit = fit_probit_model(y.to_numpy(), x.to_numpy(), w.astype(float), None, "nonrobust")
    np.testing.assert_allclose(fit.bse, ref.bse, rtol=1e-6)
    assert (fit.status, fit.message, fit.converged) == ("ok", "", True)
    assert fit.llf == pytest.approx(ref.llf, rel=1e-12) and fit.n_iter > 0


def test_zero_column_falls_back_to_our_newton_with_nan_se():
    y, x, _ = _data(3)
    ref = sm.Probit(y, x[["const", "a", "b"]]).fit(disp=0)
    res = Probit(y, x.assign(z=0.0)).fit()
    assert res.status == "singular_hessian" and res.backend == "sim_refugee"
    assert res.status_message == "statsmodels Newton: Singular matrix"
    np.testing.assert_allclose(res.params[["const", "a", "b"]], ref.params, rtol=1e-7)
    assert res.params["z"] == 0.0
    assert res.bse.isna().all() and res.cov_type == "nonrobust"
    assert res.llf == pytest.approx(ref.llf, rel=1e-12)
    assert res.llnull == pytest.approx(ref.llnull, rel=1e-10)
    assert res.converged is True and res.n_iter > 0 and res.nobs == len(y)


def test_failures_and_separation_are_reported():
    x = pd.DataFrame({"const": 1.0, "a": np.arange(20.0)})
    y = (x["a"] > 9.5).astype(float)
    for kw in ({}, {"weights": np.ones(20)}):
        res = Probit(y, x, **kw).fit()
        assert (res.status, res.status_message, res.converged) == ("not_converged", SEPARATION, False)
    fit = fit_probit_model(y.to_numpy(), x.to_numpy())
    assert (fit.status, fit.message, fit.converged) == ("not_converged", SEPARATION, False)
    for yy in (np.zeros(20), np.full(20, np.nan)):
        res = Probit(yy, x).fit()
        assert res.status == "failed" and res.status_message == "endog has fewer than two distinct values"
        assert res.params.isna().all() and list(res.params.index) == ["const", "a"]
    fail = fit_probit_model(np.ones(5), np.ones((5, 2)))
    assert (fail.status, fail.message, fail.converged, fail.n_iter) == (
        "failed", "endog has fewer than two distinct values", False, 0)
    assert fail.params.shape == (2,) and np.isnan(fail.params).all()
    assert fail.cov.shape == (2, 2) and np.isnan(fail.cov).all() and np.isnan(fail.llf)
    empty = fit_probit_model(np.zeros(0), np.zeros((0, 3)))
    assert empty.status == "failed" and empty.params.shape == (3,)
    with pytest.raises(UserInputError, match="endog 'y' of a probit must be 0/1"):
        Probit(pd.Series([0.0, 2.0, 1.0], name="y"), x.iloc[:3])


def test_one_perfectly_predicted_row_is_not_separation():
    y, x, _ = _data(4, 200)
    x.loc[0, "a"], y.loc[0] = 40.0, 1.0  # fitted probability 1 for this row only
    ref = sm.Probit(y, x).fit(disp=0)
    for kw in ({}, {"weights": np.ones(len(y))}):
        res = Probit(y, x, **kw).fit()
        assert res.status == "ok" and res.converged is True, res.status_message
        np.testing.assert_allclose(res.params, ref.params, rtol=1e-6)
    assert fit_probit_model(y.to_numpy(), x.to_numpy()).status == "ok"


def test_array_fit_from_a_start_and_bse_of_a_fit():
    y, x, _ = _data(5)
    ref = sm.Probit(y, x).fit(disp=0, method="newton", tol=1e-12)
    res, score = fit_probit_arrays(y.to_numpy(), x.to_numpy())
    # converged at a Newton decrement below 1e-12: about 1e-7 relative in the estimates
    np.testing.assert_allclose(res.x, ref.params, rtol=1e-6)
    np.testing.assert_allclose(score, ref.model.score_obs(res.x), rtol=1e-8, atol=1e-12)
    assert np.abs(ref.model.score(res.x)).max() < 1e-4
    again, _ = fit_probit_arrays(y.to_numpy(), x.to_numpy(), start=res.x)
    assert again.n_iter <= 1 and again.converged
    np.testing.assert_allclose(again.x, res.x, rtol=1e-10)
    fit = ProbitFit(np.zeros(3), np.diag([4.0, 0.0, -1.0]), 0.0, True, "ok", "", 1)
    np.testing.assert_array_equal(fit.bse, [2.0, np.nan, np.nan])


def test_collinear_columns_and_statsmodels_non_convergence(monkeypatch, capsys):
    rng = np.random.default_rng(1)
    xc = pd.DataFrame({"const": 1.0, "a": rng.normal(size=200)})
    xc["a2"] = 2 * xc["a"]
    yc = (xc["a"] + rng.normal(size=200) > 0).astype(float)
    res = Probit(yc, xc).fit()  # statsmodels' Newton converges on the ridge
    assert res.status == "singular_hessian" and res.backend == "statsmodels"
    assert res.status_message.startswith("negative Hessian not positive definite (eigenvalues ")
    assert list(res.params.index) == ["const", "a", "a2"] and res.bse.isna().all()
    y, x, _ = _data(6)
    # statsmodels stopped by its iteration limit: reported, with the iterations it used
    from statsmodels.discrete.discrete_model import Probit as SMProbit

    fit = SMProbit.fit
    monkeypatch.setattr(SMProbit, "fit", lambda self, **kw: fit(self, **{**kw, "maxiter": 1}))
    short = Probit(y, x).fit()
    assert (short.status, short.status_message, short.converged) == (
        "not_converged", "statsmodels Newton did not converge", False)
    assert short.n_iter == 1 and list(short.params.index) == ["const", "a", "b"]
    assert capsys.readouterr().out == ""  # statsmodels prints nothing (disp=0)


def _err(fn, *args, **kw) -> UserInputError:
    with pytest.raises(UserInputError) as err:
        fn(*args, **kw)
    return err.value


def test_refusals_exact_messages_and_keys():
    y, x, _ = _data(7, 40)
    e = _err(Probit(y, x).fit, cov_type="cluster")
    assert (str(e), e.key) == ("cov_type='cluster' needs groups", "groups")
    e = _err(Probit(y, x).fit, cov_type="hc7")
    assert (str(e), e.key) == ("cov_type must be auto/nonrobust/robust/cluster, got 'hc7'", "cov_type")
    e = _err(Probit, 2 * y.to_numpy(), x)
    assert (str(e), e.key) == ("endog 'y' of a probit must be 0/1", "y")
    assert Probit(y.to_numpy(), x).endog_name == "y" and Probit(y, x).endog_name == "y"
    e = _err(Probit, pd.DataFrame({"a": y, "b": y}), x)
    assert (str(e), e.key) == ("endog must be one column, got 2", "endog")
    e = _err(Probit, y, x.assign(b="x"))
    assert str(e).startswith("exog column 'b' must be numeric") and e.key == "b"
    e = _err(Probit, y.where(y.index != 3), x, missing="raise")
    assert (str(e), e.key) == ("1 row(s) with missing values (missing='raise')", "missing")
    e = _err(Probit, y, x.iloc[:, :0])
    assert (str(e), e.key) == ("exog of a probit has no columns (pass at least the constant)", "exog")
    e = _err(Probit, y, np.empty((len(y), 0)))
    assert e.key == "exog"


def test_own_path_flags_a_singular_hessian_and_joins_messages():
    rng = np.random.default_rng(1)
    xc = pd.DataFrame({"const": 1.0, "a": rng.normal(size=200)})
    xc["a2"] = 2 * xc["a"]
    yc = (xc["a"] + rng.normal(size=200) > 0).astype(float)
    for kw in ({"weights": np.ones(200)}, {"groups": np.arange(200) // 2}):
        res = Probit(yc, xc, **kw).fit()
        assert res.status == "singular_hessian" and res.backend == "sim_refugee"
        assert res.status_message.startswith("negative Hessian not positive definite (eigenvalues ")
        assert list(res.params.index) == ["const", "a", "a2"] and res.n_iter > 0
    fit = fit_probit_model(yc.to_numpy(), xc.to_numpy())
    assert fit.status == "singular_hessian" and fit.message.startswith("negative Hessian")
    # separation and a zero column at once: the worse status, both messages
    xs = pd.DataFrame({"const": 1.0, "a": np.arange(20.0), "z": 0.0})
    ys = (xs["a"] > 9.5).astype(float)
    both = fit_probit_model(ys.to_numpy(), xs.to_numpy())
    assert both.status == "not_converged" and both.converged is False
    assert both.message.startswith(SEPARATION + "; negative Hessian not positive definite")


def test_array_path_defaults_and_an_iteration_limit(monkeypatch):
    y, x, rng = _data(8)
    yy, xx = y.to_numpy(), x.to_numpy()
    ref = sm.Probit(y, x).fit(disp=0)
    np.testing.assert_allclose(fit_probit_model(yy, xx).bse, ref.bse, rtol=1e-5)  # default: nonrobust
    groups = np.arange(len(y)) // 3
    robust = fit_probit_model(yy, xx, None, groups, "robust")  # groups only count for "cluster"
    np.testing.assert_allclose(robust.cov, fit_probit_model(yy, xx, None, None, "robust").cov, rtol=1e-12)
    assert not np.allclose(robust.cov, fit_probit_model(yy, xx, None, groups, "cluster").cov, rtol=1e-3)
    import sim_refugee.estimators.probit as probit_mod

    newton = probit_mod.newton_maximize
    monkeypatch.setattr(probit_mod, "newton_maximize",
                        lambda f, x0, **kw: newton(f, x0, **{**kw, "maxiter": 1}))
    short = fit_probit_model(yy, xx)
    assert (short.status, short.message, short.converged) == ("not_converged", "iteration limit reached", False)


def test_not_converged_and_singular_together_on_the_statsmodels_path(monkeypatch):
    from statsmodels.discrete.discrete_model import Probit as SMProbit

    rng = np.random.default_rng(1)
    xc = pd.DataFrame({"const": 1.0, "a": rng.normal(size=200)})
    yc = (xc["a"] + rng.normal(size=200) > 0).astype(float)
    xc["a2"] = 2 * xc["a"] + 1e-7 * rng.normal(size=200)  # nearly collinear
    fit = SMProbit.fit
    monkeypatch.setattr(SMProbit, "fit", lambda self, **kw: fit(self, **{**kw, "maxiter": 1}))
    res = Probit(yc, xc).fit()
    assert res.status == "not_converged"  # the worse of not_converged and singular_hessian
    assert res.status_message.startswith(
        "statsmodels Newton did not converge; negative Hessian not positive definite")


def test_statsmodels_value_error_becomes_a_failed_result(monkeypatch):
    """A ValueError inside statsmodels' fit is a failed ProbitResults naming it (no such
    input is known; the handler is tested by making statsmodels raise)."""
    import statsmodels.discrete.discrete_model as dm

    from sim_refugee.estimators.probit import ProbitResults

    y, x, _ = _data(7, 40)

    def broken(self, *args, **kw):
        raise ValueError("bad things")

    monkeypatch.setattr(dm.Probit, "fit", broken)
    res = Probit(y, x).fit()
    assert type(res) is ProbitResults
    assert (res.status, res.status_message, res.nobs) == ("failed", "ValueError: bad things", 40)
    assert list(res.params.index) == list(x.columns) and res.params.isna().all() and not res.converged


def test_array_path_flags_a_covariance_that_is_not_psd(monkeypatch):
    from sim_refugee.estimators import probit as probit_module

    y, x, _ = _data(7, 200)
    monkeypatch.setattr(probit_module, "check_psd", lambda cov: (False, -0.5))
    fit = fit_probit_model(y.to_numpy(), x.to_numpy())
    assert (fit.status, fit.message) == ("non_psd_cov", "covariance not positive semi-definite (min eigenvalue -0.5)")
