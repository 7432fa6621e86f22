"""The SNP K = 3 log-likelihood against numerical integration of the SNP density.

Reference: the density itself as Gallant & Nychka (1987, Econometrica 55:363) and
Stewart (2004, Stata Journal 4:27, ``sneop``) define it, f(u) = P(u)^2 phi(u) / theta
with P(u) = 1 + g1 u + g2 u^2 + g3 u^3, written out here with no code of the package:
theta is found by ``scipy.integrate.quad`` of P^2 phi over the real line, and each
observation's probability P(a_{y-1} <= x'b + u < a_y) by ``quad`` of f between the two
cut points. Nothing of the closed form (normal moments, the A_m recursion, the compiled
kernel) is used, so the closed form and both of its implementations are checked against
an independent computation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from sim_refugee.estimators import SNPOrderedProbit
from sim_refugee.estimators.snp import _SNPLoglike


def _poly(u: float, g: np.ndarray) -> float:
    return 1.0 + g[0] * u + g[1] * u**2 + g[2] * u**3


def _phi(u: float) -> float:
    return math.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)


def quad_loglike(x: np.ndarray, y: np.ndarray, b: np.ndarray, cuts: np.ndarray,
                 g: np.ndarray) -> float:
    """sum_i log int_{a_{y_i - 1} - x_i'b}^{a_{y_i} - x_i'b} P(u)^2 phi(u) du / theta."""
    theta = integrate.quad(lambda u: _poly(u, g) ** 2 * _phi(u), -np.inf, np.inf,
                           epsabs=1e-13, epsrel=1e-12)[0]
    a = np.concatenate([[-np.inf], cuts, [np.inf]])
    total = 0.0
    for xi, yi in zip(x, y, strict=True):
        lo, hi = a[yi] - xi @ b, a[yi + 1] - xi @ b
        p = integrate.quad(lambda u: _poly(u, g) ** 2 * _phi(u), lo, hi,
                           epsabs=1e-14, epsrel=1e-12)[0]
        total += math.log(p / theta)
    return total


def _data(n: int, seed: int):
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([15, seed])))
    x = np.column_stack([rng.normal(size=n), rng.binomial(1, 0.4, n), rng.uniform(-1, 1, n)])
    # skewed errors (a chi-square mixture), so that the SNP terms matter
    e = rng.normal(size=n) + 0.8 * (rng.chisquare(3, n) - 3) / math.sqrt(6)
    y = np.digitize(x @ np.array([0.6, -0.4, 0.3]) + e, [-0.7, 0.3, 1.2])
    return x, y


@pytest.mark.parametrize(("g", "seed"), [((0.3, -0.2, 0.1), 1), ((-0.8, 0.5, 0.25), 2),
                                         ((0.05, 0.4, -0.15), 3)])
def test_loglike_equals_quadrature_of_the_density(g, seed):
    x, y = _data(60, seed)
    g = np.array(g)
    b = np.array([0.55, -0.35, 0.25])
    cut1, free_cuts = -0.7, np.array([0.25, 1.1])
    ll = _SNPLoglike(x, y, None, 4, 3, cut1)
    params = np.concatenate([b, free_cuts, g])
    ref = quad_loglike(x, y, b, np.concatenate([[cut1], free_cuts]), g)
    assert ll.evaluate(params, hessian=False)[0] == pytest.approx(ref, rel=1e-10, abs=1e-9)
    assert ll.evaluate_numpy(params, hessian=False)[0] == pytest.approx(ref, rel=1e-10, abs=1e-9)


def test_fitted_llf_equals_quadrature_at_the_estimates():
    x, y = _data(400, 7)
    exog = pd.DataFrame(x, columns=["x1", "d", "u"])
    fit = SNPOrderedProbit(pd.Series(y + 1, name="y"), exog, order=3).fit()
    p = np.asarray(fit.params)
    b, g = p[:3], p[-3:]
    cuts = np.concatenate([[fit.cut1_fixed], p[3:5]])
    ref = quad_loglike(x, y, b, cuts, g)
    assert fit.llf == pytest.approx(ref, rel=1e-9)
    assert np.abs(g).max() > 0.01  # a real SNP fit, not the probit at g = 0
