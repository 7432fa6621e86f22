"""Closed-form SNP pieces against numerical integration and finite differences (checks 1-3)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from sim_refugee.estimators.snp import (
    _SNPLoglike,
    a_coefficients,
    normal_moments,
    snp_cdf,
    snp_dcdf_dg,
    snp_moments,
    snp_pdf,
)

G_CASES = [np.array([0.3, -0.2, 0.1]), np.array([-0.8, 0.5, 0.25]), np.array([1.5, -0.4, -0.3, 0.05])]


def test_normal_moments_and_a_recursion():
    assert list(normal_moments(6)) == [1, 0, 1, 0, 3, 0, 15]
    # int_{-inf}^t u^m phi = mu_m Phi(t) - A_m(t) phi(t), checked by quadrature
    r = a_coefficients(6)
    mu = normal_moments(6)
    for t in (-1.3, 0.4, 2.2):
        for m in range(7):
            quad = integrate.quad(lambda u, m=m: u**m * stats.norm.pdf(u), -np.inf, t)[0]
            a_m = np.polynomial.polynomial.polyval(t, r[:, m])
            assert quad == pytest.approx(mu[m] * stats.norm.cdf(t) - a_m * stats.norm.pdf(t), abs=1e-10)


@pytest.mark.parametrize("g", G_CASES)
def test_pdf_integrates_to_one_and_cdf_matches_quadrature(g):
    total = integrate.quad(lambda u: snp_pdf(u, g), -np.inf, np.inf)[0]
    assert total == pytest.approx(1.0, abs=1e-10)
    for t in (-4.0, -1.5, -0.2, 0.0, 0.7, 2.5, 5.0):
        quad = integrate.quad(lambda u: snp_pdf(u, g), -np.inf, t, epsabs=1e-13)[0]
        assert snp_cdf(t, g) == pytest.approx(quad, abs=1e-10)
    assert snp_cdf(-np.inf, g) == 0.0
    assert snp_cdf(np.inf, g) == 1.0


def test_cdf_equals_normal_at_g_zero():
    t = np.linspace(-6, 6, 101)
    np.testing.assert_allclose(snp_cdf(t, np.zeros(3)), stats.norm.cdf(t), rtol=0, atol=1e-15)
    np.testing.assert_allclose(snp_pdf(t, np.zeros(3)), stats.norm.pdf(t), rtol=1e-14)


def test_upper_tail_has_no_cancellation():
    # far in the upper tail 1 - F must stay positive and monotone, not round to 0 - eps
    t = np.array([6.0, 7.0, 8.0])
    upper = 1 - snp_cdf(t, G_CASES[0])
    assert np.all(upper >= 0)


@pytest.mark.parametrize("g", G_CASES)
def test_dcdf_dg_against_central_differences(g):
    t = np.array([-2.0, -0.3, 0.9, 2.4])
    analytic = snp_dcdf_dg(t, g)
    h = 1e-6
    for k in range(len(g)):
        e = np.zeros_like(g)
        e[k] = h
        numeric = (snp_cdf(t, g + e) - snp_cdf(t, g - e)) / (2 * h)
        np.testing.assert_allclose(analytic[:, k], numeric, atol=1e-8)


@pytest.mark.parametrize("g", G_CASES)
def test_moments_against_quadrature(g):
    mom = snp_moments(g)
    raw = [integrate.quad(lambda u, r=r: u**r * snp_pdf(u, g), -np.inf, np.inf)[0] for r in range(1, 5)]
    m1, m2, m3, m4 = raw
    var = m2 - m1**2
    assert mom["mean"] == pytest.approx(m1, abs=1e-10)
    assert mom["variance"] == pytest.approx(var, rel=1e-9)
    assert mom["skewness"] == pytest.approx((m3 - 3 * m1 * m2 + 2 * m1**3) / var**1.5, rel=1e-8, abs=1e-10)
    assert mom["kurtosis"] == pytest.approx(
        (m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4) / var**2, rel=1e-8
    )


def _toy(order, cut1, seed=3, n=300, weights=False):
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    x = rng.normal(size=(n, 3))
    y = np.digitize(x @ np.array([0.5, -0.3, 0.2]) + rng.normal(size=n), [-0.6, 0.2, 0.9])
    w = rng.uniform(0.5, 2.0, n) if weights else None
    return _SNPLoglike(x, y, w, 4, order, cut1)


@pytest.mark.parametrize(("order", "weights"), [(0, False), (3, False), (3, True), (4, False)])
def test_score_and_hessian_against_central_differences(order, weights):
    cut1 = None if order == 0 else -0.6
    ll = _toy(order, cut1, weights=weights)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(11)))
    cuts = [-0.6, 0.2, 0.9] if order == 0 else [0.2, 0.9]
    g = rng.uniform(-0.4, 0.4, order)  # random parameters with g != 0
    p = np.concatenate([[0.5, -0.3, 0.2] + rng.normal(0, 0.1, 3), cuts, g])
    llf, grad, hess = ll.newton_eval(p)
    h = 1e-6
    num_grad = np.zeros_like(p)
    num_hess = np.zeros((len(p), len(p)))
    for i in range(len(p)):
        e = np.zeros_like(p)
        e[i] = h
        num_grad[i] = (ll.evaluate(p + e)[0] - ll.evaluate(p - e)[0]) / (2 * h)
        num_hess[:, i] = (ll.newton_eval(p + e)[1] - ll.newton_eval(p - e)[1]) / (2 * h)
    # central differences have error O(h^2 f''') plus rounding ~ |llf| eps / h ~ 1e-7
    np.testing.assert_allclose(grad, num_grad, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(hess, num_hess, rtol=1e-6, atol=1e-5)
    assert np.allclose(hess, hess.T, atol=1e-8)


def test_g_zero_gives_ordered_probit_loglike_exactly():
    ll0 = _toy(0, None)
    ll3 = _toy(3, -0.6)
    b = np.array([0.45, -0.25, 0.15])
    llf0 = ll0.evaluate(np.concatenate([b, [-0.6, 0.2, 0.9]]))[0]
    llf3 = ll3.evaluate(np.concatenate([b, [0.2, 0.9], np.zeros(3)]))[0]
    # the ordered probit by hand: sum log(Phi(a_y - xb) - Phi(a_{y-1} - xb))
    a = np.array([-np.inf, -0.6, 0.2, 0.9, np.inf])
    xb = ll0.x @ b
    direct = np.sum(np.log(stats.norm.cdf(a[ll0.y + 1] - xb) - stats.norm.cdf(a[ll0.y] - xb)))
    assert llf0 == pytest.approx(direct, rel=1e-13)
    assert llf3 == pytest.approx(direct, rel=1e-13)
