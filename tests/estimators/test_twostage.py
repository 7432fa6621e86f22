"""2SPLS: selection matrices, stages equal statsmodels, Amemiya covariance, Monte Carlo SEs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import TwoStageProbitLS
from sim_refugee.testing import recovery

G1, G2, RHO = 0.5, -0.4, 0.5
B1 = {"const": 0.2, "xa": 0.5, "xb": -0.3, "food": 0.6}
B2 = {"const": -0.1, "xa": 0.3, "xb": 0.4, "missing_fam": 0.8}
# sd of the reduced-form error of y2*: (G2 u1 + u2) / (1 - G1 G2); the probit equation
# and the coefficient on the probit index are identified only on this scale.
SD_V2 = np.sqrt(G2**2 + 1 + 2 * G2 * RHO) / (1 - G1 * G2)


def _rng(*key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(key))))


def _draw(rng, n=1000) -> pd.DataFrame:
    xa = rng.normal(size=n)
    xb = (rng.random(n) < 0.4).astype(float)
    food = rng.normal(size=n)
    fam = (rng.random(n) < 0.5).astype(float)
    u1 = rng.normal(size=n)
    u2 = RHO * u1 + np.sqrt(1 - RHO**2) * rng.normal(size=n)
    x1b1 = B1["const"] + B1["xa"] * xa + B1["xb"] * xb + B1["food"] * food
    x2b2 = B2["const"] + B2["xa"] * xa + B2["xb"] * xb + B2["missing_fam"] * fam
    y1 = (G1 * (x2b2 + u2) + x1b1 + u1) / (1 - G1 * G2)
    y2star = G2 * y1 + x2b2 + u2
    return pd.DataFrame(
        {"avgpsych": y1, "job": (y2star > 0).astype(float), "xa": xa, "xb": xb, "food": food, "missing_fam": fam}
    )


def _fit(df):
    return TwoStageProbitLS(df["avgpsych"], df["job"], df[["xa", "xb", "food"]], df[["xa", "xb", "missing_fam"]]).fit()


def test_param_names_and_selection_matrices():
    df = _draw(_rng(1))
    res = _fit(df)
    assert list(res.continuous.params.index) == ["job", "xa", "xb", "food", "const"]
    assert list(res.binary.params.index) == ["avgpsych", "xa", "xb", "missing_fam", "const"]
    np.testing.assert_allclose(res.stage1["xh"], res.stage1["z1"], atol=1e-12)
    np.testing.assert_allclose(res.stage1["xg"], res.stage1["z2"], atol=1e-12)
    assert res.status == "ok" and res.continuous.status == "ok" and res.binary.status == "ok"
    assert res.continuous.cov_psd and res.binary.cov_psd
    assert "avgpsych" in res.summary()


def test_each_stage_equals_statsmodels():
    df = _draw(_rng(2))
    res = _fit(df)
    x = sm.add_constant(df[["xa", "xb", "food", "missing_fam"]], prepend=False)
    ols1 = sm.OLS(df["avgpsych"], x).fit()
    prb1 = sm.Probit(df["job"], x).fit(disp=0)
    np.testing.assert_allclose(res.stage1["pi_continuous"], ols1.params, rtol=1e-10)
    np.testing.assert_allclose(res.stage1["pi_binary"], prb1.params, rtol=1e-6, atol=1e-8)
    z1 = np.column_stack([x @ prb1.params, df[["xa", "xb", "food"]], np.ones(len(df))])
    z2 = np.column_stack([x @ ols1.params, df[["xa", "xb", "missing_fam"]], np.ones(len(df))])
    ols2 = sm.OLS(df["avgpsych"], z1).fit()
    prb2 = sm.Probit(df["job"], z2).fit(disp=0)
    np.testing.assert_allclose(res.continuous.params, ols2.params, rtol=1e-7)
    np.testing.assert_allclose(res.binary.params, prb2.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(res.continuous.naive_bse, ols2.bse, rtol=1e-6)
    np.testing.assert_allclose(res.binary.naive_bse, prb2.bse, rtol=1e-6)
    # Amemiya's corrected covariance assembled here from statsmodels' pieces
    xx = x.to_numpy()
    n = len(df)
    v1 = ols1.resid.to_numpy()
    s11 = v1 @ v1 / (n - xx.shape[1])
    phi = np.exp(-0.5 * (xx @ prb1.params.to_numpy()) ** 2) / np.sqrt(2 * np.pi)
    s12 = np.mean(df["job"].to_numpy() * v1 / phi)
    g1, g2 = ols2.params.iloc[0], prb2.params.iloc[0]
    v0 = prb1.cov_params().to_numpy()
    h = np.linalg.lstsq(xx, z1, rcond=None)[0]
    gm = np.linalg.lstsq(xx, z2, rcond=None)[0]
    xtx = xx.T @ xx
    q1 = np.linalg.inv(h.T @ xtx @ h)
    var1 = (s11 - 2 * g1 * s12) * q1 + g1**2 * q1 @ h.T @ xtx @ v0 @ xtx @ h @ q1
    v0i = np.linalg.inv(v0)
    q2 = np.linalg.inv(gm.T @ v0i @ gm)
    var2 = q2 + (g2**2 * s11 - 2 * g2 * s12) * q2 @ gm.T @ v0i @ np.linalg.inv(xtx) @ v0i @ gm @ q2
    np.testing.assert_allclose(res.continuous.cov_params().to_numpy(), var1, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(res.binary.cov_params().to_numpy(), var2, rtol=1e-5, atol=1e-12)


# Truth on the scale each equation identifies: the probit equation and the coefficient on
# the probit index are identified only relative to SD_V2.
TRUTH = pd.concat([
    pd.Series([G1 * SD_V2, B1["xa"], B1["xb"], B1["food"], B1["const"]],
              index=["cont:job", "cont:xa", "cont:xb", "cont:food", "cont:const"]),
    pd.Series(np.array([G2, B2["xa"], B2["xb"], B2["missing_fam"], B2["const"]]) / SD_V2,
              index=["bin:avgpsych", "bin:xa", "bin:xb", "bin:missing_fam", "bin:const"]),
])
BINARY = [t for t in TRUTH.index if t.startswith("bin:") and t != "bin:const"]


def _both_equations(df):
    """Both equations' coefficients with Amemiya-corrected SEs; naive SEs as extras."""
    res = _fit(df)
    if res.status != "ok":
        raise RuntimeError(res.status_message)
    est = pd.concat([res.continuous.params.add_prefix("cont:"), res.binary.params.add_prefix("bin:")])
    se = pd.concat([res.continuous.bse.add_prefix("cont:"), res.binary.bse.add_prefix("bin:")])
    naive = pd.concat([res.continuous.naive_bse.add_prefix("naive:cont:"),
                       res.binary.naive_bse.add_prefix("naive:bin:")])
    return est, se, naive.to_dict()


