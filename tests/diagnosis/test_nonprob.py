"""Meng's rho, SMUB/MUB and MUBP (diagnosis.nonprob) against hand computation.

Three kinds of checks: (1) tiny worked examples whose expected values are computed here
by another route (closed-form fractions, direct numpy formulas, a separate
optimiser); (2) exact identities (Meng's decomposition on random data, E_SRS[rho^2] =
1/(N-1) by enumerating every sample, SMUB(0) = the MAR regression prediction, the phi
relations, symmetries); (3) known answers: with a finite normal population and
selection by exponential tilting on Z (ignorable) or on Y / the latent U (selection on
the outcome alone), MUB(0) / MUBP(0) resp. MUB(1) / MUBP(1) recover the realised error
on average, checked with MCSE-bounded assertions over keyed replications.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import minimize, minimize_scalar
from scipy.stats import norm

from sim_refugee.diagnosis.nonprob import (
    data_defect,
    effective_n,
    g_phi,
    independent_columns,
    mubp,
    nonselected_moments,
    probit_newton,
    smub,
)
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.testing import recovery

# ---------------------------------------------------------------------------
# Meng's data defect correlation
# ---------------------------------------------------------------------------


def test_meng_six_rows_by_hand() -> None:
    r = np.array([1, 0, 1, 0, 0, 1])
    y = np.array([2.0, 5, 3, 1, 4, 6])
    # Ybar = 21/6; ybar_R = 11/3; deviations of y sum of squares 17.5, so sigma^2 = 17.5/6;
    # cov(R, Y) = 1/12, sd(R) = 1/2, f = 1/2, D_O = sqrt((1 - f)/f) = 1.
    dd = data_defect(r, y)
    assert dd.f == 0.5
    assert dd.d_o == pytest.approx(1.0, abs=1e-15)
    assert dd.sigma == pytest.approx(np.sqrt(17.5 / 6), rel=1e-15)
    assert dd.rho == pytest.approx((1 / 12) / (0.5 * np.sqrt(17.5 / 6)), rel=1e-14)
    assert dd.error == pytest.approx(11 / 3 - 21 / 6, rel=1e-13)


@pytest.mark.parametrize("counts", [False, True])
def test_meng_identity_exact_on_random_data(counts: bool) -> None:
    rng = rng_for(12, "test-nonprob", "meng-identity", int(counts))
    big_n = 5000
    y = rng.gamma(2.0, 1.5, big_n)
    p = 1 / (1 + np.exp(-(-3 + 0.6 * y)))  # selection on Y
    r = (rng.random(big_n) < p).astype(float)
    if counts:  # duplicate interviews: a person recorded twice counts twice
        r += (r == 1) & (rng.random(big_n) < 0.2)
    dd = data_defect(r, y)
    direct = (r @ y) / r.sum() - y.mean()
    assert dd.error == pytest.approx(direct, rel=1e-11, abs=1e-14)
    assert dd.rho == pytest.approx(np.corrcoef(r, y)[0, 1], rel=1e-12)
    f = r.sum() / big_n
    if counts:  # general data quantity term: sd(R)/mean(R), larger than sqrt((1-f)/f)
        assert dd.d_o == pytest.approx(r.std() / r.mean(), rel=1e-12)
        assert dd.d_o > np.sqrt((1 - f) / f)
    else:
        assert dd.d_o == pytest.approx(np.sqrt((1 - f) / f), rel=1e-12)


def test_meng_srs_expectation_exact_by_enumeration() -> None:
    """Meng (2018, sec. 3): under SRS E[rho^2] = 1/(N - 1), so (N - 1) E[rho^2] = 1 and
    Meng's effective sample size at E[rho^2] is the sample size itself."""
    y = np.array([0.3, 1.7, 2.2, -0.4, 5.0, 3.1, 0.0, 1.2])
    big_n, n = len(y), 3
    rho2, err2 = [], []
    for rows in itertools.combinations(range(big_n), n):
        r = np.zeros(big_n)
        r[list(rows)] = 1
        dd = data_defect(r, y)
        rho2.append(dd.rho**2)
        err2.append(dd.error**2)
    assert np.mean(rho2) == pytest.approx(1 / (big_n - 1), rel=1e-12)
    # and the mean squared error is the textbook SRS variance (1 - f) S^2 / n
    s2 = y.var(ddof=1)
    assert np.mean(err2) == pytest.approx((1 - n / big_n) * s2 / n, rel=1e-12)
    d_o2 = (1 - n / big_n) / (n / big_n)
    assert effective_n(np.mean(rho2), d_o2, big_n) == pytest.approx(n, rel=1e-12)


