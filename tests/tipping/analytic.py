"""Known answers of the toy unit's `biased` design, computed on the realized population.

The design draws n people without replacement with probability proportional to
w_i = exp(strength * y_i) (numpy's sequential ``choice(replace=False, p=w/sum w)``, i.e.
successive sampling). Its inclusion probabilities are, to a very good approximation
(Rosen 1997), pi_i = 1 - exp(-lambda w_i) with sum(pi) = n. A sampled y then has mean
mu = sum(pi y)/sum(pi) and sd sigma = sqrt(sum(pi (y - mu)^2)/sum(pi)) (for y normal and
n << N: mu ~ mean_y + strength sd_y^2, the exponential tilt), and the toy's statistic
z = ybar / (s / sqrt(n)) (sample sd, no finite-population correction for `biased`) is a
noncentral t with n - 1 degrees of freedom and noncentrality sqrt(n) mu / sigma. The toy
p-value is two-sided normal, so "positive and significant at 5%" is z > 1.959964; the
interval ybar +/- 1.959964 s/sqrt(n) misses the census mean Ybar when
|ybar - Ybar| / (s/sqrt(n)) > 1.959964 (noncentrality sqrt(n) (mu - Ybar) / sigma).

Checked against brute force (3,000 samples at the n = 100 and n = 400 roots of the
toy config's population: shares 0.500 (0.009) both) when this was written.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from sim_refugee.engine.unit_toy import UNIT
from sim_refugee.seeds import seed_sequence

Z = float(stats.norm.isf(0.025))


def population_y(root: int, size: int = 20000, mean_y: float = 0.0, sd_y: float = 1.0,
                 effect: float = 0.0) -> np.ndarray:
    """y of the population the engine builds for this toy world (seed ("population", 0))."""
    w = UNIT.validate_world({"size": size, "mean_y": mean_y, "effect": effect, "sd_y": sd_y})
    pop = UNIT.build_population(w, UNIT.validate_params({}), seed_sequence(root, "population", 0))
    return pop["y"].to_numpy()


def sample_moments(y: np.ndarray, strength: float, n: int) -> tuple[float, float]:
    """Mean and sd of a sampled y under successive sampling with weights exp(strength y)."""
    w = np.exp(strength * (y - y.max()))
    lam = optimize.brentq(lambda lam: (-np.expm1(-lam * w)).sum() - n, 1e-12, 1e15)
    pi = -np.expm1(-lam * w)
    mu = float((pi * y).sum() / pi.sum())
    return mu, float(np.sqrt((pi * (y - mu) ** 2).sum() / pi.sum()))


def reject_share(y: np.ndarray, strength: float, n: int) -> float:
    """P(mean:y positive and significant at 5%)."""
    mu, sd = sample_moments(y, strength, n)
    return float(stats.nct.sf(Z, n - 1, np.sqrt(n) * mu / sd))


def miss_share(y: np.ndarray, strength: float, n: int) -> float:
    """P(the 95% interval of mean:y misses the census mean) = 1 - coverage."""
    mu, sd = sample_moments(y, strength, n)
    nc = np.sqrt(n) * (mu - y.mean()) / sd
    return float(stats.nct.sf(Z, n - 1, nc) + stats.nct.cdf(-Z, n - 1, nc))


def root(share, y: np.ndarray, n: int, p: float, lo: float = -1.0, hi: float = 2.0) -> float:
    """The strength at which ``share(y, strength, n) = p``."""
    return float(optimize.brentq(lambda s: share(y, s, n) - p, lo, hi))
