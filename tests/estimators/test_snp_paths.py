"""SNP ordered probit paths beyond the main fit: input refusals and their messages, the
covariance each cov_type picks (the sandwich rebuilt here from the numpy twin's score and
Hessian), the delta-method SEs of the standardized estimates against a numerical
Jacobian, the LR test against scipy's chi-square, marginal effects against finite
differences of the CDF, the optimiser fallback, failures and the summary text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import SNPOrderedProbit, select_snp_order, snp_cdf, snp_moments
from sim_refugee.estimators.snp import (
    NEWTON_TOL,
    OProbitStart,
    _maximize_snp,
    _newton_decrement,
    _SNPLoglike,
    fit_snp_arrays,
)

B = np.array([0.6, -0.4])


def _draw(seed: int, n: int = 400):
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([15, 2, seed])))
    x = np.column_stack([rng.normal(size=n), (rng.random(n) < 0.5).astype(float)])
    e = np.where(rng.random(n) < 0.5, -1.0, 1.0) + 0.5 * rng.normal(size=n)
    y = np.digitize(x @ B + e, [-0.8, 0.2, 1.0]) + 1
    return pd.Series(y, name="fear"), pd.DataFrame(x, columns=["a", "b"])


# Function-scoped on purpose (the fit takes milliseconds): mutmut runs, for a mutant, only
# the tests that called the mutated function during its stats run, and a module-scoped
# fit is called once, inside the first test that asks for it, so the later tests that
# check that fit's numbers would never be run against a mutant of the code behind it.
@pytest.fixture
def data():
    return _draw(1)


@pytest.fixture
def fit3(data):
    return SNPOrderedProbit(*data, order=3).fit()


def _raises(fn, *args, **kw) -> UserInputError:
    with pytest.raises(UserInputError) as err:
        fn(*args, **kw)
    return err.value


def test_refusals_name_the_input(data):
    y, x = data
    for bad in (-1, 1.5, True, "3"):
        err = _raises(SNPOrderedProbit, y, x, order=bad)
        assert str(err) == f"order must be a non-negative integer, got {bad!r}" and err.key == "order"
    assert SNPOrderedProbit(y, x, order=np.int64(2)).order == 2
    err = _raises(SNPOrderedProbit, y + 0.5, x)
    assert (str(err), err.key) == ("endog must hold integer category codes", "endog")
    err = _raises(SNPOrderedProbit, y, x, levels=[1, 3, 2, 4])
    assert (str(err), err.key) == ("levels must be increasing outcome values", "levels")
    err = _raises(SNPOrderedProbit, y, x, levels=[[1, 2], [3, 4]])
    assert err.key == "levels"
    err = _raises(SNPOrderedProbit, y.where(y != 4, 7), x, levels=[1, 2, 3, 4])
    assert (str(err), err.key) == ("endog 'fear' has values outside levels: [7.0]", "fear")
    err = _raises(SNPOrderedProbit, y.where(y != 2, 0), x, levels=[1, 2, 3, 4])
    assert str(err) == "endog 'fear' has values outside levels: [0.0]"
    model = SNPOrderedProbit(y, x, order=3)
    err = _raises(model.fit, n_starts=0)
    assert (str(err), err.key) == ("n_starts must be >= 1, got 0", "n_starts")
    err = _raises(model.fit, cov_type="hc0")
    assert str(err) == "cov_type must be auto/nonrobust/robust/cluster, got 'hc0'" and err.key == "cov_type"
    err = _raises(model.fit, cov_type="cluster")
    assert (str(err), err.key) == ("cov_type='cluster' needs groups", "groups")
    err = _raises(model.fit, start_params=np.zeros(3))
    assert (str(err), err.key) == ("start_params must have length 7", "start_params")
    err = _raises(select_snp_order, y, x, max_order=-1)
    assert (str(err), err.key) == ("max_order must be a non-negative integer, got -1", "max_order")
    err = _raises(select_snp_order, y, x, max_order=2.0)
    assert err.key == "max_order"
    err = _raises(select_snp_order, y, x, criterion="hqic")
    assert (str(err), err.key) == ("criterion must be 'bic', 'aic' or 'lr', got 'hqic'", "criterion")


def test_names_levels_and_codes(data):
    y, x = data
    m = SNPOrderedProbit(y * 10, x, order=2)
    assert m.param_names() == ["a", "b", "cut2", "cut3", "g1", "g2"]
    assert m.param_names(0) == ["a", "b", "cut1", "cut2", "cut3"]
    assert list(m.levels) == [10, 20, 30, 40] and m.n_cat == 4 and m.nobs == 400
    assert m.codes.tolist() == (y - 1).tolist()
    one = SNPOrderedProbit(pd.Series(np.ones(5)), x.iloc[:5], order=0)
    assert one.param_names() == ["a", "b", "cut1"]
    wide = SNPOrderedProbit(y, x, levels=[0, 1, 2, 3, 4, 5])
    assert wide.unobserved == [0.0, 5.0] and wide.n_cat == 6
    assert wide.codes.tolist() == y.tolist()


def test_failures_are_reported_with_their_message(data):
    y, x = data
    res = SNPOrderedProbit(pd.Series(np.full(50, 2)), x.iloc[:50]).fit()
    assert res.status == "failed" and res.status_message == "outcome has 1 observed category; need at least 2"
    assert list(res.params.index) == ["a", "b", "g1", "g2", "g3"] and res.params.isna().all()
    assert res.order == 3 and math.isnan(res.llf_oprobit) and math.isnan(res.moments["sd"])
    assert set(res.moments) == {"mean", "variance", "sd", "skewness", "kurtosis"}
    assert all(math.isnan(v) for v in res.moments.values()) and math.isnan(res.cut1_fixed)
    assert res.standardized_params.dtype == res.standardized_bse.dtype == res.cuts.dtype == float
    assert res.exog_names == ["a", "b"] and list(res.levels) == [2.0]
    empty = SNPOrderedProbit(pd.Series([np.nan, np.nan]), x.iloc[:2]).fit()
    assert empty.status_message == "outcome has 0 observed categories; need at least 2"
    gap = SNPOrderedProbit(y, x, levels=[1, 2, 3, 4, 5]).fit()
    assert gap.status == "failed"
    assert gap.status_message == "outcome level(s) [5.0] not observed: their cuts are not identified"
    assert gap.order == 3 and set(gap.moments) == {"mean", "variance", "sd", "skewness", "kurtosis"}
    assert math.isnan(gap.cut1_fixed) and math.isnan(gap.llf_oprobit) and list(gap.levels) == [1, 2, 3, 4, 5]
    # cuts out of order at the start and no iterations: zero probability at the "estimate"
    start = np.array([0.5, -0.3, 0.9, 0.1, 0.0, 0.0, 0.0])
    bad = SNPOrderedProbit(y, x, order=3).fit(start_params=start)
    assert (bad.status, bad.status_message) == ("failed", "zero probability at the estimate")
    assert not bad.converged and bad.params.isna().all()


def test_cov_types_and_the_sandwich_by_hand(data, fit3):
    y, x = data
    n = len(y)
    w = np.random.Generator(np.random.PCG64(4)).uniform(0.5, 2.0, n)
    groups = np.arange(n) // 4
    assert fit3.cov_type == "nonrobust"
    assert SNPOrderedProbit(y, x, order=3, weights=w).fit().cov_type == "robust"
    assert SNPOrderedProbit(y, x, order=3, groups=groups).fit().cov_type == "cluster"
    assert SNPOrderedProbit(y, x, order=3, weights=w, groups=groups).fit().cov_type == "cluster"
    res = SNPOrderedProbit(y, x, order=3, weights=w, groups=groups).fit()
    ll = _SNPLoglike(x.to_numpy(), y.to_numpy() - 1, w, 4, 3, res.cut1_fixed)
    _, score, hess = ll.evaluate_numpy(np.asarray(res.params))
    summed = pd.DataFrame(score * w[:, None]).groupby(groups).sum().to_numpy()
    g = len(np.unique(groups))
    bread = np.linalg.inv(-hess)
    cov = g / (g - 1) * bread @ summed.T @ summed @ bread
    np.testing.assert_allclose(res.cov_params().to_numpy(), cov, rtol=1e-6, atol=1e-12)
    # nonrobust: the inverse of the numpy twin's negative Hessian at the estimate
    ll0 = _SNPLoglike(x.to_numpy(), y.to_numpy() - 1, None, 4, 3, fit3.cut1_fixed)
    hess0 = ll0.evaluate_numpy(np.asarray(fit3.params))[2]
    np.testing.assert_allclose(fit3.cov_params().to_numpy(), np.linalg.inv(-hess0), rtol=1e-6, atol=1e-12)
    robust = SNPOrderedProbit(y, x, order=3).fit(cov_type="robust")
    s0 = ll0.evaluate_numpy(np.asarray(fit3.params))[1]
    b0 = np.linalg.inv(-hess0)
    np.testing.assert_allclose(robust.cov_params().to_numpy(), n / (n - 1) * b0 @ s0.T @ s0 @ b0,
                               rtol=1e-6, atol=1e-12)


def _standardized(p: np.ndarray, cut1: float) -> np.ndarray:
    """b / sd and (cuts - mean) / sd from the free parameters (a, b, cut2, cut3, g1..g3)."""
    mom = snp_moments(p[4:])
    cuts = np.concatenate([[cut1], p[2:4]])
    return np.concatenate([p[:2] / mom["sd"], (cuts - mom["mean"]) / mom["sd"]])


def test_standardized_estimates_and_delta_method_se(fit3):
    p = np.asarray(fit3.params)
    np.testing.assert_allclose(fit3.standardized_params, _standardized(p, fit3.cut1_fixed), rtol=1e-12)
    jac = np.empty((5, 7))
    for k in range(7):
        e = np.zeros(7)
        e[k] = 1e-6
        jac[:, k] = (_standardized(p + e, fit3.cut1_fixed) - _standardized(p - e, fit3.cut1_fixed)) / 2e-6
    se = np.sqrt(np.diag(jac @ fit3.cov_params().to_numpy() @ jac.T))
    got = fit3.standardized_bse.to_numpy()
    assert math.isnan(got[2])  # cut 1 is fixed: no SE reported
    np.testing.assert_allclose(got[[0, 1, 3, 4]], se[[0, 1, 3, 4]], rtol=1e-5)
    assert list(fit3.standardized_bse.index) == ["a", "b", "cut1", "cut2", "cut3"]
    mom = snp_moments(p[4:])
    assert fit3.moments == pytest.approx(mom, rel=1e-12)
    assert list(fit3.cuts) == [fit3.cut1_fixed, p[2], p[3]]


def test_lr_test_marginal_effects_and_summary(data, fit3):
    y, x = data
    op = SNPOrderedProbit(y, x, order=0).fit()
    assert fit3.llf_oprobit == pytest.approx(op.llf, rel=1e-10)
    assert fit3.cut1_fixed == pytest.approx(op.params["cut1"], rel=1e-8)
    np.testing.assert_allclose(fit3._oprobit_params, op.params, rtol=1e-8)
    lr = fit3.lr_test()
    assert lr == {"statistic": pytest.approx(2 * (fit3.llf - op.llf), rel=1e-9), "df": 1.0,
                  "pvalue": pytest.approx(stats.chi2.sf(2 * (fit3.llf - op.llf), 1), rel=1e-6)}
    fit4 = SNPOrderedProbit(y, x, order=4).fit(oprobit=op)
    lr4 = fit4.lr_test()
    assert lr4["df"] == 2.0 and lr4["pvalue"] == pytest.approx(stats.chi2.sf(lr4["statistic"], 2), rel=1e-12)
    assert math.isnan(SNPOrderedProbit(y, x, order=2).fit().lr_test()["pvalue"])
    # marginal effects: d P(y = j | x) / d x_k by central differences of the CDF
    g = fit3.params[["g1", "g2", "g3"]].to_numpy()
    b = fit3.params[["a", "b"]].to_numpy()
    a = np.concatenate([[-np.inf], fit3.cuts.to_numpy(), [np.inf]])
    x0 = np.array([0.3, 1.0])

    def probs(xv):
        return np.diff(snp_cdf(a - xv @ b, g))

    me = fit3.marginal_effects(x0)
    for k in range(2):
        e = np.zeros(2)
        e[k] = 1e-6
        np.testing.assert_allclose(me.iloc[k], (probs(x0 + e) - probs(x0 - e)) / 2e-6, atol=1e-7)
    assert list(me.columns) == [1, 2, 3, 4] and list(me.index) == ["a", "b"]
    me0 = op.marginal_effects(x0)
    bo = op.params[["a", "b"]].to_numpy()
    ao = np.concatenate([[-np.inf], op.params[["cut1", "cut2", "cut3"]].to_numpy(), [np.inf]])
    dens = stats.norm.pdf(ao - x0 @ bo)
    np.testing.assert_allclose(me0.to_numpy(), -np.outer(bo, np.diff(dens)), rtol=1e-9)
    mom = fit3.moments
    assert fit3._summary_header()[-1] == (
        f"Order K=3  cut1 fixed at {fit3.cut1_fixed:.4f}  error mean {mom['mean']:.3f} "
        f"sd {mom['sd']:.3f} skew {mom['skewness']:.3f} kurt {mom['kurtosis']:.3f}  BIC {fit3.bic:.2f}")
    assert op._summary_header()[-1] == f"Order K=0 (ordered probit)  BIC {op.bic:.2f}"
    assert fit3._summary_header()[0] == "SNP ordered probit results"


def test_oprobit_start_reuse_and_a_failed_start(data, fit3):
    y, x = data
    model = SNPOrderedProbit(y, x, order=3)
    op = SNPOrderedProbit(y, x, order=0).fit()
    again = model.fit(oprobit=op)
    np.testing.assert_allclose(again.params, fit3.params, rtol=1e-7, atol=1e-9)
    assert again.llf_oprobit == op.llf
    ignored = model.fit(oprobit=SNPOrderedProbit(y, x.assign(c=1.5), order=0).fit())  # wrong size
    np.testing.assert_allclose(ignored.params, fit3.params, rtol=1e-7, atol=1e-9)
    # an ordered-probit start that did not converge makes the SNP fit not converged
    codes = y.to_numpy() - 1
    start = OProbitStart(op._free_params, op.llf, False, "iteration limit reached")
    arr = fit_snp_arrays(x.to_numpy(), codes, 4, 3, oprobit=start)
    assert (arr.converged, arr.status) == (False, "not_converged")
    assert arr.message == "ordered-probit start did not converge (iteration limit reached); "
    assert arr.op_llf == op.llf and arr.op is start
    ok = fit_snp_arrays(x.to_numpy(), codes, 4, 3)
    np.testing.assert_allclose(ok.params, fit3.params, rtol=1e-7, atol=1e-9)
    assert (ok.status, ok.message, ok.converged) == ("ok", "", True)
    assert ok.llf == pytest.approx(fit3.llf, rel=1e-12) and ok.n_iter == fit3.n_iter
    assert isinstance(ok.n_iter, int) and ok.n_iter > 0


def test_newton_decrement_and_the_trust_region_fallback(data, fit3):
    y, x = data
    ll = _SNPLoglike(x.to_numpy(), y.to_numpy() - 1, None, 4, 3, fit3.cut1_fixed)
    p = np.asarray(fit3.params) + 0.01
    _, grad, hess = ll.newton_eval(p)
    assert _newton_decrement(ll, p) == pytest.approx(0.5 * grad @ np.linalg.solve(-hess, grad), rel=1e-9)
    assert _newton_decrement(ll, np.asarray(fit3.params)) < NEWTON_TOL
    bad = np.asarray(fit3.params).copy()
    bad[2], bad[3] = 2.0, 0.0  # cut3 below cut2
    assert _newton_decrement(ll, bad) == np.inf
    # nll adaptors: mean negative log-likelihood, gradient and Hessian
    llf, score, hess_np = ll.evaluate_numpy(p)
    assert ll.nll(p) == pytest.approx(-llf / len(y), rel=1e-12)
    np.testing.assert_allclose(ll.nll_grad(p), -score.sum(axis=0) / len(y), rtol=1e-9)
    np.testing.assert_allclose(ll.nll_hess(p), -hess_np / len(y), rtol=1e-9)
    assert ll.nll(bad) == np.inf
    # one iteration each: Newton stops, trust-exact takes over and stops too; both named
    x_hat, conv, n_iter, msg = _maximize_snp(ll, p + 0.2, 1, 1e-10)
    assert not conv and n_iter == 2
    assert msg.startswith("Newton: iteration limit reached; trust-exact: ")
    x_hat, conv, n_iter, msg = _maximize_snp(ll, p, 200, 1e-10)
    assert conv and msg == "" and n_iter < 20
    np.testing.assert_allclose(x_hat, fit3.params, rtol=1e-6, atol=1e-8)
    x_hat, conv, n_iter, msg = _maximize_snp(ll, bad, 200, 1e-10)
    assert (conv, n_iter, msg) == (False, 0, "Newton: log-likelihood not finite at start")
    np.testing.assert_array_equal(x_hat, bad)


def test_select_order_criteria(data):
    y, x = data
    sel = select_snp_order(y, x, max_order=3, criterion="aic")
    table = sel["table"]
    assert list(table.columns) == ["order", "llf", "df_model", "aic", "bic", "status"]
    assert sel["order"] == int(table.loc[table["aic"].idxmin(), "order"])
    np.testing.assert_allclose(table["aic"], -2 * table["llf"] + 2 * table["df_model"], rtol=1e-12)
    np.testing.assert_allclose(table["bic"], -2 * table["llf"] + table["df_model"] * np.log(400), rtol=1e-12)
    assert sorted(sel["fits"]) == [0, 1, 2, 3]
    floor = select_snp_order(y, x, max_order=3, criterion="bic", min_order=3)
    assert floor["order"] == 3
    lr = select_snp_order(y, x, max_order=3, criterion="lr", min_order=2)
    llf = table.set_index("order")["llf"]
    crit = stats.chi2.ppf(0.95, 1)
    expected = max([k for k in (2, 3) if 2 * (llf[k] - llf[k - 1]) > crit] or [2])
    assert lr["order"] == expected
    with pytest.raises(UserInputError, match="missing='raise'"):
        select_snp_order(y.where(y.index != 0), x, max_order=0, missing="raise")
    zero = select_snp_order(y, x, max_order=0)
    assert zero["order"] == 0 and len(zero["table"]) == 1


def test_select_order_bic_and_lr_differ_here_and_weights_are_used():
    y, x = _draw(9, 200)
    by_bic = select_snp_order(y, x, max_order=4)
    by_lr = select_snp_order(y, x, max_order=4, criterion="lr")
    table = by_bic["table"]
    llf = table.set_index("order")["llf"]
    lr_rule = max([k for k in range(1, 5) if 2 * (llf[k] - llf[k - 1]) > stats.chi2.ppf(0.95, 1)] or [0])
    assert by_bic["order"] == int(table.loc[table["bic"].idxmin(), "order"])
    assert by_lr["order"] == lr_rule
    assert by_bic["order"] != by_lr["order"]  # a sample where the criteria disagree
    w = np.random.Generator(np.random.PCG64(9)).uniform(0.5, 2.0, len(y))
    sel = select_snp_order(y, x, max_order=1, weights=w)
    for k in (0, 1):  # K = 1 starts where its default start is: the same fit
        ref = SNPOrderedProbit(y, x, order=k, weights=w).fit(
            **({} if k == 0 else {"oprobit": sel["fits"][0]}))
        assert sel["fits"][k].llf == pytest.approx(ref.llf, rel=1e-8, abs=1e-8)
        assert sel["fits"][k].cov_type == "robust"


def test_array_fit_failure_fields_and_joined_messages(data):
    y, x = data
    codes = y.to_numpy() - 1
    bad = fit_snp_arrays(x.to_numpy(), codes, 4, 3, start_params=np.array([0.5, -0.3, 0.9, 0.1, 0, 0, 0]))
    assert (bad.status, bad.message, bad.converged, bad.score_failed) == (
        "failed", "zero probability at the estimate", False, True)
    assert bad.moments == {} and bad.n_iter == 0 and np.isnan(bad.cov).all() and bad.cov.shape == (7, 7)
    # a start that did not converge and a singular Hessian: both messages, joined
    xd = np.column_stack([x.to_numpy(), 2 * x["a"].to_numpy()])
    op = fit_snp_arrays(xd, codes, 4, 0)
    both = fit_snp_arrays(xd, codes, 4, 3, oprobit=OProbitStart(op.params, op.llf, False, "stopped"))
    assert both.status == "not_converged"
    assert both.message.startswith("ordered-probit start did not converge (stopped); ")
    assert "; negative Hessian not positive definite" in both.message
    assert math.isnan(SNPOrderedProbit(y, x, order=0).fit().cut1_fixed)
    with pytest.raises(UserInputError) as err:
        SNPOrderedProbit(pd.Series(np.arange(10.0) + 10, name="fear"), x.iloc[:10], levels=[1, 2])
    assert str(err.value) == "endog 'fear' has values outside levels: [10.0, 11.0, 12.0, 13.0, 14.0]"


def test_select_order_warm_starts_each_order_from_the_previous_solution():
    """Documented: order K starts at the order-(K-1) solution with g_K = 0.01. On this
    sample that start ends at a higher maximum of the (multimodal) K = 4 likelihood than
    the default start from the ordered probit."""
    y, x = _draw(21, 300)
    sel = select_snp_order(y, x, max_order=4)
    fits = sel["fits"]
    warm = SNPOrderedProbit(y, x, order=4).fit(
        start_params=np.concatenate([fits[3]._free_params, [0.01]]), oprobit=fits[0])
    cold = SNPOrderedProbit(y, x, order=4).fit(oprobit=fits[0])
    assert fits[4].llf == pytest.approx(warm.llf, rel=1e-10)
    assert warm.llf > cold.llf + 0.1
    assert np.all(np.diff(sel["table"]["llf"]) >= -1e-9)


def test_select_order_refit_guard_starts_at_the_previous_solution(data, monkeypatch):
    """When the warm start (g_K = 0.01) of order K ends below order K-1's lnL, the guard
    refits from order K-1's solution with g_K = 0 exactly: the same likelihood as order
    K-1, so the refit cannot end lower and lnL stays non-decreasing in K. The warm start
    at order 2 is sabotaged here (its lnL set to -inf) to reach the guard."""
    import copy

    from sim_refugee.estimators import snp as snp_module

    real_fit = SNPOrderedProbit.fit
    starts: list[tuple[int, np.ndarray]] = []

    def fit(self, start_params=None, **kw):
        res = real_fit(self, start_params=start_params, **kw)
        if start_params is not None:
            starts.append((self.order, np.asarray(start_params, dtype=float).copy()))
            if self.order == 2 and start_params[-1] == snp_module.DEFAULT_START_G:
                res = copy.copy(res)
                res.llf = -np.inf
        return res

    monkeypatch.setattr(SNPOrderedProbit, "fit", fit)
    sel = select_snp_order(*data, max_order=2)
    order2 = [s for k, s in starts if k == 2]
    assert len(order2) == 2  # the warm start, then the guard's refit
    prev = sel["fits"][1]._free_params
    np.testing.assert_array_equal(order2[0], np.concatenate([prev, [snp_module.DEFAULT_START_G]]))
    np.testing.assert_array_equal(order2[1], np.concatenate([prev, [0.0]]))
    assert np.isfinite(sel["fits"][2].llf)
    assert sel["fits"][2].llf >= sel["fits"][1].llf - 1e-9


def _recording_fit(monkeypatch, sabotage):
    """Patch SNPOrderedProbit.fit to record (order, start_params, oprobit, result) of every
    call; ``sabotage(order, start_params, result)`` may return a changed copy."""
    real_fit = SNPOrderedProbit.fit
    calls: list[tuple] = []

    def fit(self, start_params=None, **kw):
        res = real_fit(self, start_params=start_params, **kw)
        res = sabotage(self.order, start_params, res) or res
        calls.append((self.order, start_params, kw.get("oprobit"), res))
        return res

    monkeypatch.setattr(SNPOrderedProbit, "fit", fit)
    return calls


def _with(res, **attrs):
    import copy

    res = copy.copy(res)
    for k, v in attrs.items():
        setattr(res, k, v)
    return res


@pytest.mark.parametrize("gap, refit", [(5e-10, False), (1e-6, True)])
def test_select_order_guard_tolerance(data, monkeypatch, gap, refit):
    """The guard refits only when the warm start ends more than 1e-9 below order K-1."""
    llf1 = SNPOrderedProbit(*data, order=1).fit().llf

    def sabotage(order, start, res):
        if order == 2 and start is not None and start[-1] != 0.0:
            return _with(res, llf=llf1 - gap)
        return None

    calls = _recording_fit(monkeypatch, sabotage)
    select_snp_order(*data, max_order=2)
    assert len([c for c in calls if c[0] == 2]) == (2 if refit else 1)


@pytest.mark.parametrize("refit_better", [True, False])
def test_select_order_guard_keeps_the_better_of_the_two(data, monkeypatch, refit_better):
    """After a refit the higher lnL is kept: the refit's if it is higher, else the warm
    start's (a finite lnL, only just below order K-1's)."""
    llf1 = SNPOrderedProbit(*data, order=1).fit().llf

    def sabotage(order, start, res):
        if order == 2 and start is not None:
            if start[-1] != 0.0:
                return _with(res, llf=llf1 - 1e-3)
            if not refit_better:
                return _with(res, llf=llf1 - 1.0)
        return None

    calls = _recording_fit(monkeypatch, sabotage)
    sel = select_snp_order(*data, max_order=2)
    warm, refit = [c[3] for c in calls if c[0] == 2]
    assert sel["fits"][2] is (refit if refit_better else warm)


def test_select_order_after_a_failed_fit_starts_afresh_from_the_ordered_probit(data, monkeypatch):
    """An order whose predecessor failed is fitted from the default start (no warm start
    from a failed solution), reusing the order-0 ordered probit."""

    def sabotage(order, start, res):
        return _with(res, status="failed") if order == 1 else None

    calls = _recording_fit(monkeypatch, sabotage)
    sel = select_snp_order(*data, max_order=2)
    (order2,) = [c for c in calls if c[0] == 2]
    assert order2[1] is None and order2[2] is sel["fits"][0]
    assert sel["fits"][2].status == "ok"
    assert all(c[2] is sel["fits"][0] for c in calls if c[0] > 0)


def test_a_numerical_failure_inside_the_fit_is_a_failed_result(data, monkeypatch):
    """A LinAlgError (or ValueError, FloatingPointError) raised by the optimiser becomes a
    failed SNP result that names the exception, keeps the parameter names, nobs and the
    SNP fields, and is an SNPOrderedProbitResults like any other."""
    from sim_refugee.estimators import snp as snp_module
    from sim_refugee.estimators.snp import SNPOrderedProbitResults

    def boom(*args, **kw):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(snp_module, "fit_snp_arrays", boom)
    res = SNPOrderedProbit(*data, order=2).fit()
    assert type(res) is SNPOrderedProbitResults
    assert (res.status, res.status_message) == ("failed", "LinAlgError: Singular matrix")
    assert list(res.params.index) == ["a", "b", "cut2", "cut3", "g1", "g2"] and res.params.isna().all()
    assert res.nobs == 400 and res.order == 2 and not res.converged
    assert math.isnan(res.cut1_fixed) and set(res.moments) == {"mean", "variance", "sd", "skewness", "kurtosis"}


def test_fit_reports_status_message_cov_type_and_convergence(data):
    """An ok fit has an empty message; the covariance type asked for is the one reported;
    a fit stopped after one iteration says it did not converge."""
    ok = SNPOrderedProbit(*data, order=2).fit(cov_type="robust")
    assert (ok.status, ok.status_message, ok.cov_type, ok.converged) == ("ok", "", "robust", True)
    short = SNPOrderedProbit(*data, order=2).fit(maxiter=1)
    assert short.status == "not_converged" and short.converged is False and short.status_message


def test_a_binary_outcome_is_a_probit(data):
    """Two categories are enough: order 0 on a 0/1 outcome is statsmodels' probit with the
    cut as minus its constant."""
    import statsmodels.api as sm

    y, x = data
    yb = (y > 2).astype(int)
    res = SNPOrderedProbit(yb, x, order=0).fit()
    ref = sm.Probit(yb, sm.add_constant(x)).fit(disp=0)
    assert res.status == "ok"
    np.testing.assert_allclose(res.params[["a", "b"]], ref.params[["a", "b"]], rtol=1e-6)
    assert res.params["cut1"] == pytest.approx(-ref.params["const"], rel=1e-6)
    assert res.llf == pytest.approx(ref.llf, rel=1e-10)


def test_array_fit_defaults_failure_fields_and_fixed_cut(data, monkeypatch):
    """fit_snp_arrays: nonrobust by default (the inverse negative Hessian, not a sandwich);
    a zero-probability estimate still returns the start, its lnL and the ordered-probit
    pre-fit (the suite reads them); order 1 also reports no SE for the fixed cut 1."""
    from sim_refugee.estimators.covariance import invert_neg_hessian

    y, x = data
    codes, xa = y.to_numpy() - 1, x.to_numpy()
    default = fit_snp_arrays(xa, codes, 4, 2)
    ll = _SNPLoglike(xa, codes, None, 4, 2, float(default.cuts[0]))
    np.testing.assert_allclose(default.cov, invert_neg_hessian(ll.evaluate_numpy(default.params)[2])[0],
                               rtol=1e-6, atol=1e-12)
    assert not np.allclose(default.cov, fit_snp_arrays(xa, codes, 4, 2, cov_type="robust").cov, rtol=1e-3)
    start = np.array([0.5, -0.3, 0.9, 0.1, 0, 0, 0])
    bad = fit_snp_arrays(xa, codes, 4, 3, start_params=start)
    op = fit_snp_arrays(xa, codes, 4, 0)
    np.testing.assert_array_equal(bad.params, start)
    assert bad.llf == -np.inf and bad.cuts.size == bad.std_params.size == bad.std_bse.size == 0
    np.testing.assert_allclose(bad.op_params, op.params, rtol=1e-10)
    assert bad.op_llf == pytest.approx(op.llf, rel=1e-12)
    assert isinstance(bad.op, OProbitStart) and bad.op.llf == bad.op_llf
    one = fit_snp_arrays(xa, codes, 4, 1)
    assert one.status == "ok" and math.isnan(one.std_bse[2]) and np.isfinite(one.std_bse[[0, 1, 3, 4]]).all()


def test_array_fit_flags_a_covariance_that_is_not_psd(data, monkeypatch):
    from sim_refugee.estimators import snp as snp_module

    y, x = data
    monkeypatch.setattr(snp_module, "check_psd", lambda cov: (False, -0.25))
    res = fit_snp_arrays(x.to_numpy(), y.to_numpy() - 1, 4, 2)
    assert (res.status, res.message) == ("non_psd_cov", "covariance not positive semi-definite (min eigenvalue -0.25)")


@pytest.mark.parametrize("n_starts", [1, 2, 3])
def test_array_fit_tries_n_starts_starting_points(data, monkeypatch, n_starts):
    """n_starts = s maximises from the default start and the first s - 1 alternatives."""
    from sim_refugee.estimators import snp as snp_module

    y, x = data
    real = snp_module._maximize_snp
    starts = []

    def spy(ll, x0, maxiter, gtol):
        starts.append(np.asarray(x0).copy())
        return real(ll, x0, maxiter, gtol)

    monkeypatch.setattr(snp_module, "_maximize_snp", spy)
    fit_snp_arrays(x.to_numpy(), y.to_numpy() - 1, 4, 2, n_starts=n_starts)
    assert len(starts) == n_starts
    alts = snp_module.alternative_starts(2)
    for s, g in zip(starts[1:], alts[1:n_starts], strict=True):
        np.testing.assert_array_equal(s[-2:], g)


def test_trust_exact_takes_over_when_newton_stops(data, monkeypatch):
    """Newton cut to one iteration: trust-exact continues from its point and reaches the
    same maximum, reported converged with an empty message and the iterations of both."""
    from sim_refugee.estimators import snp as snp_module

    y, x = data
    ref = SNPOrderedProbit(y, x, order=2).fit()
    op = fit_snp_arrays(x.to_numpy(), y.to_numpy() - 1, 4, 0)  # the pre-fit, before the patch
    real = snp_module.newton_maximize
    monkeypatch.setattr(snp_module, "newton_maximize", lambda f, x0, **kw: real(f, x0, **{**kw, "maxiter": 1}))
    res = fit_snp_arrays(x.to_numpy(), y.to_numpy() - 1, 4, 2, oprobit=OProbitStart(op.params, op.llf, True))
    assert (res.converged, res.status, res.message) == (True, "ok", "")
    np.testing.assert_allclose(res.params, ref.params.to_numpy(), rtol=1e-4, atol=1e-6)
    assert res.llf == pytest.approx(ref.llf, rel=1e-9) and res.n_iter > 1


def test_model_names_and_level_checks(data):
    y, x = data
    assert SNPOrderedProbit(y, x).endog_name == "fear"
    err = _raises(SNPOrderedProbit, y, x, levels=[1, 2, 2, 3, 4])
    assert (str(err), err.key) == ("levels must be increasing outcome values", "levels")
    once = y.copy()
    once[:] = np.where(np.arange(len(y)) == 0, 4, np.minimum(y, 3))  # level 4 observed exactly once
    res = SNPOrderedProbit(once, x, order=0, levels=[1, 2, 3, 4]).fit()
    assert res.status != "failed" and list(res.cuts.index) == ["cut1", "cut2", "cut3"]


@pytest.mark.parametrize("order", [0, 1, 2])
def test_lr_test_has_no_p_value_without_degrees_of_freedom(data, order):
    """sneop's df = K - 2: none for K <= 2, so no p-value (NaN), only the statistic."""
    res = SNPOrderedProbit(*data, order=order).fit()
    lr = res.lr_test()
    assert lr["df"] == order - 2 and math.isnan(lr["pvalue"])
    assert lr["statistic"] == pytest.approx(2 * (res.llf - res.llf_oprobit), abs=1e-9)