def test_meng_bad_input() -> None:
    with pytest.raises(ValueError, match="no variation"):
        data_defect(np.ones(5), np.arange(5.0))
    with pytest.raises(ValueError, match="same length"):
        data_defect(np.ones(5), np.arange(4.0))
    with pytest.raises(ValueError, match=">= 0"):
        data_defect(np.array([1.0, -1, 0]), np.arange(3.0))


# ---------------------------------------------------------------------------
# SMUB / MUB (Little et al. 2020)
# ---------------------------------------------------------------------------


def test_smub_six_rows_by_hand() -> None:
    z = np.array([0.0, 1, 2, 3, 4, 5])
    y = np.array([1.0, 3, 2, 5, 4, 6])
    # zbar = 2.5, ybar = 3.5, Szz = Syy = 17.5, Szy = 15.5: b1 = rho = 31/35. The proxy
    # X = ybar + b1 (z - zbar); with Zbar_pop = 2, xbar_s - Xbar_pop = b1 / 2 = 31/70;
    # s_x = b1 s_z, s_z = s_y = sqrt(3.5), so d = (1/2) / sqrt(3.5).
    res = smub(y, z, np.array([2.0]), [0.0, 0.5, 1.0])
    rho, d = 31 / 35, 0.5 / np.sqrt(3.5)
    assert res.rho == pytest.approx(rho, rel=1e-13)
    assert res.d == pytest.approx(d, rel=1e-13)
    np.testing.assert_allclose(res.smub, [rho * d, d, d / rho], rtol=1e-13)
    # in Y units: MUB(0) = 31/70, MUB(0.5) = 1/2, MUB(1) = (31/70) / rho^2 = 35/62
    np.testing.assert_allclose(res.mub, [31 / 70, 1 / 2, 35 / 62], rtol=1e-13)


def _mar_data(seed: int, big_n: int = 3000, n: int = 300, k: int = 3):
    rng = rng_for(12, "test-nonprob", "mar", seed)
    zp = rng.standard_normal((big_n, k)) @ np.array([[1, 0.3, 0], [0, 1, 0.4], [0, 0, 1.0]])
    yp = 1.0 + zp @ np.array([0.8, -0.5, 0.3]) + rng.standard_normal(big_n)
    rows = rng.choice(big_n, size=n, replace=False, p=np.exp(zp[:, 0]) / np.exp(zp[:, 0]).sum())
    return zp, yp, rows


def test_smub0_is_the_mar_regression_prediction() -> None:
    """MUB(0) = ybar_s - (the regression estimate of the population mean), computed here
    with statsmodels' OLS and its prediction at the population means of Z."""
    zp, yp, rows = _mar_data(1)
    zbar = zp.mean(axis=0)
    res = smub(yp[rows], zp[rows], zbar)
    ols = sm.OLS(yp[rows], sm.add_constant(zp[rows])).fit()
    mu_reg = float(ols.predict(np.r_[1.0, zbar][None, :])[0])
    assert res.mub[0] == pytest.approx(yp[rows].mean() - mu_reg, rel=1e-10)
    # the proxy correlation is the multiple correlation R
    assert res.rho == pytest.approx(np.sqrt(ols.rsquared), rel=1e-10)


