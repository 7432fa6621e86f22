"""Every measure of diagnosis/measures.py on small hand-made cases, each expected value
computed here with numpy from its definition (Morris, White & Crowther 2019, Table 6;
Gelman & Carlin 2014 for type S), not by the module. The cases were chosen so that a
changed sign, factor, comparison or mask in a formula changes a number (mutation
testing, README "Testing"): failed and unused replications, a negative and a zero
estimand, wrong-sign rejections, another alpha, several populations.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

from sim_refugee.diagnosis.measures import (
    CLAIM_MEASURES,
    PAIRED_MEASURES,
    TERM_MEASURES,
    Z975,
    condition_max_mcse,
    diagnose,
    term_measures,
)


def _tm(est, se, pval, theta, use=None, ok=None, basis="successes", **kw):
    n = len(est)
    use = np.ones(n, bool) if use is None else np.asarray(use)
    ok = np.ones(n, bool) if ok is None else np.asarray(ok)
    v, m = term_measures(np.asarray(est, float), np.asarray(se, float),
                         np.asarray(pval, float), np.broadcast_to(np.asarray(theta, float), (n,)),
                         use, ok, basis, **kw)
    return dict(zip(TERM_MEASURES, v, strict=True)), dict(zip(TERM_MEASURES, m, strict=True))


def test_type_s_counts_wrong_sign_rejections_only():
    # theta > 0: rejections at 0, 1, 2, 4 (p < 0.05); wrong sign (est < 0) at 1 and 4;
    # replication 3 has the wrong sign but is not rejected
    est = np.array([0.5, -0.4, 0.3, -0.2, -0.6, 0.1])
    pval = np.array([0.01, 0.02, 0.001, 0.5, 0.04, 0.3])
    se = np.full(6, 0.2)
    v, m = _tm(est, se, pval, 0.3)
    assert v["power"] == pytest.approx(4 / 6)
    assert m["power"] == pytest.approx(np.sqrt(4 / 6 * 2 / 6 / 6))
    assert v["type_s"] == pytest.approx(2 / 4)
    assert m["type_s"] == pytest.approx(np.sqrt(0.5 * 0.5 / 4))
    # theta < 0: the positive rejected estimates are the wrong-sign ones (0 and 2)
    v, _ = _tm(est * np.array([1, 1, 1, 1, 0.5, 1]), se, pval, -0.3)
    assert v["type_s"] == pytest.approx(2 / 4)
    # theta = 0: no sign to get wrong
    v, _ = _tm(est, se, pval, 0.0)
    assert v["type_s"] == 0.0
    # no rejection at all: type S undefined
    v, _ = _tm(est, se, np.full(6, 0.5), 0.3)
    assert np.isnan(v["type_s"])


def test_every_continuous_measure_and_mcse_by_hand():
    rng = np.random.default_rng(15)
    n = 40
    theta = -0.8
    est = theta + 0.1 + rng.normal(0, 0.25, n)
    se = rng.uniform(0.15, 0.35, n)
    pval = rng.uniform(0, 0.1, n)
    v, m = _tm(est, se, pval, theta)
    e = est - theta
    k = n
    assert v["n_sim"] == k and m["n_sim"] == 0
    assert v["estimand"] == theta and np.isnan(m["estimand"])
    assert v["mean_estimate"] == pytest.approx(est.mean(), rel=1e-13)
    assert m["mean_estimate"] == pytest.approx(est.std(ddof=1) / np.sqrt(k), rel=1e-12)
    assert v["bias"] == pytest.approx(e.mean(), rel=1e-12)
    assert v["rel_bias"] == pytest.approx(e.mean() / theta, rel=1e-12)
    assert m["rel_bias"] == pytest.approx(e.std(ddof=1) / np.sqrt(k) / abs(theta), rel=1e-12)
    emp = e.std(ddof=1)
    mod = np.sqrt(np.mean(se**2))
    v_s2 = np.var(se**2, ddof=1)
    assert v["se_ratio"] == pytest.approx(mod / emp, rel=1e-12)
    assert m["se_ratio"] == pytest.approx(
        mod / emp * np.sqrt(v_s2 / (4 * k * mod**4) + 1 / (2 * (k - 1))), rel=1e-12)
    assert m["mod_se"] == pytest.approx(np.sqrt(v_s2 / (4 * k * mod**2)), rel=1e-12)
    assert v["emp_se"] == pytest.approx(emp, rel=1e-12)
    assert m["emp_se"] == pytest.approx(emp / np.sqrt(2 * (k - 1)), rel=1e-12)
    assert v["mod_se"] == pytest.approx(mod, rel=1e-12)
    mse = np.mean(e**2)
    mc_mse = np.sqrt(np.var(e**2, ddof=1) / k)
    assert v["rmse"] == pytest.approx(np.sqrt(mse), rel=1e-12)
    assert m["rmse"] == pytest.approx(mc_mse / (2 * np.sqrt(mse)), rel=1e-12)
    cov = np.mean(np.abs(e) <= Z975 * se)
    assert 0 < cov < 1
    assert v["coverage"] == pytest.approx(cov)
    assert v["failure_rate"] == 0 and m["failure_rate"] == 0


def test_zero_estimand_has_no_relative_bias():
    v, m = _tm([0.1, -0.2, 0.3], [0.1, 0.1, 0.1], [0.5, 0.5, 0.5], 0.0)
    assert np.isnan(v["rel_bias"]) and np.isnan(m["rel_bias"])
    assert v["bias"] == pytest.approx(0.2 / 3)


def test_coverage_is_inclusive_at_the_bound_and_follows_alpha():
    # |e| exactly 1.96 s covers; alpha = 0.10 uses z = 1.645 and p < 0.10
    se = np.array([1.0, 1.0, 1.0, 1.0])
    est = np.array([Z975, 1.7, 1.6, 0.5])
    pval = np.array([0.05, 0.07, 0.2, 0.099999])
    v, _ = _tm(est, se, pval, 0.0)
    assert v["coverage"] == pytest.approx(1.0)
    assert v["power"] == 0.0  # p < 0.05 strictly
    v, m = _tm(est, se, pval, 0.0, alpha=0.10)
    z90 = norm.isf(0.05)
    assert v["coverage"] == pytest.approx(np.mean(np.abs(est) <= z90))  # 2 of 4
    assert v["coverage"] == pytest.approx(0.5)
    assert v["power"] == pytest.approx(3 / 4)
    assert m["coverage"] == pytest.approx(np.sqrt(0.25 / 4))


def test_failed_and_unused_replications_on_both_bases():
    est = np.array([1.2, 0.9, np.nan, 1.4, 5.0, 1.1])
    se = np.array([0.2, 0.2, np.nan, 0.2, 0.2, 0.2])
    pval = np.array([0.01, 0.2, np.nan, 0.01, 0.001, 0.04])
    ok = np.array([True, True, False, True, False, True])  # 4: finite but failed fit
    use = np.array([True, True, True, True, True, False])  # 5: not run
    theta = 1.0
    se = np.array([0.2, 0.25, np.nan, 0.3, 0.5, 0.9])
    v, m = _tm(est, se, pval, theta, use, ok, "successes")
    good = np.array([0, 1, 3])
    assert v["mod_se"] == pytest.approx(np.sqrt(np.mean(se[good] ** 2)), rel=1e-12)
    e = est[good] - theta
    assert v["n_sim"] == 3
    assert v["bias"] == pytest.approx(e.mean())
    assert v["power"] == pytest.approx(2 / 3)
    assert v["coverage"] == pytest.approx(np.mean(np.abs(e) <= Z975 * se[good]))
    assert v["failure_rate"] == pytest.approx(2 / 5)
    assert m["failure_rate"] == pytest.approx(np.sqrt(0.4 * 0.6 / 5))
    # "all": a used replication without an estimate makes the continuous measures NaN,
    # and counts as neither covering nor rejecting
    v, _ = _tm(est, se, pval, theta, use, ok, "all")
    assert v["n_sim"] == 4  # the finite estimates among the used replications
    assert np.isnan(v["bias"]) and np.isnan(v["emp_se"]) and np.isnan(v["rmse"])
    assert v["coverage"] == pytest.approx(
        np.sum(np.abs(est[[0, 1, 3]] - 1) <= Z975 * se[[0, 1, 3]]) / 5)
    assert v["power"] == pytest.approx(3 / 5)  # the failed fit's p = 0.001 counts in "all"
    # "all" with every used estimate finite: the failed fit's estimate enters
    v, _ = _tm(est[[0, 1, 3, 4]], se[[0, 1, 3, 4]], pval[[0, 1, 3, 4]], theta,
               ok=ok[[0, 1, 3, 4]], basis="all")
    assert v["bias"] == pytest.approx(np.mean(est[[0, 1, 3, 4]] - 1))
    v, _ = _tm(est[[0, 1, 3, 4]], se[[0, 1, 3, 4]], pval[[0, 1, 3, 4]], theta,
               ok=ok[[0, 1, 3, 4]], basis="successes")
    assert v["bias"] == pytest.approx(np.mean(est[[0, 1, 3]] - 1))


def test_leading_axes_are_kept_and_one_replication_has_no_spread():
    est = np.array([[1.0, 2.0, 4.0], [0.5, np.nan, np.nan]])
    se = np.ones((2, 3))
    v, m = term_measures(est, se, np.full((2, 3), 0.5), np.zeros((2, 3)), np.ones((2, 3), bool),
                         np.ones((2, 3), bool), "successes")
    assert v.shape == (2, len(TERM_MEASURES))
    i = {k: j for j, k in enumerate(TERM_MEASURES)}
    assert v[0, i["bias"]] == pytest.approx(7 / 3)
    assert v[0, i["emp_se"]] == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert v[1, i["n_sim"]] == 1 and v[1, i["bias"]] == 0.5
    assert np.isnan(v[1, i["emp_se"]]) and np.isnan(m[1, i["bias"]])
    # the model SE's MCSE counts the replications of its own row only (3, not 4)
    se2 = np.array([[1.0, 4.0, 9.0], [1.0, 1.0, 1.0]])
    v, m = term_measures(est, np.sqrt(se2), np.full((2, 3), 0.5), np.zeros((2, 3)),
                         np.ones((2, 3), bool), np.ones((2, 3), bool), "successes")
    mod = np.sqrt(np.mean(se2[0]))
    assert m[0, i["mod_se"]] == pytest.approx(np.sqrt(np.var(se2[0], ddof=1) / (4 * 3 * mod**2)))


# ----------------------------------------------------------------- diagnose() ---

P, R = 2, 5  # populations, replications per population
C, D, T = 2, 2, 3  # conditions, designs, terms (two terms of model m2)
TERMS = ["m1:x", "m2:x", "m2:z"]
MODEL_OF = [0, 1, 1]


def _results(n_designs: int = D, with_claims: bool = True) -> xr.Dataset:
    """A results cube: two conditions with different estimands and claim truths, three
    terms of two models, two claims, with failures, a skipped model and
    population-specific estimands."""
    rng = np.random.default_rng(7)
    shape = (C, n_designs, T, P, R)
    est = 0.5 + rng.normal(0, 0.2, shape)
    se = rng.uniform(0.1, 0.3, shape)
    pval = rng.uniform(0, 0.1, shape)
    estimates = np.stack([est, se, pval], axis=3)  # statistic after model_term
    estimand = np.zeros((C, T, 3, P))
    estimand[:, :, 0, :] = [[[0.45, 0.55], [-0.2, -0.3], [0.6, 0.6]],
                            [[0.35, 0.65], [0.2, 0.1], [0.5, 0.4]]]
    rep_status = np.full((C, n_designs, P, R), "ok", dtype=object)
    rep_status[0, -1, 0, 4] = "error"
    rep_status[1, 0, 1, 4] = "not_run"
    model_status = np.full((C, n_designs, 2, P, R), "ok", dtype=object)
    model_status[0, 0, 0, 0, 1] = "failed"
    model_status[1, -1, 1, 0, 2] = "failed"
    model_status[0, :, 1, 1, :] = "skipped"
    claims = rng.integers(0, 2, (C, n_designs, 2, P, R)).astype(float)
    claims[0, 0, 1, 0, 2] = np.nan
    claim_truth = np.array([[[1.0, 1.0], [0.0, np.nan]], [[0.0, 1.0], [1.0, 1.0]]])
    data = {
        "estimates": (("condition", "design", "model_term", "statistic", "population",
                       "replication"), estimates),
        "estimand": (("condition", "model_term", "statistic", "population"), estimand),
        "rep_status": (("condition", "design", "population", "replication"), rep_status),
        "model_status": (("condition", "design", "model", "population", "replication"),
                         model_status),
    }
    if with_claims:
        data["claims"] = (("condition", "design", "claim", "population", "replication"), claims)
        data["claim_truth"] = (("condition", "claim", "population"), claim_truth)
    return xr.Dataset(
        data,
        coords={"condition": ["c000", "c001"], "design": ["srs", "paper"][:n_designs],
                "condition_label": ("condition", ["n=100", "n=200"]),
                "n": ("condition", [100, 200]),
                "model_term": TERMS, "statistic": ["estimate", "se", "pvalue"],
                "model": ["m1", "m2"], "model_of_term": ("model_term", ["m1", "m2", "m2"]),
                "term": ("model_term", ["x", "x", "z"]), "claim": ["c1", "c2"],
                "population": [0, 1], "replication": list(range(R))},
        attrs={"config_hash": "abc", "root_seed": 3, "unit": "toy", "ignored": 1},
    )


def _inputs(res: xr.Dataset, c: int):
    a = res["estimates"].values[c]  # design, term, stat, P, R
    theta = np.repeat(res["estimand"].values[c, :, 0, :], R, axis=-1)  # (term, P*R)
    rs = res["rep_status"].values[c].reshape(res.sizes["design"], -1)
    ms = res["model_status"].values[c].reshape(res.sizes["design"], 2, -1)
    return a, theta, rs, ms


def test_diagnose_terms_against_numpy():
    res = _results()
    d = diagnose(res)
    assert d.attrs == {"config_hash": "abc", "root_seed": 3, "unit": "toy",
                       "reference": "Morris, White & Crowther (2019), Stat Med 38:2074-2102"}
    assert d["model_of_term"].dims == ("model_term",) and d["term"].dims == ("model_term",)
    assert list(d["model_of_term"].values) == ["m1", "m2", "m2"]
    assert list(d["term"].values) == ["x", "x", "z"]
    assert list(d["condition_label"].values) == ["n=100", "n=200"]
    assert d["n"].dims == ("condition",) and list(d["n"].values) == [100, 200]
    assert list(d["measure"].values) == list(TERM_MEASURES)
    for c, cname in enumerate(["c000", "c001"]):
        a, theta, rs, ms = _inputs(res, c)
        for di, dname in enumerate(["srs", "paper"]):
            for ti, tname in enumerate(TERMS):
                e = a[di, ti, 0].reshape(-1) - theta[ti]
                good = (rs[di] == "ok") & (ms[di, MODEL_OF[ti]] == "ok")
                sel = d.sel(condition=cname, design=dname, model_term=tname, basis="successes")
                got = dict(zip(TERM_MEASURES, sel["value"].values, strict=True))
                assert got["n_sim"] == good.sum(), (cname, dname, tname)
                assert got["bias"] == pytest.approx(e[good].mean(), rel=1e-12)
                assert got["estimand"] == pytest.approx(theta[ti][good].mean(), rel=1e-12)
                used = (rs[di] != "not_run") & (ms[di, MODEL_OF[ti]] != "skipped")
                assert got["failure_rate"] == pytest.approx(np.mean(~good[used]))
    fr = d["failure_rate"].sel(condition="c000")
    assert float(fr.sel(design="srs", model="m1")) == pytest.approx(1 / 10)
    assert float(fr.sel(design="paper", model="m1")) == pytest.approx(1 / 10)
    assert float(fr.sel(design="paper", model="m2")) == pytest.approx(1 / 5)
    assert float(d["failure_rate_mcse"].sel(condition="c000", design="paper", model="m2")) == \
        pytest.approx(np.sqrt(0.2 * 0.8 / 5))
    assert float(d["failure_rate"].sel(condition="c001", design="srs", model="m2")) == 0.0
    rer = d["replication_error_rate"]
    assert float(rer.sel(condition="c000", design="srs")) == 0.0
    assert float(rer.sel(condition="c001", design="srs")) == 0.0  # not_run is no error
    assert float(rer.sel(condition="c000", design="paper")) == pytest.approx(1 / 10)


def test_diagnose_claims_against_numpy():
    res = _results()
    d = diagnose(res)
    for ci, cond in enumerate(["c000", "c001"]):
        c = res["claims"].values[ci].reshape(2, 2, -1)  # design, claim, P*R
        rs = res["rep_status"].values[ci].reshape(2, -1)
        truth = np.repeat(res["claim_truth"].values[ci], R, axis=-1)  # claim, P*R
        for di, dname in enumerate(["srs", "paper"]):
            for ki, cname in enumerate(["c1", "c2"]):
                used = rs[di] != "not_run"
                ev = used & np.isfinite(c[di, ki])
                got = dict(zip(CLAIM_MEASURES, d["claim_value"].sel(
                    condition=cond, design=dname, claim=cname).values, strict=True))
                mc = dict(zip(CLAIM_MEASURES, d["claim_mcse"].sel(
                    condition=cond, design=dname, claim=cname).values, strict=True))
                rep = np.mean(c[di, ki][ev] == 1)
                assert got["n_sim"] == used.sum()
                assert got["reproduction_rate"] == pytest.approx(rep)
                assert mc["reproduction_rate"] == pytest.approx(
                    np.sqrt(rep * (1 - rep) / ev.sum()))
                assert got["reproduction_rate_all"] == pytest.approx(
                    np.sum(c[di, ki][ev] == 1) / used.sum())
                assert got["evaluable_rate"] == pytest.approx(ev.sum() / used.sum())
                both = ev & np.isfinite(truth[ki])
                if both.any():
                    assert got["agreement_rate"] == pytest.approx(
                        np.mean(c[di, ki][both] == truth[ki][both]))
                else:
                    assert np.isnan(got["agreement_rate"])
                t = np.nanmean(res["claim_truth"].values[ci, ki])
                assert got["truth_rate"] == pytest.approx(t)
                assert mc["truth_rate"] == pytest.approx(np.sqrt(t * (1 - t) / P))


def test_diagnose_paired_differences_against_numpy():
    res = _results()
    d = diagnose(res)
    for ci, cond in enumerate(["c000", "c001"]):
        a, theta, rs, ms = _inputs(res, ci)
        for ti, tname in enumerate(TERMS):
            e = a[:, ti, 0].reshape(2, -1) - theta[ti]
            s = a[:, ti, 1].reshape(2, -1)
            p = a[:, ti, 2].reshape(2, -1)
            good = (rs == "ok") & (ms[:, MODEL_OF[ti]] == "ok")
            both = good[0] & good[1]
            assert d["paired_value"].dims == ("condition", "contrast", "model_term",
                                              "paired_measure")
            sel = d.sel(condition=cond, contrast="paper - srs", model_term=tname)
            got = dict(zip(PAIRED_MEASURES, sel["paired_value"].values, strict=True))
            mc = dict(zip(PAIRED_MEASURES, sel["paired_mcse"].values, strict=True))
            assert got["n_pairs"] == both.sum()
            for name, x in (("bias_diff", e), ("mse_diff", e**2),
                            ("coverage_diff", (np.abs(e) <= Z975 * s).astype(float)),
                            ("power_diff", (p < 0.05).astype(float))):
                diff = (x[1] - x[0])[both]
                assert got[name] == pytest.approx(diff.mean(), abs=1e-13), (tname, name)
                assert mc[name] == pytest.approx(diff.std(ddof=1) / np.sqrt(both.sum()),
                                                 abs=1e-13), (tname, name)


def test_diagnose_one_design_without_claims():
    d = diagnose(_results(n_designs=1, with_claims=False))
    assert "paired_value" not in d and "contrast" not in d.dims
    assert "claim_value" not in d and "claim" not in d.dims
    assert d.sizes["design"] == 1 and np.isfinite(d["value"].sel(measure="bias")).all()


def test_condition_max_mcse_is_the_largest_monitored_mcse():
    res = _results()
    d = diagnose(res).sel(condition="c000", basis="successes")
    one = res.isel(condition=0)
    bias_mc = float(d["mcse"].sel(measure="bias").max())
    cov_mc = float(d["mcse"].sel(measure=["bias", "coverage"]).max())
    rep_mc = float(d["claim_mcse"].sel(claim_measure="reproduction_rate").max())
    assert condition_max_mcse(one, ["bias"]) == pytest.approx(bias_mc)
    assert condition_max_mcse(res.isel(condition=[0]), ["bias", "coverage"]) == \
        pytest.approx(cov_mc)
    assert condition_max_mcse(one, ["reproduction"]) == pytest.approx(rep_mc)
    assert condition_max_mcse(one, ["bias", "reproduction"]) == pytest.approx(
        max(bias_mc, rep_mc))
    assert condition_max_mcse(one, []) == 0.0
    # the bias MCSE is sd(e)/sqrt(n) of the ok replications: checked by hand for one cell
    a = res["estimates"].values[0, 1, 1, 0].reshape(-1) - np.repeat([-0.2, -0.3], R)
    ok = (res["rep_status"].values[0, 1].reshape(-1) == "ok")
    ok &= res["model_status"].values[0, 1, 1].reshape(-1) == "ok"
    assert float(d["mcse"].sel(design="paper", model_term="m2:x", measure="bias")) == \
        pytest.approx(a[ok].std(ddof=1) / np.sqrt(ok.sum()))


def test_paired_indicators_at_their_bounds():
    """|e| exactly 1.96 s covers and p exactly 0.05 does not reject, in the paired
    differences as in the per-design measures."""
    res = _results()
    est = res["estimates"].values.copy()
    estimand = res["estimand"].values.copy()
    estimand[0, 0, 0, 0] = 0.0  # condition 0, term m1:x, population 0
    # "paper", replication 0: e = 1.96 x se exactly; replication 3: p = 0.05 exactly;
    # "srs": the same replications well inside
    est[0, 1, 0, 0, 0, 0], est[0, 1, 0, 1, 0, 0] = Z975, 1.0
    est[0, 1, 0, 2, 0, 3] = 0.05
    est[0, 0, 0, 0, 0, 0], est[0, 0, 0, 1, 0, 0] = 0.0, 1.0
    est[0, 0, 0, 2, 0, 3] = 0.5
    res = res.assign(estimates=(res["estimates"].dims, est),
                     estimand=(res["estimand"].dims, estimand))
    d = diagnose(res)
    a, th, rs, ms = _inputs(res, 0)
    e = a[:, 0, 0].reshape(2, -1) - th[0]
    cov = (np.abs(e) <= Z975 * a[:, 0, 1].reshape(2, -1)).astype(float)
    rej = (a[:, 0, 2].reshape(2, -1) < 0.05).astype(float)
    assert cov[1, 0] == 1.0 and cov[0, 0] == 1.0 and rej[1, 3] == 0.0 and rej[0, 3] == 0.0
    good = (rs == "ok") & (ms[:, 0] == "ok")
    both = good[0] & good[1]
    got = d["paired_value"].sel(condition="c000", contrast="paper - srs", model_term="m1:x")
    assert float(got.sel(paired_measure="coverage_diff")) == pytest.approx(
        (cov[1] - cov[0])[both].mean(), abs=1e-13)
    assert float(got.sel(paired_measure="power_diff")) == pytest.approx(
        (rej[1] - rej[0])[both].mean(), abs=1e-13)


def test_two_replications_have_a_spread():
    v, m = _tm([1.0, 2.0], [0.5, 0.5], [0.5, 0.5], 1.0)
    assert v["emp_se"] == pytest.approx(np.std([0.0, 1.0], ddof=1))
    assert m["bias"] == pytest.approx(np.std([0.0, 1.0], ddof=1) / np.sqrt(2))


def test_max_mcse_reads_the_successes_basis_only():
    """The stopping rule monitors the MCSE over successful fits (basis 'successes'); the
    'all' basis (failures counted) must not be read even when it is larger."""
    import xarray as xr

    from sim_refugee.diagnosis.measures import max_mcse

    mcse = np.zeros((1, 2, 1))
    mcse[0, 0, 0] = 0.02  # successes
    mcse[0, 1, 0] = 0.50  # all
    diag = xr.Dataset({"mcse": (("measure", "basis", "model_term"), mcse)},
                      coords={"measure": ["bias"], "basis": ["successes", "all"],
                              "model_term": ["m|t"]})
    assert max_mcse(diag, ["bias"]) == pytest.approx(0.02)