def test_model_fit_hands_a_usable_prefit_and_start_g_to_the_array_fit(data, monkeypatch):
    """A finished ordered probit of the right size is passed on (its solution, lnL,
    convergence and message), a failed or wrong-size one is not (refitted instead), and
    start_g reaches the array fit."""
    from sim_refugee.estimators import snp as snp_module
    from sim_refugee.estimators.results import failed_results
    from sim_refugee.estimators.snp import SNPOrderedProbitResults

    y, x = data
    op = SNPOrderedProbit(y, x, order=0).fit()
    real = snp_module.fit_snp_arrays
    seen = []

    def spy(*args, **kw):
        seen.append(kw)
        return real(*args, **kw)

    monkeypatch.setattr(snp_module, "fit_snp_arrays", spy)
    model = SNPOrderedProbit(y, x, order=2)
    model.fit(oprobit=op, start_g=0.05)
    passed = seen[-1]["oprobit"]
    assert isinstance(passed, OProbitStart) and seen[-1]["start_g"] == 0.05
    np.testing.assert_array_equal(passed.params, op._free_params)
    assert (passed.llf, passed.converged, passed.message) == (op.llf, op.converged, op.status_message)
    names = ["a", "b", "cut1", "cut2", "cut3"]
    failed = failed_results(SNPOrderedProbitResults, names, 400, "x", _free_params=np.zeros(5))
    wrong = SNPOrderedProbit(y, x.assign(c=1.5), order=0).fit()
    for bad in (failed, wrong, None):
        model.fit(oprobit=bad)
        assert seen[-1]["oprobit"] is None
    SNPOrderedProbit(y, x, order=0).fit(oprobit=op)  # order 0 refits: nothing to reuse
    assert seen[-1]["oprobit"] is None