def test_smub_phi_relations_and_limit() -> None:
    zp, yp, rows = _mar_data(2)
    res = smub(yp[rows], zp[rows], zp.mean(axis=0), [0.0, 0.5, 1.0])
    s0, s05, s1 = res.smub
    assert s05 == pytest.approx(res.d, rel=1e-14)             # g(0.5) = 1
    assert s0 == pytest.approx(res.rho * res.d, rel=1e-14)    # g(0) = rho
    assert s1 == pytest.approx(s0 / res.rho**2, rel=1e-12)    # g(1) = 1/rho
    near = smub(yp[rows], zp[rows], zp.mean(axis=0), 1 - 1e-9).smub[0]
    assert near == pytest.approx(s1, rel=1e-7)                # continuous at phi = 1
    # monotone in phi between the two ends (rho in (0, 1))
    grid = smub(yp[rows], zp[rows], zp.mean(axis=0), np.linspace(0, 1, 21)).smub
    assert np.all(np.diff(grid) * np.sign(res.d) > 0)
    np.testing.assert_allclose(g_phi([0.0, 0.5, 1.0], 0.4), [0.4, 1.0, 2.5], rtol=1e-15)


def test_smub_symmetries() -> None:
    zp, yp, rows = _mar_data(3)
    zbar = zp.mean(axis=0)
    base = smub(yp[rows], zp[rows], zbar)
    # Y -> a + b Y (b > 0): SMUB unchanged, MUB scales by b; Y -> -Y flips MUB's sign
    lin = smub(4.0 + 2.5 * yp[rows], zp[rows], zbar)
    np.testing.assert_allclose(lin.smub, base.smub, rtol=1e-10)
    np.testing.assert_allclose(lin.mub, 2.5 * base.mub, rtol=1e-10)
    np.testing.assert_allclose(smub(-yp[rows], zp[rows], zbar).mub, -base.mub, rtol=1e-10)
    # Z -> Z A + c with the benchmark mapped the same way: nothing changes
    a = np.array([[2.0, 0.5, 0], [0, -1, 0], [0.3, 0, 3]])
    c = np.array([1.0, -2, 5])
    aff = smub(yp[rows], zp[rows] @ a + c, zbar @ a + c)
    np.testing.assert_allclose(aff.mub, base.mub, rtol=1e-9)
    # row order does not matter
    perm = rng_for(12, "test-nonprob", "perm").permutation(len(rows))
    np.testing.assert_allclose(smub(yp[rows][perm], zp[rows][perm], zbar).mub, base.mub,
                               rtol=1e-10)


def test_smub_drops_constant_and_collinear_auxiliaries() -> None:
    zp, yp, rows = _mar_data(4)
    zs = zp[rows]
    extra = np.column_stack([zs, np.zeros(len(rows)), zs[:, 0] + zs[:, 1]])
    assert list(independent_columns(extra)) == [0, 1, 2]
    zbar = zp.mean(axis=0)
    got = smub(yp[rows], extra, np.r_[zbar, 0.05, zbar[0] + zbar[1]])
    np.testing.assert_allclose(got.mub, smub(yp[rows], zs, zbar).mub, rtol=1e-9)


def test_smub_bad_input() -> None:
    with pytest.raises(ValueError, match="phi"):
        smub(np.arange(5.0), np.arange(5.0), [1.0], 1.5)
    with pytest.raises(ValueError, match="zbar_pop"):
        smub(np.arange(5.0), np.ones((5, 2)), [1.0])
    with pytest.raises(ValueError, match="finite"):
        smub(np.array([1.0, np.nan, 2, 3]), np.arange(4.0), [1.0])


# ---------------------------------------------------------------------------
# MUBP (Andridge et al. 2019), ML version with the two-step biserial correlation
# ---------------------------------------------------------------------------


def _probit_data(seed: int, big_n: int = 4000, n: int = 400):
    rng = rng_for(12, "test-nonprob", "probit", seed)
    zp = rng.standard_normal((big_n, 2))
    u = 0.2 + zp @ np.array([0.7, -0.4]) + rng.standard_normal(big_n)
    yp = (u > 0).astype(float)
    w = np.exp(0.8 * zp[:, 0] + 0.3 * u)
    rows = rng.choice(big_n, size=n, replace=False, p=w / w.sum())
    return zp, yp, rows