def test_monte_carlo_corrected_se_match_simulated_sd(keyed_seed, recovery_reps):
    """200 samples of n=1000, through sim_refugee.testing. The MCSE of mod_se/emp_se at
    ratio 1 is about 1/sqrt(2*199) = 5%, so assert_se_calibrated(z=3) accepts the
    corrected SEs within about 15% of the simulated sd, as the fixed 0.15 did. Point
    estimates: within 4 MCSE of the truth. Coverage of the corrected 95% intervals:
    within 3 binomial MCSE (0.015) of 0.95. Every fit must succeed."""
    res = recovery(_draw, _both_equations, TRUTH, recovery_reps(200), keyed_seed)
    res.assert_failure_rate()
    res.assert_se_calibrated(z=3.0).assert_unbiased(z=4.0).assert_coverage(level=0.95, z=3.0)
    # the uncorrected second-stage probit SEs are too small (here by about 15-20%)
    naive = np.sqrt((res.extra[[f"naive:{t}" for t in BINARY]] ** 2).mean()).to_numpy()
    assert np.all(naive / res.emp_se[BINARY].to_numpy() < 0.9), naive / res.emp_se[BINARY]


def test_missing_rows_dropped_and_bad_input():
    df = _draw(_rng(4), 300)
    df.loc[[1, 2], "food"] = np.nan
    df.loc[[5], "job"] = np.nan
    res = _fit(df)
    assert res.nobs == 297
    ref = _fit(df.drop(index=[1, 2, 5]))
    np.testing.assert_allclose(res.binary.params, ref.binary.params, rtol=1e-10)
    with pytest.raises(UserInputError, match="not identified"):
        TwoStageProbitLS(df["avgpsych"], df["job"], df[["xa", "xb"]], df[["xa", "xb", "missing_fam"]])
    with pytest.raises(UserInputError, match="'xa'"):
        TwoStageProbitLS(df["avgpsych"], df["job"], df[["xa", "food"]],
                         df[["xa", "missing_fam"]].assign(xa=df["xb"]))
    with pytest.raises(UserInputError, match="0/1"):
        TwoStageProbitLS(df["avgpsych"], df["job"] * 3, df[["xa", "food"]], df[["xa", "missing_fam"]])
    with pytest.raises(UserInputError, match="const"):
        TwoStageProbitLS(df["avgpsych"], df["job"], df[["xa", "food"]].assign(const=1.0), df[["missing_fam"]])


def test_degenerate_sample_reports_failure():
    df = _draw(_rng(5), 50).assign(job=0.0)
    res = _fit(df)
    assert res.status == "failed" and res.binary.params.isna().all()


def test_widely_spread_probit_index_flags_non_psd_covariance():
    """The known weakness (ESTIMATORS.md): with a very spread probit index, s12 is dominated
    by observations with tiny phi and the corrected covariance is not PSD. It must be flagged."""
    rng = _rng(99, 0)
    n = 150
    xa, food, fam = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    u1 = rng.normal(size=n)
    u2 = 0.8 * u1 + 0.6 * rng.normal(size=n)
    y1 = 0.5 * xa + 0.6 * food + u1 + 0.5 * (3 * xa + 4 * fam + u2)
    y2 = (-0.2 * y1 + 3 * xa + 4 * fam + u2 > 0).astype(float)
    res = TwoStageProbitLS(pd.Series(y1, name="y1"), pd.Series(y2, name="y2"),
                           pd.DataFrame({"xa": xa, "food": food}), pd.DataFrame({"xa": xa, "fam": fam})).fit()
    assert res.status == "non_psd_cov"
    assert not (res.continuous.cov_psd and res.binary.cov_psd)
    assert "semi-definite" in res.status_message