@pytest.mark.parametrize("order", [1, 2])
def test_cut1_is_fixed_at_the_ordered_probit_estimate_for_every_positive_order(data, order):
    y, x = data
    op = SNPOrderedProbit(y, x, order=0).fit()
    res = SNPOrderedProbit(y, x, order=order).fit()
    assert res.cut1_fixed == pytest.approx(op.params["cut1"], rel=1e-8)
    assert res.cuts["cut1"] == res.cut1_fixed


@pytest.mark.parametrize("order", [1, 2])
def test_delta_method_se_of_standardized_estimates_at_low_orders(data, order):
    """As for K = 3 above: the analytic delta method against a numerical Jacobian of
    (b / sd, (cuts - mean) / sd), here at K = 1 and 2 (the g-columns of the Jacobian)."""
    res = SNPOrderedProbit(*data, order=order).fit()
    p = np.asarray(res.params)
    jac = np.empty((5, len(p)))
    for k in range(len(p)):
        e = np.zeros(len(p))
        e[k] = 1e-6
        jac[:, k] = (_standardized(p + e, res.cut1_fixed) - _standardized(p - e, res.cut1_fixed)) / 2e-6
    se = np.sqrt(np.diag(jac @ res.cov_params().to_numpy() @ jac.T))
    np.testing.assert_allclose(res.standardized_bse.to_numpy()[[0, 1, 3, 4]], se[[0, 1, 3, 4]], rtol=1e-5)


def test_input_messages_name_the_model_arguments(data):
    y, x = data
    err = _raises(SNPOrderedProbit, pd.DataFrame({"a": y, "b": y}), x)
    assert (str(err), err.key) == ("endog must be one column, got 2", "endog")
    err = _raises(SNPOrderedProbit, y, x.assign(b="x"))
    assert str(err).startswith("exog column 'b' must be numeric") and err.key == "b"
    assert SNPOrderedProbit(y.to_numpy(), x).endog_name == "y"  # an unnamed outcome is 'y'


def test_robust_covariance_ignores_groups_unless_clustered(data):
    """cov_type='robust' is the observation-level sandwich even when groups are given;
    only 'cluster' (the default with groups) uses them."""
    y, x = data
    groups = np.arange(len(y)) % 40
    plain = SNPOrderedProbit(y, x, order=2).fit(cov_type="robust")
    with_groups = SNPOrderedProbit(y, x, order=2, groups=groups).fit(cov_type="robust")
    np.testing.assert_allclose(with_groups.bse, plain.bse, rtol=1e-10)
    clustered = SNPOrderedProbit(y, x, order=2, groups=groups).fit()
    assert clustered.cov_type == "cluster" and not np.allclose(clustered.bse, plain.bse, rtol=1e-3)