def _mubp_by_hand(y, z, zbar_pop, zcov_pop, big_n, phis):
    """The same quantities by another route: the probit by BFGS on its log-likelihood,
    the biserial correlation by Brent on rho = tanh(t), the formulas written out."""
    a = np.column_stack([np.ones(len(y)), z])

    def nll(b):
        eta = a @ b
        return -np.sum(y * norm.logcdf(eta) + (1 - y) * norm.logcdf(-eta))

    beta = minimize(nll, np.zeros(a.shape[1]), method="BFGS", options={"gtol": 1e-10}).x
    x = a @ beta
    xbar, vx = x.mean(), x.var()
    w = norm.ppf(1 - y.mean())

    def nll_rho(t):
        r = np.tanh(t)
        eta = (-w + r * (x - xbar) / np.sqrt(vx)) / np.sqrt(1 - r * r)
        return -np.sum(y * norm.logcdf(eta) + (1 - y) * norm.logcdf(-eta))

    rho = np.tanh(minimize_scalar(nll_rho, bracket=(0.0, 1.0), method="brent",
                                  options={"xtol": 1e-12}).x)
    n = len(y)
    m = big_n - n
    mean_ns = (big_n * zbar_pop - z.sum(axis=0)) / m
    m2 = (big_n * (zcov_pop + np.outer(zbar_pop, zbar_pop)) - z.T @ z) / m
    cov_ns = m2 - np.outer(mean_ns, mean_ns)
    xbar_ns = beta[0] + mean_ns @ beta[1:]
    vx_ns = beta[1:] @ cov_ns @ beta[1:]
    out = []
    for phi in phis:
        g = (phi + (1 - phi) * rho) / (phi * rho + (1 - phi))
        mu_u = -w + g * (xbar_ns - xbar) / np.sqrt(vx)
        var_u = 1 + g**2 * (vx_ns - vx) / vx
        p_ns = norm.cdf(mu_u / np.sqrt(var_u))
        out.append(y.mean() - (n / big_n * y.mean() + (1 - n / big_n) * p_ns))
    return np.array(out), rho


def test_mubp_against_hand_computation() -> None:
    zp, yp, rows = _probit_data(1)
    zbar, zcov = zp.mean(axis=0), np.cov(zp.T, ddof=0)
    res = mubp(yp[rows], zp[rows], zbar, zcov, len(yp))
    want, rho = _mubp_by_hand(yp[rows], zp[rows], zbar, zcov, len(yp), (0.0, 0.5, 1.0))
    assert res.converged
    assert res.rho == pytest.approx(rho, abs=1e-6)
    np.testing.assert_allclose(res.mubp, want, atol=1e-6)
    assert res.mu_y[0] == pytest.approx(res.ybar_s - res.mubp[0], rel=1e-12)


def test_probit_newton_matches_statsmodels() -> None:
    zp, yp, rows = _probit_data(3)
    a = sm.add_constant(zp[rows])
    beta, ok = probit_newton(yp[rows], a)
    ref = sm.Probit(yp[rows], a).fit(method="newton", disp=0, tol=1e-12)
    assert ok
    np.testing.assert_allclose(beta, ref.params, atol=1e-8)


def test_mubp_symmetry_and_no_selection_on_the_proxy() -> None:
    zp, yp, rows = _probit_data(2)
    zbar, zcov = zp.mean(axis=0), np.cov(zp.T, ddof=0)
    base = mubp(yp[rows], zp[rows], zbar, zcov, len(yp))
    # Y -> 1 - Y: the proxy and the cut point flip, rho does not: MUBP flips its sign
    flip = mubp(1 - yp[rows], zp[rows], zbar, zcov, len(yp))
    assert flip.rho == pytest.approx(base.rho, abs=1e-7)
    np.testing.assert_allclose(flip.mubp, -base.mubp, atol=1e-7)
    # a population whose non-selected part has the sample's Z moments (the sample
    # repeated five times): no selection on the proxy, MUBP = 0 for every phi
    zs = zp[rows]
    same = mubp(yp[rows], zs, zs.mean(axis=0), np.cov(zs.T, ddof=0), 5 * len(rows),
                [0.0, 0.3, 0.5, 1.0])
    np.testing.assert_allclose(same.mubp, 0.0, atol=1e-12)
    mean_ns, cov_ns = nonselected_moments(zs.mean(axis=0), np.cov(zs.T, ddof=0),
                                          5 * len(rows), zs)
    np.testing.assert_allclose(mean_ns, zs.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(cov_ns, np.cov(zs.T, ddof=0), atol=1e-12)


def test_mubp_biserial_agrees_with_the_probit_implied_value() -> None:
    """Under a probit model U = X + e, e ~ N(0, 1), the biserial correlation of X and U is
    sqrt(var X / (1 + var X)); the two-step ML estimate is another consistent estimate."""
    rng = rng_for(12, "test-nonprob", "biserial")
    z = rng.standard_normal((20000, 2))
    y = ((0.1 + z @ np.array([0.9, 0.5]) + rng.standard_normal(20000)) > 0).astype(float)
    res = mubp(y, z, np.zeros(2), np.eye(2), 10**6)
    assert res.rho == pytest.approx(np.sqrt(res.var_x_s / (1 + res.var_x_s)), abs=0.01)


def test_mubp_degenerate_samples_are_nan() -> None:
    z = np.arange(10.0)[:, None]
    res = mubp(np.zeros(10), z, [4.5], [[8.25]], 100)
    assert np.isnan(res.mubp).all()
    with pytest.raises(ValueError, match="0 or 1"):
        mubp(np.full(10, 0.5), z, [4.5], [[8.25]], 100)


# ---------------------------------------------------------------------------
# Known answers: the right phi recovers the realised error on average
# ---------------------------------------------------------------------------

BIG_N, N_S, REPS = 40000, 800, 150


def _population(kind: str) -> dict[str, np.ndarray]:
    rng = rng_for(12, "test-nonprob", "population", kind)
    z = rng.standard_normal((BIG_N, 2))
    lat = 0.3 + z @ np.array([0.6, -0.4]) + 0.8 * rng.standard_normal(BIG_N)
    return {"z": z, "lat": lat, "y": lat if kind == "continuous" else (lat > 0).astype(float)}


def _draw(pop: dict[str, np.ndarray], on: str):
    """Selection by exponential tilting (Poisson-like weighted draw without replacement at
    n/N = 2%): on Z alone (ignorable: phi = 0) or on the latent outcome alone (phi = 1).
    Tilting a normal vector keeps it normal, the PPMM's assumption."""
    tilt = pop["z"][:, 0] if on == "z" else pop["lat"]
    w = np.exp(0.5 * tilt)

    def draw(rng: np.random.Generator) -> np.ndarray:
        keys = np.log(rng.random(BIG_N)) / w  # Efraimidis-Spirakis: weighted, no replacement
        return np.argpartition(-keys, N_S)[:N_S]

    return draw


def _estimator(pop: dict[str, np.ndarray], which: str, k: int):
    zbar, zcov = pop["z"].mean(axis=0), np.cov(pop["z"].T, ddof=0)

    def est(rows: np.ndarray):
        y, z = pop["y"][rows], pop["z"][rows]
        d = (smub(y, z, zbar).mub if which == "mub"
             else mubp(y, z, zbar, zcov, BIG_N).mubp)[k]
        return d - (y.mean() - pop["y"].mean()), None  # predicted minus realised error

    return est


@pytest.mark.parametrize(("kind", "which", "on", "k"), [
    ("continuous", "mub", "z", 0),    # MAR: MUB(0)
    ("continuous", "mub", "y", 2),    # selection on Y: MUB(1)
    ("binary", "mubp", "z", 0),       # MAR: MUBP(0)
    ("binary", "mubp", "y", 2),       # selection on U: MUBP(1)
])
def test_right_phi_recovers_the_error(kind: str, which: str, on: str, k: int) -> None:
    pop = _population(kind)
    rec = recovery(_draw(pop, on), _estimator(pop, which, k), truth=0.0, reps=REPS,
                   seed=seed_sequence(12, "test-nonprob", "reps", kind, on))
    assert rec.failure_rate.iloc[0] == 0.0
    rec.assert_unbiased(z=3.5)
    # and the wrong end of the range is clearly off: the selection is strong enough to tell
    wrong = recovery(_draw(pop, on), _estimator(pop, which, 2 - k), truth=0.0, reps=40,
                     seed=seed_sequence(12, "test-nonprob", "reps-wrong", kind, on))
    b, m = wrong.bias.iloc[0], wrong.mcse["bias"].iloc[0]
    assert abs(b) > 5 * m, (kind, on, b, m)
